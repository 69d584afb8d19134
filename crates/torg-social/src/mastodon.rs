//! Mastodon's client API, as Torg uses it: the account's mentions (direct messages are
//! mentions with visibility `direct`) read from `GET /api/v1/notifications` since the last
//! one seen, page by page through the `Link` header's `rel="prev"` (newer) links; answers
//! posted with `POST /api/v1/statuses` in reply to the citizen's status, with an
//! `Idempotency-Key` so that a retry never posts twice.

use crate::api::{ApiError, same_origin};
use serde::Deserialize;
use serde_json::json;
use torg_core::social::{EventKind, SocialEvent};
use torg_domain::Channel;
use torg_domain::social::{
    MASTODON_STATUS_CHARS, Target, Visibility, html_to_text, split_text, without_leading_mentions,
};

#[derive(Clone)]
pub struct Mastodon {
    client: reqwest::Client,
    /// The server, e.g. https://mastodon.example
    base: String,
    token: String,
}

#[derive(Deserialize)]
struct Notification {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    account: Account,
    #[serde(default)]
    status: Option<Status>,
}

#[derive(Deserialize)]
struct Account {
    acct: String,
    #[serde(default)]
    display_name: String,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    visibility: String,
    content: String,
}

/// What a poll found: the mentions, oldest first, and the cursor to read on from.
#[derive(Debug, Default)]
pub struct Mentions {
    pub events: Vec<SocialEvent>,
    pub cursor: String,
}

/// Mastodon's ids are numbers written as strings: longer is newer.
fn newer(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

/// The `rel="prev"` link of a `Link` header: the page of newer items.
fn prev_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"prev\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

impl Mastodon {
    pub fn new(client: reqwest::Client, base: &str, token: &str) -> Mastodon {
        Mastodon {
            client,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        }
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::header::HeaderMap, String), ApiError> {
        crate::api::send(request, &self.token).await
    }

    /// The mentions of `account` newer than `cursor` (all pages, at most `max_pages`). With
    /// no cursor, the newest page only: an account that joins does not import its history.
    pub async fn mentions_since(
        &self,
        account: &str,
        cursor: &str,
        max_pages: usize,
    ) -> Result<Mentions, ApiError> {
        let mut url = format!(
            "{}/api/v1/notifications?types[]=mention&limit=40",
            self.base
        );
        if !cursor.is_empty() {
            url.push_str(&format!("&min_id={cursor}"));
        }
        let mut found = Vec::new();
        let mut newest = cursor.to_string();
        for _ in 0..max_pages.max(1) {
            let (headers, body) = self.send(self.client.get(&url)).await?;
            let page: Vec<Notification> = serde_json::from_str(&body).map_err(|e| {
                ApiError::Unavailable(format!("notifications that are not JSON: {e}"))
            })?;
            if page.is_empty() {
                break;
            }
            for n in page {
                if newer(&n.id, &newest) {
                    newest = n.id.clone();
                }
                found.push(n);
            }
            if cursor.is_empty() {
                break;
            }
            let link = headers
                .get("link")
                .and_then(|v| v.to_str().ok())
                .and_then(prev_link);
            match link {
                Some(next) if same_origin(&next, &self.base) => url = next,
                _ => break,
            }
        }
        found.sort_by(|a, b| (a.id.len(), &a.id).cmp(&(b.id.len(), &b.id)));
        found.dedup_by(|a, b| a.id == b.id);
        let events = found
            .into_iter()
            .filter(|n| n.kind == "mention")
            .filter_map(|n| {
                let status = n.status?;
                let visibility = Visibility::parse(&status.visibility)?;
                let text = html_to_text(&status.content);
                let author = Some(n.account.display_name.trim().to_string())
                    .filter(|d| !d.is_empty())
                    .unwrap_or_else(|| format!("@{}", n.account.acct));
                Some(SocialEvent {
                    channel: Channel::Mastodon,
                    account: account.to_string(),
                    kind: EventKind::Mention {
                        status_id: status.id,
                        acct: n.account.acct,
                        visibility,
                    },
                    author: Some(author),
                    text: without_leading_mentions(&text).to_string(),
                })
            })
            .collect();
        Ok(Mentions {
            events,
            cursor: newest,
        })
    }

    /// Answers a status: `@acct` first so that it reaches them, in the status's visibility,
    /// as a thread of parts when it is longer than a status may be. Each part carries
    /// `idempotency_key` and its number, so a retry posts nothing twice. Returns the last
    /// part's id.
    pub async fn reply(
        &self,
        target: &Target,
        text: &str,
        idempotency_key: &str,
    ) -> Result<String, ApiError> {
        let Target::Status {
            id,
            acct,
            visibility,
        } = target
        else {
            return Err(ApiError::Refused(
                "only a Mastodon status can be answered on Mastodon".into(),
            ));
        };
        let mention = format!("@{acct} ");
        let room = MASTODON_STATUS_CHARS.saturating_sub(mention.chars().count());
        let mut in_reply_to = id.clone();
        for (n, part) in split_text(text, room).into_iter().enumerate() {
            let body = json!({
                "status": format!("{mention}{part}"),
                "in_reply_to_id": in_reply_to,
                "visibility": visibility.as_str(),
            });
            let (_, answer) = self
                .send(
                    self.client
                        .post(format!("{}/api/v1/statuses", self.base))
                        .header("Idempotency-Key", format!("{idempotency_key}-{n}"))
                        .json(&body),
                )
                .await?;
            let posted: serde_json::Value = serde_json::from_str(&answer)
                .map_err(|e| ApiError::Unavailable(format!("an answer that is not JSON: {e}")))?;
            in_reply_to = posted
                .get("id")
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_string();
        }
        Ok(in_reply_to)
    }

    /// The newest statuses of `account` (its id) with their favourites, replies and boosts.
    pub async fn reach(&self, account: &str) -> Result<Vec<crate::reach::Counted>, ApiError> {
        let (_, answer) = self
            .send(self.client.get(format!(
                "{}/api/v1/accounts/{account}/statuses?limit=40&exclude_replies=true",
                self.base
            )))
            .await?;
        let statuses: Vec<serde_json::Value> = serde_json::from_str(&answer)
            .map_err(|e| ApiError::Unavailable(format!("an answer that is not JSON: {e}")))?;
        let count = |s: &serde_json::Value, k: &str| s.get(k).and_then(|v| v.as_i64()).unwrap_or(0);
        Ok(statuses
            .iter()
            .map(|s| {
                let text = |k: &str| s.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
                crate::reach::Counted {
                    id: text("id"),
                    address: text("url"),
                    reactions: count(s, "favourites_count"),
                    comments: count(s, "replies_count"),
                    shares: count(s, "reblogs_count"),
                }
            })
            .collect())
    }

    /// Publishes a public status of the account's own (a published message), at most one
    /// status long; `idempotency_key` makes a retry post nothing twice. Returns the status's
    /// address on the network.
    pub async fn publish(&self, text: &str, idempotency_key: &str) -> Result<String, ApiError> {
        let text: String = text.chars().take(MASTODON_STATUS_CHARS).collect();
        let body = json!({ "status": text, "visibility": "public" });
        let (_, answer) = self
            .send(
                self.client
                    .post(format!("{}/api/v1/statuses", self.base))
                    .header("Idempotency-Key", idempotency_key)
                    .json(&body),
            )
            .await?;
        let posted: serde_json::Value = serde_json::from_str(&answer)
            .map_err(|e| ApiError::Unavailable(format!("an answer that is not JSON: {e}")))?;
        Ok(posted
            .get("url")
            .or_else(|| posted.get("id"))
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_give_the_newer_page() {
        let h = r#"<https://m.example/api/v1/notifications?max_id=34975535>; rel="next", <https://m.example/api/v1/notifications?min_id=34975861>; rel="prev""#;
        assert_eq!(
            prev_link(h).as_deref(),
            Some("https://m.example/api/v1/notifications?min_id=34975861")
        );
        assert_eq!(prev_link(r#"<https://x/a>; rel="next""#), None);
        assert_eq!(prev_link(""), None);
    }

    #[test]
    fn ids_compare_as_numbers() {
        assert!(newer("100", "99"));
        assert!(!newer("99", "100"));
        assert!(newer("5", ""));
    }
}
