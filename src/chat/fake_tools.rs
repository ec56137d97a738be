//! Function calling in the fake Mistral server ([`super::fake_mistral`]): the rules Mistral enforces on tools and on
//! a history with calls (400 with its exact messages, `../shared/MISTRAL-BEYOND-TEXT.md` §3), and calls made on
//! request.
//!
//! Markers in the last user message: `[fake:call=NAME {JSON arguments}]` (one per call; several make parallel
//! calls) when tools are offered; `[fake:fragments]` sends the calls as OpenAI-style fragments by `index` (a foreign
//! id and `name: ""` after the first piece, as models relayed by Mistral do) instead of Mistral's whole calls in one
//! delta; `[fake:rounds=N]` calls again after results until N rounds were made. Once the last message is a tool
//! result (and the rounds are done), the reply is text quoting the results: `Fake reply from tools: <result> | …`.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::Json;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::fake_mistral::chunk;

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn bad(message: String, kind: &str, code: &str) -> Response {
    let body = json!({"object": "error", "message": message, "type": kind, "code": code});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// Mistral's 400 for a call id that is not 9 letters or digits.
fn bad_id(id: &str) -> Response {
    bad(
        format!("Tool call id was {id} but must be a-z, A-Z, 0-9, with a length of 9."),
        "invalid_function_call",
        "3280",
    )
}

/// Mistral's 400 when an assistant's calls and the tool results after it do not pair up.
fn unpaired() -> Response {
    bad(
        "Not the same number of function calls and responses".into(),
        "invalid_request_message_order",
        "3230",
    )
}

fn valid_id(id: &str) -> bool {
    id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn role(message: &Value) -> &str {
    message.get("role").and_then(Value::as_str).unwrap_or("")
}

/// Mistral's 400 for a request whose tools or history break its rules, if it does.
pub fn check(body: &Value) -> Option<Response> {
    let tools = body.get("tools").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut names = Vec::new();
    for tool in &tools {
        if tool.get("type").and_then(Value::as_str) != Some("function") {
            return Some(bad(
                "Tool type must be function".into(),
                "invalid_request_error",
                "3051",
            ));
        }
        let function = tool.get("function").cloned().unwrap_or(Value::Null);
        let name = function.get("name").and_then(Value::as_str).unwrap_or("");
        let valid_name = (1..=64).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !valid_name {
            return Some(bad(
                format!(
                    "Function name was {name} but must be a-z, A-Z, 0-9, or contain underscores and dashes, with a maximum length of 64."
                ),
                "invalid_request_error",
                "3051",
            ));
        }
        if !function.get("parameters").is_some_and(Value::is_object) {
            return Some(bad(
                format!("Function {name} has no parameters"),
                "invalid_request_error",
                "3051",
            ));
        }
        names.push(name.to_string());
    }
    match body.get("tool_choice") {
        None | Some(Value::Null) => {}
        Some(Value::String(choice)) if ["auto", "none", "any", "required"].contains(&choice.as_str()) => {}
        Some(Value::Object(named))
            if named
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .is_some_and(|n| names.iter().any(|m| m == n)) => {}
        Some(other) => {
            return Some(bad(
                format!("Invalid tool_choice {other}"),
                "invalid_request_error",
                "3051",
            ));
        }
    }

    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut expected: Vec<String> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let calls = message
            .get("tool_calls")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        if let Some(previous) = i.checked_sub(1).map(|p| role(&messages[p]))
            && previous == "tool"
            && !["tool", "assistant"].contains(&role(message))
        {
            return Some(bad(
                format!("Unexpected role '{}' after role 'tool'", role(message)),
                "invalid_request_message_order",
                "3230",
            ));
        }
        match role(message) {
            "assistant" => {
                if !expected.is_empty() {
                    return Some(unpaired());
                }
                let content = message.get("content").filter(|c| !c.is_null());
                let has_content = content.is_some_and(|c| c.as_str().is_none_or(|s| !s.is_empty()));
                if !has_content && calls.is_empty() {
                    return Some(bad(
                        "Assistant message must have either content or tool_calls, but not none.".into(),
                        "invalid_request_message_error",
                        "3230",
                    ));
                }
                for call in &calls {
                    let id = call.get("id").and_then(Value::as_str).unwrap_or("");
                    if !valid_id(id) {
                        return Some(bad_id(id));
                    }
                    if expected.iter().any(|e| e == id) {
                        return Some(bad(
                            format!("Duplicate tool call id {id}"),
                            "invalid_function_call",
                            "3280",
                        ));
                    }
                    expected.push(id.to_string());
                }
            }
            "tool" => {
                let id = message.get("tool_call_id").and_then(Value::as_str).unwrap_or("");
                if !valid_id(id) {
                    return Some(bad_id(id));
                }
                let Some(at) = expected.iter().position(|e| e == id) else {
                    return Some(bad(
                        format!("Unexpected tool call id {id} in tool results"),
                        "invalid_function_call",
                        "3280",
                    ));
                };
                expected.remove(at);
            }
            _ => {
                if !expected.is_empty() {
                    return Some(unpaired());
                }
            }
        }
    }
    if !expected.is_empty() {
        return Some(unpaired());
    }
    if let Some(last) = messages.last()
        && role(last) == "assistant"
        && last.get("prefix") != Some(&Value::Bool(true))
    {
        return Some(bad(
            "Expected last role User or Tool (or Assistant with prefix True) for serving but got assistant".into(),
            "invalid_request_message_order",
            "3230",
        ));
    }
    None
}

/// A SearXNG instance's JSON search (`/_fake/searxng/search?q=…&format=json`): two results about the query; a query
/// starting `slow:N ` answers after N milliseconds (a call the page shows running). A query naming `timeline` notes
/// when it came and when it was answered (`/_fake/timeline`).
pub(super) async fn searxng(
    axum::extract::State(shared): axum::extract::State<std::sync::Arc<super::fake_mistral::Shared>>,
    axum::extract::Query(params): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let query = params.get("q").cloned().unwrap_or_default();
    if params.get("format").map(String::as_str) != Some("json") {
        return StatusCode::FORBIDDEN.into_response();
    }
    let timed = query.contains("timeline");
    if timed {
        shared.note("search_in", &query);
    }
    if let Some(ms) = query
        .strip_prefix("slow:")
        .and_then(|rest| rest.split(' ').next()?.parse::<u64>().ok())
    {
        tokio::time::sleep(std::time::Duration::from_millis(ms.min(60_000))).await;
    }
    if timed {
        shared.note("search_out", &query);
    }
    let slug: String = query
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    Json(json!({"query": query, "results": [
        {"url": format!("https://example.org/{slug}"), "title": format!("About {query}"),
         "content": format!("Everything about {query}.")},
        {"url": format!("https://docs.example.com/{slug}"), "title": format!("{query} — reference"),
         "content": format!("The reference for {query}.")}
    ]}))
    .into_response()
}

/// The calls the last user message asks for: `[fake:call=NAME {…}]`, in order.
fn asked_calls(prompt: &str) -> Vec<(String, String)> {
    let mut calls = Vec::new();
    let mut rest = prompt;
    while let Some(start) = rest.find("[fake:call=") {
        rest = &rest[start + "[fake:call=".len()..];
        let name: String = rest.chars().take_while(|c| !c.is_whitespace() && *c != ']').collect();
        let after = rest[name.len()..].trim_start();
        let mut values = serde_json::Deserializer::from_str(after).into_iter::<Value>();
        let arguments = match values.next() {
            Some(Ok(value)) => {
                rest = &after[values.byte_offset()..];
                value.to_string()
            }
            _ => "{}".to_string(),
        };
        calls.push((name, arguments));
    }
    calls
}

/// What the fake does with a request that offers tools or carries results: the chunks of its reply, or `None` to
/// answer with ordinary text.
pub fn reply(model: &str, prompt: &str, body: &Value) -> Option<Vec<Bytes>> {
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let offered = body
        .get("tools")
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty())
        && body.get("tool_choice").and_then(Value::as_str) != Some("none");
    let rounds_done = messages
        .iter()
        .filter(|m| {
            m.get("tool_calls")
                .and_then(Value::as_array)
                .is_some_and(|c| !c.is_empty())
        })
        .count();
    let rounds_wanted = prompt
        .find("[fake:rounds=")
        .and_then(|at| prompt[at + 13..].split(']').next()?.parse::<usize>().ok())
        .unwrap_or(1);
    let asked = asked_calls(prompt);
    let last_is_result = messages.last().is_some_and(|m| role(m) == "tool");
    let usage = || json!({"prompt_tokens": 20, "completion_tokens": 10, "total_tokens": 30});
    if offered && !asked.is_empty() && rounds_done < rounds_wanted {
        let fragments = prompt.contains("[fake:fragments]");
        let mut out = vec![chunk(model, json!({"role": "assistant", "content": ""}), None, None)];
        if fragments {
            for (index, (name, arguments)) in asked.iter().enumerate() {
                let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                let split = arguments.len() / 2;
                let split = (split..=arguments.len())
                    .find(|i| arguments.is_char_boundary(*i))
                    .unwrap_or(0);
                out.push(chunk(
                    model,
                    json!({"tool_calls": [{"index": index, "id": format!("chatcmpl-tool-{n:08x}"), "type": "function",
                                           "function": {"name": name, "arguments": &arguments[..split]}}]}),
                    None,
                    None,
                ));
                out.push(chunk(
                    model,
                    json!({"tool_calls": [{"index": index, "type": "function",
                                           "function": {"name": "", "arguments": &arguments[split..]}}]}),
                    None,
                    None,
                ));
            }
            out.push(chunk(model, json!({}), Some("tool_calls"), Some(usage())));
        } else {
            // Mistral's own models: every call whole in one delta, with the finish reason and usage; no `index` or
            // `type` for a single call.
            let several = asked.len() > 1;
            let calls: Vec<Value> = asked
                .iter()
                .enumerate()
                .map(|(index, (name, arguments))| {
                    let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                    let mut call =
                        json!({"id": format!("call{n:05}"), "function": {"name": name, "arguments": arguments}});
                    if several {
                        call["index"] = json!(index);
                    }
                    call
                })
                .collect();
            out.push(chunk(
                model,
                json!({"content": null, "tool_calls": calls}),
                Some("tool_calls"),
                Some(usage()),
            ));
        }
        return Some(out);
    }
    if last_is_result {
        // The results of the last round, quoted.
        let results: Vec<String> = messages
            .iter()
            .rev()
            .take_while(|m| role(m) == "tool")
            .map(|m| m.get("content").and_then(Value::as_str).unwrap_or("").to_string())
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let text = format!("Fake reply from tools: {}", results.join(" | "));
        let words: Vec<String> = text.split_inclusive(' ').map(str::to_string).collect();
        let total = words.len();
        let mut out = vec![chunk(model, json!({"role": "assistant", "content": ""}), None, None)];
        for (i, word) in words.into_iter().enumerate() {
            let last = i + 1 == total;
            out.push(chunk(
                model,
                json!({"content": word}),
                last.then_some("stop"),
                last.then(usage),
            ));
        }
        return Some(out);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_markers_are_read_with_their_json() {
        assert_eq!(
            asked_calls(r#"look [fake:call=web_search {"query": "a]b"}] and [fake:call=clock]"#),
            vec![
                ("web_search".to_string(), r#"{"query":"a]b"}"#.to_string()),
                ("clock".to_string(), "{}".to_string())
            ]
        );
        assert!(asked_calls("nothing").is_empty());
    }

    #[test]
    fn histories_that_break_mistrals_rules_are_refused() {
        let call = |id: &str| json!({"id": id, "type": "function", "function": {"name": "f", "arguments": "{}"}});
        let ok = json!({"messages": [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": null, "tool_calls": [call("abcDEF123")]},
            {"role": "tool", "tool_call_id": "abcDEF123", "name": "f", "content": "r"}
        ]});
        assert!(check(&ok).is_none());
        for broken in [
            json!({"messages": [{"role": "user", "content": "q"},
                {"role": "assistant", "content": null, "tool_calls": [call("call_1")]},
                {"role": "tool", "tool_call_id": "call_1", "content": "r"}]}),
            json!({"messages": [{"role": "user", "content": "q"},
                {"role": "assistant", "content": null, "tool_calls": [call("abcDEF123"), call("abcDEF124")]},
                {"role": "tool", "tool_call_id": "abcDEF123", "content": "r"}]}),
            json!({"messages": [{"role": "user", "content": "q"},
                {"role": "assistant", "content": null, "tool_calls": [call("abcDEF123")]},
                {"role": "tool", "tool_call_id": "abcDEF123", "content": "r"},
                {"role": "user", "content": "again"}]}),
            json!({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}),
            json!({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": null},
                {"role": "user", "content": "q"}]}),
            json!({"messages": [{"role": "user", "content": "q"},
                {"role": "tool", "tool_call_id": "abcDEF123", "content": "r"}]}),
            json!({"messages": [{"role": "user", "content": "q"}],
                "tools": [{"type": "function", "function": {"name": "a.b", "parameters": {}}}]}),
            json!({"messages": [{"role": "user", "content": "q"}],
                "tools": [{"type": "function", "function": {"name": "ab"}}]}),
            json!({"messages": [{"role": "user", "content": "q"}],
                "tools": [{"type": "function", "function": {"name": "ab", "parameters": {}}}],
                "tool_choice": "sometimes"}),
        ] {
            assert!(check(&broken).is_some(), "{broken}");
        }
    }
}
