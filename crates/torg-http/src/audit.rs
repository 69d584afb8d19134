//! Writing the audit log from the web layer: who (a staff user or an integration), what, and
//! from where (the client's address).

use crate::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::net::SocketAddr;
use torg_domain::audit::NewAuditEntry;

/// The client's address, when the server knows it.
pub struct ClientAddr(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string())
                .unwrap_or_default(),
        ))
    }
}

/// Appends to the municipality's audit log. A failure is logged loudly; the change itself has
/// been made.
pub async fn record(
    state: &AppState,
    tenant: i64,
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
