//! The OpenAPI 3 document of the JSON API, kept as a file beside the code. A test checks that
//! it lists every route of the API in [`crate::route_list`] and every error code.

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
        let api: Vec<_> = crate::route_list()
            .into_iter()
            .filter_map(|(m, p)| Some((m, p.strip_prefix("/api/v1")?.to_string())))
            .filter(|(_, p)| p != "/openapi.json")
            .collect();
        assert!(api.len() >= 8, "the API's routes are listed");
        for (method, path) in api {
            let op = &doc["paths"][&path][method.as_str().to_lowercase()];
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
