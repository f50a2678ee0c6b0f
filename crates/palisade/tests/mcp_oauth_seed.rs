//! SEED-CASES S9: the seed's MCP OAuth policy (`mcp-oauth-policy`, an
//! `EnterpriseAgentgatewayPolicy` on Gateway `mcp-gateway`) end to end.
//!
//! A real OAuth authorization server (`tests/clients/oidc_idp.mjs`, the
//! `oidc-provider` npm package, playing Auth0) issues RS256 JWT access tokens
//! for the API `https://mcp-demo/api` by the client-credentials grant; each
//! client is a persona with its own `scope` and namespaced
//! `https://mcp-demo/roles` claim. Its keys are fetched through the seed's
//! `auth0-jwks` Service at Auth0's JWKS path. A Python MCP server (the
//! official SDK, `tests/clients/oauth_tools_server.py`) offers the five tools
//! the policy's rules name, behind an `AgentgatewayBackend` and an HTTPRoute
//! on the Gateway's listener, and the official Python SDK
//! (`tests/clients/mcp_probe.py`) lists and calls them with each persona's
//! token.
//!
//! Two variants of the policy:
//! - the seed's file verbatim, only its placeholders filled (issuer, API
//!   identifier, the Service port): its link artefacts
//!   (`jwt["<https://mcp-demo/roles"]`, `.contains("admin>")`) make the
//!   `delete_file` and `system_status` rules unmatchable, so nobody gets those
//!   two tools, admins included;
//! - the same with those two expressions repaired to the intended
//!   `jwt["https://mcp-demo/roles"].contains("admin")`.
//!
//! Each also checks what the MCP Inspector relies on: the 401 challenge with
//! `resource_metadata`, the RFC 9728 document naming the IdP, and the CORS
//! preflight as the seed configures it.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use palisade_testkit::helpers::start_listening;
use palisade_testkit::idp::TestIdp;
use palisade_testkit::{Palisade, TempDir, free_port, peers};
use serde_json::{Value, json};

/// The API identifier (Auth0's `${API_IDENTIFIER}`): the resource indicator
/// the IdP issues tokens for, and their audience.
const API_IDENTIFIER: &str = "https://mcp-demo/api";
/// Every scope the API defines; each persona is granted its own share.
const API_SCOPES: &str = "files:read files:delete";
/// The Gateway the seed's policy targets.
const GATEWAY_NS: &str = "agentgateway-system";

/// The tools of `oauth_tools_server.py`, each with the arguments the test
/// calls it with and the text it answers.
const TOOLS: [(&str, &str, &str); 5] = [
    ("echo", r#"{"message":"hello"}"#, "echo: hello"),
    (
        "get_user_info",
        "{}",
        // The caller's token is not forwarded to the MCP server.
        "user info: no Authorization header reached the server",
    ),
    ("list_files", "{}", "files: report.txt, notes.md"),
    (
        "delete_file",
        r#"{"path":"/srv/old.txt"}"#,
        "deleted: /srv/old.txt",
    ),
    ("system_status", "{}", "system status: all systems nominal"),
];

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// The test IdP, with its MCP API personas.
struct Idp(TestIdp);

impl Idp {
    fn start(dir: &Path) -> Idp {
        Idp(TestIdp::start(dir, "idp"))
    }

    /// A persona's access token for the MCP API: it asks for every scope the
    /// API defines, as an MCP client would, and gets its own share.
    fn token(&self, persona: &str) -> String {
        self.0.token(persona, API_IDENTIFIER, API_SCOPES)
    }
}

impl std::ops::Deref for Idp {
    type Target = TestIdp;

    fn deref(&self) -> &TestIdp {
        &self.0
    }
}

/// `tests/clients/oauth_tools_server.py`; killed on drop.
struct ToolsServer {
    child: Child,
    port: u16,
}

impl ToolsServer {
    fn start(dir: &Path) -> ToolsServer {
        let port = free_port();
        let log = File::create(dir.join("tools.log")).unwrap();
        let mut cmd = Command::new(peers::python());
        cmd.arg(repo_file("tests/clients/oauth_tools_server.py"))
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        ToolsServer {
            child: start_listening(cmd, port),
            port,
        }
    }
}

impl Drop for ToolsServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The claims of a JWT (unverified), for failure messages and checks of
/// what the IdP issued.
fn claims(token: &str) -> Value {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).expect("a JWS has a payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// The seed's policy file with the placeholders a user fills in: the
/// issuer and API identifier of their tenant, and the JWKS Service's port.
/// With `repaired`, the two link-artefact expressions are corrected too.
fn seed_policy(idp: &Idp, repaired: bool) -> String {
    let seed =
        std::fs::read_to_string(repo_file("examples/seed/08-mcp-oauth-policy.yaml")).unwrap();
    let fill = |text: String, from: &str, to: &str, times: usize| {
        assert_eq!(
            text.matches(from).count(),
            times,
            "the seed's policy changed: {from:?} should occur {times} time(s):\n{text}"
        );
        text.replace(from, to)
    };
    let mut policy = fill(
        seed,
        r#"- issuer: "<https://$>{AUTH0_DOMAIN}/""#,
        &format!(r#"- issuer: "{}""#, idp.issuer),
        1,
    );
    policy = fill(
        policy,
        r#"- "${API_IDENTIFIER}""#,
        &format!(r#"- "{API_IDENTIFIER}""#),
        1,
    );
    // Auth0's JWKS path, which the test IdP serves too: kept as written.
    let jwks_path = r#"jwksPath: ".well-known/jwks.json""#;
    policy = fill(policy, jwks_path, jwks_path, 1);
    policy = fill(
        policy,
        "name: auth0-jwks\n                namespace: agentgateway-system\n                port: 8443\n",
        &format!(
            "name: auth0-jwks\n                namespace: agentgateway-system\n                port: {}\n",
            idp.port
        ),
        1,
    );
    if repaired {
        policy = fill(
            policy,
            r#"jwt["<https://mcp-demo/roles"].contains("admin>")"#,
            r#"jwt["https://mcp-demo/roles"].contains("admin")"#,
            2,
        );
    }
    policy
}

/// The Gateway, its route to the tools server, and the JWKS Service, as the
/// user of the seed would have them.
fn infrastructure(gateway_port: u16, tools: &ToolsServer, idp: &Idp) -> String {
    format!(
        r#"apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: mcp-gateway, namespace: {GATEWAY_NS}}}
spec:
  gatewayClassName: enterprise-agentgateway
  listeners:
  - {{name: http, port: {gateway_port}, protocol: HTTP}}
---
apiVersion: v1
kind: Service
metadata: {{name: auth0-jwks, namespace: {GATEWAY_NS}}}
spec:
  type: ExternalName
  externalName: 127.0.0.1
  ports: [{{port: {idp_port}}}]
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayBackend
metadata: {{name: oauth-tools, namespace: {GATEWAY_NS}}}
spec:
  mcp:
    targets:
    - name: tools
      static: {{host: 127.0.0.1, port: {tools_port}, path: /mcp}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: mcp, namespace: {GATEWAY_NS}}}
spec:
  parentRefs: [{{name: mcp-gateway}}]
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /mcp}}}}]
    backendRefs: [{{group: agentgateway.dev, kind: AgentgatewayBackend, name: oauth-tools}}]
"#,
        idp_port = idp.port,
        tools_port = tools.port,
    )
}

/// Everything S9 needs, running: IdP, tools server, Palisade with the policy.
struct Setup {
    idp: Idp,
    _tools: ToolsServer,
    palisade: Palisade,
    gateway_port: u16,
    /// The Gateway listener's origin, `http://127.0.0.1:PORT`.
    origin: String,
    _dir: TempDir,
}

impl Setup {
    fn start(repaired: bool) -> Setup {
        let dir = TempDir::new("mcp-oauth-seed");
        let idp = Idp::start(dir.path());
        let tools = ToolsServer::start(dir.path());
        let gateway_port = free_port();
        let infra = dir.write(
            "infrastructure.yaml",
            infrastructure(gateway_port, &tools, &idp),
        );
        let policy = dir.write("policy.yaml", seed_policy(&idp, repaired));
        let palisade = Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
            .args(["--listen", "none", "-f"])
            .arg(infra)
            .arg("-f")
            .arg(policy)
            .start();
        Setup {
            idp,
            _tools: tools,
            palisade,
            gateway_port,
            origin: format!("http://127.0.0.1:{gateway_port}"),
            _dir: dir,
        }
    }

    fn url(&self) -> String {
        format!("{}/mcp", self.origin)
    }

    /// What `persona` sees through the official Python SDK: its tools/list
    /// and the answer to a call of each of the five tools.
    fn probe(&self, persona: &str, mode: &str) -> Value {
        let token = self.idp.token(persona);
        let mut cmd = Command::new(peers::python());
        cmd.arg(repo_file("tests/clients/mcp_probe.py"))
            .arg(self.url())
            .args(["--mode", mode, "--bearer", &token]);
        for (name, args, _) in TOOLS {
            cmd.args(["--call", &format!("{name}={args}")]);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "the probe failed for {persona} ({}):\n{}\nPalisade log:\n{}",
            claims(&token),
            String::from_utf8_lossy(&out.stderr),
            self.palisade.logs()
        );
        let mut report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
            panic!(
                "the probe printed no JSON: {}",
                String::from_utf8_lossy(&out.stdout)
            )
        });
        report["claims"] = claims(&token);
        report
    }

    /// `persona` sees exactly `allowed` in its tools/list, its calls of those
    /// are answered by the server, and its calls of the others are refused
    /// as unknown tools.
    /// Both with the handshake revisions (`legacy`: 2025-11-25 with
    /// sessions) and the SDK's newest (`auto`: stateless 2026-07-28).
    fn expect_tools(&self, persona: &str, allowed: &[&str]) {
        let mut revisions = Vec::new();
        for mode in ["legacy", "auto"] {
            let report = self.probe(persona, mode);
            revisions.push(report["protocol_version"].clone());
            let mut expected: Vec<&str> = allowed.to_vec();
            expected.sort_unstable();
            assert_eq!(
                report["tools"],
                json!(expected),
                "{persona}'s tools/list ({mode}): {report}"
            );
            for (name, _, text) in TOOLS {
                let call = &report["calls"][name];
                if allowed.contains(&name) {
                    assert_eq!(
                        call,
                        &json!({"text": [text], "is_error": false}),
                        "{persona} may call {name} ({mode}): {report}"
                    );
                } else {
                    let refusal = call["error"].as_str().unwrap_or_else(|| {
                        panic!("{persona}'s call of {name} was not refused ({mode}): {report}")
                    });
                    assert!(
                        refusal.contains(&format!("Unknown tool: {name}")),
                        "{persona}'s call of {name} ({mode}) is refused as an unknown tool: {report}"
                    );
                }
            }
        }
        assert_ne!(
            revisions[0], revisions[1],
            "the two modes should speak different MCP revisions"
        );
    }

    /// The checks that do not depend on the rules' outcome: the tokens the
    /// IdP issues, the 401 challenge, the RFC 9728 metadata, CORS, /config,
    /// and tokens Palisade must refuse.
    fn expect_resource_server(&self) {
        // The personas' tokens carry what the rules read.
        let roles = "https://mcp-demo/roles";
        for (persona, scope, admin) in [
            ("mcp-plain", None, false),
            ("mcp-reader", Some("files:read"), false),
            ("mcp-admin-deleter", Some("files:read files:delete"), true),
            ("mcp-admin", None, true),
        ] {
            let c = claims(&self.idp.token(persona));
            assert_eq!(c["iss"], self.idp.issuer, "{persona}: {c}");
            assert_eq!(c["aud"], API_IDENTIFIER, "{persona}: {c}");
            assert_eq!(c["scope"].as_str(), scope, "{persona}: {c}");
            assert_eq!(
                c[roles] == json!(["admin"]),
                admin,
                "{persona}'s roles: {c}"
            );
        }

        let metadata_url = format!("{}/.well-known/oauth-protected-resource/mcp", self.origin);
        let browser = "http://localhost:6274";
        // No token: 401 with the MCP authorization challenge, readable by a
        // browser client (CORS headers on the refusal too).
        let head = curl_head(&[
            "-X",
            "POST",
            &self.url(),
            "-H",
            "content-type: application/json",
            "-H",
            "accept: application/json, text/event-stream",
            "-H",
            &format!("origin: {browser}"),
            "-d",
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}"#,
        ]);
        assert!(head.starts_with("http/1.1 401"), "{head}");
        let challenge = header(&head, "www-authenticate")
            .unwrap_or_else(|| panic!("no WWW-Authenticate: {head}"));
        assert!(
            challenge.starts_with(&format!(
                "bearer realm=\"palisade\", resource_metadata=\"{metadata_url}\""
            )),
            "{head}"
        );
        // The scope hint names the scopes the rules ask for.
        let hint = challenge
            .split_once("scope=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(scopes, _)| scopes.split(' ').collect::<Vec<_>>())
            .unwrap_or_else(|| panic!("no scope hint: {head}"));
        assert!(
            hint.contains(&"files:read") && hint.contains(&"files:delete"),
            "{head}"
        );
        assert_eq!(
            header(&head, "access-control-allow-origin").as_deref(),
            Some("*"),
            "{head}"
        );
        assert!(
            header(&head, "access-control-expose-headers").is_some(),
            "the challenge must be readable by a browser: {head}"
        );

        // The RFC 9728 document the challenge points to names the IdP.
        let (status, body) = curl_body(&metadata_url, &[]);
        assert_eq!(status, 200, "{metadata_url}: {body}");
        let metadata: Value =
            serde_json::from_str(&body).unwrap_or_else(|_| panic!("{metadata_url}: {body}"));
        assert_eq!(metadata["resource"], self.url(), "{metadata}");
        assert_eq!(
            metadata["authorization_servers"],
            json!([self.idp.issuer]),
            "{metadata}"
        );
        assert_eq!(
            metadata["bearer_methods_supported"],
            json!(["header"]),
            "{metadata}"
        );
        let scopes = metadata["scopes_supported"].as_array().cloned();
        for scope in ["files:read", "files:delete"] {
            assert!(
                scopes.as_ref().is_some_and(|s| s.contains(&json!(scope))),
                "scopes_supported should name {scope}: {metadata}"
            );
        }

        // The CORS preflight, answered without a token as the seed configures.
        let head = curl_head(&[
            "-X",
            "OPTIONS",
            &self.url(),
            "-H",
            &format!("origin: {browser}"),
            "-H",
            "access-control-request-method: POST",
            "-H",
            "access-control-request-headers: authorization, content-type, mcp-protocol-version",
        ]);
        assert!(
            head.starts_with("http/1.1 200") || head.starts_with("http/1.1 204"),
            "{head}"
        );
        assert_eq!(
            header(&head, "access-control-allow-origin").as_deref(),
            Some("*"),
            "{head}"
        );
        assert_eq!(
            header(&head, "access-control-allow-methods").as_deref(),
            Some("get, post, options"),
            "{head}"
        );
        assert_eq!(
            header(&head, "access-control-max-age").as_deref(),
            Some("86400"),
            "{head}"
        );
        // `allowHeaders: ["*"]`: a literal `*` does not cover Authorization
        // (Fetch standard), so the requested headers must be allowed by name.
        let allowed = header(&head, "access-control-allow-headers")
            .unwrap_or_else(|| panic!("no Access-Control-Allow-Headers: {head}"));
        assert!(
            allowed.contains("authorization") && allowed.contains("mcp-protocol-version"),
            "{head}"
        );

        // Tokens Palisade must refuse: another API's (same issuer), and junk.
        let other = self
            .idp
            .grant("alice-admins", "urn:palisade:admin-api", "palisade");
        let other = other["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("{other}"));
        for (what, token) in [("another audience", other), ("not a JWT", "junk")] {
            let head = curl_head(&[
                "-X",
                "POST",
                &self.url(),
                "-H",
                "content-type: application/json",
                "-H",
                &format!("authorization: Bearer {token}"),
                "-d",
                "{}",
            ]);
            assert!(head.starts_with("http/1.1 401"), "{what}: {head}");
        }

        // The admin listener shows the route, served (not 503).
        let (status, config) = curl_body(&format!("{}/config", self.palisade.admin_url()), &[]);
        assert_eq!(status, 200, "/config: {config}");
        let config: Value = serde_json::from_str(&config).unwrap_or_else(|_| panic!("{config}"));
        let listener = format!("127.0.0.1:{}", self.gateway_port);
        let rules = config["sockets"][&listener]["rules"]
            .as_array()
            .unwrap_or_else(|| panic!("/config has no rules on {listener}: {config:#}"));
        let route = rules
            .iter()
            .find(|r| r["id"]["namespace"] == GATEWAY_NS && r["id"]["name"] == "mcp")
            .unwrap_or_else(|| panic!("/config should show the route on {listener}: {config:#}"));
        let action = &route["action"];
        assert!(
            action["unavailable"].is_null(),
            "the route must be served, not answer 503: {route:#}"
        );
        let policy = format!("EnterpriseAgentgatewayPolicy/{GATEWAY_NS}/mcp-oauth-policy");
        assert_eq!(action["policies"]["jwtAuthentication"], policy, "{route:#}");
        assert_eq!(
            action["policies"]["mcpAuthorization"],
            serde_json::json!([policy]),
            "{route:#}"
        );
        assert!(
            action["backends"]
                .to_string()
                .contains(&format!("AgentgatewayBackend/{GATEWAY_NS}/oauth-tools")),
            "{route:#}"
        );
    }
}

/// The response head of `curl ARGS` (lowercased).
fn curl_head(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "-D", "-", "-o", "/dev/null"])
        .args(args)
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_ascii_lowercase()
}

/// The value of the header `name` in a lowercased response head.
fn header(head: &str, name: &str) -> Option<String> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == name).then(|| value.trim().to_string())
    })
}

/// `GET url`: status and body.
fn curl_body(url: &str, args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "-w", "\n%{http_code}"])
        .args(args)
        .arg(url)
        .output()
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or_else(|| {
        panic!(
            "GET {url}: no answer ({})",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (status.trim().parse().unwrap(), body.to_string())
}

#[test]
fn the_seed_policy_as_published_denies_its_link_artefact_rules() {
    let s = Setup::start(false);
    s.expect_resource_server();
    let public = ["echo", "get_user_info"];
    s.expect_tools("mcp-plain", &public);
    s.expect_tools("mcp-reader", &["echo", "get_user_info", "list_files"]);
    // `jwt["<https://mcp-demo/roles"]` names no claim and "admin>" no role:
    // delete_file and system_status stay hidden, even from admins.
    s.expect_tools(
        "mcp-admin-deleter",
        &["echo", "get_user_info", "list_files"],
    );
    s.expect_tools("mcp-admin", &public);
}

#[test]
fn the_repaired_seed_policy_gives_admins_their_tools() {
    let s = Setup::start(true);
    s.expect_resource_server();
    let public = ["echo", "get_user_info"];
    s.expect_tools("mcp-plain", &public);
    s.expect_tools("mcp-reader", &["echo", "get_user_info", "list_files"]);
    s.expect_tools(
        "mcp-admin-deleter",
        &[
            "echo",
            "get_user_info",
            "list_files",
            "delete_file",
            "system_status",
        ],
    );
    // The admin role without files:delete: system_status only.
    s.expect_tools("mcp-admin", &["echo", "get_user_info", "system_status"]);
}

/// The MCP Inspector and the TypeScript SDK discover the authorization
/// server from the browser: `fetch` of the RFC 9728 document (with an
/// `MCP-Protocol-Version` header, so preflighted, then retried without it).
/// Without CORS headers on that document the browser hides it, and the SDK
/// falls back to the Gateway's own origin as the authorization server.
#[test]
fn the_protected_resource_metadata_is_readable_from_a_browser() {
    let s = Setup::start(false);
    let metadata_url = format!("{}/.well-known/oauth-protected-resource/mcp", s.origin);
    let origin = "origin: http://localhost:6274";
    let head = curl_head(&["-H", origin, &metadata_url]);
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert_eq!(
        header(&head, "access-control-allow-origin").as_deref(),
        Some("*"),
        "GET {metadata_url} from a browser origin: {head}"
    );
    let head = curl_head(&[
        "-X",
        "OPTIONS",
        "-H",
        origin,
        "-H",
        "access-control-request-method: GET",
        "-H",
        "access-control-request-headers: mcp-protocol-version",
        &metadata_url,
    ]);
    assert!(
        head.starts_with("http/1.1 200") || head.starts_with("http/1.1 204"),
        "{head}"
    );
    assert_eq!(
        header(&head, "access-control-allow-origin").as_deref(),
        Some("*"),
        "the preflight of {metadata_url}: {head}"
    );
    assert!(
        header(&head, "access-control-allow-headers")
            .is_some_and(|h| h.contains("mcp-protocol-version")),
        "the preflight of {metadata_url}: {head}"
    );
}
