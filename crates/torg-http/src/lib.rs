//! Torg's web layer: the citizen portal, the staff UI and the JSON API, on axum.
//!
//! Architecture invariant: no SQL here. Handlers call `torg-core` use cases and the
//! `torg-store` contract; HTML comes only from auto-escaping askama templates, so citizen
//! text is always shown, never executed.

pub mod acknowledge;
mod admin;
pub mod api;
mod archive;
mod audit;
mod auth;
mod cache;
mod casework;
mod chat;
mod crisis;
pub mod error;
mod evaluation;
pub mod i18n;
mod journal;
mod listening;
mod meta_hook;
mod metrics;
mod moderation;
mod openapi;
mod password;
mod phone;
mod portal;
mod press;
mod publish;
mod ratelimit;
mod registry;
mod routes;
mod sms_hook;
mod sms_settings;
mod sso;
mod staff;
mod subscriptions;
mod tokens;
mod views;
pub mod webhooks;
pub mod wheel;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use torg_core::intake::IntakeLimits;
use torg_store::Store;

pub use auth::authorize_staff_request;
pub use i18n::Catalog;
pub use ratelimit::RateLimits;

/// Makes ring the TLS crypto provider of this process (reqwest is built without one, to
/// spare a large C build). Call before building an HTTP client; calling again does nothing.
pub fn use_ring_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// What the web layer needs to know from the configuration.
#[derive(Debug, Clone, Default)]
pub struct WebSettings {
    pub limits: IntakeLimits,
    /// Mark cookies `Secure` and send HSTS: set when Torg is served over HTTPS.
    pub secure_cookies: bool,
    /// The address citizens reach Torg by, for follow links (e.g. https://torg.kommune.no).
    /// When unset, links are built from the request's Host header.
    pub public_url: Option<String>,
    /// The operator token that may read `/metrics`; unset turns metrics off.
    pub metrics_token: Option<String>,
    /// Warn when this share of an inquiry's time has passed, in thousandths [default 750].
    pub escalation_permille: Option<i64>,
    pub rate_limits: RateLimits,
    /// Behind a reverse proxy: take the client's address from the last `X-Forwarded-For`
    /// entry (for rate limits and the audit log). Only set when every request comes through
    /// the proxy, or clients can choose their address.
    pub trust_forwarded_for: bool,
    /// Seals the mail servers' passwords set in the staff UI; unset, they cannot be set there.
    pub secret_key: Option<torg_core::sealing::SecretKey>,
    /// Where connectors may go, and whether mail may go unencrypted.
    pub connectors: torg_core::connectors::ConnectorPolicy,
    /// How long live event streams last, and how often they ask again whether they may.
    pub streams: StreamLimits,
    /// A staff session unused this long is over [default: an hour].
    pub session_idle: Option<std::time::Duration>,
}

/// Live event streams (the chat's, the inquiry page's) end when the access that opened them
/// ends: asked again every `recheck`, and after `lifetime` in any case (the browser
/// reconnects, and is checked afresh).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    pub recheck: std::time::Duration,
    pub lifetime: std::time::Duration,
    /// Streams open at once on this node, and from one client address; more are refused
    /// with 503 (the browser tries again).
    pub max_open: usize,
    pub max_per_address: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            recheck: std::time::Duration::from_secs(30),
            lifetime: std::time::Duration::from_secs(3600),
            max_open: 5_000,
            max_per_address: 20,
        }
    }
}

impl WebSettings {
    pub fn session_idle(&self) -> std::time::Duration {
        self.session_idle
            .unwrap_or(std::time::Duration::from_secs(3600))
            .max(std::time::Duration::from_secs(1))
    }

    pub fn escalation_permille(&self) -> i64 {
        self.escalation_permille.unwrap_or(750).clamp(1, 1000)
    }
}

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub catalog: Arc<Catalog>,
    pub settings: Arc<WebSettings>,
    pub(crate) cache: Arc<cache::Caches>,
    pub(crate) metrics: Arc<metrics::Metrics>,
    pub(crate) limiters: Arc<ratelimit::Limiters>,
    pub(crate) logins: Arc<ratelimit::LoginThrottle>,
    /// Live chat events (in this process).
    pub(crate) chats: Arc<chat::ChatHub>,
    /// The live streams open now.
    pub(crate) streams: Arc<chat::OpenStreams>,
}

/// Tells every node on the database to read cached settings, tokens and sessions afresh:
/// for a change made beside the web layer (the CLI), so that it holds everywhere at once.
pub async fn tell_nodes_to_forget(store: &dyn Store) -> Result<(), torg_store::StoreError> {
    match store.node_bus() {
        Some(bus) => bus.send(cache::CACHE_TOPIC, "all").await,
        None => Ok(()),
    }
}

impl AppState {
    /// Joins the other nodes (servers) that share this database, where it can carry live
    /// events between them (PostgreSQL): live chat then works whichever node a citizen and a
    /// staff member reach. Returns whether it could; with SQLite there is one node.
    pub async fn join_nodes(&self) -> Result<bool, torg_store::StoreError> {
        let Some(bus) = self.store.node_bus() else {
            return Ok(false);
        };
        // What another node (or the CLI) changed is read afresh here as soon as it is told.
        let mut told = bus.listen(cache::CACHE_TOPIC).await?;
        let caches = self.cache.clone();
        tokio::spawn(async move {
            while let Some(what) = told.recv().await {
                caches.forget(&what);
            }
        });
        chat::join_nodes(self).await
    }

    pub fn new(store: Arc<dyn Store>, catalog: Arc<Catalog>, settings: WebSettings) -> AppState {
        AppState {
            store,
            catalog,
            limiters: Arc::new(ratelimit::Limiters::new(settings.rate_limits)),
            logins: Arc::default(),
            settings: Arc::new(settings),
            cache: Arc::new(cache::Caches::default()),
            metrics: Arc::new(metrics::Metrics::default()),
            chats: Arc::new(chat::ChatHub::default()),
            streams: Arc::default(),
        }
    }

    /// Live chat channels held in memory now (watched conversations and municipalities).
    pub fn live_channels(&self) -> usize {
        self.chats.channels()
    }

    /// What deadline warnings need from the installation: texts, the public address (else
    /// `fallback_base_url`) and the warning share.
    pub fn warnings(&self, fallback_base_url: &str) -> torg_core::escalation::Warnings {
        torg_core::escalation::Warnings {
            catalog: self.catalog.clone(),
            base_url: self
                .settings
                .public_url
                .clone()
                .unwrap_or_else(|| fallback_base_url.to_string()),
            permille: self.settings.escalation_permille(),
        }
    }

    /// Drops cached municipality settings (units, rules, policies, calendar), so that a change
    /// made beside the web layer is seen at once rather than within five seconds.
    pub fn forget_cached_settings(&self) {
        self.cache.forget("settings");
        self.tell_nodes("settings");
    }

    /// Drops cached API tokens, so that a revocation holds on this node at once (on the
    /// others as the node bus brings it).
    pub(crate) fn forget_cached_tokens(&self) {
        self.cache.forget("tokens");
        self.tell_nodes("tokens");
    }

    /// Drops cached sessions, so that a change to users, roles or memberships applies to the
    /// next request of everyone logged in, on every node.
    pub(crate) fn forget_cached_sessions(&self) {
        self.cache.forget("sessions");
        self.tell_nodes("sessions");
    }

    /// Tells the other nodes on this database what to read afresh (nothing without a bus).
    fn tell_nodes(&self, what: &'static str) {
        if self.store.node_bus().is_none() {
            return;
        }
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Some(bus) = store.node_bus()
                && let Err(e) = bus.send(cache::CACHE_TOPIC, what).await
            {
                tracing::warn!(error = %e, "node bus: a cache change not told");
            }
        });
    }
}

/// Every route of the application, with its body limit.
fn all_routes(limits: &IntakeLimits) -> routes::Routes {
    // Room for the largest attachment, the text fields and multipart framing.
    let form_limit = limits.max_attachment_bytes + 4 * limits.text.max_text_bytes + 64 * 1024;
    let api_limit = 2 * limits.text.max_text_bytes + 16 * 1024;
    routes::Routes::new()
        .get("/healthz", healthz)
        .get("/metrics", metrics::metrics)
        .get("/static/{file}", static_file)
        .merge(portal::routes().map(|r| r.layer(DefaultBodyLimit::max(form_limit))))
        .merge(staff::writing_routes().map(|r| r.layer(DefaultBodyLimit::max(form_limit))))
        .merge(chat::routes().map(|r| r.layer(DefaultBodyLimit::max(api_limit))))
        .merge(sms_hook::routes().map(|r| r.layer(DefaultBodyLimit::max(api_limit))))
        // Reads its body itself, to count an oversized one.
        .merge(meta_hook::routes())
        .merge(journal::routes())
        .merge(
            staff::routes()
                .merge(admin::routes())
                .merge(sms_settings::routes())
                .merge(tokens::routes())
                .merge(webhooks::routes())
                .merge(casework::routes())
                .merge(password::routes())
                .merge(wheel::routes())
                .merge(publish::routes())
                .merge(press::routes())
                .merge(sso::routes())
                .merge(phone::routes())
                .merge(registry::routes())
                .merge(moderation::routes())
                .merge(archive::routes())
                .merge(crisis::routes())
                .merge(subscriptions::routes())
                .merge(evaluation::routes())
                .merge(evaluation::portal_routes())
                .merge(listening::routes())
                .map(|r| r.layer(DefaultBodyLimit::max(api_limit))),
        )
        .nest(
            "/api/v1",
            api::routes().map(|r| r.layer(DefaultBodyLimit::max(api_limit))),
        )
}

/// Every route Torg answers, as (method, path pattern): what the access test walks.
pub fn route_list() -> Vec<(axum::http::Method, String)> {
    all_routes(&IntakeLimits::default()).into_parts().1
}

/// The longest a request may take (a 25 MiB attachment over a slow line included).
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);
/// Requests handled at once; more wait for a turn.
const MAX_IN_FLIGHT: usize = 512;

/// The whole application as one router.
pub fn router(state: AppState) -> Router {
    let secure = state.settings.secure_cookies;
    let (routes, _) = all_routes(&state.settings.limits).into_parts();
    routes
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            ratelimit::limit,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            views::language,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(middleware::from_fn(move |req, next| {
            security_headers(req, next, secure)
        }))
        // No request is answered for ever, nor more than so many at once: a flood waits its
        // turn and the rest of the server answers. (A live stream counts only until its
        // first byte.)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
            MAX_IN_FLIGHT,
        ))
        .with_state(state)
}

async fn healthz(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

async fn not_found(req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        return error::ApiError::not_found("route").into_response();
    }
    (StatusCode::NOT_FOUND, axum::response::Html(
        "<!doctype html><html lang=\"nb\"><head><meta charset=\"utf-8\"><title>Fant ikke siden</title>\
         <link rel=\"stylesheet\" href=\"/static/torg.css\"></head><body><main><h1>Fant ikke siden</h1>\
         <p>Sjekk adressen, eller gå til <a href=\"/\">forsiden</a>.</p></main></body></html>",
    ))
        .into_response()
}

#[derive(rust_embed::Embed)]
#[folder = "static/"]
struct Assets;

async fn static_file(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    let Some(asset) = Assets::get(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let content_type = match file.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        asset.data.into_owned(),
    )
        .into_response()
}

/// Whether a page at `path` may show someone's conversation or a staff page: the chat, the
/// follow page, the staff pages and the API.
fn holds_a_conversation(path: &str) -> bool {
    path.starts_with("/chat/")
        || path.starts_with("/staff/")
        || path.starts_with("/api/")
        || path
            .strip_prefix("/k/")
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(_, rest)| rest.starts_with("follow/"))
}

/// Security headers on every response. No inline script anywhere, so the policy can forbid it.
/// The chat page is the one page another site may frame: the widget on the municipality's
/// site shows it. It holds no staff session, only its own conversation.
async fn security_headers(req: Request, next: Next, secure: bool) -> Response {
    let path = req.uri().path();
    let framable = path.starts_with("/chat/");
    let private = holds_a_conversation(path);
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    // Nothing of a conversation or a staff page stays in a shared computer's cache.
    if private && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        if framable {
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; \
                 object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors *",
            )
        } else {
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; \
                 object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
            )
        },
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if !framable {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    // Follow links carry a secret token: never leak it to other sites.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    if secure {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}
