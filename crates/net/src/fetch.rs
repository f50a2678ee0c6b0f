//! Small JSON documents fetched from identity providers and key servers
//! (OIDC discovery, JWKS): bounded in size and time, HTTPS or plain HTTP.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};

use crate::Clients;

/// Largest document read.
pub const MAX_DOCUMENT: usize = 512 * 1024;
/// Time a server gets to answer.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Fetches documents with pooled connections.
#[derive(Default)]
pub struct DocumentFetcher {
    clients: Clients<Full<Bytes>>,
}

impl DocumentFetcher {
    /// `GET url` answering 200, its body; otherwise why not (never with
    /// credentials: these requests carry none).
    pub async fn get(&self, url: &str) -> Result<Vec<u8>, String> {
        let uri: Uri = url.parse().map_err(|_| format!("{url:?} is not a URL"))?;
        let req = Request::get(uri)
            .header("accept", "application/json")
            .body(Full::new(Bytes::new()))
            .map_err(|e| format!("{url}: {e}"))?;
        let response = tokio::time::timeout(FETCH_TIMEOUT, self.clients.request(req))
            .await
            .map_err(|_| format!("{url} did not answer within {FETCH_TIMEOUT:?}"))?
            .map_err(|e| format!("{url}: {e}"))?;
        if response.status() != StatusCode::OK {
            return Err(format!("{url} answered {}", response.status()));
        }
        let body = Limited::new(response.into_body(), MAX_DOCUMENT)
            .collect()
            .await
            .map_err(|_| {
                format!("{url}: the document is larger than {MAX_DOCUMENT} bytes or broke off")
            })?;
        Ok(body.to_bytes().to_vec())
    }
}
