//! `torg-bench national`: data at a national host's size on PostgreSQL — by default
//! 10,000,000 inquiries over 400 municipalities and three years, with their messages (the
//! citizen's, and the reply of those answered), their audit entries (created, replied; a
//! valid hash chain per municipality) and their search index — then the staff's reads timed
//! on it: a unit's 50 most urgent, the search, the inbox page and the evaluation page.
//!
//! Municipalities differ in size as they do: one city holds 5 % of the inquiries, nine
//! towns 1.1 % each, the other 390 about 0.2 % each. The figures are taken in the city (the
//! worst case) and in a small municipality.
//!
//! The rows go in with `COPY` (the secondary indexes dropped first and built again after,
//! as a bulk load is done), so that ten million take minutes instead of hours; municipality,
//! units and users are made through the store. `--database URL` measures a database made
//! by an earlier run again without generating it.

use anyhow::{Context, Result};
use jiff::{SignedDuration, Timestamp};
use sqlx::postgres::PgPoolCopyExt;
use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use torg_domain::audit::{GENESIS, NewAuditEntry, chain_hash};
use torg_domain::{Channel, Role, TenantId, UnitId};
use torg_store::{InquiryFilter, NewMunicipality, NewUser, StatusFilter, Store};

const PASSWORD: &str = "nasjonal-passord-123";
const UNITS: [&str; 5] = [
    "Servicetorget",
    "Oppvekst",
    "Teknisk drift",
    "Helse og omsorg",
    "Plan og bygg",
];
/// Rows per `COPY` batch.
const BATCH: u64 = 50_000;
/// The generated span: three years up to now.
const SPAN_DAYS: i64 = 3 * 365;

pub struct NationalArgs {
    pub postgres: Option<String>,
    pub database: Option<String>,
    pub inquiries: u64,
    pub municipalities: usize,
    pub samples: usize,
}

/// A stable hash of `i` (splitmix64), for spreading generated rows.
fn mix(i: u64) -> u64 {
    let mut z = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The municipality (index) of inquiry `i`: 5 % the city (0), 10 % nine towns, the rest
/// evenly over the others.
fn municipality_of(i: u64, count: usize) -> usize {
    let r = mix(i) % 10_000;
    let count = count.max(11) as u64;
    (if r < 500 {
        0
    } else if r < 1_500 {
        1 + r % 9
    } else {
        10 + mix(i ^ 0xABCD) % (count - 10)
    }) as usize
}

/// One field of a `COPY … FROM STDIN` text row: `\N` for none, the text escaped.
fn field(out: &mut String, value: Option<&str>) {
    match value {
        None => out.push_str("\\N"),
        Some(s) => {
            for c in s.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '\t' => out.push_str("\\t"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    c => out.push(c),
                }
            }
        }
    }
}

fn row(out: &mut String, fields: &[Option<&str>]) {
    for (k, f) in fields.iter().enumerate() {
        if k > 0 {
            out.push('\t');
        }
        field(out, *f);
    }
    out.push('\n');
}

/// A tsvector's text of `terms`, each lexeme quoted.
fn tsvector(terms: &[String]) -> String {
    let mut s = String::new();
    for t in terms {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push('\'');
        for c in t.chars() {
            match c {
                '\'' => s.push_str("''"),
                '\\' => s.push_str("\\\\"),
                c => s.push(c),
            }
        }
        s.push('\'');
    }
    s
}

struct Municipality {
    id: TenantId,
    units: Vec<UnitId>,
    /// The last audit entry's sequence number and hash.
    seq: i64,
    hash: String,
    /// Running numbers per year.
    numbers: std::collections::HashMap<i16, i64>,
}

/// The rows of one batch, as `COPY` text.
#[derive(Default)]
struct Batch {
    inquiries: String,
    messages: String,
    audit: String,
    terms: String,
}

/// Inquiry `i` (id `i + 1`, message ids `2i + 1` and `2i + 2`) written into `b`.
fn generate_one(i: u64, n: u64, now: Timestamp, ms: &mut [Municipality], b: &mut Batch) {
    let span = SPAN_DAYS * 86_400;
    let received = now - SignedDuration::from_secs(span)
        + SignedDuration::from_secs((i as i128 * span as i128 / n.max(1) as i128) as i64);
    let age = now.duration_since(received);
    let h = mix(i ^ 0x5555);
    let count = ms.len();
    let m = &mut ms[municipality_of(i, count)];
    let unit = m.units[(h % m.units.len() as u64) as usize];
    let channel = Channel::ALL[(h >> 8) as usize % Channel::ALL.len()];
    let deadline = received + SignedDuration::from_hours(24 * 7);
    // Answered within a week mostly; recent ones still open; a few old ones forgotten.
    let answer_after = SignedDuration::from_mins(30 + ((h >> 16) % (60 * 24 * 6)) as i64);
    let answered = age > answer_after && (h >> 32) % 1000 >= 2;
    let closed = answered && age > answer_after + SignedDuration::from_hours(48);
    let status = if closed {
        "closed"
    } else if answered {
        "waiting_for_citizen"
    } else if age > SignedDuration::from_hours(2) {
        "open"
    } else {
        "new"
    };
    let answered_at = received + answer_after;
    let closed_at = answered_at + SignedDuration::from_hours(48);
    let year = received.to_zoned(jiff::tz::TimeZone::UTC).year();
    let number = {
        let n = m.numbers.entry(year).or_insert(0);
        *n += 1;
        *n
    };
    let reference = format!("{year:04}-{number:06}");
    let first = crate::search::FIRST[(h >> 40) as usize % 12];
    let last = crate::search::LAST[(h >> 44) as usize % 12];
    let name = format!("{first} {last}");
    let email = format!(
        "{}.{}{i}@example.no",
        first.to_lowercase(),
        last.to_lowercase()
    );
    let body = crate::search::text(i);
    let preview = torg_domain::inquiry::preview(&body, 140);
    let reply = format!(
        "Hei {first}! Takk for at du tok kontakt. Saken er sendt videre til {} og blir fulgt opp.",
        UNITS[(h % 5) as usize].to_lowercase()
    );
    let id = i + 1;
    let ms_of = |t: Timestamp| t.as_millisecond().to_string();
    let (id_s, tenant_s, unit_s) = (
        id.to_string(),
        m.id.get().to_string(),
        unit.get().to_string(),
    );
    let updated = if closed {
        closed_at
    } else if answered {
        answered_at
    } else {
        received
    };
    row(
        &mut b.inquiries,
        &[
            Some(&id_s),
            Some(&tenant_s),
            Some(&year.to_string()),
            Some(&number.to_string()),
            Some(&reference),
            Some(channel.as_str()),
            Some(status),
            Some("other"),
            None,
            Some(&name),
            Some(&email),
            None,
            Some("nb"),
            Some(&unit_s),
            None,
            Some("0"),
            Some(&format!("n-{i}")),
            Some(&preview),
            Some(&ms_of(received)),
            Some(&ms_of(received)),
            answered.then(|| ms_of(answered_at)).as_deref(),
            closed.then(|| ms_of(closed_at)).as_deref(),
            Some(&ms_of(deadline)),
            Some(&ms_of(updated)),
        ],
    );
    row(
        &mut b.messages,
        &[
            Some(&(2 * i + 1).to_string()),
            Some(&tenant_s),
            Some(&id_s),
            Some("inbound"),
            Some(&name),
            Some(&body),
            Some(&ms_of(received)),
        ],
    );
    let mut texts = format!("{name}\n{email}\n{body}");
    let mut audit = vec![(
        received,
        NewAuditEntry {
            actor: "citizen".into(),
            action: "inquiry.created".into(),
            object: format!("inquiry:{id}"),
            detail: reference.clone(),
            source: String::new(),
        },
    )];
    if answered {
        row(
            &mut b.messages,
            &[
                Some(&(2 * i + 2).to_string()),
                Some(&tenant_s),
                Some(&id_s),
                Some("outbound"),
                Some("Servicetorget"),
                Some(&reply),
                Some(&ms_of(answered_at)),
            ],
        );
        texts.push('\n');
        texts.push_str(&reply);
        audit.push((
            answered_at,
            NewAuditEntry {
                actor: "user:1".into(),
                action: "inquiry.replied".into(),
                object: format!("inquiry:{id}"),
                detail: String::new(),
                source: String::new(),
            },
        ));
    }
    for (at, e) in audit {
        m.seq += 1;
        m.hash = chain_hash(&m.hash, m.seq, at, &e);
        let (seq, at) = (m.seq.to_string(), ms_of(at));
        row(
            &mut b.audit,
            &[
                Some(&tenant_s),
                Some(&seq),
                Some(&at),
                Some(&e.actor),
                Some(&e.action),
                Some(&e.object),
                Some(&e.detail),
                Some(&e.source),
                Some(&m.hash),
            ],
        );
    }
    // With the municipality's own lexeme, as PostgreSQL's store writes it, and the inquiry's
    // blocks, as its trigger adds them (the loading session runs as a replica: no triggers).
    let mut terms = torg_domain::search::terms(&texts);
    terms.push(format!("#{}", m.id.get()));
    terms.extend(torg_store_sql::search_block_lexemes(m.id.get(), id as i64));
    let terms = tsvector(&terms);
    row(&mut b.terms, &[Some(&id_s), Some(&tenant_s), Some(&terms)]);
}

const COPY_INQUIRIES: &str = "COPY inquiries (id, tenant_id, ref_year, ref_number, reference, channel, status, topic, subject, citizen_name, contact_email, contact_phone, language, unit_id, assignee_id, priority, follow_token_hash, preview, received_at, acknowledged_at, first_answer_at, closed_at, deadline_at, updated_at) FROM STDIN";
const COPY_MESSAGES: &str =
    "COPY messages (id, tenant_id, inquiry_id, kind, author_name, body, created_at) FROM STDIN";
const COPY_AUDIT: &str =
    "COPY audit_log (tenant_id, seq, at, actor, action, object, detail, source, hash) FROM STDIN";
const COPY_TERMS: &str = "COPY inquiry_terms (inquiry_id, tenant_id, terms) FROM STDIN";
/// The tables loaded in bulk: their secondary indexes are dropped first and built after.
const LOADED: &str = "'inquiries', 'messages', 'audit_log', 'inquiry_terms'";

async fn copy(pool: &sqlx::PgPool, statement: &str, text: String) -> Result<()> {
    let mut c = pool.copy_in_raw(statement).await?;
    c.send(text.into_bytes()).await?;
    c.finish().await?;
    Ok(())
}

async fn generate(pool: &sqlx::PgPool, store: &dyn Store, args: &NationalArgs) -> Result<()> {
    let t0 = Instant::now();
    let n = args.inquiries;
    let mut ms = Vec::with_capacity(args.municipalities);
    let setup = crate::bench::bar(args.municipalities as u64, "municipalities");
    for k in 0..args.municipalities {
        let m = store
            .create_municipality(NewMunicipality {
                slug: format!("k{k:03}"),
                name: format!("Kommune {k:03}"),
                time_zone: "Europe/Oslo".into(),
                language: "nb".into(),
            })
            .await?;
        let mut units = vec![];
        for (u, name) in UNITS.iter().enumerate() {
            units.push(store.create_unit(m.id, name, u == 0, false, None).await?.id);
        }
        if k == 0 || k == args.municipalities - 1 {
            store
                .create_user(
                    m.id,
                    NewUser {
                        email: None,
                        username: "saksbehandler".into(),
                        full_name: "Siri Saksbehandler".into(),
                        password_hash: torg_core::secrets::hash_password(PASSWORD)?,
                        password_set_by: None,
                        role: Role::ServiceDesk,
                        unit_id: Some(units[0]),
                    },
                    None,
                )
                .await?;
        }
        let (seq, hash) = sqlx::query_as::<_, (i64, String)>(
            "SELECT seq, hash FROM audit_log WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1",
        )
        .bind(m.id.get())
        .fetch_optional(pool)
        .await?
        .unwrap_or((0, GENESIS.to_string()));
        ms.push(Municipality {
            id: m.id,
            units,
            seq,
            hash,
            numbers: Default::default(),
        });
        setup.inc(1);
    }
    setup.finish();

    let indexes: Vec<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename IN ({LOADED}) \
         AND indexname NOT IN (SELECT conname FROM pg_constraint)"
    )))
    .fetch_all(pool)
    .await?;
    for (name, _) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX {name}")))
            .execute(pool)
            .await?;
    }
    let now = Timestamp::now();
    let bar = crate::bench::bar(n, "inquiries");
    // Generating (one core) and copying (PostgreSQL's) overlap: one batch is sent while
    // the next is made.
    let mut sending: Option<tokio::task::JoinHandle<Result<()>>> = None;
    let mut next = 0;
    while next < n {
        let end = (next + BATCH).min(n);
        let mut b = Batch::default();
        for i in next..end {
            generate_one(i, n, now, &mut ms, &mut b);
        }
        if let Some(s) = sending.take() {
            s.await??;
        }
        let pool = pool.clone();
        sending = Some(tokio::spawn(async move {
            copy(&pool, COPY_INQUIRIES, b.inquiries).await?;
            let (m, a, t) = tokio::join!(
                copy(&pool, COPY_MESSAGES, b.messages),
                copy(&pool, COPY_AUDIT, b.audit),
                copy(&pool, COPY_TERMS, b.terms)
            );
            m.and(a).and(t)
        }));
        bar.inc(end - next);
        next = end;
    }
    if let Some(s) = sending.take() {
        s.await??;
    }
    bar.finish();
    let loaded = t0.elapsed();
    let t1 = Instant::now();
    let rebuild = crate::bench::bar(indexes.len() as u64, "indexes");
    for (_, def) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(def.clone()))
            .execute(pool)
            .await?;
        rebuild.inc(1);
    }
    rebuild.finish();
    // The running numbers and identities continue after the generated ones.
    let mut counters = String::new();
    for m in &ms {
        for (year, last) in &m.numbers {
            let _ = writeln!(counters, "{}\t{year}\t{last}", m.id.get());
        }
    }
    copy(
        pool,
        "COPY reference_counters (tenant_id, year, last_number) FROM STDIN",
        counters,
    )
    .await?;
    for table in ["inquiries", "messages"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
        )))
        .execute(pool)
        .await?;
    }
    println!("Vacuuming and analysing (as autovacuum would)…");
    sqlx::query("VACUUM (ANALYZE)").execute(pool).await?;
    println!(
        "Generated {n} inquiries over {} municipalities: loaded in {:.0} s, indexed and analysed in {:.0} s",
        args.municipalities,
        loaded.as_secs_f64(),
        t1.elapsed().as_secs_f64()
    );
    Ok(())
}

fn stats(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    (
        crate::bench::percentile(&times, 0.5),
        crate::bench::percentile(&times, 0.95),
    )
}

async fn timed<F, Fut>(samples: usize, mut f: F) -> Result<(f64, f64)>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mut times = vec![];
    for k in 0..samples + 5 {
        let t0 = Instant::now();
        f(k).await?;
        if k >= 5 {
            times.push(t0.elapsed());
        }
    }
    Ok(stats(times))
}

pub async fn run(args: NationalArgs) -> Result<()> {
    let url = match (&args.database, &args.postgres) {
        (Some(url), _) => url.clone(),
        (None, Some(admin)) => torg_store_sql::postgres::create_test_database(admin).await?,
        (None, None) => anyhow::bail!(
            "give --postgres ADMIN_URL (a new database) or --database URL (one made before)"
        ),
    };
    let pg = Arc::new(torg_store_sql::PostgresStore::connect(&url).await?);
    let store: &dyn Store = &*pg;
    if args.database.is_none() {
        println!("Generating into {url}");
        // The loading connections skip the foreign keys' checks (the generator keeps them),
        // as pg_restore does; this needs a superuser, as a bulk load does.
        let load = sqlx::postgres::PgPoolOptions::new()
            .max_connections(4)
            .connect_with(
                url.parse::<sqlx::postgres::PgConnectOptions>()?
                    .options([("session_replication_role", "replica")]),
            )
            .await?;
        generate(&load, store, &args).await?;
    }
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inquiries")
        .fetch_one(pg.pool())
        .await?;
    let messages: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages")
        .fetch_one(pg.pool())
        .await?;
    let audit: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(pg.pool())
        .await?;
    let size: String =
        sqlx::query_scalar("SELECT pg_size_pretty(pg_database_size(current_database()))")
            .fetch_one(pg.pool())
            .await?;
    println!("PostgreSQL: {total} inquiries, {messages} messages, {audit} audit entries; {size}");

    let last = format!("k{:03}", args.municipalities - 1);
    for slug in ["k000", last.as_str()] {
        let m = store
            .municipality_by_slug(slug)
            .await?
            .context("a generated municipality")?;
        let held = store.count_inquiries(m.id).await?;
        let units = store.list_units(m.id).await?;
        let open = store
            .count_matching(
                m.id,
                &InquiryFilter {
                    status: StatusFilter::NotClosed,
                    ..Default::default()
                },
            )
            .await?;
        println!("{} ({held} inquiries, {open} not closed):", m.name);
        let (p50, p95) = timed(args.samples, |k| {
            let filter = InquiryFilter {
                status: StatusFilter::NotClosed,
                unit_id: Some(units[k % units.len()].id),
                ..Default::default()
            };
            async move {
                store.list_inquiries(m.id, &filter, None, 50).await?;
                Ok(())
            }
        })
        .await?;
        println!("  a unit's 50 most urgent: p50 {p50:.2} ms, p95 {p95:.2} ms");
        for (what, words) in [
            ("a word in 1 %", "brøyting"),
            ("a word in half", "vann"),
            ("two words", "brøyting vann"),
            ("a name", "Hansen"),
            ("a word in none", "fjellklatring"),
        ] {
            let filter = InquiryFilter {
                status: StatusFilter::Any,
                search: Some(words.into()),
                ..Default::default()
            };
            let filter = &filter;
            let (p50, p95) = timed(args.samples, |_| async move {
                // The first page and the count, as the inbox takes them.
                let page = torg_core::search::list(store, m.id, filter, None, 50, Timestamp::now())
                    .await?;
                if page.hits.is_none() {
                    store.count_matching(m.id, filter).await?;
                }
                Ok(())
            })
            .await?;
            println!(
                "  search, {what} ({words}), first page and count: p50 {p50:.2} ms, p95 {p95:.2} ms"
            );
        }
    }

    // The pages, through a real `torg serve` on this database.
    let dir = tempfile::tempdir()?;
    let config = dir.path().join("torg.toml");
    std::fs::write(
        &config,
        "rate_limit_api_per_second = 0\nrate_limit_portal_per_minute = 0\n",
    )?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut server = Command::new(crate::bench::torg_binary()?)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path())
        .arg("--database")
        .arg(&url)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("serve")
        .env("TORG_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start torg serve")?;
    let result = pages(port, &last, args.samples).await;
    let _ = server.kill();
    let _ = server.wait();
    result
}

async fn pages(port: u16, small: &str, samples: usize) -> Result<()> {
    let base = format!("http://127.0.0.1:{port}");
    for slug in ["k000", small] {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let t0 = Instant::now();
        while client.get(format!("{base}/healthz")).send().await.is_err() {
            anyhow::ensure!(
                t0.elapsed() < Duration::from_secs(60),
                "torg serve did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        crate::bench::staff_login(&client, &base, slug, "saksbehandler", PASSWORD).await?;
        println!("Pages of {slug}:");
        for (what, path) in [
            ("the inbox", "/staff"),
            ("the inbox searched (brøyting)", "/staff?q=br%C3%B8yting"),
            (
                "the inbox searched in every status (vann, in half)",
                "/staff?q=vann&status=any",
            ),
            ("the evaluation page (this month)", "/staff/evaluation"),
        ] {
            let times =
                crate::bench::latency(&client, &[format!("{base}{path}")], samples, None).await?;
            let (p50, p95) = stats(times);
            println!("  {what}: p50 {p50:.2} ms, p95 {p95:.2} ms");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn municipalities_differ_in_size_as_said() {
        let n = 100_000;
        let mut counts = vec![0u64; 400];
        for i in 0..n {
            counts[municipality_of(i, 400)] += 1;
        }
        assert!((4_500..5_500).contains(&counts[0]), "{}", counts[0]);
        assert!(counts[1..10].iter().all(|c| (900..1_300).contains(c)));
        assert!(counts[10..].iter().all(|c| (100..350).contains(c)));
    }

    #[test]
    fn copy_text_escapes_what_would_break_a_row() {
        let mut out = String::new();
        row(&mut out, &[Some("a\tb\\c\nd"), None]);
        assert_eq!(out, "a\\tb\\\\c\\nd\t\\N\n");
        assert_eq!(tsvector(&["o'k".into(), "x".into()]), "'o''k' 'x'");
    }
}
