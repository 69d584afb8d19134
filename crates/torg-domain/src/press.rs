//! The press: the media log (medielogg) of contacts with journalists, and possible press
//! stories that staff flag for the communication chief.

use serde::Serialize;

/// What a media log entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// A journalist called, wrote or was called.
    Contact,
    /// Staff think an inquiry may become a press story; the communication chief is told.
    Story,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Contact => "contact",
            MediaKind::Story => "story",
        }
    }
}

impl std::str::FromStr for MediaKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "contact" => Ok(MediaKind::Contact),
            "story" => Ok(MediaKind::Story),
            other => Err(format!("{other:?} is not a kind of media log entry")),
        }
    }
}

/// Why an entry was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("say what it is about (at most 200 characters)")]
    Topic,
    #[error("the outlet and the person are at most 200 characters each")]
    Name,
    #[error("notes are at most 4,000 characters")]
    Notes,
}

/// An entry's fields as typed, trimmed and checked.
pub struct MediaFields {
    pub outlet: String,
    pub person: String,
    pub topic: String,
    pub notes: String,
}

/// Checks an entry as typed: a topic is needed; the rest may be empty.
pub fn checked(
    outlet: &str,
    person: &str,
    topic: &str,
    notes: &str,
) -> Result<MediaFields, MediaError> {
    let (outlet, person, topic, notes) = (outlet.trim(), person.trim(), topic.trim(), notes.trim());
    if topic.is_empty() || topic.chars().count() > 200 {
        return Err(MediaError::Topic);
    }
    if outlet.chars().count() > 200 || person.chars().count() > 200 {
        return Err(MediaError::Name);
    }
    if notes.chars().count() > 4_000 {
        return Err(MediaError::Notes);
    }
    Ok(MediaFields {
        outlet: outlet.into(),
        person: person.into(),
        topic: topic.into(),
        notes: notes.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_needs_a_topic_and_stays_short() {
        let ok = checked(" NRK Vestland ", "Kari", " Vannlekkasje ", "");
        assert!(
            ok.as_ref()
                .is_ok_and(|f| f.outlet == "NRK Vestland" && f.topic == "Vannlekkasje")
        );
        assert_eq!(checked("", "", "  ", "").err(), Some(MediaError::Topic));
        assert_eq!(
            checked(&"x".repeat(201), "", "Sak", "").err(),
            Some(MediaError::Name)
        );
        assert_eq!(
            checked("", "", "Sak", &"x".repeat(4_001)).err(),
            Some(MediaError::Notes)
        );
        for kind in [MediaKind::Contact, MediaKind::Story] {
            assert_eq!(kind.as_str().parse(), Ok(kind));
        }
    }
}
