//! An OpenAI chat-completions body read into the request ThiCode sends upstream. OpenAI's clients send more than
//! Mistral takes (whose schema refuses any unknown key): each field is either carried under the name Mistral uses,
//! or dropped when it only matters to OpenAI (`stream_options`, `store`, `user`, `metadata`, `logprobs`, `name` on
//! messages, `reasoning_content` …). Clients of Mistral's own SDKs send its names (`random_seed`, `safe_prompt`,
//! `tool_choice: "any"`); those are taken too. What cannot be honoured (several choices, audio, files) is a 400 naming the field.

use serde_json::{Map, Value, json};

use crate::chat::provider::{ChatRequest, ToolCall, ToolSpec, WireMessage, mistral_call_id, valid_function_name};

use super::OpenAiError;

/// A chat-completions request, read.
#[derive(Debug)]
pub struct Completion {
    /// What goes upstream (always streamed there).
    pub request: ChatRequest,
    /// Whether the client asked for Server-Sent Events.
    pub stream: bool,
    /// `stream_options.include_usage`: a last chunk with the usage and no choice.
    pub include_usage: bool,
    /// Whether to keep the exchange as a conversation (`metadata.thicode_save`, or the `X-ThiCode-Save` header).
    pub save: bool,
    /// How many images the messages carry.
    pub images: usize,
}

/// Most images in one request (Mistral's limit).
pub const MAX_IMAGES: usize = 8;

fn bad(param: impl Into<String>, message: impl Into<String>) -> OpenAiError {
    OpenAiError::invalid(Some(param.into()), message.into())
}

/// Whether a JSON value means yes (`true`, `1`, or a text [`truthy_text`] reads as yes).
pub fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_i64() == Some(1),
        Value::String(s) => truthy_text(s),
        _ => false,
    }
}

/// Whether a text means yes (`true`, `1`, `yes`, `on`, in any case).
pub fn truthy_text(text: &str) -> bool {
    matches!(text.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on")
}

/// Reads `body` (a JSON object) into a [`Completion`]. Images given by address (not inline as `data:` URLs) are taken
/// only when `remote_images` (the provider is Mistral's hosted API): a server the operator runs would fetch them from
/// inside the operator's network.
pub fn completion(body: &Value, remote_images: bool) -> Result<Completion, OpenAiError> {
    let Some(map) = body.as_object() else {
        return Err(OpenAiError::invalid(
            None,
            "The body must be a JSON object with `model` and `messages`.".into(),
        ));
    };
    let model = match map.get("model") {
        Some(Value::String(m)) if !m.trim().is_empty() => m.trim().to_string(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(bad("model", "You must provide a model parameter."));
        }
        Some(_) => return Err(bad("model", "`model` must be a string.")),
    };
    let Some(list) = map.get("messages").and_then(Value::as_array) else {
        return Err(bad("messages", "`messages` must be a list of messages."));
    };
    if list.is_empty() {
        return Err(bad("messages", "`messages` must hold at least one message."));
    }
    let mut messages = Vec::with_capacity(list.len());
    // Each call of the history: the client's id, the function, and the id sent upstream (for the tool messages that
    // answer it, which need its name and must carry the same id).
    let mut called: Vec<Call> = Vec::new();
    let mut images = 0;
    for (i, message) in list.iter().enumerate() {
        let wire = message_of(i, message, &mut called, remote_images)?;
        images += wire.images.len();
        messages.push(wire);
    }
    if images > MAX_IMAGES {
        return Err(bad(
            "messages",
            format!("At most {MAX_IMAGES} images may be sent in one request; this one has {images}."),
        ));
    }
    let mut request = ChatRequest::new(model, messages);
    let mut options = Map::new();
    // OpenAI takes temperatures up to 2, Mistral up to 1.5: the hottest Mistral has.
    if let Some(t) = number(map, "temperature", 0.0, 2.0)? {
        options.insert("temperature".into(), json!(t.min(1.5)));
    }
    if let Some(p) = number(map, "top_p", 0.0, 1.0)? {
        options.insert("top_p".into(), json!(p));
    }
    for key in ["presence_penalty", "frequency_penalty"] {
        if let Some(p) = number(map, key, -2.0, 2.0)? {
            options.insert(key.into(), json!(p));
        }
    }
    // `max_completion_tokens` is OpenAI's newer name; Mistral knows only `max_tokens`.
    for key in ["max_tokens", "max_completion_tokens"] {
        match map.get(key) {
            None | Some(Value::Null) => {}
            Some(v) => match v.as_u64().filter(|n| *n >= 1) {
                Some(n) => request.max_tokens = Some(u32::try_from(n).unwrap_or(u32::MAX)),
                None => return Err(bad(key, format!("`{key}` must be a whole number of at least 1."))),
            },
        }
    }
    if let Some(stop) = map.get("stop").filter(|v| !v.is_null()) {
        let valid = match stop {
            Value::String(_) => true,
            Value::Array(items) => items.len() <= 4 && items.iter().all(Value::is_string),
            _ => false,
        };
        if !valid {
            return Err(bad("stop", "`stop` must be a string or a list of at most 4 strings."));
        }
        options.insert("stop".into(), stop.clone());
    }
    // `seed` (OpenAI) or `random_seed` (what Mistral's own SDKs send).
    for key in ["seed", "random_seed"] {
        if let Some(seed) = map.get(key).filter(|v| !v.is_null()) {
            let Some(seed) = seed.as_u64() else {
                return Err(bad(key, format!("`{key}` must be a whole number of at least 0.")));
            };
            options.insert("random_seed".into(), json!(seed));
        }
    }
    if let Some(value) = map.get("safe_prompt").filter(|v| !v.is_null()) {
        let Some(b) = value.as_bool() else {
            return Err(bad("safe_prompt", "`safe_prompt` must be true or false."));
        };
        options.insert("safe_prompt".into(), json!(b));
    }
    if let Some(format) = map.get("response_format").filter(|v| !v.is_null()) {
        options.insert("response_format".into(), response_format(format)?);
    }
    match map.get("n") {
        None | Some(Value::Null) => {}
        Some(n) if n.as_u64() == Some(1) => {}
        Some(_) => return Err(bad("n", "Only one choice (`n`: 1) is supported.")),
    }
    if let Some(value) = map.get("parallel_tool_calls").filter(|v| !v.is_null()) {
        let Some(b) = value.as_bool() else {
            return Err(bad(
                "parallel_tool_calls",
                "`parallel_tool_calls` must be true or false.",
            ));
        };
        options.insert("parallel_tool_calls".into(), json!(b));
    }
    let tools = tools(map.get("tools"))?;
    if let Some(choice) = map.get("tool_choice").filter(|v| !v.is_null()) {
        options.insert("tool_choice".into(), tool_choice(choice, &tools)?);
    }
    request.tools = tools;
    request.options = options;
    for key in ["audio", "modalities"] {
        if map.get(key).is_some_and(|v| !v.is_null() && v != &json!(["text"])) {
            return Err(bad(key, format!("`{key}`: only text replies are supported.")));
        }
    }
    let stream = match map.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(bad("stream", "`stream` must be true or false.")),
    };
    let include_usage = stream
        && map
            .get("stream_options")
            .and_then(|o| o.get("include_usage"))
            .is_some_and(truthy);
    let save = map
        .get("metadata")
        .and_then(|m| m.get("thicode_save"))
        .is_some_and(truthy);
    Ok(Completion {
        request,
        stream,
        include_usage,
        save,
        images,
    })
}

/// A number field within `[min, max]`, if given.
fn number(map: &Map<String, Value>, key: &str, min: f64, max: f64) -> Result<Option<f64>, OpenAiError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_f64().filter(|n| (min..=max).contains(n)) {
            Some(n) => Ok(Some(n)),
            None => Err(bad(key, format!("`{key}` must be a number from {min} to {max}."))),
        },
    }
}

/// `response_format`: `text`, `json_object`, or `json_schema` with its `name`, `schema`, `strict`, `description`.
fn response_format(format: &Value) -> Result<Value, OpenAiError> {
    let kind = format.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "text" | "json_object" => Ok(json!({ "type": kind })),
        "json_schema" => {
            let Some(schema) = format.get("json_schema").and_then(Value::as_object) else {
                return Err(bad(
                    "response_format.json_schema",
                    "`response_format.json_schema` must be an object with `name` and `schema`.",
                ));
            };
            let mut out = Map::new();
            for key in ["name", "description", "schema", "strict"] {
                if let Some(v) = schema.get(key).filter(|v| !v.is_null()) {
                    out.insert(key.into(), v.clone());
                }
            }
            if !out.get("name").is_some_and(Value::is_string) {
                return Err(bad(
                    "response_format.json_schema.name",
                    "The JSON schema needs a `name`.",
                ));
            }
            Ok(json!({ "type": "json_schema", "json_schema": out }))
        }
        _ => Err(bad(
            "response_format.type",
            "`response_format.type` must be `text`, `json_object` or `json_schema`.",
        )),
    }
}

/// `tools`: functions only, each cut to its name, description and parameters (an empty object schema when none).
fn tools(value: Option<&Value>) -> Result<Vec<ToolSpec>, OpenAiError> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(Vec::new());
    };
    let Some(list) = value.as_array() else {
        return Err(bad("tools", "`tools` must be a list of functions."));
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, tool) in list.iter().enumerate() {
        if tool.get("type").and_then(Value::as_str).unwrap_or("function") != "function" {
            return Err(bad(
                format!("tools[{i}].type"),
                "Only tools of type `function` are supported.",
            ));
        }
        let Some(function) = tool.get("function").and_then(Value::as_object) else {
            return Err(bad(format!("tools[{i}].function"), "A tool needs a `function` object."));
        };
        let name = function.get("name").and_then(Value::as_str).unwrap_or_default();
        if !valid_function_name(name) {
            return Err(bad(
                format!("tools[{i}].function.name"),
                "A function's name must be 1 to 64 letters, digits, underscores or dashes.",
            ));
        }
        if out.iter().any(|t: &ToolSpec| t.function.name == name) {
            return Err(bad(
                format!("tools[{i}].function.name"),
                format!("Two tools are named `{name}`."),
            ));
        }
        let parameters = match function.get("parameters") {
            None | Some(Value::Null) => json!({"type": "object", "properties": {}}),
            Some(p @ Value::Object(_)) => p.clone(),
            Some(_) => {
                return Err(bad(
                    format!("tools[{i}].function.parameters"),
                    "`parameters` must be a JSON Schema object.",
                ));
            }
        };
        let description = function.get("description").and_then(Value::as_str).unwrap_or_default();
        out.push(ToolSpec::function(name, description, parameters));
    }
    Ok(out)
}

/// `tool_choice`: `none`, `auto`, `required`, or one of the declared functions by name.
fn tool_choice(choice: &Value, tools: &[ToolSpec]) -> Result<Value, OpenAiError> {
    match choice {
        Value::String(s) if matches!(s.as_str(), "none" | "auto" | "required") => Ok(choice.clone()),
        // Mistral's own name for `required` (which every server takes).
        Value::String(s) if s == "any" => Ok(json!("required")),
        Value::Object(_) => {
            let name = choice
                .get("function")
                .and_then(|f| f.get("name"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !tools.iter().any(|t| t.function.name == name) {
                return Err(bad(
                    "tool_choice",
                    format!("`tool_choice` names `{name}`, which is not one of the `tools`."),
                ));
            }
            Ok(json!({"type": "function", "function": {"name": name}}))
        }
        _ => Err(bad(
            "tool_choice",
            "`tool_choice` must be `none`, `auto`, `required` or {\"type\": \"function\", \"function\": {\"name\": …}}.",
        )),
    }
}

/// A call made in the history.
struct Call {
    /// The client's id.
    id: String,
    /// The function.
    name: String,
    /// The id Mistral gets: 9 letters or digits, different for every call of the request (clients reuse ids such
    /// as `call_0` from one turn to the next; newer Mistral models refuse a repeated id).
    wire_id: String,
}

/// One message: its role (`developer` read as `system`), its text and images, its calls or the call it answers.
fn message_of(
    i: usize,
    message: &Value,
    called: &mut Vec<Call>,
    remote_images: bool,
) -> Result<WireMessage, OpenAiError> {
    let Some(map) = message.as_object() else {
        return Err(bad(
            format!("messages[{i}]"),
            "A message must be an object with `role` and `content`.",
        ));
    };
    let role = match map.get("role").and_then(Value::as_str) {
        Some("developer" | "system") => "system",
        Some(role @ ("user" | "assistant" | "tool")) => role,
        Some("function") => {
            return Err(bad(
                format!("messages[{i}].role"),
                "The `function` role is not supported: use `tool` messages.",
            ));
        }
        _ => {
            return Err(bad(
                format!("messages[{i}].role"),
                "`role` must be `system`, `developer`, `user`, `assistant` or `tool`.",
            ));
        }
    };
    let (content, images) = content_of(i, role, map.get("content"), remote_images)?;
    let mut wire = WireMessage {
        role: role.to_string(),
        content,
        images,
        ..WireMessage::default()
    };
    match role {
        "assistant" => {
            if let Some(calls) = map.get("tool_calls").filter(|v| !v.is_null()) {
                let Some(calls) = calls.as_array() else {
                    return Err(bad(format!("messages[{i}].tool_calls"), "`tool_calls` must be a list."));
                };
                for (j, call) in calls.iter().enumerate() {
                    let id = call.get("id").and_then(Value::as_str).unwrap_or_default();
                    let function = call.get("function");
                    let name = function
                        .and_then(|f| f.get("name"))
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    if id.is_empty() || name.is_empty() {
                        return Err(bad(
                            format!("messages[{i}].tool_calls[{j}]"),
                            "A tool call needs an `id` and a `function.name`.",
                        ));
                    }
                    let arguments = match function.and_then(|f| f.get("arguments")) {
                        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
                        None | Some(Value::Null | Value::String(_)) => "{}".to_string(),
                        Some(other) => other.to_string(),
                    };
                    let mut wire_id = mistral_call_id(id, i, j);
                    if called.iter().any(|c| c.wire_id == wire_id) {
                        wire_id = mistral_call_id(&format!("{id}#{i}.{j}"), i, j);
                    }
                    called.push(Call {
                        id: id.to_string(),
                        name: name.to_string(),
                        wire_id: wire_id.clone(),
                    });
                    wire.tool_calls.push(ToolCall {
                        id: wire_id,
                        name: name.to_string(),
                        arguments,
                    });
                }
            }
            if wire.content.is_empty() && wire.tool_calls.is_empty() {
                return Err(bad(
                    format!("messages[{i}].content"),
                    "An assistant message needs `content` or `tool_calls`.",
                ));
            }
        }
        "tool" => {
            let Some(id) = map
                .get("tool_call_id")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty())
            else {
                return Err(bad(
                    format!("messages[{i}].tool_call_id"),
                    "A tool message needs `tool_call_id`.",
                ));
            };
            let Some(call) = called.iter().rev().find(|call| call.id == id) else {
                return Err(bad(
                    format!("messages[{i}].tool_call_id"),
                    format!("`{id}` answers no tool call of an earlier assistant message."),
                ));
            };
            wire.tool_call = Some((call.wire_id.clone(), call.name.clone()));
        }
        _ => {}
    }
    Ok(wire)
}

/// A message's `content`: a string, or a list of `text` and `image_url` parts (images for user messages only).
fn content_of(
    i: usize,
    role: &str,
    content: Option<&Value>,
    remote_images: bool,
) -> Result<(String, Vec<String>), OpenAiError> {
    let parts = match content {
        None | Some(Value::Null) => return Ok((String::new(), Vec::new())),
        Some(Value::String(s)) => return Ok((s.clone(), Vec::new())),
        Some(Value::Array(parts)) => parts,
        Some(_) => {
            return Err(bad(
                format!("messages[{i}].content"),
                "`content` must be a string or a list of content parts.",
            ));
        }
    };
    let (mut text, mut images) = (String::new(), Vec::new());
    for (j, part) in parts.iter().enumerate() {
        let param = || format!("messages[{i}].content[{j}]");
        match part.get("type").and_then(Value::as_str) {
            // An assistant's refusal read back as its text.
            Some(kind @ ("text" | "refusal")) => {
                let Some(t) = part.get(kind).and_then(Value::as_str) else {
                    return Err(bad(param(), format!("A `{kind}` part needs its `{kind}`.")));
                };
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(t);
            }
            Some("image_url") => {
                if role != "user" {
                    return Err(bad(param(), "Only user messages may carry images."));
                }
                let url = match part.get("image_url") {
                    Some(Value::String(url)) => url.as_str(),
                    Some(object) => object.get("url").and_then(Value::as_str).unwrap_or_default(),
                    None => "",
                };
                if !image_url_ok(url, remote_images) {
                    let message = if remote_images {
                        "An image must be an https URL or a base64 `data:` URL of a PNG, JPEG, WebP or GIF."
                    } else {
                        "An image must be a base64 `data:` URL of a PNG, JPEG, WebP or GIF (this instance does not \
                         pass image addresses to its provider)."
                    };
                    return Err(bad(format!("{}.image_url.url", param()), message));
                }
                images.push(url.to_string());
            }
            Some(other) => {
                return Err(bad(
                    format!("{}.type", param()),
                    format!("Content parts of type `{other}` are not supported: send `text` or `image_url`."),
                ));
            }
            None => return Err(bad(format!("{}.type", param()), "A content part needs a `type`.")),
        }
    }
    Ok((text, images))
}

/// Whether `url` is an image the provider can read: a base64 data URL of a common type, or (when `remote`) an https
/// address.
fn image_url_ok(url: &str, remote: bool) -> bool {
    if let Some(rest) = url.strip_prefix("data:") {
        let Some((kind, data)) = rest.split_once(";base64,") else {
            return false;
        };
        return matches!(kind, "image/png" | "image/jpeg" | "image/webp" | "image/gif") && !data.is_empty();
    }
    remote && url.starts_with("https://") && url.len() > 8 && !url.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(body: Value) -> Value {
        serde_json::to_value(completion(&body, false).unwrap().request).unwrap()
    }

    #[test]
    fn openai_fields_become_mistral_fields_and_the_rest_is_dropped() {
        let out = wire(json!({
            "model": "mistral-small-latest",
            "messages": [
                {"role": "developer", "content": "Be brief."},
                {"role": "user", "name": "ada", "content": [{"type": "text", "text": "Hi"}]},
            ],
            "max_completion_tokens": 50, "seed": 7, "temperature": 1.9, "stream": true,
            "stream_options": {"include_usage": true}, "store": true, "user": "u1", "logprobs": false,
            "metadata": {"thicode_save": "true"}, "n": 1, "service_tier": "auto",
        }));
        assert_eq!(
            out,
            json!({
                "model": "mistral-small-latest",
                "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
                "stream": true, "max_tokens": 50, "random_seed": 7, "temperature": 1.5,
            })
        );
    }

    #[test]
    fn a_tool_round_trip_keeps_names_and_makes_ids_mistral_takes() {
        let body = json!({
            "model": "m",
            "messages": [
                {"role": "user", "content": "Weather?"},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_abc123XYZ", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "call_abc123XYZ", "content": "{\"c\":21}"},
            ],
            "tools": [{"type": "function", "function": {"name": "weather", "strict": true}}],
            "tool_choice": {"type": "function", "function": {"name": "weather"}},
        });
        let out = wire(body);
        let call_id = out["messages"][1]["tool_calls"][0]["id"].as_str().unwrap().to_string();
        assert_eq!(call_id.len(), 9);
        assert_eq!(out["messages"][2]["tool_call_id"], call_id.as_str());
        assert_eq!(out["messages"][2]["name"], "weather");
        assert_eq!(out["messages"][1]["content"], Value::Null);
        assert_eq!(
            out["tools"][0],
            json!({"type": "function", "function": {"name": "weather", "description": "",
                   "parameters": {"type": "object", "properties": {}}}})
        );
        assert_eq!(out["tool_choice"]["function"]["name"], "weather");
    }

    #[test]
    fn an_id_reused_from_turn_to_turn_goes_up_as_two_ids_each_answered() {
        let call = |args: &str| {
            json!({"role": "assistant", "content": "", "tool_calls": [
            {"id": "call_0", "type": "function", "function": {"name": "f", "arguments": args}}]})
        };
        let result = |text: &str| json!({"role": "tool", "tool_call_id": "call_0", "content": text});
        let out = wire(json!({"model": "m", "messages": [
            {"role": "user", "content": "go"}, call(""), result("one"), call("{}"), result("two")]}));
        let (first, second) = (
            &out["messages"][1]["tool_calls"][0],
            &out["messages"][3]["tool_calls"][0],
        );
        assert_ne!(first["id"], second["id"]);
        assert_eq!(out["messages"][2]["tool_call_id"], first["id"]);
        assert_eq!(out["messages"][4]["tool_call_id"], second["id"]);
        // Empty arguments are an empty object.
        assert_eq!(first["function"]["arguments"], "{}");
    }

    #[test]
    fn bad_input_names_its_field() {
        let param = |body: Value| completion(&body, true).unwrap_err().param;
        let user = json!([{"role": "user", "content": "x"}]);
        assert_eq!(param(json!({"messages": user})), Some("model".into()));
        assert_eq!(param(json!({"model": "m", "messages": []})), Some("messages".into()));
        assert_eq!(
            param(json!({"model": "m", "messages": user, "temperature": "hot"})),
            Some("temperature".into())
        );
        assert_eq!(param(json!({"model": "m", "messages": user, "n": 2})), Some("n".into()));
        assert_eq!(
            param(json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "input_audio"}]}]})),
            Some("messages[0].content[0].type".into())
        );
        assert_eq!(
            param(json!({"model": "m", "messages": [{"role": "tool", "tool_call_id": "x", "content": "1"}]})),
            Some("messages[0].tool_call_id".into())
        );
        assert_eq!(
            param(
                json!({"model": "m", "messages": user, "tools": [{"type": "function", "function": {"name": "a b"}}]})
            ),
            Some("tools[0].function.name".into())
        );
        assert_eq!(
            param(json!({"model": "m", "messages": [{"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}]}]})),
            Some("messages[0].content[0].image_url.url".into())
        );
        // An address goes to Mistral's hosted API only, never to a server inside the operator's network.
        let remote = json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "image_url", "image_url": "https://example.com/cat.png"}]}]});
        assert!(completion(&remote, true).is_ok());
        assert_eq!(
            completion(&remote, false).unwrap_err().param,
            Some("messages[0].content[0].image_url.url".into())
        );
    }

    #[test]
    fn every_option_set_is_one_mistral_takes() {
        let full = completion(
            &json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": 1, "top_p": 0.5,
                "stop": "x", "seed": 1, "response_format": {"type": "json_object"}, "presence_penalty": 0.1,
                "frequency_penalty": 0.1, "parallel_tool_calls": false, "safe_prompt": false,
                "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "auto"}),
            false,
        )
        .unwrap();
        assert_eq!(full.request.options.len(), crate::chat::provider::OPTION_KEYS.len());
        for key in full.request.options.keys() {
            assert!(crate::chat::provider::OPTION_KEYS.contains(&key.as_str()), "{key}");
        }
    }

    #[test]
    fn mistrals_own_names_are_taken_too() {
        let out = wire(
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "random_seed": 4,
            "safe_prompt": true, "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "any"}),
        );
        assert_eq!((&out["random_seed"], &out["safe_prompt"]), (&json!(4), &json!(true)));
        assert_eq!(out["tool_choice"], "required");
    }

    #[test]
    fn images_become_image_parts() {
        let out = wire(json!({"model": "m", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "What is it?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}}]}]}));
        assert_eq!(
            out["messages"][0]["content"],
            json!([{"type": "text", "text": "What is it?"},
                   {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}])
        );
    }
}
