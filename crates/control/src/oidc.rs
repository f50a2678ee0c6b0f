//! Human sign-in: tokens of the issuers named by `OIDCProvider` resources,
//! verified against their JWKS (found by OIDC discovery, cached, refreshed on
//! an unknown key id), with the provider's `roleMapping` turning claims into
//! Palisade's built-in roles, which become the user's groups.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use http::Uri;
use palisade_api::kinds::palisade::OidcProvider;
use palisade_api::snapshot::Snapshot;
use palisade_apiserver::ExternalTokens;
use palisade_apiserver::authn::BoxFuture;
use palisade_apiserver::tokens::unverified_issuer;
use palisade_cel::{CelValue, Program, Vars};
use palisade_identity::{
    CacheConfig, Claims, JwksCache, JwksFetcher, Validation, parse_provider_metadata,
    verify_with_cache,
};
use palisade_net::fetch::DocumentFetcher;
use palisade_rbac::User;
use serde_json::Value;
use tokio::sync::OnceCell;

/// One configured provider.
struct Provider {
    name: String,
    client_id: String,
    scopes: Vec<String>,
    issuer: String,
    audiences: Vec<String>,
    username_claim: Option<String>,
    role_mapper: Option<Program>,
    role_mappings: CelValue,
    http: Arc<DocumentFetcher>,
    /// Found by discovery on first use.
    keys: OnceCell<JwksCache<HttpFetcher>>,
}

/// Verifies tokens of every configured OIDC provider.
pub struct OidcProviders {
    providers: ArcSwap<HashMap<String, Arc<Provider>>>,
    http: Arc<DocumentFetcher>,
}

impl Default for OidcProviders {
    fn default() -> Self {
        OidcProviders {
            providers: ArcSwap::from_pointee(HashMap::new()),
            http: Arc::new(DocumentFetcher::default()),
        }
    }
}

impl OidcProviders {
    /// Takes the providers of `snapshot`. A provider whose settings are
    /// unchanged keeps its cached keys.
    pub fn update(&self, snapshot: &Snapshot) {
        let current = self.providers.load_full();
        let mut next = HashMap::new();
        for (_, resource) in snapshot.of_kind::<OidcProvider>() {
            let spec = &resource.spec;
            let name = resource.metadata.name.clone();
            if let Err(why) = check_issuer(&spec.issuer) {
                tracing::warn!(provider = %name, "OIDCProvider ignored: {why}");
                continue;
            }
            let mapping = spec.role_mapping.as_ref();
            let role_mapper = match mapping.and_then(|m| m.role_mapper.as_deref()) {
                Some(source) => match Program::compile(source) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        tracing::warn!(provider = %name, error = %e, "OIDCProvider ignored: its roleMapper does not compile");
                        continue;
                    }
                },
                None => None,
            };
            let role_mappings = CelValue::from_json(
                &serde_json::to_value(mapping.map(|m| m.role_mappings.clone()).unwrap_or_default())
                    .unwrap_or(Value::Null),
            );
            let audiences = if spec.audiences.is_empty() {
                vec![spec.client_id.clone()]
            } else {
                spec.audiences.clone()
            };
            let fingerprint = |p: &Provider| {
                p.issuer == spec.issuer
                    && p.audiences == audiences
                    && p.name == name
                    && p.client_id == spec.client_id
                    && p.scopes == spec.scopes
                    && p.username_claim == spec.username_claim
                    && p.role_mapper.as_ref().map(Program::source)
                        == mapping.and_then(|m| m.role_mapper.as_deref())
            };
            if let Some(existing) = current.get(&spec.issuer).filter(|p| fingerprint(p)) {
                next.insert(spec.issuer.clone(), existing.clone());
                continue;
            }
            next.insert(
                spec.issuer.clone(),
                Arc::new(Provider {
                    name,
                    client_id: spec.client_id.clone(),
                    scopes: spec.scopes.clone(),
                    issuer: spec.issuer.clone(),
                    audiences,
                    username_claim: spec.username_claim.clone(),
                    role_mapper,
                    role_mappings,
                    http: self.http.clone(),
                    keys: OnceCell::new(),
                }),
            );
        }
        self.providers.store(Arc::new(next));
    }
}

impl OidcProviders {
    /// What `palisade login` needs to know of each provider (nothing secret).
    pub fn public_info(&self) -> Vec<Value> {
        let mut providers: Vec<Value> = self
            .providers
            .load()
            .values()
            .map(|p| {
                serde_json::json!({
                    "name": p.name,
                    "issuer": p.issuer,
                    "clientId": p.client_id,
                    "scopes": p.scopes,
                })
            })
            .collect();
        providers.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        providers
    }
}

impl OidcProviders {
    /// The person a token of a configured provider names, with its claims;
    /// `None` when no provider claims the token.
    pub async fn identify(&self, token: &str) -> Option<Result<(User, Claims), String>> {
        let issuer = unverified_issuer(token)?;
        let provider = self.providers.load().get(&issuer).cloned()?;
        Some(provider.authenticate(token).await)
    }
}

impl ExternalTokens for OidcProviders {
    fn authenticate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Option<Result<User, String>>> {
        Box::pin(async move {
            let issuer = unverified_issuer(token)?;
            let provider = self.providers.load().get(&issuer).cloned()?;
            Some(provider.authenticate(token).await.map(|(user, _)| user))
        })
    }
}

impl Provider {
    async fn authenticate(&self, token: &str) -> Result<(User, Claims), String> {
        let keys = self
            .keys
            .get_or_try_init(|| self.discover())
            .await
            .map_err(|e| format!("cannot verify tokens of OIDCProvider {}: {e}", self.name))?;
        let validation = Validation::new([self.issuer.clone()], self.audiences.clone());
        let claims = verify_with_cache(token, keys, &validation)
            .await
            .map_err(|e| format!("token of OIDCProvider {} refused: {e}", self.name))?;
        let roles = self.roles(&claims)?;
        let subject = self
            .username_claim
            .as_deref()
            .and_then(|c| claims.get_str(c))
            .or_else(|| claims.get_str("email"))
            .or_else(|| claims.sub())
            .ok_or_else(|| "the token names no subject".to_string())?;
        let user = User::new(format!("{}:{subject}", self.name), roles);
        Ok((user, claims))
    }

    /// The built-in roles the provider's `roleMapper` gives these claims. An
    /// expression that fails to evaluate grants nothing.
    fn roles(&self, claims: &Claims) -> Result<Vec<String>, String> {
        let Some(mapper) = &self.role_mapper else {
            return Ok(Vec::new());
        };
        let claims_json = Value::Object(claims.as_map().clone());
        let mut vars = Vars::new();
        vars.bind_json("claims", &claims_json)
            .bind("rolesMap", &self.role_mappings);
        match mapper.eval_strings(&vars) {
            Ok(roles) => Ok(roles),
            Err(e) => {
                tracing::warn!(provider = %self.name, error = %e, "roleMapper failed on a token; it grants no role");
                Ok(Vec::new())
            }
        }
    }

    /// Reads the discovery document and loads the JWKS it names.
    async fn discover(&self) -> Result<JwksCache<HttpFetcher>, String> {
        let url = palisade_identity::discovery_url(&self.issuer);
        let document = self.http.get(&url).await?;
        let metadata =
            parse_provider_metadata(&document, &self.issuer).map_err(|e| format!("{url}: {e}"))?;
        check_issuer(&metadata.jwks_uri)?;
        let cache = JwksCache::new(
            HttpFetcher {
                url: metadata.jwks_uri.clone(),
                http: self.http.clone(),
            },
            CacheConfig::default(),
        );
        cache
            .refresh()
            .await
            .map_err(|e| format!("{}: {e}", metadata.jwks_uri))?;
        cache.spawn_refresher();
        Ok(cache)
    }
}

/// Issuers (and their JWKS) must use HTTPS, except on loopback addresses.
fn check_issuer(url: &str) -> Result<(), String> {
    let uri: Uri = url.parse().map_err(|_| format!("{url:?} is not a URL"))?;
    match uri.scheme_str() {
        Some("https") => Ok(()),
        Some("http") => {
            let host = uri.host().unwrap_or("").trim_matches(['[', ']']);
            let loopback = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback {
                Ok(())
            } else {
                Err(format!(
                    "{url} must use https (plain http is allowed on loopback only)"
                ))
            }
        }
        _ => Err(format!("{url} must be an https URL")),
    }
}

/// A provider's JWKS endpoint.
struct HttpFetcher {
    url: String,
    http: Arc<DocumentFetcher>,
}

impl JwksFetcher for HttpFetcher {
    async fn fetch(&self) -> Result<Vec<u8>, String> {
        self.http.get(&self.url).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuers_need_https_off_loopback() {
        assert!(check_issuer("https://idp.example.com/").is_ok());
        assert!(check_issuer("http://127.0.0.1:3000/").is_ok());
        assert!(check_issuer("http://localhost:3000").is_ok());
        assert!(check_issuer("http://[::1]:3000").is_ok());
        assert!(check_issuer("http://idp.example.com/").is_err());
        assert!(check_issuer("ftp://idp.example.com/").is_err());
    }
}
