//! The seed's kubectl commands with `kubectl` replaced by `palisade`, run
//! literally against a running Palisade (SEED-CASES S10, S2, S4): outputs and
//! exit codes compared with kubectl's.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use palisade_testkit::mock_llm::MockLlm;
use palisade_testkit::{Palisade, TempDir};

fn seed_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/seed")
        .join(name);
    std::fs::read_to_string(path).unwrap()
}

/// `palisade ARGS` with `stdin`, finding the server through PALISADE_CONFIG
/// (as a user would after `export PALISADE_CONFIG=<state-dir>/admin.yaml`).
struct Cli {
    config: PathBuf,
}

impl Cli {
    fn for_server(palisade: &Palisade) -> Cli {
        Cli {
            config: palisade.state_dir().join("admin.yaml"),
        }
    }

    fn run(&self, line: &str, stdin: &str) -> Output {
        let args = line.split_whitespace();
        let mut child = Command::new(env!("CARGO_BIN_EXE_palisade"))
            .args(args)
            .env("PALISADE_CONFIG", &self.config)
            .env_remove("XDG_CONFIG_HOME")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs a command and returns (stdout, stderr, exit code).
fn sh(cli: &Cli, line: &str, stdin: &str) -> (String, String, i32) {
    let out = cli.run(line, stdin);
    (
        text(&out.stdout),
        text(&out.stderr),
        out.status.code().unwrap_or(-1),
    )
}

fn start(dir: &Path) -> Palisade {
    Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("--state-dir")
        .arg(dir)
        .start()
}

#[test]
fn s10_kubernetes_rbac_commands_work_with_palisade() {
    let dir = TempDir::new("seed-s10");
    let palisade = start(dir.path());
    let cli = Cli::for_server(&palisade);

    let (out, err, code) = sh(&cli, "create serviceaccount test-reader -n kagent", "");
    assert_eq!(
        (out.as_str(), code),
        ("serviceaccount/test-reader created\n", 0),
        "{err}"
    );

    // The seed's ClusterRole, ClusterRoleBinding and MCPServer, verbatim.
    let seed_rbac = seed_file("11-rbac-kagent-crd-viewer.yaml");
    let seed_mcp = seed_file("12-mcpserver-test-reader-only.yaml");
    let (out, err, code) = sh(&cli, "apply -f -", &seed_rbac);
    assert_eq!(
        (out.as_str(), code),
        (
            "clusterrole.rbac.authorization.k8s.io/kagent-crd-viewer created\nclusterrolebinding.rbac.authorization.k8s.io/kagent-viewer-binding created\n",
            0
        ),
        "{err}"
    );
    // Applying again changes nothing.
    let (out, _, code) = sh(&cli, "apply -f -", &seed_rbac);
    assert_eq!(
        (out.as_str(), code),
        (
            "clusterrole.rbac.authorization.k8s.io/kagent-crd-viewer unchanged\nclusterrolebinding.rbac.authorization.k8s.io/kagent-viewer-binding unchanged\n",
            0
        )
    );

    let (out, err, code) = sh(
        &cli,
        "auth can-i get mcpservers.kagent.dev --as=system:serviceaccount:kagent:test-reader",
        "",
    );
    assert_eq!((out.as_str(), code), ("yes\n", 0), "{err}");
    let (out, err, code) = sh(
        &cli,
        "auth can-i create mcpservers.kagent.dev --as=system:serviceaccount:kagent:test-reader",
        "",
    );
    assert_eq!(
        (out.trim_end().starts_with("no"), code),
        (true, 1),
        "{out}{err}"
    );

    // The seed writes `kubectl apply -f - <<EOF --as=...`: the flag follows the heredoc marker.
    let (out, err, code) = sh(
        &cli,
        "apply -f - --as=system:serviceaccount:kagent:test-reader",
        &seed_mcp,
    );
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(out, "");
    assert_eq!(
        err,
        "Error from server (Forbidden): error when creating \"STDIN\": mcpservers.kagent.dev is forbidden: User \"system:serviceaccount:kagent:test-reader\" cannot create resource \"mcpservers\" in API group \"kagent.dev\" in the namespace \"kagent\"\n"
    );
    // Nothing was created.
    let (out, err, code) = sh(&cli, "get mcpservers -n kagent", "");
    assert_eq!((out.as_str(), code), ("", 0));
    assert_eq!(err, "No resources found in kagent namespace.\n");
    // The reader may list them, though (short name and all namespaces).
    let (_, err, code) = sh(
        &cli,
        "get mcps -A --as=system:serviceaccount:kagent:test-reader",
        "",
    );
    assert_eq!(code, 0, "{err}");
    // And the refusal is in the audit log.
    let (out, err, code) = sh(
        &cli,
        "audit --principal system:serviceaccount:kagent:test-reader --outcome denied",
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("mcpservers") || out.contains("MCPServer"),
        "{out}"
    );
}

#[test]
fn s2_label_namespace_and_s4_secret_never_printed_but_used_upstream() {
    let dir = TempDir::new("seed-s2-s4");
    let palisade = start(dir.path());
    let cli = Cli::for_server(&palisade);

    // S2: the seed's first command, on a fresh Palisade.
    let (out, err, code) = sh(
        &cli,
        "label namespaces policies istio.io/dataplane-mode=ambient",
        "",
    );
    assert_eq!(
        (out.as_str(), code),
        ("namespace/policies labeled\n", 0),
        "{err}"
    );
    let (out, _, _) = sh(&cli, "get namespace policies -o json", "");
    let ns: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        ns["metadata"]["labels"]["istio.io/dataplane-mode"],
        "ambient"
    );
    let (out, err, code) = sh(
        &cli,
        "label namespaces policies istio.io/dataplane-mode=sidecar",
        "",
    );
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("--overwrite is false"), "{err}");

    // S4: the secret and the ModelConfig, as the seed creates them.
    let key = "sk-ant-seed-s4-never-printed";
    let (out, err, code) = sh(
        &cli,
        &format!(
            "create secret generic kagent-anthropic --from-literal=ANTHROPIC_API_KEY={key} -n policies"
        ),
        "",
    );
    assert_eq!(
        (out.as_str(), code),
        ("secret/kagent-anthropic created\n", 0),
        "{err}"
    );
    let (out, err, code) = sh(
        &cli,
        "apply -f -",
        &seed_file("04-modelconfig-anthropic.yaml"),
    );
    assert_eq!(
        (out.as_str(), code),
        ("modelconfig.kagent.dev/anthropic-model-config created\n", 0),
        "{err}"
    );
    for output in ["yaml", "json", "wide"] {
        let (out, err, code) = sh(
            &cli,
            &format!("get secret kagent-anthropic -n policies -o {output}"),
            "",
        );
        assert_eq!(code, 0, "{err}");
        assert!(out.contains("kagent-anthropic"), "{out}");
        assert!(
            !out.contains(key) && !out.contains("c2stYW50"),
            "-o {output} printed the key: {out}"
        );
    }

    // An LLM call through a route to the ModelConfig carries the key upstream.
    let mock = MockLlm::start();
    let route = format!(
        r#"apiVersion: kagent.dev/v1alpha2
kind: ModelConfig
metadata:
  name: anthropic-model-config
  namespace: policies
spec:
  apiKeySecret: kagent-anthropic
  apiKeySecretKey: ANTHROPIC_API_KEY
  model: claude-sonnet-4-20250514
  provider: Anthropic
  anthropic:
    baseUrl: {base}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: claude
  namespace: policies
spec:
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /claude}}}}]
    backendRefs: [{{group: kagent.dev, kind: ModelConfig, name: anthropic-model-config}}]
"#,
        base = mock.url()
    );
    let (out, err, code) = sh(&cli, "apply -f -", &route);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("modelconfig.kagent.dev/anthropic-model-config configured"),
        "{out}"
    );
    assert!(
        out.contains("httproute.gateway.networking.k8s.io/claude created"),
        "{out}"
    );
    let out = Command::new("curl")
        .args(["-sS", "-H", "content-type: application/json", "-d"])
        .arg(r#"{"messages":[{"role":"user","content":"hello"}]}"#)
        .arg(format!("{}/claude", palisade.listen_url()))
        .output()
        .unwrap();
    assert!(
        text(&out.stdout).contains("chat.completion"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(mock.last_request().unwrap().header("x-api-key"), Some(key));
    assert!(!palisade.logs().contains(key), "the key reached the log");
}
