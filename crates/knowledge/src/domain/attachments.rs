//! What may be attached to a page: the allow-list of media types (told by the content's
//! magic bytes, never by the name or the client's type) and the size limit.

/// The largest attachment in bytes (also bounded by the installation's upload limit).
pub const MAX_BYTES: u64 = 10_000_000;

/// The largest width and height of an attached picture, in pixels.
pub const MAX_PIXELS: u32 = 10_000;

/// A picture is stored scaled to fit this many pixels both ways.
pub const IMAGE_FIT: u32 = 2400;

/// How an allowed upload is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Re-encoded as JPEG: nothing of the upload but its pixels survives (EXIF, GPS, …).
    Jpeg,
    /// PNG and WebP, re-encoded as PNG (lossless, keeps transparency).
    Png,
    /// Stored as sent: PDF, office documents, plain text.
    Document,
}

/// The allow-list, by the sniffed media type.
pub fn classify(media_type: &str) -> Option<Class> {
    match media_type {
        "image/jpeg" => Some(Class::Jpeg),
        "image/png" | "image/webp" => Some(Class::Png),
        "application/pdf"
        | "text/plain"
        | "application/msword"
        | "application/vnd.ms-excel"
        | "application/vnd.ms-powerpoint"
        | "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        | "application/vnd.openxmlformats-officedocument.presentationml.presentation"
        | "application/vnd.oasis.opendocument.text"
        | "application/vnd.oasis.opendocument.spreadsheet"
        | "application/vnd.oasis.opendocument.presentation" => Some(Class::Document),
        _ => None,
    }
}

/// The stored name of a re-encoded picture: its extension follows the new format.
pub fn stored_name(name: &str, class: Class) -> String {
    let ext = match class {
        Class::Jpeg => "jpg",
        Class::Png => "png",
        Class::Document => return name.to_string(),
    };
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    };
    let stem = if stem.is_empty() { "bild" } else { stem };
    format!("{stem}.{ext}")
}

/// Whether the attachment is a picture that a page may show inline.
pub fn is_image(media_type: &str) -> bool {
    matches!(media_type, "image/jpeg" | "image/png")
}

/// The stable address of an attachment: its download, and the `src` of an embedded picture
/// (the Markdown renderer takes pictures only from under `/dateien/`).
pub fn url(id: i64) -> String {
    format!("/dateien/wissen/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_list_by_content_type() {
        assert_eq!(classify("application/pdf"), Some(Class::Document));
        assert_eq!(classify("image/webp"), Some(Class::Png));
        assert_eq!(classify("image/jpeg"), Some(Class::Jpeg));
        for bad in [
            "application/zip",
            "application/x-executable",
            "text/html",
            "image/svg+xml",
            "image/gif",
            "application/octet-stream",
        ] {
            assert_eq!(classify(bad), None, "{bad}");
        }
    }

    #[test]
    fn pictures_are_renamed_to_their_format() {
        assert_eq!(stored_name("Plan.webp", Class::Png), "Plan.png");
        assert_eq!(stored_name("foto.JPEG", Class::Jpeg), "foto.jpg");
        assert_eq!(stored_name("ohne", Class::Png), "ohne.png");
        assert_eq!(stored_name("", Class::Png), "bild.png");
        assert_eq!(stored_name("a.pdf", Class::Document), "a.pdf");
    }
}
