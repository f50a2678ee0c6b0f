//! Calling another agent (an agent used as a tool) over A2A 1.0 through the
//! gateway, with the calling agent's token: the callee's AccessPolicies see
//! the caller.

use bytes::Bytes;
use http::Request;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http_body_util::{BodyExt, Full, Limited};
use palisade_mcp::http::HttpClient;
use serde_json::{Value, json};

use crate::conversations::new_id;

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
    let request = Request::post(format!("{gateway}/api/a2a/{namespace}/{name}"))
        .header(CONTENT_TYPE, "application/json")
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header("a2a-version", "1.0")
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| format!("cannot build the A2A request: {e}"))?;
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("cannot reach agent {namespace}/{name}: {e}"))?;
    let status = response.status();
    let bytes = Limited::new(response.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map_err(|e| format!("cannot read agent {namespace}/{name}'s answer: {e}"))?
        .to_bytes();
    if !status.is_success() {
        return Err(format!(
            "agent {namespace}/{name} refused the call with {status}: {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
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
