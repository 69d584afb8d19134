//! Staff roles. Per-unit access and the full permission table come with the trust issue.

use serde::{Deserialize, Serialize};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    /// Kommunedirektør / rådmann.
    ChiefExecutive,
    /// Kommunikasjonsrådgiver.
    Communication,
    /// Enhetsleder.
    UnitLeader,
    /// Saksbehandler / fagperson.
    CaseHandler,
    /// Servicetorget, first line.
    ServiceDesk,
    /// Arkivansvarlig.
    Archivist,
    ReadOnly,
}

impl Role {
    pub const ALL: [Role; 8] = [
        Role::Administrator,
        Role::ChiefExecutive,
        Role::Communication,
        Role::UnitLeader,
        Role::CaseHandler,
        Role::ServiceDesk,
        Role::Archivist,
        Role::ReadOnly,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::ChiefExecutive => "chief_executive",
            Role::Communication => "communication",
            Role::UnitLeader => "unit_leader",
            Role::CaseHandler => "case_handler",
            Role::ServiceDesk => "service_desk",
            Role::Archivist => "archivist",
            Role::ReadOnly => "read_only",
        }
    }

    /// Whether this role may write to citizens and change inquiries.
    pub fn can_handle_inquiries(self) -> bool {
        !matches!(self, Role::ReadOnly | Role::Archivist)
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}; expected one of administrator, chief_executive, communication, unit_leader, case_handler, service_desk, archivist, read_only"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn roles_round_trip_and_read_only_cannot_write() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!(!Role::ReadOnly.can_handle_inquiries());
        assert!(Role::ServiceDesk.can_handle_inquiries());
    }
}
