//! Backends a route can send to, resolved at compile time to something dialable.

use serde::Serialize;

/// A resolved upstream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Backend {
    /// `Kind/namespace/name[:port]`, for logs and metrics.
    pub name: String,
    /// Where to send requests.
    pub target: Target,
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
}

impl Target {
    /// `host:port` (IPv6 addresses bracketed), as used in an `http://` URI authority.
    pub fn authority(&self) -> String {
        match self {
            Target::Http { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            Target::Http { host, port } => format!("{host}:{port}"),
        }
    }
}
