//! `auth can-i VERB RESOURCE [NAME]`: a SelfSubjectAccessReview.

use serde_json::{Value, json};

use super::Context;
use crate::cli::{AuthArgs, AuthCommand, CanIArgs};

/// Verbs kubectl knows; others draw a warning (and are still asked about).
const KNOWN_VERBS: &[&str] = &[
    "*",
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "impersonate",
    "bind",
    "escalate",
    "use",
    "approve",
    "sign",
];

/// What `can-i` asks about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attributes {
    /// API group (`""` for the core group).
    pub group: String,
    /// Lower-case plural.
    pub resource: String,
    /// Object name, if any.
    pub name: Option<String>,
    /// Whether the resource was unknown (and passed literally).
    pub unknown: bool,
    /// Whether the kind is cluster-scoped.
    pub cluster_scoped: bool,
}

/// Resolves `TYPE[.GROUP][/NAME]` through the registry when known; unknown types
/// are split at the first `.` into resource and group, as kubectl does.
pub(crate) fn resolve_resource(arg: &str) -> Attributes {
    let (ty, name) = match arg.split_once('/') {
        Some((t, n)) => (t, Some(n.to_string()).filter(|n| !n.is_empty())),
        None => (arg, None),
    };
    if let Some(meta) = crate::resources::resolve(ty) {
        return Attributes {
            group: meta.group.to_string(),
            resource: meta.plural.to_string(),
            name,
            unknown: false,
            cluster_scoped: !meta.namespaced,
        };
    }
    let (resource, group) = match ty.split_once('.') {
        Some((r, g)) if ty != "*" => (r.to_string(), g.to_string()),
        _ => (ty.to_string(), String::new()),
    };
    Attributes {
        unknown: resource != "*",
        group,
        resource,
        name,
        cluster_scoped: false,
    }
}

/// The review to POST.
pub(crate) fn review(
    verb: &str,
    attrs: &Attributes,
    namespace: &str,
    subresource: Option<&str>,
) -> Value {
    let mut resource = json!({
        "verb": verb,
        "group": attrs.group,
        "resource": attrs.resource,
        "namespace": namespace,
    });
    if let Some(name) = &attrs.name {
        resource["name"] = name.clone().into();
    }
    if let Some(sub) = subresource {
        resource["subresource"] = sub.into();
    }
    json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {"resourceAttributes": resource},
    })
}

pub(crate) async fn auth(ctx: &mut Context<'_>, args: &AuthArgs) -> i32 {
    match &args.command {
        AuthCommand::CanI(c) => can_i(ctx, c).await,
    }
}

async fn can_i(ctx: &mut Context<'_>, args: &CanIArgs) -> i32 {
    if args.resource.starts_with('/') {
        return ctx.fail("non-resource URLs are not supported by Palisade; ask about a resource type such as mcpservers.kagent.dev");
    }
    let mut attrs = resolve_resource(&args.resource);
    if let Some(name) = &args.name {
        attrs.name = Some(name.clone());
    }
    if !args.quiet {
        if !KNOWN_VERBS.contains(&args.verb.as_str()) {
            ctx.warn(format_args!(
                "Warning: verb '{}' is not a known verb",
                args.verb
            ));
        }
        if attrs.unknown {
            ctx.warn(format_args!(
                "Warning: the server doesn't have a resource type '{}'",
                attrs.resource
            ));
        }
    }
    let namespace = if args.all_namespaces || attrs.cluster_scoped {
        String::new()
    } else {
        ctx.namespace()
    };
    let body = review(&args.verb, &attrs, &namespace, args.subresource.as_deref());
    let client = match ctx.client() {
        Ok(c) => c,
        Err(e) => return ctx.fail(e),
    };
    match client
        .post(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            &body,
        )
        .await
    {
        Ok(answer) => {
            let allowed = answer
                .pointer("/status/allowed")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            if !args.quiet {
                ctx.say(if allowed { "yes" } else { "no" });
            }
            i32::from(!allowed)
        }
        Err(e) => ctx.fail_client(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_resolve_through_the_registry() {
        let a = resolve_resource("mcpservers.kagent.dev");
        assert_eq!(
            (a.group.as_str(), a.resource.as_str(), a.unknown),
            ("kagent.dev", "mcpservers", false)
        );
        let a = resolve_resource("mcps/test");
        assert_eq!(
            (a.resource.as_str(), a.name.as_deref()),
            ("mcpservers", Some("test"))
        );
        let a = resolve_resource("secrets");
        assert_eq!((a.group.as_str(), a.resource.as_str()), ("", "secrets"));
        let a = resolve_resource("ns");
        assert!(a.cluster_scoped);
        let a = resolve_resource("pods");
        assert_eq!(
            (a.group.as_str(), a.resource.as_str(), a.unknown),
            ("", "pods", true)
        );
        let a = resolve_resource("widgets.example.com");
        assert_eq!(
            (a.group.as_str(), a.resource.as_str(), a.unknown),
            ("example.com", "widgets", true)
        );
        let a = resolve_resource("*");
        assert_eq!(
            (a.group.as_str(), a.resource.as_str(), a.unknown),
            ("", "*", false)
        );
    }

    #[test]
    fn reviews() {
        let a = resolve_resource("mcpservers.kagent.dev");
        let r = review("create", &a, "kagent", None);
        assert_eq!(
            r["spec"]["resourceAttributes"],
            json!({"verb": "create", "group": "kagent.dev", "resource": "mcpservers", "namespace": "kagent"})
        );
        let a = resolve_resource("sa/test-reader");
        let r = review("create", &a, "kagent", Some("token"));
        assert_eq!(r["spec"]["resourceAttributes"]["name"], "test-reader");
        assert_eq!(r["spec"]["resourceAttributes"]["subresource"], "token");
        assert_eq!(r["kind"], "SelfSubjectAccessReview");
    }
}
