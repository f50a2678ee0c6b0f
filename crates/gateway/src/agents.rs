//! Agents served over A2A at `/api/a2a/<namespace>/<name>` on the default
//! listener. The gateway authenticates the caller (as on every built-in
//! route) and applies the AccessPolicies that target the Agent; the agent
//! runtime behind [`AgentService`] answers.

use std::sync::Arc;

use http::{Request, Response};
use hyper::body::Incoming;

use crate::body::Body;
use crate::callers::BoxFuture;
use crate::jwt::Identity;

/// Where A2A requests are served.
pub const A2A_PREFIX: &str = "/api/a2a/";

/// Serves the A2A requests of agents.
pub trait AgentService: Send + Sync {
    /// Answers a request to agent `namespace/name` from `caller` (`None`:
    /// anonymous, only with `--insecure-allow-anonymous`).
    fn handle(
        self: Arc<Self>,
        namespace: String,
        name: String,
        caller: Option<Arc<Identity>>,
        req: Request<Incoming>,
    ) -> BoxFuture<'static, Response<Body>>;
}

/// The agent an A2A path names: `/api/a2a/<ns>/<name>[/...]`.
pub fn agent_path(path: &str) -> Option<(&str, &str)> {
    let mut parts = path.strip_prefix(A2A_PREFIX)?.splitn(3, '/');
    let namespace = parts.next().filter(|s| !s.is_empty())?;
    let name = parts.next().filter(|s| !s.is_empty())?;
    Some((namespace, name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_paths() {
        assert_eq!(agent_path("/api/a2a/ns/a"), Some(("ns", "a")));
        assert_eq!(
            agent_path("/api/a2a/ns/a/.well-known/agent-card.json"),
            Some(("ns", "a"))
        );
        assert_eq!(agent_path("/api/a2a/ns"), None);
        assert_eq!(agent_path("/api/a2a//a"), None);
        assert_eq!(agent_path("/mcp/ns/a"), None);
    }
}
