//! RBAC cannot be used to gain permissions: creating or changing a role
//! needs every permission it grants (or the `escalate` verb), and binding a
//! role needs every permission of the role (or the `bind` verb) — Kubernetes'
//! rules.

use palisade_api::kinds::rbac::{PolicyRule, RBAC_GROUP, RoleRef};
use palisade_rbac::{Action, Authorizer, User};
use palisade_store::ObjectKey;
use serde_json::Value;

use crate::status::ApiError;

/// Refuses a write of an RBAC object that would grant `user` more than it
/// holds.
pub fn check(
    authz: &Authorizer,
    user: &User,
    key: &ObjectKey,
    object: &Value,
) -> Result<(), ApiError> {
    if key.group != RBAC_GROUP {
        return Ok(());
    }
    let namespace = (!key.namespace.is_empty()).then_some(key.namespace.as_str());
    let (plural, special_verb, rules) = match key.kind.as_str() {
        "Role" | "ClusterRole" => {
            let rules: Vec<PolicyRule> = object
                .get("rules")
                .cloned()
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| ApiError::invalid(format!("rules: {e}")))?
                .unwrap_or_default();
            let plural = if key.kind == "Role" {
                "roles"
            } else {
                "clusterroles"
            };
            (plural, "escalate", rules)
        }
        "RoleBinding" | "ClusterRoleBinding" => {
            let role_ref: RoleRef = object
                .get("roleRef")
                .cloned()
                .map(serde_json::from_value)
                .transpose()
                .map_err(|e| ApiError::invalid(format!("roleRef: {e}")))?
                .ok_or_else(|| ApiError::invalid("roleRef is required"))?;
            let rules = authz
                .role_rules(role_ref.kind, namespace, &role_ref.name)
                .map(|r| r.as_ref().clone())
                .unwrap_or_default();
            let plural = if key.kind == "RoleBinding" {
                "rolebindings"
            } else {
                "clusterrolebindings"
            };
            (plural, "bind", rules)
        }
        _ => return Ok(()),
    };
    let may_skip = authz
        .decide(
            user,
            &Action {
                verb: special_verb,
                group: RBAC_GROUP,
                resource: plural,
                subresource: None,
                namespace,
                name: Some(&key.name),
            },
        )
        .allowed();
    if may_skip {
        return Ok(());
    }
    authz.covers(user, namespace, &rules).map_err(|missing| {
        ApiError::forbidden(format!(
            "{plural}.{RBAC_GROUP} \"{}\" is forbidden: user \"{}\" is attempting to grant RBAC permissions not currently held: {missing}",
            key.name, user.name
        ))
    })
}
