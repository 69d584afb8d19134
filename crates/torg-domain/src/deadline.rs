//! Answer deadlines (svarfrist).
//!
//! This is the first, calendar-free rule: a number of hours per channel. Working time,
//! public holidays and per-unit policies replace it with the deadline issue; callers only
//! see [`deadline_for`].

use crate::Channel;
use jiff::{SignedDuration, Timestamp};

/// How long the municipality gives itself to answer an inquiry on this channel.
/// Social media and chat expect an answer the same day (KS roadmap); other channels within
/// two days.
pub fn default_hours(channel: Channel) -> i64 {
    match channel {
        Channel::Chat | Channel::Facebook | Channel::Instagram | Channel::Mastodon => 8,
        Channel::Sms | Channel::Phone => 24,
        Channel::Web | Channel::Email | Channel::Api => 48,
    }
}

/// The deadline of an inquiry received at `received` on `channel`.
pub fn deadline_for(channel: Channel, received: Timestamp) -> Timestamp {
    received
        .saturating_add(SignedDuration::from_hours(default_hours(channel)))
        .unwrap_or(received)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_is_after_receipt() {
        let t: Timestamp = "2026-11-20T10:00:00Z".parse().unwrap_or_default();
        for c in Channel::ALL {
            assert!(deadline_for(c, t) > t);
        }
        assert_eq!(
            deadline_for(Channel::Web, t).to_string(),
            "2026-11-22T10:00:00Z"
        );
    }
}
