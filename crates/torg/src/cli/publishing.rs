//! `torg publishing`: a municipality's publishing rules from the command line.

use super::*;

#[derive(Subcommand)]
pub enum PublishingCommand {
    /// Show (and with flags, change) the rules: four eyes (nobody approves their own text) and
    /// how many minutes before the public staff see a message.
    Settings {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        four_eyes: Option<bool>,
        #[arg(long)]
        staff_lead_minutes: Option<u32>,
    },
}

pub async fn publishing_command(store: Arc<dyn Store>, cmd: PublishingCommand) -> Result<()> {
    match cmd {
        PublishingCommand::Settings {
            municipality: slug,
            four_eyes,
            staff_lead_minutes,
        } => {
            let m = municipality(&*store, &slug).await?;
            let mut settings = store.publishing_settings(m.id).await?;
            if four_eyes.is_some() || staff_lead_minutes.is_some() {
                settings.four_eyes = four_eyes.unwrap_or(settings.four_eyes);
                settings.staff_lead_minutes =
                    staff_lead_minutes.unwrap_or(settings.staff_lead_minutes);
                torg_core::publish::set_settings(&*store, &Actor::cli(), m.id, settings).await?;
            }
            println!(
                "{}: four eyes {}, staff see a message {} minutes before the public.",
                m.name,
                if settings.four_eyes { "on" } else { "off" },
                settings.staff_lead_minutes
            );
            Ok(())
        }
    }
}

#[derive(Subcommand)]
pub enum JargonCommand {
    /// Add (or change) a word the municipality wants to avoid, with the plainer word to write.
    Add {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        phrase: String,
        #[arg(long)]
        plainer: String,
    },
    /// Remove a word from the municipality's own list.
    Remove {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        phrase: String,
    },
    /// The municipality's own list, one `phrase = plainer` per line.
    List {
        #[arg(long)]
        municipality: String,
    },
}

pub async fn jargon_command(store: Arc<dyn Store>, cmd: JargonCommand) -> Result<()> {
    use torg_core::policies;
    match cmd {
        JargonCommand::Add {
            municipality: slug,
            phrase,
            plainer,
        } => {
            let m = municipality(&*store, &slug).await?;
            policies::set_jargon(&*store, &Actor::cli(), m.id, &phrase, &plainer).await?;
            println!("{}: write {plainer:?} instead of {phrase:?}.", m.name);
        }
        JargonCommand::Remove {
            municipality: slug,
            phrase,
        } => {
            let m = municipality(&*store, &slug).await?;
            if !policies::remove_jargon(&*store, &Actor::cli(), m.id, &phrase).await? {
                bail!(
                    "{phrase:?} is not on {}'s list; 'torg jargon list' shows it",
                    m.name
                );
            }
            println!("{}: {phrase:?} is off the list.", m.name);
        }
        JargonCommand::List { municipality: slug } => {
            let m = municipality(&*store, &slug).await?;
            for (phrase, plainer) in store.jargon(m.id).await? {
                println!("{phrase} = {plainer}");
            }
        }
    }
    Ok(())
}
