//! Parity of the MCP gateway with a direct connection, the acceptance criterion
//! of the MCP work taken literally: the official Python `mcp` SDK client and the
//! official TypeScript SDK client, against `@modelcontextprotocol/server-everything`
//! served three ways —
//!
//! - over stdio, spawned by Palisade from an `MCPServer` manifest shaped like the
//!   seed's (`deployment.cmd: node`, `transportType: stdio`),
//! - over streamable HTTP, behind a `RemoteMCPServer` (`protocol: STREAMABLE_HTTP`),
//! - over the legacy HTTP+SSE transport, behind a `RemoteMCPServer` (`protocol: SSE`),
//!
//! each reached at `/mcp/<ns>/<name>` (and `/sse/<ns>/<name>`) — list the same
//! tools, prompts and resources through Palisade as when connected directly, get
//! the same results from `echo` and `get-sum`, receive the progress notifications
//! of `trigger-long-running-operation`, and complete a sampling round trip
//! (`trigger-sampling-request` asks the client to sample; the tool's result quotes
//! the client's answer back).
//!
//! The direct connection uses the upstream's own transport: for the stdio shape
//! each SDK spawns the very command of the manifest through its stdio client
//! transport (`mcp_probe.py --transport stdio`, `mcp_probe.mjs COMMAND stdio`), so
//! the comparison is with the same server on the same transport; for the HTTP
//! shapes the SDKs connect to server-everything's port. Directly, both SDKs
//! speak 2025-11-25 (server-everything predates 2026-07-28).
//!
//! Through Palisade every shape is driven by
//! - the Python SDK on 2026-07-28 (`--mode auto` discovers it; stateless, with
//!   sampling as an `input_required` round trip),
//! - the Python SDK on 2025-11-25 (`--mode legacy`: initialize, `Mcp-Session-Id`),
//! - the Python SDK over Palisade's HTTP+SSE endpoint (2025-11-25),
//! - the TypeScript SDK over streamable HTTP and over its SSE client transport.
//!
//! Nothing has to be excluded from the lists: server-everything only lists
//! session-scoped resources (`demo://resource/session/...`) after a tool such as
//! `gzip-file-as-resource` created them, and the probes call none of those, so
//! `resources/list` is the stable set of static documents; the dynamic resources
//! are templates, which `resources/list` does not return. The tool list depends
//! on the client's capabilities (server-everything registers
//! `trigger-sampling-request` only for clients that declare sampling), so every
//! run of an SDK declares the same capabilities directly and through Palisade.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use palisade_testkit::helpers::start_listening;
use palisade_testkit::{Palisade, TempDir, free_port, peers};
use serde_json::{Value, json};

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn everything_js() -> String {
    peers::node_package("@modelcontextprotocol/server-everything")
        .join("dist/index.js")
        .display()
        .to_string()
}

// ---------------------------------------------------------------------------
// The upstreams and Palisade
// ---------------------------------------------------------------------------

/// server-everything on its own port in one of its HTTP modes (`streamableHttp`,
/// serving `/mcp`, or `sse`, serving `/sse` and `/message`); killed on drop.
struct Everything {
    child: Child,
    port: u16,
}

impl Everything {
    fn start(mode: &str) -> Self {
        let port = free_port();
        let mut cmd = Command::new("node");
        cmd.arg(everything_js())
            .arg(mode)
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        Everything {
            child: start_listening(cmd, port),
            port,
        }
    }
}

impl Drop for Everything {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The seed's MCPServer (examples/seed/02-mcpserver-test-mcp-server.yaml) with
/// server-everything over stdio instead of `npx -y server-github`, as
/// `tools/everything`.
fn stdio_manifest() -> String {
    format!(
        r#"apiVersion: kagent.dev/v1alpha1
kind: MCPServer
metadata:
  name: everything
  namespace: tools
  labels:
    kagent.solo.io/waypoint: "true"
spec:
  deployment:
    image: mcp/everything
    port: 3000
    cmd: node
    args:
      - {:?}
      - stdio
  transportType: stdio
"#,
        everything_js()
    )
}

/// A RemoteMCPServer `tools/everything` at `url`, spoken to with `protocol`.
fn remote_manifest(url: &str, protocol: &str) -> String {
    format!(
        r#"apiVersion: kagent.dev/v1alpha2
kind: RemoteMCPServer
metadata:
  name: everything
  namespace: tools
spec:
  description: server-everything
  url: {url}
  protocol: {protocol}
"#
    )
}

fn start_palisade(dir: &TempDir, manifest: &str) -> Palisade {
    let config = dir.write("mcp.yaml", manifest);
    // Parity is about the protocol: the built-in routes take anonymous callers.
    Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("--insecure-allow-anonymous")
        .arg("-f")
        .arg(&config)
        .current_dir(peers::dir())
        .start()
}

// ---------------------------------------------------------------------------
// The SDK clients
// ---------------------------------------------------------------------------

/// What the Python probe does on every run: list tools, call `echo` and `get-sum`,
/// have server-everything sample through the client, call
/// `trigger-long-running-operation` (1 s, 2 steps) with a progress callback, list
/// prompts and resources and read the first resource.
const PYTHON_RUN: &[&str] = &[
    "--call",
    r#"echo={"message":"hi there"}"#,
    "--call",
    r#"get-sum={"a":2,"b":40}"#,
    "--sampling",
    "--call",
    r#"trigger-sampling-request={"prompt":"p","maxTokens":5}"#,
    "--progress",
    "trigger-long-running-operation",
    "--prompts",
    "--resources",
];

/// Runs the Python SDK probe (tests/clients/mcp_probe.py) with `args` and
/// [`PYTHON_RUN`], and returns its report.
fn python(target: &str, args: &[&str]) -> Value {
    let output = Command::new(peers::python())
        .arg(repo_file("tests/clients/mcp_probe.py"))
        .arg(target)
        .args(args)
        .args(PYTHON_RUN)
        .output()
        .expect("python runs");
    report("python", target, args, output)
}

/// Runs the TypeScript SDK probe (tests/clients/mcp_probe.mjs) with `--full
/// --sampling`: list tools, call `echo`, `trigger-long-running-operation` (1.5 s,
/// 3 steps) with a progress callback and `get-sum`, list prompts and resources,
/// read the first resource, and have server-everything sample through the client.
fn typescript(target: &str, transport: &str, args: &[&str]) -> Value {
    let output = Command::new("node")
        .arg(repo_file("tests/clients/mcp_probe.mjs"))
        .arg(target)
        .arg(transport)
        .args(args)
        .args(["--full", "--sampling"])
        .env(
            "MCP_SDK_DIR",
            peers::node_package("@modelcontextprotocol/sdk"),
        )
        .current_dir(peers::dir())
        .output()
        .expect("node runs");
    report("typescript", target, args, output)
}

fn report(sdk: &str, target: &str, args: &[&str], output: std::process::Output) -> Value {
    assert!(
        output.status.success(),
        "{sdk} probe {target} {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{sdk} probe {target} {args:?} printed no JSON ({e}):\n{}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

fn list(report: &Value, key: &str) -> Vec<String> {
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {report}"))
        .iter()
        .map(|v| {
            v.as_str()
                .unwrap_or_else(|| panic!("{v} in {key}"))
                .to_string()
        })
        .collect()
}

/// The `sampling/createMessage` result server-everything quotes back in the
/// text of `trigger-sampling-request`.
fn sampled(text: &str) -> Value {
    let quoted = text
        .strip_prefix("LLM sampling result: \n")
        .unwrap_or_else(|| panic!("not a sampling result: {text}"));
    serde_json::from_str(quoted).unwrap_or_else(|e| panic!("{e}: {quoted}"))
}

// ---------------------------------------------------------------------------
// The assertions
// ---------------------------------------------------------------------------

/// The lists the parity is about must not be trivially equal: the direct run
/// saw server-everything's tools (including the sampling tool it registers for
/// clients that declare sampling), prompts and static documents.
fn assert_direct_lists(direct: &Value, who: &str) {
    let tools = list(direct, "tools");
    for tool in [
        "echo",
        "get-sum",
        "trigger-long-running-operation",
        "trigger-sampling-request",
    ] {
        assert!(
            tools.iter().any(|t| t == tool),
            "{who}: {tool} missing from {direct}"
        );
    }
    assert!(
        list(direct, "prompts").iter().any(|p| p == "simple-prompt"),
        "{who}: {direct}"
    );
    let resources = list(direct, "resources");
    assert!(
        !resources.is_empty()
            && resources
                .iter()
                .all(|u| u.starts_with("demo://resource/static/document/")),
        "{who}: {direct}"
    );
}

/// What the Python SDK saw when connected directly is what it should see: the
/// lists, the results, both progress notifications, the sampled answer.
fn assert_python_direct(direct: &Value) {
    assert_eq!(direct["protocol_version"], "2025-11-25", "{direct}");
    assert_direct_lists(direct, "python direct");
    assert_python_calls(direct, "python direct");
}

fn assert_python_calls(report: &Value, who: &str) {
    let text = |tool: &str| {
        report["calls"][tool]["text"][0]
            .as_str()
            .unwrap_or_else(|| panic!("{who}: no text for {tool} in {report}"))
            .to_string()
    };
    assert_eq!(text("echo"), "Echo: hi there", "{who}: {report}");
    assert_eq!(
        text("get-sum"),
        "The sum of 2 and 40 is 42.",
        "{who}: {report}"
    );
    let answer = sampled(&text("trigger-sampling-request"));
    assert_eq!(
        answer["content"]["text"], "sampled: Resource trigger-sampling-request context: p",
        "{who}: {report}"
    );
    assert_eq!(answer["model"], "probe-model", "{who}: {report}");
    // The Python SDK handles messages in the order they arrive, so it sees
    // both progress notifications, the last one just before the result.
    assert_eq!(report["progress"], json!([1.0, 2.0]), "{who}: {report}");
    assert_eq!(report["read_first"], 1, "{who}: {report}");
}

/// Through Palisade the Python SDK sees exactly what it saw directly.
fn assert_python_parity(direct: &Value, proxied: &Value, who: &str) {
    let both = format!("{who}\n  direct:  {direct}\n  proxied: {proxied}");
    for key in ["tools", "prompts", "resources"] {
        assert_eq!(
            list(proxied, key),
            list(direct, key),
            "{key} differ: {both}"
        );
    }
    // Whole results: the texts (the sampling one quotes the client's
    // createMessage result as the server received it) and isError.
    for tool in ["echo", "get-sum", "trigger-sampling-request"] {
        assert_eq!(
            proxied["calls"][tool], direct["calls"][tool],
            "{tool} differs: {both}"
        );
    }
    assert_python_calls(proxied, who);
}

/// What the TypeScript SDK saw when connected directly is what it should see.
fn assert_typescript_direct(direct: &Value) {
    assert_direct_lists(direct, "typescript direct");
    assert_typescript_calls(direct, "typescript direct");
}

fn assert_typescript_calls(report: &Value, who: &str) {
    assert_eq!(report["echo"], "Echo: from ts", "{who}: {report}");
    assert_eq!(
        report["sum"], "The sum of 2 and 40 is 42.",
        "{who}: {report}"
    );
    let text = report["sampled"]
        .as_str()
        .unwrap_or_else(|| panic!("{who}: no sampling result in {report}"));
    let answer = sampled(text);
    assert_eq!(
        answer["content"]["text"], "ts sampled: Resource trigger-sampling-request context: from ts",
        "{who}: {report}"
    );
    assert_eq!(answer["model"], "ts-probe-model", "{who}: {report}");
    // The TypeScript SDK runs notification handlers a microtask after response
    // handlers, so a progress notification that arrives in the same read as the
    // result is dropped by the client itself (directly too); the earlier ones,
    // half a second apart, always arrive, in order.
    let progress = report["progress"]
        .as_array()
        .unwrap_or_else(|| panic!("{who}: no progress in {report}"));
    assert!(
        progress.len() >= 2 && progress[..] == [json!(1), json!(2), json!(3)][..progress.len()],
        "{who}: progress {progress:?} in {report}"
    );
    assert_eq!(report["readFirst"], 1, "{who}: {report}");
}

/// Through Palisade the TypeScript SDK sees exactly what it saw directly.
fn assert_typescript_parity(direct: &Value, proxied: &Value, who: &str) {
    let both = format!("{who}\n  direct:  {direct}\n  proxied: {proxied}");
    for key in ["tools", "prompts", "resources"] {
        assert_eq!(
            list(proxied, key),
            list(direct, key),
            "{key} differ: {both}"
        );
    }
    for key in ["echo", "sum", "sampled"] {
        assert_eq!(proxied[key], direct[key], "{key} differs: {both}");
    }
    assert_typescript_calls(proxied, who);
}

/// Drives both SDKs through Palisade's `tools/everything` on every client
/// revision and transport, and compares each run with the direct ones.
fn assert_parity_through(palisade: &Palisade, shape: &str, direct_py: &Value, direct_ts: &Value) {
    assert_python_direct(direct_py);
    assert_typescript_direct(direct_ts);
    let mcp = format!("{}/mcp/tools/everything", palisade.listen_url());
    let sse = format!("{}/sse/tools/everything", palisade.listen_url());

    let python_runs: [(&str, &str, &[&str], &str); 3] = [
        ("streamable HTTP, default mode", &mcp, &[], "2026-07-28"),
        (
            "streamable HTTP, legacy mode",
            &mcp,
            &["--mode", "legacy"],
            "2025-11-25",
        ),
        (
            "HTTP+SSE",
            &sse,
            &["--transport", "sse", "--mode", "legacy"],
            "2025-11-25",
        ),
    ];
    for (how, url, args, revision) in python_runs {
        let who = format!("{shape} upstream, python SDK through Palisade, {how}");
        let proxied = python(url, args);
        assert_eq!(proxied["protocol_version"], revision, "{who}: {proxied}");
        assert_python_parity(direct_py, &proxied, &who);
    }

    for (how, url, transport) in [
        ("streamable HTTP", &mcp, "streamable"),
        ("HTTP+SSE", &sse, "sse"),
    ] {
        let who = format!("{shape} upstream, typescript SDK through Palisade, {how}");
        let proxied = typescript(url, transport, &[]);
        if transport == "streamable" {
            assert_eq!(proxied["protocolVersion"], "2025-11-25", "{who}: {proxied}");
        }
        assert_typescript_parity(direct_ts, &proxied, &who);
    }
}

// ---------------------------------------------------------------------------
// The three upstream shapes
// ---------------------------------------------------------------------------

#[test]
fn stdio_mcp_server_matches_a_direct_stdio_connection() {
    // Directly: each SDK's stdio client transport spawns the manifest's command.
    let js = everything_js();
    let direct_py = python(
        "node",
        &[
            "--transport",
            "stdio",
            "--stdio-arg",
            &js,
            "--stdio-arg",
            "stdio",
        ],
    );
    let direct_ts = typescript("node", "stdio", &["--arg", &js, "--arg", "stdio"]);

    let dir = TempDir::new("mcp-parity-stdio");
    let palisade = start_palisade(&dir, &stdio_manifest());
    assert_parity_through(&palisade, "stdio", &direct_py, &direct_ts);
}

#[test]
fn streamable_http_remote_server_matches_a_direct_connection() {
    let everything = Everything::start("streamableHttp");
    let url = format!("http://127.0.0.1:{}/mcp", everything.port);
    let direct_py = python(&url, &[]);
    let direct_ts = typescript(&url, "streamable", &[]);
    assert_eq!(direct_ts["protocolVersion"], "2025-11-25", "{direct_ts}");

    let dir = TempDir::new("mcp-parity-streamable");
    let palisade = start_palisade(&dir, &remote_manifest(&url, "STREAMABLE_HTTP"));
    assert_parity_through(&palisade, "streamable HTTP", &direct_py, &direct_ts);
}

#[test]
fn sse_remote_server_matches_a_direct_connection() {
    let everything = Everything::start("sse");
    let url = format!("http://127.0.0.1:{}/sse", everything.port);
    let direct_py = python(&url, &["--transport", "sse"]);
    let direct_ts = typescript(&url, "sse", &[]);

    let dir = TempDir::new("mcp-parity-sse");
    let palisade = start_palisade(&dir, &remote_manifest(&url, "SSE"));
    assert_parity_through(&palisade, "SSE", &direct_py, &direct_ts);
}
