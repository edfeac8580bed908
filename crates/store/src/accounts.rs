//! Staff accounts, roles (bundles of permissions) and departments (Fachbereiche), citizen
//! accounts (self-registration confirmed by e-mail), and the password login with throttling.
//! Every change is audited in its own transaction.

use crate::audit::{self, Actor};
use crate::entity::{
    department, email_confirmation, login_attempt, registration_attempt, role, role_permission,
    session, user, user_role,
};
use crate::{db_err, password};
use chrono::{Duration, Utc};
use rathaus_core::audit::NewEvent;
use rathaus_core::permissions::{self, ADMIN_DEPARTMENTS, ADMIN_ROLE, ADMIN_ROLES, ADMIN_USERS};
use rathaus_core::validation::FieldErrors;
use rathaus_core::{Error, Principal, Result, TenantId, UserId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set, TransactionSession, TransactionTrait,
};
use serde_json::json;
use std::collections::BTreeSet;

pub use department::Model as Department;
pub use role::Model as Role;
pub use user::Model as User;

/// `users.kind` of staff accounts (created by administrators, may hold roles).
pub const KIND_STAFF: &str = "staff";
/// `users.kind` of self-registered citizen accounts (never hold roles).
pub const KIND_CITIZEN: &str = "citizen";

/// Creates the built-in `admin` role of a tenant (idempotent).
pub async fn ensure_builtin_roles(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Role> {
    if let Some(r) = role::Entity::find()
        .filter(role::Column::TenantId.eq(tenant.0))
        .filter(role::Column::Name.eq(ADMIN_ROLE))
        .one(conn)
        .await?
    {
        return Ok(r);
    }
    role::ActiveModel {
        tenant_id: Set(tenant.0),
        name: Set(ADMIN_ROLE.to_string()),
        description: Set("Verwaltung: alle Berechtigungen".to_string()),
        builtin: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(db_err)
}

// ---------------------------------------------------------------- principals

/// Loads an active user with the union of their roles' permissions.
pub async fn principal(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user_id: UserId,
) -> Result<Option<Principal>> {
    let Some(u) = user::Entity::find_by_id(user_id.0)
        .filter(user::Column::TenantId.eq(tenant.0))
        .filter(user::Column::Active.eq(true))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let (permissions, is_admin) = permissions_of(conn, tenant, user_id).await?;
    Ok(Some(Principal {
        tenant_id: tenant,
        user_id: UserId(u.id),
        citizen: u.kind == KIND_CITIZEN,
        name: u.name,
        email: u.email,
        permissions,
        is_admin,
    }))
}

#[derive(sea_orm::FromQueryResult)]
struct GrantRow {
    name: String,
    builtin: bool,
    permission: Option<String>,
}

/// A user's permissions and whether they hold the built-in admin role: one query, because it
/// runs on every signed-in request.
pub async fn permissions_of(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user: UserId,
) -> Result<(BTreeSet<String>, bool)> {
    use sea_orm::{FromQueryResult, Statement};
    let stmt = Statement::from_sql_and_values(
        conn.get_database_backend(),
        "SELECT r.name AS name, r.builtin AS builtin, rp.permission AS permission \
         FROM user_roles ur JOIN roles r ON r.id = ur.role_id \
         LEFT JOIN role_permissions rp ON rp.role_id = r.id \
         WHERE ur.user_id = $1 AND ur.tenant_id = $2",
        [user.0.into(), tenant.0.into()],
    );
    let rows = GrantRow::find_by_statement(stmt).all(conn).await?;
    let is_admin = rows.iter().any(|r| r.builtin && r.name == ADMIN_ROLE);
    Ok((
        rows.into_iter().filter_map(|r| r.permission).collect(),
        is_admin,
    ))
}

// ---------------------------------------------------------------- login

#[derive(Debug, Clone)]
pub struct LoginPolicy {
    /// Failed attempts per e-mail address (and per IP address) within `window` before refusing.
    pub max_failures: u64,
    pub window: Duration,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy {
            max_failures: 5,
            window: Duration::minutes(15),
        }
    }
}

pub enum LoginResult {
    Ok(User),
    /// Wrong e-mail or password, or a disabled account: one answer for all, to not reveal which.
    Failed,
    Throttled,
    /// Right password, but a citizen who has not confirmed the e-mail address yet.
    Unconfirmed,
}

pub async fn login<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    tenant: TenantId,
    email: &str,
    pw: &str,
    ip: &str,
    policy: &LoginPolicy,
) -> Result<LoginResult> {
    let email = email.trim().to_lowercase();
    if throttled(db, tenant, &email, ip, policy).await? {
        return Ok(LoginResult::Throttled);
    }
    let u = user::Entity::find()
        .filter(user::Column::TenantId.eq(tenant.0))
        .filter(user::Column::Email.eq(&email))
        .one(db)
        .await?;
    let ok = match &u {
        Some(u) => password::verify(pw, &u.password_hash) && u.active,
        None => {
            password::verify_dummy(pw);
            false
        }
    };
    let txn = crate::begin(db).await?;
    login_attempt::ActiveModel {
        tenant_id: Set(tenant.0),
        email: Set(email.clone()),
        ip: Set(ip.to_string()),
        success: Set(ok),
        at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let result = match (ok, u) {
        (true, Some(u)) if u.kind == KIND_CITIZEN && u.email_confirmed_at.is_none() => {
            audit::record(
                &txn,
                tenant,
                &Actor::system(&format!("ip:{ip}")),
                NewEvent::new("login.unconfirmed", "user", Some(u.id)).details(json!({"ip": ip})),
            )
            .await?;
            LoginResult::Unconfirmed
        }
        (true, Some(u)) => {
            audit::record(
                &txn,
                tenant,
                &Actor {
                    id: Some(u.id),
                    label: u.email.clone(),
                },
                NewEvent::new("login", "user", Some(u.id)).details(json!({"ip": ip})),
            )
            .await?;
            LoginResult::Ok(u)
        }
        _ => {
            tracing::info!(tenant = tenant.0, %email, %ip, "failed login");
            audit::record(
                &txn,
                tenant,
                &Actor::system(&format!("ip:{ip}")),
                NewEvent::new("login.failed", "user", Some(&email)).details(json!({"ip": ip})),
            )
            .await?;
            LoginResult::Failed
        }
    };
    txn.commit().await?;
    Ok(result)
}

/// Too many recent failures for this address or this client? Logs and audits a refusal.
pub async fn throttled<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    tenant: TenantId,
    email: &str,
    ip: &str,
    policy: &LoginPolicy,
) -> Result<bool> {
    let since = Utc::now() - policy.window;
    let recent = |col: login_attempt::Column, v: &str| {
        login_attempt::Entity::find()
            .filter(login_attempt::Column::TenantId.eq(tenant.0))
            .filter(col.eq(v.to_string()))
            .filter(login_attempt::Column::Success.eq(false))
            .filter(login_attempt::Column::At.gt(since))
    };
    let by_mail = recent(login_attempt::Column::Email, email)
        .count(db)
        .await?;
    let by_ip = recent(login_attempt::Column::Ip, ip).count(db).await?;
    // The per-IP limit is wider: several colleagues may share one office address.
    if by_mail < policy.max_failures && by_ip < policy.max_failures * 4 {
        return Ok(false);
    }
    tracing::warn!(tenant = tenant.0, %email, %ip, "login throttled");
    let txn = crate::begin(db).await?;
    audit::record(
        &txn,
        tenant,
        &Actor::system(&format!("ip:{ip}")),
        NewEvent::new("login.throttled", "user", Some(email)).details(json!({"ip": ip})),
    )
    .await?;
    txn.commit().await?;
    Ok(true)
}

/// A wrong second-factor code counts like a wrong password towards throttling.
pub async fn second_factor_failed<C: TransactionTrait>(
    db: &C,
    tenant: TenantId,
    user: &Principal,
    ip: &str,
) -> Result<()> {
    let txn = crate::begin(db).await?;
    login_attempt::ActiveModel {
        tenant_id: Set(tenant.0),
        email: Set(user.email.clone()),
        ip: Set(ip.to_string()),
        success: Set(false),
        at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        tenant,
        &Actor::user(user),
        NewEvent::new("login.totp_failed", "user", Some(user.user_id)).details(json!({"ip": ip})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Accepts a TOTP code at most once: the code must match the user's (pending or enabled)
/// secret and belong to a later time step than the last accepted code.
pub async fn consume_totp_code(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user: UserId,
    code: &str,
) -> Result<bool> {
    let u = find_user(conn, tenant, user.0).await?;
    let Some(step) = u
        .totp_secret
        .as_deref()
        .and_then(|s| crate::mfa::matching_step(s, code))
    else {
        return Ok(false);
    };
    let step = step as i64;
    // Conditional update: two requests racing with the same code cannot both win.
    let r = user::Entity::update_many()
        .col_expr(
            user::Column::TotpLastStep,
            sea_orm::sea_query::Expr::value(step),
        )
        .filter(user::Column::Id.eq(u.id))
        .filter(
            sea_orm::Condition::any()
                .add(user::Column::TotpLastStep.is_null())
                .add(user::Column::TotpLastStep.lt(step)),
        )
        .exec(conn)
        .await?;
    Ok(r.rows_affected == 1)
}

/// The TOTP secret of a user (for the second login step and the set-up page).
pub async fn totp_state(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user: UserId,
) -> Result<(Option<String>, bool)> {
    let u = find_user(conn, tenant, user.0).await?;
    Ok((u.totp_secret, u.totp_enabled))
}

// ---------------------------------------------------------------- users

pub struct UserInput<'a> {
    pub email: &'a str,
    pub name: &'a str,
    /// Required when creating; when editing, empty keeps the current password.
    pub password: &'a str,
    pub department_id: Option<i64>,
    pub role_ids: &'a [i64],
    pub active: bool,
}

pub async fn list_users(
    conn: &impl ConnectionTrait,
    who: &Principal,
) -> Result<Vec<(User, Vec<i64>)>> {
    who.require(ADMIN_USERS)?;
    // Staff only: citizens' accounts are not part of the administration's user list.
    let users = user::Entity::find()
        .filter(user::Column::TenantId.eq(who.tenant_id.0))
        .filter(user::Column::Kind.eq(KIND_STAFF))
        .order_by_asc(user::Column::Name)
        .all(conn)
        .await?;
    let links = user_role::Entity::find()
        .filter(user_role::Column::TenantId.eq(who.tenant_id.0))
        .all(conn)
        .await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let r = links
                .iter()
                .filter(|l| l.user_id == u.id)
                .map(|l| l.role_id)
                .collect();
            (u, r)
        })
        .collect())
}

/// The tenant's active staff accounts, by name: the people work can be assigned to in a
/// module (e.g. a defect report). Needs no user-administration permission; the caller shows
/// names to staff only.
pub async fn list_active_staff(conn: &impl ConnectionTrait, tenant: TenantId) -> Result<Vec<User>> {
    user::Entity::find()
        .filter(user::Column::TenantId.eq(tenant.0))
        .filter(user::Column::Kind.eq(KIND_STAFF))
        .filter(user::Column::Active.eq(true))
        .order_by_asc(user::Column::Name)
        .all(conn)
        .await
        .map_err(db_err)
}

pub async fn get_user(
    conn: &impl ConnectionTrait,
    who: &Principal,
    id: i64,
) -> Result<(User, Vec<i64>)> {
    who.require(ADMIN_USERS)?;
    let u = find_user(conn, who.tenant_id, id).await?;
    let roles = user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(u.id))
        .all(conn)
        .await?;
    Ok((u, roles.into_iter().map(|r| r.role_id).collect()))
}

async fn find_user(conn: &impl ConnectionTrait, tenant: TenantId, id: i64) -> Result<User> {
    user::Entity::find_by_id(id)
        .filter(user::Column::TenantId.eq(tenant.0))
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn find_by_email(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    email: &str,
) -> Result<Option<User>> {
    user::Entity::find()
        .filter(user::Column::TenantId.eq(tenant.0))
        .filter(user::Column::Email.eq(email.trim().to_lowercase()))
        .one(conn)
        .await
        .map_err(db_err)
}

/// Checks the fields and that referenced roles and department belong to the tenant.
async fn validate_user(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    inp: &UserInput<'_>,
    creating: bool,
) -> Result<(String, String)> {
    let mut errs = FieldErrors::new();
    let email = errs.email("email", inp.email);
    let name = errs.text("name", inp.name, 200);
    if creating || !inp.password.is_empty() {
        errs.new_password("password", inp.password, &[&email, &name]);
    }
    if let Some(d) = inp.department_id {
        let found = department::Entity::find_by_id(d)
            .filter(department::Column::TenantId.eq(tenant.0))
            .one(conn)
            .await?;
        if found.is_none() {
            errs.add("department_id", "err.invalid_choice");
        }
    }
    let roles = role::Entity::find()
        .filter(role::Column::TenantId.eq(tenant.0))
        .filter(role::Column::Id.is_in(inp.role_ids.to_vec()))
        .count(conn)
        .await?;
    if roles as usize != inp.role_ids.iter().collect::<BTreeSet<_>>().len() {
        errs.add("roles", "err.invalid_choice");
    }
    errs.into_result()?;
    Ok((email, name))
}

async fn set_roles(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user_id: i64,
    role_ids: &[i64],
) -> Result<()> {
    user_role::Entity::delete_many()
        .filter(user_role::Column::UserId.eq(user_id))
        .exec(conn)
        .await?;
    for r in role_ids.iter().collect::<BTreeSet<_>>() {
        user_role::ActiveModel {
            tenant_id: Set(tenant.0),
            user_id: Set(user_id),
            role_id: Set(*r),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// Rights of an account or a role: its permissions and whether it includes the built-in admin
/// role (which implies every permission, including ones registered later).
struct Rights {
    permissions: BTreeSet<String>,
    admin: bool,
}

impl Rights {
    /// Whether `who` holds everything these rights hold: the rule that nobody grants, or
    /// manages the account of someone with, a right they lack themselves.
    fn within(&self, who: &Principal) -> bool {
        who.is_admin || (!self.admin && self.permissions.iter().all(|p| who.has(p)))
    }
}

/// The combined rights of a set of roles of the tenant.
async fn rights_of_roles(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    role_ids: &[i64],
) -> Result<Rights> {
    if role_ids.is_empty() {
        return Ok(Rights {
            permissions: BTreeSet::new(),
            admin: false,
        });
    }
    let roles = role::Entity::find()
        .filter(role::Column::TenantId.eq(tenant.0))
        .filter(role::Column::Id.is_in(role_ids.to_vec()))
        .all(conn)
        .await?;
    let permissions = role_permission::Entity::find()
        .filter(role_permission::Column::TenantId.eq(tenant.0))
        .filter(role_permission::Column::RoleId.is_in(role_ids.to_vec()))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| p.permission)
        .collect();
    Ok(Rights {
        permissions,
        admin: roles.iter().any(|r| r.builtin && r.name == ADMIN_ROLE),
    })
}

async fn role_ids_of(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user_id: i64,
) -> Result<Vec<i64>> {
    Ok(user_role::Entity::find()
        .filter(user_role::Column::TenantId.eq(tenant.0))
        .filter(user_role::Column::UserId.eq(user_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.role_id)
        .collect())
}

/// Refuses roles the actor could not hand out: each newly given role must lie within the
/// actor's own rights (removing a role is always allowed, subject to the target check).
async fn check_grantable(
    conn: &impl ConnectionTrait,
    who: &Principal,
    before: &[i64],
    after: &[i64],
) -> Result<()> {
    let added: Vec<i64> = after
        .iter()
        .filter(|r| !before.contains(r))
        .copied()
        .collect();
    if !rights_of_roles(conn, who.tenant_id, &added)
        .await?
        .within(who)
    {
        return Err(FieldErrors::single("roles", "err.role_not_held"));
    }
    Ok(())
}

/// Active accounts holding the built-in admin role, other than `except`.
async fn other_active_admins(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    except: i64,
) -> Result<u64> {
    let Some(admin) = role_by_name(conn, tenant, ADMIN_ROLE).await? else {
        return Ok(0);
    };
    let holders: Vec<i64> = user_role::Entity::find()
        .filter(user_role::Column::TenantId.eq(tenant.0))
        .filter(user_role::Column::RoleId.eq(admin.id))
        .filter(user_role::Column::UserId.ne(except))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.user_id)
        .collect();
    if holders.is_empty() {
        return Ok(0);
    }
    Ok(user::Entity::find()
        .filter(user::Column::TenantId.eq(tenant.0))
        .filter(user::Column::Id.is_in(holders))
        .filter(user::Column::Active.eq(true))
        .count(conn)
        .await?)
}

/// Creates a user. `who` is the system for the CLI, which needs no permission.
pub async fn create_user<C: TransactionTrait>(
    db: &C,
    tenant: TenantId,
    who: crate::uow::Actor<'_>,
    inp: UserInput<'_>,
) -> Result<User> {
    if let Some(p) = who.principal() {
        p.require(ADMIN_USERS)?;
        p.require_tenant(tenant)?;
    }
    let txn = crate::begin(db).await?;
    let (email, name) = validate_user(&txn, tenant, &inp, true).await?;
    if let Some(p) = who.principal() {
        check_grantable(&txn, p, &[], inp.role_ids).await?;
    }
    if find_by_email(&txn, tenant, &email).await?.is_some() {
        return Err(FieldErrors::single("email", "err.email_taken"));
    }
    let hash = password::hash(inp.password)?;
    let u = user::ActiveModel {
        tenant_id: Set(tenant.0),
        email: Set(email.clone()),
        name: Set(name.clone()),
        password_hash: Set(hash),
        active: Set(inp.active),
        department_id: Set(inp.department_id),
        totp_secret: Set(None),
        totp_enabled: Set(false),
        created_at: Set(Utc::now()),
        kind: Set(KIND_STAFF.to_string()),
        // Staff addresses are entered by the administration and count as confirmed.
        email_confirmed_at: Set(Some(Utc::now())),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    set_roles(&txn, tenant, u.id, inp.role_ids).await?;
    let actor = who.recorded();
    audit::record(
        &txn,
        tenant,
        &actor,
        NewEvent::new("user.created", "user", Some(u.id)).details(json!({
            "email": email, "name": name, "roles": inp.role_ids, "department_id": inp.department_id, "active": inp.active,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(u)
}

pub async fn update_user<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    id: i64,
    inp: UserInput<'_>,
) -> Result<User> {
    who.require(ADMIN_USERS)?;
    let txn = crate::begin(db).await?;
    let before = find_user(&txn, who.tenant_id, id).await?;
    let (email, name) = validate_user(&txn, who.tenant_id, &inp, false).await?;
    if email != before.email && find_by_email(&txn, who.tenant_id, &email).await?.is_some() {
        return Err(FieldErrors::single("email", "err.email_taken"));
    }
    if id == who.user_id.0 && !inp.active {
        return Err(FieldErrors::single("active", "err.cannot_disable_self"));
    }
    if before.kind == KIND_CITIZEN && !inp.role_ids.is_empty() {
        return Err(FieldErrors::single("roles", "err.citizen_no_roles"));
    }
    let before_roles = role_ids_of(&txn, who.tenant_id, id).await?;
    let pw_changed = !inp.password.is_empty();
    let roles_changed = before_roles.iter().collect::<BTreeSet<_>>()
        != inp.role_ids.iter().collect::<BTreeSet<_>>();
    // The password, e-mail address (where reset mails go), roles and activation of an account
    // are only for someone who holds every right that account holds.
    let guarded =
        pw_changed || roles_changed || email != before.email || inp.active != before.active;
    let target = rights_of_roles(&txn, who.tenant_id, &before_roles).await?;
    if guarded && !target.within(who) {
        return Err(Error::Forbidden);
    }
    check_grantable(&txn, who, &before_roles, inp.role_ids).await?;
    if target.admin && before.active {
        let stays_admin = inp.active
            && rights_of_roles(&txn, who.tenant_id, inp.role_ids)
                .await?
                .admin;
        if !stays_admin && other_active_admins(&txn, who.tenant_id, id).await? == 0 {
            let field = if inp.active { "roles" } else { "active" };
            return Err(FieldErrors::single(field, "err.last_admin"));
        }
    }
    let mut am: user::ActiveModel = before.clone().into();
    am.email = Set(email);
    am.name = Set(name);
    am.department_id = Set(inp.department_id);
    am.active = Set(inp.active);
    if pw_changed {
        am.password_hash = Set(password::hash(inp.password)?);
    }
    let after = am.update(&txn).await?;
    set_roles(&txn, who.tenant_id, id, inp.role_ids).await?;
    if !after.active || pw_changed {
        // Disabling a user or resetting their password ends all of their sessions.
        session::Entity::delete_many()
            .filter(session::Column::UserId.eq(id))
            .exec(&txn)
            .await?;
    }
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new("user.updated", "user", Some(id)).details(json!({
            "before": {"email": before.email, "name": before.name, "active": before.active, "department_id": before.department_id, "roles": before_roles},
            "after": {"email": after.email, "name": after.name, "active": after.active, "department_id": after.department_id, "roles": inp.role_ids},
            "password_reset": pw_changed,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

/// A user changes their own password; needs the current one. Every other session of the
/// user ends (a session opened with the old password, e.g. by someone who knew it); the one
/// with the cookie token `keep` stays.
pub async fn change_own_password<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    current: &str,
    new: &str,
    keep: Option<&str>,
) -> Result<()> {
    let txn = crate::begin(db).await?;
    let u = find_user(&txn, who.tenant_id, who.user_id.0).await?;
    let mut errs = FieldErrors::new();
    if !password::verify(current, &u.password_hash) {
        errs.add("current_password", "err.password_wrong");
    }
    errs.new_password("new_password", new, &[&u.email, &u.name]);
    errs.into_result()?;
    let mut am: user::ActiveModel = u.into();
    am.password_hash = Set(password::hash(new)?);
    am.update(&txn).await?;
    let mut others =
        session::Entity::delete_many().filter(session::Column::UserId.eq(who.user_id.0));
    if let Some(token) = keep {
        others = others.filter(session::Column::Id.ne(crate::sha256_hex(token)));
    }
    let ended = others.exec(&txn).await?.rows_affected;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new("user.password_changed", "user", Some(who.user_id))
            .details(json!({"other_sessions_ended": ended})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Stores a TOTP secret (enabled or pending confirmation), or removes it.
pub async fn set_totp<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    secret: Option<String>,
    enabled: bool,
) -> Result<()> {
    let txn = crate::begin(db).await?;
    let u = find_user(&txn, who.tenant_id, who.user_id.0).await?;
    let was = u.totp_enabled;
    let mut am: user::ActiveModel = u.into();
    am.totp_secret = Set(secret);
    am.totp_enabled = Set(enabled);
    am.update(&txn).await?;
    if was != enabled {
        let action = if enabled {
            "user.totp_enabled"
        } else {
            "user.totp_disabled"
        };
        audit::record(
            &txn,
            who.tenant_id,
            &Actor::user(who),
            NewEvent::new(action, "user", Some(who.user_id)),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(())
}

pub async fn user_by_id(conn: &impl ConnectionTrait, tenant: TenantId, id: i64) -> Result<User> {
    find_user(conn, tenant, id).await
}

/// The tenant's accounts with these ids (missing ids are left out), in one query: for modules
/// that show who booked or who belongs to something.
pub async fn users_by_ids(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    ids: impl IntoIterator<Item = i64>,
) -> Result<Vec<User>> {
    let ids: Vec<i64> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    user::Entity::find()
        .filter(user::Column::TenantId.eq(tenant.0))
        .filter(user::Column::Id.is_in(ids))
        .all(conn)
        .await
        .map_err(db_err)
}

// ---------------------------------------------------------------- roles

pub async fn list_roles(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<(Role, Vec<String>)>> {
    let roles = role::Entity::find()
        .filter(role::Column::TenantId.eq(tenant.0))
        .order_by_asc(role::Column::Name)
        .all(conn)
        .await?;
    let perms = role_permission::Entity::find()
        .filter(role_permission::Column::TenantId.eq(tenant.0))
        .all(conn)
        .await?;
    Ok(roles
        .into_iter()
        .map(|r| {
            let p = perms
                .iter()
                .filter(|p| p.role_id == r.id)
                .map(|p| p.permission.clone())
                .collect();
            (r, p)
        })
        .collect())
}

pub async fn role_by_name(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    name: &str,
) -> Result<Option<Role>> {
    role::Entity::find()
        .filter(role::Column::TenantId.eq(tenant.0))
        .filter(role::Column::Name.eq(name))
        .one(conn)
        .await
        .map_err(db_err)
}

pub struct RoleInput<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub permissions: &'a [String],
}

fn validate_role(inp: &RoleInput<'_>) -> Result<(String, String, BTreeSet<String>)> {
    let mut errs = FieldErrors::new();
    let name = errs.text("name", inp.name, 100);
    let description = errs.optional_text("description", inp.description, 500);
    let perms: BTreeSet<String> = inp.permissions.iter().cloned().collect();
    if perms.iter().any(|p| !permissions::is_known(p)) {
        errs.add("permissions", "err.invalid_choice");
    }
    errs.into_result()?;
    Ok((name, description, perms))
}

/// Adds `also` to every role that holds `had` (a module that splits a permission keeps what
/// existing roles could do). Idempotent; returns the number of roles changed.
pub async fn grant_alongside(conn: &impl ConnectionTrait, had: &str, also: &str) -> Result<u64> {
    let holders = role_permission::Entity::find()
        .filter(role_permission::Column::Permission.eq(had))
        .all(conn)
        .await?;
    let mut changed = 0;
    for h in holders {
        let present = role_permission::Entity::find()
            .filter(role_permission::Column::RoleId.eq(h.role_id))
            .filter(role_permission::Column::Permission.eq(also))
            .count(conn)
            .await?;
        if present == 0 {
            role_permission::ActiveModel {
                tenant_id: Set(h.tenant_id),
                role_id: Set(h.role_id),
                permission: Set(also.to_string()),
                ..Default::default()
            }
            .insert(conn)
            .await?;
            changed += 1;
        }
    }
    Ok(changed)
}

/// A role may only bundle permissions its author holds.
fn check_permissions_held(who: &Principal, perms: &BTreeSet<String>) -> Result<()> {
    if perms.iter().all(|p| who.has(p)) {
        Ok(())
    } else {
        Err(FieldErrors::single(
            "permissions",
            "err.permission_not_held",
        ))
    }
}

/// Creates a role; `who` is the system for the CLI.
pub async fn create_role<C: TransactionTrait>(
    db: &C,
    tenant: TenantId,
    who: crate::uow::Actor<'_>,
    inp: RoleInput<'_>,
) -> Result<Role> {
    if let Some(p) = who.principal() {
        p.require(ADMIN_ROLES)?;
        p.require_tenant(tenant)?;
    }
    let (name, description, perms) = validate_role(&inp)?;
    if let Some(p) = who.principal() {
        check_permissions_held(p, &perms)?;
    }
    let txn = crate::begin(db).await?;
    if role_by_name(&txn, tenant, &name).await?.is_some() {
        return Err(FieldErrors::single("name", "err.name_taken"));
    }
    let r = role::ActiveModel {
        tenant_id: Set(tenant.0),
        name: Set(name.clone()),
        description: Set(description),
        builtin: Set(false),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for p in &perms {
        role_permission::ActiveModel {
            tenant_id: Set(tenant.0),
            role_id: Set(r.id),
            permission: Set(p.clone()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    let actor = who.recorded();
    audit::record(
        &txn,
        tenant,
        &actor,
        NewEvent::new("role.created", "role", Some(r.id))
            .details(json!({"name": name, "permissions": perms})),
    )
    .await?;
    txn.commit().await?;
    Ok(r)
}

pub async fn get_role(
    conn: &impl ConnectionTrait,
    who: &Principal,
    id: i64,
) -> Result<(Role, Vec<String>)> {
    who.require(ADMIN_ROLES)?;
    let r = role::Entity::find_by_id(id)
        .filter(role::Column::TenantId.eq(who.tenant_id.0))
        .one(conn)
        .await?
        .ok_or(Error::NotFound)?;
    let p = role_permission::Entity::find()
        .filter(role_permission::Column::RoleId.eq(id))
        .all(conn)
        .await?;
    Ok((r, p.into_iter().map(|p| p.permission).collect()))
}

pub async fn update_role<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    id: i64,
    inp: RoleInput<'_>,
) -> Result<Role> {
    who.require(ADMIN_ROLES)?;
    let (name, description, perms) = validate_role(&inp)?;
    let txn = crate::begin(db).await?;
    let (before, before_perms) = get_role(&txn, who, id).await?;
    if before.builtin {
        return Err(Error::Conflict("err.builtin_role".into()));
    }
    // Editing a role changes the rights of everyone who holds it: only for someone who holds
    // all of its permissions, before and after.
    if !before_perms.iter().all(|p| who.has(p)) {
        return Err(Error::Forbidden);
    }
    check_permissions_held(who, &perms)?;
    if name != before.name && role_by_name(&txn, who.tenant_id, &name).await?.is_some() {
        return Err(FieldErrors::single("name", "err.name_taken"));
    }
    let mut am: role::ActiveModel = before.clone().into();
    am.name = Set(name.clone());
    am.description = Set(description);
    let after = am.update(&txn).await?;
    role_permission::Entity::delete_many()
        .filter(role_permission::Column::RoleId.eq(id))
        .exec(&txn)
        .await?;
    for p in &perms {
        role_permission::ActiveModel {
            tenant_id: Set(who.tenant_id.0),
            role_id: Set(id),
            permission: Set(p.clone()),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
    }
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new("role.updated", "role", Some(id)).details(json!({
            "before": {"name": before.name, "permissions": before_perms},
            "after": {"name": name, "permissions": perms},
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

pub async fn delete_role<C: TransactionTrait>(db: &C, who: &Principal, id: i64) -> Result<()> {
    who.require(ADMIN_ROLES)?;
    let txn = crate::begin(db).await?;
    let (r, perms) = get_role(&txn, who, id).await?;
    if r.builtin {
        return Err(Error::Conflict("err.builtin_role".into()));
    }
    if !perms.iter().all(|p| who.has(p)) {
        return Err(Error::Forbidden);
    }
    role::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new("role.deleted", "role", Some(id))
            .details(json!({"name": r.name, "permissions": perms})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- departments

pub async fn list_departments(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
) -> Result<Vec<Department>> {
    department::Entity::find()
        .filter(department::Column::TenantId.eq(tenant.0))
        .order_by_asc(department::Column::Name)
        .all(conn)
        .await
        .map_err(db_err)
}

/// Creates a department; `who` is the system for the CLI and the demo.
pub async fn create_department<C: TransactionTrait>(
    db: &C,
    tenant: TenantId,
    who: crate::uow::Actor<'_>,
    name: &str,
) -> Result<Department> {
    if let Some(p) = who.principal() {
        p.require(ADMIN_DEPARTMENTS)?;
        p.require_tenant(tenant)?;
    }
    let mut errs = FieldErrors::new();
    let name = errs.text("name", name, 200);
    errs.into_result()?;
    let txn = crate::begin(db).await?;
    let exists = department::Entity::find()
        .filter(department::Column::TenantId.eq(tenant.0))
        .filter(department::Column::Name.eq(&name))
        .one(&txn)
        .await?;
    if exists.is_some() {
        return Err(FieldErrors::single("name", "err.name_taken"));
    }
    let d = department::ActiveModel {
        tenant_id: Set(tenant.0),
        name: Set(name.clone()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let actor = who.recorded();
    audit::record(
        &txn,
        tenant,
        &actor,
        NewEvent::new("department.created", "department", Some(d.id))
            .details(json!({"name": name})),
    )
    .await?;
    txn.commit().await?;
    Ok(d)
}

pub async fn rename_department<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    id: i64,
    name: &str,
) -> Result<Department> {
    who.require(ADMIN_DEPARTMENTS)?;
    let mut errs = FieldErrors::new();
    let name = errs.text("name", name, 200);
    errs.into_result()?;
    let txn = crate::begin(db).await?;
    let before = department::Entity::find_by_id(id)
        .filter(department::Column::TenantId.eq(who.tenant_id.0))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    let clash = department::Entity::find()
        .filter(department::Column::TenantId.eq(who.tenant_id.0))
        .filter(department::Column::Name.eq(&name))
        .filter(department::Column::Id.ne(id))
        .one(&txn)
        .await?;
    if clash.is_some() {
        return Err(FieldErrors::single("name", "err.name_taken"));
    }
    let mut am: department::ActiveModel = before.clone().into();
    am.name = Set(name.clone());
    let after = am.update(&txn).await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new("department.renamed", "department", Some(id))
            .details(json!({"before": before.name, "after": name})),
    )
    .await?;
    txn.commit().await?;
    Ok(after)
}

pub async fn delete_department<C: TransactionTrait>(
    db: &C,
    who: &Principal,
    id: i64,
) -> Result<()> {
    who.require(ADMIN_DEPARTMENTS)?;
    let txn = crate::begin(db).await?;
    let d = department::Entity::find_by_id(id)
        .filter(department::Column::TenantId.eq(who.tenant_id.0))
        .one(&txn)
        .await?
        .ok_or(Error::NotFound)?;
    department::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        who.tenant_id,
        &Actor::user(who),
        NewEvent::new("department.deleted", "department", Some(id))
            .details(json!({"name": d.name})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The role ids of the principal itself (for the own-account page; needs no permission).
pub async fn own_role_ids(conn: &impl ConnectionTrait, who: &Principal) -> Result<Vec<i64>> {
    Ok(user_role::Entity::find()
        .filter(user_role::Column::UserId.eq(who.user_id.0))
        .filter(user_role::Column::TenantId.eq(who.tenant_id.0))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.role_id)
        .collect())
}

/// Sets a new password without knowing the old one (CLI and demo); ends the user's sessions.
pub async fn reset_password<C: TransactionTrait>(
    db: &C,
    tenant: TenantId,
    user: UserId,
    new: &str,
    actor: &Actor,
) -> Result<()> {
    let txn = crate::begin(db).await?;
    let u = find_user(&txn, tenant, user.0).await?;
    let mut errs = FieldErrors::new();
    errs.new_password("password", new, &[&u.email, &u.name]);
    errs.into_result()?;
    let mut am: user::ActiveModel = u.into();
    am.password_hash = Set(password::hash(new)?);
    am.update(&txn).await?;
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user.0))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        tenant,
        actor,
        NewEvent::new("user.password_reset", "user", Some(user.0)),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Removes a user's second factor (lost phone). Their sessions end; they log in with the
/// password and, where the tenant demands it, set up a new one. `who` is the system for the CLI.
pub async fn reset_totp<C: TransactionTrait>(
    db: &C,
    tenant: TenantId,
    who: crate::uow::Actor<'_>,
    user: UserId,
) -> Result<()> {
    if let Some(p) = who.principal() {
        p.require(ADMIN_USERS)?;
        p.require_tenant(tenant)?;
    }
    let txn = crate::begin(db).await?;
    let u = find_user(&txn, tenant, user.0).await?;
    if let Some(p) = who.principal() {
        let roles = role_ids_of(&txn, tenant, u.id).await?;
        if !rights_of_roles(&txn, tenant, &roles).await?.within(p) {
            return Err(Error::Forbidden);
        }
    }
    let was_enabled = u.totp_enabled;
    let mut am: user::ActiveModel = u.into();
    am.totp_secret = Set(None);
    am.totp_enabled = Set(false);
    am.update(&txn).await?;
    session::Entity::delete_many()
        .filter(session::Column::UserId.eq(user.0))
        .exec(&txn)
        .await?;
    let actor = who.recorded();
    audit::record(
        &txn,
        tenant,
        &actor,
        NewEvent::new("user.totp_reset", "user", Some(user.0))
            .details(json!({"was_enabled": was_enabled})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

// ---------------------------------------------------------------- citizens

/// How many registrations one client address and one e-mail address may start per window
/// (each one sends a mail, so this also stops mail bombing through the form).
#[derive(Debug, Clone)]
pub struct RegisterPolicy {
    pub per_ip: u64,
    pub per_email: u64,
    pub window: Duration,
}

impl Default for RegisterPolicy {
    fn default() -> Self {
        RegisterPolicy {
            per_ip: 10,
            per_email: 3,
            window: Duration::hours(1),
        }
    }
}

/// How long an e-mail confirmation link is valid.
pub fn confirmation_validity() -> Duration {
    Duration::hours(48)
}

/// What a citizen types into the registration form.
pub struct Registration<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    /// The privacy notice (Datenschutzhinweise) was accepted.
    pub privacy_consent: bool,
}

/// The mail a registration sends; the caller words it (in the user's language).
pub enum RegistrationMail<'a> {
    /// A new account (or a renewed, still unconfirmed one): the confirmation link's token.
    Confirm { name: &'a str, token: &'a str },
    /// The address already belongs to an account; the form does not reveal this, the mail
    /// tells the owner.
    Exists { name: &'a str },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterResult {
    /// A mail was queued (confirmation link or "account exists").
    MailQueued,
    /// Too many registrations from this address or for this e-mail address.
    Throttled,
}

fn validate_citizen(
    errs: &mut FieldErrors,
    name: &str,
    email: &str,
    password: &str,
) -> (String, String) {
    let name = errs.text("name", name, 200);
    let email = errs.email("email", email);
    errs.new_password("password", password, &[&email, &name]);
    (name, email)
}

/// A fresh confirmation token for a user; returns the plaintext (only its hash is stored).
async fn new_confirmation(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    user_id: i64,
) -> Result<String> {
    let token = crate::random_token(32);
    let now = Utc::now();
    email_confirmation::ActiveModel {
        tenant_id: Set(tenant.0),
        user_id: Set(user_id),
        token_hash: Set(crate::sha256_hex(&token)),
        created_at: Set(now),
        expires_at: Set(now + confirmation_validity()),
        used_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(token)
}

/// Marks every open confirmation token of a user as used.
async fn close_confirmations(conn: &impl ConnectionTrait, user_id: i64) -> Result<()> {
    email_confirmation::Entity::update_many()
        .col_expr(
            email_confirmation::Column::UsedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(email_confirmation::Column::UserId.eq(user_id))
        .filter(email_confirmation::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

/// Self-registration of a citizen: validates, applies the per-IP/per-address limit, creates
/// an unconfirmed citizen account without roles and queues the confirmation mail, all in one
/// transaction. An address that already has an account gets a mail saying so instead; the
/// answer to the caller is the same, so the form does not reveal which addresses exist. An
/// existing but never confirmed citizen account is taken over by the new registration (its
/// owner never proved the address), with a new link; older links stop working.
pub async fn register_citizen<C: TransactionTrait + ConnectionTrait>(
    db: &C,
    tenant: TenantId,
    inp: Registration<'_>,
    ip: &str,
    policy: &RegisterPolicy,
    compose: impl FnOnce(RegistrationMail<'_>) -> (String, String),
) -> Result<RegisterResult> {
    let mut errs = FieldErrors::new();
    let (name, email) = validate_citizen(&mut errs, inp.name, inp.email, inp.password);
    if !inp.privacy_consent {
        errs.add("consent", "err.consent_required");
    }
    errs.into_result()?;

    let since = Utc::now() - policy.window;
    let recent = |col: registration_attempt::Column, v: &str| {
        registration_attempt::Entity::find()
            .filter(registration_attempt::Column::TenantId.eq(tenant.0))
            .filter(col.eq(v.to_string()))
            .filter(registration_attempt::Column::At.gt(since))
    };
    let by_ip = recent(registration_attempt::Column::Ip, ip)
        .count(db)
        .await?;
    let by_mail = recent(registration_attempt::Column::Email, &email)
        .count(db)
        .await?;
    if by_ip >= policy.per_ip || by_mail >= policy.per_email {
        tracing::warn!(tenant = tenant.0, %ip, "registration throttled");
        let txn = crate::begin(db).await?;
        audit::record(
            &txn,
            tenant,
            &Actor::system(&format!("ip:{ip}")),
            NewEvent::new("user.register_throttled", "user", Some(&email))
                .details(json!({"ip": ip})),
        )
        .await?;
        txn.commit().await?;
        return Ok(RegisterResult::Throttled);
    }

    // Hashed in every case, so the answer takes as long for a known address as for a new one.
    let hash = password::hash(inp.password)?;
    let txn = crate::begin(db).await?;
    registration_attempt::ActiveModel {
        tenant_id: Set(tenant.0),
        ip: Set(ip.chars().take(64).collect()),
        email: Set(email.chars().take(254).collect()),
        at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let actor = Actor::system(&format!("ip:{ip}"));
    let existing = find_by_email(&txn, tenant, &email).await?;
    let (subject, body) = match existing {
        Some(u) if u.kind == KIND_CITIZEN && u.email_confirmed_at.is_none() => {
            close_confirmations(&txn, u.id).await?;
            let id = u.id;
            let mut am: user::ActiveModel = u.into();
            am.name = Set(name.clone());
            am.password_hash = Set(hash);
            am.update(&txn).await?;
            let token = new_confirmation(&txn, tenant, id).await?;
            audit::record(
                &txn,
                tenant,
                &actor,
                NewEvent::new("user.registered", "user", Some(id)).details(json!({
                    "email": email, "name": name, "renewed": true, "privacy_consent": true,
                })),
            )
            .await?;
            compose(RegistrationMail::Confirm {
                name: &name,
                token: &token,
            })
        }
        Some(u) => {
            audit::record(
                &txn,
                tenant,
                &actor,
                NewEvent::new("user.register_existing", "user", Some(u.id))
                    .details(json!({"ip": ip})),
            )
            .await?;
            compose(RegistrationMail::Exists { name: &u.name })
        }
        None => {
            let u = insert_citizen(&txn, tenant, &name, &email, hash, false).await?;
            let token = new_confirmation(&txn, tenant, u.id).await?;
            audit::record(
                &txn,
                tenant,
                &actor,
                NewEvent::new("user.registered", "user", Some(u.id)).details(json!({
                    "email": email, "name": name, "renewed": false, "privacy_consent": true,
                })),
            )
            .await?;
            compose(RegistrationMail::Confirm {
                name: &name,
                token: &token,
            })
        }
    };
    crate::mail::queue(&txn, tenant, &email, &subject, &body).await?;
    txn.commit().await?;
    Ok(RegisterResult::MailQueued)
}

async fn insert_citizen(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    name: &str,
    email: &str,
    password_hash: String,
    confirmed: bool,
) -> Result<User> {
    let now = Utc::now();
    user::ActiveModel {
        tenant_id: Set(tenant.0),
        email: Set(email.to_string()),
        name: Set(name.to_string()),
        password_hash: Set(password_hash),
        active: Set(true),
        department_id: Set(None),
        totp_secret: Set(None),
        totp_enabled: Set(false),
        created_at: Set(now),
        kind: Set(KIND_CITIZEN.to_string()),
        email_confirmed_at: Set(confirmed.then_some(now)),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(db_err)
}

/// Creates a citizen account directly (demo data, tests, other modules' set-up): no roles,
/// confirmed or not. Validates like the registration form; a taken address is a field error.
pub async fn create_citizen<C: TransactionTrait>(
    db: &C,
    tenant: TenantId,
    name: &str,
    email: &str,
    password: &str,
    confirmed: bool,
) -> Result<User> {
    let mut errs = FieldErrors::new();
    let (name, email) = validate_citizen(&mut errs, name, email, password);
    errs.into_result()?;
    let hash = password::hash(password)?;
    let txn = crate::begin(db).await?;
    if find_by_email(&txn, tenant, &email).await?.is_some() {
        return Err(FieldErrors::single("email", "err.email_taken"));
    }
    let u = insert_citizen(&txn, tenant, &name, &email, hash, confirmed).await?;
    audit::record(
        &txn,
        tenant,
        &Actor::system("system"),
        NewEvent::new("user.created", "user", Some(u.id)).details(json!({
            "email": email, "name": name, "kind": KIND_CITIZEN, "confirmed": confirmed,
        })),
    )
    .await?;
    txn.commit().await?;
    Ok(u)
}

/// The state of an e-mail confirmation link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// Valid (before `confirm_email`), or just used to confirm (its result).
    Valid,
    Used,
    Expired,
    Unknown,
}

async fn token_row(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    token: &str,
) -> Result<(TokenState, Option<email_confirmation::Model>)> {
    if token.is_empty() || token.len() > 100 {
        return Ok((TokenState::Unknown, None));
    }
    let Some(row) = email_confirmation::Entity::find()
        .filter(email_confirmation::Column::TokenHash.eq(crate::sha256_hex(token)))
        .filter(email_confirmation::Column::TenantId.eq(tenant.0))
        .one(conn)
        .await?
    else {
        return Ok((TokenState::Unknown, None));
    };
    let state = if row.used_at.is_some() {
        TokenState::Used
    } else if row.expires_at <= Utc::now() {
        TokenState::Expired
    } else {
        TokenState::Valid
    };
    Ok((state, Some(row)))
}

/// Looks at a confirmation link without using it (the page behind the link's GET).
pub async fn confirmation_state(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    token: &str,
) -> Result<TokenState> {
    Ok(token_row(conn, tenant, token).await?.0)
}

/// Uses a confirmation link: the citizen's address counts as confirmed and they can log in.
/// Returns `Valid` when it confirmed now; a link works once, for 48 hours.
pub async fn confirm_email<C: TransactionTrait>(
    db: &C,
    tenant: TenantId,
    token: &str,
    ip: &str,
) -> Result<TokenState> {
    let txn = crate::begin(db).await?;
    let (state, row) = token_row(&txn, tenant, token).await?;
    let (TokenState::Valid, Some(row)) = (state, row) else {
        return Ok(state);
    };
    let now = Utc::now();
    // Conditional: two requests racing with the same link cannot both use it.
    let r = email_confirmation::Entity::update_many()
        .col_expr(
            email_confirmation::Column::UsedAt,
            sea_orm::sea_query::Expr::value(now),
        )
        .filter(email_confirmation::Column::Id.eq(row.id))
        .filter(email_confirmation::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    if r.rows_affected != 1 {
        return Ok(TokenState::Used);
    }
    close_confirmations(&txn, row.user_id).await?;
    let u = find_user(&txn, tenant, row.user_id).await?;
    let label = u.email.clone();
    if u.email_confirmed_at.is_none() {
        let mut am: user::ActiveModel = u.into();
        am.email_confirmed_at = Set(Some(now));
        am.update(&txn).await?;
    }
    audit::record(
        &txn,
        tenant,
        &Actor {
            id: Some(row.user_id),
            label,
        },
        NewEvent::new("user.email_confirmed", "user", Some(row.user_id)).details(json!({"ip": ip})),
    )
    .await?;
    txn.commit().await?;
    Ok(TokenState::Valid)
}
