//! Parts of work (mailboxes) shared among nodes on a real store: each node takes its fair
//! share, a node that stops renewing loses its parts to the others once their leases run
//! out, and a node that comes back is given its share again.

use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeSet;
use torg_core::jobs::{Share, TTL};

async fn round(
    share: &mut Share,
    store: &dyn torg_store::Store,
    parts: &[String],
    now: Timestamp,
) -> BTreeSet<String> {
    share.round(store, parts, now).await.expect("round").clone()
}

#[tokio::test]
async fn parts_are_shared_fairly_and_taken_over_when_a_node_dies() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = torg_store_sql::SqliteStore::open(&dir.path().join("t.db"))
        .await
        .expect("store");
    let store: &dyn torg_store::Store = &store;
    let parts: Vec<String> = (1..=7).map(|t| t.to_string()).collect();
    let mut nodes: Vec<Share> = ["a", "b", "c"]
        .iter()
        .map(|n| Share::new("mail", n.to_string()))
        .collect();
    let mut now: Timestamp = "2026-12-05T10:00:00Z".parse().expect("ts");
    let step = SignedDuration::from_secs(10);
    let mut held = vec![BTreeSet::new(); 3];
    // Every node says it is alive before the shares settle.
    for _ in 0..3 {
        for (k, n) in nodes.iter_mut().enumerate() {
            held[k] = round(n, store, &parts, now).await;
        }
        now += step;
    }
    let sizes: Vec<usize> = held.iter().map(BTreeSet::len).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 7, "{held:?}");
    assert!(sizes.iter().all(|s| *s <= 3 && *s >= 1), "{held:?}");
    let union: BTreeSet<&String> = held.iter().flatten().collect();
    assert_eq!(union.len(), 7, "no part held twice: {held:?}");

    // Node c dies: within TTL and a round the others hold everything.
    let died = now;
    while now <= died + TTL + step {
        for (k, n) in nodes.iter_mut().enumerate().take(2) {
            held[k] = round(n, store, &parts, now).await;
        }
        now += step;
    }
    assert_eq!(held[0].len() + held[1].len(), 7, "{held:?}");
    assert!(held[0].is_disjoint(&held[1]));

    // It comes back (as a new process): it is given its share.
    nodes[2] = Share::new("mail", "c2".into());
    for _ in 0..3 {
        for (k, n) in nodes.iter_mut().enumerate() {
            held[k] = round(n, store, &parts, now).await;
        }
        now += step;
    }
    assert!(!held[2].is_empty(), "{held:?}");
    assert!(held.iter().all(|h| h.len() <= 3), "{held:?}");
    let union: BTreeSet<&String> = held.iter().flatten().collect();
    assert_eq!(union.len(), 7, "{held:?}");
    assert_eq!(held.iter().map(BTreeSet::len).sum::<usize>(), 7);

    // A node stopping lets its parts go at once.
    nodes[0].release_all(store).await;
    let mut after = BTreeSet::new();
    for n in nodes.iter_mut().skip(1) {
        after.extend(round(n, store, &parts, now).await);
    }
    // Presence of the stopped node is gone at once, so the two take all seven.
    assert_eq!(after.len(), 7, "{after:?}");
}
