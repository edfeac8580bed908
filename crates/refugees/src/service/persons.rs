//! Persons and households: create, change, search, and the record read (audited), each
//! showing only the field groups the reader may see.

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_search::Op;
use rathaus_store::contains_ci;
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};

use super::places::covering;
use crate::domain::{Coded, Need, ResidenceStatus, Sex, Visibility, needs_from};
use crate::permissions::{EDIT, READ_RESIDENCE};
use crate::store::{accommodation, household, occupancy, person, room};

/// Refused change of a person whose data was erased after the deletion period.
pub const ANONYMISED: &str = "refugees.err.anonymised";

/// Fields of a person; `None` leaves a field unchanged on update.
#[derive(Debug, Clone, Default)]
pub struct PersonInput {
    pub surname: Option<String>,
    pub given_names: Option<String>,
    pub birth_date: Option<Option<NaiveDate>>,
    pub sex: Option<String>,
    pub nationality: Option<String>,
    pub languages: Option<String>,
    pub phone: Option<String>,
    pub residence_status: Option<String>,
    pub residence_paragraph: Option<String>,
    pub permit_valid_until: Option<Option<NaiveDate>>,
    pub allocation_date: Option<Option<NaiveDate>>,
    pub allocation_ref: Option<String>,
    pub benefits_ref: Option<String>,
    pub needs: Option<Vec<String>>,
    pub notes: Option<String>,
    pub household_id: Option<Option<i64>>,
}

/// Applies and validates the input onto a model (new or existing).
fn apply(m: &mut person::Model, inp: &PersonInput, today: NaiveDate, errs: &mut FieldErrors) {
    fn txt(errs: &mut FieldErrors, f: &str, v: &Option<String>, max: usize, slot: &mut String) {
        if let Some(v) = v {
            *slot = errs.optional_text(f, v, max);
        }
    }
    if let Some(s) = &inp.surname {
        m.surname = errs.text("surname", s, 200);
    }
    if let Some(s) = &inp.given_names {
        m.given_names = errs.text("given_names", s, 200);
    }
    if let Some(b) = inp.birth_date {
        if b.is_some_and(|b| b > today) {
            errs.add("birth_date", "refugees.import.birth_future");
        }
        m.birth_date = b;
    }
    if let Some(s) = &inp.sex {
        let s = s.trim();
        if !s.is_empty() && Sex::parse(s).is_none() {
            errs.add("sex", "refugees.err.choice");
        }
        m.sex = s.to_string();
    }
    txt(
        errs,
        "nationality",
        &inp.nationality,
        100,
        &mut m.nationality,
    );
    txt(errs, "languages", &inp.languages, 200, &mut m.languages);
    txt(errs, "phone", &inp.phone, 50, &mut m.phone);
    if let Some(s) = &inp.residence_status {
        let s = s.trim();
        if !s.is_empty() && ResidenceStatus::parse(s).is_none() {
            errs.add_arg(
                "residence_status",
                "refugees.import.unknown_status",
                Some(s),
            );
        }
        m.residence_status = s.to_string();
    }
    txt(
        errs,
        "residence_paragraph",
        &inp.residence_paragraph,
        100,
        &mut m.residence_paragraph,
    );
    if let Some(d) = inp.permit_valid_until {
        m.permit_valid_until = d;
    }
    if let Some(d) = inp.allocation_date {
        m.allocation_date = d;
    }
    txt(
        errs,
        "allocation_ref",
        &inp.allocation_ref,
        100,
        &mut m.allocation_ref,
    );
    txt(
        errs,
        "benefits_ref",
        &inp.benefits_ref,
        100,
        &mut m.benefits_ref,
    );
    if let Some(list) = &inp.needs {
        let mut codes = Vec::new();
        for n in list {
            match Need::parse(n) {
                Some(n) => codes.push(n),
                None => errs.add("needs", "refugees.err.choice"),
            }
        }
        m.needs = crate::domain::needs_to_string(&codes);
    }
    if let Some(n) = &inp.notes {
        if n.chars().count() > 10_000 {
            errs.add_arg("notes", "err.too_long", Some(10_000));
        }
        m.notes = n.trim().to_string();
    }
    if let Some(h) = inp.household_id {
        m.household_id = h;
    }
}

/// Who may write which group: residence data needs the foreigners office's permission too.
fn require_groups(by: Actor<'_>, inp: &PersonInput) -> Result<()> {
    by.require(EDIT)?;
    let residence = inp.residence_status.is_some()
        || inp.residence_paragraph.is_some()
        || inp.permit_valid_until.is_some()
        || inp.allocation_date.is_some()
        || inp.allocation_ref.is_some()
        || inp.benefits_ref.is_some();
    if residence {
        by.require(READ_RESIDENCE)?;
    }
    Ok(())
}

pub async fn create_person(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    inp: PersonInput,
) -> Result<person::Model> {
    require_groups(by, &inp)?;
    let mut m = blank(tenant);
    let mut errs = FieldErrors::new();
    let inp = PersonInput {
        surname: Some(inp.surname.clone().unwrap_or_default()),
        given_names: Some(inp.given_names.clone().unwrap_or_default()),
        ..inp
    };
    apply(&mut m, &inp, super::today(), &mut errs);
    if m.birth_date.is_none() {
        errs.add("birth_date", "err.required");
    }
    errs.into_result()?;
    let tx = Tx::begin(db, tenant, by).await?;
    if let Some(h) = m.household_id {
        tx.get::<household::Entity, _>(h)
            .await
            .map_err(|_| FieldErrors::single("household_id", "refugees.err.unknown_household"))?;
    }
    let p = tx.insert(to_active(&m)).await?;
    super::search::index_later(&tx, super::search::PERSON, &[p.id], Op::Upsert).await?;
    tx.audit(NewEvent::new(
        "refugees.person_created",
        "refugees_person",
        Some(p.id),
    ))
    .await?;
    tx.commit().await?;
    Ok(p)
}

/// The field errors of a change, without writing (a form that found errors of its own, e.g.
/// an unreadable date, shows these beside them).
pub fn check(inp: &PersonInput) -> FieldErrors {
    let mut errs = FieldErrors::new();
    apply(&mut blank(TenantId(0)), inp, super::today(), &mut errs);
    errs
}

/// A person with every field empty.
fn blank(tenant: TenantId) -> person::Model {
    let now = Utc::now();
    person::Model {
        id: 0,
        tenant_id: tenant.0,
        household_id: None,
        surname: String::new(),
        given_names: String::new(),
        birth_date: None,
        sex: String::new(),
        nationality: String::new(),
        languages: String::new(),
        phone: String::new(),
        residence_status: String::new(),
        residence_paragraph: String::new(),
        permit_valid_until: None,
        allocation_date: None,
        allocation_ref: String::new(),
        benefits_ref: String::new(),
        needs: String::new(),
        notes: String::new(),
        created_at: now,
        updated_at: now,
        anonymised_at: None,
    }
}

fn to_active(m: &person::Model) -> person::ActiveModel {
    person::ActiveModel {
        household_id: Set(m.household_id),
        surname: Set(m.surname.clone()),
        given_names: Set(m.given_names.clone()),
        birth_date: Set(m.birth_date),
        sex: Set(m.sex.clone()),
        nationality: Set(m.nationality.clone()),
        languages: Set(m.languages.clone()),
        phone: Set(m.phone.clone()),
        residence_status: Set(m.residence_status.clone()),
        residence_paragraph: Set(m.residence_paragraph.clone()),
        permit_valid_until: Set(m.permit_valid_until),
        allocation_date: Set(m.allocation_date),
        allocation_ref: Set(m.allocation_ref.clone()),
        benefits_ref: Set(m.benefits_ref.clone()),
        needs: Set(m.needs.clone()),
        notes: Set(m.notes.clone()),
        created_at: Set(m.created_at),
        updated_at: Set(m.updated_at),
        ..Default::default()
    }
}

pub async fn update_person(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
    inp: PersonInput,
) -> Result<person::Model> {
    require_groups(by, &inp)?;
    let tx = Tx::begin(db, tenant, by).await?;
    // Every column is written back: a second clerk's change waits instead of being lost
    // (there is no version column to refuse it).
    super::lock(tx.conn(), tenant, &[id], &[]).await?;
    let mut m = tx.get::<person::Entity, _>(id).await?;
    if m.anonymised_at.is_some() {
        return Err(Error::Conflict(ANONYMISED.into()));
    }
    let before = m.clone();
    let mut errs = FieldErrors::new();
    apply(&mut m, &inp, super::today(), &mut errs);
    errs.into_result()?;
    if let Some(h) = m.household_id {
        tx.get::<household::Entity, _>(h)
            .await
            .map_err(|_| FieldErrors::single("household_id", "refugees.err.unknown_household"))?;
    }
    m.updated_at = Utc::now();
    let mut am = to_active(&m);
    am.id = sea_orm::ActiveValue::Unchanged(m.id);
    am.tenant_id = sea_orm::ActiveValue::Unchanged(m.tenant_id);
    sea_orm::ActiveModelTrait::update(am, tx.conn()).await?;
    // Only the names are indexed (see `search`).
    if m.surname != before.surname || m.given_names != before.given_names {
        super::search::index_later(&tx, super::search::PERSON, &[id], Op::Upsert).await?;
    }
    // The names of the changed fields, never their values (the audit log is read more widely
    // than the record).
    tx.audit(
        NewEvent::new("refugees.person_changed", "refugees_person", Some(id))
            .details(serde_json::json!({ "fields": changed_fields(&before, &m) })),
    )
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// The fields whose value differs between two states of a person.
fn changed_fields(a: &person::Model, b: &person::Model) -> Vec<&'static str> {
    let pairs = [
        ("surname", a.surname != b.surname),
        ("given_names", a.given_names != b.given_names),
        ("birth_date", a.birth_date != b.birth_date),
        ("sex", a.sex != b.sex),
        ("nationality", a.nationality != b.nationality),
        ("languages", a.languages != b.languages),
        ("phone", a.phone != b.phone),
        ("residence_status", a.residence_status != b.residence_status),
        (
            "residence_paragraph",
            a.residence_paragraph != b.residence_paragraph,
        ),
        (
            "permit_valid_until",
            a.permit_valid_until != b.permit_valid_until,
        ),
        ("allocation_date", a.allocation_date != b.allocation_date),
        ("allocation_ref", a.allocation_ref != b.allocation_ref),
        ("benefits_ref", a.benefits_ref != b.benefits_ref),
        ("needs", a.needs != b.needs),
        ("notes", a.notes != b.notes),
        ("household_id", a.household_id != b.household_id),
    ];
    pairs
        .into_iter()
        .filter(|(_, changed)| *changed)
        .map(|(f, _)| f)
        .collect()
}

/// Creates a household with its members; the first is the head.
pub async fn create_household(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    reference: &str,
    members: &[i64],
) -> Result<household::Model> {
    by.require(EDIT)?;
    let mut errs = FieldErrors::new();
    let reference = errs.text("reference", reference, 100);
    if members.is_empty() {
        errs.add("members", "err.required");
    }
    errs.into_result()?;
    let tx = Tx::begin(db, tenant, by).await?;
    for m in members {
        tx.get::<person::Entity, _>(*m).await?;
    }
    let h = tx
        .insert(household::ActiveModel {
            reference: Set(reference),
            head_person_id: Set(members.first().copied()),
            ..Default::default()
        })
        .await?;
    tx.update_many::<person::Entity>()
        .filter(person::Column::Id.is_in(members.to_vec()))
        .col_expr(person::Column::HouseholdId, Some(h.id).into())
        .exec(tx.conn())
        .await?;
    tx.audit(NewEvent::new(
        "refugees.household_created",
        "refugees_household",
        Some(h.id),
    ))
    .await?;
    tx.commit().await?;
    Ok(h)
}

/// Where someone is (or will be) on a day.
#[derive(Debug, Clone, Default)]
pub struct Place {
    pub occupancy_id: i64,
    pub accommodation_id: i64,
    pub accommodation: String,
    pub room_id: i64,
    pub room: String,
    pub bed_id: i64,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
}

/// A person as a reader may see them: groups the reader lacks are `None`.
#[derive(Debug, Clone, Default)]
pub struct PersonView {
    pub id: i64,
    /// The data was erased after the deletion period (names are empty).
    pub anonymised: bool,
    pub surname: String,
    pub given_names: String,
    pub household_id: Option<i64>,
    pub place: Option<Place>,
    pub social: Option<Social>,
    pub residence: Option<Residence>,
}

#[derive(Debug, Clone, Default)]
pub struct Social {
    pub birth_date: Option<NaiveDate>,
    pub sex: String,
    pub nationality: String,
    pub languages: String,
    pub phone: String,
    pub needs: Vec<Need>,
    pub notes: String,
}

#[derive(Debug, Clone, Default)]
pub struct Residence {
    pub birth_date: Option<NaiveDate>,
    pub nationality: String,
    pub status: String,
    pub paragraph: String,
    pub valid_until: Option<NaiveDate>,
    pub allocation_date: Option<NaiveDate>,
    pub allocation_ref: String,
    pub benefits_ref: String,
}

pub fn view(m: person::Model, v: Visibility, place: Option<Place>) -> PersonView {
    PersonView {
        id: m.id,
        anonymised: m.anonymised_at.is_some(),
        household_id: m.household_id,
        place,
        social: v.social.then(|| Social {
            birth_date: m.birth_date,
            sex: m.sex.clone(),
            nationality: m.nationality.clone(),
            languages: m.languages.clone(),
            phone: m.phone.clone(),
            needs: needs_from(&m.needs),
            notes: m.notes.clone(),
        }),
        residence: v.residence.then(|| Residence {
            birth_date: m.birth_date,
            nationality: m.nationality.clone(),
            status: m.residence_status.clone(),
            paragraph: m.residence_paragraph.clone(),
            valid_until: m.permit_valid_until,
            allocation_date: m.allocation_date,
            allocation_ref: m.allocation_ref.clone(),
            benefits_ref: m.benefits_ref.clone(),
        }),
        surname: m.surname,
        given_names: m.given_names,
    }
}

/// Filters of the person list; they combine.
#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    /// Part of the surname or given names.
    pub q: String,
    pub accommodation_id: Option<i64>,
    pub status: Option<String>,
    pub nationality: Option<String>,
    pub permit_expires_before: Option<NaiveDate>,
    pub household_id: Option<i64>,
    /// The day "lives in" refers to (default today).
    pub on: Option<NaiveDate>,
    pub offset: u64,
    pub limit: u64,
}

/// Places on day `d` of these persons.
async fn places_of(
    db: &DatabaseConnection,
    scope: &Scope<'_, DatabaseConnection>,
    ids: &[i64],
    d: NaiveDate,
) -> Result<HashMap<i64, Place>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let occ = scope
        .find::<occupancy::Entity>()
        .filter(occupancy::Column::PersonId.is_in(ids.to_vec()))
        .filter(covering(d))
        .all(db)
        .await?;
    places(db, scope, occ)
        .await
        .map(|v| v.into_iter().collect::<HashMap<_, _>>())
}

async fn places(
    db: &DatabaseConnection,
    scope: &Scope<'_, DatabaseConnection>,
    occ: Vec<occupancy::Model>,
) -> Result<Vec<(i64, Place)>> {
    let room_ids: Vec<i64> = occ.iter().map(|o| o.room_id).collect();
    let acc_ids: Vec<i64> = occ.iter().map(|o| o.accommodation_id).collect();
    let rooms: HashMap<i64, String> = scope
        .find::<room::Entity>()
        .filter(room::Column::Id.is_in(room_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let accs: HashMap<i64, String> = scope
        .find::<accommodation::Entity>()
        .filter(accommodation::Column::Id.is_in(acc_ids))
        .all(db)
        .await?
        .into_iter()
        .map(|a| (a.id, a.name))
        .collect();
    Ok(occ
        .into_iter()
        .map(|o| {
            (
                o.person_id,
                Place {
                    occupancy_id: o.id,
                    accommodation_id: o.accommodation_id,
                    accommodation: accs.get(&o.accommodation_id).cloned().unwrap_or_default(),
                    room_id: o.room_id,
                    room: rooms.get(&o.room_id).cloned().unwrap_or_default(),
                    bed_id: o.bed_id,
                    starts_on: o.starts_on,
                    ends_on: o.ends_on,
                },
            )
        })
        .collect())
}

/// Persons matching the filter, by name, with the total.
pub async fn list_persons(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    f: &PersonFilter,
) -> Result<(Vec<PersonView>, u64)> {
    let (rows, total) = query_persons(db, by, tenant, f, true).await?;
    Ok((rows, total.unwrap_or_default()))
}

/// The persons of one page; the total only when `count` (an export pages on without it).
async fn query_persons(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    f: &PersonFilter,
    count: bool,
) -> Result<(Vec<PersonView>, Option<u64>)> {
    let v = super::require_read(by)?;
    // Filtering by residence data would reveal it.
    if (f.status.is_some() || f.permit_expires_before.is_some()) && !v.residence {
        return Err(Error::Forbidden);
    }
    if f.nationality.is_some() && !(v.residence || v.social) {
        return Err(Error::Forbidden);
    }
    let scope = Scope::new(db, tenant, by)?;
    let d = f.on.unwrap_or_else(super::today);
    let mut q = scope.find::<person::Entity>();
    let needle = f.q.trim();
    if !needle.is_empty() {
        let backend = db.get_database_backend();
        q = q.filter(
            Condition::any()
                .add(contains_ci(backend, person::Column::Surname, needle))
                .add(contains_ci(backend, person::Column::GivenNames, needle)),
        );
    }
    if let Some(a) = f.accommodation_id {
        let ids: Vec<i64> = scope
            .find::<occupancy::Entity>()
            .select_only()
            .column(occupancy::Column::PersonId)
            .filter(occupancy::Column::AccommodationId.eq(a))
            .filter(covering(d))
            .into_tuple()
            .all(db)
            .await?;
        q = q.filter(person::Column::Id.is_in(ids));
    }
    if let Some(s) = &f.status {
        q = q.filter(person::Column::ResidenceStatus.eq(s.clone()));
    }
    if let Some(n) = &f.nationality {
        q = q.filter(person::Column::Nationality.eq(n.clone()));
    }
    if let Some(b) = f.permit_expires_before {
        q = q.filter(person::Column::PermitValidUntil.lt(b));
    }
    if let Some(h) = f.household_id {
        q = q.filter(person::Column::HouseholdId.eq(h));
    }
    let q = q
        .order_by_asc(person::Column::Surname)
        .order_by_asc(person::Column::GivenNames)
        .order_by_asc(person::Column::Id);
    let limit = f.limit.clamp(1, 500);
    let (rows, total) = if count && !needle.is_empty() {
        // A name search scans every name once: the matching ids in order give the total
        // and the page, instead of a second scan for the count.
        let ids: Vec<i64> = q
            .select_only()
            .column(person::Column::Id)
            .into_tuple()
            .all(db)
            .await?;
        let page: Vec<i64> = ids
            .iter()
            .copied()
            .skip(usize::try_from(f.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect();
        let mut by_id: HashMap<i64, person::Model> = scope
            .find::<person::Entity>()
            .filter(person::Column::Id.is_in(page.clone()))
            .all(db)
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let rows = page.iter().filter_map(|id| by_id.remove(id)).collect();
        (rows, Some(ids.len() as u64))
    } else {
        let total = if count {
            Some(q.clone().count(db).await?)
        } else {
            None
        };
        (q.offset(f.offset).limit(limit).all(db).await?, total)
    };
    let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
    let mut places = places_of(db, &scope, &ids, d).await?;
    Ok((
        rows.into_iter()
            .map(|p| {
                let pl = places.remove(&p.id);
                view(p, v, pl)
            })
            .collect(),
        total,
    ))
}

/// The most persons one export holds (a town's whole list fits many times over).
pub const MAX_EXPORT: u64 = 100_000;

/// Every person matching the filter (at most `MAX_EXPORT`), for a download, with the field
/// groups the reader may see. The export is audited (who, which filter, how many, which
/// groups) before the rows are handed out.
pub async fn export_persons(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    f: &PersonFilter,
    format: &str,
) -> Result<Vec<PersonView>> {
    let v = super::require_read(by)?;
    let mut out = Vec::new();
    let mut page = PersonFilter {
        offset: 0,
        limit: 500,
        ..f.clone()
    };
    // The total is counted once, with the first page.
    let mut known = None;
    loop {
        let (rows, counted) = query_persons(db, by, tenant, &page, known.is_none()).await?;
        let total = *known.get_or_insert(counted.unwrap_or_default());
        let n = rows.len() as u64;
        out.extend(rows);
        page.offset += n;
        if n == 0 || page.offset >= Ord::min(total, MAX_EXPORT) {
            break;
        }
    }
    out.truncate(MAX_EXPORT as usize);
    let tx = Tx::begin(db, tenant, by).await?;
    tx.audit(
        NewEvent::new("refugees.persons_exported", "refugees_person", None::<i64>).details(
            serde_json::json!({
                "format": format,
                "count": out.len(),
                "q": f.q,
                "accommodation_id": f.accommodation_id,
                "status": f.status,
                "nationality": f.nationality,
                "permit_expires_before": f.permit_expires_before,
                "social": v.social,
                "residence": v.residence,
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// A person's record with the whole occupancy history; the read is audited.
pub async fn read_person(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
) -> Result<(PersonView, Vec<Place>)> {
    let v = super::require_read(by)?;
    let tx = Tx::begin(db, tenant, by).await?;
    let p = tx.get::<person::Entity, _>(id).await?;
    tx.audit(
        NewEvent::new("refugees.person_read", "refugees_person", Some(id))
            .details(serde_json::json!({ "social": v.social, "residence": v.residence })),
    )
    .await?;
    tx.commit().await?;
    let scope = Scope::new(db, tenant, by)?;
    let occ = scope
        .find::<occupancy::Entity>()
        .filter(occupancy::Column::PersonId.eq(id))
        .order_by_desc(occupancy::Column::StartsOn)
        .all(db)
        .await?;
    let history: Vec<Place> = places(db, &scope, occ)
        .await?
        .into_iter()
        .map(|x| x.1)
        .collect();
    let today = super::today();
    let current = history
        .iter()
        .find(|pl| pl.starts_on <= today && pl.ends_on.is_none_or(|e| e > today))
        .cloned();
    Ok((view(p, v, current), history))
}

/// Names of persons by id (basic data), for the occupants of a room.
pub async fn names(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    ids: &[i64],
) -> Result<HashMap<i64, String>> {
    super::require_read(by)?;
    let scope = Scope::new(db, tenant, by)?;
    Ok(scope
        .find::<person::Entity>()
        .filter(person::Column::Id.is_in(ids.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|p| {
            let name = if p.anonymised_at.is_some() {
                String::new()
            } else {
                format!("{}, {}", p.surname, p.given_names)
            };
            (p.id, name)
        })
        .collect())
}

/// The households with their members' names.
pub async fn households(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
) -> Result<Vec<(household::Model, Vec<(i64, String, String)>)>> {
    super::require_read(by)?;
    let scope = Scope::new(db, tenant, by)?;
    let hs = scope
        .find::<household::Entity>()
        .order_by_asc(household::Column::Reference)
        .limit(500)
        .all(db)
        .await?;
    let ids: Vec<i64> = hs.iter().map(|h| h.id).collect();
    let members = scope
        .find::<person::Entity>()
        .filter(person::Column::HouseholdId.is_in(ids))
        .all(db)
        .await?;
    Ok(hs
        .into_iter()
        .map(|h| {
            let m = members
                .iter()
                .filter(|p| p.household_id == Some(h.id))
                .map(|p| (p.id, p.surname.clone(), p.needs.clone()))
                .collect();
            (h, m)
        })
        .collect())
}
