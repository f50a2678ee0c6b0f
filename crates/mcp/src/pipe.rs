//! A pipe to one upstream MCP server: messages go out on one channel and come in
//! on another, whatever the transport (stdio, streamable HTTP, legacy SSE).

use tokio::sync::{mpsc, oneshot};

use crate::jsonrpc::{Id, Message};

/// Messages queued towards an upstream before senders wait.
pub const OUTGOING_QUEUE: usize = 64;
/// Messages queued from an upstream before its reader waits.
pub const INCOMING_QUEUE: usize = 256;

/// A message from an upstream server.
#[derive(Debug, Clone)]
pub struct Inbound {
    /// The message.
    pub message: Message,
    /// The upstream request this message arrived in answer to, when the transport
    /// tells (streamable HTTP: messages on a POST's response stream).
    pub related: Option<Id>,
}

/// Both ends of a transport. Dropping `outgoing` closes the transport (the child
/// process is stopped, the HTTP session deleted); `incoming` ends when the upstream
/// goes away.
#[derive(Debug)]
pub struct Pipe {
    /// Messages to the server.
    pub outgoing: mpsc::Sender<Message>,
    /// Messages from the server.
    pub incoming: mpsc::Receiver<Inbound>,
    /// Opens the transport's stream of messages the server sends outside any
    /// request (streamable HTTP's GET stream), for transports that open it only
    /// on demand; `None` where that stream always exists (stdio, legacy SSE).
    pub open_events: Option<oneshot::Sender<()>>,
}

impl Pipe {
    /// A connected pair of channels: the pipe, plus the transport's ends.
    pub fn channels() -> (Pipe, mpsc::Receiver<Message>, mpsc::Sender<Inbound>) {
        let (out_tx, out_rx) = mpsc::channel(OUTGOING_QUEUE);
        let (in_tx, in_rx) = mpsc::channel(INCOMING_QUEUE);
        (
            Pipe {
                outgoing: out_tx,
                incoming: in_rx,
                open_events: None,
            },
            out_rx,
            in_tx,
        )
    }
}
