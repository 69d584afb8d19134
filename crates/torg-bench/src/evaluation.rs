//! `torg-bench evaluation`: two years of one municipality (generated inquiries on six
//! channels, most answered and closed, a third of the surveys answered), then the evaluation page's
//! work timed: `torg_core::evaluation::evaluate` for the year against the year before and the
//! same period a year earlier, as `/staff/evaluation` and the portal's statistics call it.

use crate::search::{Analyze, generate};
use anyhow::Result;
use jiff::Timestamp;
use std::sync::Arc;
use std::time::Instant;
use torg_core::evaluation::{Period, Scope};
use torg_core::intake::TenantConfig;
use torg_store::Store;

/// The answers, closings and surveys, written in bulk (as months of work would have).
fn work(tenant: i64) -> Vec<String> {
    vec![
        format!(
            "UPDATE inquiries SET first_answer_at = received_at + (id * 7919) % 172800000 \
             WHERE tenant_id = {tenant} AND id % 10 <> 0"
        ),
        format!(
            "UPDATE inquiries SET status = 'closed', closed_at = first_answer_at + (id * 104729) % 259200000 \
             WHERE tenant_id = {tenant} AND first_answer_at IS NOT NULL AND id % 5 <> 0"
        ),
        format!(
            "INSERT INTO surveys (tenant_id, inquiry_id, channel, unit_id, closed_at, due_at, sent_at, score, answered_at) \
             SELECT tenant_id, id, channel, unit_id, closed_at, closed_at, closed_at, \
             CASE WHEN id % 3 = 0 THEN 1 + id % 5 END, CASE WHEN id % 3 = 0 THEN closed_at END FROM inquiries \
             WHERE tenant_id = {tenant} AND status = 'closed' AND channel IN ('email', 'sms', 'web', 'chat')"
        ),
    ]
}

type Exec = Arc<dyn Fn(String) -> Analyze + Send + Sync>;

async fn measure(
    name: &str,
    store: Arc<dyn Store>,
    exec: Exec,
    analyze: &str,
    n: u64,
    samples: usize,
) -> Result<()> {
    // Two years: the year evaluated and the year before it compares with.
    let (tenant, rate) = generate(store.clone(), 2 * n, 730).await?;
    for sql in work(tenant.get()) {
        exec(sql).await?;
    }
    exec(analyze.into()).await?;
    println!("{name}: {n} inquiries a year, two years generated ({rate:.0} created per second)");
    let m = store
        .municipality(tenant)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the municipality is gone"))?;
    let config = TenantConfig::load(&*store, m).await?;
    let today = Timestamp::now()
        .to_zoned(config.calendar.zone().clone())
        .date();
    let scopes = [
        ("the municipality's year", None),
        (
            "one channel's year (email)",
            Some(torg_domain::Channel::Email),
        ),
    ];
    for (what, channel) in scopes {
        let scope = Scope {
            period: Period::new(today.saturating_sub(jiff::ToSpan::days(364)), today)?,
            unit: None,
            channel,
        };
        let mut times = vec![];
        let mut received = 0;
        for k in 0..samples + 2 {
            let t0 = Instant::now();
            let e =
                torg_core::evaluation::evaluate(&*store, &config, scope, Timestamp::now()).await?;
            received = e.now.received;
            if k >= 2 {
                times.push(t0.elapsed().as_secs_f64() * 1000.0);
            }
        }
        times.sort_by(f64::total_cmp);
        let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
        println!(
            "  {what}: {received} inquiries evaluated with the year before: p50 {:.1} ms, p95 {:.1} ms",
            at(0.5),
            at(0.95)
        );
    }
    Ok(())
}

pub async fn run(inquiries: u64, samples: usize, postgres: Option<String>) -> Result<()> {
    let dir = tempfile::tempdir()?;
    // TORG_BENCH_KEEP=FILE keeps the SQLite database for a look at its plans.
    let file = std::env::var_os("TORG_BENCH_KEEP")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("torg.db"));
    let sqlite = Arc::new(torg_store_sql::SqliteStore::open(&file).await?);
    let pool = sqlite.pool().clone();
    let exec: Exec = Arc::new(move |sql: String| -> Analyze {
        let pool = pool.clone();
        Box::pin(async move {
            sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await?;
            Ok(())
        })
    });
    measure("SQLite", sqlite, exec, "ANALYZE", inquiries, samples).await?;
    if let Some(admin) = postgres {
        let url = torg_store_sql::postgres::create_test_database(&admin).await?;
        let pg = Arc::new(torg_store_sql::PostgresStore::connect(&url).await?);
        let pool = pg.pool().clone();
        let exec: Exec = Arc::new(move |sql: String| -> Analyze {
            let pool = pool.clone();
            Box::pin(async move {
                sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await?;
                Ok(())
            })
        });
        // Autovacuum would have marked the pages visible by now: index-only scans.
        measure("PostgreSQL", pg, exec, "VACUUM ANALYZE", inquiries, samples).await?;
    }
    Ok(())
}
