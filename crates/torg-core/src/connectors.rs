//! Setting a municipality's connectors — its mailbox, its SMS gateway, its social-media
//! accounts — for the administration pages and the CLI alike: the input is checked, secrets
//! are sealed with the installation's key, and the settings and their audit entry are written
//! in one transaction.
//!
//! A stored secret goes only where it was given for: change the server, port, protection,
//! user or address and the password must be typed again (an administrator who never saw it
//! cannot send it to a server of their own). Mail goes encrypted unless the operator allows
//! plain connections, and connectors reach only the hosts the operator allows.

use crate::actor::Actor;
use crate::sealing::{Place, SecretKey};
use torg_domain::Channel;
use torg_domain::TenantId;
use torg_domain::connector::{Destination, HostRules, Security, keeps_secret, url_host};
use torg_store::{MailAccount, MailServer, SmsGateway, SocialAccount, Store, StoreError};

/// The operator's rules for connectors, from the installation's configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectorPolicy {
    /// Whether mail servers may be reached without encryption (`allow_plain_mail`; tests).
    pub allow_plain_mail: bool,
    /// The hosts connectors may reach (`connector_hosts`); none: any.
    pub hosts: HostRules,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error("{0:?} is not an email address; write e.g. postmottak@nordby.kommune.no")]
    Address(String),
    #[error(
        "a server's host, port (1–65535) or protection (tls, starttls or plain) is missing or wrong"
    )]
    Server,
    #[error(
        "plain (unencrypted) mail connections are not allowed here; use tls or starttls, or let the operator set allow_plain_mail"
    )]
    Plain,
    #[error("{0} is not among the hosts this installation lets connectors reach (connector_hosts)")]
    Host(String),
    #[error(
        "type the password again: where it goes (server, port, protection, user or address) changed, and a stored password is not sent anywhere new"
    )]
    PasswordAgain,
    #[error(
        "the gateway's address must be an http(s) address with a host, without a user or password in it"
    )]
    Url,
    #[error("the gateway needs a user name, a password and a sender")]
    Gateway,
    #[error("the issuer must be an https:// address (or http://127.0.0.1 for a test)")]
    Issuer,
    #[error("{0}; write the role map as claim-value=role, claim-value=role")]
    RoleMap(String),
    #[error("there is no key to seal passwords with; set secret_key_file")]
    NoKey,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ConnectorError {
    /// The message's key in the interface catalogue (pages and CLI say the same).
    pub fn key(&self) -> &'static str {
        match self {
            ConnectorError::Address(_) | ConnectorError::Server => "mail-error-form",
            ConnectorError::Plain => "connector-error-plain",
            ConnectorError::Host(_) => "connector-error-host",
            ConnectorError::PasswordAgain => "connector-error-password-again",
            ConnectorError::Url | ConnectorError::Gateway => "sms-error-form",
            ConnectorError::NoKey => "mail-error-no-key",
            ConnectorError::Issuer | ConnectorError::RoleMap(_) => "sso-error-form",
            ConnectorError::Store(_) => "error-storage",
        }
    }
}

/// A server as typed in; `password` `None` (or empty) keeps the stored one where allowed.
#[derive(Debug, Clone, Default)]
pub struct ServerInput {
    pub host: String,
    pub port: u16,
    pub security: String,
    pub user: String,
    pub password: Option<String>,
}

/// A mailbox as typed in.
#[derive(Debug, Clone, Default)]
pub struct MailInput {
    pub address: String,
    /// Empty: the municipality's name.
    pub display_name: String,
    pub imap: ServerInput,
    /// Empty: INBOX.
    pub imap_folder: String,
    pub smtp: ServerInput,
    pub max_message_bytes: i64,
    pub blocked_extensions: Vec<String>,
}

/// Checks `input` and writes the municipality's mailbox with its audit entry.
pub async fn set_mail_account(
    store: &dyn Store,
    key: &SecretKey,
    policy: &ConnectorPolicy,
    actor: &Actor,
    tenant: TenantId,
    municipality_name: &str,
    input: MailInput,
) -> Result<MailAccount, ConnectorError> {
    let address = input.address.trim().to_string();
    if torg_domain::contact::Contact::parse(Some(&address), None).is_err() {
        return Err(ConnectorError::Address(address));
    }
    let old = store.mail_account(tenant).await?;
    let imap = server(
        key,
        &Place::MailImap { tenant },
        policy,
        input.imap,
        old.as_ref().map(|a| &a.imap),
    )?;
    let smtp = server(
        key,
        &Place::MailSmtp { tenant },
        policy,
        input.smtp,
        old.as_ref().map(|a| &a.smtp),
    )?;
    let account = MailAccount {
        address: address.clone(),
        display_name: Some(input.display_name.trim().to_string())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| municipality_name.to_string()),
        imap,
        imap_folder: Some(input.imap_folder.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "INBOX".into()),
        smtp,
        max_message_bytes: input.max_message_bytes,
        blocked_extensions: input.blocked_extensions,
    };
    let audit = actor.entry(
        "settings.mail",
        String::new(),
        format!(
            "address:{address} imap:{}:{} smtp:{}:{}",
            account.imap.host, account.imap.port, account.smtp.host, account.smtp.port
        ),
    );
    store
        .set_mail_account(tenant, Some(account.clone()), Some(audit))
        .await?;
    Ok(account)
}

/// Removes the municipality's mailbox, with its audit entry.
pub async fn remove_mail_account(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
) -> Result<(), ConnectorError> {
    let audit = actor.entry("settings.mail", String::new(), "removed".into());
    store.set_mail_account(tenant, None, Some(audit)).await?;
    Ok(())
}

/// One mail server, checked against the policy, its password sealed or carried over.
fn server(
    key: &SecretKey,
    place: &Place<'_>,
    policy: &ConnectorPolicy,
    input: ServerInput,
    old: Option<&MailServer>,
) -> Result<MailServer, ConnectorError> {
    let host = input.host.trim().to_string();
    let security = Security::parse(&input.security).ok_or(ConnectorError::Server)?;
    if host.is_empty() || input.port == 0 {
        return Err(ConnectorError::Server);
    }
    if security == Security::Plain && !policy.allow_plain_mail {
        return Err(ConnectorError::Plain);
    }
    if !policy.hosts.allows(&host) {
        return Err(ConnectorError::Host(host));
    }
    let user = input.user.trim().to_string();
    let here = Destination::mail(security.as_str(), &host, input.port, &user);
    let password = match input.password.filter(|p| !p.is_empty()) {
        // No user: no login, so no password either.
        _ if user.is_empty() => String::new(),
        Some(p) => key.seal(place, &p),
        None => match old {
            Some(o)
                if keeps_secret(
                    &Destination::mail(&o.security, &o.host, o.port, &o.user),
                    &here,
                ) =>
            {
                o.password.clone()
            }
            // Nothing stored and nothing given: a server without login (SMTP on loopback).
            None => String::new(),
            Some(o) if o.password.is_empty() => String::new(),
            Some(_) => return Err(ConnectorError::PasswordAgain),
        },
    };
    Ok(MailServer {
        host,
        port: input.port,
        security: security.as_str().to_string(),
        user,
        password,
    })
}

/// The SMS gateway as typed in.
#[derive(Debug, Clone, Default)]
pub struct SmsInput {
    pub url: String,
    pub username: String,
    /// `None` (or empty) keeps the stored one where allowed.
    pub password: Option<String>,
    pub sender: String,
    /// Make a new key for the gateway's callbacks (a first gateway always gets one).
    pub new_key: bool,
}

/// What setting the gateway did.
#[derive(Debug, Clone)]
pub struct SmsSet {
    pub gateway: SmsGateway,
    /// Whether the callbacks' key is new (Kannel's get-url must be changed).
    pub new_key: bool,
}

/// Checks `input` and writes the municipality's SMS gateway with its audit entry.
pub async fn set_sms_gateway(
    store: &dyn Store,
    key: &SecretKey,
    policy: &ConnectorPolicy,
    actor: &Actor,
    tenant: TenantId,
    input: SmsInput,
) -> Result<SmsSet, ConnectorError> {
    let url = input.url.trim().to_string();
    let username = input.username.trim().to_string();
    let sender = input.sender.trim().to_string();
    let here = Destination::http(&url, &username).ok_or(ConnectorError::Url)?;
    let host = url_host(&url).ok_or(ConnectorError::Url)?;
    if !policy.hosts.allows(&host) {
        return Err(ConnectorError::Host(host));
    }
    let old = store.sms_gateway(tenant).await?;
    let password = match input.password.filter(|p| !p.is_empty()) {
        Some(p) => key.seal(&Place::SmsGateway { tenant }, &p),
        None => match &old {
            Some(o)
                if Destination::http(&o.sendsms_url, &o.username)
                    .is_some_and(|there| keeps_secret(&there, &here)) =>
            {
                o.password.clone()
            }
            Some(_) => return Err(ConnectorError::PasswordAgain),
            None => return Err(ConnectorError::Gateway),
        },
    };
    if username.is_empty() || sender.is_empty() {
        return Err(ConnectorError::Gateway);
    }
    let (inbound_key, new_key) = match &old {
        Some(o) if !input.new_key => (o.inbound_key.clone(), false),
        _ => (crate::secrets::new_token()[..32].to_string(), true),
    };
    let gateway = SmsGateway {
        sendsms_url: url,
        username,
        password,
        sender: sender.clone(),
        inbound_key,
    };
    let audit = actor.entry(
        "settings.sms",
        String::new(),
        format!(
            "sender:{sender} host:{host}{}",
            if new_key { " new-key" } else { "" }
        ),
    );
    store
        .set_sms_gateway(tenant, Some(gateway.clone()), Some(audit))
        .await?;
    Ok(SmsSet { gateway, new_key })
}

/// A social-media account as typed in (the token and app secret in the open).
#[derive(Debug, Clone)]
pub struct SocialInput {
    pub channel: Channel,
    pub account: String,
    pub api_base: String,
    pub access_token: String,
    pub app_secret: String,
    pub registry_address: String,
}

/// Checks `input` and writes the account (secrets sealed, the webhook handshake's token and
/// Mastodon's cursor kept) with its audit entry.
pub async fn set_social_account(
    store: &dyn Store,
    key: &SecretKey,
    policy: &ConnectorPolicy,
    actor: &Actor,
    tenant: TenantId,
    input: SocialInput,
) -> Result<SocialAccount, ConnectorError> {
    let host = url_host(&input.api_base)
        .filter(|_| Destination::http(&input.api_base, "").is_some())
        .ok_or(ConnectorError::Url)?;
    if !policy.hosts.allows(&host) {
        return Err(ConnectorError::Host(host));
    }
    let existing = store
        .social_accounts(Some(tenant))
        .await?
        .into_iter()
        .find(|a| a.channel == input.channel && a.account == input.account);
    let meta = input.channel != Channel::Mastodon;
    let (channel, name) = (input.channel.as_str(), input.account.as_str());
    let verify_token = match existing.as_ref().map(|a| a.verify_token.clone()) {
        Some(v) if !v.is_empty() => v,
        _ if meta => crate::secrets::new_token()[..24].to_string(),
        _ => String::new(),
    };
    let account = SocialAccount {
        tenant_id: tenant,
        channel: input.channel,
        account: input.account.clone(),
        api_base: input.api_base.trim().to_string(),
        access_token: key.seal(
            &Place::SocialToken {
                tenant,
                channel,
                account: name,
            },
            &input.access_token,
        ),
        app_secret: if input.app_secret.is_empty() {
            String::new()
        } else {
            key.seal(
                &Place::SocialAppSecret {
                    tenant,
                    channel,
                    account: name,
                },
                &input.app_secret,
            )
        },
        verify_token,
        registry_address: input.registry_address,
        cursor: existing.map(|a| a.cursor).unwrap_or_default(),
        approved: false,
    };
    let audit = actor.entry(
        "settings.social",
        format!("{}:{}", input.channel, input.account),
        format!("host:{host}"),
    );
    store.set_social_account(&account, Some(audit)).await?;
    Ok(account)
}

/// A municipality's identity provider for single sign-on, as typed in.
#[derive(Debug, Clone, Default)]
pub struct SsoInput {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    pub role_claim: String,
    pub role_map: String,
}

/// Checks `input` (an https issuer the installation lets connectors reach, a role map that
/// parses) and writes the identity provider, its client secret sealed, with its audit entry.
pub async fn set_sso_provider(
    store: &dyn Store,
    key: &SecretKey,
    policy: &ConnectorPolicy,
    actor: &Actor,
    tenant: TenantId,
    input: SsoInput,
) -> Result<(), ConnectorError> {
    let issuer = input.issuer.trim().to_string();
    torg_domain::access::parse_role_map(&input.role_map).map_err(ConnectorError::RoleMap)?;
    if !issuer.starts_with("https://") && !issuer.starts_with("http://127.0.0.1") {
        return Err(ConnectorError::Issuer);
    }
    let host = url_host(&issuer).ok_or(ConnectorError::Issuer)?;
    if !policy.hosts.allows(&host) {
        return Err(ConnectorError::Host(host));
    }
    let provider = torg_store::SsoProvider {
        issuer: issuer.clone(),
        client_id: input.client_id.trim().to_string(),
        client_secret: key.seal(
            &crate::sealing::Place::SsoClient { tenant },
            &input.client_secret,
        ),
        role_claim: input.role_claim.trim().to_string(),
        role_map: input.role_map,
    };
    let entry = actor.entry("settings.sso", String::new(), format!("issuer:{issuer}"));
    Ok(store
        .set_sso_provider(tenant, Some(provider), Some(entry))
        .await?)
}

/// Turns single sign-on off for the municipality.
pub async fn remove_sso_provider(
    store: &dyn Store,
    actor: &Actor,
    tenant: TenantId,
) -> Result<(), ConnectorError> {
    let entry = actor.entry("settings.sso", String::new(), "removed".into());
    Ok(store.set_sso_provider(tenant, None, Some(entry)).await?)
}
