//! Single sign-on against a stand-in identity provider: a small OpenID Connect server that
//! publishes its discovery document and keys, runs the authorization code flow with PKCE and
//! signs real RS256 ID tokens — good ones, and expired, wrong-audience, wrong-signature,
//! wrong-nonce and role-less ones that Torg must refuse.

use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use torg_domain::Role;
use torg_domain::TenantId;
use torg_store::{NewMunicipality, Store};

const CLIENT_ID: &str = "torg";
const CLIENT_SECRET: &str = "klienthemmelighet";

/// What the next ID token looks like.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Good,
    Admin,
    Expired,
    WrongAudience,
    WrongSignature,
    WrongNonce,
    NoRole,
    /// The provider's group is called like a Torg role, but the role map does not name it.
    RoleNamedGroup,
    /// Another person at the provider who calls themselves "per", with per's address unverified.
    Impostor,
    /// Per, with his address verified.
    Per,
}

struct Idp {
    issuer: String,
    key: rsa::RsaPrivateKey,
    forger: rsa::RsaPrivateKey,
    mode: Mode,
    /// code → (nonce, PKCE challenge, redirect URI)
    codes: HashMap<String, (String, String, String)>,
}

type Shared = Arc<Mutex<Idp>>;

fn key(pem: &str) -> rsa::RsaPrivateKey {
    rsa::RsaPrivateKey::from_pkcs8_pem(pem).expect("test key")
}

async fn discovery(State(idp): State<Shared>) -> Json<Value> {
    let issuer = idp.lock().expect("lock").issuer.clone();
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"]
    }))
}

async fn jwks(State(idp): State<Shared>) -> Json<Value> {
    let public = idp.lock().expect("lock").key.to_public_key();
    Json(json!({"keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": "k1",
        "n": B64.encode(public.n().to_bytes_be()),
        "e": B64.encode(public.e().to_bytes_be()),
    }]}))
}

async fn authorize(
    State(idp): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    if get("client_id") != CLIENT_ID
        || get("response_type") != "code"
        || get("code_challenge_method") != "S256"
        || !get("scope").split(' ').any(|s| s == "openid")
    {
        return (StatusCode::BAD_REQUEST, "bad authorization request").into_response();
    }
    let code = format!("kode-{}", get("state"));
    idp.lock().expect("lock").codes.insert(
        code.clone(),
        (get("nonce"), get("code_challenge"), get("redirect_uri")),
    );
    Redirect::to(&format!(
        "{}?code={code}&state={}",
        get("redirect_uri"),
        get("state")
    ))
    .into_response()
}

fn sign(key: &rsa::RsaPrivateKey, claims: &Value) -> String {
    let header = B64.encode(br#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#);
    let payload = B64.encode(claims.to_string());
    let input = format!("{header}.{payload}");
    let signature = SigningKey::<rsa::sha2::Sha256>::new(key.clone()).sign(input.as_bytes());
    format!("{input}.{}", B64.encode(signature.to_bytes()))
}

async fn token(
    State(idp): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let idp = &mut *idp.lock().expect("lock");
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok());
    if basic.as_deref() != Some(&format!("{CLIENT_ID}:{CLIENT_SECRET}")) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid_client"})),
        )
            .into_response();
    }
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let Some((nonce, challenge, redirect)) = idp.codes.remove(&get("code")) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    };
    let verifier_hash = B64.encode(<rsa::sha2::Sha256 as rsa::sha2::Digest>::digest(
        get("code_verifier").as_bytes(),
    ));
    if verifier_hash != challenge || redirect != get("redirect_uri") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    let now = jiff::Timestamp::now().as_second();
    let mode = idp.mode;
    let roles = match mode {
        Mode::NoRole => json!(["alle-ansatte"]),
        Mode::RoleNamedGroup => json!(["alle-ansatte", "administrator"]),
        Mode::Admin => json!(["alle-ansatte", "torg-admin"]),
        _ => json!(["alle-ansatte", "torg-saksbehandler"]),
    };
    let (sub, username, verified) = match mode {
        Mode::Impostor => ("annen-7", "per", false),
        Mode::Per => ("ansatt-77", "per.p", true),
        _ => ("ansatt-42", "nina", false),
    };
    let mut claims = json!({
        "iss": idp.issuer,
        "sub": sub,
        "aud": if mode == Mode::WrongAudience { "en-annen-app" } else { CLIENT_ID },
        "iat": now,
        "exp": if mode == Mode::Expired { now - 600 } else { now + 300 },
        "nonce": if mode == Mode::WrongNonce { "feil".to_string() } else { nonce },
        "preferred_username": username,
        "name": "Nina Nord",
        "roles": roles,
    });
    if matches!(mode, Mode::Impostor | Mode::Per) {
        claims["email"] = json!("per@alfa.kommune.no");
        claims["email_verified"] = json!(verified);
    }
    let signer = if mode == Mode::WrongSignature {
        &idp.forger
    } else {
        &idp.key
    };
    Json(json!({
        "access_token": "tilgang",
        "token_type": "Bearer",
        "expires_in": 300,
        "id_token": sign(signer, &claims),
    }))
    .into_response()
}

struct Setup {
    base: String,
    idp: Shared,
    store: Arc<dyn Store>,
    tenant: TenantId,
    _dir: tempfile::TempDir,
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

async fn setup() -> Setup {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let issuer = format!("http://{}", listener.local_addr().expect("addr"));
    let idp = Arc::new(Mutex::new(Idp {
        issuer: issuer.clone(),
        key: key(include_str!("fixtures/idp-key.pem")),
        forger: key(include_str!("fixtures/forger-key.pem")),
        mode: Mode::Good,
        codes: HashMap::new(),
    }));
    let router = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .with_state(idp.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let dir = tempfile::tempdir().expect("tmp");
    let store = torg_store_sql::open(&dir.path().join("torg.db").to_string_lossy())
        .await
        .expect("store");
    let m = store
        .create_municipality(NewMunicipality {
            slug: "alfa".into(),
            name: "Alfa kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await
        .expect("m");
    store
        .create_unit(m.id, "Servicetorget", true, false, None)
        .await
        .expect("unit");
    store
        .set_sso_provider(
            m.id,
            Some(torg_store::SsoProvider {
                issuer,
                client_id: CLIENT_ID.into(),
                client_secret: CLIENT_SECRET.into(),
                role_claim: "roles".into(),
                role_map: "torg-admin=administrator, torg-saksbehandler=case_handler".into(),
            }),
            None,
        )
        .await
        .expect("sso");
    let catalog = Arc::new(torg_http::Catalog::load(None).expect("catalog"));
    let settings = torg_http::WebSettings {
        rate_limits: torg_http::RateLimits::OFF,
        ..Default::default()
    };
    let state = torg_http::AppState::new(store.clone(), catalog, settings);
    let base = serve(torg_http::router(state)).await;
    Setup {
        base,
        idp,
        store,
        tenant: m.id,
        _dir: dir,
    }
}

/// How Torg links a person of the stand-in provider.
fn identity(s: &Setup, subject: &str) -> String {
    torg_domain::access::sso_identity(&s.idp.lock().expect("lock").issuer, subject)
}

fn client() -> reqwest::Client {
    torg_http::use_ring_crypto();
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("a redirect")
        .to_string()
}

/// Runs the whole flow in a fresh browser; returns it and Torg's answer to the callback.
async fn sign_on(s: &Setup, mode: Mode) -> (reqwest::Client, reqwest::Response) {
    s.idp.lock().expect("lock").mode = mode;
    let browser = client();
    let res = browser
        .get(format!("{}/staff/sso/alfa", s.base))
        .send()
        .await
        .expect("start");
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "to the provider");
    let to_idp = location(&res);
    assert!(to_idp.contains("code_challenge=") && to_idp.contains("nonce="));
    let res = browser.get(&to_idp).send().await.expect("authorize");
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "back to Torg");
    let callback = location(&res);
    assert!(callback.starts_with(&format!("{}/staff/sso/alfa/callback?code=", s.base)));
    let res = browser.get(&callback).send().await.expect("callback");
    (browser, res)
}

#[tokio::test]
async fn staff_sign_on_with_the_municipality_and_bad_tokens_are_refused() {
    let s = setup().await;

    // The login page offers it.
    let page = client()
        .get(format!("{}/staff/login", s.base))
        .send()
        .await
        .expect("login")
        .text()
        .await
        .expect("text");
    assert!(page.contains("/staff/sso/alfa") && page.contains("Alfa kommune"));

    // A good token: in, as a case handler (from the role claim), a user made on first sight.
    let (browser, res) = sign_on(&s, Mode::Good).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/staff");
    let inbox = browser
        .get(format!("{}/staff", s.base))
        .send()
        .await
        .expect("inbox");
    assert_eq!(inbox.status(), StatusCode::OK);
    assert!(inbox.text().await.expect("text").contains("Nina Nord"));
    let nina = s
        .store
        .user_by_subject(s.tenant, &identity(&s, "ansatt-42"))
        .await
        .expect("u")
        .expect("created");
    assert_eq!(
        (nina.role, nina.username.as_str()),
        (Role::CaseHandler, "nina")
    );
    assert!(
        !torg_core::secrets::verify_password("", &nina.password_hash),
        "no password"
    );

    // The provider says she is an administrator now: the role follows, the user is the same.
    let (_, res) = sign_on(&s, Mode::Admin).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let again = s
        .store
        .user_by_subject(s.tenant, &identity(&s, "ansatt-42"))
        .await
        .expect("u")
        .expect("same");
    assert_eq!((again.id, again.role), (nina.id, Role::Administrator));

    // Linking goes by issuer and subject, or a verified address: an administrator made an
    // account for Per (single sign-on only); someone else calling themselves "per" with his
    // address unverified gets an account of their own, Per himself gets his.
    s.store
        .create_user(
            s.tenant,
            torg_store::NewUser {
                email: Some("per@alfa.kommune.no".into()),
                username: "per".into(),
                full_name: "Per Post".into(),
                password_hash: "!sso-only".into(),
                password_set_by: None,
                role: Role::CaseHandler,
                unit_id: None,
            },
            None,
        )
        .await
        .expect("per");
    let (_, res) = sign_on(&s, Mode::Impostor).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let impostor = s
        .store
        .user_by_subject(s.tenant, &identity(&s, "annen-7"))
        .await
        .expect("u")
        .expect("an account of their own");
    assert_eq!(impostor.username, "sso:per");
    let (_, res) = sign_on(&s, Mode::Per).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let per = s
        .store
        .user_by_subject(s.tenant, &identity(&s, "ansatt-77"))
        .await
        .expect("u")
        .expect("linked");
    assert_eq!(per.username, "per", "the account made for him");
    // The bare subject links nothing: the issuer is part of it.
    assert!(
        s.store
            .user_by_subject(s.tenant, "ansatt-42")
            .await
            .expect("u")
            .is_none()
    );

    // Bad tokens: refused with a page that says what to do, and no session.
    for (mode, status, text) in [
        (Mode::Expired, StatusCode::UNAUTHORIZED, "Start på nytt"),
        (
            Mode::WrongAudience,
            StatusCode::UNAUTHORIZED,
            "Start på nytt",
        ),
        (
            Mode::WrongSignature,
            StatusCode::UNAUTHORIZED,
            "Start på nytt",
        ),
        (Mode::WrongNonce, StatusCode::UNAUTHORIZED, "Start på nytt"),
        (Mode::NoRole, StatusCode::FORBIDDEN, "ingen rolle i Torg"),
        (
            Mode::RoleNamedGroup,
            StatusCode::FORBIDDEN,
            "ingen rolle i Torg",
        ),
    ] {
        let (browser, res) = sign_on(&s, mode).await;
        assert_eq!(res.status(), status, "{mode:?}");
        assert!(res.text().await.expect("text").contains(text), "{mode:?}");
        let inbox = browser
            .get(format!("{}/staff", s.base))
            .send()
            .await
            .expect("inbox");
        assert_eq!(
            inbox.status(),
            StatusCode::SEE_OTHER,
            "{mode:?}: no session"
        );
    }

    // A forged callback (state that was never handed out) is refused.
    let browser = client();
    browser
        .get(format!("{}/staff/sso/alfa", s.base))
        .send()
        .await
        .expect("start");
    let res = browser
        .get(format!(
            "{}/staff/sso/alfa/callback?code=kode-x&state=forfalsket",
            s.base
        ))
        .send()
        .await
        .expect("forged");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // No flow cookie at all.
    let res = client()
        .get(format!("{}/staff/sso/alfa/callback?code=x&state=y", s.base))
        .send()
        .await
        .expect("no cookie");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // A municipality without single sign-on.
    let res = client()
        .get(format!("{}/staff/sso/ukjent", s.base))
        .send()
        .await
        .expect("unknown");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // The audit log has the logins and the refusals with their reasons.
    let log = s
        .store
        .search_audit(s.tenant, &torg_store::AuditQuery::default(), 100)
        .await
        .expect("audit");
    assert_eq!(
        log.iter().filter(|e| e.entry.action == "login.sso").count(),
        4,
        "Nina twice, the impostor, Per"
    );
    let refusals: Vec<&str> = log
        .iter()
        .filter(|e| e.entry.action == "login.failed")
        .map(|e| e.entry.detail.as_str())
        .collect();
    // Each refused for its own reason.
    for reason in [
        "Expired",
        "Invalid audiences",
        "Signature verification failed",
        "nonce mismatch",
        "no role",
        "expired or was started elsewhere",
    ] {
        assert!(
            refusals.iter().any(|d| d.contains(reason)),
            "{reason}: {refusals:?}"
        );
    }
}
