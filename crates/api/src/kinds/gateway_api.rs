//! PLACEHOLDER: replaced by the real types.
#![allow(missing_docs)]
use serde::{Deserialize, Serialize};
use crate::check::{Check, Checker};
use crate::meta::Object;
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GatewaySpec(pub serde_json::Value);
impl Check for GatewaySpec { fn check(&self, _cx: &mut Checker) {} }
pub type Gateway = Object<GatewaySpec>;
crate::impl_kind!(Gateway, group "gateway.networking.k8s.io", versions ["v1"], kind "Gateway", plural "gateways", short ["gtw"], namespaced true);
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct HttpRouteSpec(pub serde_json::Value);
impl Check for HttpRouteSpec { fn check(&self, _cx: &mut Checker) {} }
pub type HttpRoute = Object<HttpRouteSpec>;
crate::impl_kind!(HttpRoute, group "gateway.networking.k8s.io", versions ["v1"], kind "HTTPRoute", plural "httproutes", short [], namespaced true);
