//! Publishing (one message, written once): its states, who may approve it, and when staff and
//! the public see it. Staff are told first ("internt före externt"): a message approved to go
//! out at `publish_at` is shown to staff from `publish_at − staff_lead` and to the public from
//! `publish_at`. A change after approval needs a new approval: the approval is bound to the
//! text's hash.

use crate::access::Permission;
use crate::{Channel, Role};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PubState {
    /// Being written; anyone who may draft may change it.
    Draft,
    /// Waiting for someone who speaks for the municipality.
    Submitted,
    /// Approved: goes to staff and then to the public at its time.
    Approved,
    /// Taken back before or after it went out; shown nowhere.
    Withdrawn,
}

impl PubState {
    pub fn as_str(self) -> &'static str {
        match self {
            PubState::Draft => "draft",
            PubState::Submitted => "submitted",
            PubState::Approved => "approved",
            PubState::Withdrawn => "withdrawn",
        }
    }
}

impl std::str::FromStr for PubState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "draft" => Ok(PubState::Draft),
            "submitted" => Ok(PubState::Submitted),
            "approved" => Ok(PubState::Approved),
            "withdrawn" => Ok(PubState::Withdrawn),
            other => Err(format!("{other:?} is not a publication state")),
        }
    }
}

/// What a message is on the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// News: the portal's news page and feed.
    #[default]
    News,
    /// A press release (pressemelding): the portal's press page.
    Press,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::News => "news",
            Kind::Press => "press",
        }
    }
}

impl std::str::FromStr for Kind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "news" => Ok(Kind::News),
            "press" => Ok(Kind::Press),
            other => Err(format!("{other:?} is not a kind of message")),
        }
    }
}

/// How long before the public staff see an approved message, unless the municipality says
/// otherwise.
pub const STAFF_LEAD: SignedDuration = SignedDuration::from_mins(30);

/// Why an approval was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    #[error("only those who speak for the municipality approve what it publishes")]
    NotAllowed,
    #[error("the municipality asks for four eyes: someone else approves your text")]
    OwnText,
    #[error("only a message waiting for approval can be approved")]
    NotSubmitted,
}

/// Whether `approver` (with `role`) may approve a message by `author` in `state`.
pub fn may_approve(
    role: Role,
    approver: crate::UserId,
    author: crate::UserId,
    state: PubState,
    four_eyes: bool,
) -> Result<(), ApprovalError> {
    if !role.has(Permission::SpeakPublicly) {
        return Err(ApprovalError::NotAllowed);
    }
    if four_eyes && approver == author {
        return Err(ApprovalError::OwnText);
    }
    if state != PubState::Submitted {
        return Err(ApprovalError::NotSubmitted);
    }
    Ok(())
}

/// What an approval covers: everything that goes out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Content<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub image: Option<&'a str>,
    /// The networks' own texts.
    pub variants: &'a [(Channel, String)],
    /// Versions in other languages: (language, title, text).
    pub versions: &'a [(&'a str, &'a str, &'a str)],
}

/// The hash an approval is bound to: every part of the content, length-prefixed.
pub fn text_hash(c: &Content<'_>) -> String {
    let mut h = Sha256::new();
    let mut parts = vec![c.title, c.body, c.image.unwrap_or_default()];
    for (channel, text) in c.variants {
        parts.push(channel.as_str());
        parts.push(text);
    }
    for (language, title, body) in c.versions {
        parts.extend([*language, *title, *body]);
    }
    for s in parts {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    }
    crate::hex(&h.finalize())
}

/// Why a version's language was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "a version's language is its ISO 639 code of two or three letters (fi, en, se, …), other than the message's own"
)]
pub struct LanguageError;

/// A version's language as typed: its ISO 639 code, lower case; not the message's own.
pub fn version_language(typed: &str, own: &str) -> Result<String, LanguageError> {
    let code = typed.trim().to_ascii_lowercase();
    if !(2..=3).contains(&code.len())
        || !code.bytes().all(|b| b.is_ascii_lowercase())
        || code == own
    {
        return Err(LanguageError);
    }
    Ok(code)
}

/// A language's name in itself (what a reader looks for in a list of versions), for the
/// languages Nordic municipalities write in; `None` for others.
pub fn language_own_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "nb" => "norsk bokmål",
        "nn" => "norsk nynorsk",
        "sv" => "svenska",
        "fi" => "suomi",
        "en" => "English",
        "se" => "davvisámegiella",
        "sma" => "åarjelsaemien",
        "smj" => "julevsámegiella",
        "da" => "dansk",
        "de" => "Deutsch",
        "pl" => "polski",
        "lt" => "lietuvių",
        "uk" => "українська",
        "ru" => "русский",
        "ar" => "العربية",
        "so" => "Soomaali",
        "ti" => "ትግርኛ",
        "fa" => "فارسی",
        "es" => "español",
        "fr" => "français",
        _ => return None,
    })
}

/// Which version a reader gets: the one asked for, else the reader's interface language's,
/// else none (the message as written).
pub fn version_for<'a>(
    languages: &'a [String],
    asked: Option<&str>,
    reader: &str,
) -> Option<&'a str> {
    asked
        .and_then(|a| languages.iter().find(|l| *l == a))
        .or_else(|| languages.iter().find(|l| *l == reader))
        .map(String::as_str)
}

/// Room kept in a network's post for the link to the news, which follows a writer's own text.
pub const LINK_ROOM: usize = 120;

/// Why a network's own text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the text for {channel} is longer than {max} characters")]
pub struct VariantError {
    pub channel: Channel,
    pub max: usize,
}

/// The networks' own texts as typed: empty ones dropped, each checked against its network's
/// length (with room for the link), in the order of [`NETWORKS`].
pub fn variants(typed: &[(Channel, &str)]) -> Result<Vec<(Channel, String)>, VariantError> {
    let mut out = vec![];
    for n in NETWORKS {
        let Some((_, text)) = typed.iter().find(|(c, _)| *c == n.channel) else {
            continue;
        };
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let max = n.max_chars - LINK_ROOM;
        if text.chars().count() > max {
            return Err(VariantError {
                channel: n.channel,
                max,
            });
        }
        out.push((n.channel, text.to_string()));
    }
    Ok(out)
}

/// Why a picture's address was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a picture is given by its public https address (at most 2,000 characters)")]
pub struct ImageError;

/// A picture's address as typed: none when empty, else a public `https` address (the networks
/// fetch it themselves, so it must be reachable from outside).
pub fn image_url(typed: &str) -> Result<Option<String>, ImageError> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    let url = url::Url::parse(typed).map_err(|_| ImageError)?;
    if typed.len() > 2_000 || url.scheme() != "https" || url.host_str().is_none_or(str::is_empty) {
        return Err(ImageError);
    }
    Ok(Some(url.to_string()))
}

/// What a network takes of a published message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    pub channel: Channel,
    /// The longest post Torg writes there, in characters (the network's own limit or less).
    pub max_chars: usize,
    /// The network takes a post only with a picture (Instagram).
    pub needs_image: bool,
    /// The post carries the message's picture.
    pub takes_image: bool,
}

/// The networks a message is published on besides the portal and the staff, in the order
/// they are offered. Facebook's own limit is 63,206 characters; a post there is the title, the
/// first paragraph and the link, so it is kept to 2,000. Instagram's captions hold 2,200.
pub const NETWORKS: [Network; 3] = [
    Network {
        channel: Channel::Facebook,
        max_chars: 2_000,
        needs_image: false,
        takes_image: true,
    },
    Network {
        channel: Channel::Instagram,
        max_chars: 2_200,
        needs_image: true,
        takes_image: true,
    },
    Network {
        channel: Channel::Mastodon,
        max_chars: 500,
        needs_image: false,
        takes_image: false,
    },
];

/// The network of `channel`, if a message can be published there.
pub fn network(channel: Channel) -> Option<Network> {
    NETWORKS.into_iter().find(|n| n.channel == channel)
}

/// Who sees an approved message at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// Not yet anyone.
    Nobody,
    /// Staff, ahead of the public.
    Staff,
    /// Everyone: it is out.
    Public,
}

/// Who sees a message approved for `publish_at` at `now`, with staff told `lead` before.
pub fn audience(publish_at: Timestamp, lead: SignedDuration, now: Timestamp) -> Audience {
    if now >= publish_at {
        Audience::Public
    } else if now >= publish_at - lead {
        Audience::Staff
    } else {
        Audience::Nobody
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approval_needs_the_right_to_speak_and_four_eyes() {
        let submitted = PubState::Submitted;
        assert_eq!(
            may_approve(
                Role::Communication,
                crate::UserId(2),
                crate::UserId(1),
                submitted,
                true
            ),
            Ok(())
        );
        assert_eq!(
            may_approve(
                Role::Communication,
                crate::UserId(1),
                crate::UserId(1),
                submitted,
                true
            ),
            Err(ApprovalError::OwnText)
        );
        assert_eq!(
            may_approve(
                Role::Communication,
                crate::UserId(1),
                crate::UserId(1),
                submitted,
                false
            ),
            Ok(())
        );
        assert_eq!(
            may_approve(
                Role::CaseHandler,
                crate::UserId(2),
                crate::UserId(1),
                submitted,
                true
            ),
            Err(ApprovalError::NotAllowed)
        );
        assert_eq!(
            may_approve(
                Role::ChiefExecutive,
                crate::UserId(2),
                crate::UserId(1),
                PubState::Draft,
                true
            ),
            Err(ApprovalError::NotSubmitted)
        );
    }

    #[test]
    fn staff_see_it_first_then_everyone() {
        let at: Timestamp = "2027-03-01T08:00:00Z".parse().expect("ts");
        let lead = STAFF_LEAD;
        let before = at - SignedDuration::from_mins(31);
        assert_eq!(audience(at, lead, before), Audience::Nobody);
        assert_eq!(
            audience(at, lead, at - SignedDuration::from_mins(30)),
            Audience::Staff
        );
        assert_eq!(audience(at, lead, at), Audience::Public);
    }

    #[test]
    fn any_change_of_the_text_changes_its_hash() {
        let c = Content {
            title: "Vann",
            body: "Kok vannet.",
            ..Content::default()
        };
        let a = text_hash(&c);
        let variants = [(Channel::Mastodon, "Kok!".to_string())];
        for other in [
            Content {
                body: "Kok vannet!",
                ..c
            },
            Content {
                title: "VannKok",
                body: " vannet.",
                ..c
            },
            Content {
                image: Some("https://x.no/a.jpg"),
                ..c
            },
            Content {
                variants: &variants,
                ..c
            },
            Content {
                versions: &[("fi", "Vesi", "Keitä vesi.")],
                ..c
            },
        ] {
            assert_ne!(a, text_hash(&other), "{other:?}");
        }
        assert_eq!(a, text_hash(&c));
    }

    #[test]
    fn versions_have_a_language_code_and_readers_get_theirs() {
        assert_eq!(version_language(" FI ", "sv"), Ok("fi".into()));
        for bad in ["", "f", "suomi", "f1", "sv"] {
            assert_eq!(version_language(bad, "sv"), Err(LanguageError), "{bad}");
        }
        let languages = vec!["en".to_string(), "fi".to_string()];
        assert_eq!(version_for(&languages, Some("fi"), "en"), Some("fi"));
        assert_eq!(version_for(&languages, Some("de"), "en"), Some("en"));
        assert_eq!(version_for(&languages, None, "nb"), None);
    }

    #[test]
    fn pictures_are_public_https_addresses() {
        assert_eq!(image_url("  "), Ok(None));
        assert_eq!(
            image_url(" https://nordby.kommune.no/bilder/vann.jpg "),
            Ok(Some("https://nordby.kommune.no/bilder/vann.jpg".into()))
        );
        for bad in [
            "http://nordby.kommune.no/vann.jpg",
            "javascript:alert(1)",
            "vann.jpg",
            "file:///etc/passwd",
        ] {
            assert_eq!(image_url(bad), Err(ImageError), "{bad}");
        }
        assert_eq!(
            image_url(&format!("https://x.no/{}", "a".repeat(2_000))),
            Err(ImageError)
        );
    }

    #[test]
    fn own_texts_fit_their_network_with_room_for_the_link() {
        let long = "a".repeat(400);
        assert_eq!(
            variants(&[
                (Channel::Mastodon, " Kok vannet. "),
                (Channel::Facebook, ""),
                (Channel::Email, "ignored"),
            ]),
            Ok(vec![(Channel::Mastodon, "Kok vannet.".to_string())])
        );
        assert_eq!(
            variants(&[(Channel::Mastodon, long.as_str())]),
            Err(VariantError {
                channel: Channel::Mastodon,
                max: 380
            })
        );
        assert!(variants(&[(Channel::Instagram, long.as_str())]).is_ok());
    }

    #[test]
    fn instagram_needs_a_picture_and_mastodon_is_short() {
        assert!(network(Channel::Instagram).is_some_and(|n| n.needs_image));
        assert_eq!(network(Channel::Mastodon).map(|n| n.max_chars), Some(500));
        assert_eq!(network(Channel::Email), None);
    }
}
