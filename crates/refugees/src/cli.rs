//! `rathaus refugees import FILE [--dry-run] [--mapping FILE]`: the row report on stdout
//! (German); exit code 0 only when the import went in, 2 for a dry run without errors, 4 when
//! the file was refused or has errors (nothing written).

use anyhow::Context;
use clap::{FromArgMatches, Subcommand};
use rathaus_store::Db;
use rathaus_store::uow::Actor;
use rathaus_web::i18n::{Lang, catalog};
use rathaus_web::module::cli_tenant;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::service::imports;

pub const EXIT_DRY_RUN: u8 = 2;
pub const EXIT_REFUSED: u8 = 4;

#[derive(Subcommand)]
pub enum RefugeesCmd {
    /// Import the accommodation lists (XLSX, ODS or CSV): one sheet per accommodation and a
    /// capacity sheet; all or nothing
    Import {
        file: PathBuf,
        /// Only check and print the row report
        #[arg(long)]
        dry_run: bool,
        /// Column mapping (JSON or TOML), e.g. saved from an earlier import
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Tenant slug (optional when there is only one tenant)
        #[arg(long)]
        tenant: Option<String>,
    },
}

pub fn command() -> clap::Command {
    RefugeesCmd::augment_subcommands(
        clap::Command::new("refugees")
            .about("Refugee accommodation: import of the Excel lists")
            .subcommand_required(true),
    )
}

pub async fn run(db: &Db, args: &clap::ArgMatches) -> anyhow::Result<ExitCode> {
    crate::register_texts();
    let t = catalog(Lang::De);
    match RefugeesCmd::from_arg_matches(args)? {
        RefugeesCmd::Import {
            file,
            dry_run,
            mapping,
            tenant,
        } => {
            let tid = cli_tenant(db, tenant.as_deref()).await?;
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let mapping = match mapping {
                Some(p) => match rathaus_import::Mapping::load(&p) {
                    Ok(m) => Some(m),
                    Err(e) => {
                        eprintln!("{}", t.fmt(e.key(), &e.arg().unwrap_or_default()));
                        return Ok(ExitCode::from(EXIT_REFUSED));
                    }
                },
                None => None,
            };
            let out = imports::import(
                &db.conn,
                Actor::system("cli"),
                tid,
                &bytes,
                mapping,
                !dry_run,
            )
            .await;
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
                println!("{}", crate::http::report_line(t, e, true));
            }
            for w in &out.warnings {
                println!("{}", crate::http::report_line(t, w, false));
            }
            println!(
                "{}",
                t.get("refugees.import.summary")
                    .replace("{total}", &out.rows_total.to_string())
                    .replace("{ok}", &out.rows_ok.to_string())
                    .replace("{errors}", &out.errors.len().to_string())
                    .replace("{warnings}", &out.warnings.len().to_string())
            );
            if out.committed {
                println!("{}", t.get("refugees.import.committed"));
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
