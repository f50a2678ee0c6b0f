//! `AccessPolicy` (`policy.kagent-enterprise.solo.io`): which agents, service
//! accounts, users and user groups may use which MCP servers (and tools),
//! models (ModelConfig) and agents.
//!
//! A DENY policy whose subjects include the caller takes the tools it names
//! (all of them when it names none) away. When an ALLOW policy targets the
//! resource, a caller may use it (a tool of it) only if an ALLOW policy names
//! it as a subject and covers the tool; a resource no ALLOW policy targets is
//! open to authenticated callers. DENY overrides ALLOW.

use std::collections::HashMap;
use std::sync::Arc;

use palisade_api::diag::ResourceKey;
use palisade_api::kinds::access_policy::{AccessPolicy, PolicyAction, SubjectKind};
use palisade_api::kinds::core::service_account_principal;
use palisade_api::snapshot::Snapshot;
use serde_json::Value;

use crate::jwt::Identity;
use crate::policies::PolicyStatus;

/// Who a policy speaks of.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Subject {
    /// An agent or service account: `system:serviceaccount:<ns>:<name>`.
    Account(String),
    /// A person, by name, e-mail or subject claim.
    User(String),
    /// Callers whose claim `claim` is (or contains) `value`.
    Group { claim: String, value: String },
}

impl Subject {
    fn matches(&self, caller: &Identity) -> bool {
        let claim_str = |name: &str| caller.claims.get_str(name);
        match self {
            Subject::Account(principal) => caller.subject == *principal,
            Subject::User(name) => {
                caller.subject == *name
                    || caller
                        .subject
                        .rsplit_once(':')
                        .is_some_and(|(_, n)| n == name)
                    || claim_str("email") == Some(name.as_str())
                    || caller.claims.sub() == Some(name.as_str())
            }
            Subject::Group { claim, value } => match caller.claims.get(claim) {
                Some(Value::String(v)) => v == value,
                Some(Value::Array(items)) => items.iter().any(|i| i.as_str() == Some(value)),
                _ => false,
            },
        }
    }
}

/// One compiled policy.
#[derive(Debug, Clone)]
struct Rule {
    policy: String,
    allow: bool,
    subjects: Vec<Subject>,
    /// Tools covered; empty means every tool.
    tools: Vec<String>,
}

impl Rule {
    /// Whether the rule covers `tool` (`None`: the resource as a whole,
    /// which only a rule naming no tools covers).
    fn covers(&self, tool: Option<&str>) -> bool {
        self.tools.is_empty()
            || tool.is_some_and(|tool| self.tools.iter().any(|t| t == tool || t == "*"))
    }

    fn names(&self, caller: Option<&Identity>) -> bool {
        caller.is_some_and(|c| self.subjects.iter().any(|s| s.matches(c)))
    }
}

/// The access policies of one resource.
#[derive(Debug, Default)]
pub struct AccessRules {
    rules: Vec<Rule>,
}

/// Why a caller may not use a tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRefusal {
    /// The DENY policy that refused, if one did.
    pub policy: Option<String>,
    /// Why, in a sentence.
    pub reason: String,
}

impl AccessRules {
    /// Whether `caller` may use `tool` of an MCP server: `Ok` with the ALLOW
    /// policy that admits it (`None` when no ALLOW policy targets the
    /// server), or why not.
    pub fn check_tool(
        &self,
        caller: Option<&Identity>,
        tool: &str,
    ) -> Result<Option<String>, AccessRefusal> {
        self.check(caller, Some(tool))
    }

    /// Whether `caller` may use the resource (a model, an agent) as a whole.
    pub fn check_resource(
        &self,
        caller: Option<&Identity>,
    ) -> Result<Option<String>, AccessRefusal> {
        self.check(caller, None)
    }

    fn check(
        &self,
        caller: Option<&Identity>,
        tool: Option<&str>,
    ) -> Result<Option<String>, AccessRefusal> {
        // An anonymous caller cannot be told apart from a denied subject.
        if caller.is_none() && !self.rules.is_empty() {
            return Err(AccessRefusal {
                policy: None,
                reason: "AccessPolicies apply here and the caller is not authenticated".into(),
            });
        }
        if let Some(deny) = self
            .rules
            .iter()
            .find(|r| !r.allow && r.covers(tool) && r.names(caller))
        {
            return Err(AccessRefusal {
                policy: Some(deny.policy.clone()),
                reason: format!("denied by AccessPolicy {}", deny.policy),
            });
        }
        let allows: Vec<&Rule> = self.rules.iter().filter(|r| r.allow).collect();
        if allows.is_empty() {
            return Ok(None);
        }
        if let Some(allow) = allows.iter().find(|r| r.covers(tool) && r.names(caller)) {
            return Ok(Some(allow.policy.clone()));
        }
        Err(AccessRefusal {
            policy: None,
            reason: format!(
                "not allowed by the AccessPolicies of this resource ({})",
                allows
                    .iter()
                    .map(|r| r.policy.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }
}

/// The compiled AccessPolicies: rules by the resource they target, and each
/// policy's status.
#[derive(Debug, Default)]
pub struct AccessPolicies {
    /// Rules by `Kind/namespace/name` of the target.
    pub by_target: HashMap<ResourceKey, Arc<AccessRules>>,
    /// Whether each policy is applied, and why not.
    pub status: Vec<PolicyStatus>,
}

/// Compiles every AccessPolicy of the snapshot.
pub fn compile(snapshot: &Snapshot) -> AccessPolicies {
    let mut by_target: HashMap<ResourceKey, AccessRules> = HashMap::new();
    let mut status = Vec::new();
    for (loaded, policy) in snapshot.of_kind::<AccessPolicy>() {
        let spec = &policy.spec;
        let target = &spec.target_ref;
        let policy_ns = policy
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let subjects = spec
            .from
            .subjects
            .iter()
            .filter_map(|s| {
                let ns = s.namespace.clone().unwrap_or_else(|| policy_ns.clone());
                Some(match s.kind {
                    SubjectKind::Agent | SubjectKind::ServiceAccount => {
                        Subject::Account(service_account_principal(&ns, &s.name))
                    }
                    SubjectKind::User => Subject::User(s.name.clone()),
                    SubjectKind::UserGroup => {
                        let group = s.user_group.as_ref()?;
                        Subject::Group {
                            claim: group.claim_name.clone(),
                            value: group.claim_value.clone(),
                        }
                    }
                })
            })
            .collect();
        let key = ResourceKey {
            kind: target.kind.as_str().to_string(),
            namespace: Some(target.namespace.clone().unwrap_or(policy_ns)),
            name: target.name.clone(),
        };
        let name = loaded.key().to_string();
        status.push(match snapshot.get_key(&key) {
            None => PolicyStatus::not_applied(
                &name,
                format!("its target {key} does not exist; it applies once it does"),
            ),
            Some(_) => PolicyStatus::applied(&name, format!("applies to {key}")),
        });
        by_target.entry(key).or_default().rules.push(Rule {
            policy: name,
            allow: spec.action == PolicyAction::Allow,
            subjects,
            tools: target.tools.clone(),
        });
    }
    AccessPolicies {
        by_target: by_target
            .into_iter()
            .map(|(k, v)| (k, Arc::new(v)))
            .collect(),
        status,
    }
}

#[cfg(test)]
mod tests {
    use palisade_identity::Claims;
    use serde_json::json;

    use super::*;

    fn caller(subject: &str, claims: Value) -> Identity {
        Identity::new(
            "i".into(),
            subject.into(),
            Claims::new(claims.as_object().unwrap().clone()),
        )
    }

    fn rules(list: Vec<Rule>) -> AccessRules {
        AccessRules { rules: list }
    }

    fn agent(name: &str) -> Subject {
        Subject::Account(service_account_principal("policies", name))
    }

    #[test]
    fn whole_resource_checks_ignore_tool_rules_and_refuse_anonymous() {
        let r = rules(vec![
            Rule {
                policy: "allow-model".into(),
                allow: true,
                subjects: vec![agent("writer")],
                tools: vec![],
            },
            Rule {
                policy: "deny-tool".into(),
                allow: false,
                subjects: vec![agent("writer")],
                tools: vec!["delete".into()],
            },
        ]);
        let writer = caller("system:serviceaccount:policies:writer", json!({}));
        let other = caller("system:serviceaccount:policies:other", json!({}));
        assert_eq!(
            r.check_resource(Some(&writer)),
            Ok(Some("allow-model".into()))
        );
        assert!(r.check_resource(Some(&other)).is_err());
        assert!(r.check_resource(None).is_err());
        assert!(r.check_tool(Some(&writer), "delete").is_err());
        assert!(r.check_tool(Some(&writer), "list").is_ok());
    }

    #[test]
    fn deny_takes_named_tools_from_named_subjects_only() {
        let r = rules(vec![Rule {
            policy: "deny".into(),
            allow: false,
            subjects: vec![agent("test-tools-agent")],
            tools: vec!["search_repositories".into()],
        }]);
        let agent_caller = caller("system:serviceaccount:policies:test-tools-agent", json!({}));
        assert!(
            r.check_tool(Some(&agent_caller), "search_repositories")
                .is_err()
        );
        assert!(r.check_tool(Some(&agent_caller), "search_issues").is_ok());
        let other = caller("system:serviceaccount:policies:other", json!({}));
        assert!(r.check_tool(Some(&other), "search_repositories").is_ok());
    }

    #[test]
    fn allow_closes_the_server_to_everyone_else_and_deny_wins() {
        let r = rules(vec![
            Rule {
                policy: "allow".into(),
                allow: true,
                subjects: vec![Subject::Group {
                    claim: "groups".into(),
                    value: "devs".into(),
                }],
                tools: vec![],
            },
            Rule {
                policy: "deny".into(),
                allow: false,
                subjects: vec![Subject::User("eve@example.com".into())],
                tools: vec!["delete".into()],
            },
        ]);
        let dev = caller("corp:ann@example.com", json!({"groups": ["devs"]}));
        let eve = caller(
            "corp:eve@example.com",
            json!({"groups": ["devs"], "email": "eve@example.com"}),
        );
        let outsider = caller("corp:bob@example.com", json!({"groups": ["ops"]}));
        assert!(r.check_tool(Some(&dev), "delete").is_ok());
        assert!(r.check_tool(Some(&eve), "list").is_ok());
        assert!(r.check_tool(Some(&eve), "delete").is_err());
        assert!(r.check_tool(Some(&outsider), "list").is_err());
        assert!(r.check_tool(None, "list").is_err());
    }
}
