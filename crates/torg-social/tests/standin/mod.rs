//! Local stand-ins for the parts of Meta's Graph API and Mastodon's client API that Torg
//! calls, answering as their documentation says: bearer tokens checked (Graph error 190,
//! Mastodon 401), `paging.next` and `Link` pagination, 429 with Retry-After when told to,
//! Mastodon's Idempotency-Key honoured. Publishing as the Graph API documents it: a page's
//! `feed` and `photos`, Instagram's `media` container (refused without `image_url`, error
//! 9004) and `media_publish`, and `permalink_url` / `permalink` read back by id. Each call is
//! recorded for the tests to inspect.

#![allow(dead_code)]

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// A documented example payload from `tests/payloads`, with `{name}` fields filled in.
pub fn payload(file: &str, fields: &[(&str, &str)]) -> String {
    let path = format!("{}/tests/payloads/{file}", env!("CARGO_MANIFEST_DIR"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (k, v) in fields {
        text = text.replace(&format!("{{{k}}}"), v);
    }
    text
}

/// One call the stand-in received.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: &'static str,
    pub path: String,
    pub body: Value,
    pub idempotency_key: Option<String>,
}

/// An answer to give instead: status, extra headers, body.
pub type Canned = (StatusCode, Vec<(&'static str, String)>, String);

#[derive(Default)]
pub struct World {
    pub token: String,
    pub calls: Vec<Call>,
    /// Answers to give instead of the normal one, in order.
    pub failures: VecDeque<Canned>,
    /// Store the post, then answer with the next failure (an answer lost on the way).
    pub lose_answers: usize,
    /// Answers under comments: comment id → [{from:{id}, message}].
    pub answers: HashMap<String, Vec<Value>>,
    /// Mastodon notifications, oldest first.
    pub notifications: Vec<Value>,
    pub statuses: Vec<Value>,
    pub by_idempotency_key: HashMap<String, Value>,
    pub page_size: usize,
    pub base: String,
    /// What pages and accounts published: account id → posts, newest first.
    pub published: HashMap<String, Vec<Value>>,
    /// Instagram containers waiting for `media_publish`: id → container.
    pub containers: HashMap<String, Value>,
    /// What people did with a post or status: id → (reactions, comments, shares).
    pub engagement: HashMap<String, (i64, i64, i64)>,
}

pub type Shared = Arc<Mutex<World>>;

/// Starts the stand-in on a free port; returns its base address and world.
pub async fn start(token: &str) -> (String, Shared) {
    let world: Shared = Arc::new(Mutex::new(World {
        token: token.to_string(),
        page_size: 2,
        ..Default::default()
    }));
    let app = Router::new()
        .route("/v21.0/{a}", post(graph_node).get(graph_object))
        .route("/v21.0/{a}/{edge}", post(graph_edge).get(graph_list))
        .route("/api/v1/notifications", get(notifications))
        .route("/api/v1/statuses", post(statuses))
        .route("/api/v1/accounts/{id}/statuses", get(account_statuses))
        .with_state(world.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    world.lock().expect("world").base = base.clone();
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("stand-in");
    });
    (base, world)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// The token check and injected failures every call goes through.
fn gate(world: &mut World, headers: &HeaderMap, graph: bool) -> Option<Response> {
    if bearer(headers) != Some(world.token.as_str()) {
        return Some(if graph {
            let body = payload("graph_token_expired.json", &[]);
            (StatusCode::BAD_REQUEST, body).into_response()
        } else {
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "The access token is invalid"})),
            )
                .into_response()
        });
    }
    if world.lose_answers > 0 {
        return None;
    }
    let (status, extra, body) = world.failures.pop_front()?;
    let mut res = (status, body).into_response();
    for (k, v) in extra {
        res.headers_mut()
            .insert(k, v.parse().expect("header value"));
    }
    Some(res)
}

fn lost(world: &mut World) -> Option<Response> {
    if world.lose_answers == 0 {
        return None;
    }
    world.lose_answers -= 1;
    Some((StatusCode::BAD_GATEWAY, "upstream timed out").into_response())
}

async fn graph_node(
    State(world): State<Shared>,
    Path(node): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut w = world.lock().expect("world");
    if let Some(res) = gate(&mut w, &headers, true) {
        return res;
    }
    w.calls.push(Call {
        method: "POST",
        path: node,
        body,
        idempotency_key: None,
    });
    Json(json!({"success": true})).into_response()
}

async fn graph_edge(
    State(world): State<Shared>,
    Path((node, edge)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut w = world.lock().expect("world");
    if let Some(res) = gate(&mut w, &headers, true) {
        return res;
    }
    w.calls.push(Call {
        method: "POST",
        path: format!("{node}/{edge}"),
        body: body.clone(),
        idempotency_key: None,
    });
    let n = w.calls.len();
    let answer = match edge.as_str() {
        "comments" | "replies" => {
            let text_field = if edge == "replies" { "text" } else { "message" };
            let message = body.get("message").cloned().unwrap_or(Value::Null);
            w.answers.entry(node.clone()).or_default().push(json!({
                "id": format!("{node}_r{n}"),
                "from": {"id": "PAGE"},
                text_field: message,
            }));
            json!({"id": format!("{node}_r{n}")})
        }
        "messages" => json!({"recipient_id": "1008372609250235", "message_id": format!("m_{n}")}),
        "feed" | "photos" => {
            let id = format!("{node}_{n}");
            let text = body.get(if edge == "feed" { "message" } else { "caption" });
            let post = json!({
                "id": id,
                "message": text.cloned().unwrap_or(Value::Null),
                "picture": body.get("url").cloned().unwrap_or(Value::Null),
                "permalink_url": format!("https://www.facebook.com/{node}/posts/{n}"),
            });
            w.published.entry(node.clone()).or_default().insert(0, post);
            if edge == "photos" {
                json!({"id": format!("photo{n}"), "post_id": id})
            } else {
                json!({"id": id})
            }
        }
        "media" => {
            if body.get("image_url").and_then(Value::as_str).is_none() {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"error": {
                        "message": "Only photo or video can be accepted as media type.",
                        "type": "OAuthException", "code": 9004, "error_subcode": 2207052,
                    }})),
                )
                    .into_response();
            }
            let id = format!("c{n}");
            w.containers.insert(id.clone(), body.clone());
            json!({"id": id})
        }
        "media_publish" => {
            let creation = body
                .get("creation_id")
                .and_then(Value::as_str)
                .unwrap_or("");
            let Some(container) = w.containers.remove(creation) else {
                return (
                    StatusCode::BAD_REQUEST,
                    Json(json!({"error": {"message": "Media ID is not available", "code": 9007}})),
                )
                    .into_response();
            };
            let id = format!("1790{n}");
            let media = json!({
                "id": id,
                "caption": container["caption"],
                "media_url": container["image_url"],
                "permalink": format!("https://www.instagram.com/p/P{n}/"),
            });
            w.published
                .entry(node.clone())
                .or_default()
                .insert(0, media);
            json!({"id": id})
        }
        _ => return (StatusCode::NOT_FOUND, "unknown edge").into_response(),
    };
    if let Some(res) = lost(&mut w) {
        return res;
    }
    Json(answer).into_response()
}

/// `GET /{id}?fields=…`: a published post or media with the fields asked for.
async fn graph_object(
    State(world): State<Shared>,
    Path(node): Path<String>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut w = world.lock().expect("world");
    if let Some(res) = gate(&mut w, &headers, true) {
        return res;
    }
    let found = w
        .published
        .values()
        .flatten()
        .find(|p| p["id"] == node.as_str())
        .cloned();
    let Some(object) = found else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"message": "Unsupported get request.", "code": 100}})),
        )
            .into_response();
    };
    let mut answer = json!({"id": node});
    for field in q.get("fields").map(String::as_str).unwrap_or("").split(',') {
        if let Some(v) = object.get(field) {
            answer[field] = v.clone();
        }
    }
    Json(answer).into_response()
}

/// `GET /{comment}/{edge}?fields=…&limit=…&after=…`: a page of answers with paging.next.
async fn graph_list(
    State(world): State<Shared>,
    Path((node, edge)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut w = world.lock().expect("world");
    if let Some(res) = gate(&mut w, &headers, true) {
        return res;
    }
    if edge == "posts" || edge == "media" {
        // With the counts as the Graph API gives them: a page post's reactions and comments
        // as summaries, its shares (left out when none); a medium's like and comment counts.
        let posts: Vec<Value> = w
            .published
            .get(&node)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|mut p| {
                let id = p["id"].as_str().unwrap_or("").to_string();
                let (r, c, sh) = w.engagement.get(&id).copied().unwrap_or_default();
                if edge == "posts" {
                    p["reactions"] = json!({"data": [], "summary": {"total_count": r}});
                    p["comments"] = json!({"data": [], "summary": {"total_count": c}});
                    if sh > 0 {
                        p["shares"] = json!({"count": sh});
                    }
                } else {
                    p["like_count"] = json!(r);
                    p["comments_count"] = json!(c);
                }
                p
            })
            .collect();
        return Json(json!({"data": posts})).into_response();
    }
    let all = w.answers.get(&node).cloned().unwrap_or_default();
    let after: usize = q.get("after").and_then(|a| a.parse().ok()).unwrap_or(0);
    let size = w.page_size;
    let page: Vec<Value> = all.iter().skip(after).take(size).cloned().collect();
    let mut answer = json!({"data": page});
    if after + size < all.len() {
        answer["paging"] = json!({
            "cursors": {"after": (after + size).to_string()},
            "next": format!("{}/v21.0/{node}/comments?limit={size}&after={}", w.base, after + size),
        });
    }
    Json(answer).into_response()
}

/// `GET /api/v1/notifications?types[]=mention&min_id=…`: the page of notifications just
/// newer than min_id (newest first), with a Link header.
async fn notifications(
    State(world): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let mut w = world.lock().expect("world");
    if let Some(res) = gate(&mut w, &headers, false) {
        return res;
    }
    let get = |k: &str| q.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let id_of = |n: &Value| -> u64 { n["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0) };
    let limit: usize = get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(40)
        .min(w.page_size);
    let page: Vec<Value> = match get("min_id").and_then(|m| m.parse::<u64>().ok()) {
        // Immediately newer than min_id: the oldest `limit` of those, newest first.
        Some(min) => {
            let mut newer: Vec<Value> = w
                .notifications
                .iter()
                .filter(|n| id_of(n) > min)
                .take(limit)
                .cloned()
                .collect();
            newer.reverse();
            newer
        }
        None => w.notifications.iter().rev().take(limit).cloned().collect(),
    };
    let mut res = Json(&page).into_response();
    if let (Some(first), Some(last)) = (page.first(), page.last()) {
        let link = format!(
            "<{base}/api/v1/notifications?types[]=mention&max_id={}>; rel=\"next\", <{base}/api/v1/notifications?types[]=mention&min_id={}>; rel=\"prev\"",
            id_of(last),
            id_of(first),
            base = w.base
        );
        res.headers_mut()
            .insert("link", link.parse().expect("link header"));
    }
    res
}

/// `GET /api/v1/accounts/{id}/statuses`: the account's own statuses, newest first, with
/// their favourites, replies and boosts.
async fn account_statuses(State(world): State<Shared>, headers: HeaderMap) -> Response {
    let mut w = world.lock().expect("world");
    if let Some(res) = gate(&mut w, &headers, false) {
        return res;
    }
    let list: Vec<Value> = w
        .statuses
        .iter()
        .rev()
        .filter(|s| s["in_reply_to_id"].is_null())
        .map(|s| {
            let mut s = s.clone();
            let id = s["id"].as_str().unwrap_or("").to_string();
            let (r, c, sh) = w.engagement.get(&id).copied().unwrap_or_default();
            s["favourites_count"] = json!(r);
            s["replies_count"] = json!(c);
            s["reblogs_count"] = json!(sh);
            s
        })
        .collect();
    Json(list).into_response()
}

async fn statuses(
    State(world): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut w = world.lock().expect("world");
    if let Some(res) = gate(&mut w, &headers, false) {
        return res;
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    w.calls.push(Call {
        method: "POST",
        path: "api/v1/statuses".into(),
        body: body.clone(),
        idempotency_key: key.clone(),
    });
    if let Some(seen) = key.as_ref().and_then(|k| w.by_idempotency_key.get(k)) {
        return Json(seen.clone()).into_response();
    }
    let id = (110_000 + w.statuses.len()).to_string();
    let status = json!({
        "url": format!("{}/@kommune/{id}", w.base),
        "id": id,
        "content": body["status"],
        "in_reply_to_id": body["in_reply_to_id"],
        "visibility": body["visibility"],
    });
    w.statuses.push(status.clone());
    if let Some(k) = key {
        w.by_idempotency_key.insert(k, status.clone());
    }
    if let Some(res) = lost(&mut w) {
        return res;
    }
    Json(status).into_response()
}
