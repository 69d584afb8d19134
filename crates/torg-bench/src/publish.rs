//! `torg-bench publish`: messages approved for six channels (the portal's news, Facebook,
//! Instagram, Mastodon, the SMS and the email newsletter to subscribers), scheduled a little
//! apart, each handed to every channel on the core's delivery path. Local stand-ins answer at
//! once and note when each post, SMS and email arrived: the Graph API and Mastodon, Kannel's
//! sendsms interface, and an SMTP server that takes mail and keeps nothing. The figure is how
//! late each arrived against its message's time (the portal's news and the staff's notice need
//! no sending: they are read at their time).

use anyhow::{Result, bail};
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use torg_core::actor::Actor;
use torg_core::connectors::{ConnectorPolicy, SocialInput};
use torg_core::publish::{self, Approval, MessageInput};
use torg_core::sealing::SecretKey;
use torg_domain::Channel;
use torg_domain::connector::HostRules;
use torg_domain::registry::{AccountStatus, Ambition};
use torg_store::{NewChannelAccount, NewMunicipality, NewUser, Store};

/// When each network received each message's post: (network, message number) → time.
type Arrivals = Arc<Mutex<HashMap<(&'static str, usize), Timestamp>>>;

/// The message number a post's text starts with ("Melding 17").
fn number(text: &str) -> Option<usize> {
    text.strip_prefix("Melding ")?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn arrived(arrivals: &Arrivals, network: &'static str, text: Option<&str>) {
    if let Some(n) = text.and_then(number) {
        arrivals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry((network, n))
            .or_insert_with(Timestamp::now);
    }
}

/// The Graph API's publishing edges and Mastodon's statuses, answering at once.
async fn stand_in(arrivals: Arrivals) -> Result<String> {
    async fn edge(
        State(a): State<Arrivals>,
        Path((node, edge)): Path<(String, String)>,
        Json(body): Json<Value>,
    ) -> Json<Value> {
        match edge.as_str() {
            "feed" => arrived(&a, "facebook", body["message"].as_str()),
            "photos" => arrived(&a, "facebook", body["caption"].as_str()),
            "media" => {
                return Json(
                    json!({"id": format!("c-{}", body["caption"].as_str().and_then(number).unwrap_or(0))}),
                );
            }
            "media_publish" => {
                let n = body["creation_id"]
                    .as_str()
                    .and_then(|c| c.strip_prefix("c-"));
                arrived(
                    &a,
                    "instagram",
                    n.map(|n| format!("Melding {n}")).as_deref(),
                );
            }
            _ => {}
        }
        Json(json!({"id": format!("{node}_post"), "post_id": format!("{node}_post")}))
    }
    async fn object(Path(id): Path<String>) -> Json<Value> {
        Json(
            json!({"id": id, "permalink_url": format!("https://www.facebook.com/{id}"), "permalink": format!("https://www.instagram.com/p/{id}/")}),
        )
    }
    async fn status(State(a): State<Arrivals>, Json(body): Json<Value>) -> Json<Value> {
        arrived(&a, "mastodon", body["status"].as_str());
        Json(json!({"id": "1", "url": "https://social.example/@benk/1"}))
    }
    /// Kannel's sendsms: 202 and "0: Accepted for delivery", as Kannel answers.
    async fn sendsms(
        State(a): State<Arrivals>,
        Query(q): Query<HashMap<String, String>>,
    ) -> (StatusCode, &'static str) {
        arrived(&a, "sms", q.get("text").map(String::as_str));
        (StatusCode::ACCEPTED, "0: Accepted for delivery")
    }
    let app = Router::new()
        .route("/v21.0/{node}/{edge}", post(edge))
        .route("/v21.0/{id}", get(object))
        .route("/api/v1/statuses", post(status))
        .route("/cgi-bin/sendsms", get(sendsms))
        .with_state(arrivals);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

/// An SMTP server that takes every message at once and keeps nothing but when each arrived
/// (by its subject, "Melding N").
async fn smtp_sink(arrivals: Arrivals) -> Result<u16> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let arrivals = arrivals.clone();
            tokio::spawn(async move {
                let _ = smtp_session(socket, arrivals).await;
            });
        }
    });
    Ok(port)
}

async fn smtp_session(socket: tokio::net::TcpStream, arrivals: Arrivals) -> std::io::Result<()> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (read, mut write) = socket.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let (mut line, mut in_data, mut subject) = (Vec::new(), false, None::<String>);
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        if in_data {
            if text == "." {
                arrived(&arrivals, "email", subject.take().as_deref());
                in_data = false;
                write.write_all(b"250 2.0.0 queued\r\n").await?;
            } else if subject.is_none() {
                subject = text.strip_prefix("Subject: ").map(String::from);
            }
            continue;
        }
        let verb = text.get(..4).unwrap_or_default().to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-sink\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
            "DATA" => {
                in_data = true;
                b"354 end with .\r\n"
            }
            "QUIT" => {
                write.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"250 ok\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// The channels a message goes to that are sent, as the stand-ins name them.
const SENT: [&str; 5] = ["facebook", "instagram", "mastodon", "sms", "email"];

pub async fn run(messages: usize, spacing_ms: u64) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> =
        Arc::new(torg_store_sql::SqliteStore::open(&dir.path().join("torg.db")).await?);
    let arrivals: Arrivals = Arc::default();
    let base = stand_in(arrivals.clone()).await?;
    let smtp_port = smtp_sink(arrivals.clone()).await?;
    let m = store
        .create_municipality(NewMunicipality {
            slug: "benk".into(),
            name: "Benk kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await?;
    let person = |name: &str, role| NewUser {
        email: None,
        username: name.into(),
        full_name: name.into(),
        password_hash: "x".into(),
        password_set_by: None,
        role,
        unit_id: None,
    };
    let writer = store
        .create_user(
            m.id,
            person("skribent", torg_domain::Role::Communication),
            None,
        )
        .await?;
    let chief = store
        .create_user(
            m.id,
            person("sjef", torg_domain::Role::ChiefExecutive),
            None,
        )
        .await?;
    // The accounts, set as the CLI sets them (tokens sealed) and approved in the registry.
    let key = SecretKey::generate();
    let policy = ConnectorPolicy {
        // The SMTP stand-in speaks without TLS, on loopback.
        allow_plain_mail: true,
        hosts: HostRules::new(&["127.0.0.1".to_string()]),
    };
    let cli = Actor::cli();
    for (channel, account, api) in [
        (Channel::Facebook, "PAGE1", format!("{base}/v21.0")),
        (Channel::Instagram, "1784", format!("{base}/v21.0")),
        (Channel::Mastodon, "4711", base.clone()),
    ] {
        let address = format!("https://{channel}.example/benk");
        let proposed = store
            .propose_channel_account(
                m.id,
                &NewChannelAccount {
                    channel,
                    name: "Benk kommune".into(),
                    address: address.clone(),
                    owner_unit_id: None,
                    purpose: "Nyheter".into(),
                    ambition: Ambition::Waiting,
                    opening_hours: String::new(),
                    proposed_by: None,
                },
                Timestamp::now(),
                None,
            )
            .await?;
        store
            .decide_channel_account(
                m.id,
                proposed.id,
                AccountStatus::Approved,
                chief.id,
                Timestamp::now(),
                None,
            )
            .await?;
        let input = SocialInput {
            channel,
            account: account.into(),
            api_base: api,
            access_token: "bench-token".into(),
            app_secret: "bench-secret".into(),
            registry_address: address,
        };
        torg_core::connectors::set_social_account(&*store, &key, &policy, &cli, m.id, input)
            .await?;
    }
    // The SMS gateway and the mailbox's SMTP server, set as the CLI sets them; one subscriber
    // by SMS and one by email.
    torg_core::connectors::set_sms_gateway(
        &*store,
        &key,
        &policy,
        &cli,
        m.id,
        torg_core::connectors::SmsInput {
            url: format!("{base}/cgi-bin/sendsms"),
            username: "torg".into(),
            password: Some("bench-password".into()),
            sender: "BENK".into(),
            new_key: true,
        },
    )
    .await?;
    let server = |port| torg_core::connectors::ServerInput {
        host: "127.0.0.1".into(),
        port,
        security: "plain".into(),
        user: String::new(),
        password: None,
    };
    torg_core::connectors::set_mail_account(
        &*store,
        &key,
        &policy,
        &cli,
        m.id,
        &m.name,
        torg_core::connectors::MailInput {
            address: "postmottak@benk.example".into(),
            imap: server(9),
            smtp: server(smtp_port),
            max_message_bytes: 10_000_000,
            ..Default::default()
        },
    )
    .await?;
    let subscriber = |medium, address: &str| torg_store::NewSubscriber {
        medium,
        address: address.into(),
        token: torg_core::secrets::new_token(),
        topics: vec![],
        areas: vec![],
        language: "nb".into(),
        consent: "bench".into(),
        confirmed: true,
        test_recipient: false,
    };
    {
        use torg_domain::subscription::{Medium, stop_hash};
        let list = [
            subscriber(Medium::Sms, "+4790000001"),
            subscriber(Medium::Email, "abonnent@benk.example"),
        ];
        let hashes: Vec<String> = list
            .iter()
            .map(|s| stop_hash(s.medium, &s.address))
            .collect();
        store.import_subscribers(m.id, &list, &hashes, None).await?;
    }
    // The messages: written, sent for approval and approved for the six channels, due
    // `spacing_ms` apart from a moment after they are all written.
    let spacing = SignedDuration::from_millis(i64::try_from(spacing_ms)?);
    let first = Timestamp::now() + SignedDuration::from_secs(i64::try_from(messages / 40 + 5)?);
    let bar = indicatif::ProgressBar::new(messages as u64);
    bar.set_message("writing and approving");
    let mut due = Vec::with_capacity(messages);
    for n in 0..messages {
        let at = first + spacing * i32::try_from(n)?;
        let title = format!("Melding {n}");
        let p = publish::draft(
            &*store,
            &cli,
            &writer,
            m.id,
            "nb",
            MessageInput {
                kind: Default::default(),
                title: &title,
                body: "Badeplassen ved Nordvika er åpen fra lørdag.\n\nGod sommer!",
                publish_at: at,
                wheel_item: None,
                image_url: "https://benk.example/bilder/nordvika.jpg",
                variants: &[],
            },
        )
        .await?;
        publish::submit(&*store, &cli, &writer, m.id, p.id).await?;
        publish::approve(
            &*store,
            &cli,
            &chief,
            m.id,
            p.id,
            Approval {
                confirm_personal_data: false,
                channels: &[
                    Channel::Facebook,
                    Channel::Instagram,
                    Channel::Mastodon,
                    Channel::Sms,
                    Channel::Email,
                ],
                link: &format!("https://benk.example/k/benk/news/{}", p.id),
                audience: publish::Audience {
                    manage_base: "https://benk.example/k/benk/subscription/",
                    email_footer: "Endre eller avslutt abonnementet her:",
                    sms_footer: "Svar STOPP for å avslutte.",
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await?;
        due.push(at);
        bar.inc(1);
    }
    bar.finish_and_clear();
    if Timestamp::now() > first {
        bail!("writing the messages took past the first one's time; use fewer messages");
    }
    // The delivery loops of email, SMS and the social channels, as `torg serve` runs them.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let client = reqwest::Client::new();
    let outbound: Vec<(Arc<dyn torg_core::delivery::Deliver>, u32)> = vec![
        (
            Arc::new(torg_email::smtp::SmtpDelivery::from_store(
                store.clone(),
                key.clone(),
                4,
            )),
            500,
        ),
        (
            Arc::new(torg_sms::kannel::KannelDelivery::from_store(
                client.clone(),
                key.clone(),
                "https://benk.example".into(),
                32,
            )),
            1000,
        ),
        (
            Arc::new(torg_social::worker::SocialDelivery::from_store(client, key)),
            200,
        ),
    ];
    let senders: Vec<_> = outbound
        .into_iter()
        .map(|(deliver, limit)| {
            tokio::spawn(torg_core::delivery::run(
                store.clone(),
                deliver,
                policy.hosts.clone(),
                Duration::from_secs(1),
                limit,
                stopping.clone(),
            ))
        })
        .collect();
    let last = *due.last().unwrap_or(&first);
    let wanted = messages * SENT.len();
    let deadline = last + SignedDuration::from_secs(30);
    while arrivals.lock().unwrap_or_else(|e| e.into_inner()).len() < wanted
        && Timestamp::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);
    for sender in senders {
        let _ = sender.await;
    }
    let got = arrivals.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut late: Vec<f64> = got
        .iter()
        .map(|((_, n), at)| at.duration_since(due[*n]).as_secs_f64())
        .collect();
    late.sort_by(f64::total_cmp);
    let at = |q: f64| late[((late.len() as f64 - 1.0) * q).round() as usize];
    let within = late.iter().filter(|l| **l <= 1.0).count();
    let whole = (0..messages)
        .filter(|n| {
            SENT.iter().all(|net| {
                got.get(&(*net, *n))
                    .is_some_and(|t| t.duration_since(due[*n]).as_secs_f64() <= 1.0)
            })
        })
        .count();
    if late.is_empty() {
        bail!("no post arrived");
    }
    println!(
        "publishing: {messages} messages {spacing_ms} ms apart, each to the portal's news, Facebook, Instagram, Mastodon, an SMS and an email to subscribers ({} of {wanted} sent arrived)",
        late.len()
    );
    for channel in SENT {
        println!(
            "  {channel}: {} of {messages}",
            got.keys().filter(|(c, _)| *c == channel).count()
        );
    }
    println!(
        "  lateness against the message's time: median {:.3} s, p95 {:.3} s, max {:.3} s",
        at(0.5),
        at(0.95),
        at(1.0)
    );
    println!(
        "  within 1 s: {within} of {wanted}; messages on all six channels within 1 s: {whole} of {messages}"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_post_is_known_by_its_message_number() {
        assert_eq!(super::number("Melding 17\n\nTekst"), Some(17));
        assert_eq!(super::number("Annet"), None);
    }
}
