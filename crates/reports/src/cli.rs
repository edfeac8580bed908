//! `rathaus reports …`: Open311 API keys and the street directory import, for operators.
//! Exit codes: 0 done, 4 the CSV file was refused (nothing imported); other errors are the
//! binary's (1).

use crate::domain::streets;
use crate::service::{ReportsState, directory, keys};
use anyhow::Context;
use clap::{FromArgMatches, Subcommand};
use rathaus_store::Db;
use rathaus_store::uow::Actor;
use rathaus_web::i18n::{Lang, catalog};
use rathaus_web::module::cli_tenant;
use std::path::PathBuf;
use std::process::ExitCode;

/// Exit code of a refused import file.
pub const EXIT_BAD_FILE: u8 = 4;

#[derive(Subcommand)]
pub enum ReportsCmd {
    /// Create an Open311 API key; prints it (shown once) as the last line
    CreateApiKey {
        #[arg(long)]
        name: String,
        /// Requests per minute
        #[arg(long, default_value_t = keys::DEFAULT_RATE)]
        rate_limit: i32,
        /// Tenant slug (optional when there is only one tenant)
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Replace the street directory with a CSV file (street, house number, postcode, lat,
    /// lon); imports nothing when any line is wrong
    ImportStreets {
        file: PathBuf,
        #[arg(long)]
        tenant: Option<String>,
    },
}

/// The subcommand as `Module::cli` hands it to the binary.
pub fn command() -> clap::Command {
    ReportsCmd::augment_subcommands(
        clap::Command::new("reports")
            .about("Defect reports: Open311 API keys, street directory")
            .subcommand_required(true),
    )
}

/// Runs a parsed `rathaus reports …` on the migrated database.
pub async fn run(
    db: &Db,
    state: &ReportsState,
    args: &clap::ArgMatches,
) -> anyhow::Result<ExitCode> {
    match ReportsCmd::from_arg_matches(args)? {
        ReportsCmd::CreateApiKey {
            name,
            rate_limit,
            tenant,
        } => {
            let tid = cli_tenant(db, tenant.as_deref()).await?;
            let (k, secret) =
                keys::create(&db.conn, Actor::system("cli"), tid, &name, rate_limit).await?;
            println!(
                "Open311 API key \"{}\" ({} requests per minute) created with id {}; shown once:",
                k.name, k.rate_limit, k.id
            );
            println!("{secret}");
        }
        ReportsCmd::ImportStreets { file, tenant } => {
            let t = catalog(Lang::De);
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let addresses = match streets::parse_csv(&bytes) {
                Ok(a) => a,
                Err(e) => {
                    // With up to 100 line errors; nothing is imported.
                    eprintln!("{}: {}", file.display(), e.message(t));
                    eprintln!("{}", t.get("reports.cli.nothing_imported"));
                    return Ok(ExitCode::from(EXIT_BAD_FILE));
                }
            };
            let tid = cli_tenant(db, tenant.as_deref()).await?;
            let template = format!(
                "{{bar:40}} {{pos}}/{{len}} {}",
                t.get("reports.cli.progress")
            );
            let bar = indicatif::ProgressBar::new(addresses.len() as u64).with_style(
                indicatif::ProgressStyle::with_template(&template)
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            let progress = |n: usize| bar.set_position(n as u64);
            let n = directory::import(
                &db.conn,
                state,
                Actor::system("cli"),
                tid,
                addresses,
                &progress,
            )
            .await?;
            bar.finish_and_clear();
            println!("{}", t.fmt("reports.cli.imported", &n.to_string()));
        }
    }
    Ok(ExitCode::SUCCESS)
}
