//! The channel registry's use cases: staff propose an account (a Facebook page, an
//! Instagram account, a Mastodon account…) with its purpose and ambition, and those who may
//! approve channels approve or retire it. Connectors receive and send only for approved
//! accounts. Each writes with its audit entry in one transaction.

use crate::actor::Actor;
use torg_domain::registry::{AccountStatus, may_move};
use torg_domain::{TenantId, UserId};
use torg_store::{ChannelAccount, NewChannelAccount, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("an account needs a name, an address and a purpose")]
    Required,
    #[error("the municipality has that account already")]
    Exists,
    #[error("no such unit or account in the municipality")]
    Unknown,
    #[error("an account goes from proposed to approved or retired, or from approved to retired")]
    Move,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for RegistryError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(_) => RegistryError::Exists,
            StoreError::NotFound(_) => RegistryError::Unknown,
            other => RegistryError::Store(other),
        }
    }
}

/// Proposes `new` (its texts trimmed) for the registry; the audit entry names the new account.
pub async fn propose(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    mut new: NewChannelAccount,
    now: jiff::Timestamp,
) -> Result<ChannelAccount, RegistryError> {
    for text in [
        &mut new.name,
        &mut new.address,
        &mut new.purpose,
        &mut new.opening_hours,
    ] {
        *text = text.trim().to_string();
    }
    if new.name.is_empty() || new.address.is_empty() || new.purpose.is_empty() {
        return Err(RegistryError::Required);
    }
    let entry = actor.entry(
        "channel.proposed",
        String::new(),
        format!("{}:{}", new.channel.as_str(), new.address),
    );
    Ok(store
        .propose_channel_account(tenant, &new, now, Some(entry))
        .await?)
}

/// Approves or retires account `id` as user `by_user`.
pub async fn decide(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
    id: i64,
    to: AccountStatus,
    by_user: UserId,
    now: jiff::Timestamp,
) -> Result<ChannelAccount, RegistryError> {
    let current = store
        .channel_accounts(tenant)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(RegistryError::Unknown)?;
    if !may_move(current.status, to) {
        return Err(RegistryError::Move);
    }
    let entry = actor.entry(
        &format!("channel.{}", to.as_str()),
        format!("channel_account:{id}"),
        format!("{}:{}", current.channel.as_str(), current.address),
    );
    Ok(store
        .decide_channel_account(tenant, id, to, by_user, now, Some(entry))
        .await?)
}
