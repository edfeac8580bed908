//! The one door to tenant-owned tables: a unit of work opened for a tenant and an actor.
//!
//! - `Scope` reads (on the connection, no transaction: SQLite readers never wait for the write
//!   lock); `Tx` writes (one transaction, `BEGIN IMMEDIATE` on SQLite) and adds the audit
//!   event and the work to do after commit.
//! - Both hand out queries already filtered to their tenant (`find`, `get`, `update_many`,
//!   `delete_many`) and set the tenant on inserts, for every entity that declares its tenant
//!   column with `tenant_owned!`. A module never writes `Column::TenantId.eq(..)` itself
//!   (`scripts/check-architecture` counts the places that still do).
//! - The actor is never optional: a signed-in user, an API token's owner, or the system with
//!   the reason it acts (a job, the CLI). `require` checks a permission of a user or token and
//!   lets the system pass, so a check cannot be skipped by passing "nobody".

use crate::audit;
use rathaus_core::audit::NewEvent;
use rathaus_core::{Error, Principal, Result, TenantId};
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    DeleteMany, EntityTrait, IntoActiveModel, PrimaryKeyTrait, QueryFilter, Select,
    TransactionTrait, UpdateMany,
};

/// Who acts in a unit of work.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// A signed-in member of staff or citizen.
    User(&'a Principal),
    /// The owner of an API token, with the token's rights.
    Token(&'a Principal),
    /// A background job, the CLI or the demo data: all rights, and the reason on record.
    System { reason: &'static str },
}

impl Actor<'_> {
    /// The system acting for a reason (a job, the CLI, demo data).
    pub const fn system(reason: &'static str) -> Actor<'static> {
        Actor::System { reason }
    }

    /// The principal behind a user or token; None for the system.
    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Actor::User(p) | Actor::Token(p) => Some(p),
            Actor::System { .. } => None,
        }
    }

    /// The permission check of every service: users and tokens need the permission, the
    /// system acts for the installation.
    pub fn require(&self, permission: &str) -> Result<()> {
        match self.principal() {
            Some(p) => p.require(permission),
            None => Ok(()),
        }
    }

    /// How the audit log names the actor.
    pub fn recorded(&self) -> audit::Actor {
        match self {
            Actor::User(p) | Actor::Token(p) => audit::Actor::user(p),
            Actor::System { reason } => audit::Actor::system(reason),
        }
    }

    /// Another tenant's principal gets `NotFound`; the system acts in any tenant.
    pub fn require_tenant(&self, tenant: TenantId) -> Result<()> {
        match self.principal() {
            // Another tenant's principal finds nothing here (404, never 403).
            Some(p) if p.tenant_id != tenant => Err(Error::NotFound),
            _ => Ok(()),
        }
    }
}

/// An entity whose rows belong to a tenant, with the column that says which.
pub trait TenantOwned: EntityTrait {
    fn tenant_column() -> Self::Column;
}

/// Declares entities (modules in scope, each with `Entity` and `Column::TenantId`) as
/// tenant-owned, e.g. `rathaus_store::tenant_owned!(report, category);` in `entity/mod.rs`,
/// and lists their tables in `tenant_owned_tables()` (the isolation tests check that every
/// table with a `tenant_id` column is listed).
#[macro_export]
macro_rules! tenant_owned {
    ($($m:ident),* $(,)?) => {
        $(
            impl $crate::uow::TenantOwned for $m::Entity {
                fn tenant_column() -> $m::Column {
                    $m::Column::TenantId
                }
            }
        )*

        /// The tables of these entities, each owned by a tenant.
        pub fn tenant_owned_tables() -> Vec<&'static str> {
            vec![$(::sea_orm::EntityName::table_name(&$m::Entity)),*]
        }
    };
}

/// All rows of a tenant: the query a `Scope` or `Tx` hands out, for functions that hold a
/// connection and a tenant rather than a unit of work.
pub fn scoped<E: TenantOwned>(tenant: TenantId) -> Select<E> {
    E::find().filter(E::tenant_column().eq(tenant.0))
}

/// All rows of a tenant, with the tenant's condition written as `tenant_id + 0 = ?` so that no
/// planner takes an index led by the tenant: for a query whose own index, led by another
/// column, must decide the plan (the map's cell index).
pub fn scoped_unindexed<E: TenantOwned>(tenant: TenantId) -> Select<E> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    E::find().filter(Expr::col(E::tenant_column()).add(0).eq(tenant.0))
}

/// One row of a tenant by primary key (a query; `.one(conn)` runs it).
pub fn scoped_by_id<E, K>(tenant: TenantId, id: K) -> Select<E>
where
    E: TenantOwned,
    K: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    E::find_by_id(id).filter(E::tenant_column().eq(tenant.0))
}

/// An update of a tenant's rows (add filters and values).
pub fn scoped_update<E: TenantOwned>(tenant: TenantId) -> UpdateMany<E> {
    E::update_many().filter(E::tenant_column().eq(tenant.0))
}

/// A delete of a tenant's rows (add filters).
pub fn scoped_delete<E: TenantOwned>(tenant: TenantId) -> DeleteMany<E> {
    E::delete_many().filter(E::tenant_column().eq(tenant.0))
}

async fn get_scoped<E, C, K>(conn: &C, tenant: TenantId, id: K) -> Result<E::Model>
where
    E: TenantOwned,
    C: ConnectionTrait,
    K: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
{
    E::find_by_id(id)
        .filter(E::tenant_column().eq(tenant.0))
        .one(conn)
        .await?
        .ok_or(Error::NotFound)
}

/// Reads of one tenant for one actor.
pub struct Scope<'a, C> {
    conn: &'a C,
    tenant: TenantId,
    actor: Actor<'a>,
}

impl<'a, C: ConnectionTrait> Scope<'a, C> {
    /// Reads for `actor` in `tenant`; a principal of another tenant gets `NotFound`.
    pub fn new(conn: &'a C, tenant: TenantId, actor: Actor<'a>) -> Result<Self> {
        actor.require_tenant(tenant)?;
        Ok(Scope {
            conn,
            tenant,
            actor,
        })
    }

    /// Reads of a signed-in user, in the user's tenant.
    pub fn user(conn: &'a C, p: &'a Principal) -> Self {
        Scope {
            conn,
            tenant: p.tenant_id,
            actor: Actor::User(p),
        }
    }

    /// Reads of the system (jobs, CLI, public pages of a tenant), with the reason.
    pub fn system(conn: &'a C, tenant: TenantId, reason: &'static str) -> Self {
        Scope {
            conn,
            tenant,
            actor: Actor::System { reason },
        }
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub fn actor(&self) -> Actor<'a> {
        self.actor
    }

    pub fn require(&self, permission: &str) -> Result<()> {
        self.actor.require(permission)
    }

    /// The connection, to run the queries this scope hands out.
    pub fn conn(&self) -> &'a C {
        self.conn
    }

    /// All rows of the tenant (add filters, order, limits).
    pub fn find<E: TenantOwned>(&self) -> Select<E> {
        scoped(self.tenant)
    }

    /// One row of the tenant by primary key, or `NotFound`.
    pub async fn get<E, K>(&self, id: K) -> Result<E::Model>
    where
        E: TenantOwned,
        K: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    {
        get_scoped::<E, C, K>(self.conn, self.tenant, id).await
    }
}

/// Work run after a successful commit (mails, cache invalidation, index updates).
type AfterCommit<'a> = Box<dyn FnOnce() + Send + 'a>;

/// A write of one tenant for one actor: one transaction with its audit events; work to do
/// after commit runs only when the commit succeeded. Dropped without `commit`, it rolls back.
pub struct Tx<'a> {
    txn: DatabaseTransaction,
    tenant: TenantId,
    actor: Actor<'a>,
    /// Behind a mutex so that `&Tx` can be held across an await in a handler (Send needs the
    /// transaction to be Sync; the closures need only be Send).
    after: std::sync::Mutex<Vec<AfterCommit<'a>>>,
}

impl<'a> Tx<'a> {
    /// Opens the transaction (`BEGIN IMMEDIATE` on SQLite, see `crate::begin`).
    pub async fn begin<C>(db: &C, tenant: TenantId, actor: Actor<'a>) -> Result<Tx<'a>>
    where
        C: TransactionTrait<Transaction = DatabaseTransaction>,
    {
        actor.require_tenant(tenant)?;
        Ok(Tx {
            txn: crate::begin(db).await?,
            tenant,
            actor,
            after: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// A write of a signed-in user (or token owner) in their tenant.
    pub async fn user<C>(db: &C, p: &'a Principal) -> Result<Tx<'a>>
    where
        C: TransactionTrait<Transaction = DatabaseTransaction>,
    {
        Tx::begin(db, p.tenant_id, Actor::User(p)).await
    }

    pub fn tenant(&self) -> TenantId {
        self.tenant
    }

    pub fn actor(&self) -> Actor<'a> {
        self.actor
    }

    pub fn require(&self, permission: &str) -> Result<()> {
        self.actor.require(permission)
    }

    /// The transaction, to run the queries this unit hands out.
    pub fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    pub fn find<E: TenantOwned>(&self) -> Select<E> {
        scoped(self.tenant)
    }

    pub async fn get<E, K>(&self, id: K) -> Result<E::Model>
    where
        E: TenantOwned,
        K: Into<<E::PrimaryKey as PrimaryKeyTrait>::ValueType>,
    {
        get_scoped::<E, DatabaseTransaction, K>(&self.txn, self.tenant, id).await
    }

    /// Inserts a row into this tenant (the tenant column is set here).
    pub async fn insert<A>(&self, mut row: A) -> Result<<A::Entity as EntityTrait>::Model>
    where
        A: ActiveModelTrait + ActiveModelBehavior + Send,
        A::Entity: TenantOwned,
        <A::Entity as EntityTrait>::Model: IntoActiveModel<A>,
    {
        row.set(A::Entity::tenant_column(), self.tenant.0.into());
        Ok(row.insert(&self.txn).await?)
    }

    /// Updates of this tenant's rows (add filters and values).
    pub fn update_many<E: TenantOwned>(&self) -> UpdateMany<E> {
        scoped_update(self.tenant)
    }

    /// Deletes of this tenant's rows (add filters).
    pub fn delete_many<E: TenantOwned>(&self) -> DeleteMany<E> {
        scoped_delete(self.tenant)
    }

    /// The audit event of this change, in this transaction.
    pub async fn audit(&self, event: NewEvent) -> Result<()> {
        audit::record(&self.txn, self.tenant, &self.actor.recorded(), event).await
    }

    /// Work to do once the change is committed (never when it is rolled back).
    pub fn after_commit(&mut self, f: impl FnOnce() + Send + 'a) {
        self.after
            .get_mut()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(Box::new(f));
    }

    pub async fn commit(self) -> Result<()> {
        self.txn.commit().await?;
        let after = self
            .after
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for f in after {
            f();
        }
        Ok(())
    }
}
