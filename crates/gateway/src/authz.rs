//! CEL authorization rules (`authorization: {action, policy.matchExpressions}`),
//! shared by `traffic.authorization` (HTTP requests) and
//! `backend.mcp.authorization` (MCP tools, prompts and resources).
//!
//! Semantics (agentgateway's): each `matchExpressions` entry is its own rule
//! with the policy's action, and the rules of every policy attached to a route
//! are pooled. No rules: allowed. Any Deny rule true: denied. Any Require rule
//! not true: denied. Any Allow rule true: allowed. Otherwise denied if there is
//! an Allow rule. A rule that fails to evaluate (a missing claim, a wrong type)
//! counts as false, so Allow and Require fail closed and Deny fails open.

use std::sync::Arc;

use palisade_api::kinds::agentgateway::shared::{Authorization, AuthorizationAction};
use palisade_cel::{CelValue, Program, Vars};
use serde_json::Value;

/// One rule: one `matchExpressions` entry of one policy.
struct Rule {
    /// `namespace/name` of the policy.
    policy: Arc<str>,
    /// Its index in `matchExpressions`.
    index: usize,
    action: AuthorizationAction,
    program: Program,
    /// Scopes the expression tests (`jwt.scope.contains("files:read")`).
    scopes: Vec<String>,
}

impl Rule {
    fn name(&self) -> String {
        format!("{} matchExpressions[{}]", self.policy, self.index)
    }
}

/// The pooled authorization rules of a route.
#[derive(Default, Clone)]
pub struct Rules {
    rules: Vec<Arc<Rule>>,
}

impl std::fmt::Debug for Rules {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rules")
            .field("rules", &self.rules.len())
            .finish()
    }
}

/// The outcome of evaluating the rules, with what decided it (for the audit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Whether the request may go on.
    pub allowed: bool,
    /// The rule that decided (`policy matchExpressions[i]`), if one did.
    pub rule: Option<String>,
    /// Why, in a sentence.
    pub reason: String,
}

impl Rules {
    /// Compiles a policy's authorization. `variables` are the names the rules
    /// may read at this point; an expression that does not compile or reads
    /// anything else is an error naming the expression.
    pub fn compile(
        policy: &str,
        authorization: &Authorization,
        variables: &[&str],
    ) -> Result<Rules, String> {
        let policy: Arc<str> = Arc::from(policy);
        let mut rules = Vec::new();
        for (index, source) in authorization.expressions().iter().enumerate() {
            let program = Program::compile(source.as_str())
                .map_err(|e| format!("policy.matchExpressions[{index}]: {e}"))?;
            if let Some(unknown) = program.variables().names().find(|n| !variables.contains(n)) {
                return Err(format!(
                    "policy.matchExpressions[{index}] reads `{unknown}`, which is not available here (available: {})",
                    variables.join(", ")
                ));
            }
            rules.push(Arc::new(Rule {
                policy: policy.clone(),
                index,
                action: authorization.action(),
                program,
                scopes: scopes_tested(source.as_str()),
            }));
        }
        Ok(Rules { rules })
    }

    /// These rules pooled with `other`'s.
    pub fn pooled(&self, other: &Rules) -> Rules {
        let mut rules = self.rules.clone();
        rules.extend(other.rules.iter().cloned());
        Rules { rules }
    }

    /// Whether there are no rules (everything is allowed).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The policies the rules come from, each once.
    pub fn policies(&self) -> Vec<Arc<str>> {
        let mut out: Vec<Arc<str>> = Vec::new();
        for rule in &self.rules {
            if !out.contains(&rule.policy) {
                out.push(rule.policy.clone());
            }
        }
        out
    }

    /// The scopes the rules test, for the `scopes_supported` of protected
    /// resource metadata and the scope hint of a 401.
    pub fn scopes(&self) -> Vec<String> {
        let mut scopes: Vec<String> = self.rules.iter().flat_map(|r| r.scopes.clone()).collect();
        scopes.sort();
        scopes.dedup();
        scopes
    }

    /// Evaluates the rules against `vars`.
    pub fn decide(&self, vars: &Vars<'_>) -> Verdict {
        if self.rules.is_empty() {
            return Verdict {
                allowed: true,
                rule: None,
                reason: "no authorization rules apply".into(),
            };
        }
        let holds = |rule: &Rule| rule.program.eval_bool(vars).unwrap_or(false);
        let mut first_allow: Option<&Rule> = None;
        let mut matched_allow: Option<&Rule> = None;
        for rule in &self.rules {
            match rule.action {
                AuthorizationAction::Deny if holds(rule) => {
                    return Verdict {
                        allowed: false,
                        rule: Some(rule.name()),
                        reason: format!("Deny rule {} matched", rule.name()),
                    };
                }
                AuthorizationAction::Require if !holds(rule) => {
                    return Verdict {
                        allowed: false,
                        rule: Some(rule.name()),
                        reason: format!("Require rule {} did not hold", rule.name()),
                    };
                }
                AuthorizationAction::Allow => {
                    first_allow.get_or_insert(rule);
                    if matched_allow.is_none() && holds(rule) {
                        matched_allow = Some(rule);
                    }
                }
                _ => {}
            }
        }
        match (matched_allow, first_allow) {
            (Some(rule), _) => Verdict {
                allowed: true,
                rule: Some(rule.name()),
                reason: format!("Allow rule {} matched", rule.name()),
            },
            (None, Some(_)) => Verdict {
                allowed: false,
                rule: None,
                reason: format!(
                    "no Allow rule of {} matched",
                    self.policies()
                        .iter()
                        .map(|p| p.as_ref())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            (None, None) => Verdict {
                allowed: true,
                rule: None,
                reason: "no Deny or Require rule refused".into(),
            },
        }
    }
}

/// Pools two optional rule sets (policies of a route, its backends and its
/// Gateway all apply).
pub fn pool(a: &Option<Arc<Rules>>, b: &Option<Arc<Rules>>) -> Option<Arc<Rules>> {
    match (a, b) {
        (Some(a), Some(b)) if !Arc::ptr_eq(a, b) => Some(Arc::new(a.pooled(b))),
        (Some(a), _) => Some(a.clone()),
        (None, b) => b.clone(),
    }
}

/// The literal scopes an expression tests with `scope.contains("...")`.
fn scopes_tested(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find("scope.contains(\"") {
        rest = &rest[at + "scope.contains(\"".len()..];
        if let Some(end) = rest.find('"') {
            out.push(rest[..end].to_string());
            rest = &rest[end..];
        }
    }
    out
}

/// What rules may read of a request, converted to CEL once per request:
/// `jwt` (the caller's claims), `agent` (when the caller is an agent),
/// `request` (method, path, headers without credentials) and `source`
/// (address, identity).
pub struct RequestVars {
    jwt: Option<CelValue>,
    agent: Option<CelValue>,
    request: CelValue,
    source: CelValue,
}

impl std::fmt::Debug for RequestVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestVars").finish_non_exhaustive()
    }
}

impl RequestVars {
    /// The variables of a request from `address` by `caller` (if known).
    pub fn new(
        method: &http::Method,
        path: &str,
        headers: &http::HeaderMap,
        address: std::net::IpAddr,
        caller: Option<&crate::jwt::Identity>,
    ) -> RequestVars {
        let headers: serde_json::Map<String, Value> = headers
            .iter()
            .filter(|(name, _)| {
                !matches!(
                    name.as_str(),
                    "authorization" | "cookie" | "proxy-authorization"
                )
            })
            .filter_map(|(name, value)| {
                Some((name.as_str().to_string(), Value::from(value.to_str().ok()?)))
            })
            .collect();
        let request =
            serde_json::json!({"method": method.as_str(), "path": path, "headers": headers});
        let source = serde_json::json!({
            "address": address.to_string(),
            "identity": caller.map(|c| c.subject.as_str()),
        });
        RequestVars {
            jwt: caller.map(|c| CelValue::from_json(&Value::Object(c.claims.as_map().clone()))),
            agent: caller
                .and_then(|c| c.claims.get("palisade.dev")?.get("agent"))
                .map(CelValue::from_json),
            request: CelValue::from_json(&request),
            source: CelValue::from_json(&source),
        }
    }

    /// The bound variables; `jwt` and `agent` only when known, so that a rule
    /// reading them without a caller fails to evaluate (counts as false).
    pub fn bind(&self) -> Vars<'_> {
        let mut vars = Vars::new();
        if let Some(jwt) = &self.jwt {
            vars.bind("jwt", jwt);
        }
        if let Some(agent) = &self.agent {
            vars.bind("agent", agent);
        }
        vars.bind("request", &self.request);
        vars.bind("source", &self.source);
        vars
    }
}

#[cfg(test)]
mod tests {
    use palisade_api::kinds::agentgateway::shared::Authorization;
    use serde_json::json;

    use super::*;

    fn rules(policy: &str, action: &str, expressions: &[&str]) -> Rules {
        let authorization: Authorization = serde_json::from_value(json!({
            "action": action,
            "policy": {"matchExpressions": expressions},
        }))
        .unwrap();
        Rules::compile(policy, &authorization, &["jwt", "request"]).unwrap()
    }

    fn claims(value: Value) -> CelValue {
        CelValue::from_json(&value)
    }

    #[test]
    fn allow_names_the_rule_that_matched_and_deny_overrides() {
        let allow = rules("ns/a", "Allow", &["jwt.sub == 'x'", "jwt.sub == 'y'"]);
        let jwt = claims(json!({"sub": "y"}));
        let mut vars = Vars::new();
        vars.bind("jwt", &jwt);
        let verdict = allow.decide(&vars);
        assert!(verdict.allowed);
        assert_eq!(verdict.rule.as_deref(), Some("ns/a matchExpressions[1]"));

        let deny = rules("ns/d", "Deny", &["jwt.sub == 'y'"]);
        let pooled = allow.pooled(&deny);
        let verdict = pooled.decide(&vars);
        assert!(!verdict.allowed);
        assert_eq!(verdict.rule.as_deref(), Some("ns/d matchExpressions[0]"));
    }

    #[test]
    fn evaluation_errors_count_as_false() {
        let allow = rules("ns/a", "Allow", &["jwt.missing.deep == 1"]);
        let verdict = allow.decide(&Vars::new());
        assert!(!verdict.allowed);
        assert!(verdict.reason.contains("ns/a"), "{}", verdict.reason);
        let deny = rules("ns/d", "Deny", &["jwt.missing == 1"]);
        assert!(deny.decide(&Vars::new()).allowed);
        let require = rules("ns/r", "Require", &["jwt.missing == 1"]);
        assert!(!require.decide(&Vars::new()).allowed);
    }

    #[test]
    fn unavailable_variables_are_refused_at_load() {
        let authorization: Authorization = serde_json::from_value(json!({
            "policy": {"matchExpressions": ["mcp.tool.name == 'echo'"]},
        }))
        .unwrap();
        let err = Rules::compile("ns/p", &authorization, &["jwt", "request"]).unwrap_err();
        assert!(err.contains("`mcp`"), "{err}");
    }

    #[test]
    fn scopes_tested_are_collected() {
        let r = rules(
            "ns/a",
            "Allow",
            &["jwt.scope.contains(\"files:read\") || jwt.scope.contains(\"admin\")"],
        );
        assert_eq!(r.scopes(), ["admin", "files:read"]);
    }
}
