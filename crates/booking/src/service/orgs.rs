//! Organisations (issue 4, item 2): schools, clubs and other groups that book halls and
//! fields as one party. Staff with `booking.manage` create and edit them and add or remove
//! members by the e-mail address of an existing account (citizen or staff); members see
//! "Meine Organisationen" and book for their organisation (`rules::booker_for`).
//!
//! Pages: `/buchung/organisationen` (list, and the form to add one for managers) and
//! `/buchung/organisationen/{id}` (details, members, edit). An organisation the user neither
//! manages nor belongs to answers 404, like one of another tenant.

use crate::domain::OrganisationId;
use crate::permissions::MANAGE;
use crate::service::{may, person};
use crate::store::entity::{org_member, organisation};
use chrono::Utc;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::uow::{Actor, Tx};
use rathaus_store::{accounts, db_err};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, ModelTrait,
    QueryFilter, QueryOrder, Set,
};
use serde_json::json;

pub use organisation::Model as Organisation;

/// The longest organisation name.
pub const MAX_NAME: usize = 200;

// ---------------------------------------------------------------- service

/// What staff enter for an organisation.
#[derive(Debug, Clone, Default)]
pub struct OrgInput {
    pub name: String,
    /// One of `rules::ORG_KINDS`.
    pub kind: String,
    pub contact_email: String,
    /// The organisation agreed that its name appears on public occupancy views.
    pub public_name: bool,
}

/// A member as the detail page lists them.
#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: i64,
    pub name: String,
    pub email: String,
}

fn validate(inp: &OrgInput) -> Result<(String, String)> {
    let mut errs = FieldErrors::new();
    let name = errs.text("name", &inp.name, MAX_NAME);
    if !crate::service::rules::ORG_KINDS.contains(&inp.kind.as_str()) {
        errs.add("kind", "err.invalid_choice");
    }
    let email = errs.email("contact_email", &inp.contact_email);
    errs.into_result()?;
    Ok((name, email))
}

fn org_json(o: &Organisation) -> serde_json::Value {
    // The feed token is a secret: never in the audit trail.
    json!({
        "name": o.name, "kind": o.kind, "contact_email": o.contact_email,
        "public_name": o.public_name,
    })
}

async fn find(conn: &impl ConnectionTrait, tenant: TenantId, id: i64) -> Result<Organisation> {
    rathaus_store::uow::scoped_by_id::<organisation::Entity, _>(tenant, id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// Creates an organisation with its own calendar feed token (permission `booking.manage`).
pub async fn create_organisation(
    db: &DatabaseConnection,
    by: Actor<'_>,
    inp: OrgInput,
) -> Result<Organisation> {
    let who = person(by)?;
    by.require(MANAGE)?;
    let (name, email) = validate(&inp)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let o = organisation::ActiveModel {
        tenant_id: Set(who.tenant_id.0),
        name: Set(name),
        kind: Set(inp.kind),
        contact_email: Set(email),
        public_name: Set(inp.public_name),
        feed_token: Set(rathaus_store::random_token(
            crate::service::FEED_TOKEN_BYTES,
        )),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(tx.conn())
    .await?;
    tx.audit(
        NewEvent::new(
            "booking.organisation.created",
            "booking_organisation",
            Some(o.id),
        )
        .details(org_json(&o)),
    )
    .await?;
    tx.commit().await?;
    Ok(o)
}

/// Edits name, kind, contact address and consent (permission `booking.manage`). The kind
/// applies to bookings made from now on; existing ones keep the fee group they were priced at.
pub async fn update_organisation(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: OrganisationId,
    inp: OrgInput,
) -> Result<Organisation> {
    let id = i64::from(id);
    let who = person(by)?;
    by.require(MANAGE)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let before = find(tx.conn(), who.tenant_id, id).await?;
    let (name, email) = validate(&inp)?;
    let mut am: organisation::ActiveModel = before.clone().into();
    am.name = Set(name);
    am.kind = Set(inp.kind);
    am.contact_email = Set(email);
    am.public_name = Set(inp.public_name);
    let after = am.update(tx.conn()).await?;
    tx.audit(
        NewEvent::new(
            "booking.organisation.updated",
            "booking_organisation",
            Some(id),
        )
        .details(json!({"before": org_json(&before), "after": org_json(&after)})),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Every organisation of the tenant by name (permission `booking.manage`).
pub async fn list_organisations(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
) -> Result<Vec<Organisation>> {
    let who = person(by)?;
    by.require(MANAGE)?;
    rathaus_store::uow::scoped::<organisation::Entity>(who.tenant_id)
        .order_by_asc(organisation::Column::Name)
        .order_by_asc(organisation::Column::Id)
        .all(conn)
        .await
        .map_err(db_err)
}

/// The organisations `who` is a member of, by name (for the booking form's choice).
pub async fn my_organisations(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
) -> Result<Vec<Organisation>> {
    let who = person(by)?;
    let ids = crate::service::rules::organisations_of(conn, by).await?;
    if ids.is_empty() {
        return Ok(vec![]);
    }
    rathaus_store::uow::scoped::<organisation::Entity>(who.tenant_id)
        .filter(organisation::Column::Id.is_in(ids))
        .order_by_asc(organisation::Column::Name)
        .order_by_asc(organisation::Column::Id)
        .all(conn)
        .await
        .map_err(db_err)
}

/// One organisation for a manager or one of its members; for anyone else NotFound.
pub async fn get_organisation(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    id: OrganisationId,
) -> Result<Organisation> {
    let id = i64::from(id);
    let who = person(by)?;
    let o = find(conn, who.tenant_id, id).await?;
    if may(by, MANAGE)
        || crate::service::rules::organisations_of(conn, by)
            .await?
            .contains(&id)
    {
        Ok(o)
    } else {
        Err(Error::NotFound)
    }
}

/// The members of an organisation by name (a manager or a member may ask).
pub async fn members(
    conn: &impl ConnectionTrait,
    by: Actor<'_>,
    id: OrganisationId,
) -> Result<Vec<Member>> {
    let id = i64::from(id);
    let who = person(by)?;
    let o = get_organisation(conn, by, OrganisationId(id)).await?;
    let rows =
        rathaus_store::uow::scoped::<org_member::Entity>(rathaus_core::TenantId(o.tenant_id))
            .filter(org_member::Column::OrganisationId.eq(o.id))
            .all(conn)
            .await?;
    // Accounts are read through the store (one query), never from the users table here.
    let mut out: Vec<Member> =
        accounts::users_by_ids(conn, who.tenant_id, rows.iter().map(|m| m.user_id))
            .await?
            .into_iter()
            .map(|u| Member {
                user_id: u.id,
                name: u.name,
                email: u.email,
            })
            .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name).then(a.user_id.cmp(&b.user_id)));
    Ok(out)
}

/// Adds the account with this e-mail address (citizen or staff, of this tenant, active) as a
/// member (permission `booking.manage`). Unknown address or a member already: field error on
/// `email`.
pub async fn add_member(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: OrganisationId,
    email: &str,
) -> Result<Member> {
    let id = i64::from(id);
    let who = person(by)?;
    by.require(MANAGE)?;
    let mut errs = FieldErrors::new();
    let email = errs.email("email", email);
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let o = find(tx.conn(), who.tenant_id, id).await?;
    errs.into_result()?;
    let u = accounts::find_by_email(tx.conn(), who.tenant_id, &email)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| FieldErrors::single("email", "booking.orgs.err.no_account"))?;
    let already = org_member::Entity::find_by_id((o.id, u.id))
        .one(tx.conn())
        .await?;
    if already.is_some() {
        return Err(FieldErrors::single(
            "email",
            "booking.orgs.err.already_member",
        ));
    }
    org_member::ActiveModel {
        tenant_id: Set(who.tenant_id.0),
        organisation_id: Set(o.id),
        user_id: Set(u.id),
        created_at: Set(Utc::now()),
    }
    .insert(tx.conn())
    .await?;
    tx.audit(
        NewEvent::new(
            "booking.organisation.member_added",
            "booking_organisation",
            Some(o.id),
        )
        .details(json!({"organisation": o.name, "user_id": u.id, "email": u.email})),
    )
    .await?;
    tx.commit().await?;
    Ok(Member {
        user_id: u.id,
        name: u.name,
        email: u.email,
    })
}

/// Removes a member (permission `booking.manage`); one who is none answers NotFound. Their
/// bookings for the organisation stay with the organisation.
pub async fn remove_member(
    db: &DatabaseConnection,
    by: Actor<'_>,
    id: OrganisationId,
    user_id: i64,
) -> Result<()> {
    let id = i64::from(id);
    let who = person(by)?;
    by.require(MANAGE)?;
    let tx = Tx::begin(db, who.tenant_id, by).await?;
    let o = find(tx.conn(), who.tenant_id, id).await?;
    let m =
        rathaus_store::uow::scoped_by_id::<org_member::Entity, _>(who.tenant_id, (o.id, user_id))
            .one(tx.conn())
            .await?
            .ok_or(Error::NotFound)?;
    m.delete(tx.conn()).await?;
    tx.audit(
        NewEvent::new(
            "booking.organisation.member_removed",
            "booking_organisation",
            Some(o.id),
        )
        .details(json!({"organisation": o.name, "user_id": user_id})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The organisations the actor may book for: their own (id, name); none for the system.
pub async fn my_organisation_choices(
    conn: &impl sea_orm::ConnectionTrait,
    by: Actor<'_>,
) -> Result<Vec<(i64, String)>, Error> {
    let Some(p) = by.principal() else {
        return Ok(Vec::new());
    };
    let ids = crate::service::rules::organisations_of(conn, by).await?;
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(
        rathaus_store::uow::scoped::<organisation::Entity>(p.tenant_id)
            .filter(organisation::Column::Id.is_in(ids))
            .order_by_asc(organisation::Column::Name)
            .all(conn)
            .await?
            .into_iter()
            .map(|o| (o.id, o.name))
            .collect(),
    )
}
