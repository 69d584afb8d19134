//! Meta's Graph API, as Torg uses it: answer under a comment, answer a comment's author in
//! private, message a person, hide or show a comment, and list a comment's answers (pages
//! followed by `paging.next`) to see whether an answer went out before a crash.
//!
//! Facebook answers under a comment with `POST /{comment-id}/comments` and hides with
//! `is_hidden`; Instagram with `POST /{comment-id}/replies` and `hide`. Both send private
//! messages with `POST /{account-id}/messages`, to a person's id or to a comment (private
//! reply).
//!
//! Publishing: a Facebook page posts with `POST /{page-id}/feed` (`message`), or with a picture
//! `POST /{page-id}/photos` (`url`, `caption`); an Instagram account in two steps, a container
//! `POST /{ig-user-id}/media` (`image_url`, `caption`) and `POST /{ig-user-id}/media_publish`
//! (`creation_id`). The post's address is read back (`permalink_url`, Instagram's
//! `permalink`).

use crate::api::{ApiError, same_origin, send};
use serde_json::{Value, json};
use torg_domain::Channel;
use torg_domain::social::Target;

/// A client for one page or Instagram account.
#[derive(Clone)]
pub struct Graph {
    client: reqwest::Client,
    /// e.g. https://graph.facebook.com/v21.0
    base: String,
    token: String,
}

impl Graph {
    pub fn new(client: reqwest::Client, base: &str, token: &str) -> Graph {
        Graph {
            client,
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
        }
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> Result<Value, ApiError> {
        let (_, body) = send(request, &self.token).await?;
        serde_json::from_str(&body)
            .map_err(|e| ApiError::Unavailable(format!("an answer that is not JSON: {e}")))
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        let url = format!("{}/{path}", self.base);
        self.call(self.client.post(url).json(body)).await
    }

    /// Sends `text` to `target` from `account` on `channel`; returns the network's id of
    /// what was posted.
    pub async fn send(
        &self,
        channel: Channel,
        account: &str,
        target: &Target,
        text: &str,
    ) -> Result<String, ApiError> {
        let answer = match target {
            Target::Comment(id) => {
                let edge = if channel == Channel::Instagram {
                    "replies"
                } else {
                    "comments"
                };
                self.post(&format!("{id}/{edge}"), &json!({ "message": text }))
                    .await?
            }
            Target::PrivateReply(comment) => {
                self.post(
                    &format!("{account}/messages"),
                    &json!({ "recipient": { "comment_id": comment }, "message": { "text": text } }),
                )
                .await?
            }
            Target::Person(person) => {
                self.post(
                    &format!("{account}/messages"),
                    &json!({
                        "recipient": { "id": person },
                        "messaging_type": "RESPONSE",
                        "message": { "text": text }
                    }),
                )
                .await?
            }
            Target::Status { .. } => {
                return Err(ApiError::Refused(
                    "a Mastodon status cannot be answered through the Graph API".into(),
                ));
            }
            Target::Publish(_) => {
                return Err(ApiError::Refused(
                    "a publication is posted with Graph::publish".into(),
                ));
            }
        };
        Ok(answer
            .get("id")
            .or_else(|| answer.get("message_id"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string())
    }

    /// Publishes `text` (with the picture at `media`, where the network takes one) as a post of
    /// the page or account; returns the post's address on the network. Instagram takes no post
    /// without a picture.
    pub async fn publish(
        &self,
        channel: Channel,
        account: &str,
        text: &str,
        media: Option<&str>,
    ) -> Result<String, ApiError> {
        let id_of = |answer: &Value, field: &str| {
            answer
                .get(field)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| ApiError::Unavailable(format!("the answer holds no {field}")))
        };
        let (post, link_field) = match (channel, media) {
            (Channel::Instagram, None) => {
                return Err(ApiError::Refused(
                    "Instagram takes a post only with a picture".into(),
                ));
            }
            (Channel::Instagram, Some(image)) => {
                let container = self
                    .post(
                        &format!("{account}/media"),
                        &json!({ "image_url": image, "caption": text }),
                    )
                    .await?;
                let creation = id_of(&container, "id")?;
                let published = self
                    .post(
                        &format!("{account}/media_publish"),
                        &json!({ "creation_id": creation }),
                    )
                    .await?;
                (id_of(&published, "id")?, "permalink")
            }
            (Channel::Facebook, Some(image)) => {
                let photo = self
                    .post(
                        &format!("{account}/photos"),
                        &json!({ "url": image, "caption": text }),
                    )
                    .await?;
                (
                    id_of(&photo, "post_id").or_else(|_| id_of(&photo, "id"))?,
                    "permalink_url",
                )
            }
            (Channel::Facebook, None) => {
                let post = self
                    .post(&format!("{account}/feed"), &json!({ "message": text }))
                    .await?;
                (id_of(&post, "id")?, "permalink_url")
            }
            (other, _) => {
                return Err(ApiError::Refused(format!(
                    "{other} is not published through the Graph API"
                )));
            }
        };
        Ok(self.address(&post, link_field).await)
    }

    /// The newest posts (Facebook) or media (Instagram) of `account` with what the network
    /// counts of each: reactions (likes), comments, shares (Facebook only). Each post is
    /// named by its address (`permalink_url`, `permalink`) and its id.
    pub async fn reach(
        &self,
        channel: Channel,
        account: &str,
    ) -> Result<Vec<crate::reach::Counted>, ApiError> {
        let url = if channel == Channel::Instagram {
            format!(
                "{}/{account}/media?fields=id,permalink,like_count,comments_count&limit=50",
                self.base
            )
        } else {
            format!(
                "{}/{account}/posts?fields=id,permalink_url,reactions.summary(total_count).limit(0),\
                 comments.summary(total_count).limit(0),shares&limit=50",
                self.base
            )
        };
        let page = self.call(self.client.get(url)).await?;
        let count = |p: &Value, path: &[&str]| {
            path.iter()
                .try_fold(p, |v, k| v.get(k))
                .and_then(Value::as_i64)
                .unwrap_or(0)
        };
        Ok(page
            .get("data")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| {
                let text = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                if channel == Channel::Instagram {
                    crate::reach::Counted {
                        id: text("id"),
                        address: text("permalink"),
                        reactions: count(p, &["like_count"]),
                        comments: count(p, &["comments_count"]),
                        shares: 0,
                    }
                } else {
                    crate::reach::Counted {
                        id: text("id"),
                        address: text("permalink_url"),
                        reactions: count(p, &["reactions", "summary", "total_count"]),
                        comments: count(p, &["comments", "summary", "total_count"]),
                        shares: count(p, &["shares", "count"]),
                    }
                }
            })
            .collect())
    }

    /// A post's address on the network; its id when the network does not say.
    async fn address(&self, post: &str, field: &str) -> String {
        let url = format!("{}/{post}?fields={field}", self.base);
        match self.call(self.client.get(url)).await {
            Ok(answer) => answer
                .get(field)
                .and_then(Value::as_str)
                .map_or_else(|| post.to_string(), str::to_string),
            Err(_) => post.to_string(),
        }
    }

    /// The address of a post of `account` with exactly `text` among its newest, if there is
    /// one. A retry of a publication after a crash asks this first, so that a post goes out
    /// once.
    pub async fn published(
        &self,
        channel: Channel,
        account: &str,
        text: &str,
    ) -> Result<Option<String>, ApiError> {
        let (edge, text_field, link_field) = if channel == Channel::Instagram {
            ("media", "caption", "permalink")
        } else {
            ("posts", "message", "permalink_url")
        };
        let url = format!(
            "{}/{account}/{edge}?fields=id,{text_field},{link_field}&limit=25",
            self.base
        );
        let page = self.call(self.client.get(url)).await?;
        Ok(page
            .get("data")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|p| p.get(text_field).and_then(Value::as_str) == Some(text))
            .and_then(|p| p.get(link_field).or_else(|| p.get("id")))
            .and_then(Value::as_str)
            .map(str::to_string))
    }

    /// Hides (or shows again) a comment on the page.
    pub async fn hide(
        &self,
        channel: Channel,
        comment: &str,
        hidden: bool,
    ) -> Result<(), ApiError> {
        let body = if channel == Channel::Instagram {
            json!({ "hide": hidden })
        } else {
            json!({ "is_hidden": hidden })
        };
        let answer = self.post(comment, &body).await?;
        match answer.get("success").and_then(Value::as_bool) {
            Some(false) => Err(ApiError::Refused("the network did not hide it".into())),
            _ => Ok(()),
        }
    }

    /// The name a person shows, by the id the page or account knows them by: Messenger's
    /// user profile (`first_name`, `last_name`) or Instagram's (`name`, else `username`).
    /// `None` when the network gives none (the person's settings may hide it).
    pub async fn person_name(
        &self,
        channel: Channel,
        person: &str,
    ) -> Result<Option<String>, ApiError> {
        let fields = if channel == Channel::Instagram {
            "name,username"
        } else {
            "first_name,last_name"
        };
        let url = format!("{}/{person}?fields={fields}", self.base);
        let profile = self.call(self.client.get(url)).await?;
        let field = |name: &str| {
            profile
                .get(name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let name = if channel == Channel::Instagram {
            field("name").or(field("username")).map(str::to_string)
        } else {
            let parts: Vec<&str> = [field("first_name"), field("last_name")]
                .into_iter()
                .flatten()
                .collect();
            (!parts.is_empty()).then(|| parts.join(" "))
        };
        Ok(name)
    }

    /// Whether `account` has answered `comment` with exactly `text`, following every page of
    /// answers. A retry after a crash asks this first, so that an answer goes out once.
    pub async fn has_answered(
        &self,
        channel: Channel,
        account: &str,
        comment: &str,
        text: &str,
    ) -> Result<bool, ApiError> {
        let (edge, text_field) = if channel == Channel::Instagram {
            ("replies", "text")
        } else {
            ("comments", "message")
        };
        let mut url = format!(
            "{}/{comment}/{edge}?fields=from,{text_field}&limit=100",
            self.base
        );
        for _ in 0..50 {
            let page = self.call(self.client.get(&url)).await?;
            let mine = page
                .get("data")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|c| {
                    c.pointer("/from/id").and_then(Value::as_str) == Some(account)
                        && c.get(text_field).and_then(Value::as_str) == Some(text)
                });
            if mine {
                return Ok(true);
            }
            match page.pointer("/paging/next").and_then(Value::as_str) {
                Some(next) if same_origin(next, &self.base) => url = next.to_string(),
                _ => return Ok(false),
            }
        }
        Ok(false)
    }
}
