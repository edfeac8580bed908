//! The index's fields: one index for every tenant and kind.

use crate::analyzer::GERMAN;
use crate::doc::{Doc, DocField, DocKind};
use rathaus_core::TenantId;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{DateTime, TantivyDocument, Term};

#[derive(Clone, Copy)]
pub(crate) struct Fields {
    /// `tenant/kind/id`, to replace or delete one document.
    pub key: Field,
    pub tenant: Field,
    pub kind: Field,
    pub id: Field,
    /// Title, tags and body, analyzed: every query word must match here.
    pub text: Field,
    /// Title and tags, analyzed: a match here adds to the score.
    pub head: Field,
    /// Stored only (shown, highlighted).
    pub title: Field,
    /// Stored only: where a hit links to.
    pub url: Field,
    pub body: Field,
    pub tags: Field,
    pub date: Field,
    /// Stored and a fast field (facet).
    pub department: Field,
    /// The year in Europe/Berlin (fast field, facet).
    pub year: Field,
    /// The visibility terms (`perm:records.read`, `dept:3`, `user:7`, `staff`).
    pub visible: Field,
}

impl Fields {
    pub fn schema() -> (Schema, Fields) {
        let mut b = Schema::builder();
        let analyzed = TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(GERMAN)
                .set_index_option(IndexRecordOption::WithFreqs),
        );
        let fields = Fields {
            key: b.add_text_field("key", STRING),
            tenant: b.add_text_field("tenant", STRING),
            kind: b.add_text_field("kind", STRING | STORED | FAST),
            id: b.add_i64_field("id", STORED | INDEXED),
            text: b.add_text_field("text", analyzed.clone()),
            head: b.add_text_field("head", analyzed),
            title: b.add_text_field("title", STORED),
            url: b.add_text_field("url", STORED),
            body: b.add_text_field("body", STORED),
            tags: b.add_text_field("tags", STORED),
            date: b.add_date_field("date", STORED),
            department: b.add_text_field("department", STRING | STORED | FAST),
            year: b.add_u64_field("year", FAST),
            visible: b.add_text_field("visible", STRING),
        };
        (b.build(), fields)
    }

    pub fn from_schema(schema: &Schema) -> tantivy::Result<Fields> {
        let f = |name: &str| schema.get_field(name);
        Ok(Fields {
            key: f("key")?,
            tenant: f("tenant")?,
            kind: f("kind")?,
            id: f("id")?,
            text: f("text")?,
            head: f("head")?,
            title: f("title")?,
            url: f("url")?,
            body: f("body")?,
            tags: f("tags")?,
            date: f("date")?,
            department: f("department")?,
            year: f("year")?,
            visible: f("visible")?,
        })
    }

    pub fn key_term(&self, tenant: TenantId, kind: &str, id: i64) -> Term {
        Term::from_field_text(self.key, &key(tenant, kind, id))
    }

    pub fn tenant_term(&self, tenant: TenantId) -> Term {
        Term::from_field_text(self.tenant, &tenant.0.to_string())
    }

    pub fn kind_term(&self, kind: &str) -> Term {
        Term::from_field_text(self.kind, kind)
    }

    pub fn visible_term(&self, term: &str) -> Term {
        Term::from_field_text(self.visible, term)
    }

    /// The index document of `doc`, with only the fields its kind declares.
    pub fn document(&self, kind: &DocKind, doc: &Doc) -> TantivyDocument {
        let mut d = TantivyDocument::default();
        d.add_text(self.key, key(doc.tenant, kind.name, doc.id));
        d.add_text(self.tenant, doc.tenant.0.to_string());
        d.add_text(self.kind, kind.name);
        d.add_i64(self.id, doc.id);
        d.add_text(self.url, &doc.url);
        if kind.has(DocField::Title) {
            d.add_text(self.title, &doc.title);
            d.add_text(self.head, &doc.title);
            d.add_text(self.text, &doc.title);
        }
        if kind.has(DocField::Tags) {
            for t in &doc.tags {
                d.add_text(self.tags, t);
                d.add_text(self.head, t);
                d.add_text(self.text, t);
            }
        }
        if kind.has(DocField::Body) {
            d.add_text(self.body, &doc.body);
            d.add_text(self.text, &doc.body);
        }
        if kind.has(DocField::Date)
            && let Some(date) = doc.date
        {
            d.add_date(self.date, DateTime::from_timestamp_secs(date.timestamp()));
            // Years are counted in the municipality's time zone (New Year's Eve, 23:30 local
            // time, belongs to the old year).
            let year = chrono::Datelike::year(&date.with_timezone(&chrono_tz::Europe::Berlin));
            d.add_u64(self.year, u64::try_from(year).unwrap_or_default());
        }
        if kind.has(DocField::Department)
            && let Some(dep) = doc.department.as_deref().filter(|d| !d.is_empty())
        {
            d.add_text(self.department, dep);
        }
        for v in &doc.visible_to {
            d.add_text(self.visible, v);
        }
        d
    }
}

fn key(tenant: TenantId, kind: &str, id: i64) -> String {
    format!("{}/{kind}/{id}", tenant.0)
}
