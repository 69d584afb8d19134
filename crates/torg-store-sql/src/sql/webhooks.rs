//! Outgoing webhooks in SQL: the integrations, and their deliveries queued on the outbox
//! together with the mark of what is queued.

use super::shared::*;

fn events_of(list: &str) -> Vec<torg_domain::webhook::Event> {
    torg_domain::webhook::parse_events(list).unwrap_or_default()
}

fn events_text(events: &[torg_domain::webhook::Event]) -> String {
    events
        .iter()
        .map(|e| e.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

#[async_trait]
impl Webhooks for This {
    async fn add_webhook(
        &self,
        tenant: TenantId,
        new: NewWebhook,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<i64> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO webhooks (tenant_id, url, events, secret, after_seq, created_at) \
             VALUES ($1, $2, $3, $4, (SELECT COALESCE(MAX(seq), 0) FROM audit_log WHERE tenant_id = $1), $5) RETURNING id",
        )
        .bind(tenant.get())
        .bind(&new.url)
        .bind(events_text(&new.events))
        .bind(&new.secret_sealed)
        .bind(new.created_at.as_millisecond())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let audit = audit.map(|a| a.with_object(format!("webhook:{id}")));
        commit_with(tx, tenant.get(), audit).await?;
        Ok(id)
    }

    async fn remove_webhook(
        &self,
        tenant: TenantId,
        id: i64,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let gone = sqlx::query("DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.get())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        if gone == 0 {
            return Ok(false);
        }
        // What was still waiting for it is not sent.
        sqlx::query(
            "UPDATE outbox SET status = 'failed', last_error = 'the webhook was removed' \
             WHERE tenant_id = $1 AND channel = 'api' AND recipient = $2 AND status = 'pending'",
        )
        .bind(tenant.get())
        .bind(id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await?;
        Ok(true)
    }

    async fn webhooks(&self, tenant: TenantId) -> Result<Vec<Webhook>> {
        let rows: Vec<(i64, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, url, events, secret, after_seq, created_at FROM webhooks WHERE tenant_id = $1 ORDER BY id",
        )
        .bind(tenant.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(id, url, events, secret, after_seq, created)| Webhook {
                id,
                tenant_id: tenant,
                url,
                events: events_of(&events),
                secret,
                after_seq,
                created_at: ts(created),
            })
            .collect())
    }

    async fn webhook_tenants(&self) -> Result<Vec<TenantId>> {
        let rows: Vec<i64> =
            sqlx::query_scalar("SELECT DISTINCT tenant_id FROM webhooks ORDER BY tenant_id")
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(rows.into_iter().map(TenantId).collect())
    }

    async fn queue_webhook_events(
        &self,
        tenant: TenantId,
        webhook_id: i64,
        notices: &[Notice],
        through_seq: i64,
        at: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let moved = sqlx::query(
            "UPDATE webhooks SET after_seq = $3 WHERE tenant_id = $1 AND id = $2 AND after_seq < $3",
        )
        .bind(tenant.get())
        .bind(webhook_id)
        .bind(through_seq)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        // Another pass queued these already (or the webhook is gone): nothing twice.
        if moved == 0 {
            return Ok(());
        }
        for n in notices {
            sqlx::query(
                "INSERT INTO outbox (tenant_id, channel, recipient, subject, header_id, refs, status, next_attempt_at, created_at, body) \
                 VALUES ($1, $2, $3, $4, $5, '', 'pending', $6, $6, $7) ON CONFLICT (tenant_id, header_id) DO NOTHING",
            )
            .bind(tenant.get())
            .bind(n.out.channel.as_str())
            .bind(&n.out.recipient)
            .bind(&n.out.subject)
            .bind(&n.out.header_id)
            .bind(at.as_millisecond())
            .bind(&n.body)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn webhook_deliveries(
        &self,
        tenant: TenantId,
        webhook_id: i64,
        limit: u32,
    ) -> Result<Vec<WebhookDelivery>> {
        type Row = (String, String, i64, Option<String>, i64, Option<i64>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT subject, status, attempts, last_error, created_at, sent_at FROM outbox \
             WHERE tenant_id = $1 AND channel = 'api' AND recipient = $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(tenant.get())
        .bind(webhook_id.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(
                |(event, status, attempts, last_error, created, sent)| WebhookDelivery {
                    event,
                    status,
                    attempts,
                    last_error,
                    created_at: ts(created),
                    sent_at: sent.map(ts),
                },
            )
            .collect())
    }
}
