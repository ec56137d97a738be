//! The text of documents: PDF page by page (pdf-extract over lopdf, which panics on some files by design: every call
//! is caught), DOCX from its `word/document.xml` (read through a size cap, so a ZIP bomb stops at the cap), HTML as
//! its visible text, everything else as it is. CPU-bound and possibly slow: call it off the async threads; a
//! deadline is checked between pages.

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Instant;

/// The text of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extracted {
    /// The text; pages of a PDF are separated by form feeds (`\x0c`).
    pub text: String,
    /// Pages, for a PDF.
    pub pages: Option<u32>,
}

/// Why no text could be extracted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtractError {
    /// A PDF that needs a password.
    Encrypted,
    /// A damaged or truncated PDF.
    BrokenPdf,
    /// A damaged DOCX.
    BrokenDocx,
    /// An archive or compressed stream that unpacks beyond this many bytes.
    UnpacksTooLarge(u64),
    /// The deadline passed.
    TooSlow,
}

/// Most pages read from one PDF.
pub const MAX_PDF_PAGES: u32 = 2000;
/// Most bytes one compressed stream of a PDF (other than an image) may unpack to.
pub const MAX_PDF_STREAM: usize = 32 << 20;
/// Most bytes all the compressed streams of a PDF (other than images) may unpack to together.
pub const MAX_PDF_UNPACKED: u64 = 256 << 20;

thread_local! {
    /// What the streams of the PDF being loaded on this thread unpack to so far, or `None` once over a limit.
    static UNPACKED: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(Some(0)) };
}

/// Looks at every object lopdf loads, before lopdf unpacks anything (it unpacks streams whole, without a limit):
/// an image's data is dropped unread (text extraction never needs it), and every other compressed stream is unpacked
/// here within [`MAX_PDF_STREAM`], counted against [`MAX_PDF_UNPACKED`]. A PDF over either limit is refused.
fn guard_stream(id: (u32, u16), object: &mut pdf_extract::Object) -> Option<((u32, u16), pdf_extract::Object)> {
    use pdf_extract::Object;
    let Object::Stream(stream) = object else {
        // Objects inside object streams are handed back by value; they are never streams.
        return Some((id, object.clone()));
    };
    let is_image = stream
        .dict
        .get(b"Subtype")
        .and_then(Object::as_name)
        .is_ok_and(|name| name == b"Image");
    if is_image {
        stream.dict.remove(b"Filter");
        stream.dict.remove(b"DecodeParms");
        stream.content = Vec::new();
    } else if let Ok(filters) = stream.filters() {
        let early_change = stream
            .dict
            .get(b"DecodeParms")
            .and_then(Object::as_dict)
            .and_then(|p| p.get(b"EarlyChange"))
            .and_then(Object::as_i64)
            .map_or(true, |v| v != 0);
        let size = unpacked_size(&stream.content, &filters, early_change);
        UNPACKED.with(|total| {
            let next = total.get().zip(size).map(|(t, s)| t + s as u64);
            total.set(next.filter(|t| *t <= MAX_PDF_UNPACKED));
        });
    }
    // The loader keeps the object it passed in (changed in place); what is returned here is dropped.
    Some((id, Object::Null))
}

/// What `content` unpacks to through `filters`, each stage within [`MAX_PDF_STREAM`]; `None` beyond it. Only the
/// stages before the last are held (the next one reads them); the last is counted as it comes. Stages lopdf cannot
/// undo (images' own codecs) stop the count there.
fn unpacked_size(content: &[u8], filters: &[&[u8]], early_change: bool) -> Option<usize> {
    let unpacks = |filter: &[u8]| matches!(filter, b"FlateDecode" | b"LZWDecode");
    let mut data = std::borrow::Cow::Borrowed(content);
    for (i, filter) in filters.iter().enumerate() {
        let last = !filters.get(i + 1).is_some_and(|next| unpacks(next));
        let mut out = Unpacked {
            kept: (!last).then(Vec::new),
            len: 0,
        };
        match *filter {
            // A damaged stream counts for what it gave before the damage, as lopdf keeps that much too.
            b"FlateDecode" => {
                let _ = std::io::copy(
                    &mut flate2::read::ZlibDecoder::new(&data[..]).take(MAX_PDF_STREAM as u64 + 1),
                    &mut out,
                );
            }
            b"LZWDecode" => lzw(&data, early_change, &mut out),
            _ => break,
        }
        if out.len > MAX_PDF_STREAM {
            return None;
        }
        match out.kept {
            Some(kept) => data = std::borrow::Cow::Owned(kept),
            None => return Some(out.len),
        }
    }
    Some(data.len())
}

/// The output of one unpacking stage: kept for the next stage, or only counted.
struct Unpacked {
    kept: Option<Vec<u8>>,
    len: usize,
}

impl std::io::Write for Unpacked {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.len += bytes.len();
        if let Some(kept) = &mut self.kept {
            kept.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// LZW as lopdf decodes it, into `out`, stopping once past [`MAX_PDF_STREAM`].
fn lzw(input: &[u8], early_change: bool, out: &mut Unpacked) {
    use std::io::Write;
    use weezl::{BitOrder, decode::Decoder};
    let mut decoder = if early_change {
        Decoder::with_tiff_size_switch(BitOrder::Msb, 8)
    } else {
        Decoder::new(BitOrder::Msb, 8)
    };
    let mut buffer = vec![0u8; 64 << 10];
    let mut rest = input;
    loop {
        let step = decoder.decode_bytes(rest, &mut buffer);
        let _ = out.write_all(&buffer[..step.consumed_out]);
        rest = &rest[step.consumed_in..];
        let progressed = step.consumed_in + step.consumed_out > 0;
        if out.len > MAX_PDF_STREAM || !matches!(step.status, Ok(weezl::LzwStatus::Ok)) || !progressed {
            return;
        }
    }
}

/// The text of the PDF `bytes`, page by page, stopping at `deadline`.
pub fn pdf(bytes: &[u8], deadline: Instant) -> Result<Extracted, ExtractError> {
    use pdf_extract::{Document, LoadOptions, PlainTextOutput, output_doc_page};
    let caught = catch_unwind(AssertUnwindSafe(|| {
        UNPACKED.with(|total| total.set(Some(0)));
        let options = LoadOptions {
            filter: Some(guard_stream),
            ..LoadOptions::default()
        };
        let loaded = Document::load_mem_with_options(bytes, options);
        if UNPACKED.with(std::cell::Cell::get).is_none() {
            return Err(ExtractError::UnpacksTooLarge(MAX_PDF_UNPACKED));
        }
        let mut doc = loaded.map_err(|_| ExtractError::BrokenPdf)?;
        if doc.is_encrypted() && doc.decrypt("").is_err() {
            return Err(ExtractError::Encrypted);
        }
        let pages: Vec<u32> = doc.get_pages().keys().copied().take(MAX_PDF_PAGES as usize).collect();
        if pages.is_empty() {
            return Err(ExtractError::BrokenPdf);
        }
        let mut text = String::new();
        for (i, number) in pages.iter().enumerate() {
            if Instant::now() > deadline {
                return Err(ExtractError::TooSlow);
            }
            if i > 0 {
                text.push('\x0c');
            }
            let mut page = String::new();
            // A page that cannot be read leaves its place empty; the others still count.
            let read = catch_unwind(AssertUnwindSafe(|| {
                let mut output = PlainTextOutput::new(&mut page);
                output_doc_page(&doc, &mut output, *number).is_ok()
            }));
            if read.unwrap_or(false) {
                text.push_str(page.trim_matches(|c: char| c == '\n' || c == ' '));
            }
        }
        Ok(Extracted {
            text,
            pages: u32::try_from(pages.len()).ok(),
        })
    }));
    caught.unwrap_or(Err(ExtractError::BrokenPdf))
}

/// The text of the DOCX `bytes`: paragraphs on lines of their own, tabs and breaks kept, at most `max_bytes` of XML
/// read.
pub fn docx(bytes: &[u8], max_bytes: u64, deadline: Instant) -> Result<Extracted, ExtractError> {
    use quick_xml::events::Event;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|_| ExtractError::BrokenDocx)?;
    let entry = archive
        .by_name("word/document.xml")
        .map_err(|_| ExtractError::BrokenDocx)?;
    // The declared size can lie: the read itself is capped.
    let mut xml = Vec::new();
    entry
        .take(max_bytes + 1)
        .read_to_end(&mut xml)
        .map_err(|_| ExtractError::BrokenDocx)?;
    if xml.len() as u64 > max_bytes {
        return Err(ExtractError::UnpacksTooLarge(max_bytes));
    }
    let mut reader = quick_xml::Reader::from_reader(xml.as_slice());
    let mut text = String::new();
    let mut in_text = false;
    let mut buffer = Vec::new();
    let mut events = 0u32;
    loop {
        events += 1;
        if events.is_multiple_of(4096) && Instant::now() > deadline {
            return Err(ExtractError::TooSlow);
        }
        match reader.read_event_into(&mut buffer) {
            Ok(Event::Start(e)) if e.name().as_ref() == b"w:t" => in_text = true,
            Ok(Event::End(e)) if e.name().as_ref() == b"w:t" => in_text = false,
            Ok(Event::End(e)) if e.name().as_ref() == b"w:p" => text.push('\n'),
            Ok(Event::Empty(e)) => match e.name().as_ref() {
                b"w:tab" => text.push('\t'),
                b"w:br" | b"w:cr" => text.push('\n'),
                _ => {}
            },
            Ok(Event::Text(t)) if in_text => {
                let raw = String::from_utf8_lossy(t.as_ref()).into_owned();
                text.push_str(&unescape(&raw));
            }
            Ok(Event::GeneralRef(r)) if in_text => {
                let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                text.push_str(&unescape(&format!("&{name};")));
            }
            Ok(Event::Eof) => break,
            Err(_) => return Err(ExtractError::BrokenDocx),
            _ => {}
        }
        buffer.clear();
    }
    Ok(Extracted {
        text: text.trim_end().to_string(),
        pages: None,
    })
}

/// The visible text of an HTML page: tags, scripts and styles dropped, entities decoded, blank runs collapsed.
pub fn html(source: &str) -> String {
    let cleaned = ammonia::Builder::empty().clean(source).to_string();
    let text = unescape(&cleaned);
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim().to_string()
}

/// The five XML entities and numeric references.
fn unescape(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        let Some(end) = tail[..tail.len().min(12)].find(';') else {
            out.push('&');
            rest = &tail[1..];
            continue;
        };
        let entity = &tail[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::time::Duration;

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(30)
    }

    fn docx_with(document: &[u8]) -> Vec<u8> {
        let mut out = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut out);
            let options = zip::write::SimpleFileOptions::default();
            zip.start_file("[Content_Types].xml", options).unwrap();
            zip.write_all(b"<Types/>").unwrap();
            zip.start_file("word/document.xml", options).unwrap();
            zip.write_all(document).unwrap();
            zip.finish().unwrap();
        }
        out.into_inner()
    }

    #[test]
    fn a_word_document_reads_as_its_paragraphs() {
        let xml = br#"<?xml version="1.0"?><w:document xmlns:w="x"><w:body>
            <w:p><w:r><w:t>Hello &amp; welcome</w:t></w:r><w:r><w:tab/><w:t xml:space="preserve"> to ThiCode</w:t></w:r></w:p>
            <w:p><w:r><w:t>Second</w:t><w:br/><w:t>line</w:t></w:r></w:p></w:body></w:document>"#;
        let out = docx(&docx_with(xml), 1 << 20, later()).unwrap();
        assert_eq!(out.text, "Hello & welcome\t to ThiCode\nSecond\nline");
    }

    #[test]
    fn a_zip_bomb_stops_at_the_cap() {
        // 64 MB of one repeated paragraph deflates to a few hundred KB; reading stops at the cap.
        let mut xml = b"<w:document><w:body>".to_vec();
        xml.extend(std::iter::repeat_n(&b"<w:p><w:r><w:t>aaaaaaaaaaaaaaaa</w:t></w:r></w:p>"[..], 1_300_000).flatten());
        let bomb = docx_with(&xml);
        assert!(bomb.len() < 2 << 20, "{}", bomb.len());
        assert_eq!(
            docx(&bomb, 8 << 20, later()).unwrap_err(),
            ExtractError::UnpacksTooLarge(8 << 20)
        );
        assert_eq!(
            docx(b"PK\x03\x04 broken", 1 << 20, later()).unwrap_err(),
            ExtractError::BrokenDocx
        );
    }

    #[test]
    fn html_gives_its_visible_text() {
        let page = "<html><head><title>T</title><style>p{}</style><script>alert('x')</script></head>\
            <body><h1>Title &amp; more</h1><p>Body&nbsp;text &lt;b&gt;</p></body></html>";
        let text = html(page);
        assert!(text.contains("Title & more"), "{text}");
        assert!(text.contains("Body\u{a0}text <b>"), "{text}");
        assert!(!text.contains("alert"), "{text}");
    }

    /// A PDF of one page whose content is `content` (with `filter`), plus `extra` stream objects.
    fn pdf_with(content: &[u8], filter: &str, extra: &[(String, Vec<u8>)]) -> Vec<u8> {
        let mut objects: Vec<Vec<u8>> = vec![
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
              /Resources << /Font << /F1 5 0 R >> >> >>"
                .to_vec(),
        ];
        let stream = |dict: &str, data: &[u8]| {
            let mut out = format!("<< {dict} /Length {} >>\nstream\n", data.len()).into_bytes();
            out.extend_from_slice(data);
            out.extend_from_slice(b"\nendstream");
            out
        };
        objects.push(stream(filter, content));
        objects.push(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_vec());
        for (dict, data) in extra {
            objects.push(stream(dict, data));
        }
        let mut out = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (i, object) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(object);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        out.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
        for offset in offsets {
            out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
        }
        out.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        out
    }

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    /// `len` blanks, deflated as they are made (never held whole).
    fn deflated_blanks(len: u64) -> Vec<u8> {
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::copy(&mut std::io::repeat(b' ').take(len), &mut encoder).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn a_compressed_pdf_reads_and_a_decompression_bomb_is_refused_unread() {
        let text = deflate(b"BT /F1 24 Tf 72 720 Td (Packed words) Tj ET");
        let out = pdf(&pdf_with(&text, "/Filter /FlateDecode", &[]), later()).unwrap();
        assert_eq!(out.text, "Packed words");

        // 64 MB of blanks as the page's content: a few tens of KB on disk.
        let bomb = deflated_blanks(64 << 20);
        assert!(bomb.len() < 256 << 10, "{}", bomb.len());
        let started = Instant::now();
        let refused = pdf(&pdf_with(&bomb, "/Filter /FlateDecode", &[]), later());
        assert_eq!(refused.unwrap_err(), ExtractError::UnpacksTooLarge(MAX_PDF_UNPACKED));
        assert!(started.elapsed() < Duration::from_secs(10));

        // Many streams each under the limit, together over it.
        let part = deflated_blanks(30 << 20);
        let many: Vec<(String, Vec<u8>)> = (0..9)
            .map(|_| ("/Filter /FlateDecode".to_string(), part.clone()))
            .collect();
        let refused = pdf(&pdf_with(&text, "/Filter /FlateDecode", &many), later());
        assert_eq!(refused.unwrap_err(), ExtractError::UnpacksTooLarge(MAX_PDF_UNPACKED));

        // An image's data is never unpacked: a huge one does not count, and the text is still read.
        let image = vec![("/Type /XObject /Subtype /Image /Filter /FlateDecode".to_string(), bomb)];
        let out = pdf(&pdf_with(&text, "/Filter /FlateDecode", &image), later()).unwrap();
        assert_eq!(out.text, "Packed words");
    }

    #[test]
    fn broken_and_truncated_pdfs_are_refused_without_a_panic() {
        assert_eq!(
            pdf(b"%PDF-1.7\n1 0 obj <<", later()).unwrap_err(),
            ExtractError::BrokenPdf
        );
        assert_eq!(pdf(b"not a pdf", later()).unwrap_err(), ExtractError::BrokenPdf);
    }
}
