//! Static checks a kind runs on itself after deserialization: semantic rules serde cannot
//! express (exactly-one-of, ranges, formats), plus the CEL expressions, regexes and
//! references the kind carries, collected so that later stages (the CEL and regex
//! compilers, the reference resolver) report them with the right field path.
//!
//! Paths use the manifest's own (camelCase) field names: `spec.rules[0].matches[1].path`.

use crate::meta::Object;

/// A kind (or part of one) that can check itself.
pub trait Check {
    /// Records every finding about `self` into `cx`, at `cx`'s current path.
    fn check(&self, cx: &mut Checker);
}

impl<T: Check> Check for Option<T> {
    fn check(&self, cx: &mut Checker) {
        if let Some(v) = self {
            v.check(cx);
        }
    }
}

impl<S: Check> Check for Object<S> {
    fn check(&self, cx: &mut Checker) {
        cx.at("spec", |cx| self.spec.check(cx));
    }
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The manifest is accepted; something may not work yet.
    Warning,
    /// The manifest is rejected.
    Error,
}

/// What kind of embedded program a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProgramKind {
    /// A CEL expression.
    Cel,
    /// A regular expression (Rust `regex` syntax).
    Regex,
}

/// A reference from one resource to another, for "not (yet) there" warnings and for
/// the compiler's resolution.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// Kind of the target, e.g. `ModelConfig`, `Secret`, `Service`.
    pub kind: String,
    /// Namespace of the target; `None` for cluster-scoped targets.
    pub namespace: Option<String>,
    /// Name of the target.
    pub name: String,
}

/// One thing a check found, at a field path.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// A rule violation.
    Problem {
        /// Error or warning.
        severity: Severity,
        /// What is wrong.
        message: String,
        /// How to fix it, or what would be valid.
        hint: String,
    },
    /// An embedded program (CEL or regex) to compile.
    Program {
        /// Which language.
        kind: ProgramKind,
        /// The source text.
        source: String,
    },
    /// A reference to another resource.
    Reference(Reference),
}

/// A finding with the path of the field it concerns.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    /// Field path from the document root, e.g. `spec.rules[0].backendRefs[1].name`.
    pub path: String,
    /// The finding.
    pub finding: Finding,
}

/// Collects [`Located`] findings while walking a resource.
#[derive(Debug, Default)]
pub struct Checker {
    path: String,
    namespace: Option<String>,
    findings: Vec<Located>,
}

impl Checker {
    /// A checker for a resource living in `namespace` (used to default the namespace of
    /// same-namespace references); `None` for cluster-scoped resources.
    pub fn new(namespace: Option<String>) -> Self {
        Checker {
            path: String::new(),
            namespace,
            findings: Vec::new(),
        }
    }

    /// The namespace of the resource being checked.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Everything found so far.
    pub fn into_findings(self) -> Vec<Located> {
        self.findings
    }

    /// Findings recorded so far (borrowed).
    pub fn findings(&self) -> &[Located] {
        &self.findings
    }

    /// The current path.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Runs `f` with the path extended by `.field`.
    pub fn at<R>(&mut self, field: &str, f: impl FnOnce(&mut Self) -> R) -> R {
        let len = self.path.len();
        if !self.path.is_empty() {
            self.path.push('.');
        }
        self.path.push_str(field);
        let r = f(self);
        self.path.truncate(len);
        r
    }

    /// Runs `f` with the path extended by `.field[index]`.
    pub fn at_index<R>(&mut self, field: &str, index: usize, f: impl FnOnce(&mut Self) -> R) -> R {
        self.at(field, |cx| {
            let len = cx.path.len();
            cx.path.push_str(&format!("[{index}]"));
            let r = f(cx);
            cx.path.truncate(len);
            r
        })
    }

    /// Runs `f` with the path extended by `.field[key]` (a map entry).
    pub fn at_key<R>(&mut self, field: &str, key: &str, f: impl FnOnce(&mut Self) -> R) -> R {
        self.at(field, |cx| {
            let len = cx.path.len();
            cx.path.push_str(&format!("[{key}]"));
            let r = f(cx);
            cx.path.truncate(len);
            r
        })
    }

    /// Checks `value` under `.field` when present.
    pub fn field<T: Check + ?Sized>(&mut self, field: &str, value: &T) {
        self.at(field, |cx| value.check(cx));
    }

    /// Checks every element of a list under `.field[i]`.
    pub fn list<T: Check>(&mut self, field: &str, items: &[T]) {
        for (i, item) in items.iter().enumerate() {
            self.at_index(field, i, |cx| item.check(cx));
        }
    }

    fn push(&mut self, path: String, finding: Finding) {
        self.findings.push(Located { path, finding });
    }

    fn sub_path(&self, field: &str) -> String {
        match (self.path.is_empty(), field.is_empty()) {
            (_, true) => self.path.clone(),
            (true, false) => field.to_string(),
            (false, false) => format!("{}.{}", self.path, field),
        }
    }

    /// Records an error at the current path.
    pub fn error(&mut self, message: impl Into<String>, hint: impl Into<String>) {
        self.error_at("", message, hint);
    }

    /// Records an error at `.field` below the current path (`""` = the current path).
    pub fn error_at(&mut self, field: &str, message: impl Into<String>, hint: impl Into<String>) {
        let path = self.sub_path(field);
        self.push(
            path,
            Finding::Problem {
                severity: Severity::Error,
                message: message.into(),
                hint: hint.into(),
            },
        );
    }

    /// Records a warning at `.field` below the current path (`""` = the current path).
    pub fn warning_at(&mut self, field: &str, message: impl Into<String>, hint: impl Into<String>) {
        let path = self.sub_path(field);
        self.push(
            path,
            Finding::Problem {
                severity: Severity::Warning,
                message: message.into(),
                hint: hint.into(),
            },
        );
    }

    /// Records a CEL expression held at `.field` (`""` = the current path).
    pub fn cel(&mut self, field: &str, source: &str) {
        let path = self.sub_path(field);
        self.push(
            path,
            Finding::Program {
                kind: ProgramKind::Cel,
                source: source.to_string(),
            },
        );
    }

    /// Records a regular expression held at `.field` (`""` = the current path).
    pub fn regex(&mut self, field: &str, pattern: &str) {
        let path = self.sub_path(field);
        self.push(
            path,
            Finding::Program {
                kind: ProgramKind::Regex,
                source: pattern.to_string(),
            },
        );
    }

    /// Records a reference held at `.field` to a resource of `kind`. A `None` namespace
    /// on a namespaced target means "the referring resource's namespace"; pass
    /// `cluster_scoped = true` for cluster-scoped targets (ClusterRole, Namespace, ...).
    pub fn reference(
        &mut self,
        field: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        cluster_scoped: bool,
    ) {
        let path = self.sub_path(field);
        let namespace = if cluster_scoped {
            None
        } else {
            namespace
                .map(str::to_string)
                .or_else(|| self.namespace.clone())
        };
        self.push(
            path,
            Finding::Reference(Reference {
                kind: kind.to_string(),
                namespace,
                name: name.to_string(),
            }),
        );
    }

    /// Checks that exactly one of the named optional members is set; `set` lists, for
    /// each member name, whether it is present.
    pub fn exactly_one(&mut self, set: &[(&str, bool)]) {
        let present: Vec<&str> = set.iter().filter(|(_, p)| *p).map(|(n, _)| *n).collect();
        let names: Vec<&str> = set.iter().map(|(n, _)| *n).collect();
        match present.len() {
            1 => {}
            0 => self.error(
                format!("one of {} is required", names.join(", ")),
                format!("set exactly one of: {}", names.join(", ")),
            ),
            _ => self.error(
                format!(
                    "only one of {} may be set, found {}",
                    names.join(", "),
                    present.join(" and ")
                ),
                format!("keep exactly one of: {}", present.join(", ")),
            ),
        }
    }

    /// Checks that at most one of the named optional members is set.
    pub fn at_most_one(&mut self, set: &[(&str, bool)]) {
        let present: Vec<&str> = set.iter().filter(|(_, p)| *p).map(|(n, _)| *n).collect();
        if present.len() > 1 {
            self.error(
                format!("only one of {} may be set", present.join(", ")),
                format!("keep one of: {}", present.join(", ")),
            );
        }
    }

    /// Checks a Kubernetes-style duration (`5m`, `1h30m`, `500ms`) held at `.field`.
    pub fn duration(&mut self, field: &str, value: &str) {
        if crate::duration::parse(value).is_none() {
            self.error_at(
                field,
                format!("invalid duration {value:?}"),
                "use a number followed by h, m, s or ms, e.g. 30s, 5m, 1h30m, 500ms",
            );
        }
    }

    /// Checks that an integer held at `.field` lies in `min..=max`.
    pub fn range(&mut self, field: &str, value: i64, min: i64, max: i64) {
        if value < min || value > max {
            self.error_at(
                field,
                format!("{value} is out of range"),
                format!("use a value from {min} to {max}"),
            );
        }
    }

    /// Checks that a list held at `.field` has between `min` and `max` entries.
    pub fn len(&mut self, field: &str, len: usize, min: usize, max: usize) {
        if len < min || len > max {
            let hint = if min == max {
                format!("give exactly {min} entries")
            } else if len < min {
                format!("give at least {min} entries")
            } else {
                format!("give at most {max} entries")
            };
            self.error_at(field, format!("has {len} entries"), hint);
        }
    }
}
