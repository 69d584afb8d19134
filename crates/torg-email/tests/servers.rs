//! Email against real servers from Debian's packages: Dovecot (IMAP, and LMTP for delivery)
//! and OpenSMTPD (SMTP), started on free loopback ports with throwaway configurations.
//! With TORG_TEST_MAIL set (as `.ci/run` does) missing servers fail the test instead of
//! skipping it.

use jiff::Timestamp;
use lettre::AsyncTransport;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use torg_core::intake::{AckFacts, Acknowledger, IntakeLimits, TenantConfig};
use torg_domain::{Channel, MessageKind};
use torg_email::ingest::{Mailroom, Outcome};
use torg_store::{DeliveryState, MailAccount, MailServer, NewMunicipality, Store};

const PASSWORD: &str = "hemmelig";

struct MailServers {
    dir: tempfile::TempDir,
    imap_port: u16,
    smtp_port: u16,
    dovecot: Child,
    smtpd: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn id_of(flag: &str, user: &str) -> String {
    let out = Command::new("id").args([flag, user]).output().expect("id");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn wait_for(port: u16) {
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("nothing answers on port {port}");
}

impl MailServers {
    fn start() -> Option<MailServers> {
        let have = |bin: &str| Path::new(bin).exists();
        if !have("/usr/sbin/dovecot") || !have("/usr/sbin/smtpd") {
            assert!(
                std::env::var("TORG_TEST_MAIL").is_err(),
                "TORG_TEST_MAIL is set but dovecot or OpenSMTPD is missing"
            );
            eprintln!(
                "dovecot or OpenSMTPD missing: skipping the mail server tests (.ci/run installs them)"
            );
            return None;
        }
        let dir = tempfile::tempdir().expect("tmp");
        let d = dir.path().to_path_buf();
        for sub in ["run", "state", "mail"] {
            std::fs::create_dir_all(d.join(sub)).expect("dir");
        }
        let (uid, gid) = (id_of("-u", "dovecot"), id_of("-g", "dovecot"));
        let chown = Command::new("chown")
            .arg("-R")
            .arg(format!("{uid}:{gid}"))
            .arg(d.join("mail"))
            .status()
            .expect("chown");
        assert!(chown.success());
        // Dovecot's processes must be able to reach the directory.
        let _ = Command::new("chmod").arg("755").arg(&d).status();
        std::fs::write(
            d.join("users"),
            format!("postmottak:{{PLAIN}}{PASSWORD}\nola:{{PLAIN}}{PASSWORD}\n"),
        )
        .expect("users");
        let (imap_port, lmtp_port, smtp_port) = (free_port(), free_port(), free_port());
        let d_s = d.display();
        std::fs::write(
            d.join("dovecot.conf"),
            format!(
                "base_dir = {d_s}/run\nstate_dir = {d_s}/state\nlog_path = {d_s}/dovecot.log\n\
                 protocols = imap lmtp\nlisten = 127.0.0.1\nssl = no\ndisable_plaintext_auth = no\n\
                 auth_mechanisms = plain login\nmail_location = maildir:{d_s}/mail/%n\n\
                 first_valid_uid = {uid}\ndefault_internal_user = dovecot\ndefault_login_user = dovenull\n\
                 passdb {{\n driver = passwd-file\n args = scheme=PLAIN username_format=%n {d_s}/users\n}}\n\
                 userdb {{\n driver = static\n args = uid={uid} gid={gid} home={d_s}/mail/%n\n}}\n\
                 service imap-login {{\n inet_listener imap {{\n  address = 127.0.0.1\n  port = {imap_port}\n }}\n inet_listener imaps {{\n  port = 0\n }}\n}}\n\
                 service lmtp {{\n inet_listener lmtp {{\n  address = 127.0.0.1\n  port = {lmtp_port}\n }}\n}}\n\
                 protocol lmtp {{\n auth_username_format = %n\n}}\n"
            ),
        )
        .expect("dovecot.conf");
        std::fs::write(
            d.join("smtpd.conf"),
            format!(
                "table vusers {{ \"@\" = \"dovecot\" }}\nlisten on 127.0.0.1 port {smtp_port}\n\
                 action \"deliver\" lmtp \"127.0.0.1:{lmtp_port}\" rcpt-to virtual <vusers>\n\
                 match from local for any action \"deliver\"\n"
            ),
        )
        .expect("smtpd.conf");
        let _ = Command::new("chmod")
            .arg("600")
            .arg(d.join("smtpd.conf"))
            .status();
        let dovecot = Command::new("/usr/sbin/dovecot")
            .arg("-F")
            .arg("-c")
            .arg(d.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dovecot");
        wait_for(imap_port);
        let mut servers = MailServers {
            dir,
            imap_port,
            smtp_port,
            dovecot,
            smtpd: None,
        };
        servers.start_smtpd();
        Some(servers)
    }

    fn start_smtpd(&mut self) {
        let child = Command::new("/usr/sbin/smtpd")
            .arg("-d")
            .arg("-f")
            .arg(self.dir.path().join("smtpd.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("smtpd");
        self.smtpd = Some(child);
        wait_for(self.smtp_port);
    }

    fn stop_smtpd(&mut self) {
        if let Some(mut c) = self.smtpd.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        // Its helper processes go with the parent; wait until the port is closed.
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.smtp_port)).is_err() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }

    fn account(&self) -> MailAccount {
        let server = |port| MailServer {
            host: "127.0.0.1".into(),
            port,
            security: "plain".into(),
            user: "postmottak".into(),
            password: PASSWORD.into(),
        };
        MailAccount {
            address: "postmottak@nordby.kommune.no".into(),
            display_name: "Nordby kommune".into(),
            imap: server(self.imap_port),
            imap_folder: "INBOX".into(),
            smtp: MailServer {
                user: String::new(),
                ..server(self.smtp_port)
            },
            max_message_bytes: 200_000,
        }
    }

    /// Delivers raw mail through the SMTP server, as a citizen's mail program would.
    async fn deliver(&self, from: &str, to: &str, raw: &str) {
        let t =
            lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::builder_dangerous("127.0.0.1")
                .port(self.smtp_port)
                .build();
        let envelope = lettre::address::Envelope::new(
            Some(from.parse().expect("from")),
            vec![to.parse().expect("to")],
        )
        .expect("envelope");
        t.send_raw(&envelope, raw.as_bytes())
            .await
            .expect("delivered");
    }

    /// The messages in a user's inbox, parsed: (subject, in-reply-to, body).
    async fn inbox_of(&self, user: &str, expect: usize) -> Vec<(String, String, String)> {
        for _ in 0..50 {
            let found = self.read_inbox(user).await;
            if found.len() >= expect {
                return found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.read_inbox(user).await
    }

    async fn read_inbox(&self, user: &str) -> Vec<(String, String, String)> {
        use futures_util::TryStreamExt;
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.imap_port))
            .await
            .expect("connect");
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.expect("greeting");
        let mut session = client
            .login(user, PASSWORD)
            .await
            .map_err(|e| e.0)
            .expect("login");
        let mailbox = session.select("INBOX").await.expect("select");
        if mailbox.exists == 0 {
            return vec![];
        }
        let fetched: Vec<_> = session
            .fetch("1:*", "BODY.PEEK[]")
            .await
            .expect("fetch")
            .try_collect()
            .await
            .expect("fetch");
        fetched
            .iter()
            .filter_map(|f| f.body())
            .filter_map(|raw| mail_parser::MessageParser::default().parse(raw))
            .map(|m| {
                (
                    m.subject().unwrap_or("").to_string(),
                    m.in_reply_to().as_text().unwrap_or("").to_string(),
                    m.body_text(0).unwrap_or_default().to_string(),
                )
            })
            .collect()
    }
}

impl Drop for MailServers {
    fn drop(&mut self) {
        self.stop_smtpd();
        let _ = self.dovecot.kill();
        let _ = self.dovecot.wait();
    }
}

fn acknowledger() -> Box<Acknowledger> {
    Box::new(|f: &AckFacts<'_>| {
        format!(
            "Hei {}! Vi har mottatt henvendelsen din ({{referanse}}).",
            f.citizen_name
        )
    })
}

async fn send(
    store: &dyn Store,
    account: &MailAccount,
    tenant: i64,
    at: Timestamp,
) -> torg_email::smtp::SendReport {
    let accounts: HashMap<i64, MailAccount> = [(tenant, account.clone())].into();
    torg_email::smtp::send_due(store, &accounts, at, 100, 8)
        .await
        .expect("send")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_in_and_out_through_real_servers() {
    let Some(mut servers) = MailServers::start() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let store: Arc<dyn Store> = torg_store_sql::open(&dir.path().join("torg.db").to_string_lossy())
        .await
        .expect("store");
    let m = store
        .create_municipality(NewMunicipality {
            slug: "nordby".into(),
            name: "Nordby kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await
        .expect("m");
    store
        .create_unit(m.id, "Servicetorget", true)
        .await
        .expect("unit");
    let account = servers.account();
    store
        .set_mail_account(m.id, Some(account.clone()))
        .await
        .expect("account");
    let config = TenantConfig::load(&*store, m.clone())
        .await
        .expect("config");
    let ack = acknowledger();
    let room = Mailroom {
        store: &*store,
        config: &config,
        account: &account,
        limits: IntakeLimits::default(),
        acknowledger: Some(&*ack),
    };

    // 1. A citizen writes, in ISO-8859-1 with an encoded subject and an attachment.
    let first = "From: =?ISO-8859-1?Q?Ola_Nordmann_=D8st?= <ola@nordby.no>\r\n\
        To: postmottak@nordby.kommune.no\r\n\
        Subject: =?ISO-8859-1?Q?Vannlekkasje_i_gr=F8fta?=\r\n\
        Message-ID: <ola-1@nordby.no>\r\n\
        MIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=\"grense\"\r\n\r\n\
        --grense\r\n\
        Content-Type: text/plain; charset=ISO-8859-1\r\n\
        Content-Transfer-Encoding: quoted-printable\r\n\r\n\
        Det renner vann i gr=F8fta ved Fjordgata 12. Kan dere se p=E5 det?\r\n\
        --grense\r\n\
        Content-Type: image/png\r\n\
        Content-Disposition: attachment; filename=\"bilde.png\"\r\n\
        Content-Transfer-Encoding: base64\r\n\r\n\
        iVBORw0KGgo=\r\n\
        --grense--\r\n";
    servers
        .deliver("ola@nordby.no", "postmottak@nordby.kommune.no", first)
        .await;
    servers.inbox_of("postmottak", 1).await;
    let report = torg_email::imap::poll(&room, 50).await.expect("poll");
    assert_eq!((report.fetched, report.created), (1, 1), "{report:?}");
    let list = store
        .list_inquiries(m.id, &Default::default(), None, 10)
        .await
        .expect("list");
    assert_eq!(list.len(), 1);
    let inquiry = store
        .inquiry(m.id, list[0].id)
        .await
        .expect("i")
        .expect("i");
    assert_eq!(inquiry.channel, Channel::Email);
    assert_eq!(inquiry.citizen_name, "Ola Nordmann Øst");
    assert_eq!(inquiry.subject.as_deref(), Some("Vannlekkasje i grøfta"));
    assert_eq!(inquiry.contact_email.as_deref(), Some("ola@nordby.no"));
    let thread = store
        .messages(m.id, inquiry.id, true)
        .await
        .expect("thread");
    assert!(
        thread[0].body.contains("Det renner vann i grøfta"),
        "{}",
        thread[0].body
    );
    assert_eq!(thread[0].attachments.len(), 1);
    assert_eq!(thread[0].attachments[0].filename, "bilde.png");
    assert_eq!(thread[1].kind, MessageKind::Acknowledgement);

    // Polling again finds nothing new: the message is marked on the server.
    let again = torg_email::imap::poll(&room, 50).await.expect("poll");
    assert_eq!(again.fetched, 0);

    // 2. The acknowledgement reaches the citizen's mailbox, threaded under their message.
    let sent = send(&*store, &account, m.id, Timestamp::now()).await;
    assert_eq!(sent.sent, 1, "{sent:?}");
    let ola = servers.inbox_of("ola", 1).await;
    assert_eq!(ola.len(), 1);
    let reference = inquiry.reference.to_string();
    assert!(ola[0].0.contains(&reference), "subject {:?}", ola[0].0);
    assert!(ola[0].0.starts_with("Re: Vannlekkasje i grøfta"));
    assert_eq!(ola[0].1, "ola-1@nordby.no");
    assert!(ola[0].2.contains(&format!("({reference})")), "{}", ola[0].2);

    // 3. The citizen answers the acknowledgement: it joins the thread.
    let ack_id = {
        let claimed = store.deliveries(m.id, inquiry.id).await.expect("d");
        assert!(matches!(claimed[0].1, DeliveryState::Sent { .. }));
        // Our Message-ID is the one the citizen's program answers to.
        let raw_ack = servers.read_inbox("ola").await;
        assert_eq!(raw_ack.len(), 1);
        let out = store
            .inquiry_by_reference(m.id, &reference)
            .await
            .expect("r");
        assert_eq!(out, Some(inquiry.id));
        reply_target(&servers).await
    };
    let answer = format!(
        "From: Ola Nordmann <ola@nordby.no>\r\nTo: postmottak@nordby.kommune.no\r\n\
         Subject: Re: Vannlekkasje [{reference}]\r\nMessage-ID: <ola-2@nordby.no>\r\n\
         In-Reply-To: {ack_id}\r\nReferences: <ola-1@nordby.no> {ack_id}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nDet er verre nå.\r\n"
    );
    servers
        .deliver("ola@nordby.no", "postmottak@nordby.kommune.no", &answer)
        .await;
    // An out-of-office reply to our acknowledgement: kept, never answered.
    let vacation = format!(
        "From: Ola Nordmann <ola@nordby.no>\r\nTo: postmottak@nordby.kommune.no\r\n\
         Subject: Fraværsmelding: Re: Vannlekkasje\r\nMessage-ID: <ola-ferie@nordby.no>\r\n\
         Auto-Submitted: auto-replied\r\nIn-Reply-To: {ack_id}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nJeg er på ferie.\r\n"
    );
    servers
        .deliver("ola@nordby.no", "postmottak@nordby.kommune.no", &vacation)
        .await;
    // A malformed message: no sender.
    servers
        .deliver(
            "x@nordby.no",
            "postmottak@nordby.kommune.no",
            "Subject: hei\r\nMessage-ID: <uten-avsender@x>\r\n\r\nhei\r\n",
        )
        .await;
    servers.inbox_of("postmottak", 4).await;
    let report = torg_email::imap::poll(&room, 50).await.expect("poll");
    assert_eq!(
        (
            report.fetched,
            report.threaded,
            report.automatic,
            report.quarantined,
            report.created
        ),
        (3, 1, 1, 1, 0),
        "{report:?}"
    );
    let thread = store
        .messages(m.id, inquiry.id, true)
        .await
        .expect("thread");
    assert!(
        thread
            .iter()
            .any(|m| m.kind == MessageKind::Inbound && m.body.contains("Det er verre nå"))
    );
    assert!(
        thread
            .iter()
            .any(|m| m.kind == MessageKind::Note && m.body.contains("Jeg er på ferie"))
    );
    let quarantined = store.quarantined_mail(m.id, 10).await.expect("q");
    assert_eq!(quarantined.len(), 1);
    assert!(
        quarantined[0].reason.contains("no sender"),
        "{:?}",
        quarantined[0]
    );
    let nothing_for_vacation = send(&*store, &account, m.id, Timestamp::now()).await;
    assert_eq!(
        nothing_for_vacation.sent, 0,
        "automatic messages are never answered"
    );

    // 4. A crash between fetch and commit: the message was taken in but not marked. Fetching
    //    again makes no duplicate.
    let third = "From: Kari <kari@nordby.no>\r\nTo: postmottak@nordby.kommune.no\r\n\
        Subject: Brøyting\r\nMessage-ID: <kari-1@nordby.no>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
        Når kommer brøytebilen?\r\n";
    servers
        .deliver("kari@nordby.no", "postmottak@nordby.kommune.no", third)
        .await;
    servers.inbox_of("postmottak", 5).await;
    let before_crash = room
        .take_in(third.as_bytes(), Timestamp::now())
        .await
        .expect("take in");
    assert!(matches!(before_crash, Outcome::Created { .. }));
    let after_restart = torg_email::imap::poll(&room, 50).await.expect("poll");
    assert_eq!(
        (
            after_restart.fetched,
            after_restart.duplicates,
            after_restart.created
        ),
        (1, 1, 0)
    );
    assert_eq!(store.count_inquiries(m.id).await.expect("count"), 2);

    // 5. Staff answer Ola while the SMTP server is down: tried again, nothing lost, nothing
    //    doubled; the server's answer is shown meanwhile.
    servers.stop_smtpd();
    let outgoing = torg_core::mail::reply_outgoing(Some(&account), &inquiry);
    assert!(outgoing.is_some());
    let unit = config.units[0].clone();
    let reply = torg_core::reply::write(
        &*store,
        &m,
        &inquiry,
        &unit,
        None,
        MessageKind::Outbound,
        "Vi sender en rørlegger i dag.",
        IntakeLimits::default().text,
        Timestamp::now(),
        outgoing,
    )
    .await
    .expect("reply");
    let now = Timestamp::now();
    let down = send(&*store, &account, m.id, now).await;
    assert_eq!(
        (down.sent, down.retried),
        (0, 2),
        "Kari's acknowledgement and the reply wait: {down:?}"
    );
    let states = store.deliveries(m.id, inquiry.id).await.expect("d");
    let state = states
        .iter()
        .find(|(id, _)| *id == reply.id)
        .expect("reply queued")
        .1
        .clone();
    assert!(
        matches!(
            state,
            DeliveryState::Pending {
                attempts: 1,
                last_error: Some(_)
            }
        ),
        "{state:?}"
    );
    servers.start_smtpd();
    let later = now + jiff::SignedDuration::from_mins(5);
    let up = send(&*store, &account, m.id, later).await;
    assert_eq!(up.sent, 2, "{up:?}");
    let again = send(
        &*store,
        &account,
        m.id,
        later + jiff::SignedDuration::from_hours(2),
    )
    .await;
    assert_eq!(again.sent, 0, "never twice");
    let ola = servers.inbox_of("ola", 2).await;
    let replies: Vec<_> = ola
        .iter()
        .filter(|(_, _, body)| body.contains("rørlegger"))
        .collect();
    assert_eq!(replies.len(), 1, "exactly one reply arrived: {ola:?}");
    assert_eq!(
        replies[0].1, "ola-1@nordby.no",
        "threaded under the citizen's first message"
    );
    assert!(
        replies[0].2.contains("Vennlig hilsen"),
        "signed: {}",
        replies[0].2
    );
}

/// The Message-ID of our acknowledgement as the citizen received it.
async fn reply_target(servers: &MailServers) -> String {
    use futures_util::TryStreamExt;
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", servers.imap_port))
        .await
        .expect("connect");
    let mut client = async_imap::Client::new(tcp);
    client.read_response().await.expect("greeting");
    let mut session = client
        .login("ola", PASSWORD)
        .await
        .map_err(|e| e.0)
        .expect("login");
    session.select("INBOX").await.expect("select");
    let fetched: Vec<_> = session
        .fetch("1", "BODY.PEEK[]")
        .await
        .expect("fetch")
        .try_collect()
        .await
        .expect("fetch");
    let raw = fetched[0].body().expect("body");
    let parsed = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("parse");
    format!("<{}>", parsed.message_id().expect("our Message-ID"))
}
