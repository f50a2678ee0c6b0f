//! The metadata the store owns, and the rules it stamps them by.
//!
//! On every write the store sets, whatever the caller sent:
//!
//! - `metadata.uid`: a random 128-bit id in UUID form, chosen on create and kept on
//!   every update;
//! - `metadata.resourceVersion`: the store revision of the write, as a string;
//! - `metadata.generation`: 1 on create, +1 on an update that changes anything
//!   outside `metadata` and `status` (a spec change, not a label or status change);
//! - `metadata.creationTimestamp`: RFC 3339 UTC, set on create and kept.
//!
//! The caller's `metadata.resourceVersion` on an update is its precondition: when
//! present (and not empty) it must equal the stored one.

use serde_json::{Map, Value};

use crate::crypto::random;
use crate::error::StoreError;
use crate::key::ObjectKey;
use crate::time::Timestamp;

/// `metadata.resourceVersion` of a manifest: `None` when absent, null or empty.
///
/// Fails when it is present but not a string.
pub fn resource_version(object: &Value) -> Result<Option<&str>, StoreError> {
    match object
        .get("metadata")
        .and_then(|m| m.get("resourceVersion"))
    {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(rv)) if rv.is_empty() => Ok(None),
        Some(Value::String(rv)) => Ok(Some(rv)),
        Some(_) => Err(StoreError::InvalidObject(
            "metadata.resourceVersion must be a string, as the store returned it".into(),
        )),
    }
}

/// `metadata.generation` of a stored object (0 if missing).
pub fn generation(object: &Value) -> i64 {
    object
        .get("metadata")
        .and_then(|m| m.get("generation"))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

/// Checks what the store relies on in an incoming manifest and returns its key:
/// apiVersion, kind, metadata.name (see [`ObjectKey::of`]) and, when present,
/// `metadata.labels` as a map of strings and a string `metadata.resourceVersion`.
pub(crate) fn validate(object: &Value) -> Result<ObjectKey, StoreError> {
    let key = ObjectKey::of(object)?;
    if let Some(labels) = object["metadata"].get("labels") {
        let ok = match labels {
            Value::Null => true,
            Value::Object(map) => map.values().all(Value::is_string),
            _ => false,
        };
        if !ok {
            return Err(StoreError::InvalidObject(format!(
                "{key}: metadata.labels must map label keys to string values"
            )));
        }
    }
    resource_version(object)?;
    Ok(key)
}

/// The object to store for a create at `revision`.
pub(crate) fn stamp_create(
    mut object: Value,
    revision: i64,
    now: Timestamp,
) -> Result<Value, StoreError> {
    let uid = new_uid()?;
    let metadata = metadata_mut(&mut object);
    metadata.insert("uid".into(), Value::String(uid));
    metadata.insert("resourceVersion".into(), revision.to_string().into());
    metadata.insert("generation".into(), 1.into());
    metadata.insert("creationTimestamp".into(), now.to_rfc3339().into());
    Ok(object)
}

/// The object to store for an update at `revision` of `current` (the stored,
/// readable object) with `incoming`.
pub(crate) fn stamp_update(mut incoming: Value, current: &Value, revision: i64) -> Value {
    let generation = generation(current) + i64::from(spec_changed(&incoming, current));
    let kept = |field: &str| current["metadata"].get(field).cloned();
    let (uid, created) = (kept("uid"), kept("creationTimestamp"));
    let metadata = metadata_mut(&mut incoming);
    if let Some(uid) = uid {
        metadata.insert("uid".into(), uid);
    }
    if let Some(created) = created {
        metadata.insert("creationTimestamp".into(), created);
    }
    metadata.insert("resourceVersion".into(), revision.to_string().into());
    metadata.insert("generation".into(), generation.into());
    incoming
}

/// A deleted object as it is returned and sent to watchers: the last stored state
/// with the revision of the deletion.
pub(crate) fn stamp_delete(mut current: Value, revision: i64) -> Value {
    metadata_mut(&mut current).insert("resourceVersion".into(), revision.to_string().into());
    current
}

/// Checks the caller's precondition (`given`) against the stored revision.
pub(crate) fn check_precondition(
    key: &ObjectKey,
    given: Option<&str>,
    current_revision: i64,
) -> Result<(), StoreError> {
    match given {
        Some(given) if given != current_revision.to_string() => Err(StoreError::Conflict {
            key: Box::new(key.clone()),
            current: current_revision.to_string(),
            given: given.to_string(),
        }),
        _ => Ok(()),
    }
}

/// Whether anything outside `metadata` and `status` differs.
fn spec_changed(a: &Value, b: &Value) -> bool {
    let rest = |v: &Value| -> Map<String, Value> {
        let mut map = v.as_object().cloned().unwrap_or_default();
        map.remove("metadata");
        map.remove("status");
        map
    };
    rest(a) != rest(b)
}

/// `metadata` as a mutable map; validated objects always have one.
fn metadata_mut(object: &mut Value) -> &mut Map<String, Value> {
    let map = match object {
        Value::Object(map) => map,
        other => {
            *other = Value::Object(Map::new());
            other.as_object_mut().expect("just made an object")
        }
    };
    let metadata = map
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if !metadata.is_object() {
        *metadata = Value::Object(Map::new());
    }
    metadata.as_object_mut().expect("just made an object")
}

/// A random version-4 UUID: `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`.
pub fn new_uid() -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    random(&mut bytes)?;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn agent(spec: Value) -> Value {
        json!({"apiVersion": "palisade.io/v1", "kind": "Agent",
               "metadata": {"name": "a", "uid": "bogus", "generation": 9}, "spec": spec})
    }

    #[test]
    fn create_and_update_stamps() {
        let now = Timestamp::from_micros(1_700_000_000_000_000);
        let created = stamp_create(agent(json!({"x": 1})), 5, now).unwrap();
        let md = &created["metadata"];
        assert_eq!(md["resourceVersion"], "5");
        assert_eq!(md["generation"], 1);
        assert_eq!(md["creationTimestamp"], "2023-11-14T22:13:20Z");
        let uid = md["uid"].as_str().unwrap();
        assert_eq!(uid.len(), 36);
        assert_ne!(uid, "bogus");

        // Label-only change: same generation; uid and creation time kept.
        let mut relabeled = agent(json!({"x": 1}));
        relabeled["metadata"]["labels"] = json!({"a": "b"});
        relabeled["status"] = json!({"ready": true});
        let updated = stamp_update(relabeled, &created, 6);
        assert_eq!(updated["metadata"]["generation"], 1);
        assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);
        assert_eq!(
            updated["metadata"]["creationTimestamp"],
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(updated["metadata"]["resourceVersion"], "6");

        // Spec change: generation + 1.
        let changed = stamp_update(agent(json!({"x": 2})), &updated, 7);
        assert_eq!(changed["metadata"]["generation"], 2);
    }

    #[test]
    fn preconditions_and_validation() {
        let key = ObjectKey::new("", "ConfigMap", "", "c");
        assert!(check_precondition(&key, None, 3).is_ok());
        assert!(check_precondition(&key, Some("3"), 3).is_ok());
        let err = check_precondition(&key, Some("2"), 3).unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { ref current, ref given, .. }
            if current == "3" && given == "2")
        );

        let mut bad = agent(json!({}));
        bad["metadata"]["labels"] = json!({"a": 1});
        assert!(validate(&bad).unwrap_err().to_string().contains("labels"));
        let mut bad = agent(json!({}));
        bad["metadata"]["resourceVersion"] = json!(3);
        assert!(validate(&bad).is_err());
        let mut empty = agent(json!({}));
        empty["metadata"]["resourceVersion"] = json!("");
        assert_eq!(resource_version(&empty).unwrap(), None);
    }
}
