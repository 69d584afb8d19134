//! Search (søk): the index is written with the text it holds (by the store, in the same
//! transaction); this rebuilds it, for `torg search reindex` and for `torg serve` at start
//! (inquiries written before the index existed, or by a bulk tool that bypassed it).

use std::sync::Arc;
use torg_store::{Store, StoreError};

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
