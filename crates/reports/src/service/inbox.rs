//! The staff's view of the reports: the inbox filters and their query, pages of it, the
//! names of departments and staff, bulk changes, the map's open reports and the statistics.

use crate::permissions::{HANDLE, MODERATE, PERSONAL_DATA};
use crate::service::ReportId;
use crate::service::{self, Category, ModerationState, Report, ReportsState, Status};
use crate::store::entity::report;
use chrono::{DateTime, Datelike, Duration, SecondsFormat, Utc};
use chrono_tz::Europe::Berlin;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::accounts;
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::sea_query::Condition;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseTransaction, QueryFilter, QueryOrder, QuerySelect,
    Select, TransactionTrait,
};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;

/// Reports per page of the inbox.
pub const PAGE: u64 = 25;

/// Holders of neither staff permission are refused before anything is read (the system
/// passes).
pub fn require_staff(by: Actor<'_>) -> Result<()> {
    if by.require(HANDLE).is_ok() || by.require(MODERATE).is_ok() {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// The departments, staff users and categories of a tenant, for names and select boxes.
pub struct Names {
    pub categories: Vec<Category>,
    pub departments: Vec<rathaus_store::entity::department::Model>,
    pub staff: Vec<rathaus_store::entity::user::Model>,
}

impl Names {
    pub async fn load(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Names> {
        Ok(Names {
            categories: service::list_categories(conn, tenant, false).await?,
            departments: accounts::list_departments(conn, tenant).await?,
            staff: staff_users(conn, tenant).await?,
        })
    }

    pub fn category(&self, id: i64) -> String {
        self.categories
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
            .unwrap_or_default()
    }

    pub fn department(&self, id: Option<i64>) -> String {
        id.and_then(|id| self.departments.iter().find(|d| d.id == id))
            .map(|d| d.name.clone())
            .unwrap_or_default()
    }

    pub fn user(&self, id: Option<i64>) -> String {
        id.and_then(|id| self.staff.iter().find(|u| u.id == id))
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }
}

/// The tenant's active staff accounts (the people a report can be assigned to).
pub async fn staff_users(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<rathaus_store::entity::user::Model>> {
    rathaus_store::accounts::list_active_staff(conn, tenant).await
}

/// The inbox filters (query string); also used by the map and the exports.
#[derive(Deserialize, Default, Clone, Debug)]
pub struct Filter {
    /// "" = mine (my department and what is assigned to me), "alle", or a department id.
    #[serde(default)]
    pub bereich: String,
    /// "" = anybody, "ich" = assigned to me, "niemand" = unassigned.
    #[serde(default)]
    pub person: String,
    /// "" = open, "alle", or one status.
    #[serde(default)]
    pub status: String,
    /// Category id or "".
    #[serde(default)]
    pub kategorie: String,
    /// "", "pending", "published" or "hidden".
    #[serde(default)]
    pub moderation: String,
    /// "1": overdue only.
    #[serde(default)]
    pub ueberfaellig: String,
    /// Part of a reference number.
    #[serde(default)]
    pub az: String,
    /// "" = newest first; "faellig" = earliest due date first.
    #[serde(default)]
    pub sortierung: String,
    /// Keyset cursor: the sort time (RFC 3339) and id of the last row shown.
    #[serde(default)]
    pub nach: String,
    /// Bulk result: how many reports were changed.
    #[serde(default)]
    pub geaendert: String,
}

impl Filter {
    pub fn overdue(&self) -> bool {
        self.ueberfaellig == "1"
    }

    /// Sorted by due date (earliest first) instead of newest first.
    pub fn by_due(&self) -> bool {
        self.sortierung == "faellig"
    }

    /// The filters as a query string (without cursor), for links to the next page, the
    /// exports and the map.
    pub fn query(&self) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("bereich", &self.bereich),
            ("person", &self.person),
            ("status", &self.status),
            ("kategorie", &self.kategorie),
            ("moderation", &self.moderation),
            ("ueberfaellig", &self.ueberfaellig),
            ("az", &self.az),
            ("sortierung", &self.sortierung),
        ] {
            if !v.trim().is_empty() {
                s.append_pair(k, v.trim());
            }
        }
        s.finish()
    }

    fn cursor(&self) -> Option<(DateTime<Utc>, i64)> {
        let (t, id) = self.nach.rsplit_once('_')?;
        let t = DateTime::parse_from_rfc3339(t).ok()?.with_timezone(&Utc);
        Some((t, id.parse().ok()?))
    }
}

/// The keyset cursor after `r` in the order of the filters.
pub fn cursor_of(r: &Report, by_due: bool) -> String {
    let t = if by_due { r.due_at } else { r.created_at };
    format!(
        "{}_{}",
        t.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        r.id
    )
}

/// The filters' order: newest first, or earliest due date first (ties by id).
fn ordered(q: Select<report::Entity>, by_due: bool) -> Select<report::Entity> {
    if by_due {
        q.order_by_asc(report::Column::DueAt)
            .order_by_asc(report::Column::Id)
    } else {
        q.order_by_desc(report::Column::CreatedAt)
            .order_by_desc(report::Column::Id)
    }
}

/// The department whose inbox is the user's default (None: no department, so everything;
/// the system has none).
pub async fn own_department<C: ConnectionTrait>(s: &Scope<'_, C>) -> Result<Option<i64>> {
    let by = s.actor();
    let Some(p) = by.principal() else {
        return Ok(None);
    };
    Ok(accounts::user_by_id(s.conn(), s.tenant(), p.user_id.0)
        .await
        .ok()
        .and_then(|u| u.department_id))
}

/// The reports query of the filters (permission first, the scope's tenant; unreadable values
/// in the filters are ignored, never an error).
pub async fn filtered<C: ConnectionTrait>(
    s: &Scope<'_, C>,
    f: &Filter,
) -> Result<Select<report::Entity>> {
    require_staff(s.actor())?;
    let mut q = s.find::<report::Entity>();
    // "Mine" of the system is nobody's: no report is assigned to it.
    let me = s.actor().principal().map(|p| p.user_id.0);
    let assigned_to_me = || match me {
        Some(me) => report::Column::AssigneeId.eq(me),
        None => report::Column::Id.is_null(),
    };
    match f.bereich.trim() {
        "alle" => {}
        "" => {
            if let Some(d) = own_department(s).await? {
                q = q.filter(
                    Condition::any()
                        .add(report::Column::DepartmentId.eq(d))
                        .add(assigned_to_me()),
                );
            }
        }
        "keiner" => q = q.filter(report::Column::DepartmentId.is_null()),
        v => {
            if let Ok(d) = v.parse::<i64>() {
                q = q.filter(report::Column::DepartmentId.eq(d));
            }
        }
    }
    match f.person.trim() {
        "ich" => q = q.filter(assigned_to_me()),
        "niemand" => q = q.filter(report::Column::AssigneeId.is_null()),
        _ => {}
    }
    match f.status.trim() {
        "" | "offen" => q = q.filter(report::Column::IsOpen.eq(true)),
        "alle" => {}
        "geschlossen" => q = q.filter(report::Column::IsOpen.eq(false)),
        v => match v.parse::<Status>() {
            Ok(st) => q = q.filter(report::Column::Status.eq(st.as_str())),
            Err(_) => q = q.filter(report::Column::IsOpen.eq(true)),
        },
    }
    if let Ok(c) = f.kategorie.trim().parse::<i64>() {
        q = q.filter(report::Column::CategoryId.eq(c));
    }
    if let Ok(m) = f.moderation.trim().parse::<ModerationState>() {
        q = q.filter(report::Column::Moderation.eq(m.as_str()));
    }
    if f.overdue() {
        q = q
            .filter(report::Column::IsOpen.eq(true))
            .filter(report::Column::DueAt.lt(Utc::now()));
    }
    let az = f.az.trim().to_ascii_uppercase();
    if !az.is_empty() && az.len() <= 40 {
        q = q.filter(report::Column::Reference.contains(az.as_str()));
    }
    Ok(q)
}

/// One page of the inbox, newest first, and the cursor of the next page.
pub async fn page_of<C: ConnectionTrait>(
    s: &Scope<'_, C>,
    f: &Filter,
) -> Result<(Vec<Report>, Option<String>)> {
    let mut q = filtered(s, f).await?;
    let by_due = f.by_due();
    if let Some((t, id)) = f.cursor() {
        q = q.filter(if by_due {
            Condition::any().add(report::Column::DueAt.gt(t)).add(
                Condition::all()
                    .add(report::Column::DueAt.eq(t))
                    .add(report::Column::Id.gt(id)),
            )
        } else {
            Condition::any().add(report::Column::CreatedAt.lt(t)).add(
                Condition::all()
                    .add(report::Column::CreatedAt.eq(t))
                    .add(report::Column::Id.lt(id)),
            )
        });
    }
    let mut rows = ordered(q, by_due).limit(PAGE + 1).all(s.conn()).await?;
    let next = if rows.len() as u64 > PAGE {
        rows.truncate(PAGE as usize);
        rows.last().map(|r| cursor_of(r, by_due))
    } else {
        None
    };
    Ok((rows, next))
}

/// What the bulk form had when it failed.
#[derive(Deserialize, Default, Clone)]
pub struct BulkInput {
    pub ids: Vec<i64>,
    pub aktion: String,
    pub status: String,
    pub public_reply: String,
    pub department_id: String,
    pub assignee_id: String,
}

/// Bulk actions: `set_status` (with an optional public reply), `department`, `assignee`,
/// `publish`, `hide`.
pub const BULK_ACTIONS: &[&str] = &["set_status", "department", "assignee", "publish", "hide"];

/// At most this many reports in one bulk action.
pub const BULK_MAX: usize = 200;

/// Parses the bulk form (repeated `ids`, so a list of pairs).
pub fn bulk_input(pairs: &[(String, String)]) -> (BulkInput, Filter) {
    let mut b = BulkInput::default();
    let mut f = Filter::default();
    for (k, v) in pairs {
        match k.as_str() {
            "ids" => {
                if let Ok(id) = v.trim().parse()
                    && !b.ids.contains(&id)
                {
                    b.ids.push(id);
                }
            }
            "aktion" => b.aktion = v.clone(),
            "status" => b.status = v.clone(),
            "public_reply" => b.public_reply = v.clone(),
            "department_id" => b.department_id = v.clone(),
            "assignee_id" => b.assignee_id = v.clone(),
            "f_bereich" => f.bereich = v.clone(),
            "f_person" => f.person = v.clone(),
            "f_status" => f.status = v.clone(),
            "f_kategorie" => f.kategorie = v.clone(),
            "f_moderation" => f.moderation = v.clone(),
            "f_ueberfaellig" => f.ueberfaellig = v.clone(),
            "f_az" => f.az = v.clone(),
            "f_sortierung" => f.sortierung = v.clone(),
            "f_nach" => f.nach = v.clone(),
            _ => {}
        }
    }
    (b, f)
}

fn optional_id(errs: &mut FieldErrors, field: &str, v: &str) -> Option<Option<i64>> {
    match v.trim() {
        "" => {
            errs.add(field, "err.required");
            None
        }
        "keiner" | "niemand" => Some(None),
        v => match v.parse() {
            Ok(id) => Some(Some(id)),
            Err(_) => {
                errs.add(field, "err.invalid_choice");
                None
            }
        },
    }
}

/// Why a bulk action failed: field errors of the form, or the report that refused and why.
pub enum BulkError {
    Form(FieldErrors),
    Report(String, Error),
    Other(Error),
}

/// Applies one action to all `ids` in ONE transaction: every report changes or none does.
/// Returns how many reports were changed.
pub async fn run_bulk<C: TransactionTrait<Transaction = DatabaseTransaction>>(
    db: &C,
    state: &ReportsState,
    by: Actor<'_>,
    tenant: TenantId,
    b: &BulkInput,
    base_url: &str,
) -> std::result::Result<usize, BulkError> {
    let mut errs = FieldErrors::new();
    if b.ids.is_empty() {
        errs.add("ids", "reports.staff.bulk.err_none");
    } else if b.ids.len() > BULK_MAX {
        errs.add_arg("ids", "reports.staff.bulk.err_many", Some(BULK_MAX));
    }
    let action = b.aktion.trim();
    if !BULK_ACTIONS.contains(&action) {
        errs.add("aktion", "err.invalid_choice");
    }
    let mut change = service::Change {
        base_url: base_url.to_string(),
        ..Default::default()
    };
    let mut moderation = service::Moderation::default();
    match action {
        "set_status" => {
            let s = b.status.trim();
            if s.is_empty() {
                errs.add("status", "err.required");
            } else if s == Status::Duplicate {
                errs.add("status", "reports.staff.bulk.err_duplicate");
            } else {
                change.status = Some(s.to_string());
            }
            change.public_reply = b.public_reply.clone();
        }
        "department" => {
            change.department_id = optional_id(&mut errs, "department_id", &b.department_id)
        }
        "assignee" => change.assignee_id = optional_id(&mut errs, "assignee_id", &b.assignee_id),
        "publish" => moderation.publish = Some(true),
        "hide" => moderation.publish = Some(false),
        _ => {}
    }
    if !errs.is_empty() {
        return Err(BulkError::Form(errs));
    }
    let moderating = matches!(action, "publish" | "hide");
    let need = if moderating { MODERATE } else { HANDLE };
    by.require(need).map_err(BulkError::Other)?;
    let tx = Tx::begin(db, tenant, by).await.map_err(BulkError::Other)?;
    for id in &b.ids {
        let result = if moderating {
            service::moderate_in(tx.conn(), by, tenant, ReportId(*id), moderation.clone())
                .await
                .map(|_| ())
        } else {
            service::change_in(tx.conn(), by, tenant, ReportId(*id), change.clone())
                .await
                .map(|_| ())
        };
        if let Err(e) = result {
            // Dropping the transaction rolls everything back.
            let reference = tx
                .get::<report::Entity, _>(*id)
                .await
                .map(|r| r.reference)
                .unwrap_or_else(|_| format!("#{id}"));
            return Err(BulkError::Report(reference, e));
        }
    }
    tx.commit().await.map_err(BulkError::Other)?;
    state.generations.bump(tenant);
    Ok(b.ids.len())
}

/// For the exports: every report of the filters in their order, at most `limit`.
pub async fn all_of<C: ConnectionTrait>(
    s: &Scope<'_, C>,
    f: &Filter,
    limit: u64,
) -> Result<Vec<Report>> {
    Ok(ordered(filtered(s, f).await?, f.by_due())
        .limit(limit)
        .all(s.conn())
        .await?)
}

/// Markers of one map answer at most.
pub const MAP_MAX: u64 = 500;

/// `minLon,minLat,maxLon,maxLat` (the GeoJSON/Open311 order); None when unreadable.
pub fn parse_bbox(s: &str) -> Option<(f64, f64, f64, f64)> {
    let v: Vec<f64> = s
        .split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<std::result::Result<_, _>>()
        .ok()?;
    let [w, s, e, n] = v.as_slice() else {
        return None;
    };
    let ok = v.iter().all(|x| x.is_finite())
        && (-180.0..=180.0).contains(w)
        && (-180.0..=180.0).contains(e)
        && (-90.0..=90.0).contains(s)
        && (-90.0..=90.0).contains(n)
        && s <= n
        && w <= e;
    ok.then_some((*w, *s, *e, *n))
}

#[derive(Deserialize, Default, Clone)]
pub struct MapQuery {
    #[serde(flatten)]
    pub f: Filter,
    #[serde(default)]
    pub bbox: String,
}

/// Open reports of the filters (every moderation state), inside `bbox` when given, at most
/// `MAP_MAX`, newest first.
pub async fn open_reports<C: ConnectionTrait>(
    s: &Scope<'_, C>,
    q: &MapQuery,
) -> Result<Vec<Report>> {
    let mut f = q.f.clone();
    // One open status narrows the map; anything else shows every open report.
    if !f.status.parse::<Status>().is_ok_and(Status::is_open) {
        f.status = String::new();
    }
    let mut sel = filtered(s, &f)
        .await?
        .filter(report::Column::IsOpen.eq(true));
    if let Some((w, s, e, n)) = parse_bbox(&q.bbox) {
        sel = sel.filter(
            Condition::all()
                .add(report::Column::Lat.between(s, n))
                .add(report::Column::Lon.between(w, e)),
        );
    }
    Ok(sel
        .order_by_desc(report::Column::CreatedAt)
        .order_by_desc(report::Column::Id)
        .limit(MAP_MAX)
        .all(s.conn())
        .await?)
}

/// The median of durations in hours; None for none.
pub fn median_hours(mut v: Vec<Duration>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort();
    let n = v.len();
    let secs = if n % 2 == 1 {
        v[n / 2].num_seconds() as f64
    } else {
        (v[n / 2 - 1].num_seconds() + v[n / 2].num_seconds()) as f64 / 2.0
    };
    Some(secs / 3600.0)
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CategoryStats {
    pub category_id: i64,
    pub received: u32,
    pub closed: u32,
    pub median_first_answer_h: Option<f64>,
    pub median_close_h: Option<f64>,
}

/// Category, received, first answer, closed.
type StatSource = (
    i64,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// (category id, `YYYY-MM`) → (received, closed).
    pub months: BTreeMap<(i64, String), (u32, u32)>,
    pub categories: Vec<CategoryStats>,
    pub total: CategoryStats,
}

fn month_of(t: &DateTime<Utc>) -> String {
    let l = t.with_timezone(&Berlin);
    format!("{:04}-{:02}", l.year(), l.month())
}

/// Counts received (created in the period) and closed (closed in the period) per category and
/// local month; median hours from receipt to the first answer (of the reports received in the
/// period) and to closing (of those closed in the period). Computed here, not in SQL, so both
/// backends answer alike.
pub async fn statistics<C: ConnectionTrait>(
    scope: &Scope<'_, C>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Stats> {
    require_staff(scope.actor())?;
    let rows: Vec<StatSource> = scope
        .find::<report::Entity>()
        .select_only()
        .columns([
            report::Column::CategoryId,
            report::Column::CreatedAt,
            report::Column::FirstAnswerAt,
            report::Column::ClosedAt,
        ])
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(report::Column::CreatedAt.gte(from))
                        .add(report::Column::CreatedAt.lt(to)),
                )
                .add(
                    Condition::all()
                        .add(report::Column::ClosedAt.gte(from))
                        .add(report::Column::ClosedAt.lt(to)),
                ),
        )
        .into_tuple()
        .all(scope.conn())
        .await?;
    let mut s = Stats::default();
    let mut answer: BTreeMap<i64, Vec<Duration>> = BTreeMap::new();
    let mut close: BTreeMap<i64, Vec<Duration>> = BTreeMap::new();
    let mut per: BTreeMap<i64, CategoryStats> = BTreeMap::new();
    let inside = |t: &DateTime<Utc>| *t >= from && *t < to;
    for (cat, created, first, closed) in rows {
        let c = per.entry(cat).or_insert_with(|| CategoryStats {
            category_id: cat,
            ..Default::default()
        });
        if inside(&created) {
            c.received += 1;
            s.months.entry((cat, month_of(&created))).or_default().0 += 1;
            if let Some(a) = first {
                answer.entry(cat).or_default().push(a - created);
            }
        }
        if let Some(cl) = closed
            && inside(&cl)
        {
            c.closed += 1;
            s.months.entry((cat, month_of(&cl))).or_default().1 += 1;
            close.entry(cat).or_default().push(cl - created);
        }
    }
    let mut all_answer = Vec::new();
    let mut all_close = Vec::new();
    for (cat, mut c) in per {
        let a = answer.remove(&cat).unwrap_or_default();
        let cl = close.remove(&cat).unwrap_or_default();
        all_answer.extend(a.iter().copied());
        all_close.extend(cl.iter().copied());
        c.median_first_answer_h = median_hours(a);
        c.median_close_h = median_hours(cl);
        s.total.received += c.received;
        s.total.closed += c.closed;
        s.categories.push(c);
    }
    s.total.median_first_answer_h = median_hours(all_answer);
    s.total.median_close_h = median_hours(all_close);
    Ok(s)
}

/// Rows of one export at most.
pub const EXPORT_MAX: u64 = 50_000;

/// What an export of the inbox filters carries out of the system.
pub struct Export {
    pub reports: Vec<Report>,
    pub names: Names,
    /// Whether the holder may see the reporters' personal data (`reports.personal_data`).
    pub personal: bool,
}

/// The reports of the filters (without the paging) for an export in `format`. The read is
/// an audit event: it carries (possibly personal) data out of the system.
pub async fn export_reports<C>(
    db: &C,
    by: Actor<'_>,
    tenant: TenantId,
    f: &Filter,
    format: &str,
) -> Result<Export>
where
    C: ConnectionTrait + TransactionTrait<Transaction = DatabaseTransaction>,
{
    require_staff(by)?;
    let mut f = f.clone();
    f.nach.clear();
    // Read outside the write transaction (SQLite readers never wait for the write lock).
    let scope = Scope::new(db, tenant, by)?;
    let reports = all_of(&scope, &f, EXPORT_MAX).await?;
    let names = Names::load(db, tenant).await?;
    let personal = by.require(PERSONAL_DATA).is_ok();
    let tx = Tx::begin(db, tenant, by).await?;
    tx.audit(
        NewEvent::new("reports.export", "reports_report", None::<i64>).details(json!({
            "format": format,
            "rows": reports.len(),
            "personal_data": personal,
            "filters": f.query(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(Export {
        reports,
        names,
        personal,
    })
}
