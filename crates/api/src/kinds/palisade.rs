//! PLACEHOLDER: replaced by the real types.
#![allow(missing_docs)]
use serde::{Deserialize, Serialize};
use crate::check::{Check, Checker};
use crate::meta::Object;
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OidcProviderSpec(pub serde_json::Value);
impl Check for OidcProviderSpec { fn check(&self, _cx: &mut Checker) {} }
pub type OidcProvider = Object<OidcProviderSpec>;
crate::impl_kind!(OidcProvider, group "palisade.dev", versions ["v1alpha1"], kind "OIDCProvider", plural "oidcproviders", short [], namespaced false);
