//! The administration pages for how inquiries are handled — what before needed the CLI:
//! routing rules (`/staff/admin/routing`: in order, moved up and down, tried on a sample text
//! before saving), canned replies (`/staff/admin/canned`: with the plain-language advice on
//! each, beside the acknowledgement text of each language and the municipality's own words to
//! avoid), and deadlines (`/staff/admin/deadlines`: deadline policies, opening hours of the
//! municipality and of a unit or channel, closed days, planned peaks, and the duty rota). Every change is one
//! function of [`torg_core::policies`], with the CLI's rules and an audit entry each; these
//! handlers only parse the form and render.

use crate::AppState;
use crate::admin::{AdminForm, Fields, admin};
use crate::auth::Staff;
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::staff::{chrome, failed};
use crate::views::{self, Chrome, Lang, PlainAdvice, render};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use torg_core::actor::Actor;
use torg_core::policies::{self, Move, PolicyError, Trial};
use torg_domain::calendar::{HoursScope, format_weekly, parse_weekly};
use torg_domain::deadline::{DeadlinePolicy, PlannedPeak, PolicyRule};
use torg_domain::routing::{RoutingInput, RoutingRule};
use torg_domain::{Channel, UnitId, UserId};
use torg_store::{ClosedDay, PolicyItem};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/staff/admin/routing", |s, l, st, q| {
            page(s, l, st, q, Page::Routing)
        })
        .post("/staff/admin/routing", routing_post)
        .post("/staff/admin/routing/{id}/up", |s, i, form| {
            rule_move(s, i, form, Move::Up)
        })
        .post("/staff/admin/routing/{id}/down", |s, i, form| {
            rule_move(s, i, form, Move::Down)
        })
        .post("/staff/admin/routing/{id}/remove", |s, Path(id), form| {
            remove_one(s, form, PolicyItem::RoutingRule(id))
        })
        .get("/staff/admin/canned", |s, l, st, q| {
            page(s, l, st, q, Page::Canned)
        })
        .post("/staff/admin/canned", canned_create)
        .post("/staff/admin/canned/acknowledgement", acknowledgement_set)
        .post("/staff/admin/canned/jargon", jargon_set)
        .post("/staff/admin/canned/jargon/remove", jargon_remove)
        .post("/staff/admin/canned/{id}", canned_edit)
        .post("/staff/admin/canned/{id}/remove", |s, Path(id), form| {
            remove_one(s, form, PolicyItem::CannedReply(id))
        })
        .get("/staff/admin/deadlines", |s, l, st, q| {
            page(s, l, st, q, Page::Deadlines)
        })
        .post("/staff/admin/deadlines/policies", policy_create)
        .post(
            "/staff/admin/deadlines/policies/{id}/remove",
            |s, Path(id), form| remove_one(s, form, PolicyItem::DeadlinePolicy(id)),
        )
        .post("/staff/admin/deadlines/hours", hours_set)
        .post("/staff/admin/deadlines/hours/remove", hours_remove)
        .post("/staff/admin/deadlines/days", day_close)
        .post("/staff/admin/deadlines/days/{date}/remove", day_remove)
        .post("/staff/admin/deadlines/peaks", peak_create)
        .post(
            "/staff/admin/deadlines/peaks/{id}/remove",
            |s, Path(id), form| remove_one(s, form, PolicyItem::Peak(id)),
        )
        .post("/staff/admin/deadlines/duty", duty_plan)
}

/// `?done=…` and, after a change of deadlines, how many open inquiries' deadlines moved.
#[derive(Deserialize, Default)]
struct Done {
    #[serde(default)]
    done: String,
    changed: Option<u64>,
}

impl Done {
    fn notice(&self, t: &Tr) -> Option<String> {
        let done = t.done(&self.done)?;
        Some(match self.changed {
            Some(n) => format!(
                "{done} {}",
                t.get1("casework-recomputed", "count", &n.to_string())
            ),
            None => done,
        })
    }
}

/// What a page shows above its content: a success or an error.
#[derive(Default)]
struct Banner {
    notice: Option<String>,
    error: Option<String>,
}

impl Banner {
    fn error(msg: String) -> Banner {
        Banner {
            notice: None,
            error: Some(msg),
        }
    }
}

/// The three pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Routing,
    Canned,
    Deadlines,
}

async fn page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Query(q): Query<Done>,
    which: Page,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Some(r) = admin(&staff, &t, None) {
        return r;
    }
    let banner = Banner {
        notice: q.notice(&t),
        error: None,
    };
    show(&state, t, &staff, which, banner, StatusCode::OK).await
}

/// A page as it is, with a banner.
async fn show(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    which: Page,
    banner: Banner,
    status: StatusCode,
) -> Response {
    match which {
        Page::Routing => {
            show_routing(state, t, staff, Draft::default(), vec![], banner, status).await
        }
        Page::Canned => show_canned(state, t, staff, CannedDraft::default(), banner, status).await,
        Page::Deadlines => show_deadlines(state, t, staff, banner, status).await,
    }
}

/// The catalogue key of a refusal.
fn refusal_key(e: &PolicyError) -> &'static str {
    match e {
        PolicyError::RuleWithoutCondition => "routing-error-empty",
        PolicyError::EmptyCannedReply => "canned-error-empty",
        PolicyError::PeakBackwards => "peak-error-backwards",
        PolicyError::UnknownUnit => "casework-error-unit",
        _ => "casework-error-not-found",
    }
}

fn unit_options(staff: &Staff) -> Vec<(i64, String)> {
    staff
        .config
        .units
        .iter()
        .map(|u| (u.id.get(), u.name.clone()))
        .collect()
}

fn unit_name(staff: &Staff, id: UnitId) -> String {
    staff
        .config
        .unit(id)
        .map(|u| u.name.clone())
        .unwrap_or_else(|| format!("#{id}"))
}

fn channel_options(t: &Tr) -> Vec<(String, String)> {
    Channel::ALL
        .iter()
        .filter(|c| **c != Channel::Listening)
        .map(|c| (c.as_str().to_string(), views::channel_label(t, *c)))
        .collect()
}

fn optional(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

/// A channel chosen in a form: empty is "any"; `Err` is a value no form offers.
fn channel_field(s: &str) -> Result<Option<Channel>, ()> {
    optional(s).map(|c| c.parse().map_err(|_| ())).transpose()
}

/// A unit chosen in a form, one of the municipality's.
fn unit_field(staff: &Staff, s: &str) -> Result<Option<UnitId>, ()> {
    match optional(s) {
        None => Ok(None),
        Some(s) => {
            let id = UnitId(s.parse().map_err(|_| ())?);
            staff.config.unit(id).map(|_| Some(id)).ok_or(())
        }
    }
}

// ---------------------------------------------------------------- routing rules

struct RuleRow {
    id: i64,
    place: usize,
    keyword: String,
    topic: String,
    channel: String,
    unit: String,
    first: bool,
    last: bool,
}

/// The rule being written and the sample it is tried on, as typed.
#[derive(Default)]
struct Draft {
    unit: String,
    keyword: String,
    topic: String,
    channel: String,
    position: String,
    sample: String,
    sample_channel: String,
    sample_topic: String,
}

impl Draft {
    fn of(f: &Fields) -> Draft {
        Draft {
            unit: f.get("unit").to_string(),
            keyword: f.get("keyword").trim().to_string(),
            topic: f.get("topic").trim().to_string(),
            channel: f.get("channel").to_string(),
            position: f.get("position").trim().to_string(),
            sample: f.get("sample").to_string(),
            sample_channel: f.get("sample_channel").to_string(),
            sample_topic: f.get("sample_topic").trim().to_string(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_routing.html")]
struct RoutingPage {
    t: Tr,
    c: Chrome,
    rules: Vec<RuleRow>,
    units: Vec<(i64, String)>,
    channels: Vec<(String, String)>,
    draft: Draft,
    /// Where the sample goes today, and with the draft rule.
    trial: Vec<String>,
    notice: Option<String>,
    error: Option<String>,
}

async fn show_routing(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    draft: Draft,
    trial: Vec<String>,
    banner: Banner,
    status: StatusCode,
) -> Response {
    let rules = match state
        .store
        .list_routing_rules(staff.config.municipality.id)
        .await
    {
        Ok(r) => r,
        Err(e) => return failed(t, e),
    };
    let any = t.get("casework-any");
    let count = rules.len();
    let rows = rules
        .into_iter()
        .enumerate()
        .map(|(i, (id, r))| RuleRow {
            id,
            place: i + 1,
            keyword: r.keyword.unwrap_or_else(|| any.clone()),
            topic: r.topic.unwrap_or_else(|| any.clone()),
            channel: r
                .channel
                .map(|c| views::channel_label(&t, c))
                .unwrap_or_else(|| any.clone()),
            unit: unit_name(staff, r.unit_id),
            first: i == 0,
            last: i + 1 == count,
        })
        .collect();
    render(
        status,
        &RoutingPage {
            c: chrome(staff, "/staff/admin/routing"),
            rules: rows,
            units: unit_options(staff),
            channels: channel_options(&t),
            draft,
            trial,
            notice: banner.notice,
            error: banner.error,
            t,
        },
    )
}

/// Says in words where a trial sends the sample: `rules` are the ones tried, in order.
fn trial_words(
    t: &Tr,
    staff: &Staff,
    key: &str,
    rules: &[(i64, RoutingRule)],
    trial: Trial,
) -> String {
    let mut order: Vec<&(i64, RoutingRule)> = rules.iter().collect();
    order.sort_by_key(|(_, r)| r.position);
    let why = match trial.rule {
        Some(0) => t.get("routing-why-new"),
        Some(id) => {
            let place = order.iter().position(|(r, _)| *r == id).unwrap_or(0) + 1;
            t.get1("routing-why-rule", "place", &place.to_string())
        }
        None => t.get("routing-why-fallback"),
    };
    t.args(
        key,
        &[("unit", &unit_name(staff, trial.unit)), ("why", &why)],
    )
}

/// Tries (`action=try`) or saves the rule in the form.
async fn routing_post(
    State(state): State<AppState>,
    AdminForm { t, staff, f, who }: AdminForm,
) -> Response {
    let draft = Draft::of(&f);
    let tenant = staff.config.municipality.id;
    let saved = match state.store.list_routing_rules(tenant).await {
        Ok(r) => r,
        Err(e) => return failed(t, e),
    };
    // The page again with the draft and what is wrong with it.
    let refuse = |key: &str, draft: Draft| {
        let b = Banner::error(t.get(key));
        show_routing(
            &state,
            t.clone(),
            &staff,
            draft,
            vec![],
            b,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let Ok(channel) = channel_field(&draft.channel) else {
        return refuse("casework-error-channel", draft).await;
    };
    let unit = unit_field(&staff, &draft.unit);
    let position = match optional(&draft.position) {
        None => Ok(saved.last().map(|(_, r)| r.position + 10).unwrap_or(10)),
        Some(p) => p.parse::<i64>().map_err(|_| ()),
    };
    let Ok(position) = position else {
        return refuse("routing-error-position", draft).await;
    };
    let rule = |unit_id| RoutingRule {
        position,
        keyword: optional(&draft.keyword),
        topic: optional(&draft.topic),
        channel,
        unit_id,
    };
    if f.get("action") == "try" {
        let Some(fallback) = staff.config.fallback_unit().map(|u| u.id) else {
            return refuse("casework-error-unit", draft).await;
        };
        let sample_channel = channel_field(&draft.sample_channel)
            .ok()
            .flatten()
            .unwrap_or(Channel::Web);
        let sample_topic = optional(&draft.sample_topic);
        let input = RoutingInput {
            channel: sample_channel,
            topic: sample_topic.as_deref(),
            text: &draft.sample,
        };
        let mut trial = vec![trial_words(
            &t,
            &staff,
            "routing-trial-today",
            &saved,
            policies::try_rules(&saved, &input, fallback),
        )];
        if let Ok(Some(unit)) = unit {
            let mut with = saved.clone();
            with.push((0, rule(unit)));
            trial.push(trial_words(
                &t,
                &staff,
                "routing-trial-draft",
                &with,
                policies::try_rules(&with, &input, fallback),
            ));
        }
        return show_routing(
            &state,
            t,
            &staff,
            draft,
            trial,
            Banner::default(),
            StatusCode::OK,
        )
        .await;
    }
    let Ok(Some(unit)) = unit else {
        return refuse("casework-error-unit", draft).await;
    };
    match policies::add_routing_rule(&*state.store, &who, tenant, rule(unit)).await {
        Ok(_) => {
            state.forget_cached_settings();
            Redirect::to("/staff/admin/routing?done=rule-added").into_response()
        }
        Err(PolicyError::Store(e)) => failed(t, e),
        Err(e) => refuse(refusal_key(&e), draft).await,
    }
}

async fn rule_move(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    AdminForm { t, staff, who, .. }: AdminForm,
    step: Move,
) -> Response {
    let tenant = staff.config.municipality.id;
    match policies::move_routing_rule(&*state.store, &who, tenant, id, step).await {
        Ok(()) => {
            state.forget_cached_settings();
            Redirect::to("/staff/admin/routing?done=rule-moved").into_response()
        }
        Err(PolicyError::Store(e)) => failed(t, e),
        Err(e) => {
            let b = Banner::error(t.get(refusal_key(&e)));
            show_routing(
                &state,
                t,
                &staff,
                Draft::default(),
                vec![],
                b,
                StatusCode::NOT_FOUND,
            )
            .await
        }
    }
}

/// The remove buttons of rules, replies, policies and peaks (by their ids).
async fn remove_one(
    State(state): State<AppState>,
    AdminForm { t, staff, who, .. }: AdminForm,
    item: PolicyItem,
) -> Response {
    remove_item(&state, t, &staff, &who, item).await
}

/// Removes one setting and goes back to its page (or shows the page with why not).
async fn remove_item(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    who: &Actor,
    item: PolicyItem,
) -> Response {
    let (which, path, done) = match item {
        PolicyItem::RoutingRule(_) => (Page::Routing, "routing", "rule-removed"),
        PolicyItem::CannedReply(_) => (Page::Canned, "canned", "canned-removed"),
        _ => (Page::Deadlines, "deadlines", "casework-removed"),
    };
    let m = staff.config.municipality.clone();
    let removed = policies::remove(&*state.store, who, m, item).await;
    if removed.is_ok() {
        state.forget_cached_settings();
    }
    match removed {
        Ok(changed) if which == Page::Deadlines => Redirect::to(&format!(
            "/staff/admin/deadlines?done={done}&changed={changed}"
        ))
        .into_response(),
        Ok(_) => Redirect::to(&format!("/staff/admin/{path}?done={done}")).into_response(),
        Err(PolicyError::Store(e)) => failed(t, e),
        Err(e) => {
            let b = Banner::error(t.get(refusal_key(&e)));
            show(state, t, staff, which, b, StatusCode::NOT_FOUND).await
        }
    }
}

// ---------------------------------------------------------------- canned replies

struct CannedRow {
    id: i64,
    title: String,
    body: String,
    advice: PlainAdvice,
}

#[derive(Default)]
struct CannedDraft {
    title: String,
    body: String,
}

#[derive(Template)]
#[template(path = "admin_canned.html")]
struct CannedPage {
    t: Tr,
    c: Chrome,
    replies: Vec<CannedRow>,
    draft: CannedDraft,
    acknowledgements: Vec<AckRow>,
    /// The municipality's own words to avoid: (word, plainer).
    jargon: Vec<(String, String)>,
    notice: Option<String>,
    error: Option<String>,
}

/// The acknowledgement text of one language, as the form shows it.
struct AckRow {
    language: String,
    /// The language's own name.
    name: String,
    body: String,
    /// The municipality's own text (else Torg's default is shown).
    own: bool,
    advice: Option<PlainAdvice>,
}

async fn show_canned(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    draft: CannedDraft,
    banner: Banner,
    status: StatusCode,
) -> Response {
    let m = &staff.config.municipality;
    let (replies, jargon, own) = match tokio::try_join!(
        state.store.list_canned_replies(m.id),
        state.store.jargon(m.id),
        state.store.acknowledgement_templates(m.id)
    ) {
        Ok(r) => r,
        Err(e) => return failed(t, e),
    };
    let replies = replies
        .into_iter()
        .map(|r| CannedRow {
            advice: views::plain_advice(&t, &m.language, &r.body, jargon.clone()),
            id: r.id,
            title: r.title,
            body: r.body,
        })
        .collect();
    let acknowledgements = state
        .catalog
        .languages()
        .into_iter()
        .map(|language| {
            let mine = own
                .iter()
                .find(|(l, _)| *l == language)
                .map(|(_, b)| b.clone());
            let body = mine
                .clone()
                .unwrap_or_else(|| torg_domain::reply::default_acknowledgement(&language).into());
            // The checker knows bokmål, nynorsk and Swedish.
            let advice = torg_domain::plain::Settings::for_municipality(&language)
                .map(|_| views::plain_advice(&t, &language, &body, jargon.clone()));
            AckRow {
                name: state.catalog.text(&language, "language-name", &[]),
                own: mine.is_some(),
                language,
                body,
                advice,
            }
        })
        .collect();
    render(
        status,
        &CannedPage {
            c: chrome(staff, "/staff/admin/canned"),
            replies,
            draft,
            acknowledgements,
            jargon,
            notice: banner.notice,
            error: banner.error,
            t,
        },
    )
}

async fn acknowledgement_set(
    State(state): State<AppState>,
    AdminForm { t, staff, f, who }: AdminForm,
) -> Response {
    let language = f.get("language");
    if !state.catalog.languages().iter().any(|l| l == language) {
        let msg = t.get("ack-error-language");
        return refused_on(&state, t, &staff, Page::Canned, msg).await;
    }
    let tenant = staff.config.municipality.id;
    let body = f.get("body").trim();
    match policies::set_acknowledgement(&*state.store, &who, tenant, language, body).await {
        Ok(()) => {
            state.forget_cached_settings();
            Redirect::to("/staff/admin/canned?done=ack-set").into_response()
        }
        Err(PolicyError::Store(e)) => failed(t, e),
        Err(_) => {
            let msg = t.get("ack-error-link");
            refused_on(&state, t, &staff, Page::Canned, msg).await
        }
    }
}

async fn jargon_set(
    State(state): State<AppState>,
    AdminForm { t, staff, f, who }: AdminForm,
) -> Response {
    let tenant = staff.config.municipality.id;
    match policies::set_jargon(
        &*state.store,
        &who,
        tenant,
        f.get("phrase"),
        f.get("plainer"),
    )
    .await
    {
        Ok(()) => Redirect::to("/staff/admin/canned?done=jargon-set").into_response(),
        Err(PolicyError::Store(e)) => failed(t, e),
        Err(_) => {
            let msg = t.get1("jargon-error", "max", &policies::MAX_JARGON.to_string());
            refused_on(&state, t, &staff, Page::Canned, msg).await
        }
    }
}

async fn jargon_remove(
    State(state): State<AppState>,
    AdminForm { t, staff, f, who }: AdminForm,
) -> Response {
    let tenant = staff.config.municipality.id;
    match policies::remove_jargon(&*state.store, &who, tenant, f.get("phrase")).await {
        Ok(true) => Redirect::to("/staff/admin/canned?done=jargon-removed").into_response(),
        Ok(false) => {
            let b = Banner::error(t.get("casework-error-not-found"));
            show(&state, t, &staff, Page::Canned, b, StatusCode::NOT_FOUND).await
        }
        Err(e) => failed(t, e),
    }
}

async fn canned_create(State(state): State<AppState>, form: AdminForm) -> Response {
    canned_save(state, form, None).await
}

async fn canned_edit(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    form: AdminForm,
) -> Response {
    canned_save(state, form, Some(id)).await
}

async fn canned_save(state: AppState, form: AdminForm, id: Option<i64>) -> Response {
    let AdminForm { t, staff, f, who } = form;
    let (title, body) = (f.get("title"), f.get("body"));
    let tenant = staff.config.municipality.id;
    let saved = match id {
        None => policies::add_canned_reply(&*state.store, &who, tenant, title, body)
            .await
            .map(|_| "canned-added"),
        Some(id) => policies::edit_canned_reply(&*state.store, &who, tenant, id, title, body)
            .await
            .map(|_| "canned-changed"),
    };
    let draft = CannedDraft {
        title: title.to_string(),
        body: body.to_string(),
    };
    match saved {
        Ok(done) => Redirect::to(&format!("/staff/admin/canned?done={done}")).into_response(),
        Err(PolicyError::Store(torg_store::StoreError::Conflict(_))) => {
            let b = Banner::error(t.get("canned-error-title-taken"));
            show_canned(&state, t, &staff, draft, b, StatusCode::CONFLICT).await
        }
        Err(PolicyError::Store(e)) => failed(t, e),
        Err(e) => {
            let status = match e {
                PolicyError::NotFound => StatusCode::NOT_FOUND,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let b = Banner::error(t.get(refusal_key(&e)));
            show_canned(&state, t, &staff, draft, b, status).await
        }
    }
}

// ---------------------------------------------------------------- deadlines and calendar

struct PolicyRow {
    id: i64,
    policy: String,
    channel: String,
    unit: String,
    topic: String,
}

struct HoursRow {
    /// `unit:3`, `channel:chat`
    scope: String,
    label: String,
    hours: String,
}

struct DayRow {
    date: String,
    shown: String,
    when: String,
    note: String,
}

struct PeakRow {
    id: i64,
    name: String,
    from: String,
    to: String,
    policy: String,
    staffing: String,
}

#[derive(Template)]
#[template(path = "admin_deadlines.html")]
struct DeadlinesPage {
    t: Tr,
    c: Chrome,
    policies: Vec<PolicyRow>,
    /// The municipality's hours as written in the form ("mon-fri 08:00-15:30").
    weekly: String,
    /// The municipality's hours in words.
    weekly_words: Vec<String>,
    scoped: Vec<HoursRow>,
    /// (scope, label) a unit or channel may get its own hours for.
    scopes: Vec<(String, String)>,
    days: Vec<DayRow>,
    peaks: Vec<PeakRow>,
    /// The coming shifts: (group, who, from, to).
    shifts: Vec<(String, String, String, String)>,
    /// (group, label) a rota can cover.
    groups: Vec<(String, String)>,
    /// (id, name) of the active staff.
    people: Vec<(i64, String)>,
    units: Vec<(i64, String)>,
    channels: Vec<(String, String)>,
    notice: Option<String>,
    error: Option<String>,
}

/// A deadline policy in words: "24 hours", "8 working hours"…
fn policy_words(t: &Tr, p: DeadlinePolicy) -> String {
    match p {
        DeadlinePolicy::WithinHours { hours } => t.get1("policy-hours", "n", &hours.to_string()),
        DeadlinePolicy::WithinWorkingHours { hours } => {
            t.get1("policy-working-hours", "n", &hours.to_string())
        }
        DeadlinePolicy::SameWorkingDay {
            cutoff,
            next_day_by,
        } => t.args(
            "policy-same-day",
            &[
                ("cutoff", &cutoff.strftime("%H:%M").to_string()),
                ("by", &next_day_by.strftime("%H:%M").to_string()),
            ],
        ),
        DeadlinePolicy::WithinWorkingDays { days } => {
            t.get1("policy-working-days", "n", &days.to_string())
        }
    }
}

fn scope_label(t: &Tr, staff: &Staff, scope: HoursScope) -> String {
    match scope {
        HoursScope::Unit(u) => unit_name(staff, u),
        HoursScope::Channel(c) => views::channel_label(t, c),
    }
}

async fn show_deadlines(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    banner: Banner,
    status: StatusCode,
) -> Response {
    let m = &staff.config.municipality;
    let s = &*state.store;
    let now = jiff::Timestamp::now();
    let read = tokio::try_join!(
        s.list_deadline_policies(m.id),
        s.scoped_opening_hours(m.id),
        s.list_closed_days(m.id),
        s.peaks(m.id, now),
        s.shifts(m.id, now, now + jiff::SignedDuration::from_hours(24 * 92)),
        s.list_users(m.id),
    );
    let (policies, scoped, days, peaks, shifts, users) = match read {
        Ok(r) => r,
        Err(e) => return failed(t, e),
    };
    let any = t.get("casework-any");
    let weekly = staff.config.calendar.weekly();
    let when = |ts| views::when(ts, &m.time_zone);
    let scopes = staff
        .config
        .units
        .iter()
        .map(|u| (HoursScope::Unit(u.id).to_string(), u.name.clone()))
        .chain(
            channel_options(&t)
                .into_iter()
                .map(|(c, label)| (format!("channel:{c}"), label)),
        )
        .collect();
    render(
        status,
        &DeadlinesPage {
            c: chrome(staff, "/staff/admin/deadlines"),
            policies: policies
                .into_iter()
                .map(|(id, p): (i64, PolicyRule)| PolicyRow {
                    id,
                    policy: policy_words(&t, p.policy),
                    channel: p
                        .channel
                        .map(|c| views::channel_label(&t, c))
                        .unwrap_or_else(|| any.clone()),
                    unit: p
                        .unit_id
                        .map(|u| unit_name(staff, u))
                        .unwrap_or_else(|| any.clone()),
                    topic: p.topic.unwrap_or_else(|| any.clone()),
                })
                .collect(),
            weekly: format_weekly(weekly),
            weekly_words: views::opening_hours(&t, weekly),
            scoped: scoped
                .into_iter()
                .map(|(scope, w)| HoursRow {
                    scope: scope.to_string(),
                    label: scope_label(&t, staff, scope),
                    hours: views::opening_hours(&t, &w).join(", "),
                })
                .collect(),
            scopes,
            days: days
                .into_iter()
                .map(|d| DayRow {
                    date: d.date.to_string(),
                    shown: d.date.strftime("%d.%m.%Y").to_string(),
                    when: match d.closes_at {
                        Some(at) => {
                            t.get1("day-closes-at", "time", &at.strftime("%H:%M").to_string())
                        }
                        None => t.get("day-closed"),
                    },
                    note: d.note,
                })
                .collect(),
            peaks: peaks
                .into_iter()
                .map(|p| PeakRow {
                    id: p.id,
                    from: when(p.starts_at),
                    to: when(p.ends_at),
                    policy: policy_words(&t, p.policy),
                    name: p.name,
                    staffing: p.staffing_note,
                })
                .collect(),
            shifts: shifts
                .iter()
                .map(|s| {
                    let who = users
                        .iter()
                        .find(|u| u.id == s.user_id)
                        .map(|u| u.full_name.clone())
                        .unwrap_or_default();
                    (
                        group_label(&t, &s.group),
                        who,
                        when(s.starts_at),
                        when(s.ends_at),
                    )
                })
                .collect(),
            groups: [
                torg_domain::duty::PUBLIC_CHANNELS,
                torg_domain::duty::ALL_CHANNELS,
                torg_domain::duty::CRISIS_ROTA,
            ]
            .into_iter()
            .map(|g| (g.to_string(), group_label(&t, g)))
            .chain(channel_options(&t))
            .collect(),
            people: users
                .iter()
                .filter(|u| u.active)
                .map(|u| (u.id.get(), u.full_name.clone()))
                .collect(),
            units: unit_options(staff),
            channels: channel_options(&t),
            notice: banner.notice,
            error: banner.error,
            t,
        },
    )
}

/// A rota's channel group in words.
fn group_label(t: &Tr, group: &str) -> String {
    match group.parse::<Channel>() {
        Ok(c) => views::channel_label(t, c),
        Err(_) => t.get(&format!("duty-group-{group}")),
    }
}

/// Plans shifts that rotate among the people chosen, in the order listed.
async fn duty_plan(
    State(state): State<AppState>,
    AdminForm { t, staff, f, who }: AdminForm,
) -> Response {
    let group = f.get("group");
    if torg_domain::duty::channels_of(group).is_empty() {
        return refused(&state, t, &staff, "rota-error-group").await;
    }
    let m = &staff.config.municipality;
    let users = match state.store.list_users(m.id).await {
        Ok(u) => u,
        Err(e) => return failed(t, e),
    };
    let chosen: Vec<UserId> = f
        .all("users")
        .iter()
        .filter_map(|id| id.parse::<i64>().ok())
        .filter_map(|id| users.iter().find(|u| u.id.get() == id && u.active))
        .map(|u| u.id)
        .collect();
    if chosen.is_empty() {
        return refused(&state, t, &staff, "rota-error-people").await;
    }
    let (Ok(from), Ok(handover)) = (
        f.get("from").trim().parse::<jiff::civil::Date>(),
        f.get("handover").trim().parse::<jiff::civil::Time>(),
    ) else {
        return refused(&state, t, &staff, "rota-error-when").await;
    };
    let (Ok(days), Ok(count)) = (
        f.get("days").trim().parse::<i64>(),
        f.get("shifts").trim().parse::<usize>(),
    ) else {
        return refused(&state, t, &staff, "rota-error-count").await;
    };
    if !(1..=31).contains(&days) || !(1..=52).contains(&count) {
        return refused(&state, t, &staff, "rota-error-count").await;
    }
    let plan = match torg_domain::duty::plan_rotation(
        &chosen,
        &m.time_zone,
        from,
        handover,
        days,
        count,
    ) {
        Ok(p) => p,
        Err(e) => return failed(t, e),
    };
    match policies::plan_duty(&*state.store, &who, m.id, group, &plan).await {
        Ok(_) => Redirect::to("/staff/admin/deadlines?done=rota-planned").into_response(),
        Err(PolicyError::Store(e)) => failed(t, e),
        Err(_) => refused(&state, t, &staff, "rota-error-count").await,
    }
}

/// After a change of deadlines: back to the page, saying how many deadlines moved; or the
/// page with the refusal.
async fn deadlines_after(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    done: &str,
    result: Result<u64, PolicyError>,
) -> Response {
    match result {
        Ok(changed) => {
            state.forget_cached_settings();
            Redirect::to(&format!(
                "/staff/admin/deadlines?done={done}&changed={changed}"
            ))
            .into_response()
        }
        Err(PolicyError::Store(e)) => failed(t, e),
        Err(e) => {
            let b = Banner::error(t.get(refusal_key(&e)));
            show_deadlines(state, t, staff, b, StatusCode::UNPROCESSABLE_ENTITY).await
        }
    }
}

/// The page with a refusal of what was typed.
async fn refused(state: &AppState, t: Tr, staff: &Staff, key: &str) -> Response {
    let msg = t.get(key);
    refused_on(state, t, staff, Page::Deadlines, msg).await
}

/// `which` page with `msg`, the refusal of what was typed.
async fn refused_on(state: &AppState, t: Tr, staff: &Staff, which: Page, msg: String) -> Response {
    let b = Banner::error(msg);
    show(state, t, staff, which, b, StatusCode::UNPROCESSABLE_ENTITY).await
}

async fn policy_create(
    State(state): State<AppState>,
    AdminForm { t, staff, f, who }: AdminForm,
) -> Response {
    let Ok(policy) = f.get("policy").trim().parse::<DeadlinePolicy>() else {
        return refused(&state, t, &staff, "policy-error-policy").await;
    };
    let Ok(channel) = channel_field(f.get("channel")) else {
        return refused(&state, t, &staff, "casework-error-channel").await;
    };
    let Ok(unit_id) = unit_field(&staff, f.get("unit")) else {
        return refused(&state, t, &staff, "casework-error-unit").await;
    };
    let rule = PolicyRule {
        channel,
        unit_id,
        topic: optional(f.get("topic")),
        policy,
    };
    let m = staff.config.municipality.clone();
    let result = policies::add_deadline_policy(&*state.store, &who, m, rule).await;
    deadlines_after(&state, t, &staff, "policy-added", result).await
}

/// A unit's or channel's scope from the form; `Ok(None)` is the municipality's own hours.
fn scope_field(staff: &Staff, s: &str) -> Result<Option<HoursScope>, ()> {
    match optional(s) {
        None => Ok(None),
        Some(s) => {
            let scope: HoursScope = s.parse().map_err(|_| ())?;
            match scope {
                HoursScope::Unit(u) if staff.config.unit(u).is_none() => Err(()),
                _ => Ok(Some(scope)),
            }
        }
    }
}

async fn hours_set(
    State(state): State<AppState>,
    AdminForm { t, staff, f, who }: AdminForm,
) -> Response {
    let Ok(weekly) = parse_weekly(f.get("weekly")) else {
        return refused(&state, t, &staff, "hours-error-weekly").await;
    };
    let Ok(scope) = scope_field(&staff, f.get("scope")) else {
        return refused(&state, t, &staff, "casework-error-unit").await;
    };
    let m = staff.config.municipality.clone();
    let result = policies::set_hours(&*state.store, &who, m, scope, &weekly).await;
    deadlines_after(&state, t, &staff, "hours-set", result).await
}

async fn hours_remove(
    State(state): State<AppState>,
    AdminForm { t, staff, f, who }: AdminForm,
) -> Response {
    let Ok(Some(scope)) = scope_field(&staff, f.get("scope")) else {
        return refused(&state, t, &staff, "casework-error-not-found").await;
    };
    remove_item(&state, t, &staff, &who, PolicyItem::ScopedHours(scope)).await
}

async fn day_close(
    State(state): State<AppState>,
    AdminForm { t, staff, f, who }: AdminForm,
) -> Response {
    let Ok(date) = f.get("date").trim().parse::<jiff::civil::Date>() else {
        return refused(&state, t, &staff, "day-error-date").await;
    };
    let closes_at = optional(f.get("closes_at"))
        .map(|s| s.parse::<jiff::civil::Time>())
        .transpose();
    let Ok(closes_at) = closes_at else {
        return refused(&state, t, &staff, "day-error-time").await;
    };
    let day = ClosedDay {
        date,
        closes_at,
        note: f.get("note").trim().chars().take(200).collect(),
    };
    let m = staff.config.municipality.clone();
    let result = policies::close_day(&*state.store, &who, m, day).await;
    deadlines_after(&state, t, &staff, "day-closed", result).await
}

async fn day_remove(
    State(state): State<AppState>,
    Path(date): Path<String>,
    AdminForm { t, staff, who, .. }: AdminForm,
) -> Response {
    let Ok(date) = date.parse::<jiff::civil::Date>() else {
        return refused(&state, t, &staff, "day-error-date").await;
    };
    remove_item(&state, t, &staff, &who, PolicyItem::ClosedDay(date)).await
}

async fn peak_create(
    State(state): State<AppState>,
    AdminForm { t, staff, f, who }: AdminForm,
) -> Response {
    let m = staff.config.municipality.clone();
    let Ok(tz) = jiff::tz::TimeZone::get(&m.time_zone) else {
        return failed(t, "the municipality's time zone is unknown");
    };
    let local = |s: &str| {
        s.trim()
            .parse::<jiff::civil::DateTime>()
            .ok()
            .and_then(|d| d.to_zoned(tz.clone()).ok())
            .map(|z| z.timestamp())
    };
    let (Some(starts_at), Some(ends_at)) = (local(f.get("from")), local(f.get("to"))) else {
        return refused(&state, t, &staff, "peak-error-time").await;
    };
    let Ok(policy) = f.get("policy").trim().parse::<DeadlinePolicy>() else {
        return refused(&state, t, &staff, "policy-error-policy").await;
    };
    let Some(name) = optional(f.get("name")) else {
        return refused(&state, t, &staff, "peak-error-name").await;
    };
    let peak = PlannedPeak {
        id: 0,
        name,
        starts_at,
        ends_at,
        policy,
        staffing_note: f.get("staffing").trim().to_string(),
    };
    let result = policies::add_peak(&*state.store, &who, m, peak)
        .await
        .map(|(_, changed)| changed);
    deadlines_after(&state, t, &staff, "peak-added", result).await
}
