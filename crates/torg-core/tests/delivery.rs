//! The one delivery loop on a real SQLite store: whatever a channel's sender reports, the
//! secrets it holds never reach the message's stored error or the connector's health.

use async_trait::async_trait;
use jiff::Timestamp;
use torg_core::delivery::{Deliver, Outcome, pass};
use torg_domain::Channel;
use torg_store::OutboxItem;
use torg_testkit::outbox::{shown_errors, waiting_answer};

/// A gateway that answers with the request's address, password and all — as an HTTP client's
/// error text or a misconfigured server does.
struct Echoing;

const PASSWORD: &str = "s3cret/pass word";

#[async_trait]
impl Deliver for Echoing {
    fn channels(&self) -> &[Channel] {
        &[Channel::Sms]
    }
    fn connector(&self, _: Channel) -> &'static str {
        "sms"
    }
    fn secrets(&self) -> Vec<String> {
        vec![PASSWORD.into()]
    }
    async fn deliver(&self, _: usize, _: &OutboxItem, _: Timestamp) -> Outcome {
        Outcome::retry(
            "error sending request for url (http://gw/sendsms?username=u&password=s3cret%2Fpass+word): refused",
        )
    }
}

#[tokio::test]
async fn no_secret_reaches_a_stored_error_or_the_connector_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
        .await
        .expect("open");
    let waiting = waiting_answer(&*store, "d", Channel::Sms, "+4790000000").await;
    let report = pass(
        &*store,
        &Echoing,
        &torg_domain::connector::HostRules::any(),
        Timestamp::now(),
        10,
    )
    .await
    .expect("pass");
    assert_eq!(report.retried, 1);
    let shown = shown_errors(&*store, waiting, "sms").await;
    assert_eq!(shown.len(), 2, "{shown:?}");
    for text in shown {
        assert!(text.contains("password=[hidden]"), "{text}");
        assert!(!text.contains("s3cret"), "{text}");
    }
}

/// A gateway that counts what it was handed, at a host of the municipality's.
#[derive(Default)]
struct Counting(std::sync::atomic::AtomicUsize);

#[async_trait]
impl Deliver for Counting {
    fn channels(&self) -> &[Channel] {
        &[Channel::Sms]
    }
    fn connector(&self, _: Channel) -> &'static str {
        "sms"
    }
    fn destination(&self, _: &OutboxItem) -> Option<String> {
        Some("sms.nordby.kommune.no".into())
    }
    async fn deliver(&self, _: usize, _: &OutboxItem, _: Timestamp) -> Outcome {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Outcome::Sent
    }
}

/// `connector_hosts` narrowed after a gateway was set up: nothing goes to the gateway, the
/// message waits (not given up) and says why; allowed again, it goes.
#[tokio::test]
async fn a_host_no_longer_allowed_gets_nothing_and_the_message_waits() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
        .await
        .expect("open");
    let waiting = waiting_answer(&*store, "d", Channel::Sms, "+4790000000").await;
    let gateway = Counting::default();
    let narrowed = torg_domain::connector::HostRules::new(&["*.vestby.kommune.no"]);
    let now = Timestamp::now();
    let report = pass(&*store, &gateway, &narrowed, now, 10)
        .await
        .expect("pass");
    assert_eq!((report.sent, report.retried, report.failed), (0, 1, 0));
    assert_eq!(gateway.0.load(std::sync::atomic::Ordering::SeqCst), 0);
    let shown = shown_errors(&*store, waiting, "sms").await;
    assert!(
        shown
            .iter()
            .all(|t| t.contains("sms.nordby.kommune.no") && t.contains("connector_hosts")),
        "{shown:?}"
    );
    let allowed = torg_domain::connector::HostRules::new(&["*.nordby.kommune.no"]);
    let later = now + jiff::SignedDuration::from_mins(16);
    let report = pass(&*store, &gateway, &allowed, later, 10)
        .await
        .expect("pass");
    assert_eq!(report.sent, 1);
    assert_eq!(gateway.0.load(std::sync::atomic::Ordering::SeqCst), 1);
}
