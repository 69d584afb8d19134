//! `torg-bench cluster`: several `torg serve` nodes on one PostgreSQL database behind a real
//! HAProxy (Debian's package), with generated municipalities, each with an API token and an
//! SMS gateway (a stand-in of Kannel's sendsms in this process, which counts what arrives).
//! Clients send citizens' SMS as Kannel delivers them (`/hooks/sms/…`; each becomes an
//! inquiry acknowledged by SMS through the outbox), read the portal and the API's lists, and,
//! signed in as staff, their inbox, all through the load balancer. With more
//! than one node, one node is killed with SIGKILL partway and started again. At the end:
//! every SMS taken must be an inquiry, every acknowledgement SMS must have arrived (those
//! that went twice are counted and reported), and the jobs that run once per installation
//! must have moved off the killed node within a minute.

use anyhow::{Context, Result, bail};
use axum::extract::{Query, State};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use torg_core::actor::Actor;
use torg_core::connectors::ConnectorPolicy;
use torg_core::sealing::SecretKey;
use torg_domain::connector::HostRules;
use torg_store::{NewMunicipality, Store};

const STAFF_PASSWORD: &str = "klynge-passord-123";

/// How many SMS arrived for each number.
type Arrived = Arc<Mutex<HashMap<String, u32>>>;

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Kannel's sendsms as the nodes call it: 202 "0: Accepted for delivery"; each message is
/// counted by its number.
async fn sendsms_standin(arrived: Arrived) -> Result<String> {
    async fn sendsms(
        State(a): State<Arrived>,
        Query(q): Query<HashMap<String, String>>,
    ) -> (axum::http::StatusCode, &'static str) {
        let to = q.get("to").cloned().unwrap_or_default();
        *a.lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(to)
            .or_default() += 1;
        (axum::http::StatusCode::ACCEPTED, "0: Accepted for delivery")
    }
    let app = axum::Router::new()
        .route("/cgi-bin/sendsms", axum::routing::get(sendsms))
        .with_state(arrived);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

fn start_node(torg: &Path, config: &Path, dir: &Path, url: &str, port: u16) -> Result<Child> {
    Command::new(torg)
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(dir)
        .arg("--database")
        .arg(url)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("serve")
        .env("TORG_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start torg serve")
}

async fn wait_ready(client: &reqwest::Client, port: u16) -> Result<()> {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(60) {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("a node on port {port} did not become ready")
}

/// HAProxy in front of `ports`: round robin, health checked every second, a request that
/// could not connect tried on another node.
fn start_haproxy(dir: &Path, port: u16, ports: &[u16]) -> Result<Child> {
    let servers: String = ports
        .iter()
        .enumerate()
        .map(|(i, p)| format!("    server node{i} 127.0.0.1:{p} check inter 1s fall 2 rise 1\n"))
        .collect();
    let cfg = format!(
        "global\n    maxconn 4096\n\ndefaults\n    mode http\n    timeout connect 2s\n    timeout client 30s\n    timeout server 30s\n    retries 2\n    option redispatch\n    retry-on conn-failure empty-response\n\nfrontend torg\n    bind 127.0.0.1:{port}\n    default_backend nodes\n\nbackend nodes\n    balance roundrobin\n    option httpchk GET /healthz\n{servers}"
    );
    let path = dir.join("haproxy.cfg");
    std::fs::write(&path, cfg)?;
    Command::new("haproxy")
        .arg("-db")
        .arg("-f")
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("HAProxy is needed (apt-get install haproxy)")
}

pub struct ClusterArgs {
    pub postgres: String,
    pub nodes: usize,
    pub municipalities: usize,
    pub seconds: u64,
    pub clients: usize,
}

pub async fn run(args: ClusterArgs) -> Result<()> {
    let torg = crate::bench::torg_binary()?;
    let dir: PathBuf = std::env::temp_dir().join(format!("torg-cluster-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let url = torg_store_sql::postgres::create_test_database(&args.postgres).await?;
    let pg = Arc::new(torg_store_sql::PostgresStore::connect(&url).await?);
    let store: Arc<dyn Store> = pg.clone();
    let arrived: Arrived = Arc::default();
    let sendsms = sendsms_standin(arrived.clone()).await?;

    // The municipalities, each with a service desk, a token and its SMS gateway, sealed
    // with the key the nodes read.
    let key = SecretKey::generate();
    std::fs::write(dir.join("secret.key"), key.to_hex())?;
    let policy = ConnectorPolicy {
        allow_plain_mail: true,
        hosts: HostRules::new(&["127.0.0.1".to_string()]),
    };
    let cli = Actor::cli();
    let closed_port = free_port()?;
    let bar = crate::bench::bar(args.municipalities as u64, "municipalities");
    let mut tenants = vec![];
    for i in 0..args.municipalities {
        let slug = format!("k{i:03}");
        let m = store
            .create_municipality(NewMunicipality {
                slug: slug.clone(),
                name: format!("Kommune {i}"),
                time_zone: "Europe/Oslo".into(),
                language: "nb".into(),
            })
            .await?;
        store
            .create_unit(m.id, "Servicetorget", true, false, None)
            .await?;
        let token = torg_core::secrets::new_token();
        crate::bench::add_token(&*store, m.id, "last", &token).await?;
        let set = torg_core::connectors::set_sms_gateway(
            &*store,
            &key,
            &policy,
            &cli,
            m.id,
            torg_core::connectors::SmsInput {
                url: format!("{sendsms}/cgi-bin/sendsms"),
                username: "torg".into(),
                password: Some("last-passord".into()),
                sender: "KOMMUNE".into(),
                new_key: true,
            },
        )
        .await?;
        // A mailbox too, so that the nodes share the reading of 400 mailboxes; its server is
        // a closed port here (each read is tried, fails at once and is recorded), since one
        // Dovecot account per municipality is not this benchmark's point.
        let closed = torg_core::connectors::ServerInput {
            host: "127.0.0.1".into(),
            port: closed_port,
            security: "plain".into(),
            user: slug.clone(),
            password: Some("last-passord".into()),
        };
        torg_core::connectors::set_mail_account(
            &*store,
            &key,
            &policy,
            &cli,
            m.id,
            &m.name,
            torg_core::connectors::MailInput {
                address: format!("post@{slug}.kommune.test"),
                imap: closed.clone(),
                smtp: closed,
                max_message_bytes: 10_000_000,
                ..Default::default()
            },
        )
        .await?;
        // Staff in the first municipalities, one per client, who read their inbox.
        if i < args.clients {
            store
                .create_user(
                    m.id,
                    torg_store::NewUser {
                        email: None,
                        username: "saksbehandler".into(),
                        full_name: "Siri Saksbehandler".into(),
                        password_hash: torg_core::secrets::hash_password(STAFF_PASSWORD)?,
                        password_set_by: None,
                        role: torg_domain::Role::ServiceDesk,
                        unit_id: None,
                    },
                    None,
                )
                .await?;
        }
        tenants.push((slug, token, set.gateway.inbound_key));
        bar.inc(1);
    }
    bar.finish_and_clear();

    // The nodes, behind HAProxy.
    // Many clients on one address: no rate limits.
    let config = dir.join("torg.toml");
    std::fs::write(
        &config,
        "rate_limit_api_per_second = 0\nrate_limit_portal_per_minute = 0\nrate_limit_hooks_per_minute = 0\n",
    )?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let ports: Vec<u16> = (0..args.nodes)
        .map(|_| free_port())
        .collect::<Result<_>>()?;
    let mut nodes: Vec<Child> = vec![];
    for &p in &ports {
        nodes.push(start_node(&torg, &config, &dir, &url, p)?);
    }
    for &p in &ports {
        wait_ready(&client, p).await?;
    }
    let lb = free_port()?;
    let mut haproxy = start_haproxy(&dir, lb, &ports)?;
    wait_ready(&client, lb).await?;
    println!(
        "{} nodes on PostgreSQL behind HAProxy, {} municipalities, {} clients for {} s",
        args.nodes, args.municipalities, args.clients, args.seconds
    );

    // The load: citizens' SMS (each an inquiry acknowledged by SMS), portal pages and API
    // lists. An SMS the hook answered 200 is taken (acknowledged to the gateway).
    let acknowledged: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let refused = Arc::new(AtomicU64::new(0));
    let reads = Arc::new(AtomicU64::new(0));
    let staff_reads = Arc::new(AtomicU64::new(0));
    let staff_errors = Arc::new(AtomicU64::new(0));
    let stop_at = Instant::now() + Duration::from_secs(args.seconds);
    let tenants = Arc::new(tenants);
    let mut clients = vec![];
    for c in 0..args.clients {
        let (client, tenants, acknowledged, refused, reads, staff_reads, staff_errors) = (
            client.clone(),
            tenants.clone(),
            acknowledged.clone(),
            refused.clone(),
            reads.clone(),
            staff_reads.clone(),
            staff_errors.clone(),
        );
        // Each client is also a member of staff of its own municipality, signed in through
        // the load balancer (the session is the database's: any node serves it).
        let staff = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()?;
        let base = format!("http://127.0.0.1:{lb}");
        crate::bench::staff_login(
            &staff,
            &base,
            &tenants[c % tenants.len()].0,
            "saksbehandler",
            STAFF_PASSWORD,
        )
        .await?;
        clients.push(tokio::spawn(async move {
            let mut n = 0usize;
            while Instant::now() < stop_at {
                let (slug, token, key) = &tenants[(c * 7919 + n) % tenants.len()];
                n += 1;
                if n.is_multiple_of(15) {
                    match staff.get(format!("{base}/staff")).send().await {
                        Ok(r) if r.status().is_success() => {
                            staff_reads.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            staff_errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    continue;
                }
                if n.is_multiple_of(5) {
                    let path = if n.is_multiple_of(10) {
                        format!("{base}/k/{slug}")
                    } else {
                        format!("{base}/api/v1/inquiries?limit=20")
                    };
                    if let Ok(r) = client.get(path).bearer_auth(token).send().await
                        && r.status().is_success()
                    {
                        reads.fetch_add(1, Ordering::Relaxed);
                    }
                    continue;
                }
                // Each message from a number of its own (4790000000 + client and count), as
                // Kannel writes numbers.
                let from = format!("479{:07}", c * 200_000 + n);
                let id = format!("last-{c}-{n}");
                let res = client
                    .get(format!("{base}/hooks/sms/{slug}"))
                    .query(&[
                        ("key", key.as_str()),
                        ("from", from.as_str()),
                        ("text", &format!("Når tømmes søpla? ({id})")),
                        ("id", id.as_str()),
                    ])
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status() == 200 => {
                        acknowledged
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push((slug.clone(), from.clone()));
                    }
                    _ => {
                        refused.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }));
    }

    // Partway, the node holding the most leases (mailboxes and jobs) is killed, and started
    // again.
    let mut takeover = None;
    if args.nodes > 1 {
        tokio::time::sleep(Duration::from_secs(args.seconds / 3)).await;
        let holders = store.job_holders().await?;
        let held_by = |n: &Child| {
            let pid = format!(":{}", n.id());
            holders.iter().filter(|h| h.holder.ends_with(&pid)).count()
        };
        let victim = (0..nodes.len())
            .max_by_key(|&k| held_by(&nodes[k]))
            .unwrap_or(0);
        let mailboxes = holders
            .iter()
            .filter(|h| h.job.starts_with("mail:"))
            .count();
        let dead_pid = nodes[victim].id();
        let its: Vec<String> = holders
            .iter()
            .filter(|h| h.holder.ends_with(&format!(":{dead_pid}")) && !h.job.starts_with("node:"))
            .map(|h| h.job.clone())
            .collect();
        nodes[victim].kill()?;
        nodes[victim].wait()?;
        let killed = Instant::now();
        let killed_at = jiff::Timestamp::now();
        println!(
            "  node {victim} killed with SIGKILL, holding {} of {} leases ({} mailboxes shared in all)",
            its.len(),
            holders.len(),
            mailboxes
        );
        let dead = format!(":{dead_pid}");
        let moved = loop {
            let now = jiff::Timestamp::now();
            let holders = store.job_holders().await?;
            let work: Vec<_> = holders
                .iter()
                .filter(|h| !h.job.starts_with("node:"))
                .collect();
            if work
                .iter()
                .all(|h| h.expires_at > now && !h.holder.ends_with(&dead))
            {
                break killed.elapsed();
            }
            if killed.elapsed() > Duration::from_secs(90) {
                bail!("the jobs were not taken over within 90 s: {holders:?}");
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        // Every mailbox read again (tried: its status written after the kill).
        let read_again = loop {
            let statuses = store.connector_statuses(None).await?;
            let fresh = statuses
                .iter()
                .filter(|s| s.connector == "imap" && s.at > killed_at)
                .count();
            if fresh >= args.municipalities {
                break killed.elapsed();
            }
            if killed.elapsed() > Duration::from_secs(90) {
                bail!(
                    "only {fresh} of {} mailboxes were read again within 90 s",
                    args.municipalities
                );
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        println!(
            "  every mailbox read again {:.1} s after the kill",
            read_again.as_secs_f64()
        );
        takeover = Some(moved);
        println!(
            "  every job taken over {:.1} s after the kill",
            moved.as_secs_f64()
        );
        nodes[victim] = start_node(&torg, &config, &dir, &url, ports[victim])?;
        wait_ready(&client, ports[victim]).await?;
        println!(
            "  node {victim} started again, {:.1} s after the kill",
            killed.elapsed().as_secs_f64()
        );
    }
    for c in clients {
        let _ = c.await;
    }
    let acknowledged = acknowledged
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let creates = acknowledged.len();
    println!(
        "  {creates} citizens' SMS taken ({:.0} per second), {} refused or cut off, {} portal and API reads, {} staff inbox pages ({} failed)",
        creates as f64 / args.seconds as f64,
        refused.load(Ordering::Relaxed),
        reads.load(Ordering::Relaxed),
        staff_reads.load(Ordering::Relaxed),
        staff_errors.load(Ordering::Relaxed)
    );

    // Every SMS taken is an inquiry, every acknowledgement SMS sent once.
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inquiries WHERE channel = 'sms'")
        .fetch_one(pg.pool())
        .await?;
    let lost = acknowledged.len().saturating_sub(stored as usize);
    let wait = Instant::now();
    let (mut missing, mut doubled);
    loop {
        let seen = arrived.lock().unwrap_or_else(|e| e.into_inner()).clone();
        missing = acknowledged
            .iter()
            .filter(|(_, phone)| !seen.contains_key(phone))
            .count();
        doubled = seen.values().filter(|n| **n > 1).count();
        if missing == 0 || wait.elapsed() > Duration::from_secs(120) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    println!(
        "  lost inquiries: {lost}; acknowledgements missing: {missing}, sent twice: {doubled} (all sent {:.1} s after the load)",
        wait.elapsed().as_secs_f64()
    );
    let _ = haproxy.kill();
    let _ = haproxy.wait();
    for mut n in nodes {
        let _ = n.kill();
        let _ = n.wait();
    }
    let _ = std::fs::remove_dir_all(&dir);
    if lost > 0 || missing > 0 {
        bail!("lost {lost}, acknowledgements missing {missing}");
    }
    if doubled > 0 {
        // Kannel takes no idempotency key: an SMS sent by the killed node and not yet marked
        // (at most one marking batch per sender) goes again. Reported, not hidden.
        println!(
            "  note: {doubled} acknowledgement(s) went twice — sent by the killed node in its last \
             moment, before they were marked sent"
        );
    }
    if let Some(t) = takeover
        && t > Duration::from_secs(60)
    {
        bail!(
            "the jobs took {:.0} s to move (at most 60)",
            t.as_secs_f64()
        );
    }
    Ok(())
}
