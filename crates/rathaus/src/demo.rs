//! `rathaus serve --demo`: the tenant "Gemeinde Beispielstadt" with departments, roles, staff
//! and a confirmed citizen account. Passwords are random; the admin's is printed at start (and
//! renewed at each demo start); the demo citizen has the same password.

use rathaus_core::permissions as p;
use rathaus_core::{TenantId, UserId};
use rathaus_store::accounts::{self, RoleInput, UserInput};
use rathaus_store::tenants::{self, NewTenant};
use rathaus_store::{Actor, Db};
use rathaus_web::Module;
use std::sync::Arc;

pub const SLUG: &str = "beispielstadt";
pub const ADMIN_EMAIL: &str = "admin@beispielstadt.example";
/// A confirmed citizen account; it signs in with the admin's printed password.
pub const CITIZEN_EMAIL: &str = "buergerin@beispielstadt.example";
pub const CITIZEN_NAME: &str = "Bürgerin Demo";

const DEPARTMENTS: &[&str] = &[
    "Bürgerbüro",
    "Hauptamt",
    "Ordnungsamt",
    "Bauhof",
    "Sozialamt",
    "Personal",
    "Kämmerei",
];

/// (name, e-mail, department, role)
const STAFF: &[(&str, &str, &str, &str)] = &[
    ("Anna Admin", ADMIN_EMAIL, "Hauptamt", "admin"),
    (
        "Dana Digital",
        "digitalisierung@beispielstadt.example",
        "Hauptamt",
        "Digitalisierung",
    ),
    (
        "Paul Personal",
        "personal@beispielstadt.example",
        "Personal",
        "Personalverwaltung",
    ),
    (
        "Erika Mustermann",
        "buergerbuero@beispielstadt.example",
        "Bürgerbüro",
        "Sachbearbeitung",
    ),
    (
        "Olaf Ordnung",
        "ordnungsamt@beispielstadt.example",
        "Ordnungsamt",
        "Sachbearbeitung",
    ),
    (
        "Bernd Bauhof",
        "bauhof@beispielstadt.example",
        "Bauhof",
        "Sachbearbeitung",
    ),
    (
        "Sophie Sozial",
        "sozialamt@beispielstadt.example",
        "Sozialamt",
        "Sachbearbeitung",
    ),
    (
        "Karl Kasse",
        "kaemmerei@beispielstadt.example",
        "Kämmerei",
        "Sachbearbeitung",
    ),
];

fn roles() -> Vec<(&'static str, &'static str, Vec<String>)> {
    vec![
        (
            "Digitalisierung",
            "Digitalisierungsbeauftragte: Protokoll und Hintergrundaufgaben",
            vec![
                p::ADMIN_AUDIT.into(),
                p::ADMIN_JOBS.into(),
                p::ADMIN_SETTINGS.into(),
            ],
        ),
        (
            "Personalverwaltung",
            "Benutzer und Fachbereiche verwalten",
            vec![p::ADMIN_USERS.into(), p::ADMIN_DEPARTMENTS.into()],
        ),
        (
            "Sachbearbeitung",
            "Sachbearbeitung in den Fachbereichen",
            vec![],
        ),
    ]
}

const IMPRESSUM: &str = "Gemeinde Beispielstadt\nMarktplatz 1\n12345 Beispielstadt\n\nVertreten durch den Bürgermeister.\nTelefon: 01234 5678-0\nE-Mail: rathaus@beispielstadt.example\n\nDies ist eine Demo-Installation von Rathaus.";

/// A password for demo accounts: long, random, easy to type.
pub fn random_password() -> String {
    rathaus_store::random_token(15)
}

/// Creates the demo tenant if it is missing; returns the admin's (new) password.
pub async fn ensure(db: &Db, modules: &[Arc<dyn Module>]) -> anyhow::Result<String> {
    let password = random_password();
    if let Some(t) = tenants::by_slug(&db.conn, SLUG).await? {
        let tid = TenantId(t.id);
        let admin = accounts::find_by_email(&db.conn, tid, ADMIN_EMAIL)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo admin missing"))?;
        accounts::reset_password(
            &db.conn,
            tid,
            UserId(admin.id),
            &password,
            &Actor::system("demo"),
        )
        .await?;
        ensure_citizen(db, tid, &password).await?;
        return Ok(password);
    }
    let actor = Actor::system("demo");
    let hosts = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let t = tenants::create(
        &db.conn,
        &actor,
        NewTenant {
            slug: SLUG,
            name: "Gemeinde Beispielstadt",
            hosts: &hosts,
        },
    )
    .await?;
    let tid = TenantId(t.id);
    let mut dept_ids = std::collections::HashMap::new();
    for d in DEPARTMENTS {
        let dep = accounts::create_department(
            &db.conn,
            tid,
            rathaus_store::uow::Actor::system("demo"),
            d,
        )
        .await?;
        dept_ids.insert(*d, dep.id);
    }
    let mut role_ids = std::collections::HashMap::new();
    if let Some(admin) = accounts::role_by_name(&db.conn, tid, p::ADMIN_ROLE).await? {
        role_ids.insert(p::ADMIN_ROLE, admin.id);
    }
    for (name, description, permissions) in roles() {
        let r = accounts::create_role(
            &db.conn,
            tid,
            rathaus_store::uow::Actor::system("demo"),
            RoleInput {
                name,
                description,
                permissions: &permissions,
            },
        )
        .await?;
        role_ids.insert(name, r.id);
    }
    for (name, email, dept, role) in STAFF {
        let pw = if *email == ADMIN_EMAIL {
            password.clone()
        } else {
            random_password()
        };
        let role = role_ids.get(role).copied().into_iter().collect::<Vec<_>>();
        accounts::create_user(
            &db.conn,
            tid,
            rathaus_store::uow::Actor::system("demo"),
            UserInput {
                email,
                name,
                password: &pw,
                department_id: dept_ids.get(dept).copied(),
                role_ids: &role,
                active: true,
            },
        )
        .await?;
    }
    let who = accounts::principal(
        &db.conn,
        tid,
        UserId(
            accounts::find_by_email(&db.conn, tid, ADMIN_EMAIL)
                .await?
                .map(|u| u.id)
                .unwrap_or_default(),
        ),
    )
    .await?
    .ok_or_else(|| anyhow::anyhow!("demo admin missing"))?;
    tenants::update_page(&db.conn, &who, "impressum", "Impressum", IMPRESSUM).await?;
    ensure_citizen(db, tid, &password).await?;
    // Each module adds its demo data, acting as the demo admin.
    for m in modules {
        m.demo(db, &who)
            .await
            .map_err(|e| e.context(format!("demo data of module {}", m.name())))?;
    }
    Ok(password)
}

/// The demo citizen, with the admin's (new) password; created if missing (demo databases from
/// before citizen accounts existed).
async fn ensure_citizen(db: &Db, tid: TenantId, password: &str) -> anyhow::Result<()> {
    match accounts::find_by_email(&db.conn, tid, CITIZEN_EMAIL).await? {
        Some(u) => {
            accounts::reset_password(
                &db.conn,
                tid,
                UserId(u.id),
                password,
                &Actor::system("demo"),
            )
            .await?
        }
        None => {
            accounts::create_citizen(&db.conn, tid, CITIZEN_NAME, CITIZEN_EMAIL, password, true)
                .await?;
        }
    }
    Ok(())
}
