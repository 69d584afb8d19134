//! PostgreSQL: for large and multi-node installations.

use sqlx::postgres::PgPoolOptions;
use std::time::Duration;

/// The PostgreSQL store. Cloning shares the pool and the writer.
#[derive(Clone)]
pub struct PostgresStore {
    pool: sqlx::PgPool,
    writer: tokio::sync::mpsc::Sender<crate::batch::Job>,
}

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
        tokio::spawn(run_writer(pool.clone(), rx));
        Ok(PostgresStore { pool, writer })
    }
}

sql_store!(
    PostgresStore,
    sqlx::Postgres,
    "BEGIN",
    "postgres",
    "(SELECT string_agg(unit_id::text, ',') FROM unit_memberships m WHERE m.tenant_id = users.tenant_id AND m.user_id = users.id)",
    // Appenders to one municipality's audit chain take turns until their commit.
    "SELECT pg_advisory_xact_lock(7305, $1::int4)"
);

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
    let name = format!("torg_test_{}_{}", std::process::id(), nanos);
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
