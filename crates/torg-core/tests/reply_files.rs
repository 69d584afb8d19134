//! Files on replies get the checks of files that come in by email, on a real SQLite store.

use torg_core::intake::IntakeLimits;
use torg_core::reply::{FileRefusal, MAX_REPLY_FILES, ReplyError, check_files};
use torg_domain::{Channel, MessageKind};
use torg_store::*;

async fn inquiry_on(channel: Channel) -> (tempfile::TempDir, std::sync::Arc<dyn Store>, Inquiry) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = torg_store_sql::open(dir.path().join("t.db").to_str().expect("path"))
        .await
        .expect("open");
    let m = store
        .create_municipality(NewMunicipality {
            slug: "f".into(),
            name: "F kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await
        .expect("m");
    let unit = store
        .create_unit(m.id, "Servicetorget", true, false, None)
        .await
        .expect("unit");
    let now = jiff::Timestamp::now();
    let created = store
        .create_inquiry(NewInquiry {
            tenant_id: m.id,
            channel,
            topic: None,
            subject: None,
            citizen_name: "Ola".into(),
            contact_email: Some("ola@example.no".into()),
            contact_phone: Some("+4791234567".into()),
            language: "nb".into(),
            unit_id: unit.id,
            priority: torg_domain::Priority::Normal,
            follow_token_hash: "x".into(),
            body: "Hei".into(),
            attachments: vec![],
            received_at: now,
            reference_year: 2026,
            deadline_at: now,
            external_id: None,
            thread_key: None,
            acknowledgement: None,
            origin: Origin::default(),
        })
        .await
        .expect("inquiry")
        .inquiry;
    (dir, store, created)
}

fn file(name: &str, bytes: usize) -> NewAttachment {
    NewAttachment {
        filename: name.into(),
        content_type: "application/pdf".into(),
        data: vec![7; bytes],
    }
}

#[tokio::test]
async fn files_are_checked_like_incoming_mail() {
    let (_dir, store, web) = inquiry_on(Channel::Web).await;
    let limits = IntakeLimits {
        max_attachment_bytes: 1000,
        ..IntakeLimits::default()
    };
    let check = |files: Vec<NewAttachment>, kind| {
        let store = store.clone();
        let web = web.clone();
        async move { check_files(&*store, &web, kind, &files, &limits).await }
    };
    assert!(
        check(vec![file("kart.pdf", 1000)], MessageKind::Outbound)
            .await
            .is_ok()
    );
    let refused = |r: Result<(), ReplyError>| match r {
        Err(ReplyError::File { why, .. }) => why,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(
        refused(check(vec![file("kart.pdf", 1001)], MessageKind::Outbound).await),
        FileRefusal::TooLarge(1000)
    );
    assert_eq!(
        refused(check(vec![file("Faktura.PDF.EXE", 10)], MessageKind::Outbound).await),
        FileRefusal::BlockedType("exe".into())
    );
    assert_eq!(
        refused(check(vec![file("tom.pdf", 0)], MessageKind::Outbound).await),
        FileRefusal::Empty
    );
    let many = (0..=MAX_REPLY_FILES)
        .map(|i| file(&format!("{i}.pdf"), 1))
        .collect();
    assert_eq!(
        refused(check(many, MessageKind::Outbound).await),
        FileRefusal::TooMany
    );

    // SMS and social media cannot carry them; an internal note on an SMS inquiry can.
    for channel in [
        Channel::Sms,
        Channel::Facebook,
        Channel::Instagram,
        Channel::Mastodon,
    ] {
        let (_d, s, inquiry) = inquiry_on(channel).await;
        assert!(matches!(
            check_files(&*s, &inquiry, MessageKind::Outbound, &[file("a.pdf", 1)], &limits).await,
            Err(ReplyError::NoFilesOn(c)) if c == channel
        ));
        assert!(
            check_files(
                &*s,
                &inquiry,
                MessageKind::Note,
                &[file("a.pdf", 1)],
                &limits
            )
            .await
            .is_ok()
        );
    }
}
