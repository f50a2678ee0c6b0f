//! The control plane verifies the tokens of the gateway's built-in routes:
//! Palisade's service-account (and agent) tokens, and people's tokens from a
//! configured `OIDCProvider`.

use std::sync::Arc;

use palisade_apiserver::authn::{ADMIN_USER, ct_eq, sha256};
use palisade_apiserver::{AccountDirectory, TokenIssuer};
use palisade_gateway::callers::{BoxFuture, CallerVerifier};
use palisade_gateway::jwt::Identity;
use palisade_identity::Claims;
use serde_json::json;

use crate::oidc::OidcProviders;
use crate::plane::ControlPlane;

/// Verifies callers for the data plane.
pub struct Callers {
    /// SHA-256 of the bootstrap admin token, when there is an admin listener.
    admin_hash: Option<[u8; 32]>,
    tokens: Arc<TokenIssuer>,
    oidc: Arc<OidcProviders>,
    plane: Arc<ControlPlane>,
}

impl Callers {
    /// Verifies the bootstrap admin token (by its hash), tokens of `tokens`
    /// (for accounts `plane` knows) and of the plane's OIDC providers.
    pub fn new(
        admin_hash: Option<[u8; 32]>,
        tokens: Arc<TokenIssuer>,
        plane: Arc<ControlPlane>,
    ) -> Callers {
        Callers {
            admin_hash,
            tokens,
            oidc: plane.oidc(),
            plane,
        }
    }
}

impl CallerVerifier for Callers {
    fn own_issuer(&self) -> &str {
        self.tokens.issuer()
    }

    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Identity, String>> {
        Box::pin(async move {
            if let Some(hash) = &self.admin_hash
                && ct_eq(&sha256(token.as_bytes()), hash)
            {
                let claims = json!({"sub": ADMIN_USER});
                return Ok(Identity::new(
                    self.tokens.issuer().to_string(),
                    ADMIN_USER.to_string(),
                    Claims::new(claims.as_object().cloned().unwrap_or_default()),
                ));
            }
            if let Some(result) = self.tokens.verify_claims(token) {
                let (user, uid, claims) = result?;
                let (ns, name) = user.as_service_account().unwrap_or_default();
                if self.plane.service_account_uid(ns, name).as_deref() != Some(uid.as_str()) {
                    return Err(format!(
                        "the token's service account {ns}/{name} no longer exists"
                    ));
                }
                return Ok(Identity::new(
                    self.tokens.issuer().to_string(),
                    user.name,
                    claims,
                ));
            }
            if let Some(result) = self.oidc.identify(token).await {
                let (user, claims) = result?;
                return Ok(Identity::new(
                    claims.iss().unwrap_or_default().to_string(),
                    user.name,
                    claims,
                ));
            }
            Err("the token is neither Palisade's nor a configured OIDCProvider's".into())
        })
    }
}
