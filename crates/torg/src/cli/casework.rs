//! `torg` commands: How inquiries are handled: routing rules, canned replies, deadline policies, opening hours, the duty rota, planned peaks and the acknowledgement text.

use super::*;
use torg_domain::UnitId;

#[derive(Subcommand)]
pub enum RuleCommand {
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
pub enum CannedCommand {
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

#[derive(Subcommand)]
pub enum PolicyCommand {
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
pub enum HoursCommand {
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
pub enum DutyCommand {
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
pub enum PeakCommand {
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

/// The plain-language advice on a text staff will send again and again (a canned reply, an
/// acknowledgement): advice, not a refusal.
fn print_plain_advice(language: &str, text: &str, jargon: Vec<(String, String)>) {
    let Some(mut settings) = torg_domain::plain::Settings::for_municipality(language) else {
        return;
    };
    settings.extra_jargon = jargon;
    let report = torg_domain::plain::Checker::new(settings).check(text);
    println!(
        "Plain language: LIX {:.0} ({}), {} words in {} sentences.",
        report.lix,
        report.level(),
        report.words,
        report.sentences
    );
    for f in &report.findings {
        let kind = serde_json::to_value(f.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        match &f.suggestion {
            Some(s) => println!("  {kind}: {:?} → {s}", &text[f.start..f.end]),
            None => println!("  {kind}: {:?}", &text[f.start..f.end]),
        }
    }
}

/// Says how many open inquiries' deadlines a policy or calendar change moved.
fn recomputed(changed: u64) {
    println!("Recomputed deadlines: {changed} open inquiries changed.");
}

pub async fn rule_command(
    store: Arc<dyn Store>,
    settings: &Settings,
    cmd: RuleCommand,
) -> Result<()> {
    let _ = settings;
    match cmd {
        RuleCommand::Add {
            municipality: slug,
            unit,
            keyword,
            topic,
            channel,
            position,
        } => {
            let m = municipality(&*store, &slug).await?;
            let units = store.list_units(m.id).await?;
            let unit = units
                .iter()
                .find(|u| u.name.eq_ignore_ascii_case(&unit))
                .with_context(|| format!("{} has no unit {unit:?}", m.name))?;
            let channel = channel
                .map(|c| c.parse::<torg_domain::Channel>())
                .transpose()?;
            let rule = torg_domain::routing::RoutingRule {
                position,
                keyword,
                topic,
                channel,
                unit_id: unit.id,
            };
            torg_core::policies::add_routing_rule(&*store, &Actor::cli(), m.id, rule)
                .await
                .map_err(|e| match e {
                    torg_core::policies::PolicyError::RuleWithoutCondition => anyhow::anyhow!(
                        "give at least one of --keyword, --topic and --channel; a rule without conditions would match nothing"
                    ),
                    e => e.into(),
                })?;
            println!("Added a routing rule to {} in {}.", unit.name, m.name);
            Ok(())
        }
        RuleCommand::List { municipality: slug } => {
            let m = municipality(&*store, &slug).await?;
            let units = store.list_units(m.id).await?;
            for (id, r) in store.list_routing_rules(m.id).await? {
                let unit = units
                    .iter()
                    .find(|u| u.id == r.unit_id)
                    .map(|u| u.name.as_str())
                    .unwrap_or("?");
                println!(
                    "#{id}\t{}\tkeyword={}\ttopic={}\tchannel={}\t→ {unit}",
                    r.position,
                    r.keyword.as_deref().unwrap_or("*"),
                    r.topic.as_deref().unwrap_or("*"),
                    r.channel.map(|c| c.as_str()).unwrap_or("*")
                );
            }
            Ok(())
        }
    }
}

pub async fn canned_command(
    store: Arc<dyn Store>,
    settings: &Settings,
    cmd: CannedCommand,
) -> Result<()> {
    let _ = settings;
    match cmd {
        CannedCommand::Add {
            municipality: slug,
            title,
            body,
        } => {
            let m = municipality(&*store, &slug).await?;
            torg_core::policies::add_canned_reply(&*store, &Actor::cli(), m.id, &title, &body)
                .await?;
            println!("Added the canned reply {title:?} to {}.", m.name);
            print_plain_advice(&m.language, &body, store.jargon(m.id).await?);
            Ok(())
        }
    }
}

pub async fn policy_command(
    store: Arc<dyn Store>,
    settings: &Settings,
    cmd: PolicyCommand,
) -> Result<()> {
    let _ = settings;
    match cmd {
        PolicyCommand::Add {
            municipality: slug,
            policy,
            channel,
            unit,
            topic,
        } => {
            let m = municipality(&*store, &slug).await?;
            let policy: torg_domain::deadline::DeadlinePolicy = policy.parse()?;
            let channel = channel
                .map(|c| c.parse::<torg_domain::Channel>())
                .transpose()?;
            let unit_id = match unit {
                Some(name) => Some(unit_id(&*store, &m, &name).await?),
                None => None,
            };
            let name = m.name.clone();
            let rule = torg_domain::deadline::PolicyRule {
                channel,
                unit_id,
                topic,
                policy,
            };
            let changed =
                torg_core::policies::add_deadline_policy(&*store, &Actor::cli(), m, rule).await?;
            println!("Added the deadline policy {policy} to {name}.");
            recomputed(changed);
            Ok(())
        }
        PolicyCommand::List { municipality: slug } => {
            let m = municipality(&*store, &slug).await?;
            for (id, r) in store.list_deadline_policies(m.id).await? {
                println!(
                    "#{id}\t{}\tchannel={}\tunit={}\ttopic={}",
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
    }
}

pub async fn hours_command(
    store: Arc<dyn Store>,
    settings: &Settings,
    cmd: HoursCommand,
) -> Result<()> {
    let _ = settings;
    match cmd {
        HoursCommand::Set {
            municipality: slug,
            weekly,
            unit,
            channel,
        } => {
            let m = municipality(&*store, &slug).await?;
            let hours = torg_domain::calendar::parse_weekly(&weekly)?;
            let scope = match (unit, channel) {
                (Some(name), _) => Some(torg_domain::calendar::HoursScope::Unit(UnitId(
                    (unit_id(&*store, &m, &name).await?).get(),
                ))),
                (None, Some(c)) => Some(torg_domain::calendar::HoursScope::Channel(c.parse()?)),
                (None, None) => None,
            };
            let name = m.name.clone();
            let changed =
                torg_core::policies::set_hours(&*store, &Actor::cli(), m, scope, &hours).await?;
            println!(
                "Opening hours of {name}{}: {}",
                scope.map(|s| format!(" ({s})")).unwrap_or_default(),
                torg_domain::calendar::format_weekly(&hours)
            );
            recomputed(changed);
            Ok(())
        }
        HoursCommand::Close {
            municipality: slug,
            date,
            closes_at,
            note,
        } => {
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
            let name = m.name.clone();
            let day = torg_store::ClosedDay {
                date,
                closes_at,
                note,
            };
            let changed = torg_core::policies::close_day(&*store, &Actor::cli(), m, day).await?;
            match closes_at {
                Some(t) => println!("{name} closes at {} on {date}.", t.strftime("%H:%M")),
                None => println!("{name} is closed on {date}."),
            }
            recomputed(changed);
            Ok(())
        }
        HoursCommand::Show { municipality: slug } => {
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
    }
}

pub async fn duty_command(
    store: Arc<dyn Store>,
    settings: &Settings,
    cmd: DutyCommand,
) -> Result<()> {
    let _ = settings;
    match cmd {
        DutyCommand::Plan {
            municipality: slug,
            group,
            users,
            from,
            days_per_shift,
            shifts,
            handover,
        } => {
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
            torg_core::policies::plan_duty(&*store, &Actor::cli(), m.id, &group, &plan).await?;
            println!(
                "Planned {} shifts of {group} duty in {}.",
                plan.len(),
                m.name
            );
            Ok(())
        }
        DutyCommand::List { municipality: slug } => {
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
    }
}

pub async fn peak_command(
    store: Arc<dyn Store>,
    settings: &Settings,
    cmd: PeakCommand,
) -> Result<()> {
    let _ = settings;
    match cmd {
        PeakCommand::Add {
            municipality: slug,
            name,
            from,
            to,
            policy,
            staffing,
        } => {
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
            let policy: torg_domain::deadline::DeadlinePolicy = policy.parse()?;
            let peak = torg_domain::deadline::PlannedPeak {
                id: 0,
                name: name.clone(),
                starts_at,
                ends_at,
                policy,
                staffing_note: staffing,
            };
            let place = m.name.clone();
            let (_, changed) =
                torg_core::policies::add_peak(&*store, &Actor::cli(), m, peak).await?;
            println!("Added the peak {name:?} ({policy}) to {place}.");
            recomputed(changed);
            Ok(())
        }
    }
}

#[derive(clap::Args)]
pub struct DeadlineArgs {
    #[arg(long)]
    pub municipality: String,
    #[arg(long)]
    pub channel: String,
    /// When it was received: local time like 2026-12-23T15:00, or RFC 3339 with an offset.
    #[arg(long)]
    pub received: String,
    /// The unit it was routed to, by name (for unit policies).
    #[arg(long)]
    pub unit: Option<String>,
    #[arg(long)]
    pub topic: Option<String>,
}

pub async fn deadline(
    store: Arc<dyn Store>,
    DeadlineArgs {
        municipality: slug,
        channel,
        received,
        unit,
        topic,
    }: DeadlineArgs,
) -> Result<()> {
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
            .unwrap_or(UnitId(0)),
    };
    let config = torg_core::intake::TenantConfig::load(&*store, m).await?;
    let zone = config.calendar.zone().clone();
    let received: jiff::Timestamp = match received.parse::<jiff::Timestamp>() {
        Ok(ts) => ts,
        Err(_) => received
            .parse::<jiff::civil::DateTime>()
            .with_context(|| format!("{received:?} is not a time; write it like 2026-12-23T15:00"))?
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

#[derive(clap::Args)]
pub struct AcknowledgementArgs {
    #[arg(long)]
    pub municipality: String,
    /// nb, nn, sv or en.
    #[arg(long)]
    pub language: String,
    /// The text. Placeholders: {navn}, {referanse}, {frist}, {apningstider}, {lenke}.
    /// Without --body the current text is printed.
    #[arg(long)]
    pub body: Option<String>,
}

pub async fn acknowledgement(
    store: Arc<dyn Store>,
    AcknowledgementArgs {
        municipality: slug,
        language,
        body,
    }: AcknowledgementArgs,
) -> Result<()> {
    let m = municipality(&*store, &slug).await?;
    match body {
        Some(body) => {
            torg_core::policies::set_acknowledgement(
                &*store,
                &Actor::cli(),
                m.id,
                &language,
                &body,
            )
            .await?;
            println!("Set the {language} acknowledgement of {}.", m.name);
            print_plain_advice(&language, &body, store.jargon(m.id).await?);
        }
        None => {
            let config = torg_core::intake::TenantConfig::load(&*store, m).await?;
            println!("{}", config.acknowledgement_template(&language));
        }
    }
    Ok(())
}
