//! `torg-bench crisis`: a crisis message to every subscriber of a municipality. The
//! subscribers (half by email, half by SMS, all in the crisis's area) are generated with SQL
//! into a fresh SQLite database; then `torg crisis start` runs as its own process, timed
//! from its start until it exits (the alert committed in the outbox for every subscriber),
//! with its peak memory. With `torg serve` running on the same database, the time from the
//! command's start until the portal shows the banner and the CAP feed has the alert.

use anyhow::{Context, Result, bail};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use torg_store::{Area, NewMunicipality, Store};

fn torg() -> Result<std::path::PathBuf> {
    let path = match std::env::var_os("TORG_BIN") {
        Some(p) => std::path::PathBuf::from(p),
        None => std::env::current_exe()?.with_file_name("torg"),
    };
    if !path.exists() {
        bail!(
            "{} is missing; build it with 'cargo build --release -p torg -p torg-bench'",
            path.display()
        );
    }
    Ok(path)
}

fn kib(pid: u32, field: &str) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()?
        .lines()
        .find(|l| l.starts_with(field))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// A database with `subscribers` confirmed subscribers of Sentrum in `dir`.
async fn generate(dir: &std::path::Path, subscribers: u64) -> Result<()> {
    let store = torg_store_sql::SqliteStore::open(&dir.join("torg.db")).await?;
    let s: &dyn Store = &store;
    let m = s
        .create_municipality(NewMunicipality {
            slug: "benk".into(),
            name: "Benk kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await?;
    s.create_unit(m.id, "Servicetorget", true, false, None)
        .await?;
    let area = s
        .put_area(
            m.id,
            &Area {
                id: 0,
                name: "Sentrum".into(),
                polygon: vec![
                    (10.78, 59.70),
                    (10.83, 59.70),
                    (10.83, 59.73),
                    (10.78, 59.70),
                ],
                postcodes: vec!["1400".into()],
            },
            None,
        )
        .await?;
    torg_core::crisis::ensure_templates(s, &m).await?;
    sqlx::query(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $1) \
         INSERT INTO subscribers (tenant_id, medium, address, token, topics, areas, language, consent, confirmed_at, asked_at, asked_count, test_recipient, created_at) \
         SELECT $2, CASE WHEN x % 2 = 0 THEN 'email' ELSE 'sms' END, \
                CASE WHEN x % 2 = 0 THEN 'innbygger' || x || '@example.no' ELSE '+479' || printf('%07d', x) END, \
                lower(hex(randomblob(32))), '', $3, 'nb', 'bench', 1, 1, 0, 0, 1 FROM n",
    )
    .bind(subscribers as i64)
    .bind(m.id.get())
    .bind(area.id.to_string())
    .execute(store.pool())
    .await?;
    sqlx::query("ANALYZE").execute(store.pool()).await?;
    Ok(())
}

/// Runs `torg crisis start` on the database: (seconds until it exited, its peak RSS in MiB).
fn declare(dir: &std::path::Path, drill: bool) -> Result<(f64, f64, Instant)> {
    let started = Instant::now();
    let mut cmd = Command::new(torg()?);
    cmd.arg("--data-dir")
        .arg(dir)
        .args([
            "crisis",
            "start",
            "--municipality",
            "benk",
            "--template",
            "water",
        ])
        .args(["--area", "Sentrum", "--text", "E. coli i nettet."])
        .env("TORG_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if drill {
        cmd.arg("--drill");
    }
    let mut child = cmd.spawn().context("cannot start torg crisis start")?;
    let pid = child.id();
    let mut peak = 0;
    let status = loop {
        if let Some(v) = kib(pid, "VmHWM:") {
            peak = peak.max(v);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    if !status.success() {
        bail!("torg crisis start failed: {status}");
    }
    Ok((
        started.elapsed().as_secs_f64(),
        peak as f64 / 1024.0,
        started,
    ))
}

pub async fn run(subscribers: u64, runs: usize) -> Result<()> {
    let mut queued = vec![];
    let mut memory = vec![];
    let mut banner = vec![];
    for run in 0..runs {
        let dir = tempfile::tempdir()?;
        let t = Instant::now();
        generate(dir.path(), subscribers).await?;
        eprintln!(
            "run {}: {subscribers} subscribers generated in {:.1} s",
            run + 1,
            t.elapsed().as_secs_f64()
        );
        // The server on the same database, for the banner and the feed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut server = Command::new(torg()?)
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("serve")
            .env("TORG_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let client = reqwest::Client::new();
        let portal = format!("http://127.0.0.1:{port}/k/benk");
        for _ in 0..200 {
            if client.get(&portal).send().await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // The command runs on a thread of its own while the portal is asked.
        let path = dir.path().to_path_buf();
        let command = tokio::task::spawn_blocking(move || declare(&path, false));
        let asked = Instant::now();
        let mut shown = None;
        while asked.elapsed() < Duration::from_secs(60) {
            let page = client.get(&portal).send().await?.text().await?;
            if page.contains("crisis-banner") {
                let feed = client
                    .get(format!("{portal}/cap.atom"))
                    .send()
                    .await?
                    .text()
                    .await?;
                if feed.contains("/cap/") {
                    shown = Some(asked.elapsed().as_secs_f64());
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (secs, mib, _) = command.await??;
        let _ = server.kill();
        let _ = server.wait();
        let shown = shown.context("the banner never showed")?;
        eprintln!(
            "run {}: queued for {subscribers} in {secs:.2} s, peak {mib:.0} MiB; banner and CAP after {shown:.2} s",
            run + 1
        );
        queued.push(secs);
        memory.push(mib);
        banner.push(shown);
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (q, m, b) = (
        median(&mut queued),
        median(&mut memory),
        median(&mut banner),
    );
    println!(
        "crisis message to {subscribers} subscribers (median of {runs}): queued in the outbox {q:.2} s after the command, peak memory {m:.0} MiB; banner and CAP alert on the portal {b:.2} s after the command"
    );
    println!(
        "{}",
        serde_json::json!({"subscribers": subscribers, "runs": runs, "queued_s": q, "peak_mib": m, "banner_s": b})
    );
    Ok(())
}
