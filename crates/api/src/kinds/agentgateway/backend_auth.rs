//! `backend.auth`: the credential Palisade attaches to requests towards a backend
//! (static key, Secret, passthrough of the client token, cloud identities, signed JWTs,
//! OAuth token exchange).

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::shared::{
    BackendObjectReference, CelExpression, CredentialLocation, Empty, SecretKeyRef,
    SecretObjectRef, check_cel_map, check_endpoint, check_opt_cel, opt_duration_min, str_len,
};
use crate::check::{Check, Checker};

/// Backend credentials: at most one primary kind; a primary kind or `credentials` must
/// be present. `location` applies to `key`, `secretRef` and `passthrough` only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BackendAuth {
    /// Inline credential (at most 2048 chars; least secure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Credential from a Secret; key default `Authorization` (a `Bearer ` prefix is
    /// stripped only with that default key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyRef>,
    /// Re-attach the client token a traffic authentication policy validated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passthrough: Option<Empty>,
    /// Where the credential goes; default `Authorization: Bearer <credential>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<CredentialLocation>,
    /// Extra injected values, 1 to 8.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<InjectedCredential>,
    /// AWS SigV4 signing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsAuth>,
    /// Azure identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureAuth>,
    /// Google identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcp: Option<GcpAuth>,
    /// A JWT signed by Palisade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt_sign: Option<JwtSign>,
    /// OAuth 2.0 token exchange (RFC 8693) or JWT bearer grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth_token_exchange: Option<OauthTokenExchange>,
    /// Cross-app access (ID-JAG chain); accepted as JSON, not typed further.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_app_access: Option<serde_json::Value>,
}

/// The primary kind of a [`BackendAuth`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendAuthKind {
    /// `key`
    Key,
    /// `secretRef`
    SecretRef,
    /// `passthrough`
    Passthrough,
    /// `aws`
    Aws,
    /// `azure`
    Azure,
    /// `gcp`
    Gcp,
    /// `jwtSign`
    JwtSign,
    /// `oauthTokenExchange`
    OauthTokenExchange,
    /// `crossAppAccess`
    CrossAppAccess,
}

impl BackendAuth {
    fn primaries(&self) -> [(&'static str, BackendAuthKind, bool); 9] {
        [
            ("key", BackendAuthKind::Key, self.key.is_some()),
            (
                "secretRef",
                BackendAuthKind::SecretRef,
                self.secret_ref.is_some(),
            ),
            (
                "passthrough",
                BackendAuthKind::Passthrough,
                self.passthrough.is_some(),
            ),
            ("aws", BackendAuthKind::Aws, self.aws.is_some()),
            ("azure", BackendAuthKind::Azure, self.azure.is_some()),
            ("gcp", BackendAuthKind::Gcp, self.gcp.is_some()),
            ("jwtSign", BackendAuthKind::JwtSign, self.jwt_sign.is_some()),
            (
                "oauthTokenExchange",
                BackendAuthKind::OauthTokenExchange,
                self.oauth_token_exchange.is_some(),
            ),
            (
                "crossAppAccess",
                BackendAuthKind::CrossAppAccess,
                self.cross_app_access.is_some(),
            ),
        ]
    }

    /// The primary kind set, if any.
    pub fn kind(&self) -> Option<BackendAuthKind> {
        self.primaries()
            .into_iter()
            .find(|(_, _, set)| *set)
            .map(|(_, k, _)| k)
    }

    /// Names of the primary kinds that are set.
    pub fn set_kinds(&self) -> Vec<&'static str> {
        self.primaries()
            .into_iter()
            .filter(|(_, _, set)| *set)
            .map(|(n, _, _)| n)
            .collect()
    }

    /// Restricts the primary kinds to `allowed` (guard service policies accept fewer).
    pub(crate) fn restrict(&self, cx: &mut Checker, allowed: &[&str]) {
        for f in self
            .set_kinds()
            .into_iter()
            .filter(|f| !allowed.contains(f))
        {
            cx.error_at(
                f,
                format!("`{f}` is not allowed here"),
                format!("use one of: {}", allowed.join(", ")),
            );
        }
    }
}

impl Check for BackendAuth {
    fn check(&self, cx: &mut Checker) {
        let primaries = self.primaries();
        let set: Vec<(&str, bool)> = primaries.iter().map(|(n, _, s)| (*n, *s)).collect();
        cx.at_most_one(&set);
        if self.kind().is_none() && self.credentials.is_empty() {
            cx.error(
                "`auth` sets no credential",
                "set one of key, secretRef, passthrough, aws, azure, gcp, jwtSign, oauthTokenExchange, crossAppAccess, or credentials",
            );
        }
        if self.location.is_some()
            && !(self.key.is_some() || self.secret_ref.is_some() || self.passthrough.is_some())
        {
            cx.error_at(
                "location",
                "`location` only applies to key, secretRef or passthrough",
                "remove location (the other kinds place their own credentials)",
            );
        }
        if let Some(k) = &self.key {
            str_len(cx, "key", k, 0, 2048);
        }
        cx.field("secretRef", &self.secret_ref);
        cx.field("location", &self.location);
        if !self.credentials.is_empty() {
            cx.len("credentials", self.credentials.len(), 1, 8);
        }
        cx.list("credentials", &self.credentials);
        cx.field("aws", &self.aws);
        cx.field("azure", &self.azure);
        cx.field("gcp", &self.gcp);
        cx.field("jwtSign", &self.jwt_sign);
        cx.field("oauthTokenExchange", &self.oauth_token_exchange);
        if let Some(c) = &self.cross_app_access {
            cx.at("crossAppAccess", |cx| match c.as_object() {
                None => cx.error(
                    "`crossAppAccess` must be an object",
                    "give identityProvider, resourceAuthorizationServer and audience",
                ),
                Some(obj) => {
                    for f in [
                        "identityProvider",
                        "resourceAuthorizationServer",
                        "audience",
                    ] {
                        if !obj.contains_key(f) {
                            cx.error_at(f, format!("`{f}` is required"), format!("add `{f}`"));
                        }
                    }
                }
            });
        }
    }
}

/// An extra credential injected at a location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InjectedCredential {
    /// Where it goes.
    pub location: CredentialLocation,
    /// Where it comes from; key default `Authorization`.
    pub secret_ref: SecretKeyRef,
}

impl Check for InjectedCredential {
    fn check(&self, cx: &mut Checker) {
        cx.field("location", &self.location);
        cx.field("secretRef", &self.secret_ref);
    }
}

/// AWS SigV4 signing: static keys (`secretRef`: accessKey, secretKey, sessionToken?) or
/// an assumed role, else ambient credentials.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwsAuth {
    /// Static credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretObjectRef>,
    /// STS AssumeRole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assume_role: Option<AwsAssumeRole>,
    /// Signing service name, e.g. `bedrock`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    /// Signing region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// STS AssumeRole settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwsAssumeRole {
    /// Role ARN (`arn:aws...:iam::<12 digits>:role/...`).
    pub role_arn: String,
    /// Literal session name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_name: Option<String>,
    /// CEL session name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_name_expression: Option<CelExpression>,
    /// Session tags (at most 50).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<AwsSessionTag>,
}

/// A session tag with a literal or CEL value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AwsSessionTag {
    /// Tag key.
    pub key: String,
    /// Literal value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// CEL value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expression: Option<CelExpression>,
}

fn valid_role_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:aws") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(":iam::") else {
        return false;
    };
    if !partition
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b == b'-')
    {
        return false;
    }
    let Some((account, role)) = rest.split_once(":role/") else {
        return false;
    };
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !role.is_empty()
}

impl Check for AwsAuth {
    fn check(&self, cx: &mut Checker) {
        cx.at_most_one(&[
            ("secretRef", self.secret_ref.is_some()),
            ("assumeRole", self.assume_role.is_some()),
        ]);
        cx.field("secretRef", &self.secret_ref);
        if let Some(r) = &self.assume_role {
            cx.at("assumeRole", |cx| {
                if !valid_role_arn(&r.role_arn) {
                    cx.error_at(
                        "roleArn",
                        format!("invalid role ARN {:?}", r.role_arn),
                        "use arn:aws:iam::<12-digit account>:role/<name>",
                    );
                }
                cx.at_most_one(&[
                    ("sessionName", r.session_name.is_some()),
                    ("sessionNameExpression", r.session_name_expression.is_some()),
                ]);
                check_opt_cel(cx, "sessionNameExpression", &r.session_name_expression);
                cx.len("tags", r.tags.len(), 0, 50);
                for (i, t) in r.tags.iter().enumerate() {
                    cx.at_index("tags", i, |cx| {
                        cx.exactly_one(&[
                            ("value", t.value.is_some()),
                            ("expression", t.expression.is_some()),
                        ]);
                        check_opt_cel(cx, "expression", &t.expression);
                    });
                }
            });
        }
    }
}

/// Azure identity: a service principal Secret (clientID, tenantID, clientSecret), a
/// managed identity or workload identity; none set = detect from the environment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureAuth {
    /// Service principal credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretObjectRef>,
    /// Managed identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_identity: Option<AzureManagedIdentity>,
    /// Workload identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_identity: Option<Empty>,
}

/// Which managed identity to use (at most one id; none = system-assigned).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureManagedIdentity {
    /// Client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object_id: Option<String>,
    /// Resource id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
}

impl Check for AzureAuth {
    fn check(&self, cx: &mut Checker) {
        cx.at_most_one(&[
            ("secretRef", self.secret_ref.is_some()),
            ("managedIdentity", self.managed_identity.is_some()),
            ("workloadIdentity", self.workload_identity.is_some()),
        ]);
        cx.field("secretRef", &self.secret_ref);
        if let Some(m) = &self.managed_identity {
            cx.at("managedIdentity", |cx| {
                cx.at_most_one(&[
                    ("clientId", m.client_id.is_some()),
                    ("objectId", m.object_id.is_some()),
                    ("resourceId", m.resource_id.is_some()),
                ])
            });
        }
    }
}

/// Google token type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GcpTokenType {
    /// OAuth access token (Google APIs; the default).
    #[default]
    AccessToken,
    /// ID token (Cloud Run and similar).
    IdToken,
}

/// Google identity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GcpAuth {
    /// Token type; default `AccessToken`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<GcpTokenType>,
    /// ADC credentials JSON; key default `credentials.json`; unset = ambient.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyRef>,
    /// ID token audience (IdToken only); default from the backend host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
}

impl Check for GcpAuth {
    fn check(&self, cx: &mut Checker) {
        if self.audience.is_some() && self.type_.unwrap_or_default() != GcpTokenType::IdToken {
            cx.error_at(
                "audience",
                "`audience` only applies to type IdToken",
                "set type: IdToken, or remove audience",
            );
        }
        cx.field("secretRef", &self.secret_ref);
    }
}

/// JWT signing algorithms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JwtSignAlg {
    /// RSA PKCS#1 SHA-256 (the default).
    #[default]
    RS256,
    /// RSA PKCS#1 SHA-384.
    RS384,
    /// RSA PKCS#1 SHA-512.
    RS512,
    /// RSA-PSS SHA-256.
    PS256,
    /// ECDSA P-256.
    ES256,
    /// ECDSA P-384.
    ES384,
}

/// A JWT minted by Palisade for each backend request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JwtSign {
    /// PEM signing key (key `signingKey`).
    pub signing_key_ref: SecretObjectRef,
    /// Algorithm; default RS256.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<JwtSignAlg>,
    /// Key id header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// Extra claims (no `iat`, `exp`, `nbf`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub claims: BTreeMap<String, serde_json::Value>,
    /// Lifetime, at least 1s; default 300s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    /// Where the token goes; default `Authorization: Bearer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<CredentialLocation>,
}

impl JwtSign {
    /// Token lifetime (default 300s).
    pub fn ttl(&self) -> Duration {
        super::shared::parse_or(&self.ttl, Duration::from_secs(300))
    }
}

impl Check for JwtSign {
    fn check(&self, cx: &mut Checker) {
        cx.field("signingKeyRef", &self.signing_key_ref);
        for reserved in ["iat", "exp", "nbf"] {
            if self.claims.contains_key(reserved) {
                cx.at_key("claims", reserved, |cx| {
                    cx.error(
                        format!("claim `{reserved}` is set by Palisade"),
                        "remove it; use ttl for the lifetime",
                    )
                });
            }
        }
        opt_duration_min(cx, "ttl", &self.ttl, Duration::from_secs(1), "1s");
        cx.field("location", &self.location);
    }
}

/// OAuth grant used for token exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GrantType {
    /// RFC 8693 token exchange.
    TokenExchange,
    /// RFC 7523 JWT bearer grant.
    JwtBearer,
}

/// How the client authenticates to the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ClientAuthMethod {
    /// HTTP Basic with client id and secret.
    ClientSecretBasic,
    /// Client id and secret in the form body.
    ClientSecretPost,
    /// A signed client assertion.
    PrivateKeyJwt,
}

/// Client authentication at the token endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientAuth {
    /// Client id.
    pub client_id: String,
    /// Client secret (or key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<SecretKeyRef>,
    /// Method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<ClientAuthMethod>,
}

/// OAuth token exchange towards the backend. `subjectToken`, `actorToken` and `cache`
/// are accepted as JSON (shapes not verified).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OauthTokenExchange {
    /// Token endpoint reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_ref: Option<BackendObjectReference>,
    /// Token endpoint URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Token endpoint path (with backendRef).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Grant type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_type: Option<GrantType>,
    /// Subject token source (JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_token: Option<serde_json::Value>,
    /// Actor token source (JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_token: Option<serde_json::Value>,
    /// Requested audiences.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
    /// Requested scopes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
    /// Requested resources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Requested token type URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_token_type: Option<String>,
    /// Extra form parameters valued by CEL.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub additional_params: BTreeMap<String, CelExpression>,
    /// Client authentication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_auth: Option<ClientAuth>,
    /// Where the exchanged token goes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<CredentialLocation>,
    /// Token cache settings (JSON).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<serde_json::Value>,
}

impl Check for OauthTokenExchange {
    fn check(&self, cx: &mut Checker) {
        check_endpoint(cx, &self.backend_ref, &self.url, true, false);
        check_cel_map(cx, "additionalParams", &self.additional_params, usize::MAX);
        if let Some(c) = &self.client_auth {
            cx.field("clientAuth.secretRef", &c.secret_ref);
        }
        cx.field("location", &self.location);
    }
}
