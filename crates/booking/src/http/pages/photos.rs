//! Photo pages: the list and upload of a resource, the pictures themselves.

use crate::domain::{PhotoId, ResourceId};
use crate::service::photos::{
    ALT_FIELD, BODY_LIMIT, FILE_FIELD, MAX_PHOTOS, THUMB, Visitor, add, alt_field, check_alt,
    find_info, list, remove, served, set_alt,
};
use rathaus_store::uow::Actor;

use crate::http::MANAGERS;
use axum::handler::Handler;
use rathaus_web::Access::{Public, SignedIn};
use rathaus_web::Routes;

use crate::service::{self, MANAGE, Resource};
use askama::Template;
use axum::Form;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal};
use rathaus_web::AppState;
use rathaus_web::ctx::{Ctx, Staff};
use rathaus_web::errors::{HtmlError, page, respond};
use rathaus_web::forms::FormErrors;
use rathaus_web::i18n::catalog;
use rathaus_web::layout::Layout;
use rathaus_web::pages::layout;
use rathaus_web::pages::parse_id;
use serde::Deserialize;

pub(crate) fn routes() -> Routes {
    Routes::new()
        // Whoever may see the resource sees its photos; uploads need `booking.manage`.
        .get("/buchung/{id}/fotos", SignedIn, show)
        .post(
            "/buchung/{id}/fotos",
            MANAGERS,
            upload.layer(DefaultBodyLimit::max(BODY_LIMIT)),
        )
        // The pictures of public resources are public; the service checks the rest.
        .get("/buchung/fotos/{file}", Public, full)
        .get("/buchung/fotos/{id}/klein.jpg", Public, thumb)
        .post("/buchung/fotos/{id}/loeschen", MANAGERS, delete)
        .post("/buchung/fotos/{id}/alt", MANAGERS, alt)
}

// ------------------------------------------------------------------ pages

struct Row {
    id: i64,
    n: usize,
    alt: String,
    /// What the text alternative field shows (the typed text after an error).
    value: String,
    field: String,
    label: String,
    delete_label: String,
    thumb_w: u32,
    thumb_h: u32,
}

#[derive(Template)]
#[template(path = "booking/photos_page.html")]
struct PhotosTpl {
    l: Layout,
    r: Resource,
    rows: Vec<Row>,
    count_label: String,
    can_manage: bool,
    full: bool,
    errs: FormErrors,
    alt: String,
    limit_hint: String,
}

/// Thumbnail size of a `w` × `h` picture bounded to [`THUMB`] px (as the encoder made it).
fn thumb_size(w: i32, h: i32) -> (u32, u32) {
    let (w, h) = (w.max(1) as u32, h.max(1) as u32);
    if w <= THUMB && h <= THUMB {
        return (w, h);
    }
    let scale =
        |a: u32, b: u32| ((f64::from(a) * f64::from(THUMB) / f64::from(b)).round() as u32).max(1);
    if w >= h {
        (THUMB, scale(h, w))
    } else {
        (scale(w, h), THUMB)
    }
}

/// What the forms keep after an error: the typed text alternative of a new photo, or the
/// typed text of one photo's field.
#[derive(Default)]
struct Typed {
    new_alt: String,
    edit: Option<(i64, String)>,
}

async fn render(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    resource_id: i64,
    errs: FormErrors,
    typed: Typed,
) -> std::result::Result<Response, HtmlError> {
    let t = catalog(ctx.lang);
    let (r, photos) = list(&st.db.conn, Actor::User(p), ResourceId(resource_id)).await?;
    let rows = photos
        .into_iter()
        .enumerate()
        .map(|(i, ph)| {
            let n = i + 1;
            let (thumb_w, thumb_h) = thumb_size(ph.width, ph.height);
            let value = match &typed.edit {
                Some((id, v)) if *id == ph.id => v.clone(),
                _ => ph.alt_text.clone(),
            };
            Row {
                id: ph.id,
                n,
                field: alt_field(PhotoId(ph.id)),
                label: t.fmt("booking.photos.alt_of", &n.to_string()),
                delete_label: t.fmt("booking.photos.delete_of", &n.to_string()),
                alt: ph.alt_text,
                value,
                thumb_w,
                thumb_h,
            }
        })
        .collect::<Vec<_>>();
    let failed = errs.any();
    let count_label = t
        .get("booking.photos.count")
        .replace("{n}", &rows.len().to_string())
        .replace("{max}", &MAX_PHOTOS.to_string());
    respond(
        page(PhotosTpl {
            l: layout(st, ctx, "booking.photos.title").with_title(format!(
                "{} – {}",
                t.get("booking.photos.title"),
                r.name
            )),
            can_manage: p.has(MANAGE),
            full: rows.len() as u64 >= MAX_PHOTOS,
            limit_hint: t.fmt("booking.photos.full", &MAX_PHOTOS.to_string()),
            r,
            rows,
            count_label,
            errs,
            alt: typed.new_alt,
        }),
        failed,
    )
}

async fn show(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
) -> std::result::Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    render(
        &st,
        &ctx,
        &p,
        id,
        FormErrors::none(catalog(ctx.lang)),
        Typed::default(),
    )
    .await
}

/// Multipart upload (the CSRF token travels in the query string, `?_csrf=`).
async fn upload(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    mp: std::result::Result<Multipart, MultipartRejection>,
) -> std::result::Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    // Refuse before reading megabytes from someone who may not upload (and before a body
    // that is no multipart form is looked at).
    p.require(MANAGE)?;
    service::get_resource(&st.db.conn, Actor::User(&p), ResourceId(id)).await?;
    let mut data = Vec::new();
    let mut alt = String::new();
    let mut unreadable = false;
    // Not a multipart form: no file was sent.
    let Ok(mut mp) = mp else {
        return store_upload(&st, &ctx, &p, id, Vec::new(), String::new()).await;
    };
    loop {
        match mp.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some(FILE_FIELD) => match field.bytes().await {
                    Ok(b) => data = b.to_vec(),
                    Err(_) => {
                        unreadable = true;
                        break;
                    }
                },
                Some(ALT_FIELD) => match field.text().await {
                    Ok(s) => alt = s,
                    Err(_) => {
                        unreadable = true;
                        break;
                    }
                },
                _ => {}
            },
            Ok(None) => break,
            // Over the body limit or a broken multipart body.
            Err(_) => {
                unreadable = true;
                break;
            }
        }
    }
    if unreadable {
        let mut e = FieldErrors::new();
        e.add(FILE_FIELD, "booking.photos.err_too_large");
        check_alt(&mut e, ALT_FIELD, &alt);
        let errs = FormErrors::new(catalog(ctx.lang), e);
        return render(
            &st,
            &ctx,
            &p,
            id,
            errs,
            Typed {
                new_alt: alt,
                edit: None,
            },
        )
        .await;
    }
    store_upload(&st, &ctx, &p, id, data, alt).await
}

/// Stores the upload, or shows the page again with the errors beside the fields.
async fn store_upload(
    st: &AppState,
    ctx: &Ctx,
    p: &Principal,
    id: i64,
    data: Vec<u8>,
    alt: String,
) -> std::result::Result<Response, HtmlError> {
    let result = add(
        &st.db,
        &st.files,
        Actor::User(p),
        ResourceId(id),
        data,
        &alt,
    )
    .await;
    match result {
        Ok(_) => Ok(
            Redirect::to(&format!("/buchung/{id}/fotos?notice=booking_photos.added"))
                .into_response(),
        ),
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            render(
                st,
                ctx,
                p,
                id,
                errs,
                Typed {
                    new_alt: alt,
                    edit: None,
                },
            )
            .await
        }
    }
}

async fn delete(
    State(st): State<AppState>,
    Staff(_ctx, p): Staff,
    Path(id): Path<String>,
) -> std::result::Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    let rid = remove(&st.db.conn, &st.files, Actor::User(&p), PhotoId(id)).await?;
    Ok(Redirect::to(&format!(
        "/buchung/{rid}/fotos?notice=booking_photos.deleted"
    ))
    .into_response())
}

#[derive(Deserialize)]
struct AltForm {
    #[serde(default)]
    alt: String,
}

async fn alt(
    State(st): State<AppState>,
    Staff(ctx, p): Staff,
    Path(id): Path<String>,
    Form(f): Form<AltForm>,
) -> std::result::Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    match set_alt(&st.db.conn, Actor::User(&p), PhotoId(id), &f.alt).await {
        Ok(ph) => Ok(Redirect::to(&format!(
            "/buchung/{}/fotos?notice=booking_photos.alt_saved",
            ph.resource_id
        ))
        .into_response()),
        Err(e) => {
            let errs = FormErrors::from_error(catalog(ctx.lang), e)?;
            // Only reached after the photo was found for this user.
            let rid = find_info(&st.db.conn, p.tenant_id, PhotoId(id))
                .await?
                .resource_id;
            render(
                &st,
                &ctx,
                &p,
                rid,
                errs,
                Typed {
                    new_alt: String::new(),
                    edit: Some((id, f.alt)),
                },
            )
            .await
        }
    }
}

async fn picture(
    st: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    id: i64,
    small: bool,
) -> std::result::Result<Response, HtmlError> {
    let tenant = ctx.tenant_id().ok_or(Error::NotFound)?;
    let who = ctx
        .staff()
        .map_or(Visitor::Anonymous, |p| Visitor::SignedIn(Actor::User(p)));
    let client_has = |etag: &str| rathaus_web::conditional::not_modified(headers, etag);
    let s = served(&st.db.conn, tenant, who, PhotoId(id), small, &client_has).await?;
    let cache = if s.public {
        "public, max-age=3600"
    } else {
        "private, max-age=3600"
    };
    let mut h = HeaderMap::new();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&s.etag) {
        h.insert(header::ETAG, v);
    }
    Ok(match s.body {
        None => (StatusCode::NOT_MODIFIED, h).into_response(),
        Some(crate::service::photo_files::Body::Blob(bytes)) => {
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
            (h, bytes).into_response()
        }
        Some(crate::service::photo_files::Body::File(f)) => {
            // The visitor was checked by `served`.
            let reader = Actor::system("booking.photo");
            let dl = st.files.get(&st.db.conn, tenant, reader, f, None).await?;
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg"));
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(dl.meta.size));
            (h, axum::body::Body::from_stream(dl.body)).into_response()
        }
    })
}

async fn full(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(file): Path<String>,
) -> std::result::Result<Response, HtmlError> {
    let id = file
        .strip_suffix(".jpg")
        .and_then(|s| s.parse().ok())
        .ok_or(Error::NotFound)?;
    picture(&st, &ctx, &headers, id, false).await
}

async fn thumb(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> std::result::Result<Response, HtmlError> {
    let id = parse_id(&id)?;
    picture(&st, &ctx, &headers, id, true).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnails_keep_the_aspect() {
        assert_eq!(thumb_size(1600, 1200), (400, 300));
        assert_eq!(thumb_size(900, 1600), (225, 400));
        assert_eq!(thumb_size(300, 200), (300, 200));
    }
}
