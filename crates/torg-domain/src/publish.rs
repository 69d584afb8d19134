//! Publishing (one message, written once): its states, who may approve it, and when staff and
//! the public see it. Staff are told first ("internt före externt"): a message approved to go
//! out at `publish_at` is shown to staff from `publish_at − staff_lead` and to the public from
//! `publish_at`. A change after approval needs a new approval: the approval is bound to the
//! text's hash.

use crate::Role;
use crate::access::Permission;
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

/// The hash an approval is bound to: the title and the text, length-prefixed.
pub fn text_hash(title: &str, body: &str) -> String {
    let mut h = Sha256::new();
    for s in [title, body] {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    }
    crate::hex(&h.finalize())
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
        let a = text_hash("Vann", "Kok vannet.");
        assert_ne!(a, text_hash("Vann", "Kok vannet!"));
        assert_ne!(a, text_hash("VannKok", " vannet."));
        assert_eq!(a, text_hash("Vann", "Kok vannet."));
    }
}
