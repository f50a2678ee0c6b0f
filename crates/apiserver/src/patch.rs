//! `PATCH` bodies: JSON merge patches (RFC 7386) and server-side apply.

use bytes::Bytes;
use http::StatusCode;
use serde_json::{Map, Value};

use crate::status::ApiError;

/// Metadata fields the server owns; an applied object never overwrites them.
const SERVER_FIELDS: [&str; 5] = [
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
];

/// The object after applying a `PATCH` body of `content_type` to `existing`.
pub fn apply(
    content_type: Option<&str>,
    body: &Bytes,
    existing: Option<&Value>,
) -> Result<Value, ApiError> {
    match content_type {
        Some("application/merge-patch+json") => {
            let Some(existing) = existing else {
                return Err(ApiError::not_found(
                    "the object does not exist; create it first (or use server-side apply)",
                ));
            };
            let patch: Value = serde_json::from_slice(body)
                .map_err(|e| ApiError::bad_request(format!("the merge patch is not JSON: {e}")))?;
            let mut merged = existing.clone();
            merge(&mut merged, &patch);
            Ok(merged)
        }
        Some("application/apply-patch+yaml") => {
            let text = std::str::from_utf8(body)
                .map_err(|_| ApiError::bad_request("the applied object is not UTF-8"))?;
            let docs = palisade_api::yaml::parse_stream(text).map_err(|e| {
                ApiError::bad_request(format!(
                    "the applied object is not valid YAML/JSON: {} (line {})",
                    e.message, e.line
                ))
            })?;
            let [doc] = docs.as_slice() else {
                return Err(ApiError::bad_request(
                    "server-side apply takes exactly one object",
                ));
            };
            let mut applied = doc.to_json().map_err(|e| {
                ApiError::bad_request(format!("the applied object cannot be read: {}", e.message))
            })?;
            if let Some(meta) = applied.get_mut("metadata").and_then(Value::as_object_mut) {
                for field in SERVER_FIELDS {
                    meta.remove(field);
                }
            }
            Ok(match existing {
                None => applied,
                Some(existing) => {
                    let mut merged = existing.clone();
                    merge(&mut merged, &applied);
                    merged
                }
            })
        }
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!(
                "PATCH with Content-Type {} is not supported; use application/merge-patch+json or application/apply-patch+yaml",
                other.unwrap_or("(none)")
            ),
        )),
    }
}

/// RFC 7386: objects merge key by key, `null` removes, anything else replaces.
fn merge(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let Value::Object(target) = target else {
        return;
    };
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let existing = json!({"a": "b", "c": {"d": "e", "f": "g"}, "list": [1, 2]});
        let patch = Bytes::from(r#"{"a": "z", "c": {"f": null}, "list": [3]}"#);
        let out = apply(
            Some("application/merge-patch+json"),
            &patch,
            Some(&existing),
        )
        .unwrap();
        assert_eq!(out, json!({"a": "z", "c": {"d": "e"}, "list": [3]}));
        assert_eq!(
            apply(Some("application/merge-patch+json"), &patch, None)
                .unwrap_err()
                .code,
            StatusCode::NOT_FOUND
        );
    }

    #[test]
    fn server_side_apply_creates_or_merges_and_keeps_server_fields() {
        let applied = Bytes::from(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: p\n  resourceVersion: '1'\n  labels: {a: b}\n",
        );
        let created = apply(Some("application/apply-patch+yaml"), &applied, None).unwrap();
        assert!(created["metadata"].get("resourceVersion").is_none());
        let existing = json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "p", "resourceVersion": "7", "labels": {"x": "y"}}});
        let merged = apply(
            Some("application/apply-patch+yaml"),
            &applied,
            Some(&existing),
        )
        .unwrap();
        assert_eq!(merged["metadata"]["resourceVersion"], "7");
        assert_eq!(merged["metadata"]["labels"], json!({"x": "y", "a": "b"}));
        assert_eq!(
            apply(Some("application/json-patch+json"), &applied, None)
                .unwrap_err()
                .code,
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
    }
}
