//! The archive in the staff UI: on every inquiry page Torg's proposal (archive-worthy or not,
//! and why) and the archivist's decision with the screening for the public journal; for a
//! request for access, the reply template citing the law. The decision is logged.

use crate::AppState;
use crate::audit::ClientAddr;
use crate::auth::Staff;
use crate::i18n::Tr;
use crate::staff::{InquiryQuery, failed, forbidden, show_inquiry, visible_inquiry};
use crate::views::{self, Lang};
use axum::extract::{Extension, Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use torg_domain::InquiryId;
use torg_domain::Permission;
use torg_domain::access_request::{AccessAnswer, reply_template};
use torg_domain::archive::{ArchiveDecision, Screening, ScreeningBasis};
use torg_store::{ArchiveRecord, Inquiry, Message, Origin, User};

/// What the inquiry page shows of the archive.
pub(crate) struct ArchivePanel {
    /// Torg proposes keeping the inquiry as a record.
    pub proposed: bool,
    /// Why, in words.
    pub reasons: Vec<String>,
    /// The decision in words, with who and when; `None` while undecided.
    pub decided: Option<String>,
    pub decided_archive: bool,
    pub decided_not: bool,
    pub can_decide: bool,
    /// (code, citation, selected) of the screening bases.
    pub bases: Vec<(String, String, bool)>,
    pub screen_names: bool,
    pub public_title: String,
    /// A request for access: the reply template's choices are shown.
    pub access_request: bool,
    /// (code, citation) of the grounds a refusal may cite.
    pub grounds: Vec<(String, String)>,
}

/// Labels of the screening bases: the citation itself, as the journal shows it.
fn bases(
    country: Option<torg_domain::calendar::Country>,
    selected: Option<ScreeningBasis>,
) -> Vec<(String, String, bool)> {
    ScreeningBasis::ALL
        .iter()
        .map(|b| {
            (
                b.as_str().to_string(),
                b.citation_in(country).to_string(),
                Some(*b) == selected,
            )
        })
        .collect()
}

pub(crate) fn panel(
    t: &Tr,
    staff: &Staff,
    inquiry: &Inquiry,
    messages: &[Message],
    record: Option<&ArchiveRecord>,
    users: &[User],
    zone: &str,
) -> ArchivePanel {
    let proposal = torg_core::archive::proposal(
        inquiry.topic.as_deref(),
        inquiry.subject.as_deref(),
        messages,
    );
    let decided = record.map(|r| {
        let who = r
            .decided_by
            .and_then(|u| users.iter().find(|x| x.id == u))
            .map(|u| u.full_name.clone())
            .unwrap_or_else(|| "Torg".into());
        t.args(
            &format!("archive-decided-{}", r.decision.as_str().replace('_', "-")),
            &[("who", &who), ("when", &views::when(r.decided_at, zone))],
        )
    });
    let screening = record.map(|r| r.screening.clone()).unwrap_or_default();
    ArchivePanel {
        proposed: proposal.worthy,
        reasons: proposal
            .reasons
            .iter()
            .map(|r| t.get(&format!("archive-reason-{}", r.as_str().replace('_', "-"))))
            .collect(),
        decided,
        decided_archive: record.is_some_and(|r| r.decision == ArchiveDecision::Archive),
        decided_not: record.is_some_and(|r| r.decision == ArchiveDecision::NotArchive),
        can_decide: staff.can(Permission::DecideArchive),
        bases: bases(staff.config.country(), screening.basis),
        screen_names: screening.names,
        public_title: screening.public_title.unwrap_or_default(),
        access_request: inquiry.topic.as_deref() == Some(torg_domain::access_request::TOPIC),
        grounds: ScreeningBasis::ALL
            .iter()
            .map(|b| {
                (
                    b.as_str().to_string(),
                    b.citation_in(staff.config.country()).to_string(),
                )
            })
            .collect(),
    }
}

/// The reply box's text for a request for access, when the template was asked for.
pub(crate) fn access_reply(
    t: &Tr,
    country: Option<torg_domain::calendar::Country>,
    inquiry: &Inquiry,
    answer: &str,
    ground: &str,
) -> Option<String> {
    let answer = AccessAnswer::parse(answer)?;
    let grounds: Vec<ScreeningBasis> = ground.parse().ok().into_iter().collect();
    let document = inquiry
        .subject
        .clone()
        .unwrap_or_else(|| t.get("access-document-default"));
    Some(reply_template(
        country,
        &inquiry.language,
        answer,
        &grounds,
        &document,
    ))
}

#[derive(serde::Deserialize)]
pub(crate) struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
    #[serde(default)]
    basis: String,
    #[serde(default)]
    screen_names: Option<String>,
    #[serde(default)]
    public_title: String,
}

/// `POST /staff/inquiries/{id}/archive`: the archivist decides.
pub(crate) async fn decide(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    Path(id): Path<InquiryId>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if let Err(r) = staff.check_csrf(&form.csrf) {
        return r.into_response();
    }
    let inquiry = match visible_inquiry(&state, &t, &staff, id).await {
        Ok(i) => i,
        Err(r) => return r,
    };
    if !staff.can(Permission::DecideArchive) {
        return forbidden(t);
    }
    let basis = match form.basis.as_str() {
        "" => Ok(None),
        b => b.parse::<ScreeningBasis>().map(Some),
    };
    let (decision, basis) = match (form.decision.parse::<ArchiveDecision>(), basis) {
        (Ok(d), Ok(b)) => (d, b),
        (Err(e), _) | (_, Err(e)) => {
            let msg = t.get(&format!(
                "error-archive-{}",
                match e {
                    torg_domain::archive::ArchiveError::NoDecision => "decision",
                    torg_domain::archive::ArchiveError::UnknownBasis => "basis",
                }
            ));
            return show_inquiry(
                &state,
                t,
                &staff,
                id,
                &InquiryQuery::default(),
                Some(msg),
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
            )
            .await;
        }
    };
    let public_title = Some(form.public_title.trim().to_string()).filter(|t| !t.is_empty());
    let screening = Screening {
        basis,
        names: form.screen_names.is_some(),
        public_title,
    };
    let origin = Origin {
        actor: format!("user:{}", staff.user.id),
        source: addr.0.clone(),
    };
    if let Err(e) = torg_core::archive::decide(
        &*state.store,
        &inquiry,
        decision,
        screening,
        Some(staff.user.id),
        &origin,
        jiff::Timestamp::now(),
    )
    .await
    {
        return failed(t, e);
    }
    Redirect::to(&format!("/staff/inquiries/{id}?done=archive")).into_response()
}

// ---------------------------------------------------------------- the archivist's page

pub(crate) fn routes() -> crate::routes::Routes {
    crate::routes::Routes::new()
        .get("/staff/archive", archive_page)
        .post("/staff/archive/retention", set_retention)
}

struct WorkRow {
    id: InquiryId,
    reference: String,
    channel: String,
    citizen: String,
    preview: String,
    proposed: bool,
    reasons: String,
}

struct DeletionRow {
    reference: String,
    received: String,
    closed: String,
    deleted: String,
    messages: i64,
    attachments: i64,
}

#[derive(askama::Template)]
#[template(path = "archive.html")]
struct ArchivePage {
    t: Tr,
    c: crate::views::Chrome,
    work: Vec<WorkRow>,
    retention_days: u32,
    deletions: Vec<DeletionRow>,
    slug: String,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
pub(crate) struct ArchiveQuery {
    #[serde(default)]
    done: String,
}

async fn render_archive(
    state: &AppState,
    t: Tr,
    staff: &Staff,
    notice: Option<String>,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let tenant = staff.config.municipality.id;
    let zone = staff.config.municipality.time_zone.clone();
    let (list, days, deletions) = match tokio::try_join!(
        state.store.undecided_closed(tenant, 50),
        state.store.retention_days(tenant),
        state.store.deletion_log(tenant, 50)
    ) {
        Ok(x) => x,
        Err(e) => return failed(t, e),
    };
    let list: Vec<_> = list
        .into_iter()
        .filter(|i| staff.sees_unit(i.unit_id))
        .collect();
    let ids: Vec<InquiryId> = list.iter().map(|i| i.id).collect();
    let threads = match state.store.threads(tenant, &ids).await {
        Ok(t) => t,
        Err(e) => return failed(t, e),
    };
    let mut work = Vec::new();
    for i in list {
        let messages = threads.get(&i.id).map(Vec::as_slice).unwrap_or_default();
        let proposal =
            torg_core::archive::proposal(i.topic.as_deref(), i.subject.as_deref(), messages);
        work.push(WorkRow {
            id: i.id,
            reference: i.reference.to_string(),
            channel: views::channel_label(&t, i.channel),
            citizen: i.citizen_name,
            preview: i.preview,
            proposed: proposal.worthy,
            reasons: proposal
                .reasons
                .iter()
                .map(|r| t.get(&format!("archive-reason-{}", r.as_str().replace('_', "-"))))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    // What Torg proposes keeping first: those are the ones that wait for a decision.
    work.sort_by_key(|w| !w.proposed);
    let page = ArchivePage {
        c: crate::staff::chrome(staff, "/staff/archive"),
        work,
        retention_days: days,
        deletions: deletions
            .into_iter()
            .map(|d| DeletionRow {
                reference: d.reference,
                received: views::when(d.received_at, &zone),
                closed: d
                    .closed_at
                    .map(|c| views::when(c, &zone))
                    .unwrap_or_default(),
                deleted: views::when(d.deleted_at, &zone),
                messages: d.messages,
                attachments: d.attachments,
            })
            .collect(),
        slug: staff.config.municipality.slug.clone(),
        notice,
        error,
        t,
    };
    crate::views::render(status, &page)
}

/// `GET /staff/archive`: closed inquiries waiting for the archivist (Torg's proposals first),
/// the retention time, and the deletion log.
async fn archive_page(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    axum::extract::Query(q): axum::extract::Query<ArchiveQuery>,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    if !staff.can(Permission::DecideArchive) {
        return forbidden(t);
    }
    let notice = (q.done == "retention").then(|| t.get("archive-retention-saved"));
    render_archive(&state, t, &staff, notice, None, StatusCode::OK).await
}

/// `POST /staff/archive/retention`: how many days closed inquiries that are not records are
/// kept (30 to 3,650).
async fn set_retention(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    staff: Staff,
    addr: ClientAddr,
    body: axum::body::Bytes,
) -> Response {
    let t = Tr::new(state.catalog.clone(), &lang);
    let form =
        match crate::admin::staff_form(&staff, &t, &body, staff.can(Permission::DecideArchive)) {
            Ok(f) => f,
            Err(r) => return *r,
        };
    let actor = torg_core::actor::Actor::user(&staff.user, addr.0.clone());
    let days = form.get("days").trim().parse::<u32>().unwrap_or(0);
    let set = torg_core::policies::set_retention_days(
        &*state.store,
        &actor,
        staff.config.municipality.id,
        days,
    )
    .await;
    if let Err(torg_core::policies::PolicyError::RetentionOutOfRange) = set {
        let msg = t.get("error-retention-days");
        return render_archive(
            &state,
            t,
            &staff,
            None,
            Some(msg),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    if let Err(e) = set {
        return failed(t, e);
    }
    Redirect::to("/staff/archive?done=retention").into_response()
}
