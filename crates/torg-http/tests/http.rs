//! Drives the real server over HTTP: the app on a free port with a fresh database.
//! Every scenario runs on SQLite; with TORG_TEST_POSTGRES_URL set, on PostgreSQL too.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use torg_domain::Role;
use torg_domain::{InquiryId, TenantId, UnitId, UserId};
use torg_store::{NewMunicipality, NewUser, Store};

struct Tenant {
    slug: String,
    token: String,
}

struct App {
    base: String,
    state: torg_http::AppState,
    store: Arc<dyn Store>,
    a: Tenant,
    b: Tenant,
    _dir: tempfile::TempDir,
}

const PASSWORD: &str = "riktig hest batteri stift";

async fn tenant(store: &dyn Store, slug: &str, name: &str) -> Tenant {
    let m = store
        .create_municipality(NewMunicipality {
            slug: slug.into(),
            name: name.into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await
        .expect("municipality");
    let desk = store
        .create_unit(m.id, "Servicetorget", true, false, None)
        .await
        .expect("unit");
    store
        .create_unit(m.id, "Oppvekst", false, false, None)
        .await
        .expect("unit");
    let hash = torg_core::secrets::hash_password(PASSWORD).expect("hash");
    for (username, name, role) in [
        ("kari", "Kari Nordmann", Role::ServiceDesk),
        ("lese", "Lise Leser", Role::ReadOnly),
    ] {
        store
            .create_user(
                m.id,
                NewUser {
                    email: None,
                    username: username.into(),
                    full_name: name.into(),
                    password_hash: hash.clone(),
                    password_set_by: None,
                    role,
                    unit_id: Some(desk.id),
                },
                None,
            )
            .await
            .expect("user");
    }
    store
        .create_canned_reply(m.id, "Takk", "Hei {navn}! Vi ser på sak {referanse}.", None)
        .await
        .expect("canned");
    let (_, token) = torg_core::tokens::create(
        store,
        &torg_core::actor::Actor::cli(),
        m.id,
        torg_core::tokens::TokenInput {
            name: "test",
            units: vec![],
            expires_at: None,
        },
        jiff::Timestamp::now(),
    )
    .await
    .expect("token");
    Tenant {
        slug: slug.into(),
        token,
    }
}

async fn spawn_with(database: Option<String>, settings: torg_http::WebSettings) -> App {
    let dir = tempfile::tempdir().expect("tmp");
    let url = database.unwrap_or_else(|| dir.path().join("torg.db").to_string_lossy().into_owned());
    let store = torg_store_sql::open(&url).await.expect("store");
    let a = tenant(&*store, "alfa", "Alfa kommune").await;
    let b = tenant(&*store, "beta", "Beta kommune").await;
    let (base, state) = serve_node(store.clone(), settings).await;
    App {
        base,
        state,
        store,
        a,
        b,
        _dir: dir,
    }
}

/// The real router for `store` on a free port: (its address, its state).
async fn serve_node(
    store: Arc<dyn Store>,
    settings: torg_http::WebSettings,
) -> (String, torg_http::AppState) {
    let catalog = Arc::new(torg_http::Catalog::load(None).expect("catalog"));
    let state = torg_http::AppState::new(store, catalog, settings);
    let app = torg_http::router(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), state)
}

/// Settings for tests that are not about rate limits: every test client shares one address,
/// unless it names another in X-Forwarded-For.
fn unlimited() -> torg_http::WebSettings {
    torg_http::WebSettings {
        rate_limits: torg_http::RateLimits::OFF,
        trust_forwarded_for: true,
        ..Default::default()
    }
}

/// A server whose secrets are sealed under `key`.
async fn spawn_sealed(key: &torg_core::sealing::SecretKey) -> App {
    spawn_with(
        None,
        torg_http::WebSettings {
            secret_key: Some(key.clone()),
            ..unlimited()
        },
    )
    .await
}

async fn spawn() -> App {
    spawn_with(None, unlimited()).await
}

async fn spawn_postgres() -> Option<App> {
    let admin = std::env::var("TORG_TEST_POSTGRES_URL").ok()?;
    let url = torg_store_sql::postgres::create_test_database(&admin)
        .await
        .expect("PostgreSQL must be reachable");
    Some(spawn_with(Some(url), unlimited()).await)
}

fn client() -> reqwest::Client {
    torg_http::use_ring_crypto();
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let s = text.find(start)? + start.len();
    let e = text[s..].find(end)? + s;
    Some(&text[s..e])
}

/// Submits the contact form; returns (status, body).
async fn submit_form(
    app: &App,
    slug: &str,
    name: &str,
    email: &str,
    message: &str,
    attachment: Option<(&str, Vec<u8>)>,
) -> (StatusCode, String) {
    let mut form = Form::new()
        .text("name", name.to_string())
        .text("email", email.to_string())
        .text("phone", "")
        .text("topic", "school")
        .text("message", message.to_string());
    if let Some((filename, data)) = attachment {
        form = form.part(
            "attachment",
            Part::bytes(data)
                .file_name(filename.to_string())
                .mime_str("text/html")
                .expect("mime"),
        );
    }
    let res = client()
        .post(format!("{}/k/{slug}/inquiries", app.base))
        .multipart(form)
        .send()
        .await
        .expect("post");
    let status = res.status();
    (status, res.text().await.expect("body"))
}

async fn login(app: &App, slug: &str, username: &str) -> reqwest::Client {
    login_at(&app.base, slug, username).await
}

/// Signs in on the server at `base`.
async fn login_at(base: &str, slug: &str, username: &str) -> reqwest::Client {
    let c = client();
    let page = c
        .get(format!("{base}/staff/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("text");
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"")
        .expect("csrf field")
        .to_string();
    let res = c
        .post(format!("{base}/staff/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("municipality", slug),
            ("username", username),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "login succeeds");
    assert_eq!(res.headers()["location"], "/staff");
    c
}

/// The page at `url` as `c` sees it.
async fn page_text(c: &reqwest::Client, url: &str) -> String {
    c.get(url)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text")
}

async fn csrf_of(c: &reqwest::Client, url: &str) -> String {
    let page = page_text(c, url).await;
    between(&page, "name=\"csrf\" value=\"", "\"")
        .expect("csrf")
        .to_string()
}

async fn api(
    app: &App,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let url = format!("{}/api/v1{path}", app.base);
    let c = client();
    let mut req = match method {
        "GET" => c.get(url),
        _ => c.post(url),
    }
    .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("api");
    let status = res.status();
    let v = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, v)
}

async fn create_via_api(app: &App, token: &str, body: &str) -> Value {
    let (s, v) = api(
        app,
        token,
        "POST",
        "/inquiries",
        Some(json!({"citizen_name": "Ola Nordmann", "email": "ola@example.no", "body": body})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    v
}

// ------------------------------------------------------------------ scenarios

async fn citizen_and_staff_round_trip(app: &App) {
    let (status, receipt) = submit_form(
        app,
        &app.a.slug,
        "Ola <b>Nordmann</b>",
        "ola@example.no",
        "Når er søknadsfristen for barnehage?",
        Some(("kart.html", b"<script>alert(1)</script>".to_vec())),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    let reference = between(&receipt, "class=\"reference\">", "<")
        .expect("reference")
        .to_string();
    assert_eq!(
        reference.len(),
        11,
        "reference like 2026-000001: {reference}"
    );
    assert!(
        receipt.contains("Du kan vente svar innen") && receipt.contains(" kl. "),
        "the deadline in words"
    );
    let follow_url = between(&receipt, "id=\"follow-link\">", "<")
        .expect("follow link")
        .to_string();
    let token = follow_url.rsplit('/').next().expect("token");
    assert_eq!(
        token.split_once('-').map(|(_, s)| s.len()),
        Some(64),
        "a 256-bit secret: {token}"
    );

    // The citizen adds a message on the follow page.
    let c = client();
    let res = c
        .post(format!("{follow_url}/messages"))
        .form(&[("message", "Jeg glemte å si: to barn.")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Staff find it in the inbox by reference and reply.
    let staff = login(app, &app.a.slug, "kari").await;
    let inbox = staff
        .get(format!("{}/staff?q={reference}", app.base))
        .send()
        .await
        .expect("inbox")
        .text()
        .await
        .expect("text");
    assert!(inbox.contains(&reference), "inbox lists the inquiry");
    assert!(
        inbox.contains("Ola &#60;b&#62;Nordmann") && !inbox.contains("<b>Nordmann"),
        "names are escaped"
    );
    // By a word form the text does not hold, and by a word of the later message: the words
    // found are marked, and the hits counted.
    for (words, marked) in [
        ("barnehagen", Some("<mark>barnehage</mark>")),
        ("barna glemte", None),
    ] {
        let found = staff
            .get(format!("{}/staff?status=any&q={words}", app.base))
            .send()
            .await
            .expect("inbox")
            .text()
            .await
            .expect("text");
        assert!(found.contains(&reference), "{words} finds it");
        assert!(found.contains("Antall treff: 1"), "{words}: one hit");
        if let Some(marked) = marked {
            assert!(found.contains(marked), "{words} is marked");
        }
    }
    let none = staff
        .get(format!("{}/staff?status=any&q=fjellklatring", app.base))
        .send()
        .await
        .expect("inbox")
        .text()
        .await
        .expect("text");
    assert!(none.contains("Antall treff: 0") && !none.contains(&reference));
    let id = between(&inbox, "href=\"/staff/inquiries/", "\"")
        .expect("link")
        .to_string();
    let page_url = format!("{}/staff/inquiries/{id}", app.base);
    let page = staff
        .get(&page_url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("to barn"), "the whole thread");
    assert!(
        page.contains("Vennlig hilsen Kari, Servicetorget – Alfa kommune"),
        "the signature is shown before sending"
    );
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"")
        .expect("csrf")
        .to_string();

    // Without the CSRF token nothing happens.
    let res = staff
        .post(format!("{page_url}/reply"))
        .form(&[("csrf", "forged"), ("body", "x")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    // A canned reply with placeholders.
    let canned_id = between(&page, "<option value=\"", "\" data-text")
        .expect("canned option")
        .to_string();
    let prefilled = staff
        .get(format!("{page_url}?canned={canned_id}"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(
        prefilled.contains(&format!("Vi ser på sak {reference}")),
        "placeholders filled"
    );

    // "Check plain language": the draft comes back with advice, and nothing is sent.
    let draft = "Søknaden skal behandles i henhold til forskriften. <script>x</script>";
    let res = staff
        .post(format!("{page_url}/reply"))
        .form(&[("csrf", csrf.as_str()), ("body", draft), ("check", "1")])
        .send()
        .await
        .expect("check");
    assert_eq!(res.status(), StatusCode::OK);
    let checked = res.text().await.expect("text");
    assert!(
        checked.contains("Klarspråk") && checked.contains("LIX"),
        "the advice"
    );
    assert!(
        checked.contains("skriv heller «etter»"),
        "jargon with a plainer form"
    );
    assert!(checked.contains("passiv form"), "the passive");
    assert!(
        checked.contains("i henhold til forskriften. &#60;script&#62;"),
        "the draft is back in the box, escaped"
    );
    let before = app
        .store
        .messages(
            TenantId((tenant_of(app, &app.a.slug).await).get()),
            id.parse().expect("id"),
            true,
        )
        .await
        .expect("messages")
        .len();
    let res = staff
        .post(format!("{page_url}/reply"))
        .form(&[("csrf", csrf.as_str()), ("body", "Fristen er 1. mars.")])
        .send()
        .await
        .expect("reply");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let after = app
        .store
        .messages(
            TenantId((tenant_of(app, &app.a.slug).await).get()),
            id.parse().expect("id"),
            true,
        )
        .await
        .expect("messages")
        .len();
    assert_eq!(
        after,
        before + 1,
        "the check sent nothing; the reply went once"
    );
    let res = staff
        .post(format!("{page_url}/note"))
        .form(&[("csrf", csrf.as_str()), ("body", "HEMMELIG internt notat")])
        .send()
        .await
        .expect("note");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // The citizen sees the signed reply, never the note; hostile text is shown, not run.
    let follow = c.get(&follow_url).send().await.expect("follow");
    assert_eq!(follow.headers()["cache-control"], "private, no-store");
    let follow = follow.text().await.expect("text");
    assert!(follow.contains("Fristen er 1. mars."));
    assert!(follow.contains("Vennlig hilsen Kari, Servicetorget – Alfa kommune"));
    assert!(
        !follow.contains("HEMMELIG"),
        "internal notes never reach the citizen"
    );
    assert!(!follow.contains("<b>Nordmann"), "no raw HTML from citizens");
    assert!(
        follow.contains("Kvittering")
            && follow.contains(&format!("gitt den referansen {reference}")),
        "the acknowledgement is in the thread"
    );

    // The attachment is a download with a safe type.
    let att = between(&follow, "<p class=\"att\"><a href=\"", "\"")
        .expect("attachment link")
        .to_string();
    let res = c
        .get(format!("{}{att}", app.base))
        .send()
        .await
        .expect("attachment");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .starts_with("attachment;")
    );
    assert_eq!(
        res.bytes().await.expect("bytes").as_ref(),
        b"<script>alert(1)</script>"
    );

    // Assign and close.
    let users = app
        .store
        .list_users(
            app.store
                .municipality_by_slug(&app.a.slug)
                .await
                .expect("m")
                .expect("m")
                .id,
        )
        .await
        .expect("users");
    let kari = users.iter().find(|u| u.username == "kari").expect("kari");
    let res = staff
        .post(format!("{page_url}/assign"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("unit_id", &kari.unit_id.expect("unit").to_string()),
            ("assignee_id", &kari.id.to_string()),
        ])
        .send()
        .await
        .expect("assign");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let mine = staff
        .get(format!("{}/staff?assignee=me", app.base))
        .send()
        .await
        .expect("inbox")
        .text()
        .await
        .expect("text");
    assert!(mine.contains(&reference), "the 'mine' filter shows it");
    let res = staff
        .post(format!("{page_url}/status"))
        .form(&[("csrf", csrf.as_str()), ("status", "closed")])
        .send()
        .await
        .expect("status");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let open = staff
        .get(format!("{}/staff", app.base))
        .send()
        .await
        .expect("inbox")
        .text()
        .await
        .expect("text");
    assert!(
        !open.contains(&reference),
        "closed inquiries leave the default inbox"
    );
    let closed = staff
        .get(format!("{}/staff?status=closed", app.base))
        .send()
        .await
        .expect("inbox")
        .text()
        .await
        .expect("text");
    assert!(closed.contains(&reference));

    // The deadline overview counts open inquiries per unit, as a table and a chart.
    let overview = staff
        .get(format!("{}/staff/overview", app.base))
        .send()
        .await
        .expect("overview")
        .text()
        .await
        .expect("text");
    assert!(
        overview.contains("<svg") && overview.contains("Servicetorget"),
        "{overview}"
    );
    assert!(overview.contains("Nær fristen"));

    // Every change is in the municipality's audit log, and the chain holds.
    let m = app
        .store
        .municipality_by_slug(&app.a.slug)
        .await
        .expect("m")
        .expect("m");
    let log = app.store.audit_entries(m.id, 0, 1000).await.expect("audit");
    let actions: Vec<&str> = log.iter().map(|e| e.entry.action.as_str()).collect();
    for a in [
        "login",
        "inquiry.replied",
        "inquiry.noted",
        "inquiry.assigned",
        "inquiry.status",
    ] {
        assert!(actions.contains(&a), "{a} is audited: {actions:?}");
    }
    assert_eq!(torg_domain::audit::verify(&log), Ok(()));

    // Logout ends the session.
    let csrf = csrf_of(&staff, &format!("{}/staff", app.base)).await;
    let res = staff
        .post(format!("{}/staff/logout", app.base))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("logout");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = staff
        .get(format!("{}/staff", app.base))
        .send()
        .await
        .expect("inbox");
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "back to login");
}

async fn api_round_trip(app: &App) {
    let tok = &app.a.token;
    let created = create_via_api(app, tok, "Vannlekkasje i Storgata").await;
    let id = created["inquiry"]["id"].as_i64().expect("id");
    assert!(
        created["follow_path"]
            .as_str()
            .expect("follow path")
            .starts_with("/k/alfa/follow/")
    );

    // Idempotent retries with an external id.
    let body = json!({"citizen_name": "Kari", "phone": "91234567", "body": "SMS", "channel": "sms", "external_id": "sms-1"});
    let (s1, v1) = api(app, tok, "POST", "/inquiries", Some(body.clone())).await;
    let (s2, v2) = api(app, tok, "POST", "/inquiries", Some(body)).await;
    assert_eq!((s1, s2), (StatusCode::CREATED, StatusCode::OK));
    assert_eq!(v1["inquiry"]["id"], v2["inquiry"]["id"]);
    assert!(
        v2.get("follow_path").is_none(),
        "the token is shown once only"
    );

    for i in 0..7 {
        create_via_api(app, tok, &format!("nummer {i}")).await;
    }
    let mut seen = vec![];
    let mut cursor = String::new();
    loop {
        let (s, page) = api(
            app,
            tok,
            "GET",
            &format!("/inquiries?limit=3&status=any&cursor={cursor}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{page}");
        for item in page["items"].as_array().expect("items") {
            seen.push(item["id"].as_i64().expect("id"));
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no repeats across pages");
    assert!(seen.len() >= 9);

    let (s, v) = api(
        app,
        tok,
        "POST",
        &format!("/inquiries/{id}/replies"),
        Some(json!({"body": "Vi sender folk."})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert!(
        v["message"]["body"]
            .as_str()
            .expect("body")
            .ends_with("Vennlig hilsen Servicetorget – Alfa kommune")
    );
    let (s, _) = api(
        app,
        tok,
        "POST",
        &format!("/inquiries/{id}/notes"),
        Some(json!({"body": "notat"})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = api(app, tok, "GET", &format!("/inquiries/{id}"), None).await;
    assert_eq!(s, StatusCode::OK);
    let kinds: Vec<&str> = v["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["kind"].as_str())
        .collect();
    assert_eq!(
        kinds,
        vec!["inbound", "acknowledgement", "outbound", "note"]
    );
    let ack = v["messages"][1]["body"].as_str().expect("ack");
    let reference = v["inquiry"]["reference"].clone();
    let reference = format!(
        "{}-{:06}",
        reference["year"],
        reference["number"].as_i64().unwrap_or(0)
    );
    assert!(
        ack.contains(&reference)
            && ack.contains(&format!("/k/alfa/follow/{id}-"))
            && ack.contains("kl."),
        "{ack}"
    );
    assert!(!ack.contains('{'), "every placeholder filled: {ack}");
    assert_eq!(v["inquiry"]["status"], "open");
    // Auto-replies and bounces get no acknowledgement.
    let (_, auto) = api(app, tok, "POST", "/inquiries", Some(json!({"citizen_name": "Postmaster", "email": "mailer-daemon@example.no", "body": "Delivery failed", "automatic": true}))).await;
    let auto_id = auto["inquiry"]["id"].as_i64().expect("id");
    let (_, auto) = api(app, tok, "GET", &format!("/inquiries/{auto_id}"), None).await;
    assert_eq!(
        auto["messages"].as_array().map(Vec::len),
        Some(1),
        "no acknowledgement for automatic messages"
    );
    let (_, units) = api(app, tok, "GET", "/units", None).await;
    let oppvekst = units["items"]
        .as_array()
        .expect("units")
        .iter()
        .find(|u| u["name"] == "Oppvekst")
        .expect("Oppvekst")["id"]
        .clone();
    let (s, v) = api(
        app,
        tok,
        "POST",
        &format!("/inquiries/{id}/assign"),
        Some(json!({"unit_id": oppvekst})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["inquiry"]["unit_id"], oppvekst);
    let (s, v) = api(app, tok, "POST", &format!("/inquiries/{id}/close"), None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["inquiry"]["status"], "closed");
    let (s, v) = api(app, tok, "GET", "/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["info"]["title"], "Torg API");
}

async fn api_errors_have_codes(app: &App) {
    let tok = &app.a.token;
    let (s, v) = api(app, "nope", "GET", "/inquiries", None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("unauthorized"))
    );
    let (s, v) = api(
        app,
        tok,
        "POST",
        "/inquiries",
        Some(json!({"citizen_name": "Ola", "body": "hei"})),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("missing_contact"))
    );
    let (s, v) = api(
        app,
        tok,
        "POST",
        "/inquiries",
        Some(json!({"citizen_name": "Ola", "email": "ikke-epost", "body": "hei"})),
    )
    .await;
    assert_eq!(v["error"]["code"].as_str(), Some("invalid_email"), "{s}");
    let (s, v) = api(
        app,
        tok,
        "POST",
        "/inquiries",
        Some(json!({"citizen_name": "Ola", "email": "a@b.no", "body": "hei", "hacker": 1})),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_json"))
    );
    let (s, v) = api(app, tok, "GET", "/inquiries/999999", None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    let (s, v) = api(app, tok, "GET", "/inquiries?cursor=garbage", None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_request"))
    );
    let (s, v) = api(app, tok, "GET", "/no-such-route", None).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    // Raw bodies: broken JSON, invalid UTF-8, too large.
    let c = client();
    for (body, ct) in [
        (b"{not json".to_vec(), "application/json"),
        (vec![0xff, 0xfe, b'{'], "application/json"),
        (b"{}".to_vec(), "text/plain"),
    ] {
        let res = c
            .post(format!("{}/api/v1/inquiries", app.base))
            .bearer_auth(tok)
            .header("content-type", ct)
            .body(body)
            .send()
            .await
            .expect("post");
        assert!(res.status().is_client_error(), "{}", res.status());
        let v: Value = res.json().await.expect("json error");
        assert!(v["error"]["code"].is_string());
    }
    let huge = json!({"citizen_name": "Ola", "email": "a@b.no", "body": "x".repeat(200_000)});
    let res = c
        .post(format!("{}/api/v1/inquiries", app.base))
        .bearer_auth(tok)
        .json(&huge)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let v: Value = res.json().await.expect("json");
    assert_eq!(v["error"]["code"], "payload_too_large");
}

async fn municipalities_never_see_each_other(app: &App) {
    // B's inquiry, B's follow link.
    let created_b = create_via_api(app, &app.b.token, "Beta sin hemmelighet").await;
    let b_id = created_b["inquiry"]["id"].as_i64().expect("id");
    let b_follow = created_b["follow_path"]
        .as_str()
        .expect("follow")
        .to_string();
    let a_id = create_via_api(app, &app.a.token, "Alfa sin sak").await["inquiry"]["id"]
        .as_i64()
        .expect("id");
    assert_ne!(a_id, b_id);

    // Every API route, with A's token, on B's inquiry: not found, and nothing changes.
    for (method, path) in torg_http::route_list() {
        let Some(path) = path.strip_prefix("/api/v1") else {
            continue;
        };
        if path == "/openapi.json" {
            continue;
        }
        let method = method.as_str();
        let path = path.replace("{id}", &b_id.to_string());
        let body = match path.rsplit('/').next() {
            Some("replies") | Some("notes") => Some(json!({"body": "inntrenger"})),
            Some("assign") => Some(json!({"unit_id": 1})),
            _ => None,
        };
        if path == "/inquiries" && method == "POST" {
            continue; // creates in the caller's own municipality; checked below
        }
        let (s, v) = api(app, &app.a.token, method, &path, body).await;
        if path.contains(&b_id.to_string()) {
            assert_eq!(s, StatusCode::NOT_FOUND, "{method} {path}: {v}");
        } else {
            assert_eq!(s, StatusCode::OK, "{method} {path}");
            assert!(
                !v.to_string().contains("Beta"),
                "{method} {path} leaks B: {v}"
            );
        }
    }
    let (_, b_view) = api(
        app,
        &app.b.token,
        "GET",
        &format!("/inquiries/{b_id}"),
        None,
    )
    .await;
    assert_eq!(
        b_view["messages"].as_array().map(Vec::len),
        Some(2),
        "A could not write into B's inquiry"
    );
    assert_eq!(
        b_view["inquiry"]["status"], "new",
        "A could not close B's inquiry"
    );

    // A's inquiry listing and search never show B's (both words are in B's inquiry only; an
    // earlier scenario's note in A says "HEMMELIG", which the word form would find).
    let (_, list) = api(
        app,
        &app.a.token,
        "GET",
        "/inquiries?status=any&limit=500&q=beta%20hemmelighet",
        None,
    )
    .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0));

    // Staff of A: B's inquiry page and attachments are not found; the inbox shows only A.
    let staff = login(app, &app.a.slug, "kari").await;
    let res = staff
        .get(format!("{}/staff/inquiries/{b_id}", app.base))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let inbox = staff
        .get(format!("{}/staff?status=any", app.base))
        .send()
        .await
        .expect("inbox")
        .text()
        .await
        .expect("text");
    assert!(!inbox.contains("Beta sin hemmelighet"));
    let csrf = csrf_of(&staff, &format!("{}/staff", app.base)).await;
    for action in ["reply", "note"] {
        let res = staff
            .post(format!("{}/staff/inquiries/{b_id}/{action}", app.base))
            .form(&[("csrf", csrf.as_str()), ("body", "inntrenger")])
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{action}");
    }
    let res = staff
        .post(format!("{}/staff/inquiries/{b_id}/status", app.base))
        .form(&[("csrf", csrf.as_str()), ("status", "closed")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = staff
        .post(format!("{}/staff/inquiries/{b_id}/assign", app.base))
        .form(&[("csrf", csrf.as_str()), ("unit_id", "1")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // B's follow link under A's address is not found.
    let wrong = b_follow.replace("/k/beta/", "/k/alfa/");
    let res = client()
        .get(format!("{}{wrong}", app.base))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = client()
        .get(format!("{}{b_follow}", app.base))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);

    // A user of A cannot log in to B with A's password.
    let c = client();
    let page = c
        .get(format!("{}/staff/login", app.base))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"")
        .expect("csrf")
        .to_string();
    let _ = app.store.list_municipalities().await;
    let res = c
        .post(format!("{}/staff/login", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("municipality", "beta"),
            ("username", "nobody"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn bad_input_gets_clear_answers(app: &App) {
    // Missing fields: the form comes back with the reason and what was typed.
    let (s, body) = submit_form(app, &app.a.slug, "Ola", "", "hei", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Oppgi e-postadresse eller mobilnummer"));
    assert!(body.contains("value=\"Ola\""), "input kept");
    // Invalid UTF-8 in a text field.
    let form = Form::new()
        .part("name", Part::bytes(vec![0xff, 0xfe, 0x41]))
        .text("email", "a@b.no")
        .text("message", "hei");
    let res = client()
        .post(format!("{}/k/{}/inquiries", app.base, app.a.slug))
        .multipart(form)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Not multipart at all.
    let res = client()
        .post(format!("{}/k/{}/inquiries", app.base, app.a.slug))
        .body("x")
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // Unknown municipality.
    let res = client()
        .get(format!("{}/k/finnes-ikke", app.base))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.text().await.expect("text").contains("finnes-ikke"));
    // Text over the limit.
    let (s, _) = submit_form(app, &app.a.slug, "Ola", "a@b.no", &"x".repeat(70_000), None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // A forged follow token.
    let res = client()
        .get(format!(
            "{}/k/{}/follow/{}",
            app.base,
            app.a.slug,
            "0".repeat(64)
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = client()
        .get(format!(
            "{}/k/{}/follow/..%2F..%2Fetc",
            app.base, app.a.slug
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // Script in a message is escaped everywhere.
    let (s, receipt) = submit_form(
        app,
        &app.a.slug,
        "<img src=x onerror=alert(1)>",
        "a@b.no",
        "<script>alert('x')</script>",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let follow_url = between(&receipt, "id=\"follow-link\">", "<")
        .expect("link")
        .to_string();
    let page = client()
        .get(&follow_url)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(page.contains("&#60;script&#62;"), "escaped");
    assert!(!page.contains("<script>alert"));
}

async fn oversized_attachments_are_refused() {
    let mut settings = unlimited();
    settings.limits.max_attachment_bytes = 10_000;
    let app = spawn_with(None, settings).await;
    let (s, body) = submit_form(
        &app,
        &app.a.slug,
        "Ola",
        "a@b.no",
        "Vedlegg",
        Some(("stor.bin", vec![7u8; 12_000])),
    )
    .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let (s, _) = submit_form(
        &app,
        &app.a.slug,
        "Ola",
        "a@b.no",
        "Vedlegg",
        Some(("stor.bin", vec![7u8; 200_000])),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::PAYLOAD_TOO_LARGE,
        "whole body over the limit"
    );
    let m = app
        .store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("m");
    assert_eq!(
        app.store.count_inquiries(m.id).await.expect("count"),
        0,
        "nothing stored"
    );
}

async fn language_is_chosen_and_remembered(app: &App) {
    let c = client();
    let en = c
        .get(format!("{}/k/{}?lang=en", app.base, app.a.slug))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(en.contains("Contact the municipality") && en.contains("<html lang=\"en\">"));
    let again = c
        .get(format!("{}/k/{}", app.base, app.a.slug))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(
        again.contains("Contact the municipality"),
        "the choice is remembered"
    );
    let sv = client()
        .get(format!("{}/k/{}", app.base, app.a.slug))
        .header("accept-language", "sv-SE,sv;q=0.9")
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(sv.contains("Kontakta kommunen"));
    let nb = client()
        .get(format!("{}/k/{}", app.base, app.a.slug))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(
        nb.contains("Kontakt kommunen") && nb.contains("<html lang=\"nb\">"),
        "bokmål by default"
    );
    assert!(
        nb.contains("mandag–fredag 08.00–15.30"),
        "opening hours are shown"
    );
    assert!(
        nb.contains("Skriver du nå, kan du vente svar innen"),
        "and the answer time per channel"
    );
}

async fn read_only_staff_cannot_write(app: &App) {
    let id = create_via_api(app, &app.a.token, "Les meg").await["inquiry"]["id"]
        .as_i64()
        .expect("id");
    let staff = login(app, &app.a.slug, "lese").await;
    let url = format!("{}/staff/inquiries/{id}", app.base);
    let page = staff
        .get(&url)
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(!page.contains("/reply\""), "no reply form for read-only");
    let csrf = csrf_of(&staff, &format!("{}/staff", app.base)).await;
    let res = staff
        .post(format!("{url}/reply"))
        .form(&[("csrf", csrf.as_str()), ("body", "x")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

async fn security_headers_and_health(app: &App) {
    let res = client()
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    let res = client()
        .get(format!("{}/k/{}", app.base, app.a.slug))
        .send()
        .await
        .expect("get");
    let h = res.headers();
    assert!(
        h["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("script-src 'self'")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "no-referrer");
    let res = client()
        .get(format!("{}/staff/login", app.base))
        .send()
        .await
        .expect("get");
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_string();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
}

async fn duty_rota_in_the_inbox(app: &App) {
    let m = app
        .store
        .municipality_by_slug(&app.a.slug)
        .await
        .expect("m")
        .expect("m");
    let users = app.store.list_users(m.id).await.expect("users");
    let kari = users.iter().find(|u| u.username == "kari").expect("kari");
    let lise = users.iter().find(|u| u.username == "lese").expect("lise");
    let now = jiff::Timestamp::now();
    let hour = jiff::SignedDuration::from_hours(1);
    app.store
        .create_peak(
            m.id,
            torg_domain::deadline::PlannedPeak {
                id: 0,
                name: "Barnehagesøknad".into(),
                starts_at: now - hour,
                ends_at: now + hour * 72,
                policy: "working_hours:4".parse().expect("policy"),
                staffing_note: "To ekstra på Servicetorget".into(),
            },
            None,
        )
        .await
        .expect("peak");
    app.state.forget_cached_settings();
    let before = app
        .store
        .create_shift(m.id, "public", lise.id, now - hour * 48, now - hour, None)
        .await
        .expect("shift");
    app.store
        .set_handover_note(
            m.id,
            before.id,
            "Vannbrudd i Storgata: svar alle på Facebook",
            None,
        )
        .await
        .expect("note");
    let current = app
        .store
        .create_shift(m.id, "public", kari.id, now - hour, now + hour * 24, None)
        .await
        .expect("shift");
    app.store
        .create_shift(
            m.id,
            "public",
            lise.id,
            now + hour * 24,
            now + hour * 48,
            None,
        )
        .await
        .expect("shift");
    let (s, _) = api(app, &app.a.token, "POST", "/inquiries", Some(json!({"citizen_name": "Fb Bruker", "email": "fb@example.no", "body": "Kommentar på Facebook", "channel": "facebook"}))).await;
    assert_eq!(s, StatusCode::CREATED);

    let staff = login(app, &app.a.slug, "kari").await;
    let inbox = staff
        .get(format!("{}/staff", app.base))
        .send()
        .await
        .expect("inbox")
        .text()
        .await
        .expect("text");
    assert!(
        inbox.contains("På vakt nå: <strong>Kari Nordmann</strong>"),
        "{inbox}"
    );
    assert!(
        inbox.contains("Planlagt topp: Barnehagesøknad")
            && inbox.contains("To ekstra på Servicetorget"),
        "the peak is shown"
    );
    assert!(inbox.contains("Neste: Lise Leser"));
    assert!(
        inbox.contains("Vannbrudd i Storgata: svar alle på Facebook"),
        "the last shift's handover"
    );
    assert!(
        inbox.contains("Dine kanaler først") && inbox.contains("Kommentar på Facebook"),
        "the person on duty sees their channels first"
    );
    let csrf = between(&inbox, "name=\"csrf\" value=\"", "\"")
        .expect("csrf")
        .to_string();
    let res = staff
        .post(format!("{}/staff/duty/{}/handover", app.base, current.id))
        .form(&[("csrf", csrf.as_str()), ("note", "Alt rolig")])
        .send()
        .await
        .expect("handover");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Someone not on that shift cannot write its note.
    let other = login(app, &app.a.slug, "lese").await;
    let page = other
        .get(format!("{}/staff", app.base))
        .send()
        .await
        .expect("inbox")
        .text()
        .await
        .expect("text");
    assert!(!page.contains("/handover"), "no handover form for others");
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"")
        .expect("csrf")
        .to_string();
    let res = other
        .post(format!("{}/staff/duty/{}/handover", app.base, current.id))
        .form(&[("csrf", csrf.as_str()), ("note", "overstyrt")])
        .send()
        .await
        .expect("handover");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let shifts = app
        .store
        .shifts(m.id, now, now + hour)
        .await
        .expect("shifts");
    assert_eq!(
        shifts
            .iter()
            .find(|s| s.id == current.id)
            .map(|s| s.handover_note.as_str()),
        Some("Alt rolig")
    );
}

// ------------------------------------------------------------------ tests

#[tokio::test]
async fn metrics_are_for_the_operator_only() {
    let off = spawn().await;
    let res = client()
        .get(format!("{}/metrics", off.base))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::NOT_FOUND, "off unless configured");
    let settings = torg_http::WebSettings {
        metrics_token: Some("operator-secret".into()),
        ..Default::default()
    };
    let app = spawn_with(None, settings).await;
    create_via_api(&app, &app.a.token, "måles").await;
    let res = client()
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = client()
        .get(format!("{}/metrics", app.base))
        .bearer_auth(&app.a.token)
        .send()
        .await
        .expect("get");
    assert_eq!(
        res.status(),
        StatusCode::UNAUTHORIZED,
        "an API token is not an operator token"
    );
    let res = client()
        .get(format!("{}/metrics", app.base))
        .bearer_auth("operator-secret")
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.expect("text");
    assert!(
        text.contains("torg_http_requests_total{class=\"api\",status=\"2xx\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("torg_http_requests_total{class=\"health\",status=\"4xx\"} 2"),
        "the refused reads count too"
    );
    assert!(text.contains("torg_http_request_duration_seconds_count{class=\"api\"} 1"));
    assert!(text.contains("torg_inquiry_writer_queue 0"));
}

#[tokio::test]
async fn duty_rota_in_the_inbox_sqlite() {
    duty_rota_in_the_inbox(&spawn().await).await;
}

#[tokio::test]
async fn citizen_and_staff_round_trip_sqlite() {
    citizen_and_staff_round_trip(&spawn().await).await;
}

#[tokio::test]
async fn api_round_trip_sqlite() {
    api_round_trip(&spawn().await).await;
}

#[tokio::test]
async fn api_errors_have_codes_sqlite() {
    api_errors_have_codes(&spawn().await).await;
}

#[tokio::test]
async fn municipalities_never_see_each_other_sqlite() {
    municipalities_never_see_each_other(&spawn().await).await;
}

#[tokio::test]
async fn bad_input_gets_clear_answers_sqlite() {
    bad_input_gets_clear_answers(&spawn().await).await;
}

#[tokio::test]
async fn oversized_attachments_are_refused_sqlite() {
    oversized_attachments_are_refused().await;
}

#[tokio::test]
async fn language_is_chosen_and_remembered_sqlite() {
    language_is_chosen_and_remembered(&spawn().await).await;
}

#[tokio::test]
async fn read_only_staff_cannot_write_sqlite() {
    read_only_staff_cannot_write(&spawn().await).await;
}

#[tokio::test]
async fn security_headers_and_health_sqlite() {
    security_headers_and_health(&spawn().await).await;
}

#[tokio::test]
async fn every_scenario_on_postgres() {
    let Some(app) = spawn_postgres().await else {
        eprintln!("TORG_TEST_POSTGRES_URL is not set: skipping PostgreSQL (.ci/run sets it)");
        return;
    };
    citizen_and_staff_round_trip(&app).await;
    api_round_trip(&app).await;
    api_errors_have_codes(&app).await;
    municipalities_never_see_each_other(&app).await;
    bad_input_gets_clear_answers(&app).await;
    read_only_staff_cannot_write(&app).await;
    duty_rota_in_the_inbox(&app).await;
    administration_lockout_and_revocation(&app).await;
    the_archivist_decides_and_the_public_journal_screens(&app).await;
    a_swedish_municipality_takes_anonymous_access_requests(&app).await;
    the_annual_wheel(&app).await;
    publishing_with_approval(&app).await;
    subscribing_and_a_crisis_on_the_portal(&app).await;
    evaluation_and_the_survey(&app).await;
    listening_on_the_staff_page(&app).await;
    search_ranks_hits_and_pages_through_all(&app).await;
    casework_is_administered_on_pages(&app).await;
    let admin = std::env::var("TORG_TEST_POSTGRES_URL").expect("set above");
    let url = torg_store_sql::postgres::create_test_database(&admin)
        .await
        .expect("PostgreSQL must be reachable");
    every_route_allows_and_denies_as_the_table_says(&spawn_for_access(Some(url)).await).await;
}

// ------------------------------------------------------------------ the access table

/// What one request must get.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// Anybody gets through, logged in or not.
    Open,
    /// Everybody gets exactly this status.
    Everyone(u16),
    /// Staff: the users named get through, every other user is refused (403 or 404), and
    /// without a login the answer is the login page.
    Staff(&'static [&'static str]),
    /// API: with the municipality's token through (true) or not found (false); without a
    /// token (or with only a staff login) 401.
    Api(bool),
    /// Only the operator token (metrics).
    Operator,
}

#[derive(Clone, Debug)]
enum Body {
    None,
    /// A form; the user's CSRF token is added, `{n}` in a value becomes a fresh number.
    Form(Vec<(&'static str, String)>),
    Json(Value),
    /// The portal's contact form.
    Contact,
    /// The login form with a wrong password.
    WrongLogin,
}

struct Variant {
    path: String,
    body: Body,
    expect: Expect,
    /// For actions that use up their object (discarding a mail): a path of each user's own.
    by_user: Vec<(&'static str, String)>,
}

impl Variant {
    /// With a path of each user's own.
    fn by_user(mut self, paths: Vec<(&'static str, String)>) -> Variant {
        self.by_user = paths;
        self
    }

    /// The path `user` sends to.
    fn path_of(&self, user: &str) -> &str {
        self.by_user
            .iter()
            .find(|(u, _)| *u == user)
            .map_or(self.path.as_str(), |(_, p)| p.as_str())
    }
}

/// A private link's token nobody was given.
const UNKNOWN: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Users of the access test: one per role, and a nurse in the sensitive unit.
/// (username, role, unit: "desk" | "plain" | "health")
const ACCESS_USERS: &[(&str, Role, &str)] = &[
    ("x-admin", Role::Administrator, "desk"),
    ("x-chief", Role::ChiefExecutive, "desk"),
    ("x-comm", Role::Communication, "desk"),
    ("x-leader", Role::UnitLeader, "plain"),
    ("x-handler", Role::CaseHandler, "plain"),
    ("x-desk", Role::ServiceDesk, "desk"),
    ("x-archivist", Role::Archivist, "desk"),
    ("x-reader", Role::ReadOnly, "plain"),
    ("x-nurse", Role::CaseHandler, "health"),
];
const EVERY_USER: &[&str] = &[
    "x-admin",
    "x-chief",
    "x-comm",
    "x-leader",
    "x-handler",
    "x-desk",
    "x-archivist",
    "x-reader",
    "x-nurse",
];
/// Members of the plain unit, and the roles that see every unit that is not sensitive.
const SEES_PLAIN: &[&str] = &[
    "x-chief",
    "x-comm",
    "x-leader",
    "x-handler",
    "x-desk",
    "x-archivist",
    "x-reader",
];
const HANDLES_PLAIN: &[&str] = &["x-chief", "x-comm", "x-leader", "x-handler", "x-desk"];
const SEES_DESK: &[&str] = &["x-admin", "x-chief", "x-comm", "x-desk", "x-archivist"];
const SPEAKS_PUBLICLY: &[&str] = &["x-chief", "x-comm"];
const HEALTH: &[&str] = &["x-nurse"];
const OVERVIEW: &[&str] = &["x-admin", "x-chief", "x-comm", "x-leader", "x-desk"];
const ADMIN: &[&str] = &["x-admin"];
const NOBODY: &[&str] = &[];
/// Who logs phone calls: everyone who handles inquiries.
const PHONE: &[&str] = &[
    "x-admin",
    "x-chief",
    "x-comm",
    "x-leader",
    "x-handler",
    "x-desk",
    "x-nurse",
];
/// Who looks after quarantined mail.
const QUARANTINE: &[&str] = &["x-admin", "x-chief", "x-comm", "x-desk", "x-archivist"];

/// A staff user with the test password.
async fn add_user(
    store: &dyn Store,
    tenant: TenantId,
    username: &str,
    role: Role,
    unit_id: Option<i64>,
) {
    let hash = torg_core::secrets::hash_password(PASSWORD).expect("hash");
    store
        .create_user(
            tenant,
            NewUser {
                email: None,
                username: username.into(),
                full_name: username.into(),
                password_hash: hash,
                password_set_by: None,
                role,
                unit_id: unit_id.map(UnitId),
            },
            None,
        )
        .await
        .expect("user");
}

/// The audit entries whose action starts with `prefix`, newest first.
async fn actions(
    store: &dyn Store,
    tenant: TenantId,
    prefix: &str,
) -> Vec<torg_domain::audit::AuditEntry> {
    store
        .search_audit(
            tenant,
            &torg_store::AuditQuery {
                action: Some(prefix.into()),
                ..Default::default()
            },
            100,
        )
        .await
        .expect("audit")
}

/// Alfa and its service desk's id, with "kommunikasjon", who may speak publicly, at the desk.
async fn alfa_with_communication(store: &dyn Store) -> (torg_store::Municipality, UnitId) {
    let m = store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("m");
    let desk = store.list_units(m.id).await.expect("units")[0].id;
    add_user(
        store,
        m.id,
        "kommunikasjon",
        Role::Communication,
        Some(desk.get()),
    )
    .await;
    (m, desk)
}

/// Alfa's mailbox on servers that are not there (for what needs an account but no server).
fn unreachable_mail_account() -> torg_store::MailAccount {
    let server = |port| torg_store::MailServer {
        host: "127.0.0.1".into(),
        port,
        security: "plain".into(),
        user: String::new(),
        password: String::new(),
    };
    torg_store::MailAccount {
        address: "postmottak@alfa.kommune.no".into(),
        display_name: "Alfa kommune".into(),
        imap: server(9),
        imap_folder: "INBOX".into(),
        smtp: server(9),
        max_message_bytes: 1_000_000,
        blocked_extensions: vec![],
    }
}

/// An inquiry stored directly: (id, follow token, attachment id).
async fn stored_inquiry(
    store: &dyn Store,
    tenant: TenantId,
    unit: UnitId,
    channel: torg_domain::Channel,
) -> (InquiryId, String, i64) {
    stored_inquiry_with(store, tenant, unit, channel, None).await
}

/// An inquiry with the network's id, as a social-media connector stores it.
async fn stored_inquiry_with(
    store: &dyn Store,
    tenant: TenantId,
    unit: UnitId,
    channel: torg_domain::Channel,
    external_id: Option<&str>,
) -> (InquiryId, String, i64) {
    stored_inquiry_from(store, tenant, unit, channel, external_id, None).await
}

/// An inquiry with the network's id and the citizen's phone number.
async fn stored_inquiry_from(
    store: &dyn Store,
    tenant: TenantId,
    unit: UnitId,
    channel: torg_domain::Channel,
    external_id: Option<&str>,
    phone: Option<&str>,
) -> (InquiryId, String, i64) {
    let secret = torg_core::secrets::new_token();
    let now = jiff::Timestamp::now();
    let created = store
        .create_inquiry(torg_store::NewInquiry {
            tenant_id: tenant,
            channel,
            topic: None,
            subject: None,
            citizen_name: "Ola Nordmann".into(),
            contact_email: Some("ola@example.no".into()),
            contact_phone: phone.map(str::to_string),
            language: "nb".into(),
            unit_id: unit,
            priority: torg_domain::Priority::Normal,
            follow_token_hash: torg_core::secrets::token_hash(&secret),
            body: "Et spørsmål".into(),
            attachments: vec![torg_store::NewAttachment {
                filename: "vedlegg.txt".into(),
                content_type: "text/plain".into(),
                data: b"vedlegg".to_vec(),
            }],
            received_at: now,
            reference_year: 2026,
            deadline_at: now + jiff::SignedDuration::from_hours(48),
            external_id: external_id.map(str::to_string),
            thread_key: None,
            acknowledgement: None,
            origin: torg_store::Origin::default(),
        })
        .await
        .expect("inquiry")
        .inquiry;
    let attachment = store
        .attachments(tenant, created.id)
        .await
        .expect("attachments")[0]
        .id;
    (created.id, format!("{}-{secret}", created.id), attachment)
}

fn is_login_redirect(res: &reqwest::Response) -> bool {
    res.status() == StatusCode::SEE_OTHER
        && res
            .headers()
            .get("location")
            .is_some_and(|l| l == "/staff/login")
}

async fn send(
    app: &App,
    c: &reqwest::Client,
    method: &axum::http::Method,
    v: &Variant,
    csrf: &str,
    bearer: Option<&str>,
    n: &mut u32,
) -> reqwest::Response {
    let url = format!("{}{}", app.base, v.path);
    let mut req = if *method == axum::http::Method::GET {
        c.get(&url)
    } else {
        c.post(&url)
    };
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    *n += 1;
    req = match &v.body {
        Body::None => req,
        Body::Form(fields) => {
            let mut f: Vec<(&str, String)> = fields
                .iter()
                .map(|(k, val)| (*k, val.replace("{n}", &n.to_string())))
                .collect();
            f.push(("csrf", csrf.to_string()));
            req.form(&f)
        }
        Body::Json(j) => req.json(j),
        Body::Contact => req.multipart(
            Form::new()
                .text("name", "Ola")
                .text("email", "ola@example.no")
                .text("message", "Hei"),
        ),
        Body::WrongLogin => {
            let page = c
                .get(format!("{}/staff/login", app.base))
                .send()
                .await
                .expect("login page")
                .text()
                .await
                .expect("text");
            let token = between(&page, "name=\"csrf\" value=\"", "\"")
                .expect("csrf")
                .to_string();
            // A name of its own each time: failures on one name from one address make it wait.
            let username = format!("x-finnes-ikke-{}", &torg_core::secrets::new_token()[..8]);
            req.form(&[
                ("csrf", token.as_str()),
                ("municipality", app.a.slug.as_str()),
                ("username", username.as_str()),
                ("password", "feil passord"),
            ])
        }
    };
    req.send().await.expect("request")
}

/// Walks every route with every role and without a login, including other units' and
/// another municipality's objects by id. A route without a row here fails the test.
async fn every_route_allows_and_denies_as_the_table_says(app: &App) {
    use axum::http::Method;
    use torg_domain::Channel;
    let store = &*app.store;
    let a = store
        .municipality_by_slug(&app.a.slug)
        .await
        .expect("a")
        .expect("a");
    let b = store
        .municipality_by_slug(&app.b.slug)
        .await
        .expect("b")
        .expect("b");
    let units = store.list_units(a.id).await.expect("units");
    let desk = units.iter().find(|u| u.is_service_desk).expect("desk").id;
    let plain = units
        .iter()
        .find(|u| u.name == "Oppvekst")
        .expect("plain")
        .id;
    let health = store
        .create_unit(a.id, "Helse og omsorg", false, false, None)
        .await
        .expect("unit");
    let health = store
        .update_unit(a.id, health.id, "Helse og omsorg", true, None)
        .await
        .expect("sensitive")
        .id;
    let b_unit = store.list_units(b.id).await.expect("units")[0].id;
    // A listening match to decide (the first allowed dismisses it, the rest are told).
    let heard = |tenant: TenantId, name: &'static str| async move {
        let source = store
            .add_listening_source(
                tenant,
                torg_domain::listening::SourceKind::Feed,
                name,
                &format!("https://{name}.example/rss"),
                None,
            )
            .await
            .expect("source");
        store
            .add_listening_matches(
                tenant,
                source,
                &[torg_store::NewListeningMatch {
                    item: torg_domain::listening::Item {
                        guid: "1".into(),
                        title: "Gasslukt".into(),
                        link: String::new(),
                        summary: String::new(),
                        published: None,
                    },
                    keywords: vec!["gasslukt".into()],
                }],
                jiff::Timestamp::now(),
            )
            .await
            .expect("match");
        let id = store
            .listening_matches(tenant, None, 1)
            .await
            .expect("matches")[0]
            .id;
        (source, id)
    };
    let (a_source, a_match) = heard(a.id, "alfa-avis").await;
    let (b_source, b_match) = heard(b.id, "beta-avis").await;
    let chief_source = heard(a.id, "sjef-avis").await.0;
    let comm_source = heard(a.id, "komm-avis").await.0;
    // Tokens to revoke (not the ones the API rows use).
    let spare_token = |tenant: TenantId| async move {
        torg_core::tokens::create(
            store,
            &torg_core::actor::Actor::cli(),
            tenant,
            torg_core::tokens::TokenInput {
                name: "reserve",
                units: vec![],
                expires_at: None,
            },
            jiff::Timestamp::now(),
        )
        .await
        .expect("token")
        .0
        .id
    };
    let a_spare = spare_token(a.id).await;
    let b_spare = spare_token(b.id).await;
    // Webhooks to remove.
    let spare_hook = |tenant: TenantId| async move {
        store
            .add_webhook(
                tenant,
                torg_store::NewWebhook {
                    url: "https://sak.example/h".into(),
                    events: vec![torg_domain::webhook::Event::InquiryCreated],
                    secret_sealed: "sealed".into(),
                    created_at: jiff::Timestamp::now(),
                },
                None,
            )
            .await
            .expect("webhook")
    };
    let a_hook = spare_hook(a.id).await;
    let b_hook = spare_hook(b.id).await;
    // Casework settings to move, change and remove.
    let spare_casework = |tenant: TenantId| async move {
        let unit = store.list_units(tenant).await.expect("units")[0].id;
        let rule = store
            .create_routing_rule(
                tenant,
                torg_domain::routing::RoutingRule {
                    position: 10,
                    keyword: Some("vann".into()),
                    topic: None,
                    channel: None,
                    unit_id: unit,
                },
                None,
            )
            .await
            .expect("rule");
        let canned = store
            .create_canned_reply(tenant, "Reservemal", "Hei", None)
            .await
            .expect("canned")
            .id;
        let policy = store
            .create_deadline_policy(
                tenant,
                torg_domain::deadline::PolicyRule {
                    channel: Some(Channel::Sms),
                    unit_id: None,
                    topic: None,
                    policy: "hours:24".parse().expect("policy"),
                },
                None,
            )
            .await
            .expect("policy");
        let peak = store
            .create_peak(
                tenant,
                torg_domain::deadline::PlannedPeak {
                    id: 0,
                    name: "Topp".into(),
                    starts_at: "2030-01-01T00:00:00Z".parse().expect("t"),
                    ends_at: "2030-01-05T00:00:00Z".parse().expect("t"),
                    policy: "hours:4".parse().expect("policy"),
                    staffing_note: String::new(),
                },
                None,
            )
            .await
            .expect("peak");
        (rule, canned, policy, peak)
    };
    let (a_rule, a_canned, a_policy, a_peak) = spare_casework(a.id).await;
    store
        .set_jargon(a.id, "reserveord", Some("ord"), None)
        .await
        .expect("jargon");
    let (b_rule, b_canned, b_policy, b_peak) = spare_casework(b.id).await;
    store
        .set_closed_day(
            a.id,
            torg_store::ClosedDay {
                date: jiff::civil::date(2030, 12, 27),
                closes_at: None,
                note: String::new(),
            },
            None,
        )
        .await
        .expect("closed day");
    store
        .set_scoped_opening_hours(
            a.id,
            torg_domain::calendar::HoursScope::Channel(Channel::Chat),
            &torg_domain::calendar::parse_weekly("mon-fri 09:00-14:00").expect("weekly"),
            None,
        )
        .await
        .expect("scoped hours");
    let hash = torg_core::secrets::hash_password(PASSWORD).expect("hash");
    let mut ids = HashMap::new();
    for (username, role, unit) in ACCESS_USERS {
        let unit_id = match *unit {
            "desk" => desk,
            "plain" => plain,
            _ => health,
        };
        let u = store
            .create_user(
                a.id,
                NewUser {
                    email: None,
                    username: username.to_string(),
                    full_name: format!("Test {username}"),
                    password_hash: hash.clone(),
                    password_set_by: None,
                    role: *role,
                    unit_id: Some(unit_id),
                },
                None,
            )
            .await
            .expect("user");
        ids.insert(*username, u.id);
    }
    let victim = store
        .create_user(
            a.id,
            NewUser {
                email: None,
                username: "x-victim".into(),
                full_name: "Vera Victim".into(),
                password_hash: hash.clone(),
                password_set_by: None,
                role: Role::ReadOnly,
                unit_id: Some(plain),
            },
            None,
        )
        .await
        .expect("victim")
        .id;
    let b_user = store.list_users(b.id).await.expect("users")[0].id;
    let now = jiff::Timestamp::now();
    let hour = jiff::SignedDuration::from_hours(1);
    let shift = store
        .create_shift(
            a.id,
            "public",
            ids["x-handler"],
            now - hour,
            now + hour,
            None,
        )
        .await
        .expect("shift")
        .id;
    let b_shift = store
        .create_shift(b.id, "public", b_user, now - hour, now + hour, None)
        .await
        .expect("shift")
        .id;
    // A drill in each municipality, for the crisis room's routes.
    let drill = |tenant: TenantId| async move {
        store
            .start_crisis(
                tenant,
                &torg_store::NewCrisis {
                    template: "water".into(),
                    drill: true,
                    areas: vec![],
                    all_subscribers: false,
                    started_by: "cli".into(),
                },
                &torg_store::NewCrisisMessage {
                    msg_type: torg_domain::crisis::MsgType::Alert,
                    headline: "Kok vannet",
                    text: "",
                    instruction: "Kok vannet.",
                    at: jiff::Timestamp::now(),
                    broadcasts: vec![],
                    notices: vec![],
                    log: "alert".into(),
                    actor: "cli".into(),
                },
                None,
            )
            .await
            .expect("drill")
            .0
            .id
    };
    let a_crisis = drill(a.id).await;
    let b_crisis = drill(b.id).await;
    let (plain_i, plain_token, plain_att) =
        stored_inquiry(store, a.id, plain, Channel::Email).await;
    let (public_i, _, _) = stored_inquiry(store, a.id, plain, Channel::Facebook).await;
    // A comment on the page, whose account reaches a stand-in of the Graph API.
    let (graph, _) = fake_graph().await;
    let key = app
        .state
        .settings
        .secret_key
        .clone()
        .expect("the access test has a key");
    meta_account(store, &key, a.id, Channel::Facebook, "PAGEX", &graph, true).await;
    let (comment_i, _, _) = stored_inquiry_with(
        store,
        a.id,
        plain,
        Channel::Facebook,
        Some("PAGEX|comment:1_1"),
    )
    .await;
    let (health_i, _, health_att) = stored_inquiry(store, a.id, health, Channel::Web).await;
    let (desk_i, _, _) = stored_inquiry(store, a.id, desk, Channel::Web).await;
    // Merging: an older inquiry every allowed user merges their own newer one into.
    let (merge_oldest, _, _) = stored_inquiry(store, a.id, desk, Channel::Email).await;
    let merge_reference = store
        .inquiry(a.id, merge_oldest)
        .await
        .expect("read")
        .expect("found")
        .reference
        .to_string();
    // Splitting: each allowed user splits the second message of their own inquiry.
    let mut split_paths = vec![];
    for user in ["x-admin", "x-chief", "x-comm", "x-desk"] {
        let (own, _, _) = stored_inquiry(store, a.id, desk, Channel::Web).await;
        let second = store
            .add_message(
                a.id,
                own,
                torg_store::NewMessage {
                    kind: torg_domain::MessageKind::Inbound,
                    author_user_id: None,
                    author_name: "Ola".into(),
                    body: "Noe annet".into(),
                    attachments: vec![],
                    created_at: jiff::Timestamp::now(),
                    external_id: None,
                    outgoing: None,
                },
                None,
            )
            .await
            .expect("second message")
            .id;
        split_paths.push((
            user,
            format!("/staff/inquiries/{own}/messages/{second}/split"),
        ));
    }
    let mut merge_paths = vec![];
    for user in ["x-admin", "x-chief", "x-comm", "x-desk"] {
        let (own, _, _) = stored_inquiry(store, a.id, desk, Channel::Sms).await;
        merge_paths.push((user, format!("/staff/inquiries/{own}/merge")));
    }
    let (api_i, _, _) = stored_inquiry(store, a.id, desk, Channel::Api).await;
    let (_, revoke_token, _) = stored_inquiry(store, a.id, desk, Channel::Web).await;
    let (b_i, b_token, b_att) = stored_inquiry(store, b.id, b_unit, Channel::Web).await;
    let (chat_i, chat_token, _) = stored_inquiry(store, a.id, plain, Channel::Chat).await;
    let (b_chat_i, _, _) = stored_inquiry(store, b.id, b_unit, Channel::Chat).await;
    app.state.forget_cached_settings();

    let slug = app.a.slug.clone();
    let v = |path: String, body: Body, expect: Expect| Variant {
        path,
        body,
        expect,
        by_user: vec![],
    };
    // Quarantined mail for the quarantine actions, one per user and action (they use it up).
    store
        .set_mail_account(a.id, Some(unreachable_mail_account()), None)
        .await
        .expect("mail account");
    let mut held: HashMap<String, i64> = HashMap::new();
    for (tenant, tag) in [(a.id, "alfa"), (b.id, "beta")] {
        for (user, _, _) in ACCESS_USERS {
            for action in ["release", "discard"] {
                let message_id = format!("<{action}-{user}-{tag}@example.no>");
                let raw = format!(
                    "From: Ola <ola@example.no>\r\nSubject: Hei\r\nMessage-ID: {message_id}\r\n\r\nHei\r\n"
                );
                store
                    .quarantine_mail(
                        tenant,
                        &torg_store::NewQuarantinedMail {
                            message_id: message_id.clone(),
                            sender: "ola@example.no".into(),
                            subject: "Hei".into(),
                            reason: "test".into(),
                            raw: raw.into_bytes(),
                            notice: None,
                        },
                        now,
                    )
                    .await
                    .expect("quarantine");
            }
        }
        for q in store.quarantined_mail(tenant, 100).await.expect("held") {
            held.insert(q.message_id, q.id);
        }
    }
    // A proposed account in each municipality, for the chief executive's decision.
    let mut proposed = vec![];
    for tenant in [a.id, b.id] {
        let account = store
            .propose_channel_account(
                tenant,
                &torg_store::NewChannelAccount {
                    channel: Channel::Facebook,
                    name: "Kommunen".into(),
                    address: "https://facebook.com/kommunen".into(),
                    owner_unit_id: None,
                    purpose: "Dialog".into(),
                    ambition: torg_domain::registry::Ambition::Waiting,
                    opening_hours: String::new(),
                    proposed_by: None,
                },
                now,
                None,
            )
            .await
            .expect("propose");
        proposed.push(account.id);
    }
    let quarantined = |action: &str, user: &str, tag: &str| {
        format!(
            "/staff/mail/quarantine/{}/{action}",
            held[&format!("<{action}-{user}-{tag}@example.no>")]
        )
    };
    // Messages of one's own to change, send, approve and withdraw: one per user and step.
    let mut messages: HashMap<(&str, &str), i64> = HashMap::new();
    for (u, _, _) in ACCESS_USERS {
        for step in ["edit", "submit", "approve", "withdraw"] {
            let author = if step == "approve" {
                ids["x-handler"]
            } else {
                ids["x-comm"]
            };
            let p = store
                .create_publication(
                    a.id,
                    &torg_store::NewPublication {
                        kind: Default::default(),
                        image_url: None,
                        variants: vec![],
                        title: format!("{step} {u}"),
                        body: "Biblioteket åpner klokken ti.".into(),
                        language: "nb".into(),
                        author_id: author,
                        publish_at: now + hour,
                        wheel_item_id: None,
                    },
                    None,
                )
                .await
                .expect("message");
            if step == "approve" {
                use torg_domain::publish::PubState;
                store
                    .set_publication_state(
                        a.id,
                        p.id,
                        PubState::Draft,
                        PubState::Submitted,
                        None,
                        None,
                        &[],
                        &[],
                    )
                    .await
                    .expect("submitted");
            }
            messages.insert((*u, step), p.id);
        }
    }
    let each_message = |step: &'static str| -> Vec<(&'static str, String)> {
        ACCESS_USERS
            .iter()
            .map(|(u, _, _)| {
                let id = messages[&(*u, step)];
                let tail = if step == "edit" {
                    String::new()
                } else {
                    format!("/{step}")
                };
                (*u, format!("/staff/publish/{id}{tail}"))
            })
            .collect()
    };
    let a_message = messages[&("x-comm", "edit")];
    let each_user = |action: &'static str| -> Vec<(&'static str, String)> {
        ACCESS_USERS
            .iter()
            .map(|(u, _, _)| (*u, quarantined(action, u, "alfa")))
            .collect()
    };
    let admin_id = ids["x-admin"].to_string();
    let form = |fields: &[(&'static str, &str)]| {
        Body::Form(fields.iter().map(|(k, v)| (*k, v.to_string())).collect())
    };
    let on = |id: i64, tail: &str| format!("/staff/inquiries/{id}{tail}");
    let mut table: Vec<((Method, &str), Vec<Variant>)> = vec![
        (
            (Method::GET, "/healthz"),
            vec![v("/healthz".into(), Body::None, Expect::Open)],
        ),
        (
            (Method::GET, "/metrics"),
            vec![v("/metrics".into(), Body::None, Expect::Operator)],
        ),
        (
            (Method::GET, "/static/{file}"),
            vec![v("/static/torg.css".into(), Body::None, Expect::Open)],
        ),
        (
            (Method::GET, "/"),
            vec![v("/".into(), Body::None, Expect::Open)],
        ),
        (
            (Method::GET, "/k/{slug}"),
            vec![
                v(format!("/k/{slug}"), Body::None, Expect::Open),
                v("/k/finnes-ikke".into(), Body::None, Expect::Everyone(404)),
            ],
        ),
        (
            (Method::GET, "/k/{slug}/journal"),
            vec![
                v(format!("/k/{slug}/journal"), Body::None, Expect::Open),
                v(
                    "/k/finnes-ikke/journal".into(),
                    Body::None,
                    Expect::Everyone(404),
                ),
            ],
        ),
        (
            (Method::GET, "/k/{slug}/journal/feed.atom"),
            vec![v(
                format!("/k/{slug}/journal/feed.atom"),
                Body::None,
                Expect::Open,
            )],
        ),
        (
            (Method::GET, "/k/{slug}/journal/einnsyn.json"),
            vec![
                v(
                    format!("/k/{slug}/journal/einnsyn.json"),
                    Body::None,
                    Expect::Open,
                ),
                v(
                    format!("/k/{slug}/journal/einnsyn.json?from=2026-01-01&to=2026-12-31"),
                    Body::None,
                    Expect::Everyone(400),
                ),
            ],
        ),
        (
            (Method::POST, "/k/{slug}/inquiries"),
            vec![v(
                format!("/k/{slug}/inquiries"),
                Body::Contact,
                Expect::Open,
            )],
        ),
        (
            (Method::GET, "/k/{slug}/follow/{token}"),
            vec![
                v(
                    format!("/k/{slug}/follow/{plain_token}"),
                    Body::None,
                    Expect::Open,
                ),
                // Another municipality's link under this one's address, and a forged one.
                v(
                    format!("/k/{slug}/follow/{b_token}"),
                    Body::None,
                    Expect::Everyone(404),
                ),
                v(
                    format!("/k/{slug}/follow/{plain_i}-{}", "0".repeat(64)),
                    Body::None,
                    Expect::Everyone(404),
                ),
            ],
        ),
        (
            (Method::POST, "/k/{slug}/follow/{token}/messages"),
            vec![
                v(
                    format!("/k/{slug}/follow/{plain_token}/messages"),
                    form(&[("message", "Takk")]),
                    Expect::Open,
                ),
                v(
                    format!("/k/{slug}/follow/{b_token}/messages"),
                    form(&[("message", "Inntrenger")]),
                    Expect::Everyone(404),
                ),
            ],
        ),
        (
            (Method::GET, "/k/{slug}/follow/{token}/attachments/{id}"),
            vec![
                v(
                    format!("/k/{slug}/follow/{plain_token}/attachments/{plain_att}"),
                    Body::None,
                    Expect::Open,
                ),
                // Somebody else's attachment through one's own link.
                v(
                    format!("/k/{slug}/follow/{plain_token}/attachments/{health_att}"),
                    Body::None,
                    Expect::Everyone(404),
                ),
                v(
                    format!("/k/{slug}/follow/{plain_token}/attachments/{b_att}"),
                    Body::None,
                    Expect::Everyone(404),
                ),
            ],
        ),
        (
            (Method::POST, "/k/{slug}/follow/{token}/revoke"),
            vec![
                v(
                    format!("/k/{slug}/follow/{b_token}/revoke"),
                    Body::None,
                    Expect::Everyone(404),
                ),
                v(
                    format!("/k/{slug}/follow/{revoke_token}/revoke"),
                    Body::None,
                    Expect::Open,
                ),
            ],
        ),
        (
            (Method::GET, "/staff/login"),
            vec![v("/staff/login".into(), Body::None, Expect::Open)],
        ),
        (
            (Method::POST, "/staff/login"),
            vec![v(
                "/staff/login".into(),
                Body::WrongLogin,
                Expect::Everyone(401),
            )],
        ),
        // Single sign-on: this municipality has none (tests/sso.rs walks the flow itself).
        (
            (Method::GET, "/staff/sso/{slug}"),
            vec![v(
                format!("/staff/sso/{slug}"),
                Body::None,
                Expect::Everyone(404),
            )],
        ),
        (
            (Method::GET, "/staff/sso/{slug}/callback"),
            vec![v(
                format!("/staff/sso/{slug}/callback?code=x&state=y"),
                Body::None,
                Expect::Everyone(400),
            )],
        ),
        // Logging out is walked last, on its own (below).
        ((Method::POST, "/staff/logout"), vec![]),
        (
            (Method::GET, "/staff"),
            vec![v("/staff".into(), Body::None, Expect::Staff(EVERY_USER))],
        ),
        (
            (Method::GET, "/staff/inquiries/{id}"),
            vec![
                v(on(plain_i.get(), ""), Body::None, Expect::Staff(SEES_PLAIN)),
                v(on(desk_i.get(), ""), Body::None, Expect::Staff(SEES_DESK)),
                v(on(health_i.get(), ""), Body::None, Expect::Staff(HEALTH)),
                v(on(b_i.get(), ""), Body::None, Expect::Staff(NOBODY)),
            ],
        ),
        (
            (Method::POST, "/staff/inquiries/{id}/reply"),
            vec![
                v(
                    on(plain_i.get(), "/reply"),
                    form(&[("body", "Svar")]),
                    Expect::Staff(HANDLES_PLAIN),
                ),
                v(
                    on(public_i.get(), "/reply"),
                    form(&[("body", "Svar")]),
                    Expect::Staff(SPEAKS_PUBLICLY),
                ),
                v(
                    on(health_i.get(), "/reply"),
                    form(&[("body", "Svar")]),
                    Expect::Staff(HEALTH),
                ),
                v(
                    on(b_i.get(), "/reply"),
                    form(&[("body", "Svar")]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/inquiries/{id}/hide"),
            vec![
                v(
                    on(comment_i.get(), "/hide"),
                    form(&[
                        ("reason", "off_topic_or_abusive"),
                        ("note", "Reklame for nettcasino"),
                    ]),
                    Expect::Staff(SPEAKS_PUBLICLY),
                ),
                // Not a comment: nothing to hide.
                v(
                    on(plain_i.get(), "/hide"),
                    form(&[("reason", "unlawful"), ("note", "Trusler")]),
                    Expect::Staff(NOBODY),
                ),
                v(
                    on(b_i.get(), "/hide"),
                    form(&[("reason", "unlawful"), ("note", "Trusler")]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::GET, "/staff/archive"),
            vec![v(
                "/staff/archive".into(),
                Body::None,
                Expect::Staff(&["x-archivist"]),
            )],
        ),
        (
            (Method::POST, "/staff/archive/retention"),
            vec![v(
                "/staff/archive/retention".into(),
                form(&[("days", "400")]),
                Expect::Staff(&["x-archivist"]),
            )],
        ),
        (
            (Method::GET, "/staff/moderation"),
            vec![v(
                "/staff/moderation".into(),
                Body::None,
                Expect::Staff(SPEAKS_PUBLICLY),
            )],
        ),
        (
            (Method::POST, "/staff/moderation/keywords"),
            vec![v(
                "/staff/moderation/keywords".into(),
                form(&[("keywords", "svindel")]),
                Expect::Staff(SPEAKS_PUBLICLY),
            )],
        ),
        (
            (Method::POST, "/staff/inquiries/{id}/archive"),
            vec![
                v(
                    on(plain_i.get(), "/archive"),
                    form(&[("decision", "archive"), ("basis", "personal_circumstances")]),
                    Expect::Staff(&["x-archivist"]),
                ),
                v(
                    on(health_i.get(), "/archive"),
                    form(&[("decision", "archive")]),
                    Expect::Staff(NOBODY),
                ),
                v(
                    on(b_i.get(), "/archive"),
                    form(&[("decision", "not_archive")]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/inquiries/{id}/note"),
            vec![
                v(
                    on(plain_i.get(), "/note"),
                    form(&[("body", "Notat")]),
                    Expect::Staff(HANDLES_PLAIN),
                ),
                v(
                    on(public_i.get(), "/note"),
                    form(&[("body", "Notat")]),
                    Expect::Staff(HANDLES_PLAIN),
                ),
                v(
                    on(health_i.get(), "/note"),
                    form(&[("body", "Notat")]),
                    Expect::Staff(HEALTH),
                ),
                v(
                    on(b_i.get(), "/note"),
                    form(&[("body", "Notat")]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/inquiries/{id}/assign"),
            vec![
                v(
                    on(plain_i.get(), "/assign"),
                    Body::Form(vec![("unit_id", plain.to_string())]),
                    Expect::Staff(HANDLES_PLAIN),
                ),
                v(
                    on(health_i.get(), "/assign"),
                    Body::Form(vec![("unit_id", health.to_string())]),
                    Expect::Staff(HEALTH),
                ),
                v(
                    on(b_i.get(), "/assign"),
                    Body::Form(vec![("unit_id", b_unit.to_string())]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/inquiries/{id}/status"),
            vec![
                v(
                    on(plain_i.get(), "/status"),
                    form(&[("status", "open")]),
                    Expect::Staff(HANDLES_PLAIN),
                ),
                v(
                    on(health_i.get(), "/status"),
                    form(&[("status", "open")]),
                    Expect::Staff(HEALTH),
                ),
                v(
                    on(b_i.get(), "/status"),
                    form(&[("status", "open")]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (
                Method::POST,
                "/staff/inquiries/{id}/messages/{message}/split",
            ),
            vec![
                v(
                    on(desk_i.get(), "/messages/1/split"),
                    form(&[]),
                    Expect::Staff(&["x-admin", "x-chief", "x-comm", "x-desk"]),
                )
                .by_user(split_paths.clone()),
                v(
                    on(b_i.get(), "/messages/1/split"),
                    form(&[]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/inquiries/{id}/merge"),
            vec![
                v(
                    on(desk_i.get(), "/merge"),
                    form(&[("references", merge_reference.as_str())]),
                    Expect::Staff(&["x-admin", "x-chief", "x-comm", "x-desk"]),
                )
                .by_user(merge_paths.clone()),
                v(
                    on(b_i.get(), "/merge"),
                    form(&[("references", merge_reference.as_str())]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/inquiries/{id}/revoke-link"),
            vec![
                v(
                    on(desk_i.get(), "/revoke-link"),
                    form(&[]),
                    Expect::Staff(&["x-admin", "x-chief", "x-comm", "x-desk"]),
                ),
                v(
                    on(health_i.get(), "/revoke-link"),
                    form(&[]),
                    Expect::Staff(HEALTH),
                ),
                v(
                    on(b_i.get(), "/revoke-link"),
                    form(&[]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::GET, "/staff/attachments/{id}"),
            vec![
                v(
                    format!("/staff/attachments/{plain_att}"),
                    Body::None,
                    Expect::Staff(SEES_PLAIN),
                ),
                v(
                    format!("/staff/attachments/{health_att}"),
                    Body::None,
                    Expect::Staff(HEALTH),
                ),
                v(
                    format!("/staff/attachments/{b_att}"),
                    Body::None,
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::GET, "/staff/overview"),
            vec![v(
                "/staff/overview".into(),
                Body::None,
                Expect::Staff(OVERVIEW),
            )],
        ),
        (
            // Listening: everyone who handles inquiries works with the matches.
            (Method::GET, "/staff/listening"),
            vec![v(
                "/staff/listening".into(),
                Body::None,
                Expect::Staff(PHONE),
            )],
        ),
        (
            (Method::POST, "/staff/listening/matches/{id}"),
            vec![
                v(
                    format!("/staff/listening/matches/{a_match}"),
                    form(&[("action", "dismiss")]),
                    Expect::Staff(PHONE),
                ),
                v(
                    format!("/staff/listening/matches/{b_match}"),
                    form(&[("action", "dismiss")]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            // Those who speak for the municipality keep the sources and keywords.
            (Method::POST, "/staff/listening/sources"),
            vec![v(
                "/staff/listening/sources".into(),
                form(&[
                    ("kind", "feed"),
                    ("name", "Avis {n}"),
                    ("address", "https://avis{n}.example/rss"),
                ]),
                Expect::Staff(SPEAKS_PUBLICLY),
            )],
        ),
        (
            (Method::POST, "/staff/listening/sources/{id}/remove"),
            vec![
                v(
                    format!("/staff/listening/sources/{a_source}/remove"),
                    form(&[("confirm", "yes")]),
                    Expect::Staff(SPEAKS_PUBLICLY),
                )
                .by_user(vec![
                    (
                        "x-chief",
                        format!("/staff/listening/sources/{chief_source}/remove"),
                    ),
                    (
                        "x-comm",
                        format!("/staff/listening/sources/{comm_source}/remove"),
                    ),
                ]),
                v(
                    format!("/staff/listening/sources/{b_source}/remove"),
                    form(&[("confirm", "yes")]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/listening/keywords"),
            vec![v(
                "/staff/listening/keywords".into(),
                form(&[("keywords", "gasslukt\nstrømbrudd")]),
                Expect::Staff(SPEAKS_PUBLICLY),
            )],
        ),
        (
            // The evaluation: those who see the overview, for the units they see.
            (Method::GET, "/staff/evaluation"),
            vec![v(
                "/staff/evaluation".into(),
                Body::None,
                Expect::Staff(OVERVIEW),
            )],
        ),
        (
            (Method::GET, "/staff/evaluation/{file}"),
            vec![v(
                "/staff/evaluation/channels.csv".into(),
                Body::None,
                Expect::Staff(OVERVIEW),
            )],
        ),
        (
            // Those who speak for the municipality choose what it publishes.
            (Method::POST, "/staff/evaluation/settings"),
            vec![v(
                "/staff/evaluation/settings".into(),
                form(&[("licence", "NLOD-2.0"), ("surveys", "on")]),
                Expect::Staff(SPEAKS_PUBLICLY),
            )],
        ),
        (
            (Method::POST, "/staff/duty/{id}/handover"),
            vec![
                v(
                    format!("/staff/duty/{shift}/handover"),
                    form(&[("note", "Alt rolig")]),
                    Expect::Staff(&["x-handler"]),
                ),
                v(
                    format!("/staff/duty/{b_shift}/handover"),
                    form(&[("note", "Inntrenger")]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            // Those who handle an inquiry flag it as a possible press story.
            (Method::POST, "/staff/inquiries/{id}/press"),
            vec![
                v(
                    on(plain_i.get(), "/press"),
                    form(&[("why", "Naboer har ringt avisa")]),
                    Expect::Staff(HANDLES_PLAIN),
                ),
                v(
                    on(health_i.get(), "/press"),
                    form(&[("why", "Naboer har ringt avisa")]),
                    Expect::Staff(HEALTH),
                ),
                v(
                    on(b_i.get(), "/press"),
                    form(&[("why", "Naboer har ringt avisa")]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            // Those who speak for the municipality keep the media log.
            (Method::GET, "/staff/press"),
            vec![v(
                "/staff/press".into(),
                Body::None,
                Expect::Staff(SPEAKS_PUBLICLY),
            )],
        ),
        (
            (Method::POST, "/staff/press"),
            vec![v(
                "/staff/press".into(),
                form(&[("topic", "Brøyting"), ("outlet", "Lokalavisa")]),
                Expect::Staff(SPEAKS_PUBLICLY),
            )],
        ),
        (
            (Method::GET, "/staff/wheel"),
            vec![v(
                "/staff/wheel".into(),
                Body::None,
                Expect::Staff(EVERY_USER),
            )],
        ),
        (
            // Those who speak for the municipality plan its wheel.
            (Method::POST, "/staff/wheel/items"),
            vec![v(
                "/staff/wheel/items".into(),
                form(&[
                    ("title", "Sak {n}"),
                    ("date", "2027-03-01"),
                    ("repeat", "weekday"),
                ]),
                Expect::Staff(&["x-chief", "x-comm"]),
            )],
        ),
        (
            (Method::POST, "/staff/wheel/items/{id}/delete"),
            vec![v(
                "/staff/wheel/items/999999/delete".into(),
                form(&[]),
                Expect::Staff(&["x-chief", "x-comm"]),
            )],
        ),
        (
            (Method::POST, "/staff/wheel/feed"),
            vec![v(
                "/staff/wheel/feed".into(),
                form(&[]),
                Expect::Staff(&["x-chief", "x-comm"]),
            )],
        ),
        (
            // A feed link that was never made (or was replaced) opens nothing.
            (Method::GET, "/k/{slug}/wheel/{token}"),
            vec![v(
                format!("/k/{}/wheel/{}", app.a.slug, "a".repeat(64)),
                Body::None,
                Expect::Everyone(404),
            )],
        ),
        (
            (Method::GET, "/staff/publish"),
            vec![v(
                "/staff/publish".into(),
                Body::None,
                Expect::Staff(EVERY_USER),
            )],
        ),
        (
            // Everyone who handles inquiries writes messages.
            (Method::POST, "/staff/publish"),
            vec![v(
                "/staff/publish".into(),
                form(&[
                    ("title", "Melding {n}"),
                    ("body", "Tekst."),
                    ("publish_at", "2030-01-01T10:00"),
                ]),
                Expect::Staff(&[
                    "x-admin",
                    "x-chief",
                    "x-comm",
                    "x-leader",
                    "x-handler",
                    "x-desk",
                    "x-nurse",
                ]),
            )],
        ),
        (
            (Method::GET, "/staff/publish/{id}"),
            vec![v(
                format!("/staff/publish/{a_message}"),
                Body::None,
                Expect::Staff(EVERY_USER),
            )],
        ),
        (
            // The author (x-comm) and those who speak for the municipality change a message.
            (Method::POST, "/staff/publish/{id}"),
            vec![
                v(
                    "/staff/publish/0".into(),
                    form(&[
                        ("title", "Ny tittel"),
                        ("body", "Ny tekst."),
                        ("publish_at", "2030-01-01T10:00"),
                    ]),
                    Expect::Staff(SPEAKS_PUBLICLY),
                )
                .by_user(each_message("edit")),
            ],
        ),
        (
            (Method::POST, "/staff/publish/{id}/submit"),
            vec![
                v(
                    "/staff/publish/0/submit".into(),
                    form(&[]),
                    Expect::Staff(SPEAKS_PUBLICLY),
                )
                .by_user(each_message("submit")),
            ],
        ),
        (
            // Only those who speak for the municipality approve (here x-handler's text).
            (Method::POST, "/staff/publish/{id}/approve"),
            vec![
                v(
                    "/staff/publish/0/approve".into(),
                    form(&[]),
                    Expect::Staff(SPEAKS_PUBLICLY),
                )
                .by_user(each_message("approve")),
            ],
        ),
        (
            // A version in another language: as a change, the author's and the speakers'.
            (Method::POST, "/staff/publish/{id}/version"),
            vec![
                v(
                    "/staff/publish/0/version".into(),
                    form(&[
                        ("language", "fi"),
                        ("title", "Uusi otsikko"),
                        ("body", "Uusi teksti."),
                    ]),
                    Expect::Staff(SPEAKS_PUBLICLY),
                )
                .by_user(
                    each_message("edit")
                        .into_iter()
                        .map(|(u, url)| (u, format!("{url}/version")))
                        .collect(),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/publish/{id}/withdraw"),
            vec![
                v(
                    "/staff/publish/0/withdraw".into(),
                    form(&[]),
                    Expect::Staff(SPEAKS_PUBLICLY),
                )
                .by_user(each_message("withdraw")),
            ],
        ),
        (
            (Method::GET, "/k/{slug}/press"),
            vec![v(
                format!("/k/{}/press", app.a.slug),
                Body::None,
                Expect::Open,
            )],
        ),
        (
            (Method::GET, "/k/{slug}/news"),
            vec![v(
                format!("/k/{}/news", app.a.slug),
                Body::None,
                Expect::Open,
            )],
        ),
        (
            (Method::GET, "/k/{slug}/crisis"),
            vec![v(
                format!("/k/{}/crisis", app.a.slug),
                Body::None,
                Expect::Open,
            )],
        ),
        (
            (Method::GET, "/k/{slug}/cap.atom"),
            vec![v(
                format!("/k/{}/cap.atom", app.a.slug),
                Body::None,
                Expect::Open,
            )],
        ),
        (
            // An alert that is not this municipality's is not found.
            (Method::GET, "/k/{slug}/cap/{file}"),
            vec![v(
                format!("/k/{}/cap/999999.xml", app.a.slug),
                Body::None,
                Expect::Everyone(404),
            )],
        ),
        (
            (Method::GET, "/k/{slug}/subscribe"),
            vec![v(
                format!("/k/{}/subscribe", app.a.slug),
                Body::None,
                Expect::Open,
            )],
        ),
        (
            // Without an address: refused with the reason.
            (Method::POST, "/k/{slug}/subscribe"),
            vec![v(
                format!("/k/{}/subscribe", app.a.slug),
                form(&[("email", "")]),
                Expect::Everyone(422),
            )],
        ),
        (
            // The press list without an address: refused with the reason.
            (Method::POST, "/k/{slug}/press/subscribe"),
            vec![v(
                format!("/k/{}/press/subscribe", app.a.slug),
                form(&[("email", "")]),
                Expect::Everyone(422),
            )],
        ),
        (
            (Method::GET, "/k/{slug}/statistics"),
            vec![v(
                format!("/k/{}/statistics", app.a.slug),
                Body::None,
                Expect::Open,
            )],
        ),
        (
            (Method::GET, "/k/{slug}/statistics.json"),
            vec![v(
                format!("/k/{}/statistics.json", app.a.slug),
                Body::None,
                Expect::Open,
            )],
        ),
        (
            // Only the tables the municipality published; none are by default.
            (Method::GET, "/k/{slug}/statistics/{file}"),
            vec![v(
                format!("/k/{}/statistics/channels.csv", app.a.slug),
                Body::None,
                Expect::Everyone(404),
            )],
        ),
        (
            (Method::GET, "/k/{slug}/survey/{token}"),
            vec![v(
                format!("/k/{}/survey/{}", app.a.slug, UNKNOWN),
                Body::None,
                Expect::Everyone(404),
            )],
        ),
        (
            (Method::POST, "/k/{slug}/survey/{token}"),
            vec![v(
                format!("/k/{}/survey/{}", app.a.slug, UNKNOWN),
                form(&[("score", "5")]),
                Expect::Everyone(404),
            )],
        ),
        (
            (Method::POST, "/k/{slug}/follow/{token}/survey"),
            vec![v(
                format!("/k/{}/follow/{}/survey", app.a.slug, UNKNOWN),
                form(&[("score", "5")]),
                Expect::Everyone(404),
            )],
        ),
        (
            // A private link nobody was given opens nothing.
            (Method::GET, "/k/{slug}/subscription/{token}"),
            vec![v(
                format!("/k/{}/subscription/{}", app.a.slug, UNKNOWN),
                Body::None,
                Expect::Everyone(404),
            )],
        ),
        (
            (Method::POST, "/k/{slug}/subscription/{token}"),
            vec![v(
                format!("/k/{}/subscription/{}", app.a.slug, UNKNOWN),
                form(&[("topic", "vann")]),
                Expect::Everyone(404),
            )],
        ),
        (
            (Method::GET, "/k/{slug}/subscription/{token}/confirm"),
            vec![v(
                format!("/k/{}/subscription/{}/confirm", app.a.slug, UNKNOWN),
                Body::None,
                Expect::Everyone(404),
            )],
        ),
        (
            (Method::POST, "/k/{slug}/subscription/{token}/confirm"),
            vec![v(
                format!("/k/{}/subscription/{}/confirm", app.a.slug, UNKNOWN),
                form(&[]),
                Expect::Everyone(404),
            )],
        ),
        (
            (Method::GET, "/k/{slug}/subscription/{token}/unsubscribe"),
            vec![v(
                format!("/k/{}/subscription/{}/unsubscribe", app.a.slug, UNKNOWN),
                Body::None,
                Expect::Everyone(404),
            )],
        ),
        (
            // One-click unsubscribing answers alike whether the link was known.
            (Method::POST, "/k/{slug}/subscription/{token}/unsubscribe"),
            vec![v(
                format!("/k/{}/subscription/{}/unsubscribe", app.a.slug, UNKNOWN),
                form(&[("List-Unsubscribe", "One-Click")]),
                Expect::Everyone(200),
            )],
        ),
        (
            (Method::GET, "/staff/crisis"),
            vec![v(
                "/staff/crisis".into(),
                Body::None,
                Expect::Staff(EVERY_USER),
            )],
        ),
        (
            // Those who speak for the municipality declare (here: drills).
            (Method::POST, "/staff/crisis"),
            vec![v(
                "/staff/crisis".into(),
                form(&[("template", "water"), ("drill", "on")]),
                Expect::Staff(SPEAKS_PUBLICLY),
            )],
        ),
        (
            (Method::GET, "/staff/crisis/{id}"),
            vec![
                v(
                    format!("/staff/crisis/{a_crisis}"),
                    Body::None,
                    Expect::Staff(EVERY_USER),
                ),
                v(
                    format!("/staff/crisis/{b_crisis}"),
                    Body::None,
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::GET, "/staff/crisis/{id}/log.txt"),
            vec![
                v(
                    format!("/staff/crisis/{a_crisis}/log.txt"),
                    Body::None,
                    Expect::Staff(EVERY_USER),
                ),
                v(
                    format!("/staff/crisis/{b_crisis}/log.txt"),
                    Body::None,
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/crisis/{id}/update"),
            vec![
                v(
                    format!("/staff/crisis/{a_crisis}/update"),
                    form(&[("text", "Tankbil ved skolen")]),
                    Expect::Staff(SPEAKS_PUBLICLY),
                ),
                v(
                    format!("/staff/crisis/{b_crisis}/update"),
                    form(&[("text", "Inntrenger")]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/crisis/{id}/note"),
            vec![
                v(
                    format!("/staff/crisis/{a_crisis}/note"),
                    form(&[("kind", "decision"), ("text", "Tankbil bestilt")]),
                    Expect::Staff(PHONE),
                ),
                v(
                    format!("/staff/crisis/{b_crisis}/note"),
                    form(&[("text", "Inntrenger")]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/crisis/{id}/link"),
            vec![
                v(
                    format!("/staff/crisis/{a_crisis}/link"),
                    form(&[]),
                    Expect::Staff(PHONE),
                ),
                v(
                    format!("/staff/crisis/{b_crisis}/link"),
                    form(&[]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/crisis/{id}/answer"),
            vec![
                v(
                    format!("/staff/crisis/{a_crisis}/answer"),
                    form(&[]),
                    Expect::Staff(SPEAKS_PUBLICLY),
                ),
                v(
                    format!("/staff/crisis/{b_crisis}/answer"),
                    form(&[]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/crisis/{id}/end"),
            vec![
                v(
                    format!("/staff/crisis/{a_crisis}/end"),
                    form(&[("text", "Over")]),
                    Expect::Staff(SPEAKS_PUBLICLY),
                ),
                v(
                    format!("/staff/crisis/{b_crisis}/end"),
                    form(&[("text", "Inntrenger")]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::GET, "/k/{slug}/news.atom"),
            vec![v(
                format!("/k/{}/news.atom", app.a.slug),
                Body::None,
                Expect::Open,
            )],
        ),
        (
            // A message not (yet) out is no news.
            (Method::GET, "/k/{slug}/news/{id}"),
            vec![v(
                format!("/k/{}/news/{a_message}", app.a.slug),
                Body::None,
                Expect::Everyone(404),
            )],
        ),
        (
            (Method::GET, "/staff/password"),
            vec![v(
                "/staff/password".into(),
                Body::None,
                Expect::Staff(EVERY_USER),
            )],
        ),
        (
            // Everyone may choose their own password (here the one they have).
            (Method::POST, "/staff/password"),
            vec![v(
                "/staff/password".into(),
                form(&[
                    ("current", PASSWORD),
                    ("new", PASSWORD),
                    ("repeat", PASSWORD),
                ]),
                Expect::Staff(EVERY_USER),
            )],
        ),
        (
            (Method::GET, "/staff/admin/users"),
            vec![v(
                "/staff/admin/users".into(),
                Body::None,
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/users"),
            vec![v(
                "/staff/admin/users".into(),
                form(&[
                    ("username", "ny{n}"),
                    ("full_name", "Ny Bruker"),
                    ("role", "case_handler"),
                    ("password", "et langt passord"),
                ]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::GET, "/staff/admin/users/{id}"),
            vec![
                v(
                    format!("/staff/admin/users/{victim}"),
                    Body::None,
                    Expect::Staff(ADMIN),
                ),
                v(
                    format!("/staff/admin/users/{b_user}"),
                    Body::None,
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/admin/users/{id}"),
            vec![
                v(
                    format!("/staff/admin/users/{victim}"),
                    Body::Form(vec![
                        ("full_name", "Vera Victim".into()),
                        ("role", "read_only".into()),
                        ("active", "on".into()),
                        ("units", plain.to_string()),
                    ]),
                    Expect::Staff(ADMIN),
                ),
                v(
                    format!("/staff/admin/users/{b_user}"),
                    Body::Form(vec![
                        ("full_name", "Kapret".into()),
                        ("role", "administrator".into()),
                        ("active", "on".into()),
                    ]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::GET, "/staff/admin/units"),
            vec![v(
                "/staff/admin/units".into(),
                Body::None,
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/units"),
            vec![v(
                "/staff/admin/units".into(),
                form(&[("name", "Enhet {n}")]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/units/{id}"),
            vec![
                v(
                    format!("/staff/admin/units/{plain}"),
                    form(&[("name", "Oppvekst")]),
                    Expect::Staff(ADMIN),
                ),
                v(
                    format!("/staff/admin/units/{b_unit}"),
                    form(&[("name", "Kapret")]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::GET, "/staff/admin/tokens"),
            vec![v(
                "/staff/admin/tokens".into(),
                Body::None,
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/tokens"),
            vec![v(
                "/staff/admin/tokens".into(),
                form(&[("name", "Integrasjon {n}")]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/tokens/{id}/revoke"),
            vec![
                v(
                    format!("/staff/admin/tokens/{a_spare}/revoke"),
                    form(&[]),
                    Expect::Staff(ADMIN),
                ),
                v(
                    format!("/staff/admin/tokens/{b_spare}/revoke"),
                    form(&[]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::GET, "/staff/admin/webhooks"),
            vec![v(
                "/staff/admin/webhooks".into(),
                Body::None,
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/webhooks"),
            vec![v(
                "/staff/admin/webhooks".into(),
                form(&[
                    ("url", "https://sak.example/torg"),
                    ("events", "inquiry.created"),
                ]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/webhooks/{id}/remove"),
            vec![
                v(
                    format!("/staff/admin/webhooks/{a_hook}/remove"),
                    form(&[]),
                    Expect::Staff(ADMIN),
                ),
                v(
                    format!("/staff/admin/webhooks/{b_hook}/remove"),
                    form(&[]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::GET, "/staff/admin/routing"),
            vec![v(
                "/staff/admin/routing".into(),
                Body::None,
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/routing"),
            vec![v(
                "/staff/admin/routing".into(),
                form(&[
                    ("action", "try"),
                    ("keyword", "vei"),
                    ("sample", "Hull i veien"),
                ]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/routing/{id}/up"),
            vec![
                v(
                    format!("/staff/admin/routing/{a_rule}/up"),
                    form(&[]),
                    Expect::Staff(ADMIN),
                ),
                v(
                    format!("/staff/admin/routing/{b_rule}/up"),
                    form(&[]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/admin/routing/{id}/down"),
            vec![
                v(
                    format!("/staff/admin/routing/{a_rule}/down"),
                    form(&[]),
                    Expect::Staff(ADMIN),
                ),
                v(
                    format!("/staff/admin/routing/{b_rule}/down"),
                    form(&[]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/admin/routing/{id}/remove"),
            vec![
                v(
                    format!("/staff/admin/routing/{a_rule}/remove"),
                    form(&[]),
                    Expect::Staff(ADMIN),
                ),
                v(
                    format!("/staff/admin/routing/{b_rule}/remove"),
                    form(&[]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::GET, "/staff/admin/canned"),
            vec![v(
                "/staff/admin/canned".into(),
                Body::None,
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/canned"),
            vec![v(
                "/staff/admin/canned".into(),
                form(&[("title", "Mal {n}"), ("body", "Hei {n}")]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/canned/acknowledgement"),
            vec![v(
                "/staff/admin/canned/acknowledgement".into(),
                form(&[
                    ("language", "en"),
                    ("body", "Thanks {navn}: {referanse}, {lenke} ({n})"),
                ]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/canned/jargon"),
            vec![v(
                "/staff/admin/canned/jargon".into(),
                form(&[("phrase", "ord{n}"), ("plainer", "enklere")]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/canned/jargon/remove"),
            vec![v(
                "/staff/admin/canned/jargon/remove".into(),
                form(&[("phrase", "reserveord")]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/canned/{id}"),
            vec![
                v(
                    format!("/staff/admin/canned/{a_canned}"),
                    form(&[("title", "Endret {n}"), ("body", "Hei")]),
                    Expect::Staff(ADMIN),
                ),
                v(
                    format!("/staff/admin/canned/{b_canned}"),
                    form(&[("title", "Endret {n}"), ("body", "Hei")]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/admin/canned/{id}/remove"),
            vec![
                v(
                    format!("/staff/admin/canned/{a_canned}/remove"),
                    form(&[]),
                    Expect::Staff(ADMIN),
                ),
                v(
                    format!("/staff/admin/canned/{b_canned}/remove"),
                    form(&[]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::GET, "/staff/admin/deadlines"),
            vec![v(
                "/staff/admin/deadlines".into(),
                Body::None,
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/deadlines/policies"),
            vec![v(
                "/staff/admin/deadlines/policies".into(),
                form(&[("policy", "working_days:2"), ("topic", "t{n}")]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/deadlines/policies/{id}/remove"),
            vec![
                v(
                    format!("/staff/admin/deadlines/policies/{a_policy}/remove"),
                    form(&[]),
                    Expect::Staff(ADMIN),
                ),
                v(
                    format!("/staff/admin/deadlines/policies/{b_policy}/remove"),
                    form(&[]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/admin/deadlines/hours"),
            vec![v(
                "/staff/admin/deadlines/hours".into(),
                form(&[("weekly", "mon-fri 08:00-15:30")]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/deadlines/hours/remove"),
            vec![v(
                "/staff/admin/deadlines/hours/remove".into(),
                form(&[("scope", "channel:chat")]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/deadlines/days"),
            vec![v(
                "/staff/admin/deadlines/days".into(),
                form(&[("date", "2030-12-31"), ("closes_at", "12:00")]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/deadlines/days/{date}/remove"),
            vec![v(
                "/staff/admin/deadlines/days/2030-12-27/remove".into(),
                form(&[]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/deadlines/peaks"),
            vec![v(
                "/staff/admin/deadlines/peaks".into(),
                form(&[
                    ("name", "Topp {n}"),
                    ("from", "2030-02-01T08:00"),
                    ("to", "2030-02-03T16:00"),
                    ("policy", "working_hours:4"),
                ]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/deadlines/duty"),
            vec![v(
                "/staff/admin/deadlines/duty".into(),
                form(&[
                    ("group", "all"),
                    ("users", admin_id.as_str()),
                    ("from", "2030-03-04"),
                    ("handover", "08:00"),
                    ("days", "7"),
                    ("shifts", "1"),
                ]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/deadlines/peaks/{id}/remove"),
            vec![
                v(
                    format!("/staff/admin/deadlines/peaks/{a_peak}/remove"),
                    form(&[]),
                    Expect::Staff(ADMIN),
                ),
                v(
                    format!("/staff/admin/deadlines/peaks/{b_peak}/remove"),
                    form(&[]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::GET, "/staff/admin/audit"),
            vec![v(
                "/staff/admin/audit".into(),
                Body::None,
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::GET, "/staff/admin/audit/export"),
            vec![v(
                "/staff/admin/audit/export".into(),
                Body::None,
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::GET, "/staff/admin/mail"),
            vec![v(
                "/staff/admin/mail".into(),
                Body::None,
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/mail"),
            vec![v(
                "/staff/admin/mail".into(),
                form(&[
                    ("address", "postmottak@alfa.kommune.no"),
                    ("imap_host", "127.0.0.1"),
                    ("imap_port", "9"),
                    ("imap_security", "starttls"),
                    ("imap_user", "postmottak"),
                    ("imap_password", "hemmelig"),
                    ("smtp_host", "127.0.0.1"),
                    ("smtp_port", "9"),
                    ("smtp_security", "starttls"),
                ]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/mail/test"),
            vec![v(
                "/staff/admin/mail/test".into(),
                form(&[]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::GET, "/staff/admin/sms"),
            vec![v(
                "/staff/admin/sms".into(),
                Body::None,
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/sms"),
            vec![v(
                "/staff/admin/sms".into(),
                form(&[
                    ("url", "http://127.0.0.1:9/cgi-bin/sendsms"),
                    ("username", "torg"),
                    ("password", "hemmelig"),
                    ("sender", "2222"),
                ]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/sms/keywords"),
            vec![v(
                "/staff/admin/sms/keywords".into(),
                Body::Form(vec![("word", "vann".into()), ("unit", plain.to_string())]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::POST, "/staff/admin/sms/keywords/delete"),
            vec![v(
                "/staff/admin/sms/keywords/delete".into(),
                form(&[("word", "vann")]),
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::GET, "/staff/admin/connectors"),
            vec![v(
                "/staff/admin/connectors".into(),
                Body::None,
                Expect::Staff(ADMIN),
            )],
        ),
        (
            (Method::GET, "/staff/mail/quarantine"),
            vec![v(
                "/staff/mail/quarantine".into(),
                Body::None,
                Expect::Staff(QUARANTINE),
            )],
        ),
        (
            (Method::GET, "/staff/mail/quarantine/{id}/raw"),
            vec![
                v(
                    quarantined("discard", "x-handler", "alfa").replace("/discard", "/raw"),
                    Body::None,
                    Expect::Staff(QUARANTINE),
                ),
                v(
                    quarantined("discard", "x-handler", "beta").replace("/discard", "/raw"),
                    Body::None,
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/mail/quarantine/{id}/release"),
            vec![
                v(
                    quarantined("release", "x-admin", "alfa"),
                    form(&[]),
                    Expect::Staff(QUARANTINE),
                )
                .by_user(each_user("release")),
                v(
                    quarantined("release", "x-admin", "beta"),
                    form(&[]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/mail/quarantine/{id}/discard"),
            vec![
                v(
                    quarantined("discard", "x-admin", "alfa"),
                    form(&[]),
                    Expect::Staff(QUARANTINE),
                )
                .by_user(each_user("discard")),
                v(
                    quarantined("discard", "x-admin", "beta"),
                    form(&[]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::GET, "/hooks/sms/{slug}"),
            vec![
                // No gateway, or a wrong key: refused for everyone, logged in or not.
                v(
                    format!("/hooks/sms/{slug}?key=gjett&from=4791234567&text=Hei"),
                    Body::None,
                    Expect::Everyone(403),
                ),
                v(
                    "/hooks/sms/finnes-ikke?key=x&from=4791234567&text=Hei".into(),
                    Body::None,
                    Expect::Everyone(404),
                ),
            ],
        ),
        (
            (Method::GET, "/hooks/sms/{slug}/dlr"),
            vec![
                v(
                    format!("/hooks/sms/{slug}/dlr?key=gjett&outbox=1&type=1"),
                    Body::None,
                    Expect::Everyone(403),
                ),
                v(
                    "/hooks/sms/finnes-ikke/dlr?key=x&outbox=1&type=1".into(),
                    Body::None,
                    Expect::Everyone(404),
                ),
            ],
        ),
        (
            (Method::GET, "/hooks/meta/{slug}"),
            vec![
                // No account with that verify token: refused for everyone.
                v(
                    format!(
                        "/hooks/meta/{slug}?hub.mode=subscribe&hub.verify_token=gjett&hub.challenge=1"
                    ),
                    Body::None,
                    Expect::Everyone(403),
                ),
                v(
                    "/hooks/meta/finnes-ikke?hub.mode=subscribe&hub.verify_token=x&hub.challenge=1"
                        .into(),
                    Body::None,
                    Expect::Everyone(404),
                ),
            ],
        ),
        (
            (Method::POST, "/hooks/meta/{slug}"),
            vec![
                // Unsigned and for no account of the municipality: refused, session or not.
                v(
                    format!("/hooks/meta/{slug}"),
                    Body::Json(json!({"object": "page", "entry": [{"id": "1", "time": 1}]})),
                    Expect::Everyone(403),
                ),
            ],
        ),
        (
            (Method::GET, "/chat/{slug}"),
            vec![
                v(format!("/chat/{slug}"), Body::None, Expect::Open),
                v(
                    "/chat/finnes-ikke".into(),
                    Body::None,
                    Expect::Everyone(404),
                ),
            ],
        ),
        (
            (Method::GET, "/chat/{slug}/widget"),
            vec![
                v(format!("/chat/{slug}/widget"), Body::None, Expect::Open),
                v(
                    "/chat/finnes-ikke/widget".into(),
                    Body::None,
                    Expect::Everyone(404),
                ),
            ],
        ),
        (
            (Method::POST, "/chat/{slug}"),
            vec![v(
                format!("/chat/{slug}"),
                form(&[("name", "Ola"), ("message", "Hei, er dere der?")]),
                Expect::Open,
            )],
        ),
        (
            (Method::GET, "/chat/{slug}/c/{token}"),
            vec![
                v(
                    format!("/chat/{slug}/c/{chat_token}"),
                    Body::None,
                    Expect::Open,
                ),
                // Another inquiry's follow token is no chat; a guessed one is nothing.
                v(
                    format!("/chat/{slug}/c/{revoke_token}"),
                    Body::None,
                    Expect::Everyone(404),
                ),
                v(
                    format!("/chat/beta/c/{chat_token}"),
                    Body::None,
                    Expect::Everyone(404),
                ),
            ],
        ),
        (
            (Method::POST, "/chat/{slug}/c/{token}"),
            vec![
                v(
                    format!("/chat/{slug}/c/{chat_token}"),
                    form(&[("body", "Hallo")]),
                    Expect::Open,
                ),
                v(
                    format!("/chat/beta/c/{chat_token}"),
                    form(&[("body", "Hallo")]),
                    Expect::Everyone(404),
                ),
            ],
        ),
        (
            (Method::GET, "/chat/{slug}/c/{token}/events"),
            vec![
                v(
                    format!("/chat/{slug}/c/{chat_token}/events"),
                    Body::None,
                    Expect::Open,
                ),
                v(
                    format!("/chat/{slug}/c/{b_token}/events"),
                    Body::None,
                    Expect::Everyone(404),
                ),
            ],
        ),
        (
            (Method::POST, "/chat/{slug}/c/{token}/typing"),
            vec![
                v(
                    format!("/chat/{slug}/c/{chat_token}/typing"),
                    Body::None,
                    Expect::Open,
                ),
                v(
                    format!("/chat/{slug}/c/{b_token}/typing"),
                    Body::None,
                    Expect::Everyone(404),
                ),
            ],
        ),
        (
            (Method::POST, "/chat/{slug}/c/{token}/transcript"),
            vec![
                v(
                    format!("/chat/{slug}/c/{chat_token}/transcript"),
                    form(&[("confirm", "yes")]),
                    Expect::Open,
                ),
                v(
                    format!("/chat/{slug}/c/{b_token}/transcript"),
                    form(&[("confirm", "yes")]),
                    Expect::Everyone(404),
                ),
            ],
        ),
        (
            (Method::GET, "/staff/chats"),
            vec![v(
                "/staff/chats".into(),
                Body::None,
                Expect::Staff(EVERY_USER),
            )],
        ),
        (
            (Method::GET, "/staff/chats/events"),
            vec![v(
                "/staff/chats/events".into(),
                Body::None,
                Expect::Staff(EVERY_USER),
            )],
        ),
        (
            (Method::GET, "/staff/inquiries/{id}/events"),
            vec![
                v(
                    on(chat_i.get(), "/events"),
                    Body::None,
                    Expect::Staff(SEES_PLAIN),
                ),
                // Not a chat: nothing to follow live.
                v(
                    on(plain_i.get(), "/events"),
                    Body::None,
                    Expect::Staff(NOBODY),
                ),
                v(
                    on(b_chat_i.get(), "/events"),
                    Body::None,
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/inquiries/{id}/typing"),
            vec![
                v(
                    on(chat_i.get(), "/typing"),
                    form(&[]),
                    Expect::Staff(HANDLES_PLAIN),
                ),
                v(
                    on(b_chat_i.get(), "/typing"),
                    form(&[]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::POST, "/staff/inquiries/{id}/take"),
            vec![
                v(
                    on(chat_i.get(), "/take"),
                    form(&[]),
                    Expect::Staff(HANDLES_PLAIN),
                ),
                v(on(plain_i.get(), "/take"), form(&[]), Expect::Staff(NOBODY)),
                v(
                    on(b_chat_i.get(), "/take"),
                    form(&[]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::GET, "/staff/channels"),
            vec![v(
                "/staff/channels".into(),
                Body::None,
                Expect::Staff(OVERVIEW),
            )],
        ),
        (
            (Method::POST, "/staff/channels"),
            vec![v(
                "/staff/channels".into(),
                form(&[
                    ("channel", "instagram"),
                    ("name", "Kommunen på Instagram"),
                    ("address", "@kommunen{n}"),
                    ("purpose", "Bilder fra kommunen"),
                    ("ambition", "passive"),
                ]),
                Expect::Staff(OVERVIEW),
            )],
        ),
        (
            (Method::POST, "/staff/channels/{id}/decide"),
            vec![
                v(
                    format!("/staff/channels/{}/decide", proposed[0]),
                    form(&[("status", "approved")]),
                    Expect::Staff(&["x-chief"]),
                ),
                v(
                    format!("/staff/channels/{}/decide", proposed[1]),
                    form(&[("status", "approved")]),
                    Expect::Staff(NOBODY),
                ),
            ],
        ),
        (
            (Method::GET, "/staff/phone"),
            vec![v("/staff/phone".into(), Body::None, Expect::Staff(PHONE))],
        ),
        (
            (Method::POST, "/staff/phone"),
            vec![v(
                "/staff/phone".into(),
                form(&[
                    ("name", "Ola Innringer"),
                    ("summary", "Spurte om søppeltømming"),
                    ("minutes", "2"),
                    ("outcome", "answered"),
                ]),
                Expect::Staff(PHONE),
            )],
        ),
        (
            (Method::GET, "/api/v1/openapi.json"),
            vec![v("/api/v1/openapi.json".into(), Body::None, Expect::Open)],
        ),
        (
            (Method::POST, "/api/v1/inquiries"),
            vec![v(
                "/api/v1/inquiries".into(),
                Body::Json(
                    json!({"citizen_name": "Ola", "email": "ola@example.no", "body": "Hei"}),
                ),
                Expect::Api(true),
            )],
        ),
        (
            (Method::GET, "/api/v1/inquiries"),
            vec![v("/api/v1/inquiries".into(), Body::None, Expect::Api(true))],
        ),
        (
            (Method::GET, "/api/v1/inquiries/{id}"),
            vec![
                v(
                    format!("/api/v1/inquiries/{api_i}"),
                    Body::None,
                    Expect::Api(true),
                ),
                v(
                    format!("/api/v1/inquiries/{b_i}"),
                    Body::None,
                    Expect::Api(false),
                ),
            ],
        ),
        (
            (Method::POST, "/api/v1/inquiries/{id}/replies"),
            vec![
                v(
                    format!("/api/v1/inquiries/{api_i}/replies"),
                    Body::Json(json!({"body": "Svar"})),
                    Expect::Api(true),
                ),
                v(
                    format!("/api/v1/inquiries/{b_i}/replies"),
                    Body::Json(json!({"body": "Svar"})),
                    Expect::Api(false),
                ),
            ],
        ),
        (
            (Method::POST, "/api/v1/inquiries/{id}/notes"),
            vec![
                v(
                    format!("/api/v1/inquiries/{api_i}/notes"),
                    Body::Json(json!({"body": "Notat"})),
                    Expect::Api(true),
                ),
                v(
                    format!("/api/v1/inquiries/{b_i}/notes"),
                    Body::Json(json!({"body": "Notat"})),
                    Expect::Api(false),
                ),
            ],
        ),
        (
            (Method::POST, "/api/v1/inquiries/{id}/assign"),
            vec![
                v(
                    format!("/api/v1/inquiries/{api_i}/assign"),
                    Body::Json(json!({"unit_id": desk})),
                    Expect::Api(true),
                ),
                v(
                    format!("/api/v1/inquiries/{b_i}/assign"),
                    Body::Json(json!({"unit_id": desk})),
                    Expect::Api(false),
                ),
            ],
        ),
        (
            (Method::POST, "/api/v1/inquiries/{id}/close"),
            vec![
                v(
                    format!("/api/v1/inquiries/{api_i}/close"),
                    Body::None,
                    Expect::Api(true),
                ),
                v(
                    format!("/api/v1/inquiries/{b_i}/close"),
                    Body::None,
                    Expect::Api(false),
                ),
            ],
        ),
        (
            (Method::GET, "/api/v1/units"),
            vec![v("/api/v1/units".into(), Body::None, Expect::Api(true))],
        ),
    ];

    // The table and the server's routes are the same set: a new route needs a row.
    let mut routes: Vec<(Method, String)> = torg_http::route_list();
    let mut rows: Vec<(Method, String)> = table
        .iter()
        .map(|((m, p), _)| (m.clone(), p.to_string()))
        .collect();
    let key = |r: &(Method, String)| (r.1.clone(), r.0.to_string());
    routes.sort_by_key(key);
    rows.sort_by_key(key);
    for r in &routes {
        assert!(
            rows.contains(r),
            "route {} {} has no row in the access table",
            r.0,
            r.1
        );
    }
    for r in &rows {
        assert!(
            routes.contains(r),
            "the access table has a row for {} {}, which is no route",
            r.0,
            r.1
        );
    }

    // Sessions for every user.
    let mut sessions = Vec::new();
    for (username, _, _) in ACCESS_USERS {
        let c = login(app, &app.a.slug, username).await;
        let csrf = csrf_of(&c, &format!("{}/staff", app.base)).await;
        sessions.push((*username, c, csrf));
    }
    let mut n = 0u32;
    let mut checked = 0usize;
    for ((method, pattern), variants) in table.drain(..) {
        for variant in &variants {
            let what = format!("{method} {} ({pattern})", variant.path);
            match variant.expect {
                Expect::Open => {
                    let res = send(app, &client(), &method, variant, "", None, &mut n).await;
                    let s = res.status();
                    assert!(
                        s.is_success() || s.is_redirection(),
                        "{what}: open to everybody, got {s}"
                    );
                    assert!(!is_login_redirect(&res), "{what}: open to everybody");
                }
                Expect::Everyone(code) => {
                    let res = send(app, &client(), &method, variant, "", None, &mut n).await;
                    assert_eq!(res.status().as_u16(), code, "{what} without login");
                    for (user, c, csrf) in &sessions {
                        let res = send(app, c, &method, variant, csrf, None, &mut n).await;
                        assert_eq!(res.status().as_u16(), code, "{what} as {user}");
                    }
                }
                Expect::Staff(allowed) => {
                    let res = send(app, &client(), &method, variant, "", None, &mut n).await;
                    assert!(
                        is_login_redirect(&res),
                        "{what} without login: {}",
                        res.status()
                    );
                    for (user, c, csrf) in &sessions {
                        let own = Variant {
                            path: variant.path_of(user).to_string(),
                            body: variant.body.clone(),
                            expect: Expect::Open,
                            by_user: vec![],
                        };
                        let res = send(app, c, &method, &own, csrf, None, &mut n).await;
                        let s = res.status();
                        if allowed.contains(user) {
                            assert!(
                                (s.is_success() || s.is_redirection()) && !is_login_redirect(&res),
                                "{what} as {user}: should be allowed, got {s}"
                            );
                        } else {
                            assert!(
                                s == StatusCode::FORBIDDEN || s == StatusCode::NOT_FOUND,
                                "{what} as {user}: should be refused, got {s}"
                            );
                        }
                    }
                }
                Expect::Api(allowed) => {
                    let res = send(app, &client(), &method, variant, "", None, &mut n).await;
                    assert_eq!(
                        res.status(),
                        StatusCode::UNAUTHORIZED,
                        "{what} without token"
                    );
                    // A staff login is no API token.
                    let (_, c, csrf) = &sessions[0];
                    let res = send(app, c, &method, variant, csrf, None, &mut n).await;
                    assert_eq!(
                        res.status(),
                        StatusCode::UNAUTHORIZED,
                        "{what} with a session"
                    );
                    let res = send(
                        app,
                        &client(),
                        &method,
                        variant,
                        "",
                        Some(&app.b.token),
                        &mut n,
                    )
                    .await;
                    if allowed {
                        // B's token on A's objects, or on B's own collection.
                        let s = res.status();
                        assert!(
                            s.is_success() || s == StatusCode::NOT_FOUND,
                            "{what} with B's token: {s}"
                        );
                    }
                    let res = send(
                        app,
                        &client(),
                        &method,
                        variant,
                        "",
                        Some(&app.a.token),
                        &mut n,
                    )
                    .await;
                    let s = res.status();
                    if allowed {
                        assert!(s.is_success(), "{what} with the token: {s}");
                    } else {
                        assert_eq!(s, StatusCode::NOT_FOUND, "{what} with the token");
                    }
                }
                Expect::Operator => {
                    let res = send(app, &client(), &method, variant, "", None, &mut n).await;
                    assert_eq!(
                        res.status(),
                        StatusCode::UNAUTHORIZED,
                        "{what} without token"
                    );
                    let res = send(
                        app,
                        &client(),
                        &method,
                        variant,
                        "",
                        Some(&app.a.token),
                        &mut n,
                    )
                    .await;
                    assert_eq!(
                        res.status(),
                        StatusCode::UNAUTHORIZED,
                        "{what} with an API token"
                    );
                    let res =
                        send(app, &client(), &method, variant, "", Some(OPERATOR), &mut n).await;
                    assert_eq!(
                        res.status(),
                        StatusCode::OK,
                        "{what} with the operator token"
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked > 60, "walked {checked} variants");

    // Reading the sensitive unit's inquiry is itself in the audit log.
    let reads = store
        .search_audit(
            a.id,
            &torg_store::AuditQuery {
                action: Some("inquiry.read".into()),
                object: Some(format!("inquiry:{health_i}")),
                ..Default::default()
            },
            10,
        )
        .await
        .expect("audit");
    assert_eq!(
        reads.len(),
        1,
        "the nurse's read is logged, nobody else read it"
    );
    assert_eq!(reads[0].entry.actor, format!("user:{}", ids["x-nurse"]));

    // A case handler moves an inquiry to a unit they are not in: it leaves their view.
    let (_, handler, csrf) = &sessions[4];
    let res = handler
        .post(format!("{}{}", app.base, on(plain_i.get(), "/assign")))
        .form(&[("csrf", csrf.as_str()), ("unit_id", &desk.to_string())])
        .send()
        .await
        .expect("assign");
    assert_eq!(res.headers()["location"], "/staff");
    let res = handler
        .get(format!("{}{}", app.base, on(plain_i.get(), "")))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let inbox = handler
        .get(format!("{}/staff?status=any", app.base))
        .send()
        .await
        .expect("inbox")
        .text()
        .await
        .expect("text");
    assert!(!inbox.contains(&format!("/staff/inquiries/{plain_i}\"")));
    assert!(!inbox.contains(&format!("/staff/inquiries/{health_i}\"")));

    // Logging out: every user, and the session is over afterwards.
    for (user, c, csrf) in &sessions {
        let res = c
            .post(format!("{}/staff/logout", app.base))
            .form(&[("csrf", csrf.as_str())])
            .send()
            .await
            .expect("logout");
        assert!(is_login_redirect(&res), "{user} logs out");
        let res = c
            .get(format!("{}/staff", app.base))
            .send()
            .await
            .expect("get");
        assert!(is_login_redirect(&res), "{user}'s session is over");
    }
    let res = client()
        .post(format!("{}/staff/logout", app.base))
        .form(&[("csrf", "x")])
        .send()
        .await
        .expect("logout");
    assert!(is_login_redirect(&res));
}

/// An administrator sets up SMS in the staff UI: the password is sealed and never shown, the
/// page gives the address Kannel must call, and a code word added there routes the next SMS
/// to its unit and answers it with its own text; removed, the word routes nothing.
#[tokio::test]
async fn sms_gateway_and_code_words_in_the_staff_ui() {
    let app = spawn_for_access(None).await;
    let store = &*app.store;
    let m = store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("m");
    add_user(store, m.id, "sjef", Role::Administrator, None).await;
    let water = store
        .create_unit(m.id, "Vann og avløp", false, false, None)
        .await
        .expect("unit");
    let admin = login(&app, "alfa", "sjef").await;
    let url = format!("{}/staff/admin/sms", app.base);
    let csrf = csrf_of(&admin, &url).await;
    let post = |path: &'static str, fields: Vec<(&'static str, String)>| {
        let admin = admin.clone();
        let to = format!("{url}{path}");
        let mut fields = fields;
        fields.push(("csrf", csrf.clone()));
        async move { admin.post(to).form(&fields).send().await.expect("post") }
    };
    let gateway = |address: &str, password: &str, new_key: &str| {
        vec![
            ("url", address.to_string()),
            ("username", "torg".to_string()),
            ("password", password.to_string()),
            ("sender", "2222".to_string()),
            ("new_key", new_key.to_string()),
        ]
    };
    let res = post("", gateway("ftp://example.no", "hemmelig-sms", "")).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.expect("text");
    assert!(
        page.contains("value=\"ftp://example.no\""),
        "what was typed stays"
    );
    assert!(store.sms_gateway(m.id).await.expect("g").is_none());
    let address = "http://127.0.0.1:13013/cgi-bin/sendsms";
    let res = post("", gateway(address, "hemmelig-sms", "")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let stored = store.sms_gateway(m.id).await.expect("g").expect("saved");
    assert!(stored.password.starts_with("sealed:v2:"), "sealed at rest");
    assert_eq!(stored.inbound_key.len(), 32);
    // Saved again without a password: the password and the key stay.
    let res = post("", gateway(address, "", "")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let kept = store.sms_gateway(m.id).await.expect("g").expect("kept");
    assert_eq!(
        (&kept.password, &kept.inbound_key),
        (&stored.password, &stored.inbound_key)
    );
    let page = admin
        .get(&url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(!page.contains("sealed:") && !page.contains("hemmelig-sms"));
    assert!(page.contains(&format!(
        "/hooks/sms/alfa?key={}&#38;from=%p&#38;text=%a&#38;id=%I",
        stored.inbound_key
    )));
    // Code words: one word, not a consent word, one of the municipality's units.
    let word = |w: &str, unit: UnitId, reply: &str| {
        vec![
            ("word", w.to_string()),
            ("unit", unit.to_string()),
            ("reply", reply.to_string()),
        ]
    };
    for (w, unit) in [
        ("vann lekker", water.id),
        ("Stopp", water.id),
        ("vann", UnitId(999_999)),
    ] {
        let res = post("/keywords", word(w, unit, "")).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{w}");
    }
    let reply = "Takk! Vi sender en rørlegger. Saken har nummer {referanse}.";
    let res = post("/keywords", word(" Vann ", water.id, reply)).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        store.sms_keywords(m.id).await.expect("k"),
        vec![torg_store::SmsKeyword {
            keyword: "vann".into(),
            unit_id: Some(water.id),
            reply: reply.into(),
        }]
    );
    let page = admin
        .get(&url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("<th scope=\"row\">VANN</th>") && page.contains("1 SMS"));
    // Kannel calls with the key from the page: the message goes to the unit.
    let hook = |text: &str, id: &str| {
        format!(
            "{}/hooks/sms/alfa?key={}&from=%2B4791234567&text={}&id={id}",
            app.base,
            stored.inbound_key,
            text.replace(' ', "+")
        )
    };
    let res = reqwest::get(hook("VANN lekker i kjelleren", "sms-1"))
        .await
        .expect("hook");
    assert_eq!(res.status(), StatusCode::OK);
    let sms = torg_store::InquiryFilter {
        channel: Some(torg_domain::Channel::Sms),
        ..Default::default()
    };
    let list = store
        .list_inquiries(m.id, &sms, None, 10)
        .await
        .expect("list");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].unit_id, water.id);
    // Removed: the next one goes to the service desk.
    let res = post("/keywords/delete", vec![("word", "VANN".to_string())]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(store.sms_keywords(m.id).await.expect("k").is_empty());
    let res = reqwest::get(hook("VANN igjen", "sms-2"))
        .await
        .expect("hook");
    assert_eq!(res.status(), StatusCode::OK);
    let list = store
        .list_inquiries(m.id, &sms, None, 10)
        .await
        .expect("list");
    assert_eq!(list.len(), 2);
    assert!(list.iter().any(|i| i.unit_id != water.id));
    // A new key on request, and the audit log has each change.
    let res = post("", gateway(address, "", "1")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let renewed = store.sms_gateway(m.id).await.expect("g").expect("g");
    assert_ne!(renewed.inbound_key, stored.inbound_key);
    let res = reqwest::get(hook("Hei", "sms-3")).await.expect("hook");
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "the old key no longer works"
    );
    let actions: Vec<String> = store
        .search_audit(m.id, &torg_store::AuditQuery::default(), 50)
        .await
        .expect("audit")
        .into_iter()
        .map(|e| e.entry.action)
        .collect();
    for action in [
        "settings.sms",
        "settings.sms_keyword",
        "settings.sms_keyword_removed",
    ] {
        assert!(actions.iter().any(|a| a == action), "{action}");
    }
}

const OPERATOR: &str = "operator-secret-for-the-access-test";

async fn spawn_for_access(database: Option<String>) -> App {
    spawn_with(
        database,
        torg_http::WebSettings {
            metrics_token: Some(OPERATOR.into()),
            secret_key: Some(torg_core::sealing::SecretKey::generate()),
            ..unlimited()
        },
    )
    .await
}

#[tokio::test]
async fn every_route_allows_and_denies_as_the_table_says_sqlite() {
    every_route_allows_and_denies_as_the_table_says(&spawn_for_access(None).await).await;
}

// ------------------------------------------------------------------ administration and hardening

async fn administration_lockout_and_revocation(app: &App) {
    let admin_user = {
        let m = app
            .store
            .municipality_by_slug(&app.a.slug)
            .await
            .expect("m")
            .expect("m");
        let hash = torg_core::secrets::hash_password(PASSWORD).expect("hash");
        app.store
            .create_user(
                m.id,
                NewUser {
                    email: None,
                    username: "sjef".into(),
                    full_name: "Sjef Admin".into(),
                    password_hash: hash,
                    password_set_by: None,
                    role: Role::Administrator,
                    unit_id: None,
                },
                None,
            )
            .await
            .expect("admin");
        m
    };
    let tenant = admin_user.id;
    let admin = login(app, &app.a.slug, "sjef").await;
    let csrf = csrf_of(&admin, &format!("{}/staff/admin/users", app.base)).await;
    let units = app.store.list_units(tenant).await.expect("units");
    let plain = units
        .iter()
        .find(|u| u.name == "Oppvekst")
        .expect("unit")
        .id;

    // A new unit, marked sensitive, and a new user who is its only member.
    let res = admin
        .post(format!("{}/staff/admin/units", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Barnevern"),
            ("sensitive", "on"),
        ])
        .send()
        .await
        .expect("unit");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let child = app
        .store
        .list_units(tenant)
        .await
        .expect("units")
        .into_iter()
        .find(|u| u.name == "Barnevern")
        .expect("created");
    assert!(child.sensitive);
    let res = admin
        .post(format!("{}/staff/admin/users", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "<b>x"),
            ("full_name", "X"),
            ("role", "case_handler"),
        ])
        .send()
        .await
        .expect("user");
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "bad username"
    );
    let page = res.text().await.expect("text");
    assert!(page.contains("Brukernavnet kan bare"), "says what to do");
    // An administrator who is not in the sensitive unit cannot give a password to someone in
    // it (they could sign in as her): the attempt is refused and logged.
    let new_berit = |password: &'static str| {
        admin
            .post(format!("{}/staff/admin/users", app.base))
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", "berit"),
                ("full_name", "Berit Vern"),
                ("role", "case_handler"),
                ("unit_id", &child.id.to_string()),
                ("password", password),
            ])
            .send()
    };
    let res = new_berit(PASSWORD).await.expect("user");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .expect("text")
            .contains("sette passord for noen som når mer")
    );
    let res = new_berit("").await.expect("user");
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "without a password: single sign-on"
    );
    let berit = app
        .store
        .user_by_username(tenant, "berit")
        .await
        .expect("u")
        .expect("created");
    assert_eq!(berit.member_of, vec![child.id]);
    // The operator sets her password (`torg user password`).
    torg_core::directory::set_password(
        &*app.store,
        &torg_core::actor::Actor::cli(),
        tenant,
        "berit",
        PASSWORD,
    )
    .await
    .expect("password");
    // Nor can the administrator add themselves to the sensitive unit, or set the chief
    // executive's password.
    let me = app
        .store
        .user_by_username(tenant, "sjef")
        .await
        .expect("u")
        .expect("u");
    let res = admin
        .post(format!("{}/staff/admin/users/{}", app.base, me.id))
        .form(&[
            ("csrf", csrf.as_str()),
            ("full_name", "Sjef"),
            ("role", "administrator"),
            ("active", "on"),
            ("units", &child.id.to_string()),
        ])
        .send()
        .await
        .expect("self");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.expect("text").contains("skjermet enhet"));
    add_user(&*app.store, tenant, "direktor", Role::ChiefExecutive, None).await;
    let chief = app
        .store
        .user_by_username(tenant, "direktor")
        .await
        .expect("u")
        .expect("u")
        .id;
    let res = admin
        .post(format!("{}/staff/admin/users/{chief}", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("full_name", "Dina Direktør"),
            ("role", "chief_executive"),
            ("active", "on"),
            ("password", "et-nytt-langt-passord"),
        ])
        .send()
        .await
        .expect("chief");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = actions(&*app.store, tenant, "user.refused").await;
    assert_eq!(refused.len(), 3, "every attempt is logged: {refused:?}");
    // The two-step way round: a new clerk with a password this administrator gave, then more
    // access for her (the sensitive unit, or a higher role) is refused and logged ...
    let res = admin
        .post(format!("{}/staff/admin/users", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "klara"),
            ("full_name", "Klara Kontor"),
            ("role", "case_handler"),
            ("unit_id", &plain.to_string()),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("clerk");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let klara = app
        .store
        .user_by_username(tenant, "klara")
        .await
        .expect("u")
        .expect("created");
    let raise_klara = |extra: (&'static str, String)| {
        let mut fields = vec![
            ("csrf", csrf.clone()),
            ("full_name", "Klara Kontor".to_string()),
            ("role", "case_handler".to_string()),
            ("unit_id", plain.to_string()),
            ("active", "on".to_string()),
            ("units", plain.to_string()),
        ];
        if extra.0 == "role" {
            fields.retain(|(k, _)| *k != "role");
        }
        fields.push(extra);
        admin
            .post(format!("{}/staff/admin/users/{}", app.base, klara.id))
            .form(&fields)
            .send()
    };
    for extra in [
        ("units", child.id.to_string()),
        ("role", "chief_executive".to_string()),
    ] {
        let res = raise_klara(extra.clone()).await.expect("raise");
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{extra:?}");
        assert!(
            res.text()
                .await
                .expect("text")
                .contains("Du satte passordet"),
            "{extra:?}"
        );
    }
    let refused = actions(&*app.store, tenant, "user.refused").await;
    assert_eq!(
        refused.len(),
        5,
        "the two-step attempts are logged: {refused:?}"
    );
    // ... until she has chosen a password of her own: then she may be given more.
    let klara_session = login(app, &app.a.slug, "klara").await;
    let own = format!("{}/staff/password", app.base);
    let klara_csrf = csrf_of(&klara_session, &own).await;
    let new_own = "mitt eget lange passord";
    let res = klara_session
        .post(&own)
        .form(&[
            ("csrf", klara_csrf.as_str()),
            ("current", "feil passord her"),
            ("new", new_own),
            ("repeat", new_own),
        ])
        .send()
        .await
        .expect("own");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.expect("text").contains("er ikke riktig"));
    let res = klara_session
        .post(&own)
        .form(&[
            ("csrf", klara_csrf.as_str()),
            ("current", PASSWORD),
            ("new", new_own),
            ("repeat", "noe annet enn det"),
        ])
        .send()
        .await
        .expect("own");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.expect("text").contains("ikke like"));
    let res = klara_session
        .post(&own)
        .form(&[
            ("csrf", klara_csrf.as_str()),
            ("current", PASSWORD),
            ("new", new_own),
            ("repeat", new_own),
        ])
        .send()
        .await
        .expect("own");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let done = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("to the page")
        .to_string();
    let page = klara_session
        .get(format!("{}{done}", app.base))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK, "her own session goes on");
    assert!(
        page.text()
            .await
            .expect("text")
            .contains("Passordet er byttet")
    );
    assert_eq!(
        app.store
            .user(tenant, klara.id)
            .await
            .expect("u")
            .expect("u")
            .password_set_by,
        None
    );
    let res = raise_klara(("units", child.id.to_string()))
        .await
        .expect("raise");
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "now another matter");
    assert_eq!(
        actions(&*app.store, tenant, "user.password").await.len(),
        2,
        "the operator's and Klara's own"
    );
    let res = admin
        .post(format!("{}/staff/admin/users", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "berit"),
            ("full_name", "Berit To"),
            ("role", "case_handler"),
        ])
        .send()
        .await
        .expect("user");
    assert_eq!(res.status(), StatusCode::CONFLICT, "the username is taken");

    // The kari of the service desk (all units) does not see the sensitive unit's inquiry;
    // Berit does.
    let created = create_via_api(app, &app.a.token, "Bekymringsmelding").await;
    let id = created["inquiry"]["id"].as_i64().expect("id");
    // The municipality's default API token does not reach the sensitive unit.
    let (s, _) = api(
        app,
        &app.a.token,
        "POST",
        &format!("/inquiries/{id}/assign"),
        Some(json!({"unit_id": child.id})),
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    app.store
        .assign(tenant, InquiryId(id), child.id, None, None)
        .await
        .expect("to the child unit");
    let kari = login(app, &app.a.slug, "kari").await;
    let url = format!("{}/staff/inquiries/{id}", app.base);
    let res = kari.get(&url).send().await.expect("get");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let berit_c = login(app, &app.a.slug, "berit").await;
    let res = berit_c.get(&url).send().await.expect("get");
    assert_eq!(res.status(), StatusCode::OK);

    // The admin gives Berit Oppvekst instead: now she no longer sees it.
    let res = admin
        .post(format!("{}/staff/admin/users/{}", app.base, berit.id))
        .form(&[
            ("csrf", csrf.as_str()),
            ("full_name", "Berit Vern"),
            ("role", "case_handler"),
            ("active", "on"),
            ("units", &plain.to_string()),
        ])
        .send()
        .await
        .expect("update");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = berit_c.get(&url).send().await.expect("get");
    assert_eq!(
        res.status(),
        StatusCode::NOT_FOUND,
        "access follows the membership at once"
    );

    // Deactivated: the open session ends.
    let res = admin
        .post(format!("{}/staff/admin/users/{}", app.base, berit.id))
        .form(&[
            ("csrf", csrf.as_str()),
            ("full_name", "Berit Vern"),
            ("role", "case_handler"),
        ])
        .send()
        .await
        .expect("deactivate");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = berit_c
        .get(format!("{}/staff", app.base))
        .send()
        .await
        .expect("get");
    assert!(is_login_redirect(&res), "a deactivated user is logged out");
    // An administrator cannot deactivate themselves.
    let me = app
        .store
        .user_by_username(tenant, "sjef")
        .await
        .expect("u")
        .expect("u");
    let res = admin
        .post(format!("{}/staff/admin/users/{}", app.base, me.id))
        .form(&[
            ("csrf", csrf.as_str()),
            ("full_name", "Sjef"),
            ("role", "administrator"),
        ])
        .send()
        .await
        .expect("self");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Five wrong passwords from one address: that address waits, even with the right one;
    // the person at another address is not locked out; a name that does not exist gets the
    // same answer.
    let attempt = |username: &'static str, password: &'static str, from: &'static str| async move {
        let c = client();
        let page = c
            .get(format!("{}/staff/login", app.base))
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("text");
        let token = between(&page, "name=\"csrf\" value=\"", "\"")
            .expect("csrf")
            .to_string();
        c.post(format!("{}/staff/login", app.base))
            .header("x-forwarded-for", from)
            .form(&[
                ("csrf", token.as_str()),
                ("municipality", app.a.slug.as_str()),
                ("username", username),
                ("password", password),
            ])
            .send()
            .await
            .expect("login")
    };
    for username in ["lese", "finnes-ikke"] {
        for _ in 0..5 {
            assert_eq!(
                attempt(username, "gjetning", "198.51.100.66")
                    .await
                    .status(),
                StatusCode::UNAUTHORIZED
            );
        }
    }
    let mut answers = vec![];
    for username in ["lese", "finnes-ikke"] {
        let res = attempt(username, PASSWORD, "198.51.100.66").await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "{username}");
        let wait: u64 = res.headers()["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!(
            (1..=901).contains(&wait),
            "a quarter of an hour at most: {wait}"
        );
        let page = res.text().await.expect("text");
        assert!(page.contains("Vent et kvarter"));
        // The same page but for the form's own CSRF token and the name typed.
        let csrf = between(&page, "name=\"csrf\" value=\"", "\"").expect("csrf");
        answers.push(page.replace(csrf, "").replace("finnes-ikke", "lese"));
    }
    assert_eq!(
        answers[0], answers[1],
        "the same answer whether the name exists or not"
    );
    let res = attempt("lese", PASSWORD, "203.0.113.9").await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the real person logs in from her desk"
    );
    let failures = actions(&*app.store, tenant, "login.failed").await;
    assert!(
        failures
            .iter()
            .all(|e| !e.entry.actor.contains("finnes-ikke") && !e.entry.detail.contains("gjetning")),
        "what was typed is not logged"
    );
    // The guessing address waits until an administrator lifts it.
    assert_eq!(
        attempt("lese", PASSWORD, "198.51.100.66").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // The administrator lifts the lock.
    let lese = app
        .store
        .user_by_username(tenant, "lese")
        .await
        .expect("u")
        .expect("u");
    assert_eq!(lese.failed_logins, 0, "her own login cleared the count");
    let res = admin
        .post(format!("{}/staff/admin/users/{}", app.base, lese.id))
        .form(&[
            ("csrf", csrf.as_str()),
            ("full_name", "Lise Leser"),
            ("role", "read_only"),
            ("active", "on"),
            ("unlock", "on"),
            ("units", &units[0].id.to_string()),
        ])
        .send()
        .await
        .expect("unlock");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        attempt("lese", PASSWORD, "198.51.100.66").await.status(),
        StatusCode::SEE_OTHER,
        "lifted"
    );

    // A banner comes only from the catalogue: an address cannot put its words on a page.
    let page = admin
        .get(format!(
            "{}/staff/admin/users?done=Ring+22+22+22+22+for+refusjon",
            app.base
        ))
        .send()
        .await
        .expect("forged banner")
        .text()
        .await
        .expect("text");
    assert!(!page.contains("Ring 22") && !page.contains("done-Ring"));

    // The audit log shows it all, filtered, and exports it as JSON lines.
    let page = admin
        .get(format!("{}/staff/admin/audit?action=user.", app.base))
        .send()
        .await
        .expect("audit")
        .text()
        .await
        .expect("text");
    assert!(page.contains("user.created") && page.contains("user.updated"));
    assert!(!page.contains("login.failed"), "filtered by action");
    assert!(page.contains("Sjef Admin (user:"), "names beside ids");
    let res = admin
        .get(format!(
            "{}/staff/admin/audit/export?action=login",
            app.base
        ))
        .send()
        .await
        .expect("export");
    assert_eq!(
        res.headers()["content-type"],
        "application/x-ndjson; charset=utf-8"
    );
    let body = res.text().await.expect("text");
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    assert!(lines.iter().any(|e| e["action"] == "login.failed"));
    assert!(lines.iter().any(|e| e["action"] == "login.locked"));
    assert!(
        lines
            .windows(2)
            .all(|w| w[0]["seq"].as_i64() < w[1]["seq"].as_i64())
    );
    assert!(
        lines
            .iter()
            .all(|e| { e["action"].as_str().is_some_and(|a| a.starts_with("login")) })
    );

    // The citizen revokes the follow link: it stops working.
    let follow = created["follow_path"].as_str().expect("follow").to_string();
    let res = client()
        .post(format!("{}{follow}/revoke", app.base))
        .send()
        .await
        .expect("revoke");
    assert_eq!(res.status(), StatusCode::OK);
    let res = client()
        .get(format!("{}{follow}", app.base))
        .send()
        .await
        .expect("follow");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn administration_lockout_and_revocation_sqlite() {
    administration_lockout_and_revocation(&spawn().await).await;
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let app = spawn_with(
        None,
        torg_http::WebSettings {
            rate_limits: torg_http::RateLimits {
                login_per_minute: 3,
                portal_per_minute: 2,
                api_per_second: 1,
                ..torg_http::RateLimits::OFF
            },
            ..Default::default()
        },
    )
    .await;
    // The portal: two submissions a minute from one address, then 429.
    for _ in 0..2 {
        let (s, _) = submit_form(&app, "alfa", "Ola", "ola@example.no", "Hei", None).await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let res = client()
        .post(format!("{}/k/alfa/inquiries", app.base))
        .multipart(Form::new().text("name", "Ola").text("message", "Hei"))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait));
    assert!(res.text().await.expect("html").contains("Vent litt"));
    // Reading is not limited.
    let res = client()
        .get(format!("{}/k/alfa", app.base))
        .send()
        .await
        .expect("get");
    assert_eq!(res.status(), StatusCode::OK);
    // The API: per token; a burst of five seconds' worth, then 429 with a JSON error.
    let mut statuses = vec![];
    for _ in 0..8 {
        statuses.push(api(&app, &app.a.token, "GET", "/units", None).await);
    }
    assert!(statuses[..5].iter().all(|(s, _)| *s == StatusCode::OK));
    let (s, v) = statuses.last().expect("last");
    assert_eq!(*s, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(v["error"]["code"], "rate_limited");
    // Another token has its own allowance.
    let (s, _) = api(&app, &app.b.token, "GET", "/units", None).await;
    assert_eq!(s, StatusCode::OK);
    // Login attempts.
    let mut last = StatusCode::OK;
    for _ in 0..4 {
        last = client()
            .post(format!("{}/staff/login", app.base))
            .form(&[
                ("csrf", "x"),
                ("municipality", "alfa"),
                ("username", "x"),
                ("password", "y"),
            ])
            .send()
            .await
            .expect("login")
            .status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
    // A forged X-Forwarded-For buys nothing unless Torg is told to trust its proxy.
    let res = client()
        .post(format!("{}/k/alfa/inquiries", app.base))
        .header("x-forwarded-for", "198.51.100.7")
        .multipart(Form::new().text("name", "Ola").text("message", "Hei"))
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    // Behind a trusted proxy each client (the proxy's last entry) has its own allowance.
    let app = spawn_with(
        None,
        torg_http::WebSettings {
            rate_limits: torg_http::RateLimits {
                login_per_minute: 3,
                portal_per_minute: 1,
                api_per_second: 1,
                ..torg_http::RateLimits::OFF
            },
            trust_forwarded_for: true,
            ..Default::default()
        },
    )
    .await;
    let post = |forwarded: &'static str| {
        let url = format!("{}/k/alfa/inquiries", app.base);
        async move {
            client()
                .post(url)
                .header("x-forwarded-for", forwarded)
                .multipart(
                    Form::new()
                        .text("name", "Ola")
                        .text("email", "ola@example.no")
                        .text("message", "Hei"),
                )
                .send()
                .await
                .expect("post")
                .status()
        }
    };
    assert_eq!(post("203.0.113.1").await, StatusCode::CREATED);
    assert_eq!(post("203.0.113.1").await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        post("6.6.6.6, 203.0.113.2").await,
        StatusCode::CREATED,
        "the last entry counts"
    );
    assert_eq!(
        post("203.0.113.1, 203.0.113.2").await,
        StatusCode::TOO_MANY_REQUESTS
    );
}

/// API tokens reach only their units (by default every unit that is not sensitive), their
/// reads of sensitive inquiries are logged, and they stop at their expiry or revocation.
#[tokio::test]
async fn api_tokens_reach_their_units_and_stop_when_revoked_or_expired() {
    let app = spawn().await;
    let store = &*app.store;
    let alfa = store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("alfa");
    add_user(store, alfa.id, "sjef", Role::Administrator, None).await;
    let health = store
        .create_unit(alfa.id, "Helsestasjon", false, true, None)
        .await
        .expect("health");
    let open_one = create_via_api(&app, &app.a.token, "Når er biblioteket åpent?").await;
    let open_id = open_one["inquiry"]["id"].as_i64().expect("id");
    let secret = create_via_api(&app, &app.a.token, "Spørsmål om vaksine").await;
    let secret_id = secret["inquiry"]["id"].as_i64().expect("id");
    store
        .assign(alfa.id, InquiryId(secret_id), health.id, None, None)
        .await
        .expect("to health");
    // The default token: not the sensitive unit, in lists or by id.
    let (s, list) = api(&app, &app.a.token, "GET", "/inquiries", None).await;
    assert_eq!(s, StatusCode::OK);
    let ids: Vec<i64> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["id"].as_i64())
        .collect();
    assert!(
        ids.contains(&open_id) && !ids.contains(&secret_id),
        "{ids:?}"
    );
    let (s, _) = api(
        &app,
        &app.a.token,
        "GET",
        &format!("/inquiries/{secret_id}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The administrator makes a token for the health unit only; it is shown once.
    let admin = login(&app, "alfa", "sjef").await;
    let url = format!("{}/staff/admin/tokens", app.base);
    let csrf = csrf_of(&admin, &url).await;
    let res = admin
        .post(&url)
        .form(&[
            ("csrf", csrf.as_str()),
            ("name", "Journalsystem"),
            ("units", health.id.to_string().as_str()),
        ])
        .send()
        .await
        .expect("create");
    assert_eq!(res.status(), StatusCode::CREATED);
    let page = res.text().await.expect("text");
    let token = between(&page, "<code class=\"secret\">", "</code>")
        .expect("shown once")
        .to_string();
    let listed = admin
        .get(&url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(
        listed.contains("Journalsystem") && !listed.contains(&token),
        "never shown again"
    );
    let (s, _) = api(
        &app,
        &token,
        "GET",
        &format!("/inquiries/{secret_id}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = api(&app, &token, "GET", &format!("/inquiries/{open_id}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "only its units");
    let reads = actions(store, alfa.id, "inquiry.read_sensitive").await;
    assert!(
        reads.iter().any(|e| e.entry.actor == "api:Journalsystem"
            && e.entry.object == format!("inquiry:{secret_id}")),
        "{reads:?}"
    );

    // Revoked from the page: refused at once.
    let id = store.list_api_tokens(alfa.id).await.expect("tokens")[0].id;
    let res = admin
        .post(format!("{url}/{id}/revoke"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("revoke");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (s, body) = api(
        &app,
        &token,
        "GET",
        &format!("/inquiries/{secret_id}"),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("revoked")
    );
    let log = actions(store, alfa.id, "token.").await;
    assert_eq!(
        log.len(),
        3,
        "the test's, the page's, the revocation: {log:?}"
    );

    // Expired: refused.
    let (_, short) = torg_core::tokens::create(
        store,
        &torg_core::actor::Actor::cli(),
        alfa.id,
        torg_core::tokens::TokenInput {
            name: "Kortvarig",
            units: vec![],
            expires_at: Some(jiff::Timestamp::now() + jiff::SignedDuration::from_millis(800)),
        },
        jiff::Timestamp::now(),
    )
    .await
    .expect("short");
    let (s, _) = api(&app, &short, "GET", "/units", None).await;
    assert_eq!(s, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    let (s, _) = api(&app, &short, "GET", "/units", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "expired");
}

/// Floods of chats, streams, logins and made-up API tokens leave the server answering others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_leave_the_server_answering_others() {
    let app = spawn_with(
        None,
        torg_http::WebSettings {
            streams: torg_http::StreamLimits {
                max_open: 5,
                max_per_address: 3,
                ..Default::default()
            },
            rate_limits: torg_http::RateLimits {
                api_per_second: 1,
                ..torg_http::RateLimits::OFF
            },
            ..unlimited()
        },
    )
    .await;
    chat_municipality(&*app.store).await;
    // A flood of chats that nobody watches holds no live channels.
    let starts = (0..60).map(|i| {
        let url = format!("{}/chat/gamma", app.base);
        async move {
            client()
                .post(url)
                .form(&[("name", "Flom"), ("message", format!("Hei {i}").as_str())])
                .send()
                .await
                .expect("start")
                .status()
        }
    });
    let statuses = futures_util::future::join_all(starts).await;
    assert!(statuses.iter().all(|s| *s == StatusCode::SEE_OTHER));
    assert_eq!(
        app.state.live_channels(),
        0,
        "no channel for chats nobody watches"
    );

    // Streams: a few per address, a few in all; then 503, and the rest still answers.
    let kari = login(&app, "gamma", "kari").await;
    let open = |from: &'static str| {
        let req = kari
            .get(format!("{}/staff/chats/events", app.base))
            .header("x-forwarded-for", from);
        async move { req.send().await.expect("stream") }
    };
    let mut held = vec![];
    for _ in 0..3 {
        let res = open("198.51.100.1").await;
        assert_eq!(res.status(), StatusCode::OK);
        held.push(res);
    }
    assert_eq!(
        open("198.51.100.1").await.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "per address"
    );
    for _ in 0..2 {
        let res = open("198.51.100.2").await;
        assert_eq!(res.status(), StatusCode::OK);
        held.push(res);
    }
    assert_eq!(
        open("198.51.100.3").await.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "in all"
    );
    let res = client()
        .get(format!("{}/healthz", app.base))
        .send()
        .await
        .expect("health");
    assert_eq!(res.status(), StatusCode::OK);
    drop(held.pop());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        open("198.51.100.3").await.status(),
        StatusCode::OK,
        "a closed stream frees its place"
    );

    // Logins: forty at once (each an argon2 check) wait their turn; the portal answers.
    let logins = (0..40).map(|i| {
        let base = app.base.clone();
        async move {
            let c = client();
            let page = c
                .get(format!("{base}/staff/login"))
                .send()
                .await
                .expect("page")
                .text()
                .await
                .expect("text");
            let csrf = between(&page, "name=\"csrf\" value=\"", "\"")
                .expect("csrf")
                .to_string();
            c.post(format!("{base}/staff/login"))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("municipality", "gamma"),
                    ("username", format!("flom-{i}").as_str()),
                    ("password", "gjetning"),
                ])
                .send()
                .await
                .expect("login")
                .status()
        }
    });
    let flood = tokio::spawn(futures_util::future::join_all(logins));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let started = std::time::Instant::now();
    let res = client()
        .get(format!("{}/k/gamma", app.base))
        .send()
        .await
        .expect("portal");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(3),
        "the portal answered in {:?} during the flood",
        started.elapsed()
    );
    let statuses = flood.await.expect("flood");
    assert!(statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED));

    // Made-up API tokens buy no allowance of their own: the address has one too.
    let mut limited = 0;
    for i in 0..40 {
        let res = client()
            .get(format!("{}/api/v1/units", app.base))
            .bearer_auth(format!("oppdiktet-{i}"))
            .send()
            .await
            .expect("api");
        if res.status() == StatusCode::TOO_MANY_REQUESTS {
            limited += 1;
        }
    }
    assert!(
        limited > 0,
        "a flood of made-up tokens is limited by address"
    );
}

/// A staff session unused for the idle limit is over; use keeps it alive.
#[tokio::test]
async fn an_unused_session_ends() {
    let app = spawn_with(
        None,
        torg_http::WebSettings {
            session_idle: Some(std::time::Duration::from_secs(2)),
            ..unlimited()
        },
    )
    .await;
    let alfa = app
        .store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("alfa");
    add_user(&*app.store, alfa.id, "ida", Role::CaseHandler, None).await;
    let ida = login(&app, "alfa", "ida").await;
    let inbox = || async {
        ida.get(format!("{}/staff", app.base))
            .send()
            .await
            .expect("inbox")
    };
    for _ in 0..4 {
        tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
        assert_eq!(inbox().await.status(), StatusCode::OK, "in use: kept");
    }
    tokio::time::sleep(std::time::Duration::from_millis(3000)).await;
    assert!(is_login_redirect(&inbox().await), "unused: over");
}

/// A forged Host header never makes the receipt's follow link point at another site.
#[tokio::test]
async fn links_never_come_from_a_forged_host() {
    let app = spawn().await;
    let res = client()
        .post(format!("{}/k/alfa/inquiries", app.base))
        .header("host", "evil.example")
        .multipart(
            Form::new()
                .text("name", "Ola")
                .text("email", "ola@example.no")
                .text("message", "Hei"),
        )
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::CREATED);
    let page = res.text().await.expect("text");
    assert!(page.contains("/k/alfa/follow/"), "a follow link");
    assert!(!page.contains("evil.example"), "{page}");
}

/// Every public write is limited per client address: the chat's messages, typing and
/// transcript as well as its start, and the follow page's messages.
#[tokio::test]
async fn every_public_post_of_the_chat_and_follow_page_is_limited() {
    let app = spawn_with(
        None,
        torg_http::WebSettings {
            rate_limits: torg_http::RateLimits {
                portal_per_minute: 3,
                typing_per_minute: 2,
                ..torg_http::RateLimits::OFF
            },
            ..Default::default()
        },
    )
    .await;
    chat_municipality(&*app.store).await;
    let citizen = client();
    let res = citizen
        .post(format!("{}/chat/gamma", app.base))
        .form(&[
            ("name", "Ola"),
            ("email", "ola@example.no"),
            ("message", "Hei"),
        ])
        .send()
        .await
        .expect("start");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let chat_url = format!(
        "{}{}",
        app.base,
        res.headers()["location"].to_str().expect("location")
    );
    let post = |path: String, fields: &'static [(&'static str, &'static str)]| {
        let req = citizen.post(path).header("x-torg-live", "1").form(fields);
        async move { req.send().await.expect("post").status() }
    };
    // Typing has its own allowance.
    for _ in 0..2 {
        assert_eq!(
            post(format!("{chat_url}/typing"), &[]).await,
            StatusCode::NO_CONTENT
        );
    }
    assert_eq!(
        post(format!("{chat_url}/typing"), &[]).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The start was the first of three; a message and a transcript use the rest.
    assert_eq!(
        post(chat_url.clone(), &[("body", "Er dere der?")]).await,
        StatusCode::NO_CONTENT
    );
    assert_ne!(
        post(format!("{chat_url}/transcript"), &[("confirm", "yes")]).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    for path in [
        chat_url.clone(),
        format!("{chat_url}/transcript"),
        format!("{}/k/gamma/follow/x/messages", app.base),
        format!("{}/chat/gamma", app.base),
    ] {
        assert_eq!(
            post(path.clone(), &[("body", "Hallo?")]).await,
            StatusCode::TOO_MANY_REQUESTS,
            "{path}"
        );
    }
    // Reading the conversation is not limited, and no cache keeps it.
    let res = citizen.get(&chat_url).send().await.expect("page");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
}

#[tokio::test]
async fn replies_to_email_inquiries_are_queued_for_email_and_shown_so() {
    let app = spawn().await;
    let m = app
        .store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("m");
    let server = |port| torg_store::MailServer {
        host: "127.0.0.1".into(),
        port,
        security: "plain".into(),
        user: "postmottak".into(),
        password: "x".into(),
    };
    app.store
        .set_mail_account(
            m.id,
            Some(torg_store::MailAccount {
                address: "postmottak@alfa.kommune.no".into(),
                display_name: "Alfa kommune".into(),
                imap: server(1),
                imap_folder: "INBOX".into(),
                smtp: server(2),
                max_message_bytes: 1_000_000,
                blocked_extensions: vec!["exe".into()],
            }),
            None,
        )
        .await
        .expect("account");
    let (s, v) = api(
        &app,
        &app.a.token,
        "POST",
        "/inquiries",
        Some(
            json!({"channel": "email", "citizen_name": "Ola", "email": "ola@example.no",
                    "subject": "Vann", "body": "Hei", "external_id": "<ola-1@example.no>"}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["inquiry"]["id"].as_i64().expect("id");
    let staff = login(&app, "alfa", "kari").await;
    let url = format!("{}/staff/inquiries/{id}", app.base);
    let csrf = csrf_of(&staff, &url).await;
    let res = staff
        .post(format!("{url}/reply"))
        .form(&[("csrf", csrf.as_str()), ("body", "Vi ser på det.")])
        .send()
        .await
        .expect("reply");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = staff
        .get(&url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("Venter på å bli sendt."),
        "the reply's delivery is shown"
    );
    // It waits in the outbox, addressed and threaded.
    let due = app
        .store
        .claim_outbox(
            torg_domain::Channel::Email,
            jiff::Timestamp::now(),
            jiff::SignedDuration::from_secs(60),
            10,
        )
        .await
        .expect("claim");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].recipient, "ola@example.no");
    assert!(
        due[0].subject.starts_with("Re: Vann ["),
        "{}",
        due[0].subject
    );
    assert_eq!(due[0].in_reply_to.as_deref(), Some("<ola-1@example.no>"));
    assert!(due[0].body.contains("Vi ser på det.") && due[0].body.contains("Vennlig hilsen"));
    app.store
        .outbox_failed(due[0].id, "550 5.1.1 no such user")
        .await
        .expect("failed");
    let page = staff
        .get(&url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("Kunne ikke sendes. Serveren svarte: 550 5.1.1 no such user"));

    // Mail that was not taken in is there for staff, with the reason, shown as text.
    app.store
        .quarantine_mail(
            m.id,
            &torg_store::NewQuarantinedMail {
                message_id: "<x@y>".into(),
                sender: "<script>x@y".into(),
                subject: "Hei".into(),
                reason: "the message has no text".into(),
                raw: b"Subject: Hei\r\nMessage-ID: <x@y>\r\n\r\n".to_vec(),
                notice: None,
            },
            jiff::Timestamp::now(),
        )
        .await
        .expect("quarantine");
    let page = staff
        .get(format!("{}/staff/mail/quarantine", app.base))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("the message has no text"));
    assert!(
        page.contains("script&#62;x@y") || page.contains("script&gt;x@y"),
        "shown as text"
    );
    assert!(!page.contains("<script>x@y"), "never as markup");
    // Staff download it, try to take it in (it still has no sender, so it stays), discard it.
    let held = app.store.quarantined_mail(m.id, 10).await.expect("held");
    let q = format!("{}/staff/mail/quarantine/{}", app.base, held[0].id);
    let raw = staff.get(format!("{q}/raw")).send().await.expect("raw");
    assert_eq!(
        raw.headers()["content-disposition"],
        format!("attachment; filename=\"karantene-{}.eml\"", held[0].id)
    );
    assert_eq!(
        raw.bytes().await.expect("bytes").as_ref(),
        b"Subject: Hei\r\nMessage-ID: <x@y>\r\n\r\n"
    );
    let csrf = csrf_of(&staff, &format!("{}/staff/mail/quarantine", app.base)).await;
    let res = staff
        .post(format!("{q}/release"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("release");
    assert_eq!(
        res.headers()["location"],
        "/staff/mail/quarantine?done=quarantine-still"
    );
    assert_eq!(
        app.store.quarantined_mail(m.id, 10).await.expect("q").len(),
        1
    );
    let res = staff
        .post(format!("{q}/discard"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("discard");
    assert_eq!(
        res.headers()["location"],
        "/staff/mail/quarantine?done=quarantine-discarded"
    );
    assert!(
        app.store
            .quarantined_mail(m.id, 10)
            .await
            .expect("q")
            .is_empty()
    );
    let again = staff
        .post(format!("{q}/discard"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("again");
    assert_eq!(
        again.status(),
        StatusCode::NOT_FOUND,
        "said plainly, not an error"
    );
}

#[tokio::test]
async fn mail_settings_in_the_staff_ui_are_sealed_and_tested() {
    let app = spawn_for_access(None).await;
    let m = app
        .store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("m");
    let hash = torg_core::secrets::hash_password(PASSWORD).expect("hash");
    app.store
        .create_user(
            m.id,
            NewUser {
                email: None,
                username: "sjef".into(),
                full_name: "Sjef".into(),
                password_hash: hash,
                password_set_by: None,
                role: Role::Administrator,
                unit_id: None,
            },
            None,
        )
        .await
        .expect("admin");
    let admin = login(&app, "alfa", "sjef").await;
    let url = format!("{}/staff/admin/mail", app.base);
    let csrf = csrf_of(&admin, &url).await;
    let closed = free_port().to_string();
    let save = |password: &'static str, security: &'static str| {
        let admin = admin.clone();
        let url = url.clone();
        let csrf = csrf.clone();
        let closed = closed.clone();
        async move {
            admin
                .post(&url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("address", "postmottak@alfa.kommune.no"),
                    ("imap_host", "127.0.0.1"),
                    ("imap_port", closed.as_str()),
                    ("imap_security", security),
                    ("imap_user", "postmottak"),
                    ("imap_password", password),
                    ("smtp_host", "127.0.0.1"),
                    ("smtp_port", closed.as_str()),
                    ("smtp_security", "starttls"),
                ])
                .send()
                .await
                .expect("save")
                .status()
        }
    };
    assert_eq!(
        save("hemmelig-imap", "ssl").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    // Unencrypted mail only where the operator allows it.
    assert_eq!(
        save("hemmelig-imap", "plain").await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        save("hemmelig-imap", "starttls").await,
        StatusCode::SEE_OTHER
    );
    let stored = app
        .store
        .mail_account(m.id)
        .await
        .expect("a")
        .expect("saved");
    assert!(
        stored.imap.password.starts_with("sealed:v2:"),
        "sealed at rest"
    );
    // An empty password keeps the stored one, as long as it goes where it went.
    assert_eq!(save("", "starttls").await, StatusCode::SEE_OTHER);
    assert_eq!(save("", "tls").await, StatusCode::UNPROCESSABLE_ENTITY);
    let res = admin
        .post(&url)
        .form(&[
            ("csrf", csrf.as_str()),
            ("address", "postmottak@alfa.kommune.no"),
            ("imap_host", "mail.attacker.example"),
            ("imap_port", closed.as_str()),
            ("imap_security", "starttls"),
            ("imap_user", "postmottak"),
            ("imap_password", ""),
            ("smtp_host", "127.0.0.1"),
            ("smtp_port", closed.as_str()),
            ("smtp_security", "starttls"),
        ])
        .send()
        .await
        .expect("save");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .expect("text")
            .contains("Skriv inn passordet på nytt"),
        "the stored password is not sent to a new server"
    );
    let kept = app
        .store
        .mail_account(m.id)
        .await
        .expect("a")
        .expect("saved");
    assert_eq!(kept.imap.password, stored.imap.password);
    let page = admin
        .get(&url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(
        !page.contains("sealed:") && !page.contains("hemmelig-imap"),
        "never sent back"
    );
    // Test connection: nothing listens there, and the page says so for each server.
    let res = admin
        .post(format!("{url}/test"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("test");
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.expect("text");
    assert!(page.contains(&format!("IMAP 127.0.0.1:{closed}")) && page.contains("cannot connect"));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Deadline warnings by email: at 75 % of the time the assignee, the unit's leader and the
/// person on duty for the channel each get one email (not a colleague, not a leader of
/// another unit, not anyone without an address), once.
#[tokio::test]
async fn deadline_warnings_go_by_email_to_assignee_leader_and_duty_once() {
    let app = spawn().await;
    let store = &*app.store;
    let m = store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("m");
    let units = store.list_units(m.id).await.expect("units");
    let (desk, other) = (units[0].id, units[1].id);
    let hash = torg_core::secrets::hash_password(PASSWORD).expect("hash");
    let user = |username: &'static str, role: Role, unit: UnitId, email: Option<&'static str>| {
        let hash = hash.clone();
        async move {
            let u = store
                .create_user(
                    m.id,
                    NewUser {
                        email: None,
                        username: username.into(),
                        full_name: username.into(),
                        password_hash: hash,
                        password_set_by: None,
                        role,
                        unit_id: Some(unit),
                    },
                    None,
                )
                .await
                .expect("user");
            store
                .update_user(
                    m.id,
                    u.id,
                    torg_store::UserUpdate {
                        full_name: u.full_name.clone(),
                        role,
                        unit_id: Some(unit),
                        active: true,
                        email: email.map(String::from),
                    },
                    None,
                )
                .await
                .expect("email")
        }
    };
    let handler = user("saksbehandler", Role::CaseHandler, desk, Some("sb@alfa.no")).await;
    user("leder", Role::UnitLeader, desk, Some("leder@alfa.no")).await;
    let on_duty = user("vakt", Role::Communication, other, Some("vakt@alfa.no")).await;
    user("kollega", Role::CaseHandler, desk, Some("kollega@alfa.no")).await;
    user(
        "annen-leder",
        Role::UnitLeader,
        other,
        Some("annen@alfa.no"),
    )
    .await;
    user("uten-adresse", Role::UnitLeader, desk, None).await;
    let now = jiff::Timestamp::now();
    let hour = jiff::SignedDuration::from_hours(1);
    store
        .create_shift(m.id, "public", on_duty.id, now - hour, now + hour, None)
        .await
        .expect("shift");
    store
        .set_mail_account(m.id, Some(unreachable_mail_account()), None)
        .await
        .expect("account");
    // A Facebook comment received now, due in an hour, assigned; looked at 50 minutes later
    // (83 % of its time used), while the shift is on.
    let (late, _, _) = stored_inquiry(store, m.id, desk, torg_domain::Channel::Facebook).await;
    store
        .assign(m.id, late, desk, Some(handler.id), None)
        .await
        .expect("assign");
    store
        .set_deadlines(m.id, &[(late, now + hour)])
        .await
        .expect("deadline");
    // One with two days: not yet.
    stored_inquiry(store, m.id, desk, torg_domain::Channel::Email).await;
    let before = now + jiff::SignedDuration::from_mins(50);
    let warned =
        torg_core::escalation::warn_due(&*app.store, &app.state.warnings(&app.base), before)
            .await
            .expect("warn");
    assert_eq!(warned, 1, "the late one only");
    let queued = store
        .claim_outbox(
            torg_domain::Channel::Email,
            before,
            jiff::SignedDuration::from_secs(60),
            100,
        )
        .await
        .expect("claim");
    let mut to: Vec<&str> = queued.iter().map(|o| o.recipient.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, vec!["leder@alfa.no", "sb@alfa.no", "vakt@alfa.no"]);
    let reference = store
        .inquiry(m.id, late)
        .await
        .expect("i")
        .expect("i")
        .reference
        .to_string();
    let mail = queued
        .iter()
        .find(|o| o.recipient == "sb@alfa.no")
        .expect("assignee");
    assert_eq!(mail.subject, format!("Svarfristen nærmer seg: {reference}"));
    assert!(
        mail.body.contains("mer enn 75 % av tiden er brukt"),
        "{}",
        mail.body
    );
    assert!(
        mail.body
            .contains(&format!("{}/staff/inquiries/{late}", app.base))
    );
    assert!(mail.body.contains("tildelt deg"), "{}", mail.body);
    let duty = queued
        .iter()
        .find(|o| o.recipient == "vakt@alfa.no")
        .expect("duty");
    assert!(duty.body.contains("på vakt"), "{}", duty.body);
    assert_eq!(
        torg_core::escalation::warn_due(&*app.store, &app.state.warnings(&app.base), before)
            .await
            .expect("again"),
        0,
        "once"
    );
}

/// The phone log: a call answered at once becomes a closed phone inquiry with a note; one
/// passed on waits in the unit; bad input is told plainly and the form keeps what was typed.
#[tokio::test]
async fn the_service_desk_logs_phone_calls() {
    let app = spawn().await;
    let staff = login(&app, "alfa", "kari").await;
    let url = format!("{}/staff/phone", app.base);
    let page = staff
        .get(&url)
        .send()
        .await
        .expect("form")
        .text()
        .await
        .expect("text");
    assert!(page.contains("Registrer en telefonsamtale") && page.contains("autofocus"));
    let csrf = csrf_of(&staff, &url).await;
    let m = app
        .store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("m");
    let units = app.store.list_units(m.id).await.expect("units");
    let other = units.iter().find(|u| u.name == "Oppvekst").expect("unit");
    let post = |fields: Vec<(&'static str, String)>| {
        let mut fields = fields;
        fields.push(("csrf", csrf.clone()));
        staff.post(&url).form(&fields).send()
    };
    let res = post(vec![
        ("name", "Ola Innringer".into()),
        ("phone", "+47 912 34 567".into()),
        ("topic", "waste".into()),
        ("summary", "Når tømmes papirdunken?".into()),
        ("minutes", "3".into()),
        ("outcome", "answered".into()),
    ])
    .await
    .expect("answered");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res.headers()["location"].to_str().expect("loc").to_string();
    let id: i64 = location
        .rsplit('=')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("id");
    let answered = app
        .store
        .inquiry(m.id, InquiryId(id))
        .await
        .expect("i")
        .expect("i");
    assert_eq!(answered.channel, torg_domain::Channel::Phone);
    assert_eq!(answered.status, torg_domain::InquiryStatus::Closed);
    assert_eq!(answered.contact_phone.as_deref(), Some("+4791234567"));
    let thread = app
        .store
        .messages(m.id, InquiryId(id), true)
        .await
        .expect("thread");
    assert!(thread.iter().any(|m| {
        m.body
            .contains("Telefonsamtale, 3 min: besvart med en gang")
    }));
    assert!(
        !thread
            .iter()
            .any(|m| m.kind == torg_domain::MessageKind::Acknowledgement),
        "no acknowledgement for a call"
    );
    let shown = staff
        .get(format!("{}{location}", app.base))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(shown.contains(&format!(
        "Samtalen er registrert som {}",
        answered.reference
    )));

    let res = post(vec![
        ("name", "Kari Innringer".into()),
        ("summary", "Vil snakke med barnehagen".into()),
        ("minutes", "1".into()),
        ("outcome", "routed".into()),
        ("unit_id", other.id.to_string()),
    ])
    .await
    .expect("routed");
    let location = res.headers()["location"].to_str().expect("loc").to_string();
    let id: i64 = location
        .rsplit('=')
        .next()
        .and_then(|n| n.parse().ok())
        .expect("id");
    let routed = app
        .store
        .inquiry(m.id, InquiryId(id))
        .await
        .expect("i")
        .expect("i");
    assert_eq!(
        (routed.unit_id, routed.status),
        (other.id, torg_domain::InquiryStatus::New)
    );

    let res = post(vec![
        ("name", "<b>Per</b>".into()),
        ("summary", "".into()),
        ("minutes", "lenge".into()),
        ("outcome", "answered".into()),
    ])
    .await
    .expect("bad");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.expect("text");
    assert!(page.contains("helt antall minutter"), "says what to do");
    assert!(
        page.contains("&lt;b&gt;Per") || page.contains("&#60;b&#62;Per"),
        "kept, as text"
    );
}

/// A reply on a public channel is checked for identity numbers: it is held with a warning
/// and the text kept until the writer confirms; a private channel is not held.
#[tokio::test]
async fn public_replies_with_identity_numbers_are_held_for_confirmation() {
    let app = spawn().await;
    let m = app
        .store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("m");
    let desk = app.store.list_units(m.id).await.expect("units")[0].id;
    add_user(
        &*app.store,
        m.id,
        "kommunikasjon",
        Role::Communication,
        Some(desk.get()),
    )
    .await;
    let (public, _, _) =
        stored_inquiry(&*app.store, m.id, desk, torg_domain::Channel::Facebook).await;
    let staff = login(&app, "alfa", "kommunikasjon").await;
    let url = format!("{}/staff/inquiries/{public}", app.base);
    let csrf = csrf_of(&staff, &url).await;
    let text = "Hei! Vi har sjekket saken med fødselsnummer 811218-9876 og 15038512365.";
    let res = staff
        .post(format!("{url}/reply"))
        .form(&[("csrf", csrf.as_str()), ("body", text)])
        .send()
        .await
        .expect("reply");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.expect("text");
    assert!(page.contains("et personnummer"), "says what was found");
    assert!(
        page.contains("name=\"confirm_personal_data\""),
        "asks to confirm"
    );
    assert!(page.contains("811218-9876"), "the text is kept in the box");
    let thread = app
        .store
        .messages(m.id, public, true)
        .await
        .expect("thread");
    assert!(
        !thread.iter().any(|m| m.body.contains("811218-9876")),
        "not sent"
    );
    let res = staff
        .post(format!("{url}/reply"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("body", text),
            ("confirm_personal_data", "on"),
        ])
        .send()
        .await
        .expect("confirmed");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let audit = actions(&*app.store, m.id, "inquiry.replied").await;
    assert!(
        audit
            .iter()
            .any(|e| e.entry.detail.starts_with("personal_data_confirmed:"))
    );
    // The same text on a private channel goes out at once.
    let (private, _, _) = stored_inquiry(&*app.store, m.id, desk, torg_domain::Channel::Web).await;
    let url = format!("{}/staff/inquiries/{private}", app.base);
    let res = staff
        .post(format!("{url}/reply"))
        .form(&[("csrf", csrf.as_str()), ("body", text)])
        .send()
        .await
        .expect("private");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

/// The channel registry: communication staff propose an account, it receives and sends
/// nothing until the chief executive approves it; decisions go forward only.
#[tokio::test]
async fn channel_accounts_are_proposed_and_approved_by_the_chief_executive() {
    let app = spawn().await;
    let m = app
        .store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("m");
    add_user(
        &*app.store,
        m.id,
        "kommunikasjon",
        Role::Communication,
        None,
    )
    .await;
    add_user(&*app.store, m.id, "direktor", Role::ChiefExecutive, None).await;
    let comm = login(&app, "alfa", "kommunikasjon").await;
    let url = format!("{}/staff/channels", app.base);
    let csrf = csrf_of(&comm, &url).await;
    let res = comm
        .post(&url)
        .form(&[
            ("csrf", csrf.as_str()),
            ("channel", "facebook"),
            ("name", "Alfa kommune"),
            ("address", "https://facebook.com/alfakommune"),
            ("purpose", "Informasjon og dialog med innbyggerne"),
            ("ambition", "inviting"),
            ("opening_hours", "mon-fri 08:00-15:30"),
        ])
        .send()
        .await
        .expect("propose");
    assert_eq!(
        res.headers()["location"],
        "/staff/channels?done=account-proposed"
    );
    let page = comm
        .get(&url)
        .send()
        .await
        .expect("list")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("Alfa kommune") && page.contains("Foreslått") && page.contains("Inviterende")
    );
    assert!(
        !page.contains("/decide"),
        "communication staff cannot approve"
    );
    assert!(
        !app.store
            .channel_account_approved(
                m.id,
                torg_domain::Channel::Facebook,
                "https://facebook.com/alfakommune"
            )
            .await
            .expect("approved?")
    );
    let id = app.store.channel_accounts(m.id).await.expect("list")[0].id;
    let chief = login(&app, "alfa", "direktor").await;
    let csrf = csrf_of(&chief, &url).await;
    let decide = |status: &'static str| {
        chief
            .post(format!("{url}/{id}/decide"))
            .form(&[("csrf", csrf.clone()), ("status", status.to_string())])
            .send()
    };
    let res = decide("approved").await.expect("approve");
    assert_eq!(
        res.headers()["location"],
        "/staff/channels?done=account-approved"
    );
    assert!(
        app.store
            .channel_account_approved(
                m.id,
                torg_domain::Channel::Facebook,
                "https://facebook.com/alfakommune"
            )
            .await
            .expect("approved?")
    );
    let res = decide("proposed").await.expect("back");
    assert_eq!(
        res.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "never back to proposed"
    );
    let res = decide("retired").await.expect("retire");
    assert_eq!(
        res.headers()["location"],
        "/staff/channels?done=account-retired"
    );
    let audit = actions(&*app.store, m.id, "channel.").await;
    assert_eq!(audit.len(), 3, "proposed, approved, retired");
}

/// Before answering an SMS inquiry, staff see what the reply takes as SMS.
#[tokio::test]
async fn sms_replies_show_their_segments() {
    let app = spawn().await;
    let m = app
        .store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("m");
    let desk = app.store.list_units(m.id).await.expect("units")[0].id;
    let (sms, _, _) = stored_inquiry(&*app.store, m.id, desk, torg_domain::Channel::Sms).await;
    let (web, _, _) = stored_inquiry(&*app.store, m.id, desk, torg_domain::Channel::Web).await;
    let staff = login(&app, "alfa", "kari").await;
    let canned = app.store.list_canned_replies(m.id).await.expect("canned")[0].id;
    let page = staff
        .get(format!(
            "{}/staff/inquiries/{sms}?canned={canned}",
            app.base
        ))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("Svaret sendes som SMS: 1 melding(er)"),
        "counted on the server"
    );
    assert!(
        page.contains("data-sms-counter=\"sms-count\""),
        "and live in the browser"
    );
    let page = staff
        .get(format!("{}/staff/inquiries/{web}", app.base))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(!page.contains("Svaret sendes som SMS"));
}

/// A failing connector is shown as failing to administrators and in /metrics.
#[tokio::test]
async fn failing_connectors_are_shown() {
    let app = spawn_for_access(None).await;
    let m = app
        .store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("m");
    for (connector, ok, detail) in [
        ("imap", true, "3 messages read"),
        ("smtp", false, "127.0.0.1:9: connection refused"),
    ] {
        app.store
            .set_connector_status(&torg_store::ConnectorStatus {
                tenant_id: m.id,
                connector: connector.into(),
                ok,
                detail: detail.into(),
                at: jiff::Timestamp::now(),
            })
            .await
            .expect("status");
    }
    add_user(&*app.store, m.id, "admin", Role::Administrator, None).await;
    let admin = login(&app, "alfa", "admin").await;
    let page = admin
        .get(format!("{}/staff/admin/connectors", app.base))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("E-post ut (SMTP)") && page.contains("Feiler"));
    assert!(page.contains("connection refused") && page.contains("Virker"));
    let metrics = reqwest::Client::new()
        .get(format!("{}/metrics", app.base))
        .bearer_auth(OPERATOR)
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains(&format!(
        "torg_connector_up{{tenant=\"{}\",connector=\"smtp\"}} 0",
        m.id
    )));
    assert!(metrics.contains(&format!(
        "torg_connector_up{{tenant=\"{}\",connector=\"imap\"}} 1",
        m.id
    )));
}

/// A documented Meta example payload from torg-social's test tree, fields filled in.
fn meta_payload(file: &str, fields: &[(&str, &str)]) -> String {
    let path = format!(
        "{}/../torg-social/tests/payloads/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    for (k, v) in fields {
        text = text.replace(&format!("{{{k}}}"), v);
    }
    text
}

/// Meta's webhooks: the handshake, signed events taken once, forged, replayed, oversized
/// and unapproved ones refused and counted; a Messenger message acknowledged on Messenger.
#[tokio::test]
async fn meta_webhooks_are_verified_counted_and_taken() {
    let key = torg_core::sealing::SecretKey::generate();
    let app = spawn_with(
        None,
        torg_http::WebSettings {
            secret_key: Some(key.clone()),
            metrics_token: Some("operator".into()),
            ..unlimited()
        },
    )
    .await;
    let store = &*app.store;
    let m = store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("m");
    let now = jiff::Timestamp::now();
    for (channel, account, approve) in [
        (torg_domain::Channel::Facebook, "PAGE1", true),
        (torg_domain::Channel::Instagram, "IG1", false),
    ] {
        meta_account(
            store,
            &key,
            m.id,
            channel,
            account,
            "http://127.0.0.1:9/v21.0",
            approve,
        )
        .await;
    }
    let c = client();
    let hook = format!("{}/hooks/meta/alfa", app.base);
    let res = c
        .get(format!(
            "{hook}?hub.mode=subscribe&hub.verify_token=vt-123&hub.challenge=<b>1158201444</b>"
        ))
        .send()
        .await
        .expect("handshake");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/plain")
    );
    assert_eq!(res.text().await.expect("text"), "<b>1158201444</b>");
    let res = c
        .get(format!(
            "{hook}?hub.mode=subscribe&hub.verify_token=vt-12&hub.challenge=1"
        ))
        .send()
        .await
        .expect("handshake");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let post = |body: String, signature: Option<String>| {
        let c = c.clone();
        let hook = hook.clone();
        async move {
            let mut req = c
                .post(&hook)
                .header("content-type", "application/json")
                .body(body);
            if let Some(s) = signature {
                req = req.header("x-hub-signature-256", s);
            }
            req.send().await.expect("post")
        }
    };
    let signed = |body: &str| Some(torg_social::meta::sign(b"app-secret", body.as_bytes()));
    let time = now.as_second().to_string();
    let comment = meta_payload(
        "facebook_feed_comment.json",
        &[
            ("page_id", "PAGE1"),
            ("user_id", "4242"),
            ("post_id", "77"),
            ("comment_id", "88"),
            ("time", &time),
            ("text", "Når åpner <script>alert(1)</script> badet?"),
        ],
    );
    let res = post(comment.clone(), signed(&comment)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.expect("text"), "EVENT_RECEIVED");
    let res = post(comment.clone(), signed(&comment)).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "Meta's retry is answered, and taken once"
    );
    let public = store
        .list_inquiries(
            m.id,
            &torg_store::InquiryFilter {
                channel: Some(torg_domain::Channel::Facebook),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .expect("list");
    assert_eq!(public.len(), 1);
    assert_eq!(public[0].citizen_name, "Kari Nordmann");

    // Forged, unsigned, replayed, oversized, unapproved: refused.
    let forged = comment.replace("badet", "svømmehallen");
    assert_eq!(
        post(forged, signed(&comment)).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(comment.clone(), None).await.status(),
        StatusCode::FORBIDDEN
    );
    let wrong_key = Some(torg_social::meta::sign(b"gjettet", comment.as_bytes()));
    assert_eq!(
        post(comment.clone(), wrong_key).await.status(),
        StatusCode::FORBIDDEN
    );
    let old = (now.as_second() - 3 * 24 * 3600).to_string();
    let replayed = meta_payload(
        "facebook_feed_comment.json",
        &[
            ("page_id", "PAGE1"),
            ("user_id", "4242"),
            ("post_id", "77"),
            ("comment_id", "99"),
            ("time", &old),
            ("text", "gammel"),
        ],
    );
    let res = post(replayed.clone(), signed(&replayed)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.expect("text").contains("retry window"));
    let huge = format!(
        "{{\"object\":\"page\",\"pad\":\"{}\"}}",
        "x".repeat(300 * 1024)
    );
    assert_eq!(
        post(huge.clone(), signed(&huge)).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let insta = meta_payload(
        "instagram_comment.json",
        &[
            ("page_id", "IG1"),
            ("user_id", "5"),
            ("post_id", "6"),
            ("comment_id", "7"),
            ("time", &time),
            ("text", "Hei"),
        ],
    );
    let res = post(insta.clone(), signed(&insta)).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.expect("text").contains("not approved"));
    let res = post("not json".into(), signed("not json")).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "names no account: refused before parsing"
    );

    // A Messenger message: a private inquiry, acknowledged on Messenger through the outbox.
    let time_ms = (now.as_millisecond()).to_string();
    let message = meta_payload(
        "messenger_message.json",
        &[
            ("page_id", "PAGE1"),
            ("user_id", "6060"),
            ("mid", "abc"),
            ("time_ms", &time_ms),
            ("text", "Hei, jeg har et spørsmål"),
        ],
    );
    assert_eq!(
        post(message.clone(), signed(&message)).await.status(),
        StatusCode::OK
    );
    let due = store
        .claim_outbox(
            torg_domain::Channel::Facebook,
            jiff::Timestamp::now(),
            jiff::SignedDuration::from_secs(60),
            10,
        )
        .await
        .expect("claim");
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].recipient, "PAGE1|person:6060");

    let metrics = c
        .get(format!("{}/metrics", app.base))
        .bearer_auth("operator")
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for line in [
        "torg_webhooks_rejected_total{reason=\"signature\"} 4",
        "torg_webhooks_rejected_total{reason=\"replay\"} 1",
        "torg_webhooks_rejected_total{reason=\"oversize\"} 1",
        "torg_webhooks_rejected_total{reason=\"not_approved\"} 1",
        "torg_webhooks_rejected_total{reason=\"unknown_account\"} 1",
        "torg_webhook_events_total 3",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}

/// A stand-in for the Graph API's node edge (`POST /v21.0/{id}`, hiding a comment): records
/// what it was asked and answers `{"success": true}` for the right token.
async fn fake_graph() -> (String, Arc<std::sync::Mutex<Vec<(String, Value)>>>) {
    use axum::extract::{Path, State};
    type Calls = Arc<std::sync::Mutex<Vec<(String, Value)>>>;
    let calls: Calls = Arc::default();
    async fn node(
        State(calls): State<Calls>,
        Path(id): Path<String>,
        headers: axum::http::HeaderMap,
        axum::Json(body): axum::Json<Value>,
    ) -> axum::response::Response {
        use axum::response::IntoResponse;
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer page-token") {
            return (
                axum::http::StatusCode::BAD_REQUEST,
                r#"{"error":{"message":"Invalid OAuth access token.","code":190}}"#,
            )
                .into_response();
        }
        calls.lock().expect("calls").push((id, body));
        axum::Json(json!({"success": true})).into_response()
    }
    /// A person's profile, as Messenger's and Instagram's user profile APIs give it.
    async fn profile(
        Path(id): Path<String>,
        headers: axum::http::HeaderMap,
        axum::extract::Query(q): axum::extract::Query<HashMap<String, String>>,
    ) -> axum::response::Response {
        use axum::response::IntoResponse;
        let authorised =
            headers.get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer page-token");
        let fields = q.get("fields").map(String::as_str).unwrap_or("");
        match (authorised, id.as_str(), fields) {
            (true, "6060", "first_name,last_name") => {
                axum::Json(json!({"first_name": "Kari", "last_name": "Nordmann", "id": "6060"}))
                    .into_response()
            }
            (true, "7070", "name,username") => {
                axum::Json(json!({"name": "", "username": "kari_n", "id": "7070"})).into_response()
            }
            _ => (
                axum::http::StatusCode::BAD_REQUEST,
                r#"{"error":{"message":"Unsupported get request.","code":100}}"#,
            )
                .into_response(),
        }
    }
    let app = axum::Router::new()
        .route("/v21.0/{id}", axum::routing::post(node).get(profile))
        .with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}/v21.0", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, calls)
}

/// A Messenger or Instagram message names its sender by id only; the inquiry shows the
/// person's name from the Graph API's profile, and without one (unknown person, network down)
/// the id's last digits.
#[tokio::test]
async fn message_senders_are_named_from_their_profiles() {
    let key = torg_core::sealing::SecretKey::generate();
    let app = spawn_sealed(&key).await;
    let store = &*app.store;
    let m = store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("m");
    let (graph, _) = fake_graph().await;
    for (channel, account) in [
        (torg_domain::Channel::Facebook, "PAGE1"),
        (torg_domain::Channel::Instagram, "IG1"),
    ] {
        meta_account(store, &key, m.id, channel, account, &graph, true).await;
    }
    let now = jiff::Timestamp::now().as_millisecond().to_string();
    let c = client();
    let send = |page: &'static str, user: &'static str, mid: &'static str| {
        let file = if page == "IG1" {
            "instagram_message.json"
        } else {
            "messenger_message.json"
        };
        let body = meta_payload(
            file,
            &[
                ("page_id", page),
                ("user_id", user),
                ("mid", mid),
                ("time_ms", &now),
                ("text", "Hei"),
            ],
        );
        let signature = torg_social::meta::sign(b"app-secret", body.as_bytes());
        let req = c
            .post(format!("{}/hooks/meta/alfa", app.base))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", signature)
            .body(body);
        async move { req.send().await.expect("hook").status() }
    };
    assert_eq!(send("PAGE1", "6060", "a").await, StatusCode::OK);
    assert_eq!(send("PAGE1", "8181", "b").await, StatusCode::OK);
    assert_eq!(send("IG1", "7070", "c").await, StatusCode::OK);
    let mut names: Vec<String> = store
        .list_inquiries(m.id, &torg_store::InquiryFilter::default(), None, 10)
        .await
        .expect("list")
        .into_iter()
        .map(|i| i.citizen_name)
        .collect();
    names.sort();
    assert_eq!(names, ["Facebook-bruker …8181", "Kari Nordmann", "kari_n"]);
}

/// Registers a Facebook or Instagram account in the channel registry (approved or only
/// proposed) with its API settings, secrets sealed under `key`.
async fn meta_account(
    store: &dyn Store,
    key: &torg_core::sealing::SecretKey,
    tenant: TenantId,
    channel: torg_domain::Channel,
    account: &str,
    api_base: &str,
    approve: bool,
) {
    let now = jiff::Timestamp::now();
    let address = format!("https://{channel}.example/{account}");
    let proposed = store
        .propose_channel_account(
            tenant,
            &torg_store::NewChannelAccount {
                channel,
                name: "Kommunen".into(),
                address: address.clone(),
                owner_unit_id: None,
                purpose: "Dialog".into(),
                ambition: torg_domain::registry::Ambition::Waiting,
                opening_hours: String::new(),
                proposed_by: None,
            },
            now,
            None,
        )
        .await
        .expect("propose");
    if approve {
        store
            .decide_channel_account(
                tenant,
                proposed.id,
                torg_domain::registry::AccountStatus::Approved,
                UserId(1),
                now,
                None,
            )
            .await
            .expect("approve");
    }
    store
        .set_social_account(
            &torg_store::SocialAccount {
                tenant_id: tenant,
                channel,
                account: account.into(),
                api_base: api_base.into(),
                access_token: key.seal(
                    &torg_core::sealing::Place::SocialToken {
                        tenant,
                        channel: channel.as_str(),
                        account,
                    },
                    "page-token",
                ),
                app_secret: key.seal(
                    &torg_core::sealing::Place::SocialAppSecret {
                        tenant,
                        channel: channel.as_str(),
                        account,
                    },
                    "app-secret",
                ),
                verify_token: "vt-123".into(),
                registry_address: address,
                cursor: String::new(),
                approved: false,
            },
            None,
        )
        .await
        .expect("account");
}

/// Answers on a social network go where the comment was or in private, and only a public
/// one is checked for personal data; a comment is hidden only with a reason and a note, the
/// hiding reaches the network, and the original stays in the thread.
#[tokio::test]
async fn social_answers_go_public_or_private_and_comments_are_hidden_with_a_reason() {
    let key = torg_core::sealing::SecretKey::generate();
    let app = spawn_sealed(&key).await;
    let store = &*app.store;
    let (m, desk) = alfa_with_communication(store).await;
    let (graph, calls) = fake_graph().await;
    meta_account(
        store,
        &key,
        m.id,
        torg_domain::Channel::Facebook,
        "PAGE1",
        &graph,
        true,
    )
    .await;
    let (comment, _, _) = stored_inquiry_with(
        store,
        m.id,
        desk,
        torg_domain::Channel::Facebook,
        Some("PAGE1|comment:10_20"),
    )
    .await;
    let staff = login(&app, "alfa", "kommunikasjon").await;
    let url = format!("{}/staff/inquiries/{comment}", app.base);
    let page = staff
        .get(&url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("name=\"answer_in\" value=\"private\""),
        "public or private is a choice"
    );
    assert!(page.contains("/hide\""), "the comment can be hidden");
    let csrf = csrf_of(&staff, &url).await;
    // In private, an identity number may go (to the person only).
    let res = staff
        .post(format!("{url}/reply"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("body", "Vi ser på saken for 15038512365."),
            ("answer_in", "private"),
        ])
        .send()
        .await
        .expect("reply");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = staff
        .post(format!("{url}/reply"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("body", "Takk, vi har sendt deg en melding."),
            ("answer_in", "public"),
        ])
        .send()
        .await
        .expect("reply");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let due = store
        .claim_outbox(
            torg_domain::Channel::Facebook,
            jiff::Timestamp::now(),
            jiff::SignedDuration::from_secs(60),
            10,
        )
        .await
        .expect("claim");
    let recipients: Vec<&str> = due.iter().map(|d| d.recipient.as_str()).collect();
    assert_eq!(recipients, ["PAGE1|private:10_20", "PAGE1|comment:10_20"]);
    let audit = actions(store, m.id, "inquiry.replied").await;
    assert!(audit.iter().any(|e| e.entry.detail == "private"));

    // Hiding: a reason and a note are needed.
    let res = staff
        .post(format!("{url}/hide"))
        .form(&[("csrf", csrf.as_str()), ("reason", ""), ("note", "sjikane")])
        .send()
        .await
        .expect("hide");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.expect("text").contains("fire grunnene"));
    let res = staff
        .post(format!("{url}/hide"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason", "personal_attack"),
            ("note", " "),
        ])
        .send()
        .await
        .expect("hide");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(calls.lock().expect("calls").is_empty());
    let res = staff
        .post(format!("{url}/hide"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason", "personal_attack"),
            ("note", "Kaller en ansatt ved navn for idiot"),
        ])
        .send()
        .await
        .expect("hide");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        calls.lock().expect("calls").clone(),
        vec![("10_20".to_string(), json!({"is_hidden": true}))]
    );
    let thread = store.messages(m.id, comment, true).await.expect("thread");
    assert_eq!(thread[0].body, "Et spørsmål", "the original is kept");
    assert!(
        thread
            .iter()
            .any(|m| m.kind == torg_domain::MessageKind::Note
                && m.body.contains("Personangrep")
                && m.body.contains("Kaller en ansatt"))
    );
    let hidden = actions(store, m.id, "comment.hidden").await;
    assert_eq!(hidden.len(), 1);
    assert!(hidden[0].entry.detail.starts_with("personal_attack: "));

    // An unapproved account: nothing reaches the network, and the page says why.
    meta_account(
        store,
        &key,
        m.id,
        torg_domain::Channel::Instagram,
        "IG1",
        &graph,
        false,
    )
    .await;
    let (insta, _, _) = stored_inquiry_with(
        store,
        m.id,
        desk,
        torg_domain::Channel::Instagram,
        Some("IG1|comment:5"),
    )
    .await;
    let res = staff
        .post(format!("{}/staff/inquiries/{insta}/hide", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason", "unlawful"),
            ("note", "Trusler mot en nabo"),
        ])
        .send()
        .await
        .expect("hide");
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.expect("text").contains("kanaloversikten"));
    assert_eq!(calls.lock().expect("calls").len(), 1);
}

/// A server-sent event stream read as the browser does.
struct EventStream {
    res: reqwest::Response,
    buf: String,
}

impl EventStream {
    async fn open(c: &reqwest::Client, url: &str, last_event_id: Option<&str>) -> EventStream {
        let mut req = c.get(url);
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let res = req.send().await.expect("events");
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .expect("type")
                .starts_with("text/event-stream")
        );
        EventStream {
            res,
            buf: String::new(),
        }
    }

    /// The next event of type `kind` (others are skipped): (id, data).
    async fn next(&mut self, kind: &str) -> (Option<String>, Value) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = ("message".to_string(), None, String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().to_string());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if event == kind && !data.is_empty() {
                    return (id, serde_json::from_str(&data).expect("json data"));
                }
            }
            let chunk = tokio::time::timeout_at(deadline, self.res.chunk())
                .await
                .unwrap_or_else(|_| panic!("no {kind} event within 10 s; have {:?}", self.buf))
                .expect("chunk")
                .expect("stream open");
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

impl EventStream {
    /// Whether the server ends the stream within `secs` seconds (events before are skipped).
    async fn ends_within(&mut self, secs: u64) -> bool {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
        loop {
            match tokio::time::timeout_at(deadline, self.res.chunk()).await {
                Err(_) => return false,
                Ok(Ok(Some(_))) => continue,
                Ok(Ok(None) | Err(_)) => return true,
            }
        }
    }
}

/// A live stream lasts only as long as the access that opened it: a revoked follow link, a
/// logout or a deactivation ends it within the recheck, and every stream ends at its lifetime.
#[tokio::test]
async fn live_streams_end_when_access_ends() {
    let settings = |lifetime: u64| torg_http::WebSettings {
        streams: torg_http::StreamLimits {
            recheck: std::time::Duration::from_millis(200),
            lifetime: std::time::Duration::from_secs(lifetime),
            ..Default::default()
        },
        ..unlimited()
    };
    let app = spawn_with(None, settings(60)).await;
    let m = chat_municipality(&*app.store).await;
    add_user(&*app.store, m.id, "ola", Role::ServiceDesk, None).await;
    let citizen = client();
    let res = citizen
        .post(format!("{}/chat/gamma", app.base))
        .form(&[("name", "Siv"), ("message", "Hei")])
        .send()
        .await
        .expect("start");
    let path = res.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let token = path.rsplit('/').next().expect("token").to_string();
    let id: i64 = token.split('-').next().expect("id").parse().expect("id");
    let chat_url = format!("{}{path}", app.base);
    let kari = login(&app, "gamma", "kari").await;
    let ola = login(&app, "gamma", "ola").await;
    let mut streams = vec![];
    for (c, url) in [
        (&citizen, format!("{chat_url}/events")),
        (&kari, format!("{}/staff/inquiries/{id}/events", app.base)),
        (&kari, format!("{}/staff/chats/events", app.base)),
        (&ola, format!("{}/staff/inquiries/{id}/events", app.base)),
    ] {
        streams.push(EventStream::open(c, &url, None).await);
    }
    let mut streams = streams.into_iter();
    let (mut own, mut kari_page, mut kari_list, mut ola_page) = (
        streams.next().expect("citizen"),
        streams.next().expect("kari"),
        streams.next().expect("kari's list"),
        streams.next().expect("ola"),
    );
    assert!(!own.ends_within(1).await, "open while allowed");
    // The citizen revokes the link.
    let res = client()
        .post(format!("{}/k/gamma/follow/{token}/revoke", app.base))
        .send()
        .await
        .expect("revoke");
    assert!(res.status().is_success(), "{}", res.status());
    assert!(
        own.ends_within(5).await,
        "a revoked link ends the chat's stream"
    );
    // Kari logs out: both her streams end.
    let csrf = csrf_of(&kari, &format!("{}/staff", app.base)).await;
    kari.post(format!("{}/staff/logout", app.base))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("logout");
    assert!(
        kari_page.ends_within(5).await,
        "logging out ends the inquiry's stream"
    );
    assert!(kari_list.ends_within(5).await, "and the chat list's");
    // Ola is deactivated: his ends too (the session cache holds for seconds at most).
    let user = app
        .store
        .user_by_username(m.id, "ola")
        .await
        .expect("u")
        .expect("u");
    app.store
        .update_user(
            m.id,
            user.id,
            torg_store::UserUpdate {
                full_name: user.full_name.clone(),
                role: user.role,
                unit_id: user.unit_id,
                active: false,
                email: None,
            },
            None,
        )
        .await
        .expect("deactivate");
    assert!(
        ola_page.ends_within(15).await,
        "deactivation ends the stream"
    );

    // Every stream ends at its lifetime; the browser reconnects and is checked afresh.
    let app = spawn_with(None, settings(1)).await;
    chat_municipality(&*app.store).await;
    let kari = login(&app, "gamma", "kari").await;
    let mut list =
        EventStream::open(&kari, &format!("{}/staff/chats/events", app.base), None).await;
    assert!(list.ends_within(5).await, "a stream's lifetime is capped");
}

/// "gamma", whose chat is open every day, all day, with Kari on its service desk.
async fn chat_municipality(store: &dyn Store) -> torg_store::Municipality {
    use torg_domain::calendar::HoursScope;
    let m = store
        .create_municipality(NewMunicipality {
            slug: "gamma".into(),
            name: "Gamma kommune".into(),
            // No country's holidays: the chat is open every day, all day.
            time_zone: "UTC".into(),
            language: "nb".into(),
        })
        .await
        .expect("municipality");
    let desk = store
        .create_unit(m.id, "Servicetorget", true, false, None)
        .await
        .expect("unit");
    add_user(store, m.id, "kari", Role::ServiceDesk, Some(desk.id.get())).await;
    let always = Some((jiff::civil::Time::MIN, jiff::civil::Time::MAX));
    store
        .set_scoped_opening_hours(
            m.id,
            HoursScope::Channel(torg_domain::Channel::Chat),
            &[always; 7],
            None,
        )
        .await
        .expect("hours");
    m
}

/// Two nodes on one PostgreSQL database: a citizen on one and staff on the other see each
/// other's typing and messages live, a message too long for NOTIFY included.
#[tokio::test]
async fn live_chat_across_two_nodes_on_postgres() {
    let Ok(admin) = std::env::var("TORG_TEST_POSTGRES_URL") else {
        eprintln!("TORG_TEST_POSTGRES_URL is not set: skipping PostgreSQL (.ci/run sets it)");
        return;
    };
    let url = torg_store_sql::postgres::create_test_database(&admin)
        .await
        .expect("PostgreSQL must be reachable");
    let one = spawn_with(Some(url.clone()), unlimited()).await;
    let second_store = torg_store_sql::open(&url).await.expect("second node");
    let (two, two_state) = serve_node(second_store, unlimited()).await;
    chat_municipality(&*one.store).await;
    for state in [&one.state, &two_state] {
        assert!(
            state.join_nodes().await.expect("join"),
            "PostgreSQL joins nodes"
        );
        state.forget_cached_settings();
    }
    // The citizen is on the first node.
    let citizen = client();
    let res = citizen
        .post(format!("{}/chat/gamma", one.base))
        .form(&[("name", "Ola"), ("message", "Hei fra node 1")])
        .send()
        .await
        .expect("start");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let path = res.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let chat_url = format!("{}{path}", one.base);
    let inquiry_id: i64 = path
        .rsplit('/')
        .next()
        .and_then(|t| t.split('-').next())
        .and_then(|id| id.parse().ok())
        .expect("id");
    // Staff are on the second.
    let staff = login_at(&two, "gamma", "kari").await;
    let inquiry_url = format!("{two}/staff/inquiries/{inquiry_id}");
    let csrf = csrf_of(&staff, &inquiry_url).await;
    let mut staff_events =
        EventStream::open(&staff, &format!("{inquiry_url}/events?after=0"), None).await;
    assert_eq!(
        staff_events.next("message").await.1["body"],
        "Hei fra node 1"
    );
    let mut citizen_events =
        EventStream::open(&citizen, &format!("{chat_url}/events?after=0"), None).await;
    citizen_events.next("message").await;
    let res = citizen
        .post(format!("{chat_url}/typing"))
        .send()
        .await
        .expect("typing");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(staff_events.next("typing").await.1["name"], "Ola");
    let long = "Lang beskrivelse av saken. "
        .repeat(400)
        .trim_end()
        .to_string();
    assert!(long.len() > torg_store::NODE_BUS_MAX_PAYLOAD);
    for body in ["Når tømmes søppelet?", long.as_str()] {
        let res = citizen
            .post(&chat_url)
            .header("x-torg-live", "1")
            .form(&[("body", body)])
            .send()
            .await
            .expect("message");
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let got = staff_events.next("message").await.1;
        let got = got["body"].as_str().expect("body");
        assert!(
            got == body,
            "{} bytes came, {} were sent",
            got.len(),
            body.len()
        );
    }
    // The answer from the second node reaches the citizen on the first.
    let res = staff
        .post(format!("{inquiry_url}/reply"))
        .header("x-torg-live", "1")
        .form(&[("csrf", csrf.as_str()), ("body", "Tirsdag morgen.")])
        .send()
        .await
        .expect("reply");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    loop {
        let (_, e) = citizen_events.next("message").await;
        if e["kind"] == "outbound" {
            assert!(
                e["body"]
                    .as_str()
                    .expect("body")
                    .starts_with("Tirsdag morgen.")
            );
            break;
        }
    }
}

/// Live chat: a citizen starts a conversation in the widget's page, staff follow it live,
/// see the citizen typing, take it over and answer; the citizen sees it all live, catches
/// up after a reconnect, can have it by email; outside opening hours the page takes a
/// message instead. Hostile text is shown, never run.
#[tokio::test]
async fn live_chat_flows_both_ways_and_survives_a_reconnect() {
    let app = spawn().await;
    let store = &*app.store;
    let m = chat_municipality(store).await;
    app.state.forget_cached_settings();
    let citizen = client();
    let res = citizen
        .get(format!("{}/chat/gamma", app.base))
        .send()
        .await
        .expect("page");
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_string();
    assert!(
        csp.contains("frame-ancestors *"),
        "the widget may frame it: {csp}"
    );
    assert!(res.headers().get("x-frame-options").is_none());
    assert!(res.text().await.expect("text").contains("name=\"message\""));
    let res = citizen
        .post(format!("{}/chat/gamma", app.base))
        .form(&[
            ("name", "Ola"),
            ("email", "ola@example.no"),
            ("message", "Hei <script>alert(1)</script>"),
        ])
        .send()
        .await
        .expect("start");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let chat_url = format!(
        "{}{}",
        app.base,
        res.headers()["location"].to_str().expect("location")
    );
    assert!(chat_url.contains("/chat/gamma/c/"));
    let page = citizen
        .get(&chat_url)
        .send()
        .await
        .expect("chat")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "shown as text"
    );
    assert!(!page.contains("<script>alert(1)"));
    let inquiry_id: i64 = chat_url
        .rsplit('/')
        .next()
        .expect("token")
        .split('-')
        .next()
        .expect("id")
        .parse()
        .expect("id");

    // Staff see the chat and follow it.
    let staff = login(&app, "gamma", "kari").await;
    let list = staff
        .get(format!("{}/staff/chats", app.base))
        .send()
        .await
        .expect("list")
        .text()
        .await
        .expect("text");
    assert!(
        list.contains(&format!("/staff/inquiries/{inquiry_id}")),
        "the chat is listed"
    );
    let inquiry_url = format!("{}/staff/inquiries/{inquiry_id}", app.base);
    let page = staff
        .get(&inquiry_url)
        .send()
        .await
        .expect("inquiry")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("data-chat-events="),
        "the page follows the chat live"
    );
    let csrf = csrf_of(&staff, &inquiry_url).await;
    let mut staff_events =
        EventStream::open(&staff, &format!("{inquiry_url}/events?after=0"), None).await;
    let (first_id, first) = staff_events.next("message").await;
    assert_eq!(first["body"], "Hei <script>alert(1)</script>");
    let mut citizen_events =
        EventStream::open(&citizen, &format!("{chat_url}/events?after=0"), None).await;
    citizen_events.next("message").await;

    // The citizen types and writes; staff see both at once.
    let res = citizen
        .post(format!("{chat_url}/typing"))
        .send()
        .await
        .expect("typing");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (_, typing) = staff_events.next("typing").await;
    assert_eq!(
        (typing["by"].as_str(), typing["name"].as_str()),
        (Some("citizen"), Some("Ola"))
    );
    let res = citizen
        .post(&chat_url)
        .header("x-torg-live", "1")
        .form(&[("body", "Når tømmes søppelet i Storgata?")])
        .send()
        .await
        .expect("message");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (_, second) = staff_events.next("message").await;
    assert_eq!(second["body"], "Når tømmes søppelet i Storgata?");
    assert_eq!(second["kind"], "inbound");

    // Staff take it over and answer; the citizen is told, sees the typing and the answer.
    let res = staff
        .post(format!("{inquiry_url}/take"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("take");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, status) = citizen_events.next("status").await;
    assert!(
        status["text"]
            .as_str()
            .expect("text")
            .contains("svarer deg nå"),
        "{status}"
    );
    let inquiry = store
        .inquiry(m.id, InquiryId(inquiry_id))
        .await
        .expect("read")
        .expect("there");
    assert!(inquiry.assignee_id.is_some());
    staff
        .post(format!("{inquiry_url}/typing"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("typing");
    let (_, typing) = citizen_events.next("typing").await;
    assert_eq!(typing["by"], "staff");
    let res = staff
        .post(format!("{inquiry_url}/reply"))
        .header("x-torg-live", "1")
        .form(&[("csrf", csrf.as_str()), ("body", "Tirsdag morgen.")])
        .send()
        .await
        .expect("reply");
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (_, answer) = citizen_events.next("message").await;
    let answer_body = answer["body"].as_str().expect("body");
    // The citizen's own second message came first, then the answer.
    let answer_body = if answer["kind"] == "inbound" {
        citizen_events.next("message").await.1["body"]
            .as_str()
            .expect("body")
            .to_string()
    } else {
        answer_body.to_string()
    };
    assert!(answer_body.starts_with("Tirsdag morgen."), "{answer_body}");

    // A reconnect resumes after the last event the browser had.
    drop(citizen_events);
    let mut again = EventStream::open(
        &citizen,
        &format!("{chat_url}/events?after=0"),
        first_id.as_deref(),
    )
    .await;
    let (_, missed) = again.next("message").await;
    assert_eq!(
        missed["body"], "Når tømmes søppelet i Storgata?",
        "nothing before the last id again"
    );

    // The transcript by email: only to the chat's own address, when the citizen confirms it;
    // not without a mailbox; then queued with the conversation, at most three times.
    let transcript = |fields: &'static [(&'static str, &'static str)]| {
        let req = citizen.post(format!("{chat_url}/transcript")).form(fields);
        async move {
            let res = req.send().await.expect("transcript");
            (res.status(), res.text().await.expect("text"))
        }
    };
    let (s, page) = transcript(&[("email", "victim@example.org")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Kryss av"), "{page}");
    let (s, page) = transcript(&[("confirm", "yes")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("ikke satt opp e-post"), "{page}");
    store
        .set_mail_account(m.id, Some(unreachable_mail_account()), None)
        .await
        .expect("mail");
    let (s, _) = transcript(&[("confirm", "yes"), ("email", "victim@example.org")]).await;
    assert_eq!(s, StatusCode::SEE_OTHER, "back to the conversation");
    let due = store
        .claim_outbox(
            torg_domain::Channel::Email,
            jiff::Timestamp::now(),
            jiff::SignedDuration::from_secs(60),
            10,
        )
        .await
        .expect("claim");
    assert!(due.iter().all(|d| d.recipient != "victim@example.org"));
    let transcript_mail = due
        .iter()
        .find(|d| d.recipient == "ola@example.no")
        .expect("queued");
    assert!(transcript_mail.subject.contains("Gamma kommune"));
    for line in [
        "Hei <script>alert(1)</script>",
        "Når tømmes søppelet",
        "Tirsdag morgen.",
    ] {
        assert!(
            transcript_mail.body.contains(line),
            "{line} in {}",
            transcript_mail.body
        );
    }
    for _ in 1..torg_core::transcript::MAX_PER_CHAT {
        let (s, _) = transcript(&[("confirm", "yes")]).await;
        assert_eq!(s, StatusCode::SEE_OTHER);
    }
    let (s, page) = transcript(&[("confirm", "yes")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("allerede sendt 3 ganger"), "{page}");

    // Closed: the page says so and takes a message, which becomes an ordinary inquiry.
    store
        .set_scoped_opening_hours(
            m.id,
            torg_domain::calendar::HoursScope::Channel(torg_domain::Channel::Chat),
            &[None; 7],
            None,
        )
        .await
        .expect("hours");
    app.state.forget_cached_settings();
    let page = client()
        .get(format!("{}/chat/gamma", app.base))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("Chatten er stengt"), "says it is closed");
    let res = client()
        .post(format!("{}/chat/gamma", app.base))
        .form(&[
            ("name", "Kari"),
            ("email", "kari@example.no"),
            ("message", "Ring meg i morgen"),
        ])
        .send()
        .await
        .expect("leave");
    assert_eq!(res.status(), StatusCode::OK);
    let text = res.text().await.expect("text");
    assert!(text.contains("saksnummer"), "a receipt with the reference");
    // Its follow link leads to the follow page.
    let follow = text
        .split("href=\"")
        .skip(1)
        .filter_map(|r| r.split('"').next())
        .find(|href| href.contains("/k/gamma/"))
        .expect("a follow link")
        .to_string();
    let res = client().get(&follow).send().await.expect("follow");
    assert_eq!(res.status(), StatusCode::OK, "{follow}");
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    let chats = store
        .list_inquiries(
            m.id,
            &torg_store::InquiryFilter {
                channel: Some(torg_domain::Channel::Chat),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .expect("list");
    assert_eq!(chats.len(), 2);
    let res = client()
        .get(format!("{}/chat/gamma/c/1-{}", app.base, "0".repeat(64)))
        .send()
        .await
        .expect("bad");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_swedish_municipality_takes_anonymous_access_requests_sqlite() {
    a_swedish_municipality_takes_anonymous_access_requests(&spawn().await).await;
}

/// Hällefors (Sweden): allmänna handlingar may be asked for without a name or an address and
/// without saying why; the request is answered "skyndsamt" (one working day unless the
/// municipality sets its own), and a refusal cites Swedish law with the appeal to the
/// kammarrätt.
async fn a_swedish_municipality_takes_anonymous_access_requests(app: &App) {
    let m = app
        .store
        .create_municipality(NewMunicipality {
            slug: "hallefors".into(),
            name: "Hällefors kommun".into(),
            time_zone: "Europe/Stockholm".into(),
            language: "sv".into(),
        })
        .await
        .expect("municipality");
    let desk = app
        .store
        .create_unit(m.id, "Kommunservice", true, false, None)
        .await
        .expect("unit");
    add_user(
        &*app.store,
        m.id,
        "kari",
        Role::ServiceDesk,
        Some(desk.id.get()),
    )
    .await;

    // From the journal's link: the form says no name is needed, and asks for none.
    let form = client()
        .get(format!(
            "{}/k/hallefors?innsyn=KS%202026%2F14&tittel=Protokoll",
            app.base
        ))
        .header("accept-language", "sv")
        .send()
        .await
        .expect("form")
        .text()
        .await
        .expect("text");
    assert!(form.contains("id=\"access-hint\""), "{form}");
    assert!(
        !form.contains("autocomplete=\"name\" required"),
        "the name is not required"
    );

    // Sent with no name, no address, no reason.
    let form = Form::new()
        .text("name", "")
        .text("email", "")
        .text("phone", "")
        .text("topic", "access_request")
        .text(
            "message",
            "Protokollet från kommunstyrelsen den 30 november, tack.",
        );
    let res = client()
        .post(format!("{}/k/hallefors/inquiries", app.base))
        .multipart(form)
        .send()
        .await
        .expect("post");
    let status = res.status();
    let receipt = res.text().await.expect("text");
    assert_eq!(status, StatusCode::CREATED, "{receipt}");
    assert!(
        receipt.contains("follow-link"),
        "the answer is on the follow page"
    );

    let list = app
        .store
        .list_inquiries(m.id, &torg_store::InquiryFilter::default(), None, 10)
        .await
        .expect("list");
    assert_eq!(list.len(), 1);
    let inquiry = app
        .store
        .inquiry(m.id, list[0].id)
        .await
        .expect("i")
        .expect("i");
    assert_eq!(inquiry.topic.as_deref(), Some("access_request"));
    assert_eq!(inquiry.citizen_name, "Anonym");
    assert!(inquiry.contact_email.is_none() && inquiry.contact_phone.is_none());
    // One working day by default in Sweden, the municipality's own rule where it has one.
    let config = torg_core::intake::TenantConfig::load(&*app.store, m.clone())
        .await
        .expect("config");
    assert_eq!(
        config.policy(torg_domain::Channel::Web, desk.id, Some("access_request")),
        torg_domain::deadline::DeadlinePolicy::WithinWorkingDays { days: 1 }
    );
    assert_eq!(
        inquiry.deadline_at,
        config.deadline(
            torg_domain::Channel::Web,
            desk.id,
            Some("access_request"),
            inquiry.received_at
        )
    );
    assert!(
        inquiry.deadline_at.duration_since(inquiry.received_at)
            < jiff::SignedDuration::from_hours(24 * 4)
    );

    // A name is still needed for anything else.
    let other = Form::new()
        .text("name", "")
        .text("email", "a@example.se")
        .text("phone", "")
        .text("topic", "")
        .text("message", "När töms soptunnorna?");
    let res = client()
        .post(format!("{}/k/hallefors/inquiries", app.base))
        .multipart(other)
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The desk answers from the template: Swedish law, the kammarrätt, three weeks.
    let staff = login(app, "hallefors", "kari").await;
    let page = staff
        .get(format!(
            "{}/staff/inquiries/{}?access=refused&ground=health",
            app.base, inquiry.id
        ))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("25 kap. 1 § offentlighets- och sekretesslagen"),
        "{page}"
    );
    assert!(page.contains("kammarrätten") && page.contains("inom tre veckor"));
    assert!(!page.contains("Offl. § 13"));
}

#[tokio::test]
async fn the_archivist_decides_and_the_public_journal_screens_sqlite() {
    the_archivist_decides_and_the_public_journal_screens(&spawn().await).await;
}

async fn the_archivist_decides_and_the_public_journal_screens(app: &App) {
    let m = app
        .store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("m");
    let desk = app.store.list_units(m.id).await.expect("units")[0].clone();
    add_user(
        &*app.store,
        m.id,
        "arkiv",
        Role::Archivist,
        Some(desk.id.get()),
    )
    .await;
    // A citizen asks for access: its own kind, with three working days.
    let res = client()
        .post(format!("{}/k/alfa/inquiries", app.base))
        .multipart(
            Form::new()
                .text("name", "Kari <script>alert(1)</script> Hansen")
                .text("email", "kari@example.no")
                .text("phone", "")
                .text("topic", "")
                .text(
                    "message",
                    "Jeg ber om innsyn i byggesaken for Fjellveien 3. Mitt fødselsnummer er 01017000027.",
                ),
        )
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::CREATED);
    let list = app
        .store
        .list_inquiries(m.id, &Default::default(), None, 1000)
        .await
        .expect("list");
    let id = list
        .iter()
        .find(|i| i.citizen_name.contains("Hansen"))
        .expect("the request")
        .id;
    let inquiry = app.store.inquiry(m.id, id).await.expect("i").expect("i");
    assert_eq!(inquiry.topic.as_deref(), Some("access_request"));

    // The desk sees the proposal and fills the reply from the template.
    let desk_user = login(app, "alfa", "kari").await;
    let url = format!("{}/staff/inquiries/{id}", app.base);
    let page = desk_user
        .get(format!(
            "{url}?access=refused&ground=personal_circumstances"
        ))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("Torg foreslår at henvendelsen er arkivverdig"));
    assert!(page.contains("et innsynskrav"));
    assert!(
        page.contains("Vi avslår innsyn i"),
        "the template fills the reply box"
    );
    assert!(page.contains("Offl. § 13 jf. fvl. § 13 første ledd nr. 1"));
    assert!(
        !page.contains("name=\"decision\""),
        "only the archivist decides"
    );

    // The archivist decides, with the names screened.
    let archivist = login(app, "alfa", "arkiv").await;
    let csrf = csrf_of(&archivist, &url).await;
    let res = archivist
        .post(format!("{url}/archive"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("decision", "archive"),
            ("basis", "personal_circumstances"),
            ("screen_names", "on"),
        ])
        .send()
        .await
        .expect("decide");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let bad = archivist
        .post(format!("{url}/archive"))
        .form(&[("csrf", csrf.as_str()), ("decision", "maybe")])
        .send()
        .await
        .expect("bad");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let record = app
        .store
        .archive_record(m.id, id)
        .await
        .expect("record")
        .expect("decided");
    assert!(record.screening.names);
    assert!(record.reasons.contains("access_request"));
    let page = archivist
        .get(&url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("Arkivverdig – bestemt av arkiv"));
    let audit = actions(&*app.store, m.id, "archive.decided").await;
    assert_eq!(audit.len(), 1);

    // The archivist's page: the retention time with its limits; the decided inquiry is no
    // longer waiting.
    let archive_url = format!("{}/staff/archive", app.base);
    let page = archivist
        .get(&archive_url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("Venter på vurdering") && page.contains("value=\"365\""));
    assert!(!page.contains(&format!("/staff/inquiries/{id}#archive-h")));
    let res = archivist
        .post(format!("{archive_url}/retention"))
        .form(&[("csrf", csrf.as_str()), ("days", "5")])
        .send()
        .await
        .expect("too short");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = archivist
        .post(format!("{archive_url}/retention"))
        .form(&[("csrf", csrf.as_str()), ("days", "90")])
        .send()
        .await
        .expect("set");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.store.retention_days(m.id).await.expect("days"), 90);

    // The public journal: the line is there, the name and title screened, hostile text shown
    // as text; searching for the screened name finds nothing.
    let journal = client()
        .get(format!("{}/k/alfa/journal", app.base))
        .send()
        .await
        .expect("journal");
    assert_eq!(journal.status(), StatusCode::OK);
    let journal = journal.text().await.expect("text");
    assert!(journal.contains(&format!("{}-1", inquiry.reference)));
    assert!(journal.contains("Skjermet etter Offl. § 13"));
    assert!(!journal.contains("Hansen") && !journal.contains("<script>alert"));
    assert!(!journal.contains("01017000027"));
    // Each line has "request access": the contact form, filled in as an access request for
    // that document (its number and the title as the journal shows it).
    let document = format!("{}-1", inquiry.reference);
    let link = journal
        .split("<a href=\"")
        .filter_map(|a| a.split('"').next())
        .find(|h| h.contains(&format!("innsyn={document}")))
        .expect("a request-access link")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    assert!(journal.contains("Be om innsyn"));
    let form = client()
        .get(format!("{}{link}", app.base))
        .send()
        .await
        .expect("form");
    assert_eq!(form.status(), StatusCode::OK);
    let form = form.text().await.expect("text");
    assert!(
        form.contains("<option value=\"access_request\" selected>"),
        "the topic is access"
    );
    assert!(
        form.contains(&format!(
            "Jeg ber om innsyn i dokument {document} i postjournalen: «"
        )),
        "{form}"
    );
    assert!(
        !form.contains("Hansen"),
        "the screened title stays screened"
    );
    // A link made by hand is shown as text, never run.
    let crafted = client()
        .get(format!(
            "{}/k/alfa?innsyn=1&tittel=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            app.base
        ))
        .send()
        .await
        .expect("crafted")
        .text()
        .await
        .expect("text");
    assert!(!crafted.contains("<script>alert(1)") && crafted.contains("&#60;script&#62;alert(1)"));
    let search = client()
        .get(format!("{}/k/alfa/journal?q=Hansen", app.base))
        .send()
        .await
        .expect("search")
        .text()
        .await
        .expect("text");
    assert!(search.contains("Ingen dokumenter i perioden"));
    // By its case number, through the same text analysis as the staff's search.
    let by_case = client()
        .get(format!(
            "{}/k/alfa/journal?q={}",
            app.base, inquiry.reference
        ))
        .send()
        .await
        .expect("search")
        .text()
        .await
        .expect("text");
    assert!(by_case.contains(&format!("{}-1", inquiry.reference)));
    let feed = client()
        .get(format!("{}/k/alfa/journal/feed.atom", app.base))
        .send()
        .await
        .expect("feed");
    assert_eq!(
        feed.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let feed = feed.text().await.expect("text");
    assert!(feed.starts_with("<?xml") && feed.contains("<entry>"));
    assert!(!feed.contains("Hansen"));
    let json: Value = client()
        .get(format!("{}/k/alfa/journal/einnsyn.json", app.base))
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("json");
    let post = &json["journalposter"][0];
    assert_eq!(post["journalposttype"], "Inngående dokument");
    assert_eq!(
        post["korrespondansepart"][0]["korrespondansepartNavn"],
        "*****"
    );
    assert_eq!(
        post["skjermingshjemmel"],
        "Offl. § 13 jf. fvl. § 13 første ledd nr. 1"
    );
    // The other municipality's journal does not show it.
    let other = client()
        .get(format!("{}/k/beta/journal/einnsyn.json", app.base))
        .send()
        .await
        .expect("json")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(other["journalposter"].as_array().map(Vec::len), Some(0));
    let wrong = client()
        .get(format!("{}/k/alfa/journal?from=2026-13-01", app.base))
        .send()
        .await
        .expect("wrong");
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn flagged_comments_wait_in_the_moderation_queue() {
    let app = spawn().await;
    let m = app
        .store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("m");
    let desk = app.store.list_units(m.id).await.expect("units")[0].clone();
    add_user(
        &*app.store,
        m.id,
        "kommunikasjon",
        Role::Communication,
        Some(desk.id.get()),
    )
    .await;
    let (flagged, _, _) = stored_inquiry_with(
        &*app.store,
        m.id,
        desk.id,
        torg_domain::Channel::Facebook,
        Some("1000123|comment:1_2"),
    )
    .await;
    app.store
        .add_message(
            m.id,
            flagged,
            torg_store::NewMessage {
                kind: torg_domain::MessageKind::Inbound,
                author_user_id: None,
                author_name: "Ola Nordmann".into(),
                body: "Sønnen min (01017000027) får ikke plass, dette er svindel!".into(),
                attachments: vec![],
                created_at: jiff::Timestamp::now(),
                external_id: None,
                outgoing: None,
            },
            None,
        )
        .await
        .expect("comment");
    let (_clean, _, _) = stored_inquiry_with(
        &*app.store,
        m.id,
        desk.id,
        torg_domain::Channel::Facebook,
        Some("1000123|comment:1_3"),
    )
    .await;
    let staff = login(&app, "alfa", "kommunikasjon").await;
    let url = format!("{}/staff/moderation", app.base);
    let csrf = csrf_of(&staff, &url).await;
    let res = staff
        .post(format!("{url}/keywords"))
        .form(&[("csrf", csrf.as_str()), ("keywords", "Svindel, dårlig vær")])
        .send()
        .await
        .expect("keywords");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.moderation_keywords(m.id).await.expect("kw"),
        vec!["dårlig vær".to_string(), "svindel".to_string()]
    );
    let page = staff
        .get(&url)
        .send()
        .await
        .expect("queue")
        .text()
        .await
        .expect("text");
    assert!(page.contains(&format!("/staff/inquiries/{flagged}")));
    assert!(page.contains("fødselsnummer") && page.contains("ordet «svindel»"));
    assert!(page.contains("1 andre åpne kommentarer er ikke flagget"));
    let inquiry = format!("{}/staff/inquiries/{flagged}", app.base);
    let page = staff
        .get(&inquiry)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("Kommentaren er flagget for: fødselsnummer"));
    assert!(page.contains("?private_reply=1"));
    let page = staff
        .get(format!("{inquiry}?private_reply=1"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("Vi svarer deg gjerne her i en privat melding"));
    assert!(page.contains("value=\"private\" checked"));
    // Those who do not speak for the municipality do not moderate.
    let desk_user = login(&app, "alfa", "kari").await;
    let res = desk_user.get(&url).send().await.expect("queue");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

/// A reply through the JSON API and through the staff page ends the same way on every
/// channel: the same kind of outbox entry to the same place (none where the citizen reads
/// it in Torg or it was a call), the personal-data guard on public answers, the live chat
/// told at once, and one audit entry written with it.
#[tokio::test]
async fn replies_take_one_path_from_the_api_and_the_staff_page() {
    use torg_domain::Channel;
    let app = spawn().await;
    let store = &*app.store;
    let (m, desk) = alfa_with_communication(store).await;
    let writer = store
        .user_by_username(m.id, "kommunikasjon")
        .await
        .expect("user")
        .expect("user");
    store
        .set_mail_account(m.id, Some(unreachable_mail_account()), None)
        .await
        .expect("mail account");
    let staff = login(&app, "alfa", "kommunikasjon").await;
    let text = "Vi har notert personnummer 811218-9876 i saken.";
    type Case<'a> = (Channel, Option<&'a str>, Option<&'a str>, Option<&'a str>);
    let cases: [Case; 8] = [
        // (channel, external id of the two inquiries' first message, phone, where it goes)
        (Channel::Web, None, None, None),
        (
            Channel::Email,
            Some("<q@example.no>"),
            None,
            Some("ola@example.no"),
        ),
        (Channel::Sms, None, Some("+4791234567"), Some("+4791234567")),
        (Channel::Chat, None, None, None),
        (
            Channel::Facebook,
            Some("PAGE1|comment:10_2"),
            None,
            Some("PAGE1|comment:10_2"),
        ),
        (
            Channel::Instagram,
            Some("IG1|comment:77"),
            None,
            Some("IG1|comment:77"),
        ),
        (
            Channel::Mastodon,
            Some("acct|status:public:55:ola@example.social"),
            None,
            Some("acct|status:public:55:ola@example.social"),
        ),
        (Channel::Phone, None, None, None),
    ];
    for (channel, external, phone, recipient) in cases {
        let mut ids = vec![];
        for way in ["api", "staff"] {
            // Each way gets its own inquiry, with its own network id where there is one.
            let external = external
                .map(|e| e.replace("10_2", &format!("10_2{way}")))
                .map(|e| e.replace("77", &format!("77{way}")))
                .map(|e| e.replace(":55:", &format!(":55{way}:")))
                .map(|e| e.replace("<q@", &format!("<q{way}@")));
            let (id, token, _) =
                stored_inquiry_from(store, m.id, desk, channel, external.as_deref(), phone).await;
            // The citizen of a live chat follows it; the reply must reach them live.
            let mut live = if channel == Channel::Chat {
                let citizen = client();
                let mut events = EventStream::open(
                    &citizen,
                    &format!("{}/chat/alfa/c/{token}/events?after=0", app.base),
                    None,
                )
                .await;
                events.next("message").await;
                Some(events)
            } else {
                None
            };
            let public = channel.is_public();
            let send = |confirm: bool| {
                let staff = &staff;
                let base = &app.base;
                let token = &app.a.token;
                async move {
                    if way == "api" {
                        let mut body = json!({ "body": text, "author_user_id": writer.id });
                        if confirm {
                            body["confirm_personal_data"] = json!(true);
                        }
                        let res = client()
                            .post(format!("{base}/api/v1/inquiries/{id}/replies"))
                            .bearer_auth(token)
                            .json(&body)
                            .send()
                            .await
                            .expect("api reply");
                        let status = res.status();
                        let body: Value = res.json().await.expect("json");
                        (status, body.to_string())
                    } else {
                        let url = format!("{base}/staff/inquiries/{id}");
                        let csrf = csrf_of(staff, &url).await;
                        let mut form = vec![("csrf", csrf), ("body", text.to_string())];
                        if confirm {
                            form.push(("confirm_personal_data", "on".into()));
                        }
                        let res = staff
                            .post(format!("{url}/reply"))
                            .form(&form)
                            .send()
                            .await
                            .expect("staff reply");
                        (res.status(), res.text().await.expect("text"))
                    }
                }
            };
            let (status, said) = send(false).await;
            if public {
                assert_eq!(
                    status,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "{channel} {way}: held"
                );
                if way == "api" {
                    assert!(said.contains("\"personal_data\""), "{said}");
                    assert!(said.contains("personnummer"), "{said}");
                } else {
                    assert!(said.contains("name=\"confirm_personal_data\""));
                }
                let thread = store.messages(m.id, id, true).await.expect("thread");
                assert_eq!(
                    thread.len(),
                    1,
                    "{channel} {way}: nothing written before confirming"
                );
                let (status, said) = send(true).await;
                assert!(
                    status.is_success() || status == StatusCode::SEE_OTHER,
                    "{channel} {way}: {status} {said}"
                );
            } else {
                let ok = if way == "api" {
                    StatusCode::CREATED
                } else {
                    StatusCode::SEE_OTHER
                };
                assert_eq!(status, ok, "{channel} {way}: {said}");
            }
            if let Some(events) = live.as_mut() {
                let (_, event) = events.next("message").await;
                assert!(
                    event["body"].as_str().is_some_and(|b| b.starts_with(text)),
                    "{way}: the chat is told: {event}"
                );
            }
            let audit = store
                .search_audit(
                    m.id,
                    &torg_store::AuditQuery {
                        action: Some("inquiry.replied".into()),
                        object: Some(format!("inquiry:{id}")),
                        ..Default::default()
                    },
                    10,
                )
                .await
                .expect("audit");
            assert_eq!(audit.len(), 1, "{channel} {way}: one audit entry");
            if public {
                assert!(
                    audit[0]
                        .entry
                        .detail
                        .starts_with("personal_data_confirmed:")
                );
            }
            ids.push(id);
        }
        // What each way queued for sending.
        let now = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(1);
        let queued = store
            .claim_outbox(channel, now, jiff::SignedDuration::from_mins(1), 100)
            .await
            .expect("outbox");
        let entries: Vec<_> = ids
            .iter()
            .map(|id| {
                queued
                    .iter()
                    .filter(|q| q.inquiry_id == Some(InquiryId((*id).get())))
                    .map(|q| (q.channel, q.body.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(entries[0], entries[1], "{channel}: the same entry each way");
        match recipient {
            None => assert!(entries[0].is_empty(), "{channel}: nothing to send"),
            Some(to) => {
                assert_eq!(entries[0].len(), 1, "{channel}: one entry");
                for (way, id) in ["api", "staff"].iter().zip(&ids) {
                    let entry = queued
                        .iter()
                        .find(|q| q.inquiry_id == Some(InquiryId((*id).get())))
                        .expect("entry");
                    let to = to
                        .replace("10_2", &format!("10_2{way}"))
                        .replace("77", &format!("77{way}"))
                        .replace(":55:", &format!(":55{way}:"));
                    assert_eq!(entry.recipient, to, "{channel} {way}");
                    assert!(entry.body.starts_with(text));
                }
            }
        }
    }
}

/// The id of municipality `slug`.
async fn tenant_of(app: &App, slug: &str) -> TenantId {
    app.store
        .municipality_by_slug(slug)
        .await
        .expect("municipality")
        .expect("exists")
        .id
}

/// The annual wheel: a communication officer plans an item that comes back on the first
/// Monday of March; it is on the wheel (SVG), in March's list and in the list of all; a case
/// handler sees it but cannot plan; the private feed link gives an iCalendar that a real
/// iCalendar parser reads, with the RRULE; a new link ends the old one.
async fn the_annual_wheel(app: &App) {
    let tenant = tenant_of(app, &app.a.slug).await;
    add_user(
        &*app.store,
        tenant,
        "kommunikasjon",
        Role::Communication,
        None,
    )
    .await;
    let comm = login(app, &app.a.slug, "kommunikasjon").await;
    let url = format!("{}/staff/wheel", app.base);
    let csrf = csrf_of(&comm, &url).await;
    let res = comm
        .post(format!("{url}/items"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Eiendomsskatt: <b>utsendelse</b>"),
            ("date", "2027-03-01"),
            ("repeat", "weekday"),
            ("target_group", "Huseiere"),
            ("mark", "proactive"),
        ])
        .send()
        .await
        .expect("add");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = comm
        .post(format!("{url}/items"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Uten dato"),
            ("date", "1. mars"),
        ])
        .send()
        .await
        .expect("bad");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text()
            .await
            .expect("text")
            .contains("Skriv datoen slik")
    );
    let page = comm
        .get(format!("{url}?year=2028&month=3"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("<svg"), "the wheel");
    assert!(
        page.contains("06.03 – Eiendomsskatt: &#60;b&#62;utsendelse"),
        "2028's first Monday of March, escaped"
    );
    assert!(page.contains("06.03.2028"), "in March's list");
    assert!(
        page.contains("hvert år: første mandag i mars"),
        "how it repeats, in words"
    );
    // A case handler sees the wheel but does not plan it.
    let handler = login(app, &app.a.slug, "kari").await;
    let seen = handler.get(&url).send().await.expect("page");
    assert_eq!(seen.status(), StatusCode::OK);
    let handler_csrf = csrf_of(&handler, &url).await;
    let res = handler
        .post(format!("{url}/items"))
        .form(&[
            ("csrf", handler_csrf.as_str()),
            ("title", "X"),
            ("date", "2027-01-01"),
        ])
        .send()
        .await
        .expect("refused");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // The feed: a private link, shown once; a real parser reads the calendar.
    let made = comm
        .post(format!("{url}/feed"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("feed")
        .text()
        .await
        .expect("text");
    let link = between(&made, "<code class=\"secret\">", "</code>")
        .expect("link shown")
        .to_string();
    let path = &link[link.find("/k/").expect("path")..];
    let feed = reqwest::get(format!("{}{path}", app.base))
        .await
        .expect("ics");
    assert_eq!(feed.status(), StatusCode::OK);
    assert!(
        feed.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/calendar")
    );
    let ics = feed.text().await.expect("text");
    let calendar: icalendar::Calendar = ics.parse().expect("RFC 5545");
    let events: Vec<_> = calendar
        .components
        .iter()
        .filter_map(|c| c.as_event())
        .collect();
    assert_eq!(events.len(), 1);
    use icalendar::Component;
    assert_eq!(
        events[0].get_summary(),
        Some("Eiendomsskatt: <b>utsendelse</b>")
    );
    assert_eq!(
        events[0].property_value("RRULE"),
        Some("FREQ=YEARLY;BYMONTH=3;BYDAY=1MO")
    );
    // A new link ends the old.
    comm.post(format!("{url}/feed"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("again");
    let old = reqwest::get(format!("{}{path}", app.base))
        .await
        .expect("old");
    assert_eq!(old.status(), StatusCode::NOT_FOUND);
    let log = actions(&*app.store, tenant, "wheel.").await;
    assert_eq!(log.len(), 3, "added, two links: {log:?}");
}

#[tokio::test]
async fn the_annual_wheel_sqlite() {
    the_annual_wheel(&spawn().await).await;
}

/// Publishing, written once: a communication officer drafts (plain-language advice shown),
/// sends for approval, may not approve her own text (four eyes); the chief executive's
/// approval is held by the personal-data guard until confirmed; staff see it before the
/// public; a change after approval needs a new approval; at its time it is news on the
/// portal, with its own page and an Atom feed that a feed parser reads.
async fn publishing_with_approval(app: &App) {
    let tenant = tenant_of(app, &app.a.slug).await;
    add_user(
        &*app.store,
        tenant,
        "pub-skriver",
        Role::Communication,
        None,
    )
    .await;
    add_user(&*app.store, tenant, "pub-sjef", Role::ChiefExecutive, None).await;
    let writer = login(app, &app.a.slug, "pub-skriver").await;
    let chief = login(app, &app.a.slug, "pub-sjef").await;
    let list = format!("{}/staff/publish", app.base);
    let csrf = csrf_of(&writer, &list).await;
    let oslo = jiff::tz::TimeZone::get("Europe/Oslo").expect("tz");
    let local = |at: jiff::Timestamp| {
        at.to_zoned(oslo.clone())
            .strftime("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_mins(10);
    let draft = |title: &'static str, body: &'static str, at: String| {
        let (writer, list, csrf) = (writer.clone(), list.clone(), csrf.clone());
        async move {
            let res = writer
                .post(&list)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("title", title),
                    ("body", body),
                    ("publish_at", at.as_str()),
                ])
                .send()
                .await
                .expect("draft");
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            let to = res.headers()["location"].to_str().expect("to").to_string();
            between(&to, "/staff/publish/", "?")
                .expect("id")
                .parse::<i64>()
                .expect("id")
        }
    };
    // A picture is a public https address; anything else is refused with what to do, and
    // the text typed is kept.
    let res = writer
        .post(&list)
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Med bilde"),
            ("body", "Tekst som blir stående."),
            ("image_url", "http://intranett/bilde.jpg"),
            ("publish_at", local(soon).as_str()),
        ])
        .send()
        .await
        .expect("draft");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = res.text().await.expect("text");
    assert!(refused.contains("begynner med https://"), "what to do");
    assert!(
        refused.contains("Tekst som blir stående."),
        "the text is kept"
    );
    // Planned on an item of the annual wheel.
    let item = app
        .store
        .create_wheel_items(
            tenant,
            &[torg_store::NewWheelItem {
                title: "Beredskap vann".into(),
                description: String::new(),
                unit_id: None,
                responsible_user_id: None,
                target_group: String::new(),
                area: String::new(),
                mark: torg_domain::wheel::Mark::Reactive,
                recurrence: torg_domain::wheel::Recurrence::parse("2027-03-01", "none").expect("r"),
            }],
            None,
        )
        .await
        .expect("item")[0];
    let csrf_w = csrf_of(&writer, &list).await;
    let res = writer
        .post(&list)
        .form(&[
            ("csrf", csrf_w.as_str()),
            ("title", "Planlagt melding"),
            ("body", "Tekst."),
            ("publish_at", local(soon).as_str()),
            ("wheel_item", item.to_string().as_str()),
        ])
        .send()
        .await
        .expect("planned");
    let to = res.headers()["location"].to_str().expect("to").to_string();
    let planned = writer
        .get(format!("{}{to}", app.base))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(planned.contains("Planlagt i årshjulet") && planned.contains("Beredskap vann"));
    let wheel = writer
        .get(format!("{}/staff/wheel?year=2027&month=3", app.base))
        .send()
        .await
        .expect("wheel")
        .text()
        .await
        .expect("text");
    assert!(
        wheel.contains(">Planlagt melding</a>"),
        "the wheel lists the message planned on it"
    );
    let id = draft(
        "Kokevarsel for Fjordgata",
        "Vannet i Fjordgata skal kokes i henhold til råd fra Mattilsynet. Ring vakttelefonen 912 34 567 ved spørsmål.",
        local(soon),
    )
    .await;
    let page_url = format!("{list}/{id}");
    let read = |who: &reqwest::Client| {
        let (who, page_url) = (who.clone(), page_url.clone());
        async move {
            who.get(&page_url)
                .send()
                .await
                .expect("page")
                .text()
                .await
                .expect("text")
        }
    };
    let page = read(&writer).await;
    assert!(
        page.contains("skriv heller «etter»"),
        "plain-language advice on the message"
    );
    let step = |who: &reqwest::Client, what: &str, extra: Option<(&'static str, &'static str)>| {
        let who = who.clone();
        let url = format!("{page_url}/{what}");
        let list = list.clone();
        async move {
            let csrf = csrf_of(&who, &list).await;
            let mut form = vec![("csrf", csrf)];
            if let Some((k, v)) = extra {
                form.push((k, v.to_string()));
            }
            who.post(url).form(&form).send().await.expect("step")
        }
    };
    assert_eq!(
        step(&writer, "submit", None).await.status(),
        StatusCode::SEE_OTHER
    );
    // The publishing page: the month's calendar holds the message on its day, and the lists
    // say where each message is.
    let month = soon.to_zoned(oslo.clone()).strftime("%Y-%m").to_string();
    let calendar = writer
        .get(format!("{list}?month={month}"))
        .send()
        .await
        .expect("list")
        .text()
        .await
        .expect("text");
    let day = soon.to_zoned(oslo.clone()).day().to_string();
    let cell = between(
        &calendar,
        &format!("<span class=\"day\">{day}</span>"),
        "</td>",
    )
    .expect("the message's day in the calendar");
    assert!(
        cell.contains("Kokevarsel for Fjordgata") && cell.contains("Venter på godkjenning"),
        "{cell}"
    );
    assert!(
        between(
            &calendar,
            "<caption>Venter på godkjenning</caption>",
            "</table>"
        )
        .is_some_and(|t| t.contains("Kokevarsel for Fjordgata")),
        "listed as waiting for approval"
    );
    let own = step(&writer, "approve", None).await;
    assert_eq!(own.status(), StatusCode::UNPROCESSABLE_ENTITY, "four eyes");
    assert!(own.text().await.expect("text").contains("to par øyne"));
    // The phone number holds the approval until the chief executive confirms it.
    let held = step(&chief, "approve", None).await;
    assert_eq!(held.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        held.text()
            .await
            .expect("text")
            .contains("personopplysninger")
    );
    // The municipality has an approved Mastodon account: the approval offers it.
    let proposed = app
        .store
        .propose_channel_account(
            tenant,
            &torg_store::NewChannelAccount {
                channel: torg_domain::Channel::Mastodon,
                name: "Alfa kommune".into(),
                address: "https://social.example/@alfa".into(),
                owner_unit_id: None,
                purpose: "Nyheter".into(),
                ambition: torg_domain::registry::Ambition::Waiting,
                opening_hours: String::new(),
                proposed_by: None,
            },
            jiff::Timestamp::now(),
            None,
        )
        .await
        .expect("propose");
    app.store
        .decide_channel_account(
            tenant,
            proposed.id,
            torg_domain::registry::AccountStatus::Approved,
            UserId(1),
            jiff::Timestamp::now(),
            None,
        )
        .await
        .expect("approve account");
    app.store
        .set_social_account(
            &torg_store::SocialAccount {
                tenant_id: tenant,
                channel: torg_domain::Channel::Mastodon,
                account: "4711".into(),
                api_base: "https://social.example".into(),
                access_token: "sealed".into(),
                app_secret: String::new(),
                verify_token: String::new(),
                registry_address: "https://social.example/@alfa".into(),
                cursor: String::new(),
                approved: false,
            },
            None,
        )
        .await
        .expect("account");
    let offered = read(&chief).await;
    assert!(offered.contains("Også på Mastodon (https://social.example/@alfa)"));
    assert!(
        offered.contains("Slik blir innlegget på Mastodon")
            && offered.contains("av høyst 500 tegn"),
        "a preview of the post"
    );
    // The writer gives Mastodon a text of its own: too long is refused with the limit, a
    // fitting one is the post (the link follows), and the change needs a new approval.
    let edit = |variant: String| {
        let (writer, page_url, list) = (writer.clone(), page_url.clone(), list.clone());
        async move {
            let csrf = csrf_of(&writer, &list).await;
            writer
                .post(&page_url)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("title", "Kokevarsel for Fjordgata"),
                    ("body", "Vannet i Fjordgata skal kokes i henhold til råd fra Mattilsynet. Ring vakttelefonen 912 34 567 ved spørsmål."),
                    ("publish_at", local(soon).as_str()),
                    ("variant_mastodon", variant.as_str()),
                ])
                .send()
                .await
                .expect("edit")
        }
    };
    let long = edit("k".repeat(400)).await;
    assert_eq!(long.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        long.text()
            .await
            .expect("text")
            .contains("for lang for nettverket")
    );
    assert_eq!(
        edit("Kok vannet i Fjordgata!".into()).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        step(&writer, "submit", None).await.status(),
        StatusCode::SEE_OTHER
    );
    let offered = read(&chief).await;
    assert!(
        between(&offered, "preview-mastodon-h", "</section>")
            .is_some_and(|p| p.contains("Kok vannet i Fjordgata!\n\n") && p.contains("/news/")),
        "the own text, then the link"
    );
    let csrf = csrf_of(&chief, &list).await;
    let res = chief
        .post(format!("{page_url}/approve"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("confirm_personal_data", "on"),
            ("to_mastodon", "on"),
        ])
        .send()
        .await
        .expect("approve");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = read(&chief).await;
    assert!(
        page.contains("På andre kanaler") && page.contains("Mastodon:"),
        "its post, waiting"
    );
    let approved = actions(&*app.store, tenant, "publication.approved").await;
    assert!(approved[0].entry.detail.contains("personal-data:confirmed"));
    // Staff are told first; the public not yet.
    let inbox = writer
        .get(format!("{}/staff", app.base))
        .send()
        .await
        .expect("inbox")
        .text()
        .await
        .expect("text");
    assert!(
        inbox.contains("Til de ansatte først: «Kokevarsel for Fjordgata»"),
        "staff first"
    );
    let news_url = format!("{}/k/{}/news", app.base, app.a.slug);
    let news = reqwest::get(&news_url)
        .await
        .expect("news")
        .text()
        .await
        .expect("text");
    assert!(!news.contains("Kokevarsel"), "not public before its time");
    assert_eq!(
        reqwest::get(format!("{news_url}/{id}"))
            .await
            .expect("item")
            .status(),
        StatusCode::NOT_FOUND
    );
    // A change after approval: a draft again, to be approved again.
    let csrf = csrf_of(&writer, &list).await;
    let res = writer
        .post(&page_url)
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Kokevarsel for Fjordgata"),
            ("body", "Vannet i Fjordgata må kokes."),
            ("publish_at", local(soon).as_str()),
        ])
        .send()
        .await
        .expect("edit");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let p = app
        .store
        .publication(tenant, id)
        .await
        .expect("p")
        .expect("p");
    assert_eq!(p.state, torg_domain::publish::PubState::Draft);
    assert_eq!(p.approved_by, None);
    // A message whose time has come is news, with its page and the Atom feed.
    let now_id = draft(
        "Biblioteket holder åpent lenger",
        "Fra mandag er biblioteket åpent til klokken 20.\n\nVelkommen!",
        local(jiff::Timestamp::now() - jiff::SignedDuration::from_mins(1)),
    )
    .await;
    let now_url = format!("{list}/{now_id}");
    // A version in English, and one refused with a language that is no ISO code.
    let csrf = csrf_of(&writer, &list).await;
    let version = |language: &'static str| {
        writer
            .post(format!("{now_url}/version"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("language", language),
                ("title", "The library stays open longer"),
                (
                    "body",
                    "From Monday the library is open until 8 pm.\n\nWelcome!",
                ),
            ])
            .send()
    };
    let refused = version("english").await.expect("version");
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.text().await.expect("text").contains("ISO-koden"));
    assert_eq!(
        version("en").await.expect("version").status(),
        StatusCode::SEE_OTHER
    );
    let csrf = csrf_of(&writer, &list).await;
    writer
        .post(format!("{now_url}/submit"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("submit");
    let csrf = csrf_of(&chief, &list).await;
    let res = chief
        .post(format!("{now_url}/approve"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("approve");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let news = reqwest::get(&news_url)
        .await
        .expect("news")
        .text()
        .await
        .expect("text");
    assert!(news.contains("Biblioteket holder åpent lenger") && !news.contains("Kokevarsel"));
    let item = reqwest::get(format!("{news_url}/{now_id}"))
        .await
        .expect("item");
    assert_eq!(item.status(), StatusCode::OK);
    assert!(
        item.text()
            .await
            .expect("text")
            .contains("<p>Velkommen!</p>"),
        "paragraphs"
    );
    // An English reader gets the English version; anyone may ask for the other.
    let in_english = |query: &'static str| {
        let url = format!("{news_url}/{now_id}{query}");
        async move {
            reqwest::Client::new()
                .get(url)
                .header("accept-language", "en")
                .send()
                .await
                .expect("item")
                .text()
                .await
                .expect("text")
        }
    };
    let english = in_english("").await;
    assert!(
        english.contains("<article lang=\"en\">") && english.contains("<p>Welcome!</p>"),
        "the reader's language"
    );
    assert!(english.contains("?version=nb\" hreflang=\"nb\" lang=\"nb\">norsk bokmål</a>"));
    assert!(
        in_english("?version=nb")
            .await
            .contains("<p>Velkommen!</p>"),
        "the original asked for"
    );
    let feed = reqwest::get(format!("{news_url}.atom"))
        .await
        .expect("feed");
    assert_eq!(
        feed.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let parsed = feed_rs::parser::parse(feed.bytes().await.expect("bytes").as_ref()).expect("Atom");
    assert_eq!(parsed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(parsed.entries.len(), 1);
    assert_eq!(
        parsed.entries[0].title.as_ref().map(|t| t.content.as_str()),
        Some("Biblioteket holder åpent lenger")
    );
    // The news are searched by word forms ("bibliotekets" finds "Biblioteket").
    for (words, found) in [("bibliotekets", true), ("fjellklatring", false)] {
        let page = reqwest::get(format!("{news_url}?q={words}"))
            .await
            .expect("news")
            .text()
            .await
            .expect("text");
        assert_eq!(page.contains("Biblioteket holder"), found, "{words}");
    }
    // A press release: on the press page, not among the news.
    let csrf = csrf_of(&writer, &list).await;
    let res = writer
        .post(&list)
        .form(&[
            ("csrf", csrf.as_str()),
            ("title", "Ny rektor ved Fjordgata skole"),
            ("body", "Kommunen har ansatt ny rektor."),
            ("kind", "press"),
            (
                "publish_at",
                local(jiff::Timestamp::now() - jiff::SignedDuration::from_mins(1)).as_str(),
            ),
        ])
        .send()
        .await
        .expect("press release");
    let to = res.headers()["location"].to_str().expect("to").to_string();
    let release_url = format!("{}{}", app.base, to.split('?').next().expect("path"));
    // A journalist joins the press list on the portal's press page, and confirms.
    let press_url = format!("{}/k/{}/press", app.base, app.a.slug);
    let journalist = client();
    let page = journalist
        .get(&press_url)
        .send()
        .await
        .expect("press page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("/press/subscribe"), "the press list's form");
    let joined = journalist
        .post(format!("{press_url}/subscribe"))
        .form(&[("email", "Desk@Lokalavisa.example")])
        .send()
        .await
        .expect("join");
    assert_eq!(joined.status(), StatusCode::OK);
    let bad = journalist
        .post(format!("{press_url}/subscribe"))
        .form(&[("email", "ikke en adresse")])
        .send()
        .await
        .expect("join");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let desk = app
        .store
        .subscriber(
            tenant,
            torg_domain::subscription::Medium::Press,
            "desk@lokalavisa.example",
        )
        .await
        .expect("read")
        .expect("pending");
    let desk_page = format!("{}/k/{}/subscription/{}", app.base, app.a.slug, desk.token);
    let res = journalist
        .post(format!("{desk_page}/confirm"))
        .send()
        .await
        .expect("confirm");
    let confirmed = res.text().await.expect("text");
    assert!(
        confirmed.contains("Presseliste (e-post)") && !confirmed.contains("name=\"topic\""),
        "the press list has no topics to choose: {confirmed}"
    );
    let csrf = csrf_of(&writer, &list).await;
    writer
        .post(format!("{release_url}/submit"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("submit");
    let approving = chief
        .get(&release_url)
        .send()
        .await
        .expect("release")
        .text()
        .await
        .expect("text");
    assert!(
        approving.contains("Send til presselisten på e-post (1 mottakere)"),
        "{approving}"
    );
    let csrf = csrf_of(&chief, &list).await;
    let res = chief
        .post(format!("{release_url}/approve"))
        .form(&[("csrf", csrf.as_str()), ("to_press_list", "on")])
        .send()
        .await
        .expect("approve");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let queued = app
        .store
        .claim_outbox(
            torg_domain::Channel::Email,
            jiff::Timestamp::now(),
            jiff::SignedDuration::from_mins(1),
            1000,
        )
        .await
        .expect("outbox");
    let to_desk: Vec<_> = queued
        .iter()
        .filter(|q| q.recipient == "desk@lokalavisa.example" && q.unsubscribe.is_some())
        .collect();
    assert_eq!(to_desk.len(), 1, "the press release, once: {to_desk:?}");
    assert_eq!(to_desk[0].subject, "Ny rektor ved Fjordgata skole");
    assert!(
        to_desk[0].body.contains("presseliste"),
        "{}",
        to_desk[0].body
    );
    assert_eq!(
        to_desk[0].unsubscribe.as_deref(),
        Some(format!("{desk_page}/unsubscribe").as_str())
    );
    let press = reqwest::get(format!("{}/k/{}/press", app.base, app.a.slug))
        .await
        .expect("press")
        .text()
        .await
        .expect("text");
    assert!(
        press.contains("Ny rektor ved Fjordgata skole"),
        "on the press page"
    );
    let news = reqwest::get(&news_url)
        .await
        .expect("news")
        .text()
        .await
        .expect("text");
    assert!(!news.contains("Ny rektor"), "not among the news");
    // Withdrawn: gone from the news.
    let csrf = csrf_of(&chief, &list).await;
    chief
        .post(format!("{now_url}/withdraw"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("withdraw");
    let news = reqwest::get(&news_url)
        .await
        .expect("news")
        .text()
        .await
        .expect("text");
    assert!(!news.contains("Biblioteket holder"), "withdrawn");
    // The press: the writer flags an inquiry as a possible press story; the chief executive
    // sees it on the inbox and in the media log, and logs a call from a journalist.
    let desk = app
        .store
        .list_units(tenant)
        .await
        .expect("units")
        .into_iter()
        .find(|u| u.is_service_desk)
        .expect("the service desk")
        .id;
    let (inquiry, _, _) =
        stored_inquiry(&*app.store, tenant, desk, torg_domain::Channel::Web).await;
    let csrf = csrf_of(&writer, &list).await;
    let flagged = writer
        .post(format!("{}/staff/inquiries/{inquiry}/press", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("why", "Tre naboer har vann i kjelleren"),
        ])
        .send()
        .await
        .expect("flag");
    assert_eq!(flagged.status(), StatusCode::SEE_OTHER);
    let inbox = chief
        .get(format!("{}/staff", app.base))
        .send()
        .await
        .expect("inbox")
        .text()
        .await
        .expect("text");
    assert!(
        between(&inbox, "Mulige mediesaker", "</section>")
            .is_some_and(|s| s.contains("Tre naboer har vann i kjelleren")
                && s.contains(&format!("/staff/inquiries/{inquiry}"))),
        "the chief executive is told"
    );
    let csrf = csrf_of(&chief, &list).await;
    let logged = chief
        .post(format!("{}/staff/press", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("at", "2026-12-01T10:15"),
            ("outlet", "Lokalavisa"),
            ("person", "Kari Journalist"),
            ("topic", "Vannlekkasjen i Fjordgata"),
            ("notes", "Svarte at vi undersøker."),
        ])
        .send()
        .await
        .expect("log");
    assert_eq!(logged.status(), StatusCode::SEE_OTHER);
    let media_log = chief
        .get(format!("{}/staff/press", app.base))
        .send()
        .await
        .expect("log")
        .text()
        .await
        .expect("text");
    assert!(
        media_log.contains("Mulig mediesak")
            && media_log.contains("Lokalavisa, Kari Journalist")
            && media_log.contains("Vannlekkasjen i Fjordgata"),
        "the media log"
    );
    assert!(
        actions(&*app.store, tenant, "press.story_flagged")
            .await
            .iter()
            .any(|e| e.entry.object == format!("inquiry:{inquiry}")),
        "the flag is in the audit log"
    );
    assert!(
        actions(&*app.store, tenant, "press.contact_logged")
            .await
            .iter()
            .any(|e| e.entry.detail == "Vannlekkasjen i Fjordgata"),
        "the contact is in the audit log"
    );
}

#[tokio::test]
async fn publishing_with_approval_sqlite() {
    publishing_with_approval(&spawn().await).await;
}

// ------------------------------------------------------------------ subscriptions and crises

/// A citizen subscribes on the portal and confirms; the communication staff declare a crisis
/// for the citizen's area: the banner is on the portal (escaped), the CAP alert validates
/// against OASIS's schema, the subscriber's alert is queued, an inquiry about it is proposed,
/// linked and answered with the status, an update reaches it too; one-click unsubscribing
/// ends the subscription; the end takes the banner down.
async fn subscribing_and_a_crisis_on_the_portal(app: &App) {
    let tenant = tenant_of(app, &app.a.slug).await;
    let store = &*app.store;
    add_user(store, tenant, "krise-komm", Role::Communication, None).await;
    let area = store
        .put_area(
            tenant,
            &torg_store::Area {
                id: 0,
                name: "Sentrum".into(),
                polygon: vec![(10.8, 59.7), (10.9, 59.7), (10.9, 59.8), (10.8, 59.7)],
                postcodes: vec!["1400".into()],
            },
            None,
        )
        .await
        .expect("area");
    store
        .put_topic(
            tenant,
            &torg_store::Topic {
                key: "vann".into(),
                name: "Vann og avløp".into(),
            },
            None,
        )
        .await
        .expect("topic");
    let slug = &app.a.slug;
    let c = client();
    let page = c
        .get(format!("{}/k/{slug}/subscribe", app.base))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("Vann og avløp") && page.contains("Sentrum"),
        "{page}"
    );
    let res = c
        .post(format!("{}/k/{slug}/subscribe", app.base))
        .form(&[
            ("email", "innbygger.krise@example.no"),
            ("topic", "vann"),
            ("area", &area.id.to_string()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.text()
            .await
            .expect("text")
            .contains("Vi har sendt en e-post")
    );
    let bad = c
        .post(format!("{}/k/{slug}/subscribe", app.base))
        .form(&[("email", "ikke en adresse")])
        .send()
        .await
        .expect("post");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let s = store
        .subscriber(
            tenant,
            torg_domain::subscription::Medium::Email,
            "innbygger.krise@example.no",
        )
        .await
        .expect("read")
        .expect("pending");
    assert!(s.confirmed_at.is_none());
    let link = format!("{}/k/{slug}/subscription/{}", app.base, s.token);
    let page = c
        .get(format!("{link}/confirm"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("id=\"confirm\""),
        "a button, not a GET that confirms"
    );
    assert!(
        store
            .subscriber_by_token(&s.token)
            .await
            .expect("read")
            .expect("s")
            .confirmed_at
            .is_none()
    );
    let confirmed = c
        .post(format!("{link}/confirm"))
        .send()
        .await
        .expect("post");
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert!(
        confirmed
            .text()
            .await
            .expect("text")
            .contains("Abonnementet er bekreftet")
    );
    // Another municipality's address does not open it.
    let other = c
        .get(format!(
            "{}/k/{}/subscription/{}",
            app.base, app.b.slug, s.token
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(other.status(), StatusCode::NOT_FOUND);

    // The communication staff declare a crisis for Sentrum.
    let staff = login(app, slug, "krise-komm").await;
    let csrf = csrf_of(&staff, &format!("{}/staff/crisis", app.base)).await;
    let res = staff
        .post(format!("{}/staff/crisis", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("template", "water"),
            ("area", &area.id.to_string()),
            ("text", "E. coli <script>alert(1)</script> i nettet."),
        ])
        .send()
        .await
        .expect("declare");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let room = res.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    let crisis_id: i64 = between(&room, "/staff/crisis/", "?")
        .expect("id")
        .parse()
        .expect("number");
    let portal = c
        .get(format!("{}/k/{slug}", app.base))
        .send()
        .await
        .expect("portal")
        .text()
        .await
        .expect("text");
    assert!(portal.contains("class=\"crisis-banner\""), "{portal}");
    assert!(portal.contains("Kok drikkevannet"));
    assert!(
        portal.contains("E. coli") && !portal.contains("<script>alert"),
        "shown, not run"
    );
    let other = c
        .get(format!("{}/k/{}", app.base, app.b.slug))
        .send()
        .await
        .expect("portal")
        .text()
        .await
        .expect("text");
    assert!(
        !other.contains("crisis-banner"),
        "only the municipality's own portal"
    );
    let messages = store
        .crisis_messages(tenant, crisis_id)
        .await
        .expect("messages");
    assert_eq!(
        messages[0].recipients, 1,
        "the confirmed subscriber of Sentrum"
    );
    let chat = c
        .get(format!("{}/chat/{slug}", app.base))
        .send()
        .await
        .expect("chat")
        .text()
        .await
        .expect("text");
    assert!(
        chat.contains("class=\"crisis-banner\""),
        "the chat widget shows it too"
    );
    // The CAP feed links the alert, which validates against the OASIS schema.
    let feed = c
        .get(format!("{}/k/{slug}/cap.atom", app.base))
        .send()
        .await
        .expect("feed")
        .text()
        .await
        .expect("text");
    let xml_link = format!("/k/{slug}/cap/{}.xml", messages[0].id);
    assert!(feed.contains(&xml_link), "{feed}");
    let res = c
        .get(format!("{}{xml_link}", app.base))
        .send()
        .await
        .expect("cap");
    assert_eq!(
        res.headers()["content-type"],
        "application/cap+xml; charset=utf-8"
    );
    let cap = res.text().await.expect("text");
    assert!(
        cap.contains("<polygon>59.7,10.8 59.7,10.9 59.8,10.9 59.7,10.8</polygon>"),
        "{cap}"
    );
    validate_cap(&cap);

    // An inquiry about it is proposed, linked and answered with the status.
    let (status, _) = submit_form(
        app,
        slug,
        "Per Spør",
        "per.spor@example.no",
        "Kan vi drikke vannet i Sentrum nå?",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let page = staff
        .get(format!("{}/staff/crisis/{crisis_id}", app.base))
        .send()
        .await
        .expect("room")
        .text()
        .await
        .expect("text");
    let proposed: InquiryId = between(&page, "name=\"inquiry\" value=\"", "\"")
        .expect("a proposal")
        .parse()
        .expect("id");
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"")
        .expect("csrf")
        .to_string();
    let res = staff
        .post(format!("{}/staff/crisis/{crisis_id}/link", app.base))
        .form(&[("csrf", csrf.as_str()), ("inquiry", &proposed.to_string())])
        .send()
        .await
        .expect("link");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let inbox = staff
        .get(format!("{}/staff", app.base))
        .send()
        .await
        .expect("inbox")
        .text()
        .await
        .expect("text");
    assert!(
        inbox.contains("1 henvendelser er knyttet til krisen") && inbox.contains("crisis-badge"),
        "the inbox points to the crisis's inquiries and marks them"
    );
    let res = staff
        .post(format!("{}/staff/crisis/{crisis_id}/answer", app.base))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("answer");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let thread = store
        .messages(tenant, proposed, false)
        .await
        .expect("thread");
    assert!(
        thread
            .iter()
            .any(|m| m.kind == torg_domain::MessageKind::Outbound && m.body.contains("Kok vannet")),
        "answered with the status"
    );
    let res = staff
        .post(format!("{}/staff/crisis/{crisis_id}/update", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("text", "Tankbil ved skolen fra kl. 20."),
        ])
        .send()
        .await
        .expect("update");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let thread = store
        .messages(tenant, proposed, false)
        .await
        .expect("thread");
    assert!(
        thread.iter().any(|m| m.body.contains("Tankbil ved skolen")),
        "the update too"
    );
    let messages = store
        .crisis_messages(tenant, crisis_id)
        .await
        .expect("messages");
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].recipients, 1);

    // One click in the mail program ends the subscription (RFC 8058).
    let res = client()
        .post(format!("{link}/unsubscribe"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("one click");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        store
            .subscriber_by_token(&s.token)
            .await
            .expect("read")
            .is_none()
    );
    let gone = c.get(&link).send().await.expect("get");
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // The end takes the banner down; the log has every step.
    let res = staff
        .post(format!("{}/staff/crisis/{crisis_id}/end", app.base))
        .form(&[("csrf", csrf.as_str()), ("text", "Vannet er trygt igjen.")])
        .send()
        .await
        .expect("end");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let portal = c
        .get(format!("{}/k/{slug}", app.base))
        .send()
        .await
        .expect("portal")
        .text()
        .await
        .expect("text");
    assert!(!portal.contains("crisis-banner"));
    let log = store.crisis_log(tenant, crisis_id).await.expect("log");
    let kinds: Vec<&str> = log.iter().map(|l| l.text.as_str()).collect();
    assert!(kinds.iter().any(|t| t.starts_with("Alert")), "{kinds:?}");
    assert!(kinds.iter().any(|t| t.contains("linked")), "{kinds:?}");
    assert!(kinds.iter().any(|t| t.starts_with("Cancel")), "{kinds:?}");
    let export = staff
        .get(format!("{}/staff/crisis/{crisis_id}/log.txt", app.base))
        .send()
        .await
        .expect("export")
        .text()
        .await
        .expect("text");
    assert!(
        export.contains("Cancel") && export.lines().count() >= 5,
        "{export}"
    );
}

/// Validates a CAP alert against OASIS's CAP 1.2 schema with xmllint.
fn validate_cap(xml: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("alert.xml");
    std::fs::write(&file, xml).expect("write");
    // OASIS's schema, carried (tests/schemas/LICENSE-NOTE.txt).
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/schemas/CAP-v1.2.xsd");
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--schema", schema])
        .arg(&file)
        .output()
        .expect("xmllint must be installed (Debian package libxml2-utils; .ci/run installs it)");
    assert!(
        out.status.success(),
        "the CAP alert is valid: {}\n{xml}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn subscribing_and_a_crisis_on_the_portal_sqlite() {
    subscribing_and_a_crisis_on_the_portal(&spawn().await).await;
}

/// Evaluation end to end: a web inquiry closed gets its question on the follow page, an SMS
/// inquiry's question goes by SMS with a link of its own; both are answered once; the
/// evaluation page shows the year with the answers and the comment (escaped), every table
/// downloads as CSV, the settings publish two tables, and the portal shows only those, also
/// as JSON and CSV with the licence.
async fn evaluation_and_the_survey(app: &App) {
    use torg_domain::Channel;
    let tenant = tenant_of(app, &app.a.slug).await;
    let store = &*app.store;
    add_user(store, tenant, "eval-komm", Role::Communication, None).await;
    add_user(store, tenant, "eval-handler", Role::CaseHandler, None).await;
    let slug = &app.a.slug;
    let unit = store.list_units(tenant).await.expect("units")[0].id;
    let (web, web_token, _) =
        stored_inquiry_from(store, tenant, unit, Channel::Web, None, None).await;
    let (sms, _, _) =
        stored_inquiry_from(store, tenant, unit, Channel::Sms, None, Some("+4791234567")).await;
    // A number that said STOPP is not asked.
    let (stopped, _, _) =
        stored_inquiry_from(store, tenant, unit, Channel::Sms, None, Some("+4798765432")).await;
    store
        .set_sms_consent(tenant, "+4798765432", true, jiff::Timestamp::now())
        .await
        .expect("stopp");
    let now = jiff::Timestamp::now();
    for id in [web, sms, stopped] {
        torg_core::casework::set_status(
            store,
            &torg_core::actor::Actor::system("test"),
            tenant,
            id,
            torg_domain::InquiryStatus::Closed,
            now,
        )
        .await
        .expect("close");
    }
    // The follow page asks at once; a bad score is refused with the reason.
    let c = client();
    let follow = format!("{}/k/{slug}/follow/{web_token}", app.base);
    let page = c
        .get(&follow)
        .send()
        .await
        .expect("follow")
        .text()
        .await
        .expect("text");
    assert!(
        page.contains("Hvor fornøyd er du?") && page.contains("name=\"score\""),
        "{page}"
    );
    let bad = c
        .post(format!("{follow}/survey"))
        .form(&[("score", "9")])
        .send()
        .await
        .expect("post");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.text()
            .await
            .expect("text")
            .contains("Velg et tall fra 1 til 5")
    );
    let ok = c
        .post(format!("{follow}/survey"))
        .form(&[
            ("score", "5"),
            ("comment", "<script>alert(1)</script> Flott!"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let page = c
        .get(&follow)
        .send()
        .await
        .expect("follow")
        .text()
        .await
        .expect("text");
    assert!(page.contains("Takk for svaret") && !page.contains("name=\"score\""));

    // The SMS question goes after the delay, once, with a link of its own.
    let surveys = torg_core::evaluation::Surveys {
        catalog: Arc::new(torg_http::Catalog::load(None).expect("catalog")),
        base_url: app.base.clone(),
    };
    let later = now + torg_domain::evaluation::SURVEY_DELAY + jiff::SignedDuration::from_secs(1);
    assert_eq!(
        torg_core::evaluation::send_due_surveys(store, &surveys, now)
            .await
            .expect("not yet"),
        0
    );
    assert!(
        torg_core::evaluation::send_due_surveys(store, &surveys, later)
            .await
            .expect("send")
            >= 1
    );
    assert_eq!(
        torg_core::evaluation::send_due_surveys(store, &surveys, later)
            .await
            .expect("again"),
        0
    );
    let sent = store
        .claim_outbox(
            Channel::Sms,
            later,
            jiff::SignedDuration::from_secs(60),
            500,
        )
        .await
        .expect("outbox");
    let question = sent
        .iter()
        .find(|o| o.tenant_id == tenant && o.inquiry_id == Some(sms))
        .expect("the SMS question");
    assert_eq!(question.recipient, "+4791234567");
    assert!(
        !sent.iter().any(|o| o.inquiry_id == Some(stopped)),
        "no question to a number that said STOPP"
    );
    let link = question
        .body
        .split_whitespace()
        .find(|w| w.contains("/survey/"))
        .expect("link")
        .to_string();
    let form_page = c.get(&link).send().await.expect("survey");
    assert_eq!(form_page.status(), StatusCode::OK);
    assert!(
        form_page
            .text()
            .await
            .expect("text")
            .contains("Hvor fornøyd er du med")
    );
    let answered = c
        .post(&link)
        .form(&[("score", "2"), ("comment", "Tok for lang tid")])
        .send()
        .await
        .expect("answer");
    assert_eq!(answered.status(), StatusCode::OK);
    assert!(
        answered
            .text()
            .await
            .expect("text")
            .contains("Takk for svaret")
    );
    let twice = c
        .post(&link)
        .form(&[("score", "1")])
        .send()
        .await
        .expect("again");
    assert_eq!(twice.status(), StatusCode::CONFLICT);

    // The evaluation page: pictures, tables and the comments, escaped.
    let staff = login(app, slug, "eval-komm").await;
    let page = staff
        .get(format!("{}/staff/evaluation", app.base))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.expect("text");
    for part in [
        "<svg role=\"img\"",
        "Henvendelser per kanal",
        "Henvendelser per time i uka",
        "Tilfredshet etter avsluttet sak",
        "Kanalvridning",
        "Tok for lang tid",
        "&#60;script&#62;alert(1)",
    ] {
        assert!(page.contains(part), "{part} in {page}");
    }
    assert!(!page.contains("<script>alert"));
    let csv = staff
        .get(format!("{}/staff/evaluation/satisfaction.csv", app.base))
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .expect("header")
            .starts_with("text/csv")
    );
    let csv = csv.text().await.expect("text");
    assert!(csv.starts_with("score,answers,answers_before\n"), "{csv}");
    assert!(
        csv.contains("\n5,1,0\n") && csv.contains("\n2,1,0\n"),
        "{csv}"
    );
    // (On PostgreSQL other scenarios' closed inquiries were asked too.)
    assert!(csv.contains("\nresponse_rate_percent,"), "{csv}");
    // Reach has what the networks said of each post beside the portal's readings.
    let reach = staff
        .get(format!("{}/staff/evaluation/reach.csv", app.base))
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("text");
    assert!(
        reach.starts_with("title,published,portal_views,sent_to,reactions,comments,shares\n"),
        "{reach}"
    );
    let bad_period = staff
        .get(format!(
            "{}/staff/evaluation?from=2026-12-01&to=2026-01-01",
            app.base
        ))
        .send()
        .await
        .expect("bad");
    assert_eq!(bad_period.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A case handler does not see the evaluation.
    let handler = login(app, slug, "eval-handler").await;
    let refused = handler
        .get(format!("{}/staff/evaluation", app.base))
        .send()
        .await
        .expect("refused");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);

    // Nothing is public until chosen.
    let json: Value = c
        .get(format!("{}/k/{slug}/statistics.json", app.base))
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("json");
    assert_eq!(json["tables"], json!({}));
    let form_url = format!("{}/staff/evaluation", app.base);
    let csrf = csrf_of(&staff, &form_url).await;
    let bad = staff
        .post(format!("{}/staff/evaluation/settings", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("cost-phone", "mange"),
            ("licence", "NLOD-2.0"),
        ])
        .send()
        .await
        .expect("bad");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let saved = staff
        .post(format!("{}/staff/evaluation/settings", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("cost-phone", "45"),
            ("publish", "channels"),
            ("publish", "satisfaction"),
            ("licence", "CC-BY-4.0"),
            ("surveys", "on"),
        ])
        .send()
        .await
        .expect("save");
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(actions(store, tenant, "evaluation.settings").await.len(), 1);
    let public = c
        .get(format!("{}/k/{slug}/statistics", app.base))
        .send()
        .await
        .expect("public")
        .text()
        .await
        .expect("text");
    assert!(public.contains("Henvendelser per kanal") && public.contains("CC-BY-4.0"));
    assert!(
        !public.contains("Henvendelser per enhet"),
        "units were not published"
    );
    assert!(
        !public.contains("Tok for lang tid"),
        "comments are never public"
    );
    let json: Value = c
        .get(format!("{}/k/{slug}/statistics.json", app.base))
        .send()
        .await
        .expect("json")
        .json()
        .await
        .expect("json");
    assert_eq!(json["licence"]["id"], "CC-BY-4.0");
    assert!(
        json["tables"]["channels"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
    );
    assert!(json["tables"].get("units").is_none());
    let sat = json["tables"]["satisfaction"]
        .as_array()
        .expect("satisfaction");
    assert!(
        sat.iter().any(|r| r["score"] == 5 && r["answers"] == 1),
        "{sat:?}"
    );
    let open_csv = c
        .get(format!("{}/k/{slug}/statistics/channels.csv", app.base))
        .send()
        .await
        .expect("csv");
    assert_eq!(open_csv.status(), StatusCode::OK);
    assert!(
        open_csv
            .text()
            .await
            .expect("text")
            .starts_with("channel,inquiries,")
    );
    // Anyone may ask the portal, so a period there is at most a year.
    let long = c
        .get(format!(
            "{}/k/{slug}/statistics?from=2020-01-01&to=2026-01-01",
            app.base
        ))
        .send()
        .await
        .expect("long");
    assert_eq!(long.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let hidden = c
        .get(format!("{}/k/{slug}/statistics/units.csv", app.base))
        .send()
        .await
        .expect("csv");
    assert_eq!(hidden.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn evaluation_and_the_survey_sqlite() {
    evaluation_and_the_survey(&spawn().await).await;
}

/// Listening end to end: a source and keywords set on the page (refused with the reason
/// when wrong), a feed read by the real reader, the match on the page with its words marked
/// and on the inbox, an email to who speaks for the municipality, then made an inquiry of
/// the listening channel and another dismissed; a second click is told it was handled.
async fn listening_on_the_staff_page(app: &App) {
    let tenant = tenant_of(app, &app.a.slug).await;
    let store = &*app.store;
    let hash = torg_core::secrets::hash_password(PASSWORD).expect("hash");
    store
        .create_user(
            tenant,
            NewUser {
                email: Some("lytter@alfa.kommune.no".into()),
                username: "lytt-komm".into(),
                full_name: "Liv Lytter".into(),
                password_hash: hash,
                password_set_by: None,
                role: Role::Communication,
                unit_id: None,
            },
            None,
        )
        .await
        .expect("user");
    store
        .set_mail_account(tenant, Some(unreachable_mail_account()), None)
        .await
        .expect("mail");
    // A local paper's feed.
    let feed = axum::Router::new().route(
        "/rss",
        axum::routing::get(|| async {
            (
                [("content-type", "application/rss+xml")],
                "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Alfa-avisa</title>\
                 <link>https://avisa.example/</link><description>x</description>\
                 <item><title>Sterk gasslukta ved skolen</title><link>https://avisa.example/gass</link>\
                 <guid>gass-1</guid><description>Brannvesenet er varslet.</description></item>\
                 <item><title>Gasslukt igjen?</title><link>javascript:alert(1)</link>\
                 <guid>gass-2</guid><description>&lt;script&gt;alert(1)&lt;/script&gt;</description></item>\
                 </channel></rss>",
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let feed_url = format!("http://{}/rss", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, feed).await });

    let slug = &app.a.slug;
    let staff = login(app, slug, "lytt-komm").await;
    let page_url = format!("{}/staff/listening", app.base);
    let csrf = csrf_of(&staff, &page_url).await;
    let bad = staff
        .post(format!("{}/staff/listening/sources", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("kind", "feed"),
            ("name", "Avisa"),
            ("address", "ftp://avisa.example/rss"),
        ])
        .send()
        .await
        .expect("bad");
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().await.expect("text").contains("https://"));
    let added = staff
        .post(format!("{}/staff/listening/sources", app.base))
        .form(&[
            ("csrf", csrf.as_str()),
            ("kind", "feed"),
            ("name", "Alfa-avisa"),
            ("address", feed_url.as_str()),
        ])
        .send()
        .await
        .expect("add");
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    // A Mastodon search: words are needed; it is kept with them, and shown by its kind.
    for (words, status) in [
        ("  ", StatusCode::UNPROCESSABLE_ENTITY),
        ("gasslukt Alfa", StatusCode::SEE_OTHER),
    ] {
        let res = staff
            .post(format!("{}/staff/listening/sources", app.base))
            .form(&[
                ("csrf", csrf.as_str()),
                ("kind", "mastodon-search"),
                ("name", "Gass på Mastodon"),
                ("address", "https://social.example"),
                ("tag", words),
            ])
            .send()
            .await
            .expect("search source");
        assert_eq!(res.status(), status, "{words:?}");
        if status != StatusCode::SEE_OTHER {
            assert!(
                res.text()
                    .await
                    .expect("text")
                    .contains("Et søk er 1 til 100 tegn")
            );
        }
    }
    let listed = staff.get(&page_url).send().await.expect("page");
    let listed = listed.text().await.expect("text");
    assert!(
        listed.contains("Søk på Mastodon")
            && listed.contains("https://social.example#gasslukt Alfa"),
        "the search is listed"
    );
    let saved = staff
        .post(format!("{}/staff/listening/keywords", app.base))
        .form(&[("csrf", csrf.as_str()), ("keywords", "gasslukt\nflom")])
        .send()
        .await
        .expect("keywords");
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        store.listening_keywords(tenant).await.expect("kw"),
        vec!["flom".to_string(), "gasslukt".to_string()]
    );
    // The reader's pass (as `torg serve` runs it every ten seconds).
    let notify = torg_core::listening::Notify {
        catalog: Arc::new(torg_http::Catalog::load(None).expect("catalog")),
        base_url: app.base.clone(),
    };
    let now = jiff::Timestamp::now();
    let (_, found) = torg_social::listen::pass(
        store,
        &client(),
        &torg_domain::connector::HostRules::any(),
        &[],
        &notify,
        now,
    )
    .await
    .expect("pass");
    assert_eq!(found, 2);
    let mails = store
        .claim_outbox(
            torg_domain::Channel::Email,
            now,
            jiff::SignedDuration::from_secs(60),
            1000,
        )
        .await
        .expect("outbox");
    let ours: Vec<_> = mails
        .iter()
        .filter(|m| m.recipient == "lytter@alfa.kommune.no")
        .collect();
    assert_eq!(ours.len(), 2, "one email per match");
    assert!(
        ours.iter()
            .any(|m| m.subject.contains("Sterk gasslukta ved skolen"))
    );
    let inbox = staff
        .get(format!("{}/staff", app.base))
        .send()
        .await
        .expect("inbox")
        .text()
        .await
        .expect("text");
    assert!(inbox.contains("Nye treff fra lyttingen: 2"), "{inbox}");
    let page = staff
        .get(&page_url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("<mark>gasslukta</mark>"), "{page}");
    assert!(page.contains("href=\"https://avisa.example/gass\""));
    assert!(
        !page.contains("javascript:alert"),
        "only http(s) links are links"
    );
    assert!(
        !page.contains("<script>alert"),
        "feed text is shown, never run"
    );
    let matches = store
        .listening_matches(tenant, Some(torg_domain::listening::MatchState::New), 10)
        .await
        .expect("matches");
    let gas = matches
        .iter()
        .find(|m| m.item.guid == "gass-1")
        .expect("gas")
        .id;
    let other = matches
        .iter()
        .find(|m| m.item.guid == "gass-2")
        .expect("other")
        .id;
    let made = staff
        .post(format!("{}/staff/listening/matches/{gas}", app.base))
        .form(&[("csrf", csrf.as_str()), ("action", "inquiry")])
        .send()
        .await
        .expect("inquiry");
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    let to = made.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(to.starts_with("/staff/inquiries/"), "{to}");
    let inquiry = staff
        .get(format!("{}{to}", app.base))
        .send()
        .await
        .expect("inquiry")
        .text()
        .await
        .expect("text");
    assert!(inquiry.contains("Sterk gasslukta ved skolen") && inquiry.contains("Lytting"));
    let again = staff
        .post(format!("{}/staff/listening/matches/{gas}", app.base))
        .form(&[("csrf", csrf.as_str()), ("action", "inquiry")])
        .send()
        .await
        .expect("again");
    assert_eq!(
        again.headers()["location"],
        "/staff/listening?done=listening-already"
    );
    // The other is linked to the crisis going on: a line in its log, written with the
    // decision; a crisis that has ended takes none.
    let m = store
        .municipality_by_slug(slug)
        .await
        .expect("m")
        .expect("m");
    let t = torg_i18n::Tr::new(
        Arc::new(torg_http::Catalog::load(None).expect("catalog")),
        "nb",
    );
    let system = torg_core::actor::Actor::system("test");
    let lead = torg_core::crisis::Lead {
        actor: &system,
        user: None,
        chat: &torg_core::reply::NoLiveChat,
        limits: Default::default(),
        base: &app.base,
    };
    let declaration = torg_core::crisis::Declaration {
        template: "gas".into(),
        ..Default::default()
    };
    let mut crises = vec![];
    for _ in 0..2 {
        let (crisis, _) = torg_core::crisis::start(store, &t, &m, &lead, &declaration)
            .await
            .expect("crisis");
        crises.push(crisis.id);
    }
    torg_core::crisis::update(
        store,
        &t,
        &m,
        &lead,
        crises[0],
        torg_core::crisis::Status {
            text: "Over.",
            end: true,
            publish: false,
        },
    )
    .await
    .expect("end");
    let link = |crisis: i64| {
        let (staff, csrf) = (&staff, csrf.clone());
        async move {
            staff
                .post(format!("{}/staff/listening/matches/{other}", app.base))
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("action", "crisis"),
                    ("crisis", &crisis.to_string()),
                ])
                .send()
                .await
                .expect("link")
        }
    };
    assert_eq!(
        link(crises[0]).await.status(),
        StatusCode::NOT_FOUND,
        "ended"
    );
    let linked = link(crises[1]).await;
    assert_eq!(
        linked.headers()["location"],
        "/staff/listening?done=listening-linked"
    );
    let log = store.crisis_log(tenant, crises[1]).await.expect("log");
    assert!(
        log.iter()
            .any(|l| l.kind == "note" && l.text.contains("Alfa-avisa: ")),
        "{log:?}"
    );
    let dismissed = staff
        .post(format!("{}/staff/listening/matches/{other}", app.base))
        .form(&[("csrf", csrf.as_str()), ("action", "dismiss")])
        .send()
        .await
        .expect("dismiss");
    assert_eq!(
        dismissed.headers()["location"],
        "/staff/listening?done=listening-already"
    );
    assert_eq!(store.count_new_matches(tenant).await.expect("count"), 0);
    assert_eq!(actions(store, tenant, "listening.inquiry").await.len(), 1);
    assert_eq!(actions(store, tenant, "listening.crisis").await.len(), 1);
    // The crisis (not a drill) goes on for the rest of this database's scenarios: end it.
    torg_core::crisis::update(
        store,
        &t,
        &m,
        &lead,
        crises[1],
        torg_core::crisis::Status {
            text: "Over.",
            end: true,
            publish: false,
        },
    )
    .await
    .expect("end");
}

/// A search's hits are ranked (where the words are, then age): an older inquiry with the
/// word in its subject comes before newer ones that only mention it; paging through the
/// API with its cursor gives every hit once, across the ranked windows.
async fn search_ranks_hits_and_pages_through_all(app: &App) {
    let tok = &app.a.token;
    let word = "kvernsteinbrudd";
    let mut made = vec![];
    for n in 0..230 {
        let body = if n == 30 {
            json!({"citizen_name": "Kari Li", "email": "kari@example.no",
                   "subject": "Kvernsteinbrudd ved skolen", "body": "Se emnet."})
        } else {
            json!({"citizen_name": "Ola Nordmann", "email": "ola@example.no",
                   "body": format!("Melding {n}: nytt om kvernsteinbruddet.")})
        };
        let (s, v) = api(app, tok, "POST", "/inquiries", Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        made.push(v["inquiry"]["id"].as_i64().expect("id"));
    }
    let subject_one = made[30];
    // The API: the first page leads with the subject's hit, though 199 are newer.
    let mut seen = vec![];
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let (s, v) = api(
            app,
            tok,
            "GET",
            &format!("/inquiries?status=any&limit=50&q={word}&cursor={cursor}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let items = v["items"].as_array().expect("items");
        if pages == 0 {
            assert_eq!(items[0]["id"].as_i64(), Some(subject_one), "ranked first");
            // Among those found alike, the newest first.
            assert!(items[1]["id"].as_i64() > items[2]["id"].as_i64());
        }
        seen.extend(items.iter().filter_map(|i| i["id"].as_i64()));
        pages += 1;
        match v["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
        assert!(pages < 20, "the pages end");
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), seen.len(), "no hit twice");
    made.sort_unstable();
    assert_eq!(sorted, made, "every hit once");
    // The staff inbox ranks the same way and marks the word.
    let staff = login(app, &app.a.slug, "kari").await;
    let inbox = staff
        .get(format!("{}/staff?status=any&q=Kvernsteinbrudd", app.base))
        .send()
        .await
        .expect("inbox")
        .text()
        .await
        .expect("text");
    // The hits' table (the person on duty's own list may come before it).
    let hits = &inbox[inbox.find("<table class=\"inbox\">").expect("the hits")..];
    let first = between(hits, "href=\"/staff/inquiries/", "\"").expect("a hit");
    assert_eq!(first, subject_one.to_string(), "ranked first in the inbox");
    // Counted as far as a window of hits reaches (200), and said to be that or more.
    assert!(
        inbox.contains("Antall treff: 200 eller flere"),
        "counted as far as ranked"
    );
    assert!(inbox.contains("after=r"), "a ranked next page");
    // The next page (within the first window) says the same.
    let before_next = &inbox[..inbox.find("\" rel=\"next\"").expect("the next page's link")];
    let next = before_next[before_next.rfind("href=\"").expect("href") + 6..].replace("&amp;", "&");
    let page_two = page_text(&staff, &format!("{}{next}", app.base)).await;
    assert!(page_two.contains("Antall treff: 200 eller flere"), "{next}");
}

#[tokio::test]
async fn search_ranks_hits_and_pages_through_all_sqlite() {
    search_ranks_hits_and_pages_through_all(&spawn().await).await;
}

#[tokio::test]
async fn listening_on_the_staff_page_sqlite() {
    listening_on_the_staff_page(&spawn().await).await;
}

// ------------------------------------------------------------------ outgoing webhooks

/// What the integration's stand-in received: (headers, body) per POST; answers with the
/// status in `answer`.
/// One POST received: its headers and body.
type Received = (HashMap<String, String>, String);

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<std::sync::Mutex<Vec<Received>>>,
    answer: Arc<std::sync::atomic::AtomicU16>,
}

async fn receiver() -> (String, Receiver) {
    async fn take(
        axum::extract::State(r): axum::extract::State<Receiver>,
        headers: axum::http::HeaderMap,
        body: String,
    ) -> axum::http::StatusCode {
        let h = headers
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        r.got.lock().expect("lock").push((h, body));
        axum::http::StatusCode::from_u16(r.answer.load(std::sync::atomic::Ordering::SeqCst))
            .unwrap_or(axum::http::StatusCode::OK)
    }
    let r = Receiver::default();
    r.answer.store(200, std::sync::atomic::Ordering::SeqCst);
    let app = axum::Router::new()
        .route("/hendelser", axum::routing::post(take))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hendelser", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, r)
}

#[tokio::test]
async fn webhooks_are_signed_retried_and_sent_once_sqlite() {
    let key = torg_core::sealing::SecretKey::generate();
    webhooks_are_signed_retried_and_sent_once(&spawn_sealed(&key).await, &key).await;
}

#[tokio::test]
async fn webhooks_are_signed_retried_and_sent_once_postgres() {
    let Ok(admin) = std::env::var("TORG_TEST_POSTGRES_URL") else {
        eprintln!("TORG_TEST_POSTGRES_URL is not set: skipping PostgreSQL (.ci/run sets it)");
        return;
    };
    let url = torg_store_sql::postgres::create_test_database(&admin)
        .await
        .expect("PostgreSQL must be reachable");
    let key = torg_core::sealing::SecretKey::generate();
    let app = spawn_with(
        Some(url),
        torg_http::WebSettings {
            secret_key: Some(key.clone()),
            ..unlimited()
        },
    )
    .await;
    webhooks_are_signed_retried_and_sent_once(&app, &key).await;
}

/// An administrator registers the case-management system for new and closed inquiries; a
/// citizen writes: one signed POST arrives, and no second however often the workers pass; a
/// receiver that fails is tried again and its answer shown; a bad address is refused.
async fn webhooks_are_signed_retried_and_sent_once(app: &App, key: &torg_core::sealing::SecretKey) {
    let m = app
        .store
        .municipality_by_slug("alfa")
        .await
        .expect("m")
        .expect("m");
    let desk = app.store.list_units(m.id).await.expect("units")[0].id;
    add_user(
        &*app.store,
        m.id,
        "hookadmin",
        Role::Administrator,
        Some(desk.get()),
    )
    .await;
    let admin = login(app, "alfa", "hookadmin").await;
    let page_url = format!("{}/staff/admin/webhooks", app.base);
    let (url, got) = receiver().await;

    // A plain http address elsewhere is refused with what to do.
    let csrf = csrf_of(&admin, &page_url).await;
    let res = admin
        .post(&page_url)
        .form(&[
            ("csrf", csrf.as_str()),
            ("url", "http://sak.example.no/h"),
            ("events", "inquiry.created"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.expect("t").contains("https"));

    let res = admin
        .post(&page_url)
        .form(&[
            ("csrf", csrf.as_str()),
            ("url", url.as_str()),
            ("events", "inquiry.created"),
            ("events", "inquiry.closed"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::CREATED);
    let page = res.text().await.expect("text");
    let secret = between(&page, "<code class=\"secret\">", "<")
        .expect("the secret, shown once")
        .to_string();
    let again = admin
        .get(&page_url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("t");
    assert!(!again.contains(&secret), "shown once only");

    // The citizen writes; the workers pass (twice, as two nodes might).
    let (status, _) = submit_form(
        app,
        "alfa",
        "Kari Webhook",
        "kari.w@example.no",
        "Når tømmes søpla?",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let deliver = torg_http::webhooks::WebhookDelivery::new(app.store.clone(), key.clone());
    let hosts = torg_domain::connector::HostRules::any();
    for _ in 0..2 {
        let now = jiff::Timestamp::now();
        torg_core::webhooks::dispatch(&*app.store, now)
            .await
            .expect("dispatch");
        torg_core::delivery::pass(&*app.store, &deliver, &hosts, now, 100)
            .await
            .expect("pass");
    }
    let received = got.got.lock().expect("lock").clone();
    assert_eq!(received.len(), 1, "one event, sent once: {received:?}");
    let (headers, body) = &received[0];
    assert_eq!(headers["torg-event"], "inquiry.created");
    assert!(headers["torg-delivery"].starts_with("webhook-"));
    let v: Value = serde_json::from_str(body).expect("json");
    assert_eq!(v["event"], "inquiry.created");
    assert_eq!(v["municipality"], "alfa");
    assert!(
        v["object"]
            .as_str()
            .expect("object")
            .starts_with("inquiry:")
    );
    assert!(
        !body.contains("Kari Webhook") && !body.contains("søpla"),
        "no citizen's text"
    );
    let now = jiff::Timestamp::now().as_second();
    assert_eq!(
        torg_domain::webhook::verify(&secret, &headers["torg-signature"], body.as_bytes(), now),
        Ok(()),
        "signed with the secret shown"
    );
    assert!(
        torg_domain::webhook::verify("forged", &headers["torg-signature"], body.as_bytes(), now)
            .is_err()
    );
    let page = admin
        .get(&page_url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("t");
    assert!(page.contains("Levert"), "{page}");

    // The receiver is down: the closing is tried again later, and the page says why.
    got.answer.store(503, std::sync::atomic::Ordering::SeqCst);
    let id: InquiryId = app
        .store
        .list_inquiries(m.id, &torg_store::InquiryFilter::default(), None, 100)
        .await
        .expect("list")
        .into_iter()
        .find(|i| i.citizen_name == "Kari Webhook")
        .expect("the inquiry")
        .id;
    torg_core::casework::set_status(
        &*app.store,
        &torg_core::actor::Actor::cli(),
        m.id,
        id,
        torg_domain::InquiryStatus::Closed,
        jiff::Timestamp::now(),
    )
    .await
    .expect("close");
    let now = jiff::Timestamp::now();
    torg_core::webhooks::dispatch(&*app.store, now)
        .await
        .expect("dispatch");
    let report = torg_core::delivery::pass(&*app.store, &deliver, &hosts, now, 100)
        .await
        .expect("pass");
    assert_eq!(report.retried, 1, "{report:?}");
    let page = admin
        .get(&page_url)
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("t");
    assert!(page.contains("503") && page.contains("Venter"), "{page}");
    // Back up: the retry (when due) delivers it, once.
    got.answer.store(200, std::sync::atomic::Ordering::SeqCst);
    let later = now + jiff::SignedDuration::from_mins(30);
    torg_core::delivery::pass(&*app.store, &deliver, &hosts, later, 100)
        .await
        .expect("pass");
    torg_core::delivery::pass(&*app.store, &deliver, &hosts, later, 100)
        .await
        .expect("pass");
    let received = got.got.lock().expect("lock").clone();
    let closed: Vec<_> = received
        .iter()
        .filter(|(h, _)| h["torg-event"] == "inquiry.closed")
        .collect();
    assert_eq!(closed.len(), 2, "one failed try, one delivery");
    assert_eq!(
        closed[0].0["torg-delivery"], closed[1].0["torg-delivery"],
        "the same delivery id on a retry"
    );

    // Removed: nothing more is queued for it.
    let csrf = csrf_of(&admin, &page_url).await;
    let hook = app.store.webhooks(m.id).await.expect("hooks")[0].id;
    let res = admin
        .post(format!("{page_url}/{hook}/remove"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("remove");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(app.store.webhooks(m.id).await.expect("hooks").is_empty());
}

#[tokio::test]
async fn casework_is_administered_on_pages_sqlite() {
    casework_is_administered_on_pages(&spawn().await).await;
}

/// An administrator does on pages what needed the CLI: tries a routing rule on a sample text
/// before saving it, saves and reorders rules (and a citizen's message then goes where they
/// say), edits canned replies with the plain-language advice beside them, and sets deadline
/// policies, opening hours, closed days and peaks; wrong input is refused with what to write,
/// and every change has its audit entry.
async fn casework_is_administered_on_pages(app: &App) {
    let m = app
        .store
        .municipality_by_slug(&app.a.slug)
        .await
        .expect("m")
        .expect("m");
    let units = app.store.list_units(m.id).await.expect("units");
    let desk = units.iter().find(|u| u.is_service_desk).expect("desk");
    let school = units.iter().find(|u| u.name == "Oppvekst").expect("unit");
    add_user(
        &*app.store,
        m.id,
        "cwadmin",
        Role::Administrator,
        Some(desk.id.get()),
    )
    .await;
    let admin = login(app, &app.a.slug, "cwadmin").await;
    let routing = format!("{}/staff/admin/routing", app.base);
    let csrf = csrf_of(&admin, &routing).await;
    let post = |url: String, fields: Vec<(&'static str, String)>| {
        let admin = admin.clone();
        let csrf = csrf.clone();
        async move {
            let mut form = fields;
            form.push(("csrf", csrf));
            let res = admin.post(url).form(&form).send().await.expect("post");
            let status = res.status();
            let location = res
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or("")
                .to_string();
            (status, location, res.text().await.expect("text"))
        }
    };
    let ours = |rules: &[(i64, torg_domain::routing::RoutingRule)], word: &str| {
        rules
            .iter()
            .position(|(_, r)| r.keyword.as_deref() == Some(word))
    };

    // Tried first: today the service desk gets it; with the rule, Oppvekst. Nothing is saved.
    let draft = |action: &str| {
        vec![
            ("action", action.to_string()),
            ("unit", school.id.get().to_string()),
            ("keyword", "skyss".to_string()),
            ("sample", "Når går skyssen til skolen?".to_string()),
            ("sample_channel", "sms".to_string()),
        ]
    };
    let before = app
        .store
        .list_routing_rules(m.id)
        .await
        .expect("rules")
        .len();
    let (status, _, page) = post(routing.clone(), draft("try")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("går teksten til Servicetorget (ingen regel passer)"),
        "{page}"
    );
    assert!(
        page.contains("Med den nye regelen går den til Oppvekst (den nye regelen avgjør)"),
        "{page}"
    );
    assert_eq!(
        app.store
            .list_routing_rules(m.id)
            .await
            .expect("rules")
            .len(),
        before,
        "trying saves nothing"
    );
    // A rule without a condition is refused with what to do.
    let (status, _, page) = post(
        routing.clone(),
        vec![
            ("action", "save".into()),
            ("unit", school.id.get().to_string()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Gi minst ett ord"), "{page}");
    // Saved, and a second, broader rule after it to the service desk.
    let (status, location, _) = post(routing.clone(), draft("save")).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/staff/admin/routing?done=rule-added");
    let (status, _, _) = post(
        routing.clone(),
        vec![
            ("action", "save".into()),
            ("unit", desk.id.get().to_string()),
            ("keyword", "skyssen".into()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let rules = app.store.list_routing_rules(m.id).await.expect("rules");
    let (first, second) = (
        ours(&rules, "skyss").expect("saved"),
        ours(&rules, "skyssen").expect("saved"),
    );
    assert!(first < second, "a new rule goes last");
    // A citizen's message goes where the rules say.
    let routed = |text: &'static str| async move {
        let (status, receipt) =
            submit_form(app, &app.a.slug, "Ola", "ola@example.no", text, None).await;
        assert_eq!(status, StatusCode::CREATED, "{receipt}");
        let reference = between(&receipt, "class=\"reference\">", "<").expect("reference");
        let id = app
            .store
            .inquiry_by_reference(m.id, reference)
            .await
            .expect("find")
            .expect("found");
        app.store
            .inquiry(m.id, id)
            .await
            .expect("get")
            .expect("inquiry")
            .unit_id
    };
    assert_eq!(routed("Når går skyssen i morgen?").await, school.id);
    // The second moved up wins from then on.
    let second_id = rules[second].0;
    let (status, location, _) = post(format!("{routing}/{second_id}/up"), vec![]).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    let rules = app.store.list_routing_rules(m.id).await.expect("rules");
    assert!(ours(&rules, "skyssen") < ours(&rules, "skyss"));
    assert_eq!(routed("Når går skyssen i morgen?").await, desk.id);
    let page = admin
        .get(format!("{routing}?done=rule-moved"))
        .send()
        .await
        .expect("page")
        .text()
        .await
        .expect("text");
    assert!(page.contains("Regelen er flyttet."));
    assert!(page.contains(&format!("/staff/admin/routing/{second_id}/remove")));
    let (status, _, _) = post(format!("{routing}/{second_id}/remove"), vec![]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, page) = post(format!("{routing}/{second_id}/remove"), vec![]).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "removed already");
    assert!(page.contains("last inn siden på nytt"));
    assert_eq!(routed("Når går skyssen i morgen?").await, school.id);

    // Canned replies: made, shown with the plain-language advice, changed, refused, removed.
    let canned = format!("{}/staff/admin/canned", app.base);
    let (status, _, _) = post(
        canned.clone(),
        vec![
            ("title", "Skyss".into()),
            (
                "body",
                "Hei {navn}! Søknaden ble behandlet av kommunen. Mvh {signatur}".into(),
            ),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = page_text(&admin, &canned).await;
    assert!(page.contains("LIX"), "the advice is shown");
    assert!(page.contains("passiv form"), "{page}");
    let id = app
        .store
        .list_canned_replies(m.id)
        .await
        .expect("c")
        .into_iter()
        .find(|c| c.title == "Skyss")
        .expect("made")
        .id;
    let (status, _, page) = post(
        format!("{canned}/{id}"),
        vec![("title", " ".into()), ("body", "x".into())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("både tittel og tekst"));
    let (status, _, _) = post(
        format!("{canned}/{id}"),
        vec![
            ("title", "Skoleskyss".into()),
            ("body", "Hei {navn}! Kommunen har sett på søknaden.".into()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, page) = post(
        canned.clone(),
        vec![("title", "Skoleskyss".into()), ("body", "Igjen".into())],
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("Velg en annen tittel"));
    let (status, _, _) = post(format!("{canned}/{id}/remove"), vec![]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);

    // The acknowledgement text: it must tell the reference and the link; the next citizen
    // gets the municipality's own.
    let (status, _, page) = post(
        format!("{canned}/acknowledgement"),
        vec![("language", "nb".into()), ("body", "Takk, {navn}!".into())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("må ha {referanse} og {lenke}"), "{page}");
    let (status, _, _) = post(
        format!("{canned}/acknowledgement"),
        vec![
            ("language", "nb".into()),
            (
                "body",
                "Takk, {navn}! Skyss-saken har nummer {referanse}. Følg den her: {lenke}".into(),
            ),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, receipt) = submit_form(
        app,
        &app.a.slug,
        "Kari",
        "kari@example.no",
        "Om skyss",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let follow = between(&receipt, "id=\"follow-link\">", "<").expect("follow");
    let follow = client()
        .get(follow)
        .send()
        .await
        .expect("f")
        .text()
        .await
        .expect("t");
    assert!(
        follow.contains("Skyss-saken har nummer"),
        "the municipality's own text"
    );
    // Own words to avoid: the advice on a canned reply suggests the plainer one.
    let (status, _, _) = post(
        format!("{canned}/jargon"),
        vec![
            ("phrase", "Iverksette".into()),
            ("plainer", "sette i gang".into()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = post(
        canned.clone(),
        vec![
            ("title", "Tiltak".into()),
            ("body", "Vi vil iverksette tiltak i morgen.".into()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = page_text(&admin, &canned).await;
    assert!(page.contains("skriv heller «sette i gang»"), "{page}");
    let (status, _, _) = post(
        format!("{canned}/jargon/remove"),
        vec![("phrase", "iverksette".into())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(app.store.jargon(m.id).await.expect("j").is_empty());

    // Deadlines: wrong input is refused with an example; a change says how many moved.
    let deadlines = format!("{}/staff/admin/deadlines", app.base);
    let (status, _, page) = post(
        format!("{deadlines}/policies"),
        vec![("policy", "fort".into())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("working_days:2"));
    let (status, location, _) = post(
        format!("{deadlines}/policies"),
        vec![("policy", "hours:2".into()), ("channel", "web".into())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.starts_with("/staff/admin/deadlines?done=policy-added&changed="));
    let page = page_text(&admin, &format!("{}{location}", app.base)).await;
    assert!(
        page.contains("Svarfristen er lagt til. Fristene til"),
        "{page}"
    );
    assert!(page.contains("innen 2 timer"));
    let (status, _, page) = post(
        format!("{deadlines}/hours"),
        vec![("weekly", "alltid".into())],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("mon-fri 08:00-15:30"));
    let (status, _, _) = post(
        format!("{deadlines}/hours"),
        vec![("weekly", "mon-fri 08:00-15:00".into())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = post(
        format!("{deadlines}/hours"),
        vec![
            ("weekly", "mon-fri 10:00-14:00".into()),
            ("scope", "channel:chat".into()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, _) = post(
        format!("{deadlines}/days"),
        vec![
            ("date", "2031-12-24".into()),
            ("closes_at", "12:00".into()),
            ("note", "Julaften <b>tidlig</b>".into()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _, page) = post(
        format!("{deadlines}/peaks"),
        vec![
            ("name", "Skolestart".into()),
            ("from", "2031-08-20T08:00".into()),
            ("to", "2031-08-10T08:00".into()),
            ("policy", "working_hours:4".into()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("slutte etter at den begynner"));
    let (status, _, _) = post(
        format!("{deadlines}/peaks"),
        vec![
            ("name", "Skolestart".into()),
            ("from", "2031-08-10T08:00".into()),
            ("to", "2031-08-20T08:00".into()),
            ("policy", "working_hours:4".into()),
            ("staffing", "To ekstra".into()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let page = page_text(&admin, &deadlines).await;
    assert!(page.contains("24.12.2031") && page.contains("stenger 12:00"));
    assert!(
        page.contains("Julaften &#60;b&#62;tidlig") && !page.contains("<b>tidlig"),
        "shown, not run"
    );
    assert!(page.contains("Skolestart") && page.contains("innen 4 arbeidstimer"));
    assert!(page.contains("value=\"mon-fri 08:00-15:00\""));
    let peak = app
        .store
        .peaks(m.id, jiff::Timestamp::now())
        .await
        .expect("peaks")
        .into_iter()
        .find(|p| p.name == "Skolestart")
        .expect("peak")
        .id;
    for path in [
        format!("{deadlines}/days/2031-12-24/remove"),
        format!("{deadlines}/peaks/{peak}/remove"),
    ] {
        let (status, location, _) = post(path, vec![]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(location.contains("done=casework-removed"));
    }
    let (status, _, _) = post(
        format!("{deadlines}/hours/remove"),
        vec![("scope", "channel:chat".into())],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        app.store
            .scoped_opening_hours(m.id)
            .await
            .expect("h")
            .is_empty()
    );

    // The duty rota: planned on the page, in turn, with what is wrong said.
    let kari = app
        .store
        .list_users(m.id)
        .await
        .expect("users")
        .into_iter()
        .find(|u| u.username == "kari")
        .expect("kari");
    let me_id = app
        .store
        .list_users(m.id)
        .await
        .expect("users")
        .into_iter()
        .find(|u| u.username == "cwadmin")
        .expect("admin")
        .id;
    let (status, _, page) = post(
        format!("{deadlines}/duty"),
        vec![
            ("group", "public".into()),
            ("from", "2026-12-07".into()),
            ("handover", "08:00".into()),
            ("days", "7".into()),
            ("shifts", "2".into()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Velg minst én"), "{page}");
    let soon = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24);
    let first_day = soon
        .to_zoned(jiff::tz::TimeZone::get("Europe/Oslo").expect("tz"))
        .date()
        .to_string();
    let (status, location, _) = post(
        format!("{deadlines}/duty"),
        vec![
            ("group", "sms".into()),
            ("users", kari.id.to_string()),
            ("users", me_id.to_string()),
            ("from", first_day),
            ("handover", "08:00".into()),
            ("days", "7".into()),
            ("shifts", "2".into()),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(location.contains("done=rota-planned"));
    let shifts = app
        .store
        .shifts(
            m.id,
            jiff::Timestamp::now(),
            jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 30),
        )
        .await
        .expect("shifts");
    let ours: Vec<_> = shifts.iter().filter(|s| s.group == "sms").collect();
    assert_eq!(ours.len(), 2);
    assert_eq!(
        (ours[0].user_id, ours[1].user_id),
        (kari.id, me_id),
        "in turn"
    );
    let page = page_text(&admin, &deadlines).await;
    assert!(page.contains("Kari Nordmann"), "the rota is listed");

    // Each change, by whom.
    let me = app
        .store
        .list_users(m.id)
        .await
        .expect("users")
        .into_iter()
        .find(|u| u.username == "cwadmin")
        .expect("admin");
    let me = format!("user:{}", me.id);
    for action in [
        "rule.added",
        "rule.moved",
        "rule.removed",
        "canned.added",
        "canned.changed",
        "canned.removed",
        "acknowledgement.set",
        "plain.jargon_set",
        "plain.jargon_removed",
        "policy.added",
        "hours.set",
        "hours.closed_day",
        "hours.day_opened",
        "hours.removed",
        "peak.added",
        "peak.removed",
        "duty.planned",
    ] {
        let found = app
            .store
            .search_audit(
                m.id,
                &torg_store::AuditQuery {
                    action: Some(action.into()),
                    ..torg_store::AuditQuery::default()
                },
                10,
            )
            .await
            .expect("audit");
        assert!(
            found.iter().any(|e| e.entry.actor == me),
            "{action}: {:?}",
            found.iter().map(|e| &e.entry.actor).collect::<Vec<_>>()
        );
    }
}

#[tokio::test]
async fn replies_carry_files_where_the_channel_can_sqlite() {
    replies_carry_files_where_the_channel_can(&spawn().await).await;
}

#[tokio::test]
async fn replies_carry_files_where_the_channel_can_postgres() {
    let Some(app) = spawn_postgres().await else {
        eprintln!("TORG_TEST_POSTGRES_URL is not set: skipping PostgreSQL (.ci/run sets it)");
        return;
    };
    replies_carry_files_where_the_channel_can(&app).await;
}

/// Staff attach a file to a reply from the inquiry page: the citizen finds it on the follow
/// page, byte for byte; a blocked type is refused with what to do; a reply by SMS offers no
/// file field and refuses a file with a clear message, storing nothing.
async fn replies_carry_files_where_the_channel_can(app: &App) {
    let (status, receipt) = submit_form(
        app,
        &app.a.slug,
        "Ola",
        "ola@example.no",
        "Hvor er kartet over skolevegen?",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let reference = between(&receipt, "class=\"reference\">", "<").expect("reference");
    let follow_url = between(&receipt, "id=\"follow-link\">", "<")
        .expect("follow")
        .to_string();
    let m = app
        .store
        .municipality_by_slug(&app.a.slug)
        .await
        .expect("m")
        .expect("m");
    let id = app
        .store
        .inquiry_by_reference(m.id, reference)
        .await
        .expect("find")
        .expect("found");
    let kari = login(app, &app.a.slug, "kari").await;
    let page_url = format!("{}/staff/inquiries/{id}", app.base);
    let page = page_text(&kari, &page_url).await;
    assert!(
        page.contains("enctype=\"multipart/form-data\"") && page.contains("id=\"reply-files\"")
    );
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"")
        .expect("csrf")
        .to_string();
    let map: Vec<u8> = (0..=255u8).cycle().take(50_000).collect();
    let post = |file: &'static str, data: Vec<u8>, url: String| {
        let kari = kari.clone();
        let csrf = csrf.clone();
        async move {
            let form = Form::new()
                .text("csrf", csrf)
                .text("body", "Her er kartet.")
                .part(
                    "attachment",
                    Part::bytes(data)
                        .file_name(file)
                        .mime_str("application/pdf")
                        .expect("mime"),
                );
            let res = kari
                .post(format!("{url}/reply"))
                .multipart(form)
                .send()
                .await
                .expect("post");
            (res.status(), res.text().await.expect("text"))
        }
    };
    let (status, page) = post("program.exe", b"MZ".to_vec(), page_url.clone()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains(".exe sendes ikke"), "{page}");
    assert!(page.contains("Her er kartet."), "the draft is kept");
    let (status, _) = post("Kart over skolevegen.pdf", map.clone(), page_url.clone()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let follow = client()
        .get(&follow_url)
        .send()
        .await
        .expect("f")
        .text()
        .await
        .expect("t");
    assert!(follow.contains("Her er kartet."));
    let before_name = &follow[..follow
        .find("\">Kart over skolevegen.pdf")
        .expect("the file on the follow page")];
    let link = before_name[before_name.rfind("href=\"").expect("href") + 6..].replace("&#38;", "&");
    let link = if link.starts_with("http") {
        link
    } else {
        format!("{}{link}", app.base)
    };
    let got = client().get(&link).send().await.expect("file");
    assert_eq!(got.status(), StatusCode::OK);
    assert_eq!(
        got.bytes().await.expect("bytes").to_vec(),
        map,
        "byte for byte"
    );
    let logged = app
        .store
        .search_audit(
            m.id,
            &torg_store::AuditQuery {
                action: Some("inquiry.replied".into()),
                object: Some(format!("inquiry:{id}")),
                ..torg_store::AuditQuery::default()
            },
            5,
        )
        .await
        .expect("audit");
    assert!(logged.iter().any(|e| e.entry.detail.contains("files:1")));

    // By SMS: no file field, and a file sent anyway is refused; nothing is stored.
    let desk = app.store.list_units(m.id).await.expect("units")[0].id;
    let (sms, _, _) = stored_inquiry_from(
        &*app.store,
        m.id,
        desk,
        torg_domain::Channel::Sms,
        None,
        Some("+4791234567"),
    )
    .await;
    let sms_url = format!("{}/staff/inquiries/{sms}", app.base);
    let page = page_text(&kari, &sms_url).await;
    assert!(page.contains("id=\"reply-no-files\"") && !page.contains("id=\"reply-files\""));
    let before = app.store.messages(m.id, sms, true).await.expect("m").len();
    let (status, page) = post("kart.pdf", map.clone(), sms_url).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.contains("Et svar på SMS kan ikke ha vedlegg"),
        "{page}"
    );
    assert_eq!(
        app.store.messages(m.id, sms, true).await.expect("m").len(),
        before
    );
}

#[tokio::test]
async fn a_matter_asked_on_two_channels_is_merged_sqlite() {
    a_matter_asked_on_two_channels_is_merged(&spawn().await).await;
}

#[tokio::test]
async fn a_matter_asked_on_two_channels_is_merged_postgres() {
    let Some(app) = spawn_postgres().await else {
        eprintln!("TORG_TEST_POSTGRES_URL is not set: skipping PostgreSQL (.ci/run sets it)");
        return;
    };
    a_matter_asked_on_two_channels_is_merged(&app).await;
    a_message_about_something_else_is_split_out(&app).await;
}

/// Ola writes on the contact form and then sends an SMS about the same matter. Staff merge
/// them from the SMS's page: the matter goes on under the form's (older) reference, with one
/// thread of both; Ola is told once on each channel; the reply goes out by SMS, where he
/// wrote last; the SMS's page leads to the matter; merging it again is refused.
async fn a_matter_asked_on_two_channels_is_merged(app: &App) {
    let (status, receipt) = submit_form(
        app,
        &app.a.slug,
        "Ola",
        "ola@example.no",
        "Bussen til skolen kommer ikke.",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let form_ref = between(&receipt, "class=\"reference\">", "<")
        .expect("reference")
        .to_string();
    let follow_url = between(&receipt, "id=\"follow-link\">", "<")
        .expect("follow")
        .to_string();
    let m = app
        .store
        .municipality_by_slug(&app.a.slug)
        .await
        .expect("m")
        .expect("m");
    let form_id = app
        .store
        .inquiry_by_reference(m.id, &form_ref)
        .await
        .expect("find")
        .expect("found");
    let desk = app.store.list_units(m.id).await.expect("units")[0].id;
    let (sms_id, _, _) = stored_inquiry_from(
        &*app.store,
        m.id,
        desk,
        torg_domain::Channel::Sms,
        None,
        Some("+4791234567"),
    )
    .await;
    app.store
        .add_message(
            m.id,
            sms_id,
            torg_store::NewMessage {
                kind: torg_domain::MessageKind::Inbound,
                author_user_id: None,
                author_name: "+4791234567".into(),
                body: "Fortsatt ingen buss i dag".into(),
                attachments: vec![],
                created_at: jiff::Timestamp::now(),
                external_id: None,
                outgoing: None,
            },
            None,
        )
        .await
        .expect("sms");

    let kari = login(app, &app.a.slug, "kari").await;
    let sms_url = format!("{}/staff/inquiries/{sms_id}", app.base);
    let page = page_text(&kari, &sms_url).await;
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"")
        .expect("csrf")
        .to_string();
    let merge = |refs: String| {
        let kari = kari.clone();
        let csrf = csrf.clone();
        let url = format!("{sms_url}/merge");
        async move {
            let res = kari
                .post(url)
                .form(&[("csrf", csrf.as_str()), ("references", refs.as_str())])
                .send()
                .await
                .expect("post");
            let location = res
                .headers()
                .get("location")
                .and_then(|l| l.to_str().ok())
                .unwrap_or("")
                .to_string();
            (res.status(), location, res.text().await.expect("t"))
        }
    };
    let (status, _, page) = merge("2026-999999".into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("Fant ingen henvendelse"), "{page}");
    let (status, location, _) = merge(form_ref.clone()).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, format!("/staff/inquiries/{form_id}?done=merged"));

    // One thread under the older reference; replies go by SMS.
    let matter_url = format!("{}/staff/inquiries/{form_id}", app.base);
    let page = page_text(&kari, &matter_url).await;
    assert!(
        page.contains("Bussen til skolen kommer ikke.") && page.contains("Fortsatt ingen buss")
    );
    assert!(page.contains("id=\"merged-note\""));
    assert!(page.contains("Svaret sendes på SMS"), "{page}");
    assert!(
        page.contains("id=\"reply-no-files\""),
        "an SMS reply carries no files"
    );
    let res = kari.get(&sms_url).send().await.expect("p");
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the merged one leads to the matter"
    );
    let sms = app
        .store
        .inquiry(m.id, sms_id)
        .await
        .expect("i")
        .expect("i");
    assert_eq!(sms.merged_into, Some(form_id));
    assert_eq!(sms.status, torg_domain::InquiryStatus::Closed);

    // Told once on each channel: on the follow page, and by SMS.
    let follow = client()
        .get(&follow_url)
        .send()
        .await
        .expect("f")
        .text()
        .await
        .expect("t");
    assert!(
        follow.contains(&format!("under referanse {form_ref}")),
        "{follow}"
    );
    let sms_messages = app.store.messages(m.id, sms_id, false).await.expect("m");
    let told: Vec<_> = sms_messages
        .iter()
        .filter(|msg| msg.body.contains("Vi har samlet"))
        .collect();
    assert_eq!(told.len(), 1);
    assert!(told[0].body.contains("(SMS)"));
    let queued = app.store.deliveries(m.id, sms_id).await.expect("d");
    assert!(
        queued.iter().any(|(id, _)| *id == told[0].id),
        "sent by SMS"
    );

    // The reply from the matter's page goes out on the SMS inquiry.
    let res = kari
        .post(format!("{matter_url}/reply"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("body", "Bussen er satt opp igjen fra i morgen."),
        ])
        .send()
        .await
        .expect("reply");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let reply = app
        .store
        .messages(m.id, sms_id, false)
        .await
        .expect("m")
        .into_iter()
        .find(|msg| msg.body.contains("satt opp igjen"))
        .expect("stored on the SMS inquiry");
    let queued = app.store.deliveries(m.id, sms_id).await.expect("d");
    assert!(
        queued.iter().any(|(id, _)| *id == reply.id),
        "queued for SMS"
    );
    let matter = app
        .store
        .inquiry(m.id, form_id)
        .await
        .expect("i")
        .expect("i");
    assert!(
        matter.first_answer_at.is_some(),
        "the matter counts as answered"
    );

    // Merged once only; the audit says who merged what.
    let (status, _, page) = merge(form_ref.clone()).await;
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "the SMS page leads to the matter: {page}"
    );
    let res = kari
        .post(format!("{matter_url}/merge"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("references", &sms.reference.to_string()),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.expect("t").contains("alt slått sammen"));
    let logged = app
        .store
        .search_audit(
            m.id,
            &torg_store::AuditQuery {
                action: Some("inquiry.merged".into()),
                ..torg_store::AuditQuery::default()
            },
            5,
        )
        .await
        .expect("audit");
    assert!(
        logged
            .iter()
            .any(|e| e.entry.object == format!("inquiry:{form_id}")
                && e.entry.detail == format!("from:{}", sms.reference))
    );

    // Ola then writes on Facebook too: merged, the matter answers on Facebook, which the
    // service desk may not speak on; the page offers no reply and a posted one is refused.
    let (fb, _, _) = stored_inquiry_from(
        &*app.store,
        m.id,
        desk,
        torg_domain::Channel::Facebook,
        Some("fb-merge-1"),
        None,
    )
    .await;
    let fb_ref = app
        .store
        .inquiry(m.id, fb)
        .await
        .expect("i")
        .expect("i")
        .reference
        .to_string();
    let res = kari
        .post(format!("{matter_url}/merge"))
        .form(&[("csrf", csrf.as_str()), ("references", fb_ref.as_str())])
        .send()
        .await
        .expect("merge");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = page_text(&kari, &matter_url).await;
    assert!(page.contains("Svaret sendes på Facebook"), "{page}");
    assert!(
        !page.contains("id=\"reply-body\""),
        "no reply form on a public channel"
    );
    let res = kari
        .post(format!("{matter_url}/reply"))
        .form(&[("csrf", csrf.as_str()), ("body", "Hei")])
        .send()
        .await
        .expect("reply");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_message_about_something_else_is_split_out_sqlite() {
    a_message_about_something_else_is_split_out(&spawn().await).await;
}

/// On the follow page Ola adds a message about something else. Staff split it out: it is an
/// inquiry of its own (new reference, the message with it), Ola finds the new follow link on
/// the old page and the message there; the audit says who split what; the new inquiry's only
/// message stays.
async fn a_message_about_something_else_is_split_out(app: &App) {
    let (status, receipt) = submit_form(
        app,
        &app.a.slug,
        "Ola",
        "ola@example.no",
        "Når åpner svømmehallen igjen?",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let reference = between(&receipt, "class=\"reference\">", "<")
        .expect("reference")
        .to_string();
    let follow_url = between(&receipt, "id=\"follow-link\">", "<")
        .expect("follow")
        .to_string();
    let res = client()
        .post(format!("{follow_url}/messages"))
        .form(&[("message", "Og forresten: gatelyset i Fjordgata er mørkt.")])
        .send()
        .await
        .expect("post");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let m = app
        .store
        .municipality_by_slug(&app.a.slug)
        .await
        .expect("m")
        .expect("m");
    let id = app
        .store
        .inquiry_by_reference(m.id, &reference)
        .await
        .expect("find")
        .expect("found");
    let light = app
        .store
        .messages(m.id, id, false)
        .await
        .expect("m")
        .into_iter()
        .find(|msg| msg.body.contains("gatelyset"))
        .expect("the second message");
    let kari = login(app, &app.a.slug, "kari").await;
    let page_url = format!("{}/staff/inquiries/{id}", app.base);
    let page = page_text(&kari, &page_url).await;
    let split_url = format!("/staff/inquiries/{id}/messages/{}/split", light.id);
    assert!(
        page.contains(&split_url),
        "each citizen's message can be split out"
    );
    let csrf = between(&page, "name=\"csrf\" value=\"", "\"")
        .expect("csrf")
        .to_string();
    let res = kari
        .post(format!("{}{split_url}", app.base))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("split");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let location = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("location")
        .to_string();
    let new_id: i64 = location
        .trim_start_matches("/staff/inquiries/")
        .trim_end_matches("?done=split")
        .parse()
        .expect("the new inquiry");
    let new_id = torg_domain::InquiryId(new_id);
    let new = app
        .store
        .inquiry(m.id, new_id)
        .await
        .expect("i")
        .expect("i");
    assert_ne!(new.reference.to_string(), reference);
    assert_eq!(
        new.received_at, light.created_at,
        "its deadline runs from when it came"
    );
    let moved = app.store.messages(m.id, new_id, false).await.expect("m");
    assert!(
        moved.iter().any(|msg| msg.id == light.id),
        "the message itself moved"
    );
    let old = app.store.messages(m.id, id, false).await.expect("m");
    assert!(!old.iter().any(|msg| msg.id == light.id));

    // Ola finds the new inquiry from the old follow page.
    let follow = client()
        .get(&follow_url)
        .send()
        .await
        .expect("f")
        .text()
        .await
        .expect("t");
    assert!(
        follow.contains(&format!("referanse {}", new.reference)),
        "{follow}"
    );
    let start = follow.find("Følg den her: ").expect("the new link") + "Følg den her: ".len();
    let link: String = follow[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '<')
        .collect();
    let new_follow = client().get(&link).send().await.expect("f");
    assert_eq!(new_follow.status(), StatusCode::OK, "{link}");
    assert!(
        new_follow
            .text()
            .await
            .expect("t")
            .contains("gatelyset i Fjordgata")
    );

    // The new inquiry's only message stays; the audit says who split what.
    let new_page = page_text(&kari, &format!("{}/staff/inquiries/{new_id}", app.base)).await;
    assert!(
        !new_page.contains("/split\""),
        "one message: nothing to split"
    );
    let res = kari
        .post(format!(
            "{}/staff/inquiries/{new_id}/messages/{}/split",
            app.base, light.id
        ))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("split");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let logged = app
        .store
        .search_audit(
            m.id,
            &torg_store::AuditQuery {
                action: Some("inquiry.split".into()),
                object: Some(format!("inquiry:{id}")),
                ..torg_store::AuditQuery::default()
            },
            5,
        )
        .await
        .expect("audit");
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].entry.detail, format!("message:{}", light.id));

    // A thread on social media stays one inquiry: its answer must go to that thread.
    let desk = app.store.list_units(m.id).await.expect("units")[0].id;
    let (fb, _, _) = stored_inquiry_from(
        &*app.store,
        m.id,
        desk,
        torg_domain::Channel::Facebook,
        Some("fb-split-1"),
        None,
    )
    .await;
    let second = app
        .store
        .add_message(
            m.id,
            fb,
            torg_store::NewMessage {
                kind: torg_domain::MessageKind::Inbound,
                author_user_id: None,
                author_name: "Ola".into(),
                body: "Noe annet".into(),
                attachments: vec![],
                created_at: jiff::Timestamp::now(),
                external_id: None,
                outgoing: None,
            },
            None,
        )
        .await
        .expect("message")
        .id;
    let res = kari
        .post(format!(
            "{}/staff/inquiries/{fb}/messages/{second}/split",
            app.base
        ))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .expect("split");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.expect("t").contains("samme tråd"));
}
