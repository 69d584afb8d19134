//! The portal's subscription pages: subscribe, the private page where a subscriber sees,
//! confirms, changes and ends what they get, and RFC 8058's one-click unsubscribe. Parses and
//! renders; the actions are `torg_core::subscribe`.

use crate::AppState;
use crate::admin::Fields;
use crate::audit::ClientAddr;
use crate::crisis::portal_chrome;
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::views::{Chrome, Lang, render};
use askama::Template;
use axum::Extension;
use axum::extract::{Path, RawForm, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use torg_core::actor::Actor;
use torg_core::subscribe::{self, Outcome, Request, SubscriptionError};
use torg_domain::subscription::Medium;
use torg_store::{Municipality, Subscriber};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/k/{slug}/subscribe", form)
        .post("/k/{slug}/subscribe", submit)
        .post("/k/{slug}/press/subscribe", join_press_list)
        .get("/k/{slug}/subscription/{token}", page)
        .post("/k/{slug}/subscription/{token}", change)
        .get("/k/{slug}/subscription/{token}/confirm", page)
        .post("/k/{slug}/subscription/{token}/confirm", confirm)
        .get("/k/{slug}/subscription/{token}/unsubscribe", page)
        .post("/k/{slug}/subscription/{token}/unsubscribe", unsubscribe)
}

#[derive(Template)]
#[template(path = "subscribe.html")]
struct SubscribePage {
    t: Tr,
    c: Chrome,
    slug: String,
    email: String,
    phone: String,
    topics: Vec<(String, String, bool)>,
    areas: Vec<(i64, String, bool)>,
    sent: Vec<String>,
    error: Option<String>,
}

async fn choices(
    state: &AppState,
    m: &Municipality,
    topics: &[String],
    areas: &[i64],
) -> Result<(Vec<(String, String, bool)>, Vec<(i64, String, bool)>), torg_store::StoreError> {
    let (all_topics, all_areas) =
        tokio::try_join!(state.store.topics(m.id), state.store.areas(m.id))?;
    Ok((
        all_topics
            .into_iter()
            .map(|k| {
                let on = topics.contains(&k.key);
                (k.key, k.name, on)
            })
            .collect(),
        all_areas
            .into_iter()
            .map(|a| (a.id, a.name, areas.contains(&a.id)))
            .collect(),
    ))
}

/// The status of a request the subscription rules refused: too often, or not valid.
fn refused(e: &SubscriptionError) -> StatusCode {
    match e {
        SubscriptionError::TooOften => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

fn storage_failed(t: Tr, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "subscription storage failed");
    let msg = t.get("error-storage");
    crate::views::error_page(
        t,
        StatusCode::SERVICE_UNAVAILABLE,
        "error-heading-unavailable",
        msg,
        "/",
    )
}

#[allow(clippy::too_many_arguments)]
async fn show_form(
    state: &AppState,
    t: Tr,
    m: &Municipality,
    f: Option<&Fields>,
    sent: Vec<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let topics: Vec<String> = f
        .map(|f| f.all("topic").iter().map(|s| s.to_string()).collect())
        .unwrap_or_default();
    let areas: Vec<i64> = f
        .map(|f| {
            f.all("area")
                .iter()
                .filter_map(|s| s.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let (topics, areas) = match choices(state, m, &topics, &areas).await {
        Ok(c) => c,
        Err(e) => return storage_failed(t, e),
    };
    let page = SubscribePage {
        c: portal_chrome(state, m, &format!("/k/{}/subscribe", m.slug)).await,
        slug: m.slug.clone(),
        email: f.map(|f| f.get("email").to_string()).unwrap_or_default(),
        phone: f.map(|f| f.get("phone").to_string()).unwrap_or_default(),
        topics,
        areas,
        sent,
        error,
        t,
    };
    render(status, &page)
}

async fn form(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match crate::portal::municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    show_form(
        &state,
        t,
        &config.municipality,
        None,
        vec![],
        None,
        StatusCode::OK,
    )
    .await
}

async fn submit(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
    addr: ClientAddr,
    headers: HeaderMap,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match crate::portal::municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let m = &config.municipality;
    let f = Fields::parse(&raw);
    let request = Request {
        email: Some(f.get("email").to_string()),
        phone: Some(f.get("phone").to_string()),
        topics: f.all("topic").iter().map(|s| s.to_string()).collect(),
        areas: f
            .all("area")
            .iter()
            .filter_map(|s| s.parse().ok())
            .collect(),
        language: t.lang.clone(),
    };
    let base = crate::portal::base_url(&state, &headers);
    let actor = Actor::citizen(addr.0);
    match subscribe::subscribe(&*state.store, &actor, &t, m, &request, &base).await {
        Ok(outcomes) => {
            // The same words whether the address was new or known: the page does not tell
            // a stranger who subscribes.
            let sent = outcomes
                .iter()
                .map(|o| match o {
                    Outcome::ConfirmationSent(Medium::Sms)
                    | Outcome::AlreadySubscribed(Medium::Sms) => t.get("subscribe-sent-sms"),
                    Outcome::ConfirmationSent(_) | Outcome::AlreadySubscribed(_) => {
                        t.get("subscribe-sent-email")
                    }
                })
                .collect();
            show_form(&state, t, m, Some(&f), sent, None, StatusCode::OK).await
        }
        Err(SubscriptionError::Store(e)) => storage_failed(t, e),
        Err(e) => {
            let status = refused(&e);
            let msg = t.get(e.key());
            show_form(&state, t, m, Some(&f), vec![], Some(msg), status).await
        }
    }
}

/// A journalist asks for the press releases by email, from the portal's press page. The same
/// words whether the address was new or known.
async fn join_press_list(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(slug): Path<String>,
    addr: ClientAddr,
    headers: HeaderMap,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match crate::portal::municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let m = &config.municipality;
    let f = Fields::parse(&raw);
    let base = crate::portal::base_url(&state, &headers);
    let actor = Actor::citizen(addr.0);
    let back = format!("/k/{slug}/press");
    match subscribe::join_press_list(&*state.store, &actor, &t, m, f.get("email"), &t.lang, &base)
        .await
    {
        Ok(_) => {
            let page = NoticePage {
                c: portal_chrome(&state, m, &back).await,
                heading: t.get("subscribe-sent-heading"),
                message: t.get("subscribe-sent-email"),
                back_text: t.get("press-list-back"),
                back,
                t,
            };
            render(StatusCode::OK, &page)
        }
        Err(SubscriptionError::Store(e)) => storage_failed(t, e),
        Err(e) => {
            let status = refused(&e);
            let msg = t.get(e.key());
            crate::views::error_page(t, status, "press-list-error-heading", msg, &back)
        }
    }
}

#[derive(Template)]
#[template(path = "subscription.html")]
struct SubscriptionPage {
    t: Tr,
    c: Chrome,
    slug: String,
    token: String,
    medium: String,
    address: String,
    /// On the press list: no topics or areas to choose.
    press: bool,
    confirmed: bool,
    topics: Vec<(String, String, bool)>,
    areas: Vec<(i64, String, bool)>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "notice.html")]
struct NoticePage {
    t: Tr,
    c: Chrome,
    heading: String,
    message: String,
    back: String,
    back_text: String,
}

/// The subscriber of a link, if it is this municipality's.
async fn subscriber(
    state: &AppState,
    t: &Tr,
    slug: &str,
    token: &str,
) -> Result<(Municipality, Subscriber), Response> {
    let config = crate::portal::municipality(state, t, slug).await?;
    let m = config.municipality.clone();
    match subscribe::by_link(&*state.store, token).await {
        Ok(s) if s.tenant_id == m.id => Ok((m, s)),
        Ok(_) | Err(SubscriptionError::UnknownLink) => Err(crate::views::error_page(
            t.clone(),
            StatusCode::NOT_FOUND,
            "error-heading-not-found",
            t.get("subscribe-error-link"),
            &format!("/k/{slug}/subscribe"),
        )),
        Err(e) => Err(storage_failed(t.clone(), e)),
    }
}

async fn show_page(
    state: &AppState,
    t: Tr,
    m: &Municipality,
    s: &Subscriber,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (topics, areas) = match choices(state, m, &s.topics, &s.areas).await {
        Ok(c) => c,
        Err(e) => return storage_failed(t, e),
    };
    let page = SubscriptionPage {
        // The private link is not put in the language links' address for others to see:
        // the page's own path is.
        c: portal_chrome(state, m, &format!("/k/{}/subscription/{}", m.slug, s.token)).await,
        slug: m.slug.clone(),
        token: s.token.clone(),
        medium: t.get(&format!("subscribe-medium-{}", s.medium.as_str())),
        address: s.address.clone(),
        press: s.medium == Medium::Press,
        confirmed: s.confirmed_at.is_some(),
        topics,
        areas,
        notice,
        error,
        t,
    };
    render(status, &page)
}

async fn page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    Path(path): Path<(String, String)>,
) -> Response {
    let (slug, token) = path;
    let t = Tr::new(state.catalog.clone(), &lang);
    match subscriber(&state, &t, &slug, &token).await {
        Ok((m, s)) => show_page(&state, t, &m, &s, None, None, StatusCode::OK).await,
        Err(r) => r,
    }
}

async fn confirm(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    addr: ClientAddr,
    Path((slug, token)): Path<(String, String)>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let (m, _) = match subscriber(&state, &t, &slug, &token).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    match subscribe::confirm(&*state.store, &Actor::citizen(addr.0), &token).await {
        Ok(s) => {
            let notice = t.get("subscription-confirmed");
            show_page(&state, t, &m, &s, Some(notice), None, StatusCode::OK).await
        }
        Err(e) => storage_failed(t, e),
    }
}

async fn change(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    addr: ClientAddr,
    Path((slug, token)): Path<(String, String)>,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let (m, before) = match subscriber(&state, &t, &slug, &token).await {
        Ok(found) => found,
        Err(r) => return r,
    };
    let f = Fields::parse(&raw);
    let topics = f.all("topic").iter().map(|s| s.to_string()).collect();
    let areas = f
        .all("area")
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
    match subscribe::change(
        &*state.store,
        &Actor::citizen(addr.0),
        &token,
        topics,
        areas,
    )
    .await
    {
        Ok(s) => {
            let notice = t.get("subscription-saved");
            show_page(&state, t, &m, &s, Some(notice), None, StatusCode::OK).await
        }
        Err(SubscriptionError::Store(e)) => storage_failed(t, e),
        Err(e) => {
            let msg = t.get(e.key());
            show_page(
                &state,
                t,
                &m,
                &before,
                None,
                Some(msg),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// Ends the subscription: the page's button, or a mail client's one-click POST (RFC 8058,
/// body `List-Unsubscribe=One-Click`). A link already used answers the same page.
async fn unsubscribe(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    addr: ClientAddr,
    Path((slug, token)): Path<(String, String)>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let config = match crate::portal::municipality(&state, &t, &slug).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let m = &config.municipality;
    match subscribe::by_link(&*state.store, &token).await {
        Ok(s) if s.tenant_id == m.id => {
            if let Err(e) =
                subscribe::unsubscribe(&*state.store, &Actor::citizen(addr.0), &token).await
            {
                return storage_failed(t, e);
            }
        }
        Ok(_) | Err(SubscriptionError::UnknownLink) => {}
        Err(e) => return storage_failed(t, e),
    }
    let page = NoticePage {
        c: portal_chrome(&state, m, &format!("/k/{slug}/subscribe")).await,
        heading: t.get("subscription-ended-heading"),
        message: t.get("subscription-ended"),
        back: format!("/k/{slug}/subscribe"),
        back_text: t.get("subscription-again"),
        t,
    };
    render(StatusCode::OK, &page).into_response()
}
