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

/// Why a public comment is in the moderation queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "by", rename_all = "snake_case")]
pub enum Flag {
    /// The personal-data guard found this kind of data (an identity number, a phone number,
    /// health wording, …): the comment should not stay in public.
    PersonalData { kind: crate::personal_data::Kind },
    /// A word of the municipality's keyword list.
    Keyword { word: String },
}

/// The flags of a public comment: what the guard finds (each kind once) and the keywords
/// it holds as words or phrases, case-insensitively.
pub fn flags(text: &str, keywords: &[String]) -> Vec<Flag> {
    let mut out: Vec<Flag> = Vec::new();
    for f in crate::personal_data::find(text) {
        let flag = Flag::PersonalData { kind: f.kind };
        if !out.contains(&flag) {
            out.push(flag);
        }
    }
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    for k in keywords {
        let phrase: Vec<String> = k.split_whitespace().map(str::to_lowercase).collect();
        if !phrase.is_empty()
            && words
                .windows(phrase.len())
                .any(|w| w.iter().zip(&phrase).all(|(a, b)| a == b))
        {
            out.push(Flag::Keyword { word: k.clone() });
        }
    }
    out
}

/// The ready answer that moves a citizen from a public comment to a private conversation, in
/// the comment's language.
pub fn private_reply(language: &str) -> &'static str {
    match language {
        "nn" => {
            "Hei! Takk for at du tok kontakt. Kommentaren din inneheld personlege opplysningar, så vi har skjult han for å verne deg. Vi svarar deg gjerne her i ei privat melding."
        }
        "sv" => {
            "Hej! Tack för att du hörde av dig. Din kommentar innehåller personuppgifter, så vi har dolt den för att skydda dig. Vi svarar gärna här i ett privat meddelande."
        }
        "en" => {
            "Hello, and thank you for getting in touch. Your comment contains personal information, so we have hidden it to protect you. We are happy to answer you here in a private message."
        }
        _ => {
            "Hei! Takk for at du tok kontakt. Kommentaren din inneholder personopplysninger, så vi har skjult den for å beskytte deg. Vi svarer deg gjerne her i en privat melding."
        }
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

    #[test]
    fn comments_are_flagged_by_the_guard_and_the_keyword_list() {
        use crate::personal_data::Kind;
        let keywords = vec!["svindel".to_string(), "dårlig vær".to_string()];
        let f = flags(
            "Min sønn 01017000027 har fått diagnosen diabetes, ring 41234567. Dette er SVINDEL!",
            &keywords,
        );
        assert!(f.contains(&Flag::PersonalData {
            kind: Kind::Fodselsnummer
        }));
        assert!(f.contains(&Flag::PersonalData { kind: Kind::Phone }));
        assert!(f.contains(&Flag::Keyword {
            word: "svindel".into()
        }));
        assert!(
            flags("Det er dårlig vær i dag", &keywords).contains(&Flag::Keyword {
                word: "dårlig vær".into()
            })
        );
        assert!(
            flags("Svindelen er avslørt", &keywords).is_empty(),
            "whole words only"
        );
        assert!(flags("Når åpner biblioteket?", &keywords).is_empty());
        assert!(private_reply("sv").contains("privat meddelande"));
        assert!(private_reply("nb").contains("privat melding"));
    }
}
