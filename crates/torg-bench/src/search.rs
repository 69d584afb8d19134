//! `torg-bench search`: generated Norwegian and Swedish inquiries (a word in about 1 % of them,
//! another in half, names from lists), created through the store as intake creates them (the
//! index written in the same transaction), then the staff's search timed: the first page of
//! hits and their count, on SQLite and, with `--postgres URL`, on PostgreSQL beside it.

use anyhow::Result;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::{Duration, Instant};
use torg_domain::{Channel, Priority, TenantId, UnitId};
use torg_store::{InquiryFilter, NewInquiry, NewMunicipality, Origin, StatusFilter, Store};

pub(crate) const FIRST: [&str; 12] = [
    "Kari", "Ola", "Ingrid", "Lars", "Astrid", "Nils", "Sofia", "Erik", "Maja", "Johan", "Sigrid",
    "Anders",
];
pub(crate) const LAST: [&str; 12] = [
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersson",
    "Lindqvist",
    "Berg",
    "Haugen",
    "Nilsson",
    "Dahl",
    "Solberg",
    "Karlsson",
];
/// Sentences that hold neither of the measured words.
const FILLER: [&str; 16] = [
    "Søppelet ble ikke hentet på tirsdag.",
    "Gatelyset utenfor huset mitt har vært mørkt i en uke.",
    "Jeg lurer på når barnehageplassen blir tildelt.",
    "Kan noen se på hullet i fortauet ved skolen?",
    "Bussen til sentrum kom ikkje i dag heller.",
    "Eg vil gjerne vite kva som skjer med byggesaka mi.",
    "Kommunen må rydde parken etter konserten.",
    "Hvem kan jeg snakke med om eiendomsskatten?",
    "Sophämtningen har inte kommit på två veckor.",
    "Jag undrar när bygglovet blir klart.",
    "Gatubelysningen på vår gata fungerar inte.",
    "Förskolan har stängt utan att meddela oss.",
    "Biblioteket burde ha lengre åpningstider.",
    "Naboen brenner bål i hagen hver kveld.",
    "Fakturaen for feiing er feil.",
    "Hjemmetjenesten kom for sent til mor i går.",
];

/// The text of generated inquiry `i`: "brøyting" in forms and compounds in 1 %, "vann" in
/// half, three sentences of filler.
pub(crate) fn text(i: u64) -> String {
    let mut parts = vec![];
    if i % 100 == 8 {
        parts.push(
            [
                "Snøbrøytingen i gata vår er ikke gjort.",
                "Vegen vart ikkje brøyta i natt.",
                "Når blir veien brøytet?",
            ][(i / 100 % 3) as usize],
        );
    }
    if i.is_multiple_of(2) {
        parts.push(
            [
                "Vannet i springen er brunt.",
                "Det lekker vann fra kummen.",
                "Vannkummen i gata er full.",
            ][(i / 2 % 3) as usize],
        );
    }
    let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for k in 0..3 {
        parts.push(FILLER[((h >> (k * 8)) % FILLER.len() as u64) as usize]);
    }
    parts.join(" ")
}

/// `n` inquiries spread evenly over the last `days` days.
pub(crate) async fn generate(store: Arc<dyn Store>, n: u64, days: u64) -> Result<(TenantId, f64)> {
    let m = store
        .create_municipality(NewMunicipality {
            slug: "sok".into(),
            name: "Søk kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await?;
    let unit: UnitId = store
        .create_unit(m.id, "Servicetorget", true, false, None)
        .await?
        .id;
    let bar = indicatif::ProgressBar::new(n).with_style(
        indicatif::ProgressStyle::with_template(
            "creating [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let start = Timestamp::now() - SignedDuration::from_hours(24 * days as i64);
    let t0 = Instant::now();
    let mut next = 0u64;
    while next < n {
        let mut set = tokio::task::JoinSet::new();
        let end = (next + 2048).min(n);
        for i in next..end {
            let store = store.clone();
            let received = start + SignedDuration::from_secs((i * days * 86_400 / n.max(1)) as i64);
            set.spawn(async move {
                let first = FIRST[(i % 12) as usize];
                let last = LAST[(i / 12 % 12) as usize];
                store
                    .create_inquiry(NewInquiry {
                        tenant_id: m.id,
                        channel: Channel::ALL[(i % 6) as usize],
                        topic: None,
                        subject: None,
                        citizen_name: format!("{first} {last}"),
                        contact_email: Some(format!(
                            "{}.{}{i}@example.no",
                            first.to_lowercase(),
                            last.to_lowercase()
                        )),
                        contact_phone: None,
                        language: "nb".into(),
                        unit_id: unit,
                        priority: Priority::Normal,
                        follow_token_hash: format!("sok-{i}"),
                        body: text(i),
                        attachments: vec![],
                        received_at: received,
                        reference_year: 2026,
                        deadline_at: received + SignedDuration::from_hours(48),
                        external_id: None,
                        thread_key: None,
                        acknowledgement: None,
                        origin: Origin {
                            actor: "bench".into(),
                            source: String::new(),
                        },
                    })
                    .await
            });
        }
        while let Some(r) = set.join_next().await {
            r??;
        }
        bar.inc(end - next);
        next = end;
    }
    bar.finish_and_clear();
    Ok((m.id, n as f64 / t0.elapsed().as_secs_f64()))
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// p50 and p95 of `samples` searches for `words`: the first page (50) of the ranked hits
/// and the count, as the inbox and the API make them; and, alternating with it, the first
/// page newest first (the store's order before ranking) with the count, for the ratio.
async fn time_search(
    store: &dyn Store,
    tenant: TenantId,
    words: &str,
    samples: usize,
) -> Result<[(f64, f64, usize, i64); 2]> {
    let filter = InquiryFilter {
        status: StatusFilter::Any,
        search: Some(words.to_string()),
        ..Default::default()
    };
    let mut times = [vec![], vec![]];
    let mut found = [(0, 0); 2];
    for k in 0..samples + 3 {
        for (way, (times, found)) in times.iter_mut().zip(found.iter_mut()).enumerate() {
            let t0 = Instant::now();
            // The ranked first page brings its count, as the inbox takes it.
            let (page, hits) = if way == 0 {
                let page = torg_core::search::list(
                    store,
                    tenant,
                    &filter,
                    None,
                    50,
                    jiff::Timestamp::now(),
                )
                .await?;
                (page.items.len(), page.hits)
            } else {
                let page = store.list_inquiries(tenant, &filter, None, 50).await?;
                (page.len(), None)
            };
            let count = match hits {
                Some(n) => n,
                None => store.count_matching(tenant, &filter).await?,
            };
            if k >= 3 {
                times.push(t0.elapsed());
            }
            *found = (page, count);
        }
    }
    Ok([0, 1].map(|way| {
        let times = &mut times[way];
        times.sort();
        let at = |q: f64| ms(times[((times.len() as f64 - 1.0) * q).round() as usize]);
        (at(0.5), at(0.95), found[way].0, found[way].1)
    }))
}

/// After a bulk load the planner's statistics are brought up to date, as autovacuum does a
/// little later on a running installation.
pub(crate) type Analyze = std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>>>>;

async fn measure(
    name: &str,
    store: Arc<dyn Store>,
    analyze: impl FnOnce() -> Analyze,
    n: u64,
    samples: usize,
    reindex: bool,
) -> Result<()> {
    let (tenant, rate) = generate(store.clone(), n, 365).await?;
    analyze().await?;
    println!(
        "{name}: {n} inquiries created through the store with the index: {rate:.0} per second"
    );
    for (what, words) in [
        (
            "a word in 1 % (brøyting: brøytet, brøyta, snøbrøytingen)",
            "brøyting",
        ),
        ("a word in half (vann: vannet, vann)", "vann"),
        ("two words, 1 % and half", "brøyting vann"),
        ("a name (Hansen)", "Hansen"),
        ("a word in none", "fjellklatring"),
    ] {
        let [ranked, newest] = time_search(&*store, tenant, words, samples).await?;
        let (p50, p95, page, count) = ranked;
        println!(
            "  {what}: first page {page} and count {count}: p50 {p50:.2} ms, p95 {p95:.2} ms \
             (newest first, unranked: p50 {:.2} ms, p95 {:.2} ms)",
            newest.0, newest.1
        );
    }
    if !reindex {
        return Ok(());
    }
    let t0 = Instant::now();
    let rebuilt = torg_core::search::reindex(&*store, false, |_| {}).await?;
    println!(
        "  torg search reindex: {rebuilt} inquiries in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

pub async fn run(
    inquiries: u64,
    samples: usize,
    postgres: Option<String>,
    reindex: bool,
) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let sqlite = Arc::new(torg_store_sql::SqliteStore::open(&dir.path().join("torg.db")).await?);
    let pool = sqlite.pool().clone();
    let analyze = move || -> Analyze {
        Box::pin(async move {
            sqlx::query("ANALYZE").execute(&pool).await?;
            Ok(())
        })
    };
    measure("SQLite", sqlite, analyze, inquiries, samples, reindex).await?;
    if let Some(admin) = postgres {
        let url = torg_store_sql::postgres::create_test_database(&admin).await?;
        let pg = Arc::new(torg_store_sql::PostgresStore::connect(&url).await?);
        let pool = pg.pool().clone();
        let analyze = move || -> Analyze {
            Box::pin(async move {
                sqlx::query("ANALYZE").execute(&pool).await?;
                Ok(())
            })
        };
        measure("PostgreSQL", pg, analyze, inquiries, samples, reindex).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_words_come_as_often_as_said() {
        let n = 10_000;
        let rare = (0..n).filter(|i| super::text(*i).contains("brøyt")).count();
        let half = (0..n)
            .filter(|i| super::text(*i).to_lowercase().contains("vann"))
            .count();
        assert_eq!(rare, 100);
        assert_eq!(half, n as usize / 2);
    }
}
