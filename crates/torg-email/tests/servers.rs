//! Email against real servers from Debian's packages: Dovecot (IMAP, and LMTP for delivery)
//! and OpenSMTPD (SMTP), started on free loopback ports with throwaway configurations.
//! With TORG_TEST_MAIL set (as `.ci/run` does) missing servers fail the test instead of
//! skipping it.

use jiff::Timestamp;
use std::collections::HashMap;
use std::sync::Arc;
use torg_core::intake::{AckFacts, Acknowledger, IntakeLimits, TenantConfig};
use torg_domain::{Channel, MessageKind};
use torg_email::ingest::{Mailroom, Outcome};
use torg_store::{DeliveryState, MailAccount, NewMunicipality, Store};
use torg_testkit::mail::{MailServers, PASSWORD};

/// OpenSMTPD has one spool and one control socket per machine: one test at a time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A fresh SQLite store with Nordby kommune and its service desk.
async fn nordby() -> (tempfile::TempDir, Arc<dyn Store>, torg_store::Municipality) {
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
        .create_unit(m.id, "Servicetorget", true, false, None)
        .await
        .expect("unit");
    (dir, store, m)
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
    tenant: torg_domain::TenantId,
    at: Timestamp,
) -> torg_email::smtp::SendReport {
    let accounts: HashMap<torg_domain::TenantId, MailAccount> = [(tenant, account.clone())].into();
    torg_email::smtp::send_due(store, &accounts, at, 100, 8)
        .await
        .expect("send")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_in_and_out_through_real_servers() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(mut servers) = MailServers::start() else {
        return;
    };
    let (_dir, store, m) = nordby().await;
    let account = servers.account();
    store
        .set_mail_account(m.id, Some(account.clone()), None)
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
    let reply = torg_core::reply::reply(
        &*store,
        &torg_core::reply::NoLiveChat,
        &m,
        &torg_core::actor::Actor::cli(),
        &IntakeLimits::default(),
        Timestamp::now(),
        torg_core::reply::ReplyRequest {
            inquiry: &inquiry,
            unit: &unit,
            author: None,
            kind: MessageKind::Outbound,
            body: "Vi sender en rørlegger i dag.",
            privately: false,
            confirm_personal_data: false,
            files: &[],
        },
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
    let health = store.connector_statuses(Some(m.id)).await.expect("health");
    assert!(
        health.iter().any(|s| s.connector == "smtp" && !s.ok),
        "the outgoing server shows as failing: {health:?}"
    );
    servers.start_smtpd();
    let later = now + jiff::SignedDuration::from_mins(5);
    let up = send(&*store, &account, m.id, later).await;
    assert_eq!(up.sent, 2, "{up:?}");
    let health = store.connector_statuses(Some(m.id)).await.expect("health");
    assert!(
        health.iter().any(|s| s.connector == "smtp" && s.ok),
        "and working again"
    );
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

    // 6. Limits: a message over the size limit and one with a program attached are kept in
    //    quarantine, and each sender gets one polite automatic answer; staff can take the
    //    large one in after all.
    let big = format!(
        "From: Kari <kari@nordby.no>\r\nTo: postmottak@nordby.kommune.no\r\n\
         Subject: Tegninger\r\nMessage-ID: <kari-stor@nordby.no>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nHer er tegningene.\r\n{}\r\n",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n".repeat(4_000)
    );
    let program = "From: Ola Nordmann <ola@nordby.no>\r\nTo: postmottak@nordby.kommune.no\r\n\
        Subject: Faktura\r\nMessage-ID: <ola-exe@nordby.no>\r\nMIME-Version: 1.0\r\n\
        Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\nSe vedlagt faktura.\r\n--b\r\n\
        Content-Type: application/octet-stream\r\n\
        Content-Disposition: attachment; filename=\"faktura.pdf.exe\"\r\n\
        Content-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA\r\n--b--\r\n";
    servers
        .deliver("kari@nordby.no", "postmottak@nordby.kommune.no", &big)
        .await;
    servers
        .deliver("ola@nordby.no", "postmottak@nordby.kommune.no", program)
        .await;
    servers.inbox_of("postmottak", 7).await;
    let report = torg_email::imap::poll(&room, 50).await.expect("poll");
    assert_eq!((report.fetched, report.quarantined), (2, 2), "{report:?}");
    let held = store.quarantined_mail(m.id, 10).await.expect("q");
    let big_held = held
        .iter()
        .find(|q| q.message_id == "<kari-stor@nordby.no>")
        .expect("the large one is kept");
    assert!(
        big_held.reason.contains("the limit is 200000 bytes"),
        "{big_held:?}"
    );
    assert!(big_held.size > 200_000, "kept whole: {big_held:?}");
    let exe_held = held
        .iter()
        .find(|q| q.message_id == "<ola-exe@nordby.no>")
        .expect("the program is kept");
    assert!(
        exe_held.reason.contains("blocked type (.exe)"),
        "{exe_held:?}"
    );
    let notices = send(&*store, &account, m.id, Timestamp::now()).await;
    assert_eq!(notices.sent, 2, "one notice each: {notices:?}");
    let kari = servers.inbox_of("kari", 2).await;
    let notice = kari
        .iter()
        .find(|(subject, _, _)| subject.starts_with("Meldingen din er for stor"))
        .expect("Kari is told");
    assert_eq!(notice.1, "kari-stor@nordby.no", "an answer to her message");
    assert!(
        notice.2.contains("saksbehandler vil se på den"),
        "{}",
        notice.2
    );
    let ola = servers.inbox_of("ola", 3).await;
    assert!(
        ola.iter()
            .any(|(s, _, body)| s.starts_with("Vedlegget ble ikke tatt imot")
                && body.contains("faktura.pdf.exe")),
        "{ola:?}"
    );
    // Fetched again (a crash before the flags were set): no second notice.
    for raw in [big.as_bytes(), program.as_bytes()] {
        let again = room.take_in(raw, Timestamp::now()).await.expect("again");
        assert!(matches!(again, Outcome::Quarantined { .. }), "{again:?}");
    }
    let later = Timestamp::now() + jiff::SignedDuration::from_hours(3);
    assert_eq!(send(&*store, &account, m.id, later).await.sent, 0);
    // Staff take the large one in after looking at it.
    let raw = store
        .quarantined_raw(m.id, big_held.id)
        .await
        .expect("raw")
        .expect("kept");
    let released = room
        .take_in_released(&raw, Timestamp::now())
        .await
        .expect("release");
    assert!(matches!(released, Outcome::Created { .. }), "{released:?}");
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

/// `torg serve`'s worker, end to end: it watches the mailbox with IDLE (the poll interval is
/// an hour here, so only IDLE can bring the mail in), takes a new message in, and sends the
/// acknowledgement to the citizen's mailbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_takes_mail_in_at_once_with_idle_and_answers() {
    let _turn = ONE_AT_A_TIME.lock().await;
    let Some(servers) = MailServers::start() else {
        return;
    };
    let (_dir, store, m) = nordby().await;
    // Stored as `torg mail set` stores it: the passwords sealed.
    let key = torg_core::sealing::SecretKey::generate();
    let mut account = servers.account();
    use torg_core::sealing::Place;
    let tenant = m.id;
    account.imap.password = key.seal(&Place::MailImap { tenant }, &account.imap.password);
    account.smtp.password = key.seal(&Place::MailSmtp { tenant }, &account.smtp.password);
    store
        .set_mail_account(m.id, Some(account), None)
        .await
        .expect("account");
    // The reader and the email delivery loop, as `torg serve` starts them.
    let (_stop, stopping) = tokio::sync::watch::channel(false);
    tokio::spawn(torg_email::worker::read_mail(
        torg_email::worker::Reader {
            store: store.clone(),
            key: key.clone(),
            hosts: torg_domain::connector::HostRules::any(),
            limits: IntakeLimits::default(),
            acknowledgements: torg_core::acknowledge::Acknowledgements::new(
                Arc::new(torg_i18n::Catalog::load(None).expect("catalogue")),
                "http://torg.test",
            ),
            poll: std::time::Duration::from_secs(3600),
            node: "test".into(),
        },
        stopping.clone(),
    ));
    tokio::spawn(torg_core::delivery::run(
        store.clone(),
        Arc::new(torg_email::smtp::SmtpDelivery::from_store(
            store.clone(),
            key,
            4,
        )),
        torg_domain::connector::HostRules::any(),
        std::time::Duration::from_millis(200),
        500,
        stopping,
    ));
    // The first pass runs at start; let the watcher settle into IDLE.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let mail = "From: Ola Nordmann <ola@nordby.no>\r\nTo: postmottak@nordby.kommune.no\r\n\
        Subject: Gatelys\r\nMessage-ID: <ola-idle@nordby.no>\r\n\
        Content-Type: text/plain; charset=utf-8\r\n\r\nGatelyset i Fjordgata er mørkt.\r\n";
    let sent_at = std::time::Instant::now();
    servers
        .deliver("ola@nordby.no", "postmottak@nordby.kommune.no", mail)
        .await;
    let mut taken_in = None;
    for _ in 0..100 {
        if store.count_inquiries(m.id).await.expect("count") == 1 {
            taken_in = Some(sent_at.elapsed());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let taken_in = taken_in.expect("taken in within 10 s, long before the next poll");
    let ola = servers.inbox_of("ola", 1).await;
    assert!(ola[0].0.starts_with("Re: Gatelys"), "{ola:?}");
    assert_eq!(ola[0].1, "ola-idle@nordby.no");
    eprintln!("taken in {taken_in:?} after delivery");

    // Staff answer with a map attached: the delivery loop sends one multipart email that
    // carries the file byte for byte.
    let inquiry = store
        .list_inquiries(m.id, &torg_store::InquiryFilter::default(), None, 10)
        .await
        .expect("list")
        .into_iter()
        .next()
        .expect("Ola's inquiry");
    let inquiry = store
        .inquiry(m.id, inquiry.id)
        .await
        .expect("inquiry")
        .expect("inquiry");
    let unit = store.list_units(m.id).await.expect("units")[0].clone();
    let map: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"
        .iter()
        .copied()
        .chain((0..=255u8).cycle().take(70_000))
        .collect();
    let files = [torg_store::NewAttachment {
        filename: "Kart over Fjordgata.pdf".into(),
        content_type: "application/pdf".into(),
        data: map.clone(),
    }];
    torg_core::reply::reply(
        &*store,
        &torg_core::reply::NoLiveChat,
        &m,
        &torg_core::actor::Actor::cli(),
        &IntakeLimits::default(),
        Timestamp::now(),
        torg_core::reply::ReplyRequest {
            inquiry: &inquiry,
            unit: &unit,
            author: None,
            kind: MessageKind::Outbound,
            body: "Lyset blir reparert i morgen. Kartet viser hvor.",
            privately: false,
            confirm_personal_data: false,
            files: &files,
        },
    )
    .await
    .expect("reply with a file");
    servers.inbox_of("ola", 2).await;
    let raws = servers.raw_inbox("ola").await;
    let replies: Vec<_> = raws
        .iter()
        .filter_map(|raw| mail_parser::MessageParser::default().parse(raw))
        .filter(|m| m.body_text(0).is_some_and(|b| b.contains("reparert")))
        .collect();
    assert_eq!(replies.len(), 1, "one reply, never two");
    use mail_parser::MimeHeaders;
    let attached: Vec<_> = replies[0].attachments().collect();
    assert_eq!(attached.len(), 1);
    assert_eq!(
        attached[0].attachment_name(),
        Some("Kart over Fjordgata.pdf")
    );
    assert_eq!(attached[0].contents(), &map[..], "byte for byte");
}

/// A subscriber by email through the real servers: the confirmation with its link, and after
/// confirming, a crisis's alert with the one-click unsubscribe headers (RFC 8058); after
/// unsubscribing, nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_get_crisis_alerts_by_email() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(servers) = MailServers::start() else {
        return;
    };
    let (_dir, store, m) = nordby().await;
    let account = servers.account();
    let catalog = Arc::new(torg_i18n::Catalog::load(None).expect("catalog"));
    let t = torg_i18n::Tr::new(catalog, "nb");
    let actor = torg_core::actor::Actor::cli();
    let base = "https://nordby.example";
    let outcomes = torg_core::subscribe::subscribe(
        &*store,
        &actor,
        &t,
        &m,
        &torg_core::subscribe::Request {
            email: Some("Kari@Nordby.no".into()),
            language: "nb".into(),
            ..Default::default()
        },
        base,
    )
    .await
    .expect("subscribe");
    assert_eq!(outcomes.len(), 1);
    let sent = send(&*store, &account, m.id, Timestamp::now()).await;
    assert_eq!(sent.sent, 1, "{sent:?}");
    let kari = servers.inbox_of("kari", 1).await;
    assert_eq!(kari.len(), 1);
    let s = store
        .subscriber(
            m.id,
            torg_domain::subscription::Medium::Email,
            "kari@nordby.no",
        )
        .await
        .expect("read")
        .expect("pending");
    let confirm = format!("{base}/k/nordby/subscription/{}/confirm", s.token);
    assert!(kari[0].2.contains(&confirm), "{}", kari[0].2);
    // Nothing is sent to a subscription that is not confirmed.
    let lead = torg_core::crisis::Lead {
        actor: &actor,
        user: None,
        chat: &torg_core::reply::NoLiveChat,
        limits: Default::default(),
        base,
    };
    let declaration = torg_core::crisis::Declaration {
        template: "gas".into(),
        ..Default::default()
    };
    let (first, alert) = torg_core::crisis::start(&*store, &t, &m, &lead, &declaration)
        .await
        .expect("crisis");
    assert_eq!(alert.recipients, 0, "not confirmed yet");
    torg_core::subscribe::confirm(&*store, &actor, &s.token)
        .await
        .expect("confirm");
    torg_core::crisis::update(
        &*store,
        &t,
        &m,
        &lead,
        first.id,
        status("Lukten er borte.", true),
    )
    .await
    .expect("end");
    let (_, alert) = torg_core::crisis::start(&*store, &t, &m, &lead, &declaration)
        .await
        .expect("crisis");
    assert_eq!(alert.recipients, 1);
    let sent = send(&*store, &account, m.id, Timestamp::now()).await;
    assert_eq!(sent.sent, 2, "the end and the new alert: {sent:?}");
    // The end and the new alert may reach the mailbox in either order; both go to a
    // subscriber, so both carry the one-click headers.
    let parsed = servers.inbox_of("kari", 3).await;
    let raw = servers.raw_inbox("kari").await;
    assert_eq!(raw.len(), 3);
    let unsubscribe = format!("{base}/k/nordby/subscription/{}/unsubscribe", s.token);
    for mail in &raw[1..] {
        let mail = String::from_utf8_lossy(mail);
        assert!(
            mail.contains(&format!("List-Unsubscribe: <{unsubscribe}>")),
            "{mail}"
        );
        assert!(mail.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    }
    let alert_mail = parsed[1..]
        .iter()
        .find(|mail| mail.2.contains("Hold vinduer"))
        .unwrap_or_else(|| panic!("no alert with its advice: {parsed:?}"));
    assert!(alert_mail.0.contains("Gasslekkasje"), "{alert_mail:?}");
    assert!(
        parsed[1..]
            .iter()
            .any(|mail| mail.2.contains("Lukten er borte")),
        "the end went too: {parsed:?}"
    );
    // Unsubscribed: the next message does not go.
    torg_core::subscribe::unsubscribe(&*store, &actor, &s.token)
        .await
        .expect("unsubscribe");
    let next = torg_core::crisis::update(
        &*store,
        &t,
        &m,
        &lead,
        first.id + 1,
        status("Ny status.", false),
    )
    .await
    .expect("update");
    assert_eq!(next.recipients, 0);
}

fn status(text: &str, end: bool) -> torg_core::crisis::Status<'_> {
    torg_core::crisis::Status {
        text,
        end,
        publish: false,
    }
}
