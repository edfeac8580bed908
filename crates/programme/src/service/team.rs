//! The Digitallotsen: staff users in the team, with department and role; the coordinator.

use super::{COORDINATE, Member, READ};
use crate::store::entity::member;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Result, TenantId};
use rathaus_store::uow::{Actor, Scope, Tx};
use sea_orm::{ColumnTrait, DatabaseConnection, QueryFilter, QueryOrder, Set};

/// Adds a staff user to the team (or changes their department and role).
pub async fn add(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    user_id: i64,
    department: &str,
    role: &str,
    coordinator: bool,
) -> Result<Member> {
    by.require(COORDINATE)?;
    let mut errs = FieldErrors::new();
    let department = errs.text("department", department, 120);
    let role = errs.optional_text("role", role, 120);
    errs.into_result()?;
    let tx = Tx::begin(db, tenant, by).await?;
    let u = match rathaus_store::accounts::user_by_id(tx.conn(), tenant, user_id).await {
        Ok(u) if u.active => u,
        Ok(_) | Err(Error::NotFound) => {
            return Err(FieldErrors::single("user_id", "programme.err.choice"));
        }
        Err(e) => return Err(e),
    };
    let old = tx
        .find::<member::Entity>()
        .filter(member::Column::UserId.eq(user_id))
        .one(tx.conn())
        .await?;
    let m = match old {
        Some(o) => {
            tx.update_many::<member::Entity>()
                .col_expr(member::Column::Department, department.clone().into())
                .col_expr(member::Column::Role, role.clone().into())
                .col_expr(member::Column::Coordinator, coordinator.into())
                .filter(member::Column::Id.eq(o.id))
                .exec(tx.conn())
                .await?;
            Member {
                department,
                role,
                coordinator,
                ..o
            }
        }
        None => {
            tx.insert(member::ActiveModel {
                user_id: Set(user_id),
                name: Set(u.name),
                department: Set(department),
                role: Set(role),
                coordinator: Set(coordinator),
                ..Default::default()
            })
            .await?
        }
    };
    tx.audit(NewEvent::new(
        "programme.member.saved",
        "programme_member",
        Some(m.id),
    ))
    .await?;
    tx.commit().await?;
    Ok(m)
}

/// Removes a member from the team.
pub async fn remove(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    id: i64,
) -> Result<()> {
    by.require(COORDINATE)?;
    let tx = Tx::begin(db, tenant, by).await?;
    tx.get::<member::Entity, _>(id).await?;
    tx.delete_many::<member::Entity>()
        .filter(member::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    tx.audit(NewEvent::new(
        "programme.member.removed",
        "programme_member",
        Some(id),
    ))
    .await?;
    tx.commit().await
}

/// The team by name.
pub async fn list(db: &DatabaseConnection, by: Actor<'_>, tenant: TenantId) -> Result<Vec<Member>> {
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    Ok(scope
        .find::<member::Entity>()
        .order_by_asc(member::Column::Name)
        .all(db)
        .await?)
}

/// The tenant's active staff (to pick members and responsible people from).
pub async fn staff(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
) -> Result<Vec<(i64, String)>> {
    let scope = Scope::new(db, tenant, by)?;
    scope.require(READ)?;
    Ok(rathaus_store::accounts::list_active_staff(db, tenant)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}
