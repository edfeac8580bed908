//! Which extractor a file gets, and the external programs for PDF and images.

use crate::limits::Limits;
use crate::outcome::{Fail, Method, Outcome, reason};
use crate::{office, process, text};
use std::ffi::OsStr;
use std::path::Path;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;

pub const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub const ODT: &str = "application/vnd.oasis.opendocument.text";

/// Fewer visible characters per page than this in the text layer: a scan, so OCR.
const SCAN_CHARS_PER_PAGE: usize = 16;

/// Extracts the text of the file at `path`. `media_type` is the file service's sniffed type;
/// None sniffs it here. Never panics; every failure is an `Outcome::Failed` with a reason.
pub async fn extract_path(path: &Path, media_type: Option<&str>, limits: &Limits) -> Outcome {
    let deadline = Instant::now() + limits.timeout;
    let size = match tokio::fs::metadata(path).await {
        Ok(m) => m.len(),
        Err(e) => return Outcome::failed(None, reason::UNREADABLE, e.to_string()),
    };
    if size > limits.max_input_bytes {
        return Outcome::failed(None, reason::TOO_LARGE, format!("{size} bytes"));
    }
    let head = match read_head(path).await {
        Ok(h) => h,
        Err(e) => return Outcome::failed(None, reason::UNREADABLE, e.to_string()),
    };
    let media = media_type
        .map(str::to_string)
        .unwrap_or_else(|| rathaus_store::files::sniff(&head));
    let kind = match media.as_str() {
        "application/pdf" => Kind::Pdf,
        "image/png" | "image/jpeg" | "image/tiff" => Kind::Image,
        DOCX | ODT | "application/zip" => Kind::Office,
        "text/plain" | "text/csv" => Kind::Text,
        "application/octet-stream" if text::looks_like_text(&head) => Kind::Text,
        _ => return Outcome::Unsupported { media_type: media },
    };
    let work = async {
        match kind {
            Kind::Pdf => pdf(path, limits, deadline).await,
            Kind::Image => ocr_image(path, limits, deadline)
                .await
                .map(|t| (Method::Ocr, t))
                .map_err(|f| (Some(Method::Ocr), f)),
            Kind::Office => {
                let (p, l) = (path.to_path_buf(), limits.clone());
                match tokio::task::spawn_blocking(move || office::extract(&p, &l)).await {
                    Ok(Ok(Some(r))) => Ok(r),
                    Ok(Ok(None)) => return Err(None),
                    Ok(Err(f)) => Err((office_method(&media), f)),
                    Err(e) => Err((
                        office_method(&media),
                        Fail::new(reason::CORRUPT, e.to_string()),
                    )),
                }
            }
            Kind::Text => read_text(path, limits)
                .await
                .map(|t| (Method::Text, t))
                .map_err(|f| (Some(Method::Text), f)),
        }
        .map_err(Some)
    };
    let result = match tokio::time::timeout_at(deadline, work).await {
        Ok(r) => r,
        Err(_) => {
            return Outcome::failed(None, reason::TIMEOUT, "extraction timed out");
        }
    };
    match result {
        Ok((method, raw)) => match text::clean(&raw, limits.max_chars) {
            Ok(text) => Outcome::Ok { method, text },
            Err(f) => Outcome::failed(Some(method), f.reason, f.detail),
        },
        Err(Some((method, f))) => Outcome::failed(method, f.reason, f.detail),
        Err(None) => Outcome::Unsupported { media_type: media },
    }
}

/// Like `extract_path` for a stream: spooled to a temporary file (at most
/// `limits.max_input_bytes`), which the external programs need.
pub async fn extract_reader<R: AsyncRead + Unpin>(
    mut body: R,
    media_type: Option<&str>,
    limits: &Limits,
) -> Outcome {
    let spooled = async {
        let tmp = tempfile::NamedTempFile::new()?;
        let mut f = tokio::fs::File::create(tmp.path()).await?;
        let n = tokio::io::copy(
            &mut (&mut body).take(limits.max_input_bytes.saturating_add(1)),
            &mut f,
        )
        .await?;
        f.flush().await?;
        std::io::Result::Ok((tmp, n))
    };
    match spooled.await {
        Ok((_, n)) if n > limits.max_input_bytes => Outcome::failed(
            None,
            reason::TOO_LARGE,
            format!("over {} bytes", limits.max_input_bytes),
        ),
        Ok((tmp, _)) => extract_path(tmp.path(), media_type, limits).await,
        Err(e) => Outcome::failed(None, reason::UNREADABLE, e.to_string()),
    }
}

enum Kind {
    Pdf,
    Image,
    Office,
    Text,
}

fn office_method(media: &str) -> Option<Method> {
    match media {
        DOCX => Some(Method::Docx),
        ODT => Some(Method::Odt),
        _ => None,
    }
}

async fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut f = tokio::fs::File::open(path).await?;
    let mut head = Vec::with_capacity(8192);
    (&mut f).take(8192).read_to_end(&mut head).await?;
    Ok(head)
}

async fn read_text(path: &Path, limits: &Limits) -> Result<String, Fail> {
    // Four bytes per character at most (UTF-8); longer files cannot fit the limit.
    let cap = u64::try_from(limits.max_chars)
        .unwrap_or(u64::MAX)
        .saturating_mul(4);
    let f = tokio::fs::File::open(path)
        .await
        .map_err(|e| Fail::new(reason::UNREADABLE, e.to_string()))?;
    let mut bytes = Vec::new();
    f.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| Fail::new(reason::UNREADABLE, e.to_string()))?;
    if bytes.len() as u64 > cap {
        return Err(Fail::new(
            reason::TOO_LONG,
            format!("more than {cap} bytes"),
        ));
    }
    Ok(text::decode(&bytes))
}

fn out_cap(limits: &Limits) -> usize {
    limits.max_chars.saturating_mul(4)
}

/// The text layer with `pdftotext`; a PDF without one (a scan) goes to OCR page by page.
async fn pdf(
    path: &Path,
    limits: &Limits,
    deadline: Instant,
) -> Result<(Method, String), (Option<Method>, Fail)> {
    let args: [&OsStr; 5] = [
        "-enc".as_ref(),
        "UTF-8".as_ref(),
        "-q".as_ref(),
        path.as_os_str(),
        "-".as_ref(),
    ];
    let out = process::run("pdftotext", &args, limits, deadline, out_cap(limits))
        .await
        .map_err(|f| (Some(Method::PdfText), f))?;
    let text = String::from_utf8_lossy(&out).into_owned();
    // pdftotext ends every page with a form feed.
    let pages = text.matches('\u{c}').count().max(1);
    let visible = text.chars().filter(|c| !c.is_whitespace()).count();
    if visible >= SCAN_CHARS_PER_PAGE * pages {
        return Ok((Method::PdfText, text));
    }
    ocr_pdf(path, limits, deadline)
        .await
        .map(|t| (Method::Ocr, t))
        .map_err(|f| (Some(Method::Ocr), f))
}

/// Renders the pages (at most `max_ocr_pages`, 300 dpi for A4, the longer side capped so a
/// page of absurd size cannot blow up) and reads each with tesseract.
async fn ocr_pdf(path: &Path, limits: &Limits, deadline: Instant) -> Result<String, Fail> {
    let dir = tempfile::tempdir().map_err(|e| Fail::new(reason::UNREADABLE, e.to_string()))?;
    let prefix = dir.path().join("p");
    let last = limits.max_ocr_pages.max(1).to_string();
    let args: [&OsStr; 9] = [
        "-gray".as_ref(),
        "-png".as_ref(),
        "-scale-to".as_ref(),
        "3508".as_ref(),
        "-l".as_ref(),
        last.as_ref(),
        "-q".as_ref(),
        path.as_os_str(),
        prefix.as_os_str(),
    ];
    process::run("pdftoppm", &args, limits, deadline, 0).await?;
    let mut pages: Vec<_> = std::fs::read_dir(dir.path())
        .map_err(|e| Fail::new(reason::UNREADABLE, e.to_string()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    // p-01.png, p-02.png … (the same width), so the names sort as the pages.
    pages.sort();
    let mut text = String::new();
    for page in pages {
        let t = ocr_image(&page, limits, deadline).await?;
        text.push_str(&t);
        text.push('\n');
        if text.len() > out_cap(limits) {
            return Err(Fail::new(reason::TOO_LONG, "OCR text too long"));
        }
    }
    Ok(text)
}

async fn ocr_image(path: &Path, limits: &Limits, deadline: Instant) -> Result<String, Fail> {
    let args: [&OsStr; 4] = [
        path.as_os_str(),
        "stdout".as_ref(),
        "-l".as_ref(),
        "deu".as_ref(),
    ];
    let out = process::run("tesseract", &args, limits, deadline, out_cap(limits)).await?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}
