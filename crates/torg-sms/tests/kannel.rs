//! SMS against a real Kannel (Debian's bearerbox and smsbox with the fake SMSC): a citizen's
//! message arrives through Kannel's get-url at Torg's hook, goes to the unit its code word
//! names, is acknowledged by SMS; staff's answer reaches the phone; STOPP stops it; a forged
//! callback is refused. With TORG_TEST_SMS set (as `.ci/run` does) a missing Kannel fails the
//! test instead of skipping it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use torg_domain::{Channel, MessageKind};
use torg_store::{NewMunicipality, SmsGateway, SmsKeyword, Store};
use torg_testkit::sms::{Kannel, PASSWORD, SENDER, USERNAME};

const KEY: &str = "hemmelig-noekkel";

/// Nordby kommune on a fresh store, its web server (for Kannel's callbacks) and a real Kannel
/// whose get-url is the municipality's hook; `None` when Kannel is not installed.
struct Nordby {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    m: torg_store::Municipality,
    water: torg_store::Unit,
    port: u16,
    kannel: Kannel,
    gateways: HashMap<torg_domain::TenantId, SmsGateway>,
    callbacks: HashMap<torg_domain::TenantId, String>,
    client: reqwest::Client,
}

impl Nordby {
    async fn send(&self) -> torg_sms::kannel::SmsReport {
        torg_sms::kannel::send_due(
            &*self.store,
            &self.gateways,
            &self.callbacks,
            &self.client,
            jiff::Timestamp::now(),
            100,
            8,
        )
        .await
        .expect("send")
    }
}

async fn nordby() -> Option<Nordby> {
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
        .expect("desk");
    let water = store
        .create_unit(m.id, "Vann og avløp", false, false, None)
        .await
        .expect("water");
    store
        .set_sms_keyword(
            m.id,
            &SmsKeyword {
                keyword: "vann".into(),
                unit_id: Some(water.id),
                reply: String::new(),
            },
            None,
        )
        .await
        .expect("keyword");
    // Torg's web server, for the hook.
    let catalog = Arc::new(torg_http::Catalog::load(None).expect("catalog"));
    let state = torg_http::AppState::new(
        store.clone(),
        catalog,
        torg_http::WebSettings {
            rate_limits: torg_http::RateLimits::OFF,
            ..Default::default()
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let app = torg_http::router(state);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let hook = format!("http://127.0.0.1:{port}/hooks/sms/nordby?key={KEY}");
    let kannel = Kannel::start(&hook)?;
    let gateway = SmsGateway {
        sendsms_url: kannel.sendsms_url(),
        username: USERNAME.into(),
        password: PASSWORD.into(),
        sender: SENDER.into(),
        inbound_key: KEY.into(),
    };
    store
        .set_sms_gateway(m.id, Some(gateway.clone()), None)
        .await
        .expect("gateway");
    let gateways: HashMap<torg_domain::TenantId, SmsGateway> = [(m.id, gateway)].into();
    torg_http::use_ring_crypto();
    let client = reqwest::Client::new();
    let callbacks: HashMap<torg_domain::TenantId, String> = [(
        m.id,
        format!("http://127.0.0.1:{port}/hooks/sms/nordby/dlr?key={KEY}"),
    )]
    .into();
    Some(Nordby {
        _dir: dir,
        store,
        m,
        water,
        port,
        kannel,
        gateways,
        callbacks,
        client,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_in_and_out_through_kannel() {
    let Some(n) = nordby().await else { return };
    let Nordby {
        store,
        m,
        water,
        port,
        kannel,
        client,
        ..
    } = &n;
    let (store, m, water, port, client) = (
        store.clone(),
        m.clone(),
        water.clone(),
        *port,
        client.clone(),
    );
    let send = || async { Ok::<_, ()>(n.send().await) };
    let mut network = kannel.network().await;

    // 1. A citizen texts the code word VANN: an inquiry in the water unit, acknowledged by SMS.
    network
        .send("4791234567", SENDER, "VANN Lekkasje i Storgata 5")
        .await;
    let mut inquiries = vec![];
    for _ in 0..100 {
        inquiries = store
            .list_inquiries(m.id, &Default::default(), None, 10)
            .await
            .expect("list");
        if !inquiries.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        inquiries.len(),
        1,
        "taken in (logs in {:?})",
        kannel.log_dir()
    );
    let inquiry = store
        .inquiry(m.id, inquiries[0].id)
        .await
        .expect("i")
        .expect("i");
    assert_eq!(inquiry.channel, Channel::Sms);
    assert_eq!(inquiry.unit_id, water.id, "routed by its code word");
    assert_eq!(inquiry.contact_phone.as_deref(), Some("+4791234567"));
    let report = send().await.expect("send");
    assert_eq!(report.sent, 1, "{report:?}");
    let health = store.connector_statuses(Some(m.id)).await.expect("health");
    assert!(
        health.iter().any(|s| s.connector == "sms" && s.ok),
        "{health:?}"
    );
    let (from, to, text) = network
        .receive(Duration::from_secs(10))
        .await
        .expect("the acknowledgement reaches the phone");
    assert_eq!((from.as_str(), to.as_str()), (SENDER, "4791234567"));
    assert!(
        text.contains(&inquiry.reference.to_string()),
        "the reference is in it: {text}"
    );

    // 2. Staff answer: the SMS reaches the phone, Norwegian letters and all.
    let config_unit = store.list_units(m.id).await.expect("units");
    let unit = config_unit.iter().find(|u| u.id == water.id).expect("unit");
    let reply = torg_core::reply::reply(
        &*store,
        &torg_core::reply::NoLiveChat,
        &m,
        &torg_core::actor::Actor::cli(),
        &torg_core::intake::IntakeLimits::default(),
        jiff::Timestamp::now(),
        torg_core::reply::ReplyRequest {
            inquiry: &inquiry,
            unit,
            author: None,
            kind: MessageKind::Outbound,
            body: "Vi sender en rørlegger i dag. Hilsen Vann og avløp",
            privately: false,
            confirm_personal_data: false,
            files: &[],
        },
    )
    .await
    .expect("reply");
    assert_eq!(send().await.expect("send").sent, 1);
    let (_, _, text) = network
        .receive(Duration::from_secs(10))
        .await
        .expect("the answer");
    assert!(text.contains("rørlegger"), "letters kept: {text}");
    // The network's delivery report comes back through Kannel's dlr-url.
    let mut delivered = false;
    for _ in 0..100 {
        let states = store.deliveries(m.id, inquiry.id).await.expect("d");
        delivered = states.iter().any(|(id, s)| {
            *id == reply.id && matches!(s, torg_store::DeliveryState::Delivered { .. })
        });
        if delivered {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(delivered, "the delivery report is recorded on the message");
    let forged = client
        .get(format!(
            "http://127.0.0.1:{port}/hooks/sms/nordby/dlr?key=gjett&outbox=1&type=2"
        ))
        .send()
        .await
        .expect("forged report");
    assert_eq!(forged.status(), reqwest::StatusCode::FORBIDDEN);

    // 3. STOPP: nothing more goes to that number; the refusal is kept.
    network.send("4791234567", SENDER, "STOPP").await;
    for _ in 0..100 {
        if store
            .sms_stopped(m.id, "+4791234567")
            .await
            .expect("consent")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        store
            .sms_stopped(m.id, "+4791234567")
            .await
            .expect("consent")
    );
    torg_core::reply::reply(
        &*store,
        &torg_core::reply::NoLiveChat,
        &m,
        &torg_core::actor::Actor::cli(),
        &torg_core::intake::IntakeLimits::default(),
        jiff::Timestamp::now(),
        torg_core::reply::ReplyRequest {
            inquiry: &inquiry,
            unit,
            author: None,
            kind: MessageKind::Outbound,
            body: "Er det fortsatt lekkasje?",
            privately: false,
            confirm_personal_data: false,
            files: &[],
        },
    )
    .await
    .expect("reply");
    let report = send().await.expect("send");
    assert_eq!((report.sent, report.failed), (0, 1), "{report:?}");
    assert!(network.receive(Duration::from_secs(1)).await.is_none());
    assert_eq!(
        store.count_inquiries(m.id).await.expect("count"),
        1,
        "STOPP is no inquiry"
    );

    // 4. A forged callback is refused and changes nothing; a repeated one is taken once.
    let base = format!("http://127.0.0.1:{port}/hooks/sms/nordby");
    let forged = client
        .get(format!("{base}?key=gjett&from=4799999999&text=Hei"))
        .send()
        .await
        .expect("forged");
    assert_eq!(forged.status(), reqwest::StatusCode::FORBIDDEN);
    for _ in 0..2 {
        let again = client
            .get(format!(
                "{base}?key={KEY}&from=4798888888&text=Hei%20der&id=abc-1"
            ))
            .send()
            .await
            .expect("again");
        assert_eq!(again.status(), reqwest::StatusCode::OK);
    }
    assert_eq!(store.count_inquiries(m.id).await.expect("count"), 2);
}

/// Subscriptions and a crisis by SMS through the real Kannel: ABONNER asks for a JA, JA
/// confirms, a crisis for the subscriber's area reaches the phone, a drill reaches only the
/// test recipient with ØVELSE first, and STOPP ends the subscription.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_get_crisis_alerts_through_kannel() {
    let Some(n) = nordby().await else { return };
    let store = &*n.store;
    let m = &n.m;
    let sentrum = store
        .put_area(
            m.id,
            &torg_store::Area {
                id: 0,
                name: "Sentrum".into(),
                polygon: vec![(10.0, 59.0), (10.1, 59.0), (10.1, 59.1), (10.0, 59.0)],
                postcodes: vec!["1400".into()],
            },
            None,
        )
        .await
        .expect("area");
    let mut network = n.kannel.network().await;

    // 1. ABONNER SENTRUM: a confirmation asks for JA; nothing else is sent yet.
    network.send("4791234567", SENDER, "ABONNER SENTRUM").await;
    let mut pending = None;
    for _ in 0..100 {
        pending = store
            .subscriber(m.id, torg_domain::subscription::Medium::Sms, "+4791234567")
            .await
            .expect("read");
        if pending.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let pending = pending.expect("the subscription is asked for");
    assert!(pending.confirmed_at.is_none());
    assert_eq!(pending.areas, vec![sentrum.id], "the area the words named");
    assert_eq!(n.send().await.sent, 1);
    let (_, to, text) = received(&mut network).await;
    assert_eq!(to, "4791234567");
    assert!(text.contains("JA"), "{text}");
    assert_eq!(
        store.count_inquiries(m.id).await.expect("count"),
        0,
        "no inquiry"
    );

    // 2. JA: confirmed, and welcomed with the link to the subscription's page.
    network.send("4791234567", SENDER, "Ja").await;
    for _ in 0..100 {
        let s = store
            .subscriber_by_token(&pending.token)
            .await
            .expect("read");
        if s.is_some_and(|s| s.confirmed_at.is_some()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(n.send().await.sent, 1);
    let (_, _, text) = received(&mut network).await;
    assert!(text.contains(&pending.token), "the private link: {text}");

    // 3. A crisis in Sentrum reaches the phone; an update again.
    let catalog = Arc::new(torg_i18n::Catalog::load(None).expect("catalog"));
    let t = torg_i18n::Tr::new(catalog, "nb");
    let actor = torg_core::actor::Actor::cli();
    let lead = torg_core::crisis::Lead {
        actor: &actor,
        user: None,
        chat: &torg_core::reply::NoLiveChat,
        limits: Default::default(),
        base: "https://nordby.example",
    };
    let (crisis, alert) = torg_core::crisis::start(
        store,
        &t,
        m,
        &lead,
        &torg_core::crisis::Declaration {
            template: "water".into(),
            areas: vec!["Sentrum".into()],
            text: "E. coli i vannet.".into(),
            ..Default::default()
        },
    )
    .await
    .expect("crisis");
    assert_eq!(alert.recipients, 1);
    assert_eq!(n.send().await.sent, 1);
    let (_, _, text) = received(&mut network).await;
    assert!(
        text.starts_with("Kok drikkevannet. E. coli i vannet."),
        "{text}"
    );
    assert!(text.contains("STOPP"), "{text}");
    torg_core::crisis::update(
        store,
        &t,
        m,
        &lead,
        crisis.id,
        status("Tankbil ved skolen.", false),
    )
    .await
    .expect("update");
    assert_eq!(n.send().await.sent, 1);
    let (_, _, text) = received(&mut network).await;
    assert!(text.contains("Tankbil ved skolen."), "{text}");
    torg_core::crisis::update(
        store,
        &t,
        m,
        &lead,
        crisis.id,
        status("Vannet er trygt.", true),
    )
    .await
    .expect("end");
    assert_eq!(n.send().await.sent, 1);
    received(&mut network).await;

    // 4. A drill reaches only test recipients, marked ØVELSE.
    store
        .import_subscribers(
            m.id,
            &[torg_store::NewSubscriber {
                medium: torg_domain::subscription::Medium::Sms,
                address: "+4790000001".into(),
                token: torg_core::secrets::new_token(),
                topics: vec![],
                areas: vec![],
                language: "nb".into(),
                consent: "beredskapsplan".into(),
                confirmed: true,
                test_recipient: true,
            }],
            &["x".into()],
            None,
        )
        .await
        .expect("test recipient");
    let (_, drill) = torg_core::crisis::start(
        store,
        &t,
        m,
        &lead,
        &torg_core::crisis::Declaration {
            template: "power".into(),
            areas: vec!["Sentrum".into()],
            drill: true,
            ..Default::default()
        },
    )
    .await
    .expect("drill");
    assert_eq!(drill.recipients, 1, "only the test recipient");
    assert_eq!(n.send().await.sent, 1);
    let (_, to, text) = received(&mut network).await;
    assert_eq!(to, "4790000001");
    assert!(text.starts_with("ØVELSE: "), "{text}");
    assert!(network.receive(Duration::from_secs(1)).await.is_none());

    // 5. STOPP ends the subscription: only the stop is kept.
    network.send("4791234567", SENDER, "STOPP").await;
    for _ in 0..100 {
        if store
            .subscriber_by_token(&pending.token)
            .await
            .expect("read")
            .is_none()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        store
            .subscriber_by_token(&pending.token)
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        store
            .stopped(
                m.id,
                &torg_domain::subscription::stop_hash(
                    torg_domain::subscription::Medium::Sms,
                    "+4791234567"
                )
            )
            .await
            .expect("stopped")
    );
}

async fn received(network: &mut torg_testkit::sms::Network) -> (String, String, String) {
    network
        .receive(Duration::from_secs(10))
        .await
        .expect("an SMS reaches the phone")
}

fn status(text: &str, end: bool) -> torg_core::crisis::Status<'_> {
    torg_core::crisis::Status {
        text,
        end,
        publish: false,
    }
}

/// A node sends an SMS through Kannel and dies before it marks it sent: Kannel's report that
/// the phone network took it (DLR 8) marks it, so when the node's lease runs out no other
/// node sends it again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sms_sent_by_a_node_that_died_is_not_sent_again() {
    use torg_core::delivery::{Deliver, LEASE, Outcome};
    let Some(n) = nordby().await else { return };
    let store = &*n.store;
    let mut network = n.kannel.network().await;
    network
        .send("4790011223", SENDER, "Når kommer bossbilen?")
        .await;
    let mut inquiries = vec![];
    for _ in 0..100 {
        inquiries = store
            .list_inquiries(n.m.id, &Default::default(), None, 10)
            .await
            .expect("list");
        if !inquiries.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let inquiry = inquiries.first().expect("taken in").id;
    // The dying node: claims the acknowledgement, hands it to Kannel, and is gone before its
    // marking batch.
    let now = jiff::Timestamp::now();
    let items = store
        .claim_outbox(Channel::Sms, now, LEASE, 10)
        .await
        .expect("claim");
    assert_eq!(items.len(), 1);
    let sms = torg_sms::kannel::KannelDelivery::fixed(
        n.client.clone(),
        n.gateways.clone(),
        n.callbacks.clone(),
        1,
    );
    sms.prepare(store, store, &items).await.expect("prepare");
    assert_eq!(sms.deliver(0, &items[0], now).await, Outcome::Sent);
    let (_, to, _) = network
        .receive(Duration::from_secs(10))
        .await
        .expect("the acknowledgement reaches the phone");
    assert_eq!(to, "4790011223");
    // Kannel's report comes back through its dlr-url and marks the entry.
    let mut marked = false;
    for _ in 0..100 {
        let states = store.deliveries(n.m.id, inquiry).await.expect("d");
        marked = !states.is_empty()
            && states
                .iter()
                .all(|(_, s)| !matches!(s, torg_store::DeliveryState::Pending { .. }));
        if marked {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        marked,
        "Kannel's report marks it sent (logs in {:?})",
        n.kannel.log_dir()
    );
    // Another node, once the lease has run out: nothing to send, nothing reaches the phone.
    let report = torg_sms::kannel::send_due(
        store,
        &n.gateways,
        &n.callbacks,
        &n.client,
        now + LEASE * 2,
        100,
        4,
    )
    .await
    .expect("send");
    assert_eq!(
        report.sent + report.retried + report.failed,
        0,
        "{report:?}"
    );
    assert!(
        network.receive(Duration::from_secs(2)).await.is_none(),
        "never twice"
    );
}
