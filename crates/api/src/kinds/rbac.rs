//! PLACEHOLDER: replaced by the real types.
#![allow(missing_docs)]
use serde::{Deserialize, Serialize};
use crate::check::{Check, Checker};
use crate::meta::Object;
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoleSpec(pub serde_json::Value);
impl Check for RoleSpec { fn check(&self, _cx: &mut Checker) {} }
pub type Role = Object<RoleSpec>;
crate::impl_kind!(Role, group "rbac.authorization.k8s.io", versions ["v1"], kind "Role", plural "roles", short [], namespaced true);
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClusterRoleSpec(pub serde_json::Value);
impl Check for ClusterRoleSpec { fn check(&self, _cx: &mut Checker) {} }
pub type ClusterRole = Object<ClusterRoleSpec>;
crate::impl_kind!(ClusterRole, group "rbac.authorization.k8s.io", versions ["v1"], kind "ClusterRole", plural "clusterroles", short [], namespaced false);
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RoleBindingSpec(pub serde_json::Value);
impl Check for RoleBindingSpec { fn check(&self, _cx: &mut Checker) {} }
pub type RoleBinding = Object<RoleBindingSpec>;
crate::impl_kind!(RoleBinding, group "rbac.authorization.k8s.io", versions ["v1"], kind "RoleBinding", plural "rolebindings", short [], namespaced true);
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClusterRoleBindingSpec(pub serde_json::Value);
impl Check for ClusterRoleBindingSpec { fn check(&self, _cx: &mut Checker) {} }
pub type ClusterRoleBinding = Object<ClusterRoleBindingSpec>;
crate::impl_kind!(ClusterRoleBinding, group "rbac.authorization.k8s.io", versions ["v1"], kind "ClusterRoleBinding", plural "clusterrolebindings", short [], namespaced false);
