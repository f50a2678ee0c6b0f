//! The LLM request path: read the (bounded) JSON body, run request guards, fill
//! defaults, translate an OpenAI chat request for an Anthropic backend, inject the
//! provider key (client credentials never pass), then stream the answer back —
//! translated and guarded event by event when needed, passed through otherwise.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::StreamExt;
use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, Request, Response, StatusCode, Uri};
use http_body_util::{BodyExt, BodyStream, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use palisade_llm::ApiFormat;
use palisade_llm::defaults::{RequestDefaults, apply_defaults};
use palisade_llm::provider::CLIENT_CREDENTIAL_HEADERS;
use palisade_llm::sse::{SseEvent, SseParser};
use palisade_llm::translate::{self, AnthropicToOpenAiStream};
use palisade_llm::usage;
use serde_json::Value;

use crate::body::{self, Body, BoxError};
use crate::guard::{Guards, RequestVerdict, ResponseGuard};
use crate::llm::LlmTarget;
use crate::llm_usage::{StreamMeter, UsageMeter, is_usage_only_chunk};
use crate::route::Action;
use palisade_net::Clients;

/// Largest request body accepted for an LLM route.
pub const MAX_REQUEST: usize = 16 * 1024 * 1024;
/// Largest non-streamed response body read when it must be translated or guarded.
pub const MAX_RESPONSE: usize = 32 * 1024 * 1024;

/// Headers never copied from the client to the provider, besides credentials.
const DROPPED: &[&str] = &[
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
    "accept-encoding",
];

/// Serves one request on an LLM backend, accounting its usage with `meter`.
pub async fn serve(
    clients: &Clients<Body>,
    req: Request<Incoming>,
    target: &Arc<LlmTarget>,
    action: &Action,
    meter: UsageMeter,
) -> Response<Body> {
    let guards = action.policies.guards.as_ref();
    let formats = action.policies.formats.as_deref();
    let timeout = action.timeout;
    let (parts, incoming) = req.into_parts();
    let path = parts.uri.path();
    let client_format = formats
        .and_then(|f| f.format_for(path))
        .unwrap_or_else(|| ApiFormat::from_path_suffix(path));
    let bytes = match Limited::new(incoming, MAX_REQUEST).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return error(
                client_format,
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body larger than {MAX_REQUEST} bytes, or unreadable"),
            );
        }
    };
    let mut body: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            return error(
                client_format,
                StatusCode::BAD_REQUEST,
                &format!("request body is not JSON: {e}"),
            );
        }
    };
    if let Some(shaping) = &action.policies.shaping {
        shaping.apply(client_format, &mut body);
    }
    if let Some(guards) = guards {
        match guards
            .check_request_with_hooks(clients.plain(), client_format, &mut body)
            .await
        {
            RequestVerdict::Pass => {}
            RequestVerdict::Reject { status, message } => {
                meter.refused(&format!(
                    "request refused by the prompt guard of {}",
                    guards.policy()
                ));
                return rejection(status, message);
            }
        }
    }
    let upstream_format = match target.provider.upstream_format(client_format) {
        Ok(f) => f,
        Err(e) => return error(client_format, StatusCode::BAD_REQUEST, &e.to_string()),
    };
    let translated = client_format != upstream_format;
    let stream = body.get("stream").and_then(Value::as_bool) == Some(true);
    // Webhook guards judge whole answers; a stream would reach the client
    // before its verdict, so it is refused rather than passed unchecked.
    if stream && guards.is_some_and(|g| g.has_response_hooks()) {
        return error(
            client_format,
            StatusCode::BAD_REQUEST,
            "this route checks answers with a webhook guard, which needs the whole answer: send the request with stream: false",
        );
    }
    let include_usage = translate::stream_include_usage(&body);
    if translated {
        body = match translate::openai_chat_to_anthropic(&body) {
            Ok(b) => b,
            Err(e) => return error(client_format, StatusCode::BAD_REQUEST, &e.to_string()),
        };
    }
    let defaults = RequestDefaults {
        model: target.model.clone(),
        max_tokens: target.max_tokens,
    };
    if let Err(e) = apply_defaults(&mut body, upstream_format, &defaults) {
        return error(client_format, StatusCode::BAD_REQUEST, &e.to_string());
    }
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    // OpenAI reports a stream's usage only when asked; ask, and take the
    // extra chunk out of the stream again for a client that did not.
    let hide_usage = stream && upstream_format == ApiFormat::OpenAiChat && !include_usage;
    if hide_usage && let Some(object) = body.as_object_mut() {
        object.insert(
            "stream_options".into(),
            serde_json::json!({"include_usage": true}),
        );
    }
    let upstream = match upstream_request(target, &parts.headers, upstream_format, &body) {
        Ok(r) => r,
        Err(e) => return error(client_format, StatusCode::BAD_GATEWAY, &e),
    };
    let call = clients.request(upstream);
    let result = match timeout {
        Some(limit) => match tokio::time::timeout(limit, call).await {
            Ok(r) => r,
            Err(_) => {
                return error(
                    client_format,
                    StatusCode::GATEWAY_TIMEOUT,
                    &format!("{} did not answer within {limit:?}", target.name),
                );
            }
        },
        None => call.await,
    };
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(backend = %target.name, error = ?e, "LLM upstream request failed");
            return error(
                client_format,
                StatusCode::BAD_GATEWAY,
                &format!("cannot reach {}", target.name),
            );
        }
    };
    let response_guard = guards.map(|g| g.response(upstream_format, stream));
    let hooks = guards
        .filter(|g| g.has_response_hooks())
        .map(|g| (clients.plain(), g.as_ref()));
    let exchange = Exchange {
        client_format,
        upstream_format,
        translated,
        include_usage,
        hide_usage,
        model,
    };
    answer(response, exchange, response_guard, hooks, meter).await
}

/// What `answer` needs to know about the request.
struct Exchange {
    client_format: ApiFormat,
    upstream_format: ApiFormat,
    translated: bool,
    include_usage: bool,
    hide_usage: bool,
    model: String,
}

fn upstream_request(
    target: &LlmTarget,
    client_headers: &HeaderMap,
    format: ApiFormat,
    body: &Value,
) -> Result<Request<Body>, String> {
    let path = target.upstream_path(format);
    let uri = Uri::builder()
        .scheme(target.base.scheme_str().unwrap_or("http"))
        .authority(target.authority().clone())
        .path_and_query(path.as_str())
        .build()
        .map_err(|e| format!("cannot build the upstream URI: {e}"))?;
    let payload = Bytes::from(body.to_string());
    let mut req = Request::post(uri)
        .body(body::full(payload.clone()))
        .map_err(|e| e.to_string())?;
    let headers = req.headers_mut();
    for (name, value) in client_headers {
        let n = name.as_str();
        if DROPPED.contains(&n) || CLIENT_CREDENTIAL_HEADERS.contains(&n) {
            continue;
        }
        headers.append(name.clone(), value.clone());
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(payload.len()));
    for (name, value) in target.provider.default_headers() {
        if !headers.contains_key(*name) {
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
    }
    if let Some(key) = target.api_key() {
        for h in target.provider.auth_headers(key) {
            let mut value = HeaderValue::from_str(h.value()).map_err(|_| {
                format!("the API key of {} is not a valid header value", target.name)
            })?;
            value.set_sensitive(h.is_sensitive());
            headers.insert(HeaderName::from_static(h.name()), value);
        }
    }
    Ok(req)
}

async fn answer(
    response: Response<Incoming>,
    exchange: Exchange,
    guard: Option<ResponseGuard>,
    hooks: Option<(&Client<HttpConnector, Body>, &Guards)>,
    meter: UsageMeter,
) -> Response<Body> {
    let Exchange {
        client_format,
        upstream_format,
        translated,
        include_usage,
        hide_usage,
        model,
    } = exchange;
    let (mut parts, incoming) = response.into_parts();
    for name in DROPPED {
        parts.headers.remove(*name);
    }
    let is_stream = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if is_stream {
        let meter = StreamMeter::new(Some(meter), model, upstream_format);
        let events = EventPipeline {
            parser: SseParser::new(),
            translator: translated.then(|| AnthropicToOpenAiStream::new(now(), include_usage)),
            guard: guard.filter(ResponseGuard::inspects_streams),
            meter,
            hide_usage,
            finished: false,
        };
        return Response::from_parts(parts, events.run(incoming));
    }
    if !parts.status.is_success() && !translated {
        return Response::from_parts(parts, body::boxed(incoming));
    }
    let bytes = match Limited::new(incoming, MAX_RESPONSE).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return error(
                client_format,
                StatusCode::BAD_GATEWAY,
                "the provider's answer is too large or broke off",
            );
        }
    };
    let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, body::full(bytes));
    };
    if parts.status.is_success() {
        meter.record(&model, usage::from_response(upstream_format, &value));
    }
    if !translated && guard.is_none() && hooks.is_none() {
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        return Response::from_parts(parts, body::full(bytes));
    }
    let status = parts.status;
    if status.is_success() {
        if let Some(guard) = &guard {
            match guard.check_body(upstream_format, &mut value) {
                RequestVerdict::Pass => {}
                RequestVerdict::Reject { status, message } => {
                    meter.refused("answer refused by a response prompt guard");
                    return rejection(status, message);
                }
            }
        }
        if let Some((client, guards)) = hooks {
            match guards
                .check_response_hooks(client, upstream_format, &mut value)
                .await
            {
                RequestVerdict::Pass => {}
                RequestVerdict::Reject { status, message } => {
                    meter.refused(&format!(
                        "answer refused by the webhook guard of {}",
                        guards.policy()
                    ));
                    return rejection(status, message);
                }
            }
        }
        if translated {
            value = match translate::anthropic_to_openai_chat(&value, now()) {
                Ok(v) => v,
                Err(e) => {
                    return error(
                        client_format,
                        StatusCode::BAD_GATEWAY,
                        &format!("cannot translate the provider's answer: {e}"),
                    );
                }
            };
        }
    } else if translated {
        value = translate::anthropic_error_to_openai(&value);
    }
    let out = Bytes::from(value.to_string());
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(out.len()));
    Response::from_parts(parts, body::full(out))
}

/// A streamed answer read event by event for its usage and, when needed,
/// rebuilt: guarded, translated, the usage chunk the client did not ask for
/// removed. When nothing is rebuilt the upstream bytes pass unchanged.
struct EventPipeline {
    parser: SseParser,
    translator: Option<AnthropicToOpenAiStream>,
    guard: Option<ResponseGuard>,
    meter: StreamMeter,
    hide_usage: bool,
    finished: bool,
}

impl EventPipeline {
    /// Whether the upstream bytes pass unchanged.
    fn passes_through(&self) -> bool {
        self.translator.is_none() && self.guard.is_none() && !self.hide_usage
    }

    fn run(self, incoming: Incoming) -> Body {
        let stream = futures_util::stream::unfold(
            (self, BodyStream::new(incoming)),
            |(mut pipe, mut upstream)| async move {
                loop {
                    if pipe.finished {
                        return None;
                    }
                    match upstream.next().await {
                        Some(Ok(frame)) => {
                            let Ok(data) = frame.into_data() else {
                                continue;
                            };
                            match pipe.push(data) {
                                Ok(out) if out.is_empty() => continue,
                                Ok(out) => return Some((Ok(Frame::data(out)), (pipe, upstream))),
                                Err(e) => {
                                    pipe.finished = true;
                                    return Some((
                                        Err::<Frame<Bytes>, BoxError>(e.into()),
                                        (pipe, upstream),
                                    ));
                                }
                            }
                        }
                        Some(Err(e)) => {
                            pipe.finished = true;
                            return Some((Err(Box::new(e) as BoxError), (pipe, upstream)));
                        }
                        None => {
                            pipe.finished = true;
                            let out = pipe.finish();
                            if out.is_empty() {
                                return None;
                            }
                            return Some((Ok(Frame::data(out)), (pipe, upstream)));
                        }
                    }
                }
            },
        );
        body::boxed(StreamBody::new(stream))
    }

    /// Feeds upstream bytes; returns the bytes to send the client now.
    fn push(&mut self, data: Bytes) -> Result<Bytes, String> {
        let events = self.parser.push(&data).map_err(|e| e.to_string())?;
        if self.passes_through() {
            for event in &events {
                self.meter.observe(event);
            }
            return Ok(data);
        }
        let mut out = Vec::new();
        for event in events {
            self.meter.observe(&event);
            if self.hide_usage && is_usage_only_chunk(&event) {
                continue;
            }
            let guarded = match &mut self.guard {
                Some(g) => g.push_event(event)?,
                None => vec![event],
            };
            self.emit(guarded, &mut out)?;
        }
        Ok(Bytes::from(out))
    }

    fn finish(&mut self) -> Bytes {
        self.meter.finish();
        let mut out = Vec::new();
        let rest = match &mut self.guard {
            Some(g) => g.finish(),
            None => Vec::new(),
        };
        let _ = self.emit(rest, &mut out);
        if let Some(t) = &mut self.translator {
            for o in t.finish() {
                out.extend_from_slice(&o.to_sse().encode());
            }
        }
        Bytes::from(out)
    }

    fn emit(&mut self, events: Vec<SseEvent>, out: &mut Vec<u8>) -> Result<(), String> {
        for event in events {
            match &mut self.translator {
                Some(t) => {
                    for o in t.push_sse(&event).map_err(|e| e.to_string())? {
                        out.extend_from_slice(&o.to_sse().encode());
                    }
                }
                None => out.extend_from_slice(&event.encode()),
            }
        }
        Ok(())
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A guard's rejection: the configured status and exactly the configured message.
fn rejection(status: u16, message: Arc<str>) -> Response<Body> {
    let mut response = Response::new(body::boxed(Full::new(Bytes::copy_from_slice(
        message.as_bytes(),
    ))));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::FORBIDDEN);
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(message.len()));
    response
}

/// An error in the client's wire format, so its SDK can read it.
fn error(format: ApiFormat, status: StatusCode, message: &str) -> Response<Body> {
    let value = match format {
        ApiFormat::AnthropicMessages => serde_json::json!({
            "type": "error",
            "error": {"type": if status.is_server_error() { "api_error" } else { "invalid_request_error" }, "message": message}
        }),
        _ => translate::openai_error_body(
            message,
            if status.is_server_error() {
                "server_error"
            } else {
                "invalid_request_error"
            },
            None,
        ),
    };
    let mut response = Response::new(body::full(value.to_string()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
