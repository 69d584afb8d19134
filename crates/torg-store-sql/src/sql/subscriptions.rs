//! Subscriptions and crises in SQL: areas, topics, subscribers, broadcasts (one outbox entry
//! per subscriber, sharing the text), crisis templates, crises, their messages, log and
//! linked inquiries.

use super::shared::*;
use torg_domain::crisis::{MsgType, Template};
use torg_domain::subscription::{Medium, join, split};

const SUBSCRIBER_COLUMNS: &str = "id, tenant_id, medium, address, token, topics, areas, language, consent, confirmed_at, asked_at, asked_count, test_recipient";

type SubscriberRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    i64,
    i64,
    i64,
);

fn subscriber(r: SubscriberRow) -> Result<Subscriber> {
    let (
        id,
        tenant,
        medium,
        address,
        token,
        topics,
        areas,
        language,
        consent,
        confirmed,
        asked,
        count,
        test,
    ) = r;
    Ok(Subscriber {
        id,
        tenant_id: TenantId(tenant),
        medium: Medium::parse(&medium)
            .ok_or_else(|| StoreError::Database(format!("unknown medium {medium:?}")))?,
        address,
        token,
        topics: split(&topics),
        areas: split(&areas),
        language,
        consent,
        confirmed_at: confirmed.map(ms),
        asked_at: ms(asked),
        asked_count: count,
        test_recipient: test != 0,
    })
}

fn ms(v: i64) -> Timestamp {
    Timestamp::from_millisecond(v).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn polygon_text(points: &[(f64, f64)]) -> String {
    points
        .iter()
        .map(|(lon, lat)| format!("{lon} {lat}"))
        .collect::<Vec<_>>()
        .join(",")
}

fn polygon(text: &str) -> Vec<(f64, f64)> {
    text.split(',')
        .filter_map(|p| {
            let (lon, lat) = p.trim().split_once(' ')?;
            Some((lon.parse().ok()?, lat.parse().ok()?))
        })
        .collect()
}

async fn one_subscriber(conn: &mut Conn, tenant: i64, id: i64) -> Result<Subscriber> {
    let row: Option<SubscriberRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    subscriber(row.ok_or(StoreError::NotFound("subscriber"))?)
}

/// Queues a notice of its own (a confirmation, the staff's word of a crisis) in the outbox.
async fn queue_notice(conn: &mut Conn, tenant: i64, notice: &Notice, now: i64) -> Result<()> {
    insert_outgoing(
        conn,
        tenant,
        None,
        None,
        &notice.out,
        now,
        Some(&notice.body),
    )
    .await
}

/// Writes a broadcast's intent: its text once, and its audience. Returns its id.
pub(super) async fn insert_broadcast(
    conn: &mut Conn,
    tenant: i64,
    b: &Broadcast<'_>,
    crisis_message: Option<i64>,
    now: i64,
) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO broadcasts (tenant_id, medium, subject, body, topic, areas, test_only, header_prefix, manage_base, due_at, crisis_message_id, recipients, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12) RETURNING id",
    )
    .bind(tenant)
    .bind(b.medium.as_str())
    .bind(b.subject)
    .bind(b.body)
    .bind(b.topic)
    .bind(join(b.areas))
    .bind(i64::from(b.test_only))
    .bind(b.header_prefix)
    .bind(b.manage_base)
    .bind(b.due_at.as_millisecond())
    .bind(crisis_message)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)
}

type BroadcastRow = (
    i64,
    String,
    String,
    Option<String>,
    String,
    i64,
    String,
    String,
    i64,
    Option<i64>,
);

/// Expands a broadcast into one outbox entry per matching subscriber, in one statement, and
/// marks it expanded; `None` when it was expanded already (by another node, or before).
pub(super) async fn expand_broadcast(
    conn: &mut Conn,
    id: i64,
    now: i64,
) -> Result<Option<(TenantId, u64)>> {
    let taken =
        sqlx::query("UPDATE broadcasts SET expanded_at = $1 WHERE id = $2 AND expanded_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?
            .rows_affected();
    if taken == 0 {
        return Ok(None);
    }
    let (tenant, medium, subject, topic, areas, test_only, prefix, manage_base, due_at, crisis_message): BroadcastRow =
        sqlx::query_as(
            "SELECT tenant_id, medium, subject, topic, areas, test_only, header_prefix, manage_base, due_at, crisis_message_id \
             FROM broadcasts WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_err)?;
    let channel = Medium::parse(&medium)
        .ok_or_else(|| StoreError::Database(format!("unknown medium {medium:?}")))?
        .channel();
    let mut q: QueryBuilder<Db> = QueryBuilder::new(
        "INSERT INTO outbox (tenant_id, channel, recipient, subject, header_id, refs, status, next_attempt_at, created_at, body, broadcast_id, unsubscribe) \
         SELECT tenant_id, ",
    );
    q.push_bind(channel.as_str())
        .push(", address, ")
        .push_bind(subject)
        .push(", ")
        .push_bind(prefix)
        .push(" || CAST(id AS TEXT), '', 'pending', ")
        .push_bind(due_at)
        .push(", ")
        .push_bind(now)
        .push(", '', ")
        .push_bind(id)
        .push(", ")
        .push_bind(manage_base)
        .push(" || token || '/unsubscribe' FROM subscribers WHERE tenant_id = ")
        .push_bind(tenant)
        .push(" AND medium = ")
        .push_bind(medium.clone())
        .push(" AND confirmed_at IS NOT NULL");
    if test_only != 0 {
        q.push(" AND test_recipient = 1");
    }
    if let Some(topic) = topic {
        q.push(" AND (topics = '' OR (',' || topics || ',') LIKE ")
            .push_bind(format!("%,{topic},%"))
            .push(")");
    }
    let areas: Vec<i64> = split(&areas);
    if !areas.is_empty() {
        q.push(" AND (areas = ''");
        for area in &areas {
            q.push(" OR (',' || areas || ',') LIKE ")
                .push_bind(format!("%,{area},%"));
        }
        q.push(")");
    }
    let n = q
        .build()
        .execute(&mut *conn)
        .await
        .map_err(db_err)?
        .rows_affected();
    let count = i64::try_from(n).unwrap_or(i64::MAX);
    sqlx::query("UPDATE broadcasts SET recipients = $1 WHERE id = $2")
        .bind(count)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    if let Some(message) = crisis_message {
        sqlx::query("UPDATE crisis_messages SET recipients = recipients + $1 WHERE id = $2")
            .bind(count)
            .bind(message)
            .execute(&mut *conn)
            .await
            .map_err(db_err)?;
        // The crisis log stamps when they were queued.
        let (crisis, kind): (i64, String) =
            sqlx::query_as("SELECT crisis_id, msg_type FROM crisis_messages WHERE id = $1")
                .bind(message)
                .fetch_one(&mut *conn)
                .await
                .map_err(db_err)?;
        insert_log(
            conn,
            tenant,
            crisis,
            now,
            "auto",
            &format!("{kind}: queued for {n} subscribers by {medium}"),
            "system:broadcast",
        )
        .await?;
    }
    Ok(Some((TenantId(tenant), n)))
}

/// Writes a broadcast and expands it at once (in the caller's transaction).
pub(super) async fn queue_broadcast(
    conn: &mut Conn,
    tenant: i64,
    b: &Broadcast<'_>,
    now: i64,
) -> Result<u64> {
    let id = insert_broadcast(conn, tenant, b, None, now).await?;
    Ok(expand_broadcast(conn, id, now).await?.map_or(0, |(_, n)| n))
}

#[async_trait]
impl Subscriptions for This {
    async fn areas(&self, tenant: TenantId) -> Result<Vec<Area>> {
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT id, name, polygon, postcodes FROM areas WHERE tenant_id = $1 ORDER BY name",
        )
        .bind(tenant.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(id, name, poly, postcodes)| Area {
                id,
                name,
                polygon: polygon(&poly),
                postcodes: split(&postcodes),
            })
            .collect())
    }

    async fn put_area(
        &self,
        tenant: TenantId,
        area: &Area,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Area> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let existing: Option<i64> =
            sqlx::query_scalar("SELECT id FROM areas WHERE tenant_id = $1 AND name = $2")
                .bind(tenant.get())
                .bind(&area.name)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        let id = match existing {
            Some(id) => {
                sqlx::query("UPDATE areas SET polygon = $1, postcodes = $2 WHERE id = $3")
                    .bind(polygon_text(&area.polygon))
                    .bind(join(&area.postcodes))
                    .bind(id)
                    .execute(&mut *tx)
                    .await
                    .map_err(db_err)?;
                id
            }
            None => sqlx::query_scalar(
                "INSERT INTO areas (tenant_id, name, polygon, postcodes) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(tenant.get())
            .bind(&area.name)
            .bind(polygon_text(&area.polygon))
            .bind(join(&area.postcodes))
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?,
        };
        commit_with(tx, tenant.get(), audit).await?;
        Ok(Area { id, ..area.clone() })
    }

    async fn topics(&self, tenant: TenantId) -> Result<Vec<Topic>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT key, name FROM subscription_topics WHERE tenant_id = $1 ORDER BY name",
        )
        .bind(tenant.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(key, name)| Topic { key, name })
            .collect())
    }

    async fn put_topic(
        &self,
        tenant: TenantId,
        topic: &Topic,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO subscription_topics (tenant_id, key, name) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, key) DO UPDATE SET name = excluded.name",
        )
        .bind(tenant.get())
        .bind(&topic.key)
        .bind(&topic.name)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await
    }

    async fn subscriber_by_token(&self, token: &str) -> Result<Option<Subscriber>> {
        let row: Option<SubscriberRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE token = $1"
        )))
        .bind(token)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(subscriber).transpose()
    }

    async fn subscriber(
        &self,
        tenant: TenantId,
        medium: Medium,
        address: &str,
    ) -> Result<Option<Subscriber>> {
        let row: Option<SubscriberRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBSCRIBER_COLUMNS} FROM subscribers WHERE tenant_id = $1 AND medium = $2 AND address = $3"
        )))
        .bind(tenant.get())
        .bind(medium.as_str())
        .bind(address)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(subscriber).transpose()
    }

    async fn add_subscriber(
        &self,
        tenant: TenantId,
        new: &NewSubscriber,
        confirmation: Option<&Notice>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Subscriber> {
        let now = Timestamp::now().as_millisecond();
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let id = insert_subscriber(&mut tx, tenant.get(), new, now).await?;
        if let Some(notice) = confirmation {
            queue_notice(&mut tx, tenant.get(), notice, now).await?;
        }
        let added = one_subscriber(&mut tx, tenant.get(), id).await?;
        let audit = audit.map(|e| e.with_object(format!("subscriber:{id}")));
        commit_with(tx, tenant.get(), audit).await?;
        Ok(added)
    }

    async fn change_subscriber(
        &self,
        tenant: TenantId,
        id: i64,
        change: &SubscriberChange,
        notice: Option<&Notice>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Subscriber> {
        let now = Timestamp::now().as_millisecond();
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let before = one_subscriber(&mut tx, tenant.get(), id).await?;
        let topics = change.topics.clone().unwrap_or(before.topics.clone());
        let areas = change.areas.clone().unwrap_or(before.areas.clone());
        let confirmed = if change.confirm {
            Some(before.confirmed_at.map_or(now, |t| t.as_millisecond()))
        } else {
            before.confirmed_at.map(|t| t.as_millisecond())
        };
        // Confirmations are counted per day: a new day starts the count again.
        let (asked_at, asked_count) = if change.asked {
            if now - before.asked_at.as_millisecond() > 86_400_000 {
                (now, 1)
            } else {
                (now, before.asked_count + 1)
            }
        } else {
            (before.asked_at.as_millisecond(), before.asked_count)
        };
        sqlx::query(
            "UPDATE subscribers SET topics = $1, areas = $2, confirmed_at = $3, asked_at = $4, asked_count = $5, test_recipient = $6 \
             WHERE tenant_id = $7 AND id = $8",
        )
        .bind(join(&topics))
        .bind(join(&areas))
        .bind(confirmed)
        .bind(asked_at)
        .bind(asked_count)
        .bind(i64::from(change.test_recipient.unwrap_or(before.test_recipient)))
        .bind(tenant.get())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if change.confirm {
            sqlx::query(
                "DELETE FROM subscription_stops WHERE tenant_id = $1 AND address_hash = $2",
            )
            .bind(tenant.get())
            .bind(torg_domain::subscription::stop_hash(
                before.medium,
                &before.address,
            ))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        if let Some(notice) = notice {
            queue_notice(&mut tx, tenant.get(), notice, now).await?;
        }
        let after = one_subscriber(&mut tx, tenant.get(), id).await?;
        let audit = audit.map(|e| e.with_object(format!("subscriber:{id}")));
        commit_with(tx, tenant.get(), audit).await?;
        Ok(after)
    }

    async fn remove_subscriber(
        &self,
        tenant: TenantId,
        id: i64,
        stop_hash: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let now = Timestamp::now().as_millisecond();
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let gone = one_subscriber(&mut tx, tenant.get(), id).await?;
        // What still waits for the address is not sent; and no message to it as a subscriber
        // (broadcasts, confirmations) keeps the address.
        for sql in [
            "UPDATE outbox SET status = 'failed', last_error = 'unsubscribed' \
             WHERE tenant_id = $1 AND status = 'pending' AND channel = $2 AND recipient = $3 \
             AND (broadcast_id IS NOT NULL OR header_id LIKE '<subscription-%')",
            "UPDATE outbox SET recipient = '' \
             WHERE tenant_id = $1 AND channel = $2 AND recipient = $3 \
             AND (broadcast_id IS NOT NULL OR header_id LIKE '<subscription-%')",
        ] {
            sqlx::query(sql)
                .bind(tenant.get())
                .bind(gone.medium.channel().as_str())
                .bind(&gone.address)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        sqlx::query("DELETE FROM subscribers WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.get())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        sqlx::query(
            "INSERT INTO subscription_stops (tenant_id, address_hash, at) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, address_hash) DO UPDATE SET at = excluded.at",
        )
        .bind(tenant.get())
        .bind(stop_hash)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        let audit = audit.map(|e| e.with_object(format!("subscriber:{id}")));
        commit_with(tx, tenant.get(), audit).await
    }

    async fn stopped(&self, tenant: TenantId, stop_hash: &str) -> Result<bool> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT tenant_id FROM subscription_stops WHERE tenant_id = $1 AND address_hash = $2",
        )
        .bind(tenant.get())
        .bind(stop_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(found.is_some())
    }

    async fn import_subscribers(
        &self,
        tenant: TenantId,
        new: &[NewSubscriber],
        stop_hashes: &[String],
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<(u64, u64)> {
        let now = Timestamp::now().as_millisecond();
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let stops: std::collections::HashSet<String> =
            sqlx::query_scalar("SELECT address_hash FROM subscription_stops WHERE tenant_id = $1")
                .bind(tenant.get())
                .fetch_all(&mut *tx)
                .await
                .map_err(db_err)?
                .into_iter()
                .collect();
        let mut existing: std::collections::HashSet<(String, String)> =
            sqlx::query_as::<_, (String, String)>(
                "SELECT medium, address FROM subscribers WHERE tenant_id = $1",
            )
            .bind(tenant.get())
            .fetch_all(&mut *tx)
            .await
            .map_err(db_err)?
            .into_iter()
            .collect();
        let mut fresh = Vec::with_capacity(new.len());
        for (n, hash) in new.iter().zip(stop_hashes) {
            if stops.contains(hash)
                || !existing.insert((n.medium.as_str().to_string(), n.address.clone()))
            {
                continue;
            }
            fresh.push(n);
        }
        // Bound parameters are limited per statement: rows go in chunks.
        for chunk in fresh.chunks(2_000) {
            let mut q: QueryBuilder<Db> = QueryBuilder::new(
                "INSERT INTO subscribers (tenant_id, medium, address, token, topics, areas, language, consent, confirmed_at, asked_at, asked_count, test_recipient, created_at) ",
            );
            q.push_values(chunk, |mut row, n| {
                row.push_bind(tenant.get())
                    .push_bind(n.medium.as_str())
                    .push_bind(&n.address)
                    .push_bind(&n.token)
                    .push_bind(join(&n.topics))
                    .push_bind(join(&n.areas))
                    .push_bind(&n.language)
                    .push_bind(&n.consent)
                    .push_bind(n.confirmed.then_some(now))
                    .push_bind(now)
                    .push_bind(0_i64)
                    .push_bind(i64::from(n.test_recipient))
                    .push_bind(now);
            });
            q.build().execute(&mut *tx).await.map_err(db_err)?;
        }
        let added = fresh.len() as u64;
        let audit = audit.map(|mut e| {
            e.detail = format!("{} added={added}", e.detail);
            e
        });
        commit_with(tx, tenant.get(), audit).await?;
        Ok((added, new.len() as u64 - added))
    }

    async fn subscriber_counts(&self, tenant: TenantId) -> Result<SubscriberCounts> {
        let (email, sms, press, pending, test): (i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT \
               COALESCE(SUM(CASE WHEN confirmed_at IS NOT NULL AND medium = 'email' THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN confirmed_at IS NOT NULL AND medium = 'sms' THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN confirmed_at IS NOT NULL AND medium = 'press' THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN confirmed_at IS NULL THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN confirmed_at IS NOT NULL AND test_recipient = 1 THEN 1 ELSE 0 END), 0) \
             FROM subscribers WHERE tenant_id = $1",
        )
        .bind(tenant.get())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(SubscriberCounts {
            email,
            sms,
            press,
            pending,
            test_recipients: test,
        })
    }

    async fn expand_broadcasts(&self, limit: u32) -> Result<Vec<(TenantId, i64, u64)>> {
        let waiting: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM broadcasts WHERE expanded_at IS NULL ORDER BY id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut done = vec![];
        for id in waiting {
            let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
            let expanded = expand_broadcast(&mut tx, id, Timestamp::now().as_millisecond()).await?;
            tx.commit().await.map_err(db_err)?;
            if let Some((tenant, n)) = expanded {
                done.push((tenant, id, n));
            }
        }
        Ok(done)
    }

    async fn broadcast(
        &self,
        tenant: TenantId,
        broadcasts: &[Broadcast<'_>],
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Vec<u64>> {
        let now = Timestamp::now().as_millisecond();
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let mut counts = Vec::with_capacity(broadcasts.len());
        for b in broadcasts {
            counts.push(queue_broadcast(&mut tx, tenant.get(), b, now).await?);
        }
        commit_with(tx, tenant.get(), audit).await?;
        Ok(counts)
    }
}

async fn insert_subscriber(
    conn: &mut Conn,
    tenant: i64,
    new: &NewSubscriber,
    now: i64,
) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO subscribers (tenant_id, medium, address, token, topics, areas, language, consent, confirmed_at, asked_at, asked_count, test_recipient, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $10) RETURNING id",
    )
    .bind(tenant)
    .bind(new.medium.as_str())
    .bind(&new.address)
    .bind(&new.token)
    .bind(join(&new.topics))
    .bind(join(&new.areas))
    .bind(&new.language)
    .bind(&new.consent)
    .bind(new.confirmed.then_some(now))
    .bind(now)
    .bind(i64::from(new.test_recipient))
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)
}

type CrisisRow = (i64, i64, String, i64, String, i64, String, i64, Option<i64>);
const CRISIS_COLUMNS: &str =
    "id, tenant_id, template, drill, areas, all_subscribers, started_by, started_at, ended_at";

fn crisis(r: CrisisRow) -> Crisis {
    let (id, tenant, template, drill, areas, all, by, started, ended) = r;
    Crisis {
        id,
        tenant_id: TenantId(tenant),
        template,
        drill: drill != 0,
        areas: split(&areas),
        all_subscribers: all != 0,
        started_by: by,
        started_at: ms(started),
        ended_at: ended.map(ms),
    }
}

type MessageRow = (i64, i64, String, String, String, String, i64, i64);

fn crisis_message(r: MessageRow) -> Result<CrisisMessage> {
    let (id, crisis_id, kind, headline, text, instruction, at, recipients) = r;
    Ok(CrisisMessage {
        id,
        crisis_id,
        msg_type: MsgType::parse(&kind)
            .ok_or_else(|| StoreError::Database(format!("unknown CAP message type {kind:?}")))?,
        headline,
        text,
        instruction,
        sent_at: ms(at),
        recipients,
    })
}

/// Writes a crisis message with its broadcasts, notices and log line.
async fn write_message(
    conn: &mut Conn,
    tenant: i64,
    crisis: i64,
    m: &NewCrisisMessage<'_>,
) -> Result<CrisisMessage> {
    let now = m.at.as_millisecond();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO crisis_messages (tenant_id, crisis_id, msg_type, headline, text, instruction, sent_at, recipients) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0) RETURNING id",
    )
    .bind(tenant)
    .bind(crisis)
    .bind(m.msg_type.as_str())
    .bind(m.headline)
    .bind(m.text)
    .bind(m.instruction)
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)?;
    // The audiences only: expanded into outbox entries right after the commit
    // (`Subscriptions::expand_broadcasts`), so the banner and the CAP alert are up at once.
    for b in &m.broadcasts {
        let prefix = format!("{}{id}-", b.header_prefix);
        let b = Broadcast {
            header_prefix: &prefix,
            ..b.clone()
        };
        insert_broadcast(conn, tenant, &b, Some(id), now).await?;
    }
    for notice in &m.notices {
        queue_notice(conn, tenant, notice, now).await?;
    }
    insert_log(conn, tenant, crisis, now, "auto", &m.log, &m.actor).await?;
    Ok(CrisisMessage {
        id,
        crisis_id: crisis,
        msg_type: m.msg_type,
        headline: m.headline.to_string(),
        text: m.text.to_string(),
        instruction: m.instruction.to_string(),
        sent_at: m.at,
        recipients: 0,
    })
}

pub(super) async fn insert_log(
    conn: &mut Conn,
    tenant: i64,
    crisis: i64,
    at: i64,
    kind: &str,
    text: &str,
    actor: &str,
) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO crisis_log (tenant_id, crisis_id, at, kind, text, actor) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(tenant)
    .bind(crisis)
    .bind(at)
    .bind(kind)
    .bind(text)
    .bind(actor)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_err)
}

pub(super) async fn one_crisis(conn: &mut Conn, tenant: i64, id: i64) -> Result<Option<Crisis>> {
    let row: Option<CrisisRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CRISIS_COLUMNS} FROM crises WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(row.map(crisis))
}

#[async_trait]
impl Crises for This {
    async fn crisis_templates(&self, tenant: TenantId) -> Result<Vec<Template>> {
        let rows: Vec<(String, String, String, String, String, String, String, String)> =
            sqlx::query_as(
                "SELECT key, name, event, category, severity, headline, instruction, words FROM crisis_templates \
                 WHERE tenant_id = $1 ORDER BY name",
            )
            .bind(tenant.get())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(
                |(key, name, event, category, severity, headline, instruction, words)| Template {
                    key,
                    name,
                    event,
                    category,
                    severity,
                    headline,
                    instruction,
                    words,
                },
            )
            .collect())
    }

    async fn put_crisis_template(
        &self,
        tenant: TenantId,
        t: &Template,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO crisis_templates (tenant_id, key, name, event, category, severity, headline, instruction, words) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tenant_id, key) DO UPDATE SET \
             name = excluded.name, event = excluded.event, category = excluded.category, severity = excluded.severity, \
             headline = excluded.headline, instruction = excluded.instruction, words = excluded.words",
        )
        .bind(tenant.get())
        .bind(&t.key)
        .bind(&t.name)
        .bind(&t.event)
        .bind(&t.category)
        .bind(&t.severity)
        .bind(&t.headline)
        .bind(&t.instruction)
        .bind(&t.words)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await
    }

    async fn start_crisis(
        &self,
        tenant: TenantId,
        new: &NewCrisis,
        alert: &NewCrisisMessage<'_>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<(Crisis, CrisisMessage)> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO crises (tenant_id, template, drill, areas, all_subscribers, started_by, started_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(tenant.get())
        .bind(&new.template)
        .bind(i64::from(new.drill))
        .bind(join(&new.areas))
        .bind(i64::from(new.all_subscribers))
        .bind(&new.started_by)
        .bind(alert.at.as_millisecond())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let message = write_message(&mut tx, tenant.get(), id, alert).await?;
        let started = one_crisis(&mut tx, tenant.get(), id)
            .await?
            .ok_or(StoreError::NotFound("crisis"))?;
        let audit = audit.map(|e| e.with_object(format!("crisis:{id}")));
        commit_with(tx, tenant.get(), audit).await?;
        Ok((started, message))
    }

    async fn add_crisis_message(
        &self,
        tenant: TenantId,
        id: i64,
        message: &NewCrisisMessage<'_>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<CrisisMessage> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let c = one_crisis(&mut tx, tenant.get(), id)
            .await?
            .ok_or(StoreError::NotFound("crisis"))?;
        if c.ended_at.is_some() {
            return Err(StoreError::Conflict("the crisis has ended".into()));
        }
        let written = write_message(&mut tx, tenant.get(), id, message).await?;
        if message.msg_type == MsgType::Cancel {
            sqlx::query("UPDATE crises SET ended_at = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(message.at.as_millisecond())
                .bind(tenant.get())
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        commit_with(tx, tenant.get(), audit).await?;
        Ok(written)
    }

    async fn crisis(&self, tenant: TenantId, id: i64) -> Result<Option<Crisis>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        one_crisis(&mut conn, tenant.get(), id).await
    }

    async fn crises(&self, tenant: TenantId, limit: u32) -> Result<Vec<Crisis>> {
        let rows: Vec<CrisisRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CRISIS_COLUMNS} FROM crises WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2"
        )))
        .bind(tenant.get())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(crisis).collect())
    }

    async fn open_crises(&self, tenant: TenantId) -> Result<Vec<Crisis>> {
        let rows: Vec<CrisisRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CRISIS_COLUMNS} FROM crises WHERE tenant_id = $1 AND ended_at IS NULL ORDER BY id DESC LIMIT 20"
        )))
        .bind(tenant.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(crisis).collect())
    }

    async fn crisis_messages(&self, tenant: TenantId, id: i64) -> Result<Vec<CrisisMessage>> {
        let rows: Vec<MessageRow> = sqlx::query_as(
            "SELECT id, crisis_id, msg_type, headline, text, instruction, sent_at, recipients FROM crisis_messages \
             WHERE tenant_id = $1 AND crisis_id = $2 ORDER BY id",
        )
        .bind(tenant.get())
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(crisis_message).collect()
    }

    async fn crisis_log(&self, tenant: TenantId, id: i64) -> Result<Vec<CrisisLogEntry>> {
        let rows: Vec<(i64, i64, String, String, String)> = sqlx::query_as(
            "SELECT id, at, kind, text, actor FROM crisis_log WHERE tenant_id = $1 AND crisis_id = $2 ORDER BY at, id",
        )
        .bind(tenant.get())
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(id, at, kind, text, actor)| CrisisLogEntry {
                id,
                at: ms(at),
                kind,
                text,
                actor,
            })
            .collect())
    }

    async fn add_crisis_log(
        &self,
        tenant: TenantId,
        crisis: i64,
        kind: &str,
        text: &str,
        actor: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<CrisisLogEntry> {
        let at = Timestamp::now();
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        one_crisis(&mut tx, tenant.get(), crisis)
            .await?
            .ok_or(StoreError::NotFound("crisis"))?;
        let id = insert_log(
            &mut tx,
            tenant.get(),
            crisis,
            at.as_millisecond(),
            kind,
            text,
            actor,
        )
        .await?;
        commit_with(tx, tenant.get(), audit).await?;
        Ok(CrisisLogEntry {
            id,
            at,
            kind: kind.to_string(),
            text: text.to_string(),
            actor: actor.to_string(),
        })
    }

    async fn link_inquiries(
        &self,
        tenant: TenantId,
        crisis: i64,
        inquiries: &[InquiryId],
        actor: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<u64> {
        let now = Timestamp::now().as_millisecond();
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        one_crisis(&mut tx, tenant.get(), crisis)
            .await?
            .ok_or(StoreError::NotFound("crisis"))?;
        let mut added = 0;
        for inquiry in inquiries {
            require_in_tenant(&mut *tx, Owned::Inquiry, tenant.get(), inquiry.get()).await?;
            added += sqlx::query(
                "INSERT INTO crisis_inquiries (tenant_id, crisis_id, inquiry_id, linked_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant.get())
            .bind(crisis)
            .bind(inquiry.get())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        }
        if added > 0 {
            insert_log(
                &mut tx,
                tenant.get(),
                crisis,
                now,
                "auto",
                &format!("{added} inquiries linked"),
                actor,
            )
            .await?;
        }
        commit_with(tx, tenant.get(), audit).await?;
        Ok(added)
    }

    async fn crisis_inquiries(&self, tenant: TenantId, crisis: i64) -> Result<Vec<InquiryId>> {
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT inquiry_id FROM crisis_inquiries WHERE tenant_id = $1 AND crisis_id = $2 ORDER BY inquiry_id",
        )
        .bind(tenant.get())
        .bind(crisis)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(ids.into_iter().map(InquiryId).collect())
    }
}
