//! `rathaus programme import FILE [--dry-run] [--tenant SLUG]`: the officer's measures list
//! from the command line, the row report on stdout (German); exit code 0 only when the list
//! went in, 2 for a dry run without errors, 4 when the file was refused or has errors
//! (nothing written).

use anyhow::Context;
use clap::{FromArgMatches, Subcommand};
use rathaus_store::Db;
use rathaus_store::uow::Actor;
use rathaus_web::Module;
use rathaus_web::i18n::{Lang, catalog};
use rathaus_web::module::cli_tenant;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::service::imports;

pub const EXIT_DRY_RUN: u8 = 2;
pub const EXIT_REFUSED: u8 = 4;

#[derive(Subcommand)]
pub enum ProgrammeCmd {
    /// Import a list of measures (XLSX, ODS or CSV) into the first phase; all or nothing
    Import {
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
    ProgrammeCmd::augment_subcommands(
        clap::Command::new("programme")
            .about("Digitalisation programme: import of the measures list")
            .subcommand_required(true),
    )
}

/// Registers the module's texts (the web app does this at start; the CLI here).
fn register_texts() {
    for lang in [Lang::De, Lang::En] {
        for src in crate::Programme.translation_files(lang) {
            rathaus_web::i18n::register(lang, src);
        }
    }
}

pub async fn run(db: &Db, args: &clap::ArgMatches) -> anyhow::Result<ExitCode> {
    register_texts();
    let t = catalog(Lang::De);
    match ProgrammeCmd::from_arg_matches(args)? {
        ProgrammeCmd::Import {
            file,
            dry_run,
            tenant,
        } => {
            let tid = cli_tenant(db, tenant.as_deref()).await?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let out =
                imports::import(&db.conn, None, Actor::system("cli"), tid, &bytes, !dry_run).await;
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
            for i in &out.report.issues {
                println!("{}", imports::line(t, i));
            }
            println!(
                "{}",
                t.get("programme.import.summary")
                    .replace("{rows}", &out.report.rows.len().to_string())
                    .replace("{errors}", &out.report.errors.to_string())
                    .replace("{warnings}", &out.report.warnings.to_string())
            );
            if out.committed {
                println!("{}", t.get("programme.import.committed"));
                Ok(ExitCode::SUCCESS)
            } else if !out.report.has_errors() {
                Ok(ExitCode::from(EXIT_DRY_RUN))
            } else {
                println!("{}", t.get("import.err.not_valid"));
                Ok(ExitCode::from(EXIT_REFUSED))
            }
        }
    }
}
