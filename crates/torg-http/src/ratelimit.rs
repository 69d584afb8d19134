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
        Kind::Login => (&limiters.login, addr),
        Kind::Portal => (&limiters.portal, addr),
        Kind::Typing => (&limiters.typing, addr),
        Kind::Hook => (&limiters.hooks, addr),
    };
    let wait = limiter.as_ref().and_then(|l| limiters.check(l, key));
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
