//! Listening's reader: RSS and Atom feeds fetched with conditional requests (`If-None-Match`,
//! `If-Modified-Since`; a 304 costs nothing) and parsed by `feed-rs`, Mastodon hashtags read
//! from the instance's public tag timeline and Mastodon searches from its search API (with
//! the municipality's own account there), each since the newest status seen. Each pass claims the
//! sources that are due (other nodes skip them), reads them side by side, hands the items to
//! `torg_core::listening::take_items`, records how each check went (a failure backs off from
//! five minutes to six hours), and then tells the person on duty of what is new.

use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::Arc;
use torg_core::listening::{Notify, notify_new, take_items};
use torg_domain::TenantId;
use torg_domain::connector::{HostRules, url_host};
use torg_domain::listening::{CHECK_EVERY, Item, Keywords, SourceKind, backoff, split_tag};
use torg_domain::social::html_to_text;
use torg_store::{ListeningSource, SocialAccount, SourceChecked, Store, StoreError};

/// The largest feed or timeline read, in bytes.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// How many sources are read at once.
pub const LANES: usize = 16;
/// How long a node holds the sources it claimed.
const LEASE: SignedDuration = SignedDuration::from_mins(2);

/// What a read found.
#[derive(Debug, PartialEq)]
pub enum Fetched {
    /// The source has not changed since the last read (304).
    NotModified,
    Items {
        items: Vec<Item>,
        etag: Option<String>,
        last_modified: Option<String>,
        cursor: Option<String>,
    },
}

fn header(res: &reqwest::Response, name: reqwest::header::HeaderName) -> Option<String> {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn body(res: reqwest::Response) -> Result<Vec<u8>, String> {
    if res.content_length().is_some_and(|n| n > MAX_BYTES as u64) {
        return Err(format!("larger than {MAX_BYTES} bytes"));
    }
    let mut res = res;
    let mut out = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| format!("the answer broke off: {}", e.without_url()))?
    {
        if out.len() + chunk.len() > MAX_BYTES {
            return Err(format!("larger than {MAX_BYTES} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Reads a feed: conditional on what the last good answer said.
pub async fn fetch_feed(
    client: &reqwest::Client,
    url: &str,
    etag: Option<&str>,
    last_modified: Option<&str>,
) -> Result<Fetched, String> {
    let mut req = client.get(url);
    if let Some(e) = etag {
        req = req.header(reqwest::header::IF_NONE_MATCH, e);
    }
    if let Some(m) = last_modified {
        req = req.header(reqwest::header::IF_MODIFIED_SINCE, m);
    }
    let res = req
        .send()
        .await
        .map_err(|e| format!("no answer: {}", e.without_url()))?;
    if res.status() == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(Fetched::NotModified);
    }
    if !res.status().is_success() {
        return Err(format!("the server answered {}", res.status()));
    }
    let etag = header(&res, reqwest::header::ETAG);
    let last_modified = header(&res, reqwest::header::LAST_MODIFIED);
    let bytes = body(res).await?;
    let feed = feed_rs::parser::parse(bytes.as_slice())
        .map_err(|e| format!("not an RSS or Atom feed: {e}"))?;
    let items = feed
        .entries
        .into_iter()
        .map(|e| {
            let link = e.links.first().map(|l| l.href.clone()).unwrap_or_default();
            let summary = e
                .summary
                .map(|s| s.content)
                .or_else(|| e.content.and_then(|c| c.body))
                .unwrap_or_default();
            Item {
                guid: if e.id.is_empty() { link.clone() } else { e.id },
                title: e
                    .title
                    .map(|t| html_to_text(&t.content))
                    .unwrap_or_default(),
                link,
                summary: html_to_text(&summary),
                published: e
                    .published
                    .or(e.updated)
                    .and_then(|d| Timestamp::from_second(d.timestamp()).ok()),
            }
            .trimmed()
        })
        .collect();
    Ok(Fetched::Items {
        items,
        etag,
        last_modified,
        cursor: None,
    })
}

#[derive(serde::Deserialize)]
struct Status {
    id: String,
    #[serde(default)]
    url: Option<String>,
    content: String,
    #[serde(default)]
    created_at: Option<String>,
    account: Account,
}

#[derive(serde::Deserialize)]
struct Account {
    acct: String,
}

#[derive(serde::Deserialize)]
struct SearchResults {
    statuses: Vec<Status>,
}

/// Reads a hashtag's public timeline newer than `cursor` (the newest page when there is
/// none yet).
pub async fn fetch_tag(
    client: &reqwest::Client,
    address: &str,
    cursor: Option<&str>,
) -> Result<Fetched, String> {
    let (instance, tag) = split_tag(address).ok_or("not a hashtag source")?;
    let mut url = reqwest::Url::parse(&format!("{instance}/api/v1/timelines/tag/"))
        .and_then(|u| u.join(tag))
        .map_err(|_| "not a hashtag source")?;
    url.query_pairs_mut().append_pair("limit", "40");
    let res = mastodon_get(client.get(url), cursor).await?;
    let statuses: Vec<Status> = serde_json::from_slice(&body(res).await?)
        .map_err(|e| format!("a timeline that is not Mastodon's JSON: {e}"))?;
    Ok(statuses_read(statuses, cursor))
}

/// Searches the posts of a Mastodon instance for a source's words, newer than `cursor`, as
/// the municipality's account there (`token`): Mastodon searches posts only for a
/// signed-in account.
pub async fn fetch_search(
    client: &reqwest::Client,
    address: &str,
    cursor: Option<&str>,
    token: Option<&str>,
) -> Result<Fetched, String> {
    let (instance, words) = split_tag(address).ok_or("not a search source")?;
    let Some(token) = token else {
        return Err(
            "searching posts on Mastodon needs the municipality's own approved \
                    Mastodon account on this instance (set it on the connector page)"
                .into(),
        );
    };
    let mut url = reqwest::Url::parse(&format!("{instance}/api/v2/search"))
        .map_err(|_| "not a search source")?;
    url.query_pairs_mut()
        .append_pair("q", words)
        .append_pair("type", "statuses")
        .append_pair("resolve", "false")
        .append_pair("limit", "40");
    let res = mastodon_get(client.get(url).bearer_auth(token), cursor).await?;
    let found: SearchResults = serde_json::from_slice(&body(res).await?)
        .map_err(|e| format!("search results that are not Mastodon's JSON: {e}"))?;
    Ok(statuses_read(found.statuses, cursor))
}

/// Sends a Mastodon read asking for what is newer than `cursor`.
async fn mastodon_get(
    req: reqwest::RequestBuilder,
    cursor: Option<&str>,
) -> Result<reqwest::Response, String> {
    let req = match cursor.filter(|c| !c.is_empty()) {
        Some(c) => req.query(&[("min_id", c)]),
        None => req,
    };
    let res = req
        .send()
        .await
        .map_err(|e| format!("no answer: {}", e.without_url()))?;
    if !res.status().is_success() {
        return Err(format!("the server answered {}", res.status()));
    }
    Ok(res)
}

/// Statuses as listening's items, and the newest id seen (the next read's `min_id`).
fn statuses_read(statuses: Vec<Status>, cursor: Option<&str>) -> Fetched {
    // Mastodon's ids are numbers written as strings: longer is newer.
    let newest = statuses
        .iter()
        .map(|s| s.id.as_str())
        .chain(cursor)
        .max_by(|a, b| (a.len(), a).cmp(&(b.len(), b)))
        .map(str::to_string);
    let items = statuses
        .into_iter()
        .map(|s| {
            let text = html_to_text(&s.content);
            Item {
                title: format!(
                    "@{}: {}",
                    s.account.acct,
                    text.chars().take(120).collect::<String>()
                ),
                link: s.url.unwrap_or_default(),
                summary: text,
                published: s.created_at.and_then(|c| c.parse().ok()),
                guid: s.id,
            }
            .trimmed()
        })
        .collect();
    Fetched::Items {
        items,
        etag: None,
        last_modified: None,
        cursor: newest,
    }
}

/// The reader's HTTP client: it follows a redirect only to a host the installation lets
/// connectors reach (`connector_hosts`), and gives up after 20 seconds.
pub fn client(hosts: HostRules) -> reqwest::Client {
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        let allowed = attempt.url().host_str().is_some_and(|h| hosts.allows(h));
        if attempt.previous().len() >= 5 || !allowed {
            attempt.stop()
        } else {
            attempt.follow()
        }
    });
    reqwest::Client::builder()
        .redirect(policy)
        .timeout(std::time::Duration::from_secs(20))
        .user_agent("Torg listening (+https://torg.example)")
        .build()
        .unwrap_or_default()
}

async fn fetch(
    client: &reqwest::Client,
    hosts: &HostRules,
    mastodon: &[SocialAccount],
    s: &ListeningSource,
) -> Result<Fetched, String> {
    let host = url_host(split_tag(&s.address).map_or(s.address.as_str(), |(i, _)| i));
    if !host.as_deref().is_some_and(|h| hosts.allows(h)) {
        return Err(
            "not among the hosts this installation lets connectors reach (connector_hosts)".into(),
        );
    }
    match s.kind {
        SourceKind::Feed => {
            fetch_feed(
                client,
                &s.address,
                s.etag.as_deref(),
                s.last_modified.as_deref(),
            )
            .await
        }
        SourceKind::MastodonTag => fetch_tag(client, &s.address, s.cursor.as_deref()).await,
        SourceKind::MastodonSearch => {
            // The municipality's own approved account on that instance searches.
            let token = mastodon
                .iter()
                .find(|a| {
                    a.tenant_id == s.tenant_id
                        && a.channel == torg_domain::Channel::Mastodon
                        && a.approved
                        && url_host(&a.api_base) == host
                })
                .map(|a| a.access_token.as_str());
            fetch_search(client, &s.address, s.cursor.as_deref(), token).await
        }
        // Never due: its matches come as the comments arrive.
        SourceKind::OwnPages => Ok(Fetched::NotModified),
    }
}

/// One pass: reads every source due at `now` (claimed in rounds), keeps what matched, tells
/// of it; Mastodon searches are made with the municipality's account in `mastodon` (secrets
/// opened). Returns (sources read, new matches).
pub async fn pass(
    store: &dyn Store,
    client: &reqwest::Client,
    hosts: &HostRules,
    mastodon: &[SocialAccount],
    notify: &Notify,
    now: Timestamp,
) -> Result<(usize, u64), StoreError> {
    let mut keywords: HashMap<TenantId, Arc<Keywords>> = HashMap::new();
    let (mut read, mut found) = (0, 0);
    loop {
        let due = store.claim_listening_sources(now, LEASE, 256).await?;
        if due.is_empty() {
            break;
        }
        for s in &due {
            if let std::collections::hash_map::Entry::Vacant(e) = keywords.entry(s.tenant_id) {
                let words = store.listening_keywords(s.tenant_id).await?;
                e.insert(Arc::new(Keywords::new(&words)));
            }
        }
        let mut checks = futures_util::stream::iter(due.into_iter().map(|s| async move {
            let got = fetch(client, hosts, mastodon, &s).await;
            (s, got)
        }))
        .buffer_unordered(LANES);
        while let Some((s, got)) = checks.next().await {
            read += 1;
            let checked = match got {
                Ok(Fetched::NotModified) => SourceChecked {
                    error: None,
                    etag: s.etag.clone(),
                    last_modified: s.last_modified.clone(),
                    cursor: s.cursor.clone(),
                    next_check_at: now + CHECK_EVERY,
                },
                Ok(Fetched::Items {
                    items,
                    etag,
                    last_modified,
                    cursor,
                }) => {
                    let words = keywords.get(&s.tenant_id).cloned().unwrap_or_default();
                    found += take_items(store, s.tenant_id, s.id, &words, items, now).await?;
                    SourceChecked {
                        error: None,
                        etag,
                        last_modified,
                        cursor: cursor.or(s.cursor.clone()),
                        next_check_at: now + CHECK_EVERY,
                    }
                }
                Err(why) => {
                    tracing::info!(source = s.id, error = %why, "a listening source failed");
                    SourceChecked {
                        error: Some(why),
                        etag: None,
                        last_modified: None,
                        cursor: None,
                        next_check_at: now + backoff(s.failures + 1),
                    }
                }
            };
            store
                .listening_source_checked(s.tenant_id, s.id, &checked, now)
                .await?;
        }
    }
    notify_new(store, notify, now).await?;
    Ok((read, found))
}

/// Reads due sources every ten seconds until `shutdown` turns true; the Mastodon accounts
/// (for searches) are read before each pass and opened with `key`.
pub async fn run(
    store: Arc<dyn Store>,
    key: torg_core::sealing::SecretKey,
    hosts: HostRules,
    notify: Notify,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let client = client(hosts.clone());
    while !*shutdown.borrow() {
        let mastodon =
            crate::worker::approved_accounts(&*store, &key, Some(torg_domain::Channel::Mastodon))
                .await;
        match pass(
            &*store,
            &client,
            &hosts,
            &mastodon,
            &notify,
            Timestamp::now(),
        )
        .await
        {
            Ok((_, 0)) => {}
            Ok((read, found)) => tracing::info!(read, found, "listening found new matches"),
            Err(e) => tracing::warn!(error = %e, "listening failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(10)) => {}
            _ = shutdown.changed() => {}
        }
    }
}
