//! Markdown to safe HTML, on the server only: CommonMark + GFM tables, strikethrough and task lists through
//! pulldown-cmark, then ammonia's allow-list, so nothing a user or the model writes can run script or load remote
//! content (no images, no iframes, no event handlers, only http/https/mailto links opened without referrer).

use std::collections::HashSet;
use std::sync::LazyLock;

use pulldown_cmark::{Options, Parser, html};

static CLEANER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut builder = ammonia::Builder::default();
    builder
        .rm_tags(["img"])
        .url_schemes(HashSet::from(["http", "https", "mailto"]))
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "target", "_blank")
        .add_allowed_classes("code", LANGUAGE_CLASSES.iter().copied());
    builder
});

/// Languages whose fence name is kept as a `language-…` class (for highlighting and the copy button's label).
const LANGUAGE_CLASSES: &[&str] = &[
    "language-rust",
    "language-python",
    "language-javascript",
    "language-typescript",
    "language-js",
    "language-ts",
    "language-json",
    "language-toml",
    "language-yaml",
    "language-html",
    "language-css",
    "language-sql",
    "language-bash",
    "language-sh",
    "language-shell",
    "language-go",
    "language-java",
    "language-c",
    "language-cpp",
    "language-text",
];

/// Renders `text` (Markdown) to sanitised HTML.
pub fn to_safe_html(text: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut raw = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut raw, Parser::new_ext(text, options));
    CLEANER.clean(&raw).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(html.contains("<code class=\"language-rust\">"), "{html}");
        assert!(html.contains("rel=\"noopener noreferrer nofollow\""), "{html}");
    }
}
