//! The conformance suite on PostgreSQL, and what only PostgreSQL has: replicas
//! sharing one database, reconnects, schema versions.

use std::sync::Arc;
use std::time::Duration;

use palisade_store::{
    EncryptionKey, ObjectKey, PgStore, Store, StoreError, StoreOptions, WatchQuery,
};
use serde_json::json;

use crate::cases::conformance;
use crate::common::{Harness, config_map, key_of, next_event, tenant};
use palisade_testkit::postgres::PgServer;

/// A plain client connected to database `db` of `server`.
async fn client(server: &PgServer, db: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(&server.url(db), tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to the test server: {e:?}"));
    tokio::spawn(connection);
    client
}

/// A fresh server per test; stores use its `postgres` database.
pub struct PgHarness {
    server: PgServer,
    key: EncryptionKey,
}

impl PgHarness {
    pub fn new() -> PgHarness {
        PgHarness {
            server: PgServer::start(),
            key: EncryptionKey::generate().unwrap(),
        }
    }

    fn url(&self) -> String {
        self.server.url("postgres")
    }
}

impl Harness for PgHarness {
    fn key(&self) -> &EncryptionKey {
        &self.key
    }

    async fn open_with(&self, options: StoreOptions) -> Arc<dyn Store> {
        Arc::new(PgStore::connect(&self.url(), options).await.unwrap())
    }

    async fn raw_body(&self, key: &ObjectKey) -> String {
        client(&self.server, "postgres")
            .await
            .query_one(
                "SELECT body FROM palisade_objects
                 WHERE grp = $1 AND kind = $2 AND namespace = $3 AND name = $4",
                &[&key.group, &key.kind, &key.namespace, &key.name],
            )
            .await
            .unwrap()
            .get(0)
    }

    async fn set_raw_body(&self, key: &ObjectKey, body: &str) {
        let changed = client(&self.server, "postgres")
            .await
            .execute(
                "UPDATE palisade_objects SET body = $5
                 WHERE grp = $1 AND kind = $2 AND namespace = $3 AND name = $4",
                &[&key.group, &key.kind, &key.namespace, &key.name, &body],
            )
            .await
            .unwrap();
        assert_eq!(changed, 1);
    }
}

conformance!(PgHarness::new());

/// Options whose periodic resync never fires during a test, so a watch can only
/// be woken by `NOTIFY`.
fn notify_only(key: &EncryptionKey) -> StoreOptions {
    let mut options = StoreOptions::new(key.clone());
    options.resync_interval = Duration::from_secs(3600);
    options
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_see_each_others_writes() {
    let h = PgHarness::new();
    let a = h.open_with(notify_only(&h.key)).await;
    let b = h.open_with(notify_only(&h.key)).await;

    let mut watch_b = b.watch(WatchQuery::default()).await.unwrap();
    let created = a.create(tenant("from-a")).await.unwrap();
    let event = next_event(&mut watch_b).await;
    assert_eq!(event.object, created);
    assert_eq!(b.get(&key_of(&created)).await.unwrap(), created);

    // Increments from both replicas: optimistic concurrency holds across them.
    let counter = a
        .create(config_map("ns", "counter", json!({"n": "0"})))
        .await
        .unwrap();
    let key = key_of(&counter);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let store = Arc::clone(if i % 2 == 0 { &a } else { &b });
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..5 {
                loop {
                    let mut object = store.get(&key).await.unwrap();
                    let n: u32 = object["data"]["n"].as_str().unwrap().parse().unwrap();
                    object["data"]["n"] = json!((n + 1).to_string());
                    match store.update(object).await {
                        Ok(_) => break,
                        Err(StoreError::Conflict { .. }) => continue,
                        Err(e) => panic!("{e}"),
                    }
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(a.get(&key).await.unwrap()["data"]["n"], "50");
    // B's watch saw all of it, in order, woken only by notifications.
    let mut last = event.revision;
    for _ in 0..51 {
        let e = next_event(&mut watch_b).await;
        assert_eq!(e.revision, last + 1);
        last = e.revision;
    }
    assert_eq!(b.revision().await.unwrap(), last);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_survive_dropped_connections() {
    let h = PgHarness::new();
    let a = h.open().await;
    let b = h.open_with(notify_only(&h.key)).await;
    let mut watch_b = b.watch(WatchQuery::default()).await.unwrap();
    a.create(tenant("one")).await.unwrap();
    assert_eq!(next_event(&mut watch_b).await.revision, 1);

    // Kill every connection the stores have (pools and LISTEN).
    let admin = client(&h.server, "postgres").await;
    admin
        .execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE pid <> pg_backend_pid() AND application_name = 'palisade'",
            &[],
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Writes reconnect; B's listener reconnects and catches up.
    let mut created = None;
    for _ in 0..20 {
        match a.create(tenant("two")).await {
            Ok(object) => {
                created = Some(object);
                break;
            }
            Err(StoreError::Backend(_)) => tokio::time::sleep(Duration::from_millis(100)).await,
            Err(e) => panic!("{e}"),
        }
    }
    let created = created.expect("the store reconnects");
    let event = next_event(&mut watch_b).await;
    assert_eq!(event.object, created);
}

#[tokio::test]
async fn newer_schemas_are_refused_and_errors_name_the_server() {
    let h = PgHarness::new();
    drop(h.open().await);
    drop(h.open().await);
    let admin = client(&h.server, "postgres").await;
    let versions: i64 = admin
        .query_one("SELECT count(*) FROM palisade_schema_version", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(versions, 2);
    admin
        .execute(
            "INSERT INTO palisade_schema_version (version) VALUES (99)",
            &[],
        )
        .await
        .unwrap();
    let err = PgStore::connect(&h.url(), StoreOptions::new(h.key.clone()))
        .await
        .err()
        .expect("a newer schema is refused");
    let text = err.to_string();
    assert!(matches!(err, StoreError::Schema(_)), "{text}");
    assert!(text.contains("schema version 99"), "{text}");

    let err = PgStore::connect("mysql://nope", StoreOptions::new(h.key.clone()))
        .await
        .err()
        .expect("a bad URL is refused");
    assert!(
        err.to_string().contains("PostgreSQL URL is invalid"),
        "{err}"
    );

    // Nothing listens on port 1.
    let err = PgStore::connect(
        "postgres://postgres:pw@127.0.0.1:1/db",
        StoreOptions::new(h.key.clone()),
    )
    .await
    .err()
    .expect("no server");
    let text = err.to_string();
    assert!(
        text.contains("cannot connect to postgres://postgres@127.0.0.1:1/db"),
        "{text}"
    );
    assert!(!text.contains("pw"), "{text}");
}
