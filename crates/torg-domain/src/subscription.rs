//! Subscriptions (abonnement): what a citizen asked to get, by email or SMS, about which
//! topics and areas; the words an SMS subscription is made and confirmed with; and what is
//! kept of an address after it asked to stop.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How a subscriber is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    Email,
    Sms,
    /// By email, on the press list (presseliste): journalists who asked for the
    /// municipality's press releases, and get nothing else.
    Press,
}

impl Medium {
    pub fn as_str(self) -> &'static str {
        match self {
            Medium::Email => "email",
            Medium::Sms => "sms",
            Medium::Press => "press",
        }
    }

    pub fn parse(s: &str) -> Option<Medium> {
        match s {
            "email" => Some(Medium::Email),
            "sms" => Some(Medium::Sms),
            "press" => Some(Medium::Press),
            _ => None,
        }
    }

    pub fn channel(self) -> crate::Channel {
        match self {
            Medium::Email | Medium::Press => crate::Channel::Email,
            Medium::Sms => crate::Channel::Sms,
        }
    }
}

/// Why an address cannot subscribe as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubscribeError {
    #[error(transparent)]
    Address(#[from] crate::contact::ContactError),
    #[error("unknown topic {0:?}")]
    UnknownTopic(String),
    #[error("unknown area {0:?}")]
    UnknownArea(String),
}

/// The address in the one form it is stored and compared in: an email address in lower case,
/// a phone number as `+47…`.
pub fn normalise(medium: Medium, address: &str) -> Result<String, SubscribeError> {
    Ok(match medium {
        Medium::Email | Medium::Press => crate::contact::EmailAddress::parse(address.trim())?
            .as_str()
            .to_lowercase(),
        Medium::Sms => crate::contact::PhoneNumber::parse(address.trim())?
            .as_str()
            .to_string(),
    })
}

/// What is kept of an address that asked to stop: a hash, so that an import does not add it
/// again, and nothing that names it.
pub fn stop_hash(medium: Medium, normalised: &str) -> String {
    crate::hex(&Sha256::digest(format!("{}:{normalised}", medium.as_str())))
}

/// Whether a subscriber with these topics and areas (empty: all) gets a message about
/// `topic` in `areas` (a message for no topic or no area reaches everyone it may).
pub fn matches(
    wanted_topics: &[String],
    wanted_areas: &[i64],
    topic: Option<&str>,
    areas: &[i64],
) -> bool {
    let topic_ok = match topic {
        None => true,
        Some(t) => wanted_topics.is_empty() || wanted_topics.iter().any(|w| w == t),
    };
    let area_ok = areas.is_empty()
        || wanted_areas.is_empty()
        || wanted_areas.iter().any(|a| areas.contains(a));
    topic_ok && area_ok
}

/// A list kept as comma-separated text (topics or area ids), as stored.
pub fn join<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The list of [`join`] read back; what does not parse is dropped.
pub fn split<T: std::str::FromStr>(text: &str) -> Vec<T> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

/// What an SMS to the municipality's number says about subscriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmsWord {
    /// `ABONNER [words]` / `PRENUMERERA [words]`: subscribe, to the topics and areas the words
    /// name (none: everything).
    Subscribe(Vec<String>),
    /// `JA` / `YES`: confirm a subscription waiting for it.
    Confirm,
}

/// Reads a subscription word from an SMS (case and diacritics as `fold_keyword` folds them).
pub fn sms_word(text: &str) -> Option<SmsWord> {
    let mut words = text.split_whitespace().map(crate::sms::fold_keyword);
    let first = words.next()?;
    match first.as_str() {
        "abonner" | "abonnere" | "prenumerera" | "subscribe" => Some(SmsWord::Subscribe(
            words
                .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()).to_string())
                .filter(|w| !w.is_empty())
                .collect(),
        )),
        "ja" | "ja!" | "yes" | "jo" => Some(SmsWord::Confirm),
        _ => None,
    }
}

/// A topic's key: lower-case letters, digits and dashes, 1–32 of them.
pub fn topic_key(input: &str) -> Option<String> {
    let key = input.trim().to_lowercase();
    (!key.is_empty()
        && key.len() <= 32
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_'))
    .then_some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_compared_in_one_form() {
        assert_eq!(
            normalise(Medium::Email, " Kari@Example.NO ").expect("test value"),
            "kari@example.no"
        );
        assert_eq!(
            normalise(Medium::Sms, "912 34 567").expect("test value"),
            "+4791234567"
        );
        assert!(normalise(Medium::Email, "not an address").is_err());
        assert_ne!(
            stop_hash(Medium::Email, "a@b.no"),
            stop_hash(Medium::Sms, "a@b.no")
        );
        assert!(!stop_hash(Medium::Email, "a@b.no").contains('@'));
    }

    #[test]
    fn the_press_list_goes_by_email_and_is_a_list_of_its_own() {
        for medium in [Medium::Email, Medium::Sms, Medium::Press] {
            assert_eq!(Medium::parse(medium.as_str()), Some(medium));
        }
        assert_eq!(Medium::Press.channel(), crate::Channel::Email);
        assert_eq!(
            normalise(Medium::Press, "Journalist@Avisa.NO").expect("test value"),
            "journalist@avisa.no"
        );
        assert!(normalise(Medium::Press, "912 34 567").is_err());
        // A journalist who leaves the press list may still subscribe as a citizen.
        assert_ne!(
            stop_hash(Medium::Press, "a@b.no"),
            stop_hash(Medium::Email, "a@b.no")
        );
    }

    #[test]
    fn empty_choices_mean_everything() {
        let none: Vec<String> = vec![];
        assert!(matches(&none, &[], Some("vann"), &[3]));
        assert!(matches(&["vann".into()], &[3], Some("vann"), &[3, 4]));
        assert!(!matches(&["vei".into()], &[], Some("vann"), &[]));
        assert!(!matches(&none, &[5], None, &[3]));
        assert!(matches(&none, &[5], None, &[]));
    }

    #[test]
    fn sms_words() {
        assert_eq!(
            sms_word("abonner vann sentrum"),
            Some(SmsWord::Subscribe(vec!["vann".into(), "sentrum".into()]))
        );
        assert_eq!(sms_word(" Ja "), Some(SmsWord::Confirm));
        assert_eq!(sms_word("hei"), None);
        assert_eq!(sms_word(""), None);
    }

    #[test]
    fn lists_round_trip() {
        assert_eq!(split::<i64>(&join(&[3, 4])), vec![3, 4]);
        assert_eq!(split::<i64>(""), Vec::<i64>::new());
        assert_eq!(topic_key(" Vann "), Some("vann".into()));
        assert_eq!(topic_key("a b"), None);
    }
}
