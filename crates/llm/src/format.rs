//! Which wire format a request speaks, chosen from the request path.

use std::fmt;

/// A request/response wire format of an LLM API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApiFormat {
    /// Anthropic Messages (`POST /v1/messages`).
    AnthropicMessages,
    /// OpenAI Chat Completions (`POST /v1/chat/completions`).
    OpenAiChat,
    /// OpenAI Responses (`POST /v1/responses`).
    OpenAiResponses,
}

impl ApiFormat {
    /// All formats, for iteration in tests and diagnostics.
    pub const ALL: [ApiFormat; 3] = [
        ApiFormat::AnthropicMessages,
        ApiFormat::OpenAiChat,
        ApiFormat::OpenAiResponses,
    ];

    /// Chooses the format from the path left after the route prefix.
    ///
    /// A path ending in `/messages` (so also `/v1/messages`) is Anthropic
    /// Messages, one ending in `/chat/completions` is OpenAI Chat Completions
    /// and one ending in `/responses` is OpenAI Responses. Anything else, the
    /// empty path and `/` included, is OpenAI Chat Completions: a bare route
    /// path is how most OpenAI-compatible clients are pointed at a gateway.
    /// A query string and trailing slashes are ignored.
    pub fn from_path_suffix(path: &str) -> ApiFormat {
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let path = path.trim_end_matches('/');
        if path.ends_with("/messages") || path == "messages" {
            ApiFormat::AnthropicMessages
        } else if path.ends_with("/responses") || path == "responses" {
            ApiFormat::OpenAiResponses
        } else {
            ApiFormat::OpenAiChat
        }
    }

    /// The path of this format's endpoint on the provider's API host.
    pub fn upstream_path(self) -> &'static str {
        match self {
            ApiFormat::AnthropicMessages => "/v1/messages",
            ApiFormat::OpenAiChat => "/v1/chat/completions",
            ApiFormat::OpenAiResponses => "/v1/responses",
        }
    }

    /// A short stable name (`anthropic-messages`, `openai-chat`,
    /// `openai-responses`) for logs, metrics and error messages.
    pub fn name(self) -> &'static str {
        match self {
            ApiFormat::AnthropicMessages => "anthropic-messages",
            ApiFormat::OpenAiChat => "openai-chat",
            ApiFormat::OpenAiResponses => "openai-responses",
        }
    }
}

impl fmt::Display for ApiFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::ApiFormat::{self, *};

    #[test]
    fn paths_choose_formats() {
        let cases = [
            ("/v1/messages", AnthropicMessages),
            ("/messages", AnthropicMessages),
            ("messages", AnthropicMessages),
            ("/anthropic/v1/messages/", AnthropicMessages),
            ("/v1/messages?beta=true", AnthropicMessages),
            ("/v1/chat/completions", OpenAiChat),
            ("/chat/completions", OpenAiChat),
            ("/v1/responses", OpenAiResponses),
            ("/responses", OpenAiResponses),
            ("", OpenAiChat),
            ("/", OpenAiChat),
            ("/v1/embeddings", OpenAiChat),
            ("/v1/mymessages", OpenAiChat),
        ];
        for (path, want) in cases {
            assert_eq!(ApiFormat::from_path_suffix(path), want, "path {path:?}");
        }
    }

    #[test]
    fn upstream_paths_round_trip() {
        for format in ApiFormat::ALL {
            assert_eq!(ApiFormat::from_path_suffix(format.upstream_path()), format);
        }
    }

    #[test]
    fn display_is_the_name() {
        assert_eq!(OpenAiResponses.to_string(), "openai-responses");
    }
}
