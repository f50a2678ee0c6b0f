//! The merged configuration: manifest files plus the objects stored through
//! the admin API, compiled through the one path every reload takes, and the
//! views of it the API server needs (authorizer, diagnostics per object,
//! read-only file objects, dry runs of a change).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use arc_swap::ArcSwap;
use palisade_api::diag::{Diagnostic, ResourceKey};
use palisade_api::load::{self, Batch, Loaded};
use palisade_apiserver::authn::BoxFuture;
use palisade_apiserver::{AccountDirectory, Change, Configuration};
use palisade_gateway::compile::Options;
use palisade_rbac::Authorizer;
use palisade_store::{ListQuery, ObjectKey, Store, StoreError};
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::config::{Compiled, Sources, compile_batch};
use crate::oidc::OidcProviders;
use palisade_agent::Agents;
use palisade_agent::definition::Definitions;

/// What one compile of the merged configuration knows.
pub struct View {
    /// Store revision the view includes.
    pub revision: i64,
    /// Objects defined in files, with their file.
    file_keys: HashMap<ObjectKey, String>,
    /// Objects from the store (Secrets decrypted), skipping file-defined keys.
    stored: Vec<Value>,
    /// RBAC of the merged configuration.
    authorizer: Arc<Authorizer>,
    /// Diagnostics by resource.
    diagnostics: HashMap<ResourceKey, Vec<Diagnostic>>,
    /// Errors of the compile, rendered (for dry-run comparisons).
    errors: HashSet<String>,
    namespaces: HashSet<String>,
    service_accounts: HashMap<(String, String), String>,
    agents: HashSet<(String, String)>,
    /// What each Agent asks the runtime to run, and whether it can.
    agent_defs: Arc<Definitions>,
}

/// The control plane's configuration state, shared with the API server.
pub struct ControlPlane {
    sources: Sources,
    store: Arc<dyn Store>,
    options: Options,
    view: ArcSwap<View>,
    synced: watch::Sender<i64>,
    oidc: Arc<OidcProviders>,
    /// The agent runtime, for what its turns found (shown in agents' status).
    runtime: std::sync::OnceLock<Arc<Agents>>,
}

/// The key of a loaded resource, as the store names it.
pub fn object_key(loaded: &Loaded) -> ObjectKey {
    let meta = loaded.resource.meta();
    let m = loaded.resource.metadata();
    ObjectKey::new(
        meta.group,
        meta.kind,
        m.namespace.clone().unwrap_or_default(),
        m.name.clone(),
    )
}

impl ControlPlane {
    /// A control plane over `sources` and `store`, not loaded yet.
    pub fn new(sources: Sources, store: Arc<dyn Store>, options: Options) -> Arc<ControlPlane> {
        let (synced, _) = watch::channel(-1);
        Arc::new(ControlPlane {
            sources,
            store,
            options,
            view: ArcSwap::from_pointee(View {
                revision: -1,
                file_keys: HashMap::new(),
                stored: Vec::new(),
                authorizer: Arc::new(Authorizer::default()),
                diagnostics: HashMap::new(),
                errors: HashSet::new(),
                namespaces: HashSet::new(),
                service_accounts: HashMap::new(),
                agents: HashSet::new(),
                agent_defs: Arc::default(),
            }),
            synced,
            oidc: Arc::new(OidcProviders::default()),
            runtime: std::sync::OnceLock::new(),
        })
    }

    /// The OIDC providers of the current configuration.
    pub fn oidc(&self) -> Arc<OidcProviders> {
        self.oidc.clone()
    }

    /// Shows what the agent runtime's turns find in agents' status (set once).
    pub fn set_agents(&self, agents: Arc<Agents>) {
        let _ = self.runtime.set(agents);
    }

    /// Hands the agents of the current configuration to the runtime (once
    /// their configuration is served).
    pub fn publish_agents(&self) {
        if let Some(runtime) = self.runtime.get() {
            runtime.update(self.agent_definitions());
        }
    }

    /// The agents of the current configuration.
    pub fn agent_definitions(&self) -> Arc<Definitions> {
        self.view.load().agent_defs.clone()
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The store revision the current view includes.
    pub fn revision(&self) -> i64 {
        self.view.load().revision
    }

    /// Loads files and the store and compiles them. The new view is kept (so
    /// the API reflects what is stored) even when the Plan has errors; the
    /// caller publishes the Plan only if there is one.
    pub async fn reload(&self, generation: u64) -> Result<Compiled, StoreError> {
        let revision = self.store.revision().await?;
        let stored = self.store.list(&ListQuery::all()).await?.items;
        let files = self.sources.load();
        let (compiled, view) = self.compile(files, stored, revision, generation, None);
        self.oidc.update(&compiled.snapshot);
        self.view.store(Arc::new(view));
        Ok(compiled)
    }

    /// Marks the view's revision as served (after its Plan was published or
    /// rejected), waking writers waiting in [`Configuration::synced`].
    pub fn mark_synced(&self) {
        let revision = self.view.load().revision;
        self.synced.send_replace(revision);
    }

    /// Compiles files plus `stored`, with `change` applied to the stored set.
    fn compile(
        &self,
        files: Batch,
        mut stored: Vec<Value>,
        revision: i64,
        generation: u64,
        change: Option<Change<'_>>,
    ) -> (Compiled, View) {
        let file_keys: HashMap<ObjectKey, String> = files
            .resources
            .iter()
            .map(|l| (object_key(l), l.origin.file.clone()))
            .collect();
        if let Some(change) = change {
            let changed = match change {
                Change::Put(object) => ObjectKey::of(object).ok(),
                Change::Delete(key) => Some(key.clone()),
            };
            stored.retain(|o| ObjectKey::of(o).ok() != changed);
            if let Change::Put(object) = change {
                stored.push(object.clone());
            }
        }
        stored.retain(|o| {
            ObjectKey::of(o).is_ok_and(|k| {
                let shadowed = file_keys.contains_key(&k);
                if shadowed {
                    tracing::warn!(object = %k, "a stored object is also defined in a file; the file wins");
                }
                !shadowed
            })
        });
        let mut batch = files;
        for object in &stored {
            let Ok(key) = ObjectKey::of(object) else {
                continue;
            };
            let text = serde_json::to_string_pretty(object).unwrap_or_default();
            let name = format!("api:{}/{}/{}", key.kind, key.namespace, key.name);
            batch.extend(load::load_str(&name, &text));
        }
        let compiled = compile_batch(batch, &self.options, generation);
        let mut diagnostics: HashMap<ResourceKey, Vec<Diagnostic>> = HashMap::new();
        for d in &compiled.diagnostics {
            if let Some(key) = &d.resource {
                diagnostics.entry(key.clone()).or_default().push(d.clone());
            }
        }
        let errors = compiled
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(render_without_origin)
            .collect();
        let mut namespaces = HashSet::new();
        let mut service_accounts = HashMap::new();
        let mut agents = HashSet::new();
        for loaded in compiled.snapshot.iter() {
            let key = object_key(loaded);
            match (key.group.as_str(), key.kind.as_str()) {
                ("", "Namespace") => {
                    namespaces.insert(key.name.clone());
                }
                // Every Agent acts as its own service account.
                ("", "ServiceAccount") | ("kagent.dev", "Agent") => {
                    if key.kind == "Agent" {
                        agents.insert((key.namespace.clone(), key.name.clone()));
                    }
                    let uid = loaded
                        .resource
                        .metadata()
                        .uid
                        .clone()
                        .unwrap_or_else(|| format!("file:{}/{}", key.namespace, key.name));
                    service_accounts.insert((key.namespace.clone(), key.name.clone()), uid);
                }
                _ => {}
            }
        }
        let view = View {
            revision,
            file_keys,
            stored,
            authorizer: Arc::new(Authorizer::new(&compiled.snapshot)),
            diagnostics,
            errors,
            namespaces,
            service_accounts,
            agents,
            agent_defs: Arc::new(palisade_agent::definition::compile(&compiled.snapshot)),
        };
        (compiled, view)
    }
}

/// A diagnostic without its origin (which names a generated file for stored
/// objects), for comparing error sets.
fn render_without_origin(d: &Diagnostic) -> String {
    let resource = d
        .resource
        .as_ref()
        .map(|r| format!("{r}: "))
        .unwrap_or_default();
    let field = if d.field.is_empty() {
        String::new()
    } else {
        format!("{}: ", d.field)
    };
    format!("{resource}{field}{}", d.message)
}

impl AccountDirectory for ControlPlane {
    fn service_account_uid(&self, namespace: &str, name: &str) -> Option<String> {
        self.view
            .load()
            .service_accounts
            .get(&(namespace.to_string(), name.to_string()))
            .cloned()
    }
}

impl Configuration for ControlPlane {
    fn authorizer(&self) -> Arc<Authorizer> {
        self.view.load().authorizer.clone()
    }

    fn file_source(&self, key: &ObjectKey) -> Option<String> {
        self.view.load().file_keys.get(key).cloned()
    }

    fn status_of(&self, key: &ObjectKey) -> Value {
        let view = self.view.load();
        let resource = ResourceKey {
            kind: key.kind.clone(),
            namespace: (!key.namespace.is_empty()).then(|| key.namespace.clone()),
            name: key.name.clone(),
        };
        let found = view.diagnostics.get(&resource);
        let list: Vec<Value> = found
            .into_iter()
            .flatten()
            .map(|d| {
                json!({
                    "severity": if d.is_error() { "error" } else { "warning" },
                    "field": d.field,
                    "message": d.message,
                    "hint": d.hint,
                })
            })
            .collect();
        let mut list = list;
        let errors = found.into_iter().flatten().filter(|d| d.is_error()).count();
        let agent = (key.group == "kagent.dev" && key.kind == "Agent")
            .then(|| {
                view.agent_defs
                    .get(&format!("{}/{}", key.namespace, key.name))
            })
            .flatten();
        if let Some(def) = agent {
            let notes = self
                .runtime
                .get()
                .map(|a| a.notes(&def.namespace, &def.name))
                .unwrap_or_default();
            for warning in def.warnings.iter().chain(&notes) {
                list.push(json!({
                    "severity": "warning",
                    "field": "spec.declarative.tools",
                    "message": warning,
                    "hint": "",
                }));
            }
        }
        let not_ready = agent.and_then(|d| d.not_ready.clone());
        let ready = errors == 0 && view.errors.is_empty() && not_ready.is_none();
        let (reason, message) = if let Some(why) = not_ready {
            ("NotReady", why)
        } else if errors > 0 {
            (
                "InvalidConfiguration",
                format!("{errors} error(s) in this object"),
            )
        } else if !view.errors.is_empty() {
            (
                "ConfigurationRejected",
                "the configuration has errors elsewhere; the previous one is still served".into(),
            )
        } else {
            ("Accepted", "served".to_string())
        };
        json!({
            "conditions": [{
                "type": "Ready",
                "status": if ready { "True" } else { "False" },
                "reason": reason,
                "message": message,
            }],
            "diagnostics": list,
            "observedRevision": view.revision,
        })
    }

    fn is_agent(&self, namespace: &str, name: &str) -> bool {
        self.view
            .load()
            .agents
            .contains(&(namespace.to_string(), name.to_string()))
    }

    fn namespace_exists(&self, namespace: &str) -> bool {
        self.view.load().namespaces.contains(namespace)
    }

    fn admit(&self, change: Change<'_>) -> Result<(), Vec<String>> {
        let view = self.view.load_full();
        let files = self.sources.load();
        let (compiled, _) =
            self.compile(files, view.stored.clone(), view.revision, 0, Some(change));
        let introduced: Vec<String> = compiled
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(render_without_origin)
            .filter(|e| !view.errors.contains(e))
            .collect();
        if introduced.is_empty() {
            Ok(())
        } else {
            Err(introduced)
        }
    }

    fn login_providers(&self) -> Vec<Value> {
        self.oidc.public_info()
    }

    fn synced(&self, revision: i64) -> BoxFuture<'_, ()> {
        let mut rx = self.synced.subscribe();
        Box::pin(async move {
            let _ = rx.wait_for(|served| *served >= revision).await;
        })
    }
}
