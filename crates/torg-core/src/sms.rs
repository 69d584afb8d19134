//! An SMS in: STOPP/START manage the number's consent; otherwise it becomes an inquiry on the
//! SMS channel, in the unit its code word (kodeord) names, acknowledged by SMS through the
//! outbox. The gateway's message id makes a repeated callback a no-op.

use crate::intake::{Acknowledger, InquiryInput, IntakeError, IntakeLimits, TenantConfig, receive};
use jiff::Timestamp;
use torg_domain::Channel;
use torg_domain::contact::PhoneNumber;
use torg_domain::sms::{ConsentWord, consent_word, first_word};
use torg_store::{NewOutgoing, Origin, Store};

/// One message from the gateway.
#[derive(Debug, Clone)]
pub struct IncomingSms<'a> {
    pub from: &'a str,
    pub text: &'a str,
    /// The gateway's id of the message, if it gives one.
    pub gateway_id: Option<&'a str>,
}

/// What became of an SMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsOutcome {
    Created {
        inquiry_id: i64,
        unit_id: i64,
    },
    /// The same message again.
    Duplicate,
    Stopped,
    Started,
}

/// Takes one SMS in for `config`'s municipality.
pub async fn receive_sms(
    store: &dyn Store,
    config: &TenantConfig,
    sms: &IncomingSms<'_>,
    limits: IntakeLimits,
    now: Timestamp,
    acknowledger: Option<&Acknowledger>,
) -> Result<SmsOutcome, IntakeError> {
    let tenant = config.municipality.id;
    // Gateways write international numbers without the plus (4791234567).
    let from = sms.from.trim();
    let international = from.len() > 8 && from.bytes().all(|b| b.is_ascii_digit());
    let phone = if international {
        PhoneNumber::parse(&format!("+{from}"))?
    } else {
        PhoneNumber::parse(from)?
    };
    match consent_word(sms.text) {
        Some(ConsentWord::Stop) => {
            store
                .set_sms_consent(tenant, phone.as_str(), true, now)
                .await?;
            return Ok(SmsOutcome::Stopped);
        }
        Some(ConsentWord::Start) => {
            store
                .set_sms_consent(tenant, phone.as_str(), false, now)
                .await?;
            return Ok(SmsOutcome::Started);
        }
        None => {}
    }
    let (word, _) = first_word(sms.text);
    let keyword = store
        .sms_keywords(tenant)
        .await?
        .into_iter()
        .find(|k| k.keyword == word);
    let stopped = store.sms_stopped(tenant, phone.as_str()).await?;
    let input = InquiryInput {
        citizen_name: phone.as_str().to_string(),
        phone: Some(phone.as_str().to_string()),
        topic: keyword.as_ref().map(|k| k.keyword.clone()),
        body: sms.text.to_string(),
        external_id: sms.gateway_id.map(|id| format!("sms:{id}")),
        unit_id: keyword.as_ref().and_then(|k| k.unit_id),
        origin: Origin {
            actor: "sms".into(),
            source: phone.as_str().to_string(),
        },
        // A number that has said STOPP gets no acknowledgement; the inquiry is still taken.
        acknowledge_by: (!stopped).then(|| NewOutgoing {
            channel: Channel::Sms,
            recipient: phone.as_str().to_string(),
            subject: String::new(),
            header_id: format!("<sms-{}@torg>", &crate::secrets::new_token()[..24]),
            in_reply_to: None,
            references: vec![],
        }),
        ..Default::default()
    };
    let received = receive(
        store,
        config,
        Channel::Sms,
        input,
        limits,
        now,
        acknowledger,
    )
    .await?;
    if !received.created.created {
        return Ok(SmsOutcome::Duplicate);
    }
    Ok(SmsOutcome::Created {
        inquiry_id: received.created.inquiry.id,
        unit_id: received.created.inquiry.unit_id,
    })
}
