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
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::collections::HashMap;
use std::sync::Arc;
use torg_domain::Channel;
use torg_store::{MailAccount, MailServer, OutboxItem, Store};

/// Connections to one server at most, one send at a time on each. Four already carry several
/// hundred messages a second (see the README); mail servers throttle clients that open many.
pub const MAX_CONNECTIONS: usize = 8;

/// How long one send may take before it counts as a temporary failure.
pub const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

use torg_domain::outbox::{MAX_ATTEMPTS, backoff};

/// A send's failure: the server's answer, and whether it is for good.
type SendFailure = (String, bool);

/// How one pass over the outbox went.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SendReport {
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// The name Torg greets the server with (EHLO): the municipality's mail domain.
fn hello_name(address: &str) -> ClientId {
    match address.rsplit_once('@') {
        Some((_, domain)) if !domain.is_empty() => ClientId::Domain(domain.to_string()),
        _ => ClientId::default(),
    }
}

/// Opens one SMTP session: TLS from the start (`tls`), STARTTLS (`starttls`, the default) or
/// none (`plain`, local tests only), then AUTH when a user is set.
async fn connect(
    server: &MailServer,
    hello: &ClientId,
) -> Result<AsyncSmtpConnection, SendFailure> {
    let place = |e: &dyn std::fmt::Display| format!("{}:{}: {e}", server.host, server.port);
    let failure = |e: SmtpError| (place(&e), e.is_permanent());
    let wire = crate::net::connect(server, server.security == "tls")
        .await
        .map_err(|e| (e.to_string(), false))?;
    let mut conn = AsyncSmtpConnection::connect_with_transport(Box::new(wire), hello)
        .await
        .map_err(failure)?;
    if !matches!(server.security.as_str(), "tls" | "plain") {
        let params = TlsParameters::new(server.host.clone()).map_err(failure)?;
        conn.starttls(params, hello).await.map_err(failure)?;
    }
    if !server.user.is_empty() {
        let credentials = Credentials::new(server.user.clone(), server.password.clone());
        conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
            .await
            .map_err(failure)?;
    }
    Ok(conn)
}

/// Checks that the SMTP server can be reached (and logged in to) ("test connection").
pub async fn check(server: &MailServer) -> Result<(), MailError> {
    let mut conn = connect(server, &ClientId::default())
        .await
        .map_err(|(e, _)| MailError::Connect(e))?;
    let _ = conn.quit().await;
    Ok(())
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

/// Messages sent over one connection before it is replaced by a new one: servers limit the
/// messages of one session (OpenSMTPD: 100) and answer "452 too many messages" after that.
pub const MESSAGES_PER_CONNECTION: usize = 80;

/// Sent entries are marked in one transaction per this many (and whenever the sends pause),
/// so a crash can send again at most this many that were already delivered.
const MARK_BATCH: usize = 32;

/// One sender: its own connection per municipality, replaced every
/// [`MESSAGES_PER_CONNECTION`] messages. Takes entries from the shared queue until it is empty.
async fn sender(
    queue: Arc<std::sync::Mutex<std::vec::IntoIter<OutboxItem>>>,
    accounts: Arc<HashMap<i64, MailAccount>>,
    results: tokio::sync::mpsc::Sender<(OutboxItem, Result<(), SendFailure>)>,
) {
    let mut sessions: HashMap<i64, (AsyncSmtpConnection, usize)> = HashMap::new();
    loop {
        let next = queue.lock().ok().and_then(|mut q| q.next());
        let Some(item) = next else { break };
        let result = match accounts.get(&item.tenant_id) {
            None => Err(("the municipality has no mail account".to_string(), false)),
            Some(account) => match message(account, &item) {
                Err(e) => Err((e, true)),
                // A server that stops answering must not stall the outbox: give up on this
                // attempt after a minute and try again later.
                Ok(email) => tokio::time::timeout(
                    SEND_TIMEOUT,
                    send_one(&mut sessions, item.tenant_id, account, &email),
                )
                .await
                .unwrap_or_else(|_| {
                    sessions.remove(&item.tenant_id);
                    Err(("the SMTP server did not answer in time".to_string(), false))
                }),
            },
        };
        if results.send((item, result)).await.is_err() {
            break;
        }
    }
    for (_, (mut conn, _)) in sessions {
        let _ = conn.quit().await;
    }
}

/// Sends one email over the municipality's session, opening it first where needed. A session
/// that failed is dropped; one that has carried its share is closed after this message.
async fn send_one(
    sessions: &mut HashMap<i64, (AsyncSmtpConnection, usize)>,
    tenant: i64,
    account: &MailAccount,
    email: &Message,
) -> Result<(), SendFailure> {
    let failure = |e: SmtpError| (e.to_string(), e.is_permanent());
    let (mut conn, used) = match sessions.remove(&tenant) {
        Some(session) => session,
        None => (
            connect(&account.smtp, &hello_name(&account.address)).await?,
            0,
        ),
    };
    let sent = conn.send(email.envelope(), &email.formatted()).await;
    match &sent {
        Ok(_) if used + 1 < MESSAGES_PER_CONNECTION => {
            sessions.insert(tenant, (conn, used + 1));
        }
        Ok(_) => {
            let _ = conn.quit().await;
        }
        Err(_) => conn.abort().await,
    }
    sent.map(|_| ()).map_err(failure)
}

/// Claims what is due at `now` and sends it over `concurrency` connections at a time.
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
    let senders = concurrency.clamp(1, MAX_CONNECTIONS).min(items.len());
    let queue = Arc::new(std::sync::Mutex::new(items.into_iter()));
    let accounts = Arc::new(accounts.clone());
    let (tx, mut rx) = tokio::sync::mpsc::channel(MARK_BATCH * 4);
    for _ in 0..senders {
        tokio::spawn(sender(queue.clone(), accounts.clone(), tx.clone()));
    }
    drop(tx);
    let mut sent = Vec::with_capacity(MARK_BATCH);
    // How each municipality's server did in this pass, for the connector page.
    let mut health: HashMap<i64, (bool, String)> = HashMap::new();
    loop {
        // Mark what was sent when a batch is full or no further result is ready.
        let next = match rx.try_recv() {
            Ok(r) => Some(r),
            Err(_) => {
                if !sent.is_empty() {
                    store.outbox_sent(&sent, Timestamp::now()).await?;
                    report.sent += sent.len();
                    sent.clear();
                }
                rx.recv().await
            }
        };
        let Some((item, result)) = next else { break };
        match &result {
            Ok(()) => health.insert(item.tenant_id, (true, "sent".into())),
            Err((error, _)) => health.insert(item.tenant_id, (false, error.clone())),
        };
        match result {
            Ok(()) => {
                sent.push(item.id);
                if sent.len() >= MARK_BATCH {
                    store.outbox_sent(&sent, Timestamp::now()).await?;
                    report.sent += sent.len();
                    sent.clear();
                }
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
    for (tenant, (ok, detail)) in health {
        let status = torg_store::ConnectorStatus {
            tenant_id: tenant,
            connector: "smtp".into(),
            ok,
            detail,
            at: Timestamp::now(),
        };
        store.set_connector_status(&status).await?;
    }
    Ok(report)
}
