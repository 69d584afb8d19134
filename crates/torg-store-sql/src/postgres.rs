//! PostgreSQL: for large and multi-node installations.

use sqlx::postgres::PgPoolOptions;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// The PostgreSQL store. Cloning shares the pool and the writer.
#[derive(Clone)]
pub struct PostgresStore {
    pool: sqlx::PgPool,
    writer: tokio::sync::mpsc::Sender<crate::batch::Job>,
    /// The index's frequent terms (see [`PostgresStore::frequent_terms`]) and when they were
    /// read.
    frequent: Arc<std::sync::Mutex<Option<FrequentTerms>>>,
}

/// Terms set apart in searches, and when they were read.
type FrequentTerms = (std::time::Instant, Arc<HashSet<String>>);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl PostgresStore {
    /// Connects to `url` and applies migrations.
    pub async fn connect(url: &str) -> Result<PostgresStore, torg_store::StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect(url)
            .await
            .map_err(crate::db_err)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| torg_store::StoreError::Database(format!("migrations failed: {e}")))?;
        let (writer, rx) = tokio::sync::mpsc::channel(1024);
        tokio::spawn(shared::run_writer(pool.clone(), rx));
        Ok(PostgresStore {
            pool,
            writer,
            frequent: Arc::default(),
        })
    }
}

impl PostgresStore {
    /// The underlying pool, for bulk tools (benchmarks).
    pub fn pool(&self) -> &sqlx::PgPool {
        &self.pool
    }

    fn bus(&self) -> Option<&dyn torg_store::NodeBus> {
        Some(self)
    }
}

/// LISTEN/NOTIFY: every node of an installation shares the database, so it carries their live
/// events.
#[async_trait::async_trait]
impl torg_store::NodeBus for PostgresStore {
    async fn send(&self, topic: &str, payload: &str) -> Result<(), torg_store::StoreError> {
        if payload.len() > torg_store::NODE_BUS_MAX_PAYLOAD {
            return Err(torg_store::StoreError::Database(format!(
                "a node event of {} bytes is larger than {}",
                payload.len(),
                torg_store::NODE_BUS_MAX_PAYLOAD
            )));
        }
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(topic)
            .bind(payload)
            .execute(&self.pool)
            .await
            .map_err(crate::db_err)?;
        Ok(())
    }

    async fn listen(
        &self,
        topic: &str,
    ) -> Result<tokio::sync::mpsc::Receiver<String>, torg_store::StoreError> {
        let mut listener = listen_again(&self.pool, topic)
            .await
            .map_err(crate::db_err)?;
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let topic = topic.to_string();
        let pool = self.pool.clone();
        tokio::spawn(async move {
            loop {
                match listener.try_recv().await {
                    Ok(Some(n)) => {
                        if tx.send(n.payload().to_string()).await.is_err() {
                            break;
                        }
                    }
                    // Lost: the receiver is told at once, the connection made again (and
                    // listening) before it is told to read afresh.
                    Ok(None) | Err(_) => {
                        tracing::warn!(%topic, "node bus: connection lost, listening again");
                        if tx
                            .send(torg_store::NODE_BUS_DOWN.to_string())
                            .await
                            .is_err()
                        {
                            break;
                        }
                        listener = loop {
                            match listen_again(&pool, &topic).await {
                                Ok(l) => break l,
                                Err(e) => {
                                    tracing::warn!(%topic, error = %e, "node bus: cannot listen; trying again");
                                    tokio::time::sleep(Duration::from_secs(1)).await;
                                }
                            }
                        };
                        if tx
                            .send(torg_store::NODE_BUS_LOST.to_string())
                            .await
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            }
        });
        Ok(rx)
    }
}

/// A new listening connection on `topic`.
async fn listen_again(
    pool: &sqlx::PgPool,
    topic: &str,
) -> Result<sqlx::postgres::PgListener, sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(topic).await?;
    Ok(listener)
}

// The SQL of every capability, shared by both backends (`sql/*.rs`), is compiled here with
// this backend's database and its few differences.
type Db = sqlx::Postgres;
type This = PostgresStore;
const BACKEND: &str = "postgres";
/// Write transactions begin so.
const BEGIN_WRITE: &str = "BEGIN";
/// A user's columns, their unit memberships as comma-separated ids last.
const USER_COLUMNS: &str = "id, tenant_id, username, full_name, password_hash, role, unit_id, active, failed_logins, locked_until, external_subject, email, password_set_by, (SELECT string_agg(unit_id::text, ',') FROM unit_memberships m WHERE m.tenant_id = users.tenant_id AND m.user_id = users.id) AS member_of";
// Appenders to one municipality's audit chain take turns until their commit.
const LOCK_AUDIT_CHAIN: &str = "SELECT pg_advisory_xact_lock(7305, $1::int4)";
// Exports of a municipality give journal numbers in turn.
const LOCK_JOURNAL: &str = "SELECT pg_advisory_xact_lock(7306, $1::int4)";

/// The search index (`inquiry_terms`, a tsvector with GIN): an inquiry's terms written ($1
/// inquiry, $2 municipality, $3 the terms separated by spaces) with the municipality's own
/// lexeme `#<municipality>` (the trigger of migration 0043 adds the inquiry's blocks of ids to
/// every row written; see [`push_search_from`] and [`crate::SearchSpan`]), added to, and
/// removed.
const SEARCH_ADD: &str = "INSERT INTO inquiry_terms (inquiry_id, tenant_id, terms) VALUES ($1, $2, array_to_tsvector(string_to_array($3, ' ') || ('#' || $2::text)))";
const SEARCH_APPEND: &str = "UPDATE inquiry_terms SET terms = terms || array_to_tsvector(string_to_array($3, ' ')) WHERE inquiry_id = $1 AND tenant_id = $2";
const SEARCH_REMOVE: &str = "DELETE FROM inquiry_terms WHERE inquiry_id = $1";
/// A search's transaction first: no parallel workers (starting them costs more than the
/// few hundred rows a span reads).
const SEARCH_SETUP: &str = "SET LOCAL max_parallel_workers_per_gather = 0";
/// Whether a search asks its newest blocks of ids first (see [`crate::SearchSpan`]).
const SEARCH_BY_BLOCKS: bool = true;
/// A search's inquiries in `span`, driven by the index: `FROM … WHERE` the terms match and the
/// municipality's, newest first with `SEARCH_ORDER DESC`. The municipality (or the span's
/// blocks of it) is asked for as lexemes of the same query, so the GIN index intersects a
/// word's rows with the municipality's itself instead of reading every municipality's rows
/// with that word.
fn push_search_from(
    q: &mut sqlx::QueryBuilder<Db>,
    tenant: i64,
    query: &torg_domain::search::Query,
    span: crate::SearchSpan,
    frequent: &HashSet<String>,
) {
    let whose = match span {
        crate::SearchSpan::Blocks {
            level,
            newest,
            oldest,
            ..
        } => {
            let name = match level {
                0 => format!("#{tenant}"),
                l => format!("#{tenant}:{l}"),
            };
            let blocks: Vec<String> = (oldest..=newest)
                .rev()
                .map(|b| format!("'{name}/{b}'"))
                .collect();
            format!("({})", blocks.join(" | "))
        }
        crate::SearchSpan::Below(_) => format!("'#{tenant}'"),
    };
    // A span's hits are found by the index first (`OFFSET 0` keeps the planner from driving
    // from the municipality's inquiries instead: it cannot know how few rows a block holds),
    // then joined; the rest is the planner's to drive.
    let fenced = matches!(span, crate::SearchSpan::Blocks { .. });
    // Terms in a twentieth of all rows or more are checked on the rows the rarer terms found,
    // not intersected in the index (their lists are long: "vann" beside "brøyting" cost the
    // index 50 ms); a query of only frequent terms asks the index for them all.
    let (rare, common): (Vec<&str>, Vec<&str>) = query
        .terms
        .iter()
        .map(String::as_str)
        .partition(|t| !frequent.contains(*t));
    let (indexed, checked) = if rare.is_empty() {
        (common, vec![])
    } else {
        (rare, common)
    };
    q.push(if fenced {
        " FROM (SELECT s.inquiry_id FROM inquiry_terms s WHERE s.terms @@ (CAST("
    } else {
        " FROM inquiry_terms s JOIN inquiries ON inquiries.id = s.inquiry_id WHERE s.terms @@ (CAST("
    })
    .push_bind(torg_domain::search::tsquery_of(indexed))
    .push(" AS tsquery) && CAST(")
    .push_bind(whose)
    .push(" AS tsquery)) AND s.tenant_id = ")
    .push_bind(tenant);
    if !checked.is_empty() {
        // A function call, not the operator: the index cannot take it.
        q.push(" AND ts_match_vq(s.terms, CAST(")
            .push_bind(torg_domain::search::tsquery_of(checked))
            .push(" AS tsquery))");
    }
    if let crate::SearchSpan::Below(Some(below)) | crate::SearchSpan::Blocks { below, .. } = span {
        q.push(" AND s.inquiry_id < ").push_bind(below);
    }
    if fenced {
        q.push(" OFFSET 0) s JOIN inquiries ON inquiries.id = s.inquiry_id WHERE TRUE");
    }
    q.push(" AND inquiries.tenant_id = ").push_bind(tenant);
}
const SEARCH_ORDER: &str = "inquiries.id";
/// Inquiries not in the index yet.
const SEARCH_MISSING: &str =
    "NOT EXISTS (SELECT 1 FROM inquiry_terms s WHERE s.inquiry_id = inquiries.id)";

impl PostgresStore {
    /// The terms in a twentieth of the index's rows or more, as PostgreSQL's statistics of
    /// the index (`ANALYZE`) say; read again every ten minutes.
    async fn frequent_terms(&self) -> torg_store::Result<Arc<HashSet<String>>> {
        const FRESH: Duration = Duration::from_secs(600);
        if let Some((at, terms)) = &*self.frequent.lock().unwrap_or_else(|e| e.into_inner())
            && at.elapsed() < FRESH
        {
            return Ok(terms.clone());
        }
        // No statistics yet (a new database, before ANALYZE): none set apart.
        type Stats = (Option<Vec<String>>, Option<Vec<f32>>);
        let row: Option<Stats> = sqlx::query_as(
            "SELECT most_common_elems::text::text[], most_common_elem_freqs FROM pg_stats \
             WHERE schemaname = current_schema() AND tablename = 'inquiry_terms' AND attname = 'terms'",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(crate::db_err)?;
        let terms: HashSet<String> = match row {
            Some((Some(terms), Some(freqs))) => terms
                .into_iter()
                .zip(freqs)
                .filter(|(_, f)| *f >= 0.05)
                .map(|(t, _)| t)
                .collect(),
            _ => HashSet::new(),
        };
        let terms = Arc::new(terms);
        *self.frequent.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((std::time::Instant::now(), terms.clone()));
        Ok(terms)
    }
}

#[path = "sql/archive.rs"]
mod archive;
#[path = "sql/audit.rs"]
mod audit;
#[path = "sql/channels.rs"]
mod channels;
#[path = "sql/directory.rs"]
mod directory;
#[path = "sql/evaluation.rs"]
mod evaluation;
#[path = "sql/inquiries.rs"]
mod inquiries;
#[path = "sql/jobs.rs"]
mod jobs;
#[path = "sql/listening.rs"]
mod listening;
#[path = "sql/outbox.rs"]
mod outbox;
#[path = "sql/policies.rs"]
mod policies;
#[path = "sql/publishing.rs"]
mod publishing;
#[path = "sql/shared.rs"]
mod shared;
#[path = "sql/store.rs"]
mod store;
#[path = "sql/subscriptions.rs"]
mod subscriptions;
#[path = "sql/webhooks.rs"]
mod webhooks;
#[path = "sql/wheel.rs"]
mod wheel;

/// Creates a fresh, uniquely named database on the server at `admin_url` and returns its
/// URL. For tests: each test gets a database of its own, so tests run in parallel.
pub async fn create_test_database(admin_url: &str) -> Result<String, torg_store::StoreError> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(admin_url)
        .await
        .map_err(crate::db_err)?;
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    // Tests of one process create databases in parallel, sometimes within one clock tick: a
    // counter keeps their names apart.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let serial = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("torg_test_{}_{}_{serial}", std::process::id(), nanos);
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .map_err(crate::db_err)?;
    let base = match admin_url.rfind('/') {
        Some(i) if admin_url[..i].contains("//") && i > admin_url.find("//").unwrap_or(0) + 1 => {
            &admin_url[..i]
        }
        _ => admin_url,
    };
    Ok(format!("{base}/{name}"))
}
