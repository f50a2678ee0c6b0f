//! Palisade's control plane: where configuration comes from (manifest files and
//! the objects stored through the admin API), how it is validated and compiled,
//! and the loop that keeps the data plane serving the latest valid Plan.

pub mod agents;
pub mod audit;
pub mod bootstrap;
pub mod callers;
pub mod config;
pub mod oidc;
pub mod plane;
pub mod run;
pub mod watch;
