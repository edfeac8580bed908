//! The 0503 hand-over ZIP, written as a stream: the message first, then each primary file as
//! it is read. Nothing but a small chunk and the compressor's window is held in memory; the
//! ZIP uses data descriptors, so the output needs no `Seek`.

use crate::model::{HandOver, MessageType, ProcessId};
use crate::write::{Message, WriteError};
use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use zip::write::{SimpleFileOptions, StreamWriter};
use zip::{CompressionMethod, ZipWriter};

const CHUNK: usize = 64 * 1024;

/// Already compressed formats are stored, the rest deflated.
fn options(name: &str) -> SimpleFileOptions {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let stored = matches!(
        ext.as_str(),
        "pdf"
            | "jpg"
            | "jpeg"
            | "jpe"
            | "png"
            | "gif"
            | "webp"
            | "zip"
            | "gz"
            | "docx"
            | "xlsx"
            | "pptx"
            | "odt"
            | "ods"
            | "odp"
            | "mp4"
            | "mp3"
    );
    SimpleFileOptions::default()
        .compression_method(if stored {
            CompressionMethod::Stored
        } else {
            CompressionMethod::Deflated
        })
        .unix_permissions(0o644)
}

struct Core<W: Write> {
    zip: ZipWriter<StreamWriter<W>>,
    expected: HashSet<String>,
    added: HashSet<String>,
}

impl<W: Write> Core<W> {
    fn new(out: W, message: &HandOver) -> Result<Self, WriteError> {
        let mut zip = ZipWriter::new_stream(out);
        zip.start_file(message.file_name(), options("x.xml"))?;
        message.write_to(&mut zip)?;
        Ok(Core {
            zip,
            expected: message.primary_files().into_iter().collect(),
            added: HashSet::new(),
        })
    }
    fn start(&mut self, name: &str) -> Result<(), WriteError> {
        if !self.expected.contains(name) {
            return Err(WriteError::UnknownDocument(name.to_string()));
        }
        if !self.added.insert(name.to_string()) {
            return Err(WriteError::DuplicateDocument(name.to_string()));
        }
        self.zip.start_file(name, options(name))?;
        Ok(())
    }
    fn finish(self) -> Result<W, WriteError> {
        let mut missing: Vec<String> = self.expected.difference(&self.added).cloned().collect();
        if !missing.is_empty() {
            missing.sort();
            return Err(WriteError::MissingDocuments(missing));
        }
        Ok(self.zip.finish()?.into_inner())
    }
}

/// The recommended file name of the hand-over ZIP: `{ProzessID}_Aussonderung.Aussonderung.0503.zip`.
pub fn handover_zip_name(process: ProcessId) -> String {
    MessageType::HandOver.zip_name(process)
}

/// Writes the 0503 ZIP to a blocking `Write` (a file, a pipe, a channel).
///
/// `new` writes the message (`{ProzessID}_Aussonderung.Aussonderung.0503.xml`), then
/// [`add_document`](Self::add_document) each primary file under its [`Version::zip_name`]
/// (crate::model::Version::zip_name), then [`finish`](Self::finish). A name the message does
/// not reference, a duplicate or a referenced file left out is an error.
pub struct HandOverZip<W: Write> {
    core: Core<W>,
}

impl<W: Write> HandOverZip<W> {
    pub fn new(out: W, message: &HandOver) -> Result<Self, WriteError> {
        Ok(HandOverZip {
            core: Core::new(out, message)?,
        })
    }

    /// Copies one primary file into the ZIP; returns its size.
    pub fn add_document(&mut self, name: &str, content: &mut dyn Read) -> Result<u64, WriteError> {
        self.core.start(name)?;
        Ok(io::copy(content, &mut self.core.zip)?)
    }

    /// Writes the central directory; returns the output.
    pub fn finish(self) -> Result<W, WriteError> {
        self.core.finish()
    }
}

/// The bytes the ZIP writer produced and the async side has not sent yet.
#[derive(Clone, Default)]
struct Pending(Arc<Mutex<Vec<u8>>>);

impl Pending {
    fn take(&self) -> Vec<u8> {
        match self.0.lock() {
            Ok(mut g) => std::mem::take(&mut *g),
            Err(p) => std::mem::take(&mut *p.into_inner()),
        }
    }
}

impl Write for Pending {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.0.lock() {
            Ok(mut g) => g.extend_from_slice(buf),
            Err(p) => p.into_inner().extend_from_slice(buf),
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The same as [`HandOverZip`] for tokio: writes to an `AsyncWrite` (e.g. one half of
/// `tokio::io::duplex`, whose other half becomes the HTTP body) and reads each document from
/// an `AsyncRead`. Between two chunks the produced bytes are sent on, so what is held is one
/// 64 KiB chunk plus the compressor's state.
pub struct AsyncHandOverZip<W: AsyncWrite + Unpin> {
    core: Core<Pending>,
    pending: Pending,
    out: W,
    peak: usize,
}

impl<W: AsyncWrite + Unpin> AsyncHandOverZip<W> {
    pub async fn new(out: W, message: &HandOver) -> Result<Self, WriteError> {
        let pending = Pending::default();
        let core = Core::new(pending.clone(), message)?;
        let mut z = AsyncHandOverZip {
            core,
            pending,
            out,
            peak: 0,
        };
        z.drain().await?;
        // The message itself goes out in one piece; the peak counts the documents' bytes.
        z.peak = 0;
        Ok(z)
    }

    async fn drain(&mut self) -> Result<(), WriteError> {
        let bytes = self.pending.take();
        self.peak = self.peak.max(bytes.len());
        if !bytes.is_empty() {
            self.out.write_all(&bytes).await?;
        }
        Ok(())
    }

    /// Copies one primary file into the ZIP; returns its size.
    pub async fn add_document<R: AsyncRead + Unpin>(
        &mut self,
        name: &str,
        content: &mut R,
    ) -> Result<u64, WriteError> {
        self.core.start(name)?;
        let mut buf = vec![0u8; CHUNK];
        let mut total = 0u64;
        loop {
            let n = content.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            self.core.zip.write_all(&buf[..n])?;
            total += n as u64;
            self.drain().await?;
        }
        Ok(total)
    }

    /// The most bytes that were ever waiting between the ZIP writer and the output while
    /// documents were copied (a measure that the ZIP streams).
    pub fn peak_pending(&self) -> usize {
        self.peak
    }

    /// Writes the central directory, flushes and returns the output.
    pub async fn finish(mut self) -> Result<W, WriteError> {
        let pending = self.pending.clone();
        self.core.finish()?;
        let rest = pending.take();
        self.out.write_all(&rest).await?;
        self.out.flush().await?;
        Ok(self.out)
    }
}
