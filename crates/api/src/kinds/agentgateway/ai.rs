//! `backend.ai`: LLM request policies — prompt enrichment, prompt guards, body defaults,
//! overrides and CEL transformations, model aliases, prompt caching, route types.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::backend_policy::{BackendPolicy, BackendPolicyScope};
use super::shared::{
    BackendObjectReference, CelExpression, ENDPOINT_KINDS, FailureMode, at_least_one,
    check_backend_ref, check_cel, check_cel_map, opt_len, opt_range, str_len,
};
use crate::check::{Check, Checker};
use crate::kinds::gateway_api::HttpHeaderMatch;

/// LLM policies; at least one member is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AiPolicy {
    /// Static messages added before/after the conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<PromptEnrichment>,
    /// Guards on prompts and completions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_guard: Option<PromptGuard>,
    /// Body fields set only when the client omitted them, 1 to 64.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub defaults: Vec<FieldValue>,
    /// Body fields always overwritten, 1 to 64.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<FieldValue>,
    /// Body fields computed by CEL (beat overrides; before provider translation), 1 to 64.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transformations: Vec<FieldExpression>,
    /// Body fields computed by CEL after provider translation, 1 to 64.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub final_transformations: Vec<FieldExpression>,
    /// Alias -> provider model name (at most 64).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub model_aliases: BTreeMap<String, String>,
    /// Automatic prompt caching (Bedrock Claude/Nova).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_caching: Option<PromptCaching>,
    /// Path suffix (or `*`) -> API format; unset = everything is chat Completions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub routes: BTreeMap<String, RouteType>,
}

impl AiPolicy {
    /// The API format for a request path: the longest matching suffix, then `*`, then
    /// `Completions`.
    pub fn route_type(&self, path: &str) -> RouteType {
        self.routes
            .iter()
            .filter(|(suffix, _)| suffix.as_str() != "*" && path.ends_with(suffix.as_str()))
            .max_by_key(|(suffix, _)| suffix.len())
            .map(|(_, t)| *t)
            .or_else(|| self.routes.get("*").copied())
            .unwrap_or(RouteType::Completions)
    }
}

impl Check for AiPolicy {
    fn check(&self, cx: &mut Checker) {
        at_least_one(
            cx,
            &[
                ("prompt", self.prompt.is_some()),
                ("promptGuard", self.prompt_guard.is_some()),
                ("defaults", !self.defaults.is_empty()),
                ("overrides", !self.overrides.is_empty()),
                ("transformations", !self.transformations.is_empty()),
                (
                    "finalTransformations",
                    !self.final_transformations.is_empty(),
                ),
                ("modelAliases", !self.model_aliases.is_empty()),
                ("promptCaching", self.prompt_caching.is_some()),
                ("routes", !self.routes.is_empty()),
            ],
        );
        if let Some(p) = &self.prompt {
            cx.at("prompt", |cx| {
                at_least_one(
                    cx,
                    &[
                        ("prepend", !p.prepend.is_empty()),
                        ("append", !p.append.is_empty()),
                    ],
                )
            });
        }
        cx.field("promptGuard", &self.prompt_guard);
        for (field, list) in [("defaults", &self.defaults), ("overrides", &self.overrides)] {
            opt_len(cx, field, list.len(), 1, 64);
            for (i, f) in list.iter().enumerate() {
                cx.at_index(field, i, |cx| str_len(cx, "field", &f.field, 1, 256));
            }
        }
        for (field, list) in [
            ("transformations", &self.transformations),
            ("finalTransformations", &self.final_transformations),
        ] {
            opt_len(cx, field, list.len(), 1, 64);
            for (i, f) in list.iter().enumerate() {
                cx.at_index(field, i, |cx| {
                    str_len(cx, "field", &f.field, 1, 256);
                    check_cel(cx, "expression", &f.expression);
                });
            }
        }
        if self.model_aliases.len() > 64 {
            cx.error_at(
                "modelAliases",
                format!("has {} entries", self.model_aliases.len()),
                "give at most 64 aliases",
            );
        }
        if let Some(c) = &self.prompt_caching {
            opt_range(
                cx,
                "promptCaching.minTokens",
                c.min_tokens,
                0,
                i64::from(i32::MAX),
            );
            opt_range(
                cx,
                "promptCaching.cacheMessageOffset",
                c.cache_message_offset,
                0,
                i64::from(i32::MAX),
            );
        }
        for key in self.routes.keys() {
            if key.is_empty() {
                cx.at_key("routes", key, |cx| {
                    cx.error(
                        "empty route suffix",
                        "use a path suffix such as /v1/messages, or \"*\"",
                    )
                });
            }
        }
    }
}

/// A chat message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Message {
    /// Role, e.g. `system`, `user`, `assistant`.
    pub role: String,
    /// Text content.
    pub content: String,
}

/// Static prompt enrichment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromptEnrichment {
    /// Messages placed before the client's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prepend: Vec<Message>,
    /// Messages placed after the client's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub append: Vec<Message>,
}

/// A request body field with a literal JSON value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldValue {
    /// Top-level body field, e.g. `temperature`.
    pub field: String,
    /// Any JSON value.
    pub value: serde_json::Value,
}

/// A request body field computed by CEL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FieldExpression {
    /// Body field.
    pub field: String,
    /// CEL expression computing it.
    pub expression: CelExpression,
}

/// Prompt caching (Bedrock Claude/Nova). Defaults: system and messages cached, tools
/// not, minTokens 1024, cacheMessageOffset 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromptCaching {
    /// Cache the system prompt; default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_system: Option<bool>,
    /// Cache messages; default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_messages: Option<bool>,
    /// Cache tool definitions; default false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_tools: Option<bool>,
    /// Smallest prompt worth caching, at least 0; default 1024.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_tokens: Option<i64>,
    /// Messages from the end left uncached, at least 0; default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_message_offset: Option<i64>,
}

/// API format of LLM traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RouteType {
    /// OpenAI chat completions.
    Completions,
    /// Anthropic messages.
    Messages,
    /// OpenAI responses.
    Responses,
    /// OpenAI embeddings.
    Embeddings,
    /// Model listing.
    Models,
    /// Forward unchanged, no LLM processing.
    Passthrough,
    /// Forward unchanged, extract telemetry.
    Detect,
    /// Anthropic token counting.
    AnthropicTokenCount,
    /// OpenAI realtime.
    Realtime,
    /// Reranking.
    Rerank,
    /// Gemini generateContent.
    GenerateContent,
    /// Gemini countTokens.
    GeminiCountTokens,
}

/// Guards on LLM prompts and completions; at least one of `request`, `response`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PromptGuard {
    /// `Enabled`: also guard streamed/realtime output; unset: guards skip it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub streaming: Option<Streaming>,
    /// Guards on requests, 1 to 8, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub request: Vec<GuardEntry>,
    /// Guards on responses, 1 to 8, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response: Vec<GuardEntry>,
}

impl PromptGuard {
    /// Whether streamed output is guarded.
    pub fn streaming(&self) -> bool {
        self.streaming == Some(Streaming::Enabled)
    }
}

impl Check for PromptGuard {
    fn check(&self, cx: &mut Checker) {
        at_least_one(
            cx,
            &[
                ("request", !self.request.is_empty()),
                ("response", !self.response.is_empty()),
            ],
        );
        opt_len(cx, "request", self.request.len(), 1, 8);
        opt_len(cx, "response", self.response.len(), 1, 8);
        for (i, g) in self.request.iter().enumerate() {
            cx.at_index("request", i, |cx| g.check_side(cx, false));
        }
        for (i, g) in self.response.iter().enumerate() {
            cx.at_index("response", i, |cx| g.check_side(cx, true));
        }
    }
}

/// Streaming guard switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Streaming {
    /// Guard streamed output too.
    Enabled,
}

/// Which parts of the conversation a guard inspects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum GuardScope {
    /// The system prompt.
    SystemPrompt,
    /// The conversation messages.
    Messages,
    /// Tool call arguments.
    ToolInput,
    /// Tool results.
    ToolOutput,
}

/// The default guard scope.
pub const DEFAULT_GUARD_SCOPE: &[GuardScope] = &[GuardScope::SystemPrompt, GuardScope::Messages];

/// One guard: exactly one detector plus the rejection response and scope.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuardEntry {
    /// Response sent on rejection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<GuardResponse>,
    /// Parts inspected, 1 to 4, no duplicates; default SystemPrompt + Messages
    /// (ToolInput/ToolOutput only with regex or bedrockGuardrails).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scope: Vec<GuardScope>,
    /// Regex / built-in pattern detector.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<RegexGuard>,
    /// External webhook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<WebhookGuard>,
    /// OpenAI moderation API (requests only).
    #[serde(
        rename = "openAIModeration",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub openai_moderation: Option<OpenAiModerationGuard>,
    /// AWS Bedrock guardrails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bedrock_guardrails: Option<BedrockGuardrails>,
    /// Google Model Armor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google_model_armor: Option<GoogleModelArmor>,
}

impl GuardEntry {
    /// The effective scope.
    pub fn scope(&self) -> &[GuardScope] {
        if self.scope.is_empty() {
            DEFAULT_GUARD_SCOPE
        } else {
            &self.scope
        }
    }

    /// The rejection status code (default 403).
    pub fn status_code(&self) -> u16 {
        self.response
            .as_ref()
            .and_then(|r| r.status_code)
            .and_then(|c| u16::try_from(c).ok())
            .unwrap_or(403)
    }

    /// The rejection message (default "The request was rejected due to inappropriate content").
    pub fn message(&self) -> &str {
        self.response
            .as_ref()
            .and_then(|r| r.message.as_deref())
            .unwrap_or("The request was rejected due to inappropriate content")
    }

    fn check_side(&self, cx: &mut Checker, response_side: bool) {
        let mut set = vec![
            ("regex", self.regex.is_some()),
            ("webhook", self.webhook.is_some()),
        ];
        if !response_side {
            set.push(("openAIModeration", self.openai_moderation.is_some()));
        } else if self.openai_moderation.is_some() {
            cx.error_at(
                "openAIModeration",
                "`openAIModeration` only guards requests",
                "move it to promptGuard.request, or use another detector for responses",
            );
        }
        set.push(("bedrockGuardrails", self.bedrock_guardrails.is_some()));
        set.push(("googleModelArmor", self.google_model_armor.is_some()));
        cx.exactly_one(&set);
        if let Some(r) = &self.response {
            cx.at("response", |cx| {
                at_least_one(
                    cx,
                    &[
                        ("message", r.message.is_some()),
                        ("statusCode", r.status_code.is_some()),
                    ],
                );
                opt_range(cx, "statusCode", r.status_code, 200, 599);
            });
        }
        opt_len(cx, "scope", self.scope.len(), 1, 4);
        let distinct: BTreeSet<_> = self.scope.iter().collect();
        if distinct.len() != self.scope.len() {
            cx.error_at("scope", "scope lists a value twice", "list each scope once");
        }
        let tool_scope = self
            .scope
            .iter()
            .any(|s| matches!(s, GuardScope::ToolInput | GuardScope::ToolOutput));
        if tool_scope && self.regex.is_none() && self.bedrock_guardrails.is_none() {
            cx.error_at(
                "scope",
                "ToolInput/ToolOutput scopes need a regex or bedrockGuardrails detector",
                "use SystemPrompt and Messages with this detector",
            );
        }
        cx.field("regex", &self.regex);
        cx.field("webhook", &self.webhook);
        if let Some(m) = &self.openai_moderation {
            cx.at("openAIModeration", |cx| {
                check_guard_policies(cx, &m.policies, &["key", "secretRef"])
            });
        }
        if let Some(b) = &self.bedrock_guardrails {
            cx.at("bedrockGuardrails", |cx| {
                check_guard_policies(cx, &b.policies, &["key", "secretRef", "aws"])
            });
        }
        if let Some(g) = &self.google_model_armor {
            cx.at("googleModelArmor", |cx| {
                check_guard_policies(cx, &g.policies, &["gcp"])
            });
        }
    }
}

fn check_guard_policies(cx: &mut Checker, policies: &Option<BackendPolicy>, auth_kinds: &[&str]) {
    if let Some(p) = policies {
        cx.at("policies", |cx| {
            p.check_scope(cx, BackendPolicyScope::Simple);
            if let Some(auth) = &p.auth {
                cx.at("auth", |cx| auth.restrict(cx, auth_kinds));
            }
        });
    }
}

/// The response sent when a guard rejects; at least one member is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuardResponse {
    /// Body text; default "The request was rejected due to inappropriate content".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Status, 200..599; default 403.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<i64>,
}

/// Built-in sensitive-data detectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BuiltinPattern {
    /// US social security number.
    Ssn,
    /// Payment card number.
    CreditCard,
    /// Phone number.
    PhoneNumber,
    /// E-mail address.
    Email,
    /// Canadian social insurance number.
    CaSin,
    /// International bank account number (checked with mod-97). Palisade extension.
    Iban,
    /// AWS access key id (`AKIA…`, `ASIA…`). Palisade extension.
    AwsAccessKey,
    /// GitHub token (`ghp_…`, `gho_…`, `github_pat_…`). Palisade extension.
    GithubToken,
    /// PEM private key block. Palisade extension.
    PrivateKey,
    /// Slack token (`xoxb-…`). Palisade extension.
    SlackToken,
    /// OpenAI API key (`sk-…`, `sk-proj-…`). Palisade extension.
    OpenAiApiKey,
    /// Anthropic API key (`sk-ant-…`). Palisade extension.
    AnthropicApiKey,
    /// Google API key (`AIza…`). Palisade extension.
    GoogleApiKey,
    /// JSON Web Token (three base64url segments). Palisade extension.
    JsonWebToken,
}

/// What a regex guard does on a match.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RegexAction {
    /// Replace the match (the default; never applied to streamed output).
    #[default]
    Mask,
    /// Reject the request.
    Reject,
}

/// Regex and built-in pattern detector (patterns additive).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegexGuard {
    /// Rust regexes (1..1024 chars each; case-sensitive unless `(?i)`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matches: Vec<String>,
    /// Built-in detectors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub builtins: Vec<BuiltinPattern>,
    /// Action; default `Mask`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<RegexAction>,
}

impl RegexGuard {
    /// The effective action.
    pub fn action(&self) -> RegexAction {
        self.action.unwrap_or_default()
    }
}

impl Check for RegexGuard {
    fn check(&self, cx: &mut Checker) {
        at_least_one(
            cx,
            &[
                ("matches", !self.matches.is_empty()),
                ("builtins", !self.builtins.is_empty()),
            ],
        );
        for (i, pattern) in self.matches.iter().enumerate() {
            cx.at_index("matches", i, |cx| {
                str_len(cx, "", pattern, 1, 1024);
                cx.regex("", pattern);
            });
        }
    }
}

/// An external guard webhook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookGuard {
    /// Webhook service (Service with port, or AgentgatewayBackend).
    pub backend_ref: BackendObjectReference,
    /// Headers sent to the webhook, valued by CEL (at most 64).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, CelExpression>,
    /// Client headers forwarded when they match (none by default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forward_header_matches: Vec<HttpHeaderMatch>,
    /// When the webhook fails; default `FailClosed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_mode: Option<FailureMode>,
}

impl Check for WebhookGuard {
    fn check(&self, cx: &mut Checker) {
        cx.at("backendRef", |cx| {
            check_backend_ref(cx, &self.backend_ref, ENDPOINT_KINDS)
        });
        check_cel_map(cx, "headers", &self.headers, 64);
        cx.list("forwardHeaderMatches", &self.forward_header_matches);
    }
}

/// OpenAI moderation detector.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OpenAiModerationGuard {
    /// Moderation model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Connection to the moderation API (tcp, tls, http, tunnel, auth key/secretRef).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<BackendPolicy>,
}

/// AWS Bedrock guardrails detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BedrockGuardrails {
    /// Guardrail id.
    pub identifier: String,
    /// Guardrail version.
    pub version: String,
    /// AWS region.
    pub region: String,
    /// Connection settings (auth: key, secretRef or aws).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<BackendPolicy>,
}

/// Google Model Armor detector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GoogleModelArmor {
    /// Template id.
    pub template_id: String,
    /// GCP project.
    pub project_id: String,
    /// Location; default `us-central1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Connection settings (auth: gcp).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<BackendPolicy>,
}
