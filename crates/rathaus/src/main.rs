//! `rathaus`: one binary for the public site, the staff site, the APIs and the operator CLI.

mod config;
mod demo;

use anyhow::{Context, bail};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use config::{Config, LogFormat};
use rathaus_core::UserId;
use rathaus_store::jobs::Registry;
use rathaus_store::tenants::{self, NewTenant};
use rathaus_store::{Actor, Db, accounts, audit, backup, mail, sessions, tokens};
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// jemalloc with background threads gives freed memory back to the system a few seconds after
/// a burst (the demo set-up, an import, photo re-encoding); glibc's per-thread arenas kept
/// about 50 MB of it for good (ADR 0023).
#[cfg(all(target_os = "linux", not(target_env = "musl")))]
#[global_allocator]
static ALLOC: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Parser)]
#[command(
    name = "rathaus",
    version,
    about = "Rathaus – digitale Verwaltung für Gemeinden"
)]
struct Cli {
    /// Configuration file (default: ./rathaus.toml when present)
    #[arg(long, global = true, env = "RATHAUS_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the web server (migrates the database first)
    Serve {
        /// Create the demo municipality "Gemeinde Beispielstadt" and print the admin login
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit
    Migrate,
    /// Manage tenants (municipalities)
    #[command(subcommand)]
    Tenant(TenantCmd),
    /// Manage staff accounts and API tokens
    #[command(subcommand)]
    Admin(AdminCmd),
    /// Check the audit log
    #[command(subcommand)]
    Audit(AuditCmd),
    /// The full-text search index: its state, or a rebuild from the modules' tables
    #[command(subcommand)]
    Search(SearchCmd),
    /// List every route (platform and modules) with its kind and who may call it
    Routes {
        /// One JSON object per route: method, path, kind, access, module
        #[arg(long)]
        json: bool,
    },
    /// Write a consistent online backup (SQLite database and stored files)
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into an empty data directory
    Restore {
        #[arg(long)]
        from: PathBuf,
        /// Keep the sessions stored in the backup (by default everyone signs in again)
        #[arg(long)]
        keep_sessions: bool,
    },
}

#[derive(Subcommand)]
enum TenantCmd {
    /// Add a tenant
    Add {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        /// Host name the tenant is served on (repeatable)
        #[arg(long)]
        host: Vec<String>,
    },
    /// List tenants with their host names
    List,
}

#[derive(Subcommand)]
enum AdminCmd {
    /// Create a staff user; the password is read from standard input
    CreateUser {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Role name, e.g. admin (repeatable)
        #[arg(long)]
        role: Vec<String>,
        /// Tenant slug (optional when there is only one tenant)
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Create a personal API token; prints it as the last line
    CreateToken {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "CLI")]
        name: String,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Remove a user's second factor (lost device) and end their sessions
    ResetSecondFactor {
        #[arg(long)]
        email: String,
        #[arg(long)]
        tenant: Option<String>,
    },
    /// Set a new password (read from standard input) and end the user's sessions
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long)]
        tenant: Option<String>,
    },
}

#[derive(Subcommand)]
enum SearchCmd {
    /// The index's position in the outbox, pending changes, documents per kind
    Status,
    /// Rebuild the index from the modules' tables (all tenants and kinds unless named);
    /// stop `rathaus serve` on this data directory first
    Reindex {
        #[arg(long)]
        tenant: Option<String>,
        #[arg(long)]
        kind: Option<String>,
    },
    /// Apply pending changes and rewrite the segments that still hold deleted documents, so
    /// their text leaves the disk now (`serve` does it at most hourly); stop `rathaus serve`
    /// on this data directory first
    Purge,
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Verify the hash chains and every recorded anchor; exits non-zero naming the first break
    Verify {
        /// Also compare with anchors kept outside (the output of `audit anchor`)
        #[arg(long)]
        anchor: Option<PathBuf>,
    },
    /// Record and print every tenant's chain head (`tenant seq hash`) for safe-keeping
    /// outside the server; `--mail` sends them too
    Anchor {
        #[arg(long)]
        mail: Option<String>,
    },
}

/// What to run: a platform command or a module's (`Module::cli`).
enum Run {
    Platform(Cmd),
    Module(Arc<dyn rathaus_web::Module>, clap::ArgMatches),
}

/// The platform's commands with every module's added, parsed.
fn parse() -> (Option<PathBuf>, Run) {
    let mods = modules();
    let mut command = Cli::command();
    for m in &mods {
        if let Some(c) = m.cli() {
            command = command.subcommand(c.name(m.name()));
        }
    }
    let matches = command.get_matches();
    let config = matches.get_one::<PathBuf>("config").cloned();
    if let Some((name, sub)) = matches.subcommand()
        && let Some(m) = mods.iter().find(|m| m.name() == name && m.cli().is_some())
    {
        return (config, Run::Module(m.clone(), sub.clone()));
    }
    match Cli::from_arg_matches(&matches) {
        Ok(cli) => (cli.config, Run::Platform(cli.cmd)),
        Err(e) => e.exit(),
    }
}

fn main() -> ExitCode {
    let (config_path, cmd) = parse();
    let cfg = match config::load(config_path.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("rathaus: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    init_logging(&cfg);
    rathaus_store::outbound::configure(cfg.outbound());
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("rathaus: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cmd, cfg)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rathaus: {}", format_error(&e));
            ExitCode::FAILURE
        }
    }
}

fn format_error(e: &anyhow::Error) -> String {
    // Field errors from the services carry translation keys; show them in German.
    if let Some(rathaus_core::Error::Invalid(f)) = e.downcast_ref::<rathaus_core::Error>() {
        let t = rathaus_web::i18n::catalog(rathaus_web::i18n::Lang::De);
        return f
            .0
            .iter()
            .map(|x| {
                format!(
                    "{}: {}",
                    x.field,
                    x.arg
                        .as_deref()
                        .map(|a| t.fmt(&x.key, a))
                        .unwrap_or_else(|| t.get(&x.key).to_string())
                )
            })
            .collect::<Vec<_>>()
            .join("; ");
    }
    format!("{e:#}")
}

fn init_logging(cfg: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RATHAUS_LOG")
        // One line per start-up phase: the migrator's line per migration only with RATHAUS_LOG.
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sea_orm_migration=warn"));
    let b = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cfg.log_format {
        LogFormat::Json => b.json().init(),
        LogFormat::Text => b.init(),
    }
}

use rathaus::modules;
use rathaus_web::module::cli_tenant;

/// The modules' texts, for German error messages of module commands (the server registers
/// them when it builds its state).
fn module_texts() {
    for m in modules() {
        for lang in [rathaus_web::i18n::Lang::De, rathaus_web::i18n::Lang::En] {
            for src in m.translation_files(lang) {
                rathaus_web::i18n::register(lang, src);
            }
        }
    }
}

async fn open(cfg: &Config) -> anyhow::Result<Db> {
    if cfg.database_url.is_none() {
        std::fs::create_dir_all(&cfg.data_dir)
            .with_context(|| format!("cannot create data directory {}", cfg.data_dir.display()))?;
    }
    let db = Db::connect(&cfg.database_url()).await?;
    let before = db.applied_migrations().await.map(|m| m.len()).unwrap_or(0);
    rathaus_web::module::migrate_all(&db, &modules()).await?;
    let after = db.applied_migrations().await?.len();
    tracing::info!(
        backend = ?db.backend,
        applied_now = after.saturating_sub(before),
        platform_migrations = after,
        "database ready"
    );
    Ok(db)
}

fn read_password() -> anyhow::Result<String> {
    let mut s = String::new();
    std::io::stdin()
        .read_to_string(&mut s)
        .context("cannot read the password from standard input")?;
    let pw = s.trim_end_matches(['\n', '\r']).to_string();
    if pw.is_empty() {
        bail!(
            "no password on standard input (e.g. `printf '%s' \"$PW\" | rathaus admin create-user …`)"
        );
    }
    Ok(pw)
}

async fn run(cmd: Run, cfg: Config) -> anyhow::Result<ExitCode> {
    let cmd = match cmd {
        Run::Platform(c) => c,
        Run::Module(m, args) => {
            module_texts();
            let db = open(&cfg).await?;
            return m.run_cli(&db, &args).await;
        }
    };
    match cmd {
        Cmd::Serve { demo } => serve(cfg, demo).await?,
        Cmd::Routes { json } => print_routes(json),
        Cmd::Search(c) => return search_cmd(&cfg, c).await,
        Cmd::Migrate => {
            let db = open(&cfg).await?;
            for m in db.applied_migrations().await? {
                println!("applied: {m}");
            }
        }
        Cmd::Tenant(TenantCmd::Add { slug, name, host }) => {
            let db = open(&cfg).await?;
            let t = tenants::create(
                &db.conn,
                &Actor::system("cli"),
                NewTenant {
                    slug: &slug,
                    name: &name,
                    hosts: &host,
                },
            )
            .await?;
            println!("tenant {} ({}) created with id {}", t.slug, t.name, t.id);
        }
        Cmd::Tenant(TenantCmd::List) => {
            let db = open(&cfg).await?;
            for (t, hosts) in tenants::list(&db.conn).await? {
                println!("{}\t{}\t{}\t{}", t.id, t.slug, t.name, hosts.join(","));
            }
        }
        Cmd::Admin(AdminCmd::CreateUser {
            email,
            name,
            role,
            tenant,
        }) => {
            let db = open(&cfg).await?;
            let tid = cli_tenant(&db, tenant.as_deref()).await?;
            let mut role_ids = vec![];
            for r in &role {
                role_ids.push(
                    accounts::role_by_name(&db.conn, tid, r)
                        .await?
                        .with_context(|| format!("no role named {r}"))?
                        .id,
                );
            }
            let password = read_password()?;
            let u = accounts::create_user(
                &db.conn,
                tid,
                rathaus_store::uow::Actor::system("cli"),
                accounts::UserInput {
                    email: &email,
                    name: &name,
                    password: &password,
                    department_id: None,
                    role_ids: &role_ids,
                    active: true,
                },
            )
            .await?;
            println!("user {} created with id {}", u.email, u.id);
        }
        Cmd::Admin(AdminCmd::CreateToken {
            email,
            name,
            tenant,
        }) => {
            let db = open(&cfg).await?;
            let tid = cli_tenant(&db, tenant.as_deref()).await?;
            let u = accounts::find_by_email(&db.conn, tid, &email)
                .await?
                .with_context(|| format!("no user {email}"))?;
            let (plain, _) = tokens::create(
                &db.conn,
                tid,
                UserId(u.id),
                rathaus_store::uow::Actor::system("cli"),
                &name,
            )
            .await?;
            println!("API token for {} (shown once):", u.email);
            println!("{plain}");
        }
        Cmd::Admin(AdminCmd::ResetSecondFactor { email, tenant }) => {
            let db = open(&cfg).await?;
            let tid = cli_tenant(&db, tenant.as_deref()).await?;
            let u = accounts::find_by_email(&db.conn, tid, &email)
                .await?
                .with_context(|| format!("no user {email}"))?;
            accounts::reset_totp(
                &db.conn,
                tid,
                rathaus_store::uow::Actor::system("cli"),
                UserId(u.id),
            )
            .await?;
            println!(
                "second factor of {} removed; their sessions were ended",
                u.email
            );
        }
        Cmd::Admin(AdminCmd::ResetPassword { email, tenant }) => {
            let db = open(&cfg).await?;
            let tid = cli_tenant(&db, tenant.as_deref()).await?;
            let u = accounts::find_by_email(&db.conn, tid, &email)
                .await?
                .with_context(|| format!("no user {email}"))?;
            let password = read_password()?;
            accounts::reset_password(
                &db.conn,
                tid,
                UserId(u.id),
                &password,
                &Actor::system("cli"),
            )
            .await?;
            println!("password of {} reset; their sessions were ended", u.email);
        }
        Cmd::Audit(AuditCmd::Verify { anchor }) => {
            let db = open(&cfg).await?;
            let outside = match anchor {
                Some(f) => {
                    let text = std::fs::read_to_string(&f)
                        .with_context(|| format!("cannot read {}", f.display()))?;
                    audit::Anchor::parse_lines(&text)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?
                }
                None => vec![],
            };
            match audit::verify_against(&db.conn, &outside).await? {
                Ok(n) => println!("audit chain intact: {n} events checked"),
                Err(b) => {
                    eprintln!("audit chain BROKEN at {b}");
                    return Ok(ExitCode::from(3));
                }
            }
        }
        Cmd::Audit(AuditCmd::Anchor { mail }) => {
            let db = open(&cfg).await?;
            let text = anchor_text(&audit::anchor(&db.conn).await?);
            print!("{text}");
            if let Some(to) = mail {
                rathaus_store::mail::Sender::new(cfg.smtp().as_ref())?
                    .send_direct(&to, ANCHOR_SUBJECT, &text)
                    .await
                    .map_err(|e| anyhow::anyhow!("mail to {to} failed: {e}"))?;
                eprintln!("sent to {to}");
            }
        }
        Cmd::Backup { to } => {
            let db = open(&cfg).await?;
            let bar = indicatif::ProgressBar::new_spinner()
                .with_message(format!("writing {}", to.display()));
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            let files = rathaus_store::files::FileStore::from_config(&cfg.files())?;
            let note = backup::backup_with_files(&db, &cfg.data_dir, &to, &files).await?;
            bar.finish_with_message(format!("backup written to {}", to.display()));
            if let Some(n) = note {
                eprintln!("{n}");
            }
        }
        Cmd::Restore {
            from,
            keep_sessions,
        } => {
            if cfg
                .database_url
                .as_deref()
                .is_some_and(|u| !u.starts_with("sqlite:"))
            {
                bail!(
                    "restore covers SQLite installations; for PostgreSQL use pg_restore (docs/operations.md)"
                );
            }
            let anchors = backup::restore(&from, &cfg.data_dir)?;
            let db = open(&cfg).await?;
            let n = audit::verify_against(&db.conn, &anchors)
                .await?
                .map_err(|b| anyhow::anyhow!("restored, but the audit chain is broken at {b}"))?;
            let ended = if keep_sessions {
                0
            } else {
                rathaus_store::sessions::delete_all(&db.conn).await?
            };
            println!(
                "restored into {} ({n} audit events verified; sessions ended: {ended})",
                cfg.data_dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The modules' demo data that needs the file service (documents with content), added to the
/// demo tenant as its admin at every demo start; each hook skips what is already there.
async fn demo_files(db: &Db, files: &rathaus_store::files::FileStore) -> anyhow::Result<()> {
    let Some(t) = tenants::by_slug(&db.conn, demo::SLUG).await? else {
        return Ok(());
    };
    let tid = rathaus_core::TenantId(t.id);
    let Some(u) = accounts::find_by_email(&db.conn, tid, demo::ADMIN_EMAIL).await? else {
        return Ok(());
    };
    let Some(admin) = accounts::principal(&db.conn, tid, UserId(u.id)).await? else {
        return Ok(());
    };
    for m in modules() {
        m.demo_files(db, files, &admin)
            .await
            .map_err(|e| e.context(format!("demo files of module {}", m.name())))?;
    }
    Ok(())
}

async fn serve(cfg: Config, demo: bool) -> anyhow::Result<()> {
    // The job worker may send a module's mail before the web state registers its texts.
    module_texts();
    let db = open(&cfg).await?;
    let files = Arc::new(rathaus_store::files::FileStore::from_config(&cfg.files())?);
    let demo_password = if demo {
        let pw = demo::ensure(&db, &modules()).await?;
        demo_files(&db, &files).await?;
        Some(pw)
    } else {
        None
    };
    let listener = tokio::net::TcpListener::bind(cfg.listen)
        .await
        .with_context(|| format!("cannot listen on {} (setting listen)", cfg.listen))?;
    let addr = listener.local_addr()?;
    let url = cfg
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}/"));
    tracing::info!(%addr, backend = ?db.backend, "Rathaus is listening");
    println!("URL: {url}");
    if let Some(pw) = demo_password {
        println!("E-Mail: {}", demo::ADMIN_EMAIL);
        println!("Passwort: {pw}");
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut registry = Registry::default();
    registry.register(
        mail::JOB_KIND,
        Arc::new(mail::Sender::new(cfg.smtp().as_ref())?),
    );
    for m in modules() {
        for (kind, h) in m.jobs() {
            registry.register(kind, h);
        }
    }
    for (kind, h) in rathaus_store::files::jobs(files.clone()) {
        registry.register(kind, h);
    }
    for (kind, h) in rathaus_extract::jobs(files.clone()) {
        registry.register(kind, h);
    }
    for m in modules() {
        for (kind, h) in m.file_jobs(files.clone()) {
            registry.register(kind, h);
        }
    }
    let worker = tokio::spawn(registry.work(
        db.clone(),
        std::time::Duration::from_secs(1),
        stop_rx.clone(),
    ));
    let anchorer = tokio::spawn(anchor_daily(
        db.clone(),
        cfg.audit_anchor_mail.clone().map(|to| (to, cfg.smtp())),
        stop_rx.clone(),
    ));
    let settings = serde_json::to_value(&cfg)?;
    let mut background = Vec::new();
    for m in modules() {
        let ctx = rathaus_web::module::Background::new(
            m.name(),
            db.clone(),
            files.clone(),
            stop_rx.clone(),
            cfg.file_limits(),
            &settings,
        );
        background.extend(m.background(&ctx).into_iter().map(tokio::spawn));
    }
    let janitor = tokio::spawn(housekeeping(db.clone(), files.clone(), stop_rx));

    // The web state registers the modules' document kinds itself.
    let search = rathaus_search::SearchService::open(&rathaus_search::index_dir(&cfg.data_dir))?;
    let fresh = search.fresh();
    let st = rathaus_web::AppState::with_services(db.clone(), cfg.web(), modules(), search, files);
    if fresh {
        // A new (or replaced) index starts from the modules' tables; searches answer from
        // what is indexed so far meanwhile.
        let (search, db) = (st.search.clone(), db.clone());
        tokio::spawn(async move {
            match search.reindex(&db, None, None, |_| {}).await {
                Ok(n) => tracing::info!(documents = n, "search index built"),
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "building the search index failed; run `rathaus search reindex`")
                }
            }
        });
    }
    rathaus_web::serve(listener, st, shutdown_signal()).await?;
    tracing::info!("stopped accepting requests; in-flight requests drained");
    let _ = stop_tx.send(true);
    let _ = worker.await;
    let _ = janitor.await;
    let _ = anchorer.await;
    for t in background {
        let _ = t.await;
    }
    db.conn.close_by_ref().await.ok();
    Ok(())
}

const ANCHOR_SUBJECT: &str = "Rathaus audit anchor";

/// The anchors as `audit anchor` prints them: a comment with the time, then one line per
/// tenant, which `audit verify --anchor FILE` reads back.
fn anchor_text(anchors: &[audit::Anchor]) -> String {
    let mut out = format!(
        "# Rathaus audit anchor {}\n# tenant seq hash; keep outside the server, check with `rathaus audit verify --anchor FILE`\n",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    for a in anchors {
        out.push_str(&a.line());
        out.push('\n');
    }
    out
}

/// Once a day: record every tenant's chain head, and mail the anchors to the operator when
/// `audit_anchor_mail` is set.
async fn anchor_daily(
    db: Db,
    mail: Option<(String, Option<rathaus_store::mail::SmtpConfig>)>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(24 * 3600)) => {}
            _ = stop.changed() => return,
        }
        let anchors = match audit::anchor(&db.conn).await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "audit anchor failed");
                continue;
            }
        };
        if let Some((to, smtp)) = &mail {
            let sent = match rathaus_store::mail::Sender::new(smtp.as_ref()) {
                Ok(s) => {
                    s.send_direct(to, ANCHOR_SUBJECT, &anchor_text(&anchors))
                        .await
                }
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = sent {
                tracing::warn!(error = %e, %to, "audit anchor mail failed");
            }
        }
    }
}

/// Every 10 minutes: expired sessions go; once a day (and at start): a collection of
/// unreferenced stored files is queued per tenant that stores any, and search outbox rows
/// applied a week ago are deleted.
async fn housekeeping(
    db: Db,
    files: Arc<rathaus_store::files::FileStore>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut round: u64 = 0;
    loop {
        match sessions::purge_expired(&db.conn).await {
            Ok(n) if n > 0 => tracing::info!(removed = n, "expired sessions purged"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "session purge failed"),
        }
        if round.is_multiple_of(144) {
            if let Err(e) = files.schedule_all(&db).await {
                tracing::warn!(error = %e, "scheduling the file collection failed");
            }
            // Every replica applied these long ago; one offline longer is rebuilt.
            if let Err(e) = rathaus_search::outbox::prune(&db, chrono::Duration::days(7)).await {
                tracing::warn!(error = %e, "pruning the search outbox failed");
            }
        }
        round += 1;
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(600)) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown signal received");
}

/// `rathaus routes`: the route tables of the platform and every module (the browser tests
/// crawl with it, so that no page kind is left unchecked).
fn print_routes(json: bool) {
    use rathaus_web::{Access, Kind};
    let mut rows = vec![];
    let mut add = |module: &str, r: &rathaus_web::RouteInfo| {
        let kind = match r.kind {
            Kind::Page => "page",
            Kind::Api => "api",
            Kind::Machine => "machine",
        };
        let (access, perms) = match r.access {
            Access::Public => ("public", vec![]),
            Access::Secret => ("secret", vec![]),
            Access::SignedIn => ("signed-in", vec![]),
            Access::AnyOf(ps) => ("permission", ps.to_vec()),
        };
        rows.push(serde_json::json!({
            "module": module, "method": r.method.as_str(), "path": r.path,
            "kind": kind, "access": access, "permissions": perms,
        }));
    };
    for r in rathaus_web::app::platform_routes().table() {
        add("platform", r);
    }
    for m in modules() {
        for r in m.routes().table() {
            add(m.name(), r);
        }
    }
    use std::io::Write;
    // A closed pipe (`rathaus routes | head`) ends the listing quietly.
    let mut out = std::io::stdout().lock();
    for row in rows {
        let line = if json {
            row.to_string()
        } else {
            format!(
                "{:<7} {:<60} {:<8} {} {}",
                row["method"].as_str().unwrap_or_default(),
                row["path"].as_str().unwrap_or_default(),
                row["kind"].as_str().unwrap_or_default(),
                row["access"].as_str().unwrap_or_default(),
                row["permissions"]
                    .as_array()
                    .map(|a| a
                        .iter()
                        .filter_map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(","))
                    .unwrap_or_default(),
            )
        };
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
}

/// The search index in the data directory, with every module's document kinds.
fn open_search(cfg: &Config) -> anyhow::Result<rathaus_search::SearchService> {
    let mut svc = rathaus_search::SearchService::open(&rathaus_search::index_dir(&cfg.data_dir))?;
    for m in modules() {
        for source in m.search_sources() {
            svc.register(source);
        }
    }
    Ok(svc)
}

/// `rathaus search …`.
async fn search_cmd(cfg: &Config, cmd: SearchCmd) -> anyhow::Result<ExitCode> {
    let db = open(cfg).await?;
    let svc = open_search(cfg)?;
    match cmd {
        SearchCmd::Status => {
            let s = svc.status(&db).await?;
            println!("applied outbox position: {}", s.applied);
            match s.oldest_pending {
                Some(t) => println!("pending changes: {} (oldest {t})", s.pending),
                None => println!("pending changes: {}", s.pending),
            }
            println!("segments: {}", s.segments);
            println!("deleted documents not yet purged: {}", s.deleted);
            for (kind, n) in s.counts {
                println!("documents {kind}: {n}");
            }
        }
        SearchCmd::Reindex { tenant, kind } => {
            let tenant = match tenant {
                Some(slug) => Some(cli_tenant(&db, Some(&slug)).await?),
                None => None,
            };
            let bar = indicatif::ProgressBar::new_spinner().with_style(
                indicatif::ProgressStyle::with_template("{spinner} {pos} documents")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            let n = svc
                .reindex(&db, tenant, kind.as_deref(), |n| bar.set_position(n))
                .await?;
            svc.wait_merges().await?;
            bar.finish_and_clear();
            println!("{n} documents indexed");
        }
        SearchCmd::Purge => {
            svc.apply_outbox(&db).await?;
            let n = svc.purge_deleted().await?;
            svc.wait_merges().await?;
            println!("{n} segments rewritten");
        }
    }
    Ok(ExitCode::SUCCESS)
}
