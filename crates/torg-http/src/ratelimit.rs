//! Rate limits (GCRA, by `governor`). Every request from outside that writes is limited per
//! client address: logins; the portal's and the chat's forms (new inquiries, messages on the
//! follow page and in the chat, the chat's transcript); the chat's typing signal (more often,
//! as typing is); and the hooks the SMS gateway and Meta call. The API is limited per token
//! (per address when no token is sent). Over the limit: 429 with Retry-After.

use crate::AppState;
use crate::audit::ClientAddr;
use crate::i18n::Tr;
use crate::views::Lang;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::num::NonZeroU32;
use torg_core::secrets::token_hash;

/// How many requests are allowed; 0 turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Login attempts per minute per address.
    pub login_per_minute: u32,
    /// Submissions on the citizen portal and in the chat (new inquiries, messages, transcripts)
    /// per minute per address.
    pub portal_per_minute: u32,
    /// The chat's "typing" signals per minute per address.
    pub typing_per_minute: u32,
    /// Calls of the SMS gateway's and Meta's hooks per minute per address.
    pub hooks_per_minute: u32,
    /// API requests per second per token.
    pub api_per_second: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            login_per_minute: 10,
            portal_per_minute: 20,
            typing_per_minute: 30,
            hooks_per_minute: 6_000,
            api_per_second: 200,
        }
    }
}

impl RateLimits {
    /// No limits (benchmarks, and tests that are not about limits).
    pub const OFF: RateLimits = RateLimits {
        login_per_minute: 0,
        portal_per_minute: 0,
        typing_per_minute: 0,
        hooks_per_minute: 0,
        api_per_second: 0,
    };
}

/// Keys with no request for a while are forgotten once the tables hold this many.
const FORGET_ABOVE: usize = 10_000;

pub(crate) struct Limiters {
    login: Option<DefaultKeyedRateLimiter<String>>,
    portal: Option<DefaultKeyedRateLimiter<String>>,
    typing: Option<DefaultKeyedRateLimiter<String>>,
    hooks: Option<DefaultKeyedRateLimiter<String>>,
    /// The API per client address, whatever `Authorization` it sends: four tokens' worth.
    api_by_address: Option<DefaultKeyedRateLimiter<String>>,
    api: Option<DefaultKeyedRateLimiter<String>>,
    clock: DefaultClock,
}

impl Limiters {
    pub fn new(limits: RateLimits) -> Limiters {
        // The whole minute's allowance may come at once (a burst), then it refills evenly.
        let per_minute =
            |n: u32| NonZeroU32::new(n).map(|n| governor::RateLimiter::keyed(Quota::per_minute(n)));
        Limiters {
            login: per_minute(limits.login_per_minute),
            portal: per_minute(limits.portal_per_minute),
            typing: per_minute(limits.typing_per_minute),
            hooks: per_minute(limits.hooks_per_minute),
            api_by_address: NonZeroU32::new(limits.api_per_second.saturating_mul(4)).and_then(
                |n| {
                    let burst = NonZeroU32::new(n.get().saturating_mul(5))?;
                    Some(governor::RateLimiter::keyed(
                        Quota::per_second(n).allow_burst(burst),
                    ))
                },
            ),
            // The API allows bursts of five seconds' worth.
            api: NonZeroU32::new(limits.api_per_second).and_then(|n| {
                let burst = NonZeroU32::new(n.get().saturating_mul(5))?;
                Some(governor::RateLimiter::keyed(
                    Quota::per_second(n).allow_burst(burst),
                ))
            }),
            clock: DefaultClock::default(),
        }
    }

    /// Seconds to wait when `key` is over `limiter`'s quota.
    fn check(&self, limiter: &DefaultKeyedRateLimiter<String>, key: String) -> Option<u64> {
        if limiter.len() > FORGET_ABOVE {
            limiter.retain_recent();
        }
        limiter
            .check_key(&key)
            .err()
            .map(|not_until| not_until.wait_time_from(self.clock.now()).as_secs() + 1)
    }
}

/// Which allowance a request from outside draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Api,
    Login,
    Portal,
    Typing,
    Hook,
}

/// The allowance `path` draws on, if any: every write from outside, the API always, and the
/// hooks (Kannel calls its hook with GET).
fn kind(method: &Method, path: &str) -> Option<Kind> {
    if path.starts_with("/api/") {
        return Some(Kind::Api);
    }
    if path.starts_with("/hooks/") {
        return Some(Kind::Hook);
    }
    if *method != Method::POST {
        return None;
    }
    if path == "/staff/login" {
        Some(Kind::Login)
    } else if path.starts_with("/chat/") && path.ends_with("/typing") {
        Some(Kind::Typing)
    } else if path.starts_with("/k/") || path.starts_with("/chat/") {
        Some(Kind::Portal)
    } else {
        // Staff pages: signed in, with a CSRF token.
        None
    }
}

/// The middleware: the limit that applies to the request, if any.
pub(crate) async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limiters = &state.limiters;
    let (mut parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let Some(kind) = kind(&parts.method, &path) else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let Ok(ClientAddr(addr)) = ClientAddr::from_request_parts(&mut parts, &state).await;
    let (limiter, key) = match kind {
        Kind::Api => {
            let key = parts
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .map(|v| format!("token:{}", token_hash(v)))
                .unwrap_or_else(|| format!("addr:{addr}"));
            (&limiters.api, key)
        }
        Kind::Login => (&limiters.login, addr.clone()),
        Kind::Portal => (&limiters.portal, addr.clone()),
        Kind::Typing => (&limiters.typing, addr.clone()),
        Kind::Hook => (&limiters.hooks, addr.clone()),
    };
    let mut wait = limiter.as_ref().and_then(|l| limiters.check(l, key));
    // A new `Authorization` value buys no new allowance: the address has one too.
    if kind == Kind::Api && wait.is_none() {
        wait = limiters
            .api_by_address
            .as_ref()
            .and_then(|l| limiters.check(l, format!("addr:{addr}")));
    }
    let req = Request::from_parts(parts, body);
    match wait {
        None => next.run(req).await,
        Some(secs) => too_many(&state, &req, &path, secs),
    }
}

fn too_many(state: &AppState, req: &Request, path: &str, secs: u64) -> Response {
    let mut res = if path.starts_with("/api/") || path.starts_with("/hooks/") {
        crate::error::ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests; wait {secs} s (see Retry-After) and try again"),
        )
        .into_response()
    } else {
        let lang = req
            .extensions()
            .get::<Lang>()
            .map(|l| l.0.clone())
            .unwrap_or_else(|| "nb".into());
        let t = Tr::new(state.catalog.clone(), &lang);
        let msg = t.get("error-rate-limited");
        crate::views::error_page(
            t,
            StatusCode::TOO_MANY_REQUESTS,
            "error-heading-unavailable",
            msg,
            "/",
        )
    };
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_write_from_outside_draws_on_an_allowance() {
        let post = Method::POST;
        for (path, expected) in [
            ("/k/alfa/inquiries", Some(Kind::Portal)),
            ("/k/alfa/follow/t/messages", Some(Kind::Portal)),
            ("/k/alfa/follow/t/revoke", Some(Kind::Portal)),
            ("/chat/alfa", Some(Kind::Portal)),
            ("/chat/alfa/c/t", Some(Kind::Portal)),
            ("/chat/alfa/c/t/transcript", Some(Kind::Portal)),
            ("/chat/alfa/c/t/typing", Some(Kind::Typing)),
            ("/hooks/meta/alfa", Some(Kind::Hook)),
            ("/staff/login", Some(Kind::Login)),
            ("/api/v1/inquiries", Some(Kind::Api)),
            ("/staff/inquiries/1/reply", None),
        ] {
            assert_eq!(kind(&post, path), expected, "{path}");
        }
        assert_eq!(kind(&Method::GET, "/hooks/sms/alfa"), Some(Kind::Hook));
        assert_eq!(kind(&Method::GET, "/k/alfa"), None);
        assert_eq!(kind(&Method::GET, "/chat/alfa/c/t/events"), None);
    }
}

/// Failed logins, throttled so that a guesser is slowed and nobody can lock a colleague out:
/// per account *and* client address, a few failures in a window and that address must wait
/// (whether the account exists or not, so the answer tells nothing); per account from every
/// address together, many failures make each further answer come slower, but never refused.
#[derive(Default)]
pub(crate) struct LoginThrottle {
    /// (account, address) → the times of its recent failures.
    pairs: std::sync::Mutex<std::collections::HashMap<(String, String), Vec<std::time::Instant>>>,
    /// account → the times of its recent failures from anywhere.
    accounts: std::sync::Mutex<std::collections::HashMap<String, Vec<std::time::Instant>>>,
}

/// Failures from one address on one account before it must wait.
pub(crate) const LOGIN_FAILURES_PER_ADDRESS: usize = 5;
/// The window failures are counted in.
const LOGIN_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// Failures of an account from all addresses together after which answers slow down.
const LOGIN_FAILURES_BEFORE_SLOWING: usize = 20;
/// How much slower, at most.
const LOGIN_SLOWEST: std::time::Duration = std::time::Duration::from_secs(3);
/// The tables are pruned of old entries above this many keys.
const LOGIN_KEYS: usize = 10_000;

impl LoginThrottle {
    /// `account` as counted: the municipality and the user name as typed, folded.
    pub fn account(tenant_slug: &str, username: &str) -> String {
        format!(
            "{}/{}",
            tenant_slug.trim().to_lowercase(),
            username.trim().to_lowercase()
        )
    }

    fn recent(times: &mut Vec<std::time::Instant>, now: std::time::Instant) -> usize {
        times.retain(|t| now.duration_since(*t) < LOGIN_WINDOW);
        times.len()
    }

    /// Seconds this address must wait before trying `account` again, if it must.
    pub fn wait(&self, account: &str, addr: &str) -> Option<u64> {
        let now = std::time::Instant::now();
        let mut pairs = self.pairs.lock().unwrap_or_else(|e| e.into_inner());
        let times = pairs.get_mut(&(account.to_string(), addr.to_string()))?;
        if Self::recent(times, now) < LOGIN_FAILURES_PER_ADDRESS {
            return None;
        }
        let oldest = times.first().copied()?;
        Some((LOGIN_WINDOW.saturating_sub(now.duration_since(oldest))).as_secs() + 1)
    }

    /// How long to hold the answer to an attempt on `account` (many failures from anywhere).
    pub fn delay(&self, account: &str) -> std::time::Duration {
        let now = std::time::Instant::now();
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        let failures = accounts
            .get_mut(account)
            .map(|t| Self::recent(t, now))
            .unwrap_or(0);
        let over = failures.saturating_sub(LOGIN_FAILURES_BEFORE_SLOWING) as u32;
        (std::time::Duration::from_millis(250) * over).min(LOGIN_SLOWEST)
    }

    pub fn failed(&self, account: &str, addr: &str) {
        let now = std::time::Instant::now();
        let mut pairs = self.pairs.lock().unwrap_or_else(|e| e.into_inner());
        if pairs.len() > LOGIN_KEYS {
            pairs.retain(|_, t| Self::recent(t, now) > 0);
        }
        pairs
            .entry((account.to_string(), addr.to_string()))
            .or_default()
            .push(now);
        drop(pairs);
        let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        if accounts.len() > LOGIN_KEYS {
            accounts.retain(|_, t| Self::recent(t, now) > 0);
        }
        accounts.entry(account.to_string()).or_default().push(now);
    }

    /// A login from `addr` succeeded, or an administrator lifted the account's lock (`addr`
    /// `None`): its failures are forgotten.
    pub fn forget(&self, account: &str, addr: Option<&str>) {
        let mut pairs = self.pairs.lock().unwrap_or_else(|e| e.into_inner());
        pairs.retain(|(a, from), _| a != account || addr.is_some_and(|x| x != from));
        drop(pairs);
        if addr.is_none() {
            let mut accounts = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
            accounts.remove(account);
        }
    }
}

#[cfg(test)]
mod login_tests {
    use super::*;

    #[test]
    fn a_guesser_waits_and_the_real_person_does_not() {
        let t = LoginThrottle::default();
        let kari = LoginThrottle::account("Alfa", " Kari ");
        assert_eq!(kari, "alfa/kari");
        for _ in 0..LOGIN_FAILURES_PER_ADDRESS {
            assert_eq!(t.wait(&kari, "6.6.6.6"), None);
            t.failed(&kari, "6.6.6.6");
        }
        let wait = t.wait(&kari, "6.6.6.6").expect("the guesser waits");
        assert!((1..=15 * 60 + 1).contains(&wait));
        assert_eq!(
            t.wait(&kari, "10.0.0.5"),
            None,
            "Kari at her desk is not locked out"
        );
        // An unknown name is counted the same way: the answer tells nothing.
        let nobody = LoginThrottle::account("alfa", "finnes-ikke");
        for _ in 0..LOGIN_FAILURES_PER_ADDRESS {
            t.failed(&nobody, "6.6.6.6");
        }
        assert!(t.wait(&nobody, "6.6.6.6").is_some());
        // Many addresses together slow the account's answers, never refuse them.
        for i in 0..30 {
            t.failed(&kari, &format!("198.51.100.{i}"));
        }
        assert!(t.delay(&kari) > std::time::Duration::ZERO);
        assert!(t.delay(&kari) <= LOGIN_SLOWEST);
        // Lifted by an administrator.
        t.forget(&kari, None);
        assert_eq!(t.wait(&kari, "6.6.6.6"), None);
        assert_eq!(t.delay(&kari), std::time::Duration::ZERO);
    }
}
