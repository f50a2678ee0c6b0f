//! The client side of the MCP gateway: streamable HTTP (POST/GET/DELETE) for
//! revisions 2025-03-26 to 2025-11-25 with `Mcp-Session-Id` sessions, the stateless
//! 2026-07-28 revision (headers checked against the body, sessions pooled behind
//! it), and the legacy HTTP+SSE transport. Sessions live here, across Plans.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use http::header::{ACCEPT, ALLOW, CONTENT_TYPE, HeaderValue, ORIGIN};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use palisade_mcp::http::{HttpClient, SESSION_HEADER, VERSION_HEADER};
use palisade_mcp::jsonrpc::{self, ErrorObject, Id, Message};
use palisade_mcp::server::ServerSpec;
use palisade_mcp::session::{Observer, REQUEST_TIMEOUT, Reply, Session, new_session_id};
use palisade_mcp::sse;
use palisade_mcp::supervisor::Supervised;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::body::{self, Body, BoxError};
use crate::guard::{Guards, RequestVerdict};
use crate::mcp_access::{Item, McpPolicies};
use crate::metrics::{McpLabels, McpMethodLabels, McpServerLabels, Metrics};

/// Largest JSON-RPC body accepted from a client.
pub const MAX_BODY: usize = 4 * 1024 * 1024;
/// Sessions unused for this long are closed (their child processes stopped).
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
/// Keep-alive comment interval on event streams.
const KEEPALIVE: Duration = Duration::from_secs(15);
/// The stateless revision.
pub const MODERN_VERSION: &str = "2026-07-28";
/// Methods a 2026-07-28 client may call.
const MODERN_METHODS: &[&str] = &[
    "completion/complete",
    "prompts/get",
    "prompts/list",
    "resources/list",
    "resources/read",
    "resources/templates/list",
    "server/discover",
    "subscriptions/listen",
    "tools/call",
    "tools/list",
];
/// 2026-07-28: a routing header disagrees with the body.
const HEADER_MISMATCH: i64 = -32020;
/// 2026-07-28: the protocol version is not served.
const UNSUPPORTED_VERSION: i64 = -32022;
/// JSON-RPC error code of a call a prompt guard refused.
pub const GUARD_REJECTED: i64 = -32003;
/// Reserved `_meta` key prefix of the 2026-07-28 request envelope.
const ENVELOPE: &str = "io.modelcontextprotocol/";

/// A legacy HTTP+SSE client: its event stream, and its session once initialized.
struct LegacyChannel {
    server: String,
    events: mpsc::Sender<Bytes>,
    session: Mutex<Option<Arc<Session>>>,
}

/// Every MCP session Palisade holds for clients.
pub struct McpEndpoint {
    client: HttpClient,
    sessions: Mutex<HashMap<String, Arc<Session>>>,
    /// The principal each session was opened by, when its route authenticates:
    /// a session id never serves another caller.
    owners: Mutex<HashMap<String, String>>,
    legacy: Mutex<HashMap<String, Arc<LegacyChannel>>>,
    /// Upstream sessions behind stateless (2026-07-28) clients, by server and envelope.
    pooled: Mutex<HashMap<String, Arc<Session>>>,
    opening: tokio::sync::Mutex<()>,
    /// Long-running server processes by server name.
    processes: Mutex<HashMap<String, Supervised>>,
    /// Stateless calls waiting for the client's answers to server requests, by
    /// their `requestState` token.
    parked: Arc<Mutex<HashMap<String, Parked>>>,
    metrics: Arc<Metrics>,
}

/// A stateless (2026-07-28) call that asked the client for input: the rest of its
/// stream, resumed when the client sends the request again with the answers.
struct Parked {
    session: Arc<Session>,
    rest: mpsc::Receiver<Message>,
    since: Instant,
}

/// How long a parked call waits for the client's answers.
const PARKED_TTL: Duration = Duration::from_secs(300);

/// Counts upstream restarts.
struct RestartCounter(Arc<Metrics>);

impl Observer for RestartCounter {
    fn restarted(&self, server: &str) {
        self.0
            .mcp_restarts
            .get_or_create(&McpServerLabels {
                server: server.to_string(),
            })
            .inc();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl McpEndpoint {
    /// An endpoint with no sessions; expires idle ones in the background when a
    /// runtime is running.
    pub fn new(metrics: Arc<Metrics>) -> Arc<Self> {
        let endpoint = Arc::new(McpEndpoint {
            client: Arc::new(palisade_net::Clients::new()),
            sessions: Mutex::new(HashMap::new()),
            owners: Mutex::new(HashMap::new()),
            legacy: Mutex::new(HashMap::new()),
            pooled: Mutex::new(HashMap::new()),
            opening: tokio::sync::Mutex::new(()),
            processes: Mutex::new(HashMap::new()),
            parked: Arc::new(Mutex::new(HashMap::new())),
            metrics,
        });
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::spawn(expire_idle(Arc::downgrade(&endpoint)));
        }
        endpoint
    }

    fn observer(&self) -> Arc<dyn Observer> {
        Arc::new(RestartCounter(self.metrics.clone()))
    }

    /// Sets the open-sessions gauge (handshake, pooled and legacy SSE sessions).
    fn count_sessions(&self) {
        let open = lock(&self.sessions).len() + lock(&self.pooled).len() + lock(&self.legacy).len();
        self.metrics.mcp_sessions.set(open as i64);
    }

    /// Closes the sessions of servers that are gone or changed in a new Plan, and
    /// starts or stops the long-running server processes the Plan names.
    pub fn retain_servers(&self, servers: &[Arc<ServerSpec>]) {
        {
            let mut processes = lock(&self.processes);
            processes.retain(|name, p| {
                servers
                    .iter()
                    .any(|s| &s.name == name && s.process.as_ref() == Some(p.command()))
            });
            if tokio::runtime::Handle::try_current().is_ok() {
                for spec in servers {
                    if let Some(cmd) = &spec.process
                        && !processes.contains_key(&spec.name)
                    {
                        processes.insert(spec.name.clone(), Supervised::start(cmd.clone()));
                    }
                }
            }
        }
        let keep = |s: &Arc<Session>| servers.iter().any(|spec| **spec == **s.spec());
        let before = lock(&self.sessions).len() + lock(&self.pooled).len();
        lock(&self.sessions).retain(|_, s| keep(s));
        lock(&self.pooled).retain(|_, s| keep(s));
        lock(&self.legacy).retain(|_, c| servers.iter().any(|spec| spec.name == c.server));
        let after = lock(&self.sessions).len() + lock(&self.pooled).len();
        self.count_sessions();
        if after < before {
            tracing::info!(
                closed = before - after,
                "closed MCP sessions of changed or removed servers"
            );
        }
    }

    /// Number of open client sessions (handshake and pooled).
    pub fn session_count(&self) -> usize {
        lock(&self.sessions).len() + lock(&self.pooled).len()
    }

    /// Serves the streamable HTTP transport for `server`.
    pub async fn streamable(
        &self,
        req: Request<Incoming>,
        server: &Arc<ServerSpec>,
        policies: &McpPolicies,
    ) -> Response<Body> {
        if let Some(denied) = check_origin(req.headers()) {
            return denied;
        }
        match *req.method() {
            Method::POST => self.post(req, server, policies).await,
            Method::GET | Method::DELETE if server.stateless => {
                let mut r = rpc_error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    None,
                    jsonrpc::INVALID_REQUEST,
                    "this server is stateless (sessionRouting: Stateless): there is no session stream to open or close",
                );
                r.headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("POST"));
                r
            }
            Method::GET => self.get(req.headers(), server, policies),
            Method::DELETE => self.delete(req.headers(), server, policies),
            _ => {
                let mut r = rpc_error(
                    StatusCode::METHOD_NOT_ALLOWED,
                    None,
                    jsonrpc::INVALID_REQUEST,
                    "use POST, GET or DELETE",
                );
                r.headers_mut()
                    .insert(ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
                r
            }
        }
    }

    async fn post(
        &self,
        req: Request<Incoming>,
        server: &Arc<ServerSpec>,
        policies: &McpPolicies,
    ) -> Response<Body> {
        let (parts, incoming) = req.into_parts();
        let value = match read_json(incoming).await {
            Ok(v) => v,
            Err(r) => return *r,
        };
        let version = header_str(&parts.headers, VERSION_HEADER);
        if version == Some(MODERN_VERSION) || (version.is_none() && has_envelope(&value)) {
            return self.modern(&parts.headers, value, server, policies).await;
        }
        if server.stateless {
            return self.stateless(version, value, server, policies).await;
        }
        let session_id = header_str(&parts.headers, SESSION_HEADER);
        if let Value::Array(items) = value {
            return self
                .batch(session_id, version, items, server, policies)
                .await;
        }
        let message = match Message::from_value(value) {
            Ok(m) => m,
            Err(e) => {
                return rpc_error(
                    StatusCode::BAD_REQUEST,
                    None,
                    jsonrpc::INVALID_REQUEST,
                    &e.to_string(),
                );
            }
        };
        if let Message::Request { id, method, params } = &message
            && method == "initialize"
        {
            return self
                .initialize(id.clone(), params.clone(), server, policies.owner())
                .await;
        }
        let owner = policies.owner();
        let session = match self.session(session_id, version, server, owner.as_deref()) {
            Ok(s) => s,
            Err(r) => return *r,
        };
        match message {
            Message::Request { id, method, params } => {
                reply_response(
                    dispatch(&self.metrics, &session, id, &method, params, policies).await,
                    None,
                )
                .await
            }
            Message::Notification { method, params } => {
                session.client_notification(&method, params).await;
                accepted()
            }
            Message::Response { id, outcome } => match session.client_response(id, outcome).await {
                Ok(()) => accepted(),
                Err(why) => rpc_error(
                    StatusCode::BAD_REQUEST,
                    None,
                    jsonrpc::INVALID_REQUEST,
                    &why,
                ),
            },
        }
    }

    async fn initialize(
        &self,
        id: Id,
        params: Option<Value>,
        server: &Arc<ServerSpec>,
        owner: Option<String>,
    ) -> Response<Body> {
        let params = params.unwrap_or_else(|| json!({}));
        match Session::open(
            server.clone(),
            self.client.clone(),
            params,
            Some(self.observer()),
        )
        .await
        {
            Ok((session, result)) => {
                let session_id = session.id().to_string();
                session.touch();
                {
                    let mut sessions = lock(&self.sessions);
                    sessions.insert(session_id.clone(), session);
                    let mut owners = lock(&self.owners);
                    owners.retain(|id, _| sessions.contains_key(id));
                    if let Some(owner) = owner {
                        owners.insert(session_id.clone(), owner);
                    }
                }
                self.count_sessions();
                tracing::info!(server = %server.name, "MCP session opened");
                let mut response = json_response(StatusCode::OK, &Message::result(id, result));
                if let Ok(v) = HeaderValue::from_str(&session_id) {
                    response.headers_mut().insert(SESSION_HEADER, v);
                }
                response
            }
            Err(e) => json_response(
                StatusCode::BAD_GATEWAY,
                &Message::Response {
                    id,
                    outcome: Err(e),
                },
            ),
        }
    }

    /// A handshake-revision message to a `sessionRouting: Stateless` server: no
    /// client session is kept; `initialize` is answered from, and requests are
    /// served by, upstream sessions shared by every such client. Those shared
    /// sessions declare no client capabilities, so upstreams send no sampling,
    /// elicitation or roots requests, and client notifications are not
    /// forwarded (no upstream request could be matched to them).
    async fn stateless(
        &self,
        version: Option<&str>,
        value: Value,
        server: &Arc<ServerSpec>,
        policies: &McpPolicies,
    ) -> Response<Body> {
        if let Some(v) = version
            && !palisade_mcp::session::SUPPORTED_VERSIONS.contains(&v)
        {
            return rpc_error(
                StatusCode::BAD_REQUEST,
                None,
                jsonrpc::INVALID_REQUEST,
                &format!("Bad Request: unsupported MCP-Protocol-Version {v}"),
            );
        }
        let message = match Message::from_value(value) {
            Ok(m) => m,
            Err(e) => {
                return rpc_error(
                    StatusCode::BAD_REQUEST,
                    None,
                    jsonrpc::INVALID_REQUEST,
                    &format!("{e} (batches need a session; this server is stateless)"),
                );
            }
        };
        let (id, method, params) = match message {
            Message::Request { id, method, params } => (id, method, params),
            Message::Notification { .. } => return accepted(),
            Message::Response { .. } => {
                return rpc_error(
                    StatusCode::BAD_REQUEST,
                    None,
                    jsonrpc::INVALID_REQUEST,
                    "no server request is waiting for an answer: this server is stateless",
                );
            }
        };
        let session = match self.pooled_session(server, &Value::Null).await {
            Ok(s) => s,
            Err(e) => {
                return json_response(
                    StatusCode::BAD_GATEWAY,
                    &Message::Response {
                        id,
                        outcome: Err(e),
                    },
                );
            }
        };
        if method == "initialize" {
            let requested = params
                .as_ref()
                .and_then(|p| p.get("protocolVersion"))
                .and_then(Value::as_str);
            let mut result = session.initialize_result();
            result["protocolVersion"] = palisade_mcp::session::negotiate(requested).into();
            return json_response(StatusCode::OK, &Message::result(id, result));
        }
        let reply = dispatch(&self.metrics, &session, id, &method, params, policies).await;
        reply_response(reply, None).await
    }

    /// The session a request names, checked against the server and version.
    fn session(
        &self,
        id: Option<&str>,
        version: Option<&str>,
        server: &ServerSpec,
        caller: Option<&str>,
    ) -> Result<Arc<Session>, Box<Response<Body>>> {
        let Some(id) = id else {
            return Err(Box::new(rpc_error(
                StatusCode::BAD_REQUEST,
                None,
                jsonrpc::INVALID_REQUEST,
                "Bad Request: Missing session ID; send initialize first",
            )));
        };
        let found = lock(&self.sessions).get(id).cloned();
        let owner_matches = lock(&self.owners).get(id).map(String::as_str) == caller;
        let Some(session) = found.filter(|s| s.server() == server.name && owner_matches) else {
            return Err(Box::new(rpc_error(
                StatusCode::NOT_FOUND,
                None,
                -32001,
                "Session not found; initialize a new session",
            )));
        };
        if let Some(v) = version
            && v != session.version()
        {
            return Err(Box::new(rpc_error(
                StatusCode::BAD_REQUEST,
                None,
                jsonrpc::INVALID_REQUEST,
                &format!(
                    "Bad Request: MCP-Protocol-Version {v} differs from the session's {}",
                    session.version()
                ),
            )));
        }
        Ok(session)
    }

    /// A JSON-RPC batch: accepted on 2025-03-26 sessions only.
    async fn batch(
        &self,
        session_id: Option<&str>,
        version: Option<&str>,
        items: Vec<Value>,
        server: &Arc<ServerSpec>,
        policies: &McpPolicies,
    ) -> Response<Body> {
        let owner = policies.owner();
        let session = match self.session(session_id, version, server, owner.as_deref()) {
            Ok(s) => s,
            Err(r) => return *r,
        };
        if session.version() != "2025-03-26" || items.is_empty() {
            return rpc_error(
                StatusCode::BAD_REQUEST,
                None,
                jsonrpc::INVALID_REQUEST,
                "JSON-RPC batches are allowed on 2025-03-26 sessions only, and must not be empty",
            );
        }
        let mut answers = Vec::new();
        for item in items {
            match Message::from_value(item) {
                Ok(Message::Request { id, method, params }) => {
                    let answer = match dispatch(
                        &self.metrics,
                        &session,
                        id,
                        &method,
                        params,
                        policies,
                    )
                    .await
                    {
                        Reply::Now(m) => m,
                        Reply::Stream(mut rx) => {
                            let mut last = None;
                            while let Some(m) = rx.recv().await {
                                if matches!(m, Message::Response { .. }) {
                                    last = Some(m);
                                }
                            }
                            match last {
                                Some(m) => m,
                                None => continue,
                            }
                        }
                    };
                    answers.push(answer.to_value());
                }
                Ok(Message::Notification { method, params }) => {
                    session.client_notification(&method, params).await
                }
                Ok(Message::Response { id, outcome }) => {
                    let _ = session.client_response(id, outcome).await;
                }
                Err(e) => answers.push(
                    Message::error(Id::Number(0), jsonrpc::INVALID_REQUEST, e.to_string())
                        .to_value(),
                ),
            }
        }
        if answers.is_empty() {
            return accepted();
        }
        json_value_response(StatusCode::OK, &Value::Array(answers))
    }

    fn get(
        &self,
        headers: &HeaderMap,
        server: &ServerSpec,
        policies: &McpPolicies,
    ) -> Response<Body> {
        if !accepts(headers, "text/event-stream") {
            return rpc_error(
                StatusCode::NOT_ACCEPTABLE,
                None,
                jsonrpc::INVALID_REQUEST,
                "the GET stream needs Accept: text/event-stream",
            );
        }
        let owner = policies.owner();
        let session = match self.session(
            header_str(headers, SESSION_HEADER),
            header_str(headers, VERSION_HEADER),
            server,
            owner.as_deref(),
        ) {
            Ok(s) => s,
            Err(r) => return *r,
        };
        let Some(events) = session.take_events() else {
            return rpc_error(
                StatusCode::CONFLICT,
                None,
                jsonrpc::INVALID_REQUEST,
                "this session already has a GET stream",
            );
        };
        let stream = futures_util::stream::unfold(events, |mut events| async move {
            tokio::select! {
                m = events.recv() => m.map(|m| (sse::Event::message(&m.to_json()), events)),
                _ = tokio::time::sleep(KEEPALIVE) => Some((Bytes::from_static(b": keep-alive\n\n"), events)),
            }
        });
        event_stream(stream)
    }

    fn delete(
        &self,
        headers: &HeaderMap,
        server: &ServerSpec,
        policies: &McpPolicies,
    ) -> Response<Body> {
        let owner = policies.owner();
        let session = match self.session(
            header_str(headers, SESSION_HEADER),
            None,
            server,
            owner.as_deref(),
        ) {
            Ok(s) => s,
            Err(r) => return *r,
        };
        lock(&self.sessions).remove(session.id());
        self.count_sessions();
        tracing::info!(server = %server.name, "MCP session closed by the client");
        Response::new(body::empty())
    }

    /// A 2026-07-28 request: stateless; routing headers must match the body.
    async fn modern(
        &self,
        headers: &HeaderMap,
        value: Value,
        server: &Arc<ServerSpec>,
        policies: &McpPolicies,
    ) -> Response<Body> {
        let Ok(message) = Message::from_value(value) else {
            return rpc_error(
                StatusCode::BAD_REQUEST,
                None,
                jsonrpc::INVALID_REQUEST,
                "Body must be a single JSON-RPC request or notification object",
            );
        };
        let (id, method, params) = match message {
            Message::Request { id, method, params } => (id, method, params),
            Message::Notification { .. } => return accepted(),
            Message::Response { .. } => {
                return rpc_error(
                    StatusCode::BAD_REQUEST,
                    None,
                    jsonrpc::INVALID_REQUEST,
                    "Body must be a single JSON-RPC request or notification object",
                );
            }
        };
        if let Err((code, message, data)) = check_modern(headers, &method, params.as_ref()) {
            let mut error = ErrorObject::new(code, message);
            error.data = data;
            return json_response(
                StatusCode::BAD_REQUEST,
                &Message::Response {
                    id,
                    outcome: Err(error),
                },
            );
        }
        if !MODERN_METHODS.contains(&method.as_str()) {
            let mut error = ErrorObject::new(jsonrpc::METHOD_NOT_FOUND, "Method not found");
            error.data = Some(method.clone().into());
            return json_response(
                StatusCode::NOT_FOUND,
                &Message::Response {
                    id,
                    outcome: Err(error),
                },
            );
        }
        let meta = params
            .as_ref()
            .and_then(|p| p.get("_meta"))
            .cloned()
            .unwrap_or_default();
        if method == "subscriptions/listen" {
            return self.listen(id, params.as_ref(), &meta, server).await;
        }
        let session = match self.pooled_session(server, &meta).await {
            Ok(s) => s,
            Err(e) => {
                return json_response(
                    StatusCode::BAD_GATEWAY,
                    &Message::Response {
                        id,
                        outcome: Err(e),
                    },
                );
            }
        };
        let server_info = json!({"name": server.name, "version": env!("CARGO_PKG_VERSION")});
        if method == "server/discover" {
            let init = session.initialize_result();
            let mut result = json!({
                "supportedVersions": [MODERN_VERSION],
                "capabilities": init.get("capabilities").cloned().unwrap_or_else(|| json!({})),
                "resultType": "complete",
                "ttlMs": 0,
                "cacheScope": "private",
                "_meta": {"io.modelcontextprotocol/serverInfo": server_info},
            });
            if let Some(i) = init.get("instructions") {
                result["instructions"] = i.clone();
            }
            return json_response(StatusCode::OK, &Message::result(id, result));
        }
        let mut params = params.map(strip_envelope);
        let list = method.ends_with("/list");
        let finish: Finish =
            Arc::new(move |message: &mut Message| modern_result(message, list, &server_info));
        let resumed = params
            .as_mut()
            .and_then(Value::as_object_mut)
            .and_then(|p| Some((p.remove("requestState")?, p.remove("inputResponses"))));
        if let Some((state, responses)) = resumed {
            let parked = state.as_str().and_then(|t| lock(&self.parked).remove(t));
            let Some(parked) = parked.filter(|p| p.session.server() == server.name) else {
                let error = ErrorObject::new(
                    jsonrpc::INVALID_PARAMS,
                    "unknown or expired requestState; send the request again without it",
                );
                return json_response(
                    StatusCode::BAD_REQUEST,
                    &Message::Response {
                        id,
                        outcome: Err(error),
                    },
                );
            };
            for (key, answer) in responses
                .as_ref()
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if let Err(why) = parked
                    .session
                    .client_response(Id::String(key.clone()), Ok(answer.clone()))
                    .await
                {
                    tracing::debug!(error = %why, "an input response matched no pending server request");
                }
            }
            let reply = self.ask_for_input(id, parked.session, Reply::Stream(parked.rest));
            return reply_response(reply, Some(finish)).await;
        }
        let reply = dispatch(
            &self.metrics,
            &session,
            id.clone(),
            &method,
            params,
            policies,
        )
        .await;
        let reply = match method.as_str() {
            "tools/call" | "prompts/get" | "resources/read" => {
                self.ask_for_input(id, session, reply)
            }
            _ => reply,
        };
        reply_response(reply, Some(finish)).await
    }

    /// Bridges server-to-client requests to a stateless client: the first one
    /// ends this HTTP exchange with an `input_required` result (the request under
    /// a key, plus an opaque `requestState`), and the call waits, parked, until
    /// the client sends the request again with its answers. The final answer
    /// carries the id of the round it ends.
    fn ask_for_input(&self, id: Id, session: Arc<Session>, reply: Reply) -> Reply {
        let Reply::Stream(mut rx) = reply else {
            return reply;
        };
        let (tx, out) = mpsc::channel(64);
        let parked = self.parked.clone();
        tokio::spawn(async move {
            while let Some(message) = rx.recv().await {
                let message = match message {
                    Message::Request {
                        id: Id::String(key),
                        method,
                        params,
                    } => {
                        let token = new_session_id();
                        let mut request = json!({"method": method});
                        if let Some(p) = params {
                            request["params"] = p;
                        }
                        let result = json!({
                            "resultType": "input_required",
                            "inputRequests": {key: request},
                            "requestState": token,
                        });
                        lock(&parked).insert(
                            token,
                            Parked {
                                session,
                                rest: rx,
                                since: Instant::now(),
                            },
                        );
                        let _ = tx.send(Message::result(id, result)).await;
                        return;
                    }
                    Message::Response { outcome, .. } => Message::Response {
                        id: id.clone(),
                        outcome,
                    },
                    other => other,
                };
                let last = matches!(message, Message::Response { .. });
                if tx.send(message).await.is_err() {
                    if !last {
                        // On the stateless revision, closing the response cancels.
                        tracing::info!(server = %session.server(), request = %id, "the client closed its request; cancelling it upstream");
                        let cancel = json!({"requestId": id.to_value(), "reason": "the client closed the request"});
                        session
                            .client_notification("notifications/cancelled", Some(cancel))
                            .await;
                    }
                    return;
                }
            }
        });
        Reply::Stream(out)
    }

    /// `subscriptions/listen` (2026-07-28): a dedicated upstream session whose
    /// change notifications the client asked for are streamed, tagged with the
    /// listen request's id, after an acknowledgment naming the honored subset.
    /// Resource subscriptions are made upstream with `resources/subscribe`.
    async fn listen(
        &self,
        id: Id,
        params: Option<&Value>,
        meta: &Value,
        server: &Arc<ServerSpec>,
    ) -> Response<Body> {
        let wanted = params
            .and_then(|p| p.get("notifications"))
            .cloned()
            .unwrap_or_else(|| json!({}));
        let open = json!({
            "protocolVersion": palisade_mcp::session::SUPPORTED_VERSIONS[0],
            "capabilities": upstream_capabilities(meta.get("io.modelcontextprotocol/clientCapabilities")),
            "clientInfo": meta.get("io.modelcontextprotocol/clientInfo").cloned()
                .unwrap_or_else(|| json!({"name": "mcp-client", "version": "0"})),
        });
        let session = match Session::open(
            server.clone(),
            self.client.clone(),
            open,
            Some(self.observer()),
        )
        .await
        {
            Ok((session, _)) => session,
            Err(e) => {
                return json_response(
                    StatusCode::BAD_GATEWAY,
                    &Message::Response {
                        id,
                        outcome: Err(e),
                    },
                );
            }
        };
        let caps = session.initialize_result()["capabilities"].clone();
        let flag = |key: &str, cap: &str, sub: &str| {
            wanted.get(key).and_then(Value::as_bool) == Some(true)
                && caps
                    .get(cap)
                    .and_then(|c| c.get(sub))
                    .and_then(Value::as_bool)
                    == Some(true)
        };
        let mut honored = serde_json::Map::new();
        for (key, cap) in [
            ("toolsListChanged", "tools"),
            ("promptsListChanged", "prompts"),
            ("resourcesListChanged", "resources"),
        ] {
            if flag(key, cap, "listChanged") {
                honored.insert(key.into(), true.into());
            }
        }
        let mut uris = Vec::new();
        if caps
            .pointer("/resources/subscribe")
            .and_then(Value::as_bool)
            == Some(true)
        {
            for uri in wanted
                .get("resourceSubscriptions")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let Some(uri) = uri.as_str() else { continue };
                let reply = session
                    .request(
                        Id::Number(0),
                        "resources/subscribe",
                        Some(json!({"uri": uri})),
                    )
                    .await;
                let ok = match reply {
                    Reply::Now(Message::Response { outcome, .. }) => outcome.is_ok(),
                    Reply::Now(_) => false,
                    Reply::Stream(mut rx) => {
                        let mut ok = false;
                        while let Some(m) = rx.recv().await {
                            if let Message::Response { outcome, .. } = m {
                                ok = outcome.is_ok();
                            }
                        }
                        ok
                    }
                };
                if ok {
                    uris.push(uri.to_string());
                }
            }
        }
        if !uris.is_empty() {
            honored.insert("resourceSubscriptions".into(), json!(uris));
        }
        let Some(events) = session.take_events() else {
            return rpc_error(
                StatusCode::CONFLICT,
                None,
                jsonrpc::INVALID_REQUEST,
                "listen stream unavailable",
            );
        };
        let tag = json!({"io.modelcontextprotocol/subscriptionId": id.to_value()});
        let ack = Message::notification(
            "notifications/subscriptions/acknowledged",
            Some(json!({"_meta": tag, "notifications": honored})),
        );
        let first = sse::Event::message(&ack.to_json());
        let filter = Arc::new(honored);
        let rest = futures_util::stream::unfold((events, session), move |(mut events, session)| {
            let tag = tag.clone();
            let filter = filter.clone();
            async move {
                loop {
                    tokio::select! {
                        m = events.recv() => {
                            let m = m?;
                            if let Some(tagged) = listened(m, &filter, &tag) {
                                return Some((sse::Event::message(&tagged.to_json()), (events, session)));
                            }
                        }
                        _ = tokio::time::sleep(KEEPALIVE) => {
                            return Some((Bytes::from_static(b": keep-alive\n\n"), (events, session)));
                        }
                    }
                }
            }
        });
        event_stream(futures_util::stream::iter([first]).chain(rest))
    }

    /// The upstream session behind stateless clients with this envelope.
    async fn pooled_session(
        &self,
        server: &Arc<ServerSpec>,
        meta: &Value,
    ) -> Result<Arc<Session>, ErrorObject> {
        let capabilities =
            upstream_capabilities(meta.get("io.modelcontextprotocol/clientCapabilities"));
        let client_info = meta
            .get("io.modelcontextprotocol/clientInfo")
            .cloned()
            .unwrap_or_else(|| json!({"name": "mcp-client", "version": "0"}));
        let key = format!("{}\n{}\n{}", server.name, capabilities, client_info);
        if let Some(s) = lock(&self.pooled).get(&key).cloned() {
            s.touch();
            return Ok(s);
        }
        let _opening = self.opening.lock().await;
        if let Some(s) = lock(&self.pooled).get(&key).cloned() {
            return Ok(s);
        }
        let params = json!({
            "protocolVersion": palisade_mcp::session::SUPPORTED_VERSIONS[0],
            "capabilities": capabilities,
            "clientInfo": client_info,
        });
        let (session, _) = Session::open(
            server.clone(),
            self.client.clone(),
            params,
            Some(self.observer()),
        )
        .await?;
        session.touch();
        lock(&self.pooled).insert(key, session.clone());
        self.count_sessions();
        Ok(session)
    }

    /// Serves the legacy HTTP+SSE transport: `GET <base>` opens the event stream,
    /// `POST <base>/message?sessionId=` carries client messages.
    pub async fn legacy(
        self: &Arc<Self>,
        req: Request<Incoming>,
        server: &Arc<ServerSpec>,
        base: &str,
        policies: &McpPolicies,
    ) -> Response<Body> {
        if let Some(denied) = check_origin(req.headers()) {
            return denied;
        }
        let is_message = req.uri().path().ends_with("/message");
        match (req.method().clone(), is_message) {
            (Method::GET, false) => self.legacy_stream(server, base),
            (Method::POST, true) => self.legacy_post(req, server, policies).await,
            _ => rpc_error(
                StatusCode::METHOD_NOT_ALLOWED,
                None,
                jsonrpc::INVALID_REQUEST,
                "GET the event stream, POST to its message endpoint",
            ),
        }
    }

    fn legacy_stream(self: &Arc<Self>, server: &ServerSpec, base: &str) -> Response<Body> {
        let id = new_session_id();
        let (tx, rx) = mpsc::channel::<Bytes>(256);
        lock(&self.legacy).insert(
            id.clone(),
            Arc::new(LegacyChannel {
                server: server.name.clone(),
                events: tx,
                session: Mutex::new(None),
            }),
        );
        self.count_sessions();
        let endpoint = sse::Event::named("endpoint", &format!("{base}/message?sessionId={id}"));
        let guard = LegacyGuard {
            endpoint: Arc::downgrade(self),
            id,
        };
        let rest = futures_util::stream::unfold((rx, guard), |(mut rx, guard)| async move {
            tokio::select! {
                b = rx.recv() => b.map(|b| (b, (rx, guard))),
                _ = tokio::time::sleep(KEEPALIVE) => Some((Bytes::from_static(b": keep-alive\n\n"), (rx, guard))),
            }
        });
        event_stream(futures_util::stream::iter([endpoint]).chain(rest))
    }

    async fn legacy_post(
        &self,
        req: Request<Incoming>,
        server: &Arc<ServerSpec>,
        policies: &McpPolicies,
    ) -> Response<Body> {
        let id = req
            .uri()
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("sessionId=")))
            .unwrap_or_default()
            .to_string();
        let Some(channel) = lock(&self.legacy)
            .get(&id)
            .cloned()
            .filter(|c| c.server == server.name)
        else {
            return rpc_error(
                StatusCode::NOT_FOUND,
                None,
                -32001,
                "Session not found; open the event stream again",
            );
        };
        let value = match read_json(req.into_body()).await {
            Ok(v) => v,
            Err(r) => return *r,
        };
        let message = match Message::from_value(value) {
            Ok(m) => m,
            Err(e) => {
                return rpc_error(
                    StatusCode::BAD_REQUEST,
                    None,
                    jsonrpc::INVALID_REQUEST,
                    &e.to_string(),
                );
            }
        };
        let session = lock(&channel.session).clone();
        match (message, session) {
            (Message::Request { id, method, params }, None) if method == "initialize" => {
                let client = self.client.clone();
                let server = server.clone();
                let observer = self.observer();
                tokio::spawn(async move {
                    let answer = match Session::open(
                        server,
                        client,
                        params.unwrap_or_else(|| json!({})),
                        Some(observer),
                    )
                    .await
                    {
                        Ok((session, result)) => {
                            *lock(&channel.session) = Some(session.clone());
                            tokio::spawn(relay_events(session, channel.events.clone()));
                            Message::result(id, result)
                        }
                        Err(e) => Message::Response {
                            id,
                            outcome: Err(e),
                        },
                    };
                    let _ = channel
                        .events
                        .send(sse::Event::message(&answer.to_json()))
                        .await;
                });
            }
            (_, None) => {
                return rpc_error(
                    StatusCode::BAD_REQUEST,
                    None,
                    jsonrpc::INVALID_REQUEST,
                    "send initialize first",
                );
            }
            (Message::Request { id, method, params }, Some(session)) => {
                let policies = policies.clone();
                let metrics = self.metrics.clone();
                tokio::spawn(async move {
                    match dispatch(&metrics, &session, id, &method, params, &policies).await {
                        Reply::Now(m) => {
                            let _ = channel.events.send(sse::Event::message(&m.to_json())).await;
                        }
                        Reply::Stream(mut rx) => {
                            while let Some(m) = rx.recv().await {
                                if channel
                                    .events
                                    .send(sse::Event::message(&m.to_json()))
                                    .await
                                    .is_err()
                                {
                                    return;
                                }
                            }
                        }
                    }
                });
            }
            (Message::Notification { method, params }, Some(session)) => {
                session.client_notification(&method, params).await
            }
            (Message::Response { id, outcome }, Some(session)) => {
                if let Err(why) = session.client_response(id, outcome).await {
                    return rpc_error(
                        StatusCode::BAD_REQUEST,
                        None,
                        jsonrpc::INVALID_REQUEST,
                        &why,
                    );
                }
            }
        }
        accepted()
    }
}

/// Removes a legacy channel when its event stream ends.
struct LegacyGuard {
    endpoint: Weak<McpEndpoint>,
    id: String,
}

impl Drop for LegacyGuard {
    fn drop(&mut self) {
        if let Some(endpoint) = self.endpoint.upgrade() {
            lock(&endpoint.legacy).remove(&self.id);
            endpoint.count_sessions();
        }
    }
}

async fn relay_events(session: Arc<Session>, events: mpsc::Sender<Bytes>) {
    let Some(mut rx) = session.take_events() else {
        return;
    };
    while let Some(m) = rx.recv().await {
        if events
            .send(sse::Event::message(&m.to_json()))
            .await
            .is_err()
        {
            return;
        }
    }
}

async fn expire_idle(endpoint: Weak<McpEndpoint>) {
    loop {
        tokio::time::sleep(Duration::from_secs(30)).await;
        let Some(endpoint) = endpoint.upgrade() else {
            return;
        };
        let fresh = |s: &Arc<Session>| s.idle() < IDLE_TIMEOUT;
        lock(&endpoint.sessions).retain(|_, s| fresh(s));
        lock(&endpoint.pooled).retain(|_, s| fresh(s));
        lock(&endpoint.parked).retain(|_, p| p.since.elapsed() < PARKED_TTL);
        endpoint.count_sessions();
    }
}

/// Sends a request (with the route's guards) and counts it: method, tool,
/// outcome and the time until its answer.
async fn dispatch(
    metrics: &Arc<Metrics>,
    session: &Arc<Session>,
    id: Id,
    method: &str,
    params: Option<Value>,
    policies: &McpPolicies,
) -> Reply {
    let started = Instant::now();
    let tool = match method {
        "tools/call" => params
            .as_ref()
            .and_then(|p| p.get("name"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        _ => String::new(),
    };
    let server: Arc<str> = Arc::from(session.server());
    let record = {
        let metrics = metrics.clone();
        let method = method.to_string();
        move |message: &Message| {
            let outcome = match message {
                Message::Response { outcome: Ok(_), .. } => "ok",
                Message::Response {
                    outcome: Err(e), ..
                } if e.code == REQUEST_TIMEOUT => "timeout",
                Message::Response {
                    outcome: Err(e), ..
                } if e.code == GUARD_REJECTED => "guard_rejected",
                _ => "error",
            };
            metrics
                .mcp_requests
                .get_or_create(&McpLabels {
                    server: server.clone(),
                    method: method.clone(),
                    tool: tool.clone(),
                    outcome,
                })
                .inc();
            metrics
                .mcp_durations
                .get_or_create(&McpMethodLabels {
                    server: server.clone(),
                    method: method.clone(),
                })
                .observe(started.elapsed().as_secs_f64());
        }
    };
    if let Some(item) = requested_item(method, params.as_ref()) {
        let decision = policies.decide(session.spec(), method, item);
        policies.record(method, item, &decision);
        if !decision.allowed {
            // Refused exactly as an item that does not exist would be.
            let m = Message::error(id, jsonrpc::INVALID_PARAMS, not_found_message(item));
            record(&m);
            return Reply::Now(m);
        }
    }
    let reply = guarded(session, id, method, params, policies.guards.as_ref()).await;
    let reply = filtered(reply, session, method, policies);
    match reply {
        Reply::Now(m) => {
            record(&m);
            Reply::Now(m)
        }
        Reply::Stream(mut rx) => {
            let (tx, out) = mpsc::channel(64);
            tokio::spawn(async move {
                while let Some(m) = rx.recv().await {
                    if matches!(m, Message::Response { .. }) {
                        record(&m);
                    }
                    if tx.send(m).await.is_err() {
                        return;
                    }
                }
            });
            Reply::Stream(out)
        }
    }
}

/// The item a request names, for authorization.
fn requested_item<'a>(method: &str, params: Option<&'a Value>) -> Option<Item<'a>> {
    let field = |name: &str| params?.get(name)?.as_str();
    match method {
        "tools/call" => Some(Item::Tool(field("name").unwrap_or_default())),
        "prompts/get" => Some(Item::Prompt(field("name").unwrap_or_default())),
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => {
            Some(Item::Resource(field("uri").unwrap_or_default()))
        }
        _ => None,
    }
}

/// The error for a refused item: the one its absence would give.
fn not_found_message(item: Item<'_>) -> String {
    match item {
        Item::Tool(name) => format!("Unknown tool: {name}"),
        Item::Prompt(name) => format!("Unknown prompt: {name}"),
        Item::Resource(uri) => format!("Unknown resource: {uri}"),
    }
}

/// A list reply with the items the caller may not use removed.
fn filtered(reply: Reply, session: &Arc<Session>, method: &str, policies: &McpPolicies) -> Reply {
    if (policies.authz.is_none() && policies.access.is_none()) || !method.ends_with("/list") {
        return reply;
    }
    let filter = {
        let spec = session.spec().clone();
        let method = method.to_string();
        let policies = policies.clone();
        move |m: Message| match m {
            Message::Response {
                id,
                outcome: Ok(mut result),
            } => {
                policies.filter_list(&spec, &method, &mut result);
                Message::result(id, result)
            }
            other => other,
        }
    };
    match reply {
        Reply::Now(m) => Reply::Now(filter(m)),
        Reply::Stream(mut rx) => {
            let (tx, out) = mpsc::channel(64);
            tokio::spawn(async move {
                while let Some(m) = rx.recv().await {
                    if tx.send(filter(m)).await.is_err() {
                        return;
                    }
                }
            });
            Reply::Stream(out)
        }
    }
}

/// Sends a request through the session with the route's guards: `tools/call`
/// arguments are checked (and masked) before they leave, results after they
/// return. A rejection is a JSON-RPC error naming the guard's message.
async fn guarded(
    session: &Arc<Session>,
    id: Id,
    method: &str,
    params: Option<Value>,
    guards: Option<&Arc<Guards>>,
) -> Reply {
    let Some(guards) = guards.filter(|_| method == "tools/call") else {
        return session.request(id, method, params).await;
    };
    let mut params = params;
    if let Some(arguments) = params.as_mut().and_then(|p| p.get_mut("arguments"))
        && let RequestVerdict::Reject { message, .. } = guards.check_tool_arguments(arguments)
    {
        return Reply::Now(Message::error(id, GUARD_REJECTED, message.to_string()));
    }
    match session.request(id, method, params).await {
        Reply::Now(m) => Reply::Now(check_result(guards, m)),
        Reply::Stream(mut rx) => {
            let (tx, out) = mpsc::channel(64);
            let guards = guards.clone();
            tokio::spawn(async move {
                while let Some(m) = rx.recv().await {
                    if tx.send(check_result(&guards, m)).await.is_err() {
                        return;
                    }
                }
            });
            Reply::Stream(out)
        }
    }
}

/// A `tools/call` result after the response guards (other messages unchanged).
fn check_result(guards: &Guards, message: Message) -> Message {
    match message {
        Message::Response {
            id,
            outcome: Ok(mut result),
        } => match guards.check_tool_result(&mut result) {
            RequestVerdict::Pass => Message::result(id, result),
            RequestVerdict::Reject { message, .. } => {
                Message::error(id, GUARD_REJECTED, message.to_string())
            }
        },
        other => other,
    }
}

/// DNS-rebinding protection: a browser `Origin` must be a loopback origin or the
/// host the request was sent to. Requests without `Origin` (not from a browser) pass.
fn check_origin(headers: &HeaderMap) -> Option<Response<Body>> {
    let origin = headers.get(ORIGIN)?.to_str().unwrap_or("");
    let host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    let host_only = if host.starts_with('[') {
        host.split(']').next().map(|h| &h[1..]).unwrap_or(host)
    } else {
        host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host)
    };
    let loopback = matches!(host_only, "localhost" | "127.0.0.1" | "::1");
    let same_host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        == Some(host);
    if loopback || same_host {
        return None;
    }
    Some(rpc_error(
        StatusCode::FORBIDDEN,
        None,
        jsonrpc::INVALID_REQUEST,
        "Origin not allowed",
    ))
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn accepts(headers: &HeaderMap, media: &str) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.contains(media) || v.contains("*/*"))
}

fn has_envelope(value: &Value) -> bool {
    value
        .pointer("/params/_meta")
        .and_then(|m| m.get("io.modelcontextprotocol/protocolVersion"))
        .is_some()
}

/// Checks a 2026-07-28 request's headers against its body and envelope.
fn check_modern(
    headers: &HeaderMap,
    method: &str,
    params: Option<&Value>,
) -> Result<(), (i64, String, Option<Value>)> {
    for name in [VERSION_HEADER, "mcp-method", "mcp-name"] {
        if headers.get_all(name).iter().count() > 1 {
            return Err((
                HEADER_MISMATCH,
                format!("{name} header given more than once"),
                None,
            ));
        }
    }
    let meta = params.and_then(|p| p.get("_meta"));
    let envelope_version = meta
        .and_then(|m| m.get("io.modelcontextprotocol/protocolVersion"))
        .and_then(Value::as_str);
    let has_caps = meta
        .and_then(|m| m.get("io.modelcontextprotocol/clientCapabilities"))
        .is_some();
    let Some(envelope_version) = envelope_version.filter(|_| has_caps) else {
        return Err((
            jsonrpc::INVALID_PARAMS,
            "params._meta must be an object carrying io.modelcontextprotocol/protocolVersion and io.modelcontextprotocol/clientCapabilities".into(),
            None,
        ));
    };
    if header_str(headers, VERSION_HEADER) != Some(envelope_version) {
        return Err((
            HEADER_MISMATCH,
            "mcp-protocol-version header does not match the request envelope's protocol version"
                .into(),
            None,
        ));
    }
    if header_str(headers, "mcp-method") != Some(method) {
        return Err((
            HEADER_MISMATCH,
            "mcp-method header does not match the request body's method".into(),
            None,
        ));
    }
    let named = match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        _ => None,
    };
    if let Some(field) = named {
        let in_body = params.and_then(|p| p.get(field)).and_then(Value::as_str);
        let in_header = header_str(headers, "mcp-name").and_then(decode_header_value);
        if in_body.is_none() || in_header.as_deref() != in_body {
            return Err((
                HEADER_MISMATCH,
                format!("mcp-name header does not match the request body's '{field}' parameter"),
                None,
            ));
        }
    }
    if envelope_version != MODERN_VERSION {
        return Err((
            UNSUPPORTED_VERSION,
            "Unsupported protocol version".into(),
            Some(json!({"supported": [MODERN_VERSION], "requested": envelope_version})),
        ));
    }
    Ok(())
}

/// Decodes a header value, including the `=?base64?…?=` form for non-ASCII values.
fn decode_header_value(raw: &str) -> Option<String> {
    let Some(encoded) = raw
        .strip_prefix("=?base64?")
        .and_then(|r| r.strip_suffix("?="))
    else {
        return Some(raw.to_string());
    };
    String::from_utf8(decode_base64(encoded)?).ok()
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|c| *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Client capabilities passed to upstreams of stateless clients: what the client
/// declared (server requests reach it as `input_required` results), without the
/// 2026-only `extensions` and the tasks Palisade does not relay.
fn upstream_capabilities(caps: Option<&Value>) -> Value {
    let mut caps = caps.cloned().unwrap_or_else(|| json!({}));
    if let Some(obj) = caps.as_object_mut() {
        for key in ["extensions", "tasks"] {
            obj.remove(key);
        }
    }
    caps
}

/// A notification a listen stream passes on (tagged with its subscription), if
/// the client asked for its kind.
fn listened(
    message: Message,
    honored: &serde_json::Map<String, Value>,
    tag: &Value,
) -> Option<Message> {
    let Message::Notification { method, params } = message else {
        return None;
    };
    let wanted = match method.as_str() {
        "notifications/tools/list_changed" => honored.contains_key("toolsListChanged"),
        "notifications/prompts/list_changed" => honored.contains_key("promptsListChanged"),
        "notifications/resources/list_changed" => honored.contains_key("resourcesListChanged"),
        "notifications/resources/updated" => {
            let uri = params
                .as_ref()
                .and_then(|p| p.get("uri"))
                .and_then(Value::as_str);
            honored
                .get("resourceSubscriptions")
                .and_then(Value::as_array)
                .is_some_and(|uris| uris.iter().any(|u| u.as_str() == uri))
        }
        _ => false,
    };
    if !wanted {
        return None;
    }
    let mut params = params.unwrap_or_else(|| json!({}));
    if let Some(obj) = params.as_object_mut() {
        let meta = obj.entry("_meta").or_insert_with(|| json!({}));
        if let (Some(meta), Some(tag)) = (meta.as_object_mut(), tag.as_object()) {
            meta.extend(tag.clone());
        }
    }
    Some(Message::notification(method, Some(params)))
}

/// Removes the 2026-07-28 envelope from params before they go to a handshake-era upstream.
fn strip_envelope(mut params: Value) -> Value {
    if let Some(meta) = params.get_mut("_meta").and_then(Value::as_object_mut) {
        meta.retain(|k, _| !k.starts_with(ENVELOPE));
    }
    params
}

/// Shapes an upstream result for a 2026-07-28 client.
fn modern_result(message: &mut Message, list: bool, server_info: &Value) {
    let Message::Response {
        outcome: Ok(result),
        ..
    } = message
    else {
        return;
    };
    let Some(obj) = result.as_object_mut() else {
        return;
    };
    obj.entry("resultType").or_insert_with(|| "complete".into());
    if list {
        obj.entry("ttlMs").or_insert_with(|| 0.into());
        obj.entry("cacheScope").or_insert_with(|| "private".into());
        if let Some(Value::Array(tools)) = obj.get_mut("tools") {
            for tool in tools.iter_mut().filter_map(Value::as_object_mut) {
                tool.remove("execution");
            }
        }
    }
    let meta = obj.entry("_meta").or_insert_with(|| json!({}));
    if let Some(meta) = meta.as_object_mut() {
        meta.insert(
            "io.modelcontextprotocol/serverInfo".into(),
            server_info.clone(),
        );
    }
}

async fn read_json(incoming: Incoming) -> Result<Value, Box<Response<Body>>> {
    let bytes = match Limited::new(incoming, MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            // The rest of the body is not read: the connection cannot be reused.
            let mut response = rpc_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                jsonrpc::INVALID_REQUEST,
                &format!("body larger than {MAX_BODY} bytes, or unreadable"),
            );
            response
                .headers_mut()
                .insert(http::header::CONNECTION, HeaderValue::from_static("close"));
            return Err(Box::new(response));
        }
    };
    serde_json::from_slice(&bytes).map_err(|e| {
        Box::new(rpc_error(
            StatusCode::BAD_REQUEST,
            None,
            jsonrpc::PARSE_ERROR,
            &format!("Parse error: {e}"),
        ))
    })
}

/// Shapes the final response of a reply (stateless clients need extra fields).
type Finish = Arc<dyn Fn(&mut Message) + Send + Sync>;

/// Turns a session reply into HTTP: JSON when the response is the first message,
/// else an event stream carrying the interim messages and then the response.
async fn reply_response(reply: Reply, finish: Option<Finish>) -> Response<Body> {
    let mut rx = match reply {
        Reply::Now(mut m) => {
            if let Some(f) = &finish {
                f(&mut m);
            }
            return json_response(StatusCode::OK, &m);
        }
        Reply::Stream(rx) => rx,
    };
    let Some(mut first) = rx.recv().await else {
        return rpc_error(
            StatusCode::BAD_GATEWAY,
            None,
            jsonrpc::INTERNAL_ERROR,
            "the upstream MCP server went away",
        );
    };
    if matches!(first, Message::Response { .. }) {
        if let Some(f) = &finish {
            f(&mut first);
        }
        return json_response(StatusCode::OK, &first);
    }
    let stream = futures_util::stream::unfold(
        (Some(first), rx, finish),
        |(pending, mut rx, finish)| async move {
            let mut message = match pending {
                Some(m) => m,
                None => rx.recv().await?,
            };
            if let (Message::Response { .. }, Some(f)) = (&message, &finish) {
                f(&mut message);
            }
            Some((sse::Event::message(&message.to_json()), (None, rx, finish)))
        },
    );
    event_stream(stream)
}

fn event_stream(
    stream: impl futures_util::Stream<Item = Bytes> + Send + 'static,
) -> Response<Body> {
    let body = StreamBody::new(stream.map(|b| Ok::<_, BoxError>(Frame::data(b))));
    let mut response = Response::new(body::boxed(body));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    response
}

fn json_response(status: StatusCode, message: &Message) -> Response<Body> {
    json_value_response(status, &message.to_value())
}

fn json_value_response(status: StatusCode, value: &Value) -> Response<Body> {
    let mut response = Response::new(body::boxed(Full::new(Bytes::from(value.to_string()))));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// A JSON-RPC error with an HTTP status (id null when the request had none).
fn rpc_error(status: StatusCode, id: Option<Id>, code: i64, message: &str) -> Response<Body> {
    let id = id.map(|i| i.to_value()).unwrap_or(Value::Null);
    let value = json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}});
    json_value_response(status, &value)
}

fn accepted() -> Response<Body> {
    let mut response = Response::new(body::empty());
    *response.status_mut() = StatusCode::ACCEPTED;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn envelope(version: &str) -> Value {
        json!({"name": "echo", "_meta": {
            "io.modelcontextprotocol/protocolVersion": version,
            "io.modelcontextprotocol/clientCapabilities": {}}})
    }

    #[test]
    fn modern_headers_must_match_the_body() {
        const V: (&str, &str) = ("mcp-protocol-version", "2026-07-28");
        const CALL: (&str, &str) = ("mcp-method", "tools/call");
        const ECHO: (&str, &str) = ("mcp-name", "echo");
        let call = Some(envelope("2026-07-28"));
        type Pairs<'a> = &'a [(&'static str, &'static str)];
        let cases: [(Pairs, Option<i64>); 5] = [
            (&[V, CALL, ECHO], None),
            (&[V, CALL, ("mcp-name", "other")], Some(HEADER_MISMATCH)),
            (&[V, CALL], Some(HEADER_MISMATCH)),
            (
                &[V, ("mcp-method", "tools/list"), ECHO],
                Some(HEADER_MISMATCH),
            ),
            (&[V, CALL, CALL, ECHO], Some(HEADER_MISMATCH)),
        ];
        for (pairs, expected) in cases {
            let got = check_modern(&headers(pairs), "tools/call", call.as_ref())
                .err()
                .map(|e| e.0);
            assert_eq!(got, expected, "{pairs:?}");
        }
        let ok = headers(&[V, CALL, ECHO]);
        let no_envelope = check_modern(&ok, "tools/call", Some(&json!({"name": "echo"})));
        assert_eq!(no_envelope.unwrap_err().0, jsonrpc::INVALID_PARAMS);
        let future = headers(&[
            ("mcp-protocol-version", "2027-01-01"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "echo"),
        ]);
        let (code, _, data) =
            check_modern(&future, "tools/call", Some(&envelope("2027-01-01"))).unwrap_err();
        assert_eq!(code, UNSUPPORTED_VERSION);
        assert_eq!(data.unwrap()["supported"][0], MODERN_VERSION);
    }

    #[test]
    fn decodes_encoded_header_values() {
        assert_eq!(decode_header_value("echo").as_deref(), Some("echo"));
        // "héllo" in base64.
        assert_eq!(
            decode_header_value("=?base64?aMOpbGxv?=").as_deref(),
            Some("héllo")
        );
        assert_eq!(decode_header_value("=?base64?!!?="), None);
    }

    #[test]
    fn origins() {
        assert!(check_origin(&headers(&[])).is_none());
        assert!(check_origin(&headers(&[("origin", "http://localhost:3000")])).is_none());
        assert!(
            check_origin(&headers(&[
                ("origin", "http://gw.example:8080"),
                ("host", "gw.example:8080")
            ]))
            .is_none()
        );
        let denied = check_origin(&headers(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:8080"),
        ]))
        .unwrap();
        assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    }

    #[test]
    fn shapes_results_for_stateless_clients() {
        let mut m = Message::result(
            Id::Number(1),
            json!({"tools": [{"name": "a", "execution": {"taskSupport": "forbidden"}}]}),
        );
        modern_result(&mut m, true, &json!({"name": "s"}));
        let v = m.to_value();
        assert_eq!(v["result"]["resultType"], "complete");
        assert_eq!(v["result"]["ttlMs"], 0);
        assert_eq!(v["result"]["cacheScope"], "private");
        assert!(v["result"]["tools"][0].get("execution").is_none());
        assert_eq!(
            v["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
            "s"
        );
        let p = strip_envelope(envelope("2026-07-28"));
        assert_eq!(p["_meta"], json!({}));
    }
}
