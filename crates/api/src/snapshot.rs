//! A consistent set of resources, as the compiler sees it, and the checks that need
//! the whole set: duplicates and references to resources that are not (yet) there.

use std::collections::HashMap;

use crate::check::Finding;
use crate::diag::{Diagnostic, ResourceKey, Severity};
use crate::kinds::Kind;
use crate::load::Loaded;

/// All resources from every source, each once, with its origin.
#[derive(Debug, Default, Clone)]
pub struct Snapshot {
    resources: Vec<Loaded>,
    index: HashMap<ResourceKey, usize>,
}

impl Snapshot {
    /// Builds a snapshot. A resource defined twice is an error at the second definition
    /// (the first one is kept, so the snapshot stays usable for reporting); references
    /// to resources that are absent are warnings, as `kubectl apply` would accept them.
    pub fn build(resources: Vec<Loaded>) -> (Snapshot, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let mut snapshot = Snapshot::default();
        for loaded in resources {
            let key = loaded.key();
            if let Some(&first) = snapshot.index.get(&key) {
                let first = &snapshot.resources[first];
                diagnostics.push(loaded.diagnostic(
                    Severity::Error,
                    "metadata.name",
                    format!(
                        "duplicate resource: {key} is already defined at {}",
                        first.origin
                    ),
                    "give each resource a unique kind/namespace/name, or remove one definition",
                ));
                continue;
            }
            snapshot.index.insert(key, snapshot.resources.len());
            snapshot.resources.push(loaded);
        }
        for loaded in &snapshot.resources {
            for located in &loaded.findings {
                let Finding::Reference(r) = &located.finding else {
                    continue;
                };
                let target = ResourceKey {
                    kind: r.kind.clone(),
                    namespace: r.namespace.clone(),
                    name: r.name.clone(),
                };
                if !snapshot.index.contains_key(&target) && !is_implicit(&target) {
                    diagnostics.push(loaded.diagnostic(
                        Severity::Warning,
                        &located.path,
                        format!("refers to {target}, which does not exist (yet)"),
                        format!("create the {} or fix the reference; until then this part does not work", r.kind),
                    ));
                }
            }
        }
        (snapshot, diagnostics)
    }

    /// Every resource, in load order.
    pub fn iter(&self) -> impl Iterator<Item = &Loaded> {
        self.resources.iter()
    }

    /// Number of resources.
    pub fn len(&self) -> usize {
        self.resources.len()
    }

    /// Whether the snapshot is empty.
    pub fn is_empty(&self) -> bool {
        self.resources.is_empty()
    }

    /// The resource with this identity.
    pub fn get_key(&self, key: &ResourceKey) -> Option<&Loaded> {
        self.index.get(key).map(|&i| &self.resources[i])
    }

    /// The resource of kind `K` named `name` in `namespace` (`None` for cluster-scoped).
    pub fn get<K: Kind>(&self, namespace: Option<&str>, name: &str) -> Option<(&Loaded, &K)> {
        let key = ResourceKey {
            kind: K::META.kind.to_string(),
            namespace: if K::META.namespaced {
                namespace.map(str::to_string)
            } else {
                None
            },
            name: name.to_string(),
        };
        let loaded = self.get_key(&key)?;
        loaded.resource.downcast::<K>().map(|k| (loaded, k))
    }

    /// Every resource of kind `K`.
    pub fn of_kind<K: Kind>(&self) -> impl Iterator<Item = (&Loaded, &K)> {
        self.resources
            .iter()
            .filter_map(|l| l.resource.downcast::<K>().map(|k| (l, k)))
    }
}

/// Namespaces come into being when a resource first names them, so a reference to a
/// namespace never dangles.
fn is_implicit(key: &ResourceKey) -> bool {
    key.kind == "Namespace"
}
