//! The subject access export (Art. 15 DSGVO, issue 11 item 10): for a person named by name
//! and birth date, every file about them (its subject is that person; with its sub-files) the
//! requester may see, as one ZIP with the current version of each document and a readable
//! `index.html`. The request is audited (who, for whom, how many) before the first byte goes
//! out, together with the read audit of the restricted files it opens; the ZIP is streamed
//! (one chunk at a time, never whole in memory).

use std::collections::HashMap;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use askama::Template;
use bytes::Bytes;
use chrono::{NaiveDate, Utc};
use chrono_tz::Europe::Berlin;
use futures_util::Stream;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::files::{FileId, FileStore};
use rathaus_store::uow::{Actor, Tx};
use rathaus_web::i18n::{Catalog, Lang, catalog};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, QueryFilter, QueryOrder};
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, ZipWriter};

use super::access::Filter;
use super::files::{OBJECT, READ_FILE};
use super::parse_date;
use crate::domain::{AccessClass, Coded, Direction, FileKind};
use crate::permissions::SUBJECT_ACCESS;
use crate::store::entity::{case, document, file, version};

/// The audit action of a request.
pub const AUDIT: &str = "records.subject_access";

const CHUNK: usize = 64 * 1024;

/// The form as typed.
#[derive(Debug, Clone, Default)]
pub struct SubjectInput {
    pub name: String,
    pub birth_date: String,
}

/// One document in the ZIP.
#[derive(Debug, Clone)]
pub struct Entry {
    pub document: document::Model,
    pub version: Option<version::Model>,
    /// The path inside the ZIP.
    pub path: String,
}

/// One file with its cases and documents.
#[derive(Debug, Clone)]
pub struct Found {
    pub file: file::Model,
    pub cases: Vec<case::Model>,
    pub entries: Vec<Entry>,
}

/// A started export: the ZIP's name, what it holds and the body.
pub struct Export {
    pub name: String,
    pub files: usize,
    pub documents: usize,
    pub body: Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>,
}

/// A name compared without case, order of its parts, commas or extra spaces
/// (`Mustermann, Erika` is `Erika Mustermann`).
fn name_key(s: &str) -> Vec<String> {
    let mut parts: Vec<String> = s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|p| !p.is_empty())
        .map(str::to_lowercase)
        .collect();
    parts.sort();
    parts
}

/// A safe part of a path inside the ZIP: no separators, no control characters, not empty.
fn safe(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let out = out.trim_start_matches('.').to_string();
    if out.is_empty() { "_".into() } else { out }
}

/// Checks the input: the name (required) and the birth date (required, a date).
pub fn validate(input: &SubjectInput) -> Result<(String, NaiveDate)> {
    let mut errs = FieldErrors::new();
    let name = errs.text("name", &input.name, 200);
    let birth = parse_date(&mut errs, "birth_date", &input.birth_date);
    if input.birth_date.trim().is_empty() {
        errs.add("birth_date", "err.required");
    }
    errs.into_result()?;
    Ok((name, birth.ok_or(Error::NotFound)?))
}

/// Every file about the person the reader may see (with its sub-files), its cases and the
/// documents of both, by Aktenzeichen.
pub async fn find(tx: &Tx<'_>, by: Actor<'_>, name: &str, birth: NaiveDate) -> Result<Vec<Found>> {
    let filter = Filter::of(by);
    let conn = tx.conn();
    let key = name_key(name);
    let mut files: Vec<file::Model> = tx
        .find::<file::Entity>()
        .filter(filter.files())
        .filter(file::Column::SubjectBirthDate.eq(birth))
        .all(conn)
        .await?
        .into_iter()
        .filter(|f| f.subject_name.as_deref().map(name_key) == Some(key.clone()))
        .collect();
    let ids: Vec<i64> = files.iter().map(|f| f.id).collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    // Sub-files of a personnel file are about the same person, whatever their subject says.
    let subs = tx
        .find::<file::Entity>()
        .filter(filter.files())
        .filter(file::Column::ParentId.is_in(ids.clone()))
        .filter(file::Column::Id.is_not_in(ids))
        .all(conn)
        .await?;
    files.extend(subs);
    files.sort_by(|a, b| a.file_number.cmp(&b.file_number).then(a.id.cmp(&b.id)));
    let ids: Vec<i64> = files.iter().map(|f| f.id).collect();
    let cases = tx
        .find::<case::Entity>()
        .filter(case::Column::FileId.is_in(ids.clone()))
        .order_by_asc(case::Column::OpenedOn)
        .order_by_asc(case::Column::Id)
        .all(conn)
        .await?;
    let docs = tx
        .find::<document::Entity>()
        .filter(Condition::all().add(filter.documents()))
        .filter(document::Column::FileId.is_in(ids))
        .order_by_asc(document::Column::DocDate)
        .order_by_asc(document::Column::Id)
        .all(conn)
        .await?;
    let mut versions: HashMap<(i64, i32), version::Model> = tx
        .find::<version::Entity>()
        .filter(version::Column::DocumentId.is_in(docs.iter().map(|d| d.id).collect::<Vec<_>>()))
        .all(conn)
        .await?
        .into_iter()
        .map(|v| ((v.document_id, v.version), v))
        .collect();
    Ok(files
        .into_iter()
        .enumerate()
        .map(|(n, f)| {
            let dir = format!("{:03}_{}", n + 1, safe(&f.file_number));
            let entries = docs
                .iter()
                .filter(|d| d.file_id == f.id)
                .map(|d| {
                    let v = versions.remove(&(d.id, d.current_version));
                    let leaf = v.as_ref().map_or_else(|| safe(&d.title), |v| safe(&v.name));
                    Entry {
                        path: format!("{dir}/{}_{leaf}", d.id),
                        document: d.clone(),
                        version: v,
                    }
                })
                .collect();
            Found {
                cases: cases
                    .iter()
                    .filter(|c| c.file_id == f.id)
                    .cloned()
                    .collect(),
                file: f,
                entries,
            }
        })
        .collect())
}

struct IndexFile {
    number: String,
    title: String,
    kind: String,
    opened: String,
    closed: String,
    cases: Vec<String>,
    docs: Vec<IndexDoc>,
}

struct IndexDoc {
    title: String,
    date: String,
    direction: String,
    version: i32,
    path: String,
}

#[derive(Template)]
#[template(path = "records/subject_access_index.html")]
struct IndexTpl<'a> {
    t: &'a Catalog,
    name: String,
    birth: String,
    made: String,
    by: String,
    files: Vec<IndexFile>,
    total_docs: usize,
}

fn de(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

/// The readable index (German, for the person who asked).
pub fn index_html(found: &[Found], name: &str, birth: NaiveDate, by: &str) -> Result<String> {
    let t = catalog(Lang::De);
    let label = |key: String, code: &str| {
        let s = t.get(&key);
        if s == key {
            code.to_string()
        } else {
            s.to_string()
        }
    };
    let tpl = IndexTpl {
        t,
        name: name.to_string(),
        birth: de(birth),
        made: Utc::now()
            .with_timezone(&Berlin)
            .format("%d.%m.%Y %H:%M")
            .to_string(),
        by: by.to_string(),
        total_docs: found.iter().map(|f| f.entries.len()).sum(),
        files: found
            .iter()
            .map(|f| IndexFile {
                number: f.file.file_number.clone(),
                title: f.file.title.clone(),
                kind: FileKind::parse(&f.file.kind)
                    .map_or_else(|| f.file.kind.clone(), |k| label(k.label_key(), k.code())),
                opened: de(f.file.opened_on),
                closed: f.file.closed_on.map(de).unwrap_or_default(),
                cases: f
                    .cases
                    .iter()
                    .map(|c| format!("{} ({})", c.title, de(c.opened_on)))
                    .collect(),
                docs: f
                    .entries
                    .iter()
                    .map(|e| IndexDoc {
                        title: e.document.title.clone(),
                        date: de(e.document.doc_date),
                        direction: Direction::parse(&e.document.direction).map_or_else(
                            || e.document.direction.clone(),
                            |d| label(d.label_key(), d.code()),
                        ),
                        version: e.document.current_version,
                        path: e.path.clone(),
                    })
                    .collect(),
            })
            .collect(),
    };
    tpl.render().map_err(Error::internal_from)
}

fn options(path: &str) -> SimpleFileOptions {
    // Already compressed formats are stored as they are.
    let packed = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .is_some_and(|e| {
            [
                "pdf", "jpg", "jpeg", "png", "zip", "docx", "xlsx", "odt", "gz",
            ]
            .contains(&e.as_str())
        });
    SimpleFileOptions::default()
        .compression_method(if packed {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        })
        .large_file(true)
}

/// The bytes the ZIP writer produced that the async side has not sent yet.
#[derive(Clone, Default)]
struct Pending(Arc<Mutex<Vec<u8>>>);

impl Pending {
    fn take(&self) -> Vec<u8> {
        match self.0.lock() {
            Ok(mut g) => std::mem::take(&mut *g),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        }
    }
}

impl Write for Pending {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.lock() {
            Ok(mut g) => g.extend_from_slice(buf),
            Err(p) => p.into_inner().extend_from_slice(buf),
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A ZIP written to an `AsyncWrite` chunk by chunk.
struct AsyncZip<W: AsyncWrite + Unpin> {
    zip: ZipWriter<StreamWriter<Pending>>,
    pending: Pending,
    out: W,
}

impl<W: AsyncWrite + Unpin> AsyncZip<W> {
    fn new(out: W) -> Self {
        let pending = Pending::default();
        AsyncZip {
            zip: ZipWriter::new_stream(pending.clone()),
            pending,
            out,
        }
    }

    async fn drain(&mut self) -> std::io::Result<()> {
        let bytes = self.pending.take();
        if !bytes.is_empty() {
            self.out.write_all(&bytes).await?;
        }
        Ok(())
    }

    async fn add<R: tokio::io::AsyncRead + Unpin>(&mut self, path: &str, r: &mut R) -> Result<()> {
        self.zip
            .start_file(path, options(path))
            .map_err(Error::internal_from)?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = r.read(&mut buf).await.map_err(Error::internal_from)?;
            if n == 0 {
                break;
            }
            self.zip
                .write_all(&buf[..n])
                .map_err(Error::internal_from)?;
            self.drain().await.map_err(Error::internal_from)?;
        }
        Ok(())
    }

    async fn finish(self) -> Result<()> {
        let AsyncZip {
            zip,
            pending,
            mut out,
        } = self;
        zip.finish().map_err(Error::internal_from)?;
        out.write_all(&pending.take())
            .await
            .map_err(Error::internal_from)?;
        out.flush().await.map_err(Error::internal_from)
    }
}

/// Produces the export: permission, validation, the search, the audit (committed), then
/// the ZIP streamed by a task.
pub async fn export(
    db: &DatabaseConnection,
    files_store: Arc<FileStore>,
    by: Actor<'_>,
    tenant: TenantId,
    input: &SubjectInput,
) -> Result<Export> {
    by.require(SUBJECT_ACCESS)?;
    let (name, birth) = validate(input)?;
    let tx = Tx::begin(db, tenant, by).await?;
    let found = find(&tx, by, &name, birth).await?;
    let documents: usize = found.iter().map(|f| f.entries.len()).sum();
    tx.audit(
        NewEvent::new(AUDIT, OBJECT, None::<i64>).details(serde_json::json!({
            "name": name,
            "birth_date": birth,
            "files": found.len(),
            "documents": documents,
            "file_ids": found.iter().map(|f| f.file.id).collect::<Vec<_>>(),
        })),
    )
    .await?;
    for f in &found {
        let restricted = AccessClass::parse(&f.file.access).is_none_or(AccessClass::restricted);
        if restricted {
            tx.audit(
                NewEvent::new(READ_FILE, OBJECT, Some(f.file.id))
                    .details(serde_json::json!({ "subject_access": true })),
            )
            .await?;
        }
    }
    tx.commit().await?;

    let who = by
        .principal()
        .map_or_else(|| by.recorded().label, |p| p.name.clone());
    let index = index_html(&found, &name, birth, &who)?;
    let files = found.len();
    let (writer, reader) = tokio::io::duplex(CHUNK);
    let conn = db.clone();
    tokio::spawn(async move {
        let run = async {
            let mut zip = AsyncZip::new(writer);
            zip.add("index.html", &mut index.as_bytes()).await?;
            for e in found.iter().flat_map(|f| &f.entries) {
                let dl = files_store
                    .get(
                        &conn,
                        tenant,
                        Actor::system("records.subject_access"),
                        FileId(e.document.file_ref),
                        None,
                    )
                    .await?;
                let mut r = tokio_util::io::StreamReader::new(dl.body);
                zip.add(&e.path, &mut r).await?;
            }
            zip.finish().await
        };
        if let Err(e) = run.await {
            tracing::error!(error = %e, "records: the subject access ZIP stopped");
        }
    });
    Ok(Export {
        name: format!(
            "{}-{}.zip",
            catalog(Lang::De).get("records.subject_access.zip_name"),
            Utc::now().with_timezone(&Berlin).format("%Y-%m-%d")
        ),
        files,
        documents,
        body: Box::pin(tokio_util::io::ReaderStream::with_capacity(reader, CHUNK)),
    })
}
