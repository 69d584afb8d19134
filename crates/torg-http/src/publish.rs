//! Publishing in the staff UI (`/staff/publish`): write a message once, see its plain-language
//! advice, send it for approval, approve it (four eyes, the personal-data guard), change or
//! withdraw it; and on the portal, the municipality's news (`/k/{m}/news`, an item's page, an
//! Atom feed), which is the canonical address of every message. Staff see an approved message
//! on their inbox a while before the public does. The rules are in [`torg_core::publish`].

use crate::AppState;
use crate::admin::{DoneQuery, Fields, staff_form};
use crate::audit::ClientAddr;
use crate::auth::Staff;
use crate::i18n::Tr;
use crate::portal::municipality;
use crate::routes::Routes;
use crate::staff::{chrome, failed, forbidden};
use crate::views::{self, Chrome, Lang, PlainAdvice, render};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use torg_core::actor::Actor;
use torg_core::publish::{self, MessageInput, PublishError};
use torg_domain::UserId;
use torg_domain::access::Permission;
use torg_domain::publish::{Kind, PubState};
use torg_store::Publication;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/staff/publish", list_page)
        .post("/staff/publish", create)
        .get("/staff/publish/{id}", message_page)
        .post("/staff/publish/{id}", edit)
        .post("/staff/publish/{id}/submit", submit)
        .post("/staff/publish/{id}/approve", approve)
        .post("/staff/publish/{id}/withdraw", withdraw)
        .post("/staff/publish/{id}/version", version)
        .get("/k/{slug}/news", news_page)
        .get("/k/{slug}/press", press_page)
        .get("/k/{slug}/news.atom", news_feed)
        .get("/k/{slug}/news/{id}", news_item)
}

/// The portal's address, for links in posts and on pages.
fn public_base(state: &AppState) -> String {
    state
        .settings
        .public_url
        .clone()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_string()
}

/// Who writes messages: staff who handle inquiries.
fn writes(staff: &Staff) -> bool {
    staff.can(Permission::HandleInquiries)
}

fn state_name(t: &Tr, s: PubState) -> String {
    t.get(&format!("publish-state-{}", s.as_str()))
}

/// `2027-03-01T08:00` in the municipality's time zone.
pub(crate) fn local_time(text: &str, zone: &str) -> Option<Timestamp> {
    let tz = jiff::tz::TimeZone::get(zone).ok()?;
    let dt: jiff::civil::DateTime = text.trim().parse().ok()?;
    dt.to_zoned(tz).ok().map(|z| z.timestamp())
}

pub(crate) fn input_time(at: Timestamp, zone: &str) -> String {
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    at.to_zoned(tz).strftime("%Y-%m-%dT%H:%M").to_string()
}

struct Row {
    id: i64,
    title: String,
    when: String,
}

/// A day on the publishing page's month.
struct DayCell {
    /// The day of the month; `None` outside it.
    day: Option<i8>,
    today: bool,
    /// Messages due that day: (id, title, state's css class, state's name).
    messages: Vec<(i64, String, &'static str, String)>,
    /// The annual wheel's items that day.
    items: Vec<String>,
}

/// The month the calendar shows, and the months before and after it (`YYYY-MM`).
struct MonthView {
    caption: String,
    previous: String,
    next: String,
    /// The weekdays' names, Monday first.
    weekdays: Vec<String>,
    weeks: Vec<Vec<DayCell>>,
}

#[derive(serde::Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    done: String,
    /// `YYYY-MM`: the calendar's month (default: this one).
    #[serde(default)]
    month: String,
}

#[derive(Template)]
#[template(path = "publish_list.html")]
struct ListPage {
    t: Tr,
    c: Chrome,
    /// The messages by where they are: drafts, waiting, scheduled, published, withdrawn.
    sections: Vec<(String, Vec<Row>)>,
    calendar: MonthView,
    may_write: bool,
    title: String,
    body: String,
    image_url: String,
    publish_at: String,
    /// The wheel's items a message may be planned on: (id, title, chosen).
    wheel_items: Vec<(i64, String, bool)>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "publish_message.html")]
struct MessagePage {
    t: Tr,
    c: Chrome,
    id: i64,
    title: String,
    body: String,
    publish_at: String,
    state: String,
    when: String,
    author: String,
    approved_by: Option<String>,
    /// The annual wheel's item it is planned on.
    wheel_item: Option<String>,
    plain: PlainAdvice,
    may_change: bool,
    may_submit: bool,
    may_approve: bool,
    /// The approval waits for the approver to confirm personal data may be public.
    confirm_personal_data: bool,
    /// Its picture's address, if it has one.
    image_url: String,
    /// "Press release", for a press release.
    kind: Option<String>,
    /// Its versions in other languages: (language, its name, title, text).
    versions: Vec<(String, String, String, String)>,
    /// The networks the municipality has approved accounts on, offered when approving, each
    /// with what its post will say.
    networks: Vec<NetworkView>,
    /// Subscribers it may reach by email and SMS, and the topics and areas to choose them by.
    subscribers: torg_store::SubscriberCounts,
    topics: Vec<torg_store::Topic>,
    areas: Vec<torg_store::Area>,
    /// Its posts on other channels: (channel, css class, how it went, the post's address).
    posts: Vec<(String, &'static str, String, Option<String>)>,
    public_link: Option<String>,
    notice: Option<String>,
    error: Option<String>,
}

/// A network a message may go to, as the message page offers it.
struct NetworkView {
    /// The form's field (`to_facebook`, …) and the preview's anchor.
    key: String,
    name: String,
    /// "Also on Facebook (from …)": the approval's tick box.
    label: String,
    preview: String,
    /// Its length against the most the post holds.
    count: String,
    /// Instagram without a picture: said before anyone ticks it.
    missing_image: bool,
    /// The writer's own text for it; empty: Torg's.
    own: String,
    /// "Own text for Facebook" and what happens to it.
    own_label: String,
}

async fn list_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Query(q): Query<ListQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let notice = t.done(&q.done);
    let month = jiff::civil::Date::strptime("%Y-%m-%d", format!("{}-01", q.month.trim())).ok();
    show_list(&state, t, &staff, notice, None, None, month, StatusCode::OK).await
}

/// The month page of the publishing calendar: each day's messages and the annual wheel's
/// items.
fn month_view(
    t: &Tr,
    list: &[Publication],
    items: &[torg_store::WheelItem],
    month: jiff::civil::Date,
    zone: &str,
) -> MonthView {
    let tz = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let today = Timestamp::now().to_zoned(tz.clone()).date();
    let first = month.first_of_month();
    let last = month.last_of_month();
    let now = Timestamp::now();
    let mut by_day: std::collections::HashMap<jiff::civil::Date, DayCell> = Default::default();
    let cell = |d: jiff::civil::Date| DayCell {
        day: Some(d.day()),
        today: d == today,
        messages: vec![],
        items: vec![],
    };
    for p in list {
        let d = p.publish_at.to_zoned(tz.clone()).date();
        if d < first || d > last {
            continue;
        }
        let class = match p.state {
            PubState::Approved if p.publish_at <= now => "published",
            PubState::Approved => "scheduled",
            other => other.as_str(),
        };
        by_day.entry(d).or_insert_with(|| cell(d)).messages.push((
            p.id,
            p.title.clone(),
            class,
            section_name(t, p, now),
        ));
    }
    for i in items {
        for d in i.item.recurrence.occurrences(first, last) {
            by_day
                .entry(d)
                .or_insert_with(|| cell(d))
                .items
                .push(i.item.title.clone());
        }
    }
    let weeks = torg_domain::calendar::month_weeks(month.year(), month.month())
        .into_iter()
        .map(|week| {
            week.into_iter()
                .map(|d| match d {
                    Some(d) => by_day.remove(&d).unwrap_or_else(|| cell(d)),
                    None => DayCell {
                        day: None,
                        today: false,
                        messages: vec![],
                        items: vec![],
                    },
                })
                .collect()
        })
        .collect();
    let step = |months: i32| {
        first
            .checked_add(jiff::Span::new().months(months))
            .map(|d| d.strftime("%Y-%m").to_string())
            .unwrap_or_default()
    };
    MonthView {
        caption: format!(
            "{} {}",
            t.get(&format!("wheel-month-{}", month.month())),
            month.year()
        ),
        previous: step(-1),
        next: step(1),
        weekdays: (1..=7).map(|n| t.get(&format!("weekday-{n}"))).collect(),
        weeks,
    }
}

/// Where a message is, in the words of the list's sections.
fn section_name(t: &Tr, p: &Publication, now: Timestamp) -> String {
    match p.state {
        PubState::Approved if p.publish_at <= now => t.get("publish-section-published"),
        PubState::Approved => t.get("publish-section-scheduled"),
        other => state_name(t, other),
    }
}

#[allow(clippy::too_many_arguments)]
async fn show_list(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    notice: Option<String>,
    error: Option<String>,
    form: Option<&Fields>,
    month: Option<jiff::civil::Date>,
    status: StatusCode,
) -> Response {
    let m = &staff.config.municipality;
    let tz = jiff::tz::TimeZone::get(&m.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let now = Timestamp::now();
    let month = month.unwrap_or_else(|| now.to_zoned(tz.clone()).date().first_of_month());
    // The calendar's month from its first midnight to the next month's, in local time.
    let midnight =
        |d: jiff::civil::Date| d.to_zoned(tz.clone()).map(|z| z.timestamp()).unwrap_or(now);
    let next_month = month.last_of_month().tomorrow().unwrap_or(month);
    let (list, items, in_month) = match tokio::try_join!(
        state.store.publications(m.id, 200),
        state.store.wheel_items(m.id, None),
        state
            .store
            .publications_between(m.id, midnight(month), midnight(next_month))
    ) {
        Ok(x) => x,
        Err(e) => return failed(t, e),
    };
    let chosen = form
        .map(|f| f.get("wheel_item").to_string())
        .unwrap_or_default();
    let wheel_items = items
        .iter()
        .map(|i| (i.id, i.item.title.clone(), chosen == i.id.to_string()))
        .collect();
    let mut sections: Vec<(String, Vec<Row>)> = [
        "publish-state-draft",
        "publish-state-submitted",
        "publish-section-scheduled",
        "publish-section-published",
        "publish-state-withdrawn",
    ]
    .iter()
    .map(|key| (t.get(key), vec![]))
    .collect();
    for p in &list {
        let name = section_name(&t, p, now);
        if let Some((_, rows)) = sections.iter_mut().find(|(n, _)| *n == name) {
            rows.push(Row {
                id: p.id,
                title: p.title.clone(),
                when: views::when(p.publish_at, &m.time_zone),
            });
        }
    }
    sections.retain(|(_, rows)| !rows.is_empty());
    let calendar = month_view(&t, &in_month, &items, month, &m.time_zone);
    let field = |name: &str| form.map(|f| f.get(name).to_string()).unwrap_or_default();
    let publish_at = form
        .map(|f| f.get("publish_at").to_string())
        .unwrap_or_else(|| {
            input_time(
                Timestamp::now() + jiff::SignedDuration::from_hours(2),
                &m.time_zone,
            )
        });
    render(
        status,
        &ListPage {
            c: chrome(staff, "/staff/publish"),
            sections,
            calendar,
            may_write: writes(staff),
            title: field("title"),
            body: field("body"),
            image_url: field("image_url"),
            publish_at,
            wheel_items,
            notice,
            error,
            t,
        },
    )
}

async fn create(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, writes(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let m = staff.config.municipality.clone();
    let Some(publish_at) = local_time(f.get("publish_at"), &m.time_zone) else {
        let msg = t.get("publish-error-time");
        return show_list(
            &state,
            t,
            &staff,
            None,
            Some(msg),
            Some(&f),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let input = MessageInput {
        image_url: f.get("image_url"),
        variants: &[],
        kind: if f.get("kind") == "press" {
            Kind::Press
        } else {
            Kind::News
        },
        title: f.get("title"),
        body: f.get("body"),
        publish_at,
        wheel_item: f.get("wheel_item").parse().ok().filter(|i| *i > 0),
    };
    let actor = Actor::user(&staff.user, addr.0);
    match publish::draft(&*state.store, &actor, &staff.user, m.id, &m.language, input).await {
        Ok(p) => Redirect::to(&format!("/staff/publish/{}?done=publication-drafted", p.id))
            .into_response(),
        Err(PublishError::Store(e)) => failed(t, e),
        Err(e) => {
            let msg = t.get(e.key());
            show_list(
                &state,
                t,
                &staff,
                None,
                Some(msg),
                Some(&f),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

async fn message_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let notice = t.done(&q.done);
    show_message(&state, t, &staff, id, notice, None, false, StatusCode::OK).await
}

#[allow(clippy::too_many_arguments)]
async fn show_message(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
    confirm_personal_data: bool,
    status: StatusCode,
) -> Response {
    let m = &staff.config.municipality;
    let (p, users, settings, items, accounts, posts, jargon, variants, versions) = match tokio::try_join!(
        state.store.publication(m.id, id),
        state.store.list_users(m.id),
        state.store.publishing_settings(m.id),
        state.store.wheel_items(m.id, None),
        state.store.social_accounts(Some(m.id)),
        state.store.publication_posts(m.id, id),
        state.store.jargon(m.id),
        state.store.publication_variants(m.id, id),
        state.store.publication_versions(m.id, id)
    ) {
        Ok((Some(p), users, settings, items, accounts, posts, jargon, variants, versions)) => (
            p, users, settings, items, accounts, posts, jargon, variants, versions,
        ),
        Ok((None, ..)) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => return failed(t, e),
    };
    let name = |id: UserId| {
        users
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.full_name.clone())
            .unwrap_or_default()
    };
    let mine = p.author_id == staff.user.id;
    let speaks = staff.can(Permission::SpeakPublicly);
    let live = p.state == PubState::Approved && p.publish_at <= Timestamp::now();
    let base = public_base(state);
    let (subscribers, topics, areas) = match tokio::try_join!(
        state.store.subscriber_counts(m.id),
        state.store.topics(m.id),
        state.store.areas(m.id)
    ) {
        Ok(v) => v,
        Err(e) => return failed(t, e),
    };
    let page = MessagePage {
        subscribers,
        topics,
        areas,
        c: chrome(staff, &format!("/staff/publish/{id}")),
        id,
        plain: views::plain_advice(
            &t,
            &p.language,
            &format!("{}.\n\n{}", p.title, p.body),
            jargon,
        ),
        title: p.title.clone(),
        body: p.body.clone(),
        publish_at: input_time(p.publish_at, &m.time_zone),
        state: state_name(&t, p.state),
        when: views::when(p.publish_at, &m.time_zone),
        author: name(p.author_id),
        approved_by: p.approved_by.map(name),
        wheel_item: p
            .wheel_item_id
            .and_then(|w| items.iter().find(|i| i.id == w))
            .map(|i| i.item.title.clone()),
        may_change: p.state != PubState::Withdrawn && (mine || speaks),
        may_submit: p.state == PubState::Draft && (mine || speaks),
        may_approve: p.state == PubState::Submitted && speaks && !(settings.four_eyes && mine),
        confirm_personal_data,
        posts: posts
            .iter()
            .map(|post| {
                let (class, text) = views::delivery_line(&t, &post.state, &m.time_zone);
                (
                    t.get(&format!("channel-{}", post.channel.as_str())),
                    class,
                    text,
                    post.address.clone(),
                )
            })
            .collect(),
        networks: torg_domain::publish::NETWORKS
            .iter()
            .filter_map(|n| {
                let names: Vec<&str> = accounts
                    .iter()
                    .filter(|a| a.channel == n.channel && a.approved)
                    .map(|a| a.registry_address.as_str())
                    .collect();
                if names.is_empty() {
                    return None;
                }
                let text =
                    publish::post_for(&p, &variants, n, &format!("{base}/k/{}/news/{id}", m.slug));
                let count = t.args(
                    "publish-preview-count",
                    &[
                        ("chars", &text.chars().count().to_string()),
                        ("max", &n.max_chars.to_string()),
                    ],
                );
                let name = t.get(&format!("channel-{}", n.channel.as_str()));
                Some(NetworkView {
                    key: n.channel.as_str().to_string(),
                    label: t.args(
                        "publish-to-network",
                        &[("channel", &name), ("accounts", &names.join(", "))],
                    ),
                    preview: text,
                    count,
                    missing_image: n.needs_image && p.image_url.is_none(),
                    own: variants
                        .iter()
                        .find(|(c, _)| *c == n.channel)
                        .map(|(_, v)| v.clone())
                        .unwrap_or_default(),
                    own_label: t.args(
                        "publish-field-variant",
                        &[
                            ("channel", &name),
                            (
                                "max",
                                &(n.max_chars - torg_domain::publish::LINK_ROOM).to_string(),
                            ),
                        ],
                    ),
                    name,
                })
            })
            .collect(),
        image_url: p.image_url.clone().unwrap_or_default(),
        kind: (p.kind == Kind::Press).then(|| t.get("publish-kind-press")),
        versions: versions
            .into_iter()
            .map(|v| {
                let name = language_name(&v.language);
                (v.language, name, v.title, v.body)
            })
            .collect(),
        public_link: live.then(|| format!("{base}/k/{}/news/{id}", m.slug)),
        notice,
        error,
        t,
    };
    render(status, &page)
}

/// What a step's refusal shows.
async fn refused(state: &AppState, t: Tr, staff: &Staff, id: i64, e: PublishError) -> Response {
    match e {
        PublishError::Store(e) => failed(t, e),
        PublishError::MayNotWrite
        | PublishError::NotYours
        | PublishError::Approval(torg_domain::publish::ApprovalError::NotAllowed) => forbidden(t),
        PublishError::PersonalData(_) => {
            let msg = t.get(e.key());
            show_message(
                state,
                t,
                staff,
                id,
                None,
                Some(msg),
                true,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        e => {
            let msg = t.get(e.key());
            show_message(
                state,
                t,
                staff,
                id,
                None,
                Some(msg),
                false,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

async fn edit(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<i64>,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, writes(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let m = staff.config.municipality.clone();
    let Some(publish_at) = local_time(f.get("publish_at"), &m.time_zone) else {
        let msg = t.get("publish-error-time");
        return show_message(
            &state,
            t,
            &staff,
            id,
            None,
            Some(msg),
            false,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let typed: Vec<(torg_domain::Channel, &str)> = torg_domain::publish::NETWORKS
        .iter()
        .map(|n| (n.channel, f.get(&format!("variant_{}", n.channel.as_str()))))
        .collect();
    let input = MessageInput {
        kind: Default::default(),
        image_url: f.get("image_url"),
        variants: &typed,
        title: f.get("title"),
        body: f.get("body"),
        publish_at,
        wheel_item: None,
    };
    let actor = Actor::user(&staff.user, addr.0);
    let result = publish::edit(&*state.store, &actor, &staff.user, m.id, id, input).await;
    after_step(&state, t, &staff, id, result, "edited").await
}

/// A language's name in itself, else its code.
fn language_name(code: &str) -> String {
    torg_domain::publish::language_own_name(code).map_or_else(|| code.to_string(), str::to_string)
}

async fn version(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<i64>,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, writes(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let actor = Actor::user(&staff.user, addr.0);
    let result = publish::set_version(
        &*state.store,
        &actor,
        &staff.user,
        staff.config.municipality.id,
        id,
        f.get("language"),
        f.get("title"),
        f.get("body"),
    )
    .await;
    after_step(&state, t, &staff, id, result, "version").await
}

/// After a step: back to the message saying it went, or the page that says why not.
async fn after_step(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    id: i64,
    result: Result<Publication, PublishError>,
    done: &str,
) -> Response {
    match result {
        Ok(_) => {
            Redirect::to(&format!("/staff/publish/{id}?done=publication-{done}")).into_response()
        }
        Err(e) => refused(state, t, staff, id, e).await,
    }
}

/// The steps that take nothing but the message: send it for approval, withdraw it.
#[derive(Clone, Copy)]
enum Step {
    Submit,
    Withdraw,
}

async fn step(
    state: AppState,
    lang: String,
    staff: Staff,
    addr: ClientAddr,
    id: i64,
    raw: &[u8],
    step: Step,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Err(r) = staff_form(&staff, &t, raw, writes(&staff)) {
        return *r;
    }
    let actor = Actor::user(&staff.user, addr.0.clone());
    let (store, tenant) = (&*state.store, staff.config.municipality.id);
    let (result, done) = match step {
        Step::Submit => (
            publish::submit(store, &actor, &staff.user, tenant, id).await,
            "submitted",
        ),
        Step::Withdraw => (
            publish::withdraw(store, &actor, &staff.user, tenant, id).await,
            "withdrawn",
        ),
    };
    after_step(&state, t, &staff, id, result, done).await
}

async fn submit(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<i64>,
    RawForm(raw): RawForm,
) -> Response {
    step(state, lang, staff, addr, id, &raw, Step::Submit).await
}

async fn withdraw(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<i64>,
    RawForm(raw): RawForm,
) -> Response {
    step(state, lang, staff, addr, id, &raw, Step::Withdraw).await
}

async fn approve(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<i64>,
    headers: axum::http::HeaderMap,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, staff.can(Permission::SpeakPublicly)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let actor = Actor::user(&staff.user, addr.0);
    let tenant = staff.config.municipality.id;
    // The post's link must be absolute: the portal's address as receipts have it.
    let link = format!(
        "{}/k/{}/news/{id}",
        crate::portal::base_url(&state, &headers),
        staff.config.municipality.slug
    );
    let channels: Vec<torg_domain::Channel> = torg_domain::publish::NETWORKS
        .iter()
        .map(|n| n.channel)
        .chain([torg_domain::Channel::Email, torg_domain::Channel::Sms])
        .filter(|c| f.get(&format!("to_{}", c.as_str())) == "on")
        .collect();
    let areas: Vec<i64> = f
        .all("area")
        .iter()
        .filter_map(|a| a.parse().ok())
        .collect();
    let manage_base = torg_core::subscribe::manage_base(
        &crate::portal::base_url(&state, &headers),
        &staff.config.municipality.slug,
    );
    let (email_footer, sms_footer, press_footer) = (
        t.get("subscription-email-footer"),
        t.get("subscription-sms-footer"),
        t.get("press-list-footer"),
    );
    let approval = publish::Approval {
        confirm_personal_data: f.get("confirm_personal_data") == "on",
        channels: &channels,
        link: &link,
        audience: publish::Audience {
            topic: Some(f.get("topic")).filter(|s| !s.is_empty()),
            areas: &areas,
            manage_base: &manage_base,
            email_footer: &email_footer,
            sms_footer: &sms_footer,
        },
        press_list: (f.get("to_press_list") == "on").then_some(press_footer.as_str()),
    };
    let result = publish::approve(&*state.store, &actor, &staff.user, tenant, id, approval).await;
    after_step(&state, t, &staff, id, result, "approved").await
}

// ------------------------------------------------------------------ the portal's news

struct NewsRow {
    id: i64,
    title: String,
    when: String,
    excerpt: String,
}

#[derive(Template)]
#[template(path = "news.html")]
struct NewsPage {
    t: Tr,
    c: Chrome,
    /// The page's heading: the news, or the press releases, of the municipality.
    heading: String,
    /// The news page links its Atom feed.
    feed: bool,
    empty: String,
    slug: String,
    rows: Vec<NewsRow>,
    /// The words searched for (empty: none).
    q: String,
}

#[derive(serde::Deserialize, Default)]
struct NewsQuery {
    /// Words every message listed must hold (in their forms: `torg_domain::search`).
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "news_item.html")]
struct NewsItemPage {
    t: Tr,
    c: Chrome,
    slug: String,
    title: String,
    when: String,
    paragraphs: Vec<String>,
    /// Its picture, shown above the text (decorative: the title says what it is about).
    image_url: Option<String>,
    /// The language of what is shown (the article's `lang`).
    language: String,
    /// The other languages it can be read in: (code, name).
    others: Vec<(String, String)>,
    id: i64,
}

#[derive(Template)]
#[template(path = "news_feed.xml")]
struct NewsFeed {
    name: String,
    base: String,
    slug: String,
    updated: String,
    entries: Vec<(NewsRow, String)>,
}

/// What the news list and the feed show of a message.
fn excerpt(body: &str) -> String {
    publish::lead(body, 280)
}

async fn news_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
    Query(q): Query<NewsQuery>,
) -> Response {
    listing(state, lang, slug, Kind::News, q.q).await
}

async fn press_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
    Query(q): Query<NewsQuery>,
) -> Response {
    listing(state, lang, slug, Kind::Press, q.q).await
}

/// The portal's news page or press page: the approved messages of `kind` whose time has come.
async fn listing(state: AppState, lang: String, slug: String, kind: Kind, q: String) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let m = &config.municipality;
    let now = Timestamp::now();
    let list = match kind {
        Kind::News => publish::news(&*state.store, m.id, now, 50).await,
        Kind::Press => publish::press_releases(&*state.store, m.id, now, 50).await,
    };
    let list = match list {
        Ok(l) => l,
        Err(e) => return failed(t, e),
    };
    // A search: every word, in its forms, in the title or the text.
    let query = torg_domain::search::Query::parse(&q);
    let rows = list
        .iter()
        .filter(|p| {
            q.trim().is_empty()
                || query.as_ref().is_some_and(|query| {
                    let terms = torg_domain::search::terms(&format!("{}\n{}", p.title, p.body));
                    query.terms.iter().all(|t| terms.contains(t))
                })
        })
        .map(|p| NewsRow {
            id: p.id,
            title: p.title.clone(),
            when: views::when(p.publish_at, &m.time_zone),
            excerpt: excerpt(&p.body),
        })
        .collect();
    let (page, title, empty) = match kind {
        Kind::News => ("news", "news-title", "news-empty"),
        Kind::Press => ("press", "press-releases-title", "press-releases-empty"),
    };
    render(
        StatusCode::OK,
        &NewsPage {
            c: crate::crisis::portal_chrome(&state, m, &format!("/k/{slug}/{page}")).await,
            heading: t.get1(title, "name", &m.name),
            feed: kind == Kind::News,
            empty: t.get(empty),
            slug,
            rows,
            q,
            t,
        },
    )
}

#[derive(serde::Deserialize, Default)]
struct VersionQuery {
    /// The language asked for (`?version=fi`); the message's own gives the original.
    #[serde(default)]
    version: Option<String>,
}

async fn news_item(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path((slug, id)): Path<(String, i64)>,
    Query(q): Query<VersionQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let m = &config.municipality;
    let shown = |p: &Publication| p.state == PubState::Approved && p.publish_at <= Timestamp::now();
    let found = match state.store.publication(m.id, id).await {
        Ok(Some(p)) if shown(&p) => state
            .store
            .publication_versions(m.id, id)
            .await
            .map(|versions| Some((p, versions))),
        Ok(_) => Ok(None),
        Err(e) => Err(e),
    };
    match found {
        Ok(Some((p, versions))) => {
            crate::evaluation::count_view(&state, m.id, id);
            let languages: Vec<String> = versions.iter().map(|v| v.language.clone()).collect();
            let asked = q.version.as_deref().filter(|a| *a != p.language);
            let chosen = if q.version.as_deref() == Some(p.language.as_str()) {
                None
            } else {
                torg_domain::publish::version_for(&languages, asked, &lang)
            };
            let (title, body, language) = match versions
                .iter()
                .find(|v| Some(v.language.as_str()) == chosen)
            {
                Some(v) => (v.title.clone(), v.body.clone(), v.language.clone()),
                None => (p.title.clone(), p.body.clone(), p.language.clone()),
            };
            let others = std::iter::once(p.language.clone())
                .chain(languages)
                .filter(|l| *l != language)
                .map(|l| {
                    let name = language_name(&l);
                    (l, name)
                })
                .collect();
            render(
                StatusCode::OK,
                &NewsItemPage {
                    c: crate::crisis::portal_chrome(&state, m, &format!("/k/{slug}/news/{id}"))
                        .await,
                    slug,
                    when: views::when(p.publish_at, &m.time_zone),
                    paragraphs: body
                        .split("\n\n")
                        .map(|s| s.trim().to_string())
                        .filter(|s| !s.is_empty())
                        .collect(),
                    image_url: p.image_url,
                    title,
                    language,
                    others,
                    id,
                    t,
                },
            )
        }
        Ok(_) => {
            let msg = t.get("news-not-found");
            views::error_page(
                t,
                StatusCode::NOT_FOUND,
                "error-heading-not-found",
                msg,
                &format!("/k/{slug}/news"),
            )
        }
        Err(e) => failed(t, e),
    }
}

async fn news_feed(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let m = &config.municipality;
    let list = match publish::news(&*state.store, m.id, Timestamp::now(), 50).await {
        Ok(l) => l,
        Err(e) => return failed(t, e),
    };
    let atom = |at: Timestamp| at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let updated = list
        .iter()
        .map(|p| p.updated_at.max(p.publish_at))
        .max()
        .unwrap_or_else(Timestamp::now);
    let base = public_base(&state);
    let entries = list
        .iter()
        .map(|p| {
            (
                NewsRow {
                    id: p.id,
                    title: p.title.clone(),
                    when: atom(p.publish_at),
                    excerpt: excerpt(&p.body),
                },
                atom(p.updated_at.max(p.publish_at)),
            )
        })
        .collect();
    let feed = NewsFeed {
        name: m.name.clone(),
        base,
        slug,
        updated: atom(updated),
        entries,
    };
    match feed.render() {
        Ok(xml) => (
            [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
            xml,
        )
            .into_response(),
        Err(e) => failed(t, e),
    }
}

/// The staff inbox's notices: approved messages staff see before (and a week after) the public.
pub(crate) async fn staff_notices(state: &AppState, t: &Tr, staff: &Staff) -> Vec<String> {
    let m = &staff.config.municipality;
    let now = Timestamp::now();
    match publish::staff_notices(&*state.store, m.id, now).await {
        Ok(list) => list
            .iter()
            .map(|p| {
                let key = if p.publish_at > now {
                    "publish-notice-coming"
                } else {
                    "publish-notice-out"
                };
                t.args(
                    key,
                    &[
                        ("title", &p.title),
                        ("when", &views::when(p.publish_at, &m.time_zone)),
                    ],
                )
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "staff notices not read");
            vec![]
        }
    }
}
