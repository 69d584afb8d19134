//! Outgoing webhooks: an integration registers an address and the events it wants; what
//! happens is read from the audit log (written in the same transaction as each change) and
//! queued on the outbox for each webhook that asked for it, once ([`dispatch`]); the delivery
//! loop sends it signed, with retries and backoff, never twice (the `api` channel's
//! connector, `torg_http::webhooks::WebhookDelivery`).

use crate::actor::Actor;
use crate::connectors::ConnectorPolicy;
use crate::sealing::{Place, SecretKey};
use jiff::Timestamp;
use torg_domain::webhook::{BadUrl, Event};
use torg_domain::{Channel, TenantId};
use torg_store::{NewOutgoing, NewWebhook, Notice, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Url(#[from] BadUrl),
    #[error("choose at least one event")]
    NoEvents,
    #[error("{0} is not among the hosts this installation lets connectors reach (connector_hosts)")]
    Host(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl WebhookError {
    /// The message's key in the interface catalogue.
    pub fn key(&self) -> &'static str {
        match self {
            WebhookError::Url(_) => "webhook-error-url",
            WebhookError::NoEvents => "webhook-error-events",
            WebhookError::Host(_) => "connector-error-host",
            WebhookError::Store(_) => "error-storage",
        }
    }
}

/// What an administrator registers: an address and the events it wants.
pub struct WebhookInput<'a> {
    pub url: &'a str,
    pub events: &'a [Event],
}

/// Registers a webhook; returns its id and its signing secret, shown this once (it is kept
/// sealed).
pub async fn add(
    store: &dyn Store,
    (key, policy): (&SecretKey, &ConnectorPolicy),
    actor: &Actor,
    tenant: TenantId,
    input: WebhookInput<'_>,
    now: Timestamp,
) -> Result<(i64, String), WebhookError> {
    let (url, events) = (input.url.trim(), input.events);
    let host = torg_domain::webhook::url_host(url)?;
    if !policy.hosts.allows(&host) {
        return Err(WebhookError::Host(host));
    }
    if events.is_empty() {
        return Err(WebhookError::NoEvents);
    }
    let secret = crate::secrets::new_token();
    let sealed = key.seal(&Place::Webhook { tenant, url }, &secret);
    let names = events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",");
    let audit = actor.entry("webhook.added", String::new(), format!("{url} {names}"));
    let id = store
        .add_webhook(
            tenant,
            NewWebhook {
                url: url.to_string(),
                events: events.to_vec(),
                secret_sealed: sealed,
                created_at: now,
            },
            Some(audit),
        )
        .await?;
    Ok((id, secret))
}

/// Removes a webhook (what waits for it is not sent); false when there was none.
pub async fn remove(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    id: i64,
) -> Result<bool, StoreError> {
    let audit = actor.entry("webhook.removed", format!("webhook:{id}"), String::new());
    store.remove_webhook(tenant, id, Some(audit)).await
}

/// The body of a delivery: the event, where and when, and what it is about (the API gives
/// the rest to whoever holds a token): no citizen's text or contact.
pub fn payload(
    event: Event,
    municipality: &str,
    entry: &torg_domain::audit::AuditEntry,
    delivery: &str,
) -> String {
    serde_json::json!({
        "id": delivery,
        "event": event.as_str(),
        "municipality": municipality,
        "object": entry.entry.object,
        "occurred_at": entry.at.to_string(),
    })
    .to_string()
}

/// How many audit entries one pass reads per municipality.
const PAGE: u32 = 500;

/// One pass: for every municipality with webhooks, the audit entries after the earliest
/// webhook's mark (read once), and for each webhook those after its own mark that are events
/// it asked for, queued on the outbox (channel `api`) with its mark moved, in one
/// transaction. Returns how many deliveries were queued.
pub async fn dispatch(store: &dyn Store, now: Timestamp) -> Result<usize, StoreError> {
    let mut queued = 0;
    for tenant in store.webhook_tenants().await? {
        let Some(m) = store.municipality(tenant).await? else {
            continue;
        };
        let hooks = store.webhooks(tenant).await?;
        let Some(from) = hooks.iter().map(|h| h.after_seq).min() else {
            continue;
        };
        let entries = store.audit_entries(tenant, from, PAGE).await?;
        let Some(last) = entries.last().map(|e| e.seq) else {
            continue;
        };
        for hook in hooks.iter().filter(|h| h.after_seq < last) {
            let notices: Vec<Notice> = entries
                .iter()
                .filter(|e| e.seq > hook.after_seq)
                .filter_map(|e| {
                    let event = Event::of_audit(&e.entry.action, &e.entry.detail)?;
                    if !hook.events.contains(&event) {
                        return None;
                    }
                    let delivery = format!("webhook-{}-{}", hook.id, e.seq);
                    Some(Notice {
                        body: payload(event, &m.slug, e, &delivery),
                        out: NewOutgoing {
                            channel: Channel::Api,
                            recipient: hook.id.to_string(),
                            subject: event.as_str().to_string(),
                            header_id: delivery,
                            in_reply_to: None,
                            references: vec![],
                            media: None,
                        },
                    })
                })
                .collect();
            queued += notices.len();
            store
                .queue_webhook_events(tenant, hook.id, &notices, last, now)
                .await?;
        }
    }
    Ok(queued)
}

/// Dispatches every two seconds until `shutdown` (a job that runs once per installation).
pub async fn run(
    store: std::sync::Arc<dyn Store>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        match dispatch(&*store, Timestamp::now()).await {
            Ok(n) if n > 0 => tracing::info!(queued = n, "webhook deliveries queued"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "webhook events not queued"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
            _ = shutdown.changed() => {}
        }
    }
}
