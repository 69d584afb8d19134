//! The social-media connector of `torg serve`: every second, what the outbox holds for
//! Facebook, Instagram and Mastodon goes out through each account's API; every poll interval,
//! each Mastodon account's new mentions come in.
//!
//! Only accounts the channel registry has approved send or receive; an entry for another
//! waits (it is kept, not dropped) and the connector shows why. A throttled account pauses
//! for as long as the network asks while the others go on; an expired token stops that
//! account until a person renews it. Answers under a comment are checked against the
//! comment's answers before a retry, and Mastodon's Idempotency-Key does the same there, so
//! an answer goes out once.

use crate::api::ApiError;
use crate::graph::Graph;
use crate::mastodon::Mastodon;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use torg_core::acknowledge::Acknowledgements;
use torg_core::intake::{IntakeLimits, TenantConfig};
use torg_core::sealing::SecretKey;
use torg_core::social::receive_social;
use torg_domain::Channel;
use torg_domain::outbox::{MAX_ATTEMPTS, backoff};
use torg_domain::social::{Address, Target};
use torg_store::{ConnectorStatus, OutboxItem, SocialAccount, Store, StoreError};

pub const CHANNELS: [Channel; 3] = [Channel::Facebook, Channel::Instagram, Channel::Mastodon];

/// The key an account is known by between passes.
type AccountKey = (i64, Channel, String);

/// How one pass over the outbox went.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SendReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// The sender's memory between passes: accounts paused by the network, until when.
#[derive(Default)]
pub struct Sender {
    paused: HashMap<AccountKey, Timestamp>,
}

/// The accounts with their token and app secret opened; those that cannot be opened are
/// left out (and logged).
pub fn opened(accounts: Vec<SocialAccount>, key: &SecretKey) -> Vec<SocialAccount> {
    accounts
        .into_iter()
        .filter_map(|mut a| {
            a.access_token = key
                .open(&a.access_token)
                .map_err(|e| tracing::warn!(account = %a.account, error = %e, "token not opened"))
                .ok()?;
            if !a.app_secret.is_empty() {
                a.app_secret = key.open(&a.app_secret).ok()?;
            }
            Some(a)
        })
        .collect()
}

impl Sender {
    /// Sends what is due on the social channels through `accounts` (secrets opened).
    pub async fn send_due(
        &mut self,
        store: &dyn Store,
        accounts: &[SocialAccount],
        client: &reqwest::Client,
        now: Timestamp,
        limit: u32,
    ) -> Result<SendReport, StoreError> {
        let mut report = SendReport::default();
        let mut health: HashMap<(i64, Channel), (bool, String)> = HashMap::new();
        for channel in CHANNELS {
            let due = store
                .claim_outbox(channel, now, SignedDuration::from_secs(120), limit)
                .await?;
            let mut sent = Vec::new();
            for item in due {
                let outcome = self.send_one(accounts, client, &item, now).await;
                let key = (item.tenant_id, channel);
                match outcome {
                    Ok(()) => {
                        sent.push(item.id);
                        health.entry(key).or_insert((true, "sending".to_string()));
                    }
                    Err(Failure::Wait(until, why)) => {
                        store.outbox_retry(item.id, until, &why).await?;
                        report.retried += 1;
                        health.insert(key, (false, why));
                    }
                    Err(Failure::Api(e)) => {
                        let permanent = matches!(e, ApiError::Refused(_));
                        let why = e.to_string();
                        if permanent || item.attempts >= MAX_ATTEMPTS {
                            tracing::warn!(outbox = item.id, error = %why, "social message given up");
                            store.outbox_failed(item.id, &why).await?;
                            report.failed += 1;
                        } else {
                            let until = match &e {
                                ApiError::TokenExpired(_) => now + SignedDuration::from_mins(10),
                                _ => now + backoff(item.attempts),
                            };
                            store.outbox_retry(item.id, until, &why).await?;
                            report.retried += 1;
                        }
                        if !permanent {
                            health.insert(key, (false, why));
                        }
                    }
                }
            }
            report.sent += sent.len();
            if !sent.is_empty() {
                store.outbox_sent(&sent, now).await?;
            }
        }
        for ((tenant_id, channel), (ok, detail)) in health {
            store
                .set_connector_status(&ConnectorStatus {
                    tenant_id,
                    connector: channel.as_str().to_string(),
                    ok,
                    detail,
                    at: now,
                })
                .await?;
        }
        Ok(report)
    }

    async fn send_one(
        &mut self,
        accounts: &[SocialAccount],
        client: &reqwest::Client,
        item: &OutboxItem,
        now: Timestamp,
    ) -> Result<(), Failure> {
        let address = Address::parse(&item.recipient)
            .map_err(|e| Failure::Api(ApiError::Refused(e.to_string())))?;
        let account = accounts.iter().find(|a| {
            a.tenant_id == item.tenant_id
                && a.channel == item.channel
                && a.account == address.account
        });
        let Some(account) = account.filter(|a| a.approved) else {
            return Err(Failure::Wait(
                now + SignedDuration::from_mins(5),
                format!(
                    "the {} account {} is not approved in the channel registry; the message waits",
                    item.channel, address.account
                ),
            ));
        };
        let key = (item.tenant_id, item.channel, address.account.clone());
        if let Some(until) = self.paused.get(&key).filter(|until| **until > now) {
            return Err(Failure::Wait(
                *until,
                "rate limited by the network; waiting".into(),
            ));
        }
        let result = match item.channel {
            Channel::Mastodon => {
                Mastodon::new(client.clone(), &account.api_base, &account.access_token)
                    .reply(&address.target, &item.body, &item.header_id)
                    .await
                    .map(drop)
            }
            channel => {
                let graph = Graph::new(client.clone(), &account.api_base, &account.access_token);
                // A retry of an answer under a comment first looks whether it went out.
                // If the answers cannot be read (no permission), it is sent: at least once.
                let answered = match &address.target {
                    Target::Comment(comment) if item.attempts > 1 => match graph
                        .has_answered(channel, &account.account, comment, &item.body)
                        .await
                    {
                        Err(ApiError::Refused(_)) => Ok(false),
                        other => other,
                    },
                    _ => Ok(false),
                };
                match answered {
                    Ok(true) => Ok(()),
                    Ok(false) => graph
                        .send(channel, &account.account, &address.target, &item.body)
                        .await
                        .map(drop),
                    Err(e) => Err(e),
                }
            }
        };
        match result {
            Err(ApiError::RateLimited(wait)) => {
                let until =
                    now + SignedDuration::try_from(wait).unwrap_or(SignedDuration::from_mins(1));
                self.paused.insert(key, until);
                Err(Failure::Wait(
                    until,
                    format!("rate limited by the network; waiting {} s", wait.as_secs()),
                ))
            }
            Err(e) => Err(Failure::Api(e)),
            Ok(()) => Ok(()),
        }
    }
}

enum Failure {
    /// Try again at this time, without counting it against the message.
    Wait(Timestamp, String),
    Api(ApiError),
}

/// Reads each approved Mastodon account's new mentions into inquiries; returns how many
/// were new. The cursor moves only after what it covers is stored.
pub async fn poll_mastodon(
    store: &dyn Store,
    accounts: &[SocialAccount],
    client: &reqwest::Client,
    limits: IntakeLimits,
    acknowledgements: &Acknowledgements,
) -> Result<usize, StoreError> {
    let mut new = 0;
    let mut configs: HashMap<i64, Arc<TenantConfig>> = HashMap::new();
    for account in accounts
        .iter()
        .filter(|a| a.channel == Channel::Mastodon && a.approved)
    {
        let now = Timestamp::now();
        let api = Mastodon::new(client.clone(), &account.api_base, &account.access_token);
        let status = match api
            .mentions_since(&account.account, &account.cursor, 20)
            .await
        {
            Ok(found) => {
                let config = match configs.get(&account.tenant_id) {
                    Some(c) => c.clone(),
                    None => {
                        let Some(m) = store.municipality(account.tenant_id).await? else {
                            continue;
                        };
                        let c = Arc::new(TenantConfig::load(store, m).await?);
                        configs.insert(account.tenant_id, c.clone());
                        c
                    }
                };
                let ack = acknowledgements.for_tenant(config.clone());
                let mut taken = 0;
                let mut failed = None;
                for event in &found.events {
                    match receive_social(store, &config, event, limits, now, Some(&*ack)).await {
                        Ok(torg_core::social::SocialOutcome::Created { .. }) => taken += 1,
                        Ok(_) => {}
                        Err(torg_core::intake::IntakeError::Store(e)) => return Err(e),
                        Err(e) => failed = Some(e.to_string()),
                    }
                }
                new += taken;
                if found.cursor != account.cursor {
                    store
                        .set_social_cursor(
                            account.tenant_id,
                            Channel::Mastodon,
                            &account.account,
                            &found.cursor,
                        )
                        .await?;
                }
                match failed {
                    Some(e) => (false, format!("a mention was not taken: {e}")),
                    None => (true, format!("{taken} new mentions")),
                }
            }
            Err(e) => (false, e.to_string()),
        };
        store
            .set_connector_status(&ConnectorStatus {
                tenant_id: account.tenant_id,
                connector: "mastodon-in".into(),
                ok: status.0,
                detail: status.1,
                at: now,
            })
            .await?;
    }
    Ok(new)
}

/// How often the tasks run.
#[derive(Debug, Clone, Copy)]
pub struct Intervals {
    pub send: Duration,
    pub poll: Duration,
}

impl Default for Intervals {
    fn default() -> Self {
        Intervals {
            send: Duration::from_secs(1),
            poll: Duration::from_secs(30),
        }
    }
}

/// Starts the sender and the Mastodon reader; they run until the process ends.
pub fn spawn(
    store: Arc<dyn Store>,
    key: SecretKey,
    client: reqwest::Client,
    limits: IntakeLimits,
    acknowledgements: Acknowledgements,
    intervals: Intervals,
) {
    let (send_store, send_key, send_client) = (store.clone(), key.clone(), client.clone());
    tokio::spawn(async move {
        let mut sender = Sender::default();
        loop {
            match send_store.social_accounts(None).await {
                Ok(all) if !all.is_empty() => {
                    let accounts = opened(all, &send_key);
                    match sender
                        .send_due(&*send_store, &accounts, &send_client, Timestamp::now(), 200)
                        .await
                    {
                        Ok(r) if r.sent + r.retried + r.failed > 0 => continue,
                        Ok(_) => {}
                        Err(e) => tracing::warn!(error = %e, "social sender"),
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "social accounts not read"),
            }
            tokio::time::sleep(intervals.send).await;
        }
    });
    tokio::spawn(async move {
        loop {
            match store.social_accounts(None).await {
                Ok(all) => {
                    let accounts = opened(all, &key);
                    if let Err(e) =
                        poll_mastodon(&*store, &accounts, &client, limits, &acknowledgements).await
                    {
                        tracing::warn!(error = %e, "Mastodon reader");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "social accounts not read"),
            }
            tokio::time::sleep(intervals.poll).await;
        }
    });
}
