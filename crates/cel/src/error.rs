//! The two ways an expression can fail: when it is compiled, and when it is
//! evaluated.

use std::fmt;

/// Longest expression excerpt a [`CompileError`] quotes before eliding.
const SNIPPET_MAX: usize = 120;

/// An expression that could not be compiled.
///
/// The message says what is wrong, where (line and column, counted from 1,
/// when the parser reports a position) and quotes the offending line with a
/// caret under the column, so that a person reading a configuration
/// diagnostic can fix the expression without running anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompileError {
    message: String,
    line: Option<usize>,
    column: Option<usize>,
    snippet: String,
}

impl CompileError {
    /// Builds an error for `source` with the parser's `message` and, when
    /// known, its 1-based `line` and `column`.
    pub(crate) fn new(
        source: &str,
        message: impl Into<String>,
        line: Option<usize>,
        column: Option<usize>,
    ) -> Self {
        let text = line
            .and_then(|l| source.lines().nth(l.saturating_sub(1)))
            .unwrap_or(source);
        CompileError {
            message: message.into(),
            line,
            column,
            snippet: excerpt(text, column),
        }
    }

    /// What is wrong, as the parser or an extension put it.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The 1-based line of the problem, if the parser reported one.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The 1-based column of the problem, if the parser reported one.
    pub fn column(&self) -> Option<usize> {
        self.column
    }

    /// The line of the expression the problem is on (elided around the
    /// column when long), followed by a caret line when the column is known.
    pub fn snippet(&self) -> &str {
        &self.snippet
    }
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid CEL expression: {}", self.message)?;
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, " (line {line}, column {column})")?,
            (Some(line), None) => write!(f, " (line {line})")?,
            _ => {}
        }
        if !self.snippet.is_empty() {
            write!(f, "\n{}", self.snippet)?;
        }
        Ok(())
    }
}

impl std::error::Error for CompileError {}

/// Quotes `line` indented by two spaces, with a caret under `column` when it
/// is known; a line longer than [`SNIPPET_MAX`] characters is cut to a window
/// around the column.
fn excerpt(line: &str, column: Option<usize>) -> String {
    let chars: Vec<char> = line.chars().collect();
    let at = column.map(|c| c.saturating_sub(1).min(chars.len()));
    let (start, end) = if chars.len() <= SNIPPET_MAX {
        (0, chars.len())
    } else {
        let centre = at.unwrap_or(0);
        let start = centre.saturating_sub(SNIPPET_MAX / 2);
        let end = (start + SNIPPET_MAX).min(chars.len());
        (end.saturating_sub(SNIPPET_MAX), end)
    };
    let mut out = String::from("  ");
    if start > 0 {
        out.push_str("...");
    }
    out.extend(&chars[start..end]);
    if end < chars.len() {
        out.push_str("...");
    }
    if let Some(at) = at {
        let lead = if start > 0 { 3 } else { 0 };
        out.push_str("\n  ");
        out.extend(std::iter::repeat_n(' ', lead + at - start));
        out.push('^');
    }
    out
}

/// An evaluation that produced no usable result.
///
/// Reading a key or claim that is absent, calling a function on a value of
/// the wrong type, or producing a result of the wrong type all end up here,
/// never in a panic. Authorization callers count such an evaluation as
/// `false` (deny) and record the message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// The interpreter stopped with an error: a missing key, an undeclared
    /// variable, no overload of a function for the argument types, ...
    #[error("evaluation failed: {0}")]
    Execution(#[from] cel::ExecutionError),
    /// The expression evaluated to a value of another type than the caller
    /// asked for.
    #[error("the expression evaluated to a {got}, not a {expected}")]
    UnexpectedType {
        /// The type the caller asked for, e.g. `bool`.
        expected: &'static str,
        /// The CEL type of what the expression produced.
        got: String,
    },
    /// The result has no JSON form (e.g. a type value or an optional).
    #[error("the result cannot be expressed as JSON: {0}")]
    NotJson(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_caret_points_at_the_column() {
        let e = CompileError::new("a == ", "unexpected end", Some(1), Some(6));
        assert_eq!(e.snippet(), "  a == \n       ^");
        assert!(e.to_string().contains("(line 1, column 6)"));
    }

    #[test]
    fn long_lines_are_elided_around_the_column() {
        let source = format!("{}BAD{}", "x".repeat(200), "y".repeat(200));
        let e = CompileError::new(&source, "bad", Some(1), Some(201));
        let first = e.snippet().lines().next().unwrap();
        assert!(first.contains("BAD") && first.starts_with("  ...") && first.ends_with("..."));
        let caret = e.snippet().lines().nth(1).unwrap();
        assert_eq!(&first[caret.len() - 1..caret.len() + 2], "BAD");
    }
}
