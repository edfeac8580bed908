//! Mails to reporters and followers, queued in the outbox inside the transaction that made the
//! change: the confirmation link for an address, and a mail on every public status change or
//! reply, each with an unsubscribe link. German: the readers are the municipality's citizens.

use crate::service::Report;
use crate::store::entity::follower;
use rathaus_core::{Result, TenantId};
use rathaus_store::mail;
use rathaus_web::i18n::{Lang, catalog};
use sea_orm::{ColumnTrait, ConnectionTrait, QueryFilter};

/// The module's translation files for a language, one per part of the module, each parsed
/// on its own.
pub fn translation_files(lang: Lang) -> Vec<&'static str> {
    match lang {
        Lang::De => vec![
            include_str!("../../locales/de.toml"),
            include_str!("../../locales/de/public.toml"),
            include_str!("../../locales/de/staff.toml"),
            include_str!("../../locales/de/admin.toml"),
            include_str!("../../locales/de/open311.toml"),
            include_str!("../../locales/de/streets.toml"),
        ],
        Lang::En => vec![
            include_str!("../../locales/en.toml"),
            include_str!("../../locales/en/public.toml"),
            include_str!("../../locales/en/staff.toml"),
            include_str!("../../locales/en/admin.toml"),
            include_str!("../../locales/en/open311.toml"),
            include_str!("../../locales/en/streets.toml"),
        ],
    }
}

/// The German catalogue with the module's texts, also where no web app registered them (jobs
/// run by the CLI, service tests).
pub fn texts() -> &'static rathaus_web::i18n::Catalog {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for src in translation_files(Lang::De) {
            rathaus_web::i18n::register(Lang::De, src);
        }
    });
    catalog(Lang::De)
}

/// The name of a status in the catalogue's language ("Unbekannt" for a status it lacks).
pub fn status_label(t: &rathaus_web::i18n::Catalog, status: &str) -> String {
    let key = format!("reports.status.{status}");
    let v = t.get(&key);
    if v == key {
        t.get("reports.status.unknown").to_string()
    } else {
        v.to_string()
    }
}

fn footer(base_url: &str, f: &follower::Model) -> String {
    let t = texts();
    format!(
        "\n{}\n{base_url}/maengel/folgen/{}/abbestellen\n\n{}\n",
        t.get("reports.mail.unsubscribe"),
        f.token,
        t.get("reports.mail.footer")
    )
}

/// Asks the address to confirm before any status mail goes to it. The reporter's mail also
/// carries the reference number.
pub async fn confirm_follower(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    base_url: &str,
    r: &Report,
    f: &follower::Model,
    reporter: bool,
) -> Result<()> {
    let t = texts();
    let intro = if reporter {
        t.get("reports.mail.confirm_reporter")
    } else {
        t.get("reports.mail.confirm_follower")
    };
    let body = format!(
        "{intro}\n\n{}: {}\n\n{}\n{base_url}/maengel/folgen/{}\n\n{}\n",
        t.get("reports.mail.reference"),
        r.reference,
        t.get("reports.mail.confirm_link"),
        f.token,
        t.get("reports.mail.footer"),
    );
    let subject = format!("{} {}", t.get("reports.mail.confirm_subject"), r.reference);
    mail::queue(conn, tenant, &f.email, &subject, &body).await?;
    Ok(())
}

/// Tells every confirmed follower about a public status change or reply.
pub async fn status_changed(
    conn: &impl ConnectionTrait,
    tenant: TenantId,
    base_url: &str,
    r: &Report,
    reply: &str,
    original: Option<&Report>,
) -> Result<()> {
    let t = texts();
    let followers = rathaus_store::uow::scoped::<follower::Entity>(tenant)
        .filter(follower::Column::ReportId.eq(r.id))
        .filter(follower::Column::ConfirmedAt.is_not_null())
        .filter(follower::Column::UnsubscribedAt.is_null())
        .all(conn)
        .await?;
    if followers.is_empty() {
        return Ok(());
    }
    let subject = format!("{} {}", t.get("reports.mail.status_subject"), r.reference);
    let mut text = format!(
        "{}\n\n{}: {}\n{}: {}\n",
        t.get("reports.mail.status_intro"),
        t.get("reports.mail.reference"),
        r.reference,
        t.get("reports.mail.status"),
        status_label(t, &r.status),
    );
    if !reply.is_empty() {
        text.push_str(&format!("\n{}:\n{reply}\n", t.get("reports.mail.reply")));
    }
    if let Some(o) = original {
        text.push_str(&format!(
            "\n{} {}\n{base_url}/maengel/{}\n",
            t.get("reports.mail.duplicate_of"),
            o.reference,
            o.reference
        ));
    }
    if r.moderation == crate::service::PUBLISHED {
        text.push_str(&format!("\n{base_url}/maengel/{}\n", r.reference));
    }
    for f in followers {
        let body = format!("{text}{}", footer(base_url, &f));
        mail::queue(conn, tenant, &f.email, &subject, &body).await?;
    }
    Ok(())
}
