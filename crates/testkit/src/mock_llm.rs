//! A scripted fake LLM provider speaking the real wire formats over real HTTP.
//!
//! [`MockLlm`] listens on a random loopback port, runs on its own thread with
//! its own Tokio runtime (like [`Upstream`](crate::upstream::Upstream)) and
//! answers the three provider APIs the gateway proxies, so that the official
//! `anthropic` and `openai` SDKs can talk to it, directly or through Palisade:
//!
//! | route | API | streaming (`"stream": true`) |
//! |---|---|---|
//! | `POST /v1/messages` | Anthropic Messages | `event:`/`data:` SSE: `message_start`, per block `content_block_start` (a `ping` after the first), `content_block_delta` (`text_delta` / `input_json_delta`), `content_block_stop`, then `message_delta` (`stop_reason`, `usage`) and `message_stop` |
//! | `POST /v1/chat/completions` | OpenAI Chat Completions | `data:` chunks: the role first, content or `tool_calls` deltas (`index`/`id`/`function.name`, then argument fragments), a chunk with `finish_reason`, a usage chunk when `stream_options.include_usage`, then `data: [DONE]` |
//! | `POST /v1/responses` | OpenAI Responses | `event:`/`data:` SSE: `response.created`, `response.in_progress`, `response.output_item.added`, `response.content_part.added`, `response.output_text.delta`..., `response.output_text.done`, `response.content_part.done`, `response.output_item.done`, `response.completed` (function calls use `response.function_call_arguments.delta`/`.done`) |
//!
//! Every SSE event is written as its own body frame, so a test can check that
//! a guard sees text split across events. Anything else answers 404 in the
//! provider's error shape.
//!
//! # Replies
//!
//! Each successful request to one of the three routes consumes the next
//! scripted [`MockReply`] (`push_text`, `push_text_chunks`, `push_tool_call`,
//! `push_error`, ...). When the queue is empty the reply is the text
//! `mock reply to: <last input text>` (see [`MockLlm::default_reply_text`]).
//! Requests rejected by the checks below never consume a scripted reply.
//! Mind the SDKs' automatic retries (429 and 5xx are retried twice by
//! default): pass `max_retries=0` when scripting such errors.
//!
//! # Checks, as the real providers do them
//!
//! 1. API key, only once [`MockLlm::expect_api_key`] set one: Anthropic reads
//!    `x-api-key`, else `Authorization: Bearer` (how the `anthropic` Python
//!    SDK 2.x sends its API key); OpenAI reads `Authorization: Bearer`.
//!    Otherwise 401 with the provider's error body and message (`x-api-key
//!    header is required`, `invalid x-api-key`, `Invalid bearer token`;
//!    `You didn't provide an API key...`, `Incorrect API key provided: sk-...`
//!    with the key masked and `code: invalid_api_key`).
//! 2. Anthropic: `anthropic-version` header required (400).
//! 3. The body must be JSON (400).
//! 4. Required fields (400): Anthropic `model`, `messages`, `max_tokens`;
//!    chat `model`, `messages`; responses `model`.
//!
//! # Ids and usage
//!
//! Ids look like the real ones (`msg_01…`, `toolu_01…`, `chatcmpl-…`,
//! `call_…`, `resp_…`, `fc_…`). `model` is echoed from the request. Token
//! counts, unless set with [`MockReply::with_usage`], are estimated as
//! `max(1, ceil(chars / 4))`: input over all text of the request (system,
//! instructions, messages), output over the reply text (for tool calls, the
//! name plus the arguments JSON).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::stream;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::{Value, json};

use crate::server_thread::ServerThread;

type ResBody = BoxBody<Bytes, Infallible>;

/// Prefix of the default reply, followed by the last input text.
const DEFAULT_PREFIX: &str = "mock reply to: ";

/// Size in characters of the argument fragments of streamed tool calls.
const ARG_FRAGMENT: usize = 10;

/// One request as the mock received it.
#[derive(Debug, Clone)]
pub struct RecordedLlmRequest {
    /// Request method.
    pub method: Method,
    /// The path, without the query (e.g. `/v1/messages`).
    pub path: String,
    /// The query string without `?` (empty when there is none).
    pub query: String,
    /// Request headers.
    pub headers: HeaderMap,
    /// The body parsed as JSON (`Value::Null` when empty or not JSON).
    pub body: Value,
    /// The raw body bytes.
    pub raw_body: Bytes,
}

impl RecordedLlmRequest {
    /// The first value of header `name` as a string, if present and valid.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the body asked for a streamed answer (`"stream": true`).
    pub fn is_stream(&self) -> bool {
        self.body.get("stream").and_then(Value::as_bool) == Some(true)
    }
}

/// One function/tool call of a scripted reply.
#[derive(Debug, Clone)]
struct ToolCall {
    name: String,
    /// The arguments as the JSON text sent on the wire.
    arguments: String,
}

#[derive(Debug, Clone)]
enum ReplyKind {
    /// Text, as the deltas it is streamed in.
    Text(Vec<String>),
    ToolCalls(Vec<ToolCall>),
    /// Body sent verbatim.
    RawError {
        status: u16,
        body: Value,
    },
    /// Body rendered in the shape of the provider of the route.
    ProviderError {
        status: u16,
        error_type: String,
        message: String,
    },
}

/// A scripted reply; queue it with [`MockLlm::push`] (or the `push_*`
/// shorthands).
#[derive(Debug, Clone)]
pub struct MockReply {
    kind: ReplyKind,
    usage: Option<(u64, u64)>,
    headers: Vec<(String, String)>,
    delay: Duration,
}

impl MockReply {
    fn new(kind: ReplyKind) -> MockReply {
        MockReply {
            kind,
            usage: None,
            headers: Vec::new(),
            delay: Duration::ZERO,
        }
    }

    /// A text reply, streamed word by word (each delta but the first starts
    /// with the whitespace before its word).
    pub fn text(text: impl Into<String>) -> MockReply {
        MockReply::new(ReplyKind::Text(split_words(&text.into())))
    }

    /// A text reply streamed as exactly these deltas (one SSE event each);
    /// non-streaming answers carry their concatenation.
    pub fn text_chunks<I, S>(chunks: I) -> MockReply
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        MockReply::new(ReplyKind::Text(
            chunks.into_iter().map(Into::into).collect(),
        ))
    }

    /// A reply calling tool `name` with `arguments`. A JSON string is taken
    /// as the raw arguments text (to script malformed arguments); anything
    /// else is serialized. Streamed arguments come in 10-character fragments.
    pub fn tool_call(name: impl Into<String>, arguments: Value) -> MockReply {
        MockReply::tool_calls([(name, arguments)])
    }

    /// A reply calling several tools at once (parallel tool calls), in order.
    pub fn tool_calls<I, S>(calls: I) -> MockReply
    where
        I: IntoIterator<Item = (S, Value)>,
        S: Into<String>,
    {
        let calls = calls
            .into_iter()
            .map(|(name, args)| ToolCall {
                name: name.into(),
                arguments: match args {
                    Value::String(s) => s,
                    other => other.to_string(),
                },
            })
            .collect();
        MockReply::new(ReplyKind::ToolCalls(calls))
    }

    /// An error: HTTP `status` with `body` as the JSON body, verbatim, for
    /// streaming requests too (providers fail before the stream starts).
    pub fn error(status: u16, body: Value) -> MockReply {
        MockReply::new(ReplyKind::RawError { status, body })
    }

    /// An error in the shape of the provider of the route that consumes it:
    /// Anthropic `{"type":"error","error":{"type","message"},"request_id"}`,
    /// OpenAI `{"error":{"message","type","param":null,"code":null}}`.
    pub fn provider_error(
        status: u16,
        error_type: impl Into<String>,
        message: impl Into<String>,
    ) -> MockReply {
        MockReply::new(ReplyKind::ProviderError {
            status,
            error_type: error_type.into(),
            message: message.into(),
        })
    }

    /// Reports exactly these token counts instead of the estimate.
    pub fn with_usage(mut self, input_tokens: u64, output_tokens: u64) -> MockReply {
        self.usage = Some((input_tokens, output_tokens));
        self
    }

    /// Adds a response header (e.g. `retry-after` on a 429).
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> MockReply {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Pauses `delay` before each SSE event after the first (streaming only).
    pub fn with_chunk_delay(mut self, delay: Duration) -> MockReply {
        self.delay = delay;
        self
    }
}

/// Splits text into word deltas: `"a b  c"` → `["a", " b", "  c"]`.
fn split_words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_ws = false;
    for c in text.chars() {
        if c.is_whitespace() && !prev_ws && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_ws = c.is_whitespace();
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Splits `s` into fragments of at most `n` characters.
fn fragments(s: &str, n: usize) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(n).map(|c| c.iter().collect()).collect()
}

fn estimate_tokens(chars: usize) -> u64 {
    (chars as u64).div_ceil(4).max(1)
}

struct State {
    queue: Mutex<VecDeque<MockReply>>,
    api_key: Mutex<Option<String>>,
    requests: Mutex<Vec<RecordedLlmRequest>>,
    seed: u64,
    counter: AtomicU64,
}

impl State {
    fn next_u64(&self) -> u64 {
        // splitmix64 over a per-server seed and a counter: unique, cheap.
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut z = self
            .seed
            .wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn random(&self, alphabet: &[u8], len: usize) -> String {
        let mut s = String::with_capacity(len);
        let mut bits = 0u64;
        for i in 0..len {
            if i % 8 == 0 {
                bits = self.next_u64();
            }
            s.push(alphabet[(bits & 0xff) as usize % alphabet.len()] as char);
            bits >>= 8;
        }
        s
    }

    fn alnum(&self, len: usize) -> String {
        self.random(
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            len,
        )
    }

    fn hex(&self, len: usize) -> String {
        self.random(b"0123456789abcdef", len)
    }
}

/// A running scripted LLM provider; stops when dropped.
pub struct MockLlm {
    addr: SocketAddr,
    state: Arc<State>,
    _server: ServerThread,
}

impl std::fmt::Debug for MockLlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockLlm")
            .field("addr", &self.addr)
            .field("pending", &self.pending())
            .finish()
    }
}

impl MockLlm {
    /// Starts a mock provider on `127.0.0.1:0`.
    pub fn start() -> MockLlm {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("set_nonblocking");
        let addr = listener.local_addr().expect("local_addr");
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let state = Arc::new(State {
            queue: Mutex::new(VecDeque::new()),
            api_key: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
            seed: nanos ^ (u64::from(addr.port()) << 48),
            counter: AtomicU64::new(0),
        });
        let st = state.clone();
        let server = ServerThread::spawn("mock-llm".to_string(), listener, move |listener| {
            accept_loop(listener, st)
        });
        MockLlm {
            addr,
            state,
            _server: server,
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The base URL, `http://127.0.0.1:PORT` (no trailing slash). The
    /// Anthropic SDK takes it as is; the OpenAI SDK wants `url() + "/v1"`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The text of the reply given when the queue is empty, for a request
    /// whose last input text is `last_input`.
    pub fn default_reply_text(last_input: &str) -> String {
        format!("{DEFAULT_PREFIX}{last_input}")
    }

    /// Queues a scripted reply.
    pub fn push(&self, reply: MockReply) {
        self.state.queue.lock().unwrap().push_back(reply);
    }

    /// Queues a text reply ([`MockReply::text`]).
    pub fn push_text(&self, text: impl Into<String>) {
        self.push(MockReply::text(text));
    }

    /// Queues a text reply streamed as exactly these deltas
    /// ([`MockReply::text_chunks`]).
    pub fn push_text_chunks<I, S>(&self, chunks: I)
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.push(MockReply::text_chunks(chunks));
    }

    /// Queues a tool call ([`MockReply::tool_call`]).
    pub fn push_tool_call(&self, name: impl Into<String>, arguments: Value) {
        self.push(MockReply::tool_call(name, arguments));
    }

    /// Queues an error answered verbatim ([`MockReply::error`]).
    pub fn push_error(&self, status: u16, body: Value) {
        self.push(MockReply::error(status, body));
    }

    /// Queues an error in the provider's shape ([`MockReply::provider_error`]).
    pub fn push_provider_error(
        &self,
        status: u16,
        error_type: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.push(MockReply::provider_error(status, error_type, message));
    }

    /// Number of scripted replies not consumed yet.
    pub fn pending(&self) -> usize {
        self.state.queue.lock().unwrap().len()
    }

    /// Requires this API key (`Some`) or accepts any or none (`None`, the
    /// default). Anthropic routes read `x-api-key`, else `Authorization:
    /// Bearer`; OpenAI routes read `Authorization: Bearer`.
    pub fn expect_api_key(&self, key: Option<&str>) {
        *self.state.api_key.lock().unwrap() = key.map(str::to_string);
    }

    /// All requests received so far (rejected ones included), oldest first.
    pub fn requests(&self) -> Vec<RecordedLlmRequest> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The most recent request, if any.
    pub fn last_request(&self) -> Option<RecordedLlmRequest> {
        self.state.requests.lock().unwrap().last().cloned()
    }

    /// Number of requests received so far.
    pub fn request_count(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }

    /// Forgets the recorded requests (the reply queue is kept).
    pub fn clear(&self) {
        self.state.requests.lock().unwrap().clear();
    }
}

async fn accept_loop(listener: tokio::net::TcpListener, state: Arc<State>) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let st = state.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| handle(st.clone(), req));
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    Anthropic,
    Chat,
    Responses,
}

impl Api {
    fn is_openai(self) -> bool {
        self != Api::Anthropic
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A response under construction: status, headers and a full or SSE body.
struct Reply {
    status: StatusCode,
    headers: Vec<(String, String)>,
    body: ReplyBody,
}

enum ReplyBody {
    Json(Value),
    Sse {
        events: Vec<String>,
        delay: Duration,
    },
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: Vec::new(),
            body: ReplyBody::Json(body),
        }
    }

    fn sse(events: Vec<String>, delay: Duration) -> Reply {
        Reply {
            status: StatusCode::OK,
            headers: Vec::new(),
            body: ReplyBody::Sse { events, delay },
        }
    }

    fn into_response(self) -> Response<ResBody> {
        let mut builder = Response::builder().status(self.status);
        let body = match self.body {
            ReplyBody::Json(v) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(serde_json::to_vec(&v).expect("JSON"))).boxed()
            }
            ReplyBody::Sse { events, delay } => {
                builder = builder
                    .header(header::CONTENT_TYPE, "text/event-stream; charset=utf-8")
                    .header(header::CACHE_CONTROL, "no-cache");
                let frames = stream::unfold(
                    (VecDeque::from(events), true),
                    move |(mut events, first)| async move {
                        let ev = events.pop_front()?;
                        if !first && !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        let frame = Frame::data(Bytes::from(ev));
                        Some((Ok::<_, Infallible>(frame), (events, false)))
                    },
                );
                StreamBody::new(frames).boxed()
            }
        };
        let mut res = builder.body(body).expect("valid response");
        for (name, value) in self.headers {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                res.headers_mut().append(n, v);
            }
        }
        res
    }
}

/// The error body of `api`'s provider.
fn provider_error_body(
    state: &State,
    api: Api,
    error_type: &str,
    message: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Value {
    if api.is_openai() {
        json!({
            "error": { "message": message, "type": error_type, "param": param, "code": code }
        })
    } else {
        json!({
            "type": "error",
            "error": { "type": error_type, "message": message },
            "request_id": format!("req_011C{}", state.alnum(20)),
        })
    }
}

fn provider_error(state: &State, api: Api, status: u16, error_type: &str, message: &str) -> Reply {
    Reply::json(
        status,
        provider_error_body(state, api, error_type, message, None, None),
    )
}

/// `sk-abc…wxyz` the way OpenAI masks a wrong key in its error message.
fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<ResBody>, Infallible> {
    let (parts, body) = req.into_parts();
    let raw = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let parsed: Option<Value> = serde_json::from_slice(&raw).ok();
    let path = parts.uri.path().to_string();
    state.requests.lock().unwrap().push(RecordedLlmRequest {
        method: parts.method.clone(),
        path: path.clone(),
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts.headers.clone(),
        body: parsed.clone().unwrap_or(Value::Null),
        raw_body: raw,
    });

    let api = match (&parts.method, path.as_str()) {
        (&Method::POST, "/v1/messages") => Some(Api::Anthropic),
        (&Method::POST, "/v1/chat/completions") => Some(Api::Chat),
        (&Method::POST, "/v1/responses") => Some(Api::Responses),
        _ => None,
    };
    let Some(api) = api else {
        if path.starts_with("/v1/messages") || path.starts_with("/v1/complete") {
            let reply = provider_error(&state, Api::Anthropic, 404, "not_found_error", "Not Found");
            return Ok(finish(&state, Api::Anthropic, reply));
        }
        let msg = format!("Invalid URL ({} {path})", parts.method);
        let reply = provider_error(&state, Api::Chat, 404, "invalid_request_error", &msg);
        return Ok(finish(&state, Api::Chat, reply));
    };

    let reply = match check(&state, api, &parts.headers, parsed.as_ref()) {
        Err(reply) => reply,
        Ok(body) => {
            let scripted = state.queue.lock().unwrap().pop_front();
            answer(&state, api, body, scripted)
        }
    };
    Ok(finish(&state, api, reply))
}

/// Adds the provider's usual response headers.
fn finish(state: &State, api: Api, reply: Reply) -> Response<ResBody> {
    let mut res = reply.into_response();
    let h = res.headers_mut();
    if api.is_openai() {
        let id = format!("req_{}", state.hex(32));
        h.insert("x-request-id", HeaderValue::from_str(&id).expect("header"));
        h.insert("openai-version", HeaderValue::from_static("2020-10-01"));
        h.insert("openai-processing-ms", HeaderValue::from_static("1"));
    } else {
        let id = format!("req_011C{}", state.alnum(20));
        h.insert("request-id", HeaderValue::from_str(&id).expect("header"));
    }
    res
}

/// The provider's checks, in its order; `Ok` carries the JSON body.
fn check<'a>(
    state: &State,
    api: Api,
    headers: &HeaderMap,
    body: Option<&'a Value>,
) -> Result<&'a Value, Reply> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let expected = state.api_key.lock().unwrap().clone();
    if let Some(expected) = expected {
        if api.is_openai() {
            let given = header("authorization").and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            });
            match given {
                None => {
                    let msg = "You didn't provide an API key. You need to provide your API key \
                               in an Authorization header using Bearer auth (i.e. Authorization: \
                               Bearer YOUR_KEY), or as the password field (with blank username) \
                               if you're accessing the API from your browser and are prompted \
                               for a username and password. You can obtain an API key from \
                               https://platform.openai.com/account/api-keys.";
                    return Err(provider_error(
                        state,
                        api,
                        401,
                        "invalid_request_error",
                        msg,
                    ));
                }
                Some(key) if key.trim() != expected => {
                    let msg = format!(
                        "Incorrect API key provided: {}. You can find your API key at \
                         https://platform.openai.com/account/api-keys.",
                        mask_key(key.trim())
                    );
                    let body = provider_error_body(
                        state,
                        api,
                        "invalid_request_error",
                        &msg,
                        None,
                        Some("invalid_api_key"),
                    );
                    return Err(Reply::json(401, body));
                }
                Some(_) => {}
            }
        } else {
            // `x-api-key` wins; else `Authorization: Bearer` (the Python SDK
            // 2.x sends its API key that way).
            let bearer = header("authorization").and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            });
            let failure = match (header("x-api-key"), bearer) {
                (Some(key), _) if key != expected => Some("invalid x-api-key"),
                (Some(_), _) => None,
                (None, Some(token)) if token.trim() != expected => Some("Invalid bearer token"),
                (None, Some(_)) => None,
                (None, None) => Some("x-api-key header is required"),
            };
            if let Some(message) = failure {
                return Err(provider_error(
                    state,
                    api,
                    401,
                    "authentication_error",
                    message,
                ));
            }
        }
    }
    if api == Api::Anthropic && header("anthropic-version").is_none() {
        return Err(provider_error(
            state,
            api,
            400,
            "invalid_request_error",
            "anthropic-version: header is required",
        ));
    }
    let Some(body) = body.filter(|b| b.is_object()) else {
        return Err(if api.is_openai() {
            provider_error(
                state,
                api,
                400,
                "invalid_request_error",
                "We could not parse the JSON body of your request. (HINT: This likely means \
                 you aren't using your HTTP library correctly. The OpenAI API expects a JSON \
                 payload, but what was sent was not valid JSON.)",
            )
        } else {
            provider_error(
                state,
                api,
                400,
                "invalid_request_error",
                "There was an error parsing the body of your request: expected a JSON object",
            )
        });
    };
    let required: &[&str] = match api {
        Api::Anthropic => &["model", "messages", "max_tokens"],
        Api::Chat => &["model", "messages"],
        Api::Responses => &["model"],
    };
    for field in required {
        if body.get(*field).is_none_or(Value::is_null) {
            return Err(if api.is_openai() {
                let msg = format!("Missing required parameter: '{field}'.");
                let b = provider_error_body(
                    state,
                    api,
                    "invalid_request_error",
                    &msg,
                    Some(field),
                    Some("missing_required_parameter"),
                );
                Reply::json(400, b)
            } else {
                let msg = format!("{field}: Field required");
                provider_error(state, api, 400, "invalid_request_error", &msg)
            });
        }
    }
    Ok(body)
}

/// Text of a content value: a string, or the `text` of the parts of an
/// array (Anthropic `text`/`tool_result`, OpenAI `text`/`input_text`/...).
fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| match p.get("text").and_then(Value::as_str) {
                Some(t) => Some(t.to_string()),
                None => p
                    .get("content")
                    .or_else(|| p.get("output"))
                    .map(content_text),
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The last input text (the user's, or a tool result) and the character
/// count of all text in the request.
fn input_text(api: Api, body: &Value) -> (String, usize) {
    let mut all = 0usize;
    for key in ["system", "instructions"] {
        if let Some(v) = body.get(key) {
            all += content_text(v).chars().count();
        }
    }
    let mut last = String::new();
    let items: Vec<Value> = match (api, body.get("messages"), body.get("input")) {
        (Api::Responses, _, Some(Value::String(s))) => {
            vec![json!({ "role": "user", "content": s })]
        }
        (Api::Responses, _, Some(Value::Array(a))) => a.clone(),
        (_, Some(Value::Array(a)), _) => a.clone(),
        _ => Vec::new(),
    };
    for item in &items {
        let role = item.get("role").and_then(Value::as_str);
        let ty = item.get("type").and_then(Value::as_str);
        let text = match (item.get("content"), item.get("output")) {
            (Some(c), _) => content_text(c),
            (None, Some(o)) => content_text(o),
            _ => String::new(),
        };
        all += text.chars().count();
        let is_input =
            matches!(role, Some("user") | Some("tool")) || ty == Some("function_call_output");
        if is_input {
            last = text;
        }
    }
    (last, all)
}

/// Answers a checked request with the scripted reply (or the default).
fn answer(state: &State, api: Api, body: &Value, scripted: Option<MockReply>) -> Reply {
    let (last, input_chars) = input_text(api, body);
    let reply = scripted.unwrap_or_else(|| MockReply::text(MockLlm::default_reply_text(&last)));
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let stream = body.get("stream").and_then(Value::as_bool) == Some(true);
    let out_chars = match &reply.kind {
        ReplyKind::Text(chunks) => chunks.iter().map(|c| c.chars().count()).sum(),
        ReplyKind::ToolCalls(calls) => calls
            .iter()
            .map(|c| c.name.chars().count() + c.arguments.chars().count())
            .sum(),
        _ => 0,
    };
    let usage = Usage::from(
        reply
            .usage
            .unwrap_or((estimate_tokens(input_chars), estimate_tokens(out_chars))),
    );
    let ctx = Ctx {
        state,
        model,
        usage,
        body,
    };
    let mut out = match &reply.kind {
        ReplyKind::RawError { status, body } => Reply::json(*status, body.clone()),
        ReplyKind::ProviderError {
            status,
            error_type,
            message,
        } => provider_error(state, api, *status, error_type, message),
        ReplyKind::Text(_) | ReplyKind::ToolCalls(_) => {
            let content = match &reply.kind {
                ReplyKind::Text(chunks) => Content::Text(chunks.clone()),
                ReplyKind::ToolCalls(calls) => Content::Tools(calls.clone()),
                _ => unreachable!("matched above"),
            };
            match (api, stream) {
                (Api::Anthropic, false) => Reply::json(200, ctx.anthropic_json(&content)),
                (Api::Anthropic, true) => Reply::sse(ctx.anthropic_sse(&content), reply.delay),
                (Api::Chat, false) => Reply::json(200, ctx.chat_json(&content)),
                (Api::Chat, true) => Reply::sse(ctx.chat_sse(&content), reply.delay),
                (Api::Responses, false) => Reply::json(200, ctx.responses_json(&content)),
                (Api::Responses, true) => Reply::sse(ctx.responses_sse(&content), reply.delay),
            }
        }
    };
    out.headers.extend(reply.headers);
    out
}

#[derive(Debug, Clone, Copy)]
struct Usage {
    input: u64,
    output: u64,
}

impl From<(u64, u64)> for Usage {
    fn from((input, output): (u64, u64)) -> Usage {
        Usage { input, output }
    }
}

enum Content {
    Text(Vec<String>),
    Tools(Vec<ToolCall>),
}

/// Everything needed to render one successful answer.
struct Ctx<'a> {
    state: &'a State,
    model: String,
    usage: Usage,
    body: &'a Value,
}

fn sse_named(event: &str, data: &Value) -> String {
    format!("event: {event}\ndata: {data}\n\n")
}

fn sse_data(data: &Value) -> String {
    format!("data: {data}\n\n")
}

impl Ctx<'_> {
    // ---- Anthropic Messages ------------------------------------------------

    fn anthropic_usage(&self, output: u64) -> Value {
        json!({
            "input_tokens": self.usage.input,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "output_tokens": output,
            "service_tier": "standard",
        })
    }

    fn anthropic_tool_id(&self) -> String {
        format!("toolu_01{}", self.state.alnum(22))
    }

    fn anthropic_json(&self, content: &Content) -> Value {
        let (blocks, stop) = match content {
            Content::Text(chunks) => (
                vec![json!({ "type": "text", "text": chunks.concat() })],
                "end_turn",
            ),
            Content::Tools(calls) => (
                calls
                    .iter()
                    .map(|c| {
                        json!({
                            "type": "tool_use",
                            "id": self.anthropic_tool_id(),
                            "name": c.name,
                            "input": tool_input(&c.arguments),
                        })
                    })
                    .collect(),
                "tool_use",
            ),
        };
        json!({
            "id": format!("msg_01{}", self.state.alnum(22)),
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": blocks,
            "stop_reason": stop,
            "stop_sequence": null,
            "usage": self.anthropic_usage(self.usage.output),
        })
    }

    fn anthropic_sse(&self, content: &Content) -> Vec<String> {
        let mut ev = vec![sse_named(
            "message_start",
            &json!({
                "type": "message_start",
                "message": {
                    "id": format!("msg_01{}", self.state.alnum(22)),
                    "type": "message",
                    "role": "assistant",
                    "model": self.model,
                    "content": [],
                    "stop_reason": null,
                    "stop_sequence": null,
                    "usage": self.anthropic_usage(1),
                },
            }),
        )];
        let ping = sse_named("ping", &json!({ "type": "ping" }));
        let block_stop = |i: usize| {
            sse_named(
                "content_block_stop",
                &json!({ "type": "content_block_stop", "index": i }),
            )
        };
        let stop = match content {
            Content::Text(chunks) => {
                ev.push(sse_named(
                    "content_block_start",
                    &json!({
                        "type": "content_block_start",
                        "index": 0,
                        "content_block": { "type": "text", "text": "" },
                    }),
                ));
                ev.push(ping.clone());
                for chunk in chunks {
                    ev.push(sse_named(
                        "content_block_delta",
                        &json!({
                            "type": "content_block_delta",
                            "index": 0,
                            "delta": { "type": "text_delta", "text": chunk },
                        }),
                    ));
                }
                ev.push(block_stop(0));
                "end_turn"
            }
            Content::Tools(calls) => {
                for (i, call) in calls.iter().enumerate() {
                    ev.push(sse_named(
                        "content_block_start",
                        &json!({
                            "type": "content_block_start",
                            "index": i,
                            "content_block": {
                                "type": "tool_use",
                                "id": self.anthropic_tool_id(),
                                "name": call.name,
                                "input": {},
                            },
                        }),
                    ));
                    if i == 0 {
                        ev.push(ping.clone());
                    }
                    let mut parts = vec![String::new()];
                    parts.extend(fragments(&call.arguments, ARG_FRAGMENT));
                    for part in parts {
                        ev.push(sse_named(
                            "content_block_delta",
                            &json!({
                                "type": "content_block_delta",
                                "index": i,
                                "delta": { "type": "input_json_delta", "partial_json": part },
                            }),
                        ));
                    }
                    ev.push(block_stop(i));
                }
                "tool_use"
            }
        };
        ev.push(sse_named(
            "message_delta",
            &json!({
                "type": "message_delta",
                "delta": { "stop_reason": stop, "stop_sequence": null },
                "usage": {
                    "input_tokens": self.usage.input,
                    "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0,
                    "output_tokens": self.usage.output,
                },
            }),
        ));
        ev.push(sse_named(
            "message_stop",
            &json!({ "type": "message_stop" }),
        ));
        ev
    }

    // ---- OpenAI Chat Completions -------------------------------------------

    fn chat_usage(&self) -> Value {
        json!({
            "prompt_tokens": self.usage.input,
            "completion_tokens": self.usage.output,
            "total_tokens": self.usage.input + self.usage.output,
            "prompt_tokens_details": { "cached_tokens": 0, "audio_tokens": 0 },
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        })
    }

    fn call_id(&self) -> String {
        format!("call_{}", self.state.alnum(24))
    }

    fn chat_json(&self, content: &Content) -> Value {
        let (message, finish) = match content {
            Content::Text(chunks) => (
                json!({
                    "role": "assistant",
                    "content": chunks.concat(),
                    "refusal": null,
                    "annotations": [],
                }),
                "stop",
            ),
            Content::Tools(calls) => (
                json!({
                    "role": "assistant",
                    "content": null,
                    "tool_calls": calls.iter().map(|c| json!({
                        "id": self.call_id(),
                        "type": "function",
                        "function": { "name": c.name, "arguments": c.arguments },
                    })).collect::<Vec<_>>(),
                    "refusal": null,
                    "annotations": [],
                }),
                "tool_calls",
            ),
        };
        json!({
            "id": format!("chatcmpl-{}", self.state.alnum(29)),
            "object": "chat.completion",
            "created": unix_now(),
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": message,
                "logprobs": null,
                "finish_reason": finish,
            }],
            "usage": self.chat_usage(),
            "service_tier": "default",
            "system_fingerprint": format!("fp_{}", self.state.hex(10)),
        })
    }

    fn chat_sse(&self, content: &Content) -> Vec<String> {
        let include_usage = self
            .body
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            == Some(true);
        let id = format!("chatcmpl-{}", self.state.alnum(29));
        let created = unix_now();
        let fingerprint = format!("fp_{}", self.state.hex(10));
        let chunk = |delta: Value, finish: Value| {
            let mut c = json!({
                "id": id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": self.model,
                "service_tier": "default",
                "system_fingerprint": fingerprint,
                "choices": [{
                    "index": 0,
                    "delta": delta,
                    "logprobs": null,
                    "finish_reason": finish,
                }],
            });
            if include_usage {
                c["usage"] = Value::Null;
            }
            sse_data(&c)
        };
        let mut ev = Vec::new();
        let finish = match content {
            Content::Text(chunks) => {
                ev.push(chunk(
                    json!({ "role": "assistant", "content": "", "refusal": null }),
                    Value::Null,
                ));
                for c in chunks {
                    ev.push(chunk(json!({ "content": c }), Value::Null));
                }
                "stop"
            }
            Content::Tools(calls) => {
                for (i, call) in calls.iter().enumerate() {
                    let head = json!([{
                        "index": i,
                        "id": self.call_id(),
                        "type": "function",
                        "function": { "name": call.name, "arguments": "" },
                    }]);
                    if i == 0 {
                        ev.push(chunk(
                            json!({
                                "role": "assistant",
                                "content": null,
                                "tool_calls": head,
                                "refusal": null,
                            }),
                            Value::Null,
                        ));
                    } else {
                        ev.push(chunk(json!({ "tool_calls": head }), Value::Null));
                    }
                    for part in fragments(&call.arguments, ARG_FRAGMENT) {
                        ev.push(chunk(
                            json!({ "tool_calls": [{
                                "index": i,
                                "function": { "arguments": part },
                            }] }),
                            Value::Null,
                        ));
                    }
                }
                "tool_calls"
            }
        };
        ev.push(chunk(json!({}), json!(finish)));
        if include_usage {
            ev.push(sse_data(&json!({
                "id": id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": self.model,
                "service_tier": "default",
                "system_fingerprint": fingerprint,
                "choices": [],
                "usage": self.chat_usage(),
            })));
        }
        ev.push("data: [DONE]\n\n".to_string());
        ev
    }

    // ---- OpenAI Responses --------------------------------------------------

    /// The output items, completed, with their ids (and call ids).
    fn responses_items(&self, content: &Content) -> Vec<Value> {
        match content {
            Content::Text(chunks) => vec![json!({
                "id": format!("msg_{}", self.state.hex(48)),
                "type": "message",
                "status": "completed",
                "role": "assistant",
                "content": [{
                    "type": "output_text",
                    "annotations": [],
                    "logprobs": [],
                    "text": chunks.concat(),
                }],
            })],
            Content::Tools(calls) => calls
                .iter()
                .map(|c| {
                    json!({
                        "id": format!("fc_{}", self.state.hex(48)),
                        "type": "function_call",
                        "status": "completed",
                        "arguments": c.arguments,
                        "call_id": self.call_id(),
                        "name": c.name,
                    })
                })
                .collect(),
        }
    }

    fn response_object(&self, id: &str, created: u64, status: &str, output: Vec<Value>) -> Value {
        let b = self.body;
        let get = |k: &str, default: Value| b.get(k).cloned().unwrap_or(default);
        let usage = if status == "completed" {
            json!({
                "input_tokens": self.usage.input,
                "input_tokens_details": { "cached_tokens": 0 },
                "output_tokens": self.usage.output,
                "output_tokens_details": { "reasoning_tokens": 0 },
                "total_tokens": self.usage.input + self.usage.output,
            })
        } else {
            Value::Null
        };
        json!({
            "id": id,
            "object": "response",
            "created_at": created,
            "status": status,
            "background": false,
            "error": null,
            "incomplete_details": null,
            "instructions": get("instructions", Value::Null),
            "max_output_tokens": get("max_output_tokens", Value::Null),
            "model": self.model,
            "output": output,
            "parallel_tool_calls": get("parallel_tool_calls", json!(true)),
            "previous_response_id": get("previous_response_id", Value::Null),
            "reasoning": { "effort": null, "summary": null },
            "service_tier": "default",
            "store": get("store", json!(true)),
            "temperature": get("temperature", json!(1.0)),
            "text": get("text", json!({ "format": { "type": "text" } })),
            "tool_choice": get("tool_choice", json!("auto")),
            "tools": get("tools", json!([])),
            "top_p": get("top_p", json!(1.0)),
            "truncation": get("truncation", json!("disabled")),
            "usage": usage,
            "user": get("user", Value::Null),
            "metadata": get("metadata", json!({})),
        })
    }

    fn responses_json(&self, content: &Content) -> Value {
        let id = format!("resp_{}", self.state.hex(48));
        let items = self.responses_items(content);
        self.response_object(&id, unix_now(), "completed", items)
    }

    fn responses_sse(&self, content: &Content) -> Vec<String> {
        let id = format!("resp_{}", self.state.hex(48));
        let created = unix_now();
        let items = self.responses_items(content);
        let mut seq = 0u64;
        let mut ev = Vec::new();
        let mut push = |mut data: Value| {
            let ty = data["type"].as_str().expect("event type").to_string();
            data["sequence_number"] = json!(seq);
            seq += 1;
            ev.push(sse_named(&ty, &data));
        };
        let in_progress = self.response_object(&id, created, "in_progress", Vec::new());
        push(json!({ "type": "response.created", "response": in_progress }));
        push(json!({ "type": "response.in_progress", "response": in_progress }));
        for (i, item) in items.iter().enumerate() {
            let item_id = item["id"].clone();
            let mut added = item.clone();
            added["status"] = json!("in_progress");
            match content {
                Content::Text(chunks) => {
                    added["content"] = json!([]);
                    push(
                        json!({ "type": "response.output_item.added", "output_index": i, "item": added }),
                    );
                    let part = |text: &str| json!({ "type": "output_text", "annotations": [], "logprobs": [], "text": text });
                    push(json!({
                        "type": "response.content_part.added",
                        "item_id": item_id, "output_index": i, "content_index": 0,
                        "part": part(""),
                    }));
                    for c in chunks {
                        push(json!({
                            "type": "response.output_text.delta",
                            "item_id": item_id, "output_index": i, "content_index": 0,
                            "delta": c, "logprobs": [],
                        }));
                    }
                    let text = chunks.concat();
                    push(json!({
                        "type": "response.output_text.done",
                        "item_id": item_id, "output_index": i, "content_index": 0,
                        "text": text, "logprobs": [],
                    }));
                    push(json!({
                        "type": "response.content_part.done",
                        "item_id": item_id, "output_index": i, "content_index": 0,
                        "part": part(&text),
                    }));
                }
                Content::Tools(_) => {
                    let arguments = item["arguments"].as_str().unwrap_or("").to_string();
                    added["arguments"] = json!("");
                    push(
                        json!({ "type": "response.output_item.added", "output_index": i, "item": added }),
                    );
                    for part in fragments(&arguments, ARG_FRAGMENT) {
                        push(json!({
                            "type": "response.function_call_arguments.delta",
                            "item_id": item_id, "output_index": i, "delta": part,
                        }));
                    }
                    push(json!({
                        "type": "response.function_call_arguments.done",
                        "item_id": item_id, "output_index": i, "arguments": arguments,
                    }));
                }
            }
            push(json!({ "type": "response.output_item.done", "output_index": i, "item": item }));
        }
        let done = self.response_object(&id, created, "completed", items.clone());
        push(json!({ "type": "response.completed", "response": done }));
        ev
    }
}

/// Anthropic `tool_use.input`: the arguments as a JSON object (`{}` when the
/// scripted arguments are not one).
fn tool_input(arguments: &str) -> Value {
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_words_keeps_whitespace_with_the_next_word() {
        assert_eq!(split_words("a b  c"), vec!["a", " b", "  c"]);
        assert_eq!(split_words(" lead"), vec![" lead"]);
        assert!(split_words("").is_empty());
        assert_eq!(split_words("x").concat(), "x");
    }

    #[test]
    fn fragments_respect_char_boundaries() {
        assert_eq!(fragments("ééééé", 2), vec!["éé", "éé", "é"]);
        assert!(fragments("", 3).is_empty());
    }

    #[test]
    fn mask_key_keeps_head_and_tail() {
        assert_eq!(mask_key("sk-wrong-key-1234"), "sk-**********1234");
        assert_eq!(mask_key("short"), "*****");
    }

    #[test]
    fn input_text_finds_last_user_or_tool_text() {
        let anthropic = json!({
            "system": "be brief",
            "messages": [
                { "role": "user", "content": "first" },
                { "role": "assistant", "content": "ok" },
                { "role": "user", "content": [
                    { "type": "tool_result", "tool_use_id": "t", "content": "42 degrees" }
                ] },
            ],
        });
        let (last, all) = input_text(Api::Anthropic, &anthropic);
        assert_eq!(last, "42 degrees");
        assert_eq!(
            all,
            "be brief".len() + "first".len() + "ok".len() + "42 degrees".len()
        );

        let chat = json!({ "messages": [
            { "role": "system", "content": "sys" },
            { "role": "user", "content": [{ "type": "text", "text": "hi there" }] },
        ] });
        assert_eq!(input_text(Api::Chat, &chat).0, "hi there");

        let responses = json!({ "input": "plain" });
        assert_eq!(input_text(Api::Responses, &responses).0, "plain");
        let responses = json!({ "input": [
            { "role": "user", "content": [{ "type": "input_text", "text": "q" }] },
            { "type": "function_call_output", "call_id": "c", "output": "result" },
        ] });
        assert_eq!(input_text(Api::Responses, &responses).0, "result");
    }

    #[test]
    fn ids_are_unique_and_shaped() {
        let st = State {
            queue: Mutex::new(VecDeque::new()),
            api_key: Mutex::new(None),
            requests: Mutex::new(Vec::new()),
            seed: 7,
            counter: AtomicU64::new(0),
        };
        let a = st.alnum(22);
        let b = st.alnum(22);
        assert_ne!(a, b);
        assert_eq!(a.len(), 22);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric()));
        assert!(st.hex(48).chars().all(|c| c.is_ascii_hexdigit()));
    }
}
