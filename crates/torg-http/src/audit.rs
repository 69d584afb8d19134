//! Writing the audit log from the web layer: who (a staff user or an integration), what, and
//! from where (the client's address).

use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::net::SocketAddr;
use torg_domain::TenantId;
use torg_domain::audit::NewAuditEntry;

/// The client's address, when the server knows it: the connection's peer, or, behind a
/// reverse proxy Torg is told to trust (`trust_forwarded_for`), the last address the proxy
/// added to `X-Forwarded-For` (earlier ones are the client's to invent).
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let forwarded = state
            .settings
            .trust_forwarded_for
            .then(|| {
                parts
                    .headers
                    .get_all("x-forwarded-for")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .map(str::trim)
                    .next_back()
                    .filter(|a| a.parse::<std::net::IpAddr>().is_ok())
                    .map(String::from)
            })
            .flatten();
        Ok(ClientAddr(forwarded.unwrap_or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_default()
        })))
    }
}

/// Appends to the municipality's audit log. A failure is logged loudly; the change itself has
/// been made.
pub async fn record(
    state: &AppState,
    tenant: TenantId,
    actor: String,
    action: &str,
    object: String,
    detail: String,
    source: &ClientAddr,
) {
    let entry = NewAuditEntry {
        actor,
        action: action.to_string(),
        object,
        detail,
        source: source.0.clone(),
    };
    if let Err(e) = state
        .store
        .append_audit(tenant, entry, jiff::Timestamp::now())
        .await
    {
        tracing::error!(error = %e, action, "could not append to the audit log");
    }
}
