//! Staff writing to the citizen: the signed reply and internal notes. [`reply`] is the one
//! path every writer takes (the staff pages, the JSON API, the live chat, the CLI): it picks
//! the delivery for the inquiry's channel, holds a public answer that carries personal data
//! until the writer confirms it, stores the message with its outbox entry and audit entry in
//! one transaction, and tells the live chat.

use crate::actor::Actor;
use crate::intake::IntakeLimits;
use jiff::Timestamp;
use torg_domain::inquiry::{InputError, TextLimits, required_text};
use torg_domain::personal_data::{self, Finding};
use torg_domain::reply::{signature, signed_body};
use torg_domain::{Channel, MessageKind};
use torg_store::{
    Inquiry, Message, Municipality, NewAttachment, NewMessage, NewOutgoing, Store, StoreError,
    Unit, User,
};

#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    #[error(transparent)]
    Input(#[from] InputError),
    /// A public answer (a comment or post everybody can read) holds personal data; it is
    /// written only once the writer confirms it.
    #[error("the public answer holds personal data; confirm to send it anyway")]
    PersonalData(Vec<Finding>),
    /// SMS and social media carry no files: the reply is not sent.
    #[error("a reply on {0} cannot carry files; send them by email or put them on the follow page")]
    NoFilesOn(Channel),
    #[error("the file {filename:?} was refused: {why}")]
    File { filename: String, why: FileRefusal },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a file on a reply was refused: the same checks as a file that comes in by email.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    #[error("it is larger than the limit of {0} bytes")]
    TooLarge(usize),
    #[error("files ending in .{0} are not sent")]
    BlockedType(String),
    #[error("it is empty or has no name")]
    Empty,
    #[error("a reply carries at most {MAX_REPLY_FILES} files")]
    TooMany,
    #[error("the files together are more than the mailbox takes ({0} bytes)")]
    TooLargeTogether(usize),
}

/// The most files one reply carries.
pub const MAX_REPLY_FILES: usize = 10;

/// Checks the files of a reply to `inquiry`: refused on SMS and social media (they cannot
/// carry them); each within the size limit of incoming files and not of a type the mailbox
/// blocks; for email, all together within the mailbox's message size once encoded.
pub async fn check_files(
    store: &dyn Store,
    inquiry: &Inquiry,
    kind: MessageKind,
    files: &[NewAttachment],
    limits: &IntakeLimits,
) -> Result<(), ReplyError> {
    if files.is_empty() {
        return Ok(());
    }
    let outbound = kind == MessageKind::Outbound;
    if outbound && !inquiry.channel.carries_files() {
        return Err(ReplyError::NoFilesOn(inquiry.channel));
    }
    let refuse = |filename: &str, why| ReplyError::File {
        filename: filename.to_string(),
        why,
    };
    if files.len() > MAX_REPLY_FILES {
        return Err(refuse("", FileRefusal::TooMany));
    }
    let account = store.mail_account(inquiry.tenant_id).await?;
    let blocked = account
        .as_ref()
        .map(|a| a.blocked_extensions.clone())
        .unwrap_or_else(|| {
            torg_domain::email::extension_list(torg_domain::email::DEFAULT_BLOCKED_EXTENSIONS)
        });
    for f in files {
        if f.data.is_empty() || f.filename.trim().is_empty() {
            return Err(refuse(&f.filename, FileRefusal::Empty));
        }
        if f.data.len() > limits.max_attachment_bytes {
            return Err(refuse(
                &f.filename,
                FileRefusal::TooLarge(limits.max_attachment_bytes),
            ));
        }
        if let Some(ext) = torg_domain::email::blocked_extension(&f.filename, &blocked) {
            return Err(refuse(&f.filename, FileRefusal::BlockedType(ext)));
        }
    }
    if outbound
        && inquiry.channel == Channel::Email
        && let Some(account) = account
    {
        // Base64 makes four bytes of every three, plus the text and headers.
        let encoded: usize = files.iter().map(|f| f.data.len().div_ceil(3) * 4).sum();
        let room = account.max_message_bytes as usize;
        if encoded + limits.text.max_text_bytes > room {
            return Err(refuse("", FileRefusal::TooLargeTogether(room)));
        }
    }
    Ok(())
}

/// Where stored messages of a live chat are shown at once (the chat hub of the web layer).
pub trait LiveChat: Send + Sync {
    /// A message of `inquiry` was stored.
    fn message(&self, inquiry: &Inquiry, message: &Message);
}

/// For writers outside `torg serve` (the CLI, the demo): the chat pages read the store.
pub struct NoLiveChat;

impl LiveChat for NoLiveChat {
    fn message(&self, _: &Inquiry, _: &Message) {}
}

/// What a writer asks for.
#[derive(Debug, Clone, Copy)]
pub struct ReplyRequest<'a> {
    pub inquiry: &'a Inquiry,
    /// The unit that signs (the writer's own, else the inquiry's).
    pub unit: &'a Unit,
    /// The person writing; without one (an integration) the unit signs.
    pub author: Option<&'a User>,
    /// `Outbound` (a reply to the citizen) or `Note` (internal).
    pub kind: MessageKind,
    pub body: &'a str,
    /// On a social network: answer the person privately rather than where they wrote.
    pub privately: bool,
    /// The writer has seen the personal-data warning and sends the public answer anyway.
    pub confirm_personal_data: bool,
    /// Files sent with it (by email, and on the follow page); none on SMS and social media.
    pub files: &'a [NewAttachment],
}

/// How a reply to `inquiry` is delivered: an outbox entry for its channel, or `None` where
/// the citizen reads it in Torg (web follow page, live chat) or it was a phone call.
pub async fn delivery_for(
    store: &dyn Store,
    inquiry: &Inquiry,
    privately: bool,
) -> Result<Option<NewOutgoing>, StoreError> {
    Ok(match inquiry.channel {
        Channel::Facebook | Channel::Instagram | Channel::Mastodon => {
            crate::social::reply_address(inquiry, privately)
                .map(|to| crate::social::reply_outgoing(inquiry.channel, &to))
        }
        Channel::Email => {
            let account = store.mail_account(inquiry.tenant_id).await?;
            crate::mail::reply_outgoing(account.as_ref(), inquiry)
        }
        Channel::Sms => crate::mail::reply_outgoing(None, inquiry),
        Channel::Web | Channel::Chat | Channel::Phone | Channel::Api | Channel::Listening => None,
    })
}

/// Whether a reply to `inquiry` is read by everybody: a comment or post on a public page,
/// answered where it was written.
pub fn goes_public(inquiry: &Inquiry, privately: bool) -> bool {
    inquiry.channel.is_public()
        && crate::social::reply_address(inquiry, privately).is_none_or(|a| a.target.is_public())
}

/// Writes a reply or an internal note as `actor`: the one path for every writer.
pub async fn reply(
    store: &dyn Store,
    chat: &dyn LiveChat,
    municipality: &Municipality,
    actor: &Actor,
    limits: &IntakeLimits,
    now: Timestamp,
    req: ReplyRequest<'_>,
) -> Result<Message, ReplyError> {
    let outbound = req.kind == MessageKind::Outbound;
    // A matter merged from several inquiries is answered where the citizen wrote last.
    let answering = if outbound {
        crate::merge::answering(store, req.inquiry).await?
    } else {
        req.inquiry.clone()
    };
    let inquiry = &answering;
    check_files(store, inquiry, req.kind, req.files, limits).await?;
    let findings = if outbound && goes_public(inquiry, req.privately) {
        personal_data::find(req.body)
    } else {
        vec![]
    };
    if !findings.is_empty() && !req.confirm_personal_data {
        return Err(ReplyError::PersonalData(findings));
    }
    let outgoing = if outbound {
        delivery_for(store, inquiry, req.privately).await?
    } else {
        None
    };
    let mut detail = vec![];
    if !findings.is_empty() {
        detail.push(format!("personal_data_confirmed:{}", findings.len()));
    }
    if outbound && req.privately && inquiry.channel.is_public() {
        detail.push("private".to_string());
    }
    if !req.files.is_empty() {
        detail.push(format!("files:{}", req.files.len()));
    }
    let action = if outbound {
        "inquiry.replied"
    } else {
        "inquiry.noted"
    };
    let audit = actor.entry(action, format!("inquiry:{}", inquiry.id), detail.join(";"));
    let message = write(
        store,
        municipality,
        inquiry,
        req.unit,
        req.author,
        req.kind,
        (req.body, req.files.to_vec()),
        limits.text,
        now,
        outgoing,
        Some(audit),
    )
    .await?;
    if inquiry.channel == Channel::Chat {
        chat.message(inquiry, &message);
    }
    Ok(message)
}

/// The greeting that closes a reply, in the inquiry's language.
pub fn greeting(language: &str) -> &'static str {
    match language {
        "sv" => "Med vänliga hälsningar",
        "en" => "Kind regards",
        "nn" => "Venleg helsing",
        _ => "Vennlig hilsen",
    }
}

/// The signature for `author` (or only the unit when an integration writes without a person).
pub fn signature_for(
    inquiry: &Inquiry,
    municipality: &Municipality,
    unit: &Unit,
    author: Option<&User>,
) -> String {
    signature(
        greeting(&inquiry.language),
        author.map(User::first_name),
        &unit.name,
        &municipality.name,
    )
}

/// Writes a reply or note (its text and files) without choosing its delivery (the demo's
/// history, tests). A reply is signed as the municipality with the writer's first name and
/// unit.
#[allow(clippy::too_many_arguments)]
pub async fn write(
    store: &dyn Store,
    municipality: &Municipality,
    inquiry: &Inquiry,
    unit: &Unit,
    author: Option<&User>,
    kind: MessageKind,
    (body, files): (&str, Vec<NewAttachment>),
    limits: TextLimits,
    now: Timestamp,
    outgoing: Option<NewOutgoing>,
    audit: Option<torg_domain::audit::NewAuditEntry>,
) -> Result<Message, ReplyError> {
    let body = required_text("message", body, limits.max_text_bytes)?;
    let body = match kind {
        MessageKind::Outbound => {
            signed_body(&body, &signature_for(inquiry, municipality, unit, author))
        }
        _ => body,
    };
    let author_name = author
        .map(|a| a.full_name.clone())
        .unwrap_or_else(|| unit.name.clone());
    Ok(store
        .add_message(
            municipality.id,
            inquiry.id,
            NewMessage {
                external_id: None,
                // Only replies are sent; notes stay inside.
                outgoing: outgoing.filter(|_| kind == MessageKind::Outbound),
                kind,
                author_user_id: author.map(|a| a.id),
                author_name,
                body,
                attachments: files,
                created_at: now,
            },
            audit,
        )
        .await?)
}
