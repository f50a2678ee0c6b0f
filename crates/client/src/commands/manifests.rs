//! Manifests given with `-f`: loaded and checked with the api crate's loader
//! (diagnostics printed before anything is sent), namespaces resolved as kubectl
//! does.

use std::path::PathBuf;

use palisade_api::diag::{Diagnostic, Severity};
use palisade_api::kinds::KindMeta;
use palisade_api::load::{self, Batch};
use serde_json::Value;

use super::Context;

/// One object of a manifest, ready to send.
#[derive(Debug, Clone)]
pub(crate) struct Manifest {
    /// The kind.
    pub meta: &'static KindMeta,
    /// The manifest's `apiVersion`.
    pub api_version: String,
    /// The namespace (namespaced kinds only).
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
    /// The object as sent: the manifest's JSON, namespace set, server-set
    /// metadata and status removed.
    pub object: Value,
    /// The file it came from (`STDIN` for `-`), for messages.
    pub file: String,
}

/// Metadata fields the server sets; never sent, never compared.
pub(crate) const SERVER_METADATA: &[&str] = &[
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "managedFields",
    "selfLink",
];

/// Loads `-f` paths. Prints warnings and errors; `None` when there was an error.
pub(crate) fn load(ctx: &mut Context<'_>, paths: &[PathBuf]) -> Option<Vec<Manifest>> {
    let mut batch = Batch::default();
    let mut stdin_read = false;
    for path in paths {
        if path.as_os_str() == "-" {
            if stdin_read {
                continue;
            }
            stdin_read = true;
            let mut text = String::new();
            if let Err(e) = ctx.stdin.read_to_string(&mut text) {
                ctx.fail(format_args!("cannot read standard input: {e}"));
                return None;
            }
            batch.extend(load::load_str("STDIN", &text));
            continue;
        }
        let mut files = Vec::new();
        if let Err(e) = load::collect_files(path, &mut files) {
            let why = if e.kind() == std::io::ErrorKind::NotFound {
                "does not exist".to_string()
            } else {
                format!("cannot be read: {e}")
            };
            ctx.fail(format_args!(
                "the path \"{}\" {why}; check the -f argument",
                path.display()
            ));
            return None;
        }
        for file in files {
            batch.extend(load::load_file(&file));
        }
    }
    let mut failed = false;
    for d in &batch.diagnostics {
        match d.severity {
            Severity::Error => {
                failed = true;
                ctx.warn(format_args!("error: {}", diagnostic_text(d)));
            }
            Severity::Warning => ctx.warn(format_args!("Warning: {}", diagnostic_text(d))),
        }
    }
    if failed {
        return None;
    }
    let flag_namespace = ctx.globals.namespace.clone();
    let mut manifests = Vec::new();
    for loaded in batch.resources {
        let meta = loaded.resource.meta();
        let mut object = match loaded.source.to_json() {
            Ok(v) => v,
            Err(e) => {
                ctx.fail(format_args!(
                    "{}:{}: {}",
                    loaded.origin.file, e.line, e.message
                ));
                return None;
            }
        };
        let explicit = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        let namespace = if meta.namespaced {
            match (&explicit, &flag_namespace) {
                (Some(given), Some(flag)) if given != flag => {
                    ctx.fail(format_args!(
                        "the namespace from the provided object \"{given}\" does not match the namespace \"{flag}\". You must pass '--namespace={given}' to perform this operation."
                    ));
                    return None;
                }
                (Some(given), _) => Some(given.clone()),
                (None, Some(flag)) => Some(flag.clone()),
                (None, None) => Some("default".to_string()),
            }
        } else {
            None
        };
        strip_server_fields(&mut object);
        if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            match &namespace {
                Some(ns) => {
                    metadata.insert("namespace".into(), ns.clone().into());
                }
                None => {
                    metadata.remove("namespace");
                }
            }
        }
        let api_version = object
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        manifests.push(Manifest {
            meta,
            api_version,
            namespace,
            name: loaded.resource.metadata().name.clone(),
            object,
            file: loaded.origin.file.clone(),
        });
    }
    Some(manifests)
}

/// Removes `status` and server-set metadata.
pub(crate) fn strip_server_fields(object: &mut Value) {
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
            for field in SERVER_METADATA {
                metadata.remove(*field);
            }
        }
    }
}

/// A diagnostic without its severity word: `file:line: Kind/ns/name: field: message (hint: ...)`.
pub(crate) fn diagnostic_text(d: &Diagnostic) -> String {
    let mut text = d.origin.to_string();
    if let Some(r) = &d.resource {
        text.push_str(&format!(": {r}"));
    }
    if !d.field.is_empty() {
        text.push_str(&format!(": {}", d.field));
    }
    text.push_str(&format!(": {}", d.message));
    if !d.hint.is_empty() {
        text.push_str(&format!(" (hint: {})", d.hint));
    }
    text
}

/// The version part of a manifest's `apiVersion`.
pub(crate) fn version(m: &Manifest) -> &str {
    crate::resources::version_of(&m.api_version)
}
