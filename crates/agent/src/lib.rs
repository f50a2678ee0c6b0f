//! Palisade's declarative agents.
//!
//! An `Agent` of type Declarative runs in Palisade itself. Each turn asks
//! its model and runs its tools through the gateway's own routes, carrying
//! the agent's token, so that everything the gateway enforces on any caller
//! (authentication, AccessPolicies, CEL rules, guards, rate limits, audit)
//! applies to the agent too:
//!
//! - [`definition`]: what an Agent manifest asks for, and whether it can run;
//! - [`model`]: the model, at `/llm/<ns>/<modelconfig>` (OpenAI Chat with
//!   function tools; the gateway translates to the provider);
//! - [`tools`]: MCP servers at `/mcp/<ns>/<name>` and other agents over A2A;
//! - [`runtime`]: the loop (model, tool calls, results, answer);
//! - [`a2a`] and [`server`]: the A2A endpoint of every agent;
//! - [`conversations`]: conversations and tasks kept in the state store.

pub mod a2a;
pub mod a2a_client;
pub mod conversations;
pub mod definition;
pub mod http_json;
pub mod model;
pub mod runtime;
pub mod server;
pub mod tools;

pub use runtime::{AgentTokens, Runtime};
pub use server::Agents;
