//! Gathers segments while a format walker goes through a body.

use serde_json::Value;

use super::{Channel, Location, Part, Segment, SegmentKind, StreamSegment};
use crate::json::escape_token;

/// Segments found so far, each with its channel.
#[derive(Default)]
pub(super) struct Collector {
    found: Vec<(Segment, Channel)>,
}

impl Collector {
    /// The string at `pointer`, when `value` is a non-empty string.
    pub(super) fn text(
        &mut self,
        part: Part,
        value: Option<&Value>,
        pointer: String,
        channel: Channel,
    ) {
        if let Some(text) = value.and_then(Value::as_str).filter(|t| !t.is_empty()) {
            self.push(part, text.to_owned(), Location::at(pointer), channel);
        }
    }

    /// Every string and number leaf of `value`, which is at `pointer`.
    pub(super) fn json_leaves(
        &mut self,
        part: Part,
        value: Option<&Value>,
        pointer: String,
        channel: Channel,
    ) {
        if let Some(value) = value {
            walk_leaves(value, pointer, &mut |text, leaf| {
                self.push(part, text, Location::at(leaf), channel);
            });
        }
    }

    /// The leaves of the JSON document held by the string at `pointer`; the
    /// whole string when it holds no JSON.
    pub(super) fn embedded_json(
        &mut self,
        part: Part,
        value: Option<&Value>,
        pointer: String,
        channel: Channel,
    ) {
        let Some(text) = value.and_then(Value::as_str).filter(|t| !t.is_empty()) else {
            return;
        };
        match serde_json::from_str::<Value>(text) {
            Ok(document) => walk_leaves(&document, String::new(), &mut |leaf_text, embedded| {
                let location = Location {
                    pointer: pointer.clone(),
                    embedded: Some(embedded),
                };
                self.push(part, leaf_text, location, channel);
            }),
            Err(_) => self.push(part, text.to_owned(), Location::at(pointer), channel),
        }
    }

    fn push(&mut self, part: Part, text: String, location: Location, channel: Channel) {
        self.found.push((
            Segment {
                part,
                text,
                location,
            },
            channel,
        ));
    }

    pub(super) fn into_segments(self) -> Vec<Segment> {
        self.found.into_iter().map(|(segment, _)| segment).collect()
    }

    pub(super) fn into_stream(self, kind: SegmentKind) -> Vec<StreamSegment> {
        self.found
            .into_iter()
            .map(|(segment, channel)| StreamSegment {
                segment,
                channel,
                kind,
            })
            .collect()
    }
}

/// Calls `f(text, pointer)` for every non-empty string and every number in
/// `value`, in document order. Recursion is bounded by serde_json's own
/// nesting limit on parsed documents.
fn walk_leaves(value: &Value, pointer: String, f: &mut dyn FnMut(String, String)) {
    match value {
        Value::String(text) if !text.is_empty() => f(text.clone(), pointer),
        Value::Number(number) => f(number.to_string(), pointer),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_leaves(item, format!("{pointer}/{i}"), f);
            }
        }
        Value::Object(map) => {
            for (key, item) in map {
                walk_leaves(item, format!("{pointer}/{}", escape_token(key)), f);
            }
        }
        _ => {}
    }
}
