//! The data-plane request handler: read the Plan, match a route, forward to the
//! backend with bodies streaming both ways, answer errors with short JSON bodies.

use std::borrow::Cow;
use std::sync::{Arc, LazyLock, OnceLock};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use http::header::{self, HeaderName, HeaderValue};
use http::uri::{PathAndQuery, Scheme};
use http::{Request, Response, Uri};
use hyper::body::Incoming;

use crate::access::AccessRules;
use crate::agents::{AgentService, agent_path};
use crate::audit::{AuditEvent, AuditSink};
use crate::authz::RequestVars;
use crate::backend::Backend;
use crate::body::{self, Body};
use crate::callers::{CallerVerifier, bearer};
use crate::cors;
use crate::jwt::{Identity, Refusal};
use crate::llm_proxy;
use crate::llm_usage::UsageMeter;
use crate::mcp_access::McpPolicies;
use crate::mcp_endpoint::McpEndpoint;
use crate::metrics::{LimitLabels, Metrics, RequestLabels, RouteLabels};
use crate::plan::{BuiltinMcp, BuiltinModel, Plan};
use crate::rate_limit::CallerKey;
use crate::respond;
use crate::route::Action;
use crate::route::{RequestView, RouteTable};
use crate::serve::{Conn, Handler};
use palisade_net::Clients;

/// The metrics label of requests no route matched.
static NO_ROUTE: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("none"));
/// The principal label of unauthenticated callers.
static ANONYMOUS: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("anonymous"));

/// Shared state of the data plane.
pub struct Proxy {
    plan: ArcSwapOption<Plan>,
    metrics: Arc<Metrics>,
    clients: Clients<Body>,
    mcp: Arc<McpEndpoint>,
    audit: OnceLock<Arc<dyn AuditSink>>,
    callers: OnceLock<Arc<dyn CallerVerifier>>,
    agents: OnceLock<Arc<dyn AgentService>>,
}

impl Proxy {
    /// A proxy with no Plan yet (every request gets 503 until one is published).
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Proxy {
            plan: ArcSwapOption::empty(),
            mcp: McpEndpoint::new(Arc::clone(&metrics)),
            metrics,
            clients: Clients::new(),
            audit: OnceLock::new(),
            callers: OnceLock::new(),
            agents: OnceLock::new(),
        }
    }

    /// Verifies the tokens of built-in routes with `verifier` (set once).
    pub fn set_callers(&self, verifier: Arc<dyn CallerVerifier>) {
        let _ = self.callers.set(verifier);
    }

    /// Serves agents over A2A at `/api/a2a/<ns>/<name>` with `service` (set once).
    pub fn set_agents(&self, service: Arc<dyn AgentService>) {
        let _ = self.agents.set(service);
    }

    /// Sends gateway decisions to `sink` (set once, before serving).
    pub fn set_audit(&self, sink: Arc<dyn AuditSink>) {
        let _ = self.audit.set(sink);
    }

    /// The MCP sessions of clients.
    pub fn mcp(&self) -> &Arc<McpEndpoint> {
        &self.mcp
    }

    /// Publishes a new Plan; requests already running keep the one they started with.
    pub fn publish(&self, plan: Arc<Plan>) {
        self.metrics.plan_generation.set(plan.generation as i64);
        self.mcp.retain_servers(&plan.mcp_specs());
        self.plan.store(Some(plan));
    }

    /// The Plan being served, if any.
    pub fn current(&self) -> Option<Arc<Plan>> {
        self.plan.load_full()
    }

    /// The metrics.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The caller of a built-in route: its token verified by the control
    /// plane (and removed from the request), or anonymous when allowed.
    async fn builtin_caller(
        &self,
        req: &mut Request<Incoming>,
        allow_anonymous: bool,
    ) -> Result<Option<Arc<Identity>>, Refusal> {
        let invalid = |description: String| Refusal {
            status: http::StatusCode::UNAUTHORIZED,
            error: Some("invalid_token"),
            description,
        };
        let token = match bearer(req.headers()) {
            Ok(Some(token)) => token.to_string(),
            Ok(None) if allow_anonymous => return Ok(None),
            Ok(None) => {
                return Err(Refusal {
                    status: http::StatusCode::UNAUTHORIZED,
                    error: None,
                    description: "a bearer token is required: get one with `palisade create token NAME -n NAMESPACE` or `palisade login`".into(),
                });
            }
            Err(why) => return Err(invalid(why)),
        };
        req.headers_mut().remove(header::AUTHORIZATION);
        let Some(verifier) = self.callers.get() else {
            return Err(invalid("no token can be verified here".into()));
        };
        verifier
            .verify(&token)
            .await
            .map(|identity| Some(Arc::new(identity)))
            .map_err(invalid)
    }

    /// [`Proxy::builtin_caller`], with a refusal audited and answered (401).
    async fn authenticated(
        &self,
        req: &mut Request<Incoming>,
        allow_anonymous: bool,
        label: &Arc<str>,
        conn: Conn,
    ) -> Result<Option<Arc<Identity>>, Response<Body>> {
        self.builtin_caller(req, allow_anonymous)
            .await
            .map_err(|refusal| {
                self.record(label, &ANONYMOUS, refusal.description.clone(), conn);
                respond::unauthorized(&refusal, None, None)
            })
    }

    /// Audits a refused request.
    fn record(&self, route: &Arc<str>, principal: &Arc<str>, reason: String, conn: Conn) {
        if let Some(sink) = self.audit.get() {
            sink.record(AuditEvent {
                principal: principal.clone(),
                verb: "request",
                route: route.clone(),
                allowed: false,
                reason: Some(reason),
                details: serde_json::json!({"client": conn.peer.ip().to_string()}),
            });
        }
    }

    /// The built-in target a path on the default listener names, with the
    /// label of its requests.
    fn builtin<'p>(&self, plan: &'p Plan, path: &str) -> Option<(Builtin<'p>, Arc<str>)> {
        if let Some(model) = plan.builtin_model(path) {
            return Some((Builtin::Model(model), model.label.clone()));
        }
        if let Some((namespace, name)) = agent_path(path)
            && let Some(agents) = self.agents.get()
        {
            let label = Arc::from(format!("Agent/{namespace}/{name}"));
            let access = plan.agent_access(namespace, name).cloned();
            return Some((
                Builtin::Agent {
                    agents: agents.clone(),
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                    access,
                },
                label,
            ));
        }
        let (server, legacy, base_len) = plan.builtin_mcp(path)?;
        Some((
            Builtin::Mcp {
                server,
                legacy,
                base_len,
            },
            server.label.clone(),
        ))
    }

    /// Serves an authenticated request to a built-in target.
    async fn serve_builtin(
        &self,
        builtin: Builtin<'_>,
        req: Request<Incoming>,
        conn: Conn,
        label: &Arc<str>,
        caller: Option<Arc<Identity>>,
    ) -> Response<Body> {
        match builtin {
            Builtin::Model(model) => self.serve_as(req, conn, label, &model.action, caller).await,
            Builtin::Agent {
                agents,
                namespace,
                name,
                access,
            } => {
                if let Some(access) = access
                    && let Err(refusal) = access.check_resource(caller.as_deref())
                {
                    let principal = caller
                        .as_ref()
                        .map_or_else(|| ANONYMOUS.clone(), |c| Arc::from(c.subject.as_str()));
                    self.record(label, &principal, refusal.reason, conn);
                    return respond::forbidden(&format!("{principal} may not call {label}"));
                }
                agents.handle(namespace, name, caller, req).await
            }
            Builtin::Mcp {
                server,
                legacy,
                base_len,
            } => {
                // Guards reach MCP through HTTPRoutes and AgentgatewayBackends.
                let policies = McpPolicies {
                    caller,
                    access: server.access.clone(),
                    audit: self.audit.get().map(|sink| (sink.clone(), label.clone())),
                    ..McpPolicies::default()
                };
                if legacy {
                    let base = req.uri().path()[..base_len].to_string();
                    self.mcp.legacy(req, &server.spec, &base, &policies).await
                } else {
                    self.mcp.streamable(req, &server.spec, &policies).await
                }
            }
        }
    }

    async fn route(&self, req: Request<Incoming>, conn: Conn) -> (Arc<str>, Response<Body>) {
        let Some(plan) = self.plan.load_full() else {
            return (
                NO_ROUTE.clone(),
                respond::no_backend("gateway is starting: no configuration loaded yet"),
            );
        };
        let Some(table) = plan.table(&conn.local) else {
            return (
                NO_ROUTE.clone(),
                respond::no_route(req.method(), req.uri().path()),
            );
        };
        if plan.default_listener == Some(conn.local)
            && let Some((builtin, label)) = self.builtin(&plan, req.uri().path())
        {
            let mut req = req;
            let caller = match self
                .authenticated(&mut req, plan.allow_anonymous, &label, conn)
                .await
            {
                Ok(caller) => caller,
                Err(refused) => return (label, refused),
            };
            let response = self.serve_builtin(builtin, req, conn, &label, caller).await;
            return (label, response);
        }
        let host = request_host(&req);
        if let Some(rest) = req.uri().path().strip_prefix(PROTECTED_RESOURCE)
            && (rest.is_empty() || rest.starts_with('/'))
        {
            return (
                NO_ROUTE.clone(),
                protected_resource(table, &req, &host, rest),
            );
        }
        let view = RequestView {
            method: req.method(),
            host: &host,
            path: req.uri().path(),
            query: req.uri().query(),
            headers: req.headers(),
        };
        let Some(rule) = table.find(&view) else {
            return (
                NO_ROUTE.clone(),
                respond::no_route(req.method(), req.uri().path()),
            );
        };
        let label = rule.id.label().clone();
        let action = &rule.action;
        let Some(cors) = &action.policies.cors else {
            let response = self.serve_action(req, conn, &label, action).await;
            return (label, response);
        };
        if let Some(preflight) = cors.preflight(req.method(), req.headers()) {
            return (label, preflight);
        }
        let origin = cors::request_headers(req.headers());
        let mut response = self.serve_action(req, conn, &label, action).await;
        cors.decorate(&origin, &mut response);
        (label, response)
    }

    /// Serves a request matched to `action`: authentication, then the rest
    /// ([`Proxy::serve_as`]).
    async fn serve_action(
        &self,
        mut req: Request<Incoming>,
        conn: Conn,
        label: &Arc<str>,
        action: &Action,
    ) -> Response<Body> {
        // With a JWT policy, its verifier also takes Palisade's own tokens
        // (and only looks at the issuer when the token is not cached).
        let identity = if action.policies.jwt.is_some() {
            match self.policy_caller(&mut req, conn, label, action).await {
                Ok(identity) => identity,
                Err(response) => return response,
            }
        } else {
            match self.own_token_caller(&mut req).await {
                Some(Ok(identity)) => Some(Arc::new(identity)),
                Some(Err(refusal)) => {
                    self.record(label, &ANONYMOUS, refusal.description.clone(), conn);
                    return respond::unauthorized(&refusal, None, None);
                }
                None => None,
            }
        };
        self.serve_as(req, conn, label, action, identity).await
    }

    /// Serves a request of a known caller (`None`: anonymous) matched to
    /// `action`: authorization rules, rate limits, AccessPolicies, then the
    /// backend.
    async fn serve_as(
        &self,
        req: Request<Incoming>,
        conn: Conn,
        label: &Arc<str>,
        action: &Action,
        identity: Option<Arc<Identity>>,
    ) -> Response<Body> {
        // Built only when a refusal, a limit or an LLM meter needs them.
        let principal = || -> Arc<str> {
            identity
                .as_ref()
                .map_or_else(|| ANONYMOUS.clone(), |i| Arc::from(i.subject.as_str()))
        };
        // Authenticated callers are told apart by principal, others by address.
        let caller = || match &identity {
            Some(i) => CallerKey::Principal(Arc::from(i.principal())),
            None => CallerKey::Address(conn.peer.ip()),
        };
        // CEL rules read the request; its variables are built once, and only
        // when there are rules.
        let policies = &action.policies;
        let needs = [&policies.authz, &policies.mcp_authz]
            .into_iter()
            .flatten()
            .map(|r| r.needs())
            .reduce(|a, b| a.union(b));
        let vars = needs.map(|needs| {
            Arc::new(RequestVars::new(
                needs,
                req.method(),
                req.uri().path(),
                req.headers(),
                conn.peer.ip(),
                identity.as_ref(),
            ))
        });
        if let (Some(rules), Some(vars)) = (&policies.authz, &vars) {
            let verdict = rules.decide(&vars.bind());
            if !verdict.allowed {
                self.record(label, &principal(), verdict.reason, conn);
                return respond::forbidden("the route's authorization rules refuse this request");
            }
        }
        if let Some(limiter) = &action.policies.rate_limit
            && let Err(limited) = limiter.admit(&caller(), Instant::now())
        {
            self.metrics
                .rate_limited
                .get_or_create(&LimitLabels {
                    route: label.clone(),
                    policy: limited.policy.clone(),
                })
                .inc();
            self.record(
                label,
                &principal(),
                format!("rate limit of {} exceeded", limited.policy),
                conn,
            );
            let response = respond::too_many_requests(limited.retry_after_secs, &limited.policy);
            return response;
        }
        let Some(backend) = pick(&action.backends) else {
            let why = action
                .unavailable
                .as_deref()
                .unwrap_or("the route has no backend");
            return respond::no_backend(why);
        };
        if let Some(spec) = backend.mcp_server() {
            let policies = McpPolicies {
                guards: policies.guards.clone(),
                authz: policies.mcp_authz.clone(),
                caller: identity.clone(),
                access: backend.access.clone(),
                audit: self.audit.get().map(|sink| (sink.clone(), label.clone())),
                vars,
            };
            self.mcp.streamable(req, spec, &policies).await
        } else if let Some(target) = backend.llm_target() {
            if let Some(access) = &backend.access
                && let Err(refusal) = access.check_resource(identity.as_deref())
            {
                let principal = principal();
                self.record(label, &principal, refusal.reason, conn);
                return respond::forbidden(&format!("{} may not use {}", principal, backend.name));
            }
            let meter = UsageMeter {
                route: label.clone(),
                caller: caller(),
                principal: principal(),
                limiter: action
                    .policies
                    .rate_limit
                    .clone()
                    .filter(|l| l.counts_tokens()),
                metrics: self.metrics.clone(),
                audit: self.audit.get().cloned(),
            };
            llm_proxy::serve(&self.clients, req, target, action, meter).await
        } else {
            self.forward(req, conn, &backend, action.timeout).await
        }
    }

    /// The caller of a request carrying one of Palisade's own tokens
    /// (service accounts, agents), verified by the control plane and taken
    /// out of the request; `None` when the request carries no such token.
    async fn own_token_caller<B>(&self, req: &mut Request<B>) -> Option<Result<Identity, Refusal>> {
        let verifier = self.callers.get()?;
        let token = bearer(req.headers()).ok()??;
        if palisade_identity::unverified_issuer(token).as_deref() != Some(verifier.own_issuer()) {
            return None;
        }
        let token = token.to_string();
        req.headers_mut().remove(header::AUTHORIZATION);
        Some(
            verifier
                .verify(&token)
                .await
                .map_err(|description| Refusal {
                    status: http::StatusCode::UNAUTHORIZED,
                    error: Some("invalid_token"),
                    description,
                }),
        )
    }

    /// The caller as the route's JWT policy sees it (`None`: anonymous), or
    /// the 401 that refuses the request.
    async fn policy_caller(
        &self,
        req: &mut Request<Incoming>,
        conn: Conn,
        label: &Arc<str>,
        action: &Action,
    ) -> Result<Option<Arc<Identity>>, Response<Body>> {
        let Some(jwt) = &action.policies.jwt else {
            return Ok(None);
        };
        // The token the policy consumes never goes upstream.
        match jwt
            .authenticate(req, self.callers.get().map(|c| &**c))
            .await
        {
            Ok(identity) => Ok(identity),
            Err(refusal) => {
                self.record(
                    label,
                    &ANONYMOUS,
                    format!("{}: {}", jwt.policy(), refusal.description),
                    conn,
                );
                let (metadata, scope) = if serves_mcp(action) {
                    let url = metadata_url(req, req.uri().path());
                    let scope = action
                        .policies
                        .mcp_authz
                        .as_ref()
                        .map(|a| a.scopes().join(" "));
                    (Some(url), scope)
                } else {
                    (None, None)
                };
                Err(respond::unauthorized(
                    &refusal,
                    metadata.as_deref(),
                    scope.as_deref(),
                ))
            }
        }
    }

    async fn forward(
        &self,
        req: Request<Incoming>,
        conn: Conn,
        backend: &Backend,
        timeout: Option<Duration>,
    ) -> Response<Body> {
        let (mut parts, incoming) = req.into_parts();
        let mut uri = http::uri::Parts::default();
        uri.scheme = Some(Scheme::HTTP);
        let Some(authority) = backend.authority() else {
            return respond::bad_gateway(&format!("{} is not an HTTP backend", backend.name));
        };
        uri.authority = Some(authority.clone());
        uri.path_and_query = Some(
            parts
                .uri
                .path_and_query()
                .cloned()
                .unwrap_or_else(|| PathAndQuery::from_static("/")),
        );
        let uri = match Uri::from_parts(uri) {
            Ok(uri) => uri,
            Err(e) => return respond::bad_gateway(&format!("cannot build upstream URI: {e}")),
        };
        if parts.headers.get(header::HOST).is_none()
            && let Some(authority) = parts.uri.authority()
            && let Ok(v) = HeaderValue::from_str(authority.as_str())
        {
            parts.headers.insert(header::HOST, v);
        }
        parts.uri = uri;
        parts.version = http::Version::HTTP_11;
        strip_hop_by_hop(&mut parts.headers);
        append_forwarded(&mut parts.headers, conn);
        let upstream_req = Request::from_parts(parts, body::boxed(incoming));

        let call = self.clients.request(upstream_req);
        let result = match timeout {
            Some(limit) => match tokio::time::timeout(limit, call).await {
                Ok(r) => r,
                Err(_) => {
                    return respond::timeout(&format!(
                        "{} did not answer within {:?}",
                        backend.name, limit
                    ));
                }
            },
            None => call.await,
        };
        match result {
            Ok(response) => {
                let (mut parts, incoming) = response.into_parts();
                strip_hop_by_hop(&mut parts.headers);
                Response::from_parts(parts, body::boxed(incoming))
            }
            Err(e) => {
                tracing::debug!(backend = %backend.name, error = ?e, "upstream request failed");
                let detail = if e.is_connect() {
                    format!("cannot connect to {}", backend.name)
                } else {
                    format!("{} failed to answer", backend.name)
                };
                respond::bad_gateway(&detail)
            }
        }
    }
}

impl Handler for Proxy {
    async fn handle(self: Arc<Self>, req: Request<Incoming>, conn: Conn) -> Response<Body> {
        let started = Instant::now();
        self.metrics.in_flight.inc();
        // Kept for the debug log line only; cloning a Uri shares its bytes.
        let logged = tracing::enabled!(tracing::Level::DEBUG)
            .then(|| (req.method().clone(), req.uri().clone()));
        let (route, response) = self.route(req, conn).await;
        self.metrics.in_flight.dec();
        let status = response.status().as_u16();
        self.metrics
            .requests
            .get_or_create(&RequestLabels {
                route: route.clone(),
                status,
            })
            .inc();
        let elapsed = started.elapsed();
        if let Some((method, uri)) = logged {
            tracing::debug!(%method, path = uri.path(), %route, status, ?elapsed, peer = %conn.peer, "request");
        }
        self.metrics
            .durations
            .get_or_create(&RouteLabels { route })
            .observe(elapsed.as_secs_f64());
        response
    }
}

/// A built-in target of the default listener.
enum Builtin<'p> {
    /// A ModelConfig at `/llm/<ns>/<name>/...`.
    Model(&'p BuiltinModel),
    /// An agent at `/api/a2a/<ns>/<name>`, with the AccessPolicies on it.
    Agent {
        agents: Arc<dyn AgentService>,
        namespace: String,
        name: String,
        access: Option<Arc<AccessRules>>,
    },
    /// An MCP server at `/mcp/<ns>/<name>` or `/sse/<ns>/<name>`.
    Mcp {
        server: &'p BuiltinMcp,
        legacy: bool,
        base_len: usize,
    },
}

/// Where OAuth protected resource metadata (RFC 9728) is served.
const PROTECTED_RESOURCE: &str = "/.well-known/oauth-protected-resource";

/// Whether a rule's backends are MCP servers.
fn serves_mcp(action: &Action) -> bool {
    action
        .backends
        .first()
        .is_some_and(|(b, _)| b.mcp_server().is_some())
}

/// The request's origin as the client sees it (`X-Forwarded-Proto` honoured).
fn origin_of<B>(req: &Request<B>) -> String {
    let scheme = req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .filter(|p| *p == "https")
        .unwrap_or("http");
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("{scheme}://{host}")
}

/// The metadata URL of the resource at `path` (the per-path form).
fn metadata_url<B>(req: &Request<B>, path: &str) -> String {
    let path = if path == "/" { "" } else { path };
    format!("{}{PROTECTED_RESOURCE}{path}", origin_of(req))
}

/// RFC 9728 metadata of the JWT-protected MCP route serving `rest` (the
/// per-path form), or of the only such route for the root form.
fn protected_resource<B>(
    table: &RouteTable,
    req: &Request<B>,
    host: &str,
    rest: &str,
) -> Response<Body> {
    let path = if rest.is_empty() { "/" } else { rest };
    let view = RequestView {
        method: &http::Method::POST,
        host,
        path,
        query: None,
        headers: req.headers(),
    };
    let protected =
        |rule: &&crate::route::Rule| rule.action.policies.jwt.is_some() && serves_mcp(&rule.action);
    let rule = table.find(&view).filter(protected).or_else(|| {
        let mut candidates = table.rules.iter().filter(protected);
        match (rest.is_empty(), candidates.next(), candidates.next()) {
            (true, Some(only), None) => Some(only),
            _ => None,
        }
    });
    let Some(rule) = rule else {
        return respond::error(
            http::StatusCode::NOT_FOUND,
            "not_found",
            &format!("no JWT-protected MCP route serves {path}"),
        );
    };
    let resource_path = if rest.is_empty() {
        match &rule.matcher.path {
            crate::route::PathMatch::Exact(p) | crate::route::PathMatch::PathPrefix(p) => p.clone(),
            _ => "/".to_string(),
        }
    } else {
        rest.to_string()
    };
    let jwt = rule.action.policies.jwt.as_ref();
    let issuers = jwt.map(|j| j.issuers()).unwrap_or_default();
    let bearer_methods = jwt.map_or(&["header"][..], |j| j.bearer_methods());
    let scopes = rule
        .action
        .policies
        .mcp_authz
        .as_ref()
        .map(|a| a.scopes())
        .unwrap_or_default();
    // Browser clients (the MCP Inspector) read this document: the route's
    // CORS applies to it too.
    let cors = rule.action.policies.cors.as_ref();
    if let Some(preflight) = cors.and_then(|c| c.preflight(req.method(), req.headers())) {
        return preflight;
    }
    let mut metadata = serde_json::json!({
        "resource": format!("{}{resource_path}", origin_of(req)),
        "authorization_servers": issuers,
        "scopes_supported": scopes,
        "bearer_methods_supported": bearer_methods,
        "resource_name": rule.id.label().as_ref(),
    });
    // The policy's own metadata fields (`jwtAuthentication.mcp.resourceMetadata`)
    // add to these or replace them.
    if let Some(jwt) = jwt {
        for (key, value) in jwt.resource_metadata() {
            metadata[key.as_str()] = value.clone();
        }
    }
    let mut response = respond::text(
        http::StatusCode::OK,
        "application/json",
        metadata.to_string(),
    );
    if let Some(cors) = cors {
        cors.decorate(req.headers(), &mut response);
    }
    response
}

/// Picks a backend by weight (weight 0 never). Deterministic for a single backend.
fn pick(backends: &[(Arc<Backend>, u32)]) -> Option<Arc<Backend>> {
    let total: u64 = backends.iter().map(|(_, w)| u64::from(*w)).sum();
    match backends {
        [] => None,
        _ if total == 0 => None,
        [(b, _)] => Some(b.clone()),
        _ => {
            let mut ticket = fast_random() % total;
            for (b, w) in backends {
                let w = u64::from(*w);
                if ticket < w {
                    return Some(b.clone());
                }
                ticket -= w;
            }
            None
        }
    }
}

/// A cheap per-thread pseudo-random number (xorshift), good enough for load spreading.
fn fast_random() -> u64 {
    use std::cell::Cell;
    thread_local! {
        static STATE: Cell<u64> = Cell::new(
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0x9E37_79B9_7F4A_7C15) | 1,
        );
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        s.set(x);
        x
    })
}

/// The request's host, lower-case, without port (borrowed when already lower-case).
fn request_host<B>(req: &Request<B>) -> Cow<'_, str> {
    let raw = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host())
        .unwrap_or("");
    let host = if raw.starts_with('[') {
        raw.split(']').next().map(|h| &h[1..]).unwrap_or(raw)
    } else {
        raw.rsplit_once(':').map(|(h, _)| h).unwrap_or(raw)
    };
    if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(host.to_ascii_lowercase())
    } else {
        Cow::Borrowed(host)
    }
}

const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Removes hop-by-hop headers, including those named by `Connection`.
fn strip_hop_by_hop(headers: &mut http::HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Adds the client's address to `X-Forwarded-For` and sets `X-Forwarded-Proto`.
fn append_forwarded(headers: &mut http::HeaderMap, conn: Conn) {
    let client = conn.peer.ip().to_string();
    let value = match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
        Some(existing) => format!("{existing}, {client}"),
        None => client,
    };
    if let Ok(v) = HeaderValue::from_str(&value) {
        headers.insert("x-forwarded-for", v);
    }
    headers
        .entry("x-forwarded-proto")
        .or_insert(HeaderValue::from_static("http"));
}
