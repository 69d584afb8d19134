//! The mail passwords stay out of every stored or shown error, even when the SMTP server
//! answers the login with the credentials it was sent.

use base64::Engine;
use std::collections::HashMap;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use torg_core::delivery::pass;
use torg_domain::Channel;
use torg_email::smtp::SmtpDelivery;
use torg_store::{MailAccount, MailServer};
use torg_testkit::outbox::{shown_errors, waiting_answer};

const PASSWORD: &str = "smtp-hemmelig-42";

/// A line-based server on a free loopback port: `greeting` first, then `answer` to each line.
async fn line_server(greeting: &'static str, answer: fn(&str) -> String) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(greeting.as_bytes()).await;
                while let Ok(Some(line)) = lines.next_line().await {
                    if write.write_all(answer(&line).as_bytes()).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    port
}

/// An IMAP server that refuses every login, quoting what it was given.
async fn echoing_imap() -> u16 {
    line_server("* OK echo IMAP4rev1 ready\r\n", |line| {
        let (tag, rest) = line.split_once(' ').unwrap_or((line, ""));
        format!("{tag} NO [AUTHENTICATIONFAILED] refused: {rest}\r\n")
    })
    .await
}

/// An SMTP server that refuses every login, quoting what it was given.
async fn echoing_smtp() -> u16 {
    line_server("220 echo ESMTP\r\n", |line| {
        let upper = line.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            "250-echo\r\n250 AUTH PLAIN LOGIN\r\n".to_string()
        } else if let Some(b64) = line.strip_prefix("AUTH PLAIN ") {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .unwrap_or_default();
            let said = String::from_utf8_lossy(&raw).replace('\0', " ");
            format!("535 5.7.8 no such login:{said}\r\n")
        } else if upper.starts_with("QUIT") {
            "221 bye\r\n".to_string()
        } else {
            "502 what\r\n".to_string()
        }
    })
    .await
}

fn server(port: u16) -> MailServer {
    MailServer {
        host: "127.0.0.1".into(),
        port,
        security: "plain".into(),
        user: "postmottak".into(),
        password: PASSWORD.into(),
    }
}

fn account(imap: u16, smtp: u16) -> MailAccount {
    MailAccount {
        address: "postmottak@e.kommune.no".into(),
        display_name: "E kommune".into(),
        imap: server(imap),
        imap_folder: "INBOX".into(),
        smtp: server(smtp),
        max_message_bytes: 1 << 20,
        blocked_extensions: vec![],
    }
}

#[tokio::test]
async fn a_mailbox_that_echoes_the_login_shows_no_password() {
    let port = echoing_imap().await;
    let dir = tempfile::tempdir().expect("tmp");
    let store = torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
        .await
        .expect("open");
    let waiting = waiting_answer(&*store, "i", Channel::Email, "kari@example.no").await;
    // Stored as `torg mail set` stores it: the passwords sealed.
    let key = torg_core::sealing::SecretKey::generate();
    let mut stored = account(port, 1);
    use torg_core::sealing::Place;
    let tenant = waiting.tenant;
    stored.imap.password = key.seal(&Place::MailImap { tenant }, PASSWORD);
    stored.smtp.password = key.seal(&Place::MailSmtp { tenant }, PASSWORD);
    store
        .set_mail_account(waiting.tenant, Some(stored), None)
        .await
        .expect("account");
    let acks = torg_core::acknowledge::Acknowledgements::new(
        std::sync::Arc::new(torg_i18n::Catalog::load(None).expect("catalogue")),
        "http://torg.test",
    );
    let _ = torg_email::worker::poll_all(
        &*store,
        &key,
        &torg_domain::connector::HostRules::any(),
        Default::default(),
        &acks,
        None,
    )
    .await;
    let statuses = store
        .connector_statuses(Some(waiting.tenant))
        .await
        .expect("statuses");
    let imap = statuses
        .iter()
        .find(|s| s.connector == "imap")
        .expect("imap status");
    assert!(!imap.ok);
    assert!(!imap.detail.contains(PASSWORD), "{}", imap.detail);
    assert!(imap.detail.contains("[hidden]"), "{}", imap.detail);
}

#[tokio::test]
async fn a_server_that_echoes_the_login_shows_no_password() {
    let port = echoing_smtp().await;
    let dir = tempfile::tempdir().expect("tmp");
    let store = torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
        .await
        .expect("open");
    let waiting = waiting_answer(&*store, "e", Channel::Email, "kari@example.no").await;
    let smtp = SmtpDelivery::fixed(HashMap::from([(waiting.tenant, account(1, port))]), 1);
    let r = pass(
        &*store,
        &smtp,
        &torg_domain::connector::HostRules::any(),
        jiff::Timestamp::now(),
        10,
    )
    .await
    .expect("pass");
    assert_eq!(r.sent, 0);
    let shown = shown_errors(&*store, waiting, "smtp").await;
    assert!(!shown.is_empty());
    for text in &shown {
        assert!(!text.contains(PASSWORD), "{text}");
    }
    assert!(shown[0].contains("[hidden]"), "{shown:?}");
}
