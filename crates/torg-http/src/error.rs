//! The error boundary: errors become responses with a clear reason and a stable code, and
//! are logged once with their cause. Internals never reach the client.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use torg_core::intake::IntakeError;
use torg_core::reply::ReplyError;
use torg_store::StoreError;

/// An error of the JSON API: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

/// Every code the API can answer with. A test checks that each is documented in the OpenAPI
/// document.
pub const API_ERROR_CODES: &[&str] = &[
    "unauthorized",
    "rate_limited",
    "not_found",
    "invalid_json",
    "invalid_request",
    "missing_field",
    "too_long",
    "invalid_characters",
    "invalid_email",
    "invalid_phone",
    "missing_contact",
    "no_units",
    "attachment_too_large",
    "payload_too_large",
    "unsupported_media_type",
    "forbidden",
    "personal_data",
    "storage_error",
];

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what} in this municipality"),
        )
    }
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }
    /// The store failed (a full disk, a database restarting): 503, nothing acknowledged.
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "internal error");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "storage_error",
            "the server could not store or read this now, and nothing was acknowledged; try again later",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": { "code": self.code, "message": self.message } });
        (self.status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "invalid_request", m),
            StoreError::Database(m) => ApiError::internal(m),
        }
    }
}

impl From<IntakeError> for ApiError {
    fn from(e: IntakeError) -> Self {
        match e {
            IntakeError::Store(s) => s.into(),
            IntakeError::AttachmentTooLarge(..) => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, e.code(), e.to_string())
            }
            other => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                other.code(),
                other.to_string(),
            ),
        }
    }
}

impl From<ReplyError> for ApiError {
    fn from(e: ReplyError) -> Self {
        match e {
            ReplyError::Store(s) => s.into(),
            ReplyError::Input(i) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, i.code(), i.to_string())
            }
            ReplyError::NoFilesOn(_) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "files_not_on_channel",
                e.to_string(),
            ),
            ReplyError::File { .. } => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "file_refused",
                e.to_string(),
            ),
            ReplyError::PersonalData(found) => {
                let mut kinds: Vec<String> = found
                    .iter()
                    .filter_map(|f| serde_json::to_value(f.kind).ok())
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect();
                kinds.sort();
                kinds.dedup();
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "personal_data",
                    format!(
                        "the public answer holds personal data ({}); remove it, answer privately, or send again with \"confirm_personal_data\": true",
                        kinds.join(", ")
                    ),
                )
            }
        }
    }
}

/// Maps axum's JSON rejections (bad syntax, wrong content type, too large) to API errors.
pub fn json_rejection(r: axum::extract::rejection::JsonRejection) -> ApiError {
    let status = r.status();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "invalid_json",
    };
    ApiError::new(status, code, r.body_text())
}
