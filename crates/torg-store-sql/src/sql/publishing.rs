//! Publishing in SQL: messages, their states and approvals, and each municipality's rules.

use super::shared::*;
use torg_domain::publish::PubState;

const COLUMNS: &str = "id, tenant_id, title, body, language, state, author_id, approved_by, approved_hash, publish_at, created_at, updated_at, wheel_item_id, image_url, kind";

type PubRow = (
    i64,
    i64,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
    Option<String>,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    String,
);

fn publication(r: PubRow) -> Result<Publication> {
    let (
        id,
        tenant_id,
        title,
        body,
        language,
        state,
        author_id,
        approved_by,
        hash,
        at,
        c,
        u,
        item,
        image_url,
        kind,
    ) = r;
    Ok(Publication {
        id,
        tenant_id: TenantId(tenant_id),
        title,
        body,
        language,
        state: state.parse().map_err(StoreError::Database)?,
        author_id: UserId(author_id),
        approved_by: approved_by.map(UserId),
        approved_hash: hash,
        publish_at: ts(at),
        created_at: ts(c),
        updated_at: ts(u),
        wheel_item_id: item,
        image_url,
        kind: kind.parse().map_err(StoreError::Database)?,
    })
}

async fn one(conn: &mut Conn, tenant: i64, id: i64) -> Result<Option<Publication>> {
    let row: Option<PubRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM publications WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_err)?;
    row.map(publication).transpose()
}

/// Replaces a message's own texts for networks.
async fn set_variants(
    conn: &mut Conn,
    tenant: i64,
    id: i64,
    variants: &[(torg_domain::Channel, String)],
) -> Result<()> {
    sqlx::query("DELETE FROM publication_variants WHERE tenant_id = $1 AND publication_id = $2")
        .bind(tenant)
        .bind(id)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    for (channel, body) in variants {
        sqlx::query(
            "INSERT INTO publication_variants (tenant_id, publication_id, channel, body) VALUES ($1, $2, $3, $4)",
        )
        .bind(tenant)
        .bind(id)
        .bind(channel.as_str())
        .bind(body)
        .execute(&mut *conn)
        .await
        .map_err(db_err)?;
    }
    Ok(())
}

/// The outbox's header ids of a message's posts start so (`torg_core::publish` names them
/// `publication-{id}-{text}-{account}`).
fn post_prefix(id: i64) -> String {
    format!("publication-{id}-")
}

/// Cancels a message's posts that have not gone out yet.
async fn cancel_posts(conn: &mut Conn, tenant: i64, id: i64, why: &str) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET status = 'failed', last_error = $1 WHERE tenant_id = $2 AND status = 'pending' AND header_id LIKE $3",
    )
    .bind(why)
    .bind(tenant)
    .bind(format!("{}%", post_prefix(id)))
    .execute(&mut *conn)
    .await
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl Publishing for This {
    async fn create_publication(
        &self,
        tenant: TenantId,
        new: &NewPublication,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Publication> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        require_in_tenant(&mut *tx, Owned::User, tenant.get(), new.author_id.get()).await?;
        if let Some(item) = new.wheel_item_id {
            let ours: Option<i64> =
                sqlx::query_scalar("SELECT id FROM wheel_items WHERE tenant_id = $1 AND id = $2")
                    .bind(tenant.get())
                    .bind(item)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db_err)?;
            if ours.is_none() {
                return Err(StoreError::NotFound("wheel item"));
            }
        }
        let now = Timestamp::now().as_millisecond();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO publications (tenant_id, title, body, language, state, author_id, publish_at, created_at, updated_at, wheel_item_id, image_url, kind) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11) RETURNING id",
        )
        .bind(tenant.get())
        .bind(&new.title)
        .bind(&new.body)
        .bind(&new.language)
        .bind(PubState::Draft.as_str())
        .bind(new.author_id.get())
        .bind(new.publish_at.as_millisecond())
        .bind(now)
        .bind(new.wheel_item_id)
        .bind(&new.image_url)
        .bind(new.kind.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        set_variants(&mut tx, tenant.get(), id, &new.variants).await?;
        let created = one(&mut tx, tenant.get(), id)
            .await?
            .ok_or(StoreError::NotFound("publication"))?;
        let audit = audit.map(|e| e.with_object(format!("publication:{id}")));
        commit_with(tx, tenant.get(), audit).await?;
        Ok(created)
    }

    async fn edit_publication(
        &self,
        tenant: TenantId,
        id: i64,
        edit: &PublicationEdit<'_>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Publication> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let done = sqlx::query(
            "UPDATE publications SET title = $1, body = $2, publish_at = $3, state = $4, approved_by = NULL, approved_hash = NULL, updated_at = $5, image_url = $8 \
             WHERE tenant_id = $6 AND id = $7",
        )
        .bind(edit.title)
        .bind(edit.body)
        .bind(edit.publish_at.as_millisecond())
        .bind(PubState::Draft.as_str())
        .bind(Timestamp::now().as_millisecond())
        .bind(tenant.get())
        .bind(id)
        .bind(edit.image_url)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("publication"));
        }
        set_variants(&mut tx, tenant.get(), id, edit.variants).await?;
        let edited = one(&mut tx, tenant.get(), id)
            .await?
            .ok_or(StoreError::NotFound("publication"))?;
        cancel_posts(&mut tx, tenant.get(), id, "changed before it went out").await?;
        commit_with(tx, tenant.get(), audit).await?;
        Ok(edited)
    }

    async fn set_publication_state(
        &self,
        tenant: TenantId,
        id: i64,
        from: PubState,
        to: PubState,
        approved: Option<(UserId, String)>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
        notices: &[Notice],
        broadcasts: &[Broadcast<'_>],
    ) -> Result<Publication> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let (by, hash) = approved.unzip();
        let done = sqlx::query(
            "UPDATE publications SET state = $1, approved_by = $2, approved_hash = $3, updated_at = $4 \
             WHERE tenant_id = $5 AND id = $6 AND state = $7",
        )
        .bind(to.as_str())
        .bind(by.map(i64::from))
        .bind(hash)
        .bind(Timestamp::now().as_millisecond())
        .bind(tenant.get())
        .bind(id)
        .bind(from.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return match one(&mut tx, tenant.get(), id).await? {
                Some(_) => Err(StoreError::Conflict(format!(
                    "the message is no longer {}",
                    from.as_str()
                ))),
                None => Err(StoreError::NotFound("publication")),
            };
        }
        let moved = one(&mut tx, tenant.get(), id)
            .await?
            .ok_or(StoreError::NotFound("publication"))?;
        for notice in notices {
            insert_outgoing(
                &mut tx,
                tenant.get(),
                None,
                None,
                &notice.out,
                moved.publish_at.as_millisecond(),
                Some(&notice.body),
            )
            .await?;
        }
        for b in broadcasts {
            let b = Broadcast {
                due_at: moved.publish_at,
                ..b.clone()
            };
            super::subscriptions::queue_broadcast(
                &mut tx,
                tenant.get(),
                &b,
                Timestamp::now().as_millisecond(),
            )
            .await?;
        }
        if to == PubState::Withdrawn {
            cancel_posts(&mut tx, tenant.get(), id, "withdrawn before it went out").await?;
        }
        commit_with(tx, tenant.get(), audit).await?;
        Ok(moved)
    }

    async fn publication(&self, tenant: TenantId, id: i64) -> Result<Option<Publication>> {
        let mut conn = self.pool.acquire().await.map_err(db_err)?;
        one(&mut conn, tenant.get(), id).await
    }

    async fn publications(&self, tenant: TenantId, limit: u32) -> Result<Vec<Publication>> {
        let rows: Vec<PubRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM publications WHERE tenant_id = $1 ORDER BY publish_at DESC, id DESC LIMIT $2"
        )))
        .bind(tenant.get())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(publication).collect()
    }

    async fn publications_between(
        &self,
        tenant: TenantId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Publication>> {
        let rows: Vec<PubRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM publications WHERE tenant_id = $1 AND publish_at >= $2 AND publish_at < $3 \
             ORDER BY publish_at, id LIMIT 2000"
        )))
        .bind(tenant.get())
        .bind(from.as_millisecond())
        .bind(to.as_millisecond())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(publication).collect()
    }

    async fn approved_until(
        &self,
        tenant: TenantId,
        until: Timestamp,
        kind: Option<torg_domain::publish::Kind>,
        limit: u32,
    ) -> Result<Vec<Publication>> {
        let rows: Vec<PubRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM publications WHERE tenant_id = $1 AND state = $2 AND publish_at <= $3 \
             AND ($4 = '' OR kind = $4) ORDER BY publish_at DESC, id DESC LIMIT $5"
        )))
        .bind(tenant.get())
        .bind(PubState::Approved.as_str())
        .bind(until.as_millisecond())
        .bind(kind.map_or("", |k| k.as_str()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(publication).collect()
    }

    async fn add_media_entry(
        &self,
        tenant: TenantId,
        entry: &MediaEntry,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<MediaEntry> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        require_in_tenant(&mut *tx, Owned::User, tenant.get(), entry.by_user.get()).await?;
        if let Some(inquiry) = entry.inquiry_id {
            require_in_tenant(&mut *tx, Owned::Inquiry, tenant.get(), inquiry.get()).await?;
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO media_log (tenant_id, kind, at, outlet, person, topic, notes, inquiry_id, by_user) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(tenant.get())
        .bind(entry.kind.as_str())
        .bind(entry.at.as_millisecond())
        .bind(&entry.outlet)
        .bind(&entry.person)
        .bind(&entry.topic)
        .bind(&entry.notes)
        .bind(entry.inquiry_id.map(InquiryId::get))
        .bind(entry.by_user.get())
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        // A flagged story's entry names its inquiry; a contact is named by its own id.
        let audit = audit.map(|e| {
            if e.object.is_empty() {
                e.with_object(format!("media:{id}"))
            } else {
                e
            }
        });
        commit_with(tx, tenant.get(), audit).await?;
        Ok(MediaEntry {
            id,
            ..entry.clone()
        })
    }

    async fn media_log(
        &self,
        tenant: TenantId,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<MediaEntry>> {
        type Row = (
            i64,
            String,
            i64,
            String,
            String,
            String,
            String,
            Option<i64>,
            i64,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, kind, at, outlet, person, topic, notes, inquiry_id, by_user FROM media_log \
             WHERE tenant_id = $1 AND at >= $2 ORDER BY at DESC, id DESC LIMIT $3",
        )
        .bind(tenant.get())
        .bind(since.as_millisecond())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(
                |(id, kind, at, outlet, person, topic, notes, inquiry, by)| {
                    Ok(MediaEntry {
                        id,
                        kind: parse(&kind, "media log kind")?,
                        at: ts(at),
                        outlet,
                        person,
                        topic,
                        notes,
                        inquiry_id: inquiry.map(InquiryId),
                        by_user: UserId(by),
                    })
                },
            )
            .collect()
    }

    async fn publication_versions(
        &self,
        tenant: TenantId,
        id: i64,
    ) -> Result<Vec<PublicationVersion>> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT language, title, body FROM publication_versions WHERE tenant_id = $1 AND publication_id = $2 ORDER BY language",
        )
        .bind(tenant.get())
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(language, title, body)| PublicationVersion {
                language,
                title,
                body,
            })
            .collect())
    }

    async fn set_publication_version(
        &self,
        tenant: TenantId,
        id: i64,
        version: &PublicationVersion,
        remove: bool,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Publication> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let done = sqlx::query(
            "UPDATE publications SET state = $1, approved_by = NULL, approved_hash = NULL, updated_at = $2 \
             WHERE tenant_id = $3 AND id = $4",
        )
        .bind(PubState::Draft.as_str())
        .bind(Timestamp::now().as_millisecond())
        .bind(tenant.get())
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("publication"));
        }
        sqlx::query(
            "DELETE FROM publication_versions WHERE tenant_id = $1 AND publication_id = $2 AND language = $3",
        )
        .bind(tenant.get())
        .bind(id)
        .bind(&version.language)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if !remove {
            sqlx::query(
                "INSERT INTO publication_versions (tenant_id, publication_id, language, title, body) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(tenant.get())
            .bind(id)
            .bind(&version.language)
            .bind(&version.title)
            .bind(&version.body)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        let changed = one(&mut tx, tenant.get(), id)
            .await?
            .ok_or(StoreError::NotFound("publication"))?;
        cancel_posts(&mut tx, tenant.get(), id, "changed before it went out").await?;
        commit_with(tx, tenant.get(), audit).await?;
        Ok(changed)
    }

    async fn publication_variants(
        &self,
        tenant: TenantId,
        id: i64,
    ) -> Result<Vec<(torg_domain::Channel, String)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT channel, body FROM publication_variants WHERE tenant_id = $1 AND publication_id = $2 ORDER BY channel",
        )
        .bind(tenant.get())
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter()
            .map(|(channel, body)| Ok((parse(&channel, "channel")?, body)))
            .collect()
    }

    async fn publication_posts(&self, tenant: TenantId, id: i64) -> Result<Vec<PublicationPost>> {
        type Row = (
            String,
            String,
            String,
            i64,
            Option<String>,
            Option<i64>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT channel, recipient, status, attempts, last_error, sent_at, external_ref FROM outbox \
                 WHERE tenant_id = $1 AND header_id LIKE $2 AND broadcast_id IS NULL ORDER BY id",
        )
        .bind(tenant.get())
        .bind(format!("{}%", post_prefix(id)))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        // Its newsletter and SMS: counted per channel and state, not listed per subscriber.
        let counted: Vec<(String, String, i64, Option<i64>)> = sqlx::query_as(
            "SELECT channel, status, COUNT(*), MAX(sent_at) FROM outbox \
             WHERE tenant_id = $1 AND header_id LIKE $2 AND broadcast_id IS NOT NULL GROUP BY channel, status ORDER BY channel, status",
        )
        .bind(tenant.get())
        .bind(format!("{}%", post_prefix(id)))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let rows: Vec<Row> = rows
            .into_iter()
            .chain(counted.into_iter().map(|(channel, status, n, sent_at)| {
                (
                    channel,
                    format!("{n} subscribers"),
                    status,
                    1,
                    None,
                    sent_at,
                    None,
                )
            }))
            .collect();
        rows.into_iter()
            .map(
                |(channel, recipient, status, attempts, error, sent_at, address)| {
                    Ok(PublicationPost {
                        channel: parse(&channel, "channel")?,
                        recipient,
                        state: super::outbox::delivery_state(
                            &status, attempts, error, sent_at, None,
                        ),
                        address,
                    })
                },
            )
            .collect()
    }

    async fn jargon(&self, tenant: TenantId) -> Result<Vec<(String, String)>> {
        sqlx::query_as(
            "SELECT phrase, plainer FROM plain_jargon WHERE tenant_id = $1 ORDER BY phrase",
        )
        .bind(tenant.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn set_jargon(
        &self,
        tenant: TenantId,
        phrase: &str,
        plainer: Option<&str>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let done = match plainer {
            Some(p) => sqlx::query(
                "INSERT INTO plain_jargon (tenant_id, phrase, plainer) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id, phrase) DO UPDATE SET plainer = excluded.plainer",
            )
            .bind(tenant.get())
            .bind(phrase)
            .bind(p),
            None => sqlx::query("DELETE FROM plain_jargon WHERE tenant_id = $1 AND phrase = $2")
                .bind(tenant.get())
                .bind(phrase),
        }
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        commit_with(tx, tenant.get(), audit).await?;
        Ok(true)
    }

    async fn publishing_settings(&self, tenant: TenantId) -> Result<PublishingSettings> {
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT four_eyes, staff_lead_minutes FROM publishing_settings WHERE tenant_id = $1",
        )
        .bind(tenant.get())
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        Ok(row
            .map(|(four, lead)| PublishingSettings {
                four_eyes: four != 0,
                staff_lead_minutes: u32::try_from(lead).unwrap_or(30),
            })
            .unwrap_or_default())
    }

    async fn set_publishing_settings(
        &self,
        tenant: TenantId,
        settings: PublishingSettings,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        sqlx::query(
            "INSERT INTO publishing_settings (tenant_id, four_eyes, staff_lead_minutes) VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id) DO UPDATE SET four_eyes = excluded.four_eyes, staff_lead_minutes = excluded.staff_lead_minutes",
        )
        .bind(tenant.get())
        .bind(i64::from(settings.four_eyes))
        .bind(i64::from(settings.staff_lead_minutes))
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await
    }
}
