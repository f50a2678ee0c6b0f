//! Request paths: which kind, namespace and object a URL names, in
//! Kubernetes' REST layout, and the API's special endpoints.

use palisade_api::kinds::{KINDS, KindEntry};

use crate::status::ApiError;

/// What a request path addresses.
#[derive(Debug)]
pub enum Route {
    /// Objects of a kind: a collection (no name) or one object.
    Resource(ResourcePath),
    /// `POST .../namespaces/{ns}/serviceaccounts/{name}/token`.
    Token {
        /// The ServiceAccount's namespace.
        namespace: String,
        /// The ServiceAccount's name.
        name: String,
    },
    /// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`.
    AccessReview,
    /// `GET /apis/audit.palisade.dev/v1/events`.
    Audit,
    /// `GET /openapi/v3`.
    OpenApi,
    /// `GET /.well-known/openid-configuration`: the service-account issuer.
    Discovery,
    /// `GET /openid/v1/jwks`: the service-account signing keys.
    Jwks,
    /// `GET /login/providers`: the OIDC providers `palisade login` can use.
    LoginProviders,
}

/// A collection or object of one kind.
#[derive(Debug)]
pub struct ResourcePath {
    /// The kind.
    pub kind: &'static KindEntry,
    /// Namespace from the path; `None` for cluster-scoped kinds and lists
    /// across every namespace.
    pub namespace: Option<String>,
    /// Object name; `None` for the collection.
    pub name: Option<String>,
}

/// The API group of the audit log's virtual resource.
pub const AUDIT_GROUP: &str = "audit.palisade.dev";

/// Parses a request path. `Ok(None)`: not an API path (the admin listener's
/// other endpoints may serve it).
pub fn parse(path: &str) -> Result<Option<Route>, ApiError> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, version, rest) = match segments.as_slice() {
        ["openapi", "v3"] => return Ok(Some(Route::OpenApi)),
        [".well-known", "openid-configuration"] => return Ok(Some(Route::Discovery)),
        ["openid", "v1", "jwks"] => return Ok(Some(Route::Jwks)),
        ["login", "providers"] => return Ok(Some(Route::LoginProviders)),
        [
            "apis",
            "authorization.k8s.io",
            "v1",
            "selfsubjectaccessreviews",
        ] => {
            return Ok(Some(Route::AccessReview));
        }
        ["apis", AUDIT_GROUP, "v1", "events"] => return Ok(Some(Route::Audit)),
        ["api", "v1", rest @ ..] => ("", "v1", rest),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        ["api" | "apis", ..] => return Err(not_found(path)),
        _ => return Ok(None),
    };
    if rest.iter().any(|s| s.is_empty()) {
        return Err(not_found(path));
    }
    let (namespace, plural, name, sub) = match rest {
        // The namespace objects themselves.
        ["namespaces"] => (None, "namespaces", None, None),
        ["namespaces", name] => (None, "namespaces", Some(*name), None),
        ["namespaces", ns, plural] => (Some(*ns), *plural, None, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name), None),
        ["namespaces", ns, plural, name, sub] => (Some(*ns), *plural, Some(*name), Some(*sub)),
        [plural] => (None, *plural, None, None),
        [plural, name] => (None, *plural, Some(*name), None),
        _ => return Err(not_found(path)),
    };
    let kind = KINDS
        .iter()
        .find(|k| {
            k.meta.group == group && k.meta.plural == plural && k.meta.versions.contains(&version)
        })
        .ok_or_else(|| not_found(path))?;
    if let Some(sub) = sub {
        return match (group, plural, sub) {
            ("", "serviceaccounts", "token") => Ok(Some(Route::Token {
                namespace: namespace.unwrap_or_default().to_string(),
                name: name.unwrap_or_default().to_string(),
            })),
            _ => Err(not_found(path)),
        };
    }
    if kind.meta.namespaced == namespace.is_none() && (name.is_some() || !kind.meta.namespaced) {
        return Err(not_found(path));
    }
    Ok(Some(Route::Resource(ResourcePath {
        kind,
        namespace: namespace.map(str::to_string),
        name: name.map(str::to_string),
    })))
}

fn not_found(path: &str) -> ApiError {
    ApiError::not_found(format!(
        "the server could not find the requested resource ({path}); see docs/admin-api.md for the paths"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(path: &str) -> (String, Option<String>, Option<String>) {
        match parse(path).unwrap().unwrap() {
            Route::Resource(r) => (r.kind.meta.kind.to_string(), r.namespace, r.name),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn kubernetes_paths() {
        assert_eq!(
            resource("/apis/kagent.dev/v1alpha1/namespaces/kagent/mcpservers/x"),
            ("MCPServer".into(), Some("kagent".into()), Some("x".into()))
        );
        assert_eq!(
            resource("/apis/kagent.dev/v1alpha1/mcpservers"),
            ("MCPServer".into(), None, None)
        );
        assert_eq!(
            resource("/api/v1/namespaces/policies"),
            ("Namespace".into(), None, Some("policies".into()))
        );
        assert_eq!(
            resource("/api/v1/namespaces"),
            ("Namespace".into(), None, None)
        );
        assert_eq!(
            resource("/apis/rbac.authorization.k8s.io/v1/clusterroles/viewer"),
            ("ClusterRole".into(), None, Some("viewer".into()))
        );
        assert!(matches!(
            parse("/api/v1/namespaces/kagent/serviceaccounts/reader/token"),
            Ok(Some(Route::Token { namespace, name })) if namespace == "kagent" && name == "reader"
        ));
        assert!(matches!(parse("/healthz"), Ok(None)));
    }

    #[test]
    fn wrong_paths_are_not_found() {
        for path in [
            "/apis/kagent.dev/v1alpha1/nothings",
            "/apis/kagent.dev/v9/mcpservers",
            // A namespaced object needs its namespace; a cluster-scoped one has none.
            "/apis/kagent.dev/v1alpha1/mcpservers/x",
            "/apis/rbac.authorization.k8s.io/v1/namespaces/a/clusterroles/x",
            "/api/v1/namespaces/a/secrets/x/status",
            "/apis/x",
        ] {
            let e = parse(path).unwrap_err();
            assert_eq!(e.code, http::StatusCode::NOT_FOUND, "{path}");
        }
    }
}
