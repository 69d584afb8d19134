//! Jobs that run once per installation (one node at a time, with a takeover): the mail and
//! Mastodon readers, deadline warnings, retention, listening, reach, surveys and the crisis
//! expander. Every node runs [`once_per_installation`] for each; the node that holds the
//! job's lease runs the job and renews the lease every [`RENEW`]; a node that dies stops
//! renewing, and within [`TTL`] (+ one renewal) another node takes the job over. The
//! outbox's senders are not jobs: they run on every node and share the work by their
//! claims.

use jiff::{SignedDuration, Timestamp};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::watch;
use torg_store::Store;

/// How long a lease holds without renewal.
pub const TTL: SignedDuration = SignedDuration::from_secs(30);
/// How often the holder renews it and the others try to take it.
pub const RENEW: std::time::Duration = std::time::Duration::from_secs(10);

/// This node's name among the nodes: the host's name and the process id (a node started
/// again is a new holder, and takes its jobs back when the old leases run out).
pub fn node_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into());
    format!("{host}:{}", std::process::id())
}

/// Runs `job` (given its own stop signal) while this node holds the lease `name`; stops
/// it when the lease is lost (or cannot be renewed before it runs out), and lets the lease
/// go when `shutdown` turns true.
pub async fn once_per_installation<F, Fut>(
    store: Arc<dyn Store>,
    name: &'static str,
    node: String,
    job: F,
    mut shutdown: watch::Receiver<bool>,
) where
    F: Fn(watch::Receiver<bool>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut running: Option<(watch::Sender<bool>, tokio::task::JoinHandle<()>)> = None;
    let mut held_until: Option<Timestamp> = None;
    while !*shutdown.borrow() {
        let now = Timestamp::now();
        let holds = match store.claim_job(name, &node, now, TTL).await {
            Ok(true) => {
                held_until = Some(now + TTL);
                true
            }
            Ok(false) => false,
            // The database does not answer: keep going only while the last lease holds.
            Err(e) => {
                tracing::warn!(job = name, error = %e, "job lease not renewed");
                held_until
                    .is_some_and(|until| Timestamp::now() < until - SignedDuration::from_secs(5))
            }
        };
        match (&running, holds) {
            (None, true) => {
                tracing::info!(job = name, node = %node, "this node runs the job");
                let (stop, stopping) = watch::channel(false);
                running = Some((stop, tokio::spawn(job(stopping))));
            }
            (Some(_), false) => {
                tracing::info!(job = name, node = %node, "the job is another node's now");
                if let Some((stop, task)) = running.take() {
                    let _ = stop.send(true);
                    let _ = task.await;
                }
                held_until = None;
            }
            _ => {}
        }
        tokio::select! {
            _ = tokio::time::sleep(RENEW) => {}
            _ = shutdown.changed() => {}
        }
    }
    if let Some((stop, task)) = running.take() {
        let _ = stop.send(true);
        let _ = task.await;
        if let Err(e) = store.release_job(name, &node).await {
            tracing::warn!(job = name, error = %e, "job lease not let go");
        }
    }
}
