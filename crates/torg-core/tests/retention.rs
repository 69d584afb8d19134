//! The retention run on a real SQLite store: what is not a record goes after its time, with a
//! log line and an audit entry; records, proposals waiting for an archivist, recent and open
//! inquiries stay.

use jiff::{SignedDuration, Timestamp};
use torg_core::archive::{decide, run_retention};
use torg_domain::archive::{ArchiveDecision, Screening};
use torg_domain::{Channel, InquiryStatus, Priority};
use torg_store::*;

async fn make(
    store: &dyn Store,
    m: &Municipality,
    unit: &Unit,
    n: u32,
    body: &str,
    close_after_days: Option<i64>,
) -> Inquiry {
    let start: Timestamp = "2026-01-05T08:00:00Z".parse().expect("ts");
    let i = store
        .create_inquiry(NewInquiry {
            tenant_id: m.id,
            channel: Channel::Web,
            topic: None,
            subject: None,
            citizen_name: "Ola".into(),
            contact_email: Some("ola@example.no".into()),
            contact_phone: None,
            language: "nb".into(),
            unit_id: unit.id,
            priority: Priority::Normal,
            follow_token_hash: format!("t{n}"),
            body: body.into(),
            attachments: vec![],
            received_at: start,
            reference_year: 2026,
            deadline_at: start,
            external_id: None,
            thread_key: None,
            acknowledgement: None,
            origin: Origin::default(),
        })
        .await
        .expect("create")
        .inquiry;
    if let Some(d) = close_after_days {
        store
            .set_status(
                m.id,
                i.id,
                InquiryStatus::Closed,
                start + SignedDuration::from_hours(24 * d),
                None,
            )
            .await
            .expect("close");
    }
    i
}

#[tokio::test]
async fn retention_deletes_only_what_is_not_a_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
        .await
        .expect("open");
    let m = store
        .create_municipality(NewMunicipality {
            slug: "r".into(),
            name: "R kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await
        .expect("m");
    let unit = store
        .create_unit(m.id, "Servicetorget", true, false, None)
        .await
        .expect("unit");
    store
        .set_retention_days(m.id, 30, None)
        .await
        .expect("days");
    let s = &*store;
    let question = make(s, &m, &unit, 1, "Når tømmes søpla?", Some(0)).await;
    let application = make(s, &m, &unit, 2, "Jeg sender søknad om feiing", Some(0)).await;
    let decided_not = make(s, &m, &unit, 3, "Søknad, men ikke arkivverdig", Some(0)).await;
    let kept = make(s, &m, &unit, 4, "Hei", Some(0)).await;
    let recent = make(s, &m, &unit, 5, "Når åpner biblioteket?", Some(50)).await;
    let open = make(s, &m, &unit, 6, "Når stenger svømmehallen?", None).await;
    let start = question.received_at;
    for (i, d) in [
        (&decided_not, ArchiveDecision::NotArchive),
        (&kept, ArchiveDecision::Archive),
    ] {
        decide(
            s,
            i,
            d,
            Screening::default(),
            None,
            &Origin::default(),
            start,
        )
        .await
        .expect("decide");
    }
    let now = start + SignedDuration::from_hours(24 * 60);
    let deleted = run_retention(s, m.id, now).await.expect("run");
    let mut refs: Vec<_> = deleted.iter().map(|d| d.reference.clone()).collect();
    refs.sort();
    let mut expected = vec![
        question.reference.to_string(),
        decided_not.reference.to_string(),
    ];
    expected.sort();
    assert_eq!(refs, expected);
    for gone in [&question, &decided_not] {
        assert!(s.inquiry(m.id, gone.id).await.expect("read").is_none());
    }
    for stays in [&application, &kept, &recent, &open] {
        assert!(s.inquiry(m.id, stays.id).await.expect("read").is_some());
    }
    let log = s.deletion_log(m.id, 10).await.expect("log");
    assert_eq!(log.len(), 2);
    assert!(
        log.iter()
            .all(|d| d.messages == 1 && d.reason.contains("30 days"))
    );
    let audit = |action: &'static str| async move {
        s.search_audit(
            m.id,
            &AuditQuery {
                action: Some(action.into()),
                ..Default::default()
            },
            10,
        )
        .await
        .expect("audit")
    };
    let runs = audit("retention.").await;
    assert_eq!(runs.len(), 1);
    assert!(
        runs[0]
            .entry
            .detail
            .contains(&question.reference.to_string())
    );
    assert_eq!(audit("archive.decided").await.len(), 2);
    assert!(
        run_retention(s, m.id, now).await.expect("again").is_empty(),
        "nothing twice"
    );
}
