//! Online backup of a SQLite install: `VACUUM INTO` takes a consistent copy while the server
//! keeps running, then database and stored files go into one gzip'd tar with a manifest.
//! PostgreSQL installs use pg_dump and their object store's own tools (docs/operations.md).

use crate::{Backend, Db};
use anyhow::{Context, bail};
use flate2::{Compression, read::GzDecoder, write::GzEncoder};
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::path::{Component, Path};

pub const DB_FILE: &str = "rathaus.db";
pub const FILES_DIR: &str = "files";
const MANIFEST: &str = "rathaus-backup.json";

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: u32,
    created_at: String,
    version: String,
    /// Every tenant's audit chain head when the backup was taken (absent in older backups):
    /// a restore must find each of them in the restored chains.
    #[serde(default)]
    audit_anchors: Vec<crate::audit::Anchor>,
}

/// Writes a backup of `db` (must be SQLite) and `data_dir/files` to `to`.
pub async fn backup(db: &Db, data_dir: &Path, to: &Path) -> anyhow::Result<()> {
    if db.backend != Backend::Sqlite {
        bail!(
            "`rathaus backup` covers the SQLite installation; for PostgreSQL use pg_dump (see docs/operations.md)"
        );
    }
    let tmp = tempdir_near(to)?;
    // Anchored first, so the snapshot holds the anchors and the manifest names them.
    let audit_anchors = crate::audit::anchor(&db.conn).await?;
    let snapshot = tmp.join(DB_FILE);
    let path = snapshot
        .to_str()
        .context("backup path is not UTF-8")?
        .replace('\'', "''");
    db.execute_unprepared(&format!("VACUUM INTO '{path}'"))
        .await
        .context("VACUUM INTO failed")?;
    let manifest = Manifest {
        format: 1,
        created_at: chrono::Utc::now().to_rfc3339(),
        version: env!("CARGO_PKG_VERSION").into(),
        audit_anchors,
    };
    std::fs::write(tmp.join(MANIFEST), serde_json::to_vec_pretty(&manifest)?)?;
    let files = data_dir.join(FILES_DIR);
    let to = to.to_path_buf();
    let tmp2 = tmp.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let part = to.with_extension("partial");
        // The backup holds every password hash and personal record: readable by its owner
        // only, from the first byte on (a leftover part file may have had another mode).
        std::fs::remove_file(&part).ok();
        let out =
            private_file(&part).with_context(|| format!("cannot write {}", part.display()))?;
        let mut tar = tar::Builder::new(GzEncoder::new(out, Compression::default()));
        tar.append_path_with_name(tmp2.join(MANIFEST), MANIFEST)?;
        tar.append_path_with_name(tmp2.join(DB_FILE), DB_FILE)?;
        if files.is_dir() {
            append_files(&mut tar, &files, Path::new(FILES_DIR))?;
        }
        tar.into_inner()?.finish()?.sync_all()?;
        // Renamed only when complete, so a half-written backup never looks like a good one.
        std::fs::rename(&part, &to)?;
        Ok(())
    })
    .await??;
    std::fs::remove_dir_all(&tmp).ok();
    Ok(())
}

/// Like `backup`, with the file service: the disk backend's files are in the backup (they
/// live in `data_dir/files`); for an S3 bucket the note that the bucket is not, which is
/// logged and returned for the command to print.
pub async fn backup_with_files(
    db: &Db,
    data_dir: &Path,
    to: &Path,
    files: &crate::files::FileStore,
) -> anyhow::Result<Option<String>> {
    backup(db, data_dir, to).await?;
    let note = files.backup_note();
    if let Some(n) = &note {
        tracing::warn!("{n}");
    }
    Ok(note)
}

/// Adds the stored files below `dir` as `name/…`. Uploads in progress (the file service's
/// `t/<tenant>/tmp/`) are left out; a file removed while the backup runs (the collector) is
/// skipped. Stored contents never change once in place, so each file is read consistently.
fn append_files<W: std::io::Write>(
    tar: &mut tar::Builder<W>,
    dir: &Path,
    name: &Path,
) -> anyhow::Result<()> {
    let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
    let mut entries = match std::fs::read_dir(dir) {
        Ok(rd) => rd.collect::<Result<Vec<_>, _>>()?,
        Err(e) if gone(&e) => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    entries.sort_by_key(|e| e.file_name());
    tar.append_dir(name, dir)?;
    for e in entries {
        let path = e.path();
        let entry_name = name.join(e.file_name());
        let ft = e.file_type()?;
        if ft.is_dir() {
            if is_upload_in_progress(&entry_name) {
                continue;
            }
            append_files(tar, &path, &entry_name)?;
        } else if ft.is_file() {
            match File::open(&path) {
                Ok(mut f) => tar.append_file(&entry_name, &mut f)?,
                Err(e) if gone(&e) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}

/// `files/t/<tenant>/tmp`: the file service's uploads in progress.
fn is_upload_in_progress(p: &Path) -> bool {
    let parts: Vec<_> = p.components().map(|c| c.as_os_str()).collect();
    matches!(parts.as_slice(), [f, t, _, tmp] if *f == FILES_DIR && *t == "t" && *tmp == "tmp")
}

/// A new file only its owner can read and write (0600 on Unix).
fn private_file(path: &Path) -> std::io::Result<File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

fn tempdir_near(to: &Path) -> anyhow::Result<std::path::PathBuf> {
    let parent = to
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let dir = parent.join(format!(".rathaus-backup-{}", crate::random_token(6)));
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// Restores a backup into `data_dir`, which must be empty or missing. Returns the audit
/// anchors of its manifest, for `audit::verify_against`.
pub fn restore(from: &Path, data_dir: &Path) -> anyhow::Result<Vec<crate::audit::Anchor>> {
    if data_dir.exists() && std::fs::read_dir(data_dir)?.next().is_some() {
        bail!(
            "data directory {} is not empty; restore only into an empty one",
            data_dir.display()
        );
    }
    std::fs::create_dir_all(data_dir)?;
    let f = File::open(from).with_context(|| format!("cannot open {}", from.display()))?;
    let mut ar = tar::Archive::new(GzDecoder::new(f));
    let mut anchors = None;
    let mut saw_db = false;
    for entry in ar.entries()? {
        let mut e = entry?;
        let p = e.path()?.into_owned();
        // Refuse absolute paths and `..`: a crafted archive must not write outside data_dir.
        if p.components()
            .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
        {
            bail!("backup contains an unsafe path: {}", p.display());
        }
        if p == Path::new(MANIFEST) {
            let m: Manifest = serde_json::from_reader(&mut e).context("bad manifest")?;
            if m.format != 1 {
                bail!("unsupported backup format {}", m.format);
            }
            anchors = Some(m.audit_anchors);
            continue;
        }
        if p == Path::new(DB_FILE) {
            saw_db = true;
        } else if !p.starts_with(FILES_DIR) {
            bail!("unexpected entry in backup: {}", p.display());
        }
        e.unpack_in(data_dir)?;
    }
    match anchors {
        Some(a) if saw_db => Ok(a),
        _ => bail!("{} is not a Rathaus backup", from.display()),
    }
}
