//! PostgreSQL's search asks the newest block of 4,096 ids first and larger, older blocks after: hits
//! far apart in id (as at a national host, where a municipality's inquiries are spread over
//! millions of ids) are found newest first, paged without gaps or repeats, counted, and never
//! another municipality's. Runs when `TORG_TEST_POSTGRES_URL` names a server (`.ci/run` sets
//! it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use jiff::Timestamp;
use torg_store::conformance::{fixture, new_inquiry, reindex_all};
use torg_store::{Cursor, InquiryFilter, StatusFilter, Store};

/// A new database on the server `TORG_TEST_POSTGRES_URL` names; `None` (skip) when unset.
async fn postgres() -> Option<torg_store_sql::PostgresStore> {
    let Ok(admin) = std::env::var("TORG_TEST_POSTGRES_URL") else {
        eprintln!("TORG_TEST_POSTGRES_URL is not set: skipping PostgreSQL (.ci/run sets it)");
        return None;
    };
    let url = torg_store_sql::postgres::create_test_database(&admin)
        .await
        .expect("PostgreSQL");
    Some(
        torg_store_sql::PostgresStore::connect(&url)
            .await
            .expect("open"),
    )
}

#[tokio::test]
async fn hits_far_apart_are_found_newest_first_across_spans() {
    let Some(pg) = postgres().await else {
        return;
    };
    let store: &dyn Store = &pg;
    let ours = fixture(store).await;
    let theirs = fixture(store).await;
    let now: Timestamp = "2026-12-01T10:00:00Z".parse().expect("t");
    // Ids in the newest block, in the next levels' blocks and far below them (the last span).
    let mut hits = vec![];
    for (n, id) in [
        5, 4_000, 4_100, 40_000, 300_000, 2_500_000, 9_000_000, 11_990_000, 12_000_000, 12_000_010,
    ]
    .into_iter()
    .enumerate()
    {
        sqlx::query("SELECT setval(pg_get_serial_sequence('inquiries', 'id'), $1, false)")
            .bind(id)
            .execute(pg.pool())
            .await
            .expect("ids jump");
        let body = if n == 3 {
            format!("Brøytingen i Storgata {n} er ikke gjort, og lyktestolpen er knekt")
        } else {
            format!("Brøytingen i Storgata {n} er ikke gjort")
        };
        let i = store
            .create_inquiry(new_inquiry(&ours, &body, now))
            .await
            .unwrap_or_else(|e| panic!("inquiry {n} at {id}: {e}"))
            .inquiry;
        assert_eq!(i.id.get(), id);
        hits.push(i.id);
        // Beside it, another municipality's with the same word, and one of ours without.
        store
            .create_inquiry(new_inquiry(&theirs, "Brøyting igjen", now))
            .await
            .expect("theirs");
        store
            .create_inquiry(new_inquiry(&ours, "Når tømmes søpla?", now))
            .await
            .expect("other words");
    }
    hits.reverse();
    // Statistics, so that the search knows "brøyting" (in two rows of three) is frequent and
    // checks it on the rows a rarer word finds.
    sqlx::query("ANALYZE inquiry_terms")
        .execute(pg.pool())
        .await
        .expect("analyze");
    let filter = InquiryFilter {
        status: StatusFilter::Any,
        search: Some("brøyting".into()),
        ..Default::default()
    };
    // Pages of three, newest first, each from where the last ended.
    let mut found = vec![];
    let mut after: Option<Cursor> = None;
    loop {
        let page = store
            .list_inquiries(ours.tenant.id, &filter, after.as_ref(), 3)
            .await
            .expect("page");
        found.extend(page.iter().map(|s| s.id));
        if page.len() < 3 {
            break;
        }
        after = page.last().map(|s| s.cursor());
    }
    assert_eq!(found, hits, "every hit once, newest first");
    assert_eq!(
        store
            .count_matching(ours.tenant.id, &filter)
            .await
            .expect("count"),
        hits.len() as i64
    );
    let theirs_found = store
        .list_inquiries(theirs.tenant.id, &filter, None, 50)
        .await
        .expect("theirs");
    assert_eq!(theirs_found.len(), hits.len());
    assert!(theirs_found.iter().all(|s| !hits.contains(&s.id)));
    // A frequent word beside a rare one: the rare one's rows, checked for the frequent one.
    let both = |words: &str| InquiryFilter {
        status: StatusFilter::Any,
        search: Some(words.into()),
        ..Default::default()
    };
    let found = store
        .list_inquiries(ours.tenant.id, &both("brøyting lyktestolpen"), None, 50)
        .await
        .expect("two words");
    assert_eq!(
        found.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![hits[6]]
    );
    let none = store
        .list_inquiries(ours.tenant.id, &both("søpla lyktestolpen"), None, 50)
        .await
        .expect("two words");
    assert!(none.is_empty(), "both words must be found: {none:?}");
    // Reindexing writes the same blocks.
    reindex_all(store, 500).await;
    let again = store
        .list_inquiries(ours.tenant.id, &filter, None, 50)
        .await
        .expect("after reindex");
    assert_eq!(again.iter().map(|s| s.id).collect::<Vec<_>>(), hits);
}

/// A bulk load writes the blocks' lexemes itself (its session runs with triggers off): they
/// are the very ones migration 0043's trigger adds.
#[tokio::test]
async fn block_lexemes_of_a_bulk_load_are_the_triggers() {
    let Some(pg) = postgres().await else {
        return;
    };
    for (tenant, id) in [
        (1_i64, 1_i64),
        (7, 4_095),
        (7, 4_096),
        (399, 9_999_999),
        (12, 1 << 40),
    ] {
        let mut trigger: Vec<String> =
            sqlx::query_scalar("SELECT unnest(tsvector_to_array(inquiry_terms_blocks($1, $2)))")
                .bind(tenant)
                .bind(id)
                .fetch_all(pg.pool())
                .await
                .expect("the trigger's function");
        trigger.sort();
        let mut ours = torg_store_sql::search_block_lexemes(tenant, id);
        ours.sort();
        assert_eq!(ours, trigger, "inquiry {id} of municipality {tenant}");
    }
}
