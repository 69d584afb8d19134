//! The storage conformance suite on both backends, one test per story and backend, each on a
//! fresh database. PostgreSQL runs when `TORG_TEST_POSTGRES_URL` names a server (`.ci/run`
//! always sets it); each test gets a database of its own there.

use std::sync::Arc;
use torg_store::Store;

async fn sqlite() -> Option<(Arc<dyn Store>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = torg_store_sql::open(dir.path().join("torg.db").to_str().expect("utf-8 path"))
        .await
        .expect("open sqlite");
    Some((store, dir))
}

async fn postgres() -> Option<(Arc<dyn Store>, ())> {
    let Ok(admin_url) = std::env::var("TORG_TEST_POSTGRES_URL") else {
        eprintln!("TORG_TEST_POSTGRES_URL is not set: skipping PostgreSQL (.ci/run sets it)");
        return None;
    };
    let url = torg_store_sql::postgres::create_test_database(&admin_url)
        .await
        .expect("PostgreSQL named by TORG_TEST_POSTGRES_URL must be reachable");
    Some((torg_store_sql::open(&url).await.expect("open postgres"), ()))
}

mod sqlite_store {
    torg_store::conformance_tests!(super::sqlite);
}

mod postgres_store {
    torg_store::conformance_tests!(super::postgres);
}
