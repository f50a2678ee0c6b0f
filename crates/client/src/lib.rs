//! The client side of Palisade's kubectl-compatible CLI: `palisade apply`, `get`,
//! `delete`, `create`, `label`, `auth can-i`, `audit`, talking to the admin API
//! (see `docs/admin-api.md`) and printing what kubectl prints; and `palisade
//! login`, which signs a person in through the server's OIDC identity provider.
//!
//! The `palisade` binary flattens [`GlobalArgs`] and [`KubeCommand`] into its own
//! clap definition and calls [`run`]:
//!
//! ```no_run
//! # async fn example(command: palisade_client::KubeCommand, globals: palisade_client::GlobalArgs) {
//! let code = palisade_client::run(command, &globals, &mut std::io::stdout(), &mut std::io::stderr()).await;
//! std::process::exit(code);
//! # }
//! ```

pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod labels;
pub mod login;
pub mod printer;
pub mod resources;
pub mod time;
pub mod yaml;

pub use cli::{GlobalArgs, KubeCli, KubeCommand};
pub use client::{ApiClient, ClientError, Impersonation, StatusError, Transport};
pub use commands::{api_resources, run, run_with, write_completion};
pub use config::{ClientConfig, ConfigError, Environment, discover};
