//! From the records tables to the plain xdomea model (`rathaus-xdomea`): files with their
//! cases, documents and versions, the parties of the header, the read errors as field errors.

use crate::domain::{Coded, Direction, FileKind};
use crate::store::entity::{case, document, file, plan_item, version};
use chrono::{DateTime, Utc};
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result};
use rathaus_store::uow::Tx;
use rathaus_xdomea as x;
use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

/// The field of every message error.
pub const FIELD: &str = "message";

/// The parties of the messages: the tenant (sender) and the archive (recipient).
#[derive(Debug, Clone)]
pub struct Parties {
    pub own: x::Party,
    pub archive: x::Party,
}

impl Parties {
    /// The tenant's name as sender; the archive by the name the caller gives.
    pub async fn of(tx: &Tx<'_>, archive_name: &str) -> Result<Parties> {
        use rathaus_store::entity::tenant;
        use sea_orm::EntityTrait;
        let t = tenant::Entity::find_by_id(tx.tenant().0)
            .one(tx.conn())
            .await?
            .ok_or(Error::NotFound)?;
        Ok(Parties {
            own: x::Party {
                name: t.name,
                short_name: Some(t.slug),
                ..Default::default()
            },
            archive: x::Party {
                name: archive_name.to_string(),
                ..Default::default()
            },
        })
    }

    pub fn header(&self, process: x::ProcessId, at: DateTime<Utc>) -> x::Header {
        x::Header {
            process_id: process,
            created_at: at,
            sender: self.own.clone(),
            recipient: self.archive.clone(),
        }
    }
}

/// The object id of a file in an offer (stable: the offer's process id is the namespace).
pub fn file_object(process: x::ProcessId, file_id: i64) -> x::ObjectId {
    x::ObjectId::derived(process.0, x::ObjectKind::File, file_id)
}

pub fn disposition(d: crate::domain::Disposition) -> x::Disposition {
    match d {
        crate::domain::Disposition::A => x::Disposition::A,
        crate::domain::Disposition::B => x::Disposition::B,
        crate::domain::Disposition::V => x::Disposition::V,
    }
}

fn direction(code: &str) -> x::Direction {
    match Direction::parse(code) {
        Some(Direction::Outgoing) => x::Direction::Outgoing,
        Some(Direction::Internal) => x::Direction::Internal,
        _ => x::Direction::Incoming,
    }
}

/// A stored version as it goes into the ZIP: its name there and the file-store reference.
#[derive(Debug, Clone)]
pub struct Primary {
    pub zip_name: String,
    pub file_ref: i64,
}

/// Builds the xdomea file (with sub-files, cases, documents, all versions) and collects the
/// primary files the 0503 carries.
pub async fn record_file(
    tx: &Tx<'_>,
    process: x::ProcessId,
    f: &file::Model,
    plan: &plan_item::Model,
    primaries: &mut Vec<Primary>,
) -> Result<x::RecordFile> {
    let subs = tx
        .find::<file::Entity>()
        .filter(file::Column::ParentId.eq(f.id))
        .order_by_asc(file::Column::Id)
        .all(tx.conn())
        .await?;
    let mut sub_files = Vec::new();
    for s in &subs {
        sub_files.push(Box::pin(one_file(tx, process, s, plan, primaries)).await?);
    }
    let mut main = one_file(tx, process, f, plan, primaries).await?;
    main.sub_files = sub_files;
    Ok(main)
}

async fn one_file(
    tx: &Tx<'_>,
    process: x::ProcessId,
    f: &file::Model,
    plan: &plan_item::Model,
    primaries: &mut Vec<Primary>,
) -> Result<x::RecordFile> {
    let ns = process.0;
    let docs = tx
        .find::<document::Entity>()
        .filter(document::Column::FileId.eq(f.id))
        .order_by_asc(document::Column::DocDate)
        .order_by_asc(document::Column::Id)
        .all(tx.conn())
        .await?;
    let mut versions: Vec<version::Model> = Vec::new();
    let ids: Vec<i64> = docs.iter().map(|d| d.id).collect();
    for chunk in ids.chunks(500) {
        versions.extend(
            tx.find::<version::Entity>()
                .filter(version::Column::DocumentId.is_in(chunk.iter().copied()))
                .order_by_asc(version::Column::DocumentId)
                .order_by_asc(version::Column::Version)
                .all(tx.conn())
                .await?,
        );
    }
    let cases = tx
        .find::<case::Entity>()
        .filter(case::Column::FileId.eq(f.id))
        .order_by_asc(case::Column::Id)
        .all(tx.conn())
        .await?;
    let mut loose = Vec::new();
    let mut by_case: std::collections::HashMap<i64, Vec<x::Document>> = Default::default();
    for d in &docs {
        let vs: Vec<x::Version> = versions
            .iter()
            .filter(|v| v.document_id == d.id)
            .map(|v| {
                let xv = x::Version {
                    id: x::ObjectId::derived(ns, x::ObjectKind::Version, v.id),
                    number: u32::try_from(v.version).unwrap_or(1),
                    name: v.name.clone(),
                    mime: v.mime.clone(),
                    created_by: Some(v.uploaded_by.clone()),
                    created_at: Some(v.uploaded_at),
                };
                primaries.push(Primary {
                    zip_name: xv.zip_name(),
                    file_ref: v.file_ref,
                });
                xv
            })
            .collect();
        let xd = x::Document {
            id: x::ObjectId::derived(ns, x::ObjectKind::Document, d.id),
            title: d.title.clone(),
            date: d.doc_date,
            direction: direction(&d.direction),
            kind: None,
            versions: vs,
        };
        match d.case_id {
            Some(c) if cases.iter().any(|k| k.id == c) => by_case.entry(c).or_default().push(xd),
            _ => loose.push(xd),
        }
    }
    let xcases = cases
        .iter()
        .map(|c| x::Case {
            id: x::ObjectId::derived(ns, x::ObjectKind::Case, c.id),
            title: c.title.clone(),
            reference: None,
            opened_on: c.opened_on,
            closed_on: c.closed_on,
            documents: by_case.remove(&c.id).unwrap_or_default(),
        })
        .collect();
    let kind = FileKind::parse(&f.kind).filter(|k| *k != FileKind::General);
    Ok(x::RecordFile {
        id: file_object(process, f.id),
        file_number: f.file_number.clone(),
        title: f.title.clone(),
        plan_item: x::PlanItem {
            code: plan.code.clone(),
            title: plan.title.clone(),
        },
        kind: kind.map(|k| k.code().to_string()),
        opened_on: f.opened_on,
        closed_on: f.closed_on,
        retention: u16::try_from(plan.retention_years)
            .ok()
            .map(x::Retention::Years),
        retention_until: f.retention_until,
        disposition: disposition(
            crate::domain::Disposition::parse(&plan.disposition)
                .unwrap_or(crate::domain::Disposition::B),
        ),
        documents: loose,
        cases: xcases,
        sub_files: Vec::new(),
    })
}

/// A message the archive sent that cannot be used: 422 with a key per kind of fault (the
/// reader's English text as the argument).
pub fn read_error(e: x::ReadError) -> Error {
    let key = match &e {
        x::ReadError::Malformed(_) => "records.disposal.err.malformed",
        x::ReadError::NotXdomea(_) => "records.disposal.err.not_xdomea",
        x::ReadError::WrongType { .. } => "records.disposal.err.wrong_type",
        x::ReadError::TypeMismatch { .. } => "records.disposal.err.wrong_type",
        x::ReadError::Missing(_) => "records.disposal.err.missing",
        x::ReadError::Invalid { .. } => "records.disposal.err.invalid",
        x::ReadError::UnknownDisposition(_) => "records.disposal.err.unknown_disposition",
        x::ReadError::Duplicate(_) => "records.disposal.err.duplicate",
        x::ReadError::NotOffered(_) => "records.disposal.err.not_offered",
        x::ReadError::Zip(_) => "records.disposal.err.zip",
    };
    let mut errs = FieldErrors::new();
    errs.add_arg(FIELD, key, Some(e.to_string()));
    Error::Invalid(errs)
}

/// A single message error.
pub fn message_error(key: &str) -> Error {
    FieldErrors::single(FIELD, key)
}

/// The offer id of a path: a UUID, else no such offer.
pub fn process_id(id: &str) -> Result<x::ProcessId> {
    Uuid::parse_str(id.trim())
        .map(x::ProcessId)
        .map_err(|_| Error::NotFound)
}
