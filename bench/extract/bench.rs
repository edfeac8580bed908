//! Text extraction rate: text PDFs of about 200 KB (pdftotext) and scanned A4 pages at 300 dpi
//! (pdftoppm + tesseract deu), each file through `rathaus_extract::extract_path` with the
//! default limits, one after another (the job worker runs one job at a time).
//!
//! cargo run -p rathaus-extract --features bench --bin extract-bench -- [--pdfs 20] [--scans 5]
//! (bench/extract.sh). The time is the external programs'; a release build changes nothing.

use rathaus_extract::{Limits, Method, Outcome, extract_path, samples};
use std::time::Instant;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A page of administrative German: 45 lines of about 90 characters.
fn page(n: usize) -> Vec<String> {
    (0..45)
        .map(|l| {
            format!(
                "{n}.{l} Die Gemeinde Musterhausen erlässt für die Straßenreinigung folgende Satzung über Gebühren."
            )
        })
        .collect()
}

fn pgm_pixels(bytes: &[u8]) -> anyhow::Result<(u32, u32, Vec<u8>)> {
    // "P5\n<w> <h>\n255\n" then the pixels.
    let mut fields = Vec::new();
    let mut pos = 0;
    while fields.len() < 4 {
        while bytes.get(pos).is_some_and(|b| b.is_ascii_whitespace()) {
            pos += 1;
        }
        let start = pos;
        while bytes.get(pos).is_some_and(|b| !b.is_ascii_whitespace()) {
            pos += 1;
        }
        fields.push(std::str::from_utf8(&bytes[start..pos])?.to_string());
    }
    anyhow::ensure!(fields[0] == "P5", "not a PGM");
    let (w, h): (u32, u32) = (fields[1].parse()?, fields[2].parse()?);
    Ok((w, h, bytes[pos + 1..].to_vec()))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let (pdfs, scans) = (arg("--pdfs", 20), arg("--scans", 5));
    let dir = tempfile::tempdir()?;
    let limits = Limits::default();

    // Text PDFs of about 200 KB: 40 pages of 45 lines.
    let pages: Vec<Vec<String>> = (0..40).map(page).collect();
    let pdf = samples::text_pdf(&pages, 9);
    let path = dir.path().join("text.pdf");
    std::fs::write(&path, &pdf)?;
    let started = Instant::now();
    let mut chars = 0;
    for _ in 0..pdfs {
        match extract_path(&path, Some("application/pdf"), &limits).await {
            Outcome::Ok {
                method: Method::PdfText,
                text,
            } => chars += text.chars().count(),
            other => anyhow::bail!("unexpected {other:?}"),
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "text PDF: {pdfs} files of {} KB (40 pages), {:.1} ms per file, {:.1} files/s, {:.1} MB/s, {} chars per file",
        pdf.len() / 1000,
        secs * 1000.0 / pdfs as f64,
        pdfs as f64 / secs,
        (pdf.len() * pdfs) as f64 / secs / 1e6,
        chars / pdfs.max(1)
    );

    // A scanned page: the first text page rendered to grey pixels at 300 dpi, as an
    // image-only PDF.
    let one = dir.path().join("one.pdf");
    std::fs::write(&one, samples::text_pdf(&[page(1)], 9))?;
    let st = std::process::Command::new("pdftoppm")
        .args(["-r", "300", "-gray", "-singlefile"])
        .arg(&one)
        .arg(dir.path().join("scan"))
        .status()?;
    anyhow::ensure!(st.success(), "pdftoppm failed");
    let (w, h, px) = pgm_pixels(&std::fs::read(dir.path().join("scan.pgm"))?)?;
    let scan = samples::image_pdf(w, h, &px);
    let path = dir.path().join("scan.pdf");
    std::fs::write(&path, &scan)?;
    let started = Instant::now();
    let mut words = 0;
    for _ in 0..scans {
        match extract_path(&path, Some("application/pdf"), &limits).await {
            Outcome::Ok {
                method: Method::Ocr,
                text,
            } => {
                words += text.split_whitespace().count();
                if !text.contains("Straßenreinigung") {
                    eprintln!("note: OCR misread the sample word");
                }
            }
            other => anyhow::bail!("unexpected {other:?}"),
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "scanned PDF: {scans} pages A4 {w}x{h} px ({} KB PDF), {:.2} s per page, {} words per page",
        scan.len() / 1000,
        secs / scans as f64,
        words / scans.max(1)
    );
    Ok(())
}
