//! The MCP gateway end to end: the real binary, the reference server
//! `@modelcontextprotocol/server-everything` (over stdio and streamable HTTP), the
//! seed's `server-github` through `npx`, and the official Python and TypeScript SDK
//! clients on every transport and protocol revision.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use http::{Method, Request, StatusCode};
use palisade_testkit::client::{Body, Client};
use palisade_testkit::helpers::{self_signed_localhost, start_listening};
use palisade_testkit::{Palisade, TempDir, free_port, peers};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn everything_js() -> PathBuf {
    peers::node_package("@modelcontextprotocol/server-everything").join("dist/index.js")
}

/// An MCPServer running server-everything over stdio, as `tools/everything`.
fn everything_stdio_manifest() -> String {
    format!(
        "apiVersion: kagent.dev/v1alpha1\nkind: MCPServer\nmetadata: {{name: everything, namespace: tools}}\nspec:\n  deployment:\n    cmd: node\n    args: [{:?}, stdio]\n  transportType: stdio\n",
        everything_js().display().to_string()
    )
}

/// Palisade serving `manifest`; these tests exercise the protocol, so the
/// built-in routes serve callers without a token.
fn start(dir: &TempDir, manifest: &str) -> Palisade {
    let config = dir.path().join("mcp.yaml");
    std::fs::write(&config, manifest).unwrap();
    Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("--insecure-allow-anonymous")
        .arg("-f")
        .arg(&config)
        .current_dir(peers::dir())
        .start()
}

/// Runs the Python SDK probe (tests/clients/mcp_probe.py) and returns its report.
fn probe(url: &str, args: &[&str]) -> Value {
    let output = Command::new(peers::python())
        .arg(repo_file("tests/clients/mcp_probe.py"))
        .arg(url)
        .args(args)
        .output()
        .expect("python runs");
    assert!(
        output.status.success(),
        "probe {url} {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("probe prints JSON")
}

fn names(report: &Value, key: &str) -> Vec<String> {
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("no {key} in {report}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

fn call_text(report: &Value, tool: &str) -> String {
    report["calls"][tool]["text"][0]
        .as_str()
        .unwrap_or_else(|| panic!("no text for {tool} in {report}"))
        .to_string()
}

#[test]
fn stdio_server_serves_every_client_revision_and_transport() {
    let dir = TempDir::new("mcp-stdio");
    let palisade = start(&dir, &everything_stdio_manifest());
    let url = format!("{}/mcp/tools/everything", palisade.listen_url());
    let common = [
        "--call",
        r#"echo={"message":"hi there"}"#,
        "--call",
        r#"get-sum={"a":2,"b":40}"#,
        "--progress",
        "trigger-long-running-operation",
        "--prompts",
        "--resources",
        "--sampling",
        "--call",
        r#"trigger-sampling-request={"prompt":"p","maxTokens":5}"#,
    ];

    // Python SDK, default mode: probes server/discover and lands on 2026-07-28.
    let mut modern_args = common.to_vec();
    modern_args.push("--listen-tools");
    let modern = probe(&url, &modern_args);
    // subscriptions/listen: acknowledged, then the server's tools/list_changed
    // (server-everything registers tools for the client's capabilities).
    assert_eq!(modern["listen_honored"], true, "{modern}");
    assert!(modern["listen_events"].as_u64().unwrap() >= 1, "{modern}");
    // Python SDK, handshake mode: initialize, Mcp-Session-Id, 2025-11-25.
    let mut legacy_args = vec!["--mode", "legacy"];
    legacy_args.extend(common);
    let handshake = probe(&url, &legacy_args);
    assert_eq!(modern["protocol_version"], "2026-07-28");
    assert_eq!(handshake["protocol_version"], "2025-11-25");
    for report in [&modern, &handshake] {
        let tools = names(report, "tools");
        for expected in ["echo", "get-sum", "trigger-long-running-operation"] {
            assert!(
                tools.contains(&expected.to_string()),
                "{expected} missing from {tools:?}"
            );
        }
        assert_eq!(call_text(report, "echo"), "Echo: hi there");
        assert_eq!(call_text(report, "get-sum"), "The sum of 2 and 40 is 42.");
        assert_eq!(
            report["progress"],
            json!([1.0, 2.0]),
            "progress notifications relayed"
        );
        assert!(names(report, "prompts").contains(&"simple-prompt".to_string()));
        assert!(
            names(report, "resources")
                .iter()
                .any(|u| u.starts_with("demo://resource/static/"))
        );
        assert_eq!(report["read_first"], 1);
        // Sampling reaches the client: as a server request in a session, as an
        // input_required round trip for the stateless revision.
        let sampled = call_text(report, "trigger-sampling-request");
        assert!(
            sampled.contains("sampled: Resource trigger-sampling-request context: p"),
            "{sampled}"
        );
    }

    // Legacy HTTP+SSE transport.
    let sse_url = format!("{}/sse/tools/everything", palisade.listen_url());
    let sse = probe(
        &sse_url,
        &[
            "--transport",
            "sse",
            "--mode",
            "legacy",
            "--call",
            r#"echo={"message":"over sse"}"#,
            "--progress",
            "trigger-long-running-operation",
        ],
    );
    assert_eq!(call_text(&sse, "echo"), "Echo: over sse");
    assert_eq!(sse["progress"], json!([1.0, 2.0]));

    // The child's stderr is in Palisade's log, tagged with the server.
    let logs = palisade.logs();
    assert!(
        logs.contains("Starting default (STDIO) server"),
        "stderr not relayed:\n{logs}"
    );
    assert!(logs.contains("MCPServer/tools/everything"));
}

#[test]
fn typescript_sdk_client_over_streamable_http_and_sse() {
    let dir = TempDir::new("mcp-ts");
    let palisade = start(&dir, &everything_stdio_manifest());
    for (transport, path) in [("streamable", "mcp"), ("sse", "sse")] {
        let url = format!("{}/{path}/tools/everything", palisade.listen_url());
        let output = Command::new("node")
            .arg(repo_file("tests/clients/mcp_probe.mjs"))
            .arg(&url)
            .arg(transport)
            .env(
                "MCP_SDK_DIR",
                peers::node_package("@modelcontextprotocol/sdk"),
            )
            .current_dir(peers::dir())
            .output()
            .expect("node runs");
        assert!(
            output.status.success(),
            "{transport}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let report: Value = serde_json::from_slice(&output.stdout).unwrap();
        if transport == "streamable" {
            assert_eq!(report["protocolVersion"], "2025-11-25", "{transport}");
            assert_eq!(
                report["sessionId"].as_str().map(str::len),
                Some(64),
                "{transport}"
            );
        }
        assert_eq!(report["echo"], "Echo: from ts", "{transport}");
        assert!(
            report["tools"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == "get-sum"),
            "{transport}"
        );
        // The TypeScript SDK runs notification handlers a microtask later than
        // response handlers, so a progress notification that arrives in the same
        // read as the result is dropped by the client itself; the earlier ones,
        // half a second apart, always arrive.
        let progress = report["progress"].as_array().unwrap();
        assert_eq!(
            progress[..2],
            [json!(1), json!(2)],
            "{transport}: {progress:?}"
        );
    }
}

/// A server-everything child speaking streamable HTTP on its own port.
struct HttpEverything {
    child: Child,
    port: u16,
}

impl HttpEverything {
    fn start() -> Self {
        let port = free_port();
        let mut cmd = Command::new("node");
        cmd.arg(everything_js())
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        HttpEverything {
            child: start_listening(cmd, port),
            port,
        }
    }
}

impl Drop for HttpEverything {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn federated_manifest(targets: &[(&str, u16)], extra: &str) -> String {
    let mut targets_yaml = String::new();
    for (name, port) in targets {
        targets_yaml.push_str(&format!(
            "    - name: {name}\n      static: {{host: 127.0.0.1, port: {port}}}\n"
        ));
    }
    format!(
        "apiVersion: agentgateway.dev/v1alpha1\nkind: AgentgatewayBackend\nmetadata: {{name: fed}}\nspec:\n  mcp:\n{extra}    targets:\n{targets_yaml}---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: fed}}\nspec:\n  rules:\n  - matches: [{{path: {{type: PathPrefix, value: /fed}}}}]\n    backendRefs: [{{group: agentgateway.dev, kind: AgentgatewayBackend, name: fed}}]\n"
    )
}

#[test]
fn federates_targets_with_prefixes_and_survives_a_dead_one() {
    let a = HttpEverything::start();
    let b = HttpEverything::start();
    let dead = free_port();
    let dir = TempDir::new("mcp-fed");
    let manifest = federated_manifest(
        &[("alpha", a.port), ("beta", b.port), ("gone", dead)],
        "    failureMode: FailOpen\n",
    );
    let palisade = start(&dir, &manifest);
    let url = format!("{}/fed", palisade.listen_url());
    // A message the server sends outside any request (a log notification) reaches
    // the client through the upstream's event stream, opened when the client
    // opened its own.
    let report = probe(
        &url,
        &[
            "--mode",
            "legacy",
            "--logs",
            "beta_toggle-simulated-logging",
        ],
    );
    assert!(report["logs"].as_u64().unwrap() >= 1, "{report}");
    for mode in ["legacy", "auto"] {
        let report = probe(
            &url,
            &[
                "--mode",
                mode,
                "--call",
                r#"alpha_echo={"message":"to alpha"}"#,
                "--call",
                r#"beta_get-sum={"a":1,"b":1}"#,
                "--resources",
            ],
        );
        let tools = names(&report, "tools");
        assert!(
            tools.contains(&"alpha_echo".to_string()) && tools.contains(&"beta_echo".to_string()),
            "{tools:?}"
        );
        assert!(
            !tools.iter().any(|t| t == "echo"),
            "unprefixed name leaked: {tools:?}"
        );
        assert_eq!(call_text(&report, "alpha_echo"), "Echo: to alpha");
        assert_eq!(
            call_text(&report, "beta_get-sum"),
            "The sum of 1 and 1 is 2."
        );
        let resources = names(&report, "resources");
        assert!(
            resources.iter().any(|u| u.starts_with("alpha+demo://")),
            "{resources:?}"
        );
        assert!(
            resources.iter().any(|u| u.starts_with("beta+demo://")),
            "{resources:?}"
        );
        assert_eq!(
            report["read_first"], 1,
            "a prefixed resource URI reads through"
        );
    }
    drop(palisade);

    // FailClosed (the default): a dead target makes the session fail, clearly.
    let dir = TempDir::new("mcp-fed-closed");
    let palisade = start(
        &dir,
        &federated_manifest(&[("alpha", a.port), ("gone", dead)], ""),
    );
    let output = Command::new(peers::python())
        .arg(repo_file("tests/clients/mcp_probe.py"))
        .arg(format!("{}/fed", palisade.listen_url()))
        .args(["--mode", "legacy"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("gone"),
        "the error names the failing target:\n{stderr}"
    );
}

#[test]
fn seed_github_server_runs_through_npx_as_written() {
    let dir = TempDir::new("mcp-seed");
    let manifest = std::fs::read_to_string(repo_file("examples/seed/02-mcp-server.yaml"))
        .or_else(|_| {
            // The seed block that defines the MCPServer, whatever its file name.
            std::fs::read_dir(repo_file("examples/seed"))
                .unwrap()
                .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .find(|text| text.contains("kind: MCPServer") && text.contains("server-github"))
                .ok_or(())
        })
        .expect("the seed's MCPServer manifest");
    let palisade = start(&dir, &manifest);
    let url = format!("{}/mcp/policies/test-mcp-server", palisade.listen_url());
    let report = probe(&url, &["--mode", "legacy"]);
    let tools = names(&report, "tools");
    for tool in [
        "search_repositories",
        "search_issues",
        "search_code",
        "search_users",
    ] {
        assert!(
            tools.contains(&tool.to_string()),
            "{tool} missing from {tools:?}"
        );
    }
}

async fn post(
    client: &Client,
    url: &str,
    headers: &[(&str, &str)],
    body: Value,
) -> palisade_testkit::client::Response {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    client
        .send(req.body(Body::json(&body)).unwrap())
        .await
        .unwrap()
}

#[tokio::test]
async fn rejects_what_the_protocol_forbids() {
    let dir = TempDir::new("mcp-raw");
    let palisade = start(&dir, &everything_stdio_manifest());
    let url = format!("{}/mcp/tools/everything", palisade.listen_url());
    let client = Client::new();
    let envelope = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": "x"}, "_meta": envelope}});

    // 2026-07-28: Mcp-Name must match the body, before anything reaches the server.
    let r = post(
        &client,
        &url,
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "get-env"),
        ],
        call.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], -32020);
    let r = post(
        &client,
        &url,
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/list"),
            ("mcp-name", "echo"),
        ],
        call.clone(),
    )
    .await;
    assert_eq!(r.json()["error"]["code"], -32020, "Mcp-Method mismatch");
    let r = post(
        &client,
        &url,
        &[
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "echo"),
        ],
        call.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["result"]["content"][0]["text"], "Echo: x");
    assert_eq!(r.json()["result"]["resultType"], "complete");

    // Handshake era: no session, unknown session, malformed JSON.
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let r = post(
        &client,
        &url,
        &[("mcp-protocol-version", "2025-11-25")],
        list.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = post(
        &client,
        &url,
        &[
            ("mcp-protocol-version", "2025-11-25"),
            ("mcp-session-id", "0123456789abcdef"),
        ],
        list.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let req = Request::post(&url)
        .header("content-type", "application/json")
        .body(Body::full("{not json"))
        .unwrap();
    let r = client.send(req).await.unwrap();
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert_eq!(r.json()["error"]["code"], -32700);

    // A session is bound to its server: its id does not open another server's session.
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}});
    let r = post(&client, &url, &[], init.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["result"]["protocolVersion"], "2025-06-18");
    let session = r
        .header("mcp-session-id")
        .expect("a session id")
        .to_string();
    assert_eq!(session.len(), 64, "256-bit session ids");
    let r = post(
        &client,
        &url,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", "2025-06-18"),
        ],
        list.clone(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.json()["result"]["tools"].as_array().unwrap().len() > 5);
    let r = post(
        &client,
        &url,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", "2025-03-26"),
        ],
        list.clone(),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a version header that differs from the session's"
    );

    // Bad input on a live session: unknown method, unknown tool, oversized body.
    let headers = [
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", "2025-06-18"),
    ];
    let r = post(
        &client,
        &url,
        &headers,
        json!({"jsonrpc": "2.0", "id": 9, "method": "no/such"}),
    )
    .await;
    assert_eq!(r.json()["error"]["code"], -32601, "{}", r.text());
    let unknown_tool = json!({"jsonrpc": "2.0", "id": 10, "method": "tools/call",
        "params": {"name": "no-such-tool", "arguments": {}}});
    let r = post(&client, &url, &headers, unknown_tool).await;
    let v = r.json();
    assert!(
        v["error"].is_object() || v["result"]["isError"] == true,
        "{v}"
    );
    let huge = json!({"jsonrpc": "2.0", "id": 11, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": "x".repeat(5 * 1024 * 1024)}}});
    // Palisade answers 413 as soon as the limit is passed and closes the
    // connection; a client still sending may see the close before the answer.
    let req = Request::post(&url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", "2025-06-18")
        .body(Body::json(&huge))
        .unwrap();
    match Client::new().send(req).await {
        Ok(r) => assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE),
        Err(e) => assert!(
            e.to_string().contains("connection") || format!("{e:?}").contains("Incomplete"),
            "{e:?}"
        ),
    }
    // ... and the session still works.
    let r = post(&client, &url, &headers, list.clone()).await;
    assert_eq!(r.status, StatusCode::OK);

    // DNS rebinding: a foreign browser Origin is refused.
    let r = post(&client, &url, &[("origin", "http://evil.example")], init).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // DELETE ends the session and stops its child process.
    let req = Request::builder()
        .method(Method::DELETE)
        .uri(&url)
        .header("mcp-session-id", &session)
        .body(Body::empty())
        .unwrap();
    assert_eq!(client.send(req).await.unwrap().status, StatusCode::OK);
    let r = post(
        &client,
        &url,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", "2025-06-18"),
        ],
        list,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    palisade
        .wait_for_log_async("MCP server exited", Duration::from_secs(10))
        .await;
}

/// Direct children of `pid`.
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{child}/stat")) else {
            continue;
        };
        // The command name may hold spaces; fields after its closing parenthesis.
        let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
        let ppid = after
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

#[test]
fn relays_sampling_and_restarts_a_killed_child() {
    let dir = TempDir::new("mcp-restart");
    let palisade = start(&dir, &everything_stdio_manifest());
    let url = format!("{}/mcp/tools/everything", palisade.listen_url());
    let pause = dir.path().join("pause");
    let mut probe = Command::new(peers::python())
        .arg(repo_file("tests/clients/mcp_probe.py"))
        .arg(&url)
        .args(["--mode", "legacy", "--sampling", "--pause-file"])
        .arg(&pause)
        .args([
            "--call",
            r#"trigger-sampling-request={"prompt":"hi","maxTokens":10}"#,
            "--call",
            r#"echo={"message":"again"}"#,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !pause.exists() {
        assert!(
            Instant::now() < deadline,
            "the probe never reached its pause:\n{}",
            palisade.logs()
        );
        assert!(probe.try_wait().unwrap().is_none(), "the probe ended early");
        std::thread::sleep(Duration::from_millis(50));
    }
    let kids = children(palisade.pid());
    let ps = Command::new("ps")
        .args(["-eo", "pid,ppid,cmd"])
        .output()
        .unwrap();
    assert_eq!(
        kids.len(),
        1,
        "one child per session: {kids:?} (palisade {}):\n{}",
        palisade.pid(),
        String::from_utf8_lossy(&ps.stdout)
    );
    Command::new("kill")
        .arg("-9")
        .arg(kids[0].to_string())
        .status()
        .unwrap();
    palisade.wait_for_log("MCP server exited", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(300));
    std::fs::remove_file(&pause).unwrap();
    let output = probe.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let sampled = call_text(&report, "trigger-sampling-request");
    assert!(
        sampled.contains("sampled: Resource trigger-sampling-request context: hi"),
        "{sampled}"
    );
    assert_eq!(
        report["calls_after"]["echo"]["text"][0], "Echo: again",
        "{report}"
    );
    let sampled_after = report["calls_after"]["trigger-sampling-request"]["text"][0]
        .as_str()
        .unwrap();
    assert!(
        sampled_after.contains("sampled:"),
        "sampling works on the restarted child: {sampled_after}"
    );
    assert!(palisade.logs().contains("restarting MCP target"));
    let metrics = std::process::Command::new("curl")
        .args(["-sS", &format!("{}/metrics", palisade.admin_url())])
        .output()
        .unwrap();
    let metrics = String::from_utf8_lossy(&metrics.stdout);
    assert!(
        metrics.contains(
            r#"palisade_mcp_upstream_restarts_total{server="MCPServer/tools/everything"} 1"#
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn guards_tool_arguments_and_results_on_a_route() {
    let dir = TempDir::new("mcp-guard");
    let manifest = format!(
        "{}---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: tools, namespace: tools}}\nspec:\n  rules:\n  - matches: [{{path: {{type: PathPrefix, value: /guarded}}}}]\n    backendRefs: [{{group: kagent.dev, kind: MCPServer, name: everything}}]\n---\napiVersion: agentgateway.dev/v1alpha1\nkind: AgentgatewayPolicy\nmetadata: {{name: tool-guard, namespace: tools}}\nspec:\n  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: tools}}]\n  backend:\n    ai:\n      promptGuard:\n        request:\n        - scope: [ToolInput]\n          response: {{message: no secrets in tool calls}}\n          regex: {{action: Reject, builtins: [AwsAccessKey]}}\n        response:\n        - scope: [ToolOutput]\n          regex: {{action: Mask, builtins: [Email]}}\n",
        everything_stdio_manifest(),
    );
    let palisade = start(&dir, &manifest);
    let url = format!("{}/guarded", palisade.listen_url());
    let probe_url = url.clone();
    let report = tokio::task::spawn_blocking(move || {
        probe(
            &probe_url,
            &[
                "--mode",
                "legacy",
                "--call",
                r#"echo={"message":"write to ann@example.org"}"#,
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(call_text(&report, "echo"), "Echo: write to <EMAIL>");

    let client = Client::new();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}});
    let r = post(&client, &url, &[], init).await;
    let session = r.header("mcp-session-id").expect("session").to_string();
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": "key AKIAIOSFODNN7EXAMPLE"}}});
    let r = post(
        &client,
        &url,
        &[
            ("mcp-session-id", &session),
            ("mcp-protocol-version", "2025-06-18"),
        ],
        call,
    )
    .await;
    assert_eq!(
        r.json()["error"]["message"],
        "no secrets in tool calls",
        "{}",
        r.text()
    );
    // The unguarded built-in path of the same server is not affected.
    let direct = format!("{}/mcp/tools/everything", palisade.listen_url());
    let report = tokio::task::spawn_blocking(move || {
        probe(
            &direct,
            &[
                "--mode",
                "legacy",
                "--call",
                r#"echo={"message":"ann@example.org"}"#,
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(call_text(&report, "echo"), "Echo: ann@example.org");
}

#[tokio::test]
async fn a_call_the_server_does_not_answer_in_time_gets_an_error_and_the_session_goes_on() {
    let dir = TempDir::new("mcp-timeout");
    let manifest = everything_stdio_manifest().replace(
        "  transportType: stdio\n",
        "  transportType: stdio\n  timeout: 1s\n",
    );
    let palisade = start(&dir, &manifest);
    let url = format!("{}/mcp/tools/everything", palisade.listen_url());
    let client = Client::new();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}});
    let r = post(&client, &url, &[], init).await;
    let session = r.header("mcp-session-id").expect("session").to_string();
    let headers = [
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", "2025-06-18"),
    ];
    let slow = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "trigger-long-running-operation", "arguments": {"duration": 3, "steps": 1}}});
    let r = post(&client, &url, &headers, slow).await;
    let error = &r.json()["error"];
    assert_eq!(error["code"], -32001, "{}", r.text());
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("did not answer within 1s"),
        "{error}"
    );
    let echo = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"message": "still here"}}});
    let r = post(&client, &url, &headers, echo).await;
    assert_eq!(
        r.json()["result"]["content"][0]["text"],
        "Echo: still here",
        "{}",
        r.text()
    );

    let metrics = client
        .get(&format!("{}/metrics", palisade.admin_url()))
        .await
        .unwrap()
        .text();
    for line in [
        r#"palisade_mcp_requests_total{server="MCPServer/tools/everything",method="tools/call",tool="trigger-long-running-operation",outcome="timeout"} 1"#,
        r#"palisade_mcp_requests_total{server="MCPServer/tools/everything",method="tools/call",tool="echo",outcome="ok"} 1"#,
        "palisade_mcp_sessions 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "{line} missing from:\n{metrics}"
        );
    }
    assert!(metrics.contains(r#"palisade_mcp_request_duration_seconds_count{server="MCPServer/tools/everything",method="tools/call"} 2"#), "{metrics}");
}

#[test]
fn mcp_inspector_cli_lists_and_calls_tools_through_palisade() {
    let dir = TempDir::new("mcp-inspector");
    let palisade = start(&dir, &everything_stdio_manifest());
    let inspector = |url: String, transport: &str, args: &[&str]| -> Value {
        let output = Command::new(peers::node_bin("mcp-inspector"))
            .args(["--cli", &url, "--transport", transport])
            .args(args)
            .env("MCP_CATALOG_PATH", dir.path().join("catalog.json"))
            .current_dir(peers::dir())
            .output()
            .expect("the inspector runs");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)))
    };
    let listed = inspector(
        format!("{}/mcp/tools/everything", palisade.listen_url()),
        "http",
        &["--method", "tools/list"],
    );
    let names: Vec<&str> = listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"echo") && names.contains(&"get-sum"),
        "{names:?}"
    );
    let called = inspector(
        format!("{}/sse/tools/everything", palisade.listen_url()),
        "sse",
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "echo",
            "--tool-arg",
            "message=inspected",
        ],
    );
    assert_eq!(called["content"][0]["text"], "Echo: inspected");
}

#[tokio::test]
async fn a_stateless_client_closing_its_request_cancels_the_upstream_call() {
    let dir = TempDir::new("mcp-cancel");
    let palisade = start(&dir, &everything_stdio_manifest());
    let url = format!("{}/mcp/tools/everything", palisade.listen_url());
    let body = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {
        "name": "trigger-long-running-operation", "arguments": {"duration": 60, "steps": 60},
        "_meta": {"progressToken": 5,
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}}}});
    // curl reads the event stream (a progress notification every second of a
    // minute-long call) and is hung up on as soon as the first one arrives.
    let mut curl = tokio::process::Command::new("curl")
        .args(["-sS", "-N", "-H", "content-type: application/json"])
        .args([
            "-H",
            "accept: application/json, text/event-stream",
            "-H",
            "mcp-protocol-version: 2026-07-28",
        ])
        .args([
            "-H",
            "mcp-method: tools/call",
            "-H",
            "mcp-name: trigger-long-running-operation",
        ])
        .args(["-d", &body.to_string(), &url])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(curl.stdout.take().unwrap()).lines();
    let mut seen = String::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("notifications/progress") {
            break;
        }
    }
    assert!(
        seen.contains("notifications/progress"),
        "the stream had started: {seen}"
    );
    assert!(
        !seen.contains("\"result\""),
        "the call had not ended: {seen}"
    );
    curl.kill().await.unwrap();
    palisade
        .wait_for_log_async("cancelling it upstream", Duration::from_secs(10))
        .await;
}

#[test]
fn remote_server_over_https_is_verified_and_reached() {
    let plain = HttpEverything::start();
    let dir = TempDir::new("mcp-tls");
    let (cert, key) = self_signed_localhost(dir.path());
    let port = free_port();
    let mut cmd = Command::new(peers::python());
    cmd.arg(repo_file("tests/clients/tls_terminator.py"))
        .arg(port.to_string())
        .arg(plain.port.to_string())
        .arg(&cert)
        .arg(&key);
    let mut terminator = start_listening(cmd, port);
    let manifest = format!(
        "apiVersion: kagent.dev/v1alpha2\nkind: RemoteMCPServer\nmetadata: {{name: remote, namespace: tools}}\nspec:\n  description: server-everything behind HTTPS\n  url: https://localhost:{port}/mcp\n"
    );
    let config = dir.path().join("mcp.yaml");
    std::fs::write(&config, manifest).unwrap();
    let trusted = Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("--insecure-allow-anonymous")
        .arg("-f")
        .arg(&config)
        .env("SSL_CERT_FILE", &cert)
        .start();
    let url = format!("{}/mcp/tools/remote", trusted.listen_url());
    let report = probe(
        &url,
        &[
            "--mode",
            "legacy",
            "--call",
            r#"echo={"message":"over tls"}"#,
        ],
    );
    assert_eq!(call_text(&report, "echo"), "Echo: over tls");
    drop(trusted);

    // Without trusting the certificate, the session cannot open.
    let untrusted = Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("--insecure-allow-anonymous")
        .arg("-f")
        .arg(&config)
        .start();
    let output = Command::new(peers::python())
        .arg(repo_file("tests/clients/mcp_probe.py"))
        .arg(format!("{}/mcp/tools/remote", untrusted.listen_url()))
        .args(["--mode", "legacy"])
        .output()
        .unwrap();
    assert!(!output.status.success(), "an unverified upstream was used");
    terminator.kill().unwrap();
    terminator.wait().unwrap();
}

#[test]
fn remote_server_headers_from_a_secret_reach_the_upstream() {
    let plain = HttpEverything::start();
    let dir = TempDir::new("mcp-headers");
    let port = free_port();
    let mut cmd = Command::new(peers::python());
    cmd.arg(repo_file("tests/clients/auth_proxy.py")).args([
        port.to_string(),
        plain.port.to_string(),
        "remote-token".to_string(),
    ]);
    let mut proxy = start_listening(cmd, port);
    let remote = |headers: &str| {
        format!(
            "apiVersion: v1\nkind: Secret\nmetadata: {{name: remote-auth, namespace: tools}}\nstringData: {{token: \"Bearer remote-token\"}}\n---\napiVersion: kagent.dev/v1alpha2\nkind: RemoteMCPServer\nmetadata: {{name: remote, namespace: tools}}\nspec:\n  description: server-everything behind a token\n  url: http://127.0.0.1:{port}/mcp\n{headers}"
        )
    };
    let with_secret = remote(
        "  headersFrom:\n  - name: Authorization\n    valueFrom: {type: Secret, name: remote-auth, key: token}\n",
    );
    let config = dir.path().join("mcp.yaml");
    std::fs::write(&config, with_secret).unwrap();
    let palisade = start(&dir, &std::fs::read_to_string(&config).unwrap());
    let url = format!("{}/mcp/tools/remote", palisade.listen_url());
    let report = probe(
        &url,
        &[
            "--mode",
            "legacy",
            "--call",
            r#"echo={"message":"with token"}"#,
        ],
    );
    assert_eq!(call_text(&report, "echo"), "Echo: with token");
    assert!(
        !palisade.logs().contains("remote-token"),
        "the credential leaked into the log"
    );
    let config_json = Command::new("curl")
        .args(["-sS", &format!("{}/config", palisade.admin_url())])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&config_json.stdout).contains("remote-token"));
    drop(palisade);

    // Without the header the upstream refuses, and the client sees an error.
    let palisade = start(&dir, &remote(""));
    let output = Command::new(peers::python())
        .arg(repo_file("tests/clients/mcp_probe.py"))
        .arg(format!("{}/mcp/tools/remote", palisade.listen_url()))
        .args(["--mode", "legacy"])
        .output()
        .unwrap();
    assert!(
        !output.status.success(),
        "the upstream accepted a request without its token"
    );
    proxy.kill().unwrap();
    proxy.wait().unwrap();
}

#[tokio::test]
async fn stateless_session_routing_keeps_no_client_session() {
    let everything = HttpEverything::start();
    let dir = TempDir::new("mcp-stateless");
    let palisade = start(
        &dir,
        &federated_manifest(
            &[("alpha", everything.port)],
            "    sessionRouting: Stateless\n",
        ),
    );
    let url = format!("{}/fed", palisade.listen_url());
    // The SDK client works as usual on a handshake revision and on 2026-07-28.
    for mode in ["legacy", "auto"] {
        let report = probe(
            &url,
            &["--mode", mode, "--call", r#"echo={"message":"stateless"}"#],
        );
        assert_eq!(call_text(&report, "echo"), "Echo: stateless", "{mode}");
    }
    // initialize hands out no session, and a request without one is served.
    let client = Client::new();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}});
    let r = post(&client, &url, &[], init).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("mcp-session-id"), None);
    assert_eq!(r.json()["result"]["protocolVersion"], "2025-06-18");
    assert!(r.json()["result"]["capabilities"]["tools"].is_object());
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    let r = post(
        &client,
        &url,
        &[("mcp-protocol-version", "2025-06-18")],
        list,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let tools = r.json()["result"]["tools"].clone();
    assert!(
        tools
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "echo"),
        "{tools}"
    );
    // There is no session stream to open.
    let req = Request::get(&url)
        .header("accept", "text/event-stream")
        .body(Body::empty())
        .unwrap();
    let r = client.send(req).await.unwrap();
    assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED);
}
