//! Import (issue #29): a file exported by ChatGPT (`conversations.json`, or the ZIP archive it comes in), by Open
//! WebUI (its JSON export) or by ThiCode itself (the account export, the conversations export, one conversation) read
//! into [`Draft`]s: conversations as ThiCode stores them, each message tree kept whole (edits and regenerations stay
//! branches). What a draft cannot carry — images, other files, another app's tool calls and reasoning — is counted in
//! [`NotCarried`] for the report, never dropped silently. Reading is pure (no database): the service decides what is
//! new and stores it.

mod chatgpt;
mod openwebui;
mod thicode;

pub(crate) use thicode::step as step_of_export;

use serde_json::Value;

pub use crate::chat::types::NotCarried;

/// Most conversations one file may bring.
pub const MAX_CONVERSATIONS: usize = 10_000;
/// Most messages one imported conversation may hold (a longer one is reported and left out).
pub const MAX_MESSAGES: usize = 10_000;
/// Most nodes of a conversation's tree read (hidden messages and tool calls included): beyond, it is left out
/// without its tree being built.
pub const MAX_NODES: usize = 4 * MAX_MESSAGES;
/// Longest message text kept, in characters; a longer one is cut there (and said so in its `additional_data`).
pub const MAX_CONTENT_CHARS: usize = 200_000;

/// Which application wrote the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// ChatGPT's data export (`conversations.json`).
    ChatGpt,
    /// Open WebUI's chat export.
    OpenWebUi,
    /// ThiCode's own exports.
    ThiCode,
}

impl Format {
    /// The name the API and the report use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ChatGpt => "chatgpt",
            Self::OpenWebUi => "openwebui",
            Self::ThiCode => "thicode",
        }
    }
}

/// A conversation read from a file, as it will be stored.
#[derive(Debug, Clone, Default)]
pub struct Draft {
    /// What makes it the same conversation when the file is imported again (`additional_data.import_source`).
    pub source: String,
    /// For a ThiCode export: the id and creation time it had, so the account it came from sees it is already there.
    pub original: Option<(i64, i64)>,
    /// Title (≤ 255 characters).
    pub title: String,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
    /// `active` or `archived`.
    pub status: String,
    /// Epoch ms of archiving.
    pub archived_at: Option<i64>,
    /// Shown first.
    pub is_pinned: bool,
    /// At most 20, each ≤ 50 characters.
    pub tags: Vec<String>,
    /// ≤ 50 characters.
    pub category: String,
    /// Summary text.
    pub summary: String,
    /// Model for new replies ('' = the user's preferred: another app's model names mean nothing here).
    pub model: String,
    /// System prompt.
    pub system_prompt: String,
    /// The tools its replies may call, when the file chose them.
    pub tools: Option<Vec<String>>,
    /// JSON object kept as the file had it (ThiCode), without `import_source`.
    pub additional_data: serde_json::Map<String, Value>,
    /// Every message of every branch, each after its parent.
    pub messages: Vec<DraftMessage>,
    /// The last message of the branch on screen (an index into `messages`).
    pub current_leaf: Option<usize>,
    /// What the file had that is not carried.
    pub not_carried: NotCarried,
    /// More nodes than any conversation kept could have: left out before its tree is built.
    pub oversized: bool,
}

/// A message of a [`Draft`].
#[derive(Debug, Clone, Default)]
pub struct DraftMessage {
    /// The message it follows (an index into the draft's messages, always smaller than its own).
    pub parent: Option<usize>,
    /// `user`, `assistant` or `system`.
    pub role: String,
    /// Its text.
    pub content: String,
    /// MIME type of the text.
    pub content_type: String,
    /// `delivered`, `stopped`, `interrupted` or `error`.
    pub status: String,
    /// Written by editing an earlier message.
    pub is_edited: bool,
    /// How many edits led to it.
    pub edit_count: i64,
    /// Epoch ms.
    pub created_at: i64,
    /// Epoch ms.
    pub updated_at: i64,
    /// Epoch ms.
    pub delivered_at: Option<i64>,
    /// JSON object.
    pub additional_data: String,
    /// JSON object: model, tokens, finish reason…
    pub metadata: String,
    /// ThiCode's own tool calls of a reply, in order.
    pub steps: Vec<DraftStep>,
}

/// A tool call of an imported ThiCode reply.
#[derive(Debug, Clone, Default)]
pub struct DraftStep {
    /// The round of calls (0 first).
    pub round: i64,
    /// The call's id.
    pub call_id: String,
    /// The tool.
    pub tool: String,
    /// The arguments (JSON text).
    pub arguments: String,
    /// `done`, `error`, `denied`, `expired` or `interrupted` (a call still open in the file is interrupted).
    pub status: String,
    /// The result (JSON text).
    pub result: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Epoch ms.
    pub started_at: i64,
    /// How long it ran.
    pub duration_ms: Option<i64>,
}

impl Draft {
    /// How many branches its tree has (its leaves).
    pub fn branches(&self) -> usize {
        let mut has_child = vec![false; self.messages.len()];
        for m in &self.messages {
            if let Some(p) = m.parent {
                has_child[p] = true;
            }
        }
        has_child.iter().filter(|c| !**c).count()
    }

    /// The leaf shown when the file names none: the newest leaf (the last one written on a tie).
    fn newest_leaf(&self) -> Option<usize> {
        let mut has_child = vec![false; self.messages.len()];
        for m in &self.messages {
            if let Some(p) = m.parent {
                has_child[p] = true;
            }
        }
        (0..self.messages.len())
            .filter(|i| !has_child[*i])
            .max_by_key(|i| (self.messages[*i].created_at, *i))
    }

    /// Brings a draft within what the database holds: the title, tags and category cut to their lengths, a leaf
    /// chosen, times that never go backwards from the conversation's creation.
    fn finish(mut self) -> Self {
        // PostgreSQL keeps no NUL in text.
        for text in [
            &mut self.title,
            &mut self.summary,
            &mut self.category,
            &mut self.system_prompt,
        ] {
            if text.contains('\0') {
                *text = text.replace('\0', "");
            }
        }
        self.tags.iter_mut().for_each(|t| *t = t.replace('\0', ""));
        // A time to come is no time the conversation had: the present at most (the rate limits count from it).
        let now = crate::core::db::now_millis();
        self.created_at = self.created_at.min(now);
        self.updated_at = self.updated_at.min(now);
        self.archived_at = self.archived_at.map(|t| t.min(now));
        for m in &mut self.messages {
            m.created_at = m.created_at.min(now);
            m.updated_at = m.updated_at.min(now);
            m.delivered_at = m.delivered_at.map(|t| t.min(now));
            if m.content.contains('\0') {
                m.content = m.content.replace('\0', "");
            }
            if m.content.len() > MAX_CONTENT_CHARS {
                let chars = m.content.chars().count();
                if chars > MAX_CONTENT_CHARS {
                    m.content = m.content.chars().take(MAX_CONTENT_CHARS).collect();
                    let mut data: serde_json::Map<String, Value> =
                        serde_json::from_str(&m.additional_data).unwrap_or_default();
                    data.insert("cut_on_import_from_chars".to_string(), Value::from(chars));
                    m.additional_data = Value::Object(data).to_string();
                    self.not_carried.other += 1;
                }
            }
            // The content types a message may declare, as a send takes them.
            m.content_type = crate::chat::service::content_type_of(Some(&m.content_type))
                .unwrap_or("text/markdown")
                .to_string();
        }
        let title = self.title.trim();
        self.title = title.chars().take(crate::chat::types::MAX_TITLE_CHARS).collect();
        self.category = self.category.chars().take(50).collect();
        self.tags = self
            .tags
            .iter()
            .map(|t| {
                t.trim()
                    .chars()
                    .take(crate::chat::types::MAX_TAG_CHARS)
                    .collect::<String>()
            })
            .filter(|t| !t.is_empty())
            .take(crate::chat::types::MAX_TAGS)
            .collect();
        if self.status != "archived" {
            self.status = "active".to_string();
            self.archived_at = None;
        }
        if self.current_leaf.is_none_or(|i| i >= self.messages.len()) {
            self.current_leaf = self.newest_leaf();
        }
        if self.created_at <= 0 {
            self.created_at = self
                .messages
                .iter()
                .map(|m| m.created_at)
                .filter(|t| *t > 0)
                .min()
                .unwrap_or(0);
        }
        for m in &mut self.messages {
            if m.created_at <= 0 {
                m.created_at = self.created_at;
            }
            if m.updated_at < m.created_at {
                m.updated_at = m.created_at;
            }
            if m.content_type.is_empty() {
                m.content_type = "text/markdown".to_string();
            }
            if !matches!(m.status.as_str(), "delivered" | "stopped" | "interrupted" | "error") {
                // A reply being written when the file was made did not finish there.
                m.status = if m.status == "pending" || m.status == "streaming" {
                    "interrupted".to_string()
                } else {
                    "delivered".to_string()
                };
            }
            if m.delivered_at.is_none() && m.status == "delivered" {
                m.delivered_at = Some(m.created_at);
            }
        }
        let newest = self
            .messages
            .iter()
            .map(|m| m.created_at)
            .max()
            .unwrap_or(self.created_at);
        self.updated_at = self.updated_at.max(self.created_at).max(newest);
        self
    }
}

/// A conversation of the file that is not imported, and why.
#[derive(Debug, Clone)]
pub struct Left {
    /// Its title as the file has it.
    pub title: String,
    /// Why.
    pub reason: LeftReason,
}

/// Why a conversation of the file is not imported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftReason {
    /// It holds no message that can be carried.
    Empty,
    /// More than [`MAX_MESSAGES`] messages.
    TooLong,
}

/// What a file holds.
#[derive(Debug, Clone)]
pub struct Found {
    /// Who wrote it.
    pub format: Format,
    /// The conversations that can be imported, in the file's order.
    pub conversations: Vec<Draft>,
    /// Those that cannot.
    pub left: Vec<Left>,
}

/// Why a file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// Not JSON (nor a ZIP archive holding it).
    NotJson,
    /// JSON, but not an export of ChatGPT, Open WebUI or ThiCode.
    Unknown,
    /// More than [`MAX_CONVERSATIONS`] conversations.
    TooMany(usize),
    /// A ZIP archive without an export in it, or one too large once unpacked.
    Archive,
}

/// Reads `bytes` (JSON, or a ZIP archive with the JSON in it) unpacking at most `max_bytes`.
pub fn read(bytes: &[u8], max_bytes: u64) -> Result<Found, ReadError> {
    if bytes.starts_with(b"PK\x03\x04") {
        let json = unzip(bytes, max_bytes)?;
        return read_json(&json);
    }
    read_json(bytes)
}

/// The export inside a ZIP archive: ChatGPT's `conversations.json`, else the one JSON file at its top (ThiCode's
/// archive), read up to `max_bytes`.
fn unzip(bytes: &[u8], max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| ReadError::Archive)?;
    let names: Vec<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .map(|n| n.to_string())
        .collect();
    let name = names
        .iter()
        .find(|n| *n == "conversations.json" || n.ends_with("/conversations.json"))
        .or_else(|| names.iter().find(|n| !n.contains('/') && n.ends_with(".json")))
        .ok_or(ReadError::Archive)?
        .clone();
    let entry = archive.by_name(&name).map_err(|_| ReadError::Archive)?;
    let mut out = Vec::new();
    entry
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|_| ReadError::Archive)?;
    if out.len() as u64 > max_bytes {
        return Err(ReadError::Archive);
    }
    Ok(out)
}

/// Which application wrote `item`, one conversation of a file.
fn format_of(item: &Value) -> Option<Format> {
    if chatgpt::looks_like(item) {
        Some(Format::ChatGpt)
    } else if openwebui::looks_like(item) {
        Some(Format::OpenWebUi)
    } else if thicode::looks_like(item) {
        Some(Format::ThiCode)
    } else {
        None
    }
}

impl Found {
    fn new(format: Format) -> Self {
        Self {
            format,
            conversations: Vec::new(),
            left: Vec::new(),
        }
    }

    /// Reads one conversation of the file (as the file's format), kept or left out.
    fn take(&mut self, item: Value) {
        let title = item
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let draft = match self.format {
            Format::ChatGpt => chatgpt::draft(item),
            Format::OpenWebUi => openwebui::draft(item),
            Format::ThiCode => thicode::draft(item),
        };
        match draft {
            Some(d) if d.oversized || d.messages.len() > MAX_MESSAGES => self.left.push(Left {
                title: d.title,
                reason: LeftReason::TooLong,
            }),
            Some(d) if !d.messages.is_empty() => self.conversations.push(d.finish()),
            Some(d) => self.left.push(Left {
                title: d.title,
                reason: LeftReason::Empty,
            }),
            None => self.left.push(Left {
                title,
                reason: LeftReason::Empty,
            }),
        }
    }
}

fn read_json(bytes: &[u8]) -> Result<Found, ReadError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return read_list(bytes);
    }
    let Value::Object(mut map) = serde_json::from_slice(bytes).map_err(|_| ReadError::NotJson)? else {
        return Err(ReadError::Unknown);
    };
    let is_thicode_export = map
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|f| f.starts_with("thicode-"));
    let (format, items) = if is_thicode_export {
        match map.remove("conversations") {
            Some(Value::Array(items)) => (Format::ThiCode, items),
            _ => return Err(ReadError::Unknown),
        }
    } else {
        let value = Value::Object(map);
        (format_of(&value).ok_or(ReadError::Unknown)?, vec![value])
    };
    if items.len() > MAX_CONVERSATIONS {
        return Err(ReadError::TooMany(items.len()));
    }
    let mut found = Found::new(format);
    for item in items {
        found.take(item);
    }
    Ok(found)
}

/// A file that is a list of conversations (ChatGPT's and Open WebUI's, the large ones), read one conversation at a
/// time: only one is ever whole in memory as JSON, beside the drafts.
fn read_list(bytes: &[u8]) -> Result<Found, ReadError> {
    use serde::de::{Deserializer as _, Error as _, IgnoredAny, SeqAccess, Visitor};

    #[derive(Default)]
    struct List {
        found: Option<Found>,
        count: usize,
        error: Option<ReadError>,
    }

    impl<'de> Visitor<'de> for &mut List {
        type Value = ();

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of conversations")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while let Some(item) = seq.next_element::<Value>()? {
                self.count += 1;
                if self.count > MAX_CONVERSATIONS {
                    // Counted to the end, so the message says how many the file holds.
                    while seq.next_element::<IgnoredAny>()?.is_some() {
                        self.count += 1;
                    }
                    self.error = Some(ReadError::TooMany(self.count));
                    return Ok(());
                }
                let found = match &mut self.found {
                    Some(found) => found,
                    None => match format_of(&item) {
                        Some(format) => self.found.insert(Found::new(format)),
                        None => {
                            self.error = Some(ReadError::Unknown);
                            return Err(A::Error::custom("not an export"));
                        }
                    },
                };
                found.take(item);
            }
            Ok(())
        }
    }

    let mut list = List::default();
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let outcome = (&mut de).deserialize_seq(&mut list).and_then(|()| de.end());
    if let Some(e) = list.error {
        return Err(e);
    }
    outcome.map_err(|_| ReadError::NotJson)?;
    list.found.ok_or(ReadError::Unknown)
}

/// A time as exports write it: seconds or milliseconds since the epoch (told apart by size), or RFC 3339 text.
pub(super) fn millis(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => {
            let n = n.as_f64()?;
            if !n.is_finite() || n <= 0.0 {
                return None;
            }
            // Before 1973 in milliseconds is after 5138 in seconds: a value this large is milliseconds.
            let ms = if n > 1e11 { n } else { n * 1000.0 };
            (ms < 1e15).then_some(ms as i64)
        }
        Value::String(s) => {
            let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
            i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
        }
        _ => None,
    }
}

/// The tree of `nodes` (id, parent id, the message or `None` for a node that carries none, in the file's order)
/// as draft messages, each after its parent: nodes that carry nothing are passed through (their children hang on
/// their nearest carried ancestor), and an assistant message that only continues its parent (another app's tool
/// call in between) is joined to it. Returns the messages and, for each node id, the message it became or joined.
pub(super) fn tree(
    nodes: Vec<(String, Option<String>, Option<DraftMessage>)>,
    children_order: &std::collections::HashMap<String, Vec<String>>,
) -> (Vec<DraftMessage>, std::collections::HashMap<String, usize>) {
    use std::collections::{HashMap, HashSet};
    let ids: HashSet<&String> = nodes.iter().map(|(id, _, _)| id).collect();
    let mut children: HashMap<String, Vec<String>> = HashMap::new();
    let mut roots = Vec::new();
    for (id, parent, _) in &nodes {
        match parent {
            Some(p) if ids.contains(p) && p != id => children.entry(p.clone()).or_default().push(id.clone()),
            _ => roots.push(id.clone()),
        }
    }
    // The file's own order of children when it gives one (ChatGPT's and Open WebUI's `children` lists), looked up
    // in a map: a node with tens of thousands of children sorts in n log n.
    for (parent, kids) in &mut children {
        if let Some(order) = children_order.get(parent) {
            let rank: HashMap<&String, usize> = order.iter().enumerate().map(|(i, o)| (o, i)).collect();
            kids.sort_by_key(|k| rank.get(k).copied().unwrap_or(usize::MAX));
        }
    }
    // Nodes in the file's order: those a parent loop keeps from every root are walked from there in the end.
    let order: Vec<String> = nodes.iter().map(|(id, _, _)| id.clone()).collect();
    let mut by_id: HashMap<String, DraftMessage> = HashMap::new();
    for (id, _, message) in nodes {
        if let Some(m) = message {
            by_id.insert(id, m);
        }
    }
    let mut out: Vec<DraftMessage> = Vec::new();
    let mut kids_of: Vec<usize> = Vec::new();
    // For each message, the length of its text before each answer joined to it (`[g]`: after `g` joins; a join only
    // appends). A path may join a message only while it is the one that joined last (the chain after another app's
    // tool call), never a sibling path: a regenerated answer starts its own branch from the same point.
    let mut lengths: Vec<Vec<usize>> = Vec::new();
    let mut placed: HashMap<String, usize> = HashMap::new();
    // Depth first, iteratively (a long chat is a deep tree): (node, the message its children hang on, the joins
    // that message had when the path reached it).
    let mut stack: Vec<(String, Option<usize>, u64)> = roots.into_iter().rev().map(|r| (r, None, 0)).collect();
    let mut seen = HashSet::new();
    let mut unreached = order.into_iter();
    loop {
        let Some((id, attach, generation)) = stack.pop() else {
            // Every root walked: a node still unseen sits in a parent loop; it starts a tree of its own.
            match unreached.by_ref().find(|id| !seen.contains(id)) {
                Some(id) => {
                    stack.push((id, None, 0));
                    continue;
                }
                None => break,
            }
        };
        if !seen.insert(id.clone()) {
            continue;
        }
        let mut here = (attach, generation);
        if let Some(mut m) = by_id.remove(&id) {
            let follows =
                attach.filter(|p| m.role == "assistant" && out[*p].role == "assistant" && !m.content.is_empty());
            // How many answers were joined to `p`.
            let joins = |lengths: &[Vec<usize>], p: usize| (lengths[p].len() - 1) as u64;
            let continues = follows.filter(|p| kids_of[*p] == 0 && joins(&lengths, *p) == generation);
            // Another answer after the same tool call (a regeneration): the text before the call, then this answer,
            // as a branch of its own beside the first.
            let sibling = follows.filter(|p| generation < joins(&lengths, *p));
            if let Some(p) = sibling {
                let history = lengths[p][..=generation as usize].to_vec();
                let mut copy = out[p].clone();
                copy.content = format!("{}\n\n{}", &out[p].content[..history[generation as usize]], m.content);
                copy.updated_at = m.updated_at;
                copy.status = m.status.clone();
                if let Some(grand) = copy.parent {
                    kids_of[grand] += 1;
                }
                let mut own = history;
                own.push(copy.content.len());
                lengths.push(own);
                out.push(copy);
                kids_of.push(0);
                here = (Some(out.len() - 1), generation + 1);
            } else if let Some(p) = continues {
                let parent = &mut out[p];
                if !parent.content.is_empty() {
                    parent.content.push_str("\n\n");
                }
                parent.content.push_str(&m.content);
                parent.updated_at = parent.updated_at.max(m.updated_at);
                if m.status != "delivered" {
                    parent.status = m.status.clone();
                }
                lengths[p].push(parent.content.len());
                here = (Some(p), joins(&lengths, p));
            } else {
                m.parent = attach;
                if let Some(p) = attach {
                    kids_of[p] += 1;
                }
                lengths.push(vec![m.content.len()]);
                out.push(m);
                kids_of.push(0);
                here = (Some(out.len() - 1), 0);
            }
        }
        if let Some(h) = here.0 {
            placed.insert(id.clone(), h);
        }
        if let Some(kids) = children.get(&id) {
            for kid in kids.iter().rev() {
                stack.push((kid.clone(), here.0, here.1));
            }
        }
    }
    (out, placed)
}

/// `text` without the `<details type="…">` blocks of the `kinds` given (Open WebUI writes tool calls and reasoning
/// into the reply's text that way), and how many it took out.
pub(super) fn without_details(text: &str, kinds: &[&str]) -> (String, u32) {
    let heads: Vec<(String, String)> = kinds
        .iter()
        .map(|k| (format!("type=\"{k}\""), format!("type='{k}'")))
        .collect();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut taken = 0;
    while let Some(start) = rest.find("<details") {
        let Some(head_end) = rest[start..].find('>').map(|e| start + e + 1) else {
            break;
        };
        let head = &rest[start..head_end];
        let is_kind = heads
            .iter()
            .any(|(a, b)| head.contains(a.as_str()) || head.contains(b.as_str()));
        // Only a block to take out is looked for its end (once per block: linear in the text).
        let close = is_kind
            .then(|| rest[head_end..].find("</details>"))
            .flatten()
            .map(|e| head_end + e + "</details>".len());
        match close {
            Some(close) => {
                out.push_str(&rest[..start]);
                rest = &rest[close..];
                taken += 1;
            }
            None if is_kind => break,
            None => {
                out.push_str(&rest[..head_end]);
                rest = &rest[head_end..];
            }
        }
    }
    out.push_str(rest);
    (out.trim().to_string(), taken)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_seconds_milliseconds_and_text_agree() {
        let want = Some(1_700_000_000_500);
        assert_eq!(millis(Some(&serde_json::json!(1_700_000_000.5))), want);
        assert_eq!(millis(Some(&serde_json::json!(1_700_000_000_500i64))), want);
        assert_eq!(millis(Some(&serde_json::json!("2023-11-14T22:13:20.500Z"))), want);
        assert_eq!(millis(Some(&serde_json::json!(null))), None);
        assert_eq!(millis(Some(&serde_json::json!(-5))), None);
        assert_eq!(millis(Some(&serde_json::json!(1e300))), None);
    }

    #[test]
    fn details_blocks_of_the_kinds_named_are_taken_out_and_counted() {
        let text = "<details type=\"reasoning\" done=\"true\">\n<summary>Thought</summary>\nhmm\n</details>\nAnswer \
                    <details><summary>kept</summary>x</details>";
        let (out, n) = without_details(text, &["reasoning"]);
        assert_eq!(n, 1);
        assert_eq!(out, "Answer <details><summary>kept</summary>x</details>");
    }

    #[test]
    fn files_that_are_no_export_are_told_apart() {
        assert_eq!(read(b"hello", 10).unwrap_err(), ReadError::NotJson);
        assert_eq!(read(b"[]", 10).unwrap_err(), ReadError::Unknown);
        assert_eq!(read(br#"{"a": 1}"#, 10).unwrap_err(), ReadError::Unknown);
        assert_eq!(read(br#"[{"a": 1}]"#, 10).unwrap_err(), ReadError::Unknown);
        assert_eq!(read(b"PK\x03\x04broken", 10).unwrap_err(), ReadError::Archive);
        assert_eq!(
            read(br#"[{"mapping": {}}, "#, 10).unwrap_err(),
            ReadError::NotJson,
            "cut short"
        );
        assert_eq!(
            read(br#"{"format": "thicode-export-1"}"#, 10).unwrap_err(),
            ReadError::Unknown
        );
    }
    /// A ChatGPT node: `(id, parent, children, role, text, recipient)`.
    fn node(id: &str, parent: Option<&str>, children: &[&str], role: &str, text: &str, to: &str) -> (String, Value) {
        let message = serde_json::json!({
            "author": {"role": role}, "recipient": to, "create_time": 1_700_000_000.0,
            "content": {"content_type": "text", "parts": [text]}
        });
        let value = serde_json::json!({"id": id, "parent": parent, "children": children, "message": message});
        (id.to_string(), value)
    }

    fn chatgpt(nodes: Vec<(String, Value)>, current: &str) -> Found {
        let mapping: serde_json::Map<String, Value> = nodes.into_iter().collect();
        let file = serde_json::json!([{"id": "c", "title": "t", "mapping": mapping, "current_node": current}]);
        read(file.to_string().as_bytes(), 1 << 20).unwrap()
    }

    #[test]
    fn two_answers_after_one_tool_call_stay_two_branches() {
        let found = chatgpt(
            vec![
                node("u", None, &["a"], "user", "Q", "all"),
                node("a", Some("u"), &["call"], "assistant", "Searching", "all"),
                node("call", Some("a"), &["tool"], "assistant", "search()", "browser"),
                node("tool", Some("call"), &["one", "two"], "tool", "results", "all"),
                node("one", Some("tool"), &[], "assistant", "Answer one", "all"),
                node("two", Some("tool"), &[], "assistant", "Answer two", "all"),
            ],
            "two",
        );
        let c = &found.conversations[0];
        let texts: Vec<&str> = c.messages.iter().map(|m| m.content.as_str()).collect();
        assert_eq!(texts, ["Q", "Searching\n\nAnswer one", "Searching\n\nAnswer two"]);
        assert_eq!((c.messages[1].parent, c.messages[2].parent), (Some(0), Some(0)));
        assert_eq!(c.branches(), 2);
        assert_eq!(c.current_leaf, Some(2));
    }

    #[test]
    fn a_parent_loop_loses_nothing() {
        let found = chatgpt(
            vec![
                node("a", Some("b"), &["b"], "user", "first", "all"),
                node("b", Some("a"), &["a"], "assistant", "second", "all"),
            ],
            "b",
        );
        assert_eq!(found.conversations[0].messages.len(), 2);
    }

    #[test]
    fn times_to_come_nul_and_long_texts_are_brought_within_what_is_stored() {
        let mut n = node("u", None, &[], "user", "a\0b", "all");
        n.1["message"]["create_time"] = serde_json::json!(253_402_214_400.0_f64);
        let long = "x".repeat(MAX_CONTENT_CHARS + 5);
        let found = chatgpt(vec![n, node("r", Some("u"), &[], "assistant", &long, "all")], "r");
        let c = &found.conversations[0];
        assert_eq!(c.messages[0].content, "ab");
        assert!(c.messages[0].created_at <= crate::core::db::now_millis());
        assert_eq!(c.messages[1].content.chars().count(), MAX_CONTENT_CHARS);
        assert!(c.messages[1].additional_data.contains("cut_on_import_from_chars"));
    }

    #[test]
    fn a_tree_too_large_is_left_out_before_it_is_built() {
        let nodes: Vec<(String, Value)> = (0..=MAX_NODES)
            .map(|i| {
                (
                    format!("n{i}"),
                    serde_json::json!({"id": format!("n{i}"), "message": null}),
                )
            })
            .collect();
        let found = chatgpt(nodes, "n0");
        assert_eq!(found.left[0].reason, LeftReason::TooLong);
    }

    #[test]
    fn details_without_their_end_are_read_in_one_pass() {
        let text = "<details>".repeat(50_000);
        let (out, n) = without_details(&text, &["reasoning"]);
        assert_eq!((out.len(), n), (text.len(), 0));
        let (out, n) = without_details("a <details type=\"reasoning\"> never closed", &["reasoning"]);
        assert_eq!((out.as_str(), n), ("a <details type=\"reasoning\"> never closed", 0));
    }
}

/// Most previews kept at once, for every account together (each holds its file's conversations in memory).
const MAX_PREVIEWS: usize = 32;

/// How long a preview waits for its confirmation.
const PREVIEW_TTL: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// A file read and previewed, waiting for its owner to confirm the import (the pages' two steps: the file is sent
/// once).
#[derive(Debug, Clone)]
pub struct Pending {
    /// Whose file it is.
    pub user_id: i64,
    /// What it holds.
    pub found: std::sync::Arc<Found>,
    /// What the preview showed, then — once confirmed — what the import did.
    pub report: crate::chat::types::ImportReport,
    at: std::time::Instant,
}

/// The imports running (one per account at a time, so two at once cannot both add the same conversations), and the
/// previews waiting for a confirmation (one per account: a new file replaces the last; forgotten after 30 minutes or
/// a restart).
#[derive(Debug, Clone, Default)]
pub struct Imports {
    inner: std::sync::Arc<std::sync::Mutex<ImportsInner>>,
}

#[derive(Debug, Default)]
struct ImportsInner {
    running: std::collections::HashSet<i64>,
    pending: std::collections::HashMap<String, Pending>,
}

/// The account's import in progress: dropping it lets the next one start.
#[derive(Debug)]
pub struct Running {
    imports: Imports,
    user_id: i64,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.imports.lock().running.remove(&self.user_id);
    }
}

impl Imports {
    fn lock(&self) -> std::sync::MutexGuard<'_, ImportsInner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts `user_id`'s import, unless one is running already.
    pub fn start(&self, user_id: i64) -> Option<Running> {
        self.lock().running.insert(user_id).then(|| Running {
            imports: self.clone(),
            user_id,
        })
    }

    /// Keeps `found` and its preview for `user_id` under a new random token (replacing the account's last one).
    pub fn keep(&self, user_id: i64, found: std::sync::Arc<Found>, report: crate::chat::types::ImportReport) -> String {
        let token = uuid::Uuid::new_v4().simple().to_string();
        let mut inner = self.lock();
        inner
            .pending
            .retain(|_, p| p.user_id != user_id && p.at.elapsed() < PREVIEW_TTL);
        // A bound on the files held at once, whatever the number of accounts: the oldest preview goes first.
        while inner.pending.len() >= MAX_PREVIEWS {
            let Some(oldest) = inner.pending.iter().min_by_key(|(_, p)| p.at).map(|(t, _)| t.clone()) else {
                break;
            };
            inner.pending.remove(&oldest);
        }
        inner.pending.insert(
            token.clone(),
            Pending {
                user_id,
                found,
                report,
                at: std::time::Instant::now(),
            },
        );
        token
    }

    /// `user_id`'s preview `token`, if it is theirs and still kept.
    pub fn get(&self, user_id: i64, token: &str) -> Option<Pending> {
        let mut inner = self.lock();
        inner.pending.retain(|_, p| p.at.elapsed() < PREVIEW_TTL);
        inner
            .pending
            .get(token)
            .filter(|p| p.user_id == user_id && p.at.elapsed() < PREVIEW_TTL)
            .cloned()
    }

    /// Records what the import of preview `token` did (the file itself is let go).
    pub fn done(&self, token: &str, report: crate::chat::types::ImportReport) {
        if let Some(p) = self.lock().pending.get_mut(token) {
            p.report = report;
            p.found = std::sync::Arc::new(Found {
                format: p.found.format,
                conversations: Vec::new(),
                left: Vec::new(),
            });
        }
    }
}
