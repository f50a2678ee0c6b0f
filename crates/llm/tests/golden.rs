//! Golden-file tests for the wire translations.
//!
//! Fixtures live in `tests/golden/`, written by hand from the providers'
//! documented wire formats:
//!
//! - `request_<name>.openai.json` → `request_<name>.anthropic.json`;
//! - `response_<name>.anthropic.json` → `response_<name>.openai.json`;
//! - `error_<name>.anthropic.json` → `error_<name>.openai.json`;
//! - `stream_<name>.anthropic.sse` → `stream_<name>.openai.sse`.
//!
//! JSON is compared as values, so key order and whitespace do not matter.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use palisade_llm::ApiFormat;
use palisade_llm::content::{self, Channel, SegmentKind};
use palisade_llm::defaults::{RequestDefaults, apply_defaults};
use palisade_llm::sse::{SseEvent, SseParser};
use palisade_llm::translate::{
    AnthropicToOpenAiStream, StreamOutput, anthropic_error_to_openai, anthropic_to_openai_chat,
    openai_chat_to_anthropic,
};
use palisade_llm::usage::{self, StreamUsage, TokenUsage};
use serde_json::Value;

const CREATED: u64 = 1_735_689_600;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn read(name: &str) -> Vec<u8> {
    let path = golden_dir().join(name);
    fs::read(&path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()))
}

fn read_json(name: &str) -> Value {
    serde_json::from_slice(&read(name)).unwrap_or_else(|err| panic!("parsing {name}: {err}"))
}

/// The `<name>` of every fixture named `<prefix><name><suffix>`.
fn fixtures(prefix: &str, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(golden_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter_map(|file| Some(file.strip_prefix(prefix)?.strip_suffix(suffix)?.to_owned()))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no {prefix}*{suffix} fixtures");
    names
}

#[test]
fn request_translation() {
    for name in fixtures("request_", ".openai.json") {
        let input = read_json(&format!("request_{name}.openai.json"));
        let expected = read_json(&format!("request_{name}.anthropic.json"));
        let actual = openai_chat_to_anthropic(&input).unwrap();
        assert_eq!(actual, expected, "request_{name}: got {actual:#}");

        // The translated body is ready for Anthropic once defaults are applied.
        let mut body = actual;
        apply_defaults(
            &mut body,
            ApiFormat::AnthropicMessages,
            &RequestDefaults::with_model("m"),
        )
        .unwrap();
        assert!(body["max_tokens"].is_u64(), "request_{name}");
    }
}

#[test]
fn response_translation() {
    for name in fixtures("response_", ".anthropic.json") {
        let input = read_json(&format!("response_{name}.anthropic.json"));
        let expected = read_json(&format!("response_{name}.openai.json"));
        let actual = anthropic_to_openai_chat(&input, CREATED).unwrap();
        assert_eq!(actual, expected, "response_{name}: got {actual:#}");

        // Both sides report the same usage.
        assert_eq!(
            usage::from_response(ApiFormat::AnthropicMessages, &input).map(without_cache_writes),
            usage::from_response(ApiFormat::OpenAiChat, &actual),
            "response_{name}"
        );
    }
}

/// OpenAI has no cache-write counter; they are part of its prompt tokens.
fn without_cache_writes(usage: TokenUsage) -> TokenUsage {
    TokenUsage {
        cache_creation_input_tokens: 0,
        ..usage
    }
}

#[test]
fn error_translation() {
    for name in fixtures("error_", ".anthropic.json") {
        let input = read_json(&format!("error_{name}.anthropic.json"));
        let expected = read_json(&format!("error_{name}.openai.json"));
        assert_eq!(anthropic_error_to_openai(&input), expected, "error_{name}");
    }
}

/// Parses a whole SSE file.
fn parse_sse(bytes: &[u8]) -> Vec<SseEvent> {
    let mut parser = SseParser::new();
    let mut events = parser.push(bytes).unwrap();
    events.extend(parser.finish().unwrap());
    events
}

/// What a client receives, comparable across JSON formatting.
fn client_view(events: &[SseEvent]) -> Vec<Option<Value>> {
    events
        .iter()
        .map(|event| {
            assert_eq!(event.event, None, "OpenAI chunks are unnamed events");
            (event.data != "[DONE]").then(|| event.json().unwrap())
        })
        .collect()
}

/// Feeds `chunks` of an Anthropic stream through the parser and the
/// translator, and encodes what a client would receive.
fn translate_stream<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut parser = SseParser::new();
    let mut translator = AnthropicToOpenAiStream::new(CREATED, true);
    let mut wire = Vec::new();
    let mut emit = |outputs: Vec<StreamOutput>| {
        for output in outputs {
            wire.extend_from_slice(&output.to_sse().encode());
        }
    };
    for chunk in chunks {
        for event in parser.push(chunk).unwrap() {
            emit(translator.push_sse(&event).unwrap());
        }
    }
    assert_eq!(parser.finish().unwrap(), None);
    emit(translator.finish());
    wire
}

#[test]
fn stream_translation_at_awkward_boundaries() {
    for name in fixtures("stream_", ".anthropic.sse") {
        let transcript = read(&format!("stream_{name}.anthropic.sse"));
        let expected = client_view(&parse_sse(&read(&format!("stream_{name}.openai.sse"))));

        let whole = translate_stream([transcript.as_slice()]);
        assert_eq!(
            client_view(&parse_sse(&whole)),
            expected,
            "stream_{name} in one chunk"
        );

        for size in [1, 2, 3, 5, 7, 13, 64, 1000] {
            let wire = translate_stream(transcript.chunks(size));
            assert_eq!(wire, whole, "stream_{name} in chunks of {size} bytes");
        }
        for split in 1..transcript.len() {
            let (a, b) = transcript.split_at(split);
            assert_eq!(
                translate_stream([a, b]),
                whole,
                "stream_{name} split at byte {split}"
            );
        }

        let crlf = String::from_utf8(transcript.clone())
            .unwrap()
            .replace('\n', "\r\n");
        for size in [1, 2, 7] {
            let wire = translate_stream(crlf.as_bytes().chunks(size));
            assert_eq!(
                wire, whole,
                "stream_{name} with CRLF in chunks of {size} bytes"
            );
        }
    }
}

#[test]
fn stream_fixture_splits_inside_code_points() {
    let transcript = read("stream_tool_call.anthropic.sse");
    let text = String::from_utf8(transcript.clone()).unwrap();
    let whole = translate_stream([transcript.as_slice()]);
    for needle in ["é", "🌦"] {
        let start = text.find(needle).unwrap();
        for inside in 1..needle.len() {
            let (a, b) = transcript.split_at(start + inside);
            assert!(
                std::str::from_utf8(a).is_err(),
                "the split must cut {needle}"
            );
            assert_eq!(translate_stream([a, b]), whole, "split inside {needle}");
        }
    }
}

#[test]
fn stream_usage_is_the_same_on_both_sides() {
    let upstream = parse_sse(&read("stream_tool_call.anthropic.sse"));
    let mut anthropic = StreamUsage::new(ApiFormat::AnthropicMessages);
    for event in &upstream {
        anthropic.observe(&event.json().unwrap());
    }
    let usage = anthropic.usage().unwrap();
    assert_eq!(
        (
            usage.input_tokens,
            usage.output_tokens,
            usage.cache_read_input_tokens
        ),
        (600, 89, 128)
    );

    let mut openai = StreamUsage::new(ApiFormat::OpenAiChat);
    for event in parse_sse(&read("stream_tool_call.openai.sse")) {
        if let Ok(chunk) = event.json() {
            openai.observe(&chunk);
        }
    }
    assert_eq!(openai.usage(), Some(usage));
}

/// Concatenates the delta text of each channel.
fn channel_texts(format: ApiFormat, events: &[SseEvent]) -> BTreeMap<Channel, String> {
    let mut texts = BTreeMap::<Channel, String>::new();
    for event in events {
        let Ok(data) = event.json() else { continue };
        for segment in content::stream_segments(format, &data) {
            assert_eq!(segment.kind, SegmentKind::Delta);
            texts
                .entry(segment.channel)
                .or_default()
                .push_str(&segment.segment.text);
        }
    }
    texts
}

#[test]
fn stream_segments_agree_across_formats() {
    let text = "Je vais vérifier la météo 🌦️ et l'heure.";
    let weather = r#"{"location": "Paris, France", "unit": "celsius"}"#;
    let time = r#"{"timezone": "Europe/Paris"}"#;

    let upstream = parse_sse(&read("stream_tool_call.anthropic.sse"));
    let anthropic = channel_texts(ApiFormat::AnthropicMessages, &upstream);
    let block = |index| Channel { index, sub: 0 };
    assert_eq!(
        anthropic,
        BTreeMap::from([
            (block(0), text.into()),
            (block(1), weather.into()),
            (block(2), time.into())
        ])
    );

    let client = parse_sse(&read("stream_tool_call.openai.sse"));
    let openai = channel_texts(ApiFormat::OpenAiChat, &client);
    let lane = |sub| Channel { index: 0, sub };
    assert_eq!(
        openai,
        BTreeMap::from([
            (lane(0), text.into()),
            (lane(2), weather.into()),
            (lane(3), time.into())
        ])
    );
}

#[test]
fn rewritten_stream_events_stay_well_framed() {
    // A guard rewrites every text delta, re-encodes the events and the
    // client still parses the same stream, with the rewritten text.
    let upstream = parse_sse(&read("stream_tool_call.anthropic.sse"));
    let mut wire = Vec::new();
    for event in &upstream {
        let mut data = event.json().unwrap();
        for segment in content::stream_segments(ApiFormat::AnthropicMessages, &data) {
            let masked = segment.segment.text.replace("Paris", "<CITY>\n\n");
            content::set_text(&mut data, &segment.segment.location, masked).unwrap();
        }
        let rewritten = SseEvent {
            data: data.to_string(),
            ..event.clone()
        };
        wire.extend_from_slice(&rewritten.encode());
    }
    let reparsed = parse_sse(&wire);
    assert_eq!(reparsed.len(), upstream.len());
    let texts = channel_texts(ApiFormat::AnthropicMessages, &reparsed);
    assert_eq!(
        texts[&Channel { index: 2, sub: 0 }],
        "{\"timezone\": \"Europe/<CITY>\n\n\"}"
    );
    assert!(!texts.values().any(|t| t.contains("Paris")));
}
