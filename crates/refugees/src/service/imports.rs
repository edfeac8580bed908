//! The import of the Excel lists: dry run (row report) and commit, all or nothing in one
//! transaction. The mapping used is saved per tenant for the next import.

use std::collections::HashMap;

use chrono::Utc;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_import::{Limits, Mapping, SheetChoice};
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};

use crate::domain::import::{Analysis, Plan, analyse};
use crate::permissions::IMPORT;
use crate::store::{accommodation, bed, household, mapping, occupancy, person, room, unit};

/// Largest file accepted (the pipeline's own limits cap cells and unpacked size).
pub const MAX_FILE_BYTES: usize = 30 * 1024 * 1024;

/// A report line: the translation key and its argument, where it is.
#[derive(Debug, Clone)]
pub struct Line {
    pub sheet: String,
    pub rows: Vec<u32>,
    pub column: Option<String>,
    pub key: String,
    pub arg: Option<String>,
}

/// The result of a dry run or commit.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub rows_total: usize,
    pub rows_ok: usize,
    pub committed: bool,
    pub errors: Vec<Line>,
    pub warnings: Vec<Line>,
    pub persons: usize,
    pub occupancies: usize,
}

fn line(i: crate::domain::import::RowIssue) -> Line {
    Line {
        sheet: i.sheet,
        rows: i.rows,
        column: i.column,
        key: i.key,
        arg: i.arg,
    }
}

fn limits() -> Limits {
    Limits {
        max_file_bytes: MAX_FILE_BYTES as u64,
        ..Limits::default()
    }
}

/// The saved mapping of the tenant, if any.
async fn saved_mapping(
    db: &DatabaseConnection,
    tenant: TenantId,
    by: Actor<'_>,
) -> Result<Option<Mapping>> {
    let scope = Scope::new(db, tenant, by)?;
    let m = scope
        .find::<mapping::Entity>()
        .order_by_desc(mapping::Column::Id)
        .one(db)
        .await?;
    Ok(m.and_then(|m| Mapping::from_json(&m.mapping).ok()))
}

/// Reads and analyses the file. A file that is no spreadsheet is a field error on `file`.
pub fn read_and_analyse(bytes: &[u8], mapping: Option<&Mapping>) -> Result<Analysis> {
    let book = rathaus_import::read(bytes, &SheetChoice::All, &limits()).map_err(|e| {
        let mut errs = FieldErrors::new();
        errs.add_arg("file", e.key(), e.arg());
        Error::Invalid(errs)
    })?;
    Ok(analyse(&book, mapping, super::today()))
}

/// Dry run (`commit == false`) or commit of an uploaded file. With errors nothing is written
/// and `committed` is false.
pub async fn import(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    bytes: &[u8],
    given: Option<Mapping>,
    commit: bool,
) -> Result<Outcome> {
    by.require(IMPORT)?;
    by.require_tenant(tenant)?;
    let saved = match given {
        Some(m) => Some(m),
        None => saved_mapping(db, tenant, by).await?,
    };
    let a = read_and_analyse(bytes, saved.as_ref())?;
    let mut out = Outcome {
        rows_total: a.rows_total,
        rows_ok: a.rows_ok,
        committed: false,
        errors: a.errors.iter().cloned().map(line).collect(),
        warnings: a.warnings.iter().cloned().map(line).collect(),
        persons: a.plan.persons.len(),
        occupancies: a.plan.persons.iter().map(|p| p.stays.len()).sum(),
    };
    if !commit || !out.errors.is_empty() {
        return Ok(out);
    }
    let tx = Tx::begin(db, tenant, by).await?;
    write_plan(&tx, &a.plan).await?;
    tx.insert(mapping::ActiveModel {
        mapping: Set(a.mapping.to_json()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    })
    .await?;
    tx.audit(
        NewEvent::new("refugees.imported", "refugees_import", None::<i64>).details(
            serde_json::json!({
                "rows": out.rows_total,
                "persons": out.persons,
                "occupancies": out.occupancies,
            }),
        ),
    )
    .await?;
    tx.commit().await?;
    out.committed = true;
    Ok(out)
}

/// Rows per INSERT: well below SQLite's 32,766 bound parameters and PostgreSQL's 65,535.
const CHUNK: usize = 1_000;

/// Writes the plan in the caller's transaction, in bulk. Existing accommodations and rooms
/// (same name) are reused; a stay that meets one already stored in the same bed refuses the
/// whole import.
async fn write_plan(tx: &Tx<'_>, plan: &Plan) -> Result<()> {
    let tenant = tx.tenant();
    let now = Utc::now();
    // Accommodations.
    let mut acc_ids: HashMap<String, i64> = HashMap::new();
    for a in tx.find::<accommodation::Entity>().all(tx.conn()).await? {
        acc_ids.insert(rathaus_import::mapping::normalize(&a.name), a.id);
    }
    let mut new_accs: Vec<i64> = Vec::new();
    for a in &plan.accommodations {
        let key = rathaus_import::mapping::normalize(&a.name);
        if acc_ids.contains_key(&key) {
            continue;
        }
        let name: String = a.name.chars().take(200).collect();
        let m = tx
            .insert(accommodation::ActiveModel {
                name: Set(name),
                kind: Set(a.kind.unwrap_or("municipal").to_string()),
                address: Set(a.address.chars().take(300).collect()),
                landlord: Set(String::new()),
                rent_cents: Set(None),
                accessible: Set(false),
                kitchen: Set(false),
                created_at: Set(now),
                ..Default::default()
            })
            .await?;
        acc_ids.insert(key, m.id);
        new_accs.push(m.id);
    }
    super::search::index_later(
        tx,
        super::search::ACCOMMODATION,
        &new_accs,
        rathaus_search::Op::Upsert,
    )
    .await?;
    // Rooms (and units) with their beds; existing rooms of the same name are reused.
    let mut existing_rooms: HashMap<(i64, String, Option<i64>), room::Model> = HashMap::new();
    for r in tx.find::<room::Entity>().all(tx.conn()).await? {
        existing_rooms.insert(
            (
                r.accommodation_id,
                rathaus_import::mapping::normalize(&r.name),
                r.unit_id,
            ),
            r,
        );
    }
    let mut unit_ids: HashMap<(i64, String), i64> = HashMap::new();
    for u in tx.find::<unit::Entity>().all(tx.conn()).await? {
        unit_ids.insert(
            (
                u.accommodation_id,
                rathaus_import::mapping::normalize(&u.name),
            ),
            u.id,
        );
    }
    // room index → (room id, accommodation id, bed number → bed id)
    let mut room_beds: Vec<(i64, i64, HashMap<i64, i64>)> = Vec::with_capacity(plan.rooms.len());
    for r in &plan.rooms {
        let acc = acc_ids
            .get(&rathaus_import::mapping::normalize(&r.accommodation))
            .copied()
            .ok_or_else(|| Error::internal("accommodation of a planned room missing"))?;
        let unit_id = if r.unit.is_empty() {
            None
        } else {
            let key = (acc, rathaus_import::mapping::normalize(&r.unit));
            Some(match unit_ids.get(&key) {
                Some(id) => *id,
                None => {
                    let u = tx
                        .insert(unit::ActiveModel {
                            accommodation_id: Set(acc),
                            name: Set(r.unit.chars().take(200).collect()),
                            ..Default::default()
                        })
                        .await?;
                    unit_ids.insert(key, u.id);
                    u.id
                }
            })
        };
        let capacity = i32::try_from(r.beds.max(0)).unwrap_or(i32::MAX);
        let key = (acc, rathaus_import::mapping::normalize(&r.name), unit_id);
        let room_id = match existing_rooms.get(&key) {
            Some(found) => found.id,
            None => {
                tx.insert(room::ActiveModel {
                    accommodation_id: Set(acc),
                    unit_id: Set(unit_id),
                    name: Set(r.name.chars().take(200).collect()),
                    capacity: Set(capacity),
                    accessible: Set(false),
                    ground_floor: Set(false),
                    closed_from: Set(None),
                    closed_until: Set(None),
                    ..Default::default()
                })
                .await?
                .id
            }
        };
        let mut beds: HashMap<i64, i64> = tx
            .find::<bed::Entity>()
            .filter(bed::Column::RoomId.eq(room_id))
            .all(tx.conn())
            .await?
            .into_iter()
            .map(|b| (i64::from(b.number), b.id))
            .collect();
        let missing: Vec<bed::ActiveModel> = (1..=capacity)
            .filter(|n| !beds.contains_key(&i64::from(*n)))
            .map(|n| bed::ActiveModel {
                tenant_id: Set(tenant.0),
                accommodation_id: Set(acc),
                room_id: Set(room_id),
                number: Set(n),
                ..Default::default()
            })
            .collect();
        if !missing.is_empty() {
            bed::Entity::insert_many(missing).exec(tx.conn()).await?;
            beds = tx
                .find::<bed::Entity>()
                .filter(bed::Column::RoomId.eq(room_id))
                .all(tx.conn())
                .await?
                .into_iter()
                .map(|b| (i64::from(b.number), b.id))
                .collect();
        }
        room_beds.push((room_id, acc, beds));
    }
    // Households by the file's reference, in bulk (one statement per chunk, not one per
    // household: a round trip each made a commit on PostgreSQL take seconds more).
    let mut refs: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for p in &plan.persons {
        let r = p.household.trim();
        if !r.is_empty() && seen.insert(r) {
            refs.push(r);
        }
    }
    let mut households: HashMap<String, i64> = HashMap::new();
    for chunk in refs.chunks(CHUNK) {
        let rows = chunk.iter().map(|r| household::ActiveModel {
            tenant_id: Set(tenant.0),
            reference: Set(r.chars().take(100).collect()),
            head_person_id: Set(None),
            ..Default::default()
        });
        let inserted = household::Entity::insert_many(rows)
            .exec_with_returning(tx.conn())
            .await?;
        for (r, h) in chunk.iter().zip(inserted) {
            households.insert((*r).to_string(), h.id);
        }
    }
    // Persons in bulk; ids come back in insertion order.
    let mut person_ids: Vec<i64> = Vec::with_capacity(plan.persons.len());
    for chunk in plan.persons.chunks(CHUNK) {
        let rows: Vec<person::ActiveModel> = chunk
            .iter()
            .map(|p| person::ActiveModel {
                tenant_id: Set(tenant.0),
                household_id: Set(households.get(p.household.trim()).copied()),
                surname: Set(p.surname.chars().take(200).collect()),
                given_names: Set(p.given_names.chars().take(200).collect()),
                birth_date: Set(p.birth_date),
                sex: Set(p.sex.unwrap_or_default().to_string()),
                nationality: Set(p.nationality.chars().take(100).collect()),
                languages: Set(p.languages.chars().take(200).collect()),
                phone: Set(p.phone.chars().take(50).collect()),
                residence_status: Set(p.status.unwrap_or_default().to_string()),
                residence_paragraph: Set(String::new()),
                permit_valid_until: Set(p.permit_until),
                allocation_date: Set(None),
                allocation_ref: Set(String::new()),
                benefits_ref: Set(String::new()),
                needs: Set(String::new()),
                notes: Set(String::new()),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            })
            .collect();
        let inserted = person::Entity::insert_many(rows)
            .exec_with_returning(tx.conn())
            .await?;
        person_ids.extend(inserted.into_iter().map(|m| m.id));
    }
    super::search::index_later(
        tx,
        super::search::PERSON,
        &person_ids,
        rathaus_search::Op::Upsert,
    )
    .await?;
    // The head of each household: its first person in the file; one statement per chunk.
    let mut heads: Vec<(i64, i64)> = Vec::new();
    let mut headed = std::collections::HashSet::new();
    for (p, id) in plan.persons.iter().zip(&person_ids) {
        if let Some(h) = households.get(p.household.trim())
            && headed.insert(*h)
        {
            heads.push((*h, *id));
        }
    }
    for chunk in heads.chunks(CHUNK) {
        let mut head = sea_orm::sea_query::CaseStatement::new();
        for (h, p) in chunk {
            head = head.case(
                household::Column::Id.eq(*h),
                sea_orm::sea_query::Expr::val(*p),
            );
        }
        tx.update_many::<household::Entity>()
            .filter(household::Column::Id.is_in(chunk.iter().map(|(h, _)| *h)))
            .col_expr(household::Column::HeadPersonId, head.into())
            .exec(tx.conn())
            .await?;
    }
    // Stays; a clash with what is stored already refuses everything.
    let mut rows: Vec<occupancy::ActiveModel> = Vec::new();
    let reused: Vec<i64> = room_beds.iter().map(|r| r.0).collect();
    let stored = tx
        .find::<occupancy::Entity>()
        .filter(occupancy::Column::RoomId.is_in(reused))
        .all(tx.conn())
        .await?;
    let mut stored_by_bed: HashMap<i64, Vec<crate::domain::Stay>> = HashMap::new();
    for o in stored {
        stored_by_bed
            .entry(o.bed_id)
            .or_default()
            .push(crate::domain::Stay {
                starts_on: o.starts_on,
                ends_on: o.ends_on,
            });
    }
    for (p, pid) in plan.persons.iter().zip(&person_ids) {
        for s in &p.stays {
            let Some((room_id, acc, beds)) = room_beds.get(s.room) else {
                continue;
            };
            let Some(bed_id) = beds.get(&s.bed) else {
                continue;
            };
            if stored_by_bed
                .get(bed_id)
                .is_some_and(|l| l.iter().any(|x| x.overlaps(&s.stay)))
            {
                return Err(Error::Conflict(super::occupancy::BED_TAKEN.into()));
            }
            rows.push(occupancy::ActiveModel {
                tenant_id: Set(tenant.0),
                person_id: Set(*pid),
                bed_id: Set(*bed_id),
                room_id: Set(*room_id),
                accommodation_id: Set(*acc),
                starts_on: Set(s.stay.starts_on),
                ends_on: Set(s.stay.ends_on),
                created_at: Set(now),
                ..Default::default()
            });
            if rows.len() >= CHUNK {
                occupancy::Entity::insert_many(std::mem::take(&mut rows))
                    .exec(tx.conn())
                    .await?;
            }
        }
    }
    if !rows.is_empty() {
        occupancy::Entity::insert_many(rows).exec(tx.conn()).await?;
    }
    Ok(())
}
