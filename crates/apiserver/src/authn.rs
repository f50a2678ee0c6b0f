//! Who is calling: the bootstrap admin token, Palisade's service-account
//! tokens, or an external (OIDC) token, plus impersonation.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::HeaderMap;
use http::header::AUTHORIZATION;
use palisade_rbac::{Action, Authorizer, User, builtin};

use crate::status::ApiError;
use crate::tokens::TokenIssuer;

/// The bootstrap administrator's user name.
pub const ADMIN_USER: &str = "palisade:admin";

/// A boxed future, as [`ExternalTokens`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Verifies tokens of other issuers (OIDC providers).
pub trait ExternalTokens: Send + Sync {
    /// `None` when no configured issuer claims the token; otherwise the user
    /// or why the token is refused.
    fn authenticate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Option<Result<User, String>>>;
}

/// Whether a ServiceAccount exists with this uid (deleting or recreating an
/// account revokes its tokens).
pub trait AccountDirectory: Send + Sync {
    /// The uid of ServiceAccount `namespace/name`, if it exists.
    fn service_account_uid(&self, namespace: &str, name: &str) -> Option<String>;
}

/// The caller, after authentication and impersonation.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Whom the request acts as.
    pub user: User,
    /// Who authenticated, when acting as someone else.
    pub impersonator: Option<String>,
}

/// Authenticates requests.
pub struct Authenticator {
    admin_hash: [u8; 32],
    tokens: Arc<TokenIssuer>,
    external: Option<Arc<dyn ExternalTokens>>,
}

impl Authenticator {
    /// Accepts the admin token whose SHA-256 is `admin_hash`, Palisade's
    /// service-account tokens, and what `external` accepts.
    pub fn new(
        admin_hash: [u8; 32],
        tokens: Arc<TokenIssuer>,
        external: Option<Arc<dyn ExternalTokens>>,
    ) -> Authenticator {
        Authenticator {
            admin_hash,
            tokens,
            external,
        }
    }

    /// The authenticated user of a request (before impersonation).
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        accounts: &dyn AccountDirectory,
    ) -> Result<User, ApiError> {
        let token = bearer(headers)?;
        if ct_eq(&sha256(token.as_bytes()), &self.admin_hash) {
            return Ok(User::new(ADMIN_USER, [builtin::ADMIN.to_string()]));
        }
        if let Some(result) = self.tokens.verify(token) {
            let (user, uid) = result.map_err(ApiError::unauthorized)?;
            let (ns, name) = user.as_service_account().unwrap_or_default();
            if accounts.service_account_uid(ns, name).as_deref() != Some(uid.as_str()) {
                return Err(ApiError::unauthorized(format!(
                    "the token's service account {ns}/{name} no longer exists; create a new token"
                )));
            }
            return Ok(user);
        }
        if let Some(external) = &self.external
            && let Some(result) = external.authenticate(token).await
        {
            return result.map_err(ApiError::unauthorized);
        }
        Err(ApiError::unauthorized(
            "the bearer token is not valid here: use the admin token of admin.yaml, a token from `palisade create token`, or a token of a configured OIDCProvider",
        ))
    }

    /// Applies `Impersonate-User` / `Impersonate-Group`, if the caller may
    /// impersonate that user and those groups.
    pub fn impersonate(
        &self,
        user: User,
        headers: &HeaderMap,
        authz: &Authorizer,
    ) -> Result<Caller, ApiError> {
        let target = headers
            .get("impersonate-user")
            .map(|v| v.to_str().map(str::to_string));
        let groups: Vec<String> = headers
            .get_all("impersonate-group")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect();
        let Some(target) = target else {
            if !groups.is_empty() {
                return Err(ApiError::bad_request(
                    "Impersonate-Group needs Impersonate-User (--as-group needs --as)",
                ));
            }
            return Ok(Caller {
                user,
                impersonator: None,
            });
        };
        let target =
            target.map_err(|_| ApiError::bad_request("Impersonate-User must be ASCII text"))?;
        let may = |resource: &str, namespace: Option<&str>, name: &str| {
            authz
                .decide(
                    &user,
                    &Action {
                        verb: "impersonate",
                        group: "",
                        resource,
                        subresource: None,
                        namespace,
                        name: Some(name),
                    },
                )
                .allowed()
        };
        let probe = User {
            name: target.clone(),
            groups: Vec::new(),
        };
        let target_allowed = match probe.as_service_account() {
            Some((ns, name)) => {
                may("serviceaccounts", Some(ns), name) || may("users", None, &target)
            }
            None => may("users", None, &target),
        };
        if !target_allowed || !groups.iter().all(|g| may("groups", None, g)) {
            return Err(ApiError::forbidden(format!(
                "users \"{target}\" is forbidden: User \"{}\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope",
                user.name
            )));
        }
        let impersonated = match probe.as_service_account() {
            Some((ns, name)) if groups.is_empty() => User::service_account(ns, name),
            _ => User::new(target, groups),
        };
        Ok(Caller {
            user: impersonated,
            impersonator: Some(user.name),
        })
    }
}

fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers.get(AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(
            "no credentials: send Authorization: Bearer <token> (the CLI reads admin.yaml, PALISADE_CONFIG or --token)",
        )
    })?;
    let text = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not ASCII"))?;
    let token = text
        .strip_prefix("Bearer ")
        .or_else(|| text.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
        })?;
    if token.len() > 16 * 1024 {
        return Err(ApiError::unauthorized(
            "the bearer token is larger than 16 KiB",
        ));
    }
    Ok(token)
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let digest = ring::digest::digest(&ring::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    out
}

/// Compares two digests in time independent of where they differ.
pub fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
