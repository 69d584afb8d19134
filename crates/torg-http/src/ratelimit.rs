//! Rate limits (GCRA, by `governor`): logins and the public portal per client address, the API
//! per token (per address when no token is sent). Over the limit: 429 with Retry-After.

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
    /// Submissions on the citizen portal (new inquiries, messages) per minute per address.
    pub portal_per_minute: u32,
    /// API requests per second per token.
    pub api_per_second: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            login_per_minute: 10,
            portal_per_minute: 20,
            api_per_second: 200,
        }
    }
}

impl RateLimits {
    /// No limits (benchmarks, and tests that are not about limits).
    pub const OFF: RateLimits = RateLimits {
        login_per_minute: 0,
        portal_per_minute: 0,
        api_per_second: 0,
    };
}

/// Keys with no request for a while are forgotten once the tables hold this many.
const FORGET_ABOVE: usize = 10_000;

pub(crate) struct Limiters {
    login: Option<DefaultKeyedRateLimiter<String>>,
    portal: Option<DefaultKeyedRateLimiter<String>>,
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

/// The middleware: picks the limit that applies to the request, if any.
/// Starting a chat (`POST /chat/{municipality}`) creates an inquiry, like the contact form.
fn is_chat_start(path: &str) -> bool {
    path.strip_prefix("/chat/")
        .is_some_and(|rest| !rest.trim_end_matches('/').contains('/'))
}

pub(crate) async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limiters = &state.limiters;
    let post = req.method() == Method::POST;
    let (mut parts, body) = req.into_parts();
    let Ok(ClientAddr(addr)) = ClientAddr::from_request_parts(&mut parts, &state).await;
    let path = parts.uri.path().to_string();
    let wait = if path.starts_with("/api/") {
        let key = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(|v| format!("token:{}", token_hash(v)))
            .unwrap_or_else(|| format!("addr:{addr}"));
        limiters.api.as_ref().and_then(|l| limiters.check(l, key))
    } else if post && path == "/staff/login" {
        limiters
            .login
            .as_ref()
            .and_then(|l| limiters.check(l, addr))
    } else if post && (path.starts_with("/k/") || is_chat_start(&path)) {
        limiters
            .portal
            .as_ref()
            .and_then(|l| limiters.check(l, addr))
    } else {
        None
    };
    let req = Request::from_parts(parts, body);
    match wait {
        None => next.run(req).await,
        Some(secs) => too_many(&state, &req, &path, secs),
    }
}

fn too_many(state: &AppState, req: &Request, path: &str, secs: u64) -> Response {
    let mut res = if path.starts_with("/api/") {
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
