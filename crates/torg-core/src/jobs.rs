//! Jobs that run once per installation (one node at a time, with a takeover): the Mastodon
//! reader, deadline warnings, retention, listening, reach, surveys and the crisis
//! expander. Every node runs [`once_per_installation`] for each; the node that holds the
//! job's lease runs the job and renews the lease every [`RENEW`]; a node that dies stops
//! renewing, and within [`TTL`] (+ one renewal) another node takes the job over. The
//! outbox's senders are not jobs: they run on every node and share the work by their
//! claims. Work in parts (the municipalities' mailboxes) is shared among the nodes by a
//! [`Share`].

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

/// What a municipality's staff are shown of the leases: the installation's jobs and the
/// reading of its own mailbox, by kind (`job-<kind>` in the catalogue); `None` for other
/// municipalities' mailboxes and the nodes' presence.
pub fn shown_to(job: &str, tenant: torg_domain::TenantId) -> Option<&str> {
    match job.split_once(':') {
        None => Some(job),
        Some(("mail", t)) if t == tenant.to_string() => Some("mail"),
        Some(_) => None,
    }
}

/// The lease by which a node says it is alive (renewed with its shares' parts).
fn presence(node: &str) -> String {
    format!("node:{node}")
}

/// Work in parts (each municipality's mailbox) shared among the nodes: each part is held by
/// one node at a time under the lease `<kind>:<part>`. Every node takes its fair share (the
/// parts over the live nodes, rounded up), gives back what is over it so that a node started
/// again gets its share, and takes over the parts of a node that died once their leases run
/// out (within [`TTL`] and a round). Live nodes are known by their `node:<name>` lease.
pub struct Share {
    kind: &'static str,
    node: String,
    held: std::collections::BTreeSet<String>,
}

impl Share {
    pub fn new(kind: &'static str, node: String) -> Share {
        Share {
            kind,
            node,
            held: Default::default(),
        }
    }

    fn lease(&self, part: &str) -> String {
        format!("{}:{part}", self.kind)
    }

    /// One round (every [`RENEW`]): this node's presence and its parts renewed, parts over
    /// its share given back, free parts taken up to it. Returns the parts this node holds.
    pub async fn round(
        &mut self,
        store: &dyn Store,
        parts: &[String],
        now: Timestamp,
    ) -> Result<&std::collections::BTreeSet<String>, torg_store::StoreError> {
        store
            .claim_job(&presence(&self.node), &self.node, now, TTL)
            .await?;
        let holders = store.job_holders().await?;
        // Nodes gone for good (a started node is a new name) are forgotten.
        for h in &holders {
            if h.job.starts_with("node:") && h.expires_at + TTL < now {
                store.release_job(&h.job, &h.holder).await?;
            }
        }
        let live = holders
            .iter()
            .filter(|h| h.job.starts_with("node:") && h.expires_at > now)
            .count()
            .max(1);
        let fair = parts.len().div_ceil(live);
        for part in std::mem::take(&mut self.held) {
            let lease = self.lease(&part);
            if !parts.contains(&part) {
                store.release_job(&lease, &self.node).await?;
            } else if self.held.len() >= fair {
                tracing::info!(part = %lease, "given back for another node to take");
                store.release_job(&lease, &self.node).await?;
            } else if store.claim_job(&lease, &self.node, now, TTL).await? {
                self.held.insert(part);
            }
        }
        let others: std::collections::HashSet<&str> = holders
            .iter()
            .filter(|h| h.holder != self.node && h.expires_at > now)
            .map(|h| h.job.as_str())
            .collect();
        for part in parts {
            if self.held.len() >= fair {
                break;
            }
            let lease = self.lease(part);
            if !self.held.contains(part)
                && !others.contains(lease.as_str())
                && store.claim_job(&lease, &self.node, now, TTL).await?
            {
                tracing::info!(part = %lease, node = %self.node, "this node takes the part");
                self.held.insert(part.clone());
            }
        }
        Ok(&self.held)
    }

    /// Lets every part and this node's presence go (a node stopping).
    pub async fn release_all(&mut self, store: &dyn Store) {
        let mut leases: Vec<String> = self.held.iter().map(|p| self.lease(p)).collect();
        leases.push(presence(&self.node));
        self.held.clear();
        for lease in leases {
            if let Err(e) = store.release_job(&lease, &self.node).await {
                tracing::warn!(job = %lease, error = %e, "lease not let go");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use torg_domain::TenantId;

    #[test]
    fn staff_see_the_installations_jobs_and_their_own_mailbox_only() {
        let t = TenantId(7);
        assert_eq!(shown_to("retention", t), Some("retention"));
        assert_eq!(shown_to("mail:7", t), Some("mail"));
        assert_eq!(shown_to("mail:70", t), None);
        assert_eq!(shown_to("node:host:12", t), None);
    }
}
