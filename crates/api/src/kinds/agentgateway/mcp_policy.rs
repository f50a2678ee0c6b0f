//! `backend.mcp`: MCP item authorization, the deprecated MCP authentication block and
//! MCP guardrail processors.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::authn::{JwtMode, McpIdp, RemoteJwks};
use super::shared::{
    Authorization, BackendObjectReference, CelExpression, FailureMode, SecretKeyRef, at_least_one,
    check_cel_map, check_endpoint, opt_len,
};
use crate::check::{Check, Checker};

/// MCP policies; at least one member is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpPolicy {
    /// Per-item CEL authorization: lists are filtered, get/call of a denied item refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// Deprecated MCP authentication (prefer `traffic.jwtAuthentication.mcp`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authentication: Option<McpAuthentication>,
    /// Remote guardrail processors per JSON-RPC method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrails: Option<McpGuardrails>,
}

impl Check for McpPolicy {
    fn check(&self, cx: &mut Checker) {
        at_least_one(
            cx,
            &[
                ("authorization", self.authorization.is_some()),
                ("authentication", self.authentication.is_some()),
                ("guardrails", self.guardrails.is_some()),
            ],
        );
        cx.field("authorization", &self.authorization);
        if let Some(a) = &self.authentication {
            cx.warning_at(
                "authentication",
                "`backend.mcp.authentication` is deprecated",
                "use traffic.jwtAuthentication with an `mcp` block instead",
            );
            cx.field("authentication", a);
        }
        cx.field("guardrails", &self.guardrails);
    }
}

/// Deprecated MCP authentication: JWT validation against a remote JWKS (no `remote:`
/// wrapper) plus MCP OAuth metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpAuthentication {
    /// Expected issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Accepted audiences, 1 to 64.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// Where to fetch keys.
    pub jwks: RemoteJwks,
    /// Validation mode; Palisade default `Strict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<JwtMode>,
    /// Identity provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<McpIdp>,
    /// Extra protected-resource metadata (any JSON values).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_metadata: BTreeMap<String, serde_json::Value>,
    /// Client id for short-circuited client registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Client secret; key default `clientSecret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_ref: Option<SecretKeyRef>,
}

impl McpAuthentication {
    /// The effective mode (`Strict`).
    pub fn mode(&self) -> JwtMode {
        self.mode.unwrap_or_default()
    }
}

impl Check for McpAuthentication {
    fn check(&self, cx: &mut Checker) {
        opt_len(cx, "audiences", self.audiences.len(), 1, 64);
        cx.field("jwks", &self.jwks);
        cx.field("clientSecretRef", &self.client_secret_ref);
    }
}

/// MCP guardrail processors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpGuardrails {
    /// Processors, 1 to 16, run in order; the first rejection wins.
    pub processors: Vec<McpProcessor>,
}

impl Check for McpGuardrails {
    fn check(&self, cx: &mut Checker) {
        cx.len("processors", self.processors.len(), 1, 16);
        cx.list("processors", &self.processors);
    }
}

/// When an MCP method goes through a processor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum McpMethodPhase {
    /// Never.
    Off,
    /// On the request.
    Request,
    /// On the response.
    Response,
    /// On both.
    Full,
}

/// One guardrail processor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpProcessor {
    /// A remote policy server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<McpRemoteProcessor>,
    /// Method (`tools/call`, `tools/*`, `*/list`, `*`) -> phase, 1 to 64 entries; the
    /// most specific key wins; unmatched methods bypass the processor.
    pub methods: BTreeMap<String, McpMethodPhase>,
}

impl McpProcessor {
    /// The phase for a JSON-RPC method (`Off` when no key matches).
    pub fn phase(&self, method: &str) -> McpMethodPhase {
        if let Some(p) = self.methods.get(method) {
            return *p;
        }
        let mut best: Option<(usize, McpMethodPhase)> = None;
        for (key, phase) in &self.methods {
            let len = if let Some(prefix) = key.strip_suffix('*').filter(|_| key != "*") {
                method.starts_with(prefix).then_some(prefix.len())
            } else if let Some(suffix) = key.strip_prefix('*').filter(|_| key != "*") {
                method.ends_with(suffix).then_some(suffix.len())
            } else if key == "*" {
                Some(0)
            } else {
                None
            };
            if let Some(len) = len
                && best.is_none_or(|(l, _)| len > l)
            {
                best = Some((len, *phase));
            }
        }
        best.map_or(McpMethodPhase::Off, |(_, p)| p)
    }
}

impl Check for McpProcessor {
    fn check(&self, cx: &mut Checker) {
        cx.exactly_one(&[("remote", self.remote.is_some())]);
        cx.field("remote", &self.remote);
        if self.methods.is_empty() || self.methods.len() > 64 {
            cx.error_at(
                "methods",
                format!("has {} entries", self.methods.len()),
                "give 1 to 64 methods",
            );
        }
        for key in self.methods.keys() {
            let stars = key.matches('*').count();
            let ok = stars == 0 || (stars == 1 && (key.starts_with('*') || key.ends_with('*')));
            if !ok || key.is_empty() {
                cx.at_key("methods", key, |cx| {
                    cx.error(
                        format!("invalid method pattern {key:?}"),
                        "use an exact method, a prefix like tools/*, a suffix like */list, or *",
                    )
                });
            }
        }
    }
}

/// A remote MCP policy server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpRemoteProcessor {
    /// Server reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_ref: Option<BackendObjectReference>,
    /// Server URL (origin only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// When the server fails; default `FailClosed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_mode: Option<FailureMode>,
    /// Context values for the server, valued by CEL (at most 64).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, CelExpression>,
    /// Client headers forwarded (at most 64).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_request_headers: Vec<String>,
    /// Client headers never forwarded (at most 64).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disallowed_request_headers: Vec<String>,
}

impl Check for McpRemoteProcessor {
    fn check(&self, cx: &mut Checker) {
        check_endpoint(cx, &self.backend_ref, &self.url, true, true);
        check_cel_map(cx, "metadata", &self.metadata, 64);
        cx.len(
            "allowedRequestHeaders",
            self.allowed_request_headers.len(),
            0,
            64,
        );
        cx.len(
            "disallowedRequestHeaders",
            self.disallowed_request_headers.len(),
            0,
            64,
        );
    }
}
