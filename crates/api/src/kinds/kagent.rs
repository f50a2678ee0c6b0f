//! kagent kinds (`kagent.dev`): `Agent`, `ModelConfig`, `RemoteMCPServer` (v1alpha2) and
//! kmcp's `MCPServer` (v1alpha1), with the validation rules kagent's CRDs enforce.
//!
//! Kubernetes pod plumbing a deployment block may carry (resources, affinity,
//! tolerations, volumes, security contexts, `env[].valueFrom`, sidecars) is kept as
//! plain JSON: Palisade records it for Kubernetes mode and does not interpret it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::check::{Check, Checker};
use crate::kinds::core::{LocalObjectReference, ObjectReference};
use crate::meta::{LabelSelector, Object};

// =======================================================================================
// Shared types
// =======================================================================================

/// Where a value comes from: a key of a ConfigMap or Secret in the referrer's namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValueSource {
    /// `ConfigMap` or `Secret`.
    #[serde(rename = "type")]
    pub type_: ValueSourceType,
    /// Name of the ConfigMap or Secret (at most 253 characters).
    pub name: String,
    /// Key within it (at most 253 characters).
    pub key: String,
}

/// Kind of a [`ValueSource`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ValueSourceType {
    /// A ConfigMap key.
    ConfigMap,
    /// A Secret key.
    Secret,
}

impl Check for ValueSource {
    fn check(&self, cx: &mut Checker) {
        if self.name.is_empty() || self.name.len() > 253 {
            cx.error_at(
                "name",
                "name must have 1 to 253 characters",
                "name the ConfigMap or Secret",
            );
        }
        if self.key.is_empty() || self.key.len() > 253 {
            cx.error_at(
                "key",
                "key must have 1 to 253 characters",
                "name the key holding the value",
            );
        }
        if self.type_ == ValueSourceType::Secret && !self.name.is_empty() {
            cx.reference("name", "Secret", None, &self.name, false);
        }
    }
}

/// A named value (a header), given inline or read from a ConfigMap/Secret; exactly one
/// of `value` and `valueFrom`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ValueRef {
    /// Header (or variable) name.
    pub name: String,
    /// The value itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Where to read the value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<ValueSource>,
}

impl Check for ValueRef {
    fn check(&self, cx: &mut Checker) {
        if self.name.is_empty() {
            cx.error_at("name", "name is required", "name the header");
        }
        cx.exactly_one(&[
            ("value", self.value.is_some()),
            ("valueFrom", self.value_from.is_some()),
        ]);
        cx.field("valueFrom", &self.value_from);
    }
}

/// Which namespaces may reference a resource (Gateway API style handshake).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllowedNamespaces {
    /// `All`, `Same` (the default) or `Selector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<FromNamespaces>,
    /// Namespace label selector, required when `from: Selector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
}

/// `allowedNamespaces.from`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FromNamespaces {
    /// Any namespace.
    All,
    /// Only the resource's own namespace (the default).
    #[default]
    Same,
    /// Namespaces whose labels match `selector`.
    Selector,
}

impl AllowedNamespaces {
    /// `from`, `Same` when absent.
    pub fn from(&self) -> FromNamespaces {
        self.from.unwrap_or_default()
    }
}

impl Check for AllowedNamespaces {
    fn check(&self, cx: &mut Checker) {
        if self.from() == FromNamespaces::Selector && self.selector.is_none() {
            cx.error_at(
                "selector",
                "selector must be specified when from is Selector",
                "add selector: {matchLabels: {...}}, or use from: All or Same",
            );
        }
        cx.field("selector", &self.selector);
    }
}

/// TLS settings for outbound connections (model providers, remote MCP servers).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TlsConfig {
    /// Skip certificate verification (testing only); `false` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disable_verify: Option<bool>,
    /// Secret (same namespace) holding PEM CA certificates to trust.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert_secret_ref: Option<String>,
    /// Key of that secret holding the PEM data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_cert_secret_key: Option<String>,
    /// Trust only the CA from `caCertSecretRef`, not the system roots; `false` by default.
    #[serde(
        default,
        rename = "disableSystemCAs",
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_system_cas: Option<bool>,
}

fn non_empty(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.is_empty())
}

impl TlsConfig {
    /// Whether a CA secret is pinned.
    pub fn has_ca(&self) -> bool {
        non_empty(&self.ca_cert_secret_ref)
    }
}

impl Check for TlsConfig {
    fn check(&self, cx: &mut Checker) {
        let has_ref = non_empty(&self.ca_cert_secret_ref);
        let has_key = non_empty(&self.ca_cert_secret_key);
        if has_key && !has_ref {
            cx.error_at(
                "caCertSecretKey",
                "caCertSecretKey requires caCertSecretRef",
                "name the Secret in caCertSecretRef, or remove caCertSecretKey",
            );
        }
        if has_ref && !has_key {
            cx.error_at(
                "caCertSecretRef",
                "caCertSecretRef requires caCertSecretKey",
                "name the key holding the PEM data in caCertSecretKey",
            );
        }
        if self.disable_system_cas == Some(true) && self.disable_verify != Some(true) && !has_ref {
            cx.error_at(
                "disableSystemCAs",
                "disableSystemCAs requires caCertSecretRef or disableVerify (nothing would be trusted)",
                "pin a CA with caCertSecretRef/caCertSecretKey",
            );
        }
        if let Some(name) = self.ca_cert_secret_ref.as_deref().filter(|s| !s.is_empty()) {
            cx.reference("caCertSecretRef", "Secret", None, name, false);
        }
    }
}

/// A container environment variable (`valueFrom` kept as given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvVar {
    /// Variable name.
    pub name: String,
    /// Literal value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Kubernetes value source (secretKeyRef, configMapKeyRef, fieldRef, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_from: Option<Value>,
}

/// Container image pull policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PullPolicy {
    /// Pull on every start.
    Always,
    /// Pull when not cached.
    IfNotPresent,
    /// Never pull.
    Never,
}

/// Labels and annotations for a ServiceAccount a controller creates.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAccountConfig {
    /// Labels to set.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Annotations to set.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// Defines a deployment struct with kagent's shared deployment fields after the given
/// leading fields.
macro_rules! agent_deployment {
    ($(#[$attr:meta])* pub struct $name:ident { $($leading:tt)* }) => {
        $(#[$attr])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct $name {
            $($leading)*
            /// Number of pod replicas (Kubernetes mode).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub replicas: Option<i32>,
            /// Image pull secrets.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub image_pull_secrets: Vec<LocalObjectReference>,
            /// Pod volumes (kept as given).
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub volumes: Vec<Value>,
            /// Container volume mounts (kept as given).
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub volume_mounts: Vec<Value>,
            /// Pod labels.
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub labels: BTreeMap<String, String>,
            /// Pod annotations.
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub annotations: BTreeMap<String, String>,
            /// Annotations on the Deployment object itself.
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub deployment_annotations: BTreeMap<String, String>,
            /// Container environment.
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub env: Vec<EnvVar>,
            /// Environment imported from ConfigMaps/Secrets (kept as given).
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub env_from: Vec<Value>,
            /// Image pull policy.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub image_pull_policy: Option<PullPolicy>,
            /// Container resources (kept as given).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub resources: Option<Value>,
            /// Pod tolerations (kept as given).
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub tolerations: Vec<Value>,
            /// Pod affinity (kept as given).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub affinity: Option<Value>,
            /// Topology spread constraints (kept as given).
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub topology_spread_constraints: Vec<Value>,
            /// Node selector.
            #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
            pub node_selector: BTreeMap<String, String>,
            /// Container security context (kept as given).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub security_context: Option<Value>,
            /// Pod security context (kept as given).
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub pod_security_context: Option<Value>,
            /// Use this existing ServiceAccount instead of creating one; excludes
            /// `serviceAccountConfig`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub service_account_name: Option<String>,
            /// Labels/annotations for the ServiceAccount created for the agent.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub service_account_config: Option<ServiceAccountConfig>,
            /// Extra containers in the pod (kept as given).
            #[serde(default, skip_serializing_if = "Vec::is_empty")]
            pub extra_containers: Vec<Value>,
        }

        impl $name {
            fn check_shared(&self, cx: &mut Checker) {
                if self.service_account_name.is_some() && self.service_account_config.is_some() {
                    cx.error(
                        "serviceAccountName and serviceAccountConfig are mutually exclusive",
                        "keep serviceAccountName (use an existing account) or serviceAccountConfig (configure the created one)",
                    );
                }
                if let Some(r) = self.replicas {
                    cx.range("replicas", i64::from(r), 0, i64::from(i32::MAX));
                }
            }
        }
    };
}

// =======================================================================================
// Agent
// =======================================================================================

/// A kagent agent: a declarative LLM agent Palisade runs, or a bring-your-own A2A server.
pub type Agent = Object<AgentSpec>;

crate::impl_kind!(Agent, group "kagent.dev", versions ["v1alpha2"], kind "Agent", plural "agents", short [], namespaced true);

/// Model config an agent uses when `declarative.modelConfig` is not given.
pub const DEFAULT_MODEL_CONFIG: &str = "default-model-config";

/// `Agent.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentSpec {
    /// `Declarative` (the default) or `BYO`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<AgentType>,
    /// The declarative agent; required iff the type is `Declarative`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declarative: Option<DeclarativeAgentSpec>,
    /// The bring-your-own agent; required iff the type is `BYO`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byo: Option<ByoAgentSpec>,
    /// Human description, shown on the agent card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Icon URL for the agent card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    /// Documentation URL for the agent card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_url: Option<String>,
    /// Agent version for the agent card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Who provides the agent (agent card).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<AgentProvider>,
    /// Skills mounted into the agent at `/skills`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skills: Option<AgentSkills>,
    /// Sandbox restrictions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<AgentSandbox>,
    /// Which namespaces may use this agent as a tool; same namespace only when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_namespaces: Option<AllowedNamespaces>,
}

/// `Agent.spec.type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AgentType {
    /// Palisade runs the agent from its declaration (the default).
    #[default]
    Declarative,
    /// The user supplies an A2A server image.
    #[serde(rename = "BYO")]
    Byo,
}

/// `spec.provider` of an agent card.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentProvider {
    /// Organization name (non-empty).
    #[serde(default)]
    pub organization: String,
    /// Organization URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// `spec.skills`: at least one of `refs`, `gitRefs`, `s3Refs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentSkills {
    /// Allow plain HTTP / unverified TLS registries (testing only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
    /// OCI images holding skills (at most 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refs: Vec<String>,
    /// Pull secrets for the skill images.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<LocalObjectReference>,
    /// Secret with git credentials (`token` or `ssh-privatekey`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_auth_secret_ref: Option<LocalObjectReference>,
    /// Git repositories holding skills (at most 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub git_refs: Vec<GitRepo>,
    /// S3 locations holding skills.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub s3_refs: Vec<S3Ref>,
    /// Settings of the container fetching skills (Kubernetes mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_container: Option<SkillsInitContainer>,
}

/// A git repository with skills.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GitRepo {
    /// Repository URL (HTTPS or SSH).
    pub url: String,
    /// Branch, tag or commit; `main` when absent.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub ref_: Option<String>,
    /// Subdirectory used as the skill root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Directory name under `/skills`; the repository name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// An S3 location with skills.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct S3Ref {
    /// `s3://bucket/prefix`.
    pub uri: String,
    /// Bucket region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Directory name under `/skills`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The container fetching skills.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SkillsInitContainer {
    /// Resources (kept as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Value>,
    /// Environment.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<EnvVar>,
}

/// `spec.sandbox`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentSandbox {
    /// Network restrictions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<SandboxNetwork>,
}

/// `spec.sandbox.network`: egress is denied except to these domains.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SandboxNetwork {
    /// Domains the agent may reach.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_domains: Vec<String>,
}

/// `spec.declarative`: an agent defined by its system message, model and tools.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeclarativeAgentSpec {
    /// kagent's runtime choice (`python` or `go`); recorded, Palisade has one runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<AgentRuntime>,
    /// The system message; excludes `systemMessageFrom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_message: Option<String>,
    /// Where to read the system message; excludes `systemMessage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_message_from: Option<ValueSource>,
    /// Data sources the system message template may `include`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_template: Option<PromptTemplate>,
    /// ModelConfig (same namespace); [`DEFAULT_MODEL_CONFIG`] when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_config: Option<String>,
    /// Stream model responses; `false` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Tools the agent may call (at most 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Tool>,
    /// A2A server settings (the skills on the agent card).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub a2a_config: Option<A2aConfig>,
    /// Deployment settings (Kubernetes mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<DeclarativeDeployment>,
    /// Long-term memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<AgentMemory>,
    /// Add tools to create, list and delete share links.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share_tools: Option<bool>,
    /// Context management (compaction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<AgentContext>,
    /// Older kagent field (v0.7); accepted and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execute_code_blocks: Option<bool>,
}

/// kagent's agent runtime language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentRuntime {
    /// The Python ADK runtime.
    Python,
    /// The Go runtime.
    Go,
}

/// `declarative.promptTemplate`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromptTemplate {
    /// Objects whose keys the template can include as `alias/key`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_sources: Vec<PromptDataSource>,
}

/// One template data source (usually a ConfigMap).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromptDataSource {
    /// Kind of the object, e.g. `ConfigMap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// API group of the object (`""` for core).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// Object name (same namespace).
    pub name: String,
    /// Name the template uses; the object name when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

/// `declarative.a2aConfig`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct A2aConfig {
    /// Skills advertised on the agent card (at least one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skills: Vec<AgentSkill>,
}

/// An A2A agent skill.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentSkill {
    /// Unique id.
    #[serde(default)]
    pub id: String,
    /// Display name (non-empty).
    #[serde(default)]
    pub name: String,
    /// What the skill does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Keywords (at most 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Example prompts (at most 20).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
    /// Accepted input media types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_modes: Vec<String>,
    /// Produced output media types.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub output_modes: Vec<String>,
}

/// `declarative.memory`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentMemory {
    /// ModelConfig providing embeddings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_config: Option<String>,
    /// Days memories are kept (at least 1); 15 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_days: Option<i32>,
}

/// `declarative.context`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AgentContext {
    /// Conversation compaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compaction: Option<Compaction>,
}

/// `declarative.context.compaction`: summarize old turns.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Compaction {
    /// Turns between compactions (at least 1); 5 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compaction_interval: Option<i32>,
    /// Turns kept overlapping the summary (at least 0); 2 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap_size: Option<i32>,
    /// Model and prompt producing the summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summarizer: Option<Summarizer>,
    /// Token count that triggers compaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_threshold: Option<i64>,
    /// Events kept after compaction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_retention_size: Option<i64>,
}

/// `compaction.summarizer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Summarizer {
    /// ModelConfig used to summarize; the agent's own when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_config: Option<String>,
    /// Summarization prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_template: Option<String>,
}

agent_deployment! {
    /// `declarative.deployment` (Kubernetes mode).
    pub struct DeclarativeDeployment {
        /// Registry to pull the runtime image from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub image_registry: Option<String>,
    }
}

/// `spec.byo`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ByoAgentSpec {
    /// How to run the agent's A2A server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<ByoDeployment>,
}

agent_deployment! {
    /// `byo.deployment`: an image serving A2A on port 8080.
    pub struct ByoDeployment {
        /// Container image (non-empty).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub image: Option<String>,
        /// Command overriding the image entrypoint.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub cmd: Option<String>,
        /// Arguments.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub args: Vec<String>,
        /// Working directory.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub working_dir: Option<String>,
    }
}

/// One tool (set) an agent may call: tools of an MCP server, or another agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Tool {
    /// `McpServer` or `Agent`.
    #[serde(rename = "type")]
    pub type_: ToolType,
    /// The MCP server and its tools; set iff the type is `McpServer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_server: Option<McpServerTool>,
    /// The agent to call; set iff the type is `Agent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<TypedReference>,
    /// Start a fresh A2A context for each call (Agent tools only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolate_sessions: Option<bool>,
    /// Headers added to calls of this tool, overriding the server's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers_from: Vec<ValueRef>,
}

/// `tools[].type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ToolType {
    /// Tools of an MCP server.
    McpServer,
    /// Another agent, called over A2A.
    Agent,
}

/// A reference to a resource by kind, group, name and optional namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypedReference {
    /// Kind of the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// API group of the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// Name of the target.
    pub name: String,
    /// Namespace of the target; the referrer's namespace when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// `tools[].mcpServer`: which server and which of its tools.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpServerTool {
    /// `MCPServer` (the default), `RemoteMCPServer` or `Service`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `kagent.dev` (or empty) for the kagent kinds, empty or `core` for Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_group: Option<String>,
    /// Name of the server.
    pub name: String,
    /// Namespace of the server; the agent's namespace when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Tools offered to the agent (at most 50).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_names: Vec<String>,
    /// Tools needing human approval before each call; each must be in `toolNames`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require_approval: Vec<String>,
    /// A2A request headers forwarded to the MCP calls (case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_headers: Vec<String>,
}

/// The kind of server a [`McpServerTool`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ToolServerKind {
    /// A kmcp `MCPServer`.
    McpServer,
    /// A `RemoteMCPServer`.
    RemoteMcpServer,
    /// A core `Service` speaking MCP.
    Service,
}

impl ToolServerKind {
    /// The kind name as a reference target.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolServerKind::McpServer => "MCPServer",
            ToolServerKind::RemoteMcpServer => "RemoteMCPServer",
            ToolServerKind::Service => "Service",
        }
    }
}

impl McpServerTool {
    /// The server kind from `kind`/`apiGroup` (`MCPServer` when `kind` is empty); `None`
    /// for an unsupported combination.
    pub fn server_kind(&self) -> Option<ToolServerKind> {
        let kind = self.kind.as_deref().unwrap_or("");
        let group = self.api_group.as_deref().unwrap_or("");
        match (group, kind) {
            ("" | "kagent.dev", "" | "MCPServer") => Some(ToolServerKind::McpServer),
            ("" | "kagent.dev", "RemoteMCPServer") => Some(ToolServerKind::RemoteMcpServer),
            ("" | "core", "Service") => Some(ToolServerKind::Service),
            _ => None,
        }
    }

    /// Whether `tool` needs human approval.
    pub fn requires_approval(&self, tool: &str) -> bool {
        self.require_approval.iter().any(|t| t == tool)
    }
}

impl AgentSpec {
    /// The agent type, `Declarative` when absent.
    pub fn agent_type(&self) -> AgentType {
        self.type_.unwrap_or_default()
    }

    /// The ModelConfig name a declarative agent uses (`None` for BYO agents).
    pub fn model_config(&self) -> Option<&str> {
        self.declarative
            .as_ref()
            .map(DeclarativeAgentSpec::model_config)
    }
}

impl DeclarativeAgentSpec {
    /// `modelConfig`, or [`DEFAULT_MODEL_CONFIG`].
    pub fn model_config(&self) -> &str {
        self.model_config
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(DEFAULT_MODEL_CONFIG)
    }

    /// Whether responses are streamed (`false` by default).
    pub fn stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }
}

impl AgentMemory {
    /// Days memories are kept (15 by default).
    pub fn ttl_days(&self) -> i32 {
        self.ttl_days.unwrap_or(15)
    }
}

impl Compaction {
    /// Turns between compactions (5 by default).
    pub fn compaction_interval(&self) -> i32 {
        self.compaction_interval.unwrap_or(5)
    }

    /// Overlapping turns (2 by default).
    pub fn overlap_size(&self) -> i32 {
        self.overlap_size.unwrap_or(2)
    }
}

fn check_url(cx: &mut Checker, field: &str, url: &str) {
    let ok = url.split_once("://").is_some_and(|(scheme, rest)| {
        !scheme.is_empty()
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            && !rest.is_empty()
    });
    if !ok {
        cx.error_at(
            field,
            format!("{url:?} is not a URL"),
            "give an absolute URL like https://example.com/x",
        );
    }
}

impl Check for AgentSpec {
    fn check(&self, cx: &mut Checker) {
        match self.agent_type() {
            AgentType::Declarative => {
                if self.declarative.is_none() {
                    cx.error_at(
                        "declarative",
                        "declarative must be specified if type is Declarative",
                        "add a declarative block (modelConfig, systemMessage, tools)",
                    );
                }
                if self.byo.is_some() {
                    cx.error_at(
                        "byo",
                        "byo is only allowed when type is BYO",
                        "remove byo, or set type: BYO",
                    );
                }
            }
            AgentType::Byo => {
                if self.byo.is_none() {
                    cx.error_at(
                        "byo",
                        "byo must be specified if type is BYO",
                        "add byo.deployment with the image serving A2A",
                    );
                }
                if self.declarative.is_some() {
                    cx.error_at(
                        "declarative",
                        "declarative is only allowed when type is Declarative",
                        "remove declarative, or set type: Declarative",
                    );
                }
            }
        }
        cx.field("declarative", &self.declarative);
        cx.field("byo", &self.byo);
        if let Some(u) = &self.icon_url {
            check_url(cx, "iconUrl", u);
        }
        if let Some(u) = &self.documentation_url {
            check_url(cx, "documentationUrl", u);
        }
        if let Some(p) = &self.provider {
            cx.at("provider", |cx| {
                if p.organization.is_empty() {
                    cx.error_at(
                        "organization",
                        "organization must not be empty",
                        "name the organization",
                    );
                }
                if let Some(u) = &p.url {
                    check_url(cx, "url", u);
                }
            });
        }
        cx.field("skills", &self.skills);
        cx.field("allowedNamespaces", &self.allowed_namespaces);
    }
}

impl Check for AgentSkills {
    fn check(&self, cx: &mut Checker) {
        if self.refs.is_empty() && self.git_refs.is_empty() && self.s3_refs.is_empty() {
            cx.error(
                "skills need at least one of refs, gitRefs, s3Refs",
                "list skill images in refs, repositories in gitRefs or locations in s3Refs",
            );
        }
        if !self.refs.is_empty() {
            cx.len("refs", self.refs.len(), 1, 20);
        }
        if !self.git_refs.is_empty() {
            cx.len("gitRefs", self.git_refs.len(), 1, 20);
        }
        for (i, g) in self.git_refs.iter().enumerate() {
            if g.url.is_empty() {
                cx.at_index("gitRefs", i, |cx| {
                    cx.error_at("url", "url is required", "give the repository URL")
                });
            }
        }
        for (i, s) in self.s3_refs.iter().enumerate() {
            if !s.uri.starts_with("s3://") {
                cx.at_index("s3Refs", i, |cx| {
                    cx.error_at(
                        "uri",
                        format!("{:?} is not an s3:// URI", s.uri),
                        "use s3://bucket/prefix",
                    )
                });
            }
        }
        if let Some(r) = &self.git_auth_secret_ref {
            cx.reference("gitAuthSecretRef.name", "Secret", None, &r.name, false);
        }
    }
}

impl Check for DeclarativeAgentSpec {
    fn check(&self, cx: &mut Checker) {
        if self.system_message.is_some() && self.system_message_from.is_some() {
            cx.error(
                "systemMessage and systemMessageFrom are mutually exclusive",
                "keep one of systemMessage, systemMessageFrom",
            );
        }
        cx.field("systemMessageFrom", &self.system_message_from);
        if let Some(t) = &self.prompt_template {
            for (i, ds) in t.data_sources.iter().enumerate() {
                if ds.kind.as_deref() == Some("Secret") {
                    cx.at("promptTemplate", |cx| {
                        cx.at_index("dataSources", i, |cx| {
                            cx.reference("name", "Secret", None, &ds.name, false)
                        })
                    });
                }
            }
        }
        cx.reference(
            "modelConfig",
            "ModelConfig",
            None,
            self.model_config(),
            false,
        );
        cx.len("tools", self.tools.len(), 0, 20);
        cx.list("tools", &self.tools);
        if let Some(a2a) = &self.a2a_config {
            cx.at("a2aConfig", |cx| {
                if a2a.skills.is_empty() {
                    cx.error_at(
                        "skills",
                        "a2aConfig needs at least one skill",
                        "describe a skill, or remove a2aConfig",
                    );
                }
                for (i, s) in a2a.skills.iter().enumerate() {
                    cx.at_index("skills", i, |cx| {
                        if s.id.is_empty() {
                            cx.error_at("id", "id is required", "give the skill a unique id");
                        }
                        if s.name.is_empty() {
                            cx.error_at("name", "name must not be empty", "give the skill a name");
                        }
                        cx.len("tags", s.tags.len(), 0, 20);
                        cx.len("examples", s.examples.len(), 0, 20);
                    });
                }
            });
        }
        if let Some(d) = &self.deployment {
            cx.at("deployment", |cx| d.check_shared(cx));
        }
        if let Some(m) = &self.memory {
            cx.at("memory", |cx| {
                if let Some(mc) = m.model_config.as_deref() {
                    cx.reference("modelConfig", "ModelConfig", None, mc, false);
                }
                if let Some(d) = m.ttl_days {
                    cx.range("ttlDays", i64::from(d), 1, i64::from(i32::MAX));
                }
            });
        }
        if let Some(c) = self.context.as_ref().and_then(|c| c.compaction.as_ref()) {
            cx.at("context", |cx| {
                cx.at("compaction", |cx| {
                    if let Some(v) = c.compaction_interval {
                        cx.range("compactionInterval", i64::from(v), 1, i64::from(i32::MAX));
                    }
                    if let Some(v) = c.overlap_size {
                        cx.range("overlapSize", i64::from(v), 0, i64::from(i32::MAX));
                    }
                    if let Some(mc) = c
                        .summarizer
                        .as_ref()
                        .and_then(|s| s.model_config.as_deref())
                    {
                        cx.reference("summarizer.modelConfig", "ModelConfig", None, mc, false);
                    }
                })
            });
        }
    }
}

impl Check for ByoAgentSpec {
    fn check(&self, cx: &mut Checker) {
        match &self.deployment {
            None => cx.error_at(
                "deployment",
                "a BYO agent needs a deployment",
                "add deployment.image: the image serving A2A on port 8080",
            ),
            Some(d) => cx.at("deployment", |cx| {
                if d.image.as_deref().is_none_or(str::is_empty) {
                    cx.error_at(
                        "image",
                        "image is required",
                        "give the image serving A2A on port 8080",
                    );
                }
                d.check_shared(cx);
            }),
        }
    }
}

impl Check for Tool {
    fn check(&self, cx: &mut Checker) {
        match self.type_ {
            ToolType::McpServer => {
                if self.mcp_server.is_none() {
                    cx.error_at(
                        "mcpServer",
                        "mcpServer must be specified when type is McpServer",
                        "add mcpServer: {name: <server>, toolNames: [...]}",
                    );
                }
                if self.agent.is_some() {
                    cx.error_at(
                        "agent",
                        "agent must not be set when type is McpServer",
                        "remove agent, or set type: Agent",
                    );
                }
                if self.isolate_sessions.is_some() {
                    cx.error_at(
                        "isolateSessions",
                        "isolateSessions only applies to Agent tools",
                        "remove isolateSessions",
                    );
                }
            }
            ToolType::Agent => {
                if self.agent.is_none() {
                    cx.error_at(
                        "agent",
                        "agent must be specified when type is Agent",
                        "add agent: {name: <agent>}",
                    );
                }
                if self.mcp_server.is_some() {
                    cx.error_at(
                        "mcpServer",
                        "mcpServer must not be set when type is Agent",
                        "remove mcpServer, or set type: McpServer",
                    );
                }
            }
        }
        if let Some(m) = &self.mcp_server {
            cx.field("mcpServer", m);
        }
        if let Some(a) = &self.agent {
            cx.at("agent", |cx| {
                match a.kind.as_deref() {
                    None | Some("") | Some("Agent") => {}
                    Some(k) => cx.error_at(
                        "kind",
                        format!("an Agent tool must reference an Agent, not {k}"),
                        "use kind: Agent, or leave kind out",
                    ),
                }
                if let Some(g) = a
                    .api_group
                    .as_deref()
                    .filter(|g| !g.is_empty() && *g != "kagent.dev")
                {
                    cx.error_at(
                        "apiGroup",
                        format!("unsupported apiGroup {g:?}"),
                        "use kagent.dev or leave it out",
                    );
                }
                if a.name.is_empty() {
                    cx.error_at("name", "name is required", "name the agent to call");
                } else {
                    cx.reference("name", "Agent", a.namespace.as_deref(), &a.name, false);
                }
            });
        }
        cx.list("headersFrom", &self.headers_from);
    }
}

impl Check for McpServerTool {
    fn check(&self, cx: &mut Checker) {
        match self.server_kind() {
            None => cx.error_at(
                "kind",
                format!(
                    "unsupported tool server {}/{}",
                    self.api_group.as_deref().unwrap_or(""),
                    self.kind.as_deref().unwrap_or("")
                ),
                "use kind MCPServer or RemoteMCPServer (group kagent.dev), or Service",
            ),
            Some(kind) => {
                if self.name.is_empty() {
                    cx.error_at("name", "name is required", "name the MCP server");
                } else {
                    cx.reference(
                        "name",
                        kind.as_str(),
                        self.namespace.as_deref(),
                        &self.name,
                        false,
                    );
                }
            }
        }
        cx.len("toolNames", self.tool_names.len(), 0, 50);
        cx.len("requireApproval", self.require_approval.len(), 0, 50);
        for (i, t) in self.require_approval.iter().enumerate() {
            if !self.tool_names.contains(t) {
                cx.at_index("requireApproval", i, |cx| {
                    cx.error(
                        format!("{t:?} is not in toolNames"),
                        "each requireApproval entry must also be listed in toolNames",
                    )
                });
            }
        }
    }
}

// =======================================================================================
// ModelConfig
// =======================================================================================

/// How to reach one LLM: provider, model, credentials and provider options.
pub type ModelConfig = Object<ModelConfigSpec>;

crate::impl_kind!(ModelConfig, group "kagent.dev", versions ["v1alpha2"], kind "ModelConfig", plural "modelconfigs", short ["mc"], namespaced true);

/// `ModelConfig.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ModelConfigSpec {
    /// Model name as the provider knows it, e.g. `claude-sonnet-4-20250514`.
    pub model: String,
    /// The provider; `OpenAI` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ModelProvider>,
    /// Secret (same namespace) holding the API key. For SAPAICore it holds `client_id`
    /// and `client_secret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_secret: Option<String>,
    /// Key of `apiKeySecret` holding the API key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_secret_key: Option<String>,
    /// Use the caller's bearer token as the provider key; excludes `apiKeySecret`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_passthrough: Option<bool>,
    /// Headers added to every provider request.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub default_headers: BTreeMap<String, String>,
    /// OpenAI options (provider `OpenAI` only).
    #[serde(default, rename = "openAI", skip_serializing_if = "Option::is_none")]
    pub open_ai: Option<OpenAiConfig>,
    /// Anthropic options (provider `Anthropic` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anthropic: Option<AnthropicConfig>,
    /// Azure OpenAI options (provider `AzureOpenAI` only).
    #[serde(
        default,
        rename = "azureOpenAI",
        skip_serializing_if = "Option::is_none"
    )]
    pub azure_open_ai: Option<AzureOpenAiConfig>,
    /// Ollama options (provider `Ollama` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ollama: Option<OllamaConfig>,
    /// Gemini options (provider `Gemini` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gemini: Option<GeminiConfig>,
    /// Gemini on Vertex AI options (provider `GeminiVertexAI` only).
    #[serde(
        default,
        rename = "geminiVertexAI",
        skip_serializing_if = "Option::is_none"
    )]
    pub gemini_vertex_ai: Option<GeminiVertexAiConfig>,
    /// Anthropic on Vertex AI options (provider `AnthropicVertexAI` only).
    #[serde(
        default,
        rename = "anthropicVertexAI",
        skip_serializing_if = "Option::is_none"
    )]
    pub anthropic_vertex_ai: Option<AnthropicVertexAiConfig>,
    /// AWS Bedrock options (provider `Bedrock` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bedrock: Option<BedrockConfig>,
    /// SAP AI Core options (provider `SAPAICore` only).
    #[serde(default, rename = "sapAICore", skip_serializing_if = "Option::is_none")]
    pub sap_ai_core: Option<SapAiCoreConfig>,
    /// Azure AI Foundry options (provider `Foundry` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub foundry: Option<FoundryConfig>,
    /// TLS towards the provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

/// `ModelConfig.spec.provider`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ModelProvider {
    /// Anthropic Messages API.
    Anthropic,
    /// OpenAI (and compatible) APIs; the default.
    #[default]
    #[serde(rename = "OpenAI")]
    OpenAi,
    /// Azure OpenAI.
    #[serde(rename = "AzureOpenAI")]
    AzureOpenAi,
    /// Ollama.
    Ollama,
    /// Google Gemini API.
    Gemini,
    /// Gemini on Google Vertex AI.
    #[serde(rename = "GeminiVertexAI")]
    GeminiVertexAi,
    /// Anthropic models on Google Vertex AI.
    #[serde(rename = "AnthropicVertexAI")]
    AnthropicVertexAi,
    /// AWS Bedrock.
    Bedrock,
    /// SAP AI Core.
    #[serde(rename = "SAPAICore")]
    SapAiCore,
    /// Azure AI Foundry.
    Foundry,
}

impl ModelProvider {
    /// The provider name as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelProvider::Anthropic => "Anthropic",
            ModelProvider::OpenAi => "OpenAI",
            ModelProvider::AzureOpenAi => "AzureOpenAI",
            ModelProvider::Ollama => "Ollama",
            ModelProvider::Gemini => "Gemini",
            ModelProvider::GeminiVertexAi => "GeminiVertexAI",
            ModelProvider::AnthropicVertexAi => "AnthropicVertexAI",
            ModelProvider::Bedrock => "Bedrock",
            ModelProvider::SapAiCore => "SAPAICore",
            ModelProvider::Foundry => "Foundry",
        }
    }

    /// The field name of this provider's options block.
    pub fn block_field(self) -> &'static str {
        match self {
            ModelProvider::Anthropic => "anthropic",
            ModelProvider::OpenAi => "openAI",
            ModelProvider::AzureOpenAi => "azureOpenAI",
            ModelProvider::Ollama => "ollama",
            ModelProvider::Gemini => "gemini",
            ModelProvider::GeminiVertexAi => "geminiVertexAI",
            ModelProvider::AnthropicVertexAi => "anthropicVertexAI",
            ModelProvider::Bedrock => "bedrock",
            ModelProvider::SapAiCore => "sapAICore",
            ModelProvider::Foundry => "foundry",
        }
    }

    /// Whether the options block has required fields (so it must be present).
    fn block_required(self) -> bool {
        matches!(
            self,
            ModelProvider::AzureOpenAi
                | ModelProvider::GeminiVertexAi
                | ModelProvider::AnthropicVertexAi
                | ModelProvider::Bedrock
                | ModelProvider::SapAiCore
                | ModelProvider::Foundry
        )
    }
}

/// `spec.openAI`. Sampling values are strings, as in kagent (`temperature: "0.2"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenAiConfig {
    /// API base URL (for OpenAI-compatible servers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// OpenAI organization id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<String>,
    /// Maximum output tokens (at least 1); excludes `maxCompletionTokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i64>,
    /// Maximum completion tokens (at least 1); excludes `maxTokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<i64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<String>,
    /// Frequency penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<String>,
    /// Presence penalty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<String>,
    /// Sampling seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    /// Number of choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<i64>,
    /// Request timeout in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<i64>,
    /// Reasoning effort.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// Which OpenAI API to call; `chatCompletions` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_format: Option<OpenAiApiFormat>,
    /// Obtain the bearer token by exchanging the `apiKeySecret` credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_exchange: Option<TokenExchange>,
}

/// OpenAI `reasoning_effort`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReasoningEffort {
    /// No reasoning.
    None,
    /// Minimal.
    Minimal,
    /// Low.
    Low,
    /// Medium.
    Medium,
    /// High.
    High,
    /// Extra high.
    Xhigh,
    /// Maximum.
    Max,
}

/// `openAI.apiFormat`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OpenAiApiFormat {
    /// `/v1/chat/completions` (the default).
    #[default]
    ChatCompletions,
    /// `/v1/responses`.
    Responses,
}

/// `openAI.tokenExchange`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TokenExchange {
    /// Exchange mechanism.
    #[serde(rename = "type")]
    pub type_: TokenExchangeType,
    /// Settings for `GDCHServiceAccount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gdch_service_account: Option<GdchServiceAccount>,
}

/// `tokenExchange.type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TokenExchangeType {
    /// Google Distributed Cloud Hosted service account exchange.
    #[serde(rename = "GDCHServiceAccount")]
    GdchServiceAccount,
}

/// `tokenExchange.gdchServiceAccount`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GdchServiceAccount {
    /// Audience of the exchanged token.
    pub audience: String,
}

/// `spec.anthropic`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnthropicConfig {
    /// API base URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Maximum output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i64>,
    /// Sampling temperature (string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<String>,
    /// Nucleus sampling (string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<String>,
    /// Top-k sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<i64>,
}

/// `spec.azureOpenAI`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureOpenAiConfig {
    /// Resource endpoint, e.g. `https://x.openai.azure.com/`.
    pub azure_endpoint: String,
    /// API version, e.g. `2024-10-21`.
    pub api_version: String,
    /// Deployment name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_deployment: Option<String>,
    /// Azure AD token (prefer a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure_ad_token: Option<String>,
    /// Sampling temperature (string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<String>,
    /// Maximum output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i64>,
    /// Nucleus sampling (string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<String>,
}

/// `spec.ollama`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OllamaConfig {
    /// Ollama server URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Model options passed through.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// `spec.gemini`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeminiConfig {
    /// Maximum output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<i64>,
}

/// `spec.geminiVertexAI`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GeminiVertexAiConfig {
    /// Google Cloud project id.
    #[serde(rename = "projectID")]
    pub project_id: String,
    /// Region, e.g. `us-central1`.
    pub location: String,
    /// Sampling temperature (string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<String>,
    /// Nucleus sampling (string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<String>,
    /// Top-k sampling (string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<String>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<String>,
    /// Maximum output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<i64>,
    /// Number of candidates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub candidate_count: Option<i64>,
    /// Response media type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_mime_type: Option<String>,
}

/// `spec.anthropicVertexAI`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AnthropicVertexAiConfig {
    /// Google Cloud project id.
    #[serde(rename = "projectID")]
    pub project_id: String,
    /// Region.
    pub location: String,
    /// Sampling temperature (string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<String>,
    /// Nucleus sampling (string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<String>,
    /// Top-k sampling (string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<String>,
    /// Stop sequences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<String>,
    /// Maximum output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<i64>,
}

/// `spec.bedrock`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BedrockConfig {
    /// AWS region, e.g. `us-east-1`.
    pub region: String,
    /// Extra model fields passed as Converse `additionalModelRequestFields` (any JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_model_request_fields: Option<Value>,
    /// Add prompt cache points; `false` by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_caching: Option<bool>,
    /// Cache lifetime: `5m` (the default) or `1h`.
    #[serde(default, rename = "cacheTTL", skip_serializing_if = "Option::is_none")]
    pub cache_ttl: Option<BedrockCacheTtl>,
    /// Bedrock guardrail to apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardrail: Option<BedrockGuardrail>,
    /// Read timeout: a duration (`30s`) or seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_timeout: Option<crate::meta::IntOrString>,
    /// Connect timeout: a duration (`5s`) or seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<crate::meta::IntOrString>,
}

/// `bedrock.cacheTTL`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BedrockCacheTtl {
    /// Five minutes (the default).
    #[default]
    #[serde(rename = "5m")]
    FiveMinutes,
    /// One hour.
    #[serde(rename = "1h")]
    OneHour,
}

/// `bedrock.guardrail`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BedrockGuardrail {
    /// Guardrail id.
    pub identifier: String,
    /// Guardrail version.
    pub version: String,
    /// Trace mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<GuardrailTrace>,
}

/// `guardrail.trace`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardrailTrace {
    /// No trace.
    Disabled,
    /// Trace.
    Enabled,
    /// Full trace.
    EnabledFull,
}

/// `spec.sapAICore`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SapAiCoreConfig {
    /// SAP AI Core API base URL.
    pub base_url: String,
    /// Resource group; `default` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_group: Option<String>,
    /// OAuth token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_url: Option<String>,
}

/// `spec.foundry`: exactly one of `endpoint` and `endpointFrom`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FoundryConfig {
    /// Account endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// ConfigMap key holding the endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint_from: Option<ConfigMapKeySelector>,
    /// Model deployment name.
    pub deployment: String,
    /// Data-plane API version; `2024-10-21` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
}

/// A key of a ConfigMap in the same namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigMapKeySelector {
    /// ConfigMap name.
    #[serde(default)]
    pub name: String,
    /// Key.
    pub key: String,
    /// Tolerate a missing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

impl ModelConfigSpec {
    /// The provider, `OpenAI` when absent.
    pub fn provider(&self) -> ModelProvider {
        self.provider.unwrap_or_default()
    }

    /// Whether the caller's bearer token is forwarded as the key.
    pub fn api_key_passthrough(&self) -> bool {
        self.api_key_passthrough.unwrap_or(false)
    }

    /// The secret name and key holding the API key, when both are set.
    pub fn api_key_ref(&self) -> Option<(&str, &str)> {
        Some((
            self.api_key_secret.as_deref().filter(|s| !s.is_empty())?,
            self.api_key_secret_key
                .as_deref()
                .filter(|s| !s.is_empty())?,
        ))
    }

    /// Which provider blocks are present, by field name.
    fn present_blocks(&self) -> Vec<(ModelProvider, bool)> {
        vec![
            (ModelProvider::OpenAi, self.open_ai.is_some()),
            (ModelProvider::Anthropic, self.anthropic.is_some()),
            (ModelProvider::AzureOpenAi, self.azure_open_ai.is_some()),
            (ModelProvider::Ollama, self.ollama.is_some()),
            (ModelProvider::Gemini, self.gemini.is_some()),
            (
                ModelProvider::GeminiVertexAi,
                self.gemini_vertex_ai.is_some(),
            ),
            (
                ModelProvider::AnthropicVertexAi,
                self.anthropic_vertex_ai.is_some(),
            ),
            (ModelProvider::Bedrock, self.bedrock.is_some()),
            (ModelProvider::SapAiCore, self.sap_ai_core.is_some()),
            (ModelProvider::Foundry, self.foundry.is_some()),
        ]
    }
}

impl Check for ModelConfigSpec {
    fn check(&self, cx: &mut Checker) {
        let provider = self.provider();
        if self.model.is_empty() {
            cx.error_at(
                "model",
                "model is required",
                "name the model, e.g. gpt-4o or claude-sonnet-4-20250514",
            );
        }
        for (p, present) in self.present_blocks() {
            if present && p != provider {
                cx.error_at(
                    p.block_field(),
                    format!(
                        "provider.{} must be nil if the provider is not {} (provider is {})",
                        p.block_field(),
                        p.as_str(),
                        provider.as_str()
                    ),
                    format!(
                        "remove `{}`, or set provider: {} (options for {} go under `{}`)",
                        p.block_field(),
                        p.as_str(),
                        provider.as_str(),
                        provider.block_field()
                    ),
                );
            }
            if !present && p == provider && p.block_required() {
                cx.error_at(
                    p.block_field(),
                    format!(
                        "provider {} needs the `{}` block",
                        p.as_str(),
                        p.block_field()
                    ),
                    format!("add {}: with its required fields", p.block_field()),
                );
            }
        }
        let has_secret = non_empty(&self.api_key_secret);
        let has_key = non_empty(&self.api_key_secret_key);
        let passthrough = self.api_key_passthrough();
        if has_key && !has_secret {
            cx.error_at(
                "apiKeySecretKey",
                "apiKeySecret must be set if apiKeySecretKey is set",
                "name the Secret holding the key in apiKeySecret",
            );
        }
        if has_secret
            && !has_key
            && !matches!(provider, ModelProvider::Bedrock | ModelProvider::SapAiCore)
        {
            cx.error_at(
                "apiKeySecret",
                "apiKeySecretKey must be set if apiKeySecret is set (except for Bedrock and SAPAICore)",
                "name the key of the Secret holding the API key in apiKeySecretKey",
            );
        }
        if passthrough && has_secret {
            cx.error_at(
                "apiKeyPassthrough",
                "apiKeyPassthrough and apiKeySecret are mutually exclusive",
                "keep apiKeySecret (a stored key) or apiKeyPassthrough (the caller's token)",
            );
        }
        if passthrough
            && matches!(
                provider,
                ModelProvider::Gemini
                    | ModelProvider::GeminiVertexAi
                    | ModelProvider::AnthropicVertexAi
            )
        {
            cx.error_at(
                "apiKeyPassthrough",
                format!(
                    "apiKeyPassthrough is not supported for provider {}",
                    provider.as_str()
                ),
                "remove apiKeyPassthrough",
            );
        }
        if let Some(secret) = self.api_key_secret.as_deref().filter(|s| !s.is_empty()) {
            cx.reference("apiKeySecret", "Secret", None, secret, false);
        }
        if let Some(o) = &self.open_ai {
            cx.at("openAI", |cx| {
                if o.max_tokens.is_some() && o.max_completion_tokens.is_some() {
                    cx.error(
                        "maxTokens and maxCompletionTokens are mutually exclusive",
                        "keep one of maxTokens, maxCompletionTokens",
                    );
                }
                if let Some(v) = o.max_tokens {
                    cx.range("maxTokens", v, 1, i64::MAX);
                }
                if let Some(v) = o.max_completion_tokens {
                    cx.range("maxCompletionTokens", v, 1, i64::MAX);
                }
                if let Some(te) = &o.token_exchange {
                    cx.at("tokenExchange", |cx| {
                        if !has_secret {
                            cx.error(
                                "openAI.tokenExchange requires apiKeySecret (the service account secret)",
                                "set apiKeySecret to the Secret holding the service account credential",
                            );
                        }
                        if passthrough {
                            cx.error(
                                "openAI.tokenExchange and apiKeyPassthrough are mutually exclusive",
                                "remove apiKeyPassthrough",
                            );
                        }
                        if te.type_ == TokenExchangeType::GdchServiceAccount && te.gdch_service_account.is_none() {
                            cx.error_at(
                                "gdchServiceAccount",
                                "type GDCHServiceAccount requires gdchServiceAccount",
                                "add gdchServiceAccount: {audience: <url>}",
                            );
                        }
                    });
                }
                if let Some(u) = &o.base_url {
                    check_url(cx, "baseUrl", u);
                }
            });
        }
        if let Some(a) = &self.anthropic
            && let Some(u) = &a.base_url
        {
            cx.at("anthropic", |cx| check_url(cx, "baseUrl", u));
        }
        if let Some(a) = &self.azure_open_ai {
            cx.at("azureOpenAI", |cx| {
                check_url(cx, "azureEndpoint", &a.azure_endpoint)
            });
        }
        if let Some(s) = &self.sap_ai_core {
            cx.at("sapAICore", |cx| check_url(cx, "baseUrl", &s.base_url));
        }
        if let Some(f) = &self.foundry {
            cx.at("foundry", |cx| {
                let has_endpoint = f.endpoint.as_deref().is_some_and(|e| !e.is_empty());
                cx.exactly_one(&[
                    ("endpoint", has_endpoint),
                    ("endpointFrom", f.endpoint_from.is_some()),
                ]);
                if f.deployment.is_empty() {
                    cx.error_at(
                        "deployment",
                        "deployment is required",
                        "name the Foundry model deployment",
                    );
                }
            });
        }
        if let Some(b) = &self.bedrock {
            cx.at("bedrock", |cx| {
                for (field, v) in [
                    ("readTimeout", &b.read_timeout),
                    ("connectTimeout", &b.connect_timeout),
                ] {
                    match v {
                        Some(crate::meta::IntOrString::String(s)) => cx.duration(field, s),
                        Some(crate::meta::IntOrString::Int(n)) => cx.range(field, *n, 0, i64::MAX),
                        None => {}
                    }
                }
            });
        }
        cx.field("tls", &self.tls);
    }
}

// =======================================================================================
// RemoteMCPServer
// =======================================================================================

/// An MCP server reached over HTTP (streamable HTTP or SSE) at a URL.
pub type RemoteMcpServer = Object<RemoteMcpServerSpec>;

crate::impl_kind!(RemoteMcpServer, group "kagent.dev", versions ["v1alpha2"], kind "RemoteMCPServer", plural "remotemcpservers", short ["rmcps"], namespaced true);

/// Timeout for MCP requests when `timeout` is absent.
pub const DEFAULT_MCP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// `RemoteMCPServer.spec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoteMcpServerSpec {
    /// What the server offers.
    pub description: String,
    /// `STREAMABLE_HTTP` (the default) or `SSE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<McpProtocol>,
    /// Server URL, e.g. `https://mcp.example.com/mcp`.
    pub url: String,
    /// Headers sent on every request (e.g. an upstream token from a Secret).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers_from: Vec<ValueRef>,
    /// Request timeout; `30s` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// SSE read timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse_read_timeout: Option<String>,
    /// Close the upstream session when the client's ends; `true` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub terminate_on_close: Option<bool>,
    /// Which namespaces' agents may use this server; same namespace only when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_namespaces: Option<AllowedNamespaces>,
    /// TLS towards the server (https URLs only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
}

/// MCP transport of a remote server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum McpProtocol {
    /// Legacy HTTP+SSE transport.
    #[serde(rename = "SSE")]
    Sse,
    /// Streamable HTTP (the default).
    #[default]
    #[serde(rename = "STREAMABLE_HTTP")]
    StreamableHttp,
}

impl RemoteMcpServerSpec {
    /// The protocol, `STREAMABLE_HTTP` when absent.
    pub fn protocol(&self) -> McpProtocol {
        self.protocol.unwrap_or_default()
    }

    /// The request timeout, [`DEFAULT_MCP_TIMEOUT`] when absent or invalid.
    pub fn timeout(&self) -> std::time::Duration {
        self.timeout
            .as_deref()
            .and_then(crate::duration::parse)
            .unwrap_or(DEFAULT_MCP_TIMEOUT)
    }

    /// The SSE read timeout, when given and valid.
    pub fn sse_read_timeout(&self) -> Option<std::time::Duration> {
        self.sse_read_timeout
            .as_deref()
            .and_then(crate::duration::parse)
    }

    /// Whether upstream sessions end with the client's (`true` by default).
    pub fn terminate_on_close(&self) -> bool {
        self.terminate_on_close.unwrap_or(true)
    }
}

impl Check for RemoteMcpServerSpec {
    fn check(&self, cx: &mut Checker) {
        let lower = self.url.to_ascii_lowercase();
        if self.url.is_empty() {
            cx.error_at(
                "url",
                "url must not be empty",
                "give the server URL, e.g. https://mcp.example.com/mcp",
            );
        } else if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            cx.error_at(
                "url",
                format!("{:?} is not an http(s) URL", self.url),
                "give the server URL, e.g. https://mcp.example.com/mcp",
            );
        }
        if let Some(tls) = &self.tls {
            if lower.starts_with("http://") {
                cx.error_at(
                    "tls",
                    "tls settings are not allowed with an http:// URL",
                    "use an https:// URL, or remove tls",
                );
            }
            if tls.has_ca()
                && self
                    .allowed_namespaces
                    .as_ref()
                    .is_some_and(|a| a.from() != FromNamespaces::Same)
            {
                cx.error_at(
                    "allowedNamespaces",
                    "a server pinning a CA secret cannot be shared with other namespaces",
                    "use allowedNamespaces.from: Same, or drop tls.caCertSecretRef",
                );
            }
        }
        if let Some(t) = &self.timeout {
            cx.duration("timeout", t);
        }
        if let Some(t) = &self.sse_read_timeout {
            cx.duration("sseReadTimeout", t);
        }
        cx.list("headersFrom", &self.headers_from);
        cx.field("allowedNamespaces", &self.allowed_namespaces);
        cx.field("tls", &self.tls);
    }
}

// =======================================================================================
// MCPServer (kmcp)
// =======================================================================================

/// An MCP server Palisade runs: a local command over stdio (standalone) or a container
/// (Kubernetes mode), speaking stdio or streamable HTTP.
pub type McpServer = Object<McpServerSpec>;

crate::impl_kind!(McpServer, group "kagent.dev", versions ["v1alpha1"], kind "MCPServer", plural "mcpservers", short ["mcps", "mcp"], namespaced true);

/// Port an MCPServer listens on when `deployment.port` is absent.
pub const DEFAULT_MCP_SERVER_PORT: u16 = 3000;

/// `MCPServer.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpServerSpec {
    /// How to run the server.
    pub deployment: McpServerDeployment,
    /// `stdio` or `http`; `http` when `httpTransport` is given, else `stdio`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transport_type: Option<TransportType>,
    /// Stdio transport settings (none today).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdio_transport: Option<StdioTransport>,
    /// Streamable HTTP transport settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_transport: Option<HttpTransport>,
    /// Request timeout; `30s` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// kmcp's JWT authentication block (kept as given; use Palisade policies instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authn: Option<Value>,
    /// kmcp's authorization block (kept as given; use Palisade policies instead).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authz: Option<Value>,
    /// kmcp's route filter (CORS) block (kept as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route_filter: Option<Value>,
}

/// `MCPServer.spec.transportType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportType {
    /// JSON-RPC over the process's stdin/stdout.
    Stdio,
    /// Streamable HTTP on `httpTransport.targetPort`.
    Http,
}

/// `MCPServer.spec.stdioTransport` (no settings).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StdioTransport {}

/// `MCPServer.spec.httpTransport`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpTransport {
    /// Port the server serves MCP on; `deployment.port` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<i64>,
    /// Path MCP is served at; `/mcp` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// TLS towards the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<HttpTransportTls>,
}

/// `httpTransport.tls`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HttpTransportTls {
    /// Secret with `tls.crt`, `tls.key` and `ca.crt`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Skip certificate verification (testing only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub insecure_skip_verify: Option<bool>,
}

/// `MCPServer.spec.deployment`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpServerDeployment {
    /// Container image (Kubernetes mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Image pull policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<PullPolicy>,
    /// Port the server (or its stdio adapter) listens on; 3000 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i64>,
    /// Command starting the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<String>,
    /// Arguments of the command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    /// Environment variables.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Secrets mounted into the server (their keys also become available to it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_refs: Vec<ObjectReference>,
    /// ConfigMaps mounted into the server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config_map_refs: Vec<ObjectReference>,
    /// Pod volumes (kept as given).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<Value>,
    /// Container volume mounts (kept as given).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume_mounts: Vec<Value>,
    /// Init container copying the stdio adapter (Kubernetes mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_container: Option<McpInitContainer>,
    /// Settings of the ServiceAccount created for the server; excludes
    /// `serviceAccountName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account: Option<ServiceAccountConfig>,
    /// Existing ServiceAccount to run as; excludes `serviceAccount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Sidecar containers (kept as given).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sidecars: Vec<Value>,
    /// Pod labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Pod annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Container resources (kept as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Value>,
    /// Container security context (kept as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<Value>,
    /// Pod security context (kept as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_security_context: Option<Value>,
    /// Pod tolerations (kept as given).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tolerations: Vec<Value>,
    /// Pod affinity (kept as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Value>,
    /// Node selector.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub node_selector: BTreeMap<String, String>,
    /// Pod replicas; 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
    /// Image pull secrets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<LocalObjectReference>,
}

/// `deployment.initContainer`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct McpInitContainer {
    /// Image overriding the default adapter image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Image pull policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<PullPolicy>,
    /// Resources (kept as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Value>,
    /// Security context (kept as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_context: Option<Value>,
}

impl McpServerSpec {
    /// The transport: `transportType`, else `http` when `httpTransport` is given, else
    /// `stdio`.
    pub fn transport(&self) -> TransportType {
        self.transport_type
            .unwrap_or(if self.http_transport.is_some() {
                TransportType::Http
            } else {
                TransportType::Stdio
            })
    }

    /// The command line to start the server (`cmd` then `args`); `None` without `cmd`
    /// (the image's entrypoint is used in Kubernetes mode).
    pub fn command(&self) -> Option<(&str, &[String])> {
        let cmd = self.deployment.cmd.as_deref().filter(|c| !c.is_empty())?;
        Some((cmd, &self.deployment.args))
    }

    /// The deployment port, 3000 when absent.
    pub fn port(&self) -> u16 {
        self.deployment
            .port
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p != 0)
            .unwrap_or(DEFAULT_MCP_SERVER_PORT)
    }

    /// The port MCP is served on over HTTP: `httpTransport.targetPort`, else [`Self::port`].
    pub fn http_port(&self) -> u16 {
        self.http_transport
            .as_ref()
            .and_then(|h| h.target_port)
            .and_then(|p| u16::try_from(p).ok())
            .filter(|p| *p != 0)
            .unwrap_or_else(|| self.port())
    }

    /// The HTTP path MCP is served at, `/mcp` when absent.
    pub fn http_path(&self) -> &str {
        self.http_transport
            .as_ref()
            .and_then(|h| h.path.as_deref())
            .unwrap_or("/mcp")
    }

    /// The request timeout, [`DEFAULT_MCP_TIMEOUT`] when absent or invalid.
    pub fn timeout(&self) -> std::time::Duration {
        self.timeout
            .as_deref()
            .and_then(crate::duration::parse)
            .unwrap_or(DEFAULT_MCP_TIMEOUT)
    }
}

impl Object<McpServerSpec> {
    /// See [`McpServerSpec::command`].
    pub fn command(&self) -> Option<(&str, &[String])> {
        self.spec.command()
    }
}

impl Check for McpServerSpec {
    fn check(&self, cx: &mut Checker) {
        let d = &self.deployment;
        cx.at("deployment", |cx| {
            if d.service_account.is_some() && d.service_account_name.is_some() {
                cx.error(
                    "serviceAccount and serviceAccountName are mutually exclusive",
                    "keep serviceAccountName (an existing account) or serviceAccount (settings of the created one)",
                );
            }
            if d.cmd.as_deref().is_none_or(str::is_empty) && d.image.as_deref().is_none_or(str::is_empty) {
                cx.error(
                    "deployment needs cmd (standalone) or image (Kubernetes)",
                    "set cmd and args, e.g. cmd: npx, args: [-y, <package>]",
                );
            }
            if let Some(p) = d.port {
                cx.range("port", p, 1, 65535);
            }
            if let Some(r) = d.replicas {
                cx.range("replicas", i64::from(r), 0, i64::from(i32::MAX));
            }
            for (i, s) in d.secret_refs.iter().enumerate() {
                cx.at_index("secretRefs", i, |cx| {
                    if s.kind.as_deref().is_some_and(|k| !k.is_empty() && k != "Secret") {
                        cx.error_at("kind", "secretRefs must name Secrets", "use kind: Secret, or leave kind out");
                    }
                    if s.name.is_empty() {
                        cx.error_at("name", "name is required", "name the Secret");
                    } else {
                        cx.reference("name", "Secret", s.namespace.as_deref(), &s.name, false);
                    }
                });
            }
        });
        match self.transport() {
            TransportType::Stdio => {
                if self.http_transport.is_some() {
                    cx.error_at(
                        "httpTransport",
                        "httpTransport is only allowed with transportType: http",
                        "remove httpTransport, or set transportType: http",
                    );
                }
            }
            TransportType::Http => {
                if self.stdio_transport.is_some() {
                    cx.error_at(
                        "stdioTransport",
                        "stdioTransport is only allowed with transportType: stdio",
                        "remove stdioTransport, or set transportType: stdio",
                    );
                }
            }
        }
        if let Some(h) = &self.http_transport {
            cx.at("httpTransport", |cx| {
                if let Some(p) = h.target_port {
                    cx.range("targetPort", p, 1, 65535);
                }
                if let Some(path) = &h.path
                    && !path.starts_with('/')
                {
                    cx.error_at(
                        "path",
                        format!("path {path:?} must start with /"),
                        "e.g. /mcp",
                    );
                }
                if let Some(name) = h
                    .tls
                    .as_ref()
                    .and_then(|t| t.secret_ref.as_ref())
                    .map(|r| &r.name)
                {
                    cx.reference("tls.secretRef.name", "Secret", None, name, false);
                }
            });
        }
        if let Some(t) = &self.timeout {
            cx.duration("timeout", t);
        }
    }
}
