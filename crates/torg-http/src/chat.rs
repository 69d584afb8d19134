//! Live chat (e-dialog) on the municipality's own site.
//!
//! The site embeds one script tag and a stylesheet (`/static/chat-widget.js`,
//! `/static/chat-widget.css`); the script opens Torg's chat page `/chat/{municipality}` in a
//! frame, so every request is Torg's own and nothing depends on third-party cookies. The
//! page works without JavaScript (forms and a reload); with it, messages flow live both
//! ways: server-sent events down (`…/events`, resumed after a reconnect from the last event
//! id), POSTs up.
//!
//! A conversation is an inquiry on the chat channel; its follow token is the capability in
//! the conversation's address (`/chat/{municipality}/c/{token}`), as on the follow page.
//! Outside the chat's opening hours the page says so and takes a message that becomes an
//! ordinary inquiry. Staff see open chats at `/staff/chats`, follow one live on its inquiry
//! page (who is typing included), take it over, and answer with the ordinary reply form.
//!
//! Live events go through an in-process hub. Where several nodes share a PostgreSQL database,
//! the hub also passes each event to the others through the store's node bus (LISTEN/NOTIFY),
//! so a citizen on one node and staff on another see each other live; the messages themselves
//! are always in the database, so a reconnect to any node shows them.
//!
//! A stream lives only as long as the access that opened it: every
//! [`StreamLimits::recheck`](crate::StreamLimits) it asks again (the staff member's session,
//! activity and units; the citizen's follow link) and ends when the answer is no, and it ends
//! anyway after [`StreamLimits::lifetime`](crate::StreamLimits); the browser reconnects, and
//! the reconnect is checked afresh.

use crate::AppState;
use crate::auth::Staff;
use crate::i18n::Tr;
use crate::views::{self, Lang, MessageView, render};
use askama::Template;
use axum::extract::{Extension, Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use futures_util::stream::{self, Stream, StreamExt};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::broadcast;
use torg_core::casework::CitizenMessageError;
use torg_core::intake::{InquiryInput, IntakeError, TenantConfig, receive};
use torg_core::transcript::TranscriptError;
use torg_domain::{Channel, MessageKind};
use torg_domain::{InquiryId, TenantId, UnitId};
use torg_store::{Inquiry, Message, Origin};

/// What happens in a chat, as its watchers see it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ChatEvent {
    pub inquiry_id: InquiryId,
    pub unit_id: UnitId,
    #[serde(flatten)]
    pub what: ChatWhat,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum ChatWhat {
    /// A message was stored (never an internal note).
    Message {
        id: i64,
        kind: String,
        author: String,
        body: String,
        at: String,
    },
    /// Somebody is typing: the citizen, or a staff member (by first name).
    Typing { by: String, name: String },
    /// Taken over, closed: said in words.
    Status { text: String },
    /// A new conversation began (for the staff list).
    Started,
}

impl ChatEvent {
    /// A stored message of a conversation.
    fn message(inquiry_id: InquiryId, unit_id: UnitId, m: &Message) -> ChatEvent {
        ChatEvent {
            inquiry_id,
            unit_id,
            what: ChatWhat::Message {
                id: m.id,
                kind: m.kind.as_str().to_string(),
                author: m.author_name.clone(),
                body: m.body.clone(),
                at: m.created_at.to_string(),
            },
        }
    }
}

/// The bus of live chat events: one channel per conversation and one per municipality (for
/// the staff list) in this process, and, once [`join_nodes`] has run, the other
/// nodes that share the database.
#[derive(Default)]
pub(crate) struct ChatHub {
    chats: Channels<InquiryId>,
    tenants: Channels<TenantId>,
    /// This node, so that it does not take its own events a second time.
    node: std::sync::OnceLock<String>,
    /// Events on their way to the other nodes, in order.
    to_nodes: std::sync::OnceLock<tokio::sync::mpsc::Sender<String>>,
}

/// The node bus's topic for chat events.
const NODE_TOPIC: &str = "torg_chat";

/// A chat event as it travels between nodes.
#[derive(Serialize, Deserialize)]
struct NodeEvent {
    node: String,
    tenant: TenantId,
    event: ChatEvent,
    /// The message's text was too long to travel; the receiving node reads it from the store.
    #[serde(default)]
    body_omitted: bool,
}

type Channels<K> = Mutex<HashMap<K, broadcast::Sender<ChatEvent>>>;

/// A watcher of `key`: its channel is made when the first watcher comes.
fn watch_channel<K: std::hash::Hash + Eq>(
    map: &Channels<K>,
    key: K,
) -> broadcast::Receiver<ChatEvent> {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    // Conversations nobody watches any more are let go.
    if map.len() > 256 {
        map.retain(|_, tx| tx.receiver_count() > 0);
    }
    map.entry(key)
        .or_insert_with(|| broadcast::channel(256).0)
        .subscribe()
}

/// Gives `event` to the watchers of `key`, if it has any: an event nobody watches makes no
/// channel, and a channel whose watchers all left goes.
fn send_to<K: std::hash::Hash + Eq>(map: &Channels<K>, key: K, event: ChatEvent) {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(tx) = map.get(&key)
        && tx.send(event).is_err()
    {
        map.remove(&key);
    }
}

impl ChatHub {
    pub(crate) fn subscribe(&self, inquiry_id: InquiryId) -> broadcast::Receiver<ChatEvent> {
        watch_channel(&self.chats, inquiry_id)
    }
    pub(crate) fn subscribe_tenant(&self, tenant: TenantId) -> broadcast::Receiver<ChatEvent> {
        watch_channel(&self.tenants, tenant)
    }
    /// Channels held now (conversations and municipalities watched), for the tests.
    pub(crate) fn channels(&self) -> usize {
        fn count<K>(m: &Channels<K>) -> usize {
            m.lock().unwrap_or_else(|e| e.into_inner()).len()
        }
        count(&self.chats) + count(&self.tenants)
    }
    /// Publishes an event to its watchers on this node and on the others.
    pub(crate) fn publish(&self, tenant: TenantId, event: ChatEvent) {
        if let (Some(node), Some(tx)) = (self.node.get(), self.to_nodes.get()) {
            // Typing and messages are worth little late; a full queue drops them (the pages
            // catch up from the store), it never holds up the request.
            if let Some(payload) = node_payload(node, tenant, &event) {
                let _ = tx.try_send(payload);
            }
        }
        self.deliver(tenant, event);
    }

    /// Gives an event to this node's watchers only.
    fn deliver(&self, tenant: TenantId, event: ChatEvent) {
        send_to(&self.chats, event.inquiry_id, event.clone());
        send_to(&self.tenants, tenant, event);
    }

    /// Publishes a stored message of a chat inquiry to its watchers.
    pub(crate) fn message(&self, inquiry: &Inquiry, m: &Message) {
        if inquiry.channel != Channel::Chat || m.kind == MessageKind::Note {
            return;
        }
        self.publish(
            inquiry.tenant_id,
            ChatEvent::message(inquiry.id, inquiry.unit_id, m),
        );
    }
}

impl torg_core::reply::LiveChat for ChatHub {
    fn message(&self, inquiry: &Inquiry, message: &Message) {
        ChatHub::message(self, inquiry, message);
    }
}

/// An event for the other nodes; a message too long to travel goes without its text.
fn node_payload(node: &str, tenant: TenantId, event: &ChatEvent) -> Option<String> {
    let mut out = NodeEvent {
        node: node.to_string(),
        tenant,
        event: event.clone(),
        body_omitted: false,
    };
    let payload = serde_json::to_string(&out).ok()?;
    if payload.len() <= torg_store::NODE_BUS_MAX_PAYLOAD {
        return Some(payload);
    }
    if let ChatWhat::Message { body, .. } = &mut out.event.what {
        body.clear();
        out.body_omitted = true;
    }
    serde_json::to_string(&out)
        .ok()
        .filter(|p| p.len() <= torg_store::NODE_BUS_MAX_PAYLOAD)
}

/// Joins the other nodes that share the database, where the store has a node bus
/// (PostgreSQL): this node's chat events go to them, and theirs come here. Returns whether
/// there is such a bus.
pub(crate) async fn join_nodes(state: &AppState) -> Result<bool, torg_store::StoreError> {
    let Some(bus) = state.store.node_bus() else {
        return Ok(false);
    };
    let hub = state.chats.clone();
    let mut incoming = bus.listen(NODE_TOPIC).await?;
    let node = torg_core::secrets::new_token()[..16].to_string();
    if hub.node.set(node.clone()).is_err() {
        // Joined before.
        return Ok(true);
    }
    let store = state.store.clone();
    let from_nodes = hub.clone();
    tokio::spawn(async move {
        while let Some(payload) = incoming.recv().await {
            if payload == torg_store::NODE_BUS_LOST || payload == torg_store::NODE_BUS_DOWN {
                // The pages catch up from the store on their own next reconnect.
                continue;
            }
            let Ok(mut e) = serde_json::from_str::<NodeEvent>(&payload) else {
                tracing::warn!("node bus: an event that is not a chat event");
                continue;
            };
            if e.node == node {
                continue;
            }
            if e.body_omitted
                && let ChatWhat::Message { id, body, .. } = &mut e.event.what
            {
                let stored = store
                    .messages(e.tenant, e.event.inquiry_id, false)
                    .await
                    .unwrap_or_default();
                match stored.into_iter().find(|m| m.id == *id) {
                    Some(m) => *body = m.body,
                    None => continue,
                }
            }
            from_nodes.deliver(e.tenant, e.event);
        }
    });
    let (tx, mut outgoing) = tokio::sync::mpsc::channel::<String>(4096);
    let store = state.store.clone();
    tokio::spawn(async move {
        while let Some(payload) = outgoing.recv().await {
            if let Some(bus) = store.node_bus()
                && let Err(e) = bus.send(NODE_TOPIC, &payload).await
            {
                tracing::warn!(error = %e, "node bus: a chat event did not reach the other nodes");
            }
        }
    });
    let _ = hub.to_nodes.set(tx);
    Ok(true)
}

pub(crate) fn routes() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/chat/{slug}", start_page)
        .get("/chat/{slug}/widget", widget_page)
        .post("/chat/{slug}", start)
        .get("/chat/{slug}/c/{token}", conversation)
        .post("/chat/{slug}/c/{token}", citizen_message)
        .get("/chat/{slug}/c/{token}/events", citizen_events)
        .post("/chat/{slug}/c/{token}/typing", citizen_typing)
        .post("/chat/{slug}/c/{token}/transcript", transcript)
        .get("/staff/chats", staff_chats)
        .get("/staff/chats/events", staff_list_events)
        .get("/staff/inquiries/{id}/events", staff_events)
        .post("/staff/inquiries/{id}/typing", staff_typing)
        .post("/staff/inquiries/{id}/take", take_over)
}

// ---------------------------------------------------------------------------------------
// The citizen's side.

#[derive(Template)]
#[template(path = "chat.html")]
struct ChatPage {
    t: Tr,
    brand: String,
    slug: String,
    /// "start", "closed", "left" or "conversation".
    mode: &'static str,
    /// When the chat opens next, in words (closed mode).
    opens: String,
    messages: Vec<MessageView>,
    last_id: i64,
    token: String,
    reference: String,
    follow_url: String,
    notice: Option<String>,
    error: Option<String>,
    name: String,
    email: String,
    text: String,
    /// The municipality's crisis, above the chat.
    banner: Option<crate::views::Banner>,
}

/// The chat page with the municipality's crisis banner, if a crisis goes on.
async fn with_banner(state: &AppState, mut page: ChatPage) -> ChatPage {
    if let Ok(Some(config)) = crate::auth::tenant_by_slug(state, &page.slug).await {
        page.banner = crate::crisis::banner(state, &config.municipality, false).await;
    }
    page
}

impl ChatPage {
    fn new(t: Tr, config: &TenantConfig, mode: &'static str) -> ChatPage {
        ChatPage {
            t,
            brand: config.municipality.name.clone(),
            slug: config.municipality.slug.clone(),
            mode,
            opens: String::new(),
            messages: vec![],
            last_id: 0,
            token: String::new(),
            reference: String::new(),
            follow_url: String::new(),
            notice: None,
            error: None,
            name: String::new(),
            email: String::new(),
            text: String::new(),
            banner: None,
        }
    }
}

/// Whether the chat is staffed now, and if not, when it opens in words.
fn open_now(t: &Tr, config: &TenantConfig, now: Timestamp) -> Result<(), String> {
    let unit = config.fallback_unit().map(|u| u.id).unwrap_or_default();
    let calendar = config.calendar_for(Channel::Chat, unit);
    if calendar.is_open(now) {
        return Ok(());
    }
    Err(match calendar.next_opening(now) {
        Some(at) => t.get1(
            "chat-opens",
            "when",
            &views::when(at, &config.municipality.time_zone),
        ),
        None => t.get("chat-closed-long"),
    })
}

#[derive(Template)]
#[template(path = "chat_widget.html")]
struct WidgetPage {
    t: Tr,
    brand: String,
    slug: String,
    base: String,
}

/// How the widget looks on a page, and the two lines that put it on the municipality's site.
async fn widget_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match crate::portal::municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let page = WidgetPage {
        t,
        brand: config.municipality.name.clone(),
        slug,
        base: crate::portal::base_url(&state, &headers),
    };
    render(StatusCode::OK, &page)
}

async fn start_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match crate::portal::municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let page = match open_now(&t, &config, Timestamp::now()) {
        Ok(()) => ChatPage::new(t, &config, "start"),
        Err(opens) => ChatPage {
            opens,
            ..ChatPage::new(t, &config, "closed")
        },
    };
    render(StatusCode::OK, &with_banner(&state, page).await)
}

#[derive(serde::Deserialize, Default)]
struct StartForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    message: String,
}

async fn start(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
    addr: crate::audit::ClientAddr,
    headers: HeaderMap,
    Form(form): Form<StartForm>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match crate::portal::municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let now = Timestamp::now();
    let open = open_now(&t, &config, now);
    let name = match form.name.trim() {
        "" => t.get("chat-anonymous"),
        n => n.to_string(),
    };
    let input = InquiryInput {
        citizen_name: name,
        email: Some(form.email.trim().to_string()).filter(|e| !e.is_empty()),
        body: form.message.clone(),
        language: Some(lang.clone()),
        origin: Origin {
            actor: "chat".into(),
            source: addr.0.clone(),
        },
        ..Default::default()
    };
    // Outside opening hours the message is an ordinary inquiry with a receipt.
    let base = crate::portal::base_url(&state, &headers);
    let ack = open
        .is_err()
        .then(|| crate::acknowledge::acknowledger_for(&state, config.clone(), &base));
    let received = receive(
        &*state.store,
        &config,
        Channel::Chat,
        input,
        state.settings.limits,
        now,
        ack.as_deref(),
    )
    .await;
    match received {
        Ok(r) => {
            let inquiry = &r.created.inquiry;
            if open.is_ok() {
                state.chats.publish(
                    inquiry.tenant_id,
                    ChatEvent {
                        inquiry_id: inquiry.id,
                        unit_id: inquiry.unit_id,
                        what: ChatWhat::Started,
                    },
                );
                Redirect::to(&format!("/chat/{slug}/c/{}", r.follow_token)).into_response()
            } else {
                let page = ChatPage {
                    reference: inquiry.reference.to_string(),
                    follow_url: format!("{base}/k/{slug}/follow/{}", r.follow_token),
                    ..ChatPage::new(t, &config, "left")
                };
                render(StatusCode::OK, &with_banner(&state, page).await)
            }
        }
        Err(IntakeError::Store(e)) => crate::staff::failed(t, e),
        Err(e) => {
            let msg = t.get(&format!("error-{}", e.code().replace('_', "-")));
            let mode = if open.is_ok() { "start" } else { "closed" };
            let page = ChatPage {
                error: Some(msg),
                opens: open.err().unwrap_or_default(),
                name: form.name,
                email: form.email,
                text: form.message,
                ..ChatPage::new(t, &config, mode)
            };
            render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &with_banner(&state, page).await,
            )
        }
    }
}

/// The conversation a chat address names, or a 404 that gives nothing away.
async fn chat_of(
    state: &AppState,
    t: &Tr,
    slug: &str,
    token: &str,
) -> Result<(Arc<TenantConfig>, Inquiry), Response> {
    let back = format!("/chat/{slug}");
    crate::portal::by_follow_token(state, t, slug, token, Some(Channel::Chat), &back).await
}

#[derive(serde::Deserialize, Default)]
struct Done {
    #[serde(default)]
    done: String,
}

async fn conversation(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path((slug, token)): Path<(String, String)>,
    Query(q): Query<Done>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    conversation_page(&state, t, &slug, &token, q.done.as_str(), None).await
}

async fn conversation_page(
    state: &AppState,
    t: Tr,
    slug: &str,
    token: &str,
    done: &str,
    error: Option<String>,
) -> Response {
    let (config, inquiry) = match chat_of(state, &t, slug, token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let messages = match state
        .store
        .messages(config.municipality.id, inquiry.id, false)
        .await
    {
        Ok(m) => m,
        Err(e) => return crate::staff::failed(t, e),
    };
    let last_id = messages.iter().map(|m| m.id).max().unwrap_or(0);
    let zone = config.municipality.time_zone.clone();
    let views = views::message_views(&t, messages, &zone, |_| String::new());
    let notice = match done {
        "transcript" => Some(t.get("chat-transcript-sent")),
        _ => None,
    };
    let page = ChatPage {
        messages: views,
        last_id,
        token: token.to_string(),
        reference: inquiry.reference.to_string(),
        email: inquiry.contact_email.clone().unwrap_or_default(),
        notice,
        error,
        ..ChatPage::new(t, &config, "conversation")
    };
    let status = if page.error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render(status, &with_banner(state, page).await)
}

#[derive(serde::Deserialize, Default)]
struct MessageForm {
    #[serde(default)]
    body: String,
}

/// Whether the browser's script sent it (it wants no page back).
fn from_script(headers: &HeaderMap) -> bool {
    headers.get("x-torg-live").is_some()
}

async fn citizen_message(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path((slug, token)): Path<(String, String)>,
    headers: HeaderMap,
    Form(form): Form<MessageForm>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let (config, inquiry) = match chat_of(&state, &t, &slug, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let stored = torg_core::casework::citizen_message(
        &*state.store,
        config.municipality.id,
        &inquiry,
        &form.body,
        state.settings.limits.text.max_text_bytes,
        Timestamp::now(),
    )
    .await;
    match stored {
        Ok(m) => {
            state.chats.message(&inquiry, &m);
            if from_script(&headers) {
                StatusCode::NO_CONTENT.into_response()
            } else {
                Redirect::to(&format!("/chat/{slug}/c/{token}")).into_response()
            }
        }
        Err(CitizenMessageError::Input(e)) => {
            let msg = t.get(&format!("error-{}", e.code().replace('_', "-")));
            if from_script(&headers) {
                return (StatusCode::UNPROCESSABLE_ENTITY, msg).into_response();
            }
            conversation_page(&state, t, &slug, &token, "", Some(msg)).await
        }
        Err(CitizenMessageError::Store(e)) => crate::staff::failed(t, e),
    }
}

#[derive(serde::Deserialize, Default)]
struct After {
    /// The last message the page has (a reconnect sends Last-Event-ID instead).
    #[serde(default)]
    after: i64,
}

/// The event stream of one conversation: first what was stored after the last event the
/// browser has, then live. `typing` events of `own_side` are left out (one does not see
/// oneself typing).
fn event_stream(
    state: &AppState,
    tenant: TenantId,
    inquiry: &Inquiry,
    after: i64,
    own_side: &'static str,
) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let rx = state.chats.subscribe(inquiry.id);
    let store = state.store.clone();
    let inquiry_id = inquiry.id;
    let unit_id = inquiry.unit_id;
    // Missed messages first (subscribed before reading, so nothing falls between).
    let missed = stream::once(async move {
        let messages = store
            .messages(tenant, inquiry_id, false)
            .await
            .unwrap_or_default();
        stream::iter(
            messages
                .into_iter()
                .filter(|m| m.id > after)
                .map(move |m| ChatEvent::message(inquiry_id, unit_id, &m))
                .collect::<Vec<_>>(),
        )
    })
    .flatten();
    missed
        .chain(live(rx))
        .filter(move |e| {
            let own = matches!(&e.what, ChatWhat::Typing { by, .. } if by == own_side);
            std::future::ready(!own)
        })
        .map(|e| Ok(sse_event(&e)))
}

/// The hub's events as they come. A reader that falls behind (lagged) ends its stream; the
/// browser reconnects and catches up from the store by the last event id.
fn live(rx: broadcast::Receiver<ChatEvent>) -> impl Stream<Item = ChatEvent> + Send + 'static {
    stream::unfold(
        rx,
        |mut rx| async move { rx.recv().await.ok().map(|e| (e, rx)) },
    )
}

fn sse_event(e: &ChatEvent) -> Event {
    let data = serde_json::to_string(e).unwrap_or_default();
    let event = Event::default().data(data);
    match &e.what {
        ChatWhat::Message { id, .. } => event.event("message").id(id.to_string()),
        ChatWhat::Typing { .. } => event.event("typing"),
        ChatWhat::Status { .. } => event.event("status"),
        ChatWhat::Started => event.event("started"),
    }
}

/// Where a stream resumes: the browser's Last-Event-ID after a reconnect, else `?after=`.
fn resume_after(headers: &HeaderMap, after: i64) -> i64 {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(after)
}

/// `stream`, ended when `still_allowed` says no (asked every `recheck`) or after `lifetime`.
fn while_allowed<S, F, Fut>(
    state: &AppState,
    stream: S,
    still_allowed: F,
) -> impl Stream<Item = S::Item> + Send + 'static
where
    S: Stream + Send + 'static,
    F: Fn(AppState) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let limits = state.settings.streams;
    let state = state.clone();
    let ended = async move {
        let watch = async move {
            loop {
                tokio::time::sleep(limits.recheck).await;
                if !still_allowed(state.clone()).await {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(limits.lifetime, watch).await;
    };
    stream.take_until(Box::pin(ended))
}

/// The staff member of the request with `headers`, asked again (session, activity, units).
async fn staff_again(state: &AppState, headers: &HeaderMap) -> Option<Staff> {
    // Asked as the stream itself: not a use that keeps an idle session alive.
    let mut builder = axum::http::Request::builder().uri("/staff/chats/events");
    for (name, value) in headers {
        builder = builder.header(name, value);
    }
    let (mut parts, ()) = builder.body(()).ok()?.into_parts();
    use axum::extract::FromRequestParts;
    Staff::from_request_parts(&mut parts, state).await.ok()
}

/// The live streams open on this node, in all and per client address.
#[derive(Default)]
pub(crate) struct OpenStreams {
    per_address: Mutex<HashMap<String, usize>>,
}

/// One open stream: counted while it lives.
pub(crate) struct StreamTicket {
    open: Arc<OpenStreams>,
    addr: String,
}

impl OpenStreams {
    /// A ticket for one more stream from `addr`, if the limits allow it.
    fn admit(self: &Arc<Self>, addr: &str, limits: &crate::StreamLimits) -> Option<StreamTicket> {
        let mut map = self.per_address.lock().unwrap_or_else(|e| e.into_inner());
        let total: usize = map.values().sum();
        let mine = map.get(addr).copied().unwrap_or(0);
        if total >= limits.max_open || mine >= limits.max_per_address {
            return None;
        }
        map.insert(addr.to_string(), mine + 1);
        Some(StreamTicket {
            open: self.clone(),
            addr: addr.to_string(),
        })
    }
}

impl Drop for StreamTicket {
    fn drop(&mut self) {
        let mut map = self
            .open
            .per_address
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.addr) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.addr);
            }
        }
    }
}

/// Serves `stream` as server-sent events, if one more stream from `addr` is allowed; else 503.
fn sse<S>(state: &AppState, addr: &crate::audit::ClientAddr, stream: S) -> Response
where
    S: Stream<Item = Result<Event, Infallible>> + Send + 'static,
{
    let Some(ticket) = state.streams.admit(&addr.0, &state.settings.streams) else {
        let mut res = (
            StatusCode::SERVICE_UNAVAILABLE,
            "too many live streams; the page tries again by itself",
        )
            .into_response();
        res.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from_static("10"));
        return res;
    };
    // The ticket lives as long as the stream.
    let stream = stream.map(move |e| {
        let _held = &ticket;
        e
    });
    let mut res = Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response();
    // Proxies must pass it through as it comes.
    res.headers_mut()
        .insert("x-accel-buffering", header::HeaderValue::from_static("no"));
    res
}

async fn citizen_events(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    addr: crate::audit::ClientAddr,
    Path((slug, token)): Path<(String, String)>,
    headers: HeaderMap,
    Query(q): Query<After>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let (config, inquiry) = match chat_of(&state, &t, &slug, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let after = resume_after(&headers, q.after);
    let events = event_stream(&state, config.municipality.id, &inquiry, after, "citizen");
    // The follow link may be revoked meanwhile.
    let allowed = while_allowed(&state, events, move |state| {
        let (t, slug, token) = (t.clone(), slug.clone(), token.clone());
        async move { chat_of(&state, &t, &slug, &token).await.is_ok() }
    });
    sse(&state, &addr, allowed)
}

async fn citizen_typing(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path((slug, token)): Path<(String, String)>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let (config, inquiry) = match chat_of(&state, &t, &slug, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    state.chats.publish(
        config.municipality.id,
        ChatEvent {
            inquiry_id: inquiry.id,
            unit_id: inquiry.unit_id,
            what: ChatWhat::Typing {
                by: "citizen".into(),
                name: inquiry.citizen_name.clone(),
            },
        },
    );
    StatusCode::NO_CONTENT.into_response()
}

#[derive(serde::Deserialize, Default)]
struct TranscriptForm {
    /// "yes" when the citizen ticked that the chat's address is theirs.
    #[serde(default)]
    confirm: String,
}

/// The conversation as plain text, for the transcript email.
fn transcript_text(
    t: &Tr,
    config: &TenantConfig,
    inquiry: &Inquiry,
    messages: &[Message],
) -> String {
    let zone = &config.municipality.time_zone;
    let mut out = t.args(
        "chat-transcript-intro",
        &[
            ("municipality", &config.municipality.name),
            ("reference", &inquiry.reference.to_string()),
        ],
    );
    out.push_str("\n\n");
    for m in messages {
        out.push_str(&format!(
            "[{}] {}:\n{}\n\n",
            views::when(m.created_at, zone),
            m.author_name,
            m.body
        ));
    }
    out
}

/// Sends the conversation to the address given for this chat, when the citizen confirms it.
async fn transcript(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path((slug, token)): Path<(String, String)>,
    Form(form): Form<TranscriptForm>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let (config, inquiry) = match chat_of(&state, &t, &slug, &token).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if form.confirm != "yes" {
        let msg = t.get("chat-transcript-unconfirmed");
        return conversation_page(&state, t, &slug, &token, "", Some(msg)).await;
    }
    let messages = match state
        .store
        .messages(config.municipality.id, inquiry.id, false)
        .await
    {
        Ok(m) => m,
        Err(e) => return crate::staff::failed(t, e),
    };
    let subject = t.args(
        "chat-transcript-subject",
        &[
            ("municipality", &config.municipality.name),
            ("reference", &inquiry.reference.to_string()),
        ],
    );
    let body = transcript_text(&t, &config, &inquiry, &messages);
    match torg_core::transcript::send(&*state.store, &inquiry, subject, body, Timestamp::now())
        .await
    {
        Ok(_) => Redirect::to(&format!("/chat/{slug}/c/{token}?done=transcript")).into_response(),
        Err(TranscriptError::Store(e)) => crate::staff::failed(t, e),
        Err(e) => {
            let max = torg_core::transcript::MAX_PER_CHAT.to_string();
            let msg = t.get1(e.key(), "max", &max);
            conversation_page(&state, t, &slug, &token, "", Some(msg)).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// The staff's side.

#[derive(Template)]
#[template(path = "chats.html")]
struct ChatsPage {
    t: Tr,
    c: views::Chrome,
    chats: Vec<ChatRow>,
}

struct ChatRow {
    id: InquiryId,
    reference: String,
    citizen: String,
    preview: String,
    received: String,
    assignee: String,
    status: String,
}

async fn staff_chats(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let tenant = staff.config.municipality.id;
    let filter = torg_store::InquiryFilter {
        channel: Some(Channel::Chat),
        visible_units: Some(staff.visible_units()),
        ..Default::default()
    };
    let (list, users) = match tokio::try_join!(
        state.store.list_inquiries(tenant, &filter, None, 200),
        state.store.list_users(tenant)
    ) {
        Ok(x) => x,
        Err(e) => return crate::staff::failed(t, e),
    };
    let zone = staff.config.municipality.time_zone.clone();
    let chats = list
        .into_iter()
        .map(|i| ChatRow {
            id: i.id,
            reference: i.reference.to_string(),
            citizen: i.citizen_name,
            preview: i.preview,
            received: views::when(i.received_at, &zone),
            assignee: i
                .assignee_id
                .and_then(|a| users.iter().find(|u| u.id == a))
                .map(|u| u.full_name.clone())
                .unwrap_or_else(|| t.get("chat-waiting")),
            status: views::status_label(&t, i.status),
        })
        .collect();
    let page = ChatsPage {
        c: crate::staff::chrome(&staff, "/staff/chats"),
        chats,
        t,
    };
    render(StatusCode::OK, &page)
}

/// New chats and messages of the units the staff member sees, for the list.
async fn staff_list_events(
    State(state): State<AppState>,
    addr: crate::audit::ClientAddr,
    staff: Staff,
    headers: HeaderMap,
) -> Response {
    let rx = state.chats.subscribe_tenant(staff.config.municipality.id);
    // The units seen are asked again with the session; a change ends the stream, and the
    // reconnect filters by the new ones.
    let units = staff.visible_units();
    let stream = live(rx)
        .filter(move |e| {
            let relevant = !matches!(e.what, ChatWhat::Typing { .. }) && staff.sees_unit(e.unit_id);
            std::future::ready(relevant)
        })
        .map(|e| Ok(sse_event(&e)));
    let allowed = while_allowed(&state, stream, move |state| {
        let (headers, units) = (headers.clone(), units.clone());
        async move {
            staff_again(&state, &headers)
                .await
                .is_some_and(|s| s.visible_units() == units)
        }
    });
    sse(&state, &addr, allowed)
}

/// A chat inquiry the staff member sees, or the answer to give.
async fn staff_chat(
    state: &AppState,
    t: &Tr,
    staff: &Staff,
    id: InquiryId,
) -> Result<Inquiry, Response> {
    let inquiry = crate::staff::visible_inquiry(state, t, staff, id).await?;
    if inquiry.channel != Channel::Chat {
        let msg = t.get("error-unknown-inquiry");
        return Err(views::error_page(
            t.clone(),
            StatusCode::NOT_FOUND,
            "error-heading-not-found",
            msg,
            "/staff/chats",
        ));
    }
    Ok(inquiry)
}

async fn staff_events(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    addr: crate::audit::ClientAddr,
    staff: Staff,
    Path(id): Path<InquiryId>,
    headers: HeaderMap,
    Query(q): Query<After>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let inquiry = match staff_chat(&state, &t, &staff, id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let after = resume_after(&headers, q.after);
    let events = event_stream(
        &state,
        staff.config.municipality.id,
        &inquiry,
        after,
        "staff",
    );
    // Logged out, expired, deactivated, or no longer seeing the inquiry's unit: it ends.
    let allowed = while_allowed(&state, events, move |state| {
        let (headers, t) = (headers.clone(), t.clone());
        async move {
            match staff_again(&state, &headers).await {
                Some(staff) => staff_chat(&state, &t, &staff, id).await.is_ok(),
                None => false,
            }
        }
    });
    sse(&state, &addr, allowed)
}

/// A chat the staff member may work on, after the form's CSRF check.
async fn chat_to_handle(
    state: &AppState,
    t: &Tr,
    staff: &Staff,
    id: InquiryId,
    csrf: &str,
) -> Result<Inquiry, Response> {
    staff
        .check_csrf(csrf)
        .map_err(IntoResponse::into_response)?;
    let inquiry = staff_chat(state, t, staff, id).await?;
    if !staff.access.may_handle(staff.unit_access(inquiry.unit_id)) {
        return Err(crate::staff::forbidden(t.clone()));
    }
    Ok(inquiry)
}

#[derive(serde::Deserialize, Default)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

fn first_name(full: &str) -> String {
    full.split_whitespace().next().unwrap_or(full).to_string()
}

async fn staff_typing(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Path(id): Path<InquiryId>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let inquiry = match chat_to_handle(&state, &t, &staff, id, &form.csrf).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    state.chats.publish(
        inquiry.tenant_id,
        ChatEvent {
            inquiry_id: inquiry.id,
            unit_id: inquiry.unit_id,
            what: ChatWhat::Typing {
                by: "staff".into(),
                name: first_name(&staff.user.full_name),
            },
        },
    );
    StatusCode::NO_CONTENT.into_response()
}

/// Takes a chat over: it is assigned to the staff member, who answers from now on, and the
/// citizen is told who.
async fn take_over(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: crate::audit::ClientAddr,
    Path(id): Path<InquiryId>,
    Form(form): Form<CsrfForm>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let inquiry = match chat_to_handle(&state, &t, &staff, id, &form.csrf).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let tenant = staff.config.municipality.id;
    let actor = torg_core::actor::Actor::user(&staff.user, addr.0);
    if let Err(e) = torg_core::casework::take_over_chat(
        &*state.store,
        &actor,
        tenant,
        id,
        staff.user.id,
        Timestamp::now(),
    )
    .await
    {
        return crate::staff::failed(t, e);
    }
    let unit = staff
        .config
        .unit(inquiry.unit_id)
        .map(|u| u.name.clone())
        .unwrap_or_default();
    // Told in the citizen's language, not the staff member's.
    let citizen_t = Tr::new(state.catalog.clone(), &inquiry.language);
    state.chats.publish(
        tenant,
        ChatEvent {
            inquiry_id: id,
            unit_id: inquiry.unit_id,
            what: ChatWhat::Status {
                text: citizen_t.args(
                    "chat-taken-over",
                    &[
                        ("name", &first_name(&staff.user.full_name)),
                        ("unit", &unit),
                    ],
                ),
            },
        },
    );
    Redirect::to(&format!("/staff/inquiries/{id}?done=taken")).into_response()
}
