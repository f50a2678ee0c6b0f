//! Calling another agent (an agent used as a tool) over A2A 1.0 through the
//! gateway, with the calling agent's token: the callee's AccessPolicies see
//! the caller.

use palisade_mcp::http::HttpClient;
use serde_json::{Value, json};

use crate::conversations::new_id;
use crate::http_json;

/// Largest answer read from another agent.
const MAX_ANSWER: usize = 4 * 1024 * 1024;

/// Asks agent `namespace/name` `task` (in a fresh conversation) and returns
/// its answer.
pub async fn ask(
    client: &HttpClient,
    gateway: &str,
    token: &str,
    namespace: &str,
    name: &str,
    task: &str,
) -> Result<String, String> {
    let body = json!({
        "jsonrpc": "2.0", "id": new_id(), "method": "SendMessage",
        "params": {"message": {"messageId": new_id(), "role": "ROLE_USER", "parts": [{"text": task}]}},
    });
    let what = format!("agent {namespace}/{name}");
    let url = format!("{gateway}/api/a2a/{namespace}/{name}");
    let (status, bytes) = http_json::post(
        client,
        &url,
        token,
        &[("a2a-version", "1.0")],
        &body,
        MAX_ANSWER,
        &what,
    )
    .await?;
    if !status.is_success() {
        return Err(format!(
            "{what} refused the call with {status}: {}",
            http_json::excerpt(&bytes)
        ));
    }
    let reply: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("agent {namespace}/{name} answered with invalid JSON: {e}"))?;
    if let Some(error) = reply.get("error") {
        return Err(format!("agent {namespace}/{name} failed: {error}"));
    }
    answer_text(&reply["result"])
        .ok_or_else(|| format!("agent {namespace}/{name} gave no answer: {reply}"))
}

/// The answer in a send result: the task's artifacts, else its status
/// message, else a plain message.
pub fn answer_text(result: &Value) -> Option<String> {
    let texts = |parts: &Value| -> String {
        parts
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("")
    };
    if let Some(task) = result.get("task") {
        if task.pointer("/status/state").and_then(Value::as_str) == Some("TASK_STATE_FAILED") {
            return task
                .pointer("/status/message/parts")
                .map(|p| format!("error: {}", texts(p)));
        }
        let artifacts: Vec<String> = task
            .get("artifacts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|a| texts(&a["parts"]))
            .collect();
        if !artifacts.is_empty() {
            return Some(artifacts.join("\n"));
        }
        return task.pointer("/status/message/parts").map(texts);
    }
    result.get("message").map(|m| texts(&m["parts"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_come_from_artifacts_then_messages() {
        let task = json!({"task": {"status": {"state": "TASK_STATE_COMPLETED"},
            "artifacts": [{"parts": [{"text": "42"}]}]}});
        assert_eq!(answer_text(&task).as_deref(), Some("42"));
        let message = json!({"message": {"parts": [{"text": "hi"}]}});
        assert_eq!(answer_text(&message).as_deref(), Some("hi"));
        assert_eq!(answer_text(&json!({})), None);
    }
}
