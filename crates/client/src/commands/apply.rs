//! `apply -f`: create what is absent, update what differs, leave the rest.

use serde_json::Value;

use super::manifests::{self, Manifest, SERVER_METADATA};
use super::{Context, server_prefix};
use crate::cli::ApplyArgs;
use crate::client::{ApiClient, ClientError};
use crate::resources::{collection_path, object_path, object_ref};

/// Annotation in which the server lists a Secret's keys instead of its values.
pub(crate) const DATA_KEYS_ANNOTATION: &str = "palisade.dev/data-keys";

/// What applying one object did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applied {
    /// It was absent and is now created.
    Created,
    /// It differed and was replaced.
    Configured,
    /// It already was as applied.
    Unchanged,
}

impl Applied {
    fn word(self) -> &'static str {
        match self {
            Applied::Created => "created",
            Applied::Configured => "configured",
            Applied::Unchanged => "unchanged",
        }
    }
}

/// kubectl's line for an applied object: `mcpserver.kagent.dev/test created`.
pub(crate) fn applied_line(m: &Manifest, what: Applied) -> String {
    format!("{} {}", object_ref(m.meta, &m.name), what.word())
}

/// Why applying one object failed: a line for standard error, or a connection
/// problem that ends the command.
enum Failure {
    Line(String),
    Fatal(ClientError),
}

pub(crate) async fn apply(ctx: &mut Context<'_>, args: &ApplyArgs) -> i32 {
    let Some(objects) = manifests::load(ctx, &args.files) else {
        return 1;
    };
    if objects.is_empty() {
        return ctx.fail("no objects passed to apply");
    }
    let client = match ctx.client() {
        Ok(c) => c,
        Err(e) => return ctx.fail(e),
    };
    let mut code = 0;
    for m in &objects {
        match apply_one(&client, m).await {
            Ok(what) => ctx.say(applied_line(m, what)),
            Err(Failure::Line(line)) => {
                ctx.warn(line);
                code = 1;
            }
            Err(Failure::Fatal(e)) => return ctx.fail_client(&e),
        }
    }
    code
}

async fn apply_one(client: &ApiClient, m: &Manifest) -> Result<Applied, Failure> {
    let version = manifests::version(m);
    let path = object_path(m.meta, version, m.namespace.as_deref(), &m.name);
    let live = match client.get(&path).await {
        Ok(live) => Some(live),
        Err(e) if e.is_not_found() => None,
        Err(ClientError::Status(s)) if s.code != 401 => {
            return Err(Failure::Line(format!(
                "{}: {}from server for: \"{}\": {}",
                server_prefix(&s),
                retrieving(m),
                m.file,
                s.message
            )));
        }
        Err(e) => return Err(Failure::Fatal(e)),
    };
    match live {
        None => {
            let collection = collection_path(m.meta, version, m.namespace.as_deref());
            match client.post(&collection, &m.object).await {
                Ok(_) => Ok(Applied::Created),
                Err(e) => Err(write_failure(e, "creating", &m.file)),
            }
        }
        Some(live) if unchanged(m, &live) => Ok(Applied::Unchanged),
        Some(live) => {
            let mut body = m.object.clone();
            if let (Some(rv), Some(metadata)) = (
                live.pointer("/metadata/resourceVersion").cloned(),
                body.get_mut("metadata").and_then(Value::as_object_mut),
            ) {
                metadata.insert("resourceVersion".into(), rv);
            }
            match client.put(&path, &body).await {
                Ok(_) => Ok(Applied::Configured),
                Err(e) => Err(write_failure(e, "applying", &m.file)),
            }
        }
    }
}

/// `Error from server (Forbidden): error when creating "STDIN": message`.
pub(crate) fn error_when(e: &crate::client::StatusError, verb: &str, file: &str) -> String {
    format!(
        "{}: error when {verb} \"{file}\": {}",
        server_prefix(e),
        e.message
    )
}

fn write_failure(e: ClientError, verb: &str, file: &str) -> Failure {
    match e {
        // Every other object would fail the same way: say it once.
        ClientError::Status(s) if s.code != 401 => Failure::Line(error_when(&s, verb, file)),
        other => Failure::Fatal(other),
    }
}

/// kubectl's description of an object it could not read before applying.
fn retrieving(m: &Manifest) -> String {
    let group_version = if m.meta.group.is_empty() {
        format!("/{}", manifests::version(m))
    } else {
        m.api_version.clone()
    };
    format!(
        "error when retrieving current configuration of:\nResource: \"{group_version}, Resource={}\", GroupVersionKind: \"{group_version}, Kind={}\"\nName: \"{}\", Namespace: \"{}\"\n",
        m.meta.plural,
        m.meta.kind,
        m.name,
        m.namespace.as_deref().unwrap_or_default()
    )
}

/// Whether the live object already has everything the manifest applies. A
/// Secret whose manifest carries values is never unchanged: the server does not
/// return values to compare, so they are always written.
pub(crate) fn unchanged(m: &Manifest, live: &Value) -> bool {
    let carries_values = m.meta.kind == "Secret"
        && (m.object.get("data").is_some() || m.object.get("stringData").is_some());
    if carries_values {
        return false;
    }
    same_json(
        &comparable(&m.object, m.meta.namespaced),
        &comparable(live, m.meta.namespaced),
    )
}

/// An object without what the server sets (status, server metadata, the Secret
/// key annotation) and without empty label/annotation maps.
fn comparable(object: &Value, namespaced: bool) -> Value {
    let mut v = object.clone();
    let Some(map) = v.as_object_mut() else {
        return v;
    };
    map.remove("status");
    if let Some(metadata) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in SERVER_METADATA {
            metadata.remove(*field);
        }
        if !namespaced {
            metadata.remove("namespace");
        }
        if let Some(annotations) = metadata
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
        {
            annotations.remove(DATA_KEYS_ANNOTATION);
        }
        for field in ["labels", "annotations"] {
            if metadata.get(field).is_some_and(|v| {
                v.as_object().is_some_and(serde_json::Map::is_empty) || v.is_null()
            }) {
                metadata.remove(field);
            }
        }
    }
    v
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || (x.as_f64().is_some() && x.as_f64() == y.as_f64())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest(object: Value) -> Manifest {
        let meta = crate::resources::resolve(object["kind"].as_str().unwrap()).unwrap();
        Manifest {
            meta,
            api_version: object["apiVersion"].as_str().unwrap().into(),
            namespace: object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .map(String::from),
            name: object["metadata"]["name"].as_str().unwrap().into(),
            object,
            file: "STDIN".into(),
        }
    }

    #[test]
    fn output_lines() {
        let m = manifest(
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "kagent-crd-viewer"}}),
        );
        assert_eq!(
            applied_line(&m, Applied::Created),
            "clusterrole.rbac.authorization.k8s.io/kagent-crd-viewer created"
        );
        let m = manifest(
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "test-reader", "namespace": "kagent"}}),
        );
        assert_eq!(
            applied_line(&m, Applied::Unchanged),
            "serviceaccount/test-reader unchanged"
        );
        let m = manifest(
            json!({"apiVersion": "kagent.dev/v1alpha1", "kind": "MCPServer", "metadata": {"name": "test", "namespace": "kagent"}}),
        );
        assert_eq!(
            applied_line(&m, Applied::Configured),
            "mcpserver.kagent.dev/test configured"
        );
        let e = crate::client::StatusError {
            code: 403,
            reason: "Forbidden".into(),
            message: "mcpservers.kagent.dev is forbidden: User \"system:serviceaccount:kagent:test-reader\" cannot create resource \"mcpservers\" in API group \"kagent.dev\" in the namespace \"kagent\"".into(),
        };
        assert_eq!(
            error_when(&e, "creating", "STDIN"),
            "Error from server (Forbidden): error when creating \"STDIN\": mcpservers.kagent.dev is forbidden: User \"system:serviceaccount:kagent:test-reader\" cannot create resource \"mcpservers\" in API group \"kagent.dev\" in the namespace \"kagent\""
        );
        assert_eq!(
            retrieving(&m),
            "error when retrieving current configuration of:\nResource: \"kagent.dev/v1alpha1, Resource=mcpservers\", GroupVersionKind: \"kagent.dev/v1alpha1, Kind=MCPServer\"\nName: \"test\", Namespace: \"kagent\"\n"
        );
    }

    #[test]
    fn comparison_ignores_what_the_server_sets() {
        let m = manifest(
            json!({"apiVersion": "kagent.dev/v1alpha1", "kind": "MCPServer",
            "metadata": {"name": "test", "namespace": "kagent", "labels": {"a": "b"}},
            "spec": {"deployment": {"port": 3000}}}),
        );
        let mut live = m.object.clone();
        live["metadata"]["resourceVersion"] = json!("7");
        live["metadata"]["uid"] = json!("u");
        live["metadata"]["creationTimestamp"] = json!("2025-01-01T00:00:00Z");
        live["metadata"]["generation"] = json!(1);
        live["metadata"]["annotations"] = json!({});
        live["status"] = json!({"conditions": [{"type": "Ready", "status": "True"}]});
        assert!(unchanged(&m, &live));
        live["spec"]["deployment"]["port"] = json!(3000.0);
        assert!(unchanged(&m, &live));
        live["spec"]["deployment"]["port"] = json!(3001);
        assert!(!unchanged(&m, &live));
        live["spec"]["deployment"]["port"] = json!(3000);
        live["metadata"]["labels"]["extra"] = json!("x");
        assert!(!unchanged(&m, &live), "an added label is removed by apply");

        let secret = manifest(json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "k", "namespace": "policies"}, "stringData": {"K": "v"}}));
        let live = json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "k", "namespace": "policies", "annotations": {"palisade.dev/data-keys": "K"}}});
        assert!(
            !unchanged(&secret, &live),
            "values cannot be compared, so they are written"
        );
        let no_values = manifest(json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "k", "namespace": "policies"}}));
        assert!(unchanged(&no_values, &live));
    }
}
