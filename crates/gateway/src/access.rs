//! `AccessPolicy` (`policy.kagent-enterprise.solo.io`) on MCP servers: which
//! agents, service accounts, users and user groups may use which tools.
//!
//! A DENY policy whose subjects include the caller takes the tools it names
//! (all of them when it names none) away. When an ALLOW policy targets the
//! server, a caller may use a tool only if an ALLOW policy names it as a
//! subject and covers the tool; a server no ALLOW policy targets is open to
//! authenticated callers. DENY overrides ALLOW.

use std::collections::HashMap;
use std::sync::Arc;

use palisade_api::diag::ResourceKey;
use palisade_api::kinds::access_policy::{AccessPolicy, PolicyAction, SubjectKind, TargetKind};
use palisade_api::kinds::core::service_account_principal;
use palisade_api::snapshot::Snapshot;
use serde_json::Value;

use crate::jwt::Identity;

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
    fn covers(&self, tool: &str) -> bool {
        self.tools.is_empty() || self.tools.iter().any(|t| t == tool)
    }

    fn names(&self, caller: Option<&Identity>) -> bool {
        caller.is_some_and(|c| self.subjects.iter().any(|s| s.matches(c)))
    }
}

/// The access policies of one MCP server.
#[derive(Debug, Default)]
pub struct AccessRules {
    rules: Vec<Rule>,
}

impl AccessRules {
    /// Whether `caller` may use `tool`; `Err` names the policy that refuses.
    pub fn check_tool(&self, caller: Option<&Identity>, tool: &str) -> Result<(), String> {
        if let Some(deny) = self
            .rules
            .iter()
            .find(|r| !r.allow && r.covers(tool) && r.names(caller))
        {
            return Err(format!("denied by AccessPolicy {}", deny.policy));
        }
        let allows: Vec<&Rule> = self.rules.iter().filter(|r| r.allow).collect();
        if allows.is_empty() || allows.iter().any(|r| r.covers(tool) && r.names(caller)) {
            return Ok(());
        }
        Err(format!(
            "not allowed by the AccessPolicies of this server ({})",
            allows
                .iter()
                .map(|r| r.policy.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// The access rules of every MCP server some AccessPolicy targets, by
/// `Kind/namespace/name`.
pub fn compile(snapshot: &Snapshot) -> HashMap<ResourceKey, Arc<AccessRules>> {
    let mut by_server: HashMap<ResourceKey, AccessRules> = HashMap::new();
    for (loaded, policy) in snapshot.of_kind::<AccessPolicy>() {
        let spec = &policy.spec;
        let target = &spec.target_ref;
        if !matches!(
            target.kind,
            TargetKind::McpServer | TargetKind::RemoteMcpServer
        ) {
            continue;
        }
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
        by_server.entry(key).or_default().rules.push(Rule {
            policy: loaded.key().to_string(),
            allow: spec.action == PolicyAction::Allow,
            subjects,
            tools: target.tools.clone(),
        });
    }
    by_server
        .into_iter()
        .map(|(k, v)| (k, Arc::new(v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use palisade_identity::Claims;
    use serde_json::json;

    use super::*;

    fn caller(subject: &str, claims: Value) -> Identity {
        Identity {
            issuer: "i".into(),
            subject: subject.into(),
            claims: Claims::new(claims.as_object().unwrap().clone()),
        }
    }

    fn rules(list: Vec<Rule>) -> AccessRules {
        AccessRules { rules: list }
    }

    fn agent(name: &str) -> Subject {
        Subject::Account(service_account_principal("policies", name))
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
