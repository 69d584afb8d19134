//! The public journal (offentlig postliste): every message in or out of an inquiry the
//! archivist kept, by date, with what the archivist screened replaced — on a page, as an Atom
//! feed, and as JSON for the national eInnsyn service. No login. Titles nobody screened by
//! hand still pass the personal-data guard; names of private persons can be searched for a
//! year after the entry's date, then not (the entry stays).

use crate::AppState;
use crate::i18n::Tr;
use crate::portal::municipality;
use crate::routes::Routes;
use crate::views::{Chrome, Lang, render};
use askama::Template;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use torg_domain::InquiryId;
use torg_domain::MessageKind;
use torg_domain::archive::{case_title, name_searchable};
use torg_store::JournalEntry;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/k/{slug}/journal", page)
        .get("/k/{slug}/journal/feed.atom", feed)
        .get("/k/{slug}/journal/einnsyn.json", einnsyn)
}

/// The longest period one page or export covers.
const MAX_DAYS: i64 = 92;
const MAX_ENTRIES: u32 = 2000;

/// One line as the public sees it.
#[derive(serde::Serialize)]
pub(crate) struct PublicLine {
    /// `2026-000123-2`: the case and the document's number in it.
    pub id: String,
    pub case: String,
    pub date: String,
    pub incoming: bool,
    pub title: String,
    pub party: String,
    pub unit: String,
    pub officer: String,
    /// The legal basis of what is screened, if anything.
    pub screening: Option<String>,
    pub attachments: i64,
    #[serde(skip)]
    pub at: Timestamp,
    #[serde(skip)]
    name_findable: bool,
}

/// The public face of a journal line: the title the archivist set (or the masked real one),
/// the party's name unless screened.
fn public_line(
    e: &JournalEntry,
    number: usize,
    unit: &str,
    zone: &jiff::tz::TimeZone,
    country: Option<torg_domain::calendar::Country>,
    now: Timestamp,
) -> PublicLine {
    let title = case_title(e.subject.as_deref(), &e.preview);
    let title = e.screening.public_title(&title);
    let incoming = e.kind == MessageKind::Inbound;
    PublicLine {
        id: format!("{}-{number}", e.reference),
        case: e.reference.to_string(),
        date: e.date.to_zoned(zone.clone()).date().to_string(),
        incoming,
        title: if incoming {
            title
        } else {
            format!("Svar: {title}")
        },
        party: e.screening.name(&e.citizen_name).to_string(),
        unit: unit.to_string(),
        officer: if incoming {
            String::new()
        } else {
            e.author_name.clone()
        },
        screening: e
            .screening
            .basis
            .map(|b| b.citation_in(country).to_string()),
        attachments: e.attachments,
        at: e.date,
        name_findable: !e.screening.names && name_searchable(e.date, now),
    }
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct JournalQuery {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    q: String,
}

struct Period {
    from: Date,
    to: Date,
}

impl Period {
    /// The default: the 30 days up to `today`.
    fn last_30_days(today: Date) -> Period {
        Period {
            from: today
                .checked_sub(jiff::Span::new().days(30))
                .unwrap_or(today),
            to: today,
        }
    }
}

/// The period asked for: by default the last 30 days; at most [`MAX_DAYS`].
fn period(q: &JournalQuery, today: Date) -> Result<Period, &'static str> {
    let parse = |s: &str, default: Date| match s.trim() {
        "" => Ok(default),
        s => s.parse::<Date>().map_err(|_| "journal-error-date"),
    };
    let to = parse(&q.to, today)?;
    let from = parse(&q.from, Period::last_30_days(to).from)?;
    if to < from {
        return Err("journal-error-order");
    }
    if (to - from).get_days() > MAX_DAYS as i32 {
        return Err("journal-error-long");
    }
    Ok(Period { from, to })
}

/// The lines of the period, newest first, numbered within their case, filtered by `search`.
async fn lines(
    state: &AppState,
    config: &torg_core::intake::TenantConfig,
    period: &Period,
    search: &str,
) -> Result<Vec<PublicLine>, torg_store::StoreError> {
    let m = &config.municipality;
    let zone = jiff::tz::TimeZone::get(&m.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let start = |d: Date| d.to_zoned(zone.clone()).map(|z| z.timestamp()).ok();
    let (Some(from), Some(to)) = (
        start(period.from),
        period.to.tomorrow().ok().and_then(start),
    ) else {
        return Ok(Vec::new());
    };
    let entries = state
        .store
        .journal_entries(m.id, from, to, MAX_ENTRIES)
        .await?;
    // The document's number in its case: its place among the case's lines, oldest first.
    let mut numbers = std::collections::HashMap::new();
    let mut by_case: std::collections::HashMap<InquiryId, Vec<(Timestamp, i64)>> =
        Default::default();
    for e in &entries {
        by_case
            .entry(e.inquiry_id)
            .or_default()
            .push((e.date, e.message_id));
    }
    for list in by_case.values_mut() {
        list.sort();
        for (n, (_, id)) in list.iter().enumerate() {
            numbers.insert(*id, n + 1);
        }
    }
    let now = Timestamp::now();
    // Every word of the search, in its forms (torg_domain::search), in the line's title,
    // unit, case number, or the party's name where it may be found.
    let query = torg_domain::search::Query::parse(search);
    let searching = !search.trim().is_empty();
    Ok(entries
        .iter()
        .map(|e| {
            let unit = config
                .unit(e.unit_id)
                .map(|u| u.name.as_str())
                .unwrap_or("");
            public_line(
                e,
                numbers.get(&e.message_id).copied().unwrap_or(1),
                unit,
                &zone,
                torg_domain::calendar::Country::of_time_zone(&m.time_zone),
                now,
            )
        })
        .filter(|l| {
            if !searching {
                return true;
            }
            let Some(query) = &query else {
                return false;
            };
            let mut text = format!("{} {} {}", l.title, l.unit, l.case);
            if l.name_findable {
                text.push(' ');
                text.push_str(&l.party);
            }
            let terms = torg_domain::search::terms(&text);
            query.terms.iter().all(|t| terms.contains(t))
        })
        .collect())
}

#[derive(Template)]
#[template(path = "journal.html")]
struct JournalPage {
    t: Tr,
    c: Chrome,
    name: String,
    slug: String,
    from: String,
    to: String,
    q: String,
    lines: Vec<PublicLine>,
    caption: String,
    error: Option<String>,
}

impl JournalPage {
    /// The portal's contact form, filled in as an access request (innsyn) for `l`.
    fn access_href(&self, l: &PublicLine) -> String {
        let query: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("innsyn", &l.id)
            .append_pair("tittel", &l.title)
            .finish();
        format!("/k/{}?{query}#message", self.slug)
    }
}

async fn page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
    Query(q): Query<JournalQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let m = &config.municipality;
    let today = today_in(&m.time_zone);
    let (period, error) = match period(&q, today) {
        Ok(p) => (p, None),
        Err(key) => (
            Period::last_30_days(today),
            Some(t.args(key, &[("days", &MAX_DAYS.to_string())])),
        ),
    };
    let lines = match lines(&state, &config, &period, &q.q).await {
        Ok(l) => l,
        Err(e) => return crate::staff::failed(t, e),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render(
        status,
        &JournalPage {
            c: crate::crisis::portal_chrome(&state, m, &format!("/k/{slug}/journal")).await,
            name: m.name.clone(),
            slug,
            from: period.from.to_string(),
            to: period.to.to_string(),
            q: q.q.clone(),
            caption: t.args(
                "journal-caption",
                &[
                    ("from", &period.from.to_string()),
                    ("to", &period.to.to_string()),
                    ("count", &lines.len().to_string()),
                ],
            ),
            lines,
            error,
            t,
        },
    )
}

#[derive(Template)]
#[template(path = "journal_feed.xml")]
struct Feed {
    name: String,
    base: String,
    slug: String,
    updated: String,
    lines: Vec<(PublicLine, String)>,
}

/// The newest lines of the last 30 days as Atom.
async fn feed(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let today = today_in(&config.municipality.time_zone);
    let period = Period::last_30_days(today);
    let mut lines = match lines(&state, &config, &period, "").await {
        Ok(l) => l,
        Err(e) => return crate::staff::failed(t, e),
    };
    lines.truncate(50);
    let updated = lines
        .first()
        .map(|l| l.at)
        .unwrap_or_else(|| Timestamp::now() - SignedDuration::from_hours(24 * 30));
    let base = state
        .settings
        .public_url
        .clone()
        .unwrap_or_default()
        .trim_end_matches('/')
        .to_string();
    let page = Feed {
        name: config.municipality.name.clone(),
        base,
        slug,
        updated: atom_time(updated),
        lines: lines
            .into_iter()
            .map(|l| {
                let at = atom_time(l.at);
                (l, at)
            })
            .collect(),
    };
    match page.render() {
        Ok(xml) => (
            [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
            xml,
        )
            .into_response(),
        Err(e) => crate::staff::failed(t, e),
    }
}

/// Today in the municipality's time zone.
fn today_in(zone: &str) -> Date {
    Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC))
        .date()
}

fn atom_time(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The period's lines as JSON for eInnsyn: Noark names, screened as on the page.
async fn einnsyn(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
    Query(q): Query<JournalQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let today = today_in(&config.municipality.time_zone);
    let period = match period(&q, today) {
        Ok(p) => p,
        Err(key) => {
            return crate::error::ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_period",
                t.args(key, &[("days", &MAX_DAYS.to_string())]),
            )
            .into_response();
        }
    };
    let lines = match lines(&state, &config, &period, "").await {
        Ok(l) => l,
        Err(e) => return crate::staff::failed(t, e),
    };
    let m = &config.municipality;
    let journalposts: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| {
            serde_json::json!({
                "registreringsID": l.id,
                "saksnummer": l.case,
                "journaldato": l.date,
                "journalposttype": if l.incoming { "Inngående dokument" } else { "Utgående dokument" },
                "offentligTittel": l.title,
                "korrespondansepart": [{
                    "korrespondanseparttype": if l.incoming { "Avsender" } else { "Mottaker" },
                    "korrespondansepartNavn": l.party,
                }],
                "administrativEnhet": l.unit,
                "saksbehandler": l.officer,
                "skjermingshjemmel": l.screening,
                "antallVedlegg": l.attachments,
            })
        })
        .collect();
    axum::Json(serde_json::json!({
        "virksomhet": { "navn": m.name, "id": m.slug },
        "periode": { "fra": period.from.to_string(), "til": period.to.to_string() },
        "journalposter": journalposts,
    }))
    .into_response()
}
