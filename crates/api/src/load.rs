//! Manifest loading: text (multi-document YAML or JSON, `List` kinds) to typed
//! resources, each with its origin, plus diagnostics naming file, line, resource and
//! field path.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::check::{Checker, Finding, Located};
use crate::diag::{Diagnostic, Origin, ResourceKey, Severity};
use crate::kinds::{self, KINDS, Resource};
use crate::suggest;
use crate::yaml::{self, Node, Segment};

/// Largest manifest file accepted.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A resource loaded from a manifest, with everything later stages need to report
/// precise diagnostics about it.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The typed resource (namespace defaulted).
    pub resource: Resource,
    /// File and line where the object starts.
    pub origin: Origin,
    /// The object's source tree, for finding the line of any field path.
    pub source: Arc<Node>,
    /// Programs (CEL, regex) and references the kind's checks collected.
    pub findings: Vec<Located>,
}

impl Loaded {
    /// The resource's identity.
    pub fn key(&self) -> ResourceKey {
        self.resource.key()
    }

    /// Where `path` (a field path of this object) is, as file and line.
    pub fn origin_of(&self, path: &str) -> Origin {
        Origin {
            file: self.origin.file.clone(),
            line: self.source.line_of(path),
        }
    }

    /// A diagnostic about field `path` of this resource.
    pub fn diagnostic(
        &self,
        severity: Severity,
        path: &str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity,
            origin: self.origin_of(path),
            resource: Some(self.key()),
            field: path.to_string(),
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// The result of loading one or more manifests.
#[derive(Debug, Default)]
pub struct Batch {
    /// Resources that parsed and passed their own checks.
    pub resources: Vec<Loaded>,
    /// Everything wrong or suspicious.
    pub diagnostics: Vec<Diagnostic>,
}

impl Batch {
    /// Appends another batch.
    pub fn extend(&mut self, other: Batch) {
        self.resources.extend(other.resources);
        self.diagnostics.extend(other.diagnostics);
    }
}

/// Loads manifest text. `file` names the source in diagnostics.
pub fn load_str(file: &str, text: &str) -> Batch {
    let mut batch = Batch::default();
    let docs = match yaml::parse_stream(text) {
        Ok(docs) => docs,
        Err(e) => {
            batch.diagnostics.push(Diagnostic {
                severity: Severity::Error,
                origin: Origin {
                    file: file.to_string(),
                    line: e.line,
                },
                resource: None,
                field: String::new(),
                message: format!("invalid YAML/JSON: {} (column {})", e.message, e.column),
                hint: "fix the syntax; nothing from this file was loaded".into(),
            });
            return batch;
        }
    };
    for doc in docs {
        if doc.value == yaml::Value::Null {
            continue;
        }
        load_object(file, doc, &mut batch);
    }
    batch
}

/// Loads files and directories (recursively: `*.yaml`, `*.yml`, `*.json`, in name
/// order). Unreadable paths become diagnostics.
pub fn load_paths(paths: &[PathBuf]) -> Batch {
    let mut batch = Batch::default();
    for path in paths {
        let mut files = Vec::new();
        if let Err(e) = collect_files(path, &mut files) {
            batch.diagnostics.push(file_error(
                path,
                format!("cannot read: {e}"),
                "check the path exists and is readable",
            ));
            continue;
        }
        for file in files {
            batch.extend(load_file(&file));
        }
    }
    batch
}

/// Loads one file.
pub fn load_file(path: &Path) -> Batch {
    let mut batch = Batch::default();
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_FILE_BYTES => {
            batch.diagnostics.push(file_error(
                path,
                format!(
                    "file is {} bytes, larger than the {MAX_FILE_BYTES}-byte limit",
                    m.len()
                ),
                "split the manifests over several files",
            ));
            return batch;
        }
        Ok(_) => {}
        Err(e) => {
            batch.diagnostics.push(file_error(
                path,
                format!("cannot read: {e}"),
                "check the path",
            ));
            return batch;
        }
    }
    match std::fs::read_to_string(path) {
        Ok(text) => load_str(&path.display().to_string(), &text),
        Err(e) => {
            batch.diagnostics.push(file_error(
                path,
                format!("cannot read: {e}"),
                "manifests must be UTF-8 text",
            ));
            batch
        }
    }
}

/// The manifest files a path stands for: itself, or the manifests under a directory.
pub fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if std::fs::metadata(path)?.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for entry in entries {
            let is_manifest = entry
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
            let hidden = entry
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'));
            if hidden {
                continue;
            }
            if entry.is_dir() {
                collect_files(&entry, out)?;
            } else if is_manifest {
                out.push(entry);
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn file_error(path: &Path, message: String, hint: &str) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        origin: Origin {
            file: path.display().to_string(),
            line: 0,
        },
        resource: None,
        field: String::new(),
        message,
        hint: hint.to_string(),
    }
}

fn load_object(file: &str, doc: Node, batch: &mut Batch) {
    let origin = Origin {
        file: file.to_string(),
        line: doc.line,
    };
    let doc_error = |field: &str, line: usize, message: String, hint: String| Diagnostic {
        severity: Severity::Error,
        origin: Origin {
            file: file.to_string(),
            line,
        },
        resource: None,
        field: field.to_string(),
        message,
        hint,
    };
    if !matches!(doc.value, yaml::Value::Map(_)) {
        batch.diagnostics.push(doc_error(
            "",
            doc.line,
            "a manifest document must be a mapping with apiVersion, kind and metadata".into(),
            "start the document with `apiVersion:` and `kind:`".into(),
        ));
        return;
    }
    let api_version = doc
        .get("apiVersion")
        .and_then(|e| e.value.as_str())
        .map(str::to_string);
    let kind = doc
        .get("kind")
        .and_then(|e| e.value.as_str())
        .map(str::to_string);
    let (Some(api_version), Some(kind)) = (api_version, kind) else {
        let missing = if doc.get("apiVersion").is_none() {
            "apiVersion"
        } else {
            "kind"
        };
        batch.diagnostics.push(doc_error(
            missing,
            doc.line,
            format!("missing or non-string `{missing}`"),
            "every manifest needs string fields apiVersion and kind, e.g. apiVersion: kagent.dev/v1alpha2, kind: Agent".into(),
        ));
        return;
    };

    if kind.ends_with("List") && doc.get("items").is_some() {
        match doc.get("items").map(|e| &e.value.value) {
            Some(yaml::Value::Seq(items)) => {
                for item in items.clone() {
                    load_object(file, item, batch);
                }
            }
            Some(yaml::Value::Null) => {}
            _ => batch.diagnostics.push(doc_error(
                "items",
                doc.line,
                format!("`items` of a {kind} must be a list"),
                "write items as a YAML sequence of objects".into(),
            )),
        }
        return;
    }

    let Some(entry) = kinds::lookup(&api_version, &kind) else {
        batch
            .diagnostics
            .push(unknown_kind(file, &doc, &api_version, &kind));
        return;
    };
    let json = match doc.to_json() {
        Ok(json) => json,
        Err(e) => {
            batch
                .diagnostics
                .push(doc_error("", e.line, e.message, String::new()));
            return;
        }
    };
    let name_hint = json
        .pointer("/metadata/name")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let ns_hint = json
        .pointer("/metadata/namespace")
        .and_then(|v| v.as_str())
        .map(str::to_string);
    let key = name_hint.clone().map(|name| ResourceKey {
        kind: kind.clone(),
        namespace: if entry.meta.namespaced {
            Some(ns_hint.clone().unwrap_or_else(|| "default".into()))
        } else {
            None
        },
        name,
    });

    let mut resource = match (entry.parse)(json) {
        Ok(r) => r,
        Err(e) => {
            let (field, message, hint) = explain_serde_error(&e);
            batch.diagnostics.push(Diagnostic {
                severity: Severity::Error,
                origin: Origin {
                    file: file.to_string(),
                    line: doc.line_of(&field),
                },
                resource: key,
                field,
                message,
                hint,
            });
            return;
        }
    };

    // Metadata rules every kind shares.
    let meta = resource.metadata_mut();
    let mut problems = Vec::new();
    if meta.name.is_empty() {
        problems.push((
            "metadata.name",
            "missing required field `metadata.name`".to_string(),
            "give the object a name".to_string(),
        ));
    } else if let Some(why) = invalid_name(&meta.name) {
        problems.push(("metadata.name", format!("invalid name {:?}: {why}", meta.name), "use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit, at most 253 characters".into()));
    }
    if entry.meta.namespaced {
        let ns = meta.namespace.get_or_insert_with(|| "default".to_string());
        if let Some(why) = invalid_label(ns) {
            problems.push((
                "metadata.namespace",
                format!("invalid namespace {ns:?}: {why}"),
                "use a DNS label: lower-case letters, digits and '-', at most 63 characters".into(),
            ));
        }
    } else if meta.namespace.take().is_some() {
        batch.diagnostics.push(Diagnostic {
            severity: Severity::Warning,
            origin: Origin {
                file: file.to_string(),
                line: doc.line_of("metadata.namespace"),
            },
            resource: key.clone(),
            field: "metadata.namespace".into(),
            message: format!("{kind} is cluster-scoped; metadata.namespace is ignored"),
            hint: "remove metadata.namespace".into(),
        });
    }

    let source = Arc::new(doc);
    let mut loaded = Loaded {
        origin,
        source,
        resource,
        findings: Vec::new(),
    };
    for (field, message, hint) in problems {
        batch
            .diagnostics
            .push(loaded.diagnostic(Severity::Error, field, message, hint));
    }
    let mut cx = Checker::new(loaded.resource.metadata().namespace.clone());
    loaded.resource.check(&mut cx);
    let mut rejected = batch
        .diagnostics
        .iter()
        .any(|d| d.is_error() && d.resource == Some(loaded.key()) && d.origin.file == file);
    for located in cx.into_findings() {
        match &located.finding {
            Finding::Problem {
                severity,
                message,
                hint,
            } => {
                rejected |= *severity == Severity::Error;
                let d = loaded.diagnostic(*severity, &located.path, message.clone(), hint.clone());
                batch.diagnostics.push(d);
            }
            Finding::Program { .. } | Finding::Reference(_) => loaded.findings.push(located),
        }
    }
    if !rejected {
        batch.resources.push(loaded);
    }
}

/// Why `name` is not a valid DNS subdomain name, if it is not.
fn invalid_name(name: &str) -> Option<&'static str> {
    if name.len() > 253 {
        return Some("longer than 253 characters");
    }
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let ok_ends = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    (!ok_chars || !ok_ends).then_some("not a DNS subdomain")
}

/// Why `label` is not a valid DNS label, if it is not.
fn invalid_label(label: &str) -> Option<&'static str> {
    if label.len() > 63 {
        return Some("longer than 63 characters");
    }
    invalid_name(label).or_else(|| label.contains('.').then_some("must not contain '.'"))
}

fn unknown_kind(file: &str, doc: &Node, api_version: &str, kind: &str) -> Diagnostic {
    let same_kind: Vec<String> = KINDS
        .iter()
        .filter(|e| e.meta.kind == kind)
        .flat_map(|e| e.meta.api_versions())
        .collect();
    let (field, message, hint) = if !same_kind.is_empty() {
        (
            "apiVersion",
            format!("kind {kind} is not served at apiVersion {api_version}"),
            format!("use apiVersion: {}", same_kind.join(" or ")),
        )
    } else {
        let suggestion = suggest::nearest(kind, KINDS.iter().map(|e| e.meta.kind));
        let known: Vec<&str> = KINDS.iter().map(|e| e.meta.kind).collect();
        let hint = match suggestion {
            Some(s) => format!("did you mean {s}? known kinds: {}", known.join(", ")),
            None => format!("known kinds: {}", known.join(", ")),
        };
        (
            "kind",
            format!("unknown kind {kind} (apiVersion {api_version})"),
            hint,
        )
    };
    Diagnostic {
        severity: Severity::Error,
        origin: Origin {
            file: file.to_string(),
            line: doc.line_of(field),
        },
        resource: None,
        field: field.to_string(),
        message,
        hint,
    }
}

/// Turns a serde error into (field path, message, hint).
pub fn explain_serde_error(
    e: &serde_path_to_error::Error<serde_json::Error>,
) -> (String, String, String) {
    let mut segments: Vec<Segment> = e
        .path()
        .iter()
        .filter_map(|s| match s {
            serde_path_to_error::Segment::Seq { index } => Some(Segment::Index(*index)),
            serde_path_to_error::Segment::Map { key } => Some(Segment::Key(key.clone())),
            serde_path_to_error::Segment::Enum { variant } => Some(Segment::Key(variant.clone())),
            serde_path_to_error::Segment::Unknown => None,
        })
        .collect();
    let raw = e.inner().to_string();
    let backticked: Vec<&str> = raw.split('`').skip(1).step_by(2).collect();

    if let Some(rest) = raw.strip_prefix("unknown field ") {
        let field = backticked.first().copied().unwrap_or("");
        if segments.last() != Some(&Segment::Key(field.to_string())) {
            segments.push(Segment::Key(field.to_string()));
        }
        let valid = &backticked[1.min(backticked.len())..];
        let hint = if rest.contains("there are no fields") {
            "this object takes no fields".to_string()
        } else {
            match suggest::nearest(field, valid.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? valid fields: {}", valid.join(", ")),
                None => format!("valid fields: {}", valid.join(", ")),
            }
        };
        return (
            yaml::format_path(&segments),
            format!("unknown field `{field}`"),
            hint,
        );
    }
    if raw.starts_with("unknown variant ") {
        let value = backticked.first().copied().unwrap_or("");
        let valid = &backticked[1.min(backticked.len())..];
        let hint = match suggest::nearest(value, valid.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? allowed values: {}", valid.join(", ")),
            None => format!("allowed values: {}", valid.join(", ")),
        };
        return (
            yaml::format_path(&segments),
            format!("invalid value `{value}`"),
            hint,
        );
    }
    if raw.starts_with("missing field ") {
        let field = backticked.first().copied().unwrap_or("");
        segments.push(Segment::Key(field.to_string()));
        return (
            yaml::format_path(&segments),
            format!("missing required field `{field}`"),
            format!("add `{field}`"),
        );
    }
    if let Some(rest) = raw.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let hint = if expected.is_empty() {
            String::new()
        } else {
            format!("expected {expected}")
        };
        return (
            yaml::format_path(&segments),
            format!("wrong type: got {got}"),
            hint,
        );
    }
    (yaml::format_path(&segments), raw, String::new())
}
