//! Publishing's use cases: write a message once, send it for approval, approve it (those who
//! speak for the municipality; never one's own text where the municipality asks for four
//! eyes; the personal-data guard holds it until the approver confirms), change it (which needs
//! a new approval) or withdraw it. An approved message reaches the staff first and the
//! portal's news at its time ([`torg_domain::publish::audience`]). Each step is written with
//! its audit entry; the approval entry carries the hash of the text approved.

use crate::actor::Actor;
use jiff::{SignedDuration, Timestamp};
use torg_domain::Channel;
use torg_domain::TenantId;
use torg_domain::access::Permission;
use torg_domain::personal_data::Finding;
use torg_domain::publish::{ApprovalError, Content, Network, PubState, may_approve, text_hash};
use torg_store::{
    NewPublication, Publication, PublicationEdit, PublicationVersion, Store, StoreError, User,
};

/// The longest title and text, in characters.
pub const MAX_TITLE: usize = 200;
pub const MAX_BODY: usize = 20_000;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("a message needs a title of at most {MAX_TITLE} characters")]
    Title,
    #[error("a message needs a text of at most {MAX_BODY} characters")]
    Body,
    #[error("only staff who handle inquiries write messages")]
    MayNotWrite,
    #[error("only the author or someone who speaks for the municipality changes a message")]
    NotYours,
    #[error("a withdrawn message is not changed; write a new one")]
    Withdrawn,
    #[error("only a draft is sent for approval")]
    NotDraft,
    #[error(transparent)]
    Approval(#[from] ApprovalError),
    #[error("the message holds what looks like personal data; confirm that it may be public")]
    PersonalData(Vec<Finding>),
    #[error("someone else changed the message meanwhile; look at it again")]
    Changed,
    #[error("staff are told between 0 and 1440 minutes (a day) before the public")]
    Lead,
    #[error(transparent)]
    Image(#[from] torg_domain::publish::ImageError),
    #[error(
        "Instagram takes a post only with a picture: give the message one, or leave Instagram out"
    )]
    NeedsImage,
    #[error(transparent)]
    Variant(#[from] torg_domain::publish::VariantError),
    #[error(transparent)]
    Language(#[from] torg_domain::publish::LanguageError),
    #[error("only a press release goes to the press list")]
    NotPress,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for PublishError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => PublishError::Changed,
            other => PublishError::Store(other),
        }
    }
}

impl PublishError {
    /// The message's key in the interface catalogue.
    pub fn key(&self) -> &'static str {
        match self {
            PublishError::Title => "publish-error-title",
            PublishError::Body => "publish-error-body",
            PublishError::MayNotWrite | PublishError::NotYours => "error-forbidden",
            PublishError::Withdrawn => "publish-error-withdrawn",
            PublishError::NotDraft => "publish-error-not-draft",
            PublishError::Approval(ApprovalError::NotAllowed) => "error-forbidden",
            PublishError::Approval(ApprovalError::OwnText) => "publish-error-own-text",
            PublishError::Approval(ApprovalError::NotSubmitted) => "publish-error-not-submitted",
            PublishError::PersonalData(_) => "publish-error-personal-data",
            PublishError::Changed => "publish-error-changed",
            PublishError::Lead => "publish-error-lead",
            PublishError::Image(_) => "publish-error-image",
            PublishError::NeedsImage => "publish-error-needs-image",
            PublishError::Variant(_) => "publish-error-variant",
            PublishError::Language(_) => "publish-error-language",
            PublishError::NotPress => "publish-error-not-press",
            PublishError::Store(_) => "error-storage",
        }
    }
}

/// A message as typed.
#[derive(Debug, Clone, Copy)]
pub struct MessageInput<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub publish_at: Timestamp,
    /// The annual wheel's item it is planned on (kept when the message is changed).
    pub wheel_item: Option<i64>,
    /// Its picture's public https address as typed; empty for none.
    pub image_url: &'a str,
    /// Its own text for a network, as typed (empty: Torg writes the post).
    pub variants: &'a [(Channel, &'a str)],
    /// News or a press release (chosen when it is written; a change keeps it).
    pub kind: torg_domain::publish::Kind,
}

/// A message as it is kept: its title, text and picture checked.
struct Checked {
    title: String,
    body: String,
    image_url: Option<String>,
    variants: Vec<(Channel, String)>,
}

fn checked(input: MessageInput<'_>) -> Result<Checked, PublishError> {
    let title = input.title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE {
        return Err(PublishError::Title);
    }
    let body = input.body.trim();
    if body.is_empty() || body.chars().count() > MAX_BODY {
        return Err(PublishError::Body);
    }
    Ok(Checked {
        title: title.to_string(),
        body: body.to_string(),
        image_url: torg_domain::publish::image_url(input.image_url)?,
        variants: torg_domain::publish::variants(input.variants)?,
    })
}

fn may_change(user: &User, p: &Publication) -> Result<(), PublishError> {
    if p.state == PubState::Withdrawn {
        return Err(PublishError::Withdrawn);
    }
    if p.author_id != user.id && !user.role.has(Permission::SpeakPublicly) {
        return Err(PublishError::NotYours);
    }
    Ok(())
}

async fn found(store: &dyn Store, tenant: TenantId, id: i64) -> Result<Publication, PublishError> {
    store
        .publication(tenant, id)
        .await?
        .ok_or(PublishError::Store(StoreError::NotFound("publication")))
}

/// Writes a new message (a draft) in the municipality's `language`.
pub async fn draft(
    store: &dyn Store,
    actor: &Actor,
    author: &User,
    tenant: TenantId,
    language: &str,
    input: MessageInput<'_>,
) -> Result<Publication, PublishError> {
    if !author.role.has(Permission::HandleInquiries) {
        return Err(PublishError::MayNotWrite);
    }
    let Checked {
        title,
        body,
        image_url,
        variants,
    } = checked(input)?;
    let entry = actor.entry("publication.drafted", String::new(), title.clone());
    let new = NewPublication {
        image_url,
        variants,
        kind: input.kind,
        title,
        body,
        language: language.to_string(),
        author_id: author.id,
        publish_at: input.publish_at,
        wheel_item_id: input.wheel_item,
    };
    Ok(store.create_publication(tenant, &new, Some(entry)).await?)
}

/// Changes a message's text or time: it is a draft again, and any approval is gone.
pub async fn edit(
    store: &dyn Store,
    actor: &Actor,
    user: &User,
    tenant: TenantId,
    id: i64,
    input: MessageInput<'_>,
) -> Result<Publication, PublishError> {
    let p = found(store, tenant, id).await?;
    may_change(user, &p)?;
    let Checked {
        title,
        body,
        image_url,
        variants,
    } = checked(input)?;
    let detail = if p.state == PubState::Approved {
        "changed after approval: a new approval is needed"
    } else {
        ""
    };
    let entry = actor.entry(
        "publication.edited",
        format!("publication:{id}"),
        detail.to_string(),
    );
    Ok(store
        .edit_publication(
            tenant,
            id,
            &PublicationEdit {
                title: &title,
                body: &body,
                image_url: image_url.as_deref(),
                publish_at: input.publish_at,
                variants: &variants,
            },
            Some(entry),
        )
        .await?)
}

/// Adds or changes the message's version in another language (`title` and `body` empty:
/// takes it away). A change of the message: it is a draft again and needs a new approval.
#[allow(clippy::too_many_arguments)]
pub async fn set_version(
    store: &dyn Store,
    actor: &Actor,
    user: &User,
    tenant: TenantId,
    id: i64,
    language: &str,
    title: &str,
    body: &str,
) -> Result<Publication, PublishError> {
    let p = found(store, tenant, id).await?;
    may_change(user, &p)?;
    let language = torg_domain::publish::version_language(language, &p.language)?;
    let remove = title.trim().is_empty() && body.trim().is_empty();
    let version = if remove {
        PublicationVersion {
            language,
            title: String::new(),
            body: String::new(),
        }
    } else {
        let checked = checked(MessageInput {
            kind: Default::default(),
            title,
            body,
            publish_at: p.publish_at,
            wheel_item: None,
            image_url: "",
            variants: &[],
        })?;
        PublicationVersion {
            language,
            title: checked.title,
            body: checked.body,
        }
    };
    let entry = actor.entry(
        if remove {
            "publication.version_removed"
        } else {
            "publication.version_set"
        },
        format!("publication:{id}"),
        version.language.clone(),
    );
    Ok(store
        .set_publication_version(tenant, id, &version, remove, Some(entry))
        .await?)
}

/// Sends a draft for approval.
pub async fn submit(
    store: &dyn Store,
    actor: &Actor,
    user: &User,
    tenant: TenantId,
    id: i64,
) -> Result<Publication, PublishError> {
    let p = found(store, tenant, id).await?;
    may_change(user, &p)?;
    if p.state != PubState::Draft {
        return Err(PublishError::NotDraft);
    }
    let entry = actor.entry(
        "publication.submitted",
        format!("publication:{id}"),
        String::new(),
    );
    Ok(store
        .set_publication_state(
            tenant,
            id,
            PubState::Draft,
            PubState::Submitted,
            None,
            Some(entry),
            &[],
            &[],
        )
        .await?)
}

/// Where an approved message goes besides the portal's news and the staff.
#[derive(Debug, Clone, Copy, Default)]
pub struct Approval<'a> {
    /// Personal data in it may be public: the approver confirmed it.
    pub confirm_personal_data: bool,
    /// The networks it is also posted on ([`torg_domain::publish::NETWORKS`]), each from every
    /// approved account the municipality has there.
    pub channels: &'a [Channel],
    /// The news item's address on the portal, which every post links to.
    pub link: &'a str,
    /// Who of the subscribers get it by email and SMS (when `channels` has them).
    pub audience: Audience<'a>,
    /// A press release also goes by email to the press list (journalists who asked for it):
    /// the email's last lines (how to leave the list); `None`: not to the press list.
    pub press_list: Option<&'a str>,
}

/// The subscribers a message's newsletter and SMS reach: those of its topic and areas.
#[derive(Debug, Clone, Copy, Default)]
pub struct Audience<'a> {
    /// A topic's key; `None`: every subscriber, whatever their topics.
    pub topic: Option<&'a str>,
    /// Area ids; empty: the whole municipality.
    pub areas: &'a [i64],
    /// The subscribers' links start so ([`crate::subscribe::manage_base`]).
    pub manage_base: &'a str,
    /// The email's last lines (how to change or end the subscription).
    pub email_footer: &'a str,
    /// The SMS's last words (how to stop).
    pub sms_footer: &'a str,
}

/// The longest SMS a message sends to subscribers: two GSM segments.
pub const SMS_MAX_CHARS: usize = 300;

/// A post's text: the title, the first paragraph, and the link to the whole message, within
/// `max` characters (the paragraph is shortened first).
pub fn post_text(p: &Publication, link: &str, max: usize) -> String {
    let fixed = p.title.chars().count() + link.chars().count() + 4;
    let lead = lead(&p.body, max.saturating_sub(fixed));
    format!("{}\n\n{lead}\n\n{link}", p.title)
}

/// A message's post on `network`: the writer's own text for it followed by the link, else
/// Torg's ([`post_text`]).
pub fn post_for(
    p: &Publication,
    variants: &[(Channel, String)],
    network: &Network,
    link: &str,
) -> String {
    match variants.iter().find(|(c, _)| *c == network.channel) {
        Some((_, own)) => format!("{own}\n\n{link}"),
        None => post_text(p, link, network.max_chars),
    }
}

/// A message's first paragraph in at most `max` characters (shortened with "…"): what a post
/// and the news list show of it.
pub fn lead(body: &str, max: usize) -> String {
    let first = body.split("\n\n").next().unwrap_or_default().trim();
    if first.chars().count() <= max {
        return first.to_string();
    }
    let mut out: String = first.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Approves a message waiting for approval, bound to its text as it is now. Personal data in
/// it holds the approval until the approver confirms it may be public. Its posts on other
/// channels are queued with the approval, due at its time, each once (a fixed id).
pub async fn approve(
    store: &dyn Store,
    actor: &Actor,
    approver: &User,
    tenant: TenantId,
    id: i64,
    approval: Approval<'_>,
) -> Result<Publication, PublishError> {
    let p = found(store, tenant, id).await?;
    let settings = store.publishing_settings(tenant).await?;
    may_approve(
        approver.role,
        approver.id,
        p.author_id,
        p.state,
        settings.four_eyes,
    )?;
    approved(
        store,
        actor,
        approver,
        tenant,
        p,
        approval,
        PubState::Submitted,
    )
    .await
}

/// A crisis's message, published at once on the portal's news and the networks chosen: in a
/// crisis the approval is shortened to the crisis lead, who writes and approves in one step
/// (still only those who speak for the municipality, and still held by personal data).
pub async fn crisis_message(
    store: &dyn Store,
    actor: &Actor,
    lead: &User,
    tenant: TenantId,
    language: &str,
    (title, body): (&str, &str),
    approval: impl Fn(i64) -> (String, Vec<Channel>),
) -> Result<Publication, PublishError> {
    if !lead.role.has(Permission::SpeakPublicly) {
        return Err(PublishError::Approval(
            torg_domain::publish::ApprovalError::NotAllowed,
        ));
    }
    let p = draft(
        store,
        actor,
        lead,
        tenant,
        language,
        MessageInput {
            title,
            body,
            publish_at: jiff::Timestamp::now(),
            wheel_item: None,
            image_url: "",
            variants: &[],
            kind: torg_domain::publish::Kind::News,
        },
    )
    .await?;
    let (link, channels) = approval(p.id);
    // Instagram takes no post without a picture, and a crisis message has none.
    let channels: Vec<Channel> = channels
        .into_iter()
        .filter(|c| torg_domain::publish::network(*c).is_some_and(|n| !n.needs_image))
        .collect();
    approved(
        store,
        actor,
        lead,
        tenant,
        p,
        Approval {
            channels: &channels,
            link: &link,
            ..Default::default()
        },
        PubState::Draft,
    )
    .await
}

/// The approval's writes, once its rules are checked: the guard, the posts, the newsletter.
async fn approved(
    store: &dyn Store,
    actor: &Actor,
    approver: &User,
    tenant: TenantId,
    p: Publication,
    approval: Approval<'_>,
    from: PubState,
) -> Result<Publication, PublishError> {
    let id = p.id;
    let confirm = approval.confirm_personal_data;
    let variants = store.publication_variants(tenant, id).await?;
    let versions = store.publication_versions(tenant, id).await?;
    // Everything that goes out is checked: the text, the networks' own texts, the versions.
    let mut published = format!("{}\n{}", p.title, p.body);
    for (_, text) in &variants {
        published.push_str(&format!("\n{text}"));
    }
    for v in &versions {
        published.push_str(&format!("\n{}\n{}", v.title, v.body));
    }
    let findings = torg_domain::personal_data::find(&published);
    if !findings.is_empty() && !confirm {
        return Err(PublishError::PersonalData(findings));
    }
    let networks: Vec<Network> = approval
        .channels
        .iter()
        .filter_map(|c| torg_domain::publish::network(*c))
        .collect();
    if p.image_url.is_none() && networks.iter().any(|n| n.needs_image) {
        return Err(PublishError::NeedsImage);
    }
    if approval.press_list.is_some() && p.kind != torg_domain::publish::Kind::Press {
        return Err(PublishError::NotPress);
    }
    let hash = text_hash(&Content {
        title: &p.title,
        body: &p.body,
        image: p.image_url.as_deref(),
        variants: &variants,
        versions: &versions
            .iter()
            .map(|v| (v.language.as_str(), v.title.as_str(), v.body.as_str()))
            .collect::<Vec<_>>(),
    });
    let mut detail = format!("text:{hash}");
    if !findings.is_empty() {
        detail.push_str(" personal-data:confirmed");
    }
    let mut notices = vec![];
    let approved_at = jiff::Timestamp::now().as_millisecond();
    let accounts = if networks.is_empty() {
        vec![]
    } else {
        store.social_accounts(Some(tenant)).await?
    };
    for network in &networks {
        let body = post_for(&p, &variants, network, approval.link);
        for account in accounts
            .iter()
            .filter(|a| a.channel == network.channel && a.approved)
        {
            let address = torg_domain::social::Address {
                account: account.account.clone(),
                target: torg_domain::social::Target::Publish(id.to_string()),
            };
            notices.push(torg_store::Notice {
                out: torg_store::NewOutgoing {
                    channel: network.channel,
                    recipient: address.to_string(),
                    subject: p.title.clone(),
                    header_id: format!(
                        "publication-{id}-{}-{approved_at}-{}",
                        &hash[..12],
                        account.account
                    ),
                    in_reply_to: None,
                    references: vec![],
                    media: p.image_url.clone().filter(|_| network.takes_image),
                },
                body: body.clone(),
            });
            detail.push_str(&format!(" {}:{}", network.channel, account.account));
        }
    }
    // Its newsletter and SMS: to the subscribers of its topic and areas.
    let email_body = format!(
        "{}\n\n{}\n\n{}\n\n{}",
        p.title, p.body, approval.link, approval.audience.email_footer
    );
    let sms_room = SMS_MAX_CHARS.saturating_sub(approval.audience.sms_footer.chars().count() + 1);
    let sms_body = format!(
        "{} {}",
        post_text(&p, approval.link, sms_room),
        approval.audience.sms_footer
    );
    let prefix = format!("publication-{id}-{}-{approved_at}-", &hash[..12]);
    let mut broadcasts = crate::subscribe::broadcasts(
        approval.channels,
        &p.title,
        &email_body,
        &sms_body,
        approval.audience.topic,
        approval.audience.areas,
        false,
        &prefix,
        approval.audience.manage_base,
        p.publish_at,
    );
    let press_body = approval
        .press_list
        .map(|footer| format!("{}\n\n{}\n\n{}\n\n{footer}", p.title, p.body, approval.link));
    if let Some(body) = &press_body {
        broadcasts.push(torg_store::Broadcast {
            medium: torg_domain::subscription::Medium::Press,
            subject: &p.title,
            body,
            topic: None,
            areas: &[],
            test_only: false,
            header_prefix: &prefix,
            manage_base: approval.audience.manage_base,
            due_at: p.publish_at,
        });
    }
    for b in &broadcasts {
        detail.push_str(&format!(" {}:subscribers", b.medium.as_str()));
        if let Some(topic) = b.topic {
            detail.push_str(&format!(" topic:{topic}"));
        }
    }
    let entry = actor.entry("publication.approved", format!("publication:{id}"), detail);
    Ok(store
        .set_publication_state(
            tenant,
            id,
            from,
            PubState::Approved,
            Some((approver.id, hash)),
            Some(entry),
            &notices,
            &broadcasts,
        )
        .await?)
}

/// Withdraws a message (before or after it went out): shown nowhere any more.
pub async fn withdraw(
    store: &dyn Store,
    actor: &Actor,
    user: &User,
    tenant: TenantId,
    id: i64,
) -> Result<Publication, PublishError> {
    let p = found(store, tenant, id).await?;
    may_change(user, &p)?;
    let entry = actor.entry(
        "publication.withdrawn",
        format!("publication:{id}"),
        p.state.as_str().to_string(),
    );
    Ok(store
        .set_publication_state(
            tenant,
            id,
            p.state,
            PubState::Withdrawn,
            None,
            Some(entry),
            &[],
            &[],
        )
        .await?)
}

/// The portal's news at `now`: approved messages whose time has come, newest first.
pub async fn news(
    store: &dyn Store,
    tenant: TenantId,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<Publication>, StoreError> {
    store
        .approved_until(tenant, now, Some(torg_domain::publish::Kind::News), limit)
        .await
}

/// The portal's press page at `now`: approved press releases whose time has come, newest
/// first.
pub async fn press_releases(
    store: &dyn Store,
    tenant: TenantId,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<Publication>, StoreError> {
    store
        .approved_until(tenant, now, Some(torg_domain::publish::Kind::Press), limit)
        .await
}

/// What staff are told at `now`: approved messages from their staff time on (before the
/// public sees them), and for a week after they went out.
pub async fn staff_notices(
    store: &dyn Store,
    tenant: TenantId,
    now: Timestamp,
) -> Result<Vec<Publication>, StoreError> {
    let settings = store.publishing_settings(tenant).await?;
    let lead = SignedDuration::from_mins(i64::from(settings.staff_lead_minutes));
    let week = SignedDuration::from_hours(24 * 7);
    Ok(store
        .approved_until(tenant, now + lead, None, 20)
        .await?
        .into_iter()
        .filter(|p| p.publish_at + week > now)
        .collect())
}

/// The longest staff lead, in minutes (a day).
pub const MAX_STAFF_LEAD_MINUTES: u32 = 24 * 60;

/// Sets the municipality's publishing rules: whether an author may approve their own text, and
/// how long before the public staff see a message.
pub async fn set_settings(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    settings: torg_store::PublishingSettings,
) -> Result<(), PublishError> {
    if settings.staff_lead_minutes > MAX_STAFF_LEAD_MINUTES {
        return Err(PublishError::Lead);
    }
    let entry = actor.entry(
        "publishing.settings",
        format!("municipality:{tenant}"),
        format!(
            "four_eyes:{} staff_lead_minutes:{}",
            settings.four_eyes, settings.staff_lead_minutes
        ),
    );
    Ok(store
        .set_publishing_settings(tenant, settings, Some(entry))
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(title: &str, body: &str) -> Publication {
        let at: Timestamp = "2027-03-01T08:00:00Z".parse().expect("ts");
        Publication {
            kind: Default::default(),
            image_url: None,
            id: 1,
            tenant_id: TenantId(1),
            title: title.into(),
            body: body.into(),
            language: "nb".into(),
            state: PubState::Approved,
            author_id: torg_domain::UserId(1),
            approved_by: None,
            approved_hash: None,
            publish_at: at,
            created_at: at,
            updated_at: at,
            wheel_item_id: None,
        }
    }

    #[test]
    fn a_post_is_the_title_the_first_paragraph_and_the_link_within_its_length() {
        let link = "https://kommune.example/k/x/news/1";
        let short = post_text(&message("Vann", "Kok vannet.\n\nMer tekst."), link, 500);
        assert_eq!(short, format!("Vann\n\nKok vannet.\n\n{link}"));
        let long = post_text(&message("Vann", &"ord ".repeat(400)), link, 500);
        assert_eq!(long.chars().count(), 500);
        assert!(long.ends_with(link) && long.contains('…'));
    }
}
