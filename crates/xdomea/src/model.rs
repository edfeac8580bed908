//! The plain input and output model of the messages: owned structs, no database types.

use chrono::{DateTime, NaiveDate, Utc};
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// The `ProzessID` of one Aussonderung: the same UUID in every message 0501–0507 of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProcessId(pub Uuid);

/// The UUID of a Schriftgutobjekt (Akte, Vorgang, Dokument) or of a primary file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(pub Uuid);

/// What a local id of [`ObjectId::derived`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    File,
    Case,
    Document,
    Version,
}

impl ObjectId {
    /// A stable UUID for a local integer id: the same (namespace, kind, id) always gives the
    /// same UUID, so no mapping table is needed. Use the offer's process id as the namespace
    /// (`ObjectId::derived(pid.0, ObjectKind::File, file_id)`): it is random per offer, so the
    /// UUIDs of two municipalities or tenants never collide at the archive.
    pub fn derived(namespace: Uuid, kind: ObjectKind, local_id: i64) -> ObjectId {
        let tag: &[u8] = match kind {
            ObjectKind::File => b"file",
            ObjectKind::Case => b"case",
            ObjectKind::Document => b"document",
            ObjectKind::Version => b"version",
        };
        let mut h = Sha256::new();
        h.update(namespace.as_bytes());
        h.update(tag);
        h.update(local_id.to_be_bytes());
        let d = h.finalize();
        let mut b = [0u8; 16];
        b.copy_from_slice(&d[..16]);
        ObjectId(uuid::Builder::from_custom_bytes(b).into_uuid())
    }
}

macro_rules! uuid_newtype {
    ($t:ident) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Lower-case hyphenated: the form `stringUUIDType` expects.
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }
        impl FromStr for $t {
            type Err = InvalidId;
            /// Only the hyphenated 8-4-4-4-12 form (`stringUUIDType`).
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let t = s.trim();
                match uuid::Uuid::try_parse(t) {
                    Ok(u) if t.len() == 36 => Ok($t(u)),
                    _ => Err(InvalidId(s.to_string())),
                }
            }
        }
    };
}

/// A text that is not a hyphenated UUID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a UUID (8-4-4-4-12 hex digits): {0:?}")]
pub struct InvalidId(pub String);

uuid_newtype!(ProcessId);
uuid_newtype!(ObjectId);

impl ProcessId {
    /// A new random process id (for a new offer).
    pub fn new_random() -> ProcessId {
        ProcessId(Uuid::new_v4())
    }
}

/// `Aussonderungsart`: what happens to a file at the end of retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Disposition {
    /// `A`: archive (archivwürdig).
    A,
    /// `B`: to be appraised by the archive.
    B,
    /// `V`: destroy (vernichten).
    V,
}

impl Disposition {
    pub fn code(self) -> &'static str {
        match self {
            Disposition::A => "A",
            Disposition::B => "B",
            Disposition::V => "V",
        }
    }
    pub fn from_code(code: &str) -> Option<Disposition> {
        match code.trim() {
            "A" => Some(Disposition::A),
            "B" => Some(Disposition::B),
            "V" => Some(Disposition::V),
            _ => None,
        }
    }
}

/// The seven messages of the Aussonderung.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// 0501 Anbieteverzeichnis (offer), records system → archive.
    Offer,
    /// 0502 Bewertungsverzeichnis (appraisal), archive → records system.
    Appraisal,
    /// 0503 Aussonderung (hand-over), records system → archive.
    HandOver,
    /// 0504 receipt of the 0501, archive → records system.
    OfferReceipt,
    /// 0505 receipt of the 0502, records system → archive.
    AppraisalReceipt,
    /// 0506 import confirmation per object, archive → records system.
    ImportConfirmation,
    /// 0507 receipt of the 0503, archive → records system.
    HandOverReceipt,
}

impl MessageType {
    pub const ALL: [MessageType; 7] = [
        MessageType::Offer,
        MessageType::Appraisal,
        MessageType::HandOver,
        MessageType::OfferReceipt,
        MessageType::AppraisalReceipt,
        MessageType::ImportConfirmation,
        MessageType::HandOverReceipt,
    ];

    /// The `Nachrichtentyp` code, `0501` …
    pub fn code(self) -> &'static str {
        match self {
            MessageType::Offer => "0501",
            MessageType::Appraisal => "0502",
            MessageType::HandOver => "0503",
            MessageType::OfferReceipt => "0504",
            MessageType::AppraisalReceipt => "0505",
            MessageType::ImportConfirmation => "0506",
            MessageType::HandOverReceipt => "0507",
        }
    }

    /// The root element's local name, `Aussonderung.Anbieteverzeichnis.0501` …
    pub fn root_element(self) -> &'static str {
        match self {
            MessageType::Offer => "Aussonderung.Anbieteverzeichnis.0501",
            MessageType::Appraisal => "Aussonderung.Bewertungsverzeichnis.0502",
            MessageType::HandOver => "Aussonderung.Aussonderung.0503",
            MessageType::OfferReceipt => "Aussonderung.AnbietungEmpfangBestaetigen.0504",
            MessageType::AppraisalReceipt => "Aussonderung.BewertungEmpfangBestaetigen.0505",
            MessageType::ImportConfirmation => "Aussonderung.AussonderungImportBestaetigen.0506",
            MessageType::HandOverReceipt => "Aussonderung.AussonderungEmpfangBestaetigen.0507",
        }
    }

    pub fn from_root_element(name: &str) -> Option<MessageType> {
        MessageType::ALL
            .into_iter()
            .find(|t| t.root_element() == name)
    }

    /// The message's file name by the xdomea convention: `{ProzessID}_{root element}.xml`.
    pub fn file_name(self, process: ProcessId) -> String {
        format!("{process}_{}.xml", self.root_element())
    }

    /// The name of the ZIP that carries the message: `{ProzessID}_{root element}.zip`.
    pub fn zip_name(self, process: ProcessId) -> String {
        format!("{process}_{}.zip", self.root_element())
    }
}

/// A code with an optional name (`xoev-code:Code`), e.g. a `Behoerdenschluessel`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Code {
    pub code: String,
    pub name: Option<String>,
}

/// Sender or recipient (`KontaktType`), the parts the Kopf needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Party {
    /// `Institution/Name`, e.g. "Gemeinde Musterstadt" or "Landesarchiv Thüringen".
    pub name: String,
    /// `Institution/Kurzbezeichnung`.
    pub short_name: Option<String>,
    /// `Behoerdenkennung/Behoerdenschluessel` (as agreed with the archive).
    pub authority_key: Option<Code>,
    /// `Behoerdenkennung/Praefix`.
    pub prefix: Option<Code>,
    /// `Organisationseinheit/Name`, e.g. "Hauptamt".
    pub unit: Option<String>,
}

/// The header data every message carries (`Kopf`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub process_id: ProcessId,
    /// `Erstellungszeitpunkt`. Read from a message without offset, it is taken as German
    /// local time (Europe/Berlin).
    pub created_at: DateTime<Utc>,
    pub sender: Party,
    pub recipient: Party,
}

/// `Aufbewahrungsdauer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retention {
    Years(u16),
    Unlimited,
}

/// A plan item (`Aktenplaneinheit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanItem {
    /// `Kennzeichen`, e.g. `022.31`.
    pub code: String,
    /// `Inhaltsangabe`.
    pub title: String,
}

/// A file (`Akte`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFile {
    pub id: ObjectId,
    /// The Aktenzeichen (`AllgemeineMetadaten/Kennzeichen`).
    pub file_number: String,
    /// `Betreff`.
    pub title: String,
    pub plan_item: PlanItem,
    /// `Typ`, e.g. "Personalakte" (optional).
    pub kind: Option<String>,
    /// `Laufzeit/Beginn`.
    pub opened_on: NaiveDate,
    /// `Laufzeit/Ende`, and `ZdA` = 1 with `ZdADatum` when set.
    pub closed_on: Option<NaiveDate>,
    pub retention: Option<Retention>,
    /// `Aufbewahrungsende`.
    pub retention_until: Option<NaiveDate>,
    /// `Aussonderungsart` (also written on the file's cases).
    pub disposition: Disposition,
    /// Documents directly in the file.
    pub documents: Vec<Document>,
    pub cases: Vec<Case>,
    /// Sub-files (`Teilakte`), e.g. of a personnel file.
    pub sub_files: Vec<RecordFile>,
}

/// A case (`Vorgang`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    pub id: ObjectId,
    /// `Betreff`.
    pub title: String,
    /// `Kennzeichen` (optional).
    pub reference: Option<String>,
    pub opened_on: NaiveDate,
    pub closed_on: Option<NaiveDate>,
    pub documents: Vec<Document>,
}

/// Incoming, outgoing or internal: decides which date element carries the document's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `Posteingangsdatum`.
    Incoming,
    /// `Postausgangsdatum`.
    Outgoing,
    /// `DatumDesSchreibens`.
    Internal,
}

/// A document (`Dokument`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document {
    pub id: ObjectId,
    /// `Betreff`.
    pub title: String,
    pub date: NaiveDate,
    pub direction: Direction,
    /// `Typ`, e.g. "Bescheid" (optional).
    pub kind: Option<String>,
    /// Written only in the 0503 (a 0501 carries no primary files).
    pub versions: Vec<Version>,
}

/// One version of a document with its primary file (`Version/Format/Primaerdokument`).
/// The schema has no place for size or checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// The primary file's UUID: the start of its name in the ZIP.
    pub id: ObjectId,
    /// `Nummer`, 1, 2, …
    pub number: u32,
    /// The original file name (`DateinameOriginal`), e.g. "Bescheid Müller.pdf".
    pub name: String,
    /// The media type; with the name's extension it picks the `Dateiformat` code.
    pub mime: String,
    /// `Ersteller`.
    pub created_by: Option<String>,
    /// `DatumUhrzeit`.
    pub created_at: Option<DateTime<Utc>>,
}

impl Version {
    /// The name of the primary file in the 0503 ZIP and in `Dateiname`:
    /// `{uuid}_{name}` with path separators and control characters replaced.
    pub fn zip_name(&self) -> String {
        let clean: String = self
            .name
            .chars()
            .map(|c| {
                if c == '/' || c == '\\' || c.is_control() || c == ':' {
                    '_'
                } else {
                    c
                }
            })
            .collect();
        let clean = clean.trim().trim_start_matches('.');
        let clean: String = clean.chars().take(150).collect();
        if clean.is_empty() {
            self.id.to_string()
        } else {
            format!("{}_{clean}", self.id)
        }
    }
}

/// 0501: the offer of files to the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub header: Header,
    /// `Empfangsbestaetigung`: ask for a 0504.
    pub request_receipt: bool,
    pub files: Vec<RecordFile>,
}

/// 0503: the hand-over of the files the archive takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandOver {
    pub header: Header,
    /// `Empfangsbestaetigung`: ask for a 0507.
    pub request_receipt: bool,
    /// `RueckmeldungArchivkennung`: ask for the archive ids in the 0506.
    pub request_archive_ids: bool,
    pub files: Vec<RecordFile>,
}

/// The archive's decision on one offered object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub id: ObjectId,
    pub disposition: Disposition,
}

/// 0502: the archive's appraisal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appraisal {
    pub header: Header,
    pub request_receipt: bool,
    pub decisions: Vec<Decision>,
}

/// Which receipt a [`Receipt`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptKind {
    /// 0504, receipt of the 0501.
    Offer,
    /// 0505, receipt of the 0502.
    Appraisal,
    /// 0507, receipt of the 0503.
    HandOver,
}

impl ReceiptKind {
    pub fn message_type(self) -> MessageType {
        match self {
            ReceiptKind::Offer => MessageType::OfferReceipt,
            ReceiptKind::Appraisal => MessageType::AppraisalReceipt,
            ReceiptKind::HandOver => MessageType::HandOverReceipt,
        }
    }
}

/// 0504, 0505, 0507: a receipt, only the Kopf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub kind: ReceiptKind,
    pub header: Header,
}

/// The archive's import result for one handed-over object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportResult {
    pub id: ObjectId,
    /// `Erfolgreich`.
    pub success: bool,
    /// `Fehlermeldung` (several joined with "; ", `FehlermeldungCode` as "code name").
    pub error: Option<String>,
    /// `Archivkennung`.
    pub archive_id: Option<String>,
}

/// 0506: the archive's import confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportConfirmation {
    pub header: Header,
    pub results: Vec<ImportResult>,
}
