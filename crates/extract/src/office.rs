//! DOCX and ODT: the text of `word/document.xml` or `content.xml`, read as a stream from the
//! zip container after its declared sizes passed the zip-bomb limits.

use crate::limits::Limits;
use crate::outcome::{Fail, Method, reason};
use quick_xml::events::Event;
use std::io::{BufReader, Read};
use std::path::Path;
use zip::ZipArchive;

const ODT_MIME: &[u8] = b"application/vnd.oasis.opendocument.text";

fn corrupt(e: impl std::fmt::Display) -> Fail {
    Fail::new(reason::CORRUPT, e.to_string())
}

/// The text of a DOCX or ODT file; Ok(None) for another kind of zip container.
pub(crate) fn extract(path: &Path, limits: &Limits) -> Result<Option<(Method, String)>, Fail> {
    let file = std::fs::File::open(path).map_err(corrupt)?;
    let mut zip = ZipArchive::new(BufReader::new(file)).map_err(corrupt)?;
    if zip.len() > limits.max_zip_entries {
        return Err(Fail::new(
            reason::ZIP_BOMB,
            format!("{} entries", zip.len()),
        ));
    }
    // The central directory's sizes; the reader stops every entry at its declared size (more
    // is an error), so a container that understates them fails instead of inflating.
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let e = zip.by_index_raw(i).map_err(corrupt)?;
        let (size, packed) = (e.size(), e.compressed_size());
        total = total.saturating_add(size);
        if size > (1 << 20) && size / packed.max(1) > limits.max_ratio {
            return Err(Fail::new(
                reason::ZIP_BOMB,
                format!("ratio {}", size / packed.max(1)),
            ));
        }
    }
    if total > limits.max_uncompressed_bytes {
        return Err(Fail::new(
            reason::ZIP_BOMB,
            format!("{total} bytes uncompressed"),
        ));
    }
    let method = if zip.index_for_name("word/document.xml").is_some() {
        Method::Docx
    } else if zip.index_for_name("content.xml").is_some() && is_odt(&mut zip) {
        Method::Odt
    } else {
        return Ok(None);
    };
    let name = match method {
        Method::Docx => "word/document.xml",
        _ => "content.xml",
    };
    let entry = zip.by_name(name).map_err(corrupt)?;
    let text = xml_text(
        BufReader::new(entry.take(limits.max_uncompressed_bytes)),
        method,
        limits.max_chars,
    )?;
    Ok(Some((method, text)))
}

fn is_odt<R: Read + std::io::Seek>(zip: &mut ZipArchive<R>) -> bool {
    let Ok(entry) = zip.by_name("mimetype") else {
        return false;
    };
    let mut mime = Vec::new();
    if entry.take(200).read_to_end(&mut mime).is_err() {
        return false;
    }
    mime.trim_ascii().starts_with(ODT_MIME)
}

/// The text of a WordprocessingML or ODF body: paragraphs and headings on their own lines,
/// tabs and line breaks kept, field codes and styles left out.
fn xml_text<R: std::io::BufRead>(r: R, method: Method, max_chars: usize) -> Result<String, Fail> {
    let mut xml = quick_xml::Reader::from_reader(r);
    let mut buf = Vec::new();
    let mut out = String::new();
    // DOCX: only text inside <w:t>; ODT: everything inside <office:body>.
    let mut depth_in = 0usize;
    let max_bytes = max_chars.saturating_mul(4);
    loop {
        buf.clear();
        let ev = xml.read_event_into(&mut buf).map_err(corrupt)?;
        match &ev {
            Event::Start(e) => match (method, e.local_name().as_ref()) {
                (Method::Docx, b"t") => depth_in += 1,
                (Method::Odt, b"body") => depth_in += 1,
                _ => {}
            },
            Event::End(e) => match (method, e.local_name().as_ref()) {
                (Method::Docx, b"t") | (Method::Odt, b"body") => {
                    depth_in = depth_in.saturating_sub(1)
                }
                (Method::Docx, b"p") | (Method::Odt, b"p" | b"h") => out.push('\n'),
                _ => {}
            },
            Event::Empty(e) => match (method, e.local_name().as_ref()) {
                (Method::Docx, b"tab") | (Method::Odt, b"tab") => out.push('\t'),
                (Method::Docx, b"br" | b"cr") | (Method::Odt, b"line-break") => out.push('\n'),
                (Method::Odt, b"s") if depth_in > 0 => out.push(' '),
                (Method::Docx, b"p") | (Method::Odt, b"p" | b"h") => out.push('\n'),
                _ => {}
            },
            Event::Text(t) if depth_in > 0 => out.push_str(&t.decode().map_err(corrupt)?),
            Event::CData(t) if depth_in > 0 => out.push_str(&String::from_utf8_lossy(t)),
            Event::GeneralRef(r) if depth_in > 0 => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    out.push(c);
                } else {
                    let name: &[u8] = r.as_ref();
                    out.push_str(match name {
                        b"amp" => "&",
                        b"lt" => "<",
                        b"gt" => ">",
                        b"quot" => "\"",
                        b"apos" => "'",
                        _ => "",
                    });
                }
            }
            Event::Eof => break,
            _ => {}
        }
        if out.len() > max_bytes {
            return Err(Fail::new(
                reason::TOO_LONG,
                format!("more than {max_chars} characters"),
            ));
        }
    }
    Ok(out)
}
