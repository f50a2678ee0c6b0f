//! Gateway API (`gateway.networking.k8s.io/v1`): `Gateway` and `HTTPRoute`, plus the
//! shared pieces (backend references, header matches and filters, CORS, retries) that the
//! agentgateway kinds reuse.
//!
//! Defaults are documented and exposed through accessors (`effective_*`), never filled
//! in at parse time, so that a manifest serializes back as written.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::check::{Check, Checker};
use crate::kinds::agentgateway::shared::{
    at_least_one, opt_duration, opt_len, opt_range, str_len, wildcard_alone,
};
use crate::meta::{LabelSelector, Object};

/// The Gateway API group.
pub const GROUP: &str = "gateway.networking.k8s.io";

// ---------------------------------------------------------------------------------------
// Small validators
// ---------------------------------------------------------------------------------------

/// Whether `name` is a valid HTTP header name (an RFC 7230 token).
pub fn valid_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Whether `host` is a valid hostname for routes and listeners: DNS labels, optionally
/// starting with a `*.` wildcard label; no IP addresses, no port.
pub fn valid_hostname(host: &str) -> bool {
    let rest = host.strip_prefix("*.").unwrap_or(host);
    if rest.is_empty() || host.len() > 253 || rest.parse::<std::net::IpAddr>().is_ok() {
        return false;
    }
    rest.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    })
}

/// Whether `name` is a valid Gateway API section name (DNS-1123 subdomain style).
pub fn valid_section_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn check_section_name(cx: &mut Checker, field: &str, name: &Option<String>) {
    if let Some(name) = name
        && !valid_section_name(name)
    {
        cx.error_at(
            field,
            format!("invalid section name {name:?}"),
            "use lower-case letters, digits, '-' and '.', e.g. http or rule-1",
        );
    }
}

fn check_hostname(cx: &mut Checker, field: &str, host: &str) {
    if !valid_hostname(host) {
        cx.error_at(
            field,
            format!("invalid hostname {host:?}"),
            "use a lower-case DNS name, optionally starting with \"*.\", without port or IP address",
        );
    }
}

// ---------------------------------------------------------------------------------------
// References
// ---------------------------------------------------------------------------------------

/// A reference to a backend (`BackendObjectReference`): group `""` and kind `Service` by
/// default; the namespace defaults to the referrer's. A core Service needs a `port`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendObjectReference {
    /// API group; default `""` (core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind; default `Service`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name of the referent.
    pub name: String,
    /// Namespace; default the referrer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Port, 1..65535; required for a core Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
}

impl BackendObjectReference {
    /// The group (`""` when unset).
    pub fn effective_group(&self) -> &str {
        self.group.as_deref().unwrap_or("")
    }

    /// The kind (`Service` when unset).
    pub fn effective_kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("Service")
    }

    /// Whether this names a core-group Service.
    pub fn is_service(&self) -> bool {
        self.effective_group().is_empty() && self.effective_kind() == "Service"
    }

    /// The namespace, defaulting to `referrer_namespace`.
    pub fn namespace_or<'a>(&'a self, referrer_namespace: &'a str) -> &'a str {
        self.namespace.as_deref().unwrap_or(referrer_namespace)
    }

    /// The port as u16 (when set and valid).
    pub fn port(&self) -> Option<u16> {
        self.port
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p > 0)
    }
}

impl Check for BackendObjectReference {
    fn check(&self, cx: &mut Checker) {
        if self.name.is_empty() {
            cx.error_at(
                "name",
                "backendRef has an empty name",
                "name the Service or backend to reach",
            );
        }
        opt_range(cx, "port", self.port, 1, 65535);
        if self.is_service() && self.port.is_none() {
            cx.error_at(
                "port",
                "a Service backendRef needs a port",
                "add `port:` with the Service port to use",
            );
        }
        cx.reference(
            "",
            self.effective_kind(),
            self.namespace.as_deref(),
            &self.name,
            false,
        );
    }
}

/// A reference to a Secret holding a listener certificate (`SecretObjectReference`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretObjectReference {
    /// API group; default `""`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind; default `Secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name of the Secret.
    pub name: String,
    /// Namespace; default the Gateway's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl SecretObjectReference {
    /// The kind (`Secret` when unset).
    pub fn effective_kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("Secret")
    }
}

impl Check for SecretObjectReference {
    fn check(&self, cx: &mut Checker) {
        let group = self.group.as_deref().unwrap_or("");
        if !group.is_empty() || self.effective_kind() != "Secret" {
            cx.error(
                format!(
                    "unsupported certificate reference {}/{}",
                    group,
                    self.effective_kind()
                ),
                "reference a core Secret (group \"\", kind Secret)",
            );
        }
        cx.reference("", "Secret", self.namespace.as_deref(), &self.name, false);
    }
}

/// A same-namespace reference by group, kind and name (`LocalObjectReference`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalObjectReference {
    /// API group.
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
}

// ---------------------------------------------------------------------------------------
// Shared route pieces
// ---------------------------------------------------------------------------------------

/// An HTTP method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    /// GET
    Get,
    /// HEAD
    Head,
    /// POST
    Post,
    /// PUT
    Put,
    /// DELETE
    Delete,
    /// CONNECT
    Connect,
    /// OPTIONS
    Options,
    /// TRACE
    Trace,
    /// PATCH
    Patch,
}

impl HttpMethod {
    /// The method as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Connect => "CONNECT",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Trace => "TRACE",
            HttpMethod::Patch => "PATCH",
        }
    }
}

/// An HTTP method or `*` (CORS `allowMethods`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CorsMethod {
    /// GET
    #[serde(rename = "GET")]
    Get,
    /// HEAD
    #[serde(rename = "HEAD")]
    Head,
    /// POST
    #[serde(rename = "POST")]
    Post,
    /// PUT
    #[serde(rename = "PUT")]
    Put,
    /// DELETE
    #[serde(rename = "DELETE")]
    Delete,
    /// CONNECT
    #[serde(rename = "CONNECT")]
    Connect,
    /// OPTIONS
    #[serde(rename = "OPTIONS")]
    Options,
    /// TRACE
    #[serde(rename = "TRACE")]
    Trace,
    /// PATCH
    #[serde(rename = "PATCH")]
    Patch,
    /// Any method.
    #[serde(rename = "*")]
    Any,
}

/// How a header or query parameter value is compared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValueMatchType {
    /// Exact string equality (the default).
    #[default]
    Exact,
    /// A regular expression (Rust `regex` syntax).
    RegularExpression,
}

/// A request header match: `name` compared case-insensitively, `value` by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpHeaderMatch {
    /// Comparison; default `Exact`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<ValueMatchType>,
    /// Header name.
    pub name: String,
    /// Value to compare, 1..4096 chars.
    pub value: String,
}

impl HttpHeaderMatch {
    /// The effective comparison.
    pub fn match_type(&self) -> ValueMatchType {
        self.type_.unwrap_or_default()
    }
}

impl Check for HttpHeaderMatch {
    fn check(&self, cx: &mut Checker) {
        if !valid_header_name(&self.name) {
            cx.error_at(
                "name",
                format!("invalid header name {:?}", self.name),
                "use a header token such as x-user",
            );
        }
        str_len(cx, "value", &self.value, 1, 4096);
        if self.match_type() == ValueMatchType::RegularExpression {
            cx.regex("value", &self.value);
        }
    }
}

/// A query parameter match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpQueryParamMatch {
    /// Comparison; default `Exact`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<ValueMatchType>,
    /// Parameter name (exact, case-sensitive).
    pub name: String,
    /// Value to compare, 1..1024 chars.
    pub value: String,
}

impl HttpQueryParamMatch {
    /// The effective comparison.
    pub fn match_type(&self) -> ValueMatchType {
        self.type_.unwrap_or_default()
    }
}

impl Check for HttpQueryParamMatch {
    fn check(&self, cx: &mut Checker) {
        str_len(cx, "name", &self.name, 1, 256);
        str_len(cx, "value", &self.value, 1, 1024);
        if self.match_type() == ValueMatchType::RegularExpression {
            cx.regex("value", &self.value);
        }
    }
}

/// A literal header `name: value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpHeader {
    /// Header name.
    pub name: String,
    /// Header value (literal, not CEL).
    pub value: String,
}

/// Header edits with literal values: `set` replaces, `add` appends, `remove` deletes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpHeaderFilter {
    /// Headers to set (at most 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub set: Vec<HttpHeader>,
    /// Headers to append (at most 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub add: Vec<HttpHeader>,
    /// Header names to remove (at most 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<String>,
}

impl Check for HttpHeaderFilter {
    fn check(&self, cx: &mut Checker) {
        cx.len("set", self.set.len(), 0, 16);
        cx.len("add", self.add.len(), 0, 16);
        cx.len("remove", self.remove.len(), 0, 16);
        for (field, list) in [("set", &self.set), ("add", &self.add)] {
            for (i, h) in list.iter().enumerate() {
                if !valid_header_name(&h.name) {
                    cx.at_index(field, i, |cx| {
                        cx.error_at(
                            "name",
                            format!("invalid header name {:?}", h.name),
                            "use a header token such as x-request-source",
                        )
                    });
                }
            }
            crate::kinds::agentgateway::shared::unique(
                cx,
                field,
                "header name",
                list.iter().map(|h| h.name.as_str()),
            );
        }
        for (i, name) in self.remove.iter().enumerate() {
            if !valid_header_name(name) {
                cx.at_index("remove", i, |cx| {
                    cx.error(
                        format!("invalid header name {name:?}"),
                        "use a header token",
                    )
                });
            }
        }
    }
}

fn valid_origin(origin: &str) -> bool {
    if origin == "*" {
        return true;
    }
    let rest = match origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    {
        Some(r) => r,
        None => return false,
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let host_ok = {
        let h = host.strip_prefix("*.").unwrap_or(host);
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    };
    host_ok && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0))
}

/// CORS settings (`HTTPCORSFilter`), used by the HTTPRoute `CORS` filter and by
/// agentgateway `traffic.cors`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpCorsFilter {
    /// Allowed origins (at most 64): `*` alone, or `http(s)://host[:port]`, host may
    /// start with `*.`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_origins: Vec<String>,
    /// Whether credentials are allowed (`Access-Control-Allow-Credentials`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_credentials: Option<bool>,
    /// Allowed methods (at most 9); `*` only alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_methods: Vec<CorsMethod>,
    /// Allowed request headers (at most 64); `*` only alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_headers: Vec<String>,
    /// Response headers exposed to scripts (at most 64).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expose_headers: Vec<String>,
    /// Seconds a preflight may be cached, at least 1; default 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
}

impl HttpCorsFilter {
    /// Preflight cache lifetime in seconds (default 5).
    pub fn max_age(&self) -> i64 {
        self.max_age.unwrap_or(5)
    }
}

impl Check for HttpCorsFilter {
    fn check(&self, cx: &mut Checker) {
        cx.len("allowOrigins", self.allow_origins.len(), 0, 64);
        wildcard_alone(
            cx,
            "allowOrigins",
            self.allow_origins.iter().map(String::as_str),
        );
        for (i, origin) in self.allow_origins.iter().enumerate() {
            if !valid_origin(origin) {
                cx.at_index("allowOrigins", i, |cx| {
                    cx.error(
                        format!("invalid origin {origin:?}"),
                        "use \"*\" or scheme://host[:port], e.g. https://app.example.com or https://*.example.com",
                    )
                });
            }
        }
        cx.len("allowMethods", self.allow_methods.len(), 0, 9);
        if self.allow_methods.len() > 1 && self.allow_methods.contains(&CorsMethod::Any) {
            cx.error_at(
                "allowMethods",
                "`*` must be the only entry when used",
                "use either [\"*\"] or a list of methods",
            );
        }
        cx.len("allowHeaders", self.allow_headers.len(), 0, 64);
        wildcard_alone(
            cx,
            "allowHeaders",
            self.allow_headers.iter().map(String::as_str),
        );
        cx.len("exposeHeaders", self.expose_headers.len(), 0, 64);
        for (field, list) in [
            ("allowHeaders", &self.allow_headers),
            ("exposeHeaders", &self.expose_headers),
        ] {
            for (i, h) in list.iter().enumerate() {
                if h != "*" && !valid_header_name(h) {
                    cx.at_index(field, i, |cx| {
                        cx.error(
                            format!("invalid header name {h:?}"),
                            "use a header token or \"*\"",
                        )
                    });
                }
            }
        }
        if let Some(age) = self.max_age {
            cx.range("maxAge", age, 1, i64::from(i32::MAX));
        }
    }
}

/// Retry settings (`HTTPRouteRetry`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpRouteRetry {
    /// Response codes (400..599) that trigger a retry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<i64>,
    /// Maximum retries (not counting the first try).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<i64>,
    /// Minimum time between attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<String>,
}

impl Check for HttpRouteRetry {
    fn check(&self, cx: &mut Checker) {
        for (i, code) in self.codes.iter().enumerate() {
            cx.at_index("codes", i, |cx| cx.range("", *code, 400, 599));
        }
        opt_range(cx, "attempts", self.attempts, 0, i64::from(i32::MAX));
        opt_duration(cx, "backoff", &self.backoff);
    }
}

// ---------------------------------------------------------------------------------------
// Gateway
// ---------------------------------------------------------------------------------------

/// `Gateway.spec`: a set of listeners.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewaySpec {
    /// GatewayClass name (`agentgateway`, or `enterprise-agentgateway` on Solo).
    pub gateway_class_name: String,
    /// Listeners, 1 to 64; names unique.
    pub listeners: Vec<Listener>,
    /// Requested addresses (at most 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<GatewayAddress>,
    /// Infrastructure labels, annotations and parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infrastructure: Option<GatewayInfrastructure>,
}

impl GatewaySpec {
    /// The listener named `name` (a `sectionName`).
    pub fn listener(&self, name: &str) -> Option<&Listener> {
        self.listeners.iter().find(|l| l.name == name)
    }
}

impl Check for GatewaySpec {
    fn check(&self, cx: &mut Checker) {
        if self.gateway_class_name.is_empty() {
            cx.error_at(
                "gatewayClassName",
                "gatewayClassName is empty",
                "set it, e.g. gatewayClassName: agentgateway",
            );
        }
        cx.len("listeners", self.listeners.len(), 1, 64);
        crate::kinds::agentgateway::shared::unique(
            cx,
            "listeners",
            "listener name",
            self.listeners.iter().map(|l| l.name.as_str()),
        );
        let mut seen = BTreeSet::new();
        for (i, l) in self.listeners.iter().enumerate() {
            let key = (
                l.port,
                l.protocol.clone(),
                l.hostname.clone().unwrap_or_default(),
            );
            if !seen.insert(key) {
                cx.at_index("listeners", i, |cx| {
                    cx.error(
                        "another listener has the same port, protocol and hostname",
                        "change the port or hostname of one of them",
                    )
                });
            }
        }
        cx.list("listeners", &self.listeners);
        cx.len("addresses", self.addresses.len(), 0, 16);
        cx.list("addresses", &self.addresses);
    }
}

/// A well-known listener protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListenerProtocol {
    /// Plain HTTP.
    Http,
    /// HTTP over TLS.
    Https,
    /// TLS (terminated or passed through).
    Tls,
    /// Raw TCP.
    Tcp,
    /// UDP.
    Udp,
}

/// One listener of a Gateway.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Listener {
    /// Listener name (section name), unique in the Gateway.
    pub name: String,
    /// Hostname routes must match; may start with `*.`; unset = any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Port, 1..65535.
    pub port: i64,
    /// `HTTP`, `HTTPS`, `TLS`, `TCP`, `UDP`, or a domain-prefixed custom protocol.
    pub protocol: String,
    /// TLS settings (HTTPS and TLS listeners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<ListenerTls>,
    /// Which routes may attach; default: routes in the Gateway's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_routes: Option<AllowedRoutes>,
}

impl Listener {
    /// The protocol when it is a core one, `None` for custom (domain-prefixed) protocols.
    pub fn protocol_kind(&self) -> Option<ListenerProtocol> {
        match self.protocol.as_str() {
            "HTTP" => Some(ListenerProtocol::Http),
            "HTTPS" => Some(ListenerProtocol::Https),
            "TLS" => Some(ListenerProtocol::Tls),
            "TCP" => Some(ListenerProtocol::Tcp),
            "UDP" => Some(ListenerProtocol::Udp),
            _ => None,
        }
    }

    /// The namespaces routes may attach from (default `Same`).
    pub fn routes_from(&self) -> FromNamespaces {
        self.allowed_routes
            .as_ref()
            .and_then(|a| a.namespaces.as_ref())
            .and_then(|n| n.from)
            .unwrap_or_default()
    }
}

impl Check for Listener {
    fn check(&self, cx: &mut Checker) {
        if !valid_section_name(&self.name) {
            cx.error_at(
                "name",
                format!("invalid listener name {:?}", self.name),
                "use lower-case letters, digits and '-', e.g. http",
            );
        }
        cx.range("port", self.port, 1, 65535);
        if let Some(h) = &self.hostname {
            check_hostname(cx, "hostname", h);
        }
        let kind = self.protocol_kind();
        if kind.is_none() && !self.protocol.contains('/') {
            cx.error_at(
                "protocol",
                format!("unknown listener protocol {:?}", self.protocol),
                "use HTTP, HTTPS, TLS, TCP or UDP (or a domain-prefixed protocol such as example.com/proto)",
            );
        }
        match (kind, &self.tls) {
            (
                Some(ListenerProtocol::Http | ListenerProtocol::Tcp | ListenerProtocol::Udp),
                Some(_),
            ) => cx.error_at(
                "tls",
                format!("`tls` is not allowed on a {} listener", self.protocol),
                "remove `tls`, or use protocol HTTPS or TLS",
            ),
            (Some(ListenerProtocol::Https | ListenerProtocol::Tls), None) => cx.error_at(
                "tls",
                format!("a {} listener needs `tls`", self.protocol),
                "add tls.certificateRefs naming the certificate Secret",
            ),
            _ => {}
        }
        if let Some(tls) = &self.tls {
            cx.at("tls", |cx| {
                if kind == Some(ListenerProtocol::Https) && tls.mode() == TlsMode::Passthrough {
                    cx.error_at(
                        "mode",
                        "an HTTPS listener must terminate TLS",
                        "use mode: Terminate, or protocol TLS for passthrough",
                    );
                }
                tls.check(cx);
            });
        }
        cx.field("allowedRoutes", &self.allowed_routes);
    }
}

/// TLS handling of a listener.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TlsMode {
    /// Terminate TLS at the gateway (the default).
    #[default]
    Terminate,
    /// Pass the TLS stream through by SNI.
    Passthrough,
}

/// Listener TLS settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ListenerTls {
    /// Terminate (default) or Passthrough.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<TlsMode>,
    /// Certificate Secrets (at most 64).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certificate_refs: Vec<SecretObjectReference>,
    /// Implementation-specific options.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

impl ListenerTls {
    /// The effective mode (`Terminate`).
    pub fn mode(&self) -> TlsMode {
        self.mode.unwrap_or_default()
    }
}

impl Check for ListenerTls {
    fn check(&self, cx: &mut Checker) {
        cx.len("certificateRefs", self.certificate_refs.len(), 0, 64);
        if self.mode() == TlsMode::Terminate
            && self.certificate_refs.is_empty()
            && self.options.is_empty()
        {
            cx.error_at(
                "certificateRefs",
                "terminating TLS needs a certificate",
                "add certificateRefs: [{name: <tls Secret>}] (or options)",
            );
        }
        cx.list("certificateRefs", &self.certificate_refs);
    }
}

/// Which namespaces may attach routes to a listener.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FromNamespaces {
    /// Only the Gateway's namespace (the default).
    #[default]
    Same,
    /// Every namespace.
    All,
    /// Namespaces matching `selector`.
    Selector,
}

/// Namespace rule of [`AllowedRoutes`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteNamespaces {
    /// Same (default), All or Selector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<FromNamespaces>,
    /// Namespace selector, required with `from: Selector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
}

/// A route kind a listener accepts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RouteGroupKind {
    /// Group; default `gateway.networking.k8s.io`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind, e.g. `HTTPRoute`.
    pub kind: String,
}

/// Which routes may attach to a listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllowedRoutes {
    /// Namespace rule; default `from: Same`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<RouteNamespaces>,
    /// Route kinds (at most 8); default: those the protocol supports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kinds: Vec<RouteGroupKind>,
}

impl Check for AllowedRoutes {
    fn check(&self, cx: &mut Checker) {
        if let Some(ns) = &self.namespaces {
            cx.at("namespaces", |cx| {
                let from = ns.from.unwrap_or_default();
                if from == FromNamespaces::Selector && ns.selector.is_none() {
                    cx.error_at(
                        "selector",
                        "`from: Selector` needs a selector",
                        "add selector.matchLabels",
                    );
                }
                cx.field("selector", &ns.selector);
            });
        }
        cx.len("kinds", self.kinds.len(), 0, 8);
    }
}

/// A requested Gateway address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayAddress {
    /// `IPAddress` (default), `Hostname`, `NamedAddress` or domain-prefixed.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// The address.
    pub value: String,
}

impl Check for GatewayAddress {
    fn check(&self, cx: &mut Checker) {
        let t = self.type_.as_deref().unwrap_or("IPAddress");
        match t {
            "IPAddress" if self.value.parse::<std::net::IpAddr>().is_err() => cx.error_at(
                "value",
                format!("{:?} is not an IP address", self.value),
                "give an IPv4 or IPv6 address, or set type: Hostname",
            ),
            "Hostname" => check_hostname(cx, "value", &self.value),
            "IPAddress" | "NamedAddress" => {}
            other if !other.contains('/') => cx.error_at(
                "type",
                format!("unknown address type {other:?}"),
                "use IPAddress, Hostname or NamedAddress",
            ),
            _ => {}
        }
    }
}

/// Labels, annotations and parameters for the infrastructure a Gateway creates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GatewayInfrastructure {
    /// Labels for generated resources.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations for generated resources.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Implementation-specific parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters_ref: Option<LocalObjectReference>,
}

/// A Gateway.
pub type Gateway = Object<GatewaySpec>;
crate::impl_kind!(Gateway, group "gateway.networking.k8s.io", versions ["v1"], kind "Gateway", plural "gateways", short ["gtw"], namespaced true);

// ---------------------------------------------------------------------------------------
// HTTPRoute
// ---------------------------------------------------------------------------------------

/// `HTTPRoute.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpRouteSpec {
    /// Gateways (or listeners) to attach to (at most 32).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parent_refs: Vec<ParentReference>,
    /// Hostnames to match (at most 16); empty = the listener's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    /// Rules, 1 to 16; absent = one rule matching PathPrefix `/` with no backends.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<HttpRouteRule>,
}

impl HttpRouteSpec {
    /// The rules, or the single default rule when none is written.
    pub fn effective_rules(&self) -> Cow<'_, [HttpRouteRule]> {
        if self.rules.is_empty() {
            Cow::Owned(vec![HttpRouteRule::default()])
        } else {
            Cow::Borrowed(&self.rules)
        }
    }
}

impl Check for HttpRouteSpec {
    fn check(&self, cx: &mut Checker) {
        cx.len("parentRefs", self.parent_refs.len(), 0, 32);
        cx.list("parentRefs", &self.parent_refs);
        cx.len("hostnames", self.hostnames.len(), 0, 16);
        for (i, h) in self.hostnames.iter().enumerate() {
            cx.at_index("hostnames", i, |cx| check_hostname(cx, "", h));
        }
        opt_len(cx, "rules", self.rules.len(), 1, 16);
        let total: usize = self.rules.iter().map(|r| r.matches.len()).sum();
        if total > 128 {
            cx.error_at(
                "rules",
                format!("the rules have {total} matches in total"),
                "use at most 128 matches across all rules",
            );
        }
        crate::kinds::agentgateway::shared::unique(
            cx,
            "rules",
            "rule name",
            self.rules.iter().map(|r| r.name.as_deref().unwrap_or("")),
        );
        cx.list("rules", &self.rules);
    }
}

/// A reference from a route to the Gateway (or listener) it attaches to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ParentReference {
    /// Group; default `gateway.networking.k8s.io`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind; default `Gateway`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Namespace; default the route's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the parent.
    pub name: String,
    /// Listener name to attach to; unset = every listener that allows the route.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
    /// Listener port to attach to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
}

impl ParentReference {
    /// The group (`gateway.networking.k8s.io` when unset).
    pub fn effective_group(&self) -> &str {
        self.group.as_deref().unwrap_or(GROUP)
    }

    /// The kind (`Gateway` when unset).
    pub fn effective_kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("Gateway")
    }

    /// The namespace, defaulting to the route's.
    pub fn namespace_or<'a>(&'a self, route_namespace: &'a str) -> &'a str {
        self.namespace.as_deref().unwrap_or(route_namespace)
    }
}

impl Check for ParentReference {
    fn check(&self, cx: &mut Checker) {
        if self.effective_group() != GROUP || self.effective_kind() != "Gateway" {
            cx.error(
                format!(
                    "unsupported parentRef {}/{}",
                    self.effective_group(),
                    self.effective_kind()
                ),
                "attach routes to a Gateway (group gateway.networking.k8s.io, kind Gateway)",
            );
        }
        check_section_name(cx, "sectionName", &self.section_name);
        opt_range(cx, "port", self.port, 1, 65535);
        cx.reference(
            "",
            self.effective_kind(),
            self.namespace.as_deref(),
            &self.name,
            false,
        );
    }
}

/// One routing rule: matches (OR-ed), filters, backends.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpRouteRule {
    /// Rule name (section name), for policy targeting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Matches (at most 64), OR-ed; absent = PathPrefix `/`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<HttpRouteMatch>,
    /// Filters applied in order (at most 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<HttpRouteFilter>,
    /// Backends (at most 16), chosen by weight; none = 500 (or the filter's answer).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backend_refs: Vec<HttpBackendRef>,
    /// Timeouts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<HttpRouteTimeouts>,
    /// Retries (experimental channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<HttpRouteRetry>,
    /// Session persistence (experimental channel; accepted, not typed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_persistence: Option<serde_json::Value>,
}

impl HttpRouteRule {
    /// The matches, or the single default match (PathPrefix `/`) when none is written.
    pub fn effective_matches(&self) -> Cow<'_, [HttpRouteMatch]> {
        if self.matches.is_empty() {
            Cow::Owned(vec![HttpRouteMatch::default()])
        } else {
            Cow::Borrowed(&self.matches)
        }
    }
}

fn check_path_modifier_prefix(
    cx: &mut Checker,
    rule: &HttpRouteRule,
    field: &str,
    filter: &HttpRouteFilter,
) {
    let path = match filter.filter_type {
        HttpRouteFilterType::UrlRewrite => {
            filter.url_rewrite.as_ref().and_then(|u| u.path.as_ref())
        }
        HttpRouteFilterType::RequestRedirect => filter
            .request_redirect
            .as_ref()
            .and_then(|r| r.path.as_ref()),
        _ => None,
    };
    if path.is_some_and(|p| p.type_ == PathModifierType::ReplacePrefixMatch) {
        let matches = rule.effective_matches();
        let ok = matches.len() == 1 && matches[0].path_match().0 == PathMatchType::PathPrefix;
        if !ok {
            cx.error_at(
                field,
                "ReplacePrefixMatch needs the rule to have exactly one match, of type PathPrefix",
                "give the rule a single PathPrefix match, or use ReplaceFullPath",
            );
        }
    }
}

impl Check for HttpRouteRule {
    fn check(&self, cx: &mut Checker) {
        check_section_name(cx, "name", &self.name);
        cx.len("matches", self.matches.len(), 0, 64);
        cx.list("matches", &self.matches);
        cx.len("filters", self.filters.len(), 0, 16);
        check_filter_set(cx, "filters", &self.filters);
        for (i, f) in self.filters.iter().enumerate() {
            cx.at_index("filters", i, |cx| {
                check_path_modifier_prefix(cx, self, "", f)
            });
        }
        let has_redirect = self
            .filters
            .iter()
            .any(|f| f.filter_type == HttpRouteFilterType::RequestRedirect);
        if has_redirect && !self.backend_refs.is_empty() {
            cx.error_at(
                "backendRefs",
                "a rule with a RequestRedirect filter cannot have backendRefs",
                "remove the backendRefs (the redirect answers the request) or the redirect",
            );
        }
        cx.len("backendRefs", self.backend_refs.len(), 0, 16);
        cx.list("backendRefs", &self.backend_refs);
        for (i, b) in self.backend_refs.iter().enumerate() {
            for (j, f) in b.filters.iter().enumerate() {
                cx.at_index("backendRefs", i, |cx| {
                    cx.at_index("filters", j, |cx| {
                        check_path_modifier_prefix(cx, self, "", f)
                    })
                });
            }
        }
        if let Some(t) = &self.timeouts {
            cx.at("timeouts", |cx| t.check(cx));
        }
        cx.field("retry", &self.retry);
    }
}

/// Checks the combination rules of a filter list at `.field`: each type at most once
/// (RequestMirror and ExtensionRef may repeat), and RequestRedirect excludes URLRewrite.
fn check_filter_set(cx: &mut Checker, field: &str, filters: &[HttpRouteFilter]) {
    let mut seen = BTreeSet::new();
    for (i, f) in filters.iter().enumerate() {
        cx.at_index(field, i, |cx| f.check(cx));
        let repeatable = matches!(
            f.filter_type,
            HttpRouteFilterType::RequestMirror | HttpRouteFilterType::ExtensionRef
        );
        if !repeatable && !seen.insert(f.filter_type) {
            cx.at_index(field, i, |cx| {
                cx.error_at(
                    "type",
                    format!("filter type {:?} appears more than once", f.filter_type.as_str()),
                    "merge the two filters into one (only RequestMirror and ExtensionRef may repeat)",
                )
            });
        }
    }
    if seen.contains(&HttpRouteFilterType::RequestRedirect)
        && seen.contains(&HttpRouteFilterType::UrlRewrite)
    {
        cx.error_at(
            field,
            "RequestRedirect and URLRewrite cannot be used together",
            "keep one of the two filters",
        );
    }
}

/// How a request path is compared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PathMatchType {
    /// The whole path equals the value.
    Exact,
    /// The path starts with the value, on a `/` boundary (the default).
    #[default]
    PathPrefix,
    /// The path matches a regular expression.
    RegularExpression,
}

/// A path match.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpPathMatch {
    /// Comparison; default `PathPrefix`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<PathMatchType>,
    /// Value (at most 1024 chars); default `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

impl HttpPathMatch {
    /// The effective comparison.
    pub fn effective_type(&self) -> PathMatchType {
        self.type_.unwrap_or_default()
    }

    /// The effective value.
    pub fn effective_value(&self) -> &str {
        self.value.as_deref().unwrap_or("/")
    }
}

/// Why an `Exact`/`PathPrefix` value is invalid, if it is.
pub fn path_value_problem(value: &str) -> Option<&'static str> {
    if !value.starts_with('/') {
        return Some("must start with '/'");
    }
    if value.contains("//") {
        return Some("must not contain '//'");
    }
    if value.contains("/./")
        || value.contains("/../")
        || value.ends_with("/.")
        || value.ends_with("/..")
    {
        return Some("must not contain '.' or '..' segments");
    }
    if value.to_ascii_lowercase().contains("%2f") {
        return Some("must not contain an encoded slash (%2f)");
    }
    if value.contains('#') {
        return Some("must not contain '#'");
    }
    None
}

impl Check for HttpPathMatch {
    fn check(&self, cx: &mut Checker) {
        let value = self.effective_value();
        str_len(cx, "value", value, 0, 1024);
        match self.effective_type() {
            PathMatchType::RegularExpression => cx.regex("value", value),
            t => {
                if let Some(problem) = path_value_problem(value) {
                    cx.error_at(
                        "value",
                        format!("{t:?} path {value:?} {problem}"),
                        "use an absolute, normalized path such as /api/v1",
                    );
                }
            }
        }
    }
}

/// One match: every condition in it must hold (AND).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpRouteMatch {
    /// Path condition; default PathPrefix `/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<HttpPathMatch>,
    /// Header conditions (at most 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<HttpHeaderMatch>,
    /// Query parameter conditions (at most 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query_params: Vec<HttpQueryParamMatch>,
    /// Method condition.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<HttpMethod>,
}

impl HttpRouteMatch {
    /// The effective path comparison and value (PathPrefix `/` by default).
    pub fn path_match(&self) -> (PathMatchType, &str) {
        match &self.path {
            Some(p) => (p.effective_type(), p.effective_value()),
            None => (PathMatchType::PathPrefix, "/"),
        }
    }
}

impl Check for HttpRouteMatch {
    fn check(&self, cx: &mut Checker) {
        cx.field("path", &self.path);
        cx.len("headers", self.headers.len(), 0, 16);
        cx.list("headers", &self.headers);
        cx.len("queryParams", self.query_params.len(), 0, 16);
        cx.list("queryParams", &self.query_params);
    }
}

/// Filter types of HTTPRoute rules and backendRefs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum HttpRouteFilterType {
    /// Edit request headers (`requestHeaderModifier`).
    RequestHeaderModifier,
    /// Edit response headers (`responseHeaderModifier`).
    ResponseHeaderModifier,
    /// Copy requests to another backend (`requestMirror`).
    RequestMirror,
    /// Answer with a redirect (`requestRedirect`).
    RequestRedirect,
    /// Rewrite host and path (`urlRewrite`).
    #[serde(rename = "URLRewrite")]
    UrlRewrite,
    /// Implementation-specific filter (`extensionRef`).
    ExtensionRef,
    /// CORS (`cors`).
    #[serde(rename = "CORS")]
    Cors,
    /// External authorization (`externalAuth`, experimental).
    ExternalAuth,
}

impl HttpRouteFilterType {
    /// The type as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpRouteFilterType::RequestHeaderModifier => "RequestHeaderModifier",
            HttpRouteFilterType::ResponseHeaderModifier => "ResponseHeaderModifier",
            HttpRouteFilterType::RequestMirror => "RequestMirror",
            HttpRouteFilterType::RequestRedirect => "RequestRedirect",
            HttpRouteFilterType::UrlRewrite => "URLRewrite",
            HttpRouteFilterType::ExtensionRef => "ExtensionRef",
            HttpRouteFilterType::Cors => "CORS",
            HttpRouteFilterType::ExternalAuth => "ExternalAuth",
        }
    }

    /// The member field that must be set for this type.
    pub fn member(self) -> &'static str {
        match self {
            HttpRouteFilterType::RequestHeaderModifier => "requestHeaderModifier",
            HttpRouteFilterType::ResponseHeaderModifier => "responseHeaderModifier",
            HttpRouteFilterType::RequestMirror => "requestMirror",
            HttpRouteFilterType::RequestRedirect => "requestRedirect",
            HttpRouteFilterType::UrlRewrite => "urlRewrite",
            HttpRouteFilterType::ExtensionRef => "extensionRef",
            HttpRouteFilterType::Cors => "cors",
            HttpRouteFilterType::ExternalAuth => "externalAuth",
        }
    }
}

/// A route filter: `type` plus exactly the matching member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpRouteFilter {
    /// Which filter this is.
    #[serde(rename = "type")]
    pub filter_type: HttpRouteFilterType,
    /// For `RequestHeaderModifier`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_header_modifier: Option<HttpHeaderFilter>,
    /// For `ResponseHeaderModifier`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_header_modifier: Option<HttpHeaderFilter>,
    /// For `RequestMirror`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_mirror: Option<HttpRequestMirrorFilter>,
    /// For `RequestRedirect`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_redirect: Option<HttpRequestRedirectFilter>,
    /// For `URLRewrite`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_rewrite: Option<HttpUrlRewriteFilter>,
    /// For `ExtensionRef`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension_ref: Option<LocalObjectReference>,
    /// For `CORS`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<HttpCorsFilter>,
    /// For `ExternalAuth` (experimental; accepted, not typed, not supported yet).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_auth: Option<serde_json::Value>,
}

impl Check for HttpRouteFilter {
    fn check(&self, cx: &mut Checker) {
        let members = [
            (
                HttpRouteFilterType::RequestHeaderModifier,
                self.request_header_modifier.is_some(),
            ),
            (
                HttpRouteFilterType::ResponseHeaderModifier,
                self.response_header_modifier.is_some(),
            ),
            (
                HttpRouteFilterType::RequestMirror,
                self.request_mirror.is_some(),
            ),
            (
                HttpRouteFilterType::RequestRedirect,
                self.request_redirect.is_some(),
            ),
            (HttpRouteFilterType::UrlRewrite, self.url_rewrite.is_some()),
            (
                HttpRouteFilterType::ExtensionRef,
                self.extension_ref.is_some(),
            ),
            (HttpRouteFilterType::Cors, self.cors.is_some()),
            (
                HttpRouteFilterType::ExternalAuth,
                self.external_auth.is_some(),
            ),
        ];
        for (t, present) in members {
            if t == self.filter_type && !present {
                cx.error_at(
                    t.member(),
                    format!("filter type {} needs `{}`", t.as_str(), t.member()),
                    format!("add `{}:` with the filter settings", t.member()),
                );
            } else if t != self.filter_type && present {
                cx.error_at(
                    t.member(),
                    format!(
                        "`{}` does not belong to a filter of type {}",
                        t.member(),
                        self.filter_type.as_str()
                    ),
                    format!("remove `{}`, or set type: {}", t.member(), t.as_str()),
                );
            }
        }
        cx.field("requestHeaderModifier", &self.request_header_modifier);
        cx.field("responseHeaderModifier", &self.response_header_modifier);
        cx.field("requestMirror", &self.request_mirror);
        cx.field("requestRedirect", &self.request_redirect);
        cx.field("urlRewrite", &self.url_rewrite);
        cx.field("cors", &self.cors);
        if self.external_auth.is_some() {
            crate::kinds::agentgateway::shared::not_supported(
                cx,
                "externalAuth",
                "the experimental ExternalAuth filter",
            );
        }
        if self.filter_type == HttpRouteFilterType::ExtensionRef {
            cx.warning_at(
                "extensionRef",
                "ExtensionRef filters are not interpreted by Palisade",
                "attach an AgentgatewayPolicy to the route (or rule) instead",
            );
        }
    }
}

/// How a redirect or rewrite changes the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PathModifierType {
    /// Replace the whole path with `replaceFullPath`.
    ReplaceFullPath,
    /// Replace the matched prefix with `replacePrefixMatch`.
    ReplacePrefixMatch,
}

/// A path change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpPathModifier {
    /// Which replacement.
    #[serde(rename = "type")]
    pub type_: PathModifierType,
    /// New path, with `ReplaceFullPath`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_full_path: Option<String>,
    /// New prefix, with `ReplacePrefixMatch`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_prefix_match: Option<String>,
}

impl Check for HttpPathModifier {
    fn check(&self, cx: &mut Checker) {
        let (want, other, value, other_set) = match self.type_ {
            PathModifierType::ReplaceFullPath => (
                "replaceFullPath",
                "replacePrefixMatch",
                &self.replace_full_path,
                self.replace_prefix_match.is_some(),
            ),
            PathModifierType::ReplacePrefixMatch => (
                "replacePrefixMatch",
                "replaceFullPath",
                &self.replace_prefix_match,
                self.replace_full_path.is_some(),
            ),
        };
        match value {
            None => cx.error_at(
                want,
                format!("type {:?} needs `{want}`", self.type_),
                format!("add `{want}: /new/path`"),
            ),
            Some(v) => {
                if !v.starts_with('/') {
                    cx.error_at(
                        want,
                        format!("path {v:?} must start with '/'"),
                        "use an absolute path such as /v1",
                    );
                }
                str_len(cx, want, v, 0, 1024);
            }
        }
        if other_set {
            cx.error_at(
                other,
                format!("`{other}` does not go with type {:?}", self.type_),
                format!("remove `{other}`"),
            );
        }
    }
}

/// URL scheme of a redirect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RedirectScheme {
    /// http
    Http,
    /// https
    Https,
}

/// Answer with a redirect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpRequestRedirectFilter {
    /// New scheme; default the request's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<RedirectScheme>,
    /// New hostname; default the request's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Path change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<HttpPathModifier>,
    /// New port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    /// Status: 301, 302 (default), 303, 307 or 308.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i64>,
}

impl HttpRequestRedirectFilter {
    /// The effective status code (302).
    pub fn status_code(&self) -> u16 {
        self.status_code
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(302)
    }
}

impl Check for HttpRequestRedirectFilter {
    fn check(&self, cx: &mut Checker) {
        if let Some(h) = &self.hostname {
            check_hostname(cx, "hostname", h);
        }
        cx.field("path", &self.path);
        opt_range(cx, "port", self.port, 1, 65535);
        if let Some(code) = self.status_code
            && ![301, 302, 303, 307, 308].contains(&code)
        {
            cx.error_at(
                "statusCode",
                format!("{code} is not a redirect status"),
                "use 301, 302, 303, 307 or 308",
            );
        }
    }
}

/// Rewrite host and/or path before forwarding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpUrlRewriteFilter {
    /// New Host header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Path change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<HttpPathModifier>,
}

impl Check for HttpUrlRewriteFilter {
    fn check(&self, cx: &mut Checker) {
        if let Some(h) = &self.hostname {
            check_hostname(cx, "hostname", h);
        }
        cx.field("path", &self.path);
    }
}

/// A fraction `numerator / denominator` (denominator default 100).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fraction {
    /// Numerator, 0..denominator.
    pub numerator: i64,
    /// Denominator, at least 1; default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominator: Option<i64>,
}

/// Copy requests to another backend (responses are ignored).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpRequestMirrorFilter {
    /// Where to send the copies.
    pub backend_ref: BackendObjectReference,
    /// Percentage of requests mirrored, 0..100; default all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<i64>,
    /// Fraction of requests mirrored; default all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<Fraction>,
}

impl HttpRequestMirrorFilter {
    /// The share of requests mirrored, 0.0..=1.0.
    pub fn ratio(&self) -> f64 {
        if let Some(p) = self.percent {
            return p.clamp(0, 100) as f64 / 100.0;
        }
        if let Some(f) = &self.fraction {
            let d = f.denominator.unwrap_or(100).max(1);
            return (f.numerator.clamp(0, d) as f64) / d as f64;
        }
        1.0
    }
}

impl Check for HttpRequestMirrorFilter {
    fn check(&self, cx: &mut Checker) {
        cx.at("backendRef", |cx| {
            crate::kinds::agentgateway::shared::check_backend_ref(
                cx,
                &self.backend_ref,
                ROUTE_BACKEND_KINDS,
            )
        });
        cx.at_most_one(&[
            ("percent", self.percent.is_some()),
            ("fraction", self.fraction.is_some()),
        ]);
        opt_range(cx, "percent", self.percent, 0, 100);
        if let Some(f) = &self.fraction {
            let d = f.denominator.unwrap_or(100);
            opt_range(
                cx,
                "fraction.denominator",
                f.denominator,
                1,
                i64::from(i32::MAX),
            );
            cx.range("fraction.numerator", f.numerator, 0, d.max(0));
        }
    }
}

/// The (group, kind) pairs an HTTPRoute backendRef may name: Services and
/// AgentgatewayBackends, and (a Palisade extension, so that routes reach what the
/// kagent resources describe) MCPServers, RemoteMCPServers and ModelConfigs.
pub const ROUTE_BACKEND_KINDS: &[(&str, &str)] = &[
    ("", "Service"),
    ("agentgateway.dev", "AgentgatewayBackend"),
    ("kagent.dev", "MCPServer"),
    ("kagent.dev", "RemoteMCPServer"),
    ("kagent.dev", "ModelConfig"),
];

/// A route backend: a [`BackendObjectReference`] plus weight and filters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpBackendRef {
    /// API group; default `""`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind; default `Service`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name of the backend.
    pub name: String,
    /// Namespace; default the route's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Port; required for a Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    /// Relative weight, 0..1000000; default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i64>,
    /// Filters applied when this backend is chosen (at most 16).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<HttpRouteFilter>,
}

impl HttpBackendRef {
    /// The group (`""` when unset).
    pub fn effective_group(&self) -> &str {
        self.group.as_deref().unwrap_or("")
    }

    /// The kind (`Service` when unset).
    pub fn effective_kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("Service")
    }

    /// The weight (1 when unset).
    pub fn weight(&self) -> u32 {
        self.weight.and_then(|w| u32::try_from(w).ok()).unwrap_or(1)
    }

    /// The reference part as a [`BackendObjectReference`].
    pub fn object_ref(&self) -> BackendObjectReference {
        BackendObjectReference {
            group: self.group.clone(),
            kind: self.kind.clone(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
            port: self.port,
        }
    }
}

impl Check for HttpBackendRef {
    fn check(&self, cx: &mut Checker) {
        crate::kinds::agentgateway::shared::check_backend_ref(
            cx,
            &self.object_ref(),
            ROUTE_BACKEND_KINDS,
        );
        opt_range(cx, "weight", self.weight, 0, 1_000_000);
        cx.len("filters", self.filters.len(), 0, 16);
        check_filter_set(cx, "filters", &self.filters);
    }
}

/// Route timeouts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpRouteTimeouts {
    /// Whole-request timeout (`0s` = none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// Per backend attempt; at most `request`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_request: Option<String>,
}

impl Check for HttpRouteTimeouts {
    fn check(&self, cx: &mut Checker) {
        at_least_one(
            cx,
            &[
                ("request", self.request.is_some()),
                ("backendRequest", self.backend_request.is_some()),
            ],
        );
        opt_duration(cx, "request", &self.request);
        opt_duration(cx, "backendRequest", &self.backend_request);
        let parse = |v: &Option<String>| v.as_deref().and_then(crate::duration::parse);
        if let (Some(req), Some(backend)) = (parse(&self.request), parse(&self.backend_request))
            && !req.is_zero()
            && backend > req
        {
            cx.error_at(
                "backendRequest",
                "backendRequest is longer than request",
                "make backendRequest at most the request timeout",
            );
        }
    }
}

/// An HTTPRoute.
pub type HttpRoute = Object<HttpRouteSpec>;
crate::impl_kind!(HttpRoute, group "gateway.networking.k8s.io", versions ["v1"], kind "HTTPRoute", plural "httproutes", short [], namespaced true);
