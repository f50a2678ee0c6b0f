//! The admin API client: builds requests (bearer token, impersonation headers),
//! sends them through a [`Transport`], and turns error answers into typed
//! Kubernetes `Status` errors.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT};
use http::{Method, Request, Response};
use http_body_util::{BodyExt, Full, Limited};
use serde_json::Value;

use crate::config::{ClientConfig, Origin};

/// How long one request may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Largest answer accepted.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Sends one HTTP request and collects the whole answer.
pub trait Transport: Send + Sync {
    /// Sends `request` (with an absolute URI).
    fn send(&self, request: Request<Vec<u8>>) -> BoxFuture<'_, Result<Response<Vec<u8>>, String>>;
}

/// HTTP and HTTPS transport (rustls with the system's root certificates,
/// through `palisade-net`), for identity providers, whose issuers are HTTPS
/// outside loopback test setups.
#[derive(Default)]
pub struct WebTransport {
    clients: palisade_net::Clients<Full<Bytes>>,
}

impl Transport for WebTransport {
    fn send(&self, request: Request<Vec<u8>>) -> BoxFuture<'_, Result<Response<Vec<u8>>, String>> {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let request = Request::from_parts(parts, Full::new(Bytes::from(body)));
            let response = tokio::time::timeout(REQUEST_TIMEOUT, self.clients.request(request))
                .await
                .map_err(|_| format!("no answer within {}s", REQUEST_TIMEOUT.as_secs()))?
                .map_err(|e| error_chain(&e))?;
            let (parts, body) = response.into_parts();
            let bytes = Limited::new(body, MAX_RESPONSE_BYTES)
                .collect()
                .await
                .map_err(|e| format!("reading the answer failed: {e}"))?
                .to_bytes();
            Ok(Response::from_parts(parts, bytes.to_vec()))
        })
    }
}

/// A transport shared by several users (the `login` command talks to the
/// server and to the identity provider through one).
#[derive(Clone)]
pub struct SharedTransport(pub std::sync::Arc<dyn Transport>);

impl Transport for SharedTransport {
    fn send(&self, request: Request<Vec<u8>>) -> BoxFuture<'_, Result<Response<Vec<u8>>, String>> {
        self.0.send(request)
    }
}

/// An error and its causes, `a: b: c`.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// A Kubernetes `Status` error answered by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusError {
    /// HTTP status code.
    pub code: u16,
    /// Kubernetes reason (`Forbidden`, `NotFound`, ...); empty when unknown.
    pub reason: String,
    /// The server's message.
    pub message: String,
}

impl StatusError {
    /// Reads an error answer: a `Status` body when there is one, else a `Status`
    /// made up from the HTTP code and the body text.
    pub fn from_response(code: u16, body: &[u8]) -> StatusError {
        if let Ok(v) = serde_json::from_slice::<Value>(body)
            && v.get("kind").and_then(Value::as_str) == Some("Status")
        {
            let text = |k: &str| {
                v.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let code = v
                .get("code")
                .and_then(Value::as_u64)
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(code);
            let mut reason = text("reason");
            if reason.is_empty() {
                reason = reason_for(code).to_string();
            }
            let mut message = text("message");
            if message.is_empty() {
                message = default_message(code);
            }
            return StatusError {
                code,
                reason,
                message,
            };
        }
        let body = String::from_utf8_lossy(body);
        let body = body.trim();
        let message = if body.is_empty() || body.len() > 500 {
            default_message(code)
        } else {
            body.to_string()
        };
        StatusError {
            code,
            reason: reason_for(code).to_string(),
            message,
        }
    }

    /// Whether this is a 404 `NotFound`.
    pub fn is_not_found(&self) -> bool {
        self.code == 404
    }
}

impl fmt::Display for StatusError {
    /// kubectl's form: `Error from server (NotFound): message`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reason.is_empty() {
            write!(f, "Error from server: {}", self.message)
        } else {
            write!(f, "Error from server ({}): {}", self.reason, self.message)
        }
    }
}

/// The Kubernetes reason for an HTTP status code.
pub fn reason_for(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "Conflict",
        410 => "Expired",
        413 => "RequestEntityTooLarge",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "",
    }
}

fn default_message(code: u16) -> String {
    match code {
        404 => "the server could not find the requested resource".into(),
        401 => "the server has asked for the client to provide credentials".into(),
        403 => "the server does not allow access to the requested resource".into(),
        _ => format!("the server answered HTTP {code}"),
    }
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The server answered with an error `Status`.
    Status(StatusError),
    /// The server could not be reached or the exchange broke off.
    Connection {
        /// The server URL.
        server: String,
        /// Where that URL came from.
        origin: String,
        /// What went wrong.
        message: String,
    },
    /// The server answered something that is not the expected JSON.
    BadResponse {
        /// What was wrong with it.
        message: String,
    },
    /// The request could not be built (bad server URL, token with invalid characters).
    Request {
        /// What is wrong and how to fix it.
        message: String,
    },
}

impl ClientError {
    /// The `Status` error, when the server answered one.
    pub fn status(&self) -> Option<&StatusError> {
        match self {
            ClientError::Status(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the server said the object does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status().is_some_and(StatusError::is_not_found)
    }
}

impl fmt::Display for ClientError {
    /// The line kubectl would print (the `error: ` prefix included for errors not
    /// from the server).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Status(s) if s.code == 401 => write!(
                f,
                "error: You must be logged in to the server (Unauthorized): {}",
                s.message
            ),
            ClientError::Status(s) => s.fmt(f),
            ClientError::Connection {
                server,
                origin,
                message,
            } => {
                if message.to_ascii_lowercase().contains("connection refused") {
                    write!(
                        f,
                        "The connection to the server {server} was refused - did you specify the right host or port? \
                         (server from {origin}; is `palisade run` running? its admin listener is --admin-addr, default 127.0.0.1:15000)"
                    )
                } else {
                    write!(
                        f,
                        "error: cannot reach the server {server} (from {origin}): {message}; check the address and that `palisade run` is running"
                    )
                }
            }
            ClientError::BadResponse { message } => write!(f, "error: {message}"),
            ClientError::Request { message } => write!(f, "error: {message}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// Who to act as (`--as`, `--as-group`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Impersonation {
    /// `Impersonate-User`.
    pub user: Option<String>,
    /// `Impersonate-Group`, repeated.
    pub groups: Vec<String>,
}

/// An admin API client.
pub struct ApiClient {
    base: String,
    origin: String,
    token: Option<String>,
    impersonate: Impersonation,
    transport: Box<dyn Transport>,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("base", &self.base)
            .field("origin", &self.origin)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("impersonate", &self.impersonate)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// A client for `config` over plain HTTP.
    pub fn new(
        config: &ClientConfig,
        impersonate: Impersonation,
    ) -> Result<ApiClient, ClientError> {
        ApiClient::with_transport(config, impersonate, Box::new(WebTransport::default()))
    }

    /// A client for `config` over `transport` (tests pass a fake).
    pub fn with_transport(
        config: &ClientConfig,
        impersonate: Impersonation,
        transport: Box<dyn Transport>,
    ) -> Result<ApiClient, ClientError> {
        let origin = match &config.origin {
            Origin::Flags => "the --server flag".to_string(),
            Origin::File { path, .. } => path.display().to_string(),
        };
        let base = check_server_url(&config.server).map_err(|message| ClientError::Request {
            message: format!("server {:?} (from {origin}): {message}", config.server),
        })?;
        if let Some(token) = &config.token
            && HeaderValue::from_str(&format!("Bearer {token}")).is_err()
        {
            return Err(ClientError::Request {
                message: format!(
                    "the token (from {origin}) contains characters not allowed in an HTTP header; copy it again without line breaks or spaces"
                ),
            });
        }
        Ok(ApiClient {
            base,
            origin,
            token: config.token.clone(),
            impersonate,
            transport,
        })
    }

    /// The server's base URL, without a trailing `/`.
    pub fn server(&self) -> &str {
        &self.base
    }

    /// Builds a request for `path` (absolute path with query) with the auth and
    /// impersonation headers; `body` is sent as JSON.
    pub fn build_request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Request<Vec<u8>>, ClientError> {
        let bad = |message: String| ClientError::Request { message };
        let mut builder = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header(ACCEPT, "application/json")
            .header(USER_AGENT, concat!("palisade/", env!("CARGO_PKG_VERSION")));
        if let Some(token) = &self.token {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                bad("the token contains characters not allowed in an HTTP header".into())
            })?;
            value.set_sensitive(true);
            builder = builder.header(AUTHORIZATION, value);
        }
        let header = |name: &str, value: &str| {
            HeaderValue::from_str(value).map_err(|_| {
                bad(format!(
                    "{value:?} cannot be sent in the {name} header; use printable ASCII"
                ))
            })
        };
        if let Some(user) = &self.impersonate.user {
            builder = builder.header(
                HeaderName::from_static("impersonate-user"),
                header("Impersonate-User", user)?,
            );
        }
        for group in &self.impersonate.groups {
            builder = builder.header(
                HeaderName::from_static("impersonate-group"),
                header("Impersonate-Group", group)?,
            );
        }
        let bytes = match body {
            Some(v) => {
                builder = builder.header(CONTENT_TYPE, "application/json");
                serde_json::to_vec(v).map_err(|e| bad(format!("cannot encode the request: {e}")))?
            }
            None => Vec::new(),
        };
        builder
            .body(bytes)
            .map_err(|e| bad(format!("cannot build a request for {path}: {e}")))
    }

    /// Sends a request and returns the JSON answer (`Null` for an empty one).
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ClientError> {
        let request = self.build_request(method.clone(), path, body)?;
        let response =
            self.transport
                .send(request)
                .await
                .map_err(|message| ClientError::Connection {
                    server: self.base.clone(),
                    origin: self.origin.clone(),
                    message,
                })?;
        let code = response.status().as_u16();
        let bytes = response.into_body();
        if !(200..300).contains(&code) {
            return Err(ClientError::Status(StatusError::from_response(
                code, &bytes,
            )));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).map_err(|e| ClientError::BadResponse {
            message: format!(
                "the server's answer to {method} {path} is not JSON ({e}); is {} a Palisade admin address?",
                self.base
            ),
        })
    }

    /// `GET`.
    pub async fn get(&self, path: &str) -> Result<Value, ClientError> {
        self.request(Method::GET, path, None).await
    }

    /// `POST` a JSON body.
    pub async fn post(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.request(Method::POST, path, Some(body)).await
    }

    /// `PUT` a JSON body.
    pub async fn put(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.request(Method::PUT, path, Some(body)).await
    }

    /// `DELETE`.
    pub async fn delete(&self, path: &str) -> Result<Value, ClientError> {
        self.request(Method::DELETE, path, None).await
    }
}

/// Checks a server URL and returns it without a trailing `/`.
pub fn check_server_url(server: &str) -> Result<String, String> {
    let trimmed = server.trim().trim_end_matches('/');
    if let Some(rest) = trimmed.strip_prefix("https://") {
        let _ = rest;
        return Err(
            "https servers are not supported yet; the admin API is plain HTTP on a loopback address, use http://HOST:PORT"
                .into(),
        );
    }
    let Some(rest) = trimmed.strip_prefix("http://") else {
        return Err("expected a URL like http://127.0.0.1:15000".into());
    };
    let authority = rest.split('/').next().unwrap_or_default();
    if authority.is_empty() || authority.contains(['?', '#', '@']) {
        return Err("expected a URL like http://127.0.0.1:15000 (host and port, no credentials, query or fragment)".into());
    }
    if rest.contains(['?', '#']) {
        return Err("the URL must not have a query or fragment".into());
    }
    trimmed
        .parse::<http::Uri>()
        .map_err(|e| format!("not a valid URL ({e}); use http://HOST:PORT"))?;
    Ok(trimmed.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn config(token: Option<&str>) -> ClientConfig {
        ClientConfig {
            server: "http://127.0.0.1:15000/".into(),
            token: token.map(str::to_string),
            origin: Origin::File {
                path: PathBuf::from(".palisade/admin.yaml"),
                how: "palisade run state",
            },
        }
    }

    #[test]
    fn requests_carry_token_and_impersonation() {
        let client = ApiClient::new(
            &config(Some("sekret")),
            Impersonation {
                user: Some("system:serviceaccount:kagent:test-reader".into()),
                groups: vec!["a".into(), "b".into()],
            },
        )
        .unwrap();
        let body = serde_json::json!({"kind": "X"});
        let req = client
            .build_request(
                Method::POST,
                "/api/v1/namespaces/kagent/serviceaccounts",
                Some(&body),
            )
            .unwrap();
        assert_eq!(
            req.uri().to_string(),
            "http://127.0.0.1:15000/api/v1/namespaces/kagent/serviceaccounts"
        );
        assert_eq!(req.headers()["authorization"], "Bearer sekret");
        assert!(req.headers()["authorization"].is_sensitive());
        assert_eq!(
            req.headers()["impersonate-user"],
            "system:serviceaccount:kagent:test-reader"
        );
        let groups: Vec<_> = req.headers().get_all("impersonate-group").iter().collect();
        assert_eq!(groups, ["a", "b"]);
        assert_eq!(req.headers()["content-type"], "application/json");
        assert_eq!(req.body(), br#"{"kind":"X"}"#);
        assert!(!format!("{client:?}").contains("sekret"));

        let anonymous = ApiClient::new(&config(None), Impersonation::default()).unwrap();
        let req = anonymous
            .build_request(Method::GET, "/api/v1/namespaces", None)
            .unwrap();
        assert!(req.headers().get("authorization").is_none());
        assert!(req.headers().get("content-type").is_none());
    }

    #[test]
    fn bad_urls_and_tokens_are_refused_without_showing_the_token() {
        let mut c = config(Some("sekret"));
        c.server = "https://127.0.0.1:15000".into();
        let e = ApiClient::new(&c, Impersonation::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("https servers are not supported yet"), "{e}");
        assert!(e.contains(".palisade/admin.yaml"), "{e}");
        c.server = "127.0.0.1:15000".into();
        let e = ApiClient::new(&c, Impersonation::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("http://127.0.0.1:15000"), "{e}");
        let mut c = config(Some("sek\nret"));
        c.server = "http://a:1".into();
        let e = ApiClient::new(&c, Impersonation::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("not allowed in an HTTP header") && !e.contains("sek"),
            "{e}"
        );
        assert_eq!(
            check_server_url("http://a:1/prefix/").unwrap(),
            "http://a:1/prefix"
        );
    }

    #[test]
    fn status_errors_are_parsed() {
        let body = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
            "message":"mcpservers.kagent.dev \"x\" not found","reason":"NotFound","code":404}"#;
        let e = StatusError::from_response(404, body);
        assert_eq!(e.reason, "NotFound");
        assert_eq!(
            e.to_string(),
            "Error from server (NotFound): mcpservers.kagent.dev \"x\" not found"
        );
        let e = StatusError::from_response(404, b"404 page not found");
        assert_eq!(
            e.to_string(),
            "Error from server (NotFound): 404 page not found"
        );
        let e = StatusError::from_response(502, b"");
        assert_eq!(
            e.to_string(),
            "Error from server: the server answered HTTP 502"
        );
        let unauthorized = ClientError::Status(StatusError::from_response(
            401,
            br#"{"kind":"Status","reason":"Unauthorized","message":"no credentials","code":401}"#,
        ));
        assert_eq!(
            unauthorized.to_string(),
            "error: You must be logged in to the server (Unauthorized): no credentials"
        );
        let refused = ClientError::Connection {
            server: "http://127.0.0.1:15000".into(),
            origin: ".palisade/admin.yaml".into(),
            message: "client error (Connect): tcp connect error: Connection refused (os error 111)"
                .into(),
        };
        assert!(refused.to_string().starts_with(
            "The connection to the server http://127.0.0.1:15000 was refused - did you specify the right host or port?"
        ));
    }

    #[tokio::test]
    async fn talks_http_to_a_server() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut sock, _) = listener.accept().await.unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = sock.read(&mut buf).await.unwrap();
                seen.extend_from_slice(&buf[..n]);
            }
            let body = br#"{"kind":"Status","reason":"Forbidden","message":"nope","code":403}"#;
            let head = format!(
                "HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            sock.write_all(head.as_bytes()).await.unwrap();
            sock.write_all(body).await.unwrap();
            String::from_utf8_lossy(&seen).to_string()
        });
        let mut c = config(Some("sekret"));
        c.server = format!("http://{addr}");
        let client = ApiClient::new(
            &c,
            Impersonation {
                user: Some("bob".into()),
                groups: vec![],
            },
        )
        .unwrap();
        let err = client.get("/api/v1/namespaces").await.unwrap_err();
        assert_eq!(err.to_string(), "Error from server (Forbidden): nope");
        let request = server.await.unwrap().to_ascii_lowercase();
        assert!(
            request.starts_with("get /api/v1/namespaces http/1.1"),
            "{request}"
        );
        assert!(
            request.contains("authorization: bearer sekret"),
            "{request}"
        );
        assert!(request.contains("impersonate-user: bob"), "{request}");

        // Nobody listening: kubectl's "connection refused" line.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = closed.local_addr().unwrap();
        drop(closed);
        c.server = format!("http://{addr}");
        let client = ApiClient::new(&c, Impersonation::default()).unwrap();
        let err = client
            .get("/api/v1/namespaces")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("was refused"), "{err}");
        assert!(!err.contains("sekret"));
    }
}
