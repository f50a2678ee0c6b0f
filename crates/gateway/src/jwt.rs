//! JWT authentication of gateway requests (`traffic.jwtAuthentication`).
//!
//! A policy names providers (issuer, audiences, keys inline or fetched from a
//! JWKS server). A bearer token is matched to the provider of its issuer and
//! verified with that provider's keys (algorithm pinned to the key's type,
//! `exp`/`nbf` with a small leeway, exact issuer and audience). Remote key sets
//! are fetched on first use, cached, refreshed periodically and on an unknown
//! key id (rate limited); during an outage the last good keys keep working.
//! Keys survive configuration reloads through the [`KeyRegistry`].
//!
//! A remote URL may name the key set itself or the issuer's OpenID
//! configuration (its `jwks_uri` is followed); `file:///path` reads a local
//! file, re-read at every refresh. The policy's annotations
//! `palisade.dev/jwt-clock-skew` (e.g. `30s`, at most 5m; default 60s) and
//! `palisade.dev/jwt-required-claims` (comma-separated names) tune validation.
//!
//! Modes: `Strict` (the default) needs a valid token; `Optional` lets requests
//! without a token through as anonymous but refuses invalid ones;
//! `Permissive` never refuses. The token is taken out of the request where
//! it was found (`location`) and never forwarded upstream.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use http::{Request, StatusCode};
use palisade_api::kinds::agentgateway::authn::{AuthMode, JwtAuthentication, RemoteJwks};
use palisade_cel::CelValue;
use palisade_identity::{
    CacheConfig, Claims, JwksCache, JwksFetcher, JwtError, KeySet, Validation, verify,
    verify_with_cache,
};
use palisade_net::fetch::DocumentFetcher;
use serde_json::{Map, Value};
use tokio::sync::OnceCell;

use crate::callers::CallerVerifier;
use crate::token_location::TokenLocation;
use crate::verified::{self, Verified};

/// How long after a failed JWKS fetch requests are refused without trying again.
const FETCH_BACKOFF: Duration = Duration::from_secs(5);

/// A verified caller.
pub struct Identity {
    /// The token's issuer.
    pub issuer: String,
    /// The token's subject.
    pub subject: String,
    /// Every claim (for CEL rules).
    pub claims: Claims,
    /// The claims and the agent claim in CEL's form, converted on first use
    /// (a cached identity converts once per token, not once per request).
    cel: OnceLock<(CelValue, Option<CelValue>)>,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("issuer", &self.issuer)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

impl Identity {
    /// The caller `subject` of `issuer`, with its token's claims.
    pub fn new(issuer: String, subject: String, claims: Claims) -> Identity {
        Identity {
            issuer,
            subject,
            claims,
            cel: OnceLock::new(),
        }
    }

    /// The claims as CEL's `jwt` variable, and the agent the token names
    /// (`palisade.dev.agent`) as CEL's `agent` variable, if any.
    pub fn cel(&self) -> (&CelValue, Option<&CelValue>) {
        let (jwt, agent) = self.cel.get_or_init(|| {
            let jwt = CelValue::from_json(&Value::Object(self.claims.as_map().clone()));
            let agent = self
                .claims
                .get("palisade.dev")
                .and_then(|p| p.get("agent"))
                .map(CelValue::from_json);
            (jwt, agent)
        });
        (jwt, agent.as_ref())
    }

    /// The principal name: `<issuer>#<subject>` (subjects are unique per issuer).
    pub fn principal(&self) -> String {
        format!("{}#{}", self.issuer, self.subject)
    }
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 401, or 503 when the keys cannot be had.
    pub status: StatusCode,
    /// RFC 6750 error code (`invalid_token`), `None` when no token was sent.
    pub error: Option<&'static str>,
    /// What was wrong (never the token).
    pub description: String,
}

/// Annotation setting the clock-skew allowance of a policy's providers.
pub const CLOCK_SKEW_ANNOTATION: &str = "palisade.dev/jwt-clock-skew";
/// Annotation naming claims every token must carry.
pub const REQUIRED_CLAIMS_ANNOTATION: &str = "palisade.dev/jwt-required-claims";
/// The largest clock-skew allowance a policy may ask for.
const MAX_CLOCK_SKEW: Duration = Duration::from_secs(300);

/// Validation options beyond the policy's fields (from its annotations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtOptions {
    /// Clock-skew allowance for `exp`, `nbf` and `iat`.
    pub leeway: Duration,
    /// Claims a token must carry.
    pub required_claims: Vec<String>,
}

impl Default for JwtOptions {
    fn default() -> Self {
        JwtOptions {
            leeway: Duration::from_secs(palisade_identity::DEFAULT_LEEWAY_SECS),
            required_claims: Vec::new(),
        }
    }
}

impl JwtOptions {
    /// Reads the options from a policy's annotations.
    pub fn from_annotations(
        annotations: &std::collections::BTreeMap<String, String>,
    ) -> Result<JwtOptions, String> {
        let mut options = JwtOptions::default();
        if let Some(text) = annotations.get(CLOCK_SKEW_ANNOTATION) {
            let skew = palisade_api::duration::parse(text).ok_or_else(|| {
                format!(
                    "annotation {CLOCK_SKEW_ANNOTATION}: {text:?} is not a duration such as 30s"
                )
            })?;
            if skew > MAX_CLOCK_SKEW {
                return Err(format!(
                    "annotation {CLOCK_SKEW_ANNOTATION}: {text} is more than the 5m allowed"
                ));
            }
            options.leeway = skew;
        }
        if let Some(text) = annotations.get(REQUIRED_CLAIMS_ANNOTATION) {
            options.required_claims = text
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect();
        }
        Ok(options)
    }
}

/// The JWT authentication of one policy.
pub struct JwtAuth {
    policy: String,
    mode: AuthMode,
    providers: Vec<Provider>,
    location: TokenLocation,
    resource_metadata: Map<String, Value>,
    /// Tokens verified a moment ago.
    verified: Verified<Identity>,
}

impl fmt::Debug for JwtAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtAuth")
            .field("policy", &self.policy)
            .field("mode", &self.mode)
            .finish_non_exhaustive()
    }
}

struct Provider {
    issuer: String,
    validation: Validation,
    keys: Keys,
}

enum Keys {
    Inline(Arc<KeySet>),
    Remote(Arc<RemoteKeys>),
}

impl JwtAuth {
    /// Builds a policy's JWT authentication. `jwks_url` finds where a remote
    /// key set is served.
    pub fn compile(
        policy: &str,
        spec: &JwtAuthentication,
        options: &JwtOptions,
        jwks_url: &dyn Fn(&RemoteJwks) -> Result<String, String>,
        registry: &KeyRegistry,
    ) -> Result<JwtAuth, String> {
        let mut providers = Vec::new();
        for (i, p) in spec.providers.iter().enumerate() {
            let keys = match (&p.jwks.inline, &p.jwks.remote) {
                (Some(text), _) => Keys::Inline(Arc::new(
                    KeySet::from_json(text.as_bytes())
                        .map_err(|e| format!("providers[{i}].jwks.inline: {e}"))?,
                )),
                (None, Some(remote)) => {
                    let url =
                        jwks_url(remote).map_err(|e| format!("providers[{i}].jwks.remote: {e}"))?;
                    Keys::Remote(registry.remote(&url, remote.cache_duration()))
                }
                (None, None) => return Err(format!("providers[{i}].jwks names no keys")),
            };
            providers.push(Provider {
                issuer: p.issuer.clone(),
                validation: Validation {
                    leeway_secs: options.leeway.as_secs(),
                    required_claims: options.required_claims.clone(),
                    ..Validation::new([p.issuer.clone()], p.audiences.clone())
                },
                keys,
            });
        }
        let location = match &spec.location {
            Some(location) => TokenLocation::compile(location)?,
            None => TokenLocation::default(),
        };
        let resource_metadata = spec
            .mcp
            .as_ref()
            .map(|m| m.resource_metadata.clone().into_iter().collect())
            .unwrap_or_default();
        Ok(JwtAuth {
            policy: policy.to_string(),
            mode: spec.mode(),
            providers,
            location,
            resource_metadata,
            verified: Verified::default(),
        })
    }

    /// The policy this comes from.
    pub fn policy(&self) -> &str {
        &self.policy
    }

    /// The accepted issuers (the authorization servers of protected MCP routes).
    pub fn issuers(&self) -> Vec<String> {
        self.providers.iter().map(|p| p.issuer.clone()).collect()
    }

    /// How clients present the token, as RFC 9728 `bearer_methods_supported`
    /// names it (`header`, `query`; none for a cookie).
    pub fn bearer_methods(&self) -> &'static [&'static str] {
        match self.location {
            TokenLocation::Header { .. } => &["header"],
            TokenLocation::Query(_) => &["query"],
            TokenLocation::Cookie(_) => &[],
        }
    }

    /// Extra protected-resource metadata (`jwtAuthentication.mcp.resourceMetadata`).
    pub fn resource_metadata(&self) -> &Map<String, Value> {
        &self.resource_metadata
    }

    /// Authenticates a request: the caller's identity, `None` for an
    /// anonymous caller the mode lets through, or why it is refused. The
    /// token is taken out of the request in every case. A token of `own`'s
    /// issuer (Palisade's service accounts) is verified by `own`.
    pub async fn authenticate<B>(
        &self,
        req: &mut Request<B>,
        own: Option<&dyn CallerVerifier>,
    ) -> Result<Option<Arc<Identity>>, Refusal> {
        let token = match self.location.take(req) {
            Ok(Some(token)) => token,
            Ok(None) if self.mode == AuthMode::Strict => {
                return Err(Refusal {
                    status: StatusCode::UNAUTHORIZED,
                    error: None,
                    description: "a bearer token is required".into(),
                });
            }
            Ok(None) => return Ok(None),
            Err(why) => return self.refuse_or_anonymous(why),
        };
        match self.verify(&token, own).await {
            Ok(identity) => Ok(Some(identity)),
            Err(refusal) if refusal.status == StatusCode::UNAUTHORIZED => {
                self.refuse_or_anonymous(refusal.description)
            }
            Err(refusal) => Err(refusal),
        }
    }

    fn refuse_or_anonymous(&self, why: String) -> Result<Option<Arc<Identity>>, Refusal> {
        if self.mode == AuthMode::Permissive {
            tracing::debug!(policy = %self.policy, reason = %why, "invalid token let through (mode Permissive)");
            return Ok(None);
        }
        Err(Refusal {
            status: StatusCode::UNAUTHORIZED,
            error: Some("invalid_token"),
            description: why,
        })
    }

    /// The identity a token proves: remembered when it was verified a
    /// moment ago with the same keys, else checked now.
    async fn verify(
        &self,
        token: &str,
        own: Option<&dyn CallerVerifier>,
    ) -> Result<Arc<Identity>, Refusal> {
        let digest = verified::digest(token);
        let now = unix_now();
        if let Some(identity) = self
            .verified
            .get(&digest, now, |i| self.providers.get(i)?.current_keys())
        {
            return Ok(identity);
        }
        let issuer = palisade_identity::unverified_issuer(token)
            .ok_or_else(|| invalid("the bearer token is not a JWT with an issuer".into()))?;
        let Some(index) = self.providers.iter().position(|p| p.issuer == issuer) else {
            return match own.filter(|o| o.own_issuer() == issuer) {
                Some(own) => own.verify(token).await.map(Arc::new).map_err(invalid),
                None => Err(invalid("the token's issuer is not accepted here".into())),
            };
        };
        let provider = &self.providers[index];
        let (keys_before, identity) = self.verify_signature(provider, issuer, token).await?;
        let identity = Arc::new(identity);
        // Remembered only when the keys did not change during the check.
        if let (Some(before), Some(after), Some(exp)) =
            (keys_before, provider.current_keys(), identity.claims.exp())
            && Arc::ptr_eq(&before, &after)
        {
            let valid_until = exp.saturating_add(provider.validation.leeway_secs as i64);
            self.verified
                .insert(digest, identity.clone(), valid_until, index, after, now);
        }
        Ok(identity)
    }

    /// Checks a token of `provider`'s `issuer`: its signature and claims.
    /// Returns the keys the provider had before the check, and the identity.
    async fn verify_signature(
        &self,
        provider: &Provider,
        issuer: String,
        token: &str,
    ) -> Result<(Option<Arc<KeySet>>, Identity), Refusal> {
        let keys_before = provider.current_keys();
        let verified = match &provider.keys {
            Keys::Inline(keys) => verify(token, keys, &provider.validation),
            Keys::Remote(remote) => {
                let cache = remote.cache().await.map_err(|e| Refusal {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    error: None,
                    description: format!("cannot verify tokens: the key set is unavailable ({e})"),
                })?;
                verify_with_cache(token, cache, &provider.validation).await
            }
        };
        let claims = verified.map_err(|e: JwtError| invalid(e.to_string()))?;
        let subject = claims
            .sub()
            .ok_or_else(|| invalid("the token has no subject (sub)".into()))?
            .to_string();
        Ok((keys_before, Identity::new(issuer, subject, claims)))
    }
}

impl Provider {
    /// The keys the provider verifies with now (`None` before a remote key
    /// set was first fetched).
    fn current_keys(&self) -> Option<Arc<KeySet>> {
        match &self.keys {
            Keys::Inline(keys) => Some(keys.clone()),
            Keys::Remote(remote) => remote.cache.get().map(JwksCache::keys),
        }
    }
}

/// A 401 for an invalid token, saying why.
fn invalid(description: String) -> Refusal {
    Refusal {
        status: StatusCode::UNAUTHORIZED,
        error: Some("invalid_token"),
        description,
    }
}

/// Seconds since the Unix epoch.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A remote key set, fetched on first use.
pub struct RemoteKeys {
    url: String,
    refresh_interval: Duration,
    fetcher: Arc<DocumentFetcher>,
    cache: OnceCell<JwksCache<Fetch>>,
    failed_at: Mutex<Option<Instant>>,
}

impl RemoteKeys {
    async fn cache(&self) -> Result<&JwksCache<Fetch>, String> {
        if let Some(cache) = self.cache.get() {
            return Ok(cache);
        }
        let recently_failed = self
            .failed_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|t| t.elapsed() < FETCH_BACKOFF);
        if recently_failed {
            return Err(format!("{} could not be fetched a moment ago", self.url));
        }
        let result = self
            .cache
            .get_or_try_init(|| async {
                let cache = JwksCache::new(
                    Fetch {
                        url: self.url.clone(),
                        fetcher: self.fetcher.clone(),
                    },
                    CacheConfig {
                        refresh_interval: self.refresh_interval,
                        ..CacheConfig::default()
                    },
                );
                cache
                    .refresh()
                    .await
                    .map_err(|e| format!("{}: {e}", self.url))?;
                cache.spawn_refresher();
                Ok::<_, String>(cache)
            })
            .await;
        if let Err(e) = &result {
            tracing::warn!(error = %e, "cannot fetch a JWKS; requests needing it are refused");
            *self.failed_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        }
        result
    }
}

struct Fetch {
    url: String,
    fetcher: Arc<DocumentFetcher>,
}

impl JwksFetcher for Fetch {
    async fn fetch(&self) -> Result<Vec<u8>, String> {
        if let Some(path) = self.url.strip_prefix("file://") {
            return tokio::fs::read(path)
                .await
                .map_err(|e| format!("cannot read {path}: {e}"));
        }
        let document = self.fetcher.get(&self.url).await?;
        // An issuer's OpenID configuration names its key set.
        match jwks_uri(&document) {
            Some(uri) if uri.starts_with("https://") || uri.starts_with("http://") => {
                self.fetcher.get(&uri).await
            }
            Some(uri) => Err(format!(
                "the OpenID configuration names jwks_uri {uri:?}, which is not an http(s) URL"
            )),
            None => Ok(document),
        }
    }
}

/// The `jwks_uri` of an OpenID configuration document (`None` for a JWKS).
fn jwks_uri(document: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(document).ok()?;
    if value.get("keys").is_some() {
        return None;
    }
    value.get("jwks_uri")?.as_str().map(str::to_string)
}

/// Remote key sets by URL, kept across Plan compiles while a Plan uses them.
#[derive(Default)]
pub struct KeyRegistry {
    fetcher: Arc<DocumentFetcher>,
    remotes: Mutex<HashMap<String, Weak<RemoteKeys>>>,
}

impl fmt::Debug for KeyRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRegistry").finish_non_exhaustive()
    }
}

impl KeyRegistry {
    /// The key set served at `url`, re-fetched every `refresh_interval` (the
    /// live one if a Plan holds it).
    pub fn remote(&self, url: &str, refresh_interval: Duration) -> Arc<RemoteKeys> {
        let mut map = self.remotes.lock().unwrap_or_else(|p| p.into_inner());
        map.retain(|_, w| w.strong_count() > 0);
        if let Some(live) = map.get(url).and_then(Weak::upgrade) {
            return live;
        }
        let keys = Arc::new(RemoteKeys {
            url: url.to_string(),
            refresh_interval,
            fetcher: self.fetcher.clone(),
            cache: OnceCell::new(),
            failed_at: Mutex::new(None),
        });
        map.insert(url.to_string(), Arc::downgrade(&keys));
        keys
    }
}
