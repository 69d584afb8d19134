//! Channels (kanaler) an inquiry can arrive by.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The channel an inquiry came by; a reply goes back on the same channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// The contact form on the citizen portal (e-dialog).
    Web,
    /// Live chat on the municipality's own site.
    Chat,
    Email,
    Sms,
    Phone,
    Facebook,
    Instagram,
    Mastodon,
    /// Another system through the HTTP API.
    Api,
    /// Something said elsewhere (a news feed, a hashtag) that staff turned into an inquiry
    /// from the listening page: nobody to answer, work to do.
    Listening,
}

impl Channel {
    pub const ALL: [Channel; 10] = [
        Channel::Web,
        Channel::Chat,
        Channel::Email,
        Channel::Sms,
        Channel::Phone,
        Channel::Facebook,
        Channel::Instagram,
        Channel::Mastodon,
        Channel::Api,
        Channel::Listening,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Chat => "chat",
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::Phone => "phone",
            Channel::Facebook => "facebook",
            Channel::Instagram => "instagram",
            Channel::Mastodon => "mastodon",
            Channel::Api => "api",
            Channel::Listening => "listening",
        }
    }

    /// Public channels are social-media pages where everybody can read along; casework
    /// must move to a private channel.
    /// Whether a reply on this channel can carry files: SMS and social media cannot (the
    /// files of a reply are sent by email, or shown on the follow page).
    pub fn carries_files(self) -> bool {
        !matches!(
            self,
            Channel::Sms | Channel::Facebook | Channel::Instagram | Channel::Mastodon
        )
    }

    pub fn is_public(self) -> bool {
        matches!(
            self,
            Channel::Facebook | Channel::Instagram | Channel::Mastodon
        )
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown channel {0:?}; expected one of web, chat, email, sms, phone, facebook, instagram, mastodon, api, listening"
)]
pub struct UnknownChannel(pub String);

impl FromStr for Channel {
    type Err = UnknownChannel;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownChannel(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_round_trips_through_its_name() {
        for c in Channel::ALL {
            assert_eq!(c.as_str().parse::<Channel>(), Ok(c));
        }
        assert!("fax".parse::<Channel>().is_err());
    }

    #[test]
    fn only_social_media_is_public() {
        assert!(Channel::Facebook.is_public());
        assert!(!Channel::Email.is_public());
        assert!(!Channel::Web.is_public());
    }
}
