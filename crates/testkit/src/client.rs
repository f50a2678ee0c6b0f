//! A small async HTTP client for tests, on the hyper-util legacy client.
//!
//! Plain `http://` only (HTTP/1.1, or h2c with [`Client::http2_only`]). Every
//! request has a timeout (60 s by default) so a hung gateway fails a test
//! instead of hanging it.
//!
//! ```no_run
//! # async fn demo() {
//! let res = palisade_testkit::client::get("http://127.0.0.1:8080/echo").await.unwrap();
//! assert_eq!(res.status, 200);
//! let json = res.json();
//! # }
//! ```

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream;
use http::{HeaderMap, Request, StatusCode, Version};
use http_body_util::{BodyExt, Empty, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::client::legacy::{Client as Legacy, connect::HttpConnector};
use hyper_util::rt::TokioExecutor;

use crate::pattern::{self, Checksum};

/// Boxed error type used by the client helpers.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Request body accepted by the client: empty, in memory, or streamed.
///
/// Build one with [`Body::empty`], [`Body::full`], [`Body::json`],
/// [`Body::pattern`] (or the same functions in [`body`]), `From` a
/// `String`/`Vec<u8>`/`Bytes`/`&'static str`, or [`Body::wrap`] any other body.
pub struct Body(BoxBody<Bytes, BoxError>);

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Body").field(&self.0.size_hint()).finish()
    }
}

impl Body {
    /// An empty body.
    pub fn empty() -> Body {
        Body(Empty::<Bytes>::new().map_err(|e| match e {}).boxed())
    }

    /// A body made of `data`.
    pub fn full(data: impl Into<Bytes>) -> Body {
        Body(Full::new(data.into()).map_err(|e| match e {}).boxed())
    }

    /// A JSON body.
    pub fn json(value: &serde_json::Value) -> Body {
        Body::full(serde_json::to_vec(value).expect("serialize JSON"))
    }

    /// A streamed body of `len` [pattern](crate::pattern) bytes, produced in
    /// chunks of `chunk_size` bytes, never held in memory whole. Its checksum is
    /// [`pattern::checksum(len)`](crate::pattern::checksum).
    pub fn pattern(len: u64, chunk_size: usize) -> Body {
        assert!(chunk_size > 0, "chunk_size must be positive");
        let frames = stream::unfold(0u64, move |offset| async move {
            if offset >= len {
                return None;
            }
            let n = ((len - offset) as usize).min(chunk_size);
            let data = pattern::chunk(offset, n);
            Some((Ok::<_, BoxError>(Frame::data(data)), offset + n as u64))
        });
        Body(StreamBody::new(frames).boxed())
    }

    /// Wraps any body (e.g. a `StreamBody` of your own frames).
    pub fn wrap<B>(body: B) -> Body
    where
        B: HttpBody<Data = Bytes> + Send + Sync + 'static,
        B::Error: Into<BoxError>,
    {
        Body(body.map_err(Into::into).boxed())
    }
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        Pin::new(&mut self.0).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}

impl From<Bytes> for Body {
    fn from(b: Bytes) -> Body {
        Body::full(b)
    }
}

impl From<Vec<u8>> for Body {
    fn from(b: Vec<u8>) -> Body {
        Body::full(b)
    }
}

impl From<String> for Body {
    fn from(s: String) -> Body {
        Body::full(s)
    }
}

impl From<&'static str> for Body {
    fn from(s: &'static str) -> Body {
        Body::full(s)
    }
}

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Returns a port that was free a moment ago on 127.0.0.1 (bind to port 0,
/// read the port, release it).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local_addr").port()
}

/// Request body constructors as free functions (same as [`Body`]'s).
pub mod body {
    use super::Body;
    use bytes::Bytes;

    /// An empty body.
    pub fn empty() -> Body {
        Body::empty()
    }

    /// A body made of `data`.
    pub fn full(data: impl Into<Bytes>) -> Body {
        Body::full(data)
    }

    /// A JSON body.
    pub fn json(value: &serde_json::Value) -> Body {
        Body::json(value)
    }

    /// A streamed [pattern](crate::pattern) body; see [`Body::pattern`].
    pub fn pattern(len: u64, chunk_size: usize) -> Body {
        Body::pattern(len, chunk_size)
    }
}

/// A response with its body read whole.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: StatusCode,
    /// HTTP version of the response.
    pub version: Version,
    /// Response headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Bytes,
}

impl Response {
    /// The body as UTF-8 text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON; panics with the body text if it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response body is not JSON ({e}); status {}, body: {}",
                self.status,
                self.text()
            )
        })
    }

    /// The first value of header `name` as a string, if present and valid.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What [`read_streaming`] saw of a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodySummary {
    /// Number of body bytes.
    pub len: u64,
    /// Checksum of the body ([`Checksum::hex`]).
    pub checksum: String,
    /// Number of data frames received.
    pub frames: u64,
}

/// Reads a response body frame by frame without keeping it, returning its
/// length, checksum and frame count.
pub async fn read_streaming(mut body: Incoming) -> Result<BodySummary, BoxError> {
    let mut sum = Checksum::new();
    let mut frames = 0;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            sum.update(&data);
            frames += 1;
        }
    }
    Ok(BodySummary {
        len: sum.len(),
        checksum: sum.hex(),
        frames,
    })
}

/// A reusable client (keeps connections alive between requests).
///
/// Create it inside the runtime that will use it: its pooled connections live
/// on that runtime.
#[derive(Clone, Debug)]
pub struct Client {
    inner: Legacy<HttpConnector, Body>,
    timeout: Duration,
}

impl Default for Client {
    fn default() -> Self {
        Self::new()
    }
}

impl Client {
    /// An HTTP/1.1 client.
    pub fn new() -> Client {
        Self::build(false)
    }

    /// An HTTP/2 client with prior knowledge (h2c).
    pub fn http2_only() -> Client {
        Self::build(true)
    }

    fn build(h2: bool) -> Client {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let inner = Legacy::builder(TokioExecutor::new())
            .http2_only(h2)
            .build(connector);
        Client {
            inner,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Replaces the per-request timeout (covers the whole exchange for
    /// [`Client::send`], up to the response head for [`Client::send_streaming`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Client {
        self.timeout = timeout;
        self
    }

    /// `GET url`.
    pub async fn get(&self, url: &str) -> Result<Response, BoxError> {
        self.send(
            Request::get(url)
                .body(body::empty())
                .map_err(|e| -> BoxError { Box::new(e) })?,
        )
        .await
    }

    /// Sends `req` and reads the response body whole.
    pub async fn send(&self, req: Request<Body>) -> Result<Response, BoxError> {
        let fut = async {
            let res = self.inner.request(req).await?;
            let (parts, body) = res.into_parts();
            let body = body.collect().await?.to_bytes();
            Ok::<_, BoxError>(Response {
                status: parts.status,
                version: parts.version,
                headers: parts.headers,
                body,
            })
        };
        match tokio::time::timeout(self.timeout, fut).await {
            Ok(r) => r,
            Err(_) => Err(format!("request timed out after {:?}", self.timeout).into()),
        }
    }

    /// Sends `req` and returns as soon as the response head arrives; read the
    /// body with [`read_streaming`] or `http_body_util::BodyExt`.
    pub async fn send_streaming(
        &self,
        req: Request<Body>,
    ) -> Result<http::Response<Incoming>, BoxError> {
        match tokio::time::timeout(self.timeout, self.inner.request(req)).await {
            Ok(r) => Ok(r?),
            Err(_) => Err(format!("no response head after {:?}", self.timeout).into()),
        }
    }
}

/// `GET url` with a fresh HTTP/1.1 client.
pub async fn get(url: &str) -> Result<Response, BoxError> {
    Client::new().get(url).await
}

/// Sends `req` with a fresh HTTP/1.1 client and reads the body whole.
pub async fn send(req: Request<Body>) -> Result<Response, BoxError> {
    Client::new().send(req).await
}

/// Sends `req` with a fresh HTTP/1.1 client, returning at the response head.
pub async fn send_streaming(req: Request<Body>) -> Result<http::Response<Incoming>, BoxError> {
    Client::new().send_streaming(req).await
}
