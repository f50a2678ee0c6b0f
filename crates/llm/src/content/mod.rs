//! The text a prompt guard inspects, and where to write a masked version.
//!
//! [`request_segments`] and [`response_segments`] list the text of a body
//! as [`Segment`]s: what the text is ([`Part`]), the text itself and its
//! [`Location`] in the body. After scanning, [`set_text`] writes the masked
//! text back at that location.
//!
//! Tool inputs are structured JSON. They are listed leaf by leaf: every
//! string and number in a tool's input (Anthropic `tool_use.input`) or in
//! its arguments (OpenAI `arguments`, a string holding JSON, which is
//! parsed) is one segment, so masking one value keeps the JSON valid. A
//! number is listed as its JSON text; masking it replaces it with a string.
//! Arguments that are not valid JSON are one segment holding the raw string.
//! Object keys, booleans and nulls are not listed.
//!
//! For streamed responses, [`stream_segments`] lists the text one parsed
//! SSE event carries, with the [`Channel`] it continues (a content block, a
//! choice's content, one tool call's arguments) so a caller can run one
//! streaming scanner per channel across events; [`set_text`] rewrites the
//! event, which the caller re-encodes as a well-framed SSE event. See
//! [`stream_segments`] for the recipe.
//!
//! Images, documents, thinking signatures and tool definitions are not
//! listed.

mod anthropic;
mod collector;
mod openai_chat;
mod openai_responses;

use std::fmt;

use serde_json::Value;

use crate::format::ApiFormat;
use collector::Collector;

/// What a piece of text is, for guards that look only at some parts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Part {
    /// System or developer instructions (Anthropic `system`, OpenAI
    /// `system`/`developer` messages, Responses `instructions`).
    SystemPrompt,
    /// Conversation text: user prompts and model output (reasoning
    /// summaries and thinking included).
    Message,
    /// Arguments of a tool call.
    ToolInput,
    /// What a tool returned.
    ToolOutput,
}

/// Where a segment's text lives in a body.
///
/// `pointer` is a JSON Pointer (RFC 6901) into the body. When the value
/// there is a string holding JSON (OpenAI tool `arguments`), `embedded` is
/// a JSON Pointer into that embedded document.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    /// JSON Pointer into the body.
    pub pointer: String,
    /// JSON Pointer into the JSON document held by the string at `pointer`.
    pub embedded: Option<String>,
}

impl Location {
    /// A location directly in the body.
    pub fn at(pointer: impl Into<String>) -> Self {
        Location {
            pointer: pointer.into(),
            embedded: None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.embedded {
            Some(embedded) => write!(f, "{}#{}", self.pointer, embedded),
            None => f.write_str(&self.pointer),
        }
    }
}

/// One piece of text in a body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    /// What the text is.
    pub part: Part,
    /// The text.
    pub text: String,
    /// Where it is.
    pub location: Location,
}

/// Which text stream a streamed segment continues.
///
/// - Anthropic: `index` is the content block index; `sub` is 0.
/// - OpenAI Chat: `index` is the choice index; `sub` is 0 for `content`,
///   1 for `refusal` and 2 + the tool call index for that call's arguments.
/// - OpenAI Responses: `index` is the output index; `sub` is the content
///   (or summary) index, 0 for a function call's arguments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Channel {
    /// The block, choice or output item.
    pub index: u64,
    /// The text stream within it.
    pub sub: u64,
}

/// Whether a streamed segment is a piece of its channel or all of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SegmentKind {
    /// The next piece of the channel's text: scan it with the channel's
    /// streaming scanner.
    Delta,
    /// The channel's whole text, repeated by a summary event (Responses
    /// `*.done`, `response.output_item.done`, `response.completed`): scan it
    /// whole, or the unmasked text leaks through the summary.
    Full,
}

/// One piece of text in a streamed event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamSegment {
    /// What the text is, where it is in the event, and the text.
    pub segment: Segment,
    /// The text stream it belongs to.
    pub channel: Channel,
    /// A piece of the channel's text, or all of it.
    pub kind: SegmentKind,
}

/// The text segments of a request body of `format`, in document order.
pub fn request_segments(format: ApiFormat, body: &Value) -> Vec<Segment> {
    let mut found = Collector::default();
    match format {
        ApiFormat::AnthropicMessages => anthropic::request(body, &mut found),
        ApiFormat::OpenAiChat => openai_chat::request(body, &mut found),
        ApiFormat::OpenAiResponses => openai_responses::request(body, &mut found),
    }
    found.into_segments()
}

/// The text segments of a (non-streamed) response body of `format`.
pub fn response_segments(format: ApiFormat, body: &Value) -> Vec<Segment> {
    let mut found = Collector::default();
    match format {
        ApiFormat::AnthropicMessages => anthropic::response(body, &mut found),
        ApiFormat::OpenAiChat => openai_chat::response(body, &mut found),
        ApiFormat::OpenAiResponses => openai_responses::response(body, &mut found),
    }
    found.into_segments()
}

/// The text one streamed event of `format` carries (its SSE data, parsed).
///
/// Events that carry no text give an empty list. A streaming guard:
///
/// 1. keeps one scanner per [`Channel`];
/// 2. for each [`SegmentKind::Delta`] segment, pushes the text to its
///    channel's scanner and writes what the scanner releases back with
///    [`set_text`] (possibly an empty string: the event still frames
///    correctly);
/// 3. on an event without delta segments (a block stop, a finish chunk, a
///    `*.done` event), first flushes the scanners holding text, emitting it
///    in a copy of the channel's last delta event rewritten with
///    [`set_text`];
/// 4. scans [`SegmentKind::Full`] segments whole and rewrites them.
///
/// Anthropic `input_json_delta` and OpenAI argument deltas are listed as raw
/// JSON fragments, not leaves: they are not valid JSON on their own.
pub fn stream_segments(format: ApiFormat, event: &Value) -> Vec<StreamSegment> {
    match format {
        ApiFormat::AnthropicMessages => anthropic::stream(event),
        ApiFormat::OpenAiChat => openai_chat::stream(event),
        ApiFormat::OpenAiResponses => openai_responses::stream(event),
    }
}

/// A location [`set_text`] cannot write to.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ContentError {
    /// Nothing is at the location.
    #[error(
        "no value at {location}; list the segments again from the current body before \
         writing back"
    )]
    NotFound {
        /// The location.
        location: Location,
    },
    /// The value at the location is not text.
    #[error(
        "the value at {location} is {found}, not a string or number; only text can be replaced"
    )]
    NotText {
        /// The location.
        location: Location,
        /// The JSON type found.
        found: &'static str,
    },
    /// The string at the location does not hold JSON.
    #[error(
        "the string at {} does not hold a JSON document, so {location} cannot be written; \
         list the segments again from the current body",
        .location.pointer
    )]
    NotEmbeddedJson {
        /// The location.
        location: Location,
    },
}

/// Replaces the text at `location` in `body` with `text`.
///
/// A number at the location is replaced by the string `text`. For an
/// embedded location, the JSON held by the string is parsed, changed and
/// serialized back (compactly).
pub fn set_text(body: &mut Value, location: &Location, text: String) -> Result<(), ContentError> {
    let not_found = || ContentError::NotFound {
        location: location.clone(),
    };
    let target = body.pointer_mut(&location.pointer).ok_or_else(not_found)?;
    let Some(embedded) = &location.embedded else {
        return replace_leaf(target, text, location);
    };
    let Value::String(holder) = target else {
        return Err(ContentError::NotEmbeddedJson {
            location: location.clone(),
        });
    };
    let mut document: Value =
        serde_json::from_str(holder).map_err(|_| ContentError::NotEmbeddedJson {
            location: location.clone(),
        })?;
    let leaf = document.pointer_mut(embedded).ok_or_else(not_found)?;
    replace_leaf(leaf, text, location)?;
    *holder = document.to_string();
    Ok(())
}

fn replace_leaf(target: &mut Value, text: String, location: &Location) -> Result<(), ContentError> {
    match target {
        Value::String(_) | Value::Number(_) => {
            *target = Value::String(text);
            Ok(())
        }
        other => Err(ContentError::NotText {
            location: location.clone(),
            found: crate::json::type_name(other),
        }),
    }
}

#[cfg(test)]
mod tests;
