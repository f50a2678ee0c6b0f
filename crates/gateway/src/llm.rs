//! LLM backends: an `AgentgatewayBackend` with `ai.provider` (anthropic, openai) or a
//! kagent `ModelConfig` (Anthropic, OpenAI), resolved at compile time into an
//! [`LlmTarget`]: where to dial, which provider wire format, the model and the key
//! that Palisade injects on the upstream hop.

use std::collections::BTreeMap;
use std::fmt;

use http::Uri;
use http::uri::Authority;
use palisade_api::kinds::agentgateway::AgentgatewayBackend;
use palisade_api::kinds::agentgateway::ai::RouteType;
use palisade_api::kinds::agentgateway::backend::{AiProvider, ProviderKind};
use palisade_api::kinds::core::Secret;
use palisade_api::kinds::kagent::{ModelConfig, ModelProvider};
use palisade_api::snapshot::Snapshot;
use palisade_llm::defaults::DEFAULT_MAX_TOKENS;
use palisade_llm::{ApiFormat, ApiKey, Provider};

use crate::backend::authority;

/// A resolved LLM provider endpoint.
pub struct LlmTarget {
    /// `Kind/namespace/name` of the backend.
    pub name: String,
    /// Provider wire format and authentication.
    pub provider: Provider,
    /// Model filled in when the client names none.
    pub model: Option<String>,
    /// `max_tokens` filled into Anthropic requests that set none.
    pub max_tokens: u64,
    /// Base URL of the provider (`http://host:port[/prefix]`).
    pub base: Uri,
    authority: Authority,
    /// Path prefix the provider paths are joined to (no trailing slash).
    prefix: String,
    /// A full upstream path that replaces the provider's (`ai.provider.path`).
    path: Option<String>,
    api_key: Option<ApiKey>,
}

impl fmt::Debug for LlmTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmTarget")
            .field("name", &self.name)
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("base", &self.base)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl LlmTarget {
    /// The upstream authority to dial.
    pub fn authority(&self) -> &Authority {
        &self.authority
    }

    /// The key injected on the upstream hop, if configured.
    pub fn api_key(&self) -> Option<&ApiKey> {
        self.api_key.as_ref()
    }

    /// The upstream path for a request the provider receives in `format`.
    pub fn upstream_path(&self, format: ApiFormat) -> String {
        if let Some(path) = &self.path {
            return path.clone();
        }
        let provider_path = format.upstream_path();
        // A prefix naming the API version (`/v1`, as OpenAI base URLs do) replaces
        // the provider path's own `/v1`.
        match provider_path.strip_prefix("/v1") {
            Some(rest) if self.prefix.ends_with("/v1") => format!("{}{rest}", self.prefix),
            _ => format!("{}{provider_path}", self.prefix),
        }
    }
}

/// Request formats chosen by path suffix (`ai.routes` of a policy): the longest
/// matching suffix wins, `*` matches any path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatRoutes {
    /// (suffix, format), longest suffix first; `*` last.
    routes: Vec<(String, ApiFormat)>,
}

impl FormatRoutes {
    /// Compiles `ai.routes`; route types Palisade does not serve are an error.
    pub fn compile(routes: &BTreeMap<String, RouteType>) -> Result<FormatRoutes, String> {
        let mut out = Vec::new();
        for (suffix, kind) in routes {
            let format = match kind {
                RouteType::Completions => ApiFormat::OpenAiChat,
                RouteType::Messages => ApiFormat::AnthropicMessages,
                RouteType::Responses => ApiFormat::OpenAiResponses,
                other => {
                    return Err(format!(
                        "route type {other:?} (for {suffix:?}) is not served yet; use Completions, Messages or Responses"
                    ));
                }
            };
            out.push((suffix.clone(), format));
        }
        out.sort_by_key(|(suffix, _)| (suffix == "*", std::cmp::Reverse(suffix.len())));
        Ok(FormatRoutes { routes: out })
    }

    /// The format for a request path, if a route names one.
    pub fn format_for(&self, path: &str) -> Option<ApiFormat> {
        self.routes
            .iter()
            .find(|(suffix, _)| suffix == "*" || path.ends_with(suffix.as_str()))
            .map(|(_, f)| *f)
    }
}

/// Why a backend cannot serve as an LLM target.
pub type Unusable = String;

/// Where a provider is dialled: the given host and port (plain HTTP unless `tls`),
/// or the provider's default endpoint over HTTPS.
fn provider_base(
    provider: Provider,
    host: Option<&str>,
    port: Option<u16>,
    prefix: &str,
    tls: bool,
) -> Result<(Uri, Authority, String), Unusable> {
    let (host, port, tls) = match (host, port) {
        (Some(h), Some(p)) => (h.to_string(), p, tls),
        (Some(_), None) | (None, Some(_)) => return Err("set host and port together".into()),
        (None, None) => (provider.default_host().to_string(), 443, true),
    };
    let authority = authority(&host, port)?;
    let prefix = prefix.trim_end_matches('/').to_string();
    let scheme = if tls { "https" } else { "http" };
    let base: Uri = format!("{scheme}://{authority}{prefix}")
        .parse()
        .map_err(|e| format!("invalid upstream address: {e}"))?;
    Ok((base, authority, prefix))
}

fn secret_value(
    snapshot: &Snapshot,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<ApiKey, Unusable> {
    let Some((_, secret)) = snapshot.get::<Secret>(Some(namespace), name) else {
        return Err(format!("Secret {namespace}/{name} does not exist"));
    };
    let data = secret
        .decoded()
        .map_err(|e| format!("Secret {namespace}/{name}: {e}"))?;
    let Some(value) = data.get(key) else {
        return Err(format!("Secret {namespace}/{name} has no key {key:?}"));
    };
    let text = String::from_utf8(value.clone())
        .map_err(|_| format!("Secret {namespace}/{name} key {key:?} is not UTF-8"))?;
    let text = text.trim();
    let text = text.strip_prefix("Bearer ").unwrap_or(text);
    if text.is_empty() {
        return Err(format!("Secret {namespace}/{name} key {key:?} is empty"));
    }
    Ok(ApiKey::new(text))
}

/// The LLM target of an AgentgatewayBackend with `ai.provider`.
/// `tls_policy`: a policy with `backend.tls` targets the backend.
pub fn from_backend(
    snapshot: &Snapshot,
    name: &str,
    namespace: &str,
    backend: &AgentgatewayBackend,
    tls_policy: bool,
) -> Result<LlmTarget, Unusable> {
    let ai = backend.spec.ai.as_ref().ok_or("not an AI backend")?;
    let Some(provider_spec) = &ai.provider else {
        return Err("provider groups are not supported yet; use ai.provider".into());
    };
    let provider = match provider_spec.kind() {
        Some(ProviderKind::Anthropic) => Provider::Anthropic,
        Some(ProviderKind::OpenAi) => Provider::OpenAi,
        Some(other) => {
            return Err(format!(
                "provider {other:?} is not supported yet; use anthropic or openai"
            ));
        }
        None => return Err("no provider is set".into()),
    };
    let port = provider_spec.port.and_then(|p| u16::try_from(p).ok());
    // A host/port override is plain HTTP unless a TLS policy is attached.
    let tls = tls_policy
        || backend
            .spec
            .policies
            .as_ref()
            .is_some_and(|p| p.tls.is_some());
    let (base, authority, prefix) = provider_base(
        provider,
        provider_spec.host.as_deref(),
        port,
        provider_spec.path_prefix.as_deref().unwrap_or(""),
        tls,
    )?;
    let auth = backend.spec.policies.as_ref().and_then(|p| p.auth.as_ref());
    let api_key = match auth {
        Some(a) if a.key.is_some() => a.key.as_deref().map(ApiKey::new),
        Some(a) => match &a.secret_ref {
            Some(r) => Some(secret_value(
                snapshot,
                namespace,
                &r.name,
                r.key.as_deref().unwrap_or("Authorization"),
            )?),
            None => None,
        },
        None => None,
    };
    Ok(LlmTarget {
        name: name.to_string(),
        provider,
        model: model_of(provider_spec),
        max_tokens: DEFAULT_MAX_TOKENS,
        base,
        authority,
        prefix,
        path: provider_spec.path.clone(),
        api_key,
    })
}

fn model_of(p: &AiProvider) -> Option<String> {
    p.model().map(str::to_string)
}

/// The LLM target of a ModelConfig.
pub fn from_model_config(
    snapshot: &Snapshot,
    name: &str,
    namespace: &str,
    config: &ModelConfig,
) -> Result<LlmTarget, Unusable> {
    let spec = &config.spec;
    let (provider, base_url, max_tokens) = match spec.provider.unwrap_or_default() {
        ModelProvider::Anthropic => (
            Provider::Anthropic,
            spec.anthropic.as_ref().and_then(|a| a.base_url.clone()),
            spec.anthropic.as_ref().and_then(|a| a.max_tokens),
        ),
        ModelProvider::OpenAi => (
            Provider::OpenAi,
            spec.open_ai.as_ref().and_then(|o| o.base_url.clone()),
            spec.open_ai.as_ref().and_then(|o| o.max_tokens),
        ),
        other => {
            return Err(format!(
                "provider {other:?} is not supported yet; use Anthropic or OpenAI"
            ));
        }
    };
    let (host, port, prefix, tls) = match &base_url {
        Some(url) => {
            let uri: Uri = url
                .parse()
                .map_err(|e| format!("baseUrl `{url}` is not a URL: {e}"))?;
            let tls = match uri.scheme_str() {
                Some("https") => true,
                Some("http") => false,
                _ => {
                    return Err(format!(
                        "baseUrl `{url}` must be an http:// or https:// URL"
                    ));
                }
            };
            let host = uri
                .host()
                .ok_or(format!("baseUrl `{url}` has no host"))?
                .trim_matches(['[', ']'])
                .to_string();
            (
                Some(host),
                Some(uri.port_u16().unwrap_or(if tls { 443 } else { 80 })),
                uri.path().to_string(),
                tls,
            )
        }
        None => (None, None, String::new(), true),
    };
    let (base, authority, prefix) = provider_base(provider, host.as_deref(), port, &prefix, tls)?;
    let api_key = match (&spec.api_key_secret, &spec.api_key_secret_key) {
        (Some(secret), Some(key)) => Some(secret_value(snapshot, namespace, secret, key)?),
        (Some(secret), None) => {
            return Err(format!(
                "apiKeySecret {secret} is set without apiKeySecretKey"
            ));
        }
        _ => None,
    };
    Ok(LlmTarget {
        name: name.to_string(),
        provider,
        model: Some(spec.model.clone()).filter(|m| !m.is_empty()),
        max_tokens: max_tokens
            .and_then(|m| u64::try_from(m).ok())
            .unwrap_or(DEFAULT_MAX_TOKENS),
        base,
        authority,
        prefix,
        path: None,
        api_key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(prefix: &str) -> LlmTarget {
        let (base, authority, prefix) =
            provider_base(Provider::OpenAi, Some("127.0.0.1"), Some(9), prefix, false).unwrap();
        LlmTarget {
            name: "t".into(),
            provider: Provider::OpenAi,
            model: None,
            max_tokens: 1,
            base,
            authority,
            prefix,
            path: None,
            api_key: Some(ApiKey::new("sk-secret")),
        }
    }

    #[test]
    fn format_routes_pick_the_longest_suffix_then_the_wildcard() {
        let routes = FormatRoutes::compile(&BTreeMap::from([
            ("*".to_string(), RouteType::Messages),
            ("/v1/chat/completions".to_string(), RouteType::Completions),
            ("/completions".to_string(), RouteType::Responses),
        ]))
        .unwrap();
        assert_eq!(
            routes.format_for("/x/v1/chat/completions"),
            Some(ApiFormat::OpenAiChat)
        );
        assert_eq!(
            routes.format_for("/x/completions"),
            Some(ApiFormat::OpenAiResponses)
        );
        assert_eq!(
            routes.format_for("/anthropic"),
            Some(ApiFormat::AnthropicMessages)
        );
        let err =
            FormatRoutes::compile(&BTreeMap::from([("*".to_string(), RouteType::Embeddings)]));
        assert!(err.unwrap_err().contains("Embeddings"));
    }

    #[test]
    fn joins_paths_like_base_urls() {
        assert_eq!(
            target("").upstream_path(ApiFormat::OpenAiChat),
            "/v1/chat/completions"
        );
        assert_eq!(
            target("/v1").upstream_path(ApiFormat::OpenAiChat),
            "/v1/chat/completions"
        );
        assert_eq!(
            target("/proxy/v1/").upstream_path(ApiFormat::OpenAiResponses),
            "/proxy/v1/responses"
        );
        assert_eq!(
            target("/api").upstream_path(ApiFormat::AnthropicMessages),
            "/api/v1/messages"
        );
    }

    #[test]
    fn default_endpoints_use_https_and_keys_stay_hidden() {
        let (base, authority, _) =
            provider_base(Provider::Anthropic, None, None, "", false).unwrap();
        assert_eq!(base.scheme_str(), Some("https"));
        assert_eq!(authority.as_str(), "api.anthropic.com:443");
        let (base, _, _) =
            provider_base(Provider::OpenAi, Some("10.0.0.1"), Some(8080), "", false).unwrap();
        assert_eq!(
            base.scheme_str(),
            Some("http"),
            "a host/port override is plain HTTP"
        );
        assert!(!format!("{:?}", target("")).contains("sk-secret"));
    }
}
