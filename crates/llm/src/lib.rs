//! LLM provider wire formats for Palisade.
//!
//! Everything here is IO-free: pure functions over `serde_json::Value`
//! bodies and incremental state machines fed with bytes or parsed events,
//! which the gateway calls while it streams a request and its response.
//!
//! - [`format`](mod@format): which wire format a request speaks ([`ApiFormat`]);
//! - [`provider`]: which formats a [`Provider`] serves and how the upstream
//!   hop is authenticated (secrets redacted from `Debug`);
//! - [`defaults`]: fill `model` and Anthropic `max_tokens` when omitted;
//! - [`translate`]: an OpenAI Chat Completions client on an Anthropic
//!   backend (requests, responses, errors and streams);
//! - [`sse`]: a bounded incremental Server-Sent Events parser and encoder;
//! - [`usage`]: token usage from responses and streams;
//! - [`content`]: the text a prompt guard inspects, with locations to write
//!   a masked version back.

pub mod content;
pub mod defaults;
pub mod format;
pub mod provider;
pub mod sse;
pub mod translate;
pub mod usage;

mod json;

pub use format::ApiFormat;
pub use provider::{ApiKey, Provider};
