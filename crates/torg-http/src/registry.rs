//! The channel registry page (kanaloversikt): every official account with owner, purpose,
//! ambition level, opening hours and status. Those who see the overview propose accounts;
//! only the chief executive approves or retires them.

use crate::AppState;
use crate::admin::staff_form;
use crate::audit::ClientAddr;
use crate::auth::Staff;
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::staff::{chrome, failed, forbidden};
use crate::views::{Chrome, Lang, render};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use torg_core::actor::Actor;
use torg_core::registry::{self, RegistryError};
use torg_domain::UnitId;
use torg_domain::registry::{AccountStatus, Ambition};
use torg_domain::{Channel, Permission};
use torg_store::NewChannelAccount;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/staff/channels", registry_page)
        .post("/staff/channels", propose)
        .post("/staff/channels/{id}/decide", decide)
}

/// Who sees the registry and proposes accounts.
pub(crate) fn sees_registry(staff: &Staff) -> bool {
    staff.can(Permission::ViewOverview)
}

struct AccountView {
    id: i64,
    channel: String,
    name: String,
    address: String,
    owner: String,
    purpose: String,
    ambition: String,
    opening_hours: String,
    status: &'static str,
    status_label: String,
}

#[derive(Template)]
#[template(path = "channels.html")]
struct RegistryPage {
    t: Tr,
    c: Chrome,
    accounts: Vec<AccountView>,
    may_decide: bool,
    channels: Vec<(String, String)>,
    ambitions: Vec<(String, String)>,
    units: Vec<(UnitId, String)>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct DoneQuery {
    #[serde(default)]
    done: String,
}

async fn show(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let list = match state
        .store
        .channel_accounts(staff.config.municipality.id)
        .await
    {
        Ok(l) => l,
        Err(e) => return failed(t, e),
    };
    let accounts = list
        .into_iter()
        .map(|a| AccountView {
            id: a.id,
            channel: t.get(&format!("channel-{}", a.channel.as_str())),
            name: a.name,
            address: a.address,
            owner: a
                .owner_unit_id
                .and_then(|u| staff.config.unit(u))
                .map(|u| u.name.clone())
                .unwrap_or_default(),
            purpose: a.purpose,
            ambition: t.get(&format!("ambition-{}", a.ambition.as_str())),
            opening_hours: a.opening_hours,
            status: a.status.as_str(),
            status_label: t.get(&format!("account-{}", a.status.as_str())),
        })
        .collect();
    let page = RegistryPage {
        c: chrome(staff, "/staff/channels"),
        accounts,
        may_decide: staff.can(Permission::ApproveChannels),
        channels: Channel::ALL
            .iter()
            .filter(|c| **c != Channel::Api)
            .map(|c| {
                (
                    c.as_str().to_string(),
                    t.get(&format!("channel-{}", c.as_str())),
                )
            })
            .collect(),
        ambitions: Ambition::ALL
            .iter()
            .map(|a| {
                (
                    a.as_str().to_string(),
                    t.get(&format!("ambition-{}", a.as_str())),
                )
            })
            .collect(),
        units: staff
            .config
            .units
            .iter()
            .map(|u| (u.id, u.name.clone()))
            .collect(),
        notice,
        error,
        t,
    };
    render(status, &page)
}

async fn registry_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Query(q): Query<DoneQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if !sees_registry(&staff) {
        return forbidden(t);
    }
    let notice = t.done(&q.done);
    show(&state, t, &staff, notice, None, StatusCode::OK).await
}

async fn propose(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, sees_registry(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let text = |name: &str| f.get(name).trim().to_string();
    let parsed = (
        f.get("channel").parse::<Channel>().ok(),
        f.get("ambition").parse::<Ambition>().ok(),
    );
    let (Some(channel), Some(ambition)) = parsed else {
        let msg = t.get("registry-error-choice");
        return show(
            &state,
            t,
            &staff,
            None,
            Some(msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let new = NewChannelAccount {
        channel,
        name: text("name"),
        address: text("address"),
        owner_unit_id: f.get("owner_unit_id").parse().ok(),
        purpose: text("purpose"),
        ambition,
        opening_hours: text("opening_hours"),
        proposed_by: Some(staff.user.id),
    };
    let actor = Actor::user(&staff.user, addr.0.clone());
    let tenant = staff.config.municipality.id;
    let key = match registry::propose(&*state.store, &actor, tenant, new, Timestamp::now()).await {
        Ok(_) => return Redirect::to("/staff/channels?done=account-proposed").into_response(),
        Err(RegistryError::Required) => "registry-error-required",
        Err(RegistryError::Exists) => "registry-error-exists",
        Err(RegistryError::Unknown) | Err(RegistryError::Move) => "registry-error-choice",
        Err(RegistryError::Store(e)) => return failed(t, e),
    };
    let msg = t.get(key);
    let status = if key == "registry-error-exists" {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    show(&state, t, &staff, None, Some(msg), status).await
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
    let allowed = staff.can(Permission::ApproveChannels);
    let f = match staff_form(&staff, &t, &raw, allowed) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let tenant = staff.config.municipality.id;
    let Ok(to) = f.get("status").parse::<AccountStatus>() else {
        let msg = t.get("registry-error-move");
        return show(
            &state,
            t,
            &staff,
            None,
            Some(msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let actor = Actor::user(&staff.user, addr.0.clone());
    let decided = registry::decide(
        &*state.store,
        &actor,
        tenant,
        id,
        to,
        staff.user.id,
        Timestamp::now(),
    )
    .await;
    let (key, status) = match decided {
        Ok(_) => {
            return Redirect::to(&format!("/staff/channels?done=account-{}", to.as_str()))
                .into_response();
        }
        Err(RegistryError::Unknown) => ("registry-error-unknown", StatusCode::NOT_FOUND),
        Err(RegistryError::Store(e)) => return failed(t, e),
        Err(_) => ("registry-error-move", StatusCode::UNPROCESSABLE_ENTITY),
    };
    let msg = t.get(key);
    show(&state, t, &staff, None, Some(msg), status).await
}
