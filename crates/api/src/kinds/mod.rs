//! Every resource kind Palisade accepts, and the registry that maps `apiVersion`/`kind`
//! to a typed parser.
//!
//! Each kind's types live in the module of its API group; each implements [`Kind`] with
//! the [`impl_kind!`](crate::impl_kind) macro. The [`Resource`] enum and the
//! [`KINDS`] table are generated from one list at the bottom of this file.

pub mod access_policy;
pub mod agentgateway;
pub mod core;
pub mod gateway_api;
pub mod kagent;
pub mod palisade;
pub mod rbac;

use std::fmt::Debug;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::check::{Check, Checker};
use crate::meta::ObjectMeta;

/// Static facts about a kind, as the registry, the CLI and RBAC need them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindMeta {
    /// API group, `""` for the core group.
    pub group: &'static str,
    /// Served versions, preferred first.
    pub versions: &'static [&'static str],
    /// Kind name, e.g. `MCPServer`.
    pub kind: &'static str,
    /// Lower-case plural used by RBAC and the CLI, e.g. `mcpservers`.
    pub plural: &'static str,
    /// Short names accepted by the CLI, e.g. `mcps`.
    pub short_names: &'static [&'static str],
    /// Whether objects live in a namespace.
    pub namespaced: bool,
}

impl KindMeta {
    /// `group/version` for `version` (just `version` in the core group).
    pub fn api_version(&self, version: &str) -> String {
        if self.group.is_empty() {
            version.to_string()
        } else {
            format!("{}/{}", self.group, version)
        }
    }

    /// Every `apiVersion` string this kind accepts.
    pub fn api_versions(&self) -> Vec<String> {
        self.versions.iter().map(|v| self.api_version(v)).collect()
    }
}

/// A typed resource kind.
pub trait Kind:
    DeserializeOwned + Serialize + Check + Clone + Debug + Send + Sync + 'static
{
    /// The kind's static facts.
    const META: KindMeta;
    /// The object's metadata.
    fn metadata(&self) -> &ObjectMeta;
    /// The object's metadata, mutable (the loader defaults the namespace).
    fn metadata_mut(&mut self) -> &mut ObjectMeta;
}

/// Implements [`Kind`] for a type that has a `metadata: ObjectMeta` field.
///
/// `impl_kind!(Object<AgentSpec>, group "kagent.dev", versions ["v1alpha2"], kind "Agent",
/// plural "agents", short [], namespaced true);`
#[macro_export]
macro_rules! impl_kind {
    ($ty:ty, group $group:literal, versions [$($v:literal),+], kind $kind:literal,
     plural $plural:literal, short [$($s:literal),*], namespaced $ns:literal) => {
        impl $crate::kinds::Kind for $ty {
            const META: $crate::kinds::KindMeta = $crate::kinds::KindMeta {
                group: $group,
                versions: &[$($v),+],
                kind: $kind,
                plural: $plural,
                short_names: &[$($s),*],
                namespaced: $ns,
            };
            fn metadata(&self) -> &$crate::meta::ObjectMeta {
                &self.metadata
            }
            fn metadata_mut(&mut self) -> &mut $crate::meta::ObjectMeta {
                &mut self.metadata
            }
        }
    };
}

/// A registry entry: the kind's facts and its parser.
#[derive(Clone, Copy)]
pub struct KindEntry {
    /// Static facts.
    pub meta: KindMeta,
    /// Parses one object of this kind from JSON, reporting the failing field path.
    pub parse:
        fn(serde_json::Value) -> Result<Resource, serde_path_to_error::Error<serde_json::Error>>,
}

impl Debug for KindEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.meta.fmt(f)
    }
}

macro_rules! registry {
    ($($variant:ident => $ty:ty),+ $(,)?) => {
        /// Any resource Palisade knows, typed.
        #[derive(Debug, Clone)]
        #[allow(missing_docs)]
        pub enum Resource {
            $($variant(Box<$ty>)),+
        }

        impl Resource {
            /// The kind's static facts.
            pub fn meta(&self) -> &'static KindMeta {
                match self {
                    $(Resource::$variant(_) => &<$ty as Kind>::META),+
                }
            }

            /// The object's metadata.
            pub fn metadata(&self) -> &ObjectMeta {
                match self {
                    $(Resource::$variant(r) => r.metadata()),+
                }
            }

            /// The object's metadata, mutable.
            pub fn metadata_mut(&mut self) -> &mut ObjectMeta {
                match self {
                    $(Resource::$variant(r) => r.metadata_mut()),+
                }
            }

            /// Runs the kind's static checks.
            pub fn check(&self, cx: &mut Checker) {
                match self {
                    $(Resource::$variant(r) => r.check(cx)),+
                }
            }

            /// The typed object, for downcasting with [`Resource::downcast`].
            pub fn as_any(&self) -> &dyn std::any::Any {
                match self {
                    $(Resource::$variant(r) => r.as_ref()),+
                }
            }

            /// The object as JSON (as it would be stored; Secret data included).
            pub fn to_json(&self) -> serde_json::Value {
                let value = match self {
                    $(Resource::$variant(r) => serde_json::to_value(r)),+
                };
                value.expect("resource kinds serialize to JSON")
            }
        }

        /// Every kind, in a fixed order.
        pub static KINDS: &[KindEntry] = &[
            $(KindEntry {
                meta: <$ty as Kind>::META,
                parse: |value| {
                    serde_path_to_error::deserialize::<_, $ty>(value)
                        .map(|r| Resource::$variant(Box::new(r)))
                },
            }),+
        ];
    };
}

registry! {
    Agent => kagent::Agent,
    ModelConfig => kagent::ModelConfig,
    RemoteMcpServer => kagent::RemoteMcpServer,
    McpServer => kagent::McpServer,
    AccessPolicy => access_policy::AccessPolicy,
    AgentgatewayPolicy => agentgateway::AgentgatewayPolicy,
    EnterpriseAgentgatewayPolicy => agentgateway::EnterpriseAgentgatewayPolicy,
    AgentgatewayBackend => agentgateway::AgentgatewayBackend,
    Gateway => gateway_api::Gateway,
    HttpRoute => gateway_api::HttpRoute,
    Namespace => core::Namespace,
    Secret => core::Secret,
    ServiceAccount => core::ServiceAccount,
    Service => core::Service,
    Role => rbac::Role,
    ClusterRole => rbac::ClusterRole,
    RoleBinding => rbac::RoleBinding,
    ClusterRoleBinding => rbac::ClusterRoleBinding,
    OidcProvider => palisade::OidcProvider,
}

impl Resource {
    /// The typed object when this resource is of kind `K`.
    pub fn downcast<K: Kind>(&self) -> Option<&K> {
        self.as_any().downcast_ref::<K>()
    }

    /// Identifies this resource (kind, namespace, name).
    pub fn key(&self) -> crate::diag::ResourceKey {
        let meta = self.metadata();
        crate::diag::ResourceKey {
            kind: self.meta().kind.to_string(),
            namespace: meta.namespace.clone(),
            name: meta.name.clone(),
        }
    }
}

/// Finds the registry entry for an `apiVersion` and `kind`.
pub fn lookup(api_version: &str, kind: &str) -> Option<&'static KindEntry> {
    KINDS.iter().find(|e| {
        e.meta.kind == kind
            && e.meta
                .versions
                .iter()
                .any(|v| e.meta.api_version(v) == api_version)
    })
}

/// Finds the registry entry for a kind name, plural, short name or `plural.group`
/// (case-insensitive), as the CLI and RBAC name resources.
pub fn lookup_name(name: &str) -> Option<&'static KindEntry> {
    let name = name.to_ascii_lowercase();
    let (base, group) = match name.split_once('.') {
        Some((b, g)) => (b.to_string(), Some(g.to_string())),
        None => (name.clone(), None),
    };
    KINDS.iter().find(|e| {
        let m = &e.meta;
        let names_match = m.kind.eq_ignore_ascii_case(&base)
            || m.plural == base
            || m.short_names.contains(&base.as_str());
        names_match && group.as_deref().is_none_or(|g| g == m.group)
    })
}
