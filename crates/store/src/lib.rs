//! Palisade's resource store: the manifests applied through the admin API, their
//! change history for watches, the audit log and declarative agents'
//! conversations and tasks ([`agent_records`]) — in embedded SQLite or in a
//! PostgreSQL database shared by several replicas.
//!
//! The store is schema-agnostic: an object is a JSON manifest (`apiVersion`,
//! `kind`, `metadata`, ...) identified by an [`ObjectKey`] (group, kind, namespace,
//! name). It owns a few metadata fields — `uid`, `resourceVersion`, `generation`,
//! `creationTimestamp` — and stamps them on every write ([`object`]). Every write
//! takes the next value of one store-wide revision counter, like etcd's, so a
//! client can list at a revision and watch from it without missing a change
//! ([`watch`]). Updates carrying a `resourceVersion` are optimistic: a stale one
//! fails with [`StoreError::Conflict`].
//!
//! Core-group `Secret`s are encrypted at rest with AES-256-GCM ([`crypto`]).
//!
//! Both backends implement the object-safe [`Store`] trait; [`open`] picks one:
//!
//! ```no_run
//! # async fn demo() -> Result<(), palisade_store::StoreError> {
//! use palisade_store::{Backend, EncryptionKey, ListQuery, StoreOptions, open};
//! use serde_json::json;
//!
//! let dir = std::path::Path::new("/var/lib/palisade");
//! let key = EncryptionKey::from_env_or_file(dir)?;
//! let store = open(&Backend::from_url_or_dir(None, dir), StoreOptions::new(key)).await?;
//! store
//!     .create(json!({
//!         "apiVersion": "v1", "kind": "ConfigMap",
//!         "metadata": {"name": "settings", "namespace": "default"},
//!         "data": {"mode": "strict"}
//!     }))
//!     .await?;
//! let page = store.list(&ListQuery::kind("", "ConfigMap")).await?;
//! assert_eq!(page.items.len(), 1);
//! # Ok(()) }
//! ```

pub mod agent_records;
pub mod audit;
pub mod crypto;
pub mod error;
pub mod key;
pub mod list;
pub mod object;
mod pg_pool;
pub mod postgres;
mod schema;
pub mod selector;
mod sql;
pub mod sqlite;
pub mod store;
pub mod time;
pub mod watch;

pub use agent_records::{AgentRecord, AgentRecordQuery, MAX_RECORD_BYTES, RecordKind};
pub use audit::{AuditQuery, AuditRecord, Outcome};
pub use crypto::EncryptionKey;
pub use error::{Result, StoreError};
pub use key::ObjectKey;
pub use list::{ListQuery, ListResult};
pub use object::new_uid;
pub use postgres::PgStore;
pub use selector::{Requirement, Selector};
pub use sqlite::SqliteStore;
pub use store::{Backend, BoxFuture, Store, StoreOptions, open};
pub use time::Timestamp;
pub use watch::{EventType, Watch, WatchEvent, WatchQuery};
