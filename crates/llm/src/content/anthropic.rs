//! Text in Anthropic Messages bodies and stream events.

use serde_json::Value;

use super::collector::Collector;
use super::{Channel, Part, SegmentKind, StreamSegment};
use crate::json::str_field;

/// `system` (a string or text blocks) and every message's content.
pub(super) fn request(body: &Value, found: &mut Collector) {
    let none = Channel::default();
    match body.get("system") {
        Some(Value::Array(blocks)) => {
            for (i, block) in blocks.iter().enumerate() {
                if str_field(block, "type") == Some("text") {
                    found.text(
                        Part::SystemPrompt,
                        block.get("text"),
                        format!("/system/{i}/text"),
                        none,
                    );
                }
            }
        }
        system => found.text(Part::SystemPrompt, system, "/system".into(), none),
    }
    for (i, message) in crate::json::array_field(body, "messages")
        .iter()
        .enumerate()
    {
        let base = format!("/messages/{i}/content");
        match message.get("content") {
            Some(Value::Array(blocks)) => {
                for (j, block) in blocks.iter().enumerate() {
                    content_block(block, format!("{base}/{j}"), false, none, found);
                }
            }
            content => found.text(Part::Message, content, base, none),
        }
    }
}

/// The response's content blocks.
pub(super) fn response(body: &Value, found: &mut Collector) {
    for (j, block) in crate::json::array_field(body, "content").iter().enumerate() {
        let channel = Channel {
            index: j as u64,
            sub: 0,
        };
        content_block(block, format!("/content/{j}"), true, channel, found);
    }
}

/// One content block at `base`. Thinking is model output: listed in
/// responses, where it could leak, and not in requests, where it is a
/// signed echo the guard must not alter.
fn content_block(
    block: &Value,
    base: String,
    output: bool,
    channel: Channel,
    found: &mut Collector,
) {
    match str_field(block, "type") {
        Some("text") => found.text(
            Part::Message,
            block.get("text"),
            format!("{base}/text"),
            channel,
        ),
        Some("thinking") if output => {
            found.text(
                Part::Message,
                block.get("thinking"),
                format!("{base}/thinking"),
                channel,
            );
        }
        Some("tool_use" | "server_tool_use") => {
            found.json_leaves(
                Part::ToolInput,
                block.get("input"),
                format!("{base}/input"),
                channel,
            );
        }
        Some("tool_result") => match block.get("content") {
            Some(Value::Array(items)) => {
                for (k, item) in items.iter().enumerate() {
                    if str_field(item, "type") == Some("text") {
                        let pointer = format!("{base}/content/{k}/text");
                        found.text(Part::ToolOutput, item.get("text"), pointer, channel);
                    }
                }
            }
            content => found.text(
                Part::ToolOutput,
                content,
                format!("{base}/content"),
                channel,
            ),
        },
        _ => {}
    }
}

/// Text deltas, tool input fragments and thinking deltas; the text or input
/// a block may already carry when it starts.
pub(super) fn stream(event: &Value) -> Vec<StreamSegment> {
    let mut found = Collector::default();
    let channel = Channel {
        index: event.get("index").and_then(Value::as_u64).unwrap_or(0),
        sub: 0,
    };
    match str_field(event, "type") {
        Some("content_block_delta") => {
            let delta = event.get("delta").unwrap_or(&Value::Null);
            let (part, key) = match str_field(delta, "type") {
                Some("text_delta") => (Part::Message, "text"),
                Some("input_json_delta") => (Part::ToolInput, "partial_json"),
                Some("thinking_delta") => (Part::Message, "thinking"),
                _ => return Vec::new(),
            };
            found.text(part, delta.get(key), format!("/delta/{key}"), channel);
            found.into_stream(SegmentKind::Delta)
        }
        Some("content_block_start") => {
            let block = event.get("content_block").unwrap_or(&Value::Null);
            match str_field(block, "type") {
                // Text a block starts with is the first piece of its channel.
                Some("text") => {
                    found.text(
                        Part::Message,
                        block.get("text"),
                        "/content_block/text".into(),
                        channel,
                    );
                    found.into_stream(SegmentKind::Delta)
                }
                Some("tool_use" | "server_tool_use") => {
                    let pointer = "/content_block/input".to_owned();
                    found.json_leaves(Part::ToolInput, block.get("input"), pointer, channel);
                    found.into_stream(SegmentKind::Full)
                }
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}
