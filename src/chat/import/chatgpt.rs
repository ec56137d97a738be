//! ChatGPT's data export: `conversations.json`, a list of conversations, each a `mapping` of nodes (`id`, `parent`,
//! `children`, `message`) forming a tree — an edited prompt or a regenerated answer is a sibling — with
//! `current_node` the end of the branch on screen. A message has an `author.role` (`system`, `user`, `assistant`,
//! `tool`), a `recipient` (`all`, or the tool an assistant message calls), a `content` typed by `content_type`
//! (`text`, `multimodal_text` with image parts, `code`, `execution_output`, `thoughts`, …), `create_time` in seconds
//! and `metadata` (`model_slug`, `is_visually_hidden_from_conversation`, `attachments`).

use std::collections::HashMap;

use serde_json::Value;

use super::{Draft, DraftMessage, millis, tree};

/// Whether `value` is one conversation of a ChatGPT export.
pub(super) fn looks_like(value: &Value) -> bool {
    value.get("mapping").is_some_and(Value::is_object)
}

fn text_of(value: Option<&Value>) -> &str {
    value.and_then(Value::as_str).unwrap_or_default()
}

/// The conversation `value` as a draft (`None` when it is not one).
pub(super) fn draft(value: Value) -> Option<Draft> {
    let Value::Object(mut conversation) = value else {
        return None;
    };
    let Some(Value::Object(mapping)) = conversation.remove("mapping") else {
        return None;
    };
    let id = conversation
        .get("conversation_id")
        .or_else(|| conversation.get("id"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let created_at = millis(conversation.get("create_time")).unwrap_or(0);
    let mut draft = Draft {
        source: format!(
            "chatgpt:{}",
            id.unwrap_or_else(|| format!("{created_at}:{}", text_of(conversation.get("title"))))
        ),
        title: text_of(conversation.get("title")).to_string(),
        created_at,
        updated_at: millis(conversation.get("update_time")).unwrap_or(created_at),
        status: if conversation.get("is_archived").and_then(Value::as_bool) == Some(true) {
            "archived".to_string()
        } else {
            "active".to_string()
        },
        ..Default::default()
    };
    if draft.status == "archived" {
        draft.archived_at = Some(draft.updated_at);
    }
    if mapping.len() > super::MAX_NODES {
        draft.oversized = true;
        return Some(draft);
    }
    let mut nodes = Vec::with_capacity(mapping.len());
    let mut order = HashMap::new();
    for (key, node) in mapping {
        let id = node.get("id").and_then(Value::as_str).unwrap_or(&key).to_string();
        let parent = node.get("parent").and_then(Value::as_str).map(str::to_string);
        if let Some(children) = node.get("children").and_then(Value::as_array) {
            let kids: Vec<String> = children.iter().filter_map(Value::as_str).map(str::to_string).collect();
            order.insert(id.clone(), kids);
        }
        // The root of the tree carries no message (`null`).
        let message = node
            .get("message")
            .filter(|m| m.is_object())
            .and_then(|m| message(m, &mut draft));
        nodes.push((id, parent, message));
    }
    let (messages, placed) = tree(nodes, &order);
    draft.current_leaf = conversation
        .get("current_node")
        .and_then(Value::as_str)
        .and_then(|c| placed.get(c).copied());
    draft.messages = messages;
    Some(draft)
}

/// One message as ThiCode keeps it, or `None` for what is not shown as a message (hidden, empty, a tool's call or
/// output: counted in the draft's `not_carried`). A system message becomes the system prompt.
fn message(m: &Value, draft: &mut Draft) -> Option<DraftMessage> {
    let role = text_of(m.get("author").and_then(|a| a.get("role")));
    let content = m.get("content");
    let kind = text_of(content.and_then(|c| c.get("content_type")));
    let metadata = m.get("metadata");
    let hidden = metadata
        .and_then(|md| md.get("is_visually_hidden_from_conversation"))
        .and_then(Value::as_bool)
        == Some(true);
    let recipient = m.get("recipient").and_then(Value::as_str).unwrap_or("all");
    let mut images = 0;
    let mut other = 0;
    // The text parts, and a count of the rest.
    let text = match kind {
        "text" | "multimodal_text" => {
            let mut parts = Vec::new();
            for part in content
                .and_then(|c| c.get("parts"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                match part {
                    Value::String(s) => parts.push(s.clone()),
                    Value::Object(o) => match o.get("content_type").and_then(Value::as_str) {
                        Some("image_asset_pointer") => images += 1,
                        Some("audio_transcription") => parts.push(text_of(o.get("text")).to_string()),
                        _ => other += 1,
                    },
                    _ => {}
                }
            }
            parts.join("\n")
        }
        "code" => {
            let language = text_of(content.and_then(|c| c.get("language")));
            let language = if language == "unknown" { "" } else { language };
            format!("```{language}\n{}\n```", text_of(content.and_then(|c| c.get("text"))))
        }
        "tether_quote" => text_of(content.and_then(|c| c.get("text"))).to_string(),
        "user_editable_context" => {
            // Custom instructions: what the user told ChatGPT about themselves and their answers.
            let parts: Vec<&str> = ["user_profile", "user_instructions"]
                .iter()
                .map(|k| text_of(content.and_then(|c| c.get(*k))).trim())
                .filter(|t| !t.is_empty())
                .collect();
            if draft.system_prompt.is_empty() && !parts.is_empty() {
                draft.system_prompt = parts.join("\n\n");
            }
            return None;
        }
        "thoughts" | "reasoning_recap" => {
            if kind == "thoughts" {
                draft.not_carried.reasoning += 1;
            }
            return None;
        }
        _ => {
            // Tool output, browsing displays, errors…: counted with the call (a tool's message) or as other.
            if role != "tool" && !hidden {
                draft.not_carried.other += 1;
            }
            return None;
        }
    };
    let files = metadata
        .and_then(|md| md.get("attachments"))
        .and_then(Value::as_array)
        .map_or(0, |a| {
            a.iter()
                .filter(|f| !text_of(f.get("mime_type")).starts_with("image/"))
                .count() as u32
        });
    match role {
        "tool" => {
            // A tool's answer (DALL·E's pictures among them): the call was counted on the assistant's side.
            draft.not_carried.images += images;
            return None;
        }
        "system" => {
            if draft.system_prompt.is_empty() && !text.trim().is_empty() {
                draft.system_prompt = text.trim().to_string();
            }
            return None;
        }
        "assistant" if recipient != "all" => {
            draft.not_carried.tool_calls += 1;
            return None;
        }
        "user" | "assistant" => {}
        _ => {
            draft.not_carried.other += 1;
            return None;
        }
    }
    if hidden {
        return None;
    }
    draft.not_carried.images += images;
    draft.not_carried.files += files;
    draft.not_carried.other += other;
    let mut text = text.trim().to_string();
    if text.is_empty() {
        if images == 0 && files == 0 {
            return None;
        }
        // A picture or file sent alone: the message stays, saying what it was.
        text = format!("[{}]", if images > 0 { "image" } else { "file" });
    }
    let created_at = millis(m.get("create_time")).unwrap_or(0);
    let status = match text_of(m.get("status")) {
        "finished_successfully" | "" => "delivered",
        "in_progress" => "interrupted",
        _ => "stopped",
    };
    let model = text_of(metadata.and_then(|md| md.get("model_slug")));
    let meta = if role == "assistant" && !model.is_empty() {
        serde_json::json!({ "model": model }).to_string()
    } else {
        "{}".to_string()
    };
    Some(DraftMessage {
        role: role.to_string(),
        content: text,
        content_type: "text/markdown".to_string(),
        status: status.to_string(),
        created_at,
        updated_at: millis(m.get("update_time")).unwrap_or(created_at),
        additional_data: "{}".to_string(),
        metadata: meta,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::super::{Format, read};

    #[test]
    fn the_fixture_keeps_branches_roles_times_and_reports_what_it_drops() {
        let found = read(include_bytes!("../../../tests/fixtures/import/chatgpt.json"), 1 << 20).unwrap();
        assert_eq!(found.format, Format::ChatGpt);
        assert_eq!(found.conversations.len(), 2, "{:?}", found.left);
        let first = &found.conversations[0];
        assert_eq!(first.title, "Tea brewing");
        assert_eq!(first.created_at, 1_700_000_000_000);
        assert_eq!(first.source, "chatgpt:conv-tea-0001");
        assert_eq!(first.system_prompt, "I live in Lyon.\n\nAnswer briefly.");
        let roles: Vec<&str> = first.messages.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["user", "assistant", "assistant", "user", "assistant"]);
        // Two answers to the first question (a regeneration), then the edit below the second.
        assert_eq!(first.messages[1].parent, Some(0));
        assert_eq!(first.messages[2].parent, Some(0));
        assert_eq!(first.messages[3].parent, Some(2));
        assert_eq!(first.branches(), 2);
        assert_eq!(first.current_leaf, Some(4));
        assert_eq!(first.messages[4].content, "Searching…\n\nSteep green tea at 80 °C.");
        assert_eq!(first.not_carried.tool_calls, 1);
        assert_eq!(first.not_carried.images, 1);
        assert_eq!(
            (first.not_carried.other, first.not_carried.files),
            (0, 0),
            "the tree's root is no message"
        );
        assert!(first.messages[3].content.contains("this cup"));
        assert!(first.messages[1].metadata.contains("gpt-4o"));
        let second = &found.conversations[1];
        assert_eq!(second.status, "archived");
        assert_eq!(found.left.len(), 1);
    }
}
