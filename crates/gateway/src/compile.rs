//! Snapshot -> Plan. Resolves Gateways, listeners, HTTPRoutes and their backends into
//! route tables per socket, with every regex compiled here and nothing left to parse
//! on the request path. Problems found while resolving become diagnostics; the Plan is
//! produced only when there is no error.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use palisade_api::diag::{Diagnostic, ResourceKey, Severity};
use palisade_api::kinds::agentgateway::AgentgatewayBackend;
use palisade_api::kinds::core::{Namespace, Service};
use palisade_api::kinds::gateway_api::{
    BackendObjectReference, FromNamespaces, Gateway, HttpBackendRef, HttpRoute, HttpRouteMatch,
    HttpRouteRule, ListenerProtocol, PathMatchType, ValueMatchType,
};
use palisade_api::kinds::kagent::ModelConfig;
use palisade_api::load::Loaded;
use palisade_api::snapshot::Snapshot;

use crate::access::{self, AccessRules};
use crate::backend::Backend;
use crate::jwt::KeyRegistry;
use crate::llm;
use crate::mcp_servers::{self, McpServers};
use crate::plan::{BuiltinMcp, BuiltinModel, Plan};
use crate::policies::{self, Attachments};
use crate::programs::compile_regex;
use crate::rate_limit::LimiterRegistry;
use crate::route::{Action, HostMatch, Match, PathMatch, RouteId, RouteTable, Rule, ValueMatch};

/// Settings of the compile that do not come from resources.
#[derive(Debug, Clone)]
pub struct Options {
    /// The built-in default listener, serving HTTPRoutes without parentRefs; `None`
    /// disables it.
    pub default_listener: Option<SocketAddr>,
    /// The address Gateway listeners bind to.
    pub bind_address: IpAddr,
    /// Rate limiters kept across compiles, so reloads keep callers' buckets.
    pub limiters: Arc<LimiterRegistry>,
    /// Remote JWKS kept across compiles, so reloads keep fetched keys.
    pub jwks: Arc<KeyRegistry>,
    /// Serve the built-in routes to callers without a token (local experiments).
    pub allow_anonymous: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            default_listener: Some(SocketAddr::from(([127, 0, 0, 1], 8080))),
            bind_address: IpAddr::from([127, 0, 0, 1]),
            limiters: Arc::default(),
            jwks: Arc::default(),
            allow_anonymous: false,
        }
    }
}

/// Compiles a snapshot. Returns the Plan (when there is no error) and every diagnostic.
pub fn compile(
    snapshot: &Snapshot,
    options: &Options,
    generation: u64,
) -> (Option<Plan>, Vec<Diagnostic>) {
    let resolve = |ns: &str, r: &BackendObjectReference| resolve_endpoint(snapshot, ns, r);
    let (policies, mut diagnostics) =
        policies::attachments(snapshot, &options.limiters, &options.jwks, &resolve);
    let mcp = mcp_servers::compile(snapshot, &mut diagnostics);
    let access = access::compile(snapshot);
    let mut cx = Compiler {
        snapshot,
        options,
        diagnostics,
        mcp,
        access: access.by_target,
        policies,
        sockets: BTreeMap::new(),
        listeners: Vec::new(),
    };
    if let Some(addr) = options.default_listener {
        cx.sockets.entry(addr).or_default();
    }
    cx.collect_listeners();
    for (loaded, route) in snapshot.of_kind::<HttpRoute>() {
        cx.attach_route(loaded, route);
    }
    let models = cx.builtin_models();
    let Compiler {
        diagnostics,
        sockets,
        mcp,
        access: by_target,
        policies,
        ..
    } = cx;
    if diagnostics.iter().any(Diagnostic::is_error) {
        return (None, diagnostics);
    }
    let plan = Plan {
        generation,
        sockets: sockets
            .into_iter()
            .map(|(addr, rules)| (addr, RouteTable::new(rules)))
            .collect(),
        resources: snapshot.len(),
        default_listener: options.default_listener,
        agent_access: by_target
            .iter()
            .filter(|(k, _)| k.kind == "Agent")
            .map(|(k, v)| {
                let ns = k.namespace.as_deref().unwrap_or_default();
                (format!("{ns}/{}", k.name), v.clone())
            })
            .collect(),
        mcp_servers: builtin_by_namespace(mcp.builtin, &by_target),
        models,
        policies: policies.status.into_iter().chain(access.status).collect(),
        allow_anonymous: options.allow_anonymous,
    };
    (Some(plan), diagnostics)
}

/// A Gateway listener routes can attach to.
struct ListenerSlot {
    namespace: String,
    gateway: String,
    name: String,
    port: u16,
    hostname: Option<String>,
    from: FromNamespaces,
    selector: Option<palisade_api::meta::LabelSelector>,
    addr: SocketAddr,
}

struct Compiler<'a> {
    snapshot: &'a Snapshot,
    options: &'a Options,
    diagnostics: Vec<Diagnostic>,
    /// Policies by the resource they target.
    policies: Attachments,
    sockets: BTreeMap<SocketAddr, Vec<Rule>>,
    listeners: Vec<ListenerSlot>,
    mcp: McpServers,
    /// AccessPolicy rules by the resource they target.
    access: HashMap<ResourceKey, Arc<AccessRules>>,
}

impl Compiler<'_> {
    fn collect_listeners(&mut self) {
        for (loaded, gateway) in self.snapshot.of_kind::<Gateway>() {
            let namespace = gateway.metadata.namespace.clone().unwrap_or_default();
            for (i, listener) in gateway.spec.listeners.iter().enumerate() {
                let path = format!("spec.listeners[{i}]");
                if listener.protocol_kind() != Some(ListenerProtocol::Http) {
                    self.diagnostics.push(loaded.diagnostic(
                        Severity::Warning,
                        &format!("{path}.protocol"),
                        format!("listener {} uses protocol {}, which Palisade does not serve yet; it is ignored", listener.name, listener.protocol),
                        "use protocol HTTP",
                    ));
                    continue;
                }
                let Ok(port) = u16::try_from(listener.port) else {
                    continue;
                };
                let addr = SocketAddr::new(self.options.bind_address, port);
                self.sockets.entry(addr).or_default();
                self.listeners.push(ListenerSlot {
                    namespace: namespace.clone(),
                    gateway: gateway.metadata.name.clone(),
                    name: listener.name.clone(),
                    port,
                    hostname: listener.hostname.clone(),
                    from: listener.routes_from(),
                    selector: listener
                        .allowed_routes
                        .as_ref()
                        .and_then(|a| a.namespaces.as_ref())
                        .and_then(|n| n.selector.clone()),
                    addr,
                });
            }
        }
    }

    fn namespace_allowed(&self, slot: &ListenerSlot, route_namespace: &str) -> bool {
        match slot.from {
            FromNamespaces::All => true,
            FromNamespaces::Same => slot.namespace == route_namespace,
            FromNamespaces::Selector => {
                let labels = self
                    .snapshot
                    .get::<Namespace>(None, route_namespace)
                    .map(|(_, ns)| ns.metadata.labels.clone())
                    .unwrap_or_default();
                slot.selector.as_ref().is_some_and(|s| s.matches(&labels))
            }
        }
    }

    /// Every ModelConfig as a built-in LLM route (`/llm/<ns>/<name>/...` on the
    /// default listener), with the policies and AccessPolicies that target it.
    /// Agents reach their model there, under their own identity.
    fn builtin_models(&self) -> BTreeMap<String, BTreeMap<String, BuiltinModel>> {
        let mut out: BTreeMap<String, BTreeMap<String, BuiltinModel>> = BTreeMap::new();
        for (loaded, config) in self.snapshot.of_kind::<ModelConfig>() {
            let key = loaded.key();
            let namespace = config.metadata.namespace.clone().unwrap_or_default();
            let name = key.to_string();
            let action = if let Some(policy) = self.policies.unenforced.get(&key) {
                Action::unavailable(format!(
                    "{policy} applies to {name} and Palisade cannot enforce it yet"
                ))
            } else {
                match llm::from_model_config(self.snapshot, &name, &namespace, config) {
                    Ok(target) => {
                        let backend = Backend::llm(name.clone(), Arc::new(target))
                            .with_access(self.access.get(&key).cloned());
                        let mut policies = self.policies.merged(std::slice::from_ref(&key));
                        policies.tls = None;
                        Action {
                            backends: vec![(Arc::new(backend), 1)],
                            timeout: None,
                            unavailable: None,
                            policies,
                        }
                    }
                    Err(why) => Action::unavailable(format!("{name}: {why}")),
                }
            };
            out.entry(namespace).or_default().insert(
                key.name.clone(),
                BuiltinModel {
                    label: Arc::from(name.as_str()),
                    action: Arc::new(action),
                },
            );
        }
        out
    }

    fn attach_route(&mut self, loaded: &Loaded, route: &HttpRoute) {
        let namespace = route.metadata.namespace.clone().unwrap_or_default();
        // (socket, hostnames, Gateway) this route is served on.
        let mut targets: Vec<(SocketAddr, Vec<HostMatch>, Option<ResourceKey>)> = Vec::new();
        let route_hosts: Vec<String> = route
            .spec
            .hostnames
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        if route.spec.parent_refs.is_empty() {
            match self.options.default_listener {
                Some(addr) => targets.push((addr, route_hosts.iter().cloned().map(HostMatch).collect(), None)),
                None => self.diagnostics.push(loaded.diagnostic(
                    Severity::Warning,
                    "spec.parentRefs",
                    "the route names no parent and the default listener is disabled (--listen none); it is not served",
                    "add a parentRef to a Gateway, or enable the default listener",
                )),
            }
        }
        for (i, parent) in route.spec.parent_refs.iter().enumerate() {
            let path = format!("spec.parentRefs[{i}]");
            let parent_ns = parent.namespace_or(&namespace).to_string();
            let slots: Vec<usize> = (0..self.listeners.len())
                .filter(|&s| {
                    let l = &self.listeners[s];
                    l.namespace == parent_ns
                        && l.gateway == parent.name
                        && parent.section_name.as_ref().is_none_or(|n| *n == l.name)
                        && parent.port.is_none_or(|p| i64::from(l.port) == p)
                })
                .collect();
            if slots.is_empty() {
                if self
                    .snapshot
                    .get::<Gateway>(Some(&parent_ns), &parent.name)
                    .is_some()
                {
                    self.diagnostics.push(loaded.diagnostic(
                        Severity::Warning,
                        &path,
                        format!("Gateway {parent_ns}/{} has no HTTP listener matching this parentRef; the route is not attached there", parent.name),
                        "check sectionName/port against the Gateway's listeners",
                    ));
                }
                continue;
            }
            let mut attached = false;
            for s in slots {
                let slot = &self.listeners[s];
                if !self.namespace_allowed(slot, &namespace) {
                    continue;
                }
                let Some(hosts) = intersect_hosts(slot.hostname.as_deref(), &route_hosts) else {
                    continue;
                };
                attached = true;
                let gateway = ResourceKey {
                    kind: "Gateway".into(),
                    namespace: Some(slot.namespace.clone()),
                    name: slot.gateway.clone(),
                };
                targets.push((slot.addr, hosts, Some(gateway)));
            }
            if !attached {
                self.diagnostics.push(loaded.diagnostic(
                    Severity::Warning,
                    &path,
                    format!("no listener of Gateway {parent_ns}/{} accepts this route (allowedRoutes namespaces or hostnames)", parent.name),
                    "allow the route's namespace in the listener's allowedRoutes, or fix the hostnames",
                ));
            }
        }
        if targets.is_empty() {
            return;
        }

        let order_key = |rule: usize| {
            (
                route
                    .metadata
                    .creation_timestamp
                    .clone()
                    .unwrap_or_default(),
                format!("{}/{}", namespace, route.metadata.name),
                rule,
            )
        };
        for (r, rule) in route.spec.effective_rules().iter().enumerate() {
            let rule_path = format!("spec.rules[{r}]");
            let Some(action) = self.rule_action(loaded, &namespace, &rule_path, rule) else {
                continue;
            };
            let route_policy = self.policies.unenforced.get(&loaded.key()).cloned();
            let action = Arc::new(action);
            for matched in rule.effective_matches().iter() {
                let Some(matcher) = self.matcher(matched) else {
                    continue;
                };
                for (addr, hosts, gateway) in &targets {
                    let gateway_policy = gateway
                        .as_ref()
                        .and_then(|g| self.policies.unenforced.get(g));
                    let gateway_set = gateway.as_ref().and_then(|g| self.policies.sets.get(g));
                    let action = match (route_policy.as_ref().or(gateway_policy), gateway_set) {
                        (Some(policy), _) => Arc::new(Action::unavailable(format!(
                            "{policy} applies here and Palisade cannot enforce it yet"
                        ))),
                        (None, Some(set)) => Arc::new(action.with_fallback_policies(set)),
                        (None, None) => action.clone(),
                    };
                    self.sockets.entry(*addr).or_default().push(Rule {
                        id: RouteId::new(&namespace, &route.metadata.name, r),
                        hostnames: hosts.clone(),
                        matcher: matcher.clone(),
                        action,
                        order: order_key(r),
                    });
                }
            }
        }
    }

    fn matcher(&self, m: &HttpRouteMatch) -> Option<Match> {
        let (kind, value) = m.path_match();
        let path_match = match kind {
            PathMatchType::Exact => PathMatch::Exact(value.to_string()),
            PathMatchType::PathPrefix => PathMatch::PathPrefix(value.to_string()),
            PathMatchType::RegularExpression => PathMatch::RegularExpression(self.anchored(value)?),
        };
        let mut headers = Vec::new();
        for h in &m.headers {
            let vm = match h.match_type() {
                ValueMatchType::Exact => ValueMatch::Exact(h.value.clone()),
                ValueMatchType::RegularExpression => {
                    ValueMatch::RegularExpression(self.anchored(&h.value)?)
                }
            };
            headers.push((h.name.to_ascii_lowercase(), vm));
        }
        let mut query = Vec::new();
        for q in &m.query_params {
            let vm = match q.match_type() {
                ValueMatchType::Exact => ValueMatch::Exact(q.value.clone()),
                ValueMatchType::RegularExpression => {
                    ValueMatch::RegularExpression(self.anchored(&q.value)?)
                }
            };
            query.push((q.name.clone(), vm));
        }
        let method = m.method.map(|m| {
            http::Method::from_bytes(m.as_str().as_bytes())
                .expect("Gateway API methods are valid HTTP methods")
        });
        Some(Match {
            path: path_match,
            headers,
            query,
            method,
        })
    }

    /// Compiles a match regex anchored to the whole value (errors were already
    /// reported by the program compiler, so a failure here just drops the match).
    fn anchored(&self, pattern: &str) -> Option<regex::Regex> {
        compile_regex(&format!("^(?:{pattern})$")).ok()
    }

    fn rule_action(
        &mut self,
        loaded: &Loaded,
        namespace: &str,
        path: &str,
        rule: &HttpRouteRule,
    ) -> Option<Action> {
        for (i, filter) in rule.filters.iter().enumerate() {
            self.diagnostics.push(loaded.diagnostic(
                Severity::Error,
                &format!("{path}.filters[{i}].type"),
                format!(
                    "filter {} is not supported by Palisade yet",
                    filter.filter_type.as_str()
                ),
                "remove the filter; Palisade refuses to serve the route rather than ignore it",
            ));
        }
        let timeout = rule.timeouts.as_ref().and_then(|t| {
            let parse = |v: &Option<String>| {
                v.as_deref()
                    .and_then(palisade_api::duration::parse)
                    .filter(|d| !d.is_zero())
            };
            parse(&t.backend_request).or_else(|| parse(&t.request))
        });
        let mut backends = Vec::new();
        let mut problems = Vec::new();
        for (i, backend_ref) in rule.backend_refs.iter().enumerate() {
            let field = format!("{path}.backendRefs[{i}]");
            match self.resolve_backend(loaded, namespace, &field, backend_ref) {
                Ok(b) => backends.push((Arc::new(b), backend_ref.weight())),
                Err(why) => problems.push(why),
            }
        }
        let unavailable = if backends.is_empty() {
            Some(if problems.is_empty() {
                "the route rule has no backendRefs".to_string()
            } else {
                problems.join("; ")
            })
        } else {
            None
        };
        let backend_keys: Vec<ResourceKey> = rule
            .backend_refs
            .iter()
            .map(|r| ResourceKey {
                kind: r.effective_kind().to_string(),
                namespace: Some(r.namespace.as_deref().unwrap_or(namespace).to_string()),
                name: r.name.clone(),
            })
            .collect();
        let mut keys = vec![loaded.key()];
        keys.extend(backend_keys);
        let mut policies = self.policies.merged(&keys);
        // Backend TLS is decided when the backend is resolved.
        policies.tls = None;
        Some(Action {
            backends,
            timeout,
            unavailable,
            policies,
        })
    }

    /// Resolves one backendRef to a dialable target, or says why it cannot be used
    /// (with a warning diagnostic at the field).
    fn resolve_backend(
        &mut self,
        loaded: &Loaded,
        namespace: &str,
        field: &str,
        r: &HttpBackendRef,
    ) -> Result<Backend, String> {
        let target_ns = r.namespace.as_deref().unwrap_or(namespace);
        let kind = r.effective_kind();
        let name = format!("{kind}/{target_ns}/{}", r.name);
        let warn = |this: &mut Self, message: String, hint: &str| {
            this.diagnostics.push(loaded.diagnostic(
                Severity::Warning,
                field,
                message.clone(),
                hint,
            ));
            Err(message)
        };
        if target_ns != namespace {
            return warn(
                self,
                format!(
                    "{name} is in another namespace; cross-namespace backendRefs need a ReferenceGrant, which Palisade does not support yet"
                ),
                "put the backend in the route's namespace",
            );
        }
        let backend_key = ResourceKey {
            kind: kind.to_string(),
            namespace: Some(target_ns.to_string()),
            name: r.name.clone(),
        };
        let access = self.access.get(&backend_key).cloned();
        if let Some(policy) = self.policies.unenforced.get(&backend_key) {
            return Err(format!(
                "{policy} applies to {name} and Palisade cannot enforce it yet"
            ));
        }
        match (r.effective_group(), kind) {
            ("", "Service") => {
                let Some((_, service)) = self.snapshot.get::<Service>(Some(target_ns), &r.name)
                else {
                    return Err(format!("{name} does not exist"));
                };
                let Some(port) = r.port.and_then(|p| u16::try_from(p).ok()) else {
                    return warn(
                        self,
                        format!("{name} needs a port"),
                        "set backendRefs[].port",
                    );
                };
                match service.dial_address(port) {
                    Some((host, port)) => Backend::http(format!("{name}:{port}"), host, port),
                    None => warn(
                        self,
                        format!("{name} has no address Palisade can dial on port {port}"),
                        "in standalone mode use a Service of type ExternalName, or one with externalIPs, listing this port",
                    ),
                }
            }
            ("agentgateway.dev", "AgentgatewayBackend") => {
                let Some((_, backend)) = self
                    .snapshot
                    .get::<AgentgatewayBackend>(Some(target_ns), &r.name)
                else {
                    return Err(format!("{name} does not exist"));
                };
                if backend.spec.ai.is_some() {
                    let key = ResourceKey {
                        kind: "AgentgatewayBackend".into(),
                        namespace: Some(target_ns.to_string()),
                        name: r.name.clone(),
                    };
                    let tls = self
                        .policies
                        .sets
                        .get(&key)
                        .is_some_and(|set| set.tls.is_some());
                    return match llm::from_backend(self.snapshot, &name, target_ns, backend, tls) {
                        Ok(t) => Ok(Backend::llm(name.clone(), Arc::new(t))),
                        Err(why) => warn(
                            self,
                            format!("{name}: {why}"),
                            "use an anthropic or openai provider with host and port",
                        ),
                    };
                }
                if backend.spec.mcp.is_some() {
                    return match self.mcp.backends.get(&format!("{target_ns}/{}", r.name)) {
                        Some(server) => Ok(Backend::mcp(name.clone(), server.clone())),
                        None => Err(format!("{name} has no MCP target Palisade can reach")),
                    };
                }
                if backend.spec.policies.is_some() {
                    return warn(
                        self,
                        format!(
                            "{name} carries `policies`, which Palisade does not enforce yet; it is not used"
                        ),
                        "remove spec.policies from the backend",
                    );
                }
                match static_target(backend) {
                    Some((host, port)) => Backend::http(name.clone(), host, port),
                    None => warn(
                        self,
                        format!(
                            "{name} is not a static backend; AI, MCP and other backend types are served by later Palisade versions"
                        ),
                        "use a `static` AgentgatewayBackend or a Service",
                    ),
                }
            }
            ("kagent.dev", "ModelConfig") => {
                let Some((_, config)) = self.snapshot.get::<ModelConfig>(Some(target_ns), &r.name)
                else {
                    return Err(format!("{name} does not exist"));
                };
                match llm::from_model_config(self.snapshot, &name, target_ns, config) {
                    Ok(t) => Ok(Backend::llm(name.clone(), Arc::new(t)).with_access(access)),
                    Err(why) => warn(
                        self,
                        format!("{name}: {why}"),
                        "use provider Anthropic or OpenAI with an http:// baseUrl",
                    ),
                }
            }
            ("kagent.dev", "MCPServer" | "RemoteMCPServer") => {
                match self.mcp.builtin.get(&format!("{target_ns}/{}", r.name)) {
                    Some(server) if server.name.starts_with(kind) => {
                        Ok(Backend::mcp(name.clone(), server.clone()).with_access(access))
                    }
                    _ => Err(format!("{name} does not exist or cannot be served")),
                }
            }
            (group, kind) => warn(
                self,
                format!("backend kind {kind} (group {group:?}) is not supported"),
                "use a Service, an AgentgatewayBackend, an MCPServer or a RemoteMCPServer",
            ),
        }
    }
}

/// Built-in MCP servers keyed `namespace/name`, regrouped by namespace then name.
fn builtin_by_namespace(
    servers: BTreeMap<String, Arc<palisade_mcp::server::ServerSpec>>,
    access: &HashMap<ResourceKey, Arc<AccessRules>>,
) -> BTreeMap<String, BTreeMap<String, BuiltinMcp>> {
    let mut out: BTreeMap<String, BTreeMap<String, BuiltinMcp>> = BTreeMap::new();
    for (key, spec) in servers {
        if let Some((ns, name)) = key.split_once('/') {
            // The spec is named `Kind/namespace/name`.
            let kind = spec.name.split('/').next().unwrap_or_default().to_string();
            let resource = ResourceKey {
                kind,
                namespace: Some(ns.to_string()),
                name: name.to_string(),
            };
            let mut server = BuiltinMcp::new(spec);
            server.access = access.get(&resource).cloned();
            out.entry(ns.to_string())
                .or_default()
                .insert(name.to_string(), server);
        }
    }
    out
}

/// What a policy attached to the first of `keys` (route first, then its
/// backends) that has one.
/// Where a policy's `backendRef` (a Service with a port, or a static
/// AgentgatewayBackend) can be dialled.
fn resolve_endpoint(
    snapshot: &Snapshot,
    namespace: &str,
    r: &BackendObjectReference,
) -> Result<(String, u16), String> {
    let ns = r.namespace.as_deref().unwrap_or(namespace);
    match (r.effective_group(), r.effective_kind()) {
        ("", "Service") => {
            let (_, service) = snapshot
                .get::<Service>(Some(ns), &r.name)
                .ok_or_else(|| format!("Service {ns}/{} does not exist", r.name))?;
            let port = r
                .port
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| format!("the reference to Service {ns}/{} needs a port", r.name))?;
            service.dial_address(port).ok_or_else(|| {
                format!(
                    "Service {ns}/{} has no address Palisade can dial on port {port}",
                    r.name
                )
            })
        }
        ("agentgateway.dev", "AgentgatewayBackend") => {
            let (_, backend) = snapshot
                .get::<AgentgatewayBackend>(Some(ns), &r.name)
                .ok_or_else(|| format!("AgentgatewayBackend {ns}/{} does not exist", r.name))?;
            static_target(backend).ok_or_else(|| {
                format!(
                    "AgentgatewayBackend {ns}/{} is not a static backend",
                    r.name
                )
            })
        }
        (group, kind) => Err(format!(
            "cannot call a {kind} (group {group:?}); use a Service or a static AgentgatewayBackend"
        )),
    }
}

/// The `static` host and port of an AgentgatewayBackend, if it is one.
fn static_target(backend: &AgentgatewayBackend) -> Option<(String, u16)> {
    let s = backend.spec.static_.as_ref()?;
    Some((s.host.clone()?, u16::try_from(s.port?).ok()?))
}

/// The hostnames a route serves on a listener: the route's hostnames that the
/// listener's hostname admits (or the listener's own when the route names none).
/// `None` when they do not intersect.
fn intersect_hosts(listener: Option<&str>, route: &[String]) -> Option<Vec<HostMatch>> {
    let Some(listener) = listener.map(str::to_ascii_lowercase) else {
        return Some(route.iter().cloned().map(HostMatch).collect());
    };
    if route.is_empty() {
        return Some(vec![HostMatch(listener)]);
    }
    let lm = HostMatch(listener.clone());
    let hosts: Vec<HostMatch> = route
        .iter()
        .filter_map(|h| {
            if lm.matches(h) || *h == listener {
                Some(HostMatch(h.clone()))
            } else if HostMatch(h.clone()).matches(&listener) {
                // Route wildcard covering a specific listener hostname: the listener's wins.
                Some(HostMatch(listener.clone()))
            } else {
                None
            }
        })
        .collect();
    (!hosts.is_empty()).then_some(hosts)
}
