//! `torg bench`: the performance figures of the README, measured over generated data against
//! a real `torg serve` process.
//!
//! 1. Generates a municipality with `--inquiries` inquiries (default 1,000,000; 90 % closed)
//!    in a fresh SQLite database.
//! 2. Starts `torg serve` on it and reads its resident memory when idle.
//! 3. Measures the API list of one unit's 50 most urgent open inquiries and the inbox page
//!    (p50/p95/p99 over `--samples` sequential requests).
//! 4. Creates `--creates` inquiries through the API from `--clients` concurrent clients with
//!    full durability and reports the rate and the peak resident memory.

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use torg_domain::UserId;
use torg_domain::{Channel, Priority, Role};
use torg_store::{NewInquiry, NewMunicipality, NewUser, Origin, Store};

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Inquiries to generate before measuring.
    #[arg(long, default_value_t = 1_000_000)]
    inquiries: u64,
    /// Concurrent clients creating inquiries.
    #[arg(long, default_value_t = 32)]
    clients: u64,
    /// Inquiries to create through the API.
    #[arg(long, default_value_t = 30_000)]
    creates: u64,
    /// Requests per latency measurement.
    #[arg(long, default_value_t = 1_000)]
    samples: usize,
    /// Work in this directory instead of a temporary one (kept afterwards). An existing
    /// benchmark database there is reused.
    #[arg(long)]
    dir: Option<PathBuf>,
}

const UNITS: usize = 5;
const PASSWORD: &str = "bench-passord-123";

/// The `torg` binary beside this one (the same build profile), or `TORG_BIN`.
pub(crate) fn torg_binary() -> Result<PathBuf> {
    let path = match std::env::var_os("TORG_BIN") {
        Some(p) => PathBuf::from(p),
        None => std::env::current_exe()?.with_file_name("torg"),
    };
    if !path.exists() {
        bail!(
            "{} is missing; build it first with 'cargo build --release -p torg -p torg-bench' (or set TORG_BIN)",
            path.display()
        );
    }
    Ok(path)
}

/// Keeps an API token (reaching every unit, never expiring) for a municipality.
pub(crate) async fn add_token(
    store: &dyn Store,
    tenant: torg_domain::TenantId,
    name: &str,
    token: &str,
) -> Result<()> {
    store
        .create_api_token(
            tenant,
            torg_store::NewApiToken {
                name: name.into(),
                token_hash: torg_core::secrets::token_hash(token),
                units: vec![],
                expires_at: None,
                created_at: jiff::Timestamp::now(),
            },
            None,
        )
        .await?;
    Ok(())
}

pub(crate) fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{msg:>22} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

pub async fn run(args: BenchArgs) -> Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; measure with 'cargo build --release -p torg -p torg-bench'"
        );
    }
    let temp;
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        }
        None => {
            temp = std::env::temp_dir().join(format!("torg-bench-{}", std::process::id()));
            std::fs::create_dir_all(&temp)?;
            temp.clone()
        }
    };
    let db_path = dir.join("torg.db");
    let token = torg_core::secrets::new_token();
    let stored = {
        let store = torg_store_sql::SqliteStore::open(&db_path).await?;
        let store_dyn: &dyn Store = &store;
        if store_dyn.municipality_by_slug("bench").await?.is_none() {
            generate(&store, args.inquiries).await?;
        } else {
            println!("Reusing the benchmark data in {}", dir.display());
        }
        let m = store_dyn
            .municipality_by_slug("bench")
            .await?
            .context("bench municipality")?;
        add_token(store_dyn, m.id, "bench", &token).await?;
        let total = store_dyn.count_inquiries(m.id).await?;
        println!("Database holds {total} inquiries.");
        total
    };

    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    // The benchmark is many clients on one address and one token: no rate limits.
    let config = dir.join("bench.toml");
    std::fs::write(
        &config,
        "rate_limit_api_per_second = 0\nrate_limit_portal_per_minute = 0\n",
    )?;
    let mut server = Command::new(torg_binary()?)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(&dir)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("serve")
        .env("TORG_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start torg serve")?;
    let pid = server.id();
    let result = measure(&args, port, pid, &token, stored).await;
    let _ = server.kill();
    let _ = server.wait();
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result
}

async fn generate(store: &torg_store_sql::SqliteStore, n: u64) -> Result<()> {
    let s: &dyn Store = store;
    let m = s
        .create_municipality(NewMunicipality {
            slug: "bench".into(),
            name: "Bench kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await?;
    let mut units = vec![];
    for (i, name) in [
        "Servicetorget",
        "Oppvekst",
        "Teknisk drift",
        "Helse og omsorg",
        "Kommunikasjon",
    ]
    .iter()
    .enumerate()
    {
        units.push(s.create_unit(m.id, name, i == 0, false, None).await?.id);
    }
    s.create_user(
        m.id,
        NewUser {
            email: None,
            username: "bench".into(),
            full_name: "Bente Bench".into(),
            password_hash: torg_core::secrets::hash_password(PASSWORD)?,
            password_set_by: None,
            role: Role::ServiceDesk,
            unit_id: Some(units[0]),
        },
        None,
    )
    .await?;
    let pb = bar(n, "generating inquiries");
    let calendar = Arc::new(torg_core::intake::calendar_of(&m, None, &[]));
    let store = Arc::new(store.clone());
    let start = Timestamp::now() - SignedDuration::from_hours(24 * 730);
    let mut next = 0u64;
    while next < n {
        let mut set = tokio::task::JoinSet::new();
        let end = (next + 4096).min(n);
        for i in next..end {
            let store = store.clone();
            let unit_id = units[(i as usize) % UNITS];
            let received = start + SignedDuration::from_secs((i * 63_072_000 / n.max(1)) as i64);
            let channel = Channel::ALL[(i as usize) % 6];
            let tenant = m.id;
            let calendar = calendar.clone();
            set.spawn(async move {
                let store: &dyn Store = &*store;
                store
                    .create_inquiry(NewInquiry {
                        tenant_id: tenant,
                        channel,
                        topic: Some("other".into()),
                        subject: None,
                        citizen_name: format!("Innbygger {i}"),
                        contact_email: Some(format!("innbygger{i}@example.no")),
                        contact_phone: None,
                        language: "nb".into(),
                        unit_id,
                        priority: Priority::Normal,
                        follow_token_hash: format!("bench-{i}"),
                        body: format!("Hei! Dette er henvendelse nummer {i} om vann, vei og barnehage. Kan dere svare meg snart?"),
                        attachments: vec![],
                        received_at: received,
                        reference_year: 2026,
                        deadline_at: torg_domain::deadline::deadline_for(&calendar, channel, received),
                        external_id: None,
                        thread_key: None,
                        acknowledgement: None,
                        origin: Origin { actor: "bench".into(), source: String::new() },
                    })
                    .await
            });
        }
        while let Some(r) = set.join_next().await {
            r??;
        }
        pb.inc(end - next);
        next = end;
    }
    pb.finish();
    // History: nine in ten are closed.
    sqlx::query("UPDATE inquiries SET status = 'closed', closed_at = deadline_at WHERE tenant_id = $1 AND id % 10 <> 0")
        .bind(m.id.get())
        .execute(store.pool())
        .await?;
    sqlx::query("ANALYZE").execute(store.pool()).await?;
    Ok(())
}

fn rss_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// CPU seconds the process has used (user + system), from /proc (100 ticks per second).
fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses and may hold spaces.
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

pub(crate) async fn latency(
    client: &reqwest::Client,
    urls: &[String],
    samples: usize,
    token: Option<&str>,
) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(samples);
    for i in 0..(samples + 50) {
        let url = &urls[i % urls.len()];
        let mut req = client.get(url);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let t0 = Instant::now();
        let res = req.send().await?;
        let status = res.status();
        let body = res.bytes().await?;
        let elapsed = t0.elapsed();
        if !status.is_success() {
            bail!(
                "{url} answered {status}: {}",
                String::from_utf8_lossy(&body)
            );
        }
        if i >= 50 {
            times.push(elapsed);
        }
    }
    times.sort();
    Ok(times)
}

/// Logs `client` (keeping cookies) in to the staff pages at `base`.
pub(crate) async fn staff_login(
    client: &reqwest::Client,
    base: &str,
    municipality: &str,
    username: &str,
    password: &str,
) -> Result<()> {
    let page = client
        .get(format!("{base}/staff/login"))
        .send()
        .await?
        .text()
        .await?;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .context("login form")?
        .to_string();
    let res = client
        .post(format!("{base}/staff/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("municipality", municipality),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await?;
    if res.status() != 303 {
        bail!("login as {username} failed: {}", res.status());
    }
    Ok(())
}

/// `stored`: the inquiries in the database when the run starts (more than `--inquiries` when a
/// kept database is reused).
async fn measure(args: &BenchArgs, port: u16, pid: u32, token: &str, stored: i64) -> Result<()> {
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let ready = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            break;
        }
        if ready.elapsed() > Duration::from_secs(60) {
            bail!("torg serve did not start");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle_rss = rss_kib(pid, "VmRSS:").unwrap_or(0);

    // Units of the bench municipality, via the API.
    let units: serde_json::Value = client
        .get(format!("{base}/api/v1/units"))
        .bearer_auth(token)
        .send()
        .await?
        .json()
        .await?;
    let unit_ids: Vec<i64> = units["items"]
        .as_array()
        .context("units")?
        .iter()
        .filter_map(|u| u["id"].as_i64())
        .collect();

    let api_urls: Vec<String> = unit_ids
        .iter()
        .map(|u| format!("{base}/api/v1/inquiries?unit_id={u}&limit=50"))
        .collect();
    let api_times = latency(&client, &api_urls, args.samples, Some(token)).await?;

    staff_login(&client, &base, "bench", "bench", PASSWORD).await?;
    let inbox_urls: Vec<String> = unit_ids
        .iter()
        .map(|u| format!("{base}/staff?unit={u}"))
        .collect();
    let inbox_times = latency(&client, &inbox_urls, args.samples, None).await?;

    // Creation under load.
    let peak = Arc::new(AtomicU64::new(0));
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let peak = peak.clone();
        let sampling = sampling.clone();
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                if let Some(r) = rss_kib(pid, "VmRSS:") {
                    peak.fetch_max(r, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let pb = bar(args.creates, "creating via HTTP");
    let remaining = Arc::new(AtomicU64::new(args.creates));
    let failures = Arc::new(AtomicU64::new(0));
    let cpu0 = cpu_seconds(pid);
    let t0 = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for c in 0..args.clients {
        let remaining = remaining.clone();
        let failures = failures.clone();
        let pb = pb.clone();
        let url = format!("{base}/api/v1/inquiries");
        let token = token.to_string();
        set.spawn(async move {
            let client = reqwest::Client::new();
            let mut n = 0u64;
            while remaining.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |r| r.checked_sub(1)).is_ok() {
                let body = json!({"citizen_name": format!("Klient {c}"), "email": "last@example.no", "body": format!("Lasttest {c}-{n}: hull i veien ved skolen."), "channel": "api"});
                match client.post(&url).bearer_auth(&token).json(&body).send().await {
                    Ok(r) if r.status() == 201 => {
                        let _ = r.bytes().await;
                    }
                    _ => {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
                n += 1;
                pb.inc(1);
            }
        });
    }
    while let Some(r) = set.join_next().await {
        r?;
    }
    let elapsed = t0.elapsed();
    let server_cpu = cpu_seconds(pid) - cpu0;
    pb.finish();
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    let hwm = rss_kib(pid, "VmHWM:").unwrap_or(0);
    let peak_rss = peak.load(Ordering::Relaxed).max(hwm);
    let rate = args.creates as f64 / elapsed.as_secs_f64();
    let failed = failures.load(Ordering::Relaxed);

    println!();
    println!("| measure | result |");
    println!("|---|---|");
    println!("| inquiries stored before the run | {stored} |");
    println!(
        "| create via HTTP API, {} clients, durable | {:.0} per second ({} in {:.1} s, {} failed) |",
        args.clients,
        rate,
        args.creates,
        elapsed.as_secs_f64(),
        failed
    );
    println!(
        "| server CPU per create (the load generator runs on the same 2 cores) | {:.0} µs; server busy {:.2} cores |",
        server_cpu / args.creates as f64 * 1e6,
        server_cpu / elapsed.as_secs_f64()
    );
    println!(
        "| API list, one unit's 50 most urgent open | p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms |",
        percentile(&api_times, 0.5),
        percentile(&api_times, 0.95),
        percentile(&api_times, 0.99)
    );
    println!(
        "| inbox page, one unit | p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms |",
        percentile(&inbox_times, 0.5),
        percentile(&inbox_times, 0.95),
        percentile(&inbox_times, 0.99)
    );
    println!(
        "| resident memory, idle | {:.1} MB |",
        idle_rss as f64 / 1024.0
    );
    println!(
        "| resident memory, peak under load | {:.1} MB |",
        peak_rss as f64 / 1024.0
    );
    println!(
        "{}",
        json!({
            "inquiries": stored, "creates_per_second": rate, "create_failures": failed,
            "api_list_p95_ms": percentile(&api_times, 0.95), "inbox_p95_ms": percentile(&inbox_times, 0.95),
            "rss_idle_mb": idle_rss as f64 / 1024.0, "server_cpu_us_per_create": server_cpu / args.creates as f64 * 1e6, "rss_peak_mb": peak_rss as f64 / 1024.0
        })
    );
    if failed > 0 {
        bail!("{failed} creations failed");
    }
    Ok(())
}

/// Computes `count` deadlines on one core (Oslo office hours, Norwegian holidays), with receipt
/// times spread over three years and the four kinds of policy in turn.
pub fn deadlines(count: u64) -> Result<()> {
    use torg_domain::deadline::DeadlinePolicy;
    let calendar = torg_domain::calendar::WorkingCalendar::office_hours("Europe/Oslo")?;
    let policies: Vec<DeadlinePolicy> = [
        "hours:24",
        "working_hours:8",
        "same_working_day:14:00/12:00",
        "working_days:2",
    ]
    .iter()
    .map(|p| p.parse())
    .collect::<Result<_, _>>()?;
    let start = Timestamp::from_second(1_767_225_600)?; // 2026-01-01
    let span = 3 * 365 * 86_400u64;
    let mut checksum = 0i64;
    let t0 = Instant::now();
    for i in 0..count {
        // A cheap spread of receipt times (multiplicative hashing of i).
        let offset = (i.wrapping_mul(2_654_435_761) % span) as i64;
        let received = start + SignedDuration::from_secs(offset);
        let due = policies[(i % 4) as usize].deadline(&calendar, received);
        checksum = checksum.wrapping_add(due.as_second());
    }
    let elapsed = t0.elapsed();
    println!(
        "{} deadlines in {:.3} s on one core: {:.0} per second, {:.2} µs each (checksum {checksum})",
        count,
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e6 / count as f64
    );
    Ok(())
}

/// Median of some durations.
fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Generates a hash chain of `entries` audit entries in a fresh SQLite installation and times
/// `torg audit verify` over it (the same code), three times.
pub async fn audit(entries: u64) -> Result<()> {
    use torg_domain::audit::{GENESIS, NewAuditEntry, chain_hash};
    let dir = tempfile::tempdir()?;
    let sqlite = torg_store_sql::SqliteStore::open(&dir.path().join("torg.db")).await?;
    let pool = sqlite.pool().clone();
    let store: Arc<dyn Store> = Arc::new(sqlite);
    let m = store
        .create_municipality(NewMunicipality {
            slug: "bench".into(),
            name: "Benk kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await?;
    // Written straight to the table in big transactions: appending one by one (each durable)
    // would take hours, and the benchmark is about reading and checking.
    let pb = bar(entries, "generating the chain");
    let start = Timestamp::from_second(1_767_225_600)?;
    let mut previous = GENESIS.to_string();
    let mut seq = 0i64;
    while (seq as u64) < entries {
        let mut tx = pool.begin().await?;
        for _ in 0..20 {
            let n = (entries - seq as u64).min(3_000);
            if n == 0 {
                break;
            }
            let mut rows = Vec::with_capacity(n as usize);
            for _ in 0..n {
                seq += 1;
                let entry = NewAuditEntry {
                    actor: format!("user:{}", seq % 40 + 1),
                    action: [
                        "inquiry.replied",
                        "inquiry.assigned",
                        "login",
                        "inquiry.status",
                    ][(seq % 4) as usize]
                        .into(),
                    object: format!("inquiry:{}", seq / 3 + 1),
                    detail: "unit:3 assignee:7".into(),
                    source: "10.0.3.17".into(),
                };
                let at = start + SignedDuration::from_secs(seq * 20);
                previous = chain_hash(&previous, seq, at, &entry);
                rows.push((seq, at.as_millisecond(), entry, previous.clone()));
            }
            let mut q: sqlx::QueryBuilder<sqlx::Sqlite> = sqlx::QueryBuilder::new(
                "INSERT INTO audit_log (tenant_id, seq, at, actor, action, object, detail, source, hash) ",
            );
            q.push_values(&rows, |mut b, (seq, at, e, hash)| {
                b.push_bind(m.id.get())
                    .push_bind(*seq)
                    .push_bind(*at)
                    .push_bind(e.actor.clone())
                    .push_bind(e.action.clone())
                    .push_bind(e.object.clone())
                    .push_bind(e.detail.clone())
                    .push_bind(e.source.clone())
                    .push_bind(hash.clone());
            });
            q.build().execute(&mut *tx).await?;
            pb.inc(n);
        }
        tx.commit().await?;
    }
    pb.finish_and_clear();
    let mut runs = vec![];
    for run in 1..=3 {
        let t0 = Instant::now();
        let checked = torg_core::audit::verify(&*store, m.id, |_| {}).await?;
        let took = t0.elapsed();
        match checked {
            Ok(n) if n as u64 == entries => {}
            other => bail!("the generated chain did not verify: {other:?}"),
        }
        println!(
            "run {run}: verified {entries} entries in {:.2} s",
            took.as_secs_f64()
        );
        runs.push(took);
    }
    let m = median(runs);
    println!(
        "audit verify: {entries} entries in {:.2} s (median of 3), {:.0} entries per second",
        m.as_secs_f64(),
        entries as f64 / m.as_secs_f64()
    );
    Ok(())
}

/// Times the authorization of staff requests: session cookie → person, role, memberships →
/// may they see this unit. A municipality of 40 units (4 sensitive), a case handler in 3.
pub async fn access(requests: u32) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> =
        Arc::new(torg_store_sql::SqliteStore::open(&dir.path().join("torg.db")).await?);
    let m = store
        .create_municipality(NewMunicipality {
            slug: "bench".into(),
            name: "Benk kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await?;
    let mut units = vec![];
    for i in 0..40 {
        let u = store
            .create_unit(m.id, &format!("Enhet {i}"), i == 0, false, None)
            .await?;
        if i % 10 == 9 {
            store.update_unit(m.id, u.id, &u.name, true, None).await?;
        }
        units.push(u.id);
    }
    let user = store
        .create_user(
            m.id,
            NewUser {
                email: None,
                username: "saksbehandler".into(),
                full_name: "Sara Saksbehandler".into(),
                password_hash: "!".into(),
                password_set_by: None,
                role: Role::CaseHandler,
                unit_id: Some(units[1]),
            },
            None,
        )
        .await?;
    store
        .set_memberships(m.id, user.id, &[units[1], units[2], units[9]])
        .await?;
    let token = torg_core::secrets::new_token();
    store
        .create_session(torg_store::Session {
            token_hash: torg_core::secrets::token_hash(&token),
            tenant_id: m.id,
            user_id: user.id,
            csrf_token: torg_core::secrets::new_token(),
            expires_at: Timestamp::now() + SignedDuration::from_hours(1),
            last_seen_at: jiff::Timestamp::now(),
        })
        .await?;
    let catalog = Arc::new(torg_http::Catalog::load(None)?);
    let state = torg_http::AppState::new(store, catalog, torg_http::WebSettings::default());
    let mut headers = axum::http::HeaderMap::new();
    headers.insert(
        axum::http::header::COOKIE,
        format!("torg_session={token}").parse()?,
    );
    // Warm up (the municipality's settings are cached, as on a running server).
    for _ in 0..200 {
        torg_http::authorize_staff_request(&state, &headers, units[2], false)
            .await
            .map_err(anyhow::Error::msg)?;
    }
    for cold in [false, true] {
        let mut samples = Vec::with_capacity(requests as usize);
        let mut seen = 0u32;
        for i in 0..requests {
            let unit = units[i as usize % units.len()];
            let t0 = Instant::now();
            let sees = torg_http::authorize_staff_request(&state, &headers, unit, cold)
                .await
                .map_err(anyhow::Error::msg)?;
            samples.push(t0.elapsed());
            seen += u32::from(sees);
        }
        samples.sort();
        let pct = |p: f64| samples[((samples.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1e6;
        println!(
            "authorization per staff request, {} ({requests} requests, SQLite, sees {seen}): p50 {:.1} µs, p95 {:.1} µs, p99 {:.1} µs",
            if cold {
                "session read from the database"
            } else {
                "session cached (within 5 s of the last read)"
            },
            pct(0.5),
            pct(0.95),
            pct(0.99)
        );
    }
    Ok(())
}

/// A realistic citizen's email: Norwegian text, some in ISO-8859-1, every tenth with a
/// 20 KB attachment.
fn citizen_mail(n: usize) -> Vec<u8> {
    const TOPICS: &[(&str, &str)] = &[
        (
            "Vannlekkasje i Fjordgata",
            "Det renner vann fra en kum i Fjordgata. Kan noen se på det i dag? Det har vart siden i går kveld, og vannet renner ut i veien.",
        ),
        (
            "Søknad om barnehageplass",
            "Hei! Vi flytter til kommunen i august og lurer på hvordan vi søker barnehageplass. Gjelder det samme frist for oss som for dem som bor her fra før?",
        ),
        (
            "Brøyting av Skolevegen",
            "Skolevegen er ikke brøytet i dag, og bussen kommer ikke fram. Når kommer brøytebilen? Det er mange barn som går her om morgenen.",
        ),
        (
            "Spørsmål om eiendomsskatt",
            "Jeg har fått et krav om eiendomsskatt som jeg mener er for høyt. Hvordan klager jeg, og hva er fristen? Takstgrunnlaget virker feil.",
        ),
        (
            "Avfallshenting",
            "Søpla ble ikke hentet på tirsdag. Vi bor i Granlia 4. Blir den hentet denne uken, eller må vi vente til neste tømming?",
        ),
    ];
    let (subject, text) = TOPICS[n % TOPICS.len()];
    let latin1 = n % 7 == 3;
    let mut mail = format!(
        "From: Innbygger {n} <innbygger{n}@example.no>\r\nTo: postmottak@nordby.kommune.no\r\n\
         Subject: {subject}\r\nMessage-ID: <bench-{n}@example.no>\r\n\
         Date: Sun, 22 Nov 2026 10:00:00 +0100\r\nMIME-Version: 1.0\r\n"
    );
    let body = format!("{text}\r\n\r\nVennlig hilsen\r\nInnbygger {n}\r\n");
    let encode_body = |b: &str| -> (String, &str) {
        if latin1 {
            let qp: String = b
                .chars()
                .map(|c| match c {
                    'æ' => "=E6".to_string(),
                    'ø' => "=F8".to_string(),
                    'å' => "=E5".to_string(),
                    'Æ' => "=C6".to_string(),
                    'Ø' => "=D8".to_string(),
                    'Å' => "=C5".to_string(),
                    '=' => "=3D".to_string(),
                    c => c.to_string(),
                })
                .collect();
            (
                qp,
                "Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable",
            )
        } else {
            (
                b.to_string(),
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit",
            )
        }
    };
    let (body, headers) = encode_body(&body);
    if n.is_multiple_of(10) {
        let data: Vec<u8> = (0..20_000u32)
            .map(|i| (i.wrapping_mul(31) % 251) as u8)
            .collect();
        let b64 = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(&data)
        };
        let wrapped: Vec<&str> = b64
            .as_bytes()
            .chunks(76)
            .map(|c| std::str::from_utf8(c).unwrap_or(""))
            .collect();
        mail.push_str(&format!(
            "Content-Type: multipart/mixed; boundary=\"grense\"\r\n\r\n--grense\r\n{headers}\r\n\r\n{body}\r\n\
             --grense\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"bilde-{n}.pdf\"\r\n\
             Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--grense--\r\n",
            wrapped.join("\r\n")
        ));
    } else {
        mail.push_str(&format!("{headers}\r\n\r\n{body}"));
    }
    mail.into_bytes()
}

/// Fills a local Dovecot mailbox with `messages` realistic mails, times their ingest into
/// SQLite (`torg_email::imap::poll`, as `torg serve` does), then times sending the
/// acknowledgements that ingest queued through a local OpenSMTPD.
pub async fn email(messages: usize) -> Result<()> {
    use torg_testkit::mail::MailServers;
    let servers = MailServers::start()
        .context("Dovecot and OpenSMTPD are needed: apt-get install dovecot-imapd dovecot-lmtpd opensmtpd (and run as root)")?;
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn Store> =
        Arc::new(torg_store_sql::SqliteStore::open(&dir.path().join("torg.db")).await?);
    let m = store
        .create_municipality(NewMunicipality {
            slug: "nordby".into(),
            name: "Nordby kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await?;
    store
        .create_unit(m.id, "Servicetorget", true, false, None)
        .await?;
    let mut account = servers.account();
    account.max_message_bytes = 10_000_000;
    store
        .set_mail_account(m.id, Some(account.clone()), None)
        .await?;
    let pb = bar(messages as u64, "filling the mailbox");
    let mut bytes = 0usize;
    for n in 0..messages {
        let raw = citizen_mail(n);
        bytes += raw.len();
        servers.put_in_mailbox("postmottak", n, &raw)?;
        pb.inc(1);
    }
    pb.finish_and_clear();
    servers.settle_mailboxes();
    println!(
        "mailbox: {messages} messages, {:.1} MB, every tenth with a 20 KB attachment",
        bytes as f64 / 1e6
    );
    let config = torg_core::intake::TenantConfig::load(&*store, m.clone()).await?;
    let ack: Box<torg_core::intake::Acknowledger> =
        Box::new(|f: &torg_core::intake::AckFacts<'_>| {
            format!(
                "Hei {}!\n\nVi har mottatt henvendelsen din og gitt den referansen {{referanse}}. \
                 Du får svar innen to virkedager.\n\nVennlig hilsen\nNordby kommune",
                f.citizen_name
            )
        });
    let room = torg_email::ingest::Mailroom {
        store: &*store,
        config: &config,
        account: &account,
        limits: torg_core::intake::IntakeLimits::default(),
        acknowledger: Some(&*ack),
    };
    let t0 = Instant::now();
    let mut taken = 0usize;
    while taken < messages {
        let r = torg_email::imap::poll(&room, 500).await?;
        if r.fetched == 0 {
            bail!("the mailbox ran dry after {taken} of {messages} messages");
        }
        taken += r.fetched;
    }
    let ingest = t0.elapsed();
    let stored = store.count_inquiries(m.id).await?;
    if stored as usize != messages {
        bail!("{stored} inquiries for {messages} messages");
    }
    let ingest_rate = messages as f64 / ingest.as_secs_f64();
    println!(
        "ingest: {messages} messages from IMAP into SQLite in {:.2} s: {ingest_rate:.0} per second",
        ingest.as_secs_f64()
    );
    let accounts: std::collections::HashMap<torg_domain::TenantId, torg_store::MailAccount> =
        [(m.id, account.clone())].into();
    let pb = bar(messages as u64, "sending acknowledgements");
    let senders: usize = std::env::var("TORG_BENCH_SENDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4);
    // On a 2-core machine the relay's deliveries into Dovecot compete with the sending for the
    // CPUs; TORG_BENCH_HOLD=0 measures with them running.
    let hold = std::env::var("TORG_BENCH_HOLD").map_or(true, |v| v != "0");
    servers.hold_deliveries(hold);
    let t1 = Instant::now();
    let mut sent = 0usize;
    while sent < messages {
        let r =
            torg_email::smtp::send_due(&*store, &accounts, Timestamp::now(), 1000, senders).await?;
        if r.sent == 0 && r.retried + r.failed > 0 {
            bail!("the SMTP server refused: {r:?}");
        }
        if r.sent + r.retried + r.failed == 0 {
            bail!("the outbox ran dry after {sent} of {messages}");
        }
        sent += r.sent;
        pb.inc(r.sent as u64);
    }
    let send = t1.elapsed();
    pb.finish_and_clear();
    let send_rate = messages as f64 / send.as_secs_f64();
    println!(
        "send: {messages} acknowledgements accepted by SMTP in {:.2} s: {send_rate:.0} per second \
         ({senders} connections{})",
        send.as_secs_f64(),
        if hold {
            ", the relay's local delivery held meanwhile"
        } else {
            ""
        }
    );
    // Every message must arrive: let the relay deliver, and count the citizens' mailboxes.
    servers.hold_deliveries(false);
    let pb = bar(
        messages as u64,
        "waiting for delivery into the citizens' mailboxes",
    );
    let deadline = Instant::now() + std::time::Duration::from_secs(300);
    loop {
        let delivered = servers.delivered_except("postmottak");
        pb.set_position(delivered as u64);
        if delivered >= messages {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {delivered} of {messages} acknowledgements arrived");
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    pb.finish_and_clear();
    println!("delivered: all {messages} in the citizens' mailboxes");
    println!(
        "{}",
        json!({"messages": messages, "ingest_per_second": ingest_rate, "send_per_second": send_rate, "senders": senders, "delivery_held": hold})
    );
    Ok(())
}

/// Queues `messages` SMS (the acknowledgements of as many SMS inquiries, taken in as the hook
/// takes them), then times handing them to a local Kannel's sendsms interface with the code
/// `torg serve` runs, and waits until the fake SMSC has them all.
pub async fn sms(messages: usize) -> Result<()> {
    use torg_testkit::sms::{Kannel, PASSWORD, SENDER, USERNAME};
    let kannel = Kannel::start("http://127.0.0.1:9/unused")
        .context("Kannel is needed: apt-get install kannel")?;
    let dir = tempfile::tempdir()?;
    let (store, m, _) = nordby(dir.path(), "Europe/Oslo").await?;
    let config = Arc::new(torg_core::intake::TenantConfig::load(&*store, m.clone()).await?);
    let ack: Box<torg_core::intake::Acknowledger> = Box::new(
        |_: &torg_core::intake::AckFacts<'_>| {
            "Nordby kommune: Vi har mottatt meldingen din ({referanse}) og svarer innen to virkedager.".to_string()
        },
    );
    let pb = bar(messages as u64, "taking in SMS");
    let mut tasks = tokio::task::JoinSet::new();
    let ack = Arc::new(ack);
    for n in 0..messages {
        let (store, config, ack) = (store.clone(), config.clone(), ack.clone());
        tasks.spawn(async move {
            let from = format!("479{:07}", n);
            let text = format!("Hei, når tømmes søpla i gate nummer {n}?");
            let id = format!("bench-{n}");
            let sms = torg_core::sms::IncomingSms {
                from: &from,
                text: &text,
                gateway_id: Some(&id),
            };
            torg_core::sms::receive_sms(
                &*store,
                &config,
                &sms,
                torg_core::intake::IntakeLimits::default(),
                Timestamp::now(),
                Some(&**ack),
            )
            .await
        });
        while tasks.len() >= 64 {
            if let Some(r) = tasks.join_next().await {
                r??;
                pb.inc(1);
            }
        }
    }
    while let Some(r) = tasks.join_next().await {
        r??;
        pb.inc(1);
    }
    pb.finish_and_clear();
    // The network takes what Kannel sends, as a real SMSC would.
    let mut network = kannel.network().await;
    let arrived = Arc::new(AtomicU64::new(0));
    let counter = arrived.clone();
    tokio::spawn(async move {
        while network.receive(Duration::from_secs(120)).await.is_some() {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });
    let gateways: std::collections::HashMap<torg_domain::TenantId, torg_store::SmsGateway> = [(
        m.id,
        torg_store::SmsGateway {
            sendsms_url: kannel.sendsms_url(),
            username: USERNAME.into(),
            password: PASSWORD.into(),
            sender: SENDER.into(),
            inbound_key: String::new(),
        },
    )]
    .into();
    let client = reqwest::Client::new();
    let pb = bar(messages as u64, "handing SMS to Kannel");
    let t0 = Instant::now();
    let mut sent = 0usize;
    let mut segments = 0usize;
    while sent < messages {
        let r = torg_sms::kannel::send_due(
            &*store,
            &gateways,
            &Default::default(),
            &client,
            Timestamp::now(),
            1000,
            32,
        )
        .await?;
        if r.sent == 0 {
            bail!("Kannel took nothing: {r:?}");
        }
        sent += r.sent;
        segments += r.segments;
        pb.inc(r.sent as u64);
    }
    let handed = t0.elapsed();
    pb.finish_and_clear();
    let rate = messages as f64 / handed.as_secs_f64();
    println!(
        "handed to Kannel: {messages} SMS ({segments} segments) in {:.2} s: {rate:.0} per second",
        handed.as_secs_f64()
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while (arrived.load(Ordering::Relaxed) as usize) < messages && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let through = t0.elapsed();
    println!(
        "arrived at the fake SMSC: {} of {messages} after {:.2} s",
        arrived.load(Ordering::Relaxed),
        through.as_secs_f64()
    );
    println!(
        "{}",
        json!({"messages": messages, "handed_seconds": handed.as_secs_f64(), "per_second": rate,
               "arrived": arrived.load(Ordering::Relaxed), "arrived_seconds": through.as_secs_f64()})
    );
    Ok(())
}

/// A fresh SQLite database in `dir` with Nordby kommune (in `zone`) and its service desk.
async fn nordby(
    dir: &std::path::Path,
    zone: &str,
) -> Result<(Arc<dyn Store>, torg_store::Municipality, torg_store::Unit)> {
    let store: Arc<dyn Store> =
        Arc::new(torg_store_sql::SqliteStore::open(&dir.join("torg.db")).await?);
    let m = store
        .create_municipality(NewMunicipality {
            slug: "nordby".into(),
            name: "Nordby kommune".into(),
            time_zone: zone.into(),
            language: "nb".into(),
        })
        .await?;
    let desk = store
        .create_unit(m.id, "Servicetorget", true, false, None)
        .await?;
    Ok((store, m, desk))
}

/// Meta's documented payloads (the same files the tests use).
const FEED_COMMENT: &str =
    include_str!("../../torg-social/tests/payloads/facebook_feed_comment.json");
pub(crate) const MESSENGER_MESSAGE: &str =
    include_str!("../../torg-social/tests/payloads/messenger_message.json");

pub(crate) fn fill(template: &str, fields: &[(&str, &str)]) -> String {
    let mut text = template.to_string();
    for (k, v) in fields {
        text = text.replace(&format!("{{{k}}}"), v);
    }
    text
}

/// A Facebook page (`page`, its id) of `tenant`, approved in the channel registry, whose
/// webhooks are signed with `secret` and whose Graph API is at `api_base`; its secrets sealed
/// with `key` as `torg social add` seals them.
pub(crate) async fn add_facebook_page(
    store: &dyn Store,
    key: &torg_core::sealing::SecretKey,
    tenant: torg_domain::TenantId,
    page: &str,
    api_base: &str,
    secret: &str,
) -> Result<()> {
    use torg_core::sealing::Place;
    let now = Timestamp::now();
    let address = format!("https://facebook.com/{page}");
    let registry = store
        .propose_channel_account(
            tenant,
            &torg_store::NewChannelAccount {
                channel: Channel::Facebook,
                name: "Kommunens side".into(),
                address: address.clone(),
                owner_unit_id: None,
                purpose: "Informasjon og dialog".into(),
                ambition: torg_domain::registry::Ambition::Waiting,
                opening_hours: String::new(),
                proposed_by: None,
            },
            now,
            None,
        )
        .await?;
    store
        .decide_channel_account(
            tenant,
            registry.id,
            torg_domain::registry::AccountStatus::Approved,
            UserId(1),
            now,
            None,
        )
        .await?;
    let channel = "facebook";
    store
        .set_social_account(
            &torg_store::SocialAccount {
                tenant_id: tenant,
                channel: Channel::Facebook,
                account: page.into(),
                api_base: api_base.into(),
                access_token: key.seal(
                    &Place::SocialToken {
                        tenant,
                        channel,
                        account: page,
                    },
                    "unused",
                ),
                app_secret: key.seal(
                    &Place::SocialAppSecret {
                        tenant,
                        channel,
                        account: page,
                    },
                    secret,
                ),
                verify_token: "unused".into(),
                registry_address: address,
                cursor: String::new(),
                approved: false,
            },
            None,
        )
        .await?;
    Ok(())
}

/// `torg bench-webhooks`: a Torg web server in this process on SQLite; `clients` senders
/// post `events` signed Meta webhooks (four in five page comments, one in five Messenger
/// messages from 500 people, so conversations thread and are acknowledged) and every one
/// is checked, parsed and stored before its answer.
pub async fn webhooks(events: usize, clients: usize) -> Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; measure with 'cargo run --release -- bench-webhooks'"
        );
    }
    let dir = tempfile::tempdir()?;
    let (store, m, _) = nordby(dir.path(), "Europe/Oslo").await?;
    let key = torg_core::sealing::SecretKey::generate();
    let now = Timestamp::now();
    const SECRET: &str = "bench-app-secret";
    add_facebook_page(
        &*store,
        &key,
        m.id,
        "1000200030004",
        "http://127.0.0.1:9/v21.0",
        SECRET,
    )
    .await?;
    let catalog = Arc::new(torg_http::Catalog::load(None)?);
    let settings = torg_http::WebSettings {
        rate_limits: torg_http::RateLimits::OFF,
        secret_key: Some(key),
        ..Default::default()
    };
    let state = torg_http::AppState::new(store.clone(), catalog, settings);
    let app = torg_http::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/hooks/meta/nordby", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    // Signed in advance: the timing is Torg's, not the sender's.
    let seconds = now.as_second().to_string();
    let millis = now.as_millisecond().to_string();
    let bodies: Vec<(String, String)> = (0..events)
        .map(|n| {
            let body = if n % 5 == 4 && std::env::var("TORG_BENCH_COMMENTS_ONLY").is_err() {
                fill(
                    MESSENGER_MESSAGE,
                    &[
                        ("page_id", "1000200030004"),
                        ("user_id", &format!("77{:04}", n % 500)),
                        ("mid", &format!("bench{n}")),
                        ("time_ms", &millis),
                        (
                            "text",
                            &format!("Hei, jeg lurer på noe om eiendomsskatt nr. {n}"),
                        ),
                    ],
                )
            } else {
                fill(
                    FEED_COMMENT,
                    &[
                        ("page_id", "1000200030004"),
                        ("user_id", &format!("55{n}")),
                        ("post_id", &format!("{}", n % 40)),
                        ("comment_id", &format!("{n}")),
                        ("time", &seconds),
                        ("text", &format!("Når blir veien i Storgata {n} brøytet?")),
                    ],
                )
            };
            let signature = torg_social::meta::sign(SECRET.as_bytes(), body.as_bytes());
            (body, signature)
        })
        .collect();
    let bodies = Arc::new(bodies);
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicU64::new(0));
    let pb = bar(events as u64, "webhooks");
    let t0 = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients.max(1) {
        let (client, url, bodies, next, pb) = (
            client.clone(),
            url.clone(),
            bodies.clone(),
            next.clone(),
            pb.clone(),
        );
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some((body, signature)) = bodies.get(i) else {
                    return Ok::<(), anyhow::Error>(());
                };
                let res = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", signature)
                    .body(body.clone())
                    .send()
                    .await?;
                if !res.status().is_success() {
                    bail!("event {i} refused: {} {}", res.status(), res.text().await?);
                }
                pb.inc(1);
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    let took = t0.elapsed();
    pb.finish_and_clear();
    let stored = store.count_inquiries(m.id).await?;
    let rate = events as f64 / took.as_secs_f64();
    println!(
        "webhook intake: {events} signed events from {clients} senders in {:.2} s: {rate:.0} events per second ({stored} inquiries stored; Messenger messages threaded)",
        took.as_secs_f64()
    );
    println!(
        "{}",
        json!({"events": events, "clients": clients, "seconds": took.as_secs_f64(), "per_second": rate, "inquiries": stored})
    );
    Ok(())
}

/// Reads server-sent events from a response, calling `on_event(kind, data)` for each.
async fn read_events(mut res: reqwest::Response, mut on_event: impl FnMut(&str, &str)) {
    let mut buf = String::new();
    while let Ok(Some(chunk)) = res.chunk().await {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let mut kind = "message";
            let mut data = "";
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("event:") {
                    kind = v.trim();
                } else if let Some(v) = line.strip_prefix("data:") {
                    data = v.trim_start();
                }
            }
            if !data.is_empty() {
                on_event(kind, data);
            }
        }
    }
}

/// `torg bench-chat`: `chats` open conversations on a Torg web server in this process
/// (SQLite), each followed live by its citizen's page and a staff member's page (server-sent
/// events, 2 × `chats` streams). Every citizen writes `messages` messages about two seconds
/// apart; the time from sending a message to its arrival in the staff browser's stream is
/// measured, and p50/p95/p99 are printed.
pub async fn chat(chats: usize, messages: usize) -> Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: this is a debug build; measure with 'cargo run --release -- bench-chat'"
        );
    }
    let dir = tempfile::tempdir()?;
    // UTC has no holidays: the chat is open whenever the benchmark runs.
    let (store, m, desk) = nordby(dir.path(), "UTC").await?;
    let always = Some((jiff::civil::Time::MIN, jiff::civil::Time::MAX));
    store
        .set_scoped_opening_hours(
            m.id,
            torg_domain::calendar::HoursScope::Channel(Channel::Chat),
            &[always; 7],
            None,
        )
        .await?;
    let user = store
        .create_user(
            m.id,
            NewUser {
                email: None,
                username: "kari".into(),
                full_name: "Kari Servicetorget".into(),
                password_hash: "!".into(),
                password_set_by: None,
                role: Role::ServiceDesk,
                unit_id: Some(desk.id),
            },
            None,
        )
        .await?;
    let session = torg_core::secrets::new_token();
    store
        .create_session(torg_store::Session {
            token_hash: torg_core::secrets::token_hash(&session),
            tenant_id: m.id,
            user_id: user.id,
            csrf_token: torg_core::secrets::new_token(),
            expires_at: Timestamp::now() + SignedDuration::from_hours(2),
            last_seen_at: jiff::Timestamp::now(),
        })
        .await?;
    let catalog = Arc::new(torg_http::Catalog::load(None)?);
    let settings = torg_http::WebSettings {
        rate_limits: torg_http::RateLimits::OFF,
        ..Default::default()
    };
    let app = torg_http::router(torg_http::AppState::new(store.clone(), catalog, settings));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(chats * 2 + 64)
        .build()?;
    // Open the chats.
    let pb = bar(chats as u64, "opening chats");
    let mut opened = Vec::with_capacity(chats);
    for n in 0..chats {
        let res = client
            .post(format!("{base}/chat/nordby"))
            .form(&[
                ("name", format!("Innbygger {n}")),
                ("message", format!("Hei, jeg lurer på noe ({n})")),
            ])
            .send()
            .await?;
        let location = res
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .context("the chat did not start")?
            .to_string();
        let id: i64 = location
            .rsplit('/')
            .next()
            .and_then(|t| t.split('-').next())
            .and_then(|i| i.parse().ok())
            .context("no inquiry id in the chat address")?;
        opened.push((id, format!("{base}{location}")));
        pb.inc(1);
    }
    pb.finish_and_clear();

    // Every chat is followed by its citizen and by staff.
    let t0 = Instant::now();
    let latencies = Arc::new(std::sync::Mutex::new(Vec::<Duration>::with_capacity(
        chats * messages,
    )));
    let ready = Arc::new(AtomicU64::new(0));
    for (id, url) in &opened {
        let staff = client
            .get(format!(
                "{base}/staff/inquiries/{id}/events?after=999999999"
            ))
            .header("cookie", format!("torg_session={session}"))
            .send()
            .await?;
        if !staff.status().is_success() {
            bail!("staff stream refused: {}", staff.status());
        }
        let citizen = client
            .get(format!("{url}/events?after=999999999"))
            .send()
            .await?;
        ready.fetch_add(1, Ordering::Relaxed);
        let latencies = latencies.clone();
        tokio::spawn(read_events(staff, move |kind, data| {
            if kind != "message" {
                return;
            }
            // The body carries when it was sent, in µs since the start.
            let Some(sent) = data
                .split("sent=")
                .nth(1)
                .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|s| s.parse::<u64>().ok())
            else {
                return;
            };
            let now = t0.elapsed().as_micros() as u64;
            if let Ok(mut l) = latencies.lock() {
                l.push(Duration::from_micros(now.saturating_sub(sent)));
            }
        }));
        tokio::spawn(read_events(citizen, |_, _| {}));
    }
    println!(
        "{} chats open, each followed live by the citizen and by staff ({} event streams)",
        ready.load(Ordering::Relaxed),
        2 * chats
    );
    let pb = bar((chats * messages) as u64, "chat messages");
    let mut tasks = tokio::task::JoinSet::new();
    for (n, (_, url)) in opened.iter().enumerate() {
        let (client, url, pb) = (client.clone(), url.clone(), pb.clone());
        tasks.spawn(async move {
            // Spread the chats over the first two seconds, then one message every ~2 s.
            tokio::time::sleep(Duration::from_millis(
                (n as u64 * 2000) / chats.max(1) as u64,
            ))
            .await;
            for k in 0..messages {
                let sent = t0.elapsed().as_micros();
                let res = client
                    .post(&url)
                    .header("x-torg-live", "1")
                    .form(&[("body", format!("Melding {k} fra chat {n} sent={sent}"))])
                    .send()
                    .await?;
                if res.status() != reqwest::StatusCode::NO_CONTENT {
                    bail!("message refused: {}", res.status());
                }
                pb.inc(1);
                tokio::time::sleep(Duration::from_millis(1900 + (n as u64 * 37) % 200)).await;
            }
            Ok::<(), anyhow::Error>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    pb.finish_and_clear();
    // The last ones arrive.
    let expected = chats * messages;
    let deadline = Instant::now() + Duration::from_secs(10);
    while latencies.lock().map(|l| l.len()).unwrap_or(0) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut all = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    all.sort();
    if all.is_empty() {
        bail!("no message reached a staff stream");
    }
    let ms = |p: f64| percentile(&all, p);
    println!(
        "chat message to the staff browser, {chats} open chats, {} of {expected} messages: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        all.len(),
        ms(0.50),
        ms(0.95),
        ms(0.99),
        all.last()
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or_default()
    );
    println!(
        "{}",
        json!({"chats": chats, "messages": all.len(), "p50_ms": ms(0.5), "p95_ms": ms(0.95), "p99_ms": ms(0.99)})
    );
    Ok(())
}

/// `torg bench-archive`: a Noark 5 extract of `inquiries` closed, archive-worthy inquiries with
/// `per_inquiry` messages each (in, out, in, …), every tenth screened. The data is generated
/// with SQL straight into a fresh SQLite database (the store's own migrations made it); the
/// export is timed with its peak memory (VmHWM, reset before the export).
pub async fn archive(inquiries: u64, per_inquiry: u64) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let (store, m, desk) = nordby(dir.path(), "Europe/Oslo").await?;
    let generate = std::time::Instant::now();
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            sqlx::sqlite::SqliteConnectOptions::new()
                .filename(dir.path().join("torg.db"))
                .busy_timeout(std::time::Duration::from_secs(30)),
        )
        .await?;
    let start = Timestamp::from_second(1_767_254_400)?.as_millisecond(); // 2026-01-01T08:00Z
    let spread = 300_000 * 60_000 / inquiries.max(1) as i64; // over about 200 days
    let mut tx = pool.begin().await?;
    sqlx::query(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $1) \
         INSERT INTO inquiries (tenant_id, ref_year, ref_number, reference, channel, status, topic, subject, citizen_name, \
         contact_email, language, unit_id, priority, follow_token_hash, preview, received_at, first_answer_at, closed_at, deadline_at, updated_at) \
         SELECT $2, 2026, x, printf('2026-%06d', x), 'email', 'closed', 'building', 'Søknad om byggetillatelse nr. ' || x, \
         'Innbygger ' || x, 'innbygger' || x || '@example.no', 'nb', $3, 0, 'bench-' || x, 'Søknad om byggetillatelse', \
         $4 + x * $5, $4 + x * $5 + 3600000, $4 + x * $5 + 7200000, $4 + x * $5 + 172800000, $4 + x * $5 + 7200000 FROM n",
    )
    .bind(inquiries as i64)
    .bind(m.id.get())
    .bind(desk.id.get())
    .bind(start)
    .bind(spread)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "WITH RECURSIVE k(y) AS (SELECT 1 UNION ALL SELECT y + 1 FROM k WHERE y < $2) \
         INSERT INTO messages (tenant_id, inquiry_id, kind, author_name, body, created_at) \
         SELECT i.tenant_id, i.id, CASE WHEN y % 2 = 1 THEN 'inbound' ELSE 'outbound' END, \
         CASE WHEN y % 2 = 1 THEN i.citizen_name ELSE 'Per Saksbehandler' END, \
         CASE WHEN y % 2 = 1 THEN 'Hei! Jeg søker om tillatelse til å bygge en garasje på 40 m² på eiendommen min i Fjellveien ' || i.ref_number || \
           '. Tegninger og situasjonsplan er sendt tidligere. Naboene er varslet og har ikke merknader. Med vennlig hilsen ' || i.citizen_name \
         ELSE 'Vedtak: Søknaden om byggetillatelse er innvilget etter plan- og bygningsloven § 20-1. Vedtaket kan påklages innen tre uker fra det er mottatt. Med vennlig hilsen Per Saksbehandler, Byggesak' END, \
         i.received_at + (y - 1) * 1800000 \
         FROM inquiries i CROSS JOIN k WHERE i.tenant_id = $1 ORDER BY i.id, y",
    )
    .bind(m.id.get())
    .bind(per_inquiry as i64)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO archive_decisions (tenant_id, inquiry_id, decision, reasons, decided_at, screening_basis, screen_names) \
         SELECT tenant_id, id, 'archive', 'application,formal_answer', closed_at, \
         CASE WHEN id % 10 = 0 THEN 'personal_circumstances' END, CASE WHEN id % 10 = 0 THEN 1 ELSE 0 END \
         FROM inquiries WHERE tenant_id = $1",
    )
    .bind(m.id.get())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    pool.close().await;
    println!(
        "Generated {inquiries} inquiries with {} messages in {:.1} s.",
        inquiries * per_inquiry,
        generate.elapsed().as_secs_f64()
    );
    let spec = torg_archive::ExtractSpec {
        municipality: m,
        from: "2026-01-01".parse()?,
        to: "2026-12-31".parse()?,
        units: std::collections::HashMap::from([(desk.id, desk.name.clone())]),
        users: std::collections::HashMap::new(),
        now: Timestamp::now(),
        page: 500,
    };
    let pid = std::process::id();
    // Forget the generation's peak, so VmHWM is the export's.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let pb = bar(inquiries, "exporting");
    let out_dir = dir.path().join("uttrekk");
    let started = std::time::Instant::now();
    let out = torg_archive::export(&*store, &spec, &out_dir, &mut |p| match p {
        torg_archive::Progress::Started { cases } => pb.set_length(cases),
        torg_archive::Progress::Case { done } => pb.set_position(done),
    })
    .await?;
    let took = started.elapsed().as_secs_f64();
    pb.finish_and_clear();
    if std::env::var_os("TORG_BENCH_KEEP").is_some() {
        let kept = dir.keep();
        println!("Kept {}", kept.display());
    }
    let peak = rss_kib(pid, "VmHWM:").unwrap_or(0);
    let size: u64 = [
        "arkivstruktur.xml",
        "loependeJournal.xml",
        "offentligJournal.xml",
        "arkivuttrekk.xml",
    ]
    .iter()
    .filter_map(|f| std::fs::metadata(out_dir.join(f)).ok())
    .map(|m| m.len())
    .sum();
    println!(
        "Exported {} cases, {} journal posts, {} documents in {took:.1} s ({:.0} cases/s); peak memory {:.0} MB; XML {:.0} MB.",
        out.cases,
        out.journal_posts,
        out.documents,
        out.cases as f64 / took,
        peak as f64 / 1024.0,
        size as f64 / 1e6
    );
    Ok(())
}
