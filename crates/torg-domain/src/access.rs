//! Who may do what (tilgangsstyring): the permissions of each role and which units' inquiries
//! a staff member sees. Pure, so every request checks the same table.
//!
//! Two rules carry the weight:
//! * a role has a fixed set of [`Permission`]s ([`Role::permissions`]);
//! * a staff member sees the inquiries of the units they are a member of, and, when their role
//!   has [`Permission::AllUnits`], those of every unit that is not marked sensitive. Health and
//!   social-care units (sensitive) are seen only by their members.

use crate::Role;
use serde::Serialize;

/// One thing a role may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Read inquiries of the units one sees.
    ReadInquiries,
    /// Reply, write notes, assign and change status.
    HandleInquiries,
    /// Reply or publish on public channels on behalf of the municipality.
    SpeakPublicly,
    /// See every unit that is not sensitive, not only one's own.
    AllUnits,
    /// The overview of deadlines per unit.
    ViewOverview,
    /// Manage users, units and memberships.
    ManageUsers,
    /// Read and export the audit log.
    ViewAudit,
    /// Decide whether an inquiry is archive-worthy.
    DecideArchive,
    /// Approve a new official account in the channel registry.
    ApproveChannels,
}

impl Permission {
    pub const ALL: [Permission; 9] = [
        Permission::ReadInquiries,
        Permission::HandleInquiries,
        Permission::SpeakPublicly,
        Permission::AllUnits,
        Permission::ViewOverview,
        Permission::ManageUsers,
        Permission::ViewAudit,
        Permission::DecideArchive,
        Permission::ApproveChannels,
    ];
}

impl Role {
    /// The permission table. Changing it changes what the access test expects.
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Administrator => &[
                ReadInquiries,
                HandleInquiries,
                ViewOverview,
                ManageUsers,
                ViewAudit,
            ],
            Role::ChiefExecutive => &[
                ReadInquiries,
                HandleInquiries,
                SpeakPublicly,
                AllUnits,
                ViewOverview,
                ApproveChannels,
            ],
            Role::Communication => &[
                ReadInquiries,
                HandleInquiries,
                SpeakPublicly,
                AllUnits,
                ViewOverview,
            ],
            Role::UnitLeader => &[ReadInquiries, HandleInquiries, ViewOverview],
            Role::CaseHandler => &[ReadInquiries, HandleInquiries],
            // The first line routes everything, so it sees every unit's backlog.
            Role::ServiceDesk => &[ReadInquiries, HandleInquiries, AllUnits, ViewOverview],
            Role::Archivist => &[ReadInquiries, AllUnits, DecideArchive],
            Role::ReadOnly => &[ReadInquiries],
        }
    }

    pub fn has(self, permission: Permission) -> bool {
        self.permissions().contains(&permission)
    }
}

/// A unit as access sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitAccess {
    pub id: i64,
    /// Health and social care and the like: only members see its inquiries.
    pub sensitive: bool,
}

/// What one staff member may see and do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub role: Role,
    /// The units the person is a member of (sorted, no duplicates).
    pub member_of: Vec<i64>,
}

impl Access {
    pub fn new(role: Role, mut member_of: Vec<i64>) -> Access {
        member_of.sort_unstable();
        member_of.dedup();
        Access { role, member_of }
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.role.has(permission)
    }

    pub fn is_member(&self, unit: i64) -> bool {
        self.member_of.binary_search(&unit).is_ok()
    }

    /// Whether the person sees the inquiries of `unit`.
    pub fn sees(&self, unit: UnitAccess) -> bool {
        self.can(Permission::ReadInquiries)
            && (self.is_member(unit.id) || (self.can(Permission::AllUnits) && !unit.sensitive))
    }

    /// Of the municipality's units, those whose inquiries the person sees.
    pub fn visible_units(&self, units: &[UnitAccess]) -> Vec<i64> {
        units
            .iter()
            .filter(|u| self.sees(**u))
            .map(|u| u.id)
            .collect()
    }

    /// Whether the person may change inquiries of `unit` (reply, note, assign, status).
    pub fn may_handle(&self, unit: UnitAccess) -> bool {
        self.sees(unit) && self.can(Permission::HandleInquiries)
    }

    /// Whether the person may send a reply on `channel` for an inquiry of `unit`: public
    /// channels need [`Permission::SpeakPublicly`].
    pub fn may_reply(&self, unit: UnitAccess, channel: crate::Channel) -> bool {
        self.may_handle(unit) && (!channel.is_public() || self.can(Permission::SpeakPublicly))
    }
}

/// The role single sign-on gives a person: the first entry of `map` (claim value → role) whose
/// value the identity provider's role claim carries. A claim value that is itself a role's name
/// (`case_handler`) counts as well. `None`: the person has no role in Torg and is not let in.
pub fn role_from_claim(claim_values: &[String], map: &[(String, Role)]) -> Option<Role> {
    map.iter()
        .find(|(value, _)| claim_values.iter().any(|c| c == value))
        .map(|(_, role)| *role)
        .or_else(|| claim_values.iter().find_map(|c| c.parse().ok()))
}

/// Parses a role map written `group=role, group=role` (as in `torg sso set --role-map`).
pub fn parse_role_map(text: &str) -> Result<Vec<(String, Role)>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|pair| {
            let (value, role) = pair
                .split_once('=')
                .ok_or_else(|| format!("{pair:?} is not claim-value=role"))?;
            Ok((value.trim().to_string(), role.trim().parse::<Role>()?))
        })
        .collect()
}

/// Failed logins allowed before the account is locked.
pub const FREE_LOGIN_ATTEMPTS: i64 = 5;

/// How long an account is locked after `failures` failed logins in a row: nothing for the
/// first [`FREE_LOGIN_ATTEMPTS`], then one minute, doubling with each further failure, at most
/// an hour (backoff: guessing stays slow, a forgetful user is not locked out for the day).
pub fn lockout(failures: i64) -> Option<jiff::SignedDuration> {
    let over = failures - FREE_LOGIN_ATTEMPTS;
    if over < 0 {
        return None;
    }
    let minutes = 1i64 << over.min(6);
    Some(jiff::SignedDuration::from_mins(minutes.min(60)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Channel;
    use proptest::prelude::*;

    const PLAIN: UnitAccess = UnitAccess {
        id: 1,
        sensitive: false,
    };
    const HEALTH: UnitAccess = UnitAccess {
        id: 2,
        sensitive: true,
    };

    #[test]
    fn case_handlers_see_only_their_units() {
        let a = Access::new(Role::CaseHandler, vec![1]);
        assert!(a.sees(PLAIN));
        assert!(!a.sees(HEALTH));
        assert!(!a.sees(UnitAccess {
            id: 3,
            sensitive: false
        }));
        assert!(a.may_reply(PLAIN, Channel::Email));
        assert!(!a.may_reply(PLAIN, Channel::Facebook));
    }

    #[test]
    fn all_units_stops_at_sensitive_units() {
        let desk = Access::new(Role::ServiceDesk, vec![]);
        assert!(desk.sees(PLAIN));
        assert!(!desk.sees(HEALTH));
        assert_eq!(desk.visible_units(&[PLAIN, HEALTH]), vec![1]);
        let nurse = Access::new(Role::CaseHandler, vec![2]);
        assert_eq!(nurse.visible_units(&[PLAIN, HEALTH]), vec![2]);
    }

    #[test]
    fn only_named_roles_speak_publicly() {
        let speakers: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.has(Permission::SpeakPublicly))
            .collect();
        assert_eq!(speakers, vec![Role::ChiefExecutive, Role::Communication]);
    }

    #[test]
    fn readers_without_handling_cannot_change() {
        for role in [Role::ReadOnly, Role::Archivist] {
            let a = Access::new(role, vec![1]);
            assert!(a.sees(PLAIN));
            assert!(!a.may_handle(PLAIN));
        }
    }

    #[test]
    fn roles_come_from_the_claim_by_the_map() {
        let map =
            parse_role_map("torg-admin=administrator, saksbehandlere = case_handler").expect("map");
        let claim = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            role_from_claim(&claim(&["alle", "saksbehandlere"]), &map),
            Some(Role::CaseHandler)
        );
        assert_eq!(
            role_from_claim(&claim(&["saksbehandlere", "torg-admin"]), &map),
            Some(Role::Administrator),
            "the map's order wins"
        );
        assert_eq!(
            role_from_claim(&claim(&["archivist"]), &map),
            Some(Role::Archivist)
        );
        assert_eq!(role_from_claim(&claim(&["alle"]), &map), None);
        assert_eq!(role_from_claim(&[], &map), None);
        assert!(parse_role_map("x=boss").is_err());
        assert!(parse_role_map("nope").is_err());
        assert_eq!(parse_role_map("").map(|m| m.len()), Ok(0));
    }

    #[test]
    fn lockout_backs_off_to_an_hour() {
        use jiff::SignedDuration as D;
        assert_eq!(lockout(1), None);
        assert_eq!(lockout(4), None);
        assert_eq!(lockout(5), Some(D::from_mins(1)));
        assert_eq!(lockout(6), Some(D::from_mins(2)));
        assert_eq!(lockout(9), Some(D::from_mins(16)));
        assert_eq!(lockout(11), Some(D::from_mins(60)));
        assert_eq!(lockout(1000), Some(D::from_mins(60)));
    }

    proptest! {
        #[test]
        fn lockout_never_shrinks(n in 0i64..10_000) {
            prop_assert!(lockout(n) <= lockout(n + 1));
        }

        #[test]
        fn membership_always_grants_sight_to_readers(
            role in proptest::sample::select(Role::ALL.to_vec()),
            units in proptest::collection::vec((0i64..20, any::<bool>()), 0..10),
            members in proptest::collection::vec(0i64..20, 0..5),
        ) {
            let a = Access::new(role, members.clone());
            let units: Vec<UnitAccess> = units.into_iter().map(|(id, sensitive)| UnitAccess { id, sensitive }).collect();
            for u in &units {
                if members.contains(&u.id) {
                    prop_assert!(a.sees(*u));
                }
                if u.sensitive && !members.contains(&u.id) {
                    prop_assert!(!a.sees(*u));
                }
                prop_assert!(!a.may_handle(*u) || a.sees(*u));
            }
            let visible = a.visible_units(&units);
            prop_assert!(visible.iter().all(|id| units.iter().any(|u| u.id == *id && a.sees(*u))));
        }
    }
}
