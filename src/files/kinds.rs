//! What a file is, decided from its bytes: never from its name or the type the browser declared (the name only
//! tells Markdown, CSV and source code apart once the bytes are known to be text).

/// What an upload was found to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A raster image vision models take.
    Image(ImageType),
    /// A PDF document.
    Pdf,
    /// A Word document (Office Open XML).
    Docx,
    /// Text, with the MIME type it is stored and served as.
    Text(&'static str),
}

/// The raster formats accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageType {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
    /// WEBP.
    Webp,
    /// GIF (single frame).
    Gif,
}

impl Kind {
    /// The MIME type of the file as stored (images are re-encoded, see [`crate::files::images`]).
    pub fn mime(self) -> &'static str {
        match self {
            Self::Image(ImageType::Png) => "image/png",
            Self::Image(ImageType::Jpeg) => "image/jpeg",
            Self::Image(ImageType::Webp) => "image/webp",
            Self::Image(ImageType::Gif) => "image/gif",
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Text(mime) => mime,
        }
    }
}

/// Why a file is not accepted: the type it looks like, for the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotAccepted(pub String);

/// Source-code extensions read as text (`text/x-code`).
const CODE_EXTENSIONS: &[&str] = &[
    "rs",
    "py",
    "js",
    "mjs",
    "cjs",
    "ts",
    "tsx",
    "jsx",
    "java",
    "kt",
    "kts",
    "c",
    "h",
    "cc",
    "cpp",
    "cxx",
    "hpp",
    "cs",
    "go",
    "rb",
    "php",
    "swift",
    "scala",
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "sql",
    "lua",
    "pl",
    "r",
    "dart",
    "ex",
    "exs",
    "erl",
    "hs",
    "ml",
    "clj",
    "vue",
    "svelte",
    "css",
    "scss",
    "sass",
    "less",
    "toml",
    "yaml",
    "yml",
    "ini",
    "cfg",
    "conf",
    "xml",
    "svg",
    "gradle",
    "make",
    "mk",
    "cmake",
    "dockerfile",
    "tf",
    "proto",
    "graphql",
    "zig",
    "nim",
    "jl",
    "m",
    "mm",
    "vb",
    "f90",
    "asm",
    "s",
    "diff",
    "patch",
    "tex",
    "ipynb",
];

/// What the file `bytes` (its whole content) is. The name only tells Markdown, CSV and source code apart once the
/// bytes are known to be text.
pub fn sniff(name: &str, whole: &[u8]) -> Result<Kind, NotAccepted> {
    if let Some(found) = infer::get(whole) {
        return match found.mime_type() {
            "image/png" => Ok(Kind::Image(ImageType::Png)),
            "image/jpeg" => Ok(Kind::Image(ImageType::Jpeg)),
            "image/webp" => Ok(Kind::Image(ImageType::Webp)),
            "image/gif" => Ok(Kind::Image(ImageType::Gif)),
            "application/pdf" => Ok(Kind::Pdf),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => Ok(Kind::Docx),
            // infer names a DOCX only when `word/` comes early in the archive; any other ZIP that holds a Word body
            // is one too (the extractor checks the rest).
            "application/zip" if looks_like_docx(whole) => Ok(Kind::Docx),
            // Text that happens to start like something else (a shell script is `text/x-shellscript` to infer).
            mime if mime.starts_with("text/") && is_text(whole) => Ok(Kind::Text(text_type(name, whole))),
            mime => Err(NotAccepted(mime.to_string())),
        };
    }
    if is_text(whole) {
        return Ok(Kind::Text(text_type(name, whole)));
    }
    Err(NotAccepted("binary data".to_string()))
}

/// A ZIP whose central directory names `word/document.xml`.
fn looks_like_docx(bytes: &[u8]) -> bool {
    bytes.windows(17).any(|w| w == b"word/document.xml")
}

/// UTF-8 (with or without a byte-order mark) without NUL or other control characters than tab, newline, carriage
/// return and form feed.
pub fn is_text(bytes: &[u8]) -> bool {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    !text
        .chars()
        .any(|c| (c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c')) || c == '\u{FFFD}')
}

/// The MIME type of text: HTML and JSON from the content, Markdown, CSV and code from the name.
fn text_type(name: &str, bytes: &[u8]) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .unwrap_or_default();
    let start: String = String::from_utf8_lossy(&bytes[..bytes.len().min(512)])
        .trim_start_matches('\u{FEFF}')
        .trim_start()
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    if start.starts_with("<!doctype html") || start.starts_with("<html") || matches!(extension.as_str(), "html" | "htm")
    {
        return "text/html";
    }
    if extension == "json" || ((start.starts_with('{') || start.starts_with('[')) && is_json(bytes)) {
        return if is_json(bytes) {
            "application/json"
        } else {
            "text/plain"
        };
    }
    match extension.as_str() {
        "md" | "markdown" | "mdx" => "text/markdown",
        "csv" | "tsv" => "text/csv",
        ext if CODE_EXTENSIONS.contains(&ext) => "text/x-code",
        _ if name.eq_ignore_ascii_case("dockerfile") || name.eq_ignore_ascii_case("makefile") => "text/x-code",
        _ => "text/plain",
    }
}

fn is_json(bytes: &[u8]) -> bool {
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)).is_ok()
}

/// A file name safe to show in pages and to send in headers: the last path component, without control characters,
/// quotes, backslashes or angle brackets, at most 255 bytes (cut on a character boundary, the extension kept).
/// `None` when nothing is left.
pub fn clean_name(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_control()
                || matches!(
                    c,
                    '"' | '<' | '>' | '`' | '\u{202E}' | '\u{202D}' | '\u{2066}'..='\u{2069}'
                )
            {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').trim().to_string();
    if cleaned.is_empty() || cleaned.chars().all(|c| c == '_') {
        return None;
    }
    if cleaned.len() <= 255 {
        return Some(cleaned);
    }
    let (stem, ext) = match cleaned.rsplit_once('.') {
        Some((stem, ext)) if ext.len() <= 16 => (stem, format!(".{ext}")),
        _ => (cleaned.as_str(), String::new()),
    };
    let mut cut = 255 - ext.len();
    while !stem.is_char_boundary(cut.min(stem.len())) {
        cut -= 1;
    }
    Some(format!("{}{ext}", &stem[..cut.min(stem.len())]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_decide_not_the_name() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(sniff("notes.txt", png), Ok(Kind::Image(ImageType::Png)));
        assert_eq!(sniff("photo.png", b"just words\n"), Ok(Kind::Text("text/plain")));
        assert_eq!(sniff("a.pdf", b"%PDF-1.7\n%\xE2\xE3"), Ok(Kind::Pdf));
        assert_eq!(
            sniff("x.exe", b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff"),
            Err(NotAccepted("application/vnd.microsoft.portable-executable".into()))
        );
        assert_eq!(
            sniff("run.bin", b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0").map_err(|_| ()),
            Err(())
        );
        assert!(sniff("blob", b"\0\x01\x02garbage\xff").is_err());
    }

    #[test]
    fn text_is_told_apart_by_content_then_name() {
        assert_eq!(
            sniff("page.txt", b"<!DOCTYPE html><html><body>hi</body></html>"),
            Ok(Kind::Text("text/html"))
        );
        assert_eq!(sniff("data", br#"{"a": [1, 2]}"#), Ok(Kind::Text("application/json")));
        assert_eq!(sniff("data.json", b"{not json"), Ok(Kind::Text("text/plain")));
        assert_eq!(sniff("README.md", b"# Title\n"), Ok(Kind::Text("text/markdown")));
        assert_eq!(sniff("t.csv", b"a,b\n1,2\n"), Ok(Kind::Text("text/csv")));
        assert_eq!(sniff("main.rs", b"fn main() {}\n"), Ok(Kind::Text("text/x-code")));
        assert_eq!(
            sniff(
                "x.svg",
                b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
            ),
            Ok(Kind::Text("text/x-code"))
        );
        assert_eq!(sniff("bom.txt", b"\xEF\xBB\xBFhello"), Ok(Kind::Text("text/plain")));
        assert!(sniff("latin1.txt", b"caf\xe9").is_err());
    }

    #[test]
    fn names_are_made_safe_for_pages_and_headers() {
        assert_eq!(clean_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(clean_name("C:\\Users\\me\\report.pdf").as_deref(), Some("report.pdf"));
        assert_eq!(
            clean_name("<img src=x onerror=alert(1)>.png").as_deref(),
            Some("_img src=x onerror=alert(1)_.png")
        );
        assert_eq!(clean_name("a\"b\r\nc.txt").as_deref(), Some("a_b__c.txt"));
        assert_eq!(clean_name("evil\u{202E}gpj.exe").as_deref(), Some("evil_gpj.exe"));
        assert_eq!(clean_name("..."), None);
        assert_eq!(clean_name(""), None);
        let long = format!("{}.pdf", "é".repeat(300));
        let cut = clean_name(&long).unwrap();
        assert!(cut.len() <= 255 && cut.ends_with(".pdf"));
    }
}
