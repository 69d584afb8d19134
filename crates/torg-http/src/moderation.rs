//! Hiding a comment on the municipality's Facebook page or Instagram account: only with one
//! of the four recognised reasons and a note, by those who speak for the municipality. The
//! network hides it through the Graph API; Torg keeps the original in the thread, notes
//! who hid it, when and why, and logs it.

use crate::AppState;
use crate::audit::ClientAddr;
use crate::auth::Staff;
use crate::i18n::Tr;
use crate::staff::{InquiryQuery, failed, forbidden, show_inquiry, visible_inquiry};
use crate::views::Lang;
use crate::views::render;
use askama::Template;
use axum::extract::{Extension, Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use torg_domain::InquiryId;
use torg_domain::moderation::{HideDecision, HideReason};
use torg_domain::social::{Address, Target};
use torg_domain::{Channel, MessageKind};
use torg_store::Inquiry;

/// The comment an inquiry is, if it came from a Facebook page or Instagram account.
fn comment_of(inquiry: &Inquiry) -> Option<(Address, String)> {
    if !matches!(inquiry.channel, Channel::Facebook | Channel::Instagram) {
        return None;
    }
    let address = Address::parse(inquiry.external_id.as_deref()?).ok()?;
    match &address.target {
        Target::Comment(id) => {
            let id = id.clone();
            Some((address, id))
        }
        _ => None,
    }
}

/// Whether `staff` may hide the comment `inquiry` is.
pub(crate) fn can_hide(staff: &Staff, inquiry: &Inquiry) -> bool {
    comment_of(inquiry).is_some()
        && staff
            .access
            .may_reply(staff.unit_access(inquiry.unit_id), inquiry.channel)
}

/// (code, label) of the four reasons, for the form.
pub(crate) fn reason_options(t: &Tr) -> Vec<(String, String)> {
    HideReason::ALL
        .iter()
        .map(|r| {
            (
                r.as_str().to_string(),
                t.get(&format!("hide-reason-{}", r.as_str().replace('_', "-"))),
            )
        })
        .collect()
}

#[derive(serde::Deserialize)]
pub(crate) struct HideForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    note: String,
}

pub(crate) async fn hide(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<InquiryId>,
    Form(form): Form<HideForm>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Err(r) = staff.check_csrf(&form.csrf) {
        return r.into_response();
    }
    let inquiry = match visible_inquiry(&state, &t, &staff, id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    let Some((address, comment)) = comment_of(&inquiry).filter(|_| can_hide(&staff, &inquiry))
    else {
        return forbidden(t);
    };
    let show_error = |t: Tr, msg: String, status: StatusCode| {
        let state = state.clone();
        let staff = &staff;
        async move {
            show_inquiry(
                &state,
                t,
                staff,
                id,
                &InquiryQuery::default(),
                Some(msg),
                status,
                None,
            )
            .await
        }
    };
    let decision = match HideDecision::new(&form.reason, &form.note) {
        Ok(d) => d,
        Err(e) => {
            let msg = t.get(&format!("error-{}", e.code().replace('_', "-")));
            return show_error(t, msg, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let tenant = staff.config.municipality.id;
    let accounts = match state.store.social_accounts(Some(tenant)).await {
        Ok(a) => a,
        Err(e) => return failed(t, e),
    };
    let account = accounts
        .into_iter()
        .find(|a| a.channel == inquiry.channel && a.account == address.account && a.approved);
    let (Some(mut account), Some(key)) = (account, state.settings.secret_key.as_ref()) else {
        let msg = t.get("error-hide-no-account");
        return show_error(t, msg, StatusCode::CONFLICT).await;
    };
    let place = torg_core::sealing::Place::SocialToken {
        tenant: account.tenant_id,
        channel: account.channel.as_str(),
        account: &account.account,
    };
    account.access_token = match key.open(&place, &account.access_token) {
        Ok(token) => token,
        Err(e) => return failed(t, e),
    };
    crate::use_ring_crypto();
    let graph = torg_social::graph::Graph::new(
        reqwest::Client::new(),
        &account.api_base,
        &account.access_token,
    );
    if let Err(e) = graph.hide(inquiry.channel, &comment, true).await {
        let msg = t.get1("error-hide-network", "answer", &e.to_string());
        return show_error(t, msg, StatusCode::BAD_GATEWAY).await;
    }
    // The original stays in the thread; the note says who hid it and why.
    let reason_label = t.get(&format!(
        "hide-reason-{}",
        decision.reason.as_str().replace('_', "-")
    ));
    let note = t.args(
        "hide-note",
        &[("reason", &reason_label), ("note", &decision.note)],
    );
    let unit = match staff.config.unit(inquiry.unit_id) {
        Some(u) => u.clone(),
        None => return failed(t, "the inquiry's unit is gone"),
    };
    if let Err(e) = torg_core::reply::write(
        &*state.store,
        &staff.config.municipality,
        &inquiry,
        &unit,
        Some(&staff.user),
        MessageKind::Note,
        (&note, vec![]),
        state.settings.limits.text,
        jiff::Timestamp::now(),
        None,
        Some(torg_core::actor::Actor::user(&staff.user, addr.0).entry(
            "comment.hidden",
            format!("inquiry:{id}"),
            format!("{}: {}", decision.reason.as_str(), decision.note),
        )),
    )
    .await
    {
        return failed(t, e);
    }
    Redirect::to(&format!("/staff/inquiries/{id}?done=hidden")).into_response()
}

// ---------------------------------------------------------------- the moderation queue

pub(crate) fn routes() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/staff/moderation", queue)
        .post("/staff/moderation/keywords", set_keywords)
}

/// Who moderates: those who speak for the municipality in public.
pub(crate) fn moderates(staff: &Staff) -> bool {
    staff.can(torg_domain::Permission::SpeakPublicly)
}

/// The flags of a comment in words.
pub(crate) fn flag_labels(t: &Tr, flags: &[torg_domain::moderation::Flag]) -> Vec<String> {
    use torg_domain::moderation::Flag;
    flags
        .iter()
        .map(|f| match f {
            Flag::PersonalData { kind } => {
                let code = serde_json::to_value(kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                t.get(&format!("flag-{}", code.replace('_', "-")))
            }
            Flag::Keyword { word } => t.get1("flag-keyword", "word", word),
        })
        .collect()
}

struct QueueRow {
    id: InquiryId,
    reference: String,
    channel: String,
    citizen: String,
    text: String,
    flags: Vec<String>,
}

#[derive(Template)]
#[template(path = "moderation.html")]
struct QueuePage {
    t: Tr,
    c: crate::views::Chrome,
    flagged: Vec<QueueRow>,
    others: usize,
    keywords: String,
    notice: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct QueueQuery {
    #[serde(default)]
    done: String,
}

/// `GET /staff/moderation`: open comments on the municipality's public pages that the guard or
/// the keyword list flags, with what they were flagged for.
async fn queue(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    axum::extract::Query(q): axum::extract::Query<QueueQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if !moderates(&staff) {
        return forbidden(t);
    }
    let tenant = staff.config.municipality.id;
    let keywords = match state.store.moderation_keywords(tenant).await {
        Ok(k) => k,
        Err(e) => return failed(t, e),
    };
    let mut flagged = Vec::new();
    let mut others = 0;
    for channel in [Channel::Facebook, Channel::Instagram, Channel::Mastodon] {
        let filter = torg_store::InquiryFilter {
            channel: Some(channel),
            visible_units: Some(staff.visible_units()),
            ..Default::default()
        };
        let list = match state.store.list_inquiries(tenant, &filter, None, 200).await {
            Ok(l) => l,
            Err(e) => return failed(t, e),
        };
        let ids: Vec<InquiryId> = list.iter().map(|i| i.id).collect();
        let threads = match state.store.threads(tenant, &ids).await {
            Ok(t) => t,
            Err(e) => return failed(t, e),
        };
        for i in list {
            let text = threads
                .get(&i.id)
                .into_iter()
                .flatten()
                .filter(|m| m.kind == MessageKind::Inbound)
                .map(|m| m.body.as_str())
                .collect::<Vec<_>>()
                .join("\n");
            let flags = torg_domain::moderation::flags(&text, &keywords);
            if flags.is_empty() {
                others += 1;
                continue;
            }
            flagged.push(QueueRow {
                id: i.id,
                reference: i.reference.to_string(),
                channel: crate::views::channel_label(&t, i.channel),
                citizen: i.citizen_name,
                text: i.preview,
                flags: flag_labels(&t, &flags),
            });
        }
    }
    let page = QueuePage {
        c: crate::staff::chrome(&staff, "/staff/moderation"),
        flagged,
        others,
        keywords: keywords.join(", "),
        notice: (q.done == "keywords").then(|| t.get("moderation-keywords-saved")),
        t,
    };
    render(StatusCode::OK, &page)
}

/// `POST /staff/moderation/keywords`: the list of words that flag a comment.
async fn set_keywords(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    body: axum::body::Bytes,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let form = match crate::admin::staff_form(&staff, &t, &body, moderates(&staff)) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let actor = torg_core::actor::Actor::user(&staff.user, addr.0.clone());
    if let Err(e) = torg_core::policies::set_moderation_keywords(
        &*state.store,
        &actor,
        staff.config.municipality.id,
        form.get("keywords"),
    )
    .await
    {
        return failed(t, e);
    }
    Redirect::to("/staff/moderation?done=keywords").into_response()
}
