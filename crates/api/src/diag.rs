//! Diagnostics a person can act on: what is wrong, where (file, line, resource, field
//! path) and what would be valid.

use std::fmt;

use serde::Serialize;

pub use crate::check::Severity;

/// Where a resource or a field came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Origin {
    /// File path as given by the user (`-` or `<stdin>` for standard input, `api` for the
    /// admin API).
    pub file: String,
    /// 1-based line number; 0 when unknown.
    pub line: usize,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}", self.file, self.line)
        } else {
            f.write_str(&self.file)
        }
    }
}

/// Identifies a resource: kind, namespace (empty for cluster-scoped) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ResourceKey {
    /// Kind name, e.g. `HTTPRoute`.
    pub kind: String,
    /// Namespace, `None` for cluster-scoped kinds.
    pub namespace: Option<String>,
    /// Object name.
    pub name: String,
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.kind, ns, self.name),
            None => write!(f, "{}/{}", self.kind, self.name),
        }
    }
}

/// One problem found in the configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    /// Error (rejects the configuration) or warning.
    pub severity: Severity,
    /// File and line of the offending field (or of the document when no field is known).
    pub origin: Origin,
    /// The resource concerned, when it could be identified.
    pub resource: Option<ResourceKey>,
    /// Field path from the document root (`spec.rules[0].matches[0].path.type`); empty
    /// when the problem concerns the whole document.
    pub field: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it / what would be valid; may be empty.
    pub hint: String,
}

impl Diagnostic {
    /// Whether this diagnostic rejects the configuration.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl Serialize for Severity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

impl fmt::Display for Diagnostic {
    /// `file:line: error: HTTPRoute/default/claude: spec.rules[0]...: message (hint)`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}: {sev}: ", self.origin)?;
        if let Some(r) = &self.resource {
            write!(f, "{r}: ")?;
        }
        if !self.field.is_empty() {
            write!(f, "{}: ", self.field)?;
        }
        f.write_str(&self.message)?;
        if !self.hint.is_empty() {
            write!(f, " (hint: {})", self.hint)?;
        }
        Ok(())
    }
}

/// Whether any diagnostic is an error.
pub fn has_errors(diags: &[Diagnostic]) -> bool {
    diags.iter().any(Diagnostic::is_error)
}
