//! What the networks' HTTP APIs answer, sorted into what the sender does next.

use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde_json::Value;
use std::time::Duration;

/// Why a call did not go through, by what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Too many calls: try again after this long (HTTP 429 with Retry-After, or Meta's
    /// throttling codes).
    #[error("rate limited; try again in {} s", .0.as_secs())]
    RateLimited(Duration),
    /// The access token has expired or was revoked: a person must renew it.
    #[error("the access token is no longer valid ({0}); renew it with `torg social set`")]
    TokenExpired(String),
    /// The network refused this call for good (deleted comment, blocked person, bad input).
    #[error("refused: {0}")]
    Refused(String),
    /// The network or the way to it failed; it may work next time.
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// When a throttled client may call again if the answer does not say.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// How long the answer asks us to wait: `Retry-After` in seconds or as an HTTP date, or
/// Mastodon's `X-RateLimit-Reset` time.
pub fn wait_asked(headers: &HeaderMap, now: jiff::Timestamp) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(v) = text("retry-after") {
        if let Ok(secs) = v.trim().parse::<u64>() {
            return Some(Duration::from_secs(secs));
        }
        if let Ok(at) = jiff::fmt::rfc2822::parse(v) {
            return Some(until(at.timestamp(), now));
        }
    }
    let reset = text("x-ratelimit-reset")?;
    let at: jiff::Timestamp = reset.trim().parse().ok()?;
    Some(until(at, now))
}

fn until(at: jiff::Timestamp, now: jiff::Timestamp) -> Duration {
    let secs = (at - now).get_seconds().max(1);
    Duration::from_secs(u64::try_from(secs).unwrap_or(1))
}

/// Sorts a failed answer. Meta puts an `error` object with a `code` in the body (190: token
/// expired or invalid; 4, 17, 32, 613: throttled; 9007: an Instagram container not ready yet);
/// Mastodon an `error` string.
pub fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &str,
    now: jiff::Timestamp,
) -> ApiError {
    let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let error = json.get("error");
    let message = error
        .and_then(|e| e.get("message").or(Some(e)))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            let short: String = body.chars().take(200).collect();
            format!("HTTP {status}: {short}")
        });
    let code = error.and_then(|e| e.get("code")).and_then(Value::as_i64);
    if status == StatusCode::TOO_MANY_REQUESTS || matches!(code, Some(4 | 17 | 32 | 613)) {
        return ApiError::RateLimited(wait_asked(headers, now).unwrap_or(DEFAULT_WAIT));
    }
    if status == StatusCode::UNAUTHORIZED || code == Some(190) {
        return ApiError::TokenExpired(message);
    }
    // 9007: an Instagram container is not ready to be published yet; it will be.
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT || code == Some(9007) {
        return ApiError::Unavailable(message);
    }
    ApiError::Refused(message)
}

/// A network failure (no answer at all).
fn unreachable(e: &reqwest::Error) -> ApiError {
    ApiError::Unavailable(e.to_string())
}

/// Sends `request` with the bearer `token`: the answer's headers and body when it succeeded,
/// else the failure sorted by [`classify`].
pub async fn send(
    request: reqwest::RequestBuilder,
    token: &str,
) -> Result<(reqwest::header::HeaderMap, String), ApiError> {
    let response = request
        .bearer_auth(token)
        .send()
        .await
        .map_err(|e| unreachable(&e))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.text().await.map_err(|e| unreachable(&e))?;
    if !status.is_success() {
        return Err(classify(status, &headers, &body, jiff::Timestamp::now()));
    }
    Ok((headers, body))
}

/// Whether `url` is on the same server as `base`, so that a token is never sent elsewhere
/// by following a link the answer gave.
pub fn same_origin(url: &str, base: &str) -> bool {
    let origin = |u: &str| -> Option<String> {
        let parsed = reqwest::Url::parse(u).ok()?;
        Some(format!(
            "{}://{}:{}",
            parsed.scheme(),
            parsed.host_str()?,
            parsed.port_or_known_default()?
        ))
    };
    matches!((origin(url), origin(base)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn now() -> jiff::Timestamp {
        "2026-11-22T12:00:00Z".parse().expect("time")
    }

    #[test]
    fn throttling_waits_as_asked() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("7"));
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &h, "", now()),
            ApiError::RateLimited(Duration::from_secs(7))
        );
        let mut h = HeaderMap::new();
        h.insert(
            "x-ratelimit-reset",
            HeaderValue::from_static("2026-11-22T12:05:00.000Z"),
        );
        assert_eq!(
            classify(StatusCode::TOO_MANY_REQUESTS, &h, "", now()),
            ApiError::RateLimited(Duration::from_secs(300))
        );
        let body = r#"{"error":{"message":"(#4) Application request limit reached","type":"OAuthException","code":4}}"#;
        assert_eq!(
            classify(StatusCode::BAD_REQUEST, &HeaderMap::new(), body, now()),
            ApiError::RateLimited(DEFAULT_WAIT)
        );
    }

    #[test]
    fn a_container_not_ready_is_tried_again_and_a_missing_picture_is_not() {
        let not_ready = r#"{"error":{"message":"The media is not ready for publishing, please wait for a moment","type":"OAuthException","code":9007,"error_subcode":2207027}}"#;
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, &HeaderMap::new(), not_ready, now()),
            ApiError::Unavailable(_)
        ));
        let no_picture = r#"{"error":{"message":"Only photo or video can be accepted as media type.","type":"OAuthException","code":9004,"error_subcode":2207052}}"#;
        assert!(matches!(
            classify(
                StatusCode::BAD_REQUEST,
                &HeaderMap::new(),
                no_picture,
                now()
            ),
            ApiError::Refused(_)
        ));
    }

    #[test]
    fn expired_tokens_are_told_apart() {
        let body = r#"{"error":{"message":"Error validating access token: Session has expired on Friday, 20-Nov-26 09:00:00 PST.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"A1"}}"#;
        assert!(matches!(
            classify(StatusCode::BAD_REQUEST, &HeaderMap::new(), body, now()),
            ApiError::TokenExpired(m) if m.contains("Session has expired")
        ));
        assert!(matches!(
            classify(
                StatusCode::UNAUTHORIZED,
                &HeaderMap::new(),
                r#"{"error":"The access token is invalid"}"#,
                now()
            ),
            ApiError::TokenExpired(m) if m == "The access token is invalid"
        ));
        assert!(matches!(
            classify(StatusCode::BAD_GATEWAY, &HeaderMap::new(), "<html>", now()),
            ApiError::Unavailable(_)
        ));
        assert!(matches!(
            classify(
                StatusCode::BAD_REQUEST,
                &HeaderMap::new(),
                r#"{"error":{"message":"(#100) Invalid parameter","code":100}}"#,
                now()
            ),
            ApiError::Refused(_)
        ));
    }

    #[test]
    fn links_elsewhere_are_not_followed() {
        assert!(same_origin(
            "https://m.example/api/v1/notifications?min_id=1",
            "https://m.example"
        ));
        assert!(same_origin(
            "http://127.0.0.1:8080/x",
            "http://127.0.0.1:8080/v21.0"
        ));
        assert!(!same_origin("https://evil.example/x", "https://m.example"));
        assert!(!same_origin("http://m.example/x", "https://m.example"));
        assert!(!same_origin("not a url", "https://m.example"));
    }
}
