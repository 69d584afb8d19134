//! Search (søk): the index is written with the text it holds (by the store, in the same
//! transaction); this rebuilds it, for `torg search reindex` and for `torg serve` at start
//! (inquiries written before the index existed, or by a bulk tool that bypassed it), and
//! lists inquiries as the inbox and the API show them: by deadline, or a search's hits
//! ranked by relevance and recency.

use jiff::Timestamp;
use std::sync::Arc;
use torg_domain::InquiryId;
use torg_domain::search::Query;
use torg_store::{Cursor, InquiryFilter, InquirySummary, Store, StoreError};

/// How many of a search's hits are ranked together: the newest this many, then the next
/// older this many, and so on. Ranking every hit of a common word (half of a million
/// inquiries) would cost a scan of them all on each page.
pub const RANK_WINDOW: u32 = torg_store::SEARCH_COUNT_CAP as u32;

/// Where a list's next page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListCursor {
    /// After this inquiry in the deadline order.
    Deadline(Cursor),
    /// In a search: the window of hits older than `before` (the newest when none), of
    /// which `offset` are already shown in rank order.
    Ranked {
        before: Option<InquiryId>,
        offset: u32,
    },
}

impl ListCursor {
    pub fn encode(&self) -> String {
        match self {
            ListCursor::Deadline(c) => c.encode(),
            ListCursor::Ranked { before, offset } => {
                format!("r{}-{offset}", before.map_or(0, InquiryId::get))
            }
        }
    }

    /// `None` for a text this module did not give out.
    pub fn decode(s: &str) -> Option<ListCursor> {
        match s.strip_prefix('r') {
            Some(rest) => {
                let (before, offset) = rest.split_once('-')?;
                let before: i64 = before.parse().ok()?;
                Some(ListCursor::Ranked {
                    before: (before > 0).then_some(InquiryId(before)),
                    offset: offset.parse().ok()?,
                })
            }
            None => Cursor::decode(s).map(ListCursor::Deadline),
        }
    }
}

/// A page of a list, and where the next one starts (none at the end).
#[derive(Debug)]
pub struct ListPage {
    pub items: Vec<InquirySummary>,
    pub next: Option<ListCursor>,
    /// On a search's first window, its hits counted as [`Store::count_matching`] counts them
    /// (up to [`torg_store::SEARCH_COUNT_CAP`], meaning that many or more): the window read them.
    pub hits: Option<i64>,
}

/// Lists what `filter` finds, `limit` at a time. Without words (or with a reference), by
/// deadline, then age. With words, the hits ranked: the newest [`RANK_WINDOW`] hits are
/// ordered by [`Query::score`] (where the words are found — name and subject, the text
/// shown, elsewhere — then age) and given page by page, then the next older window.
pub async fn list(
    store: &dyn Store,
    tenant: torg_domain::TenantId,
    filter: &InquiryFilter,
    after: Option<ListCursor>,
    limit: u32,
    now: Timestamp,
) -> Result<ListPage, StoreError> {
    let words = filter
        .search
        .as_deref()
        .and_then(torg_domain::search::words_of);
    let Some(query) = words else {
        let after = match after {
            Some(ListCursor::Deadline(c)) => Some(c),
            _ => None,
        };
        let items = store
            .list_inquiries(tenant, filter, after.as_ref(), limit)
            .await?;
        let next = (items.len() == limit as usize)
            .then(|| items.last().map(|s| ListCursor::Deadline(s.cursor())))
            .flatten();
        return Ok(ListPage {
            items,
            next,
            hits: None,
        });
    };
    let (before, offset) = match after {
        Some(ListCursor::Ranked { before, offset }) => (before, offset as usize),
        _ => (None, 0),
    };
    // The store lists a search's hits newest first, from the cursor's id down.
    let from = before.map(|id| Cursor {
        deadline_at: 0,
        received_at: 0,
        id,
    });
    // Not one more than the window: the store's spans of a search stop when a window is full,
    // and one more hit can take it into the next span, eight times as large.
    let window = store
        .list_inquiries(tenant, filter, from.as_ref(), RANK_WINDOW)
        .await?;
    let hits = before.is_none().then_some(window.len() as i64);
    let oldest = window.last().map(|s| s.id);
    let full = window.len() == RANK_WINDOW as usize;
    let ranked = rank(&query, window, now);
    let end = (offset + limit as usize).min(ranked.len());
    let next = if end < ranked.len() {
        Some(ListCursor::Ranked {
            before,
            offset: end as u32,
        })
    } else if full {
        Some(ListCursor::Ranked {
            before: oldest,
            offset: 0,
        })
    } else {
        None
    };
    let items = ranked
        .into_iter()
        .skip(offset)
        .take(limit as usize)
        .collect();
    Ok(ListPage { items, next, hits })
}

/// `hits` by [`Query::score`], best first (the newer first where they score alike).
pub fn rank(query: &Query, hits: Vec<InquirySummary>, now: Timestamp) -> Vec<InquirySummary> {
    let mut scored: Vec<(f64, InquirySummary)> = hits
        .into_iter()
        .map(|s| {
            let title = format!("{} {}", s.citizen_name, s.subject.as_deref().unwrap_or(""));
            let days =
                (now.as_millisecond() - s.received_at.as_millisecond()) as f64 / 86_400_000.0;
            (query.score(&title, &s.preview, days), s)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.id.cmp(&a.1.id)));
    scored.into_iter().map(|(_, s)| s).collect()
}

/// Inquiries indexed per transaction.
const BATCH: u32 = 500;

/// Rebuilds the index of every inquiry (or only those missing from it), in batches;
/// `progress` is told the running count. The number indexed.
pub async fn reindex(
    store: &dyn Store,
    only_missing: bool,
    mut progress: impl FnMut(u64),
) -> Result<u64, StoreError> {
    let (mut after, mut total) = (0, 0);
    loop {
        let (n, last) = store.reindex_search(after, BATCH, only_missing).await?;
        if n == 0 {
            return Ok(total);
        }
        total += n;
        after = last;
        progress(total);
    }
}

/// At start: indexes what is missing from the index, in the background, and says so.
pub async fn index_missing(store: Arc<dyn Store>) {
    match reindex(&*store, true, |_| {}).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(inquiries = n, "search index: added what was missing"),
        Err(e) => tracing::error!(error = %e, "search index: could not add what was missing"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torg_store::StatusFilter;
    use torg_store::conformance::{fixture, new_inquiry};

    /// A search's first window is its count: exact below the cap, the cap ("that many or more")
    /// at it, as the store counts; a later window counts nothing.
    #[tokio::test]
    async fn the_first_window_counts_the_hits() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
            .await
            .expect("open");
        let f = fixture(&*store).await;
        let now: Timestamp = "2026-12-01T10:00:00Z".parse().expect("time");
        let cap = torg_store::SEARCH_COUNT_CAP;
        for i in 0..cap + 5 {
            let word = if i < 3 {
                "kvernstein brøyting"
            } else {
                "brøyting"
            };
            let mut n = new_inquiry(&f, &format!("Om {word} nummer {i}"), now);
            n.follow_token_hash = format!("hash-{i}");
            store.create_inquiry(n).await.expect("create");
        }
        let search = |words: &str| InquiryFilter {
            status: StatusFilter::Any,
            search: Some(words.into()),
            ..Default::default()
        };
        for (words, hits) in [("kvernstein", 3), ("brøyting", cap)] {
            let filter = search(words);
            let page = list(&*store, f.tenant.id, &filter, None, 50, now)
                .await
                .expect("list");
            assert_eq!(page.hits, Some(hits), "{words}");
            let counted = store
                .count_matching(f.tenant.id, &filter)
                .await
                .expect("count");
            assert_eq!(counted, hits, "{words}: as the store counts");
        }
        // Through the pages: every hit once, and only the first window counts.
        let filter = search("brøyting");
        let (mut seen, mut after, mut counts) = (vec![], None, vec![]);
        loop {
            let page = list(&*store, f.tenant.id, &filter, after, 50, now)
                .await
                .expect("page");
            seen.extend(page.items.iter().map(|s| s.id));
            counts.push(page.hits);
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            (seen.len(), unique.len()),
            (cap as usize + 5, cap as usize + 5)
        );
        assert!(counts[..4].iter().all(|c| *c == Some(cap)), "{counts:?}");
        assert!(counts[4..].iter().all(Option::is_none), "{counts:?}");
    }

    #[test]
    fn cursors_read_back_and_strangers_are_refused() {
        for c in [
            ListCursor::Ranked {
                before: None,
                offset: 50,
            },
            ListCursor::Ranked {
                before: Some(InquiryId(77)),
                offset: 0,
            },
            ListCursor::Deadline(Cursor {
                deadline_at: 5,
                received_at: 3,
                id: InquiryId(9),
            }),
        ] {
            assert_eq!(ListCursor::decode(&c.encode()), Some(c));
        }
        for bad in ["", "r", "r1", "rx-1", "r1-x", "1.2", "x.y.z"] {
            assert_eq!(ListCursor::decode(bad), None, "{bad}");
        }
    }
}
