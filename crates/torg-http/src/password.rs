//! A staff member's own password (`/staff/password`): the current one, then a new one twice.
//! Wrong current passwords count as failed logins (the same throttle), and the change goes
//! through [`torg_core::directory::change_own_password`]: the person's other sessions end, and
//! no administrator is any longer the one who set it.

use crate::AppState;
use crate::admin::Fields;
use crate::audit::ClientAddr;
use crate::auth::Staff;
use crate::i18n::Tr;
use crate::ratelimit::LoginThrottle;
use crate::routes::Routes;
use crate::staff::{chrome, failed};
use crate::views::{Chrome, Lang, render};
use askama::Template;
use axum::Extension;
use axum::extract::{Query, RawForm, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use torg_core::actor::Actor;
use torg_core::directory::{DirectoryActionError, OwnPasswordError, change_own_password};
use torg_domain::directory::MIN_PASSWORD_CHARS;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/staff/password", page)
        .post("/staff/password", change)
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    t: Tr,
    c: Chrome,
    min_chars: usize,
    notice: Option<String>,
    error: Option<String>,
}

fn show(
    t: Tr,
    staff: &Staff,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    render(
        status,
        &PasswordPage {
            c: chrome(staff, "/staff/password"),
            min_chars: MIN_PASSWORD_CHARS,
            notice,
            error,
            t,
        },
    )
}

async fn page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Query(q): Query<crate::admin::DoneQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let notice = t.done(&q.done);
    show(t, &staff, notice, None, StatusCode::OK)
}

async fn change(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = Fields::parse(&raw);
    if let Err(r) = staff.check_csrf(f.get("csrf")) {
        return r.into_response();
    }
    let refuse = |t: Tr, key: &str, status: StatusCode| {
        let msg = t.get(key);
        show(t, &staff, None, Some(msg), status)
    };
    // Guessing the current password here is guessing a login: the same throttle.
    let account = LoginThrottle::account(&staff.config.municipality.slug, &staff.user.username);
    if let Some(wait) = state.logins.wait(&account, &addr.0) {
        let mut res = refuse(t, "login-locked", StatusCode::TOO_MANY_REQUESTS);
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return res;
    }
    if f.get("new") != f.get("repeat") {
        return refuse(t, "password-mismatch", StatusCode::UNPROCESSABLE_ENTITY);
    }
    let actor = Actor::user(&staff.user, addr.0.clone());
    match change_own_password(
        &*state.store,
        &actor,
        &staff.user,
        &staff.session,
        f.get("current"),
        f.get("new"),
    )
    .await
    {
        Ok(()) => {
            state.logins.forget(&account, Some(&addr.0));
            // The other sessions are gone from the database; no cache keeps them alive.
            state.forget_cached_sessions();
            Redirect::to("/staff/password?done=password-changed").into_response()
        }
        Err(OwnPasswordError::WrongCurrent) => {
            state.logins.failed(&account, &addr.0);
            refuse(
                t,
                "password-wrong-current",
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(OwnPasswordError::Action(DirectoryActionError::Store(e))) => failed(t, e),
        Err(OwnPasswordError::Action(e)) => refuse(t, e.key(), StatusCode::UNPROCESSABLE_ENTITY),
    }
}
