//! Who may use which MCP tools, prompts and resources
//! (`backend.mcp.authorization`): CEL rules compiled once, evaluated per item
//! with the caller's claims (`jwt`) and the item (`mcp`).
//!
//! Semantics (agentgateway's): each `matchExpressions` entry is its own rule
//! with the policy's action, rules of every attached policy pooled. No rules:
//! allowed. Any Deny rule true: denied. Any Require rule not true: denied. Any
//! Allow rule true: allowed. Otherwise denied if there is an Allow rule. A rule
//! that fails to evaluate (a missing claim, a wrong type) counts as false, so
//! Allow and Require fail closed and Deny fails open.

use std::sync::Arc;

use palisade_api::kinds::agentgateway::shared::{Authorization, AuthorizationAction};
use palisade_cel::{Program, Vars};
use palisade_mcp::federation::split_name;
use palisade_mcp::server::ServerSpec;
use serde_json::{Value, json};

use crate::access::AccessRules;
use crate::audit::{AuditEvent, AuditSink};
use crate::guard::Guards;
use crate::jwt::Identity;

/// Variables an MCP authorization rule may read.
pub const VARIABLES: [&str; 5] = ["jwt", "mcp", "source", "request", "agent"];

/// One rule.
struct Rule {
    action: AuthorizationAction,
    program: Program,
    /// Scopes the expression tests (`jwt.scope.contains("files:read")`).
    scopes: Vec<String>,
}

/// The pooled MCP authorization rules of a route.
#[derive(Default)]
pub struct McpAuthz {
    rules: Vec<Rule>,
}

impl std::fmt::Debug for McpAuthz {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpAuthz")
            .field("rules", &self.rules.len())
            .finish()
    }
}

/// An MCP item a caller wants to see or use.
#[derive(Clone, Copy, Debug)]
pub enum Item<'a> {
    /// A tool, by (possibly prefixed) name.
    Tool(&'a str),
    /// A prompt, by (possibly prefixed) name.
    Prompt(&'a str),
    /// A resource, by (possibly prefixed) URI.
    Resource(&'a str),
}

impl McpAuthz {
    /// Compiles a policy's authorization; an expression that does not compile
    /// or reads a variable MCP authorization cannot offer is an error.
    pub fn compile(authorization: &Authorization) -> Result<McpAuthz, String> {
        let mut rules = Vec::new();
        for (i, source) in authorization.expressions().iter().enumerate() {
            let program = Program::compile(source.as_str())
                .map_err(|e| format!("policy.matchExpressions[{i}]: {e}"))?;
            if let Some(unknown) = program.variables().names().find(|n| !VARIABLES.contains(n)) {
                return Err(format!(
                    "policy.matchExpressions[{i}] reads `{unknown}`, which MCP authorization does not provide (it provides {})",
                    VARIABLES.join(", ")
                ));
            }
            rules.push(Rule {
                action: authorization.action(),
                program,
                scopes: scopes_tested(source),
            });
        }
        Ok(McpAuthz { rules })
    }

    /// The scopes the rules test, for the `scopes_supported` of the protected
    /// resource metadata and the scope hint of a 401.
    pub fn scopes(&self) -> Vec<String> {
        let mut scopes: Vec<String> = self.rules.iter().flat_map(|r| r.scopes.clone()).collect();
        scopes.sort();
        scopes.dedup();
        scopes
    }

    /// Whether `caller` may see or use `item` of `spec` in a request of `method`.
    pub fn allows(
        &self,
        spec: &ServerSpec,
        caller: Option<&Identity>,
        context: &RequestContext,
        method: &str,
        item: Item<'_>,
    ) -> bool {
        if self.rules.is_empty() {
            return true;
        }
        let claims = caller.map_or(Value::Null, |c| Value::Object(c.claims.as_map().clone()));
        let agent = caller.and_then(|c| c.claims.get("palisade.dev")?.get("agent").cloned());
        let mcp = mcp_value(spec, method, item);
        let mut vars = Vars::new();
        if caller.is_some() {
            vars.bind_json("jwt", &claims);
        }
        if let Some(agent) = &agent {
            vars.bind_json("agent", agent);
        }
        vars.bind_json("mcp", &mcp);
        vars.bind_json("request", &context.request);
        vars.bind_json("source", &context.source);
        let holds = |rule: &Rule| rule.program.eval_bool(&vars).unwrap_or(false);
        let mut has_allow = false;
        let mut allowed = false;
        for rule in &self.rules {
            match rule.action {
                AuthorizationAction::Deny if holds(rule) => return false,
                AuthorizationAction::Require if !holds(rule) => return false,
                AuthorizationAction::Allow => {
                    has_allow = true;
                    allowed = allowed || holds(rule);
                }
                _ => {}
            }
        }
        allowed || !has_allow
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

/// The `mcp` variable: the method and the item, by bare name and target.
fn mcp_value(spec: &ServerSpec, method: &str, item: Item<'_>) -> Value {
    let targets = spec.target_names();
    let split = |name: &str| -> (String, String) {
        if spec.prefixes()
            && let Some((index, bare)) = split_name(&targets, name)
        {
            return (bare.to_string(), targets[index].clone());
        }
        let target = targets.first().cloned().unwrap_or_default();
        (name.to_string(), target)
    };
    match item {
        Item::Tool(name) => {
            let (name, target) = split(name);
            json!({"method": method, "tool": {"name": name, "target": target}})
        }
        Item::Prompt(name) => {
            let (name, target) = split(name);
            json!({"method": method, "prompt": {"name": name, "target": target}})
        }
        Item::Resource(uri) => {
            let target = targets.first().cloned().unwrap_or_default();
            let (uri, target) = if spec.prefixes() {
                palisade_mcp::federation::split_uri(&targets, uri)
                    .map(|(i, u)| (u.to_string(), targets[i].clone()))
                    .unwrap_or((uri.to_string(), target))
            } else {
                (uri.to_string(), target)
            };
            json!({"method": method, "resource": {"uri": uri, "target": target}})
        }
    }
}

/// What CEL rules may read of the HTTP request: `request` (method, path,
/// headers without credentials) and `source` (address, identity).
#[derive(Clone, Debug, Default)]
pub struct RequestContext {
    /// `{method, path, headers}`.
    pub request: Value,
    /// `{address, identity}`.
    pub source: Value,
}

impl RequestContext {
    /// The context of a request from `address`, by `identity` if known.
    pub fn new(
        method: &http::Method,
        path: &str,
        headers: &http::HeaderMap,
        address: std::net::IpAddr,
        identity: Option<&str>,
    ) -> RequestContext {
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
        RequestContext {
            request: json!({"method": method.as_str(), "path": path, "headers": headers}),
            source: json!({"address": address.to_string(), "identity": identity}),
        }
    }
}

/// What a route's policies ask of MCP traffic, for one caller.
#[derive(Clone, Default)]
pub struct McpPolicies {
    /// Prompt guards on tool arguments and results.
    pub guards: Option<Arc<Guards>>,
    /// Authorization rules on tools, prompts and resources.
    pub authz: Option<Arc<McpAuthz>>,
    /// The authenticated caller, if any.
    pub caller: Option<Arc<Identity>>,
    /// AccessPolicies of the server (built-in routes).
    pub access: Option<Arc<AccessRules>>,
    /// Where refusals are recorded, with the route's label.
    pub audit: Option<(Arc<dyn AuditSink>, Arc<str>)>,
    /// The request, for CEL rules.
    pub context: Arc<RequestContext>,
}

impl McpPolicies {
    /// The principal sessions opened by this caller belong to.
    pub fn owner(&self) -> Option<String> {
        self.caller.as_ref().map(|c| c.principal())
    }

    /// Whether the caller may see or use `item`; `Err` says which policy refuses.
    pub fn decide(&self, spec: &ServerSpec, method: &str, item: Item<'_>) -> Result<(), String> {
        if let (Some(access), Item::Tool(name)) = (&self.access, item) {
            let bare = match spec.prefixes() {
                true => split_name(&spec.target_names(), name).map_or(name, |(_, n)| n),
                false => name,
            };
            access.check_tool(self.caller.as_deref(), bare)?;
        }
        match &self.authz {
            Some(a) if !a.allows(spec, self.caller.as_deref(), &self.context, method, item) => {
                Err("refused by the route's MCP authorization rules".into())
            }
            _ => Ok(()),
        }
    }

    /// Whether the caller may see or use `item`.
    pub fn allows(&self, spec: &ServerSpec, method: &str, item: Item<'_>) -> bool {
        self.decide(spec, method, item).is_ok()
    }

    /// Records a refused request in the audit log.
    pub fn record_refusal(&self, method: &str, item: Item<'_>, reason: String) {
        let Some((sink, route)) = &self.audit else {
            return;
        };
        let principal: Arc<str> = self
            .caller
            .as_ref()
            .map_or_else(|| Arc::from("anonymous"), |c| Arc::from(c.subject.as_str()));
        let (kind, name) = match item {
            Item::Tool(n) => ("tool", n),
            Item::Prompt(n) => ("prompt", n),
            Item::Resource(n) => ("resource", n),
        };
        sink.record(AuditEvent {
            principal,
            verb: "mcp",
            route: route.clone(),
            allowed: false,
            reason: Some(reason),
            details: json!({"method": method, kind: name}),
        });
    }

    /// Removes from a list result (`tools`, `prompts`, `resources`) the items
    /// the caller may not use.
    pub fn filter_list(&self, spec: &ServerSpec, method: &str, result: &mut Value) {
        if self.authz.is_none() && self.access.is_none() {
            return;
        }
        let (member, key) = match method {
            "tools/list" => ("tools", "name"),
            "prompts/list" => ("prompts", "name"),
            "resources/list" => ("resources", "uri"),
            _ => return,
        };
        let Some(items) = result.get_mut(member).and_then(Value::as_array_mut) else {
            return;
        };
        items.retain(|entry| {
            let Some(id) = entry.get(key).and_then(Value::as_str) else {
                return false;
            };
            let item = match member {
                "tools" => Item::Tool(id),
                "prompts" => Item::Prompt(id),
                _ => Item::Resource(id),
            };
            self.allows(spec, method, item)
        });
    }
}
