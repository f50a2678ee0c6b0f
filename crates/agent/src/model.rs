//! The agent's model, reached through the gateway's built-in LLM route
//! (`/llm/<namespace>/<modelconfig>/v1/chat/completions`) with the agent's
//! own token: the gateway injects the provider key, translates to the
//! provider's format, and applies the guards, rate limits and AccessPolicies
//! that target the ModelConfig. The agent speaks OpenAI Chat Completions
//! with function tools.

use palisade_mcp::http::HttpClient;
use serde_json::{Value, json};

use crate::http_json;

/// Largest model answer read.
const MAX_ANSWER: usize = 8 * 1024 * 1024;

/// A tool offered to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    /// The name the model calls it by.
    pub name: String,
    /// What it does.
    pub description: String,
    /// JSON Schema of its arguments.
    pub parameters: Value,
}

/// A tool call the model asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    /// The call's id (echoed with the result).
    pub id: String,
    /// The tool.
    pub name: String,
    /// The arguments as the model wrote them (a JSON object, unchecked).
    pub arguments: String,
}

/// What the model answered.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelTurn {
    /// The assistant message, to append to the conversation as is.
    pub message: Value,
    /// Its text (possibly empty when it calls tools).
    pub text: String,
    /// The tools it calls; none means this is the final answer.
    pub calls: Vec<ToolCall>,
}

/// A client of one agent's model.
#[derive(Clone)]
pub struct Model {
    client: HttpClient,
    url: String,
}

impl Model {
    /// The model of ModelConfig `namespace/name` behind the gateway at `gateway`
    /// (`http://host:port`).
    pub fn new(
        client: HttpClient,
        gateway: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Model, String> {
        let url = format!("{gateway}/llm/{namespace}/{name}/v1/chat/completions");
        url.parse::<http::Uri>()
            .map_err(|e| format!("cannot build the model URL {url}: {e}"))?;
        Ok(Model { client, url })
    }

    /// Asks the model for the next turn of `messages` (system message
    /// first), offering `tools`.
    pub async fn complete(
        &self,
        token: &str,
        messages: &[Value],
        tools: &[ToolSpec],
    ) -> Result<ModelTurn, String> {
        let body = request_body(messages, tools);
        let (status, bytes) = http_json::post(
            &self.client,
            &self.url,
            token,
            &[],
            &body,
            MAX_ANSWER,
            "the model",
        )
        .await?;
        if !status.is_success() {
            return Err(format!(
                "the model call was refused with {status}: {}",
                http_json::excerpt(&bytes)
            ));
        }
        let answer: Value = serde_json::from_slice(&bytes)
            .map_err(|e| format!("the model's answer is not JSON: {e}"))?;
        parse_turn(&answer)
    }
}

/// The Chat Completions request: messages and function tools. The model is
/// left out: the gateway fills it from the ModelConfig.
pub fn request_body(messages: &[Value], tools: &[ToolSpec]) -> Value {
    let mut body = json!({"messages": messages});
    if !tools.is_empty() {
        body["tools"] = tools
            .iter()
            .map(|t| {
                json!({"type": "function", "function": {
                    "name": t.name,
                    "description": t.description,
                    "parameters": t.parameters,
                }})
            })
            .collect();
    }
    body
}

/// Reads a Chat Completions answer: the assistant message, its text and its
/// tool calls.
pub fn parse_turn(answer: &Value) -> Result<ModelTurn, String> {
    let message = answer
        .pointer("/choices/0/message")
        .cloned()
        .ok_or_else(|| format!("the model's answer has no choices[0].message: {answer}"))?;
    let text = match message.get("content") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    };
    let calls = message
        .get("tool_calls")
        .and_then(Value::as_array)
        .map(|calls| {
            calls
                .iter()
                .filter_map(|c| {
                    Some(ToolCall {
                        id: c.get("id")?.as_str()?.to_string(),
                        name: c.pointer("/function/name")?.as_str()?.to_string(),
                        arguments: c
                            .pointer("/function/arguments")
                            .and_then(Value::as_str)
                            .unwrap_or("{}")
                            .to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(ModelTurn {
        message,
        text,
        calls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_calls_and_text_are_read() {
        let answer = json!({"choices": [{"message": {
            "role": "assistant", "content": null,
            "tool_calls": [{"id": "c1", "type": "function",
                "function": {"name": "echo", "arguments": "{\"message\":\"hi\"}"}}]
        }}]});
        let turn = parse_turn(&answer).unwrap();
        assert_eq!(turn.text, "");
        assert_eq!(
            turn.calls,
            [ToolCall {
                id: "c1".into(),
                name: "echo".into(),
                arguments: "{\"message\":\"hi\"}".into()
            }]
        );
        let done = parse_turn(
            &json!({"choices": [{"message": {"role": "assistant", "content": "done"}}]}),
        )
        .unwrap();
        assert_eq!((done.text.as_str(), done.calls.len()), ("done", 0));
        assert!(parse_turn(&json!({"error": "x"})).is_err());
    }

    #[test]
    fn tools_are_offered_as_functions() {
        let body = request_body(
            &[json!({"role": "user", "content": "hi"})],
            &[ToolSpec {
                name: "echo".into(),
                description: "Echoes".into(),
                parameters: json!({"type": "object"}),
            }],
        );
        assert_eq!(body["tools"][0]["function"]["name"], "echo");
        assert!(body.get("model").is_none());
    }
}
