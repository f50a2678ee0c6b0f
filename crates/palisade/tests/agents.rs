//! Declarative agents end to end, with the scripted mock LLM (Anthropic wire
//! format) as the provider: the agent's model and tool calls go through the
//! gateway under its own identity, it answers over A2A (the official
//! `a2a-sdk` client, streaming too, and `palisade invoke`), its conversation
//! survives a restart, and the seed's AccessPolicy takes a tool away from the
//! seed's agent on its next turn.

use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_testkit::mock_llm::MockLlm;
use palisade_testkit::{CliOutput, Palisade, TempDir, free_port, peers};
use serde_json::{Value, json};

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// `palisade invoke agent NAME -n NS --task TASK EXTRA...`.
fn invoke(palisade: &Palisade, name: &str, ns: &str, task: &str, extra: &[&str]) -> CliOutput {
    let mut args = vec!["invoke", "agent", name, "-n", ns, "--task", task];
    args.extend_from_slice(extra);
    palisade.cli(&args)
}

/// The official A2A SDK client (tests/clients/a2a_probe.py): whether it
/// succeeded, and its report.
fn a2a_run(url: &str, token: &str, task: &str, extra: &[&str]) -> (bool, Value) {
    let out = Command::new(peers::python())
        .arg(repo_file("tests/clients/a2a_probe.py"))
        .arg(url)
        .args(["--bearer", token, "--task", task])
        .args(extra)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "a2a probe: {} {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), report)
}

/// [`a2a_run`], which must succeed.
fn a2a(url: &str, token: &str, task: &str, extra: &[&str]) -> Value {
    let (ok, report) = a2a_run(url, token, task, extra);
    assert!(ok, "a2a probe failed: {report}");
    report
}

/// The tool names an Anthropic request offered the model.
fn offered(request: &Value) -> Vec<String> {
    request["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str().map(str::to_string))
        .collect()
}

/// The tool results an Anthropic request carries back to the model.
fn tool_results(request: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for message in request["messages"].as_array().into_iter().flatten() {
        for block in message["content"].as_array().into_iter().flatten() {
            if block["type"] == "tool_result" {
                out.push(match &block["content"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
            }
        }
    }
    out
}

fn model_config(namespace: &str, name: &str, secret: &str, key: &str, llm: &MockLlm) -> String {
    format!(
        r#"apiVersion: kagent.dev/v1alpha2
kind: ModelConfig
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  apiKeySecret: {secret}
  apiKeySecretKey: {key}
  model: claude-sonnet-4-20250514
  provider: Anthropic
  anthropic: {{baseUrl: "{url}"}}
"#,
        url = llm.url()
    )
}

#[test]
fn an_agent_calls_its_tools_through_the_gateway_and_answers_over_a2a() {
    let llm = MockLlm::start();
    let dir = TempDir::new("agents");
    let state = dir.path().join("state");
    let everything =
        peers::node_package("@modelcontextprotocol/server-everything").join("dist/index.js");
    let manifest = format!(
        r#"apiVersion: v1
kind: Secret
metadata: {{name: llm-key, namespace: agents}}
stringData: {{ANTHROPIC_API_KEY: sk-ant-test}}
---
{model}---
apiVersion: kagent.dev/v1alpha1
kind: MCPServer
metadata: {{name: everything, namespace: agents}}
spec:
  transportType: stdio
  deployment:
    cmd: node
    args: [{everything:?}, stdio]
---
apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata: {{name: calculator, namespace: agents}}
spec:
  description: Adds numbers with its tools
  type: Declarative
  declarative:
    modelConfig: model
    systemMessage: You add numbers with the get-sum tool.
    tools:
    - type: McpServer
      mcpServer: {{name: everything, kind: MCPServer, toolNames: [echo, get-sum]}}
    a2aConfig:
      skills:
      - {{id: add, name: Add, description: Adds two numbers, tags: [math]}}
---
apiVersion: kagent.dev/v1alpha2
kind: Agent
metadata: {{name: coordinator, namespace: agents}}
spec:
  description: Delegates arithmetic
  type: Declarative
  declarative:
    modelConfig: model
    systemMessage: You ask the calculator agent.
    tools:
    - type: Agent
      agent: {{name: calculator}}
"#,
        model = model_config("agents", "model", "llm-key", "ANTHROPIC_API_KEY", &llm),
        everything = everything.display().to_string(),
    );
    let config = dir.path().join("agents.yaml");
    std::fs::write(&config, manifest).unwrap();
    // One admin address across the restart: tokens name it as their issuer.
    let admin = format!("127.0.0.1:{}", free_port());
    let start = || {
        Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
            .arg("--state-dir")
            .arg(&state)
            .arg("--admin-addr")
            .arg(&admin)
            .arg("-f")
            .arg(&config)
            .current_dir(peers::dir())
            .start()
    };
    let mut palisade = start();
    palisade.cli_ok(&["create", "serviceaccount", "caller", "-n", "agents"]);
    let token = palisade.cli_ok(&["create", "token", "caller", "-n", "agents"]);
    let token = token.trim();
    let url = format!("{}/api/a2a/agents/calculator", palisade.listen_url());

    // One turn: the model asks for get-sum, the gateway runs it, the model answers.
    llm.push_tool_call("get-sum", json!({"a": 2, "b": 3}));
    llm.push_text("2 + 3 = 5");
    let report = a2a(&url, token, "What is 2 + 3?", &["--get-task"]);
    assert_eq!(report["answer"], "2 + 3 = 5", "{report}");
    assert_eq!(report["state"], "TASK_STATE_COMPLETED", "{report}");
    assert_eq!(report["card"]["skills"], json!(["add"]), "{report}");
    assert_eq!(report["task"]["state"], "TASK_STATE_COMPLETED", "{report}");
    let requests = llm.requests();
    assert_eq!(requests.len(), 2, "two model calls");
    let mut tools = offered(&requests[0].body);
    tools.sort();
    assert_eq!(
        tools,
        ["echo", "get-sum"],
        "toolNames narrow the server's tools"
    );
    assert!(
        requests[0].body["system"]
            .to_string()
            .contains("get-sum tool"),
        "the system message reached the model: {}",
        requests[0].body
    );
    let results = tool_results(&requests[1].body);
    assert!(
        results
            .iter()
            .any(|r| r.contains("The sum of 2 and 3 is 5")),
        "the tool's real result went back to the model: {results:?}"
    );
    // The provider key was injected by the gateway, never held by the agent.
    assert_eq!(requests[0].header("x-api-key"), Some("sk-ant-test"));

    // The calls were the agent's own, and audited as such.
    let audit = palisade.cli_ok(&[
        "audit",
        "--principal",
        "system:serviceaccount:agents:calculator",
        "-o",
        "json",
    ]);
    assert!(audit.contains("get-sum"), "{audit}");

    // Streaming: the steps arrive as status updates, then the answer.
    llm.clear();
    llm.push_tool_call("echo", json!({"message": "streamed"}));
    llm.push_text("echoed");
    let streamed = a2a(&url, token, "Echo something", &["--stream"]);
    assert_eq!(streamed["answer"], "echoed", "{streamed}");
    let events: Vec<&str> = streamed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(events.first(), Some(&"task"), "{events:?}");
    assert!(events.contains(&"artifact-update"), "{events:?}");
    assert!(
        events.iter().filter(|e| **e == "status-update").count() >= 3,
        "tool call, tool result and completion: {events:?}"
    );

    // A2A 0.3 clients use the older method names and shapes.
    let rpc = |body: Value| -> Value {
        let out = Command::new("curl")
            .args([
                "-sS",
                "-X",
                "POST",
                &url,
                "-H",
                "content-type: application/json",
            ])
            .args([
                "-H",
                &format!("authorization: Bearer {token}"),
                "-d",
                &body.to_string(),
            ])
            .output()
            .unwrap();
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stdout)))
    };
    llm.push_text("old-style answer");
    let sent = rpc(
        json!({"jsonrpc": "2.0", "id": 7, "method": "message/send", "params": {"message": {
        "kind": "message", "messageId": "m-03", "role": "user", "parts": [{"kind": "text", "text": "hi"}]}}}),
    );
    assert_eq!(sent["result"]["kind"], "task", "{sent}");
    assert_eq!(sent["result"]["status"]["state"], "completed", "{sent}");
    assert_eq!(
        sent["result"]["artifacts"][0]["parts"][0]["text"], "old-style answer",
        "{sent}"
    );
    let task_id = sent["result"]["id"].as_str().unwrap();
    let got =
        rpc(json!({"jsonrpc": "2.0", "id": 8, "method": "tasks/get", "params": {"id": task_id}}));
    assert_eq!(got["result"]["id"], task_id, "{got}");
    assert_eq!(got["result"]["history"][0]["role"], "user", "{got}");
    let missing =
        rpc(json!({"jsonrpc": "2.0", "id": 9, "method": "tasks/get", "params": {"id": "nope"}}));
    assert_eq!(missing["error"]["code"], -32001, "{missing}");
    let unknown = rpc(json!({"jsonrpc": "2.0", "id": 10, "method": "tasks/cancel", "params": {}}));
    assert_eq!(unknown["error"]["code"], -32601, "{unknown}");

    // An agent as a tool: the coordinator asks the calculator over A2A,
    // through the gateway, as itself.
    llm.clear();
    llm.push_tool_call("calculator", json!({"task": "2 + 2?"}));
    llm.push_text("4");
    llm.push_text("The calculator says 4");
    let coordinator = format!("{}/api/a2a/agents/coordinator", palisade.listen_url());
    let delegated = a2a(&coordinator, token, "What is 2 + 2?", &[]);
    assert_eq!(delegated["answer"], "The calculator says 4", "{delegated}");
    let requests = llm.requests();
    assert_eq!(offered(&requests[0].body), ["calculator"]);
    assert!(
        tool_results(&requests[2].body)
            .iter()
            .any(|r| r.contains('4')),
        "the calculator's answer went back to the coordinator: {}",
        requests[2].body
    );

    // `palisade invoke` speaks the same protocol.
    llm.push_text("hello from the CLI");
    let CliOutput {
        success: ok,
        stdout: out,
        stderr: err,
    } = invoke(&palisade, "calculator", "agents", "hi", &[]);
    assert!(ok, "{err}");
    assert_eq!(out, "hello from the CLI\n");
    let session = err
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no session printed: {err}"))
        .to_string();

    // An agent that cannot run says why, in its status and to callers.
    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "apiVersion: kagent.dev/v1alpha2\nkind: Agent\nmetadata: {name: broken, namespace: agents}\nspec:\n  type: Declarative\n  declarative: {modelConfig: no-such-model, systemMessage: x}\n",
    )
    .unwrap();
    palisade.cli_ok(&["apply", "-f", broken.to_str().unwrap()]);
    let status = palisade.cli_ok(&["get", "agents", "broken", "-n", "agents", "-o", "json"]);
    assert!(status.contains("NotReady"), "{status}");
    assert!(status.contains("no-such-model"), "{status}");
    let CliOutput {
        success: ok,
        stderr: err,
        ..
    } = invoke(&palisade, "broken", "agents", "hi", &[]);
    assert!(!ok);
    assert!(err.contains("not ready"), "{err}");

    // A restart loses no conversation: the next turn of the session carries
    // the earlier messages to the model.
    palisade.stop();
    let palisade = start();
    llm.clear();
    llm.push_text("still here");
    let CliOutput {
        success: ok,
        stdout: out,
        stderr: err,
    } = invoke(
        &palisade,
        "calculator",
        "agents",
        "again",
        &["--session", &session],
    );
    assert!(ok, "{err}");
    assert_eq!(out, "still here\n");
    let history = llm.last_request().unwrap().body["messages"].to_string();
    assert!(
        history.contains("hello from the CLI") && history.contains("again"),
        "the conversation continued: {history}"
    );
    // Someone else cannot continue it (nor learn that it exists); the
    // caller's token outlived the restart (same signing key, same issuer).
    let url = format!("{}/api/a2a/agents/calculator", palisade.listen_url());
    let (ok, refused) = a2a_run(&url, token, "peek", &["--context", &session]);
    assert!(!ok, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap_or_default()
            .contains("not found"),
        "{refused}"
    );
    // An AccessPolicy on the agent admits only its subjects.
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "apiVersion: policy.kagent-enterprise.solo.io/v1alpha1\nkind: AccessPolicy\nmetadata: {name: calculator-users, namespace: agents}\nspec:\n  from:\n    subjects: [{kind: Agent, name: coordinator}, {kind: User, name: \"palisade:admin\"}]\n  targetRef: {kind: Agent, name: calculator}\n  action: ALLOW\n",
    )
    .unwrap();
    palisade.cli_ok(&["apply", "-f", policy.to_str().unwrap()]);
    let (ok, refused) = a2a_run(&url, token, "hi", &[]);
    assert!(!ok);
    assert!(
        refused["error"].as_str().unwrap().contains("403"),
        "{refused}"
    );
    llm.push_text("admins may");
    let CliOutput {
        success: ok,
        stdout: out,
        stderr: err,
    } = invoke(&palisade, "calculator", "agents", "hi", &[]);
    assert!(ok, "{err}");
    assert_eq!(out, "admins may\n");

    // And without a token there is nothing at all.
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(format!("{url}/.well-known/agent-card.json"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "401");
}

#[test]
fn the_seed_access_policy_narrows_the_seed_agent_on_its_next_turn() {
    let llm = MockLlm::start();
    let dir = TempDir::new("seed-agent");
    let palisade = Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("--state-dir")
        .arg(dir.path())
        .current_dir(peers::dir())
        .start();
    let seed = |name: &str| {
        repo_file(&format!("examples/seed/{name}"))
            .display()
            .to_string()
    };
    for file in [
        "01-namespace-policies.yaml",
        "02-mcpserver-test-mcp-server.yaml",
        "03-secret-kagent-anthropic.yaml",
        "05-agent-test-tools-agent.yaml",
    ] {
        palisade.cli_ok(&["apply", "-f", &seed(file)]);
    }
    // The seed's ModelConfig, pointed at the mock provider.
    let model = dir.path().join("model.yaml");
    std::fs::write(
        &model,
        model_config(
            "policies",
            "anthropic-model-config",
            "kagent-anthropic",
            "ANTHROPIC_API_KEY",
            &llm,
        ),
    )
    .unwrap();
    palisade.cli_ok(&["apply", "-f", model.to_str().unwrap()]);

    let ask = |task: &str| {
        let CliOutput {
            success: ok,
            stdout: out,
            stderr: err,
        } = invoke(&palisade, "test-tools-agent", "policies", task, &[]);
        assert!(ok, "{err}");
        out
    };
    llm.push_text("I can search GitHub.");
    assert_eq!(ask("What can you do?"), "I can search GitHub.\n");
    let mut before = offered(&llm.last_request().unwrap().body);
    before.sort();
    assert_eq!(
        before,
        [
            "search_code",
            "search_issues",
            "search_repositories",
            "search_users"
        ],
        "the seed's toolNames (S5)"
    );

    palisade.cli_ok(&[
        "apply",
        "-f",
        &seed("06-accesspolicy-deny-github-tool-server.yaml"),
    ]);
    llm.clear();
    // The model insists on the tool it is no longer offered.
    llm.push_tool_call("search_repositories", json!({"query": "palisade"}));
    llm.push_text("That tool is not available to me.");
    assert_eq!(
        ask("Find palisade repositories"),
        "That tool is not available to me.\n"
    );
    let requests = llm.requests();
    let mut after = offered(&requests[0].body);
    after.sort();
    assert_eq!(after, ["search_code", "search_issues", "search_users"]);
    let results = tool_results(&requests[1].body);
    assert!(
        results
            .iter()
            .any(|r| r.contains("Unknown tool: search_repositories")),
        "the gateway refused the forced call: {results:?}"
    );
    let audit = palisade.cli_ok(&[
        "audit",
        "--principal",
        "system:serviceaccount:policies:test-tools-agent",
        "--outcome",
        "denied",
        "-o",
        "json",
    ]);
    assert!(audit.contains("deny-github-tool-server"), "{audit}");
    assert!(audit.contains("search_repositories"), "{audit}");
    // The agent's status says which of its toolNames it no longer gets.
    let status = palisade.cli_ok(&[
        "get",
        "agents",
        "test-tools-agent",
        "-n",
        "policies",
        "-o",
        "json",
    ]);
    assert!(
        status.contains("toolNames not offered to this agent")
            && status.contains("search_repositories"),
        "{status}"
    );
}
