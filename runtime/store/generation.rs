//! The store generation: a counter bumped by every change to function or settings secrets, in
//! the change's own transaction, so a cache of decrypted secrets keyed by it is exact across
//! processes and hosts. Reading it is one tiny query, skipped on SQLite while the change signal
//! shows nothing was written. It holds no secret and keeps no cache itself.

use sqlx::Row;

use super::{Store, WriteTx};
use crate::Result;

impl Store {
    /// The current generation of the function and settings secrets.
    pub async fn secrets_generation(&self) -> Result<i64> {
        if let Some(generation) = self.changes.unchanged_generation() {
            return Ok(generation);
        }
        // Marks first: a write that commits after the query below changes them.
        let marks = self.changes.marks();
        let row = sqlx::query("SELECT value FROM store_generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let generation = row.try_get("value")?;
        self.changes.remember(marks, generation);
        Ok(generation)
    }
}

impl WriteTx {
    /// Bumps the generation as part of this transaction. On PostgreSQL the row lock also orders
    /// concurrent writers, so every committed change is seen as a new value.
    pub(super) async fn bump_generation(&mut self) -> Result<()> {
        sqlx::query("UPDATE store_generation SET value = value + 1 WHERE id = 1")
            .execute(&mut *self.tx)
            .await?;
        self.bumped = true;
        Ok(())
    }
}
