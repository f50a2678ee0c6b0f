//! What a virtual MCP server is made of: its targets, how each is reached, and the
//! federation settings. Built by the gateway when it compiles a Plan.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Uri};

use crate::federation::PrefixMode;
use crate::stdio::StdioCommand;

/// How to reach one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// A child process per client session, speaking stdio.
    Stdio(StdioCommand),
    /// Streamable HTTP at this URL.
    StreamableHttp(Uri),
    /// Legacy HTTP+SSE: the event stream's URL.
    Sse(Uri),
}

/// One upstream of a virtual server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Target name (used as the federation prefix).
    pub name: String,
    /// How to reach it.
    pub transport: Transport,
    /// Headers sent with every HTTP request to it (`headersFrom`).
    pub headers: UpstreamHeaders,
}

/// Headers Palisade adds to every request to an upstream, typically credentials
/// read from Secrets; `Debug` shows their names only, and the values are marked
/// sensitive.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UpstreamHeaders(Vec<(HeaderName, HeaderValue)>);

impl UpstreamHeaders {
    /// Headers from (name, value) pairs; fails on an invalid name or value.
    pub fn new(pairs: Vec<(String, String)>) -> Result<UpstreamHeaders, String> {
        let mut out = Vec::with_capacity(pairs.len());
        for (name, value) in pairs {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("`{name}` is not a valid header name"))?;
            let mut value = HeaderValue::from_str(&value)
                .map_err(|_| format!("the value of header `{name}` is not a valid header value"))?;
            value.set_sensitive(true);
            out.push((header, value));
        }
        Ok(UpstreamHeaders(out))
    }

    /// Adds the headers to a request's header map (replacing same-named ones).
    pub fn apply(&self, headers: &mut HeaderMap) {
        for (name, value) in &self.0 {
            headers.insert(name.clone(), value.clone());
        }
    }
}

impl std::fmt::Debug for UpstreamHeaders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(name, _)| name))
            .finish()
    }
}

/// What happens when a target cannot be reached (`failureMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailureMode {
    /// The session fails when any target fails (the default).
    #[default]
    FailClosed,
    /// Targets that fail are left out; the others serve.
    FailOpen,
}

/// A virtual MCP server: one or more targets seen as one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    /// `Kind/namespace/name` of the resource, for logs and errors.
    pub name: String,
    /// The targets, at least one.
    pub targets: Vec<Target>,
    /// Name prefixing.
    pub prefix: PrefixMode,
    /// Target failures.
    pub failure: FailureMode,
    /// Time an upstream gets to answer a request (or show progress) before the
    /// client gets an error and the upstream a cancellation.
    pub timeout: Duration,
    /// A long-running process the targets live in (`MCPServer` with
    /// `transportType: http`), kept running while the server is configured.
    pub process: Option<StdioCommand>,
    /// `sessionRouting: Stateless`: clients on the handshake revisions get no
    /// session; every request is served by upstream sessions shared by all of
    /// them, so any replica can serve any request.
    pub stateless: bool,
}

impl ServerSpec {
    /// Whether names are prefixed with their target.
    pub fn prefixes(&self) -> bool {
        self.prefix.applies(self.targets.len())
    }

    /// Target names, in order.
    pub fn target_names(&self) -> Vec<String> {
        self.targets.iter().map(|t| t.name.clone()).collect()
    }
}

/// A shared server description.
pub type SharedSpec = Arc<ServerSpec>;
