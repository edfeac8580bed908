//! The writers: each message to an `impl Write` (or a `String`), in the schema's element order.

use crate::model::*;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use std::io::{self, Write};

/// Why a message could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The schema needs at least one entry (files, decisions, results).
    #[error("message {0} needs at least one {1}")]
    Empty(&'static str, &'static str),
    #[error("zip: {0}")]
    Zip(#[from] zip::result::ZipError),
    /// A primary file added to the hand-over ZIP that the 0503 does not reference.
    #[error("document {0:?} is not referenced by the 0503 message")]
    UnknownDocument(String),
    #[error("document {0:?} was added twice")]
    DuplicateDocument(String),
    /// Primary files the 0503 references but that were not added before `finish`.
    #[error("{} documents referenced by the 0503 are missing, first {:?}", .0.len(), .0.first())]
    MissingDocuments(Vec<String>),
}

pub(crate) const NS: &str = "urn:xoev-de:xdomea:schema:3.0.0";

/// A message this crate can write.
pub trait Message {
    fn message_type(&self) -> MessageType;
    fn header(&self) -> &Header;
    /// Writes the message as UTF-8 XML.
    fn write_to(&self, out: &mut dyn Write) -> Result<(), WriteError>;
    /// The message as a string.
    fn to_xml(&self) -> Result<String, WriteError> {
        let mut v = Vec::new();
        self.write_to(&mut v)?;
        // The writer only writes UTF-8.
        String::from_utf8(v).map_err(|e| WriteError::Io(io::Error::other(e)))
    }
    /// `{ProzessID}_{root element}.xml`.
    fn file_name(&self) -> String {
        self.message_type().file_name(self.header().process_id)
    }
}

/// Drops the characters XML 1.0 does not allow and escapes the rest.
fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\r' => o.push_str("&#13;"),
            '\t' | '\n' => o.push(c),
            c if (c as u32) < 0x20 => {}
            '\u{FFFE}' | '\u{FFFF}' => {}
            c => o.push(c),
        }
    }
    o
}

struct X<'a> {
    w: &'a mut dyn Write,
    depth: usize,
}

impl X<'_> {
    fn indent(&mut self) -> io::Result<()> {
        for _ in 0..self.depth {
            self.w.write_all(b"  ")?;
        }
        Ok(())
    }
    fn open(&mut self, name: &str) -> io::Result<()> {
        self.indent()?;
        writeln!(self.w, "<xdomea:{name}>")?;
        self.depth += 1;
        Ok(())
    }
    fn close(&mut self, name: &str) -> io::Result<()> {
        self.depth -= 1;
        self.indent()?;
        writeln!(self.w, "</xdomea:{name}>")
    }
    fn leaf(&mut self, name: &str, text: &str) -> io::Result<()> {
        self.indent()?;
        writeln!(self.w, "<xdomea:{name}>{}</xdomea:{name}>", escape(text))
    }
    fn opt(&mut self, name: &str, text: Option<&str>) -> io::Result<()> {
        match text {
            Some(t) => self.leaf(name, t),
            None => Ok(()),
        }
    }
    fn boolean(&mut self, name: &str, v: bool) -> io::Result<()> {
        self.leaf(name, if v { "1" } else { "0" })
    }
    fn date(&mut self, name: &str, d: NaiveDate) -> io::Result<()> {
        self.leaf(name, &d.format("%Y-%m-%d").to_string())
    }
    fn datetime(&mut self, name: &str, d: DateTime<Utc>) -> io::Result<()> {
        self.leaf(name, &d.to_rfc3339_opts(SecondsFormat::Secs, true))
    }
    /// An `xoev-code:Code`: `code`/`name` are unqualified.
    fn code(&mut self, name: &str, attrs: &str, code: &str, label: Option<&str>) -> io::Result<()> {
        self.indent()?;
        writeln!(self.w, "<xdomea:{name}{attrs}>")?;
        self.indent()?;
        write!(self.w, "  <code>{}</code>", escape(code))?;
        if let Some(l) = label {
            write!(self.w, "<name>{}</name>", escape(l))?;
        }
        writeln!(self.w)?;
        self.indent()?;
        writeln!(self.w, "</xdomea:{name}>")
    }
}

fn root_open(x: &mut X<'_>, t: MessageType) -> io::Result<()> {
    writeln!(x.w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(
        x.w,
        r#"<xdomea:{} xmlns:xdomea="{NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="{NS} http://xdomea.de/schemata/300/xdomea-Nachrichten-AussonderungDurchfuehren.xsd">"#,
        t.root_element()
    )?;
    x.depth = 1;
    Ok(())
}

fn root_close(x: &mut X<'_>, t: MessageType) -> io::Result<()> {
    writeln!(x.w, "</xdomea:{}>", t.root_element())?;
    x.w.flush()
}

fn party(x: &mut X<'_>, name: &str, p: &Party) -> io::Result<()> {
    x.open(name)?;
    if p.authority_key.is_some() || p.prefix.is_some() {
        x.open("Behoerdenkennung")?;
        if let Some(c) = &p.authority_key {
            x.code("Behoerdenschluessel", "", &c.code, c.name.as_deref())?;
        }
        if let Some(c) = &p.prefix {
            x.code("Praefix", "", &c.code, c.name.as_deref())?;
        }
        x.close("Behoerdenkennung")?;
    }
    x.open("Institution")?;
    x.leaf("Name", &p.name)?;
    x.opt("Kurzbezeichnung", p.short_name.as_deref())?;
    x.close("Institution")?;
    if let Some(u) = &p.unit {
        x.open("Organisationseinheit")?;
        x.leaf("Name", u)?;
        x.close("Organisationseinheit")?;
    }
    x.close(name)
}

/// The `NkBasisType` part of the Kopf (left open for the extensions).
fn kopf(x: &mut X<'_>, h: &Header, t: MessageType) -> io::Result<()> {
    x.open("Kopf")?;
    x.leaf("ProzessID", &h.process_id.to_string())?;
    x.code(
        "Nachrichtentyp",
        r#" listURI="urn:xoev-de:xdomea:codeliste:nachrichtentyp" listVersionID="2.0""#,
        t.code(),
        None,
    )?;
    x.datetime("Erstellungszeitpunkt", h.created_at)?;
    party(x, "Absender", &h.sender)?;
    party(x, "Empfaenger", &h.recipient)?;
    x.open("SendendesSystem")?;
    x.leaf("Produktname", "Rathaus")?;
    x.leaf("Version", env!("CARGO_PKG_VERSION"))?;
    x.close("SendendesSystem")
}

const AUSSONDERUNGSART_ATTRS: &str =
    r#" listURI="urn:xoev-de:xdomea:codeliste:aussonderungsart" listVersionID="1.0""#;

fn disposition(x: &mut X<'_>, d: Disposition) -> io::Result<()> {
    x.open("Aussonderungsart")?;
    x.code("Aussonderungsart", AUSSONDERUNGSART_ATTRS, d.code(), None)?;
    x.close("Aussonderungsart")
}

fn laufzeit(x: &mut X<'_>, from: NaiveDate, to: Option<NaiveDate>) -> io::Result<()> {
    x.open("Laufzeit")?;
    x.date("Beginn", from)?;
    if let Some(t) = to {
        x.date("Ende", t)?;
    }
    x.close("Laufzeit")
}

fn file(x: &mut X<'_>, f: &RecordFile, primary: bool, name: &str) -> io::Result<()> {
    x.open(name)?;
    x.open("Identifikation")?;
    x.leaf("ID", &f.id.to_string())?;
    x.close("Identifikation")?;
    x.open("AllgemeineMetadaten")?;
    x.leaf("Betreff", &f.title)?;
    x.leaf("Kennzeichen", &f.file_number)?;
    x.open("Aktenplaneinheit")?;
    x.leaf("Kennzeichen", &f.plan_item.code)?;
    x.leaf("Inhaltsangabe", &f.plan_item.title)?;
    x.close("Aktenplaneinheit")?;
    x.close("AllgemeineMetadaten")?;
    x.open("ArchivspezifischeMetadaten")?;
    match f.retention {
        Some(Retention::Years(n)) => {
            x.open("Aufbewahrungsdauer")?;
            x.leaf("AnzahlJahre", &n.to_string())?;
            x.close("Aufbewahrungsdauer")?;
        }
        Some(Retention::Unlimited) => {
            x.open("Aufbewahrungsdauer")?;
            x.boolean("Unbefristet", true)?;
            x.close("Aufbewahrungsdauer")?;
        }
        None => {}
    }
    disposition(x, f.disposition)?;
    if let Some(d) = f.retention_until {
        x.date("Aufbewahrungsende", d)?;
    }
    x.close("ArchivspezifischeMetadaten")?;
    x.opt("Typ", f.kind.as_deref())?;
    laufzeit(x, f.opened_on, f.closed_on)?;
    if !(f.documents.is_empty() && f.cases.is_empty() && f.sub_files.is_empty()) {
        x.open("Akteninhalt")?;
        for d in &f.documents {
            document(x, d, primary)?;
        }
        for c in &f.cases {
            case(x, c, f.disposition, primary)?;
        }
        for s in &f.sub_files {
            file(x, s, primary, "Teilakte")?;
        }
        x.close("Akteninhalt")?;
    }
    if let Some(d) = f.closed_on {
        x.boolean("ZdA", true)?;
        x.date("ZdADatum", d)?;
    }
    x.close(name)
}

fn case(x: &mut X<'_>, c: &Case, d: Disposition, primary: bool) -> io::Result<()> {
    x.open("Vorgang")?;
    x.open("Identifikation")?;
    x.leaf("ID", &c.id.to_string())?;
    x.close("Identifikation")?;
    x.open("AllgemeineMetadaten")?;
    x.leaf("Betreff", &c.title)?;
    x.opt("Kennzeichen", c.reference.as_deref())?;
    x.close("AllgemeineMetadaten")?;
    x.open("ArchivspezifischeMetadaten")?;
    disposition(x, d)?;
    x.close("ArchivspezifischeMetadaten")?;
    if let Some(d) = c.closed_on {
        x.boolean("ZdA", true)?;
        x.date("ZdADatum", d)?;
    }
    laufzeit(x, c.opened_on, c.closed_on)?;
    for doc in &c.documents {
        document(x, doc, primary)?;
    }
    x.close("Vorgang")
}

fn document(x: &mut X<'_>, d: &Document, primary: bool) -> io::Result<()> {
    x.open("Dokument")?;
    x.open("Identifikation")?;
    x.leaf("ID", &d.id.to_string())?;
    x.close("Identifikation")?;
    x.open("AllgemeineMetadaten")?;
    x.leaf("Betreff", &d.title)?;
    x.close("AllgemeineMetadaten")?;
    let date_el = match d.direction {
        Direction::Incoming => "Posteingangsdatum",
        Direction::Outgoing => "Postausgangsdatum",
        Direction::Internal => "DatumDesSchreibens",
    };
    x.date(date_el, d.date)?;
    x.opt("Typ", d.kind.as_deref())?;
    if primary {
        for v in &d.versions {
            x.open("Version")?;
            x.leaf("Nummer", &v.number.to_string())?;
            x.open("Format")?;
            let (code, other) = file_format(&v.name, &v.mime);
            x.code(
                "Name",
                r#" listURI="urn:xoev-de:xdomea:codeliste:dateiformat" listVersionID="1.0""#,
                code,
                None,
            )?;
            if other {
                x.leaf("SonstigerName", &v.mime)?;
            }
            // The format's version (e.g. PDF 1.7) is not known here; the element is required.
            x.leaf("Version", "")?;
            x.open("Primaerdokument")?;
            x.leaf("Dateiname", &v.zip_name())?;
            x.leaf("DateinameOriginal", &v.name)?;
            x.opt("Ersteller", v.created_by.as_deref())?;
            if let Some(t) = v.created_at {
                x.datetime("DatumUhrzeit", t)?;
            }
            x.close("Primaerdokument")?;
            x.close("Format")?;
            x.close("Version")?;
        }
    }
    x.close("Dokument")
}

/// The `Dateiformat` code (code list 1.0) for a file name and media type; `true` when it is
/// `100` (Sonstiges) and the media type goes to `SonstigerName`.
pub fn file_format(name: &str, mime: &str) -> (&'static str, bool) {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let by_ext = match ext.as_str() {
        "bmp" => "001",
        "csv" => "002",
        "doc" => "003",
        "eml" => "006",
        "htm" => "007",
        "html" => "008",
        "jpe" => "009",
        "jpeg" => "010",
        "jpg" => "011",
        "msg" => "012",
        "odp" => "013",
        "ods" => "014",
        "odt" => "015",
        "pdf" => "018",
        "png" => "019",
        "ppt" => "020",
        "ps" => "021",
        "rtf" => "022",
        "tif" => "023",
        "tiff" => "024",
        "xls" => "028",
        "xml" => "030",
        "docx" => "035",
        "xlsx" => "036",
        "pptx" => "037",
        "txt" => "045",
        _ => "",
    };
    if !by_ext.is_empty() {
        return (by_ext, false);
    }
    let by_mime = match mime.split(';').next().unwrap_or("").trim() {
        "application/pdf" => "018",
        "image/png" => "019",
        "image/jpeg" => "011",
        "image/tiff" => "024",
        "text/plain" => "045",
        "text/csv" => "002",
        "application/xml" | "text/xml" => "030",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "035",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "036",
        "application/vnd.oasis.opendocument.text" => "015",
        "application/vnd.oasis.opendocument.spreadsheet" => "014",
        _ => "",
    };
    if by_mime.is_empty() {
        ("100", true)
    } else {
        (by_mime, false)
    }
}

impl Message for Offer {
    fn message_type(&self) -> MessageType {
        MessageType::Offer
    }
    fn header(&self) -> &Header {
        &self.header
    }
    fn write_to(&self, out: &mut dyn Write) -> Result<(), WriteError> {
        let t = self.message_type();
        if self.files.is_empty() {
            return Err(WriteError::Empty(t.code(), "file"));
        }
        let mut x = X { w: out, depth: 0 };
        root_open(&mut x, t)?;
        kopf(&mut x, &self.header, t)?;
        x.boolean("Empfangsbestaetigung", self.request_receipt)?;
        x.close("Kopf")?;
        for f in &self.files {
            x.open("Schriftgutobjekt")?;
            file(&mut x, f, false, "Akte")?;
            x.close("Schriftgutobjekt")?;
        }
        root_close(&mut x, t)?;
        Ok(())
    }
}

impl Message for HandOver {
    fn message_type(&self) -> MessageType {
        MessageType::HandOver
    }
    fn header(&self) -> &Header {
        &self.header
    }
    fn write_to(&self, out: &mut dyn Write) -> Result<(), WriteError> {
        let t = self.message_type();
        if self.files.is_empty() {
            return Err(WriteError::Empty(t.code(), "file"));
        }
        let mut x = X { w: out, depth: 0 };
        root_open(&mut x, t)?;
        kopf(&mut x, &self.header, t)?;
        // Fixed to 1 by the schema (`true` is rejected by xmllint).
        x.boolean("Importbestaetigung", true)?;
        x.boolean("RueckmeldungArchivkennung", self.request_archive_ids)?;
        x.boolean("Empfangsbestaetigung", self.request_receipt)?;
        x.close("Kopf")?;
        for f in &self.files {
            x.open("Schriftgutobjekt")?;
            file(&mut x, f, true, "Akte")?;
            x.close("Schriftgutobjekt")?;
        }
        root_close(&mut x, t)?;
        Ok(())
    }
}

impl HandOver {
    /// The names of all primary files the message references (what the ZIP must contain).
    pub fn primary_files(&self) -> Vec<String> {
        fn docs(ds: &[Document], out: &mut Vec<String>) {
            for d in ds {
                out.extend(d.versions.iter().map(Version::zip_name));
            }
        }
        fn walk(f: &RecordFile, out: &mut Vec<String>) {
            docs(&f.documents, out);
            for c in &f.cases {
                docs(&c.documents, out);
            }
            for s in &f.sub_files {
                walk(s, out);
            }
        }
        let mut out = Vec::new();
        for f in &self.files {
            walk(f, &mut out);
        }
        out
    }
}

impl Message for Appraisal {
    fn message_type(&self) -> MessageType {
        MessageType::Appraisal
    }
    fn header(&self) -> &Header {
        &self.header
    }
    fn write_to(&self, out: &mut dyn Write) -> Result<(), WriteError> {
        let t = self.message_type();
        if self.decisions.is_empty() {
            return Err(WriteError::Empty(t.code(), "decision"));
        }
        let mut x = X { w: out, depth: 0 };
        root_open(&mut x, t)?;
        kopf(&mut x, &self.header, t)?;
        x.boolean("Empfangsbestaetigung", self.request_receipt)?;
        x.close("Kopf")?;
        for d in &self.decisions {
            x.open("BewertetesObjekt")?;
            x.leaf("ID", &d.id.to_string())?;
            disposition(&mut x, d.disposition)?;
            x.close("BewertetesObjekt")?;
        }
        root_close(&mut x, t)?;
        Ok(())
    }
}

impl Message for Receipt {
    fn message_type(&self) -> MessageType {
        self.kind.message_type()
    }
    fn header(&self) -> &Header {
        &self.header
    }
    fn write_to(&self, out: &mut dyn Write) -> Result<(), WriteError> {
        let t = self.message_type();
        let mut x = X { w: out, depth: 0 };
        root_open(&mut x, t)?;
        kopf(&mut x, &self.header, t)?;
        x.close("Kopf")?;
        root_close(&mut x, t)?;
        Ok(())
    }
}

impl Message for ImportConfirmation {
    fn message_type(&self) -> MessageType {
        MessageType::ImportConfirmation
    }
    fn header(&self) -> &Header {
        &self.header
    }
    fn write_to(&self, out: &mut dyn Write) -> Result<(), WriteError> {
        let t = self.message_type();
        if self.results.is_empty() {
            return Err(WriteError::Empty(t.code(), "result"));
        }
        let mut x = X { w: out, depth: 0 };
        root_open(&mut x, t)?;
        kopf(&mut x, &self.header, t)?;
        x.close("Kopf")?;
        for r in &self.results {
            x.open("AusgesondertesSGO")?;
            x.leaf("IDSGO", &r.id.to_string())?;
            x.boolean("Erfolgreich", r.success)?;
            x.opt("Fehlermeldung", r.error.as_deref())?;
            x.opt("Archivkennung", r.archive_id.as_deref())?;
            x.close("AusgesondertesSGO")?;
        }
        root_close(&mut x, t)?;
        Ok(())
    }
}
