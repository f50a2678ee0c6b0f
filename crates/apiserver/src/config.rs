//! What the API server needs from the control plane: the current
//! configuration's authorizer and diagnostics, which objects come from
//! files, and a dry run of a change before it is stored.

use std::sync::Arc;

use palisade_rbac::Authorizer;
use palisade_store::ObjectKey;
use serde_json::Value;

use crate::authn::{AccountDirectory, BoxFuture};

/// A change to dry-run against the whole configuration.
#[derive(Clone, Copy, Debug)]
pub enum Change<'a> {
    /// The object (a full manifest) is created or replaced.
    Put(&'a Value),
    /// The object is deleted.
    Delete(&'a ObjectKey),
}

/// The control plane as the API server sees it.
pub trait Configuration: AccountDirectory {
    /// The authorizer of the configuration being served.
    fn authorizer(&self) -> Arc<Authorizer>;

    /// The file an object is defined in, if a file defines it (such objects
    /// are read-only through the API).
    fn file_source(&self, key: &ObjectKey) -> Option<String>;

    /// The computed `status` of an object: a `Ready` condition and the
    /// configuration diagnostics that concern it.
    fn status_of(&self, key: &ObjectKey) -> Value;

    /// Whether `namespace/name` is an Agent (which acts as its own service account).
    fn is_agent(&self, namespace: &str, name: &str) -> bool;

    /// Whether a namespace exists (in files or the store).
    fn namespace_exists(&self, namespace: &str) -> bool;

    /// Compiles the configuration with `change` applied; the errors it would
    /// introduce, if any.
    fn admit(&self, change: Change<'_>) -> Result<(), Vec<String>>;

    /// The OIDC providers people can sign in with: name, issuer, client id
    /// and scopes (nothing secret), for `palisade login`.
    fn login_providers(&self) -> Vec<Value>;

    /// Resolves once the served configuration includes store revision
    /// `revision` (or after a bounded wait), so that a client's next request
    /// sees its own write (e.g. a new RoleBinding).
    fn synced(&self, revision: i64) -> BoxFuture<'_, ()>;
}
