//! Text in OpenAI Chat Completions bodies and stream chunks.

use serde_json::Value;

use super::collector::Collector;
use super::{Channel, Part, SegmentKind, StreamSegment};
use crate::json::{array_field, str_field};

/// Every message's content by role, and assistant tool call arguments.
pub(super) fn request(body: &Value, found: &mut Collector) {
    let none = Channel::default();
    for (i, message) in array_field(body, "messages").iter().enumerate() {
        let part = match str_field(message, "role") {
            Some("system" | "developer") => Part::SystemPrompt,
            Some("tool" | "function") => Part::ToolOutput,
            _ => Part::Message,
        };
        let base = format!("/messages/{i}");
        match message.get("content") {
            Some(Value::Array(parts)) => {
                for (j, content_part) in parts.iter().enumerate() {
                    let key = match str_field(content_part, "type") {
                        Some("text") => "text",
                        Some("refusal") => "refusal",
                        _ => continue,
                    };
                    found.text(
                        part,
                        content_part.get(key),
                        format!("{base}/content/{j}/{key}"),
                        none,
                    );
                }
            }
            content => found.text(part, content, format!("{base}/content"), none),
        }
        found.text(
            Part::Message,
            message.get("refusal"),
            format!("{base}/refusal"),
            none,
        );
        tool_calls(message, &base, |_| none, found);
    }
}

/// Every choice's message content, refusal and tool call arguments.
pub(super) fn response(body: &Value, found: &mut Collector) {
    for (i, choice) in array_field(body, "choices").iter().enumerate() {
        let index = choice
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(i as u64);
        let base = format!("/choices/{i}/message");
        let Some(message) = choice.get("message") else {
            continue;
        };
        found.text(
            Part::Message,
            message.get("content"),
            format!("{base}/content"),
            Channel { index, sub: 0 },
        );
        found.text(
            Part::Message,
            message.get("refusal"),
            format!("{base}/refusal"),
            Channel { index, sub: 1 },
        );
        tool_calls(message, &base, |k| Channel { index, sub: 2 + k }, found);
    }
}

/// `tool_calls[].function.arguments` and the legacy `function_call`.
fn tool_calls(
    message: &Value,
    base: &str,
    channel: impl Fn(u64) -> Channel,
    found: &mut Collector,
) {
    for (k, call) in array_field(message, "tool_calls").iter().enumerate() {
        let arguments = call.pointer("/function/arguments");
        let pointer = format!("{base}/tool_calls/{k}/function/arguments");
        found.embedded_json(Part::ToolInput, arguments, pointer, channel(k as u64));
    }
    if let Some(call) = message.get("function_call") {
        let pointer = format!("{base}/function_call/arguments");
        found.embedded_json(Part::ToolInput, call.get("arguments"), pointer, channel(0));
    }
}

/// A chunk's content, refusal and tool call argument deltas.
pub(super) fn stream(event: &Value) -> Vec<StreamSegment> {
    let mut found = Collector::default();
    for (i, choice) in array_field(event, "choices").iter().enumerate() {
        let index = choice
            .get("index")
            .and_then(Value::as_u64)
            .unwrap_or(i as u64);
        let Some(delta) = choice.get("delta") else {
            continue;
        };
        let base = format!("/choices/{i}/delta");
        found.text(
            Part::Message,
            delta.get("content"),
            format!("{base}/content"),
            Channel { index, sub: 0 },
        );
        found.text(
            Part::Message,
            delta.get("refusal"),
            format!("{base}/refusal"),
            Channel { index, sub: 1 },
        );
        for (k, call) in array_field(delta, "tool_calls").iter().enumerate() {
            let call_index = call
                .get("index")
                .and_then(Value::as_u64)
                .unwrap_or(k as u64);
            let pointer = format!("{base}/tool_calls/{k}/function/arguments");
            let channel = Channel {
                index,
                sub: 2 + call_index,
            };
            found.text(
                Part::ToolInput,
                call.pointer("/function/arguments"),
                pointer,
                channel,
            );
        }
    }
    found.into_stream(SegmentKind::Delta)
}
