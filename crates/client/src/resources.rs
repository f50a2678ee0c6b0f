//! Resource types as the CLI names them (`mcps`, `mcpservers.kagent.dev`,
//! `MCPServer`), the names kubectl prints for them (`mcpserver.kagent.dev/x`,
//! `mcpservers.kagent.dev "x"`), and their admin API paths.

use palisade_api::kinds::{self, KINDS, KindMeta};

/// Resolves a resource type as typed on the command line: kind, plural, short name
/// or `plural.group`, case-insensitively.
pub fn resolve(name: &str) -> Option<&'static KindMeta> {
    kinds::lookup_name(name).map(|e| &e.meta)
}

/// kubectl's error for an unknown resource type.
pub fn unknown_type(name: &str) -> String {
    let known: Vec<&str> = KINDS.iter().map(|e| e.meta.plural).collect();
    format!(
        "the server doesn't have a resource type \"{name}\" (known types: {}; `palisade api-resources` lists them with their short names)",
        known.join(", ")
    )
}

/// `kind.group` in lower case (`mcpserver.kagent.dev`, `serviceaccount`), the
/// prefix of `-o name` and of apply's messages.
pub fn singular_ref(meta: &KindMeta) -> String {
    qualify(&meta.kind.to_ascii_lowercase(), meta.group)
}

/// `plural.group` (`mcpservers.kagent.dev`, `secrets`), as in server messages.
pub fn plural_ref(meta: &KindMeta) -> String {
    qualify(meta.plural, meta.group)
}

fn qualify(name: &str, group: &str) -> String {
    if group.is_empty() {
        name.to_string()
    } else {
        format!("{name}.{group}")
    }
}

/// `kind.group/name`: what apply, create, label and `get -o name` print.
pub fn object_ref(meta: &KindMeta, name: &str) -> String {
    format!("{}/{name}", singular_ref(meta))
}

/// The version used in paths when the user did not name one: the preferred one.
pub fn preferred_version(meta: &KindMeta) -> &'static str {
    meta.versions.first().copied().unwrap_or("v1")
}

/// The path of a collection: a namespace's objects of a namespaced kind (with
/// `namespace`), every namespace's (without), or a cluster-scoped kind's objects.
pub fn collection_path(meta: &KindMeta, version: &str, namespace: Option<&str>) -> String {
    let root = if meta.group.is_empty() {
        format!("/api/{version}")
    } else {
        format!("/apis/{}/{version}", meta.group)
    };
    match namespace {
        Some(ns) if meta.namespaced => {
            format!("{root}/namespaces/{}/{}", encode_segment(ns), meta.plural)
        }
        _ => format!("{root}/{}", meta.plural),
    }
}

/// The path of one object.
pub fn object_path(meta: &KindMeta, version: &str, namespace: Option<&str>, name: &str) -> String {
    format!(
        "{}/{}",
        collection_path(meta, version, namespace),
        encode_segment(name)
    )
}

/// The version part of an `apiVersion` (`kagent.dev/v1alpha1` → `v1alpha1`).
pub fn version_of(api_version: &str) -> &str {
    api_version.rsplit('/').next().unwrap_or(api_version)
}

/// Percent-encodes a path segment (names are DNS names, but the user may type
/// anything).
pub fn encode_segment(s: &str) -> String {
    encode(s, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
    })
}

/// Percent-encodes a query component.
pub fn encode_query(s: &str) -> String {
    encode(s, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
    })
}

fn encode(s: &str, keep: impl Fn(u8) -> bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Builds `path?k=v&...` from the parameters that are set.
pub fn with_query(path: &str, params: &[(&str, Option<String>)]) -> String {
    let query: Vec<String> = params
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode_query(v))))
        .collect();
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_like_kubectl() {
        for name in [
            "mcps",
            "mcp",
            "mcpservers",
            "mcpserver",
            "MCPServer",
            "mcpservers.kagent.dev",
            "MCPServers.Kagent.Dev",
        ] {
            assert_eq!(resolve(name).map(|m| m.kind), Some("MCPServer"), "{name}");
        }
        assert_eq!(resolve("sa").map(|m| m.kind), Some("ServiceAccount"));
        assert_eq!(resolve("ns").map(|m| m.kind), Some("Namespace"));
        assert_eq!(
            resolve("clusterroles.rbac.authorization.k8s.io").map(|m| m.kind),
            Some("ClusterRole")
        );
        assert_eq!(resolve("mcpservers.example.com"), None);
        assert_eq!(resolve("pods"), None);
        assert!(
            unknown_type("pods").starts_with("the server doesn't have a resource type \"pods\"")
        );
    }

    #[test]
    fn printed_names() {
        let mcp = resolve("mcps").unwrap();
        let cr = resolve("clusterroles").unwrap();
        let sa = resolve("sa").unwrap();
        assert_eq!(object_ref(mcp, "test"), "mcpserver.kagent.dev/test");
        assert_eq!(
            object_ref(cr, "kagent-crd-viewer"),
            "clusterrole.rbac.authorization.k8s.io/kagent-crd-viewer"
        );
        assert_eq!(object_ref(sa, "test-reader"), "serviceaccount/test-reader");
        assert_eq!(plural_ref(mcp), "mcpservers.kagent.dev");
        assert_eq!(plural_ref(sa), "serviceaccounts");
    }

    #[test]
    fn paths() {
        let mcp = resolve("mcps").unwrap();
        let ns = resolve("ns").unwrap();
        let secret = resolve("secret").unwrap();
        assert_eq!(
            object_path(mcp, "v1alpha1", Some("kagent"), "test"),
            "/apis/kagent.dev/v1alpha1/namespaces/kagent/mcpservers/test"
        );
        assert_eq!(
            collection_path(mcp, "v1alpha1", None),
            "/apis/kagent.dev/v1alpha1/mcpservers"
        );
        assert_eq!(
            object_path(ns, "v1", Some("ignored"), "policies"),
            "/api/v1/namespaces/policies"
        );
        assert_eq!(
            collection_path(secret, "v1", Some("policies")),
            "/api/v1/namespaces/policies/secrets"
        );
        assert_eq!(
            object_path(secret, "v1", Some("a b"), "x/y"),
            "/api/v1/namespaces/a%20b/secrets/x%2Fy"
        );
        assert_eq!(version_of("kagent.dev/v1alpha1"), "v1alpha1");
        assert_eq!(version_of("v1"), "v1");
        assert_eq!(
            with_query(
                "/x",
                &[
                    ("labelSelector", Some("a=b,c in (x,y),!d".into())),
                    ("limit", None)
                ]
            ),
            "/x?labelSelector=a%3Db%2Cc%20in%20%28x%2Cy%29%2C%21d"
        );
        assert_eq!(with_query("/x", &[("limit", None)]), "/x");
    }
}
