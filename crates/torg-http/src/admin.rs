//! Administration in the staff UI: users, their roles and unit memberships, units (and which
//! are sensitive), and the audit log with filters and a JSON-lines export. Every change is
//! written to the audit log.

use crate::AppState;
use crate::audit::{ClientAddr, record};
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
use torg_core::actor::Actor;
use torg_core::connectors::ConnectorError;
use torg_core::directory::{self, DirectoryActionError, UserChangeInput, UserInput};
use torg_domain::{Permission, Role};
use torg_domain::{UnitId, UserId};
use torg_store::{AuditQuery, StoreError, Unit, User};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/staff/admin/users", users_page)
        .post("/staff/admin/users", create_user)
        .get("/staff/admin/users/{id}", user_page)
        .post("/staff/admin/users/{id}", update_user)
        .get("/staff/admin/units", units_page)
        .post("/staff/admin/units", create_unit)
        .post("/staff/admin/units/{id}", update_unit)
        .get("/staff/admin/audit", audit_page)
        .get("/staff/admin/audit/export", audit_export)
        .get("/staff/mail/quarantine", quarantine_page)
        .get("/staff/mail/quarantine/{id}/raw", quarantined_raw)
        .post("/staff/mail/quarantine/{id}/release", release_quarantined)
        .post("/staff/mail/quarantine/{id}/discard", discard_quarantined)
        .get("/staff/admin/mail", mail_page)
        .post("/staff/admin/mail", save_mail)
        .post("/staff/admin/mail/test", test_mail)
        .get("/staff/admin/connectors", connectors_page)
}

/// Page size of the audit view.
const AUDIT_PAGE: u32 = 100;

/// A form's fields, with repeated names (the unit checkboxes) kept.
pub(crate) struct Fields(Vec<(String, String)>);

impl Fields {
    pub(crate) fn parse(raw: &[u8]) -> Fields {
        Fields(
            form_urlencoded::parse(raw)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// A form posted to an administration page, taken apart once for every handler: the
/// translator, the signed-in administrator (anyone else, or a form without its CSRF token,
/// is refused as [`admin`] refuses), the form's fields and who acts, for the audit.
pub(crate) struct AdminForm {
    pub t: Tr,
    pub staff: Staff,
    pub f: Fields,
    pub who: Actor,
}

impl axum::extract::FromRequest<AppState> for AdminForm {
    type Rejection = Response;

    async fn from_request(req: axum::extract::Request, state: &AppState) -> Result<Self, Response> {
        use axum::extract::FromRequestParts;
        let (mut parts, body) = req.into_parts();
        let Extension(Lang(lang)) = Extension::<Lang>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let staff = Staff::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let addr = ClientAddr::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let req = axum::extract::Request::from_parts(parts, body);
        let RawForm(raw) = RawForm::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let t = Tr::new(state.catalog.clone(), &lang);
        let f = Fields::parse(&raw);
        if let Some(refused) = admin(&staff, &t, Some(&f)) {
            return Err(refused);
        }
        let who = Actor::user(&staff.user, addr.0);
        Ok(AdminForm { t, staff, f, who })
    }
}

/// The administrator's check: the permission, and on forms the CSRF token.
/// The refusal, if any.
pub(crate) fn admin(staff: &Staff, t: &Tr, fields: Option<&Fields>) -> Option<Response> {
    if !staff.can(Permission::ManageUsers) {
        return Some(forbidden(t.clone()));
    }
    let f = fields?;
    staff
        .check_csrf(f.get("csrf"))
        .err()
        .map(IntoResponse::into_response)
}

fn role_options(t: &Tr, selected: Role) -> Vec<(String, String, bool)> {
    Role::ALL
        .iter()
        .map(|r| {
            (
                r.as_str().to_string(),
                t.get(&format!("role-{}", r.as_str().replace('_', "-"))),
                *r == selected,
            )
        })
        .collect()
}

/// Writes an audit entry for what `staff` did.
pub(crate) async fn audit(
    state: &AppState,
    staff: &Staff,
    addr: &ClientAddr,
    action: &str,
    object: String,
    detail: String,
) {
    record(
        state,
        staff.config.municipality.id,
        format!("user:{}", staff.user.id),
        action,
        object,
        detail,
        addr,
    )
    .await;
}

// ---------------------------------------------------------------- users

struct UserRow {
    id: UserId,
    name: String,
    username: String,
    role: String,
    units: String,
    active: bool,
    locked: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    t: Tr,
    c: Chrome,
    users: Vec<UserRow>,
    roles: Vec<(String, String, bool)>,
    units: Vec<Unit>,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct DoneQuery {
    #[serde(default)]
    pub(crate) done: String,
}

fn unit_names(units: &[Unit], ids: &[UnitId]) -> String {
    let names: Vec<&str> = ids
        .iter()
        .filter_map(|id| units.iter().find(|u| u.id == *id))
        .map(|u| u.name.as_str())
        .collect();
    if names.is_empty() {
        "–".into()
    } else {
        names.join(", ")
    }
}

async fn users_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Query(q): Query<DoneQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Some(r) = admin(&staff, &t, None) {
        return r;
    }
    let notice = t.done(&q.done);
    show_users(&state, t, &staff, None, notice, StatusCode::OK).await
}

async fn show_users(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    error: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let tenant = staff.config.municipality.id;
    let (users, units) = match tokio::try_join!(
        state.store.list_users(tenant),
        state.store.list_units(tenant)
    ) {
        Ok(x) => x,
        Err(e) => return failed(t, e),
    };
    let now = jiff::Timestamp::now();
    let page = UsersPage {
        c: chrome(staff, "/staff/admin/users"),
        users: users
            .iter()
            .map(|u| UserRow {
                id: u.id,
                name: u.full_name.clone(),
                username: u.username.clone(),
                role: t.get(&format!("role-{}", u.role.as_str().replace('_', "-"))),
                units: unit_names(&units, &u.member_of),
                active: u.active,
                locked: u.locked_until.is_some_and(|l| l > now),
            })
            .collect(),
        roles: role_options(&t, Role::CaseHandler),
        units,
        error,
        notice,
        t,
    };
    render(status, &page)
}

async fn create_user(
    State(state): State<AppState>,
    AdminForm {
        t,
        staff,
        f,
        who: actor,
    }: AdminForm,
) -> Response {
    let Ok(role) = f.get("role").parse::<Role>() else {
        let msg = t.get("error-bad-form");
        return show_users(
            &state,
            t,
            &staff,
            Some(msg),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let password = f.get("password");
    let input = UserInput {
        username: f.get("username"),
        full_name: f.get("full_name"),
        role,
        unit_id: (f.get("unit_id").parse::<i64>().ok()).map(UnitId),
        password: (!password.is_empty()).then_some(password),
        email: None,
    };
    let tenant = staff.config.municipality.id;
    match directory::create_user(&*state.store, &actor, Some(&staff.user), tenant, input).await {
        Ok(user) => Redirect::to(&format!("/staff/admin/users/{}?done=user-created", user.id))
            .into_response(),
        Err(DirectoryActionError::Store(StoreError::NotFound(_))) => {
            let msg = t.get("error-bad-form");
            show_users(
                &state,
                t,
                &staff,
                Some(msg),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(DirectoryActionError::Store(e)) => failed(t, e),
        Err(e) => {
            let status = match e {
                DirectoryActionError::UsernameTaken => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let msg = t.get(e.key());
            show_users(&state, t, &staff, Some(msg), None, status).await
        }
    }
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    t: Tr,
    c: Chrome,
    u: User,
    roles: Vec<(String, String, bool)>,
    /// (id, name, sensitive, member, home)
    units: Vec<(UnitId, String, bool, bool, bool)>,
    locked: bool,
    sso: bool,
    notice: Option<String>,
    error: Option<String>,
}

async fn user_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Path(id): Path<UserId>,
    Query(q): Query<DoneQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Some(r) = admin(&staff, &t, None) {
        return r;
    }
    let notice = t.done(&q.done);
    show_user(&state, t, &staff, id, notice, None, StatusCode::OK).await
}

async fn show_user(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    id: UserId,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let tenant = staff.config.municipality.id;
    let (user, units) =
        match tokio::try_join!(state.store.user(tenant, id), state.store.list_units(tenant)) {
            Ok((Some(u), units)) => (u, units),
            Ok((None, _)) => {
                let msg = t.get("admin-error-unknown-user");
                return views::error_page(
                    t,
                    StatusCode::NOT_FOUND,
                    "error-heading-not-found",
                    msg,
                    "/staff/admin/users",
                );
            }
            Err(e) => return failed(t, e),
        };
    let page = UserPage {
        c: chrome(staff, &format!("/staff/admin/users/{id}")),
        roles: role_options(&t, user.role),
        units: units
            .iter()
            .map(|x| {
                (
                    x.id,
                    x.name.clone(),
                    x.sensitive,
                    user.member_of.contains(&x.id),
                    user.unit_id == Some(x.id),
                )
            })
            .collect(),
        locked: user
            .locked_until
            .is_some_and(|l| l > jiff::Timestamp::now()),
        sso: user.external_subject.is_some(),
        u: user,
        notice,
        error,
        t,
    };
    render(status, &page)
}

async fn update_user(
    State(state): State<AppState>,
    Path(id): Path<UserId>,
    AdminForm {
        t,
        staff,
        f,
        who: actor,
    }: AdminForm,
) -> Response {
    let refuse = |t: Tr, key: &str, status: StatusCode| {
        let msg = t.get(key);
        show_user(&state, t, &staff, id, None, Some(msg), status)
    };
    let Ok(role) = f.get("role").parse::<Role>() else {
        return refuse(t, "error-bad-form", StatusCode::UNPROCESSABLE_ENTITY).await;
    };
    let input = UserChangeInput {
        full_name: f.get("full_name"),
        role,
        unit_id: (f.get("unit_id").parse::<i64>().ok()).map(UnitId),
        active: f.get("active") == "on",
        email: Some(f.get("email")),
        memberships: f
            .all("units")
            .iter()
            .filter_map(|u| u.parse().ok())
            .collect(),
        unlock: f.get("unlock") == "on",
        password: Some(f.get("password")),
    };
    let tenant = staff.config.municipality.id;
    let unlock = input.unlock;
    let result =
        directory::change_user(&*state.store, &actor, &staff.user, tenant, id, input).await;
    // Whatever changed, logged-in people are read again at their next request.
    state.forget_cached_sessions();
    match result {
        Ok(user) => {
            if unlock {
                // Failed logins from every address are forgotten.
                let account = crate::ratelimit::LoginThrottle::account(
                    &staff.config.municipality.slug,
                    &user.username,
                );
                state.logins.forget(&account, None);
            }
            Redirect::to(&format!("/staff/admin/users/{id}?done=user-updated")).into_response()
        }
        Err(DirectoryActionError::Store(StoreError::NotFound("user"))) => {
            show_user(&state, t, &staff, id, None, None, StatusCode::NOT_FOUND).await
        }
        Err(DirectoryActionError::Store(StoreError::NotFound(_))) => {
            refuse(t, "error-bad-form", StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(DirectoryActionError::Store(e)) => failed(t, e),
        Err(e) => refuse(t, e.key(), StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}

// ---------------------------------------------------------------- units

#[derive(Template)]
#[template(path = "admin_units.html")]
struct UnitsPage {
    t: Tr,
    c: Chrome,
    units: Vec<Unit>,
    notice: Option<String>,
    error: Option<String>,
}

async fn units_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Query(q): Query<DoneQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Some(r) = admin(&staff, &t, None) {
        return r;
    }
    let notice = t.done(&q.done);
    show_units(&state, t, &staff, notice, None, StatusCode::OK).await
}

async fn show_units(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    match state.store.list_units(staff.config.municipality.id).await {
        Ok(units) => render(
            status,
            &UnitsPage {
                c: chrome(staff, "/staff/admin/units"),
                units,
                notice,
                error,
                t,
            },
        ),
        Err(e) => failed(t, e),
    }
}

async fn create_unit(
    State(state): State<AppState>,
    AdminForm {
        t,
        staff,
        f,
        who: actor,
    }: AdminForm,
) -> Response {
    let input = directory::UnitInput {
        name: f.get("name"),
        service_desk: false,
        sensitive: f.get("sensitive") == "on",
    };
    let tenant = staff.config.municipality.id;
    let created = directory::create_unit(&*state.store, &actor, tenant, input).await;
    unit_saved(&state, t, &staff, created).await
}

async fn update_unit(
    State(state): State<AppState>,
    Path(id): Path<UnitId>,
    AdminForm {
        t,
        staff,
        f,
        who: actor,
    }: AdminForm,
) -> Response {
    let tenant = staff.config.municipality.id;
    let sensitive = f.get("sensitive") == "on";
    let updated =
        directory::update_unit(&*state.store, &actor, tenant, id, f.get("name"), sensitive).await;
    unit_saved(&state, t, &staff, updated).await
}

/// After a unit was created or changed: back to the list, or the list with what went wrong.
async fn unit_saved(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    saved: Result<Unit, DirectoryActionError>,
) -> Response {
    let (key, status) = match saved {
        Ok(_) => {
            state.forget_cached_settings();
            return Redirect::to("/staff/admin/units?done=unit-saved").into_response();
        }
        Err(DirectoryActionError::Store(StoreError::NotFound(_))) => {
            ("admin-error-unknown-unit", StatusCode::NOT_FOUND)
        }
        Err(DirectoryActionError::Store(e)) => return failed(t, e),
        Err(e @ DirectoryActionError::UnitTaken) => (e.key(), StatusCode::CONFLICT),
        Err(e) => (e.key(), StatusCode::UNPROCESSABLE_ENTITY),
    };
    let msg = t.get(key);
    show_units(state, t, staff, None, Some(msg), status).await
}

// ---------------------------------------------------------------- audit log

#[derive(serde::Deserialize, Default)]
struct AuditFilter {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    object: String,
    #[serde(default)]
    before: String,
}

impl AuditFilter {
    fn query(&self) -> AuditQuery {
        let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        AuditQuery {
            actor: some(&self.actor),
            action: some(&self.action),
            object: some(&self.object),
            before_seq: self.before.parse().ok(),
        }
    }
    fn link(&self, before: Option<i64>, base: &str) -> String {
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let mut url = format!(
            "{base}?actor={}&action={}&object={}",
            enc(&self.actor),
            enc(&self.action),
            enc(&self.object)
        );
        if let Some(b) = before {
            url.push_str(&format!("&before={b}"));
        }
        url
    }
}

struct AuditRow {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    object: String,
    detail: String,
    source: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    t: Tr,
    c: Chrome,
    f: AuditFilter,
    rows: Vec<AuditRow>,
    next_url: Option<String>,
    export_url: String,
}

/// The refusal, if any.
fn audit_allowed(staff: &Staff, t: &Tr) -> Option<Response> {
    (!staff.can(Permission::ViewAudit)).then(|| forbidden(t.clone()))
}

async fn audit_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Query(f): Query<AuditFilter>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Some(r) = audit_allowed(&staff, &t) {
        return r;
    }
    let tenant = staff.config.municipality.id;
    let query = f.query();
    let (entries, users) = match tokio::try_join!(
        state.store.search_audit(tenant, &query, AUDIT_PAGE),
        state.store.list_users(tenant)
    ) {
        Ok(x) => x,
        Err(e) => return failed(t, e),
    };
    let zone = &staff.config.municipality.time_zone;
    // "user:3" is shown with the person's name beside it.
    let who = |actor: &str| {
        actor
            .strip_prefix("user:")
            .and_then(|id| id.parse::<i64>().ok())
            .and_then(|id| users.iter().find(|u| u.id == id))
            .map(|u| format!("{} ({actor})", u.full_name))
            .unwrap_or_else(|| actor.to_string())
    };
    let next_url = (entries.len() == AUDIT_PAGE as usize)
        .then(|| {
            entries
                .last()
                .map(|e| f.link(Some(e.seq), "/staff/admin/audit"))
        })
        .flatten();
    let rows = entries
        .into_iter()
        .map(|e| AuditRow {
            seq: e.seq,
            at: views::when(e.at, zone),
            actor: who(&e.entry.actor),
            action: e.entry.action,
            object: e.entry.object,
            detail: e.entry.detail,
            source: e.entry.source,
        })
        .collect();
    let page = AuditPage {
        c: chrome(&staff, "/staff/admin/audit"),
        export_url: f.link(None, "/staff/admin/audit/export"),
        f,
        rows,
        next_url,
        t,
    };
    render(StatusCode::OK, &page)
}

/// The matching entries as JSON lines, oldest first, each with its hash for checking.
async fn audit_export(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Query(f): Query<AuditFilter>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Some(r) = audit_allowed(&staff, &t) {
        return r;
    }
    let tenant = staff.config.municipality.id;
    let mut query = f.query();
    let mut entries = Vec::new();
    loop {
        match state.store.search_audit(tenant, &query, 5000).await {
            Ok(page) => {
                let last = page.last().map(|e| e.seq);
                let full = page.len() == 5000;
                entries.extend(page);
                match last {
                    Some(seq) if full => query.before_seq = Some(seq),
                    _ => break,
                }
            }
            Err(e) => return failed(t, e),
        }
    }
    entries.reverse();
    let mut body = String::new();
    for e in &entries {
        if let Ok(line) = serde_json::to_string(e) {
            body.push_str(&line);
            body.push('\n');
        }
    }
    audit(
        &state,
        &staff,
        &addr,
        "audit.exported",
        String::new(),
        format!("entries:{}", entries.len()),
    )
    .await;
    (
        [
            (header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.jsonl\"",
            ),
        ],
        body,
    )
        .into_response()
}

// ---------------------------------------------------------------- quarantined mail

/// Who looks after mail that was not taken in: those who see every unit, and administrators.
pub(crate) fn sees_quarantine(staff: &Staff) -> bool {
    staff.can(Permission::AllUnits) || staff.can(Permission::ManageUsers)
}

struct QuarantineRow {
    id: i64,
    when: String,
    sender: String,
    subject: String,
    reason: String,
    size: String,
}

#[derive(Template)]
#[template(path = "quarantine.html")]
struct QuarantinePage {
    t: Tr,
    c: Chrome,
    rows: Vec<QuarantineRow>,
    notice: Option<String>,
}

async fn quarantine_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Query(q): Query<DoneQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if !sees_quarantine(&staff) {
        return forbidden(t);
    }
    let notice = t.done(&q.done);
    let zone = &staff.config.municipality.time_zone;
    match state
        .store
        .quarantined_mail(staff.config.municipality.id, 200)
        .await
    {
        Ok(list) => {
            let rows = list
                .into_iter()
                .map(|q| QuarantineRow {
                    id: q.id,
                    when: views::when(q.received_at, zone),
                    sender: q.sender,
                    subject: q.subject,
                    reason: q.reason,
                    size: views::size(q.size),
                })
                .collect();
            let page = QuarantinePage {
                c: chrome(&staff, "/staff/mail/quarantine"),
                rows,
                notice,
                t,
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => failed(t, e),
    }
}

/// A quarantined mail as received, as a download (never shown in the browser).
async fn quarantined_raw(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Path(id): Path<i64>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if !sees_quarantine(&staff) {
        return forbidden(t);
    }
    match state
        .store
        .quarantined_raw(staff.config.municipality.id, id)
        .await
    {
        Ok(Some(raw)) => views::download_response(&format!("karantene-{id}.eml"), raw),
        Ok(None) => quarantine_gone(t),
        Err(e) => failed(t, e),
    }
}

/// The answer when a quarantined mail is not (or no longer) there.
fn quarantine_gone(t: Tr) -> Response {
    let msg = t.get("error-unknown-quarantined");
    views::error_page(
        t,
        StatusCode::NOT_FOUND,
        "error-heading-not-found",
        msg,
        "/staff/mail/quarantine",
    )
}

/// The form of a staff action: refused unless the person is `allowed`, then the CSRF token
/// checked.
pub(crate) fn staff_form(
    staff: &Staff,
    t: &Tr,
    raw: &[u8],
    allowed: bool,
) -> Result<Fields, Box<Response>> {
    if !allowed {
        return Err(Box::new(forbidden(t.clone())));
    }
    let f = Fields::parse(raw);
    staff
        .check_csrf(f.get("csrf"))
        .map_err(|e| Box::new(e.into_response()))?;
    Ok(f)
}

/// Takes a quarantined mail in after all (a person has looked at it): the size and
/// attachment-type limits no longer apply. It leaves quarantine only if it was taken in.
async fn release_quarantined(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
    RawForm(form): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Err(r) = staff_form(&staff, &t, &form, sees_quarantine(&staff)) {
        return *r;
    }
    let tenant = staff.config.municipality.id;
    let account = match state.store.mail_account(tenant).await {
        Ok(Some(account)) => account,
        Ok(None) => {
            let msg = t.get("mail-error-none");
            return views::error_page(
                t,
                StatusCode::UNPROCESSABLE_ENTITY,
                "error-heading-unavailable",
                msg,
                "/staff/admin/mail",
            );
        }
        Err(e) => return failed(t, e),
    };
    let base = crate::portal::base_url(&state, &headers);
    let ack = crate::acknowledge::acknowledger_for(&state, staff.config.clone(), &base);
    let room = torg_email::ingest::Mailroom {
        store: &*state.store,
        config: &staff.config,
        account: &account,
        limits: state.settings.limits,
        acknowledger: Some(&*ack),
    };
    use torg_email::ingest::Released;
    let actor = Actor::user(&staff.user, addr.0);
    match room.release(&actor, id, jiff::Timestamp::now()).await {
        Ok(Released::Inquiry { inquiry_id }) => {
            Redirect::to(&format!("/staff/inquiries/{inquiry_id}")).into_response()
        }
        Ok(Released::Duplicate) => {
            Redirect::to("/staff/mail/quarantine?done=quarantine-released").into_response()
        }
        Ok(Released::StillQuarantined) => {
            Redirect::to("/staff/mail/quarantine?done=quarantine-still").into_response()
        }
        Ok(Released::Gone) => quarantine_gone(t),
        Err(e) => failed(t, e),
    }
}

/// Throws a quarantined mail away (it stays on the mail server); the audit log keeps who did.
async fn discard_quarantined(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<i64>,
    RawForm(form): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Err(r) = staff_form(&staff, &t, &form, sees_quarantine(&staff)) {
        return *r;
    }
    let actor = Actor::user(&staff.user, addr.0);
    match torg_core::mail::discard_quarantined(
        &*state.store,
        &actor,
        staff.config.municipality.id,
        id,
    )
    .await
    {
        Ok(()) => {}
        Err(StoreError::NotFound(_)) => return quarantine_gone(t),
        Err(e) => return failed(t, e),
    }
    Redirect::to("/staff/mail/quarantine?done=quarantine-discarded").into_response()
}

// ---------------------------------------------------------------- the mailbox

#[derive(Template)]
#[template(path = "admin_mail.html")]
struct MailPage {
    t: Tr,
    c: Chrome,
    a: torg_store::MailAccount,
    configured: bool,
    notice: Option<String>,
    error: Option<String>,
    /// (server, result) of a connection test.
    tested: Vec<(String, String, bool)>,
}

fn blank_account(staff: &Staff) -> torg_store::MailAccount {
    let server = |port, security: &str| torg_store::MailServer {
        host: String::new(),
        port,
        security: security.into(),
        user: String::new(),
        password: String::new(),
    };
    torg_store::MailAccount {
        address: String::new(),
        display_name: staff.config.municipality.name.clone(),
        imap: server(993, "tls"),
        imap_folder: "INBOX".into(),
        smtp: server(587, "starttls"),
        max_message_bytes: 26_214_400,
        blocked_extensions: torg_domain::email::extension_list(
            torg_domain::email::DEFAULT_BLOCKED_EXTENSIONS,
        ),
    }
}

async fn show_mail(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    notice: Option<String>,
    error: Option<String>,
    tested: Vec<(String, String, bool)>,
    status: StatusCode,
) -> Response {
    match state.store.mail_account(staff.config.municipality.id).await {
        Ok(found) => {
            let configured = found.is_some();
            let mut a = found.unwrap_or_else(|| blank_account(staff));
            // Passwords never go back to the browser.
            a.imap.password.clear();
            a.smtp.password.clear();
            render(
                status,
                &MailPage {
                    c: chrome(staff, "/staff/admin/mail"),
                    a,
                    configured,
                    notice,
                    error,
                    tested,
                    t,
                },
            )
        }
        Err(e) => failed(t, e),
    }
}

async fn mail_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Query(q): Query<DoneQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Some(r) = admin(&staff, &t, None) {
        return r;
    }
    let notice = t.done(&q.done);
    show_mail(&state, t, &staff, notice, None, vec![], StatusCode::OK).await
}

async fn save_mail(
    State(state): State<AppState>,
    AdminForm {
        t,
        staff,
        f,
        who: actor,
    }: AdminForm,
) -> Response {
    let Some(key) = state.settings.secret_key.clone() else {
        let msg = t.get("mail-error-no-key");
        return show_mail(
            &state,
            t,
            &staff,
            None,
            Some(msg),
            vec![],
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;
    };
    let port = |name: &str| f.get(name).trim().parse::<u16>().unwrap_or(0);
    let server = |prefix: &str| torg_core::connectors::ServerInput {
        host: f.get(&format!("{prefix}_host")).to_string(),
        port: port(&format!("{prefix}_port")),
        security: f.get(&format!("{prefix}_security")).to_string(),
        user: f.get(&format!("{prefix}_user")).to_string(),
        password: Some(f.get(&format!("{prefix}_password")).to_string()),
    };
    let input = torg_core::connectors::MailInput {
        address: f.get("address").to_string(),
        display_name: f.get("display_name").to_string(),
        imap: server("imap"),
        imap_folder: f.get("imap_folder").to_string(),
        smtp: server("smtp"),
        max_message_bytes: f
            .get("max_message_bytes")
            .trim()
            .parse()
            .unwrap_or(26_214_400),
        blocked_extensions: torg_domain::email::extension_list(f.get("blocked_extensions")),
    };
    if let Err(e) = torg_core::connectors::set_mail_account(
        &*state.store,
        &key,
        &state.settings.connectors,
        &actor,
        staff.config.municipality.id,
        &staff.config.municipality.name,
        input,
    )
    .await
    {
        return match e {
            ConnectorError::Store(e) => failed(t, e),
            e => {
                let host = match &e {
                    ConnectorError::Host(h) => h.clone(),
                    _ => String::new(),
                };
                let msg = t.get1(e.key(), "host", &host);
                show_mail(
                    &state,
                    t,
                    &staff,
                    None,
                    Some(msg),
                    vec![],
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        };
    }
    Redirect::to("/staff/admin/mail?done=mail-saved").into_response()
}

/// "Test connection": connects, logs in and opens the folder; says what each server answered.
async fn test_mail(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = Fields::parse(&raw);
    if let Some(r) = admin(&staff, &t, Some(&f)) {
        return r;
    }
    let tenant = staff.config.municipality.id;
    let account = match state.store.mail_account(tenant).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            let msg = t.get("mail-error-none");
            return show_mail(
                &state,
                t,
                &staff,
                None,
                Some(msg),
                vec![],
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(e) => return failed(t, e),
    };
    use torg_core::sealing::Place;
    let open = |place: Place<'_>, p: &str| match &state.settings.secret_key {
        Some(k) => k.open(&place, p).unwrap_or_default(),
        None => String::new(),
    };
    let mut imap = account.imap.clone();
    imap.password = open(Place::MailImap { tenant }, &imap.password);
    let mut smtp = account.smtp.clone();
    smtp.password = open(Place::MailSmtp { tenant }, &smtp.password);
    let (i, s) = tokio::join!(
        torg_email::imap::check(&imap, &account.imap_folder),
        torg_email::smtp::check(&smtp)
    );
    let secrets = [&imap.password, &smtp.password];
    let line = |r: Result<(), torg_email::MailError>| match r {
        Ok(()) => (t.get("mail-test-ok"), true),
        Err(e) => (torg_domain::secret::redact(&e.to_string(), &secrets), false),
    };
    let (ri, oi) = line(i);
    let (rs, os) = line(s);
    let tested = vec![
        (format!("IMAP {}:{}", imap.host, imap.port), ri, oi),
        (format!("SMTP {}:{}", smtp.host, smtp.port), rs, os),
    ];
    show_mail(&state, t, &staff, None, None, tested, StatusCode::OK).await
}

// ---------------------------------------------------------------- connectors

struct ConnectorRow {
    name: String,
    ok: bool,
    state: String,
    detail: String,
    when: String,
}

#[derive(Template)]
#[template(path = "admin_connectors.html")]
struct ConnectorsPage {
    t: Tr,
    c: Chrome,
    rows: Vec<ConnectorRow>,
    /// Which node runs each job of the installation: (job, node, since, held).
    jobs: Vec<(String, String, String, bool)>,
}

/// How each connector of the municipality last went; a failing one is shown as failing while
/// the others go on.
async fn connectors_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Some(r) = admin(&staff, &t, None) {
        return r;
    }
    let zone = &staff.config.municipality.time_zone;
    let found = tokio::try_join!(
        state
            .store
            .connector_statuses(Some(staff.config.municipality.id)),
        state.store.job_holders()
    );
    match found {
        Ok((list, holders)) => {
            let now = jiff::Timestamp::now();
            let tenant = staff.config.municipality.id;
            let jobs = holders
                .into_iter()
                .filter_map(|h| {
                    let kind = torg_core::jobs::shown_to(&h.job, tenant)?;
                    Some((
                        t.get(&format!("job-{kind}")),
                        h.holder,
                        views::when(h.taken_at, zone),
                        h.expires_at > now,
                    ))
                })
                .collect();
            let rows = list
                .into_iter()
                .map(|s| ConnectorRow {
                    name: t.get(&format!("connector-{}", s.connector)),
                    ok: s.ok,
                    state: t.get(if s.ok {
                        "connector-ok"
                    } else {
                        "connector-failing"
                    }),
                    detail: s.detail,
                    when: views::when(s.at, zone),
                })
                .collect();
            let page = ConnectorsPage {
                c: chrome(&staff, "/staff/admin/connectors"),
                rows,
                jobs,
                t,
            };
            render(StatusCode::OK, &page)
        }
        Err(e) => failed(t, e),
    }
}
