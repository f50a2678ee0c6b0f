//! The admin listener: health, readiness, Prometheus metrics, the effective
//! configuration, and the control plane's API when one is attached. Bound to
//! loopback by default.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;

use crate::body::Body;
use crate::proxy::Proxy;
use crate::respond;
use crate::serve::{Conn, Handler};

/// An API served on the admin listener beside the built-in endpoints (the
/// control plane's resource API).
pub trait AdminApi: Send + Sync + 'static {
    /// Whether the API answers `path`.
    fn serves(&self, path: &str) -> bool;
    /// Answers a request for one of its paths.
    fn handle(
        &self,
        req: Request<Incoming>,
    ) -> Pin<Box<dyn Future<Output = Response<Body>> + Send + '_>>;
}

/// Answers the admin endpoints.
pub struct Admin {
    proxy: Arc<Proxy>,
    api: Option<Arc<dyn AdminApi>>,
}

impl Admin {
    /// Admin endpoints over the given data plane.
    pub fn new(proxy: Arc<Proxy>) -> Self {
        Admin { proxy, api: None }
    }

    /// Also serves `api`.
    pub fn with_api(mut self, api: Arc<dyn AdminApi>) -> Self {
        self.api = Some(api);
        self
    }
}

impl Handler for Admin {
    async fn handle(self: Arc<Self>, req: Request<Incoming>, _conn: Conn) -> Response<Body> {
        if let Some(api) = &self.api
            && api.serves(req.uri().path())
        {
            return api.handle(req).await;
        }
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return respond::error(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "admin endpoints answer GET only",
            );
        }
        match req.uri().path() {
            "/healthz" => respond::text(StatusCode::OK, "text/plain", "ok\n"),
            "/readyz" => match self.proxy.current() {
                Some(plan) => respond::text(
                    StatusCode::OK,
                    "text/plain",
                    format!("ready (plan generation {})\n", plan.generation),
                ),
                None => respond::text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    "not ready: no configuration loaded yet\n",
                ),
            },
            "/metrics" => respond::text(
                StatusCode::OK,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                self.proxy.metrics().encode(),
            ),
            "/config" => match self.proxy.current() {
                Some(plan) => match serde_json::to_string_pretty(&*plan) {
                    Ok(json) => respond::text(StatusCode::OK, "application/json", json),
                    Err(e) => respond::error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        &format!("cannot encode the plan: {e}"),
                    ),
                },
                None => respond::error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "not_ready",
                    "no configuration loaded yet",
                ),
            },
            other => respond::error(
                StatusCode::NOT_FOUND,
                "not_found",
                &format!("no admin endpoint {other}; try /healthz, /readyz, /metrics or /config"),
            ),
        }
    }
}
