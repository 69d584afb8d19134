//! A phone call logged by staff (telefonlogg): the call becomes an inquiry of the phone
//! channel with the staff member's note, answered at once (closed) or passed on to a unit.

use crate::actor::Actor;
use crate::intake::{InquiryInput, IntakeError, IntakeLimits, TenantConfig, receive};
use jiff::Timestamp;
use torg_domain::InquiryId;
use torg_domain::UnitId;
use torg_domain::{Channel, InquiryStatus, MessageKind};
use torg_store::{NewMessage, User};

/// The longest call that can be logged, in minutes.
pub const MAX_CALL_MINUTES: u32 = 24 * 60;

/// Why a call could not be logged.
#[derive(Debug, thiserror::Error)]
pub enum PhoneError {
    #[error("a call lasts from 0 to {MAX_CALL_MINUTES} minutes")]
    Minutes,
    #[error(transparent)]
    Intake(#[from] IntakeError),
}

impl From<torg_store::StoreError> for PhoneError {
    fn from(e: torg_store::StoreError) -> Self {
        PhoneError::Intake(e.into())
    }
}

/// A logged call, as staff typed it.
#[derive(Debug, Clone)]
pub struct Call {
    /// The caller, their number, the topic and what was asked.
    pub input: InquiryInput,
    pub minutes: u32,
    /// Passed on to this unit; `None`: answered on the phone, and closed.
    pub passed_to: Option<UnitId>,
    /// The note kept with it (in the municipality's language: who took it, how long).
    pub note: String,
}

/// Logs `call` taken by `by`: the inquiry (no acknowledgement: the caller heard the answer,
/// or where it went), the note with the audit entry `phone.logged`, and — when it was
/// answered — its closing. Returns the inquiry's id.
pub async fn log_call(
    store: &dyn torg_store::Store,
    actor: &Actor,
    config: &TenantConfig,
    by: &User,
    mut call: Call,
    limits: IntakeLimits,
    now: Timestamp,
) -> Result<InquiryId, PhoneError> {
    if call.minutes > MAX_CALL_MINUTES {
        return Err(PhoneError::Minutes);
    }
    // A call passed on is created in that unit; one answered at once where routing puts it.
    call.input.unit_id = call.passed_to;
    let received = receive(store, config, Channel::Phone, call.input, limits, now, None).await?;
    let tenant = config.municipality.id;
    let id = received.created.inquiry.id;
    let entry = actor.entry(
        "phone.logged",
        format!("inquiry:{id}"),
        format!(
            "minutes:{} outcome:{}",
            call.minutes,
            call.passed_to
                .map_or("answered".to_string(), |u| format!("unit:{u}"))
        ),
    );
    let note = NewMessage {
        kind: MessageKind::Note,
        author_user_id: Some(by.id),
        author_name: by.full_name.clone(),
        body: call.note,
        attachments: vec![],
        created_at: now,
        external_id: None,
        outgoing: None,
    };
    store.add_message(tenant, id, note, Some(entry)).await?;
    if call.passed_to.is_none() {
        crate::casework::set_status(store, actor, tenant, id, InquiryStatus::Closed, now).await?;
    }
    Ok(id)
}
