//! Gateway decisions for the audit log: completed LLM requests with their
//! token usage, and requests refused by a rate limit or a prompt guard. The
//! data plane hands events to an [`AuditSink`], which must not block (the
//! control plane's sink queues them for the store).

use std::sync::Arc;

use serde_json::Value;

/// One decision of the gateway.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEvent {
    /// Who asked: the principal, or `anonymous`.
    pub principal: Arc<str>,
    /// What was asked, e.g. `llm.completion`, `request`.
    pub verb: &'static str,
    /// The route (`namespace/name`).
    pub route: Arc<str>,
    /// Whether it was served.
    pub allowed: bool,
    /// Why it was refused (the policy and rule), when it was.
    pub reason: Option<String>,
    /// Details: model, token counts, client address.
    pub details: Value,
}

/// Where gateway decisions go.
pub trait AuditSink: Send + Sync {
    /// Records an event without blocking the request.
    fn record(&self, event: AuditEvent);
}
