//! The service on both backends: submission checks, reference numbers, moderation, workflow,
//! duplicates and followers.

mod common;

use common::*;
use rathaus_reports::service::{self, Change, Source};

#[tokio::test]
async fn a_web_report_gets_a_reference_and_is_published() {
    let s = setup().await;
    let a = submit(&s, "strassenschaden", INSIDE).await;
    let b = submit(&s, "strassenschaden", INSIDE).await;
    let year = chrono::Utc::now().format("%Y").to_string();
    assert!(a.report.reference.starts_with(&format!("M-{year}-")));
    assert_ne!(a.report.reference, b.report.reference);
    assert_eq!(a.report.moderation, service::PUBLISHED);
    assert_eq!(a.report.status, service::NEW);
    let found = service::by_status_token(&s.db.conn, s.tenant(), &a.status_token)
        .await
        .unwrap();
    assert_eq!(found.id, a.report.id);
}
