//! Palisade's data plane.
//!
//! A configuration [`Snapshot`](palisade_api::snapshot::Snapshot) is compiled once into
//! an immutable [`Plan`](plan::Plan) ([`compile`]); the [`Proxy`](proxy::Proxy) serves
//! requests from the Plan it reads at their start, and a new Plan is swapped in
//! atomically. [`Listeners`](listeners::Listeners) keeps the bound sockets in line with
//! the Plan; [`Admin`](admin::Admin) serves health, readiness, metrics and the effective
//! configuration.

pub mod access;
pub mod admin;
pub mod agents;
pub mod audit;
pub mod authz;
pub mod backend;
pub mod body;
pub mod callers;
pub mod compile;
pub mod cors;
pub mod guard;
pub mod guard_webhook;
pub mod jwt;
pub mod listeners;
pub mod llm;
pub mod llm_proxy;
pub mod llm_shaping;
pub mod llm_usage;
pub mod mcp_access;
pub mod mcp_endpoint;
pub mod mcp_servers;
pub mod metrics;
pub mod plan;
pub mod policies;
pub mod programs;
pub mod proxy;
pub mod rate_limit;
pub mod respond;
pub mod route;
pub mod serve;
pub mod token_location;
pub mod verified;
