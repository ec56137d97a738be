//! Markdown to safe HTML, on the server only: CommonMark + GFM tables, strikethrough and task lists through
//! pulldown-cmark, then ammonia's allow-list, so nothing a user or the model writes can run script or load remote
//! content (no images, no iframes, no event handlers, only http/https/mailto links opened without referrer).
//! Fenced code blocks are highlighted with syntect (CSS classes `hl-…`, styled in style/main.css) and get a Copy
//! button; they are set aside before sanitising and put back after, as syntect escapes all of their text itself.

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd, html};
use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

static SYNTAXES: LazyLock<SyntaxSet> = LazyLock::new(SyntaxSet::load_defaults_newlines);

/// Marks where a highlighted block goes back after sanitising (a private-use character users' text cannot keep).
const SLOT: char = '\u{E000}';

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .rm_tags(["img"])
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "target", "_blank");
    builder
});

/// Renders `text` (Markdown) to sanitised HTML.
pub fn to_safe_html(text: &str) -> String {
    let text = text.replace(SLOT, "");
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut blocks: Vec<String> = Vec::new();
    let mut code: Option<(String, String)> = None;
    let events = Parser::new_ext(&text, options).filter_map(|event| match (&mut code, event) {
        (None, Event::Start(Tag::CodeBlock(kind))) => {
            let lang = match kind {
                CodeBlockKind::Fenced(info) => info.split_whitespace().next().unwrap_or_default().to_string(),
                CodeBlockKind::Indented => String::new(),
            };
            code = Some((lang, String::new()));
            None
        }
        (Some((_, body)), Event::Text(t)) => {
            body.push_str(&t);
            None
        }
        (Some(_), Event::End(TagEnd::CodeBlock)) => {
            let (lang, body) = code.take().unwrap_or_default();
            blocks.push(highlight(&lang, &body));
            Some(Event::Text(format!("{SLOT}{}{SLOT}", blocks.len() - 1).into()))
        }
        (Some(_), _) => None,
        (None, event) => Some(event),
    });
    let mut raw = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut raw, events);
    let mut clean = CLEANER.clean(&raw).to_string();
    for (i, block) in blocks.iter().enumerate() {
        clean = clean.replacen(&format!("{SLOT}{i}{SLOT}"), block, 1);
    }
    clean
}

/// A code block with syntax classes, its language and a Copy button (shown once the page runs JavaScript).
fn highlight(lang: &str, code: &str) -> String {
    let syntax = SYNTAXES
        .find_syntax_by_token(lang)
        .unwrap_or_else(|| SYNTAXES.find_syntax_plain_text());
    let mut generator =
        ClassedHTMLGenerator::new_with_class_style(syntax, &SYNTAXES, ClassStyle::SpacedPrefixed { prefix: "hl-" });
    let mut ok = true;
    for line in LinesWithEndings::from(code) {
        if generator.parse_html_for_line_which_includes_newline(line).is_err() {
            ok = false;
            break;
        }
    }
    let body = if ok {
        generator.finalize()
    } else {
        crate::core::error::escape_html(code)
    };
    let label: String = lang
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '#' | '-'))
        .take(20)
        .collect();
    format!(
        "<div class=\"code-block\"><div class=\"code-bar\"><span>{label}</span>{COPY_BUTTON}</div>\
         <pre tabindex=\"0\"><code>{body}</code></pre></div>"
    )
}

/// The Copy button of code blocks. User HTML cannot contain a button (the sanitiser drops them), so this text only
/// ever comes from [`highlight`].
const COPY_BUTTON: &str = "<button type=\"button\" class=\"copy\">Copy</button>";

/// Rendered HTML with its Copy buttons labelled in `lang` (from the catalogue).
pub fn localise(html: String, lang: crate::core::i18n::Lang) -> String {
    let label = crate::tr!(lang, chat.client.copy);
    html.replace(
        COPY_BUTTON,
        &format!("<button type=\"button\" class=\"copy\">{label}</button>"),
    )
}

/// A message as its page shows it in `lang`: Copy buttons labelled, a failed reply's explanation in that language
/// only (for a stream's `done` event, written outside any page).
pub fn localise_message(message: &mut crate::chat::types::MessageView, lang: crate::core::i18n::Lang) {
    message.html = localise(std::mem::take(&mut message.html), lang);
    if let Some(error) = &mut message.error {
        *error = error.only(lang);
    }
}

/// A user's message as the page shows it: the text as written (escaped; line breaks kept by the page's style), and
/// fenced code blocks (```` ``` ````) as code. A fence left open stays text.
pub fn user_html(content: &str) -> String {
    use crate::core::error::escape_html;
    let mut out = String::with_capacity(content.len() + 32);
    let mut code: Option<(String, String)> = None;
    for line in content.split_inclusive('\n') {
        if line.trim_start().starts_with("```") {
            match code.take() {
                Some((_, body)) => {
                    // Focusable, so a keyboard can scroll a long line (the block scrolls inside its own box).
                    out.push_str("<pre tabindex=\"0\"><code>");
                    out.push_str(&escape_html(body.trim_end_matches(['\n', '\r'])));
                    out.push_str("</code></pre>");
                }
                None => code = Some((line.to_string(), String::new())),
            }
            continue;
        }
        match &mut code {
            Some((_, body)) => body.push_str(line),
            None => out.push_str(&escape_html(line)),
        }
    }
    if let Some((fence, body)) = code {
        out.push_str(&escape_html(&fence));
        out.push_str(&escape_html(&body));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_messages_keep_their_text_and_show_fenced_code_as_code() {
        assert_eq!(user_html("a <b>\nc"), "a &lt;b&gt;\nc");
        assert_eq!(
            user_html("look:\n```rust\nfn x() {}\n```\nok"),
            "look:\n<pre tabindex=\"0\"><code>fn x() {}</code></pre>ok"
        );
        assert_eq!(user_html("```\nopen <i>"), "```\nopen &lt;i&gt;");
    }

    #[test]
    fn scripts_images_and_javascript_links_are_removed() {
        let html = to_safe_html("<img src=x onerror=alert(1)> [x](javascript:alert(1)) <script>alert(2)</script>");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<script"), "{html}");
    }

    #[test]
    fn gfm_tables_code_fences_and_links_render() {
        let html = to_safe_html(
            "| a | b |\n|---|---|\n| 1 | 2 |\n\n```rust\nfn main() {}\n```\n\n[site](https://example.com)",
        );
        assert!(html.contains("<table>"), "{html}");
        assert!(
            html.contains("<span class=\"hl-storage hl-type hl-function hl-rust\">fn</span>"),
            "{html}"
        );
        assert!(html.contains("class=\"copy\""), "{html}");
        assert!(html.contains("rel=\"noopener noreferrer nofollow\""), "{html}");
    }
}

#[cfg(test)]
mod code_tests {
    use super::*;

    #[test]
    fn code_blocks_stay_escaped_and_slots_cannot_be_forged() {
        let html = to_safe_html("```html\n<script>alert(1)</script>\n```\n\n\u{E000}0\u{E000}");
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;"), "{html}");
        assert_eq!(html.matches("code-block").count(), 1, "{html}");
    }
}
