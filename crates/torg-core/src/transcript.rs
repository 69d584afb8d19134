//! A chat's transcript by email (samtalen på e-post). It goes only to the address the citizen
//! gave for that chat, from the municipality's mailbox, at most [`MAX_PER_CHAT`] times: a
//! chat is not a way to have the municipality mail what one likes to whom one likes.
//!
//! The limit holds across nodes and races without a counter: the n-th transcript of a chat
//! has a fixed Message-ID, and the outbox takes each Message-ID once.

use jiff::Timestamp;
use torg_domain::Channel;
use torg_store::{Inquiry, NewOutgoing, Notice, Store, StoreError};

/// How many transcripts one chat may send.
pub const MAX_PER_CHAT: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum TranscriptError {
    /// The citizen gave no email address for this chat.
    #[error("the chat has no email address")]
    NoAddress,
    /// The municipality has no mailbox to send from.
    #[error("the municipality has no mailbox")]
    NoMailbox,
    #[error("the transcript was sent {MAX_PER_CHAT} times already")]
    TooMany,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TranscriptError {
    /// The interface catalogue's text for it.
    pub fn key(&self) -> &'static str {
        match self {
            TranscriptError::NoAddress => "chat-transcript-no-address",
            TranscriptError::NoMailbox => "chat-transcript-no-mailbox",
            TranscriptError::TooMany => "chat-transcript-too-many",
            TranscriptError::Store(_) => "error-storage",
        }
    }
}

/// The Message-ID of the `n`-th transcript of `inquiry`, in the mailbox's domain.
fn header_id(mailbox: &str, inquiry: &Inquiry, n: u32) -> String {
    let domain = mailbox
        .rsplit_once('@')
        .map(|(_, d)| d)
        .unwrap_or("torg.invalid");
    format!(
        "<torg.transcript.{}.{}.{n}@{domain}>",
        inquiry.tenant_id, inquiry.id
    )
}

/// Queues the transcript (`subject`, `body`, rendered by the caller in the citizen's language)
/// to the chat's own address; returns that address.
pub async fn send(
    store: &dyn Store,
    inquiry: &Inquiry,
    subject: String,
    body: String,
    now: Timestamp,
) -> Result<String, TranscriptError> {
    let Some(recipient) = inquiry.contact_email.clone().filter(|e| !e.is_empty()) else {
        return Err(TranscriptError::NoAddress);
    };
    let Some(account) = store.mail_account(inquiry.tenant_id).await? else {
        return Err(TranscriptError::NoMailbox);
    };
    for n in 1..=MAX_PER_CHAT {
        let notice = Notice {
            out: NewOutgoing {
                media: None,
                channel: Channel::Email,
                recipient: recipient.clone(),
                subject: subject.clone(),
                header_id: header_id(&account.address, inquiry, n),
                in_reply_to: None,
                references: vec![],
            },
            body: body.clone(),
        };
        match store
            .queue_notices(inquiry.tenant_id, Some(inquiry.id), &[notice], now)
            .await
        {
            Ok(()) => return Ok(recipient),
            // The n-th went already (here or on another node): try the next.
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(TranscriptError::TooMany)
}
