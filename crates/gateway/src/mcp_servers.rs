//! Compiles MCP resources into virtual MCP servers: `MCPServer` (a child process
//! speaking stdio), `RemoteMCPServer` (a URL) and `AgentgatewayBackend` `mcp`
//! (federated static targets). Each becomes a [`ServerSpec`] the MCP endpoint serves.

use std::collections::BTreeMap;
use std::sync::Arc;

use http::Uri;
use palisade_api::diag::{Diagnostic, Severity};
use palisade_api::kinds::agentgateway::AgentgatewayBackend;
use palisade_api::kinds::agentgateway::backend::{
    McpBackend, McpProtocol as TargetProtocol, PrefixMode, SessionRouting,
};
use palisade_api::kinds::agentgateway::shared::FailureMode;
use palisade_api::kinds::core::{Secret, Service};
use palisade_api::kinds::kagent::{
    DEFAULT_MCP_TIMEOUT, McpProtocol, McpServer, RemoteMcpServer, TransportType, ValueRef,
    ValueSourceType,
};
use palisade_api::load::Loaded;
use palisade_api::snapshot::Snapshot;
use palisade_mcp::federation;
use palisade_mcp::server::{self, ServerSpec, Target, Transport, UpstreamHeaders};
use palisade_mcp::stdio::StdioCommand;

/// Virtual MCP servers by `namespace/name`: MCPServers and RemoteMCPServers (served
/// at `/mcp/<ns>/<name>`), and AgentgatewayBackends with `mcp` (reached by routes).
#[derive(Debug, Default)]
pub struct McpServers {
    /// MCPServer and RemoteMCPServer resources (an MCPServer wins a name clash).
    pub builtin: BTreeMap<String, Arc<ServerSpec>>,
    /// AgentgatewayBackends with `mcp`.
    pub backends: BTreeMap<String, Arc<ServerSpec>>,
}

/// Compiles every MCP resource of the snapshot; problems become diagnostics.
pub fn compile(snapshot: &Snapshot, diagnostics: &mut Vec<Diagnostic>) -> McpServers {
    let mut out = McpServers::default();
    for (loaded, remote) in snapshot.of_kind::<RemoteMcpServer>() {
        if let Some(spec) = remote_server(snapshot, loaded, remote, diagnostics) {
            out.builtin.insert(key(&remote.metadata), Arc::new(spec));
        }
    }
    for (loaded, server) in snapshot.of_kind::<McpServer>() {
        if let Some(spec) = local_server(snapshot, loaded, server, diagnostics) {
            out.builtin.insert(key(&server.metadata), Arc::new(spec));
        }
    }
    for (loaded, backend) in snapshot.of_kind::<AgentgatewayBackend>() {
        let Some(mcp) = &backend.spec.mcp else {
            continue;
        };
        let namespace = backend.metadata.namespace.as_deref().unwrap_or("default");
        if let Some(spec) = federated_server(
            snapshot,
            loaded,
            namespace,
            &backend.metadata.name,
            mcp,
            diagnostics,
        ) {
            out.backends.insert(key(&backend.metadata), Arc::new(spec));
        }
    }
    out
}

fn key(meta: &palisade_api::meta::ObjectMeta) -> String {
    format!(
        "{}/{}",
        meta.namespace.as_deref().unwrap_or("default"),
        meta.name
    )
}

fn local_server(
    snapshot: &Snapshot,
    loaded: &Loaded,
    server: &McpServer,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<ServerSpec> {
    let namespace = server.metadata.namespace.as_deref().unwrap_or("default");
    let name = format!("MCPServer/{namespace}/{}", server.metadata.name);
    let deployment = &server.spec.deployment;
    let Some(program) = deployment.cmd.clone().filter(|c| !c.is_empty()) else {
        diagnostics.push(loaded.diagnostic(
            Severity::Warning,
            "spec.deployment.cmd",
            format!("{name} has no deployment.cmd; Palisade runs servers from their command, not their image"),
            "set spec.deployment.cmd (and args), e.g. cmd: npx, args: [-y, @modelcontextprotocol/server-github]",
        ));
        return None;
    };
    let mut env: Vec<(String, String)> = Vec::new();
    for (i, reference) in deployment.secret_refs.iter().enumerate() {
        let secret_ns = reference.namespace.as_deref().unwrap_or(namespace);
        let Some((_, secret)) = snapshot.get::<Secret>(Some(secret_ns), &reference.name) else {
            diagnostics.push(loaded.diagnostic(
                Severity::Warning,
                &format!("spec.deployment.secretRefs[{i}]"),
                format!("Secret {secret_ns}/{} does not exist; {name} is not served until it does", reference.name),
                "create the Secret, e.g. palisade create secret generic NAME --from-literal=KEY=VALUE",
            ));
            return None;
        };
        let Ok(data) = secret.decoded() else {
            diagnostics.push(loaded.diagnostic(
                Severity::Warning,
                &format!("spec.deployment.secretRefs[{i}]"),
                format!(
                    "Secret {secret_ns}/{} has data that is not valid base64",
                    reference.name
                ),
                "fix the Secret's data, or use stringData",
            ));
            return None;
        };
        for (k, v) in data {
            env.push((k, String::from_utf8_lossy(&v).into_owned()));
        }
    }
    env.extend(deployment.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    let command = StdioCommand {
        name: name.clone(),
        program,
        args: deployment.args.clone(),
        env,
    };
    let (transport, process) = if server.spec.transport_type == Some(TransportType::Http) {
        let http = server.spec.http_transport.clone().unwrap_or_default();
        let port = http
            .target_port
            .or(deployment.port)
            .and_then(|p| u16::try_from(p).ok())
            .unwrap_or(3000);
        let path = http.path.as_deref().unwrap_or("/mcp");
        let uri = match format!("http://127.0.0.1:{port}{path}").parse::<Uri>() {
            Ok(u) => u,
            Err(e) => {
                diagnostics.push(loaded.diagnostic(
                    Severity::Warning,
                    "spec.httpTransport.path",
                    format!("{name}: `{path}` is not a valid path: {e}"),
                    "use a path such as /mcp",
                ));
                return None;
            }
        };
        (Transport::StreamableHttp(uri), Some(command))
    } else {
        (Transport::Stdio(command), None)
    };
    Some(ServerSpec {
        name,
        targets: vec![Target {
            name: server.metadata.name.clone(),
            transport,
            headers: UpstreamHeaders::default(),
        }],
        prefix: federation::PrefixMode::Conditional,
        failure: server::FailureMode::FailClosed,
        timeout: server.spec.timeout(),
        process,
        stateless: false,
    })
}

fn remote_server(
    snapshot: &Snapshot,
    loaded: &Loaded,
    remote: &RemoteMcpServer,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<ServerSpec> {
    let namespace = remote.metadata.namespace.as_deref().unwrap_or("default");
    let name = format!("RemoteMCPServer/{namespace}/{}", remote.metadata.name);
    let uri = match server_uri(&remote.spec.url) {
        Ok(uri) => uri,
        Err(why) => {
            diagnostics.push(loaded.diagnostic(
                Severity::Warning,
                "spec.url",
                format!("{name}: {why}"),
                "use an http:// or https:// URL",
            ));
            return None;
        }
    };
    let headers = match headers_from(snapshot, namespace, &remote.spec.headers_from) {
        Ok(h) => h,
        Err((i, why)) => {
            diagnostics.push(loaded.diagnostic(
                Severity::Warning,
                &format!("spec.headersFrom[{i}]"),
                format!("{name}: {why}; it is not served until this resolves"),
                "give a value, or a valueFrom naming an existing Secret and key",
            ));
            return None;
        }
    };
    let transport = match remote.spec.protocol() {
        McpProtocol::StreamableHttp => Transport::StreamableHttp(uri),
        McpProtocol::Sse => Transport::Sse(uri),
    };
    Some(ServerSpec {
        name,
        targets: vec![Target {
            name: remote.metadata.name.clone(),
            transport,
            headers,
        }],
        prefix: federation::PrefixMode::Conditional,
        failure: server::FailureMode::FailClosed,
        timeout: remote.spec.timeout(),
        process: None,
        stateless: false,
    })
}

fn federated_server(
    snapshot: &Snapshot,
    loaded: &Loaded,
    namespace: &str,
    backend_name: &str,
    mcp: &McpBackend,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<ServerSpec> {
    let name = format!("AgentgatewayBackend/{namespace}/{backend_name}");
    let mut targets = Vec::new();
    for (i, target) in mcp.targets.iter().enumerate() {
        let path = format!("spec.mcp.targets[{i}]");
        let mut warn = |field: &str, message: String, hint: &str| {
            diagnostics.push(loaded.diagnostic(
                Severity::Warning,
                &format!("{path}{field}"),
                message,
                hint,
            ));
        };
        let Some(fixed) = &target.static_ else {
            warn(
                ".selector",
                format!(
                    "{name}: target {} selects Services by label, which Palisade does not support yet; it is left out",
                    target.name
                ),
                "use a static target",
            );
            continue;
        };
        let Ok(port) = u16::try_from(fixed.port) else {
            continue;
        };
        let host_port = match (&fixed.host, &fixed.backend_ref) {
            (Some(host), _) => Some((host.clone(), port)),
            (None, Some(service)) => snapshot
                .get::<Service>(Some(namespace), &service.name)
                .and_then(|(_, s)| s.dial_address(port)),
            (None, None) => None,
        };
        let Some((host, port)) = host_port else {
            warn(
                ".static",
                format!(
                    "{name}: target {} has no address Palisade can dial",
                    target.name
                ),
                "set static.host, or a backendRef to an ExternalName Service",
            );
            continue;
        };
        let sse = fixed.protocol() == TargetProtocol::Sse;
        let default_path = if sse { "/sse" } else { "/mcp" };
        let target_path = fixed.path.as_deref().unwrap_or(default_path);
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let uri = match format!("http://{authority}{target_path}").parse::<Uri>() {
            Ok(u) => u,
            Err(e) => {
                warn(
                    ".static",
                    format!("{name}: target {} has an invalid address: {e}", target.name),
                    "check host, port and path",
                );
                continue;
            }
        };
        targets.push(Target {
            headers: UpstreamHeaders::default(),
            name: target.name.clone(),
            transport: if sse {
                Transport::Sse(uri)
            } else {
                Transport::StreamableHttp(uri)
            },
        });
    }
    if targets.is_empty() {
        diagnostics.push(loaded.diagnostic(
            Severity::Warning,
            "spec.mcp.targets",
            format!("{name} has no target Palisade can reach; it is not served"),
            "add a static target with host and port",
        ));
        return None;
    }
    Some(ServerSpec {
        name,
        targets,
        prefix: match mcp.prefix_mode() {
            PrefixMode::Conditional => federation::PrefixMode::Conditional,
            PrefixMode::Always => federation::PrefixMode::Always,
            PrefixMode::Never => federation::PrefixMode::Never,
        },
        failure: match mcp.failure_mode() {
            FailureMode::FailClosed => server::FailureMode::FailClosed,
            FailureMode::FailOpen => server::FailureMode::FailOpen,
        },
        timeout: DEFAULT_MCP_TIMEOUT,
        process: None,
        stateless: mcp.session_routing() == SessionRouting::Stateless,
    })
}

/// The headers a RemoteMCPServer's `headersFrom` asks for: inline values, or keys
/// of Secrets in its namespace. On failure: the entry's index and why.
fn headers_from(
    snapshot: &Snapshot,
    namespace: &str,
    refs: &[ValueRef],
) -> Result<UpstreamHeaders, (usize, String)> {
    let mut pairs = Vec::with_capacity(refs.len());
    for (i, r) in refs.iter().enumerate() {
        let value = match (&r.value, &r.value_from) {
            (Some(v), _) => v.clone(),
            (None, Some(from)) if from.type_ == ValueSourceType::Secret => {
                let (_, secret) = snapshot.get::<Secret>(Some(namespace), &from.name).ok_or((
                    i,
                    format!("Secret {namespace}/{} does not exist", from.name),
                ))?;
                let data = secret
                    .decoded()
                    .map_err(|e| (i, format!("Secret {namespace}/{}: {e}", from.name)))?;
                let bytes = data.get(&from.key).ok_or((
                    i,
                    format!("Secret {namespace}/{} has no key {:?}", from.name, from.key),
                ))?;
                String::from_utf8(bytes.clone()).map_err(|_| {
                    (
                        i,
                        format!(
                            "Secret {namespace}/{} key {:?} is not UTF-8",
                            from.name, from.key
                        ),
                    )
                })?
            }
            (None, Some(_)) => return Err((i, "ConfigMap values are not supported yet".into())),
            (None, None) => return Err((i, "the header has no value".into())),
        };
        pairs.push((r.name.clone(), value.trim().to_string()));
    }
    UpstreamHeaders::new(pairs).map_err(|why| (0, why))
}

/// Parses an `http://` or `https://` URL (HTTPS is verified against the system roots).
fn server_uri(url: &str) -> Result<Uri, String> {
    let uri: Uri = url
        .parse()
        .map_err(|e| format!("`{url}` is not a valid URL: {e}"))?;
    match uri.scheme_str() {
        Some("http" | "https") if uri.authority().is_some() => Ok(uri),
        _ => Err(format!("`{url}` is not an http:// or https:// URL")),
    }
}
