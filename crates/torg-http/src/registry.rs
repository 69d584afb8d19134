//! The channel registry page (kanaloversikt): every official account with owner, purpose,
//! ambition level, opening hours and status. Those who see the overview propose accounts;
//! only the chief executive approves or retires them.

use crate::AppState;
use crate::admin::staff_form;
use crate::audit::{ClientAddr, record};
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
use torg_domain::registry::{AccountStatus, Ambition, may_move};
use torg_domain::{Channel, Permission};
use torg_store::{NewChannelAccount, StoreError};

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
    units: Vec<(i64, String)>,
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
    if new.name.is_empty() || new.address.is_empty() || new.purpose.is_empty() {
        let msg = t.get("registry-error-required");
        return show(
            &state,
            t,
            &staff,
            None,
            Some(msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let tenant = staff.config.municipality.id;
    match state
        .store
        .propose_channel_account(tenant, &new, Timestamp::now())
        .await
    {
        Ok(a) => {
            record(
                &state,
                tenant,
                format!("user:{}", staff.user.id),
                "channel.proposed",
                format!("channel_account:{}", a.id),
                format!("{}:{}", a.channel.as_str(), a.address),
                &addr,
            )
            .await;
            Redirect::to("/staff/channels?done=account-proposed").into_response()
        }
        Err(StoreError::Conflict(_)) => {
            let msg = t.get("registry-error-exists");
            show(&state, t, &staff, None, Some(msg), StatusCode::CONFLICT).await
        }
        Err(StoreError::NotFound(_)) => {
            let msg = t.get("registry-error-choice");
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
        Err(e) => failed(t, e),
    }
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
    let current = match state.store.channel_accounts(tenant).await {
        Ok(list) => list.into_iter().find(|a| a.id == id),
        Err(e) => return failed(t, e),
    };
    let Some(current) = current else {
        let msg = t.get("registry-error-unknown");
        return show(&state, t, &staff, None, Some(msg), StatusCode::NOT_FOUND).await;
    };
    let to = match f.get("status").parse::<AccountStatus>() {
        Ok(to) if may_move(current.status, to) => to,
        _ => {
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
        }
    };
    match state
        .store
        .decide_channel_account(tenant, id, to, staff.user.id, Timestamp::now())
        .await
    {
        Ok(a) => {
            record(
                &state,
                tenant,
                format!("user:{}", staff.user.id),
                &format!("channel.{}", to.as_str()),
                format!("channel_account:{}", a.id),
                format!("{}:{}", a.channel.as_str(), a.address),
                &addr,
            )
            .await;
            Redirect::to(&format!("/staff/channels?done=account-{}", to.as_str())).into_response()
        }
        Err(e) => failed(t, e),
    }
}
