//! A client session on a virtual MCP server: one upstream connection per target,
//! opened when the client initializes; requests routed to their target (or fanned
//! out and merged), server-to-client traffic relayed back with ids the client can
//! answer, and upstreams that die restarted with backoff.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use crate::connection::Connection;
use crate::federation::{self, Cursor, ListKind};
use crate::http::{self as transport, HttpClient};
use crate::jsonrpc::{
    ErrorObject, INTERNAL_ERROR, INVALID_PARAMS, INVALID_REQUEST, Id, METHOD_NOT_FOUND, Message,
};
use crate::server::{FailureMode, SharedSpec, Target, Transport};
use crate::stdio;

/// JSON-RPC error code of a request the upstream did not answer in time.
pub const REQUEST_TIMEOUT: i64 = -32001;
/// Protocol revisions Palisade answers sessions with, newest first.
pub const SUPPORTED_VERSIONS: &[&str] = &["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];
/// Time an upstream gets to answer `initialize` (npx may have to fetch a package).
pub const INITIALIZE_TIMEOUT: Duration = Duration::from_secs(120);
/// Messages buffered for a client's GET stream.
const EVENT_QUEUE: usize = 256;
/// First and longest wait before an upstream that died is started again.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(500), Duration::from_secs(30));

/// Told about events of sessions (for metrics).
pub trait Observer: Send + Sync {
    /// An upstream of `server` that died was started again.
    fn restarted(&self, server: &str);
}

/// What a request gets back.
#[derive(Debug)]
pub enum Reply {
    /// The response, ready now.
    Now(Message),
    /// Interim messages (progress, server requests) and then the response.
    Stream(mpsc::Receiver<Message>),
}

/// An upstream of this session and what restarts it.
struct Upstream {
    target: Target,
    conn: Mutex<Option<Arc<Connection>>>,
    /// The initialize result of the current connection.
    init: Mutex<Value>,
    unsolicited: mpsc::Sender<Message>,
    restart: tokio::sync::Mutex<Restart>,
}

struct Restart {
    not_before: Instant,
    backoff: Duration,
}

/// One client session.
pub struct Session {
    id: String,
    spec: SharedSpec,
    client: HttpClient,
    params: Value,
    version: String,
    names: Vec<String>,
    upstreams: Vec<Option<Upstream>>,
    events_tx: mpsc::Sender<Message>,
    events: Arc<tokio::sync::Mutex<mpsc::Receiver<Message>>>,
    server_requests: Mutex<HashMap<String, (usize, Id)>>,
    next_server_request: AtomicU64,
    in_flight: Mutex<HashMap<Id, (usize, i64)>>,
    /// Owners of names when names carry no prefix (filled by listings).
    owners: Mutex<HashMap<String, usize>>,
    started: Instant,
    last_seen_ms: AtomicU64,
    observer: Option<Arc<dyn Observer>>,
    /// A client has taken the event stream: upstreams open theirs.
    listening: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("server", &self.spec.name)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A new unguessable session id: 256 random bits, hex.
pub fn new_session_id() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The revision a session runs: the client's when Palisade speaks it, else the newest.
pub fn negotiate(requested: Option<&str>) -> &'static str {
    SUPPORTED_VERSIONS
        .iter()
        .find(|v| Some(**v) == requested)
        .copied()
        .unwrap_or(SUPPORTED_VERSIONS[0])
}

async fn connect(
    target: &Target,
    client: &HttpClient,
    params: &Value,
    unsolicited: mpsc::Sender<Message>,
) -> Result<(Arc<Connection>, Value), String> {
    let pipe = match &target.transport {
        Transport::Stdio(cmd) => stdio::spawn(cmd).map_err(|e| e.to_string())?,
        Transport::StreamableHttp(uri) => transport::streamable(
            target.name.clone(),
            client.clone(),
            uri.clone(),
            target.headers.clone(),
        ),
        Transport::Sse(uri) => {
            transport::legacy_sse(
                target.name.clone(),
                client.clone(),
                uri.clone(),
                target.headers.clone(),
            )
            .await?
        }
    };
    let conn = Connection::new(target.name.clone(), pipe, unsolicited);
    let init = tokio::time::timeout(
        INITIALIZE_TIMEOUT,
        conn.request("initialize", Some(params.clone())),
    )
    .await
    .map_err(|_| {
        format!(
            "{} did not answer initialize within {INITIALIZE_TIMEOUT:?}",
            target.name
        )
    })?
    .map_err(|e| format!("{} refused initialize: {}", target.name, e.message))?;
    conn.send(Message::notification("notifications/initialized", None))
        .await
        .map_err(|e| e.to_string())?;
    Ok((conn, init))
}

impl Session {
    /// Opens a session for a client's `initialize` params: connects every target
    /// and returns the session with the merged initialize result.
    pub async fn open(
        spec: SharedSpec,
        client: HttpClient,
        params: Value,
        observer: Option<Arc<dyn Observer>>,
    ) -> Result<(Arc<Session>, Value), ErrorObject> {
        let version = negotiate(params.get("protocolVersion").and_then(Value::as_str));
        let mut upstream_params = params.clone();
        if let Some(obj) = upstream_params.as_object_mut() {
            obj.insert("protocolVersion".into(), version.into());
        }
        let mut receivers = Vec::new();
        let attempts = spec.targets.iter().map(|target| {
            let (tx, rx) = mpsc::channel(EVENT_QUEUE);
            receivers.push(rx);
            let client = client.clone();
            let params = upstream_params.clone();
            async move {
                let result = connect(target, &client, &params, tx.clone()).await;
                (target.clone(), tx, result)
            }
        });
        let results = join_all(attempts).await;
        let mut upstreams = Vec::new();
        let mut failures = Vec::new();
        for (target, tx, result) in results {
            match result {
                Ok((conn, init)) => upstreams.push(Some(Upstream {
                    target,
                    conn: Mutex::new(Some(conn)),
                    init: Mutex::new(init),
                    unsolicited: tx,
                    restart: tokio::sync::Mutex::new(Restart {
                        not_before: Instant::now(),
                        backoff: BACKOFF.0,
                    }),
                })),
                Err(why) => {
                    tracing::warn!(server = %spec.name, target = %target.name, error = %why, "MCP target failed to start");
                    failures.push(why);
                    upstreams.push(None);
                }
            }
        }
        let all_failed = upstreams.iter().all(Option::is_none);
        if all_failed || (!failures.is_empty() && spec.failure == FailureMode::FailClosed) {
            return Err(ErrorObject::new(
                INTERNAL_ERROR,
                format!(
                    "cannot open a session on {}: {}",
                    spec.name,
                    failures.join("; ")
                ),
            ));
        }
        let (events_tx, events_rx) = mpsc::channel(EVENT_QUEUE);
        let session = Arc::new(Session {
            id: new_session_id(),
            names: spec.target_names(),
            spec,
            client,
            params: upstream_params,
            version: version.to_string(),
            upstreams,
            events_tx,
            events: Arc::new(tokio::sync::Mutex::new(events_rx)),
            server_requests: Mutex::new(HashMap::new()),
            next_server_request: AtomicU64::new(1),
            in_flight: Mutex::new(HashMap::new()),
            owners: Mutex::new(HashMap::new()),
            started: Instant::now(),
            last_seen_ms: AtomicU64::new(0),
            observer,
            listening: std::sync::atomic::AtomicBool::new(false),
        });
        for (index, rx) in receivers.into_iter().enumerate() {
            tokio::spawn(relay_unsolicited(Arc::downgrade(&session), index, rx));
        }
        let result = session.initialize_result();
        Ok((session, result))
    }

    /// The session id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The protocol revision of the session.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The server this session is on.
    pub fn server(&self) -> &str {
        &self.spec.name
    }

    /// The description of the server this session is on.
    pub fn spec(&self) -> &SharedSpec {
        &self.spec
    }

    /// Marks the session used now.
    pub fn touch(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_seen_ms.store(ms, Ordering::Relaxed);
    }

    /// Time since the session was last used.
    pub fn idle(&self) -> Duration {
        self.started.elapsed().saturating_sub(Duration::from_millis(
            self.last_seen_ms.load(Ordering::Relaxed),
        ))
    }

    /// The client's stream of messages sent outside any request (GET stream).
    /// `None` while another stream holds it.
    pub fn take_events(&self) -> Option<tokio::sync::OwnedMutexGuard<mpsc::Receiver<Message>>> {
        let guard = self.events.clone().try_lock_owned().ok()?;
        self.listening.store(true, Ordering::Release);
        for (_, upstream) in self.live() {
            if let Some(conn) = lock(&upstream.conn).as_ref() {
                conn.open_events();
            }
        }
        Some(guard)
    }

    fn live(&self) -> impl Iterator<Item = (usize, &Upstream)> {
        self.upstreams
            .iter()
            .enumerate()
            .filter_map(|(i, u)| u.as_ref().map(|u| (i, u)))
    }

    /// The initialize result clients get: capabilities of every live target merged.
    pub fn initialize_result(&self) -> Value {
        let inits: Vec<Value> = self.live().map(|(_, u)| lock(&u.init).clone()).collect();
        let mut caps = Map::new();
        for init in &inits {
            let Some(server_caps) = init.get("capabilities").and_then(Value::as_object) else {
                continue;
            };
            for (key, value) in server_caps {
                merge_capability(caps.entry(key.clone()).or_insert_with(|| json!({})), value);
            }
        }
        let single = inits.len() == 1 && self.spec.targets.len() == 1;
        let server_info = match (single, inits.first().and_then(|i| i.get("serverInfo"))) {
            (true, Some(info)) => info.clone(),
            _ => json!({"name": self.spec.name, "version": env!("CARGO_PKG_VERSION")}),
        };
        let mut result = json!({
            "protocolVersion": self.version,
            "capabilities": caps,
            "serverInfo": server_info,
        });
        let instructions: Vec<&str> = inits
            .iter()
            .filter_map(|i| i.get("instructions")?.as_str())
            .collect();
        if !instructions.is_empty() {
            result["instructions"] = instructions.join("\n\n").into();
        }
        result
    }

    fn has_capability(&self, index: usize, capability: &str) -> bool {
        self.upstreams[index].as_ref().is_some_and(|u| {
            lock(&u.init)
                .get("capabilities")
                .and_then(|c| c.get(capability))
                .is_some()
        })
    }

    /// The live connection to target `index`, restarting it (with backoff) if it died.
    async fn connection(&self, index: usize) -> Result<Arc<Connection>, ErrorObject> {
        let Some(upstream) = self.upstreams.get(index).and_then(Option::as_ref) else {
            return Err(ErrorObject::new(
                INTERNAL_ERROR,
                format!(
                    "target {} is not available in this session",
                    self.names[index]
                ),
            ));
        };
        if let Some(conn) = lock(&upstream.conn).clone().filter(|c| !c.is_closed()) {
            return Ok(conn);
        }
        let mut restart = upstream.restart.lock().await;
        if let Some(conn) = lock(&upstream.conn).clone().filter(|c| !c.is_closed()) {
            return Ok(conn);
        }
        let now = Instant::now();
        if now < restart.not_before {
            let wait = restart.not_before - now;
            return Err(ErrorObject::new(
                INTERNAL_ERROR,
                format!(
                    "MCP target {} stopped; restarting in {:.1}s",
                    upstream.target.name,
                    wait.as_secs_f64()
                ),
            ));
        }
        tracing::info!(server = %self.spec.name, target = %upstream.target.name, "restarting MCP target");
        match connect(
            &upstream.target,
            &self.client,
            &self.params,
            upstream.unsolicited.clone(),
        )
        .await
        {
            Ok((conn, init)) => {
                *lock(&upstream.conn) = Some(conn.clone());
                *lock(&upstream.init) = init;
                if self.listening.load(Ordering::Acquire) {
                    conn.open_events();
                }
                restart.backoff = BACKOFF.0;
                if let Some(observer) = &self.observer {
                    observer.restarted(&self.spec.name);
                }
                Ok(conn)
            }
            Err(why) => {
                restart.not_before = Instant::now() + restart.backoff;
                restart.backoff = (restart.backoff * 2).min(BACKOFF.1);
                Err(ErrorObject::new(INTERNAL_ERROR, why))
            }
        }
    }

    /// Answers one client request.
    pub async fn request(self: &Arc<Self>, id: Id, method: &str, params: Option<Value>) -> Reply {
        self.touch();
        let routed = match method {
            "ping" => return Reply::Now(Message::result(id, json!({}))),
            "initialize" => {
                return Reply::Now(Message::error(
                    id,
                    INVALID_REQUEST,
                    "this session is already initialized",
                ));
            }
            "logging/setLevel" => return Reply::Now(self.fan_out(id, method, params).await),
            _ => match ListKind::of_method(method) {
                Some(kind) => return Reply::Now(self.list(id, kind, params).await),
                None => self.route(method, params).await,
            },
        };
        match routed {
            Ok((index, params)) => self.forward(id, index, method, params).await,
            Err(e) => Reply::Now(Message::Response {
                id,
                outcome: Err(e),
            }),
        }
    }

    /// Picks the target of a request and rewrites its params to that target's names.
    async fn route(
        &self,
        method: &str,
        params: Option<Value>,
    ) -> Result<(usize, Option<Value>), ErrorObject> {
        let mut params = params;
        let (pointer, is_uri) = match method {
            "tools/call" | "prompts/get" => ("/name", false),
            "resources/read" | "resources/subscribe" | "resources/unsubscribe" => ("/uri", true),
            "completion/complete" => match params
                .as_ref()
                .and_then(|p| p.pointer("/ref/type"))
                .and_then(Value::as_str)
            {
                Some("ref/prompt") => ("/ref/name", false),
                Some("ref/resource") => ("/ref/uri", true),
                _ => {
                    return Err(ErrorObject::new(
                        INVALID_PARAMS,
                        "completion/complete needs ref.type ref/prompt or ref/resource",
                    ));
                }
            },
            _ if self.names.len() == 1 => return Ok((0, params)),
            _ => {
                return Err(ErrorObject::new(
                    METHOD_NOT_FOUND,
                    format!("{method} is not supported on a server federating several targets"),
                ));
            }
        };
        let Some(Value::String(name)) = params.as_mut().and_then(|p| p.pointer_mut(pointer)) else {
            return Err(ErrorObject::new(
                INVALID_PARAMS,
                format!("{method} needs params{}", pointer.replace('/', ".")),
            ));
        };
        if !self.spec.prefixes() {
            let index = self.owner(name, method).await;
            return Ok((index, params));
        }
        let split = if is_uri {
            federation::split_uri(&self.names, name)
        } else {
            federation::split_name(&self.names, name)
        };
        let Some((index, inner)) = split else {
            let what = if is_uri { "resource" } else { "name" };
            return Err(ErrorObject::new(
                INVALID_PARAMS,
                format!("unknown {what} `{name}`"),
            ));
        };
        *name = inner.to_string();
        Ok((index, params))
    }

    /// The target owning an unprefixed name: learned from listings; the first
    /// target when unknown (one target, or names never listed).
    async fn owner(&self, name: &str, method: &str) -> usize {
        if self.names.len() == 1 {
            return 0;
        }
        if let Some(i) = lock(&self.owners).get(name) {
            return *i;
        }
        let kind = match method {
            "tools/call" => ListKind::Tools,
            "prompts/get" => ListKind::Prompts,
            _ => ListKind::Resources,
        };
        let _ = self.list(Id::Number(0), kind, None).await;
        lock(&self.owners).get(name).copied().unwrap_or(0)
    }

    /// Sends a request to one target; relays interim messages; rewrites the answer's id.
    async fn forward(
        self: &Arc<Self>,
        id: Id,
        index: usize,
        method: &str,
        params: Option<Value>,
    ) -> Reply {
        let conn = match self.connection(index).await {
            Ok(c) => c,
            Err(e) => {
                return Reply::Now(Message::Response {
                    id,
                    outcome: Err(e),
                });
            }
        };
        let (upstream_id, mut rx) = match conn.call(method, params).await {
            Ok(pair) => pair,
            Err(e) => return Reply::Now(Message::error(id, INTERNAL_ERROR, e.to_string())),
        };
        lock(&self.in_flight).insert(id.clone(), (index, upstream_id));
        let (tx, out) = mpsc::channel(64);
        let session = Arc::downgrade(self);
        let timeout = self.spec.timeout;
        tokio::spawn(async move {
            loop {
                let message = match tokio::time::timeout(timeout, rx.recv()).await {
                    Ok(Some(m)) => m,
                    Ok(None) => return,
                    Err(_) => {
                        // No answer and no sign of life: tell both sides.
                        let _ = conn
                            .send(Message::notification(
                                "notifications/cancelled",
                                Some(json!({"requestId": upstream_id, "reason": "timed out in Palisade"})),
                            ))
                            .await;
                        if let Some(session) = session.upgrade() {
                            lock(&session.in_flight).remove(&id);
                        }
                        let _ = tx
                            .send(Message::error(
                                id,
                                REQUEST_TIMEOUT,
                                format!("{} did not answer within {timeout:?}", conn.name()),
                            ))
                            .await;
                        return;
                    }
                };
                let Some(session) = session.upgrade() else {
                    return;
                };
                let message = match message {
                    Message::Response { outcome, .. } => {
                        lock(&session.in_flight).remove(&id);
                        let _ = tx
                            .send(Message::Response {
                                id: id.clone(),
                                outcome,
                            })
                            .await;
                        return;
                    }
                    other => session.to_client(index, other),
                };
                if tx.send(message).await.is_err() {
                    lock(&session.in_flight).remove(&id);
                    return;
                }
            }
        });
        Reply::Stream(out)
    }

    /// Rewrites a message from target `index` for the client: server requests get a
    /// session-unique id the client answers to; resource URIs get their prefix.
    fn to_client(&self, index: usize, message: Message) -> Message {
        match message {
            Message::Request { id, method, params } => {
                let n = self.next_server_request.fetch_add(1, Ordering::Relaxed);
                let client_id = format!("palisade-{n}");
                lock(&self.server_requests).insert(client_id.clone(), (index, id));
                Message::Request {
                    id: Id::String(client_id),
                    method,
                    params,
                }
            }
            Message::Notification { method, mut params } => {
                if method == "notifications/resources/updated"
                    && self.spec.prefixes()
                    && let Some(Value::String(uri)) = params.as_mut().and_then(|p| p.get_mut("uri"))
                {
                    *uri = federation::qualify_uri(&self.names[index], uri);
                }
                Message::Notification { method, params }
            }
            response => response,
        }
    }

    /// Sends a request to every live target; answers `{}` if all accept.
    async fn fan_out(&self, id: Id, method: &str, params: Option<Value>) -> Message {
        let calls = self.live().map(|(i, _)| {
            let params = params.clone();
            async move {
                let conn = self.connection(i).await?;
                conn.request(method, params).await
            }
        });
        let errors: Vec<String> = join_all(calls)
            .await
            .into_iter()
            .filter_map(|r| r.err().map(|e| e.message))
            .collect();
        if errors.is_empty() {
            Message::result(id, json!({}))
        } else {
            Message::error(id, INTERNAL_ERROR, errors.join("; "))
        }
    }

    /// A list request: passed through for one unprefixed target, else merged from
    /// every target that has the capability.
    async fn list(&self, id: Id, kind: ListKind, params: Option<Value>) -> Message {
        let cursor = params
            .as_ref()
            .and_then(|p| p.get("cursor"))
            .and_then(Value::as_str);
        let federated = self.names.len() > 1 || self.spec.prefixes();
        let pages: Vec<(usize, Option<String>)> = match (federated, cursor) {
            (false, cursor) => vec![(0, cursor.map(str::to_string))],
            (true, None) => self
                .live()
                .filter(|(i, _)| self.has_capability(*i, kind.capability()))
                .map(|(i, _)| (i, None))
                .collect(),
            (true, Some(text)) => match Cursor::decode(text) {
                Some(c) if c.0.iter().all(|(i, _)| *i < self.names.len()) => {
                    c.0.into_iter().map(|(i, c)| (i, Some(c))).collect()
                }
                _ => return Message::error(id, INVALID_PARAMS, "invalid cursor"),
            },
        };
        let method = match kind {
            ListKind::Tools => "tools/list",
            ListKind::Prompts => "prompts/list",
            ListKind::Resources => "resources/list",
            ListKind::ResourceTemplates => "resources/templates/list",
        };
        let calls = pages.iter().map(|(i, cursor)| {
            let mut page_params = params.clone().unwrap_or_else(|| json!({}));
            match cursor {
                Some(c) => page_params["cursor"] = c.clone().into(),
                None => {
                    if let Some(obj) = page_params.as_object_mut() {
                        obj.remove("cursor");
                    }
                }
            }
            async move {
                let conn = self.connection(*i).await?;
                conn.request(method, Some(page_params)).await
            }
        });
        let results = join_all(calls).await;
        if !federated {
            return match results.into_iter().next() {
                Some(Ok(result)) => Message::result(id, result),
                Some(Err(e)) => Message::Response {
                    id,
                    outcome: Err(e),
                },
                None => Message::error(id, INTERNAL_ERROR, "no target"),
            };
        }
        let mut items = Vec::new();
        let mut next = Vec::new();
        let mut errors = Vec::new();
        for ((index, _), result) in pages.iter().zip(results) {
            let name = &self.names[*index];
            let mut result = match result {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(server = %self.spec.name, target = %name, error = %e.message, "{method} failed on a target");
                    errors.push(format!("{name}: {}", e.message));
                    continue;
                }
            };
            if let Some(c) = result.get("nextCursor").and_then(Value::as_str) {
                next.push((*index, c.to_string()));
            }
            if !self.spec.prefixes() {
                self.learn_owners(kind, *index, &result);
            } else {
                federation::qualify_items(kind, name, &mut result);
            }
            if let Some(Value::Array(list)) = result.get_mut(kind.member()).map(Value::take) {
                items.extend(list);
            }
        }
        if !errors.is_empty() && self.spec.failure == FailureMode::FailClosed {
            return Message::error(id, INTERNAL_ERROR, errors.join("; "));
        }
        let mut result = json!({ kind.member(): items });
        if !next.is_empty() {
            result["nextCursor"] = Cursor(next).encode().into();
        }
        Message::result(id, result)
    }

    fn learn_owners(&self, kind: ListKind, index: usize, result: &Value) {
        let field = match kind {
            ListKind::Tools | ListKind::Prompts => "name",
            ListKind::Resources => "uri",
            ListKind::ResourceTemplates => return,
        };
        let Some(list) = result.get(kind.member()).and_then(Value::as_array) else {
            return;
        };
        let mut owners = lock(&self.owners);
        for item in list {
            if let Some(name) = item.get(field).and_then(Value::as_str) {
                owners.entry(name.to_string()).or_insert(index);
            }
        }
    }

    /// A client's answer to a server request relayed earlier.
    pub async fn client_response(
        &self,
        id: Id,
        outcome: Result<Value, ErrorObject>,
    ) -> Result<(), String> {
        self.touch();
        let Id::String(key) = &id else {
            return Err(format!("no server request has id {id}"));
        };
        let Some((index, upstream_id)) = lock(&self.server_requests).remove(key) else {
            return Err(format!("no server request has id {id}"));
        };
        let conn = self.connection(index).await.map_err(|e| e.message)?;
        conn.send(Message::Response {
            id: upstream_id,
            outcome,
        })
        .await
        .map_err(|e| e.to_string())
    }

    /// A client notification: cancellations go to the target running the request;
    /// others to every target.
    pub async fn client_notification(&self, method: &str, params: Option<Value>) {
        self.touch();
        match method {
            "notifications/initialized" => {}
            "notifications/cancelled" => {
                let Some(request_id) = params
                    .as_ref()
                    .and_then(|p| p.get("requestId"))
                    .and_then(id_of)
                else {
                    return;
                };
                let Some((index, upstream_id)) = lock(&self.in_flight).get(&request_id).copied()
                else {
                    return;
                };
                let mut params = params.unwrap_or_default();
                params["requestId"] = upstream_id.into();
                if let Ok(conn) = self.connection(index).await {
                    let _ = conn.send(Message::notification(method, Some(params))).await;
                }
            }
            _ => {
                for (i, _) in self.live() {
                    if let Ok(conn) = self.connection(i).await {
                        let _ = conn
                            .send(Message::notification(method, params.clone()))
                            .await;
                    }
                }
            }
        }
    }
}

fn id_of(value: &Value) -> Option<Id> {
    match value {
        Value::Number(n) => n.as_i64().map(Id::Number),
        Value::String(s) => Some(Id::String(s.clone())),
        _ => None,
    }
}

/// Merges one server's capability into the merged set: objects are united, and a
/// `true` flag (listChanged, subscribe) wins.
fn merge_capability(into: &mut Value, from: &Value) {
    let (Some(into), Some(from)) = (into.as_object_mut(), from.as_object()) else {
        return;
    };
    for (key, value) in from {
        match into.get_mut(key) {
            Some(Value::Bool(b)) => *b |= value.as_bool().unwrap_or(false),
            Some(existing @ Value::Object(_)) => merge_capability(existing, value),
            Some(_) => {}
            None => {
                into.insert(key.clone(), value.clone());
            }
        }
    }
}

async fn relay_unsolicited(session: Weak<Session>, index: usize, mut rx: mpsc::Receiver<Message>) {
    while let Some(message) = rx.recv().await {
        let Some(session) = session.upgrade() else {
            return;
        };
        let message = session.to_client(index, message);
        if let Err(mpsc::error::TrySendError::Full(message)) = session.events_tx.try_send(message) {
            // Nobody reads the GET stream: refuse server requests instead of leaving
            // the server waiting forever; drop notifications.
            let Message::Request {
                id: Id::String(key),
                ..
            } = message
            else {
                continue;
            };
            let entry = lock(&session.server_requests).remove(&key);
            let Some((index, upstream_id)) = entry else {
                continue;
            };
            let conn = session.upstreams[index]
                .as_ref()
                .and_then(|u| lock(&u.conn).clone());
            if let Some(conn) = conn {
                let _ = conn
                    .send(Message::error(
                        upstream_id,
                        INTERNAL_ERROR,
                        "the client is not listening for server requests",
                    ))
                    .await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_versions() {
        assert_eq!(negotiate(Some("2025-06-18")), "2025-06-18");
        assert_eq!(negotiate(Some("2099-01-01")), "2025-11-25");
        assert_eq!(negotiate(None), "2025-11-25");
    }

    #[test]
    fn session_ids_are_long_and_distinct() {
        let a = new_session_id();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_session_id());
    }

    #[test]
    fn merges_capabilities() {
        let mut caps = json!({});
        merge_capability(&mut caps, &json!({"tools": {"listChanged": false}}));
        merge_capability(
            &mut caps,
            &json!({"tools": {"listChanged": true}, "resources": {"subscribe": true}}),
        );
        assert_eq!(
            caps,
            json!({"tools": {"listChanged": true}, "resources": {"subscribe": true}})
        );
    }
}
