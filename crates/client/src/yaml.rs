//! JSON to YAML, the way `kubectl get -o yaml` prints objects: block style, keys
//! sorted, sequences at their key's indentation, strings quoted only when a plain
//! scalar would read back as something else (double quotes for look-alikes of
//! `null`, booleans and numbers, single quotes for indicator characters), and
//! multi-line strings as `|` literal blocks.
//!
//! The output reads back to the same JSON with YAML 1.1 and 1.2 parsers.

use serde_json::Value;

/// Renders `value` as a YAML document (ending in a newline).
pub fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0, false),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0, false),
        Value::String(s) if block_style(s) => {
            // A top-level scalar has no parent indentation: quote instead of a block.
            out.push_str(&double_quoted(s));
            out.push('\n');
        }
        other => {
            out.push_str(&inline_scalar(other));
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, n: usize, inline_first: bool) {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    for (i, key) in keys.into_iter().enumerate() {
        if i > 0 || !inline_first {
            indent(out, n);
        }
        out.push_str(&scalar_string(key));
        out.push(':');
        write_value_after_indicator(out, &map[key], n, true);
    }
}

fn write_seq(out: &mut String, items: &[Value], n: usize, inline_first: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline_first {
            indent(out, n);
        }
        out.push('-');
        write_value_after_indicator(out, item, n, false);
    }
}

/// Writes a value after `key:` or `-` at indentation `n`.
fn write_value_after_indicator(out: &mut String, value: &Value, n: usize, in_map: bool) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            if in_map {
                out.push('\n');
                write_map(out, map, n + 2, false);
            } else {
                out.push(' ');
                write_map(out, map, n + 2, true);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            if in_map {
                // kubectl style: a sequence under a key is not indented further.
                out.push('\n');
                write_seq(out, items, n, false);
            } else {
                out.push(' ');
                write_seq(out, items, n + 2, true);
            }
        }
        Value::String(s) if block_style(s) => write_block(out, s, n + 2),
        other => {
            out.push(' ');
            out.push_str(&inline_scalar(other));
            out.push('\n');
        }
    }
}

fn inline_scalar(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar_string(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

/// Whether a string is written as a `|` literal block: several lines, only
/// printable characters, and nothing a block cannot hold exactly.
fn block_style(s: &str) -> bool {
    if !s.contains('\n') || !s.chars().all(|c| c == '\n' || c == '\t' || printable(c)) {
        return false;
    }
    let body = s.trim_end_matches('\n');
    if body.trim().is_empty() {
        return false;
    }
    // The first line decides the block's indentation, so it must not start with
    // white space; lines of only spaces would be read as blank lines.
    let first = body.split('\n').find(|l| !l.is_empty()).unwrap_or("");
    if first.starts_with([' ', '\t']) {
        return false;
    }
    body.split('\n')
        .all(|line| line.is_empty() || !line.trim_matches([' ', '\t']).is_empty())
}

fn write_block(out: &mut String, s: &str, n: usize) {
    let body = s.trim_end_matches('\n');
    let trailing = s.len() - body.len();
    out.push_str(match trailing {
        0 => " |-\n",
        1 => " |\n",
        _ => " |+\n",
    });
    for line in body.split('\n') {
        if !line.is_empty() {
            indent(out, n);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..trailing {
        out.push('\n');
    }
}

/// Characters YAML allows unescaped in a scalar (other than line breaks).
fn printable(c: char) -> bool {
    match c {
        '\u{20}'..='\u{7e}' => true,
        '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{feff}' => false,
        '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'.. => true,
        _ => false,
    }
}

/// A string as a single-line scalar: plain when it reads back as the same string,
/// else quoted.
fn scalar_string(s: &str) -> String {
    if s.chars().any(|c| !printable(c)) {
        return double_quoted(s);
    }
    if s.is_empty() || looks_like_other_type(s) {
        return double_quoted(s);
    }
    if plain_safe(s) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// Whether a plain scalar `s` would be read as null, a boolean or a number by a
/// YAML 1.1 or 1.2 parser (or is the merge key).
fn looks_like_other_type(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", "<<", "=",
    ];
    let lower = s.to_ascii_lowercase();
    if WORDS.contains(&lower.as_str()) {
        return true;
    }
    let unsigned = s.strip_prefix(['-', '+']).unwrap_or(s);
    let lower_unsigned = unsigned.to_ascii_lowercase();
    if lower_unsigned == ".inf" || lower_unsigned == ".nan" {
        return true;
    }
    // Anything starting like a number (ints, floats, hex, octal, binary,
    // sexagesimal, dates) is quoted rather than second-guessed.
    let mut chars = unsigned.chars();
    match chars.next() {
        Some(c) if c.is_ascii_digit() => true,
        Some('.') => chars.next().is_some_and(|c| c.is_ascii_digit()),
        _ => false,
    }
}

/// Whether a printable one-line string can be written as a plain scalar.
fn plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.starts_with([' ', '\t']) || s.ends_with([' ', '\t']) || s.contains('\t') {
        return false;
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    if matches!(
        first,
        ',' | '['
            | ']'
            | '{'
            | '}'
            | '#'
            | '&'
            | '*'
            | '!'
            | '|'
            | '>'
            | '\''
            | '"'
            | '%'
            | '@'
            | '`'
    ) {
        return false;
    }
    if matches!(first, '-' | '?' | ':') {
        // Allowed only when followed by a character that cannot start a
        // structure (`-y` is plain, `- y` and `-` are not).
        match s.chars().nth(1) {
            None | Some(' ') => return false,
            Some(c) if "-?:,[]{}#&*!|>'\"%@`".contains(c) => return false,
            Some(_) => {}
        }
    }
    !(s.contains(": ") || s.ends_with(':') || s.contains(" #"))
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            '\u{85}' => out.push_str("\\N"),
            '\u{a0}' => out.push_str("\\_"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if printable(c) => out.push(c),
            c if (c as u32) <= 0xff => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read_back(yaml: &str) -> Value {
        let docs = palisade_api::yaml::parse_stream(yaml)
            .unwrap_or_else(|e| panic!("emitted YAML does not parse: {e}\n{yaml}"));
        assert_eq!(docs.len(), 1, "{yaml}");
        docs[0].to_json().unwrap()
    }

    fn round_trip(value: Value) {
        let yaml = to_yaml(&value);
        assert_eq!(read_back(&yaml), value, "YAML was:\n{yaml}");
    }

    #[test]
    fn kubectl_layout() {
        let obj = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "kagent-crd-viewer", "labels": {"kagent.solo.io/waypoint": "true"}, "annotations": {}},
            "rules": [{"apiGroups": ["kagent.dev"], "resources": ["agents", "mcpservers"], "verbs": ["*"]}],
            "spec": {"port": 3000, "args": ["-y", "@modelcontextprotocol/server-github"], "empty": [], "none": null},
        });
        let want = "\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  annotations: {}
  labels:
    kagent.solo.io/waypoint: \"true\"
  name: kagent-crd-viewer
rules:
- apiGroups:
  - kagent.dev
  resources:
  - agents
  - mcpservers
  verbs:
  - '*'
spec:
  args:
  - -y
  - '@modelcontextprotocol/server-github'
  empty: []
  none: null
  port: 3000
";
        assert_eq!(to_yaml(&obj), want);
        round_trip(obj);
    }

    #[test]
    fn multi_line_strings_are_literal_blocks() {
        let obj = json!({"systemMessage": "You're friendly.\n\n# Instructions\n\n- ask first\n  then act", "b": "x\n", "c": "x\n\n\n"});
        let yaml = to_yaml(&obj);
        assert!(
            yaml.contains("systemMessage: |-\n  You're friendly.\n\n  # Instructions\n\n  - ask first\n    then act\n"),
            "{yaml}"
        );
        assert!(yaml.contains("b: |\n  x\n"), "{yaml}");
        assert!(yaml.contains("c: |+\n  x\n\n\n"), "{yaml}");
        round_trip(obj);
    }

    #[test]
    fn look_alike_strings_are_quoted() {
        let tricky = [
            "",
            " ",
            " lead",
            "trail ",
            "a: b",
            "a:",
            "a #b",
            "a#b",
            "yes",
            "No",
            "ON",
            "off",
            "y",
            "n",
            "true",
            "False",
            "null",
            "NULL",
            "~",
            "3000",
            "-1",
            "+1",
            "1.5",
            ".5",
            "1e3",
            "0x1f",
            "0o17",
            "0b101",
            "1_000",
            "1:20",
            "2025-01-31",
            "2025-01-31T12:00:00Z",
            ".inf",
            "-.INF",
            ".NaN",
            "<<",
            "=",
            "-",
            "--",
            "---",
            "...",
            "- x",
            "-x",
            "?",
            "? x",
            "?x",
            ":",
            ":x",
            "*",
            "&a",
            "!tag",
            "%x",
            "@x",
            "`x",
            "|",
            ">",
            "'q'",
            "\"q\"",
            "it's",
            "#c",
            "[a]",
            "{a}",
            "a,b",
            "a[0]",
            "a{b}",
            "tab\there",
            "back\\slash",
            "nul\0",
            "bell\u{7}",
            "cr\r",
            "nel\u{85}",
            "ls\u{2028}",
            "bom\u{feff}",
            "nbsp\u{a0}",
            "ünïcödé",
            "日本語",
            "emoji 🙂",
            "x\n",
            "\n",
            "\n\n",
            "a\n b",
            "\na",
            " a\nb",
            "a\n  \nb",
            "a\r\nb",
            "a\n\tb",
            "\ta\nb",
            "end:\nx",
            "a\nb\n\n",
            "https://example.com/a?b=c#d",
            "Rejected due to inappropriate content",
        ];
        for s in tricky {
            round_trip(json!({ s: s }));
            round_trip(json!([s]));
            round_trip(json!({"k": [s, {"n": s}]}));
        }
    }

    #[test]
    fn plain_where_kubectl_is_plain() {
        let yaml = to_yaml(
            &json!({"a": "hello world", "b": "kagent.dev", "c": "-y", "d": "a,b", "e": "x: y", "f": ""}),
        );
        assert_eq!(
            yaml,
            "a: hello world\nb: kagent.dev\nc: -y\nd: a,b\ne: 'x: y'\nf: \"\"\n"
        );
    }

    #[test]
    fn numbers_and_nesting_round_trip() {
        round_trip(json!({
            "ints": [0, 1, -1, i64::MAX, i64::MIN],
            "floats": [0.5, -2.25, 1.0, 1e30, 123.456],
            "bools": [true, false],
            "nested": [[1, [2, []]], [{"a": {"b": {"c": []}}}], {}, [{}], null],
            "m": {"": "empty key", "true": 1, "3000": "x", "a b": {"x": null}},
        }));
        round_trip(json!([]));
        round_trip(json!({}));
        round_trip(json!("top\nlevel"));
        round_trip(json!("yes"));
        round_trip(json!(5));
        round_trip(json!(null));
        round_trip(json!([["a", "b"], ["c"]]));
        round_trip(json!([{"a": 1, "b": [1, 2]}, {"c": "x\ny"}]));
    }
}
