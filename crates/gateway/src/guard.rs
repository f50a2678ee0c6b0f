//! Prompt guards on the LLM path: the compiled guard chains of one policy, applied
//! to request bodies, response bodies and streamed responses of every wire format.
//! Text is found with `palisade_llm::content` and judged by `palisade_policy::guard`.

use std::collections::HashMap;
use std::sync::Arc;

use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use palisade_api::kinds::agentgateway::ai::{GuardEntry, GuardScope, PromptGuard};
use palisade_api::kinds::agentgateway::shared::FailureMode;
use palisade_api::kinds::gateway_api::BackendObjectReference;
use palisade_llm::ApiFormat;
use palisade_llm::content::{self, Channel, Location, Part, SegmentKind};
use palisade_llm::sse::SseEvent;
use palisade_policy::guard::{GuardChain, StreamOutput, StreamScanner, Verdict};
use serde_json::Value;

use crate::backend::authority;
use crate::body::Body;
use crate::guard_webhook::{Decision, Webhook};

/// What a guard decided about a whole body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestVerdict {
    /// Go on (the body may have been masked in place).
    Pass,
    /// Answer `status` with exactly `message`.
    Reject {
        /// HTTP status.
        status: u16,
        /// Body text.
        message: Arc<str>,
    },
}

/// The guards of one policy, compiled.
#[derive(Debug)]
pub struct Guards {
    policy: String,
    request: Option<Arc<GuardChain>>,
    response: Option<Arc<GuardChain>>,
    /// Webhook guards on requests, run after the local ones, in order.
    request_hooks: Vec<Webhook>,
    /// Webhook guards on (whole, not streamed) responses.
    response_hooks: Vec<Webhook>,
    streaming: bool,
}

/// Finds where a webhook guard's `backendRef` listens (`host`, `port`).
pub type ResolveEndpoint<'a> =
    dyn Fn(&BackendObjectReference) -> Result<(String, u16), String> + 'a;

fn scope_of(part: Part) -> GuardScope {
    match part {
        Part::SystemPrompt => GuardScope::SystemPrompt,
        Part::Message => GuardScope::Messages,
        Part::ToolInput => GuardScope::ToolInput,
        Part::ToolOutput => GuardScope::ToolOutput,
    }
}

impl Guards {
    /// Compiles the guards of `policy` (`Kind/namespace/name`); webhook guards'
    /// backends are found with `resolve`.
    pub fn compile(
        policy: &str,
        guard: &PromptGuard,
        resolve: &ResolveEndpoint<'_>,
    ) -> Result<Guards, CompileError> {
        let chain = |entries: &[GuardEntry]| -> Result<Option<Arc<GuardChain>>, CompileError> {
            if entries.is_empty() {
                return Ok(None);
            }
            let chain =
                GuardChain::compile(entries).map_err(|e| CompileError::Pattern(e.to_string()))?;
            Ok(Some(Arc::new(chain)))
        };
        let hooks = |entries: &[GuardEntry]| -> Result<Vec<Webhook>, CompileError> {
            hooks_of(entries, resolve).map_err(CompileError::Unsupported)
        };
        Ok(Guards {
            policy: policy.to_string(),
            request: chain(&guard.request)?,
            response: chain(&guard.response)?,
            request_hooks: hooks(&guard.request)?,
            response_hooks: hooks(&guard.response)?,
            streaming: guard.streaming(),
        })
    }
}

/// Why a policy's guards cannot be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompileError {
    /// A pattern does not compile (static validation reports it too).
    Pattern(String),
    /// A detector Palisade cannot run, or a webhook it cannot reach.
    Unsupported(String),
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompileError::Pattern(m) | CompileError::Unsupported(m) => f.write_str(m),
        }
    }
}

/// The webhook guards among `entries`, resolved.
fn hooks_of(entries: &[GuardEntry], resolve: &ResolveEndpoint<'_>) -> Result<Vec<Webhook>, String> {
    let mut out = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        if entry.regex.is_some() {
            continue;
        }
        let Some(webhook) = &entry.webhook else {
            return Err(format!(
                "guard {i}: hosted guard services (openAIModeration, bedrockGuardrails, googleModelArmor) are not supported yet; use regex or webhook guards"
            ));
        };
        let (host, port) =
            resolve(&webhook.backend_ref).map_err(|e| format!("guard {i}: webhook: {e}"))?;
        out.push(Webhook {
            authority: authority(&host, port).map_err(|e| format!("guard {i}: webhook: {e}"))?,
            scopes: entry.scope().to_vec(),
            fail_open: webhook.failure_mode == Some(FailureMode::FailOpen),
            status: entry.status_code(),
        });
    }
    Ok(out)
}

impl Guards {
    /// Runs the request guards: local ones, then webhooks (which need IO).
    pub async fn check_request_with_hooks(
        &self,
        client: &Client<HttpConnector, Body>,
        format: ApiFormat,
        body: &mut Value,
    ) -> RequestVerdict {
        let verdict = self.check_request(format, body);
        if verdict != RequestVerdict::Pass {
            return verdict;
        }
        for hook in &self.request_hooks {
            let segments: Vec<_> = content::request_segments(format, body)
                .into_iter()
                .filter(|s| hook.scopes.contains(&scope_of(s.part)))
                .collect();
            if segments.is_empty() {
                continue;
            }
            let texts: Vec<(GuardScope, String)> = segments
                .iter()
                .map(|s| (scope_of(s.part), s.text.clone()))
                .collect();
            let decision = hook.check_request(client, &texts).await;
            let verdict = self.apply_decision(hook, decision, &segments, body, "request");
            if verdict != RequestVerdict::Pass {
                return verdict;
            }
        }
        RequestVerdict::Pass
    }

    /// Whether response webhooks exist (they need the whole response).
    pub fn has_response_hooks(&self) -> bool {
        !self.response_hooks.is_empty()
    }

    /// Runs the response webhooks on a whole response body of `format`.
    pub async fn check_response_hooks(
        &self,
        client: &Client<HttpConnector, Body>,
        format: ApiFormat,
        body: &mut Value,
    ) -> RequestVerdict {
        for hook in &self.response_hooks {
            let segments: Vec<_> = content::response_segments(format, body)
                .into_iter()
                .filter(|s| hook.scopes.contains(&scope_of(s.part)) || s.part == Part::Message)
                .collect();
            if segments.is_empty() {
                continue;
            }
            let texts: Vec<String> = segments.iter().map(|s| s.text.clone()).collect();
            let decision = hook.check_response(client, &texts).await;
            let verdict = self.apply_decision(hook, decision, &segments, body, "answer");
            if verdict != RequestVerdict::Pass {
                return verdict;
            }
        }
        RequestVerdict::Pass
    }

    /// Applies a webhook's decision about `segments` of `body` (what: `request` or
    /// `answer`, for the log): masks in place, or the verdict to answer with.
    fn apply_decision(
        &self,
        hook: &Webhook,
        decision: Result<Decision, String>,
        segments: &[content::Segment],
        body: &mut Value,
        what: &str,
    ) -> RequestVerdict {
        match decision {
            Ok(Decision::Pass) => RequestVerdict::Pass,
            Ok(Decision::Mask(masked)) => {
                for (segment, text) in segments.iter().zip(masked) {
                    if content::set_text(body, &segment.location, text).is_err() {
                        return unavailable();
                    }
                }
                RequestVerdict::Pass
            }
            Ok(Decision::Reject { status, body }) => {
                tracing::info!(policy = %self.policy, status, "guard webhook rejected the {what}");
                RequestVerdict::Reject {
                    status,
                    message: Arc::from(body),
                }
            }
            Err(why) if hook.fail_open => {
                tracing::warn!(policy = %self.policy, error = %why, "guard webhook failed; failureMode FailOpen lets the {what} through");
                RequestVerdict::Pass
            }
            Err(why) => {
                tracing::warn!(policy = %self.policy, error = %why, "guard webhook failed; the {what} is refused (failureMode FailClosed)");
                unavailable()
            }
        }
    }

    /// The policy the guards come from.
    pub fn policy(&self) -> &str {
        &self.policy
    }

    /// Checks (and masks in place) a request body of `format`.
    pub fn check_request(&self, format: ApiFormat, body: &mut Value) -> RequestVerdict {
        match &self.request {
            Some(chain) => check_segments(
                chain,
                content::request_segments(format, body),
                body,
                &self.policy,
            ),
            None => RequestVerdict::Pass,
        }
    }

    /// Checks (and masks in place) the string leaves of MCP `tools/call` arguments
    /// with the request guards covering `ToolInput`.
    pub fn check_tool_arguments(&self, arguments: &mut Value) -> RequestVerdict {
        match &self.request {
            Some(chain) if chain.covers(GuardScope::ToolInput) => {
                check_leaves(chain, GuardScope::ToolInput, arguments, &self.policy)
            }
            _ => RequestVerdict::Pass,
        }
    }

    /// Checks (and masks in place) the text of an MCP `tools/call` result
    /// (`content[].text`, string leaves of `structuredContent`) with the response
    /// guards covering `ToolOutput`.
    pub fn check_tool_result(&self, result: &mut Value) -> RequestVerdict {
        let Some(chain) = self
            .response
            .as_ref()
            .filter(|c| c.covers(GuardScope::ToolOutput))
        else {
            return RequestVerdict::Pass;
        };
        if let Some(Value::Array(items)) = result.get_mut("content") {
            for item in items {
                if let Some(text) = item.get_mut("text") {
                    let verdict = check_leaves(chain, GuardScope::ToolOutput, text, &self.policy);
                    if verdict != RequestVerdict::Pass {
                        return verdict;
                    }
                }
            }
        }
        match result.get_mut("structuredContent") {
            Some(structured) => {
                check_leaves(chain, GuardScope::ToolOutput, structured, &self.policy)
            }
            None => RequestVerdict::Pass,
        }
    }

    /// A guard for the response to one request.
    pub fn response(&self, format: ApiFormat, stream: bool) -> ResponseGuard {
        ResponseGuard {
            chain: self.response.clone(),
            format,
            streams: stream && self.streaming,
            policy: self.policy.clone(),
            channels: HashMap::new(),
            stopped: false,
        }
    }
}

/// What a guard that could not be evaluated answers: fail closed.
fn unavailable() -> RequestVerdict {
    RequestVerdict::Reject {
        status: 503,
        message: Arc::from("a prompt guard could not be evaluated"),
    }
}

fn check_segments(
    chain: &GuardChain,
    segments: Vec<content::Segment>,
    body: &mut Value,
    policy: &str,
) -> RequestVerdict {
    for segment in segments {
        match chain.check(scope_of(segment.part), &segment.text) {
            Verdict::Pass => {}
            Verdict::Mask { text, .. } => {
                if content::set_text(body, &segment.location, text).is_err() {
                    // Fail closed: text that cannot be masked is not sent.
                    return RequestVerdict::Reject {
                        status: 403,
                        message: Arc::from("The request was rejected due to inappropriate content"),
                    };
                }
            }
            Verdict::Reject {
                status, message, ..
            } => {
                tracing::info!(%policy, scope = ?segment.part, "prompt guard rejected content");
                return RequestVerdict::Reject {
                    status,
                    message: Arc::from(message.as_ref()),
                };
            }
        }
    }
    RequestVerdict::Pass
}

/// Checks every string leaf of `value` (masking in place).
fn check_leaves(
    chain: &GuardChain,
    scope: GuardScope,
    value: &mut Value,
    policy: &str,
) -> RequestVerdict {
    match value {
        Value::String(text) => match chain.check(scope, text) {
            Verdict::Pass => RequestVerdict::Pass,
            Verdict::Mask { text: masked, .. } => {
                *text = masked;
                RequestVerdict::Pass
            }
            Verdict::Reject {
                status, message, ..
            } => {
                tracing::info!(%policy, ?scope, "prompt guard rejected MCP content");
                RequestVerdict::Reject { status, message }
            }
        },
        Value::Array(items) => items
            .iter_mut()
            .map(|v| check_leaves(chain, scope, v, policy))
            .find(|v| *v != RequestVerdict::Pass)
            .unwrap_or(RequestVerdict::Pass),
        Value::Object(map) => map
            .values_mut()
            .map(|v| check_leaves(chain, scope, v, policy))
            .find(|v| *v != RequestVerdict::Pass)
            .unwrap_or(RequestVerdict::Pass),
        _ => RequestVerdict::Pass,
    }
}

/// One channel of a streamed answer being scanned.
struct ChannelState {
    scanner: StreamScanner,
    /// The last event that carried a delta on this channel, and where.
    last: Option<(Value, Option<String>, Location)>,
}

/// The response side of one request.
pub struct ResponseGuard {
    chain: Option<Arc<GuardChain>>,
    format: ApiFormat,
    streams: bool,
    policy: String,
    channels: HashMap<Channel, ChannelState>,
    stopped: bool,
}

impl ResponseGuard {
    /// Whether streamed answers are inspected (`promptGuard.streaming: Enabled`).
    pub fn inspects_streams(&self) -> bool {
        self.streams && self.chain.is_some()
    }

    /// Checks (and masks in place) a whole response body of `format`.
    pub fn check_body(&self, format: ApiFormat, body: &mut Value) -> RequestVerdict {
        match &self.chain {
            Some(chain) => check_segments(
                chain,
                content::response_segments(format, body),
                body,
                &self.policy,
            ),
            None => RequestVerdict::Pass,
        }
    }

    /// Feeds one upstream event; returns the events to send on, masked. Text that
    /// may be the start of a match is held back and sent in a copy of its event
    /// once it is safe. A rejection ends the stream with an error event.
    pub fn push_event(&mut self, event: SseEvent) -> Result<Vec<SseEvent>, String> {
        let Some(chain) = self.chain.clone() else {
            return Ok(vec![event]);
        };
        if self.stopped {
            return Ok(Vec::new());
        }
        let Ok(mut value) = event.json() else {
            // `[DONE]` and other non-JSON data: release what is held first.
            let mut out = self.flush()?;
            out.push(event);
            return Ok(out);
        };
        let segments = content::stream_segments(self.format, &value);
        let has_delta = segments.iter().any(|s| s.kind == SegmentKind::Delta);
        let mut out = if has_delta { Vec::new() } else { self.flush()? };
        for seg in segments {
            let scope = scope_of(seg.segment.part);
            let text = match seg.kind {
                SegmentKind::Delta => {
                    let state = self
                        .channels
                        .entry(seg.channel)
                        .or_insert_with(|| ChannelState {
                            scanner: StreamScanner::new(chain.clone(), scope),
                            last: None,
                        });
                    let released = match state.scanner.push(&seg.segment.text) {
                        StreamOutput::Emit(text) => text,
                        StreamOutput::Reject {
                            status, message, ..
                        } => return Ok(self.stop(status, &message)),
                    };
                    state.last = Some((
                        value.clone(),
                        event.event.clone(),
                        seg.segment.location.clone(),
                    ));
                    released
                }
                SegmentKind::Full => match chain.check(scope, &seg.segment.text) {
                    Verdict::Pass => continue,
                    Verdict::Mask { text, .. } => text,
                    Verdict::Reject {
                        status, message, ..
                    } => return Ok(self.stop(status, &message)),
                },
            };
            content::set_text(&mut value, &seg.segment.location, text)
                .map_err(|e| e.to_string())?;
        }
        out.push(rebuild(&event, &value));
        Ok(out)
    }

    /// Releases held text at the end of the stream.
    pub fn finish(&mut self) -> Vec<SseEvent> {
        if self.stopped {
            return Vec::new();
        }
        self.flush().unwrap_or_default()
    }

    /// Sends what every channel holds, each in a copy of its last delta event.
    fn flush(&mut self) -> Result<Vec<SseEvent>, String> {
        let mut out = Vec::new();
        let mut channels: Vec<Channel> = self.channels.keys().copied().collect();
        channels.sort();
        for channel in channels {
            let Some(state) = self.channels.get_mut(&channel) else {
                continue;
            };
            let held = match state.scanner.finish() {
                StreamOutput::Emit(text) => text,
                StreamOutput::Reject {
                    status, message, ..
                } => return Ok(self.stop(status, &message)),
            };
            if held.is_empty() {
                continue;
            }
            if let Some((mut value, name, location)) = state.last.clone() {
                content::set_text(&mut value, &location, held).map_err(|e| e.to_string())?;
                let template = SseEvent {
                    event: name,
                    ..SseEvent::default()
                };
                out.push(rebuild(&template, &value));
            }
        }
        Ok(out)
    }

    /// Ends the stream with an error event in the upstream's format.
    fn stop(&mut self, status: u16, message: &str) -> Vec<SseEvent> {
        self.stopped = true;
        tracing::info!(policy = %self.policy, status, "prompt guard stopped a streamed answer");
        let body = match self.format {
            ApiFormat::AnthropicMessages => serde_json::json!({
                "type": "error", "error": {"type": "invalid_request_error", "message": message}}),
            _ => {
                serde_json::json!({"error": {"message": message, "type": "invalid_request_error", "code": status}})
            }
        };
        match self.format {
            ApiFormat::AnthropicMessages => vec![SseEvent::named("error", body.to_string())],
            _ => vec![SseEvent::data(body.to_string())],
        }
    }
}

/// `event` with its data replaced by `value`.
fn rebuild(event: &SseEvent, value: &Value) -> SseEvent {
    let mut out = event.clone();
    out.data = value.to_string();
    out
}
