//! The SMS gateway's callback: Kannel's `get-url` calls
//! `/hooks/sms/{municipality}?key=…&from=%p&text=%a&id=%I` for every message a citizen sends.
//! The key must be the municipality's; the answer is empty (Kannel sends nothing back), and the
//! acknowledgement goes through the outbox.

use crate::AppState;
use crate::auth::tenant_by_slug;
use crate::routes::Routes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use torg_core::intake::IntakeError;
use torg_core::sms::{IncomingSms, receive_sms};

pub(crate) fn routes() -> Routes {
    Routes::new().get("/hooks/sms/{slug}", incoming)
}

#[derive(serde::Deserialize, Default)]
struct Incoming {
    #[serde(default)]
    key: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    id: Option<String>,
}

/// Compares secrets without telling by the time taken how much matched.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

async fn incoming(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Incoming>,
) -> Response {
    let plain = |status: StatusCode, text: &str| (status, text.to_string()).into_response();
    let config = match tenant_by_slug(&state, &slug).await {
        Ok(Some(c)) => c,
        Ok(None) => return plain(StatusCode::NOT_FOUND, "no such municipality"),
        Err(e) => {
            tracing::error!(error = %e, "sms hook");
            return plain(StatusCode::SERVICE_UNAVAILABLE, "try again later");
        }
    };
    let gateway = match state.store.sms_gateways().await {
        Ok(all) => all
            .into_iter()
            .find(|(t, _)| *t == config.municipality.id)
            .map(|(_, g)| g),
        Err(e) => {
            tracing::error!(error = %e, "sms hook");
            return plain(StatusCode::SERVICE_UNAVAILABLE, "try again later");
        }
    };
    if !gateway.is_some_and(|g| same_secret(&g.inbound_key, &q.key)) {
        return plain(StatusCode::FORBIDDEN, "wrong or missing key");
    }
    let base = crate::portal::base_url(&state, &headers);
    let ack = crate::acknowledge::acknowledger_for(&state, config.clone(), &base);
    let sms = IncomingSms {
        from: &q.from,
        text: &q.text,
        gateway_id: q.id.as_deref().filter(|i| !i.is_empty()),
    };
    match receive_sms(
        &*state.store,
        &config,
        &sms,
        state.settings.limits,
        jiff::Timestamp::now(),
        Some(&*ack),
    )
    .await
    {
        Ok(outcome) => {
            tracing::info!(municipality = %slug, ?outcome, "sms in");
            plain(StatusCode::OK, "")
        }
        // The gateway retries on 5xx: only for what may work next time.
        Err(IntakeError::Store(e)) => {
            tracing::error!(error = %e, "sms hook");
            plain(StatusCode::SERVICE_UNAVAILABLE, "try again later")
        }
        Err(e) => {
            tracing::warn!(municipality = %slug, error = %e, "sms refused");
            plain(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string())
        }
    }
}
