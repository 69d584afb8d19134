//! Tests of the `torg` binary as users run it: start, demo data, Ctrl-C, and a SIGKILL in
//! the middle of writes that must lose nothing acknowledged. SQLite always; PostgreSQL when
//! TORG_TEST_POSTGRES_URL is set.

use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use torg_domain::InquiryId;

const TORG: &str = env!("CARGO_BIN_EXE_torg");

fn torg(data_dir: &Path, database: Option<&str>, args: &[&str]) -> String {
    let mut cmd = Command::new(TORG);
    cmd.arg("--data-dir").arg(data_dir);
    if let Some(db) = database {
        cmd.arg("--database").arg(db);
    }
    let out = cmd
        .args(args)
        .env("TORG_LOG", "warn")
        .output()
        .expect("run torg");
    assert!(
        out.status.success(),
        "torg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A fresh PostgreSQL database of the server TORG_TEST_POSTGRES_URL names; none (skipped,
/// said) when it is not set.
async fn fresh_postgres() -> Option<String> {
    let Ok(admin) = std::env::var("TORG_TEST_POSTGRES_URL") else {
        eprintln!("TORG_TEST_POSTGRES_URL is not set: skipping PostgreSQL (.ci/run sets it)");
        return None;
    };
    Some(
        torg_store_sql::postgres::create_test_database(&admin)
            .await
            .expect("PostgreSQL must be reachable"),
    )
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn start(data_dir: &Path, database: Option<&str>, port: u16, extra: &[&str]) -> Child {
    let mut cmd = Command::new(TORG);
    cmd.arg("--data-dir")
        .arg(data_dir)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"));
    if let Some(db) = database {
        cmd.arg("--database").arg(db);
    }
    cmd.arg("serve")
        .args(extra)
        .env("TORG_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start torg")
}

async fn wait_ready(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    let client = http_client();
    while Instant::now() < deadline {
        if let Ok(r) = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await
            && r.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("torg did not become ready on port {port}");
}

fn setup_tenant(data_dir: &Path, database: Option<&str>) -> String {
    torg(
        data_dir,
        database,
        &[
            "municipality",
            "create",
            "--slug",
            "krasj",
            "--name",
            "Krasj kommune",
        ],
    );
    torg(
        data_dir,
        database,
        &[
            "unit",
            "create",
            "--municipality",
            "krasj",
            "--name",
            "Servicetorget",
            "--service-desk",
        ],
    );
    torg(
        data_dir,
        database,
        &[
            "token",
            "create",
            "--municipality",
            "krasj",
            "--name",
            "krasjtest",
        ],
    )
    .trim()
    .to_string()
}

async fn all_inquiries(port: u16, token: &str) -> BTreeMap<i64, String> {
    let client = http_client();
    let mut found = BTreeMap::new();
    let mut cursor = String::new();
    loop {
        let page: Value = client
            .get(format!(
                "http://127.0.0.1:{port}/api/v1/inquiries?status=any&limit=500&cursor={cursor}"
            ))
            .bearer_auth(token)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        for item in page["items"].as_array().expect("items") {
            let r = &item["reference"];
            found.insert(
                item["id"].as_i64().expect("id"),
                format!("{}-{:06}", r["year"], r["number"].as_i64().unwrap_or(0)),
            );
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => return found,
        }
    }
}

async fn nothing_acknowledged_is_lost(database: Option<String>) {
    let dir = tempfile::tempdir().expect("tmp");
    let db = database.as_deref();
    let token = setup_tenant(dir.path(), db);
    let port = free_port();
    let mut server = start(dir.path(), db, port, &[]);
    wait_ready(port).await;

    let acknowledged: Arc<Mutex<BTreeMap<i64, String>>> = Arc::default();
    let mut clients = vec![];
    for c in 0..8 {
        let acknowledged = acknowledged.clone();
        let token = token.clone();
        clients.push(tokio::spawn(async move {
            let client = http_client();
            for n in 0.. {
                let body = json!({"citizen_name": "Ola", "email": "ola@example.no", "body": format!("klient {c} nummer {n}")});
                let res = client.post(format!("http://127.0.0.1:{port}/api/v1/inquiries")).bearer_auth(&token).json(&body).send().await;
                let Ok(res) = res else { break };
                if res.status() != 201 {
                    break;
                }
                let Ok(v) = res.json::<Value>().await else { break };
                let r = &v["inquiry"]["reference"];
                let reference = format!("{}-{:06}", r["year"], r["number"].as_i64().unwrap_or(0));
                acknowledged.lock().expect("lock").insert(v["inquiry"]["id"].as_i64().expect("id"), reference);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill().expect("SIGKILL");
    server.wait().expect("reaped");
    for c in clients {
        let _ = c.await;
    }
    let acknowledged = acknowledged.lock().expect("lock").clone();
    assert!(
        acknowledged.len() > 20,
        "the load ran: {} acknowledged",
        acknowledged.len()
    );

    let port = free_port();
    let mut server = start(dir.path(), db, port, &[]);
    wait_ready(port).await;
    let stored = all_inquiries(port, &token).await;
    for (id, reference) in &acknowledged {
        assert_eq!(
            stored.get(id),
            Some(reference),
            "acknowledged inquiry {reference} (id {id}) survived the crash"
        );
    }
    server.kill().expect("kill");
    let _ = server.wait();
    eprintln!(
        "{} acknowledged, {} stored after SIGKILL",
        acknowledged.len(),
        stored.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_on_sigkill_sqlite() {
    nothing_acknowledged_is_lost(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_acknowledged_is_lost_on_sigkill_postgres() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    nothing_acknowledged_is_lost(Some(url)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_starts_once_and_ctrl_c_stops_cleanly() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("nested").join("data");
    let port = free_port();
    let server = start(&data, None, port, &["--demo"]);
    wait_ready(port).await;
    assert!(
        data.join("torg.db").exists(),
        "the data directory and database are created"
    );
    let status = Command::new("kill")
        .arg("-INT")
        .arg(server.id().to_string())
        .status()
        .expect("kill");
    assert!(status.success());
    let out = server.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "exits cleanly on Ctrl-C: {:?}",
        out.status
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("admin"),
        "staff and passwords printed once: {stdout}"
    );
    assert!(stdout.contains("Torg stopped."));

    let again = torg(&data, None, &["demo"]);
    assert!(again.contains("exists already"), "{again}");
    let store = torg_store_sql::open(data.join("torg.db").to_str().expect("path"))
        .await
        .expect("open");
    let demo = store
        .municipality_by_slug("demo")
        .await
        .expect("get")
        .expect("demo exists");
    assert_eq!(
        store.count_inquiries(demo.id).await.expect("count"),
        303,
        "nothing added twice (300 inquiries and 3 cases judged archive-worthy)"
    );
    let units: Vec<String> = store
        .list_units(demo.id)
        .await
        .expect("units")
        .into_iter()
        .map(|u| u.name)
        .collect();
    for u in [
        "Servicetorget",
        "Oppvekst",
        "Teknisk drift",
        "Helse og omsorg",
        "Kommunikasjon",
    ] {
        assert!(units.contains(&u.to_string()), "{u}");
    }
    let statuses: std::collections::HashSet<_> = store
        .list_inquiries(
            demo.id,
            &torg_store::InquiryFilter {
                status: torg_store::StatusFilter::Any,
                ..Default::default()
            },
            None,
            500,
        )
        .await
        .expect("list")
        .into_iter()
        .map(|s| s.status)
        .collect();
    assert!(statuses.len() >= 3, "spread over statuses: {statuses:?}");
}

#[test]
fn bad_configuration_says_what_to_do() {
    let out = Command::new(TORG)
        .args(["--listen", "nowhere", "migrate"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("127.0.0.1:8080"));
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new(TORG)
        .arg("--data-dir")
        .arg(dir.path())
        .args(["token", "create", "--municipality", "ukjent", "--name", "x"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("torg municipality list"));
}

#[test]
fn single_sign_on_and_sensitive_units_from_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    torg(
        d,
        None,
        &[
            "municipality",
            "create",
            "--slug",
            "nordby",
            "--name",
            "Nordby kommune",
        ],
    );
    let out = torg(
        d,
        None,
        &[
            "unit",
            "create",
            "--municipality",
            "nordby",
            "--name",
            "Barnevern",
            "--sensitive",
        ],
    );
    assert!(out.contains("Barnevern"));
    let out = Command::new(TORG)
        .arg("--data-dir")
        .arg(d)
        .args([
            "sso",
            "set",
            "--municipality",
            "nordby",
            "--issuer",
            "https://login.nordby.no",
            "--client-id",
            "torg",
            "--role-map",
            "sjef=boss",
        ])
        .env("TORG_SSO_CLIENT_SECRET", "hemmelig")
        .output()
        .expect("run");
    assert!(!out.status.success(), "an unknown role is refused");
    assert!(String::from_utf8_lossy(&out.stderr).contains("claim-value=role"));
    let out = Command::new(TORG)
        .arg("--data-dir")
        .arg(d)
        .args([
            "sso",
            "set",
            "--municipality",
            "nordby",
            "--issuer",
            "https://login.nordby.no",
            "--client-id",
            "torg",
            "--role-claim",
            "groups",
            "--role-map",
            "torg-admin=administrator",
        ])
        .env("TORG_SSO_CLIENT_SECRET", "hemmelig")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = torg(d, None, &["sso", "show", "--municipality", "nordby"]);
    assert!(shown.contains("https://login.nordby.no") && shown.contains("groups"));
    assert!(!shown.contains("hemmelig"), "the secret is never printed");
    let db = std::fs::read(d.join("torg.db")).expect("db");
    let wal = std::fs::read(d.join("torg.db-wal")).unwrap_or_default();
    assert!(
        !db.windows(8)
            .chain(wal.windows(8))
            .any(|w| w == b"hemmelig"),
        "the client secret is sealed at rest"
    );
    torg(d, None, &["sso", "remove", "--municipality", "nordby"]);
    assert!(
        torg(d, None, &["sso", "show", "--municipality", "nordby"]).contains("no single sign-on")
    );
    // Both changes are in the audit log, which verifies.
    let log = torg(d, None, &["audit", "export", "--municipality", "nordby"]);
    assert_eq!(log.matches("settings.sso").count(), 2, "{log}");
    assert!(torg(d, None, &["audit", "verify", "--municipality", "nordby"]).contains("intact"));
}

#[test]
fn mail_settings_keep_passwords_sealed() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    torg(
        d,
        None,
        &[
            "municipality",
            "create",
            "--slug",
            "nordby",
            "--name",
            "Nordby kommune",
        ],
    );
    let port = free_port().to_string();
    let out = Command::new(TORG)
        .arg("--data-dir")
        .arg(d)
        .args([
            "mail",
            "set",
            "--municipality",
            "nordby",
            "--address",
            "postmottak@nordby.kommune.no",
            "--imap-host",
            "127.0.0.1",
            "--imap-port",
            &port,
            "--imap-security",
            "starttls",
            "--imap-user",
            "postmottak",
            "--smtp-host",
            "127.0.0.1",
            "--smtp-port",
            &port,
            "--smtp-security",
            "starttls",
        ])
        .env("TORG_IMAP_PASSWORD", "superhemmelig-imap")
        .env("TORG_SMTP_PASSWORD", "superhemmelig-smtp")
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Neither the database nor `mail show` holds the passwords in the clear.
    let mut db = std::fs::read(d.join("torg.db")).expect("db");
    if let Ok(wal) = std::fs::read(d.join("torg.db-wal")) {
        db.extend(wal);
    }
    let text = String::from_utf8_lossy(&db);
    assert!(!text.contains("superhemmelig"), "sealed at rest");
    assert!(d.join("secret.key").exists());
    let shown = torg(d, None, &["mail", "show", "--municipality", "nordby"]);
    assert!(shown.contains("postmottak@nordby.kommune.no") && !shown.contains("superhemmelig"));
    // Nothing listens there: the check says so and fails.
    let out = Command::new(TORG)
        .arg("--data-dir")
        .arg(d)
        .args(["mail", "check", "--municipality", "nordby"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        all.contains("IMAP 127.0.0.1") && all.contains("check host, port, security and password"),
        "{all}"
    );
    // A wrong security word is refused with what to write.
    let out = Command::new(TORG)
        .arg("--data-dir")
        .arg(d)
        .args([
            "mail",
            "set",
            "--municipality",
            "nordby",
            "--address",
            "postmottak@nordby.kommune.no",
            "--imap-host",
            "x",
            "--imap-security",
            "ssl",
            "--imap-user",
            "u",
            "--smtp-host",
            "x",
        ])
        .env("TORG_IMAP_PASSWORD", "x")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("tls, starttls eller plain"),
        "the administration page's words"
    );
    // Unencrypted mail only where the operator allows it (allow_plain_mail).
    let out = Command::new(TORG)
        .arg("--data-dir")
        .arg(d)
        .args([
            "mail",
            "set",
            "--municipality",
            "nordby",
            "--address",
            "postmottak@nordby.kommune.no",
            "--imap-host",
            "127.0.0.1",
            "--imap-security",
            "plain",
            "--imap-user",
            "u",
            "--smtp-host",
            "127.0.0.1",
        ])
        .env("TORG_IMAP_PASSWORD", "x")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("allow_plain_mail"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn routing_rules_and_canned_replies_from_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    torg(
        d,
        None,
        &[
            "municipality",
            "create",
            "--slug",
            "nordby",
            "--name",
            "Nordby kommune",
        ],
    );
    torg(
        d,
        None,
        &[
            "unit",
            "create",
            "--municipality",
            "nordby",
            "--name",
            "Servicetorget",
            "--service-desk",
        ],
    );
    torg(
        d,
        None,
        &[
            "unit",
            "create",
            "--municipality",
            "nordby",
            "--name",
            "Oppvekst",
        ],
    );
    torg(
        d,
        None,
        &[
            "rule",
            "add",
            "--municipality",
            "nordby",
            "--unit",
            "oppvekst",
            "--keyword",
            "barnehage",
            "--position",
            "1",
        ],
    );
    let list = torg(d, None, &["rule", "list", "--municipality", "nordby"]);
    assert!(
        list.contains("keyword=barnehage") && list.contains("Oppvekst"),
        "{list}"
    );
    let out = Command::new(TORG)
        .arg("--data-dir")
        .arg(d)
        .args([
            "rule",
            "add",
            "--municipality",
            "nordby",
            "--unit",
            "Oppvekst",
        ])
        .output()
        .expect("run");
    assert!(
        !out.status.success(),
        "a rule without conditions is refused"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--keyword"));
    let added = torg(
        d,
        None,
        &[
            "canned",
            "add",
            "--municipality",
            "nordby",
            "--title",
            "Takk",
            "--body",
            "Hei {navn}! Saken vedrørende søknaden skal behandles snart.",
        ],
    );
    assert!(added.contains("Takk"));
    // Advice on the text staff will send again and again.
    assert!(added.contains("Plain language: LIX"), "{added}");
    assert!(added.contains("jargon: \"vedrørende\" → om"), "{added}");
    assert!(added.contains("passive: \"behandles\""), "{added}");
}

/// `torg plain-language`: the figures, then one JSON line per finding with byte offsets into
/// the text as given; a bad language is refused with what to write.
#[test]
fn plain_language_from_the_cli() {
    use std::io::Write;
    let text = "Søknaden skal behandles i henhold til loven. Jeg vet ikke hva som skjer.";
    let run = |args: &[&str]| {
        let mut child = Command::new(TORG)
            .arg("plain-language")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes())
            .expect("write");
        child.wait_with_output().expect("run")
    };
    let out = run(&["--language", "nb", "--standard", "nn"]);
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines[0]["words"], 13);
    assert_eq!(lines[0]["sentences"], 2);
    assert!(lines[0]["lix"].as_f64().is_some_and(|l| l > 0.0));
    let found: Vec<(String, String)> = lines[1..]
        .iter()
        .map(|f| {
            let (s, e) = (
                f["start"].as_u64().expect("start"),
                f["end"].as_u64().expect("end"),
            );
            (
                f["kind"].as_str().expect("kind").to_string(),
                text[s as usize..e as usize].to_string(),
            )
        })
        .collect();
    for expected in [
        ("passive", "behandles"),
        ("jargon", "i henhold til"),
        ("written_standard", "Jeg"),
        ("written_standard", "ikke"),
    ] {
        assert!(
            found.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} in {found:?}"
        );
    }
    let bad = run(&["--language", "de"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not nb, nn or sv"));
}

#[test]
fn holidays_and_deadlines_from_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let no = torg(d, None, &["holidays", "--country", "NO", "--year", "2026"]);
    assert!(
        no.contains(r#"{"date":"2026-04-02","name":"Skjærtorsdag"}"#),
        "{no}"
    );
    assert_eq!(no.lines().count(), 12);
    let se = torg(d, None, &["holidays", "--country", "se", "--year", "2026"]);
    assert!(
        se.contains(r#"{"date":"2026-06-20","name":"Midsommardagen"}"#),
        "{se}"
    );
    torg(
        d,
        None,
        &[
            "municipality",
            "create",
            "--slug",
            "nordby",
            "--name",
            "Nordby kommune",
        ],
    );
    torg(
        d,
        None,
        &[
            "unit",
            "create",
            "--municipality",
            "nordby",
            "--name",
            "Servicetorget",
            "--service-desk",
        ],
    );
    // Default for email: the end of the second working day; Christmas and a Sunday between.
    let due = torg(
        d,
        None,
        &[
            "deadline",
            "--municipality",
            "nordby",
            "--channel",
            "email",
            "--received",
            "2026-12-23T15:00",
        ],
    );
    assert_eq!(due.trim(), "2026-12-28T15:30:00+01:00");
    torg(
        d,
        None,
        &[
            "policy",
            "add",
            "--municipality",
            "nordby",
            "--channel",
            "email",
            "--policy",
            "working_hours:4",
        ],
    );
    let due = torg(
        d,
        None,
        &[
            "deadline",
            "--municipality",
            "nordby",
            "--channel",
            "email",
            "--received",
            "2026-12-23T15:00",
        ],
    );
    assert_eq!(due.trim(), "2026-12-24T11:30:00+01:00");
    // The municipality's own calendar: closed on the 24th, Saturday hours.
    let out = torg(
        d,
        None,
        &[
            "hours",
            "close",
            "--municipality",
            "nordby",
            "--date",
            "2026-12-24",
            "--note",
            "Julaften",
        ],
    );
    assert!(
        out.contains("closed on 2026-12-24") && out.contains("Recomputed deadlines"),
        "{out}"
    );
    let due = torg(
        d,
        None,
        &[
            "deadline",
            "--municipality",
            "nordby",
            "--channel",
            "email",
            "--received",
            "2026-12-23T15:00",
        ],
    );
    assert_eq!(
        due.trim(),
        "2026-12-28T11:30:00+01:00",
        "3.5 working hours move past the closed 24th"
    );
    torg(
        d,
        None,
        &[
            "hours",
            "set",
            "--municipality",
            "nordby",
            "--weekly",
            "mon-fri 08:00-15:30; sat 10:00-14:00",
        ],
    );
    let due = torg(
        d,
        None,
        &[
            "deadline",
            "--municipality",
            "nordby",
            "--channel",
            "email",
            "--received",
            "2026-12-23T15:00",
        ],
    );
    assert_eq!(
        due.trim(),
        "2026-12-28T11:30:00+01:00",
        "Saturday 26th is a holiday: still Monday"
    );
    torg(
        d,
        None,
        &[
            "user",
            "create",
            "--municipality",
            "nordby",
            "--username",
            "kari",
            "--name",
            "Kari N",
            "--role",
            "service_desk",
            "--password",
            "et langt nok passord",
        ],
    );
    torg(
        d,
        None,
        &[
            "user",
            "create",
            "--municipality",
            "nordby",
            "--username",
            "siri",
            "--name",
            "Siri L",
            "--role",
            "communication",
            "--password",
            "et langt nok passord",
        ],
    );
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Oslo").expect("tz"))
        .date()
        .to_string();
    let planned = torg(
        d,
        None,
        &[
            "duty",
            "plan",
            "--municipality",
            "nordby",
            "--users",
            "kari,siri",
            "--from",
            &today,
            "--shifts",
            "4",
        ],
    );
    assert!(planned.contains("Planned 4 shifts"), "{planned}");
    let list = torg(d, None, &["duty", "list", "--municipality", "nordby"]);
    assert!(
        list.contains("public\tsiri") && list.contains("public\tkari"),
        "{list}"
    );
    // A planned peak sets its own policy for inquiries received in its window.
    let added = torg(
        d,
        None,
        &[
            "peak",
            "add",
            "--municipality",
            "nordby",
            "--name",
            "Juletopp",
            "--from",
            "2026-12-23T00:00",
            "--to",
            "2026-12-24T00:00",
            "--policy",
            "hours:2",
            "--staffing",
            "Kari og Siri",
        ],
    );
    assert!(added.contains("Juletopp"), "{added}");
    let due = torg(
        d,
        None,
        &[
            "deadline",
            "--municipality",
            "nordby",
            "--channel",
            "email",
            "--received",
            "2026-12-23T15:00",
        ],
    );
    assert_eq!(
        due.trim(),
        "2026-12-23T17:00:00+01:00",
        "the peak's policy applies"
    );
    let ack = torg(
        d,
        None,
        &[
            "acknowledgement",
            "--municipality",
            "nordby",
            "--language",
            "nb",
        ],
    );
    assert!(ack.contains("{referanse}"), "the default text: {ack}");
    // Chat is staffed shorter: its deadlines are counted on its own hours.
    torg(
        d,
        None,
        &[
            "hours",
            "set",
            "--municipality",
            "nordby",
            "--channel",
            "chat",
            "--weekly",
            "mon-fri 09:00-12:00",
        ],
    );
    torg(
        d,
        None,
        &[
            "policy",
            "add",
            "--municipality",
            "nordby",
            "--channel",
            "chat",
            "--policy",
            "working_hours:2",
        ],
    );
    let due = torg(
        d,
        None,
        &[
            "deadline",
            "--municipality",
            "nordby",
            "--channel",
            "chat",
            "--received",
            "2026-11-23T11:30",
        ],
    );
    assert_eq!(
        due.trim(),
        "2026-11-24T10:30:00+01:00",
        "half an hour on Monday, then Tuesday from 09:00"
    );
    torg(
        d,
        None,
        &[
            "acknowledgement",
            "--municipality",
            "nordby",
            "--language",
            "nb",
            "--body",
            "Takk! Sak {referanse}: {lenke}",
        ],
    );
    let ack = torg(
        d,
        None,
        &[
            "acknowledgement",
            "--municipality",
            "nordby",
            "--language",
            "nb",
        ],
    );
    assert_eq!(ack.trim(), "Takk! Sak {referanse}: {lenke}");
    let shown = torg(d, None, &["hours", "show", "--municipality", "nordby"]);
    assert!(
        shown.contains("mon-fri 08:00-15:30; sat 10:00-14:00") && shown.contains("2026-12-24"),
        "{shown}"
    );
    let out = Command::new(TORG)
        .arg("--data-dir")
        .arg(d)
        .args([
            "hours",
            "set",
            "--municipality",
            "nordby",
            "--weekly",
            "daily",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mon-fri 08:00-15:30"));
    let out = Command::new(TORG)
        .args(["holidays", "--country", "DK", "--year", "2026"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("NO (Norway), SE (Sweden) and FI (Finland)")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_detects_tampering() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    torg(
        d,
        None,
        &[
            "municipality",
            "create",
            "--slug",
            "nordby",
            "--name",
            "Nordby kommune",
        ],
    );
    torg(
        d,
        None,
        &[
            "unit",
            "create",
            "--municipality",
            "nordby",
            "--name",
            "Servicetorget",
            "--service-desk",
        ],
    );
    torg(
        d,
        None,
        &[
            "policy",
            "add",
            "--municipality",
            "nordby",
            "--policy",
            "working_days:3",
        ],
    );
    torg(
        d,
        None,
        &[
            "hours",
            "set",
            "--municipality",
            "nordby",
            "--weekly",
            "mon-fri 08:00-15:00",
        ],
    );
    torg(
        d,
        None,
        &[
            "hours",
            "close",
            "--municipality",
            "nordby",
            "--date",
            "2026-12-24",
        ],
    );
    let ok = torg(d, None, &["audit", "verify", "--municipality", "nordby"]);
    assert!(ok.contains("intact: 5 entries"), "{ok}");
    let export = torg(d, None, &["audit", "export", "--municipality", "nordby"]);
    let lines: Vec<Value> = export
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["action"], "municipality.created");
    assert_eq!(lines[1]["action"], "unit.created");
    assert_eq!(lines[2]["action"], "policy.added");
    assert_eq!(lines[3]["actor"], "cli");

    // Someone edits the database behind Torg's back.
    let store = torg_store_sql::SqliteStore::open(&d.join("torg.db"))
        .await
        .expect("open");
    sqlx::query("UPDATE audit_log SET detail = 'mon-sun 00:00-23:59' WHERE seq = 4")
        .execute(store.pool())
        .await
        .expect("tamper");
    let out = Command::new(TORG)
        .arg("--data-dir")
        .arg(d)
        .args(["audit", "verify", "--municipality", "nordby"])
        .output()
        .expect("run");
    assert!(!out.status.success(), "tampering is found");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("entry 4 has been altered"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    sqlx::query("DELETE FROM audit_log WHERE seq = 4")
        .execute(store.pool())
        .await
        .expect("remove");
    let out = Command::new(TORG)
        .arg("--data-dir")
        .arg(d)
        .args(["audit", "verify", "--municipality", "nordby"])
        .output()
        .expect("run");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("missing before 5"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_a_running_installation_restores_everything() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("data");
    let token = setup_tenant(&data, None);
    let port = free_port();
    let mut server = start(&data, None, port, &[]);
    wait_ready(port).await;
    let client = http_client();
    for n in 0..20 {
        let body = json!({"citizen_name": "Ola", "email": "ola@example.no", "body": format!("nummer {n}")});
        let res = client
            .post(format!("http://127.0.0.1:{port}/api/v1/inquiries"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 201);
    }
    let attachment: Vec<u8> = (0..=255u8).cycle().take(50_000).collect();
    let form = reqwest::multipart::Form::new()
        .text("name", "Kari")
        .text("email", "kari@example.no")
        .text("message", "Se vedlegg")
        .part(
            "attachment",
            reqwest::multipart::Part::bytes(attachment.clone()).file_name("kart.pdf"),
        );
    let res = client
        .post(format!("http://127.0.0.1:{port}/k/krasj/inquiries"))
        .multipart(form)
        .send()
        .await
        .expect("form");
    assert_eq!(res.status(), 201);

    // Back up while the server runs, then stop it.
    let backup_dir = dir.path().join("backup");
    let key_apart = dir.path().join("apart").join("secret.key");
    let inside = backup_dir.join("secret.key");
    let out = Command::new(TORG)
        .arg("--data-dir")
        .arg(&data)
        .args(["backup", backup_dir.to_str().expect("path"), "--key-to"])
        .arg(&inside)
        .output()
        .expect("run");
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("outside"),
        "the key is never put with the copy"
    );
    let out = torg(
        &data,
        None,
        &[
            "backup",
            backup_dir.to_str().expect("path"),
            "--key-to",
            key_apart.to_str().expect("path"),
        ],
    );
    assert!(out.contains("Backed up"), "{out}");
    assert!(
        !backup_dir.join("secret.key").exists(),
        "the backup holds no key"
    );
    let before = all_inquiries(port, &token).await;
    server.kill().expect("kill");
    let _ = server.wait();

    // Restore into a fresh data directory and compare.
    let restored = dir.path().join("restored");
    torg(
        &restored,
        None,
        &[
            "restore",
            backup_dir.to_str().expect("path"),
            "--key-from",
            key_apart.to_str().expect("path"),
        ],
    );
    let port = free_port();
    let mut server = start(&restored, None, port, &[]);
    wait_ready(port).await;
    let after = all_inquiries(port, &token).await;
    assert_eq!(after, before, "every inquiry, with its reference, is back");
    assert_eq!(after.len(), 21);
    // The secret key that opens sealed passwords came along, unchanged and private.
    let key = std::fs::read_to_string(restored.join("secret.key")).expect("key restored");
    assert_eq!(
        key,
        std::fs::read_to_string(data.join("secret.key")).expect("key")
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(restored.join("secret.key"))
        .expect("meta")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    server.kill().expect("kill");
    let _ = server.wait();
    let store = torg_store_sql::open(restored.join("torg.db").to_str().expect("path"))
        .await
        .expect("open");
    let m = store
        .municipality_by_slug("krasj")
        .await
        .expect("m")
        .expect("m");
    let mut found = false;
    for id in after.keys() {
        for a in store
            .attachments(m.id, InquiryId(*id))
            .await
            .expect("attachments")
        {
            let (_, bytes) = store
                .attachment_data(m.id, a.id)
                .await
                .expect("data")
                .expect("exists");
            assert_eq!(bytes, attachment, "attachments come back byte for byte");
            found = true;
        }
    }
    assert!(found, "the attachment was restored");
    let verify = torg(
        &restored,
        None,
        &["audit", "verify", "--municipality", "krasj"],
    );
    assert!(verify.contains("intact"), "{verify}");

    // Restoring over an existing database needs --force; a second backup into the same place is refused.
    let out = Command::new(TORG)
        .arg("--data-dir")
        .arg(&restored)
        .args(["restore", backup_dir.to_str().expect("path")])
        .output()
        .expect("run");
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("--force"));
    let out = Command::new(TORG)
        .arg("--data-dir")
        .arg(&data)
        .args(["backup", backup_dir.to_str().expect("path")])
        .output()
        .expect("run");
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("empty directory")
    );
}

fn http_client() -> reqwest::Client {
    torg_http::use_ring_crypto();
    reqwest::Client::new()
}

/// `torg sms`: the gateway (its password sealed, the get-url printed with the key) and code
/// words with their units and own answers.
#[test]
fn sms_gateway_and_code_words_from_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    torg(
        d,
        None,
        &[
            "municipality",
            "create",
            "--slug",
            "nordby",
            "--name",
            "Nordby kommune",
        ],
    );
    torg(
        d,
        None,
        &[
            "unit",
            "create",
            "--municipality",
            "nordby",
            "--name",
            "Vann og avløp",
        ],
    );
    let out = torg(
        d,
        None,
        &[
            "sms",
            "set",
            "--municipality",
            "nordby",
            "--url",
            "http://127.0.0.1:13013/cgi-bin/sendsms",
            "--username",
            "torg",
            "--password",
            "sms-hemmelighet",
            "--sender",
            "2222",
        ],
    );
    assert!(out.contains("/hooks/sms/nordby?key="), "{out}");
    assert!(out.contains("&from=%p&text=%a&id=%I"), "{out}");
    let db = std::fs::read(d.join("torg.db")).expect("db");
    assert!(
        !db.windows(15).any(|w| w == b"sms-hemmelighet"),
        "the password is sealed at rest"
    );
    let out = torg(
        d,
        None,
        &[
            "sms",
            "keyword",
            "--municipality",
            "nordby",
            "--word",
            "Vánn",
            "--unit",
            "vann og avløp",
            "--reply",
            "Takk! Sak {referanse}.",
        ],
    );
    assert!(out.contains("SMS starting with VANN now go to"), "{out}");
    let out = torg(d, None, &["sms", "keywords", "--municipality", "nordby"]);
    assert_eq!(out.trim(), "VANN\tVann og avløp");
    let bad = Command::new(TORG)
        .arg("--data-dir")
        .arg(d)
        .args([
            "sms",
            "keyword",
            "--municipality",
            "nordby",
            "--word",
            "to ord",
            "--unit",
            "Vann og avløp",
        ])
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("a code word is one word"));
}

/// `torg check-text`: standard input through the personal-data guard, one JSON line per
/// finding with byte offsets; bytes that are not UTF-8 are no error.
#[test]
fn check_text_prints_findings_as_json_lines() {
    use std::io::Write;
    let mut text =
        "Æ fnr 811218-9876, konto 1234.56.78903, ring 99 88 77 66, post@nordby.kommune.no, kreft. "
            .as_bytes()
            .to_vec();
    text.extend_from_slice(b"\xff\xfe ugyldig 1234.56.78904\n");
    let mut child = std::process::Command::new(TORG)
        .arg("check-text")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&text)
        .expect("write");
    let out = child.wait_with_output().expect("output");
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .expect("utf8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let got: Vec<(String, String)> = lines
        .iter()
        .map(|l| {
            let (s, e) = (
                l["start"].as_u64().expect("start") as usize,
                l["end"].as_u64().expect("end") as usize,
            );
            (
                l["kind"].as_str().expect("kind").to_string(),
                String::from_utf8_lossy(&text[s..e]).into_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = [
        ("personnummer", "811218-9876"),
        ("kontonummer", "1234.56.78903"),
        ("phone", "99 88 77 66"),
        ("email", "post@nordby.kommune.no"),
        ("sensitive", "kreft"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(got, want);
}

/// The issue's own command: the demo's archive-worthy cases exported as a Noark 5 extract that
/// xmllint finds valid, the Fiks messages written, and a decision and retention from the CLI.
#[test]
fn the_demo_exports_a_valid_noark_extract() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    torg(&data, None, &["demo"]);
    let year = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Europe/Oslo").expect("zone"))
        .year();
    let (from, to) = (format!("{}-01-01", year - 1), format!("{year}-12-31"));
    let out = dir.path().join("uttrekk");
    let printed = torg(
        &data,
        None,
        &[
            "archive",
            "export",
            "--municipality",
            "demo",
            "--from",
            &from,
            "--to",
            &to,
            out.to_str().expect("path"),
        ],
    );
    assert!(printed.contains("3 cases"), "{printed}");
    let schemas = Path::new(env!("CARGO_MANIFEST_DIR")).join("../torg-archive/schemas");
    for (file, schema) in [
        ("arkivstruktur.xml", "arkivstruktur.xsd"),
        ("loependeJournal.xml", "loependeJournal.xsd"),
        ("offentligJournal.xml", "offentligJournal.xsd"),
        ("endringslogg.xml", "endringslogg.xsd"),
        ("arkivuttrekk.xml", "addml.xsd"),
    ] {
        let check = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(schemas.join(schema))
            .arg(out.join(file))
            .output()
            .expect("xmllint must be installed (libxml2-utils)");
        assert!(
            check.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
    let fiks = dir.path().join("fiks");
    let printed = torg(
        &data,
        None,
        &[
            "archive",
            "fiks",
            "--municipality",
            "demo",
            "--from",
            &from,
            "--to",
            &to,
            fiks.to_str().expect("path"),
        ],
    );
    assert!(printed.contains("Wrote 9"), "{printed}");
    let printed = torg(
        &data,
        None,
        &[
            "archive",
            "retention",
            "--municipality",
            "demo",
            "--days",
            "30",
        ],
    );
    assert!(printed.contains("30 days"));
    torg(&data, None, &["archive", "purge", "--municipality", "demo"]);
    let log = torg(
        &data,
        None,
        &["archive", "deletions", "--municipality", "demo"],
    );
    assert!(
        log.lines()
            .all(|l| l.contains("\"reference\"") && !l.contains("\"body\"")),
        "{log}"
    );
}

/// The CLI and the administration page create users through the same core function: a bad
/// username or a short password is refused by both with the same message, and a good one is
/// created by both with its audit entry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_and_the_administration_page_refuse_alike() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    torg(
        d,
        None,
        &[
            "municipality",
            "create",
            "--slug",
            "nordby",
            "--name",
            "Nordby kommune",
        ],
    );
    // A short name with a capital is refused with the catalogue's text.
    let bad_slug = torg_fails(
        d,
        &[
            "municipality",
            "create",
            "--slug",
            "Nord By",
            "--name",
            "Feil",
        ],
    );
    assert!(
        bad_slug.contains("Kortnavnet kan bare ha a–z"),
        "{bad_slug}"
    );
    torg(
        d,
        None,
        &[
            "unit",
            "create",
            "--municipality",
            "nordby",
            "--name",
            "Servicetorget",
            "--service-desk",
        ],
    );
    let password = "riktig hest batteri stift";
    torg(
        d,
        None,
        &[
            "user",
            "create",
            "--municipality",
            "nordby",
            "--username",
            "admin",
            "--name",
            "Ada Admin",
            "--role",
            "administrator",
            "--password",
            password,
        ],
    );
    let port = free_port();
    let mut server = start(d, None, port, &[]);
    wait_ready(port).await;
    let base = format!("http://127.0.0.1:{port}");
    let admin = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = admin
        .get(format!("{base}/staff/login"))
        .send()
        .await
        .expect("login page")
        .text()
        .await
        .expect("text");
    let csrf_of = |page: &str| {
        let start = page.find("name=\"csrf\" value=\"").expect("csrf") + 19;
        page[start..start + page[start..].find('"').expect("end")].to_string()
    };
    let res = admin
        .post(format!("{base}/staff/login"))
        .form(&[
            ("csrf", csrf_of(&page).as_str()),
            ("municipality", "nordby"),
            ("username", "admin"),
            ("password", password),
        ])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    // The administration page's form, as an administrator fills it in.
    let users = format!("{base}/staff/admin/users");
    let add_on_page = |username: &'static str, name: &'static str, pw: &'static str| {
        let (admin, users) = (admin.clone(), users.clone());
        async move {
            let form = admin.get(&users).send().await.expect("users");
            let csrf = csrf_of(&form.text().await.expect("text"));
            admin
                .post(&users)
                .form(&[
                    ("csrf", csrf.as_str()),
                    ("username", username),
                    ("full_name", name),
                    ("role", "case_handler"),
                    ("password", pw),
                ])
                .send()
                .await
                .expect("create")
        }
    };
    for (username, pw, expected) in [
        (
            "ola nordmann",
            "et langt nok passord",
            "Brukernavnet kan bare ha",
        ),
        ("ola", "kort", "Passordet må ha minst 12 tegn"),
    ] {
        let cli = torg_fails(
            d,
            &[
                "user",
                "create",
                "--municipality",
                "nordby",
                "--username",
                username,
                "--name",
                "Ola Nordmann",
                "--role",
                "case_handler",
                "--password",
                pw,
            ],
        );
        let res = add_on_page(username, "Ola Nordmann", pw).await;
        assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
        let page = res.text().await.expect("text");
        // The page's message is the CLI's, word for word.
        let message = cli
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("Error: ")
            .to_string();
        assert!(message.contains(expected), "CLI: {cli}");
        assert!(
            page.contains(&message),
            "the page says what the CLI says: {message}"
        );
    }
    // Both create a good user, each with its audit entry.
    torg(
        d,
        None,
        &[
            "user",
            "create",
            "--municipality",
            "nordby",
            "--username",
            "Ola",
            "--name",
            "Ola Nordmann",
            "--role",
            "case_handler",
            "--password",
            "et langt nok passord",
        ],
    );
    let res = add_on_page("Kari", "Kari Nordmann", "et langt nok passord").await;
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    let _ = server.kill();
    let _ = server.wait();
    // The operator sets a password by the same rules, and it is in the audit log.
    let short = torg_fails(
        d,
        &[
            "user",
            "password",
            "--municipality",
            "nordby",
            "--username",
            "ola",
            "--password",
            "kort",
        ],
    );
    assert!(short.contains("Passordet må ha minst 12 tegn"), "{short}");
    let set = torg(
        d,
        None,
        &[
            "user",
            "password",
            "--municipality",
            "nordby",
            "--username",
            "ola",
        ],
    );
    assert!(set.contains("Password (shown once): "), "{set}");
    let log = torg(d, None, &["audit", "export", "--municipality", "nordby"]);
    assert!(log.contains("username:ola"), "{log}");
    assert!(log.contains("username:kari"), "{log}");
    assert!(log.contains("user.password"), "{log}");
}

/// Runs torg expecting it to fail; its standard error.
fn torg_fails(data_dir: &Path, args: &[&str]) -> String {
    let out = Command::new(TORG)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("TORG_LOG", "warn")
        .output()
        .expect("run torg");
    assert!(!out.status.success(), "torg {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `torg token`: made for named units with a last day, listed (never shown again), revoked;
/// a unit that does not exist is refused with the administration page's words.
#[test]
fn tokens_from_the_cli_are_scoped_listed_and_revoked() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let first = setup_tenant(d, None);
    let scoped = torg(
        d,
        None,
        &[
            "token",
            "create",
            "--municipality",
            "krasj",
            "--name",
            "Fagsystem",
            "--units",
            "servicetorget",
            "--expires",
            "2099-12-31",
        ],
    )
    .trim()
    .to_string();
    assert_eq!(scoped.len(), 64);
    let listed = torg(d, None, &["token", "list", "--municipality", "krasj"]);
    assert!(
        listed.contains("Fagsystem") && listed.contains("Servicetorget"),
        "{listed}"
    );
    assert!(listed.contains("krasjtest") && listed.contains("every unit that is not sensitive"));
    assert!(
        !listed.contains(&scoped) && !listed.contains(&first),
        "never shown again"
    );
    let id = listed
        .lines()
        .find(|l| l.contains("Fagsystem"))
        .and_then(|l| l.split('\t').next())
        .expect("id")
        .to_string();
    torg(
        d,
        None,
        &["token", "revoke", "--municipality", "krasj", "--id", &id],
    );
    let listed = torg(d, None, &["token", "list", "--municipality", "krasj"]);
    assert!(
        listed
            .lines()
            .any(|l| l.contains("Fagsystem") && l.contains("revoked")),
        "{listed}"
    );
    let out = Command::new(TORG)
        .arg("--data-dir")
        .arg(d)
        .args([
            "token",
            "create",
            "--municipality",
            "krasj",
            "--name",
            "Feil",
            "--units",
            "Finnes ikke",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no unit"));
    let log = torg(d, None, &["audit", "export", "--municipality", "krasj"]);
    assert_eq!(log.matches("token.created").count(), 2, "{log}");
    assert_eq!(log.matches("token.revoked").count(), 1, "{log}");
}

/// A full disk: with the data directory on a small filesystem made by the test, intake answers
/// 503 and acknowledges nothing it has not stored; once space is freed it goes on, and every
/// inquiry acknowledged is there after a crash and a restart. Needs root to mount a tmpfs;
/// with TORG_TEST_FULL_DISK set (as `.ci/run` does) a failed mount fails the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_clearly_and_loses_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let data = dir.path().join("small");
    std::fs::create_dir_all(&data).expect("dir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=6m", "tmpfs"])
        .arg(&data)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        assert!(
            std::env::var("TORG_TEST_FULL_DISK").is_err(),
            "TORG_TEST_FULL_DISK is set but a tmpfs could not be mounted (needs root)"
        );
        eprintln!("cannot mount a small filesystem here: skipping the full-disk test");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(data.clone());
    let token = setup_tenant(&data, None);
    let port = free_port();
    let mut server = start(&data, None, port, &[]);
    wait_ready(port).await;
    let client = http_client();
    // Fill the filesystem, leaving a little room.
    let filler = data.join("filler");
    {
        use std::io::Write;
        let mut f = std::fs::File::create(&filler).expect("filler");
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        let _ = f.sync_all();
        // Room for some inquiries before it is full.
        let len = f.metadata().expect("meta").len();
        f.set_len(len.saturating_sub(256 * 1024)).expect("room");
    }
    let post = |n: usize| {
        let client = client.clone();
        let token = token.clone();
        async move {
            let body = json!({
                "citizen_name": "Ola",
                "email": "ola@example.no",
                "external_id": format!("disk-{n}"),
                "body": format!("nummer {n} {}", "x".repeat(4000)),
            });
            client
                .post(format!("http://127.0.0.1:{port}/api/v1/inquiries"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .expect("post")
        }
    };
    let mut acknowledged = vec![];
    let mut refused = None;
    for n in 0..2000 {
        let res = post(n).await;
        match res.status().as_u16() {
            201 => {
                let v: Value = res.json().await.expect("json");
                acknowledged.push(v["inquiry"]["id"].as_i64().expect("id"));
            }
            status => {
                let text = res.text().await.expect("text");
                refused = Some((status, text));
                break;
            }
        }
    }
    let (status, text) = refused.expect("the disk filled up");
    eprintln!(
        "{} inquiries acknowledged before the disk was full",
        acknowledged.len()
    );
    assert!(
        !acknowledged.is_empty(),
        "some fitted before the disk was full"
    );
    assert_eq!(status, 503, "{text}");
    assert!(
        text.contains("storage_error") && text.contains("nothing was acknowledged"),
        "{text}"
    );
    // The portal says so too.
    let form = reqwest::multipart::Form::new()
        .text("name", "Kari")
        .text("email", "kari@example.no")
        .text("message", "x".repeat(4000));
    let res = client
        .post(format!("http://127.0.0.1:{port}/k/krasj/inquiries"))
        .multipart(form)
        .send()
        .await
        .expect("portal");
    assert_eq!(res.status(), 503);
    assert!(
        res.text()
            .await
            .expect("text")
            .contains("Vent litt og prøv igjen")
    );
    // Space freed: it goes on.
    std::fs::remove_file(&filler).expect("free");
    let mut again = None;
    for attempt in 0..20 {
        let res = post(10_000 + attempt).await;
        if res.status() == 201 {
            let v: Value = res.json().await.expect("json");
            again = v["inquiry"]["id"].as_i64();
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    acknowledged.push(again.expect("taken in once space is free"));
    // A crash and a restart: every acknowledged inquiry is there.
    server.kill().expect("kill -9");
    let _ = server.wait();
    let port2 = free_port();
    let mut server = start(&data, None, port2, &[]);
    wait_ready(port2).await;
    let found = all_inquiries(port2, &token).await;
    for id in &acknowledged {
        assert!(found.contains_key(id), "acknowledged inquiry {id} is lost");
    }
    server.kill().expect("kill");
    let _ = server.wait();
}

/// A throwaway PostgreSQL server of the test's own (Debian's binaries, a temporary data
/// directory, a high loopback port), so that the test can restart it without touching the
/// installation's server. Stopped when dropped.
struct OwnPostgres {
    bin: std::path::PathBuf,
    data: std::path::PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl OwnPostgres {
    /// `None` when PostgreSQL's server binaries are not installed or it does not start.
    fn start() -> Option<OwnPostgres> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|b| b.join("initdb").exists())
            .max()?;
        let dir = tempfile::tempdir().ok()?;
        let data = dir.path().join("data");
        let port = free_port();
        let pg = OwnPostgres {
            bin,
            data,
            port,
            _dir: dir,
        };
        // PostgreSQL refuses to run as root: as root, the postgres user runs it.
        if is_root() {
            let _ = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(pg._dir.path())
                .status();
        }
        let init = pg
            .command("initdb")
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(&pg.data)
            .stdout(Stdio::null())
            .status()
            .ok()?;
        if !init.success() {
            return None;
        }
        pg.ctl(&["start", "-w"]).then_some(pg)
    }

    fn command(&self, program: &str) -> Command {
        let exe = self.bin.join(program);
        if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(exe);
            c
        } else {
            Command::new(exe)
        }
    }

    fn ctl(&self, args: &[&str]) -> bool {
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -k {}",
            self.port,
            self.data.parent().expect("dir").display()
        );
        self.command("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .arg("-o")
            .arg(options)
            .arg("-l")
            .arg(self.data.parent().expect("dir").join("log"))
            .args(args)
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = self.ctl(&["stop", "-m", "immediate", "-w"]);
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

/// PostgreSQL restarting under load: while clients keep sending inquiries, the database stops
/// and starts again. Every answer is an acknowledgement or a clear 503 (never a 500 or a cut
/// connection), intake goes on by itself once the database is back, and every inquiry
/// acknowledged is there. Runs on a PostgreSQL server of its own; with TORG_TEST_PG_RESTART set
/// (as `.ci/run` does) a server that cannot be started fails the test.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarting_under_load_loses_nothing_acknowledged() {
    let Some(pg) = OwnPostgres::start() else {
        assert!(
            std::env::var("TORG_TEST_PG_RESTART").is_err(),
            "TORG_TEST_PG_RESTART is set but a PostgreSQL server of the test's own did not start"
        );
        eprintln!("no PostgreSQL server binaries here: skipping the restart test");
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    let db = pg.url();
    let token = setup_tenant(d, Some(&db));
    let port = free_port();
    let mut server = start(d, Some(&db), port, &[]);
    wait_ready(port).await;
    let client = http_client();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // How many were acknowledged and refused so far: the outage starts only once every client
    // is under way, and lasts until one of them has been refused (a busy machine is slow).
    let counts = std::sync::Arc::new([
        std::sync::atomic::AtomicUsize::new(0),
        std::sync::atomic::AtomicUsize::new(0),
    ]);
    let count = |i: usize| counts[i].load(std::sync::atomic::Ordering::Relaxed);
    // Four clients sending inquiries as fast as they are answered, each answer recorded.
    let senders: Vec<_> = (0..4)
        .map(|c| {
            let (client, token, stop) = (client.clone(), token.clone(), stop.clone());
            let counts = counts.clone();
            tokio::spawn(async move {
                let mut answers: Vec<(u16, Option<i64>, String)> = vec![];
                let mut n = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    n += 1;
                    let res = client
                        .post(format!("http://127.0.0.1:{port}/api/v1/inquiries"))
                        .bearer_auth(&token)
                        .timeout(Duration::from_secs(30))
                        .json(&json!({
                            "citizen_name": "Ola",
                            "email": "ola@example.no",
                            "external_id": format!("restart-{c}-{n}"),
                            "body": format!("Gatelyset nummer {n} er mørkt."),
                        }))
                        .send()
                        .await;
                    let answer = match res {
                        Ok(res) => {
                            let status = res.status().as_u16();
                            let text = res.text().await.unwrap_or_default();
                            let id = serde_json::from_str::<Value>(&text)
                                .ok()
                                .and_then(|v| v["inquiry"]["id"].as_i64());
                            (status, id, text)
                        }
                        Err(e) => (0, None, e.to_string()),
                    };
                    let refused = answer.0 != 201;
                    counts[usize::from(refused)].fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if refused {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    answers.push(answer);
                }
                answers
            })
        })
        .collect();
    let under_way = Instant::now() + Duration::from_secs(60);
    while count(0) < 8 && Instant::now() < under_way {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The database goes down (as in a crash) for longer than a request waits for a
    // connection (10 s; a shorter outage only slows the answers), then comes back.
    assert!(pg.ctl(&["stop", "-m", "immediate", "-w"]), "stop");
    tokio::time::sleep(Duration::from_secs(14)).await;
    let longest = Instant::now() + Duration::from_secs(30);
    while count(1) == 0 && Instant::now() < longest {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(pg.ctl(&["start", "-w"]), "start again");
    // Intake goes on by itself: wait for a fresh acknowledgement, then a little more load.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut back = false;
    while Instant::now() < deadline && !back {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let res = client
            .get(format!("http://127.0.0.1:{port}/healthz"))
            .send()
            .await;
        back = res.is_ok_and(|r| r.status().is_success());
    }
    assert!(back, "Torg answers again once the database is back");
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut answers = vec![];
    for s in senders {
        let theirs = s.await.expect("sender");
        // Each client's last answers came after the restart: intake went on by itself.
        assert!(
            theirs.iter().rev().take(3).all(|(s, _, _)| *s == 201),
            "acknowledgements again after the restart: {:?}",
            theirs.iter().rev().take(3).collect::<Vec<_>>()
        );
        answers.extend(theirs);
    }
    let acknowledged: Vec<i64> = answers.iter().filter_map(|(_, id, _)| *id).collect();
    let refused: Vec<&(u16, Option<i64>, String)> =
        answers.iter().filter(|(s, _, _)| *s != 201).collect();
    eprintln!(
        "{} acknowledged, {} refused while the database was away",
        acknowledged.len(),
        refused.len()
    );
    assert!(
        !refused.is_empty(),
        "some arrived while the database was away"
    );
    for (status, _, text) in &refused {
        assert_eq!(*status, 503, "a clear refusal: {text}");
        assert!(text.contains("nothing was acknowledged"), "{text}");
    }
    // A crash of Torg too, then every acknowledged inquiry is there.
    server.kill().expect("kill -9");
    let _ = server.wait();
    let port2 = free_port();
    let mut server = start(d, Some(&db), port2, &[]);
    wait_ready(port2).await;
    let found = all_inquiries(port2, &token).await;
    for id in &acknowledged {
        assert!(found.contains_key(id), "acknowledged inquiry {id} is lost");
    }
    server.kill().expect("kill");
    let _ = server.wait();
}

/// `torg wheel import`: a CSV of the year's items goes in whole; a file with a wrong line goes
/// in not at all, and the message names the line; `torg wheel list` shows the next dates.
#[test]
fn the_annual_wheel_from_a_csv() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    setup_tenant(d, None);
    let good = d.join("hjul.csv");
    std::fs::write(
        &good,
        "title,date,repeat,unit,target_group,mark,description\n\
         Eiendomsskatt,2027-03-01,weekday,Servicetorget,Huseiere,proactive,\"Sendes ut, med faktura\"\n\
         Nasjonaldagen,2027-05-17,yearly,,Alle,ongoing,\n\
         Brøytemelding,2027-11-15,none,,,reactive,\n",
    )
    .expect("csv");
    let bad = d.join("feil.csv");
    std::fs::write(
        &bad,
        "title,date,repeat\nGod linje,2027-01-10,none\nFeil linje,10. januar,none\n",
    )
    .expect("csv");
    let out = torg_fails(
        d,
        &[
            "wheel",
            "import",
            "--municipality",
            "krasj",
            "--file",
            bad.to_str().expect("path"),
        ],
    );
    assert!(
        out.contains("line 3") && out.contains("2027-03-01"),
        "{out}"
    );
    let imported = torg(
        d,
        None,
        &[
            "wheel",
            "import",
            "--municipality",
            "krasj",
            "--file",
            good.to_str().expect("path"),
        ],
    );
    assert!(imported.contains("Imported 3 items"), "{imported}");
    let listed = torg(d, None, &["wheel", "list", "--municipality", "krasj"]);
    assert_eq!(
        listed.lines().count(),
        3,
        "the bad file left nothing: {listed}"
    );
    assert!(
        listed.contains("weekday\tproactive\tEiendomsskatt"),
        "{listed}"
    );
    let log = torg(d, None, &["audit", "export", "--municipality", "krasj"]);
    assert!(log.contains("wheel.imported"), "{log}");
}

/// `torg publishing settings`: four eyes on and 30 minutes by default; changed, logged, and a
/// lead over a day refused.
#[test]
fn publishing_settings_from_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    setup_tenant(d, None);
    let shown = torg(
        d,
        None,
        &["publishing", "settings", "--municipality", "krasj"],
    );
    assert!(
        shown.contains("four eyes on") && shown.contains("30 minutes"),
        "{shown}"
    );
    let changed = torg(
        d,
        None,
        &[
            "publishing",
            "settings",
            "--municipality",
            "krasj",
            "--four-eyes",
            "false",
            "--staff-lead-minutes",
            "60",
        ],
    );
    assert!(
        changed.contains("four eyes off") && changed.contains("60 minutes"),
        "{changed}"
    );
    let refused = torg_fails(
        d,
        &[
            "publishing",
            "settings",
            "--municipality",
            "krasj",
            "--staff-lead-minutes",
            "5000",
        ],
    );
    assert!(refused.contains("between 0 and 1440 minutes"), "{refused}");
    let log = torg(d, None, &["audit", "export", "--municipality", "krasj"]);
    assert!(log.contains("publishing.settings"), "{log}");
}

/// `torg jargon`: a municipality's own words to avoid are used by the advice on canned
/// replies beside the shipped list; listed, removed, and a second removal refused.
#[test]
fn a_municipalitys_own_jargon_from_the_cli() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path();
    setup_tenant(d, None);
    let m = ["--municipality", "krasj"];
    let add = |args: &[&str]| {
        let mut all = vec!["jargon", "add"];
        all.extend_from_slice(&m);
        all.extend_from_slice(args);
        torg(d, None, &all)
    };
    add(&["--phrase", "Bydelsutvalget", "--plainer", "bydelen"]);
    let listed = torg(d, None, &["jargon", "list", "--municipality", "krasj"]);
    assert_eq!(listed.trim(), "bydelsutvalget = bydelen");
    let canned = torg(
        d,
        None,
        &[
            "canned",
            "add",
            "--municipality",
            "krasj",
            "--title",
            "Møte",
            "--body",
            "Bydelsutvalget møtes tirsdag.",
        ],
    );
    assert!(
        canned.contains("jargon: \"Bydelsutvalget\" → bydelen"),
        "{canned}"
    );
    torg(
        d,
        None,
        &[
            "jargon",
            "remove",
            "--municipality",
            "krasj",
            "--phrase",
            "bydelsutvalget",
        ],
    );
    let again = torg_fails(
        d,
        &[
            "jargon",
            "remove",
            "--municipality",
            "krasj",
            "--phrase",
            "bydelsutvalget",
        ],
    );
    assert!(again.contains("is not on"), "{again}");
    let log = torg(d, None, &["audit", "export", "--municipality", "krasj"]);
    assert!(
        log.contains("plain.jargon_set") && log.contains("plain.jargon_removed"),
        "{log}"
    );
}

/// Two nodes on one PostgreSQL database: each job that runs once per installation (the
/// Mastodon reader, warnings, retention, listening, reach, surveys, the crisis expander) is
/// held by one of them and the mailboxes are shared between them; when a node is killed with
/// SIGKILL, the other takes every job and mailbox over within a minute.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_run_on_one_node_and_move_when_it_dies() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    // Four municipalities with a mailbox each (at a server that does not answer: what is
    // shared is who reads, and a failed read is recorded all the same).
    const MAILBOXES: usize = 4;
    for k in 0..MAILBOXES {
        let slug = format!("post{k}");
        torg(
            dir.path(),
            Some(&url),
            &["municipality", "create", "--slug", &slug, "--name", &slug],
        );
        let out = Command::new(TORG)
            .arg("--data-dir")
            .arg(dir.path())
            .arg("--database")
            .arg(&url)
            .args([
                "mail",
                "set",
                "--municipality",
                &slug,
                "--address",
                &format!("post@{slug}.kommune.no"),
                "--imap-host",
                "imap.torg.invalid",
                "--imap-user",
                "u",
                "--smtp-host",
                "smtp.torg.invalid",
            ])
            .env("TORG_IMAP_PASSWORD", "x")
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (pa, pb) = (free_port(), free_port());
    let a = start(dir.path(), Some(&url), pa, &[]);
    wait_ready(pa).await;
    let b = start(dir.path(), Some(&url), pb, &[]);
    wait_ready(pb).await;
    let store = torg_store_sql::PostgresStore::connect(&url)
        .await
        .expect("connect");
    use torg_store::Jobs;
    // Eight jobs run once per installation, and each mailbox is read by one node.
    const LEASES: usize = 8 + MAILBOXES;
    // Who holds each job and mailbox now (those whose lease holds; not the nodes' presence).
    let held = async || -> BTreeMap<String, String> {
        let now = jiff::Timestamp::now();
        store
            .job_holders()
            .await
            .expect("holders")
            .into_iter()
            .filter(|h| h.expires_at > now && !h.job.starts_with("node:"))
            .map(|h| (h.job, h.holder))
            .collect()
    };
    let of = |pid: u32| format!(":{pid}");
    let mailboxes_of = |held: &BTreeMap<String, String>, pid: u32| {
        held.iter()
            .filter(|(job, holder)| job.starts_with("mail:") && holder.ends_with(&of(pid)))
            .count()
    };
    // Both nodes take their share of the mailboxes: two each.
    let deadline = Instant::now() + Duration::from_secs(45);
    let mut now_held = held().await;
    while (now_held.len() < LEASES
        || mailboxes_of(&now_held, a.id()) != 2
        || mailboxes_of(&now_held, b.id()) != 2)
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
        now_held = held().await;
    }
    assert_eq!(
        now_held.len(),
        LEASES,
        "every job has a holder: {now_held:?}"
    );
    assert_eq!(mailboxes_of(&now_held, a.id()), 2, "{now_held:?}");
    assert_eq!(mailboxes_of(&now_held, b.id()), 2, "{now_held:?}");
    assert!(
        now_held
            .values()
            .all(|h| h.ends_with(&of(a.id())) || h.ends_with(&of(b.id()))),
        "{now_held:?}"
    );
    // The node holding retention dies; the other takes over everything, its mailboxes too.
    let (mut dead, mut alive) = if now_held["retention"].ends_with(&of(a.id())) {
        (a, b)
    } else {
        (b, a)
    };
    let survivor = of(alive.id());
    dead.kill().expect("SIGKILL");
    let _ = dead.wait();
    let killed = Instant::now();
    let deadline = killed + Duration::from_secs(60);
    loop {
        let now_held = held().await;
        if now_held.len() == LEASES && now_held.values().all(|h| h.ends_with(&survivor)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "taken over within a minute: {now_held:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    eprintln!(
        "every job and mailbox taken over {:.1} s after the SIGKILL",
        killed.elapsed().as_secs_f64()
    );
    alive.kill().expect("kill");
    let _ = alive.wait();
}

/// Two nodes on one PostgreSQL database: a token revoked (from the CLI) stops working on
/// the other node within a second, though that node had it cached (for ten seconds).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_stops_on_every_node_within_a_second() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().expect("tmp");
    let token = setup_tenant(dir.path(), Some(&url));
    let (pa, pb) = (free_port(), free_port());
    let a = start(dir.path(), Some(&url), pa, &[]);
    let b = start(dir.path(), Some(&url), pb, &[]);
    wait_ready(pa).await;
    wait_ready(pb).await;
    let client = http_client();
    let list = |port: u16| {
        let (client, token) = (client.clone(), token.clone());
        async move {
            client
                .get(format!("http://127.0.0.1:{port}/api/v1/inquiries"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("list")
                .status()
        }
    };
    // Both nodes take it (and keep it for ten seconds).
    assert_eq!(list(pa).await, 200);
    assert_eq!(list(pb).await, 200);
    let listed = torg(
        dir.path(),
        Some(&url),
        &["token", "list", "--municipality", "krasj"],
    );
    let id = listed
        .lines()
        .find(|l| l.contains("krasjtest"))
        .and_then(|l| l.split('\t').next())
        .expect("id")
        .to_string();
    torg(
        dir.path(),
        Some(&url),
        &["token", "revoke", "--municipality", "krasj", "--id", &id],
    );
    let revoked = Instant::now();
    for port in [pb, pa] {
        loop {
            let status = list(port).await;
            if status == 401 {
                break;
            }
            assert!(
                revoked.elapsed() < Duration::from_secs(1),
                "refused on port {port} within a second (still {status})"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    eprintln!(
        "the revoked token was refused on both nodes {:.0} ms after the CLI returned",
        revoked.elapsed().as_secs_f64() * 1000.0
    );
    for mut node in [a, b] {
        let _ = node.kill();
        let _ = node.wait();
    }
}
