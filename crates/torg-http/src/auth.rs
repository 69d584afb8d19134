//! Who is asking: staff by session cookie (with a CSRF token per session), integrations by
//! API token. Tokens are looked up by their SHA-256 hash; the raw token is never stored.

use crate::AppState;
use crate::error::ApiError;
use crate::views::cookie;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use std::sync::Arc;
use torg_core::intake::TenantConfig;
use torg_core::secrets::{is_token_shaped, token_hash};
use torg_domain::{Access, Permission, UnitAccess};
use torg_domain::{TenantId, UnitId};
use torg_store::{Store, User};

pub const SESSION_COOKIE: &str = "torg_session";
pub const LOGIN_CSRF_COOKIE: &str = "torg_login_csrf";
/// How long a login lasts.
pub const SESSION_HOURS: i64 = 10;

/// A logged-in staff member.
pub struct Staff {
    pub user: User,
    pub config: Arc<TenantConfig>,
    pub csrf: String,
    /// What the person may see and do; see [`torg_domain::access`].
    pub access: Access,
    /// The hash of the session's token (the session this request belongs to).
    pub session: String,
    /// The municipality's crisis (a drill's too), shown on every staff page.
    pub banner: Option<crate::views::Banner>,
}

impl Staff {
    pub fn can(&self, permission: Permission) -> bool {
        self.access.can(permission)
    }

    /// How access sees a unit of the municipality. A unit that is not (or no longer) known is
    /// treated as sensitive: only its members see it.
    pub fn unit_access(&self, unit_id: UnitId) -> UnitAccess {
        self.config
            .unit(unit_id)
            .map(|u| u.access())
            .unwrap_or(UnitAccess {
                id: unit_id,
                sensitive: true,
            })
    }

    /// Whether the person sees the inquiries of `unit_id`.
    pub fn sees_unit(&self, unit_id: UnitId) -> bool {
        self.access.sees(self.unit_access(unit_id))
    }

    /// The units whose inquiries the person sees.
    pub fn visible_units(&self) -> Vec<UnitId> {
        let units: Vec<UnitAccess> = self.config.units.iter().map(|u| u.access()).collect();
        self.access.visible_units(&units)
    }

    /// Checks the form's CSRF token against the session's.
    pub fn check_csrf(&self, given: &str) -> Result<(), CsrfRejected> {
        if !given.is_empty() && constant_time_eq(given.as_bytes(), self.csrf.as_bytes()) {
            Ok(())
        } else {
            Err(CsrfRejected)
        }
    }
}

/// A form without the session's CSRF token: refused.
pub struct CsrfRejected;

impl IntoResponse for CsrfRejected {
    fn into_response(self) -> Response {
        (
            StatusCode::FORBIDDEN,
            "The form has expired. Go back, reload the page and try again.",
        )
            .into_response()
    }
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Loads a municipality's configuration by slug, through the cache.
pub async fn tenant_by_slug(
    state: &AppState,
    slug: &str,
) -> Result<Option<Arc<TenantConfig>>, torg_store::StoreError> {
    if let Some(c) = state.cache.tenant(slug) {
        return Ok(Some(c));
    }
    let Some(m) = state.store.municipality_by_slug(slug).await? else {
        return Ok(None);
    };
    let config = Arc::new(TenantConfig::load(&*state.store, m).await?);
    state.cache.put_tenant(config.clone());
    Ok(Some(config))
}

/// Loads a municipality's configuration by id, through the cache.
pub async fn tenant_by_id(
    state: &AppState,
    id: TenantId,
) -> Result<Option<Arc<TenantConfig>>, torg_store::StoreError> {
    if let Some(c) = state.cache.tenant_by_id(id) {
        return Ok(Some(c));
    }
    let Some(m) = state.store.municipality(id).await? else {
        return Ok(None);
    };
    tenant_by_slug(state, &m.slug).await
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to("/staff/login").into_response();
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE).filter(|t| is_token_shaped(t))
        else {
            return Err(to_login());
        };
        let store: &dyn Store = &*state.store;
        let hash = token_hash(&token);
        let (session, user) = match state.cache.session(&hash) {
            Some(found) => found,
            None => {
                let session = match store.session(&hash).await {
                    Ok(Some(s)) => s,
                    Ok(None) => return Err(to_login()),
                    Err(e) => return Err(ApiError::internal(e).into_response()),
                };
                let user = match store.user(session.tenant_id, session.user_id).await {
                    Ok(Some(u)) => u,
                    Ok(None) => return Err(to_login()),
                    Err(e) => return Err(ApiError::internal(e).into_response()),
                };
                state
                    .cache
                    .put_session(hash.clone(), session.clone(), user.clone());
                (session, user)
            }
        };
        // Expired, unused for too long, or deactivated: the session is over.
        let now = Timestamp::now();
        let idle = jiff::SignedDuration::try_from(state.settings.session_idle())
            .unwrap_or(jiff::SignedDuration::from_hours(1));
        let last_seen = Some(session.last_seen_at).filter(|t| t.as_millisecond() > 0);
        if session.expires_at <= now || !user.active || last_seen.is_some_and(|t| t + idle <= now) {
            if session.expires_at > now && user.active {
                let _ = store.delete_session(&hash).await;
                state.cache.forget_session(&hash);
            }
            return Err(to_login());
        }
        // A use, remembered to the minute (or a quarter of the idle limit); a live stream's
        // recheck is no use.
        let watching = parts.uri.path().ends_with("/events");
        let grain = (idle / 4).min(jiff::SignedDuration::from_mins(1));
        if !watching && last_seen.is_none_or(|t| t + grain <= now) {
            if let Err(e) = store.touch_session(&hash, now).await {
                tracing::warn!(error = %e, "a session's use was not recorded");
            }
            let mut seen = session.clone();
            seen.last_seen_at = now;
            state.cache.put_session(hash.clone(), seen, user.clone());
        }
        let config = match tenant_by_id(state, session.tenant_id).await {
            Ok(Some(c)) => c,
            Ok(None) => return Err(to_login()),
            Err(e) => return Err(ApiError::internal(e).into_response()),
        };
        let banner = crate::crisis::banner(state, &config.municipality, true).await;
        Ok(Staff {
            access: user.access(),
            user,
            config,
            csrf: session.csrf_token,
            session: hash,
            banner,
        })
    }
}

/// What authorizing one staff request costs, for `torg bench-access`: from the session cookie
/// in `headers` to the person with their permissions and units (as every staff route does),
/// then the check that they see `unit_id`. Returns that answer. With `cold`, the session cache
/// is emptied first, as for a person's first request after five seconds.
pub async fn authorize_staff_request(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    unit_id: UnitId,
    cold: bool,
) -> Result<bool, String> {
    if cold {
        state.cache.forget_sessions();
    }
    let mut builder = axum::http::Request::builder();
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let (mut parts, ()) = builder.body(()).map_err(|e| e.to_string())?.into_parts();
    let staff = Staff::from_request_parts(&mut parts, state)
        .await
        .map_err(|r| format!("not authorized: {}", r.status()))?;
    Ok(staff.sees_unit(unit_id) && !staff.visible_units().is_empty())
}

/// An integration calling the API with `Authorization: Bearer <token>`.
pub struct ApiClient {
    pub config: Arc<TenantConfig>,
    pub token_name: String,
    /// The units whose inquiries the token reaches ([`torg_core::tokens::reach`]).
    pub units: Vec<UnitId>,
}

impl ApiClient {
    pub fn reaches(&self, unit_id: UnitId) -> bool {
        self.units.contains(&unit_id)
    }
}

impl FromRequestParts<AppState> for ApiClient {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send an API token as 'Authorization: Bearer <token>'; create one with 'torg token create'",
            )
        };
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| is_token_shaped(t))
            .ok_or_else(unauthorized)?;
        let hash = token_hash(token);
        let api_token = match state.cache.token(&hash) {
            Some(t) => t,
            None => {
                let t = state
                    .store
                    .api_token(&hash)
                    .await?
                    .ok_or_else(unauthorized)?;
                state.cache.put_token(hash, t.clone());
                t
            }
        };
        // Revoked or expired: refused, with the reason (the token is the caller's own).
        if !api_token.is_valid(Timestamp::now()) {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this API token is revoked or expired; ask an administrator for a new one",
            ));
        }
        let config = tenant_by_id(state, api_token.tenant_id)
            .await?
            .ok_or_else(unauthorized)?;
        let units =
            torg_core::tokens::reach(&api_token, config.units.iter().map(|u| (u.id, u.sensitive)));
        Ok(ApiClient {
            config,
            token_name: api_token.name,
            units,
        })
    }
}

/// The Set-Cookie value of a cookie only the server reads.
pub fn private_cookie(name: &str, value: &str, max_age_secs: i64, secure: bool) -> String {
    format!(
        "{name}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{}",
        if secure { "; Secure" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
