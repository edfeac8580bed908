//! The module's settings per tenant: the deletion period after the last move-out (issue 12,
//! section 11), read by the anonymisation job, and the period within which expiring permits
//! are listed (section 5), read by the dashboard and the weekly mail. Changed on the settings
//! page by holders of `refugees.edit`, audited with the old and the new values.

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

/// Permits expiring within this many days are listed, when the tenant set nothing else: three
/// months leave time to apply for an extension.
pub const DEFAULT_EXPIRY_DAYS: i32 = 90;
/// The range a tenant may choose from: a week up to a year.
pub const MIN_EXPIRY_DAYS: i32 = 7;
pub const MAX_EXPIRY_DAYS: i32 = 365;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub retention_years: i32,
    pub expiry_days: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            retention_years: DEFAULT_RETENTION_YEARS,
            expiry_days: DEFAULT_EXPIRY_DAYS,
        }
    }
}

/// The tenant's settings (the defaults when none are set); for the services that use them.
pub async fn current(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Settings> {
    Ok(scoped::<settings::Entity>(tenant)
        .one(conn)
        .await?
        .map_or_else(Settings::default, |s| Settings {
            retention_years: s.retention_years,
            expiry_days: s.expiry_days,
        }))
}

/// The tenant's deletion period (the default when none is set).
pub async fn retention_years(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<i32> {
    Ok(current(conn, tenant).await?.retention_years)
}

/// The tenant's period for expiring permits, in days (the default when none is set).
pub async fn expiry_days(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<i64> {
    Ok(i64::from(current(conn, tenant).await?.expiry_days))
}

/// The settings, for the form; needs `refugees.edit`.
pub async fn get(db: &DatabaseConnection, by: Actor<'_>, tenant: TenantId) -> Result<Settings> {
    by.require(EDIT)?;
    by.require_tenant(tenant)?;
    current(db, tenant).await
}

/// The form's texts, as typed.
#[derive(Debug, Clone, Default)]
pub struct SettingsText {
    pub retention_years: String,
    pub expiry_days: String,
}

/// A whole number in `min..=max`, or None.
fn whole_in(text: &str, min: i32, max: i32) -> Option<i32> {
    text.trim()
        .parse::<i32>()
        .ok()
        .filter(|v| (min..=max).contains(v))
}

/// Sets the deletion period (whole years) and the expiry period (whole days) from the form's
/// texts, each in its allowed range; both or neither are saved.
pub async fn update(
    db: &DatabaseConnection,
    by: Actor<'_>,
    tenant: TenantId,
    input: &SettingsText,
) -> Result<Settings> {
    by.require(EDIT)?;
    let years = whole_in(
        &input.retention_years,
        MIN_RETENTION_YEARS,
        MAX_RETENTION_YEARS,
    );
    let days = whole_in(&input.expiry_days, MIN_EXPIRY_DAYS, MAX_EXPIRY_DAYS);
    let mut e = FieldErrors::new();
    if years.is_none() {
        e.add_arg(
            "retention_years",
            "refugees.err.retention_years",
            Some(MAX_RETENTION_YEARS),
        );
    }
    if days.is_none() {
        e.add_arg(
            "expiry_days",
            "refugees.err.expiry_days",
            Some(MAX_EXPIRY_DAYS),
        );
    }
    let (Some(years), Some(days)) = (years, days) else {
        return Err(rathaus_core::Error::Invalid(e));
    };
    let tx = Tx::begin(db, tenant, by).await?;
    let old = tx.find::<settings::Entity>().one(tx.conn()).await?;
    let before = old.as_ref().map_or_else(Settings::default, |s| Settings {
        retention_years: s.retention_years,
        expiry_days: s.expiry_days,
    });
    match old {
        Some(s) => {
            let mut am: settings::ActiveModel = s.into();
            am.retention_years = Set(years);
            am.expiry_days = Set(days);
            am.updated_at = Set(Utc::now());
            sea_orm::ActiveModelTrait::update(am, tx.conn()).await?;
        }
        None => {
            tx.insert(settings::ActiveModel {
                retention_years: Set(years),
                expiry_days: Set(days),
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
        .details(serde_json::json!({
            "retention_years": { "before": before.retention_years, "after": years },
            "expiry_days": { "before": before.expiry_days, "after": days },
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(Settings {
        retention_years: years,
        expiry_days: days,
    })
}
