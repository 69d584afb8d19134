//! Deadline warnings by email (eskalering): when an open inquiry has used the warning share of
//! its time (default 75 %), its assignee, the leaders of its unit and whoever is on duty for
//! its channel get one email each, in the municipality's language, with a link to it. The
//! staff UI marks the same inquiries. Each inquiry is warned once: the mark and the emails are
//! written in one transaction, and the outbox sends them.

use jiff::Timestamp;
use std::sync::Arc;
use torg_domain::Role;
use torg_domain::UserId;
use torg_domain::duty::on_duty_for;
use torg_domain::email::new_message_id;
use torg_i18n::words::in_words;
use torg_i18n::{Catalog, Tr};
use torg_store::{InquirySummary, NewOutgoing, Notice, Store, StoreError, User};

/// What the warnings need: the texts, the address links start with, and the share of an
/// inquiry's time (in permille) after which it is warned.
#[derive(Clone)]
pub struct Warnings {
    pub catalog: Arc<Catalog>,
    pub base_url: String,
    pub permille: i64,
}

/// Why a person is warned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Because {
    Assignee,
    UnitLeader,
    OnDuty,
}

/// The people to warn about `inquiry`, each once with the first reason that applies: its
/// assignee, the leaders of its unit, those on duty for its channel; active and with an
/// email address only.
fn recipients<'a>(
    inquiry: &InquirySummary,
    users: &'a [User],
    on_duty: &[UserId],
) -> Vec<(&'a User, Because)> {
    let mut out: Vec<(&User, Because)> = vec![];
    for u in users.iter().filter(|u| u.active && u.email.is_some()) {
        let because = if inquiry.assignee_id == Some(u.id) {
            Some(Because::Assignee)
        } else if u.role == Role::UnitLeader
            && (u.unit_id == Some(inquiry.unit_id) || u.member_of.contains(&inquiry.unit_id))
        {
            Some(Because::UnitLeader)
        } else if on_duty.contains(&u.id) {
            Some(Because::OnDuty)
        } else {
            None
        };
        if let Some(b) = because {
            out.push((u, b));
        }
    }
    out
}

/// Sends (queues) the warnings due at `now` for every municipality; returns how many
/// inquiries were warned. Without a mail account the inquiry is marked all the same: the
/// staff UI shows the warning, and a later mail account does not send old ones.
pub async fn warn_due(
    store: &dyn Store,
    warnings: &Warnings,
    now: Timestamp,
) -> Result<usize, StoreError> {
    let permille = warnings.permille;
    let base = warnings.base_url.trim_end_matches('/');
    let mut warned = 0;
    for m in store.list_municipalities().await? {
        let due = store.inquiries_to_warn(m.id, now, permille, 500).await?;
        if due.is_empty() {
            continue;
        }
        let account = store.mail_account(m.id).await?;
        let users = store.list_users(m.id).await?;
        let shifts = store.shifts(m.id, now, now).await?;
        // In a crisis (not a drill) the crisis rota is on duty.
        let crisis = store.open_crises(m.id).await?.iter().any(|c| !c.drill);
        let t = Tr::new(warnings.catalog.clone(), &m.language);
        let percent = (permille / 10).to_string();
        for inquiry in due {
            let on_duty = on_duty_for(&shifts, inquiry.channel, now, crisis);
            let reference = inquiry.reference.to_string();
            let deadline = in_words(&t, inquiry.deadline_at, &m.time_zone);
            let notices: Vec<Notice> = match &account {
                None => vec![],
                Some(a) => recipients(&inquiry, &users, &on_duty)
                    .into_iter()
                    .filter_map(|(u, because)| {
                        let to = u.email.clone()?;
                        let why = match because {
                            Because::Assignee => "warn-mail-why-assignee",
                            Because::UnitLeader => "warn-mail-why-leader",
                            Because::OnDuty => "warn-mail-why-duty",
                        };
                        let body = [
                            t.args(
                                "warn-mail-body",
                                &[
                                    ("reference", &reference),
                                    ("citizen", &inquiry.citizen_name),
                                    ("deadline", &deadline),
                                    ("percent", &percent),
                                ],
                            ),
                            format!("«{}»", inquiry.preview),
                            t.get1(
                                "warn-mail-link",
                                "link",
                                &format!("{base}/staff/inquiries/{}", inquiry.id),
                            ),
                            t.get(why),
                            t.get("warn-mail-auto"),
                        ]
                        .join("\n\n");
                        Some(Notice {
                            out: NewOutgoing {
                                media: None,
                                channel: torg_domain::Channel::Email,
                                recipient: to,
                                subject: t.get1("warn-mail-subject", "reference", &reference),
                                header_id: new_message_id(
                                    &a.address,
                                    &crate::secrets::new_token()[..24],
                                ),
                                in_reply_to: None,
                                references: vec![],
                            },
                            body,
                        })
                    })
                    .collect(),
            };
            if store.mark_warned(m.id, inquiry.id, &notices, now).await? {
                warned += 1;
            }
        }
    }
    Ok(warned)
}

/// Queues due warnings every minute until `shutdown` turns true.
pub async fn run(
    store: std::sync::Arc<dyn Store>,
    warnings: Warnings,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    while !*shutdown.borrow() {
        match warn_due(&*store, &warnings, Timestamp::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(inquiries = n, "deadline warnings queued"),
            Err(e) => tracing::warn!(error = %e, "deadline warnings failed"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
            _ = shutdown.changed() => {}
        }
    }
}
