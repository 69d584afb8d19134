//! Inquiries (henvendelser): status, message kinds, priority and input validation.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where an inquiry stands in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InquiryStatus {
    /// Received, nobody has looked at it yet (ny).
    New,
    /// Being worked on (under arbeid).
    Open,
    /// Waiting for the citizen to answer (venter på innbygger).
    WaitingForCitizen,
    /// Done (lukket).
    Closed,
}

impl InquiryStatus {
    pub const ALL: [InquiryStatus; 4] = [
        InquiryStatus::New,
        InquiryStatus::Open,
        InquiryStatus::WaitingForCitizen,
        InquiryStatus::Closed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InquiryStatus::New => "new",
            InquiryStatus::Open => "open",
            InquiryStatus::WaitingForCitizen => "waiting_for_citizen",
            InquiryStatus::Closed => "closed",
        }
    }

    /// The status after the citizen writes again: a closed or waiting inquiry reopens.
    pub fn after_citizen_message(self) -> InquiryStatus {
        match self {
            InquiryStatus::New => InquiryStatus::New,
            _ => InquiryStatus::Open,
        }
    }

    /// The status after staff reply: a new inquiry becomes open, others keep their status.
    pub fn after_staff_reply(self) -> InquiryStatus {
        match self {
            InquiryStatus::New => InquiryStatus::Open,
            s => s,
        }
    }
}

impl fmt::Display for InquiryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown status {0:?}; expected new, open, waiting_for_citizen or closed")]
pub struct UnknownStatus(pub String);

impl FromStr for InquiryStatus {
    type Err = UnknownStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        InquiryStatus::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

/// A message in an inquiry's thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// From the citizen.
    Inbound,
    /// From the municipality to the citizen.
    Outbound,
    /// Internal note (internt notat): never shown to the citizen.
    Note,
    /// The automatic acknowledgement (kvittering): shown to the citizen, but not an answer.
    Acknowledgement,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Inbound => "inbound",
            MessageKind::Outbound => "outbound",
            MessageKind::Note => "note",
            MessageKind::Acknowledgement => "acknowledgement",
        }
    }

    /// Whether the citizen may see this message on the follow page.
    pub fn visible_to_citizen(self) -> bool {
        !matches!(self, MessageKind::Note)
    }
}

impl FromStr for MessageKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "inbound" => Ok(MessageKind::Inbound),
            "outbound" => Ok(MessageKind::Outbound),
            "note" => Ok(MessageKind::Note),
            "acknowledgement" => Ok(MessageKind::Acknowledgement),
            other => Err(format!("unknown message kind {other:?}")),
        }
    }
}

/// Priority; urgent inquiries sort first among equal deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Normal,
    High,
}

impl Priority {
    pub fn as_i64(self) -> i64 {
        match self {
            Priority::Normal => 0,
            Priority::High => 1,
        }
    }
    pub fn from_i64(v: i64) -> Priority {
        if v > 0 {
            Priority::High
        } else {
            Priority::Normal
        }
    }
}

/// Limits on what a citizen may send; configurable per installation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextLimits {
    /// Largest message text in bytes (default 64 KiB).
    pub max_text_bytes: usize,
}

impl Default for TextLimits {
    fn default() -> Self {
        TextLimits {
            max_text_bytes: 64 * 1024,
        }
    }
}

/// Why a piece of citizen input was refused. Each variant has a stable code for the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("the field {0} is required")]
    Missing(&'static str),
    #[error("the field {field} is too long: {len} bytes, at most {max}")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("the field {0} contains control characters")]
    ControlCharacters(&'static str),
}

impl InputError {
    pub fn code(&self) -> &'static str {
        match self {
            InputError::Missing(_) => "missing_field",
            InputError::TooLong { .. } => "too_long",
            InputError::ControlCharacters(_) => "invalid_characters",
        }
    }
}

/// Trims a required text field and checks its length and characters.
pub fn required_text(field: &'static str, value: &str, max: usize) -> Result<String, InputError> {
    let v = value.trim();
    if v.is_empty() {
        return Err(InputError::Missing(field));
    }
    optional_text(field, v, max).map(|o| o.unwrap_or_default())
}

/// Trims an optional field; empty becomes `None`.
pub fn optional_text(
    field: &'static str,
    value: &str,
    max: usize,
) -> Result<Option<String>, InputError> {
    let v = value.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if v.len() > max {
        return Err(InputError::TooLong {
            field,
            len: v.len(),
            max,
        });
    }
    // Tabs and newlines are text; other control characters are not.
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(InputError::ControlCharacters(field));
    }
    Ok(Some(v.replace("\r\n", "\n")))
}

/// The short preview of a message shown in lists.
pub fn preview(body: &str, max_chars: usize) -> String {
    let flat: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max_chars {
        return flat;
    }
    let mut out: String = flat.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn statuses_round_trip() {
        for s in InquiryStatus::ALL {
            assert_eq!(s.as_str().parse::<InquiryStatus>(), Ok(s));
        }
        assert!("done".parse::<InquiryStatus>().is_err());
    }

    #[test]
    fn a_citizen_message_reopens_a_closed_inquiry() {
        assert_eq!(
            InquiryStatus::Closed.after_citizen_message(),
            InquiryStatus::Open
        );
        assert_eq!(
            InquiryStatus::WaitingForCitizen.after_citizen_message(),
            InquiryStatus::Open
        );
        assert_eq!(
            InquiryStatus::New.after_citizen_message(),
            InquiryStatus::New
        );
        assert_eq!(InquiryStatus::New.after_staff_reply(), InquiryStatus::Open);
        assert_eq!(
            InquiryStatus::Closed.after_staff_reply(),
            InquiryStatus::Closed
        );
    }

    #[test]
    fn notes_are_never_visible_to_citizens() {
        assert!(!MessageKind::Note.visible_to_citizen());
        assert!(MessageKind::Outbound.visible_to_citizen());
        assert!(MessageKind::Acknowledgement.visible_to_citizen());
        for k in [
            MessageKind::Inbound,
            MessageKind::Outbound,
            MessageKind::Note,
            MessageKind::Acknowledgement,
        ] {
            assert_eq!(k.as_str().parse::<MessageKind>(), Ok(k));
        }
    }

    #[test]
    fn required_text_rejects_empty_long_and_control_characters() {
        assert_eq!(
            required_text("name", "  ", 10),
            Err(InputError::Missing("name"))
        );
        assert!(matches!(
            required_text("name", "abcdefghijk", 10),
            Err(InputError::TooLong { .. })
        ));
        assert_eq!(
            required_text("name", "a\u{0}b", 10),
            Err(InputError::ControlCharacters("name"))
        );
        assert_eq!(
            required_text("m", " hei\r\nder ", 100).as_deref(),
            Ok("hei\nder")
        );
    }

    #[test]
    fn preview_flattens_and_shortens() {
        assert_eq!(preview("a\n\n b", 10), "a b");
        assert_eq!(preview("æøåæøåæøå", 4), "æøå…");
    }

    proptest! {
        #[test]
        fn preview_never_exceeds_its_length(s in ".*", n in 1usize..50) {
            prop_assert!(preview(&s, n).chars().count() <= n);
        }

        #[test]
        fn accepted_text_is_within_limits(s in ".*", max in 1usize..200) {
            if let Ok(Some(v)) = optional_text("f", &s, max) {
                prop_assert!(v.len() <= max);
                prop_assert!(!v.is_empty());
            }
        }
    }
}
