//! Keeps the set of bound sockets equal to the set the current Plan asks for: binds new
//! ones, drains removed ones.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::plan::Plan;
use crate::proxy::Proxy;
use crate::serve::serve;

struct Bound {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// The data-plane listeners.
pub struct Listeners {
    proxy: Arc<Proxy>,
    drain: Duration,
    bound: BTreeMap<SocketAddr, Bound>,
}

/// A socket that could not be bound.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {addr}: {source}")]
pub struct BindError {
    /// The address.
    pub addr: SocketAddr,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

impl Listeners {
    /// No listeners yet; `drain` bounds how long removed listeners wait for in-flight
    /// requests.
    pub fn new(proxy: Arc<Proxy>, drain: Duration) -> Self {
        Listeners {
            proxy,
            drain,
            bound: BTreeMap::new(),
        }
    }

    /// Binds what `plan` needs and is not bound, and drains what it no longer needs.
    /// Returns the sockets that could not be bound (their routes stay unreachable).
    pub async fn reconcile(&mut self, plan: &Plan) -> Vec<BindError> {
        let removed: Vec<SocketAddr> = self
            .bound
            .keys()
            .filter(|a| !plan.sockets.contains_key(a))
            .copied()
            .collect();
        for addr in removed {
            if let Some(b) = self.bound.remove(&addr) {
                tracing::info!(%addr, "listener removed; draining");
                let _ = b.stop.send(true);
            }
        }
        let mut errors = Vec::new();
        for addr in plan.sockets.keys() {
            if self.bound.contains_key(addr) {
                continue;
            }
            match TcpListener::bind(addr).await {
                Ok(listener) => {
                    tracing::info!(%addr, "listening");
                    let (stop, rx) = watch::channel(false);
                    let task =
                        tokio::spawn(serve(listener, *addr, self.proxy.clone(), rx, self.drain));
                    self.bound.insert(*addr, Bound { stop, task });
                }
                Err(source) => errors.push(BindError {
                    addr: *addr,
                    source,
                }),
            }
        }
        errors
    }

    /// Whether `addr` is being served.
    pub fn is_bound(&self, addr: &SocketAddr) -> bool {
        self.bound.contains_key(addr)
    }

    /// Stops accepting on every listener and waits until in-flight requests finish (at
    /// most the drain period).
    pub async fn shutdown(&mut self) {
        for b in self.bound.values() {
            let _ = b.stop.send(true);
        }
        for (_, b) in std::mem::take(&mut self.bound) {
            let _ = b.task.await;
        }
    }
}
