//! SEED-CASES S6 end to end: the seed's MCPServer (server-github through npx)
//! and Agent, an agent token from `palisade create token`, then the seed's
//! AccessPolicy: the agent's `tools/list` loses `search_repositories`, a call
//! of it is refused as an unknown tool and audited, other callers are
//! unaffected, and callers without a token get nothing.

use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_testkit::{Palisade, TempDir, peers};
use serde_json::Value;

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

fn tools_of(url: &str, token: &str, calls: &[&str]) -> Value {
    let mut cmd = Command::new(peers::python());
    cmd.arg(repo_file("tests/clients/mcp_probe.py"))
        .arg(url)
        .args(["--mode", "legacy", "--bearer", token]);
    for call in calls {
        cmd.args(["--call", call]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "probe: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn names(report: &Value) -> Vec<String> {
    report["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn s6_the_seed_access_policy_takes_a_tool_from_the_agent_only() {
    let dir = TempDir::new("s6");
    let palisade = Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("--state-dir")
        .arg(dir.path())
        .current_dir(peers::dir())
        .start();
    let seed = |name: &str| repo_file(&format!("examples/seed/{name}"));
    for file in [
        "02-mcpserver-test-mcp-server.yaml",
        "05-agent-test-tools-agent.yaml",
    ] {
        palisade.cli_ok(&["apply", "-f", seed(file).to_str().unwrap()]);
    }
    palisade.cli_ok(&["create", "serviceaccount", "other", "-n", "policies"]);
    let agent = palisade.cli_ok(&["create", "token", "test-tools-agent", "-n", "policies"]);
    let other = palisade.cli_ok(&["create", "token", "other", "-n", "policies"]);
    let (agent, other) = (agent.trim(), other.trim());
    let url = format!("{}/mcp/policies/test-mcp-server", palisade.listen_url());

    // Nothing is anonymous on the built-in routes.
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-X",
            "POST",
            &url,
        ])
        .args(["-H", "content-type: application/json", "-d", "{}"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "401");

    let before = names(&tools_of(&url, agent, &[]));
    for tool in [
        "search_repositories",
        "search_issues",
        "search_code",
        "search_users",
    ] {
        assert!(
            before.contains(&tool.to_string()),
            "{tool} missing: {before:?}"
        );
    }

    let applied = palisade.cli_ok(&[
        "apply",
        "-f",
        seed("06-accesspolicy-deny-github-tool-server.yaml")
            .to_str()
            .unwrap(),
    ]);
    assert_eq!(
        applied,
        "accesspolicy.policy.kagent-enterprise.solo.io/deny-github-tool-server created\n"
    );

    let after = tools_of(
        &url,
        agent,
        &[r#"search_repositories={"query":"palisade"}"#],
    );
    let after_names = names(&after);
    assert!(
        !after_names.contains(&"search_repositories".to_string()),
        "{after_names:?}"
    );
    for tool in ["search_issues", "search_code", "search_users"] {
        assert!(
            after_names.contains(&tool.to_string()),
            "{tool} gone too: {after_names:?}"
        );
    }
    assert_eq!(after_names.len(), before.len() - 1);
    let refused = after["calls"]["search_repositories"]["error"]
        .as_str()
        .unwrap_or_else(|| panic!("the call was not refused: {after}"));
    assert!(
        refused.contains("Unknown tool: search_repositories"),
        "{refused}"
    );
    // Other callers keep the tool.
    assert_eq!(names(&tools_of(&url, other, &[])), before);
    // The refusal is audited with the policy that decided it.
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
    // So is the list that was filtered, as an allowed request.
    let allowed = palisade.cli_ok(&[
        "audit",
        "--principal",
        "system:serviceaccount:policies:test-tools-agent",
        "--outcome",
        "allowed",
        "-o",
        "json",
    ]);
    assert!(allowed.contains("1 tools hidden by policy"), "{allowed}");
}
