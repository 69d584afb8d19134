//! The mail reader of `torg serve`: every municipality's mailbox in turn, woken by IDLE.
//! (Sending is the core's delivery loop with [`crate::smtp::SmtpDelivery`].) Errors are logged
//! and the next round tries again.

use crate::ingest::Mailroom;
use std::collections::HashMap;
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

/// One pass over every municipality's mailbox whose server `hosts` (the installation's
/// `connector_hosts`) allows; one it no longer allows is not read, and its connector says why.
pub async fn poll_all(
    store: &dyn Store,
    key: &SecretKey,
    hosts: &HostRules,
    limits: IntakeLimits,
    acknowledgements: &Acknowledgements,
) -> Result<crate::imap::PollReport, crate::MailError> {
    let mut total = crate::imap::PollReport::default();
    for (tenant, account) in accounts(store, key).await? {
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

/// Keeps one IDLE watcher per mailbox, following changes to the mail settings.
async fn watch_all(
    store: Arc<dyn Store>,
    key: SecretKey,
    hosts: HostRules,
    wake: Arc<tokio::sync::Notify>,
) {
    let mut watchers: HashMap<
        TenantId,
        (torg_store::MailServer, String, tokio::task::JoinHandle<()>),
    > = HashMap::new();
    loop {
        if let Ok(accounts) = accounts(&*store, &key).await {
            let current: HashMap<TenantId, torg_store::MailAccount> = accounts
                .into_iter()
                .filter(|(_, a)| hosts.allows(&a.imap.host))
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
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
}

/// Reads every municipality's mailbox: at once when an IDLE watcher says it changed, else
/// every `poll`; until `shutdown`.
pub async fn read_mail(
    store: Arc<dyn Store>,
    key: SecretKey,
    hosts: HostRules,
    limits: IntakeLimits,
    acknowledgements: Acknowledgements,
    poll: Duration,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let wake = Arc::new(tokio::sync::Notify::new());
    let watchers = tokio::spawn(watch_all(
        store.clone(),
        key.clone(),
        hosts.clone(),
        wake.clone(),
    ));
    while !*shutdown.borrow() {
        if let Err(e) = poll_all(&*store, &key, &hosts, limits, &acknowledgements).await {
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
}
