//! Meta's webhooks (Facebook pages and Instagram): the verification handshake, the
//! `X-Hub-Signature-256` check, and the payload read into events.
//!
//! Payload shapes follow Meta's documentation: `object` is `page` or `instagram`; each entry
//! is one page or account (`id`, `time`) with `changes` (page feed: `field: "feed"`,
//! `item: "comment"`, `verb: "add"`; Instagram: `field: "comments"`) and/or `messaging`
//! (Messenger and Instagram messages: `sender`, `recipient`, `timestamp`, `message`).

use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::Value;
use sha2::Sha256;
use torg_core::social::{EventKind, SocialEvent};
use torg_domain::Channel;

/// Whether `header` (`sha256=<hex>`) is the HMAC-SHA256 of `body` under the app secret.
/// Compared in constant time.
pub fn signature_is_valid(app_secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Some(expected) = from_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(app_secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// The header Meta would send for `body` (for tests, the bench and stand-ins).
pub fn sign(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(app_secret).expect("HMAC takes any key length");
    mac.update(body);
    format!("sha256={}", torg_domain::hex(&mac.finalize().into_bytes()))
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// What a payload held.
#[derive(Debug, Default)]
pub struct Parsed {
    /// Each event with its entry's time (seconds or milliseconds, as Meta sent it).
    pub events: Vec<(i64, SocialEvent)>,
    /// Changes that are no inquiry: edits, removals, likes, our own comments, echoes.
    pub ignored: usize,
}

/// Why a payload was not read.
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    #[error("the body is not a webhook payload: {0}")]
    Json(#[from] serde_json::Error),
    #[error("webhooks for {0:?} are not taken (only page and instagram)")]
    Object(String),
}

#[derive(Deserialize)]
struct Webhook {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(deserialize_with = "id_string")]
    id: String,
    #[serde(default)]
    time: i64,
    #[serde(default)]
    changes: Vec<Change>,
    #[serde(default)]
    messaging: Vec<Messaging>,
}

#[derive(Deserialize)]
struct Change {
    field: String,
    #[serde(default)]
    value: Value,
}

#[derive(Deserialize)]
struct Messaging {
    sender: Party,
    #[serde(default)]
    message: Option<MessageBody>,
}

#[derive(Deserialize)]
struct Party {
    #[serde(deserialize_with = "id_string")]
    id: String,
}

#[derive(Deserialize)]
struct MessageBody {
    mid: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    is_echo: bool,
}

/// Meta writes ids as strings, and now and then as numbers.
fn id_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "an id must be a string, not {other}"
        ))),
    }
}

fn text_of(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads a webhook body into events.
pub fn parse(body: &[u8]) -> Result<Parsed, PayloadError> {
    let hook: Webhook = serde_json::from_slice(body)?;
    let channel = match hook.object.as_str() {
        "page" => Channel::Facebook,
        "instagram" => Channel::Instagram,
        other => return Err(PayloadError::Object(other.to_string())),
    };
    let mut parsed = Parsed::default();
    for entry in hook.entry {
        for change in entry.changes {
            match comment_of(channel, &entry.id, &change) {
                Some(event) => parsed.events.push((entry.time, event)),
                None => parsed.ignored += 1,
            }
        }
        for m in entry.messaging {
            match m.message {
                Some(msg) if !msg.is_echo && m.sender.id != entry.id => {
                    parsed.events.push((
                        entry.time,
                        SocialEvent {
                            channel,
                            account: entry.id.clone(),
                            kind: EventKind::Message {
                                id: msg.mid,
                                person: m.sender.id,
                            },
                            author: None,
                            text: msg.text,
                        },
                    ));
                }
                // Read receipts, deliveries, reactions, our own messages echoed.
                _ => parsed.ignored += 1,
            }
        }
    }
    Ok(parsed)
}

/// A new comment by somebody else, or None.
fn comment_of(channel: Channel, account: &str, change: &Change) -> Option<SocialEvent> {
    let v = &change.value;
    let from = v.get("from");
    let from_id = from.and_then(|f| text_of(f, "id"));
    if from_id.as_deref() == Some(account) {
        return None; // the page's own comment
    }
    let (id, text, author) = match (channel, change.field.as_str()) {
        (Channel::Facebook, "feed") => {
            if text_of(v, "item").as_deref() != Some("comment")
                || text_of(v, "verb").as_deref() != Some("add")
            {
                return None;
            }
            (
                text_of(v, "comment_id")?,
                text_of(v, "message").unwrap_or_default(),
                from.and_then(|f| text_of(f, "name")),
            )
        }
        (Channel::Instagram, "comments") => (
            text_of(v, "id")?,
            text_of(v, "text").unwrap_or_default(),
            from.and_then(|f| text_of(f, "username")),
        ),
        _ => return None,
    };
    Some(SocialEvent {
        channel,
        account: account.to_string(),
        kind: EventKind::Comment { id },
        author,
        text,
    })
}

/// The accounts a payload speaks for (entry ids), to find the municipality's account and
/// its secret before anything is believed.
pub fn accounts_in(body: &[u8]) -> Vec<String> {
    #[derive(Deserialize)]
    struct Ids {
        #[serde(default)]
        entry: Vec<IdOnly>,
    }
    #[derive(Deserialize)]
    struct IdOnly {
        #[serde(deserialize_with = "id_string")]
        id: String,
    }
    serde_json::from_slice::<Ids>(body)
        .map(|i| i.entry.into_iter().map(|e| e.id).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_checked() {
        let body = br#"{"object":"page","entry":[]}"#;
        let good = sign(b"app-secret", body);
        assert!(signature_is_valid(b"app-secret", body, &good));
        assert!(!signature_is_valid(b"other-secret", body, &good));
        assert!(!signature_is_valid(b"app-secret", b"{}", &good));
        assert!(!signature_is_valid(b"app-secret", body, "sha1=abcd"));
        assert!(!signature_is_valid(b"app-secret", body, "sha256=zz"));
        assert!(!signature_is_valid(b"app-secret", body, ""));
        assert!(!signature_is_valid(
            b"app-secret",
            body,
            &good[..good.len() - 2]
        ));
    }

    #[test]
    fn unknown_objects_and_garbage_are_errors() {
        assert!(matches!(
            parse(br#"{"object":"user","entry":[]}"#),
            Err(PayloadError::Object(_))
        ));
        assert!(parse(b"\xff\xfe").is_err());
        assert!(parse(br#"{"object":"page","entry":[{"id":{}}]}"#).is_err());
    }

    #[test]
    fn our_own_comments_edits_and_echoes_are_ignored() {
        let body = br#"{"object":"page","entry":[{"id":"1","time":1,
          "changes":[
            {"field":"feed","value":{"item":"comment","verb":"add","comment_id":"1_2","message":"Svar","from":{"id":"1","name":"Kommunen"}}},
            {"field":"feed","value":{"item":"comment","verb":"edited","comment_id":"1_3","message":"x","from":{"id":"9"}}},
            {"field":"feed","value":{"item":"reaction","verb":"add","from":{"id":"9"}}}],
          "messaging":[
            {"sender":{"id":"1"},"recipient":{"id":"9"},"timestamp":1,"message":{"mid":"m_1","text":"ekko","is_echo":true}},
            {"sender":{"id":"9"},"recipient":{"id":"1"},"timestamp":1,"read":{"watermark":1}}]}]}"#;
        let parsed = parse(body).expect("parses");
        assert!(parsed.events.is_empty());
        assert_eq!(parsed.ignored, 5);
        assert_eq!(accounts_in(body), ["1"]);
    }
}
