//! The search service: one index (a directory under the data dir) for every tenant and kind,
//! searched with the reader's tenant and visibility terms inside the query, and kept current
//! from the outbox.

use crate::analyzer::{self, GERMAN};
use crate::doc::{DocKind, DocSource};
use crate::facets::FacetCounts;
use crate::outbox::{self, Op};
use crate::schema::Fields;
use anyhow::{Context, bail};
use chrono::{DateTime, Duration, Utc};
use rathaus_core::TenantId;
use rathaus_store::Db;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use tantivy::collector::TopDocs;
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery, TermSetQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::TokenStream;
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// Longer queries are cut here (on a character boundary) before analysis.
pub const MAX_QUERY_CHARS: usize = 500;
/// At most this many words of a query are searched.
pub const MAX_QUERY_WORDS: usize = 16;
/// Page size limits.
pub const MAX_LIMIT: usize = 100;
pub const MAX_OFFSET: usize = 10_000;
/// The index writer's memory budget (two indexing threads share it).
pub const WRITER_MEMORY: usize = 64_000_000;
/// A query word in the title or tags adds this much weight to its match.
const HEAD_BOOST: f32 = 2.0;
/// Deleted documents are purged from the segment files at most this often (a purge
/// rewrites every segment that holds one).
pub const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
/// Outbox rows read per round.
const OUTBOX_BATCH: u64 = 500;
/// Documents loaded per batch in `reindex`.
const REINDEX_BATCH: u64 = 1_000;
/// An outbox id may be skipped for this long before the position moves past it: on
/// PostgreSQL a transaction that took a lower id can commit after one with a higher id.
const GAP_GRACE_SECS: i64 = 60;

/// The index and its writer, opened once per process (`serve` or a CLI command).
pub struct SearchService {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    writer: tokio::sync::Mutex<Option<IndexWriter>>,
    sources: HashMap<&'static str, Arc<dyn DocSource>>,
    /// The last outbox id this replica applied (also in the index's commit payload).
    applied: AtomicI64,
    notify: Arc<tokio::sync::Notify>,
    gap_grace: Duration,
    fresh: bool,
    /// A document was deleted (or a tenant removed) since the last purge: its words are
    /// unfindable but still in the segment files until they are rewritten.
    purge_pending: AtomicBool,
    last_purge: std::sync::Mutex<Option<std::time::Instant>>,
}

/// One search of one reader.
#[derive(Debug, Clone)]
pub struct SearchRequest<'a> {
    pub tenant: TenantId,
    /// The reader's visibility terms (`doc::visibility`): what they may open. Empty finds
    /// nothing.
    pub reader: &'a [String],
    /// The user's text, taken as plain words (no query syntax).
    pub text: &'a str,
    /// Only these kinds; empty means every kind.
    pub kinds: &'a [&'a str],
    pub limit: usize,
    pub offset: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Results {
    /// Hits in total (all pages) that the reader may open.
    pub total: usize,
    pub hits: Vec<Hit>,
    pub facets: Facets,
    /// The query was longer than `MAX_QUERY_CHARS` or had more than `MAX_QUERY_WORDS` words
    /// and was cut (the page may say so: `search.query_cut`).
    pub cut: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub kind: String,
    pub id: i64,
    /// The page the hit links to.
    pub url: String,
    /// The title, HTML-escaped, query words in `<b>…</b>`.
    pub title_html: String,
    /// A passage of the body, HTML-escaped, query words in `<b>…</b>`.
    pub snippet_html: String,
    pub date: Option<DateTime<Utc>>,
    pub department: Option<String>,
    pub score: f32,
}

/// Counts per value among all hits the reader may open, most frequent first (years: newest
/// first).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facets {
    pub kinds: Vec<(String, u64)>,
    pub departments: Vec<(String, u64)>,
    pub years: Vec<(i32, u64)>,
}

/// How current the index is.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    /// The last outbox id applied to this replica.
    pub applied: i64,
    /// Outbox rows not yet applied here, and when the oldest was written.
    pub pending: u64,
    pub oldest_pending: Option<DateTime<Utc>>,
    /// Documents in the index per kind (all tenants).
    pub counts: Vec<(String, u64)>,
    pub segments: usize,
    /// Deleted documents still in the segment files (gone after the next purge).
    pub deleted: u64,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    outbox: i64,
}

impl SearchService {
    /// Opens the index in `dir` (`<data_dir>/search`), creating it when missing. An index
    /// written with another schema (an older release) is replaced by an empty one: it is a
    /// cache of the modules' tables, and `fresh()` tells the caller to rebuild it.
    pub fn open(dir: &Path) -> anyhow::Result<SearchService> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the search index dir {}", dir.display()))?;
        let (schema, _) = Fields::schema();
        let mmap = MmapDirectory::open(dir).context("cannot open the search index")?;
        let existed = Index::exists(&mmap).unwrap_or(false);
        let index = match Index::open_or_create(mmap, schema.clone()) {
            Ok(i) => i,
            Err(tantivy::TantivyError::SchemaError(e)) => {
                tracing::warn!(error = %e, dir = %dir.display(), "search index has an old schema; starting an empty one");
                std::fs::remove_dir_all(dir)
                    .and_then(|_| std::fs::create_dir_all(dir))
                    .with_context(|| {
                        format!("cannot replace the search index in {}", dir.display())
                    })?;
                let mmap = MmapDirectory::open(dir).context("cannot open the search index")?;
                return Self::from_index(Index::create(mmap, schema, Default::default())?, true);
            }
            Err(e) => return Err(anyhow::Error::new(e).context("cannot open the search index")),
        };
        Self::from_index(index, !existed)
    }

    /// An index in memory (tests, and apps built without a data directory).
    pub fn in_memory() -> anyhow::Result<SearchService> {
        let (schema, _) = Fields::schema();
        let mut svc = Self::from_index(Index::create_in_ram(schema), true)?;
        svc.gap_grace = Duration::zero();
        Ok(svc)
    }

    fn from_index(mut index: Index, fresh: bool) -> anyhow::Result<SearchService> {
        index.tokenizers().register(GERMAN, analyzer::german());
        // Segments are searched on two threads: a query's latency halves on an idle machine.
        index
            .set_multithread_executor(2)
            .context("cannot start the search threads")?;
        let fields = Fields::from_schema(&index.schema())?;
        let applied = index
            .load_metas()?
            .payload
            .and_then(|p| serde_json::from_str::<Payload>(&p).ok())
            .map_or(0, |p| p.outbox);
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        // Deletions of an earlier process that were not purged yet are purged by this one.
        let purge_pending = index
            .searchable_segment_metas()?
            .iter()
            .any(|m| m.has_deletes());
        Ok(SearchService {
            index,
            reader,
            fields,
            writer: tokio::sync::Mutex::new(None),
            sources: HashMap::new(),
            applied: AtomicI64::new(applied),
            notify: Arc::new(tokio::sync::Notify::new()),
            gap_grace: Duration::seconds(GAP_GRACE_SECS),
            fresh,
            purge_pending: AtomicBool::new(purge_pending),
            last_purge: std::sync::Mutex::new(None),
        })
    }

    /// The index was created empty by this process (new, or replaced after a schema change):
    /// it should be rebuilt from the modules' tables.
    pub fn fresh(&self) -> bool {
        self.fresh
    }

    /// How long a gap in the outbox ids holds the position back (default 60 s). Longer than
    /// any write transaction; tests set 0 to accept gaps at once.
    pub fn set_gap_grace(&mut self, grace: Duration) {
        self.gap_grace = grace;
    }

    /// Registers a module's documents (before the service is shared).
    pub fn register(&mut self, source: Arc<dyn DocSource>) {
        self.sources.insert(source.kind().name, source);
    }

    /// The registered kinds.
    pub fn kinds(&self) -> Vec<DocKind> {
        let mut k: Vec<DocKind> = self.sources.values().map(|s| s.kind()).collect();
        k.sort_by_key(|k| k.name);
        k
    }

    /// Wakes `run_worker` (call it in `Tx::after_commit` after `outbox::enqueue`, for a
    /// change that should be found at once).
    pub fn notifier(&self) -> Arc<tokio::sync::Notify> {
        self.notify.clone()
    }

    /// The last outbox id this replica applied.
    pub fn applied(&self) -> i64 {
        self.applied.load(Ordering::SeqCst)
    }

    async fn writer(&self) -> anyhow::Result<tokio::sync::MutexGuard<'_, Option<IndexWriter>>> {
        let mut guard = self.writer.lock().await;
        if guard.is_none() {
            let w = self
                .index
                .writer_with_num_threads(2, WRITER_MEMORY)
                .context("the search index is in use by another process")?;
            *guard = Some(w);
        }
        Ok(guard)
    }

    fn commit(&self, w: &mut IndexWriter, position: i64) -> anyhow::Result<()> {
        let mut c = w.prepare_commit()?;
        c.set_payload(&serde_json::to_string(&Payload { outbox: position })?);
        c.commit()?;
        self.reader.reload()?;
        self.applied.store(position, Ordering::SeqCst);
        Ok(())
    }

    /// Applies pending outbox rows to the index until none is left; returns how many rows
    /// were applied. Safe to run again after a crash: a row is applied by loading the
    /// document's current state, so applying it twice changes nothing.
    pub async fn apply_outbox(&self, db: &Db) -> anyhow::Result<u64> {
        // Nothing to apply: no writer is opened (its threads and memory cost an idle server).
        if outbox::after(db, self.applied(), 1).await?.is_empty() {
            return Ok(0);
        }
        let mut guard = self.writer().await?;
        let Some(w) = guard.as_mut() else {
            bail!("no index writer");
        };
        let mut total = 0;
        loop {
            let from = self.applied();
            let rows = outbox::after(db, from, OUTBOX_BATCH).await?;
            if rows.is_empty() {
                break;
            }
            // The position moves up to the first gap in the ids that is younger than the
            // grace time; rows after it are applied now and again later.
            let now = Utc::now();
            let mut safe = from;
            let mut gap = false;
            for r in &rows {
                if r.id != safe + 1 && now - r.created_at < self.gap_grace {
                    gap = true;
                    break;
                }
                safe = r.id;
            }
            let mut by_kind: BTreeMap<(i64, &str), (Vec<i64>, bool)> = BTreeMap::new();
            for r in &rows {
                let e = by_kind.entry((r.tenant_id, r.kind.as_str())).or_default();
                if !e.0.contains(&r.doc_id) {
                    e.0.push(r.doc_id);
                }
                e.1 |= r.op == Op::Delete.as_str();
            }
            for ((tenant, kind), (ids, deletes)) in &by_kind {
                if *deletes {
                    self.purge_pending.store(true, Ordering::SeqCst);
                }
                let tenant = TenantId(*tenant);
                for id in ids {
                    w.delete_term(self.fields.key_term(tenant, kind, *id));
                }
                let Some(source) = self.sources.get(kind) else {
                    tracing::warn!(kind, "search outbox: no source for this kind; deleted only");
                    continue;
                };
                let k = source.kind();
                for d in source.load(db, tenant, ids).await? {
                    if d.tenant == tenant && ids.contains(&d.id) {
                        w.add_document(self.fields.document(&k, &d))?;
                    }
                }
            }
            self.commit(w, safe)?;
            outbox::mark_applied(db, from, safe).await?;
            total += rows.len() as u64;
            if gap || (rows.len() as u64) < OUTBOX_BATCH {
                break;
            }
        }
        Ok(total)
    }

    /// Applies the outbox whenever notified, and at least every `every`, until `stop` is
    /// set; the writer is closed after a round of `every` without notification. Errors are
    /// logged and retried in the next round.
    pub async fn run_worker(
        self: Arc<Self>,
        db: Db,
        every: std::time::Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        loop {
            if let Err(e) = self.apply_outbox(&db).await {
                tracing::error!(error = %format!("{e:#}"), "search outbox");
            }
            tokio::select! {
                _ = self.notify.notified() => {}
                // A quiet round: the writer is closed until the next change, so an idle
                // server holds neither its indexing and merge threads nor their memory.
                _ = tokio::time::sleep(every) => {
                    if self.purge_due() {
                        match self.purge_deleted().await {
                            Ok(n) => tracing::info!(segments = n, "search index: deleted documents purged"),
                            Err(e) => tracing::error!(error = %format!("{e:#}"), "purging the search index"),
                        }
                    }
                    if let Err(e) = self.wait_merges().await {
                        tracing::error!(error = %format!("{e:#}"), "closing the search index writer");
                    }
                }
                _ = stop.changed() => return,
            }
            if *stop.borrow() {
                return;
            }
        }
    }

    /// Rebuilds the documents of one tenant or all, of one kind or all, from the modules'
    /// tables, in batches (memory stays bounded by the batch and the writer's budget).
    /// `progress` gets the number of documents indexed so far. Searches see the old
    /// documents until the rebuild is committed.
    pub async fn reindex(
        &self,
        db: &Db,
        tenant: Option<TenantId>,
        kind: Option<&str>,
        progress: impl Fn(u64),
    ) -> anyhow::Result<u64> {
        let sources: Vec<&Arc<dyn DocSource>> = match kind {
            Some(k) => vec![
                self.sources
                    .get(k)
                    .with_context(|| format!("unknown search kind {k}"))?,
            ],
            None => {
                let mut s: Vec<_> = self.sources.values().collect();
                s.sort_by_key(|s| s.kind().name);
                s
            }
        };
        let tenants = match tenant {
            Some(t) => vec![t],
            None => rathaus_store::tenants::list(&db.conn)
                .await?
                .into_iter()
                .map(|(t, _)| TenantId(t.id))
                .collect(),
        };
        // A full rebuild covers every outbox row older than the grace time; later rows are
        // applied again by the worker (harmless). A partial one leaves the position alone.
        let position = if tenant.is_none() && kind.is_none() {
            let covered = outbox::max_id_before(db, Utc::now() - self.gap_grace).await?;
            covered.max(self.applied())
        } else {
            self.applied()
        };
        let mut guard = self.writer().await?;
        let Some(w) = guard.as_mut() else {
            bail!("no index writer");
        };
        let mut scope: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(t) = tenant {
            scope.push((Occur::Must, term_query(self.fields.tenant_term(t))));
        }
        if let Some(k) = kind {
            scope.push((Occur::Must, term_query(self.fields.kind_term(k))));
        }
        if scope.is_empty() {
            w.delete_all_documents()?;
        } else {
            w.delete_query(Box::new(BooleanQuery::new(scope)))?;
        }
        let mut n = 0u64;
        for t in tenants {
            for s in &sources {
                let k = s.kind();
                let mut after = 0;
                loop {
                    let batch = s.load_batch(db, t, after, REINDEX_BATCH).await?;
                    let Some(last) = batch.last() else { break };
                    after = last.id;
                    for d in &batch {
                        if d.tenant == t {
                            w.add_document(self.fields.document(&k, d))?;
                            n += 1;
                        }
                    }
                    progress(n);
                    if (batch.len() as u64) < REINDEX_BATCH {
                        break;
                    }
                }
            }
        }
        self.commit(w, position)?;
        Ok(n)
    }

    /// Waits until the index writer's background merges are done and closes the writer (the
    /// next write opens it again). Call it before a CLI process that wrote the index exits:
    /// merges still running at exit are lost, and the index keeps more, smaller segments.
    pub async fn wait_merges(&self) -> anyhow::Result<()> {
        let mut guard = self.writer.lock().await;
        if let Some(w) = guard.take() {
            tokio::task::spawn_blocking(move || w.wait_merging_threads()).await??;
            self.reader.reload()?;
        }
        Ok(())
    }

    /// Removes every document of a tenant (after the tenant was deleted).
    pub async fn delete_tenant(&self, tenant: TenantId) -> anyhow::Result<()> {
        let mut guard = self.writer().await?;
        let Some(w) = guard.as_mut() else {
            bail!("no index writer");
        };
        w.delete_term(self.fields.tenant_term(tenant));
        let position = self.applied();
        self.commit(w, position)?;
        self.purge_pending.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// A purge is pending and the last one is at least `PURGE_EVERY` ago (or none ran yet).
    fn purge_due(&self) -> bool {
        self.purge_pending.load(Ordering::SeqCst)
            && self
                .last_purge
                .lock()
                .map(|l| l.is_none_or(|t| t.elapsed() >= PURGE_EVERY))
                .unwrap_or(true)
    }

    /// Rewrites every segment that holds deleted documents, so that a deleted person's name
    /// or page text leaves the files on disk and not only the results (issue 12: personal
    /// data is erased, not hidden). The run worker calls it in a quiet round, at most every
    /// `PURGE_EVERY`; returns how many segments were rewritten.
    pub async fn purge_deleted(&self) -> anyhow::Result<usize> {
        // A segment is in one merge at a time: the merges the policy started end first.
        self.wait_merges().await?;
        let mut guard = self.writer().await?;
        let Some(w) = guard.as_mut() else {
            bail!("no index writer");
        };
        // Cleared before the segments are read: a deletion applied after this sets it again.
        self.purge_pending.store(false, Ordering::SeqCst);
        let ids: Vec<tantivy::index::SegmentId> = self
            .index
            .searchable_segment_metas()?
            .iter()
            .filter(|m| m.has_deletes())
            .map(|m| m.id())
            .collect();
        if !ids.is_empty() {
            let merged = async {
                w.merge(&ids).await?;
                self.reader.reload()?;
                w.garbage_collect_files().await?;
                anyhow::Ok(())
            }
            .await;
            if let Err(e) = merged {
                self.purge_pending.store(true, Ordering::SeqCst);
                return Err(e.context("cannot purge deleted documents from the search index"));
            }
        }
        if let Ok(mut last) = self.last_purge.lock() {
            *last = Some(std::time::Instant::now());
        }
        Ok(ids.len())
    }

    /// The replica's position, the outbox rows still to apply, and documents per kind.
    pub async fn status(&self, db: &Db) -> anyhow::Result<Status> {
        let applied = self.applied();
        let (pending, oldest_pending) = outbox::pending(db, applied).await?;
        let searcher = self.reader.searcher();
        let mut counts: Vec<(String, u64)> = searcher
            .search(&AllQuery, &FacetCounts)?
            .kinds
            .into_iter()
            .collect();
        counts.sort();
        Ok(Status {
            applied,
            pending,
            oldest_pending,
            counts,
            segments: searcher.segment_readers().len(),
            deleted: searcher
                .segment_readers()
                .iter()
                .map(|r| u64::from(r.num_deleted_docs()))
                .sum(),
        })
    }

    /// Searches one tenant as one reader: every word of the query must match (title, tags or
    /// body); BM25 ranks, and a match in the title or tags adds to it. The tenant, the
    /// reader's terms and the kinds are clauses of the same query, so counts, facets and
    /// snippets only see what the reader may open. Never fails on the user's text: it is cut,
    /// split into words and stripped of anything but letters and digits.
    pub fn search(&self, req: &SearchRequest<'_>) -> anyhow::Result<Results> {
        let (text, mut cut) = cut_chars(req.text, MAX_QUERY_CHARS);
        let mut a = analyzer::german();
        let mut words = analyzer::words(&mut a, text);
        if words.len() > MAX_QUERY_WORDS {
            words.truncate(MAX_QUERY_WORDS);
            cut = true;
        }
        if words.is_empty() || req.reader.is_empty() {
            return Ok(Results {
                cut,
                ..Results::default()
            });
        }
        let f = self.fields;
        let text_term = |t: &str| term_query(Term::from_field_text(f.text, t));
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for w in &words {
            let whole = text_term(&w.term);
            let q: Box<dyn Query> = if w.parts.is_empty() {
                whole
            } else {
                // A compound matches itself or all of its parts ("Wohngeldantrag" finds
                // "Antrag auf Wohngeld").
                let parts = BooleanQuery::new(
                    w.parts
                        .iter()
                        .map(|p| (Occur::Must, text_term(p)))
                        .collect(),
                );
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, whole),
                    (Occur::Should, Box::new(parts)),
                ]))
            };
            clauses.push((Occur::Must, q));
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    term_query(Term::from_field_text(f.head, &w.term)),
                    HEAD_BOOST,
                )),
            ));
        }
        let reader_terms: Vec<Term> = req.reader.iter().map(|t| f.visible_term(t)).collect();
        let kind_terms: Vec<Term> = req.kinds.iter().map(|k| f.kind_term(k)).collect();
        let mut filter: Vec<(Occur, Box<dyn Query>)> = vec![
            (Occur::Must, filter_query(vec![f.tenant_term(req.tenant)])),
            (Occur::Must, filter_query(reader_terms)),
        ];
        if !kind_terms.is_empty() {
            filter.push((Occur::Must, filter_query(kind_terms)));
        }
        clauses.push((
            Occur::Must,
            Box::new(ConstScoreQuery::new(
                Box::new(BooleanQuery::new(filter)),
                0.0,
            )),
        ));
        let query = BooleanQuery::new(clauses);

        let searcher = self.reader.searcher();
        let limit = req.limit.clamp(1, MAX_LIMIT);
        let offset = req.offset.min(MAX_OFFSET);
        let top = TopDocs::with_limit(limit)
            .and_offset(offset)
            .order_by_score();
        let (top, counts) = searcher.search(&query, &(top, FacetCounts))?;

        let query_terms: HashSet<&str> = words
            .iter()
            .flat_map(|w| std::iter::once(&w.term).chain(&w.parts))
            .map(String::as_str)
            .collect();
        let mut weights = BTreeMap::new();
        for t in &query_terms {
            let df = searcher.doc_freq(&Term::from_field_text(f.text, t))?;
            weights.insert(t.to_string(), 1.0 / (1.0 + df as f32));
        }
        let body_gen = SnippetGenerator::new(weights, analyzer::german(), f.body, 240);
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let text_of = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let title = text_of(f.title);
            let body = text_of(f.body);
            let title_html = mark(&mut a, &title, &query_terms);
            let snippet_html = {
                let s = body_gen.snippet(&body);
                if s.is_empty() {
                    escape(cut_chars(&body, 240).0)
                } else {
                    highlight(&s)
                }
            };
            hits.push(Hit {
                kind: text_of(f.kind),
                id: doc
                    .get_first(f.id)
                    .and_then(|v| v.as_i64())
                    .unwrap_or_default(),
                url: text_of(f.url),
                title_html,
                snippet_html,
                date: doc
                    .get_first(f.date)
                    .and_then(|v| v.as_datetime())
                    .and_then(|d| DateTime::from_timestamp(d.into_timestamp_secs(), 0)),
                department: doc
                    .get_first(f.department)
                    .and_then(|v| v.as_str())
                    .map(str::to_string),
                score,
            });
        }
        let by_count = |m: HashMap<String, u64>| {
            let mut v: Vec<(String, u64)> = m.into_iter().collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v
        };
        let mut years: Vec<(i32, u64)> = counts.years.into_iter().collect();
        years.sort_by_key(|y| std::cmp::Reverse(y.0));
        Ok(Results {
            total: usize::try_from(counts.total).unwrap_or(usize::MAX),
            hits,
            facets: Facets {
                kinds: by_count(counts.kinds),
                departments: by_count(counts.departments),
                years,
            },
            cut,
        })
    }
}

/// A filter clause: one term, or any of a few terms (a lazy union of their postings), or of
/// many (a term set).
fn filter_query(mut terms: Vec<Term>) -> Box<dyn Query> {
    if terms.len() == 1
        && let Some(t) = terms.pop()
    {
        return Box::new(TermQuery::new(t, IndexRecordOption::Basic));
    }
    if terms.len() <= 16 {
        return Box::new(BooleanQuery::new(
            terms
                .into_iter()
                .map(|t| -> (Occur, Box<dyn Query>) {
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(t, IndexRecordOption::Basic)),
                    )
                })
                .collect(),
        ));
    }
    Box::new(TermSetQuery::new(terms))
}

fn term_query(t: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs))
}

/// The first `max` characters of `s`, and whether it was longer.
fn cut_chars(s: &str, max: usize) -> (&str, bool) {
    match s.char_indices().nth(max) {
        Some((i, _)) => (&s[..i], true),
        None => (s, false),
    }
}

/// The snippet as HTML: the text escaped, the query words in `<b>…</b>`.
fn highlight(s: &tantivy::snippet::Snippet) -> String {
    let text = s.fragment();
    let mut ranges: Vec<std::ops::Range<usize>> = s.highlighted().to_vec();
    ranges.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(text.len() + 16);
    let mut at = 0;
    for r in ranges {
        let start = r.start.max(at);
        if start >= r.end || r.end > text.len() {
            continue;
        }
        let (Some(before), Some(word)) = (text.get(at..start), text.get(start..r.end)) else {
            continue;
        };
        out.push_str(&escape(before));
        out.push_str("<b>");
        out.push_str(&escape(word));
        out.push_str("</b>");
        at = r.end;
    }
    out.push_str(&escape(text.get(at..).unwrap_or_default()));
    out
}

/// The whole text as HTML, escaped, with the words whose terms the query has in `<b>…</b>`
/// (a compound is marked when one of its parts matched).
fn mark(a: &mut tantivy::tokenizer::TextAnalyzer, text: &str, terms: &HashSet<&str>) -> String {
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    let mut stream = a.token_stream(text);
    while let Some(t) = stream.next() {
        if terms.contains(t.text.as_str()) && ranges.last().is_none_or(|r| r.start != t.offset_from)
        {
            ranges.push(t.offset_from..t.offset_to);
        }
    }
    drop(stream);
    let mut out = String::with_capacity(text.len() + 16);
    let mut at = 0;
    for r in ranges {
        let (Some(before), Some(word)) = (text.get(at..r.start), text.get(r.start..r.end)) else {
            continue;
        };
        out.push_str(&escape(before));
        out.push_str("<b>");
        out.push_str(&escape(word));
        out.push_str("</b>");
        at = r.end;
    }
    out.push_str(&escape(text.get(at..).unwrap_or_default()));
    out
}

/// HTML-escapes text for element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
