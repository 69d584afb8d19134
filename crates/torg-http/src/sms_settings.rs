//! The municipality's SMS in the staff UI, for administrators: the gateway (Kannel's sendsms
//! interface; the password sealed at rest like the mail passwords), the address Kannel's
//! get-url must call, and the code words (kodeord) that route a message to a unit and may
//! answer it at once. `torg sms` does the same from the command line.

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
use axum::extract::{Query, RawForm, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use torg_core::actor::Actor;
use torg_core::connectors::ConnectorError;
use torg_core::policies::{self, PolicyError};
use torg_domain::Permission;
use torg_domain::UnitId;
use torg_domain::sms::{CodeWordError, segments};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/staff/admin/sms", sms_page)
        .post("/staff/admin/sms", save_gateway)
        .post("/staff/admin/sms/keywords", save_keyword)
        .post("/staff/admin/sms/keywords/delete", delete_keyword)
}

/// Who sets up the SMS: administrators, as for the mailbox.
fn administers(staff: &Staff) -> bool {
    staff.can(Permission::ManageUsers)
}

struct KeywordRow {
    word: String,
    unit: String,
    reply: String,
    /// How many SMS the automatic answer takes, if there is one.
    segments: String,
}

/// The gateway form's fields (never the password).
struct GatewayForm {
    url: String,
    username: String,
    sender: String,
}

/// The code-word form's fields, shown again after a refusal.
#[derive(Default)]
struct KeywordForm {
    word: String,
    unit_id: UnitId,
    reply: String,
}

#[derive(Template)]
#[template(path = "admin_sms.html")]
struct SmsPage {
    t: Tr,
    c: Chrome,
    configured: bool,
    g: GatewayForm,
    k: KeywordForm,
    /// The address Kannel's sms-service must call (`get-url`), with the secret key.
    callback: Option<String>,
    keywords: Vec<KeywordRow>,
    units: Vec<(UnitId, String)>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
struct DoneQuery {
    #[serde(default)]
    done: String,
}

/// What the page shows besides what is stored: a form as typed, after a refusal, and a
/// notice or an error.
#[derive(Default)]
struct Shown {
    gateway: Option<GatewayForm>,
    keyword: KeywordForm,
    notice: Option<String>,
    error: Option<String>,
}

async fn show(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    headers: &HeaderMap,
    shown: Shown,
    status: StatusCode,
) -> Response {
    let tenant = staff.config.municipality.id;
    let (gateway, keywords, units) = match tokio::try_join!(
        state.store.sms_gateway(tenant),
        state.store.sms_keywords(tenant),
        state.store.list_units(tenant)
    ) {
        Ok(x) => x,
        Err(e) => return failed(t, e),
    };
    let unit_name = |id: Option<UnitId>| {
        id.and_then(|id| units.iter().find(|u| u.id == id))
            .map(|u| u.name.clone())
            .unwrap_or_else(|| "–".into())
    };
    let keywords = keywords
        .into_iter()
        .map(|k| KeywordRow {
            // Shown as citizens are told to write them: in capitals.
            word: k.keyword.to_uppercase(),
            unit: unit_name((k.unit_id.map(i64::from)).map(UnitId)),
            segments: if k.reply.is_empty() {
                String::new()
            } else {
                let s = segments(&k.reply);
                t.get1("sms-keyword-segments", "count", &s.count.to_string())
            },
            reply: k.reply,
        })
        .collect();
    let callback = gateway.as_ref().map(|g| {
        let base = crate::portal::base_url(state, headers);
        format!(
            "{}/hooks/sms/{}?key={}&from=%p&text=%a&id=%I",
            base.trim_end_matches('/'),
            staff.config.municipality.slug,
            g.inbound_key
        )
    });
    let g = shown.gateway.unwrap_or_else(|| match &gateway {
        Some(g) => GatewayForm {
            url: g.sendsms_url.clone(),
            username: g.username.clone(),
            sender: g.sender.clone(),
        },
        None => GatewayForm {
            url: "http://127.0.0.1:13013/cgi-bin/sendsms".into(),
            username: String::new(),
            sender: String::new(),
        },
    });
    let page = SmsPage {
        c: chrome(staff, "/staff/admin/sms"),
        configured: gateway.is_some(),
        g,
        k: shown.keyword,
        callback,
        keywords,
        units: units.into_iter().map(|u| (u.id, u.name)).collect(),
        notice: shown.notice,
        error: shown.error,
        t,
    };
    render(status, &page)
}

/// `GET /staff/admin/sms`: the gateway, Kannel's callback address and the code words.
async fn sms_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    headers: HeaderMap,
    Query(q): Query<DoneQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if !administers(&staff) {
        return forbidden(t);
    }
    let notice = t.done(&q.done);
    let shown = Shown {
        notice,
        ..Shown::default()
    };
    show(&state, t, &staff, &headers, shown, StatusCode::OK).await
}

/// `POST /staff/admin/sms`: sets the gateway. An empty password keeps the stored one; the
/// callback key stays unless a new one is asked for (then Kannel's get-url must be changed).
async fn save_gateway(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    headers: HeaderMap,
    addr: ClientAddr,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, administers(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let entered = GatewayForm {
        url: f.get("url").trim().to_string(),
        username: f.get("username").trim().to_string(),
        sender: f.get("sender").trim().to_string(),
    };
    let Some(key) = state.settings.secret_key.clone() else {
        let shown = Shown {
            error: Some(t.get("sms-error-no-key")),
            gateway: Some(entered),
            ..Shown::default()
        };
        return show(
            &state,
            t,
            &staff,
            &headers,
            shown,
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;
    };
    let actor = torg_core::actor::Actor::user(&staff.user, addr.0.clone());
    let input = torg_core::connectors::SmsInput {
        url: entered.url.clone(),
        username: entered.username.clone(),
        password: Some(f.get("password").to_string()),
        sender: entered.sender.clone(),
        new_key: f.get("new_key") == "1",
    };
    let set = match torg_core::connectors::set_sms_gateway(
        &*state.store,
        &key,
        &state.settings.connectors,
        &actor,
        staff.config.municipality.id,
        input,
    )
    .await
    {
        Ok(set) => set,
        Err(ConnectorError::Store(e)) => return failed(t, e),
        Err(e) => {
            let host = match &e {
                ConnectorError::Host(h) => h.clone(),
                _ => String::new(),
            };
            let shown = Shown {
                error: Some(t.get1(e.key(), "host", &host)),
                gateway: Some(entered),
                ..Shown::default()
            };
            return show(
                &state,
                t,
                &staff,
                &headers,
                shown,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    // A first gateway's key is new too, but there is no old get-url to change.
    let done = if set.new_key && f.get("new_key") == "1" {
        "sms-saved-new-key"
    } else {
        "sms-saved"
    };
    Redirect::to(&format!("/staff/admin/sms?done={done}")).into_response()
}

/// `POST /staff/admin/sms/keywords`: adds a code word, or changes the one of that word.
async fn save_keyword(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    headers: HeaderMap,
    addr: ClientAddr,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, administers(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let tenant = staff.config.municipality.id;
    let unit_id = f.get("unit").parse::<i64>().unwrap_or(0);
    let reply = f.get("reply").trim().to_string();
    let actor = Actor::user(&staff.user, addr.0.clone());
    let key = match policies::set_sms_keyword(
        &*state.store,
        &actor,
        tenant,
        f.get("word"),
        UnitId(unit_id),
        &reply,
    )
    .await
    {
        Ok(_) => return Redirect::to("/staff/admin/sms?done=sms-keyword-saved").into_response(),
        Err(PolicyError::CodeWord(CodeWordError::NotOneWord)) => "sms-keyword-error-word",
        Err(PolicyError::CodeWord(CodeWordError::Reserved)) => "sms-keyword-error-reserved",
        Err(PolicyError::UnknownUnit) => "sms-keyword-error-unit",
        Err(PolicyError::KeywordReplyTooLong) => "sms-keyword-error-reply",
        Err(e) => return failed(t, e),
    };
    let shown = Shown {
        error: Some(t.get1(key, "max", &policies::MAX_KEYWORD_REPLY.to_string())),
        keyword: KeywordForm {
            word: f.get("word").to_string(),
            unit_id: UnitId(unit_id),
            reply,
        },
        ..Shown::default()
    };
    show(
        &state,
        t,
        &staff,
        &headers,
        shown,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

/// `POST /staff/admin/sms/keywords/delete`: removes a code word; messages starting with it
/// then go to the service desk like any other.
async fn delete_keyword(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, administers(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let tenant = staff.config.municipality.id;
    let actor = Actor::user(&staff.user, addr.0.clone());
    match policies::remove_sms_keyword(&*state.store, &actor, tenant, f.get("word")).await {
        Ok(true) => Redirect::to("/staff/admin/sms?done=sms-keyword-removed").into_response(),
        // Already gone (a second click, or another administrator): nothing to do.
        Ok(false) => Redirect::to("/staff/admin/sms").into_response(),
        Err(e) => failed(t, e),
    }
}
