//! Backends a route can send to, resolved at compile time to something dialable.

use std::sync::Arc;

use http::uri::Authority;
use palisade_mcp::server::ServerSpec;
use serde::Serialize;

use crate::access::AccessRules;
use crate::llm::LlmTarget;

/// A resolved upstream.
#[derive(Debug, Clone, Serialize)]
pub struct Backend {
    /// `Kind/namespace/name[:port]`, for logs and metrics.
    pub name: String,
    /// Where to send requests.
    pub target: Target,
    /// What the proxy needs at request time, built once.
    #[serde(skip)]
    kind: Kind,
    /// The AccessPolicies on the resource (MCP servers, ModelConfigs).
    #[serde(skip)]
    pub access: Option<Arc<AccessRules>>,
}

/// The request-time form of a backend.
#[derive(Debug, Clone)]
enum Kind {
    Http(Authority),
    Mcp(Arc<ServerSpec>),
    Llm(Arc<LlmTarget>),
}

/// Parses `host:port` (IPv6 bracketed) into a URI authority.
pub fn authority(host: &str, port: u16) -> Result<Authority, String> {
    let text = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Authority::try_from(text.as_str())
        .map_err(|e| format!("`{text}` is not a valid host and port: {e}"))
}

impl Backend {
    /// A plain HTTP/1.1 backend at `host:port`; fails when the pair is not a valid
    /// URI authority.
    pub fn http(name: String, host: String, port: u16) -> Result<Self, String> {
        let parsed = authority(&host, port).map_err(|e| format!("{name}: {e}"))?;
        Ok(Backend {
            name,
            target: Target::Http { host, port },
            kind: Kind::Http(parsed),
            access: None,
        })
    }

    /// A virtual MCP server, served by Palisade's MCP endpoint.
    pub fn mcp(name: String, server: Arc<ServerSpec>) -> Self {
        Backend {
            target: Target::Mcp {
                server: server.name.clone(),
            },
            name,
            kind: Kind::Mcp(server),
            access: None,
        }
    }

    /// An LLM provider.
    pub fn llm(name: String, target: Arc<LlmTarget>) -> Self {
        Backend {
            target: Target::Llm {
                provider: target.provider.name(),
                upstream: target.base.to_string(),
            },
            name,
            kind: Kind::Llm(target),
            access: None,
        }
    }

    /// This backend with the AccessPolicies of its resource.
    pub fn with_access(mut self, access: Option<Arc<AccessRules>>) -> Self {
        self.access = access;
        self
    }

    /// `host:port` of an HTTP target.
    pub fn authority(&self) -> Option<&Authority> {
        match &self.kind {
            Kind::Http(a) => Some(a),
            _ => None,
        }
    }

    /// The MCP server of an MCP target.
    pub fn mcp_server(&self) -> Option<&Arc<ServerSpec>> {
        match &self.kind {
            Kind::Mcp(s) => Some(s),
            _ => None,
        }
    }

    /// The provider of an LLM target.
    pub fn llm_target(&self) -> Option<&Arc<LlmTarget>> {
        match &self.kind {
            Kind::Llm(t) => Some(t),
            _ => None,
        }
    }
}

/// How to reach a backend (as shown by `/config`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Target {
    /// Plain HTTP/1.1 to `host:port`.
    Http {
        /// Host name or IP address.
        host: String,
        /// TCP port.
        port: u16,
    },
    /// A virtual MCP server (MCPServer, RemoteMCPServer, AgentgatewayBackend `mcp`).
    Mcp {
        /// `Kind/namespace/name` of the server.
        server: String,
    },
    /// An LLM provider (the API key is never shown).
    Llm {
        /// Provider name.
        provider: &'static str,
        /// Upstream base URL.
        upstream: String,
    },
}
