//! Staff's and integrations' changes to an inquiry besides writing: assigning it, changing its
//! status, taking a live chat over. Each is one store write with its audit entry in the same
//! transaction, called alike by the staff pages, the JSON API and the CLI.

use crate::actor::Actor;
use jiff::Timestamp;
use torg_domain::InquiryStatus;
use torg_store::{Store, StoreError};

/// Moves an inquiry to `unit_id` and (or, with `None`, away from) a person.
pub async fn assign(
    store: &dyn Store,
    actor: &Actor,
    tenant: i64,
    inquiry_id: i64,
    unit_id: i64,
    assignee_id: Option<i64>,
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
    tenant: i64,
    inquiry_id: i64,
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

/// A staff member takes a live chat over: it is theirs, and a new one is open.
pub async fn take_over_chat(
    store: &dyn Store,
    actor: &Actor,
    tenant: i64,
    inquiry_id: i64,
    user_id: i64,
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
