//! The readers: the archive's messages (0502, 0504, 0506, 0507; 0505 for tests) into the model.
//! They check what the records system relies on (root element, namespace, `Nachrichtentyp`,
//! UUIDs, codes); elements they do not use are ignored.

use crate::model::*;
use crate::write::NS;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use std::collections::HashSet;

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    #[error("not well-formed XML: {0}")]
    Malformed(String),
    #[error("not an xdomea 3.0.0 Aussonderung message (root element {0:?})")]
    NotXdomea(String),
    #[error("expected message {expected}, got {found}")]
    WrongType {
        expected: &'static str,
        found: &'static str,
    },
    #[error("Nachrichtentyp {code:?} does not match the root element {root}")]
    TypeMismatch { code: String, root: &'static str },
    #[error("missing element {0}")]
    Missing(&'static str),
    #[error("invalid {element}: {value:?}")]
    Invalid {
        element: &'static str,
        value: String,
    },
    #[error("unknown Aussonderungsart {0:?} (expected A, B or V)")]
    UnknownDisposition(String),
    #[error("object {0} appears more than once")]
    Duplicate(ObjectId),
    #[error("{} objects were not offered, first {}", .0.len(), .0[0])]
    NotOffered(Vec<ObjectId>),
    #[error("zip: {0}")]
    Zip(String),
}

#[derive(Debug, Default)]
struct Node {
    /// Local name; `qualified` when in the xdomea namespace.
    name: String,
    qualified: bool,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.qualified && c.name == name)
    }
    fn children<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children
            .iter()
            .filter(move |c| c.qualified && c.name == name)
    }
    fn req(&self, name: &'static str) -> Result<&Node, ReadError> {
        self.child(name).ok_or(ReadError::Missing(name))
    }
    /// The unqualified `code` of an `xoev-code:Code`.
    fn code(&self) -> Option<&str> {
        self.children
            .iter()
            .find(|c| !c.qualified && c.name == "code")
            .map(|c| c.text.trim())
    }
    fn code_name(&self) -> Option<&str> {
        self.children
            .iter()
            .find(|c| !c.qualified && c.name == "name")
            .map(|c| c.text.trim())
    }
    fn text_of(&self, name: &str) -> Option<String> {
        self.child(name)
            .map(|c| c.text.trim().to_string())
            .filter(|t| !t.is_empty())
    }
}

const MAX_DEPTH: usize = 64;

fn parse(xml: &str) -> Result<Node, ReadError> {
    let mal = |e: &dyn std::fmt::Display| ReadError::Malformed(e.to_string());
    let mut r = quick_xml::NsReader::from_str(xml);
    r.config_mut().expand_empty_elements = true;
    let mut stack: Vec<Node> = Vec::new();
    loop {
        let (ns, ev) = r.read_resolved_event().map_err(|e| mal(&e))?;
        let qualified = matches!(ns, ResolveResult::Bound(n) if n.as_ref() == NS.as_bytes());
        match ev {
            Event::Start(e) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(ReadError::Malformed("nested too deeply".into()));
                }
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push(Node {
                    name,
                    qualified,
                    ..Node::default()
                });
            }
            Event::End(_) => {
                let n = stack
                    .pop()
                    .ok_or_else(|| ReadError::Malformed("unbalanced end tag".into()))?;
                match stack.last_mut() {
                    Some(p) => p.children.push(n),
                    None => {
                        // Only whitespace, comments or PIs may follow the root.
                        loop {
                            match r.read_event().map_err(|e| mal(&e))? {
                                Event::Eof => return Ok(n),
                                Event::Text(t)
                                    if t.iter().all(|b: &u8| b.is_ascii_whitespace()) => {}
                                Event::Comment(_) | Event::PI(_) => {}
                                _ => {
                                    return Err(ReadError::Malformed(
                                        "content after the root element".into(),
                                    ));
                                }
                            }
                        }
                    }
                }
            }
            Event::Text(t) => {
                let s = t.xml_content().map_err(|e| mal(&e))?;
                match stack.last_mut() {
                    Some(n) => n.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(ReadError::Malformed("text outside the root".into())),
                }
            }
            Event::CData(t) => {
                let s = t.decode().map_err(|e| mal(&e))?;
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&s);
                }
            }
            Event::GeneralRef(g) => {
                let s = if g.is_char_ref() {
                    g.resolve_char_ref()
                        .map_err(|e| mal(&e))?
                        .map(String::from)
                        .unwrap_or_default()
                } else {
                    let name = g.decode().map_err(|e| mal(&e))?;
                    quick_xml::escape::resolve_predefined_entity(&name)
                        .ok_or_else(|| ReadError::Malformed(format!("unknown entity &{name};")))?
                        .to_string()
                };
                if let Some(n) = stack.last_mut() {
                    n.text.push_str(&s);
                }
            }
            Event::DocType(_) => {
                return Err(ReadError::Malformed("DOCTYPE is not allowed".into()));
            }
            Event::Eof => {
                return Err(ReadError::Malformed(if stack.is_empty() {
                    "no root element".into()
                } else {
                    "unexpected end of document".into()
                }));
            }
            Event::Empty(_) | Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
}

/// Parses the document and checks root, namespace and the Kopf's `Nachrichtentyp`.
fn open(xml: &str) -> Result<(MessageType, Node), ReadError> {
    let xml = xml.trim_start_matches('\u{FEFF}');
    let root = parse(xml)?;
    let t = MessageType::from_root_element(&root.name)
        .filter(|_| root.qualified)
        .ok_or_else(|| ReadError::NotXdomea(root.name.clone()))?;
    let code = root
        .req("Kopf")?
        .req("Nachrichtentyp")?
        .code()
        .unwrap_or("")
        .to_string();
    if code != t.code() {
        return Err(ReadError::TypeMismatch {
            code,
            root: t.root_element(),
        });
    }
    Ok((t, root))
}

fn expect(xml: &str, want: MessageType) -> Result<Node, ReadError> {
    let (t, root) = open(xml)?;
    if t != want {
        return Err(ReadError::WrongType {
            expected: want.root_element(),
            found: t.root_element(),
        });
    }
    Ok(root)
}

/// The message type of a document (root element, namespace and Kopf checked).
pub fn message_type(xml: &str) -> Result<MessageType, ReadError> {
    open(xml).map(|(t, _)| t)
}

fn object_id(n: &Node, el: &'static str) -> Result<ObjectId, ReadError> {
    let v = n.req(el)?.text.trim();
    v.parse().map_err(|_| ReadError::Invalid {
        element: el,
        value: v.to_string(),
    })
}

fn party(n: Option<&Node>) -> Party {
    let Some(n) = n else {
        return Party::default();
    };
    let code = |c: &Node| Code {
        code: c.code().unwrap_or("").to_string(),
        name: c.code_name().map(str::to_string),
    };
    let bk = n.child("Behoerdenkennung");
    let inst = n.child("Institution");
    Party {
        name: inst.and_then(|i| i.text_of("Name")).unwrap_or_default(),
        short_name: inst.and_then(|i| i.text_of("Kurzbezeichnung")),
        authority_key: bk.and_then(|b| b.child("Behoerdenschluessel")).map(code),
        prefix: bk.and_then(|b| b.child("Praefix")).map(code),
        unit: n
            .child("Organisationseinheit")
            .and_then(|o| o.text_of("Name")),
    }
}

fn datetime(v: &str) -> Option<DateTime<Utc>> {
    if let Ok(d) = DateTime::parse_from_rfc3339(v) {
        return Some(d.with_timezone(&Utc));
    }
    // xs:dateTime without offset: German local time.
    let n = NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    chrono_tz::Europe::Berlin
        .from_local_datetime(&n)
        .earliest()
        .map(|d| d.with_timezone(&Utc))
        .or_else(|| Some(n.and_utc()))
}

fn header(root: &Node) -> Result<Header, ReadError> {
    let k = root.req("Kopf")?;
    let process_id = {
        let v = k.req("ProzessID")?.text.trim();
        v.parse().map_err(|_| ReadError::Invalid {
            element: "ProzessID",
            value: v.to_string(),
        })?
    };
    let ts = k.req("Erstellungszeitpunkt")?.text.trim();
    let created_at = datetime(ts).ok_or_else(|| ReadError::Invalid {
        element: "Erstellungszeitpunkt",
        value: ts.to_string(),
    })?;
    Ok(Header {
        process_id,
        created_at,
        sender: party(k.child("Absender")),
        recipient: party(k.child("Empfaenger")),
    })
}

fn boolean(n: &Node, el: &'static str) -> Result<bool, ReadError> {
    let v = n.req(el)?.text.trim();
    match v {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(ReadError::Invalid {
            element: el,
            value: v.to_string(),
        }),
    }
}

/// Reads a 0502 appraisal. Refuses unknown codes, `AussonderungsartKonfigurierbar`,
/// duplicate ids and an empty list; check the ids against the offer with
/// [`Appraisal::check_offered`].
pub fn read_appraisal(xml: &str) -> Result<Appraisal, ReadError> {
    let root = expect(xml, MessageType::Appraisal)?;
    let header = header(&root)?;
    let request_receipt = boolean(root.req("Kopf")?, "Empfangsbestaetigung")?;
    let mut decisions = Vec::new();
    let mut seen = HashSet::new();
    for o in root.children("BewertetesObjekt") {
        let id = object_id(o, "ID")?;
        let art = o.req("Aussonderungsart")?;
        let code = match art.child("Aussonderungsart") {
            Some(c) => c.code().unwrap_or("").to_string(),
            None => match art.text_of("AussonderungsartKonfigurierbar") {
                Some(v) => v,
                None => return Err(ReadError::Missing("Aussonderungsart")),
            },
        };
        let disposition =
            Disposition::from_code(&code).ok_or(ReadError::UnknownDisposition(code))?;
        if !seen.insert(id) {
            return Err(ReadError::Duplicate(id));
        }
        decisions.push(Decision { id, disposition });
    }
    if decisions.is_empty() {
        return Err(ReadError::Missing("BewertetesObjekt"));
    }
    Ok(Appraisal {
        header,
        request_receipt,
        decisions,
    })
}

impl Appraisal {
    /// Refuses an appraisal that names objects not in `offered` ([`ReadError::NotOffered`]).
    pub fn check_offered(
        &self,
        offered: impl IntoIterator<Item = ObjectId>,
    ) -> Result<(), ReadError> {
        let offered: HashSet<ObjectId> = offered.into_iter().collect();
        let unknown: Vec<ObjectId> = self
            .decisions
            .iter()
            .map(|d| d.id)
            .filter(|id| !offered.contains(id))
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(ReadError::NotOffered(unknown))
        }
    }
}

/// Reads a receipt of the given kind (0504, 0505 or 0507).
pub fn read_receipt(xml: &str, kind: ReceiptKind) -> Result<Receipt, ReadError> {
    let root = expect(xml, kind.message_type())?;
    Ok(Receipt {
        kind,
        header: header(&root)?,
    })
}

/// Reads a 0506 import confirmation.
pub fn read_import_confirmation(xml: &str) -> Result<ImportConfirmation, ReadError> {
    let root = expect(xml, MessageType::ImportConfirmation)?;
    let header = header(&root)?;
    let mut results = Vec::new();
    let mut seen = HashSet::new();
    for o in root.children("AusgesondertesSGO") {
        let id = object_id(o, "IDSGO")?;
        if !seen.insert(id) {
            return Err(ReadError::Duplicate(id));
        }
        let success = boolean(o, "Erfolgreich")?;
        let mut errors: Vec<String> = o
            .children("Fehlermeldung")
            .map(|f| f.text.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        for c in o.children("FehlermeldungCode") {
            let mut s = c.code().unwrap_or("").to_string();
            if let Some(n) = c.code_name() {
                s = format!("{s} {n}");
            }
            errors.push(s);
        }
        results.push(ImportResult {
            id,
            success,
            error: (!errors.is_empty()).then(|| errors.join("; ")),
            archive_id: o.text_of("Archivkennung"),
        });
    }
    if results.is_empty() {
        return Err(ReadError::Missing("AusgesondertesSGO"));
    }
    Ok(ImportConfirmation { header, results })
}

/// An uploaded message as text: the XML itself, or the one `.xml` inside a ZIP (the xdomea
/// transport form `{ProzessID}_{message}.zip`). At most 64 MiB of XML are read.
pub fn unpack_message(bytes: &[u8]) -> Result<String, ReadError> {
    use std::io::Read;
    const MAX: u64 = 64 << 20;
    if bytes.starts_with(b"PK\x03\x04") {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes))
            .map_err(|e| ReadError::Zip(e.to_string()))?;
        let names: Vec<String> = z
            .file_names()
            .filter_map(|n| n.ok().map(|n| n.into_owned()))
            .filter(|n| n.to_ascii_lowercase().ends_with(".xml") && !n.contains('/'))
            .collect();
        let [name] = names.as_slice() else {
            return Err(ReadError::Zip(format!(
                "expected one .xml message, found {}",
                names.len()
            )));
        };
        let f = z.by_name(name).map_err(|e| ReadError::Zip(e.to_string()))?;
        let mut buf = Vec::new();
        f.take(MAX + 1)
            .read_to_end(&mut buf)
            .map_err(|e| ReadError::Zip(e.to_string()))?;
        if buf.len() as u64 > MAX {
            return Err(ReadError::Zip("message larger than 64 MiB".into()));
        }
        String::from_utf8(buf).map_err(|_| ReadError::Malformed("not UTF-8".into()))
    } else {
        std::str::from_utf8(bytes)
            .map(str::to_string)
            .map_err(|_| ReadError::Malformed("not UTF-8".into()))
    }
}
