//! The storage conformance suite on both backends. PostgreSQL runs when
//! `TORG_TEST_POSTGRES_URL` names a server (`.ci/run` always sets it); each run gets a
//! fresh database of its own there.

use torg_store::conformance;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_passes_the_conformance_suite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = torg_store_sql::open(dir.path().join("torg.db").to_str().expect("utf-8 path"))
        .await
        .expect("open sqlite");
    conformance::run(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_passes_the_conformance_suite() {
    let Ok(admin_url) = std::env::var("TORG_TEST_POSTGRES_URL") else {
        eprintln!("TORG_TEST_POSTGRES_URL is not set: skipping PostgreSQL (.ci/run sets it)");
        return;
    };
    let url = torg_store_sql::postgres::create_test_database(&admin_url)
        .await
        .expect("PostgreSQL named by TORG_TEST_POSTGRES_URL must be reachable");
    let store = torg_store_sql::open(&url).await.expect("open postgres");
    conformance::run(store).await;
}
