//! SQL implementations of Torg's [`Store`]: SQLite (the embedded default) and PostgreSQL
//! (large and multi-node installations). Both compile the same SQL, one file per capability
//! in `sql/` (written with `$n` placeholders, which both databases accept), with their own
//! `Db` type and few differences; each has its own migrations and connection setup.
//!
//! Inquiry creation goes through a group-commit writer ([`batch`]): concurrent requests share
//! one transaction and one fsync, and each is answered only after that commit.

// Each backend compiles the same capability files (`sql/*.rs`) with its own database type.
#![allow(
    clippy::duplicate_mod,
    reason = "the SQL of both backends is one set of files, compiled once per backend"
)]

mod batch;
pub mod postgres;
mod rows;
pub mod sqlite;

use std::sync::Arc;
use torg_store::{Store, StoreError};

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Opens the store named by `url`: `postgres://…` for PostgreSQL, otherwise a SQLite file
/// path (or `sqlite://path`). Migrations are applied.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Ok(Arc::new(
            SqliteStore::open(std::path::Path::new(path)).await?,
        ))
    }
}

/// Tables whose rows belong to a municipality and are referenced from others.
#[derive(Clone, Copy)]
pub(crate) enum Owned {
    Unit,
    User,
    Inquiry,
}

pub(crate) fn db_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(d) = &e {
        if d.is_unique_violation() {
            return StoreError::Conflict(d.message().to_string());
        }
        // Composite foreign keys carry the tenant: a unit, person or inquiry of another
        // municipality does not exist for this one.
        if d.is_foreign_key_violation() {
            return StoreError::NotFound("referenced unit, user or inquiry");
        }
    }
    StoreError::Database(e.to_string())
}

/// Escapes `%`, `_` and the escape character itself for a `LIKE … ESCAPE '\\'` pattern.
pub(crate) fn like_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}
