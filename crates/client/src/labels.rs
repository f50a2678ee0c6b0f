//! `palisade label` arguments: `TYPE NAME... key=value... key-...`, validated as
//! Kubernetes label keys and values, and applied to an object's labels.

use std::collections::BTreeMap;

/// Label changes asked for on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelChanges {
    /// `key=value` pairs to set, in order.
    pub set: Vec<(String, String)>,
    /// Keys to remove (`key-`).
    pub remove: Vec<String>,
}

/// Splits `palisade label` arguments into resource arguments (before the first
/// label change) and the label changes.
pub fn split_args(args: &[String]) -> Result<(Vec<String>, LabelChanges), String> {
    let is_change = |a: &str| a.contains('=') || a.ends_with('-');
    let first_change = args.iter().position(|a| is_change(a)).unwrap_or(args.len());
    let (resources, changes) = args.split_at(first_change);
    if let Some(stray) = changes.iter().find(|a| !is_change(a)) {
        return Err(format!(
            "all resources must be specified before label changes: {stray}"
        ));
    }
    if changes.is_empty() {
        return Err("at least one label update is required".into());
    }
    let mut parsed = LabelChanges::default();
    for change in changes {
        if let Some((key, value)) = change.split_once('=') {
            check_key(key).map_err(|why| format!("invalid label spec: {change}: {why}"))?;
            check_value(value).map_err(|why| format!("invalid label value: {change:?}: {why}"))?;
            if parsed.set.iter().any(|(k, _)| k == key) {
                return Err(format!("label {key:?} is set more than once"));
            }
            parsed.set.push((key.to_string(), value.to_string()));
        } else {
            let key = &change[..change.len() - 1];
            check_key(key).map_err(|why| format!("invalid label spec: {change}: {why}"))?;
            parsed.remove.push(key.to_string());
        }
    }
    if parsed
        .set
        .iter()
        .any(|(k, _)| parsed.remove.iter().any(|r| r == k))
    {
        return Err("can not both modify and remove a label in the same command".into());
    }
    Ok((resources.to_vec(), parsed))
}

/// What [`apply_changes`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    /// Whether the labels changed.
    pub changed: bool,
    /// Keys asked to be removed that were not there.
    pub missing: Vec<String>,
}

/// Applies `changes` to `labels`. A different existing value is an error unless
/// `overwrite` (kubectl's message).
pub fn apply_changes(
    labels: &mut BTreeMap<String, String>,
    changes: &LabelChanges,
    overwrite: bool,
) -> Result<Applied, String> {
    let mut applied = Applied::default();
    for (key, value) in &changes.set {
        match labels.get(key) {
            Some(old) if old == value => {}
            Some(old) if !overwrite => {
                return Err(format!(
                    "'{key}' already has a value ({old}), and --overwrite is false"
                ));
            }
            _ => {
                labels.insert(key.clone(), value.clone());
                applied.changed = true;
            }
        }
    }
    for key in &changes.remove {
        if labels.remove(key).is_some() {
            applied.changed = true;
        } else {
            applied.missing.push(key.clone());
        }
    }
    Ok(applied)
}

/// Checks a qualified name: `[prefix/]name`, the prefix a DNS subdomain, the name
/// at most 63 alphanumerics, `-`, `_`, `.`, starting and ending alphanumeric.
pub fn check_key(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(prefix) = prefix {
        let ok = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !ok {
            return Err(format!(
                "prefix {prefix:?} must be a DNS subdomain: lower-case alphanumerics, '-' and '.', e.g. example.com"
            ));
        }
    }
    if name.is_empty() {
        return Err("the name part must not be empty".into());
    }
    check_name_part(name, "name part").map_err(|why| format!("key {key:?}: {why}"))
}

/// Checks a label value: empty, or at most 63 alphanumerics, `-`, `_`, `.`,
/// starting and ending alphanumeric.
pub fn check_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    check_name_part(value, "a valid label value")
}

fn check_name_part(s: &str, what: &str) -> Result<(), String> {
    let chars_ok = s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    let ends_ok = s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
    if s.len() > 63 {
        return Err(format!("{what} must be no more than 63 characters"));
    }
    if !chars_ok || !ends_ok {
        return Err(format!(
            "{what} must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', 'my_value' or '12345')"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn arguments_split_into_resources_and_changes() {
        let (res, changes) = split_args(&args(&[
            "namespaces",
            "policies",
            "istio.io/dataplane-mode=ambient",
            "old-",
            "empty=",
        ]))
        .unwrap();
        assert_eq!(res, ["namespaces", "policies"]);
        assert_eq!(
            changes.set,
            [
                ("istio.io/dataplane-mode".to_string(), "ambient".to_string()),
                ("empty".to_string(), String::new())
            ]
        );
        assert_eq!(changes.remove, ["old"]);
        let (res, _) = split_args(&args(&["ns/policies", "a=b"])).unwrap();
        assert_eq!(res, ["ns/policies"]);
    }

    #[test]
    fn bad_arguments_are_refused() {
        let err = |a: &[&str]| split_args(&args(a)).unwrap_err();
        assert_eq!(err(&["ns", "x"]), "at least one label update is required");
        assert!(err(&["ns", "a=b", "x"]).contains("before label changes"));
        assert!(err(&["ns", "x", "a=b c"]).starts_with("invalid label value"));
        assert!(err(&["ns", "x", "-a=b"]).starts_with("invalid label spec"));
        assert!(err(&["ns", "x", "Bad_Prefix/a=b"]).contains("DNS subdomain"));
        assert!(err(&["ns", "x", &format!("a={}", "v".repeat(64))]).contains("63"));
        assert_eq!(
            err(&["ns", "x", "a=b", "a-"]),
            "can not both modify and remove a label in the same command"
        );
    }

    #[test]
    fn changes_apply_with_kubectl_overwrite_rules() {
        let mut labels = BTreeMap::from([("a".to_string(), "1".to_string())]);
        let (_, same) = split_args(&args(&["ns", "x", "a=1"])).unwrap();
        assert!(!apply_changes(&mut labels, &same, false).unwrap().changed);
        let (_, other) = split_args(&args(&["ns", "x", "a=2"])).unwrap();
        assert_eq!(
            apply_changes(&mut labels, &other, false).unwrap_err(),
            "'a' already has a value (1), and --overwrite is false"
        );
        assert!(apply_changes(&mut labels, &other, true).unwrap().changed);
        assert_eq!(labels["a"], "2");
        let (_, remove) = split_args(&args(&["ns", "x", "a-", "zz-"])).unwrap();
        let applied = apply_changes(&mut labels, &remove, false).unwrap();
        assert!(applied.changed && labels.is_empty());
        assert_eq!(applied.missing, ["zz"]);
    }
}
