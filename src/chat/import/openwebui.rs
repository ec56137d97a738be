//! Open WebUI's chat export (Settings → Chats → Export, or one chat's "Export chat (.json)"): a list of chats, each
//! `{id, title, chat, created_at, updated_at, archived, pinned, meta}` where `chat.history` holds the message tree
//! (`messages` by id with `parentId` and `childrenIds`, `currentId` the end of the branch on screen) and
//! `chat.messages` the branch alone. Times are in seconds (`chat.timestamp` in milliseconds). Tool calls and
//! reasoning are written into a reply's text as `<details type="tool_calls">` and `<details type="reasoning">`.

use std::collections::HashMap;

use serde_json::Value;

use super::{Draft, DraftMessage, millis, tree, without_details};

/// Whether `value` is one chat of an Open WebUI export.
pub(super) fn looks_like(value: &Value) -> bool {
    value.get("chat").is_some_and(|c| {
        c.get("history").is_some_and(Value::is_object) || c.get("messages").is_some_and(Value::is_array)
    })
}

fn text_of(value: Option<&Value>) -> &str {
    value.and_then(Value::as_str).unwrap_or_default()
}

/// The chat `value` as a draft (`None` when it is not one).
pub(super) fn draft(value: Value) -> Option<Draft> {
    let Value::Object(mut item) = value else {
        return None;
    };
    let Some(Value::Object(mut chat)) = item.remove("chat") else {
        return None;
    };
    let created_at = millis(item.get("created_at"))
        .or_else(|| millis(chat.get("timestamp")))
        .unwrap_or(0);
    let title = [item.get("title"), chat.get("title")]
        .into_iter()
        .map(text_of)
        .find(|t| !t.is_empty())
        .unwrap_or_default()
        .to_string();
    let id = text_of(item.get("id"));
    let tags: Vec<String> = item
        .get("meta")
        .and_then(|m| m.get("tags"))
        .or_else(|| chat.get("tags"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().or_else(|| t.get("name").and_then(Value::as_str)))
        .map(str::to_string)
        .collect();
    let archived = item.get("archived").and_then(Value::as_bool) == Some(true);
    let updated_at = millis(item.get("updated_at")).unwrap_or(created_at);
    let system = [chat.get("system"), chat.get("params").and_then(|p| p.get("system"))]
        .into_iter()
        .map(text_of)
        .find(|t| !t.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .to_string();
    let mut draft = Draft {
        source: if id.is_empty() {
            format!("openwebui:{created_at}:{title}")
        } else {
            format!("openwebui:{id}")
        },
        title,
        created_at,
        updated_at,
        status: if archived { "archived" } else { "active" }.to_string(),
        archived_at: archived.then_some(updated_at),
        is_pinned: item.get("pinned").and_then(Value::as_bool) == Some(true),
        tags,
        system_prompt: system,
        ..Default::default()
    };
    // The tree when the file has one, else the branch as a chain.
    let (entries, current): (Vec<Value>, Option<String>) = match chat.remove("history") {
        Some(Value::Object(mut history)) => {
            let current = text_of(history.get("currentId")).to_string();
            let messages = match history.remove("messages") {
                Some(Value::Object(map)) => map.into_iter().map(|(_, m)| m).collect(),
                _ => Vec::new(),
            };
            (messages, Some(current))
        }
        _ => {
            let mut chain = Vec::new();
            let mut parent: Option<String> = None;
            for (n, mut m) in chat
                .remove("messages")
                .and_then(|m| if let Value::Array(a) = m { Some(a) } else { None })
                .unwrap_or_default()
                .into_iter()
                .enumerate()
            {
                let id = m
                    .get("id")
                    .and_then(Value::as_str)
                    .map_or_else(|| format!("#{n}"), str::to_string);
                if let Value::Object(o) = &mut m {
                    o.insert("id".to_string(), Value::String(id.clone()));
                    o.insert(
                        "parentId".to_string(),
                        parent.clone().map_or(Value::Null, Value::String),
                    );
                }
                parent = Some(id);
                chain.push(m);
            }
            (chain, None)
        }
    };
    if entries.len() > super::MAX_NODES {
        draft.oversized = true;
        return Some(draft);
    }
    let mut nodes = Vec::with_capacity(entries.len());
    let mut order = HashMap::new();
    // A map's order is not the file's: messages are taken in the order they were written.
    let mut entries = entries;
    entries.sort_by_key(|m| millis(m.get("timestamp")).unwrap_or(0));
    for m in entries {
        let Some(id) = m.get("id").and_then(Value::as_str).map(str::to_string) else {
            continue;
        };
        let parent = m.get("parentId").and_then(Value::as_str).map(str::to_string);
        if let Some(kids) = m.get("childrenIds").and_then(Value::as_array) {
            order.insert(
                id.clone(),
                kids.iter().filter_map(Value::as_str).map(str::to_string).collect(),
            );
        }
        let message = message(&m, &mut draft);
        nodes.push((id, parent, message));
    }
    let (messages, placed) = tree(nodes, &order);
    draft.current_leaf = current.and_then(|c| placed.get(&c).copied());
    draft.messages = messages;
    Some(draft)
}

fn message(m: &Value, draft: &mut Draft) -> Option<DraftMessage> {
    let role = text_of(m.get("role"));
    if !matches!(role, "user" | "assistant") {
        if role == "system" {
            let text = text_of(m.get("content")).trim();
            if draft.system_prompt.is_empty() && !text.is_empty() {
                draft.system_prompt = text.to_string();
            }
        } else {
            draft.not_carried.other += 1;
        }
        return None;
    }
    // The text: a string, or (newer versions) a list of parts.
    let mut images = 0;
    let raw = match m.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| {
                if text_of(p.get("type")) == "image_url" {
                    images += 1;
                }
                p.get("text").and_then(Value::as_str)
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    };
    let (text, reasoning) = without_details(&raw, &["reasoning"]);
    let (text, calls) = without_details(&text, &["tool_calls", "code_interpreter"]);
    draft.not_carried.reasoning += reasoning;
    draft.not_carried.tool_calls += calls;
    let mut files = 0;
    for f in m.get("files").and_then(Value::as_array).into_iter().flatten() {
        let is_image = text_of(f.get("type")) == "image"
            || text_of(
                f.get("file")
                    .and_then(|x| x.get("meta"))
                    .and_then(|x| x.get("content_type")),
            )
            .starts_with("image/");
        if is_image {
            images += 1;
        } else {
            files += 1;
        }
    }
    draft.not_carried.images += images;
    draft.not_carried.files += files;
    let mut text = text;
    if text.is_empty() {
        if images == 0 && files == 0 {
            return None;
        }
        text = format!("[{}]", if images > 0 { "image" } else { "file" });
    }
    let created_at = millis(m.get("timestamp")).unwrap_or(0);
    let failed = m.get("error").is_some_and(|e| !e.is_null() && e != &Value::Bool(false));
    let mut meta = serde_json::Map::new();
    if role == "assistant" {
        let model = text_of(m.get("model"));
        if !model.is_empty() {
            meta.insert("model".to_string(), Value::String(model.to_string()));
        }
        if let Some(usage) = m.get("usage") {
            for (from, to) in [
                ("prompt_tokens", "prompt_tokens"),
                ("completion_tokens", "completion_tokens"),
            ] {
                if let Some(n) = usage.get(from).and_then(Value::as_i64) {
                    meta.insert(to.to_string(), Value::from(n));
                }
            }
        }
    }
    Some(DraftMessage {
        role: role.to_string(),
        content: text,
        content_type: "text/markdown".to_string(),
        status: if failed { "error" } else { "delivered" }.to_string(),
        created_at,
        updated_at: created_at,
        additional_data: "{}".to_string(),
        metadata: Value::Object(meta).to_string(),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Format, read};

    #[test]
    fn the_fixture_keeps_its_tree_tags_and_reports_reasoning_and_files() {
        let found = read(include_bytes!("../../../tests/fixtures/import/openwebui.json"), 1 << 20).unwrap();
        assert_eq!(found.format, Format::OpenWebUi);
        assert_eq!(found.conversations.len(), 1);
        let c = &found.conversations[0];
        assert_eq!(c.title, "Rust lifetimes");
        assert_eq!(c.source, "openwebui:7f1c2b9e-0000-4000-8000-000000000001");
        assert_eq!(c.tags, ["rust", "learning"]);
        assert!(c.is_pinned);
        assert_eq!(c.system_prompt, "You are a Rust tutor.");
        assert_eq!(c.created_at, 1_710_000_000_000);
        let roles: Vec<&str> = c.messages.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["user", "assistant", "assistant"]);
        assert_eq!(c.branches(), 2);
        assert_eq!(c.current_leaf, Some(2));
        assert_eq!(c.messages[2].content, "A lifetime names how long a borrow is valid.");
        assert!(c.messages[2].metadata.contains("llama3.1:8b"));
        assert_eq!(c.not_carried.reasoning, 1);
        assert_eq!(c.not_carried.tool_calls, 1);
        assert_eq!(c.not_carried.files, 1);
    }
}
