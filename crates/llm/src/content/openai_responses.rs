//! Text in OpenAI Responses bodies and stream events.
//!
//! Request `input` and response `output` share item shapes (`message`,
//! `function_call`, ...), so one walker serves both; reasoning items are
//! listed only as output, like Anthropic thinking.

use serde_json::Value;

use super::collector::Collector;
use super::{Channel, Part, SegmentKind, StreamSegment};
use crate::json::{array_field, str_field};

/// `instructions` and `input` (a string or items).
pub(super) fn request(body: &Value, found: &mut Collector) {
    found.text(
        Part::SystemPrompt,
        body.get("instructions"),
        "/instructions".into(),
        Channel::default(),
    );
    match body.get("input") {
        Some(Value::Array(items)) => {
            for (i, entry) in items.iter().enumerate() {
                item(entry, &format!("/input/{i}"), i as u64, false, found);
            }
        }
        input => found.text(Part::Message, input, "/input".into(), Channel::default()),
    }
}

/// The response's `output` items.
pub(super) fn response(body: &Value, found: &mut Collector) {
    response_at(body, "", found);
}

fn response_at(body: &Value, base: &str, found: &mut Collector) {
    for (i, entry) in array_field(body, "output").iter().enumerate() {
        item(entry, &format!("{base}/output/{i}"), i as u64, true, found);
    }
}

/// One input or output item at `base`; `index` is its output index.
fn item(item: &Value, base: &str, index: u64, output: bool, found: &mut Collector) {
    let kind = str_field(item, "type").or_else(|| item.get("role").map(|_| "message"));
    let channel = Channel { index, sub: 0 };
    match kind {
        Some("message") => {
            let part = match str_field(item, "role") {
                Some("system" | "developer") => Part::SystemPrompt,
                _ => Part::Message,
            };
            match item.get("content") {
                Some(Value::Array(parts)) => {
                    for (j, content) in parts.iter().enumerate() {
                        let channel = Channel {
                            index,
                            sub: j as u64,
                        };
                        content_part(
                            content,
                            part,
                            &format!("{base}/content/{j}"),
                            channel,
                            found,
                        );
                    }
                }
                content => found.text(part, content, format!("{base}/content"), channel),
            }
        }
        Some("function_call" | "mcp_call") => {
            found.embedded_json(
                Part::ToolInput,
                item.get("arguments"),
                format!("{base}/arguments"),
                channel,
            );
            found.text(
                Part::ToolOutput,
                item.get("output"),
                format!("{base}/output"),
                channel,
            );
        }
        Some("custom_tool_call") => {
            found.text(
                Part::ToolInput,
                item.get("input"),
                format!("{base}/input"),
                channel,
            );
        }
        Some("function_call_output" | "custom_tool_call_output") => match item.get("output") {
            Some(Value::Array(parts)) => {
                for (j, content) in parts.iter().enumerate() {
                    let pointer = format!("{base}/output/{j}");
                    content_part(content, Part::ToolOutput, &pointer, channel, found);
                }
            }
            output => found.text(Part::ToolOutput, output, format!("{base}/output"), channel),
        },
        Some("reasoning") if output => {
            for key in ["summary", "content"] {
                for (j, text) in array_field(item, key).iter().enumerate() {
                    let channel = Channel {
                        index,
                        sub: j as u64,
                    };
                    found.text(
                        Part::Message,
                        text.get("text"),
                        format!("{base}/{key}/{j}/text"),
                        channel,
                    );
                }
            }
        }
        _ => {}
    }
}

/// A content part (`input_text`, `output_text`, `refusal`, ...) at `base`.
fn content_part(content: &Value, part: Part, base: &str, channel: Channel, found: &mut Collector) {
    let key = match str_field(content, "type") {
        Some("input_text" | "output_text" | "text" | "summary_text" | "reasoning_text") => "text",
        Some("refusal") => "refusal",
        _ => return,
    };
    found.text(part, content.get(key), format!("{base}/{key}"), channel);
}

/// Delta events, and the summary events that repeat whole text.
pub(super) fn stream(event: &Value) -> Vec<StreamSegment> {
    let mut found = Collector::default();
    let Some(kind) = str_field(event, "type") else {
        return Vec::new();
    };
    let number = |key: &str| event.get(key).and_then(Value::as_u64).unwrap_or(0);
    let index = number("output_index");
    let content_channel = Channel {
        index,
        sub: number("content_index"),
    };
    let summary_channel = Channel {
        index,
        sub: number("summary_index"),
    };
    let item_channel = Channel { index, sub: 0 };

    let (part, channel, pointer, embedded, segment_kind) = match kind {
        "response.output_text.delta" | "response.refusal.delta" => (
            Part::Message,
            content_channel,
            "/delta",
            false,
            SegmentKind::Delta,
        ),
        "response.reasoning_text.delta" => (
            Part::Message,
            content_channel,
            "/delta",
            false,
            SegmentKind::Delta,
        ),
        "response.reasoning_summary_text.delta" => (
            Part::Message,
            summary_channel,
            "/delta",
            false,
            SegmentKind::Delta,
        ),
        "response.function_call_arguments.delta"
        | "response.custom_tool_call_input.delta"
        | "response.mcp_call_arguments.delta" => (
            Part::ToolInput,
            item_channel,
            "/delta",
            false,
            SegmentKind::Delta,
        ),

        "response.output_text.done" | "response.reasoning_text.done" => (
            Part::Message,
            content_channel,
            "/text",
            false,
            SegmentKind::Full,
        ),
        "response.refusal.done" => (
            Part::Message,
            content_channel,
            "/refusal",
            false,
            SegmentKind::Full,
        ),
        "response.reasoning_summary_text.done" => (
            Part::Message,
            summary_channel,
            "/text",
            false,
            SegmentKind::Full,
        ),
        "response.function_call_arguments.done" | "response.mcp_call_arguments.done" => (
            Part::ToolInput,
            item_channel,
            "/arguments",
            true,
            SegmentKind::Full,
        ),
        "response.custom_tool_call_input.done" => (
            Part::ToolInput,
            item_channel,
            "/input",
            false,
            SegmentKind::Full,
        ),

        "response.content_part.added" | "response.content_part.done" => {
            let content = event.get("part").unwrap_or(&Value::Null);
            content_part(content, Part::Message, "/part", content_channel, &mut found);
            return found.into_stream(SegmentKind::Full);
        }
        "response.reasoning_summary_part.added" | "response.reasoning_summary_part.done" => {
            let content = event.get("part").unwrap_or(&Value::Null);
            content_part(content, Part::Message, "/part", summary_channel, &mut found);
            return found.into_stream(SegmentKind::Full);
        }
        "response.output_item.added" | "response.output_item.done" => {
            item(
                event.get("item").unwrap_or(&Value::Null),
                "/item",
                index,
                true,
                &mut found,
            );
            return found.into_stream(SegmentKind::Full);
        }
        _ if kind.starts_with("response.")
            && event.get("response").is_some_and(Value::is_object) =>
        {
            response_at(&event["response"], "/response", &mut found);
            return found.into_stream(SegmentKind::Full);
        }
        _ => return Vec::new(),
    };
    let value = event.pointer(pointer);
    if embedded {
        found.embedded_json(part, value, pointer.to_owned(), channel);
    } else {
        found.text(part, value, pointer.to_owned(), channel);
    }
    found.into_stream(segment_kind)
}
