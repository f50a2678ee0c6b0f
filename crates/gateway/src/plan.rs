//! The Plan: the immutable runtime form of a configuration. Compiled once per
//! configuration change, swapped atomically; a request reads one `Arc<Plan>` from
//! start to end.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use palisade_mcp::server::ServerSpec;

use serde::Serialize;

use crate::access::AccessRules;
use crate::policies::PolicyStatus;
use crate::route::{Action, RouteTable};

/// Everything the data plane needs to serve requests.
#[derive(Debug, Default, Serialize)]
pub struct Plan {
    /// Increases by one with every Plan published.
    pub generation: u64,
    /// Route tables by listening socket. The default listener and every Gateway
    /// listener bound to the same address share one table.
    pub sockets: BTreeMap<SocketAddr, RouteTable>,
    /// Number of resources the Plan was compiled from.
    pub resources: usize,
    /// The built-in default listener, which also serves `/mcp/<ns>/<name>`.
    pub default_listener: Option<SocketAddr>,
    /// MCPServers and RemoteMCPServers by namespace, then name (looked up per
    /// request without building a key).
    #[serde(serialize_with = "server_names")]
    pub mcp_servers: BTreeMap<String, BTreeMap<String, BuiltinMcp>>,
    /// AccessPolicies on Agents, by `namespace/name`.
    #[serde(skip)]
    pub agent_access: std::collections::HashMap<String, Arc<AccessRules>>,
    /// ModelConfigs by namespace, then name, served at `/llm/<ns>/<name>/...`.
    #[serde(serialize_with = "model_names")]
    pub models: BTreeMap<String, BTreeMap<String, BuiltinModel>>,
    /// Whether the built-in routes serve callers without a token
    /// (`--insecure-allow-anonymous`).
    pub allow_anonymous: bool,
    /// Whether each policy (AgentgatewayPolicy, EnterpriseAgentgatewayPolicy,
    /// AccessPolicy) is applied, and why not.
    pub policies: Vec<PolicyStatus>,
}

/// A server served at `/mcp/<ns>/<name>`, with its metrics label built once.
#[derive(Debug, Clone)]
pub struct BuiltinMcp {
    /// The server.
    pub spec: Arc<ServerSpec>,
    /// `Kind/namespace/name`, the label of its requests.
    pub label: Arc<str>,
    /// The AccessPolicies on it, if any.
    pub access: Option<Arc<AccessRules>>,
}

impl BuiltinMcp {
    /// Wraps a server.
    pub fn new(spec: Arc<ServerSpec>) -> Self {
        let label = Arc::from(spec.name.as_str());
        BuiltinMcp {
            spec,
            label,
            access: None,
        }
    }
}

/// A ModelConfig served at `/llm/<ns>/<name>/...`: its provider with the
/// policies that target it.
#[derive(Debug, Clone)]
pub struct BuiltinModel {
    /// `ModelConfig/namespace/name`, the label of its requests.
    pub label: Arc<str>,
    /// The provider, policies and AccessPolicies.
    pub action: Arc<Action>,
}

fn model_names<S: serde::Serializer>(
    models: &BTreeMap<String, BTreeMap<String, BuiltinModel>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(
        models
            .values()
            .flat_map(|ns| ns.values())
            .map(|b| &*b.label),
    )
}

fn server_names<S: serde::Serializer>(
    servers: &BTreeMap<String, BTreeMap<String, BuiltinMcp>>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(
        servers
            .values()
            .flat_map(|ns| ns.values())
            .map(|b| &*b.label),
    )
}

impl Plan {
    /// Every virtual MCP server the Plan serves, built-in or behind a route.
    pub fn mcp_specs(&self) -> Vec<Arc<ServerSpec>> {
        let mut specs: Vec<Arc<ServerSpec>> = self
            .mcp_servers
            .values()
            .flat_map(|ns| ns.values())
            .map(|b| b.spec.clone())
            .collect();
        for table in self.sockets.values() {
            for rule in &table.rules {
                for (backend, _) in &rule.action.backends {
                    if let Some(spec) = backend.mcp_server()
                        && !specs.iter().any(|s| Arc::ptr_eq(s, spec))
                    {
                        specs.push(spec.clone());
                    }
                }
            }
        }
        specs
    }

    /// The built-in MCP server a request path names on the default listener:
    /// `/mcp/<ns>/<name>` (streamable HTTP) or `/sse/<ns>/<name>[/message]` (legacy
    /// SSE). Returns the server, whether it is the legacy transport, and the base path.
    pub fn builtin_mcp(&self, path: &str) -> Option<(&BuiltinMcp, bool, usize)> {
        let (legacy, rest) = if let Some(rest) = path.strip_prefix("/mcp/") {
            (false, rest)
        } else {
            (true, path.strip_prefix("/sse/")?)
        };
        let mut parts = rest.splitn(3, '/');
        let namespace = parts.next()?;
        let name = parts.next()?;
        let tail = parts.next();
        match (legacy, tail) {
            (_, None) | (true, Some("message")) => {}
            _ => return None,
        }
        let server = self.mcp_servers.get(namespace)?.get(name)?;
        Some((server, legacy, 5 + namespace.len() + 1 + name.len()))
    }

    /// The built-in LLM route a request path names on the default listener:
    /// `/llm/<ns>/<name>/<provider path>`.
    pub fn builtin_model(&self, path: &str) -> Option<&BuiltinModel> {
        let mut parts = path.strip_prefix("/llm/")?.splitn(3, '/');
        let namespace = parts.next()?;
        let name = parts.next()?;
        parts.next()?;
        self.models.get(namespace)?.get(name)
    }

    /// The AccessPolicies on agent `namespace/name`, if any.
    pub fn agent_access(&self, namespace: &str, name: &str) -> Option<&Arc<AccessRules>> {
        self.agent_access.get(&format!("{namespace}/{name}"))
    }

    /// The route table of the socket a request arrived on.
    pub fn table(&self, local: &SocketAddr) -> Option<&RouteTable> {
        self.sockets.get(local)
    }
}
