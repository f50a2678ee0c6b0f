//! The gateway's decisions into the store's audit log, next to the API's:
//! events are queued without blocking the request path and written by one
//! task; when the queue is full (the database is slow or down) events are
//! dropped, counted and reported rather than slowing requests.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use palisade_gateway::audit::{AuditEvent, AuditSink};
use palisade_store::{AuditRecord, ObjectKey, Outcome, Store, Timestamp};
use tokio::sync::mpsc;

/// Events waiting to be written before new ones are dropped.
const QUEUE: usize = 4096;

/// Queues gateway decisions for the store.
pub struct StoreAuditSink {
    queue: mpsc::Sender<AuditRecord>,
    dropped: Arc<AtomicU64>,
}

impl StoreAuditSink {
    /// A sink writing to `store` from a background task.
    pub fn spawn(store: Arc<dyn Store>) -> StoreAuditSink {
        let (queue, mut rx) = mpsc::channel::<AuditRecord>(QUEUE);
        let dropped = Arc::new(AtomicU64::new(0));
        let lost = dropped.clone();
        tokio::spawn(async move {
            while let Some(record) = rx.recv().await {
                if let Err(e) = store.append_audit(record).await {
                    tracing::error!(error = %e, "cannot write a gateway decision to the audit log");
                }
                let n = lost.swap(0, Ordering::Relaxed);
                if n > 0 {
                    tracing::warn!(
                        dropped = n,
                        "audit queue was full; gateway decisions were dropped"
                    );
                }
            }
        });
        StoreAuditSink { queue, dropped }
    }
}

impl AuditSink for StoreAuditSink {
    fn record(&self, event: AuditEvent) {
        let (namespace, name) = event
            .route
            .split_once('/')
            .map(|(ns, n)| (ns.to_string(), n.to_string()))
            .unwrap_or_default();
        let record = AuditRecord {
            time: Timestamp::now(),
            principal: event.principal.to_string(),
            verb: event.verb.to_string(),
            resource: ObjectKey::new("gateway.networking.k8s.io", "HTTPRoute", namespace, name),
            outcome: if event.allowed {
                Outcome::Allowed
            } else {
                Outcome::Denied
            },
            reason: event.reason,
            source: "gateway".to_string(),
            details: event.details,
        };
        if self.queue.try_send(record).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}
