//! Building blocks every agentgateway kind uses: CEL fields, endpoints (`backendRef` or
//! `url`), same-namespace credential references, credential locations, CEL authorization
//! rules, conditional policy lists, quantities and the small check helpers behind them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::check::{Check, Checker};
use crate::meta::IntOrString;

pub use crate::kinds::gateway_api::BackendObjectReference;

/// CEL source text (1 to 16384 characters); compiled once when the snapshot loads.
pub type CelExpression = String;

/// Longest CEL expression accepted.
pub const MAX_CEL_LEN: usize = 16384;

/// What to do when an external service (ext auth, rate limit server, guard webhook, ...)
/// fails or cannot be reached. Absent means `FailClosed`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FailureMode {
    /// Reject the request (the default).
    #[default]
    FailClosed,
    /// Let the request continue.
    FailOpen,
}

/// An empty object (`{}`) used as a switch, e.g. `passthrough: {}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Empty {}

// ---------------------------------------------------------------------------------------
// Check helpers
// ---------------------------------------------------------------------------------------

/// Records a CEL expression held at `.field` after checking its length.
pub(crate) fn check_cel(cx: &mut Checker, field: &str, src: &str) {
    if src.trim().is_empty() {
        cx.error_at(
            field,
            "empty CEL expression",
            "write a CEL expression, e.g. `request.path.startsWith(\"/api\")`",
        );
    } else if src.len() > MAX_CEL_LEN {
        cx.error_at(
            field,
            format!("CEL expression is {} characters long", src.len()),
            format!("keep CEL expressions at most {MAX_CEL_LEN} characters"),
        );
    }
    cx.cel(field, src);
}

/// Records an optional CEL expression held at `.field`.
pub(crate) fn check_opt_cel(cx: &mut Checker, field: &str, src: &Option<String>) {
    if let Some(src) = src {
        check_cel(cx, field, src);
    }
}

/// Records every CEL value of a map held at `.field`, each at `.field[key]`, and checks
/// the map size.
pub(crate) fn check_cel_map(
    cx: &mut Checker,
    field: &str,
    map: &BTreeMap<String, String>,
    max: usize,
) {
    if map.len() > max {
        cx.error_at(
            field,
            format!("has {} entries", map.len()),
            format!("give at most {max} entries"),
        );
    }
    for (key, src) in map {
        cx.at_key(field, key, |cx| check_cel(cx, "", src));
    }
}

/// Checks that at least one of the named members is set.
pub(crate) fn at_least_one(cx: &mut Checker, set: &[(&str, bool)]) {
    if !set.iter().any(|(_, present)| *present) {
        let names: Vec<&str> = set.iter().map(|(n, _)| *n).collect();
        cx.error(
            format!("at least one of {} is required", names.join(", ")),
            format!("set one or more of: {}", names.join(", ")),
        );
    }
}

/// Checks the length of an optional list: an absent (empty) list is fine, a present one
/// must have `min..=max` entries.
pub(crate) fn opt_len(cx: &mut Checker, field: &str, len: usize, min: usize, max: usize) {
    if len > 0 {
        cx.len(field, len, min, max);
    }
}

/// Checks the character length of a string held at `.field`.
pub(crate) fn str_len(cx: &mut Checker, field: &str, value: &str, min: usize, max: usize) {
    let n = value.chars().count();
    if n < min || n > max {
        cx.error_at(
            field,
            format!("has {n} characters"),
            if min == 0 {
                format!("use at most {max} characters")
            } else {
                format!("use {min} to {max} characters")
            },
        );
    }
}

/// Checks a duration held at `.field` and that it is at least `min` (written `min_text`).
pub(crate) fn duration_min(
    cx: &mut Checker,
    field: &str,
    value: &str,
    min: Duration,
    min_text: &str,
) {
    match crate::duration::parse(value) {
        None => cx.duration(field, value),
        Some(d) if d < min => cx.error_at(
            field,
            format!("duration {value:?} is too short"),
            format!("use at least {min_text}"),
        ),
        Some(_) => {}
    }
}

/// [`duration_min`] for an optional field.
pub(crate) fn opt_duration_min(
    cx: &mut Checker,
    field: &str,
    value: &Option<String>,
    min: Duration,
    min_text: &str,
) {
    if let Some(value) = value {
        duration_min(cx, field, value, min, min_text);
    }
}

/// Checks an optional duration held at `.field` (syntax only).
pub(crate) fn opt_duration(cx: &mut Checker, field: &str, value: &Option<String>) {
    if let Some(value) = value {
        cx.duration(field, value);
    }
}

/// Checks an optional integer held at `.field` lies in `min..=max`.
pub(crate) fn opt_range(cx: &mut Checker, field: &str, value: Option<i64>, min: i64, max: i64) {
    if let Some(v) = value {
        cx.range(field, v, min, max);
    }
}

/// Checks that the (non-empty) strings of a list held at `.field` are unique.
pub(crate) fn unique<'a>(
    cx: &mut Checker,
    field: &str,
    what: &str,
    names: impl IntoIterator<Item = &'a str>,
) {
    let mut seen = std::collections::BTreeSet::new();
    for (i, name) in names.into_iter().enumerate() {
        if !name.is_empty() && !seen.insert(name) {
            cx.at_index(field, i, |cx| {
                cx.error(
                    format!("duplicate {what} {name:?}"),
                    format!("give every {what} a distinct value"),
                )
            });
        }
    }
}

/// Checks a "`*` or a list without `*`" list held at `.field`.
pub(crate) fn wildcard_alone<'a>(
    cx: &mut Checker,
    field: &str,
    values: impl IntoIterator<Item = &'a str>,
) {
    let values: Vec<&str> = values.into_iter().collect();
    if values.len() > 1 && values.contains(&"*") {
        cx.error_at(
            field,
            "`*` must be the only entry when used",
            "use either [\"*\"] or a list of explicit values",
        );
    }
}

// ---------------------------------------------------------------------------------------
// Durations that may be CEL
// ---------------------------------------------------------------------------------------

/// A field that holds either a literal duration (`5m`) or a CEL expression yielding one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DurationOrCel<'a> {
    /// A literal duration.
    Duration(Duration),
    /// A CEL expression.
    Cel(&'a str),
}

/// Classifies a duration-or-CEL field: text that parses as a duration is one, anything
/// else is CEL.
pub fn duration_or_cel(text: &str) -> DurationOrCel<'_> {
    match crate::duration::parse(text) {
        Some(d) => DurationOrCel::Duration(d),
        None => DurationOrCel::Cel(text),
    }
}

/// Checks a duration-or-CEL field: a CEL expression is recorded, a duration accepted.
pub(crate) fn check_duration_or_cel(cx: &mut Checker, field: &str, text: &str) {
    if let DurationOrCel::Cel(src) = duration_or_cel(text) {
        check_cel(cx, field, src);
    }
}

// ---------------------------------------------------------------------------------------
// Quantities
// ---------------------------------------------------------------------------------------

/// Bytes of a Kubernetes quantity (`16384`, `"2Mi"`, `"1.5k"`); `None` when the text is
/// not a quantity or is negative.
pub fn quantity_bytes(q: &IntOrString) -> Option<u64> {
    match q {
        IntOrString::Int(i) => u64::try_from(*i).ok(),
        IntOrString::String(s) => parse_quantity(s),
    }
}

fn parse_quantity(text: &str) -> Option<u64> {
    let text = text.trim();
    let text = text.strip_prefix('+').unwrap_or(text);
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    if number.is_empty() || number == "." {
        return None;
    }
    let number: f64 = number.parse().ok()?;
    let factor: f64 = match suffix {
        "" => 1.0,
        "Ki" => 1024.0,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        "m" => 1e-3,
        _ => {
            let exp = suffix.strip_prefix(['e', 'E'])?;
            10f64.powi(exp.parse::<i32>().ok()?)
        }
    };
    let value = (number * factor).ceil();
    (value.is_finite() && value >= 0.0 && value <= u64::MAX as f64).then_some(value as u64)
}

/// Checks a byte quantity held at `.field` lies in `min..=max` bytes.
pub(crate) fn check_quantity(cx: &mut Checker, field: &str, q: &IntOrString, min: u64, max: u64) {
    match quantity_bytes(q) {
        None => cx.error_at(
            field,
            format!("invalid quantity {q}"),
            "use a byte count or a Kubernetes quantity such as 16384, 64Ki, 2Mi",
        ),
        Some(v) if v < min || v > max => cx.error_at(
            field,
            format!("quantity {q} ({v} bytes) is out of range"),
            format!("use a value from {min} to {max} bytes"),
        ),
        Some(_) => {}
    }
}

/// Largest byte quantity a size field accepts (fits a u32).
pub const MAX_BYTES: u64 = u32::MAX as u64;

/// [`check_quantity`] with the usual 1..2^32-1 bounds, for an optional field.
pub(crate) fn opt_bytes(cx: &mut Checker, field: &str, q: &Option<IntOrString>) {
    if let Some(q) = q {
        check_quantity(cx, field, q, 1, MAX_BYTES);
    }
}

// ---------------------------------------------------------------------------------------
// Endpoints
// ---------------------------------------------------------------------------------------

/// Where an external service lives: a Kubernetes-style reference or a URL.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Endpoint<'a> {
    /// A Service or AgentgatewayBackend reference.
    BackendRef(&'a BackendObjectReference),
    /// An `http(s)://host[:port][/path]` URL.
    Url(&'a str),
}

/// The endpoint of a `{backendRef, url}` pair (backendRef first when both are set).
pub fn endpoint<'a>(
    backend_ref: &'a Option<BackendObjectReference>,
    url: &'a Option<String>,
) -> Option<Endpoint<'a>> {
    match (backend_ref, url) {
        (Some(r), _) => Some(Endpoint::BackendRef(r)),
        (None, Some(u)) => Some(Endpoint::Url(u)),
        (None, None) => None,
    }
}

/// A parsed endpoint URL (`^https?://host[:port][/path]`, no userinfo, query or fragment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointUrl {
    /// `https` (TLS on) rather than `http`.
    pub tls: bool,
    /// Host name or IP address (brackets kept for IPv6).
    pub host: String,
    /// Explicit port, if any.
    pub port: Option<u16>,
    /// Path, `""` when absent.
    pub path: String,
}

impl EndpointUrl {
    /// Parses an endpoint URL, explaining what is wrong on failure.
    pub fn parse(url: &str) -> Result<EndpointUrl, String> {
        let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err("the URL must start with http:// or https://".into());
        };
        if rest.contains(['?', '#']) {
            return Err("the URL may not have a query or a fragment".into());
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.contains('@') {
            return Err("the URL may not carry user information".into());
        }
        let (host, port) = if authority.starts_with('[') {
            match authority.find(']') {
                Some(end) => {
                    let host = &authority[..=end];
                    match &authority[end + 1..] {
                        "" => (host, None),
                        p => (
                            host,
                            Some(
                                p.strip_prefix(':')
                                    .ok_or("bad character after IPv6 address")?,
                            ),
                        ),
                    }
                }
                None => return Err("unterminated IPv6 address".into()),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (authority, None),
            }
        };
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err("the URL has no valid host".into());
        }
        let port = match port {
            None => None,
            Some(p) => match p.parse::<u16>() {
                Ok(p) if p > 0 => Some(p),
                _ => return Err(format!("invalid port {p:?}")),
            },
        };
        Ok(EndpointUrl {
            tls,
            host: host.to_string(),
            port,
            path: path.to_string(),
        })
    }

    /// The port to dial: the explicit one, else 443 for https and 80 for http.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(if self.tls { 443 } else { 80 })
    }

    /// Whether the URL names only an origin (no path, or just `/`).
    pub fn is_origin(&self) -> bool {
        self.path.is_empty() || self.path == "/"
    }
}

/// The (group, kind) pairs an agentgateway endpoint `backendRef` may name.
pub const ENDPOINT_KINDS: &[(&str, &str)] =
    &[("", "Service"), ("agentgateway.dev", "AgentgatewayBackend")];

/// Checks that a backend reference names one of `allowed` (group, kind) pairs, and runs
/// its own checks (port, reference).
pub(crate) fn check_backend_ref(
    cx: &mut Checker,
    r: &BackendObjectReference,
    allowed: &[(&str, &str)],
) {
    let (group, kind) = (r.effective_group(), r.effective_kind());
    if !allowed.iter().any(|(g, k)| *g == group && *k == kind) {
        let valid: Vec<String> = allowed
            .iter()
            .map(|(g, k)| {
                if g.is_empty() {
                    format!("{k} (core group)")
                } else {
                    format!("{k} ({g})")
                }
            })
            .collect();
        cx.error_at(
            "kind",
            format!("unsupported backendRef kind {kind:?} in group {group:?}"),
            format!("reference one of: {}", valid.join(", ")),
        );
    }
    r.check(cx);
}

/// Checks a `{backendRef, url}` endpoint pair written inline at the current path.
/// `required`: one of the two must be set; `origin_only`: the URL may not have a path.
pub(crate) fn check_endpoint(
    cx: &mut Checker,
    backend_ref: &Option<BackendObjectReference>,
    url: &Option<String>,
    required: bool,
    origin_only: bool,
) {
    let set = [
        ("backendRef", backend_ref.is_some()),
        ("url", url.is_some()),
    ];
    if required {
        cx.exactly_one(&set);
    } else {
        cx.at_most_one(&set);
    }
    if let Some(r) = backend_ref {
        cx.at("backendRef", |cx| check_backend_ref(cx, r, ENDPOINT_KINDS));
    }
    if let Some(url) = url {
        match EndpointUrl::parse(url) {
            Err(why) => cx.error_at(
                "url",
                format!("invalid endpoint URL {url:?}: {why}"),
                "use http(s)://host[:port][/path], e.g. https://auth.example.com:8443",
            ),
            Ok(parsed) if origin_only && !parsed.is_origin() => cx.error_at(
                "url",
                format!("endpoint URL {url:?} has a path, which is not allowed here"),
                "give only scheme, host and port, e.g. https://ratelimit.example.com:8081",
            ),
            Ok(_) => {}
        }
    }
}

// ---------------------------------------------------------------------------------------
// Credential references
// ---------------------------------------------------------------------------------------

fn check_credential_source(
    cx: &mut Checker,
    name: &str,
    group: &Option<String>,
    kind: &Option<String>,
) {
    if name.is_empty() {
        cx.error_at(
            "name",
            "credential reference has an empty name",
            "name the Secret (or other source) to read",
        );
    }
    let group = group.as_deref().unwrap_or("");
    let kind_s = kind.as_deref().unwrap_or("");
    let is_secret = group.is_empty() && (kind_s.is_empty() || kind_s == "Secret");
    if !is_secret && (group.is_empty() || kind_s.is_empty()) {
        cx.error(
            "a credential source other than a core Secret needs both `group` and `kind`",
            "leave both empty for a Secret, or set both, e.g. group: example.com, kind: Vault",
        );
    }
    let target = if is_secret { "Secret" } else { kind_s };
    cx.reference("name", target, None, name, false);
}

/// A credential in the referrer's namespace, with an optional key (`skref`). Empty group
/// and kind mean a core `Secret`; any other source needs both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretKeyRef {
    /// Name of the Secret (or other source).
    pub name: String,
    /// Key within the source; each use documents its own default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// API group of a non-Secret source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind of a non-Secret source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl SecretKeyRef {
    /// The key to read, or `default` when unset.
    pub fn key_or<'a>(&'a self, default: &'a str) -> &'a str {
        self.key.as_deref().unwrap_or(default)
    }

    /// The source kind (`Secret` unless group and kind say otherwise).
    pub fn effective_kind(&self) -> &str {
        match self.kind.as_deref() {
            Some(k) if !k.is_empty() => k,
            _ => "Secret",
        }
    }
}

impl Check for SecretKeyRef {
    fn check(&self, cx: &mut Checker) {
        check_credential_source(cx, &self.name, &self.group, &self.kind);
    }
}

/// A whole credential object in the referrer's namespace (`soref`): like [`SecretKeyRef`]
/// without a key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretObjectRef {
    /// Name of the Secret (or other source).
    pub name: String,
    /// API group of a non-Secret source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind of a non-Secret source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl SecretObjectRef {
    /// The source kind (`Secret` unless group and kind say otherwise).
    pub fn effective_kind(&self) -> &str {
        match self.kind.as_deref() {
            Some(k) if !k.is_empty() => k,
            _ => "Secret",
        }
    }
}

impl Check for SecretObjectRef {
    fn check(&self, cx: &mut Checker) {
        check_credential_source(cx, &self.name, &self.group, &self.kind);
    }
}

/// Selects objects by labels (`matchLabels` only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LabelMatch {
    /// Labels that must all match.
    pub match_labels: BTreeMap<String, String>,
}

// ---------------------------------------------------------------------------------------
// Credential locations
// ---------------------------------------------------------------------------------------

/// A credential carried in a header, optionally after a prefix such as `Bearer `.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HeaderLocation {
    /// Header name.
    pub name: String,
    /// Prefix before the credential (1..256 chars), e.g. `Bearer `.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
}

/// A credential carried in a named query parameter or cookie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamedLocation {
    /// Parameter or cookie name (1..256 chars).
    pub name: String,
}

/// Where a credential is read from or written to, resolved (see [`CredentialLocation::get`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationRef<'a> {
    /// A header, with optional prefix.
    Header {
        /// Header name.
        name: &'a str,
        /// Prefix before the value.
        prefix: Option<&'a str>,
    },
    /// A query parameter.
    QueryParameter(&'a str),
    /// A cookie.
    Cookie(&'a str),
    /// A CEL expression computing the credential (extraction only).
    Expression(&'a str),
}

fn check_location_parts(
    cx: &mut Checker,
    header: &Option<HeaderLocation>,
    query: &Option<NamedLocation>,
    cookie: &Option<NamedLocation>,
) {
    if let Some(h) = header {
        if !crate::kinds::gateway_api::valid_header_name(&h.name) {
            cx.error_at(
                "header.name",
                format!("invalid header name {:?}", h.name),
                "use a token such as Authorization or x-api-key",
            );
        }
        if let Some(p) = &h.prefix {
            str_len(cx, "header.prefix", p, 1, 256);
        }
    }
    if let Some(q) = query {
        str_len(cx, "queryParameter.name", &q.name, 1, 256);
    }
    if let Some(c) = cookie {
        str_len(cx, "cookie.name", &c.name, 1, 256);
    }
}

/// Where a credential is placed (`loc`): exactly one of header, query parameter, cookie.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CredentialLocation {
    /// In a header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<HeaderLocation>,
    /// In a query parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_parameter: Option<NamedLocation>,
    /// In a cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<NamedLocation>,
}

impl CredentialLocation {
    /// The chosen location (`None` only on an invalid object).
    pub fn get(&self) -> Option<LocationRef<'_>> {
        if let Some(h) = &self.header {
            Some(LocationRef::Header {
                name: &h.name,
                prefix: h.prefix.as_deref(),
            })
        } else if let Some(q) = &self.query_parameter {
            Some(LocationRef::QueryParameter(&q.name))
        } else {
            self.cookie.as_ref().map(|c| LocationRef::Cookie(&c.name))
        }
    }
}

impl Check for CredentialLocation {
    fn check(&self, cx: &mut Checker) {
        cx.exactly_one(&[
            ("header", self.header.is_some()),
            ("queryParameter", self.query_parameter.is_some()),
            ("cookie", self.cookie.is_some()),
        ]);
        check_location_parts(cx, &self.header, &self.query_parameter, &self.cookie);
    }
}

/// Where a credential is read from (`xloc`): a [`CredentialLocation`] or a CEL expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExtractionLocation {
    /// In a header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<HeaderLocation>,
    /// In a query parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_parameter: Option<NamedLocation>,
    /// In a cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cookie: Option<NamedLocation>,
    /// Computed by a CEL expression over the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<CelExpression>,
}

impl ExtractionLocation {
    /// The chosen location (`None` only on an invalid object).
    pub fn get(&self) -> Option<LocationRef<'_>> {
        if let Some(h) = &self.header {
            Some(LocationRef::Header {
                name: &h.name,
                prefix: h.prefix.as_deref(),
            })
        } else if let Some(q) = &self.query_parameter {
            Some(LocationRef::QueryParameter(&q.name))
        } else if let Some(c) = &self.cookie {
            Some(LocationRef::Cookie(&c.name))
        } else {
            self.expression.as_deref().map(LocationRef::Expression)
        }
    }
}

impl Check for ExtractionLocation {
    fn check(&self, cx: &mut Checker) {
        cx.exactly_one(&[
            ("header", self.header.is_some()),
            ("queryParameter", self.query_parameter.is_some()),
            ("cookie", self.cookie.is_some()),
            ("expression", self.expression.is_some()),
        ]);
        check_location_parts(cx, &self.header, &self.query_parameter, &self.cookie);
        check_opt_cel(cx, "expression", &self.expression);
    }
}

// ---------------------------------------------------------------------------------------
// CEL authorization
// ---------------------------------------------------------------------------------------

/// What a CEL authorization rule does when its expression holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuthorizationAction {
    /// Allow when true; Allow rules are OR-ed (the default).
    #[default]
    Allow,
    /// Deny when true.
    Deny,
    /// Deny unless true; Require rules are AND-ed.
    Require,
}

/// The expressions of an [`Authorization`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorizationRules {
    /// CEL expressions, 1 to 256; each one is its own rule with the policy's action.
    pub match_expressions: Vec<CelExpression>,
}

/// CEL authorization (`authz`): every expression becomes one rule with `action`. Rules
/// from every attached policy are pooled; see the reference, section 1.4.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Authorization {
    /// Rule action; default `Allow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<AuthorizationAction>,
    /// The rule expressions.
    pub policy: AuthorizationRules,
}

impl Authorization {
    /// The effective action (`Allow` when unset).
    pub fn action(&self) -> AuthorizationAction {
        self.action.unwrap_or_default()
    }

    /// The rule expressions.
    pub fn expressions(&self) -> &[CelExpression] {
        &self.policy.match_expressions
    }
}

impl Check for Authorization {
    fn check(&self, cx: &mut Checker) {
        cx.at("policy", |cx| {
            cx.len(
                "matchExpressions",
                self.policy.match_expressions.len(),
                1,
                256,
            );
            for (i, expr) in self.policy.match_expressions.iter().enumerate() {
                cx.at_index("matchExpressions", i, |cx| check_cel(cx, "", expr));
            }
        });
    }
}

// ---------------------------------------------------------------------------------------
// Conditional policies
// ---------------------------------------------------------------------------------------

/// One entry of a `conditional` list: `policy` applies when `condition` holds (an entry
/// without condition is the fallback and must be last).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConditionalEntry<T> {
    /// CEL condition; absent on the fallback entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<CelExpression>,
    /// The policy used when the condition holds.
    pub policy: T,
}

/// Checks a `cond<X>` object at the current path: either the inline fields (checked as
/// `inline`) or `conditional` entries, never both.
pub(crate) fn check_conditional<T: Check>(
    cx: &mut Checker,
    inline_set: bool,
    inline: &T,
    entries: &[ConditionalEntry<T>],
) {
    if entries.is_empty() {
        inline.check(cx);
        return;
    }
    if inline_set {
        cx.error_at(
            "conditional",
            "`conditional` cannot be combined with fields set inline",
            "move the inline fields into a `conditional` entry without `condition`, placed last",
        );
    }
    cx.len("conditional", entries.len(), 1, 16);
    let last = entries.len() - 1;
    for (i, entry) in entries.iter().enumerate() {
        cx.at_index("conditional", i, |cx| {
            match &entry.condition {
                Some(c) => check_cel(cx, "condition", c),
                None if i != last => cx.error_at(
                    "condition",
                    "only the last conditional entry may omit `condition`",
                    "add a condition, or move this fallback entry to the end (at most one fallback)",
                ),
                None => {}
            }
            cx.field("policy", &entry.policy);
        });
    }
}

/// Defines a policy struct `$name` and its `cond<$name>` twin `$or_name` (same fields
/// inline plus `conditional`), with `inline()`, `branches()` and the conditional check.
/// `$name` must implement [`Check`] separately.
macro_rules! conditional_policy {
    (
        $(#[$meta:meta])*
        $name:ident / $or_name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident : $ty:ty
            ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        #[doc = concat!("[`", stringify!($name), "`] with its fields inline, or a `conditional` list of them (never both).")]
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $or_name {
            $( $(#[$fmeta])* pub $field: $ty, )*
            /// Conditional variants, 1 to 16: the first whose `condition` holds applies; one
            /// entry without `condition` may come last as the fallback.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub conditional: Vec<$crate::kinds::agentgateway::shared::ConditionalEntry<$name>>,
        }

        impl $or_name {
            /// The inline fields as one policy (all unset when `conditional` is used).
            pub fn inline(&self) -> $name {
                $name { $( $field: self.$field.clone(), )* }
            }

            /// The variants in evaluation order: the `conditional` entries, or the inline
            /// policy as a single unconditional entry.
            pub fn branches(&self) -> Vec<$crate::kinds::agentgateway::shared::ConditionalEntry<$name>> {
                if self.conditional.is_empty() {
                    vec![$crate::kinds::agentgateway::shared::ConditionalEntry { condition: None, policy: self.inline() }]
                } else {
                    self.conditional.clone()
                }
            }
        }

        impl $crate::check::Check for $or_name {
            fn check(&self, cx: &mut $crate::check::Checker) {
                let inline = self.inline();
                let inline_set = inline != $name::default();
                $crate::kinds::agentgateway::shared::check_conditional(cx, inline_set, &inline, &self.conditional);
            }
        }
    };
}
pub(crate) use conditional_policy;

/// An error for a field Palisade parses but does not implement yet.
pub(crate) fn not_supported(cx: &mut Checker, field: &str, what: &str) {
    cx.error_at(
        field,
        format!("`{field}` ({what}) is not supported yet by Palisade"),
        format!("remove `{field}`; Palisade rejects it rather than ignoring it"),
    );
}

/// TCP keepalive settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Keepalive {
    /// Probes sent before the connection is dropped, 1..64; default 9.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<i64>,
    /// Idle time before probing starts, at least 1s; default 180s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Time between probes, at least 1s; default 180s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
}

impl Keepalive {
    /// Probe count (default 9).
    pub fn retries(&self) -> u32 {
        self.retries.map_or(9, |r| r.clamp(1, 64) as u32)
    }

    /// Idle time before probing (default 180s).
    pub fn time(&self) -> Duration {
        parse_or(&self.time, Duration::from_secs(180))
    }

    /// Interval between probes (default 180s).
    pub fn interval(&self) -> Duration {
        parse_or(&self.interval, Duration::from_secs(180))
    }
}

impl Check for Keepalive {
    fn check(&self, cx: &mut Checker) {
        opt_range(cx, "retries", self.retries, 1, 64);
        opt_duration_min(cx, "time", &self.time, Duration::from_secs(1), "1s");
        opt_duration_min(cx, "interval", &self.interval, Duration::from_secs(1), "1s");
    }
}

/// Parses an optional duration, falling back to `default` when absent or invalid.
pub fn parse_or(value: &Option<String>, default: Duration) -> Duration {
    value
        .as_deref()
        .and_then(crate::duration::parse)
        .unwrap_or(default)
}

/// Key exchange groups for TLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyExchangeGroup {
    /// X25519.
    X25519,
    /// NIST P-256.
    #[serde(rename = "P-256")]
    P256,
    /// NIST P-384.
    #[serde(rename = "P-384")]
    P384,
    /// Hybrid X25519 + ML-KEM-768.
    #[serde(rename = "X25519_MLKEM768")]
    X25519Mlkem768,
}

/// A `{name, expression}` pair adding a log field, trace attribute or metric label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamedExpression {
    /// Field, attribute or label name.
    pub name: String,
    /// CEL expression computing the value.
    pub expression: CelExpression,
}

impl Check for NamedExpression {
    fn check(&self, cx: &mut Checker) {
        str_len(cx, "name", &self.name, 1, 256);
        check_cel(cx, "expression", &self.expression);
    }
}
