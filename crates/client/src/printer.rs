//! Output as kubectl prints it: aligned tables (3 spaces between columns), JSON
//! indented by four spaces with sorted keys, YAML, `kind.group/name` lines.

use palisade_api::kinds::KindMeta;
use serde_json::{Map, Value};

use crate::resources::object_ref;
use crate::time::age_of;

/// Renders rows as kubectl's tab writer does: every column but the last padded
/// to its widest cell plus three spaces (at least six characters in all).
pub fn table(rows: &[Vec<String>]) -> String {
    const PADDING: usize = 3;
    const MIN_WIDTH: usize = 6;
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count() + PADDING).max(MIN_WIDTH);
        }
    }
    let mut out = String::new();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            out.push_str(cell);
            if i + 1 < row.len() {
                let pad = widths[i] - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    }
    out
}

/// A copy of `value` with every object's keys in sorted order.
pub fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&map[k]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// JSON as `kubectl -o json` prints it: sorted keys, four-space indentation,
/// ending in a newline.
pub fn to_json(value: &Value) -> String {
    use serde::Serialize;
    let mut buf = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, formatter);
    sorted(value)
        .serialize(&mut ser)
        .expect("JSON values serialize");
    let mut text = String::from_utf8(buf).expect("serde_json writes UTF-8");
    text.push('\n');
    text
}

/// kubectl's wrapper for several objects.
pub fn list(items: Vec<Value>) -> Value {
    serde_json::json!({
        "apiVersion": "v1",
        "items": items,
        "kind": "List",
        "metadata": {"resourceVersion": ""},
    })
}

/// Which columns a `get` table shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableOptions {
    /// `-A`: a NAMESPACE column first (namespaced kinds only).
    pub namespace_column: bool,
    /// `-o wide`: extra columns.
    pub wide: bool,
    /// Names as `kind.group/name` (several kinds in one listing).
    pub with_kind: bool,
    /// `--show-labels`: a LABELS column last.
    pub show_labels: bool,
    /// `--no-headers`.
    pub no_headers: bool,
}

fn text<'a>(obj: &'a Value, pointer: &str) -> &'a str {
    obj.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn or_none(s: String) -> String {
    if s.is_empty() { "<none>".into() } else { s }
}

/// The header and rows of a `get` table of objects of one kind, seen at `now`.
pub fn kind_table(
    meta: &KindMeta,
    objects: &[Value],
    options: TableOptions,
    now: i64,
) -> Vec<Vec<String>> {
    let namespace_column = options.namespace_column && meta.namespaced;
    let mut header: Vec<String> = Vec::new();
    if namespace_column {
        header.push("NAMESPACE".into());
    }
    header.push("NAME".into());
    let (extra, wide_extra) = kind_columns(meta.kind);
    header.extend(extra.iter().map(|s| s.to_string()));
    if options.wide {
        header.extend(wide_extra.iter().map(|s| s.to_string()));
        header.push("READY".into());
    }
    if options.show_labels {
        header.push("LABELS".into());
    }
    let mut rows = Vec::new();
    if !options.no_headers {
        rows.push(header);
    }
    for obj in objects {
        let mut row = Vec::new();
        if namespace_column {
            row.push(text(obj, "/metadata/namespace").to_string());
        }
        let name = text(obj, "/metadata/name");
        row.push(if options.with_kind {
            object_ref(meta, name)
        } else {
            name.to_string()
        });
        let (cells, wide_cells) = kind_cells(meta.kind, obj, now);
        row.extend(cells);
        if options.wide {
            row.extend(wide_cells);
            row.push(ready(obj));
        }
        if options.show_labels {
            row.push(labels(obj));
        }
        rows.push(row);
    }
    rows
}

/// Column headers after NAME for a kind: (always, with `-o wide`).
fn kind_columns(kind: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        "Namespace" => (&["STATUS", "AGE"], &[]),
        "Secret" => (&["TYPE", "DATA", "AGE"], &[]),
        "ServiceAccount" => (&["SECRETS", "AGE"], &[]),
        "Role" | "ClusterRole" => (&["CREATED AT"], &[]),
        "RoleBinding" | "ClusterRoleBinding" => {
            (&["ROLE", "AGE"], &["USERS", "GROUPS", "SERVICEACCOUNTS"])
        }
        _ => (&["AGE"], &[]),
    }
}

fn kind_cells(kind: &str, obj: &Value, now: i64) -> (Vec<String>, Vec<String>) {
    let created = obj
        .pointer("/metadata/creationTimestamp")
        .and_then(Value::as_str);
    let age = age_of(created, now);
    match kind {
        "Namespace" => {
            let phase = text(obj, "/status/phase");
            let phase = if phase.is_empty() { "Active" } else { phase };
            (vec![phase.to_string(), age], vec![])
        }
        "Secret" => {
            let ty = text(obj, "/type");
            let ty = if ty.is_empty() { "Opaque" } else { ty };
            (
                vec![ty.to_string(), secret_data_count(obj).to_string(), age],
                vec![],
            )
        }
        "ServiceAccount" => {
            let secrets = obj
                .get("secrets")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            (vec![secrets.to_string(), age], vec![])
        }
        "Role" | "ClusterRole" => (vec![created.unwrap_or("<unknown>").to_string()], vec![]),
        "RoleBinding" | "ClusterRoleBinding" => {
            let role = format!(
                "{}/{}",
                text(obj, "/roleRef/kind"),
                text(obj, "/roleRef/name")
            );
            let subjects: &[Value] = obj
                .get("subjects")
                .and_then(Value::as_array)
                .map_or(&[], Vec::as_slice);
            let of_kind = |kind: &str| {
                let names: Vec<String> = subjects
                    .iter()
                    .filter(|s| text(s, "/kind") == kind)
                    .map(|s| {
                        let name = text(s, "/name");
                        match (kind, text(s, "/namespace")) {
                            ("ServiceAccount", ns) if !ns.is_empty() => format!("{ns}/{name}"),
                            _ => name.to_string(),
                        }
                    })
                    .collect();
                names.join(", ")
            };
            (
                vec![role, age],
                vec![of_kind("User"), of_kind("Group"), of_kind("ServiceAccount")],
            )
        }
        _ => (vec![age], vec![]),
    }
}

/// How many keys a Secret holds: its `data`/`stringData`, or the key names the
/// server lists in `palisade.dev/data-keys` when it withholds the values.
fn secret_data_count(obj: &Value) -> usize {
    let mut keys: Vec<&str> = ["data", "stringData"]
        .iter()
        .filter_map(|f| obj.get(*f).and_then(Value::as_object))
        .flat_map(|m| m.keys().map(String::as_str))
        .collect();
    let annotated = text(obj, "/metadata/annotations/palisade.dev~1data-keys");
    keys.extend(annotated.split(',').filter(|k| !k.is_empty()));
    keys.sort_unstable();
    keys.dedup();
    keys.len()
}

/// The `Ready` condition's status (`True`, `False`, `Unknown`).
fn ready(obj: &Value) -> String {
    obj.pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|conds| conds.iter().find(|c| text(c, "/type") == "Ready"))
        .map(|c| text(c, "/status").to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "Unknown".into())
}

fn labels(obj: &Value) -> String {
    let labels = obj
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            let mut pairs: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                .collect();
            pairs.sort();
            pairs.join(",")
        })
        .unwrap_or_default();
    or_none(labels)
}

/// `-o name` lines.
pub fn names(meta: &KindMeta, objects: &[Value]) -> String {
    objects
        .iter()
        .map(|o| format!("{}\n", object_ref(meta, text(o, "/metadata/name"))))
        .collect()
}

/// An object with `apiVersion` and `kind` filled in (list items may lack them).
pub fn with_type(meta: &KindMeta, mut obj: Value) -> Value {
    if let Value::Object(map) = &mut obj {
        map.entry("kind").or_insert_with(|| meta.kind.into());
        map.entry("apiVersion").or_insert_with(|| {
            meta.api_version(crate::resources::preferred_version(meta))
                .into()
        });
    }
    obj
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::resolve;
    use crate::time::parse_rfc3339;
    use serde_json::json;

    fn mcp(ns: &str, name: &str, created: &str) -> Value {
        json!({"apiVersion": "kagent.dev/v1alpha1", "kind": "MCPServer",
            "metadata": {"name": name, "namespace": ns, "creationTimestamp": created, "labels": {"b": "2", "a": "1"}},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    }

    #[test]
    fn tables_align_like_kubectl() {
        let rows = vec![
            vec!["NAME".to_string(), "AGE".to_string()],
            vec!["test-mcp-server".to_string(), "5s".to_string()],
            vec!["x".to_string(), "3m2s".to_string()],
        ];
        assert_eq!(
            table(&rows),
            "NAME              AGE\ntest-mcp-server   5s\nx                 3m2s\n"
        );
        // Narrow columns are six characters wide.
        let rows = vec![vec!["A".to_string(), "B".to_string()]];
        assert_eq!(table(&rows), "A     B\n");
    }

    #[test]
    fn get_tables() {
        let meta = resolve("mcps").unwrap();
        let now = parse_rfc3339("2025-01-31T12:03:02Z").unwrap();
        let objs = vec![
            mcp("kagent", "test-reader-only", "2025-01-31T12:00:00Z"),
            mcp("policies", "test-mcp-server", "2025-01-31T12:03:00Z"),
        ];
        let out = table(&kind_table(meta, &objs, TableOptions::default(), now));
        assert_eq!(
            out,
            "NAME               AGE\ntest-reader-only   3m2s\ntest-mcp-server    2s\n"
        );
        let all = TableOptions {
            namespace_column: true,
            wide: true,
            show_labels: true,
            ..TableOptions::default()
        };
        let out = table(&kind_table(meta, &objs, all, now));
        assert_eq!(
            out,
            "NAMESPACE   NAME               AGE    READY   LABELS\n\
             kagent      test-reader-only   3m2s   True    a=1,b=2\n\
             policies    test-mcp-server    2s     True    a=1,b=2\n"
        );
        let kinds = TableOptions {
            with_kind: true,
            no_headers: true,
            ..TableOptions::default()
        };
        let out = table(&kind_table(meta, &objs[..1], kinds, now));
        assert_eq!(out, "mcpserver.kagent.dev/test-reader-only   3m2s\n");
        assert_eq!(
            names(meta, &objs),
            "mcpserver.kagent.dev/test-reader-only\nmcpserver.kagent.dev/test-mcp-server\n"
        );
    }

    #[test]
    fn core_kind_tables() {
        let now = parse_rfc3339("2025-01-31T12:00:10Z").unwrap();
        let ns =
            json!({"metadata": {"name": "policies", "creationTimestamp": "2025-01-31T12:00:00Z"}});
        let out = table(&kind_table(
            resolve("ns").unwrap(),
            &[ns],
            TableOptions {
                namespace_column: true,
                ..Default::default()
            },
            now,
        ));
        assert_eq!(out, "NAME       STATUS   AGE\npolicies   Active   10s\n");
        let secret = json!({"metadata": {"name": "kagent-anthropic", "creationTimestamp": "2025-01-31T12:00:00Z",
            "annotations": {"palisade.dev/data-keys": "A,B"}}});
        let out = table(&kind_table(
            resolve("secrets").unwrap(),
            &[secret],
            TableOptions::default(),
            now,
        ));
        assert_eq!(
            out,
            "NAME               TYPE     DATA   AGE\nkagent-anthropic   Opaque   2      10s\n"
        );
        let crb = json!({"metadata": {"name": "kagent-viewer-binding", "creationTimestamp": "2025-01-31T12:00:00Z"},
            "roleRef": {"kind": "ClusterRole", "name": "kagent-crd-viewer"},
            "subjects": [{"kind": "ServiceAccount", "name": "test-reader", "namespace": "kagent"}]});
        let out = table(&kind_table(
            resolve("clusterrolebindings").unwrap(),
            &[crb],
            TableOptions {
                wide: true,
                ..Default::default()
            },
            now,
        ));
        assert_eq!(
            out,
            "NAME                    ROLE                            AGE   USERS   GROUPS   SERVICEACCOUNTS      READY\n\
             kagent-viewer-binding   ClusterRole/kagent-crd-viewer   10s                    kagent/test-reader   Unknown\n"
        );
    }

    #[test]
    fn json_is_sorted_and_indented_by_four() {
        let out = to_json(&json!({"b": 1, "a": {"d": [1], "c": null}}));
        assert_eq!(
            out,
            "{\n    \"a\": {\n        \"c\": null,\n        \"d\": [\n            1\n        ]\n    },\n    \"b\": 1\n}\n"
        );
        let l = list(vec![]);
        assert_eq!(l["kind"], "List");
        assert_eq!(l["metadata"]["resourceVersion"], "");
    }
}
