//! Single sign-on for staff with the municipality's identity provider (OpenID Connect), beside
//! local passwords: the authorization code flow with PKCE, issuer discovery, and the ID token's
//! signature and claims (issuer, audience, expiry, nonce) checked by the `openidconnect` crate.
//! The role comes from a claim through the municipality's role map, at every login.
//!
//! The flow's state (CSRF state, nonce, PKCE verifier) waits in a short-lived HttpOnly cookie
//! between the redirect to the provider and its answer, so any node of a cluster can finish it.

use crate::AppState;
use crate::audit::{ClientAddr, record};
use crate::auth::{constant_time_eq, private_cookie, tenant_by_slug};
use crate::i18n::Tr;
use crate::routes::Routes;
use crate::staff::start_session;
use crate::views::{self, Lang, cookie};
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope,
};
use torg_core::directory::{SignOnError, SsoPerson, sign_on};
use torg_domain::TenantId;
use torg_domain::access::{parse_role_map, role_from_claim};
use torg_store::{StoreError, User};

const FLOW_COOKIE: &str = "torg_sso";
/// How long the provider may take to send the person back.
const FLOW_SECONDS: i64 = 600;

pub(crate) fn routes() -> Routes {
    Routes::new()
        .get("/staff/sso/{slug}", start)
        .get("/staff/sso/{slug}/callback", callback)
}

/// Why a single sign-on failed; shown to the person and logged.
#[derive(Debug, thiserror::Error)]
enum SsoError {
    #[error("this municipality has no single sign-on")]
    NotConfigured,
    #[error("the identity provider could not be reached or answered wrongly: {0}")]
    Provider(String),
    #[error("the sign-on has expired or was started elsewhere")]
    State,
    #[error("the identity provider's token was refused: {0}")]
    Token(String),
    #[error("the identity provider gives this person no role in Torg")]
    NoRole,
    #[error("the account is deactivated")]
    Deactivated,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SsoError {
    /// The message key and status shown to the person.
    fn shown(&self) -> (&'static str, StatusCode) {
        match self {
            SsoError::NotConfigured => ("sso-not-configured", StatusCode::NOT_FOUND),
            SsoError::Provider(_) => ("sso-provider-failed", StatusCode::BAD_GATEWAY),
            SsoError::State => ("sso-expired", StatusCode::BAD_REQUEST),
            SsoError::Token(_) => ("sso-token-refused", StatusCode::UNAUTHORIZED),
            SsoError::NoRole => ("sso-no-role", StatusCode::FORBIDDEN),
            SsoError::Deactivated => ("login-wrong", StatusCode::UNAUTHORIZED),
            SsoError::Store(_) => ("error-storage", StatusCode::SERVICE_UNAVAILABLE),
        }
    }
}

/// The HTTP client for the provider: no redirects (the token endpoint must answer itself).
fn http_client() -> Result<Http, SsoError> {
    crate::use_ring_crypto();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map(Http)
        .map_err(|e| SsoError::Provider(e.to_string()))
}

/// Our HTTP client as the library's.
struct Http(reqwest::Client);

impl<'c> openidconnect::AsyncHttpClient<'c> for Http {
    type Error = reqwest::Error;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<openidconnect::HttpResponse, reqwest::Error>> + Send + 'c>,
    >;

    fn call(&'c self, request: openidconnect::HttpRequest) -> Self::Future {
        Box::pin(send(&self.0, request))
    }
}

/// Sends one of the library's requests with our client.
async fn send(
    client: &reqwest::Client,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, reqwest::Error> {
    let (parts, body) = request.into_parts();
    let response = client
        .request(parts.method, parts.uri.to_string())
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut builder = axum::http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = response.bytes().await?.to_vec();
    Ok(builder
        .body(body)
        .unwrap_or_else(|_| axum::http::Response::new(Vec::new())))
}

/// A client of a discovered provider: authorization endpoint known, token endpoint announced.
type ProviderClient = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// Discovers the provider and builds the client for a municipality.
async fn provider_client(
    state: &AppState,
    headers: &HeaderMap,
    tenant: TenantId,
    slug: &str,
) -> Result<(ProviderClient, Http, torg_store::SsoProvider), SsoError> {
    let provider = state
        .store
        .sso_provider(tenant)
        .await?
        .ok_or(SsoError::NotConfigured)?;
    let http = http_client()?;
    let issuer =
        IssuerUrl::new(provider.issuer.clone()).map_err(|e| SsoError::Provider(e.to_string()))?;
    let metadata = CoreProviderMetadata::discover_async(issuer, &http)
        .await
        .map_err(|e| SsoError::Provider(e.to_string()))?;
    let redirect = format!(
        "{}/staff/sso/{slug}/callback",
        crate::portal::base_url(state, headers)
    );
    // Sealed by `torg sso set` for this municipality.
    let secret = match &state.settings.secret_key {
        Some(key) => key
            .open(
                &torg_core::sealing::Place::SsoClient { tenant },
                &provider.client_secret,
            )
            .map_err(|e| SsoError::Provider(format!("the client secret cannot be opened: {e}")))?,
        None => provider.client_secret.clone(),
    };
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(provider.client_id.clone()),
        Some(ClientSecret::new(secret)),
    )
    .set_redirect_uri(RedirectUrl::new(redirect).map_err(|e| SsoError::Provider(e.to_string()))?);
    Ok((client, http, provider))
}

fn failure(state: &AppState, lang: &str, e: &SsoError) -> Response {
    let t = Tr::new(state.catalog.clone(), lang);
    let (key, status) = e.shown();
    let msg = t.get(key);
    views::error_page(t, status, "sso-heading", msg, "/staff/login")
}

/// Sends the person to the identity provider.
async fn start(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    headers: HeaderMap,
    Path(slug): Path<String>,
) -> Response {
    let config = match tenant_by_slug(&state, &slug).await {
        Ok(Some(c)) => c,
        Ok(None) => return failure(&state, &lang, &SsoError::NotConfigured),
        Err(e) => return failure(&state, &lang, &SsoError::Store(e)),
    };
    let (client, _, _) =
        match provider_client(&state, &headers, config.municipality.id, &slug).await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, municipality = %slug, "single sign-on could not start");
                return failure(&state, &lang, &e);
            }
        };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let flow = format!(
        "{slug}.{}.{}.{}",
        csrf.secret(),
        nonce.secret(),
        verifier.secret()
    );
    let mut res = Redirect::to(url.as_str()).into_response();
    if let Ok(v) = HeaderValue::from_str(&private_cookie(
        FLOW_COOKIE,
        &flow,
        FLOW_SECONDS,
        state.settings.secure_cookies,
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

#[derive(serde::Deserialize)]
struct CallbackQuery {
    #[serde(default)]
    code: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    error: String,
}

/// The provider sends the person back with a code: exchange it, check the ID token, log in.
async fn callback(
    State(state): State<AppState>,
    Extension(Lang(lang)): Extension<Lang>,
    headers: HeaderMap,
    addr: ClientAddr,
    Path(slug): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let config = match tenant_by_slug(&state, &slug).await {
        Ok(Some(c)) => c,
        Ok(None) => return failure(&state, &lang, &SsoError::NotConfigured),
        Err(e) => return failure(&state, &lang, &SsoError::Store(e)),
    };
    let tenant = config.municipality.id;
    let result = sign_in(&state, &headers, &addr, &slug, tenant, &q).await;
    let mut res = match result {
        Ok(user) => {
            match start_session(&state, &headers, &addr, tenant, &user, "login.sso").await {
                Ok(res) => res,
                Err(e) => failure(&state, &lang, &SsoError::Store(e)),
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, municipality = %slug, "single sign-on refused");
            record(
                &state,
                tenant,
                "sso".into(),
                "login.failed",
                String::new(),
                e.to_string(),
                &addr,
            )
            .await;
            failure(&state, &lang, &e)
        }
    };
    // The flow is over either way.
    if let Ok(v) = HeaderValue::from_str(&private_cookie(
        FLOW_COOKIE,
        "",
        0,
        state.settings.secure_cookies,
    )) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

async fn sign_in(
    state: &AppState,
    headers: &HeaderMap,
    addr: &ClientAddr,
    slug: &str,
    tenant: TenantId,
    q: &CallbackQuery,
) -> Result<User, SsoError> {
    if !q.error.is_empty() {
        return Err(SsoError::Token(format!(
            "the provider answered {}",
            q.error
        )));
    }
    let flow = cookie(headers, FLOW_COOKIE).ok_or(SsoError::State)?;
    let mut parts = flow.splitn(4, '.');
    let (Some(flow_slug), Some(csrf), Some(nonce), Some(verifier)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(SsoError::State);
    };
    if flow_slug != slug
        || q.state.is_empty()
        || !constant_time_eq(csrf.as_bytes(), q.state.as_bytes())
    {
        return Err(SsoError::State);
    }
    let (client, http, provider) = provider_client(state, headers, tenant, slug).await?;
    let token = client
        .exchange_code(AuthorizationCode::new(q.code.clone()))
        .map_err(|e| SsoError::Provider(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_string()))
        .request_async(&http)
        .await
        .map_err(|e| SsoError::Token(e.to_string()))?;
    use openidconnect::TokenResponse;
    let id_token = token
        .id_token()
        .ok_or_else(|| SsoError::Token("no ID token in the answer".into()))?;
    let claims = id_token
        .claims(&client.id_token_verifier(), &Nonce::new(nonce.to_string()))
        .map_err(|e| SsoError::Token(e.to_string()))?;
    let subject = claims.subject().to_string();
    // A verified address may link an account an administrator made for it; an unverified one
    // links nothing.
    let verified_email = claims
        .email()
        .filter(|_| claims.email_verified() == Some(true))
        .map(|e| e.to_string());
    let username = claims
        .preferred_username()
        .map(|u| u.to_string())
        .or_else(|| claims.email().map(|e| e.to_string()))
        .unwrap_or_else(|| subject.clone());
    let full_name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.to_string())
        .unwrap_or_else(|| username.clone());
    // The signature is checked: read the role claim from the same token.
    let values = claim_values(&id_token.to_string(), &provider.role_claim);
    let map = parse_role_map(&provider.role_map).map_err(SsoError::Provider)?;
    let role = role_from_claim(&values, &map).ok_or(SsoError::NoRole)?;
    let identity = torg_domain::access::sso_identity(&provider.issuer, &subject);
    let person = SsoPerson {
        identity: &identity,
        username: &username,
        full_name: &full_name,
        verified_email: verified_email.as_deref(),
    };
    let signed = match sign_on(&*state.store, tenant, person, role, &addr.0).await {
        Ok(s) => s,
        Err(SignOnError::Deactivated) => return Err(SsoError::Deactivated),
        Err(SignOnError::Store(e)) => return Err(SsoError::Store(e)),
    };
    if signed.role_changed {
        state.forget_cached_sessions();
    }
    Ok(signed.user)
}

/// The values of `claim` in the (already verified) JWT's payload: a string or a list of them.
fn claim_values(jwt: &str, claim: &str) -> Vec<String> {
    let payload = jwt
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
    match payload.as_ref().and_then(|p| p.get(claim)) {
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        Some(serde_json::Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(String::from))
            .collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_claims_are_read_as_a_string_or_a_list() {
        let enc = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let jwt = |payload: &str| format!("{}.{}.sig", enc("{}"), enc(payload));
        assert_eq!(
            claim_values(&jwt(r#"{"groups":["a","b",3]}"#), "groups"),
            vec!["a", "b"]
        );
        assert_eq!(claim_values(&jwt(r#"{"role":"x"}"#), "role"), vec!["x"]);
        assert!(claim_values(&jwt(r#"{"role":"x"}"#), "groups").is_empty());
        assert!(claim_values("not a jwt", "groups").is_empty());
    }
}
