//! Mail through the outbox and the job queue to a real SMTP server (aiosmtpd, started by
//! `rathaus_testkit::smtp` as a child process), read back from its maildir and decoded by
//! Python's `email` package.

use rathaus_store::entity::job;
use rathaus_store::jobs::{self, Registry};
use rathaus_store::mail::{self, Sender, SmtpConfig};
use rathaus_testkit::smtp::{self, FROM, Smtpd};
use rathaus_testkit::{TestDb, tenant_fixture};
use sea_orm::EntityTrait;
use std::path::Path;
const TO: &str = "Jürgen Müller <juergen.mueller@example.org>";
const SUBJECT: &str = "Ihre Anfrage – Bestätigung für Jürgen Größe";
const BODY: &str = "Sehr geehrter Herr Müller,\n\nIhre Änderung wurde übernommen. Die Gebühr beträgt 12 €.\n\nMit freundlichen Grüßen\nIhr Bürgerbüro\n";

fn registry(cfg: Option<&SmtpConfig>) -> Registry {
    let mut reg = Registry::default();
    reg.register(
        mail::JOB_KIND,
        std::sync::Arc::new(Sender::new(cfg).expect("sender")),
    );
    reg
}

async fn only_job(db: &rathaus_store::Db) -> job::Model {
    let all = job::Entity::find().all(&db.conn).await.unwrap();
    assert_eq!(all.len(), 1, "exactly one job: {all:?}");
    all.into_iter().next().unwrap()
}

#[tokio::test]
async fn mail_with_umlauts_reaches_a_real_smtp_server() {
    let smtpd = Smtpd::start();
    let t = TestDb::new().await;
    let f = tenant_fixture(&t.db, "mail", "mail.test").await;

    let id = mail::queue(&t.db.conn, f.tenant, TO, SUBJECT, BODY)
        .await
        .unwrap();
    let row = mail::get(&t.db.conn, id).await.unwrap().unwrap();
    assert_eq!(row.status, "queued");
    assert!(
        smtpd.messages().is_empty(),
        "nothing is sent before the job runs"
    );
    let j = only_job(&t.db).await;
    assert_eq!(j.kind, mail::JOB_KIND);

    let reg = registry(Some(&smtpd.config()));
    assert!(reg.run_one(&t.db).await.unwrap(), "the mail job ran");

    let j = only_job(&t.db).await;
    assert_eq!(j.status, jobs::DONE, "job: {j:?}");
    let row = mail::get(&t.db.conn, id).await.unwrap().unwrap();
    assert_eq!(row.status, "sent");
    assert!(row.sent_at.is_some());
    assert!(row.last_error.is_none());

    let got = smtpd.messages();
    assert_eq!(got.len(), 1, "one message arrived: {got:?}");
    let m = &got[0];
    assert_eq!(m.to, TO);
    assert_eq!(m.from, FROM);
    assert_eq!(m.subject, SUBJECT);
    assert_eq!(m.content_type, "text/plain");
    // lettre always ends the DATA with CRLF "." CRLF, which adds one empty line at the end of
    // a body that already ends in a newline; trailing line ends carry no meaning in a text mail.
    assert_eq!(m.body.replace("\r\n", "\n").trim_end(), BODY.trim_end());

    // Running the queue again sends nothing twice.
    assert!(!reg.run_one(&t.db).await.unwrap());
    assert_eq!(smtpd.messages().len(), 1);
}

#[tokio::test]
async fn mail_is_retried_when_the_smtp_server_is_down() {
    let t = TestDb::new().await;
    let f = tenant_fixture(&t.db, "mail", "mail.test").await;
    let id = mail::queue(&t.db.conn, f.tenant, TO, SUBJECT, BODY)
        .await
        .unwrap();

    // Nothing listens on this port.
    let reg = registry(Some(&smtp::config_for_port(smtp::free_port())));
    assert!(reg.run_one(&t.db).await.unwrap());

    let j = only_job(&t.db).await;
    assert_eq!(j.status, jobs::QUEUED, "re-queued for a retry: {j:?}");
    assert_eq!(j.attempts, 1);
    assert!(j.last_error.as_deref().is_some_and(|e| !e.is_empty()));
    assert!(j.run_at > chrono::Utc::now(), "retried after a back-off");
    let row = mail::get(&t.db.conn, id).await.unwrap().unwrap();
    assert_eq!(row.status, "queued");
    assert!(row.sent_at.is_none());
    assert!(row.last_error.is_some(), "the outbox row keeps the error");

    // Once the server is up and the job is due, the same mail goes out.
    let smtpd = Smtpd::start();
    job::Entity::update(job::ActiveModel {
        id: sea_orm::Set(j.id),
        run_at: sea_orm::Set(chrono::Utc::now() - chrono::Duration::seconds(1)),
        ..Default::default()
    })
    .exec(&t.db.conn)
    .await
    .unwrap();
    let reg = registry(Some(&smtpd.config()));
    assert!(reg.run_one(&t.db).await.unwrap());
    let j = only_job(&t.db).await;
    assert_eq!(j.status, jobs::DONE);
    assert_eq!(j.attempts, 2);
    assert_eq!(
        mail::get(&t.db.conn, id).await.unwrap().unwrap().status,
        "sent"
    );
    let got = smtpd.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].subject, SUBJECT);
}

#[tokio::test]
async fn without_smtp_configuration_mail_stays_in_the_outbox_and_the_job_fails_visibly() {
    let t = TestDb::new().await;
    let f = tenant_fixture(&t.db, "mail", "mail.test").await;
    let id = mail::queue(&t.db.conn, f.tenant, TO, SUBJECT, BODY)
        .await
        .unwrap();
    assert!(registry(None).run_one(&t.db).await.unwrap());
    let j = only_job(&t.db).await;
    assert_eq!(j.status, jobs::QUEUED);
    assert!(
        j.last_error
            .as_deref()
            .is_some_and(|e| e.contains("RATHAUS_SMTP_HOST")),
        "{j:?}"
    );
    assert_eq!(
        mail::get(&t.db.conn, id).await.unwrap().unwrap().status,
        "queued"
    );
}

#[derive(serde::Deserialize, Debug)]
struct Part {
    content_type: String,
    /// The full Content-Type header value.
    header: String,
    filename: Option<String>,
    disposition: Option<String>,
    /// Hex of the decoded bytes.
    hex: String,
}

/// Every part of every message in the maildir (decoded), plus the top-level content type.
fn read_parts(maildir: &Path) -> Vec<(String, Vec<Part>)> {
    const SCRIPT: &str = r#"
import email, email.policy, json, mailbox, sys
out = []
for msg in mailbox.Maildir(sys.argv[1], factory=None, create=False):
    m = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    parts = []
    for p in m.walk():
        if p.is_multipart():
            continue
        parts.append({"content_type": p.get_content_type(), "header": str(p["Content-Type"]),
                      "filename": p.get_filename(), "disposition": p.get_content_disposition(),
                      "hex": p.get_payload(decode=True).hex()})
    out.append([m.get_content_type(), parts])
print(json.dumps(out))
"#;
    let out = smtp::run_python(SCRIPT, &[maildir.as_os_str()]);
    serde_json::from_slice(&out).expect("json from python")
}

#[tokio::test]
async fn attachments_arrive_intact_as_multipart_mixed() {
    let smtpd = Smtpd::start();
    let t = TestDb::new().await;
    let f = tenant_fixture(&t.db, "mail", "mail.test").await;

    // An iCalendar file with umlauts and CRLF line ends, and arbitrary binary bytes.
    let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Rathaus//DE\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\nUID:1@beispielstadt.example\r\nDTSTAMP:20250101T000000Z\r\nDTSTART:20250301T090000Z\r\nSUMMARY:Bürgerhaus – großer Saal\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let binary: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let id = mail::queue_with_attachments(
        &t.db.conn,
        f.tenant,
        TO,
        SUBJECT,
        BODY,
        &[
            mail::Attachment::ics("termin.ics", ics),
            mail::Attachment {
                filename: "daten.bin".into(),
                content_type: "application/octet-stream".into(),
                content: binary.clone(),
            },
        ],
    )
    .await
    .unwrap();
    let stored = mail::attachments(&t.db.conn, id).await.unwrap();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0].filename, "termin.ics");
    assert_eq!(stored[1].content, binary);

    let reg = registry(Some(&smtpd.config()));
    assert!(reg.run_one(&t.db).await.unwrap());
    assert_eq!(only_job(&t.db).await.status, jobs::DONE);
    assert_eq!(
        mail::get(&t.db.conn, id).await.unwrap().unwrap().status,
        "sent"
    );

    let got = read_parts(smtpd.maildir());
    assert_eq!(got.len(), 1);
    let (top, parts) = &got[0];
    assert_eq!(top, "multipart/mixed");
    assert_eq!(parts.len(), 3, "{parts:?}");
    assert_eq!(parts[0].content_type, "text/plain");
    let text = String::from_utf8(hex::decode(&parts[0].hex).unwrap()).unwrap();
    assert_eq!(text.replace("\r\n", "\n").trim_end(), BODY.trim_end());

    let cal = &parts[1];
    assert_eq!(cal.content_type, "text/calendar");
    let h = cal.header.to_lowercase().replace('"', "");
    assert!(h.contains("charset=utf-8"), "{}", cal.header);
    assert!(h.contains("method=publish"), "{}", cal.header);
    assert_eq!(cal.filename.as_deref(), Some("termin.ics"));
    assert_eq!(cal.disposition.as_deref(), Some("attachment"));
    assert_eq!(
        hex::decode(&cal.hex).unwrap(),
        ics.as_bytes(),
        "the .ics arrived intact"
    );

    let bin = &parts[2];
    assert_eq!(bin.content_type, "application/octet-stream");
    assert_eq!(bin.filename.as_deref(), Some("daten.bin"));
    assert_eq!(hex::decode(&bin.hex).unwrap(), binary);

    // The single-attachment form queues the same way.
    let id2 = mail::queue_with_attachment(
        &t.db.conn,
        f.tenant,
        TO,
        SUBJECT,
        BODY,
        mail::Attachment::ics("b.ics", "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"),
    )
    .await
    .unwrap();
    assert_eq!(mail::attachments(&t.db.conn, id2).await.unwrap().len(), 1);
}
