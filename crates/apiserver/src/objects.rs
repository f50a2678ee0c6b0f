//! Objects on their way in (parsed, checked against the URL, validated like
//! manifest files) and out (Secret data removed).

use palisade_api::kinds::KindEntry;
use palisade_api::load::load_str;
use palisade_store::{AuditRecord, ObjectKey, Store, StoreError};
use serde_json::{Map, Value, json};

use crate::status::ApiError;

/// Annotation listing a Secret's data keys, in place of the data.
pub const DATA_KEYS_ANNOTATION: &str = "palisade.dev/data-keys";

/// Parses a JSON request body.
pub fn parse_json(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::bad_request(format!(
            "the request body is not JSON ({e}); send the object as JSON"
        ))
    })
}

/// Checks that `object` is of the URL's kind and namespace, and fills the
/// namespace from the URL when the object has none.
pub fn normalize(
    mut object: Value,
    kind: &KindEntry,
    namespace: Option<&str>,
) -> Result<Value, ApiError> {
    let meta = &kind.meta;
    let Some(map) = object.as_object_mut() else {
        return Err(ApiError::bad_request(
            "the body must be a JSON object (a manifest)",
        ));
    };
    let found_kind = map.get("kind").and_then(Value::as_str).unwrap_or_default();
    let api_version = map
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let version_ok = meta
        .versions
        .iter()
        .any(|v| meta.api_version(v) == api_version);
    if found_kind != meta.kind || !version_ok {
        return Err(ApiError::bad_request(format!(
            "this URL takes {} objects ({}), but the body is kind {found_kind:?} of apiVersion {api_version:?}",
            meta.kind,
            meta.versions
                .iter()
                .map(|v| meta.api_version(v))
                .collect::<Vec<_>>()
                .join(" or "),
        )));
    }
    let metadata = map
        .entry("metadata")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| ApiError::bad_request("metadata must be an object"))?;
    // Status is computed by the server; a client's copy is dropped.
    if meta.namespaced {
        let ns = namespace.unwrap_or("default");
        match metadata.get("namespace").and_then(Value::as_str) {
            None => {
                metadata.insert("namespace".into(), ns.into());
            }
            Some(given) if given == ns => {}
            Some(given) => {
                return Err(ApiError::bad_request(format!(
                    "the object's namespace {given:?} does not match the request's namespace {ns:?}"
                )));
            }
        }
    } else if metadata.contains_key("namespace") {
        metadata.remove("namespace");
    }
    if let Some(annotations) = metadata
        .get_mut("annotations")
        .and_then(Value::as_object_mut)
    {
        annotations.remove(DATA_KEYS_ANNOTATION);
        if annotations.is_empty() {
            metadata.remove("annotations");
        }
    }
    map.remove("status");
    Ok(object)
}

/// Validates an object exactly as a manifest file is validated: schema,
/// field checks, CEL and regex syntax.
pub fn validate(object: &Value) -> Result<(), ApiError> {
    let text = serde_json::to_string_pretty(object).map_err(ApiError::internal)?;
    let batch = load_str("<request>", &text);
    let errors: Vec<String> = batch
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {} ({})", d.field, d.message, d.hint))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "the object is invalid:\n{}",
            errors.join("\n")
        )))
    }
}

/// A Secret update without `data` and `stringData` keeps the stored data (so
/// re-applying the redacted output of `get` does not wipe it).
pub async fn keep_secret_data(
    mut object: Value,
    store: &std::sync::Arc<dyn Store>,
    key: &ObjectKey,
) -> Result<Value, ApiError> {
    let has_data = object.get("data").is_some() || object.get("stringData").is_some();
    if has_data {
        return Ok(object);
    }
    match store.get(key).await {
        Ok(stored) => {
            if let Some(data) = stored.get("data") {
                object["data"] = data.clone();
            }
            if let Some(data) = stored.get("stringData") {
                object["stringData"] = data.clone();
            }
            Ok(object)
        }
        Err(StoreError::NotFound { .. }) => Ok(object),
        Err(e) => Err(e.into()),
    }
}

/// An object as it may leave the server: a Secret loses `data` and
/// `stringData`, and names its keys in an annotation instead.
pub fn redact(mut object: Value) -> Value {
    let is_secret = object.get("kind").and_then(Value::as_str) == Some("Secret")
        && object.get("apiVersion").and_then(Value::as_str) == Some("v1");
    if !is_secret {
        return object;
    }
    let Some(map) = object.as_object_mut() else {
        return object;
    };
    let mut keys: Vec<String> = Vec::new();
    for field in ["data", "stringData"] {
        if let Some(Value::Object(data)) = map.remove(field) {
            keys.extend(data.keys().cloned());
        }
    }
    keys.sort();
    keys.dedup();
    if !keys.is_empty() {
        let metadata = map
            .entry("metadata")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Some(metadata) = metadata.as_object_mut() {
            let annotations = metadata
                .entry("annotations")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(annotations) = annotations.as_object_mut() {
                annotations.insert(DATA_KEYS_ANNOTATION.into(), keys.join(",").into());
            }
        }
    }
    object
}

/// The store revision an object was written at.
pub fn revision_of(object: &Value) -> Option<i64> {
    object
        .pointer("/metadata/resourceVersion")?
        .as_str()?
        .parse()
        .ok()
}

/// An audit record as the API returns it.
pub fn audit_json(record: &AuditRecord) -> Value {
    json!({
        "time": record.time.to_rfc3339_micros(),
        "principal": record.principal,
        "verb": record.verb,
        "resource": {
            "group": record.resource.group,
            "kind": record.resource.kind,
            "namespace": record.resource.namespace,
            "name": record.resource.name,
        },
        "outcome": record.outcome.as_str(),
        "reason": record.reason,
        "source": record.source,
        "details": record.details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_leave_without_their_data() {
        let secret = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "k", "namespace": "kagent"},
            "data": {"ANTHROPIC_API_KEY": "c2stYW50LXNlY3JldA=="}, "stringData": {"other": "x"}});
        let out = redact(secret);
        assert!(out.get("data").is_none() && out.get("stringData").is_none());
        assert_eq!(
            out["metadata"]["annotations"][DATA_KEYS_ANNOTATION],
            "ANTHROPIC_API_KEY,other"
        );
        assert!(!out.to_string().contains("c2stYW50"));
        let other =
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a"}});
        assert_eq!(redact(other.clone()), other);
    }

    #[test]
    fn normalize_checks_kind_and_namespace() {
        let kind = palisade_api::kinds::lookup_name("mcpservers").unwrap();
        let object = json!({"apiVersion": "kagent.dev/v1alpha1", "kind": "MCPServer",
            "metadata": {"name": "x"}, "status": {"stale": true}});
        let out = normalize(object.clone(), kind, Some("kagent")).unwrap();
        assert_eq!(out["metadata"]["namespace"], "kagent");
        assert!(out.get("status").is_none());
        let mut elsewhere = object.clone();
        elsewhere["metadata"]["namespace"] = "other".into();
        assert!(normalize(elsewhere, kind, Some("kagent")).is_err());
        let mut wrong = object;
        wrong["kind"] = "Agent".into();
        assert!(normalize(wrong, kind, Some("kagent")).is_err());
    }
}
