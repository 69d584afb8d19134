//! What an email answer to an inquiry looks like: to the citizen's address, "Re:" with the
//! reference in the subject, threaded under the citizen's first message.

use torg_domain::Channel;
use torg_domain::TenantId;
use torg_domain::email::{new_message_id, reply_subject};
use torg_store::{Inquiry, MailAccount, NewOutgoing};

/// The outgoing message for a staff reply to `inquiry`: an email when it came by email and
/// the municipality has a mailbox, an SMS when it came by SMS; `None` otherwise (the reply is
/// read on the follow page).
pub fn reply_outgoing(account: Option<&MailAccount>, inquiry: &Inquiry) -> Option<NewOutgoing> {
    if inquiry.channel == Channel::Sms {
        return Some(NewOutgoing {
            media: None,
            channel: Channel::Sms,
            recipient: inquiry.contact_phone.clone()?,
            subject: String::new(),
            header_id: format!("<sms-{}@torg>", &crate::secrets::new_token()[..24]),
            in_reply_to: None,
            references: vec![],
        });
    }
    let account = account?;
    if inquiry.channel != Channel::Email {
        return None;
    }
    let recipient = inquiry.contact_email.clone()?;
    let first = inquiry.external_id.clone();
    Some(NewOutgoing {
        media: None,
        channel: Channel::Email,
        recipient,
        subject: reply_subject(inquiry.subject.as_deref(), &inquiry.reference.to_string()),
        header_id: new_message_id(&account.address, &crate::secrets::new_token()[..24]),
        in_reply_to: first.clone(),
        references: first.into_iter().collect(),
    })
}

/// Throws quarantined mail `id` away (it stays on the mail server); the audit log keeps who
/// did, in the same transaction. `NotFound` when it is not (or no longer) there.
pub async fn discard_quarantined(
    store: &dyn torg_store::Store,
    actor: &crate::actor::Actor,
    tenant: TenantId,
    id: i64,
) -> Result<(), torg_store::StoreError> {
    let entry = actor.entry("mail.discarded", String::new(), format!("quarantine:{id}"));
    store.remove_quarantined(tenant, id, Some(entry)).await
}
