//! The OpenAPI 3 document of the JSON API, kept as a file beside the code. A test checks that
//! it lists every route in [`crate::api::ROUTES`] and every error code.

use axum::Json;

pub const DOCUMENT: &str = include_str!("../openapi.json");

pub async fn document() -> Json<serde_json::Value> {
    Json(serde_json::from_str(DOCUMENT).unwrap_or_else(|_| serde_json::json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_every_route_and_error_code() {
        let doc: serde_json::Value = serde_json::from_str(DOCUMENT).expect("openapi.json is JSON");
        assert_eq!(
            doc["openapi"].as_str().map(|v| v.starts_with("3.")),
            Some(true)
        );
        for (method, path) in crate::api::ROUTES {
            let p = path.trim_start_matches("/api/v1");
            let op = &doc["paths"][p][method.to_lowercase()];
            assert!(op.is_object(), "{method} {path} is not documented");
        }
        let codes = doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]
            .as_array()
            .expect("error codes listed");
        for code in crate::error::API_ERROR_CODES {
            assert!(
                codes.iter().any(|c| c == code),
                "error code {code} is not documented"
            );
        }
    }
}
