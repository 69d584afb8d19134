//! SQLite: the embedded default. WAL journal, `synchronous = FULL` (a committed inquiry
//! survives a crash and a power cut), write transactions begun IMMEDIATE so that they queue
//! on the busy timeout instead of failing.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::Path;
use std::time::Duration;

/// The SQLite store. Cloning shares the pool and the writer.
#[derive(Clone)]
pub struct SqliteStore {
    pool: sqlx::SqlitePool,
    writer: tokio::sync::mpsc::Sender<crate::batch::Job>,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl SqliteStore {
    /// Opens (creating if missing) the database file and applies migrations.
    pub async fn open(path: &Path) -> Result<SqliteStore, torg_store::StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(15))
            .foreign_keys(true)
            .pragma("cache_size", "-8000");
        let pool = SqlitePoolOptions::new()
            .max_connections(6)
            .min_connections(1)
            .connect_with(options)
            .await
            .map_err(crate::db_err)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| torg_store::StoreError::Database(format!("migrations failed: {e}")))?;
        let (writer, rx) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(shared::run_writer(pool.clone(), rx));
        Ok(SqliteStore { pool, writer })
    }

    /// Writes a consistent copy of the database to `target` (a new file) while it is in use:
    /// SQLite's `VACUUM INTO` reads one snapshot. Attachments live in the database, so they
    /// are included.
    pub async fn backup_to(&self, target: &Path) -> Result<(), torg_store::StoreError> {
        let target = target.to_str().ok_or_else(|| {
            torg_store::StoreError::Database("the backup path is not UTF-8".into())
        })?;
        sqlx::query("VACUUM INTO $1")
            .bind(target)
            .execute(&self.pool)
            .await
            .map_err(crate::db_err)?;
        Ok(())
    }

    /// Whether the database file is intact (`PRAGMA integrity_check`).
    pub async fn integrity_ok(&self) -> Result<bool, torg_store::StoreError> {
        let result: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await
            .map_err(crate::db_err)?;
        Ok(result == "ok")
    }

    /// The underlying pool, for bulk tools (demo data, benchmarks).
    pub fn pool(&self) -> &sqlx::SqlitePool {
        &self.pool
    }

    /// One node: live events stay in the process.
    fn bus(&self) -> Option<&dyn torg_store::NodeBus> {
        None
    }
}

// The SQL of every capability, shared by both backends (`sql/*.rs`), is compiled here with
// this backend's database and its few differences.
type Db = sqlx::Sqlite;
type This = SqliteStore;
const BACKEND: &str = "sqlite";
/// Write transactions begin so.
const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";
/// A user's columns, their unit memberships as comma-separated ids last.
const USER_COLUMNS: &str = "id, tenant_id, username, full_name, password_hash, role, unit_id, active, failed_logins, locked_until, external_subject, email, password_set_by, (SELECT group_concat(unit_id) FROM unit_memberships m WHERE m.tenant_id = users.tenant_id AND m.user_id = users.id) AS member_of";
// BEGIN IMMEDIATE already makes writers take turns.
const LOCK_AUDIT_CHAIN: &str = "SELECT $1";
// BEGIN IMMEDIATE already makes them take turns.
const LOCK_JOURNAL: &str = "SELECT $1";

/// The search index (`inquiry_terms`, FTS5): an inquiry's terms written ($1 inquiry, $2
/// municipality, $3 the terms separated by spaces), added to, and removed.
const SEARCH_ADD: &str = "INSERT INTO inquiry_terms (rowid, tenant_id, terms) VALUES ($1, $2, $3)";
const SEARCH_APPEND: &str =
    "UPDATE inquiry_terms SET terms = terms || ' ' || $3 WHERE rowid = $1 AND tenant_id = $2";
const SEARCH_REMOVE: &str = "DELETE FROM inquiry_terms WHERE rowid = $1";
/// A search's transaction needs no setting here.
const SEARCH_SETUP: &str = "";
/// FTS5 walks its rows newest first on its own: one query of the whole span.
const SEARCH_BY_BLOCKS: bool = false;
/// A search's inquiries (below the span's id, if it has one), driven by the index: `FROM …
/// WHERE` the terms match and the municipality's, in the index's order (newest first with
/// `SEARCH_ORDER DESC`).
fn push_search_from(
    q: &mut sqlx::QueryBuilder<Db>,
    tenant: i64,
    query: &torg_domain::search::Query,
    span: crate::SearchSpan,
    _frequent: &std::collections::HashSet<String>,
) {
    q.push(
        " FROM inquiry_terms JOIN inquiries ON inquiries.id = inquiry_terms.rowid \
         WHERE inquiry_terms MATCH ",
    )
    .push_bind(query.fts5())
    .push(" AND inquiries.tenant_id = ")
    .push_bind(tenant);
    match span {
        crate::SearchSpan::Below(Some(below)) => {
            q.push(" AND inquiry_terms.rowid < ").push_bind(below);
        }
        crate::SearchSpan::Below(None) => {}
        crate::SearchSpan::Blocks {
            level,
            newest,
            oldest,
            below,
        } => {
            let shift = crate::search_block_shift(level);
            q.push(" AND inquiry_terms.rowid >= ")
                .push_bind(oldest << shift)
                .push(" AND inquiry_terms.rowid < ")
                .push_bind(below.min((newest + 1) << shift));
        }
    }
}
const SEARCH_ORDER: &str = "inquiry_terms.rowid";
/// Inquiries not in the index yet.
const SEARCH_MISSING: &str =
    "NOT EXISTS (SELECT 1 FROM inquiry_terms s WHERE s.rowid = inquiries.id)";

impl SqliteStore {
    /// FTS5 needs no frequent terms set apart.
    async fn frequent_terms(
        &self,
    ) -> torg_store::Result<std::sync::Arc<std::collections::HashSet<String>>> {
        Ok(std::sync::Arc::default())
    }
}

#[path = "sql/archive.rs"]
mod archive;
#[path = "sql/audit.rs"]
mod audit;
#[path = "sql/channels.rs"]
mod channels;
#[path = "sql/directory.rs"]
mod directory;
#[path = "sql/evaluation.rs"]
mod evaluation;
#[path = "sql/inquiries.rs"]
mod inquiries;
#[path = "sql/jobs.rs"]
mod jobs;
#[path = "sql/listening.rs"]
mod listening;
#[path = "sql/outbox.rs"]
mod outbox;
#[path = "sql/policies.rs"]
mod policies;
#[path = "sql/publishing.rs"]
mod publishing;
#[path = "sql/shared.rs"]
mod shared;
#[path = "sql/store.rs"]
mod store;
#[path = "sql/subscriptions.rs"]
mod subscriptions;
#[path = "sql/webhooks.rs"]
mod webhooks;
#[path = "sql/wheel.rs"]
mod wheel;
