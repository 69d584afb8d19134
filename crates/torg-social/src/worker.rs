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
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use torg_core::acknowledge::Acknowledgements;
use torg_core::delivery::{Deliver, Outcome};
use torg_core::intake::{IntakeLimits, TenantConfig};
use torg_core::sealing::{Place, SecretKey};
use torg_core::social::receive_social;
use torg_domain::Channel;
use torg_domain::TenantId;
use torg_domain::connector::HostRules;
use torg_domain::social::{Address, Target};
use torg_store::{
    ChannelSettings, ConnectorStatus, Directory, OutboxItem, SocialAccount, Store, StoreError,
};

pub const CHANNELS: [Channel; 3] = [Channel::Facebook, Channel::Instagram, Channel::Mastodon];

/// The key an account is known by between passes.
type AccountKey = (TenantId, Channel, String);

/// The approved accounts (of `channel`, or every one) with their secrets opened; none when
/// the store cannot say (logged).
pub async fn approved_accounts(
    store: &dyn Store,
    key: &SecretKey,
    channel: Option<Channel>,
) -> Vec<SocialAccount> {
    match store.social_accounts(None).await {
        Ok(all) => opened(
            all.into_iter()
                .filter(|a| a.approved && channel.is_none_or(|c| a.channel == c))
                .collect(),
            key,
        ),
        Err(e) => {
            tracing::warn!(error = %e, "social accounts not read");
            vec![]
        }
    }
}

/// The accounts with their token and app secret opened; those that cannot be opened are
/// left out (and logged).
pub fn opened(accounts: Vec<SocialAccount>, key: &SecretKey) -> Vec<SocialAccount> {
    accounts
        .into_iter()
        .filter_map(|mut a| {
            let (tenant, channel, account) = (a.tenant_id, a.channel.as_str(), a.account.clone());
            let token = Place::SocialToken {
                tenant,
                channel,
                account: &account,
            };
            a.access_token = key
                .open(&token, &a.access_token)
                .map_err(|e| tracing::warn!(account = %a.account, error = %e, "token not opened"))
                .ok()?;
            let secret = Place::SocialAppSecret {
                tenant,
                channel,
                account: &account,
            };
            a.app_secret = key.open(&secret, &a.app_secret).ok()?;
            Some(a)
        })
        .collect()
}

/// How one pass over the outbox went.
pub type SendReport = torg_core::delivery::PassReport;

/// Accounts paused by the network, until when; kept between passes.
type Paused = Arc<Mutex<HashMap<AccountKey, Timestamp>>>;

/// The social channels' [`Deliver`]: answers and messages through each account's API. The
/// accounts are read from the store before every pass (secrets opened with the installation's
/// key), or fixed (tests).
pub struct SocialDelivery {
    client: reqwest::Client,
    key: Option<SecretKey>,
    accounts: RwLock<Vec<SocialAccount>>,
    paused: Paused,
}

impl SocialDelivery {
    pub fn from_store(client: reqwest::Client, key: SecretKey) -> SocialDelivery {
        SocialDelivery {
            client,
            key: Some(key),
            accounts: RwLock::default(),
            paused: Paused::default(),
        }
    }

    fn account(&self, item: &OutboxItem, name: &str) -> Option<SocialAccount> {
        self.accounts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|a| {
                a.tenant_id == item.tenant_id && a.channel == item.channel && a.account == name
            })
            .cloned()
    }

    fn paused_until(&self, key: &AccountKey, now: Timestamp) -> Option<Timestamp> {
        let paused = self.paused.lock().unwrap_or_else(|e| e.into_inner());
        paused.get(key).copied().filter(|until| *until > now)
    }

    fn pause(&self, key: AccountKey, until: Timestamp) {
        self.paused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, until);
    }
}

/// Sends what is due on the social channels through accounts given per pass (tests); keeps
/// the accounts the network paused between passes.
#[derive(Default)]
pub struct Sender {
    paused: Paused,
}

impl Sender {
    /// Sends what is due on the social channels through `accounts` (secrets opened).
    pub async fn send_due(
        &mut self,
        store: &dyn torg_store::Outgoing,
        accounts: &[SocialAccount],
        client: &reqwest::Client,
        now: Timestamp,
        limit: u32,
    ) -> Result<SendReport, StoreError> {
        let social = SocialDelivery {
            client: client.clone(),
            key: None,
            accounts: RwLock::new(accounts.to_vec()),
            paused: self.paused.clone(),
        };
        torg_core::delivery::pass(store, &social, &HostRules::any(), now, limit).await
    }
}

#[async_trait]
impl Deliver for SocialDelivery {
    fn channels(&self) -> &[Channel] {
        &CHANNELS
    }
    fn connector(&self, channel: Channel) -> &'static str {
        channel.as_str()
    }

    async fn prepare(
        &self,
        settings: &dyn ChannelSettings,
        _directory: &dyn Directory,
        _items: &[OutboxItem],
    ) -> Result<(), StoreError> {
        if let Some(key) = &self.key {
            let fresh = opened(settings.social_accounts(None).await?, key);
            *self.accounts.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        }
        Ok(())
    }

    fn secrets(&self) -> Vec<String> {
        let accounts = self.accounts.read().unwrap_or_else(|e| e.into_inner());
        accounts.iter().flat_map(SocialAccount::secrets).collect()
    }

    fn destination(&self, item: &OutboxItem) -> Option<String> {
        let address = Address::parse(&item.recipient).ok()?;
        let account = self.account(item, &address.account)?;
        torg_domain::connector::url_host(&account.api_base)
    }

    async fn deliver(&self, _lane: usize, item: &OutboxItem, now: Timestamp) -> Outcome {
        let address = match Address::parse(&item.recipient) {
            Ok(a) => a,
            Err(e) => return Outcome::failed(e.to_string()),
        };
        let Some(account) = self.account(item, &address.account).filter(|a| a.approved) else {
            return Outcome::Wait {
                until: now + SignedDuration::from_mins(5),
                why: format!(
                    "the {} account {} is not approved in the channel registry; the message waits",
                    item.channel, address.account
                ),
            };
        };
        let key = (item.tenant_id, item.channel, address.account.clone());
        if let Some(until) = self.paused_until(&key, now) {
            return Outcome::Wait {
                until,
                why: "rate limited by the network; waiting".into(),
            };
        }
        let client = self.client.clone();
        let result = match (item.channel, &address.target) {
            (Channel::Mastodon, Target::Publish(_)) => {
                Mastodon::new(client, &account.api_base, &account.access_token)
                    .publish(&item.body, &item.header_id)
                    .await
                    .map(Some)
            }
            (channel, Target::Publish(_)) => {
                let graph = Graph::new(client, &account.api_base, &account.access_token);
                // A retry first looks whether the post went out before a crash (the Graph
                // API takes no idempotency key). If the posts cannot be read, it is posted.
                let earlier = if item.attempts > 1 {
                    match graph.published(channel, &account.account, &item.body).await {
                        Err(ApiError::Refused(_)) => Ok(None),
                        other => other,
                    }
                } else {
                    Ok(None)
                };
                match earlier {
                    Ok(Some(address)) => Ok(Some(address)),
                    Ok(None) => graph
                        .publish(channel, &account.account, &item.body, item.media.as_deref())
                        .await
                        .map(Some),
                    Err(e) => Err(e),
                }
            }
            (Channel::Mastodon, _) => {
                Mastodon::new(client, &account.api_base, &account.access_token)
                    .reply(&address.target, &item.body, &item.header_id)
                    .await
                    .map(|_| None)
            }
            (channel, _) => {
                let graph = Graph::new(client, &account.api_base, &account.access_token);
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
                    Ok(true) => Ok(None),
                    Ok(false) => graph
                        .send(channel, &account.account, &address.target, &item.body)
                        .await
                        .map(|_| None),
                    Err(e) => Err(e),
                }
            }
        };
        match result {
            Ok(None) => Outcome::Sent,
            Ok(Some(address)) => Outcome::Posted { address },
            Err(ApiError::RateLimited(wait)) => {
                let until =
                    now + SignedDuration::try_from(wait).unwrap_or(SignedDuration::from_mins(1));
                self.pause(key, until);
                Outcome::Wait {
                    until,
                    why: format!("rate limited by the network; waiting {} s", wait.as_secs()),
                }
            }
            Err(e @ ApiError::Refused(_)) => Outcome::failed(e.to_string()),
            Err(e @ ApiError::TokenExpired(_)) => Outcome::Retry {
                why: e.to_string(),
                at: Some(now + SignedDuration::from_mins(10)),
            },
            Err(e) => Outcome::retry(e.to_string()),
        }
    }
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
    let mut configs: HashMap<TenantId, Arc<TenantConfig>> = HashMap::new();
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
            Err(e) => (
                false,
                torg_domain::secret::redact(&e.to_string(), &account.secrets()),
            ),
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

/// Reads every approved Mastodon account's mentions every `interval` until `shutdown`.
#[allow(clippy::too_many_arguments)] // what `torg serve` hands every reader
pub async fn read_mastodon(
    store: Arc<dyn Store>,
    key: SecretKey,
    hosts: HostRules,
    client: reqwest::Client,
    limits: IntakeLimits,
    acknowledgements: Acknowledgements,
    interval: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        match store.social_accounts(None).await {
            Ok(all) => {
                // An instance the installation no longer lets connectors reach is not read.
                let (accounts, held): (Vec<_>, Vec<_>) =
                    opened(all, &key).into_iter().partition(|a| {
                        torg_domain::connector::url_host(&a.api_base)
                            .is_some_and(|h| hosts.allows(&h))
                    });
                for a in held.iter().filter(|a| a.channel == Channel::Mastodon) {
                    tracing::warn!(tenant = %a.tenant_id, account = %a.account, "the Mastodon instance is not among connector_hosts; not read");
                }
                if let Err(e) =
                    poll_mastodon(&*store, &accounts, &client, limits, &acknowledgements).await
                {
                    tracing::warn!(error = %e, "Mastodon reader");
                }
            }
            Err(e) => tracing::warn!(error = %e, "social accounts not read"),
        }
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = shutdown.changed() => {}
        }
    }
}
