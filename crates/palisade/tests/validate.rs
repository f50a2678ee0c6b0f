//! `palisade validate` end to end: the real binary on real files and stdin.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use palisade_testkit::TempDir;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_palisade")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn validate(args: &[&str]) -> Output {
    Command::new(bin())
        .arg("validate")
        .args(args)
        .output()
        .expect("palisade runs")
}

fn validate_stdin(text: &str, extra: &[&str]) -> Output {
    let mut child = Command::new(bin())
        .args(["validate", "-f", "-"])
        .args(extra)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The diagnostics of a run, as JSON.
fn diagnostics(text: &str) -> (i32, Vec<serde_json::Value>) {
    let mut child = Command::new(bin())
        .args(["validate", "-o", "json", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let diags: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("validate -o json printed no JSON ({e}): {}", stdout(&out)));
    (out.status.code().unwrap(), diags)
}

fn only_error(diags: &[serde_json::Value]) -> &serde_json::Value {
    let errors: Vec<_> = diags.iter().filter(|d| d["severity"] == "error").collect();
    assert_eq!(
        errors.len(),
        1,
        "expected exactly one error, got {diags:#?}"
    );
    errors[0]
}

#[test]
fn every_seed_manifest_validates_on_its_own_and_together() {
    let dir = repo().join("examples/seed");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(
        files.len() >= 12,
        "examples/seed holds every YAML block of the seed"
    );
    for file in &files {
        let out = validate(&["-f", file.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{} does not validate:\n{}",
            file.display(),
            stdout(&out)
        );
        assert!(!stdout(&out).contains(": error:"), "{}", stdout(&out));
    }
    let out = validate(&["-f", dir.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "the seed directory does not validate:\n{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("0 error(s)"), "{}", stdout(&out));
}

#[test]
fn the_intended_seed_policy_and_the_quickstart_validate() {
    for rel in [
        "examples/intended/mcp-oauth-policy.yaml",
        "examples/quickstart.yaml",
    ] {
        let out = validate(&["-f", repo().join(rel).to_str().unwrap()]);
        assert!(out.status.success(), "{rel}:\n{}", stdout(&out));
    }
}

#[test]
fn the_seed_link_artefacts_load_with_their_cel_intact() {
    // The published policy carries `<https://$>{AUTH0_DOMAIN}/` and `jwt["<https://...`:
    // it must load (the rules then never match, so they deny).
    let text =
        std::fs::read_to_string(repo().join("examples/seed/08-mcp-oauth-policy.yaml")).unwrap();
    let (code, diags) = diagnostics(&text);
    assert_eq!(code, 0, "{diags:#?}");
    assert!(diags.iter().all(|d| d["severity"] != "error"), "{diags:#?}");
}

#[test]
fn unknown_field_names_file_line_resource_field_and_the_nearest_name() {
    let dir = TempDir::new("validate");
    let file = dir.write(
        "agent.yaml",
        "apiVersion: kagent.dev/v1alpha2\nkind: ModelConfig\nmetadata:\n  name: m\n  namespace: policies\nspec:\n  model: claude\n  provider: Anthropic\n  apiKeySecrt: kagent-anthropic\n",
    );
    let out = validate(&["-f", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    let expected_origin = format!(
        "{}:9: error: ModelConfig/policies/m: spec.apiKeySecrt: unknown field `apiKeySecrt`",
        file.display()
    );
    assert!(text.contains(&expected_origin), "{text}");
    assert!(text.contains("did you mean `apiKeySecret`?"), "{text}");
}

#[test]
fn bad_enum_value_lists_the_allowed_values() {
    let (code, diags) = diagnostics(
        "apiVersion: kagent.dev/v1alpha1\nkind: MCPServer\nmetadata:\n  name: s\nspec:\n  deployment:\n    cmd: npx\n  transportType: sdtio\n",
    );
    assert_eq!(code, 1);
    let d = only_error(&diags);
    assert_eq!(d["field"], "spec.transportType");
    assert_eq!(d["origin"]["line"], 8);
    assert_eq!(d["resource"]["kind"], "MCPServer");
    assert_eq!(
        d["resource"]["namespace"], "default",
        "namespace defaults to default"
    );
    let hint = d["hint"].as_str().unwrap();
    assert!(
        hint.contains("did you mean `stdio`?") && hint.contains("http"),
        "{hint}"
    );
}

#[test]
fn wrong_type_and_missing_required_field() {
    let (code, diags) = diagnostics(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: g\nspec:\n  gatewayClassName: agentgateway\n  listeners:\n  - name: http\n    port: eighty\n    protocol: HTTP\n",
    );
    assert_eq!(code, 1);
    let d = only_error(&diags);
    assert_eq!(d["field"], "spec.listeners[0].port");
    assert_eq!(d["origin"]["line"], 9);
    assert!(d["message"].as_str().unwrap().contains("wrong type"), "{d}");

    let (code, diags) = diagnostics(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: g\nspec:\n  listeners:\n  - name: http\n    port: 80\n    protocol: HTTP\n",
    );
    assert_eq!(code, 1);
    let d = only_error(&diags);
    assert_eq!(d["field"], "spec.gatewayClassName");
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("missing required field `gatewayClassName`"),
        "{d}"
    );
}

#[test]
fn invalid_cel_and_invalid_regex_are_errors_at_their_field() {
    let (code, diags) = diagnostics(
        r#"apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata:
  name: p
  namespace: ns
spec:
  targetRefs:
  - {group: gateway.networking.k8s.io, kind: Gateway, name: gw}
  backend:
    mcp:
      authorization:
        action: Allow
        policy:
          matchExpressions:
          - 'mcp.tool.name == "echo"'
          - 'mcp.tool.name == && jwt'
"#,
    );
    assert_eq!(code, 1);
    let d = only_error(&diags);
    assert_eq!(
        d["field"],
        "spec.backend.mcp.authorization.policy.matchExpressions[1]"
    );
    assert_eq!(d["origin"]["line"], 16);
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("invalid CEL expression"),
        "{d}"
    );

    let (code, diags) = diagnostics(
        r#"apiVersion: enterpriseagentgateway.solo.io/v1alpha1
kind: EnterpriseAgentgatewayPolicy
metadata:
  name: guard
  namespace: ns
spec:
  targetRefs:
  - {group: gateway.networking.k8s.io, kind: HTTPRoute, name: claude}
  backend:
    ai:
      promptGuard:
        request:
        - regex:
            action: Reject
            matches:
            - "credit card"
            - "(unclosed"
"#,
    );
    assert_eq!(code, 1);
    let d = only_error(&diags);
    assert_eq!(
        d["field"],
        "spec.backend.ai.promptGuard.request[0].regex.matches[1]"
    );
    assert_eq!(d["origin"]["line"], 17);
    assert!(
        d["message"]
            .as_str()
            .unwrap()
            .contains("invalid regular expression"),
        "{d}"
    );
}

#[test]
fn duplicate_resources_point_at_both_definitions() {
    let doc =
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: reader\n  namespace: kagent\n";
    let (code, diags) = diagnostics(&format!("{doc}---\n{doc}"));
    assert_eq!(code, 1);
    let d = only_error(&diags);
    assert_eq!(
        d["origin"]["line"], 10,
        "the line of the second definition's name"
    );
    let msg = d["message"].as_str().unwrap();
    assert!(
        msg.contains("duplicate resource") && msg.contains("<stdin>:1"),
        "{msg}"
    );
}

#[test]
fn dangling_references_warn_and_strict_makes_them_fail() {
    let text = std::fs::read_to_string(repo().join("examples/seed/04-modelconfig-anthropic.yaml"))
        .unwrap();
    let (code, diags) = diagnostics(&text);
    assert_eq!(code, 0, "a reference to a missing Secret is only a warning");
    let w = diags
        .iter()
        .find(|d| d["severity"] == "warning")
        .expect("a warning about the missing Secret");
    assert_eq!(w["field"], "spec.apiKeySecret");
    assert!(
        w["message"]
            .as_str()
            .unwrap()
            .contains("Secret/policies/kagent-anthropic"),
        "{w}"
    );

    let out = validate_stdin(&text, &["--strict"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "--strict turns warnings into failures"
    );
}

#[test]
fn unknown_kind_json_input_and_list_kinds() {
    let (code, diags) =
        diagnostics("apiVersion: kagent.dev/v1alpha2\nkind: Agnet\nmetadata: {name: a}\n");
    assert_eq!(code, 1);
    assert!(
        only_error(&diags)["hint"]
            .as_str()
            .unwrap()
            .contains("did you mean Agent?")
    );

    let json = r#"{"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "policies"}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "a", "namespace": "policies"}}
    ]}"#;
    let (code, diags) = diagnostics(json);
    assert_eq!(code, 0, "{diags:#?}");
    assert!(diags.is_empty(), "{diags:#?}");
}

#[test]
fn yaml_syntax_errors_and_missing_files() {
    let (code, diags) =
        diagnostics("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: [unclosed\n");
    assert_eq!(code, 1);
    assert!(
        only_error(&diags)["message"]
            .as_str()
            .unwrap()
            .contains("invalid YAML")
    );

    let out = validate(&["-f", "/nonexistent/palisade.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("/nonexistent/palisade.yaml"),
        "{}",
        stdout(&out)
    );
}
