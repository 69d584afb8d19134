//! The mail reader of `torg serve`: the municipalities' mailboxes this node holds, in turn,
//! woken by IDLE. Every node runs it; the mailboxes are shared among the nodes
//! ([`torg_core::jobs::Share`]: each read by one node at a time, a dead node's taken over
//! within a minute). (Sending is the core's delivery loop with [`crate::smtp::SmtpDelivery`].)
//! Errors are logged and the next round tries again.

use crate::ingest::Mailroom;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use torg_core::acknowledge::Acknowledgements;
use torg_core::intake::{IntakeLimits, TenantConfig};
use torg_core::sealing::SecretKey;
use torg_domain::TenantId;
use torg_domain::connector::HostRules;
use torg_store::Store;

/// How often mailboxes are read when they offer no IDLE.
pub const POLL: Duration = Duration::from_secs(15);

/// The municipalities' mail accounts with their passwords opened.
pub async fn accounts(
    store: &dyn Store,
    key: &SecretKey,
) -> Result<Vec<(TenantId, torg_store::MailAccount)>, crate::MailError> {
    store
        .mail_accounts()
        .await?
        .into_iter()
        .map(|(tenant, a)| Ok((tenant, opened(tenant, a, key)?)))
        .collect()
}

/// A mail account with its IMAP and SMTP passwords opened with the installation's key.
pub fn opened(
    tenant: TenantId,
    mut account: torg_store::MailAccount,
    key: &SecretKey,
) -> Result<torg_store::MailAccount, crate::MailError> {
    use torg_core::sealing::Place;
    let open = |place: Place<'_>, sealed: &str| {
        key.open(&place, sealed)
            .map_err(|e| crate::MailError::Login(e.to_string()))
    };
    account.imap.password = open(Place::MailImap { tenant }, &account.imap.password)?;
    account.smtp.password = open(Place::MailSmtp { tenant }, &account.smtp.password)?;
    Ok(account)
}

/// One pass over the mailboxes of the municipalities in `only` (all when `None`) whose
/// server `hosts` (the installation's `connector_hosts`) allows; one it no longer allows is
/// not read, and its connector says why.
pub async fn poll_all(
    store: &dyn Store,
    key: &SecretKey,
    hosts: &HostRules,
    limits: IntakeLimits,
    acknowledgements: &Acknowledgements,
    only: Option<&BTreeSet<TenantId>>,
) -> Result<crate::imap::PollReport, crate::MailError> {
    let mut total = crate::imap::PollReport::default();
    for (tenant, account) in accounts(store, key).await? {
        if only.is_some_and(|only| !only.contains(&tenant)) {
            continue;
        }
        let Some(m) = store.municipality(tenant).await? else {
            continue;
        };
        if !hosts.allows(&account.imap.host) {
            let status = torg_store::ConnectorStatus {
                tenant_id: tenant,
                connector: "imap".into(),
                ok: false,
                detail: format!(
                    "{} is not among the hosts this installation lets connectors reach (connector_hosts); the mailbox is not read",
                    account.imap.host
                ),
                at: jiff::Timestamp::now(),
            };
            tracing::warn!(%tenant, error = %status.detail, "mailbox not read");
            if let Err(e) = store.set_connector_status(&status).await {
                tracing::warn!(error = %e, "connector status not saved");
            }
            continue;
        }
        let config = Arc::new(TenantConfig::load(store, m).await?);
        let ack = acknowledgements.for_tenant(config.clone());
        let room = Mailroom {
            store,
            config: &config,
            account: &account,
            limits,
            acknowledger: Some(&*ack),
        };
        let result = crate::imap::poll(&room, 200).await;
        let status = torg_store::ConnectorStatus {
            tenant_id: tenant,
            connector: "imap".into(),
            ok: result.is_ok(),
            detail: match &result {
                Ok(r) => format!("{} messages read", r.fetched),
                Err(e) => torg_domain::secret::redact(&e.to_string(), &account.secrets()),
            },
            at: jiff::Timestamp::now(),
        };
        if let Err(e) = store.set_connector_status(&status).await {
            tracing::warn!(error = %e, "connector status not saved");
        }
        match result {
            Ok(r) => {
                if r.fetched > 0 {
                    tracing::info!(municipality = %config.municipality.slug, ?r, "mailbox read");
                }
                total.fetched += r.fetched;
                total.created += r.created;
                total.threaded += r.threaded;
                total.automatic += r.automatic;
                total.duplicates += r.duplicates;
                total.quarantined += r.quarantined;
            }
            Err(_) => {
                tracing::warn!(municipality = %config.municipality.slug, error = %status.detail, "mailbox not read")
            }
        }
    }
    Ok(total)
}

/// Watches one mailbox with IDLE and wakes the reader whenever it changes. Ends when the server
/// offers no IDLE (polling alone serves that mailbox); after an error it waits and tries again.
async fn watch(account: torg_store::MailAccount, wake: Arc<tokio::sync::Notify>) {
    loop {
        match crate::imap::wait_for_change(&account.imap, &account.imap_folder, IDLE_RENEWAL).await
        {
            Ok(crate::imap::Wait::Changed) => wake.notify_one(),
            Ok(crate::imap::Wait::Quiet) => {}
            Ok(crate::imap::Wait::NoIdle) => return,
            Err(e) => {
                tracing::debug!(address = %account.address, error = %torg_domain::secret::redact(&e.to_string(), &account.secrets()), "mailbox not watched; trying again");
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
        }
    }
}

/// IDLE is renewed this often (servers end it after 30 minutes; RFC 2177 asks for less).
const IDLE_RENEWAL: Duration = Duration::from_secs(25 * 60);

/// Keeps one IDLE watcher per mailbox this node holds (`held`), following changes to the
/// mail settings and to what it holds.
async fn watch_all(
    store: Arc<dyn Store>,
    key: SecretKey,
    hosts: HostRules,
    mut held: tokio::sync::watch::Receiver<BTreeSet<TenantId>>,
    wake: Arc<tokio::sync::Notify>,
) {
    let mut watchers: HashMap<
        TenantId,
        (torg_store::MailServer, String, tokio::task::JoinHandle<()>),
    > = HashMap::new();
    loop {
        if let Ok(accounts) = accounts(&*store, &key).await {
            let mine = held.borrow().clone();
            let current: HashMap<TenantId, torg_store::MailAccount> = accounts
                .into_iter()
                .filter(|(t, a)| mine.contains(t) && hosts.allows(&a.imap.host))
                .collect();
            watchers.retain(|tenant, (server, folder, task)| {
                let same = current
                    .get(tenant)
                    .is_some_and(|a| a.imap == *server && a.imap_folder == *folder);
                if !same {
                    task.abort();
                }
                same
            });
            for (tenant, account) in current {
                watchers.entry(tenant).or_insert_with(|| {
                    let (server, folder) = (account.imap.clone(), account.imap_folder.clone());
                    (server, folder, tokio::spawn(watch(account, wake.clone())))
                });
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            changed = held.changed() => if changed.is_err() { return },
        }
    }
}

/// What the mail reader needs.
pub struct Reader {
    pub store: Arc<dyn Store>,
    pub key: SecretKey,
    pub hosts: HostRules,
    pub limits: IntakeLimits,
    pub acknowledgements: Acknowledgements,
    /// How often the mailboxes are read when no IDLE watcher says they changed.
    pub poll: Duration,
    /// This node's name among the nodes ([`torg_core::jobs::node_name`]).
    pub node: String,
}

/// Takes and renews this node's share of the mailboxes every [`torg_core::jobs::RENEW`],
/// telling the reader what it holds (and waking it when that grows); lets them go at
/// `shutdown`.
async fn share_mailboxes(
    store: Arc<dyn Store>,
    node: String,
    held: tokio::sync::watch::Sender<BTreeSet<TenantId>>,
    wake: Arc<tokio::sync::Notify>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut share = torg_core::jobs::Share::new("mail", node);
    while !*shutdown.borrow() {
        let parts = store.mail_accounts().await.map(|accounts| {
            accounts
                .into_iter()
                .map(|(t, _)| t.to_string())
                .collect::<Vec<_>>()
        });
        let round = match parts {
            Ok(parts) => share
                .round(&*store, &parts, jiff::Timestamp::now())
                .await
                .map(|mine| {
                    mine.iter()
                        .filter_map(|t| t.parse().ok())
                        .collect::<BTreeSet<TenantId>>()
                }),
            Err(e) => Err(e),
        };
        match round {
            Ok(mine) => {
                let grew = !mine.is_subset(&held.borrow());
                held.send_replace(mine);
                if grew {
                    wake.notify_one();
                }
            }
            // Not renewed: the leases run out and another node reads them.
            Err(e) => {
                tracing::warn!(error = %e, "mailbox leases not renewed");
                held.send_replace(BTreeSet::new());
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(torg_core::jobs::RENEW) => {}
            _ = shutdown.changed() => {}
        }
    }
    share.release_all(&*store).await;
}

/// Reads the mailboxes this node holds: at once when an IDLE watcher says one changed or
/// the node takes one over, else every `poll`; until `shutdown`.
pub async fn read_mail(reader: Reader, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let Reader {
        store,
        key,
        hosts,
        limits,
        acknowledgements,
        poll,
        node,
    } = reader;
    let wake = Arc::new(tokio::sync::Notify::new());
    let (held_tx, held) = tokio::sync::watch::channel(BTreeSet::new());
    let sharing = tokio::spawn(share_mailboxes(
        store.clone(),
        node,
        held_tx,
        wake.clone(),
        shutdown.clone(),
    ));
    let watchers = tokio::spawn(watch_all(
        store.clone(),
        key.clone(),
        hosts.clone(),
        held.clone(),
        wake.clone(),
    ));
    while !*shutdown.borrow() {
        let mine = held.borrow().clone();
        if !mine.is_empty()
            && let Err(e) = poll_all(
                &*store,
                &key,
                &hosts,
                limits,
                &acknowledgements,
                Some(&mine),
            )
            .await
        {
            tracing::warn!(error = %e, "reading mailboxes failed");
        }
        // Read again when a mailbox says it changed, or at the next poll.
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = shutdown.changed() => {}
        }
    }
    watchers.abort();
    let _ = sharing.await;
}
