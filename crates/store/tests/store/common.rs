//! What the conformance cases need from a backend, and small helpers.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use palisade_store::{EncryptionKey, ObjectKey, Store, StoreOptions, Watch, WatchEvent};
use serde_json::{Value, json};

/// One backend's database for one test: open the store on it (again, to test a
/// restart) and peek at raw rows.
pub trait Harness: Send + Sync {
    /// The key stores are opened with by default.
    fn key(&self) -> &EncryptionKey;

    /// Opens a store on the harness's database with `options`.
    fn open_with(&self, options: StoreOptions) -> impl Future<Output = Arc<dyn Store>>;

    /// Opens a store with the default options.
    fn open(&self) -> impl Future<Output = Arc<dyn Store>> {
        self.open_with(StoreOptions::new(self.key().clone()))
    }

    /// The `body` column of an object's row, read straight from the database.
    fn raw_body(&self, key: &ObjectKey) -> impl Future<Output = String>;

    /// Overwrites the `body` column of an object's row.
    fn set_raw_body(&self, key: &ObjectKey, body: &str) -> impl Future<Output = ()>;
}

/// A fresh directory under the system temp dir, removed on drop.
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<tmp>/<prefix>-<pid>-<n>-<nanos>`.
    pub fn new(prefix: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("{prefix}-{}-{n}-{nanos:x}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create a temp dir");
        TempDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A namespaced `palisade.io/v1` Agent with labels and a spec.
pub fn agent(namespace: &str, name: &str, labels: Value, spec: Value) -> Value {
    json!({
        "apiVersion": "palisade.io/v1",
        "kind": "Agent",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": spec,
    })
}

/// A core ConfigMap.
pub fn config_map(namespace: &str, name: &str, data: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data,
    })
}

/// A cluster-scoped `palisade.io/v1` Tenant.
pub fn tenant(name: &str) -> Value {
    json!({"apiVersion": "palisade.io/v1", "kind": "Tenant", "metadata": {"name": name}})
}

/// A core Secret.
pub fn secret(namespace: &str, name: &str, data: Value, string_data: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": "vault"}},
        "type": "Opaque",
        "data": data,
        "stringData": string_data,
    })
}

/// The key of a manifest.
pub fn key_of(object: &Value) -> ObjectKey {
    ObjectKey::of(object).expect("a valid manifest")
}

/// `metadata.resourceVersion`.
pub fn rv(object: &Value) -> String {
    object["metadata"]["resourceVersion"]
        .as_str()
        .expect("a resourceVersion")
        .to_string()
}

/// `metadata.name`s of objects, in order.
pub fn names(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .map(|o| {
            o["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .collect()
}

/// The next event, failing the test after 10 s or on an error or the end.
pub async fn next_event(watch: &mut Watch) -> WatchEvent {
    match tokio::time::timeout(Duration::from_secs(10), watch.next()).await {
        Ok(Some(Ok(event))) => event,
        Ok(Some(Err(e))) => panic!("watch error: {e}"),
        Ok(None) => panic!("the watch ended"),
        Err(_) => panic!("no watch event within 10 s"),
    }
}

/// Fails if the watch yields anything within `wait`.
pub async fn expect_quiet(watch: &mut Watch, wait: Duration) {
    if let Ok(item) = tokio::time::timeout(wait, watch.next()).await {
        panic!("expected no event, got {item:?}");
    }
}
