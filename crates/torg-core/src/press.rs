//! The press: communication staff log their contacts with journalists in the media log
//! (medielogg), and anyone who handles inquiries flags one that may become a press story, so
//! that the communication chief knows ("Kommunikasjonssjef skal være informert om mulige
//! medie-/pressesaker", Ski). Each entry is written with its audit entry.

use crate::actor::Actor;
use jiff::{SignedDuration, Timestamp};
use torg_domain::TenantId;
use torg_domain::access::Permission;
use torg_domain::press::{MediaError, MediaKind, checked};
use torg_store::{Inquiry, MediaEntry, Store, StoreError, User};

#[derive(Debug, thiserror::Error)]
pub enum PressError {
    #[error("only those who speak for the municipality keep the media log")]
    MayNot,
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PressError {
    /// The message's key in the interface catalogue.
    pub fn key(&self) -> &'static str {
        match self {
            PressError::MayNot => "error-forbidden",
            PressError::Media(MediaError::Topic) => "press-error-topic",
            PressError::Media(MediaError::Name) => "press-error-name",
            PressError::Media(MediaError::Notes) => "press-error-notes",
            PressError::Store(_) => "error-storage",
        }
    }
}

/// A contact with the press as typed.
#[derive(Debug, Clone, Copy)]
pub struct Contact<'a> {
    pub at: Timestamp,
    pub outlet: &'a str,
    pub person: &'a str,
    pub topic: &'a str,
    pub notes: &'a str,
}

/// Logs a contact with the press (those who speak for the municipality).
pub async fn log_contact(
    store: &dyn Store,
    actor: &Actor,
    user: &User,
    tenant: TenantId,
    contact: Contact<'_>,
) -> Result<MediaEntry, PressError> {
    if !user.role.has(Permission::SpeakPublicly) {
        return Err(PressError::MayNot);
    }
    let f = checked(contact.outlet, contact.person, contact.topic, contact.notes)?;
    let entry = MediaEntry {
        id: 0,
        kind: MediaKind::Contact,
        at: contact.at,
        outlet: f.outlet,
        person: f.person,
        topic: f.topic,
        notes: f.notes,
        inquiry_id: None,
        by_user: user.id,
    };
    let audit = actor.entry("press.contact_logged", String::new(), entry.topic.clone());
    Ok(store.add_media_entry(tenant, &entry, Some(audit)).await?)
}

/// Flags `inquiry` (one the person may handle: the caller has checked that they see it) as a
/// possible press story, with why; those who speak for the municipality see it on their inbox
/// for a week and in the media log.
pub async fn flag_story(
    store: &dyn Store,
    actor: &Actor,
    user: &User,
    inquiry: &Inquiry,
    why: &str,
) -> Result<MediaEntry, PressError> {
    if !user.role.has(Permission::HandleInquiries) {
        return Err(PressError::MayNot);
    }
    let f = checked("", "", &inquiry.reference.to_string(), why)?;
    let entry = MediaEntry {
        id: 0,
        kind: MediaKind::Story,
        at: Timestamp::now(),
        outlet: String::new(),
        person: String::new(),
        topic: f.topic,
        notes: f.notes,
        inquiry_id: Some(inquiry.id),
        by_user: user.id,
    };
    let audit = actor.entry(
        "press.story_flagged",
        format!("inquiry:{}", inquiry.id),
        entry.notes.clone(),
    );
    Ok(store
        .add_media_entry(inquiry.tenant_id, &entry, Some(audit))
        .await?)
}

/// Possible press stories flagged in the last week, newest first: what the inbox of those who
/// speak for the municipality tells them.
pub async fn recent_stories(
    store: &dyn Store,
    tenant: TenantId,
    now: Timestamp,
) -> Result<Vec<MediaEntry>, StoreError> {
    let week = SignedDuration::from_hours(24 * 7);
    Ok(store
        .media_log(tenant, now - week, 200)
        .await?
        .into_iter()
        .filter(|e| e.kind == MediaKind::Story)
        .take(10)
        .collect())
}
