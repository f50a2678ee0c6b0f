//! Request defaults from the backend: `model` when the client omitted it and,
//! for Anthropic Messages, `max_tokens` (which Anthropic requires).
//!
//! Apply defaults to the body that goes upstream, after any translation: an
//! OpenAI Chat request translated for Anthropic gets `max_tokens` here.

use serde_json::Value;

use crate::format::ApiFormat;
use crate::json::type_name;

/// The `max_tokens` Palisade sends to Anthropic when neither the client nor
/// the backend chose one.
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

/// What a backend fills into requests that omit it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestDefaults {
    /// The model to use when the request names none (or an empty one).
    pub model: Option<String>,
    /// The `max_tokens` for Anthropic Messages requests that set none.
    pub max_tokens: u64,
}

impl Default for RequestDefaults {
    fn default() -> Self {
        RequestDefaults {
            model: None,
            max_tokens: DEFAULT_MAX_TOKENS,
        }
    }
}

impl RequestDefaults {
    /// Defaults with `model` and the default `max_tokens`.
    pub fn with_model(model: impl Into<String>) -> Self {
        RequestDefaults {
            model: Some(model.into()),
            ..Self::default()
        }
    }
}

/// A request body the defaults cannot be applied to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DefaultsError {
    /// The body is valid JSON but not an object.
    #[error(
        "the request body is {found}, but a {format} request must be a JSON object \
         such as {{\"model\": \"...\", \"messages\": [...]}}; send a JSON object"
    )]
    NotAnObject {
        /// The JSON type found (`an array`, `a string`, ...).
        found: &'static str,
        /// The request's format.
        format: ApiFormat,
    },
    /// `model` is not a string.
    #[error(
        "the request's `model` is {found}, but it must be a string naming a model; \
         send a model name or leave `model` out to use the backend's"
    )]
    ModelNotAString {
        /// The JSON type found.
        found: &'static str,
    },
    /// Neither the request nor the backend names a model.
    #[error(
        "the request names no `model` and the backend configures none; set `model` in the \
         request body or configure a model on the backend"
    )]
    MissingModel,
}

/// Fills `model` (when absent, null or empty) and, for
/// [`ApiFormat::AnthropicMessages`], `max_tokens` (when absent or null) into
/// `body`. Values the client set are kept.
pub fn apply_defaults(
    body: &mut Value,
    format: ApiFormat,
    defaults: &RequestDefaults,
) -> Result<(), DefaultsError> {
    let found = type_name(body);
    let Some(object) = body.as_object_mut() else {
        return Err(DefaultsError::NotAnObject { found, format });
    };

    let has_model = match object.get("model") {
        None | Some(Value::Null) => false,
        Some(Value::String(model)) => !model.is_empty(),
        Some(other) => {
            return Err(DefaultsError::ModelNotAString {
                found: type_name(other),
            });
        }
    };
    if !has_model {
        let model = defaults.model.as_ref().ok_or(DefaultsError::MissingModel)?;
        object.insert("model".into(), Value::String(model.clone()));
    }

    if format == ApiFormat::AnthropicMessages && object.get("max_tokens").is_none_or(Value::is_null)
    {
        object.insert("max_tokens".into(), Value::from(defaults.max_tokens));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fills_model_and_anthropic_max_tokens() {
        let mut body = json!({"messages": [{"role": "user", "content": "hi"}]});
        let defaults = RequestDefaults::with_model("claude-sonnet-4-5");
        apply_defaults(&mut body, ApiFormat::AnthropicMessages, &defaults).unwrap();
        assert_eq!(body["model"], "claude-sonnet-4-5");
        assert_eq!(body["max_tokens"], 4096);
    }

    #[test]
    fn empty_or_null_model_is_filled() {
        let defaults = RequestDefaults::with_model("gpt-4o-mini");
        for model in [json!(""), json!(null)] {
            let mut body = json!({"model": model, "messages": []});
            apply_defaults(&mut body, ApiFormat::OpenAiChat, &defaults).unwrap();
            assert_eq!(body["model"], "gpt-4o-mini");
        }
    }

    #[test]
    fn client_values_are_kept() {
        let mut body = json!({"model": "claude-haiku-4-5", "max_tokens": 10, "messages": []});
        let defaults = RequestDefaults {
            model: Some("other".into()),
            max_tokens: 99,
        };
        apply_defaults(&mut body, ApiFormat::AnthropicMessages, &defaults).unwrap();
        assert_eq!(body["model"], "claude-haiku-4-5");
        assert_eq!(body["max_tokens"], 10);
    }

    #[test]
    fn openai_formats_get_no_max_tokens() {
        let defaults = RequestDefaults::with_model("gpt-4o");
        for format in [ApiFormat::OpenAiChat, ApiFormat::OpenAiResponses] {
            let mut body = json!({"input": "hi"});
            apply_defaults(&mut body, format, &defaults).unwrap();
            assert_eq!(body, json!({"input": "hi", "model": "gpt-4o"}));
        }
    }

    #[test]
    fn configurable_max_tokens() {
        let mut body = json!({"model": "m", "max_tokens": null});
        let defaults = RequestDefaults {
            model: None,
            max_tokens: 1024,
        };
        apply_defaults(&mut body, ApiFormat::AnthropicMessages, &defaults).unwrap();
        assert_eq!(body["max_tokens"], 1024);
    }

    #[test]
    fn non_objects_are_rejected_with_the_type_found() {
        let defaults = RequestDefaults::with_model("m");
        let err = apply_defaults(&mut json!([1, 2]), ApiFormat::OpenAiChat, &defaults).unwrap_err();
        assert_eq!(
            err,
            DefaultsError::NotAnObject {
                found: "an array",
                format: ApiFormat::OpenAiChat
            }
        );
        assert!(err.to_string().contains("must be a JSON object"), "{err}");
    }

    #[test]
    fn missing_model_without_default_is_an_error() {
        let err = apply_defaults(
            &mut json!({}),
            ApiFormat::OpenAiChat,
            &RequestDefaults::default(),
        )
        .unwrap_err();
        assert_eq!(err, DefaultsError::MissingModel);
        let err = apply_defaults(
            &mut json!({"model": 4}),
            ApiFormat::OpenAiChat,
            &RequestDefaults::default(),
        )
        .unwrap_err();
        assert_eq!(err, DefaultsError::ModelNotAString { found: "a number" });
    }
}
