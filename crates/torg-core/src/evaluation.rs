//! Evaluation (evaluering): a period's figures for a municipality, a unit or a channel, with
//! the period before for comparison and the same period a year before for channel shift; the
//! satisfaction survey after closing (sent on the inquiry's own channel, answered once); and
//! the municipality's choices (costs per contact, what it publishes, the licence).

use crate::actor::Actor;
use crate::intake::TenantConfig;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use torg_domain::evaluation::{
    self, Costs, SURVEY_STALE, Share, SurveyAnswer, hours_of_week, mean_tenths, quantile,
    within_two_working_days,
};
use torg_domain::{Channel, InquiryId, TenantId, UnitId};
use torg_i18n::Tr;
use torg_store::{
    EvaluationCounts, EvaluationFilter, EvaluationSettings, NewOutgoing, Notice, Reach, Store,
    StoreError, SurveyComment,
};

/// A period of whole local days, `first` to `last` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub first: Date,
    pub last: Date,
}

/// Why a period was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    #[error("the period ends before it begins")]
    Backwards,
    #[error("a period is at most ten years")]
    TooLong,
}

impl Period {
    pub fn new(first: Date, last: Date) -> Result<Period, PeriodError> {
        if last < first {
            return Err(PeriodError::Backwards);
        }
        if first.until(last).map(|s| s.get_days()).unwrap_or(i32::MAX) > 3660 {
            return Err(PeriodError::TooLong);
        }
        Ok(Period { first, last })
    }

    /// The year so far: the first of January to `today`.
    pub fn year_to_date(today: Date) -> Period {
        Period {
            first: today.first_of_year(),
            last: today,
        }
    }

    /// How many days the period has.
    pub fn days(&self) -> i64 {
        i64::from(self.first.until(self.last).map_or(0, |s| s.get_days())) + 1
    }

    /// The period of the same length just before.
    pub fn before(&self) -> Period {
        let n = self.days();
        Period {
            first: self.first.saturating_sub(n.days()),
            last: self.first.saturating_sub(1.days()),
        }
    }

    /// The same dates a year earlier.
    pub fn a_year_before(&self) -> Period {
        Period {
            first: self.first.saturating_sub(1.year()),
            last: self.last.saturating_sub(1.year()),
        }
    }

    /// The instants `[from, to)` of the period in `zone`.
    pub fn bounds(&self, zone: &TimeZone) -> (Timestamp, Timestamp) {
        let start = |d: Date| {
            d.to_zoned(zone.clone())
                .map(|z| z.timestamp())
                .unwrap_or(Timestamp::UNIX_EPOCH)
        };
        (start(self.first), start(self.last.saturating_add(1.day())))
    }
}

/// What is evaluated: a period, and optionally one unit or channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    pub period: Period,
    pub unit: Option<UnitId>,
    pub channel: Option<Channel>,
}

/// A period's figures, worked out from the store's counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    pub received: i64,
    pub by_channel: Vec<(Channel, i64)>,
    pub by_unit: Vec<(UnitId, i64)>,
    /// Inquiries by hour of the week, Monday 00–01 first, in the municipality's time.
    pub week: [i64; 168],
    pub first_answer_median: Option<SignedDuration>,
    pub first_answer_p90: Option<SignedDuration>,
    pub close_median: Option<SignedDuration>,
    pub close_p90: Option<SignedDuration>,
    /// Answered by the deadline, of those answered or past it.
    pub within_deadline: Share,
    pub overdue_now: i64,
    /// Emails answered within two working days (KKiK).
    pub emails_two_days: Share,
    /// Calls answered at once (closed when logged).
    pub calls_at_once: Share,
    /// Survey answers of the questions asked.
    pub responses: Share,
    pub scores: [i64; 5],
    pub mean_score_tenths: Option<i64>,
}

impl Figures {
    pub fn of(counts: &EvaluationCounts, config: &TenantConfig) -> Figures {
        let mut by_channel: Vec<(Channel, i64)> = vec![];
        let mut by_unit: Vec<(UnitId, i64)> = vec![];
        let (mut in_time, mut judged, mut calls, mut calls_at_once) = (0, 0, 0, 0);
        for c in &counts.by_channel_unit {
            add(&mut by_channel, c.channel, c.received);
            add(&mut by_unit, c.unit_id, c.received);
            in_time += c.answered_in_time;
            judged += c.answered + c.unanswered_late;
            if c.channel == Channel::Phone {
                calls += c.received;
                calls_at_once += c.closed_at_once;
            }
        }
        by_channel.sort_by_key(|c| std::cmp::Reverse(c.1));
        by_unit.sort_by_key(|u| std::cmp::Reverse(u.1));
        let zone = config.calendar.zone();
        let answered: i64 = counts.scores.iter().sum();
        Figures {
            received: by_channel.iter().map(|c| c.1).sum(),
            by_channel,
            by_unit,
            week: hours_of_week(&counts.by_hour, zone),
            first_answer_median: quantile(&counts.first_answer, 0.5),
            first_answer_p90: quantile(&counts.first_answer, 0.9),
            close_median: quantile(&counts.to_close, 0.5),
            close_p90: quantile(&counts.to_close, 0.9),
            within_deadline: Share::new(in_time, judged),
            overdue_now: counts.overdue_now,
            emails_two_days: within_two_working_days(
                counts.emails,
                counts.emails_fast,
                &counts.emails_slow,
                &config.calendar,
            ),
            calls_at_once: Share::new(calls_at_once, calls),
            responses: Share::new(answered, counts.surveys_sent),
            scores: counts.scores,
            mean_score_tenths: mean_tenths(&counts.scores),
        }
    }
}

fn add<K: PartialEq>(v: &mut Vec<(K, i64)>, k: K, n: i64) {
    match v.iter_mut().find(|x| x.0 == k) {
        Some(x) => x.1 += n,
        None => v.push((k, n)),
    }
}

/// Channel shift (kanalvridning): what the contacts of a period cost, by channel, against the
/// same period a year before.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelShift {
    /// (channel, contacts now, contacts a year before, kroner per contact).
    pub rows: Vec<(Channel, i64, i64, i64)>,
    pub cost_now: i64,
    pub cost_year_before: i64,
    /// The share of contacts on digital channels (not the phone), now and a year before.
    pub digital_now: Share,
    pub digital_year_before: Share,
}

impl ChannelShift {
    pub fn of(now: &[(Channel, i64)], year_before: &[(Channel, i64)], costs: &Costs) -> Self {
        let count =
            |v: &[(Channel, i64)], c: Channel| v.iter().find(|x| x.0 == c).map_or(0, |x| x.1);
        let rows: Vec<(Channel, i64, i64, i64)> = Channel::ALL
            .iter()
            .map(|&c| (c, count(now, c), count(year_before, c), costs.of(c)))
            .filter(|r| r.1 > 0 || r.2 > 0)
            .collect();
        let digital = |v: &[(Channel, i64)]| {
            let all: i64 = v.iter().map(|x| x.1).sum();
            Share::new(all - count(v, Channel::Phone), all)
        };
        ChannelShift {
            cost_now: costs.total(now),
            cost_year_before: costs.total(year_before),
            digital_now: digital(now),
            digital_year_before: digital(year_before),
            rows,
        }
    }
}

/// Everything the evaluation page shows.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub scope: Scope,
    pub now: Figures,
    pub before: Figures,
    pub shift: ChannelShift,
    pub comments: Vec<SurveyComment>,
    pub reach: Vec<Reach>,
    pub settings: EvaluationSettings,
}

fn filter(scope: &Scope, period: Period, zone: &TimeZone) -> EvaluationFilter {
    let (from, to) = period.bounds(zone);
    EvaluationFilter {
        from,
        to,
        unit: scope.unit,
        channel: scope.channel,
    }
}

/// Works out the evaluation of `scope` (the reading: no audit entry).
pub async fn evaluate(
    store: &dyn Store,
    config: &TenantConfig,
    scope: Scope,
    now: Timestamp,
) -> Result<Evaluation, StoreError> {
    let tenant = config.municipality.id;
    let zone = config.calendar.zone();
    let this = filter(&scope, scope.period, zone);
    let before = filter(&scope, scope.period.before(), zone);
    let last_year = filter(&scope, scope.period.a_year_before(), zone);
    let (counts, counts_before, volumes_last_year, comments, reach, settings) = tokio::try_join!(
        store.evaluation_counts(tenant, &this, now),
        store.evaluation_counts(tenant, &before, now),
        store.volumes(tenant, &last_year),
        store.survey_comments(tenant, &this, 20),
        store.reach(tenant, this.from, this.to, 50),
        store.evaluation_settings(tenant),
    )?;
    let now_figures = Figures::of(&counts, config);
    let shift = ChannelShift::of(&now_figures.by_channel, &volumes_last_year, &settings.costs);
    Ok(Evaluation {
        scope,
        now: now_figures,
        before: Figures::of(&counts_before, config),
        shift,
        comments,
        reach,
        settings,
    })
}

/// Why the evaluation settings were refused.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("unknown licence")]
    Licence,
    #[error(transparent)]
    Cost(#[from] evaluation::BadCost),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Sets what the municipality chose (costs, what it publishes, the licence, whether it asks
/// the survey), with its audit entry.
pub async fn set_settings(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    settings: &EvaluationSettings,
) -> Result<(), SettingsError> {
    if evaluation::licence_url(&settings.licence).is_none() {
        return Err(SettingsError::Licence);
    }
    let entry = actor.entry(
        "evaluation.settings",
        format!("municipality:{tenant}"),
        format!(
            "published:{} licence:{} surveys:{} costs:{}",
            evaluation::Table::list_to_stored(&settings.published),
            settings.licence,
            settings.surveys,
            settings.costs.to_stored()
        ),
    );
    store
        .set_evaluation_settings(tenant, settings, Some(entry))
        .await?;
    Ok(())
}

/// What the survey's messages need: the texts and the address links start with.
#[derive(Clone)]
pub struct Surveys {
    pub catalog: std::sync::Arc<torg_i18n::Catalog>,
    pub base_url: String,
}

/// Sends the satisfaction questions due at `now` (by email or SMS, in the inquiry's
/// language, with a link of its own); returns how many were queued. A question whose
/// inquiry was reopened, or that is more than a week late, is dropped.
pub async fn send_due_surveys(
    store: &dyn Store,
    surveys: &Surveys,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let base = surveys.base_url.trim_end_matches('/');
    let mut sent = 0;
    for due in store.due_surveys(now, 200).await? {
        let tenant = due.tenant_id;
        if due.due_at.checked_add(SURVEY_STALE).is_ok_and(|t| t < now) {
            store.drop_survey(tenant, due.id).await?;
            continue;
        }
        let (Some(m), Some(inquiry)) = (
            store.municipality(tenant).await?,
            store.inquiry(tenant, due.inquiry_id).await?,
        ) else {
            store.drop_survey(tenant, due.id).await?;
            continue;
        };
        let token = crate::secrets::new_token();
        let link = format!("{base}/k/{}/survey/{token}", m.slug);
        let Some(notice) = question(store, surveys, &m, &inquiry, due.id, &link).await? else {
            store.drop_survey(tenant, due.id).await?;
            continue;
        };
        let hash = crate::secrets::token_hash(&token);
        if store
            .send_survey(tenant, due.id, &hash, Some(&notice), now)
            .await?
        {
            sent += 1;
        }
    }
    Ok(sent)
}

/// The question about `inquiry` on its own channel, with `link`; `None` when it cannot be
/// asked there (no address, no mailbox, a number that said STOPP).
async fn question(
    store: &dyn Store,
    surveys: &Surveys,
    m: &torg_store::Municipality,
    inquiry: &torg_store::Inquiry,
    survey: i64,
    link: &str,
) -> Result<Option<Notice>, StoreError> {
    let t = Tr::new(surveys.catalog.clone(), &inquiry.language);
    let reference = inquiry.reference.to_string();
    let out = |channel, recipient: String, subject: String, header_id: String| NewOutgoing {
        channel,
        recipient,
        subject,
        header_id,
        in_reply_to: None,
        references: vec![],
        media: None,
    };
    Ok(match inquiry.channel {
        Channel::Email => {
            let (Some(to), Some(account)) = (
                inquiry.contact_email.clone(),
                store.mail_account(m.id).await?,
            ) else {
                return Ok(None);
            };
            Some(Notice {
                out: out(
                    Channel::Email,
                    to,
                    t.get1("survey-mail-subject", "reference", &reference),
                    torg_domain::email::new_message_id(
                        &account.address,
                        &format!("survey-{survey}"),
                    ),
                ),
                body: t.args(
                    "survey-mail-body",
                    &[
                        ("reference", &reference),
                        ("link", link),
                        ("municipality", &m.name),
                    ],
                ),
            })
        }
        Channel::Sms => {
            let Some(to) = inquiry.contact_phone.clone() else {
                return Ok(None);
            };
            if store.sms_stopped(m.id, &to).await? {
                return Ok(None);
            }
            Some(Notice {
                out: out(Channel::Sms, to, String::new(), format!("survey-{survey}")),
                body: t.args(
                    "survey-sms-body",
                    &[("reference", &reference), ("link", link)],
                ),
            })
        }
        _ => None,
    })
}

/// Sends due questions every minute until `shutdown` turns true.
pub async fn run(
    store: std::sync::Arc<dyn Store>,
    surveys: Surveys,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        match send_due_surveys(&*store, &surveys, Timestamp::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(surveys = n, "satisfaction questions queued"),
            Err(e) => tracing::warn!(error = %e, "satisfaction questions failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Why a survey answer was not kept.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// No such question (a wrong link).
    #[error("not found")]
    NotFound,
    #[error("answered already")]
    Answered,
    #[error(transparent)]
    Bad(#[from] evaluation::BadAnswer),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The question a survey link opens: (municipality, survey id, answered already).
pub async fn survey_by_link(
    store: &dyn Store,
    token: &str,
) -> Result<torg_store::Survey, AnswerError> {
    if !crate::secrets::is_token_shaped(token) {
        return Err(AnswerError::NotFound);
    }
    store
        .survey_by_token(&crate::secrets::token_hash(token))
        .await?
        .ok_or(AnswerError::NotFound)
}

/// Keeps a citizen's answer to `survey` (from the link or the follow page), once.
pub async fn answer(
    store: &dyn Store,
    survey: &torg_store::Survey,
    score: &str,
    comment: &str,
    now: Timestamp,
) -> Result<(), AnswerError> {
    let answer = SurveyAnswer::parse(score, comment)?;
    if survey.score.is_some()
        || !store
            .answer_survey(survey.tenant_id, survey.id, &answer, now)
            .await?
    {
        return Err(AnswerError::Answered);
    }
    Ok(())
}

/// Keeps what a network counted of one account's published posts (`ours`, all of one
/// municipality): each post found among `counted` gets its reactions, comments and shares as
/// the last reading. Returns how many were found.
pub async fn record_reach(
    store: &dyn Store,
    ours: &[&torg_store::PublishedPost],
    counted: &[torg_domain::evaluation::Counted],
    now: Timestamp,
) -> Result<usize, StoreError> {
    let Some(first) = ours.first() else {
        return Ok(0);
    };
    let readings: Vec<torg_store::PostReading> = ours
        .iter()
        .filter_map(|p| {
            counted
                .iter()
                .find(|c| c.is(&p.address))
                .map(|c| torg_store::PostReading {
                    outbox_id: p.outbox_id,
                    reactions: c.reactions,
                    comments: c.comments,
                    shares: c.shares,
                })
        })
        .collect();
    store
        .record_post_reach(first.tenant_id, &readings, now)
        .await?;
    Ok(readings.len())
}

/// The question shown on an inquiry's follow page, when it was asked there.
pub async fn survey_on_follow_page(
    store: &dyn Store,
    tenant: TenantId,
    inquiry: InquiryId,
) -> Result<Option<torg_store::Survey>, StoreError> {
    store.survey_for_inquiry(tenant, inquiry).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn periods() {
        let p = Period::new(date(2026, 3, 1), date(2026, 3, 31)).expect("test value");
        assert_eq!(
            p.before(),
            Period {
                first: date(2026, 1, 29),
                last: date(2026, 2, 28)
            }
        );
        assert_eq!(p.a_year_before().first, date(2025, 3, 1));
        assert_eq!(
            Period::new(date(2026, 3, 2), date(2026, 3, 1)),
            Err(PeriodError::Backwards)
        );
        let zone = TimeZone::get("Europe/Oslo").expect("test value");
        let (from, to) = p.bounds(&zone);
        assert_eq!(from.to_string(), "2026-02-28T23:00:00Z");
        // The last of March is in summer time.
        assert_eq!(to.to_string(), "2026-03-31T22:00:00Z");
        assert_eq!(
            Period::year_to_date(date(2026, 12, 5)).first,
            date(2026, 1, 1)
        );
    }

    #[test]
    fn channel_shift_counts_cost_and_digital_share() {
        let costs = Costs::default();
        let now = [(Channel::Phone, 10), (Channel::Web, 90)];
        let before = [(Channel::Phone, 50), (Channel::Web, 50)];
        let s = ChannelShift::of(&now, &before, &costs);
        assert_eq!(s.cost_now, 10 * 40 + 90 * 3);
        assert_eq!(s.cost_year_before, 50 * 40 + 50 * 3);
        assert_eq!(s.digital_now.percent(), Some(90));
        assert_eq!(s.digital_year_before.percent(), Some(50));
        assert_eq!(s.rows.len(), 2);
    }
}
