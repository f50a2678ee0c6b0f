//! What an LLM request consumed: token usage read from the provider's answer
//! (whole or streamed), counted in metrics, charged to the caller's token rate
//! limits and written as an audit event when the request completes — or when
//! the client hangs up mid-stream, with what was reported until then.

use std::sync::Arc;
use std::time::Instant;

use palisade_llm::ApiFormat;
use palisade_llm::sse::SseEvent;
use palisade_llm::usage::{StreamUsage, TokenUsage};
use serde_json::{Value, json};

use crate::audit::{AuditEvent, AuditSink};
use crate::metrics::{Metrics, TokenLabels};
use crate::rate_limit::{CallerKey, RateLimiter};

/// Longest model name used as a metric label; longer names are cut.
const MAX_MODEL_LABEL: usize = 64;

/// Where an LLM request's usage is accounted.
pub struct UsageMeter {
    /// The route label (`namespace/name`).
    pub route: Arc<str>,
    /// The caller the tokens are charged to.
    pub caller: CallerKey,
    /// The caller as a metric label: its principal, or `anonymous`.
    pub principal: Arc<str>,
    /// Token limits to charge, if any.
    pub limiter: Option<Arc<RateLimiter>>,
    /// Where token counts go.
    pub metrics: Arc<Metrics>,
    /// Where the decision is recorded.
    pub audit: Option<Arc<dyn AuditSink>>,
}

impl UsageMeter {
    /// Records a request refused by a guard (`reason` names the policy).
    pub fn refused(&self, reason: &str) {
        self.audit(false, Some(reason.to_string()), json!({}));
    }

    fn audit(&self, allowed: bool, reason: Option<String>, details: Value) {
        if let Some(sink) = &self.audit {
            sink.record(AuditEvent {
                principal: self.principal.clone(),
                verb: "llm.completion",
                route: self.route.clone(),
                allowed,
                reason,
                details,
            });
        }
    }

    /// Accounts one completed request of `model`. A request whose answer
    /// reported no usage is logged without counts.
    pub fn record(&self, model: &str, usage: Option<TokenUsage>) {
        let model = cut(model, MAX_MODEL_LABEL);
        self.audit(
            true,
            None,
            json!({
                "model": model,
                "inputTokens": usage.map(|u| u.input_tokens),
                "outputTokens": usage.map(|u| u.output_tokens),
            }),
        );
        let Some(usage) = usage else {
            tracing::info!(
                target: "palisade::audit",
                route = %self.route,
                principal = %self.principal,
                model,
                "LLM request completed without usage figures"
            );
            return;
        };
        for (kind, count) in [
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
        ] {
            self.metrics
                .llm_tokens
                .get_or_create(&TokenLabels {
                    route: self.route.clone(),
                    model: model.to_string(),
                    principal: self.principal.clone(),
                    kind,
                })
                .inc_by(count);
        }
        if let Some(limiter) = &self.limiter {
            limiter.charge_tokens(&self.caller, usage.total_tokens(), Instant::now());
        }
        tracing::info!(
            target: "palisade::audit",
            route = %self.route,
            principal = %self.principal,
            model,
            input_tokens = usage.input_tokens,
            output_tokens = usage.output_tokens,
            cache_read_input_tokens = usage.cache_read_input_tokens,
            "LLM request completed"
        );
    }
}

/// Usage of a streamed answer, accounted once: when the stream ends or, if
/// the client goes away first, when this is dropped.
pub struct StreamMeter {
    meter: Option<UsageMeter>,
    model: String,
    usage: StreamUsage,
}

impl StreamMeter {
    /// Tracks a stream of `format` events answering a request for `model`.
    pub fn new(meter: Option<UsageMeter>, model: String, format: ApiFormat) -> StreamMeter {
        StreamMeter {
            meter,
            model,
            usage: StreamUsage::new(format),
        }
    }

    /// Reads the usage an upstream event reports, if any. Only events that
    /// mention usage are parsed.
    pub fn observe(&mut self, event: &SseEvent) {
        if self.meter.is_none() || !event.data.contains("usage") {
            return;
        }
        if let Ok(value) = serde_json::from_str::<Value>(&event.data) {
            self.usage.observe(&value);
        }
    }

    /// Accounts the stream now.
    pub fn finish(&mut self) {
        if let Some(meter) = self.meter.take() {
            meter.record(&self.model, self.usage.usage());
        }
    }
}

impl Drop for StreamMeter {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Whether an OpenAI Chat stream event is the usage-only chunk that
/// `stream_options.include_usage` adds (no choices, a usage object).
pub fn is_usage_only_chunk(event: &SseEvent) -> bool {
    if !event.data.contains("usage") {
        return false;
    }
    serde_json::from_str::<Value>(&event.data).is_ok_and(|v| {
        v.get("choices")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
            && v.get("usage").is_some_and(Value::is_object)
    })
}

fn cut(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_only_chunk_is_recognised() {
        let usage = SseEvent::data(
            r#"{"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}"#,
        );
        assert!(is_usage_only_chunk(&usage));
        let content = SseEvent::data(
            r#"{"id":"c","choices":[{"index":0,"delta":{"content":"usage"}}],"usage":null}"#,
        );
        assert!(!is_usage_only_chunk(&content));
        assert!(!is_usage_only_chunk(&SseEvent::data("[DONE]")));
    }

    #[test]
    fn a_dropped_stream_accounts_what_it_saw() {
        let metrics = Arc::new(Metrics::new());
        let meter = UsageMeter {
            route: Arc::from("ns/r"),
            caller: CallerKey::Principal(Arc::from("alice")),
            principal: Arc::from("alice"),
            limiter: None,
            metrics: metrics.clone(),
            audit: None,
        };
        let mut stream = StreamMeter::new(Some(meter), "m".into(), ApiFormat::AnthropicMessages);
        stream.observe(&SseEvent::data(
            r#"{"type":"message_start","message":{"usage":{"input_tokens":12,"output_tokens":1}}}"#,
        ));
        drop(stream);
        let text = metrics.encode();
        assert!(
            text.contains(r#"palisade_llm_tokens_total{route="ns/r",model="m",principal="alice",kind="input"} 12"#),
            "{text}"
        );
    }
}
