//! Object identity: which stored object a manifest is.
//!
//! An object is identified by its API group, kind, namespace and name — the API
//! version is not part of the identity, just as Kubernetes stores one copy of an
//! object whatever version it is read in.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::StoreError;

/// The identity of a stored object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectKey {
    /// API group: the part of `apiVersion` before the `/`, `""` for the core group
    /// (`apiVersion: v1`).
    pub group: String,
    /// The object's `kind`, e.g. `Secret`.
    pub kind: String,
    /// `metadata.namespace`, `""` for cluster-scoped objects.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectKey {
    /// A key from its four parts.
    pub fn new(
        group: impl Into<String>,
        kind: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> ObjectKey {
        ObjectKey {
            group: group.into(),
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The key of a manifest: group from `apiVersion`, `kind`, `metadata.namespace`
    /// (absent = cluster-scoped) and `metadata.name`.
    ///
    /// Fails with [`StoreError::InvalidObject`] when the manifest is not a JSON object
    /// or lacks `apiVersion`, `kind` or `metadata.name`.
    pub fn of(object: &Value) -> Result<ObjectKey, StoreError> {
        let Some(map) = object.as_object() else {
            return Err(StoreError::InvalidObject(
                "a stored object must be a JSON object (a manifest with apiVersion, kind and metadata)".into(),
            ));
        };
        let api_version = required_str(map.get("apiVersion"), "apiVersion")?;
        let kind = required_str(map.get("kind"), "kind")?;
        let metadata = map
            .get("metadata")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                StoreError::InvalidObject(format!(
                    "{kind} has no metadata object: add `metadata: {{name: ...}}`"
                ))
            })?;
        let name = required_str(metadata.get("name"), "metadata.name")?;
        let namespace = match metadata.get("namespace") {
            None | Some(Value::Null) => "",
            Some(Value::String(ns)) => ns.as_str(),
            Some(_) => {
                return Err(StoreError::InvalidObject(format!(
                    "{kind} {name}: metadata.namespace must be a string"
                )));
            }
        };
        Ok(ObjectKey::new(group_of(api_version), kind, namespace, name))
    }

    /// Whether this is a core-group `Secret`, whose data is encrypted at rest.
    pub fn is_secret(&self) -> bool {
        self.group.is_empty() && self.kind == "Secret"
    }
}

impl fmt::Display for ObjectKey {
    /// `kind.group namespace/name`, the way the key appears in error messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kind)?;
        if !self.group.is_empty() {
            write!(f, ".{}", self.group)?;
        }
        f.write_str(" ")?;
        if !self.namespace.is_empty() {
            write!(f, "{}/", self.namespace)?;
        }
        f.write_str(&self.name)
    }
}

/// The API group of an `apiVersion`: `palisade.io/v1` → `palisade.io`, `v1` → `""`.
pub fn group_of(api_version: &str) -> &str {
    match api_version.split_once('/') {
        Some((group, _version)) => group,
        None => "",
    }
}

fn required_str<'a>(value: Option<&'a Value>, field: &str) -> Result<&'a str, StoreError> {
    match value {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) | None | Some(Value::Null) => Err(StoreError::InvalidObject(
            format!("the manifest has no {field}: set it to a non-empty string"),
        )),
        Some(_) => Err(StoreError::InvalidObject(format!(
            "{field} must be a string"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_of_manifest() {
        let key = ObjectKey::of(&json!({
            "apiVersion": "palisade.io/v1", "kind": "Agent",
            "metadata": {"name": "a", "namespace": "ns"}
        }))
        .unwrap();
        assert_eq!(key, ObjectKey::new("palisade.io", "Agent", "ns", "a"));
        assert_eq!(key.to_string(), "Agent.palisade.io ns/a");

        let key = ObjectKey::of(
            &json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}}),
        )
        .unwrap();
        assert!(key.is_secret());
        assert_eq!(key.namespace, "");
        assert_eq!(key.to_string(), "Secret s");
    }

    #[test]
    fn missing_fields_are_reported() {
        let err = ObjectKey::of(&json!({"apiVersion": "v1", "kind": "Secret", "metadata": {}}))
            .unwrap_err();
        assert!(err.to_string().contains("metadata.name"), "{err}");
        let err = ObjectKey::of(&json!({"kind": "Secret", "metadata": {"name": "x"}})).unwrap_err();
        assert!(err.to_string().contains("apiVersion"), "{err}");
        assert!(ObjectKey::of(&json!([1])).is_err());
    }
}
