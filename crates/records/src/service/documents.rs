//! Documents and their versions on the platform's file store: upload (streamed, with the
//! text extraction and the search index queued in the same transaction), new versions,
//! downloads with the read audit for restricted kinds.

use super::access::Filter;
use super::files::{ERR_NOT_OPEN, OBJECT, READ_DOCUMENT, audit_read, visible};
use super::{actor_label, parse_date, today};
use crate::domain::{Coded, Direction, FileState, normalize_tags};
use crate::permissions::MANAGE;
use crate::store::entity::{case, document, file, version};
use bytes::Bytes;
use chrono::Utc;
use futures_util::{Stream, StreamExt};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::Db;
use rathaus_store::files::{ByteRange, Download, FileId, FileMeta, FileStore, Limits, NewFile};
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, QueryFilter, QueryOrder};

/// The module name on the file store, and the kinds of its files there.
pub const FILES_MODULE: &str = "records";
pub const FILES_KIND_DOCUMENT: &str = "document";
pub const FILES_KIND_INBOX: &str = "inbox";

pub const ERR_EMPTY: &str = "records.err.empty";
pub const ERR_OTHER_FILE: &str = "records.err.other_file";

/// What describes a new document (the content comes separately).
#[derive(Debug, Clone, Default)]
pub struct DocumentInput {
    /// Empty: the file name.
    pub title: String,
    /// Empty: today.
    pub doc_date: String,
    /// A `Direction` code; empty: incoming.
    pub direction: String,
    /// Comma-separated.
    pub tags: String,
    pub case_id: Option<i64>,
}

/// A stored document version.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Stored {
    pub id: i64,
    pub file_id: i64,
    pub version: i32,
    pub sha256: String,
    pub size: i64,
}

type Body = std::pin::Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// The upload without leading empty chunks; a body without any byte is refused before
/// anything is stored.
pub(crate) async fn non_empty_body<S>(body: S) -> Result<Body>
where
    S: Stream<Item = std::io::Result<Bytes>> + Send + 'static,
{
    let mut body = Box::pin(body);
    loop {
        match body.next().await {
            None => return Err(FieldErrors::single("file", ERR_EMPTY)),
            Some(Ok(c)) if c.is_empty() => continue,
            Some(first) => {
                return Ok(Box::pin(futures_util::stream::iter([first]).chain(body)));
            }
        }
    }
}

/// Releases a stored file whose document could not be written (its own transaction).
async fn release(db: &Db, files: &FileStore, tenant: TenantId, by: Actor<'_>, id: FileId) {
    let done = async {
        let tx = Tx::begin(&db.conn, tenant, by).await?;
        files.delete(&tx, id).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = done {
        tracing::warn!(error = %e, file = id.0, "could not release an unused upload");
    }
}

/// The open file a document goes into (`Conflict` when closed or handed over).
async fn open_file<C: sea_orm::ConnectionTrait>(
    conn: &C,
    find: sea_orm::Select<file::Entity>,
    by: Actor<'_>,
    id: i64,
) -> Result<file::Model> {
    let f = visible(conn, find, by, id).await?;
    if f.state != FileState::Open.code() {
        return Err(Error::Conflict(ERR_NOT_OPEN.into()));
    }
    Ok(f)
}

struct ValidDoc {
    title: String,
    doc_date: chrono::NaiveDate,
    direction: Direction,
    tags: Vec<String>,
}

fn validate(input: &DocumentInput, name: &str) -> Result<ValidDoc> {
    let mut errs = FieldErrors::new();
    let title = if input.title.trim().is_empty() {
        let n = rathaus_store::files::clean_name(name);
        let n = n.rsplit_once('.').map(|(a, _)| a.to_string()).unwrap_or(n);
        if n.trim().is_empty() {
            errs.add("title", "err.required");
        }
        n.chars().take(300).collect()
    } else {
        errs.text("title", &input.title, 300)
    };
    let doc_date = parse_date(&mut errs, "doc_date", &input.doc_date).unwrap_or_else(today);
    let direction = if input.direction.trim().is_empty() {
        Some(Direction::Incoming)
    } else {
        Direction::parse(&input.direction)
    };
    if direction.is_none() {
        errs.add("direction", "records.err.choice");
    }
    let tags = normalize_tags(&input.tags);
    if tags.join(",").chars().count() > 1000 {
        errs.add_arg("tags", "err.too_long", Some(1000));
    }
    errs.into_result()?;
    Ok(ValidDoc {
        title,
        doc_date,
        direction: direction.unwrap_or(Direction::Incoming),
        tags,
    })
}

async fn add_version_row(
    tx: &Tx<'_>,
    by: Actor<'_>,
    doc_id: i64,
    number: i32,
    meta: &FileMeta,
) -> Result<version::Model> {
    tx.insert(version::ActiveModel {
        document_id: Set(doc_id),
        version: Set(number),
        file_ref: Set(meta.id.0),
        name: Set(meta.original_name.clone()),
        size: Set(i64::try_from(meta.size).map_err(Error::internal)?),
        sha256: Set(meta.sha256.clone()),
        mime: Set(meta.media_type.clone()),
        uploaded_by_id: Set(by.principal().map(|p| p.user_id.0)),
        uploaded_by: Set(actor_label(by)),
        uploaded_at: Set(Utc::now()),
        ..Default::default()
    })
    .await
}

/// Queues the text extraction of the new content and the document's search entry.
async fn index_later(tx: &Tx<'_>, doc_id: i64, file_ref: FileId) -> Result<()> {
    rathaus_search::enqueue(tx, super::search::KIND, doc_id, rathaus_search::Op::Upsert).await?;
    rathaus_extract::enqueue_and_reindex(tx, file_ref, super::search::KIND, doc_id).await
}

/// Files a new document into an open file: needs `records.manage` and the file's kind.
#[allow(clippy::too_many_arguments)]
pub async fn add<S>(
    db: &Db,
    files: &FileStore,
    by: Actor<'_>,
    tenant: TenantId,
    file_id: i64,
    input: &DocumentInput,
    limits: Limits,
    name: &str,
    body: S,
) -> Result<Stored>
where
    S: Stream<Item = std::io::Result<Bytes>> + Send + 'static,
{
    by.require(MANAGE)?;
    let v = validate(input, name)?;
    {
        let s = Scope::new(&db.conn, tenant, by)?;
        open_file(s.conn(), s.find::<file::Entity>(), by, file_id).await?;
        if let Some(c) = input.case_id {
            check_case(&s, c, file_id).await?;
        }
    }
    let body = non_empty_body(body).await?;
    let meta = files
        .put_stream(
            db,
            tenant,
            by,
            NewFile {
                module: FILES_MODULE,
                kind: FILES_KIND_DOCUMENT,
                original_name: name,
            },
            limits,
            body,
        )
        .await?;
    match attach_new(db, by, tenant, file_id, input.case_id, &v, &meta).await {
        Ok(s) => Ok(s),
        Err(e) => {
            release(db, files, tenant, by, meta.id).await;
            Err(e)
        }
    }
}

async fn check_case<C: sea_orm::ConnectionTrait>(
    s: &Scope<'_, C>,
    case_id: i64,
    file_id: i64,
) -> Result<()> {
    let c = s
        .find::<case::Entity>()
        .filter(case::Column::Id.eq(case_id))
        .filter(case::Column::FileId.eq(file_id))
        .one(s.conn())
        .await?;
    if c.is_none() {
        return Err(FieldErrors::single("case_id", ERR_OTHER_FILE));
    }
    Ok(())
}

async fn attach_new(
    db: &Db,
    by: Actor<'_>,
    tenant: TenantId,
    file_id: i64,
    case_id: Option<i64>,
    v: &ValidDoc,
    meta: &FileMeta,
) -> Result<Stored> {
    let tx = Tx::begin(&db.conn, tenant, by).await?;
    let f = open_file(tx.conn(), tx.find::<file::Entity>(), by, file_id).await?;
    let doc = tx
        .insert(document::ActiveModel {
            file_id: Set(f.id),
            case_id: Set(case_id),
            access: Set(f.access.clone()),
            title: Set(v.title.clone()),
            doc_date: Set(v.doc_date),
            direction: Set(v.direction.code().to_string()),
            tags: Set(v.tags.join(",")),
            current_version: Set(1),
            file_ref: Set(meta.id.0),
            created_at: Set(Utc::now()),
            created_by: Set(actor_label(by)),
            ..Default::default()
        })
        .await?;
    let ver = add_version_row(&tx, by, doc.id, 1, meta).await?;
    tx.audit(
        NewEvent::new("records.document.added", OBJECT, Some(f.id)).details(serde_json::json!({
            "document_id": doc.id,
            "version": 1,
            "sha256": meta.sha256,
            "size": meta.size,
        })),
    )
    .await?;
    index_later(&tx, doc.id, meta.id).await?;
    tx.commit().await?;
    Ok(Stored {
        id: doc.id,
        file_id: f.id,
        version: ver.version,
        sha256: ver.sha256,
        size: ver.size,
    })
}

/// Uploads a new version of a document. `file_id`, when given (the file page), must be the
/// document's file; the file must be open.
#[allow(clippy::too_many_arguments)]
pub async fn add_version<S>(
    db: &Db,
    files: &FileStore,
    by: Actor<'_>,
    tenant: TenantId,
    document_id: i64,
    file_id: Option<i64>,
    limits: Limits,
    name: &str,
    body: S,
) -> Result<Stored>
where
    S: Stream<Item = std::io::Result<Bytes>> + Send + 'static,
{
    by.require(MANAGE)?;
    {
        let s = Scope::new(&db.conn, tenant, by)?;
        let doc = visible_document(&s, by, document_id).await?;
        if file_id.is_some_and(|f| f != doc.file_id) {
            return Err(FieldErrors::single("file", ERR_OTHER_FILE));
        }
        open_file(s.conn(), s.find::<file::Entity>(), by, doc.file_id).await?;
    }
    let body = non_empty_body(body).await?;
    let meta = files
        .put_stream(
            db,
            tenant,
            by,
            NewFile {
                module: FILES_MODULE,
                kind: FILES_KIND_DOCUMENT,
                original_name: name,
            },
            limits,
            body,
        )
        .await?;
    match attach_version(db, by, tenant, document_id, &meta).await {
        Ok(s) => Ok(s),
        Err(e) => {
            release(db, files, tenant, by, meta.id).await;
            Err(e)
        }
    }
}

async fn attach_version(
    db: &Db,
    by: Actor<'_>,
    tenant: TenantId,
    document_id: i64,
    meta: &FileMeta,
) -> Result<Stored> {
    let tx = Tx::begin(&db.conn, tenant, by).await?;
    let doc = tx
        .find::<document::Entity>()
        .filter(Filter::of(by).documents())
        .filter(document::Column::Id.eq(document_id))
        .one(tx.conn())
        .await?
        .ok_or(Error::NotFound)?;
    let f = open_file(tx.conn(), tx.find::<file::Entity>(), by, doc.file_id).await?;
    let number = doc.current_version + 1;
    let ver = add_version_row(&tx, by, doc.id, number, meta).await?;
    // Compare-and-set on the version number: a concurrent upload loses (unique index too).
    let res = tx
        .update_many::<document::Entity>()
        .col_expr(document::Column::CurrentVersion, Expr::value(number))
        .col_expr(document::Column::FileRef, Expr::value(meta.id.0))
        .filter(document::Column::Id.eq(doc.id))
        .filter(document::Column::CurrentVersion.eq(doc.current_version))
        .exec(tx.conn())
        .await?;
    if res.rows_affected != 1 {
        return Err(Error::Conflict("records.err.concurrent".into()));
    }
    tx.audit(
        NewEvent::new("records.document.version_added", OBJECT, Some(f.id)).details(
            serde_json::json!({
                "document_id": doc.id,
                "version": number,
                "sha256": meta.sha256,
                "size": meta.size,
            }),
        ),
    )
    .await?;
    index_later(&tx, doc.id, meta.id).await?;
    tx.commit().await?;
    Ok(Stored {
        id: doc.id,
        file_id: f.id,
        version: number,
        sha256: ver.sha256,
        size: ver.size,
    })
}

/// A document the reader may open, or `NotFound`.
pub async fn visible_document<C: sea_orm::ConnectionTrait>(
    s: &Scope<'_, C>,
    by: Actor<'_>,
    id: i64,
) -> Result<document::Model> {
    s.find::<document::Entity>()
        .filter(Filter::of(by).documents())
        .filter(document::Column::Id.eq(id))
        .one(s.conn())
        .await?
        .ok_or(Error::NotFound)
}

/// A document with its versions (newest first).
pub async fn get(
    db: &Db,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
) -> Result<(document::Model, Vec<version::Model>)> {
    let s = Scope::new(&db.conn, tenant, by)?;
    let doc = visible_document(&s, by, id).await?;
    let versions = s
        .find::<version::Entity>()
        .filter(version::Column::DocumentId.eq(doc.id))
        .order_by_desc(version::Column::Version)
        .all(s.conn())
        .await?;
    Ok((doc, versions))
}

/// Streams a version of a document (the current one by default), or a byte range of it;
/// restricted kinds write the read audit first.
pub async fn download(
    db: &Db,
    files: &FileStore,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
    version_no: Option<i32>,
    range: Option<ByteRange>,
) -> Result<(document::Model, version::Model, Download)> {
    let s = Scope::new(&db.conn, tenant, by)?;
    let doc = visible_document(&s, by, id).await?;
    let ver = s
        .find::<version::Entity>()
        .filter(version::Column::DocumentId.eq(doc.id))
        .filter(version::Column::Version.eq(version_no.unwrap_or(doc.current_version)))
        .one(s.conn())
        .await?
        .ok_or(Error::NotFound)?;
    let f = visible(s.conn(), s.find::<file::Entity>(), by, doc.file_id).await?;
    audit_read(
        &db.conn,
        by,
        tenant,
        &f,
        READ_DOCUMENT,
        serde_json::json!({ "document_id": doc.id, "version": ver.version }),
    )
    .await?;
    let dl = files
        .get(&db.conn, tenant, by, FileId(ver.file_ref), range)
        .await?;
    Ok((doc, ver, dl))
}
