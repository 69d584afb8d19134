//! Listening's reader against a local HTTP server that serves real RSS 2.0 and Atom
//! documents and a Mastodon tag timeline, changes them, answers 304 to conditional requests,
//! and fails: matches with word forms, each item once, the person told once by email, a
//! failing feed backed off.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use torg_core::actor::Actor;
use torg_core::listening::Notify;
use torg_domain::Channel;
use torg_domain::listening::{MatchState, SourceKind};
use torg_store::{NewUser, Store};

#[derive(Default)]
struct Served {
    version: u32,
    /// (path, the conditional header the request carried)
    hits: Vec<(String, Option<String>)>,
    min_ids: Vec<Option<String>>,
    /// The searches asked: (q, the bearer token, min_id).
    searches: Vec<(String, Option<String>, Option<String>)>,
}

type Shared = Arc<Mutex<Served>>;

const LAST_MODIFIED: &str = "Sat, 05 Dec 2026 08:00:00 GMT";

fn rss(version: u32) -> String {
    let mut items = String::from(
        "<item><title>Konsert i parken</title><link>https://avisa.example/1</link>\
         <guid>https://avisa.example/1</guid><description>Musikk hele kvelden.</description>\
         <pubDate>Sat, 05 Dec 2026 07:00:00 GMT</pubDate></item>",
    );
    if version >= 2 {
        items.push_str(
            "<item><title>Sterk gasslukta i Storgata</title><link>https://avisa.example/2</link>\
             <guid>https://avisa.example/2</guid><description>Naboer melder om &lt;b&gt;lukt&lt;/b&gt;.</description></item>",
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel>\
         <title>Lokalavisa</title><link>https://avisa.example/</link><description>Nyheter</description>{items}\
         </channel></rss>"
    )
}

const ATOM: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>Nettselskapet</title><id>urn:nett</id>\
<updated>2026-12-05T08:00:00Z</updated>\
<entry><title>Strømbruddet på Nes varer til kveld</title><id>urn:nett:1</id>\
<link href=\"https://nett.example/1\"/><updated>2026-12-05T08:00:00Z</updated>\
<summary>Vi jobber med feilen.</summary></entry></feed>";

async fn rss_feed(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let tag = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut served = s.lock().expect("lock");
    served.hits.push(("/rss".into(), tag.clone()));
    let etag = format!("\"v{}\"", served.version);
    if tag.as_deref() == Some(etag.as_str()) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "application/rss+xml".to_string()),
            (header::ETAG, etag),
        ],
        rss(served.version),
    )
        .into_response()
}

async fn atom_feed(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    s.lock()
        .expect("lock")
        .hits
        .push(("/atom".into(), since.clone()));
    if since.as_deref() == Some(LAST_MODIFIED) {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "application/atom+xml"),
            (header::LAST_MODIFIED, LAST_MODIFIED),
        ],
        ATOM,
    )
        .into_response()
}

async fn broken(State(s): State<Shared>) -> Response {
    s.lock().expect("lock").hits.push(("/broken".into(), None));
    (StatusCode::INTERNAL_SERVER_ERROR, "down").into_response()
}

async fn tag_timeline(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let min_id = q.get("min_id").cloned();
    s.lock().expect("lock").min_ids.push(min_id.clone());
    let all = serde_json::json!([
        {"id": "110", "url": "https://social.example/@kari/110", "created_at": "2026-12-05T08:10:00.000Z",
         "content": "<p>Kjenner gasslukten ved skolen <a href=\"https://social.example/tags/nordby\">#nordby</a></p>",
         "account": {"acct": "kari"}},
        {"id": "99", "url": "https://social.example/@ola/99", "created_at": "2026-12-05T08:00:00.000Z",
         "content": "<p>Fin dag i #nordby</p>", "account": {"acct": "ola"}}
    ]);
    let list: Vec<serde_json::Value> = all
        .as_array()
        .expect("array")
        .iter()
        .filter(|s| {
            let id = s["id"].as_str().expect("id");
            min_id
                .as_deref()
                .is_none_or(|m| (id.len(), id) > (m.len(), m))
        })
        .cloned()
        .collect();
    axum::Json(list).into_response()
}

/// Mastodon's `GET /api/v2/search`: posts only for a signed-in account (401 otherwise),
/// those holding the words, newer than `min_id`.
async fn search(
    State(s): State<Shared>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let words = q.get("q").cloned().unwrap_or_default();
    let min_id = q.get("min_id").cloned();
    s.lock()
        .expect("lock")
        .searches
        .push((words.clone(), token.clone(), min_id.clone()));
    if token.as_deref() != Some("kommunens-token") {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"error": "The access token is invalid"})),
        )
            .into_response();
    }
    assert_eq!(q.get("type").map(String::as_str), Some("statuses"));
    let all = [
        (
            "120",
            "per",
            "<p>Gasslukt i Storgata igjen, ringte brannvesenet</p>",
        ),
        ("95", "lise", "<p>Ingen gasslukt her</p>"),
        ("90", "ola", "<p>Fin tur i parken</p>"),
    ];
    let statuses: Vec<serde_json::Value> = all
        .iter()
        .filter(|(id, _, text)| {
            text.to_lowercase().contains(&words.to_lowercase())
                && min_id
                    .as_deref()
                    .is_none_or(|m| (id.len(), *id) > (m.len(), m))
        })
        .map(|(id, who, text)| {
            serde_json::json!({"id": id, "url": format!("https://social.example/@{who}/{id}"),
                "created_at": "2026-12-05T09:00:00.000Z", "content": text, "account": {"acct": who}})
        })
        .collect();
    axum::Json(serde_json::json!({"accounts": [], "hashtags": [], "statuses": statuses}))
        .into_response()
}

async fn serve(shared: Shared) -> String {
    let app = axum::Router::new()
        .route("/rss", axum::routing::get(rss_feed))
        .route("/atom", axum::routing::get(atom_feed))
        .route("/broken", axum::routing::get(broken))
        .route(
            "/api/v1/timelines/tag/nordby",
            axum::routing::get(tag_timeline),
        )
        .route("/api/v2/search", axum::routing::get(search))
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

#[tokio::test]
async fn feeds_and_hashtags_are_read_matched_once_and_told_of_once() {
    torg_http_free_ring();
    let dir = tempfile::tempdir().expect("tmp");
    let store: Arc<dyn Store> =
        torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
            .await
            .expect("open");
    let f = torg_store::conformance::fixture(&*store).await;
    let tenant = f.tenant.id;
    store
        .create_user(
            tenant,
            NewUser {
                email: Some("komm@testkommune.example".into()),
                username: "komm".into(),
                full_name: "Kari Kommunikasjon".into(),
                password_hash: "x".into(),
                password_set_by: None,
                role: torg_domain::Role::Communication,
                unit_id: None,
            },
            None,
        )
        .await
        .expect("user");
    store
        .set_mail_account(tenant, Some(mail_account()), None)
        .await
        .expect("mail");
    let shared: Shared = Arc::new(Mutex::new(Served {
        version: 1,
        ..Default::default()
    }));
    let base = serve(shared.clone()).await;
    let actor = Actor::system("test");
    torg_core::listening::set_keywords(&*store, &actor, tenant, "gasslukt\nstrømbrudd")
        .await
        .expect("keywords");
    for (kind, name, address, tag) in [
        (SourceKind::Feed, "Lokalavisa", format!("{base}/rss"), ""),
        (
            SourceKind::Feed,
            "Nettselskapet",
            format!("{base}/atom"),
            "",
        ),
        (SourceKind::Feed, "Nede", format!("{base}/broken"), ""),
        (SourceKind::MastodonTag, "#nordby", base.clone(), "nordby"),
    ] {
        torg_core::listening::add_source(&*store, &actor, tenant, kind, name, &address, tag)
            .await
            .expect("source");
    }
    let client = reqwest::Client::new();
    let notify = Notify {
        catalog: Arc::new(torg_i18n::Catalog::load(None).expect("catalog")),
        base_url: "https://torg.example".into(),
    };
    let now = Timestamp::now();
    let (read, found) = torg_social::listen::pass(
        &*store,
        &client,
        &torg_domain::connector::HostRules::any(),
        &[],
        &notify,
        now,
    )
    .await
    .expect("pass");
    assert_eq!(
        (read, found),
        (4, 2),
        "the power cut (Atom) and the gas smell (Mastodon)"
    );
    let matches = store
        .listening_matches(tenant, Some(MatchState::New), 10)
        .await
        .expect("matches");
    let titles: Vec<&str> = matches.iter().map(|m| m.item.title.as_str()).collect();
    assert!(
        titles.contains(&"Strømbruddet på Nes varer til kveld"),
        "{titles:?}"
    );
    assert!(
        titles
            .iter()
            .any(|t| t.starts_with("@kari: Kjenner gasslukten")),
        "{titles:?}"
    );
    let gas = matches
        .iter()
        .find(|m| m.item.title.starts_with("@kari"))
        .expect("gas");
    assert_eq!(gas.keywords, vec!["gasslukt".to_string()]);
    assert_eq!(gas.item.link, "https://social.example/@kari/110");
    // Each match told of once, by email to who speaks for the municipality (nobody on duty).
    let mails = store
        .claim_outbox(Channel::Email, now, SignedDuration::from_secs(60), 100)
        .await
        .expect("outbox");
    assert_eq!(mails.len(), 2, "{mails:?}");
    assert!(
        mails
            .iter()
            .all(|m| m.recipient == "komm@testkommune.example")
    );
    assert!(mails.iter().any(|m| m.subject.contains("Strømbruddet")));
    assert!(
        mails[0]
            .body
            .contains("https://torg.example/staff/listening")
    );
    // The failing feed is backed off; the others are due in five minutes.
    let sources = store.listening_sources(tenant).await.expect("sources");
    let down = sources.iter().find(|s| s.name == "Nede").expect("down");
    assert_eq!(down.failures, 1);
    assert!(
        down.last_error
            .as_deref()
            .is_some_and(|e| e.contains("500"))
    );
    let rss_source = sources
        .iter()
        .find(|s| s.name == "Lokalavisa")
        .expect("rss");
    assert_eq!(rss_source.etag.as_deref(), Some("\"v1\""));
    assert!(rss_source.failures == 0 && rss_source.next_check_at > now);

    // Nothing is due before its time.
    let (read, _) = torg_social::listen::pass(
        &*store,
        &client,
        &torg_domain::connector::HostRules::any(),
        &[],
        &notify,
        now + SignedDuration::from_mins(1),
    )
    .await
    .expect("pass");
    assert_eq!(read, 0);
    // Five minutes on: 304 for both feeds (conditional requests), the tag read from the
    // newest status seen, the broken feed still waiting (ten minutes after two failures).
    let later = now + SignedDuration::from_mins(6);
    let (read, found) = torg_social::listen::pass(
        &*store,
        &client,
        &torg_domain::connector::HostRules::any(),
        &[],
        &notify,
        later,
    )
    .await
    .expect("pass");
    assert_eq!((read, found), (4, 0));
    {
        let served = shared.lock().expect("lock");
        assert!(
            served
                .hits
                .contains(&("/rss".into(), Some("\"v1\"".into())))
        );
        assert!(
            served
                .hits
                .contains(&("/atom".into(), Some(LAST_MODIFIED.into())))
        );
        assert_eq!(served.min_ids.last(), Some(&Some("110".to_string())));
    }
    let down = store
        .listening_sources(tenant)
        .await
        .expect("sources")
        .into_iter()
        .find(|s| s.name == "Nede")
        .expect("down");
    assert_eq!(down.failures, 2);
    assert_eq!(
        down.next_check_at.as_millisecond(),
        (later + SignedDuration::from_mins(10)).as_millisecond()
    );

    // The local paper writes about the gas smell: found, told of once.
    shared.lock().expect("lock").version = 2;
    let third = later + SignedDuration::from_mins(6);
    let (_, found) = torg_social::listen::pass(
        &*store,
        &client,
        &torg_domain::connector::HostRules::any(),
        &[],
        &notify,
        third,
    )
    .await
    .expect("pass");
    assert_eq!(found, 1);
    let fourth = third + SignedDuration::from_mins(6);
    let (_, found) = torg_social::listen::pass(
        &*store,
        &client,
        &torg_domain::connector::HostRules::any(),
        &[],
        &notify,
        fourth,
    )
    .await
    .expect("pass");
    assert_eq!(found, 0, "an item is matched once");
    let mails = store
        .claim_outbox(Channel::Email, fourth, SignedDuration::from_secs(60), 100)
        .await
        .expect("outbox");
    // (The first two come again: their lease ran out, nothing sent them.)
    assert_eq!(mails.len(), 3, "{mails:?}");
    let paper: Vec<_> = mails
        .iter()
        .filter(|m| m.subject.contains("Sterk gasslukta i Storgata"))
        .collect();
    assert_eq!(paper.len(), 1);
    assert!(
        paper[0].body.contains("Naboer melder om lukt"),
        "the feed's HTML as text: {}",
        paper[0].body
    );
    assert_eq!(store.count_new_matches(tenant).await.expect("count"), 3);
}

/// A Mastodon search is made as the municipality's own approved account on the instance:
/// without one the source fails with what to do, with it the posts holding the words are
/// read since the newest seen and matched.
#[tokio::test]
async fn mastodon_searches_are_made_as_the_municipality_account() {
    torg_http_free_ring();
    let dir = tempfile::tempdir().expect("tmp");
    let store: Arc<dyn Store> =
        torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
            .await
            .expect("open");
    let f = torg_store::conformance::fixture(&*store).await;
    let tenant = f.tenant.id;
    let shared: Shared = Arc::default();
    let base = serve(shared.clone()).await;
    let actor = Actor::system("test");
    torg_core::listening::set_keywords(&*store, &actor, tenant, "gasslukt")
        .await
        .expect("keywords");
    torg_core::listening::add_source(
        &*store,
        &actor,
        tenant,
        SourceKind::MastodonSearch,
        "Gass på Mastodon",
        &base,
        "gasslukt",
    )
    .await
    .expect("source");
    let client = reqwest::Client::new();
    let notify = Notify {
        catalog: Arc::new(torg_i18n::Catalog::load(None).expect("catalog")),
        base_url: "https://torg.example".into(),
    };
    let hosts = torg_domain::connector::HostRules::any();
    let now = Timestamp::now();
    // Without the municipality's account on the instance: a failure that says what to do.
    let (read, found) = torg_social::listen::pass(&*store, &client, &hosts, &[], &notify, now)
        .await
        .expect("pass");
    assert_eq!((read, found), (1, 0));
    let source = &store.listening_sources(tenant).await.expect("sources")[0];
    assert!(
        source
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("Mastodon account")),
        "{:?}",
        source.last_error
    );
    assert!(
        shared.lock().expect("lock").searches.is_empty(),
        "nothing asked"
    );
    // Another municipality's account, or an unapproved one, does not search for it.
    let account = |tenant, approved| torg_store::SocialAccount {
        tenant_id: tenant,
        channel: Channel::Mastodon,
        account: "1".into(),
        api_base: base.clone(),
        access_token: "kommunens-token".into(),
        app_secret: String::new(),
        verify_token: String::new(),
        registry_address: "@kommunen".into(),
        cursor: String::new(),
        approved,
    };
    let later = now + SignedDuration::from_mins(6);
    let others = [
        account(torg_domain::TenantId(tenant.get() + 1000), true),
        account(tenant, false),
    ];
    let (read, found) =
        torg_social::listen::pass(&*store, &client, &hosts, &others, &notify, later)
            .await
            .expect("pass");
    assert_eq!((read, found), (1, 0));
    assert!(
        shared.lock().expect("lock").searches.is_empty(),
        "nothing asked"
    );
    // With it: the posts holding the words, matched by the keywords' word forms.
    let ours = [account(tenant, true)];
    let third = later + SignedDuration::from_mins(20);
    let (read, found) = torg_social::listen::pass(&*store, &client, &hosts, &ours, &notify, third)
        .await
        .expect("pass");
    assert_eq!((read, found), (1, 2));
    let matches = store
        .listening_matches(tenant, Some(MatchState::New), 10)
        .await
        .expect("matches");
    let mut links: Vec<&str> = matches.iter().map(|m| m.item.link.as_str()).collect();
    links.sort_unstable();
    assert_eq!(
        links,
        vec![
            "https://social.example/@lise/95",
            "https://social.example/@per/120"
        ]
    );
    // Read again from the newest seen: nothing new, and min_id sent.
    let fourth = third + SignedDuration::from_mins(6);
    let (read, found) = torg_social::listen::pass(&*store, &client, &hosts, &ours, &notify, fourth)
        .await
        .expect("pass");
    assert_eq!((read, found), (1, 0));
    let searches = shared.lock().expect("lock").searches.clone();
    assert_eq!(
        searches,
        vec![
            (
                "gasslukt".to_string(),
                Some("kommunens-token".to_string()),
                None
            ),
            (
                "gasslukt".to_string(),
                Some("kommunens-token".to_string()),
                Some("120".to_string())
            ),
        ]
    );
    let source = &store.listening_sources(tenant).await.expect("sources")[0];
    assert_eq!(source.failures, 0);
    assert_eq!(source.cursor.as_deref(), Some("120"));
}

fn mail_account() -> torg_store::MailAccount {
    let server = |port| torg_store::MailServer {
        host: "127.0.0.1".into(),
        port,
        security: "plain".into(),
        user: String::new(),
        password: String::new(),
    };
    torg_store::MailAccount {
        address: "postmottak@testkommune.example".into(),
        display_name: "Testkommune".into(),
        imap: server(9),
        imap_folder: "INBOX".into(),
        smtp: server(9),
        max_message_bytes: 1_000_000,
        blocked_extensions: vec![],
    }
}

/// reqwest is built without a default crypto provider; plain http needs none, but the
/// client still wants one installed.
fn torg_http_free_ring() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
