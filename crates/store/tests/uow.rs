//! The unit of work is the door to tenant-owned tables: what it hands out is always filtered
//! to its tenant, inserts land in its tenant, another tenant's principal finds nothing, the
//! audit event shares the transaction, and after-commit work runs only after a commit.

use chrono::Utc;
use rathaus_core::audit::NewEvent;
use rathaus_core::{Error, TenantId};
use rathaus_store::entity::{audit_event, department};
use rathaus_store::uow::{Actor, Scope, Tx};
use rathaus_testkit::{TestDb, principal, tenant_fixture};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

fn dept(name: &str) -> department::ActiveModel {
    department::ActiveModel {
        name: Set(name.into()),
        created_at: Set(Utc::now()),
        // A wrong tenant set by mistake is overwritten by the unit of work.
        tenant_id: Set(999_999),
        ..Default::default()
    }
}

async fn events(db: &rathaus_store::Db, t: TenantId, action: &str) -> u64 {
    audit_event::Entity::find()
        .filter(audit_event::Column::TenantId.eq(t.0))
        .filter(audit_event::Column::Action.eq(action))
        .count(&db.conn)
        .await
        .unwrap()
}

#[tokio::test]
async fn every_query_of_a_unit_of_work_stays_in_its_tenant() {
    let t = TestDb::new().await;
    let a = tenant_fixture(&t.db, "a", "a.test").await;
    let b = tenant_fixture(&t.db, "b", "b.test").await;
    let pa = principal(&t.db, a.tenant, a.admin).await;
    let pb = principal(&t.db, b.tenant, b.admin).await;

    let tx = Tx::user(&t.db.conn, &pa).await.unwrap();
    let mine = tx.insert(dept("Bauhof")).await.unwrap();
    tx.audit(NewEvent::new(
        "department.created",
        "department",
        Some(mine.id),
    ))
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(mine.tenant_id, a.tenant.0, "the tenant comes from the unit");
    let tx = Tx::begin(&t.db.conn, b.tenant, Actor::System { reason: "test" })
        .await
        .unwrap();
    let theirs = tx.insert(dept("Bauhof")).await.unwrap();
    tx.commit().await.unwrap();

    // Reads see their own tenant only; another tenant's id is not found.
    let sa = Scope::user(&t.db.conn, &pa);
    let seen = sa
        .find::<department::Entity>()
        .all(sa.conn())
        .await
        .unwrap();
    assert_eq!(seen.iter().map(|d| d.id).collect::<Vec<_>>(), vec![mine.id]);
    assert!(sa.get::<department::Entity, _>(mine.id).await.is_ok());
    assert!(matches!(
        sa.get::<department::Entity, _>(theirs.id).await,
        Err(Error::NotFound)
    ));
    // A principal of tenant b cannot open a unit of work for tenant a.
    assert!(matches!(
        Scope::new(&t.db.conn, a.tenant, Actor::User(&pb)),
        Err(Error::NotFound)
    ));
    assert!(matches!(
        Tx::begin(&t.db.conn, a.tenant, Actor::Token(&pb)).await,
        Err(Error::NotFound)
    ));

    // Bulk updates and deletes touch their tenant only.
    let tx = Tx::user(&t.db.conn, &pa).await.unwrap();
    let changed = tx
        .update_many::<department::Entity>()
        .col_expr(department::Column::Name, Expr::value("Betriebshof"))
        .exec(tx.conn())
        .await
        .unwrap();
    assert_eq!(changed.rows_affected, 1);
    let gone = tx
        .delete_many::<department::Entity>()
        .exec(tx.conn())
        .await
        .unwrap();
    assert_eq!(gone.rows_affected, 1);
    tx.commit().await.unwrap();
    let left = department::Entity::find().all(&t.db.conn).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!((left[0].id, left[0].name.as_str()), (theirs.id, "Bauhof"));
    assert_eq!(events(&t.db, a.tenant, "department.created").await, 1);
}

#[tokio::test]
async fn audit_and_after_commit_follow_the_transaction() {
    let t = TestDb::new().await;
    let a = tenant_fixture(&t.db, "a", "a.test").await;
    let pa = principal(&t.db, a.tenant, a.admin).await;
    let ran = Arc::new(AtomicBool::new(false));

    // Dropped without commit: neither the row, nor its audit event, nor the after-commit work.
    {
        let mut tx = Tx::user(&t.db.conn, &pa).await.unwrap();
        tx.insert(dept("Verworfen")).await.unwrap();
        tx.audit(NewEvent::new(
            "department.created",
            "department",
            None::<i64>,
        ))
        .await
        .unwrap();
        let r = ran.clone();
        tx.after_commit(move || r.store(true, Ordering::SeqCst));
    }
    assert!(!ran.load(Ordering::SeqCst));
    assert_eq!(
        department::Entity::find().count(&t.db.conn).await.unwrap(),
        0
    );
    assert_eq!(events(&t.db, a.tenant, "department.created").await, 0);
    assert!(
        rathaus_store::audit::verify(&t.db.conn)
            .await
            .unwrap()
            .is_ok()
    );

    let mut tx = Tx::user(&t.db.conn, &pa).await.unwrap();
    tx.insert(dept("Bauhof")).await.unwrap();
    tx.audit(NewEvent::new(
        "department.created",
        "department",
        None::<i64>,
    ))
    .await
    .unwrap();
    let r = ran.clone();
    tx.after_commit(move || r.store(true, Ordering::SeqCst));
    assert!(!ran.load(Ordering::SeqCst), "not before the commit");
    tx.commit().await.unwrap();
    assert!(ran.load(Ordering::SeqCst));
    assert_eq!(events(&t.db, a.tenant, "department.created").await, 1);
}

#[tokio::test]
async fn the_system_acts_with_a_reason_and_users_need_the_permission() {
    let t = TestDb::new().await;
    let a = tenant_fixture(&t.db, "a", "a.test").await;
    let clerk = principal(&t.db, a.tenant, a.clerk).await;
    let s = Scope::user(&t.db.conn, &clerk);
    assert!(matches!(s.require("admin.users"), Err(Error::Forbidden)));
    let sys = Scope::system(&t.db.conn, a.tenant, "nightly retention");
    assert!(sys.require("admin.users").is_ok());
    let tx = Tx::begin(&t.db.conn, a.tenant, Actor::System { reason: "cli" })
        .await
        .unwrap();
    tx.audit(NewEvent::new("test.system", "test", None::<i64>))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let e = audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq("test.system"))
        .one(&t.db.conn)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(e.actor_id, None);
    assert!(e.actor_label.contains("cli"), "{}", e.actor_label);
}

/// Every platform table with a `tenant_id` column is declared tenant-owned.
#[tokio::test]
async fn every_platform_table_with_a_tenant_column_is_registered() {
    let t = TestDb::new().await;
    let missing = rathaus_testkit::unregistered_tenant_tables(
        &t.db,
        &rathaus_store::entity::tenant_owned_tables(),
    )
    .await;
    assert!(
        missing.is_empty(),
        "not declared with tenant_owned!: {missing:?}"
    );
}
