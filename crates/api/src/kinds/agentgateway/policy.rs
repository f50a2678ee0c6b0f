//! The policy spec shared by `AgentgatewayPolicy` and `EnterpriseAgentgatewayPolicy`:
//! what it targets and its three parts (frontend, traffic, backend), with the targeting
//! rules that tie them together.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Serialize};

use super::backend_policy::{BackendPolicy, BackendPolicyScope};
use super::frontend::Frontend;
use super::shared::opt_range;
use super::traffic::{PolicyPhase, Traffic};
use crate::check::{Check, Checker};

/// A policy target in the policy's own namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyTargetRef {
    /// API group (`""` for Service).
    pub group: String,
    /// Kind, e.g. `Gateway`, `HTTPRoute`, `Service`, `AgentgatewayBackend`.
    pub kind: String,
    /// Name of the target.
    pub name: String,
    /// Listener (Gateway), rule (route), port number (Service) or sub-backend name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
    /// Listener port, 1..65535 (frontend-only policies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
}

/// Targets selected by labels in the policy's namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyTargetSelector {
    /// API group (`""` for Service).
    pub group: String,
    /// Kind of the selected objects.
    pub kind: String,
    /// Labels the targets must carry.
    pub match_labels: BTreeMap<String, String>,
    /// As in [`PolicyTargetRef::section_name`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
    /// As in [`PolicyTargetRef::port`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
}

/// How a traffic policy combines with policies attached at lower levels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Inheritance {
    /// More specific attachments win (the default).
    #[default]
    Default,
    /// This policy wins over lower-level ones.
    Override,
}

/// Merge strategy (traffic-only policies).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Strategy {
    /// Inheritance; default `Default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inheritance: Option<Inheritance>,
}

/// `spec` of an AgentgatewayPolicy: exactly one of `targetRefs`/`targetSelectors`, and
/// at least one of `frontend`, `traffic`, `backend`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicySpec {
    /// Targets by name, 1 to 16, all of one kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_refs: Vec<PolicyTargetRef>,
    /// Targets by label, 1 to 16, all of one kind.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_selectors: Vec<PolicyTargetSelector>,
    /// Merge strategy (traffic-only policies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<Strategy>,
    /// Listener-level settings (Gateway targets only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontend: Option<Frontend>,
    /// Request processing settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic: Option<Traffic>,
    /// Settings for connecting to backends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<BackendPolicy>,
}

/// One target, refs and selectors alike.
struct Target<'a> {
    field: &'static str,
    index: usize,
    group: &'a str,
    kind: &'a str,
    section_name: Option<&'a str>,
    port: Option<i64>,
}

const GW: &str = "gateway.networking.k8s.io";

impl PolicySpec {
    /// The inheritance strategy (default `Default`).
    pub fn inheritance(&self) -> Inheritance {
        self.strategy
            .as_ref()
            .and_then(|s| s.inheritance)
            .unwrap_or_default()
    }

    /// The kind every target shares (`None` without targets).
    pub fn target_kind(&self) -> Option<&str> {
        self.target_refs
            .first()
            .map(|t| t.kind.as_str())
            .or_else(|| self.target_selectors.first().map(|t| t.kind.as_str()))
    }

    fn targets(&self) -> Vec<Target<'_>> {
        let refs = self
            .target_refs
            .iter()
            .enumerate()
            .map(|(index, t)| Target {
                field: "targetRefs",
                index,
                group: &t.group,
                kind: &t.kind,
                section_name: t.section_name.as_deref(),
                port: t.port,
            });
        let sels = self
            .target_selectors
            .iter()
            .enumerate()
            .map(|(index, t)| Target {
                field: "targetSelectors",
                index,
                group: &t.group,
                kind: &t.kind,
                section_name: t.section_name.as_deref(),
                port: t.port,
            });
        refs.chain(sels).collect()
    }

    /// Runs every check; `enterprise` widens the allowed targets.
    pub(crate) fn check_with(&self, cx: &mut Checker, enterprise: bool) {
        cx.exactly_one(&[
            ("targetRefs", !self.target_refs.is_empty()),
            ("targetSelectors", !self.target_selectors.is_empty()),
        ]);
        super::shared::opt_len(cx, "targetRefs", self.target_refs.len(), 1, 16);
        super::shared::opt_len(cx, "targetSelectors", self.target_selectors.len(), 1, 16);
        super::shared::at_least_one(
            cx,
            &[
                ("traffic", self.traffic.is_some()),
                ("frontend", self.frontend.is_some()),
                ("backend", self.backend.is_some()),
            ],
        );

        let targets = self.targets();
        let mut allowed: Vec<(&str, &str)> = vec![
            ("", "Service"),
            ("agentgateway.dev", "AgentgatewayBackend"),
            (GW, "Gateway"),
            (GW, "HTTPRoute"),
            (GW, "GRPCRoute"),
            (GW, "ListenerSet"),
            ("inference.networking.k8s.io", "InferencePool"),
        ];
        if enterprise {
            allowed.push((
                "enterpriseagentgateway.solo.io",
                "EnterpriseAgentgatewayBackend",
            ));
        }
        let first_kind = targets.first().map(|t| t.kind);
        let frontend_only =
            self.frontend.is_some() && self.traffic.is_none() && self.backend.is_none();
        for t in &targets {
            cx.at_index(t.field, t.index, |cx| {
                if !allowed.iter().any(|(g, k)| *g == t.group && *k == t.kind) {
                    let valid: Vec<String> = allowed
                        .iter()
                        .map(|(g, k)| if g.is_empty() { format!("{k} (group \"\")") } else { format!("{k} ({g})") })
                        .collect();
                    cx.error(
                        format!("a policy cannot target kind {:?} in group {:?}", t.kind, t.group),
                        format!("target one of: {}", valid.join(", ")),
                    );
                }
                if Some(t.kind) != first_kind {
                    cx.error_at(
                        "kind",
                        format!("all targets of one policy must share one kind; found {:?} and {:?}", first_kind.unwrap_or(""), t.kind),
                        "split the policy into one policy per target kind",
                    );
                }
                cx.at_most_one(&[("sectionName", t.section_name.is_some()), ("port", t.port.is_some())]);
                opt_range(cx, "port", t.port, 1, 65535);
                if t.port.is_some() && !frontend_only {
                    cx.error_at("port", "`port` is only allowed on frontend-only policies", "use sectionName to pick a listener");
                }
                if let Some(section) = t.section_name
                    && t.kind == "Service" && section.parse::<u16>().map_or(true, |p| p == 0) {
                        cx.error_at(
                            "sectionName",
                            format!("a Service sectionName must be a port number, got {section:?}"),
                            "use the Service port, e.g. sectionName: \"8080\"",
                        );
                    }
                if self.frontend.is_some() && (t.kind != "Gateway" || t.section_name.is_some()) {
                    cx.error(
                        "`frontend` can only target whole Gateways",
                        "target a Gateway without sectionName, or move the frontend settings to another policy",
                    );
                }
                if let Some(traffic) = &self.traffic {
                    let ok = matches!(t.kind, "Gateway" | "HTTPRoute" | "GRPCRoute" | "ListenerSet" | "InferencePool");
                    if !ok {
                        cx.error(
                            format!("`traffic` cannot target a {}", t.kind),
                            "target a Gateway, ListenerSet, HTTPRoute, GRPCRoute or InferencePool",
                        );
                    }
                    if traffic.phase() == PolicyPhase::PreRouting && !matches!(t.kind, "Gateway" | "ListenerSet") {
                        cx.error(
                            format!("`traffic.phase: PreRouting` cannot target a {}", t.kind),
                            "target a Gateway or ListenerSet, or drop phase: PreRouting",
                        );
                    }
                }
                if let Some(backend) = &self.backend {
                    if t.kind == "Service" && backend.ai.is_some() {
                        cx.error("`backend.ai` cannot be used with a Service target", "target the AgentgatewayBackend (or a route) instead");
                    }
                    if t.kind == "Service" && backend.mcp.is_some() {
                        cx.error("`backend.mcp` cannot be used with a Service target", "target the AgentgatewayBackend (or a route) instead");
                    }
                    if t.kind == "AgentgatewayBackend" && t.section_name.is_some() && backend.mcp.is_some() {
                        cx.error(
                            "`backend.mcp` cannot target an AgentgatewayBackend sectionName",
                            "target the whole AgentgatewayBackend",
                        );
                    }
                }
            });
        }
        for (i, t) in self.target_refs.iter().enumerate() {
            cx.at_index("targetRefs", i, |cx| {
                cx.reference("", &t.kind, None, &t.name, false)
            });
        }

        if self.strategy.is_some()
            && (self.frontend.is_some() || self.backend.is_some() || self.traffic.is_none())
        {
            cx.error_at(
                "strategy",
                "`strategy` is only allowed on policies with only `traffic`",
                "move frontend/backend settings to a separate policy, or remove strategy",
            );
        }
        let jwt = self
            .traffic
            .as_ref()
            .is_some_and(|t| t.jwt_authentication.is_some());
        let mcp_authn = self
            .backend
            .as_ref()
            .and_then(|b| b.mcp.as_ref())
            .is_some_and(|m| m.authentication.is_some());
        if jwt && mcp_authn {
            cx.error_at(
                "backend.mcp.authentication",
                "`traffic.jwtAuthentication` and `backend.mcp.authentication` cannot share a policy",
                "use traffic.jwtAuthentication with its `mcp` block (backend.mcp.authentication is deprecated)",
            );
        }

        cx.field("frontend", &self.frontend);
        cx.field("traffic", &self.traffic);
        if let Some(b) = &self.backend {
            cx.at("backend", |cx| b.check_scope(cx, BackendPolicyScope::Full));
        }
    }
}

impl Check for PolicySpec {
    fn check(&self, cx: &mut Checker) {
        self.check_with(cx, false);
    }
}

/// `spec` of an EnterpriseAgentgatewayPolicy: the same fields as [`PolicySpec`] (and
/// additionally EnterpriseAgentgatewayBackend targets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EnterprisePolicySpec(pub PolicySpec);

impl Deref for EnterprisePolicySpec {
    type Target = PolicySpec;
    fn deref(&self) -> &PolicySpec {
        &self.0
    }
}

impl DerefMut for EnterprisePolicySpec {
    fn deref_mut(&mut self) -> &mut PolicySpec {
        &mut self.0
    }
}

impl Check for EnterprisePolicySpec {
    fn check(&self, cx: &mut Checker) {
        self.0.check_with(cx, true);
    }
}
