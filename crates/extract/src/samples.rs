//! Small documents built in code, for the tests and the benchmark (no binary fixtures in the
//! repository): a PDF with a text layer, an image-only ("scanned") PDF, DOCX and ODT.

use std::io::Write;

/// A PDF of `pages`, each a list of lines in Helvetica (WinAnsi: umlauts and ß work).
pub fn text_pdf(pages: &[Vec<String>], font_size: u32) -> Vec<u8> {
    let mut objects: Vec<Vec<u8>> = Vec::new();
    // 1 catalog, 2 pages, 3 font, then per page: page, contents.
    let n = pages.len();
    let kids: Vec<String> = (0..n).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
    objects.push(format!("<< /Type /Pages /Kids [{}] /Count {n} >>", kids.join(" ")).into_bytes());
    objects.push(
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
            .to_vec(),
    );
    for (i, lines) in pages.iter().enumerate() {
        let mut content =
            format!("BT /F1 {font_size} Tf {} TL 50 800 Td\n", font_size + 4).into_bytes();
        for line in lines {
            content.push(b'(');
            let (bytes, _, _) = encoding_rs::WINDOWS_1252.encode(line);
            for &b in bytes.iter() {
                if matches!(b, b'(' | b')' | b'\\') {
                    content.push(b'\\');
                }
                content.push(b);
            }
            content.extend_from_slice(b") Tj T*\n");
        }
        content.extend_from_slice(b"ET");
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                5 + 2 * i
            )
            .into_bytes(),
        );
        objects.push(stream(b"", &content));
    }
    assemble(&objects)
}

/// A one-page PDF that is only an 8-bit grey image (`width`×`height` pixels, row by row) over
/// the whole A4 page: what a scanner produces.
pub fn image_pdf(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
    let objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im1 4 0 R >> >> /Contents 5 0 R >>".to_vec(),
        stream(
            format!("/Type /XObject /Subtype /Image /Width {width} /Height {height} /ColorSpace /DeviceGray /BitsPerComponent 8").as_bytes(),
            pixels,
        ),
        stream(b"", b"q 595 0 0 842 0 0 cm /Im1 Do Q"),
    ];
    assemble(&objects)
}

fn stream(dict: &[u8], data: &[u8]) -> Vec<u8> {
    let mut o = b"<< ".to_vec();
    o.extend_from_slice(dict);
    o.extend_from_slice(format!(" /Length {} >>\nstream\n", data.len()).as_bytes());
    o.extend_from_slice(data);
    o.extend_from_slice(b"\nendstream");
    o
}

fn assemble(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(o);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
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

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A DOCX with one paragraph per line.
pub fn docx(paragraphs: &[&str]) -> zip::result::ZipResult<Vec<u8>> {
    let body: String = paragraphs
        .iter()
        .map(|p| {
            format!(
                "<w:p><w:r><w:t xml:space=\"preserve\">{}</w:t></w:r></w:p>",
                escape(p)
            )
        })
        .collect();
    let doc = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
         <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:body>{body}</w:body></w:document>"
    );
    zip_of(&[
        (
            "[Content_Types].xml",
            "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
             <Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/></Types>",
        ),
        ("word/document.xml", &doc),
    ])
}

/// An ODT with one paragraph per line (the first as a heading).
pub fn odt(paragraphs: &[&str]) -> zip::result::ZipResult<Vec<u8>> {
    let body: String = paragraphs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if i == 0 {
                format!("<text:h text:outline-level=\"1\">{}</text:h>", escape(p))
            } else {
                format!("<text:p>{}</text:p>", escape(p))
            }
        })
        .collect();
    let content = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
         xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\">\
         <office:body><office:text>{body}</office:text></office:body></office:document-content>"
    );
    zip_of(&[
        ("mimetype", "application/vnd.oasis.opendocument.text"),
        ("content.xml", &content),
    ])
}

fn zip_of(entries: &[(&str, &str)]) -> zip::result::ZipResult<Vec<u8>> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, content) in entries {
        let method = if *name == "mimetype" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        w.start_file(
            *name,
            zip::write::SimpleFileOptions::default().compression_method(method),
        )?;
        w.write_all(content.as_bytes())?;
    }
    Ok(w.finish()?.into_inner())
}

/// A DOCX whose document part inflates from a few KB to `size` bytes.
pub fn docx_bomb(size: usize) -> zip::result::ZipResult<Vec<u8>> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(size > u32::MAX as usize);
    w.start_file("[Content_Types].xml", opts)?;
    w.write_all(b"<Types/>")?;
    w.start_file("word/document.xml", opts)?;
    let chunk = vec![b' '; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len());
        w.write_all(&chunk[..n])?;
        left -= n;
    }
    Ok(w.finish()?.into_inner())
}
