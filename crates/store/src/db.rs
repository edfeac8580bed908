use anyhow::Context;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The shared connection pool. Cloning is cheap.
#[derive(Clone)]
pub struct Db {
    pub conn: DatabaseConnection,
    pub backend: Backend,
}

/// `postgres://…` selects PostgreSQL; anything else must be `sqlite:` (a file path).
pub fn backend_of(url: &str) -> anyhow::Result<Backend> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Backend::Postgres)
    } else if url.starts_with("sqlite:") {
        Ok(Backend::Sqlite)
    } else {
        anyhow::bail!("unsupported database URL (expected postgres://… or sqlite:…)")
    }
}

/// The default database: a SQLite file in the data directory.
pub fn default_sqlite_url(data_dir: &Path) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("rathaus.db").display()
    )
}

impl Db {
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        let backend = backend_of(url)?;
        let mut opts = ConnectOptions::new(url.to_string());
        opts.sqlx_logging(false)
            .connect_timeout(Duration::from_secs(10))
            .acquire_timeout(Duration::from_secs(10));
        match backend {
            Backend::Sqlite => {
                opts.max_connections(8)
                    .min_connections(1)
                    .map_sqlx_sqlite_opts(|o| {
                        use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
                        o.journal_mode(SqliteJournalMode::Wal)
                            .synchronous(SqliteSynchronous::Normal)
                            .foreign_keys(true)
                            .busy_timeout(Duration::from_secs(10))
                            .create_if_missing(true)
                    });
            }
            Backend::Postgres => {
                opts.max_connections(16).min_connections(1);
            }
        }
        let conn = Database::connect(opts)
            .await
            .context("cannot connect to the database")?;
        Ok(Db { conn, backend })
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        crate::migrations::Migrator::up(&self.conn, None)
            .await
            .context("migration failed")?;
        Ok(())
    }

    pub async fn ping(&self) -> bool {
        self.conn.ping().await.is_ok()
    }

    pub fn db_backend(&self) -> DbBackend {
        self.conn.get_database_backend()
    }

    /// Names of applied migrations, for `rathaus migrate` output.
    pub async fn applied_migrations(&self) -> anyhow::Result<Vec<String>> {
        let applied = crate::migrations::Migrator::get_applied_migrations(&self.conn).await?;
        Ok(applied.iter().map(|m| m.name().to_string()).collect())
    }

    /// Runs a statement that has no result (used by backup).
    pub async fn execute_unprepared(&self, sql: &str) -> anyhow::Result<()> {
        self.conn.execute_unprepared(sql).await?;
        Ok(())
    }
}
