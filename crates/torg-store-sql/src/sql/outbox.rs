//! The outbox in SQL: claims with a lease, marks, retries, failures, delivery reports, notices; connector health.

use super::shared::*;

#[async_trait]
impl Outbox for This {
    async fn queue_notices(
        &self,
        tenant: TenantId,
        inquiry_id: Option<InquiryId>,
        notices: &[Notice],
        at: Timestamp,
    ) -> Result<()> {
        if let Some(id) = inquiry_id {
            require_in_tenant(&self.pool, Owned::Inquiry, tenant.get(), id.get()).await?;
        }
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        for notice in notices {
            insert_outgoing(
                &mut tx,
                tenant.get(),
                inquiry_id.map(i64::from),
                None,
                &notice.out,
                at.as_millisecond(),
                Some(&notice.body),
            )
            .await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn set_connector_status(&self, s: &ConnectorStatus) -> Result<()> {
        sqlx::query(
            "INSERT INTO connector_status (tenant_id, connector, ok, detail, at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, connector) DO UPDATE SET ok = excluded.ok, detail = excluded.detail, at = excluded.at",
        )
        .bind(s.tenant_id.get())
        .bind(&s.connector)
        .bind(i64::from(s.ok))
        .bind(&s.detail)
        .bind(s.at.as_millisecond())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn connector_statuses(&self, tenant: Option<TenantId>) -> Result<Vec<ConnectorStatus>> {
        let rows: Vec<(i64, String, i64, String, i64)> = sqlx::query_as(
            "SELECT tenant_id, connector, ok, detail, at FROM connector_status WHERE ($1 IS NULL OR tenant_id = $1) ORDER BY tenant_id, connector",
        )
        .bind(tenant.map(i64::from))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(tenant_id, connector, ok, detail, at)| ConnectorStatus {
                tenant_id: TenantId(tenant_id),
                connector,
                ok: ok != 0,
                detail,
                at: ts(at),
            })
            .collect())
    }

    async fn claim_outbox(
        &self,
        channel: torg_domain::Channel,
        now: Timestamp,
        lease: jiff::SignedDuration,
        limit: u32,
    ) -> Result<Vec<OutboxItem>> {
        let now_ms = now.as_millisecond();
        let until = (now + lease).as_millisecond();
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM outbox WHERE channel = $1 AND status = 'pending' AND next_attempt_at <= $2 AND lease_until <= $2 ORDER BY id LIMIT $3",
        )
        .bind(channel.as_str())
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_err)?;
        let mut claimed = Vec::with_capacity(ids.len());
        for id in ids {
            // The lease is taken only if nobody took it meanwhile (PostgreSQL re-checks).
            let row: Option<OutboxRow> = sqlx::query_as(
                "UPDATE outbox SET lease_until = $1, attempts = attempts + 1 WHERE id = $2 AND status = 'pending' AND lease_until <= $3 \
                 RETURNING id, tenant_id, inquiry_id, message_id, channel, recipient, subject, header_id, in_reply_to, refs, media, unsubscribe, attempts, \
                 COALESCE((SELECT b.body FROM broadcasts b WHERE b.id = outbox.broadcast_id), body, (SELECT m.body FROM messages m WHERE m.tenant_id = outbox.tenant_id AND m.id = outbox.message_id), '') AS body",
            )
            .bind(until)
            .bind(id)
            .bind(now_ms)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db_err)?;
            if let Some(row) = row {
                claimed.push(row.into_item()?);
            }
        }
        tx.commit().await.map_err(db_err)?;
        Ok(claimed)
    }

    async fn outbox_sent(&self, ids: &[i64], at: Timestamp) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await.map_err(db_err)?;
        for id in ids {
            // Only what is still pending: a delivery report may have come first.
            sqlx::query(
                "UPDATE outbox SET status = 'sent', sent_at = $1, last_error = NULL WHERE id = $2 AND status = 'pending'",
            )
            .bind(at.as_millisecond())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn outbox_next_due(
        &self,
        channel: torg_domain::Channel,
        after: Timestamp,
    ) -> Result<Option<Timestamp>> {
        let at: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE channel = $1 AND status = 'pending' AND next_attempt_at > $2",
        )
        .bind(channel.as_str())
        .bind(after.as_millisecond())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(at.map(ts))
    }

    async fn outbox_posted(&self, id: i64, address: &str, at: Timestamp) -> Result<()> {
        sqlx::query(
            "UPDATE outbox SET status = 'sent', sent_at = $1, last_error = NULL, external_ref = $2 WHERE id = $3",
        )
        .bind(at.as_millisecond())
        .bind(address)
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(())
    }

    async fn outbox_delivery_report(
        &self,
        tenant: TenantId,
        id: i64,
        delivered: bool,
        report: &str,
        at: Timestamp,
    ) -> Result<()> {
        let (status, delivered_at, error) = if delivered {
            ("delivered", Some(at.as_millisecond()), None)
        } else {
            ("undelivered", None, Some(report))
        };
        // A pending entry with a report went out: its claim (attempts) says it was handed on.
        let done = sqlx::query(
            "UPDATE outbox SET status = $1, delivered_at = $2, last_error = $3, sent_at = COALESCE(sent_at, $6), lease_until = 0 \
             WHERE tenant_id = $4 AND id = $5 AND (status IN ('sent', 'delivered', 'undelivered') OR (status = 'pending' AND attempts > 0))",
        )
        .bind(status)
        .bind(delivered_at)
        .bind(error)
        .bind(tenant.get())
        .bind(id)
        .bind(at.as_millisecond())
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("sent message"));
        }
        Ok(())
    }

    async fn outbox_taken(&self, tenant: TenantId, id: i64, at: Timestamp) -> Result<()> {
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM outbox WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.get())
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        match status.as_deref() {
            None => Err(StoreError::NotFound("outgoing message")),
            // Only a claimed entry (attempted) can have reached the gateway.
            Some("pending") => {
                sqlx::query(
                    "UPDATE outbox SET status = 'sent', sent_at = $1, last_error = NULL, lease_until = 0 \
                     WHERE tenant_id = $2 AND id = $3 AND status = 'pending' AND attempts > 0",
                )
                .bind(at.as_millisecond())
                .bind(tenant.get())
                .bind(id)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
                Ok(())
            }
            Some(_) => Ok(()),
        }
    }

    async fn outbox_retry(&self, id: i64, next_at: Timestamp, error: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET next_attempt_at = $1, lease_until = 0, last_error = $2 WHERE id = $3 AND status = 'pending'")
            .bind(next_at.as_millisecond())
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn outbox_failed(&self, id: i64, error: &str) -> Result<()> {
        sqlx::query("UPDATE outbox SET status = 'failed', last_error = $1 WHERE id = $2")
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn deliveries(
        &self,
        tenant: TenantId,
        inquiry_id: InquiryId,
    ) -> Result<Vec<(i64, DeliveryState)>> {
        let rows: Vec<(i64, String, i64, Option<String>, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT message_id, status, attempts, last_error, sent_at, delivered_at FROM outbox WHERE tenant_id = $1 AND inquiry_id = $2 AND message_id IS NOT NULL ORDER BY id",
        )
        .bind(tenant.get())
        .bind(inquiry_id.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(
                |(message_id, status, attempts, last_error, sent_at, delivered_at)| {
                    let state =
                        delivery_state(&status, attempts, last_error, sent_at, delivered_at);
                    (message_id, state)
                },
            )
            .collect())
    }
}

/// An outbox row's columns as the state of its delivery.
pub(super) fn delivery_state(
    status: &str,
    attempts: i64,
    last_error: Option<String>,
    sent_at: Option<i64>,
    delivered_at: Option<i64>,
) -> DeliveryState {
    match (status, sent_at) {
        ("delivered", _) => DeliveryState::Delivered {
            at: ts(delivered_at.or(sent_at).unwrap_or_default()),
        },
        ("undelivered", _) => DeliveryState::Undelivered {
            report: last_error.unwrap_or_default(),
        },
        ("sent", Some(at)) => DeliveryState::Sent { at: ts(at) },
        ("failed", _) => DeliveryState::Failed {
            attempts,
            error: last_error.unwrap_or_default(),
        },
        _ => DeliveryState::Pending {
            attempts,
            last_error,
        },
    }
}
