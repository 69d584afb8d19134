//! The JSON API under `/api/v1`, for integrations and channel connectors. Every call is
//! scoped to the municipality of its API token. Errors are `{"error":{"code","message"}}`
//! with a stable code (see [`crate::error::API_ERROR_CODES`]).

use crate::AppState;
use crate::audit::ClientAddr;
use crate::auth::ApiClient;
use crate::error::{ApiError, json_rejection};
use crate::routes::Routes;
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use torg_core::actor::Actor;
use torg_core::intake::{InquiryInput, receive};
use torg_core::reply::ReplyRequest;
use torg_domain::{Channel, InquiryStatus, MessageKind, Priority};
use torg_domain::{InquiryId, UnitId, UserId};
use torg_store::{Inquiry, InquiryFilter, StatusFilter, Unit, User};

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/openapi.json", crate::openapi::document)
        .post("/inquiries", create)
        .get("/inquiries", list)
        .get("/inquiries/{id}", show)
        .post("/inquiries/{id}/replies", reply)
        .post("/inquiries/{id}/notes", note)
        .post("/inquiries/{id}/assign", assign)
        .post("/inquiries/{id}/close", close)
        .get("/units", units)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateInquiry {
    pub channel: Option<Channel>,
    pub citizen_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub topic: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub language: Option<String>,
    pub priority: Option<Priority>,
    /// The connector's id of the message; a retry with the same id creates nothing new.
    pub external_id: Option<String>,
    /// An auto-reply, a bounce or the municipality's own message: no acknowledgement.
    pub automatic: Option<bool>,
}

async fn create(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    addr: crate::audit::ClientAddr,
    client: ApiClient,
    body: Result<Json<CreateInquiry>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(json_rejection)?;
    let channel = req.channel.unwrap_or(Channel::Api);
    // No acknowledgement for auto-replies, bounces or the municipality's own messages.
    let ack = (!req.automatic.unwrap_or(false)).then(|| {
        crate::acknowledge::acknowledger_for(
            &state,
            client.config.clone(),
            &crate::portal::base_url(&state, &headers),
        )
    });
    let input = InquiryInput {
        citizen_name: req.citizen_name,
        email: req.email,
        phone: req.phone,
        topic: req.topic,
        subject: req.subject,
        body: req.body,
        language: req.language,
        priority: req.priority,
        external_id: req.external_id,
        attachments: vec![],
        origin: torg_store::Origin {
            actor: format!("api:{}", client.token_name),
            source: addr.0,
        },
        ..Default::default()
    };
    let received = receive(
        &*state.store,
        &client.config,
        channel,
        input,
        state.settings.limits,
        Timestamp::now(),
        ack.as_deref(),
    )
    .await?;
    let created = received.created.created;
    tracing::debug!(integration = %client.token_name, id = %received.created.inquiry.id, created, "inquiry via API");
    let mut value = json!({ "inquiry": received.created.inquiry });
    if created {
        // The follow token is shown once, to the connector that passes it on to the citizen.
        value["follow_path"] = json!(format!(
            "/k/{}/follow/{}",
            client.config.municipality.slug, received.follow_token
        ));
    }
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(value)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub unit_id: Option<UnitId>,
    /// `open` (default: everything not closed), `any`, or one status.
    pub status: Option<String>,
    pub channel: Option<String>,
    pub assignee_id: Option<i64>,
    pub q: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Serialize)]
struct ListPage {
    items: Vec<torg_store::InquirySummary>,
    next_cursor: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    client: ApiClient,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let status = match q.status.as_deref() {
        None | Some("open") => StatusFilter::NotClosed,
        Some("any") => StatusFilter::Any,
        Some(s) => StatusFilter::Only(
            s.parse::<InquiryStatus>()
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
        ),
    };
    let channel = q
        .channel
        .as_deref()
        .map(str::parse::<Channel>)
        .transpose()
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let after = match q.cursor.as_deref() {
        None | Some("") => None,
        Some(c) => Some(
            torg_core::search::ListCursor::decode(c)
                .ok_or_else(|| ApiError::bad_request("the cursor is not one this API gave out"))?,
        ),
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 500"));
    }
    let filter = InquiryFilter {
        unit_id: q.unit_id,
        status,
        channel,
        assignee_id: q.assignee_id.map(UserId),
        search: q.q,
        // A token sees the units it reaches (by default every one that is not sensitive);
        // one that reaches them all needs no filter.
        visible_units: (client.units.len() < client.config.units.len())
            .then(|| client.units.clone()),
    };
    let page = torg_core::search::list(
        &*state.store,
        client.config.municipality.id,
        &filter,
        after,
        limit,
        jiff::Timestamp::now(),
    )
    .await?;
    Ok(Json(json!(ListPage {
        items: page.items,
        next_cursor: page.next.map(|c| c.encode()),
    })))
}

async fn show(
    State(state): State<AppState>,
    client: ApiClient,
    addr: ClientAddr,
    Path(id): Path<InquiryId>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let tenant = client.config.municipality.id;
    let inquiry = reachable(&state, &client, id).await?;
    // Reading an inquiry of a sensitive unit is logged, as for staff.
    if client
        .config
        .unit(inquiry.unit_id)
        .is_some_and(|u| u.sensitive)
    {
        crate::audit::record(
            &state,
            tenant,
            format!("api:{}", client.token_name),
            "inquiry.read_sensitive",
            format!("inquiry:{id}"),
            String::new(),
            &addr,
        )
        .await;
    }
    let messages = state.store.messages(tenant, id, true).await?;
    Ok(Json(json!({ "inquiry": inquiry, "messages": messages })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriteMessage {
    pub body: String,
    /// The staff member writing; their first name signs the reply. Without it, the
    /// inquiry's unit signs.
    pub author_user_id: Option<i64>,
    /// On a social network: answer the person privately instead of where they wrote.
    #[serde(default)]
    pub privately: bool,
    /// Send a public answer that holds personal data anyway (after a `personal_data` error).
    #[serde(default)]
    pub confirm_personal_data: bool,
}

async fn write(
    state: &AppState,
    client: &ApiClient,
    addr: &ClientAddr,
    id: InquiryId,
    req: WriteMessage,
    kind: MessageKind,
) -> Result<Response, ApiError> {
    let tenant = client.config.municipality.id;
    let inquiry = reachable(state, client, id).await?;
    let author: Option<User> = match req.author_user_id {
        Some(uid) => Some(
            state
                .store
                .user(tenant, UserId(uid))
                .await?
                .ok_or_else(|| ApiError::not_found("user"))?,
        ),
        None => None,
    };
    let unit: Unit = author
        .as_ref()
        .and_then(|a| a.unit_id)
        .and_then(|u| client.config.unit(u))
        .or_else(|| client.config.unit(inquiry.unit_id))
        .cloned()
        .ok_or_else(|| ApiError::not_found("unit"))?;
    let message = torg_core::reply::reply(
        &*state.store,
        &*state.chats,
        &client.config.municipality,
        &Actor::api(&client.token_name, addr.0.clone()),
        &state.settings.limits,
        Timestamp::now(),
        ReplyRequest {
            inquiry: &inquiry,
            unit: &unit,
            author: author.as_ref(),
            kind,
            body: &req.body,
            privately: req.privately,
            confirm_personal_data: req.confirm_personal_data,
            files: &[],
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!({ "message": message }))).into_response())
}

async fn reply(
    State(state): State<AppState>,
    client: ApiClient,
    addr: ClientAddr,
    Path(id): Path<InquiryId>,
    body: Result<Json<WriteMessage>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(json_rejection)?;
    write(&state, &client, &addr, id, req, MessageKind::Outbound).await
}

async fn note(
    State(state): State<AppState>,
    client: ApiClient,
    addr: ClientAddr,
    Path(id): Path<InquiryId>,
    body: Result<Json<WriteMessage>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body.map_err(json_rejection)?;
    write(&state, &client, &addr, id, req, MessageKind::Note).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    pub unit_id: UnitId,
    pub assignee_id: Option<i64>,
}

async fn assign(
    State(state): State<AppState>,
    client: ApiClient,
    addr: ClientAddr,
    Path(id): Path<InquiryId>,
    body: Result<Json<Assign>, JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Json(req) = body.map_err(json_rejection)?;
    let tenant = client.config.municipality.id;
    reachable(&state, &client, id).await?;
    if !client.reaches(req.unit_id) {
        return Err(ApiError::not_found("unit"));
    }
    let actor = Actor::api(&client.token_name, addr.0);
    torg_core::casework::assign(
        &*state.store,
        &actor,
        tenant,
        id,
        req.unit_id,
        req.assignee_id.map(UserId),
    )
    .await?;
    let inquiry = state
        .store
        .inquiry(tenant, id)
        .await?
        .ok_or_else(|| ApiError::not_found("inquiry"))?;
    Ok(Json(json!({ "inquiry": inquiry })))
}

async fn close(
    State(state): State<AppState>,
    client: ApiClient,
    addr: ClientAddr,
    Path(id): Path<InquiryId>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let tenant = client.config.municipality.id;
    reachable(&state, &client, id).await?;
    let actor = Actor::api(&client.token_name, addr.0);
    torg_core::casework::set_status(
        &*state.store,
        &actor,
        tenant,
        id,
        InquiryStatus::Closed,
        Timestamp::now(),
    )
    .await?;
    let inquiry = state
        .store
        .inquiry(tenant, id)
        .await?
        .ok_or_else(|| ApiError::not_found("inquiry"))?;
    Ok(Json(json!({ "inquiry": inquiry })))
}

async fn units(client: ApiClient) -> Json<serde_json::Value> {
    let reached: Vec<&Unit> = client
        .config
        .units
        .iter()
        .filter(|u| client.reaches(u.id))
        .collect();
    Json(json!({ "items": reached }))
}

/// Inquiry `id`, if the token reaches its unit; else *not found* (its existence is not told).
async fn reachable(
    state: &AppState,
    client: &ApiClient,
    id: InquiryId,
) -> Result<Inquiry, ApiError> {
    state
        .store
        .inquiry(client.config.municipality.id, id)
        .await?
        .filter(|i| client.reaches(i.unit_id))
        .ok_or_else(|| ApiError::not_found("inquiry"))
}
