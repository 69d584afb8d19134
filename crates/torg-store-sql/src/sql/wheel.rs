//! The annual wheel in SQL: its items and the private links of its calendar feeds.

use super::shared::*;
use torg_domain::wheel::{Mark, Recurrence};

type WheelRow = (
    i64,
    i64,
    String,
    String,
    Option<i64>,
    Option<i64>,
    String,
    String,
    String,
    String,
    i64,
);

fn wheel_item(r: WheelRow) -> Result<WheelItem> {
    let (id, tenant_id, title, description, unit_id, responsible, target, area, mark, rec, at) = r;
    let bad = |what: &str| StoreError::Database(format!("stored wheel {what} is not valid"));
    Ok(WheelItem {
        id,
        tenant_id: TenantId(tenant_id),
        item: NewWheelItem {
            title,
            description,
            unit_id: unit_id.map(UnitId),
            responsible_user_id: responsible.map(UserId),
            target_group: target,
            area,
            mark: mark.parse::<Mark>().map_err(|_| bad("mark"))?,
            recurrence: Recurrence::from_stored(&rec).map_err(|_| bad("recurrence"))?,
        },
        created_at: ts(at),
    })
}

#[async_trait]
impl Wheel for This {
    async fn create_wheel_items(
        &self,
        tenant: TenantId,
        items: &[NewWheelItem],
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<Vec<i64>> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let now = Timestamp::now().as_millisecond();
        let mut ids = Vec::with_capacity(items.len());
        for item in items {
            if let Some(unit) = item.unit_id {
                require_in_tenant(&mut *tx, Owned::Unit, tenant.get(), unit.get()).await?;
            }
            if let Some(user) = item.responsible_user_id {
                require_in_tenant(&mut *tx, Owned::User, tenant.get(), user.get()).await?;
            }
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO wheel_items (tenant_id, title, description, unit_id, responsible_user_id, target_group, area, mark, recurrence, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(tenant.get())
            .bind(&item.title)
            .bind(&item.description)
            .bind(item.unit_id.map(i64::from))
            .bind(item.responsible_user_id.map(i64::from))
            .bind(&item.target_group)
            .bind(&item.area)
            .bind(item.mark.as_str())
            .bind(item.recurrence.to_stored())
            .bind(now)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_err)?;
            ids.push(id);
        }
        commit_with(tx, tenant.get(), audit).await?;
        Ok(ids)
    }

    async fn wheel_items(&self, tenant: TenantId, unit: Option<UnitId>) -> Result<Vec<WheelItem>> {
        let rows: Vec<WheelRow> = sqlx::query_as(
            "SELECT id, tenant_id, title, description, unit_id, responsible_user_id, target_group, area, mark, recurrence, created_at \
             FROM wheel_items WHERE tenant_id = $1 AND ($2 = 0 OR unit_id IS NULL OR unit_id = $2) ORDER BY id",
        )
        .bind(tenant.get())
        .bind(unit.map_or(0, UnitId::get))
        .fetch_all(&self.pool)
        .await
        .map_err(db_err)?;
        let mut items = rows
            .into_iter()
            .map(wheel_item)
            .collect::<Result<Vec<_>>>()?;
        items.sort_by_key(|i| (i.item.recurrence.start(), i.id));
        Ok(items)
    }

    async fn delete_wheel_item(
        &self,
        tenant: TenantId,
        id: i64,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<bool> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        let done = sqlx::query("DELETE FROM wheel_items WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.get())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db_err)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        commit_with(tx, tenant.get(), audit).await?;
        Ok(true)
    }

    async fn set_wheel_feed(
        &self,
        tenant: TenantId,
        unit: Option<UnitId>,
        token_hash: &str,
        audit: Option<torg_domain::audit::NewAuditEntry>,
    ) -> Result<()> {
        let mut tx = self.pool.begin_with(BEGIN_WRITE).await.map_err(db_err)?;
        if let Some(unit) = unit {
            require_in_tenant(&mut *tx, Owned::Unit, tenant.get(), unit.get()).await?;
        }
        sqlx::query(
            "INSERT INTO wheel_feeds (tenant_id, unit_id, token_hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (tenant_id, unit_id) DO UPDATE SET token_hash = excluded.token_hash, created_at = excluded.created_at",
        )
        .bind(tenant.get())
        .bind(unit.map_or(0, UnitId::get))
        .bind(token_hash)
        .bind(Timestamp::now().as_millisecond())
        .execute(&mut *tx)
        .await
        .map_err(db_err)?;
        commit_with(tx, tenant.get(), audit).await
    }

    async fn wheel_feed(&self, token_hash: &str) -> Result<Option<(TenantId, Option<UnitId>)>> {
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT tenant_id, unit_id FROM wheel_feeds WHERE token_hash = $1")
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(row.map(|(t, u)| (TenantId(t), Some(UnitId(u)).filter(|u| u.get() != 0))))
    }
}
