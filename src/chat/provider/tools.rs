//! Function calling on the wire (issue #27): the tools offered to the model, the calls it makes, and the pieces a
//! stream carries them in. Providers send calls in two shapes, both handled everywhere: Mistral's own models send
//! each call whole in one delta (often without `index` or `type`); models relayed from elsewhere (and vLLM) send
//! OpenAI-style fragments by `index`, the id and name in the first only and `name: ""` after. Mistral requires
//! call ids of 9 letters or digits, so ids from elsewhere are rewritten ([`mistral_call_id`]).

use serde::{Deserialize, Serialize};

/// A tool offered to the model: `{"type": "function", "function": {name, description, parameters}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolSpec {
    /// Always `function`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The function.
    pub function: FunctionSpec,
}

/// A function's name (`^[a-zA-Z0-9_-]{1,64}$`), what it does, and its arguments' JSON Schema.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionSpec {
    /// Its name.
    pub name: String,
    /// What it does, for the model.
    pub description: String,
    /// Its arguments (a JSON Schema object; required by Mistral).
    pub parameters: serde_json::Value,
}

impl ToolSpec {
    /// The function `name`, described, with its arguments' schema.
    pub fn function(name: &str, description: &str, parameters: serde_json::Value) -> Self {
        Self {
            kind: "function",
            function: FunctionSpec {
                name: name.to_string(),
                description: description.to_string(),
                parameters,
            },
        }
    }
}

/// Whether `name` is a function name every provider takes.
pub fn valid_function_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A call the model made: its id, the function, and the arguments as the JSON text the model wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCall {
    /// Its id, answered by the tool message carrying its result.
    pub id: String,
    /// The function called.
    pub name: String,
    /// The arguments, a JSON text (not checked: the model may write anything).
    pub arguments: String,
}

impl ToolCall {
    /// `{"id", "type": "function", "function": {name, arguments}}`, as assistant messages carry calls.
    pub fn to_wire(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        })
    }
}

/// A piece of a call as one stream chunk carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCallDelta {
    /// Which call of the reply (the `index`, or the position in the chunk's list when absent).
    pub index: usize,
    /// The id, in the first piece.
    pub id: Option<String>,
    /// The name, in the first piece (later pieces send none or `""`).
    pub name: Option<String>,
    /// More of the arguments' text.
    pub arguments: String,
}

/// The calls of one reply, put together from their pieces.
#[derive(Debug, Clone, Default)]
pub struct ToolCalls {
    calls: Vec<(usize, Option<String>, String, String)>,
}

impl ToolCalls {
    /// Adds a piece: a new call, or more of one already started (an id or a name is never overwritten by an empty
    /// one).
    pub fn push(&mut self, delta: ToolCallDelta) {
        let at = match self.calls.iter().position(|(index, ..)| *index == delta.index) {
            Some(at) => at,
            None => {
                self.calls.push((delta.index, None, String::new(), String::new()));
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[at];
        if let Some(id) = delta.id.filter(|id| !id.is_empty()) {
            call.1.get_or_insert(id);
        }
        if let Some(name) = delta.name.filter(|name| !name.is_empty())
            && call.2.is_empty()
        {
            call.2 = name;
        }
        call.3.push_str(&delta.arguments);
    }

    /// Whether no call started.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// The calls in their order, each with a Mistral-valid id (the provider's when valid; made from it, or from the
    /// call's position in `round`, otherwise) and `{}` for empty arguments.
    pub fn finish(mut self, round: usize) -> Vec<ToolCall> {
        self.calls.sort_by_key(|(index, ..)| *index);
        self.calls
            .into_iter()
            .map(|(index, id, name, arguments)| ToolCall {
                id: mistral_call_id(id.as_deref().unwrap_or(""), round, index),
                name,
                arguments: if arguments.trim().is_empty() {
                    "{}".to_string()
                } else {
                    arguments
                },
            })
            .collect()
    }
}

/// A call id Mistral accepts (`^[a-zA-Z0-9]{9}$`): `id` itself when it is one, else 9 characters derived from it
/// (the same id always gives the same characters, so both sides of a call and its result agree), or from the call's
/// `round` and `index` when the provider gave none.
pub fn mistral_call_id(id: &str, round: usize, index: usize) -> String {
    if id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return id.to_string();
    }
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let seed = if id.is_empty() {
        format!("call:{round}:{index}")
    } else {
        id.to_string()
    };
    // FNV-1a, 64 bits: stable across versions and machines, unlike std's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in seed.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (0..9)
        .map(|i| {
            let digit = (hash.rotate_left(i * 7) ^ (hash >> (i * 3))) % ALPHABET.len() as u64;
            ALPHABET[digit as usize] as char
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delta(index: usize, id: Option<&str>, name: Option<&str>, arguments: &str) -> ToolCallDelta {
        ToolCallDelta {
            index,
            id: id.map(str::to_string),
            name: name.map(str::to_string),
            arguments: arguments.to_string(),
        }
    }

    #[test]
    fn fragments_by_index_make_whole_calls() {
        let mut calls = ToolCalls::default();
        calls.push(delta(
            0,
            Some("chatcmpl-tool-a17d"),
            Some("read"),
            "{\"path\": \"update",
        ));
        calls.push(delta(1, Some("b"), Some("search"), ""));
        calls.push(delta(0, None, Some(""), ".sh\"}"));
        calls.push(delta(1, Some(""), Some(""), "{\"q\": 1}"));
        let calls = calls.finish(0);
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].name, "read");
        assert_eq!(calls[0].arguments, "{\"path\": \"update.sh\"}");
        assert_eq!(calls[1].name, "search");
        assert_eq!(calls[1].arguments, "{\"q\": 1}");
        for call in &calls {
            assert!(
                call.id.len() == 9 && call.id.bytes().all(|b| b.is_ascii_alphanumeric()),
                "{}",
                call.id
            );
        }
        assert_ne!(calls[0].id, calls[1].id);
    }

    #[test]
    fn whole_calls_keep_their_ids_and_empty_arguments_become_an_object() {
        let mut calls = ToolCalls::default();
        calls.push(delta(0, Some("D681PevKs"), Some("weather"), "{\"city\": \"Paris\"}"));
        calls.push(delta(1, Some("gSIMJiOkT"), Some("time"), ""));
        let calls = calls.finish(3);
        assert_eq!(calls[0].id, "D681PevKs");
        assert_eq!(calls[1].id, "gSIMJiOkT");
        assert_eq!(calls[1].arguments, "{}");
    }

    #[test]
    fn foreign_ids_are_rewritten_the_same_way_each_time() {
        let a = mistral_call_id("call_abc123xyz", 0, 0);
        assert_eq!(a, mistral_call_id("call_abc123xyz", 5, 9), "the id alone decides");
        assert_eq!(a.len(), 9);
        assert_ne!(a, mistral_call_id("call_abc123xy", 0, 0));
        assert_ne!(mistral_call_id("", 0, 0), mistral_call_id("", 0, 1));
        assert_ne!(mistral_call_id("", 0, 0), mistral_call_id("", 1, 0));
        assert_eq!(mistral_call_id("ABCdef123", 0, 0), "ABCdef123");
    }

    #[test]
    fn function_names_follow_the_providers_rule() {
        assert!(valid_function_name("web_search"));
        assert!(valid_function_name("weather-get_forecast2"));
        assert!(!valid_function_name(""));
        assert!(!valid_function_name("weather.get_forecast"));
        assert!(!valid_function_name(&"x".repeat(65)));
    }
}
