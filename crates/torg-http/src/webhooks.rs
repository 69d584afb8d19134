//! Outgoing webhooks: the administration page (`/staff/admin/webhooks`: register an address
//! and its events, the signing secret shown once; each webhook's latest deliveries with the
//! receiver's last answer; remove one) and the connector that sends the deliveries
//! ([`WebhookDelivery`], the outbox's `api` channel): a signed POST, retried with backoff by
//! the core's delivery loop, never twice. The rules are [`torg_core::webhooks`]'.

use crate::AppState;
use crate::admin::{AdminForm, DoneQuery, admin};
use crate::auth::Staff;
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::staff::{chrome, failed};
use crate::views::{self, Chrome, Lang, render};
use askama::Template;
use async_trait::async_trait;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use torg_core::delivery::{Deliver, Outcome};
use torg_core::sealing::{Place, SecretKey};
use torg_core::webhooks::{WebhookError, WebhookInput};
use torg_domain::Channel;
use torg_domain::webhook::Event;
use torg_store::{ChannelSettings, Directory, OutboxItem, Store, StoreError};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/staff/admin/webhooks", page)
        .post("/staff/admin/webhooks", create)
        .post("/staff/admin/webhooks/{id}/remove", remove)
}

/// A delivery as the page lists it.
struct DeliveryRow {
    event: String,
    state: String,
    when: String,
    answer: String,
}

struct Row {
    id: i64,
    url: String,
    events: String,
    deliveries: Vec<DeliveryRow>,
}

#[derive(Template)]
#[template(path = "admin_webhooks.html")]
struct WebhooksPage {
    t: Tr,
    c: Chrome,
    hooks: Vec<Row>,
    /// (event, label)
    events: Vec<(String, String)>,
    notice: Option<String>,
    error: Option<String>,
    /// A secret just made, shown this once.
    secret: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Query(q): Query<DoneQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Some(r) = admin(&staff, &t, None) {
        return r;
    }
    let notice = t.done(&q.done);
    show(&state, t, &staff, (notice, None, None), StatusCode::OK).await
}

/// The page with (notice, error, secret shown once).
async fn show(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    (notice, error, secret): (Option<String>, Option<String>, Option<String>),
    status: StatusCode,
) -> Response {
    let tenant = staff.config.municipality.id;
    let zone = &staff.config.municipality.time_zone;
    let list = match state.store.webhooks(tenant).await {
        Ok(l) => l,
        Err(e) => return failed(t, e),
    };
    let mut hooks = vec![];
    for h in list {
        let deliveries = match state.store.webhook_deliveries(tenant, h.id, 5).await {
            Ok(d) => d,
            Err(e) => return failed(t, e),
        };
        hooks.push(Row {
            id: h.id,
            url: h.url,
            events: h
                .events
                .iter()
                .map(|e| t.get(&event_key(*e)))
                .collect::<Vec<_>>()
                .join(", "),
            deliveries: deliveries
                .into_iter()
                .map(|d| DeliveryRow {
                    state: t.get(&format!("webhook-state-{}", d.status)),
                    when: views::when(d.sent_at.unwrap_or(d.created_at), zone),
                    answer: d.last_error.unwrap_or_else(|| {
                        if d.sent_at.is_some() {
                            t.get("webhook-answer-ok")
                        } else {
                            String::new()
                        }
                    }),
                    event: d.event,
                })
                .collect(),
        });
    }
    let events = Event::ALL
        .iter()
        .map(|e| (e.as_str().to_string(), t.get(&event_key(*e))))
        .collect();
    render(
        status,
        &WebhooksPage {
            c: chrome(staff, "/staff/admin/webhooks"),
            hooks,
            events,
            notice,
            error,
            secret,
            t,
        },
    )
}

fn event_key(e: Event) -> String {
    format!("webhook-event-{}", e.as_str().replace('.', "-"))
}

async fn create(
    State(state): State<AppState>,
    AdminForm {
        t,
        staff,
        f,
        who: actor,
    }: AdminForm,
) -> Response {
    let Some(key) = state.settings.secret_key.clone() else {
        let msg = t.get("mail-error-no-key");
        return show(
            &state,
            t,
            &staff,
            (None, Some(msg), None),
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;
    };
    let events: Vec<Event> = f
        .all("events")
        .iter()
        .filter_map(|e| Event::parse(e))
        .collect();
    match torg_core::webhooks::add(
        &*state.store,
        (&key, &state.settings.connectors),
        &actor,
        staff.config.municipality.id,
        WebhookInput {
            url: f.get("url"),
            events: &events,
        },
        Timestamp::now(),
    )
    .await
    {
        Ok((_, secret)) => {
            let notice = t.get("webhook-made");
            show(
                &state,
                t,
                &staff,
                (Some(notice), None, Some(secret)),
                StatusCode::CREATED,
            )
            .await
        }
        Err(WebhookError::Store(e)) => failed(t, e),
        Err(e) => {
            let msg = t.get(e.key());
            show(
                &state,
                t,
                &staff,
                (None, Some(msg), None),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

async fn remove(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    AdminForm {
        t,
        staff,
        who: actor,
        ..
    }: AdminForm,
) -> Response {
    match torg_core::webhooks::remove(&*state.store, &actor, staff.config.municipality.id, id).await
    {
        Ok(true) => Redirect::to("/staff/admin/webhooks?done=webhook-removed").into_response(),
        Ok(false) => {
            let msg = t.get("webhook-error-not-found");
            show(
                &state,
                t,
                &staff,
                (None, Some(msg), None),
                StatusCode::NOT_FOUND,
            )
            .await
        }
        Err(e) => failed(t, e),
    }
}

/// A webhook ready to send to: its address and its opened secret.
#[derive(Clone)]
struct Target {
    url: String,
    secret: String,
}

/// The connector of the outbox's `api` channel: each entry is one delivery to a webhook
/// (recipient: its id), POSTed as JSON with `Torg-Event`, `Torg-Delivery` (the same on
/// every retry, for the receiver to drop a repeat) and `Torg-Signature`.
pub struct WebhookDelivery {
    store: Arc<dyn Store>,
    key: SecretKey,
    client: reqwest::Client,
    targets: RwLock<HashMap<(i64, i64), Target>>,
}

impl WebhookDelivery {
    pub fn new(store: Arc<dyn Store>, key: SecretKey) -> WebhookDelivery {
        crate::use_ring_crypto();
        WebhookDelivery {
            store,
            key,
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(10))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            targets: RwLock::default(),
        }
    }

    fn target(&self, item: &OutboxItem) -> Option<Target> {
        let id: i64 = item.recipient.parse().ok()?;
        self.targets
            .read()
            .ok()?
            .get(&(item.tenant_id.get(), id))
            .cloned()
    }
}

#[async_trait]
impl Deliver for WebhookDelivery {
    fn channels(&self) -> &[Channel] {
        &[Channel::Api]
    }
    fn connector(&self, _: Channel) -> &'static str {
        "webhook"
    }
    fn lanes(&self) -> usize {
        4
    }

    async fn prepare(
        &self,
        _settings: &dyn ChannelSettings,
        _directory: &dyn Directory,
        items: &[OutboxItem],
    ) -> Result<(), StoreError> {
        let mut targets = HashMap::new();
        let mut tenants: Vec<_> = items.iter().map(|i| i.tenant_id).collect();
        tenants.sort();
        tenants.dedup();
        for tenant in tenants {
            for h in self.store.webhooks(tenant).await? {
                let place = Place::Webhook {
                    tenant,
                    url: &h.url,
                };
                match self.key.open(&place, &h.secret) {
                    Ok(secret) => {
                        targets.insert((tenant.get(), h.id), Target { url: h.url, secret });
                    }
                    Err(_) => {
                        tracing::warn!(%tenant, webhook = h.id, "the webhook's secret cannot be opened")
                    }
                }
            }
        }
        *self.targets.write().unwrap_or_else(|e| e.into_inner()) = targets;
        Ok(())
    }

    fn secrets(&self) -> Vec<String> {
        self.targets
            .read()
            .map(|t| t.values().map(|t| t.secret.clone()).collect())
            .unwrap_or_default()
    }

    fn destination(&self, item: &OutboxItem) -> Option<String> {
        let url = self.target(item)?.url;
        torg_domain::webhook::url_host(&url).ok()
    }

    async fn deliver(&self, _lane: usize, item: &OutboxItem, now: Timestamp) -> Outcome {
        let Some(target) = self.target(item) else {
            return Outcome::Failed {
                why: "the webhook was removed, or its secret cannot be opened".into(),
            };
        };
        let body = item.body.clone().into_bytes();
        let signature = torg_domain::webhook::sign(&target.secret, now.as_second(), &body);
        let sent = self
            .client
            .post(&target.url)
            .header("content-type", "application/json")
            .header("torg-event", &item.subject)
            .header("torg-delivery", &item.header_id)
            .header(torg_domain::webhook::SIGNATURE_HEADER, signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => Outcome::Sent,
            Ok(r) => {
                let status = r.status();
                let text: String = r
                    .text()
                    .await
                    .unwrap_or_default()
                    .chars()
                    .take(200)
                    .collect();
                let why = format!("{status} {}", text.trim());
                // A receiver that says the request is wrong will not take it later either;
                // one that is busy or down will.
                if status.is_client_error()
                    && status != reqwest::StatusCode::TOO_MANY_REQUESTS
                    && status != reqwest::StatusCode::REQUEST_TIMEOUT
                {
                    Outcome::Failed { why }
                } else {
                    Outcome::retry(why)
                }
            }
            Err(e) => Outcome::retry(format!("not reached: {e}")),
        }
    }
}
