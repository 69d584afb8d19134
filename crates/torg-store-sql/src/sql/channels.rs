//! The channels' settings in SQL: mailbox and quarantine, SMS gateway, code words and consent, social accounts, the channel registry.

use super::shared::*;

#[async_trait]
impl ChannelSettings for This {
    async fn set_mail_account(
        &self,
        tenant: TenantId,
        account: Option<MailAccount>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        sqlx::query("DELETE FROM mail_accounts WHERE tenant_id = $1")
            .bind(tenant.get())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if let Some(a) = account {
            sqlx::query(
                "INSERT INTO mail_accounts (tenant_id, address, display_name, imap_host, imap_port, imap_security, imap_user, imap_password, imap_folder, \
                 smtp_host, smtp_port, smtp_security, smtp_user, smtp_password, max_message_bytes, blocked_extensions) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            )
            .bind(tenant.get())
            .bind(&a.address)
            .bind(&a.display_name)
            .bind(&a.imap.host)
            .bind(i64::from(a.imap.port))
            .bind(&a.imap.security)
            .bind(&a.imap.user)
            .bind(&a.imap.password)
            .bind(&a.imap_folder)
            .bind(&a.smtp.host)
            .bind(i64::from(a.smtp.port))
            .bind(&a.smtp.security)
            .bind(&a.smtp.user)
            .bind(&a.smtp.password)
            .bind(a.max_message_bytes)
            .bind(a.blocked_extensions.join(","))
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        if let Some(entry) = audit {
            insert_audit(&mut tx, tenant.get(), entry, Timestamp::now()).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn set_sms_gateway(
        &self,
        tenant: TenantId,
        gateway: Option<SmsGateway>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        sqlx::query("DELETE FROM sms_gateways WHERE tenant_id = $1")
            .bind(tenant.get())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if let Some(g) = gateway {
            sqlx::query("INSERT INTO sms_gateways (tenant_id, sendsms_url, username, password, sender, inbound_key) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(tenant.get())
                .bind(&g.sendsms_url)
                .bind(&g.username)
                .bind(&g.password)
                .bind(&g.sender)
                .bind(&g.inbound_key)
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        if let Some(entry) = audit {
            insert_audit(&mut tx, tenant.get(), entry, Timestamp::now()).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn sms_gateway(&self, tenant: TenantId) -> Result<Option<SmsGateway>> {
        let row: Option<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT sendsms_url, username, password, sender, inbound_key FROM sms_gateways WHERE tenant_id = $1",
        )
        .bind(tenant.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(
            |(sendsms_url, username, password, sender, inbound_key)| SmsGateway {
                sendsms_url,
                username,
                password,
                sender,
                inbound_key,
            },
        ))
    }

    async fn sms_gateways(&self) -> Result<Vec<(TenantId, SmsGateway)>> {
        let rows: Vec<(i64, String, String, String, String, String)> = sqlx::query_as(
            "SELECT tenant_id, sendsms_url, username, password, sender, inbound_key FROM sms_gateways ORDER BY tenant_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(
                |(t, sendsms_url, username, password, sender, inbound_key)| {
                    (
                        TenantId(t),
                        SmsGateway {
                            sendsms_url,
                            username,
                            password,
                            sender,
                            inbound_key,
                        },
                    )
                },
            )
            .collect())
    }

    async fn sms_keywords(&self, tenant: TenantId) -> Result<Vec<SmsKeyword>> {
        let rows: Vec<(String, Option<i64>, String)> = sqlx::query_as(
            "SELECT keyword, unit_id, reply FROM sms_keywords WHERE tenant_id = $1 ORDER BY keyword",
        )
        .bind(tenant.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(keyword, unit_id, reply)| SmsKeyword {
                keyword,
                unit_id: unit_id.map(UnitId),
                reply,
            })
            .collect())
    }

    async fn set_sms_keyword(
        &self,
        tenant: TenantId,
        keyword: &SmsKeyword,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        if let Some(unit) = keyword.unit_id {
            require_in_tenant(&mut *tx, Owned::Unit, tenant.get(), unit.get()).await?;
        }
        sqlx::query(
            "INSERT INTO sms_keywords (tenant_id, keyword, unit_id, reply) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, keyword) DO UPDATE SET unit_id = excluded.unit_id, reply = excluded.reply",
        )
        .bind(tenant.get())
        .bind(&keyword.keyword)
        .bind(keyword.unit_id.map(i64::from))
        .bind(&keyword.reply)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await
    }

    async fn delete_sms_keyword(
        &self,
        tenant: TenantId,
        keyword: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let done = sqlx::query("DELETE FROM sms_keywords WHERE tenant_id = $1 AND keyword = $2")
            .bind(tenant.get())
            .bind(keyword)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        // Nothing removed: nothing to log either.
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        commit_with(tx, tenant.get(), audit).await?;
        Ok(true)
    }

    async fn set_sms_consent(
        &self,
        tenant: TenantId,
        phone: &str,
        stopped: bool,
        at: Timestamp,
    ) -> Result<()> {
        if stopped {
            sqlx::query(
                "INSERT INTO sms_consent (tenant_id, phone, stopped_at) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, phone) DO UPDATE SET stopped_at = excluded.stopped_at",
            )
            .bind(tenant.get())
            .bind(phone)
            .bind(at.as_millisecond())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        } else {
            sqlx::query("DELETE FROM sms_consent WHERE tenant_id = $1 AND phone = $2")
                .bind(tenant.get())
                .bind(phone)
                .execute(&self.pool)
                .await
                .map_err(db_err)?;
        }
        Ok(())
    }

    async fn sms_stopped(&self, tenant: TenantId, phone: &str) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sms_consent WHERE tenant_id = $1 AND phone = $2",
        )
        .bind(tenant.get())
        .bind(phone)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(n > 0)
    }

    async fn channel_accounts(&self, tenant: TenantId) -> Result<Vec<ChannelAccount>> {
        let rows: Vec<ChannelAccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {CHANNEL_ACCOUNT_COLUMNS} FROM channel_accounts WHERE tenant_id = $1 ORDER BY channel, name, id"
        )))
        .bind(tenant.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn propose_channel_account(
        &self,
        tenant: TenantId,
        new: &NewChannelAccount,
        at: Timestamp,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<ChannelAccount> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        if let Some(unit) = new.owner_unit_id {
            require_in_tenant(&mut *tx, Owned::Unit, tenant.get(), unit.get()).await?;
        }
        let row: ChannelAccountRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO channel_accounts (tenant_id, channel, name, address, owner_unit_id, purpose, ambition, opening_hours, status, proposed_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'proposed', $9, $10) RETURNING {CHANNEL_ACCOUNT_COLUMNS}"
        )))
        .bind(tenant.get())
        .bind(new.channel.as_str())
        .bind(&new.name)
        .bind(&new.address)
        .bind(new.owner_unit_id.map(i64::from))
        .bind(&new.purpose)
        .bind(new.ambition.as_str())
        .bind(&new.opening_hours)
        .bind(new.proposed_by.map(i64::from))
        .bind(at.as_millisecond())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let account: ChannelAccount = row.try_into()?;
        // The entry names the account, known only now.
        let audit = audit.map(|e| e.with_object(format!("channel_account:{}", account.id)));
        commit_with(tx, tenant.get(), audit).await?;
        Ok(account)
    }

    async fn decide_channel_account(
        &self,
        tenant: TenantId,
        id: i64,
        status: torg_domain::registry::AccountStatus,
        by_user: UserId,
        at: Timestamp,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<ChannelAccount> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let row: Option<ChannelAccountRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE channel_accounts SET status = $1, decided_by = $2, decided_at = $3 WHERE tenant_id = $4 AND id = $5 RETURNING {CHANNEL_ACCOUNT_COLUMNS}"
        )))
        .bind(status.as_str())
        .bind(by_user.get())
        .bind(at.as_millisecond())
        .bind(tenant.get())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let account: ChannelAccount = row
            .ok_or(StoreError::NotFound("channel account"))?
            .try_into()?;
        commit_with(tx, tenant.get(), audit).await?;
        Ok(account)
    }

    async fn channel_account_approved(
        &self,
        tenant: TenantId,
        channel: torg_domain::Channel,
        address: &str,
    ) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM channel_accounts WHERE tenant_id = $1 AND channel = $2 AND address = $3 AND status = 'approved'",
        )
        .bind(tenant.get())
        .bind(channel.as_str())
        .bind(address)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(n > 0)
    }

    async fn set_social_account(
        &self,
        a: &SocialAccount,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO social_accounts (tenant_id, channel, account, api_base, access_token, app_secret, verify_token, registry_address, cursor) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tenant_id, channel, account) DO UPDATE SET \
             api_base = excluded.api_base, access_token = excluded.access_token, app_secret = excluded.app_secret, \
             verify_token = excluded.verify_token, registry_address = excluded.registry_address",
        )
        .bind(a.tenant_id.get())
        .bind(a.channel.as_str())
        .bind(&a.account)
        .bind(&a.api_base)
        .bind(&a.access_token)
        .bind(&a.app_secret)
        .bind(&a.verify_token)
        .bind(&a.registry_address)
        .bind(&a.cursor)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some(entry) = audit {
            insert_audit(&mut tx, a.tenant_id.get(), entry, Timestamp::now()).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn social_accounts(&self, tenant: Option<TenantId>) -> Result<Vec<SocialAccount>> {
        type Row = (
            i64,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            String,
            i64,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT s.tenant_id, s.channel, s.account, s.api_base, s.access_token, s.app_secret, s.verify_token, s.registry_address, s.cursor, \
             (SELECT COUNT(*) FROM channel_accounts c WHERE c.tenant_id = s.tenant_id AND c.channel = s.channel \
              AND c.address = s.registry_address AND c.status = 'approved') \
             FROM social_accounts s WHERE ($1 IS NULL OR s.tenant_id = $1) ORDER BY s.tenant_id, s.channel, s.account",
        )
        .bind(tenant.map(i64::from))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(
                |(
                    tenant_id,
                    channel,
                    account,
                    api_base,
                    access_token,
                    app_secret,
                    verify_token,
                    registry_address,
                    cursor,
                    approved,
                )| {
                    Ok(SocialAccount {
                        tenant_id: TenantId(tenant_id),
                        channel: channel.parse().map_err(
                            |e: torg_domain::channel::UnknownChannel| {
                                StoreError::Database(e.to_string())
                            },
                        )?,
                        account,
                        api_base,
                        access_token,
                        app_secret,
                        verify_token,
                        registry_address,
                        cursor,
                        approved: approved > 0,
                    })
                },
            )
            .collect()
    }

    async fn set_social_cursor(
        &self,
        tenant: TenantId,
        channel: torg_domain::Channel,
        account: &str,
        cursor: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE social_accounts SET cursor = $1 WHERE tenant_id = $2 AND channel = $3 AND account = $4")
            .bind(cursor)
            .bind(tenant.get())
            .bind(channel.as_str())
            .bind(account)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn mail_account(&self, tenant: TenantId) -> Result<Option<MailAccount>> {
        Ok(self
            .mail_accounts()
            .await?
            .into_iter()
            .find(|(t, _)| *t == tenant)
            .map(|(_, a)| a))
    }

    async fn mail_accounts(&self) -> Result<Vec<(TenantId, MailAccount)>> {
        let rows: Vec<MailAccountRow> = sqlx::query_as(
            "SELECT tenant_id, address, display_name, imap_host, imap_port, imap_security, imap_user, imap_password, imap_folder, \
             smtp_host, smtp_port, smtp_security, smtp_user, smtp_password, max_message_bytes, blocked_extensions FROM mail_accounts ORDER BY tenant_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(MailAccountRow::into_account).collect())
    }

    async fn quarantine_mail(
        &self,
        tenant: TenantId,
        mail: &NewQuarantinedMail,
        at: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let kept = sqlx::query(
            "INSERT INTO mail_quarantine (tenant_id, message_id, sender, subject, reason, raw, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (tenant_id, message_id) DO NOTHING",
        )
        .bind(tenant.get())
        .bind(&mail.message_id)
        .bind(&mail.sender)
        .bind(&mail.subject)
        .bind(&mail.reason)
        .bind(&mail.raw)
        .bind(at.as_millisecond())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected();
        // The notice goes with the first keeping only (a refetch sends nothing again).
        if let Some(notice) = mail.notice.as_ref().filter(|_| kept == 1) {
            insert_outgoing(
                &mut tx,
                tenant.get(),
                None,
                None,
                &notice.out,
                at.as_millisecond(),
                Some(&notice.body),
            )
            .await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn quarantined_raw(&self, tenant: TenantId, id: i64) -> Result<Option<Vec<u8>>> {
        sqlx::query_scalar("SELECT raw FROM mail_quarantine WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.get())
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn remove_quarantined(
        &self,
        tenant: TenantId,
        id: i64,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let done = sqlx::query("DELETE FROM mail_quarantine WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.get())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("quarantined mail"));
        }
        commit_with(tx, tenant.get(), audit).await
    }

    async fn quarantined_mail(&self, tenant: TenantId, limit: u32) -> Result<Vec<QuarantinedMail>> {
        let rows: Vec<(i64, String, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT id, message_id, sender, subject, reason, CAST(LENGTH(raw) AS BIGINT), received_at FROM mail_quarantine WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(tenant.get())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(
                |(id, message_id, sender, subject, reason, size, at)| QuarantinedMail {
                    id,
                    message_id,
                    sender,
                    subject,
                    reason,
                    size,
                    received_at: ts(at),
                },
            )
            .collect())
    }
}
