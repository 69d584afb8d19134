//! `torg` commands: The audit log, the archive (Noark 5 extract, Fiks, decisions, retention) and moderation keywords.

use super::*;
use std::io::Write;
use torg_domain::TenantId;

#[derive(Subcommand)]
pub enum AuditCommand {
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
pub enum ArchiveCommand {
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
    /// Write the same records as E-ARK CITS ERMS v3 (the Swedish diary and archive format,
    /// Riksarkivet's FGS Ärendehantering 2.0) into DIR (new or empty): erms.xml, its schema
    /// and the attachments.
    Erms {
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
pub enum ModerationCommand {
    /// Show or set the words that flag a public comment for the moderation queue.
    Keywords {
        #[arg(long)]
        municipality: String,
        /// Comma-separated words; replaces the list.
        #[arg(long)]
        set: Option<String>,
    },
}

pub async fn archive_command(store: &dyn Store, command: ArchiveCommand) -> Result<()> {
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
        ArchiveCommand::Erms {
            municipality: slug,
            from,
            to,
            dir,
        } => {
            let spec = extract_spec(store, &slug, &from, &to, now).await?;
            let bar = case_bar();
            let out = torg_archive::export_erms(store, &spec, &dir, &mut |p| bar_progress(&bar, p))
                .await?;
            bar.finish_and_clear();
            println!(
                "Wrote the ERMS export of {} to {}: {} cases (ärenden), {} records (handlingar), {} attachments.",
                spec.municipality.name,
                dir.display(),
                out.cases,
                out.journal_posts,
                out.documents,
            );
            if out.skipped_open > 0 {
                println!(
                    "{} archive-worthy inquiries of the period are still open; they are exported once closed.",
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
                torg_core::policies::set_retention_days(store, &Actor::cli(), m.id, d).await?;
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

/// What an extract or a Fiks push covers: the municipality, its units and staff by name, and
/// the period.
pub async fn extract_spec(
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

pub fn case_bar() -> indicatif::ProgressBar {
    indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} cases ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    )
}

pub fn bar_progress(bar: &indicatif::ProgressBar, p: torg_archive::Progress) {
    match p {
        torg_archive::Progress::Started { cases } => bar.set_length(cases),
        torg_archive::Progress::Case { done } => bar.set_position(done),
    }
}

/// Walks the municipality's audit log oldest first, a page at a time, handing each page to `f`.
pub async fn each_audit_page(
    store: &dyn Store,
    tenant: TenantId,
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

pub async fn audit_command(
    store: Arc<dyn Store>,
    settings: &Settings,
    cmd: AuditCommand,
) -> Result<()> {
    let _ = settings;
    match cmd {
        AuditCommand::Verify { municipality: slug } => {
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
        AuditCommand::Export { municipality: slug } => {
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
    }
}

pub async fn moderation_command(
    store: Arc<dyn Store>,
    settings: &Settings,
    cmd: ModerationCommand,
) -> Result<()> {
    let _ = settings;
    match cmd {
        ModerationCommand::Keywords {
            municipality: slug,
            set,
        } => {
            let m = municipality(&*store, &slug).await?;
            if let Some(list) = set {
                torg_core::policies::set_moderation_keywords(&*store, &Actor::cli(), m.id, &list)
                    .await?;
            }
            println!("{}", store.moderation_keywords(m.id).await?.join(", "));
            Ok(())
        }
    }
}
