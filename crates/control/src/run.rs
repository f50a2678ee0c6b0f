//! `palisade run`: load the configuration, serve it, reload it when files change, and
//! shut down gracefully on SIGTERM/SIGINT.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use palisade_api::diag::Diagnostic;
use palisade_gateway::admin::Admin;
use palisade_gateway::compile::Options;
use palisade_gateway::listeners::Listeners;
use palisade_gateway::metrics::Metrics;
use palisade_gateway::proxy::Proxy;
use palisade_gateway::serve::serve;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::{Sources, compile_batch};
use crate::watch::FileWatch;

/// Settings of a `palisade run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Manifest sources.
    pub sources: Sources,
    /// Compile options (default listener, Gateway bind address).
    pub compile: Options,
    /// Admin listener address; `None` disables it.
    pub admin_addr: Option<SocketAddr>,
    /// State directory (created if missing).
    pub state_dir: std::path::PathBuf,
    /// How long shutdown waits for in-flight requests.
    pub drain: Duration,
}

/// Runs until SIGTERM or SIGINT. Fails when the first configuration is invalid or a
/// listener cannot be bound at start.
pub async fn run(options: RunOptions) -> anyhow::Result<()> {
    std::fs::create_dir_all(&options.state_dir).with_context(|| {
        format!(
            "cannot create the state directory {}",
            options.state_dir.display()
        )
    })?;
    let metrics = Arc::new(Metrics::new());
    let proxy = Arc::new(Proxy::new(metrics.clone()));
    let mut listeners = Listeners::new(proxy.clone(), options.drain);

    let (stop_admin, admin_stop_rx) = watch::channel(false);
    let admin_task = match options.admin_addr {
        Some(addr) => {
            let listener = TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on the admin address {addr}"))?;
            tracing::info!(%addr, "admin listening");
            Some(tokio::spawn(serve(
                listener,
                addr,
                Arc::new(Admin::new(proxy.clone())),
                admin_stop_rx,
                Duration::from_secs(1),
            )))
        }
        None => None,
    };

    let mut generation = 1;
    let compiled = compile_batch(options.sources.load(), &options.compile, generation);
    log_diagnostics(&compiled.diagnostics);
    let Some(plan) = compiled.plan else {
        let errors = compiled.diagnostics.iter().filter(|d| d.is_error()).count();
        anyhow::bail!(
            "the configuration has {errors} error(s); nothing is served (run `palisade validate` for details)"
        );
    };
    let plan = Arc::new(plan);
    let bind_errors = listeners.reconcile(&plan).await;
    if let Some(e) = bind_errors.into_iter().next() {
        anyhow::bail!(e);
    }
    proxy.publish(plan);
    metrics.reload(true);
    tracing::info!(generation, "configuration loaded");

    let mut files = if options.sources.paths.is_empty() {
        None
    } else {
        Some(
            FileWatch::start(&options.sources.paths)
                .context("cannot watch the configuration files")?,
        )
    };

    loop {
        tokio::select! {
            changed = async { match files.as_mut() { Some(w) => w.changed().await, None => std::future::pending().await } } => {
                if changed.is_none() {
                    tracing::error!("the file watcher stopped; configuration changes are no longer picked up");
                    files = None;
                    continue;
                }
                generation += 1;
                let compiled = compile_batch(options.sources.load(), &options.compile, generation);
                log_diagnostics(&compiled.diagnostics);
                match compiled.plan {
                    Some(plan) => {
                        let plan = Arc::new(plan);
                        for e in listeners.reconcile(&plan).await {
                            tracing::error!(error = %e, "listener could not be bound; its routes are unreachable");
                        }
                        proxy.publish(plan);
                        metrics.reload(true);
                        tracing::info!(generation, "configuration reloaded");
                    }
                    None => {
                        generation -= 1;
                        metrics.reload(false);
                        let errors = compiled.diagnostics.iter().filter(|d| d.is_error()).count();
                        tracing::error!(errors, "configuration change rejected; still serving the previous configuration");
                    }
                }
            }
            signal = shutdown_signal() => {
                tracing::info!(signal, drain = ?options.drain, "shutting down: draining in-flight requests");
                break;
            }
        }
    }
    listeners.shutdown().await;
    let _ = stop_admin.send(true);
    if let Some(task) = admin_task {
        let _ = task.await;
    }
    tracing::info!("stopped");
    Ok(())
}

fn log_diagnostics(diagnostics: &[Diagnostic]) {
    for d in diagnostics {
        if d.is_error() {
            tracing::error!(target: "palisade::config", "{d}");
        } else {
            tracing::warn!(target: "palisade::config", "{d}");
        }
    }
}

async fn shutdown_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot install the SIGTERM handler");
            return std::future::pending().await;
        }
    };
    tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}
