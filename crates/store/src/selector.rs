//! Kubernetes label selectors: parsing the string form and matching labels.
//!
//! The grammar is a comma-separated list of requirements, all of which must hold:
//!
//! | form              | holds when                                   |
//! |-------------------|----------------------------------------------|
//! | `key=value`, `key==value` | the label exists and equals the value |
//! | `key!=value`      | the label is absent or has another value     |
//! | `key in (a,b)`    | the label exists and is one of the values    |
//! | `key notin (a,b)` | the label is absent or is none of the values |
//! | `key`             | the label exists                             |
//! | `!key`            | the label is absent                          |
//!
//! The empty selector matches everything. Keys are an optional DNS-subdomain prefix
//! and `/` followed by a name; names and values use letters, digits, `-`, `_` and
//! `.` (values may be empty).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::error::StoreError;

/// A parsed label selector: a conjunction of requirements.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

/// One requirement of a [`Selector`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// `key=value`: present and equal.
    Equals(String, String),
    /// `key!=value`: absent or different.
    NotEquals(String, String),
    /// `key in (values)`: present and one of the values.
    In(String, BTreeSet<String>),
    /// `key notin (values)`: absent or none of the values.
    NotIn(String, BTreeSet<String>),
    /// `key`: present.
    Exists(String),
    /// `!key`: absent.
    DoesNotExist(String),
}

impl Selector {
    /// The selector that matches every object.
    pub fn everything() -> Selector {
        Selector::default()
    }

    /// Parses the string form, e.g. `app=web,tier notin (db),!legacy`.
    pub fn parse(text: &str) -> Result<Selector, StoreError> {
        Parser::new(text).selector()
    }

    /// A selector from requirements.
    pub fn from_requirements(requirements: Vec<Requirement>) -> Selector {
        Selector { requirements }
    }

    /// The requirements, in the order given.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether the selector matches everything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_with(|key| labels.get(key).map(String::as_str))
    }

    /// Whether an object's `metadata.labels` satisfy every requirement (an object
    /// without labels has none; non-string label values are ignored).
    pub fn matches_object(&self, object: &Value) -> bool {
        let labels = object
            .get("metadata")
            .and_then(|m| m.get("labels"))
            .and_then(Value::as_object);
        self.matches_with(|key| labels.and_then(|l| l.get(key)).and_then(Value::as_str))
    }

    fn matches_with<'a>(&self, label: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|r| match r {
            Requirement::Equals(k, v) => label(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => label(k) != Some(v.as_str()),
            Requirement::In(k, vs) => label(k).is_some_and(|l| vs.contains(l)),
            Requirement::NotIn(k, vs) => label(k).is_none_or(|l| !vs.contains(l)),
            Requirement::Exists(k) => label(k).is_some(),
            Requirement::DoesNotExist(k) => label(k).is_none(),
        })
    }
}

impl FromStr for Selector {
    type Err = StoreError;

    fn from_str(text: &str) -> Result<Selector, StoreError> {
        Selector::parse(text)
    }
}

impl fmt::Display for Selector {
    /// The canonical string form, which parses back to the same selector.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |vs: &BTreeSet<String>| vs.iter().cloned().collect::<Vec<_>>().join(",");
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match r {
                Requirement::Equals(k, v) => write!(f, "{k}={v}")?,
                Requirement::NotEquals(k, v) => write!(f, "{k}!={v}")?,
                Requirement::In(k, vs) => write!(f, "{k} in ({})", set(vs))?,
                Requirement::NotIn(k, vs) => write!(f, "{k} notin ({})", set(vs))?,
                Requirement::Exists(k) => write!(f, "{k}")?,
                Requirement::DoesNotExist(k) => write!(f, "!{k}")?,
            }
        }
        Ok(())
    }
}

/// A token of the selector language, with its 1-based character position.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Comma,
    Equals,
    NotEquals,
    Bang,
    Open,
    Close,
    End,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Word(w) => format!("{w:?}"),
            Token::Comma => "`,`".into(),
            Token::Equals => "`=`".into(),
            Token::NotEquals => "`!=`".into(),
            Token::Bang => "`!`".into(),
            Token::Open => "`(`".into(),
            Token::Close => "`)`".into(),
            Token::End => "the end".into(),
        }
    }
}

struct Parser<'a> {
    text: &'a str,
    tokens: Vec<(Token, usize)>,
    next: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        Parser {
            text,
            tokens: lex(text),
            next: 0,
        }
    }

    fn error(&self, position: usize, message: impl Into<String>) -> StoreError {
        StoreError::InvalidSelector {
            selector: self.text.to_string(),
            position,
            message: message.into(),
        }
    }

    fn peek(&self) -> &(Token, usize) {
        &self.tokens[self.next.min(self.tokens.len() - 1)]
    }

    fn bump(&mut self) -> (Token, usize) {
        let token = self.peek().clone();
        self.next += 1;
        token
    }

    fn selector(mut self) -> Result<Selector, StoreError> {
        let mut requirements = Vec::new();
        if self.peek().0 == Token::End {
            return Ok(Selector { requirements });
        }
        loop {
            requirements.push(self.requirement()?);
            match self.bump() {
                (Token::Comma, _) => continue,
                (Token::End, _) => return Ok(Selector { requirements }),
                (token, at) => {
                    return Err(self.error(
                        at,
                        format!(
                            "expected `,` or the end after a requirement, found {}",
                            token.describe()
                        ),
                    ));
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, StoreError> {
        if self.peek().0 == Token::Bang {
            self.bump();
            let key = self.key()?;
            return Ok(Requirement::DoesNotExist(key));
        }
        let key = self.key()?;
        let (token, at) = self.peek().clone();
        match token {
            Token::Comma | Token::End => Ok(Requirement::Exists(key)),
            Token::Equals => {
                self.bump();
                Ok(Requirement::Equals(key, self.value()?))
            }
            Token::NotEquals => {
                self.bump();
                Ok(Requirement::NotEquals(key, self.value()?))
            }
            Token::Word(w) if w == "in" || w == "notin" => {
                self.bump();
                let values = self.value_set()?;
                Ok(if w == "in" {
                    Requirement::In(key, values)
                } else {
                    Requirement::NotIn(key, values)
                })
            }
            other => Err(self.error(
                at,
                format!(
                    "expected `=`, `==`, `!=`, `in`, `notin`, `,` or the end after key {key:?}, \
                     found {}",
                    other.describe()
                ),
            )),
        }
    }

    fn key(&mut self) -> Result<String, StoreError> {
        match self.bump() {
            (Token::Word(w), at) => {
                check_key(&w).map_err(|m| self.error(at, m))?;
                Ok(w)
            }
            (token, at) => Err(self.error(
                at,
                format!("expected a label key, found {}", token.describe()),
            )),
        }
    }

    /// A value after `=` or `!=`: a word, or empty when a `,` or the end follows.
    fn value(&mut self) -> Result<String, StoreError> {
        match self.peek().clone() {
            (Token::Word(w), at) => {
                self.bump();
                check_value(&w).map_err(|m| self.error(at, m))?;
                Ok(w)
            }
            (Token::Comma | Token::End, _) => Ok(String::new()),
            (token, at) => Err(self.error(
                at,
                format!("expected a label value, found {}", token.describe()),
            )),
        }
    }

    fn value_set(&mut self) -> Result<BTreeSet<String>, StoreError> {
        match self.bump() {
            (Token::Open, _) => {}
            (token, at) => {
                return Err(self.error(
                    at,
                    format!(
                        "expected `(` to start the value list, found {}",
                        token.describe()
                    ),
                ));
            }
        }
        let mut values = BTreeSet::new();
        loop {
            match self.peek().clone() {
                (Token::Word(w), at) => {
                    self.bump();
                    check_value(&w).map_err(|m| self.error(at, m))?;
                    values.insert(w);
                }
                // An empty value: `(a,,b)`, `(,a)`, `()`.
                (Token::Comma | Token::Close, _) => {
                    values.insert(String::new());
                }
                (token, at) => {
                    return Err(self.error(
                        at,
                        format!("expected a value or `)`, found {}", token.describe()),
                    ));
                }
            }
            match self.bump() {
                (Token::Comma, _) => continue,
                (Token::Close, _) => return Ok(values),
                (token, at) => {
                    return Err(self.error(
                        at,
                        format!(
                            "expected `,` or `)` in the value list, found {}",
                            token.describe()
                        ),
                    ));
                }
            }
        }
    }
}

/// Splits the text into tokens; whitespace separates words and is otherwise ignored.
fn lex(text: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let at = i + 1;
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let (token, len) = match c {
            c if c.is_whitespace() => {
                i += 1;
                continue;
            }
            ',' => (Token::Comma, 1),
            '(' => (Token::Open, 1),
            ')' => (Token::Close, 1),
            '=' if next == Some('=') => (Token::Equals, 2),
            '=' => (Token::Equals, 1),
            '!' if next == Some('=') => (Token::NotEquals, 2),
            '!' => (Token::Bang, 1),
            _ => {
                let start = i;
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !matches!(chars[i], ',' | '(' | ')' | '=' | '!')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                tokens.push((Token::Word(word), at));
                continue;
            }
        };
        tokens.push((token, at));
        i += len;
    }
    tokens.push((Token::End, chars.len() + 1));
    tokens
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// A name (a key's part after any prefix, or a value): at most 63 characters of
/// letters, digits, `-`, `_`, `.`, starting and ending with a letter or digit.
fn check_name(name: &str, what: &str) -> Result<(), String> {
    if name.len() > 63 {
        return Err(format!("{what} {name:?} is longer than 63 characters"));
    }
    if let Some(bad) = name.chars().find(|c| !is_name_char(*c)) {
        return Err(format!(
            "{what} {name:?} contains {bad:?}; use letters, digits, `-`, `_` and `.`"
        ));
    }
    let edge_ok = |c: Option<char>| c.is_none_or(|c| c.is_ascii_alphanumeric());
    if !edge_ok(name.chars().next()) || !edge_ok(name.chars().last()) {
        return Err(format!(
            "{what} {name:?} must start and end with a letter or digit"
        ));
    }
    Ok(())
}

fn check_key(key: &str) -> Result<(), String> {
    let name = match key.split_once('/') {
        Some((prefix, name)) => {
            let prefix_ok = !prefix.is_empty()
                && prefix.len() <= 253
                && prefix.split('.').all(|part| {
                    !part.is_empty()
                        && part
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                });
            if !prefix_ok {
                return Err(format!(
                    "key prefix {prefix:?} must be a DNS subdomain such as `example.com`"
                ));
            }
            name
        }
        None => key,
    };
    if name.is_empty() {
        return Err(format!("key {key:?} has an empty name"));
    }
    check_name(name, "key name")
}

fn check_value(value: &str) -> Result<(), String> {
    check_name(value, "value")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn parses_every_form() {
        let s = Selector::parse("a=b, c!=d,e in (x, y),f notin (z),g,!h,i==j").unwrap();
        assert_eq!(
            s.requirements(),
            &[
                Requirement::Equals("a".into(), "b".into()),
                Requirement::NotEquals("c".into(), "d".into()),
                Requirement::In("e".into(), ["x".to_string(), "y".to_string()].into()),
                Requirement::NotIn("f".into(), ["z".to_string()].into()),
                Requirement::Exists("g".into()),
                Requirement::DoesNotExist("h".into()),
                Requirement::Equals("i".into(), "j".into()),
            ]
        );
        assert_eq!(s.to_string(), "a=b,c!=d,e in (x,y),f notin (z),g,!h,i=j");
        assert_eq!(Selector::parse(&s.to_string()).unwrap(), s);
        assert!(Selector::parse("").unwrap().is_empty());
        assert!(Selector::parse("  ").unwrap().is_empty());
        assert_eq!(
            Selector::parse("palisade.io/tier=gold")
                .unwrap()
                .requirements(),
            &[Requirement::Equals(
                "palisade.io/tier".into(),
                "gold".into()
            )]
        );
        assert_eq!(
            Selector::parse("a=").unwrap().requirements(),
            &[Requirement::Equals("a".into(), String::new())]
        );
    }

    #[test]
    fn matching_follows_kubernetes() {
        let s = Selector::parse("a=b,c!=d,e in (x,y),f notin (z),g,!h").unwrap();
        let ok = labels(&[("a", "b"), ("e", "x"), ("g", "")]);
        assert!(s.matches(&ok));
        let mut l = ok.clone();
        l.insert("c".into(), "d".into());
        assert!(!s.matches(&l));
        let mut l = ok.clone();
        l.insert("f".into(), "z".into());
        assert!(!s.matches(&l));
        let mut l = ok.clone();
        l.insert("h".into(), "1".into());
        assert!(!s.matches(&l));
        let mut l = ok.clone();
        l.remove("e");
        assert!(!s.matches(&l));
        assert!(Selector::everything().matches(&BTreeMap::new()));

        let object = serde_json::json!({"metadata": {"labels": {"a": "b", "e": "y", "g": "1"}}});
        assert!(s.matches_object(&object));
        assert!(!s.matches_object(&serde_json::json!({"metadata": {}})));
    }

    #[test]
    fn errors_say_where_and_what() {
        let cases = [
            ("a=b,", 5, "expected a label key"),
            ("a in x", 6, "expected `(`"),
            ("a in (x", 8, "expected `,` or `)`"),
            ("a b", 3, "expected `=`"),
            ("=b", 1, "expected a label key"),
            ("a=b=c", 4, "expected `,` or the end"),
            ("a=b c", 5, "expected `,` or the end"),
            ("a=-b", 3, "must start and end"),
            ("a=b*", 3, "contains '*'"),
            ("Bad_/x=1", 1, "DNS subdomain"),
            ("!", 2, "expected a label key"),
        ];
        for (text, position, needle) in cases {
            match Selector::parse(text) {
                Err(StoreError::InvalidSelector {
                    position: p,
                    message,
                    ..
                }) => {
                    assert!(message.contains(needle), "{text}: {message}");
                    assert_eq!(p, position, "{text}: {message}");
                }
                other => panic!("{text}: {other:?}"),
            }
        }
        let err = Selector::parse("a in x").unwrap_err().to_string();
        assert!(
            err.contains("\"a in x\"") && err.contains("character 6"),
            "{err}"
        );
    }
}
