//! `torg crisis`, `torg areas`, `torg subscribers`: crisis communication and the audience it
//! reaches, from the command line.

use super::*;
use torg_core::crisis::{self as core_crisis, Declaration, Lead};
use torg_core::reply::NoLiveChat;

#[derive(Subcommand)]
pub enum CrisisCommand {
    /// Declare a crisis from a template, for areas (by name); prints the crisis's id. The
    /// alert goes to the areas' subscribers by SMS and email, the banner and CAP alert are up.
    Start {
        #[arg(long)]
        municipality: String,
        /// The template's key (water, power, flood, gas, evacuation, …).
        #[arg(long)]
        template: String,
        /// An area by name; repeat for more. None: the whole municipality.
        #[arg(long = "area")]
        areas: Vec<String>,
        /// A drill (øvelse): only test recipients get messages, marked ØVELSE.
        #[arg(long)]
        drill: bool,
        /// Every subscriber, not only those of the areas.
        #[arg(long)]
        all: bool,
        /// What is known now.
        #[arg(long, default_value = "")]
        text: String,
    },
    /// A new status: to the same subscribers and every linked inquiry.
    Update {
        #[arg(long)]
        municipality: Option<String>,
        #[arg(long)]
        crisis: i64,
        #[arg(long)]
        text: String,
    },
    /// End the crisis (the all-clear).
    End {
        #[arg(long)]
        municipality: Option<String>,
        #[arg(long)]
        crisis: i64,
        #[arg(long, default_value = "Faren er over.")]
        text: String,
    },
    /// The templates, one `key: name` per line.
    Templates {
        #[arg(long)]
        municipality: String,
    },
    /// A crisis's log, for the archive.
    Log {
        #[arg(long)]
        municipality: Option<String>,
        #[arg(long)]
        crisis: i64,
    },
}

#[derive(Subcommand)]
pub enum AreasCommand {
    /// Import areas from a GeoJSON file: a FeatureCollection of Polygon features, each with a
    /// "name" and "postcodes" property. An area with a name already known is replaced.
    Import {
        #[arg(long)]
        municipality: String,
        file: std::path::PathBuf,
    },
    /// The areas, one per line with their postcodes.
    List {
        #[arg(long)]
        municipality: String,
    },
}

#[derive(Subcommand)]
pub enum SubscribersCommand {
    /// Import subscribers from CSV (header: email, phone, topics, areas, consent, test). Rows
    /// whose consent column says how consent was given are confirmed; the others are asked to
    /// confirm. Addresses that asked to stop are skipped.
    Import {
        #[arg(long)]
        municipality: String,
        file: std::path::PathBuf,
    },
    /// Add (or rename) a topic citizens may subscribe to.
    Topic {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        key: String,
        #[arg(long)]
        name: String,
    },
    /// How many subscribe.
    Count {
        #[arg(long)]
        municipality: String,
    },
}

fn catalog(settings: &Settings) -> Result<Arc<torg_i18n::Catalog>> {
    Ok(Arc::new(torg_i18n::Catalog::load(
        settings.locales_dir.as_deref(),
    )?))
}

/// The municipality a crisis belongs to: the one named, else the one that has it.
async fn owner(store: &dyn Store, slug: Option<&str>, id: i64) -> Result<torg_store::Municipality> {
    if let Some(slug) = slug {
        return municipality(store, slug).await;
    }
    for m in store.list_municipalities().await? {
        if store.crisis(m.id, id).await?.is_some() {
            return Ok(m);
        }
    }
    bail!("there is no crisis {id}; `torg crisis start` prints the id")
}

pub async fn crisis_command(
    store: Arc<dyn Store>,
    settings: &Settings,
    cmd: CrisisCommand,
) -> Result<()> {
    let catalog = catalog(settings)?;
    let actor = Actor::cli();
    let base = settings.public_url();
    let lead = Lead {
        actor: &actor,
        user: None,
        chat: &NoLiveChat,
        limits: settings.web.limits.text,
        base: &base,
    };
    match cmd {
        CrisisCommand::Start {
            municipality: slug,
            template,
            areas,
            drill,
            all,
            text,
        } => {
            let m = municipality(&*store, &slug).await?;
            let t = torg_i18n::Tr::new(catalog, &m.language);
            let (c, alert) = core_crisis::start(
                &*store,
                &t,
                &m,
                &lead,
                &Declaration {
                    template,
                    areas,
                    drill,
                    all_subscribers: all,
                    text,
                    // No person approves from the command line: the portal's crisis page and
                    // the subscribers carry it.
                    publish: false,
                },
            )
            .await?;
            eprintln!(
                "{}: {} declared{}; the alert was queued for {} subscribers.",
                m.name,
                alert.headline,
                if drill { " (drill)" } else { "" },
                alert.recipients
            );
            println!("{}", c.id);
            Ok(())
        }
        CrisisCommand::Update {
            municipality: slug,
            crisis,
            text,
        } => {
            message(
                &*store,
                &catalog,
                &lead,
                slug.as_deref(),
                crisis,
                &text,
                false,
            )
            .await
        }
        CrisisCommand::End {
            municipality: slug,
            crisis,
            text,
        } => {
            message(
                &*store,
                &catalog,
                &lead,
                slug.as_deref(),
                crisis,
                &text,
                true,
            )
            .await
        }
        CrisisCommand::Templates { municipality: slug } => {
            let m = municipality(&*store, &slug).await?;
            for t in store.crisis_templates(m.id).await? {
                println!("{}: {} ({}, {})", t.key, t.name, t.category, t.severity);
            }
            Ok(())
        }
        CrisisCommand::Log {
            municipality: slug,
            crisis,
        } => {
            let m = owner(&*store, slug.as_deref(), crisis).await?;
            let c = store
                .crisis(m.id, crisis)
                .await?
                .context("no such crisis")?;
            let log = store.crisis_log(m.id, crisis).await?;
            print!("{}", core_crisis::log_export(&m, &c, &log));
            Ok(())
        }
    }
}

async fn message(
    store: &dyn Store,
    catalog: &Arc<torg_i18n::Catalog>,
    lead: &Lead<'_>,
    slug: Option<&str>,
    crisis: i64,
    text: &str,
    end: bool,
) -> Result<()> {
    let m = owner(store, slug, crisis).await?;
    let t = torg_i18n::Tr::new(catalog.clone(), &m.language);
    let sent = core_crisis::update(
        store,
        &t,
        &m,
        lead,
        crisis,
        core_crisis::Status {
            text,
            end,
            publish: false,
        },
    )
    .await?;
    println!(
        "{}: {} queued for {} subscribers.",
        m.name,
        if end { "the end" } else { "the update" },
        sent.recipients
    );
    Ok(())
}

pub async fn areas_command(store: Arc<dyn Store>, cmd: AreasCommand) -> Result<()> {
    match cmd {
        AreasCommand::Import {
            municipality: slug,
            file,
        } => {
            let m = municipality(&*store, &slug).await?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let areas = torg_core::areas::import(&*store, &Actor::cli(), &m, &text).await?;
            println!("{}: {} areas imported.", m.name, areas.len());
            Ok(())
        }
        AreasCommand::List { municipality: slug } => {
            let m = municipality(&*store, &slug).await?;
            for a in store.areas(m.id).await? {
                println!("{}: {}", a.name, a.postcodes.join(", "));
            }
            Ok(())
        }
    }
}

pub async fn subscribers_command(
    store: Arc<dyn Store>,
    settings: &Settings,
    cmd: SubscribersCommand,
) -> Result<()> {
    match cmd {
        SubscribersCommand::Import {
            municipality: slug,
            file,
        } => {
            let m = municipality(&*store, &slug).await?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let rows = torg_core::subscribe::parse_csv(&text)
                .map_err(|(line, e)| anyhow::anyhow!("{}, line {line}: {e}", file.display()))?;
            let t = torg_i18n::Tr::new(catalog(settings)?, &m.language);
            let done = torg_core::subscribe::import(
                &*store,
                &Actor::cli(),
                &t,
                &m,
                &rows,
                &settings.public_url(),
            )
            .await
            .map_err(|(line, e)| anyhow::anyhow!("{}, line {line}: {e}", file.display()))?;
            println!(
                "{}: {} added ({} asked to confirm), {} skipped (subscribed already or asked to stop).",
                m.name, done.added, done.asked, done.skipped
            );
            Ok(())
        }
        SubscribersCommand::Topic {
            municipality: slug,
            key,
            name,
        } => {
            let m = municipality(&*store, &slug).await?;
            let topic =
                torg_core::areas::put_topic(&*store, &Actor::cli(), &m, &key, &name).await?;
            println!("{}: topic {} ({}).", m.name, topic.key, topic.name);
            Ok(())
        }
        SubscribersCommand::Count { municipality: slug } => {
            let m = municipality(&*store, &slug).await?;
            let c = store.subscriber_counts(m.id).await?;
            println!(
                "{}: {} by email, {} by SMS, {} waiting for confirmation, {} test recipients.",
                m.name, c.email, c.sms, c.pending, c.test_recipients
            );
            Ok(())
        }
    }
}
