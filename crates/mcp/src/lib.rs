//! MCP for Palisade: JSON-RPC messages, upstream transports (stdio child processes,
//! streamable HTTP, legacy HTTP+SSE), correlating connections, client sessions and
//! federation of several servers into one.

pub mod connection;
pub mod federation;
pub mod http;
pub mod jsonrpc;
pub mod pipe;
pub mod server;
pub mod session;
pub mod sse;
pub mod stdio;
pub mod supervisor;
