//! Short-lived caches of what almost every request reads: a municipality's configuration
//! (units, routing rules), API tokens, and staff sessions with their person (role, units).
//! A change made here invalidates at once, and is told to the other nodes on the node bus
//! ([`CACHE_TOPIC`]; the CLI tells them too), which invalidate as it arrives; entries live a
//! few seconds at most in any case. While a node's bus connection is down (a message could be
//! missed unseen) the caches of settings, tokens and sessions are not read: every request
//! reads the store until the bus listens again and everything is forgotten.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use torg_core::intake::TenantConfig;
use torg_domain::TenantId;
use torg_store::{ApiToken, Session, SocialAccount, User};

const TENANT_TTL: Duration = Duration::from_secs(5);
const TOKEN_TTL: Duration = Duration::from_secs(10);
/// A session's person (role, memberships, active) is read again after this long, so a change
/// made on another node applies within it; changes made on this node apply at once.
const SESSION_TTL: Duration = Duration::from_secs(5);

/// (account, person id) on a social network.
type PersonKey = (String, String);

/// A period's evaluation, shared between requests.
type Statistics = Arc<torg_core::evaluation::Evaluation>;

/// A municipality's social-media accounts, shared between requests.
type SocialAccounts = Arc<Vec<SocialAccount>>;

#[derive(Default)]
pub(crate) struct Caches {
    tenants: Mutex<HashMap<String, (Instant, std::sync::Arc<TenantConfig>)>>,
    tokens: Mutex<HashMap<String, (Instant, ApiToken)>>,
    sessions: Mutex<HashMap<String, (Instant, Session, User)>>,
    /// A municipality's social-media accounts with their secrets opened, for the webhooks.
    social: Mutex<HashMap<TenantId, (Instant, SocialAccounts)>>,
    /// The names people show on a social network, by (account, person): none when the
    /// network gave none or could not be asked.
    people: Mutex<HashMap<PersonKey, (Instant, Option<String>)>>,
    /// The portal's published evaluation by (municipality, first day, last day): anyone may
    /// ask for it, so it is worked out at most once in ten minutes per period.
    statistics: Mutex<HashMap<(TenantId, String), (Instant, Statistics)>>,
    /// For calls to the networks' APIs, made once.
    http: std::sync::OnceLock<reqwest::Client>,
    /// The node bus is down: what is kept may be stale unseen, so it is not read.
    bus_down: std::sync::atomic::AtomicBool,
}

/// How long a person's name is kept, and how long a failed lookup waits before it is tried
/// again.
const PERSON_TTL: Duration = Duration::from_secs(24 * 3600);
const NO_PERSON_TTL: Duration = Duration::from_secs(600);

/// How long the portal's statistics are kept.
const STATISTICS_TTL: Duration = Duration::from_secs(600);

/// The node bus's topic on which nodes tell each other what to read afresh.
pub(crate) const CACHE_TOPIC: &str = "torg_cache";

impl Caches {
    /// Forgets what a change makes stale: `settings` (a municipality's units, rules,
    /// policies, calendar, social accounts), `tokens`, `sessions`, or anything else: all.
    /// [`torg_store::NODE_BUS_DOWN`] stops reading the caches until
    /// [`torg_store::NODE_BUS_LOST`] (the bus listening again) forgets all and reads them
    /// again.
    pub(crate) fn forget(&self, what: &str) {
        use std::sync::atomic::Ordering;
        match what {
            torg_store::NODE_BUS_DOWN => self.bus_down.store(true, Ordering::SeqCst),
            torg_store::NODE_BUS_LOST => self.bus_down.store(false, Ordering::SeqCst),
            _ => {}
        }
        match what {
            "settings" => self.forget_tenants(),
            "tokens" => self.forget_tokens(),
            "sessions" => self.forget_sessions(),
            _ => {
                self.forget_tenants();
                self.forget_tokens();
                self.forget_sessions();
            }
        }
    }

    /// The published evaluation of `period` (`first..last`), if worked out recently.
    pub(crate) fn statistics(
        &self,
        tenant: TenantId,
        period: &str,
    ) -> Option<Arc<torg_core::evaluation::Evaluation>> {
        let map = self.statistics.lock().ok()?;
        map.get(&(tenant, period.to_string()))
            .filter(|(at, _)| at.elapsed() < STATISTICS_TTL)
            .map(|(_, e)| e.clone())
    }

    /// Forgets a municipality's statistics (its costs changed).
    pub(crate) fn forget_statistics(&self, tenant: TenantId) {
        if let Ok(mut map) = self.statistics.lock() {
            map.retain(|(t, _), _| *t != tenant);
        }
    }

    pub(crate) fn put_statistics(
        &self,
        tenant: TenantId,
        period: &str,
        e: Arc<torg_core::evaluation::Evaluation>,
    ) {
        if let Ok(mut map) = self.statistics.lock() {
            map.retain(|_, (at, _)| at.elapsed() < STATISTICS_TTL);
            map.insert((tenant, period.to_string()), (Instant::now(), e));
        }
    }

    /// A person's name as last looked up, if that is recent: `Some(None)` when there was none.
    pub(crate) fn person(&self, account: &str, person: &str) -> Option<Option<String>> {
        let map = self.people.lock().ok()?;
        map.get(&(account.to_string(), person.to_string()))
            .filter(|(at, name)| {
                at.elapsed()
                    < if name.is_some() {
                        PERSON_TTL
                    } else {
                        NO_PERSON_TTL
                    }
            })
            .map(|(_, name)| name.clone())
    }
    pub(crate) fn put_person(&self, account: &str, person: &str, name: Option<String>) {
        if let Ok(mut map) = self.people.lock() {
            if map.len() > 100_000 {
                map.clear();
            }
            map.insert(
                (account.to_string(), person.to_string()),
                (Instant::now(), name),
            );
        }
    }
    /// One client for the networks' APIs.
    pub(crate) fn http(&self) -> reqwest::Client {
        self.http
            .get_or_init(|| {
                crate::use_ring_crypto();
                reqwest::Client::builder()
                    .timeout(Duration::from_secs(10))
                    .build()
                    .unwrap_or_default()
            })
            .clone()
    }
    /// Whether the caches of settings, tokens and sessions may be read.
    fn trusted(&self) -> bool {
        !self.bus_down.load(std::sync::atomic::Ordering::SeqCst)
    }
    pub(crate) fn tenant(&self, slug: &str) -> Option<std::sync::Arc<TenantConfig>> {
        if !self.trusted() {
            return None;
        }
        let map = self.tenants.lock().ok()?;
        map.get(slug)
            .filter(|(at, _)| at.elapsed() < TENANT_TTL)
            .map(|(_, c)| c.clone())
    }
    pub(crate) fn tenant_by_id(&self, id: TenantId) -> Option<std::sync::Arc<TenantConfig>> {
        if !self.trusted() {
            return None;
        }
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
        if let Ok(mut map) = self.social.lock() {
            map.clear();
        }
    }
    pub(crate) fn social(&self, tenant: TenantId) -> Option<Arc<Vec<SocialAccount>>> {
        if !self.trusted() {
            return None;
        }
        let map = self.social.lock().ok()?;
        map.get(&tenant)
            .filter(|(at, _)| at.elapsed() < TENANT_TTL)
            .map(|(_, a)| a.clone())
    }
    pub(crate) fn put_social(&self, tenant: TenantId, accounts: Arc<Vec<SocialAccount>>) {
        if let Ok(mut map) = self.social.lock() {
            map.insert(tenant, (Instant::now(), accounts));
        }
    }
    pub(crate) fn session(&self, hash: &str) -> Option<(Session, User)> {
        if !self.trusted() {
            return None;
        }
        let map = self.sessions.lock().ok()?;
        map.get(hash)
            .filter(|(at, _, _)| at.elapsed() < SESSION_TTL)
            .map(|(_, s, u)| (s.clone(), u.clone()))
    }
    pub(crate) fn put_session(&self, hash: String, session: Session, user: User) {
        if let Ok(mut map) = self.sessions.lock() {
            if map.len() > 10_000 {
                map.clear();
            }
            map.insert(hash, (Instant::now(), session, user));
        }
    }
    /// After a logout.
    pub(crate) fn forget_session(&self, hash: &str) {
        if let Ok(mut map) = self.sessions.lock() {
            map.remove(hash);
        }
    }
    /// After any change to users, roles or memberships.
    pub(crate) fn forget_sessions(&self) {
        if let Ok(mut map) = self.sessions.lock() {
            map.clear();
        }
    }
    pub(crate) fn forget_tokens(&self) {
        if let Ok(mut map) = self.tokens.lock() {
            map.clear();
        }
    }
    pub(crate) fn token(&self, hash: &str) -> Option<ApiToken> {
        if !self.trusted() {
            return None;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn while_the_bus_is_down_nothing_kept_is_read() {
        let caches = Caches::default();
        let token = ApiToken {
            id: 1,
            tenant_id: TenantId(1),
            name: "t".into(),
            units: vec![],
            expires_at: None,
            revoked_at: None,
            created_at: jiff::Timestamp::UNIX_EPOCH,
        };
        caches.put_token("h".into(), token.clone());
        assert!(caches.token("h").is_some());
        caches.forget(torg_store::NODE_BUS_DOWN);
        assert!(caches.token("h").is_none());
        caches.put_token("h".into(), token.clone());
        assert!(caches.token("h").is_none(), "not read while down");
        caches.forget(torg_store::NODE_BUS_LOST);
        assert!(caches.token("h").is_none(), "forgotten when back");
        caches.put_token("h".into(), token);
        assert!(caches.token("h").is_some(), "read again when back");
    }
}
