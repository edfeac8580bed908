//! The search service against a real database (SQLite, or PostgreSQL with
//! `RATHAUS_TEST_DATABASE_URL`) and a real index in a temp dir.

use async_trait::async_trait;
use chrono::{TimeZone, Utc};
use rathaus_core::TenantId;
use rathaus_search::{
    Doc, DocField, DocKind, DocSource, Op, SearchRequest, SearchService, visibility,
};
use rathaus_store::Db;
use rathaus_store::tenants::{self, NewTenant};
use rathaus_store::uow::{Actor, Tx};
use rathaus_testkit::TestDb;
use std::sync::{Arc, Mutex};

const ALL: &[DocField] = &[
    DocField::Title,
    DocField::Body,
    DocField::Tags,
    DocField::Date,
    DocField::Department,
];
const FILES: DocKind = DocKind {
    name: "records.file",
    fields: ALL,
};
const NOTES: DocKind = DocKind {
    name: "knowledge.page",
    fields: &[DocField::Title, DocField::Body],
};

/// A module's documents, kept in memory (the module would read its tables).
struct Mem {
    kind: DocKind,
    docs: Mutex<Vec<Doc>>,
}

impl Mem {
    fn new(kind: DocKind) -> Arc<Mem> {
        Arc::new(Mem {
            kind,
            docs: Mutex::new(Vec::new()),
        })
    }
    fn put(&self, d: Doc) {
        let mut docs = self.docs.lock().unwrap();
        docs.retain(|x| !(x.tenant == d.tenant && x.id == d.id));
        docs.push(d);
        docs.sort_by_key(|d| (d.tenant, d.id));
    }
    fn remove(&self, tenant: TenantId, id: i64) {
        self.docs
            .lock()
            .unwrap()
            .retain(|x| !(x.tenant == tenant && x.id == id));
    }
}

#[async_trait]
impl DocSource for Mem {
    fn kind(&self) -> DocKind {
        self.kind
    }
    async fn load_batch(
        &self,
        _db: &Db,
        tenant: TenantId,
        after_id: i64,
        n: u64,
    ) -> anyhow::Result<Vec<Doc>> {
        Ok(self
            .docs
            .lock()
            .unwrap()
            .iter()
            .filter(|d| d.tenant == tenant && d.id > after_id)
            .take(n as usize)
            .cloned()
            .collect())
    }
    async fn load(&self, _db: &Db, tenant: TenantId, ids: &[i64]) -> anyhow::Result<Vec<Doc>> {
        Ok(self
            .docs
            .lock()
            .unwrap()
            .iter()
            .filter(|d| d.tenant == tenant && ids.contains(&d.id))
            .cloned()
            .collect())
    }
}

struct World {
    tdb: TestDb,
    files: Arc<Mem>,
    notes: Arc<Mem>,
    a: TenantId,
    b: TenantId,
}

impl World {
    fn service(&self) -> SearchService {
        let mut s = SearchService::open(&rathaus_search::index_dir(self.tdb.dir.path())).unwrap();
        s.register(self.files.clone());
        s.register(self.notes.clone());
        s
    }
    fn db(&self) -> &Db {
        &self.tdb.db
    }
}

async fn world() -> World {
    let tdb = TestDb::new().await;
    rathaus_search::migrate(&tdb.db).await.unwrap();
    let mut ids = Vec::new();
    for slug in ["a", "b"] {
        let t = tenants::create(
            &tdb.db.conn,
            &rathaus_store::Actor::system("test"),
            NewTenant {
                slug,
                name: &format!("Gemeinde {slug}"),
                hosts: &[format!("{slug}.example")],
            },
        )
        .await
        .unwrap();
        ids.push(TenantId(t.id));
    }
    World {
        tdb,
        files: Mem::new(FILES),
        notes: Mem::new(NOTES),
        a: ids[0],
        b: ids[1],
    }
}

fn doc(tenant: TenantId, id: i64, title: &str, body: &str, visible: &[&str]) -> Doc {
    Doc {
        id,
        tenant,
        title: title.into(),
        url: format!("/test/{id}"),
        body: body.into(),
        tags: vec![],
        date: Some(Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap()),
        department: Some("Bauamt".into()),
        visible_to: visible.iter().map(|s| s.to_string()).collect(),
    }
}

fn staff() -> Vec<String> {
    vec![visibility::STAFF.to_string()]
}

fn req<'a>(tenant: TenantId, reader: &'a [String], text: &'a str) -> SearchRequest<'a> {
    SearchRequest {
        tenant,
        reader,
        text,
        kinds: &[],
        limit: 10,
        offset: 0,
    }
}

async fn index_all(w: &World, s: &SearchService) {
    s.reindex(w.db(), None, None, |_| {}).await.unwrap();
}

#[tokio::test]
async fn folding_and_stemming_find_every_spelling() {
    let w = world().await;
    w.files.put(doc(
        w.a,
        1,
        "Anträge zur Müllerstraße",
        "Die Straße vor dem Haus von Frau Müller wird erneuert.",
        &["staff"],
    ));
    let s = w.service();
    index_all(&w, &s).await;
    let r = staff();
    for q in [
        "Strasse",
        "STRASSE",
        "straße",
        "Mueller",
        "Muller",
        "MÜLLER",
        "Antrag",
        "antraege",
        "Müller Straße",
    ] {
        let res = s.search(&req(w.a, &r, q)).unwrap();
        assert_eq!(res.total, 1, "query {q}");
    }
    let res = s.search(&req(w.a, &r, "Mueller")).unwrap();
    assert!(
        res.hits[0].snippet_html.contains("<b>Müller</b>"),
        "{}",
        res.hits[0].snippet_html
    );
}

#[tokio::test]
async fn compounds_find_their_parts_and_the_other_way_round() {
    let w = world().await;
    w.files.put(doc(
        w.a,
        1,
        "Wohngeldantrag Familie Schmidt",
        "Eingang am Montag.",
        &["staff"],
    ));
    w.files.put(doc(
        w.a,
        2,
        "Antrag auf Wohngeld",
        "Familie Meier beantragt Wohngeld.",
        &["staff"],
    ));
    w.files
        .put(doc(w.a, 3, "Antrag auf Baugenehmigung", "", &["staff"]));
    let s = w.service();
    index_all(&w, &s).await;
    let r = staff();
    let ids = |q: &str| {
        let mut v: Vec<i64> = s
            .search(&req(w.a, &r, q))
            .unwrap()
            .hits
            .iter()
            .map(|h| h.id)
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids("Wohngeldantrag"), vec![1, 2]);
    assert_eq!(ids("Antrag Wohngeld"), vec![1, 2]);
    assert_eq!(ids("Wohngeldanträge"), vec![1, 2]);
    assert_eq!(ids("Antrag"), vec![1, 2, 3]);
}

#[tokio::test]
async fn tenants_never_see_each_other() {
    let w = world().await;
    w.files
        .put(doc(w.a, 1, "Wohngeld A", "Geheim in A", &["staff"]));
    w.files
        .put(doc(w.b, 1, "Wohngeld B", "Geheim in B", &["staff"]));
    w.files.put(doc(w.b, 2, "Nur in B", "Wohngeld", &["staff"]));
    let s = w.service();
    index_all(&w, &s).await;
    let r = staff();
    let a = s.search(&req(w.a, &r, "Wohngeld")).unwrap();
    assert_eq!(a.total, 1);
    assert_eq!(a.hits[0].id, 1);
    assert!(a.hits[0].title_html.contains('A'));
    assert_eq!(a.facets.kinds, vec![("records.file".to_string(), 1)]);
    let b = s.search(&req(w.b, &r, "Wohngeld")).unwrap();
    assert_eq!(b.total, 2);
    assert!(b.hits.iter().all(|h| !h.snippet_html.contains("in A")));
    // A tenant without documents finds nothing.
    let none = s.search(&req(TenantId(999_999), &r, "Wohngeld")).unwrap();
    assert_eq!(none.total, 0);
}

#[tokio::test]
async fn what_the_reader_may_not_open_is_neither_found_nor_counted() {
    let w = world().await;
    let clerk = visibility::permission("records.read");
    let secret = visibility::permission("records.restricted");
    for i in 1..=6 {
        let mut d = doc(
            w.a,
            i,
            &format!("Wohngeld Akte {i}"),
            if i % 2 == 0 {
                "Gesundheitsdaten Wohngeld vertraulich"
            } else {
                "Wohngeld Bescheid"
            },
            &[if i % 2 == 0 { &secret } else { &clerk }],
        );
        d.department = Some(if i % 2 == 0 { "Sozialamt" } else { "Bauamt" }.into());
        d.date = Some(
            Utc.with_ymd_and_hms(2020 + i as i32, 1, 2, 0, 0, 0)
                .unwrap(),
        );
        w.files.put(d);
    }
    w.files.put(doc(
        w.a,
        7,
        "Wohngeld Entwurf",
        "Nur für Nutzer 5",
        &["user:5"],
    ));
    let s = w.service();
    index_all(&w, &s).await;

    let reader = vec![clerk.clone()];
    let res = s.search(&req(w.a, &reader, "Wohngeld")).unwrap();
    assert_eq!(res.total, 3);
    assert!(res.hits.iter().all(|h| h.id % 2 == 1 && h.id != 7));
    assert!(
        res.hits
            .iter()
            .all(|h| !h.snippet_html.contains("Gesundheit"))
    );
    assert_eq!(res.facets.departments, vec![("Bauamt".to_string(), 3)]);
    assert_eq!(res.facets.kinds, vec![("records.file".to_string(), 3)]);
    assert_eq!(res.facets.years.len(), 3);
    // Words only in hidden documents find nothing at all.
    let res = s.search(&req(w.a, &reader, "Gesundheitsdaten")).unwrap();
    assert_eq!(res.total, 0);
    assert!(res.facets.kinds.is_empty());

    // Several terms: the union of what each opens.
    let both = vec![clerk.clone(), "user:5".to_string()];
    assert_eq!(s.search(&req(w.a, &both, "Wohngeld")).unwrap().total, 4);
    // No terms: nothing.
    assert_eq!(s.search(&req(w.a, &[], "Wohngeld")).unwrap().total, 0);
}

#[tokio::test]
async fn facets_count_kinds_departments_and_years_and_kinds_narrow() {
    let w = world().await;
    for i in 1..=4 {
        let mut d = doc(w.a, i, "Friedhof Satzung", "Gebühren", &["staff"]);
        d.department = Some(if i <= 3 { "Ordnungsamt" } else { "Kämmerei" }.into());
        d.date = Some(
            Utc.with_ymd_and_hms(if i <= 2 { 2023 } else { 2025 }, 3, 1, 0, 0, 0)
                .unwrap(),
        );
        w.files.put(d);
    }
    // Years in local time: New Year's Eve 23:30 UTC is already the next year in Berlin.
    let mut d = doc(w.a, 5, "Friedhof", "", &["staff"]);
    d.date = Some(Utc.with_ymd_and_hms(2021, 12, 31, 23, 30, 0).unwrap());
    w.files.put(d);
    w.notes
        .put(doc(w.a, 1, "Friedhof Öffnungszeiten", "", &["staff"]));
    let s = w.service();
    index_all(&w, &s).await;
    let r = staff();
    let res = s.search(&req(w.a, &r, "Friedhof")).unwrap();
    assert_eq!(res.total, 6);
    assert_eq!(
        res.facets.kinds,
        vec![
            ("records.file".to_string(), 5),
            ("knowledge.page".to_string(), 1)
        ]
    );
    // Notes declare no department or date: they are not counted there.
    assert_eq!(
        res.facets.departments,
        vec![
            ("Ordnungsamt".to_string(), 3),
            ("Bauamt".to_string(), 1),
            ("Kämmerei".to_string(), 1)
        ]
    );
    assert_eq!(res.facets.years, vec![(2025, 2), (2023, 2), (2022, 1)]);
    let mut only = req(w.a, &r, "Friedhof");
    only.kinds = &["knowledge.page"];
    let res = s.search(&only).unwrap();
    assert_eq!(res.total, 1);
    assert_eq!(res.hits[0].kind, "knowledge.page");
    assert_eq!(res.hits[0].date, None);
}

#[tokio::test]
async fn pages_split_the_hits_without_overlap_and_rank_titles_first() {
    let w = world().await;
    for i in 1..=25 {
        w.files
            .put(doc(w.a, i, "Akte", "Baugenehmigung erteilt", &["staff"]));
    }
    w.files.put(doc(
        w.a,
        26,
        "Baugenehmigung Rathausplatz",
        "Akte",
        &["staff"],
    ));
    let s = w.service();
    index_all(&w, &s).await;
    let r = staff();
    let mut seen = Vec::new();
    for page in 0..3 {
        let mut q = req(w.a, &r, "Baugenehmigung");
        q.offset = page * 10;
        let res = s.search(&q).unwrap();
        assert_eq!(res.total, 26);
        assert_eq!(res.hits.len(), if page < 2 { 10 } else { 6 });
        if page == 0 {
            assert_eq!(res.hits[0].id, 26, "the title match ranks first");
            assert!(res.hits[0].title_html.contains("<b>Baugenehmigung</b>"));
        }
        seen.extend(res.hits.iter().map(|h| h.id));
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 26);
    // Limits are clamped, never an error.
    let mut q = req(w.a, &r, "Baugenehmigung");
    q.limit = 0;
    q.offset = usize::MAX;
    assert!(s.search(&q).unwrap().hits.is_empty());
    q.limit = 1_000_000;
    q.offset = 0;
    assert_eq!(s.search(&q).unwrap().hits.len(), 26);
}

#[tokio::test]
async fn any_user_text_is_plain_words_and_never_an_error() {
    let w = world().await;
    w.files.put(doc(
        w.a,
        1,
        "Antrag (neu)",
        r#"Feld "title:x" AND -y +z [1 TO 2] {a} ~2 ^3 * OR NOT \ Wohngeld"#,
        &["staff"],
    ));
    let s = w.service();
    index_all(&w, &s).await;
    let r = staff();
    for q in [
        r#""(:^~*+-[]{})"#,
        r#"title:"Antrag"#,
        "Antrag AND (",
        "*",
        "+Wohngeld -Antrag",
        "Antrag~2^3",
        "[1 TO 2]",
        "{a}",
        "\\",
        "\"",
        "",
        "   ",
        "\u{0}\u{7}",
        "der die das und",
        "😀 ☃ ∑",
        "field:value OR x:y",
    ] {
        let res = s.search(&req(w.a, &r, q));
        assert!(res.is_ok(), "query {q:?}: {res:?}");
    }
    // Syntax is taken as words: "title:Antrag" is the words title and Antrag.
    let res = s.search(&req(w.a, &r, "+Wohngeld -Antrag")).unwrap();
    assert_eq!(res.total, 1, "the minus is no negation");
    let res = s.search(&req(w.a, &r, "Antrag AND (neu)")).unwrap();
    assert_eq!(res.total, 1, "AND is a plain word, and it is in the body");
    let res = s.search(&req(w.a, &r, "Antrag OR Mietzuschuss")).unwrap();
    assert_eq!(res.total, 0, "OR is no operator: every word is required");
}

#[tokio::test]
async fn long_queries_are_cut_not_refused() {
    let w = world().await;
    w.files.put(doc(w.a, 1, "Wohngeld", "", &["staff"]));
    let s = w.service();
    index_all(&w, &s).await;
    let r = staff();
    let long = "Wohngeld ".repeat(600); // 5,400 characters
    let res = s.search(&req(w.a, &r, &long)).unwrap();
    assert!(res.cut);
    assert_eq!(res.total, 1);
    let junk = "(".repeat(5_000);
    let res = s.search(&req(w.a, &r, &junk)).unwrap();
    assert_eq!(res.total, 0);
    let words: String = (0..1_000).map(|i| format!("wort{i} ")).collect();
    let t = std::time::Instant::now();
    let res = s.search(&req(w.a, &r, &words)).unwrap();
    assert!(res.cut);
    assert!(t.elapsed() < std::time::Duration::from_secs(2));
    let one_token = "x".repeat(5_000);
    assert_eq!(s.search(&req(w.a, &r, &one_token)).unwrap().total, 0);
}

#[tokio::test]
async fn snippets_are_escaped_except_the_marks() {
    let w = world().await;
    w.files.put(doc(
        w.a,
        1,
        "<img src=x onerror=alert(1)> Wohngeld & \"Miete\"",
        "Vorher <script>alert('x')</script> dann Wohngeld & Co. <b>fett</b>",
        &["staff"],
    ));
    let s = w.service();
    index_all(&w, &s).await;
    let r = staff();
    let res = s.search(&req(w.a, &r, "Wohngeld")).unwrap();
    let h = &res.hits[0];
    assert!(
        h.snippet_html.contains("<b>Wohngeld</b>"),
        "{}",
        h.snippet_html
    );
    assert!(
        h.snippet_html.contains("&lt;script&gt;"),
        "{}",
        h.snippet_html
    );
    assert!(h.snippet_html.contains("&#39;x&#39;"), "{}", h.snippet_html);
    assert!(
        h.snippet_html.contains("&lt;b&gt;fett"),
        "{}",
        h.snippet_html
    );
    assert!(!h.snippet_html.contains("<script"));
    assert!(h.title_html.contains("&lt;img"), "{}", h.title_html);
    assert!(
        h.title_html.contains("&quot;Miete&quot;"),
        "{}",
        h.title_html
    );
    assert!(h.title_html.contains("<b>Wohngeld</b>"), "{}", h.title_html);
    let stripped = h
        .title_html
        .replace("<b>", "")
        .replace("</b>", "")
        .replace("&lt;", "")
        .replace("&gt;", "");
    assert!(!stripped.contains('<') && !stripped.contains('>'));
}

async fn change(w: &World, tenant: TenantId, id: i64, op: Op, commit: bool) {
    let tx = Tx::begin(&w.db().conn, tenant, Actor::system("test"))
        .await
        .unwrap();
    rathaus_search::enqueue(&tx, FILES.name, id, op)
        .await
        .unwrap();
    if commit {
        tx.commit().await.unwrap();
    }
}

#[tokio::test]
async fn the_outbox_brings_every_committed_change_and_no_rolled_back_one() {
    let w = world().await;
    let mut s = w.service();
    // PostgreSQL's sequence leaves a gap for the rolled-back row; accept it at once here
    // (the next test covers the wait).
    s.set_gap_grace(chrono::Duration::zero());
    let r = staff();
    w.files.put(doc(w.a, 1, "Wohngeld eins", "", &["staff"]));
    change(&w, w.a, 1, Op::Upsert, true).await;
    // A change rolled back: the module's row and the outbox row are both gone.
    change(&w, w.a, 2, Op::Upsert, false).await;
    w.files.put(doc(w.a, 3, "Wohngeld drei", "", &["staff"]));
    change(&w, w.a, 3, Op::Upsert, true).await;

    let st = s.status(w.db()).await.unwrap();
    assert_eq!(st.pending, 2);
    assert!(st.oldest_pending.is_some());
    assert_eq!(s.search(&req(w.a, &r, "Wohngeld")).unwrap().total, 0);

    assert_eq!(s.apply_outbox(w.db()).await.unwrap(), 2);
    assert_eq!(s.search(&req(w.a, &r, "Wohngeld")).unwrap().total, 2);
    let st = s.status(w.db()).await.unwrap();
    assert_eq!(st.pending, 0);
    assert_eq!(st.counts, vec![("records.file".to_string(), 2)]);
    assert!(
        rathaus_search::outbox::of_tenant(w.db(), w.a)
            .await
            .unwrap()
            .iter()
            .all(|r| r.applied_at.is_some())
    );

    // Changed and deleted.
    w.files.put(doc(w.a, 1, "Mietzuschuss", "", &["staff"]));
    change(&w, w.a, 1, Op::Upsert, true).await;
    w.files.remove(w.a, 3);
    change(&w, w.a, 3, Op::Delete, true).await;
    assert_eq!(s.apply_outbox(w.db()).await.unwrap(), 2);
    assert_eq!(s.search(&req(w.a, &r, "Wohngeld")).unwrap().total, 0);
    assert_eq!(s.search(&req(w.a, &r, "Mietzuschuss")).unwrap().total, 1);
    // Nothing pending: nothing applied.
    assert_eq!(s.apply_outbox(w.db()).await.unwrap(), 0);
}

/// An outbox row written with a given id, as a transaction that took its id earlier but
/// commits later would (PostgreSQL sequences are not in commit order).
async fn row_with_id(w: &World, id: i64, doc: i64) {
    use sea_orm::{ActiveModelTrait, Set};
    rathaus_search::outbox::entity::ActiveModel {
        id: Set(id),
        tenant_id: Set(w.a.0),
        kind: Set(FILES.name.into()),
        doc_id: Set(doc),
        op: Set("upsert".into()),
        created_at: Set(Utc::now()),
        applied_at: Set(None),
    }
    .insert(&w.db().conn)
    .await
    .unwrap();
}

#[tokio::test]
async fn a_late_commit_of_a_lower_id_is_not_skipped() {
    let w = world().await;
    let s = w.service();
    let r = staff();
    w.files.put(doc(w.a, 1, "Wohngeld eins", "", &["staff"]));
    w.files.put(doc(w.a, 2, "Wohngeld zwei", "", &["staff"]));
    w.files.put(doc(w.a, 3, "Wohngeld drei", "", &["staff"]));
    change(&w, w.a, 1, Op::Upsert, true).await;
    s.apply_outbox(w.db()).await.unwrap();
    let base = s.applied();
    assert!(base > 0);
    // Id base+2 is committed while base+1 is still in flight.
    row_with_id(&w, base + 2, 3).await;
    s.apply_outbox(w.db()).await.unwrap();
    assert_eq!(s.applied(), base, "the position waits at the gap");
    assert_eq!(
        s.search(&req(w.a, &r, "drei")).unwrap().total,
        1,
        "applied anyway"
    );
    // The lower id commits late: it is applied, and the position moves past both.
    row_with_id(&w, base + 1, 2).await;
    s.apply_outbox(w.db()).await.unwrap();
    assert_eq!(s.applied(), base + 2);
    assert_eq!(s.search(&req(w.a, &r, "zwei")).unwrap().total, 1);
    assert_eq!(s.search(&req(w.a, &r, "Wohngeld")).unwrap().total, 3);
}

#[tokio::test]
async fn a_restarted_replica_resumes_from_its_commit() {
    let w = world().await;
    let r = staff();
    let position = {
        let s = w.service();
        w.files.put(doc(w.a, 1, "Wohngeld eins", "", &["staff"]));
        change(&w, w.a, 1, Op::Upsert, true).await;
        s.apply_outbox(w.db()).await.unwrap();
        s.applied()
    };
    assert!(position > 0);
    // Changes while the process was down.
    w.files.put(doc(w.a, 2, "Wohngeld zwei", "", &["staff"]));
    change(&w, w.a, 2, Op::Upsert, true).await;
    let s = w.service();
    assert_eq!(
        s.applied(),
        position,
        "the position is in the commit payload"
    );
    assert_eq!(s.status(w.db()).await.unwrap().pending, 1);
    assert_eq!(s.apply_outbox(w.db()).await.unwrap(), 1);
    assert_eq!(s.search(&req(w.a, &r, "Wohngeld")).unwrap().total, 2);

    // A second replica (another serve process, own directory) catches up from zero.
    let dir = tempfile::tempdir().unwrap();
    let mut other = SearchService::open(dir.path()).unwrap();
    other.register(w.files.clone());
    assert_eq!(other.applied(), 0);
    assert_eq!(other.apply_outbox(w.db()).await.unwrap(), 2);
    assert_eq!(other.search(&req(w.a, &r, "Wohngeld")).unwrap().total, 2);
}

#[tokio::test]
async fn reindex_rebuilds_one_tenant_or_kind_with_progress() {
    let w = world().await;
    for i in 1..=2_500 {
        w.files
            .put(doc(w.a, i, &format!("Akte {i}"), "Wohngeld", &["staff"]));
    }
    w.files.put(doc(w.b, 1, "Akte", "Wohngeld", &["staff"]));
    w.notes.put(doc(w.a, 1, "Wohngeld Hilfe", "", &["staff"]));
    let s = w.service();
    let seen = Mutex::new(Vec::new());
    let n = s
        .reindex(w.db(), None, None, |n| seen.lock().unwrap().push(n))
        .await
        .unwrap();
    assert_eq!(n, 2_502);
    // As the CLI does before it exits; the next write opens the writer again.
    s.wait_merges().await.unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(seen.len() >= 3 && seen.windows(2).all(|p| p[0] <= p[1]));
    let r = staff();
    assert_eq!(s.search(&req(w.a, &r, "Wohngeld")).unwrap().total, 2_501);

    // Tenant b's documents change behind the index's back; only b is rebuilt.
    w.files.remove(w.b, 1);
    w.files.remove(w.a, 1);
    let n = s.reindex(w.db(), Some(w.b), None, |_| {}).await.unwrap();
    assert_eq!(n, 0);
    assert_eq!(s.search(&req(w.b, &r, "Wohngeld")).unwrap().total, 0);
    assert_eq!(s.search(&req(w.a, &r, "Wohngeld")).unwrap().total, 2_501);
    // One kind of tenant a.
    let n = s
        .reindex(w.db(), Some(w.a), Some("records.file"), |_| {})
        .await
        .unwrap();
    assert_eq!(n, 2_499);
    assert_eq!(s.search(&req(w.a, &r, "Wohngeld")).unwrap().total, 2_500);
    let st = s.status(w.db()).await.unwrap();
    assert_eq!(
        st.counts,
        vec![
            ("knowledge.page".to_string(), 1),
            ("records.file".to_string(), 2_499)
        ]
    );
    assert!(s.reindex(w.db(), None, Some("nope"), |_| {}).await.is_err());
    // Deleting a tenant's documents.
    s.delete_tenant(w.a).await.unwrap();
    assert_eq!(s.search(&req(w.a, &r, "Wohngeld")).unwrap().total, 0);
}

#[tokio::test]
async fn the_outbox_table_is_declared_tenant_owned() {
    let w = world().await;
    let mut registered = rathaus_store::entity::tenant_owned_tables();
    registered.extend(rathaus_search::outbox::tables::tenant_owned_tables());
    let missing = rathaus_testkit::unregistered_tenant_tables(w.db(), &registered).await;
    assert!(missing.is_empty(), "{missing:?}");
}

/// The service can be shared (`Arc`) and its worker spawned on the runtime of `serve`.
#[allow(dead_code)]
fn the_worker_can_be_spawned(
    s: Arc<SearchService>,
    db: Db,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    tokio::spawn(
        s.clone()
            .run_worker(db.clone(), std::time::Duration::from_secs(2), stop),
    );
    tokio::spawn(async move { s.apply_outbox(&db).await });
}

/// An idle server holds no index writer (its threads and memory): the worker opens it for
/// changes and closes it after a quiet round, so the index lock is free again.
#[tokio::test]
async fn the_worker_closes_the_writer_when_idle() {
    let w = world().await;
    let r = staff();
    let s = Arc::new(w.service());
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let every = std::time::Duration::from_millis(50);
    let worker = tokio::spawn(s.clone().run_worker(w.db().clone(), every, stop));
    w.files.put(doc(w.a, 1, "Wohngeld eins", "", &["staff"]));
    change(&w, w.a, 1, Op::Upsert, true).await;
    s.notifier().notify_one();
    let mut found = 0;
    for _ in 0..100 {
        found = s.search(&req(w.a, &r, "Wohngeld")).unwrap().total;
        if found == 1 {
            break;
        }
        tokio::time::sleep(every).await;
    }
    assert_eq!(found, 1, "the worker applied the change");
    // A second writer on the same directory succeeds only once the worker let go of its own.
    let other = w.service();
    let mut free = false;
    for _ in 0..100 {
        tokio::time::sleep(every).await;
        if other.delete_tenant(w.b).await.is_ok() {
            free = true;
            break;
        }
    }
    assert!(free, "the idle worker still holds the index writer");
    other.wait_merges().await.unwrap();
    stop_tx.send(true).unwrap();
    worker.await.unwrap();
}

/// The ids of the segments whose files are in the index directory; with `deletes`, only of
/// those with a file of deleted documents (`<id>.<opstamp>.del`).
fn segment_ids(dir: &std::path::Path, deletes: bool) -> std::collections::BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().into_string().unwrap();
            let (stem, _) = name.split_once('.')?;
            (stem.len() == 32
                && stem.chars().all(|c| c.is_ascii_hexdigit())
                && (!deletes || name.ends_with(".del")))
            .then(|| stem.to_string())
        })
        .collect()
}

/// A deleted document (an anonymised person) is unfindable at once, and its words leave the
/// files on disk in the worker's next quiet round: the segment that held it is rewritten
/// without it and its old files are removed; the other documents stay.
#[tokio::test]
async fn the_worker_purges_deleted_documents_from_the_files() {
    let w = world().await;
    let r = staff();
    let s = Arc::new(w.service());
    for id in 1..=3 {
        w.files
            .put(doc(w.a, id, &format!("Akte {id}"), "Wohngeld", &["staff"]));
        change(&w, w.a, id, Op::Upsert, true).await;
    }
    w.files
        .put(doc(w.a, 4, "Rahimi, Farid", "Unterkunft Nord", &["staff"]));
    change(&w, w.a, 4, Op::Upsert, true).await;
    s.apply_outbox(w.db()).await.unwrap();
    let dir = rathaus_search::index_dir(w.tdb.dir.path());

    w.files.remove(w.a, 4);
    change(&w, w.a, 4, Op::Delete, true).await;
    s.apply_outbox(w.db()).await.unwrap();
    assert_eq!(s.search(&req(w.a, &r, "Rahimi")).unwrap().total, 0);
    assert_eq!(
        s.status(w.db()).await.unwrap().deleted,
        1,
        "hidden, but still in the files"
    );
    let holding = segment_ids(&dir, true);
    assert_eq!(holding.len(), 1);

    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let every = std::time::Duration::from_millis(50);
    let worker = tokio::spawn(s.clone().run_worker(w.db().clone(), every, stop));
    let mut deleted = 1;
    for _ in 0..200 {
        tokio::time::sleep(every).await;
        deleted = s.status(w.db()).await.unwrap().deleted;
        if deleted == 0 {
            break;
        }
    }
    stop_tx.send(true).unwrap();
    worker.await.unwrap();
    assert_eq!(deleted, 0, "the worker purged the deleted document");
    let after = segment_ids(&dir, false);
    assert!(
        holding.is_disjoint(&after),
        "the files of the segment that held it remain: {holding:?} / {after:?}"
    );
    assert!(segment_ids(&dir, true).is_empty());
    assert_eq!(s.search(&req(w.a, &r, "Wohngeld")).unwrap().total, 3);
    assert_eq!(s.search(&req(w.a, &r, "Rahimi")).unwrap().total, 0);
}
