//! `torg search`: the search index.

use super::*;

#[derive(Subcommand)]
pub enum SearchCommand {
    /// Rebuild the search index of every inquiry from its texts (name, contacts, subject,
    /// messages), in batches; `torg serve` may run meanwhile.
    Reindex {
        /// Only the inquiries missing from the index.
        #[arg(long)]
        missing: bool,
    },
}

pub async fn search_command(store: Arc<dyn Store>, cmd: SearchCommand) -> Result<()> {
    match cmd {
        SearchCommand::Reindex { missing } => {
            let bar = indicatif::ProgressBar::new_spinner().with_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {pos} inquiries indexed ({per_sec})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
            );
            let started = std::time::Instant::now();
            let n = torg_core::search::reindex(&*store, missing, |n| bar.set_position(n)).await?;
            bar.finish_and_clear();
            println!(
                "The search index holds {n} inquiries anew ({:.1} s).",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}
