//! The cluster load's live chats and Meta webhooks (see [`crate::cluster`]).
//!
//! A chat citizen starts a conversation through the load balancer, keeps its event stream
//! open (resuming with `Last-Event-ID` whenever it is cut, as a browser's `EventSource`
//! does) and writes; for each message a caseworker answers through the API, often on
//! another node, and the answer must reach the citizen's stream once. Meta's webhooks are
//! Messenger messages signed as Meta signs them; each person's acknowledgement goes through
//! the outbox to a stand-in of the Graph API's Send API in this process, which counts them.

use anyhow::{Context, Result, bail};
use axum::body::Bytes;
use axum::extract::State;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The app secret Meta's webhooks are signed with in the cluster load.
pub const APP_SECRET: &str = "klynge-app-secret";

/// How many messages arrived for each key (a phone number, a person on Messenger, a
/// marker in a chat).
pub type Counted = Arc<Mutex<HashMap<String, u32>>>;

pub fn count(counted: &Counted, key: &str) -> u32 {
    let mut map = counted.lock().unwrap_or_else(|e| e.into_inner());
    let n = map.entry(key.to_string()).or_default();
    *n += 1;
    *n
}

/// Meta's Send API (`POST /v21.0/{account}/messages`) as the nodes call it: each message
/// counted by its recipient, answered with a message id.
pub async fn graph_standin(sent: Counted) -> Result<String> {
    async fn messages(State(sent): State<Counted>, body: Bytes) -> axum::Json<Value> {
        let body: Value = serde_json::from_slice(&body).unwrap_or_default();
        let person = body["recipient"]["id"].as_str().unwrap_or_default();
        let n = count(&sent, person);
        axum::Json(json!({ "recipient_id": person, "message_id": format!("m_{person}_{n}") }))
    }
    let app = axum::Router::new()
        .route("/v21.0/{account}/messages", axum::routing::post(messages))
        .with_state(sent);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}/v21.0", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

/// Posts a Messenger message from `person` to the municipality's `page`, signed and timed
/// now; whether Torg took it (200).
pub async fn messenger(
    client: &reqwest::Client,
    base: &str,
    slug: &str,
    page: &str,
    person: &str,
    text: &str,
) -> bool {
    let millis = jiff::Timestamp::now().as_millisecond().to_string();
    let body = crate::bench::fill(
        crate::bench::MESSENGER_MESSAGE,
        &[
            ("page_id", page),
            ("user_id", person),
            ("mid", person),
            ("time_ms", &millis),
            ("text", text),
        ],
    );
    let signature = torg_social::meta::sign(APP_SECRET.as_bytes(), body.as_bytes());
    matches!(
        client
            .post(format!("{base}/hooks/meta/{slug}"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(body)
            .send()
            .await,
        Ok(r) if r.status() == 200
    )
}

/// What the chat citizens saw.
#[derive(Default)]
pub struct ChatCounts {
    /// Conversations started.
    pub conversations: AtomicU64,
    /// Messages the citizens wrote (204).
    pub written: AtomicU64,
    /// Answers the API took (201), each with a marker its citizen must see.
    pub answered: AtomicU64,
    /// Answers not seen on their citizen's stream.
    pub missing: AtomicU64,
    /// Answers seen more than once.
    pub doubled: AtomicU64,
    /// Event streams cut and opened again with `Last-Event-ID`.
    pub resumed: AtomicU64,
}

/// One SSE block's event, id and data.
fn parse_block(block: &str) -> (String, Option<String>, String) {
    let (mut event, mut id, mut data) = (String::new(), None, String::new());
    for line in block.lines() {
        let Some((field, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => event = value.to_string(),
            "id" => id = Some(value.to_string()),
            "data" => data.push_str(value),
            _ => {}
        }
    }
    (event, id, data)
}

/// Reads a conversation's event stream until `done`, opening it again where it was cut
/// (from the last event's id); every answer's text is counted in `seen`, and the inquiry's
/// id is given to `inquiry` once known.
async fn read_events(
    client: reqwest::Client,
    url: String,
    seen: Counted,
    inquiry: Arc<Mutex<Option<i64>>>,
    counts: Arc<ChatCounts>,
    done: Arc<AtomicBool>,
) {
    let mut last: Option<String> = None;
    let mut first = true;
    while !done.load(Ordering::Relaxed) {
        if !first {
            counts.resumed.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        first = false;
        let mut request = client.get(&url);
        if let Some(id) = &last {
            request = request.header("last-event-id", id);
        }
        let Ok(mut response) = request.send().await else {
            continue;
        };
        if !response.status().is_success() {
            continue;
        }
        let mut buffer: Vec<u8> = vec![];
        while let Ok(Some(chunk)) = response.chunk().await {
            buffer.extend_from_slice(&chunk);
            while let Some(end) = buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = buffer.drain(..end + 2).collect();
                let (event, id, data) = parse_block(&String::from_utf8_lossy(&block));
                if event != "message" {
                    continue;
                }
                if id.is_some() {
                    last = id;
                }
                let data: Value = serde_json::from_str(&data).unwrap_or_default();
                if let Some(i) = data["inquiry_id"].as_i64() {
                    inquiry
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get_or_insert(i);
                }
                // The answer's first line (the unit's signature follows).
                if let Some(answer) = data["body"].as_str().and_then(|b| b.lines().next())
                    && answer.starts_with("Svar ")
                {
                    count(&seen, answer);
                }
            }
            if done.load(Ordering::Relaxed) {
                return;
            }
        }
    }
}

/// One citizen's live chat in municipality `slug` until `stop_at`, answered by the
/// municipality's API client (`token`) after each message; then waits for every answer to
/// reach the stream and counts what did not, or came twice.
pub async fn chat_citizen(
    base: String,
    slug: String,
    token: String,
    who: usize,
    stop_at: Instant,
    counts: Arc<ChatCounts>,
) -> Result<()> {
    // No overall timeout: the event stream lasts.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .build()?;
    let started = client
        .post(format!("{base}/chat/{slug}"))
        .form(&[
            ("name", "Chat Innbygger"),
            ("message", "Hei! Når åpner svømmehallen igjen?"),
        ])
        .send()
        .await
        .context("the chat did not start")?;
    let conversation = started
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .filter(|l| l.starts_with(&format!("/chat/{slug}/c/")))
        .map(str::to_string)
        .with_context(|| format!("the chat did not open (HTTP {})", started.status()))?;
    counts.conversations.fetch_add(1, Ordering::Relaxed);
    let (seen, inquiry, done): (Counted, Arc<Mutex<Option<i64>>>, Arc<AtomicBool>) =
        Default::default();
    let reader = tokio::spawn(read_events(
        client.clone(),
        format!("{base}{conversation}/events"),
        seen.clone(),
        inquiry.clone(),
        counts.clone(),
        done.clone(),
    ));
    let known = Instant::now();
    let id = loop {
        if let Some(id) = *inquiry.lock().unwrap_or_else(|e| e.into_inner()) {
            break id;
        }
        if known.elapsed() > Duration::from_secs(30) {
            bail!("the chat's event stream gave no message in 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let api = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut answers = vec![];
    let mut k = 0;
    while Instant::now() < stop_at {
        k += 1;
        let wrote = client
            .post(format!("{base}{conversation}"))
            .header("x-torg-live", "1")
            .form(&[("body", format!("Spørsmål {k}"))])
            .send()
            .await;
        if matches!(wrote, Ok(ref r) if r.status() == 204) {
            counts.written.fetch_add(1, Ordering::Relaxed);
        }
        let answer = format!("Svar {who}-{k}");
        let answered = api
            .post(format!("{base}/api/v1/inquiries/{id}/replies"))
            .bearer_auth(&token)
            .json(&json!({ "body": answer }))
            .send()
            .await;
        // An answer whose request was cut may or may not be stored: only those the API took
        // are owed to the citizen.
        match answered {
            Ok(r) if r.status() == 201 => {
                counts.answered.fetch_add(1, Ordering::Relaxed);
                answers.push(answer);
            }
            Ok(r) if r.status().is_client_error() => {
                bail!(
                    "the API refused an answer: {} {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                );
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let waited = Instant::now();
    let (missing, doubled) = loop {
        let seen = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let missing = answers.iter().filter(|a| !seen.contains_key(*a)).count();
        let doubled = seen.values().filter(|n| **n > 1).count();
        if missing == 0 || waited.elapsed() > Duration::from_secs(30) {
            break (missing, doubled);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    done.store(true, Ordering::Relaxed);
    reader.abort();
    counts.missing.fetch_add(missing as u64, Ordering::Relaxed);
    counts.doubled.fetch_add(doubled as u64, Ordering::Relaxed);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_blocks_are_read_as_axum_writes_them() {
        let (event, id, data) = parse_block("event: message\ndata: {\"a\":1}\nid: 42\n");
        assert_eq!((event.as_str(), id.as_deref()), ("message", Some("42")));
        assert_eq!(data, "{\"a\":1}");
        let (event, id, _) = parse_block(": keep-alive\n");
        assert_eq!((event.as_str(), id), ("", None));
    }
}
