//! A test upstream: an HTTP server on a random loopback port.
//!
//! It speaks HTTP/1.1 and h2c (prior knowledge), runs on its own thread with
//! its own Tokio runtime (so it works from sync tests and from any async
//! runtime), and records every request it received. Request bodies are always
//! consumed as a stream and only counted and checksummed, so bodies of
//! hundreds of MB cost no memory.
//!
//! Routes (all drain the request body first, then answer):
//!
//! | route | answer |
//! |---|---|
//! | `/echo` (and any unknown path) | JSON: `upstream`, `method`, `uri`, `path`, `query`, `version`, `headers` (lowercase name → values joined by `", "`), `body_len`, `body_checksum` |
//! | `/stream?chunks=N&size=S&delay_ms=D` | `N` chunks of `S` [pattern](crate::pattern) bytes (defaults 4, 1024, 0), chunked encoding, `D` ms between chunks; headers `x-expected-length`, `x-expected-checksum` |
//! | `/sse?events=N&delay_ms=D` | `text/event-stream` with `N` events (`id: i`, `data: {"n":i}`), `D` ms apart (defaults 3, 0) |
//! | `/slow?ms=M` | the `/echo` answer after `M` ms |
//! | `/status/{code}` | that status, JSON `{"status": code}` (no body for 1xx, 204, 304) |
//! | `/upload` | JSON `{"body_len", "body_checksum"}` |
//!
//! Every response carries `x-upstream: <name>` (`upstream` unless started with
//! [`Upstream::start_named`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http::{HeaderMap, Method, Request, Response, StatusCode, Version, header};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::{Map, Value, json};

use crate::pattern::{self, Checksum};
use crate::server_thread::ServerThread;

type ResBody = BoxBody<Bytes, Infallible>;

/// One request as the upstream received it.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// Request method.
    pub method: Method,
    /// Path and query, as received (e.g. `/echo?a=1`).
    pub uri: String,
    /// HTTP version.
    pub version: Version,
    /// Request headers.
    pub headers: HeaderMap,
    /// Number of body bytes received.
    pub body_len: u64,
    /// Checksum of the body ([`Checksum::hex`]).
    pub body_checksum: String,
}

impl RecordedRequest {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.uri.split('?').next().unwrap_or("")
    }

    /// The first value of header `name` as a string, if present and valid.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

struct State {
    name: String,
    requests: Mutex<Vec<RecordedRequest>>,
    connections: AtomicU64,
}

/// A running test upstream; stops when dropped.
pub struct Upstream {
    addr: SocketAddr,
    state: Arc<State>,
    _server: ServerThread,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("name", &self.state.name)
            .field("addr", &self.addr)
            .finish()
    }
}

impl Upstream {
    /// Starts an upstream named `upstream` on `127.0.0.1:0`.
    pub fn start() -> Upstream {
        Self::start_named("upstream")
    }

    /// Starts an upstream whose responses carry `x-upstream: <name>` (to tell
    /// several upstreams apart).
    pub fn start_named(name: &str) -> Upstream {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).expect("set_nonblocking");
        let addr = listener.local_addr().expect("local_addr");
        let state = Arc::new(State {
            name: name.to_string(),
            requests: Mutex::new(Vec::new()),
            connections: AtomicU64::new(0),
        });
        let st = state.clone();
        let server = ServerThread::spawn(format!("upstream-{name}"), listener, move |listener| {
            accept_loop(listener, st)
        });
        Upstream {
            addr,
            state,
            _server: server,
        }
    }

    /// The listening address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The name given at start.
    pub fn name(&self) -> &str {
        &self.state.name
    }

    /// All requests received so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The most recent request, if any.
    pub fn last_request(&self) -> Option<RecordedRequest> {
        self.state.requests.lock().unwrap().last().cloned()
    }

    /// Number of requests received so far.
    pub fn request_count(&self) -> usize {
        self.state.requests.lock().unwrap().len()
    }

    /// Forgets the recorded requests.
    pub fn clear(&self) {
        self.state.requests.lock().unwrap().clear();
    }

    /// Number of TCP connections accepted so far (to check connection reuse).
    pub fn connections(&self) -> u64 {
        self.state.connections.load(Ordering::Relaxed)
    }
}

async fn accept_loop(listener: tokio::net::TcpListener, state: Arc<State>) {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(s) => s,
            Err(_) => {
                // Out of file descriptors or similar: back off and retry.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        state.connections.fetch_add(1, Ordering::Relaxed);
        let st = state.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| handle(st.clone(), req));
            let _ = auto::Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn query_param<T: std::str::FromStr>(query: &str, key: &str, default: T) -> T {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(default)
}

fn full(status: StatusCode, content_type: &str, body: impl Into<Bytes>) -> Response<ResBody> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Full::new(body.into()).boxed())
        .expect("valid response")
}

fn json_response(status: StatusCode, v: &Value) -> Response<ResBody> {
    full(
        status,
        "application/json",
        serde_json::to_vec(v).expect("JSON"),
    )
}

fn headers_json(headers: &HeaderMap) -> Value {
    let mut map = Map::new();
    for name in headers.keys() {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        map.insert(name.as_str().to_string(), Value::String(values.join(", ")));
    }
    Value::Object(map)
}

async fn handle(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<ResBody>, Infallible> {
    let (parts, mut body) = req.into_parts();
    let mut sum = Checksum::new();
    // Count and checksum the body frame by frame; a broken body just ends early.
    while let Some(Ok(frame)) = body.frame().await {
        if let Ok(data) = frame.into_data() {
            sum.update(&data);
        }
    }
    let uri = parts
        .uri
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let rec = RecordedRequest {
        method: parts.method.clone(),
        uri: uri.clone(),
        version: parts.version,
        headers: parts.headers.clone(),
        body_len: sum.len(),
        body_checksum: sum.hex(),
    };
    state.requests.lock().unwrap().push(rec);

    let echo = || {
        json!({
            "upstream": state.name,
            "method": parts.method.as_str(),
            "uri": uri,
            "path": path,
            "query": query,
            "version": format!("{:?}", parts.version),
            "headers": headers_json(&parts.headers),
            "body_len": sum.len(),
            "body_checksum": sum.hex(),
        })
    };

    let mut res = if path == "/stream" {
        stream_response(&query)
    } else if path == "/sse" {
        sse_response(&query)
    } else if path == "/slow" {
        let ms: u64 = query_param(&query, "ms", 1000);
        tokio::time::sleep(Duration::from_millis(ms)).await;
        json_response(StatusCode::OK, &echo())
    } else if let Some(code) = path.strip_prefix("/status/") {
        match code
            .parse::<u16>()
            .ok()
            .and_then(|c| StatusCode::from_u16(c).ok())
        {
            Some(status)
                if status.is_informational()
                    || status == StatusCode::NO_CONTENT
                    || status == StatusCode::NOT_MODIFIED =>
            {
                let mut r = Response::new(http_body_util::Empty::new().boxed());
                *r.status_mut() = status;
                r
            }
            Some(status) => json_response(status, &json!({ "status": status.as_u16() })),
            None => json_response(
                StatusCode::BAD_REQUEST,
                &json!({ "error": format!("not a status code: {code}") }),
            ),
        }
    } else if path == "/upload" {
        json_response(
            StatusCode::OK,
            &json!({ "body_len": sum.len(), "body_checksum": sum.hex() }),
        )
    } else {
        json_response(StatusCode::OK, &echo())
    };
    if let Ok(v) = http::HeaderValue::from_str(&state.name) {
        res.headers_mut().insert("x-upstream", v);
    }
    Ok(res)
}

fn stream_response(query: &str) -> Response<ResBody> {
    let chunks: u64 = query_param(query, "chunks", 4);
    let size: usize = query_param(query, "size", 1024);
    let delay = Duration::from_millis(query_param(query, "delay_ms", 0));
    let total = chunks * size as u64;
    let frames = stream::unfold(0u64, move |i| async move {
        if i >= chunks || size == 0 {
            return None;
        }
        if i > 0 && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let data = pattern::chunk(i * size as u64, size);
        Some((Ok::<_, Infallible>(Frame::data(data)), i + 1))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header("x-expected-length", total.to_string())
        .header("x-expected-checksum", pattern::checksum(total))
        .body(StreamBody::new(frames).boxed())
        .expect("valid response")
}

fn sse_response(query: &str) -> Response<ResBody> {
    let events: u64 = query_param(query, "events", 3);
    let delay = Duration::from_millis(query_param(query, "delay_ms", 0));
    let frames = stream::unfold(0u64, move |i| async move {
        if i >= events {
            return None;
        }
        if i > 0 && !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let event = format!("id: {i}\ndata: {{\"n\":{i}}}\n\n");
        Some((Ok::<_, Infallible>(Frame::data(Bytes::from(event))), i + 1))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(StreamBody::new(frames).boxed())
        .expect("valid response")
}
