use crate::common;

use common::*;
use rathaus_xdomea::*;
use std::io::{Read, Write};
use std::sync::{Arc, Mutex};

/// Counts the bytes written and keeps nothing.
#[derive(Clone, Default)]
struct Counter(Arc<Mutex<u64>>);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        *self.0.lock().unwrap() += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A reader of `len` pseudo-random bytes, made up as it is read.
struct Noise {
    left: usize,
    state: u64,
}

impl Read for Noise {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.left);
        for b in &mut buf[..n] {
            self.state = self
                .state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *b = (self.state >> 56) as u8;
        }
        self.left -= n;
        Ok(n)
    }
}

/// `n` files with one document each (umlauts in names).
fn big_handover(n: i64) -> HandOver {
    let template = files().remove(0);
    let mut h = handover();
    h.files = (0..n)
        .map(|i| {
            let mut f = template.clone();
            f.id = id(ObjectKind::File, 1000 + i);
            f.file_number = format!("022.31-{i:04}/2024");
            f.cases.clear();
            f.documents = vec![document(
                1000 + i,
                &format!("Bescheid Nr. {i} für Frau Öztürk"),
                Direction::Outgoing,
                &format!("Bescheid Öztürk {i}.pdf"),
                "application/pdf",
            )];
            f
        })
        .collect();
    h
}

#[test]
fn zip_streams_200_documents_without_buffering() {
    const DOC: usize = 200 * 1024;
    let h = big_handover(200);
    let names = h.primary_files();
    assert_eq!(names.len(), 200);
    let counter = Counter::default();
    let mut z = HandOverZip::new(counter.clone(), &h).unwrap();
    let mut input = 0u64;
    for (i, name) in names.iter().enumerate() {
        let mut r = Noise {
            left: DOC,
            state: i as u64,
        };
        input += z.add_document(name, &mut r).unwrap();
        // Everything but a small tail has already left the writer.
        let out = *counter.0.lock().unwrap();
        assert!(
            out + 64 * 1024 >= input,
            "after {} documents {input} bytes in, only {out} out",
            i + 1
        );
    }
    z.finish().unwrap();
    assert!(*counter.0.lock().unwrap() >= input);
}

#[tokio::test]
async fn async_zip_streams_200_documents_with_small_peak() {
    let h = big_handover(200);
    let names = h.primary_files();
    let (w, mut r) = tokio::io::duplex(64 * 1024);
    let reader = tokio::spawn(async move {
        let mut total = 0u64;
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            let n = tokio::io::AsyncReadExt::read(&mut r, &mut buf)
                .await
                .unwrap();
            if n == 0 {
                break total;
            }
            total += n as u64;
        }
    });
    let mut z = AsyncHandOverZip::new(w, &h).await.unwrap();
    let mut input = 0u64;
    for (i, name) in names.iter().enumerate() {
        let mut data: Vec<u8> = Vec::new();
        Noise {
            left: 200 * 1024,
            state: i as u64,
        }
        .read_to_end(&mut data)
        .unwrap();
        input += z.add_document(name, &mut data.as_slice()).await.unwrap();
    }
    let peak = z.peak_pending();
    drop(z.finish().await.unwrap());
    let out = reader.await.unwrap();
    assert!(out >= input, "{out} < {input}");
    // While documents are copied, the pending bytes never exceed a chunk plus an entry header.
    eprintln!("200 documents, {input} bytes in, {out} bytes out, peak pending {peak} bytes");
    assert!(peak <= 64 * 1024 + 4096, "peak pending {peak}");
}

#[test]
fn zip_opens_with_message_and_documents_and_the_message_validates() {
    let h = handover();
    let mut z = HandOverZip::new(Vec::new(), &h).unwrap();
    let names = h.primary_files();
    for n in &names {
        let body = format!("Inhalt von {n}");
        z.add_document(n, &mut body.as_bytes()).unwrap();
    }
    let bytes = z.finish().unwrap();
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(a.len(), names.len() + 1);
    let msg_name = "242f44e8-bebf-4503-a086-db252c6a4277_Aussonderung.Aussonderung.0503.xml";
    let mut xml = String::new();
    a.by_name(msg_name)
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    assert_eq!(xml, h.to_xml().unwrap());
    validate(&xml);
    for n in &names {
        let mut s = String::new();
        a.by_name(n).unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, format!("Inhalt von {n}"));
    }
    assert_eq!(
        handover_zip_name(pid()),
        "242f44e8-bebf-4503-a086-db252c6a4277_Aussonderung.Aussonderung.0503.zip"
    );
}

#[test]
fn zip_refuses_unknown_duplicate_and_missing_documents() {
    let h = handover();
    let names = h.primary_files();
    let mut z = HandOverZip::new(Vec::new(), &h).unwrap();
    assert!(matches!(
        z.add_document("../etc/passwd", &mut &b""[..]),
        Err(WriteError::UnknownDocument(_))
    ));
    z.add_document(&names[0], &mut &b"x"[..]).unwrap();
    assert!(matches!(
        z.add_document(&names[0], &mut &b"x"[..]),
        Err(WriteError::DuplicateDocument(_))
    ));
    match z.finish() {
        Err(WriteError::MissingDocuments(m)) => assert_eq!(m.len(), names.len() - 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn handover_of_1000_files_validates() {
    let h = big_handover(1000);
    validate(&h.to_xml().unwrap());
}
