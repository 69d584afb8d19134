//! The channel registry (kanaloversikt): every official account of the municipality — its
//! Facebook page, Instagram and Mastodon accounts, SMS number, mailbox, chat — with owner,
//! purpose, ambition level and opening hours. A new account is proposed; only the chief
//! executive approves it, and only approved accounts receive or send.

use serde::Serialize;
use std::str::FromStr;

/// How actively the municipality uses an account (the KS roadmap's levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ambition {
    /// Information out; questions are pointed elsewhere.
    Passive,
    /// Answers what comes in, within the deadline.
    Waiting,
    /// Invites dialogue and takes part in it.
    Inviting,
}

/// Where an account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    /// Waiting for the chief executive's approval; receives and sends nothing.
    Proposed,
    /// In use.
    Approved,
    /// Closed down; kept for the record.
    Retired,
}

macro_rules! text_enum {
    ($t:ty, $what:literal, $($v:ident = $s:literal),+) => {
        impl $t {
            pub const ALL: &'static [$t] = &[$(<$t>::$v),+];
            pub fn as_str(self) -> &'static str {
                match self { $(<$t>::$v => $s),+ }
            }
        }
        impl FromStr for $t {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s { $($s => Ok(<$t>::$v),)+ _ => Err(format!(concat!("{:?} is not ", $what), s)) }
            }
        }
    };
}

text_enum!(
    Ambition,
    "an ambition level (passive, waiting, inviting)",
    Passive = "passive",
    Waiting = "waiting",
    Inviting = "inviting"
);
text_enum!(
    AccountStatus,
    "an account status (proposed, approved, retired)",
    Proposed = "proposed",
    Approved = "approved",
    Retired = "retired"
);

/// Whether an account may move from `from` to `to`: proposed → approved or retired;
/// approved → retired. Nothing comes back from retired.
pub fn may_move(from: AccountStatus, to: AccountStatus) -> bool {
    use AccountStatus::*;
    matches!(
        (from, to),
        (Proposed, Approved) | (Proposed, Retired) | (Approved, Retired)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_statuses_round_trip_through_text() {
        for a in Ambition::ALL {
            assert_eq!(a.as_str().parse::<Ambition>(), Ok(*a));
        }
        for s in AccountStatus::ALL {
            assert_eq!(s.as_str().parse::<AccountStatus>(), Ok(*s));
        }
        assert!("eager".parse::<Ambition>().is_err());
    }

    #[test]
    fn accounts_move_forward_only() {
        use AccountStatus::*;
        assert!(may_move(Proposed, Approved));
        assert!(may_move(Approved, Retired));
        assert!(!may_move(Retired, Approved));
        assert!(!may_move(Approved, Proposed));
        assert!(!may_move(Approved, Approved));
    }
}
