//! The built-in web tools: reading a page (its readable text, fetched through the [`Guard`](super::guard::Guard))
//! and searching the web through the backend the instance chose (a SearXNG instance's JSON API, Brave Search or
//! Tavily). What they return is untrusted text: the engine hands it to the model as data and to pages sanitised.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::time::Duration;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer};
use serde::{Deserialize, Serialize};

use super::guard::{Refused, ToolClient, refusal_of};

/// Limits of the page reader.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    /// Bytes read of a page; the rest is not downloaded.
    pub max_bytes: usize,
    /// Characters of text handed on; the rest is cut (and said so).
    pub max_chars: usize,
    /// The whole fetch, redirects included.
    pub timeout: Duration,
}

impl Default for PageLimits {
    fn default() -> Self {
        Self {
            max_bytes: 2 * 1024 * 1024,
            max_chars: 40_000,
            timeout: Duration::from_secs(15),
        }
    }
}

/// A page as the reader returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    /// Where the text came from, after redirects.
    pub url: String,
    /// The page's `<title>`, if any.
    pub title: Option<String>,
    /// Its readable text: paragraphs, headings, list items and table rows on their own lines.
    pub text: String,
    /// Whether the page was longer than the limits (the text is its beginning).
    pub truncated: bool,
}

/// Why a web tool gave no result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebError {
    /// The address may not be reached (private, not http(s), too many redirects).
    Refused(Refused),
    /// The server answered with this status.
    Status(u16),
    /// Not a text type (`image/png`, `application/pdf`…).
    NotText(String),
    /// No answer within the time limit.
    Timeout,
    /// The connection failed.
    Network,
    /// The search backend's answer was not what its API returns.
    Malformed,
}

impl fmt::Display for WebError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Refused(refused) => write!(f, "refused: {refused}"),
            Self::Status(status) => write!(f, "the server answered {status}"),
            Self::NotText(kind) => write!(f, "not a text page ({kind})"),
            Self::Timeout => write!(f, "no answer in time"),
            Self::Network => write!(f, "the connection failed"),
            Self::Malformed => write!(f, "the search service's answer could not be read"),
        }
    }
}

impl std::error::Error for WebError {}

impl From<Refused> for WebError {
    fn from(refused: Refused) -> Self {
        Self::Refused(refused)
    }
}

impl From<reqwest::Error> for WebError {
    fn from(e: reqwest::Error) -> Self {
        if let Some(refused) = refusal_of(&e) {
            Self::Refused(refused)
        } else if e.is_timeout() {
            Self::Timeout
        } else {
            Self::Network
        }
    }
}

/// Whether a `Content-Type` is one the reader reads: HTML, or text of some kind (plain, Markdown, CSV, JSON, XML).
fn readable(content_type: &str) -> Option<bool> {
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "text/html" | "application/xhtml+xml" => Some(true),
        "" | "application/json" | "application/xml" | "application/ld+json" => Some(false),
        t if t.starts_with("text/") || t.ends_with("+json") || t.ends_with("+xml") => Some(false),
        _ => None,
    }
}

/// Reads the page at `url`: fetched through `client` (the guard), at most `limits.max_bytes` of it, decoded from
/// its charset, HTML turned into readable text.
pub async fn read_page(client: &ToolClient, url: &str, limits: PageLimits) -> Result<Page, WebError> {
    let request = client
        .request(reqwest::Method::GET, url)?
        .header(reqwest::header::ACCEPT, "text/html, text/plain;q=0.9, */*;q=0.1")
        .timeout(limits.timeout);
    let mut response = request.send().await?;
    let status = response.status();
    if !status.is_success() {
        return Err(WebError::Status(status.as_u16()));
    }
    let final_url = response.url().to_string();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let Some(is_html) = readable(&content_type) else {
        return Err(WebError::NotText(content_type));
    };
    let mut body = Vec::new();
    let mut truncated = false;
    while let Some(chunk) = response.chunk().await? {
        let room = limits.max_bytes.saturating_sub(body.len());
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    let text = decode(&body, &content_type);
    let (title, mut text) = if is_html { html_to_text(&text) } else { (None, text) };
    if text.chars().count() > limits.max_chars {
        text = text.chars().take(limits.max_chars).collect();
        truncated = true;
    }
    Ok(Page {
        url: final_url,
        title,
        text,
        truncated,
    })
}

/// `bytes` as text, in the charset the `Content-Type` names (or a byte-order mark says), UTF-8 otherwise; bytes that
/// do not decode become U+FFFD.
fn decode(bytes: &[u8], content_type: &str) -> String {
    let label = content_type
        .split(';')
        .skip(1)
        .filter_map(|param| param.trim().split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .map(|(_, value)| value.trim().trim_matches('"').to_string());
    let encoding = label
        .and_then(|l| encoding_rs::Encoding::for_label(l.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    encoding.decode(bytes).0.into_owned()
}

/// Elements whose content is not part of the readable text.
const SKIPPED: &[&str] = &[
    "script", "style", "noscript", "template", "svg", "math", "canvas", "iframe", "object", "nav", "footer", "form",
    "select", "button",
];

/// Elements that start a new block of text.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "section",
    "article",
    "main",
    "header",
    "aside",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "table",
    "thead",
    "tbody",
    "tr",
    "blockquote",
    "pre",
    "hr",
    "figure",
    "figcaption",
    "address",
    "details",
    "summary",
    "body",
];

/// Turns HTML into its title and readable text: the text of the body without scripts, styles, navigation, forms
/// and the like; headings, paragraphs, list items and table rows on lines of their own; whitespace collapsed
/// except in `<pre>`. Uses html5ever's tokenizer (the HTML standard's, so malformed markup reads as browsers read it).
pub fn html_to_text(html: &str) -> (Option<String>, String) {
    let sink = TextSink::default();
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(sink, Default::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    let sink = tokenizer.sink;
    let title = sink.title.into_inner().map(|t| collapse(&t)).filter(|t| !t.is_empty());
    (title, tidy(&sink.out.into_inner()))
}

#[derive(Default)]
struct TextSink {
    out: RefCell<String>,
    title: RefCell<Option<String>>,
    /// Depth inside skipped elements.
    skipping: Cell<u32>,
    in_head: Cell<bool>,
    in_title: Cell<bool>,
    /// Depth inside `<pre>`.
    pre: Cell<u32>,
}

impl TextSink {
    fn block(&self) {
        let mut out = self.out.borrow_mut();
        let trimmed = out.trim_end_matches([' ', '\t']).len();
        out.truncate(trimmed);
        if !out.is_empty() && !out.ends_with("\n\n") {
            let gap = if out.ends_with('\n') { "\n" } else { "\n\n" };
            out.push_str(gap);
        }
    }

    fn line(&self) {
        let mut out = self.out.borrow_mut();
        let trimmed = out.trim_end_matches([' ', '\t']).len();
        out.truncate(trimmed);
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
    }

    fn text(&self, text: &str) {
        let mut out = self.out.borrow_mut();
        if self.pre.get() > 0 {
            out.push_str(text);
            return;
        }
        for c in text.chars() {
            if c.is_whitespace() {
                if !out.is_empty() && !out.ends_with([' ', '\n']) {
                    out.push(' ');
                }
            } else {
                out.push(c);
            }
        }
    }
}

impl TokenSink for TextSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        match token {
            Token::TagToken(tag) => {
                let name: &str = &tag.name;
                let start = tag.kind == TagKind::StartTag;
                let raw = match (start, name) {
                    (true, "script") => Some(RawKind::ScriptData),
                    (true, "style" | "noscript" | "iframe" | "xmp" | "noembed" | "noframes") => Some(RawKind::Rawtext),
                    (true, "title" | "textarea") => Some(RawKind::Rcdata),
                    _ => None,
                };
                match name {
                    "head" => self.in_head.set(start),
                    "body" if start => self.in_head.set(false),
                    "title" => self.in_title.set(start && !tag.self_closing),
                    _ => {}
                }
                if SKIPPED.contains(&name) {
                    if start && !tag.self_closing {
                        self.skipping.set(self.skipping.get() + 1);
                    } else if !start {
                        self.skipping.set(self.skipping.get().saturating_sub(1));
                    }
                } else if self.skipping.get() == 0 && !self.in_head.get() {
                    match name {
                        "br" => self.line(),
                        "li" if start => {
                            self.line();
                            self.out.borrow_mut().push_str("- ");
                        }
                        "td" | "th" if start => {
                            let mut out = self.out.borrow_mut();
                            if !out.ends_with('\n') && !out.is_empty() {
                                out.push_str(" | ");
                            }
                        }
                        "pre" => {
                            self.block();
                            self.pre.set(if start {
                                self.pre.get() + 1
                            } else {
                                self.pre.get().saturating_sub(1)
                            });
                        }
                        "tr" | "li" => self.line(),
                        n if BLOCKS.contains(&n) => self.block(),
                        _ => {}
                    }
                }
                match raw {
                    Some(kind) if !tag.self_closing => TokenSinkResult::RawData(kind),
                    _ => TokenSinkResult::Continue,
                }
            }
            Token::CharacterTokens(text) => {
                if self.in_title.get() {
                    self.title.borrow_mut().get_or_insert_with(String::new).push_str(&text);
                } else if self.skipping.get() == 0 && !self.in_head.get() {
                    self.text(&text);
                }
                TokenSinkResult::Continue
            }
            _ => TokenSinkResult::Continue,
        }
    }
}

/// Whitespace runs as single spaces, trimmed.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Lines trimmed at their end, at most one empty line in a row, no blank start or end.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut empty = 0;
    for line in text.lines() {
        let line = line.trim_end();
        if line.trim().is_empty() {
            empty += 1;
            continue;
        }
        if !out.is_empty() {
            out.push_str(if empty > 0 { "\n\n" } else { "\n" });
        }
        empty = 0;
        out.push_str(line);
    }
    out
}

pub use crate::core::config::SearchBackend;

/// One search result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResult {
    /// The page's title.
    pub title: String,
    /// Its address.
    pub url: String,
    /// What the backend says of it (tags removed).
    pub snippet: String,
}

/// A configured search backend.
#[derive(Debug, Clone)]
pub struct Search {
    backend: SearchBackend,
    base_url: String,
    api_key: Option<String>,
    http: reqwest::Client,
}

impl Search {
    /// The `backend` at `base_url` (the instance's settings: trusted, so not behind the tools' guard — a SearXNG
    /// instance is often on the same host), with `api_key` for Brave and Tavily.
    pub fn new(backend: SearchBackend, base_url: &str, api_key: Option<String>, timeout: Duration) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::limited(3))
            .timeout(timeout)
            .user_agent(concat!("ThiCode/", env!("CARGO_PKG_VERSION"), " (tools)"))
            .build()
            .unwrap_or_default();
        Self {
            backend,
            base_url: base_url.trim_end_matches('/').to_string(),
            api_key,
            http,
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> SearchBackend {
        self.backend
    }

    /// Up to `count` results for `query`.
    pub async fn search(&self, query: &str, count: usize) -> Result<Vec<SearchResult>, WebError> {
        let count = count.clamp(1, 20);
        let key = self.api_key.clone().unwrap_or_default();
        let url = |path: &str, params: &[(&str, &str)]| {
            reqwest::Url::parse_with_params(&format!("{}{path}", self.base_url), params)
                .map_err(|_| WebError::Malformed)
        };
        let request = match self.backend {
            SearchBackend::Searxng => self.http.get(url("/search", &[("q", query), ("format", "json")])?),
            SearchBackend::Brave => self
                .http
                .get(url(
                    "/res/v1/web/search",
                    &[("q", query), ("count", &count.to_string())],
                )?)
                .header("X-Subscription-Token", key),
            SearchBackend::Tavily => self
                .http
                .post(url("/search", &[])?)
                .bearer_auth(key)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(serde_json::json!({"query": query, "max_results": count}).to_string()),
        };
        let response = request
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(WebError::Status(response.status().as_u16()));
        }
        let bytes = response.bytes().await?;
        let body: serde_json::Value = serde_json::from_slice(&bytes).map_err(|_| WebError::Malformed)?;
        let (list, snippet_key) = match self.backend {
            SearchBackend::Searxng => (body.get("results"), "content"),
            SearchBackend::Brave => (body.get("web").and_then(|w| w.get("results")), "description"),
            SearchBackend::Tavily => (body.get("results"), "content"),
        };
        let Some(list) = list.and_then(|l| l.as_array()) else {
            // Brave answers without `web` when nothing was found.
            return if self.backend == SearchBackend::Brave && body.is_object() {
                Ok(Vec::new())
            } else {
                Err(WebError::Malformed)
            };
        };
        let text =
            |item: &serde_json::Value, key: &str| item.get(key).and_then(|v| v.as_str()).unwrap_or("").to_string();
        Ok(list
            .iter()
            .filter(|item| !text(item, "url").is_empty())
            .take(count)
            .map(|item| SearchResult {
                title: collapse(&html_to_text(&text(item, "title")).1),
                url: text(item, "url"),
                snippet: collapse(&html_to_text(&text(item, snippet_key)).1),
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_readable_text() {
        let html = r#"<!doctype html><html><head><title> The  Title </title><style>p { color: red }</style>
            <script>if (a < b && c > d) { document.write("<p>not text</p>") }</script></head>
            <body><nav><a href="/">Home</a> <a href="/about">About</a></nav>
            <h1>Heading &amp; more</h1><p>First   paragraph,
            over two lines.</p><p>Second<br>line two</p>
            <ul><li>one</li><li>two</li></ul>
            <table><tr><th>a</th><th>b</th></tr><tr><td>1</td><td>2</td></tr></table>
            <pre>  keep
   spacing</pre><form><button>Search</button></form><footer>© footer</footer>
            <noscript>enable js</noscript><svg><text>svg text</text></svg></body></html>"#;
        let (title, text) = html_to_text(html);
        assert_eq!(title.as_deref(), Some("The Title"));
        assert_eq!(
            text,
            "Heading & more\n\nFirst paragraph, over two lines.\n\nSecond\nline two\n\n- one\n- two\n\na | b\n1 | 2\n\n  keep\n   spacing"
        );
    }

    #[test]
    fn broken_markup_and_bare_text_read_as_browsers_read_them() {
        let (title, text) = html_to_text("<p>unclosed <b>bold <i>both</p><p>next");
        assert_eq!(title, None);
        assert_eq!(text, "unclosed bold both\n\nnext");
        assert_eq!(html_to_text("just text &lt;tag&gt;").1, "just text <tag>");
        assert_eq!(html_to_text("").1, "");
    }

    #[test]
    fn readable_types_and_charsets() {
        assert_eq!(readable("text/html; charset=utf-8"), Some(true));
        assert_eq!(readable("application/xhtml+xml"), Some(true));
        assert_eq!(readable("text/plain"), Some(false));
        assert_eq!(readable("text/markdown"), Some(false));
        assert_eq!(readable("application/json"), Some(false));
        assert_eq!(readable("application/feed+xml"), Some(false));
        assert_eq!(readable("image/png"), None);
        assert_eq!(readable("application/pdf"), None);
        assert_eq!(readable("application/octet-stream"), None);
        assert_eq!(decode(b"caf\xe9", "text/plain; charset=ISO-8859-1"), "café");
        assert_eq!(decode("café".as_bytes(), "text/plain"), "café");
        assert_eq!(decode(b"\xff", "text/plain"), "\u{fffd}");
    }

    #[test]
    fn backends_are_named() {
        assert_eq!(SearchBackend::parse("SearXNG"), Some(SearchBackend::Searxng));
        assert_eq!(SearchBackend::parse("brave"), Some(SearchBackend::Brave));
        assert_eq!(SearchBackend::parse("tavily"), Some(SearchBackend::Tavily));
        assert_eq!(SearchBackend::parse("none"), None);
        assert_eq!(SearchBackend::Searxng.default_url(), None);
    }
}
