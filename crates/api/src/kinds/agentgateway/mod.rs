//! PLACEHOLDER: replaced by the real types.
#![allow(missing_docs)]
use serde::{Deserialize, Serialize};
use crate::check::{Check, Checker};
use crate::meta::Object;
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PolicySpec(pub serde_json::Value);
impl Check for PolicySpec { fn check(&self, _cx: &mut Checker) {} }
pub type AgentgatewayPolicy = Object<PolicySpec>;
crate::impl_kind!(AgentgatewayPolicy, group "agentgateway.dev", versions ["v1alpha1"], kind "AgentgatewayPolicy", plural "agentgatewaypolicies", short ["agpol"], namespaced true);
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EnterprisePolicySpec(pub serde_json::Value);
impl Check for EnterprisePolicySpec { fn check(&self, _cx: &mut Checker) {} }
pub type EnterpriseAgentgatewayPolicy = Object<EnterprisePolicySpec>;
crate::impl_kind!(EnterpriseAgentgatewayPolicy, group "enterpriseagentgateway.solo.io", versions ["v1alpha1"], kind "EnterpriseAgentgatewayPolicy", plural "enterpriseagentgatewaypolicies", short ["eagpol"], namespaced true);
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BackendSpec(pub serde_json::Value);
impl Check for BackendSpec { fn check(&self, _cx: &mut Checker) {} }
pub type AgentgatewayBackend = Object<BackendSpec>;
crate::impl_kind!(AgentgatewayBackend, group "agentgateway.dev", versions ["v1alpha1"], kind "AgentgatewayBackend", plural "agentgatewaybackends", short ["agbe"], namespaced true);
