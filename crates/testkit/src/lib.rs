//! Test-only helpers for Palisade's end-to-end tests.
//!
//! Everything here exists so that tests can drive the real `palisade` binary
//! over real sockets:
//!
//! - [`upstream`]: an HTTP/1.1 + h2c server on a random loopback port with
//!   echo, streaming, slow, status, upload and SSE routes; it records what it
//!   received and never buffers large bodies.
//! - [`mock_llm`]: a scripted fake LLM provider (Anthropic Messages, OpenAI
//!   Chat Completions and Responses, streaming included) on a random loopback
//!   port, with API key checks like the real ones; it records what it received.
//! - [`process`]: launches `palisade run` on free ports with a fresh state
//!   dir, captures its logs, waits for `/readyz`, signals it, kills it on drop.
//! - [`client`]: a small async HTTP client (hyper-util legacy client) that
//!   returns status, headers and body, plus streaming body helpers.
//! - [`pattern`]: the deterministic byte pattern and checksum shared by the
//!   upstream and the client, so streamed bodies can be verified in O(1) memory.
//! - [`temp`]: a temporary directory removed on drop.
//! - [`peers`]: where the installed test peers (npm packages, Python venv) are.
//! - [`helpers`]: a self-signed certificate, starting a helper server process.
//!
//! This crate is a dev-dependency only; it favours clear panics with context
//! over error plumbing.

pub mod admin_api;
pub mod client;
pub mod helpers;
pub mod idp;
pub mod mock_llm;
pub mod pattern;
pub mod peers;
pub mod postgres;
pub mod process;
pub mod server_thread;
pub mod temp;
pub mod upstream;

pub use client::free_port;
pub use mock_llm::{MockLlm, MockReply, RecordedLlmRequest};
pub use pattern::Checksum;
pub use process::{CliOutput, Palisade, PalisadeBuilder, Signal};
pub use temp::TempDir;
pub use upstream::{RecordedRequest, Upstream};
