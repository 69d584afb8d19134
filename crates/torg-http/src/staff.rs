//! The staff UI: login, the inbox and the inquiry page with reply, notes, assignment and
//! status. Every form carries the session's CSRF token.

use crate::AppState;
use crate::audit::{ClientAddr, record};
use crate::auth::{
    LOGIN_CSRF_COOKIE, SESSION_COOKIE, SESSION_HOURS, Staff, constant_time_eq, private_cookie,
    tenant_by_slug,
};
use crate::i18n::Tr;
use crate::ratelimit::LoginThrottle;
use crate::routes::Routes;
use crate::views::{self, Chrome, Lang, MessageView, cookie, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use torg_core::actor::Actor;
use torg_core::policies::PolicyError;
use torg_core::reply::{ReplyError, ReplyRequest};
use torg_core::secrets::{new_token, token_hash, verify_password_in_turn};
use torg_domain::deadline::{DeadlineState, deadline_state};
use torg_domain::reply::{Placeholders, fill_canned_reply};
use torg_domain::{Channel, InquiryStatus, MessageKind, Permission};
use torg_domain::{InquiryId, TenantId, UnitId, UserId};
use torg_store::{InquiryFilter, Municipality, Session, StatusFilter, Unit, User};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/staff/login", login_form)
        .post("/staff/login", login)
        .post("/staff/logout", logout)
        .get("/staff", inbox)
        .get("/staff/inquiries/{id}", inquiry_page)
        .post("/staff/inquiries/{id}/assign", assign)
        .post("/staff/inquiries/{id}/status", set_status)
        .post("/staff/inquiries/{id}/revoke-link", revoke_link)
        .post("/staff/inquiries/{id}/merge", merge)
        .post("/staff/inquiries/{id}/messages/{message}/split", split)
        .post("/staff/inquiries/{id}/hide", crate::moderation::hide)
        .post("/staff/inquiries/{id}/archive", crate::archive::decide)
        .get("/staff/attachments/{id}", attachment)
        .get("/staff/overview", overview)
        .post("/staff/duty/{id}/handover", handover)
}

/// Writing to an inquiry: a reply or note may carry files, so these take the larger body
/// limit of a form with an attachment.
pub(crate) fn writing_routes() -> Routes {
    Routes::new()
        .post("/staff/inquiries/{id}/reply", reply)
        .post("/staff/inquiries/{id}/note", note)
}

pub(crate) fn chrome(staff: &Staff, path: &str) -> Chrome {
    Chrome {
        brand: staff.config.municipality.name.clone(),
        path: path.to_string(),
        user_name: Some(staff.user.full_name.clone()),
        csrf: staff.csrf.clone(),
        nav_overview: staff.can(Permission::ViewOverview),
        nav_admin: staff.can(Permission::ManageUsers),
        nav_audit: staff.can(Permission::ViewAudit),
        nav_quarantine: crate::admin::sees_quarantine(staff),
        nav_phone: crate::phone::logs_calls(staff),
        nav_registry: crate::registry::sees_registry(staff),
        nav_chats: staff.can(Permission::ReadInquiries),
        nav_moderation: crate::moderation::moderates(staff),
        nav_archive: staff.can(Permission::DecideArchive),
        nav_press: crate::press::keeps_log(staff),
        nav_crisis: true,
        nav_listening: crate::listening::listens(staff),
        banner: staff.banner.clone(),
    }
}

pub(crate) fn failed(t: Tr, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "staff request failed");
    let msg = t.get("error-storage");
    views::error_page(
        t,
        StatusCode::SERVICE_UNAVAILABLE,
        "error-heading-unavailable",
        msg,
        "/staff",
    )
}

// ---------------------------------------------------------------- login

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    t: Tr,
    c: Chrome,
    municipalities: Vec<Municipality>,
    selected: String,
    username: String,
    csrf: String,
    error: Option<String>,
    /// Municipalities with single sign-on: (slug, name).
    sso: Vec<(String, String)>,
}

async fn login_page(
    state: &AppState,
    t: Tr,
    selected: String,
    username: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let municipalities = match state.store.list_municipalities().await {
        Ok(m) => m,
        Err(e) => return failed(t, e),
    };
    let mut sso = vec![];
    for m in &municipalities {
        if let Ok(Some(_)) = state.store.sso_provider(m.id).await {
            sso.push((m.slug.clone(), m.name.clone()));
        }
    }
    let csrf = new_token();
    let page = LoginPage {
        sso,
        c: Chrome::public("Torg", "/staff/login"),
        t,
        municipalities,
        selected,
        username,
        csrf: csrf.clone(),
        error,
    };
    let mut res = render(status, &page);
    if let Ok(v) = HeaderValue::from_str(&private_cookie(
        LOGIN_CSRF_COOKIE,
        &csrf,
        3600,
        state.settings.secure_cookies,
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

async fn login_form(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    login_page(
        &state,
        t,
        String::new(),
        String::new(),
        None,
        StatusCode::OK,
    )
    .await
}

#[derive(serde::Deserialize)]
struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    municipality: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

async fn login(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    addr: ClientAddr,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let Ok(Form(form)) = form else {
        let msg = t.get("error-bad-form");
        return login_page(
            &state,
            t,
            String::new(),
            String::new(),
            Some(msg),
            StatusCode::BAD_REQUEST,
        )
        .await;
    };
    let csrf_ok = cookie(&headers, LOGIN_CSRF_COOKIE)
        .is_some_and(|c| constant_time_eq(c.as_bytes(), form.csrf.as_bytes()));
    if !csrf_ok {
        let msg = t.get("error-form-expired");
        return login_page(
            &state,
            t,
            form.municipality,
            form.username,
            Some(msg),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    // Too many failures on this account from this address: wait (asked before the
    // municipality or the user is looked up, so the answer is the same for names that do not
    // exist). Many from everywhere: each answer comes slower.
    let account = LoginThrottle::account(&form.municipality, &form.username);
    if let Some(wait) = state.logins.wait(&account, &addr.0) {
        // Recorded for the municipality (named on the login page anyway), not the user.
        if let Ok(Some(c)) = tenant_by_slug(&state, &form.municipality).await {
            record(
                &state,
                c.municipality.id,
                "login".into(),
                "login.locked",
                String::new(),
                String::new(),
                &addr,
            )
            .await;
        }
        let msg = t.get("login-locked");
        let mut res = login_page(
            &state,
            t,
            form.municipality,
            form.username,
            Some(msg),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    tokio::time::sleep(state.logins.delay(&account)).await;
    let config = match tenant_by_slug(&state, &form.municipality).await {
        Ok(c) => c,
        Err(e) => return failed(t, e),
    };
    let user = match &config {
        Some(c) => match state
            .store
            .user_by_username(c.municipality.id, form.username.trim())
            .await
        {
            Ok(u) => u,
            Err(e) => return failed(t, e),
        },
        None => None,
    };
    // Hash even for unknown municipalities and users, so timing does not tell which exist.
    let dummy = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0000000000000000000000000000000000000000000";
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy.to_string());
    let password = form.password.clone();
    let ok = verify_password_in_turn(password, hash).await;
    let (Some(config), Some(user)) = (config.clone(), user.clone().filter(|u| ok && u.active))
    else {
        state.logins.failed(&account, &addr.0);
        // What was typed as a user name is not logged: it may be a password typed in the
        // wrong field. A known account is named by its id.
        tracing::info!(user = ?user.as_ref().map(|u| u.id), "failed login");
        if let (Some(c), Some(u)) = (&config, &user) {
            // Counted for the administrator's view; nobody is locked out by others' guesses.
            if let Err(e) = state
                .store
                .count_failed_login(c.municipality.id, u.id)
                .await
            {
                tracing::error!(error = %e, "could not count a failed login");
            }
            record(
                &state,
                c.municipality.id,
                format!("user:{}", u.id),
                "login.failed",
                format!("user:{}", u.id),
                String::new(),
                &addr,
            )
            .await;
        } else if let Some(c) = &config {
            record(
                &state,
                c.municipality.id,
                "login:unknown".into(),
                "login.failed",
                String::new(),
                String::new(),
                &addr,
            )
            .await;
        }
        let msg = t.get("login-wrong");
        return login_page(
            &state,
            t,
            form.municipality,
            form.username,
            Some(msg),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    };
    let tenant = config.municipality.id;
    state.logins.forget(&account, Some(&addr.0));
    if user.failed_logins > 0 || user.locked_until.is_some() {
        let _ = state.store.set_locked_until(tenant, user.id, None).await;
    }
    match start_session(&state, &headers, &addr, tenant, &user, "login").await {
        Ok(res) => res,
        Err(e) => failed(t, e),
    }
}

/// Logs `user` in: a fresh session (the one the browser had ends), its cookie, and the audit
/// entry `action` ("login", "login.sso").
pub(crate) async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    addr: &ClientAddr,
    tenant: TenantId,
    user: &User,
    action: &str,
) -> Result<Response, torg_store::StoreError> {
    if let Some(old) = cookie(headers, SESSION_COOKIE) {
        let old = token_hash(&old);
        state.cache.forget_session(&old);
        let _ = state.store.delete_session(&old).await;
    }
    let token = new_token();
    let session = Session {
        token_hash: token_hash(&token),
        tenant_id: tenant,
        user_id: user.id,
        csrf_token: new_token(),
        expires_at: Timestamp::now() + SignedDuration::from_hours(SESSION_HOURS),
        last_seen_at: jiff::Timestamp::now(),
    };
    state.store.create_session(session).await?;
    tracing::info!(%tenant, user = %user.id, action, "login");
    let who = format!("user:{}", user.id);
    record(state, tenant, who.clone(), action, who, String::new(), addr).await;
    let mut res = Redirect::to("/staff").into_response();
    let secure = state.settings.secure_cookies;
    for c in [
        private_cookie(SESSION_COOKIE, &token, SESSION_HOURS * 3600, secure),
        private_cookie(LOGIN_CSRF_COOKIE, "", 0, secure),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(res)
}

#[derive(serde::Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    staff: Staff,
    headers: HeaderMap,
    Form(form): Form<CsrfOnly>,
) -> Response {
    if let Err(r) = staff.check_csrf(&form.csrf) {
        return r.into_response();
    }
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let hash = token_hash(&token);
        state.cache.forget_session(&hash);
        let _ = state.store.delete_session(&hash).await;
    }
    let mut res = Redirect::to("/staff/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&private_cookie(
        SESSION_COOKIE,
        "",
        0,
        state.settings.secure_cookies,
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

// ---------------------------------------------------------------- inbox

#[derive(serde::Deserialize, Default)]
struct InboxQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    assignee: String,
    #[serde(default)]
    after: String,
}

struct InboxFilterView {
    q: String,
    unit: String,
    status: String,
    channel: String,
    assignee: String,
}

struct InboxRow {
    id: InquiryId,
    reference: String,
    time_left: String,
    /// "overdue", "warning" or "".
    state: &'static str,
    status: String,
    channel: String,
    citizen: String,
    topic: Option<String>,
    preview: String,
    /// The name and the preview in pieces, those a search found marked.
    citizen_marked: Vec<(String, bool)>,
    preview_marked: Vec<(String, bool)>,
    unit: String,
    assignee: String,
    /// Linked to a crisis that goes on.
    crisis: bool,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    t: Tr,
    c: Chrome,
    f: InboxFilterView,
    units: Vec<Unit>,
    users: Vec<User>,
    statuses: Vec<(String, String)>,
    channels: Vec<(String, String)>,
    rows: Vec<InboxRow>,
    next_url: Option<String>,
    duties: Vec<DutyView>,
    my_channels: Vec<InboxRow>,
    /// (name, staffing note, ends in words) of the planned peak now.
    peak: Option<(String, String, String)>,
    /// Messages staff are told before the public (and a week after).
    notices: Vec<String>,
    /// Possible press stories flagged this week (for those who keep the media log).
    stories: Vec<(InquiryId, String)>,
    /// New listening matches, for those who work with them.
    heard: i64,
    /// Crises going on: (id, headline, inquiries linked), their inquiries together in the
    /// crisis room.
    crises: Vec<(i64, String, usize)>,
    /// "12 inquiries found", when searching.
    found: Option<String>,
}

/// Who is on duty for a channel group, for the inbox.
struct DutyView {
    /// The channel group's code (`public`, `all`, a channel).
    code: String,
    group: String,
    now_name: String,
    until: String,
    next_name: String,
    previous_note: String,
    /// The current shift, when it is the signed-in user's: they write the handover note.
    my_shift: Option<(i64, String)>,
}

async fn duty_views(
    state: &AppState,
    t: &Tr,
    staff: &Staff,
    users: &[User],
    now: Timestamp,
) -> Result<Vec<DutyView>, torg_store::StoreError> {
    use torg_domain::duty::{next_on_duty, on_duty, previous_shift};
    let window = SignedDuration::from_hours(24 * 60);
    let shifts = state
        .store
        .shifts(staff.config.municipality.id, now - window, now + window)
        .await?;
    let mut groups: Vec<&str> = shifts.iter().map(|s| s.group.as_str()).collect();
    groups.sort();
    groups.dedup();
    let name = |id: UserId| {
        users
            .iter()
            .find(|u| u.id == id)
            .map(|u| u.full_name.clone())
            .unwrap_or_else(|| "–".into())
    };
    let zone = &staff.config.municipality.time_zone;
    Ok(groups
        .into_iter()
        .filter_map(|g| {
            let current = on_duty(&shifts, g, now)?;
            Some(DutyView {
                code: g.to_string(),
                group: t.get(&format!("duty-group-{g}")),
                now_name: name(current.user_id),
                until: views::in_words(t, current.ends_at, zone),
                next_name: next_on_duty(&shifts, g, now)
                    .map(|s| name(s.user_id))
                    .unwrap_or_else(|| "–".into()),
                previous_note: previous_shift(&shifts, g, now)
                    .map(|s| s.handover_note.clone())
                    .unwrap_or_default(),
                my_shift: (current.user_id == staff.user.id)
                    .then(|| (current.id, current.handover_note.clone())),
            })
        })
        .collect())
}

#[derive(serde::Deserialize)]
struct HandoverForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

/// The person on duty writes the note the next shift reads.
async fn handover(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<i64>,
    Form(form): Form<HandoverForm>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Err(r) = staff.check_csrf(&form.csrf) {
        return r.into_response();
    }
    let actor = Actor::user(&staff.user, addr.0);
    match torg_core::policies::set_handover_note(
        &*state.store,
        &actor,
        staff.user.id,
        staff.config.municipality.id,
        id,
        &form.note,
        Timestamp::now(),
    )
    .await
    {
        Ok(()) => Redirect::to("/staff").into_response(),
        Err(PolicyError::NotYourShift) => {
            (StatusCode::FORBIDDEN, t.get("error-forbidden")).into_response()
        }
        Err(PolicyError::HandoverTooLong) => {
            (StatusCode::UNPROCESSABLE_ENTITY, t.get("error-too-long")).into_response()
        }
        Err(e) => failed(t, e),
    }
}

pub const INBOX_PAGE_SIZE: u32 = 50;

fn inbox_row(
    t: &Tr,
    s: torg_store::InquirySummary,
    now: Timestamp,
    permille: i64,
    unit_names: &HashMap<UnitId, &str>,
    user_names: &HashMap<UserId, &str>,
) -> InboxRow {
    let (time_left, state) = row_deadline(t, &s, now, permille);
    InboxRow {
        id: s.id,
        reference: s.reference.to_string(),
        time_left,
        state,
        status: views::status_label(t, s.status),
        channel: views::channel_label(t, s.channel),
        citizen_marked: vec![(s.citizen_name.clone(), false)],
        preview_marked: vec![(s.preview.clone(), false)],
        citizen: s.citizen_name,
        topic: s.topic.map(|c| views::topic_label(t, &c)),
        preview: s.preview,
        unit: unit_names.get(&s.unit_id).unwrap_or(&"–").to_string(),
        assignee: s
            .assignee_id
            .and_then(|a| user_names.get(&a).map(|n| n.to_string()))
            .unwrap_or_else(|| "–".into()),
        crisis: false,
    }
}

/// The deadline cell of an inbox row: time left in words, and the escalation state.
fn row_deadline(
    t: &Tr,
    s: &torg_store::InquirySummary,
    now: Timestamp,
    permille: i64,
) -> (String, &'static str) {
    if s.status == InquiryStatus::Closed {
        return (t.get("time-closed"), "");
    }
    let left = views::time_left(t, s.deadline_at, now);
    match deadline_state(s.received_at, s.deadline_at, now, permille) {
        DeadlineState::Overdue => (left, "overdue"),
        DeadlineState::Warning => (t.get1("time-warning", "time", &left), "warning"),
        DeadlineState::InTime => (left, ""),
    }
}

struct OverviewRow {
    unit: String,
    unit_id: UnitId,
    open: i64,
    warning: i64,
    overdue: i64,
    /// Widths of the bar parts in the SVG, in px.
    w_in_time: i64,
    w_warning: i64,
    w_overdue: i64,
}

#[derive(Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    t: Tr,
    c: Chrome,
    rows: Vec<OverviewRow>,
    total_open: i64,
    total_warning: i64,
    total_overdue: i64,
    percent: i64,
    chart_height: i64,
}

/// Deadlines per unit: open, near the deadline and overdue, as a table and a chart.
async fn overview(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if !staff.can(Permission::ViewOverview) {
        return forbidden(t);
    }
    let permille = state.settings.escalation_permille();
    let counts = match state
        .store
        .deadline_counts(staff.config.municipality.id, Timestamp::now(), permille)
        .await
    {
        Ok(c) => c,
        Err(e) => return failed(t, e),
    };
    let max = counts.iter().map(|c| c.open).max().unwrap_or(1).max(1);
    let width = |n: i64| n * 400 / max;
    let rows: Vec<OverviewRow> = staff
        .config
        .units
        .iter()
        .filter(|u| staff.sees_unit(u.id))
        .map(|u| {
            let c = counts.iter().find(|c| c.unit_id == u.id);
            let (open, warning, overdue) = c
                .map(|c| (c.open, c.warning, c.overdue))
                .unwrap_or_default();
            OverviewRow {
                unit: u.name.clone(),
                unit_id: u.id,
                open,
                warning,
                overdue,
                w_in_time: width(open - warning - overdue),
                w_warning: width(warning),
                w_overdue: width(overdue),
            }
        })
        .collect();
    let page = OverviewPage {
        c: chrome(&staff, "/staff/overview"),
        total_open: rows.iter().map(|r| r.open).sum(),
        total_warning: rows.iter().map(|r| r.warning).sum(),
        total_overdue: rows.iter().map(|r| r.overdue).sum(),
        percent: permille / 10,
        chart_height: rows.len() as i64 * 28 + 8,
        rows,
        t,
    };
    render(StatusCode::OK, &page)
}

fn status_options(t: &Tr, with_open: bool) -> Vec<(String, String)> {
    let mut v = vec![];
    if with_open {
        v.push(("".to_string(), t.get("filter-not-closed")));
    }
    v.extend(
        InquiryStatus::ALL
            .iter()
            .map(|s| (s.as_str().to_string(), views::status_label(t, *s))),
    );
    if with_open {
        v.push(("any".to_string(), t.get("filter-all")));
    }
    v
}

fn query_string(q: &InboxQuery, after: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "?q={}&unit={}&status={}&channel={}&assignee={}&after={}",
        enc(&q.q),
        enc(&q.unit),
        enc(&q.status),
        enc(&q.channel),
        enc(&q.assignee),
        enc(after)
    )
}

async fn inbox(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Query(q): Query<InboxQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let tenant = staff.config.municipality.id;
    let filter = InquiryFilter {
        unit_id: q.unit.parse().ok(),
        status: match q.status.as_str() {
            "" => StatusFilter::NotClosed,
            "any" => StatusFilter::Any,
            s => s.parse().map(StatusFilter::Only).unwrap_or_default(),
        },
        channel: q.channel.parse().ok(),
        assignee_id: if q.assignee == "me" {
            Some(staff.user.id)
        } else {
            q.assignee.parse().ok()
        },
        search: Some(q.q.clone()).filter(|s| !s.trim().is_empty()),
        visible_units: Some(staff.visible_units()),
    };
    let after = torg_core::search::ListCursor::decode(&q.after);
    let query = filter
        .search
        .as_deref()
        .and_then(torg_domain::search::Query::parse);
    let (page, users) = match tokio::try_join!(
        torg_core::search::list(
            &*state.store,
            tenant,
            &filter,
            after,
            INBOX_PAGE_SIZE,
            Timestamp::now()
        ),
        state.store.list_users(tenant),
    ) {
        Ok(x) => x,
        Err(e) => return failed(t, e),
    };
    // A search's first window counted its hits; a later page or a reference is counted.
    let hits = match (page.hits, &filter.search) {
        (Some(n), _) => Some(n),
        (None, Some(_)) => match state.store.count_matching(tenant, &filter).await {
            Ok(n) => Some(n),
            Err(e) => return failed(t, e),
        },
        (None, None) => None,
    };
    let hits = hits.map(|n| {
        if n >= torg_store::SEARCH_COUNT_CAP {
            t.get1("inbox-found-many", "count", &n.to_string())
        } else {
            t.get1("inbox-found", "count", &n.to_string())
        }
    });
    let unit_names: HashMap<UnitId, &str> = staff
        .config
        .units
        .iter()
        .map(|u| (u.id, u.name.as_str()))
        .collect();
    let user_names: HashMap<UserId, &str> =
        users.iter().map(|u| (u.id, u.full_name.as_str())).collect();
    let now = Timestamp::now();
    let state_permille = state.settings.escalation_permille();
    let next_url = page
        .next
        .map(|c| format!("/staff{}", query_string(&q, &c.encode())));
    let rows: Vec<InboxRow> = page
        .items
        .into_iter()
        .map(|s| inbox_row(&t, s, now, state_permille, &unit_names, &user_names))
        .map(|mut r| {
            if let Some(query) = &query {
                r.citizen_marked = views::marked(&r.citizen, query);
                r.preview_marked = views::marked(&r.preview, query);
            }
            r
        })
        .collect();
    let duties = match duty_views(&state, &t, &staff, &users, now).await {
        Ok(d) => d,
        Err(e) => return failed(t, e),
    };
    // The person on duty sees their channels' open inquiries first.
    // The person on duty sees their channels' open inquiries first.
    let mut found = vec![];
    for duty in duties.iter().filter(|d| d.my_shift.is_some()) {
        for channel in torg_domain::duty::channels_of(&duty.code) {
            let filter = InquiryFilter {
                channel: Some(channel),
                visible_units: Some(staff.visible_units()),
                ..Default::default()
            };
            match state.store.list_inquiries(tenant, &filter, None, 10).await {
                Ok(rows) => found.extend(rows),
                Err(e) => return failed(t, e),
            }
        }
    }
    found.sort_by_key(|s| (s.deadline_at, s.received_at, s.id));
    found.dedup_by_key(|s| s.id);
    let my_channels: Vec<InboxRow> = found
        .into_iter()
        .take(10)
        .map(|s| inbox_row(&t, s, now, state_permille, &unit_names, &user_names))
        .collect();
    let peak = torg_domain::deadline::active_peak(&staff.config.peaks, now).map(|p| {
        (
            p.name.clone(),
            p.staffing_note.clone(),
            views::in_words(&t, p.ends_at, &staff.config.municipality.time_zone),
        )
    });
    let notices = crate::publish::staff_notices(&state, &t, &staff).await;
    let stories = crate::press::inbox_stories(&state, &t, &staff).await;
    let heard = crate::listening::inbox_matches(&state, &staff).await;
    let (crises, linked) = crate::crisis::inbox_crises(&state, &staff).await;
    let mut rows = rows;
    let mut my_channels = my_channels;
    for r in rows.iter_mut().chain(my_channels.iter_mut()) {
        r.crisis = linked.contains(&r.id);
    }
    let page = InboxPage {
        found: hits,
        notices,
        stories,
        heard,
        crises,
        peak,
        duties,
        my_channels,
        c: chrome(&staff, "/staff"),
        f: InboxFilterView {
            q: q.q.clone(),
            unit: q.unit.clone(),
            status: q.status.clone(),
            channel: q.channel.clone(),
            assignee: q.assignee.clone(),
        },
        units: staff
            .config
            .units
            .iter()
            .filter(|u| staff.sees_unit(u.id))
            .cloned()
            .collect(),
        users,
        statuses: status_options(&t, true),
        channels: Channel::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), views::channel_label(&t, *c)))
            .collect(),
        rows,
        next_url,
        t,
    };
    render(StatusCode::OK, &page)
}

// ---------------------------------------------------------------- one inquiry

struct InquiryView {
    id: InquiryId,
    reference: String,
    status: String,
    status_code: String,
    channel: String,
    citizen: String,
    contact: String,
    topic: String,
    unit: String,
    assignee: String,
    received: String,
    deadline: String,
    time_left: String,
}

struct CannedView {
    id: i64,
    title: String,
    text: String,
}

#[derive(Template)]
#[template(path = "inquiry.html")]
struct InquiryPage {
    t: Tr,
    c: Chrome,
    i: InquiryView,
    messages: Vec<MessageView>,
    unit_options: Vec<(UnitId, String, bool)>,
    user_options: Vec<(UserId, String, bool)>,
    statuses: Vec<(String, String)>,
    canned: Vec<CannedView>,
    prefill: String,
    confirm_personal_data: bool,
    /// The plain-language advice on the draft, when the writer asked for it.
    plain: Option<crate::views::PlainAdvice>,
    /// For an SMS inquiry: what the reply box's text takes as SMS, in words.
    sms_segments: Option<String>,
    signature: String,
    can_write: bool,
    /// Replies on public channels need the right to speak for the municipality.
    can_reply: bool,
    public_channel: bool,
    /// A public comment or post: the writer chooses to answer in public or in private.
    can_answer_privately: bool,
    /// The reply may carry files (not on SMS and social media).
    can_attach: bool,
    /// More than one citizen's message: one may be split out.
    can_split: bool,
    /// The inquiries merged into this one, as "reference (channel)".
    merged: Option<String>,
    /// In a merged matter: the channel replies go out on (where the citizen wrote last).
    answers_on: Option<String>,
    /// The largest file, for people ("25.0 MB").
    max_file: String,
    /// A comment on a Facebook page or Instagram account: it can be hidden, with a reason.
    hide_reasons: Vec<(String, String)>,
    /// A live chat: the newest message's id, from which the page follows it live.
    chat_after: Option<i64>,
    /// A chat someone else (or nobody) answers: the staff member can take it over.
    can_take_over: bool,
    /// Torg's archive proposal, the archivist's decision, and for a request for access the
    /// reply template.
    archive: crate::archive::ArchivePanel,
    /// A public comment the guard or the keyword list flags: what for, in words.
    moderation_flags: Option<String>,
    /// The ready private reply was asked for: "answer privately" is preselected.
    answer_privately: bool,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct InquiryQuery {
    #[serde(default)]
    canned: String,
    #[serde(default)]
    done: String,
    /// A request for access: the answer (granted, partly, refused) and the ground of a
    /// refusal, to fill the reply box from the template.
    #[serde(default)]
    access: String,
    #[serde(default)]
    ground: String,
    /// The ready reply that moves a flagged public comment to a private conversation.
    #[serde(default)]
    private_reply: String,
    /// A reply sent back for confirmation: shown again in the reply box.
    #[serde(skip)]
    draft: Option<String>,
    /// The reply box asks to confirm that personal data may go out in public.
    #[serde(skip)]
    confirm_personal_data: bool,
    /// The draft's plain-language advice is shown.
    #[serde(skip)]
    plain_check: bool,
}

async fn inquiry_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<InquiryId>,
    Query(q): Query<InquiryQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    // A look after one's own change is not a new read.
    let reader = q.done.is_empty().then_some(&addr);
    show_inquiry(&state, t, &staff, id, &q, None, StatusCode::OK, reader).await
}

/// The inquiry, when it exists in the municipality and the staff member sees its unit.
/// Otherwise the "not found" page: whether an inquiry exists is not told to those who may not
/// see it.
pub(crate) async fn visible_inquiry(
    state: &AppState,
    t: &Tr,
    staff: &Staff,
    id: InquiryId,
) -> Result<torg_store::Inquiry, Response> {
    match state.store.inquiry(staff.config.municipality.id, id).await {
        Ok(Some(i)) if staff.sees_unit(i.unit_id) => Ok(i),
        Ok(_) => {
            let msg = t.get("error-unknown-inquiry");
            Err(views::error_page(
                t.clone(),
                StatusCode::NOT_FOUND,
                "error-heading-not-found",
                msg,
                "/staff",
            ))
        }
        Err(e) => Err(failed(t.clone(), e)),
    }
}

/// The page for a staff member who may not do what they asked.
pub(crate) fn forbidden(t: Tr) -> Response {
    let msg = t.get("error-forbidden");
    views::error_page(
        t,
        StatusCode::FORBIDDEN,
        "error-heading-forbidden",
        msg,
        "/staff",
    )
}

/// A matter merged from several inquiries, as its page shows it.
struct Matter {
    members: Vec<torg_store::Inquiry>,
    /// Every message, oldest first, with the inquiry it came on.
    thread: Vec<(InquiryId, torg_store::Message)>,
    deliveries: Vec<(i64, torg_store::DeliveryState)>,
    /// Where replies go out: the inquiry the citizen wrote on last.
    answering: torg_store::Inquiry,
}

/// The matter `primary` stands for, when inquiries were merged into it.
async fn merged_matter(
    state: &AppState,
    primary: &torg_store::Inquiry,
) -> Result<Option<Matter>, torg_store::StoreError> {
    let store = &*state.store;
    let (_, members) = torg_core::merge::group(store, primary).await?;
    if members.is_empty() {
        return Ok(None);
    }
    let thread = torg_core::merge::thread(store, primary, &members, true).await?;
    let mut deliveries = vec![];
    for m in &members {
        deliveries.extend(store.deliveries(m.tenant_id, m.id).await?);
    }
    let answering = torg_core::merge::answering(store, primary).await?;
    Ok(Some(Matter {
        members,
        thread,
        deliveries,
        answering,
    }))
}

/// The inquiry page; with `reader`, a read of a sensitive inquiry is logged.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn show_inquiry(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    id: InquiryId,
    q: &InquiryQuery,
    error: Option<String>,
    status: StatusCode,
    reader: Option<&ClientAddr>,
) -> Response {
    let tenant = staff.config.municipality.id;
    let municipality = &staff.config.municipality;
    let inquiry = match visible_inquiry(state, &t, staff, id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    // A merged inquiry is read, and answered, in the matter it was merged into.
    if let Some(primary) = inquiry.merged_into {
        return Redirect::to(&format!("/staff/inquiries/{primary}?done=merged-here"))
            .into_response();
    }
    // Reading an inquiry of a sensitive unit (health, social care) is itself logged.
    if let Some(addr) = reader
        && staff.unit_access(inquiry.unit_id).sensitive
    {
        audit_inquiry(state, staff, addr, "inquiry.read", id, String::new()).await;
    }
    let (messages, users, canned, mut deliveries, record, keywords) = match tokio::try_join!(
        state.store.messages(tenant, id, true),
        state.store.list_users(tenant),
        state.store.list_canned_replies(tenant),
        state.store.deliveries(tenant, id),
        state.store.archive_record(tenant, id),
        state.store.moderation_keywords(tenant)
    ) {
        Ok(x) => x,
        Err(e) => return failed(t, e),
    };
    // A matter merged from several inquiries: one thread of them all, each message marked
    // with where it came; replies go where the citizen wrote last.
    let matter = match merged_matter(state, &inquiry).await {
        Ok(m) => m,
        Err(e) => return failed(t, e),
    };
    let (messages, origins): (Vec<torg_store::Message>, Vec<Option<String>>) = match &matter {
        None => (messages, vec![]),
        Some(m) => {
            deliveries.extend(m.deliveries.iter().cloned());
            m.thread
                .iter()
                .map(|(from, msg)| {
                    let of = m.members.iter().chain([&inquiry]).find(|i| i.id == *from);
                    let origin = of.map(|i| {
                        format!("{}, {}", views::channel_label(&t, i.channel), i.reference)
                    });
                    (msg.clone(), origin)
                })
                .unzip()
        }
    };
    let answering = matter
        .as_ref()
        .map(|m| m.answering.clone())
        .unwrap_or_else(|| inquiry.clone());
    // A citizen's message is split out where there are several, not in a social thread.
    let can_split = !inquiry.channel.is_public()
        && staff.access.may_handle(staff.unit_access(inquiry.unit_id))
        && messages
            .iter()
            .filter(|m| m.kind == MessageKind::Inbound)
            .count()
            > 1;
    let zone = &municipality.time_zone;
    let signing_unit = signing_unit(staff, &inquiry);
    let signature =
        torg_core::reply::signature_for(&inquiry, municipality, &signing_unit, Some(&staff.user));
    let reference = inquiry.reference.to_string();
    let placeholders = Placeholders {
        citizen_name: &inquiry.citizen_name,
        reference: &reference,
        signer: &signature,
    };
    let canned: Vec<CannedView> = canned
        .into_iter()
        .map(|c| CannedView {
            id: c.id,
            title: c.title,
            text: fill_canned_reply(&c.body, &placeholders),
        })
        .collect();
    let moderation_flags = inquiry.channel.is_public().then(|| {
        let text = messages
            .iter()
            .filter(|m| m.kind == MessageKind::Inbound)
            .map(|m| m.body.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        torg_domain::moderation::flags(&text, &keywords)
    });
    let moderation_flags = moderation_flags
        .filter(|f| !f.is_empty())
        .map(|f| crate::moderation::flag_labels(&t, &f).join(", "));
    let answer_privately = !q.private_reply.is_empty() && inquiry.channel.is_public();
    let prefill = q.draft.clone().unwrap_or_else(|| {
        if answer_privately {
            return torg_domain::moderation::private_reply(&inquiry.language).to_string();
        }
        crate::archive::access_reply(&t, staff.config.country(), &inquiry, &q.access, &q.ground)
            .unwrap_or_else(|| {
                q.canned
                    .parse::<i64>()
                    .ok()
                    .and_then(|cid| canned.iter().find(|c| c.id == cid))
                    .map(|c| c.text.clone())
                    .unwrap_or_default()
            })
    });
    let plain = if q.plain_check {
        let jargon = match state.store.jargon(tenant).await {
            Ok(j) => j,
            Err(e) => return failed(t, e),
        };
        Some(crate::views::plain_advice(
            &t,
            &municipality.language,
            &prefill,
            jargon,
        ))
    } else {
        None
    };
    let archive = crate::archive::panel(
        &t,
        staff,
        &inquiry,
        &messages,
        record.as_ref(),
        &users,
        &municipality.time_zone,
    );
    let time_left = if inquiry.status == InquiryStatus::Closed {
        t.get("time-closed")
    } else {
        views::time_left(&t, inquiry.deadline_at, Timestamp::now())
    };
    let contact = [inquiry.contact_email.clone(), inquiry.contact_phone.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    let notice = t.done(&q.done);
    let chat_after = messages.iter().map(|m| m.id).max().unwrap_or(0);
    let page = InquiryPage {
        archive,
        moderation_flags,
        answer_privately,
        c: chrome(staff, &format!("/staff/inquiries/{id}")),
        i: InquiryView {
            id,
            reference,
            status: views::status_label(&t, inquiry.status),
            status_code: inquiry.status.as_str().to_string(),
            channel: views::channel_label(&t, inquiry.channel),
            citizen: inquiry.citizen_name.clone(),
            contact,
            topic: inquiry
                .topic
                .as_deref()
                .map(|c| views::topic_label(&t, c))
                .unwrap_or_else(|| "–".into()),
            unit: staff
                .config
                .unit(inquiry.unit_id)
                .map(|u| u.name.clone())
                .unwrap_or_default(),
            assignee: inquiry
                .assignee_id
                .and_then(|a| users.iter().find(|u| u.id == a))
                .map(|u| u.full_name.clone())
                .unwrap_or_else(|| "–".into()),
            received: views::when(inquiry.received_at, zone),
            deadline: views::when(inquiry.deadline_at, zone),
            time_left,
        },
        can_split,
        messages: {
            let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
            let inbound: Vec<bool> = messages
                .iter()
                .map(|m| m.kind == MessageKind::Inbound)
                .collect();
            let mut views = views::message_views(&t, messages, zone, |aid| {
                format!("/staff/attachments/{aid}")
            });
            for (view, id) in views.iter_mut().zip(ids.iter().copied()) {
                view.delivery = deliveries
                    .iter()
                    .find(|(m, _)| *m == id)
                    .map(|(_, s)| views::delivery_line(&t, s, zone));
            }
            for (view, origin) in views.iter_mut().zip(origins) {
                view.origin = origin;
            }
            for ((view, id), inbound) in views.iter_mut().zip(&ids).zip(&inbound) {
                if can_split && *inbound {
                    view.split_url = Some(format!(
                        "/staff/inquiries/{}/messages/{id}/split",
                        inquiry.id
                    ));
                }
            }
            views
        },
        unit_options: staff
            .config
            .units
            .iter()
            .map(|u| (u.id, u.name.clone(), u.id == inquiry.unit_id))
            .collect(),
        user_options: users
            .iter()
            .map(|u| (u.id, u.full_name.clone(), Some(u.id) == inquiry.assignee_id))
            .collect(),
        statuses: status_options(&t, false),
        canned,
        sms_segments: (answering.channel == torg_domain::Channel::Sms).then(|| {
            let parts = torg_domain::sms::segments(&torg_domain::sms::gsm_friendly(&prefill));
            t.args(
                "inquiry-sms-segments",
                &[
                    ("count", &parts.count.to_string()),
                    ("left", &parts.left_in_last.to_string()),
                ],
            )
        }),
        prefill,
        confirm_personal_data: q.confirm_personal_data,
        plain,
        signature,
        can_write: staff.access.may_handle(staff.unit_access(inquiry.unit_id)),
        can_reply: staff
            .access
            .may_reply(staff.unit_access(inquiry.unit_id), inquiry.channel)
            && staff
                .access
                .may_reply(staff.unit_access(inquiry.unit_id), answering.channel),
        public_channel: inquiry.channel.is_public(),
        can_answer_privately: torg_core::social::reply_address(&answering, false)
            .is_some_and(|a| a.target.is_public()),
        can_attach: answering.channel.carries_files(),
        merged: matter.as_ref().map(|m| {
            m.members
                .iter()
                .map(|i| format!("{} ({})", i.reference, views::channel_label(&t, i.channel)))
                .collect::<Vec<_>>()
                .join(", ")
        }),
        answers_on: matter
            .as_ref()
            .map(|_| views::channel_label(&t, answering.channel)),
        max_file: views::size(state.settings.limits.max_attachment_bytes as i64),
        chat_after: (inquiry.channel == torg_domain::Channel::Chat).then_some(chat_after),
        can_take_over: inquiry.channel == torg_domain::Channel::Chat
            && inquiry.status != torg_domain::InquiryStatus::Closed
            && inquiry.assignee_id != Some(staff.user.id)
            && staff.access.may_handle(staff.unit_access(inquiry.unit_id)),
        hide_reasons: if crate::moderation::can_hide(staff, &inquiry) {
            crate::moderation::reason_options(&t)
        } else {
            vec![]
        },
        notice,
        error,
        t,
    };
    render(status, &page)
}

#[derive(serde::Deserialize, Default)]
struct BodyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
    /// "on" when the writer confirmed that what the personal-data guard found may go out.
    #[serde(default)]
    confirm_personal_data: String,
    /// "private" to answer a public comment or post in private (Meta's private reply, a
    /// Mastodon direct message).
    #[serde(default)]
    answer_in: String,
    /// "1": not sent; the draft comes back with the plain-language advice.
    #[serde(default)]
    check: String,
}

/// Reads a reply or note as posted: urlencoded (the live chat's script, a form without files)
/// or multipart (the reply form with its file field). The refusal is a catalogue key with its
/// status.
async fn read_posted(
    req: axum::extract::Request,
) -> Result<(BodyForm, Vec<torg_store::NewAttachment>), (StatusCode, &'static str)> {
    use axum::extract::{FromRequest, Multipart};
    let multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if !multipart {
        let Form(form) = Form::<BodyForm>::from_request(req, &())
            .await
            .map_err(|e| (e.status(), "error-bad-form"))?;
        return Ok((form, vec![]));
    }
    let mut parts = Multipart::from_request(req, &())
        .await
        .map_err(|e| (e.status(), "error-bad-form"))?;
    let (mut form, mut files) = (BodyForm::default(), vec![]);
    while let Some(field) = parts
        .next_field()
        .await
        .map_err(|e| (e.status(), "error-bad-form"))?
    {
        let name = field.name().unwrap_or_default().to_string();
        let filename = field.file_name().map(str::to_string);
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_string();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| (e.status(), "error-too-large"))?;
        if name == "attachment" {
            // An empty file field is no file.
            if let Some(filename) = filename.filter(|f| !f.is_empty()) {
                files.push(torg_store::NewAttachment {
                    filename,
                    content_type,
                    data: bytes.to_vec(),
                });
            }
            continue;
        }
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| (StatusCode::BAD_REQUEST, "error-invalid-encoding"))?;
        match name.as_str() {
            "csrf" => form.csrf = text,
            "body" => form.body = text,
            "confirm_personal_data" => form.confirm_personal_data = text,
            "answer_in" => form.answer_in = text,
            "check" => form.check = text,
            _ => {}
        }
    }
    Ok((form, files))
}

/// The kind's name as the guard's output spells it (`fodselsnummer`, `d_nummer`, …).
fn serde_plain_kind(kind: torg_domain::personal_data::Kind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', "-")))
        .unwrap_or_default()
}

/// What is written, and how: `live` when the page's script sent it (a live chat), which
/// wants 204 rather than a new page.
struct Writing {
    kind: MessageKind,
    live: bool,
}

async fn write_message(
    state: AppState,
    lang: String,
    staff: Staff,
    addr: ClientAddr,
    id: InquiryId,
    req: axum::extract::Request,
    Writing { kind, live }: Writing,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let (form, files) = match read_posted(req).await {
        Ok(posted) => posted,
        Err((status, key)) => {
            let msg = t.get(key);
            return show_inquiry(
                &state,
                t,
                &staff,
                id,
                &InquiryQuery::default(),
                Some(msg),
                status,
                None,
            )
            .await;
        }
    };
    if let Err(r) = staff.check_csrf(&form.csrf) {
        return r.into_response();
    }
    let inquiry = match visible_inquiry(&state, &t, &staff, id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let unit_access = staff.unit_access(inquiry.unit_id);
    let allowed = if kind == MessageKind::Note {
        staff.access.may_handle(unit_access)
    } else {
        // In a merged matter the reply goes out where the citizen wrote last: speaking on a
        // public channel there takes the right to.
        let answering = match torg_core::merge::answering(&*state.store, &inquiry).await {
            Ok(a) => a,
            Err(e) => return failed(t, e),
        };
        staff.access.may_reply(unit_access, inquiry.channel)
            && staff.access.may_reply(unit_access, answering.channel)
    };
    if !allowed {
        return forbidden(t);
    }
    if form.check == "1" {
        // Advice only: nothing is stored or sent.
        let q = InquiryQuery {
            draft: Some(form.body.clone()),
            plain_check: true,
            private_reply: if form.answer_in == "private" {
                "1".into()
            } else {
                String::new()
            },
            ..Default::default()
        };
        return show_inquiry(&state, t, &staff, id, &q, None, StatusCode::OK, None).await;
    }
    let municipality = &staff.config.municipality;
    let unit = signing_unit(&staff, &inquiry);
    let written = torg_core::reply::reply(
        &*state.store,
        &*state.chats,
        municipality,
        &Actor::user(&staff.user, addr.0),
        &state.settings.limits,
        Timestamp::now(),
        ReplyRequest {
            inquiry: &inquiry,
            unit: &unit,
            author: Some(&staff.user),
            kind,
            body: &form.body,
            // On a social network the answer goes where the inquiry came from, or privately.
            privately: form.answer_in == "private",
            confirm_personal_data: form.confirm_personal_data == "on",
            files: &files,
        },
    )
    .await;
    match written {
        Ok(_) if live => StatusCode::NO_CONTENT.into_response(),
        Ok(_) => {
            let done = if kind == MessageKind::Note {
                "note"
            } else {
                "reply"
            };
            Redirect::to(&format!("/staff/inquiries/{id}?done={done}")).into_response()
        }
        // A public reply with personal data is shown again with a warning; it goes out
        // only once the writer has confirmed it (and the confirmation is logged).
        Err(ReplyError::PersonalData(findings)) => {
            let mut kinds: Vec<String> = findings
                .iter()
                .map(|f| t.get(&format!("personal-data-{}", serde_plain_kind(f.kind))))
                .collect();
            kinds.dedup();
            let msg = t.get1("personal-data-found", "kinds", &kinds.join(", "));
            let q = InquiryQuery {
                draft: Some(form.body.clone()),
                confirm_personal_data: true,
                ..Default::default()
            };
            show_inquiry(
                &state,
                t,
                &staff,
                id,
                &q,
                Some(msg),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
        Err(ReplyError::NoFilesOn(channel)) => {
            let channel = views::channel_label(&t, channel);
            let msg = t.get1("reply-files-not-on-channel", "channel", &channel);
            let q = InquiryQuery {
                draft: Some(form.body.clone()),
                ..Default::default()
            };
            show_inquiry(
                &state,
                t,
                &staff,
                id,
                &q,
                Some(msg),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
        Err(ReplyError::File { filename, why }) => {
            use torg_core::reply::FileRefusal;
            let msg = match why {
                FileRefusal::TooLarge(limit) => t.args(
                    "reply-file-too-large",
                    &[("file", &filename), ("limit", &views::size(limit as i64))],
                ),
                FileRefusal::BlockedType(ext) => {
                    t.args("reply-file-blocked", &[("file", &filename), ("ext", &ext)])
                }
                FileRefusal::Empty => t.get1("reply-file-empty", "file", &filename),
                FileRefusal::TooMany => t.get1(
                    "reply-files-too-many",
                    "count",
                    &torg_core::reply::MAX_REPLY_FILES.to_string(),
                ),
                FileRefusal::TooLargeTogether(limit) => t.get1(
                    "reply-files-too-large-together",
                    "limit",
                    &views::size(limit as i64),
                ),
            };
            let q = InquiryQuery {
                draft: Some(form.body.clone()),
                ..Default::default()
            };
            show_inquiry(
                &state,
                t,
                &staff,
                id,
                &q,
                Some(msg),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
        Err(ReplyError::Input(e)) => {
            let msg = t.get(&format!("error-{}", e.code().replace('_', "-")));
            show_inquiry(
                &state,
                t,
                &staff,
                id,
                &InquiryQuery::default(),
                Some(msg),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await
        }
        Err(e) => failed(t, e),
    }
}

async fn reply(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<InquiryId>,
    headers: axum::http::HeaderMap,
    req: axum::extract::Request,
) -> Response {
    let live = headers.contains_key("x-torg-live");
    write_message(
        state,
        lang,
        staff,
        addr,
        id,
        req,
        Writing {
            kind: MessageKind::Outbound,
            live,
        },
    )
    .await
}

async fn note(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<InquiryId>,
    headers: axum::http::HeaderMap,
    req: axum::extract::Request,
) -> Response {
    let live = headers.contains_key("x-torg-live");
    let writing = Writing {
        kind: MessageKind::Note,
        live,
    };
    write_message(state, lang, staff, addr, id, req, writing).await
}

#[derive(serde::Deserialize)]
struct AssignForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    unit_id: String,
    #[serde(default)]
    assignee_id: String,
}

/// Records a staff member's change to an inquiry in the audit log.
pub(crate) async fn audit_inquiry(
    state: &AppState,
    staff: &Staff,
    addr: &ClientAddr,
    action: &str,
    id: InquiryId,
    detail: String,
) {
    let actor = format!("user:{}", staff.user.id);
    record(
        state,
        staff.config.municipality.id,
        actor,
        action,
        format!("inquiry:{id}"),
        detail,
        addr,
    )
    .await;
}

/// The unit a staff member signs with: their own, else the inquiry's, else the municipality.
fn signing_unit(staff: &Staff, inquiry: &torg_store::Inquiry) -> Unit {
    staff
        .user
        .unit_id
        .and_then(|u| staff.config.unit(u))
        .or_else(|| staff.config.unit(inquiry.unit_id))
        .cloned()
        .unwrap_or_else(|| Unit {
            id: UnitId(0),
            tenant_id: staff.config.municipality.id,
            name: staff.config.municipality.name.clone(),
            is_service_desk: false,
            sensitive: false,
        })
}

/// Checks what every form that changes an inquiry needs: the CSRF token, an inquiry the
/// staff member sees, and the right to handle it.
async fn may_change(
    state: &AppState,
    staff: &Staff,
    csrf: &str,
    t: &Tr,
    id: InquiryId,
) -> Result<torg_store::Inquiry, Response> {
    staff
        .check_csrf(csrf)
        .map_err(IntoResponse::into_response)?;
    let inquiry = visible_inquiry(state, t, staff, id).await?;
    if !staff.access.may_handle(staff.unit_access(inquiry.unit_id)) {
        return Err(forbidden(t.clone()));
    }
    Ok(inquiry)
}

/// After a change: back to the inquiry with a notice, or the page that says what went wrong.
fn after_change(
    result: Result<(), torg_store::StoreError>,
    t: Tr,
    id: InquiryId,
    done: &str,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/staff/inquiries/{id}?done={done}")).into_response(),
        Err(torg_store::StoreError::NotFound(_)) => {
            let msg = t.get("error-unknown-inquiry");
            views::error_page(
                t,
                StatusCode::NOT_FOUND,
                "error-heading-not-found",
                msg,
                "/staff",
            )
        }
        Err(e) => failed(t, e),
    }
}

async fn assign(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<InquiryId>,
    Form(form): Form<AssignForm>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Err(refused) = may_change(&state, &staff, &form.csrf, &t, id).await {
        return refused;
    }
    let Ok(unit_id) = form.unit_id.parse::<i64>() else {
        let msg = t.get("error-bad-form");
        return show_inquiry(
            &state,
            t,
            &staff,
            id,
            &InquiryQuery::default(),
            Some(msg),
            StatusCode::BAD_REQUEST,
            None,
        )
        .await;
    };
    let assignee = form.assignee_id.parse::<i64>().ok();
    let result = torg_core::casework::assign(
        &*state.store,
        &Actor::user(&staff.user, addr.0),
        staff.config.municipality.id,
        id,
        UnitId(unit_id),
        assignee.map(UserId),
    )
    .await;
    // Moved to a unit the person does not see: it has left their view.
    if result.is_ok() && !staff.sees_unit(UnitId(unit_id)) {
        return Redirect::to("/staff").into_response();
    }
    after_change(result, t, id, "assign")
}

#[derive(serde::Deserialize)]
struct StatusForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
}

async fn set_status(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<InquiryId>,
    Form(form): Form<StatusForm>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Err(refused) = may_change(&state, &staff, &form.csrf, &t, id).await {
        return refused;
    }
    let Ok(status) = form.status.parse::<InquiryStatus>() else {
        let msg = t.get("error-bad-form");
        return show_inquiry(
            &state,
            t,
            &staff,
            id,
            &InquiryQuery::default(),
            Some(msg),
            StatusCode::BAD_REQUEST,
            None,
        )
        .await;
    };
    let result = torg_core::casework::set_status(
        &*state.store,
        &Actor::user(&staff.user, addr.0),
        staff.config.municipality.id,
        id,
        status,
        Timestamp::now(),
    )
    .await;
    after_change(result, t, id, "status")
}

/// Makes the citizen's follow link stop working (it was shared by mistake, say).
async fn revoke_link(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<InquiryId>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Err(refused) = may_change(&state, &staff, &form.csrf, &t, id).await {
        return refused;
    }
    let result = torg_core::casework::revoke_follow_link(
        &*state.store,
        &Actor::user(&staff.user, addr.0),
        staff.config.municipality.id,
        id,
    )
    .await;
    after_change(result, t, id, "revoked")
}

#[derive(serde::Deserialize)]
struct MergeForm {
    #[serde(default)]
    csrf: String,
    /// The references of the inquiries to merge with this one, separated by commas or spaces.
    #[serde(default)]
    references: String,
}

/// Merges this inquiry with the ones whose references are given (each one the staff member
/// may handle); the matter goes on under the oldest reference.
async fn merge(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<InquiryId>,
    Form(form): Form<MergeForm>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Err(refused) = may_change(&state, &staff, &form.csrf, &t, id).await {
        return refused;
    }
    let tenant = staff.config.municipality.id;
    // The inquiries to merge, or the refusal in words (or a failed page).
    let chosen: Result<Vec<InquiryId>, Result<String, torg_store::StoreError>> = async {
        let mut ids = vec![id];
        for word in form
            .references
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            let unknown = || Ok(t.get1("merge-error-unknown", "reference", word));
            let reference = word
                .parse::<torg_domain::Reference>()
                .map_err(|_| unknown())?;
            let other = state
                .store
                .inquiry_by_reference(tenant, &reference.to_string())
                .await
                .map_err(Err)?
                .ok_or_else(unknown)?;
            // Only what this person sees and may handle is merged.
            let handles = state
                .store
                .inquiry(tenant, other)
                .await
                .map_err(Err)?
                .is_some_and(|i| {
                    staff.sees_unit(i.unit_id)
                        && staff.access.may_handle(staff.unit_access(i.unit_id))
                });
            if !handles {
                return Err(unknown());
            }
            ids.push(other);
        }
        Ok(ids)
    }
    .await;
    use torg_core::merge::MergeError;
    let merged = match chosen {
        Ok(ids) => torg_core::merge::merge(
            &*state.store,
            &Actor::user(&staff.user, addr.0),
            &state.catalog,
            &staff.config.municipality,
            &ids,
            Timestamp::now(),
        )
        .await
        .map_err(|e| match e {
            MergeError::TooFew => Ok(t.get("merge-error-too-few")),
            MergeError::AlreadyMerged(reference) => {
                Ok(t.get1("merge-error-merged", "reference", &reference))
            }
            MergeError::NotFound | MergeError::NotSplittable | MergeError::SocialThread => {
                Ok(t.get("error-unknown-inquiry"))
            }
            MergeError::Store(torg_store::StoreError::Conflict(_)) => {
                Ok(t.get("merge-error-conflict"))
            }
            MergeError::Store(e) => Err(e),
        }),
        Err(refused) => Err(refused),
    };
    match merged {
        Ok(primary) => {
            Redirect::to(&format!("/staff/inquiries/{primary}?done=merged")).into_response()
        }
        Err(Ok(msg)) => {
            let q = InquiryQuery::default();
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            show_inquiry(&state, t, &staff, id, &q, Some(msg), status, None).await
        }
        Err(Err(e)) => failed(t, e),
    }
}

/// Splits a citizen's message out into an inquiry of its own; goes to it.
async fn split(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    headers: HeaderMap,
    Path((id, message)): Path<(InquiryId, i64)>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let inquiry = match may_change(&state, &staff, &form.csrf, &t, id).await {
        Ok(i) => i,
        Err(refused) => return refused,
    };
    let base = crate::portal::base_url(&state, &headers);
    let acknowledger = crate::acknowledge::acknowledger_for(&state, staff.config.clone(), &base);
    let follow_base = format!("{base}/k/{}/follow/", staff.config.municipality.slug);
    let split = torg_core::merge::split(
        &*state.store,
        &Actor::user(&staff.user, addr.0),
        &state.catalog,
        &staff.config,
        Some(&*acknowledger),
        &inquiry,
        message,
        &follow_base,
        Timestamp::now(),
    )
    .await;
    use torg_core::merge::MergeError;
    match split {
        Ok(new) => Redirect::to(&format!("/staff/inquiries/{}?done=split", new.id)).into_response(),
        Err(MergeError::Store(e)) => failed(t, e),
        Err(e) => {
            let msg = t.get(match e {
                MergeError::SocialThread => "split-error-social",
                _ => "split-error",
            });
            let q = InquiryQuery::default();
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            show_inquiry(&state, t, &staff, id, &q, Some(msg), status, None).await
        }
    }
}

async fn attachment(State(state): State<AppState>, staff: Staff, Path(id): Path<i64>) -> Response {
    let tenant = staff.config.municipality.id;
    let found = match state.store.attachment_data(tenant, id).await {
        Ok(Some((meta, data))) => match state.store.inquiry(tenant, meta.inquiry_id).await {
            Ok(Some(i)) if staff.sees_unit(i.unit_id) => Ok(Some((meta, data))),
            Ok(_) => Ok(None),
            Err(e) => Err(e),
        },
        other => other,
    };
    match found {
        Ok(Some((meta, data))) => views::attachment_response(&meta, data),
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "attachment failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
