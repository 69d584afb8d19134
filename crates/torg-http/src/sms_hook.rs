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
    Routes::new()
        .get("/hooks/sms/{slug}", incoming)
        .get("/hooks/sms/{slug}/dlr", delivery_report)
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
    let config = match gateway_checked(&state, &slug, &q.key).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let base = crate::portal::base_url(&state, &headers);
    let ack = crate::acknowledge::acknowledger_for(&state, config.clone(), &base);
    // Subscription words first (ABONNER, JA, and STOPP ending an SMS subscription).
    let m = &config.municipality;
    let t = crate::i18n::Tr::new(state.catalog.clone(), &m.language);
    match torg_core::subscribe::receive_sms(&*state.store, &t, m, &q.from, &q.text, &base).await {
        Ok(
            outcome @ (torg_core::subscribe::SmsOutcome::Asked
            | torg_core::subscribe::SmsOutcome::Confirmed),
        ) => {
            tracing::info!(municipality = %slug, ?outcome, "sms subscription");
            return plain(StatusCode::OK, "");
        }
        Ok(_) => {}
        // Asked too often today: no answer, and not an inquiry either.
        Err(torg_core::subscribe::SubscriptionError::TooOften) => return plain(StatusCode::OK, ""),
        Err(torg_core::subscribe::SubscriptionError::Store(e)) => {
            tracing::error!(error = %e, "sms hook");
            return plain(StatusCode::SERVICE_UNAVAILABLE, "try again later");
        }
        Err(e) => tracing::info!(municipality = %slug, error = %e, "not a subscription"),
    }
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

#[derive(serde::Deserialize, Default)]
struct Report {
    #[serde(default)]
    key: String,
    #[serde(default)]
    outbox: i64,
    /// Kannel's DLR type: 1 delivered, 2 failed, 4 buffered, 8 accepted by the SMSC, 16
    /// rejected by the SMSC.
    #[serde(default, rename = "type")]
    kind: u8,
}

/// The municipality's configuration if `key` is its gateway's, else the answer to give.
async fn gateway_checked(
    state: &AppState,
    slug: &str,
    key: &str,
) -> Result<std::sync::Arc<torg_core::intake::TenantConfig>, Response> {
    let plain = |status: StatusCode, text: &str| (status, text.to_string()).into_response();
    let config = match tenant_by_slug(state, slug).await {
        Ok(Some(c)) => c,
        Ok(None) => return Err(plain(StatusCode::NOT_FOUND, "no such municipality")),
        Err(e) => {
            tracing::error!(error = %e, "sms hook");
            return Err(plain(StatusCode::SERVICE_UNAVAILABLE, "try again later"));
        }
    };
    match state.store.sms_gateway(config.municipality.id).await {
        Ok(gateway) => {
            if gateway.is_some_and(|g| same_secret(&g.inbound_key, key)) {
                Ok(config)
            } else {
                Err(plain(StatusCode::FORBIDDEN, "wrong or missing key"))
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "sms hook");
            Err(plain(StatusCode::SERVICE_UNAVAILABLE, "try again later"))
        }
    }
}

/// Kannel's dlr-url: what the phone network says about a message Torg sent.
async fn delivery_report(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(r): Query<Report>,
) -> Response {
    let config = match gateway_checked(&state, &slug, &r.key).await {
        Ok(c) => c,
        Err(res) => return res,
    };
    let (tenant, now) = (config.municipality.id, jiff::Timestamp::now());
    let recorded = match r.kind {
        1 | 2 | 16 => {
            let report = format!("DLR {}", r.kind);
            state
                .store
                .outbox_delivery_report(tenant, r.outbox, r.kind == 1, &report, now)
                .await
        }
        // Handed to the phone network: sent, even if the node that sent it died before it
        // marked it, so that it is not sent again.
        8 => state.store.outbox_taken(tenant, r.outbox, now).await,
        // Buffered: nothing to record yet.
        _ => return (StatusCode::OK, String::new()).into_response(),
    };
    match recorded {
        Ok(()) => (StatusCode::OK, String::new()).into_response(),
        Err(torg_store::StoreError::NotFound(_)) => {
            (StatusCode::NOT_FOUND, "no such message".to_string()).into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "delivery report");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "try again later".to_string(),
            )
                .into_response()
        }
    }
}
