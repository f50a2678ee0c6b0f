//! Anthropic Messages response → OpenAI `chat.completion`.

use serde_json::{Value, json};

use super::TranslateError;
use crate::json::{str_field, type_name};
use crate::usage::TokenUsage;

/// Translates an Anthropic Messages response body into an OpenAI
/// `chat.completion` body.
///
/// `created` is the Unix time to report: the crate reads no clock. The id
/// and model are Anthropic's. Text blocks are concatenated into
/// `message.content` (null when there are none), `tool_use` blocks become
/// `message.tool_calls` with their input serialized as `arguments`, and
/// thinking blocks are dropped.
pub fn anthropic_to_openai_chat(response: &Value, created: u64) -> Result<Value, TranslateError> {
    if !response.is_object() {
        return Err(TranslateError::NotAnObject {
            what: "response",
            found: type_name(response),
        });
    }
    let content = match response.get("content") {
        Some(Value::Array(blocks)) => blocks.as_slice(),
        Some(other) => return Err(TranslateError::invalid("content", "an array", other)),
        None => {
            return Err(TranslateError::MissingField {
                field: "content".into(),
                hint: "an Anthropic message response carries `content`; translate error bodies \
                       with anthropic_error_to_openai",
            });
        }
    };
    let mut text = String::new();
    let mut tool_calls = Vec::new();
    for block in content {
        match str_field(block, "type") {
            Some("text") => text.push_str(str_field(block, "text").unwrap_or_default()),
            Some("tool_use") => tool_calls.push(json!({
                "id": str_field(block, "id").unwrap_or_default(),
                "type": "function",
                "function": {
                    "name": str_field(block, "name").unwrap_or_default(),
                    "arguments": block.get("input").unwrap_or(&json!({})).to_string(),
                }
            })),
            _ => {}
        }
    }
    let mut message = json!({
        "role": "assistant",
        "content": if text.is_empty() && !tool_calls.is_empty() { Value::Null } else { Value::String(text) },
        "refusal": null,
    });
    if !tool_calls.is_empty() {
        message["tool_calls"] = Value::Array(tool_calls);
    }
    let mut out = json!({
        "id": str_field(response, "id").unwrap_or_default(),
        "object": "chat.completion",
        "created": created,
        "model": str_field(response, "model").unwrap_or_default(),
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(str_field(response, "stop_reason")),
        }],
    });
    if let Some(usage) = response.get("usage").and_then(TokenUsage::from_anthropic) {
        out["usage"] = openai_usage(usage);
    }
    Ok(out)
}

/// Anthropic `stop_reason` → OpenAI `finish_reason`.
pub(super) fn finish_reason(stop_reason: Option<&str>) -> &'static str {
    match stop_reason {
        Some("max_tokens" | "model_context_window_exceeded") => "length",
        Some("tool_use") => "tool_calls",
        Some("refusal") => "content_filter",
        // end_turn, stop_sequence, pause_turn and anything new.
        _ => "stop",
    }
}

/// An OpenAI Chat `usage` object.
pub(super) fn openai_usage(usage: TokenUsage) -> Value {
    json!({
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens(),
        "prompt_tokens_details": { "cached_tokens": usage.cache_read_input_tokens },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_response() {
        let response = json!({
            "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5",
            "content": [{"type": "text", "text": "Hello"}, {"type": "text", "text": " there"}],
            "stop_reason": "end_turn", "stop_sequence": null,
            "usage": {"input_tokens": 12, "output_tokens": 6}
        });
        assert_eq!(
            anthropic_to_openai_chat(&response, 1_700_000_000).unwrap(),
            json!({
                "id": "msg_01", "object": "chat.completion", "created": 1_700_000_000u64,
                "model": "claude-sonnet-4-5",
                "choices": [{"index": 0, "logprobs": null, "finish_reason": "stop",
                    "message": {"role": "assistant", "content": "Hello there", "refusal": null}}],
                "usage": {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18,
                    "prompt_tokens_details": {"cached_tokens": 0}}
            })
        );
    }

    #[test]
    fn finish_reasons() {
        for (stop, want) in [
            ("end_turn", "stop"),
            ("stop_sequence", "stop"),
            ("max_tokens", "length"),
            ("tool_use", "tool_calls"),
            ("refusal", "content_filter"),
        ] {
            assert_eq!(finish_reason(Some(stop)), want, "{stop}");
        }
        assert_eq!(finish_reason(None), "stop");
    }

    #[test]
    fn tool_only_response_has_null_content() {
        let response = json!({"id": "m", "model": "c", "stop_reason": "tool_use", "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "s"},
            {"type": "tool_use", "id": "toolu_1", "name": "f", "input": {"a": [1, 2]}}
        ]});
        let out = anthropic_to_openai_chat(&response, 0).unwrap();
        let message = &out["choices"][0]["message"];
        assert_eq!(message["content"], Value::Null);
        assert_eq!(
            message["tool_calls"][0]["function"]["arguments"],
            "{\"a\":[1,2]}"
        );
        assert!(out.get("usage").is_none());
    }

    #[test]
    fn malformed_responses_are_errors() {
        assert!(matches!(
            anthropic_to_openai_chat(&json!([1]), 0),
            Err(TranslateError::NotAnObject {
                what: "response",
                found: "an array"
            })
        ));
        let err = anthropic_to_openai_chat(&json!({"type": "error"}), 0).unwrap_err();
        assert!(
            err.to_string().contains("anthropic_error_to_openai"),
            "{err}"
        );
    }
}
