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

use crate::jwt::Identity;
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

/// What of the request the rules read, so that only that is converted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// `request` (method and path).
    pub request: bool,
    /// `request.headers` (or `request` as a whole).
    pub headers: bool,
    /// `source`.
    pub source: bool,
}

impl Needs {
    fn of(program: &Program) -> Needs {
        let mut needs = Needs::default();
        for path in program.variables().paths() {
            match path.segments() {
                [root] if root == "request" => {
                    needs.request = true;
                    needs.headers = true;
                }
                [root, field, ..] if root == "request" => {
                    needs.request = true;
                    needs.headers |= field == "headers";
                }
                [root, ..] if root == "source" => needs.source = true,
                _ => {}
            }
        }
        needs
    }

    /// What either needs.
    pub fn union(self, other: Needs) -> Needs {
        Needs {
            request: self.request || other.request,
            headers: self.headers || other.headers,
            source: self.source || other.source,
        }
    }
}

/// The pooled authorization rules of a route.
#[derive(Default, Clone)]
pub struct Rules {
    rules: Vec<Arc<Rule>>,
    needs: Needs,
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
        let mut needs = Needs::default();
        for (index, source) in authorization.expressions().iter().enumerate() {
            let program = Program::compile(source.as_str())
                .map_err(|e| format!("policy.matchExpressions[{index}]: {e}"))?;
            if let Some(unknown) = program.variables().names().find(|n| !variables.contains(n)) {
                return Err(format!(
                    "policy.matchExpressions[{index}] reads `{unknown}`, which is not available here (available: {})",
                    variables.join(", ")
                ));
            }
            needs = needs.union(Needs::of(&program));
            rules.push(Arc::new(Rule {
                policy: policy.clone(),
                index,
                action: authorization.action(),
                program,
                scopes: scopes_tested(source.as_str()),
            }));
        }
        Ok(Rules { rules, needs })
    }

    /// These rules pooled with `other`'s.
    pub fn pooled(&self, other: &Rules) -> Rules {
        let mut rules = self.rules.clone();
        rules.extend(other.rules.iter().cloned());
        Rules {
            rules,
            needs: self.needs.union(other.needs),
        }
    }

    /// What of the request the rules read.
    pub fn needs(&self) -> Needs {
        self.needs
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

/// What rules may read of a request: `jwt` and `agent` from the caller
/// (converted once per token, see [`Identity::cel`]), and, when a rule reads
/// them, `request` (method, path, and headers without credentials) and
/// `source` (address, identity), converted once per request.
pub struct RequestVars {
    caller: Option<Arc<Identity>>,
    request: Option<CelValue>,
    source: Option<CelValue>,
}

impl std::fmt::Debug for RequestVars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestVars").finish_non_exhaustive()
    }
}

impl RequestVars {
    /// The variables `needs` asks for, of a request from `address` by
    /// `caller` (if known).
    pub fn new(
        needs: Needs,
        method: &http::Method,
        path: &str,
        headers: &http::HeaderMap,
        address: std::net::IpAddr,
        caller: Option<&Arc<Identity>>,
    ) -> RequestVars {
        let request = needs.request.then(|| {
            let mut request = serde_json::json!({"method": method.as_str(), "path": path});
            if needs.headers {
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
                request["headers"] = Value::Object(headers);
            }
            CelValue::from_json(&request)
        });
        let source = needs.source.then(|| {
            CelValue::from_json(&serde_json::json!({
                "address": address.to_string(),
                "identity": caller.map(|c| c.subject.as_str()),
            }))
        });
        RequestVars {
            caller: caller.cloned(),
            request,
            source,
        }
    }

    /// The bound variables; `jwt` and `agent` only when known, so that a rule
    /// reading them without a caller fails to evaluate (counts as false).
    pub fn bind(&self) -> Vars<'_> {
        let mut vars = Vars::new();
        if let Some(caller) = &self.caller {
            let (jwt, agent) = caller.cel();
            vars.bind("jwt", jwt);
            if let Some(agent) = agent {
                vars.bind("agent", agent);
            }
        }
        if let Some(request) = &self.request {
            vars.bind("request", request);
        }
        if let Some(source) = &self.source {
            vars.bind("source", source);
        }
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
    fn only_what_rules_read_is_converted() {
        let jwt_only = rules("ns/a", "Allow", &["jwt.sub == 'x'"]);
        assert_eq!(jwt_only.needs(), Needs::default());
        let method = rules("ns/b", "Allow", &["request.method == 'GET'"]);
        assert_eq!(
            method.needs(),
            Needs {
                request: true,
                headers: false,
                source: false
            }
        );
        let headers = rules("ns/c", "Deny", &["request.headers['x-block'] == 'yes'"]);
        let pooled = method.pooled(&headers).pooled(&jwt_only);
        assert!(pooled.needs().request && pooled.needs().headers && !pooled.needs().source);
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
