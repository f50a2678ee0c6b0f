//! One live connection to an upstream MCP server: assigns upstream request ids,
//! routes each answer (and the notifications and requests that belong to a call)
//! back to its caller, and hands everything else to the session.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::mpsc;

use crate::jsonrpc::{ErrorObject, INTERNAL_ERROR, Id, Message};
use crate::pipe::{Inbound, Pipe};

/// Messages buffered per call (interim notifications plus the answer).
const CALL_QUEUE: usize = 64;

/// The upstream went away.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the upstream MCP server {0} is gone")]
pub struct Closed(pub String);

#[derive(Default)]
struct Table {
    calls: HashMap<i64, mpsc::Sender<Message>>,
    /// Progress tokens sent with a call, to route progress notifications to it.
    progress: HashMap<String, i64>,
}

/// A correlating connection. Cheap to share.
pub struct Connection {
    name: String,
    outgoing: mpsc::Sender<Message>,
    table: Mutex<Table>,
    next_id: AtomicI64,
    closed: AtomicBool,
    open_events: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Wraps a pipe. Messages the server sends outside any call go to `unsolicited`.
    pub fn new(name: String, pipe: Pipe, unsolicited: mpsc::Sender<Message>) -> Arc<Connection> {
        let conn = Arc::new(Connection {
            name,
            outgoing: pipe.outgoing,
            table: Mutex::new(Table::default()),
            next_id: AtomicI64::new(1),
            closed: AtomicBool::new(false),
            open_events: Mutex::new(pipe.open_events),
        });
        tokio::spawn(read(Arc::downgrade(&conn), pipe.incoming, unsolicited));
        conn
    }

    /// Opens the upstream's stream of server-initiated messages, on transports
    /// that open it on demand (idempotent).
    pub fn open_events(&self) {
        if let Some(tx) = self
            .open_events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            let _ = tx.send(());
        }
    }

    /// The server's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether the upstream has gone away.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire) || self.outgoing.is_closed()
    }

    /// Sends a request. The receiver yields the notifications and server requests
    /// that belong to it, then its response (with the upstream id), then ends.
    pub async fn call(
        &self,
        method: &str,
        params: Option<Value>,
    ) -> Result<(i64, mpsc::Receiver<Message>), Closed> {
        if self.is_closed() {
            return Err(Closed(self.name.clone()));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(CALL_QUEUE);
        {
            let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
            table.calls.insert(id, tx);
            if let Some(token) = progress_token(params.as_ref()) {
                table.progress.insert(token, id);
            }
        }
        let message = Message::request(Id::Number(id), method, params);
        if self.outgoing.send(message).await.is_err() {
            self.forget(id);
            return Err(Closed(self.name.clone()));
        }
        Ok((id, rx))
    }

    /// Sends a request and waits for its result, ignoring interim messages.
    pub async fn request(&self, method: &str, params: Option<Value>) -> Result<Value, ErrorObject> {
        let (_, mut rx) = self
            .call(method, params)
            .await
            .map_err(|e| ErrorObject::new(INTERNAL_ERROR, e.to_string()))?;
        while let Some(message) = rx.recv().await {
            if let Message::Response { outcome, .. } = message {
                return outcome;
            }
        }
        Err(ErrorObject::new(
            INTERNAL_ERROR,
            Closed(self.name.clone()).to_string(),
        ))
    }

    /// Sends a notification or a response.
    pub async fn send(&self, message: Message) -> Result<(), Closed> {
        self.outgoing
            .send(message)
            .await
            .map_err(|_| Closed(self.name.clone()))
    }

    fn forget(&self, id: i64) {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        table.calls.remove(&id);
        table.progress.retain(|_, v| *v != id);
    }

    /// Where a message from the server goes: a call's channel, or none (unsolicited).
    fn route(&self, inbound: &Inbound) -> Option<(i64, mpsc::Sender<Message>, bool)> {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let target = match &inbound.message {
            Message::Response {
                id: Id::Number(n), ..
            } => {
                let tx = table.calls.remove(n)?;
                table.progress.retain(|_, v| v != n);
                return Some((*n, tx, true));
            }
            Message::Response { .. } => None,
            Message::Notification { method, params } if method == "notifications/progress" => {
                progress_token_of(params.as_ref()).and_then(|t| table.progress.get(&t).copied())
            }
            _ => match &inbound.related {
                Some(Id::Number(n)) if table.calls.contains_key(n) => Some(*n),
                // A server request during exactly one call (stdio gives no other clue)
                // belongs to that call.
                _ if matches!(inbound.message, Message::Request { .. })
                    && table.calls.len() == 1 =>
                {
                    table.calls.keys().next().copied()
                }
                _ => None,
            },
        };
        let id = target?;
        table.calls.get(&id).map(|tx| (id, tx.clone(), false))
    }
}

async fn read(
    conn: std::sync::Weak<Connection>,
    mut incoming: mpsc::Receiver<Inbound>,
    unsolicited: mpsc::Sender<Message>,
) {
    while let Some(inbound) = incoming.recv().await {
        let Some(conn) = conn.upgrade() else { return };
        match conn.route(&inbound) {
            Some((_, tx, _)) => {
                // A caller that stopped listening just loses the message.
                let _ = tx.send(inbound.message).await;
            }
            None => {
                if matches!(inbound.message, Message::Response { .. }) {
                    tracing::debug!(server = %conn.name, "MCP server answered an unknown request id; dropped");
                    continue;
                }
                if unsolicited.send(inbound.message).await.is_err() {
                    return;
                }
            }
        }
    }
    let Some(conn) = conn.upgrade() else { return };
    conn.closed.store(true, Ordering::Release);
    let calls: Vec<(i64, mpsc::Sender<Message>)> = {
        let mut table = conn.table.lock().unwrap_or_else(|p| p.into_inner());
        table.progress.clear();
        table.calls.drain().collect()
    };
    for (id, tx) in calls {
        let _ = tx
            .send(Message::error(
                Id::Number(id),
                INTERNAL_ERROR,
                Closed(conn.name.clone()).to_string(),
            ))
            .await;
    }
}

fn progress_token(params: Option<&Value>) -> Option<String> {
    let token = params?.get("_meta")?.get("progressToken")?;
    Some(token.to_string())
}

fn progress_token_of(params: Option<&Value>) -> Option<String> {
    Some(params?.get("progressToken")?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A scripted upstream on the other end of a pipe.
    fn pair() -> (
        Arc<Connection>,
        mpsc::Receiver<Message>,
        mpsc::Sender<Inbound>,
        mpsc::Receiver<Message>,
    ) {
        let (pipe, out, inc) = Pipe::channels();
        let (tx, rx) = mpsc::channel(8);
        (Connection::new("t".into(), pipe, tx), out, inc, rx)
    }

    #[tokio::test]
    async fn routes_answers_progress_and_unsolicited() {
        let (conn, mut out, inc, mut unsolicited) = pair();
        let (id, mut call) = conn
            .call(
                "tools/call",
                Some(json!({"name": "x", "_meta": {"progressToken": "p1"}})),
            )
            .await
            .unwrap();
        let sent = out.recv().await.unwrap();
        assert_eq!(sent.id(), Some(&Id::Number(id)));
        let send = |m: Message| Inbound {
            message: m,
            related: None,
        };
        inc.send(send(Message::notification(
            "notifications/progress",
            Some(json!({"progressToken": "p1", "progress": 1})),
        )))
        .await
        .unwrap();
        inc.send(send(Message::notification(
            "notifications/tools/list_changed",
            None,
        )))
        .await
        .unwrap();
        inc.send(send(Message::result(
            Id::Number(id),
            json!({"content": []}),
        )))
        .await
        .unwrap();
        assert_eq!(
            call.recv().await.unwrap().method(),
            Some("notifications/progress")
        );
        assert!(matches!(
            call.recv().await.unwrap(),
            Message::Response { .. }
        ));
        assert!(call.recv().await.is_none());
        assert_eq!(
            unsolicited.recv().await.unwrap().method(),
            Some("notifications/tools/list_changed")
        );
    }

    #[tokio::test]
    async fn closing_fails_pending_calls() {
        let (conn, out, inc, _unsolicited) = pair();
        let (_, mut call) = conn.call("ping", None).await.unwrap();
        drop(inc);
        drop(out);
        match call.recv().await.unwrap() {
            Message::Response {
                outcome: Err(e), ..
            } => assert!(e.message.contains("gone")),
            other => panic!("{other:?}"),
        }
        assert!(conn.is_closed());
        assert!(conn.call("ping", None).await.is_err());
    }
}
