//! Changes to an inquiry besides staff's replies: assigning it, changing its status, taking a
//! live chat over, revoking the follow link, and the citizen writing more. Each is one store write with its audit entry in the same
//! transaction, called alike by the staff pages, the JSON API and the CLI.

use crate::actor::Actor;
use jiff::Timestamp;
use torg_domain::InquiryStatus;
use torg_domain::{InquiryId, TenantId, UnitId, UserId};
use torg_store::{Store, StoreError};

/// Moves an inquiry to `unit_id` and (or, with `None`, away from) a person.
pub async fn assign(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    inquiry_id: InquiryId,
    unit_id: UnitId,
    assignee_id: Option<UserId>,
) -> Result<(), StoreError> {
    let detail = format!(
        "unit:{unit_id} assignee:{}",
        assignee_id.map_or_else(|| "-".to_string(), |a| a.to_string())
    );
    let audit = actor.entry("inquiry.assigned", format!("inquiry:{inquiry_id}"), detail);
    store
        .assign(tenant, inquiry_id, unit_id, assignee_id, Some(audit))
        .await
}

/// Sets an inquiry's status (closing it stamps `closed_at`).
pub async fn set_status(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    inquiry_id: InquiryId,
    status: InquiryStatus,
    now: Timestamp,
) -> Result<(), StoreError> {
    let audit = actor.entry(
        "inquiry.status",
        format!("inquiry:{inquiry_id}"),
        status.as_str().to_string(),
    );
    store
        .set_status(tenant, inquiry_id, status, now, Some(audit))
        .await
}

/// The citizen's follow link stops working (it was shared by mistake, say): revoked by the
/// citizen on the follow page or by staff on the inquiry page.
pub async fn revoke_follow_link(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    inquiry_id: InquiryId,
) -> Result<(), StoreError> {
    let audit = actor.entry(
        "inquiry.link_revoked",
        format!("inquiry:{inquiry_id}"),
        String::new(),
    );
    store
        .revoke_follow_token(tenant, inquiry_id, Some(audit))
        .await
}

/// A staff member takes a live chat over: it is theirs, and a new one is open.
pub async fn take_over_chat(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    inquiry_id: InquiryId,
    user_id: UserId,
    now: Timestamp,
) -> Result<(), StoreError> {
    let audit = actor.entry(
        "chat.taken_over",
        format!("inquiry:{inquiry_id}"),
        String::new(),
    );
    store
        .take_over(tenant, inquiry_id, user_id, now, audit)
        .await
}

/// Why a citizen's message was not taken.
#[derive(Debug, thiserror::Error)]
pub enum CitizenMessageError {
    #[error(transparent)]
    Input(#[from] torg_domain::inquiry::InputError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The citizen writes more on their inquiry (on the follow page, or in the live chat): the
/// text is checked as at intake (`max_bytes`) and kept as an inbound message in their name.
pub async fn citizen_message(
    store: &dyn Store,
    tenant: TenantId,
    inquiry: &torg_store::Inquiry,
    text: &str,
    max_bytes: usize,
    now: Timestamp,
) -> Result<torg_store::Message, CitizenMessageError> {
    let body = torg_domain::inquiry::required_text("message", text, max_bytes)?;
    let new = torg_store::NewMessage {
        kind: torg_domain::MessageKind::Inbound,
        author_user_id: None,
        author_name: inquiry.citizen_name.clone(),
        body,
        attachments: vec![],
        created_at: now,
        external_id: None,
        outgoing: None,
    };
    Ok(store.add_message(tenant, inquiry.id, new, None).await?)
}
