//! Backends a route can send to, resolved at compile time to something dialable.

use std::sync::Arc;

use http::uri::Authority;
use palisade_mcp::server::ServerSpec;
use serde::Serialize;

/// A resolved upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Backend {
    /// `Kind/namespace/name[:port]`, for logs and metrics.
    pub name: String,
    /// Where to send requests.
    pub target: Target,
    /// The target's URI authority, parsed once at compile time (HTTP targets).
    #[serde(skip)]
    authority: Option<Authority>,
    /// The virtual MCP server (MCP targets).
    #[serde(skip)]
    mcp: Option<Arc<ServerSpec>>,
}

impl Backend {
    /// A plain HTTP/1.1 backend at `host:port`; fails when the pair is not a valid
    /// URI authority.
    pub fn http(name: String, host: String, port: u16) -> Result<Self, String> {
        let text = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let authority = Authority::try_from(text.as_str())
            .map_err(|e| format!("{name}: `{text}` is not a valid host and port: {e}"))?;
        Ok(Backend {
            name,
            target: Target::Http { host, port },
            authority: Some(authority),
            mcp: None,
        })
    }

    /// A virtual MCP server, served by Palisade's MCP endpoint.
    pub fn mcp(name: String, server: Arc<ServerSpec>) -> Self {
        Backend {
            target: Target::Mcp {
                server: server.name.clone(),
            },
            name,
            authority: None,
            mcp: Some(server),
        }
    }

    /// `host:port` (IPv6 addresses bracketed) of an HTTP target.
    pub fn authority(&self) -> Option<&Authority> {
        self.authority.as_ref()
    }

    /// The MCP server of an MCP target.
    pub fn mcp_server(&self) -> Option<&Arc<ServerSpec>> {
        self.mcp.as_ref()
    }
}

/// How to reach a backend.
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
}
