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

/// Where one query of a search looks, newest first. PostgreSQL's index also holds each
/// inquiry's bucket `#<municipality>/<id >> SEARCH_BUCKET_BITS>`, so a search asks the
/// newest buckets first, then eight times as many older ones, and so on, and stops when its
/// page is full: the GIN index then intersects a word with a few hundred of the
/// municipality's rows instead of all of them, however common the word (a word in half of all
/// inquiries filled a page from 250,000 hits before). What the spans leave is asked last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SearchSpan {
    /// The buckets from `newest` down to `oldest`, both included.
    Buckets { newest: i64, oldest: i64 },
    /// Every inquiry with an id below this (all, when none).
    Below(Option<i64>),
}

/// Ids per search bucket: 4,096 (the largest municipality of a national host, 5 % of all
/// inquiries, has about 200 in each). Migration 0043's trigger computes the same (`>> 12`).
pub(crate) const SEARCH_BUCKET_BITS: u32 = 12;

/// How many buckets each span of a search asks, newest first.
const SEARCH_SPAN_BUCKETS: [i64; 4] = [1, 8, 64, 512];

/// The spans of a search over the inquiries with ids below `upper`: disjoint, newest first,
/// together all of them.
pub(crate) fn search_spans(upper: i64) -> Vec<SearchSpan> {
    let mut spans = vec![];
    let mut top = (upper - 1) >> SEARCH_BUCKET_BITS;
    for size in SEARCH_SPAN_BUCKETS {
        if top < 0 {
            return spans;
        }
        let oldest = (top - size + 1).max(0);
        spans.push(SearchSpan::Buckets {
            newest: top,
            oldest,
        });
        top = oldest - 1;
    }
    if top >= 0 {
        spans.push(SearchSpan::Below(Some((top + 1) << SEARCH_BUCKET_BITS)));
    }
    spans
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Which span holds `id`, if any.
    fn span_of(spans: &[SearchSpan], id: i64) -> Vec<usize> {
        spans
            .iter()
            .enumerate()
            .filter(|(_, s)| match **s {
                SearchSpan::Buckets { newest, oldest } => {
                    (oldest..=newest).contains(&(id >> SEARCH_BUCKET_BITS))
                }
                SearchSpan::Below(b) => b.is_none_or(|b| id < b),
            })
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn search_spans_cover_every_id_once_newest_first() {
        for upper in [1, 2, 4096, 4097, 300_000, 10_000_001, 40_000_000] {
            let spans = search_spans(upper);
            let probes = [
                0,
                1,
                upper / 3,
                upper / 2,
                upper - 4097,
                upper - 2,
                upper - 1,
            ];
            for id in probes.into_iter().filter(|i| (0..upper).contains(i)) {
                assert_eq!(span_of(&spans, id).len(), 1, "{id} of {upper}: {spans:?}");
            }
            // Newer ids never in a later span than older ones.
            let mut last = 0;
            for id in (0..upper).rev().step_by(977) {
                let s = span_of(&spans, id)[0];
                assert!(s >= last, "{id} of {upper}");
                last = s;
            }
        }
        assert_eq!(
            search_spans(10_000_001),
            vec![
                SearchSpan::Buckets {
                    newest: 2441,
                    oldest: 2441
                },
                SearchSpan::Buckets {
                    newest: 2440,
                    oldest: 2433
                },
                SearchSpan::Buckets {
                    newest: 2432,
                    oldest: 2369
                },
                SearchSpan::Buckets {
                    newest: 2368,
                    oldest: 1857
                },
                SearchSpan::Below(Some(1857 << SEARCH_BUCKET_BITS)),
            ]
        );
        assert_eq!(search_spans(0), vec![]);
    }
}
