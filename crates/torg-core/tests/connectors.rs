//! Connector settings through the core on a real SQLite store: a stored password goes only
//! where it was given for, mail goes encrypted unless allowed, connectors reach only the hosts
//! the operator lets them, and every change has its audit entry.

use torg_core::actor::Actor;
use torg_core::connectors::*;
use torg_core::sealing::SecretKey;
use torg_domain::connector::HostRules;
use torg_store::{AuditQuery, NewMunicipality, Store};

fn server(host: &str, security: &str, password: Option<&str>) -> ServerInput {
    ServerInput {
        host: host.into(),
        port: 587,
        security: security.into(),
        user: "postmottak".into(),
        password: password.map(str::to_string),
    }
}

fn mailbox(imap: ServerInput) -> MailInput {
    MailInput {
        address: "postmottak@nordby.kommune.no".into(),
        imap,
        smtp: server("smtp.nordby.no", "starttls", Some("smtp-pass")),
        max_message_bytes: 1 << 20,
        ..Default::default()
    }
}

#[tokio::test]
async fn secrets_go_only_where_they_were_given_for() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
        .await
        .expect("open");
    let m = store
        .create_municipality(NewMunicipality {
            slug: "nordby".into(),
            name: "Nordby kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await
        .expect("m");
    let key = SecretKey::generate();
    let policy = ConnectorPolicy {
        allow_plain_mail: false,
        hosts: HostRules::new(&["*.nordby.no", "127.0.0.1"]),
    };
    let actor = Actor::cli();
    let s: &dyn Store = &*store;
    let set = |input: MailInput| set_mail_account(s, &key, &policy, &actor, m.id, &m.name, input);

    let imap_place = torg_core::sealing::Place::MailImap { tenant: m.id };
    let saved = set(mailbox(server("imap.nordby.no", "tls", Some("imap-pass"))))
        .await
        .expect("saved");
    assert!(saved.imap.password.starts_with("sealed:"));
    assert_eq!(
        key.open(&imap_place, &saved.imap.password).expect("open"),
        "imap-pass"
    );
    // Refused: plain, a host outside the rules, a new server without the password typed again.
    for (input, expected) in [
        (
            server("imap.nordby.no", "plain", Some("x")),
            "connector-error-plain",
        ),
        (
            server("imap.attacker.example", "tls", Some("x")),
            "connector-error-host",
        ),
        (
            server("imap2.nordby.no", "tls", None),
            "connector-error-password-again",
        ),
        (
            server("imap.nordby.no", "starttls", None),
            "connector-error-password-again",
        ),
    ] {
        let e = set(mailbox(input)).await.expect_err("refused");
        assert_eq!(e.key(), expected, "{e}");
    }
    // The same place: the stored password stays; a new one typed in is sealed anew.
    let kept = set(mailbox(server("IMAP.nordby.no", "tls", None)))
        .await
        .expect("kept");
    assert_eq!(kept.imap.password, saved.imap.password);
    let moved = set(mailbox(server("imap2.nordby.no", "tls", Some("new-pass"))))
        .await
        .expect("moved");
    assert_eq!(
        key.open(&imap_place, &moved.imap.password).expect("open"),
        "new-pass"
    );

    // The SMS gateway: the same rules for its address and user.
    let gateway = |url: &str, password: Option<&str>| SmsInput {
        url: url.into(),
        username: "torg".into(),
        password: password.map(str::to_string),
        sender: "2000".into(),
        new_key: false,
    };
    let url = "http://127.0.0.1:13013/cgi-bin/sendsms";
    let first = set_sms_gateway(s, &key, &policy, &actor, m.id, gateway(url, Some("kannel")))
        .await
        .expect("gateway");
    assert!(first.new_key, "a first gateway gets its callbacks' key");
    let again = set_sms_gateway(s, &key, &policy, &actor, m.id, gateway(url, None))
        .await
        .expect("same place");
    assert_eq!(again.gateway.password, first.gateway.password);
    assert_eq!(again.gateway.inbound_key, first.gateway.inbound_key);
    for (u, expected) in [
        (
            "http://127.0.0.1:13014/cgi-bin/sendsms",
            "connector-error-password-again",
        ),
        (
            "http://sms.attacker.example/cgi-bin/sendsms",
            "connector-error-host",
        ),
        (
            "http://u:p@127.0.0.1:13013/cgi-bin/sendsms",
            "sms-error-form",
        ),
        ("ftp://127.0.0.1/x", "sms-error-form"),
    ] {
        let e = set_sms_gateway(s, &key, &policy, &actor, m.id, gateway(u, None))
            .await
            .expect_err("refused");
        assert_eq!(e.key(), expected, "{u}: {e}");
    }
    let stored = s.sms_gateway(m.id).await.expect("read").expect("there");
    assert_eq!(stored.sendsms_url, url, "nothing refused was stored");

    // Each saved change has its audit entry; the refused ones none.
    let entries = s
        .search_audit(
            m.id,
            &AuditQuery {
                action: Some("settings.".into()),
                ..Default::default()
            },
            100,
        )
        .await
        .expect("audit");
    assert_eq!(entries.len(), 5, "{entries:?}");
    assert!(entries.iter().all(|e| e.entry.actor == "cli"));
}
