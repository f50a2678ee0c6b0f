//! Token usage from provider responses, whole or streamed.
//!
//! One meaning across formats: [`TokenUsage::input_tokens`] counts every
//! prompt token, cached ones included (Anthropic reports cache reads and
//! writes apart from `input_tokens`; they are added here so token rate
//! limits see the whole prompt).

use serde_json::Value;

use crate::format::ApiFormat;

/// Tokens one request consumed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TokenUsage {
    /// Prompt tokens, cache reads and writes included.
    pub input_tokens: u64,
    /// Completion tokens (reasoning included).
    pub output_tokens: u64,
    /// Of `input_tokens`, those read from the prompt cache.
    pub cache_read_input_tokens: u64,
    /// Of `input_tokens`, those written to the prompt cache (Anthropic only).
    pub cache_creation_input_tokens: u64,
}

impl TokenUsage {
    /// Input plus output tokens.
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }

    /// Reads an Anthropic `usage` object.
    pub fn from_anthropic(usage: &Value) -> Option<TokenUsage> {
        let mut raw = AnthropicUsage::default();
        raw.merge(usage)?;
        Some(raw.total())
    }

    /// Reads an OpenAI Chat Completions `usage` object (`prompt_tokens`,
    /// `completion_tokens`, `prompt_tokens_details.cached_tokens`).
    pub fn from_openai_chat(usage: &Value) -> Option<TokenUsage> {
        let input = u64_at(usage, "prompt_tokens");
        let output = u64_at(usage, "completion_tokens");
        if input.is_none() && output.is_none() {
            return None;
        }
        Some(TokenUsage {
            input_tokens: input.unwrap_or(0),
            output_tokens: output.unwrap_or(0),
            cache_read_input_tokens: usage
                .pointer("/prompt_tokens_details/cached_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            cache_creation_input_tokens: 0,
        })
    }

    /// Reads an OpenAI Responses `usage` object (`input_tokens`,
    /// `output_tokens`, `input_tokens_details.cached_tokens`).
    pub fn from_openai_responses(usage: &Value) -> Option<TokenUsage> {
        let input = u64_at(usage, "input_tokens");
        let output = u64_at(usage, "output_tokens");
        if input.is_none() && output.is_none() {
            return None;
        }
        Some(TokenUsage {
            input_tokens: input.unwrap_or(0),
            output_tokens: output.unwrap_or(0),
            cache_read_input_tokens: usage
                .pointer("/input_tokens_details/cached_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            cache_creation_input_tokens: 0,
        })
    }
}

fn u64_at(value: &Value, key: &str) -> Option<u64> {
    value.get(key).and_then(Value::as_u64)
}

/// Usage of a non-streaming response body of `format`, if it reports any.
pub fn from_response(format: ApiFormat, body: &Value) -> Option<TokenUsage> {
    let usage = body.get("usage")?;
    match format {
        ApiFormat::AnthropicMessages => TokenUsage::from_anthropic(usage),
        ApiFormat::OpenAiChat => TokenUsage::from_openai_chat(usage),
        ApiFormat::OpenAiResponses => TokenUsage::from_openai_responses(usage),
    }
}

/// Anthropic's four counters as reported, before they are summed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct AnthropicUsage {
    input: u64,
    output: u64,
    cache_read: u64,
    cache_creation: u64,
}

impl AnthropicUsage {
    /// Overwrites the counters `usage` reports (Anthropic's counters are
    /// cumulative, so a later report replaces an earlier one). `None` when it
    /// reports none.
    fn merge(&mut self, usage: &Value) -> Option<()> {
        let mut seen = false;
        for (key, slot) in [
            ("input_tokens", &mut self.input),
            ("output_tokens", &mut self.output),
            ("cache_read_input_tokens", &mut self.cache_read),
            ("cache_creation_input_tokens", &mut self.cache_creation),
        ] {
            if let Some(n) = u64_at(usage, key) {
                *slot = n;
                seen = true;
            }
        }
        seen.then_some(())
    }

    fn total(self) -> TokenUsage {
        TokenUsage {
            input_tokens: self.input + self.cache_read + self.cache_creation,
            output_tokens: self.output,
            cache_read_input_tokens: self.cache_read,
            cache_creation_input_tokens: self.cache_creation,
        }
    }
}

/// Accumulates usage from the events of a streamed response.
///
/// Feed it every event's parsed JSON data (events that are not JSON, such
/// as OpenAI's `[DONE]`, need not be fed):
///
/// - Anthropic: `message_start` (`message.usage`) then `message_delta`
///   (`usage`, cumulative);
/// - OpenAI Chat: the chunk with a non-null `usage` (sent when the request
///   set `stream_options.include_usage`);
/// - OpenAI Responses: `response.completed`, `response.incomplete` or
///   `response.failed` (`response.usage`).
#[derive(Clone, Debug)]
pub struct StreamUsage {
    format: ApiFormat,
    anthropic: AnthropicUsage,
    usage: Option<TokenUsage>,
}

impl StreamUsage {
    /// A tracker for a stream of `format` events.
    pub fn new(format: ApiFormat) -> Self {
        StreamUsage {
            format,
            anthropic: AnthropicUsage::default(),
            usage: None,
        }
    }

    /// Takes the usage an event reports, if any.
    pub fn observe(&mut self, event: &Value) {
        match self.format {
            ApiFormat::AnthropicMessages => {
                let usage = match event.get("type").and_then(Value::as_str) {
                    Some("message_start") => event.pointer("/message/usage"),
                    Some("message_delta") => event.get("usage"),
                    _ => None,
                };
                if usage
                    .and_then(|usage| self.anthropic.merge(usage))
                    .is_some()
                {
                    self.usage = Some(self.anthropic.total());
                }
            }
            ApiFormat::OpenAiChat => {
                if let Some(usage) = event.get("usage").and_then(TokenUsage::from_openai_chat) {
                    self.usage = Some(usage);
                }
            }
            ApiFormat::OpenAiResponses => {
                let terminal = matches!(
                    event.get("type").and_then(Value::as_str),
                    Some("response.completed" | "response.incomplete" | "response.failed")
                );
                if let Some(usage) = event
                    .pointer("/response/usage")
                    .filter(|_| terminal)
                    .and_then(TokenUsage::from_openai_responses)
                {
                    self.usage = Some(usage);
                }
            }
        }
    }

    /// The usage seen so far; `None` if the stream reported none.
    pub fn usage(&self) -> Option<TokenUsage> {
        self.usage
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn anthropic_response_usage_includes_cache_tokens_in_input() {
        let body = json!({"usage": {
            "input_tokens": 10, "output_tokens": 20,
            "cache_read_input_tokens": 100, "cache_creation_input_tokens": 5
        }});
        let usage = from_response(ApiFormat::AnthropicMessages, &body).unwrap();
        assert_eq!(
            usage,
            TokenUsage {
                input_tokens: 115,
                output_tokens: 20,
                cache_read_input_tokens: 100,
                cache_creation_input_tokens: 5
            }
        );
        assert_eq!(usage.total_tokens(), 135);
    }

    #[test]
    fn openai_chat_and_responses_usage() {
        let chat = json!({"usage": {
            "prompt_tokens": 19, "completion_tokens": 10, "total_tokens": 29,
            "prompt_tokens_details": {"cached_tokens": 3}
        }});
        let usage = from_response(ApiFormat::OpenAiChat, &chat).unwrap();
        assert_eq!(
            (
                usage.input_tokens,
                usage.output_tokens,
                usage.cache_read_input_tokens
            ),
            (19, 10, 3)
        );

        let responses = json!({"usage": {
            "input_tokens": 36, "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": 87, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": 123
        }});
        let usage = from_response(ApiFormat::OpenAiResponses, &responses).unwrap();
        assert_eq!((usage.input_tokens, usage.output_tokens), (36, 87));
    }

    #[test]
    fn missing_or_null_usage_is_none() {
        for format in ApiFormat::ALL {
            assert_eq!(from_response(format, &json!({"id": "x"})), None);
            assert_eq!(from_response(format, &json!({"usage": null})), None);
        }
    }

    #[test]
    fn anthropic_stream_usage_is_cumulative() {
        let mut tracker = StreamUsage::new(ApiFormat::AnthropicMessages);
        tracker.observe(&json!({"type": "ping"}));
        assert_eq!(tracker.usage(), None);
        tracker.observe(&json!({"type": "message_start", "message": {"usage": {
            "input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 4
        }}}));
        assert_eq!(tracker.usage().unwrap().output_tokens, 1);
        tracker.observe(&json!({"type": "content_block_delta", "usage": {"output_tokens": 999}}));
        tracker.observe(
            &json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": 15}}),
        );
        assert_eq!(
            tracker.usage(),
            Some(TokenUsage {
                input_tokens: 29,
                output_tokens: 15,
                cache_read_input_tokens: 4,
                cache_creation_input_tokens: 0
            })
        );
    }

    #[test]
    fn openai_chat_stream_usage_comes_from_the_usage_chunk() {
        let mut tracker = StreamUsage::new(ApiFormat::OpenAiChat);
        tracker.observe(&json!({"object": "chat.completion.chunk", "choices": [], "usage": null}));
        assert_eq!(tracker.usage(), None);
        tracker.observe(
            &json!({"choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 12}}),
        );
        assert_eq!(tracker.usage().unwrap().total_tokens(), 21);
    }

    #[test]
    fn responses_stream_usage_comes_from_the_terminal_event() {
        let mut tracker = StreamUsage::new(ApiFormat::OpenAiResponses);
        tracker.observe(&json!({"type": "response.created", "response": {"usage": null}}));
        tracker.observe(&json!({"type": "response.output_text.delta", "delta": "hi"}));
        assert_eq!(tracker.usage(), None);
        tracker.observe(&json!({"type": "response.completed", "response": {
            "usage": {"input_tokens": 5, "output_tokens": 7, "total_tokens": 12}}}));
        assert_eq!(tracker.usage().unwrap().total_tokens(), 12);
    }
}
