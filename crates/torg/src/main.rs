//! `torg`: the one binary. Serves the web, and administers an installation from the command
//! line. A thin shell over the other crates.

mod cli;
mod config;
mod demo;
mod serve;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use config::{InstallationArgs, Settings};
use std::sync::Arc;
use torg_store::Store;

#[derive(Parser)]
#[command(
    name = "torg",
    version,
    about = "Torg: the municipality's communication hub"
)]
struct Cli {
    #[command(flatten)]
    install: InstallationArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (citizen portal, staff UI, API).
    Serve {
        /// Create "Demo kommune" with units, staff and inquiries first (once).
        #[arg(long)]
        demo: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Create the demo municipality and its data (once), then exit.
    Demo,
    /// Municipalities (tenants).
    #[command(subcommand)]
    Municipality(cli::directory::MunicipalityCommand),
    /// Units (enheter).
    #[command(subcommand)]
    Unit(cli::directory::UnitCommand),
    /// Staff users.
    #[command(subcommand)]
    User(cli::directory::UserCommand),
    /// API tokens for integrations.
    #[command(subcommand)]
    Token(cli::directory::TokenCommand),
    /// Single sign-on for staff with the municipality's identity provider (OpenID Connect).
    #[command(subcommand)]
    Sso(cli::directory::SsoCommand),
    /// The municipality's mailbox: read over IMAP, answered over SMTP.
    #[command(subcommand)]
    Mail(cli::channels::MailCommand),
    /// SMS through a Kannel gateway: the gateway and the code words.
    #[command(subcommand)]
    Sms(cli::channels::SmsCommand),
    /// Social-media accounts (Facebook page, Instagram, Mastodon) the municipality answers from.
    #[command(subcommand)]
    Social(cli::channels::SocialCommand),
    /// Routing rules (keyword, topic, channel → unit).
    #[command(subcommand)]
    Rule(cli::casework::RuleCommand),
    /// Canned replies (svarmaler).
    #[command(subcommand)]
    Canned(cli::casework::CannedCommand),
    /// Make a consistent copy of a running SQLite installation (attachments included) in DIR.
    Backup {
        dir: std::path::PathBuf,
        /// Also write the secret key here, apart from the backup (outside DIR).
        #[arg(long)]
        key_to: Option<std::path::PathBuf>,
    },
    /// Bring back a backup made by `torg backup` into the data directory (stop the server first).
    Restore {
        dir: std::path::PathBuf,
        /// The secret key kept apart at backup (`--key-to`).
        #[arg(long)]
        key_from: Option<std::path::PathBuf>,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
    },
    /// Read text on standard input and print what the personal-data guard finds, one JSON line
    /// per finding: {"kind":"fodselsnummer","start":12,"end":23} (byte offsets).
    CheckText,
    /// Read text on standard input and print the plain-language (klarspråk) advice: a first
    /// JSON line {"lix":…,"words":…,"sentences":…,"long_words":…}, then one per finding
    /// {"kind":"long_sentence|passive|jargon|written_standard","start":…,"end":…,"suggestion":…}
    /// (byte offsets).
    PlainLanguage {
        /// nb, nn or sv.
        #[arg(long, default_value = "nb")]
        language: String,
        /// The municipality's written standard (nb or nn): words of the other are marked.
        #[arg(long)]
        standard: Option<String>,
    },
    /// Print a year's public holidays as JSON lines.
    Holidays {
        /// NO (Norway), SE (Sweden) or FI (Finland).
        #[arg(long)]
        country: String,
        #[arg(long)]
        year: i16,
    },
    /// Print the deadline a municipality's policy gives an inquiry (RFC 3339 with offset).
    Deadline(cli::casework::DeadlineArgs),
    /// Deadline policies (svarfrist).
    #[command(subcommand)]
    Policy(cli::casework::PolicyCommand),
    /// Opening hours (åpningstider) and the municipality's own closed days.
    #[command(subcommand)]
    Hours(cli::casework::HoursCommand),
    /// The duty rota (vaktliste).
    #[command(subcommand)]
    Duty(cli::casework::DutyCommand),
    /// Planned peaks: a window with its own deadline policy and a staffing note.
    #[command(subcommand)]
    Peak(cli::casework::PeakCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(cli::records::AuditCommand),
    /// The archive (arkiv): Noark 5 extract, archivist's decisions, retention, deletion log.
    #[command(subcommand)]
    Archive(cli::records::ArchiveCommand),
    /// Moderation of public comments: the keyword list that flags comments.
    #[command(subcommand)]
    Moderation(cli::records::ModerationCommand),
    /// Publishing: the municipality's rules (four eyes, how long staff are told first).
    #[command(subcommand)]
    Publishing(cli::publishing::PublishingCommand),
    /// The municipality's own words to avoid in plain language, with the plainer word.
    #[command(subcommand)]
    Jargon(cli::publishing::JargonCommand),
    /// The annual wheel (årshjul): import a CSV of items, list them.
    #[command(subcommand)]
    Wheel(cli::wheel::WheelCommand),
    /// The acknowledgement text (kvittering) per language.
    Acknowledgement(cli::casework::AcknowledgementArgs),
    /// Crisis communication: declare, update and end a crisis (or a drill), its log.
    #[command(subcommand)]
    Crisis(cli::crisis::CrisisCommand),
    /// The municipality's areas (GeoJSON polygons with postcodes).
    #[command(subcommand)]
    Areas(cli::crisis::AreasCommand),
    /// Subscribers: import a list, topics, counts.
    #[command(subcommand)]
    Subscribers(cli::crisis::SubscribersCommand),
    /// The search index: rebuild it.
    #[command(subcommand)]
    Search(cli::search::SearchCommand),
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    torg_http::use_ring_crypto();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TORG_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(cli))
}

async fn open_store(settings: &Settings) -> Result<Arc<dyn Store>> {
    settings.prepare_data_dir()?;
    torg_store_sql::open(&settings.database_url)
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                cli::redact(&settings.database_url)
            )
        })
}

async fn run(cli: Cli) -> Result<()> {
    // Commands without a database.
    match &cli.command {
        Command::CheckText => return cli::text::check_text(),
        Command::PlainLanguage { language, standard } => {
            return cli::text::plain_language(language, standard.as_deref());
        }
        Command::Holidays { country, year } => return cli::text::holidays(country, *year),
        _ => {}
    }
    let settings = Settings::load(&cli.install)?;
    match &cli.command {
        Command::Backup { dir, key_to } => {
            return cli::backup::backup(&settings, dir, key_to.as_deref()).await;
        }
        Command::Restore {
            dir,
            key_from,
            force,
        } => {
            return cli::backup::restore(&settings, dir, key_from.as_deref(), *force).await;
        }
        _ => {}
    }
    let store = open_store(&settings).await?;
    // A change made here is told to the running nodes, which read their caches afresh.
    let tells_nodes = !matches!(cli.command, Command::Serve { .. } | Command::Migrate);
    let bus = store.clone();
    let done = match cli.command {
        Command::Serve { demo } => {
            if demo {
                demo::ensure(&*store).await?;
            }
            serve::serve(settings, store).await
        }
        Command::Migrate => {
            println!("The database is up to date ({}).", store.backend());
            Ok(())
        }
        Command::Demo => demo::ensure(&*store).await,
        Command::Sso(cmd) => {
            cli::directory::sso_command(
                &*store,
                &settings.secret_key()?,
                &settings.web.connectors,
                cmd,
            )
            .await
        }
        Command::Mail(cmd) => {
            cli::channels::mail_command(
                &*store,
                &settings.secret_key()?,
                &settings.web.connectors,
                cmd,
            )
            .await
        }
        Command::Archive(cmd) => cli::records::archive_command(&*store, cmd).await,
        Command::Deadline(args) => cli::casework::deadline(store, args).await,
        Command::Acknowledgement(args) => cli::casework::acknowledgement(store, args).await,
        Command::Municipality(cmd) => {
            cli::directory::municipality_command(store, &settings, cmd).await
        }
        Command::Unit(cmd) => cli::directory::unit_command(store, &settings, cmd).await,
        Command::User(cmd) => cli::directory::user_command(store, &settings, cmd).await,
        Command::Token(cmd) => cli::directory::token_command(store, &settings, cmd).await,
        Command::Sms(cmd) => cli::channels::sms_command(store, &settings, cmd).await,
        Command::Social(cmd) => cli::channels::social_command(store, &settings, cmd).await,
        Command::Rule(cmd) => cli::casework::rule_command(store, &settings, cmd).await,
        Command::Canned(cmd) => cli::casework::canned_command(store, &settings, cmd).await,
        Command::Policy(cmd) => cli::casework::policy_command(store, &settings, cmd).await,
        Command::Hours(cmd) => cli::casework::hours_command(store, &settings, cmd).await,
        Command::Duty(cmd) => cli::casework::duty_command(store, &settings, cmd).await,
        Command::Peak(cmd) => cli::casework::peak_command(store, &settings, cmd).await,
        Command::Audit(cmd) => cli::records::audit_command(store, &settings, cmd).await,
        Command::Moderation(cmd) => cli::records::moderation_command(store, &settings, cmd).await,
        Command::Wheel(cmd) => cli::wheel::wheel_command(store, cmd).await,
        Command::Publishing(cmd) => cli::publishing::publishing_command(store, cmd).await,
        Command::Jargon(cmd) => cli::publishing::jargon_command(store, cmd).await,
        Command::Crisis(cmd) => cli::crisis::crisis_command(store, &settings, cmd).await,
        Command::Areas(cmd) => cli::crisis::areas_command(store, cmd).await,
        Command::Subscribers(cmd) => cli::crisis::subscribers_command(store, &settings, cmd).await,
        Command::Search(cmd) => cli::search::search_command(store, cmd).await,
        Command::CheckText
        | Command::PlainLanguage { .. }
        | Command::Holidays { .. }
        | Command::Backup { .. }
        | Command::Restore { .. } => unreachable!("handled above"),
    };
    if done.is_ok()
        && tells_nodes
        && let Err(e) = torg_http::tell_nodes_to_forget(&*bus).await
    {
        tracing::warn!(error = %e, "the running nodes were not told of the change");
    }
    done
}
