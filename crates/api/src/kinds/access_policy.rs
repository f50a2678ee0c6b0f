//! PLACEHOLDER: replaced by the real types.
#![allow(missing_docs)]
use serde::{Deserialize, Serialize};
use crate::check::{Check, Checker};
use crate::meta::Object;
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccessPolicySpec(pub serde_json::Value);
impl Check for AccessPolicySpec { fn check(&self, _cx: &mut Checker) {} }
pub type AccessPolicy = Object<AccessPolicySpec>;
crate::impl_kind!(AccessPolicy, group "policy.kagent-enterprise.solo.io", versions ["v1alpha1"], kind "AccessPolicy", plural "accesspolicies", short [], namespaced true);
