//! Sending the outbox's email over SMTP (submission with STARTTLS or TLS and auth, or plain
//! for local tests), from the municipality's address with a Reply-To that threads back, and
//! Message-ID / In-Reply-To / References so the citizen's mail program keeps the thread.
//!
//! [`SmtpDelivery`] is the email channel's `Deliver`; the core's delivery loop claims an entry
//! with a lease, sends it here, and marks it sent. A temporary failure (the server
//! down, a 4xx answer) is tried again with backoff; a permanent one (5xx) is kept as failed
//! with the server's answer, shown on the inquiry. Delivery is at least once: only a crash in
//! the moment between the server's "250 OK" and our commit sends a message twice, and then
//! with the same Message-ID.

use crate::MailError;
use async_trait::async_trait;
use jiff::Timestamp;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, Message, MultiPart, SinglePart};
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use torg_core::delivery::{self, Deliver, Outcome};
use torg_core::sealing::SecretKey;
use torg_domain::Channel;
use torg_domain::TenantId;
use torg_store::{ChannelSettings, Directory, MailAccount, MailServer, OutboxItem, StoreError};

/// Connections to one server at most, one send at a time on each. Four already carry several
/// hundred messages a second (see the README); mail servers throttle clients that open many.
pub const MAX_CONNECTIONS: usize = 8;

/// How long one send may take before it counts as a temporary failure.
pub const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// A send's failure: the server's answer, and whether it is for good.
type SendFailure = (String, bool);

/// How one pass over the outbox went.
pub type SendReport = torg_core::delivery::PassReport;

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

/// A reply's file as the email carries it: (name, content type, bytes).
pub type File = (String, String, Vec<u8>);

/// The email of an outbox entry, with the reply's files (a multipart/mixed message when
/// there are any).
pub fn message(
    account: &MailAccount,
    item: &OutboxItem,
    files: &[File],
) -> Result<Message, String> {
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
        .message_id(Some(message_id(&item.header_id)));
    if let Some(parent) = &item.in_reply_to {
        builder = builder.in_reply_to(parent.clone());
    }
    if !item.references.is_empty() {
        builder = builder.references(item.references.join(" "));
    }
    // A subscriber's message ends with the link to change or end the subscription, and
    // carries it for one-click unsubscribing (RFC 8058).
    let body = match &item.unsubscribe {
        Some(link) => format!("{}\n{}", item.body, link.trim_end_matches("/unsubscribe")),
        None => item.body.clone(),
    };
    let mut email = if files.is_empty() {
        builder.header(ContentType::TEXT_PLAIN).body(body)
    } else {
        let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(body));
        for (name, content_type, data) in files {
            let kind = ContentType::parse(content_type)
                .or_else(|_| ContentType::parse("application/octet-stream"))
                .map_err(|e| e.to_string())?;
            parts = parts.singlepart(Attachment::new(name.clone()).body(data.clone(), kind));
        }
        builder.multipart(parts)
    }
    .map_err(|e| e.to_string())?;
    // Our messages must not set off the citizen's vacation replies (RFC 3834).
    let auto = if item.unsubscribe.is_some() {
        "auto-generated"
    } else {
        "auto-replied"
    };
    email.headers_mut().insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        auto.into(),
    ));
    if let Some(link) = &item.unsubscribe {
        email.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            format!("<{link}>"),
        ));
        email.headers_mut().insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
            "List-Unsubscribe=One-Click".into(),
        ));
    }
    Ok(email)
}

/// A Message-ID in its angle brackets: outbox ids of broadcasts (`crisis-7-42`) get Torg's
/// domain part.
fn message_id(header_id: &str) -> String {
    if header_id.starts_with('<') {
        header_id.to_string()
    } else {
        format!("<{header_id}@torg>")
    }
}

/// Messages sent over one connection before it is replaced by a new one: servers limit the
/// messages of one session (OpenSMTPD: 100) and answer "452 too many messages" after that.
pub const MESSAGES_PER_CONNECTION: usize = 80;

/// Sends one email over the municipality's session, opening it first where needed. A session
/// that failed is dropped; one that has carried its share is closed after this message.
async fn send_one(
    sessions: &mut HashMap<TenantId, (AsyncSmtpConnection, usize)>,
    tenant: TenantId,
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

/// The email channel's [`Deliver`]: each lane keeps its own SMTP session per municipality,
/// replaced every [`MESSAGES_PER_CONNECTION`] messages. The mail accounts are read from the
/// store before every pass (passwords opened with the installation's key), or fixed (tests).
pub struct SmtpDelivery {
    key: Option<SecretKey>,
    /// Where a reply's files are read; `None` (fixed accounts, tests) sends text only.
    files: Option<Arc<dyn torg_store::Inquiries>>,
    accounts: RwLock<Arc<HashMap<TenantId, MailAccount>>>,
    sessions: Vec<tokio::sync::Mutex<Sessions>>,
}

type Sessions = HashMap<TenantId, (AsyncSmtpConnection, usize)>;

impl SmtpDelivery {
    /// Reads the accounts from the store before every pass, and a reply's files from it when
    /// it is sent; `lanes` sessions at a time.
    pub fn from_store(
        store: Arc<dyn torg_store::Inquiries>,
        key: SecretKey,
        lanes: usize,
    ) -> SmtpDelivery {
        SmtpDelivery {
            files: Some(store),
            ..SmtpDelivery::new(Some(key), HashMap::new(), lanes)
        }
    }

    /// Sends through these accounts (passwords open).
    pub fn fixed(accounts: HashMap<TenantId, MailAccount>, lanes: usize) -> SmtpDelivery {
        SmtpDelivery::new(None, accounts, lanes)
    }

    fn new(key: Option<SecretKey>, accounts: HashMap<TenantId, MailAccount>, lanes: usize) -> Self {
        SmtpDelivery {
            key,
            files: None,
            accounts: RwLock::new(Arc::new(accounts)),
            sessions: (0..lanes.clamp(1, MAX_CONNECTIONS))
                .map(|_| tokio::sync::Mutex::default())
                .collect(),
        }
    }

    /// The files of the reply an outbox entry sends (none for notices and broadcasts).
    async fn files_of(&self, item: &OutboxItem) -> Result<Vec<File>, StoreError> {
        let (Some(store), Some(inquiry), Some(message)) =
            (&self.files, item.inquiry_id, item.message_id)
        else {
            return Ok(vec![]);
        };
        let mut files = vec![];
        for meta in store.attachments(item.tenant_id, inquiry).await? {
            if meta.message_id != message {
                continue;
            }
            if let Some((meta, data)) = store.attachment_data(item.tenant_id, meta.id).await? {
                files.push((meta.filename, meta.content_type, data));
            }
        }
        Ok(files)
    }

    fn account(&self, tenant: TenantId) -> Option<MailAccount> {
        self.accounts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&tenant)
            .cloned()
    }
}

#[async_trait]
impl Deliver for SmtpDelivery {
    fn channels(&self) -> &[Channel] {
        &[Channel::Email]
    }
    fn connector(&self, _: Channel) -> &'static str {
        "smtp"
    }
    fn lanes(&self) -> usize {
        self.sessions.len()
    }

    async fn prepare(
        &self,
        settings: &dyn ChannelSettings,
        _directory: &dyn Directory,
        _items: &[OutboxItem],
    ) -> Result<(), StoreError> {
        let Some(key) = &self.key else { return Ok(()) };
        let mut opened = HashMap::new();
        for (tenant, a) in settings.mail_accounts().await? {
            match crate::worker::opened(tenant, a, key) {
                Ok(a) => {
                    opened.insert(tenant, a);
                }
                Err(_) => tracing::warn!(%tenant, "the mail account's passwords cannot be opened"),
            }
        }
        *self.accounts.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(opened);
        Ok(())
    }

    fn secrets(&self) -> Vec<String> {
        let accounts = self.accounts.read().unwrap_or_else(|e| e.into_inner());
        accounts.values().flat_map(MailAccount::secrets).collect()
    }

    fn destination(&self, item: &OutboxItem) -> Option<String> {
        self.account(item.tenant_id).map(|a| a.smtp.host)
    }

    async fn deliver(&self, lane: usize, item: &OutboxItem, _now: Timestamp) -> Outcome {
        let Some(account) = self.account(item.tenant_id) else {
            return Outcome::retry("the municipality has no mail account");
        };
        let files = match self.files_of(item).await {
            Ok(f) => f,
            Err(e) => return Outcome::retry(format!("the reply's files could not be read: {e}")),
        };
        let email = match message(&account, item, &files) {
            Ok(m) => m,
            Err(e) => return Outcome::failed(e),
        };
        let mut sessions = self.sessions[lane % self.sessions.len()].lock().await;
        // A server that stops answering must not stall the outbox: give up on this attempt
        // after a minute and try again later.
        let sent = tokio::time::timeout(
            SEND_TIMEOUT,
            send_one(&mut sessions, item.tenant_id, &account, &email),
        )
        .await
        .unwrap_or_else(|_| {
            sessions.remove(&item.tenant_id);
            Err(("the SMTP server did not answer in time".to_string(), false))
        });
        match sent {
            Ok(()) => Outcome::Sent,
            Err((why, true)) => Outcome::failed(why),
            Err((why, false)) => Outcome::retry(why),
        }
    }

    async fn finish(&self) {
        for lane in &self.sessions {
            for (_, (mut conn, _)) in lane.lock().await.drain() {
                let _ = conn.quit().await;
            }
        }
    }
}

/// Claims what is due at `now` and sends it over `concurrency` connections at a time: one
/// pass of the core's delivery loop with fixed accounts.
pub async fn send_due(
    store: &dyn torg_store::Outgoing,
    accounts: &HashMap<TenantId, MailAccount>,
    now: Timestamp,
    limit: u32,
    concurrency: usize,
) -> Result<SendReport, MailError> {
    let smtp = SmtpDelivery::fixed(accounts.clone(), concurrency);
    Ok(delivery::pass(
        store,
        &smtp,
        &torg_domain::connector::HostRules::any(),
        now,
        limit,
    )
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> MailAccount {
        let server = torg_store::MailServer {
            host: "127.0.0.1".into(),
            port: 25,
            security: "plain".into(),
            user: String::new(),
            password: String::new(),
        };
        MailAccount {
            address: "post@demo.kommune.no".into(),
            display_name: "Demo kommune".into(),
            imap: server.clone(),
            imap_folder: "INBOX".into(),
            smtp: server,
            max_message_bytes: 1_000_000,
            blocked_extensions: vec![],
        }
    }

    fn item(unsubscribe: Option<&str>) -> OutboxItem {
        OutboxItem {
            id: 1,
            tenant_id: TenantId(1),
            inquiry_id: None,
            message_id: None,
            channel: torg_domain::Channel::Email,
            recipient: "kari@example.no".into(),
            subject: "Kok vannet".into(),
            body: "Kok vannet i ett minutt.".into(),
            header_id: "crisis-7-42".into(),
            in_reply_to: None,
            references: vec![],
            media: None,
            unsubscribe: unsubscribe.map(String::from),
            attempts: 1,
        }
    }

    #[test]
    fn a_subscribers_email_unsubscribes_in_one_click() {
        let link = "https://demo.example/k/demo/subscription/abc/unsubscribe";
        let email = message(&account(), &item(Some(link)), &[]).expect("email");
        let text = String::from_utf8(email.formatted()).expect("utf-8");
        assert!(
            text.contains(&format!("List-Unsubscribe: <{link}>")),
            "{text}"
        );
        assert!(text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        assert!(text.contains("Auto-Submitted: auto-generated"));
        assert!(text.contains("Message-ID: <crisis-7-42@torg>"));
        assert!(
            text.trim_end()
                .ends_with("https://demo.example/k/demo/subscription/abc"),
            "{text}"
        );
        let plain = String::from_utf8(
            message(&account(), &item(None), &[])
                .expect("email")
                .formatted(),
        )
        .expect("utf-8");
        assert!(!plain.contains("List-Unsubscribe"));
        assert!(plain.contains("Auto-Submitted: auto-replied"));
    }
}
