//! `/metrics` in the Prometheus text format, for an operator token: requests and latency by
//! part of the application and status class, and the inquiry writer's queue.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const CLASSES: [&str; 6] = ["portal", "staff", "api", "health", "hooks", "other"];
const STATUSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];
/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 8] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.1, 0.5, 2.5];

#[derive(Default)]
pub struct Metrics {
    requests: [[AtomicU64; 5]; 6],
    /// Per class: counts per bucket (cumulative is computed when printed), sum in µs, count.
    buckets: [[AtomicU64; 8]; 6],
    sum_micros: [AtomicU64; 6],
    count: [AtomicU64; 6],
    /// Webhook payloads refused, by [`Rejection`].
    webhooks_rejected: [AtomicU64; 6],
    /// Webhook events taken (new, threaded or repeated).
    webhook_events: AtomicU64,
}

/// Why a network's webhook was refused.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rejection {
    /// No or a wrong X-Hub-Signature-256.
    Signature = 0,
    /// Older than the retry window (or from the future).
    Replay = 1,
    Oversize = 2,
    /// For an account the municipality has not set up.
    UnknownAccount = 3,
    /// For an account the channel registry has not approved.
    NotApproved = 4,
    /// Not a payload Torg reads.
    Malformed = 5,
}

const REJECTIONS: [&str; 6] = [
    "signature",
    "replay",
    "oversize",
    "unknown_account",
    "not_approved",
    "malformed",
];

fn class_of(path: &str) -> usize {
    if path.starts_with("/api/") {
        2
    } else if path.starts_with("/staff") {
        1
    } else if path.starts_with("/k/") || path == "/" {
        0
    } else if path == "/healthz" || path == "/metrics" {
        3
    } else if path.starts_with("/hooks/") {
        // Gateways' and networks' callbacks: a forged one shows as a 4xx here.
        4
    } else {
        5
    }
}

impl Metrics {
    fn observe(&self, class: usize, status: StatusCode, seconds: f64) {
        let s = (usize::from(status.as_u16() / 100)).clamp(1, 5) - 1;
        self.requests[class][s].fetch_add(1, Ordering::Relaxed);
        if let Some(b) = BUCKETS.iter().position(|limit| seconds <= *limit) {
            self.buckets[class][b].fetch_add(1, Ordering::Relaxed);
        }
        self.sum_micros[class].fetch_add((seconds * 1e6) as u64, Ordering::Relaxed);
        self.count[class].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn webhook_rejected(&self, why: Rejection) {
        self.webhooks_rejected[why as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn webhook_events(&self, n: usize) {
        self.webhook_events.fetch_add(n as u64, Ordering::Relaxed);
    }

    fn render(&self, queue: usize) -> String {
        let mut out = String::new();
        out.push_str("# HELP torg_webhooks_rejected_total Webhook payloads refused, by reason.\n# TYPE torg_webhooks_rejected_total counter\n");
        for (i, reason) in REJECTIONS.iter().enumerate() {
            let n = self.webhooks_rejected[i].load(Ordering::Relaxed);
            out.push_str(&format!(
                "torg_webhooks_rejected_total{{reason=\"{reason}\"}} {n}\n"
            ));
        }
        out.push_str("# HELP torg_webhook_events_total Social-media events taken from webhooks.\n# TYPE torg_webhook_events_total counter\n");
        out.push_str(&format!(
            "torg_webhook_events_total {}\n",
            self.webhook_events.load(Ordering::Relaxed)
        ));
        out.push_str("# HELP torg_http_requests_total HTTP requests by part of Torg and status class.\n# TYPE torg_http_requests_total counter\n");
        for (c, class) in CLASSES.iter().enumerate() {
            for (s, status) in STATUSES.iter().enumerate() {
                let n = self.requests[c][s].load(Ordering::Relaxed);
                out.push_str(&format!(
                    "torg_http_requests_total{{class=\"{class}\",status=\"{status}\"}} {n}\n"
                ));
            }
        }
        out.push_str("# HELP torg_http_request_duration_seconds Time to answer a request.\n# TYPE torg_http_request_duration_seconds histogram\n");
        for (c, class) in CLASSES.iter().enumerate() {
            let mut cumulative = 0;
            for (b, limit) in BUCKETS.iter().enumerate() {
                cumulative += self.buckets[c][b].load(Ordering::Relaxed);
                out.push_str(&format!("torg_http_request_duration_seconds_bucket{{class=\"{class}\",le=\"{limit}\"}} {cumulative}\n"));
            }
            let count = self.count[c].load(Ordering::Relaxed);
            out.push_str(&format!("torg_http_request_duration_seconds_bucket{{class=\"{class}\",le=\"+Inf\"}} {count}\n"));
            out.push_str(&format!(
                "torg_http_request_duration_seconds_sum{{class=\"{class}\"}} {}\n",
                self.sum_micros[c].load(Ordering::Relaxed) as f64 / 1e6
            ));
            out.push_str(&format!(
                "torg_http_request_duration_seconds_count{{class=\"{class}\"}} {count}\n"
            ));
        }
        out.push_str("# HELP torg_inquiry_writer_queue Inquiries waiting for the group-commit writer.\n# TYPE torg_inquiry_writer_queue gauge\n");
        out.push_str(&format!("torg_inquiry_writer_queue {queue}\n"));
        out
    }
}

/// Counts every request.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let class = class_of(req.uri().path());
    let started = Instant::now();
    let res = next.run(req).await;
    state
        .metrics
        .observe(class, res.status(), started.elapsed().as_secs_f64());
    res
}

/// `GET /metrics`, for `Authorization: Bearer <metrics_token>` only.
pub async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let Some(expected) = state.settings.metrics_token.as_deref() else {
        return (
            StatusCode::NOT_FOUND,
            "metrics are off; set metrics_token in the configuration\n",
        )
            .into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !crate::auth::constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        return (
            StatusCode::UNAUTHORIZED,
            "send the operator token as 'Authorization: Bearer <metrics_token>'\n",
        )
            .into_response();
    }
    let mut body = state.metrics.render(state.store.writer_queue());
    // Each connector's last state: 1 when its last attempt worked.
    if let Ok(statuses) = state.store.connector_statuses(None).await {
        body.push_str("# HELP torg_connector_up Whether a connector's last attempt worked (mailbox, outgoing mail, SMS gateway).\n# TYPE torg_connector_up gauge\n");
        for s in statuses {
            body.push_str(&format!(
                "torg_connector_up{{tenant=\"{}\",connector=\"{}\"}} {}\n",
                s.tenant_id,
                s.connector,
                u8::from(s.ok)
            ));
        }
    }
    // Which node runs each job that runs once per installation, and whether its lease holds.
    if let Ok(holders) = state.store.job_holders().await {
        body.push_str("# HELP torg_job_held Whether the node named holds the job's lease now (1), or held it last and let it run out (0).\n# TYPE torg_job_held gauge\n");
        let now = jiff::Timestamp::now();
        for h in holders {
            body.push_str(&format!(
                "torg_job_held{{job=\"{}\",node=\"{}\"}} {}\n",
                label(&h.job),
                label(&h.holder),
                u8::from(h.expires_at > now)
            ));
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// A label's value as Prometheus's text format writes it (backslash, quote and newline
/// escaped).
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
