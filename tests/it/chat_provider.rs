//! The Mistral client against the fake Mistral server on 127.0.0.1: the wire format, the model list, and every fault.

use std::time::{Duration, Instant};

use futures::StreamExt;
use thicode::chat::fake_mistral::{FakeMistral, FakeSettings};
use thicode::chat::provider::{
    ChatRequest, ClientSettings, Provider, ProviderError, StreamEvent, ToolCall, ToolCalls, ToolSpec, WireMessage,
    mistral_call_id,
};
use thicode::core::config::Secret;

async fn fake() -> FakeMistral {
    FakeMistral::start(FakeSettings {
        tokens_per_second: 1000.0,
        ..FakeSettings::default()
    })
    .await
    .unwrap()
}

fn quick() -> ClientSettings {
    ClientSettings {
        idle_timeout: Duration::from_millis(800),
        retry_base: Duration::from_millis(20),
        max_retries: 2,
        ..ClientSettings::default()
    }
}

fn client(fake: &FakeMistral, key: &str, settings: ClientSettings) -> Provider {
    Provider::remote(&fake.base_url(), Secret::new(key), "mistral-small-latest", settings)
}

fn ask(prompt: &str) -> ChatRequest {
    ChatRequest::new(
        "mistral-small-latest",
        vec![
            WireMessage {
                role: "system".into(),
                content: "Be brief.".into(),
                ..Default::default()
            },
            WireMessage {
                role: "user".into(),
                content: "Earlier question".into(),
                ..Default::default()
            },
            WireMessage {
                role: "assistant".into(),
                content: "Earlier answer".into(),
                ..Default::default()
            },
            WireMessage {
                role: "user".into(),
                content: prompt.into(),
                ..Default::default()
            },
        ],
    )
}

/// The whole reply: text, finish reason, usage, or the first error.
async fn collect(provider: &Provider, prompt: &str) -> Result<(String, Option<String>, u64), (String, ProviderError)> {
    let mut stream = provider.stream(&ask(prompt)).await.map_err(|e| (String::new(), e))?;
    let (mut text, mut reason, mut tokens) = (String::new(), None, 0);
    while let Some(item) = stream.next().await {
        match item {
            Ok(StreamEvent::Delta(t)) => text.push_str(&t),
            Ok(StreamEvent::Finish { finish_reason, usage }) => {
                reason = finish_reason;
                tokens = usage.map_or(0, |u| u.completion_tokens);
            }
            Ok(StreamEvent::ToolCall(call)) => panic!("no tools were offered, got {call:?}"),
            Err(e) => return Err((text, e)),
        }
    }
    Ok((text, reason, tokens))
}

#[tokio::test]
async fn streams_a_reply_with_usage_and_sends_only_allowed_fields() {
    let fake = fake().await;
    let provider = client(&fake, "fake-key", quick());
    let (text, reason, tokens) = collect(&provider, "hello there").await.unwrap();
    assert_eq!(text, "Fake reply to: hello there");
    assert_eq!(reason.as_deref(), Some("stop"));
    assert_eq!(tokens, 5);
    let requests = fake.requests();
    assert_eq!(requests.len(), 1);
    let body = &requests[0].body;
    assert_eq!(requests[0].authorization.as_deref(), Some("Bearer fake-key"));
    assert_eq!(body["model"], "mistral-small-latest");
    assert_eq!(body["stream"], true);
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["messages", "model", "stream"], "nothing Mistral would reject");
    let roles: Vec<&str> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["system", "user", "assistant", "user"]);
    for m in body["messages"].as_array().unwrap() {
        assert_eq!(m.as_object().unwrap().len(), 2, "only role and content: {m}");
    }
}

#[tokio::test]
async fn model_list_is_fetched_filtered_to_chat_models_and_cached() {
    let fake = fake().await;
    let provider = client(&fake, "fake-key", quick());
    let models: Vec<String> = provider.models().await.into_iter().map(|m| m.id).collect();
    assert!(models.contains(&"mistral-large-latest".to_string()));
    assert!(
        !models.contains(&"mistral-embed".to_string()),
        "embedding models are not chat models"
    );
    // Wrong key: the configured fallback list, default model first.
    let wrong = client(&fake, "nope", quick());
    let fallback: Vec<String> = wrong.models().await.into_iter().map(|m| m.id).collect();
    assert_eq!(fallback[0], "mistral-small-latest");
    assert!(fallback.len() > 1);
}

#[tokio::test]
async fn each_http_error_becomes_a_clear_message() {
    let fake = fake().await;
    let provider = client(
        &fake,
        "fake-key",
        ClientSettings {
            max_retries: 0,
            ..quick()
        },
    );
    let cases = [
        ("[fake:401]", ProviderError::InvalidKey),
        ("[fake:403]", ProviderError::Forbidden("mistral-small-latest".into())),
        ("[fake:404]", ProviderError::UnknownModel("mistral-small-latest".into())),
        ("[fake:422]", ProviderError::Rejected("Prompt is not valid".into())),
        ("[fake:429]", ProviderError::RateLimited { retry_after: Some(1) }),
        ("[fake:500]", ProviderError::Unavailable("HTTP 500".into())),
    ];
    for (marker, expected) in cases {
        let (_, error) = collect(&provider, marker).await.unwrap_err();
        assert_eq!(error, expected, "{marker}");
    }
    assert_eq!(
        ProviderError::RateLimited { retry_after: Some(7) }.to_string(),
        "The AI provider is rate limiting requests — retry in 7 s."
    );
    let (_, error) = collect(&client(&fake, "wrong-key", quick()), "hi").await.unwrap_err();
    assert_eq!(error, ProviderError::InvalidKey, "a wrong key is never retried");
}

#[tokio::test]
async fn transient_failures_before_the_first_token_are_retried() {
    let fake = fake().await;
    let provider = client(&fake, "fake-key", quick());
    let (text, _, _) = collect(&provider, "[fake:fail-twice:503] again").await.unwrap();
    assert_eq!(text, "Fake reply to: [fake:fail-twice:503] again");
    assert_eq!(fake.requests().len(), 3, "two failures, then success");

    // 429 honours Retry-After (1 s) instead of the 20 ms backoff.
    let started = Instant::now();
    collect(&provider, "[fake:fail-once:429] x").await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "{:?}",
        started.elapsed()
    );

    // Retries are bounded: 1 + 2 attempts, then the error.
    let before = fake.requests().len();
    let (_, error) = collect(&provider, "[fake:503]").await.unwrap_err();
    assert_eq!(error, ProviderError::Unavailable("HTTP 503".into()));
    assert_eq!(fake.requests().len() - before, 3);
}

#[tokio::test]
async fn a_cut_stream_keeps_the_text_received_and_is_not_retried() {
    let fake = fake().await;
    let provider = client(&fake, "fake-key", quick());
    let (text, error) = collect(&provider, "[fake:cut] one two three four five")
        .await
        .unwrap_err();
    assert_eq!(error, ProviderError::CutOff);
    assert_eq!(text, "Fake reply to: ");
    assert_eq!(fake.requests().len(), 1, "no retry after the first token");

    let (text, error) = collect(&provider, "[fake:malformed] one two three four")
        .await
        .unwrap_err();
    assert_eq!(error, ProviderError::Malformed);
    assert!(!text.is_empty());
}

#[tokio::test]
async fn a_silent_provider_times_out_before_and_during_the_reply() {
    let fake = fake().await;
    let provider = client(
        &fake,
        "fake-key",
        ClientSettings {
            max_retries: 0,
            ..quick()
        },
    );
    let started = Instant::now();
    let (_, error) = collect(&provider, "[fake:hang]").await.unwrap_err();
    assert!(matches!(error, ProviderError::Timeout(_)), "{error:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    let (text, error) = collect(&provider, "[fake:hang-mid] a b c d e").await.unwrap_err();
    assert!(
        matches!(error, ProviderError::Timeout(_) | ProviderError::CutOff),
        "{error:?}"
    );
    assert!(!text.is_empty());
}

#[tokio::test]
async fn no_server_listening_is_provider_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let provider = Provider::remote(&format!("http://{addr}"), Secret::new("k"), "m", quick());
    let error = provider.stream(&ask("hi")).await.err().unwrap();
    assert_eq!(error, ProviderError::Unavailable("no connection".into()));
}

#[tokio::test]
async fn the_demo_provider_answers_without_a_key() {
    let provider = Provider::demo("mistral-small-latest");
    assert!(provider.is_demo());
    let (text, reason, _) = collect(&provider, "What is Rust?").await.unwrap();
    assert!(text.contains("no AI model is configured"), "{text}");
    assert!(text.contains("> What is Rust?"), "{text}");
    assert_eq!(reason.as_deref(), Some("stop"));
}

/// One round of a reply with tools: its text, the calls put together from their pieces, and the finish reason.
async fn round(provider: &Provider, request: &ChatRequest, round: usize) -> (String, Vec<ToolCall>, Option<String>) {
    let mut stream = provider.stream(request).await.unwrap();
    let (mut text, mut calls, mut reason) = (String::new(), ToolCalls::default(), None);
    while let Some(item) = stream.next().await {
        match item.unwrap() {
            StreamEvent::Delta(t) => text.push_str(&t),
            StreamEvent::ToolCall(piece) => calls.push(piece),
            StreamEvent::Finish { finish_reason, .. } => reason = finish_reason,
        }
    }
    (text, calls.finish(round), reason)
}

fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::function(
            "web_search",
            "Searches the web.",
            serde_json::json!({"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]}),
        ),
        ToolSpec::function(
            "clock",
            "The time.",
            serde_json::json!({"type": "object", "properties": {}}),
        ),
    ]
}

#[tokio::test]
async fn tool_calls_in_both_wire_shapes_make_the_same_calls_and_their_results_are_answered() {
    let fake = fake().await;
    let provider = client(&fake, "fake-key", quick());
    for shape in ["", " [fake:fragments]"] {
        let prompt = format!(r#"Search [fake:call=web_search {{"query": "rust wasm"}}] [fake:call=clock]{shape}"#);
        let mut history = vec![WireMessage::text("user", prompt.clone())];
        let request = ChatRequest::new("mistral-small-latest", history.clone()).with_tools(tools());
        let (text, calls, reason) = round(&provider, &request, 0).await;
        assert_eq!(text, "", "{shape}");
        assert_eq!(reason.as_deref(), Some("tool_calls"));
        assert_eq!(calls.len(), 2, "parallel calls{shape}: {calls:?}");
        assert_eq!(calls[0].name, "web_search");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&calls[0].arguments).unwrap()["query"],
            "rust wasm"
        );
        assert_eq!((calls[1].name.as_str(), calls[1].arguments.as_str()), ("clock", "{}"));
        // Foreign ids (the fragments' `chatcmpl-tool-…`) come out as Mistral's 9 characters.
        assert!(
            calls
                .iter()
                .all(|c| c.id.len() == 9 && c.id.bytes().all(|b| b.is_ascii_alphanumeric()))
        );

        // The results go back after the assistant's calls; the fake checks Mistral's rules and answers with them.
        history.push(WireMessage::calls("", calls.clone()));
        history.push(WireMessage::tool_result(&calls[0], "Result one"));
        history.push(WireMessage::tool_result(&calls[1], "12:00"));
        let request = ChatRequest::new("mistral-small-latest", history).with_tools(tools());
        let (text, calls, reason) = round(&provider, &request, 1).await;
        assert_eq!(text, "Fake reply from tools: Result one | 12:00");
        assert!(calls.is_empty());
        assert_eq!(reason.as_deref(), Some("stop"));
    }
    let sent = fake.requests();
    let with_results = &sent[1].body;
    assert_eq!(with_results["tool_choice"], "auto");
    assert_eq!(with_results["tools"][0]["function"]["name"], "web_search");
    let assistant = &with_results["messages"][1];
    assert_eq!(assistant["content"], serde_json::Value::Null);
    assert_eq!(assistant["tool_calls"][0]["type"], "function");
    let result = &with_results["messages"][2];
    assert_eq!(result["role"], "tool");
    assert_eq!(result["name"], "web_search");
    assert_eq!(result["tool_call_id"], assistant["tool_calls"][0]["id"]);
}

#[tokio::test]
async fn a_history_that_breaks_mistrals_rules_is_refused_with_its_message() {
    let fake = fake().await;
    let provider = client(&fake, "fake-key", quick());
    let call = ToolCall {
        id: "call_1".to_string(),
        name: "clock".to_string(),
        arguments: "{}".to_string(),
    };
    let history = vec![
        WireMessage::text("user", "What time is it?"),
        WireMessage::calls("", vec![call.clone()]),
        WireMessage::tool_result(&call, "12:00"),
    ];
    let request = ChatRequest::new("mistral-small-latest", history).with_tools(tools());
    match provider.stream(&request).await {
        Err(ProviderError::Rejected(message)) => {
            assert!(
                message.contains("Tool call id was call_1 but must be a-z, A-Z, 0-9"),
                "{message}"
            )
        }
        Err(other) => panic!("unexpected error {other:?}"),
        Ok(_) => panic!("a foreign id must be refused"),
    }
    // With the id rewritten (as the engine does for history from other providers), the same history passes.
    let call = ToolCall {
        id: mistral_call_id("call_1", 0, 0),
        ..call
    };
    let history = vec![
        WireMessage::text("user", "What time is it?"),
        WireMessage::calls("", vec![call.clone()]),
        WireMessage::tool_result(&call, "12:00"),
    ];
    let request = ChatRequest::new("mistral-small-latest", history).with_tools(tools());
    let (text, ..) = round(&provider, &request, 1).await;
    assert_eq!(text, "Fake reply from tools: 12:00");
}

#[tokio::test]
async fn the_model_list_says_which_models_call_functions() {
    let fake = fake().await;
    let provider = client(&fake, "fake-key", quick());
    let models = provider.models().await;
    let small = models.iter().find(|m| m.id == "mistral-small-latest").unwrap();
    assert_eq!(small.function_calling, Some(true));
    // The fallback list does not know.
    let wrong = client(&fake, "nope", quick());
    assert!(wrong.models().await.iter().all(|m| m.function_calling.is_none()));
}
