//! Documents cut into chunks for retrieval: pages of a PDF (form feeds in the extracted text) are cut separately so
//! every chunk knows its page, each into pieces of about [`CHUNK_CHARS`] characters at paragraph, sentence or word
//! boundaries (text-splitter), overlapping a little so an answer split across a boundary is still found whole.

use text_splitter::{ChunkConfig, TextSplitter};

/// Largest chunk, in characters (about 250 tokens: a few paragraphs).
pub const CHUNK_CHARS: usize = 1000;
/// Characters a chunk repeats of the one before.
const OVERLAP_CHARS: usize = 100;
/// Most chunks kept of one document (about 10 MB of text).
pub const MAX_CHUNKS: usize = 10_000;

/// A piece of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Its order in the document, from 0.
    pub position: i64,
    /// The PDF page it is on, from 1.
    pub page: Option<i64>,
    /// Its text.
    pub text: String,
}

/// The chunks of `text`; `paged` when its pages are separated by form feeds (a PDF).
pub fn split(text: &str, paged: bool) -> Vec<Chunk> {
    let config = ChunkConfig::new(CHUNK_CHARS / 2..CHUNK_CHARS)
        .with_overlap(OVERLAP_CHARS)
        .unwrap_or_else(|_| ChunkConfig::new(CHUNK_CHARS));
    let splitter = TextSplitter::new(config);
    let pages: Vec<(Option<i64>, &str)> = if paged {
        text.split('\x0c')
            .enumerate()
            .map(|(i, page)| (i64::try_from(i + 1).ok(), page))
            .collect()
    } else {
        vec![(None, text)]
    };
    let mut out = Vec::new();
    for (page, body) in pages {
        for piece in splitter.chunks(body) {
            let piece = piece.trim();
            if piece.is_empty() {
                continue;
            }
            if out.len() >= MAX_CHUNKS {
                return out;
            }
            out.push(Chunk {
                position: out.len() as i64,
                page,
                text: piece.to_string(),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_cut_apart_and_long_text_at_boundaries() {
        let long = "The quick brown fox jumps over the lazy dog. ".repeat(60);
        let text = format!("First page.\x0c{long}\x0cThird page says PELICAN.");
        let chunks = split(&text, true);
        assert_eq!(chunks[0].page, Some(1));
        assert_eq!(chunks[0].text, "First page.");
        let second: Vec<&Chunk> = chunks.iter().filter(|c| c.page == Some(2)).collect();
        assert!(second.len() >= 3, "{} chunks", second.len());
        assert!(second.iter().all(|c| c.text.chars().count() <= CHUNK_CHARS));
        // Cut between sentences, not inside words.
        assert!(second.iter().all(|c| c.text.ends_with('.')));
        assert_eq!(chunks.last().unwrap().page, Some(3));
        assert!(chunks.windows(2).all(|w| w[1].position == w[0].position + 1));
        // Not paged: one run, no pages; blank text gives nothing.
        assert!(split(&text, false).iter().all(|c| c.page.is_none()));
        assert!(split(" \n\x0c ", true).is_empty());
    }
}
