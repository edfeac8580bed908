//! The hash-chained audit log on a real database: events written by real service calls, and
//! `verify` catching altered, removed and truncated rows.

use rathaus_core::TenantId;
use rathaus_core::audit::GENESIS_HASH;
use rathaus_store::audit::{self, Broken};
use rathaus_store::entity::audit_event;
use rathaus_store::{Db, accounts};
use rathaus_testkit::{Fixture, PASSWORD, TestDb, tenant_fixture};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};

async fn events(db: &Db, tenant: TenantId) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::TenantId.eq(tenant.0))
        .order_by_asc(audit_event::Column::Seq)
        .all(&db.conn)
        .await
        .unwrap()
}

async fn verify(db: &Db) -> Result<u64, Broken> {
    audit::verify(&db.conn).await.expect("verify ran")
}

/// A tenant with an admin and a clerk, plus a role and a user created by that admin.
async fn with_events(db: &Db, slug: &str) -> Fixture {
    let f = tenant_fixture(db, slug, &format!("{slug}.test")).await;
    let admin = accounts::principal(&db.conn, f.tenant, f.admin)
        .await
        .unwrap()
        .unwrap();
    let role = accounts::create_role(
        &db.conn,
        f.tenant,
        rathaus_store::uow::Actor::User(&admin),
        accounts::RoleInput {
            name: "Protokoll",
            description: "liest das Protokoll",
            permissions: &["admin.audit".to_string()],
        },
    )
    .await
    .unwrap();
    accounts::create_user(
        &db.conn,
        f.tenant,
        rathaus_store::uow::Actor::User(&admin),
        accounts::UserInput {
            email: &format!("pruefer@{slug}.example"),
            name: "Petra Prüfer",
            password: PASSWORD,
            department_id: None,
            role_ids: &[role.id],
            active: true,
        },
    )
    .await
    .unwrap();
    f
}

fn event_with_seq(seq: i64) -> sea_orm::sea_query::SimpleExpr {
    audit_event::Column::Seq.eq(seq)
}

#[tokio::test]
async fn service_calls_write_an_intact_chain() {
    let t = TestDb::new().await;
    let f = with_events(&t.db, "a").await;
    let evs = events(&t.db, f.tenant).await;
    let actions: Vec<&str> = evs.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "tenant.created",
            "role.created",
            "user.created",
            "user.created",
            "role.created",
            "user.created"
        ]
    );
    // The last two were done by the admin, and say so.
    let admin_label = &f.admin_email;
    assert_eq!(&evs[4].actor_label, admin_label);
    assert_eq!(evs[4].actor_id, Some(f.admin.0));
    assert!(evs[5].details.contains("pruefer@a.example"));
    assert!(
        evs[0].actor_id.is_none(),
        "the tenant was created by the system"
    );

    for (i, e) in evs.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "no gaps");
        let prev = if i == 0 {
            GENESIS_HASH
        } else {
            &evs[i - 1].hash
        };
        assert_eq!(
            e.prev_hash, prev,
            "event {} links to its predecessor",
            e.seq
        );
    }
    let total = audit_event::Entity::find().count(&t.db.conn).await.unwrap();
    assert_eq!(verify(&t.db).await, Ok(total));
    assert_eq!(total, 6);
}

#[tokio::test]
async fn altering_a_row_is_found_and_names_the_event() {
    let t = TestDb::new().await;
    let f = with_events(&t.db, "a").await;
    let before = events(&t.db, f.tenant).await;
    let victim = &before[2];
    audit_event::Entity::update_many()
        .col_expr(
            audit_event::Column::Details,
            Expr::value(r#"{"email":"jemand@anders.example"}"#),
        )
        .filter(audit_event::Column::TenantId.eq(f.tenant.0))
        .filter(event_with_seq(victim.seq))
        .exec(&t.db.conn)
        .await
        .unwrap();
    let b = verify(&t.db)
        .await
        .expect_err("altered details must break the chain");
    assert_eq!(b.tenant_id, f.tenant.0);
    assert_eq!(b.seq, victim.seq);
    assert_eq!(b.event_id, Some(victim.id));
    assert!(b.reason.contains("altered"), "{b}");
    assert!(b.to_string().contains(&format!("#{}", victim.seq)), "{b}");

    // A careful forger recomputes the row's own hash: then the next event's link breaks.
    let forged = rathaus_core::audit::chain_hash(&rathaus_core::audit::ChainFields {
        tenant_id: victim.tenant_id,
        seq: victim.seq,
        at: &victim.at,
        actor_id: victim.actor_id,
        actor_label: &victim.actor_label,
        action: &victim.action,
        object_type: &victim.object_type,
        object_id: victim.object_id.as_deref(),
        details: r#"{"email":"jemand@anders.example"}"#,
        prev_hash: &victim.prev_hash,
    });
    audit_event::Entity::update_many()
        .col_expr(audit_event::Column::Hash, Expr::value(forged))
        .filter(audit_event::Column::Id.eq(victim.id))
        .exec(&t.db.conn)
        .await
        .unwrap();
    let b = verify(&t.db)
        .await
        .expect_err("forged hash must break the next link");
    assert_eq!(b.seq, victim.seq + 1);
    assert_eq!(b.event_id, Some(before[3].id));
    assert!(b.reason.contains("previous"), "{b}");
}

#[tokio::test]
async fn removing_a_middle_row_is_found() {
    let t = TestDb::new().await;
    let f = with_events(&t.db, "a").await;
    assert!(verify(&t.db).await.is_ok());
    let res = audit_event::Entity::delete_many()
        .filter(audit_event::Column::TenantId.eq(f.tenant.0))
        .filter(event_with_seq(3))
        .exec(&t.db.conn)
        .await
        .unwrap();
    assert_eq!(res.rows_affected, 1);
    let b = verify(&t.db)
        .await
        .expect_err("a removed row must break the chain");
    assert_eq!(b.tenant_id, f.tenant.0);
    assert_eq!(b.seq, 3, "names the missing event: {b}");
    assert!(b.reason.contains("removed"), "{b}");
    assert!(b.to_string().contains("#3"), "{b}");
}

#[tokio::test]
async fn removing_the_last_row_is_found_through_the_chain_head() {
    let t = TestDb::new().await;
    let f = with_events(&t.db, "a").await;
    let last = events(&t.db, f.tenant).await.pop().unwrap();
    audit_event::Entity::delete_many()
        .filter(audit_event::Column::Id.eq(last.id))
        .exec(&t.db.conn)
        .await
        .unwrap();
    // What is left is a perfectly linked chain; only the head knows it was longer.
    let b = verify(&t.db).await.expect_err("truncation must be found");
    assert_eq!(b.tenant_id, f.tenant.0);
    assert_eq!(b.seq, last.seq);
    assert!(
        b.reason.contains(&format!("chain head says #{}", last.seq)),
        "{b}"
    );
}

#[tokio::test]
async fn the_chains_of_two_tenants_are_independent() {
    let t = TestDb::new().await;
    let a = tenant_fixture(&t.db, "a", "a.test").await;
    let b = tenant_fixture(&t.db, "b", "b.test").await;
    // Interleaved writes of both tenants.
    for i in 0..3 {
        accounts::create_department(
            &t.db.conn,
            a.tenant,
            rathaus_store::uow::Actor::system("test"),
            &format!("Amt A{i}"),
        )
        .await
        .unwrap();
        accounts::create_department(
            &t.db.conn,
            b.tenant,
            rathaus_store::uow::Actor::system("test"),
            &format!("Amt B{i}"),
        )
        .await
        .unwrap();
    }
    let ea = events(&t.db, a.tenant).await;
    let eb = events(&t.db, b.tenant).await;
    assert_eq!(ea.len(), 7);
    assert_eq!(eb.len(), 7);
    for evs in [&ea, &eb] {
        for (i, e) in evs.iter().enumerate() {
            assert_eq!(e.seq, i as i64 + 1, "each tenant counts from 1");
            let prev = if i == 0 {
                GENESIS_HASH
            } else {
                &evs[i - 1].hash
            };
            assert_eq!(e.prev_hash, prev, "links stay within the tenant");
        }
    }
    assert_eq!(verify(&t.db).await, Ok(14));

    // Breaking tenant B's chain is reported for B; A's events are untouched and still verify.
    audit_event::Entity::delete_many()
        .filter(audit_event::Column::TenantId.eq(b.tenant.0))
        .filter(event_with_seq(2))
        .exec(&t.db.conn)
        .await
        .unwrap();
    let broken = verify(&t.db).await.expect_err("B is broken");
    assert_eq!(broken.tenant_id, b.tenant.0);
    assert_eq!(broken.seq, 2);
    assert_eq!(events(&t.db, a.tenant).await, ea);

    // New events of A continue A's chain, unaffected by B.
    accounts::create_department(
        &t.db.conn,
        a.tenant,
        rathaus_store::uow::Actor::system("test"),
        "Amt A9",
    )
    .await
    .unwrap();
    let ea2 = events(&t.db, a.tenant).await;
    assert_eq!(ea2.last().unwrap().seq, 8);
    assert_eq!(ea2.last().unwrap().prev_hash, ea.last().unwrap().hash);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_keep_the_chain_intact() {
    const N: usize = 20;
    let t = TestDb::new().await;
    let f = tenant_fixture(&t.db, "a", "a.test").await;
    let before = events(&t.db, f.tenant).await.len();
    let admin = accounts::principal(&t.db.conn, f.tenant, f.admin)
        .await
        .unwrap()
        .unwrap();
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(N));
    let mut tasks = vec![];
    for i in 0..N {
        let db = t.db.clone();
        let admin = admin.clone();
        let start = start.clone();
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            accounts::create_department(
                &db.conn,
                admin.tenant_id,
                rathaus_store::uow::Actor::User(&admin),
                &format!("Fachbereich {i}"),
            )
            .await
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        let r = task.await.unwrap();
        assert!(r.is_ok(), "department {i}: {r:?}");
    }
    let evs = events(&t.db, f.tenant).await;
    assert_eq!(evs.len(), before + N);
    assert_eq!(
        evs.iter()
            .filter(|e| e.action == "department.created")
            .count(),
        N
    );
    for (i, e) in evs.iter().enumerate() {
        assert_eq!(e.seq, i as i64 + 1, "no gaps and no duplicates");
    }
    assert_eq!(verify(&t.db).await, Ok((before + N) as u64));
}

/// The blind spot of the chain alone (security review, finding 9): deleting all of a
/// tenant's events together with its chain head. The head is anchored outside the chain.
#[tokio::test]
async fn removing_a_whole_chain_with_its_head_is_found_through_the_anchors() {
    use rathaus_store::entity::{audit_anchor, audit_head};
    let t = TestDb::new().await;
    let f = with_events(&t.db, "a").await;
    let other = with_events(&t.db, "b").await;
    let anchors = audit::anchor(&t.db.conn).await.unwrap();
    assert_eq!(anchors.len(), 2);
    let mine = anchors
        .iter()
        .find(|a| a.tenant_id == f.tenant.0)
        .unwrap()
        .clone();
    assert_eq!(mine.seq, events(&t.db, f.tenant).await.len() as i64);
    // Anchoring again without new events adds nothing.
    audit::anchor(&t.db.conn).await.unwrap();
    assert_eq!(
        audit_anchor::Entity::find()
            .count(&t.db.conn)
            .await
            .unwrap(),
        2
    );
    let printed: String = anchors.iter().map(|a| a.line() + "\n").collect();
    assert_eq!(
        audit::Anchor::parse_lines(&format!("# comment\n\n{printed}")).unwrap(),
        anchors
    );
    assert!(audit::Anchor::parse_lines("1 2 nothex").is_err());

    audit_event::Entity::delete_many()
        .filter(audit_event::Column::TenantId.eq(f.tenant.0))
        .exec(&t.db.conn)
        .await
        .unwrap();
    audit_head::Entity::delete_by_id(f.tenant.0)
        .exec(&t.db.conn)
        .await
        .unwrap();
    let b = verify(&t.db).await.expect_err("the removed chain is found");
    assert_eq!(b.tenant_id, f.tenant.0);
    assert!(b.reason.contains("chain head is missing"), "{b}");

    // With the anchors deleted too and the head reset to an empty chain, the database alone
    // is fooled; the copy kept outside is not.
    audit_anchor::Entity::delete_many()
        .exec(&t.db.conn)
        .await
        .unwrap();
    audit::init_chain(&t.db.conn, f.tenant).await.unwrap();
    assert!(verify(&t.db).await.is_ok(), "the database alone is fooled");
    let b = audit::verify_against(&t.db.conn, &anchors)
        .await
        .unwrap()
        .expect_err("the outside copy is not");
    assert_eq!(b.tenant_id, f.tenant.0);
    assert_eq!(b.seq, mine.seq);
    assert!(b.reason.contains("were removed"), "{b}");
    // The other tenant's chain is untouched and still matches its anchor.
    let theirs: Vec<_> = anchors
        .into_iter()
        .filter(|a| a.tenant_id == other.tenant.0)
        .collect();
    assert!(
        audit::verify_against(&t.db.conn, &theirs)
            .await
            .unwrap()
            .is_ok()
    );
}
