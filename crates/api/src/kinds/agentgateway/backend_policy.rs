//! `spec.backend` (and AgentgatewayBackend `policies`): how Palisade connects to a
//! backend — TCP, TLS origination, HTTP version, proxy tunnel, credentials, health —
//! plus the AI and MCP specific policies.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ai::AiPolicy;
use super::backend_auth::BackendAuth;
use super::external::ExtAuth;
use super::mcp_policy::McpPolicy;
use super::shared::{
    BackendObjectReference, CelExpression, Keepalive, KeyExchangeGroup, SecretObjectRef,
    check_endpoint, check_opt_cel, not_supported, opt_duration_min, opt_len, opt_range,
};
use super::transformation::Transformation;
use crate::check::{Check, Checker};

/// Where a backend policy tree appears; decides which members are allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendPolicyScope {
    /// AgentgatewayPolicy `spec.backend` and AgentgatewayBackend `spec.policies`: all members.
    Full,
    /// An AI provider's `policies`: no `mcp`, `extAuth`, `tokenExchange`.
    WithAi,
    /// An MCP static target's or guard service's `policies`: only tcp, tls, http, tunnel, auth.
    Simple,
}

/// Backend connection settings; at least one member is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendPolicy {
    /// TCP settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<BackendTcp>,
    /// Originate TLS (presence alone: system roots, SNI from the destination).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<BackendTls>,
    /// HTTP settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<BackendHttp>,
    /// CONNECT through a proxy (origin-only endpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<BackendTunnel>,
    /// CEL transformations towards this backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformation: Option<Transformation>,
    /// Passive health checking and eviction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health: Option<Health>,
    /// External authorization for requests to this backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_auth: Option<ExtAuth>,
    /// Credentials Palisade attaches towards the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<BackendAuth>,
    /// LLM policies (AI backends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai: Option<AiPolicy>,
    /// MCP policies (MCP backends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<McpPolicy>,
    /// Enterprise token exchange; parsed, rejected as not supported yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_exchange: Option<serde_json::Value>,
}

impl BackendPolicy {
    /// Names of the members that are set.
    pub fn set_fields(&self) -> Vec<&'static str> {
        [
            ("tcp", self.tcp.is_some()),
            ("tls", self.tls.is_some()),
            ("http", self.http.is_some()),
            ("tunnel", self.tunnel.is_some()),
            ("transformation", self.transformation.is_some()),
            ("health", self.health.is_some()),
            ("extAuth", self.ext_auth.is_some()),
            ("auth", self.auth.is_some()),
            ("ai", self.ai.is_some()),
            ("mcp", self.mcp.is_some()),
            ("tokenExchange", self.token_exchange.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| *set)
        .map(|(n, _)| n)
        .collect()
    }

    /// Runs the checks for the place the tree appears in.
    pub fn check_scope(&self, cx: &mut Checker, scope: BackendPolicyScope) {
        let fields = self.set_fields();
        if fields.is_empty() {
            cx.error(
                "the backend policy sets nothing",
                "set at least one member, e.g. tls or auth",
            );
        }
        let allowed: &[&str] = match scope {
            BackendPolicyScope::Full => &[],
            BackendPolicyScope::WithAi => &[
                "tcp",
                "tls",
                "http",
                "tunnel",
                "transformation",
                "health",
                "auth",
                "ai",
            ],
            BackendPolicyScope::Simple => &["tcp", "tls", "http", "tunnel", "auth"],
        };
        if scope != BackendPolicyScope::Full {
            for f in fields.iter().filter(|f| !allowed.contains(f)) {
                cx.error_at(
                    f,
                    format!("`{f}` is not allowed here"),
                    format!("allowed here: {}", allowed.join(", ")),
                );
            }
        }
        if let Some(tcp) = &self.tcp {
            cx.at("tcp", |cx| {
                cx.field("keepalive", &tcp.keepalive);
                opt_duration_min(
                    cx,
                    "connectTimeout",
                    &tcp.connect_timeout,
                    Duration::from_millis(100),
                    "100ms",
                );
            });
        }
        cx.field("tls", &self.tls);
        if let Some(http) = &self.http {
            opt_duration_min(
                cx,
                "http.requestTimeout",
                &http.request_timeout,
                Duration::from_millis(1),
                "1ms",
            );
        }
        if let Some(t) = &self.tunnel {
            cx.at("tunnel", |cx| {
                check_endpoint(cx, &t.backend_ref, &t.url, true, true)
            });
        }
        cx.field("transformation", &self.transformation);
        cx.field("health", &self.health);
        cx.field("extAuth", &self.ext_auth);
        cx.field("auth", &self.auth);
        cx.field("ai", &self.ai);
        cx.field("mcp", &self.mcp);
        if self.token_exchange.is_some() {
            not_supported(cx, "tokenExchange", "enterprise MCP token exchange");
        }
    }
}

impl Check for BackendPolicy {
    fn check(&self, cx: &mut Checker) {
        self.check_scope(cx, BackendPolicyScope::Full);
    }
}

/// Backend TCP settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendTcp {
    /// TCP keepalive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive: Option<Keepalive>,
    /// Connect deadline, at least 100ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<String>,
}

/// Where the client certificate and trust come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CertificateSource {
    /// From the referenced Secrets/ConfigMaps (the default).
    #[default]
    Inline,
    /// From the workload's SPIFFE identity.
    #[serde(rename = "SPIFFE")]
    Spiffe,
}

/// Relaxed certificate verification (insecure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InsecureSkipVerify {
    /// No verification at all.
    All,
    /// Verify the chain, not the host name.
    Hostname,
}

/// Kind of a CA bundle source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CaSourceKind {
    /// A ConfigMap (the default).
    #[default]
    ConfigMap,
    /// A Secret.
    Secret,
}

/// A CA bundle (key `ca.crt`) in the referrer's namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CaCertificateRef {
    /// Object name.
    pub name: String,
    /// ConfigMap (default) or Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<CaSourceKind>,
}

/// TLS origination towards the backend.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendTls {
    /// Certificate source; default `Inline`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_source: Option<CertificateSource>,
    /// Client certificate (`tls.crt`, `tls.key`, optional `ca.cert`); at most 1.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mtls_certificate_ref: Vec<SecretObjectRef>,
    /// CA bundle; at most 1; default system roots.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ca_certificate_refs: Vec<CaCertificateRef>,
    /// Skip verification (insecure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<InsecureSkipVerify>,
    /// SNI; default the destination host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// Accepted subject alt names, 1 to 16; default the destination host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verify_subject_alt_names: Vec<String>,
    /// ALPN protocols, 1 to 16; default `[h2, http/1.1]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alpn_protocols: Vec<String>,
    /// Key exchange groups, in preference order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub key_exchange_groups: Vec<KeyExchangeGroup>,
}

impl BackendTls {
    /// The effective certificate source.
    pub fn certificate_source(&self) -> CertificateSource {
        self.certificate_source.unwrap_or_default()
    }
}

impl Check for BackendTls {
    fn check(&self, cx: &mut Checker) {
        cx.len("mtlsCertificateRef", self.mtls_certificate_ref.len(), 0, 1);
        cx.len("caCertificateRefs", self.ca_certificate_refs.len(), 0, 1);
        opt_len(
            cx,
            "verifySubjectAltNames",
            self.verify_subject_alt_names.len(),
            1,
            16,
        );
        opt_len(cx, "alpnProtocols", self.alpn_protocols.len(), 1, 16);
        if self.insecure_skip_verify.is_some() && !self.verify_subject_alt_names.is_empty() {
            cx.error_at(
                "verifySubjectAltNames",
                "`insecureSkipVerify` and `verifySubjectAltNames` cannot be combined",
                "keep verifySubjectAltNames (safer) and drop insecureSkipVerify",
            );
        }
        if self.insecure_skip_verify == Some(InsecureSkipVerify::All)
            && !self.ca_certificate_refs.is_empty()
        {
            cx.error_at(
                "caCertificateRefs",
                "`insecureSkipVerify: All` ignores caCertificateRefs",
                "drop insecureSkipVerify, or use insecureSkipVerify: Hostname",
            );
        }
        if self.certificate_source() == CertificateSource::Spiffe {
            for (f, set) in [
                ("mtlsCertificateRef", !self.mtls_certificate_ref.is_empty()),
                ("caCertificateRefs", !self.ca_certificate_refs.is_empty()),
                ("insecureSkipVerify", self.insecure_skip_verify.is_some()),
            ] {
                if set {
                    cx.error_at(
                        f,
                        format!("`{f}` cannot be used with certificateSource SPIFFE"),
                        format!("remove `{f}`"),
                    );
                }
            }
        }
        if let Some(sni) = &self.sni
            && (!super::super::gateway_api::valid_hostname(sni) || sni.starts_with("*."))
        {
            cx.error_at(
                "sni",
                format!("invalid SNI {sni:?}"),
                "use a lower-case DNS name such as api.example.com",
            );
        }
        cx.list("mtlsCertificateRef", &self.mtls_certificate_ref);
        for (i, r) in self.ca_certificate_refs.iter().enumerate() {
            let kind = match r.kind.unwrap_or_default() {
                CaSourceKind::ConfigMap => "ConfigMap",
                CaSourceKind::Secret => "Secret",
            };
            cx.at_index("caCertificateRefs", i, |cx| {
                cx.reference("name", kind, None, &r.name, false)
            });
        }
    }
}

/// HTTP version towards the backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HttpVersion {
    /// HTTP/1.1.
    #[serde(rename = "HTTP1")]
    Http1,
    /// HTTP/2.
    #[serde(rename = "HTTP2")]
    Http2,
}

/// Backend HTTP settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendHttp {
    /// Version; default from appProtocol, gRPC detection or the client's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<HttpVersion>,
    /// Response deadline, at least 1ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timeout: Option<String>,
}

/// A CONNECT proxy in front of the backend (origin-only endpoint).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendTunnel {
    /// Proxy reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_ref: Option<BackendObjectReference>,
    /// Proxy URL (origin only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Passive health checking.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Health {
    /// CEL: a response is unhealthy when true; default 5xx or connect error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unhealthy_condition: Option<CelExpression>,
    /// Eviction of unhealthy endpoints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eviction: Option<Eviction>,
}

/// Eviction of unhealthy endpoints.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Eviction {
    /// Base eviction time (times the eviction count), at least 1s; default 3s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,
    /// Health score (0..100) on return; default the score at eviction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_health: Option<i64>,
    /// Consecutive unhealthy responses before eviction, at least 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consecutive_failures: Option<i64>,
    /// Evict when the moving health score drops below this (0..100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_threshold: Option<i64>,
}

impl Eviction {
    /// Base eviction time (default 3s).
    pub fn duration(&self) -> Duration {
        super::shared::parse_or(&self.duration, Duration::from_secs(3))
    }
}

impl Check for Health {
    fn check(&self, cx: &mut Checker) {
        check_opt_cel(cx, "unhealthyCondition", &self.unhealthy_condition);
        if let Some(e) = &self.eviction {
            cx.at("eviction", |cx| {
                opt_duration_min(cx, "duration", &e.duration, Duration::from_secs(1), "1s");
                opt_range(cx, "restoreHealth", e.restore_health, 0, 100);
                opt_range(
                    cx,
                    "consecutiveFailures",
                    e.consecutive_failures,
                    0,
                    i64::from(i32::MAX),
                );
                opt_range(cx, "healthThreshold", e.health_threshold, 0, 100);
            });
        }
    }
}
