//! What every capability's SQL shares: imports, the group-commit writer, row inserts used by
//! several capabilities, the audit chain's append, tenancy checks. Included by each backend
//! (`sqlite.rs`, `postgres.rs`), which defines `Db`, `This` and its few SQL differences.

pub(super) use super::{
    BACKEND, BEGIN_WRITE, Db, LOCK_AUDIT_CHAIN, LOCK_JOURNAL, SEARCH_ADD, SEARCH_APPEND,
    SEARCH_BY_BLOCKS, SEARCH_MISSING, SEARCH_ORDER, SEARCH_REMOVE, SEARCH_SETUP, This,
    USER_COLUMNS, push_search_from,
};
pub(super) use crate::batch::{self, Job};
pub(super) use crate::rows::*;
pub(super) use crate::{Owned, db_err};
pub(super) use async_trait::async_trait;
pub(super) use jiff::Timestamp;
pub(super) use sqlx::QueryBuilder;
pub(super) use std::collections::HashMap;
pub(super) use torg_domain::deadline::PolicyRule;
pub(super) use torg_domain::{
    InquiryId, InquiryStatus, MessageKind, Reference, TenantId, UnitId, UserId,
    routing::RoutingRule,
};
pub(super) use torg_store::*;

pub(super) type Conn = <Db as sqlx::Database>::Connection;

/// The writer task: takes the waiting jobs and commits them together.
pub(super) async fn run_writer(pool: sqlx::Pool<Db>, mut rx: tokio::sync::mpsc::Receiver<Job>) {
    while let Some(jobs) = batch::next_batch(&mut rx).await {
        write_batch(&pool, jobs).await;
    }
}

/// Writes the batch in one transaction. When a job fails (bad unit, constraint), the
/// transaction is rolled back and each job is retried in a transaction of its own, so
/// one bad job never takes the others down and nothing half-written is committed.
///
/// A failed commit is different: the database may have committed before the answer was lost
/// (it died at that moment). Then only the jobs with an external id are retried, which find
/// their own write if it went through; the others fail, as writing them again could double them.
pub(super) async fn write_batch(pool: &sqlx::Pool<Db>, jobs: Vec<Job>) {
    let mut committing = false;
    let together: Result<Vec<Created>, StoreError> = async {
        let mut tx = pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let news: Vec<&NewInquiry> = jobs.iter().map(|j| &j.new).collect();
        let terms: Vec<&str> = jobs.iter().map(|j| j.terms.as_str()).collect();
        let created = insert_batch(&mut tx, &news, &terms).await?;
        committing = true;
        tx.commit().await.map_err(db_err)?;
        Ok(created)
    }
    .await;
    match together {
        Ok(created) => {
            for (job, c) in jobs.into_iter().zip(created) {
                let _ = job.reply.send(Ok(c));
            }
        }
        Err(e) if jobs.len() > 1 || committing => {
            for job in jobs {
                if committing && job.new.external_id.is_none() {
                    let _ = job.reply.send(Err(e.clone()));
                    continue;
                }
                let r = async {
                    let mut tx = pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
                    let mut one = insert_batch(&mut tx, &[&job.new], &[&job.terms]).await?;
                    tx.commit().await.map_err(db_err)?;
                    one.pop()
                        .ok_or_else(|| StoreError::Database("the inquiry was not written".into()))
                }
                .await;
                let _ = job.reply.send(r);
            }
        }
        Err(e) => {
            for job in jobs {
                let _ = job.reply.send(Err(e.clone()));
            }
        }
    }
}

/// Inserts many inquiries with a handful of statements: one counter update per
/// municipality and year, one multi-row insert of inquiries and one of messages.
pub(super) async fn insert_batch(
    conn: &mut Conn,
    news: &[&NewInquiry],
    terms: &[&str],
) -> Result<Vec<Created>, StoreError> {
    let mut results: Vec<Option<Created>> = vec![None; news.len()];
    // Retries of connector messages return what exists.
    for (i, new) in news.iter().enumerate() {
        if let Some(ext) = &new.external_id {
            let existing: Option<InquiryRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {INQUIRY_COLUMNS} FROM inquiries WHERE tenant_id = $1 AND channel = $2 AND external_id = $3"
            )))
            .bind(new.tenant_id.get())
            .bind(new.channel.as_str())
            .bind(ext)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?;
            if let Some(row) = existing {
                // Its own earlier write (the same follow token: a commit that went through
                // while its answer was lost) is created; another's is what exists.
                let stored: String =
                    sqlx::query_scalar("SELECT follow_token_hash FROM inquiries WHERE id = $1")
                        .bind(row.id())
                        .fetch_one(&mut *conn)
                        .await
                        .map_err(db_err)?;
                results[i] = Some(Created {
                    inquiry: row.try_into()?,
                    created: !stored.is_empty() && stored == new.follow_token_hash,
                });
            }
        }
    }
    let todo: Vec<usize> = (0..news.len()).filter(|i| results[*i].is_none()).collect();
    if todo.is_empty() {
        return Ok(results.into_iter().flatten().collect());
    }
    // Reserve the references: the counter moves by the number of new inquiries.
    let mut groups: HashMap<(i64, i16), Vec<usize>> = HashMap::new();
    for &i in &todo {
        groups
            .entry(((news[i].tenant_id).get(), news[i].reference_year))
            .or_default()
            .push(i);
    }
    let mut numbers: HashMap<usize, i64> = HashMap::new();
    for ((tenant, year), members) in &groups {
        let k = members.len() as i64;
        let last: i64 = sqlx::query_scalar(
            "INSERT INTO reference_counters (tenant_id, year, last_number) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, year) DO UPDATE SET last_number = reference_counters.last_number + $3 \
             RETURNING last_number",
        )
        .bind(tenant)
        .bind(i64::from(*year))
        .bind(k)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?;
        for (n, &i) in members.iter().enumerate() {
            numbers.insert(i, last - k + 1 + n as i64);
        }
    }
    let previews: Vec<String> = todo
        .iter()
        .map(|&i| torg_domain::inquiry::preview(&news[i].body, 160))
        .collect();
    let mut q: QueryBuilder<Db> = QueryBuilder::new(
        "INSERT INTO inquiries (tenant_id, ref_year, ref_number, reference, channel, status, topic, subject, \
         citizen_name, contact_email, contact_phone, language, unit_id, priority, follow_token_hash, preview, \
         received_at, acknowledged_at, deadline_at, updated_at, external_id, thread_key) ",
    );
    q.push_values(todo.iter().zip(&previews), |mut b, (&i, preview)| {
        let new = news[i];
        let number = numbers.get(&i).copied().unwrap_or_default();
        let received = new.received_at.as_millisecond();
        b.push_bind(new.tenant_id.get())
            .push_bind(i64::from(new.reference_year))
            .push_bind(number)
            .push_bind(
                Reference {
                    year: new.reference_year,
                    number,
                }
                .to_string(),
            )
            .push_bind(new.channel.as_str())
            .push_bind("new")
            .push_bind(new.topic.clone())
            .push_bind(new.subject.clone())
            .push_bind(new.citizen_name.clone())
            .push_bind(new.contact_email.clone())
            .push_bind(new.contact_phone.clone())
            .push_bind(new.language.clone())
            .push_bind(new.unit_id.get())
            .push_bind(new.priority.as_i64())
            .push_bind(new.follow_token_hash.clone())
            .push_bind(preview.clone())
            .push_bind(received)
            .push_bind(received)
            .push_bind(new.deadline_at.as_millisecond())
            .push_bind(received)
            .push_bind(new.external_id.clone())
            .push_bind(new.thread_key.clone());
    });
    q.push(" RETURNING id, tenant_id, ref_year, ref_number");
    let rows: Vec<(i64, i64, i64, i64)> = q
        .build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    // RETURNING order is not promised: match rows by their reference.
    let ids: HashMap<(i64, i64, i64), i64> = rows
        .into_iter()
        .map(|(id, t, y, n)| ((t, y, n), id))
        .collect();
    let mut inquiry_ids = Vec::with_capacity(todo.len());
    for &i in &todo {
        let key = (
            news[i].tenant_id.get(),
            i64::from(news[i].reference_year),
            numbers.get(&i).copied().unwrap_or_default(),
        );
        inquiry_ids.push(
            *ids.get(&key).ok_or_else(|| {
                StoreError::Database("an inserted inquiry was not returned".into())
            })?,
        );
    }
    let mut q: QueryBuilder<Db> = QueryBuilder::new(
        "INSERT INTO messages (tenant_id, inquiry_id, kind, author_user_id, author_name, body, created_at) ",
    );
    q.push_values(todo.iter().zip(&inquiry_ids), |mut b, (&i, id)| {
        let new = news[i];
        b.push_bind(new.tenant_id.get())
            .push_bind(*id)
            .push_bind(MessageKind::Inbound.as_str())
            .push_bind(None::<i64>)
            .push_bind(new.citizen_name.clone())
            .push_bind(new.body.clone())
            .push_bind(new.received_at.as_millisecond());
    });
    q.push(" RETURNING id, inquiry_id");
    let message_rows: Vec<(i64, i64)> = q
        .build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
    let acks: Vec<(usize, i64)> = todo
        .iter()
        .zip(&inquiry_ids)
        .filter(|(i, _)| news[**i].acknowledgement.is_some())
        .map(|(i, id)| (*i, *id))
        .collect();
    if !acks.is_empty() {
        let mut q: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO messages (tenant_id, inquiry_id, kind, author_user_id, author_name, body, created_at) ",
        );
        q.push_values(acks.iter(), |mut b, (i, id)| {
            let new = news[*i];
            let number = numbers.get(i).copied().unwrap_or_default();
            let reference = Reference {
                year: new.reference_year,
                number,
            }
            .to_string();
            let ack = new.acknowledgement.as_ref();
            b.push_bind(new.tenant_id.get())
                .push_bind(*id)
                .push_bind(MessageKind::Acknowledgement.as_str())
                .push_bind(None::<i64>)
                .push_bind(ack.map(|a| a.author_name.clone()).unwrap_or_default())
                .push_bind(
                    ack.map(|a| a.body_for(&reference, InquiryId(*id)))
                        .unwrap_or_default(),
                )
                .push_bind(new.received_at.as_millisecond());
        });
        q.push(" RETURNING id, inquiry_id");
        let ack_rows: Vec<(i64, i64)> = q
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(db_err)?;
        let ack_of: HashMap<i64, i64> = ack_rows.into_iter().map(|(m, i)| (i, m)).collect();
        for (i, id) in &acks {
            let new = news[*i];
            if let (Some(out), Some(message_id)) = (
                new.acknowledgement
                    .as_ref()
                    .and_then(|a| a.outgoing.as_ref()),
                ack_of.get(id),
            ) {
                let number = numbers.get(i).copied().unwrap_or_default();
                let reference = Reference {
                    year: new.reference_year,
                    number,
                }
                .to_string();
                let out = NewOutgoing {
                    subject: out.subject.replace("{referanse}", &reference),
                    ..out.clone()
                };
                insert_outgoing(
                    &mut *conn,
                    new.tenant_id.get(),
                    Some(*id),
                    Some(*message_id),
                    &out,
                    new.received_at.as_millisecond(),
                    None,
                )
                .await?;
            }
        }
    }
    // One audit entry per new inquiry, in the same transaction, chained per municipality.
    let mut by_tenant: Vec<TenantId> = todo.iter().map(|&i| news[i].tenant_id).collect();
    by_tenant.sort_unstable();
    by_tenant.dedup();
    let mut audit_rows: Vec<(
        i64,
        i64,
        Timestamp,
        torg_domain::audit::NewAuditEntry,
        String,
    )> = Vec::with_capacity(todo.len());
    for tenant in by_tenant {
        let (mut seq, mut previous) = audit_tail(&mut *conn, tenant.get()).await?;
        for (&i, id) in todo
            .iter()
            .zip(&inquiry_ids)
            .filter(|(i, _)| news[**i].tenant_id == tenant)
        {
            let new = news[i];
            let number = numbers.get(&i).copied().unwrap_or_default();
            let entry = torg_domain::audit::NewAuditEntry {
                actor: new.origin.actor.clone(),
                action: "inquiry.created".into(),
                object: format!("inquiry:{id}"),
                detail: format!(
                    "reference:{} channel:{} unit:{}",
                    Reference {
                        year: new.reference_year,
                        number
                    },
                    new.channel.as_str(),
                    new.unit_id
                ),
                source: new.origin.source.clone(),
            };
            seq += 1;
            let at = ts(new.received_at.as_millisecond());
            previous = torg_domain::audit::chain_hash(&previous, seq, at, &entry);
            audit_rows.push((tenant.get(), seq, at, entry, previous.clone()));
        }
    }
    for chunk in audit_rows.chunks(1000) {
        let mut q: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO audit_log (tenant_id, seq, at, actor, action, object, detail, source, hash) ",
        );
        q.push_values(chunk, |mut b, (tenant, seq, at, e, hash)| {
            b.push_bind(*tenant)
                .push_bind(*seq)
                .push_bind(at.as_millisecond())
                .push_bind(e.actor.clone())
                .push_bind(e.action.clone())
                .push_bind(e.object.clone())
                .push_bind(e.detail.clone())
                .push_bind(e.source.clone())
                .push_bind(hash.clone());
        });
        q.build().execute(&mut *conn).await.map_err(db_err)?;
    }
    // The search index, in the same transaction as the text.
    for (&i, id) in todo.iter().zip(&inquiry_ids) {
        search_insert(&mut *conn, *id, news[i].tenant_id.get(), terms[i]).await?;
    }
    let message_of: HashMap<i64, i64> = message_rows.into_iter().map(|(m, i)| (i, m)).collect();
    for ((&i, id), preview) in todo.iter().zip(&inquiry_ids).zip(previews) {
        let new = news[i];
        if !new.attachments.is_empty() {
            let message_id = *message_of.get(id).ok_or_else(|| {
                StoreError::Database("an inserted message was not returned".into())
            })?;
            insert_attachments(
                &mut *conn,
                new.tenant_id.get(),
                *id,
                message_id,
                &new.attachments,
            )
            .await?;
        }
        let number = numbers.get(&i).copied().unwrap_or_default();
        let reference = Reference {
            year: new.reference_year,
            number,
        };
        results[i] = Some(Created {
            inquiry: fresh_inquiry(new, *id, reference, preview),
            created: true,
        });
    }
    Ok(results.into_iter().flatten().collect())
}

/// Writes an inquiry's row of the search index from its texts (name, contacts, subject,
/// messages), replacing any it had.
pub(super) async fn search_add(
    conn: &mut Conn,
    inquiry_id: i64,
    tenant: i64,
    texts: &[&str],
) -> Result<(), StoreError> {
    let terms = torg_domain::search::terms(&texts.join("\n")).join(" ");
    sqlx::query(SEARCH_REMOVE)
        .bind(inquiry_id)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    search_insert(conn, inquiry_id, tenant, &terms).await
}

/// Writes a new inquiry's row of the search index: `terms` as [`message_terms`] gives them.
pub(super) async fn search_insert(
    conn: &mut Conn,
    inquiry_id: i64,
    tenant: i64,
    terms: &str,
) -> Result<(), StoreError> {
    write_terms(conn, SEARCH_ADD, inquiry_id, tenant, terms).await
}

/// The search terms a message adds to its inquiry, separated by spaces (none for an
/// acknowledgement, the same text on every inquiry). Worked out before a write transaction
/// begins, so that the analysis never holds the writers' lock.
pub(super) fn message_terms(kind: MessageKind, body: &str) -> String {
    if kind == MessageKind::Acknowledgement {
        return String::new();
    }
    torg_domain::search::terms(body).join(" ")
}

/// Adds a new message's terms ([`message_terms`]) to its inquiry's row of the search index.
async fn search_append(
    conn: &mut Conn,
    inquiry_id: i64,
    tenant: i64,
    terms: &str,
) -> Result<(), StoreError> {
    if terms.is_empty() {
        return Ok(());
    }
    write_terms(conn, SEARCH_APPEND, inquiry_id, tenant, terms).await
}

/// One write of the index: `sql` with the inquiry ($1), the municipality ($2), the terms ($3).
async fn write_terms(
    conn: &mut Conn,
    sql: &'static str,
    inquiry_id: i64,
    tenant: i64,
    terms: &str,
) -> Result<(), StoreError> {
    sqlx::query(sql)
        .bind(inquiry_id)
        .bind(tenant)
        .bind(terms)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
/// Inserts a message and adds its `terms` ([`message_terms`]) to the search index.
pub(super) async fn insert_message_row(
    conn: &mut Conn,
    tenant: i64,
    inquiry_id: i64,
    new: &NewMessage,
    terms: &str,
    created_at: i64,
) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO messages (tenant_id, inquiry_id, kind, author_user_id, author_name, body, created_at, external_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(tenant)
    .bind(inquiry_id)
    .bind(new.kind.as_str())
    .bind(new.author_user_id.map(i64::from))
    .bind(&new.author_name)
    .bind(&new.body)
    .bind(created_at)
    .bind(&new.external_id)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    search_append(&mut *conn, inquiry_id, tenant, terms).await?;
    Ok(id)
}

/// Queues a message for delivery, in the caller's transaction: one of an inquiry's
/// messages, or a notice with a text of its own (about an inquiry, or none).
pub(super) async fn insert_outgoing(
    conn: &mut Conn,
    tenant: i64,
    inquiry_id: Option<i64>,
    message_id: Option<i64>,
    out: &NewOutgoing,
    now: i64,
    own_text: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbox (tenant_id, inquiry_id, message_id, channel, recipient, subject, header_id, in_reply_to, refs, status, next_attempt_at, created_at, body, media) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', $10, $10, $11, $12)",
    )
    .bind(tenant)
    .bind(inquiry_id)
    .bind(message_id)
    .bind(out.channel.as_str())
    .bind(&out.recipient)
    .bind(&out.subject)
    .bind(&out.header_id)
    .bind(&out.in_reply_to)
    .bind(out.references.join(" "))
    .bind(now)
    .bind(own_text)
    .bind(&out.media)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

pub(super) async fn insert_attachments(
    conn: &mut Conn,
    tenant: i64,
    inquiry_id: i64,
    message_id: i64,
    attachments: &[NewAttachment],
) -> Result<Vec<AttachmentMeta>, StoreError> {
    let mut out = Vec::with_capacity(attachments.len());
    for a in attachments {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO attachments (tenant_id, inquiry_id, message_id, filename, content_type, size, data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(tenant)
        .bind(inquiry_id)
        .bind(message_id)
        .bind(&a.filename)
        .bind(&a.content_type)
        .bind(a.data.len() as i64)
        .bind(&a.data)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?;
        out.push(AttachmentMeta {
            id,
            inquiry_id: InquiryId(inquiry_id),
            message_id,
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            size: a.data.len() as i64,
        });
    }
    Ok(out)
}

pub(super) type AuditRow = (i64, i64, String, String, String, String, String, String);

/// Takes the municipality's audit-chain lock for the rest of the transaction and
/// returns the chain's last (sequence number, hash).
pub(super) async fn audit_tail(conn: &mut Conn, tenant: i64) -> Result<(i64, String), StoreError> {
    sqlx::query(LOCK_AUDIT_CHAIN)
        .bind(tenant)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    let last: Option<(i64, String)> = sqlx::query_as(
        "SELECT seq, hash FROM audit_log WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1",
    )
    .bind(tenant)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(last.unwrap_or((0, torg_domain::audit::GENESIS.to_string())))
}

/// Appends `entry` to the municipality's chain inside the caller's transaction, so a
/// change and its audit entry commit together. Taken last in a transaction (the
/// chain's lock is held only to its end).
pub(super) async fn insert_audit(
    conn: &mut Conn,
    tenant: i64,
    entry: torg_domain::audit::NewAuditEntry,
    at: Timestamp,
) -> Result<torg_domain::audit::AuditEntry, StoreError> {
    let (last, previous) = audit_tail(conn, tenant).await?;
    let seq = last + 1;
    let at = ts(at.as_millisecond());
    let hash = torg_domain::audit::chain_hash(&previous, seq, at, &entry);
    sqlx::query(
        "INSERT INTO audit_log (tenant_id, seq, at, actor, action, object, detail, source, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(tenant)
    .bind(seq)
    .bind(at.as_millisecond())
    .bind(&entry.actor)
    .bind(&entry.action)
    .bind(&entry.object)
    .bind(&entry.detail)
    .bind(&entry.source)
    .bind(&hash)
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(torg_domain::audit::AuditEntry {
        seq,
        at,
        entry,
        hash,
    })
}

/// Replaces the units `user_id` is a member of, inside the caller's transaction.
pub(super) async fn replace_memberships(
    conn: &mut Conn,
    tenant: TenantId,
    user_id: UserId,
    units: &[UnitId],
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM unit_memberships WHERE tenant_id = $1 AND user_id = $2")
        .bind(tenant.get())
        .bind(user_id.get())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    let mut units = units.to_vec();
    units.sort_unstable();
    units.dedup();
    for unit in units {
        require_in_tenant(&mut *conn, Owned::Unit, tenant.get(), unit.get()).await?;
        sqlx::query(
            "INSERT INTO unit_memberships (tenant_id, user_id, unit_id) VALUES ($1, $2, $3)",
        )
        .bind(tenant.get())
        .bind(user_id.get())
        .bind(unit.get())
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

pub(super) fn audit_entry(
    (seq, at, actor, action, object, detail, source, hash): AuditRow,
) -> torg_domain::audit::AuditEntry {
    torg_domain::audit::AuditEntry {
        seq,
        at: ts(at),
        entry: torg_domain::audit::NewAuditEntry {
            actor,
            action,
            object,
            detail,
            source,
        },
        hash,
    }
}

/// The municipality's user whose text `column` (a fixed name, never input) is `value`.
pub(super) async fn user_where(
    pool: &sqlx::Pool<Db>,
    tenant: i64,
    column: &'static str,
    value: &str,
) -> Result<Option<User>, StoreError> {
    let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND {column} = $2"
    )))
    .bind(tenant)
    .bind(value)
    .fetch_optional(pool)
    .await
    .map_err(db_err)?;
    row.map(TryInto::try_into).transpose()
}

/// Fails with `NotFound(what)` unless row `id` of `table` belongs to `tenant`.
pub(super) async fn require_in_tenant<'e, E>(
    executor: E,
    table: Owned,
    tenant: i64,
    id: i64,
) -> Result<(), StoreError>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let (sql, what) = match table {
        Owned::Unit => (
            "SELECT id FROM units WHERE tenant_id = $1 AND id = $2",
            "unit",
        ),
        Owned::User => (
            "SELECT id FROM users WHERE tenant_id = $1 AND id = $2",
            "user",
        ),
        Owned::Inquiry => (
            "SELECT id FROM inquiries WHERE tenant_id = $1 AND id = $2",
            "inquiry",
        ),
    };
    let found: Option<i64> = sqlx::query_scalar(sql)
        .bind(tenant)
        .bind(id)
        .fetch_optional(executor)
        .await
        .map_err(db_err)?;
    found.map(|_| ()).ok_or(StoreError::NotFound(what))
}

/// Commits `tx` with `audit` (when given) as its last write: the change and its entry in the
/// audit log stand or fall together.
pub(super) async fn commit_with(
    mut tx: sqlx::Transaction<'static, Db>,
    tenant: i64,
    audit: Option<torg_domain::audit::NewAuditEntry>,
) -> Result<(), StoreError> {
    if let Some(entry) = audit {
        insert_audit(&mut tx, tenant, entry, Timestamp::now()).await?;
    }
    tx.commit().await.map_err(db_err)
}
