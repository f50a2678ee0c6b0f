//! `spec.traffic`: request processing (CORS, CSRF, authentication, authorization, rate
//! limits, transformations, retries, timeouts, direct responses, buffering, delays).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::authn::{ApiKeyAuthentication, BasicAuthentication, JwtAuthentication};
use super::external::{ExtAuthOrConditional, ExtProcOrConditional};
use super::rate_limit::RateLimitsOrConditional;
use super::shared::{
    Authorization, CelExpression, FailureMode, at_least_one, check_cel, check_duration_or_cel,
    check_opt_cel, conditional_policy, not_supported, opt_bytes, opt_duration_min, opt_len,
    opt_range, str_len,
};
use super::transformation::TransformationOrConditional;
use crate::check::{Check, Checker};
use crate::kinds::gateway_api::{
    HttpCorsFilter, HttpHeaderFilter, HttpRouteRetry, valid_header_name,
};
use crate::meta::IntOrString;

/// When a traffic policy runs. The two phases never merge with each other.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PolicyPhase {
    /// Before route selection (Gateway/ListenerSet targets only).
    PreRouting,
    /// After route selection (the default).
    #[default]
    PostRouting,
}

/// Request processing settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Traffic {
    /// Phase; default `PostRouting`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<PolicyPhase>,
    /// CORS (answers preflights, decorates responses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cors: Option<HttpCorsFilter>,
    /// CSRF protection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csrf: Option<Csrf>,
    /// JWT authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_authentication: Option<JwtAuthentication>,
    /// API key authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_authentication: Option<ApiKeyAuthentication>,
    /// HTTP Basic authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_authentication: Option<BasicAuthentication>,
    /// External authorization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_auth: Option<ExtAuthOrConditional>,
    /// External processing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ext_proc: Option<ExtProcOrConditional>,
    /// CEL authorization (deny = 403).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// Rate limits (exceeded = 429).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitsOrConditional>,
    /// Timeouts (HTTPRoute targets only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeouts: Option<Timeouts>,
    /// Retries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<Retry>,
    /// Literal header edits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header_modifiers: Option<HeaderModifiers>,
    /// CEL transformations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformation: Option<TransformationOrConditional>,
    /// Host header rewriting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_rewrite: Option<HostRewrite>,
    /// Answer directly, without a backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_response: Option<DirectResponseOrConditional>,
    /// Body buffering limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buffer: Option<Buffer>,
    /// Fault injection delay.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Delay>,
    /// Enterprise ext auth (AuthConfig); parsed, rejected as not supported yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ent_ext_auth: Option<serde_json::Value>,
    /// Enterprise global rate limit (RateLimitConfig); parsed, rejected as not supported yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ent_rate_limit: Option<serde_json::Value>,
}

impl Traffic {
    /// The effective phase (`PostRouting`).
    pub fn phase(&self) -> PolicyPhase {
        self.phase.unwrap_or_default()
    }

    /// Names of the members that are set (`phase` excluded).
    pub fn set_fields(&self) -> Vec<&'static str> {
        let all = [
            ("cors", self.cors.is_some()),
            ("csrf", self.csrf.is_some()),
            ("jwtAuthentication", self.jwt_authentication.is_some()),
            (
                "apiKeyAuthentication",
                self.api_key_authentication.is_some(),
            ),
            ("basicAuthentication", self.basic_authentication.is_some()),
            ("extAuth", self.ext_auth.is_some()),
            ("extProc", self.ext_proc.is_some()),
            ("authorization", self.authorization.is_some()),
            ("rateLimit", self.rate_limit.is_some()),
            ("timeouts", self.timeouts.is_some()),
            ("retry", self.retry.is_some()),
            ("headerModifiers", self.header_modifiers.is_some()),
            ("transformation", self.transformation.is_some()),
            ("hostRewrite", self.host_rewrite.is_some()),
            ("directResponse", self.direct_response.is_some()),
            ("buffer", self.buffer.is_some()),
            ("delay", self.delay.is_some()),
            ("entExtAuth", self.ent_ext_auth.is_some()),
            ("entRateLimit", self.ent_rate_limit.is_some()),
        ];
        all.into_iter()
            .filter(|(_, set)| *set)
            .map(|(n, _)| n)
            .collect()
    }
}

/// Members allowed with `phase: PreRouting`.
pub const PRE_ROUTING_FIELDS: &[&str] = &[
    "extAuth",
    "authorization",
    "transformation",
    "extProc",
    "jwtAuthentication",
    "basicAuthentication",
    "apiKeyAuthentication",
    "cors",
];

impl Check for Traffic {
    fn check(&self, cx: &mut Checker) {
        let fields = self.set_fields();
        if fields.is_empty() {
            cx.error(
                "`traffic` sets nothing",
                "set at least one traffic setting, e.g. cors or jwtAuthentication",
            );
        }
        if self.phase() == PolicyPhase::PreRouting {
            for f in fields.iter().filter(|f| !PRE_ROUTING_FIELDS.contains(f)) {
                cx.error_at(
                    f,
                    format!("`{f}` cannot run in phase PreRouting"),
                    format!(
                        "move it to a PostRouting policy; PreRouting allows: {}",
                        PRE_ROUTING_FIELDS.join(", ")
                    ),
                );
            }
        }
        cx.field("cors", &self.cors);
        if let Some(c) = &self.csrf {
            cx.at("csrf", |cx| {
                cx.len("additionalOrigins", c.additional_origins.len(), 1, 16);
                for (i, o) in c.additional_origins.iter().enumerate() {
                    cx.at_index("additionalOrigins", i, |cx| str_len(cx, "", o, 1, 256));
                }
            });
        }
        cx.field("jwtAuthentication", &self.jwt_authentication);
        cx.field("apiKeyAuthentication", &self.api_key_authentication);
        cx.field("basicAuthentication", &self.basic_authentication);
        cx.field("extAuth", &self.ext_auth);
        cx.field("extProc", &self.ext_proc);
        cx.field("authorization", &self.authorization);
        cx.field("rateLimit", &self.rate_limit);
        if let Some(t) = &self.timeouts {
            opt_duration_min(
                cx,
                "timeouts.request",
                &t.request,
                Duration::from_millis(1),
                "1ms",
            );
        }
        cx.field("retry", &self.retry);
        if let Some(h) = &self.header_modifiers {
            cx.at("headerModifiers", |cx| {
                at_least_one(
                    cx,
                    &[
                        ("request", h.request.is_some()),
                        ("response", h.response.is_some()),
                    ],
                );
                cx.field("request", &h.request);
                cx.field("response", &h.response);
            });
        }
        cx.field("transformation", &self.transformation);
        cx.field("directResponse", &self.direct_response);
        cx.field("buffer", &self.buffer);
        if let Some(d) = &self.delay {
            check_duration_or_cel(cx, "delay.duration", &d.duration);
        }
        if self.ent_ext_auth.is_some() {
            not_supported(
                cx,
                "entExtAuth",
                "enterprise external auth through an AuthConfig",
            );
        }
        if self.ent_rate_limit.is_some() {
            not_supported(
                cx,
                "entRateLimit",
                "enterprise rate limiting through a RateLimitConfig",
            );
        }
    }
}

/// CSRF protection: safe methods and requests without `Origin` pass; otherwise the
/// origin must be the destination or one of `additionalOrigins`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Csrf {
    /// Extra allowed origins (`scheme://host[:port]`), 1 to 16.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub additional_origins: Vec<String>,
}

/// Request timeouts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Timeouts {
    /// Whole-request deadline, at least 1ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
}

/// Retries: Gateway API `HTTPRouteRetry` plus CEL `precondition` and `condition`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Retry {
    /// Response codes (400..599) that trigger a retry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<i64>,
    /// Maximum retries, at least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<i64>,
    /// Minimum time between attempts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<String>,
    /// CEL: when false, the request gets a single attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precondition: Option<CelExpression>,
    /// CEL: retry when true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<CelExpression>,
}

impl Check for Retry {
    fn check(&self, cx: &mut Checker) {
        let base = HttpRouteRetry {
            codes: self.codes.clone(),
            attempts: None,
            backoff: self.backoff.clone(),
        };
        base.check(cx);
        opt_range(cx, "attempts", self.attempts, 1, i64::from(i32::MAX));
        check_opt_cel(cx, "precondition", &self.precondition);
        check_opt_cel(cx, "condition", &self.condition);
    }
}

/// Literal header edits on requests and/or responses.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HeaderModifiers {
    /// Request header edits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<HttpHeaderFilter>,
    /// Response header edits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<HttpHeaderFilter>,
}

/// Host header rewriting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HostRewriteMode {
    /// Set Host from the destination.
    Auto,
    /// Keep the client's Host.
    None,
}

/// Host header rewriting (ignored when the route's URLRewrite sets a hostname).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HostRewrite {
    /// Mode.
    pub mode: HostRewriteMode,
}

/// A direct response header valued by CEL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DirectResponseHeader {
    /// Header name.
    pub name: String,
    /// CEL expression computing the value.
    pub value: CelExpression,
}

conditional_policy! {
    /// Answer without a backend: `status` (required) and at most one of `body`,
    /// `bodyExpression`.
    DirectResponse / DirectResponseOrConditional {
        /// Status code, 200..599 (required).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<i64>,
        /// Literal body (1..4096 chars).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        /// CEL body (strings and bytes written as is, other values as JSON).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body_expression: Option<CelExpression>,
        /// Response headers, 1 to 16.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        headers: Vec<DirectResponseHeader>,
    }
}

impl Check for DirectResponse {
    fn check(&self, cx: &mut Checker) {
        match self.status {
            None => cx.error_at(
                "status",
                "`status` is required",
                "add status: <200..599>, e.g. status: 403",
            ),
            Some(s) => cx.range("status", s, 200, 599),
        }
        cx.at_most_one(&[
            ("body", self.body.is_some()),
            ("bodyExpression", self.body_expression.is_some()),
        ]);
        if let Some(b) = &self.body {
            str_len(cx, "body", b, 1, 4096);
        }
        check_opt_cel(cx, "bodyExpression", &self.body_expression);
        opt_len(cx, "headers", self.headers.len(), 1, 16);
        for (i, h) in self.headers.iter().enumerate() {
            cx.at_index("headers", i, |cx| {
                if !valid_header_name(&h.name) {
                    cx.error_at(
                        "name",
                        format!("invalid header name {:?}", h.name),
                        "use a header token such as content-type",
                    );
                }
                check_cel(cx, "value", &h.value);
            });
        }
    }
}

/// Buffering limit of one direction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BufferLimit {
    /// Largest buffered body (quantity); default the frontend's (2Mi).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<IntOrString>,
    /// Over the limit: `FailClosed` (413 for requests, 502 for responses, the default)
    /// or `FailOpen`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_mode: Option<FailureMode>,
}

/// Body buffering limits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Buffer {
    /// Request limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<BufferLimit>,
    /// Response limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<BufferLimit>,
}

impl Check for Buffer {
    fn check(&self, cx: &mut Checker) {
        at_least_one(
            cx,
            &[
                ("request", self.request.is_some()),
                ("response", self.response.is_some()),
            ],
        );
        if let Some(r) = &self.request {
            opt_bytes(cx, "request.maxBytes", &r.max_bytes);
        }
        if let Some(r) = &self.response {
            opt_bytes(cx, "response.maxBytes", &r.max_bytes);
        }
    }
}

/// Fault injection delay (counts against the timeout).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Delay {
    /// A duration (`500ms`) or CEL yielding one.
    pub duration: String,
}
