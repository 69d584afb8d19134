//! `torg` commands: Municipalities, units, users, API tokens and single sign-on.

use super::*;

#[derive(Subcommand)]
pub enum MunicipalityCommand {
    /// Create a municipality.
    Create {
        /// Short name used in URLs and flags, e.g. "bergen".
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "Europe/Oslo")]
        time_zone: String,
        #[arg(long, default_value = "nb")]
        language: String,
    },
    /// List municipalities.
    List,
}

#[derive(Subcommand)]
pub enum UnitCommand {
    /// Create a unit.
    Create {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        name: String,
        /// This unit is the service desk: it gets what no routing rule claims.
        #[arg(long)]
        service_desk: bool,
        /// Health, social care and the like: only the unit's members see its inquiries.
        #[arg(long)]
        sensitive: bool,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a staff user; prints a generated password unless --password is given.
    Create {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        username: String,
        /// Full name; the first name signs replies.
        #[arg(long)]
        name: String,
        /// administrator, chief_executive, communication, unit_leader, case_handler, service_desk, archivist or read_only.
        #[arg(long)]
        role: String,
        /// The user's unit, by name.
        #[arg(long)]
        unit: Option<String>,
        #[arg(long, env = "TORG_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
        /// Where deadline warnings go.
        #[arg(long)]
        email: Option<String>,
    },
    /// Set a user's password (a forgotten one, or someone who reaches more than any
    /// administrator may set); prints a generated one unless --password is given. Their
    /// sessions end.
    Password {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        username: String,
        #[arg(long, env = "TORG_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum TokenCommand {
    /// Create an API token for an integration; prints it once.
    Create {
        #[arg(long)]
        municipality: String,
        /// What the token is for, e.g. "Sak/arkiv-integrasjon".
        #[arg(long)]
        name: String,
        /// The units it reaches, by name, comma-separated; unset: every unit that is not
        /// sensitive (a sensitive unit only when named).
        #[arg(long)]
        units: Option<String>,
        /// The last day it works, e.g. 2027-06-30; unset: until revoked.
        #[arg(long)]
        expires: Option<jiff::civil::Date>,
    },
    /// List the municipality's tokens (never the tokens themselves).
    List {
        #[arg(long)]
        municipality: String,
    },
    /// Revoke a token: refused from the next request on.
    Revoke {
        #[arg(long)]
        municipality: String,
        /// The token's number, as `torg token list` shows it.
        #[arg(long)]
        id: i64,
    },
}

#[derive(Subcommand)]
pub enum SsoCommand {
    /// Set the identity provider. Its redirect URI is <public_url>/staff/sso/<municipality>/callback.
    Set {
        #[arg(long)]
        municipality: String,
        /// The issuer URL; /.well-known/openid-configuration is read from it at each login.
        #[arg(long)]
        issuer: String,
        #[arg(long)]
        client_id: String,
        #[arg(long, env = "TORG_SSO_CLIENT_SECRET", hide_env_values = true)]
        client_secret: String,
        /// The ID token claim with the person's roles or groups.
        #[arg(long, default_value = "roles")]
        role_claim: String,
        /// Claim value to role, e.g. "torg-admin=administrator,saksbehandlere=case_handler".
        #[arg(long, default_value = "")]
        role_map: String,
    },
    /// Show the identity provider (without the secret).
    Show {
        #[arg(long)]
        municipality: String,
    },
    /// Turn single sign-on off.
    Remove {
        #[arg(long)]
        municipality: String,
    },
}

pub async fn sso_command(
    store: &dyn Store,
    key: &torg_core::sealing::SecretKey,
    policy: &torg_core::connectors::ConnectorPolicy,
    cmd: SsoCommand,
) -> Result<()> {
    match cmd {
        SsoCommand::Set {
            municipality: slug,
            issuer,
            client_id,
            client_secret,
            role_claim,
            role_map,
        } => {
            let m = municipality(store, &slug).await?;
            let input = torg_core::connectors::SsoInput {
                issuer: issuer.clone(),
                client_id,
                client_secret,
                role_claim,
                role_map,
            };
            torg_core::connectors::set_sso_provider(store, key, policy, &Actor::cli(), m.id, input)
                .await?;
            println!("Single sign-on for {} now uses {issuer}.", m.name);
            Ok(())
        }
        SsoCommand::Show { municipality: slug } => {
            let m = municipality(store, &slug).await?;
            match store.sso_provider(m.id).await? {
                Some(p) => println!(
                    "issuer: {}\nclient id: {}\nrole claim: {}\nrole map: {}",
                    p.issuer, p.client_id, p.role_claim, p.role_map
                ),
                None => println!("{} has no single sign-on.", m.name),
            }
            Ok(())
        }
        SsoCommand::Remove { municipality: slug } => {
            let m = municipality(store, &slug).await?;
            torg_core::connectors::remove_sso_provider(store, &Actor::cli(), m.id).await?;
            println!("Single sign-on for {} is off.", m.name);
            Ok(())
        }
    }
}

pub async fn municipality_command(
    store: Arc<dyn Store>,
    settings: &Settings,
    cmd: MunicipalityCommand,
) -> Result<()> {
    let _ = settings;
    match cmd {
        MunicipalityCommand::Create {
            slug,
            name,
            time_zone,
            language,
        } => {
            let input = torg_core::directory::MunicipalityInput {
                slug: &slug,
                name: &name,
                time_zone: &time_zone,
                language: &language,
            };
            let m = torg_core::directory::create_municipality(&*store, &Actor::cli(), input)
                .await
                .map_err(|e| refused(&language, &e))?;
            println!("Created municipality {} ({}), id {}.", m.name, m.slug, m.id);
            Ok(())
        }
        MunicipalityCommand::List => {
            for m in store.list_municipalities().await? {
                println!("{}\t{}\t{}\t{}", m.slug, m.name, m.time_zone, m.language);
            }
            Ok(())
        }
    }
}

pub async fn unit_command(
    store: Arc<dyn Store>,
    settings: &Settings,
    cmd: UnitCommand,
) -> Result<()> {
    let _ = settings;
    match cmd {
        UnitCommand::Create {
            municipality: slug,
            name,
            service_desk,
            sensitive,
        } => {
            let m = municipality(&*store, &slug).await?;
            let input = torg_core::directory::UnitInput {
                name: &name,
                service_desk,
                sensitive,
            };
            let u = torg_core::directory::create_unit(&*store, &Actor::cli(), m.id, input)
                .await
                .map_err(|e| refused(&m.language, &e))?;
            println!("Created unit {} (id {}) in {}.", u.name, u.id, m.name);
            Ok(())
        }
    }
}

pub async fn user_command(
    store: Arc<dyn Store>,
    settings: &Settings,
    cmd: UserCommand,
) -> Result<()> {
    let _ = settings;
    match cmd {
        UserCommand::Create {
            municipality: slug,
            username,
            name,
            role,
            unit,
            password,
            email,
        } => {
            let m = municipality(&*store, &slug).await?;
            let role: Role = role.parse().map_err(anyhow::Error::msg)?;
            let unit_id = match unit {
                Some(unit_name) => Some(unit_id(&*store, &m, &unit_name).await?),
                None => None,
            };
            let generated = password.is_none();
            let password = password.unwrap_or_else(torg_core::secrets::new_password);
            let input = torg_core::directory::UserInput {
                username: &username,
                full_name: &name,
                role,
                unit_id,
                password: Some(&password),
                email: email.as_deref(),
            };
            let u = torg_core::directory::create_user(&*store, &Actor::cli(), None, m.id, input)
                .await
                .map_err(|e| refused(&m.language, &e))?;
            println!(
                "Created user {} ({}) in {}.",
                u.username,
                u.role.as_str(),
                m.name
            );
            if generated {
                println!("Password (shown once): {password}");
            }
            Ok(())
        }
        UserCommand::Password {
            municipality: slug,
            username,
            password,
        } => {
            let m = municipality(&*store, &slug).await?;
            let generated = password.is_none();
            let password = password.unwrap_or_else(torg_core::secrets::new_password);
            let u = torg_core::directory::set_password(
                &*store,
                &Actor::cli(),
                m.id,
                &username,
                &password,
            )
            .await
            .map_err(|e| refused(&m.language, &e))?;
            println!("New password set for {} in {}.", u.username, m.name);
            if generated {
                println!("Password (shown once): {password}");
            }
            Ok(())
        }
    }
}

pub async fn token_command(
    store: Arc<dyn Store>,
    settings: &Settings,
    cmd: TokenCommand,
) -> Result<()> {
    let _ = settings;
    match cmd {
        TokenCommand::Create {
            municipality: slug,
            name,
            units,
            expires,
        } => {
            let m = municipality(&*store, &slug).await?;
            let all = store.list_units(m.id).await?;
            let mut ids = vec![];
            for wanted in units.iter().flat_map(|u| u.split(',')).map(str::trim) {
                if wanted.is_empty() {
                    continue;
                }
                let unit = all
                    .iter()
                    .find(|u| u.name.eq_ignore_ascii_case(wanted))
                    .with_context(|| {
                        format!(
                            "{} has no unit {wanted:?}; its units: {}",
                            m.name,
                            all.iter()
                                .map(|u| u.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })?;
                ids.push(unit.id);
            }
            // The last day, to its end in the municipality's time zone.
            let expires_at = expires
                .map(|day| torg_core::tokens::end_of(day, &m.time_zone))
                .transpose()
                .map_err(|e| said_by(&m.language, e.key(), &e))?;
            let input = torg_core::tokens::TokenInput {
                name: &name,
                units: ids,
                expires_at,
            };
            let (token, secret) = torg_core::tokens::create(
                &*store,
                &Actor::cli(),
                m.id,
                input,
                jiff::Timestamp::now(),
            )
            .await
            .map_err(|e| said_by(&m.language, e.key(), &e))?;
            println!("{secret}");
            eprintln!(
                "API token {} for {name:?} in {} (shown once). Send it as 'Authorization: Bearer <token>'.",
                token.id, m.name
            );
            Ok(())
        }
        TokenCommand::List { municipality: slug } => {
            let m = municipality(&*store, &slug).await?;
            let units = store.list_units(m.id).await?;
            let now = jiff::Timestamp::now();
            for t in store.list_api_tokens(m.id).await? {
                let reach = if t.units.is_empty() {
                    "every unit that is not sensitive".to_string()
                } else {
                    t.units
                        .iter()
                        .filter_map(|id| units.iter().find(|u| u.id == *id))
                        .map(|u| u.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let state = match (t.revoked_at, t.expires_at) {
                    (Some(at), _) => format!("revoked {at}"),
                    (None, Some(e)) if e <= now => format!("expired {e}"),
                    (None, Some(e)) => format!("until {e}"),
                    (None, None) => "valid".into(),
                };
                println!("{}\t{}\t{state}\t{reach}", t.id, t.name);
            }
            Ok(())
        }
        TokenCommand::Revoke {
            municipality: slug,
            id,
        } => {
            let m = municipality(&*store, &slug).await?;
            torg_core::tokens::revoke(&*store, &Actor::cli(), m.id, id, jiff::Timestamp::now())
                .await
                .map_err(|e| said_by(&m.language, e.key(), &e))?;
            println!("Token {id} of {} is revoked.", m.name);
            Ok(())
        }
    }
}
