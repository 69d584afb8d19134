//! Jobs in SQL: one lease row per job that runs once per installation, taken in one upsert
//! that succeeds only for the holder or when the lease has run out.

use super::shared::*;

#[async_trait]
impl Jobs for This {
    async fn claim_job(
        &self,
        job: &str,
        holder: &str,
        now: Timestamp,
        ttl: jiff::SignedDuration,
    ) -> Result<bool> {
        let taken = sqlx::query(
            "INSERT INTO job_leases (job, holder, taken_at, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (job) DO UPDATE SET \
             taken_at = CASE WHEN job_leases.holder = excluded.holder \
             THEN job_leases.taken_at ELSE excluded.taken_at END, \
             holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE job_leases.holder = excluded.holder OR job_leases.expires_at <= $3",
        )
        .bind(job)
        .bind(holder)
        .bind(now.as_millisecond())
        .bind((now + ttl).as_millisecond())
        .execute(&self.pool)
        .await
        .map_err(db_err)?
        .rows_affected();
        Ok(taken == 1)
    }

    async fn release_job(&self, job: &str, holder: &str) -> Result<()> {
        sqlx::query("DELETE FROM job_leases WHERE job = $1 AND holder = $2")
            .bind(job)
            .bind(holder)
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn job_holders(&self) -> Result<Vec<JobHolder>> {
        let rows: Vec<(String, String, i64, i64)> =
            sqlx::query_as("SELECT job, holder, taken_at, expires_at FROM job_leases ORDER BY job")
                .fetch_all(&self.pool)
                .await
                .map_err(db_err)?;
        Ok(rows
            .into_iter()
            .map(|(job, holder, taken, expires)| JobHolder {
                job,
                holder,
                taken_at: ts(taken),
                expires_at: ts(expires),
            })
            .collect())
    }
}
