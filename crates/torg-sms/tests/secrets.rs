//! The SMS gateway's password and delivery-report key stay out of every stored or shown
//! error: when the gateway cannot be reached (the HTTP client's error names the address, which
//! carries them), and when a gateway answers with the request it got.

use axum::http::{StatusCode, Uri};
use std::collections::HashMap;
use torg_domain::Channel;
use torg_store::SmsGateway;
use torg_testkit::outbox::{shown_errors, waiting_answer};

const PASSWORD: &str = "hemmelig+passord/1";
const KEY: &str = "nøkkel-til-kvitteringer";

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

async fn shown_after_a_pass(url: String) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tmp");
    let store = torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
        .await
        .expect("open");
    let waiting = waiting_answer(&*store, "s", Channel::Sms, "+4791234567").await;
    let gateways = HashMap::from([(
        waiting.tenant,
        SmsGateway {
            sendsms_url: url,
            username: "torg".into(),
            password: PASSWORD.into(),
            sender: "2000".into(),
            inbound_key: KEY.into(),
        },
    )]);
    let callbacks = HashMap::from([(
        waiting.tenant,
        format!("http://torg.example/hooks/sms/s/dlr?key={KEY}"),
    )]);
    let r = torg_sms::kannel::send_due(
        &*store,
        &gateways,
        &callbacks,
        &client(),
        jiff::Timestamp::now(),
        10,
        1,
    )
    .await
    .expect("pass");
    assert_eq!(r.sent, 0);
    shown_errors(&*store, waiting, "sms").await
}

fn assert_hidden(shown: &[String]) {
    assert!(!shown.is_empty());
    for text in shown {
        for secret in ["hemmelig", "n%C3%B8kkel", "nøkkel"] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

#[tokio::test]
async fn an_unreachable_gateway_shows_no_password() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let shown = shown_after_a_pass(format!("http://127.0.0.1:{port}/cgi-bin/sendsms")).await;
    assert_hidden(&shown);
    assert!(shown[0].contains("did not answer"), "{shown:?}");
}

#[tokio::test]
async fn a_gateway_that_echoes_the_request_shows_no_password() {
    let app = axum::Router::new().fallback(|uri: Uri| async move {
        (StatusCode::BAD_REQUEST, format!("unknown request {uri}"))
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let shown = shown_after_a_pass(format!("{base}/cgi-bin/sendsms")).await;
    assert_hidden(&shown);
    assert!(shown[0].contains("password=[hidden]"), "{shown:?}");
}
