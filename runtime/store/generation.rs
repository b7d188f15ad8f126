//! The store generation: a counter bumped by every change to the function secrets and to the
//! settings secrets, in the change's own transaction. Reading it is one tiny query; a cache of decrypted secrets keyed by
//! it is exact across processes and hosts.

use sqlx::Row;

use super::{Store, WriteTx};
use crate::Result;

impl Store {
    /// The current generation of the function secrets.
    pub async fn secrets_generation(&self) -> Result<i64> {
        let row = sqlx::query("SELECT value FROM store_generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("value")?)
    }
}

impl WriteTx {
    /// Bumps the generation as part of this transaction. On PostgreSQL the row lock also orders
    /// concurrent writers, so every committed change is seen as a new value.
    pub(super) async fn bump_generation(&mut self) -> Result<()> {
        sqlx::query("UPDATE store_generation SET value = value + 1 WHERE id = 1")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
