//! Reach read back (rekkevidde): the reactions, comments and shares of the posts Torg
//! published on Facebook, Instagram and Mastodon, read from each account's newest posts
//! (one request per account, however many posts) every quarter of an hour for 30 days
//! after publishing, and kept with the posts for the evaluation page. A post that has
//! fallen out of the account's newest 40–50 keeps its last reading.

use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;
use std::sync::Arc;
use torg_core::sealing::SecretKey;
use torg_domain::Channel;
use torg_domain::connector::{HostRules, url_host};
use torg_store::{PublishedPost, SocialAccount, Store, StoreError};

use crate::graph::Graph;
use crate::mastodon::Mastodon;

pub use torg_domain::evaluation::Counted;

/// How long after publishing a post's reach is read.
pub const READ_FOR: SignedDuration = SignedDuration::from_hours(30 * 24);
/// How often.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// The most posts read back in one pass.
const MAX_POSTS: u32 = 10_000;

/// One pass: the posts published in the last [`READ_FOR`], grouped by the account they
/// went out from, each account asked once (with its token, from `accounts`, secrets
/// opened; only approved accounts on hosts connectors may reach). Returns how many posts
/// were read back.
pub async fn pass(
    store: &dyn Store,
    client: &reqwest::Client,
    hosts: &HostRules,
    accounts: &[SocialAccount],
    now: Timestamp,
) -> Result<usize, StoreError> {
    let posts = store.published_posts(now - READ_FOR, MAX_POSTS).await?;
    let mut by_account: BTreeMap<(i64, &str, &str), Vec<&PublishedPost>> = BTreeMap::new();
    for p in &posts {
        by_account
            .entry((p.tenant_id.get(), p.channel.as_str(), p.account.as_str()))
            .or_default()
            .push(p);
    }
    let mut read = 0;
    for ours in by_account.into_values() {
        let first = ours[0];
        let Some(account) = accounts.iter().find(|a| {
            a.tenant_id == first.tenant_id
                && a.channel == first.channel
                && a.account == first.account
                && a.approved
                && url_host(&a.api_base).is_some_and(|h| hosts.allows(&h))
        }) else {
            continue;
        };
        let counted = match first.channel {
            Channel::Mastodon => {
                Mastodon::new(client.clone(), &account.api_base, &account.access_token)
                    .reach(&account.account)
                    .await
            }
            channel => {
                Graph::new(client.clone(), &account.api_base, &account.access_token)
                    .reach(channel, &account.account)
                    .await
            }
        };
        match counted {
            Ok(counted) => {
                read += torg_core::evaluation::record_reach(store, &ours, &counted, now).await?;
            }
            Err(e) => {
                // A network may echo the token in its error: never logged.
                let why = torg_domain::secret::redact(&e.to_string(), &account.secrets());
                tracing::info!(tenant = %first.tenant_id, channel = %first.channel, error = %why, "reach not read back");
            }
        }
    }
    Ok(read)
}

/// Reads reach back every [`EVERY`] until `shutdown` turns true.
pub async fn run(
    store: Arc<dyn Store>,
    key: SecretKey,
    hosts: HostRules,
    client: reqwest::Client,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        let accounts = crate::worker::approved_accounts(&*store, &key, None).await;
        match pass(&*store, &client, &hosts, &accounts, Timestamp::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(posts = n, "reach read back"),
            Err(e) => tracing::warn!(error = %e, "reach not read back"),
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = shutdown.changed() => {}
        }
    }
}
