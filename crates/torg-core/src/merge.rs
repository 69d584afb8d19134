//! One matter asked about on several channels (an email and a Facebook message from the same
//! person): staff merge the inquiries. The oldest keeps its reference and stands for the
//! matter — its status and deadline, and a thread that shows every message of the merged
//! ones in time order; the others point to it. The citizen is told once on each channel they
//! used, in the same transaction as the merge, and replies go out on the channel of the
//! citizen's latest message ([`answering`], which [`crate::reply::reply`] follows).

use crate::actor::Actor;
use jiff::Timestamp;
use torg_domain::{Channel, InquiryId, MessageKind};
use torg_store::{Inquiry, Message, Municipality, NewMessage, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("choose at least two inquiries to merge")]
    TooFew,
    #[error("inquiry {0} is merged into another already; merge with that one")]
    AlreadyMerged(String),
    #[error("the municipality has no such inquiry")]
    NotFound,
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
