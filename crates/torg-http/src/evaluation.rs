//! Evaluation (`/staff/evaluation`): a period's figures for the municipality, a unit or a
//! channel, pictures first (SVG) with the numbers in a table beside each, every table as
//! CSV, and the settings (costs per contact, what is published, the licence, the survey).
//! The portal's statistics page (`/k/{m}/statistics`) shows what the municipality chose to
//! publish, also as open data (`statistics.json`, `statistics/{table}.csv`) with its licence.
//! The satisfaction survey's answer pages (`/k/{m}/survey/{token}`, and on the follow page).

use crate::AppState;
use crate::admin::staff_form;
use crate::audit::ClientAddr;
use crate::auth::Staff;
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::staff::{chrome, failed, forbidden};
use crate::views::{self, Chrome, Lang, render};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use torg_core::actor::Actor;
use torg_core::evaluation::{self as core, AnswerError, Evaluation, Figures, Period, Scope};
use torg_core::intake::TenantConfig;
use torg_domain::evaluation::{LICENCES, Share, Table, change_percent, licence_url};
use torg_domain::{Channel, Permission, UnitId};
use torg_i18n::words;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/staff/evaluation", page)
        .get("/staff/evaluation/{file}", csv_file)
        .post("/staff/evaluation/settings", save_settings)
}

/// The portal's routes (public: the statistics and the survey).
pub(crate) fn portal_routes() -> Routes {
    Routes::new()
        .get("/k/{slug}/statistics", statistics)
        .get("/k/{slug}/statistics.json", statistics_json)
        .get("/k/{slug}/statistics/{file}", statistics_csv)
        .get("/k/{slug}/survey/{token}", survey_page)
        .post("/k/{slug}/survey/{token}", survey_answer)
        .post("/k/{slug}/follow/{token}/survey", follow_survey_answer)
}

/// Whether the person may change what is evaluated and published.
fn sets_evaluation(staff: &Staff) -> bool {
    staff.can(Permission::ViewOverview) && staff.can(Permission::SpeakPublicly)
}

// ---------------------------------------------------------------- tables

/// A cell: what a page shows, and the plain value of open data and CSV.
pub(crate) struct Cell {
    pub text: String,
    pub raw: String,
}

fn num(n: i64) -> Cell {
    Cell {
        text: n.to_string(),
        raw: n.to_string(),
    }
}

fn text(s: String) -> Cell {
    Cell {
        raw: s.clone(),
        text: s,
    }
}

/// A bar of a bar chart (its lengths worked out).
pub(crate) struct Bar {
    pub label: String,
    pub value: String,
    pub y: i64,
    pub w_now: i64,
    pub w_before: Option<i64>,
}

pub(crate) struct Bars {
    pub height: i64,
    pub rows: Vec<Bar>,
    /// A second, lighter bar per row (the period before, or a year before).
    pub compared: bool,
}

/// A cell of the week's heat map.
pub(crate) struct Heat {
    pub x: i64,
    pub y: i64,
    pub shade: &'static str,
    pub title: String,
}

/// A table of the evaluation, with the picture that shows it.
pub(crate) struct DataTable {
    pub table: Table,
    pub caption: String,
    /// (key in open data, heading).
    pub columns: Vec<(&'static str, String)>,
    pub rows: Vec<Vec<Cell>>,
    pub bars: Option<Bars>,
    pub heat: Vec<Heat>,
    pub days: Vec<(i64, String)>,
    pub notes: Vec<String>,
}

impl DataTable {
    pub fn id(&self) -> &'static str {
        self.table.as_str()
    }
}

const BAR_MAX: i64 = 380;

/// Bars drawn against the largest value.
fn bars(rows: Vec<(String, i64, Option<i64>)>) -> Bars {
    let max = rows
        .iter()
        .map(|r| r.1.max(r.2.unwrap_or(0)))
        .max()
        .unwrap_or(1);
    bars_of(rows, max, "")
}

/// Bars drawn against `max` (100 for shares), their values followed by `unit`.
fn bars_of(rows: Vec<(String, i64, Option<i64>)>, max: i64, unit: &str) -> Bars {
    let max = max.max(1);
    let compared = rows.iter().any(|r| r.2.is_some());
    let step = if compared { 34 } else { 24 };
    let width = |n: i64| (n * BAR_MAX / max).max(i64::from(n > 0));
    Bars {
        height: rows.len() as i64 * step + 8,
        compared,
        rows: rows
            .into_iter()
            .enumerate()
            .map(|(i, (label, now, before))| Bar {
                value: format!("{now}{unit}"),
                label,
                y: i as i64 * step + 4,
                w_now: width(now),
                w_before: before.map(width),
            })
            .collect(),
    }
}

fn percent(t: &Tr, s: Share) -> Cell {
    match s.percent() {
        Some(p) => Cell {
            text: format!("{p} %"),
            raw: p.to_string(),
        },
        None => Cell {
            text: t.get("evaluation-none"),
            raw: String::new(),
        },
    }
}

fn minutes(t: &Tr, d: Option<SignedDuration>) -> Cell {
    match d {
        Some(d) => Cell {
            text: words::duration(t, d),
            raw: (d.as_secs() / 60).to_string(),
        },
        None => Cell {
            text: t.get("evaluation-none"),
            raw: String::new(),
        },
    }
}

fn change(before: i64, now: i64) -> Cell {
    match change_percent(before, now) {
        Some(p) => Cell {
            text: format!("{p:+} %"),
            raw: p.to_string(),
        },
        None => Cell {
            text: "–".into(),
            raw: String::new(),
        },
    }
}

fn channel_name(t: &Tr, c: Channel) -> String {
    views::channel_label(t, c)
}

fn unit_name(config: &TenantConfig, id: UnitId) -> String {
    config
        .units
        .iter()
        .find(|u| u.id == id)
        .map_or_else(|| id.to_string(), |u| u.name.clone())
}

fn count_of<K: PartialEq + Copy>(v: &[(K, i64)], k: K) -> i64 {
    v.iter().find(|x| x.0 == k).map_or(0, |x| x.1)
}

/// Every table of an evaluation, in the order the page shows them.
pub(crate) fn tables(t: &Tr, config: &TenantConfig, e: &Evaluation) -> Vec<DataTable> {
    let (now, before) = (&e.now, &e.before);
    let col = |key: &'static str, label: &str| (key, t.get(label));
    let mut out = vec![];
    // By channel, against the period before.
    let mut channels: Vec<Channel> = now.by_channel.iter().map(|c| c.0).collect();
    for c in &before.by_channel {
        if !channels.contains(&c.0) {
            channels.push(c.0);
        }
    }
    let rows: Vec<(Channel, i64, i64)> = channels
        .iter()
        .map(|&c| {
            (
                c,
                count_of(&now.by_channel, c),
                count_of(&before.by_channel, c),
            )
        })
        .collect();
    out.push(DataTable {
        table: Table::Channels,
        caption: t.get("evaluation-table-channels"),
        columns: vec![
            col("channel", "evaluation-col-channel"),
            col("inquiries", "evaluation-now"),
            col("inquiries_before", "evaluation-before"),
            col("change_percent", "evaluation-change"),
        ],
        bars: Some(bars(
            rows.iter()
                .map(|r| (channel_name(t, r.0), r.1, Some(r.2)))
                .collect(),
        )),
        rows: rows
            .iter()
            .map(|&(c, n, b)| {
                vec![
                    Cell {
                        text: channel_name(t, c),
                        raw: c.as_str().to_string(),
                    },
                    num(n),
                    num(b),
                    change(b, n),
                ]
            })
            .collect(),
        heat: vec![],
        days: vec![],
        notes: vec![],
    });
    // By unit.
    let mut units: Vec<UnitId> = now.by_unit.iter().map(|u| u.0).collect();
    for u in &before.by_unit {
        if !units.contains(&u.0) {
            units.push(u.0);
        }
    }
    let rows: Vec<(UnitId, i64, i64)> = units
        .iter()
        .map(|&u| (u, count_of(&now.by_unit, u), count_of(&before.by_unit, u)))
        .collect();
    out.push(DataTable {
        table: Table::Units,
        caption: t.get("evaluation-table-units"),
        columns: vec![
            col("unit", "evaluation-col-unit"),
            col("inquiries", "evaluation-now"),
            col("inquiries_before", "evaluation-before"),
            col("change_percent", "evaluation-change"),
        ],
        bars: Some(bars(
            rows.iter()
                .map(|r| (unit_name(config, r.0), r.1, Some(r.2)))
                .collect(),
        )),
        rows: rows
            .iter()
            .map(|&(u, n, b)| vec![text(unit_name(config, u)), num(n), num(b), change(b, n)])
            .collect(),
        heat: vec![],
        days: vec![],
        notes: vec![],
    });
    // By hour of the week: a heat map, and the table of the 168 hours.
    let max = now.week.iter().copied().max().unwrap_or(0).max(1);
    let day = |d: usize| t.get(&format!("weekday-{}", d + 1));
    let heat = now
        .week
        .iter()
        .enumerate()
        .map(|(slot, &n)| {
            let (d, h) = (slot / 24, slot % 24);
            Heat {
                x: 90 + h as i64 * 20,
                y: 20 + d as i64 * 22,
                shade: match n * 5 / max {
                    _ if n == 0 => "h0",
                    0 => "h1",
                    1 => "h2",
                    2 => "h3",
                    3 => "h4",
                    _ => "h5",
                },
                title: format!("{} {h:02}–{:02}: {n}", day(d), h + 1),
            }
        })
        .collect();
    out.push(DataTable {
        table: Table::Hours,
        caption: t.get("evaluation-table-hours"),
        columns: vec![
            col("weekday", "evaluation-col-day"),
            col("hour", "evaluation-col-hour"),
            col("inquiries", "evaluation-col-count"),
        ],
        rows: now
            .week
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(slot, &n)| {
                vec![
                    Cell {
                        text: day(slot / 24),
                        raw: (slot / 24 + 1).to_string(),
                    },
                    num((slot % 24) as i64),
                    num(n),
                ]
            })
            .collect(),
        bars: None,
        heat,
        days: (0..7).map(|d| (20 + d as i64 * 22 + 14, day(d))).collect(),
        notes: vec![],
    });
    // Answer times and shares.
    let measures: Vec<(&'static str, &str, Cell, Cell)> = vec![
        (
            "received",
            "evaluation-received",
            num(now.received),
            num(before.received),
        ),
        (
            "first_answer_median_minutes",
            "evaluation-first-answer-median",
            minutes(t, now.first_answer_median),
            minutes(t, before.first_answer_median),
        ),
        (
            "first_answer_p90_minutes",
            "evaluation-first-answer-p90",
            minutes(t, now.first_answer_p90),
            minutes(t, before.first_answer_p90),
        ),
        (
            "close_median_minutes",
            "evaluation-close-median",
            minutes(t, now.close_median),
            minutes(t, before.close_median),
        ),
        (
            "close_p90_minutes",
            "evaluation-close-p90",
            minutes(t, now.close_p90),
            minutes(t, before.close_p90),
        ),
        (
            "within_deadline_percent",
            "evaluation-within-deadline",
            percent(t, now.within_deadline),
            percent(t, before.within_deadline),
        ),
        (
            "emails_within_two_working_days_percent",
            "evaluation-emails-two-days",
            percent(t, now.emails_two_days),
            percent(t, before.emails_two_days),
        ),
        (
            "calls_answered_at_once_percent",
            "evaluation-calls-at-once",
            percent(t, now.calls_at_once),
            percent(t, before.calls_at_once),
        ),
        (
            "overdue_now",
            "evaluation-overdue-now",
            num(now.overdue_now),
            text(String::new()),
        ),
    ];
    let share_bars = [
        (
            "evaluation-within-deadline",
            now.within_deadline,
            before.within_deadline,
        ),
        (
            "evaluation-emails-two-days",
            now.emails_two_days,
            before.emails_two_days,
        ),
        (
            "evaluation-calls-at-once",
            now.calls_at_once,
            before.calls_at_once,
        ),
    ]
    .into_iter()
    .filter(|(_, n, b)| n.whole > 0 || b.whole > 0)
    .map(|(label, n, b)| {
        (
            t.get(label),
            n.percent().unwrap_or(0),
            Some(b.percent().unwrap_or(0)),
        )
    })
    .collect::<Vec<_>>();
    // Shares are drawn against 100 %, not against the largest.
    let share_chart = bars_of(share_bars, 100, " %");
    out.push(DataTable {
        table: Table::Answers,
        caption: t.get("evaluation-table-answers"),
        columns: vec![
            col("measure", "evaluation-col-measure"),
            col("value", "evaluation-now"),
            col("value_before", "evaluation-before"),
        ],
        rows: measures
            .into_iter()
            .map(|(key, label, n, b)| {
                vec![
                    Cell {
                        text: t.get(label),
                        raw: key.to_string(),
                    },
                    n,
                    b,
                ]
            })
            .collect(),
        bars: (!share_chart.rows.is_empty()).then_some(share_chart),
        heat: vec![],
        days: vec![],
        notes: vec![],
    });
    // Satisfaction.
    let mut rows: Vec<Vec<Cell>> = (1..=5)
        .map(|s| {
            vec![
                Cell {
                    text: t.get(&format!("survey-score-{s}")),
                    raw: s.to_string(),
                },
                num(now.scores[s - 1]),
                num(before.scores[s - 1]),
            ]
        })
        .collect();
    let mean = |f: &Figures| match f.mean_score_tenths {
        Some(m) => Cell {
            text: format!("{},{}", m / 10, m % 10),
            raw: format!("{}.{}", m / 10, m % 10),
        },
        None => text(String::new()),
    };
    rows.push(vec![
        Cell {
            text: t.get("evaluation-mean-score"),
            raw: "mean".into(),
        },
        mean(now),
        mean(before),
    ]);
    rows.push(vec![
        Cell {
            text: t.get("evaluation-response-rate"),
            raw: "response_rate_percent".into(),
        },
        percent(t, now.responses),
        percent(t, before.responses),
    ]);
    out.push(DataTable {
        table: Table::Satisfaction,
        caption: t.get("evaluation-table-satisfaction"),
        columns: vec![
            col("score", "evaluation-col-score"),
            col("answers", "evaluation-now"),
            col("answers_before", "evaluation-before"),
        ],
        bars: Some(bars(
            (1..=5)
                .map(|s| {
                    (
                        t.get(&format!("survey-score-{s}")),
                        now.scores[s - 1],
                        Some(before.scores[s - 1]),
                    )
                })
                .collect(),
        )),
        rows,
        heat: vec![],
        days: vec![],
        notes: vec![],
    });
    // Channel shift.
    let s = &e.shift;
    let pct = |x: Share| x.percent().map_or("–".to_string(), |p| format!("{p} %"));
    out.push(DataTable {
        table: Table::ChannelShift,
        caption: t.get("evaluation-table-channel-shift"),
        columns: vec![
            col("channel", "evaluation-col-channel"),
            col("contacts", "evaluation-now"),
            col("contacts_year_before", "evaluation-col-year-before"),
            col("kroner_per_contact", "evaluation-col-cost"),
            col("kroner", "evaluation-col-kroner"),
            col("kroner_year_before", "evaluation-col-kroner-year-before"),
        ],
        bars: Some(bars(
            s.rows
                .iter()
                .map(|r| (channel_name(t, r.0), r.1 * r.3, Some(r.2 * r.3)))
                .collect(),
        )),
        rows: s
            .rows
            .iter()
            .map(|&(c, n, b, k)| {
                vec![
                    Cell {
                        text: channel_name(t, c),
                        raw: c.as_str().to_string(),
                    },
                    num(n),
                    num(b),
                    num(k),
                    num(n * k),
                    num(b * k),
                ]
            })
            .collect(),
        heat: vec![],
        days: vec![],
        notes: vec![
            t.args(
                "evaluation-cost-total",
                &[
                    ("now", &s.cost_now.to_string()),
                    ("before", &s.cost_year_before.to_string()),
                ],
            ),
            t.args(
                "evaluation-digital-share",
                &[
                    ("now", &pct(s.digital_now)),
                    ("before", &pct(s.digital_year_before)),
                ],
            ),
            t.get("evaluation-visit-note"),
        ],
    });
    // Reach of published messages.
    let zone = &config.municipality.time_zone;
    out.push(DataTable {
        table: Table::Reach,
        caption: t.get("evaluation-table-reach"),
        columns: vec![
            col("title", "evaluation-col-title"),
            col("published", "evaluation-col-published"),
            col("portal_views", "evaluation-col-views"),
            col("sent_to", "evaluation-col-posted"),
            col("reactions", "evaluation-col-reactions"),
            col("comments", "evaluation-col-comments"),
            col("shares", "evaluation-col-shares"),
        ],
        bars: None,
        rows: e
            .reach
            .iter()
            .map(|r| {
                vec![
                    text(r.title.clone()),
                    Cell {
                        text: views::when(r.publish_at, zone),
                        raw: r.publish_at.to_string(),
                    },
                    num(r.views),
                    Cell {
                        text: r
                            .posts
                            .iter()
                            .map(|p| {
                                p.parse::<Channel>()
                                    .map_or_else(|_| p.clone(), |c| channel_name(t, c))
                            })
                            .collect::<Vec<_>>()
                            .join(", "),
                        raw: r.posts.join(" "),
                    },
                    num(r.reactions),
                    num(r.comments),
                    num(r.shares),
                ]
            })
            .collect(),
        heat: vec![],
        days: vec![],
        notes: vec![t.get("evaluation-reach-note")],
    });
    out
}

/// A table as CSV: the open-data keys as headings, then the plain values.
fn to_csv(table: &DataTable) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(vec![]);
    let _ = w.write_record(table.columns.iter().map(|c| c.0));
    for row in &table.rows {
        let _ = w.write_record(row.iter().map(|c| c.raw.as_str()));
    }
    w.into_inner().unwrap_or_default()
}

fn csv_response(name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.csv\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The page for a table or question that is not there.
fn missing(t: Tr, back: &str) -> Response {
    let msg = t.get("evaluation-not-found");
    views::error_page(
        t,
        StatusCode::NOT_FOUND,
        "error-heading-not-found",
        msg,
        back,
    )
}

// ---------------------------------------------------------------- the staff page

#[derive(serde::Deserialize, Default)]
struct ScopeQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    done: String,
}

impl ScopeQuery {
    /// The query string that keeps this scope (for the CSV links).
    fn keep(&self, period: &Period) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("from", &period.first.to_string())
            .append_pair("to", &period.last.to_string());
        if !self.unit.is_empty() {
            q.append_pair("unit", &self.unit);
        }
        if !self.channel.is_empty() {
            q.append_pair("channel", &self.channel);
        }
        q.finish()
    }
}

fn today(config: &TenantConfig) -> Date {
    Timestamp::now()
        .to_zoned(config.calendar.zone().clone())
        .date()
}

/// The period asked for (the year so far when nothing is given).
fn period_of(from: &str, to: &str, config: &TenantConfig) -> Option<Period> {
    let today = today(config);
    let default = Period::year_to_date(today);
    let first = if from.trim().is_empty() {
        default.first
    } else {
        from.trim().parse().ok()?
    };
    let last = if to.trim().is_empty() {
        default.last
    } else {
        to.trim().parse().ok()?
    };
    Period::new(first, last).ok()
}

/// The scope asked for, within what the person sees: without all units, one of theirs.
fn scope_of(staff: &Staff, q: &ScopeQuery) -> Result<Scope, &'static str> {
    let config = &staff.config;
    let period = period_of(&q.from, &q.to, config).ok_or("evaluation-error-period")?;
    let channel = q.channel.parse::<Channel>().ok();
    let unit = q
        .unit
        .parse::<i64>()
        .ok()
        .map(UnitId)
        .filter(|u| staff.sees_unit(*u));
    let unit = match unit {
        Some(u) => Some(u),
        None if staff.can(Permission::AllUnits) => None,
        None => Some(
            staff
                .visible_units()
                .first()
                .copied()
                .ok_or("error-forbidden")?,
        ),
    };
    Ok(Scope {
        period,
        unit,
        channel,
    })
}

#[derive(Template)]
#[template(path = "evaluation.html")]
struct EvaluationPage {
    t: Tr,
    c: Chrome,
    period_text: String,
    from: String,
    to: String,
    units: Vec<(String, String, bool)>,
    channels: Vec<(String, String, bool)>,
    all_units: bool,
    keys: Vec<(String, String, String, String)>,
    tables: Vec<DataTable>,
    keep: String,
    csv_base: String,
    comments: Vec<(String, i64, String, String)>,
    settings: Option<SettingsForm>,
    slug: String,
    notice: Option<String>,
    error: Option<String>,
}

struct SettingsForm {
    costs: Vec<(String, String, i64)>,
    published: Vec<(String, String, bool)>,
    licences: Vec<(String, bool)>,
    surveys: bool,
}

async fn page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Query(q): Query<ScopeQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if !staff.can(Permission::ViewOverview) {
        return forbidden(t);
    }
    let notice = t.done(&q.done);
    show(&state, t, &staff, &q, notice, None, StatusCode::OK).await
}

async fn show(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    q: &ScopeQuery,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (scope, error, status) = match scope_of(staff, q) {
        Ok(s) => (s, error, status),
        Err(key) => {
            let fallback = ScopeQuery {
                unit: q.unit.clone(),
                channel: q.channel.clone(),
                ..Default::default()
            };
            match scope_of(staff, &fallback) {
                Ok(s) => (s, Some(t.get(key)), StatusCode::UNPROCESSABLE_ENTITY),
                Err(_) => return forbidden(t),
            }
        }
    };
    let config = &staff.config;
    let e = match core::evaluate(&*state.store, config, scope, Timestamp::now()).await {
        Ok(e) => e,
        Err(e) => return failed(t, e),
    };
    let before = scope.period.before();
    let ds = |d: Date| d.strftime("%d.%m.%Y").to_string();
    let keys = [
        (
            "evaluation-received",
            num(e.now.received).text,
            num(e.before.received).text,
            change(e.before.received, e.now.received).text,
        ),
        (
            "evaluation-first-answer-median",
            minutes(&t, e.now.first_answer_median).text,
            minutes(&t, e.before.first_answer_median).text,
            String::new(),
        ),
        (
            "evaluation-within-deadline",
            percent(&t, e.now.within_deadline).text,
            percent(&t, e.before.within_deadline).text,
            String::new(),
        ),
        (
            "evaluation-emails-two-days",
            percent(&t, e.now.emails_two_days).text,
            percent(&t, e.before.emails_two_days).text,
            String::new(),
        ),
        (
            "evaluation-mean-score",
            e.now
                .mean_score_tenths
                .map_or("–".into(), |m| format!("{},{}", m / 10, m % 10)),
            e.before
                .mean_score_tenths
                .map_or("–".into(), |m| format!("{},{}", m / 10, m % 10)),
            String::new(),
        ),
        (
            "evaluation-overdue-now",
            e.now.overdue_now.to_string(),
            String::new(),
            String::new(),
        ),
    ]
    .into_iter()
    .map(|(k, a, b, c)| (t.get(k), a, b, c))
    .collect();
    let zone = &config.municipality.time_zone;
    let comments = e
        .comments
        .iter()
        .map(|c| {
            (
                views::when(c.answered_at, zone),
                c.score,
                views::channel_label(&t, c.channel),
                c.comment.clone(),
            )
        })
        .collect();
    let unit_param = scope.unit.map(|u| u.to_string()).unwrap_or_default();
    let channel_param = scope
        .channel
        .map(|c| c.as_str().to_string())
        .unwrap_or_default();
    let settings = sets_evaluation(staff).then(|| SettingsForm {
        costs: Channel::ALL
            .iter()
            .map(|&c| {
                (
                    c.as_str().to_string(),
                    views::channel_label(&t, c),
                    e.settings.costs.of(c),
                )
            })
            .collect(),
        published: Table::ALL
            .iter()
            .map(|&tb| {
                (
                    tb.as_str().to_string(),
                    t.get(&format!("evaluation-table-{}", tb.as_str())),
                    e.settings.published.contains(&tb),
                )
            })
            .collect(),
        licences: LICENCES
            .iter()
            .map(|l| (l.0.to_string(), l.0 == e.settings.licence))
            .collect(),
        surveys: e.settings.surveys,
    });
    let page = EvaluationPage {
        c: chrome(staff, "/staff/evaluation"),
        period_text: t.args(
            "evaluation-period",
            &[
                ("from", &ds(scope.period.first)),
                ("to", &ds(scope.period.last)),
                ("bfrom", &ds(before.first)),
                ("bto", &ds(before.last)),
            ],
        ),
        from: scope.period.first.to_string(),
        to: scope.period.last.to_string(),
        all_units: staff.can(Permission::AllUnits),
        units: config
            .units
            .iter()
            .filter(|u| staff.sees_unit(u.id))
            .map(|u| {
                (
                    u.id.to_string(),
                    u.name.clone(),
                    u.id.to_string() == unit_param,
                )
            })
            .collect(),
        channels: Channel::ALL
            .iter()
            .map(|&c| {
                (
                    c.as_str().to_string(),
                    views::channel_label(&t, c),
                    c.as_str() == channel_param,
                )
            })
            .collect(),
        keys,
        tables: tables(&t, config, &e),
        keep: ScopeQuery {
            unit: unit_param,
            channel: channel_param,
            ..Default::default()
        }
        .keep(&scope.period),
        csv_base: "/staff/evaluation".into(),
        comments,
        settings,
        slug: config.municipality.slug.clone(),
        notice,
        error,
        t,
    };
    render(status, &page)
}

/// `/staff/evaluation/{table}.csv` with the page's scope.
async fn csv_file(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Path(file): Path<String>,
    Query(q): Query<ScopeQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if !staff.can(Permission::ViewOverview) {
        return forbidden(t);
    }
    let Some(table) = file.strip_suffix(".csv").and_then(Table::parse) else {
        return missing(t, "/staff/evaluation");
    };
    let scope = match scope_of(&staff, &q) {
        Ok(s) => s,
        Err(key) => {
            let msg = t.get(key);
            return views::error_page(
                t,
                StatusCode::UNPROCESSABLE_ENTITY,
                "error-heading-invalid",
                msg,
                "/staff/evaluation",
            );
        }
    };
    let e = match core::evaluate(&*state.store, &staff.config, scope, Timestamp::now()).await {
        Ok(e) => e,
        Err(e) => return failed(t, e),
    };
    let all = tables(&t, &staff.config, &e);
    let Some(dt) = all.iter().find(|d| d.table == table) else {
        return missing(t, "/staff/evaluation");
    };
    csv_response(
        &format!(
            "{}-{}-{}",
            table.as_str(),
            scope.period.first,
            scope.period.last
        ),
        to_csv(dt),
    )
}

async fn save_settings(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, sets_evaluation(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let tenant = staff.config.municipality.id;
    let mut settings = match state.store.evaluation_settings(tenant).await {
        Ok(s) => s,
        Err(e) => return failed(t, e),
    };
    let mut bad = None;
    for c in Channel::ALL {
        // A field left out keeps its cost.
        let typed = f.get(&format!("cost-{}", c.as_str()));
        if !typed.trim().is_empty() && settings.costs.set(c, typed).is_err() {
            bad = Some("evaluation-error-cost");
        }
    }
    settings.published = f
        .all("publish")
        .into_iter()
        .filter_map(Table::parse)
        .collect();
    settings.licence = f.get("licence").to_string();
    settings.surveys = f.get("surveys") == "on";
    let q = ScopeQuery::default();
    if let Some(key) = bad {
        let msg = t.get(key);
        return show(
            &state,
            t,
            &staff,
            &q,
            None,
            Some(msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let actor = Actor::user(&staff.user, addr.0);
    match core::set_settings(&*state.store, &actor, tenant, &settings).await {
        Ok(()) => {
            state.cache.forget_statistics(tenant);
            Redirect::to("/staff/evaluation?done=evaluation-saved").into_response()
        }
        Err(core::SettingsError::Store(e)) => failed(t, e),
        Err(e) => {
            let key = match e {
                core::SettingsError::Licence => "evaluation-error-licence",
                _ => "evaluation-error-cost",
            };
            let msg = t.get(key);
            show(
                &state,
                t,
                &staff,
                &q,
                None,
                Some(msg),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

// ---------------------------------------------------------------- the portal's statistics

#[derive(serde::Deserialize, Default)]
struct PeriodQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
}

/// The published tables of the period asked for (the year so far by default).
async fn published(
    state: &AppState,
    t: &Tr,
    slug: &str,
    q: &PeriodQuery,
) -> Result<(std::sync::Arc<TenantConfig>, Scope, Vec<DataTable>, String), Response> {
    let config = crate::portal::municipality(state, t, slug).await?;
    // Anyone may ask: at most a year, and each period worked out once in ten minutes.
    let period = period_of(&q.from, &q.to, &config).filter(|p| p.days() <= 366);
    let Some(period) = period else {
        let msg = t.get("statistics-error-period");
        return Err(views::error_page(
            t.clone(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "error-heading-invalid",
            msg,
            &format!("/k/{slug}/statistics"),
        ));
    };
    let scope = Scope {
        period,
        unit: None,
        channel: None,
    };
    let key = format!("{}..{}", period.first, period.last);
    let tenant = config.municipality.id;
    let e = match state.cache.statistics(tenant, &key) {
        Some(e) => e,
        None => match core::evaluate(&*state.store, &config, scope, Timestamp::now()).await {
            Ok(e) => {
                let e = std::sync::Arc::new(e);
                state.cache.put_statistics(tenant, &key, e.clone());
                e
            }
            Err(e) => return Err(crate::staff::failed(t.clone(), e)),
        },
    };
    // What is published is read fresh: a choice applies at once.
    let settings = match state.store.evaluation_settings(tenant).await {
        Ok(s) => s,
        Err(e) => return Err(crate::staff::failed(t.clone(), e)),
    };
    let chosen = settings.published;
    let licence = settings.licence;
    let tables = tables(t, &config, &e)
        .into_iter()
        .filter(|d| chosen.contains(&d.table))
        .collect();
    Ok((config, scope, tables, licence))
}

#[derive(Template)]
#[template(path = "statistics.html")]
struct StatisticsPage {
    t: Tr,
    c: Chrome,
    title: String,
    intro: String,
    tables: Vec<DataTable>,
    keep: String,
    csv_base: String,
    slug: String,
    licence: String,
    licence_url: String,
}

async fn statistics(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let (config, scope, tables, licence) = match published(&state, &t, &slug, &q).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let ds = |d: Date| d.strftime("%d.%m.%Y").to_string();
    let m = &config.municipality;
    let page = StatisticsPage {
        c: crate::crisis::portal_chrome(&state, m, &format!("/k/{slug}/statistics")).await,
        title: t.get1("statistics-title", "municipality", &m.name),
        intro: t.args(
            "statistics-intro",
            &[
                ("from", &ds(scope.period.first)),
                ("to", &ds(scope.period.last)),
            ],
        ),
        tables,
        keep: ScopeQuery::default().keep(&scope.period),
        csv_base: format!("/k/{slug}/statistics"),
        slug,
        licence_url: licence_url(&licence).unwrap_or_default().to_string(),
        licence,
        t,
    };
    render(StatusCode::OK, &page)
}

async fn statistics_json(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let (config, scope, tables, licence) = match published(&state, &t, &slug, &q).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut out = serde_json::Map::new();
    for d in &tables {
        let rows: Vec<serde_json::Value> = d
            .rows
            .iter()
            .map(|r| {
                serde_json::Value::Object(
                    d.columns
                        .iter()
                        .zip(r)
                        .map(|(c, cell)| (c.0.to_string(), open_value(&cell.raw)))
                        .collect(),
                )
            })
            .collect();
        out.insert(d.id().to_string(), serde_json::Value::Array(rows));
    }
    let body = serde_json::json!({
        "municipality": config.municipality.name,
        "period": { "from": scope.period.first.to_string(), "to": scope.period.last.to_string() },
        "licence": { "id": licence, "url": licence_url(&licence) },
        "tables": out,
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A value of open data: a number when it is one, else the text (nothing is `null`).
fn open_value(raw: &str) -> serde_json::Value {
    if raw.is_empty() {
        return serde_json::Value::Null;
    }
    raw.parse::<i64>()
        .map(serde_json::Value::from)
        .or_else(|_| raw.parse::<f64>().map(serde_json::Value::from))
        .unwrap_or_else(|_| serde_json::Value::from(raw))
}

async fn statistics_csv(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path((slug, file)): Path<(String, String)>,
    Query(q): Query<PeriodQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let (_, scope, tables, _) = match published(&state, &t, &slug, &q).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let table = file.strip_suffix(".csv").and_then(Table::parse);
    match tables.iter().find(|d| Some(d.table) == table) {
        Some(d) => csv_response(
            &format!("{}-{}-{}", d.id(), scope.period.first, scope.period.last),
            to_csv(d),
        ),
        None => missing(t, &format!("/k/{slug}/statistics")),
    }
}

// ---------------------------------------------------------------- the survey

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    t: Tr,
    c: Chrome,
    reference: String,
    action: String,
    state: SurveyState,
    error: Option<String>,
}

#[derive(PartialEq)]
enum SurveyState {
    Open,
    Thanks,
    Answered,
}

async fn survey_view(
    state: &AppState,
    t: Tr,
    slug: &str,
    token: &str,
    shown: Option<SurveyState>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let config = match crate::portal::municipality(state, &t, slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let survey = match core::survey_by_link(&*state.store, token).await {
        Ok(s) if s.tenant_id == config.municipality.id => s,
        Ok(_) | Err(AnswerError::NotFound) => {
            let msg = t.get("survey-not-found");
            return views::error_page(
                t,
                StatusCode::NOT_FOUND,
                "error-heading-not-found",
                msg,
                &format!("/k/{slug}"),
            );
        }
        Err(e) => return crate::staff::failed(t, e),
    };
    let reference = match survey.inquiry_id {
        Some(id) => match state.store.inquiry(config.municipality.id, id).await {
            Ok(i) => i.map(|i| i.reference.to_string()).unwrap_or_default(),
            Err(e) => return crate::staff::failed(t, e),
        },
        None => String::new(),
    };
    let shown = shown.unwrap_or(if survey.score.is_some() {
        SurveyState::Answered
    } else {
        SurveyState::Open
    });
    let path = format!("/k/{slug}/survey/{token}");
    let page = SurveyPage {
        c: crate::crisis::portal_chrome(state, &config.municipality, &path).await,
        reference,
        action: path,
        state: shown,
        error,
        t,
    };
    render(status, &page)
}

async fn survey_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path((slug, token)): Path<(String, String)>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    survey_view(&state, t, &slug, &token, None, None, StatusCode::OK).await
}

fn answer_error(t: &Tr, e: &AnswerError) -> (SurveyState, Option<String>, StatusCode) {
    match e {
        AnswerError::Answered => (SurveyState::Answered, None, StatusCode::CONFLICT),
        AnswerError::Bad(torg_domain::evaluation::BadAnswer::Comment) => (
            SurveyState::Open,
            Some(t.get("survey-error-comment")),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        _ => (
            SurveyState::Open,
            Some(t.get("survey-error-score")),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    }
}

async fn survey_answer(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path((slug, token)): Path<(String, String)>,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = crate::admin::Fields::parse(&raw);
    let survey = match core::survey_by_link(&*state.store, &token).await {
        Ok(s) => s,
        Err(_) => {
            return survey_view(&state, t, &slug, &token, None, None, StatusCode::NOT_FOUND).await;
        }
    };
    let done = core::answer(
        &*state.store,
        &survey,
        f.get("score"),
        f.get("comment"),
        Timestamp::now(),
    )
    .await;
    let (shown, error, status) = match &done {
        Ok(()) => (SurveyState::Thanks, None, StatusCode::OK),
        Err(AnswerError::Store(e)) => return crate::staff::failed(t, e),
        Err(e) => answer_error(&t, e),
    };
    survey_view(&state, t, &slug, &token, Some(shown), error, status).await
}

/// The answer given on the follow page of a web or chat inquiry.
async fn follow_survey_answer(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path((slug, token)): Path<(String, String)>,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let (config, inquiry) = match crate::portal::by_follow_token(
        &state,
        &t,
        &slug,
        &token,
        None,
        &format!("/k/{slug}"),
    )
    .await
    {
        Ok(x) => x,
        Err(r) => return r,
    };
    let f = crate::admin::Fields::parse(&raw);
    let survey = match core::survey_on_follow_page(
        &*state.store,
        config.municipality.id,
        inquiry.id,
    )
    .await
    {
        Ok(Some(s)) => s,
        Ok(None) => return missing(t, &format!("/k/{slug}")),
        Err(e) => return crate::staff::failed(t, e),
    };
    let base = format!("/k/{slug}/follow/{token}");
    match core::answer(
        &*state.store,
        &survey,
        f.get("score"),
        f.get("comment"),
        Timestamp::now(),
    )
    .await
    {
        Ok(()) | Err(AnswerError::Answered) => {
            Redirect::to(&format!("{base}?survey=thanks")).into_response()
        }
        Err(AnswerError::Store(e)) => crate::staff::failed(t, e),
        Err(e) => {
            let (_, error, status) = answer_error(&t, &e);
            crate::portal::follow_page(&state, t, &slug, &token, error, status).await
        }
    }
}

/// Counts a reading of a published message's portal page (in the background: the page
/// does not wait for it).
pub(crate) fn count_view(state: &AppState, tenant: torg_domain::TenantId, publication: i64) {
    let store = state.store.clone();
    tokio::spawn(async move {
        if let Err(e) = store.count_view(tenant, publication).await {
            tracing::debug!(error = %e, "a news reading was not counted");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_values_are_numbers_when_they_are() {
        assert_eq!(open_value("12"), serde_json::json!(12));
        assert_eq!(open_value("4.5"), serde_json::json!(4.5));
        assert_eq!(open_value("web"), serde_json::json!("web"));
        assert_eq!(open_value(""), serde_json::Value::Null);
    }

    #[test]
    fn bars_scale_to_the_largest() {
        let b = bars(vec![("a".into(), 10, Some(5)), ("b".into(), 0, None)]);
        assert_eq!(b.rows[0].w_now, BAR_MAX);
        assert_eq!(b.rows[0].w_before, Some(BAR_MAX / 2));
        assert_eq!(b.rows[1].w_now, 0);
        assert!(b.compared);
    }
}
