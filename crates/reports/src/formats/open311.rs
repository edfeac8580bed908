//! Open311 GeoReport v2 (wiki.open311.org/GeoReport_v2): the documents served under
//! `/open311/v2` in JSON and XML, and the parsing of request parameters. Pure: no database,
//! no HTTP. Lookups that need stored data (api_key validity, unknown service_code, tenant
//! jurisdiction) happen in later layers, which build their errors with the constructors on
//! [`Open311Error`].
//!
//! Output conventions (one choice, applied to every document):
//! - JSON lists are top-level arrays (the spec's examples); single documents
//!   (service definition, discovery) are objects.
//! - Absent optional fields are `null` in JSON (as in the spec's `GET requests` example, so
//!   clients see a stable set of keys) and empty elements (`<address/>`) in XML.
//! - Dates are ISO 8601 with offset, in Europe/Berlin local time (`+01:00` / `+02:00`).
//! - XML starts with `<?xml version="1.0" encoding="UTF-8"?>`, text is escaped
//!   (`& < > " '`), and characters XML 1.0 forbids are dropped so the answer stays well-formed
//!   whatever was stored.
//! - Error descriptions are German text that names the parameter concerned.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Europe::Berlin;
use serde_json::{Value, json};

/// Longest description accepted (issue 3).
pub const MAX_DESCRIPTION_CHARS: usize = 4_000;
/// Most results per answer, and most ids per query (spec: "first 1000 requests").
pub const MAX_RESULTS: u32 = 1_000;
/// Default window of `GET requests` without dates or ids (spec: 90 days).
pub const DEFAULT_WINDOW_DAYS: i64 = 90;

// ---------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------

/// One entry of the spec's error list (`<errors><error><code/><description/></error>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Open311Error {
    /// HTTP-like status: 400, 403 or 404.
    pub code: u16,
    pub description: String,
}

/// A message inside a description, written as `{{key|arg}}` and filled in with the
/// reader's texts by [`Open311Error::translate`], so the parsers hold no texts.
pub fn msg(key: &str, arg: impl std::fmt::Display) -> String {
    format!("{{{{{key}|{arg}}}}}")
}

impl Open311Error {
    /// Replaces every [`msg`] of the description with `t(key, arg)`.
    pub fn translate(mut self, t: impl Fn(&str, &str) -> String) -> Self {
        let mut from = 0;
        while let Some(a) = self.description[from..].find("{{").map(|a| a + from) {
            let Some(b) = self.description[a..].find("}}").map(|b| b + a) else {
                break;
            };
            let inner = &self.description[a + 2..b];
            let (key, arg) = inner.split_once('|').unwrap_or((inner, ""));
            let text = t(key, arg);
            self.description.replace_range(a..b + 2, &text);
            // Continue after the text: an argument echoed from input is not read again.
            from = a + text.len();
        }
        self
    }

    pub fn bad_request(description: impl Into<String>) -> Self {
        Self {
            code: 400,
            description: description.into(),
        }
    }

    /// Missing api_key (parsing) or one unknown/revoked (lookup in a later layer).
    pub fn invalid_api_key() -> Self {
        Self {
            code: 403,
            description: format!("api_key: {}", msg("open311.msg.api_key_invalid", "")),
        }
    }

    pub fn unknown_service_code(code: &str) -> Self {
        Self {
            code: 404,
            description: format!("service_code: {}", msg("open311.msg.unknown_service", code)),
        }
    }

    pub fn unknown_request(id: &str) -> Self {
        Self {
            code: 404,
            description: format!(
                "service_request_id: {}",
                msg("open311.msg.unknown_request", id)
            ),
        }
    }

    pub fn unknown_token(token: &str) -> Self {
        Self {
            code: 404,
            description: format!("token: {}", msg("open311.msg.unknown_token", token)),
        }
    }
}

/// The HTTP status for an error list: the most decisive one (403 before 404 before 400).
pub fn http_status(errors: &[Open311Error]) -> u16 {
    [403, 404, 400]
        .into_iter()
        .find(|c| errors.iter().any(|e| e.code == *c))
        .or_else(|| errors.first().map(|e| e.code))
        .unwrap_or(400)
}

// ---------------------------------------------------------------------------------------
// Document model
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceType {
    Realtime,
    Batch,
    Blackbox,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Realtime => "realtime",
            Self::Batch => "batch",
            Self::Blackbox => "blackbox",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub service_code: String,
    pub service_name: String,
    pub description: Option<String>,
    /// Whether a service definition with attributes exists (`services/{code}`).
    pub metadata: bool,
    pub service_type: ServiceType,
    /// Comma-separated in the output, as the spec shows.
    pub keywords: Vec<String>,
    pub group: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Datatype {
    String,
    Number,
    Datetime,
    Text,
    SingleValueList,
    MultiValueList,
}

impl Datatype {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Datetime => "datetime",
            Self::Text => "text",
            Self::SingleValueList => "singlevaluelist",
            Self::MultiValueList => "multivaluelist",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeValueOption {
    pub key: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    /// false: informational only, the client asks nothing.
    pub variable: bool,
    pub code: String,
    pub datatype: Datatype,
    pub required: bool,
    pub datatype_description: Option<String>,
    pub order: u32,
    pub description: String,
    /// Only for the two list datatypes.
    pub values: Vec<AttributeValueOption>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceDefinition {
    pub service_code: String,
    pub attributes: Vec<Attribute>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Open,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Closed => "closed",
        }
    }
}

/// A public service request. Holds no personal data by construction: the reporter's
/// name, e-mail and phone have no field here.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRequest {
    pub service_request_id: String,
    pub status: Status,
    pub status_notes: Option<String>,
    pub service_name: Option<String>,
    pub service_code: String,
    pub description: Option<String>,
    pub agency_responsible: Option<String>,
    pub service_notice: Option<String>,
    pub requested_datetime: DateTime<Utc>,
    pub updated_datetime: Option<DateTime<Utc>>,
    pub expected_datetime: Option<DateTime<Utc>>,
    pub address: Option<String>,
    pub address_id: Option<String>,
    pub zipcode: Option<String>,
    pub lat: Option<f64>,
    pub long: Option<f64>,
    pub media_url: Option<String>,
    /// Only with `extensions=true` (an extension of the spec, as FixMyStreet and Mark-a-Spot
    /// have): JSON `extended_attributes` object, XML `<extended_attributes>` element.
    pub extended_attributes: Option<ExtendedAttributes>,
}

/// Extended attributes of a request (`extensions=true`). Public data only.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExtendedAttributes {
    /// The reference number (`M-2026-000123`), the same as `service_request_id`.
    pub reference: String,
    /// The detailed workflow status (`new`, `confirmed`, `in_progress`, …).
    pub detailed_status: String,
    /// Its German name.
    pub detailed_status_name: String,
    /// The category group (`Straße und Verkehr`).
    pub group: Option<String>,
    /// Absolute URLs of all public photos.
    pub media_urls: Vec<String>,
    /// Reference number of the original when this is a duplicate.
    pub duplicate_of: Option<String>,
}

impl ExtendedAttributes {
    fn to_json(&self) -> Value {
        json!({
            "reference": self.reference,
            "detailed_status": self.detailed_status,
            "detailed_status_name": self.detailed_status_name,
            "group": self.group,
            "media_urls": self.media_urls,
            "duplicate_of": self.duplicate_of,
        })
    }

    fn write_xml(&self, w: &mut XmlWriter) {
        w.open("extended_attributes");
        w.leaf("reference", &self.reference);
        w.leaf("detailed_status", &self.detailed_status);
        w.leaf("detailed_status_name", &self.detailed_status_name);
        w.opt("group", self.group.as_deref());
        if self.media_urls.is_empty() {
            w.leaf("media_urls", "");
        } else {
            w.open("media_urls");
            for u in &self.media_urls {
                w.leaf("media_url", u);
            }
            w.close("media_urls");
        }
        w.opt("duplicate_of", self.duplicate_of.as_deref());
        w.close("extended_attributes");
    }
}

/// One entry of the FixMyStreet-style `servicerequestupdates` feed (an extension): a public
/// reply or status change of a published request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestUpdate {
    pub update_id: String,
    pub service_request_id: String,
    /// FixMyStreet's status words: OPEN, INVESTIGATING, IN_PROGRESS, ACTION_SCHEDULED, FIXED,
    /// NOT_COUNCILS_RESPONSIBILITY, CLOSED, DUPLICATE.
    pub status: String,
    /// Our own status code (`in_progress`), as FixMyStreet's `external_status_code`.
    pub external_status_code: String,
    pub updated_datetime: DateTime<Utc>,
    pub description: String,
    pub media_url: Option<String>,
}

impl Open311Document for [RequestUpdate] {
    fn to_json(&self) -> String {
        Value::Array(
            self.iter()
                .map(|u| {
                    json!({
                        "update_id": u.update_id,
                        "service_request_id": u.service_request_id,
                        "status": u.status,
                        "external_status_code": u.external_status_code,
                        "updated_datetime": format_datetime(&u.updated_datetime),
                        "description": u.description,
                        "media_url": u.media_url,
                    })
                })
                .collect(),
        )
        .to_string()
    }

    fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("service_request_updates");
        for u in self {
            w.open("request_update");
            w.leaf("update_id", &u.update_id);
            w.leaf("service_request_id", &u.service_request_id);
            w.leaf("status", &u.status);
            w.leaf("external_status_code", &u.external_status_code);
            w.opt_dt("updated_datetime", Some(&u.updated_datetime));
            w.leaf("description", &u.description);
            w.opt("media_url", u.media_url.as_deref());
            w.close("request_update");
        }
        w.close("service_request_updates");
        w.finish()
    }
}

/// What `POST requests` identifies the new request by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PostId {
    /// Created and public at once.
    ServiceRequestId(String),
    /// Held back (moderation); the client polls `tokens/{token}`.
    Token(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostResponse {
    pub id: PostId,
    pub service_notice: Option<String>,
    pub account_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenResponse {
    pub token: String,
    /// None while moderation still holds the request.
    pub service_request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub specification: String,
    pub url: String,
    pub changeset: DateTime<Utc>,
    /// "production" or "test".
    pub endpoint_type: String,
    /// MIME types, e.g. "text/xml", "application/json".
    pub formats: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovery {
    pub changeset: DateTime<Utc>,
    pub contact: String,
    pub key_service: String,
    pub endpoints: Vec<Endpoint>,
}

// ---------------------------------------------------------------------------------------
// Formats
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json; charset=utf-8",
            Self::Xml => "text/xml; charset=utf-8",
        }
    }
}

/// Splits the format suffix off a resource path: "services.json" → ("services", Json),
/// "requests/123.xml" → ("requests/123", Xml). The spec puts the format in the path, so a
/// missing or unknown suffix is a 400.
pub fn parse_format(path_tail: &str) -> Result<(&str, Format), Open311Error> {
    let Some((name, ext)) = path_tail.rsplit_once('.') else {
        return Err(Open311Error::bad_request(format!(
            "format: {}",
            msg("open311.msg.format_missing", "")
        )));
    };
    let format = if ext.eq_ignore_ascii_case("json") {
        Format::Json
    } else if ext.eq_ignore_ascii_case("xml") {
        Format::Xml
    } else {
        return Err(Open311Error::bad_request(format!(
            "format: {}",
            msg("open311.msg.format_unsupported", "")
        )));
    };
    if name.is_empty() {
        return Err(Open311Error::bad_request(format!(
            "format: {}",
            msg("open311.msg.resource_missing", "")
        )));
    }
    Ok((name, format))
}

/// A document the API answers with, in both formats.
pub trait Open311Document {
    fn to_json(&self) -> String;
    fn to_xml(&self) -> String;

    fn render(&self, format: Format) -> String {
        match format {
            Format::Json => self.to_json(),
            Format::Xml => self.to_xml(),
        }
    }
}

/// ISO 8601 with offset in Europe/Berlin, e.g. `2026-07-01T14:30:00+02:00`.
pub fn format_datetime(dt: &DateTime<Utc>) -> String {
    dt.with_timezone(&Berlin)
        .format("%Y-%m-%dT%H:%M:%S%:z")
        .to_string()
}

fn json_dt(dt: Option<&DateTime<Utc>>) -> Value {
    dt.map_or(Value::Null, |d| Value::String(format_datetime(d)))
}

/// Escapes text for XML element content and attributes; drops characters XML 1.0 forbids
/// (control characters other than tab/newline/CR, U+FFFE, U+FFFF).
pub fn escape_xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// Minimal writer: the documents are flat and fixed, so a builder is all we need.
struct XmlWriter {
    out: String,
}

impl XmlWriter {
    fn new() -> Self {
        Self {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        }
    }

    fn open(&mut self, tag: &str) {
        let _ = write!(self.out, "<{tag}>");
    }

    fn close(&mut self, tag: &str) {
        let _ = write!(self.out, "</{tag}>");
    }

    fn leaf(&mut self, tag: &str, text: &str) {
        if text.is_empty() {
            let _ = write!(self.out, "<{tag}/>");
        } else {
            let _ = write!(self.out, "<{tag}>{}</{tag}>", escape_xml(text));
        }
    }

    fn opt(&mut self, tag: &str, text: Option<&str>) {
        self.leaf(tag, text.unwrap_or(""));
    }

    fn opt_dt(&mut self, tag: &str, dt: Option<&DateTime<Utc>>) {
        let text = dt.map(format_datetime);
        self.opt(tag, text.as_deref());
    }

    fn opt_num(&mut self, tag: &str, n: Option<f64>) {
        let text = n.filter(|v| v.is_finite()).map(|v| v.to_string());
        self.opt(tag, text.as_deref());
    }

    fn bool(&mut self, tag: &str, b: bool) {
        self.leaf(tag, if b { "true" } else { "false" });
    }

    fn finish(self) -> String {
        self.out
    }
}

impl Open311Document for [Service] {
    fn to_json(&self) -> String {
        Value::Array(
            self.iter()
                .map(|s| {
                    json!({
                        "service_code": s.service_code,
                        "service_name": s.service_name,
                        "description": s.description,
                        "metadata": s.metadata,
                        "type": s.service_type.as_str(),
                        "keywords": keywords(&s.keywords),
                        "group": s.group,
                    })
                })
                .collect(),
        )
        .to_string()
    }

    fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("services");
        for s in self {
            w.open("service");
            w.leaf("service_code", &s.service_code);
            w.leaf("service_name", &s.service_name);
            w.opt("description", s.description.as_deref());
            w.bool("metadata", s.metadata);
            w.leaf("type", s.service_type.as_str());
            w.opt("keywords", keywords(&s.keywords).as_deref());
            w.opt("group", s.group.as_deref());
            w.close("service");
        }
        w.close("services");
        w.finish()
    }
}

fn keywords(list: &[String]) -> Option<String> {
    (!list.is_empty()).then(|| list.join(", "))
}

impl Open311Document for ServiceDefinition {
    fn to_json(&self) -> String {
        let attributes: Vec<Value> = self
            .attributes
            .iter()
            .map(|a| {
                json!({
                    "variable": a.variable,
                    "code": a.code,
                    "datatype": a.datatype.as_str(),
                    "required": a.required,
                    "datatype_description": a.datatype_description,
                    "order": a.order,
                    "description": a.description,
                    "values": a.values.iter()
                        .map(|v| json!({"key": v.key, "name": v.name}))
                        .collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({"service_code": self.service_code, "attributes": attributes}).to_string()
    }

    fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("service_definition");
        w.leaf("service_code", &self.service_code);
        w.open("attributes");
        for a in &self.attributes {
            w.open("attribute");
            w.bool("variable", a.variable);
            w.leaf("code", &a.code);
            w.leaf("datatype", a.datatype.as_str());
            w.bool("required", a.required);
            w.opt("datatype_description", a.datatype_description.as_deref());
            w.leaf("order", &a.order.to_string());
            w.leaf("description", &a.description);
            if a.values.is_empty() {
                w.leaf("values", "");
            } else {
                w.open("values");
                for v in &a.values {
                    w.open("value");
                    w.leaf("key", &v.key);
                    w.leaf("name", &v.name);
                    w.close("value");
                }
                w.close("values");
            }
            w.close("attribute");
        }
        w.close("attributes");
        w.close("service_definition");
        w.finish()
    }
}

impl Open311Document for [ServiceRequest] {
    fn to_json(&self) -> String {
        Value::Array(
            self.iter()
                .map(|r| {
                    let mut v = json!({
                        "service_request_id": r.service_request_id,
                        "status": r.status.as_str(),
                        "status_notes": r.status_notes,
                        "service_name": r.service_name,
                        "service_code": r.service_code,
                        "description": r.description,
                        "agency_responsible": r.agency_responsible,
                        "service_notice": r.service_notice,
                        "requested_datetime": format_datetime(&r.requested_datetime),
                        "updated_datetime": json_dt(r.updated_datetime.as_ref()),
                        "expected_datetime": json_dt(r.expected_datetime.as_ref()),
                        "address": r.address,
                        "address_id": r.address_id,
                        "zipcode": r.zipcode,
                        // json! turns NaN/inf into null, which keeps the output valid.
                        "lat": r.lat,
                        "long": r.long,
                        "media_url": r.media_url,
                    });
                    if let (Some(x), Value::Object(o)) = (&r.extended_attributes, &mut v) {
                        o.insert("extended_attributes".into(), x.to_json());
                    }
                    v
                })
                .collect(),
        )
        .to_string()
    }

    fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("service_requests");
        for r in self {
            w.open("request");
            w.leaf("service_request_id", &r.service_request_id);
            w.leaf("status", r.status.as_str());
            w.opt("status_notes", r.status_notes.as_deref());
            w.opt("service_name", r.service_name.as_deref());
            w.leaf("service_code", &r.service_code);
            w.opt("description", r.description.as_deref());
            w.opt("agency_responsible", r.agency_responsible.as_deref());
            w.opt("service_notice", r.service_notice.as_deref());
            w.opt_dt("requested_datetime", Some(&r.requested_datetime));
            w.opt_dt("updated_datetime", r.updated_datetime.as_ref());
            w.opt_dt("expected_datetime", r.expected_datetime.as_ref());
            w.opt("address", r.address.as_deref());
            w.opt("address_id", r.address_id.as_deref());
            w.opt("zipcode", r.zipcode.as_deref());
            w.opt_num("lat", r.lat);
            w.opt_num("long", r.long);
            w.opt("media_url", r.media_url.as_deref());
            if let Some(x) = &r.extended_attributes {
                x.write_xml(&mut w);
            }
            w.close("request");
        }
        w.close("service_requests");
        w.finish()
    }
}

impl Open311Document for [PostResponse] {
    fn to_json(&self) -> String {
        Value::Array(
            self.iter()
                .map(|p| {
                    let mut o = serde_json::Map::new();
                    match &p.id {
                        PostId::ServiceRequestId(id) => {
                            o.insert("service_request_id".into(), json!(id));
                        }
                        PostId::Token(t) => {
                            o.insert("token".into(), json!(t));
                        }
                    }
                    o.insert("service_notice".into(), json!(p.service_notice));
                    o.insert("account_id".into(), json!(p.account_id));
                    Value::Object(o)
                })
                .collect(),
        )
        .to_string()
    }

    fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("service_requests");
        for p in self {
            w.open("request");
            match &p.id {
                PostId::ServiceRequestId(id) => w.leaf("service_request_id", id),
                PostId::Token(t) => w.leaf("token", t),
            }
            w.opt("service_notice", p.service_notice.as_deref());
            w.opt("account_id", p.account_id.as_deref());
            w.close("request");
        }
        w.close("service_requests");
        w.finish()
    }
}

impl Open311Document for [TokenResponse] {
    fn to_json(&self) -> String {
        Value::Array(
            self.iter()
                .map(|t| json!({"service_request_id": t.service_request_id, "token": t.token}))
                .collect(),
        )
        .to_string()
    }

    fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("service_requests");
        for t in self {
            w.open("request");
            w.opt("service_request_id", t.service_request_id.as_deref());
            w.leaf("token", &t.token);
            w.close("request");
        }
        w.close("service_requests");
        w.finish()
    }
}

impl Open311Document for Discovery {
    fn to_json(&self) -> String {
        let endpoints: Vec<Value> = self
            .endpoints
            .iter()
            .map(|e| {
                json!({
                    "specification": e.specification,
                    "url": e.url,
                    "changeset": format_datetime(&e.changeset),
                    "type": e.endpoint_type,
                    "formats": e.formats,
                })
            })
            .collect();
        json!({
            "changeset": format_datetime(&self.changeset),
            "contact": self.contact,
            "key_service": self.key_service,
            "endpoints": endpoints,
        })
        .to_string()
    }

    fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("discovery");
        w.opt_dt("changeset", Some(&self.changeset));
        w.leaf("contact", &self.contact);
        w.leaf("key_service", &self.key_service);
        w.open("endpoints");
        for e in &self.endpoints {
            w.open("endpoint");
            w.leaf("specification", &e.specification);
            w.leaf("url", &e.url);
            w.opt_dt("changeset", Some(&e.changeset));
            w.leaf("type", &e.endpoint_type);
            w.open("formats");
            for f in &e.formats {
                w.leaf("format", f);
            }
            w.close("formats");
            w.close("endpoint");
        }
        w.close("endpoints");
        w.close("discovery");
        w.finish()
    }
}

impl Open311Document for [Open311Error] {
    fn to_json(&self) -> String {
        Value::Array(
            self.iter()
                .map(|e| json!({"code": e.code, "description": e.description}))
                .collect(),
        )
        .to_string()
    }

    fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.open("errors");
        for e in self {
            w.open("error");
            w.leaf("code", &e.code.to_string());
            w.leaf("description", &e.description);
            w.close("error");
        }
        w.close("errors");
        w.finish()
    }
}

// ---------------------------------------------------------------------------------------
// Parameter parsing
// ---------------------------------------------------------------------------------------

/// Longest id, code, token or key accepted; longer input is refused, not truncated.
const MAX_ID_LEN: usize = 64;
const MAX_SHORT_TEXT: usize = 200;
const MAX_URL_LEN: usize = 2_048;

/// First non-empty value of a parameter, trimmed. Empty counts as absent (the spec says so
/// for jurisdiction_id; clients send empty fields for the others too).
fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.trim())
        .find(|v| !v.is_empty())
}

fn comma_list(value: &str) -> Vec<&str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect()
}

/// Ids and codes become URL path segments and SQL parameters; a narrow alphabet keeps them
/// unambiguous.
fn is_plain_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ID_LEN
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn parse_id_list(
    params: &[(String, String)],
    key: &str,
    errors: &mut Vec<Open311Error>,
) -> Vec<String> {
    let Some(raw) = param(params, key) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for item in comma_list(raw) {
        if !is_plain_id(item) {
            errors.push(Open311Error::bad_request(format!(
                "{key}: {}",
                msg("open311.msg.value_invalid_arg", truncate_for_message(item))
            )));
            return Vec::new();
        }
        if !out.iter().any(|o| o == item) {
            out.push(item.to_string());
        }
    }
    if out.len() > MAX_RESULTS as usize {
        errors.push(Open311Error::bad_request(format!(
            "{key}: {}",
            msg("open311.msg.max_values", MAX_RESULTS)
        )));
        return Vec::new();
    }
    out
}

/// Echoing input back in a message is helpful, but not unbounded.
fn truncate_for_message(s: &str) -> String {
    s.chars().take(40).collect()
}

/// ISO 8601 / RFC 3339 with `Z` or an offset; a date without a zone is ambiguous and refused.
pub fn parse_datetime(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

/// Validated filter of `GET requests`.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestFilter {
    pub jurisdiction_id: Option<String>,
    /// Empty: all.
    pub service_request_ids: Vec<String>,
    /// Empty: all.
    pub service_codes: Vec<String>,
    /// Inclusive lower bound on requested_datetime.
    pub start: Option<DateTime<Utc>>,
    /// Inclusive upper bound on requested_datetime.
    pub end: Option<DateTime<Utc>>,
    /// Empty: both.
    pub statuses: Vec<Status>,
    /// 1-based (extension).
    pub page: u32,
    /// 1..=1000 (extension); also the result limit.
    pub page_size: u32,
    pub bbox: Option<BBox>,
    /// `extensions=true`: extended attributes wanted.
    pub extensions: bool,
}

impl RequestFilter {
    pub fn limit(&self) -> u64 {
        u64::from(self.page_size)
    }

    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.page_size)
    }
}

fn parse_u32(
    params: &[(String, String)],
    key: &str,
    range: std::ops::RangeInclusive<u32>,
    errors: &mut Vec<Open311Error>,
) -> Option<u32> {
    let raw = param(params, key)?;
    match raw.parse::<u32>() {
        Ok(n) if range.contains(&n) => Some(n),
        _ => {
            errors.push(Open311Error::bad_request(format!(
                "{key}: {}",
                msg(
                    "open311.msg.int_range",
                    format!("{}–{}", range.start(), range.end())
                )
            )));
            None
        }
    }
}

fn parse_f64(raw: &str) -> Option<f64> {
    raw.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

fn parse_bbox(raw: &str) -> Option<BBox> {
    let parts: Vec<f64> = raw.split(',').map(parse_f64).collect::<Option<_>>()?;
    let [min_lon, min_lat, max_lon, max_lat] = parts.as_slice() else {
        return None;
    };
    let b = BBox {
        min_lon: *min_lon,
        min_lat: *min_lat,
        max_lon: *max_lon,
        max_lat: *max_lat,
    };
    let lon_ok = |v: f64| (-180.0..=180.0).contains(&v);
    let lat_ok = |v: f64| (-90.0..=90.0).contains(&v);
    // A box across the antimeridian (min_lon > max_lon) is refused: no German
    // municipality needs one and it would complicate every query.
    (lon_ok(b.min_lon)
        && lon_ok(b.max_lon)
        && lat_ok(b.min_lat)
        && lat_ok(b.max_lat)
        && b.min_lon <= b.max_lon
        && b.min_lat <= b.max_lat)
        .then_some(b)
}

/// Parses `GET requests` parameters (query string pairs). All problems are reported at once.
/// Without dates and ids the window is the 90 days before `now`; with only `end_date` it is
/// the 90 days before that; results are capped at 1,000 (`page_size`, default 1,000).
pub fn parse_get_requests(
    params: &[(String, String)],
    now: DateTime<Utc>,
) -> Result<RequestFilter, Vec<Open311Error>> {
    let mut errors = Vec::new();
    let jurisdiction_id = bounded(params, "jurisdiction_id", MAX_SHORT_TEXT, &mut errors);
    let service_request_ids = parse_id_list(params, "service_request_id", &mut errors);
    let service_codes = parse_id_list(params, "service_code", &mut errors);

    let mut date = |key: &str| {
        let raw = param(params, key)?;
        let parsed = parse_datetime(raw);
        if parsed.is_none() {
            errors.push(Open311Error::bad_request(format!(
                "{key}: {}",
                msg("open311.msg.date", "")
            )));
        }
        parsed
    };
    let mut start = date("start_date");
    let end = date("end_date");
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        errors.push(Open311Error::bad_request(format!(
            "start_date: {}",
            msg("open311.msg.start_after_end", "")
        )));
    }
    let dates_given = param(params, "start_date").is_some() || param(params, "end_date").is_some();
    if !dates_given && service_request_ids.is_empty() {
        start = Some(now - Duration::days(DEFAULT_WINDOW_DAYS));
    } else if start.is_none()
        && param(params, "start_date").is_none()
        && let Some(e) = end
    {
        start = Some(e - Duration::days(DEFAULT_WINDOW_DAYS));
    }

    let mut statuses = Vec::new();
    if let Some(raw) = param(params, "status") {
        for item in comma_list(raw) {
            let s = match item {
                "open" => Status::Open,
                "closed" => Status::Closed,
                _ => {
                    errors.push(Open311Error::bad_request(format!(
                        "status: {}",
                        msg("open311.msg.status", truncate_for_message(item))
                    )));
                    continue;
                }
            };
            if !statuses.contains(&s) {
                statuses.push(s);
            }
        }
    }

    let page = parse_u32(params, "page", 1..=u32::MAX, &mut errors).unwrap_or(1);
    let page_size =
        parse_u32(params, "page_size", 1..=MAX_RESULTS, &mut errors).unwrap_or(MAX_RESULTS);

    let bbox = param(params, "bbox").and_then(|raw| {
        let b = parse_bbox(raw);
        if b.is_none() {
            errors.push(Open311Error::bad_request(format!(
                "bbox: {}",
                msg("open311.msg.bbox", "")
            )));
        }
        b
    });

    let extensions = match param(params, "extensions") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            errors.push(Open311Error::bad_request(format!(
                "extensions: {}",
                msg("open311.msg.bool", "")
            )));
            false
        }
    };

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(RequestFilter {
        jurisdiction_id,
        service_request_ids,
        service_codes,
        start,
        end,
        statuses,
        page,
        page_size,
        bbox,
        extensions,
    })
}

/// The answer to `attribute[CODE]` (single) or `attribute[CODE][]` (multivaluelist).
/// Whether it fits the service definition is checked later, against stored attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeAnswer {
    Single(String),
    Multi(Vec<String>),
}

/// Validated `POST requests` body. Personal fields stay here and in internal storage; none of
/// them ever appears in a [`ServiceRequest`].
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    pub api_key: String,
    pub jurisdiction_id: Option<String>,
    pub service_code: String,
    /// (lat, long) in WGS 84.
    pub position: Option<(f64, f64)>,
    pub address_string: Option<String>,
    pub address_id: Option<String>,
    pub attributes: BTreeMap<String, AttributeAnswer>,
    pub email: Option<String>,
    pub device_id: Option<String>,
    pub account_id: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub description: Option<String>,
    pub media_url: Option<String>,
}

fn bounded(
    params: &[(String, String)],
    key: &str,
    max_chars: usize,
    errors: &mut Vec<Open311Error>,
) -> Option<String> {
    let v = param(params, key)?;
    if v.chars().count() > max_chars {
        errors.push(Open311Error::bad_request(format!(
            "{key}: {}",
            msg("open311.msg.max_chars", max_chars)
        )));
        return None;
    }
    Some(v.to_string())
}

/// `attribute[CODE]` → (CODE, false); `attribute[CODE][]` → (CODE, true).
fn attribute_key(key: &str) -> Option<(&str, bool)> {
    let inner = key.strip_prefix("attribute[")?;
    let (code, multi) = match inner.strip_suffix("][]") {
        Some(code) => (code, true),
        None => (inner.strip_suffix(']')?, false),
    };
    Some((code, multi))
}

fn is_plausible_email(v: &str) -> bool {
    let Some((local, domain)) = v.rsplit_once('@') else {
        return false;
    };
    v.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Parses `POST requests` (form body, with the query string's pairs appended by the caller so
/// `api_key` may come from either). A missing or malformed api_key answers only the 403:
/// unauthenticated clients learn nothing about validation.
pub fn parse_post_request(params: &[(String, String)]) -> Result<NewRequest, Vec<Open311Error>> {
    let api_key = match param(params, "api_key") {
        Some(k) if k.len() <= 128 && k.chars().all(|c| c.is_ascii_graphic()) => k.to_string(),
        _ => return Err(vec![Open311Error::invalid_api_key()]),
    };
    let mut errors = Vec::new();
    let jurisdiction_id = bounded(params, "jurisdiction_id", MAX_SHORT_TEXT, &mut errors);

    let service_code = match param(params, "service_code") {
        Some(c) if is_plain_id(c) => c.to_string(),
        Some(_) => {
            errors.push(Open311Error::bad_request(format!(
                "service_code: {}",
                msg("open311.msg.value_invalid", "")
            )));
            String::new()
        }
        None => {
            errors.push(Open311Error::bad_request(format!(
                "service_code: {}",
                msg("open311.msg.missing", "")
            )));
            String::new()
        }
    };

    let lat = param(params, "lat");
    let long = param(params, "long");
    let position = match (lat, long) {
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => {
            errors.push(Open311Error::bad_request(format!(
                "lat/long: {}",
                msg("open311.msg.both_coordinates", "")
            )));
            None
        }
        (Some(lat), Some(long)) => {
            let lat_v = parse_f64(lat).filter(|v| (-90.0..=90.0).contains(v));
            let long_v = parse_f64(long).filter(|v| (-180.0..=180.0).contains(v));
            if lat_v.is_none() {
                errors.push(Open311Error::bad_request(format!(
                    "lat: {}",
                    msg("open311.msg.lat_range", "")
                )));
            }
            if long_v.is_none() {
                errors.push(Open311Error::bad_request(format!(
                    "long: {}",
                    msg("open311.msg.long_range", "")
                )));
            }
            lat_v.zip(long_v)
        }
    };
    let address_string = bounded(params, "address_string", 500, &mut errors);
    let address_id = match param(params, "address_id") {
        Some(v) if is_plain_id(v) => Some(v.to_string()),
        Some(_) => {
            errors.push(Open311Error::bad_request(format!(
                "address_id: {}",
                msg("open311.msg.value_invalid", "")
            )));
            None
        }
        None => None,
    };
    let location_given = lat.is_some() || long.is_some();
    if !location_given && address_string.is_none() && address_id.is_none() {
        // Only when nothing was sent: a malformed address already has its own error.
        if param(params, "address_string").is_none() && param(params, "address_id").is_none() {
            errors.push(Open311Error::bad_request(msg(
                "open311.msg.location_required",
                "",
            )));
        }
    }

    let mut attributes: BTreeMap<String, AttributeAnswer> = BTreeMap::new();
    for (key, value) in params {
        let Some((code, multi)) = attribute_key(key) else {
            continue;
        };
        if !is_plain_id(code) {
            errors.push(Open311Error::bad_request(format!(
                "attribute[{}]: {}",
                truncate_for_message(code),
                msg("open311.msg.attribute_code", "")
            )));
            continue;
        }
        let value = value.trim();
        if value.chars().count() > 1_000 {
            errors.push(Open311Error::bad_request(format!(
                "attribute[{code}]: {}",
                msg("open311.msg.max_chars", 1000)
            )));
            continue;
        }
        if value.is_empty() {
            continue;
        }
        match (attributes.get_mut(code), multi) {
            (None, false) => {
                attributes.insert(code.to_string(), AttributeAnswer::Single(value.into()));
            }
            (None, true) => {
                attributes.insert(code.to_string(), AttributeAnswer::Multi(vec![value.into()]));
            }
            (Some(AttributeAnswer::Multi(list)), true) => {
                if list.len() >= 100 {
                    errors.push(Open311Error::bad_request(format!(
                        "attribute[{code}][]: {}",
                        msg("open311.msg.max_values", 100)
                    )));
                } else if !list.iter().any(|v| v == value) {
                    list.push(value.into());
                }
            }
            // Repeating a single value, or mixing both forms, is ambiguous.
            (Some(_), _) => errors.push(Open311Error::bad_request(format!(
                "attribute[{code}]: {}",
                msg("open311.msg.repeated", "")
            ))),
        }
    }

    let email = bounded(params, "email", 254, &mut errors);
    if let Some(e) = &email
        && !is_plausible_email(e)
    {
        errors.push(Open311Error::bad_request(format!(
            "email: {}",
            msg("open311.msg.email", "")
        )));
    }
    let device_id = bounded(params, "device_id", MAX_SHORT_TEXT, &mut errors);
    let account_id = bounded(params, "account_id", MAX_SHORT_TEXT, &mut errors);
    let first_name = bounded(params, "first_name", MAX_SHORT_TEXT, &mut errors);
    let last_name = bounded(params, "last_name", MAX_SHORT_TEXT, &mut errors);
    let phone = bounded(params, "phone", 50, &mut errors);
    if let Some(p) = &phone
        && !p
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '/' | '(' | ')'))
    {
        errors.push(Open311Error::bad_request(format!(
            "phone: {}",
            msg("open311.msg.phone", "")
        )));
    }
    let description = bounded(params, "description", MAX_DESCRIPTION_CHARS, &mut errors);
    let media_url = bounded(params, "media_url", MAX_URL_LEN, &mut errors);
    if let Some(u) = &media_url {
        let lower = u.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://"))
            || u.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            errors.push(Open311Error::bad_request(format!(
                "media_url: {}",
                msg("open311.msg.media_url", "")
            )));
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(NewRequest {
        api_key,
        jurisdiction_id,
        service_code,
        position,
        address_string,
        address_id,
        attributes,
        email,
        device_id,
        account_id,
        first_name,
        last_name,
        phone,
        description,
        media_url,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use quick_xml::Reader;
    use quick_xml::events::Event;

    const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

    fn summer() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 7, 1, 12, 30, 0)
            .single()
            .unwrap()
    }

    fn winter() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 15, 8, 0, 0).single().unwrap()
    }

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Reads the whole document with quick-xml: well-formed, one root, balanced tags, only
    /// predefined entities. Returns the root element's name.
    fn assert_well_formed(xml: &str) -> String {
        assert!(xml.starts_with(DECL), "XML declaration missing: {xml}");
        let mut reader = Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        let mut depth = 0usize;
        let mut roots = Vec::new();
        loop {
            match reader.read_event() {
                Ok(Event::Start(e)) => {
                    if depth == 0 {
                        roots.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                    }
                    depth += 1;
                }
                Ok(Event::Empty(e)) => {
                    if depth == 0 {
                        roots.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                    }
                }
                Ok(Event::End(_)) => depth -= 1,
                Ok(Event::GeneralRef(r)) => {
                    let name = String::from_utf8_lossy(r.as_ref()).into_owned();
                    assert!(
                        ["amp", "lt", "gt", "quot", "apos"].contains(&name.as_str()),
                        "unknown entity &{name};"
                    );
                }
                Ok(Event::Text(t)) => {
                    assert!(depth > 0 || t.iter().all(u8::is_ascii_whitespace));
                }
                Ok(Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("not well-formed: {e} in {xml}"),
            }
        }
        assert_eq!(depth, 0, "unbalanced: {xml}");
        assert_eq!(roots.len(), 1, "exactly one root: {xml}");
        roots.remove(0)
    }

    fn json(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    fn service() -> Service {
        Service {
            service_code: "strasse".into(),
            service_name: "Straßenschaden & Schlagloch".into(),
            description: Some("Löcher <tief> \"gefährlich\" 'sofort'".into()),
            metadata: true,
            service_type: ServiceType::Realtime,
            keywords: vec!["Straße".into(), "Loch".into()],
            group: None,
        }
    }

    #[test]
    fn datetimes_are_berlin_local_with_offset() {
        assert_eq!(format_datetime(&summer()), "2026-07-01T14:30:00+02:00");
        assert_eq!(format_datetime(&winter()), "2026-01-15T09:00:00+01:00");
    }

    #[test]
    fn services_json_and_xml() {
        let list = [service()];
        assert_eq!(
            json(&list.to_json()),
            serde_json::json!([{
                "service_code": "strasse",
                "service_name": "Straßenschaden & Schlagloch",
                "description": "Löcher <tief> \"gefährlich\" 'sofort'",
                "metadata": true,
                "type": "realtime",
                "keywords": "Straße, Loch",
                "group": null
            }])
        );
        let xml = list.to_xml();
        assert_eq!(
            xml,
            format!(
                "{DECL}<services><service><service_code>strasse</service_code>\
                 <service_name>Straßenschaden &amp; Schlagloch</service_name>\
                 <description>Löcher &lt;tief&gt; &quot;gefährlich&quot; &apos;sofort&apos;</description>\
                 <metadata>true</metadata><type>realtime</type>\
                 <keywords>Straße, Loch</keywords><group/></service></services>"
            )
        );
        assert_eq!(assert_well_formed(&xml), "services");
        let empty: [Service; 0] = [];
        assert_eq!(empty.to_json(), "[]");
        assert_eq!(assert_well_formed(&empty.to_xml()), "services");
    }

    #[test]
    fn service_definition_json_and_xml() {
        let def = ServiceDefinition {
            service_code: "strasse".into(),
            attributes: vec![
                Attribute {
                    variable: true,
                    code: "art".into(),
                    datatype: Datatype::SingleValueList,
                    required: true,
                    datatype_description: None,
                    order: 1,
                    description: "Art des Schadens".into(),
                    values: vec![
                        AttributeValueOption {
                            key: "loch".into(),
                            name: "Schlagloch".into(),
                        },
                        AttributeValueOption {
                            key: "riss".into(),
                            name: "Riss & Aufbruch".into(),
                        },
                    ],
                },
                Attribute {
                    variable: false,
                    code: "hinweis".into(),
                    datatype: Datatype::Text,
                    required: false,
                    datatype_description: Some("Nur Hinweis".into()),
                    order: 2,
                    description: "Bei Gefahr: 110".into(),
                    values: vec![],
                },
            ],
        };
        assert_eq!(
            json(&def.to_json()),
            serde_json::json!({
                "service_code": "strasse",
                "attributes": [
                    {"variable": true, "code": "art", "datatype": "singlevaluelist",
                     "required": true, "datatype_description": null, "order": 1,
                     "description": "Art des Schadens",
                     "values": [{"key": "loch", "name": "Schlagloch"},
                                {"key": "riss", "name": "Riss & Aufbruch"}]},
                    {"variable": false, "code": "hinweis", "datatype": "text",
                     "required": false, "datatype_description": "Nur Hinweis", "order": 2,
                     "description": "Bei Gefahr: 110", "values": []}
                ]
            })
        );
        let xml = def.to_xml();
        assert_eq!(
            xml,
            format!(
                "{DECL}<service_definition><service_code>strasse</service_code><attributes>\
                 <attribute><variable>true</variable><code>art</code>\
                 <datatype>singlevaluelist</datatype><required>true</required>\
                 <datatype_description/><order>1</order>\
                 <description>Art des Schadens</description><values>\
                 <value><key>loch</key><name>Schlagloch</name></value>\
                 <value><key>riss</key><name>Riss &amp; Aufbruch</name></value>\
                 </values></attribute>\
                 <attribute><variable>false</variable><code>hinweis</code>\
                 <datatype>text</datatype><required>false</required>\
                 <datatype_description>Nur Hinweis</datatype_description><order>2</order>\
                 <description>Bei Gefahr: 110</description><values/></attribute>\
                 </attributes></service_definition>"
            )
        );
        assert_eq!(assert_well_formed(&xml), "service_definition");
    }

    fn request() -> ServiceRequest {
        ServiceRequest {
            service_request_id: "M-2026-000123".into(),
            status: Status::Open,
            status_notes: None,
            service_name: Some("Straßenbeleuchtung".into()),
            service_code: "licht".into(),
            description: Some("<script>alert('x')</script> & Lampe aus".into()),
            agency_responsible: Some("Fachbereich Tiefbau".into()),
            service_notice: None,
            requested_datetime: winter(),
            updated_datetime: Some(summer()),
            expected_datetime: None,
            address: Some("Hauptstraße 1".into()),
            address_id: None,
            zipcode: Some("12345".into()),
            lat: Some(52.5),
            long: Some(13.25),
            media_url: None,
            extended_attributes: None,
        }
    }

    #[test]
    fn service_requests_json_and_xml() {
        let list = [request()];
        assert_eq!(
            json(&list.to_json()),
            serde_json::json!([{
                "service_request_id": "M-2026-000123",
                "status": "open",
                "status_notes": null,
                "service_name": "Straßenbeleuchtung",
                "service_code": "licht",
                "description": "<script>alert('x')</script> & Lampe aus",
                "agency_responsible": "Fachbereich Tiefbau",
                "service_notice": null,
                "requested_datetime": "2026-01-15T09:00:00+01:00",
                "updated_datetime": "2026-07-01T14:30:00+02:00",
                "expected_datetime": null,
                "address": "Hauptstraße 1",
                "address_id": null,
                "zipcode": "12345",
                "lat": 52.5,
                "long": 13.25,
                "media_url": null
            }])
        );
        let xml = list.to_xml();
        assert_eq!(
            xml,
            format!(
                "{DECL}<service_requests><request>\
                 <service_request_id>M-2026-000123</service_request_id><status>open</status>\
                 <status_notes/><service_name>Straßenbeleuchtung</service_name>\
                 <service_code>licht</service_code>\
                 <description>&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; Lampe aus</description>\
                 <agency_responsible>Fachbereich Tiefbau</agency_responsible><service_notice/>\
                 <requested_datetime>2026-01-15T09:00:00+01:00</requested_datetime>\
                 <updated_datetime>2026-07-01T14:30:00+02:00</updated_datetime>\
                 <expected_datetime/><address>Hauptstraße 1</address><address_id/>\
                 <zipcode>12345</zipcode><lat>52.5</lat><long>13.25</long><media_url/>\
                 </request></service_requests>"
            )
        );
        assert_eq!(assert_well_formed(&xml), "service_requests");
    }

    #[test]
    fn forbidden_characters_and_non_finite_numbers_keep_output_valid() {
        let mut r = request();
        r.description = Some("a\u{0}b\u{1b}c\u{FFFF}\td".into());
        r.lat = Some(f64::NAN);
        r.long = None;
        let xml = [r.clone()].to_xml();
        assert!(xml.contains("<description>abc\td</description>"));
        assert!(xml.contains("<lat/><long/>"));
        assert_well_formed(&xml);
        let v = json(&[r].to_json());
        assert_eq!(v[0]["lat"], Value::Null);
    }

    #[test]
    fn post_responses_json_and_xml() {
        let list = [
            PostResponse {
                id: PostId::ServiceRequestId("M-2026-000124".into()),
                service_notice: Some("Antwort binnen 3 Werktagen".into()),
                account_id: None,
            },
            PostResponse {
                id: PostId::Token("tok-1".into()),
                service_notice: None,
                account_id: Some("a&b".into()),
            },
        ];
        assert_eq!(
            json(&list.to_json()),
            serde_json::json!([
                {"service_request_id": "M-2026-000124",
                 "service_notice": "Antwort binnen 3 Werktagen", "account_id": null},
                {"token": "tok-1", "service_notice": null, "account_id": "a&b"}
            ])
        );
        let xml = list.to_xml();
        assert_eq!(
            xml,
            format!(
                "{DECL}<service_requests><request>\
                 <service_request_id>M-2026-000124</service_request_id>\
                 <service_notice>Antwort binnen 3 Werktagen</service_notice><account_id/>\
                 </request><request><token>tok-1</token><service_notice/>\
                 <account_id>a&amp;b</account_id></request></service_requests>"
            )
        );
        assert_eq!(assert_well_formed(&xml), "service_requests");
    }

    #[test]
    fn token_responses_json_and_xml() {
        let list = [
            TokenResponse {
                token: "tok-1".into(),
                service_request_id: Some("M-2026-000125".into()),
            },
            TokenResponse {
                token: "tok-2".into(),
                service_request_id: None,
            },
        ];
        assert_eq!(
            json(&list.to_json()),
            serde_json::json!([
                {"service_request_id": "M-2026-000125", "token": "tok-1"},
                {"service_request_id": null, "token": "tok-2"}
            ])
        );
        let xml = list.to_xml();
        assert_eq!(
            xml,
            format!(
                "{DECL}<service_requests><request>\
                 <service_request_id>M-2026-000125</service_request_id><token>tok-1</token>\
                 </request><request><service_request_id/><token>tok-2</token></request>\
                 </service_requests>"
            )
        );
        assert_eq!(assert_well_formed(&xml), "service_requests");
    }

    #[test]
    fn discovery_json_and_xml() {
        let d = Discovery {
            changeset: winter(),
            contact: "Bürgerbüro <buergerbuero@example.de>".into(),
            key_service: "Schlüssel beim Bürgerbüro beantragen".into(),
            endpoints: vec![Endpoint {
                specification: "http://wiki.open311.org/GeoReport_v2".into(),
                url: "https://musterstadt.example/open311/v2".into(),
                changeset: summer(),
                endpoint_type: "production".into(),
                formats: vec!["text/xml".into(), "application/json".into()],
            }],
        };
        assert_eq!(
            json(&d.to_json()),
            serde_json::json!({
                "changeset": "2026-01-15T09:00:00+01:00",
                "contact": "Bürgerbüro <buergerbuero@example.de>",
                "key_service": "Schlüssel beim Bürgerbüro beantragen",
                "endpoints": [{
                    "specification": "http://wiki.open311.org/GeoReport_v2",
                    "url": "https://musterstadt.example/open311/v2",
                    "changeset": "2026-07-01T14:30:00+02:00",
                    "type": "production",
                    "formats": ["text/xml", "application/json"]
                }]
            })
        );
        let xml = d.to_xml();
        assert_eq!(
            xml,
            format!(
                "{DECL}<discovery><changeset>2026-01-15T09:00:00+01:00</changeset>\
                 <contact>Bürgerbüro &lt;buergerbuero@example.de&gt;</contact>\
                 <key_service>Schlüssel beim Bürgerbüro beantragen</key_service>\
                 <endpoints><endpoint>\
                 <specification>http://wiki.open311.org/GeoReport_v2</specification>\
                 <url>https://musterstadt.example/open311/v2</url>\
                 <changeset>2026-07-01T14:30:00+02:00</changeset><type>production</type>\
                 <formats><format>text/xml</format><format>application/json</format></formats>\
                 </endpoint></endpoints></discovery>"
            )
        );
        assert_eq!(assert_well_formed(&xml), "discovery");
    }

    #[test]
    fn errors_json_and_xml() {
        let de = |key: &str, arg: &str| match key {
            "open311.msg.api_key_invalid" => "fehlt oder ist ungültig".to_string(),
            _ => format!("{key}({arg})"),
        };
        let list = [
            Open311Error::invalid_api_key().translate(de),
            Open311Error::bad_request("lat: <91> & mehr").translate(de),
        ];
        assert_eq!(
            Open311Error::bad_request(format!("x: {}", msg("k", "{{a}}")))
                .translate(|k, a| format!("{k}[{a}]"))
                .description,
            "x: k[{{a]}}",
            "an argument is not read again"
        );
        assert_eq!(
            json(&list.to_json()),
            serde_json::json!([
                {"code": 403, "description": "api_key: fehlt oder ist ungültig"},
                {"code": 400, "description": "lat: <91> & mehr"}
            ])
        );
        let xml = list.to_xml();
        assert_eq!(
            xml,
            format!(
                "{DECL}<errors><error><code>403</code>\
                 <description>api_key: fehlt oder ist ungültig</description></error>\
                 <error><code>400</code><description>lat: &lt;91&gt; &amp; mehr</description>\
                 </error></errors>"
            )
        );
        assert_eq!(assert_well_formed(&xml), "errors");
        assert_eq!(http_status(&list), 403);
        assert_eq!(http_status(&[Open311Error::unknown_request("x")]), 404);
        assert_eq!(http_status(&[]), 400);
    }

    #[test]
    fn render_picks_the_format() {
        let list = [Open311Error::unknown_token("t")];
        assert_eq!(list.render(Format::Json), list.to_json());
        assert_eq!(list.render(Format::Xml), list.to_xml());
        assert_eq!(Format::Xml.content_type(), "text/xml; charset=utf-8");
    }

    #[test]
    fn format_suffixes() {
        assert_eq!(
            parse_format("services.json"),
            Ok(("services", Format::Json))
        );
        assert_eq!(
            parse_format("discovery.xml"),
            Ok(("discovery", Format::Xml))
        );
        assert_eq!(
            parse_format("requests/123.xml"),
            Ok(("requests/123", Format::Xml))
        );
        assert_eq!(
            parse_format("services/a.b.JSON"),
            Ok(("services/a.b", Format::Json))
        );
        assert_eq!(parse_format("services").map_err(|e| e.code), Err(400));
        assert_eq!(parse_format("services.csv").map_err(|e| e.code), Err(400));
        assert_eq!(parse_format(".json").map_err(|e| e.code), Err(400));
    }

    fn get_err(pairs: &[(&str, &str)]) -> Vec<Open311Error> {
        parse_get_requests(&p(pairs), summer()).unwrap_err()
    }

    #[test]
    fn get_requests_defaults_to_90_days_and_1000_results() {
        let f = parse_get_requests(&p(&[("jurisdiction_id", "")]), summer()).unwrap();
        assert_eq!(f.jurisdiction_id, None);
        assert_eq!(f.start, Some(summer() - Duration::days(90)));
        assert_eq!(f.end, None);
        assert_eq!(
            (f.page, f.page_size, f.offset(), f.limit()),
            (1, 1000, 0, 1000)
        );
        assert!(f.statuses.is_empty() && f.service_codes.is_empty());
        assert!(!f.extensions);
    }

    #[test]
    fn get_requests_full_parameter_set() {
        let f = parse_get_requests(
            &p(&[
                ("jurisdiction_id", "musterstadt.de"),
                ("service_code", "licht, strasse,licht"),
                ("start_date", "2026-03-01T00:00:00+01:00"),
                ("end_date", "2026-04-01T00:00:00Z"),
                ("status", "open,closed"),
                ("page", "3"),
                ("page_size", "50"),
                ("bbox", "13.1,52.4,13.6,52.7"),
                ("extensions", "true"),
            ]),
            summer(),
        )
        .unwrap();
        assert_eq!(f.jurisdiction_id.as_deref(), Some("musterstadt.de"));
        assert_eq!(f.service_codes, vec!["licht", "strasse"]);
        assert_eq!(
            f.start,
            Some(Utc.with_ymd_and_hms(2026, 2, 28, 23, 0, 0).unwrap())
        );
        assert_eq!(
            f.end,
            Some(Utc.with_ymd_and_hms(2026, 4, 1, 0, 0, 0).unwrap())
        );
        assert_eq!(f.statuses, vec![Status::Open, Status::Closed]);
        assert_eq!((f.offset(), f.limit()), (100, 50));
        assert_eq!(
            f.bbox,
            Some(BBox {
                min_lon: 13.1,
                min_lat: 52.4,
                max_lon: 13.6,
                max_lat: 52.7
            })
        );
        assert!(f.extensions);
    }

    #[test]
    fn get_requests_by_id_has_no_window() {
        let f = parse_get_requests(&p(&[("service_request_id", "M-2026-1,M-2026-2")]), summer())
            .unwrap();
        assert_eq!(f.service_request_ids, vec!["M-2026-1", "M-2026-2"]);
        assert_eq!((f.start, f.end), (None, None));
        let only_end =
            parse_get_requests(&p(&[("end_date", "2026-04-01T00:00:00Z")]), summer()).unwrap();
        assert_eq!(
            only_end.start,
            Some(Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap())
        );
    }

    #[test]
    fn malformed_start_date_is_a_400_naming_the_parameter() {
        for bad in [
            "gestern",
            "2026-03-01",
            "2026-03-01T00:00:00",
            "2026-13-01T00:00:00Z",
        ] {
            let errs = get_err(&[("start_date", bad)]);
            assert_eq!(errs.len(), 1, "{bad}");
            assert_eq!(errs[0].code, 400);
            assert!(errs[0].description.starts_with("start_date:"), "{errs:?}");
        }
        let errs = get_err(&[
            ("start_date", "2026-04-01T00:00:00Z"),
            ("end_date", "2026-03-01T00:00:00Z"),
        ]);
        assert!(errs[0].description.starts_with("start_date:"));
    }

    #[test]
    fn page_size_100000_and_other_bad_paging_are_400() {
        let errs = get_err(&[("page_size", "100000")]);
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].code, 400);
        assert!(errs[0].description.starts_with("page_size:"));
        for (k, v) in [
            ("page_size", "0"),
            ("page", "0"),
            ("page", "-1"),
            ("page", "x"),
        ] {
            assert!(get_err(&[(k, v)])[0].description.starts_with(k));
        }
    }

    #[test]
    fn bad_status_bbox_ids_and_extensions_are_reported_together() {
        let errs = get_err(&[
            ("status", "open,erledigt"),
            ("bbox", "13.6,52.4,13.1,52.7"),
            ("service_code", "a;drop"),
            ("extensions", "ja"),
            ("end_date", "bald"),
        ]);
        let names: Vec<&str> = errs
            .iter()
            .map(|e| e.description.split(':').next().unwrap_or(""))
            .collect();
        assert_eq!(
            names,
            vec!["service_code", "end_date", "status", "bbox", "extensions"]
        );
        assert!(errs.iter().all(|e| e.code == 400));
        for bbox in ["1,2,3", "1,2,3,4,5", "0,91,1,92", "a,b,c,d", "0,0,NaN,1"] {
            assert!(
                get_err(&[("bbox", bbox)])[0]
                    .description
                    .starts_with("bbox:")
            );
        }
    }

    #[test]
    fn more_than_1000_ids_are_refused() {
        let ids: Vec<String> = (0..1001).map(|i| i.to_string()).collect();
        let joined = ids.join(",");
        let errs = get_err(&[("service_request_id", &joined)]);
        assert!(errs[0].description.starts_with("service_request_id:"));
        let ok = ids[..1000].join(",");
        let f = parse_get_requests(&p(&[("service_request_id", &ok)]), summer()).unwrap();
        assert_eq!(f.service_request_ids.len(), 1000);
    }

    fn valid_post() -> Vec<(String, String)> {
        p(&[
            ("api_key", "k-123"),
            ("jurisdiction_id", ""),
            ("service_code", "strasse"),
            ("lat", "52.5"),
            ("long", "13.25"),
            ("attribute[art]", "loch"),
            ("attribute[seiten][]", "links"),
            ("attribute[seiten][]", "rechts"),
            ("email", "anna@example.de"),
            ("first_name", "Anna"),
            ("last_name", "Müller"),
            ("phone", "+49 2345 678-90"),
            ("description", "Tiefes Loch <b>vor</b> Haus 3"),
            ("media_url", "https://example.de/foto.jpg"),
            ("device_id", "d1"),
            ("account_id", "acc"),
        ])
    }

    #[test]
    fn post_request_valid() {
        let r = parse_post_request(&valid_post()).unwrap();
        assert_eq!(r.api_key, "k-123");
        assert_eq!(r.jurisdiction_id, None);
        assert_eq!(r.service_code, "strasse");
        assert_eq!(r.position, Some((52.5, 13.25)));
        assert_eq!(
            r.attributes.get("art"),
            Some(&AttributeAnswer::Single("loch".into()))
        );
        assert_eq!(
            r.attributes.get("seiten"),
            Some(&AttributeAnswer::Multi(vec![
                "links".into(),
                "rechts".into()
            ]))
        );
        assert_eq!(
            r.description.as_deref(),
            Some("Tiefes Loch <b>vor</b> Haus 3")
        );
        assert_eq!(r.email.as_deref(), Some("anna@example.de"));
        assert_eq!(r.phone.as_deref(), Some("+49 2345 678-90"));
    }

    #[test]
    fn post_request_by_address_only() {
        let r = parse_post_request(&p(&[
            ("api_key", "k"),
            ("service_code", "licht"),
            ("address_string", "Hauptstraße 1, 12345 Musterstadt"),
        ]))
        .unwrap();
        assert_eq!(r.position, None);
        assert!(r.address_string.is_some());
        let r = parse_post_request(&p(&[
            ("api_key", "k"),
            ("service_code", "licht"),
            ("address_id", "4711"),
        ]))
        .unwrap();
        assert_eq!(r.address_id.as_deref(), Some("4711"));
    }

    #[test]
    fn missing_or_malformed_api_key_is_403_only() {
        let mut params = valid_post();
        params.retain(|(k, _)| k != "api_key");
        params.push(("lat".into(), "91".into()));
        assert_eq!(
            parse_post_request(&params).unwrap_err(),
            vec![Open311Error::invalid_api_key()]
        );
        for bad in ["", "  ", "mit leerzeichen", &"x".repeat(129)] {
            let mut params = valid_post();
            params[0].1 = bad.to_string();
            let errs = parse_post_request(&params).unwrap_err();
            assert_eq!(errs.len(), 1);
            assert_eq!(errs[0].code, 403);
        }
        // A well-formed but wrong key passes parsing; the key lookup answers this error.
        assert_eq!(Open311Error::invalid_api_key().code, 403);
    }

    fn post_err(edit: impl FnOnce(&mut Vec<(String, String)>)) -> Vec<Open311Error> {
        let mut params = valid_post();
        edit(&mut params);
        parse_post_request(&params).unwrap_err()
    }

    fn set(params: &mut [(String, String)], key: &str, value: &str) {
        for (k, v) in params.iter_mut() {
            if k == key {
                *v = value.to_string();
            }
        }
    }

    #[test]
    fn latitude_91_and_other_bad_coordinates() {
        let errs = post_err(|p| set(p, "lat", "91"));
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].code, 400);
        assert!(errs[0].description.starts_with("lat:"));
        let errs = post_err(|p| set(p, "long", "-180.5"));
        assert!(errs[0].description.starts_with("long:"));
        let errs = post_err(|p| set(p, "lat", "52,5"));
        assert!(errs[0].description.starts_with("lat:"));
        let errs = post_err(|p| p.retain(|(k, _)| k != "long"));
        assert!(errs[0].description.starts_with("lat/long:"));
    }

    #[test]
    fn location_and_service_code_are_required() {
        let errs =
            post_err(|p| p.retain(|(k, _)| k != "lat" && k != "long" && k != "service_code"));
        assert_eq!(errs.len(), 2);
        assert_eq!(
            errs[0].description,
            format!("service_code: {}", msg("open311.msg.missing", ""))
        );
        assert_eq!(
            errs[1].description,
            msg("open311.msg.location_required", "")
        );
    }

    #[test]
    fn description_length_counts_characters() {
        let ok = "ä".repeat(4_000);
        let mut params = valid_post();
        set(&mut params, "description", &ok);
        assert!(parse_post_request(&params).is_ok());
        let errs = post_err(|p| set(p, "description", &"ä".repeat(4_001)));
        assert_eq!(errs.len(), 1);
        assert!(errs[0].description.starts_with("description:"));
    }

    #[test]
    fn bad_contact_media_and_attributes() {
        let errs = post_err(|p| {
            set(p, "email", "keine-adresse");
            set(p, "phone", "ruf mich an");
            set(p, "media_url", "javascript:alert(1)");
            p.push(("attribute[art]".into(), "riss".into()));
            p.push(("attribute[a b]".into(), "x".into()));
        });
        let names: Vec<&str> = errs
            .iter()
            .map(|e| e.description.split(':').next().unwrap_or(""))
            .collect();
        assert_eq!(
            names,
            vec![
                "attribute[art]",
                "attribute[a b]",
                "email",
                "phone",
                "media_url"
            ]
        );
    }

    #[test]
    #[should_panic(expected = "not well-formed")]
    fn checker_catches_a_bare_ampersand() {
        assert_well_formed(&format!("{DECL}<a>Tom & Jerry</a>"));
    }

    #[test]
    #[should_panic(expected = "not well-formed")]
    fn checker_catches_mismatched_tags() {
        assert_well_formed(&format!("{DECL}<a><b></a></b>"));
    }

    #[test]
    fn overlong_jurisdiction_id_is_refused() {
        let long = "j".repeat(201);
        let errs = get_err(&[("jurisdiction_id", &long)]);
        assert!(errs[0].description.starts_with("jurisdiction_id:"));
    }

    #[test]
    fn attribute_keys() {
        assert_eq!(attribute_key("attribute[art]"), Some(("art", false)));
        assert_eq!(attribute_key("attribute[art][]"), Some(("art", true)));
        assert_eq!(attribute_key("attribute[art"), None);
        assert_eq!(attribute_key("attributes[art]"), None);
    }
}
