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
            torg_domain::access::parse_role_map(&role_map).map_err(|e| {
                anyhow::anyhow!("{e}; write --role-map as claim-value=role, claim-value=role")
            })?;
            if !issuer.starts_with("https://") && !issuer.starts_with("http://127.0.0.1") {
                anyhow::bail!("the issuer must be an https:// URL (got {issuer})");
            }
            let provider = torg_store::SsoProvider {
                issuer: issuer.clone(),
                client_id,
                // Sealed at rest, like the mail and SMS passwords.
                client_secret: key.seal(
                    &torg_core::sealing::Place::SsoClient { tenant: m.id },
                    &client_secret,
                ),
                role_claim,
                role_map,
            };
            store.set_sso_provider(m.id, Some(provider)).await?;
            audit(
                store,
                &m,
                "settings.sso",
                String::new(),
                format!("issuer:{issuer}"),
            )
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
            store.set_sso_provider(m.id, None).await?;
            audit(store, &m, "settings.sso", String::new(), "removed".into()).await?;
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
        } => {
            let m = municipality(&*store, &slug).await?;
            let token = torg_core::secrets::new_token();
            store
                .create_api_token(m.id, &name, &torg_core::secrets::token_hash(&token))
                .await?;
            println!("{token}");
            audit(
                &*store,
                &m,
                "token.created",
                format!("token:{name}"),
                String::new(),
            )
            .await?;
            eprintln!(
                "API token for {name:?} in {} (shown once). Send it as 'Authorization: Bearer <token>'.",
                m.name
            );
            Ok(())
        }
    }
}
