//! Files attached to pages (issue 14, item 1): editors of the handbook upload them, whoever
//! may read the page downloads them, editors delete them; every upload and deletion is
//! audited. The content goes to the platform's file service; the type is told by the
//! content and must be on the allow-list (`domain::attachments`); pictures are re-encoded
//! through the platform's image helper before they are stored, so EXIF/GPS data and
//! anything hidden in the file are gone. Attachment names are found with their page in the
//! search.

use super::{Reader, editable, readable, search};
use crate::domain::attachments::{self as rules, Class};
use crate::store::entity::attachment;
use chrono::Utc;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result};
use rathaus_store::Db;
use rathaus_store::files::{self, Download, FileId, FileStore, Limits, NewFile};
use rathaus_store::images::{self, Bounds, ImageError};
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;

pub use crate::store::entity::attachment::Model as Attachment;

/// The form field of the upload and its errors.
pub const FIELD: &str = "file";

const IMAGE_BOUNDS: Bounds = Bounds {
    max_bytes: rules::MAX_BYTES as usize,
    max_pixels: rules::MAX_PIXELS,
};

/// The decoded pixels a picture may take (a 10,000² RGBA picture would need 400 MB).
const MAX_ALLOC: u64 = 256 * 1024 * 1024;

fn image_error(e: ImageError) -> Error {
    FieldErrors::single(
        FIELD,
        match e {
            ImageError::TooLarge => "knowledge.err.image_too_large",
            ImageError::UnsupportedType | ImageError::Broken => "knowledge.err.image_broken",
        },
    )
}

/// The picture re-encoded (on the blocking pool: decoding is CPU work).
async fn reencode(data: Vec<u8>, class: Class) -> Result<Vec<u8>> {
    let out = tokio::task::spawn_blocking(move || match class {
        Class::Jpeg => images::reencode_jpeg(
            &data,
            &IMAGE_BOUNDS,
            MAX_ALLOC,
            rules::IMAGE_FIT,
            // The helper also makes a thumbnail; a small one costs little.
            64,
            85,
        )
        .map(|p| p.jpeg),
        Class::Png => images::reencode_png(&data, &IMAGE_BOUNDS, rules::IMAGE_FIT),
        Class::Document => Ok(data),
    })
    .await
    .unwrap_or(Err(ImageError::Broken));
    out.map_err(image_error)
}

/// The attachments of a page the reader may read, oldest first.
pub async fn list(db: &Db, by: Actor<'_>, page_id: i64) -> Result<Vec<Attachment>> {
    let r = Reader::load(&db.conn, by).await?;
    readable(&db.conn, &r, page_id).await?;
    Ok(Scope::user(&db.conn, r.p)
        .find::<attachment::Entity>()
        .filter(attachment::Column::PageId.eq(page_id))
        .order_by_asc(attachment::Column::Id)
        .all(&db.conn)
        .await?)
}

/// Attaches an upload to a page (an editor of its handbook). Refused with a field error on
/// `file`: empty, larger than the limit, a type not on the allow-list, a broken or too large
/// picture, or the tenant's quota.
pub async fn add(
    db: &Db,
    files: &FileStore,
    by: Actor<'_>,
    page_id: i64,
    name: &str,
    data: &[u8],
    limits: Limits,
) -> Result<Attachment> {
    by.require(crate::permissions::EDIT)
        .or_else(|_| by.require(crate::permissions::MANAGE))?;
    let r = Reader::load(&db.conn, by).await?;
    {
        let tx = Tx::begin(&db.conn, r.p.tenant_id, by).await?;
        editable(&tx, &r, page_id).await?;
    }
    let max = limits.max_size.min(rules::MAX_BYTES);
    if data.is_empty() {
        return Err(FieldErrors::single(FIELD, "knowledge.err.attachment_empty"));
    }
    if data.len() as u64 > max {
        let mut e = FieldErrors::new();
        e.add_arg(FIELD, files::ERR_TOO_LARGE, Some(files::human_size(max)));
        return Err(Error::Invalid(e));
    }
    let sniffed = files::sniff(&data[..data.len().min(8192)]);
    let Some(class) = rules::classify(&sniffed) else {
        return Err(FieldErrors::single(FIELD, "knowledge.err.attachment_type"));
    };
    let name = files::clean_name(name);
    let name = rules::stored_name(if name.is_empty() { "anhang" } else { &name }, class);
    let body = reencode(data.to_vec(), class).await?;
    let meta = files
        .put(
            db,
            r.p.tenant_id,
            by,
            NewFile {
                module: "knowledge",
                kind: "attachment",
                original_name: &name,
            },
            Limits {
                max_size: max,
                ..limits
            },
            &body[..],
        )
        .await?;
    let stored = async {
        let tx = Tx::begin(&db.conn, r.p.tenant_id, by).await?;
        let a = tx
            .insert(attachment::ActiveModel {
                page_id: Set(page_id),
                file_id: Set(meta.id.0),
                name: Set(name.clone()),
                media_type: Set(meta.media_type.clone()),
                size: Set(i64::try_from(meta.size).unwrap_or(i64::MAX)),
                uploaded_by_id: Set(Some(r.p.user_id.0)),
                uploaded_by: Set(r.p.name.clone()),
                created_at: Set(Utc::now()),
                ..Default::default()
            })
            .await?;
        search::index_later(&tx, page_id).await?;
        if class == Class::Document {
            // The document's text is extracted in the background; the page is indexed again
            // with it, so a search finds the page by what its attachments say.
            rathaus_extract::enqueue_and_reindex(&tx, meta.id, search::KIND, page_id).await?;
        }
        tx.audit(
            NewEvent::new(
                "knowledge.attachment_added",
                "knowledge_page",
                Some(page_id),
            )
            .details(json!({
                "attachment": a.id,
                "file": meta.id.0,
                "name": name,
                "media_type": meta.media_type,
                "size": meta.size,
                "sha256": meta.sha256,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, Error>(a)
    }
    .await;
    if stored.is_err() {
        // Nothing refers to the stored file: give it back to the collector.
        if let Ok(tx) = Tx::begin(&db.conn, r.p.tenant_id, by).await
            && files.delete(&tx, meta.id).await.is_ok()
        {
            let _ = tx.commit().await;
        }
    }
    stored
}

/// An attachment with its content, for a reader of its page; anything else is `NotFound`.
pub async fn download(
    db: &Db,
    files: &FileStore,
    by: Actor<'_>,
    id: i64,
) -> Result<(Attachment, Download)> {
    let r = Reader::load(&db.conn, by).await?;
    let a = Scope::user(&db.conn, r.p)
        .get::<attachment::Entity, _>(id)
        .await?;
    readable(&db.conn, &r, a.page_id).await?;
    let dl = files
        .get(&db.conn, r.p.tenant_id, by, FileId(a.file_id), None)
        .await?;
    Ok((a, dl))
}

/// Deletes an attachment (an editor of its page's handbook); the content goes with its last
/// reference. Returns the page's id.
pub async fn delete(db: &Db, files: &FileStore, by: Actor<'_>, id: i64) -> Result<i64> {
    let r = Reader::load(&db.conn, by).await?;
    let tx = Tx::begin(&db.conn, r.p.tenant_id, by).await?;
    let a = tx.get::<attachment::Entity, _>(id).await?;
    editable(&tx, &r, a.page_id).await?;
    tx.delete_many::<attachment::Entity>()
        .filter(attachment::Column::Id.eq(a.id))
        .exec(tx.conn())
        .await?;
    files.delete(&tx, FileId(a.file_id)).await?;
    search::index_later(&tx, a.page_id).await?;
    tx.audit(
        NewEvent::new(
            "knowledge.attachment_deleted",
            "knowledge_page",
            Some(a.page_id),
        )
        .details(json!({"attachment": a.id, "file": a.file_id, "name": a.name})),
    )
    .await?;
    tx.commit().await?;
    Ok(a.page_id)
}
