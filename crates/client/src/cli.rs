//! Command-line arguments of the kubectl-compatible commands (clap derive).
//!
//! The `palisade` binary flattens [`GlobalArgs`] into its top-level arguments and
//! [`KubeCommand`] into its subcommands; [`KubeCli`] does the same on its own, for
//! tests and shell completion.

use std::fmt;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Connection and identity flags shared by every command.
#[derive(Clone, Default, Args)]
pub struct GlobalArgs {
    /// Admin API URL of the Palisade server (default: from PALISADE_CONFIG,
    /// ~/.config/palisade/config.yaml or ./.palisade/admin.yaml).
    #[arg(long, global = true, value_name = "URL")]
    pub server: Option<String>,
    /// Bearer token for the admin API (default: from the client configuration).
    #[arg(long, global = true, value_name = "TOKEN", hide_default_value = true)]
    pub token: Option<String>,
    /// User to impersonate for the operation (a service account:
    /// system:serviceaccount:NAMESPACE:NAME).
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
    /// Group to impersonate for the operation (repeatable).
    #[arg(long = "as-group", global = true, value_name = "GROUP")]
    pub as_group: Vec<String>,
    /// Namespace of the request (default: `default`).
    #[arg(short = 'n', long, global = true, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
}

impl fmt::Debug for GlobalArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GlobalArgs")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("as_user", &self.as_user)
            .field("as_group", &self.as_group)
            .field("namespace", &self.namespace)
            .finish()
    }
}

impl GlobalArgs {
    /// The namespace to use: `-n`, else `default`.
    pub fn namespace_or_default(&self) -> &str {
        self.namespace.as_deref().unwrap_or("default")
    }
}

/// A standalone parser of the kubectl-compatible commands, named `palisade`.
#[derive(Debug, Parser)]
#[command(name = "palisade")]
pub struct KubeCli {
    /// Connection and identity flags.
    #[command(flatten)]
    pub globals: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: KubeCommand,
}

/// The kubectl-compatible commands.
#[derive(Debug, Subcommand)]
pub enum KubeCommand {
    /// Create or update objects from manifests (like `kubectl apply -f`).
    Apply(ApplyArgs),
    /// Show objects as a table, YAML, JSON or names (like `kubectl get`).
    Get(GetArgs),
    /// Delete objects by type and name, selector, or manifest (like `kubectl delete`).
    Delete(DeleteArgs),
    /// Create a secret, service account, namespace or token (like `kubectl create`).
    Create(CreateArgs),
    /// Add, change or remove labels of objects (like `kubectl label`).
    Label(LabelArgs),
    /// Inspect authorization (like `kubectl auth can-i`).
    Auth(AuthArgs),
    /// Show the audit log: writes, refusals and impersonations.
    Audit(AuditArgs),
    /// Ask an agent something over A2A through the gateway and print its answer.
    Invoke(InvokeArgs),
    /// List the resource types the server knows.
    ApiResources(ApiResourcesArgs),
    /// Sign in through the server's OIDC identity provider (device flow) and
    /// cache the ID token in the user configuration file.
    Login(LoginArgs),
    /// Print a shell completion script (bash, zsh, fish, ...).
    Completion(CompletionArgs),
}

/// Output formats of `get`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GetOutput {
    /// The object(s) as JSON.
    Json,
    /// The object(s) as YAML.
    Yaml,
    /// The table with extra columns.
    Wide,
    /// `kind.group/name` lines.
    Name,
}

/// Output formats of commands that print what they made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ObjectOutput {
    /// As JSON.
    Json,
    /// As YAML.
    Yaml,
    /// `kind.group/name`.
    Name,
}

/// `--dry-run` modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DryRun {
    /// Send the request.
    None,
    /// Only print what would be sent.
    Client,
}

/// Arguments of `apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// Manifest file, directory (its *.yaml, *.yml, *.json, recursively) or `-`
    /// for standard input; repeatable.
    #[arg(short = 'f', long = "filename", value_name = "PATH", required = true)]
    pub files: Vec<PathBuf>,
}

/// Arguments of `get`.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// TYPE[,TYPE...] [NAME...], or TYPE/NAME... (types as kind, plural, short
    /// name or plural.group: MCPServer, mcpservers, mcps, mcpservers.kagent.dev).
    #[arg(value_name = "TYPE[/NAME] [NAME]")]
    pub args: Vec<String>,
    /// List across all namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub output: Option<GetOutput>,
    /// Label selector (`a=b,c!=d,e in (x,y),!f`).
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Add a LABELS column.
    #[arg(long)]
    pub show_labels: bool,
    /// Leave out the table header.
    #[arg(long)]
    pub no_headers: bool,
}

/// Arguments of `delete`.
#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// TYPE NAME..., or TYPE/NAME...
    #[arg(value_name = "TYPE[/NAME] [NAME]")]
    pub args: Vec<String>,
    /// Delete the objects of these manifests (file, directory or `-`); repeatable.
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// Delete the objects matching this label selector.
    #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Delete every object of the type in the namespace.
    #[arg(long)]
    pub all: bool,
    /// Treat objects that do not exist as deleted.
    #[arg(long)]
    pub ignore_not_found: bool,
}

/// Arguments of `create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// What to create.
    #[command(subcommand)]
    pub what: CreateCommand,
}

/// What `create` makes.
#[derive(Debug, Subcommand)]
pub enum CreateCommand {
    /// Create a secret.
    Secret(CreateSecretArgs),
    /// Create a service account.
    #[command(alias = "sa")]
    Serviceaccount(CreateNamedArgs),
    /// Create a namespace.
    #[command(alias = "ns")]
    Namespace(CreateNamedArgs),
    /// Request a token for a service account and print it.
    Token(CreateTokenArgs),
}

/// `create secret` types.
#[derive(Debug, Args)]
pub struct CreateSecretArgs {
    /// The secret type to create.
    #[command(subcommand)]
    pub kind: SecretCommand,
}

/// `create secret` subcommands.
#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// A secret from literal values and files.
    Generic(CreateGenericSecretArgs),
}

/// Options shared by `create` commands that make an object.
#[derive(Debug, Args)]
pub struct CreateOutputArgs {
    /// `client`: print the object instead of creating it.
    #[arg(long, value_enum, value_name = "MODE", default_value = "none", num_args = 0..=1, default_missing_value = "client")]
    pub dry_run: DryRun,
    /// Print the object in this format.
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub output: Option<ObjectOutput>,
}

/// Arguments of `create secret generic`. Its `Debug` output shows the literal
/// keys, never their values.
#[derive(Args)]
pub struct CreateGenericSecretArgs {
    /// The secret's name.
    pub name: String,
    /// A key and literal value (`KEY=VALUE`); repeatable.
    #[arg(long = "from-literal", value_name = "KEY=VALUE")]
    pub from_literal: Vec<String>,
    /// A file whose content becomes a value (`[KEY=]PATH`, key defaults to the file
    /// name); repeatable.
    #[arg(long = "from-file", value_name = "[KEY=]PATH")]
    pub from_file: Vec<String>,
    /// The secret type.
    #[arg(long = "type", value_name = "TYPE")]
    pub secret_type: Option<String>,
    /// Output options.
    #[command(flatten)]
    pub out: CreateOutputArgs,
}

impl fmt::Debug for CreateGenericSecretArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let keys: Vec<&str> = self
            .from_literal
            .iter()
            .map(|l| l.split_once('=').map_or(l.as_str(), |(k, _)| k))
            .collect();
        f.debug_struct("CreateGenericSecretArgs")
            .field("name", &self.name)
            .field("from_literal_keys", &keys)
            .field("from_file", &self.from_file)
            .field("secret_type", &self.secret_type)
            .field("out", &self.out)
            .finish()
    }
}

/// Arguments of `create serviceaccount` and `create namespace`.
#[derive(Debug, Args)]
pub struct CreateNamedArgs {
    /// The object's name.
    pub name: String,
    /// Output options.
    #[command(flatten)]
    pub out: CreateOutputArgs,
}

/// Arguments of `create token`.
#[derive(Debug, Args)]
pub struct CreateTokenArgs {
    /// The service account's name.
    pub name: String,
    /// Requested lifetime (`10m`, `1h`, `24h`); the server's default when absent.
    #[arg(long, value_name = "DURATION")]
    pub duration: Option<String>,
}

/// Arguments of `label`.
#[derive(Debug, Args)]
pub struct LabelArgs {
    /// TYPE NAME... (or TYPE/NAME...) then KEY=VALUE... and KEY-...
    #[arg(value_name = "TYPE[/NAME] [NAME] KEY=VALUE|KEY-", required = true)]
    pub args: Vec<String>,
    /// Allow replacing a label's existing value.
    #[arg(long)]
    pub overwrite: bool,
}

/// Arguments of `auth`.
#[derive(Debug, Args)]
pub struct AuthArgs {
    /// The auth subcommand.
    #[command(subcommand)]
    pub command: AuthCommand,
}

/// `auth` subcommands.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Check whether an action is allowed: prints yes (exit 0) or no (exit 1).
    #[command(name = "can-i")]
    CanI(CanIArgs),
}

/// Arguments of `auth can-i`.
#[derive(Debug, Args)]
pub struct CanIArgs {
    /// The verb: get, list, watch, create, update, patch, delete, impersonate, ...
    pub verb: String,
    /// The resource: TYPE[.GROUP] or TYPE[.GROUP]/NAME (`mcpservers.kagent.dev`, `secrets`).
    pub resource: String,
    /// The object's name.
    pub name: Option<String>,
    /// Check in every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Print nothing; only the exit code answers.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// A subresource (`token` of serviceaccounts).
    #[arg(long, value_name = "SUBRESOURCE")]
    pub subresource: Option<String>,
}

/// Audit outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditOutcome {
    /// Allowed requests.
    Allowed,
    /// Refused requests.
    Denied,
    /// Requests that failed.
    Error,
}

impl AuditOutcome {
    /// The query value.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Allowed => "allowed",
            AuditOutcome::Denied => "denied",
            AuditOutcome::Error => "error",
        }
    }
}

/// Arguments of `audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only events of this principal (`palisade:admin`, `system:serviceaccount:NS:NAME`).
    #[arg(long, value_name = "PRINCIPAL")]
    pub principal: Option<String>,
    /// Only events about this kind (`MCPServer`, `mcps`, `mcpservers.kagent.dev`).
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// Only events about objects of this name.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Only events with this outcome.
    #[arg(long, value_enum, value_name = "OUTCOME")]
    pub outcome: Option<AuditOutcome>,
    /// Only events at or after this time: RFC 3339 or a duration ago (`1h`, `2d`).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only events before this time: RFC 3339 or a duration ago.
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// At most this many events (newest first).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Output format (default: a table).
    #[arg(short = 'o', long = "output", value_enum, value_name = "FORMAT")]
    pub output: Option<ObjectOutput>,
}

/// What `invoke` can call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InvokeTarget {
    /// A declarative Agent.
    Agent,
}

/// Arguments of `invoke`.
#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// What to invoke.
    #[arg(value_enum)]
    pub target: InvokeTarget,
    /// The agent's name (in `-n NAMESPACE`).
    pub name: String,
    /// The message to send.
    #[arg(long, value_name = "TEXT")]
    pub task: String,
    /// Print the agent's steps (tool calls and results) to standard error as
    /// they happen.
    #[arg(long)]
    pub stream: bool,
    /// Continue this conversation (the session id an earlier invoke printed).
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// The gateway's default listener.
    #[arg(
        long,
        env = "PALISADE_GATEWAY",
        value_name = "URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub gateway: String,
}

/// Arguments of `api-resources`.
#[derive(Debug, Args)]
pub struct ApiResourcesArgs {
    /// Only namespaced (true) or cluster-scoped (false) types.
    #[arg(long, value_name = "BOOL")]
    pub namespaced: Option<bool>,
    /// Print only the `plural.group` names.
    #[arg(short = 'o', long = "output", value_name = "FORMAT", value_parser = ["name"])]
    pub output: Option<String>,
}

/// Arguments of `login`. The server is `--server`, else the configured one.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The OIDCProvider to sign in with (needed when the server has several).
    #[arg(long, value_name = "NAME")]
    pub provider: Option<String>,
    /// Sign in again even when the cached credentials of this server and
    /// provider are still valid.
    #[arg(long)]
    pub no_cache: bool,
}

/// Arguments of `completion`.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> KubeCli {
        KubeCli::try_parse_from(std::iter::once("palisade").chain(args.iter().copied()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"))
    }

    #[test]
    fn definition_is_consistent() {
        KubeCli::command().debug_assert();
    }

    #[test]
    fn kubectl_command_lines_parse() {
        let cli = parse(&["get", "mcps", "-n", "kagent", "-o", "yaml"]);
        assert_eq!(cli.globals.namespace.as_deref(), Some("kagent"));
        let KubeCommand::Get(get) = cli.command else {
            panic!()
        };
        assert_eq!(get.args, ["mcps"]);
        assert_eq!(get.output, Some(GetOutput::Yaml));

        let cli = parse(&[
            "apply",
            "-f",
            "-",
            "--as",
            "system:serviceaccount:kagent:test-reader",
            "--as-group",
            "a",
            "--as-group",
            "b",
        ]);
        assert_eq!(
            cli.globals.as_user.as_deref(),
            Some("system:serviceaccount:kagent:test-reader")
        );
        assert_eq!(cli.globals.as_group, ["a", "b"]);

        let cli = parse(&[
            "create",
            "secret",
            "generic",
            "kagent-anthropic",
            "--from-literal=ANTHROPIC_API_KEY=sk-x",
            "-n",
            "policies",
        ]);
        let KubeCommand::Create(CreateArgs {
            what: CreateCommand::Secret(s),
        }) = cli.command
        else {
            panic!()
        };
        let SecretCommand::Generic(g) = s.kind;
        assert_eq!(g.from_literal, ["ANTHROPIC_API_KEY=sk-x"]);
        let debug = format!("{g:?}");
        assert!(
            debug.contains("ANTHROPIC_API_KEY") && !debug.contains("sk-x"),
            "{debug}"
        );
        assert_eq!(g.out.dry_run, DryRun::None);

        let cli = parse(&["create", "sa", "test-reader", "--dry-run", "-o", "yaml"]);
        let KubeCommand::Create(CreateArgs {
            what: CreateCommand::Serviceaccount(sa),
        }) = cli.command
        else {
            panic!()
        };
        assert_eq!(sa.out.dry_run, DryRun::Client);

        let cli = parse(&[
            "label",
            "namespaces",
            "policies",
            "istio.io/dataplane-mode=ambient",
            "old-",
            "--overwrite",
        ]);
        let KubeCommand::Label(l) = cli.command else {
            panic!()
        };
        assert!(l.overwrite);
        assert_eq!(l.args.len(), 4);

        let cli = parse(&[
            "auth",
            "can-i",
            "create",
            "mcpservers.kagent.dev",
            "-n",
            "kagent",
            "--as",
            "x",
        ]);
        let KubeCommand::Auth(AuthArgs {
            command: AuthCommand::CanI(c),
        }) = cli.command
        else {
            panic!()
        };
        assert_eq!(
            (c.verb.as_str(), c.resource.as_str()),
            ("create", "mcpservers.kagent.dev")
        );

        let cli = parse(&[
            "audit",
            "--outcome",
            "denied",
            "--since",
            "1h",
            "--limit",
            "5",
        ]);
        let KubeCommand::Audit(a) = cli.command else {
            panic!()
        };
        assert_eq!(a.outcome, Some(AuditOutcome::Denied));

        let cli = parse(&["login", "--provider", "corp", "--server", "http://a:1"]);
        let KubeCommand::Login(l) = cli.command else {
            panic!()
        };
        assert_eq!(l.provider.as_deref(), Some("corp"));
        assert!(!l.no_cache);
        assert_eq!(cli.globals.server.as_deref(), Some("http://a:1"));
        let KubeCommand::Login(l) = parse(&["login", "--no-cache"]).command else {
            panic!()
        };
        assert!(l.no_cache && l.provider.is_none());

        let cli = parse(&["completion", "zsh"]);
        assert!(matches!(cli.command, KubeCommand::Completion(_)));
        let cli = parse(&["--token", "sekret", "get", "ns"]);
        assert!(!format!("{:?}", cli.globals).contains("sekret"));
    }

    /// The way the `palisade` binary embeds these commands next to its own.
    #[derive(Debug, Parser)]
    #[command(name = "palisade")]
    struct Binary {
        #[arg(long, global = true, default_value = "info")]
        log_level: String,
        #[command(flatten)]
        kube: GlobalArgs,
        #[command(subcommand)]
        command: BinaryCommand,
    }

    #[derive(Debug, Subcommand)]
    enum BinaryCommand {
        /// Serve.
        Run {
            #[arg(short = 'f', long = "filename")]
            files: Vec<PathBuf>,
        },
        #[command(flatten)]
        Kube(KubeCommand),
    }

    #[test]
    fn embeds_in_the_binary() {
        Binary::command().debug_assert();
        let b = Binary::try_parse_from([
            "palisade",
            "get",
            "mcps",
            "-n",
            "kagent",
            "--log-level",
            "debug",
        ])
        .unwrap();
        assert_eq!(b.kube.namespace.as_deref(), Some("kagent"));
        assert!(matches!(
            b.command,
            BinaryCommand::Kube(KubeCommand::Get(_))
        ));
        let b = Binary::try_parse_from(["palisade", "run", "-f", "x.yaml"]).unwrap();
        assert!(matches!(b.command, BinaryCommand::Run { .. }));
    }
}
