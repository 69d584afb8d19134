//! The audit log in SQL: appends to the hash chain, search, pages.

use super::shared::*;

#[async_trait]
impl AuditLog for This {
    async fn append_audit(
        &self,
        tenant: TenantId,
        entry: torg_domain::audit::NewAuditEntry,
        at: Timestamp,
    ) -> Result<torg_domain::audit::AuditEntry> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let entry = insert_audit(&mut tx, tenant.get(), entry, at).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(entry)
    }

    async fn search_audit(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
        limit: u32,
    ) -> Result<Vec<torg_domain::audit::AuditEntry>> {
        let mut q: QueryBuilder<Db> = QueryBuilder::new(
            "SELECT seq, at, actor, action, object, detail, source, hash FROM audit_log WHERE tenant_id = ",
        );
        q.push_bind(tenant.get());
        if let Some(a) = query.actor.as_deref().filter(|s| !s.is_empty()) {
            q.push(" AND actor LIKE ")
                .push_bind(format!("%{}%", crate::like_escape(a)))
                .push(" ESCAPE '\\'");
        }
        if let Some(a) = query.action.as_deref().filter(|s| !s.is_empty()) {
            q.push(" AND action LIKE ")
                .push_bind(format!("{}%", crate::like_escape(a)))
                .push(" ESCAPE '\\'");
        }
        if let Some(o) = query.object.as_deref().filter(|s| !s.is_empty()) {
            q.push(" AND object LIKE ")
                .push_bind(format!("%{}%", crate::like_escape(o)))
                .push(" ESCAPE '\\'");
        }
        if let Some(before) = query.before_seq {
            q.push(" AND seq < ").push_bind(before);
        }
        q.push(" ORDER BY seq DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows: Vec<(i64, i64, String, String, String, String, String, String)> = q
            .build_query_as()
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(audit_entry).collect())
    }

    async fn audit_entries(
        &self,
        tenant: TenantId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<torg_domain::audit::AuditEntry>> {
        let rows: Vec<(i64, i64, String, String, String, String, String, String)> = sqlx::query_as(
            "SELECT seq, at, actor, action, object, detail, source, hash FROM audit_log WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(tenant.get())
        .bind(after_seq)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(audit_entry).collect())
    }
}
