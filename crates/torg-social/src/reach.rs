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
use torg_store::{PostReading, PublishedPost, SocialAccount, Store, StoreError};

use crate::graph::Graph;
use crate::mastodon::Mastodon;

/// What a network counts of one of an account's posts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    /// The network's id of the post.
    pub id: String,
    /// Its address (permalink), where the network gives one.
    pub address: String,
    pub reactions: i64,
    pub comments: i64,
    pub shares: i64,
}

/// How long after publishing a post's reach is read.
pub const READ_FOR: SignedDuration = SignedDuration::from_hours(30 * 24);
/// How often.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);
/// The most posts read back in one pass.
const MAX_POSTS: u32 = 10_000;

/// Whether a network's counted post is the one Torg keeps as `address` (what the network
/// answered when it took the post: its address, or its id; Mastodon's addresses end in the
/// status's id).
fn is_post(address: &str, c: &Counted) -> bool {
    (!c.address.is_empty() && address == c.address)
        || (!c.id.is_empty() && (address == c.id || address.rsplit('/').next() == Some(&c.id)))
}

/// The readings of `posts` among what the network counted.
pub fn readings(posts: &[&PublishedPost], counted: &[Counted]) -> Vec<PostReading> {
    posts
        .iter()
        .filter_map(|p| {
            counted
                .iter()
                .find(|c| is_post(&p.address, c))
                .map(|c| PostReading {
                    outbox_id: p.outbox_id,
                    reactions: c.reactions,
                    comments: c.comments,
                    shares: c.shares,
                })
        })
        .collect()
}

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
                let found = readings(&ours, &counted);
                read += found.len();
                store
                    .record_post_reach(first.tenant_id, &found, now)
                    .await?;
            }
            Err(e) => {
                tracing::info!(tenant = %first.tenant_id, channel = %first.channel, error = %e, "reach not read back");
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

#[cfg(test)]
mod tests {
    use super::*;

    fn counted(id: &str, address: &str, n: i64) -> Counted {
        Counted {
            id: id.into(),
            address: address.into(),
            reactions: n,
            comments: n + 1,
            shares: n + 2,
        }
    }

    #[test]
    fn posts_are_known_by_address_or_id() {
        let post = |id, address: &str| PublishedPost {
            outbox_id: id,
            tenant_id: torg_domain::TenantId(1),
            channel: Channel::Mastodon,
            account: "1".into(),
            address: address.into(),
        };
        let ours = [
            post(1, "https://m.example/@kommune/110001"),
            post(2, "PAGE_7"),
            post(3, "https://www.instagram.com/p/P5/"),
            post(4, "https://gone.example/9"),
        ];
        let refs: Vec<&PublishedPost> = ours.iter().collect();
        let found = readings(
            &refs,
            &[
                counted("110001", "", 1),
                counted("PAGE_7", "https://www.facebook.com/PAGE/posts/7", 5),
                counted("1790", "https://www.instagram.com/p/P5/", 9),
                counted("", "", 100),
            ],
        );
        let got: Vec<(i64, i64)> = found.iter().map(|r| (r.outbox_id, r.reactions)).collect();
        assert_eq!(got, vec![(1, 1), (2, 5), (3, 9)]);
        assert_eq!((found[0].comments, found[0].shares), (2, 3));
    }
}
