//! ThiCode's own exports: the account export (`format: "thicode-export-1"`), the conversations export
//! (`"thicode-conversations-1"`) and one conversation's JSON (`/chat/{id}/export/json`), all in the REST API's
//! conversation shape ([`ConversationOut`](crate::chat::json::ConversationOut)). Everything is carried back,
//! tool calls included; only the files are not (the JSON describes them, its bytes are elsewhere).

use std::collections::HashMap;

use serde_json::Value;

use super::{Draft, DraftMessage, DraftStep, millis};

/// Whether `value` is one conversation as ThiCode exports it.
pub(super) fn looks_like(value: &Value) -> bool {
    value.get("messages").is_some_and(Value::is_array)
        && value.get("system_prompt").is_some()
        && value.get("id").is_some_and(Value::is_i64)
}

fn text_of(value: Option<&Value>) -> &str {
    value.and_then(Value::as_str).unwrap_or_default()
}

fn object_text(value: Option<&Value>) -> String {
    match value {
        Some(v @ Value::Object(_)) => v.to_string(),
        _ => "{}".to_string(),
    }
}

/// The conversation `value` as a draft (`None` when it is not one).
pub(super) fn draft(value: Value) -> Option<Draft> {
    let Value::Object(mut c) = value else {
        return None;
    };
    let id = c.get("id").and_then(Value::as_i64)?;
    let created_at = millis(c.get("created_at")).unwrap_or(0);
    let mut additional = match c.remove("additional_data") {
        Some(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    // A conversation imported before keeps where it first came from, so importing it again anywhere adds nothing.
    let source = match additional.remove("import_source") {
        Some(Value::String(s)) if !s.is_empty() => s,
        _ => format!("thicode:{created_at}:{id}"),
    };
    let mut draft = Draft {
        source,
        original: Some((id, created_at)),
        title: text_of(c.get("title")).to_string(),
        created_at,
        updated_at: millis(c.get("updated_at")).unwrap_or(created_at),
        status: text_of(c.get("status")).to_string(),
        archived_at: millis(c.get("archived_at")),
        is_pinned: c.get("is_pinned").and_then(Value::as_bool) == Some(true),
        tags: c
            .get("tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        category: text_of(c.get("category")).to_string(),
        summary: text_of(c.get("summary")).to_string(),
        model: text_of(c.get("model")).to_string(),
        system_prompt: text_of(c.get("system_prompt")).to_string(),
        tools: c
            .get("tools")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            // The export lists none for a conversation that follows its owner's default.
            .filter(|t| !t.is_empty()),
        additional_data: additional,
        ..Default::default()
    };
    let messages = match c.remove("messages") {
        Some(Value::Array(m)) => m,
        _ => Vec::new(),
    };
    if messages.len() > super::MAX_MESSAGES {
        draft.oversized = true;
        return Some(draft);
    }
    // Messages come oldest first, each after its parent; ids are renumbered on import.
    let mut index: HashMap<i64, usize> = HashMap::new();
    for m in messages {
        let Some(old_id) = m.get("id").and_then(Value::as_i64) else {
            continue;
        };
        let role = text_of(m.get("role"));
        if !matches!(role, "user" | "assistant" | "system") {
            draft.not_carried.other += 1;
            continue;
        }
        let files = m.get("attachments").and_then(Value::as_array).map_or(0, Vec::len);
        for f in m.get("attachments").and_then(Value::as_array).into_iter().flatten() {
            if text_of(f.get("kind")) == "image" || text_of(f.get("type")).starts_with("image/") {
                draft.not_carried.images += 1;
            } else {
                draft.not_carried.files += 1;
            }
        }
        let created = millis(m.get("created_at")).unwrap_or(0);
        let mut additional = match m.get("additional_data") {
            Some(Value::Object(map)) => map.clone(),
            _ => serde_json::Map::new(),
        };
        if files > 0 {
            // The files' names stay with the message, so the reader knows what it carried.
            let names: Vec<Value> = m
                .get("attachments")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|f| serde_json::json!({ "name": f.get("name"), "type": f.get("type"), "size": f.get("size") }))
                .collect();
            additional.insert("files_not_imported".to_string(), Value::Array(names));
        }
        let steps = m
            .get("steps")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|s| step(s, created))
            .collect();
        let parent = m
            .get("parent")
            .and_then(Value::as_i64)
            .and_then(|p| index.get(&p).copied());
        let metadata = object_text(m.get("metadata"));
        let status = text_of(m.get("status")).to_string();
        draft.messages.push(DraftMessage {
            parent,
            role: role.to_string(),
            content: text_of(m.get("content")).to_string(),
            content_type: text_of(m.get("content_type")).to_string(),
            delivered_at: (status == "delivered").then_some(created),
            status,
            is_edited: m.get("is_edited").and_then(Value::as_bool) == Some(true),
            edit_count: 0,
            created_at: created,
            updated_at: created,
            additional_data: Value::Object(additional).to_string(),
            metadata,
            steps,
        });
        index.insert(old_id, draft.messages.len() - 1);
    }
    draft.current_leaf = c
        .get("current_leaf")
        .and_then(Value::as_i64)
        .and_then(|leaf| index.get(&leaf).copied());
    Some(draft)
}

/// A tool call as ThiCode writes it (`StepOut`), to store again: a call still open in the file is interrupted.
pub(crate) fn step(s: &Value, fallback_time: i64) -> DraftStep {
    let status = text_of(s.get("status"));
    DraftStep {
        round: s.get("round").and_then(Value::as_i64).unwrap_or(0),
        call_id: text_of(s.get("call_id")).to_string(),
        tool: text_of(s.get("tool")).to_string(),
        arguments: match s.get("arguments") {
            Some(Value::String(text)) => text.clone(),
            Some(v) => v.to_string(),
            None => "{}".to_string(),
        },
        status: match status {
            "done" | "error" | "denied" | "expired" | "interrupted" => status.to_string(),
            _ => "interrupted".to_string(),
        },
        result: s.get("result").filter(|r| !r.is_null()).map(Value::to_string),
        error: s.get("error").and_then(Value::as_str).map(str::to_string),
        started_at: millis(s.get("started_at")).unwrap_or(fallback_time),
        duration_ms: s.get("duration_ms").and_then(Value::as_i64),
    }
}
