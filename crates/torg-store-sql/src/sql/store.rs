//! The store as a whole: its backend, node bus, writer queue and health check.

use super::shared::*;

#[async_trait]
impl Store for This {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn node_bus(&self) -> Option<&dyn NodeBus> {
        self.bus()
    }

    fn writer_queue(&self) -> usize {
        self.writer.max_capacity() - self.writer.capacity()
    }

    async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
