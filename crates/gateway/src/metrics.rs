//! Prometheus metrics of the gateway: requests by route and status, request
//! durations, config reloads.

use std::sync::{Arc, Mutex};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Labels of a proxied request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// `namespace/name` of the route, or `none` when no route matched.
    pub route: Arc<str>,
    /// HTTP status code sent to the client.
    pub status: u16,
}

/// Labels of a duration observation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// `namespace/name` of the route.
    pub route: Arc<str>,
}

/// Labels of a reload.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadLabels {
    /// `success` or `failure`.
    pub result: &'static str,
}

/// Labels of an MCP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct McpLabels {
    /// `Kind/namespace/name` of the MCP server.
    pub server: Arc<str>,
    /// JSON-RPC method.
    pub method: String,
    /// Tool name for `tools/call`, else empty.
    pub tool: String,
    /// `ok`, `error`, `timeout` or `guard_rejected`.
    pub outcome: &'static str,
}

/// Labels of an MCP latency observation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct McpMethodLabels {
    /// `Kind/namespace/name` of the MCP server.
    pub server: Arc<str>,
    /// JSON-RPC method.
    pub method: String,
}

/// Labels naming an MCP server.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct McpServerLabels {
    /// `Kind/namespace/name` of the MCP server.
    pub server: String,
}

/// Labels of LLM token counts.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenLabels {
    /// `namespace/name` of the route.
    pub route: Arc<str>,
    /// The model the request asked for (after aliases and defaults).
    pub model: String,
    /// The caller's principal, or `anonymous`.
    pub principal: Arc<str>,
    /// `input` or `output`.
    pub kind: &'static str,
}

/// Labels of a request refused by a rate limit.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    /// `namespace/name` of the route.
    pub route: Arc<str>,
    /// The policy whose limit refused it.
    pub policy: Arc<str>,
}

/// Every metric the gateway exports.
pub struct Metrics {
    registry: Mutex<Registry>,
    /// Requests handled, by route and status.
    pub requests: Family<RequestLabels, Counter>,
    /// Time to response headers, by route, in seconds.
    pub durations: Family<RouteLabels, Histogram>,
    /// Configuration reloads by result.
    pub reloads: Family<ReloadLabels, Counter>,
    /// Generation of the Plan being served.
    pub plan_generation: Gauge,
    /// Requests in flight.
    pub in_flight: Gauge,
    /// MCP requests by server, method, tool and outcome.
    pub mcp_requests: Family<McpLabels, Counter>,
    /// Time until an MCP request's answer, by server and method, in seconds.
    pub mcp_durations: Family<McpMethodLabels, Histogram>,
    /// Open MCP client sessions.
    pub mcp_sessions: Gauge,
    /// MCP upstreams started again after they died, by server.
    pub mcp_restarts: Family<McpServerLabels, Counter>,
    /// LLM tokens by route, model, principal and kind (input/output).
    pub llm_tokens: Family<TokenLabels, Counter>,
    /// Requests refused by a local rate limit, by route and policy.
    pub rate_limited: Family<LimitLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("palisade");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests handled, by route and status",
            requests.clone(),
        );
        let durations = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0, 30.0,
            ])
        });
        registry.register(
            "http_request_duration_seconds",
            "Time from request start to response headers, by route",
            durations.clone(),
        );
        let reloads = Family::<ReloadLabels, Counter>::default();
        registry.register(
            "config_reloads",
            "Configuration reloads, by result",
            reloads.clone(),
        );
        let plan_generation = Gauge::default();
        registry.register(
            "plan_generation",
            "Generation of the configuration Plan being served",
            plan_generation.clone(),
        );
        let in_flight = Gauge::default();
        registry.register(
            "http_requests_in_flight",
            "HTTP requests being handled",
            in_flight.clone(),
        );
        let mcp_requests = Family::<McpLabels, Counter>::default();
        registry.register(
            "mcp_requests",
            "MCP requests, by server, method, tool and outcome",
            mcp_requests.clone(),
        );
        let mcp_durations = Family::<McpMethodLabels, Histogram>::new_with_constructor(|| {
            Histogram::new([
                0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0,
            ])
        });
        registry.register(
            "mcp_request_duration_seconds",
            "Time until an MCP request's answer, by server and method",
            mcp_durations.clone(),
        );
        let mcp_sessions = Gauge::default();
        registry.register(
            "mcp_sessions",
            "Open MCP client sessions",
            mcp_sessions.clone(),
        );
        let mcp_restarts = Family::<McpServerLabels, Counter>::default();
        registry.register(
            "mcp_upstream_restarts",
            "MCP upstreams started again after they died, by server",
            mcp_restarts.clone(),
        );
        let llm_tokens = Family::<TokenLabels, Counter>::default();
        registry.register(
            "llm_tokens",
            "LLM tokens reported by providers, by route, model, principal and kind (input or output)",
            llm_tokens.clone(),
        );
        let rate_limited = Family::<LimitLabels, Counter>::default();
        registry.register(
            "rate_limited_requests",
            "Requests refused with 429 by a local rate limit, by route and policy",
            rate_limited.clone(),
        );
        Metrics {
            registry: Mutex::new(registry),
            llm_tokens,
            rate_limited,
            requests,
            durations,
            reloads,
            plan_generation,
            in_flight,
            mcp_requests,
            mcp_durations,
            mcp_sessions,
            mcp_restarts,
        }
    }

    /// Counts a reload.
    pub fn reload(&self, success: bool) {
        self.reloads
            .get_or_create(&ReloadLabels {
                result: if success { "success" } else { "failure" },
            })
            .inc();
    }

    /// Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        // Encoding into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}
