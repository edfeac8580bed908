//! The module's settings per tenant: the deletion period after the last move-out (issue 12,
//! section 11). Read by the anonymisation job; changed on the settings page by holders of
//! `refugees.edit`, audited with the old and the new value.

use chrono::Utc;
use rathaus_core::audit::NewEvent;
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Result, TenantId};
use rathaus_store::uow::{Actor, Tx, scoped};
use sea_orm::{ConnectionTrait, DatabaseConnection, Set};

use crate::permissions::EDIT;
use crate::store::settings;

/// Years after the last move-out until a person is anonymised, when the tenant set none:
/// three years after the case closed is the usual retention of the state file plans.
pub const DEFAULT_RETENTION_YEARS: i32 = 3;
/// The range a tenant may choose from.
pub const MIN_RETENTION_YEARS: i32 = 1;
pub const MAX_RETENTION_YEARS: i32 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub retention_years: i32,
}

/// The tenant's deletion period (the default when none is set).
pub async fn retention_years(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<i32> {
    Ok(scoped::<settings::Entity>(tenant)
        .one(conn)
        .await?
        .map_or(DEFAULT_RETENTION_YEARS, |s| s.retention_years))
}

/// The settings, for the form; needs `refugees.edit`.
pub async fn get(db: &DatabaseConnection, by: Actor<'_>, tenant: TenantId) -> Result<Settings> {
    by.require(EDIT)?;
    by.require_tenant(tenant)?;
    Ok(Settings {
        retention_years: retention_years(db, tenant).await?,
    })
}

/// Sets the deletion period from the form's text (whole years in the allowed range).
pub async fn update(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    retention_years_text: &str,
) -> Result<Settings> {
    by.require(EDIT)?;
    let years = retention_years_text
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|y| (MIN_RETENTION_YEARS..=MAX_RETENTION_YEARS).contains(y));
    let Some(years) = years else {
        let mut e = FieldErrors::new();
        e.add_arg(
            "retention_years",
            "refugees.err.retention_years",
            Some(MAX_RETENTION_YEARS),
        );
        return Err(rathaus_core::Error::Invalid(e));
    };
    let tx = Tx::begin(db, tenant, by).await?;
    let old = tx.find::<settings::Entity>().one(tx.conn()).await?;
    let before = old
        .as_ref()
        .map_or(DEFAULT_RETENTION_YEARS, |s| s.retention_years);
    match old {
        Some(s) => {
            let mut am: settings::ActiveModel = s.into();
            am.retention_years = Set(years);
            am.updated_at = Set(Utc::now());
            sea_orm::ActiveModelTrait::update(am, tx.conn()).await?;
        }
        None => {
            tx.insert(settings::ActiveModel {
                retention_years: Set(years),
                updated_at: Set(Utc::now()),
                ..Default::default()
            })
            .await?;
        }
    }
    tx.audit(
        NewEvent::new(
            "refugees.settings_changed",
            "refugees_settings",
            None::<i64>,
        )
        .details(serde_json::json!({ "retention_years": { "before": before, "after": years } })),
    )
    .await?;
    tx.commit().await?;
    Ok(Settings {
        retention_years: years,
    })
}
