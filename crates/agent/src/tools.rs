//! The agent's tools, reached through the gateway with the agent's own
//! token: MCP servers at `/mcp/<namespace>/<name>` (so AccessPolicies, CEL
//! rules, guards and the audit apply to every listing and call) and other
//! agents over A2A at `/api/a2a/<namespace>/<name>`.
//!
//! A [`Toolbox`] is opened per turn: what the model is offered is what the
//! gateway lists for the agent right now, narrowed by `toolNames`, so a
//! policy applied a moment ago already counts.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use palisade_mcp::connection::Connection;
use palisade_mcp::http::{HttpClient, streamable};
use palisade_mcp::jsonrpc::Message;
use palisade_mcp::server::UpstreamHeaders;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::a2a_client;
use crate::definition::{AgentDef, ToolSource};
use crate::model::ToolSpec;

/// How long a tool call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(120);
/// Most list pages read from one server.
const MAX_PAGES: usize = 20;
/// Longest tool result handed to the model, in characters.
const MAX_RESULT_CHARS: usize = 64 * 1024;

/// Where a tool the model may call lives.
enum Owner {
    /// A tool of the MCP connection at this index.
    Mcp(usize),
    /// An agent, by `namespace`, `name`.
    Agent(String, String),
}

/// The tools of one turn.
pub struct Toolbox {
    client: HttpClient,
    gateway: String,
    token: String,
    connections: Vec<Arc<Connection>>,
    /// Offered tools, with their owners.
    offered: Vec<(ToolSpec, Owner)>,
    /// `toolNames` entries of the agent that no server listed for it.
    pub missing: Vec<String>,
    /// Every tool name `toolNames` allows, offered or not (the gateway is
    /// asked about these even when they were not listed, and decides).
    declared: BTreeSet<(usize, String)>,
}

impl Toolbox {
    /// Connects to every tool source of `def` through `gateway` as the
    /// holder of `token`, and lists what it may use.
    pub async fn open(
        client: HttpClient,
        gateway: &str,
        token: &str,
        def: &AgentDef,
        describe_agent: &(dyn Fn(&str, &str) -> Option<String> + Sync),
    ) -> Result<Toolbox, String> {
        let mut toolbox = Toolbox {
            client: client.clone(),
            gateway: gateway.to_string(),
            token: token.to_string(),
            connections: Vec::new(),
            offered: Vec::new(),
            missing: Vec::new(),
            declared: BTreeSet::new(),
        };
        for source in &def.tools {
            match source {
                ToolSource::Mcp {
                    namespace,
                    name,
                    tool_names,
                } => {
                    let index = toolbox.connections.len();
                    let conn = toolbox.connect(namespace, name).await?;
                    let listed = list_tools(&conn).await.map_err(|e| {
                        format!("cannot list the tools of MCP server {namespace}/{name}: {e}")
                    })?;
                    toolbox.connections.push(conn);
                    let wanted: BTreeSet<&str> = tool_names.iter().map(String::as_str).collect();
                    for name in &wanted {
                        toolbox.declared.insert((index, name.to_string()));
                    }
                    for tool in listed {
                        let Some(tool_name) = tool.get("name").and_then(Value::as_str) else {
                            continue;
                        };
                        if !wanted.is_empty() && !wanted.contains(tool_name) {
                            continue;
                        }
                        if wanted.is_empty() {
                            toolbox.declared.insert((index, tool_name.to_string()));
                        }
                        if toolbox.offered.iter().any(|(t, _)| t.name == tool_name) {
                            tracing::warn!(agent = %def.name, tool = tool_name, "two tool servers offer the same tool name; the first one is used");
                            continue;
                        }
                        toolbox.offered.push((
                            ToolSpec {
                                name: tool_name.to_string(),
                                description: tool
                                    .get("description")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_string(),
                                parameters: tool
                                    .get("inputSchema")
                                    .cloned()
                                    .unwrap_or_else(|| json!({"type": "object"})),
                            },
                            Owner::Mcp(index),
                        ));
                    }
                    for name in wanted {
                        if !toolbox.offered.iter().any(|(t, _)| t.name == name) {
                            toolbox.missing.push(name.to_string());
                        }
                    }
                }
                ToolSource::Agent { namespace, name } => {
                    toolbox.offered.push((
                        ToolSpec {
                            name: agent_tool_name(name),
                            description: describe_agent(namespace, name)
                                .unwrap_or_else(|| format!("The agent {namespace}/{name}")),
                            parameters: json!({
                                "type": "object",
                                "properties": {"task": {"type": "string", "description": "What to ask the agent"}},
                                "required": ["task"],
                            }),
                        },
                        Owner::Agent(namespace.clone(), name.clone()),
                    ));
                }
            }
        }
        Ok(toolbox)
    }

    /// The tools offered to the model.
    pub fn specs(&self) -> Vec<ToolSpec> {
        self.offered.iter().map(|(t, _)| t.clone()).collect()
    }

    /// Calls tool `name` with `arguments` (JSON text): its result as text, or
    /// the refusal or failure as text, for the model to read.
    pub async fn call(&self, name: &str, arguments: &str) -> Result<String, String> {
        let args: Value = serde_json::from_str(if arguments.trim().is_empty() {
            "{}"
        } else {
            arguments
        })
        .map_err(|e| format!("the arguments are not JSON: {e}"))?;
        let listed = self
            .offered
            .iter()
            .find(|(t, _)| t.name == name)
            .map(|(_, o)| o);
        // A declared tool the gateway did not list is asked for anyway: the
        // gateway decides (and audits the refusal).
        let declared = || {
            self.declared
                .iter()
                .find(|(_, n)| n == name)
                .map(|(i, _)| *i)
        };
        let owner = match listed {
            Some(Owner::Mcp(index)) => Some(Owner::Mcp(*index)),
            Some(Owner::Agent(ns, agent)) => Some(Owner::Agent(ns.clone(), agent.clone())),
            None => declared().map(Owner::Mcp),
        };
        match owner {
            Some(Owner::Mcp(index)) => {
                let conn = &self.connections[index];
                let call =
                    conn.request("tools/call", Some(json!({"name": name, "arguments": args})));
                let result = tokio::time::timeout(CALL_TIMEOUT, call)
                    .await
                    .map_err(|_| format!("{name} did not answer within {CALL_TIMEOUT:?}"))?
                    .map_err(|e| e.message)?;
                let text = result_text(&result);
                match result.get("isError").and_then(Value::as_bool) {
                    Some(true) => Err(text),
                    _ => Ok(text),
                }
            }
            Some(Owner::Agent(namespace, agent)) => {
                let task = args
                    .get("task")
                    .and_then(Value::as_str)
                    .ok_or("the call needs a `task` string")?;
                a2a_client::ask(
                    &self.client,
                    &self.gateway,
                    &self.token,
                    &namespace,
                    &agent,
                    task,
                )
                .await
            }
            None => Err(format!(
                "{name} is not one of this agent's tools (spec.declarative.tools)"
            )),
        }
    }

    async fn connect(&self, namespace: &str, name: &str) -> Result<Arc<Connection>, String> {
        let uri = format!("{}/mcp/{namespace}/{name}", self.gateway)
            .parse()
            .map_err(|e| format!("cannot build the MCP URL: {e}"))?;
        let headers = UpstreamHeaders::new(vec![(
            "authorization".into(),
            format!("Bearer {}", self.token),
        )])?;
        let label = format!("{namespace}/{name}");
        let pipe = streamable(label.clone(), self.client.clone(), uri, headers);
        let (unsolicited, mut ignored) = mpsc::channel(16);
        // Server notifications (progress, list changes) are not used by the loop.
        tokio::spawn(async move { while ignored.recv().await.is_some() {} });
        let conn = Connection::new(label, pipe, unsolicited);
        let params = json!({
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "palisade-agent", "version": env!("CARGO_PKG_VERSION")},
        });
        conn.request("initialize", Some(params))
            .await
            .map_err(|e| {
                format!(
                    "MCP server {namespace}/{name} refused the agent: {}",
                    e.message
                )
            })?;
        conn.send(Message::notification("notifications/initialized", None))
            .await
            .map_err(|e| e.to_string())?;
        Ok(conn)
    }
}

/// Every tool a connection lists, following cursors.
async fn list_tools(conn: &Connection) -> Result<Vec<Value>, String> {
    let mut tools = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let params = cursor.as_ref().map(|c| json!({"cursor": c}));
        let page = conn
            .request("tools/list", params)
            .await
            .map_err(|e| e.message)?;
        if let Some(items) = page.get("tools").and_then(Value::as_array) {
            tools.extend(items.iter().cloned());
        }
        cursor = page
            .get("nextCursor")
            .and_then(Value::as_str)
            .map(str::to_string);
        if cursor.is_none() {
            break;
        }
    }
    Ok(tools)
}

/// The function name an agent tool is offered under (`[A-Za-z0-9_-]`).
pub fn agent_tool_name(agent: &str) -> String {
    agent
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

/// The text of a `tools/call` result: text parts as they are, other parts
/// summarized, cut to a size a model can take.
pub fn result_text(result: &Value) -> String {
    let mut out = String::new();
    for part in result
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if !out.is_empty() {
            out.push('\n');
        }
        match part.get("type").and_then(Value::as_str) {
            Some("text") => out.push_str(part.get("text").and_then(Value::as_str).unwrap_or("")),
            Some(kind) => out.push_str(&format!("[{kind} content]")),
            None => out.push_str("[content]"),
        }
    }
    if out.is_empty()
        && let Some(structured) = result.get("structuredContent")
    {
        out = structured.to_string();
    }
    if out.chars().count() > MAX_RESULT_CHARS {
        out = out.chars().take(MAX_RESULT_CHARS).collect::<String>() + " [cut]";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_become_text() {
        let result = json!({"content": [
            {"type": "text", "text": "Echo: hi"},
            {"type": "image", "data": "...", "mimeType": "image/png"}
        ]});
        assert_eq!(result_text(&result), "Echo: hi\n[image content]");
        assert_eq!(
            result_text(&json!({"content": [], "structuredContent": {"a": 1}})),
            "{\"a\":1}"
        );
    }

    #[test]
    fn agent_tool_names_are_function_names() {
        assert_eq!(agent_tool_name("k8s.helper agent"), "k8s_helper_agent");
    }
}
