//! Crisis communication (kriseinformasjon): a crisis declared from a template the
//! municipality prepared, for its areas; each message (the alert, updates, the end) written
//! with its SMS and emails to the subscribers concerned, the staff's notice and its log line
//! in one transaction; the CAP 1.2 alert of each; the flood of inquiries linked and answered
//! with the current status; drills that reach only test recipients and say so.

use crate::actor::Actor;
use crate::reply::{LiveChat, ReplyRequest};
use jiff::Timestamp;
use torg_domain::crisis::{self, CapArea, CapMessage, MsgType, Template};
use torg_domain::inquiry::TextLimits;
use torg_domain::{Channel, InquiryId, MessageKind, Permission};
use torg_i18n::Tr;
use torg_store::{
    Crisis, CrisisLogEntry, CrisisMessage, InquiryFilter, InquirySummary, Municipality, NewCrisis,
    NewCrisisMessage, NewOutgoing, Notice, StatusFilter, Store, StoreError, User,
};

#[derive(Debug, thiserror::Error)]
pub enum CrisisError {
    #[error(
        "only those who speak for the municipality (communication, the chief executive) may declare or lead a crisis"
    )]
    Forbidden,
    #[error(
        "no crisis template {0:?}; see the templates on the crisis page or `torg crisis templates`"
    )]
    UnknownTemplate(String),
    #[error("no area {0:?}; see the areas on the crisis page or `torg areas list`")]
    UnknownArea(String),
    #[error("write what has happened")]
    EmptyText,
    #[error("the crisis has ended")]
    Ended,
    #[error("no such crisis")]
    NotFound,
    #[error(transparent)]
    Template(#[from] crisis::TemplateError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CrisisError {
    pub fn key(&self) -> &'static str {
        match self {
            CrisisError::Forbidden => "crisis-error-forbidden",
            CrisisError::UnknownTemplate(_) => "crisis-error-template",
            CrisisError::UnknownArea(_) => "crisis-error-area",
            CrisisError::EmptyText => "crisis-error-empty",
            CrisisError::Ended => "crisis-error-ended",
            CrisisError::NotFound => "crisis-error-not-found",
            CrisisError::Template(_) => "crisis-error-template-invalid",
            CrisisError::Store(_) => "error-storage",
        }
    }
}

/// Who acts in a crisis, and how their answers to inquiries are written.
pub struct Lead<'a> {
    pub actor: &'a Actor,
    /// The person (staff pages); `None` for the CLI, where the units sign.
    pub user: Option<&'a User>,
    pub chat: &'a dyn LiveChat,
    pub limits: TextLimits,
    /// The portal's address (`https://…`), for links in messages.
    pub base: &'a str,
}

impl Lead<'_> {
    fn check(&self) -> Result<(), CrisisError> {
        match self.user {
            Some(u) if !u.role.has(Permission::SpeakPublicly) => Err(CrisisError::Forbidden),
            _ => Ok(()),
        }
    }
}

/// A declaration.
#[derive(Debug, Clone, Default)]
pub struct Declaration {
    pub template: String,
    /// Area names (or ids as text).
    pub areas: Vec<String>,
    pub drill: bool,
    /// Every subscriber, not only those of the areas.
    pub all_subscribers: bool,
    /// What is known now (added to the template's headline).
    pub text: String,
    /// Also news on the portal and a post on the municipality's approved networks, approved
    /// by the lead at once (staff pages; the CLI has no person to approve).
    pub publish: bool,
}

/// The crisis page on the portal, which every message links to.
pub fn portal_link(base: &str, slug: &str) -> String {
    format!("{base}/k/{slug}/crisis")
}

/// Adds the default templates where a municipality has none (demo, new municipalities).
pub async fn ensure_templates(store: &dyn Store, m: &Municipality) -> Result<(), StoreError> {
    if store.crisis_templates(m.id).await?.is_empty() {
        for t in crisis::default_templates() {
            store.put_crisis_template(m.id, &t, None).await?;
        }
    }
    Ok(())
}

/// Adds or changes a template.
pub async fn put_template(
    store: &dyn Store,
    actor: &Actor,
    m: &Municipality,
    t: &Template,
) -> Result<(), CrisisError> {
    t.check()?;
    let entry = actor.entry(
        "crisis.template",
        format!("crisis-template:{}", t.key),
        t.name.clone(),
    );
    store.put_crisis_template(m.id, t, Some(entry)).await?;
    Ok(())
}

async fn template(store: &dyn Store, m: &Municipality, key: &str) -> Result<Template, CrisisError> {
    ensure_templates(store, m).await?;
    store
        .crisis_templates(m.id)
        .await?
        .into_iter()
        .find(|t| t.key == key)
        .ok_or_else(|| CrisisError::UnknownTemplate(key.to_string()))
}

/// The staff told of each message: everyone active with an email address.
async fn staff_notices(
    store: &dyn Store,
    m: &Municipality,
    subject: &str,
    body: &str,
    tag: &str,
) -> Result<Vec<Notice>, StoreError> {
    Ok(store
        .list_users(m.id)
        .await?
        .into_iter()
        .filter(|u| u.active)
        .filter_map(|u| {
            let to = u.email.clone().filter(|e| !e.is_empty())?;
            Some(Notice {
                out: NewOutgoing {
                    channel: Channel::Email,
                    recipient: to,
                    subject: subject.to_string(),
                    header_id: format!("<crisis-staff-{tag}-{}@torg>", u.id),
                    in_reply_to: None,
                    references: vec![],
                    media: None,
                },
                body: body.to_string(),
            })
        })
        .collect())
}

/// The texts of one crisis message: the email's, the SMS's, the subject, the staff's.
struct Texts {
    email: String,
    sms: String,
    subject: String,
    staff: String,
    manage_base: String,
}

fn texts(
    t: &Tr,
    m: &Municipality,
    base: &str,
    drill: bool,
    headline: &str,
    text: &str,
    instruction: &str,
) -> Texts {
    let link = portal_link(base, &m.slug);
    let message = crisis::message_text(drill, &m.language, headline, text, instruction, &link);
    Texts {
        email: format!("{message}\n\n{}", t.get("crisis-email-footer")),
        sms: format!("{message} {}", t.get("crisis-sms-footer")),
        subject: if drill {
            format!("{}: {headline}", crisis::drill_word(&m.language))
        } else {
            headline.to_string()
        },
        staff: message,
        manage_base: crate::subscribe::manage_base(base, &m.slug),
    }
}

/// One message of a crisis: its texts to subscribers (the areas', or all; a drill's only to
/// test recipients), the staff's notice, the log line; written in one transaction.
#[allow(clippy::too_many_arguments)]
async fn message<'a>(
    store: &dyn Store,
    m: &Municipality,
    lead: &Lead<'_>,
    c: &'a NewCrisis,
    msg_type: MsgType,
    (headline, text, instruction): (&'a str, &'a str, &'a str),
    texts: &'a Texts,
    prefix: &'a str,
) -> Result<NewCrisisMessage<'a>, StoreError> {
    let tag = format!(
        "{}-{}",
        Timestamp::now().as_millisecond(),
        msg_type.as_str()
    );
    let notices = staff_notices(store, m, &texts.subject, &texts.staff, &tag).await?;
    Ok(NewCrisisMessage {
        msg_type,
        headline,
        text,
        instruction,
        at: Timestamp::now(),
        broadcasts: crate::subscribe::broadcasts(
            &[Channel::Email, Channel::Sms],
            &texts.subject,
            &texts.email,
            &texts.sms,
            None,
            if c.all_subscribers { &[] } else { &c.areas },
            c.drill,
            prefix,
            &texts.manage_base,
            Timestamp::now(),
        ),
        notices,
        log: format!(
            "{}{}: {headline}",
            msg_type.as_str(),
            if c.drill { " (drill)" } else { "" },
        ),
        actor: lead.actor.id.clone(),
    })
}

/// Declares a crisis: the alert goes to the subscribers concerned, the staff are told, the
/// banner and the CAP alert are up as soon as this returns.
pub async fn start(
    store: &dyn Store,
    t: &Tr,
    m: &Municipality,
    lead: &Lead<'_>,
    d: &Declaration,
) -> Result<(Crisis, CrisisMessage), CrisisError> {
    lead.check()?;
    let template = template(store, m, &d.template).await?;
    let known = store.areas(m.id).await?;
    let mut areas = vec![];
    for name in &d.areas {
        let a = known
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name.trim()) || a.id.to_string() == name.trim())
            .ok_or_else(|| CrisisError::UnknownArea(name.clone()))?;
        areas.push(a.id);
    }
    let new = NewCrisis {
        template: template.key.clone(),
        drill: d.drill,
        areas,
        all_subscribers: d.all_subscribers,
        started_by: lead.actor.id.clone(),
    };
    let text = d.text.trim();
    let texts = texts(
        t,
        m,
        lead.base,
        d.drill,
        &template.headline,
        text,
        &template.instruction,
    );
    // The crisis's id is not known yet: its alert's entries get a prefix of their own.
    let prefix = format!(
        "crisis-{}-",
        crate::secrets::new_token().get(..12).unwrap_or("")
    );
    let alert = message(
        store,
        m,
        lead,
        &new,
        MsgType::Alert,
        (&template.headline, text, &template.instruction),
        &texts,
        &prefix,
    )
    .await?;
    let entry = lead.actor.entry(
        if d.drill {
            "crisis.drill_started"
        } else {
            "crisis.started"
        },
        String::new(),
        format!("template:{} areas:{:?}", template.key, d.areas),
    );
    let (c, message) = store.start_crisis(m.id, &new, &alert, Some(entry)).await?;
    // Committed: the banner and the CAP alert are up. Now its SMS and emails.
    let message = expanded(store, m, message).await?;
    // The crisis rota is on duty now (the ordinary rota when it has nobody on): said in the
    // log, and in the inbox's duty list.
    if !d.drill {
        let now = Timestamp::now();
        let rota = store
            .shifts(m.id, now, now)
            .await?
            .into_iter()
            .filter(|s| s.group == torg_domain::duty::CRISIS_ROTA)
            .filter(|s| s.starts_at <= now && now < s.ends_at)
            .count();
        let line = if rota > 0 {
            format!("the crisis rota is on duty for every channel ({rota} on now)")
        } else {
            "nobody is on the crisis rota now: the ordinary rota stays on duty".to_string()
        };
        store
            .add_crisis_log(m.id, c.id, "auto", &line, &lead.actor.id, None)
            .await?;
    }
    let started = (c, message);
    if d.publish {
        publish(
            store,
            m,
            lead,
            started.0.id,
            &template.headline,
            text,
            &template.instruction,
        )
        .await?;
    }
    Ok(started)
}

/// A crisis message as news on the portal and posts on the approved networks, approved by
/// the lead (the crisis's shortened approval); the log says where it went, or why not.
async fn publish(
    store: &dyn Store,
    m: &Municipality,
    lead: &Lead<'_>,
    id: i64,
    headline: &str,
    text: &str,
    instruction: &str,
) -> Result<(), CrisisError> {
    let Some(user) = lead.user else {
        return Ok(());
    };
    let networks: Vec<Channel> = store
        .social_accounts(Some(m.id))
        .await?
        .into_iter()
        .filter(|a| a.approved)
        .map(|a| a.channel)
        .collect();
    let body = [text.trim(), instruction.trim()]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n");
    let base = lead.base.to_string();
    let slug = m.slug.clone();
    let result = crate::publish::crisis_message(
        store,
        lead.actor,
        user,
        m.id,
        &m.language,
        (headline, if body.is_empty() { headline } else { &body }),
        move |news| (format!("{base}/k/{slug}/news/{news}"), networks.clone()),
    )
    .await;
    let line = match result {
        Ok(p) => format!("published as news {} and on the approved networks", p.id),
        Err(crate::publish::PublishError::Store(e)) => return Err(e.into()),
        Err(e) => format!("not published: {e}"),
    };
    store
        .add_crisis_log(m.id, id, "auto", &line, &lead.actor.id, None)
        .await?;
    Ok(())
}

/// A new status of a crisis.
#[derive(Debug, Clone, Copy, Default)]
pub struct Status<'a> {
    pub text: &'a str,
    /// The all-clear: the crisis ends with it.
    pub end: bool,
    /// Also as news and on the networks ([`Declaration::publish`]).
    pub publish: bool,
}

/// An update (or, with `end`, the all-clear): to the same subscribers, the staff, and every
/// linked inquiry not closed, each on its own channel.
pub async fn update(
    store: &dyn Store,
    t: &Tr,
    m: &Municipality,
    lead: &Lead<'_>,
    id: i64,
    status: Status<'_>,
) -> Result<CrisisMessage, CrisisError> {
    lead.check()?;
    let Status {
        text,
        end,
        publish: publish_it,
    } = status;
    let text = text.trim();
    if text.is_empty() {
        return Err(CrisisError::EmptyText);
    }
    let c = store.crisis(m.id, id).await?.ok_or(CrisisError::NotFound)?;
    if c.ended_at.is_some() {
        return Err(CrisisError::Ended);
    }
    let template = template(store, m, &c.template).await?;
    let new = NewCrisis {
        template: c.template.clone(),
        drill: c.drill,
        areas: c.areas.clone(),
        all_subscribers: c.all_subscribers,
        started_by: c.started_by.clone(),
    };
    let msg_type = if end {
        MsgType::Cancel
    } else {
        MsgType::Update
    };
    let headline = if end {
        t.get1("crisis-ended-headline", "event", &template.event)
    } else {
        template.headline.clone()
    };
    let instruction = if end {
        String::new()
    } else {
        template.instruction.clone()
    };
    let texts = texts(t, m, lead.base, c.drill, &headline, text, &instruction);
    let prefix = format!("crisis-{id}-");
    let message = message(
        store,
        m,
        lead,
        &new,
        msg_type,
        (&headline, text, &instruction),
        &texts,
        &prefix,
    )
    .await?;
    let entry = lead.actor.entry(
        if end {
            "crisis.ended"
        } else {
            "crisis.updated"
        },
        format!("crisis:{id}"),
        text.chars().take(200).collect(),
    );
    let written = match store
        .add_crisis_message(m.id, id, &message, Some(entry))
        .await
    {
        Err(StoreError::Conflict(_)) => return Err(CrisisError::Ended),
        other => other?,
    };
    let written = expanded(store, m, written).await?;
    if publish_it {
        publish(store, m, lead, id, &headline, text, &instruction).await?;
    }
    // Each linked inquiry gets the update too, on its own channel.
    let linked = store.crisis_inquiries(m.id, id).await?;
    let status = crisis::message_text(
        c.drill,
        &m.language,
        &headline,
        text,
        &instruction,
        &portal_link(lead.base, &m.slug),
    );
    answer(store, m, lead, id, &linked, &status).await?;
    Ok(written)
}

/// Expands the message's broadcasts (and any left by a crash) into the outbox; the message
/// with the number of subscribers it reached.
async fn expanded(
    store: &dyn Store,
    m: &Municipality,
    message: CrisisMessage,
) -> Result<CrisisMessage, StoreError> {
    expand_waiting(store).await?;
    Ok(store
        .crisis_messages(m.id, message.crisis_id)
        .await?
        .into_iter()
        .find(|x| x.id == message.id)
        .unwrap_or(message))
}

/// Expands every broadcast still waiting (after a crash between a crisis message's commit and
/// its expansion); `torg serve` calls it every few seconds. Each is expanded once, on one node.
pub async fn expand_waiting(store: &dyn Store) -> Result<u64, StoreError> {
    let mut total = 0;
    loop {
        let done = store.expand_broadcasts(50).await?;
        total += done.iter().map(|(_, _, n)| n).sum::<u64>();
        if done.is_empty() {
            return Ok(total);
        }
    }
}

/// Runs [`expand_waiting`] every five seconds until shutdown.
pub async fn run_expander(
    store: std::sync::Arc<dyn Store>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        match expand_waiting(&*store).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(entries = n, "broadcasts left waiting were queued"),
            Err(e) => tracing::warn!(error = %e, "expanding broadcasts failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Open inquiries received since the crisis began that mention it (its words, its areas'
/// names), not yet linked: proposed for linking.
pub async fn proposals(
    store: &dyn Store,
    m: &Municipality,
    id: i64,
) -> Result<Vec<InquirySummary>, CrisisError> {
    let c = store.crisis(m.id, id).await?.ok_or(CrisisError::NotFound)?;
    let template = template(store, m, &c.template).await?;
    let areas = store.areas(m.id).await?;
    let mut words: Vec<&str> = template.words.split_whitespace().collect();
    words.extend(
        areas
            .iter()
            .filter(|a| c.areas.contains(&a.id))
            .map(|a| a.name.as_str()),
    );
    let linked = store.crisis_inquiries(m.id, id).await?;
    let open = store
        .list_inquiries(
            m.id,
            &InquiryFilter {
                status: StatusFilter::NotClosed,
                ..Default::default()
            },
            None,
            2_000,
        )
        .await?;
    Ok(open
        .into_iter()
        .filter(|i| i.received_at >= c.started_at && !linked.contains(&i.id))
        .filter(|i| {
            let text = format!("{} {}", i.subject.as_deref().unwrap_or(""), i.preview);
            crisis::mentions(&text, &words)
        })
        .collect())
}

/// Links inquiries to the crisis (the inbox shows them together; each gets the updates).
pub async fn link(
    store: &dyn Store,
    m: &Municipality,
    lead: &Lead<'_>,
    id: i64,
    inquiries: &[InquiryId],
) -> Result<u64, CrisisError> {
    let entry = lead.actor.entry(
        "crisis.linked",
        format!("crisis:{id}"),
        format!("{} inquiries", inquiries.len()),
    );
    match store
        .link_inquiries(m.id, id, inquiries, &lead.actor.id, Some(entry))
        .await
    {
        Err(StoreError::NotFound("crisis")) => Err(CrisisError::NotFound),
        other => Ok(other?),
    }
}

/// Answers the linked inquiries (those not closed) with the current status, each through the
/// one reply path on its own channel; how many were answered.
pub async fn answer_linked(
    store: &dyn Store,
    m: &Municipality,
    lead: &Lead<'_>,
    id: i64,
) -> Result<usize, CrisisError> {
    lead.check()?;
    let c = store.crisis(m.id, id).await?.ok_or(CrisisError::NotFound)?;
    let messages = store.crisis_messages(m.id, c.id).await?;
    let last = messages.last().ok_or(CrisisError::NotFound)?;
    let status = crisis::message_text(
        c.drill,
        &m.language,
        &last.headline,
        &last.text,
        &last.instruction,
        &portal_link(lead.base, &m.slug),
    );
    let linked = store.crisis_inquiries(m.id, id).await?;
    answer(store, m, lead, id, &linked, &status).await
}

async fn answer(
    store: &dyn Store,
    m: &Municipality,
    lead: &Lead<'_>,
    id: i64,
    linked: &[InquiryId],
    status: &str,
) -> Result<usize, CrisisError> {
    if linked.is_empty() {
        return Ok(0);
    }
    let units = store.list_units(m.id).await?;
    let mut answered = 0;
    for inquiry_id in linked {
        let Some(inquiry) = store.inquiry(m.id, *inquiry_id).await? else {
            continue;
        };
        if inquiry.status == torg_domain::InquiryStatus::Closed {
            continue;
        }
        let unit = lead
            .user
            .and_then(|u| u.unit_id)
            .and_then(|u| units.iter().find(|x| x.id == u))
            .or_else(|| units.iter().find(|x| x.id == inquiry.unit_id));
        let Some(unit) = unit else { continue };
        let sent = crate::reply::reply(
            store,
            lead.chat,
            m,
            lead.actor,
            &crate::intake::IntakeLimits {
                text: lead.limits,
                ..Default::default()
            },
            Timestamp::now(),
            ReplyRequest {
                inquiry: &inquiry,
                unit,
                author: lead.user,
                kind: MessageKind::Outbound,
                body: status,
                // A public comment gets the status privately: it is the same for all, and
                // the person's own thread is where they asked.
                privately: inquiry.channel.is_public(),
                confirm_personal_data: false,
                files: &[],
            },
        )
        .await;
        match sent {
            Ok(_) => answered += 1,
            Err(e) => tracing::warn!(inquiry = %inquiry.id, error = %e, "crisis status not sent"),
        }
    }
    store
        .add_crisis_log(
            m.id,
            id,
            "auto",
            &format!("{answered} linked inquiries answered with the status"),
            &lead.actor.id,
            None,
        )
        .await?;
    Ok(answered)
}

/// A line of the log written by staff: a note, a decision or a contact with the press.
pub async fn note(
    store: &dyn Store,
    m: &Municipality,
    actor: &Actor,
    id: i64,
    kind: &str,
    text: &str,
) -> Result<CrisisLogEntry, CrisisError> {
    let kind = match kind {
        "decision" | "press" => kind,
        _ => "note",
    };
    if text.trim().is_empty() {
        return Err(CrisisError::EmptyText);
    }
    let entry = actor.entry(
        &format!("crisis.{kind}"),
        format!("crisis:{id}"),
        String::new(),
    );
    match store
        .add_crisis_log(m.id, id, kind, text.trim(), &actor.id, Some(entry))
        .await
    {
        Err(StoreError::NotFound(_)) => Err(CrisisError::NotFound),
        other => Ok(other?),
    }
}

/// The crisis a portal shows in its banner: the latest one not ended (drills only to staff).
pub async fn current(
    store: &dyn Store,
    m: &Municipality,
    staff: bool,
) -> Result<Option<(Crisis, CrisisMessage)>, StoreError> {
    for c in store.open_crises(m.id).await? {
        if c.drill && !staff {
            continue;
        }
        if let Some(last) = store.crisis_messages(m.id, c.id).await?.pop() {
            return Ok(Some((c, last)));
        }
    }
    Ok(None)
}

/// A message's CAP identifier.
pub fn cap_identifier(m: &Municipality, message: &CrisisMessage) -> String {
    format!("torg-{}-{}-{}", m.slug, message.crisis_id, message.id)
}

/// A crisis message as a CAP 1.2 alert, referring to the messages before it.
pub async fn cap(
    store: &dyn Store,
    m: &Municipality,
    message_id: i64,
    base: &str,
) -> Result<Option<String>, CrisisError> {
    // The message, its crisis, and the ones before it.
    let crises = store.crises(m.id, 500).await?;
    for c in crises {
        let messages = store.crisis_messages(m.id, c.id).await?;
        let Some(pos) = messages.iter().position(|x| x.id == message_id) else {
            continue;
        };
        let this = &messages[pos];
        let template = template(store, m, &c.template).await?;
        let zone = jiff::tz::TimeZone::get(&m.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let sender = format!("torg@{}", m.slug);
        let references = messages[..pos]
            .iter()
            .map(|p| {
                (
                    sender.clone(),
                    cap_identifier(m, p),
                    crisis::cap_time(&p.sent_at.to_zoned(zone.clone())),
                )
            })
            .collect();
        let areas = store.areas(m.id).await?;
        let chosen: Vec<_> = areas.iter().filter(|a| c.areas.contains(&a.id)).collect();
        let whole = format!("{} kommune", m.name);
        let sent = this.sent_at.to_zoned(zone);
        let web = portal_link(base, &m.slug);
        let description = if this.text.is_empty() {
            this.headline.clone()
        } else {
            this.text.clone()
        };
        let xml = crisis::cap_xml(&CapMessage {
            identifier: cap_identifier(m, this),
            sender: sender.clone(),
            sent: &sent,
            exercise: c.drill,
            msg_type: this.msg_type,
            references,
            language: &m.language,
            category: &template.category,
            event: &template.event,
            severity: &template.severity,
            sender_name: &m.name,
            headline: &this.headline,
            description: &description,
            instruction: &this.instruction,
            web: &web,
            areas: if chosen.is_empty() {
                vec![CapArea {
                    name: &whole,
                    polygon: &[],
                }]
            } else {
                chosen
                    .iter()
                    .map(|a| CapArea {
                        name: &a.name,
                        polygon: &a.polygon,
                    })
                    .collect()
            },
        });
        return Ok(Some(xml));
    }
    Ok(None)
}

/// The log of a crisis as text for the archive: its messages and every line, in time order.
pub fn log_export(m: &Municipality, c: &Crisis, log: &[CrisisLogEntry]) -> String {
    let zone = jiff::tz::TimeZone::get(&m.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let mut out = format!(
        "Krise {} ({}){}, {}\n",
        c.id,
        c.template,
        if c.drill { " – øvelse" } else { "" },
        m.name
    );
    for l in log {
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\n",
            l.at.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M:%S"),
            l.kind,
            l.actor,
            l.text.replace(['\n', '\t'], " ")
        ));
    }
    out
}
