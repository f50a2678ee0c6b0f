//! Who calls the built-in routes (`/mcp/<ns>/<name>`, `/sse/<ns>/<name>`):
//! holders of Palisade's own tokens (service accounts, agents) and people
//! signed in at an `OIDCProvider`, verified by the control plane. Nothing is
//! anonymous unless `palisade run --insecure-allow-anonymous` says so.
//! Palisade's own tokens are also accepted on HTTPRoutes, next to the
//! issuers of a route's JWT policy.

use std::future::Future;
use std::pin::Pin;

use http::HeaderMap;
use http::header::AUTHORIZATION;

use crate::jwt::Identity;

/// A boxed future, as [`CallerVerifier`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Verifies the bearer tokens of built-in routes, and Palisade's own tokens
/// on every route.
pub trait CallerVerifier: Send + Sync {
    /// The issuer of Palisade's own (service-account and agent) tokens.
    fn own_issuer(&self) -> &str;

    /// The caller a token names, or why it is refused.
    fn verify<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<Identity, String>>;
}

/// The bearer token of a request: `Ok(None)` without an `Authorization`
/// header, `Err` when the header is not `Bearer <token>`.
pub fn bearer(headers: &HeaderMap) -> Result<Option<&str>, String> {
    let Some(value) = headers.get(AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| "the Authorization header is not ASCII".to_string())?;
    let (scheme, token) = text.split_once(' ').unwrap_or((text, ""));
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err("the Authorization header must be `Bearer <token>`".into());
    }
    Ok(Some(token.trim()))
}
