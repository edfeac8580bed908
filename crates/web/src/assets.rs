//! Static files embedded in the binary, served under content-hashed names so they can be
//! cached forever: `/static/style.3f2a9c1d.css`.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(RustEmbed)]
#[folder = "assets/"]
#[exclude = "*.md"]
struct Assets;

struct Index {
    /// logical name → hashed URL
    urls: HashMap<String, &'static str>,
    /// hashed file name (path under /static/) → logical name
    files: HashMap<String, String>,
}

fn hashed_name(name: &str, hash: &[u8; 32]) -> String {
    let h = hex::encode(&hash[..4]);
    match name.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{h}.{ext}"),
        None => format!("{name}.{h}"),
    }
}

fn index() -> &'static Index {
    static I: OnceLock<Index> = OnceLock::new();
    I.get_or_init(|| {
        let mut urls = HashMap::new();
        let mut files = HashMap::new();
        for name in Assets::iter() {
            if let Some(f) = Assets::get(&name) {
                let hashed = hashed_name(&name, &f.metadata.sha256_hash());
                let url: &'static str = Box::leak(format!("/static/{hashed}").into_boxed_str());
                urls.insert(name.to_string(), url);
                files.insert(hashed, name.to_string());
            }
        }
        Index { urls, files }
    })
}

/// The cache-busted URL of an embedded asset.
pub fn url(name: &str) -> &'static str {
    index().urls.get(name).copied().unwrap_or("/static/missing")
}

pub async fn serve(Path(path): Path<String>) -> Response {
    let Some(name) = index().files.get(&path) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(f) = Assets::get(name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mime = match name.rsplit_once('.').map(|x| x.1) {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    };
    let mut res = f.data.into_owned().into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    res
}
