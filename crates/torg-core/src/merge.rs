//! One matter asked about on several channels (an email and a Facebook message from the same
//! person): staff merge the inquiries. The oldest keeps its reference and stands for the
//! matter — its status and deadline, and a thread that shows every message of the merged
//! ones in time order; the others point to it. The citizen is told once on each channel they
//! used, in the same transaction as the merge, and replies go out on the channel of the
//! citizen's latest message ([`answering`], which [`crate::reply::reply`] follows).
//!
//! The other way round, a message about something else is split out into an inquiry of its
//! own ([`split`]): a new reference, its own deadline from when it came, the acknowledgement
//! on its channel, and a notice with the new follow link where the citizen follows the old.

use crate::actor::Actor;
use crate::intake::{AckFacts, Acknowledger, TenantConfig};
use jiff::Timestamp;
use torg_domain::{Channel, InquiryId, MessageKind};
use torg_store::{
    Inquiry, Message, Municipality, NewAcknowledgement, NewInquiry, NewMessage, Origin, Store,
    StoreError,
};

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("choose at least two inquiries to merge")]
    TooFew,
    #[error("inquiry {0} is merged into another already; merge with that one")]
    AlreadyMerged(String),
    #[error("the municipality has no such inquiry")]
    NotFound,
    #[error("only a citizen's message is split out, and not the inquiry's only one")]
    NotSplittable,
    /// On social media the answer goes to the person's thread, which stays one inquiry.
    #[error("a message in a thread on social media stays in it: the answer goes to that thread")]
    SocialThread,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The inquiry that stands for the matter `inquiry` belongs to, and the ones merged into it
/// (oldest first).
pub async fn group(
    store: &dyn Store,
    inquiry: &Inquiry,
) -> Result<(Inquiry, Vec<Inquiry>), StoreError> {
    let tenant = inquiry.tenant_id;
    let primary = match inquiry.merged_into {
        Some(p) => store
            .inquiry(tenant, p)
            .await?
            .ok_or(StoreError::NotFound("inquiry"))?,
        None => inquiry.clone(),
    };
    let mut members = vec![];
    for id in store.merged_into(tenant, primary.id).await? {
        if let Some(i) = store.inquiry(tenant, id).await? {
            members.push(i);
        }
    }
    Ok((primary, members))
}

/// The thread of the whole matter: every message of the inquiry and those merged with it,
/// oldest first, each with the inquiry it belongs to.
pub async fn thread(
    store: &dyn Store,
    primary: &Inquiry,
    members: &[Inquiry],
    include_notes: bool,
) -> Result<Vec<(InquiryId, Message)>, StoreError> {
    let mut all = vec![];
    for i in std::iter::once(primary).chain(members) {
        for m in store.messages(i.tenant_id, i.id, include_notes).await? {
            all.push((i.id, m));
        }
    }
    all.sort_by_key(|(_, m)| (m.created_at, m.id));
    Ok(all)
}

/// The inquiry a reply to the matter goes out on: the one the citizen wrote on last.
pub async fn answering(store: &dyn Store, inquiry: &Inquiry) -> Result<Inquiry, StoreError> {
    if inquiry.merged_into.is_none()
        && store
            .merged_into(inquiry.tenant_id, inquiry.id)
            .await?
            .is_empty()
    {
        return Ok(inquiry.clone());
    }
    let (primary, members) = group(store, inquiry).await?;
    let mut latest: Option<(Timestamp, Inquiry)> = None;
    for i in std::iter::once(primary.clone()).chain(members) {
        let last = store
            .messages(i.tenant_id, i.id, false)
            .await?
            .into_iter()
            .filter(|m| m.kind == MessageKind::Inbound)
            .map(|m| m.created_at)
            .max();
        if let Some(at) = last
            && latest.as_ref().is_none_or(|(t, _)| at > *t)
        {
            latest = Some((at, i));
        }
    }
    Ok(latest.map(|(_, i)| i).unwrap_or(primary))
}

/// Merges the inquiries `ids` (two or more, across channels) into the oldest; returns it.
/// The citizen is told once on each channel they used, in their language from `catalog`.
pub async fn merge(
    store: &dyn Store,
    actor: &Actor,
    catalog: &torg_i18n::Catalog,
    municipality: &Municipality,
    ids: &[InquiryId],
    now: Timestamp,
) -> Result<InquiryId, MergeError> {
    let tenant = municipality.id;
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    if ids.len() < 2 {
        return Err(MergeError::TooFew);
    }
    let mut chosen = vec![];
    for id in &ids {
        let i = store
            .inquiry(tenant, *id)
            .await?
            .ok_or(MergeError::NotFound)?;
        if i.merged_into.is_some() {
            return Err(MergeError::AlreadyMerged(i.reference.to_string()));
        }
        chosen.push(i);
    }
    chosen.sort_by_key(|i| (i.received_at, i.id));
    let primary = chosen.remove(0);
    let others: Vec<InquiryId> = chosen.iter().map(|i| i.id).collect();

    // Everything in the matter once merged: the primary's own members, the chosen and theirs.
    let mut everything = vec![primary.clone()];
    for i in &chosen {
        everything.push(i.clone());
        for id in store.merged_into(tenant, i.id).await? {
            if let Some(m) = store.inquiry(tenant, id).await? {
                everything.push(m);
            }
        }
    }
    everything.extend(group(store, &primary).await?.1);
    // Where the citizen wrote last is where answers go.
    let mut latest: Option<(Timestamp, Channel)> = None;
    let mut last_on_channel: Vec<(Channel, Timestamp, &Inquiry)> = vec![];
    for i in &everything {
        let last = store
            .messages(tenant, i.id, false)
            .await?
            .into_iter()
            .filter(|m| m.kind == MessageKind::Inbound)
            .map(|m| m.created_at)
            .max()
            .unwrap_or(i.received_at);
        if latest.is_none_or(|(t, _)| last > t) {
            latest = Some((last, i.channel));
        }
        match last_on_channel.iter_mut().find(|(c, _, _)| *c == i.channel) {
            Some(entry) if last > entry.1 => *entry = (i.channel, last, i),
            Some(_) => {}
            None => last_on_channel.push((i.channel, last, i)),
        }
    }
    let answers_on = latest.map(|(_, c)| c).unwrap_or(primary.channel);
    let mut notices = vec![];
    for (_, _, inquiry) in &last_on_channel {
        let lang = inquiry.language.as_str();
        let channel = catalog.text(lang, &format!("channel-{}", answers_on.as_str()), &[]);
        let body = catalog.text(
            lang,
            "merge-notice",
            &[
                ("reference", &primary.reference.to_string()),
                ("channel", &channel),
            ],
        );
        // Told privately where the citizen wrote in public.
        let outgoing = crate::reply::delivery_for(store, inquiry, true).await?;
        notices.push((
            inquiry.id,
            NewMessage {
                kind: MessageKind::Acknowledgement,
                author_user_id: None,
                author_name: municipality.name.clone(),
                body,
                attachments: vec![],
                created_at: now,
                external_id: None,
                outgoing,
            },
        ));
    }
    let references: Vec<String> = chosen.iter().map(|i| i.reference.to_string()).collect();
    let mut audit = vec![actor.entry(
        "inquiry.merged",
        format!("inquiry:{}", primary.id),
        format!("from:{}", references.join(",")),
    )];
    for i in &chosen {
        audit.push(actor.entry(
            "inquiry.merged_into",
            format!("inquiry:{}", i.id),
            format!("into:{}", primary.reference),
        ));
    }
    store
        .merge_inquiries(tenant, primary.id, &others, now, notices, audit)
        .await?;
    Ok(primary.id)
}

/// Splits the citizen's message `message_id` (of the matter `inquiry` stands for) out into an
/// inquiry of its own; returns it. `follow_base` is the follow page's address up to the token
/// (`https://…/k/<slug>/follow/`): the notice on the old inquiry carries the new link.
#[allow(clippy::too_many_arguments)]
pub async fn split(
    store: &dyn Store,
    actor: &Actor,
    catalog: &torg_i18n::Catalog,
    config: &TenantConfig,
    acknowledger: Option<&Acknowledger>,
    inquiry: &Inquiry,
    message_id: i64,
    follow_base: &str,
    now: Timestamp,
) -> Result<Inquiry, MergeError> {
    let (primary, members) = group(store, inquiry).await?;
    let mut found = None;
    for i in std::iter::once(primary).chain(members) {
        if let Some(m) = store
            .messages(i.tenant_id, i.id, false)
            .await?
            .into_iter()
            .find(|m| m.id == message_id)
        {
            found = Some((i, m));
            break;
        }
    }
    let Some((from, message)) = found else {
        return Err(MergeError::NotFound);
    };
    if message.kind != MessageKind::Inbound {
        return Err(MergeError::NotSplittable);
    }
    if from.channel.is_public() {
        return Err(MergeError::SocialThread);
    }
    let municipality = &config.municipality;
    let received = message.created_at;
    let deadline_at = config.deadline(from.channel, from.unit_id, from.topic.as_deref(), received);
    let zone = jiff::tz::TimeZone::get(&municipality.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let secret = crate::secrets::new_token();
    let acknowledgement = match acknowledger {
        Some(write) => Some(NewAcknowledgement {
            outgoing: crate::reply::delivery_for(store, &from, true).await?,
            author_name: municipality.name.clone(),
            body: write(&AckFacts {
                citizen_name: &from.citizen_name,
                language: &from.language,
                deadline_at,
                follow_secret: &secret,
            }),
        }),
        None => None,
    };
    let when = received
        .to_zoned(zone.clone())
        .strftime("%d.%m.%Y %H:%M")
        .to_string();
    let notice = NewMessage {
        kind: MessageKind::Acknowledgement,
        author_user_id: None,
        author_name: municipality.name.clone(),
        body: catalog.text(
            &from.language,
            "split-notice",
            &[
                ("when", &when),
                ("link", &format!("{follow_base}{{id}}-{secret}")),
            ],
        ),
        attachments: vec![],
        created_at: now,
        external_id: None,
        outgoing: None,
    };
    let new = NewInquiry {
        tenant_id: municipality.id,
        channel: from.channel,
        topic: from.topic.clone(),
        subject: from.subject.clone(),
        citizen_name: from.citizen_name.clone(),
        contact_email: from.contact_email.clone(),
        contact_phone: from.contact_phone.clone(),
        language: from.language.clone(),
        unit_id: from.unit_id,
        priority: from.priority,
        follow_token_hash: crate::secrets::token_hash(&secret),
        body: message.body.clone(),
        attachments: vec![],
        received_at: received,
        reference_year: received.to_zoned(zone).year(),
        deadline_at,
        external_id: None,
        thread_key: None,
        acknowledgement,
        origin: Origin {
            actor: actor.id.clone(),
            source: actor.source.clone(),
        },
    };
    let audit = vec![actor.entry(
        "inquiry.split",
        format!("inquiry:{}", from.id),
        format!("message:{message_id}"),
    )];
    match store
        .split_message(from.id, message_id, new, notice, audit)
        .await
    {
        Ok(created) => Ok(created),
        Err(StoreError::Conflict(_)) => Err(MergeError::NotSplittable),
        Err(StoreError::NotFound(_)) => Err(MergeError::NotFound),
        Err(e) => Err(e.into()),
    }
}
