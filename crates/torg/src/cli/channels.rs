//! `torg` commands: The channels' settings: the mailbox, the SMS gateway and its code words, social-media accounts.

use super::*;
use torg_core::actor::Actor;
use torg_core::connectors::{self, ConnectorPolicy, MailInput, ServerInput, SmsInput, SocialInput};
use torg_domain::secret::redact;

#[derive(Subcommand)]
pub enum MailCommand {
    /// Set the mailbox (IMAP) and the outgoing server (SMTP). Security: tls, starttls or plain.
    Set(Box<MailSetArgs>),
    /// Show the settings (without passwords).
    Show {
        #[arg(long)]
        municipality: String,
    },
    /// Try both servers: connect, log in, open the folder.
    Check {
        #[arg(long)]
        municipality: String,
    },
    /// Stop reading and sending mail for the municipality.
    Remove {
        #[arg(long)]
        municipality: String,
    },
}

#[derive(Subcommand)]
pub enum SmsCommand {
    /// Sets the municipality's gateway (Kannel's sendsms interface); prints the address
    /// Kannel's get-url must call for incoming messages.
    Set {
        #[arg(long)]
        municipality: String,
        /// e.g. http://127.0.0.1:13013/cgi-bin/sendsms
        #[arg(long)]
        url: String,
        #[arg(long)]
        username: String,
        #[arg(long, env = "TORG_SMS_PASSWORD", hide_env_values = true)]
        password: String,
        /// The number or short code messages come from.
        #[arg(long)]
        sender: String,
    },
    /// Adds or changes a code word (kodeord): messages starting with it go to the unit.
    Keyword {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        word: String,
        /// The unit, by name.
        #[arg(long)]
        unit: String,
        /// An answer of its own instead of the general acknowledgement ({referanse} is filled in).
        #[arg(long, default_value = "")]
        reply: String,
    },
    /// Lists the code words.
    Keywords {
        #[arg(long)]
        municipality: String,
    },
}

#[derive(Subcommand)]
pub enum SocialCommand {
    /// Sets (adds or renews) an account. For Facebook and Instagram, prints the webhook
    /// address and verify token to enter in Meta's app dashboard.
    Set {
        #[arg(long)]
        municipality: String,
        /// facebook, instagram or mastodon
        #[arg(long)]
        channel: String,
        /// The page id, Instagram account id or Mastodon account id.
        #[arg(long)]
        account: String,
        /// The account's address in the channel registry (it must be approved there).
        #[arg(long)]
        registry_address: String,
        /// The page access token, or the Mastodon application's access token.
        #[arg(long, env = "TORG_SOCIAL_TOKEN", hide_env_values = true)]
        token: String,
        /// Meta's app secret, which signs the webhooks (Facebook and Instagram).
        #[arg(
            long,
            env = "TORG_SOCIAL_APP_SECRET",
            hide_env_values = true,
            default_value = ""
        )]
        app_secret: String,
        /// The API: default https://graph.facebook.com/v21.0 for Meta; the server's address
        /// (https://mastodon.example) for Mastodon.
        #[arg(long)]
        api_base: Option<String>,
    },
    /// Lists the accounts and whether the channel registry has approved them.
    List {
        #[arg(long)]
        municipality: String,
    },
}

#[derive(clap::Args)]
pub struct MailSetArgs {
    #[arg(long)]
    pub municipality: String,
    /// The municipality's address, e.g. postmottak@nordby.kommune.no (From and Reply-To).
    #[arg(long)]
    pub address: String,
    /// The name shown beside the address [default: the municipality's name].
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub imap_host: String,
    #[arg(long, default_value_t = 993)]
    pub imap_port: u16,
    #[arg(long, default_value = "tls")]
    pub imap_security: String,
    #[arg(long)]
    pub imap_user: String,
    #[arg(long, env = "TORG_IMAP_PASSWORD", hide_env_values = true)]
    pub imap_password: String,
    #[arg(long, default_value = "INBOX")]
    pub folder: String,
    #[arg(long)]
    pub smtp_host: String,
    #[arg(long, default_value_t = 587)]
    pub smtp_port: u16,
    #[arg(long, default_value = "starttls")]
    pub smtp_security: String,
    /// Empty: no login (a relay that trusts Torg's address).
    #[arg(long, default_value = "")]
    pub smtp_user: String,
    #[arg(
        long,
        env = "TORG_SMTP_PASSWORD",
        hide_env_values = true,
        default_value = ""
    )]
    pub smtp_password: String,
    /// Larger messages are quarantined for staff, and their senders told so.
    #[arg(long, default_value_t = 26_214_400)]
    pub max_message_bytes: i64,
    /// Attachment types not taken in (file extensions, comma-separated); such messages are
    /// quarantined for staff, and their senders told so.
    #[arg(long, default_value = torg_domain::email::DEFAULT_BLOCKED_EXTENSIONS)]
    pub blocked_extensions: String,
}

pub async fn mail_command(
    store: &dyn Store,
    key: &torg_core::sealing::SecretKey,
    policy: &ConnectorPolicy,
    cmd: MailCommand,
) -> Result<()> {
    match cmd {
        MailCommand::Set(args) => {
            let MailSetArgs {
                municipality: slug,
                address,
                name,
                imap_host,
                imap_port,
                imap_security,
                imap_user,
                imap_password,
                folder,
                smtp_host,
                smtp_port,
                smtp_security,
                smtp_user,
                smtp_password,
                max_message_bytes,
                blocked_extensions,
            } = *args;
            let m = municipality(store, &slug).await?;
            let server = |host, port, security, user, password| ServerInput {
                host,
                port,
                security,
                user,
                password: Some(password),
            };
            let input = MailInput {
                address: address.clone(),
                display_name: name.unwrap_or_default(),
                imap: server(
                    imap_host,
                    imap_port,
                    imap_security,
                    imap_user,
                    imap_password,
                ),
                imap_folder: folder,
                smtp: server(
                    smtp_host,
                    smtp_port,
                    smtp_security,
                    smtp_user,
                    smtp_password,
                ),
                max_message_bytes,
                blocked_extensions: torg_domain::email::extension_list(&blocked_extensions),
            };
            connectors::set_mail_account(store, key, policy, &Actor::cli(), m.id, &m.name, input)
                .await
                .map_err(|e| connector_refused(&m.language, &e))?;
            println!(
                "{} now reads and answers mail as {address}. Try it with 'torg mail check'.",
                m.name
            );
            Ok(())
        }
        MailCommand::Show { municipality: slug } => {
            let m = municipality(store, &slug).await?;
            match store.mail_account(m.id).await? {
                Some(a) => println!(
                    "address: {} ({})\nimap: {}:{} ({}), user {}, folder {}\nsmtp: {}:{} ({}), user {}\nlargest message: {} bytes\nattachments not taken in: {}",
                    a.address,
                    a.display_name,
                    a.imap.host,
                    a.imap.port,
                    a.imap.security,
                    a.imap.user,
                    a.imap_folder,
                    a.smtp.host,
                    a.smtp.port,
                    a.smtp.security,
                    if a.smtp.user.is_empty() {
                        "(none)"
                    } else {
                        &a.smtp.user
                    },
                    a.max_message_bytes,
                    a.blocked_extensions.join(", ")
                ),
                None => println!("{} has no mailbox in Torg.", m.name),
            }
            Ok(())
        }
        MailCommand::Check { municipality: slug } => {
            let m = municipality(store, &slug).await?;
            let a = torg_email::worker::accounts(store, key)
                .await?
                .into_iter()
                .find(|(t, _)| *t == m.id)
                .map(|(_, a)| a)
                .with_context(|| {
                    format!("{} has no mailbox; set one with 'torg mail set'", m.name)
                })?;
            let imap = torg_email::imap::check(&a.imap, &a.imap_folder).await;
            let smtp = torg_email::smtp::check(&a.smtp).await;
            println!(
                "IMAP {}:{}: {}",
                a.imap.host,
                a.imap.port,
                imap.as_ref()
                    .map(|_| "ok".to_string())
                    .unwrap_or_else(|e| redact(&e.to_string(), &a.secrets()))
            );
            println!(
                "SMTP {}:{}: {}",
                a.smtp.host,
                a.smtp.port,
                smtp.as_ref()
                    .map(|_| "ok".to_string())
                    .unwrap_or_else(|e| redact(&e.to_string(), &a.secrets()))
            );
            if imap.is_err() || smtp.is_err() {
                bail!(
                    "the mail servers could not both be reached; check host, port, security and password"
                );
            }
            Ok(())
        }
        MailCommand::Remove { municipality: slug } => {
            let m = municipality(store, &slug).await?;
            connectors::remove_mail_account(store, &Actor::cli(), m.id)
                .await
                .map_err(|e| connector_refused(&m.language, &e))?;
            println!("{} no longer reads or answers mail in Torg.", m.name);
            Ok(())
        }
    }
}

pub async fn sms_command(
    store: Arc<dyn Store>,
    settings: &Settings,
    cmd: SmsCommand,
) -> Result<()> {
    let _ = settings;
    match cmd {
        SmsCommand::Set {
            municipality: slug,
            url,
            username,
            password,
            sender,
        } => {
            let m = municipality(&*store, &slug).await?;
            let key = settings.secret_key()?;
            let input = SmsInput {
                url,
                username,
                password: Some(password),
                sender,
                new_key: false,
            };
            let set = connectors::set_sms_gateway(
                &*store,
                &key,
                &settings.web.connectors,
                &Actor::cli(),
                m.id,
                input,
            )
            .await
            .map_err(|e| connector_refused(&m.language, &e))?;
            let inbound_key = set.gateway.inbound_key;
            let public = settings.public_url();
            println!(
                "{} now sends SMS through the gateway. In Kannel's sms-service, set\n  get-url = \"{public}/hooks/sms/{}?key={inbound_key}&from=%p&text=%a&id=%I\"",
                m.name, m.slug
            );
            Ok(())
        }
        SmsCommand::Keyword {
            municipality: slug,
            word,
            unit,
            reply,
        } => {
            let m = municipality(&*store, &slug).await?;
            let unit_id = unit_id(&*store, &m, &unit).await?;
            let keyword = torg_core::policies::set_sms_keyword(
                &*store,
                &Actor::cli(),
                m.id,
                &word,
                unit_id,
                &reply,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{word:?}: {e}; write e.g. --word VANN"))?;
            println!(
                "SMS starting with {} now go to {unit}.",
                keyword.keyword.to_uppercase()
            );
            Ok(())
        }
        SmsCommand::Keywords { municipality: slug } => {
            let m = municipality(&*store, &slug).await?;
            let units = store.list_units(m.id).await?;
            for k in store.sms_keywords(m.id).await? {
                let unit = k
                    .unit_id
                    .and_then(|u| units.iter().find(|x| x.id == u))
                    .map(|u| u.name.as_str())
                    .unwrap_or("-");
                println!("{}\t{unit}", k.keyword.to_uppercase());
            }
            Ok(())
        }
    }
}

pub async fn social_command(
    store: Arc<dyn Store>,
    settings: &Settings,
    cmd: SocialCommand,
) -> Result<()> {
    let _ = settings;
    match cmd {
        SocialCommand::Set {
            municipality: slug,
            channel,
            account,
            registry_address,
            token,
            app_secret,
            api_base,
        } => {
            let m = municipality(&*store, &slug).await?;
            let channel: torg_domain::Channel = channel.parse()?;
            if !channel.is_public() {
                anyhow::bail!("--channel must be facebook, instagram or mastodon");
            }
            let meta = channel != torg_domain::Channel::Mastodon;
            if meta && app_secret.is_empty() {
                anyhow::bail!(
                    "Facebook and Instagram need --app-secret (or TORG_SOCIAL_APP_SECRET): it checks the webhooks' signatures"
                );
            }
            let api_base = match (api_base, meta) {
                (Some(b), _) => b,
                (None, true) => "https://graph.facebook.com/v21.0".to_string(),
                (None, false) => anyhow::bail!(
                    "Mastodon needs --api-base, the server's address (https://mastodon.example)"
                ),
            };
            let key = settings.secret_key()?;
            let input = SocialInput {
                channel,
                account: account.clone(),
                api_base,
                access_token: token,
                app_secret,
                registry_address: registry_address.clone(),
            };
            let social = connectors::set_social_account(
                &*store,
                &key,
                &settings.web.connectors,
                &Actor::cli(),
                m.id,
                input,
            )
            .await
            .map_err(|e| connector_refused(&m.language, &e))?;
            let verify_token = social.verify_token;
            if meta {
                let public = settings.public_url();
                println!(
                    "In Meta's app dashboard, subscribe the webhooks (feed, messages{}) with\n  callback URL: {public}/hooks/meta/{}\n  verify token: {verify_token}",
                    if channel == torg_domain::Channel::Instagram {
                        ", comments"
                    } else {
                        ""
                    },
                    m.slug
                );
            } else {
                println!("Mentions of {account} are read every 30 seconds while Torg runs.");
            }
            if !store
                .channel_account_approved(m.id, channel, &registry_address)
                .await?
            {
                println!(
                    "Note: {registry_address} is not approved in the channel registry yet; nothing is received or sent until the chief executive approves it at /staff/channels."
                );
            }
            Ok(())
        }
        SocialCommand::List { municipality: slug } => {
            let m = municipality(&*store, &slug).await?;
            for a in store.social_accounts(Some(m.id)).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    a.channel,
                    a.account,
                    a.registry_address,
                    if a.approved {
                        "approved"
                    } else {
                        "NOT APPROVED"
                    },
                    a.api_base
                );
            }
            Ok(())
        }
    }
}
