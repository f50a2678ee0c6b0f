//! Schema versions: what both backends' migrations share.
//!
//! Each backend keeps an ordered list of migrations and a `palisade_schema_version`
//! table with one row per applied migration. Opening a store applies the missing
//! ones in one transaction (so concurrent openers do not race) and refuses a
//! database whose schema is newer than this binary knows, instead of guessing.
//!
//! Tables (the same in both backends, prefixed so a shared PostgreSQL database can
//! hold other applications' tables too):
//!
//! - `palisade_meta`: one row with the store `revision` and the change log's
//!   `compacted` revision; every write locks and bumps it in its transaction.
//! - `palisade_objects`: one row per object: key columns, `uid`, `revision`,
//!   `created`, `updated` and the `body` (the manifest as JSON, Secrets sealed).
//! - `palisade_changes`: the change log, one row per write, keyed by revision.
//! - `palisade_audit`: the audit log.
//! - `palisade_agent_records`: declarative agents' conversations and tasks, one
//!   row per record keyed by (`kind`, `id`), with its agent, owner, `created_us`
//!   and `updated_us` times and its `data` as JSON; outside the revision and the
//!   change log ([`crate::agent_records`]).

use crate::error::{Result, StoreError};

/// The objects table.
pub(crate) const OBJECTS: &str = "palisade_objects";

/// The audit table.
pub(crate) const AUDIT: &str = "palisade_audit";

/// The agent records table.
pub(crate) const AGENT_RECORDS: &str = "palisade_agent_records";

/// One step of a backend's schema.
pub(crate) struct Migration {
    /// The version the database has after this step (1, 2, ...).
    pub version: i64,
    /// The statements, run as one batch.
    pub sql: &'static str,
}

/// The version the newest migration brings a database to.
pub(crate) fn latest(migrations: &[Migration]) -> i64 {
    migrations.last().map_or(0, |m| m.version)
}

/// Fails when the database at `location` has a schema newer than this binary's.
pub(crate) fn check_supported(found: i64, migrations: &[Migration], location: &str) -> Result<()> {
    let latest = latest(migrations);
    if found > latest {
        return Err(StoreError::Schema(format!(
            "{location} has schema version {found}, but this build of Palisade knows versions up \
             to {latest}; run a Palisade release at least as new as the one that last wrote it \
             (or restore a backup made by this release)"
        )));
    }
    Ok(())
}

/// The migrations still to apply to a database at `found`.
pub(crate) fn pending(migrations: &[Migration], found: i64) -> impl Iterator<Item = &Migration> {
    migrations.iter().filter(move |m| m.version > found)
}
