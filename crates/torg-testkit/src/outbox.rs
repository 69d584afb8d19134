//! A municipality with one answer waiting in the outbox, for tests of a channel's sender.

use jiff::Timestamp;
use torg_domain::{Channel, MessageKind, Priority};
use torg_domain::{InquiryId, TenantId};
use torg_store::{
    DeliveryState, NewInquiry, NewMessage, NewMunicipality, NewOutgoing, Origin, Store,
};

/// Where the waiting answer is.
#[derive(Debug, Clone, Copy)]
pub struct Waiting {
    pub tenant: TenantId,
    pub inquiry: i64,
    pub message: i64,
}

/// Makes municipality `slug` with a service desk, an inquiry from `recipient` on `channel`
/// and an answer to it waiting in the outbox.
pub async fn waiting_answer(
    store: &dyn Store,
    slug: &str,
    channel: Channel,
    recipient: &str,
) -> Waiting {
    let m = store
        .create_municipality(NewMunicipality {
            slug: slug.into(),
            name: format!("{slug} kommune"),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await
        .expect("municipality");
    let unit = store
        .create_unit(m.id, "Servicetorget", true, false, None)
        .await
        .expect("unit");
    let now = Timestamp::now();
    let inquiry = store
        .create_inquiry(NewInquiry {
            tenant_id: m.id,
            channel,
            topic: None,
            subject: None,
            citizen_name: "Kari".into(),
            contact_email: (channel == Channel::Email).then(|| recipient.to_string()),
            contact_phone: (channel == Channel::Sms).then(|| recipient.to_string()),
            language: "nb".into(),
            unit_id: unit.id,
            priority: Priority::Normal,
            follow_token_hash: format!("follow-{slug}"),
            body: "Når kommer brøytebilen?".into(),
            attachments: vec![],
            received_at: now,
            reference_year: 2026,
            deadline_at: now,
            external_id: None,
            thread_key: None,
            acknowledgement: None,
            origin: Origin::default(),
        })
        .await
        .expect("inquiry")
        .inquiry;
    let message = store
        .add_message(
            m.id,
            inquiry.id,
            NewMessage {
                kind: MessageKind::Outbound,
                author_user_id: None,
                author_name: "Servicetorget".into(),
                body: "I morgen tidlig.".into(),
                attachments: vec![],
                created_at: now,
                external_id: None,
                outgoing: Some(NewOutgoing {
                    media: None,
                    channel,
                    recipient: recipient.into(),
                    subject: "Brøyting".into(),
                    header_id: format!("<answer@{slug}.example>"),
                    in_reply_to: None,
                    references: vec![],
                }),
            },
            None,
        )
        .await
        .expect("answer");
    Waiting {
        tenant: m.id,
        inquiry: inquiry.id.get(),
        message: message.id,
    }
}

/// The answer's delivery state.
pub async fn state(store: &dyn Store, w: Waiting) -> DeliveryState {
    store
        .deliveries(w.tenant, InquiryId(w.inquiry))
        .await
        .expect("deliveries")
        .into_iter()
        .find(|(id, _)| *id == w.message)
        .map(|(_, s)| s)
        .expect("the answer's delivery")
}

/// The error stored on the answer and the connector `connector`'s health text: what staff
/// are shown of a failed send.
pub async fn shown_errors(store: &dyn Store, w: Waiting, connector: &str) -> Vec<String> {
    let mut shown = vec![];
    match state(store, w).await {
        DeliveryState::Pending {
            last_error: Some(e),
            ..
        }
        | DeliveryState::Failed { error: e, .. } => shown.push(e),
        other => panic!("the answer did not fail: {other:?}"),
    }
    let statuses = store
        .connector_statuses(Some(w.tenant))
        .await
        .expect("statuses");
    shown.extend(
        statuses
            .into_iter()
            .filter(|s| s.connector == connector)
            .map(|s| s.detail),
    );
    shown
}
