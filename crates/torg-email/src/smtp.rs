//! Sending the outbox's email over SMTP (submission with STARTTLS or TLS and auth, or plain
//! for local tests), from the municipality's address with a Reply-To that threads back, and
//! Message-ID / In-Reply-To / References so the citizen's mail program keeps the thread.
//!
//! An entry is claimed with a lease, sent, and marked sent. A temporary failure (the server
//! down, a 4xx answer) is tried again with backoff; a permanent one (5xx) is kept as failed
//! with the server's answer, shown on the inquiry. Delivery is at least once: only a crash in
//! the moment between the server's "250 OK" and our commit sends a message twice, and then
//! with the same Message-ID.

use crate::MailError;
use jiff::{SignedDuration, Timestamp};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::collections::HashMap;
use torg_domain::Channel;
use torg_store::{MailAccount, MailServer, OutboxItem, Store};

/// SMTP connections kept open to one server; sends beyond this many at once would wait for
/// a connection, so [`send_due`] never runs more at a time.
pub const POOL_SIZE: usize = 16;

/// How long one send may take before it counts as a temporary failure.
pub const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Attempts before an entry is given up.
pub const MAX_ATTEMPTS: i64 = 12;

/// How long to wait before attempt `attempts + 1`: 30 s, doubling, at most an hour.
pub fn backoff(attempts: i64) -> SignedDuration {
    let secs = 30i64 << attempts.clamp(0, 7);
    SignedDuration::from_secs(secs.min(3600))
}

/// A send's failure: the server's answer, and whether it is for good.
type SendFailure = (String, bool);

/// How one pass over the outbox went.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SendReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

pub(crate) fn transport(
    server: &MailServer,
) -> Result<AsyncSmtpTransport<Tokio1Executor>, MailError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let tls = |required: bool| -> Result<Tls, MailError> {
        let params = TlsParameters::new(server.host.clone())
            .map_err(|e| MailError::Connect(e.to_string()))?;
        Ok(if required {
            Tls::Wrapper(params)
        } else {
            Tls::Required(params)
        })
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&server.host)
        .port(server.port)
        .timeout(Some(std::time::Duration::from_secs(20)))
        .pool_config(lettre::transport::smtp::PoolConfig::new().max_size(POOL_SIZE as u32));
    builder = match server.security.as_str() {
        "plain" => builder.tls(Tls::None),
        "tls" => builder.tls(tls(true)?),
        _ => builder.tls(tls(false)?),
    };
    if !server.user.is_empty() {
        builder = builder.credentials(Credentials::new(
            server.user.clone(),
            server.password.clone(),
        ));
    }
    Ok(builder.build())
}

/// Checks that the SMTP server can be reached (and logged in to) ("test connection").
pub async fn check(server: &MailServer) -> Result<(), MailError> {
    match transport(server)?.test_connection().await {
        Ok(true) => Ok(()),
        Ok(false) => Err(MailError::Connect(format!(
            "{}:{} did not accept the connection",
            server.host, server.port
        ))),
        Err(e) => Err(MailError::Connect(e.to_string())),
    }
}

/// The email of an outbox entry.
pub fn message(account: &MailAccount, item: &OutboxItem) -> Result<Message, String> {
    let from: Mailbox = format!("{} <{}>", account.display_name, account.address)
        .parse()
        .or_else(|_| account.address.parse())
        .map_err(|e| format!("the municipality's address: {e}"))?;
    let to: Mailbox = item
        .recipient
        .parse()
        .map_err(|e| format!("the recipient {:?}: {e}", item.recipient))?;
    let mut builder = Message::builder()
        .from(from.clone())
        .reply_to(from)
        .to(to)
        .subject(item.subject.clone())
        .message_id(Some(item.header_id.clone()));
    if let Some(parent) = &item.in_reply_to {
        builder = builder.in_reply_to(parent.clone());
    }
    if !item.references.is_empty() {
        builder = builder.references(item.references.join(" "));
    }
    let mut email = builder
        .header(ContentType::TEXT_PLAIN)
        .body(item.body.clone())
        .map_err(|e| e.to_string())?;
    // Our messages must not set off the citizen's vacation replies (RFC 3834).
    email.headers_mut().insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        "auto-replied".into(),
    ));
    Ok(email)
}

/// Messages sent through one pool of connections before a new pool is opened: servers limit
/// the messages of one session (OpenSMTPD: 100), and a pooled connection would otherwise
/// be told "452 too many messages" from then on.
pub const MESSAGES_PER_POOL: usize = 80;

/// Claims what is due at `now` and sends it, `concurrency` at a time.
pub async fn send_due(
    store: &dyn Store,
    accounts: &HashMap<i64, MailAccount>,
    now: Timestamp,
    limit: u32,
    concurrency: usize,
) -> Result<SendReport, MailError> {
    let items = store
        .claim_outbox(Channel::Email, now, SignedDuration::from_mins(2), limit)
        .await?;
    let mut report = SendReport::default();
    if items.is_empty() {
        return Ok(report);
    }
    // Each send is a task of its own with its own copies (the transport is a shared pool).
    let mut results: Vec<(OutboxItem, Result<(), SendFailure>)> = Vec::with_capacity(items.len());
    // Keep `in_flight` sends going all the time (a new one starts as soon as one ends).
    let in_flight = concurrency.clamp(1, POOL_SIZE);
    let mut pending = items.iter().cloned();
    let mut pools: HashMap<i64, (AsyncSmtpTransport<Tokio1Executor>, usize)> = HashMap::new();
    let mut set = tokio::task::JoinSet::new();
    loop {
        while set.len() < in_flight {
            let Some(item) = pending.next() else { break };
            let prepared = match accounts.get(&item.tenant_id) {
                Some(account) => {
                    let (t, used) = match pools.remove(&item.tenant_id) {
                        Some((t, used)) if used < MESSAGES_PER_POOL => (t, used),
                        _ => (transport(&account.smtp)?, 0),
                    };
                    pools.insert(item.tenant_id, (t.clone(), used + 1));
                    message(account, &item)
                        .map(|email| (t, email))
                        .map_err(|e| (e, true))
                }
                None => Err(("the municipality has no mail account".to_string(), false)),
            };
            set.spawn(async move {
                let result = match prepared {
                    // A server that stops answering must not stall the outbox: give up on this
                    // attempt after a minute and try again later.
                    Ok((t, email)) => match tokio::time::timeout(SEND_TIMEOUT, t.send(email)).await
                    {
                        Ok(sent) => sent.map(|_| ()).map_err(|e| {
                            let permanent = e.is_permanent();
                            (e.to_string(), permanent)
                        }),
                        Err(_) => {
                            Err(("the SMTP server did not answer in time".to_string(), false))
                        }
                    },
                    Err(e) => Err(e),
                };
                (item, result)
            });
        }
        match set.join_next().await {
            Some(Ok(r)) => results.push(r),
            Some(Err(_)) => {} // a panicked send: its lease runs out and it is tried again
            None => break,
        }
    }
    for (item, result) in results {
        match result {
            Ok(()) => {
                store.outbox_sent(item.id, Timestamp::now()).await?;
                report.sent += 1;
            }
            Err((error, permanent)) if permanent || item.attempts >= MAX_ATTEMPTS => {
                tracing::warn!(outbox = item.id, %error, "email given up");
                store.outbox_failed(item.id, &error).await?;
                report.failed += 1;
            }
            Err((error, _)) => {
                tracing::info!(outbox = item.id, %error, attempts = item.attempts, "email will be tried again");
                let next = now + backoff(item.attempts);
                store.outbox_retry(item.id, next, &error).await?;
                report.retried += 1;
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_an_hour() {
        assert_eq!(backoff(0), SignedDuration::from_secs(30));
        assert_eq!(backoff(1), SignedDuration::from_secs(60));
        assert_eq!(backoff(3), SignedDuration::from_secs(240));
        assert_eq!(backoff(7), SignedDuration::from_secs(3600));
        assert_eq!(backoff(100), SignedDuration::from_secs(3600));
    }
}
