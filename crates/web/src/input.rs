//! Control characters are refused at the door, for every text a request carries: the path,
//! the query string, form fields (urlencoded and the text parts of multipart forms) and JSON
//! strings. PostgreSQL cannot store NUL in text, and no person types control characters, so
//! they are refused alike on both databases (TAB, CR and LF excepted: text areas hold them).
//!
//! `screen` finds the first offending field; the routers answer in their own form: a German
//! error page for pages, an RFC 9457 document for the API, and each module's own format for
//! its machine routes (`Module::reject_input`).

use crate::api::ApiError;
use crate::ctx::Ctx;
use crate::errors::ErrorPage;
use crate::i18n::catalog;
use crate::state::AppState;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rathaus_core::validation::FieldErrors;

/// The translation key of the message.
pub const ERROR_KEY: &str = "err.control_chars";

/// Whether a text holds a control character other than TAB, CR and LF.
pub fn has_control(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\r' | '\n'))
}

/// Where a request carries a control character: the field (form key, JSON pointer, `path`
/// or the query parameter's name) and the part of the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub field: String,
    pub place: Place,
}

/// The part of a request a control character was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    Path,
    Query,
    Body,
}

fn field(name: impl Into<String>) -> Rejected {
    Rejected {
        field: name.into(),
        place: Place::Body,
    }
}

enum Kind {
    Form,
    Json,
    Multipart(String),
    Other,
}

fn kind_of(req: &Request) -> Kind {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/x-www-form-urlencoded" {
        Kind::Form
    } else if essence == "application/json" || essence.ends_with("+json") {
        Kind::Json
    } else if essence == "multipart/form-data" {
        multer::parse_boundary(ct)
            .map(Kind::Multipart)
            .unwrap_or(Kind::Other)
    } else {
        Kind::Other
    }
}

fn check_pairs(raw: &[u8]) -> Result<(), Rejected> {
    for (k, v) in url::form_urlencoded::parse(raw) {
        if has_control(&k) || has_control(&v) {
            return Err(field(k.into_owned()));
        }
    }
    Ok(())
}

/// JSON can only carry control characters as `\u00XX` escapes (raw ones are invalid JSON and
/// fail later in the extractor), so a scan over escapes finds them without parsing.
fn json_has_control(raw: &[u8]) -> bool {
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != b'\\' {
            i += 1;
            continue;
        }
        if raw.get(i + 1) == Some(&b'u') {
            let code = raw
                .get(i + 2..i + 6)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u32::from_str_radix(h, 16).ok());
            if let Some(c) = code.and_then(char::from_u32)
                && has_control(&c.to_string())
            {
                return true;
            }
            i += 6;
        } else {
            i += 2;
        }
    }
    false
}

/// The JSON pointer of the first string (or key) with a control character.
fn json_pointer(v: &serde_json::Value, at: &str) -> Option<String> {
    match v {
        serde_json::Value::String(s) => has_control(s).then(|| at.to_string()),
        serde_json::Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, x)| json_pointer(x, &format!("{at}/{i}"))),
        serde_json::Value::Object(o) => o.iter().find_map(|(k, x)| {
            let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
            if has_control(k) {
                Some(here)
            } else {
                json_pointer(x, &here)
            }
        }),
        _ => None,
    }
}

fn check_json(raw: &[u8]) -> Result<(), Rejected> {
    if !json_has_control(raw) {
        return Ok(());
    }
    let pointer = serde_json::from_slice::<serde_json::Value>(raw)
        .ok()
        .and_then(|v| json_pointer(&v, ""))
        .unwrap_or_default();
    Err(field(pointer))
}

async fn check_multipart(raw: Bytes, boundary: String) -> Result<(), Rejected> {
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(raw) });
    let mut mp = multer::Multipart::new(stream, boundary);
    // A malformed body is left to the handler, which answers it in its own way.
    while let Ok(Some(part)) = mp.next_field().await {
        let name = part.name().unwrap_or_default().to_string();
        if has_control(&name) {
            return Err(field(name));
        }
        if part.file_name().is_some() {
            if part.file_name().is_some_and(has_control) {
                return Err(field(name));
            }
            continue;
        }
        let Ok(bytes) = part.bytes().await else {
            return Ok(());
        };
        if has_control(&String::from_utf8_lossy(&bytes)) {
            return Err(field(name));
        }
    }
    Ok(())
}

/// Screens a request. On success the request comes back whole (its body buffered when it had
/// to be read: forms and JSON up to `limit`, multipart up to `upload_limit`; the route's own
/// body limit still applies to the buffered body); a larger body comes back empty and
/// marked, and the layers answer 413.
pub async fn screen(
    req: Request,
    limit: usize,
    upload_limit: usize,
) -> Result<Request, (Rejected, Request)> {
    let path = percent_encoding::percent_decode_str(req.uri().path()).decode_utf8_lossy();
    if has_control(&path) {
        let r = Rejected {
            field: "path".into(),
            place: Place::Path,
        };
        return Err((r, req));
    }
    if let Some(q) = req.uri().query()
        && let Err(r) = check_pairs(q.as_bytes())
    {
        let r = Rejected {
            place: Place::Query,
            ..r
        };
        return Err((r, req));
    }
    let kind = kind_of(&req);
    if matches!(kind, Kind::Other) {
        return Ok(req);
    }
    let limit = match kind {
        Kind::Multipart(_) => limit.max(upload_limit),
        _ => limit,
    };
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, limit).await else {
        return Ok(too_large(Request::from_parts(parts, Body::empty())));
    };
    let found = match kind {
        Kind::Form => check_pairs(&bytes),
        Kind::Json => check_json(&bytes),
        Kind::Multipart(boundary) => check_multipart(bytes.clone(), boundary).await,
        Kind::Other => Ok(()),
    };
    let req = Request::from_parts(parts, Body::from(bytes));
    match found {
        Ok(()) => Ok(req),
        Err(r) => Err((r, req)),
    }
}

/// A request whose body was over the limit: marked so the layer answers 413.
fn too_large(mut req: Request) -> Request {
    req.extensions_mut().insert(TooLarge);
    req
}

#[derive(Clone, Copy)]
struct TooLarge;

/// Layer of the page router: a German error page naming the problem.
pub async fn pages(State(st): State<AppState>, req: Request, next: Next) -> Response {
    match screen(req, st.cfg.body_limit, st.cfg.upload_limit).await {
        Ok(req) if req.extensions().get::<TooLarge>().is_some() => {
            match req.extensions().get::<Ctx>() {
                Some(ctx) => ErrorPage::status(ctx, StatusCode::PAYLOAD_TOO_LARGE),
                None => StatusCode::PAYLOAD_TOO_LARGE.into_response(),
            }
        }
        Ok(req) => next.run(req).await,
        Err((r, req)) => {
            tracing::info!(field = %r.field, "control character in input refused");
            match req.extensions().get::<Ctx>() {
                Some(ctx) => {
                    let text = catalog(ctx.lang).get(ERROR_KEY).to_string();
                    ErrorPage::render(ctx, StatusCode::BAD_REQUEST, "error.422.title", Some(text))
                }
                None => StatusCode::BAD_REQUEST.into_response(),
            }
        }
    }
}

/// Layer of the JSON API: a 422 problem document with the field (a JSON pointer for JSON).
pub async fn api(State(st): State<AppState>, req: Request, next: Next) -> Response {
    match screen(req, st.cfg.body_limit, st.cfg.upload_limit).await {
        Ok(req) if req.extensions().get::<TooLarge>().is_some() => {
            StatusCode::PAYLOAD_TOO_LARGE.into_response()
        }
        Ok(req) => next.run(req).await,
        Err((r, _)) => api_rejection(&r),
    }
}

/// A malformed path or query is a 400 (as any unreadable path id or parameter); a body field
/// a 422 naming the field, as other validation errors.
fn api_rejection(r: &Rejected) -> Response {
    if r.place == Place::Body {
        return ApiError(FieldErrors::single(&r.field, ERROR_KEY)).into_response();
    }
    crate::api::problem(
        StatusCode::BAD_REQUEST,
        crate::api::Problem {
            kind: "https://rathaus.dev/problems/bad-request".into(),
            title: catalog(crate::i18n::Lang::De).get("error.422.title").into(),
            status: 400,
            detail: Some(format!(
                "{} ({})",
                catalog(crate::i18n::Lang::De).get(ERROR_KEY),
                r.field
            )),
            errors: vec![],
        },
    )
}

/// Layer of the machine routes: the first module that knows the path answers in its own
/// format; otherwise a problem document.
pub async fn machine(State(st): State<AppState>, req: Request, next: Next) -> Response {
    match screen(req, st.cfg.body_limit, st.cfg.upload_limit).await {
        Ok(req) if req.extensions().get::<TooLarge>().is_some() => {
            StatusCode::PAYLOAD_TOO_LARGE.into_response()
        }
        Ok(req) => next.run(req).await,
        Err((r, req)) => {
            let path = req.uri().path().to_string();
            st.modules
                .iter()
                .find_map(|m| m.reject_input(&path, &r.field))
                .unwrap_or_else(|| api_rejection(&r))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_but_tab_and_newlines() {
        assert!(!has_control("Zeile 1\r\n\tZeile 2 äöü €"));
        assert!(has_control("a\0b"));
        assert!(has_control("a\u{1b}b"));
        assert!(has_control("a\u{7f}b"));
        assert!(has_control("a\u{85}b"));
    }

    #[test]
    fn json_escapes_are_found_with_their_pointer() {
        assert!(check_json(br#"{"a":"x\ny\t\r\u000a\u0009"}"#).is_ok());
        assert!(check_json(br#"{"a":"\\u0000 is text, not NUL"}"#).is_ok());
        assert_eq!(
            check_json(br#"{"a":"ok","b":[1,{"c/d":"x\u0000"}]}"#),
            Err(field("/b/1/c~1d"))
        );
        assert_eq!(check_json(br#"{"x\u001b":1}"#), Err(field("/x\u{1b}")));
        assert!(check_json(br#"{"a":"\u00e4\u20ac"}"#).is_ok());
    }

    #[test]
    fn form_fields_are_decoded_before_the_check() {
        assert!(check_pairs(b"a=1&b=Zeile+1%0D%0AZeile+2").is_ok());
        assert_eq!(check_pairs(b"a=1&name=x%00y"), Err(field("name")));
        assert_eq!(check_pairs(b"a%01=1"), Err(field("a\u{1}")));
    }

    #[tokio::test]
    async fn multipart_text_parts_are_checked_and_files_are_not() {
        let body = "--XX\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\0\x01binary\r\n--XX\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nLoch\0\r\n--XX--\r\n";
        assert_eq!(
            check_multipart(Bytes::from(body), "XX".into()).await,
            Err(field("description"))
        );
        let ok = "--XX\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"a.jpg\"\r\n\r\n\0\x01\r\n--XX\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\nLoch\r\nim Weg\r\n--XX--\r\n";
        assert!(check_multipart(Bytes::from(ok), "XX".into()).await.is_ok());
    }
}
