//! AgentgatewayPolicy / EnterpriseAgentgatewayPolicy -> what each targeted
//! resource gets.
//!
//! A policy is enforced only when Palisade implements every field it sets. A
//! policy that sets anything else is reported with the fields it cannot
//! enforce, and whatever it targets answers 503 (fail closed) rather than
//! being served without it. When several policies set the same section on one
//! target, the first one (in resource order) wins.

use std::collections::HashMap;
use std::sync::Arc;

use palisade_api::diag::{Diagnostic, ResourceKey, Severity};
use palisade_api::kinds::agentgateway::authn::RemoteJwks;
use palisade_api::kinds::agentgateway::{
    AgentgatewayPolicy, EnterpriseAgentgatewayPolicy, PolicySpec,
};
use palisade_api::kinds::gateway_api::BackendObjectReference;
use palisade_api::load::Loaded;
use palisade_api::snapshot::Snapshot;
use serde_json::Value;

use crate::authz::{self, Rules};
use crate::cors::Cors;
use crate::guard::{CompileError, Guards, ResolveEndpoint};
use crate::jwt::{JwtAuth, JwtOptions, KeyRegistry};
use crate::llm::FormatRoutes;
use crate::llm_shaping::RequestShaping;
use crate::rate_limit::{LimiterRegistry, RateLimiter};

/// The policy fields Palisade enforces; a policy setting anything else is not
/// enforced (its targets answer 503).
const ENFORCED: &[&str] = &[
    "backend.ai.promptGuard",
    "backend.ai.routes",
    "backend.ai.modelAliases",
    "backend.ai.defaults",
    "backend.ai.overrides",
    "backend.ai.prompt",
    "traffic.rateLimit.local",
    "traffic.jwtAuthentication.mode",
    "traffic.jwtAuthentication.providers",
    "traffic.jwtAuthentication.location",
    "traffic.jwtAuthentication.mcp",
    "backend.mcp.authorization",
    "traffic.cors",
    "traffic.authorization",
];

/// Variables an HTTP authorization rule (`traffic.authorization`) may read.
pub const HTTP_VARIABLES: [&str; 4] = ["jwt", "source", "request", "agent"];

/// Policy sections enforced only when empty: `backend.tls: {}` means "dial
/// this backend over TLS with the system roots"; its options (CA references,
/// SNI, client certificates...) are not enforced yet and are reported.
const PRESENCE_ONLY: &[&str] = &["backend.tls"];

/// What the policies attached to one resource do.
#[derive(Clone, Default)]
pub struct PolicySet {
    /// Prompt guards (LLM and MCP backends).
    pub guards: Option<Arc<Guards>>,
    /// Request formats by path suffix (`ai.routes`).
    pub formats: Option<Arc<FormatRoutes>>,
    /// Request shaping (aliases, defaults, overrides, prompt enrichment).
    pub shaping: Option<Arc<RequestShaping>>,
    /// Local rate limits.
    pub rate_limit: Option<Arc<RateLimiter>>,
    /// JWT authentication.
    pub jwt: Option<Arc<JwtAuth>>,
    /// HTTP authorization rules (`traffic.authorization`).
    pub authz: Option<Arc<Rules>>,
    /// MCP authorization rules (`backend.mcp.authorization`).
    pub mcp_authz: Option<Arc<Rules>>,
    /// CORS.
    pub cors: Option<Arc<Cors>>,
    /// `backend.tls`: dial the backend over TLS (system roots).
    pub tls: Option<()>,
}

impl PolicySet {
    /// Fills the sections this set leaves unset from `other`; authorization
    /// rules of both are pooled.
    pub fn fill_from(&mut self, other: &PolicySet) {
        fn fill<T: Clone>(slot: &mut Option<T>, other: &Option<T>) {
            if slot.is_none() {
                slot.clone_from(other);
            }
        }
        fill(&mut self.guards, &other.guards);
        fill(&mut self.formats, &other.formats);
        fill(&mut self.shaping, &other.shaping);
        fill(&mut self.rate_limit, &other.rate_limit);
        fill(&mut self.jwt, &other.jwt);
        self.authz = authz::pool(&self.authz, &other.authz);
        self.mcp_authz = authz::pool(&self.mcp_authz, &other.mcp_authz);
        fill(&mut self.cors, &other.cors);
        fill(&mut self.tls, &other.tls);
    }
}

impl std::fmt::Debug for PolicySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&serde_json::to_string(self).unwrap_or_default())
    }
}

/// The effective configuration (`/config`) names the policy behind each section.
impl serde::Serialize for PolicySet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(None)?;
        if let Some(g) = &self.guards {
            map.serialize_entry("promptGuard", g.policy())?;
        }
        if let Some(l) = &self.rate_limit {
            map.serialize_entry("rateLimit", l.policy())?;
        }
        if let Some(j) = &self.jwt {
            map.serialize_entry("jwtAuthentication", j.policy())?;
        }
        if let Some(a) = &self.authz {
            map.serialize_entry("authorization", &a.policies())?;
        }
        if let Some(a) = &self.mcp_authz {
            map.serialize_entry("mcpAuthorization", &a.policies())?;
        }
        if let Some(c) = &self.cors {
            map.serialize_entry("cors", c.policy())?;
        }
        if self.tls.is_some() {
            map.serialize_entry("backendTls", &true)?;
        }
        map.end()
    }
}

/// Whether a policy is applied, as `/config` (and the API) shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PolicyStatus {
    /// `Kind/namespace/name` of the policy.
    pub policy: String,
    /// Whether it is in force.
    pub applied: bool,
    /// What it applies to, or why it is not applied.
    pub message: String,
}

impl PolicyStatus {
    /// A policy in force.
    pub fn applied(policy: &str, message: String) -> PolicyStatus {
        PolicyStatus {
            policy: policy.to_string(),
            applied: true,
            message,
        }
    }

    /// A policy not in force, and why.
    pub fn not_applied(policy: &str, message: String) -> PolicyStatus {
        PolicyStatus {
            policy: policy.to_string(),
            applied: false,
            message,
        }
    }
}

/// Policies by the resource they target.
#[derive(Default)]
pub struct Attachments {
    /// Whether each policy is applied, and why not.
    pub status: Vec<PolicyStatus>,
    /// Targets of policies Palisade cannot enforce, with the policy and why.
    pub unenforced: HashMap<ResourceKey, String>,
    /// Enforced policy sections by target.
    pub sets: HashMap<ResourceKey, PolicySet>,
}

impl Attachments {
    /// The policy set of the first of `keys` (most specific first), with
    /// sections it leaves unset taken from the following ones.
    pub fn merged(&self, keys: &[ResourceKey]) -> PolicySet {
        let mut set = PolicySet::default();
        for key in keys {
            if let Some(found) = self.sets.get(key) {
                set.fill_from(found);
            }
        }
        set
    }
}

/// Finds where a `backendRef` of a policy in a namespace can be dialled.
pub type ResolveInNamespace<'a> =
    dyn Fn(&str, &BackendObjectReference) -> Result<(String, u16), String> + 'a;

/// Compiles every policy of the snapshot. `resolve` finds where a policy's
/// `backendRef` (e.g. a webhook guard) can be dialled.
pub fn attachments(
    snapshot: &Snapshot,
    limiters: &LimiterRegistry,
    keys: &KeyRegistry,
    resolve: &ResolveInNamespace<'_>,
) -> (Attachments, Vec<Diagnostic>) {
    let mut out = Attachments::default();
    let mut diagnostics = Vec::new();
    let mut visit = |loaded: &Loaded, spec: &PolicySpec| {
        let targets = targets(snapshot, loaded, spec);
        let policy = loaded.key().to_string();
        let unsupported = unenforced_fields(spec);
        if !unsupported.is_empty() {
            diagnostics.push(loaded.diagnostic(
                Severity::Warning,
                "spec",
                format!(
                    "Palisade does not enforce {} yet; the routes, Gateways and backends this policy targets answer 503 instead of being served without it",
                    unsupported.join(", ")
                ),
                "remove those fields, or the policy, to serve its targets",
            ));
            out.status.push(PolicyStatus::not_applied(
                &policy,
                format!(
                    "Palisade does not enforce {} yet; its targets answer 503",
                    unsupported.join(", ")
                ),
            ));
            mark_unenforced(&mut out, targets, &policy);
            return;
        }
        let namespace = loaded
            .resource
            .metadata()
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into());
        let annotations = &loaded.resource.metadata().annotations;
        match compile_set(&policy, spec, annotations, limiters, keys, &|r| {
            resolve(&namespace, r)
        }) {
            Ok(set) => {
                out.status.push(target_status(snapshot, &policy, &targets));
                for key in targets {
                    out.sets.entry(key).or_default().fill_from(&set);
                }
            }
            Err((field, why, report)) => {
                if report {
                    diagnostics.push(loaded.diagnostic(
                        Severity::Warning,
                        field,
                        why.clone(),
                        "until Palisade can enforce this, the routes it targets answer 503",
                    ));
                }
                out.status.push(PolicyStatus::not_applied(
                    &policy,
                    format!("{field}: {why}; its targets answer 503"),
                ));
                mark_unenforced(&mut out, targets, &format!("{policy} ({why})"));
            }
        }
    };
    for (loaded, policy) in snapshot.of_kind::<AgentgatewayPolicy>() {
        visit(loaded, &policy.spec);
    }
    for (loaded, policy) in snapshot.of_kind::<EnterpriseAgentgatewayPolicy>() {
        visit(loaded, &policy.spec);
    }
    (out, diagnostics)
}

/// The status of an enforced policy: what it applies to, and which of its
/// targets do not exist (yet).
fn target_status(snapshot: &Snapshot, policy: &str, targets: &[ResourceKey]) -> PolicyStatus {
    let (found, missing): (Vec<&ResourceKey>, Vec<&ResourceKey>) =
        targets.iter().partition(|k| snapshot.get_key(k).is_some());
    let list = |keys: &[&ResourceKey]| {
        keys.iter()
            .map(|k| k.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match (found.is_empty(), missing.is_empty()) {
        (true, _) => PolicyStatus::not_applied(
            policy,
            match missing.is_empty() {
                true => "it targets nothing".into(),
                false => format!("its targets do not exist: {}", list(&missing)),
            },
        ),
        (false, true) => PolicyStatus::applied(policy, format!("applies to {}", list(&found))),
        (false, false) => PolicyStatus::applied(
            policy,
            format!("applies to {}; not found: {}", list(&found), list(&missing)),
        ),
    }
}

fn mark_unenforced(out: &mut Attachments, targets: Vec<ResourceKey>, why: &str) {
    for key in targets {
        out.unenforced.entry(key).or_insert_with(|| why.to_string());
    }
}

/// The resources a policy targets: its `targetRefs` and what its
/// `targetSelectors` select, in its own namespace.
fn targets(snapshot: &Snapshot, loaded: &Loaded, spec: &PolicySpec) -> Vec<ResourceKey> {
    let namespace = loaded.resource.metadata().namespace.clone();
    let mut keys: Vec<ResourceKey> = spec
        .target_refs
        .iter()
        .map(|t| ResourceKey {
            kind: t.kind.clone(),
            namespace: namespace.clone(),
            name: t.name.clone(),
        })
        .collect();
    for selector in &spec.target_selectors {
        keys.extend(
            snapshot
                .iter()
                .filter(|l| {
                    let meta = l.resource.metadata();
                    l.resource.meta().kind == selector.kind
                        && meta.namespace == namespace
                        && selector
                            .match_labels
                            .iter()
                            .all(|(k, v)| meta.labels.get(k) == Some(v))
                })
                .map(Loaded::key),
        );
    }
    keys
}

/// The fields a policy sets that Palisade does not enforce, as dotted paths
/// (`traffic.cors`, `backend.ai.promptCaching`).
fn unenforced_fields(spec: &PolicySpec) -> Vec<String> {
    let mut out = Vec::new();
    for (name, section) in [
        ("frontend", serde_json::to_value(&spec.frontend)),
        ("traffic", serde_json::to_value(&spec.traffic)),
        ("backend", serde_json::to_value(&spec.backend)),
    ] {
        match section {
            Ok(Value::Null) => {}
            Ok(value) => walk(&value, name, &mut out),
            Err(_) => out.push(name.to_string()),
        }
    }
    out
}

fn walk(value: &Value, path: &str, out: &mut Vec<String>) {
    let Some(object) = value.as_object() else {
        out.push(path.to_string());
        return;
    };
    if object.is_empty() {
        // `traffic: {}` asks for nothing.
        return;
    }
    for (key, child) in object {
        let child_path = format!("{path}.{key}");
        if ENFORCED.contains(&child_path.as_str()) {
            continue;
        }
        if PRESENCE_ONLY.contains(&child_path.as_str()) {
            // Empty: enforced; otherwise every option it sets is reported.
            walk(child, &child_path, out);
            continue;
        }
        let prefix = format!("{child_path}.");
        if ENFORCED.iter().any(|e| e.starts_with(&prefix)) {
            walk(child, &child_path, out);
        } else {
            out.push(child_path);
        }
    }
}

/// A section that cannot be built: (field, why, whether to report it as a
/// diagnostic — pattern errors were already reported by the program check).
type SetError = (&'static str, String, bool);

/// Builds the enforced sections of one policy.
fn compile_set(
    policy: &str,
    spec: &PolicySpec,
    annotations: &std::collections::BTreeMap<String, String>,
    limiters: &LimiterRegistry,
    keys: &KeyRegistry,
    resolve: &ResolveEndpoint<'_>,
) -> Result<PolicySet, SetError> {
    let mut set = PolicySet::default();
    if let Some(ai) = spec.backend.as_ref().and_then(|b| b.ai.as_ref()) {
        set.shaping = RequestShaping::from_policy(ai).map(Arc::new);
        if !ai.routes.is_empty() {
            let routes = FormatRoutes::compile(&ai.routes)
                .map_err(|why| ("spec.backend.ai.routes", why, true))?;
            set.formats = Some(Arc::new(routes));
        }
        if let Some(prompt_guard) = &ai.prompt_guard {
            let guards = Guards::compile(policy, prompt_guard, resolve).map_err(|why| {
                let report = matches!(why, CompileError::Unsupported(_));
                let message = match &why {
                    CompileError::Unsupported(message) => message.clone(),
                    other => format!("its guard cannot be built: {other}"),
                };
                ("spec.backend.ai.promptGuard", message, report)
            })?;
            set.guards = Some(Arc::new(guards));
        }
    }
    if let Some(limits) = spec
        .traffic
        .as_ref()
        .and_then(|t| t.rate_limit.as_ref())
        .map(|r| &r.local)
        .filter(|local| !local.is_empty())
    {
        set.rate_limit = Some(limiters.limiter(policy, limits));
    }
    if let Some(jwt) = spec
        .traffic
        .as_ref()
        .and_then(|t| t.jwt_authentication.as_ref())
    {
        let jwks_url = |remote: &RemoteJwks| -> Result<String, String> {
            match (&remote.url, &remote.backend_ref) {
                (Some(url), _) => Ok(url.clone()),
                (None, Some(r)) => {
                    let (host, port) = resolve(r)?;
                    Ok(format!(
                        "http://{host}:{port}{}",
                        remote.path().unwrap_or_default()
                    ))
                }
                (None, None) => Err("names neither url nor backendRef".into()),
            }
        };
        let options = JwtOptions::from_annotations(annotations)
            .map_err(|why| ("metadata.annotations", why, true))?;
        let auth = JwtAuth::compile(policy, jwt, &options, &jwks_url, keys)
            .map_err(|why| ("spec.traffic.jwtAuthentication", why, true))?;
        set.jwt = Some(Arc::new(auth));
    }
    if let Some(authorization) = spec
        .backend
        .as_ref()
        .and_then(|b| b.mcp.as_ref())
        .and_then(|m| m.authorization.as_ref())
    {
        let rules = crate::mcp_access::compile(policy, authorization)
            .map_err(|why| ("spec.backend.mcp.authorization", why, true))?;
        set.mcp_authz = Some(Arc::new(rules));
    }
    if let Some(authorization) = spec.traffic.as_ref().and_then(|t| t.authorization.as_ref()) {
        let rules = Rules::compile(policy, authorization, &HTTP_VARIABLES)
            .map_err(|why| ("spec.traffic.authorization", why, true))?;
        set.authz = Some(Arc::new(rules));
    }
    if spec.backend.as_ref().is_some_and(|b| b.tls.is_some()) {
        set.tls = Some(());
    }
    if let Some(cors) = spec.traffic.as_ref().and_then(|t| t.cors.as_ref()) {
        set.cors = Some(Arc::new(Cors::compile(policy, cors)));
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: serde_json::Value) -> PolicySpec {
        serde_json::from_value(yaml).unwrap()
    }

    #[test]
    fn enforced_fields_pass_and_others_are_named() {
        let ok = spec(serde_json::json!({
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "r"}],
            "traffic": {"rateLimit": {"local": [{"requests": 1, "unit": "Seconds"}]}},
            "backend": {"ai": {"promptGuard": {"request": []}, "modelAliases": {"a": "b"}}}
        }));
        assert!(
            unenforced_fields(&ok).is_empty(),
            "{:?}",
            unenforced_fields(&ok)
        );
        let not_ok = spec(serde_json::json!({
            "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "r"}],
            "traffic": {"csrf": {"additionalOrigins": ["https://a.example"]},
                        "rateLimit": {"local": [{"requests": 1, "unit": "Seconds"}],
                                      "global": {"url": "http://rls:8081", "domain": "d",
                                                 "descriptors": [{"entries": [{"name": "n", "expression": "1"}]}]}}},
            "backend": {"ai": {"promptCaching": {}}}
        }));
        assert_eq!(
            unenforced_fields(&not_ok),
            [
                "traffic.csrf",
                "traffic.rateLimit.global",
                "backend.ai.promptCaching"
            ]
        );
    }

    #[test]
    fn backend_tls_is_enforced_only_without_options() {
        let plain = spec(serde_json::json!({
            "targetRefs": [{"group": "agentgateway.dev", "kind": "AgentgatewayBackend", "name": "b"}],
            "backend": {"tls": {}}
        }));
        assert!(unenforced_fields(&plain).is_empty());
        let with_sni = spec(serde_json::json!({
            "targetRefs": [{"group": "agentgateway.dev", "kind": "AgentgatewayBackend", "name": "b"}],
            "backend": {"tls": {"sni": "api.example.com"}}
        }));
        assert_eq!(unenforced_fields(&with_sni), ["backend.tls.sni"]);
    }
}
