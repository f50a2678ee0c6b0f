//! An OpenAI Chat Completions client talking to an Anthropic backend.
//!
//! - [`openai_chat_to_anthropic`]: the request, Chat Completions to
//!   Messages;
//! - [`anthropic_to_openai_chat`]: a whole response back;
//! - [`anthropic_error_to_openai`]: an error body back;
//! - [`AnthropicToOpenAiStream`]: a streamed response back, event by event.
//!
//! Translation works on `serde_json::Value` bodies. Fields of the source
//! format with no counterpart are dropped; content that would be lost
//! silently (images in an unsupported encoding, audio, `n > 1`, invalid tool
//! arguments) is a [`TranslateError`] naming the field.

mod error_body;
mod request;
mod response;
mod stream;

pub use error_body::{anthropic_error_to_openai, openai_error_body};
pub use request::{openai_chat_to_anthropic, stream_include_usage};
pub use response::anthropic_to_openai_chat;
pub use stream::{AnthropicToOpenAiStream, StreamOutput};

/// A body that cannot be translated. `field` values are paths such as
/// `messages[2].tool_calls[0].function.arguments`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    /// The body is not a JSON object.
    #[error("the {what} body is {found}, but it must be a JSON object")]
    NotAnObject {
        /// `request`, `response` or `stream event`.
        what: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// A required field is absent.
    #[error("`{field}` is missing; {hint}")]
    MissingField {
        /// Where the field was expected.
        field: String,
        /// How to fix it.
        hint: &'static str,
    },
    /// A field has the wrong JSON type.
    #[error("`{field}` is {found}, but it must be {expected}")]
    InvalidField {
        /// The field.
        field: String,
        /// What it must be.
        expected: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// A message role with no Anthropic counterpart.
    #[error(
        "`{field}` is {role:?}, which an Anthropic backend cannot take; use one of \
         system, developer, user, assistant or tool"
    )]
    UnsupportedRole {
        /// The `role` field.
        field: String,
        /// The role sent.
        role: String,
    },
    /// Content an Anthropic backend cannot take.
    #[error("`{field}` is not supported by an Anthropic backend: {reason}")]
    UnsupportedContent {
        /// The content part or field.
        field: String,
        /// Why, and what to send instead.
        reason: String,
    },
    /// A streamed upstream event whose data is not JSON.
    #[error(
        "the data of the upstream `{event}` event is not JSON ({reason}); the upstream is not \
         speaking Anthropic Messages: check the backend's provider and path"
    )]
    StreamEventNotJson {
        /// The SSE event type.
        event: String,
        /// The JSON parser's message.
        reason: String,
    },
    /// A tool call's `arguments` is not a JSON object.
    #[error(
        "`{field}` must be a JSON object encoded as a string (such as \"{{\\\"city\\\": \
         \\\"Paris\\\"}}\"): {reason}"
    )]
    InvalidToolArguments {
        /// The `arguments` field.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl TranslateError {
    fn invalid(
        field: impl Into<String>,
        expected: &'static str,
        found: &serde_json::Value,
    ) -> Self {
        TranslateError::InvalidField {
            field: field.into(),
            expected,
            found: crate::json::type_name(found),
        }
    }
}
