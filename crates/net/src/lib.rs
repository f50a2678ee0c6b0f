//! The HTTP clients Palisade dials upstreams with: plain HTTP (pooled), and HTTPS
//! (rustls with the ring provider, the system's root certificates, honouring
//! `SSL_CERT_FILE`), built on first use so a configuration without HTTPS
//! upstreams does not load the root store. Generic over the request body type.

pub mod fetch;

use std::sync::OnceLock;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::{Client, Error};
use hyper_util::rt::TokioExecutor;

/// Errors a request body may yield.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Time allowed to open a TCP connection to an upstream.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why an upstream request did not get a response.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The request failed on the way.
    #[error("{0}")]
    Http(#[from] Error),
    /// HTTPS is needed and no TLS client could be built.
    #[error("cannot dial HTTPS: {0}")]
    Tls(String),
}

impl SendError {
    /// Whether the connection could not be opened.
    pub fn is_connect(&self) -> bool {
        match self {
            SendError::Http(e) => e.is_connect(),
            SendError::Tls(_) => true,
        }
    }
}

/// Plain and TLS upstream clients for request bodies of type `B`.
pub struct Clients<B> {
    plain: Client<HttpConnector, B>,
    tls: OnceLock<Result<Client<HttpsConnector<HttpConnector>, B>, String>>,
}

fn connector() -> HttpConnector {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(CONNECT_TIMEOUT));
    connector.set_nodelay(true);
    connector
}

impl<B> Default for Clients<B>
where
    B: http_body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<B> Clients<B>
where
    B: http_body::Body + Send + Unpin + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    /// Clients with pooled connections.
    pub fn new() -> Clients<B> {
        let plain = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(256)
            .build(connector());
        Clients {
            plain,
            tls: OnceLock::new(),
        }
    }

    /// The plain HTTP client.
    pub fn plain(&self) -> &Client<HttpConnector, B> {
        &self.plain
    }

    fn tls(&self) -> Result<&Client<HttpsConnector<HttpConnector>, B>, SendError> {
        self.tls
            .get_or_init(|| {
                let mut http = connector();
                http.enforce_http(false);
                let https = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_native_roots()
                    .map_err(|e| format!("no root certificates: {e}"))?
                    .https_only()
                    .enable_http1()
                    .wrap_connector(http);
                Ok(Client::builder(TokioExecutor::new())
                    .pool_idle_timeout(Duration::from_secs(90))
                    .build(https))
            })
            .as_ref()
            .map_err(|e| SendError::Tls(e.clone()))
    }

    /// Sends `req` over HTTPS when its URI says `https`, else over plain HTTP.
    pub async fn request(&self, req: Request<B>) -> Result<Response<Incoming>, SendError> {
        if req.uri().scheme_str() == Some("https") {
            Ok(self.tls()?.request(req).await?)
        } else {
            Ok(self.plain.request(req).await?)
        }
    }
}
