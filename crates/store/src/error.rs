//! The one error type of the store.
//!
//! Messages say what failed, on which object or file, and how to fix it. They never
//! contain secret data: encryption errors name the object and the key id, never a
//! plaintext or a key.

use std::path::Path;

use crate::key::ObjectKey;

/// Everything a store operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist.
    #[error("{key} not found")]
    NotFound {
        /// The missing object.
        key: Box<ObjectKey>,
    },

    /// `create` of an object that already exists.
    #[error("{key} already exists: update it, or delete it first")]
    AlreadyExists {
        /// The existing object.
        key: Box<ObjectKey>,
    },

    /// A write's `resourceVersion` precondition does not match the stored object: it
    /// changed since the caller read it.
    #[error(
        "conflict on {key}: the object has resourceVersion {current} but the request expected \
         {given}; read it again, reapply the change and retry"
    )]
    Conflict {
        /// The object written.
        key: Box<ObjectKey>,
        /// The stored resourceVersion.
        current: String,
        /// The resourceVersion the caller gave.
        given: String,
    },

    /// A watch asked for changes from a revision whose change-log entries were
    /// compacted away (Kubernetes' `410 Gone`).
    #[error(
        "revision {revision} is too old: the change log was compacted up to revision \
         {compacted}; list again and watch from the list's revision"
    )]
    Expired {
        /// The revision asked for.
        revision: i64,
        /// The newest revision removed from the change log.
        compacted: i64,
    },

    /// A label selector string does not parse.
    #[error("invalid label selector {selector:?} at character {position}: {message}")]
    InvalidSelector {
        /// The selector as given.
        selector: String,
        /// 1-based character position of the problem.
        position: usize,
        /// What is wrong and what was expected.
        message: String,
    },

    /// A query argument is malformed (e.g. a damaged continue token).
    #[error("invalid query: {0}")]
    InvalidQuery(String),

    /// A manifest lacks what the store needs (apiVersion, kind, metadata.name) or has
    /// a store-owned field of the wrong type; or an agent record is too large, lacks
    /// its id or agent, or would change hands.
    #[error("invalid object: {0}")]
    InvalidObject(String),

    /// A Secret could not be encrypted or decrypted, or the key could not be loaded.
    #[error("encryption: {0}")]
    Encryption(String),

    /// The database failed (I/O, connection, SQL).
    #[error("{0}")]
    Backend(String),

    /// The database's schema cannot be used by this binary.
    #[error("schema: {0}")]
    Schema(String),
}

/// The `Result` of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// A `Backend` error from SQLite while doing `what` on the database at `path`.
    pub(crate) fn sqlite(path: &Path, what: &str, err: rusqlite::Error) -> StoreError {
        StoreError::Backend(format!("SQLite database {}: {what}: {err}", path.display()))
    }

    /// A `Backend` error from PostgreSQL while doing `what`, with the server's own
    /// message and SQLSTATE when there is one.
    pub(crate) fn postgres(what: &str, err: tokio_postgres::Error) -> StoreError {
        let detail = match err.as_db_error() {
            Some(db) => format!("{} (SQLSTATE {})", db.message(), db.code().code()),
            None => {
                let mut text = err.to_string();
                let mut source = std::error::Error::source(&err);
                while let Some(s) = source {
                    text.push_str(": ");
                    text.push_str(&s.to_string());
                    source = s.source();
                }
                text
            }
        };
        StoreError::Backend(format!("PostgreSQL: {what}: {detail}"))
    }
}
