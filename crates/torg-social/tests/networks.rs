//! The connectors' real client code against local stand-ins of the Graph API and Mastodon:
//! answers, private replies and hiding; waiting for the registry; throttling with
//! Retry-After that pauses one account only; expired tokens; an answer lost on the way not
//! sent twice; Mastodon mentions read over several pages and answered once.

mod standin;

use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use torg_core::intake::{Acknowledger, IntakeLimits, TenantConfig};
use torg_core::social::{EventKind, SocialEvent, SocialOutcome, receive_social};
use torg_domain::registry::{AccountStatus, Ambition};
use torg_domain::{Channel, MessageKind};
use torg_domain::{InquiryId, TenantId, UserId};
use torg_social::graph::Graph;
use torg_social::worker::{Sender, poll_mastodon};
use torg_store::{NewChannelAccount, NewMessage, SocialAccount, Store};

struct Setup {
    store: Arc<dyn Store>,
    config: TenantConfig,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tmp");
    let store = torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
        .await
        .expect("open");
    let f = torg_store::conformance::fixture(&*store).await;
    let config = TenantConfig::load(&*store, f.tenant).await.expect("config");
    Setup {
        store,
        config,
        _dir: dir,
    }
}

impl Setup {
    fn tenant(&self) -> TenantId {
        self.config.municipality.id
    }

    /// Registers an account (approved or only proposed) and its API settings.
    async fn account(
        &self,
        channel: Channel,
        id: &str,
        base: &str,
        approve: bool,
    ) -> SocialAccount {
        let registry_address = format!("https://{channel}.example/{id}");
        let proposed = self
            .store
            .propose_channel_account(
                self.tenant(),
                &NewChannelAccount {
                    channel,
                    name: "Testkommune".into(),
                    address: registry_address.clone(),
                    owner_unit_id: None,
                    purpose: "Dialog".into(),
                    ambition: Ambition::Waiting,
                    opening_hours: String::new(),
                    proposed_by: None,
                },
                Timestamp::now(),
                None,
            )
            .await
            .expect("propose");
        if approve {
            self.approve(proposed.id).await;
        }
        let account = SocialAccount {
            tenant_id: self.tenant(),
            channel,
            account: id.into(),
            api_base: match channel {
                Channel::Mastodon => base.to_string(),
                _ => format!("{base}/v21.0"),
            },
            access_token: "good-token".into(),
            app_secret: String::new(),
            verify_token: String::new(),
            registry_address,
            cursor: String::new(),
            approved: false,
        };
        self.store
            .set_social_account(&account, None)
            .await
            .expect("set");
        account
    }

    /// A communication officer who writes and a chief executive who approves.
    async fn writer_and_chief(&self) -> (torg_store::User, torg_store::User) {
        let person = |name: &str, role: torg_domain::Role| torg_store::NewUser {
            email: None,
            username: name.into(),
            full_name: name.into(),
            password_hash: "x".into(),
            password_set_by: None,
            role,
            unit_id: None,
        };
        let writer = self
            .store
            .create_user(
                self.tenant(),
                person("skribent", torg_domain::Role::Communication),
                None,
            )
            .await
            .expect("writer");
        let chief = self
            .store
            .create_user(
                self.tenant(),
                person("sjef", torg_domain::Role::ChiefExecutive),
                None,
            )
            .await
            .expect("chief");
        (writer, chief)
    }

    async fn approve(&self, id: i64) {
        self.store
            .decide_channel_account(
                self.tenant(),
                id,
                AccountStatus::Approved,
                UserId(1),
                Timestamp::now(),
                None,
            )
            .await
            .expect("approve");
    }

    async fn accounts(&self) -> Vec<SocialAccount> {
        self.store
            .social_accounts(Some(self.tenant()))
            .await
            .expect("accounts")
    }

    async fn take(&self, event: SocialEvent) -> InquiryId {
        let ack: Box<Acknowledger> = Box::new(|_| "Takk, vi svarer snart.".to_string());
        match receive_social(
            &*self.store,
            &self.config,
            &event,
            IntakeLimits::default(),
            Timestamp::now(),
            Some(&*ack),
        )
        .await
        .expect("taken")
        {
            SocialOutcome::Created { inquiry_id } => inquiry_id,
            other => panic!("expected a new inquiry, got {other:?}"),
        }
    }

    /// A staff answer to `inquiry`, queued in the outbox as the web layer does it.
    async fn answer(&self, inquiry_id: i64, text: &str, privately: bool) {
        let inquiry = self
            .store
            .inquiry(self.tenant(), InquiryId(inquiry_id))
            .await
            .expect("read")
            .expect("there");
        let to = torg_core::social::reply_address(&inquiry, privately).expect("address");
        self.store
            .add_message(
                self.tenant(),
                InquiryId(inquiry_id),
                NewMessage {
                    kind: MessageKind::Outbound,
                    author_user_id: None,
                    author_name: "Servicetorget".into(),
                    body: text.into(),
                    attachments: vec![],
                    created_at: Timestamp::now(),
                    external_id: None,
                    outgoing: Some(torg_core::social::reply_outgoing(inquiry.channel, &to)),
                },
                None,
            )
            .await
            .expect("answer");
    }
}

/// reqwest is built without a TLS provider of its own (as in the binary): ring is used.
fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

fn comment(channel: Channel, account: &str, id: &str, text: &str) -> SocialEvent {
    SocialEvent {
        channel,
        account: account.into(),
        kind: EventKind::Comment { id: id.into() },
        author: Some("Kari Nordmann".into()),
        text: text.into(),
    }
}

#[tokio::test]
async fn answers_go_where_they_belong_and_hiding_reaches_the_page() {
    let s = setup().await;
    let (base, world) = standin::start("good-token").await;
    s.account(Channel::Facebook, "PAGE", &base, true).await;
    s.account(Channel::Instagram, "IGACCOUNT", &base, true)
        .await;
    let client = client();

    let public = s
        .take(comment(
            Channel::Facebook,
            "PAGE",
            "111_222",
            "Når er biblioteket åpent?",
        ))
        .await;
    s.answer(public.get(), "Hverdager 10–19.", false).await;
    let private = s
        .take(comment(
            Channel::Facebook,
            "PAGE",
            "111_333",
            "Saken min om byggesøknad …",
        ))
        .await;
    s.answer(private.get(), "Vi skriver til deg privat.", true)
        .await;
    let insta = s
        .take(comment(
            Channel::Instagram,
            "IGACCOUNT",
            "1789",
            "Fint bilde!",
        ))
        .await;
    s.answer(insta.get(), "Takk!", false).await;
    let messenger = s
        .take(SocialEvent {
            channel: Channel::Facebook,
            account: "PAGE".into(),
            kind: EventKind::Message {
                id: "m_1".into(),
                person: "4455".into(),
            },
            author: None,
            text: "Hei, når hentes søppel?".into(),
        })
        .await;
    s.answer(messenger.get(), "Tirsdag.", false).await;

    let mut sender = Sender::default();
    let report = sender
        .send_due(
            &*s.store,
            &s.accounts().await,
            &client,
            Timestamp::now(),
            100,
        )
        .await
        .expect("pass");
    // Four answers and the Messenger acknowledgement.
    assert_eq!((report.sent, report.failed), (5, 0), "{report:?}");
    let calls = world.lock().expect("world").calls.clone();
    let find = |path: &str| {
        calls
            .iter()
            .filter(|c| c.path == path)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        find("111_222/comments")[0].body["message"],
        "Hverdager 10–19."
    );
    assert_eq!(find("1789/replies")[0].body["message"], "Takk!");
    let messages = find("PAGE/messages");
    assert_eq!(messages.len(), 3);
    assert!(
        messages
            .iter()
            .any(|c| c.body["recipient"]["comment_id"] == "111_333"
                && c.body["message"]["text"] == "Vi skriver til deg privat.")
    );
    assert!(messages.iter().any(|c| c.body["recipient"]["id"] == "4455"
        && c.body["messaging_type"] == "RESPONSE"
        && c.body["message"]["text"] == "Tirsdag."));
    // Nothing is sent twice.
    let again = sender
        .send_due(
            &*s.store,
            &s.accounts().await,
            &client,
            Timestamp::now() + SignedDuration::from_mins(10),
            100,
        )
        .await
        .expect("pass");
    assert_eq!(again.sent, 0);

    let graph = Graph::new(client.clone(), &format!("{base}/v21.0"), "good-token");
    graph
        .hide(Channel::Facebook, "111_222", true)
        .await
        .expect("hide");
    graph
        .hide(Channel::Instagram, "1789", true)
        .await
        .expect("hide");
    let calls = world.lock().expect("world").calls.clone();
    assert!(
        calls
            .iter()
            .any(|c| c.path == "111_222" && c.body["is_hidden"] == true)
    );
    assert!(
        calls
            .iter()
            .any(|c| c.path == "1789" && c.body["hide"] == true)
    );
}

#[tokio::test]
async fn only_approved_accounts_send_and_a_throttled_one_waits_alone() {
    let s = setup().await;
    let (base, world) = standin::start("good-token").await;
    s.account(Channel::Facebook, "PAGE", &base, false).await;
    s.account(Channel::Instagram, "IGACCOUNT", &base, true)
        .await;
    let client = client();
    let fb = s
        .take(comment(Channel::Facebook, "PAGE", "1_1", "Hei"))
        .await;
    s.answer(fb.get(), "Hei selv.", false).await;
    let mut sender = Sender::default();
    let now = Timestamp::now();
    let r = sender
        .send_due(&*s.store, &s.accounts().await, &client, now, 100)
        .await
        .expect("pass");
    assert_eq!((r.sent, r.retried), (0, 1));
    assert!(
        world.lock().expect("world").calls.is_empty(),
        "nothing left for an unapproved page"
    );
    let status = s
        .store
        .connector_statuses(Some(s.tenant()))
        .await
        .expect("status");
    let fb_status = status
        .iter()
        .find(|c| c.connector == "facebook")
        .expect("facebook status");
    assert!(
        !fb_status.ok && fb_status.detail.contains("not approved"),
        "{fb_status:?}"
    );

    // Approved: it goes out at the next try.
    let proposed = s.store.channel_accounts(s.tenant()).await.expect("list");
    let page = proposed
        .iter()
        .find(|a| a.channel == Channel::Facebook)
        .expect("page");
    s.approve(page.id).await;
    // The page is throttled (429, Retry-After 120); Instagram is not.
    world.lock().expect("world").failures.push_back((
        reqwest::StatusCode::TOO_MANY_REQUESTS,
        vec![("retry-after", "120".into())],
        r#"{"error":{"message":"(#32) Page request limit reached","code":32}}"#.into(),
    ));
    let fb2 = s
        .take(comment(Channel::Facebook, "PAGE", "1_2", "Hallo?"))
        .await;
    s.answer(fb2.get(), "Hallo!", false).await;
    let ig = s
        .take(comment(Channel::Instagram, "IGACCOUNT", "9_1", "Spørsmål"))
        .await;
    s.answer(ig.get(), "Svar", false).await;
    let later = now + SignedDuration::from_mins(6);
    let r = sender
        .send_due(&*s.store, &s.accounts().await, &client, later, 100)
        .await
        .expect("pass");
    assert_eq!(r.sent, 1, "Instagram went on: {r:?}");
    assert_eq!(r.retried, 2, "both page answers wait: {r:?}");
    let posted = |w: &standin::Shared| {
        w.lock()
            .expect("world")
            .calls
            .iter()
            .filter(|c| c.path.ends_with("/comments"))
            .count()
    };
    assert_eq!(posted(&world), 0);
    // Within the asked wait nothing is tried; after it, both go once.
    let r = sender
        .send_due(
            &*s.store,
            &s.accounts().await,
            &client,
            later + SignedDuration::from_secs(60),
            100,
        )
        .await
        .expect("pass");
    assert_eq!(r.sent, 0);
    let r = sender
        .send_due(
            &*s.store,
            &s.accounts().await,
            &client,
            later + SignedDuration::from_secs(130),
            100,
        )
        .await
        .expect("pass");
    assert_eq!(r.sent, 2, "{r:?}");
    assert_eq!(posted(&world), 2);
}

#[tokio::test]
async fn an_expired_token_stops_the_account_until_renewed() {
    let s = setup().await;
    let (base, world) = standin::start("renewed-token").await;
    let account = s.account(Channel::Facebook, "PAGE", &base, true).await;
    let client = client();
    let id = s
        .take(comment(Channel::Facebook, "PAGE", "5_5", "Hei"))
        .await;
    s.answer(id.get(), "Hei!", false).await;
    let mut sender = Sender::default();
    let now = Timestamp::now();
    let r = sender
        .send_due(&*s.store, &s.accounts().await, &client, now, 100)
        .await
        .expect("pass");
    assert_eq!((r.sent, r.retried, r.failed), (0, 1, 0));
    let status = s
        .store
        .connector_statuses(Some(s.tenant()))
        .await
        .expect("status");
    let fb = status
        .iter()
        .find(|c| c.connector == "facebook")
        .expect("status");
    assert!(!fb.ok);
    assert!(
        fb.detail.contains("Session has expired") && fb.detail.contains("torg social set"),
        "{}",
        fb.detail
    );
    let deliveries = s
        .store
        .deliveries(s.tenant(), id)
        .await
        .expect("deliveries");
    assert!(
        deliveries.iter().any(|(_, d)| matches!(d, torg_store::DeliveryState::Pending { last_error: Some(e), .. } if e.contains("expired"))),
        "{deliveries:?}"
    );
    // Renewed: it goes out.
    s.store
        .set_social_account(
            &SocialAccount {
                access_token: "renewed-token".into(),
                ..account
            },
            None,
        )
        .await
        .expect("renew");
    let r = sender
        .send_due(
            &*s.store,
            &s.accounts().await,
            &client,
            now + SignedDuration::from_mins(11),
            100,
        )
        .await
        .expect("pass");
    assert_eq!(r.sent, 1);
    assert_eq!(world.lock().expect("world").calls.len(), 1);
}

#[tokio::test]
async fn an_answer_whose_confirmation_was_lost_is_not_posted_again() {
    let s = setup().await;
    let (base, world) = standin::start("good-token").await;
    s.account(Channel::Facebook, "PAGE", &base, true).await;
    let client = client();
    // Other people have answered the comment already: ours will be on the second page.
    world.lock().expect("world").answers.insert(
        "7_7".into(),
        vec![
            serde_json::json!({"id": "a", "from": {"id": "123"}, "message": "Jeg lurer også"}),
            serde_json::json!({"id": "b", "from": {"id": "456"}, "message": "Samme her"}),
            serde_json::json!({"id": "c", "from": {"id": "789"}, "message": "+1"}),
        ],
    );
    let id = s
        .take(comment(
            Channel::Facebook,
            "PAGE",
            "7_7",
            "Når kommer brøytebilen?",
        ))
        .await;
    s.answer(id.get(), "I løpet av dagen.", false).await;
    // The post lands, but the answer is lost on the way back.
    world.lock().expect("world").lose_answers = 1;
    let mut sender = Sender::default();
    let now = Timestamp::now();
    let r = sender
        .send_due(&*s.store, &s.accounts().await, &client, now, 100)
        .await
        .expect("pass");
    assert_eq!(r.retried, 1);
    let r = sender
        .send_due(
            &*s.store,
            &s.accounts().await,
            &client,
            now + SignedDuration::from_mins(5),
            100,
        )
        .await
        .expect("pass");
    assert_eq!(r.sent, 1, "the retry sees the answer and counts it sent");
    let w = world.lock().expect("world");
    let posts = w.calls.iter().filter(|c| c.path == "7_7/comments").count();
    assert_eq!(posts, 1, "posted once");
    assert_eq!(w.answers["7_7"].len(), 4);
}

#[tokio::test]
async fn mastodon_mentions_are_read_page_by_page_and_answered_once() {
    let s = setup().await;
    let (base, world) = standin::start("good-token").await;
    s.account(Channel::Mastodon, "14715", &base, true).await;
    let client = client();
    let mention = |id: u64, visibility: &str, text: &str| -> serde_json::Value {
        let raw = standin::payload(
            "mastodon_mention.json",
            &[
                ("id", &id.to_string()),
                ("status_id", &(id * 10).to_string()),
                ("visibility", visibility),
                ("text", text),
            ],
        );
        serde_json::from_str(&raw).expect("json")
    };
    world.lock().expect("world").notifications = vec![mention(1, "public", "gammel")];
    // The municipality's own acknowledgement, written by the same writer as every channel's.
    s.store
        .set_acknowledgement_template(
            s.config.municipality.id,
            "nb",
            "Takk! Vi svarer snart.",
            None,
        )
        .await
        .expect("template");
    let catalog = torg_i18n::Catalog::load(None).expect("catalogue");
    let acks = torg_core::acknowledge::Acknowledgements::new(Arc::new(catalog), "http://torg.test");
    // The first poll takes the newest page and remembers where it is.
    let new = poll_mastodon(
        &*s.store,
        &s.accounts().await,
        &client,
        IntakeLimits::default(),
        &acks,
    )
    .await
    .expect("poll");
    assert_eq!(new, 1);
    assert_eq!(s.accounts().await[0].cursor, "1");
    // Five more arrive; the stand-in gives two per page.
    {
        let mut w = world.lock().expect("world");
        for i in 2..=6 {
            let visibility = if i == 4 { "direct" } else { "public" };
            w.notifications
                .push(mention(i, visibility, &format!("spørsmål &amp; svar {i}")));
        }
    }
    let new = poll_mastodon(
        &*s.store,
        &s.accounts().await,
        &client,
        IntakeLimits::default(),
        &acks,
    )
    .await
    .expect("poll");
    assert_eq!(new, 5);
    assert_eq!(s.accounts().await[0].cursor, "6");
    let again = poll_mastodon(
        &*s.store,
        &s.accounts().await,
        &client,
        IntakeLimits::default(),
        &acks,
    )
    .await
    .expect("poll");
    assert_eq!(again, 0);
    let items = s
        .store
        .list_inquiries(s.tenant(), &Default::default(), None, 50)
        .await
        .expect("list");
    let texts: Vec<&str> = items.iter().map(|i| i.preview.as_str()).collect();
    assert!(texts.contains(&"spørsmål & svar 4"), "{texts:?}");
    assert!(items.iter().all(|i| i.citizen_name == "Ola Nordmann"));

    // The direct message was acknowledged privately; answer a public one too, and lose the
    // confirmation once: Idempotency-Key keeps it to one status.
    let public = items
        .iter()
        .find(|i| i.preview == "spørsmål & svar 5")
        .expect("mention 5");
    s.answer(public.id.get(), "Svar på 5", false).await;
    world.lock().expect("world").lose_answers = 1;
    let mut sender = Sender::default();
    let now = Timestamp::now();
    let r = sender
        .send_due(&*s.store, &s.accounts().await, &client, now, 100)
        .await
        .expect("pass");
    assert_eq!((r.sent, r.retried), (1, 1), "{r:?}");
    let r = sender
        .send_due(
            &*s.store,
            &s.accounts().await,
            &client,
            now + SignedDuration::from_mins(5),
            100,
        )
        .await
        .expect("pass");
    assert_eq!(r.sent, 1);
    let w = world.lock().expect("world");
    assert_eq!(
        w.statuses.len(),
        2,
        "one acknowledgement and one answer: {:#?}",
        w.statuses
    );
    let dm = w
        .statuses
        .iter()
        .find(|st| st["visibility"] == "direct")
        .expect("direct ack");
    assert_eq!(dm["in_reply_to_id"], "40");
    assert_eq!(
        dm["content"],
        "@ola@mastodon.example Takk! Vi svarer snart."
    );
    let answer = w
        .statuses
        .iter()
        .find(|st| st["visibility"] == "public")
        .expect("public");
    assert_eq!(answer["in_reply_to_id"], "50");
    assert!(
        answer["content"]
            .as_str()
            .expect("text")
            .starts_with("@ola@mastodon.example Svar på 5")
    );
}

#[tokio::test]
async fn a_token_the_network_echoes_is_never_stored_or_shown() {
    let s = setup().await;
    let (base, world) = standin::start("good-token").await;
    s.account(Channel::Facebook, "PAGE", &base, true).await;
    s.account(Channel::Mastodon, "109", &base, true).await;
    let facebook = s
        .take(comment(Channel::Facebook, "PAGE", "6_6", "Hei"))
        .await;
    s.answer(facebook.get(), "Hei!", false).await;
    let mastodon = s
        .take(SocialEvent {
            channel: Channel::Mastodon,
            account: "109".into(),
            kind: EventKind::Mention {
                status_id: "777".into(),
                visibility: torg_domain::social::Visibility::Public,
                acct: "kari@social.example".into(),
            },
            author: Some("Kari".into()),
            text: "Hei".into(),
        })
        .await;
    s.answer(mastodon.get(), "Hei!", false).await;
    // A proxy in front of the network that answers with the request it got, header and all.
    let echoed = "proxy error: the request with Authorization: Bearer good-token timed out";
    world.lock().expect("world").failures.extend([
        (reqwest::StatusCode::BAD_GATEWAY, vec![], echoed.to_string()),
        (reqwest::StatusCode::BAD_GATEWAY, vec![], echoed.to_string()),
    ]);
    let r = Sender::default()
        .send_due(
            &*s.store,
            &s.accounts().await,
            &client(),
            Timestamp::now(),
            100,
        )
        .await
        .expect("pass");
    assert_eq!(r.retried, 2);
    let mut shown = vec![];
    for id in [facebook, mastodon] {
        for (_, d) in s
            .store
            .deliveries(s.tenant(), id)
            .await
            .expect("deliveries")
        {
            if let torg_store::DeliveryState::Pending {
                last_error: Some(e),
                ..
            } = d
            {
                shown.push(e);
            }
        }
    }
    for c in s
        .store
        .connector_statuses(Some(s.tenant()))
        .await
        .expect("statuses")
    {
        shown.push(c.detail);
    }
    assert!(shown.len() >= 4, "{shown:?}");
    for text in &shown {
        assert!(!text.contains("good-token"), "{text}");
    }
    assert!(
        shown.iter().any(|t| t.contains("Bearer [hidden]")),
        "{shown:?}"
    );
}

/// Publishing on Mastodon through the one delivery path: a message approved with "also on
/// Mastodon" is a public status of the account at its time — not before, and once (a fixed
/// Idempotency-Key) — with the title, the first paragraph and the link to the portal's news;
/// one withdrawn before its time never goes out.
#[tokio::test]
async fn a_message_is_published_on_mastodon_at_its_time_and_once() {
    use torg_core::actor::Actor;
    use torg_core::publish::{self, Approval, MessageInput};
    let s = setup().await;
    let (base, world) = standin::start("good-token").await;
    s.account(Channel::Mastodon, "14715", &base, true).await;
    let (writer, chief) = s.writer_and_chief().await;
    let cli = Actor::cli();
    let now = Timestamp::now();
    let at = now + SignedDuration::from_hours(1);
    let message = |title: &'static str| MessageInput {
        kind: Default::default(),
        image_url: "",
        variants: &[],
        title,
        body: "Biblioteket er åpent til klokken 20 fra mandag.\n\nVelkommen!",
        publish_at: at,
        wheel_item: None,
    };
    let approve = |id: i64| {
        let (store, chief) = (s.store.clone(), chief.clone());
        async move {
            publish::approve(
                &*store,
                &Actor::cli(),
                &chief,
                chief.tenant_id,
                id,
                Approval {
                    confirm_personal_data: false,
                    channels: &[Channel::Mastodon],
                    link: "https://kommune.example/k/test/news/1",
                    ..Default::default()
                },
            )
            .await
            .expect("approve")
        }
    };
    let p = publish::draft(
        &*s.store,
        &cli,
        &writer,
        s.tenant(),
        "nb",
        message("Lengre åpent"),
    )
    .await
    .expect("draft");
    publish::submit(&*s.store, &cli, &writer, s.tenant(), p.id)
        .await
        .expect("submit");
    approve(p.id).await;
    let gone = publish::draft(
        &*s.store,
        &cli,
        &writer,
        s.tenant(),
        "nb",
        message("Avlyst"),
    )
    .await
    .expect("draft");
    publish::submit(&*s.store, &cli, &writer, s.tenant(), gone.id)
        .await
        .expect("submit");
    approve(gone.id).await;
    publish::withdraw(&*s.store, &cli, &writer, s.tenant(), gone.id)
        .await
        .expect("withdraw");
    let client = client();
    let mut sender = Sender::default();
    let r = sender
        .send_due(&*s.store, &s.accounts().await, &client, now, 100)
        .await
        .expect("pass");
    assert_eq!(r.sent, 0, "not before its time");
    let later = at + SignedDuration::from_mins(1);
    for _ in 0..2 {
        sender
            .send_due(&*s.store, &s.accounts().await, &client, later, 100)
            .await
            .expect("pass");
    }
    let w = world.lock().expect("world");
    assert_eq!(w.statuses.len(), 1, "once, and the withdrawn one never");
    let status = &w.statuses[0];
    let text = status["content"].as_str().expect("text");
    assert!(
        text.starts_with("Lengre åpent\n\nBiblioteket er åpent"),
        "{text}"
    );
    assert!(
        text.ends_with("https://kommune.example/k/test/news/1"),
        "{text}"
    );
    assert!(!text.contains("Velkommen"), "the first paragraph only");
    assert_eq!(status["visibility"], "public");
    assert_eq!(status["in_reply_to_id"], serde_json::Value::Null);
    let key = w
        .calls
        .last()
        .and_then(|c| c.idempotency_key.clone())
        .expect("key");
    assert!(key.starts_with(&format!("publication-{}-", p.id)), "{key}");
}

/// Publishing on Facebook and Instagram through the Graph API's publishing endpoints, on the
/// same delivery path: with its picture, a page photo post and an Instagram container
/// published in its second step; each post's address read back and kept; Instagram refused
/// for a message without a picture (by the core before the approval, and by the network if
/// asked); a post whose answer was lost found on the page and not posted twice; a rate limit
/// waited out; an expired token said as such.
#[tokio::test]
async fn a_message_is_published_on_facebook_and_instagram_with_its_picture_and_once() {
    use torg_core::actor::Actor;
    use torg_core::publish::{self, Approval, MessageInput, PublishError};
    use torg_store::DeliveryState;
    let s = setup().await;
    let (base, world) = standin::start("good-token").await;
    s.account(Channel::Facebook, "PAGE1", &base, true).await;
    s.account(Channel::Instagram, "1784", &base, true).await;
    s.account(Channel::Mastodon, "14715", &base, true).await;
    let (writer, chief) = s.writer_and_chief().await;
    let cli = Actor::cli();
    let now = Timestamp::now();
    let at = now + SignedDuration::from_hours(1);
    let link = "https://kommune.example/k/test/news/7";
    let written = |title: &'static str, image: &'static str| {
        let (store, writer) = (s.store.clone(), writer.clone());
        async move {
            let p = publish::draft(
                &*store,
                &Actor::cli(),
                &writer,
                writer.tenant_id,
                "nb",
                MessageInput {
                    kind: Default::default(),
                    image_url: image,
                    variants: &[(Channel::Instagram, "Sommer i Nordvika! #badeplass")],
                    title,
                    body: "Badeplassen ved Nordvika er åpen fra lørdag.\n\nGod sommer!",
                    publish_at: at,
                    wheel_item: None,
                },
            )
            .await
            .expect("draft");
            publish::submit(&*store, &Actor::cli(), &writer, writer.tenant_id, p.id)
                .await
                .expect("submit");
            p
        }
    };
    let approve = |id: i64, channels: &'static [Channel]| {
        let (store, chief) = (s.store.clone(), chief.clone());
        async move {
            publish::approve(
                &*store,
                &Actor::cli(),
                &chief,
                chief.tenant_id,
                id,
                Approval {
                    confirm_personal_data: false,
                    channels,
                    link,
                    ..Default::default()
                },
            )
            .await
        }
    };
    // A picture that is not a public https address is refused as it is typed.
    let bad = publish::draft(
        &*s.store,
        &cli,
        &writer,
        s.tenant(),
        "nb",
        MessageInput {
            kind: Default::default(),
            image_url: "http://intern/bilde.jpg",
            variants: &[],
            title: "Feil",
            body: "Tekst.",
            publish_at: at,
            wheel_item: None,
        },
    )
    .await;
    assert!(matches!(bad, Err(PublishError::Image(_))), "{bad:?}");
    // The personal-data guard reads everything that goes out: a phone number in a version in
    // another language holds the approval as one in the text would.
    let held = written("Kontakt oss", "https://kommune.example/bilder/kontakt.jpg").await;
    publish::set_version(
        &*s.store,
        &cli,
        &writer,
        s.tenant(),
        held.id,
        "en",
        "Contact us",
        "Call Kari on 912 34 567.",
    )
    .await
    .expect("version");
    publish::submit(&*s.store, &cli, &writer, s.tenant(), held.id)
        .await
        .expect("submit");
    let refused = approve(held.id, &[Channel::Facebook]).await;
    assert!(
        matches!(refused, Err(PublishError::PersonalData(_))),
        "{refused:?}"
    );
    let picture = written(
        "Badeplassen er åpen",
        "https://kommune.example/bilder/nordvika.jpg",
    )
    .await;
    approve(
        picture.id,
        &[Channel::Facebook, Channel::Instagram, Channel::Mastodon],
    )
    .await
    .expect("approve");
    // Without a picture Instagram is refused before anything is approved; Facebook alone is
    // a plain post on the page's feed.
    let plain = written("Vannet er godt", "").await;
    let refused = approve(plain.id, &[Channel::Facebook, Channel::Instagram]).await;
    assert!(
        matches!(refused, Err(PublishError::NeedsImage)),
        "{refused:?}"
    );
    approve(plain.id, &[Channel::Facebook])
        .await
        .expect("approve");

    let client = client();
    let mut sender = Sender::default();
    let r = sender
        .send_due(&*s.store, &s.accounts().await, &client, now, 100)
        .await
        .expect("pass");
    assert_eq!(r.sent, 0, "not before its time");
    // The first answer from the page is lost on the way: the post stands on the page.
    world.lock().expect("world").lose_answers = 1;
    let mut later = at + SignedDuration::from_mins(1);
    for _ in 0..3 {
        // The retry comes after its backoff.
        sender
            .send_due(&*s.store, &s.accounts().await, &client, later, 100)
            .await
            .expect("pass");
        later += SignedDuration::from_mins(5);
    }
    {
        let w = world.lock().expect("world");
        let page = &w.published["PAGE1"];
        assert_eq!(page.len(), 2, "each message once on the page: {page:?}");
        let photo = page
            .iter()
            .find(|p| p["picture"] == "https://kommune.example/bilder/nordvika.jpg")
            .expect("the photo post");
        let caption = photo["message"].as_str().expect("caption");
        assert!(
            caption.starts_with("Badeplassen er åpen\n\nBadeplassen ved Nordvika"),
            "{caption}"
        );
        assert!(caption.ends_with(link), "{caption}");
        let feed = page
            .iter()
            .find(|p| p["picture"].is_null())
            .expect("the feed post");
        assert!(
            feed["message"]
                .as_str()
                .expect("m")
                .starts_with("Vannet er godt")
        );
        let instagram = &w.published["1784"];
        assert_eq!(instagram.len(), 1, "{instagram:?}");
        assert_eq!(
            instagram[0]["media_url"],
            "https://kommune.example/bilder/nordvika.jpg"
        );
        assert_eq!(
            instagram[0]["caption"],
            format!("Sommer i Nordvika! #badeplass\n\n{link}"),
            "the writer's own text for Instagram, then the link"
        );
        assert!(w.containers.is_empty(), "the container was published");
        assert_eq!(w.statuses.len(), 1, "Mastodon: the picture message only");
    }
    // What went where, with each post's address on its network.
    let posts = s
        .store
        .publication_posts(s.tenant(), picture.id)
        .await
        .expect("posts");
    for (channel, address) in [
        (Channel::Facebook, "https://www.facebook.com/PAGE1/posts/"),
        (Channel::Instagram, "https://www.instagram.com/p/"),
        (Channel::Mastodon, &format!("{base}/@kommune/")),
    ] {
        let post = posts
            .iter()
            .find(|p| p.channel == channel)
            .unwrap_or_else(|| panic!("a post on {channel}"));
        assert!(
            matches!(post.state, DeliveryState::Sent { .. })
                && post
                    .address
                    .as_deref()
                    .is_some_and(|a| a.starts_with(address)),
            "{post:?}"
        );
    }

    // Reach read back: each account asked once for its newest posts with their counts.
    {
        let mut w = world.lock().expect("world");
        let page = w.published["PAGE1"].clone();
        let photo_id = page
            .iter()
            .find(|p| !p["picture"].is_null())
            .and_then(|p| p["id"].as_str())
            .expect("photo id")
            .to_string();
        let media_id = w.published["1784"][0]["id"]
            .as_str()
            .expect("media id")
            .to_string();
        let status_id = w.statuses[0]["id"].as_str().expect("status id").to_string();
        w.engagement.insert(photo_id, (12, 3, 2));
        w.engagement.insert(media_id, (40, 5, 0));
        w.engagement.insert(status_id, (7, 1, 4));
        w.calls.clear();
    }
    let read = torg_social::reach::pass(
        &*s.store,
        &client,
        &torg_domain::connector::HostRules::any(),
        &s.accounts().await,
        later,
    )
    .await
    .expect("reach");
    assert_eq!(
        read, 4,
        "three posts of the picture message, one of the plain one"
    );
    let reach = s
        .store
        .reach(s.tenant(), at - SignedDuration::from_hours(1), later, 10)
        .await
        .expect("reach");
    let of = |id| {
        reach
            .iter()
            .find(|r| r.publication_id == id)
            .expect("reach")
    };
    let p = of(picture.id);
    assert_eq!(
        (p.reactions, p.comments, p.shares),
        (12 + 40 + 7, 3 + 5 + 1, 2 + 4),
        "{p:?}"
    );
    assert_eq!((of(plain.id).reactions, of(plain.id).shares), (0, 0));
    // A later reading replaces the earlier one.
    let status_id = w_status_id(&world);
    world
        .lock()
        .expect("world")
        .engagement
        .insert(status_id, (9, 1, 4));
    torg_social::reach::pass(
        &*s.store,
        &client,
        &torg_domain::connector::HostRules::any(),
        &s.accounts().await,
        later + SignedDuration::from_mins(15),
    )
    .await
    .expect("reach");
    let reach = s
        .store
        .reach(s.tenant(), at - SignedDuration::from_hours(1), later, 10)
        .await
        .expect("reach");
    assert_eq!(of_in(&reach, picture.id).reactions, 12 + 40 + 9);

    // The network throttles, then the token expires: the post waits, and says why.
    let third = written("Brannfare", "https://kommune.example/bilder/skog.jpg").await;
    approve(third.id, &[Channel::Instagram])
        .await
        .expect("approve");
    let throttled = payload_error(4, "Application request limit reached");
    world.lock().expect("world").failures.push_back((
        reqwest::StatusCode::BAD_REQUEST,
        vec![("retry-after", "120".into())],
        throttled,
    ));
    // One pass at `at`; the error the post waits with must hold `said`.
    let mut pass_and_see = async |at: Timestamp, said: &str| {
        sender
            .send_due(&*s.store, &s.accounts().await, &client, at, 100)
            .await
            .expect("pass");
        let posts = s
            .store
            .publication_posts(s.tenant(), third.id)
            .await
            .expect("p");
        assert!(
            matches!(&posts[0].state, DeliveryState::Pending { last_error: Some(e), .. } if e.contains(said)),
            "{posts:?}"
        );
    };
    pass_and_see(later, "rate limited").await;
    world.lock().expect("world").token = "renewed".into();
    pass_and_see(later + SignedDuration::from_mins(3), "no longer valid").await;
    assert_eq!(
        world.lock().expect("world").published["1784"].len(),
        1,
        "nothing more went out"
    );
}

fn w_status_id(world: &standin::Shared) -> String {
    world.lock().expect("world").statuses[0]["id"]
        .as_str()
        .expect("status id")
        .to_string()
}

fn of_in(reach: &[torg_store::Reach], id: i64) -> &torg_store::Reach {
    reach
        .iter()
        .find(|r| r.publication_id == id)
        .expect("reach")
}

/// A Graph API error body with `code`.
fn payload_error(code: i64, message: &str) -> String {
    serde_json::json!({"error": {"message": message, "type": "OAuthException", "code": code}})
        .to_string()
}

/// Listening hears the public comments on the municipality's own pages as they arrive: a
/// comment that meets a keyword is a match (already an inquiry); a private message is not
/// listened to.
#[tokio::test]
async fn public_comments_on_own_pages_are_listened_to() {
    use torg_domain::listening::{MatchState, SourceKind, own_inquiry};
    let s = setup().await;
    let (base, _world) = standin::start("good-token").await;
    s.account(Channel::Facebook, "PAGE", &base, true).await;
    torg_core::listening::set_keywords(
        &*s.store,
        &torg_core::actor::Actor::system("test"),
        s.tenant(),
        "gasslukt",
    )
    .await
    .expect("keywords");
    let heard = s
        .take(comment(
            Channel::Facebook,
            "PAGE",
            "111_900",
            "Det er sterk gasslukta ved skolen nå!",
        ))
        .await;
    s.take(comment(
        Channel::Facebook,
        "PAGE",
        "111_901",
        "Når åpner badet?",
    ))
    .await;
    let matches = s
        .store
        .listening_matches(s.tenant(), Some(MatchState::New), 10)
        .await
        .expect("matches");
    assert_eq!(matches.len(), 1, "{matches:?}");
    assert_eq!(own_inquiry(&matches[0].item.guid), Some(heard));
    assert_eq!(matches[0].keywords, vec!["gasslukt".to_string()]);
    let sources = s
        .store
        .listening_sources(s.tenant())
        .await
        .expect("sources");
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0].kind, SourceKind::OwnPages);
    // The own pages are never due for reading.
    assert!(
        s.store
            .claim_listening_sources(Timestamp::now(), SignedDuration::from_mins(2), 100)
            .await
            .expect("claim")
            .is_empty()
    );
    // Making it an inquiry opens the one it is.
    let made = torg_core::listening::to_inquiry(
        &*s.store,
        &torg_core::actor::Actor::system("test"),
        &s.config,
        matches[0].id,
        IntakeLimits::default(),
        Timestamp::now(),
    )
    .await
    .expect("inquiry");
    assert_eq!(made, heard);
}
