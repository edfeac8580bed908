//! Attachments of a page: the upload (a multipart form on the page), the download (also the
//! `src` of a picture embedded in the page's Markdown) and the deletion.

use super::{Empty, id_of, render_page_with};
use crate::domain::attachments as rules;
use crate::service::attachments::{self, Attachment};
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use rathaus_core::Error;
use rathaus_core::validation::FieldErrors;
use rathaus_store::files::{Download, Limits, human_size};
use rathaus_store::uow::Actor;
use rathaus_web::AppState;
use rathaus_web::ctx::Staff;
use rathaus_web::errors::HtmlError;
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::{Catalog, catalog};

/// An attachment in the list on its page.
pub(super) struct AttachmentLine {
    pub(super) id: i64,
    pub(super) name: String,
    pub(super) url: String,
    /// Type and size, e.g. "PDF, 120 KB".
    pub(super) about: String,
    /// The Markdown that shows a picture in the page; empty for other files.
    pub(super) embed: String,
}

fn kind_label(t: &Catalog, media_type: &str) -> String {
    let key = match media_type {
        "application/pdf" => "pdf",
        "image/png" | "image/jpeg" => "image",
        "text/plain" => "text",
        _ => "office",
    };
    t.get(&format!("knowledge.attachments.kind_{key}"))
        .to_string()
}

pub(super) fn lines(t: &Catalog, list: Vec<Attachment>) -> Vec<AttachmentLine> {
    list.into_iter()
        .map(|a| {
            let url = rules::url(a.id);
            let embed = if rules::is_image(&a.media_type) {
                // Brackets in the name would end the alt text early.
                let alt: String = a.name.chars().filter(|c| !"[]".contains(*c)).collect();
                format!("![{alt}]({url})")
            } else {
                String::new()
            };
            AttachmentLine {
                id: a.id,
                about: format!(
                    "{}, {}",
                    kind_label(t, &a.media_type),
                    human_size(u64::try_from(a.size).unwrap_or(0))
                ),
                name: a.name,
                url,
                embed,
            }
        })
        .collect()
}

/// The body limit of the upload route: the largest file and room for the form around it.
pub(super) const BODY_LIMIT: usize = rules::MAX_BYTES as usize + 64 * 1024;

/// The upload limits: the module's, within the installation's multipart limit.
fn limits(st: &AppState) -> Limits {
    Limits {
        max_size: (st.cfg.upload_limit as u64).min(rules::MAX_BYTES),
        quota: None,
    }
}

/// The first file part of the form (name, bytes).
async fn read_file(
    st: &AppState,
    req: axum::extract::Request,
) -> Result<Option<(String, axum::body::Bytes)>, Error> {
    let bad = || FieldErrors::single(attachments::FIELD, "knowledge.err.attachment_upload");
    // Over the route's body limit: the same message as a file over the module's limit.
    let read_err = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            let mut fe = FieldErrors::new();
            fe.add_arg(
                attachments::FIELD,
                rathaus_store::files::ERR_TOO_LARGE,
                Some(human_size(limits(st).max_size)),
            );
            Error::Invalid(fe)
        } else {
            bad()
        }
    };
    let mut mp = Multipart::from_request(req, st).await.map_err(|_| bad())?;
    while let Some(f) = mp.next_field().await.map_err(read_err)? {
        if f.name() != Some(attachments::FIELD) {
            continue;
        }
        let name = f.file_name().unwrap_or_default().to_string();
        let data = f.bytes().await.map_err(read_err)?;
        // A browser sends an empty part when no file was chosen.
        if name.is_empty() && data.is_empty() {
            return Ok(None);
        }
        return Ok(Some((name, data)));
    }
    Ok(None)
}

pub(super) async fn upload(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    req: axum::extract::Request,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let t = catalog(ctx.lang);
    let res = match read_file(&st, req).await {
        Ok(Some((name, data))) => {
            attachments::add(
                &st.db,
                &st.files,
                Actor::User(&p),
                id,
                &name,
                &data,
                limits(&st),
            )
            .await
        }
        Ok(None) => Err(FieldErrors::single(attachments::FIELD, "err.required")),
        Err(e) => Err(e),
    };
    match res {
        Ok(a) => Ok(Redirect::to(&format!(
            "/wissen/seiten/{id}?notice=knowledge_attached#anhang-{}",
            a.id
        ))
        .into_response()),
        Err(Error::Invalid(fe)) => {
            render_page_with(
                &st,
                &ctx,
                &p,
                id,
                String::new(),
                FormErrors::none(t),
                FormErrors::new(t, fe),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn download(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let (a, dl) = attachments::download(&st.db, &st.files, Actor::User(&p), id).await?;
    Ok(file_response(&a.name, &a.media_type, dl))
}

pub(super) async fn delete(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
    Form(_): Form<Empty>,
) -> Result<Response, HtmlError> {
    let id = id_of(&id)?;
    let page = attachments::delete(&st.db, &st.files, Actor::User(&p), id).await?;
    Ok(Redirect::to(&format!(
        "/wissen/seiten/{page}?notice=knowledge_attachment_deleted#anhaenge"
    ))
    .into_response())
}

/// The content as a download: its stored type, never sniffed by the browser, saved under its
/// name (a picture in an `img` is shown all the same).
fn file_response(name: &str, media_type: &str, dl: Download) -> Response {
    let len = dl.range.end - dl.range.start;
    let mut res = Response::new(Body::from_stream(dl.body));
    *res.status_mut() = StatusCode::OK;
    let h = res.headers_mut();
    let ct = if media_type == "text/plain" {
        "text/plain; charset=utf-8"
    } else {
        media_type
    };
    if let Ok(v) = HeaderValue::from_str(ct) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    if let Some(v) = rathaus_web::export::content_disposition(name) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    res
}
