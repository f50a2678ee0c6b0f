//! Who may use which MCP tools, prompts and resources: AccessPolicies of
//! the server and `backend.mcp.authorization` CEL rules ([`crate::authz`]),
//! evaluated per item with the request's variables (converted once per
//! request) and the item (`mcp`). Every decision on an item a caller asks
//! for is audited, allowed or not.

use std::sync::Arc;

use palisade_api::kinds::agentgateway::shared::Authorization;
use palisade_mcp::federation::split_name;
use palisade_mcp::server::ServerSpec;
use serde_json::{Value, json};

use crate::access::AccessRules;
use crate::audit::{AuditEvent, AuditSink};
use crate::authz::{RequestVars, Rules, Verdict};
use crate::guard::Guards;
use crate::jwt::Identity;

/// Variables an MCP authorization rule may read.
pub const VARIABLES: [&str; 5] = ["jwt", "mcp", "source", "request", "agent"];

/// Compiles a policy's `backend.mcp.authorization`.
pub fn compile(policy: &str, authorization: &Authorization) -> Result<Rules, String> {
    Rules::compile(policy, authorization, &VARIABLES)
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

impl Item<'_> {
    /// `tool`, `prompt` or `resource`, and the name or URI.
    fn parts(&self) -> (&'static str, &str) {
        match self {
            Item::Tool(n) => ("tool", n),
            Item::Prompt(n) => ("prompt", n),
            Item::Resource(n) => ("resource", n),
        }
    }
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

/// What a route's policies ask of MCP traffic, for one caller.
#[derive(Clone, Default)]
pub struct McpPolicies {
    /// Prompt guards on tool arguments and results.
    pub guards: Option<Arc<Guards>>,
    /// Authorization rules on tools, prompts and resources.
    pub authz: Option<Arc<Rules>>,
    /// The authenticated caller, if any.
    pub caller: Option<Arc<Identity>>,
    /// AccessPolicies of the server (built-in routes).
    pub access: Option<Arc<AccessRules>>,
    /// Where decisions are recorded, with the route's label.
    pub audit: Option<(Arc<dyn AuditSink>, Arc<str>)>,
    /// The request's variables for CEL rules (only when there are rules).
    pub vars: Option<Arc<RequestVars>>,
}

/// A decision on one item, and what made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the caller may see or use the item.
    pub allowed: bool,
    /// The policy (and rule) that decided, if one did.
    pub by: Option<String>,
    /// Why, in a sentence.
    pub reason: String,
}

impl McpPolicies {
    /// The principal sessions opened by this caller belong to.
    pub fn owner(&self) -> Option<String> {
        self.caller.as_ref().map(|c| c.principal())
    }

    /// Whether the caller may see or use `item`, and why.
    pub fn decide(&self, spec: &ServerSpec, method: &str, item: Item<'_>) -> Decision {
        let mut by_access = None;
        if let (Some(access), Item::Tool(name)) = (&self.access, item) {
            let bare = match spec.prefixes() {
                true => split_name(&spec.target_names(), name).map_or(name, |(_, n)| n),
                false => name,
            };
            match access.check_tool(self.caller.as_deref(), bare) {
                Err(refusal) => {
                    return Decision {
                        allowed: false,
                        by: refusal.policy,
                        reason: refusal.reason,
                    };
                }
                Ok(allowed_by) => by_access = allowed_by,
            }
        }
        if let (Some(rules), Some(vars)) = (&self.authz, &self.vars) {
            let mcp = palisade_cel::CelValue::from_json(&mcp_value(spec, method, item));
            let mut bound = vars.bind();
            bound.bind("mcp", &mcp);
            let Verdict {
                allowed,
                rule,
                reason,
            } = rules.decide(&bound);
            if !allowed || rule.is_some() {
                return Decision {
                    allowed,
                    by: rule,
                    reason,
                };
            }
        }
        Decision {
            allowed: true,
            reason: match &by_access {
                Some(policy) => format!("allowed by AccessPolicy {policy}"),
                None => "no policy restricts it".into(),
            },
            by: by_access,
        }
    }

    /// Whether the caller may see or use `item`.
    pub fn allows(&self, spec: &ServerSpec, method: &str, item: Item<'_>) -> bool {
        self.decide(spec, method, item).allowed
    }

    /// Records a decision on an item in the audit log.
    pub fn record(&self, method: &str, item: Item<'_>, decision: &Decision) {
        let (kind, name) = item.parts();
        self.record_event(
            decision.allowed,
            &decision.reason,
            json!({"method": method, kind: name, "rule": decision.by}),
        );
    }

    fn record_event(&self, allowed: bool, reason: &str, mut details: Value) {
        let Some((sink, route)) = &self.audit else {
            return;
        };
        let principal: Arc<str> = self
            .caller
            .as_ref()
            .map_or_else(|| Arc::from("anonymous"), |c| Arc::from(c.subject.as_str()));
        if let Some(agent) = self
            .caller
            .as_ref()
            .and_then(|c| c.claims.get("palisade.dev")?.get("agent"))
        {
            details["agent"] = agent.clone();
        }
        sink.record(AuditEvent {
            principal,
            verb: "mcp",
            route: route.clone(),
            allowed,
            reason: Some(reason.to_string()),
            details,
        });
    }

    /// Removes from a list result (`tools`, `prompts`, `resources`) the items
    /// the caller may not use, and audits what was hidden.
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
        let mut hidden = Vec::new();
        items.retain(|entry| {
            let Some(id) = entry.get(key).and_then(Value::as_str) else {
                return false;
            };
            let item = match member {
                "tools" => Item::Tool(id),
                "prompts" => Item::Prompt(id),
                _ => Item::Resource(id),
            };
            let decision = self.decide(spec, method, item);
            if !decision.allowed {
                hidden.push(json!({"name": id, "rule": decision.by, "reason": decision.reason}));
            }
            decision.allowed
        });
        if !hidden.is_empty() {
            let shown = items.len();
            self.record_event(
                true,
                &format!("{} {member} hidden by policy", hidden.len()),
                json!({"method": method, "shown": shown, "hidden": hidden}),
            );
        }
    }
}
