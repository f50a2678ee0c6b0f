//! YAML (and JSON, its subset) parsed into a tree that remembers where every node came
//! from, so that diagnostics can name a line for any field path.
//!
//! Scalars follow the YAML 1.2 core schema: plain `true`/`false`, `null`/`~`/empty,
//! integers and floats are typed; quoted scalars and `!!str` are strings. Anchors and
//! aliases are expanded within a node budget, so an alias bomb is an error, not an
//! out-of-memory.

use std::collections::HashMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// Maximum nesting depth of one document.
pub const MAX_DEPTH: usize = 64;
/// Maximum number of nodes (after alias expansion) in one stream.
pub const MAX_NODES: usize = 1_000_000;

/// A parsed YAML node with the position of its first character.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// The value of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `~` or an empty value.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits in `i64`.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    String(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping with string keys, in document order.
    Map(Vec<Entry>),
}

/// One key/value pair of a mapping.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key.
    pub key: String,
    /// 1-based line of the key.
    pub line: usize,
    /// The value.
    pub value: Node,
}

/// A syntax error, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for SyntaxError {}

/// One segment of a field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// Parses a field path such as `spec.rules[0].matches[1]` or `metadata.labels[app.kubernetes.io/name]`
/// into segments. Inside brackets, a number is an index and anything else a key.
pub fn parse_path(path: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').unwrap_or(after.len());
            let inner = &after[..end];
            segments.push(match inner.parse() {
                Ok(i) => Segment::Index(i),
                Err(_) => Segment::Key(inner.to_string()),
            });
            rest = after.get(end + 1..).unwrap_or("");
        } else if let Some(after) = rest.strip_prefix('.') {
            rest = after;
        } else {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            segments.push(Segment::Key(rest[..end].to_string()));
            rest = &rest[end..];
        }
    }
    segments
}

/// Formats path segments the way [`parse_path`] reads them.
pub fn format_path(segments: &[Segment]) -> String {
    let mut out = String::new();
    for s in segments {
        match s {
            Segment::Index(i) => out.push_str(&format!("[{i}]")),
            Segment::Key(k) if k.contains(['.', '[', ']']) || k.is_empty() => {
                out.push_str(&format!("[{k}]"))
            }
            Segment::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
        }
    }
    out
}

impl Node {
    /// The mapping entry for `key`, when this node is a mapping holding it.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        match &self.value {
            Value::Map(entries) => entries.iter().find(|e| e.key == key),
            _ => None,
        }
    }

    /// The string value of this node, when it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The line best describing `path`: the line of the deepest node the path reaches
    /// (the key's line for a mapping entry), so a missing field points at its parent.
    pub fn line_of(&self, path: &str) -> usize {
        let mut node = self;
        let mut line = self.line;
        for segment in parse_path(path) {
            match (segment, &node.value) {
                (Segment::Key(k), Value::Map(entries)) => match entries.iter().find(|e| e.key == k)
                {
                    Some(e) => {
                        line = e.line;
                        node = &e.value;
                    }
                    None => break,
                },
                (Segment::Index(i), Value::Seq(items)) => match items.get(i) {
                    Some(n) => {
                        line = n.line;
                        node = n;
                    }
                    None => break,
                },
                _ => break,
            }
        }
        line
    }

    /// Converts to JSON. Non-finite floats become an error message naming the line.
    pub fn to_json(&self) -> Result<serde_json::Value, SyntaxError> {
        Ok(match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .ok_or_else(|| SyntaxError {
                    line: self.line,
                    column: self.column,
                    message: "infinite and NaN numbers are not supported".into(),
                })?,
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::Seq(items) => {
                serde_json::Value::Array(items.iter().map(Node::to_json).collect::<Result<_, _>>()?)
            }
            Value::Map(entries) => {
                let mut map = serde_json::Map::with_capacity(entries.len());
                for e in entries {
                    map.insert(e.key.clone(), e.value.to_json()?);
                }
                serde_json::Value::Object(map)
            }
        })
    }
}

/// Parses a stream of documents (`---`-separated YAML, or JSON). Empty documents are
/// returned as `Null` nodes so that callers can skip them.
pub fn parse_stream(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let mut builder = Builder {
        parser: Parser::new_from_str(text),
        anchors: HashMap::new(),
        nodes: 0,
    };
    let mut docs = Vec::new();
    loop {
        let (event, span) = builder.next()?;
        match event {
            Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                builder.anchors.clear();
                let (event, span) = builder.next()?;
                if matches!(event, Event::DocumentEnd) {
                    docs.push(Node {
                        value: Value::Null,
                        line: pos(span).0,
                        column: 1,
                    });
                    continue;
                }
                docs.push(builder.node(event, span, 0)?);
            }
            other => {
                return Err(err(
                    span,
                    format!("unexpected YAML event {other:?} outside a document"),
                ));
            }
        }
    }
    Ok(docs)
}

fn pos(span: Span) -> (usize, usize) {
    (span.start.line().max(1), span.start.col() + 1)
}

fn err(span: Span, message: String) -> SyntaxError {
    let (line, column) = pos(span);
    SyntaxError {
        line,
        column,
        message,
    }
}

struct Builder<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
}

impl<'a> Builder<'a> {
    fn next(&mut self) -> Result<(Event<'a>, Span), SyntaxError> {
        match self.parser.next_event() {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => Err(SyntaxError {
                line: e.marker().line().max(1),
                column: e.marker().col() + 1,
                message: e.info().to_string(),
            }),
            None => Ok((Event::StreamEnd, Span::default())),
        }
    }

    fn count(&mut self, span: Span, n: usize) -> Result<(), SyntaxError> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(err(
                span,
                format!(
                    "document too large: more than {MAX_NODES} nodes (alias expansion included)"
                ),
            ));
        }
        Ok(())
    }

    fn node(&mut self, event: Event<'a>, span: Span, depth: usize) -> Result<Node, SyntaxError> {
        if depth > MAX_DEPTH {
            return Err(err(span, format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        self.count(span, 1)?;
        let (line, column) = pos(span);
        let (value, anchor) = match event {
            Event::Scalar(text, style, anchor, tag) => {
                let forced_string = tag.as_ref().is_some_and(|t| t.suffix == "str");
                let value = if style == ScalarStyle::Plain && !forced_string {
                    resolve_plain(&text)
                } else {
                    Value::String(text.into_owned())
                };
                (value, anchor)
            }
            Event::Alias(id) => {
                let node = self
                    .anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| err(span, "alias refers to an unknown anchor".into()))?;
                self.count(span, node_count(&node))?;
                return Ok(Node {
                    line,
                    column,
                    ..node
                });
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    let (ev, sp) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(ev, sp, depth + 1)?);
                }
                (Value::Seq(items), anchor)
            }
            Event::MappingStart(anchor, _) => {
                let mut entries: Vec<Entry> = Vec::new();
                loop {
                    let (ev, sp) = self.next()?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    let key_node = self.node(ev, sp, depth + 1)?;
                    let key = match key_node.value {
                        Value::String(s) => s,
                        Value::Int(i) => i.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Float(f) => f.to_string(),
                        Value::Null => "null".to_string(),
                        Value::Seq(_) | Value::Map(_) => {
                            return Err(err(sp, "mapping keys must be scalars".into()));
                        }
                    };
                    if entries.iter().any(|e| e.key == key) {
                        return Err(SyntaxError {
                            line: key_node.line,
                            column: key_node.column,
                            message: format!("duplicate key {key:?} in a mapping"),
                        });
                    }
                    let (ev, sp) = self.next()?;
                    let value = self.node(ev, sp, depth + 1)?;
                    entries.push(Entry {
                        key,
                        line: key_node.line,
                        value,
                    });
                }
                (Value::Map(entries), anchor)
            }
            other => return Err(err(span, format!("unexpected YAML event {other:?}"))),
        };
        let node = Node {
            value,
            line,
            column,
        };
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Ok(node)
    }
}

fn node_count(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(node_count).sum(),
        Value::Map(entries) => entries.iter().map(|e| 1 + node_count(&e.value)).sum(),
        _ => 0,
    }
}

/// Resolves a plain scalar by the YAML 1.2 core schema.
fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    let int = if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        text.parse::<i64>().ok()
    } else if let Some(hex) = text.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else if let Some(oct) = text.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Value::Int(i);
    }
    if is_float(text)
        && let Ok(f) = text.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::String(text.to_string())
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_float(text: &str) -> bool {
    let s = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (!int.is_empty() || !frac.is_empty())
                && int.bytes().all(|b| b.is_ascii_digit())
                && frac.bytes().all(|b| b.is_ascii_digit())
                && !(int.is_empty() && frac.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|b| b.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_follow_the_core_schema() {
        let docs = parse_stream(
            "a: 1\nb: '1'\nc: true\nd: ~\ne: 1.5\nf: hello\ng: \"true\"\nh: 0x1f\ni: 1e3\n",
        )
        .unwrap();
        let json = docs[0].to_json().unwrap();
        assert_eq!(
            json,
            serde_json::json!({"a": 1, "b": "1", "c": true, "d": null, "e": 1.5, "f": "hello", "g": "true", "h": 31, "i": 1000.0})
        );
    }

    #[test]
    fn lines_are_found_for_paths() {
        let text = "kind: X\nspec:\n  rules:\n  - name: a\n  - name: b\n    value: 3\n";
        let doc = &parse_stream(text).unwrap()[0];
        assert_eq!(doc.line_of("spec.rules[1].value"), 6);
        assert_eq!(doc.line_of("spec.rules[1].missing"), 5);
        assert_eq!(doc.line_of("spec"), 2);
    }

    #[test]
    fn several_documents_and_json() {
        let docs = parse_stream("a: 1\n---\n{\"b\": [1, 2]}\n---\n").unwrap();
        assert_eq!(docs.len(), 3);
        assert_eq!(docs[1].to_json().unwrap(), serde_json::json!({"b": [1, 2]}));
        assert_eq!(docs[2].value, Value::Null);
    }

    #[test]
    fn duplicate_keys_and_syntax_errors_name_the_line() {
        let e = parse_stream("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("duplicate key"));
        let e = parse_stream("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.line >= 1, "{e}");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..9 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let e = parse_stream(&text).unwrap_err();
        assert!(e.message.contains("too large"), "{e}");
    }

    #[test]
    fn paths_round_trip() {
        let p = "metadata.labels[kagent.solo.io/waypoint]";
        assert_eq!(
            parse_path(p),
            vec![
                Segment::Key("metadata".into()),
                Segment::Key("labels".into()),
                Segment::Key("kagent.solo.io/waypoint".into())
            ]
        );
        assert_eq!(format_path(&parse_path(p)), p);
        assert_eq!(
            format_path(&parse_path("spec.rules[0].x")),
            "spec.rules[0].x"
        );
    }
}
