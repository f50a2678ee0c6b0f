//! `spec.frontend`: how a Gateway accepts connections (TCP, TLS, HTTP limits, PROXY
//! protocol, CONNECT) and what it records (access logs, tracing, metric labels).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::shared::{
    BackendObjectReference, CelExpression, Keepalive, KeyExchangeGroup, NamedExpression,
    at_least_one, check_endpoint, check_opt_cel, check_quantity, opt_bytes, opt_duration_min,
    opt_len, opt_range,
};
use crate::check::{Check, Checker};
use crate::meta::IntOrString;

/// Listener-level settings; at least one member is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Frontend {
    /// Incoming TCP settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<FrontendTcp>,
    /// CEL authorization on connections, before any HTTP (e.g. by source address).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_authorization: Option<super::shared::Authorization>,
    /// Incoming TLS settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<FrontendTls>,
    /// Incoming HTTP settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<FrontendHttp>,
    /// PROXY protocol handling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_protocol: Option<ProxyProtocol>,
    /// HTTP CONNECT handling; unset = CONNECT answered with 405.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<Connect>,
    /// Access logging.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_log: Option<AccessLog>,
    /// OpenTelemetry tracing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing: Option<Tracing>,
    /// Extra Prometheus labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Metrics>,
}

impl Check for Frontend {
    fn check(&self, cx: &mut Checker) {
        at_least_one(
            cx,
            &[
                ("tcp", self.tcp.is_some()),
                ("networkAuthorization", self.network_authorization.is_some()),
                ("tls", self.tls.is_some()),
                ("http", self.http.is_some()),
                ("proxyProtocol", self.proxy_protocol.is_some()),
                ("connect", self.connect.is_some()),
                ("accessLog", self.access_log.is_some()),
                ("tracing", self.tracing.is_some()),
                ("metrics", self.metrics.is_some()),
            ],
        );
        if let Some(tcp) = &self.tcp {
            cx.field("tcp.keepalive", &tcp.keepalive);
        }
        cx.field("networkAuthorization", &self.network_authorization);
        cx.field("tls", &self.tls);
        cx.field("http", &self.http);
        cx.field("accessLog", &self.access_log);
        cx.field("tracing", &self.tracing);
        cx.field("metrics", &self.metrics);
    }
}

/// Incoming TCP settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FrontendTcp {
    /// TCP keepalive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive: Option<Keepalive>,
}

/// A TLS protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TlsVersion {
    /// TLS 1.2.
    #[serde(rename = "1.2")]
    Tls12,
    /// TLS 1.3.
    #[serde(rename = "1.3")]
    Tls13,
}

/// TLS cipher suites.
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CipherSuite {
    /// TLS 1.3 AES-256-GCM.
    TLS13_AES_256_GCM_SHA384,
    /// TLS 1.3 AES-128-GCM.
    TLS13_AES_128_GCM_SHA256,
    /// TLS 1.3 ChaCha20-Poly1305.
    TLS13_CHACHA20_POLY1305_SHA256,
    /// TLS 1.2 ECDHE-ECDSA AES-256-GCM.
    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    /// TLS 1.2 ECDHE-ECDSA AES-128-GCM.
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    /// TLS 1.2 ECDHE-ECDSA ChaCha20-Poly1305.
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    /// TLS 1.2 ECDHE-RSA AES-256-GCM.
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    /// TLS 1.2 ECDHE-RSA AES-128-GCM.
    TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    /// TLS 1.2 ECDHE-RSA ChaCha20-Poly1305.
    TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

/// Incoming TLS settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FrontendTls {
    /// Handshake deadline, at least 100ms; default 15s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handshake_timeout: Option<String>,
    /// ALPN protocols, 1 to 16; default `[h2, http/1.1]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alpn_protocols: Vec<String>,
    /// Lowest TLS version accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_protocol_version: Option<TlsVersion>,
    /// Highest TLS version accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_protocol_version: Option<TlsVersion>,
    /// Allowed cipher suites.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cipher_suites: Vec<CipherSuite>,
    /// Key exchange groups, in preference order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_exchange_groups: Vec<KeyExchangeGroup>,
}

impl FrontendTls {
    /// Handshake timeout (default 15s).
    pub fn handshake_timeout(&self) -> Duration {
        super::shared::parse_or(&self.handshake_timeout, Duration::from_secs(15))
    }
}

impl Check for FrontendTls {
    fn check(&self, cx: &mut Checker) {
        opt_duration_min(
            cx,
            "handshakeTimeout",
            &self.handshake_timeout,
            Duration::from_millis(100),
            "100ms",
        );
        opt_len(cx, "alpnProtocols", self.alpn_protocols.len(), 1, 16);
        if let (Some(min), Some(max)) = (self.min_protocol_version, self.max_protocol_version)
            && min > max
        {
            cx.error_at(
                "minProtocolVersion",
                "minProtocolVersion is above maxProtocolVersion",
                "swap the two versions",
            );
        }
    }
}

/// HTTP/1 header name casing on responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HeaderCase {
    /// Lower-case names.
    Lowercase,
    /// Keep the case the client used.
    Preserve,
}

/// Incoming HTTP settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FrontendHttp {
    /// Largest body buffered in memory (quantity); default 2Mi.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_buffer_size: Option<IntOrString>,
    /// Maximum HTTP/1 request headers, 1..4096; default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http1_max_headers: Option<i64>,
    /// Idle time before an HTTP/1 connection closes, at least 1s; default 10m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http1_idle_timeout: Option<String>,
    /// HTTP/1 header casing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http1_header_case: Option<HeaderCase>,
    /// HTTP/2 stream window (quantity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http2_window_size: Option<IntOrString>,
    /// HTTP/2 connection window (quantity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http2_connection_window_size: Option<IntOrString>,
    /// HTTP/2 maximum frame size, 16384..1677215; default 16Ki.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http2_frame_size: Option<IntOrString>,
    /// HTTP/2 maximum decoded header size (quantity); default 16Ki.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http2_max_header_size: Option<IntOrString>,
    /// HTTP/2 keepalive ping interval, at least 1s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http2_keepalive_interval: Option<String>,
    /// HTTP/2 keepalive ping timeout, at least 1s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http2_keepalive_timeout: Option<String>,
    /// Longest life of a connection, at least 1s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connection_duration: Option<String>,
}

impl FrontendHttp {
    /// Largest buffered body in bytes (default 2 MiB).
    pub fn max_buffer_size(&self) -> u64 {
        self.max_buffer_size
            .as_ref()
            .and_then(super::shared::quantity_bytes)
            .unwrap_or(2 * 1024 * 1024)
    }
}

impl Check for FrontendHttp {
    fn check(&self, cx: &mut Checker) {
        opt_bytes(cx, "maxBufferSize", &self.max_buffer_size);
        opt_range(cx, "http1MaxHeaders", self.http1_max_headers, 1, 4096);
        let one = Duration::from_secs(1);
        opt_duration_min(cx, "http1IdleTimeout", &self.http1_idle_timeout, one, "1s");
        opt_bytes(cx, "http2WindowSize", &self.http2_window_size);
        opt_bytes(
            cx,
            "http2ConnectionWindowSize",
            &self.http2_connection_window_size,
        );
        if let Some(q) = &self.http2_frame_size {
            check_quantity(cx, "http2FrameSize", q, 16384, 1_677_215);
        }
        opt_bytes(cx, "http2MaxHeaderSize", &self.http2_max_header_size);
        opt_duration_min(
            cx,
            "http2KeepaliveInterval",
            &self.http2_keepalive_interval,
            one,
            "1s",
        );
        opt_duration_min(
            cx,
            "http2KeepaliveTimeout",
            &self.http2_keepalive_timeout,
            one,
            "1s",
        );
        opt_duration_min(
            cx,
            "maxConnectionDuration",
            &self.max_connection_duration,
            one,
            "1s",
        );
    }
}

/// PROXY protocol versions accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProxyProtocolVersion {
    /// Version 1 (text).
    V1,
    /// Version 2 (binary), the default.
    #[default]
    V2,
    /// Either version.
    All,
}

/// Whether the PROXY header is mandatory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProxyProtocolMode {
    /// Required (the default).
    #[default]
    Strict,
    /// Accepted when present.
    Optional,
}

/// PROXY protocol handling.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProxyProtocol {
    /// Version; default V2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<ProxyProtocolVersion>,
    /// Mode; default Strict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ProxyProtocolMode>,
}

/// What to do with HTTP CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConnectMode {
    /// Reject CONNECT.
    Deny,
    /// Route CONNECT like a request, then tunnel to the chosen backend.
    Route,
    /// Tunnel the upgraded stream back through the gateway as a new connection.
    Tunnel,
}

/// HTTP CONNECT handling.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Connect {
    /// Mode.
    pub mode: ConnectMode,
}

/// Edits to the default log fields or trace attributes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LogAttributes {
    /// Default fields to drop, e.g. `http.method`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
    /// Fields to add, valued by CEL (a failing expression drops the field).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<NamedExpression>,
}

impl Check for LogAttributes {
    fn check(&self, cx: &mut Checker) {
        at_least_one(
            cx,
            &[
                ("remove", !self.remove.is_empty()),
                ("add", !self.add.is_empty()),
            ],
        );
        cx.len("remove", self.remove.len(), 0, 32);
        cx.len("add", self.add.len(), 0, 64);
        cx.list("add", &self.add);
    }
}

/// OTLP wire protocol.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum OtlpProtocol {
    /// OTLP over gRPC (the default).
    #[default]
    #[serde(rename = "GRPC")]
    Grpc,
    /// OTLP over HTTP.
    #[serde(rename = "HTTP")]
    Http,
}

fn check_otlp_path(cx: &mut Checker, protocol: Option<OtlpProtocol>, path: &Option<String>) {
    if let Some(p) = path {
        if protocol.unwrap_or_default() != OtlpProtocol::Http {
            cx.error_at(
                "path",
                "`path` is only used with protocol HTTP",
                "set protocol: HTTP, or remove path",
            );
        }
        if !p.starts_with('/') {
            cx.error_at(
                "path",
                format!("path {p:?} must start with '/'"),
                "e.g. /v1/logs",
            );
        }
    }
}

/// Access log settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessLog {
    /// CEL filter: a line is written only when true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<CelExpression>,
    /// Field edits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<LogAttributes>,
    /// Export to an OTLP collector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otlp: Option<OtlpAccessLog>,
}

impl Check for AccessLog {
    fn check(&self, cx: &mut Checker) {
        check_opt_cel(cx, "filter", &self.filter);
        cx.field("attributes", &self.attributes);
        cx.field("otlp", &self.otlp);
    }
}

/// OTLP access log export.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OtlpAccessLog {
    /// Collector reference (Service or AgentgatewayBackend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_ref: Option<BackendObjectReference>,
    /// Collector URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// CEL filter for exported lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<CelExpression>,
    /// Field edits for exported lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<LogAttributes>,
    /// Protocol; default GRPC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<OtlpProtocol>,
    /// OTLP/HTTP path; default `/v1/logs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Check for OtlpAccessLog {
    fn check(&self, cx: &mut Checker) {
        check_endpoint(cx, &self.backend_ref, &self.url, true, false);
        check_opt_cel(cx, "filter", &self.filter);
        cx.field("attributes", &self.attributes);
        check_otlp_path(cx, self.protocol, &self.path);
    }
}

/// OpenTelemetry tracing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tracing {
    /// Collector reference (Service or AgentgatewayBackend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_ref: Option<BackendObjectReference>,
    /// Collector URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Protocol; default GRPC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<OtlpProtocol>,
    /// OTLP/HTTP path; default `/v1/traces`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Span attribute edits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<LogAttributes>,
    /// Resource attributes, valued by CEL.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<NamedExpression>,
    /// CEL: sampling ratio (0.0..1.0 or bool) for requests without a trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random_sampling: Option<CelExpression>,
    /// CEL: sampling ratio for requests that carry a trace; default all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_sampling: Option<CelExpression>,
    /// CEL filter: a span is recorded only when true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<CelExpression>,
}

impl Check for Tracing {
    fn check(&self, cx: &mut Checker) {
        check_endpoint(cx, &self.backend_ref, &self.url, true, false);
        check_otlp_path(cx, self.protocol, &self.path);
        cx.field("attributes", &self.attributes);
        cx.list("resources", &self.resources);
        check_opt_cel(cx, "randomSampling", &self.random_sampling);
        check_opt_cel(cx, "clientSampling", &self.client_sampling);
        check_opt_cel(cx, "filter", &self.filter);
    }
}

/// Extra Prometheus labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Metrics {
    /// Label definitions.
    pub attributes: MetricAttributes,
}

/// Labels added to every metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MetricAttributes {
    /// Labels, 1 to 16, valued by CEL (a failing expression gives `unknown`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<NamedExpression>,
}

impl Check for Metrics {
    fn check(&self, cx: &mut Checker) {
        cx.at("attributes", |cx| {
            cx.len("add", self.attributes.add.len(), 1, 16);
            super::shared::unique(
                cx,
                "add",
                "label name",
                self.attributes.add.iter().map(|a| a.name.as_str()),
            );
            cx.list("add", &self.attributes.add);
        });
    }
}
