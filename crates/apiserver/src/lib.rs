//! Palisade's admin API (see `docs/admin-api.md`): Kubernetes-shaped CRUD and
//! watch of resources in the [store](palisade_store), for callers
//! authenticated by the bootstrap admin token, Palisade's service-account
//! tokens or an OIDC provider, authorized by [RBAC](palisade_rbac), and
//! audited. Every write is validated and dry-run against the whole
//! configuration through the control plane's [`Configuration`] before it is
//! stored.

pub mod authn;
pub mod config;
pub mod escalation;
pub mod objects;
pub mod openapi;
pub mod patch;
pub mod paths;
pub mod server;
pub mod status;
pub mod tokens;

pub use authn::{AccountDirectory, Authenticator, Caller, ExternalTokens};
pub use config::{Change, Configuration};
pub use server::{ApiServer, Body};
pub use status::ApiError;
pub use tokens::TokenIssuer;
