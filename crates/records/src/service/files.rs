//! Files (Akten): creation with the Aktenzeichen from the tenant's pattern and counter,
//! lookups and lists through the access filter, closing with retention dates, the read
//! audit and the access log.

use super::access::Filter;
use super::{actor_label, parse_date, today};
use crate::domain::pattern::{self, Pattern};
use crate::domain::{
    self, AccessClass, Coded, FileKind, FileState, RetentionDates, RetentionStart, SubKind,
};
use crate::permissions::MANAGE;
use crate::store::entity::{
    case, counter, document, file, follow_up, plan_item, settings, version,
};
use chrono::{Datelike, NaiveDate, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::contains_ci;
use rathaus_store::entity::audit_event;
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DatabaseConnection, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

/// A stored file as callers outside the service (handlers, CLI) read it; they never name the
/// entity module themselves.
pub type File = file::Model;

/// Audit actions of the read audit (object `records.file`, id the file's).
pub const READ_FILE: &str = "records.file.read";
pub const READ_DOCUMENT: &str = "records.document.downloaded";
/// The object type under which every event of a file is recorded.
pub const OBJECT: &str = "records.file";

/// A new file as typed (form or API); dates as `YYYY-MM-DD` or `TT.MM.JJJJ`.
#[derive(Debug, Clone, Default)]
pub struct FileInput {
    pub plan_code: String,
    pub title: String,
    /// A `FileKind` code.
    pub kind: String,
    pub subject_name: String,
    pub subject_birth_date: String,
    /// The main personnel file of a sub-file (Teilakte), with `sub_kind`.
    pub parent_id: Option<i64>,
    pub sub_kind: String,
    pub department_id: Option<i64>,
    /// Empty: today.
    pub opened_on: String,
    pub application_on: String,
    pub approval_end_on: String,
    pub dog_name: String,
    pub dog_breed: String,
    pub dog_list_dog: bool,
    pub dog_tag: String,
    pub dog_registered_on: String,
    pub dog_deregistered_on: String,
    pub dog_tax_class: String,
    pub leaving_on: String,
}

pub const ERR_PLAN_UNKNOWN: &str = "records.err.plan_unknown";
pub const ERR_NOT_OPEN: &str = "records.err.not_open";
pub const ERR_PARENT: &str = "records.err.parent";

fn opt(errs: &mut FieldErrors, field: &str, v: &str, max: usize) -> Option<String> {
    let s = errs.optional_text(field, v, max);
    (!s.is_empty()).then_some(s)
}

/// The tenant's Aktenzeichen pattern (the default until one is set).
pub async fn pattern_of(tx: &Tx<'_>) -> Result<Pattern> {
    let s = tx
        .find::<settings::Entity>()
        .one(tx.conn())
        .await?
        .map(|s| s.file_number_pattern)
        .unwrap_or_else(|| pattern::DEFAULT.to_string());
    Pattern::parse(&s).map_err(|_| Error::internal("stored Aktenzeichen pattern is invalid"))
}

/// Sets the tenant's Aktenzeichen pattern (needs `records.manage`); a pattern that would
/// repeat numbers (without `{seq}`) is refused.
pub async fn set_pattern(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    text: &str,
) -> Result<()> {
    by.require(MANAGE)?;
    let text = text.trim();
    Pattern::parse(text).map_err(|k| FieldErrors::single("pattern", k))?;
    let tx = Tx::begin(db, tenant, by).await?;
    let existing = tx.find::<settings::Entity>().one(tx.conn()).await?;
    match existing {
        Some(s) => {
            tx.update_many::<settings::Entity>()
                .col_expr(settings::Column::FileNumberPattern, Expr::value(text))
                .filter(settings::Column::Id.eq(s.id))
                .exec(tx.conn())
                .await?;
        }
        None => {
            tx.insert(settings::ActiveModel {
                file_number_pattern: Set(text.to_string()),
                ..Default::default()
            })
            .await?;
        }
    }
    tx.audit(
        NewEvent::new("records.pattern.set", "records.settings", None::<i64>)
            .details(serde_json::json!({ "pattern": text })),
    )
    .await?;
    tx.commit().await
}

/// The next Aktenzeichen, counted in the caller's transaction: the counter row of the
/// pattern's scope is bumped (or created), so a number is never handed out twice, and the
/// unique index on `file_number` guards what the counter would miss.
pub async fn next_number(tx: &Tx<'_>, plan_code: &str, on: NaiveDate) -> Result<String> {
    let pat = pattern_of(tx).await?;
    let (scope, year) = pat.counter_key(plan_code, on.year());
    // One statement: insert the scope's first number, or bump the existing row (also when
    // two first files of a scope race: the second waits for the row and bumps it).
    let row = counter::ActiveModel {
        tenant_id: Set(tx.tenant().0),
        scope: Set(scope),
        year: Set(year),
        last_seq: Set(1),
        ..Default::default()
    };
    let seq = counter::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                counter::Column::TenantId,
                counter::Column::Scope,
                counter::Column::Year,
            ])
            .value(
                counter::Column::LastSeq,
                Expr::col((counter::Entity, counter::Column::LastSeq)).add(1),
            )
            .to_owned(),
        )
        .exec_with_returning(tx.conn())
        .await?
        .last_seq;
    Ok(pat.render(plan_code, on.year(), seq))
}

/// Creates a file: needs `records.manage` and the permission of its kind.
pub async fn create(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    input: &FileInput,
) -> Result<file::Model> {
    by.require(MANAGE)?;
    let mut errs = FieldErrors::new();
    let kind = FileKind::parse(&input.kind);
    if kind.is_none() {
        errs.add("kind", "records.err.choice");
    }
    let sub_kind = if input.sub_kind.trim().is_empty() {
        None
    } else {
        let s = SubKind::parse(&input.sub_kind);
        if s.is_none() {
            errs.add("sub_kind", "records.err.choice");
        }
        s
    };
    let kind = kind.unwrap_or(FileKind::General);
    let class = AccessClass::of(kind, sub_kind);
    // The kind's permission before anything else is looked at.
    for p in class.permissions() {
        by.require(p)?;
    }
    let title = errs.text("title", &input.title, 300);
    let subject_name = opt(&mut errs, "subject_name", &input.subject_name, 200);
    let birth = parse_date(&mut errs, "subject_birth_date", &input.subject_birth_date);
    let opened_on = parse_date(&mut errs, "opened_on", &input.opened_on).unwrap_or_else(today);
    let application_on = parse_date(&mut errs, "application_on", &input.application_on);
    let approval_end_on = parse_date(&mut errs, "approval_end_on", &input.approval_end_on);
    let dog_registered_on = parse_date(&mut errs, "dog_registered_on", &input.dog_registered_on);
    let dog_deregistered_on =
        parse_date(&mut errs, "dog_deregistered_on", &input.dog_deregistered_on);
    let leaving_on = parse_date(&mut errs, "leaving_on", &input.leaving_on);
    let dog_name = opt(&mut errs, "dog_name", &input.dog_name, 100);
    let dog_breed = opt(&mut errs, "dog_breed", &input.dog_breed, 100);
    let dog_tag = opt(&mut errs, "dog_tag", &input.dog_tag, 40);
    let dog_tax_class = opt(&mut errs, "dog_tax_class", &input.dog_tax_class, 40);
    if kind != FileKind::Personnel && (input.parent_id.is_some() || sub_kind.is_some()) {
        errs.add("sub_kind", ERR_PARENT);
    }
    if sub_kind.is_some() != input.parent_id.is_some() {
        errs.add("sub_kind", ERR_PARENT);
    }
    if input.plan_code.trim().is_empty() {
        errs.add("plan_code", "err.required");
    }
    let tx = Tx::begin(db, tenant, by).await?;
    let plan =
        super::plan::by_code(tx.find::<plan_item::Entity>(), tx.conn(), &input.plan_code).await?;
    if plan.is_none() && !input.plan_code.trim().is_empty() {
        errs.add("plan_code", ERR_PLAN_UNKNOWN);
    }
    if let Some(pid) = input.parent_id {
        let parent = tx
            .find::<file::Entity>()
            .filter(Filter::of(by).files())
            .filter(file::Column::Id.eq(pid))
            .one(tx.conn())
            .await?;
        if !parent.is_some_and(|p| p.kind == FileKind::Personnel.code() && p.parent_id.is_none()) {
            errs.add("parent_id", ERR_PARENT);
        }
    }
    errs.into_result()?;
    let plan = plan.ok_or(Error::NotFound)?;
    let number = next_number(&tx, &plan.code, opened_on).await?;
    let row = tx
        .insert(file::ActiveModel {
            plan_item_id: Set(plan.id),
            parent_id: Set(input.parent_id),
            sub_kind: Set(sub_kind.map(|s| s.code().to_string())),
            kind: Set(kind.code().to_string()),
            access: Set(class.code().to_string()),
            title: Set(title),
            file_number: Set(number),
            subject_name: Set(subject_name),
            subject_birth_date: Set(birth),
            department_id: Set(input.department_id),
            state: Set(FileState::Open.code().to_string()),
            opened_on: Set(opened_on),
            closed_on: Set(None),
            retention_start_on: Set(None),
            retention_until: Set(None),
            application_on: Set(application_on),
            approval_end_on: Set(approval_end_on),
            dog_name: Set(dog_name),
            dog_breed: Set(dog_breed),
            dog_list_dog: Set(input.dog_list_dog),
            dog_tag: Set(dog_tag),
            dog_registered_on: Set(dog_registered_on),
            dog_deregistered_on: Set(dog_deregistered_on),
            dog_tax_class: Set(dog_tax_class),
            leaving_on: Set(leaving_on),
            created_at: Set(Utc::now()),
            created_by: Set(actor_label(by)),
            ..Default::default()
        })
        .await?;
    // Restricted files keep personal data out of the audit details.
    tx.audit(
        NewEvent::new("records.file.created", OBJECT, Some(row.id)).details(serde_json::json!({
            "file_number": row.file_number,
            "kind": row.kind,
            "plan": plan.code,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// A file the reader may open, or `NotFound` (a restricted file of another kind is not
/// revealed). No read audit: for internal lookups.
pub async fn visible<C: sea_orm::ConnectionTrait>(
    conn: &C,
    find: sea_orm::Select<file::Entity>,
    by: Actor<'_>,
    id: i64,
) -> Result<file::Model> {
    find.filter(Filter::of(by).files())
        .filter(file::Column::Id.eq(id))
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// Writes the read audit event of a restricted file (its own small transaction).
pub async fn audit_read(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    f: &file::Model,
    action: &str,
    details: serde_json::Value,
) -> Result<()> {
    let restricted = AccessClass::parse(&f.access).is_none_or(AccessClass::restricted);
    if !restricted {
        return Ok(());
    }
    let tx = Tx::begin(db, tenant, by).await?;
    tx.audit(NewEvent::new(action, OBJECT, Some(f.id)).details(details))
        .await?;
    tx.commit().await
}

/// Everything the file page shows.
#[derive(Debug, Clone)]
pub struct FileView {
    pub file: file::Model,
    pub plan: plan_item::Model,
    pub parent: Option<file::Model>,
    /// Sub-files the reader may open.
    pub sub_files: Vec<file::Model>,
    pub cases: Vec<case::Model>,
    pub documents: Vec<document::Model>,
    /// All versions of the documents, newest first per document.
    pub versions: Vec<version::Model>,
    pub follow_ups: Vec<follow_up::Model>,
}

/// Opens a file (the read audit for restricted kinds).
pub async fn open(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
) -> Result<FileView> {
    let view = load_view(db, by, tenant, id).await?;
    audit_read(
        db,
        by,
        tenant,
        &view.file,
        READ_FILE,
        serde_json::json!({ "file_number": view.file.file_number }),
    )
    .await?;
    Ok(view)
}

async fn load_view(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
) -> Result<FileView> {
    let filter = Filter::of(by);
    filter.require_any()?;
    let s = Scope::new(db, tenant, by)?;
    let f = visible(s.conn(), s.find::<file::Entity>(), by, id).await?;
    let plan = s.get::<plan_item::Entity, _>(f.plan_item_id).await?;
    let parent = match f.parent_id {
        Some(p) => {
            s.find::<file::Entity>()
                .filter(filter.files())
                .filter(file::Column::Id.eq(p))
                .one(s.conn())
                .await?
        }
        None => None,
    };
    let sub_files = s
        .find::<file::Entity>()
        .filter(filter.files())
        .filter(file::Column::ParentId.eq(f.id))
        .order_by_asc(file::Column::Id)
        .all(s.conn())
        .await?;
    let cases = s
        .find::<case::Entity>()
        .filter(case::Column::FileId.eq(f.id))
        .order_by_asc(case::Column::Id)
        .all(s.conn())
        .await?;
    let documents = s
        .find::<document::Entity>()
        .filter(filter.documents())
        .filter(document::Column::FileId.eq(f.id))
        .order_by_desc(document::Column::DocDate)
        .order_by_desc(document::Column::Id)
        .all(s.conn())
        .await?;
    // By the documents' ids, at most 1,000 per query (well under every database's parameter
    // limit). A subquery instead let SQLite walk every version of the tenant (70 ms at
    // 1,000,000 documents).
    let mut versions = Vec::new();
    let ids: Vec<i64> = documents.iter().map(|d| d.id).collect();
    for chunk in ids.chunks(1000) {
        versions.extend(
            s.find::<version::Entity>()
                .filter(version::Column::DocumentId.is_in(chunk.iter().copied()))
                .order_by_asc(version::Column::DocumentId)
                .order_by_desc(version::Column::Version)
                .all(s.conn())
                .await?,
        );
    }
    let follow_ups = s
        .find::<follow_up::Entity>()
        .filter(follow_up::Column::FileId.eq(f.id))
        .order_by_asc(follow_up::Column::DueOn)
        .all(s.conn())
        .await?;
    Ok(FileView {
        file: f,
        plan,
        parent,
        sub_files,
        cases,
        documents,
        versions,
        follow_ups,
    })
}

/// Filters of the file list.
#[derive(Debug, Clone, Default)]
pub struct FileQuery {
    pub kind: Option<FileKind>,
    pub state: Option<FileState>,
    pub plan_item_id: Option<i64>,
    /// Part of the Aktenzeichen, the title or the subject's name, in any case.
    pub q: String,
    pub page: u64,
}

pub const PAGE_SIZE: u64 = 50;

/// The files the reader may open that match, newest first, and how many there are.
pub async fn list(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    q: &FileQuery,
) -> Result<(u64, Vec<file::Model>)> {
    let filter = Filter::of(by);
    filter.require_any()?;
    let s = Scope::new(db, tenant, by)?;
    let mut sel = s.find::<file::Entity>().filter(filter.files());
    if let Some(k) = q.kind {
        sel = sel.filter(file::Column::Kind.eq(k.code()));
    }
    if let Some(st) = q.state {
        sel = sel.filter(file::Column::State.eq(st.code()));
    }
    if let Some(p) = q.plan_item_id {
        sel = sel.filter(file::Column::PlanItemId.eq(p));
    }
    let text = q.q.trim();
    if !text.is_empty() {
        let backend = db.get_database_backend();
        sel = sel.filter(
            Condition::any()
                .add(contains_ci(backend, file::Column::FileNumber, text))
                .add(contains_ci(backend, file::Column::Title, text))
                .add(contains_ci(backend, file::Column::SubjectName, text)),
        );
    }
    let total = sel.clone().count(s.conn()).await?;
    let rows = sel
        .order_by_desc(file::Column::Id)
        .limit(PAGE_SIZE)
        .offset(q.page * PAGE_SIZE)
        .all(s.conn())
        .await?;
    Ok((total, rows))
}

/// A file by its Aktenzeichen (the inbox's one-action assignment).
pub async fn by_number(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    number: &str,
) -> Result<file::Model> {
    let s = Scope::new(db, tenant, by)?;
    s.find::<file::Entity>()
        .filter(Filter::of(by).files())
        .filter(file::Column::FileNumber.eq(number.trim()))
        .one(s.conn())
        .await?
        .ok_or(Error::NotFound)
}

/// The retention dates of a file under its plan item's rule (None while it is open).
pub fn retention_of(f: &file::Model, plan: &plan_item::Model) -> Option<(NaiveDate, NaiveDate)> {
    let rule = RetentionStart::parse(&plan.retention_start).unwrap_or(RetentionStart::Closing);
    domain::retention(
        rule,
        plan.retention_years,
        &RetentionDates {
            closed_on: f.closed_on,
            dog_deregistered_on: f.dog_deregistered_on,
            leaving_on: f.leaving_on,
            approval_end_on: f.approval_end_on,
        },
    )
}

/// Closes an open file on `closed_on` (empty: today) and sets its retention dates.
pub async fn close(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
    closed_on: &str,
) -> Result<file::Model> {
    by.require(MANAGE)?;
    let mut errs = FieldErrors::new();
    let on = parse_date(&mut errs, "closed_on", closed_on).unwrap_or_else(today);
    let tx = Tx::begin(db, tenant, by).await?;
    let f = visible(tx.conn(), tx.find::<file::Entity>(), by, id).await?;
    if f.state != FileState::Open.code() {
        return Err(Error::Conflict(ERR_NOT_OPEN.into()));
    }
    if on < f.opened_on {
        errs.add("closed_on", "records.err.closed_before_opened");
    }
    errs.into_result()?;
    let plan = tx.get::<plan_item::Entity, _>(f.plan_item_id).await?;
    let mut closed = f.clone();
    closed.closed_on = Some(on);
    let ret = retention_of(&closed, &plan);
    tx.update_many::<file::Entity>()
        .col_expr(file::Column::State, Expr::value(FileState::Closed.code()))
        .col_expr(file::Column::ClosedOn, Expr::value(on))
        .col_expr(
            file::Column::RetentionStartOn,
            Expr::value(ret.map(|r| r.0)),
        )
        .col_expr(file::Column::RetentionUntil, Expr::value(ret.map(|r| r.1)))
        .filter(file::Column::Id.eq(f.id))
        .filter(file::Column::State.eq(FileState::Open.code()))
        .exec(tx.conn())
        .await?;
    tx.audit(
        NewEvent::new("records.file.closed", OBJECT, Some(f.id)).details(serde_json::json!({
            "file_number": f.file_number,
            "closed_on": on,
            "retention_until": ret.map(|r| r.1),
        })),
    )
    .await?;
    tx.commit().await?;
    let s = Scope::new(db, tenant, by)?;
    s.get::<file::Entity, _>(id).await
}

/// Creates a case (Vorgang) in an open file.
pub async fn create_case(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    file_id: i64,
    title: &str,
) -> Result<case::Model> {
    by.require(MANAGE)?;
    let mut errs = FieldErrors::new();
    let title = errs.text("title", title, 300);
    errs.into_result()?;
    let tx = Tx::begin(db, tenant, by).await?;
    let f = visible(tx.conn(), tx.find::<file::Entity>(), by, file_id).await?;
    if f.state != FileState::Open.code() {
        return Err(Error::Conflict(ERR_NOT_OPEN.into()));
    }
    let row = tx
        .insert(case::ActiveModel {
            file_id: Set(f.id),
            title: Set(title),
            opened_on: Set(today()),
            closed_on: Set(None),
            created_at: Set(Utc::now()),
            ..Default::default()
        })
        .await?;
    tx.audit(
        NewEvent::new("records.case.created", OBJECT, Some(f.id))
            .details(serde_json::json!({ "case_id": row.id })),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// One entry of a file's access log.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AccessEntry {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub document_id: Option<i64>,
}

/// Who opened the file or downloaded its documents (newest first, at most 500): the read
/// audit events of the platform's audit chain. Whoever may open the file may see it.
pub async fn access_log(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
) -> Result<Vec<AccessEntry>> {
    let s = Scope::new(db, tenant, by)?;
    let f = visible(s.conn(), s.find::<file::Entity>(), by, id).await?;
    let rows = s
        .find::<audit_event::Entity>()
        .filter(audit_event::Column::Action.is_in([READ_FILE, READ_DOCUMENT]))
        .filter(audit_event::Column::ObjectType.eq(OBJECT))
        .filter(audit_event::Column::ObjectId.eq(f.id.to_string()))
        .order_by_desc(audit_event::Column::Seq)
        .limit(500)
        .all(s.conn())
        .await?;
    Ok(rows
        .into_iter()
        .map(|e| {
            let details: serde_json::Value =
                serde_json::from_str(&e.details).unwrap_or(serde_json::Value::Null);
            AccessEntry {
                at: e.at,
                actor: e.actor_label,
                action: e.action,
                document_id: details.get("document_id").and_then(|v| v.as_i64()),
            }
        })
        .collect())
}

/// The dog-tax register: every dog-tax file (needs `records.dog`), by tag number.
pub async fn dog_register(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
) -> Result<Vec<file::Model>> {
    by.require(crate::permissions::DOG)?;
    let s = Scope::new(db, tenant, by)?;
    Ok(s.find::<file::Entity>()
        .filter(Filter::of(by).files())
        .filter(file::Column::Kind.eq(FileKind::Dog.code()))
        .filter(file::Column::ParentId.is_null())
        .order_by_asc(file::Column::DogTag)
        .order_by_asc(file::Column::Id)
        .all(s.conn())
        .await?)
}

/// Records that the register left the system (an export of personal data).
pub async fn audit_export(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    what: &str,
    rows: usize,
) -> Result<()> {
    let tx = Tx::begin(db, tenant, by).await?;
    tx.audit(
        NewEvent::new("records.exported", "records.export", None::<i64>)
            .details(serde_json::json!({ "what": what, "rows": rows })),
    )
    .await?;
    tx.commit().await
}
