//! Listening in SQL: sources with their conditional-request state and a lease per check,
//! the keyword list, and the matches (one per source and item), told of once.

use super::shared::*;
use jiff::SignedDuration;
use torg_domain::listening::{Item, MatchState, SourceKind};

const SOURCE_COLUMNS: &str = "id, tenant_id, kind, name, address, etag, last_modified, cursor, \
     next_check_at, failures, last_error, last_checked_at";

type SourceRow = (
    i64,
    i64,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    i64,
    Option<String>,
    Option<i64>,
);

fn source(r: SourceRow) -> Result<ListeningSource> {
    let (
        id,
        tenant,
        kind,
        name,
        address,
        etag,
        last_modified,
        cursor,
        next,
        failures,
        error,
        checked,
    ) = r;
    Ok(ListeningSource {
        id,
        tenant_id: TenantId(tenant),
        kind: SourceKind::parse(&kind)
            .ok_or_else(|| StoreError::Database(format!("stored source kind {kind:?}")))?,
        name,
        address,
        etag,
        last_modified,
        cursor,
        next_check_at: ts(next),
        failures: u32::try_from(failures).unwrap_or(0),
        last_error: error,
        last_checked_at: checked.map(ts),
    })
}

const MATCH_COLUMNS: &str = "m.id, m.tenant_id, m.source_id, s.name, m.guid, m.title, m.link, \
     m.summary, m.keywords, m.published_at, m.found_at, m.state, m.inquiry_id, m.crisis_id, m.decided_by";

#[derive(sqlx::FromRow)]
struct MatchRow {
    id: i64,
    tenant_id: i64,
    source_id: i64,
    name: String,
    guid: String,
    title: String,
    link: String,
    summary: String,
    keywords: String,
    published_at: Option<i64>,
    found_at: i64,
    state: String,
    inquiry_id: Option<i64>,
    crisis_id: Option<i64>,
    decided_by: Option<String>,
}

fn a_match(r: MatchRow) -> Result<ListeningMatch> {
    Ok(ListeningMatch {
        id: r.id,
        tenant_id: TenantId(r.tenant_id),
        source_id: r.source_id,
        source_name: r.name,
        item: Item {
            guid: r.guid,
            title: r.title,
            link: r.link,
            summary: r.summary,
            published: r.published_at.map(ts),
        },
        keywords: r
            .keywords
            .split('\n')
            .filter(|k| !k.is_empty())
            .map(str::to_string)
            .collect(),
        found_at: ts(r.found_at),
        state: MatchState::parse(&r.state)
            .ok_or_else(|| StoreError::Database(format!("stored match state {:?}", r.state)))?,
        inquiry_id: r.inquiry_id.map(InquiryId),
        crisis_id: r.crisis_id,
        decided_by: r.decided_by,
    })
}

fn from_matches() -> String {
    format!(
        "SELECT {MATCH_COLUMNS} FROM listening_matches m JOIN listening_sources s \
         ON s.tenant_id = m.tenant_id AND s.id = m.source_id"
    )
}

#[async_trait]
impl Listening for This {
    async fn listening_sources(&self, tenant: TenantId) -> Result<Vec<ListeningSource>> {
        let rows: Vec<SourceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {SOURCE_COLUMNS} FROM listening_sources WHERE tenant_id = $1 ORDER BY name, id"
        )))
        .bind(tenant.get())
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(source).collect()
    }

    async fn add_listening_source(
        &self,
        tenant: TenantId,
        kind: SourceKind,
        name: &str,
        address: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<i64> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO listening_sources (tenant_id, kind, name, address, next_check_at) \
             VALUES ($1, $2, $3, $4, 0) RETURNING id",
        )
        .bind(tenant.get())
        .bind(kind.as_str())
        .bind(name)
        .bind(address)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await?;
        Ok(id)
    }

    async fn remove_listening_source(
        &self,
        tenant: TenantId,
        id: i64,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        sqlx::query("DELETE FROM listening_matches WHERE tenant_id = $1 AND source_id = $2")
            .bind(tenant.get())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        let gone = sqlx::query("DELETE FROM listening_sources WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.get())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected()
            == 1;
        if !gone {
            return Ok(false);
        }
        commit_with(tx, tenant.get(), audit).await?;
        Ok(true)
    }

    async fn claim_listening_sources(
        &self,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<ListeningSource>> {
        let now_ms = now.as_millisecond();
        // The outer conditions are checked again on each row when another node changed it
        // meanwhile, so two nodes never hold one source.
        let rows: Vec<SourceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE listening_sources SET lease_until = $2 WHERE id IN (\
               SELECT id FROM listening_sources WHERE next_check_at <= $1 \
               AND (lease_until IS NULL OR lease_until <= $1) ORDER BY next_check_at LIMIT $3) \
             AND next_check_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) \
             RETURNING {SOURCE_COLUMNS}"
        )))
        .bind(now_ms)
        .bind((now + lease).as_millisecond())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(source).collect()
    }

    async fn listening_source_checked(
        &self,
        tenant: TenantId,
        id: i64,
        c: &SourceChecked,
        at: Timestamp,
    ) -> Result<()> {
        let q = if c.error.is_none() {
            "UPDATE listening_sources SET etag = $3, last_modified = $4, cursor = $5, next_check_at = $6, \
             lease_until = NULL, failures = 0, last_error = NULL, last_checked_at = $7 \
             WHERE tenant_id = $1 AND id = $2"
        } else {
            "UPDATE listening_sources SET next_check_at = $6, lease_until = NULL, \
             failures = failures + 1, last_error = $8, last_checked_at = $7 \
             WHERE tenant_id = $1 AND id = $2"
        };
        sqlx::query(q)
            .bind(tenant.get())
            .bind(id)
            .bind(&c.etag)
            .bind(&c.last_modified)
            .bind(&c.cursor)
            .bind(c.next_check_at.as_millisecond())
            .bind(at.as_millisecond())
            .bind(&c.error)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn own_pages_source(&self, tenant: TenantId, name: &str) -> Result<i64> {
        // Never due: nothing reads it; its matches come as the comments arrive.
        sqlx::query(
            "INSERT INTO listening_sources (tenant_id, kind, name, address, next_check_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, kind, address) DO NOTHING",
        )
        .bind(tenant.get())
        .bind(SourceKind::OwnPages.as_str())
        .bind(name)
        .bind(torg_domain::listening::OWN_PAGES)
        .bind(i64::MAX / 2)
        .execute(&self.pool)
        .await
        .map_err(db_err)?;
        sqlx::query_scalar(
            "SELECT id FROM listening_sources WHERE tenant_id = $1 AND kind = $2 AND address = $3",
        )
        .bind(tenant.get())
        .bind(SourceKind::OwnPages.as_str())
        .bind(torg_domain::listening::OWN_PAGES)
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)
    }

    async fn listening_keywords(&self, tenant: TenantId) -> Result<Vec<String>> {
        sqlx::query_scalar("SELECT word FROM listening_keywords WHERE tenant_id = $1 ORDER BY word")
            .bind(tenant.get())
            .fetch_all(&self.pool)
            .await
            .map_err(db_err)
    }

    async fn set_listening_keywords(
        &self,
        tenant: TenantId,
        words: &[String],
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        sqlx::query("DELETE FROM listening_keywords WHERE tenant_id = $1")
            .bind(tenant.get())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        for w in words {
            sqlx::query(
                "INSERT INTO listening_keywords (tenant_id, word) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(tenant.get())
            .bind(w)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        }
        commit_with(tx, tenant.get(), audit).await
    }

    async fn add_listening_matches(
        &self,
        tenant: TenantId,
        source: i64,
        matches: &[NewListeningMatch],
        at: Timestamp,
    ) -> Result<u64> {
        if matches.is_empty() {
            return Ok(0);
        }
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let mut added = 0;
        for m in matches {
            added += sqlx::query(
                "INSERT INTO listening_matches (tenant_id, source_id, guid, title, link, summary, keywords, published_at, found_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (tenant_id, source_id, guid) DO NOTHING",
            )
            .bind(tenant.get())
            .bind(source)
            .bind(&m.item.guid)
            .bind(&m.item.title)
            .bind(&m.item.link)
            .bind(&m.item.summary)
            .bind(m.keywords.join("\n"))
            .bind(m.item.published.map(|p| p.as_millisecond()))
            .bind(at.as_millisecond())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        }
        tx.commit().await.map_err(db_err)?;
        Ok(added)
    }

    async fn unnotified_matches(&self, limit: u32) -> Result<Vec<ListeningMatch>> {
        let rows: Vec<MatchRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{} WHERE m.notified_at IS NULL ORDER BY m.found_at, m.id LIMIT $1",
            from_matches()
        )))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(a_match).collect()
    }

    async fn mark_matches_notified(
        &self,
        tenant: TenantId,
        ids: &[i64],
        notices: &[Notice],
        at: Timestamp,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let mut marked = 0;
        for id in ids {
            marked += sqlx::query(
                "UPDATE listening_matches SET notified_at = $3 WHERE tenant_id = $1 AND id = $2 AND notified_at IS NULL",
            )
            .bind(tenant.get())
            .bind(id)
            .bind(at.as_millisecond())
            .execute(&mut *tx)
            .await
            .map_err(db_err)?
            .rows_affected();
        }
        // Another node told of them first: nothing is queued twice.
        if marked == ids.len() as u64 {
            for n in notices {
                insert_outgoing(
                    &mut tx,
                    tenant.get(),
                    None,
                    None,
                    &n.out,
                    at.as_millisecond(),
                    Some(&n.body),
                )
                .await?;
            }
            tx.commit().await.map_err(db_err)?;
        }
        Ok(())
    }

    async fn listening_matches(
        &self,
        tenant: TenantId,
        state: Option<MatchState>,
        limit: u32,
    ) -> Result<Vec<ListeningMatch>> {
        let rows: Vec<MatchRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{} WHERE m.tenant_id = $1 AND ($2 = '' OR m.state = $2) ORDER BY m.found_at DESC, m.id DESC LIMIT $3",
            from_matches()
        )))
        .bind(tenant.get())
        .bind(state.map_or("", |s| s.as_str()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        rows.into_iter().map(a_match).collect()
    }

    async fn listening_match(&self, tenant: TenantId, id: i64) -> Result<Option<ListeningMatch>> {
        let row: Option<MatchRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{} WHERE m.tenant_id = $1 AND m.id = $2",
            from_matches()
        )))
        .bind(tenant.get())
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .map_err(db_err)?;
        row.map(a_match).transpose()
    }

    async fn decide_listening_match(
        &self,
        tenant: TenantId,
        id: i64,
        d: &MatchDecision<'_>,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<bool> {
        let (state, inquiry, crisis, by) = (d.state, d.inquiry, d.crisis, d.by);
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        if let Some(i) = inquiry {
            require_in_tenant(&mut *tx, Owned::Inquiry, tenant.get(), i.get()).await?;
        }
        let done = sqlx::query(
            "UPDATE listening_matches SET state = $3, inquiry_id = $4, crisis_id = $5, decided_by = $6 \
             WHERE tenant_id = $1 AND id = $2 AND state = 'new'",
        )
        .bind(tenant.get())
        .bind(id)
        .bind(state.as_str())
        .bind(inquiry.map(i64::from))
        .bind(crisis)
        .bind(by)
        .execute(&mut *tx)
        .await
        .map_err(db_err)?
        .rows_affected()
            == 1;
        if !done {
            return Ok(false);
        }
        if let (Some(c), Some(line)) = (crisis, d.crisis_log) {
            super::subscriptions::one_crisis(&mut tx, tenant.get(), c)
                .await?
                .filter(|c| c.ended_at.is_none())
                .ok_or(StoreError::NotFound("crisis"))?;
            super::subscriptions::insert_log(
                &mut tx,
                tenant.get(),
                c,
                Timestamp::now().as_millisecond(),
                "note",
                line,
                by,
            )
            .await?;
        }
        commit_with(tx, tenant.get(), audit).await?;
        Ok(true)
    }

    async fn count_new_matches(&self, tenant: TenantId) -> Result<i64> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM listening_matches WHERE tenant_id = $1 AND state = 'new'",
        )
        .bind(tenant.get())
        .fetch_one(&self.pool)
        .await
        .map_err(db_err)
    }
}
