//! The Mistral client against the fake Mistral server on 127.0.0.1: the wire format, the model list, and every fault.

use std::time::{Duration, Instant};

use futures::StreamExt;
use thicode::chat::fake_mistral::{FakeMistral, FakeSettings};
use thicode::chat::provider::{ChatRequest, ClientSettings, Provider, ProviderError, StreamEvent, WireMessage};
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
