//! A reply's tool calls as the chat page shows them (issue #27), rendered on the server like the reply's text: one
//! line per call — what it does ("Searching the web for …", "Reading example.org", "Calling weather") with a spinner
//! or its outcome — that opens (`<details>`, no JavaScript needed) to the arguments and the result; and the pages a
//! search found, numbered, under the answer. Everything a tool returned is untrusted: it is escaped, and only
//! `http(s)` links are ever made.

use serde_json::Value;

use crate::chat::json::StepOut;
use crate::core::error::escape_html as esc;
use crate::core::i18n::Lang;
use crate::core::icons::Icon;
use crate::tr;

/// What a call waiting for approval needs to be answered from the page: the conversation, and the page's CSRF token.
#[derive(Debug, Clone, Default)]
pub struct Answering {
    /// The conversation of the reply.
    pub conversation_id: i64,
    /// The token the form carries (`core::csrf`).
    pub csrf: String,
}

/// The steps' list (above the answer), or nothing when there are no steps; a call waiting for approval is open, with
/// Allow and Deny (a plain form: it works without JavaScript).
pub fn steps_html(steps: &[StepOut], lang: Lang, answering: &Answering) -> String {
    if steps.is_empty() {
        return String::new();
    }
    let mut out = format!(
        r#"<ol class="message-steps" aria-label="{}" data-testid="message-steps">"#,
        esc(tr!(lang, chat.tools.steps))
    );
    for step in steps {
        out.push_str(&step_html(step, lang, answering));
    }
    out.push_str("</ol>");
    out
}

/// The pages the reply's searches found, numbered as the model read them (under the answer); nothing without any.
pub fn links_html(steps: &[StepOut], lang: Lang) -> String {
    // Each under the number the model cites it by (`n`; results stored before numbers were kept count from 1).
    let links: Vec<(Option<u64>, String, String)> = steps
        .iter()
        .filter(|s| s.status == "done")
        .filter_map(|s| s.result.as_ref()?.get("results")?.as_array().cloned())
        .flatten()
        .filter_map(|r| {
            let n = r.get("n").and_then(serde_json::Value::as_u64);
            Some((n, web_url(r.get("url")?.as_str()?)?, text_of(&r, "title")))
        })
        .collect();
    if links.is_empty() {
        return String::new();
    }
    let mut out = format!(
        r#"<div class="message-links" data-testid="message-links"><p>{}</p><ol>"#,
        esc(tr!(lang, chat.tools.sources))
    );
    for (n, url, title) in links {
        let label = if title.is_empty() { host_of(&url) } else { title };
        out.push_str(&format!(
            r#"<li{}><a href="{}" target="_blank" rel="noopener noreferrer nofollow external">{}</a> <span class="link-host">{}</span></li>"#,
            n.map(|n| format!(r#" value="{n}""#)).unwrap_or_default(),
            esc(&url),
            esc(&label),
            esc(&host_of(&url))
        ));
    }
    out.push_str("</ol></div>");
    out
}

/// Allow / Deny for a call waiting for approval.
fn decision_html(step: &StepOut, lang: Lang, answering: &Answering) -> String {
    use leptos::server_fn::ServerFn;
    let field = |name: &str, value: &str| format!(r#"<input type="hidden" name="{name}" value="{}">"#, esc(value));
    let decide = |allow: u8| {
        format!(
            "{}:{}:{}:{allow}",
            answering.conversation_id, step.message_id, step.call_id
        )
    };
    format!(
        r#"<form method="post" action="{action}" class="step-decision" data-testid="step-decision">{csrf}{conversation}{message}{call}<p>{question}</p><button type="submit" name="allow" value="1" class="primary" data-decide="{allow}">{allow_label}</button> <button type="submit" name="allow" value="0" data-decide="{deny}">{deny_label}</button></form>"#,
        action = crate::chat::server_fns::DecideCall::PATH,
        csrf = field(crate::core::csrf::FORM_FIELD, &answering.csrf),
        conversation = field("conversation_id", &answering.conversation_id.to_string()),
        message = field("message_id", &step.message_id.to_string()),
        call = field("call_id", &step.call_id),
        question = esc(&tr!(lang, chat.tools.awaiting, tool = &step.tool).to_string()),
        allow = esc(&decide(1)),
        deny = esc(&decide(0)),
        allow_label = esc(tr!(lang, chat.tools.allow)),
        deny_label = esc(tr!(lang, chat.tools.deny)),
    )
}

fn step_html(step: &StepOut, lang: Lang, answering: &Answering) -> String {
    let running = matches!(step.status.as_str(), "running" | "awaiting_approval");
    let argument = |key: &str| match &step.arguments {
        Value::Object(map) => map.get(key).and_then(Value::as_str).unwrap_or_default().to_string(),
        Value::String(text) => text.clone(),
        _ => String::new(),
    };
    let label = match step.tool.as_str() {
        crate::tools::builtin::WEB_SEARCH => {
            let query = argument("query");
            if running {
                tr!(lang, chat.tools.searching, query = query).to_string()
            } else {
                tr!(lang, chat.tools.searched, query = query).to_string()
            }
        }
        crate::tools::builtin::READ_PAGE => {
            let host = host_of(&argument("url"));
            if running {
                tr!(lang, chat.tools.reading, host = host).to_string()
            } else {
                tr!(lang, chat.tools.read, host = host).to_string()
            }
        }
        tool => {
            if running {
                tr!(lang, chat.tools.calling, tool = tool).to_string()
            } else {
                tr!(lang, chat.tools.called, tool = tool).to_string()
            }
        }
    };
    let status = match step.status.as_str() {
        "error" => Some(tr!(lang, chat.tools.status_error)),
        "interrupted" => Some(tr!(lang, chat.tools.status_interrupted)),
        "denied" => Some(tr!(lang, chat.tools.status_denied)),
        "expired" => Some(tr!(lang, chat.tools.status_expired)),
        "awaiting_approval" => Some(tr!(lang, chat.tools.status_awaiting_approval)),
        _ => None,
    };
    let icon = match step.status.as_str() {
        "running" | "awaiting_approval" => r#"<span class="step-spinner"></span>"#.to_string(),
        "done" => Icon::Check.markup().to_string(),
        _ => Icon::Close.markup().to_string(),
    };
    let outcome = match (status, step.duration_ms) {
        (Some(status), _) => format!(r#"<span class="step-outcome">{}</span>"#, esc(status)),
        (None, Some(ms)) => format!(r#"<span class="step-outcome">{}</span>"#, seconds(ms)),
        (None, None) => String::new(),
    };
    let arguments = match &step.arguments {
        Value::String(text) => text.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    let waiting = step.status == "awaiting_approval";
    format!(
        r#"<li class="step" data-status="{status}"><details{open}><summary><span class="step-icon" aria-hidden="true">{icon}</span><span class="step-label">{label}</span>{outcome}</summary><div class="step-detail"><p class="step-heading">{arguments_heading}</p><pre tabindex="0"><code>{arguments}</code></pre>{decision}{result}</div></details></li>"#,
        open = if waiting { " open" } else { "" },
        decision = if waiting {
            decision_html(step, lang, answering)
        } else {
            String::new()
        },
        status = esc(&step.status),
        label = esc(&label),
        arguments_heading = esc(tr!(lang, chat.tools.arguments)),
        arguments = esc(&arguments),
        result = match result_html(step, lang) {
            result if result.is_empty() => result,
            result => format!(
                r#"<p class="step-heading">{}</p>{result}"#,
                esc(tr!(lang, chat.tools.result))
            ),
        },
    )
}

/// What a call gave: its error, the results of a search, the page read, or the result as JSON.
fn result_html(step: &StepOut, lang: Lang) -> String {
    if let Some(error) = &step.error {
        return format!(r#"<p class="step-error">{}</p>"#, esc(error));
    }
    let Some(result) = &step.result else {
        return String::new();
    };
    if let Some(results) = result.get("results").and_then(Value::as_array) {
        if results.is_empty() {
            return format!("<p>{}</p>", esc(tr!(lang, chat.tools.no_results)));
        }
        let mut out = format!(
            "<p>{}</p><ol>",
            esc(&tr!(lang, chat.tools.results, count = results.len()).to_string())
        );
        for r in results {
            let title = esc(&text_of(r, "title"));
            let snippet = esc(&text_of(r, "snippet"));
            match r.get("url").and_then(Value::as_str).and_then(web_url) {
                Some(url) => out.push_str(&format!(
                    r#"<li><a href="{}" target="_blank" rel="noopener noreferrer nofollow external">{title}</a><br>{snippet}</li>"#,
                    esc(&url)
                )),
                None => out.push_str(&format!("<li>{title}<br>{snippet}</li>")),
            }
        }
        out.push_str("</ol>");
        return out;
    }
    if let Some(content) = result.get("content").and_then(Value::as_array) {
        return content_html(content, &step.tool);
    }
    if let Some(page) = result.get("page") {
        let url = page.get("url").and_then(Value::as_str).and_then(web_url);
        let title = text_of(page, "title");
        let title = if title.is_empty() {
            url.as_deref().map(host_of).unwrap_or_default()
        } else {
            title
        };
        let chars = page.get("chars").and_then(Value::as_u64).unwrap_or(0);
        let line = esc(&tr!(lang, chat.tools.page_read, title = title, chars = chars).to_string());
        let cut = if page.get("truncated").and_then(Value::as_bool) == Some(true) {
            format!(" ({})", esc(tr!(lang, chat.tools.page_cut)))
        } else {
            String::new()
        };
        return match url {
            Some(url) => format!(
                r#"<p><a href="{}" target="_blank" rel="noopener noreferrer nofollow external">{line}</a>{cut}</p>"#,
                esc(&url)
            ),
            None => format!("<p>{line}{cut}</p>"),
        };
    }
    format!(
        r#"<pre tabindex="0"><code>{}</code></pre>"#,
        esc(&serde_json::to_string_pretty(result).unwrap_or_default())
    )
}

/// What an MCP tool returned: text as text, images as images (raster types, base64 only), resources and links.
fn content_html(content: &[Value], tool: &str) -> String {
    let mut out = String::from(r#"<div class="step-content">"#);
    for part in content {
        match part.get("type").and_then(Value::as_str).unwrap_or_default() {
            "text" => out.push_str(&format!(
                r#"<pre tabindex="0"><code>{}</code></pre>"#,
                esc(&text_of(part, "text"))
            )),
            "image" => {
                let mime = text_of(part, "mime_type");
                let data = text_of(part, "data");
                let raster = matches!(mime.as_str(), "image/png" | "image/jpeg" | "image/gif" | "image/webp");
                let base64 = !data.is_empty()
                    && data
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
                if raster && base64 {
                    out.push_str(&format!(
                        r#"<img class="step-image" src="data:{mime};base64,{data}" alt="{}" loading="lazy">"#,
                        esc(&format!("{tool}: {mime}"))
                    ));
                } else {
                    out.push_str(&format!("<p>[{}]</p>", esc(&mime)));
                }
            }
            "resource" => {
                out.push_str(&format!(
                    r#"<p class="step-heading">{}</p>"#,
                    esc(&text_of(part, "uri"))
                ));
                let body = text_of(part, "text");
                if !body.is_empty() {
                    out.push_str(&format!(r#"<pre tabindex="0"><code>{}</code></pre>"#, esc(&body)));
                }
            }
            "link" => {
                let uri = text_of(part, "uri");
                let name = text_of(part, "name");
                let label = if name.is_empty() { uri.clone() } else { name };
                match web_url(&uri) {
                    Some(url) => out.push_str(&format!(
                        r#"<p><a href="{}" target="_blank" rel="noopener noreferrer nofollow external">{}</a></p>"#,
                        esc(&url),
                        esc(&label)
                    )),
                    None => out.push_str(&format!("<p>{} <code>{}</code></p>", esc(&label), esc(&uri))),
                }
            }
            _ => {}
        }
    }
    out.push_str("</div>");
    out
}

fn text_of(value: &Value, key: &str) -> String {
    value
        .get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// `url` when it is an absolute http(s) address (never `javascript:` or `data:`).
fn web_url(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url.trim()).ok()?;
    matches!(parsed.scheme(), "http" | "https").then(|| parsed.to_string())
}

/// The host of `url`, or the text itself when it is not an address.
fn host_of(url: &str) -> String {
    reqwest::Url::parse(url.trim())
        .ok()
        .and_then(|u| u.host_str().map(|h| h.trim_start_matches("www.").to_string()))
        .unwrap_or_else(|| url.to_string())
}

/// Milliseconds as seconds with one decimal: `1.2 s`.
fn seconds(ms: i64) -> String {
    let tenths = (ms.max(0) + 50) / 100;
    format!("{}.{} s", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn step(tool: &str, status: &str, arguments: Value, result: Option<Value>, error: Option<&str>) -> StepOut {
        StepOut {
            id: 1,
            message_id: 7,
            call_id: "abcDEF123".into(),
            tool: tool.into(),
            arguments,
            status: status.into(),
            result,
            error: error.map(str::to_string),
            started_at: String::new(),
            duration_ms: (status != "running").then_some(1234),
            round: 0,
            expires_at: None,
        }
    }

    #[test]
    fn each_step_says_what_it_does_and_opens_to_its_arguments_and_result() {
        let search = step(
            "web_search",
            "done",
            json!({"query": "rust <wasm>"}),
            Some(json!({"results": [
                {"title": "A <b>", "url": "https://www.example.org/a", "snippet": "<script>x</script>"},
                {"title": "Bad", "url": "javascript:alert(1)", "snippet": ""}
            ]})),
            None,
        );
        let html = steps_html(std::slice::from_ref(&search), Lang::En, &Answering::default());
        assert!(html.contains("Searched the web for “rust &lt;wasm&gt;”"), "{html}");
        assert!(html.contains(r#"<span class="step-outcome">1.2 s</span>"#));
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>") && !html.contains("javascript:"), "{html}");
        assert!(html.contains(r#"href="https://www.example.org/a""#));

        let links = links_html(&[search], Lang::Fr);
        assert!(links.starts_with(r#"<div class="message-links" data-testid="message-links"><p>Sources</p><ol><li>"#));
        assert_eq!(links.matches("<li>").count(), 1, "only http(s) links: {links}");
        assert!(links.contains(r#"<span class="link-host">example.org</span>"#));

        let reading = step("read_page", "running", json!({"url": "https://docs.rs/x"}), None, None);
        assert!(steps_html(&[reading], Lang::En, &Answering::default()).contains("Reading docs.rs"));
        let failed = step(
            "weather",
            "error",
            json!("{oops"),
            None,
            Some("the tool did not answer within 30 s"),
        );
        let html = steps_html(&[failed], Lang::Fr, &Answering::default());
        assert!(html.contains("Appelé : weather"));
        assert!(html.contains(r#"<span class="step-outcome">échec</span>"#));
        assert!(html.contains(r#"<p class="step-error">the tool did not answer within 30 s</p>"#));
        assert!(html.contains("<code>{oops</code>"));
        assert_eq!(steps_html(&[], Lang::En, &Answering::default()), "");

        // An MCP tool's text, image and links; a made-up image type or data is not drawn.
        let mcp = step(
            "everything__tiny",
            "done",
            json!({}),
            Some(json!({"content": [
                {"type": "text", "text": "<b>hi</b>"},
                {"type": "image", "mime_type": "image/png", "data": "aGk="},
                {"type": "image", "mime_type": "image/svg+xml", "data": "PHN2Zz4="},
                {"type": "image", "mime_type": "image/png", "data": "\"onerror=alert(1)"},
                {"type": "link", "uri": "javascript:alert(1)", "name": "bad"},
                {"type": "link", "uri": "https://example.org/r", "name": "good"}
            ]})),
            None,
        );
        let html = steps_html(&[mcp], Lang::En, &Answering::default());
        assert!(html.contains("Called everything__tiny"));
        assert!(html.contains("<code>&lt;b&gt;hi&lt;/b&gt;</code>"));
        assert_eq!(html.matches("<img ").count(), 1, "{html}");
        assert!(html.contains(r#"src="data:image/png;base64,aGk=""#));
        assert!(
            !html.contains("onerror") && !html.contains("href=\"javascript"),
            "{html}"
        );
        assert!(html.contains(r#"href="https://example.org/r""#));
        assert_eq!(links_html(&[], Lang::En), "");
    }

    #[test]
    fn sources_keep_the_numbers_the_model_cites_them_by() {
        let first = step(
            "web_search",
            "done",
            json!({"query": "a"}),
            Some(json!({"results": [
                {"n": 1, "title": "One", "url": "https://example.org/1", "snippet": ""},
                {"n": 2, "title": "Two", "url": "javascript:alert(1)", "snippet": ""},
                {"n": 3, "title": "Three", "url": "https://example.org/3", "snippet": ""}
            ]})),
            None,
        );
        let second = step(
            "web_search",
            "done",
            json!({"query": "b"}),
            Some(json!({"results": [{"n": 9, "title": "Nine", "url": "https://example.org/9", "snippet": ""}]})),
            None,
        );
        let links = links_html(&[first, second], Lang::En);
        assert!(
            links.contains(r#"<li value="1"><a href="https://example.org/1""#),
            "{links}"
        );
        // A dropped link leaves its number out rather than shifting the next ones.
        assert!(
            links.contains(r#"<li value="3"><a href="https://example.org/3""#),
            "{links}"
        );
        assert!(
            links.contains(r#"<li value="9"><a href="https://example.org/9""#),
            "{links}"
        );
    }
}
