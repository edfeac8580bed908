//! Measures of the catalogue: create, change, delete, read, list with filters.

use super::{COORDINATE, EDIT, Measure, Phase, READ, TOPIC, phases, who};
use crate::domain;
use crate::store::entity::{concern, measure, move_event};
use chrono::{NaiveDate, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::live::Hub;
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

pub const MAX_TITLE: usize = 200;
pub const MAX_DESCRIPTION: usize = 50_000;
pub const MAX_SHORT: usize = 200;
pub const PAGE_SIZE: u64 = 100;

/// What a form or the API sends for a measure; every field as text, checked here once.
#[derive(Debug, Clone, Default)]
pub struct MeasureInput {
    pub title: String,
    pub description: String,
    pub source: String,
    pub department: String,
    pub departments: String,
    pub category: String,
    pub size: String,
    pub benefit: String,
    pub effort: String,
    pub responsible_id: String,
    pub planned_start: String,
    pub due: String,
    pub funding: String,
    pub links: String,
    pub tags: String,
    pub module_link: String,
}

impl MeasureInput {
    /// The input that leaves a measure as it is.
    pub fn of(m: &Measure) -> Self {
        MeasureInput {
            title: m.title.clone(),
            description: m.description.clone(),
            source: m.source.clone(),
            department: m.department.clone(),
            departments: m.departments.clone(),
            category: m.category.clone(),
            size: m.size.clone(),
            benefit: m.benefit.to_string(),
            effort: m.effort.to_string(),
            responsible_id: m.responsible_id.map(|i| i.to_string()).unwrap_or_default(),
            planned_start: m.planned_start.map(|d| d.to_string()).unwrap_or_default(),
            due: m.due.map(|d| d.to_string()).unwrap_or_default(),
            funding: m.funding.clone(),
            links: m.links.clone(),
            tags: m.tags.clone(),
            module_link: m.module_link.clone(),
        }
    }
}

/// The checked values of a measure.
pub(crate) struct Checked {
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) source: String,
    pub(crate) department: String,
    pub(crate) departments: String,
    pub(crate) category: String,
    pub(crate) size: String,
    pub(crate) benefit: i32,
    pub(crate) effort: i32,
    pub(crate) responsible_id: Option<i64>,
    pub(crate) planned_start: Option<NaiveDate>,
    pub(crate) due: Option<NaiveDate>,
    pub(crate) funding: String,
    pub(crate) links: String,
    pub(crate) tags: String,
    pub(crate) module_link: String,
}

fn score(errs: &mut FieldErrors, field: &str, v: &str) -> i32 {
    match v.trim() {
        "" => 3,
        v => match v.parse::<i32>() {
            Ok(n) if (domain::SCORE_MIN..=domain::SCORE_MAX).contains(&n) => n,
            _ => {
                errs.add(field, "programme.err.score");
                3
            }
        },
    }
}

fn date(errs: &mut FieldErrors, field: &str, v: &str) -> Option<NaiveDate> {
    match v.trim() {
        "" => None,
        v => match NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .or_else(|_| NaiveDate::parse_from_str(v, "%d.%m.%Y"))
        {
            Ok(d) => Some(d),
            Err(_) => {
                errs.add(field, "programme.err.date");
                None
            }
        },
    }
}

fn one_of(errs: &mut FieldErrors, field: &str, v: &str, allowed: &[&str], default: &str) -> String {
    let v = v.trim();
    if v.is_empty() {
        return default.to_string();
    }
    if allowed.contains(&v) {
        v.to_string()
    } else {
        errs.add(field, "programme.err.choice");
        default.to_string()
    }
}

/// The one check of a measure's input (forms, API, import).
pub(crate) fn check(inp: &MeasureInput) -> Result<Checked> {
    let mut errs = FieldErrors::new();
    let c = Checked {
        title: errs.text("title", &inp.title, MAX_TITLE),
        description: errs.optional_text("description", &inp.description, MAX_DESCRIPTION),
        source: errs.optional_text("source", &inp.source, MAX_SHORT),
        department: errs.text("department", &inp.department, 120),
        departments: errs.optional_text("departments", &inp.departments, 500),
        category: one_of(
            &mut errs,
            "category",
            &inp.category,
            domain::CATEGORIES,
            "internal_processes",
        ),
        size: one_of(&mut errs, "size", &inp.size, domain::SIZES, "medium"),
        benefit: score(&mut errs, "benefit", &inp.benefit),
        effort: score(&mut errs, "effort", &inp.effort),
        responsible_id: match inp.responsible_id.trim() {
            "" => None,
            v => match v.parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    errs.add("responsible_id", "programme.err.choice");
                    None
                }
            },
        },
        planned_start: date(&mut errs, "planned_start", &inp.planned_start),
        due: date(&mut errs, "due", &inp.due),
        funding: errs.optional_text("funding", &inp.funding, MAX_SHORT),
        links: errs.optional_text("links", &inp.links, 5_000),
        tags: errs.optional_text("tags", &inp.tags, 300),
        module_link: errs.optional_text("module_link", &inp.module_link, MAX_SHORT),
    };
    if let (Some(a), Some(b)) = (c.planned_start, c.due)
        && b < a
    {
        errs.add("due", "programme.err.due_before_start");
    }
    if !c.module_link.is_empty() && !c.module_link.starts_with('/') {
        errs.add("module_link", "programme.err.module_link");
    }
    errs.into_result()?;
    Ok(c)
}

/// The name of the responsible staff member (refused when not an active member of staff).
async fn responsible_name<C: sea_orm::ConnectionTrait>(
    conn: &C,
    tenant: TenantId,
    id: Option<i64>,
) -> Result<String> {
    let Some(id) = id else {
        return Ok(String::new());
    };
    match rathaus_store::accounts::user_by_id(conn, tenant, id).await {
        Ok(u) if u.active => Ok(u.name),
        Ok(_) | Err(Error::NotFound) => Err(FieldErrors::single(
            "responsible_id",
            "programme.err.choice",
        )),
        Err(e) => Err(e),
    }
}

/// Creates a measure in the first phase, at its end.
pub async fn create(
    db: &DatabaseConnection,
    live: Option<&Hub>,
    by: Actor<'_>,
    tenant: TenantId,
    inp: &MeasureInput,
) -> Result<(Measure, Phase)> {
    by.require(EDIT)?;
    let c = check(inp)?;
    let first = phases(db, Actor::system("programme phases"), tenant)
        .await?
        .into_iter()
        .next()
        .ok_or(Error::NotFound)?;
    let mut tx = Tx::begin(db, tenant, by).await?;
    let formula = super::settings::formula_in(tx.conn(), tenant).await?;
    let name = responsible_name(tx.conn(), tenant, c.responsible_id).await?;
    let m = insert_checked(&tx, by, first.id, formula, c, name).await?;
    tx.audit(
        NewEvent::new("programme.measure.created", "programme_measure", Some(m.id))
            .details(serde_json::json!({ "title": m.title, "department": m.department })),
    )
    .await?;
    if let Some(h) = live {
        h.publish(&mut tx, TOPIC, Some(&m.id.to_string())).await?;
    }
    tx.commit().await?;
    Ok((m, first))
}

/// Inserts a checked measure at the end of a phase with its first move and its search entry,
/// in the caller's transaction (create and the import).
pub(crate) async fn insert_checked(
    tx: &Tx<'_>,
    by: Actor<'_>,
    phase_id: i64,
    formula: domain::PriorityFormula,
    c: Checked,
    responsible_name: String,
) -> Result<Measure> {
    let last = tx
        .find::<measure::Entity>()
        .filter(measure::Column::PhaseId.eq(phase_id))
        .order_by_desc(measure::Column::Position)
        .one(tx.conn())
        .await?;
    let now = Utc::now();
    let m = tx
        .insert(measure::ActiveModel {
            title: Set(c.title),
            description: Set(c.description),
            source: Set(c.source),
            department: Set(c.department),
            departments: Set(c.departments),
            category: Set(c.category),
            size: Set(c.size),
            benefit: Set(c.benefit),
            effort: Set(c.effort),
            priority: Set(formula.compute(c.benefit, c.effort)),
            responsible_id: Set(c.responsible_id),
            responsible_name: Set(responsible_name),
            planned_start: Set(c.planned_start),
            due: Set(c.due),
            funding: Set(c.funding),
            links: Set(c.links),
            tags: Set(c.tags),
            module_link: Set(c.module_link),
            phase_id: Set(phase_id),
            position: Set(domain::between(last.map(|l| l.position), None).unwrap_or(domain::GAP)),
            version: Set(1),
            phase_since: Set(now),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .await?;
    let (uid, uname) = who(by);
    tx.insert(move_event::ActiveModel {
        measure_id: Set(m.id),
        from_phase_id: Set(None),
        to_phase_id: Set(phase_id),
        moved_by: Set(uid),
        moved_by_name: Set(uname),
        at: Set(now),
        ..Default::default()
    })
    .await?;
    super::search::index_later(tx, m.id, false).await?;
    Ok(m)
}

/// Changes a measure; with `version`, refused when it changed meanwhile.
pub async fn update(
    db: &DatabaseConnection,
    live: Option<&Hub>,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
    inp: &MeasureInput,
    version: Option<i32>,
) -> Result<Measure> {
    by.require(EDIT)?;
    let c = check(inp)?;
    let mut tx = Tx::begin(db, tenant, by).await?;
    let old = tx.get::<measure::Entity, _>(id).await?;
    let formula = super::settings::formula_in(tx.conn(), tenant).await?;
    if version.is_some_and(|v| v != old.version) {
        return Err(Error::Conflict("programme.err.changed_meanwhile".into()));
    }
    let name = if c.responsible_id == old.responsible_id {
        old.responsible_name.clone()
    } else {
        responsible_name(tx.conn(), tenant, c.responsible_id).await?
    };
    let now = Utc::now();
    let new = Measure {
        title: c.title,
        description: c.description,
        source: c.source,
        department: c.department,
        departments: c.departments,
        category: c.category,
        size: c.size,
        benefit: c.benefit,
        effort: c.effort,
        priority: formula.compute(c.benefit, c.effort),
        responsible_id: c.responsible_id,
        responsible_name: name,
        planned_start: c.planned_start,
        due: c.due,
        funding: c.funding,
        links: c.links,
        tags: c.tags,
        module_link: c.module_link,
        version: old.version + 1,
        updated_at: now,
        ..old.clone()
    };
    let res = tx
        .update_many::<measure::Entity>()
        .col_expr(measure::Column::Title, new.title.clone().into())
        .col_expr(measure::Column::Description, new.description.clone().into())
        .col_expr(measure::Column::Source, new.source.clone().into())
        .col_expr(measure::Column::Department, new.department.clone().into())
        .col_expr(measure::Column::Departments, new.departments.clone().into())
        .col_expr(measure::Column::Category, new.category.clone().into())
        .col_expr(measure::Column::Size, new.size.clone().into())
        .col_expr(measure::Column::Benefit, new.benefit.into())
        .col_expr(measure::Column::Effort, new.effort.into())
        .col_expr(measure::Column::Priority, new.priority.into())
        .col_expr(measure::Column::ResponsibleId, new.responsible_id.into())
        .col_expr(
            measure::Column::ResponsibleName,
            new.responsible_name.clone().into(),
        )
        .col_expr(measure::Column::PlannedStart, new.planned_start.into())
        .col_expr(measure::Column::Due, new.due.into())
        .col_expr(measure::Column::Funding, new.funding.clone().into())
        .col_expr(measure::Column::Links, new.links.clone().into())
        .col_expr(measure::Column::Tags, new.tags.clone().into())
        .col_expr(measure::Column::ModuleLink, new.module_link.clone().into())
        .col_expr(measure::Column::Version, new.version.into())
        .col_expr(measure::Column::UpdatedAt, now.into())
        .filter(measure::Column::Id.eq(id))
        .filter(measure::Column::Version.eq(old.version))
        .exec(tx.conn())
        .await?;
    if res.rows_affected == 0 {
        return Err(Error::Conflict("programme.err.changed_meanwhile".into()));
    }
    super::search::index_later(&tx, id, false).await?;
    tx.audit(
        NewEvent::new("programme.measure.updated", "programme_measure", Some(id))
            .details(serde_json::json!({ "changes": changes(&old, &new) })),
    )
    .await?;
    if let Some(h) = live {
        h.publish(&mut tx, TOPIC, Some(&id.to_string())).await?;
    }
    tx.commit().await?;
    Ok(new)
}

/// The fields that differ, old and new value (the measure's change history in the audit log).
fn changes(a: &Measure, b: &Measure) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    let mut cmp = |k: &str, x: String, y: String| {
        if x != y {
            out.insert(k.into(), serde_json::json!([x, y]));
        }
    };
    cmp("title", a.title.clone(), b.title.clone());
    cmp("description", a.description.clone(), b.description.clone());
    cmp("source", a.source.clone(), b.source.clone());
    cmp("department", a.department.clone(), b.department.clone());
    cmp("departments", a.departments.clone(), b.departments.clone());
    cmp("category", a.category.clone(), b.category.clone());
    cmp("size", a.size.clone(), b.size.clone());
    cmp("benefit", a.benefit.to_string(), b.benefit.to_string());
    cmp("effort", a.effort.to_string(), b.effort.to_string());
    cmp(
        "responsible",
        a.responsible_name.clone(),
        b.responsible_name.clone(),
    );
    cmp(
        "planned_start",
        format!("{:?}", a.planned_start),
        format!("{:?}", b.planned_start),
    );
    cmp("due", format!("{:?}", a.due), format!("{:?}", b.due));
    cmp("funding", a.funding.clone(), b.funding.clone());
    cmp("links", a.links.clone(), b.links.clone());
    cmp("tags", a.tags.clone(), b.tags.clone());
    cmp("module_link", a.module_link.clone(), b.module_link.clone());
    serde_json::Value::Object(out)
}

/// Deletes a measure with its history (coordinators); its concerns stay, unlinked.
pub async fn delete(
    db: &DatabaseConnection,
    live: Option<&Hub>,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
) -> Result<()> {
    by.require(COORDINATE)?;
    let mut tx = Tx::begin(db, tenant, by).await?;
    let m = tx.get::<measure::Entity, _>(id).await?;
    tx.update_many::<concern::Entity>()
        .col_expr(concern::Column::MeasureId, Expr::value(None::<i64>))
        .filter(concern::Column::MeasureId.eq(id))
        .exec(tx.conn())
        .await?;
    tx.delete_many::<move_event::Entity>()
        .filter(move_event::Column::MeasureId.eq(id))
        .exec(tx.conn())
        .await?;
    tx.delete_many::<measure::Entity>()
        .filter(measure::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    super::search::index_later(&tx, id, true).await?;
    tx.audit(
        NewEvent::new("programme.measure.deleted", "programme_measure", Some(id))
            .details(serde_json::json!({ "title": m.title })),
    )
    .await?;
    if let Some(h) = live {
        h.publish(&mut tx, TOPIC, Some(&id.to_string())).await?;
    }
    tx.commit().await
}

/// One measure.
pub async fn get(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
) -> Result<Measure> {
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    scope.get::<measure::Entity, _>(id).await
}

/// A phase move of a measure, for its history.
#[derive(Debug, Clone)]
pub struct Stay {
    pub phase_id: i64,
    pub from: chrono::DateTime<Utc>,
    pub until: Option<chrono::DateTime<Utc>>,
    pub by: String,
    pub days: i64,
}

/// The phase history of a measure: how long it stayed in each phase (the last stay is open).
pub async fn history(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
) -> Result<Vec<Stay>> {
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    let moves = scope
        .find::<move_event::Entity>()
        .filter(move_event::Column::MeasureId.eq(id))
        .order_by_asc(move_event::Column::At)
        .order_by_asc(move_event::Column::Id)
        .all(db)
        .await?;
    let now = Utc::now();
    let mut out: Vec<Stay> = Vec::new();
    for m in moves {
        if out.last().is_some_and(|s| s.phase_id == m.to_phase_id) {
            continue; // a reorder within the phase
        }
        if let Some(last) = out.last_mut() {
            last.until = Some(m.at);
            last.days = domain::days_between(last.from, m.at);
        }
        out.push(Stay {
            phase_id: m.to_phase_id,
            from: m.at,
            until: None,
            by: m.moved_by_name,
            days: domain::days_between(m.at, now),
        });
    }
    Ok(out)
}

/// Filters of the catalogue and the board.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub department: Option<String>,
    pub category: Option<String>,
    pub phase_id: Option<i64>,
    pub responsible_id: Option<i64>,
    pub min_priority: Option<i32>,
    pub q: Option<String>,
}

/// Sort orders of the catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    #[default]
    Priority,
    Title,
    Due,
    Department,
}

impl Sort {
    pub fn parse(s: &str) -> Sort {
        match s {
            "titel" => Sort::Title,
            "faellig" => Sort::Due,
            "amt" => Sort::Department,
            _ => Sort::Priority,
        }
    }
}

fn filtered(
    mut q: sea_orm::Select<measure::Entity>,
    f: &Filter,
) -> sea_orm::Select<measure::Entity> {
    if let Some(d) = f.department.as_deref().filter(|d| !d.is_empty()) {
        q = q.filter(measure::Column::Department.eq(d));
    }
    if let Some(c) = f.category.as_deref().filter(|c| !c.is_empty()) {
        q = q.filter(measure::Column::Category.eq(c));
    }
    if let Some(p) = f.phase_id {
        q = q.filter(measure::Column::PhaseId.eq(p));
    }
    if let Some(r) = f.responsible_id {
        q = q.filter(measure::Column::ResponsibleId.eq(r));
    }
    if let Some(p) = f.min_priority {
        q = q.filter(measure::Column::Priority.gte(p));
    }
    if let Some(s) = f.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        q = q.filter(measure::Column::Title.contains(s));
    }
    q
}

/// A page of the catalogue and the number of all matches.
pub async fn list(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    f: &Filter,
    sort: Sort,
    page: u64,
    per_page: u64,
) -> Result<(Vec<Measure>, u64)> {
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    let q = filtered(scope.find::<measure::Entity>(), f);
    let total = q.clone().count(db).await?;
    let q = match sort {
        Sort::Priority => q.order_by_desc(measure::Column::Priority),
        Sort::Title => q.order_by_asc(measure::Column::Title),
        Sort::Due => q.order_by_asc(measure::Column::Due),
        Sort::Department => q.order_by_asc(measure::Column::Department),
    }
    .order_by_asc(measure::Column::Id);
    let rows = q
        .offset(page.saturating_mul(per_page))
        .limit(per_page)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// A card as the board shows it (no description: the board stays small).
#[derive(Debug, Clone, FromQueryResult)]
pub struct Card {
    pub id: i64,
    pub title: String,
    pub department: String,
    pub priority: i32,
    pub responsible_name: String,
    pub due: Option<NaiveDate>,
    pub phase_id: i64,
    pub version: i32,
}

/// The cards of the tenant in board order (phase, position), filtered.
pub async fn cards(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    f: &Filter,
) -> Result<Vec<Card>> {
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    Ok(filtered(scope.find::<measure::Entity>(), f)
        .select_only()
        .columns([
            measure::Column::Id,
            measure::Column::Title,
            measure::Column::Department,
            measure::Column::Priority,
            measure::Column::ResponsibleName,
            measure::Column::Due,
            measure::Column::PhaseId,
            measure::Column::Version,
        ])
        .order_by_asc(measure::Column::PhaseId)
        .order_by_asc(measure::Column::Position)
        .into_model::<Card>()
        .all(db)
        .await?)
}

/// Open concerns per measure.
pub async fn open_concern_counts(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
) -> Result<std::collections::HashMap<i64, i64>> {
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    let rows: Vec<(Option<i64>, i64)> = scope
        .find::<concern::Entity>()
        .select_only()
        .column(concern::Column::MeasureId)
        .column_as(concern::Column::Id.count(), "n")
        .filter(concern::Column::Status.ne("resolved"))
        .group_by(concern::Column::MeasureId)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(m, n)| m.map(|m| (m, n)))
        .collect())
}

/// The departments named in the catalogue, with the number of measures each raised.
pub async fn departments(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
) -> Result<Vec<(String, i64)>> {
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    Ok(scope
        .find::<measure::Entity>()
        .select_only()
        .column(measure::Column::Department)
        .column_as(measure::Column::Id.count(), "n")
        .group_by(measure::Column::Department)
        .order_by_asc(measure::Column::Department)
        .into_tuple()
        .all(db)
        .await?)
}

/// The phase of a measure by id among `phases`.
pub fn phase_of(phases: &[Phase], id: i64) -> Option<&Phase> {
    phases.iter().find(|p| p.id == id)
}

/// For the staff dashboard: the open measures (not done) `user` is responsible for that are
/// due within a week, and whether one is overdue; none for a user without the module.
pub async fn due_for(
    db: &DatabaseConnection,
    by: Actor<'_>,
    user: &rathaus_core::Principal,
) -> Result<(u64, bool)> {
    if by.require(super::READ).is_err() {
        return Ok((0, false));
    }
    let done: Vec<i64> = super::phases(db, by, user.tenant_id)
        .await?
        .into_iter()
        .filter(|p| p.key == crate::domain::DONE_PHASE)
        .map(|p| p.id)
        .collect();
    let today = chrono::Utc::now().date_naive();
    let scope = Scope::new(db, user.tenant_id, by)?;
    let due: Vec<Option<chrono::NaiveDate>> = scope
        .find::<measure::Entity>()
        .filter(measure::Column::ResponsibleId.eq(user.user_id.0))
        .filter(measure::Column::PhaseId.is_not_in(done))
        .filter(measure::Column::Due.lte(today + chrono::Duration::days(7)))
        .select_only()
        .column(measure::Column::Due)
        .into_tuple()
        .all(db)
        .await?;
    let overdue = due.iter().any(|d| d.is_some_and(|d| d < today));
    Ok((due.len() as u64, overdue))
}
