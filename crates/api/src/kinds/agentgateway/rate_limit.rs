//! Rate limits: local token buckets (per replica) and global limits through an Envoy
//! rate limit service. Exceeding a limit answers 429.

use serde::{Deserialize, Serialize};

use super::shared::{
    BackendObjectReference, CelExpression, FailureMode, at_least_one, check_cel, check_endpoint,
    check_opt_cel, conditional_policy, opt_len, opt_range, str_len,
};
use crate::check::{Check, Checker};

/// Time unit of a local limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RateLimitUnit {
    /// Per second.
    Seconds,
    /// Per minute.
    Minutes,
    /// Per hour.
    Hours,
}

impl RateLimitUnit {
    /// The unit as a duration.
    pub fn duration(self) -> std::time::Duration {
        std::time::Duration::from_secs(match self {
            RateLimitUnit::Seconds => 1,
            RateLimitUnit::Minutes => 60,
            RateLimitUnit::Hours => 3600,
        })
    }
}

/// A per-replica limit on requests or LLM tokens (input + output, counted when a
/// request completes, so it affects later requests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalRateLimit {
    /// Requests per unit, at least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<i64>,
    /// Tokens per unit, at least 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens: Option<i64>,
    /// Time unit.
    pub unit: RateLimitUnit,
    /// Extra allowance above the rate for short bursts, at least 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<i64>,
}

impl Check for LocalRateLimit {
    fn check(&self, cx: &mut Checker) {
        cx.exactly_one(&[
            ("requests", self.requests.is_some()),
            ("tokens", self.tokens.is_some()),
        ]);
        opt_range(cx, "requests", self.requests, 1, i64::from(i32::MAX));
        opt_range(cx, "tokens", self.tokens, 1, i64::from(i32::MAX));
        opt_range(cx, "burst", self.burst, 0, i64::from(i32::MAX));
    }
}

/// What a global descriptor counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DescriptorUnit {
    /// Requests (the default).
    #[default]
    Requests,
    /// LLM tokens.
    Tokens,
}

/// One `{name, expression}` entry of a descriptor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DescriptorEntry {
    /// Entry name (1..64 chars).
    pub name: String,
    /// CEL expression giving the value, e.g. `source.address`.
    pub expression: CelExpression,
}

/// One global rate limit descriptor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimitDescriptor {
    /// Entries, 1 to 16.
    pub entries: Vec<DescriptorEntry>,
    /// What is counted; default `Requests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<DescriptorUnit>,
    /// CEL cost per request; default 1 (requests) or total tokens (tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<CelExpression>,
    /// CEL yielding `{unit, requestsPerUnit}` to override the server's limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_override: Option<CelExpression>,
}

impl Check for RateLimitDescriptor {
    fn check(&self, cx: &mut Checker) {
        cx.len("entries", self.entries.len(), 1, 16);
        for (i, e) in self.entries.iter().enumerate() {
            cx.at_index("entries", i, |cx| {
                str_len(cx, "name", &e.name, 1, 64);
                check_cel(cx, "expression", &e.expression);
            });
        }
        check_opt_cel(cx, "cost", &self.cost);
        check_opt_cel(cx, "limitOverride", &self.limit_override);
    }
}

/// A global limit enforced by an Envoy RLS-compatible server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GlobalRateLimit {
    /// Server reference (Service or AgentgatewayBackend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_ref: Option<BackendObjectReference>,
    /// Server URL (origin only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// RLS domain (1..256 chars).
    pub domain: String,
    /// When the server fails; default `FailClosed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_mode: Option<FailureMode>,
    /// Descriptors, 1 to 16.
    pub descriptors: Vec<RateLimitDescriptor>,
}

impl Check for GlobalRateLimit {
    fn check(&self, cx: &mut Checker) {
        check_endpoint(cx, &self.backend_ref, &self.url, true, true);
        str_len(cx, "domain", &self.domain, 1, 256);
        cx.len("descriptors", self.descriptors.len(), 1, 16);
        cx.list("descriptors", &self.descriptors);
    }
}

conditional_policy! {
    /// Local and/or global limits; at least one is set.
    RateLimits / RateLimitsOrConditional {
        /// Local limits, 1 to 16.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        local: Vec<LocalRateLimit>,
        /// Global limit.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        global: Option<GlobalRateLimit>,
    }
}

impl Check for RateLimits {
    fn check(&self, cx: &mut Checker) {
        at_least_one(
            cx,
            &[
                ("local", !self.local.is_empty()),
                ("global", self.global.is_some()),
            ],
        );
        opt_len(cx, "local", self.local.len(), 1, 16);
        cx.list("local", &self.local);
        cx.field("global", &self.global);
    }
}
