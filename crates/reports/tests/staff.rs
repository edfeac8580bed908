//! The staff side through the real app (issue 3, items 8–11): the inbox with its department
//! default, filters and keyset paging; the workflow with a public reply mailed to followers
//! (real SMTP server), duplicates (followers move over), moderation (the original only in the
//! audit log), hidden photos, bulk actions (all or nothing), the overdue view, the exports and
//! the statistics.

use crate::common;

use chrono::{Duration, Utc};
use common::*;
use rathaus_core::{Principal, TenantId, UserId};
use rathaus_reports::http::pages::staff::{self, Filter};
use rathaus_reports::service::{self, ReportId, Source};
use rathaus_reports::store::entity::{follower, report};
use rathaus_store::accounts::{self, RoleInput, UserInput};
use rathaus_store::audit::{self, AuditFilter};
use rathaus_store::uow::{Actor, Scope};
use rathaus_testkit::smtp::Smtpd;
use rathaus_testkit::{PASSWORD, TestApp, csrf_of, post_form};
use rathaus_web::WebConfig;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};

const HOST: &str = "rathaus.a.test";

struct App {
    app: TestApp,
    s: Setup,
    base: String,
}

async fn app() -> App {
    let mut s = setup().await;
    let app = spawn_app(&mut s, WebConfig::default()).await;
    App {
        base: app.url(HOST, ""),
        app,
        s,
    }
}

impl App {
    async fn as_user(&self, email: &str) -> reqwest::Client {
        signed_in(&self.app, HOST, &self.base, email).await
    }
    async fn get(&self, c: &reqwest::Client, path: &str) -> (u16, String) {
        let r = c.get(format!("{}{path}", self.base)).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
    async fn post(
        &self,
        c: &reqwest::Client,
        form: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> (u16, String, String) {
        let r = post_form(c, &self.base, form, action, fields).await;
        let status = r.status().as_u16();
        let loc = r
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, loc, r.text().await.unwrap())
    }
    async fn report(&self, id: i64) -> service::Report {
        service::find(&self.s.db.conn, self.s.tenant(), ReportId(id))
            .await
            .unwrap()
    }
}

/// A staff user of `department` holding `perms`.
async fn staff_in(
    s: &Setup,
    email: &str,
    department: &str,
    perms: &[&str],
) -> (Principal, rathaus_store::entity::user::Model) {
    let tenant = s.tenant();
    let d = accounts::list_departments(&s.db.conn, tenant)
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.name == department)
        .expect("department");
    let permissions: Vec<String> = perms.iter().map(|p| p.to_string()).collect();
    let role = accounts::create_role(
        &s.db.conn,
        tenant,
        rathaus_store::uow::Actor::system("test"),
        RoleInput {
            name: email,
            description: "",
            permissions: &permissions,
        },
    )
    .await
    .unwrap();
    let u = accounts::create_user(
        &s.db.conn,
        tenant,
        rathaus_store::uow::Actor::system("test"),
        UserInput {
            email,
            name: "Olga Ordnung",
            password: PASSWORD,
            department_id: Some(d.id),
            role_ids: &[role.id],
            active: true,
        },
    )
    .await
    .unwrap();
    (principal(&s.db, tenant, UserId(u.id)).await, u)
}

fn all() -> Filter {
    Filter {
        bereich: "alle".into(),
        ..Default::default()
    }
}

async fn refs(s: &Setup, p: &Principal, f: &Filter) -> Vec<String> {
    staff::all_of(&Scope::user(&s.db.conn, p), f, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.reference)
        .collect()
}

// ------------------------------------------------------------------ inbox

#[tokio::test]
async fn inbox_defaults_to_the_own_department_and_what_is_assigned() {
    let a = app().await;
    let s = &a.s;
    let (olga, olga_user) = staff_in(s, "olga@a.example", "Ordnungsamt", &[service::HANDLE]).await;
    let muell = submit(s, "muell", INSIDE).await.report;
    let loch = submit(s, "strassenschaden", INSIDE).await.report;
    let licht = submit(s, "beleuchtung", INSIDE).await.report;
    service::change(
        &s.db.conn,
        s.st(),
        rathaus_store::uow::Actor::User(&s.admin),
        s.admin.tenant_id,
        ReportId(licht.id),
        service::Change {
            assignee_id: Some(Some(olga_user.id)),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    let mine = refs(s, &olga, &Filter::default()).await;
    assert!(mine.contains(&muell.reference), "{mine:?}");
    assert!(mine.contains(&licht.reference), "assigned to her");
    assert!(!mine.contains(&loch.reference), "Bauhof's");
    let everything = refs(s, &olga, &all()).await;
    assert!(everything.contains(&loch.reference));
    let only_me = refs(
        s,
        &olga,
        &Filter {
            bereich: "alle".into(),
            person: "ich".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(only_me, vec![licht.reference.clone()]);

    // The page says so, and shows the same.
    let c = a.as_user("olga@a.example").await;
    let (status, html) = a.get(&c, "/maengel/verwaltung").await;
    assert_eq!(status, 200);
    assert!(html.contains("Ordnungsamt"));
    assert!(html.contains(&muell.reference) && html.contains(&licht.reference));
    assert!(!html.contains(&loch.reference));
    let (_, html) = a.get(&c, "/maengel/verwaltung?bereich=alle").await;
    assert!(html.contains(&loch.reference));
    // The nav entry leads here.
    assert!(html.contains("href=\"/maengel/verwaltung\""));
}

#[tokio::test]
async fn inbox_filters_and_keyset_paging() {
    let a = app().await;
    let s = &a.s;
    let mut made = Vec::new();
    for _ in 0..30 {
        made.push(submit(s, "gully", INSIDE).await.report);
    }
    let open_total = refs(s, &s.admin, &all()).await.len();
    assert_eq!(open_total, 30 + 4, "30 new and four open demo reports");

    // Page by page through the pages: 25, then the rest, no overlap.
    let (first, next) = staff::page_of(&Scope::user(&s.db.conn, &s.admin), &all())
        .await
        .unwrap();
    assert_eq!(first.len(), 25);
    let cursor = next.expect("a second page");
    let (second, next) = staff::page_of(
        &Scope::user(&s.db.conn, &s.admin),
        &Filter {
            nach: cursor.clone(),
            ..all()
        },
    )
    .await
    .unwrap();
    assert_eq!(second.len(), open_total - 25);
    assert!(next.is_none());
    assert!(second.iter().all(|r| !first.iter().any(|f| f.id == r.id)));
    // Newest first.
    assert_eq!(first[0].id, made.last().unwrap().id);

    // The same through the page: a link to the next page that works.
    let c = a.as_user("admin@a.example").await;
    let (_, html) = a.get(&c, "/maengel/verwaltung?bereich=alle").await;
    assert_eq!(html.matches("name=\"ids\"").count(), 25);
    let link = html
        .split("href=\"")
        .find(|x| x.contains("nach="))
        .and_then(|x| x.split('"').next())
        .expect("next link")
        .replace("&amp;", "&");
    let (status, html2) = a.get(&c, &format!("/maengel/verwaltung{link}")).await;
    assert_eq!(status, 200);
    assert_eq!(html2.matches("name=\"ids\"").count(), open_total - 25);

    // Filters: status, category, reference, closed ones.
    let cat = s.category("gully").id.to_string();
    let gully = refs(
        s,
        &s.admin,
        &Filter {
            kategorie: cat.clone(),
            ..all()
        },
    )
    .await;
    assert_eq!(gully.len(), 31, "30 and the demo's gully report");
    let in_progress = refs(
        s,
        &s.admin,
        &Filter {
            status: "in_progress".into(),
            ..all()
        },
    )
    .await;
    assert_eq!(in_progress.len(), 1);
    let closed = refs(
        s,
        &s.admin,
        &Filter {
            status: "geschlossen".into(),
            ..all()
        },
    )
    .await;
    assert_eq!(closed.len(), 1, "the demo's done report");
    let one = refs(
        s,
        &s.admin,
        &Filter {
            az: made[7].reference.to_lowercase(),
            ..all()
        },
    )
    .await;
    assert_eq!(one, vec![made[7].reference.clone()]);
    // Unreadable filter values are ignored, not errors.
    let (status, _) = a
        .get(
            &c,
            "/maengel/verwaltung?bereich=x&kategorie=y&status=z&nach=kaputt&moderation=q",
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn inbox_pages_by_due_date_with_ties() {
    let a = app().await;
    let s = &a.s;
    let base = Utc::now() + Duration::days(10);
    let mut made = Vec::new();
    for i in 0..30i64 {
        let r = submit(s, "gully", INSIDE).await.report;
        // Descending due dates, and ten reports sharing one (ties are ordered by id).
        let due = if i < 10 {
            base
        } else {
            base - Duration::hours(i)
        };
        let mut am = r.clone().into_active_model();
        am.due_at = Set(due);
        made.push(am.update(&s.db.conn).await.unwrap());
    }
    let f = Filter {
        sortierung: "faellig".into(),
        kategorie: s.category("gully").id.to_string(),
        ..all()
    };
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..3 {
        let (rows, next) = staff::page_of(
            &Scope::user(&s.db.conn, &s.admin),
            &Filter {
                nach: cursor.clone(),
                ..f.clone()
            },
        )
        .await
        .unwrap();
        seen.extend(rows);
        match next {
            Some(n) => cursor = n,
            None => break,
        }
    }
    assert_eq!(seen.len(), 31, "30 and the demo's gully report, each once");
    let mut ids: Vec<i64> = seen.iter().map(|r| r.id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 31);
    assert!(
        seen.windows(2)
            .all(|w| (w[0].due_at, w[0].id) < (w[1].due_at, w[1].id)),
        "earliest due first, ties by id"
    );
    // The overdue view and the page offer the order.
    let c = a.as_user("bauhof@a.example").await;
    let (status, html) = a
        .get(&c, "/maengel/verwaltung?bereich=alle&sortierung=faellig")
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("früheste Fälligkeit zuerst"));
    assert!(html.contains("sortierung=faellig&amp;nach="));
    let _ = made;
}

#[tokio::test]
async fn overdue_view_lists_open_reports_past_their_due_date() {
    let a = app().await;
    let s = &a.s;
    let late = submit(s, "gully", INSIDE).await.report;
    let fresh = submit(s, "gully", INSIDE).await.report;
    assert!(
        fresh.due_at > Utc::now() + Duration::hours(20),
        "3 working days"
    );
    let mut am = late.clone().into_active_model();
    am.due_at = Set(Utc::now() - Duration::hours(1));
    am.update(&s.db.conn).await.unwrap();

    let c = a.as_user("bauhof@a.example").await;
    let (status, html) = a.get(&c, "/maengel/verwaltung/ueberfaellig").await;
    assert_eq!(status, 200);
    assert!(html.contains(&late.reference));
    assert!(!html.contains(&fresh.reference));
    assert!(html.contains("Antwort überfällig"), "in text, not colour");
    // The same in the inbox with the filter.
    let (_, html) = a
        .get(&c, "/maengel/verwaltung?bereich=alle&ueberfaellig=1")
        .await;
    assert!(html.contains(&late.reference) && !html.contains(&fresh.reference));
    // Closed, it is no longer overdue.
    service::change(
        &s.db.conn,
        s.st(),
        rathaus_store::uow::Actor::User(&s.handler),
        s.handler.tenant_id,
        ReportId(late.id),
        service::Change {
            status: Some(service::DONE.into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let (_, html) = a.get(&c, "/maengel/verwaltung/ueberfaellig").await;
    assert!(!html.contains(&late.reference));
}

// ------------------------------------------------------------------ workflow

/// A web report with a confirmed follower (the reporter).
async fn followed(s: &Setup, email: &str) -> service::Report {
    let mut inp = report(s, "strassenschaden", INSIDE);
    inp.email = email.into();
    let r = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::Web,
        service::CITIZEN,
        inp,
    )
    .await
    .unwrap()
    .report;
    let f = follower::Entity::find()
        .filter(follower::Column::ReportId.eq(r.id))
        .one(&s.db.conn)
        .await
        .unwrap()
        .expect("follower");
    service::confirm_follower(&s.db.conn, s.tenant(), &f.token)
        .await
        .unwrap();
    r
}

#[tokio::test]
async fn public_reply_closes_the_report_and_mails_the_follower() {
    let a = app().await;
    let s = &a.s;
    let smtpd = Smtpd::start();
    let r = followed(s, "erika@example.org").await;
    // The confirmation mail is out of the way first.
    smtpd.run_mail_jobs(&s.db).await;
    let before = smtpd.messages().len();

    let c = a.as_user("bauhof@a.example").await;
    let path = format!("/maengel/verwaltung/{}", r.id);
    let (status, html) = a.get(&c, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("erika@example.org"), "staff see the contact");
    assert!(html.contains("Schlagloch vor der Einfahrt"));
    let (status, loc, _) = a
        .post(
            &c,
            &path,
            &path,
            &[
                ("status", "done"),
                ("public_reply", "Das Schlagloch wurde verfüllt."),
                ("internal_note", "Kolonne 3, 20 min"),
                ("priority", "high"),
                ("due_date", ""),
                ("department_id", ""),
                ("assignee_id", ""),
                ("duplicate_of", ""),
            ],
        )
        .await;
    assert_eq!(status, 303, "{loc}");
    assert!(loc.starts_with(&path));
    let after = a.report(r.id).await;
    assert_eq!(after.status, "done");
    assert!(!after.is_open);
    assert!(after.first_answer_at.is_some() && after.closed_at.is_some());
    assert_eq!(after.priority, "high");
    assert_eq!(after.department_id, None, "the form cleared it");
    assert_eq!(after.status_notes, "Das Schlagloch wurde verfüllt.");
    let (_, html) = a.get(&c, &loc).await;
    assert!(
        html.contains("Kolonne 3, 20 min"),
        "the internal note in the history"
    );
    assert!(html.contains("Die Meldung wurde gespeichert."));
    let public = service::updates(&s.db.conn, s.tenant(), ReportId(r.id), false)
        .await
        .unwrap();
    assert!(public.iter().all(|u| !u.text.contains("Kolonne")));

    assert!(smtpd.run_mail_jobs(&s.db).await >= 1);
    let msgs = smtpd.messages();
    assert_eq!(msgs.len(), before + 1);
    let m = msgs.last().unwrap();
    assert_eq!(m.to, "erika@example.org");
    assert!(m.subject.contains(&r.reference));
    assert!(m.body.contains("Das Schlagloch wurde verfüllt."));
    assert!(m.body.contains("Erledigt"));
    assert!(!m.body.contains("Kolonne"), "internal notes stay inside");
}

#[tokio::test]
async fn workflow_errors_are_shown_beside_the_fields_and_nothing_changes() {
    let a = app().await;
    let s = &a.s;
    let r = submit(s, "gully", INSIDE).await.report;
    let c = a.as_user("bauhof@a.example").await;
    let path = format!("/maengel/verwaltung/{}", r.id);
    let long = "x".repeat(4001);
    let (status, _, html) = a
        .post(
            &c,
            &path,
            &path,
            &[
                ("status", "duplicate"),
                ("public_reply", &long),
                ("priority", "dringend"),
                ("due_date", "31.02.2026"),
                ("duplicate_of", ""),
                ("department_id", ""),
                ("assignee_id", ""),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"f-due_date-error\""), "{html}");
    assert!(html.contains("Bitte ein Datum"));
    assert!(html.contains("31.02.2026"), "input kept");
    let after = a.report(r.id).await;
    assert_eq!(after.status, "new");
    assert_eq!(after.updated_at, r.updated_at);

    // Now the date is fine: the service's messages.
    let (status, _, html) = a
        .post(
            &c,
            &path,
            &path,
            &[
                ("status", "duplicate"),
                ("public_reply", &long),
                ("priority", "dringend"),
                ("due_date", ""),
                ("duplicate_of", ""),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"f-duplicate_of-error\""));
    assert!(html.contains("Aktenzeichen der ursprünglichen Meldung"));
    assert!(html.contains("id=\"f-priority-error\""));
    assert!(html.contains("id=\"f-public_reply-error\""));
    assert!(html.contains("Bitte höchstens 4000 Zeichen"));
    assert_eq!(a.report(r.id).await.status, "new");
    // A reference to itself is no original.
    let (status, _, html) = a
        .post(
            &c,
            &path,
            &path,
            &[("status", "duplicate"), ("duplicate_of", &r.reference)],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("Eine andere Meldung mit diesem Aktenzeichen gibt es nicht."));
    assert!(html.contains(&format!("value=\"{}\"", r.reference)));
}

#[tokio::test]
async fn duplicate_links_the_original_and_moves_the_followers() {
    let a = app().await;
    let s = &a.s;
    let original = submit(s, "strassenschaden", INSIDE).await.report;
    let dup = followed(s, "paul@example.org").await;
    let c = a.as_user("bauhof@a.example").await;
    let path = format!("/maengel/verwaltung/{}", dup.id);
    let orig_ref = original.reference.to_lowercase();
    let (status, loc, _) = a
        .post(
            &c,
            &path,
            &path,
            &[
                ("status", "duplicate"),
                ("duplicate_of", &orig_ref),
                ("public_reply", "Wird zusammen bearbeitet."),
                ("priority", "normal"),
            ],
        )
        .await;
    assert_eq!(status, 303, "{loc}");
    let after = a.report(dup.id).await;
    assert_eq!(after.status, "duplicate");
    assert_eq!(after.duplicate_of, Some(original.id));
    assert!(!after.is_open);
    let moved = follower::Entity::find()
        .filter(follower::Column::ReportId.eq(original.id))
        .all(&s.db.conn)
        .await
        .unwrap();
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0].email, "paul@example.org");
    assert!(moved[0].confirmed_at.is_some(), "confirmed stays confirmed");
    // Both pages link each other.
    let (_, html) = a.get(&c, &path).await;
    assert!(html.contains(&format!("/maengel/verwaltung/{}\"", original.id)));
    let (_, html) = a
        .get(&c, &format!("/maengel/verwaltung/{}", original.id))
        .await;
    assert!(html.contains(&dup.reference));
}

// ------------------------------------------------------------------ moderation, photos

#[tokio::test]
async fn moderation_publishes_and_keeps_the_original_only_in_the_audit_log() {
    let a = app().await;
    let s = &a.s;
    let mut inp = report(s, "muell", INSIDE);
    inp.description = "Müll vor Haus Nr. 5, Nachbar Herr Meier war es".into();
    let r = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::WebNoJs,
        service::CITIZEN,
        inp,
    )
    .await
    .unwrap()
    .report;
    assert_eq!(r.moderation, "pending");

    let c = a.as_user("moderation@a.example").await;
    let (status, html) = a.get(&c, "/maengel/verwaltung/moderation").await;
    assert_eq!(status, 200);
    assert!(html.contains(&r.reference), "in the moderation queue");
    assert!(html.contains("Wartet auf Freigabe"));
    // A handler without MODERATE has no queue.
    let h = a.as_user("bauhof@a.example").await;
    assert_eq!(a.get(&h, "/maengel/verwaltung/moderation").await.0, 403);

    let path = format!("/maengel/verwaltung/{}", r.id);
    let action = format!("{path}/moderation");
    // Markup is refused, the text kept.
    let (status, _, html) = a
        .post(
            &c,
            &path,
            &action,
            &[("aktion", "publish"), ("public_description", "<b>Müll</b>")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"f-public_description-error\""));
    assert!(!html.contains("<b>Müll</b>"), "escaped");
    assert!(
        html.contains("&lt;b&gt;Müll") || html.contains("&#60;b&#62;Müll"),
        "input kept"
    );
    assert_eq!(a.report(r.id).await.moderation, "pending");

    let (status, _, _) = a
        .post(
            &c,
            &path,
            &action,
            &[
                ("aktion", "publish"),
                ("public_description", "Müll vor Haus Nr. 5"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let after = a.report(r.id).await;
    assert_eq!(after.moderation, "published");
    assert_eq!(after.public_description, "Müll vor Haus Nr. 5");
    assert!(
        service::published(&s.db.conn, s.tenant(), &r.reference)
            .await
            .is_ok()
    );
    let (_, html) = a.get(&c, "/maengel/verwaltung/moderation").await;
    assert!(!html.contains(&r.reference), "left the queue");

    // The original text: in the audit log (before/after of the moderation).
    let events = audit::list(
        &s.db.conn,
        &s.admin,
        &AuditFilter {
            action: Some("reports.report.moderated".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let details = events
        .iter()
        .map(|e| format!("{:?}", e))
        .collect::<String>();
    assert!(details.contains("Nachbar Herr Meier"), "{details}");
    // Hide again, with the text unchanged.
    let (status, _, _) = a
        .post(
            &c,
            &path,
            &action,
            &[
                ("aktion", "hide"),
                ("public_description", "Müll vor Haus Nr. 5"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(a.report(r.id).await.moderation, "hidden");
    // A handler may not moderate.
    let (status, _, _) = a.post(&h, &path, &action, &[("aktion", "publish")]).await;
    assert_eq!(status, 403);
}

fn small_jpeg() -> Vec<u8> {
    let rgb: Vec<u8> = (0..32 * 24)
        .flat_map(|i| [(i % 256) as u8, 120, 200])
        .collect();
    rathaus_store::images::jpeg_from_rgb(&rgb, 32, 24, 85).expect("jpeg")
}

#[tokio::test]
async fn hidden_photo_is_not_public_but_staff_still_see_it() {
    let a = app().await;
    let s = &a.s;
    let mut inp = report(s, "spielplatz", INSIDE);
    inp.photos = vec![small_jpeg(), small_jpeg()];
    let r = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::Web,
        service::CITIZEN,
        inp,
    )
    .await
    .unwrap()
    .report;
    assert_eq!(s.clean_photos().await, 2);
    let photos = service::photos_of(&s.db.conn, s.tenant(), ReportId(r.id), true)
        .await
        .unwrap();
    assert_eq!(photos.len(), 2);
    let c = a.as_user("moderation@a.example").await;
    let path = format!("/maengel/verwaltung/{}", r.id);
    let (status, loc, _) = a
        .post(
            &c,
            &path,
            &format!("/maengel/verwaltung/fotos/{}/sichtbarkeit", photos[0].id),
            &[("verbergen", "1")],
        )
        .await;
    assert_eq!(status, 303);
    assert!(loc.starts_with(&path));
    let public = service::photos_of(&s.db.conn, s.tenant(), ReportId(r.id), false)
        .await
        .unwrap();
    assert_eq!(public.len(), 1);
    assert_eq!(public[0].id, photos[1].id);
    // The public photo routes do not serve it (any more); the other one they do.
    let anon = a.app.client(&[HOST]);
    for (file, code) in [
        (format!("/maengel/fotos/{}.jpg", photos[0].id), 404),
        (format!("/maengel/fotos/{}/klein.jpg", photos[0].id), 404),
        (format!("/maengel/fotos/{}.jpg", photos[1].id), 200),
    ] {
        let res = anon.get(format!("{}{file}", a.base)).send().await.unwrap();
        assert_eq!(res.status().as_u16(), code, "{file}");
    }
    // Staff still see it, marked.
    let (_, html) = a.get(&c, &path).await;
    assert!(html.contains("Wieder zeigen: Foto 1"));
    let img = c
        .get(format!(
            "{}/maengel/verwaltung/fotos/{}.jpg",
            a.base, photos[0].id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(img.status(), 200);
    assert_eq!(img.headers()["content-type"], "image/jpeg");
    let thumb = c
        .get(format!(
            "{}/maengel/verwaltung/fotos/{}-klein.jpg",
            a.base, photos[0].id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(thumb.status(), 200);
    // Anonymous: login; a handler may not hide.
    let r2 = anon
        .get(format!(
            "{}/maengel/verwaltung/fotos/{}.jpg",
            a.base, photos[0].id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r2.status(), 303);
    let h = a.as_user("bauhof@a.example").await;
    let (status, _, _) = a
        .post(
            &h,
            &path,
            &format!("/maengel/verwaltung/fotos/{}/sichtbarkeit", photos[1].id),
            &[("verbergen", "1")],
        )
        .await;
    assert_eq!(status, 403);
    // Shown again.
    let (status, _, _) = a
        .post(
            &c,
            &path,
            &format!("/maengel/verwaltung/fotos/{}/sichtbarkeit", photos[0].id),
            &[("verbergen", "0")],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(
        service::photos_of(&s.db.conn, s.tenant(), ReportId(r.id), false)
            .await
            .unwrap()
            .len(),
        2
    );
}

// ------------------------------------------------------------------ bulk

#[tokio::test]
async fn bulk_actions_change_all_or_nothing() {
    let a = app().await;
    let s = &a.s;
    let r1 = submit(s, "gully", INSIDE).await.report;
    let r2 = submit(s, "gully", INSIDE).await.report;
    let c = a.as_user("bauhof@a.example").await;
    let (id1, id2) = (r1.id.to_string(), r2.id.to_string());

    // One id that is no report: nothing changes.
    let (status, _, html) = a
        .post(
            &c,
            "/maengel/verwaltung?bereich=alle",
            "/maengel/verwaltung/sammel",
            &[
                ("ids", &id1),
                ("ids", "999999"),
                ("ids", &id2),
                ("aktion", "set_status"),
                ("status", "confirmed"),
                ("public_reply", "Wir kümmern uns."),
                ("f_bereich", "alle"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("Nichts geändert"), "{html}");
    assert_eq!(a.report(r1.id).await.status, "new");
    assert_eq!(a.report(r2.id).await.status, "new");
    let updates = service::updates(&s.db.conn, s.tenant(), ReportId(r1.id), true)
        .await
        .unwrap();
    assert!(updates.is_empty(), "no half-written history");

    // An invalid reply for the second: nothing either.
    let long = "y".repeat(4001);
    let (status, _, _) = a
        .post(
            &c,
            "/maengel/verwaltung",
            "/maengel/verwaltung/sammel",
            &[
                ("ids", &id1),
                ("ids", &id2),
                ("aktion", "set_status"),
                ("status", "confirmed"),
                ("public_reply", &long),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(a.report(r1.id).await.status, "new");

    // Missing choices: messages beside the fields.
    let (status, _, html) = a
        .post(
            &c,
            "/maengel/verwaltung",
            "/maengel/verwaltung/sammel",
            &[("aktion", "set_status"), ("status", "")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"f-ids-error\"") || html.contains("mindestens eine Meldung"));
    assert!(html.contains("id=\"f-b-status-error\""));

    // All valid: both change, in one go.
    let (status, loc, _) = a
        .post(
            &c,
            "/maengel/verwaltung",
            "/maengel/verwaltung/sammel",
            &[
                ("ids", &id1),
                ("ids", &id2),
                ("aktion", "set_status"),
                ("status", "confirmed"),
                ("public_reply", "Wir kümmern uns."),
                ("f_bereich", "alle"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert!(
        loc.contains("geaendert=2") && loc.contains("bereich=alle"),
        "{loc}"
    );
    assert_eq!(a.report(r1.id).await.status, "confirmed");
    assert_eq!(a.report(r2.id).await.status, "confirmed");
    let (_, html) = a.get(&c, &loc).await;
    assert!(html.contains("2 Meldung(en) geändert."));

    // Assign a department to both.
    let ordnungsamt = accounts::list_departments(&s.db.conn, s.tenant())
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.name == "Ordnungsamt")
        .unwrap();
    let dep = ordnungsamt.id.to_string();
    let (status, _, _) = a
        .post(
            &c,
            "/maengel/verwaltung",
            "/maengel/verwaltung/sammel",
            &[
                ("ids", &id1),
                ("ids", &id2),
                ("aktion", "department"),
                ("department_id", &dep),
            ],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(a.report(r2.id).await.department_id, Some(ordnungsamt.id));

    // Publishing needs MODERATE; a handler is refused.
    let (status, _, _) = a
        .post(
            &c,
            "/maengel/verwaltung",
            "/maengel/verwaltung/sammel",
            &[("ids", &id1), ("aktion", "hide")],
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(a.report(r1.id).await.moderation, "published");
    let m = a.as_user("moderation@a.example").await;
    let (status, _, _) = a
        .post(
            &m,
            "/maengel/verwaltung",
            "/maengel/verwaltung/sammel",
            &[("ids", &id1), ("ids", &id2), ("aktion", "hide")],
        )
        .await;
    assert_eq!(status, 303);
    assert_eq!(a.report(r1.id).await.moderation, "hidden");
    assert_eq!(a.report(r2.id).await.moderation, "hidden");
}

// ------------------------------------------------------------------ exports, statistics, map

#[tokio::test]
async fn exports_carry_the_filters_and_personal_data_only_for_handlers() {
    let a = app().await;
    let s = &a.s;
    let mut inp = report(s, "gully", INSIDE);
    inp.email = "ida@example.org".into();
    inp.name = "=Ida Formel".into();
    let r = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::Web,
        service::CITIZEN,
        inp,
    )
    .await
    .unwrap()
    .report;
    let other = submit(s, "muell", INSIDE).await.report;
    let cat = s.category("gully").id.to_string();

    let c = a.as_user("bauhof@a.example").await;
    let res = c
        .get(format!(
            "{}/maengel/verwaltung/export.csv?bereich=alle&kategorie={cat}",
            a.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = res.bytes().await.unwrap();
    assert!(bytes.starts_with("\u{feff}".as_bytes()), "BOM for Excel");
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.contains("Aktenzeichen;Eingegangen;Kategorie"));
    assert!(text.contains(&r.reference));
    assert!(!text.contains(&other.reference), "filtered by category");
    assert!(text.contains("ida@example.org"));
    assert!(text.contains("'=Ida Formel"), "no formula");
    assert!(text.contains("\r\n"));

    let res = c
        .get(format!(
            "{}/maengel/verwaltung/export.xlsx?bereich=alle&kategorie={cat}",
            a.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut strings = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/sharedStrings.xml").unwrap(),
        &mut strings,
    )
    .unwrap();
    assert!(strings.contains(&r.reference));
    assert!(strings.contains("ida@example.org"));
    assert!(strings.contains("=Ida Formel"));
    let mut sheet = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(),
        &mut sheet,
    )
    .unwrap();
    assert!(!sheet.contains("<f>"), "no formulas in the sheet");

    // A moderator's export has no contact data.
    let m = a.as_user("moderation@a.example").await;
    let text = m
        .get(format!(
            "{}/maengel/verwaltung/export.csv?bereich=alle",
            a.base
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(&r.reference));
    assert!(!text.contains("ida@example.org"));
    assert!(!text.contains("E-Mail"));

    // Each export is an audit event.
    let events = audit::list(
        &s.db.conn,
        &s.admin,
        &AuditFilter {
            action: Some("reports.export".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(events.len(), 3);
    // Clerk: refused.
    let clerk = a.as_user("clerk@a.example").await;
    assert_eq!(a.get(&clerk, "/maengel/verwaltung/export.csv").await.0, 403);
}

/// Sets the times of a report directly (the statistics read them).
async fn set_times(
    s: &Setup,
    id: i64,
    created: chrono::DateTime<Utc>,
    answered: Option<chrono::DateTime<Utc>>,
    closed: Option<chrono::DateTime<Utc>>,
) {
    let r = report::Entity::find_by_id(id)
        .one(&s.db.conn)
        .await
        .unwrap()
        .unwrap();
    let mut am = r.into_active_model();
    am.created_at = Set(created);
    am.first_answer_at = Set(answered);
    am.closed_at = Set(closed);
    am.is_open = Set(closed.is_none());
    am.update(&s.db.conn).await.unwrap();
}

#[tokio::test]
async fn statistics_count_per_category_and_month_with_medians() {
    let a = app().await;
    let s = &a.s;
    let tenant: TenantId = s.tenant();
    // Move the demo reports out of the way (long ago).
    let long_ago = Utc::now() - Duration::days(3000);
    for r in report::Entity::find()
        .filter(report::Column::TenantId.eq(tenant.0))
        .all(&s.db.conn)
        .await
        .unwrap()
    {
        set_times(s, r.id, long_ago, None, None).await;
    }
    let base = chrono::DateTime::parse_from_rfc3339("2026-03-10T08:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let h = Duration::hours;
    // Gully: answered after 2, 4, 9 hours (median 4), closed after 10 and 30 hours (median 20).
    let g1 = submit(s, "gully", INSIDE).await.report.id;
    let g2 = submit(s, "gully", INSIDE).await.report.id;
    let g3 = submit(s, "gully", INSIDE).await.report.id;
    set_times(s, g1, base, Some(base + h(2)), Some(base + h(10))).await;
    set_times(s, g2, base, Some(base + h(4)), Some(base + h(30))).await;
    set_times(
        s,
        g3,
        base + Duration::days(30),
        Some(base + Duration::days(30) + h(9)),
        None,
    )
    .await;
    // Müll: one, answered after 1 hour, in March.
    let m1 = submit(s, "muell", INSIDE).await.report.id;
    set_times(s, m1, base, Some(base + h(1)), None).await;

    let from = base - Duration::days(9);
    let to = base + Duration::days(60);
    let st = staff::data::statistics(&Scope::user(&s.db.conn, &s.handler), from, to)
        .await
        .unwrap();
    let gully = s.category("gully").id;
    let g = st
        .categories
        .iter()
        .find(|c| c.category_id == gully)
        .unwrap();
    assert_eq!((g.received, g.closed), (3, 2));
    assert_eq!(g.median_first_answer_h, Some(4.0));
    assert_eq!(g.median_close_h, Some(20.0));
    assert_eq!(st.months.get(&(gully, "2026-03".into())), Some(&(2, 2)));
    assert_eq!(st.months.get(&(gully, "2026-04".into())), Some(&(1, 0)));
    assert_eq!(st.total.received, 4);
    // All four answers: 1, 2, 4, 9 hours → median 3.
    assert_eq!(st.total.median_first_answer_h, Some(3.0));

    // The page and the CSV.
    let c = a.as_user("bauhof@a.example").await;
    let (status, html) = a
        .get(
            &c,
            "/maengel/verwaltung/statistik?von=2026-03-01&bis=2026-05-09",
        )
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("<caption"));
    assert!(html.contains("Gully/Kanal"));
    assert!(html.contains("4,0") && html.contains("20,0") && html.contains("3,0"));
    let csv = c
        .get(format!(
            "{}/maengel/verwaltung/statistik.csv?von=2026-03-01&bis=2026-05-09",
            a.base
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("Gully/Kanal;03.2026;2;2"), "{csv}");
    // A bad period: German messages, input kept.
    let (status, html) = a
        .get(
            &c,
            "/maengel/verwaltung/statistik?von=gestern&bis=2026-01-01",
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("id=\"f-von-error\""));
    assert!(html.contains("value=\"gestern\""));
    let (status, html) = a
        .get(
            &c,
            "/maengel/verwaltung/statistik?von=2026-05-01&bis=2026-01-01",
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("Das Ende liegt vor dem Anfang."));
}

#[tokio::test]
async fn map_shows_open_reports_of_every_moderation_state() {
    let a = app().await;
    let s = &a.s;
    let pending = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::WebNoJs,
        service::CITIZEN,
        report(s, "gully", INSIDE),
    )
    .await
    .unwrap()
    .report;
    let c = a.as_user("bauhof@a.example").await;
    let (status, html) = a.get(&c, "/maengel/verwaltung/karte?bereich=alle").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&pending.reference),
        "the list without JavaScript"
    );
    assert!(html.contains("id=\"reports-map\""));
    let r = c
        .get(format!(
            "{}/maengel/verwaltung/karte.json?bereich=alle&bbox=7.0,51.3,7.4,51.5",
            a.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    let features = v["features"].as_array().unwrap();
    assert!(
        features
            .iter()
            .any(|f| f["properties"]["reference"] == pending.reference.as_str())
    );
    assert!(features.len() <= 500);
    assert!(features.iter().all(|f| !f.to_string().contains("@")));
    // A box elsewhere: none.
    let v: serde_json::Value = c
        .get(format!(
            "{}/maengel/verwaltung/karte.json?bereich=alle&bbox=6.0,50.0,6.1,50.1",
            a.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["features"].as_array().unwrap().len(), 0);
    let js = c
        .get(format!("{}/maengel/verwaltung/karte.js", a.base))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
}

#[tokio::test]
async fn another_tenants_report_is_not_found() {
    let a = app().await;
    let s = &a.s;
    let other = tenant(&s.db, "b", "rathaus.b.test").await;
    let r = submit(&other, "gully", INSIDE).await.report;
    let c = a.as_user("admin@a.example").await;
    assert_eq!(
        a.get(&c, &format!("/maengel/verwaltung/{}", r.id)).await.0,
        404
    );
    let page = a.get(&c, "/maengel/verwaltung?bereich=alle").await.1;
    assert!(!page.contains(&r.reference));
    let csrf = csrf_of(&page);
    let res = c
        .post(format!("{}/maengel/verwaltung/{}", a.base, r.id))
        .form(&[("_csrf", csrf.as_str()), ("status", "done")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

/// Reporters' names and contact details only with `reports.personal_data`, and each look is
/// an audit event (security review, finding 5).
#[tokio::test]
async fn contact_details_need_their_own_permission_and_each_read_is_audited() {
    let a = app().await;
    let s = &a.s;
    let mut inp = report(s, "gully", INSIDE);
    inp.email = "ida@example.org".into();
    inp.name = "Ida Meldend".into();
    inp.phone = "0176 1234567".into();
    let r = service::submit(
        &s.db,
        &s.files,
        s.st(),
        s.tenant(),
        Source::Web,
        service::CITIZEN,
        inp,
    )
    .await
    .unwrap()
    .report;
    let path = format!("/maengel/verwaltung/{}", r.id);
    let reads = || async {
        rathaus_store::audit::list(
            &s.db.conn,
            &s.admin,
            &rathaus_store::audit::AuditFilter {
                action: Some("reports.personal_data_read".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .len()
    };

    // A moderator works on the report but does not see who made it.
    let m = a.as_user("moderation@a.example").await;
    let (status, html) = a.get(&m, &path).await;
    assert_eq!(status, 200);
    for secret in ["ida@example.org", "Ida Meldend", "0176 1234567"] {
        assert!(!html.contains(secret), "moderator sees {secret}");
    }
    assert!(html.contains("nur mit der Berechtigung"), "{html}");
    assert_eq!(reads().await, 0);

    // With the permission: shown, and the read is in the audit log.
    let c = a.as_user("bauhof@a.example").await;
    let (status, html) = a.get(&c, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("ida@example.org") && html.contains("0176 1234567"));
    assert_eq!(reads().await, 1);
    a.get(&c, &path).await;
    assert_eq!(reads().await, 2);

    // The service refuses without the permission.
    let e = service::reporter_contact(&s.db.conn, Actor::User(&s.moderator), &r)
        .await
        .unwrap_err();
    assert!(matches!(e, rathaus_core::Error::Forbidden));
}

/// Staff enter a phone call's report: the channel is recorded, the contact is optional, the
/// staff member is the actor; a missing channel is a German error that keeps what was typed.
#[tokio::test]
async fn staff_enter_a_report_received_by_phone() {
    let a = app().await;
    let c = a.as_user(&a.s.handler.email).await;
    let (status, page) = a.get(&c, "/maengel/verwaltung/erfassen").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"name="channel" value="phone""#), "{page}");
    assert!(
        !page.contains("altcha-widget"),
        "no proof of work for staff"
    );
    let csrf = csrf_of(&page);
    let cat = a.s.category("gully").id.to_string();
    let send = |fields: Vec<(&'static str, String)>| {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in fields {
            form = form.text(k, v);
        }
        c.post(format!(
            "{}/maengel/verwaltung/erfassen?_csrf={csrf}",
            a.base
        ))
        .multipart(form)
        .send()
    };
    let typed = |channel: &str| {
        vec![
            ("category", cat.clone()),
            ("lat", INSIDE.0.to_string()),
            ("lon", INSIDE.1.to_string()),
            (
                "description",
                "Anruf: Gully am Markt läuft über".to_string(),
            ),
            ("channel", channel.to_string()),
            ("trotzdem", "1".to_string()),
        ]
    };

    // No channel: 422, German message, the description kept.
    let r = send(typed("")).await.unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("wie die Meldung eingegangen ist"), "{html}");
    assert!(html.contains("Gully am Markt läuft über"));
    // A forged channel: the same.
    let r = send(typed("open311")).await.unwrap();
    assert_eq!(r.status(), 422);

    let r = send(typed("phone")).await.unwrap();
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    let id: i64 = to
        .trim_start_matches("/maengel/verwaltung/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let rep = a.report(id).await;
    assert_eq!(rep.source, "phone");
    assert!(rep.reporter_email.is_empty());
    let (status, detail) = a.get(&c, &to).await;
    assert_eq!(status, 200);
    assert!(detail.contains("Telefon"), "channel not shown");
    let ev = rathaus_store::audit::list(
        &a.s.db.conn,
        &a.s.admin,
        &rathaus_store::audit::AuditFilter {
            action: Some("reports.report.created".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap()
    .into_iter()
    .find(|e| e.object_id.as_deref() == Some(id.to_string().as_str()))
    .unwrap();
    assert_eq!(ev.actor_id, Some(a.s.handler.user_id.0));
}
