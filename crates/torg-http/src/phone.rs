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
use torg_core::actor::Actor;
use torg_core::intake::{InquiryInput, IntakeError};
use torg_core::phone::{self, Call, PhoneError};
use torg_domain::Permission;
use torg_domain::{InquiryId, UnitId};
use torg_store::Origin;

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
    unit_id: UnitId,
}

#[derive(Template)]
#[template(path = "phone.html")]
struct PhonePage {
    t: Tr,
    c: Chrome,
    form: CallForm,
    topics: Vec<(String, String)>,
    units: Vec<(UnitId, String)>,
    error: Option<String>,
    /// The call just registered: (inquiry id, reference).
    logged: Option<(InquiryId, String)>,
}

#[derive(serde::Deserialize, Default)]
struct LoggedQuery {
    #[serde(default)]
    logged: Option<InquiryId>,
}

fn page(
    t: Tr,
    staff: &Staff,
    form: CallForm,
    error: Option<String>,
    logged: Option<(InquiryId, String)>,
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
        unit_id: f.get("unit_id").parse().unwrap_or(UnitId(0)),
    };
    let invalid = |t: Tr, form: CallForm, key: &str| {
        let msg = t.get(key);
        render(
            StatusCode::UNPROCESSABLE_ENTITY,
            &page(t, &staff, form, Some(msg), None),
        )
    };
    let Ok(minutes) = form.minutes.parse::<u32>() else {
        return invalid(t, form, "phone-error-minutes");
    };
    let unit = match form.routed {
        true => match staff.config.unit(form.unit_id) {
            Some(u) => Some(u.clone()),
            None => return invalid(t, form, "phone-error-unit"),
        },
        false => None,
    };
    let note = match &unit {
        Some(u) => t.args(
            "phone-note-routed",
            &[("minutes", &minutes.to_string()), ("unit", &u.name)],
        ),
        None => t.get1("phone-note-answered", "minutes", &minutes.to_string()),
    };
    let input = InquiryInput {
        citizen_name: form.name.clone(),
        phone: Some(form.phone.clone()).filter(|p| !p.is_empty()),
        topic: Some(form.topic.clone()).filter(|t| !t.is_empty()),
        body: form.summary.clone(),
        language: Some(staff.config.municipality.language.clone()),
        origin: Origin {
            actor: format!("user:{}", staff.user.id),
            source: addr.0.clone(),
        },
        ..Default::default()
    };
    let call = Call {
        input,
        minutes,
        passed_to: unit.map(|u| u.id),
        note,
    };
    let actor = Actor::user(&staff.user, addr.0.clone());
    let logged = phone::log_call(
        &*state.store,
        &actor,
        &staff.config,
        &staff.user,
        call,
        state.settings.limits,
        Timestamp::now(),
    )
    .await;
    let id = match logged {
        Ok(id) => id,
        Err(PhoneError::Minutes) => return invalid(t, form, "phone-error-minutes"),
        Err(PhoneError::Intake(IntakeError::Store(e))) => return failed(t, e),
        Err(PhoneError::Intake(e)) => {
            let key = format!("error-{}", e.code().replace('_', "-"));
            return invalid(t, form, &key);
        }
    };
    Redirect::to(&format!("/staff/phone?logged={id}")).into_response()
}
