//! agentgateway kinds: `AgentgatewayPolicy` (`agentgateway.dev`), its enterprise twin
//! `EnterpriseAgentgatewayPolicy` (`enterpriseagentgateway.solo.io`) and
//! `AgentgatewayBackend`.
//!
//! One module per concept: [`policy`] (spec and targeting), [`frontend`], [`traffic`],
//! [`authn`], [`external`] (ext auth / ext proc), [`rate_limit`], [`transformation`],
//! [`backend_policy`], [`backend_auth`], [`ai`], [`mcp_policy`], [`backend`]
//! (AgentgatewayBackend spec) and [`shared`] building blocks.
//!
//! Defaults are documented on each field and exposed through accessors; they are never
//! filled in at parse time. Zero trust: authentication modes default to `Strict`.

pub mod ai;
pub mod authn;
pub mod backend;
pub mod backend_auth;
pub mod backend_policy;
pub mod external;
pub mod frontend;
pub mod mcp_policy;
pub mod policy;
pub mod rate_limit;
pub mod shared;
pub mod traffic;
pub mod transformation;

use crate::meta::Object;

pub use backend::BackendSpec;
pub use backend_policy::BackendPolicy;
pub use policy::{EnterprisePolicySpec, PolicySpec};
pub use traffic::Traffic;

/// An AgentgatewayPolicy.
pub type AgentgatewayPolicy = Object<PolicySpec>;
crate::impl_kind!(AgentgatewayPolicy, group "agentgateway.dev", versions ["v1alpha1"], kind "AgentgatewayPolicy", plural "agentgatewaypolicies", short ["agpol"], namespaced true);

/// An EnterpriseAgentgatewayPolicy (same spec as [`AgentgatewayPolicy`]).
pub type EnterpriseAgentgatewayPolicy = Object<EnterprisePolicySpec>;
crate::impl_kind!(EnterpriseAgentgatewayPolicy, group "enterpriseagentgateway.solo.io", versions ["v1alpha1"], kind "EnterpriseAgentgatewayPolicy", plural "enterpriseagentgatewaypolicies", short ["eagpol"], namespaced true);

/// An AgentgatewayBackend.
pub type AgentgatewayBackend = Object<BackendSpec>;
crate::impl_kind!(AgentgatewayBackend, group "agentgateway.dev", versions ["v1alpha1"], kind "AgentgatewayBackend", plural "agentgatewaybackends", short ["agbe"], namespaced true);
