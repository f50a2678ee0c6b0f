//! The commands: each reads its arguments, talks to the admin API through an
//! [`ApiClient`], writes kubectl's lines to the given writers and returns an exit
//! code.

mod apply;
mod audit;
mod auth;
mod create;
mod delete;
mod get;
mod invoke;
mod label;
mod login;
mod manifests;

use std::io::{Read, Write};

use clap::CommandFactory;
use palisade_api::kinds::{KINDS, KindMeta};

use crate::cli::{GlobalArgs, KubeCli, KubeCommand};
use crate::client::{ApiClient, ClientError, Impersonation, Transport};
use crate::config::{Environment, discover};
use crate::printer::table;
use crate::resources::{self, plural_ref};

/// What a command runs with: flags, environment, standard streams, the clock.
pub(crate) struct Context<'a> {
    pub globals: &'a GlobalArgs,
    pub env: &'a Environment,
    pub stdin: &'a mut dyn Read,
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    /// Seconds since the Unix epoch.
    pub now: i64,
    transport: Option<Box<dyn Transport>>,
}

impl Context<'_> {
    /// Writes a line to standard output (write errors, e.g. a closed pipe, are ignored).
    pub fn say(&mut self, line: impl std::fmt::Display) {
        let _ = writeln!(self.out, "{line}");
    }

    /// Writes text to standard output as is.
    pub fn print(&mut self, text: &str) {
        let _ = self.out.write_all(text.as_bytes());
    }

    /// Writes a line to standard error.
    pub fn warn(&mut self, line: impl std::fmt::Display) {
        let _ = writeln!(self.err, "{line}");
    }

    /// Prints `error: message` and returns exit code 1.
    pub fn fail(&mut self, message: impl std::fmt::Display) -> i32 {
        self.warn(format_args!("error: {message}"));
        1
    }

    /// Prints a client error as kubectl does and returns exit code 1.
    pub fn fail_client(&mut self, e: &ClientError) -> i32 {
        self.warn(e);
        1
    }

    /// The namespace: `-n`, else `default`.
    pub fn namespace(&self) -> String {
        self.globals.namespace_or_default().to_string()
    }

    /// An API client for the discovered configuration.
    pub fn client(&mut self) -> Result<ApiClient, String> {
        let g = self.globals;
        let config = discover(g.server.as_deref(), g.token.as_deref(), self.env)
            .map_err(|e| e.to_string())?;
        let impersonate = Impersonation {
            user: g.as_user.clone(),
            groups: g.as_group.clone(),
        };
        let result = match self.transport.take() {
            Some(t) => ApiClient::with_transport(&config, impersonate, t),
            None => ApiClient::new(&config, impersonate),
        };
        result.map_err(|e| {
            let text = e.to_string();
            text.strip_prefix("error: ").unwrap_or(&text).to_string()
        })
    }
}

/// Runs a command with the process's environment and standard input, writing to
/// `stdout` and `stderr`; returns the exit code (0 success, 1 failure, as kubectl).
pub async fn run(
    command: KubeCommand,
    globals: &GlobalArgs,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let env = Environment::from_process();
    let mut stdin = std::io::stdin();
    run_with(command, globals, &env, None, &mut stdin, stdout, stderr).await
}

/// Runs a command with an explicit environment, standard input and (for tests)
/// transport; `None` uses plain HTTP.
pub async fn run_with(
    command: KubeCommand,
    globals: &GlobalArgs,
    env: &Environment,
    transport: Option<Box<dyn Transport>>,
    stdin: &mut dyn Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let mut ctx = Context {
        globals,
        env,
        stdin,
        out: stdout,
        err: stderr,
        now: crate::time::now_unix(),
        transport,
    };
    let code = dispatch(&mut ctx, command).await;
    let _ = ctx.out.flush();
    let _ = ctx.err.flush();
    code
}

async fn dispatch(ctx: &mut Context<'_>, command: KubeCommand) -> i32 {
    match command {
        KubeCommand::Apply(args) => apply::apply(ctx, &args).await,
        KubeCommand::Get(args) => get::get(ctx, &args).await,
        KubeCommand::Delete(args) => delete::delete(ctx, &args).await,
        KubeCommand::Create(args) => create::create(ctx, args).await,
        KubeCommand::Label(args) => label::label(ctx, &args).await,
        KubeCommand::Auth(args) => auth::auth(ctx, &args).await,
        KubeCommand::Audit(args) => audit::audit(ctx, &args).await,
        KubeCommand::Invoke(args) => invoke::invoke(ctx, &args).await,
        KubeCommand::Login(args) => {
            let clock = crate::login::SystemClock::default();
            login::login(ctx, &args, &clock).await
        }
        KubeCommand::ApiResources(args) => {
            let text = api_resources(args.namespaced, args.output.is_some());
            ctx.print(&text);
            0
        }
        KubeCommand::Completion(args) => {
            write_completion(args.shell, &mut KubeCli::command(), ctx.out);
            0
        }
    }
}

/// Writes a completion script for `command` (pass the binary's full clap
/// command to complete its other subcommands too) named `palisade`.
pub fn write_completion(
    shell: clap_complete::Shell,
    command: &mut clap::Command,
    out: &mut dyn Write,
) {
    clap_complete::generate(shell, command, "palisade", out);
}

/// `api-resources` output: every kind with its short names and scope.
pub fn api_resources(namespaced: Option<bool>, names_only: bool) -> String {
    let mut metas: Vec<&KindMeta> = KINDS
        .iter()
        .map(|e| &e.meta)
        .filter(|m| namespaced.is_none_or(|n| n == m.namespaced))
        .collect();
    metas.sort_by_key(|m| (m.group, m.plural));
    if names_only {
        return metas
            .iter()
            .map(|m| format!("{}\n", plural_ref(m)))
            .collect();
    }
    let mut rows = vec![
        ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]
            .map(String::from)
            .to_vec(),
    ];
    for m in metas {
        rows.push(vec![
            m.plural.to_string(),
            m.short_names.join(","),
            m.api_version(resources::preferred_version(m)),
            m.namespaced.to_string(),
            m.kind.to_string(),
        ]);
    }
    table(&rows)
}

/// Objects named on the command line.
#[derive(Debug, PartialEq)]
pub(crate) enum Targets {
    /// `TYPE[,TYPE...] [NAME...]`.
    ByType {
        /// The types, in order.
        metas: Vec<&'static KindMeta>,
        /// The names (empty: every object).
        names: Vec<String>,
    },
    /// `TYPE/NAME...`.
    ByRef(Vec<(&'static KindMeta, String)>),
}

/// Reads `TYPE[,TYPE] NAME...` or `TYPE/NAME...` arguments.
pub(crate) fn parse_targets(args: &[String], verb: &str) -> Result<Targets, String> {
    let Some(first) = args.first() else {
        return Err(format!(
            "You must specify the type of resource to {verb}. Use \"palisade api-resources\" for a complete list of supported resources."
        ));
    };
    let resolve =
        |name: &str| resources::resolve(name).ok_or_else(|| resources::unknown_type(name));
    if first.contains('/') {
        let mut refs = Vec::new();
        for arg in args {
            let Some((ty, name)) = arg.split_once('/') else {
                return Err(format!(
                    "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'palisade {verb} resource/<resource_name>' instead of 'palisade {verb} resource resource/<resource_name>'"
                ));
            };
            if name.is_empty() {
                return Err(format!(
                    "arguments in resource/name form must have a single resource and name: {arg:?}"
                ));
            }
            refs.push((resolve(ty)?, name.to_string()));
        }
        return Ok(Targets::ByRef(refs));
    }
    let mut metas = Vec::new();
    for ty in first.split(',').filter(|t| !t.is_empty()) {
        let meta = resolve(ty)?;
        if !metas.contains(&meta) {
            metas.push(meta);
        }
    }
    if metas.is_empty() {
        return Err(format!("no resource type given in {first:?}"));
    }
    let names = args[1..].to_vec();
    if names.iter().any(|n| n.contains('/')) {
        return Err(format!(
            "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'palisade {verb} resource/<resource_name>' instead of 'palisade {verb} resource resource/<resource_name>'"
        ));
    }
    Ok(Targets::ByType { metas, names })
}

/// kubectl's prefix of a server error: `Error from server (Reason)`.
pub(crate) fn server_prefix(e: &crate::client::StatusError) -> String {
    if e.reason.is_empty() {
        "Error from server".into()
    } else {
        format!("Error from server ({})", e.reason)
    }
}

#[cfg(test)]
mod tests;
