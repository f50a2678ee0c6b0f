//! The conformance suite on SQLite, and SQLite specifics: the file, WAL mode,
//! schema versions.

use std::path::PathBuf;
use std::sync::Arc;

use palisade_store::{
    AgentRecord, Backend, EncryptionKey, ObjectKey, RecordKind, SqliteStore, Store, StoreError,
    StoreOptions, Timestamp, open,
};
use rusqlite::Connection;
use serde_json::json;

use crate::cases::conformance;
use crate::common::{Harness, TempDir, tenant};

/// A state directory with a key.
pub struct SqliteHarness {
    dir: TempDir,
    key: EncryptionKey,
}

impl SqliteHarness {
    pub fn new() -> SqliteHarness {
        SqliteHarness {
            dir: TempDir::new("palisade-store-sqlite"),
            key: EncryptionKey::generate().unwrap(),
        }
    }

    fn db_path(&self) -> PathBuf {
        self.dir.path().join("palisade.db")
    }

    /// A raw connection to the database file.
    fn raw(&self) -> Connection {
        Connection::open(self.db_path()).unwrap()
    }
}

impl Harness for SqliteHarness {
    fn key(&self) -> &EncryptionKey {
        &self.key
    }

    async fn open_with(&self, options: StoreOptions) -> Arc<dyn Store> {
        Arc::new(SqliteStore::open(self.dir.path(), options).await.unwrap())
    }

    async fn raw_body(&self, key: &ObjectKey) -> String {
        self.raw()
            .query_row(
                "SELECT body FROM palisade_objects
                 WHERE grp = ?1 AND kind = ?2 AND namespace = ?3 AND name = ?4",
                [&key.group, &key.kind, &key.namespace, &key.name],
                |r| r.get(0),
            )
            .unwrap()
    }

    async fn set_raw_body(&self, key: &ObjectKey, body: &str) {
        let changed = self
            .raw()
            .execute(
                "UPDATE palisade_objects SET body = ?5
                 WHERE grp = ?1 AND kind = ?2 AND namespace = ?3 AND name = ?4",
                [&key.group, &key.kind, &key.namespace, &key.name, body],
            )
            .unwrap();
        assert_eq!(changed, 1);
    }
}

conformance!(SqliteHarness::new());

#[tokio::test]
async fn file_is_created_in_wal_mode() {
    let h = SqliteHarness::new();
    let state = h.dir.path().join("nested/state");
    let store = open(
        &Backend::from_url_or_dir(None, &state),
        StoreOptions::new(h.key.clone()),
    )
    .await
    .unwrap();
    store.create(tenant("t")).await.unwrap();
    let raw = Connection::open(state.join("palisade.db")).unwrap();
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let revision: i64 = raw
        .query_row("SELECT revision FROM palisade_meta", [], |r| r.get(0))
        .unwrap();
    assert_eq!(revision, 1);
}

#[tokio::test]
async fn migrations_are_idempotent_and_newer_schemas_refused() {
    let h = SqliteHarness::new();
    drop(h.open().await);
    drop(h.open().await);
    let versions: Vec<i64> = h
        .raw()
        .prepare("SELECT version FROM palisade_schema_version")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(versions, [1, 2]);

    h.raw()
        .execute(
            "INSERT INTO palisade_schema_version (version, applied) VALUES (99, 'later')",
            [],
        )
        .unwrap();
    let err = SqliteStore::open(h.dir.path(), StoreOptions::new(h.key.clone()))
        .await
        .err()
        .expect("a newer schema is refused");
    let text = err.to_string();
    assert!(matches!(err, StoreError::Schema(_)), "{text}");
    assert!(
        text.contains("schema version 99") && text.contains("up to 2"),
        "{text}"
    );
    assert!(text.contains("palisade.db"), "{text}");
}

#[tokio::test]
async fn a_version_1_database_gets_the_agent_records_table() {
    let h = SqliteHarness::new();
    let store = h.open().await;
    store.create(tenant("kept")).await.unwrap();
    drop(store);
    // Back to what a release with schema version 1 left.
    h.raw()
        .execute_batch(
            "DROP TABLE palisade_agent_records;
             DELETE FROM palisade_schema_version WHERE version = 2;",
        )
        .unwrap();

    let store = h.open().await;
    let record = AgentRecord {
        kind: RecordKind::Conversation,
        id: "c1".into(),
        namespace: "ns".into(),
        agent: "helper".into(),
        owner: "alice".into(),
        created: Timestamp::from_micros(0),
        updated: Timestamp::from_micros(0),
        data: json!({"messages": []}),
    };
    let stored = store.put_agent_record(record).await.unwrap();
    assert_eq!(
        store
            .get_agent_record(RecordKind::Conversation, "c1")
            .await
            .unwrap(),
        Some(stored)
    );
    assert!(
        store
            .get(&ObjectKey::new("palisade.io", "Tenant", "", "kept"))
            .await
            .is_ok()
    );
    assert_eq!(store.revision().await.unwrap(), 1);
}

#[tokio::test]
async fn key_file_in_the_state_dir_reopens_secrets() {
    let h = SqliteHarness::new();
    let key = EncryptionKey::from_file(h.dir.path()).unwrap();
    let store = SqliteStore::open(h.dir.path(), StoreOptions::new(key))
        .await
        .unwrap();
    let secret = json!({"apiVersion": "v1", "kind": "Secret",
                        "metadata": {"name": "s"}, "stringData": {"a": "b"}});
    store.create(secret).await.unwrap();
    drop(store);
    let key = EncryptionKey::from_file(h.dir.path()).unwrap();
    let store = SqliteStore::open(h.dir.path(), StoreOptions::new(key))
        .await
        .unwrap();
    let got = store
        .get(&ObjectKey::new("", "Secret", "", "s"))
        .await
        .unwrap();
    assert_eq!(got["stringData"]["a"], "b");
}
