//! The one way out. Every outgoing message — an email, an SMS, an answer on Facebook,
//! Instagram or Mastodon, and whatever channel comes next — is an outbox entry written in the
//! same transaction as what caused it, and is sent by [`pass`]: claimed with a lease (nobody
//! else sends it meanwhile), handed to the channel's [`Deliver`] on one of its lanes, marked
//! sent in batches, retried with backoff, given up after [`MAX_ATTEMPTS`] or at once when the
//! other side refuses it for good; and each municipality's connector health is recorded from
//! what happened. [`run`] repeats passes until shutdown.
//!
//! A new outbound channel is one [`Deliver`] implementation (plus its settings and texts); it
//! never writes its own loop.

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use torg_domain::Channel;
use torg_domain::TenantId;
use torg_domain::connector::HostRules;
use torg_domain::outbox::{MAX_ATTEMPTS, backoff};
use torg_store::{ChannelSettings, ConnectorStatus, Directory, OutboxItem, Outgoing, StoreError};

/// What became of one attempt to send an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server or network took it.
    Sent,
    /// The network took it and says where it is (a published post's address).
    Posted { address: String },
    /// Not tried: wait until then without counting it as a failure of the message (an
    /// account waiting for approval, a network asking us to slow down).
    Wait { until: Timestamp, why: String },
    /// Failed this time; tried again with backoff (or at `at`), given up after
    /// [`MAX_ATTEMPTS`].
    Retry { why: String, at: Option<Timestamp> },
    /// Refused for good (a rejected address, a number that sent STOPP): kept with the answer.
    Failed { why: String },
}

impl Outcome {
    pub fn retry(why: impl Into<String>) -> Outcome {
        Outcome::Retry {
            why: why.into(),
            at: None,
        }
    }
    pub fn failed(why: impl Into<String>) -> Outcome {
        Outcome::Failed { why: why.into() }
    }
}

/// A channel's sender: "send this one message, and say sent, failed for good, or try again".
#[async_trait]
pub trait Deliver: Send + Sync {
    /// The channels whose outbox entries this sends.
    fn channels(&self) -> &[Channel];
    /// The connector's name for an entry of `channel` on the connector page and in `/metrics`.
    fn connector(&self, channel: Channel) -> &'static str;
    /// How many entries may be in flight at once; lane `i` is one task, which may keep a
    /// connection of its own.
    fn lanes(&self) -> usize {
        1
    }
    /// Before a pass's sends: read what they need (accounts, gateways, consent) for `items`.
    /// A connector sees the channels' settings and the directory, nothing else.
    async fn prepare(
        &self,
        _settings: &dyn ChannelSettings,
        _directory: &dyn Directory,
        _items: &[OutboxItem],
    ) -> Result<(), StoreError> {
        Ok(())
    }
    /// The secrets (passwords, tokens, keys) that what [`prepare`](Self::prepare) read holds:
    /// [`pass`] takes them out of every error text before it is logged, stored on the
    /// message or shown as the connector's health, whatever the network answered.
    fn secrets(&self) -> Vec<String> {
        vec![]
    }
    /// The host a send of `item` would connect to (the mail server, the SMS gateway, the
    /// network's API), as [`prepare`](Self::prepare) read it: [`pass`] holds the entry back
    /// when the installation no longer lets connectors reach it (`connector_hosts`).
    fn destination(&self, _item: &OutboxItem) -> Option<String> {
        None
    }
    /// Sends one entry on `lane`.
    async fn deliver(&self, lane: usize, item: &OutboxItem, now: Timestamp) -> Outcome;
    /// After a pass: close what the lanes kept open.
    async fn finish(&self) {}
}

/// How one pass went.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PassReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

impl PassReport {
    pub fn is_idle(&self) -> bool {
        self.sent + self.retried + self.failed == 0
    }
}

/// Entries are marked sent in one transaction per this many (and whenever the sends pause),
/// so a crash sends again at most this many that were already delivered.
pub const MARK_BATCH: usize = 32;

/// How long a claim holds an entry from other senders (other passes, other nodes).
pub const LEASE: SignedDuration = SignedDuration::from_mins(2);

/// One pass: claims up to `limit` due entries of each of `deliver`'s channels and sends them,
/// each only to a host that `hosts` (the installation's `connector_hosts`) allows.
pub async fn pass(
    store: &dyn Outgoing,
    deliver: &dyn Deliver,
    hosts: &HostRules,
    now: Timestamp,
    limit: u32,
) -> Result<PassReport, StoreError> {
    let mut items = vec![];
    for channel in deliver.channels() {
        items.extend(store.claim_outbox(*channel, now, LEASE, limit).await?);
    }
    let mut report = PassReport::default();
    if items.is_empty() {
        return Ok(report);
    }
    deliver.prepare(store, store, &items).await?;
    let secrets = deliver.secrets();
    let lanes = deliver.lanes().clamp(1, items.len());
    let queue = Mutex::new(items.into_iter());
    let (tx, mut rx) = tokio::sync::mpsc::channel::<(OutboxItem, Outcome)>(MARK_BATCH * 4);
    let senders = futures_util::future::join_all((0..lanes).map(|lane| {
        let tx = tx.clone();
        let queue = &queue;
        async move {
            loop {
                let next = queue.lock().ok().and_then(|mut q| q.next());
                let Some(item) = next else { break };
                let outcome = match deliver.destination(&item) {
                    Some(host) if !hosts.allows(&host) => held_back(&host, now),
                    _ => deliver.deliver(lane, &item, now).await,
                };
                if tx.send((item, outcome)).await.is_err() {
                    break;
                }
            }
        }
    }));
    drop(tx);
    // How each municipality's connector did in this pass, for the connector page.
    let mut health: HashMap<(TenantId, &'static str), (bool, String)> = HashMap::new();
    let marker = async {
        let mut sent = Vec::with_capacity(MARK_BATCH);
        loop {
            // Mark what was sent when a batch is full or no further result is ready.
            let next = match rx.try_recv() {
                Ok(r) => Some(r),
                Err(_) => {
                    if !sent.is_empty() {
                        store.outbox_sent(&sent, Timestamp::now()).await?;
                        report.sent += sent.len();
                        sent.clear();
                    }
                    rx.recv().await
                }
            };
            let Some((item, outcome)) = next else { break };
            let outcome = hidden(outcome, &secrets);
            let key = (item.tenant_id, deliver.connector(item.channel));
            match outcome {
                Outcome::Sent => {
                    health.insert(key, (true, "sent".into()));
                    sent.push(item.id);
                    if sent.len() >= MARK_BATCH {
                        store.outbox_sent(&sent, Timestamp::now()).await?;
                        report.sent += sent.len();
                        sent.clear();
                    }
                }
                Outcome::Posted { address } => {
                    health.insert(key, (true, "sent".into()));
                    store
                        .outbox_posted(item.id, &address, Timestamp::now())
                        .await?;
                    report.sent += 1;
                }
                Outcome::Wait { until, why } => {
                    store.outbox_retry(item.id, until, &why).await?;
                    health.insert(key, (false, why));
                    report.retried += 1;
                }
                Outcome::Retry { why, .. } if item.attempts >= MAX_ATTEMPTS => {
                    tracing::warn!(outbox = item.id, channel = %item.channel, error = %why, "message given up");
                    store.outbox_failed(item.id, &why).await?;
                    health.insert(key, (false, why));
                    report.failed += 1;
                }
                Outcome::Retry { why, at } => {
                    tracing::info!(outbox = item.id, channel = %item.channel, error = %why, attempts = item.attempts, "message will be tried again");
                    let at = at.unwrap_or_else(|| now + backoff(item.attempts));
                    store.outbox_retry(item.id, at, &why).await?;
                    health.insert(key, (false, why));
                    report.retried += 1;
                }
                Outcome::Failed { why } => {
                    tracing::warn!(outbox = item.id, channel = %item.channel, error = %why, "message refused for good");
                    store.outbox_failed(item.id, &why).await?;
                    report.failed += 1;
                }
            }
        }
        Ok::<_, StoreError>(())
    };
    let (_, marked) = futures_util::future::join(senders, marker).await;
    deliver.finish().await;
    marked?;
    for ((tenant_id, connector), (ok, detail)) in health {
        store
            .set_connector_status(&ConnectorStatus {
                tenant_id,
                connector: connector.to_string(),
                ok,
                detail,
                at: Timestamp::now(),
            })
            .await?;
    }
    Ok(report)
}

/// How long a message to a host outside `connector_hosts` waits before it is looked at again.
const HELD_BACK: SignedDuration = SignedDuration::from_mins(15);

/// Not sent: `host` was allowed when the connector was set up, but the installation's
/// `connector_hosts` has changed since. The message waits (it is not given up): the operator
/// allows the host again, or an administrator points the connector elsewhere.
fn held_back(host: &str, now: Timestamp) -> Outcome {
    Outcome::Wait {
        until: now + HELD_BACK,
        why: format!(
            "{host} is not among the hosts this installation lets connectors reach (connector_hosts); the message waits until it is allowed or the connector is changed"
        ),
    }
}

/// `outcome` with `secrets` taken out of its error text.
fn hidden(outcome: Outcome, secrets: &[String]) -> Outcome {
    let hide = |why: String| torg_domain::secret::redact(&why, secrets);
    match outcome {
        sent @ (Outcome::Sent | Outcome::Posted { .. }) => sent,
        Outcome::Wait { until, why } => Outcome::Wait {
            until,
            why: hide(why),
        },
        Outcome::Retry { why, at } => Outcome::Retry { why: hide(why), at },
        Outcome::Failed { why } => Outcome::Failed { why: hide(why) },
    }
}

/// How long an idle sender sleeps: until the next entry of its channels falls due (a message
/// scheduled for 09:00 goes at 09:00, not up to `interval` later), at most `interval`. What
/// is due already but was not claimed is held by another node, and waits for the interval.
async fn idle_for(store: &dyn Outgoing, channels: &[Channel], interval: Duration) -> Duration {
    let now = Timestamp::now();
    let mut wait = interval;
    for channel in channels {
        if let Ok(Some(at)) = store.outbox_next_due(*channel, now).await {
            let until = Duration::try_from(at - now).unwrap_or(Duration::ZERO);
            wait = wait.min(until);
        }
    }
    wait
}

/// Runs passes of `deliver` (at once again while there is work, else when the next entry
/// falls due, at most every `interval`) until `shutdown` turns true; a pass under way
/// finishes first.
pub async fn run(
    store: Arc<dyn Outgoing>,
    deliver: Arc<dyn Deliver>,
    hosts: HostRules,
    interval: Duration,
    limit: u32,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *shutdown.borrow() {
            return;
        }
        match pass(&*store, &*deliver, &hosts, Timestamp::now(), limit).await {
            Ok(r) if !r.is_idle() => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, channels = ?deliver.channels(), "sending failed"),
        }
        let wait = idle_for(&*store, deliver.channels(), interval).await;
        tokio::select! {
            _ = tokio::time::sleep(wait.max(Duration::from_millis(5))) => {}
            _ = shutdown.changed() => {}
        }
    }
}
