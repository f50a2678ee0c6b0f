//! Error bodies: Anthropic's shape → OpenAI's shape.
//!
//! Anthropic: `{"type": "error", "error": {"type": "not_found_error",
//! "message": "..."}}`. OpenAI: `{"error": {"message": "...", "type": "...",
//! "param": null, "code": "..."}}`. OpenAI SDKs choose the exception from the
//! HTTP status, which the gateway keeps; `type` carries Anthropic's error
//! type (server-side ones become `server_error`) and `code` the original.

use serde_json::{Value, json};

use crate::json::str_field;

/// An OpenAI-shaped error body.
pub fn openai_error_body(message: &str, kind: &str, code: Option<&str>) -> Value {
    json!({ "error": { "message": message, "type": kind, "param": null, "code": code } })
}

/// Translates an Anthropic error body (or the data of a streamed `error`
/// event) into an OpenAI error body. A body of another shape becomes a
/// generic upstream error rather than being passed through.
pub fn anthropic_error_to_openai(body: &Value) -> Value {
    let error = body.get("error").unwrap_or(&Value::Null);
    let Some(kind) = str_field(error, "type") else {
        return openai_error_body(
            "the upstream provider returned an error",
            "server_error",
            None,
        );
    };
    let message = str_field(error, "message").unwrap_or("the upstream provider returned an error");
    let openai_kind = match kind {
        "api_error" | "overloaded_error" | "timeout_error" => "server_error",
        "request_too_large" => "invalid_request_error",
        other => other,
    };
    openai_error_body(message, openai_kind, Some(kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_error_shape_and_types() {
        let body = json!({"type": "error", "error": {"type": "invalid_request_error",
            "message": "max_tokens: Field required"}, "request_id": "req_011"});
        assert_eq!(
            anthropic_error_to_openai(&body),
            json!({"error": {"message": "max_tokens: Field required", "type": "invalid_request_error",
                "param": null, "code": "invalid_request_error"}})
        );
        let body = json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}});
        let out = anthropic_error_to_openai(&body);
        assert_eq!(out["error"]["type"], "server_error");
        assert_eq!(out["error"]["code"], "overloaded_error");
    }

    #[test]
    fn unknown_shapes_become_a_generic_error() {
        for body in [json!("oops"), json!({"message": "x"}), json!(null)] {
            let out = anthropic_error_to_openai(&body);
            assert_eq!(out["error"]["type"], "server_error");
            assert_eq!(
                out["error"]["message"],
                "the upstream provider returned an error"
            );
        }
    }
}
