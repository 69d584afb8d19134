//! Listening (`/staff/listening`): what the sources said that met the keywords, newest first,
//! to dismiss, turn into an inquiry or link to an open crisis; and, for those who speak for
//! the municipality, the sources (feeds, Mastodon hashtags, with how their last check went)
//! and the keyword list.

use crate::AppState;
use crate::admin::{DoneQuery, staff_form};
use crate::audit::ClientAddr;
use crate::auth::Staff;
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::staff::{chrome, failed, forbidden};
use crate::views::{self, Chrome, Lang, render};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use torg_core::actor::Actor;
use torg_core::listening::{self as core, ListeningError};
use torg_domain::Permission;
use torg_domain::listening::{BadSource, MatchState, SourceKind, own_inquiry};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/staff/listening", page)
        .post("/staff/listening/matches/{id}", decide)
        .post("/staff/listening/sources", add_source)
        .post("/staff/listening/sources/{id}/remove", remove_source)
        .post("/staff/listening/keywords", set_keywords)
}

/// Whether the person works with matches (everyone who handles inquiries).
pub(crate) fn listens(staff: &Staff) -> bool {
    staff.can(Permission::HandleInquiries)
}

/// Whether the person keeps the sources and keywords.
fn keeps_sources(staff: &Staff) -> bool {
    staff.can(Permission::SpeakPublicly)
}

struct MatchView {
    id: i64,
    source: String,
    title: String,
    title_marked: Vec<(String, bool)>,
    summary_marked: Vec<(String, bool)>,
    link: Option<String>,
    keywords: String,
    when: String,
    state: String,
    inquiry: Option<i64>,
    /// A comment on the municipality's own pages: an inquiry already.
    own: bool,
}

struct SourceView {
    id: i64,
    name: String,
    kind: String,
    address: String,
    checked: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "listening.html")]
struct ListeningPage {
    t: Tr,
    c: Chrome,
    fresh: Vec<MatchView>,
    decided: Vec<MatchView>,
    crises: Vec<(i64, String)>,
    manage: bool,
    sources: Vec<SourceView>,
    keywords: String,
    notice: Option<String>,
    error: Option<String>,
}

/// Only http(s) links become links: a feed's text is shown, never followed blindly.
fn safe_link(link: &str) -> Option<String> {
    (link.starts_with("https://") || link.starts_with("http://")).then(|| link.to_string())
}

fn view(t: &Tr, m: &torg_store::ListeningMatch, zone: &str) -> MatchView {
    let query = torg_domain::search::Query::parse(&m.keywords.join(" "));
    let mark = |text: &str| match &query {
        Some(q) => views::marked(text, q),
        None => vec![(text.to_string(), false)],
    };
    MatchView {
        id: m.id,
        // The own pages' source is named in the reader's language.
        source: if own_inquiry(&m.item.guid).is_some() {
            t.get("listening-kind-own-pages")
        } else {
            m.source_name.clone()
        },
        title: m.item.title.clone(),
        title_marked: mark(&m.item.title),
        summary_marked: mark(&m.item.summary),
        link: safe_link(&m.item.link),
        keywords: m.keywords.join(", "),
        when: views::when(m.found_at, zone),
        state: t.get(&format!("listening-state-{}", m.state.as_str())),
        inquiry: m
            .inquiry_id
            .or_else(|| own_inquiry(&m.item.guid))
            .map(|i| i.get()),
        own: own_inquiry(&m.item.guid).is_some(),
    }
}

async fn show(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let m = &staff.config.municipality;
    let (fresh, all, crises, sources, keywords) = match tokio::try_join!(
        state
            .store
            .listening_matches(m.id, Some(MatchState::New), 200),
        state.store.listening_matches(m.id, None, 50),
        state.store.open_crises(m.id),
        state.store.listening_sources(m.id),
        state.store.listening_keywords(m.id),
    ) {
        Ok(x) => x,
        Err(e) => return failed(t, e),
    };
    let zone = &m.time_zone;
    let page = ListeningPage {
        c: chrome(staff, "/staff/listening"),
        fresh: fresh.iter().map(|x| view(&t, x, zone)).collect(),
        decided: all
            .iter()
            .filter(|x| x.state != MatchState::New)
            .map(|x| view(&t, x, zone))
            .collect(),
        crises: crises
            .iter()
            .map(|c| {
                (
                    c.id,
                    format!("{} ({})", c.template, views::when(c.started_at, zone)),
                )
            })
            .collect(),
        manage: keeps_sources(staff),
        sources: sources
            .iter()
            .map(|s| SourceView {
                id: s.id,
                name: if s.kind == SourceKind::OwnPages {
                    t.get("listening-kind-own-pages")
                } else {
                    s.name.clone()
                },
                kind: t.get(&format!("listening-kind-{}", s.kind.as_str())),
                address: torg_domain::listening::shown_address(&s.address),
                checked: s
                    .last_checked_at
                    .map_or_else(|| t.get("listening-never"), |at| views::when(at, zone)),
                error: s.last_error.clone(),
            })
            .collect(),
        keywords: keywords.join("\n"),
        notice,
        error,
        t,
    };
    render(status, &page)
}

async fn page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Query(q): Query<DoneQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if !listens(&staff) {
        return forbidden(t);
    }
    let notice = t.done(&q.done);
    show(&state, t, &staff, notice, None, StatusCode::OK).await
}

/// The page again with what went wrong, or the store's failure.
async fn refused(state: &AppState, t: Tr, staff: &Staff, e: ListeningError) -> Response {
    let (key, status) = match &e {
        ListeningError::Store(e) => return failed(t, e),
        ListeningError::NotFound => ("listening-error-not-found", StatusCode::NOT_FOUND),
        ListeningError::Decided => ("listening-error-decided", StatusCode::CONFLICT),
        ListeningError::Duplicate => ("listening-error-duplicate", StatusCode::CONFLICT),
        ListeningError::Source(BadSource::Name) => {
            ("listening-error-name", StatusCode::UNPROCESSABLE_ENTITY)
        }
        ListeningError::Source(BadSource::Address) => {
            ("listening-error-address", StatusCode::UNPROCESSABLE_ENTITY)
        }
        ListeningError::Source(BadSource::Tag) => {
            ("listening-error-tag", StatusCode::UNPROCESSABLE_ENTITY)
        }
        ListeningError::Source(BadSource::Search) => {
            ("listening-error-search", StatusCode::UNPROCESSABLE_ENTITY)
        }
        ListeningError::Keywords(_) => {
            ("listening-error-keywords", StatusCode::UNPROCESSABLE_ENTITY)
        }
        ListeningError::Intake(_) => ("listening-error-inquiry", StatusCode::UNPROCESSABLE_ENTITY),
    };
    let msg = t.get(key);
    show(state, t, staff, None, Some(msg), status).await
}

async fn decide(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<i64>,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, listens(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let actor = Actor::user(&staff.user, addr.0);
    let tenant = staff.config.municipality.id;
    let done = match f.get("action") {
        "dismiss" => core::dismiss(&*state.store, &actor, tenant, id)
            .await
            .map(|()| "listening-dismissed".to_string()),
        "inquiry" => core::to_inquiry(
            &*state.store,
            &actor,
            &staff.config,
            id,
            state.settings.limits,
            Timestamp::now(),
        )
        .await
        .map(|i| return_to_inquiry(i.get())),
        "crisis" => match f.get("crisis").parse::<i64>() {
            Ok(crisis) => core::to_crisis(&*state.store, &actor, tenant, id, crisis)
                .await
                .map(|()| "listening-linked".to_string()),
            Err(_) => Err(ListeningError::NotFound),
        },
        _ => {
            let msg = t.get("error-bad-form");
            return show(&state, t, &staff, None, Some(msg), StatusCode::BAD_REQUEST).await;
        }
    };
    match done {
        Ok(to) if to.starts_with('/') => Redirect::to(&to).into_response(),
        Ok(done) => Redirect::to(&format!("/staff/listening?done={done}")).into_response(),
        // A second click, or a colleague first: the page says so.
        Err(ListeningError::Decided) => {
            Redirect::to("/staff/listening?done=listening-already").into_response()
        }
        Err(e) => refused(&state, t, &staff, e).await,
    }
}

fn return_to_inquiry(id: i64) -> String {
    format!("/staff/inquiries/{id}")
}

async fn add_source(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, keeps_sources(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let Some(kind) = SourceKind::parse(f.get("kind")) else {
        let msg = t.get("error-bad-form");
        return show(&state, t, &staff, None, Some(msg), StatusCode::BAD_REQUEST).await;
    };
    let actor = Actor::user(&staff.user, addr.0);
    match core::add_source(
        &*state.store,
        &actor,
        staff.config.municipality.id,
        kind,
        f.get("name"),
        f.get("address"),
        f.get("tag"),
    )
    .await
    {
        Ok(_) => Redirect::to("/staff/listening?done=listening-source-added").into_response(),
        Err(e) => refused(&state, t, &staff, e).await,
    }
}

async fn remove_source(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<i64>,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Err(r) = staff_form(&staff, &t, &raw, keeps_sources(&staff)) {
        return *r;
    }
    let actor = Actor::user(&staff.user, addr.0);
    match core::remove_source(&*state.store, &actor, staff.config.municipality.id, id).await {
        Ok(()) => Redirect::to("/staff/listening?done=listening-source-removed").into_response(),
        Err(e) => refused(&state, t, &staff, e).await,
    }
}

async fn set_keywords(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, keeps_sources(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let actor = Actor::user(&staff.user, addr.0);
    match core::set_keywords(
        &*state.store,
        &actor,
        staff.config.municipality.id,
        f.get("keywords"),
    )
    .await
    {
        Ok(_) => Redirect::to("/staff/listening?done=listening-keywords-saved").into_response(),
        Err(e) => refused(&state, t, &staff, e).await,
    }
}

/// The inbox's word about new listening matches (for those who work with them): how many.
pub(crate) async fn inbox_matches(state: &AppState, staff: &Staff) -> i64 {
    if !listens(staff) {
        return 0;
    }
    match state
        .store
        .count_new_matches(staff.config.municipality.id)
        .await
    {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "new listening matches not counted");
            0
        }
    }
}
