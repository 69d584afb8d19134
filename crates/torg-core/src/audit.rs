//! Checking a municipality's audit log: its hash chain verified page by page.

use torg_domain::TenantId;
use torg_domain::audit::{ChainBreak, ChainVerifier};
use torg_store::{Store, StoreError};

/// Verifies the whole chain of `tenant`: the number of entries, or where it breaks.
/// `progress` is told how many entries each page checked. The next page is read while this
/// one is hashed on another thread.
pub async fn verify(
    store: &dyn Store,
    tenant: TenantId,
    mut progress: impl FnMut(u64),
) -> Result<Result<i64, ChainBreak>, StoreError> {
    let mut verifier = ChainVerifier::default();
    let mut page = store.audit_entries(tenant, 0, 10_000).await?;
    while let Some(last) = page.last().map(|e| e.seq) {
        let n = page.len() as u64;
        let check = tokio::task::spawn_blocking(move || {
            let result = verifier.feed(&page);
            (verifier, result)
        });
        let (checked, next) = tokio::join!(check, store.audit_entries(tenant, last, 10_000));
        let (v, result) =
            checked.map_err(|e| StoreError::Database(format!("the check stopped: {e}")))?;
        if let Err(b) = result {
            return Ok(Err(b));
        }
        verifier = v;
        page = next?;
        progress(n);
    }
    Ok(Ok(verifier.checked()))
}
