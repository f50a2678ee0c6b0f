//! Agents' identities for the agent runtime: each turn's model and tool
//! calls carry a short-lived token of the agent's own service account.

use std::sync::Arc;
use std::time::Duration;

use palisade_agent::AgentTokens;
use palisade_apiserver::{AccountDirectory, TokenIssuer};

use crate::plane::ControlPlane;

/// How long an agent's token is valid (a turn gets a fresh one).
const TURN_TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Mints agents' tokens with the service-account issuer.
pub struct Tokens {
    issuer: Arc<TokenIssuer>,
    plane: Arc<ControlPlane>,
}

impl Tokens {
    /// Tokens signed by `issuer` for the agents `plane` knows.
    pub fn new(issuer: Arc<TokenIssuer>, plane: Arc<ControlPlane>) -> Tokens {
        Tokens { issuer, plane }
    }
}

impl AgentTokens for Tokens {
    fn agent_token(&self, namespace: &str, name: &str) -> Result<String, String> {
        let uid = self
            .plane
            .service_account_uid(namespace, name)
            .ok_or_else(|| format!("agent {namespace}/{name} is not known to the control plane"))?;
        self.issuer
            .issue(namespace, name, &uid, TURN_TOKEN_LIFETIME, true)
            .map(|issued| issued.token)
    }
}
