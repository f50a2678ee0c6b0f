//! The Plan: the immutable runtime form of a configuration. Compiled once per
//! configuration change, swapped atomically; a request reads one `Arc<Plan>` from
//! start to end.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::Serialize;

use crate::route::RouteTable;

/// Everything the data plane needs to serve requests.
#[derive(Debug, Default, Serialize)]
pub struct Plan {
    /// Increases by one with every Plan published.
    pub generation: u64,
    /// Route tables by listening socket. The default listener and every Gateway
    /// listener bound to the same address share one table.
    pub sockets: BTreeMap<SocketAddr, RouteTable>,
    /// Number of resources the Plan was compiled from.
    pub resources: usize,
}

impl Plan {
    /// The route table of the socket a request arrived on.
    pub fn table(&self, local: &SocketAddr) -> Option<&RouteTable> {
        self.sockets.get(local)
    }
}
