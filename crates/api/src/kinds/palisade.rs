//! Palisade's own kinds (`palisade.dev`): `OIDCProvider`, a cluster-scoped identity
//! provider for human users.
//!
//! ```yaml
//! apiVersion: palisade.dev/v1alpha1
//! kind: OIDCProvider
//! metadata: {name: corp}
//! spec:
//!   issuer: https://idp.example.com/
//!   clientId: palisade
//!   clientSecretRef: {name: oidc-client, namespace: palisade-system, key: secret}
//!   audiences: [palisade]
//!   roleMapping:
//!     roleMapper: "has(claims.groups) ? claims.groups.transformList(i, v, v in rolesMap, rolesMap[v]) : []"
//!     roleMappings: {admins: global.Admin, readers: global.Reader, writers: global.Writer}
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::check::{Check, Checker};
use crate::meta::Object;

/// An OpenID Connect identity provider users log in with (UI: authorization code + PKCE;
/// APIs: bearer JWTs it issued).
pub type OidcProvider = Object<OidcProviderSpec>;

crate::impl_kind!(OidcProvider, group "palisade.dev", versions ["v1alpha1"], kind "OIDCProvider", plural "oidcproviders", short [], namespaced false);

/// Scopes requested at login when `scopes` is not given.
pub const DEFAULT_SCOPES: &[&str] = &["openid", "profile", "email", "groups"];
/// Claim holding the user's groups when `groupsClaim` is not given.
pub const DEFAULT_GROUPS_CLAIM: &str = "groups";
/// Claim naming the user when `usernameClaim` is not given.
pub const DEFAULT_USERNAME_CLAIM: &str = "sub";

/// `OIDCProvider.spec`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OidcProviderSpec {
    /// Issuer URL; must equal the tokens' `iss` claim. Discovery is read from
    /// `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// OAuth client id Palisade logs users in as.
    pub client_id: String,
    /// Secret holding the client secret (confidential clients); absent for public
    /// clients using PKCE only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_ref: Option<SecretKeyRef>,
    /// Accepted `aud` values of bearer tokens; `[clientId]` when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// Scopes requested at login; `openid profile email groups` when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Claim listing the user's groups; `groups` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups_claim: Option<String>,
    /// Claim used as the user name in RBAC subjects and audit; `sub` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username_claim: Option<String>,
    /// How claims turn into Palisade roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_mapping: Option<RoleMapping>,
}

/// A key of a Secret in a given namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretKeyRef {
    /// Secret name.
    pub name: String,
    /// Secret namespace (required: the provider is cluster-scoped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Key within the secret.
    pub key: String,
}

/// Claims-to-roles mapping, the same JSON object kagent enterprise takes under
/// `rbac.roleMapping`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleMapping {
    /// CEL expression over `claims` (the token's claims) and `rolesMap` (= `roleMappings`)
    /// returning a list of role names, e.g.
    /// `claims.groups.transformList(i, v, v in rolesMap, rolesMap[v])`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_mapper: Option<String>,
    /// Group (or other claim value) to role name, e.g. `admins: global.Admin`. Built-in
    /// roles are `global.Admin`, `global.Writer` and `global.Reader`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub role_mappings: BTreeMap<String, String>,
}

/// Roles Palisade defines itself.
pub const BUILTIN_ROLES: &[&str] = &["global.Admin", "global.Writer", "global.Reader"];

impl OidcProviderSpec {
    /// Accepted audiences: `audiences`, or `[clientId]` when empty.
    pub fn audiences(&self) -> Vec<&str> {
        if self.audiences.is_empty() {
            vec![self.client_id.as_str()]
        } else {
            self.audiences.iter().map(String::as_str).collect()
        }
    }

    /// Login scopes: `scopes`, or [`DEFAULT_SCOPES`] when empty.
    pub fn scopes(&self) -> Vec<&str> {
        if self.scopes.is_empty() {
            DEFAULT_SCOPES.to_vec()
        } else {
            self.scopes.iter().map(String::as_str).collect()
        }
    }

    /// The groups claim name (default [`DEFAULT_GROUPS_CLAIM`]).
    pub fn groups_claim(&self) -> &str {
        self.groups_claim.as_deref().unwrap_or(DEFAULT_GROUPS_CLAIM)
    }

    /// The user name claim (default [`DEFAULT_USERNAME_CLAIM`]).
    pub fn username_claim(&self) -> &str {
        self.username_claim
            .as_deref()
            .unwrap_or(DEFAULT_USERNAME_CLAIM)
    }

    /// The issuer without a trailing `/`, for building discovery URLs.
    pub fn issuer_base(&self) -> &str {
        self.issuer.trim_end_matches('/')
    }
}

fn is_loopback_url(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    if rest.starts_with("[::1]") {
        return true;
    }
    let host = rest.split(['/', ':', '?']).next().unwrap_or("");
    host == "localhost" || host.ends_with(".localhost") || host.starts_with("127.")
}

impl Check for OidcProviderSpec {
    fn check(&self, cx: &mut Checker) {
        if self.issuer.starts_with("https://") {
            if self.issuer.len() == "https://".len() {
                cx.error_at(
                    "issuer",
                    "issuer has no host",
                    "use e.g. https://idp.example.com/",
                );
            }
        } else if self.issuer.starts_with("http://") {
            if !is_loopback_url(&self.issuer) {
                cx.warning_at(
                    "issuer",
                    "the issuer is plain http; tokens and keys can be tampered with in transit",
                    "use an https:// issuer (http is fine only for a local test IdP)",
                );
            }
        } else {
            cx.error_at(
                "issuer",
                format!("issuer {:?} is not an http(s) URL", self.issuer),
                "use the issuer URL exactly as it appears in tokens, e.g. https://idp.example.com/",
            );
        }
        if self.client_id.is_empty() {
            cx.error_at(
                "clientId",
                "clientId is required",
                "set the OAuth client id",
            );
        }
        if let Some(r) = &self.client_secret_ref {
            cx.at("clientSecretRef", |cx| {
                if r.name.is_empty() {
                    cx.error_at("name", "name is required", "name the Secret");
                }
                if r.key.is_empty() {
                    cx.error_at(
                        "key",
                        "key is required",
                        "name the key holding the client secret",
                    );
                }
                match r.namespace.as_deref() {
                    Some(ns) if !ns.is_empty() => {
                        cx.reference("", "Secret", Some(ns), &r.name, false)
                    }
                    _ => cx.error_at(
                        "namespace",
                        "namespace is required: an OIDCProvider is cluster-scoped",
                        "set namespace to the Secret's namespace, e.g. palisade-system",
                    ),
                }
            });
        }
        for (i, a) in self.audiences.iter().enumerate() {
            if a.is_empty() {
                cx.at_index("audiences", i, |cx| {
                    cx.error(
                        "empty audience",
                        "remove it, or give the expected aud value",
                    )
                });
            }
        }
        if !self.scopes.is_empty() && !self.scopes.iter().any(|s| s == "openid") {
            cx.warning_at(
                "scopes",
                "scopes do not include openid; the provider will not return an ID token",
                "add openid to scopes",
            );
        }
        if let Some(m) = &self.role_mapping {
            cx.at("roleMapping", |cx| {
                match m.role_mapper.as_deref() {
                    Some(src) if !src.trim().is_empty() => cx.cel("roleMapper", src),
                    Some(_) => cx.error_at(
                        "roleMapper",
                        "roleMapper is empty",
                        "give a CEL expression returning a list of roles, or remove it",
                    ),
                    None => {}
                }
                for (group, role) in &m.role_mappings {
                    if role.is_empty() {
                        cx.at_key("roleMappings", group, |cx| {
                            cx.error(
                                format!("no role given for {group:?}"),
                                format!("map it to a role such as {}", BUILTIN_ROLES.join(", ")),
                            )
                        });
                    }
                }
            });
        }
    }
}
