//! JSON over HTTP to the gateway, with the agent's bearer token.

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use palisade_mcp::http::HttpClient;
use serde_json::Value;

/// POSTs `body` to `url` with `token` (and `headers`); the status and at
/// most `limit` bytes of the answer. `what` names the peer in errors.
pub async fn post(
    client: &HttpClient,
    url: &str,
    token: &str,
    headers: &[(&'static str, &'static str)],
    body: &Value,
    limit: usize,
    what: &str,
) -> Result<(StatusCode, Bytes), String> {
    let mut request = Request::post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(AUTHORIZATION, format!("Bearer {token}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| format!("cannot build the request to {what}: {e}"))?;
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("cannot reach {what} through the gateway: {e}"))?;
    let status = response.status();
    let bytes = Limited::new(response.into_body(), limit)
        .collect()
        .await
        .map_err(|e| format!("cannot read the answer of {what}: {e}"))?
        .to_bytes();
    Ok((status, bytes))
}

/// The start of an answer, for error messages.
pub fn excerpt(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(500)]).into_owned()
}
