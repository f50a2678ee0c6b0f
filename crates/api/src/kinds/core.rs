//! Kubernetes core/v1 kinds Palisade reads: `Namespace`, `Secret`, `ServiceAccount` and
//! `Service`, plus the small reference types other kinds share with them.
//!
//! Standalone mode has no cluster to resolve a `Service` through, so a Service there is
//! only a static address book entry: an `ExternalName` Service is dialled at its
//! `externalName`, and a `ClusterIP` (or `NodePort`/`LoadBalancer`) Service is dialled at
//! its first `externalIPs` entry, or failing that at its `clusterIP` when that is an
//! address. See [`ServiceSpec::dial_address`].

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::check::{Check, Checker};
use crate::meta::{IntOrString, Object, ObjectMeta};

/// A reference to an object by name in the same namespace (`{name: ...}`), e.g. an image
/// pull secret.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LocalObjectReference {
    /// Name of the referenced object.
    #[serde(default)]
    pub name: String,
}

/// A full object reference (`kind`, `namespace`, `name`, ...), as Kubernetes uses in a few
/// older fields (ServiceAccount `secrets`, kmcp `secretRefs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectReference {
    /// API version of the referenced object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the referenced object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Namespace of the referenced object; the referrer's namespace when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the referenced object.
    #[serde(default)]
    pub name: String,
    /// UID of the referenced object (recorded, not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Resource version of the referenced object (recorded, not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// Field path inside the referenced object (recorded, not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_path: Option<String>,
}

// ---------------------------------------------------------------------------------------
// Namespace
// ---------------------------------------------------------------------------------------

/// A Kubernetes `Namespace` (cluster-scoped). Palisade only needs its name and labels
/// (for `allowedNamespaces` selectors).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Namespace {
    /// Always `v1`.
    pub api_version: String,
    /// Always `Namespace`.
    pub kind: String,
    /// Object metadata; the labels are what selectors match.
    pub metadata: ObjectMeta,
    /// Finalizers (recorded, not acted on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<NamespaceSpec>,
    /// Observed state; accepted and ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<serde_json::Value>,
}

/// `Namespace.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamespaceSpec {
    /// Finalizers that must run before the namespace is removed (recorded only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub finalizers: Vec<String>,
}

impl Check for Namespace {
    fn check(&self, _cx: &mut Checker) {}
}

crate::impl_kind!(Namespace, group "", versions ["v1"], kind "Namespace", plural "namespaces", short ["ns"], namespaced false);

// ---------------------------------------------------------------------------------------
// Secret
// ---------------------------------------------------------------------------------------

/// A Kubernetes `Secret`: credentials Palisade injects on upstream hops (LLM API keys,
/// OIDC client secrets, upstream tokens).
///
/// `data` values are base64 (as `kubectl create secret` writes them); `stringData`
/// values are plain text and win over `data` for the same key. The `Debug` output never
/// contains values, only keys.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Secret {
    /// Always `v1`.
    pub api_version: String,
    /// Always `Secret`.
    pub kind: String,
    /// Object metadata.
    pub metadata: ObjectMeta,
    /// Secret type, e.g. `Opaque` (the default) or `kubernetes.io/tls`.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Base64-encoded values by key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, String>,
    /// Plain-text values by key; merged over `data`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub string_data: BTreeMap<String, String>,
    /// Whether the data may no longer change (recorded, not enforced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
}

/// A `Secret` `data` value that is not valid base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("secret data key {key:?} is not valid base64")]
pub struct SecretDataError {
    /// The offending key.
    pub key: String,
}

impl Secret {
    /// The secret type, `Opaque` when not given.
    pub fn secret_type(&self) -> &str {
        self.type_.as_deref().unwrap_or("Opaque")
    }

    /// All values decoded: `data` base64-decoded, then `stringData` merged over it.
    pub fn decoded(&self) -> Result<BTreeMap<String, Vec<u8>>, SecretDataError> {
        let mut out = BTreeMap::new();
        for (key, value) in &self.data {
            let bytes = decode_base64(value).ok_or_else(|| SecretDataError { key: key.clone() })?;
            out.insert(key.clone(), bytes);
        }
        for (key, value) in &self.string_data {
            out.insert(key.clone(), value.as_bytes().to_vec());
        }
        Ok(out)
    }

    /// The decoded value of one key (`stringData` first, then `data`); `Ok(None)` when the
    /// key is absent.
    pub fn value(&self, key: &str) -> Result<Option<Vec<u8>>, SecretDataError> {
        if let Some(v) = self.string_data.get(key) {
            return Ok(Some(v.as_bytes().to_vec()));
        }
        match self.data.get(key) {
            None => Ok(None),
            Some(v) => decode_base64(v).map(Some).ok_or_else(|| SecretDataError {
                key: key.to_string(),
            }),
        }
    }

    /// Every key the secret holds (`data` and `stringData`).
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        let mut keys: Vec<&str> = self
            .data
            .keys()
            .chain(self.string_data.keys())
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        keys.dedup();
        keys.into_iter()
    }
}

/// Prints a map's keys with every value replaced by `<redacted>`.
struct RedactedValues<'a>(&'a BTreeMap<String, String>);

impl fmt::Debug for RedactedValues<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, format_args!("<redacted>"))))
            .finish()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("api_version", &self.api_version)
            .field("kind", &self.kind)
            .field("metadata", &self.metadata)
            .field("type_", &self.type_)
            .field("data", &RedactedValues(&self.data))
            .field("string_data", &RedactedValues(&self.string_data))
            .field("immutable", &self.immutable)
            .finish()
    }
}

/// Whether `key` is a valid Secret key: non-empty, only `[-._a-zA-Z0-9]`.
fn valid_secret_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && key != "."
        && key != ".."
}

impl Check for Secret {
    fn check(&self, cx: &mut Checker) {
        for (key, value) in &self.data {
            if !valid_secret_key(key) {
                cx.at_key("data", key, |cx| {
                    cx.error(
                        format!("invalid secret key {key:?}"),
                        "keys may contain only letters, digits, '-', '_' and '.'",
                    )
                });
            }
            if decode_base64(value).is_none() {
                cx.at_key("data", key, |cx| {
                    cx.error(
                        format!("the value of key {key:?} is not valid base64"),
                        "base64-encode values under `data`, or put plain text under `stringData`",
                    )
                });
            }
        }
        for key in self.string_data.keys() {
            if !valid_secret_key(key) {
                cx.at_key("stringData", key, |cx| {
                    cx.error(
                        format!("invalid secret key {key:?}"),
                        "keys may contain only letters, digits, '-', '_' and '.'",
                    )
                });
            }
        }
    }
}

crate::impl_kind!(Secret, group "", versions ["v1"], kind "Secret", plural "secrets", short [], namespaced true);

/// Decodes standard base64 with padding (Go's `StdEncoding`, which Kubernetes uses);
/// line breaks are ignored. `None` when the text is not valid base64.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let bytes: Vec<u8> = text
        .bytes()
        .filter(|b| *b != b'\n' && *b != b'\r')
        .collect();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let chunks = bytes.len() / 4;
    for (i, chunk) in bytes.chunks(4).enumerate() {
        let pad = chunk.iter().rev().take_while(|b| **b == b'=').count();
        if pad > 2 || (pad > 0 && i + 1 != chunks) {
            return None;
        }
        let mut n: u32 = 0;
        for &c in &chunk[..4 - pad] {
            n = (n << 6) | sextet(c)?;
        }
        n <<= 6 * pad as u32;
        let decoded = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        // Reject non-canonical encodings whose padding bits are not zero.
        if (pad == 1 && decoded[2] != 0) || (pad == 2 && decoded[1] != 0) {
            return None;
        }
        out.extend_from_slice(&decoded[..3 - pad]);
    }
    Some(out)
}

/// Encodes bytes as standard padded base64 (for `data` values Palisade writes).
pub fn encode_base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// ServiceAccount
// ---------------------------------------------------------------------------------------

/// A Kubernetes `ServiceAccount`: a non-human identity, named
/// `system:serviceaccount:<namespace>:<name>` in RBAC subjects and tokens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceAccount {
    /// Always `v1`.
    pub api_version: String,
    /// Always `ServiceAccount`.
    pub kind: String,
    /// Object metadata.
    pub metadata: ObjectMeta,
    /// Token secrets (legacy; recorded, not used).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<ObjectReference>,
    /// Image pull secrets for pods using this account (recorded, not used).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub image_pull_secrets: Vec<LocalObjectReference>,
    /// Whether pods mount a token automatically (recorded, not used).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automount_service_account_token: Option<bool>,
}

impl ServiceAccount {
    /// The RBAC user name of this account: `system:serviceaccount:<namespace>:<name>`
    /// (namespace `default` when unset).
    pub fn principal_name(&self) -> String {
        service_account_principal(
            self.metadata.namespace.as_deref().unwrap_or("default"),
            &self.metadata.name,
        )
    }
}

/// `system:serviceaccount:<namespace>:<name>`.
pub fn service_account_principal(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

impl Check for ServiceAccount {
    fn check(&self, cx: &mut Checker) {
        for (i, s) in self.image_pull_secrets.iter().enumerate() {
            if s.name.is_empty() {
                cx.at_index("imagePullSecrets", i, |cx| {
                    cx.error_at("name", "name is required", "name the image pull secret")
                });
            }
        }
    }
}

crate::impl_kind!(ServiceAccount, group "", versions ["v1"], kind "ServiceAccount", plural "serviceaccounts", short ["sa"], namespaced true);

// ---------------------------------------------------------------------------------------
// Service
// ---------------------------------------------------------------------------------------

/// A Kubernetes `Service`. In Kubernetes mode it is resolved through the cluster; in
/// standalone mode see [`ServiceSpec::dial_address`].
pub type Service = Object<ServiceSpec>;

crate::impl_kind!(Service, group "", versions ["v1"], kind "Service", plural "services", short ["svc"], namespaced true);

/// `Service.spec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceSpec {
    /// How the Service is exposed; `ClusterIP` when absent.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<ServiceType>,
    /// Ports the Service serves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<ServicePort>,
    /// Pod labels selecting the backends (Kubernetes mode).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub selector: BTreeMap<String, String>,
    /// The cluster IP, `None` for a headless Service. In standalone mode an address here
    /// is dialled when `externalIPs` is empty.
    #[serde(default, rename = "clusterIP", skip_serializing_if = "Option::is_none")]
    pub cluster_ip: Option<String>,
    /// All cluster IPs (dual stack; recorded).
    #[serde(default, rename = "clusterIPs", skip_serializing_if = "Vec::is_empty")]
    pub cluster_ips: Vec<String>,
    /// Extra addresses the Service answers on. In standalone mode the first one is where
    /// the Service is dialled.
    #[serde(default, rename = "externalIPs", skip_serializing_if = "Vec::is_empty")]
    pub external_ips: Vec<String>,
    /// DNS name an `ExternalName` Service points at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_name: Option<String>,
    /// `None` or `ClientIP` (recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_affinity: Option<String>,
    /// Session affinity tuning (recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_affinity_config: Option<serde_json::Value>,
    /// Requested load balancer address (recorded).
    #[serde(
        default,
        rename = "loadBalancerIP",
        skip_serializing_if = "Option::is_none"
    )]
    pub load_balancer_ip: Option<String>,
    /// Client ranges allowed through the load balancer (recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub load_balancer_source_ranges: Vec<String>,
    /// Load balancer implementation class (recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_balancer_class: Option<String>,
    /// Whether node ports are allocated for a LoadBalancer (recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocate_load_balancer_node_ports: Option<bool>,
    /// `Cluster` or `Local` (recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_traffic_policy: Option<String>,
    /// `Cluster` or `Local` (recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal_traffic_policy: Option<String>,
    /// Health check node port for `Local` traffic policy (recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check_node_port: Option<i32>,
    /// IP families (recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_families: Vec<String>,
    /// IP family policy (recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_family_policy: Option<String>,
    /// Whether not-ready endpoints are published (recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_not_ready_addresses: Option<bool>,
    /// Traffic distribution preference (recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traffic_distribution: Option<String>,
}

/// `Service.spec.type`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ServiceType {
    /// A virtual IP inside the cluster (the default).
    #[default]
    ClusterIP,
    /// ClusterIP plus a port on every node.
    NodePort,
    /// NodePort plus an external load balancer.
    LoadBalancer,
    /// A DNS alias for `externalName`.
    ExternalName,
}

/// One port of a Service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServicePort {
    /// Port name; required when the Service has more than one port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The port the Service answers on (1-65535).
    pub port: i32,
    /// Where traffic goes on the backend: a number, or a named container port. Defaults to
    /// `port`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_port: Option<IntOrString>,
    /// Transport protocol; `TCP` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<Protocol>,
    /// Application protocol hint, e.g. `http`, `https`, `kubernetes.io/h2c`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
    /// Node port for NodePort/LoadBalancer Services (recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_port: Option<i32>,
}

/// Transport protocol of a Service port.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// `TCP` (the default).
    #[default]
    #[serde(rename = "TCP")]
    Tcp,
    /// `UDP`.
    #[serde(rename = "UDP")]
    Udp,
    /// `SCTP`.
    #[serde(rename = "SCTP")]
    Sctp,
}

impl ServicePort {
    /// The backend port as a number: `targetPort` when it is a number, else `port`.
    pub fn numeric_target_port(&self) -> Option<u16> {
        match &self.target_port {
            Some(IntOrString::Int(n)) => u16::try_from(*n).ok(),
            Some(IntOrString::String(_)) | None => u16::try_from(self.port).ok(),
        }
    }
}

impl ServiceSpec {
    /// The Service type, `ClusterIP` when absent.
    pub fn service_type(&self) -> ServiceType {
        self.type_.unwrap_or_default()
    }

    /// The port entry whose `port` equals `port`.
    pub fn port(&self, port: u16) -> Option<&ServicePort> {
        self.ports.iter().find(|p| p.port == i32::from(port))
    }

    /// The port entry named `name`.
    pub fn port_named(&self, name: &str) -> Option<&ServicePort> {
        self.ports.iter().find(|p| p.name.as_deref() == Some(name))
    }

    /// Where to connect for Service port `port` without a cluster (standalone mode).
    ///
    /// The host is `externalName` for an `ExternalName` Service; otherwise the first
    /// `externalIPs` entry, or `clusterIP` when it is set and not `None`. The port is the
    /// matching port entry's `targetPort` when that is a number, else `port` itself. An
    /// ExternalName Service without port entries is dialled at `port`. `None` when there
    /// is no static address or the Service has port entries but none for `port`.
    pub fn dial_address(&self, port: u16) -> Option<(String, u16)> {
        let host = match self.service_type() {
            ServiceType::ExternalName => self.external_name.clone().filter(|h| !h.is_empty())?,
            _ => self
                .external_ips
                .first()
                .cloned()
                .or_else(|| {
                    self.cluster_ip
                        .clone()
                        .filter(|ip| !ip.is_empty() && !ip.eq_ignore_ascii_case("none"))
                })
                .filter(|h| !h.is_empty())?,
        };
        if self.ports.is_empty() && self.service_type() == ServiceType::ExternalName {
            return Some((host, port));
        }
        let entry = self.port(port)?;
        Some((host, entry.numeric_target_port()?))
    }
}

impl Object<ServiceSpec> {
    /// See [`ServiceSpec::dial_address`].
    pub fn dial_address(&self, port: u16) -> Option<(String, u16)> {
        self.spec.dial_address(port)
    }
}

impl Check for ServiceSpec {
    fn check(&self, cx: &mut Checker) {
        let ty = self.service_type();
        if ty == ServiceType::ExternalName {
            match self.external_name.as_deref() {
                None | Some("") => cx.error_at(
                    "externalName",
                    "an ExternalName Service needs `externalName`",
                    "set externalName to the DNS name to dial, e.g. example.com",
                ),
                Some(name) if !valid_host(name) => cx.error_at(
                    "externalName",
                    format!("{name:?} is not a valid DNS name"),
                    "use a lower-case DNS name like api.example.com (no scheme, no port)",
                ),
                Some(_) => {}
            }
            if !self.selector.is_empty() {
                cx.warning_at(
                    "selector",
                    "an ExternalName Service ignores `selector`",
                    "remove the selector",
                );
            }
        } else if self.external_name.is_some() {
            cx.error_at(
                "externalName",
                "`externalName` is only allowed on ExternalName Services",
                "set `type: ExternalName`, or remove externalName",
            );
        }
        let mut names: Vec<&str> = Vec::new();
        for (i, p) in self.ports.iter().enumerate() {
            cx.at_index("ports", i, |cx| {
                cx.range("port", i64::from(p.port), 1, 65535);
                if let Some(IntOrString::Int(n)) = &p.target_port {
                    cx.range("targetPort", *n, 1, 65535);
                }
                if let Some(IntOrString::String(s)) = &p.target_port
                    && s.is_empty()
                {
                    cx.error_at(
                        "targetPort",
                        "targetPort is empty",
                        "give a number or a port name",
                    );
                }
                if let Some(n) = p.node_port {
                    cx.range("nodePort", i64::from(n), 1, 65535);
                }
                match p.name.as_deref() {
                    None | Some("") if self.ports.len() > 1 => cx.error_at(
                        "name",
                        "every port needs a name when a Service has more than one port",
                        "name each port, e.g. http, https",
                    ),
                    Some(n) if !n.is_empty() => {
                        if names.contains(&n) {
                            cx.error_at(
                                "name",
                                format!("duplicate port name {n:?}"),
                                "give each port a different name",
                            );
                        }
                        names.push(n);
                    }
                    _ => {}
                }
            });
        }
    }
}

/// A loose DNS name check: labels of `[a-zA-Z0-9-]`, not starting or ending with `-`.
fn valid_host(name: &str) -> bool {
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}
