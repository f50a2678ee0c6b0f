//! The agent loop: ask the model with the tools the agent may use right
//! now, run the tool calls it asks for through the gateway, feed the results
//! back, until it answers or the step limit is reached. Every model and tool
//! call carries the agent's own token, so the gateway authenticates,
//! authorizes, guards and audits them as the agent's.

use std::sync::Arc;

use palisade_mcp::http::HttpClient;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::definition::AgentDef;
use crate::model::Model;
use crate::tools::Toolbox;

/// Model calls one turn may make before it is stopped.
pub const MAX_STEPS: usize = 12;

/// Mints the agents' tokens.
pub trait AgentTokens: Send + Sync {
    /// A short-lived token naming agent `namespace/name`.
    fn agent_token(&self, namespace: &str, name: &str) -> Result<String, String>;
}

/// What happens during a turn, for streaming clients.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The model asked for a tool.
    ToolCall {
        /// The tool.
        name: String,
        /// Its arguments (JSON text).
        arguments: String,
    },
    /// A tool answered (or was refused).
    ToolResult {
        /// The tool.
        name: String,
        /// Whether it succeeded.
        ok: bool,
        /// Its result, or why it failed.
        text: String,
    },
    /// Text the model wrote before calling tools.
    Thought(String),
}

/// The result of one turn.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    /// Messages to append to the conversation (the user's, the model's, the
    /// tools').
    pub messages: Vec<Value>,
    /// The final answer.
    pub answer: String,
    /// The tools the model was offered.
    pub offered: Vec<String>,
    /// `toolNames` entries the gateway did not list for the agent.
    pub missing: Vec<String>,
}

/// Runs agents' turns.
pub struct Runtime {
    client: HttpClient,
    gateway: String,
    tokens: Arc<dyn AgentTokens>,
}

impl Runtime {
    /// A runtime reaching the gateway at `gateway` (`http://host:port`).
    pub fn new(client: HttpClient, gateway: String, tokens: Arc<dyn AgentTokens>) -> Runtime {
        Runtime {
            client,
            gateway,
            tokens,
        }
    }

    /// Runs one turn of `def`: `history` is the conversation so far (without
    /// the system message), `input` the new user message.
    pub async fn turn(
        &self,
        def: &AgentDef,
        history: &[Value],
        input: &str,
        describe_agent: &(dyn Fn(&str, &str) -> Option<String> + Sync),
        events: Option<&mpsc::Sender<Event>>,
    ) -> Result<Turn, String> {
        if let Some(why) = &def.not_ready {
            return Err(format!("the agent is not ready: {why}"));
        }
        let token = self.tokens.agent_token(&def.namespace, &def.name)?;
        let model = Model::new(
            self.client.clone(),
            &self.gateway,
            &def.namespace,
            &def.model_config,
        )?;
        let toolbox = Toolbox::open(
            self.client.clone(),
            &self.gateway,
            &token,
            def,
            describe_agent,
        )
        .await?;
        let specs = toolbox.specs();
        let mut conversation: Vec<Value> = Vec::with_capacity(history.len() + 2);
        if !def.system_message.is_empty() {
            conversation.push(json!({"role": "system", "content": def.system_message}));
        }
        conversation.extend(history.iter().cloned());
        let first_new = conversation.len();
        conversation.push(json!({"role": "user", "content": input}));
        for _ in 0..MAX_STEPS {
            let turn = model.complete(&token, &conversation, &specs).await?;
            conversation.push(turn.message.clone());
            if turn.calls.is_empty() {
                return Ok(Turn {
                    messages: conversation.split_off(first_new),
                    answer: turn.text,
                    offered: specs.iter().map(|s| s.name.clone()).collect(),
                    missing: toolbox.missing.clone(),
                });
            }
            if !turn.text.is_empty() {
                emit(events, Event::Thought(turn.text.clone())).await;
            }
            for call in &turn.calls {
                emit(
                    events,
                    Event::ToolCall {
                        name: call.name.clone(),
                        arguments: call.arguments.clone(),
                    },
                )
                .await;
                let outcome = toolbox.call(&call.name, &call.arguments).await;
                let (ok, text) = match outcome {
                    Ok(text) => (true, text),
                    Err(why) => (false, format!("error: {why}")),
                };
                emit(
                    events,
                    Event::ToolResult {
                        name: call.name.clone(),
                        ok,
                        text: text.clone(),
                    },
                )
                .await;
                conversation.push(json!({
                    "role": "tool",
                    "tool_call_id": call.id,
                    "content": text,
                }));
            }
        }
        Err(format!(
            "the agent did not answer within {MAX_STEPS} model calls"
        ))
    }
}

async fn emit(events: Option<&mpsc::Sender<Event>>, event: Event) {
    if let Some(tx) = events {
        // A client that went away does not stop the turn.
        let _ = tx.send(event).await;
    }
}
