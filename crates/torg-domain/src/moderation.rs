//! Moderation (moderering) of the municipality's public pages: comments are answered, not
//! deleted. Hiding one needs one of the four recognised reasons and a note saying why; the
//! original is kept for the record.

use serde::Serialize;
use std::str::FromStr;

/// Why a comment may be hidden: the reasons the municipalities' social-media guidelines give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HideReason {
    /// Clearly off topic, spam or abusive language.
    OffTopicOrAbusive,
    /// A personal attack on someone.
    PersonalAttack,
    /// Names or points out third persons (also: personal data about others).
    ThirdPersons,
    /// Unlawful content (threats, hate speech, incitement, copyright).
    Unlawful,
}

impl HideReason {
    pub const ALL: [HideReason; 4] = [
        HideReason::OffTopicOrAbusive,
        HideReason::PersonalAttack,
        HideReason::ThirdPersons,
        HideReason::Unlawful,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HideReason::OffTopicOrAbusive => "off_topic_or_abusive",
            HideReason::PersonalAttack => "personal_attack",
            HideReason::ThirdPersons => "third_persons",
            HideReason::Unlawful => "unlawful",
        }
    }
}

impl FromStr for HideReason {
    type Err = ModerationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HideReason::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(ModerationError::NoReason)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ModerationError {
    #[error(
        "choose one of the four reasons for hiding: off topic or abusive, personal attack, naming third persons, unlawful"
    )]
    NoReason,
    #[error("write a note saying why the comment is hidden")]
    NoNote,
}

impl ModerationError {
    pub fn code(self) -> &'static str {
        match self {
            ModerationError::NoReason => "hide_reason_missing",
            ModerationError::NoNote => "hide_note_missing",
        }
    }
}

/// A decision to hide, checked: a recognised reason and a note that says something.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HideDecision {
    pub reason: HideReason,
    pub note: String,
}

impl HideDecision {
    pub fn new(reason: &str, note: &str) -> Result<HideDecision, ModerationError> {
        let reason = reason.parse()?;
        let note = note.trim();
        if note.chars().filter(|c| c.is_alphanumeric()).count() < 3 {
            return Err(ModerationError::NoNote);
        }
        Ok(HideDecision {
            reason,
            note: note.chars().take(1000).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hiding_needs_a_reason_and_a_note() {
        assert_eq!(
            HideDecision::new("", "sjikane"),
            Err(ModerationError::NoReason)
        );
        assert_eq!(
            HideDecision::new("i_dont_like_it", "sjikane"),
            Err(ModerationError::NoReason)
        );
        assert_eq!(
            HideDecision::new("personal_attack", "  !! "),
            Err(ModerationError::NoNote)
        );
        let d = HideDecision::new("personal_attack", " Kaller en ansatt idiot ").expect("ok");
        assert_eq!(d.reason, HideReason::PersonalAttack);
        assert_eq!(d.note, "Kaller en ansatt idiot");
        for r in HideReason::ALL {
            assert_eq!(r.as_str().parse::<HideReason>(), Ok(r));
        }
    }
}
