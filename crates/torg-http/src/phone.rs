//! The phone log (telefonlogg): the service desk registers a call as an inquiry on the phone
//! channel from the keyboard in seconds — who called, about what, how long, and whether it was
//! answered at once (the inquiry is closed) or passed on to a unit (it waits there).

use crate::AppState;
use crate::admin::staff_form;
use crate::audit::ClientAddr;
use crate::auth::Staff;
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::staff::{chrome, failed, forbidden};
use crate::views::{self, Chrome, Lang, render};
use askama::Template;
use axum::Extension;
use axum::extract::{Query, RawForm, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use torg_core::intake::{InquiryInput, IntakeError, receive};
use torg_domain::{Channel, InquiryStatus, MessageKind, Permission};
use torg_store::{NewMessage, Origin};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/staff/phone", phone_form)
        .post("/staff/phone", log_call)
}

/// Who registers calls: everyone who handles inquiries.
pub(crate) fn logs_calls(staff: &Staff) -> bool {
    staff.can(Permission::HandleInquiries)
}

/// What was typed, kept when the form is shown again.
#[derive(Default)]
struct CallForm {
    name: String,
    phone: String,
    topic: String,
    summary: String,
    minutes: String,
    routed: bool,
    unit_id: i64,
}

#[derive(Template)]
#[template(path = "phone.html")]
struct PhonePage {
    t: Tr,
    c: Chrome,
    form: CallForm,
    topics: Vec<(String, String)>,
    units: Vec<(i64, String)>,
    error: Option<String>,
    /// The call just registered: (inquiry id, reference).
    logged: Option<(i64, String)>,
}

#[derive(serde::Deserialize, Default)]
struct LoggedQuery {
    #[serde(default)]
    logged: Option<i64>,
}

fn page(
    t: Tr,
    staff: &Staff,
    form: CallForm,
    error: Option<String>,
    logged: Option<(i64, String)>,
) -> PhonePage {
    PhonePage {
        c: chrome(staff, "/staff/phone"),
        topics: views::topics(&t),
        units: staff
            .config
            .units
            .iter()
            .map(|u| (u.id, u.name.clone()))
            .collect(),
        form,
        error,
        logged,
        t,
    }
}

async fn phone_form(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    Query(q): Query<LoggedQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if !logs_calls(&staff) {
        return forbidden(t);
    }
    let logged = match q.logged {
        Some(id) => match state.store.inquiry(staff.config.municipality.id, id).await {
            Ok(Some(i)) => Some((i.id, i.reference.to_string())),
            Ok(None) => None,
            Err(e) => return failed(t, e),
        },
        None => None,
    };
    let form = CallForm {
        minutes: "1".into(),
        ..Default::default()
    };
    render(StatusCode::OK, &page(t, &staff, form, None, logged))
}

async fn log_call(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    RawForm(raw): RawForm,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let f = match staff_form(&staff, &t, &raw, logs_calls(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let form = CallForm {
        name: f.get("name").trim().to_string(),
        phone: f.get("phone").trim().to_string(),
        topic: f.get("topic").to_string(),
        summary: f.get("summary").trim().to_string(),
        minutes: f.get("minutes").trim().to_string(),
        routed: f.get("outcome") == "routed",
        unit_id: f.get("unit_id").parse().unwrap_or(0),
    };
    let invalid = |t: Tr, form: CallForm, key: &str| {
        let msg = t.get(key);
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(t, &staff, form, Some(msg), None),
        )
    };
    let minutes: u32 = match form.minutes.parse() {
        Ok(m) if m <= 24 * 60 => m,
        _ => return invalid(t, form, "phone-error-minutes"),
    };
    let unit = match form.routed {
        true => match staff.config.unit(form.unit_id) {
            Some(u) => Some(u.clone()),
            None => return invalid(t, form, "phone-error-unit"),
        },
        false => None,
    };
    let input = InquiryInput {
        citizen_name: form.name.clone(),
        phone: Some(form.phone.clone()).filter(|p| !p.is_empty()),
        topic: Some(form.topic.clone()).filter(|t| !t.is_empty()),
        body: form.summary.clone(),
        language: Some(staff.config.municipality.language.clone()),
        // A call passed on is created in that unit; one answered at once where routing puts it.
        unit_id: unit.as_ref().map(|u| u.id),
        origin: Origin {
            actor: format!("user:{}", staff.user.id),
            source: addr.0.clone(),
        },
        ..Default::default()
    };
    let now = Timestamp::now();
    let tenant = staff.config.municipality.id;
    // No acknowledgement: the caller has heard the answer, or where it went, on the phone.
    let received = match receive(
        &*state.store,
        &staff.config,
        Channel::Phone,
        input,
        state.settings.limits,
        now,
        None,
    )
    .await
    {
        Ok(r) => r,
        Err(IntakeError::Store(e)) => return failed(t, e),
        Err(e) => {
            let key = format!("error-{}", e.code().replace('_', "-"));
            return invalid(t, form, &key);
        }
    };
    let id = received.created.inquiry.id;
    let note = match &unit {
        Some(u) => t.args(
            "phone-note-routed",
            &[("minutes", &minutes.to_string()), ("unit", &u.name)],
        ),
        None => t.get1("phone-note-answered", "minutes", &minutes.to_string()),
    };
    let done = async {
        state
            .store
            .add_message(
                tenant,
                id,
                NewMessage {
                    kind: MessageKind::Note,
                    author_user_id: Some(staff.user.id),
                    author_name: staff.user.full_name.clone(),
                    body: note,
                    attachments: vec![],
                    created_at: now,
                    external_id: None,
                    outgoing: None,
                },
                None,
            )
            .await?;
        match &unit {
            Some(_) => Ok(()),
            None => {
                state
                    .store
                    .set_status(tenant, id, InquiryStatus::Closed, now, None)
                    .await
            }
        }
    }
    .await;
    if let Err(e) = done {
        return failed(t, e);
    }
    crate::audit::record(
        &state,
        tenant,
        format!("user:{}", staff.user.id),
        "phone.logged",
        format!("inquiry:{id}"),
        format!(
            "minutes:{minutes} outcome:{}",
            unit.as_ref()
                .map_or("answered".to_string(), |u| format!("unit:{}", u.id))
        ),
        &addr,
    )
    .await;
    Redirect::to(&format!("/staff/phone?logged={id}")).into_response()
}
