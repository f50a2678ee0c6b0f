//! `AgentgatewayBackend.spec`: what a backend is — an LLM provider (or a prioritized
//! group of them), a federated set of MCP servers, a static host, an A2A agent, an AWS
//! AgentCore runtime or a dynamic forward proxy — plus its `policies`.

use serde::{Deserialize, Serialize};

use super::backend_policy::{BackendPolicy, BackendPolicyScope};
use super::shared::{
    BackendObjectReference, Empty, FailureMode, check_backend_ref, opt_len, opt_range,
};
use crate::check::{Check, Checker};
use crate::meta::LabelSelector;

/// `spec` of an AgentgatewayBackend: exactly one of `ai`, `mcp`, `static`,
/// `dynamicForwardProxy`, `a2a`, `aws`; `policies.ai` needs `ai`, `policies.mcp` needs `mcp`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendSpec {
    /// LLM provider(s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ai: Option<AiBackend>,
    /// MCP servers, federated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<McpBackend>,
    /// A fixed host and port, or a Unix socket.
    #[serde(rename = "static", default, skip_serializing_if = "Option::is_none")]
    pub static_: Option<StaticBackend>,
    /// Destination from Host/SNI (an open proxy unless gated by policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_forward_proxy: Option<Empty>,
    /// An A2A agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a2a: Option<A2aBackend>,
    /// An AWS service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsBackend>,
    /// Policies for this backend (same tree as a policy's `backend`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<BackendPolicy>,
}

/// The kind of an AgentgatewayBackend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// `ai`
    Ai,
    /// `mcp`
    Mcp,
    /// `static`
    Static,
    /// `dynamicForwardProxy`
    DynamicForwardProxy,
    /// `a2a`
    A2a,
    /// `aws`
    Aws,
}

impl BackendSpec {
    /// Which kind of backend this is (`None` only on an invalid spec).
    pub fn kind(&self) -> Option<BackendKind> {
        if self.ai.is_some() {
            Some(BackendKind::Ai)
        } else if self.mcp.is_some() {
            Some(BackendKind::Mcp)
        } else if self.static_.is_some() {
            Some(BackendKind::Static)
        } else if self.dynamic_forward_proxy.is_some() {
            Some(BackendKind::DynamicForwardProxy)
        } else if self.a2a.is_some() {
            Some(BackendKind::A2a)
        } else if self.aws.is_some() {
            Some(BackendKind::Aws)
        } else {
            None
        }
    }
}

impl Check for BackendSpec {
    fn check(&self, cx: &mut Checker) {
        cx.exactly_one(&[
            ("ai", self.ai.is_some()),
            ("mcp", self.mcp.is_some()),
            ("static", self.static_.is_some()),
            ("dynamicForwardProxy", self.dynamic_forward_proxy.is_some()),
            ("a2a", self.a2a.is_some()),
            ("aws", self.aws.is_some()),
        ]);
        if let Some(p) = &self.policies {
            if p.ai.is_some() && self.ai.is_none() {
                cx.error_at(
                    "policies.ai",
                    "`policies.ai` needs an `ai` backend",
                    "remove policies.ai, or make this an ai backend",
                );
            }
            if p.mcp.is_some() && self.mcp.is_none() {
                cx.error_at(
                    "policies.mcp",
                    "`policies.mcp` needs an `mcp` backend",
                    "remove policies.mcp, or make this an mcp backend",
                );
            }
            cx.at("policies", |cx| p.check_scope(cx, BackendPolicyScope::Full));
        }
        cx.field("ai", &self.ai);
        cx.field("mcp", &self.mcp);
        cx.field("static", &self.static_);
        if let Some(a) = &self.a2a {
            cx.at("a2a", |cx| {
                if a.host.is_empty() {
                    cx.error_at("host", "`host` is empty", "give the agent's host name");
                }
                cx.range("port", a.port, 1, 65535);
            });
        }
        if let Some(a) = &self.aws
            && a.agent_core.agent_runtime_arn.is_empty()
        {
            cx.error_at(
                "aws.agentCore.agentRuntimeArn",
                "`agentRuntimeArn` is empty",
                "give the AgentCore runtime ARN",
            );
        }
    }
}

/// A fixed destination: `host` + `port`, or `unixPath`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StaticBackend {
    /// Host name or IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Port, 1..65535 (with host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    /// Unix socket path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unix_path: Option<String>,
}

impl Check for StaticBackend {
    fn check(&self, cx: &mut Checker) {
        let tcp = self.host.is_some() || self.port.is_some();
        cx.exactly_one(&[("host", tcp), ("unixPath", self.unix_path.is_some())]);
        if tcp && (self.host.is_none() || self.port.is_none()) {
            cx.error("`host` and `port` go together", "set both host and port");
        }
        opt_range(cx, "port", self.port, 1, 65535);
    }
}

/// An A2A agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct A2aBackend {
    /// Host name or IP.
    pub host: String,
    /// Port, 1..65535.
    pub port: i64,
}

/// An AWS backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwsBackend {
    /// Bedrock AgentCore runtime.
    pub agent_core: AgentCore,
}

/// A Bedrock AgentCore runtime.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentCore {
    /// Runtime ARN.
    pub agent_runtime_arn: String,
    /// Endpoint qualifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
}

// ---------------------------------------------------------------------------------------
// AI
// ---------------------------------------------------------------------------------------

/// LLM backend: one `provider`, or prioritized `groups` of providers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AiBackend {
    /// A single provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<AiProvider>,
    /// Provider groups, 1 to 8, in priority order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<ProviderGroup>,
}

impl Check for AiBackend {
    fn check(&self, cx: &mut Checker) {
        cx.exactly_one(&[
            ("provider", self.provider.is_some()),
            ("groups", !self.groups.is_empty()),
        ]);
        if let Some(p) = &self.provider {
            cx.at("provider", |cx| p.check_in(cx, false));
        }
        opt_len(cx, "groups", self.groups.len(), 1, 8);
        let names = self
            .groups
            .iter()
            .flat_map(|g| g.providers.iter())
            .map(|p| p.name.as_deref().unwrap_or(""));
        super::shared::unique(cx, "groups", "provider name", names);
        for (i, g) in self.groups.iter().enumerate() {
            cx.at_index("groups", i, |cx| {
                cx.len("providers", g.providers.len(), 1, 16);
                for (j, p) in g.providers.iter().enumerate() {
                    cx.at_index("providers", j, |cx| p.check_in(cx, true));
                }
            });
        }
    }
}

/// A group of equivalent providers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProviderGroup {
    /// Providers, 1 to 16, each with a unique `name`.
    pub providers: Vec<AiProvider>,
}

/// The LLM provider families.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProviderKind {
    /// OpenAI.
    OpenAi,
    /// Azure OpenAI (classic deployments).
    AzureOpenAi,
    /// Azure AI (OpenAI or Foundry resources).
    Azure,
    /// Anthropic.
    Anthropic,
    /// Google Gemini.
    Gemini,
    /// Google Vertex AI.
    VertexAi,
    /// AWS Bedrock.
    Bedrock,
    /// A custom endpoint with declared formats.
    Custom,
}

/// One LLM provider: exactly one provider block, plus optional `host`/`port` (together)
/// and at most one of `path`, `pathPrefix`. Inside `groups`, `name` is required and
/// `policies` may refine the backend policies for this provider.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AiProvider {
    /// Provider name (groups only): a section name, unique in the backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Provider-level policies (groups only): tcp, tls, http, tunnel, auth, ai,
    /// transformation, health.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<BackendPolicy>,
    /// OpenAI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openai: Option<OpenAiProvider>,
    /// Azure OpenAI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azureopenai: Option<AzureOpenAiProvider>,
    /// Azure AI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureProvider>,
    /// Anthropic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anthropic: Option<ModelOnly>,
    /// Gemini.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemini: Option<ModelOnly>,
    /// Vertex AI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vertexai: Option<VertexAiProvider>,
    /// Bedrock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bedrock: Option<BedrockProvider>,
    /// Custom.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<CustomProvider>,
    /// Override of the provider's default host (with `port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Override of the provider's default port (with `host`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    /// Full upstream path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Upstream path prefix such as `/v1` (OpenAI/Anthropic only; needs `host`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
}

impl AiProvider {
    /// Which provider family this is (`None` only on an invalid spec).
    pub fn kind(&self) -> Option<ProviderKind> {
        [
            (ProviderKind::OpenAi, self.openai.is_some()),
            (ProviderKind::AzureOpenAi, self.azureopenai.is_some()),
            (ProviderKind::Azure, self.azure.is_some()),
            (ProviderKind::Anthropic, self.anthropic.is_some()),
            (ProviderKind::Gemini, self.gemini.is_some()),
            (ProviderKind::VertexAi, self.vertexai.is_some()),
            (ProviderKind::Bedrock, self.bedrock.is_some()),
            (ProviderKind::Custom, self.custom.is_some()),
        ]
        .into_iter()
        .find(|(_, set)| *set)
        .map(|(k, _)| k)
    }

    /// The configured model, which overwrites the request's; `None` = use the request's.
    pub fn model(&self) -> Option<&str> {
        match self.kind()? {
            ProviderKind::OpenAi => self.openai.as_ref()?.model.as_deref(),
            ProviderKind::AzureOpenAi => None,
            ProviderKind::Azure => self.azure.as_ref()?.model.as_deref(),
            ProviderKind::Anthropic => self.anthropic.as_ref()?.model.as_deref(),
            ProviderKind::Gemini => self.gemini.as_ref()?.model.as_deref(),
            ProviderKind::VertexAi => self.vertexai.as_ref()?.model.as_deref(),
            ProviderKind::Bedrock => self.bedrock.as_ref()?.model.as_deref(),
            ProviderKind::Custom => self.custom.as_ref()?.model.as_deref(),
        }
    }

    fn check_in(&self, cx: &mut Checker, in_group: bool) {
        cx.exactly_one(&[
            ("openai", self.openai.is_some()),
            ("azureopenai", self.azureopenai.is_some()),
            ("azure", self.azure.is_some()),
            ("anthropic", self.anthropic.is_some()),
            ("gemini", self.gemini.is_some()),
            ("vertexai", self.vertexai.is_some()),
            ("bedrock", self.bedrock.is_some()),
            ("custom", self.custom.is_some()),
        ]);
        if in_group {
            match &self.name {
                None => cx.error_at(
                    "name",
                    "a provider in a group needs a `name`",
                    "add name: <section name>, e.g. primary",
                ),
                Some(n) if !crate::kinds::gateway_api::valid_section_name(n) => cx.error_at(
                    "name",
                    format!("invalid provider name {n:?}"),
                    "use lower-case letters, digits and '-'",
                ),
                Some(_) => {}
            }
            if let Some(p) = &self.policies {
                cx.at("policies", |cx| {
                    p.check_scope(cx, BackendPolicyScope::WithAi)
                });
            }
        } else {
            for (f, set) in [
                ("name", self.name.is_some()),
                ("policies", self.policies.is_some()),
            ] {
                if set {
                    cx.error_at(
                        f,
                        format!("`{f}` is only used on providers inside `groups`"),
                        "remove it, or put backend policies under spec.policies",
                    );
                }
            }
        }
        if self.host.is_some() != self.port.is_some() {
            cx.error(
                "`host` and `port` go together",
                "set both host and port, or neither",
            );
        }
        opt_range(cx, "port", self.port, 1, 65535);
        cx.at_most_one(&[
            ("path", self.path.is_some()),
            ("pathPrefix", self.path_prefix.is_some()),
        ]);
        for (f, v) in [("path", &self.path), ("pathPrefix", &self.path_prefix)] {
            if v.as_deref().is_some_and(|p| !p.starts_with('/')) {
                cx.error_at(f, format!("`{f}` must start with '/'"), "e.g. /v1");
            }
        }
        if self.path_prefix.is_some() {
            if !matches!(
                self.kind(),
                Some(ProviderKind::OpenAi | ProviderKind::Anthropic)
            ) {
                cx.error_at(
                    "pathPrefix",
                    "`pathPrefix` is only supported for openai and anthropic",
                    "use `path` for other providers",
                );
            }
            if self.host.is_none() {
                cx.error_at(
                    "pathPrefix",
                    "`pathPrefix` needs `host`",
                    "set host and port of the compatible endpoint",
                );
            }
        }
        if let Some(o) = &self.openai
            && let Some(m) = &o.moderation
            && let Some(p) = &m.policy
        {
            cx.at("openai.moderation.policy", |cx| {
                at_least_one_mode(cx, p);
            });
        }
        if let Some(a) = &self.azureopenai {
            if a.endpoint.is_empty() {
                cx.error_at(
                    "azureopenai.endpoint",
                    "`endpoint` is empty",
                    "give the Azure OpenAI endpoint host",
                );
            }
            if a.deployment_name.is_none() && a.api_version.as_deref().is_some_and(|v| v != "v1") {
                cx.error_at(
                    "azureopenai.deploymentName",
                    "`deploymentName` is required unless apiVersion is v1",
                    "add deploymentName, or use apiVersion v1",
                );
            }
        }
        if let Some(a) = &self.azure
            && a.resource_type == AzureResourceType::Foundry
            && a.project_name.is_none()
        {
            cx.warning_at(
                "azure.projectName",
                "Foundry resources usually need `projectName`",
                "add projectName",
            );
        }
        cx.field("custom", &self.custom);
    }
}

fn at_least_one_mode(cx: &mut Checker, p: &ModerationPolicy) {
    super::shared::at_least_one(
        cx,
        &[("input", p.input.is_some()), ("output", p.output.is_some())],
    );
}

/// A provider block with only an optional model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelOnly {
    /// Model; unset = the request's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// OpenAI.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenAiProvider {
    /// Model; unset = the request's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Built-in moderation of inputs/outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation: Option<OpenAiModeration>,
}

/// OpenAI moderation settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenAiModeration {
    /// Moderation model; default `omni-moderation-latest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// What to do with flagged inputs/outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<ModerationPolicy>,
}

/// Moderation policy per direction.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModerationPolicy {
    /// For inputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<ModerationDirection>,
    /// For outputs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<ModerationDirection>,
}

/// Moderation mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ModerationMode {
    /// Record scores only.
    Score,
    /// Block flagged content.
    Block,
}

/// Moderation of one direction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModerationDirection {
    /// Mode.
    pub mode: ModerationMode,
}

/// Azure OpenAI (classic deployments).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureOpenAiProvider {
    /// Resource endpoint (scheme stripped).
    pub endpoint: String,
    /// Deployment name (needed unless apiVersion is v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_name: Option<String>,
    /// API version; default `v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
}

/// Azure resource type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AzureResourceType {
    /// Azure OpenAI resource.
    #[default]
    #[serde(rename = "OpenAI")]
    OpenAi,
    /// Azure AI Foundry resource.
    Foundry,
}

/// Azure AI.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureProvider {
    /// Resource name.
    pub resource_name: String,
    /// Resource type.
    pub resource_type: AzureResourceType,
    /// API version; default `v1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Project (Foundry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_name: Option<String>,
    /// Model; unset = the request's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// Vertex AI.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VertexAiProvider {
    /// GCP project.
    pub project_id: String,
    /// Region; default `global`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Model; unset = the request's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

/// Bedrock guardrail applied by the provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BedrockGuardrail {
    /// Guardrail id.
    pub identifier: String,
    /// Guardrail version.
    pub version: String,
}

/// AWS Bedrock.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BedrockProvider {
    /// Region; default `us-east-1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Model; unset = the request's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Guardrail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<BedrockGuardrail>,
}

/// API formats a custom provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CustomFormatType {
    /// OpenAI chat completions.
    Completions,
    /// Anthropic messages.
    Messages,
    /// OpenAI responses.
    Responses,
    /// Embeddings.
    Embeddings,
    /// Anthropic token counting.
    AnthropicTokenCount,
    /// Realtime.
    Realtime,
    /// Rerank.
    Rerank,
}

/// One format of a custom provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomFormat {
    /// Format.
    #[serde(rename = "type")]
    pub type_: CustomFormatType,
    /// Upstream path (starts with `/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// A custom LLM endpoint: `backendRef` (Service or InferencePool) or `host` + `port`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomProvider {
    /// Service or InferencePool reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_ref: Option<BackendObjectReference>,
    /// Host name or IP (with `port`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Port, 1..65535 (with `host`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    /// Formats spoken, 1 to 6.
    pub formats: Vec<CustomFormat>,
    /// Model; unset = the request's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

impl Check for CustomProvider {
    fn check(&self, cx: &mut Checker) {
        let addr = self.host.is_some() || self.port.is_some();
        cx.exactly_one(&[("backendRef", self.backend_ref.is_some()), ("host", addr)]);
        if addr && (self.host.is_none() || self.port.is_none()) {
            cx.error("`host` and `port` go together", "set both host and port");
        }
        opt_range(cx, "port", self.port, 1, 65535);
        if let Some(r) = &self.backend_ref {
            cx.at("backendRef", |cx| {
                check_backend_ref(
                    cx,
                    r,
                    &[
                        ("", "Service"),
                        ("inference.networking.k8s.io", "InferencePool"),
                    ],
                )
            });
        }
        cx.len("formats", self.formats.len(), 1, 6);
        for (i, f) in self.formats.iter().enumerate() {
            if f.path.as_deref().is_some_and(|p| !p.starts_with('/')) {
                cx.at_index("formats", i, |cx| {
                    cx.error_at(
                        "path",
                        "path must start with '/'",
                        "e.g. /v1/chat/completions",
                    )
                });
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// MCP
// ---------------------------------------------------------------------------------------

/// Session handling across MCP targets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SessionRouting {
    /// Sessions pinned to upstream sessions (the default).
    #[default]
    Stateful,
    /// No session state.
    Stateless,
}

/// Tool/prompt name prefixing with the target name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PrefixMode {
    /// Prefix only with more than one target (the default).
    #[default]
    Conditional,
    /// Always prefix.
    Always,
    /// Never prefix.
    Never,
}

/// Federated MCP servers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpBackend {
    /// Targets, 1 to 128, names unique.
    pub targets: Vec<McpTarget>,
    /// Session routing; default `Stateful`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_routing: Option<SessionRouting>,
    /// `FailOpen`: skip targets that fail; default `FailClosed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_mode: Option<FailureMode>,
    /// Name prefixing; default `Conditional`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_mode: Option<PrefixMode>,
}

impl McpBackend {
    /// The effective session routing.
    pub fn session_routing(&self) -> SessionRouting {
        self.session_routing.unwrap_or_default()
    }

    /// The effective prefix mode.
    pub fn prefix_mode(&self) -> PrefixMode {
        self.prefix_mode.unwrap_or_default()
    }

    /// The effective failure mode.
    pub fn failure_mode(&self) -> FailureMode {
        self.failure_mode.unwrap_or_default()
    }
}

impl Check for McpBackend {
    fn check(&self, cx: &mut Checker) {
        cx.len("targets", self.targets.len(), 1, 128);
        super::shared::unique(
            cx,
            "targets",
            "target name",
            self.targets.iter().map(|t| t.name.as_str()),
        );
        cx.list("targets", &self.targets);
    }
}

/// One MCP target: `static` or `selector`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpTarget {
    /// Target name (DNS label style); used as the tool/prompt prefix.
    pub name: String,
    /// A fixed server.
    #[serde(rename = "static", default, skip_serializing_if = "Option::is_none")]
    pub static_: Option<McpStaticTarget>,
    /// Services selected by labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<McpSelectorTarget>,
}

fn valid_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

impl Check for McpTarget {
    fn check(&self, cx: &mut Checker) {
        if !valid_dns_label(&self.name) {
            cx.error_at(
                "name",
                format!("invalid target name {:?}", self.name),
                "use a DNS label: lower-case letters, digits and '-', at most 63 characters",
            );
        }
        cx.exactly_one(&[
            ("static", self.static_.is_some()),
            ("selector", self.selector.is_some()),
        ]);
        cx.field("static", &self.static_);
        if let Some(s) = &self.selector {
            cx.field("selector.namespaces", &s.namespaces);
            cx.field("selector.services", &s.services);
        }
    }
}

/// MCP transport.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum McpProtocol {
    /// Streamable HTTP (the default).
    #[default]
    #[serde(rename = "StreamableHTTP")]
    StreamableHttp,
    /// Legacy HTTP+SSE.
    #[serde(rename = "SSE")]
    Sse,
}

/// A same-namespace Service by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalServiceRef {
    /// Service name.
    pub name: String,
}

/// A fixed MCP server: `host` or `backendRef`, plus `port`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpStaticTarget {
    /// Host name or IP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Service in the backend's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_ref: Option<LocalServiceRef>,
    /// Port, 1..65535.
    pub port: i64,
    /// Path; default `/mcp` (StreamableHTTP) or `/sse` (SSE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Transport; default StreamableHTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<McpProtocol>,
    /// Connection policies (tcp, tls, http, tunnel, auth; host form only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<BackendPolicy>,
}

impl McpStaticTarget {
    /// The effective transport.
    pub fn protocol(&self) -> McpProtocol {
        self.protocol.unwrap_or_default()
    }

    /// The effective path.
    pub fn path(&self) -> &str {
        self.path.as_deref().unwrap_or(match self.protocol() {
            McpProtocol::StreamableHttp => "/mcp",
            McpProtocol::Sse => "/sse",
        })
    }
}

impl Check for McpStaticTarget {
    fn check(&self, cx: &mut Checker) {
        cx.exactly_one(&[
            ("host", self.host.is_some()),
            ("backendRef", self.backend_ref.is_some()),
        ]);
        cx.range("port", self.port, 1, 65535);
        if let Some(p) = &self.path
            && !p.starts_with('/')
        {
            cx.error_at(
                "path",
                format!("path {p:?} must start with '/'"),
                "e.g. /mcp",
            );
        }
        if let Some(r) = &self.backend_ref {
            cx.reference("backendRef", "Service", None, &r.name, false);
        }
        if let Some(p) = &self.policies {
            if self.backend_ref.is_some() {
                cx.error_at(
                    "policies",
                    "target `policies` are only allowed with `host`",
                    "attach an AgentgatewayPolicy to the Service instead",
                );
            }
            cx.at("policies", |cx| {
                p.check_scope(cx, BackendPolicyScope::Simple)
            });
        }
    }
}

/// MCP servers discovered from Service ports with appProtocol `agentgateway.dev/mcp`
/// (StreamableHTTP) or `agentgateway.dev/mcp-sse` (SSE).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpSelectorTarget {
    /// Namespaces searched; unset = the backend's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<LabelSelector>,
    /// Services selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<LabelSelector>,
}
