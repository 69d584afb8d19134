//! The background tasks of `torg serve`: one reads every municipality's mailbox in turn, one
//! sends what the outbox holds. Errors are logged and the next round tries again.

use crate::ingest::Mailroom;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use torg_core::intake::{Acknowledger, IntakeLimits, TenantConfig};
use torg_core::sealing::SecretKey;
use torg_store::Store;

/// Makes the acknowledgement writer of a municipality.
pub type AcknowledgerFor = dyn Fn(Arc<TenantConfig>) -> Box<Acknowledger> + Send + Sync;

/// How often the tasks run.
#[derive(Debug, Clone, Copy)]
pub struct Intervals {
    pub poll: Duration,
    pub send: Duration,
}

impl Default for Intervals {
    fn default() -> Self {
        Intervals {
            poll: Duration::from_secs(15),
            send: Duration::from_secs(1),
        }
    }
}

/// The municipalities' mail accounts with their passwords opened.
pub async fn accounts(
    store: &dyn Store,
    key: &SecretKey,
) -> Result<Vec<(i64, torg_store::MailAccount)>, crate::MailError> {
    store
        .mail_accounts()
        .await?
        .into_iter()
        .map(|(tenant, mut a)| {
            a.imap.password = key
                .open(&a.imap.password)
                .map_err(|e| crate::MailError::Login(e.to_string()))?;
            a.smtp.password = key
                .open(&a.smtp.password)
                .map_err(|e| crate::MailError::Login(e.to_string()))?;
            Ok((tenant, a))
        })
        .collect()
}

/// One pass over every municipality's mailbox.
pub async fn poll_all(
    store: &dyn Store,
    key: &SecretKey,
    limits: IntakeLimits,
    acknowledger_for: &AcknowledgerFor,
) -> Result<crate::imap::PollReport, crate::MailError> {
    let mut total = crate::imap::PollReport::default();
    for (tenant, account) in accounts(store, key).await? {
        let Some(m) = store.municipality(tenant).await? else {
            continue;
        };
        let config = Arc::new(TenantConfig::load(store, m).await?);
        let ack = acknowledger_for(config.clone());
        let room = Mailroom {
            store,
            config: &config,
            account: &account,
            limits,
            acknowledger: Some(&*ack),
        };
        match crate::imap::poll(&room, 200).await {
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
            Err(e) => {
                tracing::warn!(municipality = %config.municipality.slug, error = %e, "mailbox not read")
            }
        }
    }
    Ok(total)
}

/// Sends what is due, for every municipality.
pub async fn send_all(
    store: &dyn Store,
    key: &SecretKey,
) -> Result<crate::smtp::SendReport, crate::MailError> {
    let accounts: HashMap<_, _> = accounts(store, key).await?.into_iter().collect();
    crate::smtp::send_due(store, &accounts, jiff::Timestamp::now(), 500, 4).await
}

/// Starts both tasks; they run until the process ends.
pub fn spawn(
    store: Arc<dyn Store>,
    key: SecretKey,
    limits: IntakeLimits,
    acknowledger_for: Arc<AcknowledgerFor>,
    intervals: Intervals,
) {
    let reader = store.clone();
    let reader_key = key.clone();
    tokio::spawn(async move {
        loop {
            if let Err(e) = poll_all(&*reader, &reader_key, limits, &*acknowledger_for).await {
                tracing::warn!(error = %e, "reading mailboxes failed");
            }
            tokio::time::sleep(intervals.poll).await;
        }
    });
    tokio::spawn(async move {
        loop {
            match send_all(&*store, &key).await {
                // More may be waiting: go again at once.
                Ok(r) if r.sent + r.retried + r.failed > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "sending email failed"),
            }
            tokio::time::sleep(intervals.send).await;
        }
    });
}
