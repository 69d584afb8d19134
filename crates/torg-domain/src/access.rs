//! Who may do what (tilgangsstyring): the permissions of each role and which units' inquiries
//! a staff member sees. Pure, so every request checks the same table.
//!
//! Two rules carry the weight:
//! * a role has a fixed set of [`Permission`]s ([`Role::permissions`]);
//! * a staff member sees the inquiries of the units they are a member of, and, when their role
//!   has [`Permission::AllUnits`], those of every unit that is not marked sensitive. Health and
//!   social-care units (sensitive) are seen only by their members.

use crate::{Role, UnitId, UserId};
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
    pub id: UnitId,
    /// Health and social care and the like: only members see its inquiries.
    pub sensitive: bool,
}

/// What one staff member may see and do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub role: Role,
    /// The units the person is a member of (sorted, no duplicates).
    pub member_of: Vec<UnitId>,
}

impl Access {
    pub fn new(role: Role, mut member_of: Vec<UnitId>) -> Access {
        member_of.sort_unstable();
        member_of.dedup();
        Access { role, member_of }
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.role.has(permission)
    }

    pub fn is_member(&self, unit: UnitId) -> bool {
        self.member_of.binary_search(&unit).is_ok()
    }

    /// Whether the person sees the inquiries of `unit`.
    pub fn sees(&self, unit: UnitAccess) -> bool {
        self.can(Permission::ReadInquiries)
            && (self.is_member(unit.id) || (self.can(Permission::AllUnits) && !unit.sensitive))
    }

    /// Of the municipality's units, those whose inquiries the person sees.
    pub fn visible_units(&self, units: &[UnitAccess]) -> Vec<UnitId> {
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
    // Only the map grants a role: a group that happens to be called "administrator" at the
    // provider grants nothing by its name.
    map.iter()
        .find(|(value, _)| claim_values.iter().any(|c| c == value))
        .map(|(_, role)| *role)
}

/// What links a person to their single sign-on identity: the provider's issuer and its
/// subject for them, never a name or an address they could choose.
pub fn sso_identity(issuer: &str, subject: &str) -> String {
    format!("{}|{subject}", issuer.trim_end_matches('/'))
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

/// A staff member as far as raising rights goes: who, in which role, member of which units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder<'a> {
    pub id: UserId,
    pub role: Role,
    pub member_of: &'a [UnitId],
    /// The administrator who set the holder's current password, if one did (not the person
    /// themselves, nor the operator at the command line).
    pub password_set_by: Option<UserId>,
}

/// Why an administrator's change was refused: it would let them reach more than they do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raise {
    /// Nobody adds themselves to a sensitive unit; another administrator must.
    OwnSensitiveUnit,
    /// Nobody sets the password of someone who reaches more than they do (an administrator, a
    /// chief executive, a member of a sensitive unit they are not in) — they could sign in as
    /// them. That person signs on with single sign-on, or the operator sets it from the CLI.
    PasswordOfMore,
    /// Nobody gives more access to someone whose password they set (the two-step way round
    /// [`Raise::PasswordOfMore`]); another administrator must, or the person first sets a
    /// password of their own.
    MoreAfterOwnPassword,
}

/// Checks an administrator's change of `before` into `after` (a new user: `before` is
/// `None`) against the two ways of raising one's own rights. `sensitive` says which units are.
pub fn check_raise(
    by: &Holder<'_>,
    before: Option<&Holder<'_>>,
    after: &Holder<'_>,
    sets_password: bool,
    sensitive: impl Fn(UnitId) -> bool,
) -> Result<(), Raise> {
    let sensitive_of = |h: &Holder<'_>| -> Vec<UnitId> {
        h.member_of
            .iter()
            .copied()
            .filter(|u| sensitive(*u))
            .collect()
    };
    if after.id == by.id {
        let had = before.map(sensitive_of).unwrap_or_default();
        if sensitive_of(after).iter().any(|u| !had.contains(u)) {
            return Err(Raise::OwnSensitiveUnit);
        }
        return Ok(());
    }
    let high_role = |h: &Holder<'_>| matches!(h.role, Role::Administrator | Role::ChiefExecutive);
    if sets_password {
        let reaches_more = |h: &Holder<'_>| {
            high_role(h) || sensitive_of(h).iter().any(|u| !by.member_of.contains(u))
        };
        if reaches_more(after) || before.is_some_and(reaches_more) {
            return Err(Raise::PasswordOfMore);
        }
    }
    if let Some(before) = before
        && before.password_set_by == Some(by.id)
    {
        let gains = (high_role(after) && !high_role(before))
            || sensitive_of(after)
                .iter()
                .any(|u| !by.member_of.contains(u) && !before.member_of.contains(u));
        if gains {
            return Err(Raise::MoreAfterOwnPassword);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Channel;
    use proptest::prelude::*;

    const PLAIN: UnitAccess = UnitAccess {
        id: UnitId(1),
        sensitive: false,
    };
    const HEALTH: UnitAccess = UnitAccess {
        id: UnitId(2),
        sensitive: true,
    };

    #[test]
    fn case_handlers_see_only_their_units() {
        let a = Access::new(Role::CaseHandler, vec![UnitId(1)]);
        assert!(a.sees(PLAIN));
        assert!(!a.sees(HEALTH));
        assert!(!a.sees(UnitAccess {
            id: UnitId(3),
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
        assert_eq!(desk.visible_units(&[PLAIN, HEALTH]), vec![UnitId(1)]);
        let nurse = Access::new(Role::CaseHandler, vec![UnitId(2)]);
        assert_eq!(nurse.visible_units(&[PLAIN, HEALTH]), vec![UnitId(2)]);
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
            let a = Access::new(role, vec![UnitId(1)]);
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
        // A group named like a role grants nothing unless the map says so.
        for named in ["archivist", "administrator", "chief_executive"] {
            assert_eq!(role_from_claim(&claim(&[named]), &map), None, "{named}");
        }
        assert_eq!(
            sso_identity("https://login.nordby.no/", "ansatt-42"),
            "https://login.nordby.no|ansatt-42"
        );
        assert_ne!(
            sso_identity("https://login.nordby.no", "x"),
            sso_identity("https://evil.example", "x"),
            "the same subject at another provider is another person"
        );
        assert_eq!(role_from_claim(&claim(&["alle"]), &map), None);
        assert_eq!(role_from_claim(&[], &map), None);
        assert!(parse_role_map("x=boss").is_err());
        assert!(parse_role_map("nope").is_err());
        assert_eq!(parse_role_map("").map(|m| m.len()), Ok(0));
    }

    proptest! {
        #[test]
        fn membership_always_grants_sight_to_readers(
            role in proptest::sample::select(Role::ALL.to_vec()),
            units in proptest::collection::vec((0i64..20, any::<bool>()), 0..10),
            members in proptest::collection::vec(0i64..20, 0..5),
        ) {
            let a = Access::new(role, members.iter().copied().map(UnitId).collect());
            let units: Vec<UnitAccess> = units.into_iter().map(|(id, sensitive)| UnitAccess { id: UnitId(id), sensitive }).collect();
            for u in &units {
                if members.contains(&u.id.0) {
                    prop_assert!(a.sees(*u));
                }
                if u.sensitive && !members.contains(&u.id.0) {
                    prop_assert!(!a.sees(*u));
                }
                prop_assert!(!a.may_handle(*u) || a.sees(*u));
            }
            let visible = a.visible_units(&units);
            prop_assert!(visible.iter().all(|id| units.iter().any(|u| u.id == *id && a.sees(*u))));
        }
    }

    #[test]
    fn administrators_cannot_raise_their_own_rights() {
        let health = UnitId(7);
        let sensitive = |u: UnitId| u == health;
        let admin = Holder {
            id: UserId(1),
            role: Role::Administrator,
            member_of: &[UnitId(2)],
            password_set_by: None,
        };
        // Adding oneself to a sensitive unit: refused; to an ordinary one, or leaving: fine.
        let with_health = Holder {
            member_of: &[UnitId(2), health],
            ..admin.clone()
        };
        assert_eq!(
            check_raise(&admin, Some(&admin), &with_health, false, sensitive),
            Err(Raise::OwnSensitiveUnit)
        );
        let with_three = Holder {
            member_of: &[UnitId(2), UnitId(3)],
            ..admin.clone()
        };
        assert_eq!(
            check_raise(&admin, Some(&admin), &with_three, false, sensitive),
            Ok(())
        );
        assert_eq!(
            check_raise(&admin, Some(&with_health), &admin, false, sensitive),
            Ok(())
        );
        // Setting the password of someone who reaches more: refused.
        let chief = Holder {
            id: UserId(5),
            role: Role::ChiefExecutive,
            member_of: &[],
            password_set_by: None,
        };
        let nurse = Holder {
            id: UserId(6),
            role: Role::CaseHandler,
            member_of: &[health],
            password_set_by: None,
        };
        let clerk = Holder {
            id: UserId(8),
            role: Role::CaseHandler,
            member_of: &[UnitId(2)],
            password_set_by: None,
        };
        for target in [&chief, &nurse] {
            assert_eq!(
                check_raise(&admin, Some(target), target, true, sensitive),
                Err(Raise::PasswordOfMore),
                "{target:?}"
            );
            assert_eq!(
                check_raise(&admin, Some(target), target, false, sensitive),
                Ok(())
            );
        }
        assert_eq!(
            check_raise(&admin, Some(&clerk), &clerk, true, sensitive),
            Ok(())
        );
        // Nor by making one with a password, nor by lowering and setting it at once.
        assert_eq!(
            check_raise(&admin, None, &chief, true, sensitive),
            Err(Raise::PasswordOfMore)
        );
        assert_eq!(
            check_raise(&admin, Some(&nurse), &clerk, true, sensitive),
            Err(Raise::PasswordOfMore)
        );
        // A member of the sensitive unit may set a colleague's password there.
        let health_admin = Holder {
            id: UserId(9),
            role: Role::Administrator,
            member_of: &[health],
            password_set_by: None,
        };
        assert_eq!(
            check_raise(&health_admin, Some(&nurse), &nurse, true, sensitive),
            Ok(())
        );
        // The two-step way: the clerk's password set by this administrator, then more access.
        let clerk_by_admin = Holder {
            password_set_by: Some(admin.id),
            ..clerk.clone()
        };
        let clerk_in_health = Holder {
            member_of: &[UnitId(2), health],
            ..clerk_by_admin.clone()
        };
        let clerk_as_chief = Holder {
            role: Role::ChiefExecutive,
            ..clerk_by_admin.clone()
        };
        for raised in [&clerk_in_health, &clerk_as_chief] {
            assert_eq!(
                check_raise(&admin, Some(&clerk_by_admin), raised, false, sensitive),
                Err(Raise::MoreAfterOwnPassword),
                "{raised:?}"
            );
            // Another administrator may; so may this one once the clerk chose a password.
            let other = Holder {
                id: UserId(3),
                ..admin.clone()
            };
            assert_eq!(
                check_raise(&other, Some(&clerk_by_admin), raised, false, sensitive),
                Ok(())
            );
            assert_eq!(
                check_raise(&admin, Some(&clerk), raised, false, sensitive),
                Ok(())
            );
        }
        // An ordinary change to that clerk stays possible.
        assert_eq!(
            check_raise(
                &admin,
                Some(&clerk_by_admin),
                &clerk_by_admin,
                false,
                sensitive
            ),
            Ok(())
        );
        // A member of the sensitive unit gives nothing beyond their own reach.
        assert_eq!(
            check_raise(
                &health_admin,
                Some(&Holder {
                    password_set_by: Some(UserId(9)),
                    ..clerk.clone()
                }),
                &Holder {
                    member_of: &[UnitId(2), health],
                    password_set_by: Some(UserId(9)),
                    ..clerk.clone()
                },
                false,
                sensitive
            ),
            Ok(())
        );
    }
}
