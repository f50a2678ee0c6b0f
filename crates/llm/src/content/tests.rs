use serde_json::{Value, json};

use super::Part::*;
use super::*;

/// (part, location, text) triples, for compact expectations.
fn listed(segments: &[Segment]) -> Vec<(Part, String, String)> {
    segments
        .iter()
        .map(|s| (s.part, s.location.to_string(), s.text.clone()))
        .collect()
}

fn triple(part: Part, location: &str, text: &str) -> (Part, String, String) {
    (part, location.to_owned(), text.to_owned())
}

#[test]
fn anthropic_request_segments() {
    let body = json!({
        "model": "claude-sonnet-4-5",
        "system": [{"type": "text", "text": "You are terse."}],
        "messages": [
            {"role": "user", "content": "Card 4111 1111 1111 1111"},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "signed", "signature": "sig"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "t1", "name": "lookup", "input": {"n": 3, "opts": {"exact": true, "tags": ["x"]}, "q": "alice"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "found alice@example.com"},
                {"type": "tool_result", "tool_use_id": "t2", "content": [{"type": "text", "text": "more"}, {"type": "image", "source": {}}]},
                {"type": "text", "text": "and?"}
            ]}
        ]
    });
    assert_eq!(
        listed(&request_segments(ApiFormat::AnthropicMessages, &body)),
        vec![
            triple(SystemPrompt, "/system/0/text", "You are terse."),
            triple(Message, "/messages/0/content", "Card 4111 1111 1111 1111"),
            triple(Message, "/messages/1/content/1/text", "Checking."),
            triple(ToolInput, "/messages/1/content/2/input/n", "3"),
            triple(ToolInput, "/messages/1/content/2/input/opts/tags/0", "x"),
            triple(ToolInput, "/messages/1/content/2/input/q", "alice"),
            triple(
                ToolOutput,
                "/messages/2/content/0/content",
                "found alice@example.com"
            ),
            triple(ToolOutput, "/messages/2/content/1/content/0/text", "more"),
            triple(Message, "/messages/2/content/2/text", "and?"),
        ]
    );
    let body = json!({"system": "plain", "messages": []});
    assert_eq!(
        listed(&request_segments(ApiFormat::AnthropicMessages, &body)),
        vec![triple(SystemPrompt, "/system", "plain")]
    );
}

#[test]
fn openai_chat_request_segments() {
    let body = json!({"messages": [
        {"role": "developer", "content": "Rules."},
        {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "image_url", "image_url": {"url": "https://x"}}]},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a/b\":[1],\"ssn\":\"078-05-1120\"}"}},
            {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "not json"}}
        ]},
        {"role": "tool", "tool_call_id": "c1", "content": "ok"}
    ]});
    assert_eq!(
        listed(&request_segments(ApiFormat::OpenAiChat, &body)),
        vec![
            triple(SystemPrompt, "/messages/0/content", "Rules."),
            triple(Message, "/messages/1/content/0/text", "Hi"),
            triple(
                ToolInput,
                "/messages/2/tool_calls/0/function/arguments#/a~1b/0",
                "1"
            ),
            triple(
                ToolInput,
                "/messages/2/tool_calls/0/function/arguments#/ssn",
                "078-05-1120"
            ),
            triple(
                ToolInput,
                "/messages/2/tool_calls/1/function/arguments",
                "not json"
            ),
            triple(ToolOutput, "/messages/3/content", "ok"),
        ]
    );
}

#[test]
fn openai_responses_request_segments() {
    let body = json!({
        "instructions": "Be nice.",
        "input": [
            {"role": "user", "content": "plain"},
            {"type": "message", "role": "system", "content": [{"type": "input_text", "text": "sys"}]},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "prev", "annotations": []}]},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "echo"}]},
            {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{\"x\":\"y\"}"},
            {"type": "function_call_output", "call_id": "c", "output": "result"}
        ]
    });
    assert_eq!(
        listed(&request_segments(ApiFormat::OpenAiResponses, &body)),
        vec![
            triple(SystemPrompt, "/instructions", "Be nice."),
            triple(Message, "/input/0/content", "plain"),
            triple(SystemPrompt, "/input/1/content/0/text", "sys"),
            triple(Message, "/input/2/content/0/text", "prev"),
            triple(ToolInput, "/input/4/arguments#/x", "y"),
            triple(ToolOutput, "/input/5/output", "result"),
        ]
    );
    assert_eq!(
        listed(&request_segments(
            ApiFormat::OpenAiResponses,
            &json!({"input": "just text"})
        )),
        vec![triple(Message, "/input", "just text")]
    );
}

#[test]
fn response_segments_of_each_format() {
    let anthropic = json!({"content": [
        {"type": "thinking", "thinking": "let me think"},
        {"type": "text", "text": "Answer"},
        {"type": "tool_use", "id": "t", "name": "f", "input": {"k": "v"}}
    ]});
    assert_eq!(
        listed(&response_segments(ApiFormat::AnthropicMessages, &anthropic)),
        vec![
            triple(Message, "/content/0/thinking", "let me think"),
            triple(Message, "/content/1/text", "Answer"),
            triple(ToolInput, "/content/2/input/k", "v"),
        ]
    );

    let chat = json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": "Answer",
        "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{\"k\":\"v\"}"}}]}}]});
    assert_eq!(
        listed(&response_segments(ApiFormat::OpenAiChat, &chat)),
        vec![
            triple(Message, "/choices/0/message/content", "Answer"),
            triple(
                ToolInput,
                "/choices/0/message/tool_calls/0/function/arguments#/k",
                "v"
            ),
        ]
    );

    let responses = json!({"output": [
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "thought"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Answer"}, {"type": "refusal", "refusal": "No."}]},
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{\"k\":\"v\"}"}
    ]});
    assert_eq!(
        listed(&response_segments(ApiFormat::OpenAiResponses, &responses)),
        vec![
            triple(Message, "/output/0/summary/0/text", "thought"),
            triple(Message, "/output/1/content/0/text", "Answer"),
            triple(Message, "/output/1/content/1/refusal", "No."),
            triple(ToolInput, "/output/2/arguments#/k", "v"),
        ]
    );
}

#[test]
fn set_text_writes_back_at_every_kind_of_location() {
    let mut body = json!({"messages": [
        {"role": "user", "content": "card 4111111111111111"},
        {"role": "assistant", "tool_calls": [{"id": "c", "type": "function",
            "function": {"name": "f", "arguments": "{\"card\": 4111111111111111, \"note\": \"hi\"}"}}]}
    ]});
    let segments = request_segments(ApiFormat::OpenAiChat, &body);
    assert_eq!(segments.len(), 3);
    for segment in &segments {
        let masked = segment.text.replace("4111111111111111", "<CREDIT_CARD>");
        set_text(&mut body, &segment.location, masked).unwrap();
    }
    assert_eq!(body["messages"][0]["content"], "card <CREDIT_CARD>");
    let arguments: Value = serde_json::from_str(
        body.pointer("/messages/1/tool_calls/0/function/arguments")
            .unwrap()
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(arguments, json!({"card": "<CREDIT_CARD>", "note": "hi"}));

    let mut anthropic = json!({"messages": [{"role": "assistant", "content": [
        {"type": "tool_use", "id": "t", "name": "f", "input": {"pin": 1234}}]}]});
    let segments = request_segments(ApiFormat::AnthropicMessages, &anthropic);
    set_text(&mut anthropic, &segments[0].location, "<PIN>".into()).unwrap();
    assert_eq!(
        anthropic.pointer("/messages/0/content/0/input/pin"),
        Some(&json!("<PIN>"))
    );
}

#[test]
fn set_text_errors() {
    let mut body = json!({"a": {"b": true}, "s": "plain"});
    let err = set_text(&mut body, &Location::at("/missing"), "x".into()).unwrap_err();
    assert_eq!(
        err,
        ContentError::NotFound {
            location: Location::at("/missing")
        }
    );
    let err = set_text(&mut body, &Location::at("/a/b"), "x".into()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the value at /a/b is a boolean, not a string or number; only text can be replaced"
    );
    let embedded = Location {
        pointer: "/s".into(),
        embedded: Some("/k".into()),
    };
    let err = set_text(&mut body, &embedded, "x".into()).unwrap_err();
    assert!(matches!(err, ContentError::NotEmbeddedJson { .. }), "{err}");
    assert_eq!(body, json!({"a": {"b": true}, "s": "plain"}));
}

fn streamed(format: ApiFormat, event: Value) -> Vec<(Part, String, String, Channel, SegmentKind)> {
    stream_segments(format, &event)
        .into_iter()
        .map(|s| {
            (
                s.segment.part,
                s.segment.location.to_string(),
                s.segment.text,
                s.channel,
                s.kind,
            )
        })
        .collect()
}

#[test]
fn anthropic_stream_segments() {
    let f = ApiFormat::AnthropicMessages;
    let ch = |index| Channel { index, sub: 0 };
    assert_eq!(
        streamed(
            f,
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}})
        ),
        vec![(
            Message,
            "/delta/text".into(),
            "Hel".into(),
            ch(0),
            SegmentKind::Delta
        )]
    );
    assert_eq!(
        streamed(
            f,
            json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": "{\"ci"}})
        ),
        vec![(
            ToolInput,
            "/delta/partial_json".into(),
            "{\"ci".into(),
            ch(2),
            SegmentKind::Delta
        )]
    );
    assert!(streamed(f, json!({"type": "content_block_delta", "index": 2, "delta": {"type": "input_json_delta", "partial_json": ""}})).is_empty());
    assert!(streamed(f, json!({"type": "content_block_stop", "index": 0})).is_empty());
    assert!(
        streamed(
            f,
            json!({"type": "message_start", "message": {"content": []}})
        )
        .is_empty()
    );
    assert!(streamed(f, json!({"type": "content_block_start", "index": 1, "content_block": {"type": "tool_use", "input": {}}})).is_empty());
}

#[test]
fn openai_chat_stream_segments() {
    let event = json!({"choices": [{"index": 0, "delta": {"content": "4111", "tool_calls": [
        {"index": 1, "function": {"arguments": "{\"a\":"}}
    ]}, "finish_reason": null}]});
    assert_eq!(
        streamed(ApiFormat::OpenAiChat, event),
        vec![
            (
                Message,
                "/choices/0/delta/content".into(),
                "4111".into(),
                Channel { index: 0, sub: 0 },
                SegmentKind::Delta
            ),
            (
                ToolInput,
                "/choices/0/delta/tool_calls/0/function/arguments".into(),
                "{\"a\":".into(),
                Channel { index: 0, sub: 3 },
                SegmentKind::Delta
            ),
        ]
    );
    let finish = json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
    assert!(streamed(ApiFormat::OpenAiChat, finish).is_empty());
}

#[test]
fn openai_responses_stream_segments() {
    let f = ApiFormat::OpenAiResponses;
    let ch = Channel { index: 1, sub: 0 };
    assert_eq!(
        streamed(
            f,
            json!({"type": "response.output_text.delta", "output_index": 1, "content_index": 0, "delta": "Hi"})
        ),
        vec![(
            Message,
            "/delta".into(),
            "Hi".into(),
            ch,
            SegmentKind::Delta
        )]
    );
    assert_eq!(
        streamed(
            f,
            json!({"type": "response.output_text.done", "output_index": 1, "content_index": 0, "text": "Hi there"})
        ),
        vec![(
            Message,
            "/text".into(),
            "Hi there".into(),
            ch,
            SegmentKind::Full
        )]
    );
    assert_eq!(
        streamed(
            f,
            json!({"type": "response.function_call_arguments.done", "output_index": 2, "arguments": "{\"k\":\"v\"}"})
        ),
        vec![(
            ToolInput,
            "/arguments#/k".into(),
            "v".into(),
            Channel { index: 2, sub: 0 },
            SegmentKind::Full
        )]
    );
    assert_eq!(
        streamed(
            f,
            json!({"type": "response.content_part.done", "output_index": 1, "content_index": 0,
            "part": {"type": "output_text", "text": "Hi there"}})
        ),
        vec![(
            Message,
            "/part/text".into(),
            "Hi there".into(),
            ch,
            SegmentKind::Full
        )]
    );
    assert_eq!(
        streamed(
            f,
            json!({"type": "response.output_item.done", "output_index": 1, "item": {
            "type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi there"}]}})
        ),
        vec![(
            Message,
            "/item/content/0/text".into(),
            "Hi there".into(),
            ch,
            SegmentKind::Full
        )]
    );
    assert_eq!(
        streamed(
            f,
            json!({"type": "response.completed", "response": {"output": [
            {"type": "function_call", "arguments": "{}"},
            {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi there"}]}]}})
        ),
        vec![(
            Message,
            "/response/output/1/content/0/text".into(),
            "Hi there".into(),
            ch,
            SegmentKind::Full
        )]
    );
    assert!(
        streamed(
            f,
            json!({"type": "response.in_progress", "response": {"output": []}})
        )
        .is_empty()
    );
    assert!(
        streamed(
            f,
            json!({"type": "response.output_text.annotation.added", "annotation": {}})
        )
        .is_empty()
    );
}

#[test]
fn stream_events_can_be_rewritten() {
    let mut event = json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "my ssn 078-05-1120"}});
    let segments = stream_segments(ApiFormat::AnthropicMessages, &event);
    set_text(
        &mut event,
        &segments[0].segment.location,
        "my ssn <SSN>".into(),
    )
    .unwrap();
    assert_eq!(event["delta"]["text"], "my ssn <SSN>");
}
