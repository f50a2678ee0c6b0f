//! A streamed Anthropic Messages response → OpenAI `chat.completion.chunk`s.
//!
//! The state machine takes Anthropic events one by one and returns the
//! chunks each one produces, so nothing is buffered beyond one event:
//!
//! | Anthropic event | OpenAI chunks |
//! |---|---|
//! | `message_start` | the role chunk (`{"role": "assistant", "content": ""}`) |
//! | `content_block_start` of a `tool_use` | a `tool_calls` delta with index, id, name and empty arguments |
//! | `content_block_delta` `text_delta` | a `content` delta |
//! | `content_block_delta` `input_json_delta` | a `tool_calls` delta with an `arguments` fragment |
//! | `message_delta` | an empty delta with the `finish_reason` |
//! | `message_stop` | the usage chunk (when asked for), then `[DONE]` |
//! | `error` | an OpenAI error object (which OpenAI SDKs raise), then `[DONE]` |
//! | `ping`, `content_block_stop`, thinking deltas, unknown events | nothing |
//!
//! Tool calls are numbered from 0 in the order their blocks start, as
//! OpenAI numbers them, whatever the Anthropic block index.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::TranslateError;
use super::error_body::{anthropic_error_to_openai, openai_error_body};
use super::response::{finish_reason, openai_usage};
use crate::format::ApiFormat;
use crate::json::{str_field, type_name};
use crate::sse::SseEvent;
use crate::usage::StreamUsage;

/// What the translator emits.
#[derive(Clone, Debug, PartialEq)]
pub enum StreamOutput {
    /// A `chat.completion.chunk` (or, after an upstream error, an error
    /// object), sent as `data: <json>`.
    Chunk(Value),
    /// The end of the stream, sent as `data: [DONE]`.
    Done,
}

impl StreamOutput {
    /// The SSE event to send the client.
    pub fn to_sse(&self) -> SseEvent {
        match self {
            StreamOutput::Chunk(chunk) => SseEvent::data(chunk.to_string()),
            StreamOutput::Done => SseEvent::data("[DONE]"),
        }
    }
}

/// The content blocks seen so far, by Anthropic block index.
#[derive(Debug)]
enum Block {
    Text,
    Tool {
        /// The OpenAI tool call index.
        index: u64,
        /// Whether an argument fragment was sent.
        sent_arguments: bool,
        /// A non-empty `input` given at block start, sent at block stop when
        /// no `input_json_delta` came.
        initial_input: Option<Value>,
    },
    Ignored,
}

/// Translates one streamed Anthropic Messages response into OpenAI chunks.
#[derive(Debug)]
pub struct AnthropicToOpenAiStream {
    created: u64,
    include_usage: bool,
    id: String,
    model: String,
    blocks: HashMap<u64, Block>,
    tool_calls: u64,
    finished: bool,
    done: bool,
    usage: StreamUsage,
}

impl AnthropicToOpenAiStream {
    /// A translator for one response. `created` is the Unix time the chunks
    /// report; `include_usage` is the client's
    /// `stream_options.include_usage` (see
    /// [`stream_include_usage`](super::stream_include_usage)).
    pub fn new(created: u64, include_usage: bool) -> Self {
        AnthropicToOpenAiStream {
            created,
            include_usage,
            id: String::new(),
            model: String::new(),
            blocks: HashMap::new(),
            tool_calls: 0,
            finished: false,
            done: false,
            usage: StreamUsage::new(ApiFormat::AnthropicMessages),
        }
    }

    /// Whether `[DONE]` was emitted; later events are ignored.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Translates one SSE event from the upstream (its data parsed as JSON).
    pub fn push_sse(&mut self, event: &SseEvent) -> Result<Vec<StreamOutput>, TranslateError> {
        let data: Value = event
            .json()
            .map_err(|err| TranslateError::StreamEventNotJson {
                event: event.event_type().to_owned(),
                reason: err.to_string(),
            })?;
        self.push(&data)
    }

    /// Translates one Anthropic event (the JSON data of an SSE event).
    pub fn push(&mut self, event: &Value) -> Result<Vec<StreamOutput>, TranslateError> {
        if !event.is_object() {
            return Err(TranslateError::NotAnObject {
                what: "stream event",
                found: type_name(event),
            });
        }
        if self.done {
            return Ok(Vec::new());
        }
        self.usage.observe(event);
        let mut out = Vec::new();
        match str_field(event, "type").unwrap_or_default() {
            "message_start" => {
                let message = event.get("message").unwrap_or(&Value::Null);
                self.id = str_field(message, "id").unwrap_or_default().to_owned();
                self.model = str_field(message, "model").unwrap_or_default().to_owned();
                out.push(self.chunk(json!({ "role": "assistant", "content": "" }), None));
            }
            "content_block_start" => self.block_start(event, &mut out),
            "content_block_delta" => self.block_delta(event, &mut out),
            "content_block_stop" => self.block_stop(event, &mut out),
            "message_delta" => {
                let reason = event.pointer("/delta/stop_reason").and_then(Value::as_str);
                out.push(self.chunk(json!({}), Some(finish_reason(reason))));
                self.finished = true;
            }
            "message_stop" => self.end(&mut out),
            "error" => {
                out.push(StreamOutput::Chunk(anthropic_error_to_openai(event)));
                out.push(StreamOutput::Done);
                self.done = true;
            }
            _ => {}
        }
        Ok(out)
    }

    /// Ends the translation when the upstream stream ends. If it ended
    /// before `message_stop`, the client gets an error object and `[DONE]`,
    /// so it does not mistake a truncated answer for a complete one.
    pub fn finish(&mut self) -> Vec<StreamOutput> {
        if self.done {
            return Vec::new();
        }
        self.done = true;
        vec![
            StreamOutput::Chunk(openai_error_body(
                "the upstream stream ended before the message was complete; retry the request",
                "server_error",
                Some("incomplete_stream"),
            )),
            StreamOutput::Done,
        ]
    }

    fn block_start(&mut self, event: &Value, out: &mut Vec<StreamOutput>) {
        let index = block_index(event);
        let block = event.get("content_block").unwrap_or(&Value::Null);
        let state = match str_field(block, "type") {
            Some("text") => {
                if let Some(text) = str_field(block, "text").filter(|t| !t.is_empty()) {
                    out.push(self.chunk(json!({ "content": text }), None));
                }
                Block::Text
            }
            Some("tool_use") => {
                let tool_index = self.tool_calls;
                self.tool_calls += 1;
                out.push(self.chunk(
                    json!({ "tool_calls": [{
                        "index": tool_index,
                        "id": str_field(block, "id").unwrap_or_default(),
                        "type": "function",
                        "function": { "name": str_field(block, "name").unwrap_or_default(), "arguments": "" },
                    }]}),
                    None,
                ));
                let initial_input = block
                    .get("input")
                    .filter(|input| input.as_object().is_some_and(|o| !o.is_empty()))
                    .cloned();
                Block::Tool {
                    index: tool_index,
                    sent_arguments: false,
                    initial_input,
                }
            }
            _ => Block::Ignored,
        };
        self.blocks.insert(index, state);
    }

    fn block_delta(&mut self, event: &Value, out: &mut Vec<StreamOutput>) {
        let index = block_index(event);
        let delta = event.get("delta").unwrap_or(&Value::Null);
        let chunk = match (self.blocks.get_mut(&index), str_field(delta, "type")) {
            (Some(Block::Text), Some("text_delta")) => {
                let text = str_field(delta, "text").unwrap_or_default();
                json!({ "content": text })
            }
            (
                Some(Block::Tool {
                    index,
                    sent_arguments,
                    ..
                }),
                Some("input_json_delta"),
            ) => {
                let fragment = str_field(delta, "partial_json").unwrap_or_default();
                if fragment.is_empty() {
                    return;
                }
                *sent_arguments = true;
                json!({ "tool_calls": [{ "index": *index, "function": { "arguments": fragment } }] })
            }
            _ => return,
        };
        out.push(self.chunk(chunk, None));
    }

    fn block_stop(&mut self, event: &Value, out: &mut Vec<StreamOutput>) {
        if let Some(Block::Tool {
            index,
            sent_arguments: false,
            initial_input: Some(input),
        }) = self.blocks.remove(&block_index(event))
        {
            let arguments = input.to_string();
            out.push(self.chunk(
                json!({ "tool_calls": [{ "index": index, "function": { "arguments": arguments } }] }),
                None,
            ));
        }
    }

    fn end(&mut self, out: &mut Vec<StreamOutput>) {
        if !self.finished {
            out.push(self.chunk(json!({}), Some("stop")));
            self.finished = true;
        }
        if self.include_usage {
            let usage = self.usage.usage().unwrap_or_default();
            let mut chunk = self.envelope();
            chunk["choices"] = json!([]);
            chunk["usage"] = openai_usage(usage);
            out.push(StreamOutput::Chunk(chunk));
        }
        out.push(StreamOutput::Done);
        self.done = true;
    }

    /// A chunk with one choice carrying `delta`.
    fn chunk(&self, delta: Value, finish_reason: Option<&str>) -> StreamOutput {
        let mut chunk = self.envelope();
        chunk["choices"] = json!([{
            "index": 0,
            "delta": delta,
            "logprobs": null,
            "finish_reason": finish_reason,
        }]);
        StreamOutput::Chunk(chunk)
    }

    /// The fields every chunk carries. With `include_usage`, OpenAI sends
    /// `"usage": null` on every chunk but the last.
    fn envelope(&self) -> Value {
        let mut chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
        });
        if self.include_usage {
            chunk["usage"] = Value::Null;
        }
        chunk
    }
}

fn block_index(event: &Value) -> u64 {
    event.get("index").and_then(Value::as_u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(events: &[Value], include_usage: bool) -> Vec<StreamOutput> {
        let mut stream = AnthropicToOpenAiStream::new(1_700_000_000, include_usage);
        let mut out = Vec::new();
        for event in events {
            out.extend(stream.push(event).unwrap());
        }
        out.extend(stream.finish());
        out
    }

    fn deltas(out: &[StreamOutput]) -> Vec<Value> {
        out.iter()
            .filter_map(|o| match o {
                StreamOutput::Chunk(chunk) => chunk["choices"].get(0).map(|c| c["delta"].clone()),
                StreamOutput::Done => None,
            })
            .collect()
    }

    fn start() -> Value {
        json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5", "content": [], "stop_reason": null,
            "usage": {"input_tokens": 10, "output_tokens": 1}}})
    }

    #[test]
    fn text_stream() {
        let out = run(
            &[
                start(),
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                json!({"type": "ping"}),
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}),
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}}),
                json!({"type": "content_block_stop", "index": 0}),
                json!({"type": "message_delta", "delta": {"stop_reason": "max_tokens"}, "usage": {"output_tokens": 3}}),
                json!({"type": "message_stop"}),
            ],
            false,
        );
        assert_eq!(
            deltas(&out),
            vec![
                json!({"role": "assistant", "content": ""}),
                json!({"content": "Hi"}),
                json!({"content": "!"}),
                json!({})
            ]
        );
        let StreamOutput::Chunk(last) = &out[out.len() - 2] else {
            panic!()
        };
        assert_eq!(last["choices"][0]["finish_reason"], "length");
        assert_eq!(last["id"], "msg_1");
        assert_eq!(last["object"], "chat.completion.chunk");
        assert!(last.get("usage").is_none());
        assert_eq!(out.last(), Some(&StreamOutput::Done));
    }

    #[test]
    fn usage_chunk_when_asked() {
        let out = run(
            &[
                start(),
                json!({"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 7}}),
                json!({"type": "message_stop"}),
            ],
            true,
        );
        let StreamOutput::Chunk(usage) = &out[out.len() - 2] else {
            panic!()
        };
        assert_eq!(usage["choices"], json!([]));
        assert_eq!(usage["usage"]["prompt_tokens"], 10);
        assert_eq!(usage["usage"]["completion_tokens"], 7);
        let StreamOutput::Chunk(first) = &out[0] else {
            panic!()
        };
        assert_eq!(first["usage"], Value::Null);
    }

    #[test]
    fn tool_input_given_at_block_start_is_sent_at_stop() {
        let out = run(
            &[
                start(),
                json!({"type": "content_block_start", "index": 1, "content_block":
                    {"type": "tool_use", "id": "toolu_9", "name": "f", "input": {"x": 1}}}),
                json!({"type": "content_block_stop", "index": 1}),
            ],
            false,
        );
        assert_eq!(
            deltas(&out)[1..],
            [
                json!({"tool_calls": [{"index": 0, "id": "toolu_9", "type": "function", "function": {"name": "f", "arguments": ""}}]}),
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"x\":1}"}}]}),
            ]
        );
    }

    #[test]
    fn thinking_blocks_are_skipped() {
        let out = run(
            &[
                start(),
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "thinking", "thinking": ""}}),
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hmm"}}),
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "abc"}}),
                json!({"type": "content_block_stop", "index": 0}),
            ],
            false,
        );
        assert_eq!(
            deltas(&out),
            vec![json!({"role": "assistant", "content": ""})]
        );
    }

    #[test]
    fn upstream_error_event_becomes_an_openai_error() {
        let mut stream = AnthropicToOpenAiStream::new(0, false);
        stream.push(&start()).unwrap();
        let out = stream
            .push(&json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}))
            .unwrap();
        assert_eq!(
            out[0],
            StreamOutput::Chunk(json!({"error": {"message": "Overloaded",
            "type": "server_error", "param": null, "code": "overloaded_error"}}))
        );
        assert_eq!(out[1], StreamOutput::Done);
        assert!(stream.is_done());
        assert!(
            stream
                .push(&json!({"type": "message_stop"}))
                .unwrap()
                .is_empty()
        );
        assert!(stream.finish().is_empty());
    }

    #[test]
    fn truncated_stream_ends_with_an_error() {
        let out = run(&[start()], false);
        let StreamOutput::Chunk(error) = &out[1] else {
            panic!()
        };
        assert_eq!(error["error"]["code"], "incomplete_stream");
        assert_eq!(out[2], StreamOutput::Done);
    }

    #[test]
    fn sse_output_and_input() {
        assert_eq!(
            &StreamOutput::Done.to_sse().encode()[..],
            b"data: [DONE]\n\n"
        );
        let mut stream = AnthropicToOpenAiStream::new(0, false);
        let err = stream
            .push_sse(&SseEvent::named("message_start", "not json"))
            .unwrap_err();
        assert!(err.to_string().contains("`message_start` event"), "{err}");
    }
}
