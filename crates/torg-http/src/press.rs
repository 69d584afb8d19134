//! The press (`/staff/press`): the media log of contacts with journalists, kept by those who
//! speak for the municipality, and the possible press stories staff flag from an inquiry's
//! page (`POST /staff/inquiries/{id}/press`), which the communication chief sees on the inbox.

use crate::AppState;
use crate::admin::{DoneQuery, staff_form};
use crate::audit::ClientAddr;
use crate::auth::Staff;
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::staff::{chrome, failed, forbidden, visible_inquiry};
use crate::views::{self, Chrome, Lang, render};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::{SignedDuration, Timestamp};
use torg_core::actor::Actor;
use torg_core::press::{self, Contact, PressError};
use torg_domain::press::MediaKind;
use torg_domain::{InquiryId, Permission};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/staff/press", page)
        .post("/staff/press", log_contact)
        .post("/staff/inquiries/{id}/press", flag_story)
}

/// Whether the person keeps the media log (and is told of flagged stories).
pub(crate) fn keeps_log(staff: &Staff) -> bool {
    staff.can(Permission::SpeakPublicly)
}

struct LogRow {
    when: String,
    kind: String,
    who: String,
    topic: String,
    notes: String,
    inquiry: Option<InquiryId>,
    by: String,
}

#[derive(Template)]
#[template(path = "press.html")]
struct PressPage {
    t: Tr,
    c: Chrome,
    rows: Vec<LogRow>,
    at: String,
    notice: Option<String>,
    error: Option<String>,
}

/// How far back the page shows the log.
const SHOWN: SignedDuration = SignedDuration::from_hours(24 * 90);

async fn show(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let m = &staff.config.municipality;
    let now = Timestamp::now();
    let (log, users) = match tokio::try_join!(
        state.store.media_log(m.id, now - SHOWN, 500),
        state.store.list_users(m.id)
    ) {
        Ok(x) => x,
        Err(e) => return failed(t, e),
    };
    let rows = log
        .into_iter()
        .map(|e| LogRow {
            when: views::when(e.at, &m.time_zone),
            kind: t.get(&format!("press-kind-{}", e.kind.as_str())),
            who: [e.outlet.as_str(), e.person.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
            topic: e.topic,
            notes: e.notes,
            inquiry: e.inquiry_id.filter(|_| e.kind == MediaKind::Story),
            by: users
                .iter()
                .find(|u| u.id == e.by_user)
                .map(|u| u.full_name.clone())
                .unwrap_or_default(),
        })
        .collect();
    let page = PressPage {
        c: chrome(staff, "/staff/press"),
        rows,
        at: crate::publish::input_time(now, &m.time_zone),
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
    if !keeps_log(&staff) {
        return forbidden(t);
    }
    let notice = t.done(&q.done);
    show(&state, t, &staff, notice, None, StatusCode::OK).await
}

async fn log_contact(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, keeps_log(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let at = crate::publish::local_time(f.get("at"), &staff.config.municipality.time_zone)
        .unwrap_or_else(Timestamp::now);
    let contact = Contact {
        at,
        outlet: f.get("outlet"),
        person: f.get("person"),
        topic: f.get("topic"),
        notes: f.get("notes"),
    };
    let actor = Actor::user(&staff.user, addr.0);
    match press::log_contact(
        &*state.store,
        &actor,
        &staff.user,
        staff.config.municipality.id,
        contact,
    )
    .await
    {
        Ok(_) => Redirect::to("/staff/press?done=press-logged").into_response(),
        Err(PressError::Store(e)) => failed(t, e),
        Err(PressError::MayNot) => forbidden(t),
        Err(e) => {
            let msg = t.get(e.key());
            show(
                &state,
                t,
                &staff,
                None,
                Some(msg),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

async fn flag_story(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<InquiryId>,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, staff.can(Permission::HandleInquiries)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let inquiry = match visible_inquiry(&state, &t, &staff, id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let actor = Actor::user(&staff.user, addr.0);
    match press::flag_story(&*state.store, &actor, &staff.user, &inquiry, f.get("why")).await {
        Ok(_) => Redirect::to(&format!("/staff/inquiries/{id}?done=press-flagged")).into_response(),
        Err(PressError::Store(e)) => failed(t, e),
        Err(PressError::MayNot) => forbidden(t),
        Err(e) => {
            let msg = t.get(e.key());
            views::error_page(
                t,
                StatusCode::UNPROCESSABLE_ENTITY,
                "error-heading-invalid",
                msg,
                &format!("/staff/inquiries/{id}"),
            )
        }
    }
}

/// What the inbox tells those who keep the media log: the stories flagged this week, as
/// (inquiry, text).
pub(crate) async fn inbox_stories(
    state: &AppState,
    t: &Tr,
    staff: &Staff,
) -> Vec<(InquiryId, String)> {
    if !keeps_log(staff) {
        return vec![];
    }
    let m = &staff.config.municipality;
    match press::recent_stories(&*state.store, m.id, Timestamp::now()).await {
        Ok(list) => list
            .into_iter()
            .filter_map(|e| {
                let text = t.args(
                    "press-flagged-notice",
                    &[
                        ("reference", &e.topic),
                        ("why", &e.notes),
                        ("when", &views::when(e.at, &m.time_zone)),
                    ],
                );
                e.inquiry_id.map(|i| (i, text))
            })
            .collect(),
        Err(e) => {
            tracing::warn!(error = %e, "flagged press stories not read");
            vec![]
        }
    }
}
