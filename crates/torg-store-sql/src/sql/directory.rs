//! The directory's SQL: municipalities, units, users, sessions, API tokens, single sign-on.

use super::shared::*;

/// The columns an [`ApiTokenRow`] is read from.
const API_TOKEN_COLUMNS: &str = "id, tenant_id, name, units, expires_at, revoked_at, created_at";

/// Unit ids as stored: "3,7".
fn id_list(ids: &[UnitId]) -> String {
    ids.iter()
        .map(UnitId::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[async_trait]
impl Directory for This {
    async fn create_municipality(&self, new: NewMunicipality) -> Result<Municipality> {
        let row: MunicipalityRow = sqlx::query_as(
            "INSERT INTO municipalities (slug, name, time_zone, language, created_at) VALUES ($1, $2, $3, $4, $5) \
             RETURNING id, slug, name, time_zone, language",
        )
        .bind(&new.slug)
        .bind(&new.name)
        .bind(&new.time_zone)
        .bind(&new.language)
        .bind(Timestamp::now().as_millisecond())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row.into())
    }

    async fn municipality(&self, id: TenantId) -> Result<Option<Municipality>> {
        let row: Option<MunicipalityRow> = sqlx::query_as(
            "SELECT id, slug, name, time_zone, language FROM municipalities WHERE id = $1",
        )
        .bind(id.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(Into::into))
    }

    async fn municipality_by_slug(&self, slug: &str) -> Result<Option<Municipality>> {
        let row: Option<MunicipalityRow> = sqlx::query_as(
            "SELECT id, slug, name, time_zone, language FROM municipalities WHERE slug = $1",
        )
        .bind(slug)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(Into::into))
    }

    async fn list_municipalities(&self) -> Result<Vec<Municipality>> {
        let rows: Vec<MunicipalityRow> = sqlx::query_as(
            "SELECT id, slug, name, time_zone, language FROM municipalities ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn create_unit(
        &self,
        tenant: TenantId,
        name: &str,
        is_service_desk: bool,
        sensitive: bool,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Unit> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let row: UnitRow = sqlx::query_as(
            "INSERT INTO units (tenant_id, name, is_service_desk, sensitive) VALUES ($1, $2, $3, $4) RETURNING id, tenant_id, name, is_service_desk, sensitive",
        )
        .bind(tenant.get())
        .bind(name)
        .bind(i64::from(is_service_desk))
        .bind(i64::from(sensitive))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        let unit: Unit = row.into();
        if let Some(entry) = audit {
            let object = format!("unit:{}", unit.id);
            insert_audit(
                &mut tx,
                tenant.get(),
                entry.with_object(object),
                Timestamp::now(),
            )
            .await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(unit)
    }

    async fn list_units(&self, tenant: TenantId) -> Result<Vec<Unit>> {
        let rows: Vec<UnitRow> = sqlx::query_as("SELECT id, tenant_id, name, is_service_desk, sensitive FROM units WHERE tenant_id = $1 ORDER BY name")
            .bind(tenant.get())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn update_unit(
        &self,
        tenant: TenantId,
        id: UnitId,
        name: &str,
        sensitive: bool,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Unit> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let row: Option<UnitRow> = sqlx::query_as(
            "UPDATE units SET name = $1, sensitive = $2 WHERE tenant_id = $3 AND id = $4 RETURNING id, tenant_id, name, is_service_desk, sensitive",
        )
        .bind(name)
        .bind(i64::from(sensitive))
        .bind(tenant.get())
        .bind(id.get())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_err)?;
        let unit: Unit = row.map(Into::into).ok_or(StoreError::NotFound("unit"))?;
        if let Some(entry) = audit {
            insert_audit(&mut tx, tenant.get(), entry, Timestamp::now()).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(unit)
    }

    async fn create_user(
        &self,
        tenant: TenantId,
        new: NewUser,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<User> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        if let Some(unit) = new.unit_id {
            require_in_tenant(&mut *tx, Owned::Unit, tenant.get(), unit.get()).await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (tenant_id, username, full_name, password_hash, role, unit_id, email, password_set_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(tenant.get())
        .bind(&new.username)
        .bind(&new.full_name)
        .bind(&new.password_hash)
        .bind(new.role.as_str())
        .bind(new.unit_id.map(i64::from))
        .bind(&new.email)
        .bind(new.password_set_by.map(i64::from))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some(unit) = new.unit_id {
            sqlx::query(
                "INSERT INTO unit_memberships (tenant_id, user_id, unit_id) VALUES ($1, $2, $3)",
            )
            .bind(tenant.get())
            .bind(id)
            .bind(unit.get())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        if let Some(entry) = audit {
            insert_audit(
                &mut tx,
                tenant.get(),
                entry.with_object(format!("user:{id}")),
                Timestamp::now(),
            )
            .await?;
        }
        tx.commit().await.map_err(db_err)?;
        self.user(tenant, UserId(id))
            .await?
            .ok_or(StoreError::NotFound("user"))
    }

    async fn user(&self, tenant: TenantId, id: UserId) -> Result<Option<User>> {
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 AND id = $2"
        )))
        .bind(tenant.get())
        .bind(id.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn user_by_username(&self, tenant: TenantId, username: &str) -> Result<Option<User>> {
        user_where(&self.pool, tenant.get(), "username", username).await
    }

    async fn user_by_subject(&self, tenant: TenantId, subject: &str) -> Result<Option<User>> {
        user_where(&self.pool, tenant.get(), "external_subject", subject).await
    }

    async fn list_users(&self, tenant: TenantId) -> Result<Vec<User>> {
        let rows: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE tenant_id = $1 ORDER BY full_name"
        )))
        .bind(tenant.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn update_user(
        &self,
        tenant: TenantId,
        id: UserId,
        update: UserUpdate,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<User> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        if let Some(unit) = update.unit_id {
            require_in_tenant(&mut *tx, Owned::Unit, tenant.get(), unit.get()).await?;
        }
        let changed = sqlx::query("UPDATE users SET full_name = $1, role = $2, unit_id = $3, active = $4, email = $7 WHERE tenant_id = $5 AND id = $6")
            .bind(&update.full_name)
            .bind(update.role.as_str())
            .bind(update.unit_id.map(i64::from))
            .bind(i64::from(update.active))
            .bind(tenant.get())
            .bind(id.get())
            .bind(&update.email)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        commit_with(tx, tenant.get(), audit).await?;
        // Read after the commit: another connection would see the user as before.
        self.user(tenant, id)
            .await?
            .ok_or(StoreError::NotFound("user"))
    }

    async fn change_user(
        &self,
        tenant: TenantId,
        id: UserId,
        change: UserChange,
        audit: torg_domain::audit::NewAuditEntry,
    ) -> Result<User> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let before: Option<(String, i64)> =
            sqlx::query_as("SELECT role, active FROM users WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.get())
                .bind(id.get())
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_err)?;
        let Some((role_before, _)) = before else {
            return Err(StoreError::NotFound("user"));
        };
        let update = &change.update;
        if let Some(unit) = update.unit_id {
            require_in_tenant(&mut *tx, Owned::Unit, tenant.get(), unit.get()).await?;
        }
        sqlx::query("UPDATE users SET full_name = $1, role = $2, unit_id = $3, active = $4, email = $5 WHERE tenant_id = $6 AND id = $7")
            .bind(&update.full_name)
            .bind(update.role.as_str())
            .bind(update.unit_id.map(i64::from))
            .bind(i64::from(update.active))
            .bind(&update.email)
            .bind(tenant.get())
            .bind(id.get())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if let Some(units) = &change.memberships {
            replace_memberships(&mut tx, tenant, id, units).await?;
        }
        if change.unlock {
            sqlx::query("UPDATE users SET locked_until = NULL, failed_logins = 0 WHERE tenant_id = $1 AND id = $2")
                .bind(tenant.get())
                .bind(id.get())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        if let Some((hash, set_by)) = &change.password_hash {
            sqlx::query("UPDATE users SET password_hash = $1, password_set_by = $2 WHERE tenant_id = $3 AND id = $4")
                .bind(hash)
                .bind(set_by.map(i64::from))
                .bind(tenant.get())
                .bind(id.get())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        // Less access or a new password: sessions already open end with the change.
        if !update.active || role_before != update.role.as_str() || change.password_hash.is_some() {
            sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2")
                .bind(tenant.get())
                .bind(id.get())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        }
        insert_audit(&mut tx, tenant.get(), audit, Timestamp::now()).await?;
        tx.commit().await.map_err(db_err)?;
        self.user(tenant, id)
            .await?
            .ok_or(StoreError::NotFound("user"))
    }

    async fn set_password(
        &self,
        tenant: TenantId,
        id: UserId,
        password_hash: &str,
        keep_session: Option<&str>,
        audit: torg_domain::audit::NewAuditEntry,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let changed = sqlx::query(
            "UPDATE users SET password_hash = $1, password_set_by = NULL WHERE tenant_id = $2 AND id = $3",
        )
        .bind(password_hash)
        .bind(tenant.get())
        .bind(id.get())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        sqlx::query(
            "DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2 AND token_hash <> $3",
        )
        .bind(tenant.get())
        .bind(id.get())
        .bind(keep_session.unwrap_or_default())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        insert_audit(&mut tx, tenant.get(), audit, Timestamp::now()).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(())
    }

    async fn set_external_subject(
        &self,
        tenant: TenantId,
        id: UserId,
        subject: Option<&str>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let changed =
            sqlx::query("UPDATE users SET external_subject = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(subject)
                .bind(tenant.get())
                .bind(id.get())
                .execute(&mut *tx)
                .await
                .map_err(db_err)?;
        if changed.rows_affected() == 0 {
            return Err(StoreError::NotFound("user"));
        }
        commit_with(tx, tenant.get(), audit).await
    }

    async fn set_memberships(
        &self,
        tenant: TenantId,
        user_id: UserId,
        units: &[UnitId],
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        require_in_tenant(&mut *tx, Owned::User, tenant.get(), user_id.get()).await?;
        replace_memberships(&mut tx, tenant, user_id, units).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn count_failed_login(&self, tenant: TenantId, user_id: UserId) -> Result<i64> {
        let n: Option<i64> = sqlx::query_scalar("UPDATE users SET failed_logins = failed_logins + 1 WHERE tenant_id = $1 AND id = $2 RETURNING failed_logins")
            .bind(tenant.get())
            .bind(user_id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(db_err)?;
        n.ok_or(StoreError::NotFound("user"))
    }

    async fn set_locked_until(
        &self,
        tenant: TenantId,
        user_id: UserId,
        until: Option<Timestamp>,
    ) -> Result<()> {
        let sql = if until.is_some() {
            "UPDATE users SET locked_until = $1 WHERE tenant_id = $2 AND id = $3"
        } else {
            "UPDATE users SET locked_until = $1, failed_logins = 0 WHERE tenant_id = $2 AND id = $3"
        };
        sqlx::query(sql)
            .bind(until.map(|t| t.as_millisecond()))
            .bind(tenant.get())
            .bind(user_id.get())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete_user_sessions(&self, tenant: TenantId, user_id: UserId) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant.get())
            .bind(user_id.get())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn set_sso_provider(
        &self,
        tenant: TenantId,
        provider: Option<SsoProvider>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        sqlx::query("DELETE FROM sso_providers WHERE tenant_id = $1")
            .bind(tenant.get())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if let Some(p) = provider {
            sqlx::query(
                "INSERT INTO sso_providers (tenant_id, issuer, client_id, client_secret, role_claim, role_map) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(tenant.get())
            .bind(&p.issuer)
            .bind(&p.client_id)
            .bind(&p.client_secret)
            .bind(&p.role_claim)
            .bind(&p.role_map)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        commit_with(tx, tenant.get(), audit).await
    }

    async fn sso_provider(&self, tenant: TenantId) -> Result<Option<SsoProvider>> {
        let row: Option<(String, String, String, String, String)> = sqlx::query_as(
            "SELECT issuer, client_id, client_secret, role_claim, role_map FROM sso_providers WHERE tenant_id = $1",
        )
        .bind(tenant.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(
            |(issuer, client_id, client_secret, role_claim, role_map)| SsoProvider {
                issuer,
                client_id,
                client_secret,
                role_claim,
                role_map,
            },
        ))
    }

    async fn create_session(&self, s: Session) -> Result<()> {
        sqlx::query("INSERT INTO sessions (token_hash, tenant_id, user_id, csrf_token, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&s.token_hash)
            .bind(s.tenant_id.get())
            .bind(s.user_id.get())
            .bind(&s.csrf_token)
            .bind(s.expires_at.as_millisecond())
            .bind(s.last_seen_at.as_millisecond())
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT token_hash, tenant_id, user_id, csrf_token, expires_at, last_seen_at FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(Into::into))
    }

    async fn touch_session(&self, token_hash: &str, at: Timestamp) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(at.as_millisecond())
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn create_api_token(
        &self,
        tenant: TenantId,
        token: NewApiToken,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<ApiToken> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        for unit in &token.units {
            require_in_tenant(&mut *tx, Owned::Unit, tenant.get(), unit.get()).await?;
        }
        let row: ApiTokenRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "INSERT INTO api_tokens (tenant_id, name, token_hash, units, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {API_TOKEN_COLUMNS}"
        )))
        .bind(tenant.get())
        .bind(&token.name)
        .bind(&token.token_hash)
        .bind(id_list(&token.units))
        .bind(token.expires_at.map(|t| t.as_millisecond()))
        .bind(token.created_at.as_millisecond())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        if let Some(entry) = audit {
            insert_audit(&mut tx, tenant.get(), entry, token.created_at).await?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(row.into())
    }

    async fn list_api_tokens(&self, tenant: TenantId) -> Result<Vec<ApiToken>> {
        let rows: Vec<ApiTokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {API_TOKEN_COLUMNS} FROM api_tokens WHERE tenant_id = $1 ORDER BY id DESC"
        )))
        .bind(tenant.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn revoke_api_token(
        &self,
        tenant: TenantId,
        id: i64,
        at: Timestamp,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE tenant_id = $2 AND id = $3",
        )
        .bind(at.as_millisecond())
        .bind(tenant.get())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("token"));
        }
        if let Some(entry) = audit {
            insert_audit(&mut tx, tenant.get(), entry, at).await?;
        }
        tx.commit().await.map_err(db_err)
    }

    async fn api_token(&self, token_hash: &str) -> Result<Option<ApiToken>> {
        let row: Option<ApiTokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {API_TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1"
        )))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row.map(Into::into))
    }
}
