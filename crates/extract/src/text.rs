//! Plain text: UTF-8 (with or without BOM), UTF-16 with BOM, else Windows-1252.

use crate::outcome::{Fail, reason};

/// Decodes a text file's bytes.
pub(crate) fn decode(bytes: &[u8]) -> String {
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom..]);
        return text.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::WINDOWS_1252.decode(bytes).0.into_owned(),
    }
}

/// Whether bytes the content sniffer called `application/octet-stream` are text in a
/// single-byte encoding: no NUL, hardly any control characters.
pub(crate) fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() || head.contains(&0) {
        return false;
    }
    if encoding_rs::Encoding::for_bom(head).is_some() {
        return true;
    }
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0c))
        .count();
    controls * 100 <= head.len()
}

/// The text as stored: no NUL (PostgreSQL refuses it) or other control characters but line
/// breaks and tabs, page breaks as line breaks, trimmed, at most `max_chars` characters.
pub(crate) fn clean(text: &str, max_chars: usize) -> Result<String, Fail> {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_mul(2)));
    let mut n = 0usize;
    for c in text.chars() {
        let c = match c {
            '\u{c}' | '\r' => '\n',
            '\n' | '\t' => c,
            c if c.is_control() => continue,
            c => c,
        };
        n += 1;
        if n > max_chars {
            return Err(Fail::new(
                reason::TOO_LONG,
                format!("more than {max_chars} characters"),
            ));
        }
        out.push(c);
    }
    // "\r\n" became two breaks; collapse runs of blank lines.
    let mut tidy = String::with_capacity(out.len());
    let mut blank = 0;
    for line in out.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 {
                continue;
            }
        } else {
            blank = 0;
        }
        tidy.push_str(line);
        tidy.push('\n');
    }
    Ok(tidy.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf8_utf16_and_windows_1252() {
        assert_eq!(decode("Grüße".as_bytes()), "Grüße");
        assert_eq!(decode(b"\xef\xbb\xbfStra\xc3\x9fe"), "Straße");
        assert_eq!(decode(b"Gr\xfc\xdfe \x80"), "Grüße €");
        assert_eq!(decode(b"\xff\xfeA\x00\xe4\x00"), "Aä");
    }

    #[test]
    fn recognises_single_byte_text() {
        assert!(looks_like_text(b"Gr\xfc\xdfe aus M\xfcnchen\r\n"));
        assert!(!looks_like_text(b"\x00\x01\x02\x03"));
        assert!(!looks_like_text(b"\x01\x02\x03\x04abc"));
    }

    #[test]
    fn cleans_and_limits() {
        assert_eq!(clean("a\0b\r\n\r\n\r\n\u{c}c  ", 100).unwrap(), "ab\n\nc");
        assert!(clean(&"x".repeat(11), 10).is_err());
    }
}
