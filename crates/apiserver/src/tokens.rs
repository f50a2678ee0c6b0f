//! Service-account tokens: short-lived ES256 JWTs Palisade signs with its own
//! key ring, for `system:serviceaccount:<ns>:<name>`, and their verification.

use std::path::PathBuf;
use std::sync::RwLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use palisade_identity::unverified_issuer;
use palisade_identity::{Claims, KeyRing, KeyRingError, Validation, verify};
use palisade_rbac::User;
use serde_json::{Value, json};

/// Audience of the tokens Palisade issues for its own API and gateway.
pub const AUDIENCE: &str = "palisade";
/// Lifetime of a token when the request names none (kubectl's default is 1 h).
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// Shortest lifetime a token may be asked for (Kubernetes' minimum).
pub const MIN_LIFETIME: Duration = Duration::from_secs(600);
/// Longest lifetime a token may be asked for.
pub const MAX_LIFETIME: Duration = Duration::from_secs(48 * 3600);
/// Age after which the signing key is replaced at start-up.
pub const KEY_ROTATION_AGE: Duration = Duration::from_secs(30 * 24 * 3600);

/// Issues and verifies service-account tokens.
pub struct TokenIssuer {
    issuer: String,
    keys: RwLock<KeyRing>,
    dir: PathBuf,
}

/// A token and when it expires (Unix seconds).
#[derive(Debug)]
pub struct IssuedToken {
    /// The compact JWT.
    pub token: String,
    /// Expiry, Unix seconds.
    pub expires: i64,
}

impl TokenIssuer {
    /// An issuer named `issuer` (the `iss` claim) with the key ring in `dir`
    /// (created on first use, mode 0600).
    /// A signing key older than [`KEY_ROTATION_AGE`] is rotated; retired keys
    /// are dropped once no token they signed can still be valid.
    pub fn load_or_create(issuer: impl Into<String>, dir: PathBuf) -> Result<Self, KeyRingError> {
        let mut keys = KeyRing::load_or_create(&dir)?;
        let now = unix_now() as u64;
        if now.saturating_sub(keys.current_created()) > KEY_ROTATION_AGE.as_secs() {
            keys.rotate()?;
            tracing::info!(kid = keys.kid(), "service-account signing key rotated");
        }
        let pruned = keys.prune_retired(now.saturating_sub(MAX_LIFETIME.as_secs()));
        if pruned > 0 {
            tracing::info!(pruned, "retired signing keys no longer needed were dropped");
        }
        keys.save(&dir)?;
        Ok(TokenIssuer {
            issuer: issuer.into(),
            keys: RwLock::new(keys),
            dir,
        })
    }

    /// The `iss` of issued tokens.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The public keys, as a JWKS document.
    pub fn jwks(&self) -> Value {
        self.keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .jwks_json()
    }

    /// Signs a token for ServiceAccount `namespace/name` (whose uid is `uid`)
    /// valid for `lifetime` (clamped to the allowed range). An agent's token
    /// also names the agent (`palisade.dev.agent`, read by CEL rules as `agent`).
    pub fn issue(
        &self,
        namespace: &str,
        name: &str,
        uid: &str,
        lifetime: Duration,
        agent: bool,
    ) -> Result<IssuedToken, String> {
        let lifetime = lifetime.clamp(MIN_LIFETIME, MAX_LIFETIME);
        let now = unix_now();
        let expires = now + lifetime.as_secs() as i64;
        let mut jti = [0u8; 16];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut jti)
            .map_err(|_| "the system random source failed".to_string())?;
        let mut claims = json!({
            "iss": self.issuer,
            "sub": palisade_api::kinds::core::service_account_principal(namespace, name),
            "aud": [AUDIENCE],
            "iat": now,
            "nbf": now,
            "exp": expires,
            "jti": jti.iter().map(|b| format!("{b:02x}")).collect::<String>(),
            "palisade.dev": {"serviceaccount": {"namespace": namespace, "name": name, "uid": uid}},
        });
        if agent {
            claims["palisade.dev"]["agent"] = json!({"namespace": namespace, "name": name});
        }
        let Value::Object(claims) = claims else {
            unreachable!("a json! object literal is an object")
        };
        let token = self
            .keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .sign(&claims)
            .map_err(|e| format!("cannot sign the token: {e}"))?;
        Ok(IssuedToken { token, expires })
    }

    /// The ServiceAccount a token of ours names, with the uid it was issued
    /// for, if it verifies. `None` for tokens of other issuers.
    pub fn verify(&self, token: &str) -> Option<Result<(User, String), String>> {
        self.verify_claims(token)
            .map(|r| r.map(|(user, uid, _)| (user, uid)))
    }

    /// Like [`TokenIssuer::verify`], with the token's claims.
    pub fn verify_claims(&self, token: &str) -> Option<Result<(User, String, Claims), String>> {
        let issuer = unverified_issuer(token)?;
        if issuer != self.issuer {
            return None;
        }
        let keys = self
            .keys
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .key_set();
        let validation = Validation::new([self.issuer.clone()], [AUDIENCE.to_string()])
            .with_required_claims(["sub", "exp", "iat"]);
        Some(
            verify(token, &keys, &validation)
                .map_err(|e| format!("invalid service-account token: {e}"))
                .and_then(|claims| {
                    let sa = claims
                        .get("palisade.dev")
                        .and_then(|p| p.get("serviceaccount"))
                        .cloned()
                        .unwrap_or(Value::Null);
                    let field =
                        |name: &str| sa.get(name).and_then(Value::as_str).map(str::to_string);
                    match (field("namespace"), field("name"), field("uid")) {
                        (Some(ns), Some(name), Some(uid)) => {
                            Ok((User::service_account(&ns, &name), uid, claims))
                        }
                        _ => Err("the service-account token names no service account".into()),
                    }
                }),
        )
    }

    /// Starts signing with a new key; tokens of the old one keep verifying
    /// until they expire. The key ring is saved.
    pub fn rotate(&self) -> Result<(), KeyRingError> {
        let mut keys = self.keys.write().unwrap_or_else(|p| p.into_inner());
        keys.rotate()?;
        keys.save(&self.dir)
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_their_account_and_an_agent_its_agent() {
        let dir = std::env::temp_dir().join(format!("palisade-tokens-{}", std::process::id()));
        let issuer = TokenIssuer::load_or_create("http://127.0.0.1:1", dir.clone()).unwrap();
        let plain = issuer
            .issue("policies", "reader", "uid-1", DEFAULT_LIFETIME, false)
            .unwrap();
        let (user, uid, claims) = issuer.verify_claims(&plain.token).unwrap().unwrap();
        assert_eq!(user.name, "system:serviceaccount:policies:reader");
        assert_eq!(uid, "uid-1");
        assert!(claims.get("palisade.dev").unwrap().get("agent").is_none());
        let agent = issuer
            .issue(
                "policies",
                "test-tools-agent",
                "uid-2",
                DEFAULT_LIFETIME,
                true,
            )
            .unwrap();
        let (_, _, claims) = issuer.verify_claims(&agent.token).unwrap().unwrap();
        assert_eq!(
            claims.get("palisade.dev").unwrap()["agent"],
            json!({"namespace": "policies", "name": "test-tools-agent"})
        );
        // Tokens of other issuers are not ours to judge.
        assert!(issuer.verify_claims("a.b.c").is_none());
        std::fs::remove_dir_all(dir).unwrap();
    }
}
