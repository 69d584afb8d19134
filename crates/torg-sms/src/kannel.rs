//! Sending through Kannel's sendsms HTTP interface
//! (`GET /cgi-bin/sendsms?username&password&from&to&text&charset&coding`): 202 "Accepted for
//! delivery" (or "Queued for later delivery") is sent; another 4xx is for good (the answer is
//! kept and shown on the inquiry); a 5xx or no answer is tried again with backoff. A number
//! that has sent STOPP gets nothing. Entries are claimed with a lease and marked sent in
//! batches, so a crash sends again at most the few that were sent but not yet marked.

use crate::SmsError;
use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use torg_domain::Channel;
use torg_domain::outbox::{MAX_ATTEMPTS, backoff};
use torg_domain::sms::{Encoding, gsm_friendly, segments};
use torg_store::{OutboxItem, SmsGateway, Store};

/// How one pass over the outbox went.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SmsReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
    /// Segments the sent messages took.
    pub segments: usize,
}

/// A send's failure: the gateway's answer, and whether it is for good.
type Failure = (String, bool);

/// Sent entries are marked in one transaction per this many.
const MARK_BATCH: usize = 64;

async fn send_one(
    client: &reqwest::Client,
    gateway: &SmsGateway,
    callback: Option<&String>,
    item: &OutboxItem,
) -> Result<usize, Failure> {
    let text = gsm_friendly(&item.body);
    let parts = segments(&text);
    let coding = match parts.encoding {
        Encoding::Gsm7 => "0",
        Encoding::Ucs2 => "2",
    };
    let mut req = client.get(&gateway.sendsms_url);
    if let Some(cb) = callback {
        // Delivered (1), not delivered (2), rejected by the SMSC (16).
        let url = format!("{cb}&outbox={}&type=%d", item.id);
        req = req.query(&[("dlr-mask", "19"), ("dlr-url", url.as_str())]);
    }
    let res = req
        .query(&[
            ("username", gateway.username.as_str()),
            ("password", gateway.password.as_str()),
            ("from", gateway.sender.as_str()),
            ("to", item.recipient.trim_start_matches('+')),
            ("text", text.as_str()),
            ("charset", "UTF-8"),
            ("coding", coding),
        ])
        .send()
        .await
        .map_err(|e| (format!("the SMS gateway did not answer: {e}"), false))?;
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    if status.is_success() {
        Ok(parts.count)
    } else {
        let answer = format!("{} {}", status.as_u16(), text.trim());
        Err((answer, status.is_client_error()))
    }
}

/// Claims the SMS due at `now` and hands them to each municipality's gateway, `concurrency`
/// requests at a time. `callbacks` holds, per municipality, the address of its delivery-report
/// hook with the key (`…/hooks/sms/{slug}/dlr?key=…`); without one no reports are asked for.
pub async fn send_due(
    store: &dyn Store,
    gateways: &HashMap<i64, SmsGateway>,
    callbacks: &HashMap<i64, String>,
    client: &reqwest::Client,
    now: Timestamp,
    limit: u32,
    concurrency: usize,
) -> Result<SmsReport, SmsError> {
    let items = store
        .claim_outbox(Channel::Sms, now, SignedDuration::from_mins(2), limit)
        .await?;
    let mut report = SmsReport::default();
    // Consent is read before the sends start: the concurrent sends below do HTTP only, so none
    // of them holds a database connection while this task waits to mark what was sent.
    let mut stopped = Vec::with_capacity(items.len());
    for item in &items {
        stopped.push(store.sms_stopped(item.tenant_id, &item.recipient).await?);
    }
    let mut results = futures_util::stream::iter(items.into_iter().zip(stopped))
        .map(|(item, stopped)| async move {
            // The last field: whether the gateway was asked (its health is known).
            match gateways.get(&item.tenant_id) {
                None => (
                    item,
                    Err(("the municipality has no SMS gateway".to_string(), false)),
                    false,
                ),
                Some(_) if stopped => (
                    item,
                    Err(("the recipient has sent STOPP".to_string(), true)),
                    false,
                ),
                Some(gateway) => {
                    let result =
                        send_one(client, gateway, callbacks.get(&item.tenant_id), &item).await;
                    (item, result, true)
                }
            }
        })
        .buffer_unordered(concurrency.max(1));
    let mut sent = Vec::with_capacity(MARK_BATCH);
    // How each municipality's gateway did in this pass, for the connector page.
    let mut health: HashMap<i64, (bool, String)> = HashMap::new();
    while let Some((item, result, asked)) = results.next().await {
        match &result {
            Ok(_) => health.insert(item.tenant_id, (true, "sent".into())),
            Err((error, _)) if asked => health.insert(item.tenant_id, (false, error.clone())),
            Err(_) => None,
        };
        match result {
            Ok(parts) => {
                sent.push(item.id);
                report.segments += parts;
                if sent.len() >= MARK_BATCH {
                    store.outbox_sent(&sent, Timestamp::now()).await?;
                    report.sent += sent.len();
                    sent.clear();
                }
            }
            Err((error, permanent)) if permanent || item.attempts >= MAX_ATTEMPTS => {
                tracing::warn!(outbox = item.id, %error, "SMS given up");
                store.outbox_failed(item.id, &error).await?;
                report.failed += 1;
            }
            Err((error, _)) => {
                tracing::info!(outbox = item.id, %error, "SMS will be tried again");
                store
                    .outbox_retry(item.id, now + backoff(item.attempts), &error)
                    .await?;
                report.retried += 1;
            }
        }
    }
    store.outbox_sent(&sent, Timestamp::now()).await?;
    report.sent += sent.len();
    for (tenant, (ok, detail)) in health {
        let status = torg_store::ConnectorStatus {
            tenant_id: tenant,
            connector: "sms".into(),
            ok,
            detail,
            at: Timestamp::now(),
        };
        store.set_connector_status(&status).await?;
    }
    Ok(report)
}
