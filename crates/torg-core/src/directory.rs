//! The directory's use cases: creating municipalities and users and changing users. The
//! administration pages and the CLI both call these, so both keep the same rules (the domain's
//! validated [`Slug`], [`Username`], [`PersonName`] and [`NewPassword`]) and refuse with the
//! same message ([`DirectoryActionError::key`] in the interface catalogue). Each writes its
//! audit entry in the same transaction as the change.

use crate::actor::Actor;
use torg_domain::Role;
use torg_domain::access::{Holder, Raise, check_raise};
use torg_domain::directory::{DirectoryError, NewPassword, PersonName, Slug, UnitName, Username};
use torg_domain::{TenantId, UnitId, UserId};
use torg_store::{
    Municipality, NewMunicipality, NewUser, Store, StoreError, Unit, User, UserChange, UserUpdate,
};

#[derive(Debug, thiserror::Error)]
pub enum DirectoryActionError {
    #[error(transparent)]
    Input(#[from] DirectoryError),
    #[error("{0:?} is not an email address; write e.g. kari@nordby.kommune.no")]
    Email(String),
    #[error("{0:?} is not a time zone; use an IANA name like Europe/Oslo or Europe/Stockholm")]
    TimeZone(String),
    #[error("the username is taken; choose another")]
    UsernameTaken,
    #[error("there is a unit of that name already")]
    UnitTaken,
    #[error("nobody deactivates themselves or changes their own role; ask another administrator")]
    OwnAccess,
    #[error("{}", match .0 {
        Raise::OwnSensitiveUnit => "nobody adds themselves to a sensitive unit; ask another administrator",
        Raise::PasswordOfMore => "nobody sets the password of someone who reaches more than they do; they sign on with single sign-on, or the operator sets it with torg user",
        Raise::MoreAfterOwnPassword => "you set this person's password, so another administrator must give them more access (or they first choose a password of their own)",
    })]
    Raise(Raise),
    #[error("the password could not be hashed")]
    Hash,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for DirectoryActionError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => DirectoryActionError::UsernameTaken,
            other => DirectoryActionError::Store(other),
        }
    }
}

impl DirectoryActionError {
    /// The message's key in the interface catalogue (pages and CLI say the same).
    pub fn key(&self) -> &'static str {
        match self {
            DirectoryActionError::Input(e) => e.key(),
            DirectoryActionError::Email(_) => "admin-error-email",
            DirectoryActionError::TimeZone(_) => "admin-error-time-zone",
            DirectoryActionError::UsernameTaken => "admin-error-username-taken",
            DirectoryActionError::UnitTaken => "admin-error-unit-taken",
            DirectoryActionError::OwnAccess => "admin-error-self",
            DirectoryActionError::Raise(Raise::OwnSensitiveUnit) => "admin-error-own-sensitive",
            DirectoryActionError::Raise(Raise::PasswordOfMore) => "admin-error-password-of-more",
            DirectoryActionError::Raise(Raise::MoreAfterOwnPassword) => {
                "admin-error-more-after-password"
            }
            DirectoryActionError::Hash | DirectoryActionError::Store(_) => "error-storage",
        }
    }
}

/// A new user as typed in: checked by [`create_user`].
#[derive(Debug, Clone, Copy)]
pub struct UserInput<'a> {
    pub username: &'a str,
    pub full_name: &'a str,
    pub role: Role,
    pub unit_id: Option<UnitId>,
    /// `None`: the person signs on only through single sign-on.
    pub password: Option<&'a str>,
    pub email: Option<&'a str>,
}

fn checked_email(email: Option<&str>) -> Result<Option<String>, DirectoryActionError> {
    match email.map(str::trim).filter(|e| !e.is_empty()) {
        None => Ok(None),
        Some(e) => torg_domain::contact::Contact::parse(Some(e), None)
            .map(|_| Some(e.to_string()))
            .map_err(|_| DirectoryActionError::Email(e.to_string())),
    }
}

/// Hashes a password off the async threads (argon2 takes a while on purpose).
async fn hash(password: &NewPassword) -> Result<String, DirectoryActionError> {
    let p = password.expose().to_string();
    crate::secrets::hash_password_in_turn(p)
        .await
        .map_err(|_| DirectoryActionError::Hash)
}

/// Creates a user of `tenant`; `by` is the administrator doing it (`None`: the operator, at
/// the command line), who may not give a password to someone reaching more than they do.
pub async fn create_user(
    store: &dyn Store,
    actor: &Actor,
    by: Option<&User>,
    tenant: TenantId,
    input: UserInput<'_>,
) -> Result<User, DirectoryActionError> {
    let username = Username::parse(input.username)?;
    let full_name = PersonName::parse(input.full_name)?;
    let password = input.password.map(NewPassword::parse).transpose()?;
    let email = checked_email(input.email)?;
    if let Some(by) = by {
        let member_of: Vec<UnitId> = input.unit_id.into_iter().collect();
        let after = Holder {
            id: UserId(0),
            role: input.role,
            member_of: &member_of,
            password_set_by: None,
        };
        no_raise(
            store,
            actor,
            by,
            tenant,
            None,
            &after,
            password.is_some(),
            &format!("username:{username}"),
        )
        .await?;
    }
    let password_hash = match &password {
        Some(p) => hash(p).await?,
        // Without a password the user can only log in by single sign-on.
        None => "!sso-only".to_string(),
    };
    let audit = actor.entry(
        "user.created",
        String::new(),
        format!("username:{username} role:{}", input.role.as_str()),
    );
    Ok(store
        .create_user(
            tenant,
            NewUser {
                username: username.into_string(),
                full_name: full_name.into_string(),
                password_hash,
                password_set_by: by.filter(|_| password.is_some()).map(|b| b.id),
                role: input.role,
                unit_id: input.unit_id,
                email,
            },
            Some(audit),
        )
        .await?)
}

/// An administrator's change to a user, as typed in.
#[derive(Debug, Clone)]
pub struct UserChangeInput<'a> {
    pub full_name: &'a str,
    pub role: Role,
    pub unit_id: Option<UnitId>,
    pub active: bool,
    pub email: Option<&'a str>,
    /// The units the user is a member of.
    pub memberships: Vec<UnitId>,
    pub unlock: bool,
    /// A new password; empty or `None` keeps the old one.
    pub password: Option<&'a str>,
}

/// Changes user `id` as `actor` (the administrator `by`): one transaction with its audit
/// entry; the user's sessions end when they lose access or get a new password.
pub async fn change_user(
    store: &dyn Store,
    actor: &Actor,
    by: &User,
    tenant: TenantId,
    id: UserId,
    input: UserChangeInput<'_>,
) -> Result<User, DirectoryActionError> {
    let full_name = PersonName::parse(input.full_name)?;
    let email = checked_email(input.email)?;
    let password = NewPassword::parse_optional(input.password.unwrap_or_default())?;
    if id == by.id && (!input.active || input.role != by.role) {
        // Nobody locks themselves out of administration by mistake.
        return Err(DirectoryActionError::OwnAccess);
    }
    let target = store
        .user(tenant, id)
        .await?
        .ok_or(DirectoryActionError::Store(StoreError::NotFound("user")))?;
    let after = Holder {
        id,
        role: input.role,
        member_of: &input.memberships,
        password_set_by: target.password_set_by,
    };
    no_raise(
        store,
        actor,
        by,
        tenant,
        Some(&target),
        &after,
        password.is_some(),
        &format!("user:{id}"),
    )
    .await?;
    let password_hash = match &password {
        // Someone else's password set here is remembered as set by this administrator.
        Some(p) => Some((hash(p).await?, (id != by.id).then_some(by.id))),
        None => None,
    };
    let mut detail = format!(
        "role:{} active:{} units:{}",
        input.role.as_str(),
        input.active,
        input
            .memberships
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",")
    );
    if password.is_some() {
        detail.push_str(" password:changed");
    }
    if input.unlock {
        detail.push_str(" unlocked");
    }
    let change = UserChange {
        update: UserUpdate {
            full_name: full_name.into_string(),
            role: input.role,
            unit_id: input.unit_id,
            active: input.active,
            email,
        },
        memberships: Some(input.memberships),
        unlock: input.unlock,
        password_hash,
    };
    let audit = actor.entry("user.updated", format!("user:{id}"), detail);
    Ok(store.change_user(tenant, id, change, audit).await?)
}

/// Why a person's own password change was refused.
#[derive(Debug, thiserror::Error)]
pub enum OwnPasswordError {
    /// The current password typed was wrong (the caller counts it as a failed login).
    #[error("the current password is not right")]
    WrongCurrent,
    #[error(transparent)]
    Action(#[from] DirectoryActionError),
}

impl From<DirectoryError> for OwnPasswordError {
    fn from(e: DirectoryError) -> Self {
        OwnPasswordError::Action(e.into())
    }
}

impl From<StoreError> for OwnPasswordError {
    fn from(e: StoreError) -> Self {
        OwnPasswordError::Action(e.into())
    }
}

/// A staff member chooses their own password: the current one must be right, the new one
/// follows the rules. The user's other sessions end (`session`, the one they are in, stays),
/// and no administrator is any longer the one who set it.
pub async fn change_own_password(
    store: &dyn Store,
    actor: &Actor,
    user: &User,
    session: &str,
    current: &str,
    new: &str,
) -> Result<(), OwnPasswordError> {
    let password = NewPassword::parse(new)?;
    let ok =
        crate::secrets::verify_password_in_turn(current.to_string(), user.password_hash.clone())
            .await;
    if !ok {
        return Err(OwnPasswordError::WrongCurrent);
    }
    let hash = hash(&password).await?;
    let entry = actor.entry(
        "user.password",
        format!("user:{}", user.id),
        "own".to_string(),
    );
    store
        .set_password(user.tenant_id, user.id, &hash, Some(session), entry)
        .await?;
    Ok(())
}

/// The operator sets a user's password at the command line (`torg user password`): for
/// someone who signs on only with single sign-on, or who forgot theirs. Their sessions end.
pub async fn set_password(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    username: &str,
    new: &str,
) -> Result<User, DirectoryActionError> {
    let password = NewPassword::parse(new)?;
    let user = store
        .user_by_username(tenant, username.trim())
        .await?
        .ok_or(DirectoryActionError::Store(StoreError::NotFound("user")))?;
    let hash = hash(&password).await?;
    let entry = actor.entry(
        "user.password",
        format!("user:{}", user.id),
        "set by the operator".to_string(),
    );
    store
        .set_password(tenant, user.id, &hash, None, entry)
        .await?;
    Ok(user)
}

/// Refuses (and records the attempt in the audit log) a change by which the administrator
/// `by` would reach more than they do; see [`torg_domain::access::check_raise`].
#[allow(clippy::too_many_arguments)]
async fn no_raise(
    store: &dyn Store,
    actor: &Actor,
    by: &User,
    tenant: TenantId,
    before: Option<&User>,
    after: &Holder<'_>,
    sets_password: bool,
    object: &str,
) -> Result<(), DirectoryActionError> {
    let sensitive: Vec<UnitId> = store
        .list_units(tenant)
        .await?
        .into_iter()
        .filter(|u| u.sensitive)
        .map(|u| u.id)
        .collect();
    let holder = |u: &User| Holder {
        id: u.id,
        role: u.role,
        member_of: &[],
        password_set_by: u.password_set_by,
    };
    let by_holder = Holder {
        member_of: &by.member_of,
        ..holder(by)
    };
    let before_holder = before.map(|u| Holder {
        member_of: &u.member_of,
        ..holder(u)
    });
    let Err(raise) = check_raise(
        &by_holder,
        before_holder.as_ref(),
        after,
        sets_password,
        |u| sensitive.contains(&u),
    ) else {
        return Ok(());
    };
    let reason = match raise {
        Raise::OwnSensitiveUnit => "own-sensitive-unit",
        Raise::PasswordOfMore => "password-of-more",
        Raise::MoreAfterOwnPassword => "more-after-own-password",
    };
    let entry = actor.entry(
        "user.refused",
        object.to_string(),
        format!("reason:{reason}"),
    );
    store
        .append_audit(tenant, entry, jiff::Timestamp::now())
        .await?;
    Err(DirectoryActionError::Raise(raise))
}

/// A new municipality as typed in.
#[derive(Debug, Clone, Copy)]
pub struct MunicipalityInput<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub time_zone: &'a str,
    pub language: &'a str,
}

/// Creates a municipality; its audit chain starts with the creation.
pub async fn create_municipality(
    store: &dyn Store,
    actor: &Actor,
    input: MunicipalityInput<'_>,
) -> Result<Municipality, DirectoryActionError> {
    let slug = Slug::parse(input.slug)?;
    let name = PersonName::parse(input.name)?;
    if jiff::tz::TimeZone::get(input.time_zone).is_err() {
        return Err(DirectoryActionError::TimeZone(input.time_zone.to_string()));
    }
    let m = store
        .create_municipality(NewMunicipality {
            slug: slug.into_string(),
            name: name.into_string(),
            time_zone: input.time_zone.to_string(),
            language: input.language.to_string(),
        })
        .await
        .map_err(DirectoryActionError::Store)?;
    let entry = actor.entry(
        "municipality.created",
        format!("municipality:{}", m.id),
        format!("slug:{}", m.slug),
    );
    store
        .append_audit(m.id, entry, jiff::Timestamp::now())
        .await
        .map_err(DirectoryActionError::Store)?;
    Ok(m)
}

/// A unit as typed in.
#[derive(Debug, Clone, Copy)]
pub struct UnitInput<'a> {
    pub name: &'a str,
    pub service_desk: bool,
    /// Only its members see its inquiries (child welfare, health).
    pub sensitive: bool,
}

fn unit_taken(e: StoreError) -> DirectoryActionError {
    match e {
        StoreError::Conflict(_) => DirectoryActionError::UnitTaken,
        other => DirectoryActionError::Store(other),
    }
}

/// Creates a unit of `tenant`, in one transaction with its audit entry.
pub async fn create_unit(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    input: UnitInput<'_>,
) -> Result<Unit, DirectoryActionError> {
    let name = UnitName::parse(input.name)?;
    let audit = actor.entry(
        "unit.created",
        String::new(),
        format!("name:{name} sensitive:{}", input.sensitive),
    );
    store
        .create_unit(
            tenant,
            name.as_str(),
            input.service_desk,
            input.sensitive,
            Some(audit),
        )
        .await
        .map_err(unit_taken)
}

/// Renames unit `id` and marks it sensitive or not, with its audit entry.
pub async fn update_unit(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    id: UnitId,
    name: &str,
    sensitive: bool,
) -> Result<Unit, DirectoryActionError> {
    let name = UnitName::parse(name)?;
    let audit = actor.entry(
        "unit.updated",
        format!("unit:{id}"),
        format!("name:{name} sensitive:{sensitive}"),
    );
    store
        .update_unit(tenant, id, name.as_str(), sensitive, Some(audit))
        .await
        .map_err(unit_taken)
}

/// The person a single sign-on provider vouched for.
#[derive(Debug, Clone, Copy)]
pub struct SsoPerson<'a> {
    /// Issuer and subject ([`torg_domain::access::sso_identity`]).
    pub identity: &'a str,
    pub username: &'a str,
    pub full_name: &'a str,
    /// Their email address, when the provider says it verified it.
    pub verified_email: Option<&'a str>,
}

/// Why a single sign-on did not let the person in.
#[derive(Debug, thiserror::Error)]
pub enum SignOnError {
    #[error("the account is deactivated")]
    Deactivated,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Who signed on, and whether their role changed (their open sessions are then stale).
#[derive(Debug, Clone)]
pub struct SignedOn {
    pub user: User,
    pub role_changed: bool,
}

/// Single sign-on: finds the person by their identity (issuer and subject) — or links the
/// single-sign-on-only account an administrator made for their verified email address — or
/// creates them; the role follows the provider's role map at every sign-on. Each change is
/// written with its audit entry (actor `system:sso`, from `source`).
pub async fn sign_on(
    store: &dyn Store,
    tenant: TenantId,
    person: SsoPerson<'_>,
    role: Role,
    source: &str,
) -> Result<SignedOn, SignOnError> {
    let mut actor = Actor::system("sso");
    actor.source = source.to_string();
    let existing = match store.user_by_subject(tenant, person.identity).await? {
        Some(u) => Some(u),
        None => match person.verified_email {
            Some(email) => {
                let made = store.list_users(tenant).await?.into_iter().find(|u| {
                    u.external_subject.is_none()
                        && u.password_hash.starts_with('!')
                        && u.email
                            .as_deref()
                            .is_some_and(|e| e.eq_ignore_ascii_case(email))
                });
                if let Some(u) = &made {
                    let entry = actor.entry(
                        "user.sso_linked",
                        format!("user:{}", u.id),
                        "by verified email".to_string(),
                    );
                    store
                        .set_external_subject(tenant, u.id, Some(person.identity), Some(entry))
                        .await?;
                }
                made
            }
            None => None,
        },
    };
    match existing {
        Some(u) if !u.active => Err(SignOnError::Deactivated),
        Some(u) if u.role != role => {
            let update = UserUpdate {
                full_name: u.full_name.clone(),
                role,
                unit_id: u.unit_id,
                active: true,
                email: u.email.clone(),
            };
            let entry = actor.entry(
                "user.updated",
                format!("user:{}", u.id),
                format!("role:{} (role map)", role.as_str()),
            );
            let user = store.update_user(tenant, u.id, update, Some(entry)).await?;
            Ok(SignedOn {
                user,
                role_changed: true,
            })
        }
        Some(user) => Ok(SignedOn {
            user,
            role_changed: false,
        }),
        None => {
            // A local account may hold the username: the new one gets the provider's prefix.
            let name = match store.user_by_username(tenant, person.username).await? {
                Some(_) => format!("sso:{}", person.username),
                None => person.username.to_string(),
            };
            let entry = actor.entry(
                "user.created",
                String::new(),
                format!("username:{name} role:{} (single sign-on)", role.as_str()),
            );
            let u = store
                .create_user(
                    tenant,
                    NewUser {
                        email: None,
                        username: name,
                        full_name: person.full_name.to_string(),
                        password_hash: "!sso-only".into(),
                        password_set_by: None,
                        role,
                        unit_id: None,
                    },
                    Some(entry),
                )
                .await?;
            let entry = actor.entry("user.sso_linked", format!("user:{}", u.id), String::new());
            store
                .set_external_subject(tenant, u.id, Some(person.identity), Some(entry))
                .await?;
            let user = store.user(tenant, u.id).await?.unwrap_or(u);
            Ok(SignedOn {
                user,
                role_changed: false,
            })
        }
    }
}
