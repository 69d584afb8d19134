//! The administration page for API tokens (`/staff/admin/tokens`): what each token reaches,
//! until when, and whether it is revoked; make one (shown once) and revoke one. The same
//! rules as `torg token` through [`torg_core::tokens`].

use crate::AppState;
use crate::admin::{AdminForm, DoneQuery, admin};
use crate::auth::Staff;
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::staff::{chrome, failed};
use crate::views::{self, Chrome, Lang, render};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use torg_core::tokens::{self, TokenError, TokenInput};
use torg_domain::UnitId;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/staff/admin/tokens", page)
        .post("/staff/admin/tokens", create)
        .post("/staff/admin/tokens/{id}/revoke", revoke)
}

/// One token as the page lists it.
struct Row {
    id: i64,
    name: String,
    reach: String,
    state: String,
    valid: bool,
}

/// A unit to tick.
struct UnitChoice {
    id: UnitId,
    name: String,
    sensitive: bool,
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage {
    t: Tr,
    c: Chrome,
    tokens: Vec<Row>,
    units: Vec<UnitChoice>,
    notice: Option<String>,
    error: Option<String>,
    /// A token just made, shown this once.
    secret: Option<String>,
}

async fn page(
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
    show(&state, t, &staff, notice, None, None, StatusCode::OK).await
}

async fn show(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    notice: Option<String>,
    error: Option<String>,
    secret: Option<String>,
    status: StatusCode,
) -> Response {
    let tenant = staff.config.municipality.id;
    let (list, units) = match tokio::try_join!(
        state.store.list_api_tokens(tenant),
        state.store.list_units(tenant)
    ) {
        Ok(x) => x,
        Err(e) => return failed(t, e),
    };
    let zone = &staff.config.municipality.time_zone;
    let now = Timestamp::now();
    let tokens = list
        .into_iter()
        .map(|tok| {
            let reach = if tok.units.is_empty() {
                t.get("token-reach-default")
            } else {
                tok.units
                    .iter()
                    .filter_map(|id| units.iter().find(|u| u.id == *id))
                    .map(|u| u.name.clone())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let state = match (tok.revoked_at, tok.expires_at) {
                (Some(at), _) => t.get1("token-revoked", "when", &views::when(at, zone)),
                (None, Some(e)) if e <= now => {
                    t.get1("token-expired", "when", &views::when(e, zone))
                }
                (None, Some(e)) => t.get1("token-until", "when", &views::when(e, zone)),
                (None, None) => t.get("token-valid"),
            };
            Row {
                id: tok.id,
                valid: tok.is_valid(now),
                name: tok.name,
                reach,
                state,
            }
        })
        .collect();
    let units = units
        .into_iter()
        .map(|u| UnitChoice {
            id: u.id,
            name: u.name,
            sensitive: u.sensitive,
        })
        .collect();
    render(
        status,
        &TokensPage {
            c: chrome(staff, "/staff/admin/tokens"),
            tokens,
            units,
            notice,
            error,
            secret,
            t,
        },
    )
}

/// The page again, saying why the change was refused.
async fn refused(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    e: &TokenError,
    status: StatusCode,
) -> Response {
    let msg = t.get(e.key());
    show(state, t, staff, None, Some(msg), None, status).await
}

async fn create(
    State(state): State<AppState>,
    AdminForm {
        t,
        staff,
        f,
        who: actor,
    }: AdminForm,
) -> Response {
    let units = f
        .all("units")
        .iter()
        .filter_map(|u| u.parse().ok())
        .collect();
    // The last day it works, to its end in the municipality's time zone.
    let expires_at = match f.get("expires").trim() {
        "" => None,
        day => match day
            .parse()
            .map_err(|_| TokenError::Expiry)
            .and_then(|d| tokens::end_of(d, &staff.config.municipality.time_zone))
        {
            Ok(at) => Some(at),
            Err(e) => {
                return refused(&state, t, &staff, &e, StatusCode::UNPROCESSABLE_ENTITY).await;
            }
        },
    };
    let input = TokenInput {
        name: f.get("name"),
        units,
        expires_at,
    };
    match tokens::create(
        &*state.store,
        &actor,
        staff.config.municipality.id,
        input,
        Timestamp::now(),
    )
    .await
    {
        Ok((_, secret)) => {
            let notice = t.get("token-made");
            show(
                &state,
                t,
                &staff,
                Some(notice),
                None,
                Some(secret),
                StatusCode::CREATED,
            )
            .await
        }
        Err(TokenError::Store(e)) => failed(t, e),
        Err(e) => refused(&state, t, &staff, &e, StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}

async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    AdminForm {
        t,
        staff,
        who: actor,
        ..
    }: AdminForm,
) -> Response {
    match tokens::revoke(
        &*state.store,
        &actor,
        staff.config.municipality.id,
        id,
        Timestamp::now(),
    )
    .await
    {
        Ok(()) => {
            state.forget_cached_tokens();
            Redirect::to("/staff/admin/tokens?done=token-revoked").into_response()
        }
        Err(TokenError::Store(e)) => failed(t, e),
        Err(e) => refused(&state, t, &staff, &e, StatusCode::NOT_FOUND).await,
    }
}
