//! LLM providers: which formats they serve and how the upstream hop is
//! authenticated.
//!
//! Palisade never passes a client's credential upstream: the gateway removes
//! every header named in [`CLIENT_CREDENTIAL_HEADERS`] from the client's
//! request and sets the provider's [`Provider::auth_headers`] instead. The
//! key itself lives in an [`ApiKey`], whose `Debug` output is redacted.

use std::fmt;

use crate::format::ApiFormat;

/// An LLM provider Palisade can call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Anthropic (`api.anthropic.com`).
    Anthropic,
    /// OpenAI (`api.openai.com`).
    OpenAi,
}

/// The `anthropic-version` Palisade sends when the client sent none.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// Client request headers that carry credentials or choose the upstream
/// account; the gateway removes all of them before the upstream hop.
///
/// Names are lowercase, as HTTP/2 sends them and as `http::HeaderName`
/// stores them.
pub const CLIENT_CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "api-key",
    "anthropic-api-key",
    "openai-api-key",
    "x-goog-api-key",
    "openai-organization",
    "openai-project",
];

impl Provider {
    /// The provider's public API host, dialled over HTTPS unless a backend
    /// overrides host and port.
    pub fn default_host(self) -> &'static str {
        match self {
            Provider::Anthropic => "api.anthropic.com",
            Provider::OpenAi => "api.openai.com",
        }
    }

    /// The format to send upstream for a client request in `client` format.
    ///
    /// Formats the provider serves natively pass through unchanged. An
    /// OpenAI Chat Completions request to Anthropic is translated to
    /// Anthropic Messages (see [`crate::translate`]); other combinations are
    /// an [`UnsupportedFormat`] error.
    pub fn upstream_format(self, client: ApiFormat) -> Result<ApiFormat, UnsupportedFormat> {
        match (self, client) {
            (Provider::Anthropic, ApiFormat::AnthropicMessages | ApiFormat::OpenAiChat) => {
                Ok(ApiFormat::AnthropicMessages)
            }
            (Provider::OpenAi, ApiFormat::OpenAiChat | ApiFormat::OpenAiResponses) => Ok(client),
            (provider, format) => Err(UnsupportedFormat { provider, format }),
        }
    }

    /// The upstream path for a client request in `client` format: the
    /// endpoint of [`Self::upstream_format`].
    pub fn upstream_path(self, client: ApiFormat) -> Result<&'static str, UnsupportedFormat> {
        Ok(self.upstream_format(client)?.upstream_path())
    }

    /// Headers that authenticate the upstream hop with `key`; each replaces
    /// any header of the same name.
    ///
    /// Anthropic: `x-api-key: <key>`. OpenAI: `authorization: Bearer <key>`.
    /// Both values are marked sensitive.
    pub fn auth_headers(self, key: &ApiKey) -> Vec<UpstreamHeader> {
        match self {
            Provider::Anthropic => vec![UpstreamHeader::sensitive("x-api-key", key.0.clone())],
            Provider::OpenAi => vec![UpstreamHeader::sensitive(
                "authorization",
                format!("Bearer {}", key.0),
            )],
        }
    }

    /// Headers the provider requires, set only when the client did not send
    /// them (a client may pin its own API version).
    ///
    /// Anthropic: `anthropic-version: 2023-06-01`. OpenAI: none.
    pub fn default_headers(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Provider::Anthropic => &[("anthropic-version", ANTHROPIC_VERSION)],
            Provider::OpenAi => &[],
        }
    }

    /// A short stable name (`anthropic`, `openai`).
    pub fn name(self) -> &'static str {
        match self {
            Provider::Anthropic => "anthropic",
            Provider::OpenAi => "openai",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A client format the provider cannot serve, even with translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {provider} provider cannot serve {format} requests; send {} to this route, \
     or route {format} requests to a backend of another provider",
    supported(*.provider)
)]
pub struct UnsupportedFormat {
    /// The backend's provider.
    pub provider: Provider,
    /// The client's format.
    pub format: ApiFormat,
}

fn supported(provider: Provider) -> &'static str {
    match provider {
        Provider::Anthropic => {
            "Anthropic Messages (/v1/messages) or OpenAI Chat Completions (/v1/chat/completions)"
        }
        Provider::OpenAi => {
            "OpenAI Chat Completions (/v1/chat/completions) or OpenAI Responses (/v1/responses)"
        }
    }
}

/// An LLM provider API key. `Debug` prints `ApiKey(<redacted>)`; there is no
/// `Display`, so a key cannot end up in a log line by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key read from a Secret.
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself, for the one place that writes it on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

/// One header to set on the upstream request.
#[derive(Clone, PartialEq, Eq)]
pub struct UpstreamHeader {
    name: &'static str,
    value: String,
    sensitive: bool,
}

impl UpstreamHeader {
    fn sensitive(name: &'static str, value: String) -> Self {
        UpstreamHeader {
            name,
            value,
            sensitive: true,
        }
    }

    /// The lowercase header name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The header value (a credential when [`Self::is_sensitive`]).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether the value is a credential: mark it sensitive
    /// (`HeaderValue::set_sensitive`) so HPACK never indexes it, and never
    /// log it.
    pub fn is_sensitive(&self) -> bool {
        self.sensitive
    }
}

impl fmt::Debug for UpstreamHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if self.sensitive {
            "<redacted>"
        } else {
            self.value.as_str()
        };
        f.debug_struct("UpstreamHeader")
            .field("name", &self.name)
            .field("value", &value)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_serves_messages_and_translated_chat() {
        let p = Provider::Anthropic;
        assert_eq!(
            p.upstream_format(ApiFormat::AnthropicMessages),
            Ok(ApiFormat::AnthropicMessages)
        );
        assert_eq!(
            p.upstream_format(ApiFormat::OpenAiChat),
            Ok(ApiFormat::AnthropicMessages)
        );
        let err = p.upstream_format(ApiFormat::OpenAiResponses).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the anthropic provider cannot serve openai-responses requests; send Anthropic \
             Messages (/v1/messages) or OpenAI Chat Completions (/v1/chat/completions) to this \
             route, or route openai-responses requests to a backend of another provider"
        );
    }

    #[test]
    fn upstream_paths_follow_the_upstream_format() {
        let cases = [
            (
                Provider::Anthropic,
                ApiFormat::AnthropicMessages,
                "/v1/messages",
            ),
            (Provider::Anthropic, ApiFormat::OpenAiChat, "/v1/messages"),
            (
                Provider::OpenAi,
                ApiFormat::OpenAiChat,
                "/v1/chat/completions",
            ),
            (
                Provider::OpenAi,
                ApiFormat::OpenAiResponses,
                "/v1/responses",
            ),
        ];
        for (provider, client, path) in cases {
            assert_eq!(
                provider.upstream_path(client),
                Ok(path),
                "{provider} {client}"
            );
        }
        assert!(
            Provider::OpenAi
                .upstream_path(ApiFormat::AnthropicMessages)
                .is_err()
        );
    }

    #[test]
    fn openai_serves_its_own_formats() {
        let p = Provider::OpenAi;
        assert_eq!(
            p.upstream_format(ApiFormat::OpenAiChat),
            Ok(ApiFormat::OpenAiChat)
        );
        assert_eq!(
            p.upstream_format(ApiFormat::OpenAiResponses),
            Ok(ApiFormat::OpenAiResponses)
        );
        assert!(p.upstream_format(ApiFormat::AnthropicMessages).is_err());
    }

    #[test]
    fn auth_headers_have_the_provider_shape() {
        let key = ApiKey::new("sk-secret-123");
        let anthropic = Provider::Anthropic.auth_headers(&key);
        assert_eq!(anthropic.len(), 1);
        assert_eq!(anthropic[0].name(), "x-api-key");
        assert_eq!(anthropic[0].value(), "sk-secret-123");
        assert!(anthropic[0].is_sensitive());
        assert_eq!(
            Provider::Anthropic.default_headers(),
            &[("anthropic-version", "2023-06-01")]
        );

        let openai = Provider::OpenAi.auth_headers(&key);
        assert_eq!(openai[0].name(), "authorization");
        assert_eq!(openai[0].value(), "Bearer sk-secret-123");
        assert!(Provider::OpenAi.default_headers().is_empty());
    }

    #[test]
    fn secrets_never_appear_in_debug_output() {
        let key = ApiKey::new("sk-secret-123");
        assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
        for provider in [Provider::Anthropic, Provider::OpenAi] {
            let debug = format!("{:?}", provider.auth_headers(&key));
            assert!(!debug.contains("secret"), "{debug}");
            assert!(debug.contains("<redacted>"), "{debug}");
        }
    }

    #[test]
    fn credential_headers_cover_both_providers_and_are_lowercase() {
        for name in ["authorization", "x-api-key", "api-key", "x-goog-api-key"] {
            assert!(CLIENT_CREDENTIAL_HEADERS.contains(&name), "{name}");
        }
        for name in CLIENT_CREDENTIAL_HEADERS {
            assert_eq!(*name, name.to_ascii_lowercase());
        }
        // The version header is not a credential: a client may pin it.
        assert!(!CLIENT_CREDENTIAL_HEADERS.contains(&"anthropic-version"));
    }
}
