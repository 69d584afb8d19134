//! The municipality's rules for handling inquiries, each set by one function: routing rules,
//! canned replies, deadline policies, opening hours and closed days, acknowledgement texts,
//! planned peaks, the duty rota and its handover notes, moderation words, retention, and SMS
//! code words. Each checks what was typed, writes with its audit entry in one transaction, and
//! — where deadlines depend on it — recomputes the open inquiries' deadlines. The CLI and the
//! staff pages only parse and print.

use crate::actor::Actor;
use crate::intake::{TenantConfig, recompute_deadlines};
use torg_domain::calendar::{DayHours, HoursScope, format_weekly};
use torg_domain::deadline::{PlannedPeak, PolicyRule};
use torg_domain::routing::RoutingRule;
use torg_domain::routing::{RoutingInput, deciding};
use torg_domain::{TenantId, UnitId, UserId};
use torg_store::{CannedReply, ClosedDay, Municipality, PolicyItem, SmsKeyword, Store, StoreError};

/// Why a rule was refused. The message says what to do instead.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error(
        "give at least one of keyword, topic and channel; a rule without conditions would match nothing"
    )]
    RuleWithoutCondition,
    #[error("a canned reply needs a title and a text")]
    EmptyCannedReply,
    #[error(
        "the text must hold {{referanse}} and {{lenke}}, so that the citizen can find the case again"
    )]
    AcknowledgementWithoutLink,
    #[error("the peak must end after it starts")]
    PeakBackwards,
    #[error("a shift must end after it starts")]
    ShiftBackwards,
    #[error("only the person on this shift, while it lasts, writes its handover note")]
    NotYourShift,
    #[error("the handover note is longer than {MAX_HANDOVER_NOTE} bytes")]
    HandoverTooLong,
    #[error("keep closed inquiries between 30 and 3650 days")]
    RetentionOutOfRange,
    #[error(transparent)]
    CodeWord(#[from] torg_domain::sms::CodeWordError),
    #[error("the municipality has no such unit")]
    UnknownUnit,
    #[error("there is no such rule, reply, policy, day or peak (it may have been removed already)")]
    NotFound,
    #[error("the answer is longer than {MAX_KEYWORD_REPLY} characters (four SMS)")]
    KeywordReplyTooLong,
    #[error("a word to avoid and its plainer form are each 1 to {MAX_JARGON} characters")]
    Jargon,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Days a closed inquiry may be kept, at least and at most.
pub const RETENTION_DAYS: std::ops::RangeInclusive<u32> = 30..=3650;

async fn recompute(store: &dyn Store, m: Municipality) -> Result<u64, PolicyError> {
    let config = TenantConfig::load(store, m).await?;
    Ok(recompute_deadlines(store, &config).await?)
}

/// Adds a routing rule (which unit gets what); it needs at least one condition.
pub async fn add_routing_rule(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    rule: RoutingRule,
) -> Result<i64, PolicyError> {
    if rule.keyword.is_none() && rule.topic.is_none() && rule.channel.is_none() {
        return Err(PolicyError::RuleWithoutCondition);
    }
    let entry = actor.entry(
        "rule.added",
        format!("unit:{}", rule.unit_id),
        format!(
            "keyword:{} topic:{} channel:{}",
            rule.keyword.as_deref().unwrap_or("*"),
            rule.topic.as_deref().unwrap_or("*"),
            rule.channel.map(|c| c.as_str()).unwrap_or("*")
        ),
    );
    Ok(store.create_routing_rule(tenant, rule, Some(entry)).await?)
}

/// Adds a canned reply (svarmal).
pub async fn add_canned_reply(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    title: &str,
    body: &str,
) -> Result<CannedReply, PolicyError> {
    let (title, body) = (title.trim(), body.trim());
    if title.is_empty() || body.is_empty() {
        return Err(PolicyError::EmptyCannedReply);
    }
    let entry = actor.entry("canned.added", String::new(), format!("title:{title}"));
    Ok(store
        .create_canned_reply(tenant, title, body, Some(entry))
        .await?)
}

/// Which way a routing rule moves in the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Up,
    Down,
}

/// Moves a routing rule one place up or down the order they are tried in; the rules are
/// numbered 10, 20, 30… again, in one transaction with one audit entry. Moving the first up
/// (or the last down) leaves the order as it is.
pub async fn move_routing_rule(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    id: i64,
    step: Move,
) -> Result<(), PolicyError> {
    let mut ids: Vec<i64> = store
        .list_routing_rules(tenant)
        .await?
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    let at = ids
        .iter()
        .position(|r| *r == id)
        .ok_or(PolicyError::NotFound)?;
    let to = match step {
        Move::Up => at.saturating_sub(1),
        Move::Down => (at + 1).min(ids.len() - 1),
    };
    ids.swap(at, to);
    let positions: Vec<(i64, i64)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (*id, (i as i64 + 1) * 10))
        .collect();
    let entry = actor.entry(
        "rule.moved",
        format!("rule:{id}"),
        format!("place {} → {}", at + 1, to + 1),
    );
    Ok(store
        .set_routing_rule_positions(tenant, &positions, Some(entry))
        .await?)
}

/// Where a text would go: the unit, and the id of the rule that decides (`None`: no rule
/// matched, the fallback unit gets it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trial {
    pub unit: UnitId,
    pub rule: Option<i64>,
}

/// Tries the rules (id, rule) on a sample, as intake would route it. No IO: the staff page
/// tries the saved rules and the saved ones with a draft (id 0) before the draft is saved.
pub fn try_rules(
    rules: &[(i64, RoutingRule)],
    input: &RoutingInput<'_>,
    fallback: UnitId,
) -> Trial {
    let plain: Vec<RoutingRule> = rules.iter().map(|(_, r)| r.clone()).collect();
    match deciding(&plain, input) {
        Some(i) => Trial {
            unit: rules[i].1.unit_id,
            rule: Some(rules[i].0),
        },
        None => Trial {
            unit: fallback,
            rule: None,
        },
    }
}

/// Changes a canned reply's title and text.
pub async fn edit_canned_reply(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    id: i64,
    title: &str,
    body: &str,
) -> Result<(), PolicyError> {
    let (title, body) = (title.trim(), body.trim());
    if title.is_empty() || body.is_empty() {
        return Err(PolicyError::EmptyCannedReply);
    }
    let entry = actor.entry(
        "canned.changed",
        format!("canned:{id}"),
        format!("title:{title}"),
    );
    if store
        .update_canned_reply(tenant, id, title, body, Some(entry))
        .await?
    {
        Ok(())
    } else {
        Err(PolicyError::NotFound)
    }
}

/// Removes a routing rule, canned reply, deadline policy, closed day, peak or a unit's or
/// channel's own hours; returns how many open inquiries' deadlines changed.
pub async fn remove(
    store: &dyn Store,
    actor: &Actor,
    m: Municipality,
    item: PolicyItem,
) -> Result<u64, PolicyError> {
    let action = match item {
        PolicyItem::RoutingRule(_) => "rule.removed",
        PolicyItem::CannedReply(_) => "canned.removed",
        PolicyItem::DeadlinePolicy(_) => "policy.removed",
        PolicyItem::ClosedDay(_) => "hours.day_opened",
        PolicyItem::Peak(_) => "peak.removed",
        PolicyItem::ScopedHours(_) => "hours.removed",
    };
    let entry = actor.entry(action, item.object(), String::new());
    if !store.remove_policy_item(m.id, &item, Some(entry)).await? {
        return Err(PolicyError::NotFound);
    }
    match item {
        PolicyItem::RoutingRule(_) | PolicyItem::CannedReply(_) => Ok(0),
        _ => recompute(store, m).await,
    }
}

/// Adds a deadline policy; returns how many open inquiries' deadlines changed.
pub async fn add_deadline_policy(
    store: &dyn Store,
    actor: &Actor,
    m: Municipality,
    rule: PolicyRule,
) -> Result<u64, PolicyError> {
    let entry = actor.entry(
        "policy.added",
        format!("policy:{}", rule.policy),
        String::new(),
    );
    store
        .create_deadline_policy(m.id, rule, Some(entry))
        .await?;
    recompute(store, m).await
}

/// Sets the opening hours of the municipality, or of one unit or channel (`scope`); returns
/// how many open inquiries' deadlines changed.
pub async fn set_hours(
    store: &dyn Store,
    actor: &Actor,
    m: Municipality,
    scope: Option<HoursScope>,
    weekly: &[DayHours; 7],
) -> Result<u64, PolicyError> {
    let object = scope
        .map(|s| s.to_string())
        .unwrap_or_else(|| "municipality".into());
    let entry = actor.entry("hours.set", object, format_weekly(weekly));
    match scope {
        Some(scope) => {
            store
                .set_scoped_opening_hours(m.id, scope, weekly, Some(entry))
                .await?
        }
        None => store.set_opening_hours(m.id, weekly, Some(entry)).await?,
    }
    recompute(store, m).await
}

/// Closes (or, with `closes_at`, shortens) a day; returns how many deadlines changed.
pub async fn close_day(
    store: &dyn Store,
    actor: &Actor,
    m: Municipality,
    day: ClosedDay,
) -> Result<u64, PolicyError> {
    let detail = day
        .closes_at
        .map(|t| format!("closes {}", t.strftime("%H:%M")))
        .unwrap_or_else(|| "closed".into());
    let entry = actor.entry("hours.closed_day", format!("date:{}", day.date), detail);
    store.set_closed_day(m.id, day, Some(entry)).await?;
    recompute(store, m).await
}

/// Sets the acknowledgement text of one language; it must tell the citizen the reference
/// and the link to follow the case.
pub async fn set_acknowledgement(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    language: &str,
    body: &str,
) -> Result<(), PolicyError> {
    if !body.contains("{referanse}") || !body.contains("{lenke}") {
        return Err(PolicyError::AcknowledgementWithoutLink);
    }
    let entry = actor.entry(
        "acknowledgement.set",
        format!("language:{language}"),
        String::new(),
    );
    Ok(store
        .set_acknowledgement_template(tenant, language, body, Some(entry))
        .await?)
}

/// Plans a peak (a period with its own deadline policy); returns its id and how many
/// deadlines changed.
pub async fn add_peak(
    store: &dyn Store,
    actor: &Actor,
    m: Municipality,
    peak: PlannedPeak,
) -> Result<(i64, u64), PolicyError> {
    if peak.starts_at >= peak.ends_at {
        return Err(PolicyError::PeakBackwards);
    }
    let entry = actor.entry(
        "peak.added",
        format!("peak:{}", peak.name),
        format!("{} – {} {}", peak.starts_at, peak.ends_at, peak.policy),
    );
    let id = store.create_peak(m.id, peak, Some(entry)).await?;
    Ok((id, recompute(store, m).await?))
}

/// Plans shifts of `group` duty: (user, start, end) each, each with its audit entry.
pub async fn plan_duty(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    group: &str,
    plan: &[(UserId, jiff::Timestamp, jiff::Timestamp)],
) -> Result<Vec<torg_domain::duty::Shift>, PolicyError> {
    if plan.iter().any(|(_, s, e)| s >= e) {
        return Err(PolicyError::ShiftBackwards);
    }
    let mut shifts = Vec::with_capacity(plan.len());
    for (user, start, end) in plan {
        let entry = actor.entry(
            "duty.planned",
            format!("user:{user}"),
            format!("{group} {start} – {end}"),
        );
        shifts.push(
            store
                .create_shift(tenant, group, *user, *start, *end, Some(entry))
                .await?,
        );
    }
    Ok(shifts)
}

/// The longest handover note, in bytes.
pub const MAX_HANDOVER_NOTE: usize = 4000;

/// The note the one on duty leaves for the next: only the person whose shift it is, while
/// it lasts (`now`), may write it.
pub async fn set_handover_note(
    store: &dyn Store,
    actor: &Actor,
    user_id: UserId,
    tenant: TenantId,
    shift_id: i64,
    note: &str,
    now: jiff::Timestamp,
) -> Result<(), PolicyError> {
    let mine = store
        .shifts(tenant, now, now + jiff::SignedDuration::from_secs(1))
        .await?
        .iter()
        .any(|s| s.id == shift_id && s.user_id == user_id);
    if !mine {
        return Err(PolicyError::NotYourShift);
    }
    let note = torg_domain::inquiry::optional_text("note", note, MAX_HANDOVER_NOTE)
        .map_err(|_| PolicyError::HandoverTooLong)?
        .unwrap_or_default();
    let entry = actor.entry("duty.handover", format!("shift:{shift_id}"), String::new());
    Ok(store
        .set_handover_note(tenant, shift_id, &note, Some(entry))
        .await?)
}

/// The most moderation words a municipality keeps, and the longest one, in characters.
pub const MAX_MODERATION_WORDS: usize = 500;
pub const MAX_MODERATION_WORD: usize = 100;

/// The words that hold a public comment for moderation, replacing the list: `text` as typed,
/// separated by commas or lines. Returns the list as kept (lower case, without blanks and
/// repeats, at most [`MAX_MODERATION_WORDS`] of at most [`MAX_MODERATION_WORD`] characters).
pub async fn set_moderation_keywords(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    text: &str,
) -> Result<Vec<String>, PolicyError> {
    let mut kept: Vec<String> = text
        .split([',', '\n'])
        .map(|w| w.trim().to_lowercase())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(MAX_MODERATION_WORD).collect())
        .collect();
    kept.sort();
    kept.dedup();
    kept.truncate(MAX_MODERATION_WORDS);
    let entry = actor.entry(
        "moderation.keywords",
        format!("municipality:{tenant}"),
        kept.join(", "),
    );
    store
        .set_moderation_keywords(tenant, &kept, Some(entry))
        .await?;
    Ok(kept)
}

/// How long closed inquiries that are not records are kept.
pub async fn set_retention_days(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    days: u32,
) -> Result<(), PolicyError> {
    if !RETENTION_DAYS.contains(&days) {
        return Err(PolicyError::RetentionOutOfRange);
    }
    let entry = actor.entry(
        "retention.set",
        format!("municipality:{tenant}"),
        format!("{days} days"),
    );
    Ok(store.set_retention_days(tenant, days, Some(entry)).await?)
}

/// The longest own answer to an SMS code word, in characters (four SMS segments).
pub const MAX_KEYWORD_REPLY: usize = 612;

/// Adds or changes an SMS code word (folded as incoming messages are): which unit gets the
/// messages that start with it, and its own answer (empty: the usual acknowledgement).
pub async fn set_sms_keyword(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    word: &str,
    unit_id: UnitId,
    reply: &str,
) -> Result<SmsKeyword, PolicyError> {
    let keyword = torg_domain::sms::code_word(word)?;
    if !store
        .list_units(tenant)
        .await?
        .iter()
        .any(|u| u.id == unit_id)
    {
        return Err(PolicyError::UnknownUnit);
    }
    let reply = reply.trim();
    if reply.chars().count() > MAX_KEYWORD_REPLY {
        return Err(PolicyError::KeywordReplyTooLong);
    }
    let keyword = SmsKeyword {
        keyword,
        unit_id: Some(unit_id),
        reply: reply.to_string(),
    };
    let entry = actor.entry(
        "settings.sms_keyword",
        String::new(),
        keyword.keyword.clone(),
    );
    store.set_sms_keyword(tenant, &keyword, Some(entry)).await?;
    Ok(keyword)
}

/// Removes an SMS code word; false (and nothing logged) when there was none.
pub async fn remove_sms_keyword(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    word: &str,
) -> Result<bool, PolicyError> {
    let word = torg_domain::sms::fold_keyword(word.trim());
    let entry = actor.entry("settings.sms_keyword_removed", String::new(), word.clone());
    Ok(store.delete_sms_keyword(tenant, &word, Some(entry)).await?)
}

/// The longest word or phrase of a municipality's own list, in characters.
pub const MAX_JARGON: usize = 100;

/// Adds (or changes) a word the municipality wants to avoid, with the plainer word to write;
/// the plain-language advice on replies and messages uses it beside the shipped list.
pub async fn set_jargon(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    phrase: &str,
    plainer: &str,
) -> Result<(), PolicyError> {
    let (phrase, plainer) = (phrase.trim().to_lowercase(), plainer.trim());
    let bounded = |s: &str| !s.is_empty() && s.chars().count() <= MAX_JARGON;
    if !bounded(&phrase) || !bounded(plainer) {
        return Err(PolicyError::Jargon);
    }
    let entry = actor.entry(
        "plain.jargon_set",
        String::new(),
        format!("{phrase} = {plainer}"),
    );
    store
        .set_jargon(tenant, &phrase, Some(plainer), Some(entry))
        .await?;
    Ok(())
}

/// Removes a word from the municipality's own list; false when it was not there.
pub async fn remove_jargon(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    phrase: &str,
) -> Result<bool, PolicyError> {
    let phrase = phrase.trim().to_lowercase();
    let entry = actor.entry("plain.jargon_removed", String::new(), phrase.clone());
    Ok(store.set_jargon(tenant, &phrase, None, Some(entry)).await?)
}
