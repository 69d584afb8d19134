//! The conformance suite: one story every [`Store`] must pass. The SQLite and PostgreSQL
//! stores run it in their tests (`torg-store-sql/tests/conformance.rs`).
//!
//! Each check creates its own municipalities with fresh slugs, so the suite may run against
//! a database that holds other data.

use crate::*;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use torg_domain::{
    Channel, InquiryId, InquiryStatus, MessageKind, Priority, Role, TenantId, UnitId, UserId,
    routing::RoutingRule,
};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn fresh_slug(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{prefix}-{n}-{nanos}")
}

/// A municipality with a service desk and one more unit.
pub struct Fixture {
    pub tenant: Municipality,
    pub service_desk: Unit,
    pub other_unit: Unit,
}

pub async fn fixture(store: &dyn Store) -> Fixture {
    let tenant = store
        .create_municipality(NewMunicipality {
            slug: fresh_slug("k"),
            name: "Testkommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await
        .expect("create municipality");
    let service_desk = store
        .create_unit(tenant.id, "Servicetorget", true, false, None)
        .await
        .expect("unit");
    let other_unit = store
        .create_unit(tenant.id, "Oppvekst", false, false, None)
        .await
        .expect("unit");
    Fixture {
        tenant,
        service_desk,
        other_unit,
    }
}

/// Rebuilds the whole search index through the store, `batch` inquiries at a time, as `torg
/// search reindex` does.
pub async fn reindex_all(store: &dyn Store, batch: u32) {
    let mut after = 0;
    loop {
        let (n, last) = store
            .reindex_search(after, batch, false)
            .await
            .expect("reindex");
        if n == 0 {
            break;
        }
        after = last;
    }
}

/// A new inquiry for `f`'s service desk received at `received`.
pub fn new_inquiry(f: &Fixture, body: &str, received: Timestamp) -> NewInquiry {
    NewInquiry {
        tenant_id: f.tenant.id,
        channel: Channel::Web,
        topic: Some("Annet".into()),
        subject: None,
        citizen_name: "Ola Nordmann".into(),
        contact_email: Some("ola@example.no".into()),
        contact_phone: None,
        language: "nb".into(),
        unit_id: f.service_desk.id,
        priority: Priority::Normal,
        follow_token_hash: fresh_slug("token"),
        body: body.into(),
        attachments: vec![],
        received_at: received,
        reference_year: 2026,
        deadline_at: received + SignedDuration::from_hours(48),
        external_id: None,
        thread_key: None,
        acknowledgement: None,
        origin: Origin {
            actor: "citizen".into(),
            source: "192.0.2.1".into(),
        },
    }
}

/// A message by a staff member (or a citizen's, by `kind`), not sent anywhere.
fn message(kind: MessageKind, body: &str, at: Timestamp) -> NewMessage {
    NewMessage {
        external_id: None,
        outgoing: None,
        kind,
        author_user_id: None,
        author_name: "Kari".into(),
        body: body.into(),
        attachments: vec![],
        created_at: at,
    }
}

/// A small PDF attachment.
fn pdf(name: &str) -> NewAttachment {
    NewAttachment {
        filename: name.into(),
        content_type: "application/pdf".into(),
        data: format!("%PDF-1.4 {name}").into_bytes(),
    }
}

fn t(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

/// Runs every check against `store`. Panics with a message on the first failure.
/// The suite as one test per story, so that each failure is reported on its own:
/// `conformance_tests!(open)` in a test module, where `open` is an async fn giving
/// `Option<(Arc<dyn Store>, K)>`: a fresh store and what must live as long as it (a temporary
/// directory); `None` skips (PostgreSQL when no server is named).
#[macro_export]
macro_rules! conformance_tests {
    ($open:path) => {
        $crate::conformance_tests!(@by_ref $open; references_count_per_municipality_and_year, tenants_never_see_each_other, list_orders_by_deadline_and_pages_by_cursor, filters_and_search, thread_status_and_notes, assignment_checks_the_municipality, external_ids_make_creation_idempotent, attachments_are_kept_byte_for_byte, users_sessions_tokens_rules_and_canned_replies, deadline_policies_are_kept_per_municipality, calendars_and_deadlines_are_kept, deadline_counts_per_unit, duty_shifts_are_kept_per_municipality, planned_peaks_are_kept, acknowledgements_are_not_answers, scoped_hours_are_kept, memberships_lockout_and_revocation, sso_providers_are_kept_per_municipality, the_outbox_delivers_once_and_remembers_failures, mail_accounts_quarantine_and_threading, deadline_warnings_go_out_once, the_channel_registry, social_accounts_follow_the_registry, notices_are_queued_for_own_inquiries_only, the_archive_journal_and_retention, connector_health, sms_gateways_and_code_words, threads_of_a_page_in_one_read, nodes_hear_each_other, journal_numbers_are_given_once_and_kept, the_audit_log_is_searched_newest_first, the_annual_wheel_is_kept_per_municipality, publications_move_through_their_states_once, the_media_log_is_kept_per_municipality, subscribers_get_what_they_chose_and_crises_are_logged, a_period_is_counted_and_surveys_are_asked_once, listening_keeps_sources_matches_and_decisions, jobs_are_held_by_one_node_at_a_time, webhooks_queue_each_event_once, casework_settings_are_changed_and_removed, merged_inquiries_point_to_the_oldest, an_entry_the_gateway_took_is_not_sent_again);
        $crate::conformance_tests!(@shared $open; concurrent_creations_all_commit_with_unique_references, the_audit_log_is_a_chain);
    };
    (@by_ref $open:path; $($story:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $story() {
                let Some((store, _keep)) = $open().await else { return };
                $crate::Store::ping(&*store).await.expect("ping");
                $crate::conformance::$story(&*store).await;
            }
        )*
    };
    (@shared $open:path; $($story:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $story() {
                let Some((store, _keep)) = $open().await else { return };
                $crate::conformance::$story(store).await;
            }
        )*
    };
}

pub async fn memberships_lockout_and_revocation(store: &dyn Store) {
    let f = fixture(store).await;
    let other = fixture(store).await;
    let tenant = f.tenant.id;
    let user = store
        .create_user(
            tenant,
            NewUser {
                email: None,
                username: "nina".into(),
                full_name: "Nina Helse".into(),
                password_hash: "x".into(),
                password_set_by: None,
                role: Role::CaseHandler,
                unit_id: Some(f.other_unit.id),
            },
            None,
        )
        .await
        .expect("user");
    assert_eq!(
        user.member_of,
        vec![f.other_unit.id],
        "home unit is a membership"
    );
    assert!(user.active);
    assert_eq!((user.failed_logins, user.locked_until), (0, None));
    // Memberships: replaced as a whole, only units of the same municipality.
    store
        .set_memberships(
            tenant,
            user.id,
            &[f.service_desk.id, f.other_unit.id, f.service_desk.id],
        )
        .await
        .expect("memberships");
    let got = store.user(tenant, user.id).await.expect("u").expect("e");
    let mut both = vec![f.service_desk.id, f.other_unit.id];
    both.sort_unstable();
    assert_eq!(got.member_of, both);
    assert!(matches!(
        store
            .set_memberships(tenant, user.id, &[other.service_desk.id])
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store
            .user(tenant, user.id)
            .await
            .expect("u")
            .expect("e")
            .member_of,
        both,
        "a refused change leaves the memberships as they were"
    );
    assert!(matches!(
        store.set_memberships(other.tenant.id, user.id, &[]).await,
        Err(StoreError::NotFound(_))
    ));
    store
        .set_memberships(tenant, user.id, &[])
        .await
        .expect("none");
    let listed = store.list_users(tenant).await.expect("list");
    assert!(
        listed
            .iter()
            .any(|u| u.id == user.id && u.member_of.is_empty())
    );

    // Sensitive units.
    let unit = store
        .update_unit(tenant, f.other_unit.id, "Helse og omsorg", true, None)
        .await
        .expect("update unit");
    assert!(unit.sensitive);
    assert_eq!(unit.name, "Helse og omsorg");
    assert!(
        store
            .list_units(tenant)
            .await
            .expect("units")
            .iter()
            .any(|u| u.id == unit.id && u.sensitive)
    );
    assert!(matches!(
        store
            .update_unit(other.tenant.id, f.other_unit.id, "x", false, None)
            .await,
        Err(StoreError::NotFound(_))
    ));

    // Updates, passwords, single sign-on subjects.
    let updated = store
        .update_user(
            tenant,
            user.id,
            UserUpdate {
                full_name: "Nina Helsesøster".into(),
                role: Role::UnitLeader,
                unit_id: Some(f.service_desk.id),
                active: false,
                email: Some("nina@test.kommune.no".into()),
            },
            None,
        )
        .await
        .expect("update");
    assert_eq!(
        (updated.role, updated.active, updated.unit_id),
        (Role::UnitLeader, false, Some(f.service_desk.id))
    );
    assert_eq!(updated.email.as_deref(), Some("nina@test.kommune.no"));
    assert!(matches!(
        store
            .update_user(
                other.tenant.id,
                user.id,
                UserUpdate {
                    full_name: "x".into(),
                    role: Role::Administrator,
                    unit_id: None,
                    active: true,
                    email: None,
                },
                None
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    store
        .set_password(
            tenant,
            user.id,
            "new-hash",
            None,
            torg_domain::audit::NewAuditEntry {
                actor: "cli".into(),
                action: "user.password".into(),
                object: format!("user:{}", user.id),
                detail: String::new(),
                source: "cli".into(),
            },
        )
        .await
        .expect("password");
    assert_eq!(
        store
            .user(tenant, user.id)
            .await
            .expect("u")
            .expect("e")
            .password_hash,
        "new-hash"
    );
    store
        .set_external_subject(tenant, user.id, Some("sub-123"), None)
        .await
        .expect("subject");
    assert_eq!(
        store
            .user_by_subject(tenant, "sub-123")
            .await
            .expect("s")
            .map(|u| u.id),
        Some(user.id)
    );
    assert!(
        store
            .user_by_subject(other.tenant.id, "sub-123")
            .await
            .expect("s")
            .is_none()
    );

    // Lockout.
    assert_eq!(
        store.count_failed_login(tenant, user.id).await.expect("f"),
        1
    );
    assert_eq!(
        store.count_failed_login(tenant, user.id).await.expect("f"),
        2
    );
    let until = t("2026-05-01T10:00:00Z");
    store
        .set_locked_until(tenant, user.id, Some(until))
        .await
        .expect("lock");
    let locked = store.user(tenant, user.id).await.expect("u").expect("e");
    assert_eq!(
        (locked.failed_logins, locked.locked_until),
        (2, Some(until))
    );
    store
        .set_locked_until(tenant, user.id, None)
        .await
        .expect("unlock");
    let open = store.user(tenant, user.id).await.expect("u").expect("e");
    assert_eq!((open.failed_logins, open.locked_until), (0, None));

    // Sessions of one user end together.
    for n in 0..2 {
        store
            .create_session(Session {
                token_hash: fresh_slug(&format!("s{n}")),
                tenant_id: tenant,
                user_id: user.id,
                csrf_token: "c".into(),
                expires_at: until,
                last_seen_at: jiff::Timestamp::now(),
            })
            .await
            .expect("session");
    }
    let kept = fresh_slug("kept");
    let admin = store
        .create_user(
            tenant,
            NewUser {
                email: None,
                username: "admin".into(),
                full_name: "Admin".into(),
                password_hash: "x".into(),
                password_set_by: None,
                role: Role::Administrator,
                unit_id: None,
            },
            None,
        )
        .await
        .expect("admin");
    store
        .create_session(Session {
            token_hash: kept.clone(),
            tenant_id: tenant,
            user_id: admin.id,
            csrf_token: "c".into(),
            expires_at: until,
            last_seen_at: jiff::Timestamp::now(),
        })
        .await
        .expect("session");
    store
        .delete_user_sessions(tenant, user.id)
        .await
        .expect("delete");
    assert!(
        store.session(&kept).await.expect("s").is_some(),
        "another user's session stays"
    );

    // Visible units narrow lists; follow links can be revoked.
    let now = t("2026-03-04T10:00:00Z");
    let mut n = new_inquiry(&f, "Hemmelig", now);
    n.unit_id = f.other_unit.id;
    let hidden = store.create_inquiry(n.clone()).await.expect("c").inquiry;
    let seen = store
        .create_inquiry(new_inquiry(&f, "Åpen", now))
        .await
        .expect("c")
        .inquiry;
    let visible = |units: Vec<UnitId>| InquiryFilter {
        status: StatusFilter::Any,
        visible_units: Some(units),
        ..Default::default()
    };
    let ids = |v: Vec<InquirySummary>| v.into_iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store
            .list_inquiries(tenant, &visible(vec![f.service_desk.id]), None, 10)
            .await
            .expect("l")),
        vec![seen.id]
    );
    assert!(
        store
            .list_inquiries(tenant, &visible(vec![]), None, 10)
            .await
            .expect("l")
            .is_empty()
    );
    assert_eq!(
        store
            .list_inquiries(
                tenant,
                &visible(vec![f.service_desk.id, f.other_unit.id]),
                None,
                10
            )
            .await
            .expect("l")
            .len(),
        2
    );
    assert!(
        store
            .inquiry_by_follow_token(tenant, hidden.id, &n.follow_token_hash)
            .await
            .expect("f")
            .is_some()
    );
    store
        .revoke_follow_token(tenant, hidden.id, None)
        .await
        .expect("revoke");
    assert!(
        store
            .inquiry_by_follow_token(tenant, hidden.id, &n.follow_token_hash)
            .await
            .expect("f")
            .is_none()
    );
    assert!(
        store
            .inquiry_by_follow_token(tenant, hidden.id, "")
            .await
            .expect("f")
            .is_none()
    );
    assert!(matches!(
        store
            .revoke_follow_token(other.tenant.id, seen.id, None)
            .await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn the_audit_log_is_searched_newest_first(store: &dyn Store) {
    let f = fixture(store).await;
    let tenant = f.tenant.id;
    let at = t("2026-03-04T10:00:00Z");
    for (actor, action, object) in [
        ("user:1", "login", ""),
        ("user:1", "inquiry.replied", "inquiry:7"),
        ("user:2", "inquiry.assigned", "inquiry:7"),
        ("user:2", "inquiry.replied", "inquiry:8"),
        ("login:x_y", "login.failed", ""),
    ] {
        store
            .append_audit(
                tenant,
                torg_domain::audit::NewAuditEntry {
                    actor: actor.into(),
                    action: action.into(),
                    object: object.into(),
                    detail: String::new(),
                    source: "127.0.0.1".into(),
                },
                at,
            )
            .await
            .expect("append");
    }
    let seqs = |q: AuditQuery, limit| async move {
        store
            .search_audit(tenant, &q, limit)
            .await
            .expect("search")
            .into_iter()
            .map(|e| e.seq)
            .collect::<Vec<_>>()
    };
    assert_eq!(seqs(AuditQuery::default(), 10).await, vec![5, 4, 3, 2, 1]);
    assert_eq!(seqs(AuditQuery::default(), 2).await, vec![5, 4]);
    let q = |actor: Option<&str>,
             action: Option<&str>,
             object: Option<&str>,
             before: Option<i64>| AuditQuery {
        actor: actor.map(Into::into),
        action: action.map(Into::into),
        object: object.map(Into::into),
        before_seq: before,
    };
    assert_eq!(
        seqs(q(Some("user:2"), None, None, None), 10).await,
        vec![4, 3]
    );
    assert_eq!(
        seqs(q(None, Some("inquiry."), None, None), 10).await,
        vec![4, 3, 2]
    );
    assert_eq!(
        seqs(q(None, Some("login"), None, None), 10).await,
        vec![5, 1]
    );
    assert_eq!(
        seqs(q(None, None, Some("inquiry:7"), None), 10).await,
        vec![3, 2]
    );
    assert_eq!(seqs(q(None, None, None, Some(3)), 10).await, vec![2, 1]);
    assert_eq!(
        seqs(q(Some("x_"), None, None, None), 10).await,
        vec![5],
        "_ is literal"
    );
    assert_eq!(
        seqs(q(Some("%"), None, None, None), 10).await,
        Vec::<i64>::new(),
        "% is literal"
    );
    let other = fixture(store).await;
    assert!(
        store
            .search_audit(other.tenant.id, &AuditQuery::default(), 10)
            .await
            .expect("s")
            .is_empty()
    );
}

pub async fn references_count_per_municipality_and_year(store: &dyn Store) {
    let a = fixture(store).await;
    let b = fixture(store).await;
    let now = t("2026-03-01T10:00:00Z");
    let r1 = store
        .create_inquiry(new_inquiry(&a, "én", now))
        .await
        .expect("create")
        .inquiry;
    let r2 = store
        .create_inquiry(new_inquiry(&a, "to", now))
        .await
        .expect("create")
        .inquiry;
    let rb = store
        .create_inquiry(new_inquiry(&b, "annen kommune", now))
        .await
        .expect("create")
        .inquiry;
    let mut next_year = new_inquiry(&a, "nytt år", now);
    next_year.reference_year = 2027;
    let r3 = store
        .create_inquiry(next_year)
        .await
        .expect("create")
        .inquiry;
    assert_eq!(r1.reference.to_string(), "2026-000001");
    assert_eq!(r2.reference.to_string(), "2026-000002");
    assert_eq!(
        rb.reference.to_string(),
        "2026-000001",
        "each municipality counts for itself"
    );
    assert_eq!(
        r3.reference.to_string(),
        "2027-000001",
        "the count starts again each year"
    );
    assert_eq!(r1.status, InquiryStatus::New);
    let loaded = store
        .inquiry(a.tenant.id, r1.id)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(loaded, r1, "what create returns is what get returns");
}

pub async fn tenants_never_see_each_other(store: &dyn Store) {
    let a = fixture(store).await;
    let b = fixture(store).await;
    let now = t("2026-03-01T10:00:00Z");
    let mut new = new_inquiry(&a, "hemmelig", now);
    new.follow_token_hash = "shared-hash".to_string() + &fresh_slug("x");
    let hash = new.follow_token_hash.clone();
    let ia = store.create_inquiry(new).await.expect("create").inquiry;
    assert!(
        store
            .inquiry(b.tenant.id, ia.id)
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        store
            .inquiry_by_follow_token(b.tenant.id, ia.id, &hash)
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        store
            .inquiry_by_follow_token(a.tenant.id, ia.id, &hash)
            .await
            .expect("get")
            .is_some()
    );
    assert!(
        store
            .inquiry_by_follow_token(a.tenant.id, ia.id, "wrong-hash")
            .await
            .expect("get")
            .is_none()
    );
    assert!(
        store
            .messages(b.tenant.id, ia.id, true)
            .await
            .expect("messages")
            .is_empty()
    );
    assert!(
        store
            .list_inquiries(b.tenant.id, &InquiryFilter::default(), None, 50)
            .await
            .expect("list")
            .is_empty()
    );
    let reply = NewMessage {
        external_id: None,
        outgoing: None,
        kind: MessageKind::Outbound,
        author_user_id: None,
        author_name: "x".into(),
        body: "x".into(),
        attachments: vec![],
        created_at: now,
    };
    assert!(matches!(
        store.add_message(b.tenant.id, ia.id, reply, None).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .set_status(b.tenant.id, ia.id, InquiryStatus::Closed, now, None)
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .assign(b.tenant.id, ia.id, b.service_desk.id, None, None)
            .await,
        Err(StoreError::NotFound(_))
    ));
    // Another municipality's unit cannot receive this municipality's inquiry.
    assert!(matches!(
        store
            .assign(a.tenant.id, ia.id, b.other_unit.id, None, None)
            .await,
        Err(StoreError::NotFound(_))
    ));
    let mut foreign_unit = new_inquiry(&a, "feil enhet", now);
    foreign_unit.unit_id = b.service_desk.id;
    assert!(matches!(
        store.create_inquiry(foreign_unit).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(store.count_inquiries(b.tenant.id).await.expect("count"), 0);
    assert!(
        store
            .list_units(b.tenant.id)
            .await
            .expect("units")
            .iter()
            .all(|u| u.tenant_id == b.tenant.id)
    );
}

pub async fn list_orders_by_deadline_and_pages_by_cursor(store: &dyn Store) {
    let f = fixture(store).await;
    let base = t("2026-03-01T10:00:00Z");
    let mut ids = vec![];
    for i in 0..25i64 {
        let mut n = new_inquiry(
            &f,
            &format!("nummer {i}"),
            base + SignedDuration::from_mins(i),
        );
        // Deadlines in a scrambled order, with ties.
        n.deadline_at = base + SignedDuration::from_hours((i * 7) % 5);
        ids.push(store.create_inquiry(n).await.expect("create").inquiry.id);
    }
    let all = store
        .list_inquiries(f.tenant.id, &InquiryFilter::default(), None, 100)
        .await
        .expect("list");
    assert_eq!(all.len(), 25);
    for w in all.windows(2) {
        assert!(
            (w[0].deadline_at, w[0].received_at, w[0].id)
                < (w[1].deadline_at, w[1].received_at, w[1].id),
            "ordered by deadline, then age, then id"
        );
    }
    let mut paged = vec![];
    let mut cursor = None;
    loop {
        let page = store
            .list_inquiries(f.tenant.id, &InquiryFilter::default(), cursor.as_ref(), 10)
            .await
            .expect("page");
        if page.is_empty() {
            break;
        }
        cursor = page.last().map(|s| s.cursor());
        paged.extend(page);
    }
    assert_eq!(
        paged, all,
        "pages join up to the whole list, without gaps or repeats"
    );
}

pub async fn filters_and_search(store: &dyn Store) {
    let f = fixture(store).await;
    let now = t("2026-03-02T10:00:00Z");
    let a = store
        .create_inquiry(new_inquiry(&f, "Spørsmål om barnehageplass", now))
        .await
        .expect("c")
        .inquiry;
    let mut sms = new_inquiry(&f, "Vannlekkasje i Storgata 5", now);
    sms.channel = Channel::Sms;
    sms.citizen_name = "Kari Hansen".into();
    sms.contact_phone = Some("+4791234567".into());
    sms.contact_email = None;
    sms.unit_id = f.other_unit.id;
    let b = store.create_inquiry(sms).await.expect("c").inquiry;
    store
        .set_status(f.tenant.id, a.id, InquiryStatus::Closed, now, None)
        .await
        .expect("close");

    let list = |filter: InquiryFilter| async move {
        store
            .list_inquiries(f.tenant.id, &filter, None, 50)
            .await
            .expect("list")
            .into_iter()
            .map(|s| s.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        list(InquiryFilter::default()).await,
        vec![b.id],
        "closed ones leave the default inbox"
    );
    assert_eq!(
        list(InquiryFilter {
            status: StatusFilter::Any,
            ..Default::default()
        })
        .await
        .len(),
        2
    );
    assert_eq!(
        list(InquiryFilter {
            status: StatusFilter::Only(InquiryStatus::Closed),
            ..Default::default()
        })
        .await,
        vec![a.id]
    );
    let any = |f: InquiryFilter| InquiryFilter {
        status: StatusFilter::Any,
        ..f
    };
    assert_eq!(
        list(any(InquiryFilter {
            unit_id: Some(f.other_unit.id),
            ..Default::default()
        }))
        .await,
        vec![b.id]
    );
    assert_eq!(
        list(any(InquiryFilter {
            channel: Some(Channel::Sms),
            ..Default::default()
        }))
        .await,
        vec![b.id]
    );
    for needle in ["storgata", "kari", "91234567", &b.reference.to_string()] {
        assert_eq!(
            list(any(InquiryFilter {
                search: Some(needle.to_string()),
                ..Default::default()
            }))
            .await,
            vec![b.id],
            "search for {needle}"
        );
    }
    assert!(
        list(any(InquiryFilter {
            search: Some("%".into()),
            ..Default::default()
        }))
        .await
        .is_empty(),
        "wildcards are literal"
    );
    // Word forms and compounds: "lekkasjen" finds "Vannlekkasje"; every word must be found.
    let search = |words: &str| {
        let words = words.to_string();
        async move {
            list(any(InquiryFilter {
                search: Some(words),
                ..Default::default()
            }))
            .await
        }
    };
    assert_eq!(search("lekkasjen").await, vec![b.id]);
    assert_eq!(search("Vann Storgata").await, vec![b.id]);
    assert!(search("vann barnehage").await.is_empty(), "every word");
    assert_eq!(search("barnehageplassen").await, vec![a.id]);
    // A reply's words are found at once; another municipality's never.
    store
        .add_message(
            f.tenant.id,
            b.id,
            message(MessageKind::Outbound, "Rørleggeren kommer i morgen.", now),
            None,
        )
        .await
        .expect("reply");
    assert_eq!(search("rørlegger").await, vec![b.id]);
    let other = fixture(store).await;
    store
        .create_inquiry(new_inquiry(&other, "Vannlekkasje hos naboen", now))
        .await
        .expect("other");
    assert_eq!(search("vannlekkasje").await, vec![b.id], "ours only");
    // Rebuilt from the texts, the index finds the same.
    reindex_all(store, 1).await;
    assert_eq!(search("rørlegger").await, vec![b.id]);
    assert_eq!(search("lekkasjen").await, vec![b.id]);
    assert_eq!(
        store.reindex_search(0, 100, true).await.expect("missing").0,
        0,
        "nothing missing"
    );
}

pub async fn thread_status_and_notes(store: &dyn Store) {
    let f = fixture(store).await;
    let now = t("2026-03-03T10:00:00Z");
    let i = store
        .create_inquiry(new_inquiry(&f, "Hei", now))
        .await
        .expect("c")
        .inquiry;
    let msg = |kind, body: &str, mins| message(kind, body, now + SignedDuration::from_mins(mins));
    store
        .add_message(f.tenant.id, i.id, msg(MessageKind::Note, "intern", 1), None)
        .await
        .expect("note");
    let after_note = store
        .inquiry(f.tenant.id, i.id)
        .await
        .expect("g")
        .expect("e");
    assert_eq!(
        after_note.status,
        InquiryStatus::New,
        "a note changes nothing for the citizen"
    );
    assert!(after_note.first_answer_at.is_none());
    store
        .add_message(
            f.tenant.id,
            i.id,
            msg(MessageKind::Outbound, "svar", 2),
            None,
        )
        .await
        .expect("reply");
    let answered = store
        .inquiry(f.tenant.id, i.id)
        .await
        .expect("g")
        .expect("e");
    assert_eq!(answered.status, InquiryStatus::Open);
    assert_eq!(
        answered.first_answer_at,
        Some(now + SignedDuration::from_mins(2))
    );
    store
        .set_status(f.tenant.id, i.id, InquiryStatus::Closed, now, None)
        .await
        .expect("close");
    assert!(
        store
            .inquiry(f.tenant.id, i.id)
            .await
            .expect("g")
            .expect("e")
            .closed_at
            .is_some()
    );
    store
        .add_message(
            f.tenant.id,
            i.id,
            msg(MessageKind::Inbound, "en ting til", 3),
            None,
        )
        .await
        .expect("in");
    let reopened = store
        .inquiry(f.tenant.id, i.id)
        .await
        .expect("g")
        .expect("e");
    assert_eq!(
        reopened.status,
        InquiryStatus::Open,
        "the citizen writing again reopens it"
    );
    assert!(reopened.closed_at.is_none());
    assert_eq!(
        reopened.first_answer_at, answered.first_answer_at,
        "first answer stays the first"
    );
    let staff_view: Vec<_> = store
        .messages(f.tenant.id, i.id, true)
        .await
        .expect("m")
        .into_iter()
        .map(|m| m.kind)
        .collect();
    assert_eq!(
        staff_view,
        vec![
            MessageKind::Inbound,
            MessageKind::Note,
            MessageKind::Outbound,
            MessageKind::Inbound
        ]
    );
    let citizen_view = store.messages(f.tenant.id, i.id, false).await.expect("m");
    assert!(
        citizen_view.iter().all(|m| m.kind != MessageKind::Note),
        "notes never reach the citizen"
    );
    assert_eq!(citizen_view.len(), 3);
}

pub async fn assignment_checks_the_municipality(store: &dyn Store) {
    let f = fixture(store).await;
    let other = fixture(store).await;
    let now = t("2026-03-04T10:00:00Z");
    let i = store
        .create_inquiry(new_inquiry(&f, "Hei", now))
        .await
        .expect("c")
        .inquiry;
    let user = store
        .create_user(
            f.tenant.id,
            NewUser {
                email: None,
                username: "kari".into(),
                full_name: "Kari Nordmann".into(),
                password_hash: "x".into(),
                password_set_by: None,
                role: Role::CaseHandler,
                unit_id: Some(f.other_unit.id),
            },
            None,
        )
        .await
        .expect("user");
    let stranger = store
        .create_user(
            other.tenant.id,
            NewUser {
                email: None,
                username: "kari".into(),
                full_name: "Kari Fremmed".into(),
                password_hash: "x".into(),
                password_set_by: None,
                role: Role::CaseHandler,
                unit_id: None,
            },
            None,
        )
        .await
        .expect("same username in another municipality is fine");
    store
        .assign(f.tenant.id, i.id, f.other_unit.id, Some(user.id), None)
        .await
        .expect("assign");
    let got = store
        .inquiry(f.tenant.id, i.id)
        .await
        .expect("g")
        .expect("e");
    assert_eq!(
        (got.unit_id, got.assignee_id),
        (f.other_unit.id, Some(user.id))
    );
    assert!(matches!(
        store
            .assign(f.tenant.id, i.id, f.other_unit.id, Some(stranger.id), None)
            .await,
        Err(StoreError::NotFound("user"))
    ));
    let mine = store
        .list_inquiries(
            f.tenant.id,
            &InquiryFilter {
                assignee_id: Some(user.id),
                ..Default::default()
            },
            None,
            10,
        )
        .await
        .expect("l");
    assert_eq!(mine.len(), 1);
}

pub async fn external_ids_make_creation_idempotent(store: &dyn Store) {
    let f = fixture(store).await;
    let now = t("2026-03-05T10:00:00Z");
    let mut n = new_inquiry(&f, "Hei", now);
    n.external_id = Some("<abc@example.no>".into());
    let first = store.create_inquiry(n.clone()).await.expect("c");
    // The same write again (its commit went through but the answer was lost, as when the
    // database dies at that moment): the writer knows it by its follow token, it is ours.
    let again = store.create_inquiry(n.clone()).await.expect("c");
    n.follow_token_hash = fresh_slug("other-token");
    let second = store.create_inquiry(n).await.expect("c");
    assert!(first.created && again.created && !second.created);
    assert_eq!(first.inquiry.id, second.inquiry.id);
    assert_eq!(first.inquiry.id, again.inquiry.id);
    assert_eq!(store.count_inquiries(f.tenant.id).await.expect("count"), 1);
}

pub async fn attachments_are_kept_byte_for_byte(store: &dyn Store) {
    let f = fixture(store).await;
    let other = fixture(store).await;
    let now = t("2026-03-06T10:00:00Z");
    let data: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();
    let mut n = new_inquiry(&f, "Se vedlegg", now);
    n.attachments = vec![NewAttachment {
        filename: "kart.pdf".into(),
        content_type: "application/pdf".into(),
        data: data.clone(),
    }];
    let i = store.create_inquiry(n).await.expect("c").inquiry;
    let metas = store.attachments(f.tenant.id, i.id).await.expect("a");
    assert_eq!(metas.len(), 1);
    assert_eq!(metas[0].size, 100_000);
    let (meta, bytes) = store
        .attachment_data(f.tenant.id, metas[0].id)
        .await
        .expect("d")
        .expect("exists");
    assert_eq!(meta.filename, "kart.pdf");
    assert_eq!(bytes, data);
    assert!(
        store
            .attachment_data(other.tenant.id, metas[0].id)
            .await
            .expect("d")
            .is_none()
    );
    let thread = store.messages(f.tenant.id, i.id, false).await.expect("m");
    assert_eq!(
        thread[0].attachments.len(),
        1,
        "attachments come with their message"
    );
}

pub async fn users_sessions_tokens_rules_and_canned_replies(store: &dyn Store) {
    let f = fixture(store).await;
    let other = fixture(store).await;
    let u = store
        .create_user(
            f.tenant.id,
            NewUser {
                email: None,
                username: "ola".into(),
                full_name: "Ola Nordmann".into(),
                password_hash: "hash".into(),
                password_set_by: None,
                role: Role::ServiceDesk,
                unit_id: Some(f.service_desk.id),
            },
            None,
        )
        .await
        .expect("user");
    assert_eq!(u.first_name(), "Ola");
    assert!(matches!(
        store
            .create_user(
                f.tenant.id,
                NewUser {
                    email: None,
                    username: "ola".into(),
                    full_name: "Ola To".into(),
                    password_hash: "hash".into(),
                    password_set_by: None,
                    role: Role::ServiceDesk,
                    unit_id: None,
                },
                None
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store
            .create_user(
                f.tenant.id,
                NewUser {
                    email: None,
                    username: "per".into(),
                    full_name: "Per".into(),
                    password_hash: "hash".into(),
                    password_set_by: None,
                    role: Role::ServiceDesk,
                    unit_id: Some(other.service_desk.id),
                },
                None
            )
            .await,
        Err(StoreError::NotFound("unit"))
    ));
    assert_eq!(
        store
            .user_by_username(f.tenant.id, "ola")
            .await
            .expect("u")
            .map(|x| x.id),
        Some(u.id)
    );
    assert!(
        store
            .user_by_username(other.tenant.id, "ola")
            .await
            .expect("u")
            .is_none()
    );
    assert!(
        store
            .user(other.tenant.id, u.id)
            .await
            .expect("u")
            .is_none()
    );

    let hash = fresh_slug("session");
    store
        .create_session(Session {
            token_hash: hash.clone(),
            tenant_id: f.tenant.id,
            user_id: u.id,
            csrf_token: "csrf".into(),
            expires_at: t("2030-01-01T00:00:00Z"),
            last_seen_at: t("2026-03-01T08:00:00Z"),
        })
        .await
        .expect("session");
    assert_eq!(
        store
            .session(&hash)
            .await
            .expect("s")
            .map(|s| (s.user_id, s.last_seen_at)),
        Some((u.id, t("2026-03-01T08:00:00Z")))
    );
    store
        .touch_session(&hash, t("2026-03-01T09:30:00Z"))
        .await
        .expect("touch");
    assert_eq!(
        store
            .session(&hash)
            .await
            .expect("s")
            .map(|s| s.last_seen_at),
        Some(t("2026-03-01T09:30:00Z")),
        "the use is remembered"
    );
    store.delete_session(&hash).await.expect("delete");
    assert!(store.session(&hash).await.expect("s").is_none());

    let token_hash = fresh_slug("api");
    let made = t("2026-03-01T08:00:00Z");
    let tok = store
        .create_api_token(
            f.tenant.id,
            NewApiToken {
                name: "Sak/arkiv".into(),
                token_hash: token_hash.clone(),
                units: vec![f.other_unit.id],
                expires_at: Some(t("2027-01-01T00:00:00Z")),
                created_at: made,
            },
            Some(torg_domain::audit::NewAuditEntry {
                actor: "cli".into(),
                action: "token.created".into(),
                object: "token:Sak/arkiv".into(),
                detail: String::new(),
                source: String::new(),
            }),
        )
        .await
        .expect("token");
    let read = store
        .api_token(&token_hash)
        .await
        .expect("t")
        .expect("there");
    assert_eq!(read, tok);
    assert_eq!(
        (read.tenant_id, read.name.as_str(), read.units.clone()),
        (f.tenant.id, "Sak/arkiv", vec![f.other_unit.id])
    );
    assert!(read.is_valid(made) && !read.is_valid(t("2027-01-02T00:00:00Z")));
    // Another municipality's unit is refused.
    let elsewhere = store
        .create_municipality(NewMunicipality {
            slug: fresh_slug("tok"),
            name: "Annen kommune".into(),
            time_zone: "Europe/Oslo".into(),
            language: "nb".into(),
        })
        .await
        .expect("other");
    assert!(matches!(
        store
            .create_api_token(
                elsewhere.id,
                NewApiToken {
                    name: "x".into(),
                    token_hash: fresh_slug("api"),
                    units: vec![f.other_unit.id],
                    expires_at: None,
                    created_at: made,
                },
                None,
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    // Listed, revoked (once), and not revoked from another municipality.
    assert_eq!(
        store.list_api_tokens(f.tenant.id).await.expect("list")[0].id,
        tok.id
    );
    assert!(matches!(
        store
            .revoke_api_token(elsewhere.id, tok.id, made, None)
            .await,
        Err(StoreError::NotFound(_))
    ));
    store
        .revoke_api_token(f.tenant.id, tok.id, t("2026-03-02T08:00:00Z"), None)
        .await
        .expect("revoke");
    let revoked = store
        .api_token(&token_hash)
        .await
        .expect("t")
        .expect("kept");
    assert_eq!(revoked.revoked_at, Some(t("2026-03-02T08:00:00Z")));
    assert!(!revoked.is_valid(made));

    store
        .create_routing_rule(
            f.tenant.id,
            RoutingRule {
                position: 1,
                keyword: Some("barnehage".into()),
                topic: None,
                channel: Some(Channel::Sms),
                unit_id: f.other_unit.id,
            },
            None,
        )
        .await
        .expect("rule");
    assert!(matches!(
        store
            .create_routing_rule(
                f.tenant.id,
                RoutingRule {
                    position: 2,
                    keyword: None,
                    topic: Some("x".into()),
                    channel: None,
                    unit_id: other.other_unit.id,
                },
                None
            )
            .await,
        Err(StoreError::NotFound("unit"))
    ));
    let rules = store.list_routing_rules(f.tenant.id).await.expect("rules");
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].1.channel, Some(Channel::Sms));
    assert!(
        store
            .list_routing_rules(other.tenant.id)
            .await
            .expect("rules")
            .is_empty()
    );

    store
        .create_canned_reply(f.tenant.id, "Takk", "Hei {navn}!", None)
        .await
        .expect("canned");
    assert_eq!(
        store
            .list_canned_replies(f.tenant.id)
            .await
            .expect("c")
            .len(),
        1
    );
    assert!(
        store
            .list_canned_replies(other.tenant.id)
            .await
            .expect("c")
            .is_empty()
    );
}

pub async fn concurrent_creations_all_commit_with_unique_references(store: Arc<dyn Store>) {
    let f = Arc::new(fixture(&*store).await);
    let stranger = fixture(&*store).await;
    let now = t("2026-03-07T10:00:00Z");
    let mut tasks = vec![];
    let mut bad = vec![];
    for i in 0..200 {
        let store2 = store.clone();
        let f2 = f.clone();
        tasks.push(tokio::spawn(async move {
            store2
                .create_inquiry(new_inquiry(&f2, &format!("samtidig {i}"), now))
                .await
        }));
        // Bad jobs among them (a unit of another municipality) fail alone.
        if i % 10 == 0 {
            let store2 = store.clone();
            let mut n = new_inquiry(&f, &format!("feil enhet {i}"), now);
            n.unit_id = stranger.other_unit.id;
            bad.push(tokio::spawn(async move { store2.create_inquiry(n).await }));
        }
    }
    for b in bad {
        assert!(
            matches!(b.await.expect("join"), Err(StoreError::NotFound(_))),
            "a bad job fails"
        );
    }
    let mut refs = std::collections::BTreeSet::new();
    for t in tasks {
        let created = t.await.expect("join").expect("create");
        refs.insert(created.inquiry.reference.number);
    }
    assert_eq!(refs.len(), 200, "every reference is unique");
    assert_eq!(
        refs.iter().copied().collect::<Vec<_>>(),
        (1..=200).collect::<Vec<_>>(),
        "and without gaps"
    );
    assert_eq!(
        store.count_inquiries(f.tenant.id).await.expect("count"),
        200
    );
}

pub async fn deadline_policies_are_kept_per_municipality(store: &dyn Store) {
    use torg_domain::deadline::PolicyRule;
    let f = fixture(store).await;
    let other = fixture(store).await;
    let rule = PolicyRule {
        channel: Some(Channel::Email),
        unit_id: Some(f.other_unit.id),
        topic: Some("school".into()),
        policy: "same_working_day:14:00/12:00".parse().expect("policy"),
    };
    store
        .create_deadline_policy(f.tenant.id, rule.clone(), None)
        .await
        .expect("create");
    assert_eq!(
        store
            .list_deadline_policies(f.tenant.id)
            .await
            .expect("list")
            .into_iter()
            .map(|(_, r)| r)
            .collect::<Vec<_>>(),
        vec![rule.clone()]
    );
    assert!(
        store
            .list_deadline_policies(other.tenant.id)
            .await
            .expect("list")
            .is_empty()
    );
    let foreign = PolicyRule {
        unit_id: Some(f.other_unit.id),
        ..rule
    };
    assert!(matches!(
        store
            .create_deadline_policy(other.tenant.id, foreign, None)
            .await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn calendars_and_deadlines_are_kept(store: &dyn Store) {
    let f = fixture(store).await;
    let other = fixture(store).await;
    assert!(
        store
            .opening_hours(f.tenant.id)
            .await
            .expect("get")
            .is_none()
    );
    let weekly = torg_domain::calendar::parse_weekly("mon-thu 08:00-15:30; fri 08:00-14:00")
        .expect("weekly");
    store
        .set_opening_hours(f.tenant.id, &weekly, None)
        .await
        .expect("set");
    store
        .set_opening_hours(f.tenant.id, &weekly, None)
        .await
        .expect("set again replaces");
    assert_eq!(
        store.opening_hours(f.tenant.id).await.expect("get"),
        Some(weekly)
    );
    assert!(
        store
            .opening_hours(other.tenant.id)
            .await
            .expect("get")
            .is_none()
    );
    let day = ClosedDay {
        date: "2026-04-04".parse().expect("date"),
        closes_at: Some("12:00".parse().expect("time")),
        note: "Påskeaften".into(),
    };
    store
        .set_closed_day(f.tenant.id, day.clone(), None)
        .await
        .expect("closed");
    let whole = ClosedDay {
        closes_at: None,
        ..day.clone()
    };
    store
        .set_closed_day(f.tenant.id, whole.clone(), None)
        .await
        .expect("replace");
    assert_eq!(
        store.list_closed_days(f.tenant.id).await.expect("list"),
        vec![whole]
    );
    assert!(
        store
            .list_closed_days(other.tenant.id)
            .await
            .expect("list")
            .is_empty()
    );

    let now = t("2026-03-08T10:00:00Z");
    let a = store
        .create_inquiry(new_inquiry(&f, "åpen", now))
        .await
        .expect("c")
        .inquiry;
    let b = store
        .create_inquiry(new_inquiry(&f, "lukket", now))
        .await
        .expect("c")
        .inquiry;
    store
        .set_status(f.tenant.id, b.id, InquiryStatus::Closed, now, None)
        .await
        .expect("close");
    let inputs = store
        .open_deadline_inputs(f.tenant.id)
        .await
        .expect("inputs");
    assert_eq!(
        inputs.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![a.id],
        "only open inquiries"
    );
    let later = now + SignedDuration::from_hours(100);
    assert_eq!(
        store
            .set_deadlines(f.tenant.id, &[(a.id, later)])
            .await
            .expect("set"),
        1
    );
    assert_eq!(
        store
            .set_deadlines(f.tenant.id, &[(a.id, later)])
            .await
            .expect("set"),
        0,
        "unchanged is not counted"
    );
    assert_eq!(
        store
            .set_deadlines(other.tenant.id, &[(a.id, now)])
            .await
            .expect("set"),
        0,
        "never another municipality's"
    );
    assert_eq!(
        store
            .inquiry(f.tenant.id, a.id)
            .await
            .expect("g")
            .expect("e")
            .deadline_at,
        later
    );
}

pub async fn deadline_counts_per_unit(store: &dyn Store) {
    let f = fixture(store).await;
    let received = t("2026-03-09T08:00:00Z");
    let now = t("2026-03-10T08:00:00Z");
    // Deadlines 30 h (80 % used: warning), 20 h (overdue), 100 h (fine) after receipt.
    for hours in [30, 20, 100] {
        let mut n = new_inquiry(&f, "frist", received);
        n.deadline_at = received + SignedDuration::from_hours(hours);
        store.create_inquiry(n).await.expect("create");
    }
    let mut closed = new_inquiry(&f, "lukket", received);
    closed.deadline_at = received;
    let c = store.create_inquiry(closed).await.expect("create").inquiry;
    store
        .set_status(f.tenant.id, c.id, InquiryStatus::Closed, now, None)
        .await
        .expect("close");
    let counts = store
        .deadline_counts(f.tenant.id, now, 750)
        .await
        .expect("counts");
    assert_eq!(
        counts,
        vec![UnitDeadlineCounts {
            unit_id: f.service_desk.id,
            open: 3,
            warning: 1,
            overdue: 1
        }]
    );
}

pub async fn duty_shifts_are_kept_per_municipality(store: &dyn Store) {
    let f = fixture(store).await;
    let other = fixture(store).await;
    let user = |name: &str| NewUser {
        email: None,
        username: name.into(),
        full_name: name.into(),
        password_hash: "x".into(),
        password_set_by: None,
        role: Role::ServiceDesk,
        unit_id: None,
    };
    let kari = store
        .create_user(f.tenant.id, user("kari"), None)
        .await
        .expect("user");
    let stranger = store
        .create_user(other.tenant.id, user("per"), None)
        .await
        .expect("user");
    let a = t("2026-11-23T07:00:00Z");
    let b = t("2026-11-30T07:00:00Z");
    let shift = store
        .create_shift(f.tenant.id, "public", kari.id, a, b, None)
        .await
        .expect("shift");
    assert!(
        matches!(
            store
                .create_shift(f.tenant.id, "public", stranger.id, a, b, None)
                .await,
            Err(StoreError::NotFound(_))
        ),
        "only own staff"
    );
    store
        .set_handover_note(
            f.tenant.id,
            shift.id,
            "Følg med på vannbruddet i Storgata",
            None,
        )
        .await
        .expect("note");
    assert!(matches!(
        store
            .set_handover_note(other.tenant.id, shift.id, "x", None)
            .await,
        Err(StoreError::NotFound(_))
    ));
    let got = store
        .shifts(
            f.tenant.id,
            t("2026-11-25T00:00:00Z"),
            t("2026-11-26T00:00:00Z"),
        )
        .await
        .expect("shifts");
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].handover_note, "Følg med på vannbruddet i Storgata");
    assert!(
        store
            .shifts(f.tenant.id, b, t("2026-12-30T00:00:00Z"))
            .await
            .expect("shifts")
            .is_empty(),
        "ends are exclusive"
    );
    assert!(
        store
            .shifts(other.tenant.id, a, b)
            .await
            .expect("shifts")
            .is_empty()
    );
}

pub async fn merged_inquiries_point_to_the_oldest(store: &dyn Store) {
    let f = fixture(store).await;
    let other = fixture(store).await;
    let at = t("2026-05-04T08:00:00Z");
    let create = |body: &'static str, hours: i64, channel: Channel| {
        let mut new = new_inquiry(&f, body, at + SignedDuration::from_hours(hours));
        new.channel = channel;
        async move { store.create_inquiry(new).await.expect("create").inquiry }
    };
    let oldest = create("Brevet", 0, Channel::Email).await;
    let sms = create("SMS-en", 2, Channel::Sms).await;
    let chat = create("Chatten", 3, Channel::Chat).await;
    store
        .set_status(f.tenant.id, oldest.id, InquiryStatus::Closed, at, None)
        .await
        .expect("closed");
    let notice = |body: &str| NewMessage {
        kind: MessageKind::Acknowledgement,
        ..message(MessageKind::Acknowledgement, body, at)
    };
    // Not across municipalities, not into itself.
    assert!(matches!(
        store
            .merge_inquiries(other.tenant.id, oldest.id, &[sms.id], at, vec![], vec![])
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store
            .merge_inquiries(f.tenant.id, oldest.id, &[oldest.id], at, vec![], vec![])
            .await,
        Err(StoreError::Conflict(_))
    ));
    store
        .merge_inquiries(
            f.tenant.id,
            oldest.id,
            &[sms.id, chat.id],
            at + SignedDuration::from_hours(4),
            vec![(sms.id, notice("Samlet"))],
            vec![],
        )
        .await
        .expect("merge");
    assert_eq!(
        store
            .merged_into(f.tenant.id, oldest.id)
            .await
            .expect("members"),
        vec![sms.id, chat.id]
    );
    let read = |id| async move {
        store
            .inquiry(f.tenant.id, id)
            .await
            .expect("read")
            .expect("found")
    };
    let (o, s) = (read(oldest.id).await, read(sms.id).await);
    assert_eq!(s.merged_into, Some(oldest.id));
    assert_eq!(s.status, InquiryStatus::Closed);
    assert_eq!(o.merged_into, None);
    assert_ne!(
        o.status,
        InquiryStatus::Closed,
        "open again: the others were open"
    );
    assert_eq!(o.deadline_at, sms.deadline_at, "the earliest open deadline");
    let notices = store.messages(f.tenant.id, sms.id, false).await.expect("m");
    assert!(notices.iter().any(|m| m.body == "Samlet"));
    // Merged once only.
    assert!(matches!(
        store
            .merge_inquiries(f.tenant.id, chat.id, &[sms.id], at, vec![], vec![])
            .await,
        Err(StoreError::Conflict(_))
    ));
    // The citizen writing on a merged one moves the matter, not the merged one.
    store
        .set_status(f.tenant.id, oldest.id, InquiryStatus::Closed, at, None)
        .await
        .expect("closed");
    store
        .add_message(
            f.tenant.id,
            sms.id,
            message(
                MessageKind::Inbound,
                "Og en ting til",
                at + SignedDuration::from_hours(5),
            ),
            None,
        )
        .await
        .expect("message");
    assert_ne!(read(oldest.id).await.status, InquiryStatus::Closed);
    assert_eq!(read(sms.id).await.status, InquiryStatus::Closed);
}

pub async fn casework_settings_are_changed_and_removed(store: &dyn Store) {
    use torg_domain::calendar::{HoursScope, parse_weekly};
    use torg_domain::deadline::{PlannedPeak, PolicyRule};
    let f = fixture(store).await;
    let other = fixture(store).await;
    let rule = |position, word: &str| RoutingRule {
        position,
        keyword: Some(word.into()),
        topic: None,
        channel: None,
        unit_id: f.other_unit.id,
    };
    let a = store
        .create_routing_rule(f.tenant.id, rule(10, "vann"), None)
        .await
        .expect("a");
    let b = store
        .create_routing_rule(f.tenant.id, rule(20, "vei"), None)
        .await
        .expect("b");
    store
        .set_routing_rule_positions(f.tenant.id, &[(a, 20), (b, 10)], None)
        .await
        .expect("reorder");
    let order: Vec<i64> = store
        .list_routing_rules(f.tenant.id)
        .await
        .expect("rules")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(order, vec![b, a]);
    assert!(matches!(
        store
            .set_routing_rule_positions(other.tenant.id, &[(a, 1)], None)
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        !store
            .remove_policy_item(other.tenant.id, &PolicyItem::RoutingRule(a), None)
            .await
            .expect("foreign")
    );
    assert!(
        store
            .remove_policy_item(f.tenant.id, &PolicyItem::RoutingRule(a), None)
            .await
            .expect("remove")
    );
    assert_eq!(
        store.list_routing_rules(f.tenant.id).await.expect("rules")[0].0,
        b
    );

    let reply = store
        .create_canned_reply(f.tenant.id, "Takk", "Hei", None)
        .await
        .expect("canned");
    assert!(
        !store
            .update_canned_reply(other.tenant.id, reply.id, "X", "Y", None)
            .await
            .expect("foreign")
    );
    assert!(
        store
            .update_canned_reply(f.tenant.id, reply.id, "Takk for brevet", "Hei {navn}", None)
            .await
            .expect("update")
    );
    let got = &store.list_canned_replies(f.tenant.id).await.expect("list")[0];
    assert_eq!(
        (got.title.as_str(), got.body.as_str()),
        ("Takk for brevet", "Hei {navn}")
    );

    let policy = store
        .create_deadline_policy(
            f.tenant.id,
            PolicyRule {
                channel: Some(Channel::Sms),
                unit_id: None,
                topic: None,
                policy: "hours:24".parse().expect("policy"),
            },
            None,
        )
        .await
        .expect("policy");
    let day = ClosedDay {
        date: jiff::civil::date(2026, 12, 24),
        closes_at: None,
        note: "Julaften".into(),
    };
    store
        .set_closed_day(f.tenant.id, day.clone(), None)
        .await
        .expect("closed");
    let peak = store
        .create_peak(
            f.tenant.id,
            PlannedPeak {
                id: 0,
                name: "Skolestart".into(),
                starts_at: t("2027-08-10T00:00:00Z"),
                ends_at: t("2027-08-20T00:00:00Z"),
                policy: "working_hours:4".parse().expect("policy"),
                staffing_note: String::new(),
            },
            None,
        )
        .await
        .expect("peak");
    let chat = HoursScope::Channel(Channel::Chat);
    store
        .set_scoped_opening_hours(
            f.tenant.id,
            chat,
            &parse_weekly("mon-fri 09:00-14:00").expect("weekly"),
            None,
        )
        .await
        .expect("scoped");
    for item in [
        PolicyItem::CannedReply(reply.id),
        PolicyItem::DeadlinePolicy(policy),
        PolicyItem::ClosedDay(day.date),
        PolicyItem::Peak(peak),
        PolicyItem::ScopedHours(chat),
    ] {
        assert!(
            !store
                .remove_policy_item(other.tenant.id, &item, None)
                .await
                .expect("foreign"),
            "{item:?} is not the other municipality's"
        );
        assert!(
            store
                .remove_policy_item(f.tenant.id, &item, None)
                .await
                .expect("remove"),
            "{item:?} removed"
        );
        assert!(
            !store
                .remove_policy_item(f.tenant.id, &item, None)
                .await
                .expect("again"),
            "{item:?} is gone"
        );
    }
    assert!(
        store
            .list_canned_replies(f.tenant.id)
            .await
            .expect("c")
            .is_empty()
    );
    assert!(
        store
            .list_deadline_policies(f.tenant.id)
            .await
            .expect("p")
            .is_empty()
    );
    assert!(
        store
            .list_closed_days(f.tenant.id)
            .await
            .expect("d")
            .is_empty()
    );
    assert!(
        store
            .peaks(f.tenant.id, t("2027-01-01T00:00:00Z"))
            .await
            .expect("k")
            .is_empty()
    );
    assert!(
        store
            .scoped_opening_hours(f.tenant.id)
            .await
            .expect("h")
            .is_empty()
    );
}

pub async fn planned_peaks_are_kept(store: &dyn Store) {
    use torg_domain::deadline::PlannedPeak;
    let f = fixture(store).await;
    let other = fixture(store).await;
    let peak = PlannedPeak {
        id: 0,
        name: "Barnehagesøknad".into(),
        starts_at: t("2027-02-26T00:00:00Z"),
        ends_at: t("2027-03-01T23:00:00Z"),
        policy: "working_hours:4".parse().expect("policy"),
        staffing_note: "To ekstra på Servicetorget".into(),
    };
    let id = store
        .create_peak(f.tenant.id, peak.clone(), None)
        .await
        .expect("peak");
    let got = store
        .peaks(f.tenant.id, t("2027-01-01T00:00:00Z"))
        .await
        .expect("peaks");
    assert_eq!(got, vec![PlannedPeak { id, ..peak }]);
    assert!(
        store
            .peaks(f.tenant.id, t("2027-03-02T00:00:00Z"))
            .await
            .expect("peaks")
            .is_empty(),
        "ended peaks are left out"
    );
    assert!(
        store
            .peaks(other.tenant.id, t("2027-01-01T00:00:00Z"))
            .await
            .expect("peaks")
            .is_empty()
    );
}

pub async fn acknowledgements_are_not_answers(store: &dyn Store) {
    let f = fixture(store).await;
    let other = fixture(store).await;
    store
        .set_acknowledgement_template(f.tenant.id, "nb", "Takk, {navn}!", None)
        .await
        .expect("set");
    store
        .set_acknowledgement_template(f.tenant.id, "nb", "Takk for meldingen, {navn}!", None)
        .await
        .expect("replace");
    assert_eq!(
        store
            .acknowledgement_templates(f.tenant.id)
            .await
            .expect("get"),
        vec![("nb".to_string(), "Takk for meldingen, {navn}!".to_string())]
    );
    assert!(
        store
            .acknowledgement_templates(other.tenant.id)
            .await
            .expect("get")
            .is_empty()
    );
    let now = t("2026-03-11T10:00:00Z");
    let i = store
        .create_inquiry(new_inquiry(&f, "Hei", now))
        .await
        .expect("c")
        .inquiry;
    let ack = NewMessage {
        external_id: None,
        outgoing: None,
        kind: MessageKind::Acknowledgement,
        author_user_id: None,
        author_name: "Testkommune".into(),
        body: "Takk".into(),
        attachments: vec![],
        created_at: now,
    };
    store
        .add_message(f.tenant.id, i.id, ack, None)
        .await
        .expect("ack");
    let after = store
        .inquiry(f.tenant.id, i.id)
        .await
        .expect("g")
        .expect("e");
    assert_eq!(
        after.status,
        InquiryStatus::New,
        "an acknowledgement is not an answer"
    );
    assert!(after.first_answer_at.is_none());
    let citizen = store.messages(f.tenant.id, i.id, false).await.expect("m");
    assert!(
        citizen
            .iter()
            .any(|m| m.kind == MessageKind::Acknowledgement),
        "the citizen sees it"
    );
}

pub async fn scoped_hours_are_kept(store: &dyn Store) {
    use torg_domain::calendar::{HoursScope, parse_weekly};
    let f = fixture(store).await;
    let other = fixture(store).await;
    let chat = parse_weekly("mon-fri 09:00-14:00").expect("weekly");
    let unit = parse_weekly("mon-thu 07:00-15:00").expect("weekly");
    store
        .set_scoped_opening_hours(f.tenant.id, HoursScope::Channel(Channel::Chat), &chat, None)
        .await
        .expect("chat");
    store
        .set_scoped_opening_hours(f.tenant.id, HoursScope::Unit(f.other_unit.id), &unit, None)
        .await
        .expect("unit");
    assert!(matches!(
        store
            .set_scoped_opening_hours(
                other.tenant.id,
                HoursScope::Unit(f.other_unit.id),
                &unit,
                None
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    let got = store.scoped_opening_hours(f.tenant.id).await.expect("get");
    assert_eq!(got.len(), 2);
    assert!(got.contains(&(HoursScope::Channel(Channel::Chat), chat)));
    assert!(
        store
            .scoped_opening_hours(other.tenant.id)
            .await
            .expect("get")
            .is_empty()
    );
}

pub async fn the_audit_log_is_a_chain(store: Arc<dyn Store>) {
    use torg_domain::audit::{NewAuditEntry, verify};
    let f = fixture(&*store).await;
    let other = fixture(&*store).await;
    let entry = |n: usize| NewAuditEntry {
        actor: "user:1".into(),
        action: "inquiry.replied".into(),
        // Not an id of the inquiries created below (a fresh store numbers them from 1).
        object: format!("inquiry:{}", 1_000_000 + n),
        detail: "svar sendt".into(),
        source: "127.0.0.1".into(),
    };
    // Concurrent writers (and inquiries created meanwhile, which log themselves in the
    // same transaction) still make one unbroken chain.
    let mut tasks = vec![];
    for n in 0..30 {
        let store = store.clone();
        let tenant = f.tenant.id;
        tasks.push(tokio::spawn(async move {
            store
                .append_audit(tenant, entry(n), t("2026-03-12T10:00:00Z"))
                .await
                .map(|_| ())
        }));
    }
    let mut created = vec![];
    for n in 0..10 {
        let store = store.clone();
        let new = new_inquiry(&f, &format!("samtidig {n}"), t("2026-03-12T10:00:00Z"));
        created.push(tokio::spawn(async move {
            store.create_inquiry(new).await.map(|c| c.inquiry.id)
        }));
    }
    for task in tasks {
        task.await.expect("join").expect("append");
    }
    let mut ids = vec![];
    for task in created {
        ids.push(task.await.expect("join").expect("create"));
    }
    store
        .append_audit(other.tenant.id, entry(99), t("2026-03-12T10:00:00Z"))
        .await
        .expect("other");
    let entries = store
        .audit_entries(f.tenant.id, 0, 1000)
        .await
        .expect("entries");
    assert_eq!(entries.len(), 40);
    assert_eq!(verify(&entries), Ok(()));
    for id in ids {
        let e = entries
            .iter()
            .find(|e| e.entry.object == format!("inquiry:{id}"))
            .expect("every created inquiry is in the log");
        assert_eq!(e.entry.action, "inquiry.created");
        assert_eq!(
            (e.entry.actor.as_str(), e.entry.source.as_str()),
            ("citizen", "192.0.2.1")
        );
        assert!(e.entry.detail.contains("channel:web"), "{}", e.entry.detail);
    }
    assert_eq!(
        store
            .audit_entries(other.tenant.id, 0, 1000)
            .await
            .expect("entries")
            .len(),
        1,
        "a chain per municipality"
    );
    assert_eq!(
        store
            .audit_entries(f.tenant.id, 38, 1000)
            .await
            .expect("entries")
            .len(),
        2,
        "paged by sequence"
    );
}

pub async fn sso_providers_are_kept_per_municipality(store: &dyn Store) {
    let f = fixture(store).await;
    let other = fixture(store).await;
    assert_eq!(store.sso_provider(f.tenant.id).await.expect("get"), None);
    let p = SsoProvider {
        issuer: "https://login.kommune.no".into(),
        client_id: "torg".into(),
        client_secret: "hemmelig".into(),
        role_claim: "groups".into(),
        role_map: "torg-admin=administrator".into(),
    };
    store
        .set_sso_provider(f.tenant.id, Some(p.clone()), None)
        .await
        .expect("set");
    assert_eq!(
        store.sso_provider(f.tenant.id).await.expect("get"),
        Some(p.clone())
    );
    assert_eq!(
        store.sso_provider(other.tenant.id).await.expect("get"),
        None
    );
    let changed = SsoProvider {
        client_id: "torg2".into(),
        ..p
    };
    store
        .set_sso_provider(f.tenant.id, Some(changed.clone()), None)
        .await
        .expect("replace");
    assert_eq!(
        store.sso_provider(f.tenant.id).await.expect("get"),
        Some(changed)
    );
    store
        .set_sso_provider(f.tenant.id, None, None)
        .await
        .expect("remove");
    assert_eq!(store.sso_provider(f.tenant.id).await.expect("get"), None);
}

fn outgoing(header: &str) -> NewOutgoing {
    NewOutgoing {
        media: None,
        channel: Channel::Email,
        recipient: "ola@example.no".into(),
        subject: "Re: Vannlekkasje".into(),
        header_id: header.into(),
        in_reply_to: Some("<ola-1@example.no>".into()),
        references: vec!["<ola-1@example.no>".into()],
    }
}

/// A sender that died after the gateway took an entry and before its marking batch: the
/// gateway's report (Kannel's DLR 8, or a delivery report) marks it sent, and nothing sends
/// it again when the lease runs out; the late batch changes nothing.
pub async fn an_entry_the_gateway_took_is_not_sent_again(store: &dyn Store) {
    let f = fixture(store).await;
    let tenant = f.tenant.id;
    let now = t("2026-03-06T10:00:00Z");
    let i = store
        .create_inquiry(new_inquiry(&f, "Hei", now))
        .await
        .expect("c")
        .inquiry;
    let mut entries = vec![];
    for n in 0..3 {
        let header = fresh_slug("<tatt") + "@torg>";
        let reply = store
            .add_message(
                tenant,
                i.id,
                emailed(&format!("Svar {n}"), &header, now),
                None,
            )
            .await
            .expect("reply");
        entries.push((reply.id, header));
    }
    let state = |message: i64| async move {
        store
            .deliveries(tenant, i.id)
            .await
            .expect("d")
            .into_iter()
            .find(|(id, _)| *id == message)
            .map(|(_, s)| s)
            .expect("state")
    };
    let outbox_id = |claimed: &[OutboxItem], header: &str| {
        claimed
            .iter()
            .find(|o| o.header_id == header)
            .map(|o| o.id)
            .expect("claimed")
    };
    let lease = SignedDuration::from_secs(60);
    let claimed = store
        .claim_outbox(Channel::Email, now, lease, 100)
        .await
        .expect("claim");
    let (taken, reported, unclaimed) = (
        outbox_id(&claimed, &entries[0].1),
        outbox_id(&claimed, &entries[1].1),
        outbox_id(&claimed, &entries[2].1),
    );
    // The third was given back unsent (as a retry does): a report for it proves nothing.
    store
        .outbox_retry(unclaimed, now, "not tried")
        .await
        .expect("retry");
    let at = now + SignedDuration::from_secs(1);
    store.outbox_taken(tenant, taken, at).await.expect("taken");
    assert_eq!(state(entries[0].0).await, DeliveryState::Sent { at });
    store
        .outbox_delivery_report(tenant, reported, true, "DLR 1", at)
        .await
        .expect("delivered before it was marked");
    assert_eq!(state(entries[1].0).await, DeliveryState::Delivered { at });
    // Not this municipality's.
    let other = fixture(store).await;
    assert!(matches!(
        store.outbox_taken(other.tenant.id, taken, at).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.outbox_taken(tenant, i64::MAX, at).await,
        Err(StoreError::NotFound(_))
    ));
    // The dead sender's lease runs out: only the one never handed on is claimed again.
    let again: Vec<i64> = store
        .claim_outbox(Channel::Email, now + lease * 3, lease, 100)
        .await
        .expect("claim")
        .into_iter()
        .map(|o| o.id)
        .filter(|id| [taken, reported, unclaimed].contains(id))
        .collect();
    assert_eq!(again, vec![unclaimed], "sent once, never again");
    // A sender's late marking batch leaves the reports as they are; a second DLR 8 too.
    let late = now + SignedDuration::from_secs(5);
    store
        .outbox_sent(&[taken, reported], late)
        .await
        .expect("late batch");
    store
        .outbox_taken(tenant, reported, late)
        .await
        .expect("again");
    assert_eq!(state(entries[0].0).await, DeliveryState::Sent { at });
    assert_eq!(state(entries[1].0).await, DeliveryState::Delivered { at });
}

/// Kari's answer `body` at `at`, sent by email with Message-ID `header`.
fn emailed(body: &str, header: &str, at: Timestamp) -> NewMessage {
    NewMessage {
        kind: MessageKind::Outbound,
        author_user_id: None,
        author_name: "Kari".into(),
        body: body.into(),
        attachments: vec![],
        created_at: at,
        external_id: None,
        outgoing: Some(outgoing(header)),
    }
}

pub async fn the_outbox_delivers_once_and_remembers_failures(store: &dyn Store) {
    let f = fixture(store).await;
    let tenant = f.tenant.id;
    let now = t("2026-03-05T10:00:00Z");
    let i = store
        .create_inquiry(new_inquiry(&f, "Hei", now))
        .await
        .expect("c")
        .inquiry;
    let header = fresh_slug("<svar") + "@torg>";
    let reply = store
        .add_message(
            tenant,
            i.id,
            emailed("Vi kommer i dag.", &header, now),
            None,
        )
        .await
        .expect("reply");
    assert_eq!(
        store
            .inquiry_by_mail_id(tenant, &header)
            .await
            .expect("by id"),
        Some(i.id),
        "a reply to our message finds the inquiry"
    );
    assert_eq!(
        store
            .inquiry_by_reference(tenant, &i.reference.to_string())
            .await
            .expect("ref"),
        Some(i.id)
    );
    let lease = SignedDuration::from_secs(60);
    // Two workers: only one gets the entry.
    let first = store
        .claim_outbox(Channel::Email, now, lease, 10)
        .await
        .expect("claim");
    let mine: Vec<&OutboxItem> = first.iter().filter(|o| o.header_id == header).collect();
    assert_eq!(mine.len(), 1);
    let item = mine[0].clone();
    assert_eq!(
        (item.body.as_str(), item.attempts, item.message_id),
        ("Vi kommer i dag.", 1, Some(reply.id))
    );
    assert_eq!(item.references, vec!["<ola-1@example.no>".to_string()]);
    let again = store
        .claim_outbox(Channel::Email, now, lease, 10)
        .await
        .expect("claim");
    assert!(!again.iter().any(|o| o.id == item.id), "leased");
    assert!(
        store
            .claim_outbox(Channel::Sms, now + lease * 2, lease, 10)
            .await
            .expect("sms")
            .iter()
            .all(|o| o.id != item.id)
    );
    // The server was down: try again later, with its answer kept.
    store
        .outbox_retry(
            item.id,
            now + SignedDuration::from_secs(30),
            "421 try later",
        )
        .await
        .expect("retry");
    assert_eq!(
        store.deliveries(tenant, i.id).await.expect("d"),
        vec![(
            reply.id,
            DeliveryState::Pending {
                attempts: 1,
                last_error: Some("421 try later".into())
            }
        )]
    );
    assert!(
        store
            .claim_outbox(
                Channel::Email,
                now + SignedDuration::from_secs(10),
                lease,
                10
            )
            .await
            .expect("c")
            .iter()
            .all(|o| o.id != item.id),
        "not before its time"
    );
    let later = now + SignedDuration::from_secs(31);
    let second = store
        .claim_outbox(Channel::Email, later, lease, 10)
        .await
        .expect("c");
    let item = second
        .into_iter()
        .find(|o| o.id == item.id)
        .expect("due again");
    assert_eq!(item.attempts, 2);
    store.outbox_sent(&[item.id], later).await.expect("sent");
    assert_eq!(
        store.deliveries(tenant, i.id).await.expect("d"),
        vec![(reply.id, DeliveryState::Sent { at: later })]
    );
    // A delivery report, only from the entry's own municipality.
    let other = fixture(store).await;
    assert!(matches!(
        store
            .outbox_delivery_report(other.tenant.id, item.id, true, "DLR 1", later)
            .await,
        Err(StoreError::NotFound(_))
    ));
    store
        .outbox_delivery_report(tenant, item.id, false, "DLR 2", later)
        .await
        .expect("report");
    assert_eq!(
        store.deliveries(tenant, i.id).await.expect("d"),
        vec![(
            reply.id,
            DeliveryState::Undelivered {
                report: "DLR 2".into()
            }
        )]
    );
    store
        .outbox_delivery_report(tenant, item.id, true, "DLR 1", later)
        .await
        .expect("report");
    assert_eq!(
        store.deliveries(tenant, i.id).await.expect("d"),
        vec![(reply.id, DeliveryState::Delivered { at: later })]
    );
    assert!(
        store
            .claim_outbox(Channel::Email, later + lease * 10, lease, 100)
            .await
            .expect("c")
            .iter()
            .all(|o| o.id != item.id),
        "sent once, never again"
    );
    // A refusal for good.
    let header2 = fresh_slug("<svar") + "@torg>";
    let mut m = emailed("Til feil adresse", &header2, now);
    let bad = store
        .add_message(tenant, i.id, m.clone(), None)
        .await
        .expect("m");
    let claimed = store
        .claim_outbox(Channel::Email, later, lease, 100)
        .await
        .expect("c");
    let o = claimed
        .iter()
        .find(|o| o.header_id == header2)
        .expect("claimed");
    store
        .outbox_failed(o.id, "550 no such user")
        .await
        .expect("failed");
    assert!(store.deliveries(tenant, i.id).await.expect("d").contains(&(
        bad.id,
        DeliveryState::Failed {
            attempts: 1,
            error: "550 no such user".into()
        }
    )));
    // Inbound messages with a Message-ID are stored once.
    m.kind = MessageKind::Inbound;
    m.outgoing = None;
    m.external_id = Some("<ola-2@example.no>".into());
    store
        .add_message(tenant, i.id, m.clone(), None)
        .await
        .expect("first time");
    assert!(matches!(
        store.add_message(tenant, i.id, m, None).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store
            .inquiry_by_mail_id(tenant, "<ola-2@example.no>")
            .await
            .expect("by id"),
        Some(i.id)
    );
    let other = fixture(store).await;
    assert_eq!(
        store
            .inquiry_by_mail_id(other.tenant.id, &header)
            .await
            .expect("other"),
        None
    );
}

pub async fn mail_accounts_quarantine_and_threading(store: &dyn Store) {
    let f = fixture(store).await;
    let tenant = f.tenant.id;
    assert_eq!(store.mail_account(tenant).await.expect("none"), None);
    let server = |port| MailServer {
        host: "127.0.0.1".into(),
        port,
        security: "plain".into(),
        user: "postmottak".into(),
        password: "hemmelig".into(),
    };
    let account = MailAccount {
        address: "postmottak@test.kommune.no".into(),
        display_name: "Testkommune".into(),
        imap: server(1143),
        imap_folder: "INBOX".into(),
        smtp: server(1025),
        max_message_bytes: 10_000_000,
        blocked_extensions: vec!["exe".into(), "js".into()],
    };
    store
        .set_mail_account(tenant, Some(account.clone()), None)
        .await
        .expect("set");
    assert_eq!(
        store.mail_account(tenant).await.expect("get"),
        Some(account.clone())
    );
    assert!(
        store
            .mail_accounts()
            .await
            .expect("all")
            .contains(&(tenant, account))
    );
    let at = t("2026-03-05T10:00:00Z");
    for _ in 0..2 {
        let mail = NewQuarantinedMail {
            message_id: "<x@y>".into(),
            sender: "x@y".into(),
            subject: "Hei".into(),
            reason: "the message has no body".into(),
            raw: b"raw bytes".to_vec(),
            notice: Some(Notice {
                out: NewOutgoing {
                    media: None,
                    channel: Channel::Email,
                    recipient: "x@y".into(),
                    subject: "Meldingen din er for stor".into(),
                    header_id: "<notice-1@test.kommune.no>".into(),
                    in_reply_to: Some("<x@y>".into()),
                    references: vec!["<x@y>".into()],
                },
                body: "Den er tatt vare på.".into(),
            }),
        };
        store
            .quarantine_mail(tenant, &mail, at)
            .await
            .expect("quarantine");
    }
    let q = store.quarantined_mail(tenant, 10).await.expect("list");
    assert_eq!(q.len(), 1, "the same mail is kept once");
    assert_eq!(
        (q[0].reason.as_str(), q[0].size),
        ("the message has no body", 9)
    );
    // Its notice is queued once, with its own text and no inquiry.
    let notices: Vec<OutboxItem> = store
        .claim_outbox(Channel::Email, at, SignedDuration::from_secs(60), 100)
        .await
        .expect("claim")
        .into_iter()
        .filter(|o| o.header_id == "<notice-1@test.kommune.no>")
        .collect();
    assert_eq!(notices.len(), 1, "one notice for a mail kept twice");
    assert_eq!(
        (
            notices[0].inquiry_id,
            notices[0].message_id,
            notices[0].body.as_str()
        ),
        (None, None, "Den er tatt vare på.")
    );
    store.outbox_sent(&[notices[0].id], at).await.expect("sent");
    assert_eq!(
        store.quarantined_raw(tenant, q[0].id).await.expect("raw"),
        Some(b"raw bytes".to_vec())
    );
    assert_eq!(
        store
            .quarantined_raw(fixture(store).await.tenant.id, q[0].id)
            .await
            .expect("raw"),
        None,
        "another municipality's quarantine is not reachable"
    );
    store
        .remove_quarantined(tenant, q[0].id, None)
        .await
        .expect("remove");
    assert!(matches!(
        store.remove_quarantined(tenant, q[0].id, None).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        store
            .quarantined_mail(tenant, 10)
            .await
            .expect("list")
            .is_empty()
    );
    // The first message of an inquiry that came by email is found by its Message-ID.
    let mut n = new_inquiry(&f, "Hei på e-post", at);
    n.channel = Channel::Email;
    n.external_id = Some("<forste@example.no>".into());
    let i = store.create_inquiry(n).await.expect("c").inquiry;
    assert_eq!(
        store
            .inquiry_by_mail_id(tenant, "<forste@example.no>")
            .await
            .expect("id"),
        Some(i.id)
    );
    store
        .set_mail_account(tenant, None, None)
        .await
        .expect("remove");
    assert_eq!(store.mail_account(tenant).await.expect("none"), None);
}

/// Inquiries past the warning share of their time are found once: marking one warned queues
/// its warning emails in the same transaction, and a second marking queues nothing.
pub async fn deadline_warnings_go_out_once(store: &dyn Store) {
    let f = fixture(store).await;
    let tenant = f.tenant.id;
    let received = t("2026-03-02T08:00:00Z");
    let mut n = new_inquiry(&f, "Snart for sent", received);
    n.deadline_at = t("2026-03-02T16:00:00Z");
    let late = store.create_inquiry(n).await.expect("late").inquiry;
    let mut n = new_inquiry(&f, "God tid", received);
    n.deadline_at = t("2026-03-09T16:00:00Z");
    store.create_inquiry(n).await.expect("early");
    // 14:30 is 81 % of the way from 08:00 to 16:00.
    let now = t("2026-03-02T14:30:00Z");
    let due = store
        .inquiries_to_warn(tenant, now, 750, 100)
        .await
        .expect("due");
    assert_eq!(due.iter().map(|s| s.id).collect::<Vec<_>>(), vec![late.id]);
    assert!(
        store
            .inquiries_to_warn(tenant, now, 850, 100)
            .await
            .expect("due")
            .is_empty(),
        "not yet at 85 %"
    );
    let notice = Notice {
        out: NewOutgoing {
            media: None,
            channel: Channel::Email,
            recipient: "leder@test.kommune.no".into(),
            subject: "Svarfristen nærmer seg".into(),
            header_id: fresh_slug("<warn") + "@test.kommune.no>",
            in_reply_to: None,
            references: vec![],
        },
        body: "Se på den.".into(),
    };
    assert!(
        store
            .mark_warned(tenant, late.id, std::slice::from_ref(&notice), now)
            .await
            .expect("mark")
    );
    assert!(
        !store
            .mark_warned(tenant, late.id, std::slice::from_ref(&notice), now)
            .await
            .expect("again"),
        "warned once"
    );
    assert!(
        store
            .inquiries_to_warn(tenant, now, 750, 100)
            .await
            .expect("due")
            .is_empty()
    );
    let queued: Vec<OutboxItem> = store
        .claim_outbox(Channel::Email, now, SignedDuration::from_secs(60), 1000)
        .await
        .expect("claim")
        .into_iter()
        .filter(|o| o.recipient == "leder@test.kommune.no" && o.tenant_id == tenant)
        .collect();
    assert_eq!(queued.len(), 1);
    assert_eq!(
        (
            queued[0].inquiry_id,
            queued[0].message_id,
            queued[0].body.as_str()
        ),
        (Some(late.id), None, "Se på den.")
    );
    // Warnings are not deliveries of the inquiry's messages.
    assert!(
        store
            .deliveries(tenant, late.id)
            .await
            .expect("d")
            .is_empty()
    );
    store.outbox_sent(&[queued[0].id], now).await.expect("sent");
}

/// Accounts are proposed, listed, decided, and only approved ones count; another
/// municipality's account cannot be decided.
pub async fn the_channel_registry(store: &dyn Store) {
    use torg_domain::registry::{AccountStatus, Ambition};
    let f = fixture(store).await;
    let other = fixture(store).await;
    let tenant = f.tenant.id;
    let at = t("2026-03-02T08:00:00Z");
    let new = NewChannelAccount {
        channel: Channel::Facebook,
        name: "Testkommune".into(),
        address: "https://facebook.com/testkommune".into(),
        owner_unit_id: Some(f.service_desk.id),
        purpose: "Informasjon og dialog".into(),
        ambition: Ambition::Waiting,
        opening_hours: "mon-fri 08:00-15:30".into(),
        proposed_by: None,
    };
    let a = store
        .propose_channel_account(tenant, &new, at, None)
        .await
        .expect("propose");
    assert_eq!(
        (a.status, a.ambition),
        (AccountStatus::Proposed, Ambition::Waiting)
    );
    assert!(matches!(
        store.propose_channel_account(tenant, &new, at, None).await,
        Err(StoreError::Conflict(_))
    ));
    let mut foreign_unit = new.clone();
    foreign_unit.address = "x".into();
    foreign_unit.owner_unit_id = Some(other.service_desk.id);
    assert!(matches!(
        store
            .propose_channel_account(tenant, &foreign_unit, at, None)
            .await,
        Err(StoreError::NotFound(_))
    ));
    let approved = |s: &'static str| async move {
        store
            .channel_account_approved(tenant, Channel::Facebook, s)
            .await
            .expect("approved?")
    };
    assert!(
        !approved("https://facebook.com/testkommune").await,
        "proposed is not approved"
    );
    assert!(matches!(
        store
            .decide_channel_account(
                other.tenant.id,
                a.id,
                AccountStatus::Approved,
                UserId(1),
                at,
                None
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    let decided = store
        .decide_channel_account(tenant, a.id, AccountStatus::Approved, UserId(7), at, None)
        .await
        .expect("approve");
    assert_eq!(
        (decided.status, decided.decided_by),
        (AccountStatus::Approved, Some(UserId(7)))
    );
    assert!(approved("https://facebook.com/testkommune").await);
    assert_eq!(store.channel_accounts(tenant).await.expect("list").len(), 1);
    assert!(
        store
            .channel_accounts(other.tenant.id)
            .await
            .expect("list")
            .is_empty()
    );
}

/// A connector's last state per municipality: replaced, listed per municipality or all.
pub async fn connector_health(store: &dyn Store) {
    let a = fixture(store).await;
    let b = fixture(store).await;
    let at = t("2026-03-02T08:00:00Z");
    let status = |tenant_id, ok, detail: &str| ConnectorStatus {
        tenant_id,
        connector: "smtp".into(),
        ok,
        detail: detail.into(),
        at,
    };
    store
        .set_connector_status(&status(a.tenant.id, true, "sent"))
        .await
        .expect("ok");
    store
        .set_connector_status(&status(a.tenant.id, false, "connection refused"))
        .await
        .expect("failed");
    store
        .set_connector_status(&status(b.tenant.id, true, "sent"))
        .await
        .expect("b");
    let mine = store
        .connector_statuses(Some(a.tenant.id))
        .await
        .expect("a");
    assert_eq!(mine, vec![status(a.tenant.id, false, "connection refused")]);
    let all = store.connector_statuses(None).await.expect("all");
    assert!(all.contains(&status(b.tenant.id, true, "sent")) && all.len() >= 2);
}

pub async fn social_accounts_follow_the_registry(store: &dyn Store) {
    use torg_domain::registry::{AccountStatus, Ambition};
    let f = fixture(store).await;
    let other = fixture(store).await;
    let tenant = f.tenant.id;
    let at = t("2026-03-02T08:00:00Z");
    let page = SocialAccount {
        tenant_id: tenant,
        channel: Channel::Facebook,
        account: "1000123".into(),
        api_base: "http://127.0.0.1:1/v21.0".into(),
        access_token: "sealed-token".into(),
        app_secret: "sealed-secret".into(),
        verify_token: "verify-me".into(),
        registry_address: "https://facebook.com/testkommune".into(),
        cursor: String::new(),
        approved: false,
    };
    store.set_social_account(&page, None).await.expect("set");
    let got = store.social_accounts(Some(tenant)).await.expect("list");
    assert_eq!(
        got,
        vec![page.clone()],
        "not approved before the registry says so"
    );
    assert!(
        store
            .social_accounts(Some(other.tenant.id))
            .await
            .expect("other")
            .is_empty()
    );
    let proposed = store
        .propose_channel_account(
            tenant,
            &NewChannelAccount {
                channel: Channel::Facebook,
                name: "Testkommune".into(),
                address: page.registry_address.clone(),
                owner_unit_id: None,
                purpose: "Dialog".into(),
                ambition: Ambition::Waiting,
                opening_hours: String::new(),
                proposed_by: None,
            },
            at,
            None,
        )
        .await
        .expect("propose");
    assert!(!store.social_accounts(Some(tenant)).await.expect("list")[0].approved);
    store
        .decide_channel_account(
            tenant,
            proposed.id,
            AccountStatus::Approved,
            UserId(1),
            at,
            None,
        )
        .await
        .expect("approve");
    assert!(store.social_accounts(Some(tenant)).await.expect("list")[0].approved);
    // Replacing keeps the cursor; the cursor is set on its own.
    store
        .set_social_cursor(tenant, Channel::Facebook, "1000123", "42")
        .await
        .expect("cursor");
    let mut renewed = page.clone();
    renewed.access_token = "new-token".into();
    store
        .set_social_account(&renewed, None)
        .await
        .expect("renew");
    let got = &store.social_accounts(None).await.expect("all");
    let mine = got.iter().find(|a| a.tenant_id == tenant).expect("mine");
    assert_eq!(
        (mine.access_token.as_str(), mine.cursor.as_str()),
        ("new-token", "42")
    );
    store
        .decide_channel_account(
            tenant,
            proposed.id,
            AccountStatus::Retired,
            UserId(1),
            at,
            None,
        )
        .await
        .expect("retire");
    assert!(!store.social_accounts(Some(tenant)).await.expect("list")[0].approved);

    // One person's conversation is found by its thread key while it is open, and only its own.
    let mut first = new_inquiry(&f, "Hei", at);
    first.channel = Channel::Facebook;
    first.external_id = Some("1000123|person:77:m_1".into());
    first.thread_key = Some("1000123|person:77:".into());
    let created = store.create_inquiry(first).await.expect("create").inquiry;
    let mut near = new_inquiry(&f, "Hei", at);
    near.channel = Channel::Facebook;
    near.external_id = Some("1000123|person:771:m_2".into());
    near.thread_key = Some("1000123|person:771:".into());
    let near = store.create_inquiry(near).await.expect("create").inquiry;
    let find = |key: &'static str| async move {
        store
            .open_inquiry_by_thread(tenant, Channel::Facebook, key)
            .await
            .expect("thread")
            .map(|(id, _)| id)
    };
    assert_eq!(find("1000123|person:77:").await, Some(created.id));
    assert_eq!(
        store
            .open_inquiry_by_thread(tenant, Channel::Facebook, "1000123|person:77:")
            .await
            .expect("thread"),
        Some((created.id, Some("1000123|person:77:m_1".into()))),
        "with the first message's id"
    );
    assert_eq!(find("1000123|person:771:").await, Some(near.id));
    assert_eq!(
        find("1000123|person:7").await,
        None,
        "the whole key, not a prefix"
    );
    assert_eq!(
        store
            .open_inquiry_by_thread(other.tenant.id, Channel::Facebook, "1000123|person:77:")
            .await
            .expect("other"),
        None
    );
    store
        .set_status(tenant, created.id, InquiryStatus::Closed, at, None)
        .await
        .expect("close");
    assert_eq!(
        find("1000123|person:77:").await,
        None,
        "a closed one starts anew"
    );
}

pub async fn notices_are_queued_for_own_inquiries_only(store: &dyn Store) {
    let f = fixture(store).await;
    let other = fixture(store).await;
    let at = t("2026-03-02T08:00:00Z");
    let inquiry = store
        .create_inquiry(new_inquiry(&f, "Chat", at))
        .await
        .expect("create")
        .inquiry;
    let notice = Notice {
        out: NewOutgoing {
            media: None,
            channel: Channel::Email,
            recipient: "ola@example.no".into(),
            subject: "Chat med kommunen".into(),
            header_id: format!("<{}@torg>", fresh_slug("transcript")),
            in_reply_to: None,
            references: vec![],
        },
        body: "[08:00] Ola: Hei".into(),
    };
    assert!(matches!(
        store
            .queue_notices(
                other.tenant.id,
                Some(inquiry.id),
                std::slice::from_ref(&notice),
                at
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    store
        .queue_notices(
            f.tenant.id,
            Some(inquiry.id),
            std::slice::from_ref(&notice),
            at,
        )
        .await
        .expect("queue");
    let due = store
        .claim_outbox(
            Channel::Email,
            at + SignedDuration::from_secs(1),
            SignedDuration::from_secs(60),
            1000,
        )
        .await
        .expect("claim");
    let mine: Vec<_> = due
        .iter()
        .filter(|d| d.header_id == notice.out.header_id)
        .collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (mine[0].body.as_str(), mine[0].inquiry_id),
        ("[08:00] Ola: Hei", Some(inquiry.id))
    );
}

pub async fn the_archive_journal_and_retention(store: &dyn Store) {
    use torg_domain::archive::{ArchiveDecision, Screening, ScreeningBasis};
    let f = fixture(store).await;
    let other = fixture(store).await;
    let tenant = f.tenant.id;
    let at = t("2026-03-02T08:00:00Z");
    let mut with_doc = new_inquiry(&f, "Søknad om parkeringstillatelse", at);
    with_doc.attachments = vec![pdf("kart.pdf")];
    let kept = store
        .create_inquiry(with_doc)
        .await
        .expect("create")
        .inquiry;
    let answer = |body: &str, mins: i64| NewMessage {
        external_id: None,
        outgoing: None,
        kind: MessageKind::Outbound,
        author_user_id: None,
        author_name: "Kari Saksbehandler".into(),
        body: body.into(),
        attachments: vec![],
        created_at: at + SignedDuration::from_mins(mins),
    };
    store
        .add_message(tenant, kept.id, answer("Vedtak: innvilget.", 60), None)
        .await
        .expect("answer");
    let note = NewMessage {
        kind: MessageKind::Note,
        ..answer("internt", 61)
    };
    store
        .add_message(tenant, kept.id, note, None)
        .await
        .expect("note");
    let question = store
        .create_inquiry(new_inquiry(
            &f,
            "Når tømmes søpla?",
            at + SignedDuration::from_mins(5),
        ))
        .await
        .expect("create")
        .inquiry;
    let undecided = store
        .create_inquiry(new_inquiry(&f, "Hei", at + SignedDuration::from_mins(6)))
        .await
        .expect("create")
        .inquiry;
    let record = ArchiveRecord {
        inquiry_id: kept.id,
        decision: ArchiveDecision::Archive,
        reasons: "application,attachments".into(),
        decided_by: None,
        decided_at: at + SignedDuration::from_hours(2),
        screening: Screening {
            basis: Some(ScreeningBasis::PersonalCircumstances),
            names: true,
            public_title: Some("Søknad om *****".into()),
        },
    };
    store
        .set_archive_record(tenant, &record, None)
        .await
        .expect("decide");
    assert!(
        store
            .set_archive_record(other.tenant.id, &record, None)
            .await
            .is_err(),
        "another municipality's inquiry cannot be decided"
    );
    store
        .set_archive_record(
            tenant,
            &ArchiveRecord {
                inquiry_id: question.id,
                decision: ArchiveDecision::NotArchive,
                reasons: String::new(),
                screening: Screening::default(),
                ..record.clone()
            },
            None,
        )
        .await
        .expect("decide");
    assert_eq!(
        store.archive_record(tenant, kept.id).await.expect("read"),
        Some(record.clone())
    );
    assert_eq!(
        store
            .archive_record(tenant, undecided.id)
            .await
            .expect("read"),
        None
    );
    assert_eq!(
        store
            .archive_record(other.tenant.id, kept.id)
            .await
            .expect("read"),
        None
    );

    // The extract's pages: only records, with messages in and out and their attachments.
    let year = (t("2026-01-01T00:00:00Z"), t("2027-01-01T00:00:00Z"));
    let cases = store
        .archive_cases(tenant, year.0, year.1, InquiryId(0), 100)
        .await
        .expect("cases");
    assert_eq!(cases.len(), 1);
    assert_eq!(
        store
            .count_archive_cases(tenant, year.0, year.1)
            .await
            .expect("count"),
        1
    );
    let case = &cases[0];
    assert_eq!((case.inquiry.id, &case.record), (kept.id, &record));
    let kinds: Vec<_> = case.messages.iter().map(|m| m.kind).collect();
    assert_eq!(
        kinds,
        vec![MessageKind::Inbound, MessageKind::Outbound],
        "no notes"
    );
    assert_eq!(case.messages[0].attachments.len(), 1);
    assert_eq!(case.messages[0].attachments[0].filename, "kart.pdf");
    assert!(
        store
            .archive_cases(tenant, year.0, year.1, kept.id, 100)
            .await
            .expect("next page")
            .is_empty()
    );
    assert!(
        store
            .archive_cases(tenant, t("2026-04-01T00:00:00Z"), year.1, InquiryId(0), 100)
            .await
            .expect("later")
            .is_empty()
    );
    assert!(
        store
            .archive_cases(other.tenant.id, year.0, year.1, InquiryId(0), 100)
            .await
            .expect("other")
            .is_empty()
    );

    // The public journal: the record's lines, newest first, with the screening.
    let journal = store
        .journal_entries(tenant, year.0, year.1, 100)
        .await
        .expect("journal");
    assert_eq!(journal.len(), 2);
    assert_eq!(journal[0].kind, MessageKind::Outbound);
    assert_eq!(journal[0].author_name, "Kari Saksbehandler");
    assert_eq!(journal[1].attachments, 1);
    assert_eq!(journal[1].citizen_name, "Ola Nordmann");
    assert_eq!(journal[1].screening, record.screening);
    assert!(
        store
            .journal_entries(other.tenant.id, year.0, year.1, 100)
            .await
            .expect("other")
            .is_empty()
    );

    // Keyword lists and retention settings per municipality.
    store
        .set_moderation_keywords(tenant, &["idiot".into(), "svindel".into()], None)
        .await
        .expect("keywords");
    assert_eq!(
        store.moderation_keywords(tenant).await.expect("keywords"),
        vec!["idiot".to_string(), "svindel".to_string()]
    );
    assert!(
        store
            .moderation_keywords(other.tenant.id)
            .await
            .expect("kw")
            .is_empty()
    );
    assert_eq!(store.retention_days(tenant).await.expect("days"), 365);
    store
        .set_retention_days(tenant, 30, None)
        .await
        .expect("set");
    assert_eq!(store.retention_days(tenant).await.expect("days"), 30);
    assert_eq!(
        store.retention_days(other.tenant.id).await.expect("days"),
        365
    );

    // Retention: closed non-records only; the record survives even when asked to delete it.
    for id in [kept.id, question.id] {
        store
            .set_status(
                tenant,
                id,
                InquiryStatus::Closed,
                at + SignedDuration::from_hours(3),
                None,
            )
            .await
            .expect("close");
    }
    let later = at + SignedDuration::from_hours(24 * 40);
    let candidates = store
        .retention_candidates(tenant, later, InquiryId(0), 100)
        .await
        .expect("candidates");
    assert_eq!(
        candidates
            .iter()
            .map(|c| (c.id, c.decision))
            .collect::<Vec<_>>(),
        vec![(question.id, Some(ArchiveDecision::NotArchive))],
        "the record and the open inquiry are not candidates"
    );
    // The archivist's worklist: closed and undecided only.
    assert!(
        store
            .undecided_closed(tenant, 10)
            .await
            .expect("worklist")
            .is_empty()
    );
    store
        .set_status(
            tenant,
            undecided.id,
            InquiryStatus::Closed,
            at + SignedDuration::from_hours(3),
            None,
        )
        .await
        .expect("close");
    let worklist = store.undecided_closed(tenant, 10).await.expect("worklist");
    assert_eq!(
        worklist.iter().map(|i| i.id).collect::<Vec<_>>(),
        vec![undecided.id]
    );
    assert!(
        store
            .undecided_closed(other.tenant.id, 10)
            .await
            .expect("other")
            .is_empty()
    );
    let deleted = store
        .delete_inquiries(tenant, &[question.id, kept.id], "retention: 30 days", later)
        .await
        .expect("delete");
    assert_eq!(deleted.len(), 1);
    assert_eq!(deleted[0].reference, question.reference.to_string());
    assert_eq!((deleted[0].messages, deleted[0].attachments), (1, 0));
    assert_eq!(
        store.inquiry(tenant, question.id).await.expect("read"),
        None
    );
    assert!(
        store
            .inquiry(tenant, kept.id)
            .await
            .expect("read")
            .is_some()
    );
    assert_eq!(
        store.deletion_log(tenant, 10).await.expect("log"),
        deleted,
        "the log keeps reference, dates and counts"
    );
    assert!(
        store
            .deletion_log(other.tenant.id, 10)
            .await
            .expect("log")
            .is_empty()
    );
    assert!(
        store
            .delete_inquiries(other.tenant.id, &[undecided.id], "x", later)
            .await
            .expect("other")
            .is_empty(),
        "another municipality's inquiry is not deleted"
    );
    assert!(
        store
            .inquiry(tenant, undecided.id)
            .await
            .expect("read")
            .is_some()
    );
}

pub async fn sms_gateways_and_code_words(store: &dyn Store) {
    let f = fixture(store).await;
    let other = fixture(store).await;
    let tenant = f.tenant.id;
    assert_eq!(store.sms_gateway(tenant).await.expect("none"), None);
    let gateway = SmsGateway {
        sendsms_url: "http://127.0.0.1:13013/cgi-bin/sendsms".into(),
        username: "torg".into(),
        password: "sealed:v1:x".into(),
        sender: "2222".into(),
        inbound_key: "k".repeat(32),
    };
    store
        .set_sms_gateway(tenant, Some(gateway.clone()), None)
        .await
        .expect("set");
    assert_eq!(
        store.sms_gateway(tenant).await.expect("get"),
        Some(gateway.clone())
    );
    assert_eq!(
        store.sms_gateway(other.tenant.id).await.expect("other"),
        None
    );
    let vann = SmsKeyword {
        keyword: "vann".into(),
        unit_id: Some(f.other_unit.id),
        reply: String::new(),
    };
    store
        .set_sms_keyword(tenant, &vann, None)
        .await
        .expect("add");
    // The same word again replaces it.
    let vann = SmsKeyword {
        reply: "Takk! {referanse}".into(),
        ..vann
    };
    store
        .set_sms_keyword(tenant, &vann, None)
        .await
        .expect("replace");
    assert_eq!(store.sms_keywords(tenant).await.expect("list"), vec![vann]);
    // Another municipality's unit cannot be named.
    assert!(
        store
            .set_sms_keyword(
                tenant,
                &SmsKeyword {
                    keyword: "vei".into(),
                    unit_id: Some(other.other_unit.id),
                    reply: String::new(),
                },
                None,
            )
            .await
            .is_err()
    );
    assert!(
        !store
            .delete_sms_keyword(other.tenant.id, "vann", None)
            .await
            .expect("other's")
    );
    assert!(
        store
            .delete_sms_keyword(tenant, "vann", None)
            .await
            .expect("delete")
    );
    assert!(
        !store
            .delete_sms_keyword(tenant, "vann", None)
            .await
            .expect("gone")
    );
    assert!(store.sms_keywords(tenant).await.expect("list").is_empty());
    store
        .set_sms_gateway(tenant, None, None)
        .await
        .expect("remove");
    assert_eq!(store.sms_gateway(tenant).await.expect("removed"), None);
}

pub async fn threads_of_a_page_in_one_read(store: &dyn Store) {
    let f = fixture(store).await;
    let other = fixture(store).await;
    let tenant = f.tenant.id;
    let now = t("2026-03-02T09:00:00Z");
    let mut with_file = new_inquiry(&f, "Klage med vedlegg", now);
    with_file.attachments = vec![pdf("klage.pdf")];
    let a = store.create_inquiry(with_file).await.expect("a").inquiry;
    let b = store
        .create_inquiry(new_inquiry(&f, "Hei", now))
        .await
        .expect("b")
        .inquiry;
    let theirs = store
        .create_inquiry(new_inquiry(&other, "Ikke din", now))
        .await
        .expect("c")
        .inquiry;
    let msg = |kind, body: &str| message(kind, body, now + SignedDuration::from_mins(5));
    store
        .add_message(tenant, b.id, msg(MessageKind::Note, "intern"), None)
        .await
        .expect("note");
    store
        .add_message(tenant, b.id, msg(MessageKind::Outbound, "Svar"), None)
        .await
        .expect("reply");
    let threads = store
        .threads(tenant, &[a.id, b.id, theirs.id, InquiryId(-1)])
        .await
        .expect("threads");
    assert_eq!(
        threads.len(),
        2,
        "another municipality's inquiry is left out"
    );
    let bodies = |id: InquiryId| -> Vec<(MessageKind, String, usize)> {
        threads[&id]
            .iter()
            .map(|m| (m.kind, m.body.clone(), m.attachments.len()))
            .collect()
    };
    assert_eq!(
        bodies(a.id),
        vec![(MessageKind::Inbound, "Klage med vedlegg".into(), 1)]
    );
    assert_eq!(
        bodies(b.id),
        vec![
            (MessageKind::Inbound, "Hei".into(), 0),
            (MessageKind::Outbound, "Svar".into(), 0)
        ],
        "no internal notes"
    );
    assert_eq!(
        threads[&a.id],
        store.messages(tenant, a.id, false).await.expect("one"),
        "the same as one inquiry's read"
    );
    assert!(store.threads(tenant, &[]).await.expect("none").is_empty());
}

/// Where the store serves several nodes, what one sends every listener hears, in order; a
/// payload over the limit is refused, not cut.
pub async fn nodes_hear_each_other(store: &dyn Store) {
    let Some(bus) = store.node_bus() else {
        assert_eq!(
            store.backend(),
            "sqlite",
            "only SQLite serves a single node"
        );
        return;
    };
    let topic = fresh_slug("torg_test").replace('-', "_");
    let mut first = bus.listen(&topic).await.expect("listen");
    let mut second = bus.listen(&topic).await.expect("listen");
    for payload in ["hei", "{\"å\": \"æøå\"}"] {
        bus.send(&topic, payload).await.expect("send");
    }
    for rx in [&mut first, &mut second] {
        for want in ["hei", "{\"å\": \"æøå\"}"] {
            let got = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
                .await
                .expect("heard within 5 s")
                .expect("open");
            assert_eq!(got, want);
        }
    }
    assert!(
        bus.send(&topic, &"x".repeat(NODE_BUS_MAX_PAYLOAD + 1))
            .await
            .is_err()
    );
}

/// Journal sequence numbers: the next ones of the year in the order asked, the same again on
/// a later extract, per municipality and year.
pub async fn journal_numbers_are_given_once_and_kept(store: &dyn Store) {
    let f = fixture(store).await;
    let other = fixture(store).await;
    let tenant = f.tenant.id;
    let first = store
        .journal_numbers(tenant, &[(11, 2026), (12, 2026), (13, 2025)])
        .await
        .expect("first");
    assert_eq!(
        (first[&11], first[&12], first[&13]),
        (1, 2, 1),
        "per year, in order"
    );
    // A later extract overlapping the first: old numbers kept, new ones after the highest.
    let again = store
        .journal_numbers(tenant, &[(14, 2026), (12, 2026), (11, 2026)])
        .await
        .expect("again");
    assert_eq!((again[&11], again[&12], again[&14]), (1, 2, 3));
    let theirs = store
        .journal_numbers(other.tenant.id, &[(99, 2026)])
        .await
        .expect("other");
    assert_eq!(theirs[&99], 1, "each municipality numbers its own");
    assert!(
        store
            .journal_numbers(tenant, &[])
            .await
            .expect("none")
            .is_empty()
    );
}

pub async fn the_annual_wheel_is_kept_per_municipality(store: &dyn Store) {
    use torg_domain::wheel::{Mark, Recurrence};
    let f = fixture(store).await;
    let other = fixture(store).await;
    let tenant = f.tenant.id;
    let item = |title: &str, unit: Option<UnitId>, date: &str, repeat: &str| NewWheelItem {
        title: title.into(),
        description: String::new(),
        unit_id: unit,
        responsible_user_id: None,
        target_group: "innbyggere".into(),
        area: String::new(),
        mark: Mark::Proactive,
        recurrence: Recurrence::parse(date, repeat).expect("recurrence"),
    };
    let ids = store
        .create_wheel_items(
            tenant,
            &[
                item("Eiendomsskatt", None, "2027-03-01", "weekday"),
                item(
                    "Barnehageopptak",
                    Some(f.other_unit.id),
                    "2027-02-01",
                    "yearly",
                ),
                item("Brøyting", Some(f.service_desk.id), "2027-11-15", "none"),
            ],
            None,
        )
        .await
        .expect("items");
    assert_eq!(ids.len(), 3);
    // By first date; a unit sees its own and the municipality's.
    let all = store.wheel_items(tenant, None).await.expect("all");
    let titles: Vec<&str> = all.iter().map(|i| i.item.title.as_str()).collect();
    assert_eq!(titles, vec!["Barnehageopptak", "Eiendomsskatt", "Brøyting"]);
    assert_eq!(all[1].item.recurrence.repeat(), "weekday");
    let unit = store
        .wheel_items(tenant, Some(f.other_unit.id))
        .await
        .expect("unit");
    assert_eq!(unit.len(), 2);
    // Another municipality sees none of it, and cannot put a unit of ours on its wheel.
    assert!(
        store
            .wheel_items(other.tenant.id, None)
            .await
            .expect("other")
            .is_empty()
    );
    assert!(matches!(
        store
            .create_wheel_items(
                other.tenant.id,
                &[item("Lånt", Some(f.other_unit.id), "2027-01-01", "none")],
                None
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        !store
            .delete_wheel_item(other.tenant.id, ids[0], None)
            .await
            .expect("rm")
    );
    assert!(
        store
            .delete_wheel_item(tenant, ids[0], None)
            .await
            .expect("rm")
    );
    assert_eq!(store.wheel_items(tenant, None).await.expect("all").len(), 2);
    // A feed link replaces the one before.
    store
        .set_wheel_feed(tenant, None, "hash-1", None)
        .await
        .expect("feed");
    store
        .set_wheel_feed(tenant, Some(f.other_unit.id), "hash-unit", None)
        .await
        .expect("feed");
    store
        .set_wheel_feed(tenant, None, "hash-2", None)
        .await
        .expect("feed");
    assert_eq!(store.wheel_feed("hash-1").await.expect("f"), None);
    assert_eq!(
        store.wheel_feed("hash-2").await.expect("f"),
        Some((tenant, None))
    );
    assert_eq!(
        store.wheel_feed("hash-unit").await.expect("f"),
        Some((tenant, Some(f.other_unit.id)))
    );
}

pub async fn publications_move_through_their_states_once(store: &dyn Store) {
    use torg_domain::publish::PubState;
    let f = fixture(store).await;
    let other = fixture(store).await;
    let tenant = f.tenant.id;
    let author = store
        .create_user(
            tenant,
            NewUser {
                email: None,
                username: "skribent".into(),
                full_name: "Siri Skribent".into(),
                password_hash: "x".into(),
                password_set_by: None,
                role: Role::Communication,
                unit_id: None,
            },
            None,
        )
        .await
        .expect("author");
    let at: Timestamp = "2027-03-01T08:00:00Z".parse().expect("ts");
    let new = NewPublication {
        kind: Default::default(),
        image_url: None,
        title: "Kokevarsel".into(),
        body: "Kok vannet før du drikker det.".into(),
        language: "nb".into(),
        author_id: author.id,
        publish_at: at,
        wheel_item_id: None,
        variants: vec![(Channel::Instagram, "Kok vannet! #kokevarsel".into())],
    };
    let p = store
        .create_publication(tenant, &new, None)
        .await
        .expect("draft");
    assert_eq!(p.state, PubState::Draft);
    assert_eq!(
        store.publication_variants(tenant, p.id).await.expect("v"),
        vec![(Channel::Instagram, "Kok vannet! #kokevarsel".to_string())]
    );
    assert!(
        store
            .publication_variants(other.tenant.id, p.id)
            .await
            .expect("v")
            .is_empty(),
        "another municipality reads none"
    );
    // Another municipality's author is refused; another municipality sees nothing.
    let foreign = NewPublication {
        author_id: author.id,
        ..new.clone()
    };
    assert!(matches!(
        store
            .create_publication(other.tenant.id, &foreign, None)
            .await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store.publication(other.tenant.id, p.id).await.expect("p"),
        None
    );
    // Planned on the wheel: an item of ours, never another municipality's.
    let item = |tenant: TenantId| async move {
        store
            .create_wheel_items(
                tenant,
                &[NewWheelItem {
                    title: "Vannverket".into(),
                    description: String::new(),
                    unit_id: None,
                    responsible_user_id: None,
                    target_group: String::new(),
                    area: String::new(),
                    mark: torg_domain::wheel::Mark::Reactive,
                    recurrence: torg_domain::wheel::Recurrence::parse("2027-03-01", "none")
                        .expect("r"),
                }],
                None,
            )
            .await
            .expect("item")[0]
    };
    let ours = item(tenant).await;
    let theirs = item(other.tenant.id).await;
    let planned = store
        .create_publication(
            tenant,
            &NewPublication {
                wheel_item_id: Some(ours),
                ..new.clone()
            },
            None,
        )
        .await
        .expect("planned");
    assert_eq!(planned.wheel_item_id, Some(ours));
    assert!(matches!(
        store
            .create_publication(
                tenant,
                &NewPublication {
                    wheel_item_id: Some(theirs),
                    ..new.clone()
                },
                None
            )
            .await,
        Err(StoreError::NotFound(_))
    ));
    // Submitted once; a second move from draft conflicts.
    store
        .set_publication_state(
            tenant,
            p.id,
            PubState::Draft,
            PubState::Submitted,
            None,
            None,
            &[],
            &[],
        )
        .await
        .expect("submit");
    assert!(matches!(
        store
            .set_publication_state(
                tenant,
                p.id,
                PubState::Draft,
                PubState::Submitted,
                None,
                None,
                &[],
                &[]
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    let approved = store
        .set_publication_state(
            tenant,
            p.id,
            PubState::Submitted,
            PubState::Approved,
            Some((author.id, "hash".into())),
            None,
            &[],
            &[],
        )
        .await
        .expect("approve");
    assert_eq!(approved.approved_by, Some(author.id));
    assert_eq!(approved.approved_hash.as_deref(), Some("hash"));
    // Out at its time, not before.
    let before = at - SignedDuration::from_mins(1);
    assert!(
        store
            .approved_until(tenant, before, None, 10)
            .await
            .expect("news")
            .is_empty()
    );
    assert_eq!(
        store
            .approved_until(tenant, at, None, 10)
            .await
            .expect("news")
            .len(),
        1
    );
    // A calendar's month: the messages due in it, and none of another municipality's.
    let in_month = |tenant: TenantId, from: &str, to: &str| {
        let (from, to) = (t(from), t(to));
        async move {
            store
                .publications_between(tenant, from, to)
                .await
                .expect("month")
                .len()
        }
    };
    assert_eq!(
        in_month(tenant, "2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z").await,
        2
    );
    assert_eq!(
        in_month(tenant, "2027-04-01T00:00:00Z", "2027-05-01T00:00:00Z").await,
        0
    );
    assert_eq!(
        in_month(
            other.tenant.id,
            "2027-03-01T00:00:00Z",
            "2027-04-01T00:00:00Z"
        )
        .await,
        0
    );
    // A press release is told apart from news.
    let release = store
        .create_publication(
            tenant,
            &NewPublication {
                kind: torg_domain::publish::Kind::Press,
                ..new.clone()
            },
            None,
        )
        .await
        .expect("press release");
    assert_eq!(
        store
            .publication(tenant, release.id)
            .await
            .expect("p")
            .map(|p| p.kind),
        Some(torg_domain::publish::Kind::Press)
    );
    // A change of the text: back to draft, the approval gone.
    let edited = store
        .edit_publication(
            tenant,
            p.id,
            &PublicationEdit {
                title: "Kokevarsel",
                body: "Kok vannet i ett minutt.",
                image_url: Some("https://nordby.example/kokevarsel.jpg"),
                publish_at: at,
                variants: &[(Channel::Mastodon, "Kok vannet.".into())],
            },
            None,
        )
        .await
        .expect("edit");
    assert_eq!((edited.state, edited.approved_by), (PubState::Draft, None));
    assert_eq!(
        edited.image_url.as_deref(),
        Some("https://nordby.example/kokevarsel.jpg")
    );
    assert_eq!(
        store.publication_variants(tenant, p.id).await.expect("v"),
        vec![(Channel::Mastodon, "Kok vannet.".to_string())],
        "the own texts are replaced with the change"
    );
    assert!(
        store
            .approved_until(tenant, at, None, 10)
            .await
            .expect("news")
            .is_empty()
    );
    assert_eq!(store.publications(tenant, 10).await.expect("all").len(), 3);
    // Posts on other channels go with the approval, due at the message's time; a withdrawal
    // cancels what has not gone out.
    let posted = store
        .create_publication(tenant, &new, None)
        .await
        .expect("draft");
    store
        .set_publication_state(
            tenant,
            posted.id,
            PubState::Draft,
            PubState::Submitted,
            None,
            None,
            &[],
            &[],
        )
        .await
        .expect("submit");
    let notice = Notice {
        out: NewOutgoing {
            media: None,
            channel: Channel::Mastodon,
            recipient: format!("109|publish:{}", posted.id),
            subject: "Kokevarsel".into(),
            header_id: format!("publication-{}-abc-1-109", posted.id),
            in_reply_to: None,
            references: vec![],
        },
        body: "Kokevarsel\n\nKok vannet.".into(),
    };
    let picture = Notice {
        out: NewOutgoing {
            channel: Channel::Instagram,
            recipient: format!("1784|publish:{}", posted.id),
            header_id: format!("publication-{}-abc-1-1784", posted.id),
            media: Some("https://nordby.example/kokevarsel.jpg".into()),
            ..notice.out.clone()
        },
        body: notice.body.clone(),
    };
    store
        .set_publication_state(
            tenant,
            posted.id,
            PubState::Submitted,
            PubState::Approved,
            Some((author.id, "hash".into())),
            None,
            &[notice.clone(), picture],
            &[],
        )
        .await
        .expect("approve");
    let posts = store
        .publication_posts(tenant, posted.id)
        .await
        .expect("posts");
    assert_eq!(posts.len(), 2);
    assert!(matches!(posts[0].state, DeliveryState::Pending { .. }));
    assert_eq!(posts[0].address, None);
    let early = store
        .claim_outbox(
            Channel::Mastodon,
            at - SignedDuration::from_mins(1),
            SignedDuration::from_mins(2),
            10,
        )
        .await
        .expect("claim");
    assert!(
        early.iter().all(|i| i.header_id != notice.out.header_id),
        "not before its time"
    );
    // An idle sender learns when to wake: the post's time, and nothing after it.
    assert_eq!(
        store
            .outbox_next_due(Channel::Mastodon, at - SignedDuration::from_mins(1))
            .await
            .expect("next")
            .map(|t| t.as_millisecond()),
        Some(at.as_millisecond())
    );
    assert_eq!(
        store
            .outbox_next_due(Channel::Mastodon, at)
            .await
            .expect("next"),
        None
    );
    // At its time the picture goes with the entry; the network's address is kept when sent.
    let due = store
        .claim_outbox(Channel::Instagram, at, SignedDuration::from_mins(2), 10)
        .await
        .expect("claim");
    let instagram = due
        .iter()
        .find(|i| i.recipient == format!("1784|publish:{}", posted.id))
        .expect("the Instagram post is due");
    assert_eq!(
        instagram.media.as_deref(),
        Some("https://nordby.example/kokevarsel.jpg")
    );
    store
        .outbox_posted(instagram.id, "https://instagram.example/p/abc", at)
        .await
        .expect("posted");
    // Its reach is read back: the post is listed by its account and address, and what the
    // network said is kept (the last reading), never on another municipality's post.
    let listed = store
        .published_posts(at - SignedDuration::from_mins(1), 100)
        .await
        .expect("published posts");
    let ours = listed
        .iter()
        .find(|p| p.outbox_id == instagram.id)
        .expect("the sent post is listed");
    assert_eq!(
        (
            ours.tenant_id,
            ours.channel,
            ours.account.as_str(),
            ours.address.as_str()
        ),
        (
            tenant,
            Channel::Instagram,
            "1784",
            "https://instagram.example/p/abc"
        )
    );
    assert!(
        store
            .published_posts(at + SignedDuration::from_mins(1), 100)
            .await
            .expect("later")
            .iter()
            .all(|p| p.outbox_id != instagram.id),
        "only those sent since"
    );
    for (reactions, when) in [(3, at), (8, at + SignedDuration::from_mins(15))] {
        let reading = PostReading {
            outbox_id: instagram.id,
            reactions,
            comments: 2,
            shares: 0,
        };
        store
            .record_post_reach(tenant, &[reading], when)
            .await
            .expect("reach");
    }
    let stranger = PostReading {
        outbox_id: instagram.id,
        reactions: 1000,
        comments: 1000,
        shares: 1000,
    };
    store
        .record_post_reach(other.tenant.id, &[stranger], at)
        .await
        .expect("ignored");
    let reach = store
        .reach(
            tenant,
            at - SignedDuration::from_hours(1),
            at + SignedDuration::from_hours(1),
            10,
        )
        .await
        .expect("reach");
    let r = reach
        .iter()
        .find(|r| r.publication_id == posted.id)
        .expect("the message's reach");
    assert_eq!((r.reactions, r.comments, r.shares), (8, 2, 0));
    assert!(
        store
            .publication_posts(other.tenant.id, posted.id)
            .await
            .expect("p")
            .is_empty()
    );
    store
        .set_publication_state(
            tenant,
            posted.id,
            PubState::Approved,
            PubState::Withdrawn,
            None,
            None,
            &[],
            &[],
        )
        .await
        .expect("withdraw");
    let posts = store
        .publication_posts(tenant, posted.id)
        .await
        .expect("posts");
    assert!(
        matches!(&posts[0].state, DeliveryState::Failed { error, .. } if error.contains("withdrawn"))
    );
    assert!(
        matches!(posts[1].state, DeliveryState::Sent { .. }),
        "what went out stays as it went"
    );
    assert_eq!(
        posts[1].address.as_deref(),
        Some("https://instagram.example/p/abc")
    );
    // A version in another language: kept, replaced, removed; a change of the message, so it
    // is a draft again; never on another municipality's message.
    let finnish = PublicationVersion {
        language: "fi".into(),
        title: "Keitä vesi".into(),
        body: "Keitä vesi ennen juomista.".into(),
    };
    assert!(matches!(
        store
            .set_publication_version(other.tenant.id, p.id, &finnish, false, None)
            .await,
        Err(StoreError::NotFound(_))
    ));
    let changed = store
        .set_publication_version(tenant, p.id, &finnish, false, None)
        .await
        .expect("version");
    assert_eq!(changed.state, PubState::Draft);
    let again = PublicationVersion {
        body: "Keitä vesi minuutin ajan.".into(),
        ..finnish.clone()
    };
    store
        .set_publication_version(tenant, p.id, &again, false, None)
        .await
        .expect("version");
    assert_eq!(
        store.publication_versions(tenant, p.id).await.expect("v"),
        vec![again.clone()]
    );
    assert!(
        store
            .publication_versions(other.tenant.id, p.id)
            .await
            .expect("v")
            .is_empty()
    );
    store
        .set_publication_version(tenant, p.id, &again, true, None)
        .await
        .expect("removed");
    assert!(
        store
            .publication_versions(tenant, p.id)
            .await
            .expect("v")
            .is_empty()
    );
    // A municipality's own words to avoid: kept per municipality, changed, removed once.
    assert!(
        store
            .set_jargon(tenant, "bydelsutvalget", Some("bydelen"), None)
            .await
            .expect("j")
    );
    assert!(
        store
            .set_jargon(tenant, "bydelsutvalget", Some("bydelsrådet"), None)
            .await
            .expect("j")
    );
    assert_eq!(
        store.jargon(tenant).await.expect("j"),
        vec![("bydelsutvalget".to_string(), "bydelsrådet".to_string())]
    );
    assert!(store.jargon(other.tenant.id).await.expect("j").is_empty());
    assert!(
        store
            .set_jargon(tenant, "bydelsutvalget", None, None)
            .await
            .expect("rm")
    );
    assert!(
        !store
            .set_jargon(tenant, "bydelsutvalget", None, None)
            .await
            .expect("rm")
    );
    // Settings: four eyes and a 30-minute lead by default, then changed.
    let s = store.publishing_settings(tenant).await.expect("settings");
    assert_eq!(s, PublishingSettings::default());
    let changed = PublishingSettings {
        four_eyes: false,
        staff_lead_minutes: 60,
    };
    store
        .set_publishing_settings(tenant, changed, None)
        .await
        .expect("set");
    assert_eq!(store.publishing_settings(tenant).await.expect("s"), changed);
    assert_eq!(
        store.publishing_settings(other.tenant.id).await.expect("s"),
        PublishingSettings::default()
    );
}

pub async fn the_media_log_is_kept_per_municipality(store: &dyn Store) {
    use torg_domain::press::MediaKind;
    let f = fixture(store).await;
    let other = fixture(store).await;
    let tenant = f.tenant.id;
    let person = |name: &str| NewUser {
        email: None,
        username: name.into(),
        full_name: name.into(),
        password_hash: "x".into(),
        password_set_by: None,
        role: Role::CaseHandler,
        unit_id: None,
    };
    let clerk = store
        .create_user(tenant, person("medie-ola"), None)
        .await
        .expect("user");
    let theirs = store
        .create_user(other.tenant.id, person("medie-kari"), None)
        .await
        .expect("user");
    let now = Timestamp::now();
    let inquiry = store
        .create_inquiry(new_inquiry(&f, "Vann i kjelleren", now))
        .await
        .expect("inquiry")
        .inquiry;
    let contact = MediaEntry {
        id: 0,
        kind: MediaKind::Contact,
        at: now - SignedDuration::from_hours(2),
        outlet: "Lokalavisa".into(),
        person: "Kari Journalist".into(),
        topic: "Brøyting".into(),
        notes: "Ringte om brøyting i Fjordgata.".into(),
        inquiry_id: None,
        by_user: clerk.id,
    };
    let logged = store
        .add_media_entry(tenant, &contact, None)
        .await
        .expect("contact");
    assert!(logged.id > 0);
    let story = MediaEntry {
        kind: MediaKind::Story,
        at: now,
        outlet: String::new(),
        person: String::new(),
        topic: "Vannlekkasje".into(),
        notes: "Flere naboer har skrevet.".into(),
        inquiry_id: Some(inquiry.id),
        ..contact.clone()
    };
    store
        .add_media_entry(tenant, &story, None)
        .await
        .expect("story");
    // Another municipality's person or inquiry is refused; it sees nothing of ours.
    for wrong in [
        contact.clone(),
        MediaEntry {
            by_user: theirs.id,
            inquiry_id: Some(inquiry.id),
            ..contact.clone()
        },
    ] {
        assert!(matches!(
            store.add_media_entry(other.tenant.id, &wrong, None).await,
            Err(StoreError::NotFound(_))
        ));
    }
    let log = store
        .media_log(tenant, now - SignedDuration::from_hours(24), 10)
        .await
        .expect("log");
    assert_eq!(
        log.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![MediaKind::Story, MediaKind::Contact],
        "newest first"
    );
    assert_eq!(log[0].inquiry_id, Some(inquiry.id));
    assert_eq!(
        store
            .media_log(tenant, now - SignedDuration::from_hours(1), 10)
            .await
            .expect("log")
            .len(),
        1,
        "from a time on"
    );
    assert!(
        store
            .media_log(other.tenant.id, now - SignedDuration::from_hours(24), 10)
            .await
            .expect("log")
            .is_empty()
    );
}

pub async fn subscribers_get_what_they_chose_and_crises_are_logged(store: &dyn Store) {
    use torg_domain::crisis::MsgType;
    use torg_domain::subscription::{Medium, stop_hash};
    let f = fixture(store).await;
    let other = fixture(store).await;
    let tenant = f.tenant.id;
    let area = |name: &str| Area {
        id: 0,
        name: name.into(),
        polygon: vec![(10.0, 59.0), (10.1, 59.0), (10.1, 59.1), (10.0, 59.0)],
        postcodes: vec!["1400".into()],
    };
    let sentrum = store
        .put_area(tenant, &area("Sentrum"), None)
        .await
        .expect("area");
    let nord = store
        .put_area(tenant, &area("Nord"), None)
        .await
        .expect("area");
    let again = store
        .put_area(tenant, &area("Sentrum"), None)
        .await
        .expect("same name");
    assert_eq!(again.id, sentrum.id, "an area is replaced by its name");
    assert_eq!(store.areas(tenant).await.expect("areas").len(), 2);
    assert_eq!(
        store.areas(tenant).await.expect("areas")[1].polygon.len(),
        4
    );
    assert!(
        store
            .areas(other.tenant.id)
            .await
            .expect("areas")
            .is_empty()
    );
    store
        .put_topic(
            tenant,
            &Topic {
                key: "vann".into(),
                name: "Vann".into(),
            },
            None,
        )
        .await
        .expect("topic");
    assert_eq!(store.topics(tenant).await.expect("topics").len(), 1);
    let sub = |medium, address: &str, topics: Vec<String>, areas: Vec<i64>| NewSubscriber {
        medium,
        address: address.into(),
        token: fresh_slug("tok"),
        topics,
        areas,
        language: "nb".into(),
        consent: "portal".into(),
        confirmed: false,
        test_recipient: false,
    };
    // Pending until confirmed; the confirmation is queued with it.
    let kari = store
        .add_subscriber(
            tenant,
            &sub(
                Medium::Email,
                "kari@example.no",
                vec!["vann".into()],
                vec![sentrum.id],
            ),
            Some(&Notice {
                out: NewOutgoing {
                    channel: Channel::Email,
                    recipient: "kari@example.no".into(),
                    subject: "Bekreft".into(),
                    header_id: fresh_slug("<confirm"),
                    in_reply_to: None,
                    references: vec![],
                    media: None,
                },
                body: "Bekreft".into(),
            }),
            None,
        )
        .await
        .expect("subscribe");
    assert!(kari.confirmed_at.is_none());
    assert!(matches!(
        store
            .add_subscriber(
                tenant,
                &sub(Medium::Email, "kari@example.no", vec![], vec![]),
                None,
                None
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    let found = store
        .subscriber_by_token(&kari.token)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(found.id, kari.id);
    assert_eq!(found.topics, vec!["vann".to_string()]);
    // Imported: confirmed where the file says so; an address that asked to stop is skipped.
    let ola = sub(Medium::Sms, "+4791234567", vec![], vec![nord.id]);
    let per = NewSubscriber {
        confirmed: true,
        test_recipient: true,
        ..sub(Medium::Sms, "+4799999999", vec![], vec![])
    };
    let stopped = sub(Medium::Email, "stopp@example.no", vec![], vec![]);
    let mut all = NewSubscriber {
        confirmed: true,
        ..sub(Medium::Email, "alle@example.no", vec![], vec![])
    };
    let removed = store
        .add_subscriber(
            tenant,
            &NewSubscriber {
                confirmed: true,
                ..stopped.clone()
            },
            None,
            None,
        )
        .await
        .expect("stopper");
    store
        .remove_subscriber(
            tenant,
            removed.id,
            &stop_hash(Medium::Email, "stopp@example.no"),
            None,
        )
        .await
        .expect("unsubscribe");
    assert!(
        store
            .stopped(tenant, &stop_hash(Medium::Email, "stopp@example.no"))
            .await
            .expect("stopped")
    );
    assert!(
        store
            .subscriber_by_token(&removed.token)
            .await
            .expect("read")
            .is_none(),
        "nothing kept but the stop"
    );
    all.topics = vec![];
    let news = [
        NewSubscriber {
            confirmed: true,
            ..ola
        },
        per,
        all,
        NewSubscriber {
            confirmed: true,
            ..stopped
        },
    ];
    let hashes: Vec<String> = news
        .iter()
        .map(|n| stop_hash(n.medium, &n.address))
        .collect();
    let (added, skipped) = store
        .import_subscribers(tenant, &news, &hashes, None)
        .await
        .expect("import");
    assert_eq!((added, skipped), (3, 1));
    let (added, skipped) = store
        .import_subscribers(tenant, &news[..1], &hashes[..1], None)
        .await
        .expect("again");
    assert_eq!((added, skipped), (0, 1), "an address has one subscription");
    let counts = store.subscriber_counts(tenant).await.expect("counts");
    assert_eq!(
        (
            counts.email,
            counts.sms,
            counts.pending,
            counts.test_recipients
        ),
        (1, 2, 1, 1)
    );
    // Broadcasts reach the confirmed subscribers who chose the topic and area.
    let now = Timestamp::now();
    let broadcast = |medium, topic, areas: &'static [i64], test_only| Broadcast {
        medium,
        subject: "Vannet",
        body: "Kok vannet",
        topic,
        areas,
        test_only,
        header_prefix: "b1-",
        manage_base: "https://x/k/t/subscription/",
        due_at: now,
    };
    let kari = store
        .change_subscriber(
            tenant,
            kari.id,
            &SubscriberChange {
                confirm: true,
                ..Default::default()
            },
            None,
            None,
        )
        .await
        .expect("confirm");
    assert!(kari.confirmed_at.is_some());
    let nord_areas: &'static [i64] = Box::leak(vec![nord.id].into_boxed_slice());
    let counts = store
        .broadcast(
            tenant,
            &[
                broadcast(Medium::Email, Some("vann"), &[], false),
                Broadcast {
                    header_prefix: "b2-",
                    ..broadcast(Medium::Sms, None, nord_areas, false)
                },
                Broadcast {
                    header_prefix: "b3-",
                    ..broadcast(Medium::Sms, None, &[], true)
                },
                Broadcast {
                    header_prefix: "b4-",
                    ..broadcast(Medium::Email, Some("skole"), &[], false)
                },
            ],
            None,
        )
        .await
        .expect("broadcast");
    assert_eq!(
        counts,
        vec![2, 2, 1, 1],
        "topic, area, drill and other-topic audiences"
    );
    let claimed = store
        .claim_outbox(Channel::Email, now, SignedDuration::from_mins(2), 100)
        .await
        .expect("claim");
    let ours: Vec<_> = claimed
        .iter()
        .filter(|i| i.tenant_id == tenant && i.header_id.starts_with('b'))
        .collect();
    assert_eq!(ours.len(), 3);
    assert!(
        ours.iter().all(|i| i.body == "Kok vannet"),
        "the text is shared"
    );
    let to_kari = ours
        .iter()
        .find(|i| i.recipient == "kari@example.no")
        .expect("kari");
    assert_eq!(
        to_kari.unsubscribe.as_deref(),
        Some(format!("https://x/k/t/subscription/{}/unsubscribe", kari.token).as_str())
    );
    // A crisis: its alert, an update, its end; the log stamps each.
    let template = torg_domain::crisis::default_templates().remove(0);
    store
        .put_crisis_template(tenant, &template, None)
        .await
        .expect("template");
    assert_eq!(
        store
            .crisis_templates(tenant)
            .await
            .expect("templates")
            .len(),
        1
    );
    assert!(
        store
            .crisis_templates(other.tenant.id)
            .await
            .expect("templates")
            .is_empty()
    );
    let message = |msg_type, broadcasts| NewCrisisMessage {
        msg_type,
        headline: "Kok vannet",
        text: "E. coli",
        instruction: "Kok i ett minutt",
        at: Timestamp::now(),
        broadcasts,
        notices: vec![],
        log: "alert".into(),
        actor: "cli".into(),
    };
    let sentrum_areas: &'static [i64] = Box::leak(vec![sentrum.id].into_boxed_slice());
    let (crisis, alert) = store
        .start_crisis(
            tenant,
            &NewCrisis {
                template: "water".into(),
                drill: false,
                areas: vec![sentrum.id],
                all_subscribers: false,
                started_by: "cli".into(),
            },
            &message(
                MsgType::Alert,
                vec![Broadcast {
                    header_prefix: "crisis-x-",
                    topic: None,
                    ..broadcast(Medium::Email, None, sentrum_areas, false)
                }],
            ),
            None,
        )
        .await
        .expect("start");
    assert_eq!(alert.recipients, 0, "written as an intent");
    let expanded = store.expand_broadcasts(10).await.expect("expand");
    assert_eq!(expanded.len(), 1);
    assert_eq!(
        (expanded[0].0, expanded[0].2),
        (tenant, 2),
        "Kari in Sentrum and the one who takes everything"
    );
    assert!(
        store.expand_broadcasts(10).await.expect("again").is_empty(),
        "expanded once"
    );
    assert_eq!(
        store
            .crisis_messages(tenant, crisis.id)
            .await
            .expect("messages")[0]
            .recipients,
        2
    );
    assert_eq!(store.open_crises(tenant).await.expect("open").len(), 1);
    assert!(
        store
            .open_crises(other.tenant.id)
            .await
            .expect("open")
            .is_empty()
    );
    assert!(
        store
            .crisis(other.tenant.id, crisis.id)
            .await
            .expect("read")
            .is_none()
    );
    store
        .add_crisis_message(tenant, crisis.id, &message(MsgType::Update, vec![]), None)
        .await
        .expect("update");
    store
        .add_crisis_log(
            tenant,
            crisis.id,
            "decision",
            "Tankbil til skolen",
            "user:1",
            None,
        )
        .await
        .expect("note");
    let inquiry = store
        .create_inquiry(new_inquiry(&f, "Kan vi drikke vannet?", now))
        .await
        .expect("inquiry")
        .inquiry;
    let theirs = store
        .create_inquiry(new_inquiry(&other, "Vann", now))
        .await
        .expect("inquiry")
        .inquiry;
    assert!(
        store
            .link_inquiries(tenant, crisis.id, &[theirs.id], "cli", None)
            .await
            .is_err()
    );
    assert_eq!(
        store
            .link_inquiries(tenant, crisis.id, &[inquiry.id, inquiry.id], "cli", None)
            .await
            .expect("link"),
        1
    );
    assert_eq!(
        store
            .crisis_inquiries(tenant, crisis.id)
            .await
            .expect("linked"),
        vec![inquiry.id]
    );
    store
        .add_crisis_message(tenant, crisis.id, &message(MsgType::Cancel, vec![]), None)
        .await
        .expect("end");
    assert!(matches!(
        store
            .add_crisis_message(tenant, crisis.id, &message(MsgType::Update, vec![]), None)
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store.open_crises(tenant).await.expect("open").is_empty());
    let messages = store
        .crisis_messages(tenant, crisis.id)
        .await
        .expect("messages");
    assert_eq!(
        messages.iter().map(|m| m.msg_type).collect::<Vec<_>>(),
        vec![MsgType::Alert, MsgType::Update, MsgType::Cancel]
    );
    // Ending a subscription whose confirmation still waits: it is not sent, and the outbox
    // keeps no address.
    let forgotten = store
        .add_subscriber(
            tenant,
            &sub(Medium::Email, "glemt@example.no", vec![], vec![]),
            Some(&Notice {
                out: NewOutgoing {
                    channel: Channel::Email,
                    recipient: "glemt@example.no".into(),
                    subject: "Bekreft".into(),
                    header_id: fresh_slug("<subscription-x"),
                    in_reply_to: None,
                    references: vec![],
                    media: None,
                },
                body: "Bekreft".into(),
            }),
            None,
        )
        .await
        .expect("subscribe");
    store
        .remove_subscriber(
            tenant,
            forgotten.id,
            &stop_hash(Medium::Email, "glemt@example.no"),
            None,
        )
        .await
        .expect("end");
    let waiting = store
        .claim_outbox(
            Channel::Email,
            Timestamp::now(),
            SignedDuration::from_mins(2),
            1000,
        )
        .await
        .expect("claim");
    assert!(
        waiting.iter().all(|i| i.recipient != "glemt@example.no"),
        "{waiting:?}"
    );
    let log = store.crisis_log(tenant, crisis.id).await.expect("log");
    assert_eq!(log.len(), 6, "{log:?}");
    assert_eq!(log[0].text, "alert");
    assert!(
        log.iter()
            .any(|l| l.text == "Alert: queued for 2 subscribers by email"),
        "{log:?}"
    );
    assert!(log.iter().any(|l| l.kind == "decision"));
    // The press list: a list of its own. A press release reaches it and no one else; a
    // newsletter to every subscriber does not reach it.
    store
        .import_subscribers(
            tenant,
            &[NewSubscriber {
                confirmed: true,
                ..sub(Medium::Press, "desk@avisa.no", vec![], vec![])
            }],
            &[stop_hash(Medium::Press, "desk@avisa.no")],
            None,
        )
        .await
        .expect("press list");
    assert_eq!(
        store.subscriber_counts(tenant).await.expect("counts").press,
        1
    );
    let counts = store
        .broadcast(
            tenant,
            &[
                Broadcast {
                    header_prefix: "press-1-",
                    ..broadcast(Medium::Press, None, &[], false)
                },
                Broadcast {
                    header_prefix: "press-2-",
                    ..broadcast(Medium::Email, None, &[], false)
                },
            ],
            None,
        )
        .await
        .expect("broadcast");
    assert_eq!(counts[0], 1, "the press list only");
    let sent = store
        .claim_outbox(
            Channel::Email,
            Timestamp::now(),
            SignedDuration::from_mins(2),
            1000,
        )
        .await
        .expect("claim");
    let to_press: Vec<_> = sent
        .iter()
        .filter(|i| i.recipient == "desk@avisa.no")
        .collect();
    assert_eq!(to_press.len(), 1, "{sent:?}");
    assert!(to_press[0].header_id.starts_with("press-1-"));
    assert!(to_press[0].unsubscribe.is_some(), "one click off the list");
    assert_eq!(
        sent.iter()
            .filter(|i| i.header_id.starts_with("press-2-"))
            .count() as u64,
        counts[1]
    );
}

/// Evaluation: a period counted by channel and unit, by hour, durations and the slow emails;
/// the survey started when an inquiry closes, sent once, answered once, dropped when the
/// inquiry is reopened; the settings and the news' readings; another municipality sees none.
pub async fn a_period_is_counted_and_surveys_are_asked_once(store: &dyn Store) {
    use torg_domain::evaluation::{Costs, SurveyAnswer, Table, bucket_of};
    let f = fixture(store).await;
    let other = fixture(store).await;
    let tenant = f.tenant.id;
    let start: Timestamp = "2026-03-02T08:00:00Z".parse().expect("time");
    let hour = SignedDuration::from_hours(1);
    let mk = |channel: Channel, i: i64| {
        let mut n = new_inquiry(&f, &format!("Spørsmål {i}"), start + hour * (i as i32));
        n.channel = channel;
        if channel == Channel::Sms {
            n.contact_email = None;
            n.contact_phone = Some("+4791234567".into());
        }
        if i % 2 == 1 {
            n.unit_id = f.other_unit.id;
        }
        n
    };
    let mut ids = vec![];
    for (i, channel) in [
        Channel::Email,
        Channel::Email,
        Channel::Sms,
        Channel::Web,
        Channel::Phone,
    ]
    .into_iter()
    .enumerate()
    {
        ids.push(
            store
                .create_inquiry(mk(channel, i as i64))
                .await
                .expect("inquiry")
                .inquiry,
        );
    }
    // Another municipality's inquiry is not counted.
    store
        .create_inquiry(new_inquiry(&other, "Ikke vår", start))
        .await
        .expect("theirs");
    // The first email answered after 10 minutes, the second after 3 days (past its deadline).
    let answer = |at| message(MessageKind::Outbound, "Svar", at);
    store
        .add_message(
            tenant,
            ids[0].id,
            answer(ids[0].received_at + SignedDuration::from_mins(10)),
            None,
        )
        .await
        .expect("answer");
    store
        .add_message(
            tenant,
            ids[1].id,
            answer(ids[1].received_at + SignedDuration::from_hours(72)),
            None,
        )
        .await
        .expect("answer");
    // The call is closed at once; the first email and the SMS are closed later.
    store
        .set_status(
            tenant,
            ids[4].id,
            InquiryStatus::Closed,
            ids[4].received_at,
            None,
        )
        .await
        .expect("close call");
    let closed_at = start + SignedDuration::from_hours(24);
    for i in [0, 2, 3] {
        store
            .set_status(tenant, ids[i].id, InquiryStatus::Closed, closed_at, None)
            .await
            .expect("close");
    }
    let filter = EvaluationFilter {
        from: start - hour,
        to: start + SignedDuration::from_hours(24 * 30),
        unit: None,
        channel: None,
    };
    let now = start + SignedDuration::from_hours(24 * 10);
    let c = store
        .evaluation_counts(tenant, &filter, now)
        .await
        .expect("counts");
    let total: i64 = c.by_channel_unit.iter().map(|r| r.received).sum();
    assert_eq!(total, 5);
    let email: i64 = c
        .by_channel_unit
        .iter()
        .filter(|r| r.channel == Channel::Email)
        .map(|r| r.received)
        .sum();
    assert_eq!(email, 2);
    let in_time: i64 = c.by_channel_unit.iter().map(|r| r.answered_in_time).sum();
    // The 10-minute answer, and the call closed at once; the SMS and web closed at 24 h are
    // answered by closing within their 48 hours too.
    assert_eq!(in_time, 4);
    let late: i64 = c.by_channel_unit.iter().map(|r| r.unanswered_late).sum();
    assert_eq!(late, 0);
    let phone = c
        .by_channel_unit
        .iter()
        .find(|r| r.channel == Channel::Phone)
        .expect("phone");
    assert_eq!((phone.received, phone.closed_at_once), (1, 1));
    assert_eq!(c.by_hour.iter().map(|h| h.1).sum::<i64>(), 5);
    assert_eq!(c.by_hour[0].0, start.as_second() / 3600);
    assert!(
        c.first_answer
            .contains(&(bucket_of(SignedDuration::from_mins(10)), 1))
    );
    assert_eq!(c.first_answer.iter().map(|b| b.1).sum::<i64>(), 5);
    assert_eq!(c.to_close.iter().map(|b| b.1).sum::<i64>(), 4);
    assert_eq!((c.emails, c.emails_fast), (2, 1));
    assert_eq!(c.emails_slow.len(), 1);
    assert_eq!(
        c.overdue_now, 1,
        "the second email is open past its deadline"
    );
    // One unit, one channel.
    let unit_only = EvaluationFilter {
        unit: Some(f.other_unit.id),
        ..filter
    };
    let c2 = store
        .evaluation_counts(tenant, &unit_only, now)
        .await
        .expect("unit");
    assert_eq!(
        c2.by_channel_unit.iter().map(|r| r.received).sum::<i64>(),
        2
    );
    let vols = store
        .volumes(
            tenant,
            &EvaluationFilter {
                channel: Some(Channel::Email),
                ..filter
            },
        )
        .await
        .expect("volumes");
    assert_eq!(vols, vec![(Channel::Email, 2)]);
    let theirs = store
        .evaluation_counts(other.tenant.id, &filter, now)
        .await
        .expect("theirs");
    assert_eq!(
        theirs
            .by_channel_unit
            .iter()
            .map(|r| r.received)
            .sum::<i64>(),
        1
    );

    // Surveys: the closed email and SMS are due after the delay; the web inquiry's question
    // is on its follow page at once; the call is not asked.
    let web = store
        .survey_for_inquiry(tenant, ids[3].id)
        .await
        .expect("web survey")
        .expect("asked on the follow page");
    assert_eq!(web.score, None);
    assert_eq!(
        store
            .survey_for_inquiry(tenant, ids[4].id)
            .await
            .expect("call"),
        None
    );
    assert!(
        store
            .due_surveys(closed_at, 100)
            .await
            .expect("due")
            .iter()
            .all(|d| d.tenant_id != tenant)
    );
    let due: Vec<DueSurvey> = store
        .due_surveys(closed_at + SignedDuration::from_hours(1), 1000)
        .await
        .expect("due")
        .into_iter()
        .filter(|d| d.tenant_id == tenant)
        .collect();
    assert_eq!(due.len(), 2);
    assert!(due.iter().any(|d| d.channel == Channel::Sms));
    // The email's inquiry is reopened by the citizen: its question is dropped, not sent.
    store
        .add_message(
            tenant,
            ids[0].id,
            message(MessageKind::Inbound, "Men …", closed_at),
            None,
        )
        .await
        .expect("reopen");
    let email_due = due
        .iter()
        .find(|d| d.inquiry_id == ids[0].id)
        .expect("email due");
    let notice = Notice {
        out: NewOutgoing {
            channel: Channel::Email,
            recipient: "ola@example.no".into(),
            subject: "Hvor fornøyd?".into(),
            header_id: format!("<survey-{}@test>", email_due.id),
            in_reply_to: None,
            references: vec![],
            media: None,
        },
        body: "Svar her".into(),
    };
    assert!(
        !store
            .send_survey(tenant, email_due.id, "hash-email", Some(&notice), closed_at)
            .await
            .expect("send")
    );
    let sms_due = due
        .iter()
        .find(|d| d.channel == Channel::Sms)
        .expect("sms due");
    let token = fresh_slug("survey");
    assert!(
        store
            .send_survey(tenant, sms_due.id, &token, None, closed_at)
            .await
            .expect("send")
    );
    // Sent once: a second pass (another node) sends nothing.
    assert!(
        !store
            .send_survey(tenant, sms_due.id, "other", None, closed_at)
            .await
            .expect("again")
    );
    assert!(
        store
            .due_surveys(now, 1000)
            .await
            .expect("due")
            .iter()
            .all(|d| d.tenant_id != tenant)
    );
    let survey = store
        .survey_by_token(&token)
        .await
        .expect("by token")
        .expect("found");
    assert_eq!(
        (survey.tenant_id, survey.inquiry_id),
        (tenant, Some(ids[2].id))
    );
    // The number it was sent to finds it waiting (for a reply with a digit); another number
    // or municipality, or a question sent before `since`, does not.
    let waiting = |tenant, phone: &'static str, since: Timestamp, answered_since: Timestamp| async move {
        store
            .sms_survey_waiting(tenant, phone, since, answered_since)
            .await
            .expect("waiting")
            .map(|s| s.id)
    };
    let week = SignedDuration::from_hours(24 * 7);
    assert_eq!(
        waiting(tenant, "+4791234567", closed_at - week, now).await,
        Some(survey.id)
    );
    assert_eq!(
        waiting(tenant, "+4790000000", closed_at - week, now).await,
        None
    );
    assert_eq!(
        waiting(other.tenant.id, "+4791234567", closed_at - week, now).await,
        None
    );
    assert_eq!(
        waiting(
            tenant,
            "+4791234567",
            closed_at + SignedDuration::from_secs(1),
            now
        )
        .await,
        None
    );
    let good = SurveyAnswer {
        score: 4,
        comment: "Raskt svar".into(),
    };
    assert!(
        store
            .answer_survey(tenant, survey.id, &good, now)
            .await
            .expect("answer")
    );
    // Answered: found only by a retry within its window.
    assert_eq!(
        waiting(tenant, "+4791234567", closed_at - week, now).await,
        Some(survey.id)
    );
    assert_eq!(
        waiting(
            tenant,
            "+4791234567",
            closed_at - week,
            now + SignedDuration::from_secs(1)
        )
        .await,
        None
    );
    assert!(
        !store
            .answer_survey(tenant, survey.id, &good, now)
            .await
            .expect("twice")
    );
    assert!(
        !store
            .answer_survey(other.tenant.id, web.id, &good, now)
            .await
            .expect("theirs")
    );
    let c = store
        .evaluation_counts(tenant, &filter, now)
        .await
        .expect("counts");
    assert_eq!(c.surveys_sent, 2, "the SMS and the follow page");
    assert_eq!(c.scores, [0, 0, 0, 1, 0]);
    let comments = store
        .survey_comments(tenant, &filter, 10)
        .await
        .expect("comments");
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].comment, "Raskt svar");
    assert!(
        store
            .survey_comments(other.tenant.id, &filter, 10)
            .await
            .expect("theirs")
            .is_empty()
    );

    // Settings: defaults, then kept per municipality.
    let defaults = store.evaluation_settings(tenant).await.expect("settings");
    assert_eq!(defaults.costs, Costs::default());
    assert!(defaults.surveys && defaults.published.is_empty());
    let mut chosen = defaults.clone();
    chosen.published = vec![Table::Channels, Table::Satisfaction];
    chosen.costs.set(Channel::Phone, "55").expect("cost");
    chosen.surveys = false;
    store
        .set_evaluation_settings(tenant, &chosen, None)
        .await
        .expect("set");
    assert_eq!(
        store.evaluation_settings(tenant).await.expect("read"),
        chosen
    );
    assert_eq!(
        store
            .evaluation_settings(other.tenant.id)
            .await
            .expect("theirs"),
        EvaluationSettings::default()
    );
    // Without surveys, closing asks nothing.
    let quiet = store
        .create_inquiry(mk(Channel::Web, 9))
        .await
        .expect("inquiry")
        .inquiry;
    store
        .set_status(tenant, quiet.id, InquiryStatus::Closed, closed_at, None)
        .await
        .expect("close");
    assert_eq!(
        store
            .survey_for_inquiry(tenant, quiet.id)
            .await
            .expect("none"),
        None
    );
}

/// Listening: sources claimed by one node at a time and checked with backoff, keywords kept,
/// an item matched once per source, told of once, decided once; another municipality sees
/// none of it.
pub async fn listening_keeps_sources_matches_and_decisions(store: &dyn Store) {
    use torg_domain::listening::{Item, MatchState, SourceKind};
    let f = fixture(store).await;
    let other = fixture(store).await;
    let tenant = f.tenant.id;
    let now = Timestamp::now();
    let feed = store
        .add_listening_source(
            tenant,
            SourceKind::Feed,
            "Politiet",
            "https://politi.example/rss",
            None,
        )
        .await
        .expect("source");
    assert!(matches!(
        store
            .add_listening_source(
                tenant,
                SourceKind::Feed,
                "Igjen",
                "https://politi.example/rss",
                None
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    let theirs = store
        .add_listening_source(
            other.tenant.id,
            SourceKind::Feed,
            "Avisa",
            "https://politi.example/rss",
            None,
        )
        .await
        .expect("theirs");
    // Claimed once: a second claim in the lease gets neither.
    let lease = SignedDuration::from_mins(2);
    let claimed: Vec<i64> = store
        .claim_listening_sources(now, lease, 10_000)
        .await
        .expect("claim")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert!(claimed.contains(&feed) && claimed.contains(&theirs));
    let again: Vec<i64> = store
        .claim_listening_sources(now, lease, 10_000)
        .await
        .expect("claim")
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert!(!again.contains(&feed));
    // A good check keeps the validators; a failure counts and backs off.
    store
        .listening_source_checked(
            tenant,
            feed,
            &SourceChecked {
                error: None,
                etag: Some("\"v1\"".into()),
                last_modified: Some("Sat, 05 Dec 2026 08:00:00 GMT".into()),
                cursor: None,
                next_check_at: now + SignedDuration::from_mins(5),
            },
            now,
        )
        .await
        .expect("checked");
    let s = store.listening_sources(tenant).await.expect("sources");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].etag.as_deref(), Some("\"v1\""));
    assert_eq!(s[0].failures, 0);
    let later = now + SignedDuration::from_mins(6);
    assert!(
        store
            .claim_listening_sources(later, lease, 10_000)
            .await
            .expect("due again")
            .iter()
            .any(|s| s.id == feed)
    );
    store
        .listening_source_checked(
            tenant,
            feed,
            &SourceChecked {
                error: Some("the server answered 500".into()),
                etag: None,
                last_modified: None,
                cursor: None,
                next_check_at: later + SignedDuration::from_mins(5),
            },
            later,
        )
        .await
        .expect("failed");
    let s = &store.listening_sources(tenant).await.expect("sources")[0];
    assert_eq!(
        (s.failures, s.last_error.as_deref()),
        (1, Some("the server answered 500"))
    );
    assert_eq!(
        s.etag.as_deref(),
        Some("\"v1\""),
        "a failure keeps the validators"
    );

    // Keywords per municipality.
    store
        .set_listening_keywords(tenant, &["gasslukt".into(), "strømbrudd".into()], None)
        .await
        .expect("keywords");
    assert_eq!(
        store.listening_keywords(tenant).await.expect("kw"),
        vec!["gasslukt".to_string(), "strømbrudd".to_string()]
    );
    assert!(
        store
            .listening_keywords(other.tenant.id)
            .await
            .expect("kw")
            .is_empty()
    );

    // Matches: once per source and item.
    let item = |guid: &str, title: &str| NewListeningMatch {
        item: Item {
            guid: guid.into(),
            title: title.into(),
            link: format!("https://politi.example/{guid}"),
            summary: "Politiet melder".into(),
            published: None,
        },
        keywords: vec!["gasslukt".into()],
    };
    let added = store
        .add_listening_matches(
            tenant,
            feed,
            &[
                item("a", "Gasslukt i Storgata"),
                item("b", "Gasslukta ved skolen"),
            ],
            now,
        )
        .await
        .expect("add");
    assert_eq!(added, 2);
    let added = store
        .add_listening_matches(tenant, feed, &[item("a", "Gasslukt i Storgata")], now)
        .await
        .expect("again");
    assert_eq!(added, 0);
    assert!(
        store
            .add_listening_matches(tenant, theirs, &[item("c", "x")], now)
            .await
            .is_err(),
        "another municipality's source"
    );
    assert_eq!(store.count_new_matches(tenant).await.expect("count"), 2);
    // Told of once.
    let pending: Vec<ListeningMatch> = store
        .unnotified_matches(10_000)
        .await
        .expect("pending")
        .into_iter()
        .filter(|m| m.tenant_id == tenant)
        .collect();
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].source_name, "Politiet");
    let ids: Vec<i64> = pending.iter().map(|m| m.id).collect();
    store
        .mark_matches_notified(tenant, &ids, &[], now)
        .await
        .expect("told");
    assert!(
        store
            .unnotified_matches(10_000)
            .await
            .expect("pending")
            .iter()
            .all(|m| m.tenant_id != tenant)
    );
    // Decided once; another municipality cannot decide ours.
    assert!(
        !store
            .decide_listening_match(
                other.tenant.id,
                ids[0],
                &MatchDecision {
                    state: MatchState::Dismissed,
                    inquiry: None,
                    crisis: None,
                    crisis_log: None,
                    by: "user:1"
                },
                None
            )
            .await
            .expect("theirs")
    );
    assert!(
        store
            .decide_listening_match(
                tenant,
                ids[0],
                &MatchDecision {
                    state: MatchState::Dismissed,
                    inquiry: None,
                    crisis: None,
                    crisis_log: None,
                    by: "user:1"
                },
                None
            )
            .await
            .expect("dismiss")
    );
    assert!(
        !store
            .decide_listening_match(
                tenant,
                ids[0],
                &MatchDecision {
                    state: MatchState::Crisis,
                    inquiry: None,
                    crisis: Some(1),
                    crisis_log: None,
                    by: "user:2"
                },
                None
            )
            .await
            .expect("twice")
    );
    let fresh = store
        .listening_matches(tenant, Some(MatchState::New), 10)
        .await
        .expect("new");
    assert_eq!(fresh.len(), 1);
    let one = store
        .listening_match(tenant, ids[0])
        .await
        .expect("one")
        .expect("found");
    assert_eq!(
        (one.state, one.decided_by.as_deref()),
        (MatchState::Dismissed, Some("user:1"))
    );
    assert!(
        store
            .listening_match(other.tenant.id, ids[0])
            .await
            .expect("theirs")
            .is_none()
    );
    // The own pages' source: made once, never due for reading.
    let own = store
        .own_pages_source(tenant, "Egne sider")
        .await
        .expect("own");
    assert_eq!(
        store
            .own_pages_source(tenant, "Egne sider")
            .await
            .expect("again"),
        own
    );
    assert!(
        store
            .claim_listening_sources(now + SignedDuration::from_hours(24 * 365), lease, 10_000)
            .await
            .expect("claim")
            .iter()
            .all(|s| s.id != own)
    );
    // Removing a source removes its matches.
    assert!(
        store
            .remove_listening_source(tenant, feed, None)
            .await
            .expect("remove")
    );
    assert!(
        !store
            .remove_listening_source(tenant, feed, None)
            .await
            .expect("gone")
    );
    assert_eq!(store.count_new_matches(tenant).await.expect("count"), 0);
}

/// A job that runs once per installation is held by one node at a time: the holder renews
/// it, another node gets it only when the lease has run out or was let go.
pub async fn jobs_are_held_by_one_node_at_a_time(store: &dyn Store) {
    let now = Timestamp::now();
    let ttl = SignedDuration::from_secs(30);
    let job = "escalation";
    assert!(
        store
            .claim_job(job, "a", now, ttl)
            .await
            .expect("a takes it")
    );
    assert!(
        !store.claim_job(job, "b", now, ttl).await.expect("b waits"),
        "held by a"
    );
    let later = now + SignedDuration::from_secs(20);
    assert!(
        store
            .claim_job(job, "a", later, ttl)
            .await
            .expect("renewed")
    );
    // Past the first lease's end but within the renewal: still a's.
    assert!(
        !store
            .claim_job(job, "b", now + SignedDuration::from_secs(40), ttl)
            .await
            .expect("still a's")
    );
    let holders = store.job_holders().await.expect("holders");
    let held = holders.iter().find(|h| h.job == job).expect("listed");
    assert_eq!(held.holder, "a");
    assert_eq!(held.taken_at.as_millisecond(), now.as_millisecond());
    assert_eq!(
        held.expires_at.as_millisecond(),
        (later + ttl).as_millisecond()
    );
    // a dies: when its lease runs out, b takes over (and since then).
    let takeover = later + ttl;
    assert!(
        store
            .claim_job(job, "b", takeover, ttl)
            .await
            .expect("b takes over")
    );
    assert!(
        !store
            .claim_job(job, "a", takeover + SignedDuration::from_secs(1), ttl)
            .await
            .expect("a is back")
    );
    let held = store.job_holders().await.expect("holders");
    let held = held.iter().find(|h| h.job == job).expect("listed");
    assert_eq!(
        (held.holder.as_str(), held.taken_at.as_millisecond()),
        ("b", takeover.as_millisecond())
    );
    // Another job is apart; letting go hands it on at once; a stranger cannot let go.
    assert!(
        store
            .claim_job("retention", "a", takeover, ttl)
            .await
            .expect("other job")
    );
    store.release_job(job, "a").await.expect("not a's: nothing");
    assert!(
        !store
            .claim_job(job, "a", takeover, ttl)
            .await
            .expect("still b's")
    );
    store.release_job(job, "b").await.expect("let go");
    assert!(
        store
            .claim_job(job, "a", takeover, ttl)
            .await
            .expect("a's again")
    );
    // Many nodes: exactly one gets a free job.
    let mut got = 0;
    for n in 0..8 {
        if store
            .claim_job("listening", &format!("node-{n}"), takeover, ttl)
            .await
            .expect("claim")
        {
            got += 1;
        }
    }
    assert_eq!(got, 1, "one holder");
}

pub async fn webhooks_queue_each_event_once(store: &dyn Store) {
    use torg_domain::webhook::Event;
    let f = fixture(store).await;
    let other = fixture(store).await;
    let tenant = f.tenant.id;
    let now = Timestamp::now();
    let before = store.audit_entries(tenant, 0, 10_000).await.expect("audit");
    let id = store
        .add_webhook(
            tenant,
            NewWebhook {
                url: "https://sak.example/torg".into(),
                events: vec![Event::InquiryCreated, Event::InquiryClosed],
                secret_sealed: "sealed".into(),
                created_at: now,
            },
            Some(torg_domain::audit::NewAuditEntry {
                actor: "cli".into(),
                action: "webhook.added".into(),
                object: String::new(),
                detail: "https://sak.example/torg".into(),
                source: "cli".into(),
            }),
        )
        .await
        .expect("add");
    let hooks = store.webhooks(tenant).await.expect("list");
    assert_eq!(hooks.len(), 1);
    assert_eq!(
        hooks[0].events,
        vec![Event::InquiryCreated, Event::InquiryClosed]
    );
    assert_eq!(
        hooks[0].after_seq,
        before.last().map_or(0, |e| e.seq),
        "told of what happens from now on"
    );
    assert!(
        store
            .webhooks(other.tenant.id)
            .await
            .expect("other")
            .is_empty()
    );
    assert!(
        store
            .webhook_tenants()
            .await
            .expect("tenants")
            .contains(&tenant)
    );
    let notice = |seq: i64| Notice {
        out: NewOutgoing {
            channel: torg_domain::Channel::Api,
            recipient: id.to_string(),
            subject: "inquiry.created".into(),
            header_id: format!("webhook-{id}-{seq}"),
            in_reply_to: None,
            references: vec![],
            media: None,
        },
        body: format!("{{\"seq\":{seq}}}"),
    };
    let seq = hooks[0].after_seq;
    store
        .queue_webhook_events(tenant, id, &[notice(seq + 1)], seq + 1, now)
        .await
        .expect("queue");
    // The same again (a second pass, another node): nothing twice.
    store
        .queue_webhook_events(tenant, id, &[notice(seq + 1)], seq + 1, now)
        .await
        .expect("again");
    let deliveries = store.webhook_deliveries(tenant, id, 10).await.expect("d");
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].status, "pending");
    assert_eq!(
        store.webhooks(tenant).await.expect("l")[0].after_seq,
        seq + 1
    );
    let claimed = store
        .claim_outbox(
            torg_domain::Channel::Api,
            now,
            SignedDuration::from_mins(2),
            10,
        )
        .await
        .expect("claim");
    let mine: Vec<_> = claimed.iter().filter(|i| i.tenant_id == tenant).collect();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].body, format!("{{\"seq\":{}}}", seq + 1));
    // Removed by another municipality: refused; by its own: gone, what waited not sent.
    assert!(
        !store
            .remove_webhook(other.tenant.id, id, None)
            .await
            .expect("other")
    );
    store
        .queue_webhook_events(tenant, id, &[notice(seq + 2)], seq + 2, now)
        .await
        .expect("queue");
    assert!(
        store
            .remove_webhook(tenant, id, None)
            .await
            .expect("remove")
    );
    assert!(store.webhooks(tenant).await.expect("l").is_empty());
    let left = store.webhook_deliveries(tenant, id, 10).await.expect("d");
    assert!(left.iter().all(|d| d.status != "pending"), "{left:?}");
}
