//! The authorizer: bindings resolved to rules once per snapshot, then
//! decisions, escalation checks and kubectl-shaped refusals.

use std::collections::HashMap;
use std::sync::Arc;

use palisade_api::kinds::rbac::{
    ClusterRole, ClusterRoleBinding, PolicyRule, RbacSubject, RbacSubjectKind, Role, RoleBinding,
    RoleRefKind,
};
use palisade_api::snapshot::Snapshot;

use crate::builtin;
use crate::user::User;

/// What a request wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Action<'a> {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`,
    /// `impersonate`, ...
    pub verb: &'a str,
    /// API group (`""` for the core group).
    pub group: &'a str,
    /// Resource plural, e.g. `mcpservers`.
    pub resource: &'a str,
    /// Subresource, e.g. `status`.
    pub subresource: Option<&'a str>,
    /// Namespace; `None` for cluster-scoped resources and all-namespace lists.
    pub namespace: Option<&'a str>,
    /// Object name; `None` for `list`, `watch`, `create` and collections.
    pub name: Option<&'a str>,
}

/// The answer to "may this user do this?".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Allowed, by the named binding (`ClusterRoleBinding/x`, `RoleBinding/ns/x`
    /// or a built-in role).
    Allowed {
        /// The binding that grants it.
        by: String,
    },
    /// No rule allows it.
    Denied,
}

impl Decision {
    /// Whether the action is allowed.
    pub fn allowed(&self) -> bool {
        matches!(self, Decision::Allowed { .. })
    }
}

/// One binding, resolved: who, where, which rules.
#[derive(Debug)]
struct Grant {
    subjects: Vec<Subject>,
    /// `None`: cluster-wide (ClusterRoleBinding or built-in).
    namespace: Option<String>,
    rules: Arc<Vec<PolicyRule>>,
    by: String,
}

#[derive(Debug)]
enum Subject {
    User(String),
    Group(String),
}

impl Subject {
    fn of(subject: &RbacSubject, binding_namespace: Option<&str>) -> Subject {
        match subject.kind {
            RbacSubjectKind::Group => Subject::Group(subject.name.clone()),
            RbacSubjectKind::User | RbacSubjectKind::ServiceAccount => {
                Subject::User(subject.principal_name(binding_namespace))
            }
        }
    }

    fn matches(&self, user: &User) -> bool {
        match self {
            Subject::User(name) => *name == user.name,
            Subject::Group(group) => user.in_group(group),
        }
    }
}

/// Decides requests from a snapshot's RBAC objects and the built-in roles.
#[derive(Debug, Default)]
pub struct Authorizer {
    grants: Vec<Grant>,
    cluster_roles: HashMap<String, Arc<Vec<PolicyRule>>>,
    roles: HashMap<(String, String), Arc<Vec<PolicyRule>>>,
}

impl Authorizer {
    /// Resolves every binding of `snapshot`. A binding whose role does not
    /// exist grants nothing (as in Kubernetes).
    pub fn new(snapshot: &Snapshot) -> Authorizer {
        let mut grants = Vec::new();
        for role in builtin::ROLES {
            grants.push(Grant {
                subjects: vec![Subject::Group(role.to_string())],
                namespace: None,
                rules: Arc::new(builtin::rules(role).unwrap_or_default()),
                by: format!("built-in role {role}"),
            });
        }
        let cluster_roles = cluster_roles(snapshot);
        let mut roles: HashMap<(String, String), Arc<Vec<PolicyRule>>> = HashMap::new();
        for (_, role) in snapshot.of_kind::<Role>() {
            let ns = role.metadata.namespace.clone().unwrap_or_default();
            roles.insert(
                (ns, role.metadata.name.clone()),
                Arc::new(role.rules.clone()),
            );
        }
        let cluster_role = |name: &str| {
            cluster_roles
                .get(name)
                .cloned()
                .or_else(|| builtin::rules(name).map(Arc::new))
        };
        for (_, binding) in snapshot.of_kind::<ClusterRoleBinding>() {
            if binding.role_ref.kind != RoleRefKind::ClusterRole {
                continue;
            }
            let Some(rules) = cluster_role(&binding.role_ref.name) else {
                continue;
            };
            grants.push(Grant {
                subjects: binding
                    .subjects
                    .iter()
                    .map(|s| Subject::of(s, None))
                    .collect(),
                namespace: None,
                rules,
                by: format!("ClusterRoleBinding/{}", binding.metadata.name),
            });
        }
        for (_, binding) in snapshot.of_kind::<RoleBinding>() {
            let ns = binding
                .metadata
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into());
            let rules = match binding.role_ref.kind {
                RoleRefKind::Role => roles
                    .get(&(ns.clone(), binding.role_ref.name.clone()))
                    .cloned(),
                RoleRefKind::ClusterRole => cluster_role(&binding.role_ref.name),
            };
            let Some(rules) = rules else {
                continue;
            };
            grants.push(Grant {
                subjects: binding
                    .subjects
                    .iter()
                    .map(|s| Subject::of(s, Some(&ns)))
                    .collect(),
                by: format!("RoleBinding/{ns}/{}", binding.metadata.name),
                namespace: Some(ns),
                rules,
            });
        }
        Authorizer {
            grants,
            cluster_roles,
            roles,
        }
    }

    /// The rules of the role a binding in `namespace` refers to (`kind` is
    /// `Role` or `ClusterRole`; built-in roles included), if it exists.
    pub fn role_rules(
        &self,
        kind: RoleRefKind,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Arc<Vec<PolicyRule>>> {
        match kind {
            RoleRefKind::ClusterRole => self
                .cluster_roles
                .get(name)
                .cloned()
                .or_else(|| builtin::rules(name).map(Arc::new)),
            RoleRefKind::Role => self
                .roles
                .get(&(namespace?.to_string(), name.to_string()))
                .cloned(),
        }
    }

    /// The grants of `user` that apply in `namespace` (`None`: cluster scope,
    /// where only cluster-wide grants apply).
    fn grants_for<'a>(
        &'a self,
        user: &'a User,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Grant> + 'a {
        self.grants.iter().filter(move |g| {
            g.namespace
                .as_deref()
                .is_none_or(|ns| Some(ns) == namespace)
                && g.subjects.iter().any(|s| s.matches(user))
        })
    }

    /// Whether `user` may perform `action`.
    pub fn decide(&self, user: &User, action: &Action<'_>) -> Decision {
        let resource = match action.subresource {
            Some(sub) => format!("{}/{sub}", action.resource),
            None => action.resource.to_string(),
        };
        self.grants_for(user, action.namespace)
            .find(|g| {
                g.rules
                    .iter()
                    .any(|r| r.matches(action.verb, action.group, &resource, action.name))
            })
            .map_or(Decision::Denied, |g| Decision::Allowed { by: g.by.clone() })
    }

    /// Whether `user` may perform `verb` on the non-resource URL `path`.
    pub fn decide_path(&self, user: &User, verb: &str, path: &str) -> Decision {
        self.grants_for(user, None)
            .find(|g| g.rules.iter().any(|r| r.matches_non_resource(verb, path)))
            .map_or(Decision::Denied, |g| Decision::Allowed { by: g.by.clone() })
    }

    /// Whether `user` already holds every permission of `rules` in
    /// `namespace` — required to create or change a role, or to bind one, so
    /// that nobody grants more than they have. On failure, names the first
    /// permission missing.
    pub fn covers(
        &self,
        user: &User,
        namespace: Option<&str>,
        rules: &[PolicyRule],
    ) -> Result<(), String> {
        for rule in rules {
            for verb in &rule.verbs {
                if !rule.non_resource_urls.is_empty() {
                    for url in &rule.non_resource_urls {
                        if !self.decide_path(user, verb, url).allowed() {
                            return Err(format!("{verb} on non-resource URL {url}"));
                        }
                    }
                    continue;
                }
                for group in &rule.api_groups {
                    for resource in &rule.resources {
                        let names: Vec<Option<&str>> = if rule.resource_names.is_empty() {
                            vec![None]
                        } else {
                            rule.resource_names
                                .iter()
                                .map(|n| Some(n.as_str()))
                                .collect()
                        };
                        for name in names {
                            let held = self.grants_for(user, namespace).any(|g| {
                                g.rules
                                    .iter()
                                    .any(|r| r.matches(verb, group, resource, name))
                            });
                            if !held {
                                let named = name.map(|n| format!(" named {n}")).unwrap_or_default();
                                return Err(format!(
                                    "{verb} on {resource}{named} in API group {group:?}"
                                ));
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// ClusterRoles by name, with aggregated roles' rules collected from the
/// ClusterRoles their selectors match.
fn cluster_roles(snapshot: &Snapshot) -> HashMap<String, Arc<Vec<PolicyRule>>> {
    let all: Vec<&ClusterRole> = snapshot.of_kind::<ClusterRole>().map(|(_, r)| r).collect();
    all.iter()
        .map(|role| {
            let mut rules = role.rules.clone();
            if let Some(aggregation) = &role.aggregation_rule {
                for other in &all {
                    if other.metadata.name != role.metadata.name
                        && aggregation
                            .cluster_role_selectors
                            .iter()
                            .any(|s| s.matches(&other.metadata.labels))
                    {
                        rules.extend(other.rules.iter().cloned());
                    }
                }
            }
            (role.metadata.name.clone(), Arc::new(rules))
        })
        .collect()
}

/// Kubernetes' refusal text, e.g. `mcpservers.kagent.dev is forbidden: User
/// "system:serviceaccount:kagent:test-reader" cannot create resource
/// "mcpservers" in API group "kagent.dev" in the namespace "kagent"`.
pub fn forbidden_message(user: &User, action: &Action<'_>) -> String {
    let qualified = if action.group.is_empty() {
        action.resource.to_string()
    } else {
        format!("{}.{}", action.resource, action.group)
    };
    let target = match action.name {
        Some(name) => format!("{qualified} \"{name}\""),
        None => qualified,
    };
    let resource = match action.subresource {
        Some(sub) => format!("{}/{sub}", action.resource),
        None => action.resource.to_string(),
    };
    let scope = match action.namespace {
        Some(ns) => format!("in the namespace \"{ns}\""),
        None => "at the cluster scope".to_string(),
    };
    format!(
        "{target} is forbidden: User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
        user.name, action.verb, action.group
    )
}
