//! Policies in SQL: routing rules, canned replies, deadline policies, the working calendar, acknowledgement texts, peaks and the duty rota.

use super::shared::*;

#[async_trait]
impl Policies for This {
    async fn create_routing_rule(
        &self,
        tenant: TenantId,
        rule: RoutingRule,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<i64> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        require_in_tenant(&mut *tx, Owned::Unit, tenant.get(), rule.unit_id.get()).await?;
        let value: i64 = sqlx::query_scalar(
            "INSERT INTO routing_rules (tenant_id, position, keyword, topic, channel, unit_id) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(tenant.get())
        .bind(rule.position)
        .bind(&rule.keyword)
        .bind(&rule.topic)
        .bind(rule.channel.map(|c| c.as_str()))
        .bind(rule.unit_id.get())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await?;
        Ok(value)
    }

    async fn list_routing_rules(&self, tenant: TenantId) -> Result<Vec<(i64, RoutingRule)>> {
        let rows: Vec<RoutingRuleRow> = sqlx::query_as(
            "SELECT id, position, keyword, topic, channel, unit_id FROM routing_rules WHERE tenant_id = $1 ORDER BY position, id",
        )
        .bind(tenant.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn create_deadline_policy(
        &self,
        tenant: TenantId,
        rule: PolicyRule,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<i64> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        if let Some(unit) = rule.unit_id {
            require_in_tenant(&mut *tx, Owned::Unit, tenant.get(), unit.get()).await?;
        }
        let value: i64 = sqlx::query_scalar(
            "INSERT INTO deadline_policies (tenant_id, channel, unit_id, topic, policy) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(tenant.get())
        .bind(rule.channel.map(|c| c.as_str()))
        .bind(rule.unit_id.map(i64::from))
        .bind(&rule.topic)
        .bind(rule.policy.to_string())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await?;
        Ok(value)
    }

    async fn list_deadline_policies(&self, tenant: TenantId) -> Result<Vec<(i64, PolicyRule)>> {
        let rows: Vec<PolicyRow> =
            sqlx::query_as("SELECT id, channel, unit_id, topic, policy FROM deadline_policies WHERE tenant_id = $1 ORDER BY id")
                .bind(tenant.get())
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn set_opening_hours(
        &self,
        tenant: TenantId,
        weekly: &[torg_domain::calendar::DayHours; 7],
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO opening_hours (tenant_id, weekly) VALUES ($1, $2) ON CONFLICT (tenant_id) DO UPDATE SET weekly = $2",
        )
        .bind(tenant.get())
        .bind(torg_domain::calendar::format_weekly(weekly))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await
    }

    async fn opening_hours(
        &self,
        tenant: TenantId,
    ) -> Result<Option<[torg_domain::calendar::DayHours; 7]>> {
        let weekly: Option<String> =
            sqlx::query_scalar("SELECT weekly FROM opening_hours WHERE tenant_id = $1")
                .bind(tenant.get())
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        weekly
            .map(|w| {
                torg_domain::calendar::parse_weekly(&w)
                    .map_err(|e| StoreError::Database(e.to_string()))
            })
            .transpose()
    }

    async fn set_scoped_opening_hours(
        &self,
        tenant: TenantId,
        scope: torg_domain::calendar::HoursScope,
        weekly: &[torg_domain::calendar::DayHours; 7],
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        if let torg_domain::calendar::HoursScope::Unit(unit) = scope {
            require_in_tenant(&mut *tx, Owned::Unit, tenant.get(), unit.get()).await?;
        }
        sqlx::query(
            "INSERT INTO scoped_opening_hours (tenant_id, scope, weekly) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, scope) DO UPDATE SET weekly = $3",
        )
        .bind(tenant.get())
        .bind(scope.to_string())
        .bind(torg_domain::calendar::format_weekly(weekly))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await
    }

    async fn scoped_opening_hours(
        &self,
        tenant: TenantId,
    ) -> Result<
        Vec<(
            torg_domain::calendar::HoursScope,
            [torg_domain::calendar::DayHours; 7],
        )>,
    > {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT scope, weekly FROM scoped_opening_hours WHERE tenant_id = $1 ORDER BY scope",
        )
        .bind(tenant.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(scope, weekly)| {
                Ok((
                    scope.parse().map_err(StoreError::Database)?,
                    torg_domain::calendar::parse_weekly(&weekly)
                        .map_err(|e| StoreError::Database(e.to_string()))?,
                ))
            })
            .collect()
    }

    async fn set_closed_day(
        &self,
        tenant: TenantId,
        day: ClosedDay,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO closed_days (tenant_id, day, closes_at, note) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, day) DO UPDATE SET closes_at = $3, note = $4",
        )
        .bind(tenant.get())
        .bind(day.date.to_string())
        .bind(day.closes_at.map(|t| t.strftime("%H:%M").to_string()))
        .bind(&day.note)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await
    }

    async fn list_closed_days(&self, tenant: TenantId) -> Result<Vec<ClosedDay>> {
        let rows: Vec<(String, Option<String>, String)> = sqlx::query_as(
            "SELECT day, closes_at, note FROM closed_days WHERE tenant_id = $1 ORDER BY day",
        )
        .bind(tenant.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(day, closes_at, note)| {
                let bad = |what: &str| StoreError::Database(format!("stored {what} is not valid"));
                Ok(ClosedDay {
                    date: day.parse().map_err(|_| bad("closed day"))?,
                    closes_at: closes_at
                        .map(|t| t.parse().map_err(|_| bad("closing time")))
                        .transpose()?,
                    note,
                })
            })
            .collect()
    }

    async fn set_acknowledgement_template(
        &self,
        tenant: TenantId,
        language: &str,
        body: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO acknowledgement_templates (tenant_id, language, body) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, language) DO UPDATE SET body = $3",
        )
        .bind(tenant.get())
        .bind(language)
        .bind(body)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await
    }

    async fn acknowledgement_templates(&self, tenant: TenantId) -> Result<Vec<(String, String)>> {
        sqlx::query_as("SELECT language, body FROM acknowledgement_templates WHERE tenant_id = $1 ORDER BY language")
            .bind(tenant.get())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn create_peak(
        &self,
        tenant: TenantId,
        peak: torg_domain::deadline::PlannedPeak,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<i64> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let value: i64 = sqlx::query_scalar(
            "INSERT INTO planned_peaks (tenant_id, name, starts_at, ends_at, policy, staffing_note) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(tenant.get())
        .bind(&peak.name)
        .bind(peak.starts_at.as_millisecond())
        .bind(peak.ends_at.as_millisecond())
        .bind(peak.policy.to_string())
        .bind(&peak.staffing_note)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await?;
        Ok(value)
    }

    async fn peaks(
        &self,
        tenant: TenantId,
        after: Timestamp,
    ) -> Result<Vec<torg_domain::deadline::PlannedPeak>> {
        let rows: Vec<(i64, String, i64, i64, String, String)> = sqlx::query_as(
            "SELECT id, name, starts_at, ends_at, policy, staffing_note FROM planned_peaks WHERE tenant_id = $1 AND ends_at > $2 ORDER BY starts_at, id",
        )
        .bind(tenant.get())
        .bind(after.as_millisecond())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(id, name, s, e, policy, staffing_note)| {
                Ok(torg_domain::deadline::PlannedPeak {
                    id,
                    name,
                    starts_at: ts(s),
                    ends_at: ts(e),
                    policy: policy
                        .parse()
                        .map_err(|e: torg_domain::deadline::NotAPolicy| {
                            StoreError::Database(e.to_string())
                        })?,
                    staffing_note,
                })
            })
            .collect()
    }

    async fn create_shift(
        &self,
        tenant: TenantId,
        group: &str,
        user_id: UserId,
        starts_at: Timestamp,
        ends_at: Timestamp,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<torg_domain::duty::Shift> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO duty_shifts (tenant_id, channel_group, user_id, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(tenant.get())
        .bind(group)
        .bind(user_id.get())
        .bind(starts_at.as_millisecond())
        .bind(ends_at.as_millisecond())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await?;
        Ok(torg_domain::duty::Shift {
            id,
            group: group.to_string(),
            user_id,
            starts_at,
            ends_at,
            handover_note: String::new(),
        })
    }

    async fn shifts(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<torg_domain::duty::Shift>> {
        let rows: Vec<(i64, String, i64, i64, i64, String)> = sqlx::query_as(
            "SELECT id, channel_group, user_id, starts_at, ends_at, handover_note FROM duty_shifts \
             WHERE tenant_id = $1 AND ends_at > $2 AND starts_at < $3 ORDER BY starts_at, id",
        )
        .bind(tenant.get())
        .bind(from.as_millisecond())
        .bind(to.as_millisecond())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(
                |(id, group, user_id, s, e, handover_note)| torg_domain::duty::Shift {
                    id,
                    group,
                    user_id: UserId(user_id),
                    starts_at: ts(s),
                    ends_at: ts(e),
                    handover_note,
                },
            )
            .collect())
    }

    async fn set_handover_note(
        &self,
        tenant: TenantId,
        shift_id: i64,
        note: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let done = sqlx::query(
            "UPDATE duty_shifts SET handover_note = $1 WHERE tenant_id = $2 AND id = $3",
        )
        .bind(note)
        .bind(tenant.get())
        .bind(shift_id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("shift"));
        }
        commit_with(tx, tenant.get(), audit).await
    }

    async fn create_canned_reply(
        &self,
        tenant: TenantId,
        title: &str,
        body: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<CannedReply> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let row: CannedReplyRow = sqlx::query_as(
            "INSERT INTO canned_replies (tenant_id, title, body) VALUES ($1, $2, $3) RETURNING id, title, body",
        )
        .bind(tenant.get())
        .bind(title)
        .bind(body)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await?;
        Ok(row.into())
    }

    async fn list_canned_replies(&self, tenant: TenantId) -> Result<Vec<CannedReply>> {
        let rows: Vec<CannedReplyRow> = sqlx::query_as(
            "SELECT id, title, body FROM canned_replies WHERE tenant_id = $1 ORDER BY title",
        )
        .bind(tenant.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn set_routing_rule_positions(
        &self,
        tenant: TenantId,
        positions: &[(i64, i64)],
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        for (id, position) in positions {
            let changed = sqlx::query(
                "UPDATE routing_rules SET position = $3 WHERE tenant_id = $1 AND id = $2",
            )
            .bind(tenant.get())
            .bind(id)
            .bind(position)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound("routing rule"));
            }
        }
        commit_with(tx, tenant.get(), audit).await
    }

    async fn update_canned_reply(
        &self,
        tenant: TenantId,
        id: i64,
        title: &str,
        body: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let changed = sqlx::query(
            "UPDATE canned_replies SET title = $3, body = $4 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.get())
        .bind(id)
        .bind(title)
        .bind(body)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        commit_with(tx, tenant.get(), audit).await?;
        Ok(true)
    }

    async fn remove_policy_item(
        &self,
        tenant: TenantId,
        item: &PolicyItem,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<bool> {
        let (sql, id, text): (&'static str, i64, Option<String>) = match item {
            PolicyItem::RoutingRule(id) => (
                "DELETE FROM routing_rules WHERE tenant_id = $1 AND id = $2",
                *id,
                None,
            ),
            PolicyItem::CannedReply(id) => (
                "DELETE FROM canned_replies WHERE tenant_id = $1 AND id = $2",
                *id,
                None,
            ),
            PolicyItem::DeadlinePolicy(id) => (
                "DELETE FROM deadline_policies WHERE tenant_id = $1 AND id = $2",
                *id,
                None,
            ),
            PolicyItem::Peak(id) => (
                "DELETE FROM planned_peaks WHERE tenant_id = $1 AND id = $2",
                *id,
                None,
            ),
            PolicyItem::ClosedDay(day) => (
                "DELETE FROM closed_days WHERE tenant_id = $1 AND day = $2",
                0,
                Some(day.to_string()),
            ),
            PolicyItem::ScopedHours(scope) => (
                "DELETE FROM scoped_opening_hours WHERE tenant_id = $1 AND scope = $2",
                0,
                Some(scope.to_string()),
            ),
        };
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let q = sqlx::query(sql).bind(tenant.get());
        let q = match text {
            Some(text) => q.bind(text),
            None => q.bind(id),
        };
        let gone = q.execute(&mut *tx).await.map_err(db_err)?.rows_affected();
        if gone == 0 {
            return Ok(false);
        }
        commit_with(tx, tenant.get(), audit).await?;
        Ok(true)
    }
}
