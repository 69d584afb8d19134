//! API tokens for integrations (the case-management system, the web team's scripts), made
//! and revoked from the administration page and the CLI alike: each limited to units (none
//! named: every unit that is not sensitive; a sensitive unit only when named), with an expiry if
//! wanted, shown once, stored as a hash, revoked at once; each change with its audit entry in
//! its transaction.

use crate::actor::Actor;
use jiff::Timestamp;
use torg_domain::{TenantId, UnitId};
use torg_store::{ApiToken, NewApiToken, Store, StoreError};

/// The longest name a token may have.
const NAME_MAX: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("give the token a name of 1–{NAME_MAX} characters that says what it is for")]
    Name,
    #[error("the expiry must be in the future")]
    Expiry,
    #[error("a unit given is not this municipality's")]
    Unit,
    #[error("there is no such token")]
    NotFound,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound("token") => TokenError::NotFound,
            StoreError::NotFound(_) => TokenError::Unit,
            other => TokenError::Store(other),
        }
    }
}

impl TokenError {
    /// The message's key in the interface catalogue (pages and CLI say the same).
    pub fn key(&self) -> &'static str {
        match self {
            TokenError::Name => "token-error-name",
            TokenError::Expiry => "token-error-expiry",
            TokenError::Unit => "token-error-unit",
            TokenError::NotFound => "token-error-not-found",
            TokenError::Store(_) => "error-storage",
        }
    }
}

/// A token as asked for.
#[derive(Debug, Clone)]
pub struct TokenInput<'a> {
    pub name: &'a str,
    /// Empty: every unit that is not sensitive.
    pub units: Vec<UnitId>,
    pub expires_at: Option<Timestamp>,
}

/// The end of `last_day` in `time_zone`: when a token given that last day stops working.
pub fn end_of(last_day: jiff::civil::Date, time_zone: &str) -> Result<Timestamp, TokenError> {
    let zone = jiff::tz::TimeZone::get(time_zone).map_err(|_| TokenError::Expiry)?;
    last_day
        .tomorrow()
        .and_then(|d| d.to_zoned(zone))
        .map(|z| z.timestamp())
        .map_err(|_| TokenError::Expiry)
}

/// Makes a token; returns it and the secret itself, to be shown once.
pub async fn create(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    input: TokenInput<'_>,
    now: Timestamp,
) -> Result<(ApiToken, String), TokenError> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(TokenError::Name);
    }
    if input.expires_at.is_some_and(|e| e <= now) {
        return Err(TokenError::Expiry);
    }
    let mut units = input.units;
    units.sort_unstable();
    units.dedup();
    let secret = crate::secrets::new_token();
    let audit = actor.entry(
        "token.created",
        format!("token:{name}"),
        format!(
            "units:{} expires:{}",
            if units.is_empty() {
                "all-not-sensitive".to_string()
            } else {
                units
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            },
            input
                .expires_at
                .map(|e| e.to_string())
                .unwrap_or_else(|| "never".into())
        ),
    );
    let token = store
        .create_api_token(
            tenant,
            NewApiToken {
                name: name.to_string(),
                token_hash: crate::secrets::token_hash(&secret),
                units,
                expires_at: input.expires_at,
                created_at: now,
            },
            Some(audit),
        )
        .await?;
    Ok((token, secret))
}

/// Revokes token `id`: it is refused from the next request on (every node within seconds).
pub async fn revoke(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    id: i64,
    now: Timestamp,
) -> Result<(), TokenError> {
    let audit = actor.entry("token.revoked", format!("token:{id}"), String::new());
    store.revoke_api_token(tenant, id, now, Some(audit)).await?;
    Ok(())
}

/// The units `token` reaches among the municipality's `units` (id, sensitive).
pub fn reach(token: &ApiToken, units: impl IntoIterator<Item = (UnitId, bool)>) -> Vec<UnitId> {
    units
        .into_iter()
        .filter(|(id, sensitive)| {
            if token.units.is_empty() {
                !sensitive
            } else {
                token.units.contains(id)
            }
        })
        .map(|(id, _)| id)
        .collect()
}
