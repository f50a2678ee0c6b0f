//! MCP authorization (`backend.mcp.authorization`) after JWT authentication,
//! with the official Python MCP SDK through an HTTPRoute to server-everything:
//! a caller's `tools/list` holds exactly the tools its claims allow, a call
//! of any other tool is refused exactly as an unknown tool would be, and the
//! rules see `jwt` claims (bracket access included) and `mcp.tool.name`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use palisade_identity::{JwkSet, Signer};
use palisade_testkit::helpers::start_listening;
use palisade_testkit::{Palisade, TempDir, free_port, peers};
use serde_json::{Map, Value, json};

const ISSUER: &str = "https://idp.test/";

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

struct Everything(Child);

impl Drop for Everything {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn everything(port: u16) -> Everything {
    let mut cmd = Command::new("node");
    cmd.arg(peers::node_package("@modelcontextprotocol/server-everything").join("dist/index.js"))
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Everything(start_listening(cmd, port))
}

fn token(signer: &Signer, extra: Value) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut claims: Map<String, Value> = json!({
        "iss": ISSUER, "aud": "mcp", "sub": "someone", "iat": now, "exp": now + 600,
    })
    .as_object()
    .unwrap()
    .clone();
    claims.extend(extra.as_object().unwrap().clone());
    signer.sign(&claims).unwrap()
}

fn probe(url: &str, bearer: &str, calls: &[&str]) -> Value {
    let mut cmd = Command::new(peers::python());
    cmd.arg(repo_file("tests/clients/mcp_probe.py"))
        .arg(url)
        .args(["--mode", "legacy", "--bearer", bearer]);
    for call in calls {
        cmd.args(["--call", call]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "probe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn tools_are_listed_and_callable_only_as_the_rules_allow() {
    let port = free_port();
    let _server = everything(port);
    let signer = Signer::generate().unwrap();
    let jwks = serde_json::to_string(&JwkSet {
        keys: vec![signer.public_jwk().clone()],
    })
    .unwrap();
    let dir = TempDir::new("mcp-authz");
    let manifest = format!(
        r#"apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayBackend
metadata: {{name: everything, namespace: default}}
spec:
  mcp:
    targets:
    - name: everything
      static: {{host: 127.0.0.1, port: {port}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: mcp, namespace: default}}
spec:
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /mcp}}}}]
    backendRefs: [{{group: agentgateway.dev, kind: AgentgatewayBackend, name: everything}}]
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata: {{name: mcp-rules, namespace: default}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: mcp}}]
  traffic:
    cors:
      allowOrigins: ["*"]
      allowMethods: [GET, POST, OPTIONS]
      allowHeaders: ["*"]
      exposeHeaders: ["*"]
      maxAge: 86400
    jwtAuthentication:
      providers:
      - issuer: "{ISSUER}"
        audiences: [mcp]
        jwks: {{inline: '{jwks}'}}
  backend:
    mcp:
      authorization:
        action: Allow
        policy:
          matchExpressions:
          - 'mcp.tool.name == "echo"'
          - 'mcp.tool.name == "get-sum" && jwt.scope.contains("math")'
          - 'mcp.tool.name == "get-env" && jwt["https://mcp-demo/roles"].contains("admin")'
          - 'mcp.tool.name == "get-tiny-image" && source.address == "127.0.0.1" && request.method == "POST"'
          - 'mcp.tool.name == "get-structured-content" && agent.name == "nobody-here"'
"#
    );
    let path = dir.path().join("mcp.yaml");
    std::fs::write(&path, manifest).unwrap();
    let palisade = Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("-f")
        .arg(&path)
        .start();
    let url = format!("{}/mcp", palisade.listen_url());

    // Without a token: 401 with the MCP authorization challenge (RFC 9728
    // metadata URL, scope hint), CORS headers included for browser clients.
    let out = Command::new("curl")
        .args(["-s", "-D", "-", "-o", "/dev/null", "-X", "POST", &url])
        .args([
            "-H",
            "content-type: application/json",
            "-H",
            "origin: http://localhost:6274",
            "-d",
            "{}",
        ])
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 401"), "{head}");
    let metadata_url = format!(
        "{}/.well-known/oauth-protected-resource/mcp",
        palisade.listen_url()
    );
    assert!(
        head.contains(&format!("www-authenticate: bearer realm=\"palisade\", resource_metadata=\"{metadata_url}\", scope=\"math\"")),
        "{head}"
    );
    assert!(head.contains("access-control-allow-origin: *"), "{head}");
    // The metadata, per path and at the root.
    for at in [
        metadata_url.clone(),
        format!(
            "{}/.well-known/oauth-protected-resource",
            palisade.listen_url()
        ),
    ] {
        let out = Command::new("curl").args(["-sS", &at]).output().unwrap();
        let metadata: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stdout)));
        assert_eq!(
            metadata["resource"],
            format!("{}/mcp", palisade.listen_url()),
            "{metadata}"
        );
        assert_eq!(metadata["authorization_servers"], json!([ISSUER]));
        assert_eq!(metadata["scopes_supported"], json!(["math"]));
        assert_eq!(metadata["bearer_methods_supported"], json!(["header"]));
    }
    // A CORS preflight is answered as configured, without a token.
    let out = Command::new("curl")
        .args(["-s", "-D", "-", "-o", "/dev/null", "-X", "OPTIONS", &url])
        .args([
            "-H",
            "origin: http://localhost:6274",
            "-H",
            "access-control-request-method: POST",
        ])
        .args([
            "-H",
            "access-control-request-headers: authorization, mcp-protocol-version",
        ])
        .output()
        .unwrap();
    let head = String::from_utf8_lossy(&out.stdout).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    for expected in [
        "access-control-allow-origin: *",
        "access-control-allow-methods: get, post, options",
        "access-control-allow-headers: authorization, mcp-protocol-version",
        "access-control-max-age: 86400",
    ] {
        assert!(head.contains(expected), "{expected} missing: {head}");
    }

    // A plain caller: echo only.
    let plain = probe(
        &url,
        &token(&signer, json!({})),
        &[
            r#"echo={"message":"hi"}"#,
            r#"get-sum={"a":1,"b":2}"#,
            r#"no-such-tool={}"#,
        ],
    );
    assert_eq!(plain["tools"], json!(["echo", "get-tiny-image"]), "{plain}");
    assert_eq!(plain["calls"]["echo"]["text"][0], "Echo: hi");
    let refused = plain["calls"]["get-sum"]["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{plain}"));
    assert!(refused.contains("Unknown tool: get-sum"), "{refused}");
    // A denied tool is refused like one that does not exist (server-everything
    // words its own unknown-tool error; the point is no result comes back).
    assert!(
        plain["calls"]["no-such-tool"]["error"].is_string(),
        "{plain}"
    );

    // Every decision on a tool is audited, allowed ones with the rule that
    // allowed them.
    let out = Command::new(env!("CARGO_BIN_EXE_palisade"))
        .args(["audit", "--outcome", "allowed", "-o", "json"])
        .env("PALISADE_CONFIG", palisade.state_dir().join("admin.yaml"))
        .output()
        .unwrap();
    let allowed = String::from_utf8_lossy(&out.stdout);
    assert!(
        allowed.contains(
            "Allow rule AgentgatewayPolicy/default/mcp-rules matchExpressions[0] matched"
        ),
        "{allowed} {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Scopes and namespaced role claims open more tools.
    let math = probe(
        &url,
        &token(&signer, json!({"scope": "math files:read"})),
        &[r#"get-sum={"a":1,"b":2}"#],
    );
    assert_eq!(
        math["tools"],
        json!(["echo", "get-sum", "get-tiny-image"]),
        "{math}"
    );
    assert_eq!(
        math["calls"]["get-sum"]["text"][0],
        "The sum of 1 and 2 is 3."
    );
    let admin = probe(
        &url,
        &token(
            &signer,
            json!({"scope": "math", "https://mcp-demo/roles": ["admin"]}),
        ),
        &[],
    );
    assert_eq!(
        admin["tools"],
        json!(["echo", "get-env", "get-sum", "get-tiny-image"]),
        "{admin}"
    );
    // A session belongs to whoever opened it: another caller's token cannot use it.
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}}});
    let post = |token: &str, session: Option<&str>, body: &Value| {
        let mut cmd = Command::new("curl");
        cmd.args(["-s", "-D", "-", "-X", "POST", &url])
            .args(["-H", "content-type: application/json"])
            .args(["-H", "accept: application/json, text/event-stream"])
            .args(["-H", &format!("authorization: Bearer {token}")])
            .args(["-H", "mcp-protocol-version: 2025-06-18"]);
        if let Some(session) = session {
            cmd.args(["-H", &format!("mcp-session-id: {session}")]);
        }
        let out = cmd.args(["-d", &body.to_string()]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let alice = token(&signer, json!({"sub": "alice", "scope": "math"}));
    let mallory = token(&signer, json!({"sub": "mallory"}));
    let head = post(&alice, None, &init);
    let session = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("mcp-session-id: ")
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no session: {head}"));
    let list = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"});
    assert!(post(&alice, Some(&session), &list).starts_with("HTTP/1.1 200"));
    let stolen = post(&mallory, Some(&session), &list);
    assert!(stolen.starts_with("HTTP/1.1 404"), "{stolen}");

    // A claim of the wrong type makes the rule false, not an error.
    let odd = probe(&url, &token(&signer, json!({"scope": 42})), &[]);
    assert_eq!(odd["tools"], json!(["echo", "get-tiny-image"]), "{odd}");
}
