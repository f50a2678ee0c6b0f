//! The `Store` trait both backends implement, their options, and [`open`].
//!
//! `Store` is object-safe (methods return boxed futures) so the control plane can
//! hold an `Arc<dyn Store>` chosen at startup, and tests or a future backend can
//! provide their own. The cost is one allocation per call, nothing next to a
//! database round trip.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::agent_records::{AgentRecord, AgentRecordQuery, RecordKind};
use crate::audit::{AuditQuery, AuditRecord};
use crate::crypto::EncryptionKey;
use crate::error::Result;
use crate::key::ObjectKey;
use crate::list::{ListQuery, ListResult};
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;
use crate::watch::{Watch, WatchQuery};

/// A boxed, sendable future: what `Store` methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A resource store: versioned manifests, watches, the audit log and agents'
/// conversations and tasks.
///
/// Objects are JSON manifests identified by [`ObjectKey`]. Every write gets the
/// next store revision, which becomes the object's `metadata.resourceVersion`; see
/// [`crate::object`] for the metadata the store owns. Agent records are kept
/// beside them but outside the revision: see [`crate::agent_records`].
pub trait Store: Send + Sync {
    /// The object at `key` (Secrets decrypted), or `NotFound`.
    fn get<'a>(&'a self, key: &'a ObjectKey) -> BoxFuture<'a, Result<Value>>;

    /// One page of the objects matching `query`, with the revision it was read at.
    fn list<'a>(&'a self, query: &'a ListQuery) -> BoxFuture<'a, Result<ListResult>>;

    /// Stores a new object and returns it as stored (with uid, resourceVersion,
    /// generation and creationTimestamp); `AlreadyExists` if the key is taken.
    fn create(&self, object: Value) -> BoxFuture<'_, Result<Value>>;

    /// Replaces an existing object and returns it as stored; `NotFound` if absent.
    ///
    /// If `object` carries `metadata.resourceVersion`, it is a precondition: it must
    /// equal the stored one, or the update fails with `Conflict`. Without one the
    /// update is unconditional.
    fn update(&self, object: Value) -> BoxFuture<'_, Result<Value>>;

    /// Deletes the object at `key` and returns its last state, with the deletion's
    /// revision as `resourceVersion`. With `precondition`, the stored
    /// resourceVersion must equal it (`Conflict` otherwise).
    fn delete<'a>(
        &'a self,
        key: &'a ObjectKey,
        precondition: Option<&'a str>,
    ) -> BoxFuture<'a, Result<Value>>;

    /// Starts a watch; `Expired` if `since_revision` was compacted away.
    fn watch(&self, query: WatchQuery) -> BoxFuture<'_, Result<Watch>>;

    /// The current store revision (0 for an empty store).
    fn revision(&self) -> BoxFuture<'_, Result<i64>>;

    /// Deletes change-log entries up to and including `revision` (clamped to the
    /// current revision); watches from before it then get `Expired`. Writes also
    /// compact automatically to keep [`StoreOptions::retained_revisions`].
    fn compact(&self, revision: i64) -> BoxFuture<'_, Result<()>>;

    /// Appends a record to the audit log.
    fn append_audit(&self, record: AuditRecord) -> BoxFuture<'_, Result<()>>;

    /// Audit records matching `query`, newest first.
    fn query_audit<'a>(&'a self, query: &'a AuditQuery) -> BoxFuture<'a, Result<Vec<AuditRecord>>>;

    /// Stores a conversation or task, inserting or replacing it by (kind, id), and
    /// returns it as stored.
    ///
    /// The store sets the times and ignores the ones given: a new record gets
    /// `created` = `updated` = now; a replaced one keeps `created`, and `updated`
    /// moves to now (always later than before). A record never changes hands:
    /// replacing one whose namespace, agent or owner differ from `record`'s fails
    /// with [`StoreError::InvalidObject`](crate::StoreError::InvalidObject) and
    /// leaves it as it was, as does `data` larger than
    /// [`MAX_RECORD_BYTES`](crate::agent_records::MAX_RECORD_BYTES) or an empty
    /// id or agent. Takes no store revision and is invisible to watches.
    fn put_agent_record(&self, record: AgentRecord) -> BoxFuture<'_, Result<AgentRecord>>;

    /// The record of `kind` with `id`, if there is one.
    fn get_agent_record<'a>(
        &'a self,
        kind: RecordKind,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<AgentRecord>>>;

    /// Records matching `query`, the most recently updated first.
    fn list_agent_records<'a>(
        &'a self,
        query: &'a AgentRecordQuery,
    ) -> BoxFuture<'a, Result<Vec<AgentRecord>>>;
}

/// Settings shared by both backends.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// The key Secrets are encrypted with.
    pub encryption_key: EncryptionKey,
    /// How many revisions of change log to keep for watches that resume (default
    /// 10 000); older entries are compacted on write.
    pub retained_revisions: i64,
    /// SQLite: how long a write waits for another process's lock (default 5 s).
    pub busy_timeout: Duration,
    /// PostgreSQL: connections in the pool (default 8), plus one for `LISTEN`.
    pub pool_size: usize,
    /// PostgreSQL: how often each replica checks the revision in case a
    /// notification was lost (default 5 s).
    pub resync_interval: Duration,
}

impl StoreOptions {
    /// The defaults, with `encryption_key`.
    pub fn new(encryption_key: EncryptionKey) -> StoreOptions {
        StoreOptions {
            encryption_key,
            retained_revisions: 10_000,
            busy_timeout: Duration::from_secs(5),
            pool_size: 8,
            resync_interval: Duration::from_secs(5),
        }
    }
}

/// Where the store lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in `<state_dir>/palisade.db`: one process.
    Sqlite {
        /// The state directory (created if missing).
        state_dir: PathBuf,
    },
    /// PostgreSQL at a `postgres://` URL: any number of replicas. No TLS yet, so
    /// the connection must stay on a trusted network (or a Unix socket).
    Postgres {
        /// The connection URL, e.g. `postgres://palisade@db:5432/palisade`.
        url: String,
    },
}

impl Backend {
    /// PostgreSQL when `url` is given, otherwise SQLite in `state_dir`.
    pub fn from_url_or_dir(url: Option<&str>, state_dir: impl Into<PathBuf>) -> Backend {
        match url {
            Some(url) if !url.trim().is_empty() => Backend::Postgres {
                url: url.trim().to_string(),
            },
            _ => Backend::Sqlite {
                state_dir: state_dir.into(),
            },
        }
    }
}

/// Opens the store at `backend`, creating or migrating its schema.
pub async fn open(backend: &Backend, options: StoreOptions) -> Result<Arc<dyn Store>> {
    Ok(match backend {
        Backend::Sqlite { state_dir } => Arc::new(SqliteStore::open(state_dir, options).await?),
        Backend::Postgres { url } => Arc::new(PgStore::connect(url, options).await?),
    })
}
