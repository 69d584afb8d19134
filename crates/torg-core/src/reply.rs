//! Staff writing to the citizen: the signed reply and internal notes.

use jiff::Timestamp;
use torg_domain::MessageKind;
use torg_domain::inquiry::{InputError, TextLimits, required_text};
use torg_domain::reply::{signature, signed_body};
use torg_store::{Inquiry, Message, Municipality, NewMessage, Store, StoreError, Unit, User};

#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Store(#[from] StoreError),
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

/// Writes a reply or note. A reply is signed as the municipality with the writer's first name
/// and unit; the signing unit is the writer's own unit, else the inquiry's.
#[allow(clippy::too_many_arguments)]
pub async fn write(
    store: &dyn Store,
    municipality: &Municipality,
    inquiry: &Inquiry,
    unit: &Unit,
    author: Option<&User>,
    kind: MessageKind,
    body: &str,
    limits: TextLimits,
    now: Timestamp,
    outgoing: Option<torg_store::NewOutgoing>,
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
                attachments: vec![],
                created_at: now,
            },
        )
        .await?)
}
