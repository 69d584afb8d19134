//! Listening (lytting): the sources and keywords a municipality keeps, the items a check
//! found matched against the keywords (with the search's word forms), the person on duty
//! told of each new match once by email, and the listening page's decisions: dismiss, turn
//! into an inquiry, or link to a crisis. Reading the sources is the social connector's job
//! (`torg_social::listen`); it hands what it read to [`take_items`].

use crate::actor::Actor;
use crate::intake::{InquiryInput, IntakeError, IntakeLimits, TenantConfig, receive};
use jiff::Timestamp;
use std::sync::Arc;
use torg_domain::duty::on_duty_for;
use torg_domain::listening::{
    BadKeywords, BadSource, Item, Keywords, MatchState, SourceKind, check_source, own_guid,
    own_inquiry, parse_keywords,
};
use torg_domain::{Channel, InquiryId, Permission, TenantId};
use torg_i18n::{Catalog, Tr};
use torg_store::{MatchDecision, NewListeningMatch, NewOutgoing, Notice, Store, StoreError};

/// Why a listening action was refused.
#[derive(Debug, thiserror::Error)]
pub enum ListeningError {
    #[error(transparent)]
    Source(#[from] BadSource),
    #[error(transparent)]
    Keywords(#[from] BadKeywords),
    #[error("the source is there already")]
    Duplicate,
    #[error("not found")]
    NotFound,
    /// Decided by someone else already.
    #[error("decided already")]
    Decided,
    #[error(transparent)]
    Intake(#[from] IntakeError),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ListeningError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => ListeningError::Duplicate,
            StoreError::NotFound(_) => ListeningError::NotFound,
            e => ListeningError::Store(e),
        }
    }
}

/// Adds a source (checked and due at once), with its audit entry.
pub async fn add_source(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    kind: SourceKind,
    name: &str,
    address: &str,
    tag: &str,
) -> Result<i64, ListeningError> {
    let address = check_source(kind, name, address, tag)?;
    let entry = actor.entry(
        "listening.source.added",
        format!("municipality:{tenant}"),
        format!("{} {address}", kind.as_str()),
    );
    Ok(store
        .add_listening_source(tenant, kind, name.trim(), &address, Some(entry))
        .await?)
}

pub async fn remove_source(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    id: i64,
) -> Result<(), ListeningError> {
    let entry = actor.entry(
        "listening.source.removed",
        format!("source:{id}"),
        String::new(),
    );
    if store
        .remove_listening_source(tenant, id, Some(entry))
        .await?
    {
        Ok(())
    } else {
        Err(ListeningError::NotFound)
    }
}

/// Replaces the keyword list with what was typed (one per line or comma-separated).
pub async fn set_keywords(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    typed: &str,
) -> Result<Vec<String>, ListeningError> {
    let words = parse_keywords(typed)?;
    let entry = actor.entry(
        "listening.keywords",
        format!("municipality:{tenant}"),
        format!("{} keywords", words.len()),
    );
    store
        .set_listening_keywords(tenant, &words, Some(entry))
        .await?;
    Ok(words)
}

/// Keeps the items of a check that meet the keywords (each once); how many were new.
pub async fn take_items(
    store: &dyn Store,
    tenant: TenantId,
    source: i64,
    keywords: &Keywords,
    items: Vec<Item>,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let matches: Vec<NewListeningMatch> = items
        .into_iter()
        .filter_map(|item| {
            let item = item.trimmed();
            let found = keywords.matched(&format!("{}\n{}", item.title, item.summary));
            (!found.is_empty()).then_some(NewListeningMatch {
                item,
                keywords: found,
            })
        })
        .collect();
    store
        .add_listening_matches(tenant, source, &matches, now)
        .await
}

/// Listens to a public comment or mention that arrived on the municipality's own pages and
/// became `inquiry`: when it meets the keywords, it is a match of the own pages' source (told
/// of like any other, and already an inquiry). Returns whether it matched.
pub async fn hear_own(
    store: &dyn Store,
    tenant: TenantId,
    inquiry: InquiryId,
    author: &str,
    text: &str,
    now: Timestamp,
) -> Result<bool, StoreError> {
    let words = store.listening_keywords(tenant).await?;
    let keywords = Keywords::new(&words);
    let found = keywords.matched(text);
    if found.is_empty() {
        return Ok(false);
    }
    let source = store.own_pages_source(tenant, "Egne sider").await?;
    let item = Item {
        guid: own_guid(inquiry),
        title: format!("{author}: {}", text.chars().take(120).collect::<String>()),
        link: String::new(),
        summary: text.to_string(),
        published: Some(now),
    }
    .trimmed();
    let added = store
        .add_listening_matches(
            tenant,
            source,
            &[NewListeningMatch {
                item,
                keywords: found,
            }],
            now,
        )
        .await?;
    Ok(added > 0)
}

/// What telling of matches needs: the texts and the address links start with.
#[derive(Clone)]
pub struct Notify {
    pub catalog: Arc<Catalog>,
    pub base_url: String,
}

/// Tells of new matches: one email per match to each person on duty for the public
/// channels (in a crisis the crisis rota), or, when nobody is on duty, to those who speak
/// for the municipality. The match is marked told with the emails queued, in one
/// transaction, so each goes once; without a mail account it is marked all the same (the
/// staff pages show it). Returns how many matches were told of.
pub async fn notify_new(
    store: &dyn Store,
    notify: &Notify,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let pending = store.unnotified_matches(500).await?;
    let mut by_tenant: Vec<(TenantId, Vec<torg_store::ListeningMatch>)> = vec![];
    for m in pending {
        match by_tenant.iter_mut().find(|(t, _)| *t == m.tenant_id) {
            Some((_, v)) => v.push(m),
            None => by_tenant.push((m.tenant_id, vec![m])),
        }
    }
    let base = notify.base_url.trim_end_matches('/');
    let mut told = 0;
    for (tenant, matches) in by_tenant {
        let Some(m) = store.municipality(tenant).await? else {
            continue;
        };
        let account = store.mail_account(tenant).await?;
        let users = store.list_users(tenant).await?;
        let shifts = store.shifts(tenant, now, now).await?;
        let crisis = store.open_crises(tenant).await?.iter().any(|c| !c.drill);
        let on_duty = on_duty_for(&shifts, Channel::Facebook, now, crisis);
        let mut to: Vec<&torg_store::User> = users
            .iter()
            .filter(|u| u.active && u.email.is_some() && on_duty.contains(&u.id))
            .collect();
        if to.is_empty() {
            to = users
                .iter()
                .filter(|u| u.active && u.email.is_some() && u.role.has(Permission::SpeakPublicly))
                .collect();
        }
        let t = Tr::new(notify.catalog.clone(), &m.language);
        for found in &matches {
            let notices: Vec<Notice> = match &account {
                None => vec![],
                Some(a) => to
                    .iter()
                    .filter_map(|u| {
                        Some(Notice {
                            out: NewOutgoing {
                                channel: Channel::Email,
                                recipient: u.email.clone()?,
                                subject: t.get1(
                                    "listening-mail-subject",
                                    "title",
                                    &found.item.title,
                                ),
                                header_id: torg_domain::email::new_message_id(
                                    &a.address,
                                    &format!("listening-{}-{}", found.id, u.id),
                                ),
                                in_reply_to: None,
                                references: vec![],
                                media: None,
                            },
                            body: [
                                t.args(
                                    "listening-mail-body",
                                    &[
                                        ("source", &found.source_name),
                                        ("keywords", &found.keywords.join(", ")),
                                    ],
                                ),
                                format!("«{}»", found.item.title),
                                found.item.summary.clone(),
                                found.item.link.clone(),
                                t.get1(
                                    "listening-mail-link",
                                    "link",
                                    &format!("{base}/staff/listening"),
                                ),
                            ]
                            .into_iter()
                            .filter(|s| !s.is_empty())
                            .collect::<Vec<_>>()
                            .join("\n\n"),
                        })
                    })
                    .collect(),
            };
            store
                .mark_matches_notified(tenant, &[found.id], &notices, now)
                .await?;
            told += 1;
        }
    }
    Ok(told)
}

/// Dismisses a match (nothing to do).
pub async fn dismiss(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    id: i64,
) -> Result<(), ListeningError> {
    // Another municipality's match is not found, not "decided".
    store
        .listening_match(tenant, id)
        .await?
        .ok_or(ListeningError::NotFound)?;
    decide(store, actor, tenant, id, MatchState::Dismissed, None, None).await
}

/// Decides a new match, with its audit entry (`listening.dismissed`, `.inquiry`, `.crisis`);
/// `Decided` when someone was first.
async fn decide(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    id: i64,
    state: MatchState,
    inquiry: Option<InquiryId>,
    crisis: Option<(i64, &str)>,
) -> Result<(), ListeningError> {
    let detail = match (inquiry, crisis) {
        (Some(i), _) => format!("inquiry:{i}"),
        (None, Some((c, _))) => format!("crisis:{c}"),
        (None, None) => String::new(),
    };
    let action = match state {
        MatchState::Inquiry => "listening.inquiry",
        MatchState::Crisis => "listening.crisis",
        _ => "listening.dismissed",
    };
    let entry = actor.entry(action, format!("match:{id}"), detail);
    let decision = MatchDecision {
        state,
        inquiry,
        crisis: crisis.map(|(c, _)| c),
        crisis_log: crisis.map(|(_, line)| line),
        by: &actor.id,
    };
    match store
        .decide_listening_match(tenant, id, &decision, Some(entry))
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(ListeningError::Decided),
        // The crisis ended (or is not the municipality's) before the decision was written.
        Err(StoreError::NotFound(_)) => Err(ListeningError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// Turns a match into an inquiry of the listening channel (routed and given its deadline as
/// any other; nobody to answer), and marks the match so. Made twice, it is one inquiry: the
/// match's id is the inquiry's external id.
pub async fn to_inquiry(
    store: &dyn Store,
    actor: &Actor,
    config: &TenantConfig,
    id: i64,
    limits: IntakeLimits,
    now: Timestamp,
) -> Result<InquiryId, ListeningError> {
    let tenant = config.municipality.id;
    let found = store
        .listening_match(tenant, id)
        .await?
        .ok_or(ListeningError::NotFound)?;
    if found.state != MatchState::New {
        return Err(ListeningError::Decided);
    }
    // A comment on the own pages is an inquiry already; anything else becomes one.
    let inquiry = match own_inquiry(&found.item.guid) {
        Some(inquiry) => inquiry,
        None => new_inquiry(store, actor, config, &found, limits, now).await?,
    };
    decide(
        store,
        actor,
        tenant,
        id,
        MatchState::Inquiry,
        Some(inquiry),
        None,
    )
    .await?;
    Ok(inquiry)
}

/// The inquiry of the listening channel a match becomes: its title, text and address, from
/// its source; the match's id is its external id, so making it twice makes one.
async fn new_inquiry(
    store: &dyn Store,
    actor: &Actor,
    config: &TenantConfig,
    found: &torg_store::ListeningMatch,
    limits: IntakeLimits,
    now: Timestamp,
) -> Result<InquiryId, ListeningError> {
    let body = [
        found.item.title.as_str(),
        found.item.summary.as_str(),
        found.item.link.as_str(),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join("\n\n");
    let input = InquiryInput {
        citizen_name: found.source_name.clone(),
        email: None,
        phone: None,
        topic: None,
        subject: Some(found.item.title.chars().take(200).collect()),
        body,
        language: None,
        priority: None,
        external_id: Some(format!("listening:{}", found.id)),
        attachments: vec![],
        origin: torg_store::Origin {
            actor: actor.id.clone(),
            source: actor.source.clone(),
        },
        acknowledge_by: None,
        unit_id: None,
        thread_key: None,
    };
    let received = receive(store, config, Channel::Listening, input, limits, now, None).await?;
    Ok(received.created.inquiry.id)
}

/// Links a match to an open crisis: a line in the crisis's log (with the item's title and
/// address), and the match marked so.
pub async fn to_crisis(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    id: i64,
    crisis: i64,
) -> Result<(), ListeningError> {
    let found = store
        .listening_match(tenant, id)
        .await?
        .ok_or(ListeningError::NotFound)?;
    let open = store
        .crisis(tenant, crisis)
        .await?
        .filter(|c| c.ended_at.is_none())
        .ok_or(ListeningError::NotFound)?;
    if found.state != MatchState::New {
        return Err(ListeningError::Decided);
    }
    let text = format!(
        "{}: {} {}",
        found.source_name, found.item.title, found.item.link
    );
    // The crisis log's line is written with the decision, in one transaction.
    decide(
        store,
        actor,
        tenant,
        id,
        MatchState::Crisis,
        None,
        Some((open.id, text.trim())),
    )
    .await
}
