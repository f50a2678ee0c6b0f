//! OpenID Connect discovery documents (OpenID Connect Discovery 1.0): the
//! one Palisade publishes for its own tokens, and reading an identity
//! provider's.
//!
//! Fetching is the caller's job; [`discovery_url`] says where. The caller
//! also decides whether plain `http` endpoints are acceptable.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::alg::Algorithm;
use crate::error::DiscoveryError;

/// Path appended to an issuer to find its discovery document.
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";

/// The parts of an identity provider's discovery document Palisade uses.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProviderMetadata {
    /// The issuer; equal to the configured issuer.
    pub issuer: String,
    /// Where the provider's JWKS is served.
    pub jwks_uri: String,
    /// The OAuth authorization endpoint. Absent for issuers that only mint
    /// workload tokens (Kubernetes service accounts, CI systems).
    #[serde(default)]
    pub authorization_endpoint: Option<String>,
    /// The OAuth token endpoint, absent for the same kind of issuers.
    #[serde(default)]
    pub token_endpoint: Option<String>,
    /// The device authorization endpoint (RFC 8628), if supported.
    #[serde(default)]
    pub device_authorization_endpoint: Option<String>,
}

/// The discovery document URL for `issuer`: a trailing `/` is removed and
/// [`DISCOVERY_PATH`] appended (OpenID Connect Discovery §4).
pub fn discovery_url(issuer: &str) -> String {
    format!("{}{DISCOVERY_PATH}", issuer.trim_end_matches('/'))
}

/// Reads a discovery document. Its `issuer` must equal `expected_issuer`
/// exactly (OpenID Connect Discovery §4.3); `issuer` and `jwks_uri` are
/// required.
pub fn parse_provider_metadata(
    json: &[u8],
    expected_issuer: &str,
) -> Result<ProviderMetadata, DiscoveryError> {
    let metadata: ProviderMetadata =
        serde_json::from_slice(json).map_err(|error| DiscoveryError::Invalid(error.to_string()))?;
    if metadata.issuer != expected_issuer {
        return Err(DiscoveryError::IssuerMismatch {
            expected: expected_issuer.to_owned(),
            found: metadata.issuer,
        });
    }
    Ok(metadata)
}

/// Palisade's own discovery document, for relying parties verifying the
/// tokens of a [`crate::KeyRing`].
pub fn oidc_discovery(issuer: &str, jwks_uri: &str) -> Value {
    json!({
        "issuer": issuer,
        "jwks_uri": jwks_uri,
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [Algorithm::Es256.name()],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISSUER: &str = "https://idp.example.com";

    #[test]
    fn parses_full_document() {
        let json = json!({
            "issuer": ISSUER,
            "jwks_uri": "https://idp.example.com/keys",
            "authorization_endpoint": "https://idp.example.com/authorize",
            "token_endpoint": "https://idp.example.com/token",
            "device_authorization_endpoint": "https://idp.example.com/device",
            "scopes_supported": ["openid"],
        });
        let metadata = parse_provider_metadata(json.to_string().as_bytes(), ISSUER).unwrap();
        assert_eq!(metadata.jwks_uri, "https://idp.example.com/keys");
        assert_eq!(
            metadata.device_authorization_endpoint.as_deref(),
            Some("https://idp.example.com/device")
        );
    }

    #[test]
    fn optional_endpoints_may_be_absent() {
        let json = json!({"issuer": ISSUER, "jwks_uri": "https://idp.example.com/keys"});
        let metadata = parse_provider_metadata(json.to_string().as_bytes(), ISSUER).unwrap();
        assert_eq!(metadata.authorization_endpoint, None);
        assert_eq!(metadata.token_endpoint, None);
        assert_eq!(metadata.device_authorization_endpoint, None);
    }

    #[test]
    fn issuer_must_match_exactly() {
        let json = json!({"issuer": "https://idp.example.com/", "jwks_uri": "https://x/keys"});
        let error = parse_provider_metadata(json.to_string().as_bytes(), ISSUER).unwrap_err();
        assert!(matches!(error, DiscoveryError::IssuerMismatch { .. }));
    }

    #[test]
    fn jwks_uri_is_required() {
        let json = json!({"issuer": ISSUER});
        let error = parse_provider_metadata(json.to_string().as_bytes(), ISSUER).unwrap_err();
        assert!(matches!(&error, DiscoveryError::Invalid(text) if text.contains("jwks_uri")));
        assert!(matches!(
            parse_provider_metadata(b"not json", ISSUER),
            Err(DiscoveryError::Invalid(_))
        ));
    }

    #[test]
    fn discovery_url_and_own_document() {
        assert_eq!(
            discovery_url("https://idp.example.com/tenant/"),
            "https://idp.example.com/tenant/.well-known/openid-configuration"
        );
        let document = oidc_discovery(ISSUER, "https://palisade/jwks.json");
        assert_eq!(document["issuer"], ISSUER);
        assert_eq!(document["jwks_uri"], "https://palisade/jwks.json");
        assert_eq!(document["response_types_supported"], json!(["id_token"]));
        assert_eq!(document["subject_types_supported"], json!(["public"]));
        assert_eq!(
            document["id_token_signing_alg_values_supported"],
            json!(["ES256"])
        );
    }
}
