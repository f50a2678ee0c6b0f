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

use std::future::Future;
use std::pin::Pin;

use palisade_apiserver::{ApiServer, Authenticator, Body, TokenIssuer};
use palisade_gateway::admin::AdminApi;
use palisade_store::{Backend, EncryptionKey, StoreOptions, WatchEvent, WatchQuery};

use crate::audit::StoreAuditSink;
use crate::bootstrap;
use crate::callers::Callers;
use crate::config::Sources;
use crate::plane::ControlPlane;
use crate::watch::FileWatch;
use palisade_agent::conversations::Conversations;
use palisade_agent::{Agents, Runtime};

/// Settings of a `palisade run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Manifest sources.
    pub sources: Sources,
    /// Compile options (default listener, Gateway bind address).
    pub compile: Options,
    /// Admin listener address; `None` disables it (and the admin API).
    pub admin_addr: Option<SocketAddr>,
    /// State directory (created if missing).
    pub state_dir: std::path::PathBuf,
    /// How long shutdown waits for in-flight requests.
    pub drain: Duration,
    /// PostgreSQL URL of the store; `None` keeps it in SQLite in the state dir.
    pub store_url: Option<String>,
}

/// The parts of the data plane a reload updates.
struct DataPlane {
    proxy: Arc<Proxy>,
    listeners: Listeners,
    metrics: Arc<Metrics>,
}

/// Runs until SIGTERM or SIGINT. Fails when the first configuration is invalid or a
/// listener cannot be bound at start.
pub async fn run(options: RunOptions) -> anyhow::Result<()> {
    create_state_dir(&options.state_dir)?;
    let metrics = Arc::new(Metrics::new());
    let proxy = Arc::new(Proxy::new(metrics.clone()));
    let mut data = DataPlane {
        listeners: Listeners::new(proxy.clone(), options.drain),
        proxy: proxy.clone(),
        metrics: metrics.clone(),
    };

    let key = EncryptionKey::from_env_or_file(&options.state_dir)
        .context("cannot load the key that encrypts Secrets at rest")?;
    let backend = Backend::from_url_or_dir(options.store_url.as_deref(), &options.state_dir);
    let store = palisade_store::open(&backend, StoreOptions::new(key))
        .await
        .context("cannot open the resource store")?;
    let plane = ControlPlane::new(
        options.sources.clone(),
        store.clone(),
        options.compile.clone(),
    );
    proxy.set_audit(Arc::new(StoreAuditSink::spawn(store.clone())));

    let (stop_admin, admin_stop_rx) = watch::channel(false);
    let admin_listener = match options.admin_addr {
        Some(addr) => Some(
            TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on the admin address {addr}"))?,
        ),
        None => None,
    };
    // Service-account tokens are issued by the admin listener's URL.
    let server = admin_listener
        .as_ref()
        .and_then(|l| l.local_addr().ok())
        .map_or_else(|| "palisade".to_string(), |addr| format!("http://{addr}"));
    let tokens = Arc::new(
        TokenIssuer::load_or_create(server.clone(), options.state_dir.clone())
            .context("cannot load the service-account signing key")?,
    );
    let admin_hash = match &admin_listener {
        Some(_) => {
            let (hash, created) = bootstrap::admin_credential(&options.state_dir, &server)?;
            if let Some(path) = created {
                tracing::info!(path = %path.display(), "admin credential written (point PALISADE_CONFIG at it, or run the CLI in this directory)");
            }
            Some(hash)
        }
        None => None,
    };
    proxy.set_callers(Arc::new(Callers::new(
        admin_hash,
        tokens.clone(),
        plane.clone(),
    )));
    let agents = agent_runtime(&options, &store, &tokens, &plane);
    proxy.set_agents(agents.clone());
    plane.set_agents(agents.clone());
    if options.compile.allow_anonymous {
        tracing::warn!(
            "--insecure-allow-anonymous: the built-in MCP routes serve callers without a token"
        );
    }
    let admin_task = match admin_listener {
        Some(listener) => {
            let addr = listener.local_addr()?;
            let hash = admin_hash.expect("an admin listener has an admin credential");
            let admin = Admin::new(proxy.clone()).with_api(admin_api(hash, tokens, &plane));
            tracing::info!(%addr, "admin listening");
            Some(tokio::spawn(serve(
                listener,
                addr,
                Arc::new(admin),
                admin_stop_rx,
                Duration::from_secs(1),
            )))
        }
        None => None,
    };

    let mut generation = 1;
    let compiled = plane
        .reload(generation)
        .await
        .context("cannot read the resource store")?;
    log_diagnostics(&compiled.diagnostics);
    let Some(plan) = compiled.plan else {
        let errors = compiled.diagnostics.iter().filter(|d| d.is_error()).count();
        anyhow::bail!(
            "the configuration has {errors} error(s); nothing is served (run `palisade validate` for details)"
        );
    };
    let plan = Arc::new(plan);
    let bind_errors = data.listeners.reconcile(&plan).await;
    if let Some(e) = bind_errors.into_iter().next() {
        anyhow::bail!(e);
    }
    proxy.publish(plan);
    plane.publish_agents();
    metrics.reload(true);
    plane.mark_synced();
    tracing::info!(generation, "configuration loaded");

    let mut files = if options.sources.paths.is_empty() {
        None
    } else {
        Some(
            FileWatch::start(&options.sources.paths)
                .context("cannot watch the configuration files")?,
        )
    };
    let mut stored = watch_store(&plane).await?;

    loop {
        tokio::select! {
            changed = async { match files.as_mut() { Some(w) => w.changed().await, None => std::future::pending().await } } => {
                if changed.is_none() {
                    tracing::error!("the file watcher stopped; configuration changes are no longer picked up");
                    files = None;
                    continue;
                }
                generation += 1;
                if !reload(&plane, &mut data, generation).await {
                    generation -= 1;
                }
            }
            event = stored.recv() => {
                match event {
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "the store watch failed; watching again from the current revision");
                        stored = watch_store(&plane).await?;
                    }
                    None => {
                        tracing::warn!("the store watch ended; watching again from the current revision");
                        stored = watch_store(&plane).await?;
                    }
                }
                // Several writes in a row make one reload.
                while stored.try_recv().is_ok() {}
                generation += 1;
                if !reload(&plane, &mut data, generation).await {
                    generation -= 1;
                }
            }
            signal = shutdown_signal() => {
                tracing::info!(signal, drain = ?options.drain, "shutting down: draining in-flight requests");
                break;
            }
        }
    }
    data.listeners.shutdown().await;
    let _ = stop_admin.send(true);
    if let Some(task) = admin_task {
        let _ = task.await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// The state directory, created private to its owner.
fn create_state_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create the state directory {}", dir.display()))?;
    }
    Ok(())
}

/// The admin API, with the bootstrap admin credential (its hash) and the
/// service-account token issuer.
fn admin_api(
    hash: [u8; 32],
    tokens: Arc<TokenIssuer>,
    plane: &Arc<ControlPlane>,
) -> Arc<dyn AdminApi> {
    let authn = Authenticator::new(hash, tokens.clone(), Some(plane.oidc()));
    let api = ApiServer::new(plane.store().clone(), plane.clone(), authn, tokens);
    Arc::new(Api(api))
}

/// The agent runtime: agents reach their model and tools through the
/// default listener (on loopback when it listens on every address), with
/// tokens of their own; conversations are kept in the store.
fn agent_runtime(
    options: &RunOptions,
    store: &Arc<dyn palisade_store::Store>,
    tokens: &Arc<TokenIssuer>,
    plane: &Arc<ControlPlane>,
) -> Arc<Agents> {
    let gateway = match options.compile.default_listener {
        Some(addr) if addr.ip().is_unspecified() => format!("http://127.0.0.1:{}", addr.port()),
        Some(addr) => format!("http://{addr}"),
        // Nothing to reach: turns fail with a connection error that says so.
        None => "http://default-listener-disabled.invalid".to_string(),
    };
    let client: palisade_mcp::http::HttpClient = Arc::new(palisade_net::Clients::new());
    let runtime = Runtime::new(
        client,
        gateway,
        Arc::new(crate::agents::Tokens::new(tokens.clone(), plane.clone())),
    );
    Agents::new(runtime, Conversations::new(store.clone()))
}

/// The admin API as the admin listener calls it.
struct Api(ApiServer);

impl AdminApi for Api {
    fn serves(&self, path: &str) -> bool {
        ApiServer::serves(path)
    }

    fn handle(
        &self,
        req: http::Request<hyper::body::Incoming>,
    ) -> Pin<Box<dyn Future<Output = http::Response<Body>> + Send + '_>> {
        Box::pin(async move {
            self.0.handle(req).await.unwrap_or_else(|| {
                palisade_gateway::respond::error(
                    http::StatusCode::NOT_FOUND,
                    "not_found",
                    "not an API path",
                )
            })
        })
    }
}

/// Watches every stored object from the revision the plane has loaded.
async fn watch_store(
    plane: &ControlPlane,
) -> anyhow::Result<tokio::sync::mpsc::Receiver<palisade_store::Result<WatchEvent>>> {
    let since = plane.revision();
    let watch = plane
        .store()
        .watch(WatchQuery {
            since_revision: Some(since),
            ..WatchQuery::default()
        })
        .await
        .context("cannot watch the resource store")?;
    Ok(watch.into_receiver())
}

/// Reloads files and store; publishes the Plan if it compiles. Returns
/// whether it was published.
async fn reload(plane: &ControlPlane, data: &mut DataPlane, generation: u64) -> bool {
    let published = match plane.reload(generation).await {
        Err(e) => {
            tracing::error!(error = %e, "cannot read the resource store; still serving the previous configuration");
            false
        }
        Ok(compiled) => {
            log_diagnostics(&compiled.diagnostics);
            match compiled.plan {
                Some(plan) => {
                    let plan = Arc::new(plan);
                    for e in data.listeners.reconcile(&plan).await {
                        tracing::error!(error = %e, "listener could not be bound; its routes are unreachable");
                    }
                    data.proxy.publish(plan);
                    plane.publish_agents();
                    data.metrics.reload(true);
                    tracing::info!(generation, "configuration reloaded");
                    true
                }
                None => {
                    data.metrics.reload(false);
                    let errors = compiled.diagnostics.iter().filter(|d| d.is_error()).count();
                    tracing::error!(
                        errors,
                        "configuration change rejected; still serving the previous configuration"
                    );
                    false
                }
            }
        }
    };
    plane.mark_synced();
    published
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
