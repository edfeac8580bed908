//! xdomea 3.0.0 messages of the archive hand-over (Aussonderung, 0501–0507): pure writers and
//! readers, and the streaming 0503 ZIP. No database, no HTTP: the E-Akte (`rathaus-records`)
//! fills the plain [`model`] from its tables and calls these functions.
//!
//! The flow: the records system writes a 0501 [`Offer`] (files with metadata, no primary
//! files); the archive answers with a 0504 receipt ([`read_receipt`]) and a 0502 appraisal
//! ([`read_appraisal`], then [`Appraisal::check_offered`]) which the records system confirms
//! with a 0505 [`Receipt`]; the files to archive go out as a 0503 [`HandOver`] inside a ZIP
//! ([`HandOverZip`] / [`AsyncHandOverZip`], named [`handover_zip_name`]); the archive sends
//! a 0507 receipt and a 0506 [`ImportConfirmation`] per object
//! ([`read_import_confirmation`]). The archive's messages (0502, 0504, 0506, 0507) can also be
//! written, so tests can play the archive.
//!
//! Every message written validates against `xdomea-Nachrichten-AussonderungDurchfuehren.xsd`
//! (the crate's tests run `xmllint --schema` on each). Ids are UUIDs: [`ProcessId`] for the
//! Aussonderung, [`ObjectId`] for files, cases, documents and primary files;
//! [`ObjectId::derived`] makes stable ones from integer ids. See ADR 0017.
//!
//! Streaming to an HTTP client: create `tokio::io::duplex(64 * 1024)`, spawn a task that
//! runs [`AsyncHandOverZip`] on one half (reading each stored file as an `AsyncRead`), and
//! send the other half as the body (`ReaderStream`).

pub mod model;
mod package;
mod read;
mod write;

pub use model::{
    Appraisal, Case, Code, Decision, Direction, Disposition, Document, HandOver, Header,
    ImportConfirmation, ImportResult, InvalidId, MessageType, ObjectId, ObjectKind, Offer, Party,
    PlanItem, ProcessId, Receipt, ReceiptKind, RecordFile, Retention, Version,
};
pub use package::{AsyncHandOverZip, HandOverZip, handover_zip_name};
pub use read::{
    ReadError, message_type, read_appraisal, read_import_confirmation, read_receipt, unpack_message,
};
pub use write::{Message, WriteError, file_format};
