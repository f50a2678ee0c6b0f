//! PLACEHOLDER: replaced by the real types.
#![allow(missing_docs)]
use serde::{Deserialize, Serialize};
use crate::check::{Check, Checker};
use crate::meta::Object;
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AgentSpec(pub serde_json::Value);
impl Check for AgentSpec { fn check(&self, _cx: &mut Checker) {} }
pub type Agent = Object<AgentSpec>;
crate::impl_kind!(Agent, group "kagent.dev", versions ["v1alpha2"], kind "Agent", plural "agents", short [], namespaced true);
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ModelConfigSpec(pub serde_json::Value);
impl Check for ModelConfigSpec { fn check(&self, _cx: &mut Checker) {} }
pub type ModelConfig = Object<ModelConfigSpec>;
crate::impl_kind!(ModelConfig, group "kagent.dev", versions ["v1alpha2"], kind "ModelConfig", plural "modelconfigs", short ["mc"], namespaced true);
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RemoteMcpServerSpec(pub serde_json::Value);
impl Check for RemoteMcpServerSpec { fn check(&self, _cx: &mut Checker) {} }
pub type RemoteMcpServer = Object<RemoteMcpServerSpec>;
crate::impl_kind!(RemoteMcpServer, group "kagent.dev", versions ["v1alpha2"], kind "RemoteMCPServer", plural "remotemcpservers", short ["rmcps"], namespaced true);
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct McpServerSpec(pub serde_json::Value);
impl Check for McpServerSpec { fn check(&self, _cx: &mut Checker) {} }
pub type McpServer = Object<McpServerSpec>;
crate::impl_kind!(McpServer, group "kagent.dev", versions ["v1alpha1"], kind "MCPServer", plural "mcpservers", short ["mcps", "mcp"], namespaced true);
