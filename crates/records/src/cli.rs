//! `rathaus records import-plan FILE [--dry-run] [--tenant SLUG]`: imports a file plan
//! (CSV/XLSX/ODS) with a row report on stdout (German); exit code 0 when it went in, 2 for a
//! dry run without errors, 4 when the file was refused or has errors (nothing written).

use anyhow::Context;
use clap::{FromArgMatches, Subcommand};
use rathaus_store::Db;
use rathaus_store::uow::Actor;
use rathaus_web::i18n::{Lang, catalog};
use rathaus_web::module::cli_tenant;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::service::plan_import;

pub const EXIT_DRY_RUN: u8 = 2;
pub const EXIT_REFUSED: u8 = 4;

#[derive(Subcommand)]
pub enum RecordsCmd {
    /// Import the file plan (Aktenplan) from CSV, XLSX or ODS: columns Kennzeichen, Titel,
    /// Aufbewahrungsfrist, Archivierung (A/B/V), optional Fristbeginn; all or nothing
    ImportPlan {
        file: PathBuf,
        /// Only check and print the row report
        #[arg(long)]
        dry_run: bool,
        /// Tenant slug (optional when there is only one tenant)
        #[arg(long)]
        tenant: Option<String>,
    },
}

pub fn command() -> clap::Command {
    RecordsCmd::augment_subcommands(
        clap::Command::new("records")
            .about("E-Akte: import of the file plan")
            .subcommand_required(true),
    )
}

pub async fn run(db: &Db, args: &clap::ArgMatches) -> anyhow::Result<ExitCode> {
    crate::register_texts();
    let t = catalog(Lang::De);
    match RecordsCmd::from_arg_matches(args)? {
        RecordsCmd::ImportPlan {
            file,
            dry_run,
            tenant,
        } => {
            let tid = cli_tenant(db, tenant.as_deref()).await?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let out =
                plan_import::import(&db.conn, Actor::system("cli"), tid, &bytes, !dry_run).await;
            let out = match out {
                Ok(o) => o,
                Err(rathaus_core::Error::Invalid(errs)) => {
                    for e in errs.0 {
                        eprintln!("{}", t.fmt(&e.key, &e.arg.unwrap_or_default()));
                    }
                    return Ok(ExitCode::from(EXIT_REFUSED));
                }
                Err(e) => return Err(e.into()),
            };
            for e in &out.errors {
                println!("{}", plan_import::line_text(t, e));
            }
            println!(
                "{}",
                t.get("records.import.summary")
                    .replace("{rows}", &out.rows.to_string())
                    .replace("{errors}", &out.errors.len().to_string())
            );
            if out.committed {
                println!("{}", t.get("records.import.committed"));
                Ok(ExitCode::SUCCESS)
            } else if out.errors.is_empty() {
                Ok(ExitCode::from(EXIT_DRY_RUN))
            } else {
                println!("{}", t.get("import.err.not_valid"));
                Ok(ExitCode::from(EXIT_REFUSED))
            }
        }
    }
}
