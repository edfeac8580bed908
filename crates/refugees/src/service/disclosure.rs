//! Art. 15 DSGVO: everything stored about one person, for the answer to their request for
//! access: every field, the household, the whole occupancy history with accommodation, room
//! and bed, and the log of the processing (who read or changed the record, when). Only for
//! holders of `refugees.disclose`; the disclosure itself is audited.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::{Result, TenantId};
use rathaus_store::entity::audit_event;
use rathaus_store::uow::{Actor, Tx};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder};
use serde::Serialize;

use crate::permissions::DISCLOSE;
use crate::store::{accommodation, bed, household, occupancy, person, room};

/// The audit event of a disclosure.
pub const DISCLOSED: &str = "refugees.person_disclosed";

/// The object type of a person in the audit log.
const OBJECT: &str = "refugees_person";

#[derive(Debug, Clone, Serialize)]
pub struct Disclosure {
    /// What the document is (machine-readable; the letter to the person says it in words).
    pub basis: &'static str,
    pub generated_at: DateTime<Utc>,
    pub person: PersonData,
    pub household: Option<HouseholdData>,
    /// Oldest first.
    pub occupancies: Vec<Stay>,
    /// Every read of the record (oldest first).
    pub reads: Vec<LogEntry>,
    /// Every other processing recorded for the person: created, changed, moves, exports of
    /// the record (oldest first).
    pub processing: Vec<LogEntry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PersonData {
    pub id: i64,
    pub surname: String,
    pub given_names: String,
    pub birth_date: Option<NaiveDate>,
    pub sex: String,
    pub nationality: String,
    pub languages: String,
    pub phone: String,
    pub residence_status: String,
    pub residence_paragraph: String,
    pub permit_valid_until: Option<NaiveDate>,
    pub allocation_date: Option<NaiveDate>,
    pub allocation_ref: String,
    pub benefits_ref: String,
    pub needs: Vec<String>,
    pub notes: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub anonymised_at: Option<DateTime<Utc>>,
}

/// The person's household: its reference and whether they head it. The other members are
/// left out: their data is theirs (Art. 15 (4) DSGVO).
#[derive(Debug, Clone, Serialize)]
pub struct HouseholdData {
    pub id: i64,
    pub reference: String,
    pub head: bool,
    pub members: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stay {
    pub accommodation: String,
    pub address: String,
    pub room: String,
    pub bed: Option<i32>,
    pub from: NaiveDate,
    /// The move-out day; none while open.
    pub until: Option<NaiveDate>,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub at: String,
    pub action: String,
    /// Who (the user's name and e-mail as recorded, or the system job).
    pub actor: String,
    pub actor_id: Option<i64>,
}

/// Everything stored about person `id` of `tenant`.
pub async fn disclose(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
) -> Result<Disclosure> {
    by.require(DISCLOSE)?;
    let tx = Tx::begin(db, tenant, by).await?;
    let p = tx.get::<person::Entity, _>(id).await?;
    let household = match p.household_id {
        Some(h) => {
            let h = tx.get::<household::Entity, _>(h).await?;
            let members = sea_orm::PaginatorTrait::count(
                tx.find::<person::Entity>()
                    .filter(person::Column::HouseholdId.eq(h.id)),
                tx.conn(),
            )
            .await?;
            Some(HouseholdData {
                id: h.id,
                head: h.head_person_id == Some(p.id),
                reference: h.reference,
                members,
            })
        }
        None => None,
    };
    let occ = tx
        .find::<occupancy::Entity>()
        .filter(occupancy::Column::PersonId.eq(id))
        .order_by_asc(occupancy::Column::StartsOn)
        .all(tx.conn())
        .await?;
    let ids = |f: fn(&occupancy::Model) -> i64| occ.iter().map(f).collect::<Vec<_>>();
    let accs: HashMap<i64, accommodation::Model> = tx
        .find::<accommodation::Entity>()
        .filter(accommodation::Column::Id.is_in(ids(|o| o.accommodation_id)))
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|a| (a.id, a))
        .collect();
    let rooms: HashMap<i64, String> = tx
        .find::<room::Entity>()
        .filter(room::Column::Id.is_in(ids(|o| o.room_id)))
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let beds: HashMap<i64, i32> = tx
        .find::<bed::Entity>()
        .filter(bed::Column::Id.is_in(ids(|o| o.bed_id)))
        .all(tx.conn())
        .await?
        .into_iter()
        .map(|b| (b.id, b.number))
        .collect();
    let occupancies: Vec<Stay> = occ
        .into_iter()
        .map(|o| {
            let a = accs.get(&o.accommodation_id);
            Stay {
                accommodation: a.map(|a| a.name.clone()).unwrap_or_default(),
                address: a.map(|a| a.address.clone()).unwrap_or_default(),
                room: rooms.get(&o.room_id).cloned().unwrap_or_default(),
                bed: beds.get(&o.bed_id).copied(),
                from: o.starts_on,
                until: o.ends_on,
                recorded_at: o.created_at,
            }
        })
        .collect();
    let events = tx
        .find::<audit_event::Entity>()
        .filter(audit_event::Column::ObjectType.eq(OBJECT))
        .filter(audit_event::Column::ObjectId.eq(id.to_string()))
        .order_by_asc(audit_event::Column::Seq)
        .all(tx.conn())
        .await?;
    let (reads, processing): (Vec<_>, Vec<_>) = events
        .into_iter()
        .map(|e| LogEntry {
            at: e.at,
            action: e.action,
            actor: e.actor_label,
            actor_id: e.actor_id,
        })
        .partition(|e| e.action == "refugees.person_read");
    tx.audit(
        NewEvent::new(DISCLOSED, OBJECT, Some(id)).details(serde_json::json!({
            "occupancies": occupancies.len(),
            "reads": reads.len(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(Disclosure {
        basis: "Art. 15 DSGVO",
        generated_at: Utc::now(),
        person: PersonData {
            id: p.id,
            surname: p.surname,
            given_names: p.given_names,
            birth_date: p.birth_date,
            sex: p.sex,
            nationality: p.nationality,
            languages: p.languages,
            phone: p.phone,
            residence_status: p.residence_status,
            residence_paragraph: p.residence_paragraph,
            permit_valid_until: p.permit_valid_until,
            allocation_date: p.allocation_date,
            allocation_ref: p.allocation_ref,
            benefits_ref: p.benefits_ref,
            needs: crate::domain::needs_from(&p.needs)
                .into_iter()
                .map(|n| crate::domain::Coded::code(n).to_string())
                .collect(),
            notes: p.notes,
            created_at: p.created_at,
            updated_at: p.updated_at,
            anonymised_at: p.anonymised_at,
        },
        household,
        occupancies,
        reads,
        processing,
    })
}
