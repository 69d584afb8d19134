//! A social-media event in: a comment on the municipality's page becomes a public inquiry, a
//! private message joins the person's open conversation or starts one (acknowledged on the
//! same channel), a Mastodon mention or direct message becomes an inquiry answered in its
//! thread. The network's ids make a repeated webhook or poll a no-op.

use crate::intake::{Acknowledger, InquiryInput, IntakeError, IntakeLimits, TenantConfig, receive};
use jiff::Timestamp;
use torg_domain::Channel;
use torg_domain::InquiryId;
use torg_domain::MessageKind;
use torg_domain::social::{Address, Target, Visibility};
use torg_store::{NewMessage, NewOutgoing, Origin, Store, StoreError};

/// What happened on the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A comment on one of the page's posts (public).
    Comment { id: String },
    /// A private message from a person (Messenger, Instagram Direct).
    Message { id: String, person: String },
    /// A Mastodon status that mentions the account.
    Mention {
        status_id: String,
        acct: String,
        visibility: Visibility,
    },
}

/// One event, as a connector read it from a webhook or a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocialEvent {
    pub channel: Channel,
    /// The page, Instagram account or Mastodon account it came to.
    pub account: String,
    pub kind: EventKind,
    /// The name the network shows, if it gives one.
    pub author: Option<String>,
    pub text: String,
}

/// What became of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocialOutcome {
    Created {
        inquiry_id: InquiryId,
    },
    /// A message in a conversation that is open already.
    Threaded {
        inquiry_id: InquiryId,
    },
    /// The same event again.
    Duplicate,
}

/// Takes one event in for `config`'s municipality. Private messages that start an inquiry
/// are acknowledged on their channel through the outbox with `acknowledger`'s text.
pub async fn receive_social(
    store: &dyn Store,
    config: &TenantConfig,
    event: &SocialEvent,
    limits: IntakeLimits,
    now: Timestamp,
    acknowledger: Option<&Acknowledger>,
) -> Result<SocialOutcome, IntakeError> {
    let tenant = config.municipality.id;
    let channel = event.channel;
    let account = event.account.clone();
    let text = match event.text.trim() {
        "" => "[uten tekst]".to_string(),
        t => truncate(t, limits.text.max_text_bytes),
    };
    let author = event
        .author
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(|a| truncate(a, 200));
    let mut thread_key = None;
    let (external_id, reply_to, author) = match &event.kind {
        EventKind::Comment { id } => (
            Address {
                account,
                target: Target::Comment(id.clone()),
            }
            .to_string(),
            None,
            author.unwrap_or_else(|| format!("{}-bruker", network_name(channel))),
        ),
        EventKind::Message { id, person } => {
            let thread = Address::thread_prefix(&account, person);
            let external_id = format!("{thread}{id}");
            let author = author.unwrap_or_else(|| {
                let tail: String = person
                    .chars()
                    .rev()
                    .take(4)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                format!("{}-bruker …{tail}", network_name(channel))
            });
            if let Some((inquiry_id, first)) = store
                .open_inquiry_by_thread(tenant, channel, &thread)
                .await?
            {
                // The conversation's first message again: it started this inquiry.
                if first.as_deref() == Some(external_id.as_str()) {
                    return Ok(SocialOutcome::Duplicate);
                }
                let new = NewMessage {
                    kind: MessageKind::Inbound,
                    author_user_id: None,
                    author_name: author,
                    body: text,
                    attachments: vec![],
                    created_at: now,
                    external_id: Some(format!("{channel}:{external_id}")),
                    outgoing: None,
                };
                return match store.add_message(tenant, inquiry_id, new, None).await {
                    Ok(_) => Ok(SocialOutcome::Threaded { inquiry_id }),
                    Err(StoreError::Conflict(_)) => Ok(SocialOutcome::Duplicate),
                    Err(e) => Err(e.into()),
                };
            }
            thread_key = Some(thread);
            let reply_to = Address {
                account,
                target: Target::Person(person.clone()),
            };
            (external_id, Some(reply_to), author)
        }
        EventKind::Mention {
            status_id,
            acct,
            visibility,
        } => {
            let address = Address {
                account,
                target: Target::Status {
                    id: status_id.clone(),
                    acct: acct.clone(),
                    visibility: *visibility,
                },
            };
            // A direct message is acknowledged directly; a public mention is answered by a person.
            let reply_to = (*visibility == Visibility::Direct).then(|| address.clone());
            (
                address.to_string(),
                reply_to,
                author.unwrap_or_else(|| format!("@{acct}")),
            )
        }
    };
    // Only what is acknowledged on its channel gets an acknowledgement message.
    let acknowledger = acknowledger.filter(|_| reply_to.is_some());
    // What is said in public (a comment, a public mention) is listened to as well.
    let heard = reply_to.is_none().then(|| (author.clone(), text.clone()));
    let input = InquiryInput {
        citizen_name: author,
        body: text,
        external_id: Some(external_id),
        thread_key,
        origin: Origin {
            actor: channel.as_str().into(),
            source: event.account.clone(),
        },
        acknowledge_by: reply_to.map(|to| NewOutgoing {
            media: None,
            channel,
            recipient: to.to_string(),
            subject: String::new(),
            header_id: format!("<{channel}-{}@torg>", &crate::secrets::new_token()[..24]),
            in_reply_to: None,
            references: vec![],
        }),
        ..Default::default()
    };
    let received = receive(store, config, channel, input, limits, now, acknowledger).await?;
    if !received.created.created {
        return Ok(SocialOutcome::Duplicate);
    }
    let inquiry_id = received.created.inquiry.id;
    if let Some((author, text)) = heard {
        // The inquiry is taken; a failure to listen is logged, not the event's.
        if let Err(e) =
            crate::listening::hear_own(store, tenant, inquiry_id, &author, &text, now).await
        {
            tracing::warn!(error = %e, "a comment was not listened to");
        }
    }
    Ok(SocialOutcome::Created { inquiry_id })
}

fn network_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Instagram => "Instagram",
        Channel::Mastodon => "Mastodon",
        _ => "Facebook",
    }
}

/// The first `max` bytes of `s`, cut at a character boundary.
fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// Where a staff reply to a social-media inquiry goes: where it came from, or (`privately`)
/// to the same person in private. `None` when the inquiry did not come from a social network.
pub fn reply_address(inquiry: &torg_store::Inquiry, privately: bool) -> Option<Address> {
    if !inquiry.channel.is_public() {
        return None;
    }
    let mut address = Address::parse(inquiry.external_id.as_deref()?).ok()?;
    if privately {
        address.target = address.target.privately();
    }
    Some(address)
}

/// The outbox entry of a staff reply to `address` on `channel`.
pub fn reply_outgoing(channel: Channel, address: &Address) -> NewOutgoing {
    NewOutgoing {
        media: None,
        channel,
        recipient: address.to_string(),
        subject: String::new(),
        header_id: format!("<{channel}-{}@torg>", &crate::secrets::new_token()[..24]),
        in_reply_to: None,
        references: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn comments_messages_and_mentions() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
            .await
            .expect("open");
        let f = torg_store::conformance::fixture(&*store).await;
        let config = TenantConfig::load(&*store, f.tenant.clone())
            .await
            .expect("config");
        let ack: Box<Acknowledger> = Box::new(|_| "Takk for meldingen.".to_string());
        let now = Timestamp::now();
        let limits = IntakeLimits::default();
        let take = |event: SocialEvent| {
            let store = &*store;
            let config = &config;
            let ack = &*ack;
            async move {
                receive_social(store, config, &event, limits, now, Some(ack))
                    .await
                    .expect("taken")
            }
        };
        let comment = SocialEvent {
            channel: Channel::Facebook,
            account: "555".into(),
            kind: EventKind::Comment { id: "1_2".into() },
            author: Some("Kari Nordmann".into()),
            text: "Når åpner svømmehallen?".into(),
        };
        let SocialOutcome::Created { inquiry_id } = take(comment.clone()).await else {
            panic!("a comment is an inquiry")
        };
        assert_eq!(take(comment).await, SocialOutcome::Duplicate);
        let inquiry = store
            .inquiry(f.tenant.id, inquiry_id)
            .await
            .expect("read")
            .expect("there");
        assert_eq!(inquiry.channel, Channel::Facebook);
        assert_eq!(inquiry.citizen_name, "Kari Nordmann");
        let to = reply_address(&inquiry, false).expect("address");
        assert_eq!(to.to_string(), "555|comment:1_2");
        assert_eq!(
            reply_address(&inquiry, true).expect("private").to_string(),
            "555|private:1_2"
        );
        let messages = store
            .messages(f.tenant.id, inquiry_id, true)
            .await
            .expect("messages");
        assert_eq!(
            messages.len(),
            1,
            "no automatic answer under a public comment"
        );

        let message = |id: &str, text: &str| SocialEvent {
            channel: Channel::Facebook,
            account: "555".into(),
            kind: EventKind::Message {
                id: id.into(),
                person: "9001".into(),
            },
            author: None,
            text: text.into(),
        };
        let SocialOutcome::Created { inquiry_id: thread } = take(message("m_1", "Hei")).await
        else {
            panic!("a first message starts a conversation")
        };
        assert_eq!(take(message("m_1", "Hei")).await, SocialOutcome::Duplicate);
        assert_eq!(
            take(message("m_2", "Er dere der?")).await,
            SocialOutcome::Threaded { inquiry_id: thread }
        );
        assert_eq!(
            take(message("m_2", "Er dere der?")).await,
            SocialOutcome::Duplicate
        );
        let messages = store
            .messages(f.tenant.id, thread, true)
            .await
            .expect("messages");
        let kinds: Vec<_> = messages.iter().map(|m| m.kind).collect();
        assert_eq!(
            kinds,
            [
                MessageKind::Inbound,
                MessageKind::Acknowledgement,
                MessageKind::Inbound
            ]
        );
        let inquiry = store
            .inquiry(f.tenant.id, thread)
            .await
            .expect("read")
            .expect("there");
        assert_eq!(inquiry.citizen_name, "Facebook-bruker …9001");
        assert_eq!(
            reply_address(&inquiry, false).expect("to").to_string(),
            "555|person:9001"
        );
        let due = store
            .claim_outbox(
                Channel::Facebook,
                now,
                jiff::SignedDuration::from_secs(60),
                10,
            )
            .await
            .expect("claim");
        assert_eq!(due.len(), 1, "one acknowledgement, to the person");
        assert_eq!(due[0].recipient, "555|person:9001");
        assert_eq!(due[0].body, "Takk for meldingen.");

        let mention = SocialEvent {
            channel: Channel::Mastodon,
            account: "77".into(),
            kind: EventKind::Mention {
                status_id: "1099".into(),
                acct: "ola@m.example".into(),
                visibility: Visibility::Public,
            },
            author: None,
            text: "  ".into(),
        };
        let SocialOutcome::Created { inquiry_id } = take(mention).await else {
            panic!("a mention is an inquiry")
        };
        let inquiry = store
            .inquiry(f.tenant.id, inquiry_id)
            .await
            .expect("read")
            .expect("there");
        assert_eq!(inquiry.citizen_name, "@ola@m.example");
        assert_eq!(
            store
                .messages(f.tenant.id, inquiry_id, true)
                .await
                .expect("m")[0]
                .body,
            "[uten tekst]"
        );
    }
}
