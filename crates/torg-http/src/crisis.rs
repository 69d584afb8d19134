//! Crisis pages: the banner on every page, the portal's crisis page, the CAP 1.2 feed and
//! alerts, and the staff's crisis room (declare, update, end, the log, the flood of
//! inquiries linked and answered). Parses and renders; the actions are `torg_core::crisis`.

use crate::AppState;
use crate::admin::{DoneQuery, staff_form};
use crate::audit::ClientAddr;
use crate::auth::Staff;
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::staff::{chrome, failed, forbidden};
use crate::views::{self, Banner, Chrome, Lang, render};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use torg_core::actor::Actor;
use torg_core::crisis::{self, CrisisError, Declaration, Lead};
use torg_domain::InquiryId;
use torg_domain::access::Permission;
use torg_store::{Crisis, CrisisMessage, Municipality};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/k/{slug}/crisis", public_page)
        .get("/k/{slug}/cap.atom", cap_feed)
        .get("/k/{slug}/cap/{file}", cap_alert)
        .get("/staff/crisis", room_list)
        .post("/staff/crisis", declare)
        .get("/staff/crisis/{id}", room)
        .post("/staff/crisis/{id}/update", update)
        .post("/staff/crisis/{id}/end", end)
        .post("/staff/crisis/{id}/note", note)
        .post("/staff/crisis/{id}/link", link)
        .post("/staff/crisis/{id}/answer", answer)
        .get("/staff/crisis/{id}/log.txt", log_export)
}

/// Declaring and leading a crisis: those who speak for the municipality.
fn leads(staff: &Staff) -> bool {
    staff.can(Permission::SpeakPublicly)
}

/// The banner of the municipality's current crisis; `staff` also see a drill's.
pub(crate) async fn banner(state: &AppState, m: &Municipality, staff: bool) -> Option<Banner> {
    match crisis::current(&*state.store, m, staff).await {
        Ok(Some((c, last))) => Some(Banner {
            headline: last.headline,
            text: last.text,
            instruction: last.instruction,
            when: views::when(last.sent_at, &m.time_zone),
            link: if c.drill && staff {
                format!("/staff/crisis/{}", c.id)
            } else {
                format!("/k/{}/crisis", m.slug)
            },
            drill: c
                .drill
                .then(|| torg_domain::crisis::drill_word(&m.language).to_string()),
        }),
        Ok(None) => None,
        Err(e) => {
            tracing::error!(error = %e, "the crisis banner could not be read");
            None
        }
    }
}

/// The inbox's crises: (id, headline, inquiries linked) of each going on (drills too: staff
/// see them), and the ids of the inquiries linked to them, marked in the inbox.
pub(crate) async fn inbox_crises(
    state: &AppState,
    staff: &Staff,
) -> (
    Vec<(i64, String, usize)>,
    std::collections::HashSet<InquiryId>,
) {
    let m = &staff.config.municipality;
    let mut crises = vec![];
    let mut linked = std::collections::HashSet::new();
    let open = match state.store.open_crises(m.id).await {
        Ok(open) => open,
        Err(e) => {
            tracing::error!(error = %e, "the inbox's crises could not be read");
            return (crises, linked);
        }
    };
    for c in open {
        let (messages, ids) = match tokio::try_join!(
            state.store.crisis_messages(m.id, c.id),
            state.store.crisis_inquiries(m.id, c.id)
        ) {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(error = %e, "the inbox's crises could not be read");
                continue;
            }
        };
        let headline = messages
            .first()
            .map(|x| x.headline.clone())
            .unwrap_or_default();
        crises.push((c.id, headline, ids.len()));
        linked.extend(ids);
    }
    (crises, linked)
}

/// The chrome of a portal page: the public one with the crisis banner.
pub(crate) async fn portal_chrome(state: &AppState, m: &Municipality, path: &str) -> Chrome {
    let mut c = Chrome::public(&m.name, path);
    c.banner = banner(state, m, false).await;
    c
}

fn base(state: &AppState, headers: &HeaderMap) -> String {
    crate::portal::base_url(state, headers)
}

// ------------------------------------------------------------------ the portal

struct MessageRow {
    kind: String,
    headline: String,
    text: String,
    instruction: String,
    when: String,
    cap: String,
}

#[derive(Template)]
#[template(path = "crisis_public.html")]
struct PublicPage {
    t: Tr,
    c: Chrome,
    slug: String,
    /// Crises not ended (drills not shown), each with its messages, newest first.
    crises: Vec<(String, Vec<MessageRow>)>,
}

fn rows(t: &Tr, m: &Municipality, messages: &[CrisisMessage]) -> Vec<MessageRow> {
    messages
        .iter()
        .rev()
        .map(|x| MessageRow {
            kind: t.get(&format!(
                "crisis-kind-{}",
                x.msg_type.as_str().to_lowercase()
            )),
            headline: x.headline.clone(),
            text: x.text.clone(),
            instruction: x.instruction.clone(),
            when: views::when(x.sent_at, &m.time_zone),
            cap: format!("/k/{}/cap/{}.xml", m.slug, x.id),
        })
        .collect()
}

async fn public_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match crate::portal::municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let m = &config.municipality;
    let open = match state.store.open_crises(m.id).await {
        Ok(o) => o,
        Err(e) => return failed(t, e),
    };
    let mut crises = vec![];
    for c in open.into_iter().filter(|c| !c.drill) {
        let messages = match state.store.crisis_messages(m.id, c.id).await {
            Ok(x) => x,
            Err(e) => return failed(t, e),
        };
        let title = messages
            .first()
            .map(|x| x.headline.clone())
            .unwrap_or_default();
        crises.push((title, rows(&t, m, &messages)));
    }
    let page = PublicPage {
        c: portal_chrome(&state, m, &format!("/k/{slug}/crisis")).await,
        t,
        slug,
        crises,
    };
    render(StatusCode::OK, &page)
}

struct FeedEntry {
    id: i64,
    title: String,
    updated: String,
    summary: String,
}

#[derive(Template)]
#[template(path = "cap_feed.xml")]
struct CapFeed {
    name: String,
    base: String,
    slug: String,
    updated: String,
    entries: Vec<FeedEntry>,
}

/// The Atom feed of the municipality's CAP alerts (drills included: each says `Exercise`).
async fn cap_feed(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match crate::portal::municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let m = &config.municipality;
    let list = match state.store.crises(m.id, 20).await {
        Ok(l) => l,
        Err(e) => return failed(t, e),
    };
    let atom = |at: Timestamp| at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut entries = vec![];
    for c in &list {
        let messages = match state.store.crisis_messages(m.id, c.id).await {
            Ok(x) => x,
            Err(e) => return failed(t, e),
        };
        for x in messages {
            let drill = if c.drill {
                format!("{}: ", torg_domain::crisis::drill_word(&m.language))
            } else {
                String::new()
            };
            entries.push(FeedEntry {
                id: x.id,
                title: format!("{drill}{}", x.headline),
                updated: atom(x.sent_at),
                summary: if x.text.is_empty() {
                    x.instruction
                } else {
                    x.text
                },
            });
        }
    }
    entries.sort_by(|a, b| b.updated.cmp(&a.updated).then(b.id.cmp(&a.id)));
    let feed = CapFeed {
        name: m.name.clone(),
        base: base(&state, &headers),
        slug,
        updated: entries
            .first()
            .map(|e| e.updated.clone())
            .unwrap_or_else(|| atom(Timestamp::now())),
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

/// One CAP 1.2 alert: `/k/{slug}/cap/{message}.xml`.
async fn cap_alert(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    headers: HeaderMap,
    Path((slug, file)): Path<(String, String)>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match crate::portal::municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(id) = file
        .strip_suffix(".xml")
        .and_then(|i| i.parse::<i64>().ok())
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match crisis::cap(
        &*state.store,
        &config.municipality,
        id,
        &base(&state, &headers),
    )
    .await
    {
        Ok(Some(xml)) => (
            [(header::CONTENT_TYPE, "application/cap+xml; charset=utf-8")],
            xml,
        )
            .into_response(),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => failed(t, e),
    }
}

// ------------------------------------------------------------------ the staff's crisis room

struct CrisisRow {
    id: i64,
    name: String,
    drill: bool,
    started: String,
    ended: Option<String>,
}

#[derive(Template)]
#[template(path = "crisis_list.html")]
struct ListPage {
    t: Tr,
    c: Chrome,
    may_lead: bool,
    templates: Vec<torg_domain::crisis::Template>,
    areas: Vec<torg_store::Area>,
    crises: Vec<CrisisRow>,
    subscribers: torg_store::SubscriberCounts,
    error: Option<String>,
}

async fn room_list(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    show_list(&state, t, &staff, None, StatusCode::OK).await
}

async fn show_list(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let m = &staff.config.municipality;
    if let Err(e) = crisis::ensure_templates(&*state.store, m).await {
        return failed(t, e);
    }
    let (templates, areas, list, subscribers) = match tokio::try_join!(
        state.store.crisis_templates(m.id),
        state.store.areas(m.id),
        state.store.crises(m.id, 50),
        state.store.subscriber_counts(m.id)
    ) {
        Ok(v) => v,
        Err(e) => return failed(t, e),
    };
    let crises = list
        .iter()
        .map(|c| CrisisRow {
            id: c.id,
            name: templates
                .iter()
                .find(|x| x.key == c.template)
                .map(|x| x.name.clone())
                .unwrap_or_else(|| c.template.clone()),
            drill: c.drill,
            started: views::when(c.started_at, &m.time_zone),
            ended: c.ended_at.map(|e| views::when(e, &m.time_zone)),
        })
        .collect();
    let page = ListPage {
        c: chrome(staff, "/staff/crisis"),
        may_lead: leads(staff),
        templates,
        areas,
        crises,
        subscribers,
        error,
        t,
    };
    render(status, &page)
}

fn lead<'a>(state: &'a AppState, staff: &'a Staff, actor: &'a Actor, base: &'a str) -> Lead<'a> {
    Lead {
        actor,
        user: Some(&staff.user),
        chat: &*state.chats,
        limits: state.settings.limits.text,
        base,
    }
}

async fn declare(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    headers: HeaderMap,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, leads(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let actor = Actor::user(&staff.user, addr.0);
    let base = base(&state, &headers);
    let declaration = Declaration {
        template: f.get("template").to_string(),
        areas: f.all("area").iter().map(|a| a.to_string()).collect(),
        drill: f.get("drill") == "on",
        all_subscribers: f.get("all") == "on",
        text: f.get("text").to_string(),
        publish: f.get("publish") == "on",
    };
    let m = &staff.config.municipality;
    let ct = Tr::new(state.catalog.clone(), &m.language);
    match crisis::start(
        &*state.store,
        &ct,
        m,
        &lead(&state, &staff, &actor, &base),
        &declaration,
    )
    .await
    {
        Ok((c, _)) => {
            Redirect::to(&format!("/staff/crisis/{}?done=crisis-started", c.id)).into_response()
        }
        Err(CrisisError::Store(e)) => failed(t, e),
        Err(e) => {
            let msg = t.get(e.key());
            show_list(
                &state,
                t,
                &staff,
                Some(msg),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

struct LogRow {
    when: String,
    kind: String,
    actor: String,
    text: String,
}

struct InquiryRow {
    id: InquiryId,
    reference: String,
    channel: String,
    preview: String,
    status: String,
}

#[derive(Template)]
#[template(path = "crisis_room.html")]
struct RoomPage {
    t: Tr,
    c: Chrome,
    id: i64,
    name: String,
    drill: bool,
    ended: bool,
    may_lead: bool,
    areas: String,
    messages: Vec<MessageRow>,
    recipients: Vec<(String, i64)>,
    log: Vec<LogRow>,
    proposals: Vec<InquiryRow>,
    linked: Vec<InquiryRow>,
    notice: Option<String>,
    error: Option<String>,
}

async fn find(state: &AppState, staff: &Staff, id: i64) -> Result<Option<Crisis>, Response> {
    let t = Tr::new(state.catalog.clone(), &staff.config.municipality.language);
    state
        .store
        .crisis(staff.config.municipality.id, id)
        .await
        .map_err(|e| failed(t, e))
}

async fn room(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let notice = t.done(&q.done);
    show_room(&state, t, &staff, id, notice, None, StatusCode::OK).await
}

async fn show_room(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    id: i64,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let m = &staff.config.municipality;
    let c = match find(state, staff, id).await {
        Ok(Some(c)) => c,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(r) => return r,
    };
    let (messages, log, templates, areas, linked_ids) = match tokio::try_join!(
        state.store.crisis_messages(m.id, id),
        state.store.crisis_log(m.id, id),
        state.store.crisis_templates(m.id),
        state.store.areas(m.id),
        state.store.crisis_inquiries(m.id, id)
    ) {
        Ok(v) => v,
        Err(e) => return failed(t, e),
    };
    let proposals = if c.ended_at.is_none() {
        match crisis::proposals(&*state.store, m, id).await {
            Ok(p) => p,
            Err(e) => return failed(t, e),
        }
    } else {
        vec![]
    };
    let row = |id: InquiryId,
               reference: String,
               channel: torg_domain::Channel,
               preview: &str,
               status: torg_domain::InquiryStatus| InquiryRow {
        id,
        reference,
        channel: views::channel_label(&t, channel),
        preview: preview.chars().take(160).collect(),
        status: t.get(&format!("status-{}", status.as_str())),
    };
    let proposals = proposals
        .iter()
        .filter(|i| staff.sees_unit(i.unit_id))
        .map(|i| {
            row(
                i.id,
                i.reference.to_string(),
                i.channel,
                &i.preview,
                i.status,
            )
        })
        .collect();
    let mut linked = vec![];
    for inquiry_id in linked_ids.iter().take(500) {
        match state.store.inquiry(m.id, *inquiry_id).await {
            Ok(Some(i)) if staff.sees_unit(i.unit_id) => linked.push(row(
                i.id,
                i.reference.to_string(),
                i.channel,
                &i.preview,
                i.status,
            )),
            Ok(_) => {}
            Err(e) => return failed(t, e),
        }
    }
    let page = RoomPage {
        c: chrome(staff, &format!("/staff/crisis/{id}")),
        id,
        name: templates
            .iter()
            .find(|x| x.key == c.template)
            .map(|x| x.name.clone())
            .unwrap_or_else(|| c.template.clone()),
        drill: c.drill,
        ended: c.ended_at.is_some(),
        may_lead: leads(staff),
        areas: if c.areas.is_empty() {
            t.get("crisis-areas-all")
        } else {
            areas
                .iter()
                .filter(|a| c.areas.contains(&a.id))
                .map(|a| a.name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        },
        recipients: messages
            .iter()
            .map(|x| (views::when(x.sent_at, &m.time_zone), x.recipients))
            .collect(),
        messages: rows(&t, m, &messages),
        log: log
            .into_iter()
            .map(|l| LogRow {
                when: views::when(l.at, &m.time_zone),
                kind: t.get(&format!("crisis-log-{}", l.kind)),
                actor: l.actor,
                text: l.text,
            })
            .collect(),
        proposals,
        linked,
        notice,
        error,
        t,
    };
    render(status, &page)
}

/// The end of a crisis action: back to the room, with what happened or why not.
async fn after(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    id: i64,
    result: Result<(), CrisisError>,
    done: &str,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/staff/crisis/{id}?done={done}")).into_response(),
        Err(CrisisError::NotFound) => StatusCode::NOT_FOUND.into_response(),
        Err(CrisisError::Forbidden) => forbidden(t),
        Err(CrisisError::Store(e)) => failed(t, e),
        Err(e) => {
            let msg = t.get(e.key());
            show_room(
                state,
                t,
                staff,
                id,
                None,
                Some(msg),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn message(
    state: AppState,
    lang: String,
    staff: Staff,
    addr: ClientAddr,
    headers: HeaderMap,
    id: i64,
    raw: &[u8],
    end: bool,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, raw, leads(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let actor = Actor::user(&staff.user, addr.0);
    let base = base(&state, &headers);
    let m = &staff.config.municipality;
    let ct = Tr::new(state.catalog.clone(), &m.language);
    let result = crisis::update(
        &*state.store,
        &ct,
        m,
        &lead(&state, &staff, &actor, &base),
        id,
        crisis::Status {
            text: f.get("text"),
            end,
            publish: f.get("publish") == "on",
        },
    )
    .await
    .map(|_| ());
    // Ending what has ended (a second click, a colleague first) is no error.
    let result = match result {
        Err(CrisisError::Ended) if end => Ok(()),
        other => other,
    };
    let done = if end {
        "crisis-ended"
    } else {
        "crisis-updated"
    };
    after(&state, t, &staff, id, result, done).await
}

async fn update(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    headers: HeaderMap,
    Path(id): Path<i64>,
    RawForm(raw): RawForm,
) -> Response {
    message(state, lang, staff, addr, headers, id, &raw, false).await
}

async fn end(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    headers: HeaderMap,
    Path(id): Path<i64>,
    RawForm(raw): RawForm,
) -> Response {
    message(state, lang, staff, addr, headers, id, &raw, true).await
}

async fn note(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<i64>,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, staff.can(Permission::HandleInquiries)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let actor = Actor::user(&staff.user, addr.0);
    let m = &staff.config.municipality;
    let result = crisis::note(&*state.store, m, &actor, id, f.get("kind"), f.get("text"))
        .await
        .map(|_| ());
    after(&state, t, &staff, id, result, "crisis-noted").await
}

async fn link(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    headers: HeaderMap,
    Path(id): Path<i64>,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, staff.can(Permission::HandleInquiries)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let m = &staff.config.municipality;
    // Only inquiries the person sees are linked.
    let mut ids = vec![];
    for raw_id in f.all("inquiry") {
        let Ok(inquiry_id) = raw_id.parse::<InquiryId>() else {
            continue;
        };
        match state.store.inquiry(m.id, inquiry_id).await {
            Ok(Some(i)) if staff.sees_unit(i.unit_id) => ids.push(i.id),
            Ok(_) => {}
            Err(e) => return failed(t, e),
        }
    }
    let actor = Actor::user(&staff.user, addr.0);
    let base = base(&state, &headers);
    let result = crisis::link(
        &*state.store,
        m,
        &lead(&state, &staff, &actor, &base),
        id,
        &ids,
    )
    .await
    .map(|_| ());
    after(&state, t, &staff, id, result, "crisis-linked").await
}

async fn answer(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    headers: HeaderMap,
    Path(id): Path<i64>,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Err(r) = staff_form(&staff, &t, &raw, leads(&staff)) {
        return *r;
    }
    let actor = Actor::user(&staff.user, addr.0);
    let base = base(&state, &headers);
    let m = &staff.config.municipality;
    let result = crisis::answer_linked(&*state.store, m, &lead(&state, &staff, &actor, &base), id)
        .await
        .map(|_| ());
    after(&state, t, &staff, id, result, "crisis-answered").await
}

/// The crisis log as text, for the archive.
async fn log_export(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let m = &staff.config.municipality;
    let c = match find(&state, &staff, id).await {
        Ok(Some(c)) => c,
        Ok(None) => return StatusCode::NOT_FOUND.into_response(),
        Err(r) => return r,
    };
    match state.store.crisis_log(m.id, id).await {
        Ok(log) => (
            [
                (
                    header::CONTENT_TYPE,
                    "text/plain; charset=utf-8".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"krise-{id}-logg.txt\""),
                ),
            ],
            crisis::log_export(m, &c, &log),
        )
            .into_response(),
        Err(e) => failed(t, e),
    }
}
