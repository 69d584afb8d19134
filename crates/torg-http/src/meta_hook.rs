//! Meta's webhooks for a municipality's Facebook pages and Instagram accounts, at
//! `/hooks/meta/{municipality}`.
//!
//! `GET` is the verification handshake: `hub.mode=subscribe`, the account's verify token,
//! and `hub.challenge` echoed. `POST` carries events: the body (at most [`MAX_BODY`]) must be
//! signed with the account's app secret (`X-Hub-Signature-256`), be for an account the
//! municipality has set up and the channel registry has approved, and be recent (a replay
//! from outside Meta's retry window is refused; within it, the networks' ids make a repeat a
//! no-op). Every refusal is counted by reason in `/metrics`. The answer is 200 only after
//! every event is stored, so Meta retries what was not.

use crate::AppState;
use crate::auth::tenant_by_slug;
use crate::metrics::Rejection;
use crate::routes::Routes;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use torg_core::intake::{IntakeError, TenantConfig};
use torg_core::social::receive_social;
use torg_domain::TenantId;
use torg_social::meta;
use torg_store::SocialAccount;

/// Meta's payloads are a few kilobytes; a batch of many entries stays well under this.
pub const MAX_BODY: usize = 256 * 1024;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/hooks/meta/{slug}", handshake)
        .post("/hooks/meta/{slug}", events)
}

fn plain(status: StatusCode, text: &str) -> Response {
    (status, text.to_string()).into_response()
}

/// The municipality's Meta accounts (Facebook, Instagram) with secrets opened, cached.
async fn meta_accounts(
    state: &AppState,
    tenant: TenantId,
) -> Result<Arc<Vec<SocialAccount>>, Response> {
    if let Some(a) = state.cache.social(tenant) {
        return Ok(a);
    }
    let all: Vec<SocialAccount> = state
        .store
        .social_accounts(Some(tenant))
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "meta hook");
            plain(StatusCode::SERVICE_UNAVAILABLE, "try again later")
        })?
        .into_iter()
        .filter(|a| {
            matches!(
                a.channel,
                torg_domain::Channel::Facebook | torg_domain::Channel::Instagram
            )
        })
        .collect();
    let meta = match (all.is_empty(), state.settings.secret_key.as_ref()) {
        (true, _) => all,
        (false, Some(key)) => torg_social::worker::opened(all, key),
        (false, None) => {
            return Err(plain(
                StatusCode::SERVICE_UNAVAILABLE,
                "the installation's secret key is not loaded",
            ));
        }
    };
    let meta = Arc::new(meta);
    state.cache.put_social(tenant, meta.clone());
    Ok(meta)
}

/// The municipality named in the address and its Meta accounts.
async fn municipality_and_accounts(
    state: &AppState,
    slug: &str,
) -> Result<(Arc<TenantConfig>, Arc<Vec<SocialAccount>>), Response> {
    let config = match tenant_by_slug(state, slug).await {
        Ok(Some(c)) => c,
        Ok(None) => return Err(plain(StatusCode::NOT_FOUND, "no such municipality")),
        Err(_) => return Err(plain(StatusCode::SERVICE_UNAVAILABLE, "try again later")),
    };
    let accounts = meta_accounts(state, config.municipality.id).await?;
    Ok((config, accounts))
}

#[derive(serde::Deserialize, Default)]
struct Handshake {
    #[serde(rename = "hub.mode", default)]
    mode: String,
    #[serde(rename = "hub.verify_token", default)]
    verify_token: String,
    #[serde(rename = "hub.challenge", default)]
    challenge: String,
}

async fn handshake(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<Handshake>,
) -> Response {
    let (_, accounts) = match municipality_and_accounts(&state, &slug).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    let known = accounts.iter().any(|a| {
        !a.verify_token.is_empty()
            && crate::auth::constant_time_eq(a.verify_token.as_bytes(), q.verify_token.as_bytes())
    });
    if q.mode != "subscribe" || !known {
        state.metrics.webhook_rejected(Rejection::Signature);
        return plain(StatusCode::FORBIDDEN, "wrong verify token");
    }
    // The challenge is echoed as plain text, never as HTML.
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        q.challenge,
    )
        .into_response()
}

async fn events(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let reject = |why: Rejection, status: StatusCode, text: &str| {
        state.metrics.webhook_rejected(why);
        tracing::warn!(municipality = %slug, reason = ?why, "webhook refused");
        plain(status, text)
    };
    let body: Bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return reject(
                Rejection::Oversize,
                StatusCode::PAYLOAD_TOO_LARGE,
                "the payload is larger than 256 KiB",
            );
        }
    };
    let (config, accounts) = match municipality_and_accounts(&state, &slug).await {
        Ok(x) => x,
        Err(res) => return res,
    };
    // The payload names its accounts; the first one known gives the secret to check with
    // (one app signs all of a delivery).
    let named = meta::accounts_in(&body);
    let Some(account) = named
        .iter()
        .find_map(|id| accounts.iter().find(|a| &a.account == id))
    else {
        return reject(
            Rejection::UnknownAccount,
            StatusCode::FORBIDDEN,
            "no account of this municipality is named in the payload",
        );
    };
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !meta::signature_is_valid(account.app_secret.as_bytes(), &body, signature) {
        return reject(
            Rejection::Signature,
            StatusCode::FORBIDDEN,
            "X-Hub-Signature-256 is missing or wrong",
        );
    }
    let parsed = match meta::parse(&body) {
        Ok(p) => p,
        Err(e) => {
            return reject(
                Rejection::Malformed,
                StatusCode::BAD_REQUEST,
                &e.to_string(),
            );
        }
    };
    let now = jiff::Timestamp::now();
    // Private messages are acknowledged on their channel, as SMS and email are.
    let base = crate::portal::base_url(&state, &headers);
    let ack = crate::acknowledge::acknowledger_for(&state, config.clone(), &base);
    let mut taken = 0;
    let mut refused: Option<(Rejection, String)> = None;
    for (time, event) in &parsed.events {
        let Some(account) = accounts
            .iter()
            .find(|a| a.account == event.account && a.channel == event.channel)
        else {
            state.metrics.webhook_rejected(Rejection::UnknownAccount);
            refused = Some((
                Rejection::UnknownAccount,
                format!("account {} is not set up", event.account),
            ));
            continue;
        };
        if !account.approved {
            state.metrics.webhook_rejected(Rejection::NotApproved);
            refused = Some((
                Rejection::NotApproved,
                format!(
                    "account {} is not approved in the channel registry",
                    event.account
                ),
            ));
            continue;
        }
        if torg_domain::social::outside_replay_window(*time, now.as_second()) {
            state.metrics.webhook_rejected(Rejection::Replay);
            refused = Some((
                Rejection::Replay,
                "an event outside the retry window (replayed?)".into(),
            ));
            continue;
        }
        let event = &with_person_name(&state, account, event).await;
        match receive_social(
            &*state.store,
            &config,
            event,
            state.settings.limits,
            now,
            Some(&*ack),
        )
        .await
        {
            Ok(_) => taken += 1,
            Err(IntakeError::Store(e)) => {
                tracing::error!(error = %e, "meta hook");
                return plain(StatusCode::SERVICE_UNAVAILABLE, "try again later");
            }
            Err(e) => {
                tracing::warn!(municipality = %slug, error = %e, "social event refused");
                refused = Some((Rejection::Malformed, e.to_string()));
            }
        }
    }
    state.metrics.webhook_events(taken);
    match refused {
        // Nothing of it was taken: say why, so that it shows in Meta's delivery log.
        Some((_, why)) if taken == 0 => plain(StatusCode::FORBIDDEN, &why),
        _ => plain(StatusCode::OK, "EVENT_RECEIVED"),
    }
}

/// Meta's message webhooks carry the sender's id but not their name: staff would see
/// "Facebook-bruker …1234". The name comes from the Graph API's profile of the person (kept a
/// day; a failure is tried again after ten minutes, and never holds the webhook up more
/// than two seconds).
async fn with_person_name(
    state: &AppState,
    account: &SocialAccount,
    event: &torg_core::social::SocialEvent,
) -> torg_core::social::SocialEvent {
    let mut event = event.clone();
    let torg_core::social::EventKind::Message { person, .. } = &event.kind else {
        return event;
    };
    if event.author.is_some() {
        return event;
    }
    let name = match state.cache.person(&account.account, person) {
        Some(name) => name,
        None => {
            let graph = torg_social::graph::Graph::new(
                state.cache.http(),
                &account.api_base,
                &account.access_token,
            );
            let asked = tokio::time::timeout(
                std::time::Duration::from_secs(2),
                graph.person_name(event.channel, person),
            )
            .await;
            let name = match asked {
                Ok(Ok(name)) => name,
                Ok(Err(e)) => {
                    tracing::info!(error = %e, "no name for a person on {}", event.channel);
                    None
                }
                Err(_) => None,
            };
            state
                .cache
                .put_person(&account.account, person, name.clone());
            name
        }
    };
    event.author = name;
    event
}
