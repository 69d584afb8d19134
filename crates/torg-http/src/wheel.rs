//! The annual wheel (årshjul) in the staff UI: the year as a wheel (SVG, with the same items as
//! a list beside it), a month's items, the form that adds one, and the private link of the
//! calendar feed that Outlook subscribes to (`/k/{municipality}/wheel/{token}`, RFC 5545 with
//! RRULE). Everyone on the staff sees the wheel; those who speak for the municipality plan it.

use crate::AppState;
use crate::admin::{Fields, staff_form};
use crate::audit::ClientAddr;
use crate::auth::{Staff, tenant_by_id, tenant_by_slug};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::staff::{chrome, failed};
use crate::views::{Chrome, Lang, render};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::Date;
use torg_core::actor::Actor;
use torg_core::wheel::{self, ItemInput, WheelActionError};
use torg_domain::Permission;
use torg_domain::UnitId;
use torg_domain::wheel::{Mark, Recurrence};
use torg_store::WheelItem;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/staff/wheel", page)
        .post("/staff/wheel/items", add)
        .post("/staff/wheel/items/{id}/delete", remove)
        .post("/staff/wheel/feed", feed_link)
        .get("/k/{slug}/wheel/{token}", feed)
}

/// Who plans the wheel: those who speak for the municipality.
fn plans(staff: &Staff) -> bool {
    staff.can(Permission::SpeakPublicly)
}

#[derive(serde::Deserialize, Default)]
struct WheelQuery {
    #[serde(default)]
    year: Option<i16>,
    #[serde(default)]
    month: Option<i8>,
    #[serde(default)]
    done: String,
}

/// One item as listed.
struct Row {
    id: i64,
    title: String,
    when: String,
    unit: String,
    mark: String,
    mark_class: &'static str,
    target_group: String,
    /// Messages planned on the item: (id, title).
    messages: Vec<(i64, String)>,
}

/// An item's place on the wheel.
struct Dot {
    x: String,
    y: String,
    class: &'static str,
    label: String,
}

/// A month's sector label on the wheel.
struct MonthLabel {
    x: String,
    y: String,
    name: String,
    /// The sector's dividing line, from the hub to the rim.
    line: (String, String, String, String),
}

#[derive(Template)]
#[template(path = "wheel.html")]
struct WheelPage {
    t: Tr,
    c: Chrome,
    year: i16,
    month: i8,
    month_name: String,
    months: Vec<(i8, String, bool)>,
    dots: Vec<Dot>,
    labels: Vec<MonthLabel>,
    /// The month's items, by date.
    in_month: Vec<Row>,
    /// Every item, by first date.
    items: Vec<Row>,
    plans: bool,
    units: Vec<(UnitId, String)>,
    marks: Vec<(String, String)>,
    repeats: Vec<(String, String)>,
    notice: Option<String>,
    error: Option<String>,
    /// A feed link just made, shown once.
    feed: Option<String>,
    form: ItemForm,
}

#[derive(Default)]
struct ItemForm {
    title: String,
    date: String,
    repeat: String,
    unit: String,
    target_group: String,
    mark: String,
}

fn month_name(t: &Tr, month: i8) -> String {
    t.get(&format!("wheel-month-{month}"))
}

fn mark_class(mark: Mark) -> &'static str {
    match mark {
        Mark::Proactive => "proactive",
        Mark::Ongoing => "ongoing",
        Mark::Reactive => "reactive",
    }
}

fn when(t: &Tr, r: Recurrence) -> String {
    let date = r.start().strftime("%d.%m.%Y").to_string();
    match r {
        Recurrence::Once { .. } => date,
        Recurrence::Yearly { date: d } => t.args(
            "wheel-when-yearly",
            &[
                ("day", &d.day().to_string()),
                ("month", &month_name(t, d.month())),
            ],
        ),
        Recurrence::NthWeekday {
            date: d,
            nth,
            weekday,
        } => t.args(
            "wheel-when-weekday",
            &[
                (
                    "nth",
                    &t.get(&match nth {
                        -1 => "wheel-nth-last".to_string(),
                        n => format!("wheel-nth-{n}"),
                    }),
                ),
                (
                    "weekday",
                    &t.get(&format!("wheel-weekday-{}", weekday.to_monday_one_offset())),
                ),
                ("month", &month_name(t, d.month())),
            ],
        ),
        Recurrence::Monthly { date: d } => {
            t.get1("wheel-when-monthly", "day", &d.day().to_string())
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn show(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    year: i16,
    month: i8,
    notice: Option<String>,
    error: Option<String>,
    feed: Option<String>,
    form: ItemForm,
    status: StatusCode,
) -> Response {
    let tenant = staff.config.municipality.id;
    let (all, publications) = match tokio::try_join!(
        state.store.wheel_items(tenant, None),
        state.store.publications(tenant, 500)
    ) {
        Ok(x) => x,
        Err(e) => return failed(t, e),
    };
    let unit_name = |id: Option<i64>| {
        id.and_then(|u| staff.config.unit(UnitId(u)))
            .map(|u| u.name.clone())
            .unwrap_or_else(|| staff.config.municipality.name.clone())
    };
    let row = |i: &WheelItem, when: String| Row {
        id: i.id,
        title: i.item.title.clone(),
        when,
        unit: unit_name(i.item.unit_id.map(i64::from)),
        mark: t.get(&format!("wheel-mark-{}", i.item.mark.as_str())),
        mark_class: mark_class(i.item.mark),
        target_group: i.item.target_group.clone(),
        messages: publications
            .iter()
            .filter(|p| p.wheel_item_id == Some(i.id))
            .map(|p| (p.id, p.title.clone()))
            .collect(),
    };
    let (Ok(first), Ok(last)) = (Date::new(year, 1, 1), Date::new(year, 12, 31)) else {
        return failed(t, "year out of range");
    };
    // The wheel: twelve sectors from the top, clockwise; each date at its angle.
    let (cx, cy, r) = (170.0_f64, 170.0_f64, 150.0_f64);
    let angle = |d: Date| {
        let day = f64::from(d.day_of_year() - 1);
        let days = f64::from(d.days_in_year());
        std::f64::consts::TAU * day / days - std::f64::consts::FRAC_PI_2
    };
    let mut dots = vec![];
    let mut in_month: Vec<(Date, Row)> = vec![];
    for (n, i) in all.iter().enumerate() {
        for d in i.item.recurrence.occurrences(first, last) {
            // Items on the same day sit at different distances from the hub.
            let radius = r * (0.55 + 0.1 * (n % 4) as f64);
            let a = angle(d);
            dots.push(Dot {
                x: format!("{:.1}", cx + radius * a.cos()),
                y: format!("{:.1}", cy + radius * a.sin()),
                class: mark_class(i.item.mark),
                label: format!("{} – {}", d.strftime("%d.%m"), i.item.title),
            });
            if d.month() == month {
                in_month.push((d, row(i, d.strftime("%d.%m.%Y").to_string())));
            }
        }
    }
    in_month.sort_by_key(|(d, r)| (*d, r.id));
    let labels = (1..=12)
        .map(|m| {
            let start = Date::new(year, m, 1).unwrap_or(first);
            let mid = Date::new(year, m, 15).unwrap_or(first);
            let (a, b) = (angle(start), angle(mid));
            MonthLabel {
                x: format!("{:.1}", cx + (r + 8.0) * b.cos()),
                y: format!("{:.1}", cy + (r + 8.0) * b.sin() + 4.0),
                name: month_name(&t, m).chars().take(3).collect(),
                line: (
                    format!("{cx:.1}"),
                    format!("{cy:.1}"),
                    format!("{:.1}", cx + r * a.cos()),
                    format!("{:.1}", cy + r * a.sin()),
                ),
            }
        })
        .collect();
    let items = all
        .iter()
        .map(|i| row(i, when(&t, i.item.recurrence)))
        .collect();
    let page = WheelPage {
        c: chrome(staff, "/staff/wheel"),
        year,
        month,
        month_name: month_name(&t, month),
        months: (1..=12)
            .map(|m| (m, month_name(&t, m), m == month))
            .collect(),
        dots,
        labels,
        in_month: in_month.into_iter().map(|(_, r)| r).collect(),
        items,
        plans: plans(staff),
        units: staff
            .config
            .units
            .iter()
            .map(|u| (u.id, u.name.clone()))
            .collect(),
        marks: Mark::ALL
            .iter()
            .map(|m| {
                (
                    m.as_str().to_string(),
                    t.get(&format!("wheel-mark-{}", m.as_str())),
                )
            })
            .collect(),
        repeats: ["none", "yearly", "weekday", "monthly"]
            .iter()
            .map(|r| (r.to_string(), t.get(&format!("wheel-repeat-{r}"))))
            .collect(),
        notice,
        error,
        feed,
        form,
        t,
    };
    render(status, &page)
}

fn today(staff: &Staff) -> Date {
    jiff::tz::TimeZone::get(&staff.config.municipality.time_zone)
        .map(|tz| jiff::Timestamp::now().to_zoned(tz).date())
        .unwrap_or_else(|_| jiff::Zoned::now().date())
}

async fn page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Query(q): Query<WheelQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let now = today(&staff);
    let year = q
        .year
        .filter(|y| (1900..=2200).contains(y))
        .unwrap_or(now.year());
    let month = q
        .month
        .filter(|m| (1..=12).contains(m))
        .unwrap_or(now.month());
    let notice = t.done(&q.done);
    show(
        &state,
        t,
        &staff,
        year,
        month,
        notice,
        None,
        None,
        ItemForm::default(),
        StatusCode::OK,
    )
    .await
}

async fn add(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, plans(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let input = ItemInput {
        title: f.get("title").into(),
        date: f.get("date").into(),
        repeat: f.get("repeat").into(),
        unit: f.get("unit").into(),
        responsible: staff.user.id.to_string(),
        target_group: f.get("target_group").into(),
        area: f.get("area").into(),
        mark: f.get("mark").into(),
        description: f.get("description").into(),
    };
    let actor = Actor::user(&staff.user, addr.0);
    match wheel::add_item(&*state.store, &actor, staff.config.municipality.id, &input).await {
        Ok(_) => {
            let shown = input
                .date
                .trim()
                .parse::<Date>()
                .unwrap_or_else(|_| today(&staff));
            let (y, m) = (shown.year(), shown.month());
            Redirect::to(&format!("/staff/wheel?year={y}&month={m}&done=wheel-added"))
                .into_response()
        }
        Err(WheelActionError::Store(e)) => failed(t, e),
        Err(e) => {
            let msg = t.get(e.key());
            let now = today(&staff);
            let form = form_of(&f);
            show(
                &state,
                t,
                &staff,
                now.year(),
                now.month(),
                None,
                Some(msg),
                None,
                form,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

fn form_of(f: &Fields) -> ItemForm {
    ItemForm {
        title: f.get("title").into(),
        date: f.get("date").into(),
        repeat: f.get("repeat").into(),
        unit: f.get("unit").into(),
        target_group: f.get("target_group").into(),
        mark: f.get("mark").into(),
    }
}

async fn remove(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<i64>,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Err(r) = staff_form(&staff, &t, &raw, plans(&staff)) {
        return *r;
    }
    let actor = Actor::user(&staff.user, addr.0);
    match wheel::remove_item(&*state.store, &actor, staff.config.municipality.id, id).await {
        Ok(true) => Redirect::to("/staff/wheel?done=wheel-removed").into_response(),
        // Already gone (a second click, or a colleague): nothing to do.
        Ok(false) => Redirect::to("/staff/wheel").into_response(),
        Err(e) => failed(t, e),
    }
}

async fn feed_link(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    headers: axum::http::HeaderMap,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, plans(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let unit = f.get("unit").parse::<i64>().ok().filter(|u| *u > 0);
    if unit.is_some_and(|u| staff.config.unit(UnitId(u)).is_none()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let tenant = staff.config.municipality.id;
    let actor = Actor::user(&staff.user, addr.0);
    match wheel::new_feed_link(&*state.store, &actor, tenant, unit.map(UnitId)).await {
        Ok(token) => {
            let link = format!(
                "{}/k/{}/wheel/{token}",
                crate::portal::base_url(&state, &headers),
                staff.config.municipality.slug
            );
            let notice = t.get("wheel-feed-made");
            let now = today(&staff);
            show(
                &state,
                t,
                &staff,
                now.year(),
                now.month(),
                Some(notice),
                None,
                Some(link),
                ItemForm::default(),
                StatusCode::CREATED,
            )
            .await
        }
        Err(e) => failed(t, e),
    }
}

/// The calendar feed behind its private link: every item as an all-day event, recurring ones
/// with their RRULE. Unknown links get 404, as if nothing were there.
async fn feed(
    State(state): State<AppState>,
    Path((slug, token)): Path<(String, String)>,
) -> Response {
    if !torg_core::secrets::is_token_shaped(&token) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let hash = torg_core::secrets::token_hash(&token);
    let (tenant, unit) = match state.store.wheel_feed(&hash).await {
        Ok(Some(found)) => found,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "wheel feed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let config = match (
        tenant_by_slug(&state, &slug).await,
        tenant_by_id(&state, tenant).await,
    ) {
        (Ok(Some(a)), Ok(Some(b))) if a.municipality.id == b.municipality.id => b,
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, "wheel feed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let items = match state.store.wheel_items(tenant, unit).await {
        Ok(items) => items,
        Err(e) => {
            tracing::error!(error = %e, "wheel feed");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    let name = match unit.and_then(|u| config.unit(u)) {
        Some(u) => format!("{} – {}", config.municipality.name, u.name),
        None => config.municipality.name.clone(),
    };
    let body = ical(&name, &config.municipality.slug, &items);
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// The items as an RFC 5545 calendar: all-day events, RRULE for those that come back.
pub fn ical(name: &str, slug: &str, items: &[WheelItem]) -> String {
    use icalendar::{Calendar, Component, Event, EventLike};
    let mut calendar = Calendar::new();
    calendar.name(&format!("Årshjul – {name}"));
    for i in items {
        let start = i.item.recurrence.start();
        let Some(day) = chrono::NaiveDate::from_ymd_opt(
            start.year().into(),
            start.month() as u32,
            start.day() as u32,
        ) else {
            continue;
        };
        let mut event = Event::new();
        event
            .uid(&format!("wheel-{}-{}@torg", slug, i.id))
            .summary(&i.item.title)
            .all_day(day);
        let mut description = i.item.description.clone();
        if !i.item.target_group.is_empty() {
            description.push_str(&format!("\n\nMålgruppe: {}", i.item.target_group));
        }
        if !description.trim().is_empty() {
            event.description(description.trim());
        }
        event.add_property("CATEGORIES", i.item.mark.as_str());
        if let Some(rule) = i.item.recurrence.rrule() {
            event.add_property("RRULE", &rule);
        }
        calendar.push(event.done());
    }
    calendar.done().to_string()
}
