//! `torg-bench publish`: messages approved for the networks, scheduled a little apart, each
//! handed to every network on the core's delivery path. Local stand-ins of the Graph API and
//! Mastodon answer at once and note when each post arrived; the figure is how late each post
//! was against its message's time (the portal's news and the staff's notice need no sending:
//! they are read at their time).

use anyhow::{Result, bail};
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
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
    let app = Router::new()
        .route("/v21.0/{node}/{edge}", post(edge))
        .route("/v21.0/{id}", get(object))
        .route("/api/v1/statuses", post(status))
        .with_state(arrivals);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

pub async fn run(messages: usize, spacing_ms: u64) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> =
        Arc::new(torg_store_sql::SqliteStore::open(&dir.path().join("torg.db")).await?);
    let arrivals: Arrivals = Arc::default();
    let base = stand_in(arrivals.clone()).await?;
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
        allow_plain_mail: false,
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
    // The messages: written, sent for approval and approved for the three networks, due
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
                channels: &[Channel::Facebook, Channel::Instagram, Channel::Mastodon],
                link: &format!("https://benk.example/k/benk/news/{}", p.id),
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
    // The one delivery loop of the social channels, as `torg serve` runs it.
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let client = reqwest::Client::new();
    let sender = tokio::spawn(torg_core::delivery::run(
        store.clone(),
        Arc::new(torg_social::worker::SocialDelivery::from_store(client, key)),
        policy.hosts.clone(),
        Duration::from_secs(1),
        200,
        stopping,
    ));
    let last = *due.last().unwrap_or(&first);
    let wanted = messages * 3;
    let deadline = last + SignedDuration::from_secs(30);
    while arrivals.lock().unwrap_or_else(|e| e.into_inner()).len() < wanted
        && Timestamp::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = stop.send(true);
    let _ = sender.await;
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
            ["facebook", "instagram", "mastodon"].iter().all(|net| {
                got.get(&(*net, *n))
                    .is_some_and(|t| t.duration_since(due[*n]).as_secs_f64() <= 1.0)
            })
        })
        .count();
    if late.is_empty() {
        bail!("no post arrived");
    }
    println!(
        "publishing: {messages} messages {spacing_ms} ms apart, each to Facebook, Instagram and Mastodon ({} of {wanted} posts arrived)",
        late.len()
    );
    println!(
        "  lateness against the message's time: median {:.3} s, p95 {:.3} s, max {:.3} s",
        at(0.5),
        at(0.95),
        at(1.0)
    );
    println!(
        "  posts within 1 s: {within} of {wanted}; messages on all three networks within 1 s: {whole} of {messages}"
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
