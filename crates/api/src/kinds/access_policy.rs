//! `AccessPolicy` (`policy.kagent-enterprise.solo.io/v1alpha1`): who (agents, service
//! accounts, users, groups of users) may or may not reach a target (an MCP server and
//! optionally some of its tools, an agent, a model).
//!
//! ```yaml
//! spec:
//!   from:
//!     subjects:
//!     - {kind: Agent, name: test-tools-agent, namespace: policies}
//!   targetRef: {kind: MCPServer, name: test-mcp-server, tools: ["search_repositories"]}
//!   action: DENY
//! ```
//!
//! A denied tool is refused when called and removed from `tools/list`.

use serde::{Deserialize, Serialize};

use crate::check::{Check, Checker};
use crate::meta::Object;

/// An access policy over agents, MCP servers, their tools and models.
pub type AccessPolicy = Object<AccessPolicySpec>;

crate::impl_kind!(AccessPolicy, group "policy.kagent-enterprise.solo.io", versions ["v1alpha1"], kind "AccessPolicy", plural "accesspolicies", short [], namespaced true);

/// `AccessPolicy.spec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccessPolicySpec {
    /// Whom the policy is about.
    pub from: PolicySource,
    /// What the policy guards.
    pub target_ref: PolicyTarget,
    /// Whether matching requests are allowed or denied.
    pub action: PolicyAction,
}

/// `spec.from`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicySource {
    /// The callers the policy matches (any of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subjects: Vec<PolicySubject>,
}

/// One caller an AccessPolicy matches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicySubject {
    /// What kind of caller.
    pub kind: SubjectKind,
    /// Agent or ServiceAccount name; the user name for `User` (the provider's user name
    /// claim); a display name for `UserGroup`.
    #[serde(default)]
    pub name: String,
    /// Namespace of an Agent or ServiceAccount; the policy's namespace when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The claim test defining a `UserGroup` (required for that kind only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_group: Option<UserGroup>,
}

/// Kind of a [`PolicySubject`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SubjectKind {
    /// A kagent Agent (its own identity on every hop).
    Agent,
    /// A ServiceAccount (`system:serviceaccount:<ns>:<name>`).
    ServiceAccount,
    /// A single human user.
    User,
    /// Users whose token carries a claim value.
    UserGroup,
}

/// A group of users defined by a claim of their token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserGroup {
    /// Claim to test, e.g. `groups`.
    pub claim_name: String,
    /// Value the claim must equal (or contain, for list claims).
    pub claim_value: String,
    /// Token issuer the group applies to; any configured provider when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Audiences the token must carry; any when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// Keys verifying the token, when they are not those of a configured provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_key: Option<JwksKey>,
}

/// Where token verification keys come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JwksKey {
    /// An inline JWKS document (JSON text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<String>,
    /// A remote JWKS endpoint (shape not fixed yet; kept as given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<serde_json::Value>,
}

/// `spec.targetRef`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyTarget {
    /// Kind of the target.
    pub kind: TargetKind,
    /// Name of the target.
    pub name: String,
    /// Namespace of the target; the policy's namespace when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// MCP tool names the policy is limited to (MCP server targets only); empty means
    /// the target as a whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
}

/// Kind of a [`PolicyTarget`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TargetKind {
    /// A kmcp `MCPServer`.
    #[serde(rename = "MCPServer")]
    McpServer,
    /// A `RemoteMCPServer`.
    #[serde(rename = "RemoteMCPServer")]
    RemoteMcpServer,
    /// An `Agent` (A2A calls to it).
    Agent,
    /// A `ModelConfig` (LLM calls through it).
    ModelConfig,
}

impl TargetKind {
    /// The kind name as written in manifests.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::McpServer => "MCPServer",
            TargetKind::RemoteMcpServer => "RemoteMCPServer",
            TargetKind::Agent => "Agent",
            TargetKind::ModelConfig => "ModelConfig",
        }
    }

    /// Whether the target serves MCP tools.
    pub fn is_mcp(self) -> bool {
        matches!(self, TargetKind::McpServer | TargetKind::RemoteMcpServer)
    }
}

/// `spec.action`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PolicyAction {
    /// Matching requests are allowed.
    #[serde(rename = "ALLOW")]
    Allow,
    /// Matching requests are denied (403; denied tools are hidden from `tools/list`).
    #[serde(rename = "DENY")]
    Deny,
}

impl PolicyTarget {
    /// Whether the policy concerns tool `tool` of the target: `tools` is empty, or lists
    /// it, or lists `*`.
    pub fn covers_tool(&self, tool: &str) -> bool {
        self.tools.is_empty() || self.tools.iter().any(|t| t == tool || t == "*")
    }
}

impl Check for AccessPolicySpec {
    fn check(&self, cx: &mut Checker) {
        cx.at("from", |cx| {
            if self.from.subjects.is_empty() {
                cx.error_at(
                    "subjects",
                    "an access policy needs at least one subject",
                    "list the agents, service accounts, users or user groups it applies to",
                );
            }
            cx.list("subjects", &self.from.subjects);
        });
        cx.field("targetRef", &self.target_ref);
    }
}

impl Check for PolicySubject {
    fn check(&self, cx: &mut Checker) {
        match self.kind {
            SubjectKind::Agent | SubjectKind::ServiceAccount => {
                let kind = if self.kind == SubjectKind::Agent {
                    "Agent"
                } else {
                    "ServiceAccount"
                };
                if self.name.is_empty() {
                    cx.error_at("name", "name is required", format!("name the {kind}"));
                } else {
                    cx.reference("name", kind, self.namespace.as_deref(), &self.name, false);
                }
            }
            SubjectKind::User => {
                if self.name.is_empty() {
                    cx.error_at(
                        "name",
                        "name is required",
                        "give the user name (as in the username claim)",
                    );
                }
                if self.namespace.is_some() {
                    cx.warning_at(
                        "namespace",
                        "a User subject has no namespace; it is ignored",
                        "remove namespace",
                    );
                }
            }
            SubjectKind::UserGroup => {
                if self.user_group.is_none() {
                    cx.error_at(
                        "userGroup",
                        "a UserGroup subject needs `userGroup`",
                        "set userGroup: {claimName: groups, claimValue: <group>}",
                    );
                }
            }
        }
        if let Some(g) = &self.user_group {
            cx.at("userGroup", |cx| {
                if self.kind != SubjectKind::UserGroup {
                    cx.error(
                        format!(
                            "userGroup is only allowed on UserGroup subjects, not {:?}",
                            self.kind
                        ),
                        "remove userGroup, or set kind: UserGroup",
                    );
                }
                if g.claim_name.is_empty() {
                    cx.error_at(
                        "claimName",
                        "claimName is required",
                        "name the claim, e.g. groups",
                    );
                }
                if g.claim_value.is_empty() {
                    cx.error_at(
                        "claimValue",
                        "claimValue is required",
                        "give the claim value to match",
                    );
                }
                if let Some(k) = &g.jwks_key {
                    cx.at("jwksKey", |cx| {
                        cx.exactly_one(&[
                            ("inline", k.inline.is_some()),
                            ("remote", k.remote.is_some()),
                        ])
                    });
                }
            });
        }
    }
}

impl Check for PolicyTarget {
    fn check(&self, cx: &mut Checker) {
        if self.name.is_empty() {
            cx.error_at(
                "name",
                "name is required",
                format!("name the {}", self.kind.as_str()),
            );
        } else {
            cx.reference(
                "name",
                self.kind.as_str(),
                self.namespace.as_deref(),
                &self.name,
                false,
            );
        }
        if !self.tools.is_empty() && !self.kind.is_mcp() {
            cx.error_at(
                "tools",
                format!(
                    "tools only apply to MCP server targets, not {}",
                    self.kind.as_str()
                ),
                "remove tools, or target an MCPServer or RemoteMCPServer",
            );
        }
        for (i, t) in self.tools.iter().enumerate() {
            if t.is_empty() {
                cx.at_index("tools", i, |cx| {
                    cx.error("empty tool name", "remove it or name a tool")
                });
            }
        }
    }
}
