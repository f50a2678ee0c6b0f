//! The OpenAPI 3 description of the admin API, generated from the kind
//! registry (objects are described as Kubernetes manifests; their field-level
//! schemas are in the reference documents).

use palisade_api::kinds::KINDS;
use serde_json::{Map, Value, json};

/// The document served at `/openapi/v3`.
pub fn document() -> Value {
    let mut paths = Map::new();
    for kind in KINDS {
        let meta = &kind.meta;
        let version = meta.versions[0];
        let base = if meta.group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{}/{version}", meta.group)
        };
        let (collection, item) = if meta.namespaced {
            (
                format!("{base}/namespaces/{{namespace}}/{}", meta.plural),
                format!("{base}/namespaces/{{namespace}}/{}/{{name}}", meta.plural),
            )
        } else {
            (
                format!("{base}/{}", meta.plural),
                format!("{base}/{}/{{name}}", meta.plural),
            )
        };
        let tag = meta.kind;
        paths.insert(
            collection,
            json!({
                "get": op(tag, &format!("List or watch {} objects", meta.kind), "List"),
                "post": op(tag, &format!("Create a {}", meta.kind), "Object"),
            }),
        );
        paths.insert(
            item,
            json!({
                "get": op(tag, &format!("Read a {}", meta.kind), "Object"),
                "put": op(tag, &format!("Replace a {} (optimistic concurrency with metadata.resourceVersion)", meta.kind), "Object"),
                "patch": op(tag, &format!("Merge-patch or server-side apply a {}", meta.kind), "Object"),
                "delete": op(tag, &format!("Delete a {}", meta.kind), "Object"),
            }),
        );
        if meta.namespaced {
            paths.insert(
                format!("{base}/{}", meta.plural),
                json!({"get": op(tag, &format!("List {} objects of every namespace", meta.kind), "List")}),
            );
        }
    }
    paths.insert(
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews".into(),
        json!({"post": op("Access", "May the caller do this? (SelfSubjectAccessReview)", "Object")}),
    );
    paths.insert(
        "/api/v1/namespaces/{namespace}/serviceaccounts/{name}/token".into(),
        json!({"post": op("ServiceAccount", "Issue a token for a service account (TokenRequest)", "Object")}),
    );
    paths.insert(
        "/apis/audit.palisade.dev/v1/events".into(),
        json!({"get": op("Audit", "Audit events, newest first", "List")}),
    );
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Palisade admin API", "version": env!("CARGO_PKG_VERSION")},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Object": {"type": "object", "description": "A Kubernetes-shaped manifest (apiVersion, kind, metadata, spec...)", "additionalProperties": true},
                "List": {"type": "object", "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Object"}}}},
                "Status": {"type": "object", "description": "A Kubernetes Status error", "properties": {
                    "reason": {"type": "string"}, "message": {"type": "string"}, "code": {"type": "integer"}}},
            },
        },
        "security": [{"bearer": []}],
        "paths": Value::Object(paths),
    })
}

fn op(tag: &str, summary: &str, schema: &str) -> Value {
    json!({
        "tags": [tag],
        "summary": summary,
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}},
            "default": {"description": "A Status error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}},
        },
    })
}
