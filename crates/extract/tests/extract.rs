//! Extraction of real files built in the test: PDFs with and without a text layer (OCR),
//! images, DOCX, ODT, text, and bad input (corrupt, zip bomb, huge, timeout, memory cap).
//! The OCR tests need Debian's tesseract-ocr, tesseract-ocr-deu and poppler-utils, which
//! scripts/test installs; without them those tests say so and pass.

use rathaus_extract::{Limits, Method, Outcome, extract_path, extract_reader, reason, samples};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
}

fn tools(list: &[&str]) -> bool {
    let missing: Vec<_> = list.iter().filter(|p| !have(p)).collect();
    if !missing.is_empty() {
        eprintln!("SKIPPED: {missing:?} not installed (scripts/test installs them)");
    }
    missing.is_empty()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn letter() -> Vec<String> {
    vec![
        "Stadtverwaltung Musterhausen".into(),
        "Bescheid über Wohngeld".into(),
        "Sehr geehrte Frau Müller,".into(),
        "Ihr Antrag für die Straße vom 3. April wurde bewilligt.".into(),
    ]
}

/// A page of `letter()` in large type rendered to a grey PNG (150 dpi) by pdftoppm.
fn rendered_page(dir: &Path) -> PathBuf {
    let pdf = write(dir, "src.pdf", &samples::text_pdf(&[letter()], 16));
    let out = dir.join("page");
    let st = std::process::Command::new("pdftoppm")
        .args(["-r", "150", "-gray", "-png", "-singlefile"])
        .arg(&pdf)
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    dir.join("page.png")
}

fn ok(o: &Outcome) -> (Method, &str) {
    match o {
        Outcome::Ok { method, text } => (*method, text.as_str()),
        other => panic!("expected text, got {other:?}"),
    }
}

fn failed(o: &Outcome) -> &'static str {
    match o {
        Outcome::Failed { reason, .. } => reason,
        other => panic!("expected a failure, got {other:?}"),
    }
}

#[tokio::test]
async fn pdf_text_layer() {
    if !tools(&["pdftotext"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "a.pdf",
        &samples::text_pdf(&[letter(), vec!["Seite zwei (Anlage)".into()]], 11),
    );
    let o = extract_path(&p, None, &Limits::default()).await;
    let (m, text) = ok(&o);
    assert_eq!(m, Method::PdfText);
    assert!(text.contains("Bescheid über Wohngeld"), "{text}");
    assert!(text.contains("Straße"), "{text}");
    assert!(text.contains("Seite zwei (Anlage)"), "{text}");
}

#[tokio::test]
async fn scanned_pdf_goes_to_ocr() {
    if !tools(&["pdftotext", "pdftoppm", "tesseract"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let png = rendered_page(dir.path());
    let img = image::open(&png).unwrap().to_luma8();
    let scan = samples::image_pdf(img.width(), img.height(), img.as_raw());
    let p = write(dir.path(), "scan.pdf", &scan);
    let o = extract_path(&p, Some("application/pdf"), &Limits::default()).await;
    let (m, text) = ok(&o);
    assert_eq!(m, Method::Ocr);
    assert!(text.contains("Wohngeld"), "{text}");
    assert!(text.contains("Müller"), "{text}");
}

#[tokio::test]
async fn images_are_read_with_ocr() {
    if !tools(&["pdftoppm", "tesseract"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let png = rendered_page(dir.path());
    let o = extract_path(&png, None, &Limits::default()).await;
    let (m, text) = ok(&o);
    assert_eq!(m, Method::Ocr);
    assert!(text.contains("Musterhausen"), "{text}");
    // The same page as JPEG and TIFF.
    let img = image::open(&png).unwrap();
    let jpg = dir.path().join("page.jpg");
    img.to_luma8().save(&jpg).unwrap();
    let o = extract_path(&jpg, None, &Limits::default()).await;
    let (m, text) = ok(&o);
    assert_eq!(m, Method::Ocr);
    assert!(text.contains("Musterhausen"), "{text}");
}

#[tokio::test]
async fn docx_and_odt() {
    let dir = tempfile::tempdir().unwrap();
    let d = write(
        dir.path(),
        "a.docx",
        &samples::docx(&["Antrag auf Wohngeld", "Müller & Söhne <GmbH>"]).unwrap(),
    );
    let o = extract_path(&d, None, &Limits::default()).await;
    let (m, text) = ok(&o);
    assert_eq!(m, Method::Docx);
    assert_eq!(text, "Antrag auf Wohngeld\nMüller & Söhne <GmbH>");

    let t = write(
        dir.path(),
        "a.odt",
        &samples::odt(&["Satzung", "über die Straßenreinigung"]).unwrap(),
    );
    let o = extract_path(&t, None, &Limits::default()).await;
    let (m, text) = ok(&o);
    assert_eq!(m, Method::Odt);
    assert_eq!(text, "Satzung\nüber die Straßenreinigung");

    // The same container announced as a plain zip is still recognised.
    let o = extract_path(&d, Some("application/zip"), &Limits::default()).await;
    assert_eq!(ok(&o).0, Method::Docx);
}

#[tokio::test]
async fn text_in_utf8_and_windows_1252() {
    let o = extract_reader("Grüße aus Köln".as_bytes(), None, &Limits::default()).await;
    assert_eq!(ok(&o), (Method::Text, "Grüße aus Köln"));
    let o = extract_reader(
        &b"Gr\xfc\xdfe aus K\xf6ln\r\n"[..],
        None,
        &Limits::default(),
    )
    .await;
    assert_eq!(ok(&o), (Method::Text, "Grüße aus Köln"));
}

#[tokio::test]
async fn other_types_are_unsupported() {
    let o = extract_reader(&b"\x00\x01\x02\x03\x04\x05"[..], None, &Limits::default()).await;
    assert!(matches!(o, Outcome::Unsupported { .. }), "{o:?}");
    // A zip that is neither DOCX nor ODT.
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    w.start_file("a.txt", zip::write::SimpleFileOptions::default())
        .unwrap();
    let z = w.finish().unwrap().into_inner();
    let o = extract_reader(&z[..], None, &Limits::default()).await;
    assert!(matches!(o, Outcome::Unsupported { .. }), "{o:?}");
}

#[tokio::test]
async fn corrupt_pdf_fails_with_a_reason() {
    if !tools(&["pdftotext", "pdftoppm"]) {
        return;
    }
    let mut bad = samples::text_pdf(&[letter()], 11);
    bad.truncate(bad.len() / 2);
    bad.extend_from_slice(b"\x00\xff garbage");
    let o = extract_reader(&bad[..], None, &Limits::default()).await;
    assert_eq!(failed(&o), reason::CORRUPT, "{o:?}");
    let o = extract_reader(&b"%PDF-1.7\nnothing else"[..], None, &Limits::default()).await;
    assert_eq!(failed(&o), reason::CORRUPT, "{o:?}");
}

#[tokio::test]
async fn corrupt_office_and_image_fail_with_a_reason() {
    let mut d = samples::docx(&["x"]).unwrap();
    d.truncate(d.len() - 30);
    let o = extract_reader(&d[..], Some(rathaus_extract::DOCX), &Limits::default()).await;
    assert_eq!(failed(&o), reason::CORRUPT, "{o:?}");
    if tools(&["tesseract"]) {
        let o = extract_reader(
            &b"\x89PNG\r\n\x1a\n\0\0\0\rIHDRbroken"[..],
            None,
            &Limits::default(),
        )
        .await;
        assert_eq!(failed(&o), reason::CORRUPT, "{o:?}");
    }
}

#[tokio::test]
async fn zip_bomb_docx_is_refused_without_inflating() {
    let bomb = samples::docx_bomb(50 << 20).unwrap();
    assert!(bomb.len() < 2 << 20, "{}", bomb.len());
    let o = extract_reader(&bomb[..], None, &Limits::default()).await;
    assert_eq!(failed(&o), reason::ZIP_BOMB, "{o:?}");
}

#[tokio::test]
async fn huge_text_fails_with_a_reason() {
    let limits = Limits {
        max_chars: 10_000,
        ..Limits::default()
    };
    let big = "Wohngeld ".repeat(20_000);
    let o = extract_reader(big.as_bytes(), None, &limits).await;
    assert_eq!(failed(&o), reason::TOO_LONG);
    let d = samples::docx(&[big.as_str()]).unwrap();
    let o = extract_reader(&d[..], None, &limits).await;
    assert_eq!(failed(&o), reason::TOO_LONG);
    let small = Limits {
        max_input_bytes: 1000,
        ..Limits::default()
    };
    let o = extract_reader(big.as_bytes(), None, &small).await;
    assert_eq!(failed(&o), reason::TOO_LARGE);
}

#[tokio::test]
async fn slow_ocr_is_killed_at_the_timeout() {
    if !tools(&["pdftoppm", "tesseract"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let png = rendered_page(dir.path());
    let limits = Limits {
        timeout: Duration::from_millis(50),
        ..Limits::default()
    };
    let started = std::time::Instant::now();
    let o = extract_path(&png, None, &limits).await;
    assert_eq!(failed(&o), reason::TIMEOUT, "{o:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_process_over_its_memory_cap_fails() {
    if !tools(&["pdftoppm", "tesseract", "prlimit"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let png = rendered_page(dir.path());
    let limits = Limits {
        // Enough to start tesseract, too little for its German model and the page.
        memory_bytes: 60 << 20,
        ..Limits::default()
    };
    let o = extract_path(&png, None, &limits).await;
    assert_eq!(failed(&o), reason::MEMORY, "{o:?}");
}
