//! Short-lived caches of what almost every request reads: a municipality's configuration
//! (units, routing rules) and API tokens. Entries live a few seconds, so a change made
//! elsewhere (another node, the CLI) is seen soon; changes made here invalidate at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use torg_core::intake::TenantConfig;
use torg_store::ApiToken;

const TENANT_TTL: Duration = Duration::from_secs(5);
const TOKEN_TTL: Duration = Duration::from_secs(10);

#[derive(Default)]
pub(crate) struct Caches {
    tenants: Mutex<HashMap<String, (Instant, std::sync::Arc<TenantConfig>)>>,
    tokens: Mutex<HashMap<String, (Instant, ApiToken)>>,
}

impl Caches {
    pub(crate) fn tenant(&self, slug: &str) -> Option<std::sync::Arc<TenantConfig>> {
        let map = self.tenants.lock().ok()?;
        map.get(slug)
            .filter(|(at, _)| at.elapsed() < TENANT_TTL)
            .map(|(_, c)| c.clone())
    }
    pub(crate) fn tenant_by_id(&self, id: i64) -> Option<std::sync::Arc<TenantConfig>> {
        let map = self.tenants.lock().ok()?;
        map.values()
            .find(|(at, c)| c.municipality.id == id && at.elapsed() < TENANT_TTL)
            .map(|(_, c)| c.clone())
    }
    pub(crate) fn put_tenant(&self, config: std::sync::Arc<TenantConfig>) {
        if let Ok(mut map) = self.tenants.lock() {
            map.insert(config.municipality.slug.clone(), (Instant::now(), config));
        }
    }
    pub(crate) fn forget_tenants(&self) {
        if let Ok(mut map) = self.tenants.lock() {
            map.clear();
        }
    }
    pub(crate) fn token(&self, hash: &str) -> Option<ApiToken> {
        let map = self.tokens.lock().ok()?;
        map.get(hash)
            .filter(|(at, _)| at.elapsed() < TOKEN_TTL)
            .map(|(_, t)| t.clone())
    }
    pub(crate) fn put_token(&self, hash: String, token: ApiToken) {
        if let Ok(mut map) = self.tokens.lock() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(hash, (Instant::now(), token));
        }
    }
}
