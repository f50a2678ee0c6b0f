//! PLACEHOLDER: replaced by the real types.
#![allow(missing_docs)]
use serde::{Deserialize, Serialize};
use crate::check::{Check, Checker};
use crate::meta::Object;
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NamespaceSpec(pub serde_json::Value);
impl Check for NamespaceSpec { fn check(&self, _cx: &mut Checker) {} }
pub type Namespace = Object<NamespaceSpec>;
crate::impl_kind!(Namespace, group "", versions ["v1"], kind "Namespace", plural "namespaces", short ["ns"], namespaced false);
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretSpec(pub serde_json::Value);
impl Check for SecretSpec { fn check(&self, _cx: &mut Checker) {} }
pub type Secret = Object<SecretSpec>;
crate::impl_kind!(Secret, group "", versions ["v1"], kind "Secret", plural "secrets", short [], namespaced true);
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceAccountSpec(pub serde_json::Value);
impl Check for ServiceAccountSpec { fn check(&self, _cx: &mut Checker) {} }
pub type ServiceAccount = Object<ServiceAccountSpec>;
crate::impl_kind!(ServiceAccount, group "", versions ["v1"], kind "ServiceAccount", plural "serviceaccounts", short ["sa"], namespaced true);
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceSpec(pub serde_json::Value);
impl Check for ServiceSpec { fn check(&self, _cx: &mut Checker) {} }
pub type Service = Object<ServiceSpec>;
crate::impl_kind!(Service, group "", versions ["v1"], kind "Service", plural "services", short ["svc"], namespaced true);
