//! The A2A protocol as Palisade's agents speak it, IO-free: the agent card,
//! JSON-RPC methods, and tasks, messages and stream events.
//!
//! Two dialects are served on the same endpoint. A2A 1.0 (`SendMessage`,
//! `SendStreamingMessage`, `GetTask`; `ROLE_USER`, `TASK_STATE_COMPLETED`,
//! parts without a `kind`, results wrapped as `{"task": ...}`), which the
//! official SDKs speak by default, and A2A 0.3 (`message/send`,
//! `message/stream`, `tasks/get`; `user`, `completed`, `kind`-tagged
//! objects, `final` on status updates). Tasks are built and stored in the
//! 1.0 form and rendered in 0.3 on the way out when the client asked in 0.3.

use palisade_api::time::Timestamp;
use serde_json::{Map, Value, json};

use crate::conversations::new_id;

/// JSON-RPC error codes of A2A.
pub mod codes {
    /// The task does not exist (or is not the caller's).
    pub const TASK_NOT_FOUND: i64 = -32001;
    /// The operation is not supported.
    pub const UNSUPPORTED_OPERATION: i64 = -32004;
    /// Invalid JSON.
    pub const PARSE_ERROR: i64 = -32700;
    /// Not a JSON-RPC request.
    pub const INVALID_REQUEST: i64 = -32600;
    /// Unknown method.
    pub const METHOD_NOT_FOUND: i64 = -32601;
    /// Bad parameters.
    pub const INVALID_PARAMS: i64 = -32602;
    /// The agent failed.
    pub const INTERNAL_ERROR: i64 = -32603;
}

/// Which protocol revision a request speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// A2A 1.0.
    V1,
    /// A2A 0.3.
    V03,
}

/// What a request asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Send a message, answer when done.
    Send,
    /// Send a message, stream events as they happen.
    Stream,
    /// Read a task.
    GetTask,
}

/// The method and dialect a JSON-RPC method name stands for.
pub fn method(name: &str) -> Option<(Method, Dialect)> {
    Some(match name {
        "SendMessage" => (Method::Send, Dialect::V1),
        "SendStreamingMessage" => (Method::Stream, Dialect::V1),
        "GetTask" => (Method::GetTask, Dialect::V1),
        "message/send" => (Method::Send, Dialect::V03),
        "message/stream" => (Method::Stream, Dialect::V03),
        "tasks/get" => (Method::GetTask, Dialect::V03),
        _ => return None,
    })
}

/// A user message as the agent reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserMessage {
    /// The text of its text parts.
    pub text: String,
    /// The conversation it continues, if any.
    pub context_id: Option<String>,
    /// Its id (generated when absent).
    pub message_id: String,
}

/// Reads the `message` of send params (either dialect).
pub fn user_message(params: &Value) -> Result<UserMessage, String> {
    let message = params.get("message").ok_or("params.message is required")?;
    let parts = message
        .get("parts")
        .and_then(Value::as_array)
        .ok_or("params.message.parts must be a list")?;
    let text: Vec<&str> = parts
        .iter()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect();
    if text.is_empty() {
        return Err("params.message has no text part; this agent reads text".into());
    }
    let id = |name: &str| {
        message
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    Ok(UserMessage {
        text: text.join("\n"),
        context_id: id("contextId"),
        message_id: id("messageId").unwrap_or_else(new_id),
    })
}

/// A message in the 1.0 form.
pub fn message(role_agent: bool, text: &str, context_id: &str, task_id: &str, id: &str) -> Value {
    json!({
        "messageId": id,
        "contextId": context_id,
        "taskId": task_id,
        "role": if role_agent { "ROLE_AGENT" } else { "ROLE_USER" },
        "parts": [{"text": text}],
    })
}

/// A task state (1.0 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Received, not started.
    Submitted,
    /// Running.
    Working,
    /// Answered.
    Completed,
    /// Failed.
    Failed,
}

impl State {
    fn v1(self) -> &'static str {
        match self {
            State::Submitted => "TASK_STATE_SUBMITTED",
            State::Working => "TASK_STATE_WORKING",
            State::Completed => "TASK_STATE_COMPLETED",
            State::Failed => "TASK_STATE_FAILED",
        }
    }
}

/// A task status: state, optional agent message, time.
pub fn status(state: State, message: Option<Value>) -> Value {
    let mut status = json!({"state": state.v1(), "timestamp": Timestamp::now().to_string()});
    if let Some(m) = message {
        status["message"] = m;
    }
    status
}

/// A task in the 1.0 form.
pub fn task(
    id: &str,
    context_id: &str,
    status: Value,
    history: Vec<Value>,
    artifacts: Vec<Value>,
) -> Value {
    let mut task = json!({"id": id, "contextId": context_id, "status": status, "history": history});
    if !artifacts.is_empty() {
        task["artifacts"] = Value::Array(artifacts);
    }
    task
}

/// The answer as an artifact.
pub fn answer_artifact(text: &str) -> Value {
    json!({"artifactId": new_id(), "name": "answer", "parts": [{"text": text}]})
}

/// A stream event: a task, a status update or an artifact update.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The task as it starts.
    Task(Value),
    /// A new status; `last` on the final one.
    Status {
        /// Task id.
        task_id: String,
        /// Context id.
        context_id: String,
        /// The status.
        status: Value,
        /// Whether the stream ends after it.
        last: bool,
    },
    /// An artifact.
    Artifact {
        /// Task id.
        task_id: String,
        /// Context id.
        context_id: String,
        /// The artifact.
        artifact: Value,
    },
}

/// The `result` of a send in `dialect`.
pub fn send_result(task: &Value, dialect: Dialect) -> Value {
    match dialect {
        Dialect::V1 => json!({"task": task}),
        Dialect::V03 => task_v03(task),
    }
}

/// The `result` of a task read in `dialect`.
pub fn get_result(task: &Value, dialect: Dialect) -> Value {
    match dialect {
        Dialect::V1 => task.clone(),
        Dialect::V03 => task_v03(task),
    }
}

/// The `result` of a stream event in `dialect`.
pub fn event_result(event: &StreamEvent, dialect: Dialect) -> Value {
    match (event, dialect) {
        (StreamEvent::Task(task), _) => send_result(task, dialect),
        (
            StreamEvent::Status {
                task_id,
                context_id,
                status,
                last: _,
            },
            Dialect::V1,
        ) => {
            json!({"statusUpdate": {"taskId": task_id, "contextId": context_id, "status": status}})
        }
        (
            StreamEvent::Status {
                task_id,
                context_id,
                status,
                last,
            },
            Dialect::V03,
        ) => json!({
            "kind": "status-update", "taskId": task_id, "contextId": context_id,
            "status": status_v03(status), "final": last,
        }),
        (
            StreamEvent::Artifact {
                task_id,
                context_id,
                artifact,
            },
            Dialect::V1,
        ) => {
            json!({"artifactUpdate": {"taskId": task_id, "contextId": context_id, "artifact": artifact}})
        }
        (
            StreamEvent::Artifact {
                task_id,
                context_id,
                artifact,
            },
            Dialect::V03,
        ) => json!({
            "kind": "artifact-update", "taskId": task_id, "contextId": context_id,
            "artifact": parts_v03(artifact), "lastChunk": true,
        }),
    }
}

/// A JSON-RPC success response.
pub fn response(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// A JSON-RPC error response.
pub fn error(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// The agent card: who the agent is, where and how to call it.
pub fn card(name: &str, description: &str, version: &str, url: &str, skills: Vec<Value>) -> Value {
    json!({
        "name": name,
        "description": description,
        "version": version,
        "supportedInterfaces": [
            {"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
            {"url": url, "protocolBinding": "JSONRPC", "protocolVersion": "0.3"},
        ],
        // A2A 0.3 clients read these.
        "url": url,
        "preferredTransport": "JSONRPC",
        "protocolVersion": "0.3.0",
        "capabilities": {"streaming": true, "pushNotifications": false},
        "defaultInputModes": ["text/plain"],
        "defaultOutputModes": ["text/plain"],
        "skills": skills,
        "securitySchemes": {"bearer": {"httpAuthSecurityScheme": {"scheme": "Bearer"}}},
        "securityRequirements": [{"schemes": {"bearer": {"list": []}}}],
    })
}

fn task_v03(task: &Value) -> Value {
    let mut out = Map::new();
    out.insert("kind".into(), "task".into());
    for key in ["id", "contextId"] {
        if let Some(v) = task.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    if let Some(s) = task.get("status") {
        out.insert("status".into(), status_v03(s));
    }
    if let Some(history) = task.get("history").and_then(Value::as_array) {
        out.insert("history".into(), history.iter().map(message_v03).collect());
    }
    if let Some(artifacts) = task.get("artifacts").and_then(Value::as_array) {
        out.insert(
            "artifacts".into(),
            artifacts.iter().map(parts_v03).collect(),
        );
    }
    Value::Object(out)
}

fn status_v03(status: &Value) -> Value {
    let mut out = status.clone();
    if let Some(state) = status.get("state").and_then(Value::as_str) {
        out["state"] = state
            .trim_start_matches("TASK_STATE_")
            .to_ascii_lowercase()
            .replace('_', "-")
            .into();
    }
    if let Some(m) = status.get("message") {
        out["message"] = message_v03(m);
    }
    out
}

fn message_v03(message: &Value) -> Value {
    let mut out = parts_v03(message);
    out["kind"] = "message".into();
    if let Some(role) = message.get("role").and_then(Value::as_str) {
        out["role"] = match role {
            "ROLE_AGENT" => "agent",
            _ => "user",
        }
        .into();
    }
    out
}

/// Adds 0.3's `kind` to the parts of a message or artifact.
fn parts_v03(holder: &Value) -> Value {
    let mut out = holder.clone();
    if let Some(parts) = out.get_mut("parts").and_then(Value::as_array_mut) {
        for part in parts {
            if part.get("text").is_some() {
                part["kind"] = "text".into();
            } else if part.get("data").is_some() {
                part["kind"] = "data".into();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_dialects_read_the_user_message() {
        let v1 = json!({"message": {"messageId": "m1", "contextId": "c1", "role": "ROLE_USER",
            "parts": [{"text": "hello"}]}, "configuration": {}});
        let v03 = json!({"message": {"kind": "message", "messageId": "m1", "role": "user",
            "parts": [{"kind": "text", "text": "hello"}]}});
        let a = user_message(&v1).unwrap();
        assert_eq!(
            (a.text.as_str(), a.context_id.as_deref()),
            ("hello", Some("c1"))
        );
        let b = user_message(&v03).unwrap();
        assert_eq!((b.text.as_str(), b.context_id), ("hello", None));
        assert!(user_message(&json!({"message": {"parts": [{"data": {}}]}})).is_err());
        assert!(user_message(&json!({})).is_err());
    }

    #[test]
    fn tasks_render_in_0_3() {
        let answer = message(true, "done", "c", "t", "m2");
        let t = task(
            "t",
            "c",
            status(State::Completed, Some(answer)),
            vec![message(false, "hi", "c", "t", "m1")],
            vec![answer_artifact("done")],
        );
        assert_eq!(
            send_result(&t, Dialect::V1)["task"]["status"]["state"],
            "TASK_STATE_COMPLETED"
        );
        let old = send_result(&t, Dialect::V03);
        assert_eq!(old["kind"], "task");
        assert_eq!(old["status"]["state"], "completed");
        assert_eq!(old["status"]["message"]["role"], "agent");
        assert_eq!(old["history"][0]["parts"][0]["kind"], "text");
        assert_eq!(old["artifacts"][0]["parts"][0]["kind"], "text");
        let last = StreamEvent::Status {
            task_id: "t".into(),
            context_id: "c".into(),
            status: status(State::Completed, None),
            last: true,
        };
        assert_eq!(event_result(&last, Dialect::V03)["final"], true);
        assert!(event_result(&last, Dialect::V1)["statusUpdate"].is_object());
    }

    #[test]
    fn method_names() {
        assert_eq!(method("SendMessage"), Some((Method::Send, Dialect::V1)));
        assert_eq!(
            method("message/stream"),
            Some((Method::Stream, Dialect::V03))
        );
        assert_eq!(method("tasks/cancel"), None);
    }
}
