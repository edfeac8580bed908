//! Photos of a resource (issue 4, item 1): at most six per resource, each with a required text
//! alternative. Uploads (PNG, JPEG or WebP up to 10 MB, told by their content, never by the
//! name) are decoded within limits against decompression bombs (at most 8000 × 8000 px and
//! 256 MiB of pixels), turned upright by their EXIF orientation and re-encoded as JPEG bounded
//! to 1600 px plus a 400 px thumbnail. The re-encoding drops EXIF/GPS and anything hidden in
//! the file; the original upload is never stored or served.
//!
//! The two JPEGs live on the platform's file service (ADR 0016, shared by every `serve`
//! process: disk or S3); photos stored before are served from their BLOB in `booking_photos`
//! until the job `booking.photos_to_files` moves them.
//!
//! Pages: `/buchung/{id}/fotos` (anyone who may see the resource; upload, text alternatives and
//! deletion for `booking.manage`). Pictures: `/buchung/fotos/{id}.jpg` and
//! `/buchung/fotos/{id}/klein.jpg`, visible where the resource is: anonymously for active
//! resources open to the public or to organisations (the public occupancy page lists those),
//! else only to signed-in holders of `booking.book` or `booking.manage`; everyone else gets 404.

use crate::domain::{PhotoId, ResourceId};
use crate::service::person;
use crate::service::photo_files;
use crate::service::rules;
use crate::service::{self, BOOK, MANAGE, Resource};
use crate::store::entity::{photo, resource};
use chrono::Utc;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::db_err;
use rathaus_store::files::{FileId, FileStore};
use rathaus_store::images::{Bounds, ImageError};
use rathaus_store::uow::{Actor, Tx};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, FromQueryResult,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;

/// Photos per resource.
pub const MAX_PHOTOS: u64 = 6;
/// Characters of a text alternative.
pub const MAX_ALT: usize = 300;
/// Largest upload and picture.
pub const BOUNDS: Bounds = Bounds {
    max_bytes: 10 * 1024 * 1024,
    max_pixels: 8000,
};
/// Decoded pixels of one upload at most (8000 × 8000 RGBA).
pub const MAX_ALLOC: u64 = 256 * 1024 * 1024;
/// Longest side of the stored picture and of its thumbnail, in pixels.
pub const FIT: u32 = 1600;
pub const THUMB: u32 = 400;
pub const QUALITY: u8 = 82;
/// Request body limit of the upload route: the picture, the text and the multipart framing.
pub const BODY_LIMIT: usize = 11 * 1024 * 1024;

/// Multipart field of the file and of its text alternative.
pub const FILE_FIELD: &str = "foto";
pub const ALT_FIELD: &str = "alt";

// ------------------------------------------------------------------ service

/// A photo without its bytes.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct PhotoInfo {
    pub id: i64,
    pub resource_id: i64,
    pub alt_text: String,
    pub position: i32,
    pub sha256: String,
    pub width: i32,
    pub height: i32,
}

/// The photos of a tenant, without their bytes.
fn info_query(tenant: TenantId) -> sea_orm::Select<photo::Entity> {
    rathaus_store::uow::scoped::<photo::Entity>(tenant)
        .select_only()
        .columns([
            photo::Column::Id,
            photo::Column::ResourceId,
            photo::Column::AltText,
            photo::Column::Position,
            photo::Column::Sha256,
            photo::Column::Width,
            photo::Column::Height,
        ])
}

/// The photos of a resource `who` may see, in their order.
pub async fn list(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    resource_id: ResourceId,
) -> Result<(Resource, Vec<PhotoInfo>)> {
    let resource_id = i64::from(resource_id);
    let who = person(by)?;
    let r = service::get_resource(conn, by, ResourceId(resource_id)).await?;
    let photos = photos_of(conn, who.tenant_id, r.id).await?;
    Ok((r, photos))
}

async fn photos_of(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    resource_id: i64,
) -> Result<Vec<PhotoInfo>> {
    info_query(tenant)
        .filter(photo::Column::ResourceId.eq(resource_id))
        .order_by_asc(photo::Column::Position)
        .order_by_asc(photo::Column::Id)
        .into_model::<PhotoInfo>()
        .all(conn)
        .await
        .map_err(db_err)
}

async fn count_of(conn: &impl ConnectionTrait, tenant: TenantId, resource_id: i64) -> Result<u64> {
    rathaus_store::uow::scoped::<photo::Entity>(tenant)
        .filter(photo::Column::ResourceId.eq(resource_id))
        .count(conn)
        .await
        .map_err(db_err)
}

/// Trims and checks a text alternative: required, at most [`MAX_ALT`] characters.
pub fn check_alt(errs: &mut FieldErrors, field: &str, alt: &str) -> String {
    let v = alt.trim().to_string();
    if v.is_empty() {
        errs.add(field, "booking.photos.err_alt_required");
    } else if v.chars().count() > MAX_ALT {
        errs.add_arg(field, "err.too_long", Some(MAX_ALT));
    }
    v
}

fn image_error_key(e: &ImageError) -> &'static str {
    match e {
        ImageError::UnsupportedType => "booking.photos.err_type",
        ImageError::TooLarge => "booking.photos.err_too_large",
        ImageError::Broken => "booking.photos.err_broken",
    }
}

/// Adds a photo to a resource (`booking.manage`): validated, re-encoded, stored with its audit
/// event in one transaction. Errors name the fields `foto` and `alt`.
pub async fn add(
    store: &rathaus_store::Db,
    files: &FileStore,
    by: Actor<'_>,
    resource_id: ResourceId,
    upload: Vec<u8>,
    alt: &str,
) -> Result<PhotoInfo> {
    let resource_id = i64::from(resource_id);
    let db = &store.conn;
    let who = person(by)?;
    by.require(MANAGE)?;
    let r = service::get_resource(db, by, ResourceId(resource_id)).await?;
    let mut errs = FieldErrors::new();
    let alt = check_alt(&mut errs, ALT_FIELD, alt);
    let full = count_of(db, who.tenant_id, r.id).await? >= MAX_PHOTOS;
    if full {
        errs.add_arg(FILE_FIELD, "booking.photos.err_limit", Some(MAX_PHOTOS));
    } else if upload.is_empty() {
        errs.add(FILE_FIELD, "booking.photos.err_file_required");
    }
    if !errs.is_empty() {
        return Err(Error::Invalid(errs));
    }
    let pic = rathaus_store::images::reencode_jpeg_blocking(
        upload, &BOUNDS, MAX_ALLOC, FIT, THUMB, QUALITY,
    )
    .await
    .map_err(|e| FieldErrors::single(FILE_FIELD, image_error_key(&e)))?;

    // Both JPEGs go to the file service first (each put commits its own reference); when the
    // photo's transaction fails, the references are removed again (the collector then removes
    // the content).
    let stored = photo_files::put(store, files, who.tenant_id, by, &pic.jpeg, &pic.thumb).await?;
    let saved = async {
        let tx = Tx::begin(db, who.tenant_id, by).await?;
        // Two uploads at once must not make a seventh photo.
        service::lock_resources(tx.conn(), who.tenant_id, &[r.id]).await?;
        if count_of(tx.conn(), who.tenant_id, r.id).await? >= MAX_PHOTOS {
            return Err(Error::Invalid({
                let mut e = FieldErrors::new();
                e.add_arg(FILE_FIELD, "booking.photos.err_limit", Some(MAX_PHOTOS));
                e
            }));
        }
        let last: Option<Option<i32>> = tx
            .find::<photo::Entity>()
            .select_only()
            .column_as(photo::Column::Position.max(), "max")
            .filter(photo::Column::ResourceId.eq(r.id))
            .into_tuple()
            .one(tx.conn())
            .await?;
        let position = last.flatten().map_or(0, |p| p + 1);
        let m = photo::ActiveModel {
            tenant_id: Set(who.tenant_id.0),
            resource_id: Set(r.id),
            alt_text: Set(alt),
            position: Set(position),
            sha256: Set(pic.sha256.clone()),
            width: Set(pic.width as i32),
            height: Set(pic.height as i32),
            image: Set(None),
            thumb: Set(None),
            image_file_id: Set(Some(stored.image.0)),
            thumb_file_id: Set(Some(stored.thumb.0)),
            created_at: Set(Utc::now()),
            ..Default::default()
        }
        .insert(tx.conn())
        .await?;
        tx.audit(
            NewEvent::new("booking.photo.added", "booking_photo", Some(m.id)).details(json!({
                "resource_id": r.id, "resource": r.name, "alt_text": m.alt_text,
                "sha256": m.sha256, "width": m.width, "height": m.height,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(PhotoInfo {
            id: m.id,
            resource_id: m.resource_id,
            alt_text: m.alt_text,
            position: m.position,
            sha256: m.sha256,
            width: m.width,
            height: m.height,
        })
    }
    .await;
    if saved.is_err() {
        photo_files::forget(
            store,
            files,
            who.tenant_id,
            by,
            &[stored.image, stored.thumb],
        )
        .await;
    }
    saved
}

/// The photo with `id` of the tenant, bytes left out; NotFound for another tenant's.
pub async fn find_info(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    id: PhotoId,
) -> Result<PhotoInfo> {
    let id = i64::from(id);
    info_query(tenant)
        .filter(photo::Column::Id.eq(id))
        .into_model::<PhotoInfo>()
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// Deletes a photo (`booking.manage`); returns its resource's id.
/// Its file references go in the same transaction; the file collector removes the content.
pub async fn remove(
    db: &DatabaseConnection,
    files: &FileStore,
    by: Actor<'_>,
    id: PhotoId,
) -> Result<i64> {
    let id = i64::from(id);
    let who = person(by)?;
    by.require(MANAGE)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let p = find_info(tx.conn(), who.tenant_id, PhotoId(id)).await?;
    service::get_resource(tx.conn(), by, ResourceId(p.resource_id)).await?;
    let refs: Option<(Option<i64>, Option<i64>)> = tx
        .find::<photo::Entity>()
        .select_only()
        .column(photo::Column::ImageFileId)
        .column(photo::Column::ThumbFileId)
        .filter(photo::Column::Id.eq(id))
        .into_tuple()
        .one(tx.conn())
        .await?;
    rathaus_store::uow::scoped_delete::<photo::Entity>(who.tenant_id)
        .filter(photo::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    let (image, thumb) = refs.unwrap_or_default();
    for f in [image, thumb].into_iter().flatten() {
        match files.delete(&tx, FileId(f)).await {
            Ok(()) | Err(Error::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    tx.audit(
        NewEvent::new("booking.photo.deleted", "booking_photo", Some(id)).details(json!({
            "resource_id": p.resource_id, "alt_text": p.alt_text, "sha256": p.sha256,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(p.resource_id)
}

/// Field name of a photo's text alternative on the page (one form per photo).
pub fn alt_field(id: PhotoId) -> String {
    let id = i64::from(id);
    format!("alt_{id}")
}

/// Replaces a photo's text alternative (`booking.manage`). Errors name the field `alt_{id}`.
pub async fn set_alt(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: PhotoId,
    alt: &str,
) -> Result<PhotoInfo> {
    let id = i64::from(id);
    let who = person(by)?;
    by.require(MANAGE)?;
    let before = find_info(db, who.tenant_id, PhotoId(id)).await?;
    service::get_resource(db, by, ResourceId(before.resource_id)).await?;
    let mut errs = FieldErrors::new();
    let alt = check_alt(&mut errs, &alt_field(PhotoId(id)), alt);
    errs.into_result()?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let before = find_info(tx.conn(), who.tenant_id, PhotoId(id)).await?;
    rathaus_store::uow::scoped_update::<photo::Entity>(who.tenant_id)
        .col_expr(photo::Column::AltText, Expr::value(alt.clone()))
        .filter(photo::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    tx.audit(
        NewEvent::new("booking.photo.alt_changed", "booking_photo", Some(id)).details(json!({
            "resource_id": before.resource_id, "before": before.alt_text, "after": alt,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(PhotoInfo {
        alt_text: alt,
        ..before
    })
}

/// Who asks for a picture: the public pages show photos without signing in.
#[derive(Debug, Clone, Copy)]
pub enum Visitor<'a> {
    Anonymous,
    SignedIn(Actor<'a>),
}

/// Whether the photos of `r` may be shown to this visitor: anyone for active resources on the
/// public pages, else staff who may book or manage and see the resource.
async fn may_view(conn: &impl ConnectionTrait, who: Visitor<'_>, r: &Resource) -> Result<bool> {
    if r.active && (r.bookable_by == rules::PUBLIC || r.bookable_by == rules::ORGANISATIONS) {
        return Ok(true);
    }
    let Visitor::SignedIn(by) = who else {
        return Ok(false);
    };
    if by.require_tenant(TenantId(r.tenant_id)).is_err()
        || !(service::may(by, BOOK) || service::may(by, MANAGE))
    {
        return Ok(false);
    }
    match service::get_resource(conn, by, ResourceId(r.id)).await {
        Ok(_) => Ok(true),
        Err(Error::NotFound | Error::Forbidden) => Ok(false),
        Err(e) => Err(e),
    }
}

/// A stored picture for serving: its ETag, whether it may be cached publicly, and the bytes
/// (None when the request's If-None-Match names the ETag).
pub struct Served {
    pub etag: String,
    pub public: bool,
    pub body: Option<photo_files::Body>,
}

/// The picture (or thumbnail) of photo `id` for `who`; NotFound where the resource is not
/// visible to them. `client_has(etag)` says whether the client holds that version already
/// (If-None-Match), so that the bytes are not loaded for a 304.
pub async fn served(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    who: Visitor<'_>,
    id: PhotoId,
    small: bool,
    client_has: &(dyn Fn(&str) -> bool + Sync),
) -> Result<Served> {
    let id = i64::from(id);
    let p = find_info(conn, tenant, PhotoId(id)).await?;
    let r = rathaus_store::uow::scoped_by_id::<resource::Entity, _>(tenant, p.resource_id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    if !may_view(conn, who, &r).await? {
        return Err(Error::NotFound);
    }
    let public = r.active && r.bookable_by != rules::STAFF;
    // The photo behind an id never changes (a new picture is a new photo), so its hash makes a
    // strong validator for both sizes.
    let etag = if small {
        format!("\"{}-klein\"", p.sha256)
    } else {
        format!("\"{}\"", p.sha256)
    };
    if client_has(&etag) {
        return Ok(Served {
            etag,
            public,
            body: None,
        });
    }
    let body = photo_files::body(conn, tenant, id, small).await?;
    Ok(Served {
        etag,
        public,
        body: Some(body),
    })
}
