//! Upstream transports over HTTP: streamable HTTP (one POST per message, answers
//! as JSON or an event stream, `Mcp-Session-Id`) and the legacy HTTP+SSE transport
//! (a GET event stream announcing a POST endpoint).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::StreamExt;
use http::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, BodyStream, Full};
use hyper::body::Incoming;
use palisade_net::Clients;
use tokio::sync::mpsc;

use crate::jsonrpc::{INTERNAL_ERROR, Id, Message};
use crate::pipe::{Inbound, Pipe};
use crate::server::UpstreamHeaders;
use crate::sse;

/// The HTTP client upstream transports share.
pub type HttpClient = Arc<Clients<Full<Bytes>>>;

/// Header carrying the session id (streamable HTTP).
pub const SESSION_HEADER: &str = "mcp-session-id";
/// Header carrying the negotiated protocol version.
pub const VERSION_HEADER: &str = "mcp-protocol-version";
/// Largest JSON response body read from an upstream.
pub const MAX_JSON_BODY: usize = 16 * 1024 * 1024;

/// State shared by the tasks of one streamable-HTTP pipe.
#[derive(Debug, Default)]
struct Shared {
    session: Mutex<Option<HeaderValue>>,
    version: Mutex<Option<HeaderValue>>,
    extra: UpstreamHeaders,
}

/// Opens a streamable-HTTP pipe to `uri`. Nothing is sent until the first message.
/// The GET stream of server-initiated messages is opened only when
/// [`Pipe::open_events`] fires (a client is listening), after initialization, so
/// that a session nobody listens to holds no extra upstream connection.
pub fn streamable(name: String, client: HttpClient, uri: Uri, extra: UpstreamHeaders) -> Pipe {
    let (mut pipe, mut outgoing, incoming) = Pipe::channels();
    let shared = Arc::new(Shared {
        extra,
        ..Shared::default()
    });
    let (open_events, events_wanted) = tokio::sync::oneshot::channel::<()>();
    pipe.open_events = Some(open_events);
    let (initialized_tx, initialized_rx) = tokio::sync::oneshot::channel::<()>();
    {
        let (name, client, uri, shared, incoming) = (
            name.clone(),
            client.clone(),
            uri.clone(),
            shared.clone(),
            incoming.clone(),
        );
        tokio::spawn(async move {
            if events_wanted.await.is_ok() && initialized_rx.await.is_ok() {
                listen(name, client, uri, shared, incoming).await;
            }
        });
    }
    let mut initialized_tx = Some(initialized_tx);
    tokio::spawn(async move {
        while let Some(message) = outgoing.recv().await {
            let opens_stream = message.method() == Some("notifications/initialized");
            let task = post(
                name.clone(),
                client.clone(),
                uri.clone(),
                shared.clone(),
                message,
                incoming.clone(),
            );
            tokio::spawn(task);
            if opens_stream && let Some(tx) = initialized_tx.take() {
                let _ = tx.send(());
            }
        }
        // The pipe was dropped: end the upstream session, best effort.
        let session = shared
            .session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(session) = session {
            let req = Request::delete(uri.clone())
                .header(SESSION_HEADER, session)
                .body(Full::default());
            if let Ok(mut req) = req {
                shared.extra.apply(req.headers_mut());
                let _ = client.request(req).await;
            }
        }
    });
    pipe
}

fn request_with_headers(
    method: Method,
    uri: &Uri,
    shared: &Shared,
    body: Bytes,
) -> Request<Full<Bytes>> {
    let mut req = Request::new(Full::new(body));
    *req.method_mut() = method;
    *req.uri_mut() = uri.clone();
    let headers = req.headers_mut();
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("application/json, text/event-stream"),
    );
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    shared.extra.apply(headers);
    if let Some(s) = shared
        .session
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
    {
        headers.insert(SESSION_HEADER, s);
    }
    if let Some(v) = shared
        .version
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone()
    {
        headers.insert(VERSION_HEADER, v);
    }
    req
}

async fn post(
    name: String,
    client: HttpClient,
    uri: Uri,
    shared: Arc<Shared>,
    message: Message,
    incoming: mpsc::Sender<Inbound>,
) {
    let request_id = match &message {
        Message::Request { id, .. } => Some(id.clone()),
        _ => None,
    };
    let is_initialize = message.method() == Some("initialize");
    let req = request_with_headers(Method::POST, &uri, &shared, Bytes::from(message.to_json()));
    let fail = |why: String| {
        let incoming = incoming.clone();
        let request_id = request_id.clone();
        async move {
            tracing::debug!(server = %name, error = %why, "MCP upstream POST failed");
            if let Some(id) = request_id {
                let _ = incoming
                    .send(Inbound {
                        message: Message::error(id, INTERNAL_ERROR, why),
                        related: None,
                    })
                    .await;
            }
        }
    };
    let response = match client.request(req).await {
        Ok(r) => r,
        Err(e) => return fail(format!("upstream MCP server is unreachable: {e}")).await,
    };
    if is_initialize && let Some(s) = response.headers().get(SESSION_HEADER) {
        *shared.session.lock().unwrap_or_else(|p| p.into_inner()) = Some(s.clone());
    }
    let status = response.status();
    if status == StatusCode::ACCEPTED {
        return;
    }
    if !status.is_success() {
        let detail = if status == StatusCode::NOT_FOUND
            && shared
                .session
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .is_some()
        {
            "the upstream MCP session expired".to_string()
        } else {
            format!("upstream MCP server answered HTTP {status}")
        };
        return fail(detail).await;
    }
    let is_stream = content_type(&response).starts_with("text/event-stream");
    if is_stream {
        read_events(
            response.into_body(),
            request_id,
            &incoming,
            is_initialize.then_some(&shared),
        )
        .await;
        return;
    }
    let body = match http_body_util::Limited::new(response.into_body(), MAX_JSON_BODY)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) => return fail(format!("cannot read the upstream answer: {e}")).await,
    };
    let messages = match parse_body(&body) {
        Ok(m) => m,
        Err(e) => return fail(format!("upstream answer is not JSON-RPC: {e}")).await,
    };
    for message in messages {
        if is_initialize {
            remember_version(&shared, &message);
        }
        let _ = incoming
            .send(Inbound {
                message,
                related: request_id.clone(),
            })
            .await;
    }
}

/// Records the protocol version an initialize result names, for later headers.
fn remember_version(shared: &Shared, message: &Message) {
    if let Message::Response {
        outcome: Ok(result),
        ..
    } = message
        && let Some(v) = result.get("protocolVersion").and_then(|v| v.as_str())
        && let Ok(v) = HeaderValue::from_str(v)
    {
        *shared.version.lock().unwrap_or_else(|p| p.into_inner()) = Some(v);
    }
}

fn content_type<B>(response: &http::Response<B>) -> &str {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// One message or a batch.
fn parse_body(body: &[u8]) -> Result<Vec<Message>, String> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let values = match value {
        serde_json::Value::Array(items) => items,
        other => vec![other],
    };
    values
        .into_iter()
        .map(|v| Message::from_value(v).map_err(|e| e.to_string()))
        .collect()
}

/// The JSON-RPC message a `message` event carries (other events and malformed
/// data are skipped).
fn message_of(event: &sse::Event) -> Option<Message> {
    if !(event.event.is_empty() || event.event == "message") {
        return None;
    }
    let value = serde_json::from_str(&event.data).ok()?;
    Message::from_value(value).ok()
}

async fn read_events(
    body: Incoming,
    related: Option<Id>,
    incoming: &mpsc::Sender<Inbound>,
    initialize: Option<&Arc<Shared>>,
) -> bool {
    let mut parser = sse::Parser::default();
    let mut stream = BodyStream::new(body);
    while let Some(frame) = stream.next().await {
        let Ok(frame) = frame else { return false };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let Ok(events) = parser.push(&data) else {
            return false;
        };
        for event in events {
            let Some(message) = message_of(&event) else {
                continue;
            };
            if let Some(shared) = initialize {
                remember_version(shared, &message);
            }
            if incoming
                .send(Inbound {
                    message,
                    related: related.clone(),
                })
                .await
                .is_err()
            {
                return false;
            }
        }
    }
    true
}

/// The GET stream for messages the server sends outside any request. Servers that
/// answer 405 have none.
async fn listen(
    name: String,
    client: HttpClient,
    uri: Uri,
    shared: Arc<Shared>,
    incoming: mpsc::Sender<Inbound>,
) {
    let mut req = request_with_headers(Method::GET, &uri, &shared, Bytes::new());
    req.headers_mut()
        .insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
    req.headers_mut().remove(CONTENT_TYPE);
    match client.request(req).await {
        Ok(r) if r.status().is_success() && content_type(&r).starts_with("text/event-stream") => {
            read_events(r.into_body(), None, &incoming, None).await;
        }
        Ok(r) => {
            tracing::debug!(server = %name, status = %r.status(), "MCP upstream has no GET stream")
        }
        Err(e) => tracing::debug!(server = %name, error = %e, "MCP upstream GET stream failed"),
    }
}

/// Opens a legacy HTTP+SSE pipe: GET `uri` for the event stream, then POST each
/// message to the endpoint it announces. Fails when no endpoint is announced.
pub async fn legacy_sse(
    name: String,
    client: HttpClient,
    uri: Uri,
    extra: UpstreamHeaders,
) -> Result<Pipe, String> {
    let mut req = Request::get(uri.clone())
        .header(ACCEPT, "text/event-stream")
        .body(Full::default())
        .map_err(|e| e.to_string())?;
    extra.apply(req.headers_mut());
    let response = client
        .request(req)
        .await
        .map_err(|e| format!("cannot reach {uri}: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("{uri} answered HTTP {}", response.status()));
    }
    let mut parser = sse::Parser::default();
    let mut stream = BodyStream::new(response.into_body());
    let mut pending = Vec::new();
    let endpoint = loop {
        let Some(frame) = stream.next().await else {
            return Err(format!(
                "{uri} closed its event stream before naming an endpoint"
            ));
        };
        let frame = frame.map_err(|e| e.to_string())?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let events = parser.push(&data).map_err(|e| e.to_string())?;
        let mut found = None;
        for event in events {
            if found.is_none() && event.event == "endpoint" {
                found = Some(event.data);
            } else {
                pending.push(event);
            }
        }
        if let Some(found) = found {
            break resolve(&uri, &found)?;
        }
    };
    let (pipe, mut outgoing, incoming) = Pipe::channels();
    let reader_incoming = incoming.clone();
    let reader_name = name.clone();
    tokio::spawn(async move {
        let deliver = |events: Vec<sse::Event>| {
            let incoming = reader_incoming.clone();
            async move {
                for event in events {
                    let Some(message) = message_of(&event) else {
                        continue;
                    };
                    if incoming
                        .send(Inbound {
                            message,
                            related: None,
                        })
                        .await
                        .is_err()
                    {
                        return false;
                    }
                }
                true
            }
        };
        if !deliver(pending).await {
            return;
        }
        while let Some(frame) = stream.next().await {
            let Ok(frame) = frame else { break };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            let Ok(events) = parser.push(&data) else {
                break;
            };
            if !deliver(events).await {
                return;
            }
        }
        tracing::debug!(server = %reader_name, "MCP upstream event stream ended");
    });
    tokio::spawn(async move {
        while let Some(message) = outgoing.recv().await {
            let request_id = message
                .id()
                .cloned()
                .filter(|_| matches!(message, Message::Request { .. }));
            let req = Request::post(endpoint.clone())
                .header(CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(message.to_json())));
            let Ok(mut req) = req else { continue };
            extra.apply(req.headers_mut());
            let outcome = client.request(req).await;
            let failure = match outcome {
                Ok(r) if r.status().is_success() => None,
                Ok(r) => Some(format!("upstream MCP server answered HTTP {}", r.status())),
                Err(e) => Some(format!("upstream MCP server is unreachable: {e}")),
            };
            if let (Some(why), Some(id)) = (failure, request_id) {
                tracing::debug!(server = %name, error = %why, "MCP upstream POST failed");
                let _ = incoming
                    .send(Inbound {
                        message: Message::error(id, INTERNAL_ERROR, why),
                        related: None,
                    })
                    .await;
            }
        }
    });
    Ok(pipe)
}

/// Resolves the endpoint an SSE server announced against the stream's URI.
fn resolve(base: &Uri, endpoint: &str) -> Result<Uri, String> {
    let endpoint = endpoint.trim();
    if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        return endpoint
            .parse()
            .map_err(|e| format!("bad endpoint `{endpoint}`: {e}"));
    }
    let scheme = base.scheme_str().unwrap_or("http");
    let authority = base.authority().map(|a| a.as_str()).unwrap_or("");
    let path = if endpoint.starts_with('/') {
        endpoint.to_string()
    } else {
        let dir = base.path().rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        format!("{dir}/{endpoint}")
    };
    format!("{scheme}://{authority}{path}")
        .parse()
        .map_err(|e| format!("bad endpoint `{endpoint}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_endpoints() {
        let base: Uri = "http://h:1/a/sse".parse().unwrap();
        assert_eq!(
            resolve(&base, "/messages?sessionId=1").unwrap().to_string(),
            "http://h:1/messages?sessionId=1"
        );
        assert_eq!(
            resolve(&base, "messages").unwrap().to_string(),
            "http://h:1/a/messages"
        );
        assert_eq!(
            resolve(&base, "http://o:2/m").unwrap().to_string(),
            "http://o:2/m"
        );
    }

    #[test]
    fn parses_batches() {
        let one = parse_body(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#).unwrap();
        assert_eq!(one.len(), 1);
        let two =
            parse_body(br#"[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","method":"m"}]"#)
                .unwrap();
        assert_eq!(two.len(), 2);
        assert!(parse_body(b"nope").is_err());
    }
}
