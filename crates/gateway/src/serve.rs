//! Accept loop shared by every listener: HTTP/1.1 and HTTP/2 (auto-detected) per
//! connection, and a graceful drain on shutdown (stop accepting, let in-flight
//! requests finish within the drain period).

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::body::Body;

/// Facts about the connection a request arrived on.
#[derive(Debug, Clone, Copy)]
pub struct Conn {
    /// The local socket address (identifies the listener).
    pub local: SocketAddr,
    /// The client's address.
    pub peer: SocketAddr,
}

/// Something that answers requests.
pub trait Handler: Send + Sync + 'static {
    /// Answers one request. Never fails: errors are responses.
    fn handle(
        self: Arc<Self>,
        req: Request<Incoming>,
        conn: Conn,
    ) -> impl Future<Output = Response<Body>> + Send;
}

/// Serves `listener` with `handler` until `shutdown` flips to true, then drains for at
/// most `drain`. `local` is the configured address the listener stands for (it keys
/// the Plan's route tables).
pub async fn serve<H: Handler>(
    listener: TcpListener,
    local: SocketAddr,
    handler: Arc<H>,
    mut shutdown: watch::Receiver<bool>,
    drain: Duration,
) {
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        // Out of file descriptors and similar: back off instead of spinning.
                        tracing::warn!(%local, error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let conn = Conn { local, peer };
                let handler = handler.clone();
                let service = service_fn(move |req| {
                    let handler = handler.clone();
                    async move { Ok::<_, Infallible>(handler.handle(req, conn).await) }
                });
                let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
                let connection = graceful.watch(connection.into_owned());
                tokio::spawn(async move {
                    if let Err(e) = connection.await {
                        tracing::debug!(%peer, error = %e, "connection ended with an error");
                    }
                });
            }
            _ = async { shutdown.wait_for(|stop| *stop).await.map(|_| ()) } => break,
        }
    }
    drop(listener);
    tracing::debug!(%local, "listener closed; draining connections");
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(%local, ?drain, "drain period over; closing remaining connections");
    }
}
