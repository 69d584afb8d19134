//! Staff roles. What each may do is in [`crate::access`].

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
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("boss".parse::<Role>().is_err());
    }
}
