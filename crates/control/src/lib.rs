//! Palisade's control plane: where configuration comes from, how it is validated and
//! compiled, and the loop that keeps the data plane serving the latest valid Plan.

pub mod config;
pub mod run;
pub mod watch;
