//! The consume folder (issue 11, item 4): scanners and clerks drop files into a folder per
//! department, `<root>/<department>/` (with several tenants `<root>/<tenant slug>/<department>/`),
//! and each file lands in that department's inbox, recorded as the system ("records.consume")
//! in the audit chain. The folders of the tenant's departments are created, so an operator
//! sees where to point a scanner.
//!
//! A file is taken once its size and modification time stayed the same for `settle` (a
//! scanner may still be writing). It is first renamed into the folder's `.rathaus/` (claimed:
//! a second server on the same share does not take it too), stored, then removed. A file the
//! inbox refuses (empty, too large) moves to the folder for rejected files with a text file
//! saying why; after a fault of the system (database down) it stays claimed and is tried again
//! at the next scan, without a second inbox entry if the first one was committed after all.
//! Only regular files are taken: hidden files, links and sub-folders are left alone.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use rathaus_core::{Error, Result, TenantId};
use rathaus_store::files::{FileStore, Limits};
use rathaus_store::uow::{Actor, scoped};
use rathaus_store::{Db, accounts, tenants};
use rathaus_web::i18n::{Lang, catalog};
use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};

use crate::store::entity::inbox_item;

/// Who stores the files, in the inbox and the audit chain.
pub const ACTOR: Actor<'static> = Actor::system("records.consume");

/// The folder inside a department's folder where claimed files wait while they are stored.
pub const WORK_DIR: &str = ".rathaus";

/// How long a file must stay unchanged before it is taken, unless configured otherwise.
pub const SETTLE: Duration = Duration::from_secs(3);

/// Names scanners' and desktops' helper files use; never documents.
const JUNK: [&str; 3] = ["thumbs.db", "desktop.ini", ".ds_store"];

/// What one scan did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Scan {
    /// Files stored in an inbox.
    pub stored: usize,
    /// Files refused by the inbox, moved to the folder for rejected files.
    pub rejected: usize,
    /// Files still changing (or not unchanged for long enough).
    pub waiting: usize,
    /// Files left claimed after a fault of the system, tried again next time.
    pub retry: usize,
}

/// One department's folder being scanned, and where its files go.
struct Folder<'a> {
    db: &'a Db,
    files: &'a FileStore,
    tenant: TenantId,
    department: i64,
    dir: PathBuf,
}

/// Watches one consume root; keeps what it saw of each file between scans.
pub struct Consumer {
    root: PathBuf,
    settle: Duration,
    limits: Limits,
    /// path → (size, modified, unchanged since)
    seen: HashMap<PathBuf, (u64, Option<SystemTime>, Instant)>,
    /// Folders matching no department, warned about once.
    warned: HashSet<PathBuf>,
}

/// The folder name of a department: its name without path separators or a leading dot.
pub fn folder_name(department: &str) -> String {
    let cleaned: String = department
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c == ':' || c.is_control() {
                '-'
            } else {
                c
            }
        })
        .collect();
    cleaned.trim().trim_start_matches('.').trim().to_string()
}

/// The folder for rejected files, in the municipality's language.
pub fn rejected_dir() -> &'static str {
    catalog(Lang::De).get("records.consume.rejected_dir")
}

impl Consumer {
    pub fn new(root: PathBuf, limits: Limits, settle: Duration) -> Self {
        Consumer {
            root,
            settle,
            limits,
            seen: HashMap::new(),
            warned: HashSet::new(),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// One pass over every tenant's department folders.
    pub async fn scan(&mut self, db: &Db, files: &FileStore) -> Result<Scan> {
        let tenants = tenants::list(&db.conn).await?;
        let single = tenants.len() == 1;
        let mut out = Scan::default();
        let mut present = HashSet::new();
        for (t, _) in tenants {
            let dir = if single {
                self.root.clone()
            } else {
                self.root.join(&t.slug)
            };
            self.scan_tenant(db, files, TenantId(t.id), &dir, &mut out, &mut present)
                .await?;
        }
        // Forget files that went away (taken, or removed by someone).
        self.seen.retain(|p, _| present.contains(p));
        Ok(out)
    }

    async fn scan_tenant(
        &mut self,
        db: &Db,
        files: &FileStore,
        tenant: TenantId,
        dir: &Path,
        out: &mut Scan,
        present: &mut HashSet<PathBuf>,
    ) -> Result<()> {
        let departments = accounts::list_departments(&db.conn, tenant).await?;
        let by_folder: HashMap<String, i64> = departments
            .iter()
            .map(|d| (folder_name(&d.name).to_lowercase(), d.id))
            .filter(|(f, _)| !f.is_empty())
            .collect();
        for d in &departments {
            let f = folder_name(&d.name);
            if !f.is_empty() {
                create_dir(&dir.join(f)).await;
            }
        }
        let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
            return Ok(());
        };
        while let Ok(Some(e)) = entries.next_entry().await {
            let name = e.file_name().to_string_lossy().to_string();
            let Ok(kind) = e.file_type().await else {
                continue;
            };
            if !kind.is_dir() || name.starts_with('.') {
                continue;
            }
            match by_folder.get(&name.to_lowercase()) {
                Some(&department) => {
                    let folder = Folder {
                        db,
                        files,
                        tenant,
                        department,
                        dir: e.path(),
                    };
                    self.scan_department(&folder, out, present).await?
                }
                None => {
                    if self.warned.insert(e.path()) {
                        tracing::warn!(folder = %e.path().display(), "consume folder matches no department; its files are left alone");
                    }
                }
            }
        }
        Ok(())
    }

    async fn scan_department(
        &mut self,
        folder: &Folder<'_>,
        out: &mut Scan,
        present: &mut HashSet<PathBuf>,
    ) -> Result<()> {
        let work = folder.dir.join(WORK_DIR);
        // Left claimed by an earlier scan (a fault, or a stop half-way): first.
        for claimed in regular_files(&work).await {
            self.store(folder, &claimed, true, out).await?;
        }
        for path in regular_files(&folder.dir).await {
            present.insert(path.clone());
            if !self.settled(&path).await {
                out.waiting += 1;
                continue;
            }
            let Some(name) = path.file_name() else {
                continue;
            };
            create_dir(&work).await;
            let claimed = work.join(name);
            if tokio::fs::try_exists(&claimed).await.unwrap_or(true) {
                // A file of the same name is still being retried; this one waits for it.
                out.waiting += 1;
                continue;
            }
            if tokio::fs::rename(&path, &claimed).await.is_err() {
                // Taken by another server meanwhile, or removed.
                continue;
            }
            self.store(folder, &claimed, false, out).await?;
        }
        Ok(())
    }

    /// Whether the file stayed the same size and age for `settle`.
    async fn settled(&mut self, path: &Path) -> bool {
        let Ok(meta) = tokio::fs::symlink_metadata(path).await else {
            return false;
        };
        let now = (meta.len(), meta.modified().ok());
        let since = match self.seen.get(path) {
            Some(&(len, modified, since)) if (len, modified) == now => since,
            _ => {
                let since = Instant::now();
                self.seen.insert(path.to_path_buf(), (now.0, now.1, since));
                since
            }
        };
        since.elapsed() >= self.settle
    }

    /// Stores a claimed file in the department's inbox and removes it; a refused one moves
    /// to the rejected folder; after a fault it stays claimed.
    async fn store(
        &self,
        folder: &Folder<'_>,
        claimed: &Path,
        retried: bool,
        out: &mut Scan,
    ) -> Result<()> {
        let &Folder {
            db,
            files,
            tenant,
            department,
            ref dir,
        } = folder;
        let name = claimed
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if retried && already_stored(db, tenant, department, claimed).await? {
            remove(claimed).await;
            return Ok(());
        }
        let file = match open_regular(claimed).await {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(file = %claimed.display(), error = %e, "cannot read a file of the consume folder");
                out.retry += 1;
                return Ok(());
            }
        };
        let body = tokio_util::io::ReaderStream::new(file);
        let res = super::inbox::upload(
            db,
            files,
            ACTOR,
            tenant,
            Some(department),
            self.limits,
            &name,
            body,
        )
        .await;
        match res {
            Ok(item) => {
                tracing::info!(file = %claimed.display(), inbox_item = item.id, "consumed into the inbox");
                remove(claimed).await;
                out.stored += 1;
            }
            Err(e) => match refusal(&e) {
                Some(reason) => {
                    reject(dir, claimed, &name, &reason).await;
                    tracing::info!(file = %claimed.display(), %reason, "consume folder: file refused");
                    out.rejected += 1;
                }
                None => {
                    tracing::warn!(file = %claimed.display(), error = %e, "consume folder: storing failed; tried again at the next scan");
                    out.retry += 1;
                }
            },
        }
        Ok(())
    }
}

/// The text of a refusal of the file itself (the inbox said no); None for a fault of the
/// system, which is worth another try.
fn refusal(e: &Error) -> Option<String> {
    let t = catalog(Lang::De);
    match e {
        Error::Invalid(f) => Some(
            f.0.iter()
                .map(|e| match &e.arg {
                    Some(a) => t.fmt(&e.key, a),
                    None => t.get(&e.key).to_string(),
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Error::Conflict(key) => Some(t.get(key).to_string()),
        _ => None,
    }
}

/// Whether this claimed file is already in the department's inbox (stored by the consume
/// folder, with the same content): the commit went through before the removal did not.
async fn already_stored(db: &Db, tenant: TenantId, department: i64, path: &Path) -> Result<bool> {
    let Ok(bytes) = tokio::fs::read(path).await else {
        return Ok(false);
    };
    let sha = rathaus_store::sha256_hex_bytes(&bytes);
    let n = scoped::<inbox_item::Entity>(tenant)
        .filter(inbox_item::Column::DepartmentId.eq(department))
        .filter(inbox_item::Column::Sha256.eq(sha))
        .filter(inbox_item::Column::UploadedBy.eq(super::actor_label(ACTOR)))
        .count(&db.conn)
        .await?;
    Ok(n > 0)
}

/// Moves a refused file to the rejected folder, with `<name>.txt` saying why; a name taken
/// there gets the time in front.
async fn reject(dir: &Path, claimed: &Path, name: &str, reason: &str) {
    let to_dir = dir.join(rejected_dir());
    create_dir(&to_dir).await;
    let mut target = to_dir.join(name);
    if tokio::fs::try_exists(&target).await.unwrap_or(false) {
        let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
        target = to_dir.join(format!("{stamp}-{name}"));
    }
    if let Err(e) = tokio::fs::rename(claimed, &target).await {
        tracing::warn!(file = %claimed.display(), error = %e, "cannot move a refused file out of the consume folder");
        return;
    }
    let mut note = target.clone().into_os_string();
    note.push(".txt");
    let text = catalog(Lang::De).fmt("records.consume.rejected_note", reason);
    if let Err(e) = tokio::fs::write(&note, format!("{text}\n")).await {
        tracing::warn!(file = %target.display(), error = %e, "cannot write why a file was refused");
    }
}

/// The regular files directly in `dir` (not hidden, not links, not helper files), by name.
async fn regular_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
        return out;
    };
    while let Ok(Some(e)) = entries.next_entry().await {
        let name = e.file_name().to_string_lossy().to_lowercase();
        if name.starts_with('.') || name.ends_with('~') || JUNK.contains(&name.as_str()) {
            continue;
        }
        // `file_type` does not follow links: a link to a file elsewhere is never read.
        if e.file_type().await.is_ok_and(|k| k.is_file()) {
            out.push(e.path());
        }
    }
    out.sort();
    out
}

/// Opens a claimed file, refusing a link (swapped in after the listing): the file opened must
/// be the regular file the name points at.
async fn open_regular(path: &Path) -> std::io::Result<tokio::fs::File> {
    let before = tokio::fs::symlink_metadata(path).await?;
    let file = tokio::fs::File::open(path).await?;
    let opened = file.metadata().await?;
    let same = {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            before.dev() == opened.dev() && before.ino() == opened.ino()
        }
        #[cfg(not(unix))]
        {
            true
        }
    };
    if before.file_type().is_file() && opened.is_file() && same {
        Ok(file)
    } else {
        Err(std::io::Error::other("not a regular file"))
    }
}

async fn create_dir(dir: &Path) {
    if let Err(e) = tokio::fs::create_dir_all(dir).await {
        tracing::debug!(folder = %dir.display(), error = %e, "cannot create a consume folder");
    }
}

async fn remove(path: &Path) {
    if let Err(e) = tokio::fs::remove_file(path).await {
        tracing::warn!(file = %path.display(), error = %e, "cannot remove a consumed file");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_keep_the_department_name_without_separators() {
        assert_eq!(folder_name("Bürgerbüro"), "Bürgerbüro");
        assert_eq!(folder_name("Bau/Ordnung"), "Bau-Ordnung");
        assert_eq!(folder_name("..versteckt"), "versteckt");
        assert_eq!(folder_name(" Kämmerei "), "Kämmerei");
        assert_eq!(folder_name("a\\b:c"), "a-b-c");
    }

    #[test]
    fn only_refusals_of_the_file_are_final() {
        assert!(refusal(&rathaus_core::validation::FieldErrors::single("file", "x")).is_some());
        assert!(refusal(&Error::Conflict("x".into())).is_some());
        assert!(refusal(&Error::internal("database down")).is_none());
    }
}
