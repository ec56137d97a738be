//! The shapes of a file that both targets share: what a message shows of its attachments.

use serde::{Deserialize, Serialize};

/// A file attached to a message (or about to be), as pages and the API show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Attachment {
    /// Primary key.
    pub id: i64,
    /// The file's name, as uploaded (sanitised).
    pub name: String,
    /// MIME type, sniffed from the bytes (`image/png`, `application/pdf`, `text/markdown`…).
    #[serde(rename = "type")]
    pub content_type: String,
    /// Size in bytes (of the stored file: images are re-encoded).
    pub size: i64,
    /// `image` (sent to vision models) or `document` (its text goes into the prompt).
    pub kind: String,
}

impl Attachment {
    /// Whether it is an image.
    pub fn is_image(&self) -> bool {
        self.kind == "image"
    }

    /// Where its bytes are served (to its owner).
    pub fn content_url(&self) -> String {
        format!("/api/files/{}/content/", self.id)
    }
}

/// A document part a reply used, as shown under it: the file and the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// The file.
    pub file_id: i64,
    /// Its name.
    pub name: String,
    /// The PDF page, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<i64>,
}

/// A size for people: `812 B`, `4.2 KB`, `20 MB`. Whole-number arithmetic: float formatting would add kilobytes to
/// the client.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Tenths of the unit, rounded.
    let mut unit = 0;
    let mut scale: u64 = 1024;
    while bytes >= scale * 1024 && unit + 1 < UNITS.len() {
        scale *= 1024;
        unit += 1;
    }
    let tenths = (bytes * 10 + scale / 2) / scale;
    if tenths >= 100 || tenths.is_multiple_of(10) {
        format!("{} {}", (tenths + 5) / 10, UNITS[unit])
    } else {
        format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(human_size(812), "812 B");
        assert_eq!(human_size(4300), "4.2 KB");
        assert_eq!(human_size(20 * 1024 * 1024), "20 MB");
        assert_eq!(human_size(500 * 1024 * 1024), "500 MB");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(11_223), "11 KB");
        assert_eq!(human_size(1024), "1 KB");
        assert_eq!(human_size(3 << 30), "3 GB");
    }
}
