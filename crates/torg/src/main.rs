//! `torg`: the one binary. Serves the web, and administers an installation from the command
//! line. A thin shell over the other crates.

mod config;
mod demo;
mod serve;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use config::{InstallationArgs, Settings};
use std::io::Write;
use std::sync::Arc;
use torg_core::actor::Actor;
use torg_domain::Role;
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
    Municipality(MunicipalityCommand),
    /// Units (enheter).
    #[command(subcommand)]
    Unit(UnitCommand),
    /// Staff users.
    #[command(subcommand)]
    User(UserCommand),
    /// API tokens for integrations.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Single sign-on for staff with the municipality's identity provider (OpenID Connect).
    #[command(subcommand)]
    Sso(SsoCommand),
    /// The municipality's mailbox: read over IMAP, answered over SMTP.
    #[command(subcommand)]
    Mail(MailCommand),
    /// SMS through a Kannel gateway: the gateway and the code words.
    #[command(subcommand)]
    Sms(SmsCommand),
    /// Social-media accounts (Facebook page, Instagram, Mastodon) the municipality answers from.
    #[command(subcommand)]
    Social(SocialCommand),
    /// Routing rules (keyword, topic, channel → unit).
    #[command(subcommand)]
    Rule(RuleCommand),
    /// Canned replies (svarmaler).
    #[command(subcommand)]
    Canned(CannedCommand),
    /// Make a consistent copy of a running SQLite installation (attachments included) in DIR.
    Backup { dir: std::path::PathBuf },
    /// Bring back a backup made by `torg backup` into the data directory (stop the server first).
    Restore {
        dir: std::path::PathBuf,
        /// Replace an existing database.
        #[arg(long)]
        force: bool,
    },
    /// Read text on standard input and print what the personal-data guard finds, one JSON line
    /// per finding: {"kind":"fodselsnummer","start":12,"end":23} (byte offsets).
    CheckText,
    /// Print a year's public holidays as JSON lines.
    Holidays {
        /// NO (Norway), SE (Sweden) or FI (Finland).
        #[arg(long)]
        country: String,
        #[arg(long)]
        year: i16,
    },
    /// Print the deadline a municipality's policy gives an inquiry (RFC 3339 with offset).
    Deadline {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        channel: String,
        /// When it was received: local time like 2026-12-23T15:00, or RFC 3339 with an offset.
        #[arg(long)]
        received: String,
        /// The unit it was routed to, by name (for unit policies).
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        topic: Option<String>,
    },
    /// Deadline policies (svarfrist).
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Opening hours (åpningstider) and the municipality's own closed days.
    #[command(subcommand)]
    Hours(HoursCommand),
    /// The duty rota (vaktliste).
    #[command(subcommand)]
    Duty(DutyCommand),
    /// Planned peaks: a window with its own deadline policy and a staffing note.
    #[command(subcommand)]
    Peak(PeakCommand),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The archive (arkiv): Noark 5 extract, archivist's decisions, retention, deletion log.
    #[command(subcommand)]
    Archive(ArchiveCommand),
    /// Moderation of public comments: the keyword list that flags comments.
    #[command(subcommand)]
    Moderation(ModerationCommand),
    /// The acknowledgement text (kvittering) per language.
    Acknowledgement {
        #[arg(long)]
        municipality: String,
        /// nb, nn, sv or en.
        #[arg(long)]
        language: String,
        /// The text. Placeholders: {navn}, {referanse}, {frist}, {apningstider}, {lenke}.
        /// Without --body the current text is printed.
        #[arg(long)]
        body: Option<String>,
    },
}

#[derive(Subcommand)]
enum MunicipalityCommand {
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
enum UnitCommand {
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
enum UserCommand {
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
enum SmsCommand {
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
enum SocialCommand {
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

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for an integration; prints it once.
    Create {
        #[arg(long)]
        municipality: String,
        /// What the token is for, e.g. "Sak/arkiv-integrasjon".
        #[arg(long)]
        name: String,
    },
}

#[derive(clap::Args)]
struct MailSetArgs {
    #[arg(long)]
    municipality: String,
    /// The municipality's address, e.g. postmottak@nordby.kommune.no (From and Reply-To).
    #[arg(long)]
    address: String,
    /// The name shown beside the address [default: the municipality's name].
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    imap_host: String,
    #[arg(long, default_value_t = 993)]
    imap_port: u16,
    #[arg(long, default_value = "tls")]
    imap_security: String,
    #[arg(long)]
    imap_user: String,
    #[arg(long, env = "TORG_IMAP_PASSWORD", hide_env_values = true)]
    imap_password: String,
    #[arg(long, default_value = "INBOX")]
    folder: String,
    #[arg(long)]
    smtp_host: String,
    #[arg(long, default_value_t = 587)]
    smtp_port: u16,
    #[arg(long, default_value = "starttls")]
    smtp_security: String,
    /// Empty: no login (a relay that trusts Torg's address).
    #[arg(long, default_value = "")]
    smtp_user: String,
    #[arg(
        long,
        env = "TORG_SMTP_PASSWORD",
        hide_env_values = true,
        default_value = ""
    )]
    smtp_password: String,
    /// Larger messages are quarantined for staff, and their senders told so.
    #[arg(long, default_value_t = 26_214_400)]
    max_message_bytes: i64,
    /// Attachment types not taken in (file extensions, comma-separated); such messages are
    /// quarantined for staff, and their senders told so.
    #[arg(long, default_value = torg_domain::email::DEFAULT_BLOCKED_EXTENSIONS)]
    blocked_extensions: String,
}

#[derive(Subcommand)]
enum MailCommand {
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
enum SsoCommand {
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

#[derive(Subcommand)]
enum RuleCommand {
    /// Add a rule; every condition given must hold. The lowest position wins.
    Add {
        #[arg(long)]
        municipality: String,
        /// The unit that gets matching inquiries, by name.
        #[arg(long)]
        unit: String,
        /// A word in the subject or text (matches words starting with it).
        #[arg(long)]
        keyword: Option<String>,
        /// A topic code of the contact form, e.g. water, school, health.
        #[arg(long)]
        topic: Option<String>,
        /// web, chat, email, sms, phone, facebook, instagram, mastodon or api.
        #[arg(long)]
        channel: Option<String>,
        #[arg(long, default_value_t = 100)]
        position: i64,
    },
    /// List the rules in the order they are tried.
    List {
        #[arg(long)]
        municipality: String,
    },
}

#[derive(Subcommand)]
enum PolicyCommand {
    /// Add a policy; the most specific one that matches an inquiry applies (topic over unit
    /// over channel).
    Add {
        #[arg(long)]
        municipality: String,
        /// hours:24, working_hours:8, same_working_day:14:00/12:00 or working_days:2.
        #[arg(long)]
        policy: String,
        #[arg(long)]
        channel: Option<String>,
        /// A unit, by name.
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        topic: Option<String>,
    },
    /// List the policies.
    List {
        #[arg(long)]
        municipality: String,
    },
}

#[derive(Subcommand)]
enum HoursCommand {
    /// Set the weekly opening hours, e.g. "mon-fri 08:00-15:30; sat 10:00-14:00"; with --unit or
    /// --channel only for that unit or channel (its deadlines are counted on them).
    Set {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        weekly: String,
        /// A unit, by name.
        #[arg(long, conflicts_with = "channel")]
        unit: Option<String>,
        /// A channel, e.g. chat.
        #[arg(long)]
        channel: Option<String>,
    },
    /// Close a day, or with --closes-at close it early (e.g. 12:00 on the day before Easter).
    Close {
        #[arg(long)]
        municipality: String,
        /// The date, like 2026-12-24.
        #[arg(long)]
        date: String,
        #[arg(long)]
        closes_at: Option<String>,
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Show the opening hours and closed days.
    Show {
        #[arg(long)]
        municipality: String,
    },
}

#[derive(Subcommand)]
enum DutyCommand {
    /// Plan shifts that rotate among staff, e.g. a week each, handing over at 08:00.
    Plan {
        #[arg(long)]
        municipality: String,
        /// The channel group: public (social media and chat), all, or one channel.
        #[arg(long, default_value = "public")]
        group: String,
        /// Usernames in the order they take the duty, comma-separated.
        #[arg(long, value_delimiter = ',')]
        users: Vec<String>,
        /// The first day, like 2026-11-23.
        #[arg(long)]
        from: String,
        #[arg(long, default_value_t = 7)]
        days_per_shift: i64,
        #[arg(long, default_value_t = 8)]
        shifts: usize,
        #[arg(long, default_value = "08:00")]
        handover: String,
    },
    /// List the shifts from now on.
    List {
        #[arg(long)]
        municipality: String,
    },
}

#[derive(Subcommand)]
enum PeakCommand {
    /// Add a peak, e.g. the last three days before the kindergarten application deadline.
    Add {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        name: String,
        /// Local start, like 2027-02-26T00:00.
        #[arg(long)]
        from: String,
        /// Local end (exclusive), like 2027-03-02T00:00.
        #[arg(long)]
        to: String,
        /// The deadline policy in the window, e.g. working_hours:4.
        #[arg(long)]
        policy: String,
        /// Who is extra on duty, and how.
        #[arg(long, default_value = "")]
        staffing: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check the hash chain; says where it breaks.
    Verify {
        #[arg(long)]
        municipality: String,
    },
    /// Print the log as JSON lines.
    Export {
        #[arg(long)]
        municipality: String,
    },
}

#[derive(Subcommand)]
enum ArchiveCommand {
    /// Write a Noark 5 extract of the closed, archive-worthy inquiries received in the period
    /// into DIR (new or empty): arkivstruktur.xml, the journals, endringslogg.xml,
    /// arkivuttrekk.xml (ADDML), the schemas and the documents.
    Export {
        #[arg(long)]
        municipality: String,
        /// First day, e.g. 2026-01-01.
        #[arg(long)]
        from: String,
        /// Last day (included), e.g. 2026-12-31.
        #[arg(long)]
        to: String,
        dir: std::path::PathBuf,
    },
    /// Write the same records as Fiks Arkiv `arkivmelding` messages (opprett), a folder per
    /// message with its payload and files, into DIR (new or empty).
    Fiks {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        from: String,
        #[arg(long)]
        to: String,
        dir: std::path::PathBuf,
    },
    /// Record the archivist's decision on an inquiry.
    Decide {
        #[arg(long)]
        municipality: String,
        /// The inquiry's reference, e.g. 2026/123.
        #[arg(long)]
        reference: String,
        /// archive or not_archive.
        #[arg(long)]
        decision: String,
        /// Screen the public journal on this basis: personal_circumstances, business_secrets,
        /// internal_document, health or child_welfare.
        #[arg(long)]
        screen: Option<String>,
        /// Screen the names of private persons in the public journal.
        #[arg(long)]
        screen_names: bool,
        /// The title the public journal shows.
        #[arg(long)]
        public_title: Option<String>,
    },
    /// Show or set how many days a closed inquiry that is not a record is kept.
    Retention {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        days: Option<u32>,
    },
    /// Run the retention job now (torg serve runs it every night).
    Purge {
        #[arg(long)]
        municipality: String,
    },
    /// The deletion log: what retention deleted (reference, dates, counts; no content).
    Deletions {
        #[arg(long)]
        municipality: String,
    },
}

#[derive(Subcommand)]
enum ModerationCommand {
    /// Show or set the words that flag a public comment for the moderation queue.
    Keywords {
        #[arg(long)]
        municipality: String,
        /// Comma-separated words; replaces the list.
        #[arg(long)]
        set: Option<String>,
    },
}

#[derive(Subcommand)]
enum CannedCommand {
    /// Add a canned reply. Placeholders: {navn}, {referanse}, {signatur}.
    Add {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        title: String,
        #[arg(long)]
        body: String,
    },
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
                redact(&settings.database_url)
            )
        })
}

/// A unit of the municipality by name (case-insensitive), with an error that says so.
async fn unit_id(store: &dyn Store, m: &torg_store::Municipality, name: &str) -> Result<i64> {
    store
        .list_units(m.id)
        .await?
        .into_iter()
        .find(|u| u.name.eq_ignore_ascii_case(name))
        .map(|u| u.id)
        .with_context(|| {
            format!(
                "{} has no unit {name:?}; 'torg unit create' adds one",
                m.name
            )
        })
}

/// Walks the municipality's audit log oldest first, a page at a time, handing each page to `f`.
pub(crate) async fn each_audit_page(
    store: &dyn Store,
    tenant: i64,
    mut f: impl FnMut(&[torg_domain::audit::AuditEntry]) -> Result<()>,
) -> Result<()> {
    let mut after = 0;
    loop {
        let page = store.audit_entries(tenant, after, 10_000).await?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        after = last.seq;
        f(&page)?;
    }
}

/// Records a change made from the command line in the municipality's audit log.
/// A refusal of the core's directory rules, in the municipality's language: the same text
/// the administration page shows.
fn refused(language: &str, e: &torg_core::directory::DirectoryActionError) -> anyhow::Error {
    match e {
        torg_core::directory::DirectoryActionError::Store(s) => anyhow::anyhow!("{s}"),
        e => match torg_i18n::Catalog::load(None) {
            Ok(catalog) => anyhow::anyhow!("{}", catalog.text(language, e.key(), &[])),
            Err(_) => anyhow::anyhow!("{e}"),
        },
    }
}

async fn audit(
    store: &dyn Store,
    m: &torg_store::Municipality,
    action: &str,
    object: String,
    detail: String,
) -> Result<()> {
    let entry = torg_domain::audit::NewAuditEntry {
        actor: "cli".into(),
        action: action.into(),
        object,
        detail,
        source: "cli".into(),
    };
    store
        .append_audit(m.id, entry, jiff::Timestamp::now())
        .await?;
    Ok(())
}

const BACKUP_FILE: &str = "torg.db";

/// `torg backup DIR`: a consistent copy of the running SQLite database.
async fn backup(settings: &Settings, dir: &std::path::Path) -> Result<()> {
    if !settings.is_sqlite() {
        bail!("torg backup copies the embedded SQLite database; back up PostgreSQL with pg_dump");
    }
    let db = std::path::Path::new(settings.database_url.trim_start_matches("sqlite://"));
    if !db.exists() {
        bail!("there is no database at {}; check --data-dir", db.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let target = dir.join(BACKUP_FILE);
    if target.exists() {
        bail!(
            "{} holds a backup already; choose an empty directory",
            dir.display()
        );
    }
    let store = torg_store_sql::SqliteStore::open(db).await?;
    store.backup_to(&target).await?;
    let copy = torg_store_sql::SqliteStore::open(&target).await?;
    if !copy.integrity_ok().await? {
        bail!(
            "the backup in {} failed its integrity check; try again",
            dir.display()
        );
    }
    // The key that opens the sealed mail passwords belongs with the database.
    if settings.secret_key_file.exists() {
        copy_private(&settings.secret_key_file, &dir.join("secret.key"))?;
    }
    let size = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
    println!(
        "Backed up {} to {} ({:.1} MB, attachments and the secret key included).",
        db.display(),
        target.display(),
        size as f64 / 1e6
    );
    Ok(())
}

/// Copies a secret file, readable by its owner only.
fn copy_private(from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::copy(from, to).with_context(|| format!("cannot write {}", to.display()))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))?;
    Ok(())
}

/// `torg restore DIR`: puts a backup in place of the data directory's database.
async fn restore(settings: &Settings, dir: &std::path::Path, force: bool) -> Result<()> {
    if !settings.is_sqlite() {
        bail!(
            "torg restore restores the embedded SQLite database; restore PostgreSQL with pg_restore"
        );
    }
    let source = dir.join(BACKUP_FILE);
    if !source.exists() {
        bail!(
            "{} holds no backup ({BACKUP_FILE} is missing)",
            dir.display()
        );
    }
    {
        let check = torg_store_sql::SqliteStore::open(&source).await?;
        if !check.integrity_ok().await? {
            bail!(
                "the backup in {} is damaged; it was not restored",
                dir.display()
            );
        }
    }
    settings.prepare_data_dir()?;
    let db = std::path::PathBuf::from(settings.database_url.trim_start_matches("sqlite://"));
    if db.exists() && !force {
        bail!(
            "{} exists; stop Torg and pass --force to replace it",
            db.display()
        );
    }
    for suffix in ["-wal", "-shm"] {
        let side = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        if side.exists() {
            std::fs::remove_file(&side)?;
        }
    }
    std::fs::copy(&source, &db).with_context(|| format!("cannot write {}", db.display()))?;
    let key = dir.join("secret.key");
    if key.exists() {
        copy_private(&key, &settings.secret_key_file)?;
    }
    println!("Restored {} from {}.", db.display(), dir.display());
    Ok(())
}

/// Recomputes open inquiries' deadlines after a policy or calendar change, and says so.
async fn recompute(store: &dyn Store, m: torg_store::Municipality) -> Result<()> {
    let config = torg_core::intake::TenantConfig::load(store, m).await?;
    let changed = torg_core::intake::recompute_deadlines(store, &config).await?;
    tracing::info!(municipality = %config.municipality.slug, changed, "deadlines recomputed");
    println!("Recomputed deadlines: {changed} open inquiries changed.");
    Ok(())
}

/// A database URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

async fn municipality(store: &dyn Store, slug: &str) -> Result<torg_store::Municipality> {
    store.municipality_by_slug(slug).await?.with_context(|| {
        format!("there is no municipality {slug:?}; 'torg municipality list' shows them")
    })
}

/// What an extract or a Fiks push covers: the municipality, its units and staff by name, and
/// the period.
async fn extract_spec(
    store: &dyn Store,
    slug: &str,
    from: &str,
    to: &str,
    now: jiff::Timestamp,
) -> Result<torg_archive::ExtractSpec> {
    let m = municipality(store, slug).await?;
    let day = |s: &str| {
        s.parse::<jiff::civil::Date>()
            .with_context(|| format!("{s:?} is not a date; write it as 2026-01-31"))
    };
    let (from, to) = (day(from)?, day(to)?);
    if to < from {
        bail!("--to ({to}) is before --from ({from})");
    }
    Ok(torg_archive::ExtractSpec {
        units: store
            .list_units(m.id)
            .await?
            .into_iter()
            .map(|u| (u.id, u.name))
            .collect(),
        users: store
            .list_users(m.id)
            .await?
            .into_iter()
            .map(|u| (u.id, u.full_name))
            .collect(),
        municipality: m,
        from,
        to,
        now,
        page: 500,
    })
}

fn case_bar() -> indicatif::ProgressBar {
    indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} cases ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    )
}

fn bar_progress(bar: &indicatif::ProgressBar, p: torg_archive::Progress) {
    match p {
        torg_archive::Progress::Started { cases } => bar.set_length(cases),
        torg_archive::Progress::Case { done } => bar.set_position(done),
    }
}

async fn archive_command(store: &dyn Store, command: ArchiveCommand) -> Result<()> {
    let now = jiff::Timestamp::now();
    match command {
        ArchiveCommand::Fiks {
            municipality: slug,
            from,
            to,
            dir,
        } => {
            let spec = extract_spec(store, &slug, &from, &to, now).await?;
            let bar = case_bar();
            let written = torg_archive::fiks::write_messages(store, &spec, &dir, &mut |p| {
                bar_progress(&bar, p)
            })
            .await?;
            bar.finish_and_clear();
            println!(
                "Wrote {written} {} messages to {}.",
                torg_archive::fiks::MESSAGE_TYPE,
                dir.display()
            );
            Ok(())
        }
        ArchiveCommand::Export {
            municipality: slug,
            from,
            to,
            dir,
        } => {
            let spec = extract_spec(store, &slug, &from, &to, now).await?;
            let bar = case_bar();
            let started = std::time::Instant::now();
            let out =
                torg_archive::export(store, &spec, &dir, &mut |p| bar_progress(&bar, p)).await?;
            bar.finish_and_clear();
            println!(
                "Wrote the Noark 5 extract of {} to {}: {} cases, {} journal posts, {} documents ({:.1} MB), {} changes, in {:.1} s.",
                spec.municipality.name,
                dir.display(),
                out.cases,
                out.journal_posts,
                out.documents,
                out.document_bytes as f64 / 1e6,
                out.changes,
                started.elapsed().as_secs_f64()
            );
            if out.skipped_open > 0 {
                println!(
                    "{} archive-worthy inquiries of the period are still open; they go into an extract once closed.",
                    out.skipped_open
                );
            }
            Ok(())
        }
        ArchiveCommand::Decide {
            municipality: slug,
            reference,
            decision,
            screen,
            screen_names,
            public_title,
        } => {
            let m = municipality(store, &slug).await?;
            let decision: torg_domain::archive::ArchiveDecision = decision
                .parse()
                .context("--decision is archive or not_archive")?;
            let basis = screen
                .map(|b| b.parse::<torg_domain::archive::ScreeningBasis>())
                .transpose()
                .context("--screen is personal_circumstances, business_secrets, internal_document, health or child_welfare")?;
            let id = store
                .inquiry_by_reference(m.id, &reference)
                .await?
                .with_context(|| format!("{} has no inquiry {reference}", m.name))?;
            let inquiry = store
                .inquiry(m.id, id)
                .await?
                .context("the inquiry is gone")?;
            torg_core::archive::decide(
                store,
                &inquiry,
                decision,
                torg_domain::archive::Screening {
                    basis,
                    names: screen_names,
                    public_title,
                },
                None,
                &torg_store::Origin {
                    actor: "cli".into(),
                    source: "cli".into(),
                },
                now,
            )
            .await?;
            println!("{reference}: {}", decision.as_str());
            Ok(())
        }
        ArchiveCommand::Retention {
            municipality: slug,
            days,
        } => {
            let m = municipality(store, &slug).await?;
            if let Some(d) = days {
                store.set_retention_days(m.id, d).await?;
            }
            println!(
                "{} keeps closed inquiries that are not records for {} days.",
                m.name,
                store.retention_days(m.id).await?
            );
            Ok(())
        }
        ArchiveCommand::Purge { municipality: slug } => {
            let m = municipality(store, &slug).await?;
            let deleted = torg_core::archive::run_retention(store, m.id, now).await?;
            println!("Deleted {} inquiries of {}.", deleted.len(), m.name);
            Ok(())
        }
        ArchiveCommand::Deletions { municipality: slug } => {
            let m = municipality(store, &slug).await?;
            for d in store.deletion_log(m.id, 1000).await? {
                println!("{}", serde_json::to_string(&d)?);
            }
            Ok(())
        }
    }
}

/// `torg check-text`: standard input through the personal-data guard, findings as JSON lines.
fn check_text() -> Result<()> {
    use std::io::Read;
    let mut input = Vec::new();
    std::io::stdin()
        .lock()
        .read_to_end(&mut input)
        .context("reading standard input")?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    for f in torg_domain::personal_data::find_in_bytes(&input) {
        let kind = serde_json::to_string(&f.kind)?;
        let line = writeln!(
            out,
            "{{\"kind\":{kind},\"start\":{},\"end\":{}}}",
            f.start, f.end
        );
        if let Err(e) = line {
            // A reader that stops early (`| head`) is not an error.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                return Ok(());
            }
            return Err(e.into());
        }
    }
    match out.flush() {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

async fn run(cli: Cli) -> Result<()> {
    match &cli.command {
        Command::CheckText => return check_text(),
        Command::Holidays { country, year } => {
            let country: torg_domain::calendar::Country =
                country.parse().map_err(anyhow::Error::msg)?;
            let mut out = std::io::stdout().lock();
            for h in torg_domain::calendar::public_holidays(country, *year) {
                let line = serde_json::json!({"date": h.date.to_string(), "name": h.name});
                if let Err(e) = writeln!(out, "{line}") {
                    // A reader that stops early (`| head`) is not an error.
                    if e.kind() == std::io::ErrorKind::BrokenPipe {
                        return Ok(());
                    }
                    return Err(e.into());
                }
            }
            return Ok(());
        }
        _ => {}
    }
    let settings = Settings::load(&cli.install)?;
    match &cli.command {
        Command::Backup { dir } => return backup(&settings, dir).await,
        Command::Restore { dir, force } => return restore(&settings, dir, *force).await,
        _ => {}
    }
    let store = open_store(&settings).await?;
    match cli.command {
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
        Command::Municipality(MunicipalityCommand::Create {
            slug,
            name,
            time_zone,
            language,
        }) => {
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
        Command::Municipality(MunicipalityCommand::List) => {
            for m in store.list_municipalities().await? {
                println!("{}\t{}\t{}\t{}", m.slug, m.name, m.time_zone, m.language);
            }
            Ok(())
        }
        Command::Unit(UnitCommand::Create {
            municipality: slug,
            name,
            service_desk,
            sensitive,
        }) => {
            let m = municipality(&*store, &slug).await?;
            let mut u = store.create_unit(m.id, &name, service_desk).await?;
            if sensitive {
                u = store.update_unit(m.id, u.id, &name, true).await?;
            }
            println!("Created unit {} (id {}) in {}.", u.name, u.id, m.name);
            Ok(())
        }
        Command::User(UserCommand::Create {
            municipality: slug,
            username,
            name,
            role,
            unit,
            password,
            email,
        }) => {
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
            let u = torg_core::directory::create_user(&*store, &Actor::cli(), m.id, input)
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
        Command::Sso(cmd) => sso_command(&*store, &settings.secret_key()?, cmd).await,
        Command::Mail(cmd) => mail_command(&*store, &settings.secret_key()?, cmd).await,
        Command::Sms(SmsCommand::Set {
            municipality: slug,
            url,
            username,
            password,
            sender,
        }) => {
            let m = municipality(&*store, &slug).await?;
            let key = settings.secret_key()?;
            let inbound_key = torg_core::secrets::new_token()[..32].to_string();
            let gateway = torg_store::SmsGateway {
                sendsms_url: url,
                username,
                password: key.seal(&password),
                sender,
                inbound_key: inbound_key.clone(),
            };
            store.set_sms_gateway(m.id, Some(gateway)).await?;
            audit(&*store, &m, "settings.sms", String::new(), String::new()).await?;
            let public = settings.public_url();
            println!(
                "{} now sends SMS through the gateway. In Kannel's sms-service, set\n  get-url = \"{public}/hooks/sms/{}?key={inbound_key}&from=%p&text=%a&id=%I\"",
                m.name, m.slug
            );
            Ok(())
        }
        Command::Sms(SmsCommand::Keyword {
            municipality: slug,
            word,
            unit,
            reply,
        }) => {
            let m = municipality(&*store, &slug).await?;
            let unit_id = unit_id(&*store, &m, &unit).await?;
            let keyword = torg_domain::sms::code_word(&word)
                .map_err(|e| anyhow::anyhow!("{word:?}: {e}; write e.g. --word VANN"))?;
            store
                .set_sms_keyword(
                    m.id,
                    &torg_store::SmsKeyword {
                        keyword: keyword.clone(),
                        unit_id: Some(unit_id),
                        reply,
                    },
                )
                .await?;
            audit(
                &*store,
                &m,
                "settings.sms_keyword",
                String::new(),
                keyword.clone(),
            )
            .await?;
            println!(
                "SMS starting with {} now go to {unit}.",
                keyword.to_uppercase()
            );
            Ok(())
        }
        Command::Social(SocialCommand::Set {
            municipality: slug,
            channel,
            account,
            registry_address,
            token,
            app_secret,
            api_base,
        }) => {
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
            let existing = store
                .social_accounts(Some(m.id))
                .await?
                .into_iter()
                .find(|a| a.channel == channel && a.account == account);
            let verify_token = existing
                .as_ref()
                .map(|a| a.verify_token.clone())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| torg_core::secrets::new_token()[..24].to_string());
            let social = torg_store::SocialAccount {
                tenant_id: m.id,
                channel,
                account: account.clone(),
                api_base,
                access_token: key.seal(&token),
                app_secret: if app_secret.is_empty() {
                    String::new()
                } else {
                    key.seal(&app_secret)
                },
                verify_token: if meta {
                    verify_token.clone()
                } else {
                    String::new()
                },
                registry_address: registry_address.clone(),
                cursor: existing.map(|a| a.cursor).unwrap_or_default(),
                approved: false,
            };
            store.set_social_account(&social).await?;
            audit(
                &*store,
                &m,
                "settings.social",
                format!("{channel}:{account}"),
                String::new(),
            )
            .await?;
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
        Command::Social(SocialCommand::List { municipality: slug }) => {
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
        Command::Sms(SmsCommand::Keywords { municipality: slug }) => {
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
        Command::Token(TokenCommand::Create {
            municipality: slug,
            name,
        }) => {
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
        Command::Rule(RuleCommand::Add {
            municipality: slug,
            unit,
            keyword,
            topic,
            channel,
            position,
        }) => {
            let m = municipality(&*store, &slug).await?;
            let units = store.list_units(m.id).await?;
            let unit = units
                .iter()
                .find(|u| u.name.eq_ignore_ascii_case(&unit))
                .with_context(|| format!("{} has no unit {unit:?}", m.name))?;
            let channel = channel
                .map(|c| c.parse::<torg_domain::Channel>())
                .transpose()?;
            if keyword.is_none() && topic.is_none() && channel.is_none() {
                bail!(
                    "give at least one of --keyword, --topic and --channel; a rule without conditions would match nothing"
                );
            }
            let rule = torg_domain::routing::RoutingRule {
                position,
                keyword,
                topic,
                channel,
                unit_id: unit.id,
            };
            store.create_routing_rule(m.id, rule).await?;
            println!("Added a routing rule to {} in {}.", unit.name, m.name);
            Ok(())
        }
        Command::Rule(RuleCommand::List { municipality: slug }) => {
            let m = municipality(&*store, &slug).await?;
            let units = store.list_units(m.id).await?;
            for r in store.list_routing_rules(m.id).await? {
                let unit = units
                    .iter()
                    .find(|u| u.id == r.unit_id)
                    .map(|u| u.name.as_str())
                    .unwrap_or("?");
                println!(
                    "{}\tkeyword={}\ttopic={}\tchannel={}\t→ {unit}",
                    r.position,
                    r.keyword.as_deref().unwrap_or("*"),
                    r.topic.as_deref().unwrap_or("*"),
                    r.channel.map(|c| c.as_str()).unwrap_or("*")
                );
            }
            Ok(())
        }
        Command::Canned(CannedCommand::Add {
            municipality: slug,
            title,
            body,
        }) => {
            let m = municipality(&*store, &slug).await?;
            store.create_canned_reply(m.id, &title, &body).await?;
            println!("Added the canned reply {title:?} to {}.", m.name);
            Ok(())
        }
        Command::Deadline {
            municipality: slug,
            channel,
            received,
            unit,
            topic,
        } => {
            let m = municipality(&*store, &slug).await?;
            let channel: torg_domain::Channel = channel.parse()?;
            let units = store.list_units(m.id).await?;
            let unit_id = match unit {
                Some(name) => {
                    units
                        .iter()
                        .find(|u| u.name.eq_ignore_ascii_case(&name))
                        .with_context(|| format!("{} has no unit {name:?}", m.name))?
                        .id
                }
                None => units
                    .iter()
                    .find(|u| u.is_service_desk)
                    .map(|u| u.id)
                    .unwrap_or(0),
            };
            let config = torg_core::intake::TenantConfig::load(&*store, m).await?;
            let zone = config.calendar.zone().clone();
            let received: jiff::Timestamp = match received.parse::<jiff::Timestamp>() {
                Ok(ts) => ts,
                Err(_) => received
                    .parse::<jiff::civil::DateTime>()
                    .with_context(|| {
                        format!("{received:?} is not a time; write it like 2026-12-23T15:00")
                    })?
                    .to_zoned(zone.clone())?
                    .timestamp(),
            };
            let policy = config.policy_at(channel, unit_id, topic.as_deref(), received);
            let due = config
                .deadline(channel, unit_id, topic.as_deref(), received)
                .to_zoned(zone);
            println!("{}", due.strftime("%Y-%m-%dT%H:%M:%S%:z"));
            eprintln!("policy {policy}");
            Ok(())
        }
        Command::Policy(PolicyCommand::Add {
            municipality: slug,
            policy,
            channel,
            unit,
            topic,
        }) => {
            let m = municipality(&*store, &slug).await?;
            let policy: torg_domain::deadline::DeadlinePolicy = policy.parse()?;
            let channel = channel
                .map(|c| c.parse::<torg_domain::Channel>())
                .transpose()?;
            let unit_id = match unit {
                Some(name) => Some(unit_id(&*store, &m, &name).await?),
                None => None,
            };
            store
                .create_deadline_policy(
                    m.id,
                    torg_domain::deadline::PolicyRule {
                        channel,
                        unit_id,
                        topic,
                        policy,
                    },
                )
                .await?;
            println!("Added the deadline policy {policy} to {}.", m.name);
            audit(
                &*store,
                &m,
                "policy.added",
                format!("policy:{policy}"),
                String::new(),
            )
            .await?;
            recompute(&*store, m).await
        }
        Command::Hours(HoursCommand::Set {
            municipality: slug,
            weekly,
            unit,
            channel,
        }) => {
            let m = municipality(&*store, &slug).await?;
            let hours = torg_domain::calendar::parse_weekly(&weekly)?;
            let scope = match (unit, channel) {
                (Some(name), _) => Some(torg_domain::calendar::HoursScope::Unit(
                    unit_id(&*store, &m, &name).await?,
                )),
                (None, Some(c)) => Some(torg_domain::calendar::HoursScope::Channel(c.parse()?)),
                (None, None) => None,
            };
            match scope {
                Some(scope) => store.set_scoped_opening_hours(m.id, scope, &hours).await?,
                None => store.set_opening_hours(m.id, &hours).await?,
            }
            println!(
                "Opening hours of {}{}: {}",
                m.name,
                scope.map(|s| format!(" ({s})")).unwrap_or_default(),
                torg_domain::calendar::format_weekly(&hours)
            );
            let object = scope
                .map(|s| s.to_string())
                .unwrap_or_else(|| "municipality".into());
            audit(
                &*store,
                &m,
                "hours.set",
                object,
                torg_domain::calendar::format_weekly(&hours),
            )
            .await?;
            recompute(&*store, m).await
        }
        Command::Hours(HoursCommand::Close {
            municipality: slug,
            date,
            closes_at,
            note,
        }) => {
            let m = municipality(&*store, &slug).await?;
            let date: jiff::civil::Date = date
                .parse()
                .with_context(|| format!("{date:?} is not a date; write it like 2026-12-24"))?;
            let closes_at = closes_at
                .map(|t| {
                    t.parse::<jiff::civil::Time>()
                        .with_context(|| format!("{t:?} is not a time; write it like 12:00"))
                })
                .transpose()?;
            store
                .set_closed_day(
                    m.id,
                    torg_store::ClosedDay {
                        date,
                        closes_at,
                        note,
                    },
                )
                .await?;
            match closes_at {
                Some(t) => println!("{} closes at {} on {date}.", m.name, t.strftime("%H:%M")),
                None => println!("{} is closed on {date}.", m.name),
            }
            let detail = closes_at
                .map(|t| format!("closes {}", t.strftime("%H:%M")))
                .unwrap_or_else(|| "closed".into());
            audit(
                &*store,
                &m,
                "hours.closed_day",
                format!("date:{date}"),
                detail,
            )
            .await?;
            recompute(&*store, m).await
        }
        Command::Hours(HoursCommand::Show { municipality: slug }) => {
            let m = municipality(&*store, &slug).await?;
            let config = torg_core::intake::TenantConfig::load(&*store, m).await?;
            println!(
                "{}",
                torg_domain::calendar::format_weekly(config.calendar.weekly())
            );
            for d in store.list_closed_days(config.municipality.id).await? {
                let when = d
                    .closes_at
                    .map(|t| format!("closes {}", t.strftime("%H:%M")))
                    .unwrap_or_else(|| "closed".into());
                println!("{}\t{when}\t{}", d.date, d.note);
            }
            Ok(())
        }
        Command::Duty(DutyCommand::Plan {
            municipality: slug,
            group,
            users,
            from,
            days_per_shift,
            shifts,
            handover,
        }) => {
            let m = municipality(&*store, &slug).await?;
            if torg_domain::duty::channels_of(&group).is_empty() {
                bail!("{group:?} is not a channel group; use public, all, or a channel like email");
            }
            let staff = store.list_users(m.id).await?;
            let mut ids = vec![];
            for name in &users {
                ids.push(
                    staff
                        .iter()
                        .find(|u| &u.username == name)
                        .with_context(|| format!("{} has no user {name:?}", m.name))?
                        .id,
                );
            }
            if ids.is_empty() {
                bail!("name the staff who take the duty with --users kari,siri");
            }
            let from: jiff::civil::Date = from
                .parse()
                .with_context(|| format!("{from:?} is not a date; write it like 2026-11-23"))?;
            let handover: jiff::civil::Time = handover
                .parse()
                .with_context(|| format!("{handover:?} is not a time; write it like 08:00"))?;
            let plan = torg_domain::duty::plan_rotation(
                &ids,
                &m.time_zone,
                from,
                handover,
                days_per_shift,
                shifts,
            )?;
            for (user_id, start, end) in &plan {
                store
                    .create_shift(m.id, &group, *user_id, *start, *end)
                    .await?;
            }
            println!(
                "Planned {} shifts of {group} duty in {}.",
                plan.len(),
                m.name
            );
            Ok(())
        }
        Command::Duty(DutyCommand::List { municipality: slug }) => {
            let m = municipality(&*store, &slug).await?;
            let staff = store.list_users(m.id).await?;
            let tz = jiff::tz::TimeZone::get(&m.time_zone)?;
            let now = jiff::Timestamp::now();
            for s in store
                .shifts(m.id, now, now + jiff::SignedDuration::from_hours(24 * 366))
                .await?
            {
                let who = staff
                    .iter()
                    .find(|u| u.id == s.user_id)
                    .map(|u| u.username.as_str())
                    .unwrap_or("?");
                let f = |t: jiff::Timestamp| {
                    t.to_zoned(tz.clone())
                        .strftime("%Y-%m-%d %H:%M")
                        .to_string()
                };
                println!(
                    "{}\t{}\t{} – {}",
                    s.group,
                    who,
                    f(s.starts_at),
                    f(s.ends_at)
                );
            }
            Ok(())
        }
        Command::Peak(PeakCommand::Add {
            municipality: slug,
            name,
            from,
            to,
            policy,
            staffing,
        }) => {
            let m = municipality(&*store, &slug).await?;
            let tz = jiff::tz::TimeZone::get(&m.time_zone)?;
            let local = |s: &str| -> Result<jiff::Timestamp> {
                Ok(s.parse::<jiff::civil::DateTime>()
                    .with_context(|| {
                        format!("{s:?} is not a time; write it like 2027-02-26T00:00")
                    })?
                    .to_zoned(tz.clone())?
                    .timestamp())
            };
            let (starts_at, ends_at) = (local(&from)?, local(&to)?);
            if starts_at >= ends_at {
                bail!("the peak must end after it starts");
            }
            let policy: torg_domain::deadline::DeadlinePolicy = policy.parse()?;
            store
                .create_peak(
                    m.id,
                    torg_domain::deadline::PlannedPeak {
                        id: 0,
                        name: name.clone(),
                        starts_at,
                        ends_at,
                        policy,
                        staffing_note: staffing,
                    },
                )
                .await?;
            println!("Added the peak {name:?} ({policy}) to {}.", m.name);
            audit(
                &*store,
                &m,
                "peak.added",
                format!("peak:{name}"),
                policy.to_string(),
            )
            .await?;
            recompute(&*store, m).await
        }
        Command::Acknowledgement {
            municipality: slug,
            language,
            body,
        } => {
            let m = municipality(&*store, &slug).await?;
            match body {
                Some(body) => {
                    if !body.contains("{referanse}") || !body.contains("{lenke}") {
                        bail!(
                            "the text must hold {{referanse}} and {{lenke}}, so that the citizen can find the case again"
                        );
                    }
                    store
                        .set_acknowledgement_template(m.id, &language, &body)
                        .await?;
                    println!("Set the {language} acknowledgement of {}.", m.name);
                }
                None => {
                    let config = torg_core::intake::TenantConfig::load(&*store, m).await?;
                    println!("{}", config.acknowledgement_template(&language));
                }
            }
            Ok(())
        }
        Command::Audit(AuditCommand::Verify { municipality: slug }) => {
            let m = municipality(&*store, &slug).await?;
            let bar = indicatif::ProgressBar::new_spinner().with_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {pos} entries checked ({per_sec})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            let result = torg_core::audit::verify(&*store, m.id, |n| bar.inc(n)).await?;
            bar.finish_and_clear();
            match result {
                Ok(n) => {
                    println!("The audit log of {} is intact: {n} entries.", m.name);
                    Ok(())
                }
                Err(e) => bail!("the audit log of {} is broken: {e}", m.name),
            }
        }
        Command::Archive(command) => archive_command(&*store, command).await,
        Command::Moderation(ModerationCommand::Keywords {
            municipality: slug,
            set,
        }) => {
            let m = municipality(&*store, &slug).await?;
            if let Some(list) = set {
                let words: Vec<String> = list
                    .split(',')
                    .map(|w| w.trim().to_lowercase())
                    .filter(|w| !w.is_empty())
                    .collect();
                store.set_moderation_keywords(m.id, &words).await?;
            }
            println!("{}", store.moderation_keywords(m.id).await?.join(", "));
            Ok(())
        }
        Command::Audit(AuditCommand::Export { municipality: slug }) => {
            let m = municipality(&*store, &slug).await?;
            let mut out = std::io::stdout().lock();
            each_audit_page(&*store, m.id, |page| {
                for e in page {
                    writeln!(out, "{}", serde_json::to_string(e)?)?;
                }
                Ok(())
            })
            .await
        }
        Command::Policy(PolicyCommand::List { municipality: slug }) => {
            let m = municipality(&*store, &slug).await?;
            for r in store.list_deadline_policies(m.id).await? {
                println!(
                    "{}\tchannel={}\tunit={}\ttopic={}",
                    r.policy,
                    r.channel.map(|c| c.as_str()).unwrap_or("*"),
                    r.unit_id
                        .map(|u| u.to_string())
                        .unwrap_or_else(|| "*".into()),
                    r.topic.as_deref().unwrap_or("*")
                );
            }
            Ok(())
        }
        Command::CheckText
        | Command::Holidays { .. }
        | Command::Backup { .. }
        | Command::Restore { .. } => {
            unreachable!("handled above")
        }
    }
}

async fn mail_command(
    store: &dyn Store,
    key: &torg_core::sealing::SecretKey,
    cmd: MailCommand,
) -> Result<()> {
    use torg_store::{MailAccount, MailServer};
    let security = |s: &str| -> Result<String> {
        match s {
            "tls" | "starttls" | "plain" => Ok(s.to_string()),
            other => bail!("security must be tls, starttls or plain (got {other:?})"),
        }
    };
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
            torg_domain::contact::Contact::parse(Some(&address), None).map_err(|e| {
                anyhow::anyhow!("{address:?} is not an email address ({e}); write e.g. postmottak@nordby.kommune.no")
            })?;
            let account = MailAccount {
                address: address.clone(),
                display_name: name.unwrap_or_else(|| m.name.clone()),
                imap: MailServer {
                    host: imap_host,
                    port: imap_port,
                    security: security(&imap_security)?,
                    user: imap_user,
                    password: key.seal(&imap_password),
                },
                imap_folder: folder,
                smtp: MailServer {
                    host: smtp_host,
                    port: smtp_port,
                    security: security(&smtp_security)?,
                    user: smtp_user,
                    password: key.seal(&smtp_password),
                },
                max_message_bytes,
                blocked_extensions: torg_domain::email::extension_list(&blocked_extensions),
            };
            store.set_mail_account(m.id, Some(account)).await?;
            audit(
                store,
                &m,
                "settings.mail",
                String::new(),
                format!("address:{address}"),
            )
            .await?;
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
                    .unwrap_or_else(|e| e.to_string())
            );
            println!(
                "SMTP {}:{}: {}",
                a.smtp.host,
                a.smtp.port,
                smtp.as_ref()
                    .map(|_| "ok".to_string())
                    .unwrap_or_else(|e| e.to_string())
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
            store.set_mail_account(m.id, None).await?;
            audit(store, &m, "settings.mail", String::new(), "removed".into()).await?;
            println!("{} no longer reads or answers mail in Torg.", m.name);
            Ok(())
        }
    }
}

async fn sso_command(
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
                client_secret: key.seal(&client_secret),
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

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://torg:secret@db:5432/torg"),
            "postgres://…@db:5432/torg"
        );
        assert_eq!(redact("data/torg.db"), "data/torg.db");
    }
}
