//! The archive's use cases: Torg's proposal for an inquiry, the archivist's decision (logged),
//! and the retention run that deletes what is not a record once its time has passed.

use jiff::{SignedDuration, Timestamp};
use torg_domain::MessageKind;
use torg_domain::archive::{
    ArchiveDecision, ArchiveFacts, Proposal, Screening, due_for_deletion, propose,
};
use torg_domain::audit::NewAuditEntry;
use torg_domain::{InquiryId, TenantId, UserId};
use torg_store::{ArchiveRecord, DeletionRecord, Inquiry, Message, Origin, Store, StoreError};

/// Torg's proposal for an inquiry of this topic and subject with these messages.
pub fn proposal(topic: Option<&str>, subject: Option<&str>, messages: &[Message]) -> Proposal {
    let of = |kind: MessageKind| {
        messages
            .iter()
            .filter(move |m| m.kind == kind)
            .map(|m| m.body.as_str())
            .collect::<Vec<_>>()
    };
    propose(&ArchiveFacts {
        topic,
        subject,
        inbound: of(MessageKind::Inbound),
        outbound: of(MessageKind::Outbound),
        attachments: messages.iter().map(|m| m.attachments.len()).sum(),
    })
}

/// Records an archivist's decision with Torg's reasons at the time, and logs it.
pub async fn decide(
    store: &dyn Store,
    inquiry: &Inquiry,
    decision: ArchiveDecision,
    screening: Screening,
    decided_by: Option<UserId>,
    origin: &Origin,
    at: Timestamp,
) -> Result<ArchiveRecord, StoreError> {
    let messages = store.messages(inquiry.tenant_id, inquiry.id, false).await?;
    let reasons = proposal(
        inquiry.topic.as_deref(),
        inquiry.subject.as_deref(),
        &messages,
    )
    .reasons
    .iter()
    .map(|r| r.as_str())
    .collect::<Vec<_>>()
    .join(",");
    let record = ArchiveRecord {
        inquiry_id: inquiry.id,
        decision,
        reasons,
        decided_by,
        decided_at: at,
        screening,
    };
    let s = &record.screening;
    let audit = NewAuditEntry {
        actor: origin.actor.clone(),
        action: "archive.decided".into(),
        object: format!("inquiry:{}", inquiry.id),
        detail: format!(
            "{} (Torg: {}); screening: {}{}{}",
            decision.as_str(),
            if record.reasons.is_empty() {
                "no reasons"
            } else {
                &record.reasons
            },
            s.basis.map(|b| b.citation()).unwrap_or("none"),
            if s.names { ", names screened" } else { "" },
            if s.public_title.is_some() {
                ", public title set"
            } else {
                ""
            },
        ),
        source: origin.source.clone(),
    };
    // The decision and its audit entry in one transaction.
    store
        .set_archive_record(inquiry.tenant_id, &record, Some(audit))
        .await?;
    Ok(record)
}

/// Deletes what is not a record and was closed more than the municipality's retention time
/// ago: decided "not archive", or undecided and not proposed. Logs each deletion (reference,
/// dates, counts) and one audit entry per run. Returns what was deleted.
pub async fn run_retention(
    store: &dyn Store,
    tenant: TenantId,
    now: Timestamp,
) -> Result<Vec<DeletionRecord>, StoreError> {
    let days = store.retention_days(tenant).await?;
    let cutoff = now - SignedDuration::from_hours(24 * i64::from(days));
    let reason = format!("retention: not a record, closed more than {days} days ago");
    let mut deleted = Vec::new();
    let mut after = InquiryId(0);
    loop {
        let page = store
            .retention_candidates(tenant, cutoff, after, 200)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        // Undecided: ask the proposal, so that nothing Torg thinks is a record goes before an
        // archivist has looked at it.
        let undecided: Vec<InquiryId> = page
            .iter()
            .filter(|c| c.decision.is_none())
            .map(|c| c.id)
            .collect();
        let threads = store.threads(tenant, &undecided).await?;
        let mut due = Vec::new();
        for c in &page {
            let proposed = c.decision.is_none() && {
                let messages = threads.get(&c.id).map(Vec::as_slice).unwrap_or_default();
                proposal(c.topic.as_deref(), c.subject.as_deref(), messages).worthy
            };
            if due_for_deletion(Some(c.closed_at), c.decision, proposed, days, now) {
                due.push(c.id);
            }
        }
        if !due.is_empty() {
            deleted.extend(store.delete_inquiries(tenant, &due, &reason, now).await?);
        }
    }
    if !deleted.is_empty() {
        store
            .append_audit(
                tenant,
                NewAuditEntry {
                    actor: "system".into(),
                    action: "retention.deleted".into(),
                    object: format!("municipality:{tenant}"),
                    detail: format!(
                        "{} inquiries deleted ({reason}): {}",
                        deleted.len(),
                        deleted
                            .iter()
                            .map(|d| d.reference.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    source: "retention".into(),
                },
                now,
            )
            .await?;
    }
    Ok(deleted)
}

/// The nightly retention job until `shutdown`: checked every quarter of an hour, run once a
/// night for each municipality between 02:00 and 04:00 in its own time zone.
pub async fn run_nightly_retention(
    store: std::sync::Arc<dyn Store>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut last_run: std::collections::HashMap<TenantId, jiff::civil::Date> = Default::default();
    while !*shutdown.borrow() {
        if let Ok(municipalities) = store.list_municipalities().await {
            let now = Timestamp::now();
            for m in municipalities {
                let Ok(zone) = jiff::tz::TimeZone::get(&m.time_zone) else {
                    continue;
                };
                let local = now.to_zoned(zone);
                if !(2..4).contains(&local.hour()) || last_run.get(&m.id) == Some(&local.date()) {
                    continue;
                }
                match run_retention(&*store, m.id, now).await {
                    Ok(deleted) => {
                        last_run.insert(m.id, local.date());
                        tracing::info!(municipality = %m.slug, deleted = deleted.len(), "retention ran");
                    }
                    Err(e) => {
                        tracing::error!(municipality = %m.slug, error = %e, "retention failed")
                    }
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(15 * 60)) => {}
            _ = shutdown.changed() => {}
        }
    }
}
