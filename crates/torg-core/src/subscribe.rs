//! Subscriptions (abonnement): a citizen asks on the portal or by SMS, confirms by a link or
//! by answering JA, sees and changes what they get from a private link, and ends it in one
//! step (a link in every email, RFC 8058's one-click POST, or STOPP). After the end nothing is
//! kept but a hash saying the address asked to stop. Staff import lists (`torg subscribers
//! import`), confirmed only where the file says how consent was given.

use crate::actor::Actor;
use jiff::{SignedDuration, Timestamp};
use torg_domain::subscription::{self, Medium, SubscribeError};
use torg_domain::{Channel, TenantId};
use torg_i18n::Tr;
use torg_store::{
    Broadcast, Municipality, NewOutgoing, NewSubscriber, Notice, Store, StoreError, Subscriber,
    SubscriberChange,
};

/// At most so many confirmations to one address a day: a citizen's word sends a message, so
/// it is limited, and it goes only to the address given.
pub const CONFIRMATIONS_PER_DAY: i64 = 3;

#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    #[error(transparent)]
    Invalid(#[from] SubscribeError),
    #[error(
        "this address was sent a confirmation a short while ago; look for it, or try again tomorrow"
    )]
    TooOften,
    #[error("choose email or SMS")]
    NoMedium,
    #[error("the link is not valid any more")]
    UnknownLink,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SubscriptionError {
    /// The interface catalogue's key for the error.
    pub fn key(&self) -> &'static str {
        match self {
            SubscriptionError::Invalid(SubscribeError::Address(c)) => match c {
                torg_domain::contact::ContactError::BadPhone(_) => "subscribe-error-phone",
                _ => "subscribe-error-email",
            },
            SubscriptionError::Invalid(_) => "subscribe-error-choice",
            SubscriptionError::TooOften => "subscribe-error-too-often",
            SubscriptionError::NoMedium => "subscribe-error-medium",
            SubscriptionError::UnknownLink => "subscribe-error-link",
            SubscriptionError::Store(_) => "error-storage",
        }
    }
}

/// What a citizen asked for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Topic keys; empty: every topic.
    pub topics: Vec<String>,
    /// Area ids; empty: the whole municipality.
    pub areas: Vec<i64>,
    pub language: String,
}

/// How a request went, per address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A confirmation was sent; nothing is sent until it is answered.
    ConfirmationSent(Medium),
    /// The address is subscribed already: it was told how to change what it gets.
    AlreadySubscribed(Medium),
}

/// The page where a subscriber sees and changes what they get.
pub fn manage_link(base: &str, slug: &str, token: &str) -> String {
    format!("{base}/k/{slug}/subscription/{token}")
}

/// The start of every subscriber's link, before its token (for broadcasts).
pub fn manage_base(base: &str, slug: &str) -> String {
    format!("{base}/k/{slug}/subscription/")
}

fn notice(medium: Medium, to: &str, subject: String, body: String) -> Notice {
    Notice {
        out: NewOutgoing {
            channel: medium.channel(),
            recipient: to.to_string(),
            subject,
            header_id: format!("<subscription-{}@torg>", &crate::secrets::new_token()[..24]),
            in_reply_to: None,
            references: vec![],
            media: None,
        },
        body,
    }
}

/// The confirmation a new or pending subscription is sent.
fn confirmation(t: &Tr, m: &Municipality, s: &Subscriber, base: &str) -> Notice {
    let link = manage_link(base, &m.slug, &s.token);
    let (subject, body) = match s.medium {
        Medium::Press => ("press-list-confirm-subject", "press-list-confirm-email"),
        _ => ("subscribe-confirm-subject", "subscribe-confirm-email"),
    };
    match s.medium {
        Medium::Email | Medium::Press => notice(
            s.medium,
            &s.address,
            t.get1(subject, "municipality", &m.name),
            t.args(
                body,
                &[
                    ("municipality", &m.name),
                    ("link", &format!("{link}/confirm")),
                ],
            ),
        ),
        Medium::Sms => notice(
            Medium::Sms,
            &s.address,
            String::new(),
            t.get1("subscribe-confirm-sms", "municipality", &m.name),
        ),
    }
}

/// Asks for a subscription: a new one, or a pending one asked again, gets a confirmation; an
/// address subscribed already is told where to change it (its choices change only from its
/// own link). Each address gets at most [`CONFIRMATIONS_PER_DAY`].
pub async fn subscribe(
    store: &dyn Store,
    actor: &Actor,
    t: &Tr,
    m: &Municipality,
    request: &Request,
    base: &str,
) -> Result<Vec<Outcome>, SubscriptionError> {
    let known_topics = store.topics(m.id).await?;
    for topic in &request.topics {
        if !known_topics.iter().any(|k| &k.key == topic) {
            return Err(SubscribeError::UnknownTopic(topic.clone()).into());
        }
    }
    let known_areas = store.areas(m.id).await?;
    for area in &request.areas {
        if !known_areas.iter().any(|a| a.id == *area) {
            return Err(SubscribeError::UnknownArea(area.to_string()).into());
        }
    }
    let mut addresses = vec![];
    for (medium, given) in [
        (Medium::Email, &request.email),
        (Medium::Sms, &request.phone),
    ] {
        if let Some(given) = given.as_deref().filter(|g| !g.trim().is_empty()) {
            addresses.push((medium, subscription::normalise(medium, given)?));
        }
    }
    if addresses.is_empty() {
        return Err(SubscriptionError::NoMedium);
    }
    let mut outcomes = vec![];
    for (medium, address) in addresses {
        outcomes.push(
            subscribe_one(
                store, actor, t, m, request, medium, &address, "portal", base,
            )
            .await?,
        );
    }
    Ok(outcomes)
}

/// A journalist asks for the municipality's press releases by email (the press list): the
/// same double opt-in and limits as a citizen's subscription, on a list of its own that gets
/// press releases and nothing else.
pub async fn join_press_list(
    store: &dyn Store,
    actor: &Actor,
    t: &Tr,
    m: &Municipality,
    email: &str,
    language: &str,
    base: &str,
) -> Result<Outcome, SubscriptionError> {
    if email.trim().is_empty() {
        return Err(SubscriptionError::NoMedium);
    }
    let address = subscription::normalise(Medium::Press, email)?;
    let request = Request {
        language: language.to_string(),
        ..Default::default()
    };
    subscribe_one(
        store,
        actor,
        t,
        m,
        &request,
        Medium::Press,
        &address,
        "press page",
        base,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn subscribe_one(
    store: &dyn Store,
    actor: &Actor,
    t: &Tr,
    m: &Municipality,
    request: &Request,
    medium: Medium,
    address: &str,
    consent: &str,
    base: &str,
) -> Result<Outcome, SubscriptionError> {
    let now = Timestamp::now();
    let entry = |action: &str| actor.entry(action, String::new(), medium.as_str().to_string());
    match store.subscriber(m.id, medium, address).await? {
        None => {
            let new = NewSubscriber {
                medium,
                address: address.to_string(),
                token: crate::secrets::new_token(),
                topics: request.topics.clone(),
                areas: request.areas.clone(),
                language: request.language.clone(),
                consent: consent.to_string(),
                confirmed: false,
                test_recipient: false,
            };
            // The confirmation needs the token, which is the new row's.
            let draft = Subscriber {
                id: 0,
                tenant_id: m.id,
                medium,
                address: new.address.clone(),
                token: new.token.clone(),
                topics: vec![],
                areas: vec![],
                language: new.language.clone(),
                consent: new.consent.clone(),
                confirmed_at: None,
                asked_at: now,
                asked_count: 1,
                test_recipient: false,
            };
            let confirm = confirmation(t, m, &draft, base);
            store
                .add_subscriber(
                    m.id,
                    &new,
                    Some(&confirm),
                    Some(entry("subscription.asked")),
                )
                .await?;
            Ok(Outcome::ConfirmationSent(medium))
        }
        Some(existing) => {
            let fresh_day = now.duration_since(existing.asked_at) > SignedDuration::from_hours(24);
            if !fresh_day && existing.asked_count >= CONFIRMATIONS_PER_DAY {
                return Err(SubscriptionError::TooOften);
            }
            if existing.confirmed_at.is_some() {
                let link = manage_link(base, &m.slug, &existing.token);
                let (subject, body) = match medium {
                    Medium::Press => ("press-list-known-subject", "press-list-known-email"),
                    _ => ("subscribe-known-subject", "subscribe-known-email"),
                };
                let told = match medium {
                    Medium::Email | Medium::Press => notice(
                        medium,
                        address,
                        t.get1(subject, "municipality", &m.name),
                        t.args(body, &[("municipality", &m.name), ("link", &link)]),
                    ),
                    Medium::Sms => notice(
                        medium,
                        address,
                        String::new(),
                        t.args(
                            "subscribe-known-sms",
                            &[("municipality", &m.name), ("link", &link)],
                        ),
                    ),
                };
                store
                    .change_subscriber(
                        m.id,
                        existing.id,
                        &SubscriberChange {
                            asked: true,
                            ..Default::default()
                        },
                        Some(&told),
                        Some(entry("subscription.reminded")),
                    )
                    .await?;
                return Ok(Outcome::AlreadySubscribed(medium));
            }
            let confirm = confirmation(t, m, &existing, base);
            store
                .change_subscriber(
                    m.id,
                    existing.id,
                    &SubscriberChange {
                        topics: Some(request.topics.clone()),
                        areas: Some(request.areas.clone()),
                        asked: true,
                        ..Default::default()
                    },
                    Some(&confirm),
                    Some(entry("subscription.asked")),
                )
                .await?;
            Ok(Outcome::ConfirmationSent(medium))
        }
    }
}

/// The subscription a private link opens.
pub async fn by_link(store: &dyn Store, token: &str) -> Result<Subscriber, SubscriptionError> {
    // Tokens are 64 hex digits; anything else is not looked up.
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(SubscriptionError::UnknownLink);
    }
    store
        .subscriber_by_token(token)
        .await?
        .ok_or(SubscriptionError::UnknownLink)
}

/// Confirms a subscription from its link (the double opt-in's second step).
pub async fn confirm(
    store: &dyn Store,
    actor: &Actor,
    token: &str,
) -> Result<Subscriber, SubscriptionError> {
    let s = by_link(store, token).await?;
    if s.confirmed_at.is_some() {
        return Ok(s);
    }
    Ok(store
        .change_subscriber(
            s.tenant_id,
            s.id,
            &SubscriberChange {
                confirm: true,
                ..Default::default()
            },
            None,
            Some(actor.entry(
                "subscription.confirmed",
                String::new(),
                s.medium.as_str().into(),
            )),
        )
        .await?)
}

/// Changes what a subscriber gets, from their link.
pub async fn change(
    store: &dyn Store,
    actor: &Actor,
    token: &str,
    topics: Vec<String>,
    areas: Vec<i64>,
) -> Result<Subscriber, SubscriptionError> {
    let s = by_link(store, token).await?;
    if s.medium == Medium::Press && (!topics.is_empty() || !areas.is_empty()) {
        // The press list has no topics or areas: it gets every press release.
        return Err(SubscribeError::UnknownTopic(topics.join(",")).into());
    }
    let known_topics = store.topics(s.tenant_id).await?;
    if let Some(bad) = topics
        .iter()
        .find(|t| !known_topics.iter().any(|k| &k.key == *t))
    {
        return Err(SubscribeError::UnknownTopic(bad.clone()).into());
    }
    let known_areas = store.areas(s.tenant_id).await?;
    if let Some(bad) = areas
        .iter()
        .find(|a| !known_areas.iter().any(|k| k.id == **a))
    {
        return Err(SubscribeError::UnknownArea(bad.to_string()).into());
    }
    Ok(store
        .change_subscriber(
            s.tenant_id,
            s.id,
            &SubscriberChange {
                topics: Some(topics),
                areas: Some(areas),
                ..Default::default()
            },
            None,
            Some(actor.entry(
                "subscription.changed",
                String::new(),
                s.medium.as_str().into(),
            )),
        )
        .await?)
}

/// Ends a subscription: only the fact that the address asked to stop is kept.
pub async fn unsubscribe(
    store: &dyn Store,
    actor: &Actor,
    token: &str,
) -> Result<TenantId, SubscriptionError> {
    let s = by_link(store, token).await?;
    end(store, actor, &s).await?;
    Ok(s.tenant_id)
}

async fn end(store: &dyn Store, actor: &Actor, s: &Subscriber) -> Result<(), SubscriptionError> {
    store
        .remove_subscriber(
            s.tenant_id,
            s.id,
            &subscription::stop_hash(s.medium, &s.address),
            Some(actor.entry(
                "subscription.ended",
                String::new(),
                s.medium.as_str().into(),
            )),
        )
        .await?;
    Ok(())
}

/// What an SMS about subscriptions did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsOutcome {
    /// ABONNER …: a confirmation was asked for.
    Asked,
    /// JA: confirmed.
    Confirmed,
    /// STOPP: the SMS subscription ended.
    Stopped,
    /// Not about subscriptions (or nothing waiting for a JA): an ordinary inquiry.
    NotOurs,
}

/// An SMS to the municipality's number: ABONNER [topics/areas], JA to confirm, STOPP to end.
/// The answers go to the number that wrote, and only when it asked something.
pub async fn receive_sms(
    store: &dyn Store,
    t: &Tr,
    m: &Municipality,
    phone: &str,
    text: &str,
    base: &str,
) -> Result<SmsOutcome, SubscriptionError> {
    let address = crate::sms::gateway_number(phone)
        .map_err(SubscribeError::from)?
        .as_str()
        .to_string();
    // The audit log keeps no number: after the end nothing is kept but the stop's hash.
    let actor = Actor::citizen("sms");
    if torg_domain::sms::consent_word(text) == Some(torg_domain::sms::ConsentWord::Stop) {
        if let Some(s) = store.subscriber(m.id, Medium::Sms, &address).await? {
            end(store, &actor, &s).await?;
            return Ok(SmsOutcome::Stopped);
        }
        return Ok(SmsOutcome::NotOurs);
    }
    match subscription::sms_word(text) {
        Some(subscription::SmsWord::Confirm) => {
            match store.subscriber(m.id, Medium::Sms, &address).await? {
                Some(s) if s.confirmed_at.is_none() => {
                    confirm(store, &actor, &s.token).await?;
                    let welcome = notice(
                        Medium::Sms,
                        &address,
                        String::new(),
                        t.args(
                            "subscribe-welcome-sms",
                            &[
                                ("municipality", &m.name),
                                ("link", &manage_link(base, &m.slug, &s.token)),
                            ],
                        ),
                    );
                    store
                        .queue_notices(m.id, None, &[welcome], Timestamp::now())
                        .await?;
                    Ok(SmsOutcome::Confirmed)
                }
                // A repeated JA (the gateway retried, or the citizen wrote twice).
                Some(_) => Ok(SmsOutcome::Confirmed),
                None => Ok(SmsOutcome::NotOurs),
            }
        }
        Some(subscription::SmsWord::Subscribe(words)) => {
            // The number asks, in its own words: an earlier STOPP no longer holds.
            store
                .set_sms_consent(m.id, &address, false, Timestamp::now())
                .await?;
            let topics = store.topics(m.id).await?;
            let areas = store.areas(m.id).await?;
            let fold = torg_domain::sms::fold_keyword;
            let request = Request {
                topics: topics
                    .iter()
                    .filter(|k| {
                        words
                            .iter()
                            .any(|w| *w == fold(&k.key) || *w == fold(&k.name))
                    })
                    .map(|k| k.key.clone())
                    .collect(),
                areas: areas
                    .iter()
                    .filter(|a| words.iter().any(|w| *w == fold(&a.name)))
                    .map(|a| a.id)
                    .collect(),
                language: t.lang.clone(),
                ..Default::default()
            };
            subscribe_one(
                store,
                &actor,
                t,
                m,
                &request,
                Medium::Sms,
                &address,
                "sms",
                base,
            )
            .await?;
            Ok(SmsOutcome::Asked)
        }
        None => Ok(SmsOutcome::NotOurs),
    }
}

/// One row of an import: an address and, where the file says so, how consent was given.
#[derive(Debug, Clone, Default)]
pub struct ImportRow {
    pub email: Option<String>,
    pub phone: Option<String>,
    pub topics: Vec<String>,
    /// Area names.
    pub areas: Vec<String>,
    /// How consent was given (a paper form, an earlier service); empty: not known, so the
    /// subscriber is asked to confirm first.
    pub consent: String,
    pub test_recipient: bool,
}

/// How an import went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Imported {
    pub added: u64,
    /// Had a subscription, or asked to stop.
    pub skipped: u64,
    /// Added unconfirmed: asked to confirm.
    pub asked: u64,
}

/// Imports subscribers. Rows whose file says how consent was given are confirmed; the others
/// are asked to confirm, like a subscription from the portal. Every row is checked first:
/// one bad row refuses the file, naming its line.
pub async fn import(
    store: &dyn Store,
    actor: &Actor,
    t: &Tr,
    m: &Municipality,
    rows: &[ImportRow],
    base: &str,
) -> Result<Imported, (usize, SubscriptionError)> {
    let topics = store.topics(m.id).await.map_err(|e| (0, e.into()))?;
    let areas = store.areas(m.id).await.map_err(|e| (0, e.into()))?;
    let mut news = vec![];
    for (i, row) in rows.iter().enumerate() {
        let line = i + 2;
        let mut area_ids = vec![];
        for name in &row.areas {
            let a = areas
                .iter()
                .find(|a| a.name.eq_ignore_ascii_case(name.trim()))
                .ok_or_else(|| (line, SubscribeError::UnknownArea(name.clone()).into()))?;
            area_ids.push(a.id);
        }
        for topic in &row.topics {
            if !topics.iter().any(|k| &k.key == topic) {
                return Err((line, SubscribeError::UnknownTopic(topic.clone()).into()));
            }
        }
        let mut any = false;
        for (medium, given) in [(Medium::Email, &row.email), (Medium::Sms, &row.phone)] {
            if let Some(given) = given.as_deref().filter(|g| !g.trim().is_empty()) {
                let address =
                    subscription::normalise(medium, given).map_err(|e| (line, e.into()))?;
                any = true;
                news.push(NewSubscriber {
                    medium,
                    address,
                    token: crate::secrets::new_token(),
                    topics: row.topics.clone(),
                    areas: area_ids.clone(),
                    language: m.language.clone(),
                    consent: if row.consent.trim().is_empty() {
                        "import".into()
                    } else {
                        format!("import: {}", row.consent.trim())
                    },
                    confirmed: !row.consent.trim().is_empty(),
                    test_recipient: row.test_recipient,
                });
            }
        }
        if !any {
            return Err((line, SubscriptionError::NoMedium));
        }
    }
    let hashes: Vec<String> = news
        .iter()
        .map(|n| subscription::stop_hash(n.medium, &n.address))
        .collect();
    let entry = actor.entry(
        "subscribers.imported",
        format!("municipality:{}", m.id),
        format!("rows={}", rows.len()),
    );
    let (added, skipped) = store
        .import_subscribers(m.id, &news, &hashes, Some(entry))
        .await
        .map_err(|e| (0, e.into()))?;
    // Those without a known consent are asked, as from the portal.
    let mut asked = 0;
    for n in news.iter().filter(|n| !n.confirmed) {
        if let Some(s) = store
            .subscriber(m.id, n.medium, &n.address)
            .await
            .map_err(|e| (0, e.into()))?
            .filter(|s| s.confirmed_at.is_none() && s.token == n.token)
        {
            store
                .queue_notices(
                    m.id,
                    None,
                    &[confirmation(t, m, &s, base)],
                    Timestamp::now(),
                )
                .await
                .map_err(|e| (0, e.into()))?;
            asked += 1;
        }
    }
    Ok(Imported {
        added,
        skipped,
        asked,
    })
}

/// The newsletter's and SMS's broadcasts of a message: to subscribers of its topic and areas.
/// The email ends with the link to change or end the subscription (the sender adds it, with
/// `List-Unsubscribe`); an SMS says how to stop.
#[allow(clippy::too_many_arguments)]
pub fn broadcasts<'a>(
    channels: &[Channel],
    subject: &'a str,
    email_body: &'a str,
    sms_body: &'a str,
    topic: Option<&'a str>,
    areas: &'a [i64],
    test_only: bool,
    header_prefix: &'a str,
    manage_base: &'a str,
    due_at: Timestamp,
) -> Vec<Broadcast<'a>> {
    let mut out = vec![];
    for (medium, body) in [(Medium::Email, email_body), (Medium::Sms, sms_body)] {
        if channels.contains(&medium.channel()) {
            out.push(Broadcast {
                medium,
                subject,
                body,
                topic,
                areas,
                test_only,
                header_prefix,
                manage_base,
                due_at,
            });
        }
    }
    out
}

/// The rows of a subscriber list in CSV with a header line: `email`, `phone`, `topics` and
/// `areas` (separated by `;`), `consent` (how consent was given; empty: ask to confirm) and
/// `test` (yes/ja/1: gets drills). Each row needs an email or a phone. A broken line is named.
pub fn parse_csv(text: &str) -> Result<Vec<ImportRow>, (usize, String)> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader.headers().map_err(|e| (1, e.to_string()))?.clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    if column("email").is_none() && column("phone").is_none() {
        return Err((1, "the header needs an email or a phone column".into()));
    }
    let list = |s: &str| -> Vec<String> {
        s.split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    };
    let mut rows = vec![];
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.map_err(|e| (line, e.to_string()))?;
        let field = |name: &str| {
            column(name)
                .and_then(|i| record.get(i))
                .unwrap_or_default()
                .to_string()
        };
        let some = |s: String| Some(s).filter(|s| !s.is_empty());
        rows.push(ImportRow {
            email: some(field("email")),
            phone: some(field("phone")),
            topics: list(&field("topics")),
            areas: list(&field("areas")),
            consent: field("consent"),
            test_recipient: matches!(
                field("test").to_lowercase().as_str(),
                "yes" | "ja" | "1" | "true"
            ),
        });
    }
    Ok(rows)
}
