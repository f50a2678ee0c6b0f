//! Command-line interface.

use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use palisade_api::diag::Severity;
use palisade_control::config::{Sources, compile_batch};
use palisade_control::run::{RunOptions, run};
use palisade_gateway::compile::Options;

use palisade_client::{GlobalArgs, KubeCommand};

use crate::logging::LogFormat;

/// Palisade: a zero-trust gateway and control plane for AI agents.
///
/// Every call between agents, LLM providers and MCP servers goes through Palisade,
/// which authenticates, authorizes, guards and audits it. Configure it with
/// Kubernetes-style manifests (Gateway API, agentgateway, kagent kinds).
#[derive(Debug, Parser)]
#[command(name = "palisade", version, propagate_version = true)]
pub struct Cli {
    /// Log format.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Log level filter (e.g. info, debug, palisade_gateway=debug); RUST_LOG wins when set.
    #[arg(long, global = true, default_value = "info")]
    pub log_level: String,
    /// Admin API connection and identity (kubectl-style commands).
    #[command(flatten)]
    pub kube: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the gateway from manifest files, reloading them when they change.
    Run(RunArgs),
    /// Check manifests and print every problem with its file, line, resource and field.
    ///
    /// Exits 1 when there is an error (or, with --strict, a warning), 0 otherwise.
    Validate(ValidateArgs),
    /// Print the version.
    Version,
    /// kubectl's commands against the admin API.
    #[command(flatten)]
    Kube(KubeCommand),
}

/// Arguments of `palisade run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Manifest files or directories (repeatable); `-` reads standard input once.
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// Default listener address, serving HTTPRoutes without parentRefs; `none` disables it.
    #[arg(long, value_name = "ADDR|none", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Admin listener address (/healthz, /readyz, /metrics, /config and the admin
    /// API); `none` disables it.
    #[arg(long, value_name = "ADDR|none", default_value = "127.0.0.1:15000")]
    pub admin_addr: String,
    /// Address Gateway listeners bind to.
    #[arg(long, value_name = "IP", default_value = "127.0.0.1")]
    pub bind_address: IpAddr,
    /// State directory (embedded database, keys).
    #[arg(long, value_name = "DIR", default_value = ".palisade")]
    pub state_dir: PathBuf,
    /// How long shutdown waits for in-flight requests, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub drain_timeout: u64,
    /// PostgreSQL URL of the resource store (for several replicas); without it
    /// the store is SQLite in the state directory.
    #[arg(long, value_name = "URL", env = "PALISADE_STORE_URL")]
    pub store_url: Option<String>,
    /// Serve the built-in MCP routes (/mcp/NS/NAME, /sse/NS/NAME) to callers
    /// without a token. For local experiments only: logged as a warning.
    #[arg(long)]
    pub insecure_allow_anonymous: bool,
}

/// Arguments of `palisade validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Manifest files or directories (repeatable); `-` reads standard input.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub files: Vec<PathBuf>,
    /// Treat warnings as errors.
    #[arg(long)]
    pub strict: bool,
    /// Print diagnostics as JSON (one array) instead of lines.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "FORMAT",
        default_value = "text"
    )]
    pub output: OutputFormat,
}

/// Output format of `validate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// One line per diagnostic and a summary.
    Text,
    /// A JSON array of diagnostics.
    Json,
}

/// Runs a subcommand.
pub fn dispatch(command: Command, kube: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match command {
        Command::Kube(KubeCommand::Completion(args)) => {
            let mut cli = <Cli as clap::CommandFactory>::command();
            palisade_client::write_completion(args.shell, &mut cli, &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Kube(command) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let code = runtime.block_on(palisade_client::run(
                command,
                kube,
                &mut std::io::stdout(),
                &mut std::io::stderr(),
            ));
            Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
        }
        Command::Version => {
            println!("palisade {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate(args) => validate(args),
        Command::Run(args) => {
            let options = RunOptions {
                sources: sources(&args.files)?,
                compile: Options {
                    default_listener: parse_addr("--listen", &args.listen)?,
                    bind_address: args.bind_address,
                    allow_anonymous: args.insecure_allow_anonymous,
                    ..Options::default()
                },
                admin_addr: parse_addr("--admin-addr", &args.admin_addr)?,
                state_dir: args.state_dir,
                drain: Duration::from_secs(args.drain_timeout),
                store_url: args.store_url,
            };
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            runtime.block_on(run(options))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn sources(files: &[PathBuf]) -> anyhow::Result<Sources> {
    let mut sources = Sources::default();
    for f in files {
        if f.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read standard input")?;
            sources.stdin = Some(text);
        } else {
            sources.paths.push(f.clone());
        }
    }
    Ok(sources)
}

fn parse_addr(flag: &str, value: &str) -> anyhow::Result<Option<SocketAddr>> {
    if value.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    value.parse().map(Some).with_context(|| {
        format!("{flag} {value:?} is not an address; use IP:PORT (e.g. 127.0.0.1:8080) or none")
    })
}

fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let sources = sources(&args.files)?;
    let compiled = compile_batch(sources.load(), &Options::default(), 0);
    let failing =
        |sev: Severity| sev == Severity::Error || (args.strict && sev == Severity::Warning);
    let errors = compiled
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = compiled.diagnostics.len() - errors;
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&compiled.diagnostics)?),
        OutputFormat::Text => {
            for d in &compiled.diagnostics {
                println!("{d}");
            }
            println!("{errors} error(s), {warnings} warning(s)");
        }
    }
    let failed = compiled.diagnostics.iter().any(|d| failing(d.severity));
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
