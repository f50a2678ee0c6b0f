//! Kubernetes RBAC (`rbac.authorization.k8s.io/v1`): `Role`, `ClusterRole`, `RoleBinding`
//! and `ClusterRoleBinding`. Palisade evaluates them itself for its admin API and for
//! `auth can-i`, in both modes.

use serde::{Deserialize, Serialize};

use crate::check::{Check, Checker};
use crate::kinds::core::service_account_principal;
use crate::meta::{LabelSelector, ObjectMeta};

/// The RBAC API group, required in every `roleRef.apiGroup`.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// One permission: verbs on resources of API groups (optionally only some names), or
/// verbs on non-resource URLs (ClusterRole only). `*` matches anything in any list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyRule {
    /// Allowed verbs, e.g. `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verbs: Vec<String>,
    /// API groups of the resources (`""` is the core group).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    /// Resource plurals, optionally with a subresource (`pods/log`); `*/scale` matches
    /// that subresource of any resource.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Object names the rule is limited to; empty means all names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    /// Non-resource URL paths (`/healthz`, `/metrics`, `/logs/*` prefix match).
    #[serde(
        default,
        rename = "nonResourceURLs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub non_resource_urls: Vec<String>,
}

fn contains_or_star(list: &[String], value: &str) -> bool {
    list.iter().any(|v| v == "*" || v == value)
}

impl PolicyRule {
    /// Whether this rule allows `verb` on `resource` (optionally `resource/subresource`)
    /// in API `group`, for the object `name` (`None` for collection verbs like `list` and
    /// `create`, which a rule with `resourceNames` never allows).
    pub fn matches(&self, verb: &str, group: &str, resource: &str, name: Option<&str>) -> bool {
        if !contains_or_star(&self.verbs, verb) || !contains_or_star(&self.api_groups, group) {
            return false;
        }
        let resource_ok = self.resources.iter().any(|r| {
            if r == "*" || r == resource {
                return true;
            }
            // `*/sub` matches the subresource `sub` of any resource.
            match (r.strip_prefix("*/"), resource.split_once('/')) {
                (Some(sub), Some((_, wanted))) => sub == wanted,
                _ => false,
            }
        });
        if !resource_ok {
            return false;
        }
        if self.resource_names.is_empty() {
            return true;
        }
        name.is_some_and(|n| self.resource_names.iter().any(|r| r == n))
    }

    /// Whether this rule allows `verb` on the non-resource URL `path` (exact match, `*`,
    /// or a pattern ending in `*` matching as a prefix).
    pub fn matches_non_resource(&self, verb: &str, path: &str) -> bool {
        contains_or_star(&self.verbs, verb)
            && self.non_resource_urls.iter().any(|u| {
                u == "*" || u == path || u.strip_suffix('*').is_some_and(|p| path.starts_with(p))
            })
    }
}

/// Checks a list of rules; `cluster` says whether non-resource URLs are allowed.
fn check_rules(cx: &mut Checker, rules: &[PolicyRule], cluster: bool) {
    for (i, rule) in rules.iter().enumerate() {
        cx.at_index("rules", i, |cx| {
            if rule.verbs.is_empty() {
                cx.error_at(
                    "verbs",
                    "a rule needs at least one verb",
                    "list verbs such as get, list, watch, create, update, patch, delete or *",
                );
            }
            if rule.non_resource_urls.is_empty() {
                if rule.api_groups.is_empty() {
                    cx.error_at(
                        "apiGroups",
                        "a resource rule needs at least one API group",
                        "list the API groups, e.g. [\"kagent.dev\"]; use \"\" for the core group",
                    );
                }
                if rule.resources.is_empty() {
                    cx.error_at(
                        "resources",
                        "a resource rule needs at least one resource",
                        "list resource plurals, e.g. [\"agents\", \"mcpservers\"], or *",
                    );
                }
            } else {
                if !cluster {
                    cx.error_at(
                        "nonResourceURLs",
                        "a Role cannot grant non-resource URLs",
                        "move this rule to a ClusterRole",
                    );
                }
                if !rule.api_groups.is_empty()
                    || !rule.resources.is_empty()
                    || !rule.resource_names.is_empty()
                {
                    cx.error_at(
                        "nonResourceURLs",
                        "a rule cannot cover both resources and non-resource URLs",
                        "split it into one rule for resources and one for nonResourceURLs",
                    );
                }
                for (j, url) in rule.non_resource_urls.iter().enumerate() {
                    let star = url.find('*');
                    if !url.starts_with('/') && url != "*"
                        || star.is_some_and(|p| p + 1 != url.len())
                    {
                        cx.at_index("nonResourceURLs", j, |cx| {
                            cx.error(
                                format!("invalid non-resource URL {url:?}"),
                                "use a path starting with / and at most one * at the end",
                            )
                        });
                    }
                }
            }
        });
    }
}

/// A namespaced set of permissions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Role {
    /// `rbac.authorization.k8s.io/v1`.
    pub api_version: String,
    /// `Role`.
    pub kind: String,
    /// Object metadata.
    pub metadata: ObjectMeta,
    /// The permissions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<PolicyRule>,
}

impl Check for Role {
    fn check(&self, cx: &mut Checker) {
        check_rules(cx, &self.rules, false);
    }
}

crate::impl_kind!(Role, group "rbac.authorization.k8s.io", versions ["v1"], kind "Role", plural "roles", short [], namespaced true);

/// A cluster-wide set of permissions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterRole {
    /// `rbac.authorization.k8s.io/v1`.
    pub api_version: String,
    /// `ClusterRole`.
    pub kind: String,
    /// Object metadata.
    pub metadata: ObjectMeta,
    /// The permissions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<PolicyRule>,
    /// When set, the rules are the union of the rules of the ClusterRoles these selectors
    /// match (and `rules` is filled in by the aggregator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation_rule: Option<AggregationRule>,
}

/// `ClusterRole.aggregationRule`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AggregationRule {
    /// Label selectors over ClusterRoles; their rules are aggregated.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cluster_role_selectors: Vec<LabelSelector>,
}

impl Check for ClusterRole {
    fn check(&self, cx: &mut Checker) {
        check_rules(cx, &self.rules, true);
        if let Some(agg) = &self.aggregation_rule {
            cx.at("aggregationRule", |cx| {
                if agg.cluster_role_selectors.is_empty() {
                    cx.error_at(
                        "clusterRoleSelectors",
                        "an aggregation rule needs at least one selector",
                        "add a clusterRoleSelectors entry with matchLabels",
                    );
                }
                cx.list("clusterRoleSelectors", &agg.cluster_role_selectors);
            });
        }
    }
}

crate::impl_kind!(ClusterRole, group "rbac.authorization.k8s.io", versions ["v1"], kind "ClusterRole", plural "clusterroles", short [], namespaced false);

/// Who a binding grants to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RbacSubject {
    /// `User`, `Group` or `ServiceAccount`.
    pub kind: RbacSubjectKind,
    /// User name, group name or service account name.
    pub name: String,
    /// Namespace of a ServiceAccount; in a RoleBinding it defaults to the binding's
    /// namespace, in a ClusterRoleBinding it is required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `rbac.authorization.k8s.io` for User and Group, `""` for ServiceAccount (defaulted
    /// that way when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
}

/// Kind of an [`RbacSubject`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RbacSubjectKind {
    /// A user name (OIDC users, `system:serviceaccount:...` names).
    User,
    /// A group name (OIDC groups, `system:serviceaccounts` ...).
    Group,
    /// A ServiceAccount (or an agent's identity).
    ServiceAccount,
}

impl RbacSubject {
    /// The name this subject matches: the user or group name, or
    /// `system:serviceaccount:<ns>:<name>` for a ServiceAccount (namespace taken from
    /// `binding_namespace` when unset, `default` as a last resort).
    pub fn principal_name(&self, binding_namespace: Option<&str>) -> String {
        match self.kind {
            RbacSubjectKind::User | RbacSubjectKind::Group => self.name.clone(),
            RbacSubjectKind::ServiceAccount => {
                let ns = self
                    .namespace
                    .as_deref()
                    .or(binding_namespace)
                    .unwrap_or("default");
                service_account_principal(ns, &self.name)
            }
        }
    }
}

/// The role a binding grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleRef {
    /// Must be `rbac.authorization.k8s.io`.
    pub api_group: String,
    /// `Role` (RoleBinding only) or `ClusterRole`.
    pub kind: RoleRefKind,
    /// Name of the role.
    pub name: String,
}

/// Kind of a [`RoleRef`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RoleRefKind {
    /// A Role in the binding's namespace.
    Role,
    /// A ClusterRole.
    ClusterRole,
}

fn check_subjects(cx: &mut Checker, subjects: &[RbacSubject], cluster: bool) {
    for (i, s) in subjects.iter().enumerate() {
        cx.at_index("subjects", i, |cx| {
            if s.name.is_empty() {
                cx.error_at(
                    "name",
                    "name is required",
                    "name the user, group or service account",
                );
            }
            match s.kind {
                RbacSubjectKind::User | RbacSubjectKind::Group => {
                    if let Some(g) = s.api_group.as_deref()
                        && g != RBAC_GROUP
                    {
                        cx.error_at(
                            "apiGroup",
                            format!("apiGroup {g:?} is not valid for a {:?} subject", s.kind),
                            format!("use apiGroup: {RBAC_GROUP}, or leave it out"),
                        );
                    }
                    if s.namespace.as_deref().is_some_and(|n| !n.is_empty()) {
                        cx.warning_at(
                            "namespace",
                            format!("a {:?} subject has no namespace; it is ignored", s.kind),
                            "remove namespace",
                        );
                    }
                }
                RbacSubjectKind::ServiceAccount => {
                    if s.api_group.as_deref().is_some_and(|g| !g.is_empty()) {
                        cx.error_at(
                            "apiGroup",
                            "a ServiceAccount subject has the core API group",
                            "use apiGroup: \"\", or leave it out",
                        );
                    }
                    if cluster && s.namespace.as_deref().is_none_or(str::is_empty) {
                        cx.error_at(
                            "namespace",
                            "a ServiceAccount subject of a ClusterRoleBinding needs a namespace",
                            "set namespace to the service account's namespace",
                        );
                    }
                }
            }
        });
    }
}

fn check_role_ref_group(cx: &mut Checker, role_ref: &RoleRef) {
    if role_ref.api_group != RBAC_GROUP {
        cx.error_at(
            "apiGroup",
            format!(
                "roleRef.apiGroup must be {RBAC_GROUP}, found {:?}",
                role_ref.api_group
            ),
            format!("set apiGroup: {RBAC_GROUP}"),
        );
    }
    if role_ref.name.is_empty() {
        cx.error_at("name", "name is required", "name the role to grant");
    }
}

/// Grants a Role or ClusterRole to subjects within one namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleBinding {
    /// `rbac.authorization.k8s.io/v1`.
    pub api_version: String,
    /// `RoleBinding`.
    pub kind: String,
    /// Object metadata.
    pub metadata: ObjectMeta,
    /// Who is granted the role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<RbacSubject>,
    /// The granted role.
    pub role_ref: RoleRef,
}

impl RoleBinding {
    /// The principal names of all subjects (see [`RbacSubject::principal_name`]).
    pub fn principal_names(&self) -> Vec<String> {
        let ns = self.metadata.namespace.as_deref();
        self.subjects.iter().map(|s| s.principal_name(ns)).collect()
    }
}

impl Check for RoleBinding {
    fn check(&self, cx: &mut Checker) {
        check_subjects(cx, &self.subjects, false);
        cx.at("roleRef", |cx| {
            check_role_ref_group(cx, &self.role_ref);
            match self.role_ref.kind {
                RoleRefKind::Role => cx.reference("name", "Role", None, &self.role_ref.name, false),
                RoleRefKind::ClusterRole => {
                    cx.reference("name", "ClusterRole", None, &self.role_ref.name, true)
                }
            }
        });
    }
}

crate::impl_kind!(RoleBinding, group "rbac.authorization.k8s.io", versions ["v1"], kind "RoleBinding", plural "rolebindings", short [], namespaced true);

/// Grants a ClusterRole to subjects cluster-wide.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClusterRoleBinding {
    /// `rbac.authorization.k8s.io/v1`.
    pub api_version: String,
    /// `ClusterRoleBinding`.
    pub kind: String,
    /// Object metadata.
    pub metadata: ObjectMeta,
    /// Who is granted the role.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<RbacSubject>,
    /// The granted ClusterRole.
    pub role_ref: RoleRef,
}

impl ClusterRoleBinding {
    /// The principal names of all subjects (see [`RbacSubject::principal_name`]).
    pub fn principal_names(&self) -> Vec<String> {
        self.subjects
            .iter()
            .map(|s| s.principal_name(None))
            .collect()
    }
}

impl Check for ClusterRoleBinding {
    fn check(&self, cx: &mut Checker) {
        check_subjects(cx, &self.subjects, true);
        cx.at("roleRef", |cx| {
            check_role_ref_group(cx, &self.role_ref);
            match self.role_ref.kind {
                RoleRefKind::ClusterRole => {
                    cx.reference("name", "ClusterRole", None, &self.role_ref.name, true)
                }
                RoleRefKind::Role => cx.error_at(
                    "kind",
                    "a ClusterRoleBinding can only grant a ClusterRole",
                    "use kind: ClusterRole, or a RoleBinding to grant a Role",
                ),
            }
        });
    }
}

crate::impl_kind!(ClusterRoleBinding, group "rbac.authorization.k8s.io", versions ["v1"], kind "ClusterRoleBinding", plural "clusterrolebindings", short [], namespaced false);
