//! `torg wheel`: the annual wheel (årshjul) from the command line — import a CSV of items,
//! list them with their next date.

use super::*;

#[derive(Subcommand)]
pub enum WheelCommand {
    /// Import items from a CSV file with a header line; the columns are title, date
    /// (2027-03-01), repeat (none, yearly, weekday, monthly), unit (by name), responsible (user
    /// name), target_group, area, mark (proactive, ongoing, reactive), description. Only title
    /// and date are needed. All lines go in, or — when one is wrong — none, with its number.
    Import {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        file: std::path::PathBuf,
    },
    /// List the items with their dates in the coming year.
    List {
        #[arg(long)]
        municipality: String,
    },
}

pub async fn wheel_command(store: Arc<dyn Store>, cmd: WheelCommand) -> Result<()> {
    match cmd {
        WheelCommand::Import {
            municipality: slug,
            file,
        } => {
            let m = municipality(&*store, &slug).await?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("reading {} (UTF-8 CSV)", file.display()))?;
            let n = torg_core::wheel::import_csv(&*store, &Actor::cli(), m.id, &text).await?;
            println!("Imported {n} items into the annual wheel of {}.", m.name);
            Ok(())
        }
        WheelCommand::List { municipality: slug } => {
            let m = municipality(&*store, &slug).await?;
            let tz = jiff::tz::TimeZone::get(&m.time_zone)?;
            let today = jiff::Timestamp::now().to_zoned(tz).date();
            let until = today.checked_add(jiff::Span::new().years(1))?;
            for i in store.wheel_items(m.id, None).await? {
                let next = i
                    .item
                    .recurrence
                    .occurrences(today, until)
                    .first()
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into());
                println!(
                    "{next}\t{}\t{}\t{}",
                    i.item.recurrence.repeat(),
                    i.item.mark.as_str(),
                    i.item.title
                );
            }
            Ok(())
        }
    }
}
