//! The A2A endpoint of every agent (`/api/a2a/<namespace>/<name>` on the
//! default listener, behind the gateway's authentication and AccessPolicies):
//! the agent card, `SendMessage`/`message/send`, `SendStreamingMessage`/
//! `message/stream` (Server-Sent Events) and `GetTask`/`tasks/get`.
//!
//! A turn runs to its end even when a streaming client goes away, and its
//! conversation and task are stored either way.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, HOST};
use http::{Method as HttpMethod, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use palisade_gateway::agents::{A2A_PREFIX, AgentService};
use palisade_gateway::body::{self, Body};
use palisade_gateway::callers::BoxFuture;
use palisade_gateway::jwt::Identity;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::a2a::{self, Dialect, Method, State, StreamEvent, UserMessage, codes};
use crate::conversations::{Conversations, OpenError, new_id};
use crate::definition::{AgentDef, Definitions, MAX_RECOMMENDED_TOOLS, too_many_tools};
use crate::runtime::{Event, Runtime};

/// Largest A2A request body.
const MAX_REQUEST: usize = 1024 * 1024;
/// How often an idle stream gets a comment, so clients with short read
/// timeouts keep waiting.
const KEEPALIVE: Duration = Duration::from_secs(3);

/// Every agent's A2A endpoint and runtime.
pub struct Agents {
    defs: RwLock<Arc<Definitions>>,
    runtime: Runtime,
    conversations: Conversations,
    /// What the last turn of each agent found worth saying (toolNames not
    /// offered, too many tools), by `namespace/name`.
    notes: Mutex<HashMap<String, Vec<String>>>,
}

impl Agents {
    /// Agents run by `runtime`, their conversations kept in `conversations`.
    pub fn new(runtime: Runtime, conversations: Conversations) -> Arc<Agents> {
        Arc::new(Agents {
            defs: RwLock::new(Arc::default()),
            runtime,
            conversations,
            notes: Mutex::new(HashMap::new()),
        })
    }

    /// Serves the agents of a new configuration (turns already running keep
    /// the definition they started with).
    pub fn update(&self, defs: Arc<Definitions>) {
        *self.defs.write().unwrap_or_else(|p| p.into_inner()) = defs;
    }

    /// What the last turn of agent `namespace/name` found worth saying.
    pub fn notes(&self, namespace: &str, name: &str) -> Vec<String> {
        self.notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&format!("{namespace}/{name}"))
            .cloned()
            .unwrap_or_default()
    }

    fn definitions(&self) -> Arc<Definitions> {
        self.defs.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    async fn serve(
        self: Arc<Self>,
        namespace: String,
        name: String,
        caller: Option<Arc<Identity>>,
        req: Request<Incoming>,
    ) -> Response<Body> {
        let defs = self.definitions();
        let Some(def) = defs.get(&format!("{namespace}/{name}")).cloned() else {
            return plain(
                StatusCode::NOT_FOUND,
                &format!("no agent {namespace}/{name}"),
            );
        };
        let base = format!("{A2A_PREFIX}{namespace}/{name}");
        let rest = req.uri().path().strip_prefix(&base).unwrap_or_default();
        match (req.method(), rest) {
            (&HttpMethod::GET, "/.well-known/agent-card.json" | "/.well-known/agent.json") => {
                let url = format!("{}{base}", origin(&req));
                json_response(StatusCode::OK, &agent_card(&def, &url))
            }
            (&HttpMethod::POST, "" | "/") => {
                let owner = caller.map_or_else(|| "anonymous".to_string(), |c| c.subject.clone());
                self.rpc(def, owner, req).await
            }
            _ => plain(
                StatusCode::NOT_FOUND,
                &format!(
                    "{} {} is not an A2A endpoint of {namespace}/{name}: POST JSON-RPC to {base}, GET the card at {base}/.well-known/agent-card.json",
                    req.method(),
                    req.uri().path()
                ),
            ),
        }
    }

    async fn rpc(
        self: Arc<Self>,
        def: Arc<AgentDef>,
        owner: String,
        req: Request<Incoming>,
    ) -> Response<Body> {
        let bytes = match Limited::new(req.into_body(), MAX_REQUEST).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => {
                return plain(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    &format!("the request is larger than {MAX_REQUEST} bytes, or unreadable"),
                );
            }
        };
        let request: Value = match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(e) => {
                return rpc_error(
                    &Value::Null,
                    codes::PARSE_ERROR,
                    &format!("the body is not JSON: {e}"),
                );
            }
        };
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        let Some(name) = request.get("method").and_then(Value::as_str) else {
            return rpc_error(
                &id,
                codes::INVALID_REQUEST,
                "not a JSON-RPC request: `method` is missing",
            );
        };
        let Some((method, dialect)) = a2a::method(name) else {
            return rpc_error(
                &id,
                codes::METHOD_NOT_FOUND,
                &format!(
                    "method {name} is not supported; use SendMessage, SendStreamingMessage or GetTask (or their A2A 0.3 names)"
                ),
            );
        };
        let params = request.get("params").cloned().unwrap_or(Value::Null);
        match method {
            Method::GetTask => {
                let Some(task_id) = params.get("id").and_then(Value::as_str) else {
                    return rpc_error(
                        &id,
                        codes::INVALID_PARAMS,
                        "params.id (the task id) is required",
                    );
                };
                match self
                    .conversations
                    .task(task_id, &def.namespace, &def.name, &owner)
                    .await
                {
                    Ok(Some(task)) => json_response(
                        StatusCode::OK,
                        &a2a::response(&id, a2a::get_result(&task, dialect)),
                    ),
                    Ok(None) => rpc_error(
                        &id,
                        codes::TASK_NOT_FOUND,
                        &format!("task {task_id} not found"),
                    ),
                    Err(e) => rpc_error(&id, codes::INTERNAL_ERROR, &e),
                }
            }
            Method::Send | Method::Stream => {
                let message = match a2a::user_message(&params) {
                    Ok(m) => m,
                    Err(e) => return rpc_error(&id, codes::INVALID_PARAMS, &e),
                };
                if let Some(why) = &def.not_ready {
                    return rpc_error(
                        &id,
                        codes::INTERNAL_ERROR,
                        &format!("agent {}/{} is not ready: {why}", def.namespace, def.name),
                    );
                }
                if method == Method::Send {
                    match self.turn(def, owner, message, None).await {
                        Ok(task) => json_response(
                            StatusCode::OK,
                            &a2a::response(&id, a2a::send_result(&task, dialect)),
                        ),
                        Err((code, why)) => rpc_error(&id, code, &why),
                    }
                } else {
                    self.stream(def, owner, message, id, dialect)
                }
            }
        }
    }

    /// Streams a turn as Server-Sent Events.
    fn stream(
        self: Arc<Self>,
        def: Arc<AgentDef>,
        owner: String,
        message: UserMessage,
        id: Value,
        dialect: Dialect,
    ) -> Response<Body> {
        let (events_tx, mut events_rx) = mpsc::channel::<StreamEvent>(32);
        let error_id = id.clone();
        let (frames_tx, frames_rx) = mpsc::channel::<Bytes>(32);
        tokio::spawn(async move {
            let turn =
                tokio::spawn(async move { self.turn(def, owner, message, Some(events_tx)).await });
            loop {
                match tokio::time::timeout(KEEPALIVE, events_rx.recv()).await {
                    Ok(Some(event)) => {
                        let data = a2a::response(&id, a2a::event_result(&event, dialect));
                        if frames_tx.send(sse(&data)).await.is_err() {
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(_) => {
                        if frames_tx
                            .send(Bytes::from_static(b": keepalive\n\n"))
                            .await
                            .is_err()
                        {
                            break;
                        }
                    }
                }
            }
            // Failures before the task existed (a conversation not found).
            if let Ok(Err((code, why))) = turn.await {
                let _ = frames_tx
                    .send(sse(&a2a::error(&error_id, code, &why)))
                    .await;
            }
        });
        let stream = futures_util::stream::unfold(frames_rx, |mut rx| async move {
            rx.recv()
                .await
                .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
        });
        let mut response = Response::new(body::boxed(StreamBody::new(stream)));
        response.headers_mut().insert(
            CONTENT_TYPE,
            http::HeaderValue::from_static("text/event-stream"),
        );
        response
            .headers_mut()
            .insert("cache-control", http::HeaderValue::from_static("no-store"));
        response
    }

    /// Runs one turn: the task it produced (completed or failed), or a
    /// JSON-RPC error when there is no task to speak of.
    async fn turn(
        &self,
        def: Arc<AgentDef>,
        owner: String,
        message: UserMessage,
        events: Option<mpsc::Sender<StreamEvent>>,
    ) -> Result<Value, (i64, String)> {
        let context_id = message.context_id.clone().unwrap_or_else(new_id);
        let lock = self.conversations.lock(&context_id);
        let _turn = lock.lock().await;
        let mut conversation = self
            .conversations
            .open(&context_id, &def.namespace, &def.name, &owner)
            .await
            .map_err(|e| match e {
                OpenError::NotFound => (
                    codes::INVALID_PARAMS,
                    format!("context {context_id} not found"),
                ),
                OpenError::Store(e) => (codes::INTERNAL_ERROR, e),
            })?;
        let task_id = new_id();
        let user = a2a::message(
            false,
            &message.text,
            &context_id,
            &task_id,
            &message.message_id,
        );
        let emit = |event: StreamEvent| {
            let events = events.clone();
            async move {
                if let Some(tx) = events {
                    let _ = tx.send(event).await;
                }
            }
        };
        emit(StreamEvent::Task(a2a::task(
            &task_id,
            &context_id,
            a2a::status(State::Submitted, None),
            vec![user.clone()],
            vec![],
        )))
        .await;
        let working = |text: String| StreamEvent::Status {
            task_id: task_id.clone(),
            context_id: context_id.clone(),
            status: a2a::status(
                State::Working,
                Some(a2a::message(true, &text, &context_id, &task_id, &new_id())),
            ),
            last: false,
        };
        let (runtime_tx, mut runtime_rx) = mpsc::channel::<Event>(32);
        let relay = {
            let events = events.clone();
            async move {
                while let Some(event) = runtime_rx.recv().await {
                    if let Some(tx) = &events {
                        let _ = tx.send(working(describe(&event))).await;
                    }
                }
            }
        };
        let defs = self.definitions();
        let describe_agent = |ns: &str, name: &str| -> Option<String> {
            defs.get(&format!("{ns}/{name}"))
                .map(|d| d.description.clone())
                .filter(|d| !d.is_empty())
        };
        let run = async {
            let result = self
                .runtime
                .turn(
                    &def,
                    &conversation.messages,
                    &message.text,
                    &describe_agent,
                    Some(&runtime_tx),
                )
                .await;
            drop(runtime_tx);
            result
        };
        let (result, ()) = tokio::join!(run, relay);
        let (state, text) = match result {
            Ok(turn) => {
                self.note(&def, &turn.offered, &turn.missing);
                conversation.messages.extend(turn.messages);
                if let Err(e) = self.conversations.save(&conversation).await {
                    tracing::error!(agent = %def.name, error = %e, "cannot store the conversation");
                }
                (State::Completed, turn.answer)
            }
            Err(why) => {
                tracing::warn!(agent = %format!("{}/{}", def.namespace, def.name), error = %why, "agent turn failed");
                (State::Failed, why)
            }
        };
        let answer = a2a::message(true, &text, &context_id, &task_id, &new_id());
        let artifacts = match state {
            State::Completed => vec![a2a::answer_artifact(&text)],
            _ => vec![],
        };
        for artifact in &artifacts {
            emit(StreamEvent::Artifact {
                task_id: task_id.clone(),
                context_id: context_id.clone(),
                artifact: artifact.clone(),
            })
            .await;
        }
        let status = a2a::status(state, Some(answer.clone()));
        let task = a2a::task(
            &task_id,
            &context_id,
            status.clone(),
            vec![user, answer],
            artifacts,
        );
        if let Err(e) = self
            .conversations
            .save_task(&def.namespace, &def.name, &owner, &task)
            .await
        {
            tracing::error!(agent = %def.name, error = %e, "cannot store the task");
        }
        emit(StreamEvent::Status {
            task_id,
            context_id,
            status,
            last: true,
        })
        .await;
        Ok(task)
    }

    fn note(&self, def: &AgentDef, offered: &[String], missing: &[String]) {
        let mut notes = Vec::new();
        if !missing.is_empty() {
            notes.push(format!(
                "toolNames not offered to this agent (the server does not have them, or a policy denies them): {}",
                missing.join(", ")
            ));
        }
        if offered.len() > MAX_RECOMMENDED_TOOLS {
            notes.push(too_many_tools(offered.len()));
        }
        self.notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(format!("{}/{}", def.namespace, def.name), notes);
    }
}

impl AgentService for Agents {
    fn handle(
        self: Arc<Self>,
        namespace: String,
        name: String,
        caller: Option<Arc<Identity>>,
        req: Request<Incoming>,
    ) -> BoxFuture<'static, Response<Body>> {
        Box::pin(self.serve(namespace, name, caller, req))
    }
}

/// The agent card of `def`, served at `url`.
fn agent_card(def: &AgentDef, url: &str) -> Value {
    let skills = def
        .a2a
        .as_ref()
        .map(|a| {
            a.skills
                .iter()
                .map(|s| {
                    json!({
                        "id": s.id,
                        "name": s.name,
                        "description": s.description.clone().unwrap_or_default(),
                        "tags": s.tags,
                        "examples": s.examples,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    a2a::card(&def.name, &def.description, &def.version, url, skills)
}

/// What a runtime event says to a streaming client.
fn describe(event: &Event) -> String {
    fn cut(text: &str) -> String {
        match text.char_indices().nth(500) {
            Some((at, _)) => format!("{}...", &text[..at]),
            None => text.to_string(),
        }
    }
    match event {
        Event::ToolCall { name, arguments } => {
            format!("calling tool {name} with {}", cut(arguments))
        }
        Event::ToolResult {
            name,
            ok: true,
            text,
        } => format!("tool {name} answered: {}", cut(text)),
        Event::ToolResult {
            name,
            ok: false,
            text,
        } => format!("tool {name} failed: {}", cut(text)),
        Event::Thought(text) => cut(text),
    }
}

/// The request's origin as the client sees it (`X-Forwarded-Proto` honoured).
fn origin<B>(req: &Request<B>) -> String {
    let scheme = match req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
    {
        Some("https") => "https",
        _ => "http",
    };
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}

/// One Server-Sent Event carrying `data`.
fn sse(data: &Value) -> Bytes {
    Bytes::from(format!("data: {data}\n\n"))
}

fn json_response(status: StatusCode, value: &Value) -> Response<Body> {
    let mut response = Response::new(body::full(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

/// A JSON-RPC error (HTTP 200, as A2A clients expect).
fn rpc_error(id: &Value, code: i64, message: &str) -> Response<Body> {
    json_response(StatusCode::OK, &a2a::error(id, code, message))
}

/// A plain HTTP error with a JSON body.
fn plain(status: StatusCode, message: &str) -> Response<Body> {
    json_response(
        status,
        &json!({"error": status.canonical_reason(), "message": message}),
    )
}
