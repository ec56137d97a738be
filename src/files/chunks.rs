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
/// Longest run of text handed to the splitter at once: it looks ahead for its boundaries, so a page without any
/// (megabytes of one "word") would cost it time in proportion to the square of its length.
const BLOCK_BYTES: usize = 32 * 1024;

/// A piece of a document: where it is in the document's text (a byte range, so the pieces never copy the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Its order in the document, from 0.
    pub position: i64,
    /// The PDF page it is on, from 1.
    pub page: Option<i64>,
    /// Its first byte in the document's text.
    pub start: usize,
    /// The byte after its last.
    pub end: usize,
}

impl Chunk {
    /// Its text, in the document's text `of`.
    pub fn text<'a>(&self, of: &'a str) -> &'a str {
        of.get(self.start..self.end).unwrap_or_default()
    }
}

/// The chunks of `text`; `paged` when its pages are separated by form feeds (a PDF). Past `deadline` the rest of
/// the text is not cut (the document keeps its whole text; retrieval searches what was cut).
pub fn split(text: &str, paged: bool, deadline: std::time::Instant) -> Vec<Chunk> {
    let config = ChunkConfig::new(CHUNK_CHARS / 2..CHUNK_CHARS)
        .with_overlap(OVERLAP_CHARS)
        .unwrap_or_else(|_| ChunkConfig::new(CHUNK_CHARS));
    let splitter = TextSplitter::new(config);
    // Each page with its offset in the whole text.
    let mut pages: Vec<(Option<i64>, usize, &str)> = Vec::new();
    if paged {
        let mut offset = 0;
        for (i, page) in text.split('\x0c').enumerate() {
            pages.push((i64::try_from(i + 1).ok(), offset, page));
            offset += page.len() + 1;
        }
    } else {
        pages.push((None, 0, text));
    }
    let mut out = Vec::new();
    for (page, page_offset, body) in pages {
        for (block_offset, block) in blocks(body, BLOCK_BYTES) {
            if std::time::Instant::now() > deadline {
                tracing::warn!(chunks = out.len(), "cutting a document into chunks ran out of time");
                return out;
            }
            // A run without any space (an encoded blob, a table without gaps) is cut every CHUNK_CHARS characters:
            // the splitter would look for word boundaries character by character.
            let pieces: Box<dyn Iterator<Item = (usize, &str)>> = if block.contains(char::is_whitespace) {
                Box::new(splitter.chunk_indices(block))
            } else {
                Box::new(by_chars(block, CHUNK_CHARS))
            };
            for (at, piece) in pieces {
                let trimmed = piece.trim_start();
                let start = page_offset + block_offset + at + (piece.len() - trimmed.len());
                let trimmed = trimmed.trim_end();
                if trimmed.is_empty() {
                    continue;
                }
                if out.len() >= MAX_CHUNKS {
                    return out;
                }
                out.push(Chunk {
                    position: out.len() as i64,
                    page,
                    start,
                    end: start + trimmed.len(),
                });
            }
        }
    }
    out
}

/// `text` in pieces of `n` characters, each with its offset.
fn by_chars(text: &str, n: usize) -> impl Iterator<Item = (usize, &str)> {
    let mut at = 0;
    std::iter::from_fn(move || {
        let rest = &text[at..];
        if rest.is_empty() {
            return None;
        }
        let end = rest.char_indices().nth(n).map_or(rest.len(), |(i, _)| i);
        let piece = (at, &rest[..end]);
        at += end;
        Some(piece)
    })
}

/// `text` in runs of at most `max` bytes, each ending at a line break or a space where there is one, each with its
/// offset.
fn blocks(text: &str, max: usize) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = text;
    let mut offset = 0;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        if rest.len() <= max {
            let at = offset;
            offset += rest.len();
            return Some((at, std::mem::take(&mut rest)));
        }
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let window = &rest[..cut];
        let at = window
            .rfind("\n\n")
            .or_else(|| window.rfind('\n'))
            .or_else(|| window.rfind(' '))
            .map_or(cut, |i| i + 1)
            .max(1);
        let (block, next) = rest.split_at(at);
        rest = next;
        let start = offset;
        offset += block.len();
        Some((start, block))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_cut_apart_and_long_text_at_boundaries() {
        let long = "The quick brown fox jumps over the lazy dog. ".repeat(60);
        let text = format!("First page.\x0c{long}\x0cThird page says PELICAN.");
        let chunks = split(&text, true, later());
        assert_eq!(chunks[0].page, Some(1));
        assert_eq!(chunks[0].text(&text), "First page.");
        let second: Vec<&Chunk> = chunks.iter().filter(|c| c.page == Some(2)).collect();
        assert!(second.len() >= 3, "{} chunks", second.len());
        assert!(second.iter().all(|c| c.text(&text).chars().count() <= CHUNK_CHARS));
        // Cut between sentences, not inside words.
        assert!(second.iter().all(|c| c.text(&text).ends_with('.')));
        assert!(second.iter().all(|c| c.text(&text).starts_with("The quick")));
        assert_eq!(chunks.last().unwrap().page, Some(3));
        assert_eq!(chunks.last().unwrap().text(&text), "Third page says PELICAN.");
        assert!(chunks.windows(2).all(|w| w[1].position == w[0].position + 1));
        // Not paged: one run, no pages; blank text gives nothing.
        assert!(split(&text, false, later()).iter().all(|c| c.page.is_none()));
        assert!(split(" \n\x0c ", true, later()).is_empty());
    }

    #[test]
    fn text_without_boundaries_is_cut_in_bounded_time() {
        let started = std::time::Instant::now();
        let text: String = "0123456789abcdéf".repeat(200_000);
        let chunks = split(&text, false, later());
        assert!(chunks.len() >= text.chars().count() / CHUNK_CHARS);
        assert!(chunks.iter().all(|c| c.text(&text).chars().count() <= CHUNK_CHARS));
        assert_eq!(chunks[1].text(&text).chars().count(), CHUNK_CHARS);
        // Linear, and quick even unoptimised (the splitter took minutes).
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        let blocks: Vec<(usize, &str)> = blocks("ab cd\nef", 4).collect();
        assert_eq!(blocks, [(0, "ab "), (3, "cd\n"), (6, "ef")]);
        // Past the deadline, nothing more is cut.
        assert!(split(&text, false, std::time::Instant::now()).is_empty());
    }

    fn later() -> std::time::Instant {
        std::time::Instant::now() + std::time::Duration::from_secs(600)
    }
}
