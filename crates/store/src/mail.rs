//! Outgoing mail: services write to the outbox in their transaction and enqueue a job; the job
//! sends through SMTP (lettre). A failed send is retried by the queue.

use crate::entity::{mail, mail_attachment};
use crate::jobs::{self, Handler, Job};
use crate::{Db, db_err};
use chrono::Utc;
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use rathaus_core::{Result, TenantId};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Deserialize;
use serde_json::json;

pub const JOB_KIND: &str = "mail.send";

#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    /// Plain SMTP, for a relay on the same host or in tests.
    None,
    Starttls,
    /// Implicit TLS (port 465).
    Tls,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub username: Option<String>,
    pub password: Option<String>,
    pub from: String,
}

/// A file sent along with a mail (e.g. an iCalendar invitation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// Shown to the recipient, e.g. `termin.ics`.
    pub filename: String,
    /// MIME type, e.g. `application/pdf`. `text/calendar` is sent as
    /// `text/calendar; charset=utf-8; method=PUBLISH` (what calendar programs expect).
    pub content_type: String,
    pub content: Vec<u8>,
}

impl Attachment {
    /// An iCalendar file (`text/calendar`).
    pub fn ics(filename: &str, content: impl Into<Vec<u8>>) -> Self {
        Attachment {
            filename: filename.to_string(),
            content_type: "text/calendar".to_string(),
            content: content.into(),
        }
    }

    /// The Content-Type header sent for this attachment.
    pub fn header_value(&self) -> String {
        let ct = self.content_type.trim();
        let essence = ct.split(';').next().unwrap_or("").trim();
        if essence.eq_ignore_ascii_case("text/calendar") {
            "text/calendar; charset=utf-8; method=PUBLISH".to_string()
        } else {
            ct.to_string()
        }
    }
}

/// Queues a plain-text mail; call inside the caller's transaction.
pub async fn queue(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<i64> {
    queue_with_attachments(conn, tenant, to, subject, body, &[]).await
}

/// Queues a mail with one attachment (text part + attachment, multipart/mixed); call inside
/// the caller's transaction.
pub async fn queue_with_attachment(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    to: &str,
    subject: &str,
    body: &str,
    attachment: Attachment,
) -> Result<i64> {
    queue_with_attachments(conn, tenant, to, subject, body, &[attachment]).await
}

/// Queues a mail with any number of attachments (none: a plain text mail).
pub async fn queue_with_attachments(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    to: &str,
    subject: &str,
    body: &str,
    attachments: &[Attachment],
) -> Result<i64> {
    let m = mail::ActiveModel {
        tenant_id: Set(tenant.0),
        to_addr: Set(to.to_string()),
        subject: Set(subject.to_string()),
        body: Set(body.to_string()),
        status: Set("queued".to_string()),
        created_at: Set(Utc::now()),
        sent_at: Set(None),
        last_error: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    for a in attachments {
        mail_attachment::ActiveModel {
            mail_id: Set(m.id),
            filename: Set(a.filename.clone()),
            content_type: Set(a.content_type.clone()),
            content: Set(a.content.clone()),
            ..Default::default()
        }
        .insert(conn)
        .await?;
    }
    jobs::enqueue(conn, tenant, JOB_KIND, json!({"mail_id": m.id}), 8).await?;
    Ok(m.id)
}

/// The attachments of an outbox mail, in the order they were given.
pub async fn attachments(conn: &impl ConnectionTrait, mail_id: i64) -> Result<Vec<Attachment>> {
    Ok(mail_attachment::Entity::find()
        .filter(mail_attachment::Column::MailId.eq(mail_id))
        .order_by_asc(mail_attachment::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|a| Attachment {
            filename: a.filename,
            content_type: a.content_type,
            content: a.content,
        })
        .collect())
}

pub struct Sender {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Option<Mailbox>,
}

impl Sender {
    /// Without SMTP configuration mail stays in the outbox, and the jobs fail visibly.
    pub fn new(cfg: Option<&SmtpConfig>) -> anyhow::Result<Self> {
        let Some(cfg) = cfg else {
            return Ok(Sender {
                transport: None,
                from: None,
            });
        };
        let mut b = match cfg.tls {
            Tls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
            Tls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)?,
            Tls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host)?,
        }
        .port(cfg.port)
        .timeout(Some(std::time::Duration::from_secs(30)));
        if let (Some(u), Some(p)) = (&cfg.username, &cfg.password) {
            b = b.credentials(Credentials::new(u.clone(), p.clone()));
        }
        let from: Mailbox = cfg
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("smtp.from: {e}"))?;
        Ok(Sender {
            transport: Some(b.build()),
            from: Some(from),
        })
    }
}

#[derive(Deserialize)]
struct Payload {
    mail_id: i64,
}

#[async_trait::async_trait]
impl Handler for Sender {
    async fn run(&self, db: &Db, job: &Job) -> std::result::Result<(), String> {
        let p: Payload = serde_json::from_str(&job.payload).map_err(|e| e.to_string())?;
        let m = mail::Entity::find_by_id(p.mail_id)
            .one(&db.conn)
            .await
            .map_err(|e| e.to_string())?
            .ok_or("mail gone")?;
        if m.status == "sent" {
            return Ok(());
        }
        let files = attachments(&db.conn, m.id)
            .await
            .map_err(|e| e.to_string())?;
        let result = self.send(&m, &files).await;
        let mut am: mail::ActiveModel = m.into();
        match &result {
            Ok(()) => {
                am.status = Set("sent".into());
                am.sent_at = Set(Some(Utc::now()));
                am.last_error = Set(None);
            }
            Err(e) => am.last_error = Set(Some(e.clone())),
        }
        am.update(&db.conn).await.map_err(|e| e.to_string())?;
        result
    }
}

impl Sender {
    async fn send(&self, m: &mail::Model, files: &[Attachment]) -> std::result::Result<(), String> {
        self.send_to(&m.to_addr, &m.subject, &m.body, files).await
    }

    /// Sends at once, past the outbox: for the operator's mails that belong to no tenant
    /// (e.g. the daily audit anchor).
    pub async fn send_direct(
        &self,
        to: &str,
        subject: &str,
        body: &str,
    ) -> std::result::Result<(), String> {
        self.send_to(to, subject, body, &[]).await
    }

    async fn send_to(
        &self,
        to: &str,
        subject: &str,
        body: &str,
        files: &[Attachment],
    ) -> std::result::Result<(), String> {
        let (Some(t), Some(from)) = (&self.transport, &self.from) else {
            return Err("SMTP is not configured (RATHAUS_SMTP_HOST)".into());
        };
        let to: Mailbox = to.parse().map_err(|e| format!("bad address: {e}"))?;
        let b = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(subject);
        let msg = if files.is_empty() {
            b.header(ContentType::TEXT_PLAIN).body(body.to_string())
        } else {
            let mut mixed = MultiPart::mixed().singlepart(SinglePart::plain(body.to_string()));
            for f in files {
                let ct = ContentType::parse(&f.header_value())
                    .map_err(|e| format!("attachment {}: {e}", f.filename))?;
                mixed = mixed.singlepart(
                    lettre::message::Attachment::new(f.filename.clone())
                        .body(f.content.clone(), ct),
                );
            }
            b.multipart(mixed)
        }
        .map_err(|e| e.to_string())?;
        t.send(msg).await.map(|_| ()).map_err(|e| e.to_string())
    }
}

/// For tests and the admin: the outbox row.
pub async fn get(conn: &impl ConnectionTrait, id: i64) -> Result<Option<mail::Model>> {
    mail::Entity::find_by_id(id).one(conn).await.map_err(db_err)
}

/// Checks an address such as `Gemeinde <rathaus@gemeinde.example>`.
pub fn check_mailbox(s: &str) -> std::result::Result<(), String> {
    s.parse::<Mailbox>().map(|_| ()).map_err(|e| e.to_string())
}
