//! Route-level zero trust beyond the JWT security suite: HTTP authorization
//! rules (`traffic.authorization`) pooled from several policies, Palisade's
//! own service-account tokens on HTTPRoutes, JWT providers found by OIDC
//! discovery or read from a file, tokens in a query parameter, the
//! clock-skew and required-claims annotations, AccessPolicies on a
//! ModelConfig, and every policy's status in `/config`.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use palisade_identity::{JwkSet, Signer};
use palisade_testkit::helpers::HelperServer;
use palisade_testkit::mock_llm::MockLlm;
use palisade_testkit::upstream::Upstream;
use palisade_testkit::{Palisade, TempDir};
use serde_json::{Map, Value, json};

const ISSUER: &str = "https://idp.test/";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn token(signer: &Signer, extra: Value) -> String {
    let mut claims: Map<String, Value> = json!({
        "iss": ISSUER, "aud": "api", "sub": "alice", "iat": now(), "exp": now() + 600,
    })
    .as_object()
    .unwrap()
    .clone();
    for (k, v) in extra.as_object().unwrap() {
        match v {
            Value::Null => claims.remove(k),
            v => claims.insert(k.clone(), v.clone()),
        };
    }
    signer.sign(&claims).unwrap()
}

/// `curl URL` with extra arguments: (status, body).
fn curl(url: &str, args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-sS", "-w", "\n%{http_code}", url])
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, status) = text.rsplit_once('\n').unwrap_or(("", &text));
    (status.trim().parse().unwrap_or(0), body.to_string())
}

fn bearer(token: &str) -> String {
    format!("authorization: Bearer {token}")
}

/// A service account and a token for it.
fn account_token(palisade: &Palisade, name: &str) -> String {
    palisade.cli_ok(&["create", "serviceaccount", name, "-n", "default"]);
    palisade
        .cli_ok(&["create", "token", name, "-n", "default"])
        .trim()
        .to_string()
}

fn effective_config(palisade: &Palisade) -> Value {
    let (status, body) = curl(&format!("{}/config", palisade.admin_url()), &[]);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// The status `/config` shows for `policy` (`Kind/namespace/name`).
fn policy_status(config: &Value, policy: &str) -> Value {
    config["policies"]
        .as_array()
        .unwrap_or_else(|| panic!("/config has no policies: {config:#}"))
        .iter()
        .find(|p| p["policy"] == policy)
        .unwrap_or_else(|| panic!("/config has no status for {policy}: {config:#}"))
        .clone()
}

fn start(dir: &Path, manifest: &str) -> Palisade {
    let path = dir.join("config.yaml");
    std::fs::write(&path, manifest).unwrap();
    Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("-f")
        .arg(&path)
        .start()
}

#[test]
fn http_authorization_rules_pool_and_palisade_tokens_pass() {
    let upstream = Upstream::start();
    let signer = Signer::generate().unwrap();
    let jwks = serde_json::to_string(&JwkSet {
        keys: vec![signer.public_jwk().clone()],
    })
    .unwrap();
    let dir = TempDir::new("http-authz");
    let palisade = start(
        dir.path(),
        &format!(
            r#"apiVersion: v1
kind: Service
metadata: {{name: api, namespace: default}}
spec: {{type: ExternalName, externalName: 127.0.0.1, ports: [{{port: {port}}}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: api, namespace: default}}
spec:
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /api}}}}]
    backendRefs: [{{name: api, port: {port}}}]
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata: {{name: who-may-call, namespace: default}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: api}}]
  traffic:
    jwtAuthentication:
      providers:
      - issuer: "{ISSUER}"
        audiences: [api]
        jwks: {{inline: '{jwks}'}}
    authorization:
      action: Allow
      policy:
        matchExpressions:
        - 'jwt.sub == "alice"'
        - 'source.identity == "system:serviceaccount:default:robot" && request.method == "GET"'
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata: {{name: blocked-header, namespace: default}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: api}}]
  traffic:
    authorization:
      action: Deny
      policy:
        matchExpressions: ['request.headers["x-block"] == "yes"']
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata: {{name: reads-mcp, namespace: default}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: api}}]
  traffic:
    authorization:
      policy:
        matchExpressions: ['mcp.tool.name == "echo"']
"#,
            port = upstream.port()
        ),
    );
    let url = format!("{}/api/data", palisade.listen_url());

    // A rule reading data HTTP authorization does not have is refused at
    // load, with the policy named; the other two apply (pooled).
    let config = effective_config(&palisade);
    let refused = policy_status(&config, "AgentgatewayPolicy/default/reads-mcp");
    assert_eq!(refused["applied"], false, "{refused}");
    assert!(
        refused["message"].as_str().unwrap().contains("`mcp`"),
        "{refused}"
    );
    let applied = policy_status(&config, "AgentgatewayPolicy/default/who-may-call");
    assert_eq!(applied["applied"], true, "{applied}");
    assert!(
        applied["message"]
            .as_str()
            .unwrap()
            .contains("HTTPRoute/default/api"),
        "{applied}"
    );

    // ... and a route a policy cannot be enforced on fails closed.
    let (status, body) = curl(&url, &["-H", &bearer(&token(&signer, json!({})))]);
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("reads-mcp"), "{body}");

    // Without the unenforceable policy the route serves, with both
    // remaining policies' rules pooled.
    let manifest = std::fs::read_to_string(dir.path().join("config.yaml")).unwrap();
    let (kept, _) = manifest
        .rsplit_once("---\napiVersion: agentgateway.dev/v1alpha1\nkind: AgentgatewayPolicy\nmetadata: {name: reads-mcp")
        .unwrap();
    let tmp = dir.path().join("config.yaml.tmp");
    std::fs::write(&tmp, kept).unwrap();
    std::fs::rename(&tmp, dir.path().join("config.yaml")).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while curl(&url, &["-H", &bearer(&token(&signer, json!({})))]).0 != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "the edited configuration was never served: {}",
            palisade.logs()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let route = effective_config(&palisade)["sockets"][palisade.listen_addr().to_string()]["rules"]
        [0]["action"]["policies"]
        .clone();
    let pooled = route["authorization"].to_string();
    assert!(
        pooled.contains("who-may-call") && pooled.contains("blocked-header"),
        "{route}"
    );

    let alice = token(&signer, json!({}));
    let carol = token(&signer, json!({"sub": "carol"}));
    assert_eq!(curl(&url, &["-H", &bearer(&alice)]).0, 200);
    let (status, body) = curl(&url, &["-H", &bearer(&carol)]);
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("forbidden"), "{body}");
    let (status, _) = curl(&url, &["-H", &bearer(&alice), "-H", "x-block: yes"]);
    assert_eq!(status, 403, "a Deny rule of another policy applies too");

    // Palisade's own tokens are accepted next to the policy's issuer; the
    // rules see the account as `source.identity`, and the token never
    // reaches the upstream.
    let robot = account_token(&palisade, "robot");
    let other = account_token(&palisade, "other");
    upstream.clear();
    assert_eq!(curl(&url, &["-H", &bearer(&robot)]).0, 200);
    assert_eq!(
        upstream.last_request().unwrap().header("authorization"),
        None
    );
    assert_eq!(curl(&url, &["-H", &bearer(&robot), "-X", "POST"]).0, 403);
    assert_eq!(curl(&url, &["-H", &bearer(&other)]).0, 403);
    let (status, _) = curl(&url, &["-H", &bearer(&format!("{robot}x"))]);
    assert_eq!(status, 401, "a forged Palisade token is refused");

    // Refusals are audited with the rule that decided.
    let audit = palisade.cli_ok(&["audit", "--outcome", "denied", "-o", "json"]);
    assert!(
        audit.contains(
            "Deny rule AgentgatewayPolicy/default/blocked-header matchExpressions[0] matched"
        ),
        "{audit}"
    );
    assert!(audit.contains("no Allow rule"), "{audit}");
}

#[test]
fn jwt_keys_by_discovery_or_file_tokens_in_the_query_skew_and_required_claims() {
    let upstream = Upstream::start();
    let signer = Signer::generate().unwrap();
    let keys = TempDir::new("jwt-keys");
    let set = serde_json::to_vec(&JwkSet {
        keys: vec![signer.public_jwk().clone()],
    })
    .unwrap();
    std::fs::write(keys.path().join("jwks.json"), &set).unwrap();
    std::fs::create_dir_all(keys.path().join(".well-known")).unwrap();
    let server = HelperServer::static_files(keys.path());
    std::fs::write(
        keys.path().join(".well-known/openid-configuration"),
        json!({
            "issuer": ISSUER,
            "jwks_uri": format!("http://127.0.0.1:{}/jwks.json", server.port()),
        })
        .to_string(),
    )
    .unwrap();
    let dir = TempDir::new("jwt-options");
    let route = |name: &str| {
        format!(
            r#"---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: default}}
spec:
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /{name}}}}}]
    backendRefs: [{{name: api, port: {port}}}]
"#,
            port = upstream.port()
        )
    };
    let manifest = format!(
        r#"apiVersion: v1
kind: Service
metadata: {{name: api, namespace: default}}
spec: {{type: ExternalName, externalName: 127.0.0.1, ports: [{{port: {port}}}]}}
{discovered}{file}---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata:
  name: discovered
  namespace: default
  annotations: {{palisade.dev/jwt-required-claims: "email"}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: discovered}}]
  traffic:
    jwtAuthentication:
      location: {{queryParameter: {{name: access_token}}}}
      providers:
      - issuer: "{ISSUER}"
        jwks: {{remote: {{url: "http://127.0.0.1:{keys_port}/.well-known/openid-configuration"}}}}
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata:
  name: file
  namespace: default
  annotations: {{palisade.dev/jwt-clock-skew: "0s"}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: file}}]
  traffic:
    jwtAuthentication:
      providers:
      - issuer: "{ISSUER}"
        jwks: {{remote: {{url: "file://{keys_file}"}}}}
"#,
        port = upstream.port(),
        discovered = route("discovered"),
        file = route("file"),
        keys_port = server.port(),
        keys_file = keys.path().join("jwks.json").display(),
    );
    let palisade = start(dir.path(), &manifest);
    let discovered = format!("{}/discovered/x", palisade.listen_url());
    let file = format!("{}/file/x", palisade.listen_url());

    // Keys found through the issuer's OpenID configuration; the token is read
    // from the query and taken out of it before the upstream sees the URI.
    let with_email = token(&signer, json!({"email": "alice@example.com"}));
    let (status, body) = curl(
        &format!("{discovered}?a=1&access_token={with_email}&b=2"),
        &[],
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        upstream.last_request().unwrap().uri,
        "/discovered/x?a=1&b=2"
    );
    // The same token in the header is not where this policy looks.
    let (status, body) = curl(&discovered, &["-H", &bearer(&with_email)]);
    assert_eq!(status, 401, "{body}");
    // A required claim missing.
    let without = token(&signer, json!({}));
    let (status, body) = curl(&format!("{discovered}?access_token={without}"), &[]);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("email"), "{body}");

    // Keys from a file. A token that expired a moment ago is inside the
    // default 60 s skew but not inside this policy's 0 s.
    assert_eq!(curl(&file, &["-H", &bearer(&without)]).0, 200);
    let just_expired = token(
        &signer,
        json!({"email": "alice@example.com", "exp": now() - 5}),
    );
    let (status, body) = curl(&file, &["-H", &bearer(&just_expired)]);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("expired"), "{body}");
    let (status, body) = curl(&format!("{discovered}?access_token={just_expired}"), &[]);
    assert_eq!(status, 200, "within the default skew: {body}");
}

#[test]
fn access_policies_on_a_model_config_admit_only_their_subjects() {
    let llm = MockLlm::start();
    let dir = TempDir::new("model-access");
    let palisade = start(
        dir.path(),
        &format!(
            r#"apiVersion: v1
kind: Secret
metadata: {{name: openai-key, namespace: default}}
stringData: {{OPENAI_API_KEY: sk-upstream}}
---
apiVersion: kagent.dev/v1alpha2
kind: ModelConfig
metadata: {{name: model, namespace: default}}
spec:
  provider: OpenAI
  model: gpt-test
  apiKeySecret: openai-key
  apiKeySecretKey: OPENAI_API_KEY
  openAI: {{baseUrl: "http://127.0.0.1:{port}/v1"}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: llm, namespace: default}}
spec:
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /llm}}}}]
    backendRefs: [{{group: kagent.dev, kind: ModelConfig, name: model}}]
---
apiVersion: policy.kagent-enterprise.solo.io/v1alpha1
kind: AccessPolicy
metadata: {{name: writers-use-the-model, namespace: default}}
spec:
  from:
    subjects: [{{kind: ServiceAccount, name: writer}}]
  targetRef: {{kind: ModelConfig, name: model}}
  action: ALLOW
---
apiVersion: policy.kagent-enterprise.solo.io/v1alpha1
kind: AccessPolicy
metadata: {{name: for-a-missing-server, namespace: default}}
spec:
  from:
    subjects: [{{kind: ServiceAccount, name: writer}}]
  targetRef: {{kind: MCPServer, name: not-there}}
  action: DENY
"#,
            port = llm.port()
        ),
    );
    let url = format!("{}/llm/v1/chat/completions", palisade.listen_url());
    let body = json!({"messages": [{"role": "user", "content": "hello"}]}).to_string();
    let ask = |token: Option<&str>| {
        let mut args = vec!["-H", "content-type: application/json", "-d", body.as_str()];
        let header;
        if let Some(token) = token {
            header = bearer(token);
            args.extend(["-H", header.as_str()]);
        }
        curl(&url, &args)
    };

    let writer = account_token(&palisade, "writer");
    let reader = account_token(&palisade, "reader");
    let (status, answer) = ask(Some(&writer));
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("choices"), "{answer}");
    let (status, answer) = ask(Some(&reader));
    assert_eq!(status, 403, "{answer}");
    let (status, answer) = ask(None);
    assert_eq!(
        status, 403,
        "anonymous callers cannot be told apart: {answer}"
    );

    let config = effective_config(&palisade);
    let applied = policy_status(&config, "AccessPolicy/default/writers-use-the-model");
    assert_eq!(applied["applied"], true, "{applied}");
    let missing = policy_status(&config, "AccessPolicy/default/for-a-missing-server");
    assert_eq!(missing["applied"], false, "{missing}");
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{missing}"
    );

    let audit = palisade.cli_ok(&[
        "audit",
        "--principal",
        "system:serviceaccount:default:reader",
        "--outcome",
        "denied",
        "-o",
        "json",
    ]);
    assert!(audit.contains("writers-use-the-model"), "{audit}");
}
