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

/// Where one query of a search looks, newest first. PostgreSQL's index also holds, for each
/// inquiry, its block of ids at four levels — `#<municipality>/<id >> 12>` (4,096 ids) and
/// `#<municipality>:<level>/<id >> (12 + 3 level)>` for levels 1 to 3 (32,768, 262,144 and
/// 2,097,152 ids) — so a search asks the newest block first, then the next level's two
/// blocks below what it has asked (at least eight times as many ids), and so on, and stops when
/// its page is full: the GIN index then intersects a word with a few hundred of the
/// municipality's rows instead of all of them, however common the word (a word in half of all
/// inquiries filled a page from 250,000 hits before), asking at most two block lexemes at a
/// time (a long OR of lexemes costs the index more than it saves). What the spans leave is
/// asked last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SearchSpan {
    /// The ids below `below` in the blocks of `level` from `newest` down to `oldest`.
    Blocks {
        level: u32,
        newest: i64,
        oldest: i64,
        below: i64,
    },
    /// Every inquiry with an id below this (all, when none).
    Below(Option<i64>),
}

/// Ids per search block of level 0: 4,096 (the largest municipality of a national host, 5 %
/// of all inquiries, has about 200 in each); each level up holds eight blocks of the one
/// below. Migration 0043's trigger computes the same.
pub(crate) const SEARCH_BLOCK_BITS: u32 = 12;

/// The highest level of search blocks.
const SEARCH_TOP_LEVEL: u32 = 3;

/// The shift that gives an id's block of `level`.
pub(crate) fn search_block_shift(level: u32) -> u32 {
    SEARCH_BLOCK_BITS + 3 * level
}

/// The lexemes of inquiry `id`'s blocks at every level, as migration 0043's trigger adds them
/// to its row of the index: for a bulk load that writes the index with the trigger off (a
/// replica's session, as `torg-bench national` and `pg_restore` load).
pub fn search_block_lexemes(tenant: i64, id: i64) -> Vec<String> {
    (0..=SEARCH_TOP_LEVEL)
        .map(|level| {
            let block = id >> search_block_shift(level);
            match level {
                0 => format!("#{tenant}/{block}"),
                l => format!("#{tenant}:{l}/{block}"),
            }
        })
        .collect()
}

/// The spans of a search over the inquiries with ids below `upper`: disjoint, newest first,
/// together all of them.
pub(crate) fn search_spans(upper: i64) -> Vec<SearchSpan> {
    if upper <= 0 {
        return vec![];
    }
    let newest = (upper - 1) >> SEARCH_BLOCK_BITS;
    let mut spans = vec![SearchSpan::Blocks {
        level: 0,
        newest,
        oldest: newest,
        below: upper,
    }];
    // The lowest id asked so far.
    let mut asked_from = newest << SEARCH_BLOCK_BITS;
    for level in 1..=SEARCH_TOP_LEVEL {
        if asked_from == 0 {
            return spans;
        }
        let shift = search_block_shift(level);
        let block = (asked_from - 1) >> shift;
        let oldest = (block - 1).max(0);
        spans.push(SearchSpan::Blocks {
            level,
            newest: block,
            oldest,
            below: asked_from,
        });
        asked_from = oldest << shift;
    }
    if asked_from > 0 {
        spans.push(SearchSpan::Below(Some(asked_from)));
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
                SearchSpan::Blocks {
                    level,
                    newest,
                    oldest,
                    below,
                } => id < below && (oldest..=newest).contains(&(id >> search_block_shift(level))),
                SearchSpan::Below(b) => b.is_none_or(|b| id < b),
            })
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn search_spans_cover_every_id_once_newest_first() {
        for upper in [1, 2, 4096, 4097, 32_769, 300_000, 10_000_001, 40_000_000] {
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
            // Each span of blocks asks at most two, and each asks at least eight times the
            // ids of the one before (where there are so many).
            for s in &spans {
                if let SearchSpan::Blocks { newest, oldest, .. } = s {
                    assert!(newest - oldest <= 1, "{s:?}");
                }
            }
        }
        assert_eq!(
            search_spans(10_000_001),
            vec![
                SearchSpan::Blocks {
                    level: 0,
                    newest: 2441,
                    oldest: 2441,
                    below: 10_000_001
                },
                SearchSpan::Blocks {
                    level: 1,
                    newest: 305,
                    oldest: 304,
                    below: 2441 << 12
                },
                SearchSpan::Blocks {
                    level: 2,
                    newest: 37,
                    oldest: 36,
                    below: 304 << 15
                },
                SearchSpan::Blocks {
                    level: 3,
                    newest: 4,
                    oldest: 3,
                    below: 36 << 18
                },
                SearchSpan::Below(Some(3 << 21)),
            ]
        );
        assert_eq!(search_spans(0), vec![]);
    }
}
