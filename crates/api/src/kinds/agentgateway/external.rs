//! External services in the request path: ext auth (Envoy `ext_authz`, gRPC or HTTP)
//! and ext proc (Envoy `ext_proc`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::shared::{
    BackendObjectReference, CelExpression, EndpointUrl, FailureMode, check_cel, check_cel_map,
    check_duration_or_cel, check_endpoint, check_opt_cel, check_quantity, conditional_policy,
};
use crate::check::{Check, Checker};
use crate::meta::IntOrString;

/// gRPC ext auth settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExtAuthGrpc {
    /// Literal `context_extensions` (at most 64).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub context_extensions: BTreeMap<String, String>,
    /// `metadata_context` entries valued by CEL (at most 64).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_metadata: BTreeMap<String, CelExpression>,
}

/// HTTP ext auth settings (the server answers 200 to allow).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExtAuthHttp {
    /// CEL: path sent to the server; default the request path; not with a URL path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<CelExpression>,
    /// CEL: where to redirect on denial (e.g. a sign-in page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<CelExpression>,
    /// CEL: body sent to the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<CelExpression>,
    /// Client headers passed to the server (at most 64); default `Authorization`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_request_headers: Vec<String>,
    /// Headers added to the server request, valued by CEL.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub add_request_headers: BTreeMap<String, CelExpression>,
    /// Server response headers copied to the upstream request (at most 64).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_response_headers: Vec<String>,
    /// Values from the server response, exposed to CEL as `extauthz`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub response_metadata: BTreeMap<String, CelExpression>,
}

/// Body forwarding to the ext auth server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExtAuthBody {
    /// Largest body forwarded (quantity); larger requests are rejected.
    pub max_size: IntOrString,
}

/// Caching of ext auth decisions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExtAuthCache {
    /// CEL expressions forming the cache key, 1 to 16.
    pub key: Vec<CelExpression>,
    /// How long a decision is reused: a duration (`5m`) or CEL.
    pub ttl: String,
    /// Cache size, at least 1; default 10000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_entries: Option<i64>,
}

conditional_policy! {
    /// External authorization: an endpoint plus exactly one of `grpc`, `http`.
    ExtAuth / ExtAuthOrConditional {
        /// Server reference (Service or AgentgatewayBackend).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        backend_ref: Option<BackendObjectReference>,
        /// Server URL (gRPC: origin only; HTTP: may carry the path).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        /// When the server fails; default `FailClosed`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure_mode: Option<FailureMode>,
        /// Use the gRPC protocol.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        grpc: Option<ExtAuthGrpc>,
        /// Use plain HTTP.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        http: Option<ExtAuthHttp>,
        /// Forward the (buffered) request body.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        forward_body: Option<ExtAuthBody>,
        /// Decision cache.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache: Option<ExtAuthCache>,
    }
}

impl ExtAuth {
    /// The effective failure mode.
    pub fn failure_mode(&self) -> FailureMode {
        self.failure_mode.unwrap_or_default()
    }
}

impl Check for ExtAuth {
    fn check(&self, cx: &mut Checker) {
        let grpc = self.grpc.is_some();
        check_endpoint(cx, &self.backend_ref, &self.url, true, grpc);
        cx.exactly_one(&[("grpc", grpc), ("http", self.http.is_some())]);
        if let Some(g) = &self.grpc {
            cx.at("grpc", |cx| {
                if g.context_extensions.len() > 64 {
                    cx.error_at(
                        "contextExtensions",
                        "has more than 64 entries",
                        "give at most 64 entries",
                    );
                }
                check_cel_map(cx, "requestMetadata", &g.request_metadata, 64);
            });
        }
        if let Some(h) = &self.http {
            let url_has_path = self
                .url
                .as_deref()
                .and_then(|u| EndpointUrl::parse(u).ok())
                .is_some_and(|u| !u.is_origin());
            cx.at("http", |cx| {
                if h.path.is_some() && url_has_path {
                    cx.error_at(
                        "path",
                        "`http.path` cannot be combined with a URL that has a path",
                        "drop one of the two paths",
                    );
                }
                check_opt_cel(cx, "path", &h.path);
                check_opt_cel(cx, "redirect", &h.redirect);
                check_opt_cel(cx, "body", &h.body);
                cx.len(
                    "allowedRequestHeaders",
                    h.allowed_request_headers.len(),
                    0,
                    64,
                );
                cx.len(
                    "allowedResponseHeaders",
                    h.allowed_response_headers.len(),
                    0,
                    64,
                );
                check_cel_map(cx, "addRequestHeaders", &h.add_request_headers, 64);
                check_cel_map(cx, "responseMetadata", &h.response_metadata, 64);
            });
        }
        if let Some(fb) = &self.forward_body {
            if self.http.as_ref().is_some_and(|h| h.body.is_some()) {
                cx.error_at(
                    "forwardBody",
                    "`forwardBody` cannot be combined with `http.body`",
                    "keep one way of sending the body",
                );
            }
            check_quantity(
                cx,
                "forwardBody.maxSize",
                &fb.max_size,
                1,
                super::shared::MAX_BYTES,
            );
        }
        if let Some(c) = &self.cache {
            cx.at("cache", |cx| {
                cx.len("key", c.key.len(), 1, 16);
                for (i, k) in c.key.iter().enumerate() {
                    cx.at_index("key", i, |cx| check_cel(cx, "", k));
                }
                check_duration_or_cel(cx, "ttl", &c.ttl);
                super::shared::opt_range(cx, "maxEntries", c.max_entries, 1, i64::from(u32::MAX));
            });
        }
    }
}

/// How a body is sent to the ext proc server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BodySendMode {
    /// Not sent.
    None,
    /// Buffered whole (error above 8KB).
    Buffered,
    /// Buffered up to 8KB, prefix sent when larger.
    BufferedPartial,
    /// Streamed both ways (the default).
    #[default]
    FullDuplexStreamed,
}

/// Whether headers or trailers are sent to the ext proc server.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SendMode {
    /// Sent (the default).
    #[default]
    Send,
    /// Not sent.
    Skip,
}

/// What ext proc sees of each phase (defaults: bodies `FullDuplexStreamed`, headers and
/// trailers `Send`, no mode override).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProcessingOptions {
    /// Request body mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body_mode: Option<BodySendMode>,
    /// Response body mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_body_mode: Option<BodySendMode>,
    /// Request header mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_header_mode: Option<SendMode>,
    /// Response header mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_header_mode: Option<SendMode>,
    /// Request trailer mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_trailer_mode: Option<SendMode>,
    /// Response trailer mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_trailer_mode: Option<SendMode>,
    /// Let the server change later modes (`mode_override`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_mode_override: Option<bool>,
}

conditional_policy! {
    /// External processing (Envoy `ext_proc`).
    ExtProc / ExtProcOrConditional {
        /// Server reference (Service or AgentgatewayBackend).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        backend_ref: Option<BackendObjectReference>,
        /// Server URL (origin only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        /// When the server fails; default `FailClosed`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        failure_mode: Option<FailureMode>,
        /// `metadata_context`: namespace -> key -> CEL value.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        metadata_context: BTreeMap<String, BTreeMap<String, CelExpression>>,
        /// Request attributes valued by CEL.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        request_attributes: BTreeMap<String, CelExpression>,
        /// Response attributes valued by CEL.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        response_attributes: BTreeMap<String, CelExpression>,
        /// What the server sees of each phase.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        processing_options: Option<ProcessingOptions>,
    }
}

impl Check for ExtProc {
    fn check(&self, cx: &mut Checker) {
        check_endpoint(cx, &self.backend_ref, &self.url, true, true);
        for (ns, entries) in &self.metadata_context {
            for (key, src) in entries {
                // Path `metadataContext[ns][key]`.
                cx.at_key("metadataContext", &format!("{ns}][{key}"), |cx| {
                    check_cel(cx, "", src)
                });
            }
        }
        check_cel_map(
            cx,
            "requestAttributes",
            &self.request_attributes,
            usize::MAX,
        );
        check_cel_map(
            cx,
            "responseAttributes",
            &self.response_attributes,
            usize::MAX,
        );
    }
}
