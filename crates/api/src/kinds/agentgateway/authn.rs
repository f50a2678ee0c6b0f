//! Client authentication in `spec.traffic`: JWT (with the MCP OAuth extension), API keys
//! and HTTP Basic.
//!
//! Palisade is zero trust: every mode defaults to `Strict` (a valid credential is
//! required), including JWT, where agentgateway itself would default to optional.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::shared::{
    BackendObjectReference, ExtractionLocation, LabelMatch, SecretKeyRef, SecretObjectRef,
    check_endpoint, opt_duration_min, opt_len, str_len,
};
use crate::check::{Check, Checker};

/// How strictly a credential is required.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuthMode {
    /// A valid credential must be present (the default).
    #[default]
    Strict,
    /// Validate a credential when present; requests without one pass.
    Optional,
    /// Never reject; claims are only made available to later steps.
    Permissive,
}

/// JWT validation mode (Palisade default: `Strict`).
pub type JwtMode = AuthMode;

/// API key validation mode (default `Strict`).
pub type ApiKeyMode = AuthMode;

/// HTTP Basic validation mode (no `Permissive`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BasicAuthMode {
    /// Valid credentials must be present (the default).
    #[default]
    Strict,
    /// Validate credentials when present.
    Optional,
}

/// Identity providers with MCP OAuth flow support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum McpIdp {
    /// Auth0.
    Auth0,
    /// Keycloak.
    Keycloak,
    /// Okta.
    Okta,
    /// Descope.
    Descope,
    /// Authentik.
    Authentik,
    /// Microsoft Entra ID.
    Entra,
}

/// JWT authentication. With `mcp`, exactly one provider and mode `Strict`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JwtAuthentication {
    /// Validation mode; Palisade default `Strict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<JwtMode>,
    /// Accepted issuers, 1 to 64.
    pub providers: Vec<JwtProvider>,
    /// Where the token is read; default `Authorization: Bearer <token>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<ExtractionLocation>,
    /// MCP OAuth: serve protected-resource metadata and answer 401 with a
    /// `resource_metadata` challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<JwtMcp>,
}

impl JwtAuthentication {
    /// The effective mode (`Strict` when unset).
    pub fn mode(&self) -> JwtMode {
        self.mode.unwrap_or(AuthMode::Strict)
    }
}

impl Check for JwtAuthentication {
    fn check(&self, cx: &mut Checker) {
        cx.len("providers", self.providers.len(), 1, 64);
        cx.list("providers", &self.providers);
        cx.field("location", &self.location);
        if self.mcp.is_some() {
            if self.providers.len() != 1 {
                cx.error_at(
                    "mcp",
                    format!(
                        "`mcp` needs exactly one provider, found {}",
                        self.providers.len()
                    ),
                    "keep a single provider in a policy that sets jwtAuthentication.mcp",
                );
            }
            if self.mode() != AuthMode::Strict {
                cx.error_at(
                    "mode",
                    "`mcp` requires mode Strict",
                    "remove `mode` or set mode: Strict",
                );
            }
        }
    }
}

/// One accepted token issuer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JwtProvider {
    /// Expected `iss` claim (1..256 chars).
    pub issuer: String,
    /// Accepted `aud` values, 1 to 64; unset = any audience.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// Verification keys.
    pub jwks: Jwks,
}

impl Check for JwtProvider {
    fn check(&self, cx: &mut Checker) {
        str_len(cx, "issuer", &self.issuer, 1, 256);
        opt_len(cx, "audiences", self.audiences.len(), 1, 64);
        cx.field("jwks", &self.jwks);
    }
}

/// A JSON Web Key Set: inline or fetched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Jwks {
    /// JWKS JSON text (2..65536 chars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inline: Option<String>,
    /// Fetched from a server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteJwks>,
}

impl Check for Jwks {
    fn check(&self, cx: &mut Checker) {
        cx.exactly_one(&[
            ("inline", self.inline.is_some()),
            ("remote", self.remote.is_some()),
        ]);
        if let Some(text) = &self.inline {
            str_len(cx, "inline", text, 2, 65536);
            if serde_json::from_str::<serde_json::Value>(text).map_or(true, |v| !v.is_object()) {
                cx.error_at(
                    "inline",
                    "inline JWKS is not a JSON object",
                    "paste the JWKS document, e.g. {\"keys\": [...]}",
                );
            }
        }
        cx.field("remote", &self.remote);
    }
}

/// Where to fetch a JWKS: a `backendRef` plus `jwksPath`, or a full `url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemoteJwks {
    /// Server reference (Service with port, or AgentgatewayBackend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_ref: Option<BackendObjectReference>,
    /// Full URL of the JWKS, or of the issuer's OpenID configuration
    /// (Palisade follows its `jwks_uri`); `file:///path` reads a local file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Path on the server (1..1024 chars), required with `backendRef`, forbidden with
    /// `url`; the leading `/` is optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_path: Option<String>,
    /// Re-fetch interval, at least 5m; default 5m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_duration: Option<String>,
}

impl RemoteJwks {
    /// The re-fetch interval (default 5 minutes).
    pub fn cache_duration(&self) -> Duration {
        super::shared::parse_or(&self.cache_duration, Duration::from_secs(300))
    }

    /// `jwksPath` with exactly one leading `/` (e.g. `/.well-known/jwks.json`).
    pub fn path(&self) -> Option<String> {
        self.jwks_path
            .as_deref()
            .map(|p| format!("/{}", p.trim_start_matches('/')))
    }
}

impl Check for RemoteJwks {
    fn check(&self, cx: &mut Checker) {
        match self.url.as_deref().and_then(|u| u.strip_prefix("file://")) {
            // Palisade extension: a key set in a local file (standalone mode).
            Some(path) => {
                cx.exactly_one(&[("backendRef", self.backend_ref.is_some()), ("url", true)]);
                if !path.starts_with('/') {
                    cx.error_at(
                        "url",
                        format!(
                            "file URL {:?} must name an absolute path",
                            self.url.as_deref().unwrap_or_default()
                        ),
                        "write file:///absolute/path/jwks.json",
                    );
                }
            }
            None => check_endpoint(cx, &self.backend_ref, &self.url, true, false),
        }
        match (&self.backend_ref, &self.url, &self.jwks_path) {
            (Some(_), _, None) => cx.error_at(
                "jwksPath",
                "`jwksPath` is required with `backendRef`",
                "add the path of the key set on that server, e.g. jwksPath: .well-known/jwks.json",
            ),
            (None, Some(_), Some(_)) => cx.error_at(
                "jwksPath",
                "`jwksPath` cannot be combined with `url`",
                "put the whole path in `url`, or use backendRef with jwksPath",
            ),
            _ => {}
        }
        if let Some(p) = &self.jwks_path {
            str_len(cx, "jwksPath", p, 1, 1024);
        }
        opt_duration_min(
            cx,
            "cacheDuration",
            &self.cache_duration,
            Duration::from_secs(300),
            "5m",
        );
    }
}

/// MCP-specific JWT settings (OAuth protected-resource metadata).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JwtMcp {
    /// Extra protected-resource metadata fields (any JSON values).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_metadata: BTreeMap<String, serde_json::Value>,
    /// Identity provider, for provider-specific OAuth quirks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<McpIdp>,
    /// Client id returned instead of proxying dynamic client registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// API key authentication. Each data entry of the source is one key: a raw string, or
/// JSON `{key | keyHash: "sha256:<hex>", metadata}`; ConfigMap entries must use
/// `keyHash`. Metadata is readable in CEL as `apiKey.<field>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiKeyAuthentication {
    /// Validation mode; default `Strict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ApiKeyMode>,
    /// One Secret (or other source) holding keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretObjectRef>,
    /// Every Secret with these labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_selector: Option<LabelMatch>,
    /// Every ConfigMap with these labels (hashed keys only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_selector: Option<LabelMatch>,
    /// Where the key is read; default `Authorization: Bearer <key>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<ExtractionLocation>,
}

impl ApiKeyAuthentication {
    /// The effective mode (`Strict` when unset).
    pub fn mode(&self) -> ApiKeyMode {
        self.mode.unwrap_or_default()
    }
}

impl Check for ApiKeyAuthentication {
    fn check(&self, cx: &mut Checker) {
        cx.exactly_one(&[
            ("secretRef", self.secret_ref.is_some()),
            ("secretSelector", self.secret_selector.is_some()),
            ("configMapSelector", self.config_map_selector.is_some()),
        ]);
        cx.field("secretRef", &self.secret_ref);
        cx.field("location", &self.location);
    }
}

/// HTTP Basic authentication (htpasswd hashes: MD5/apr1, bcrypt, crypt, SHA-1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BasicAuthentication {
    /// Validation mode; default `Strict`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<BasicAuthMode>,
    /// Realm in the `WWW-Authenticate` challenge; default `Restricted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    /// htpasswd lines (`user:hash`), 1 to 256.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// Secret holding an htpasswd file; key default `.htaccess`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyRef>,
    /// Where credentials are read; default `Authorization: Basic ...`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<ExtractionLocation>,
}

impl BasicAuthentication {
    /// The effective mode (`Strict` when unset).
    pub fn mode(&self) -> BasicAuthMode {
        self.mode.unwrap_or_default()
    }

    /// The realm (`Restricted` when unset).
    pub fn realm(&self) -> &str {
        self.realm.as_deref().unwrap_or("Restricted")
    }
}

impl Check for BasicAuthentication {
    fn check(&self, cx: &mut Checker) {
        cx.exactly_one(&[
            ("users", !self.users.is_empty()),
            ("secretRef", self.secret_ref.is_some()),
        ]);
        opt_len(cx, "users", self.users.len(), 1, 256);
        for (i, line) in self.users.iter().enumerate() {
            if !line
                .split_once(':')
                .is_some_and(|(u, h)| !u.is_empty() && !h.is_empty())
            {
                cx.at_index("users", i, |cx| {
                    cx.error(
                        "not an htpasswd line",
                        "write user:hash, e.g. alice:$apr1$... (generate with htpasswd)",
                    )
                });
            }
        }
        cx.field("secretRef", &self.secret_ref);
        cx.field("location", &self.location);
    }
}
