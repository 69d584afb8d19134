//! `torg-bench`: the performance figures of the README, measured over generated data. A
//! binary of its own, so that the shipped `torg` carries no benchmark and no test harness.
//!
//! Build both in release mode first (`cargo build --release -p torg -p torg-bench`): the API,
//! webhook, chat and access benchmarks start the `torg` binary that sits beside this one.

mod bench;
mod cluster;
mod crisis;
mod evaluation;
mod fuzz;
mod listen;
mod mix;
mod national;
mod plain;
mod publish;
mod search;
mod servers;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "torg-bench",
    version,
    about = "Torg's benchmarks (use a release build)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure throughput and latency over generated data against a real `torg serve`.
    Api(bench::BenchArgs),
    /// Random and mutated input for every parser (MIME mail, Meta webhooks, the SMS hook,
    /// multipart forms, the JSON API, canned replies): counts, speed, peak memory; fails on a
    /// panic.
    Fuzz {
        #[arg(long, default_value_t = 1_000_000)]
        cases: u64,
        #[arg(long, default_value_t = 20261203)]
        seed: u64,
    },
    /// Measure how fast deadlines are computed (one core).
    Deadlines {
        #[arg(long, default_value_t = 1_000_000)]
        count: u64,
    },
    /// Measure how long `torg audit verify` takes over a generated chain (SQLite).
    Audit {
        #[arg(long, default_value_t = 1_000_000)]
        entries: u64,
    },
    /// Measure email: ingest from a local Dovecot mailbox and sending through a local
    /// OpenSMTPD (both started by the benchmark; needs root and Debian's packages).
    Email {
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
    },
    /// Measure handing queued SMS to a local Kannel (started by the benchmark; needs Debian's kannel)
    Sms {
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
    },
    /// Measure the Noark 5 extract: generated closed, archive-worthy inquiries exported.
    Archive {
        #[arg(long, default_value_t = 100_000)]
        inquiries: u64,
        /// Messages per inquiry.
        #[arg(long, default_value_t = 3)]
        messages: u64,
    },
    /// Measure Meta webhook intake over HTTP: signed payloads checked, parsed and stored.
    Webhooks {
        #[arg(long, default_value_t = 20_000)]
        events: usize,
        /// Concurrent senders.
        #[arg(long, default_value_t = 64)]
        clients: usize,
    },
    /// Measure live chat: the time from a citizen's message to the staff browser's stream,
    /// with many chats open.
    Chat {
        #[arg(long, default_value_t = 500)]
        chats: usize,
        /// Messages each citizen writes (about two seconds apart).
        #[arg(long, default_value_t = 10)]
        messages: usize,
    },
    /// Measure the plain-language checker over generated municipal text.
    Plain {
        #[arg(long, default_value_t = 10)]
        megabytes: usize,
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Measure the annual wheel's iCalendar feed (read and rendered) for a municipality.
    Wheel {
        #[arg(long, default_value_t = 2000)]
        items: usize,
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
    /// Measure publishing: messages approved for six channels (news, Facebook, Instagram,
    /// Mastodon, SMS and email to subscribers), scheduled apart, handed to each (local
    /// stand-ins) on the delivery path; how late.
    Publish {
        #[arg(long, default_value_t = 1000)]
        messages: usize,
        /// Milliseconds between two messages' times.
        #[arg(long, default_value_t = 20)]
        spacing_ms: u64,
    },
    /// A crisis message to every subscriber (`torg crisis start` as its own process): how
    /// long until it is committed in the outbox, its peak memory, and how long until the
    /// portal shows the banner and the CAP feed the alert.
    Crisis {
        #[arg(long, default_value_t = 1_000_000)]
        subscribers: u64,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Several `torg serve` nodes on one PostgreSQL behind HAProxy, under load from many
    /// municipalities (SMS and Messenger messages, portal, API, staff pages, live chats), one
    /// node killed with SIGKILL partway: creates per second, nothing acknowledged lost, every
    /// acknowledgement once, every chat answer seen once, the jobs taken over.
    Cluster {
        /// PostgreSQL's admin URL (a fresh database is made there).
        #[arg(long)]
        postgres: String,
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        #[arg(long, default_value_t = 400)]
        municipalities: usize,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        #[arg(long, default_value_t = 32)]
        clients: usize,
        /// Live chats beside the clients (by default one per client, at most 16).
        #[arg(long)]
        chats: Option<usize>,
    },
    /// Data at a national host's size on PostgreSQL (10,000,000 inquiries over 400
    /// municipalities by default, with messages, audit entries and the search index), then a
    /// unit's most urgent, the search, the inbox and the evaluation page timed on it.
    National {
        /// PostgreSQL's admin URL (a fresh database is made there and kept for --database).
        #[arg(long)]
        postgres: Option<String>,
        /// Measure a database generated by an earlier run again.
        #[arg(long)]
        database: Option<String>,
        #[arg(long, default_value_t = 10_000_000)]
        inquiries: u64,
        #[arg(long, default_value_t = 400)]
        municipalities: usize,
        #[arg(long, default_value_t = 100)]
        samples: usize,
    },
    /// Measure the search: generated inquiries created with the index, then the first page
    /// and count of hits for a rare word, a common one, a name and an absent one.
    Search {
        #[arg(long, default_value_t = 1_000_000)]
        inquiries: u64,
        /// Searches per measure.
        #[arg(long, default_value_t = 50)]
        samples: usize,
        /// Also on PostgreSQL: an admin URL (a fresh database is made there).
        #[arg(long)]
        postgres: Option<String>,
        /// Leave out the timing of `torg search reindex` (minutes at a million).
        #[arg(long)]
        skip_reindex: bool,
    },
    /// Measure the evaluation: a year of one municipality generated (answered, closed,
    /// surveys answered), then the evaluation page's figures for the year.
    Evaluation {
        #[arg(long, default_value_t = 100_000)]
        inquiries: u64,
        #[arg(long, default_value_t = 20)]
        samples: usize,
        /// Also on PostgreSQL: an admin URL (a fresh database is made there).
        #[arg(long)]
        postgres: Option<String>,
    },
    /// Measure listening: feeds on a local server read, parsed and matched in one pass.
    Listen {
        #[arg(long, default_value_t = 1000)]
        feeds: usize,
        #[arg(long, default_value_t = 50)]
        items: usize,
        #[arg(long, default_value_t = 200)]
        keywords: usize,
    },
    /// The real mail servers and Kannel for the browser test, driven over standard input and
    /// output (see `servers.rs`).
    Servers {
        /// Where Kannel passes citizens' messages (Torg's SMS hook, or a proxy to it).
        #[arg(long)]
        sms_get_url: String,
    },
    /// Measure what authorization (session, user, memberships, unit check) adds to a request.
    Access {
        #[arg(long, default_value_t = 20_000)]
        requests: u32,
    },
}

#[tokio::main]
async fn main() -> Result<()> {
    // HTTPS clients and the server use ring, as `torg` does.
    torg_http::use_ring_crypto();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("TORG_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; measure with 'cargo run --release -p torg-bench'"
        );
    }
    match Cli::parse().command {
        Command::Api(args) => bench::run(args).await,
        Command::Fuzz { cases, seed } => {
            tokio::task::spawn_blocking(move || fuzz::run(cases, seed)).await?
        }
        Command::Deadlines { count } => bench::deadlines(count),
        Command::Audit { entries } => bench::audit(entries).await,
        Command::Email { messages } => bench::email(messages).await,
        Command::Sms { messages } => bench::sms(messages).await,
        Command::Archive {
            inquiries,
            messages,
        } => bench::archive(inquiries, messages).await,
        Command::Chat { chats, messages } => bench::chat(chats, messages).await,
        Command::Webhooks { events, clients } => bench::webhooks(events, clients).await,
        Command::Access { requests } => bench::access(requests).await,
        Command::Plain { megabytes, runs } => plain::run(megabytes, runs),
        Command::Wheel { items, runs } => plain::wheel(items, runs).await,
        Command::Publish {
            messages,
            spacing_ms,
        } => publish::run(messages, spacing_ms).await,
        Command::Crisis { subscribers, runs } => crisis::run(subscribers, runs).await,
        Command::Cluster {
            postgres,
            nodes,
            municipalities,
            seconds,
            clients,
            chats,
        } => {
            cluster::run(cluster::ClusterArgs {
                postgres,
                nodes,
                municipalities,
                seconds,
                chats: chats.unwrap_or(clients.min(16)),
                clients,
            })
            .await
        }
        Command::National {
            postgres,
            database,
            inquiries,
            municipalities,
            samples,
        } => {
            national::run(national::NationalArgs {
                postgres,
                database,
                inquiries,
                municipalities,
                samples,
            })
            .await
        }
        Command::Search {
            inquiries,
            samples,
            postgres,
            skip_reindex,
        } => search::run(inquiries, samples, postgres, !skip_reindex).await,
        Command::Evaluation {
            inquiries,
            samples,
            postgres,
        } => evaluation::run(inquiries, samples, postgres).await,
        Command::Listen {
            feeds,
            items,
            keywords,
        } => listen::run(feeds, items, keywords).await,
        Command::Servers { sms_get_url } => servers::run(sms_get_url).await,
    }
}
