//! The LLM gateway end to end: the real binary, a scripted mock provider speaking
//! the real Anthropic and OpenAI wire formats, the seed's exact curl, and the
//! official `anthropic` and `openai` Python SDKs.

use std::path::{Path, PathBuf};
use std::process::Command;

use palisade_testkit::helpers::{self_signed_localhost, start_listening};
use palisade_testkit::mock_llm::{MockLlm, MockReply};
use palisade_testkit::{Palisade, TempDir, peers};
use serde_json::Value;

const UPSTREAM_KEY: &str = "sk-ant-upstream-key-from-the-secret";
const CLIENT_KEY: &str = "client-credential-must-not-pass";

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// The seed's prompt guard (verbatim) on HTTPRoute `claude` (/anthropic, an
/// Anthropic backend on the mock), plus an OpenAI route (/openai) whose policy
/// masks cards and e-mail addresses in requests and in (streamed) responses.
fn config(anthropic: &MockLlm, openai: &MockLlm) -> String {
    let seed_guard =
        std::fs::read_to_string(repo_file("examples/seed/07-credit-guard-prompt-guard.yaml"))
            .unwrap();
    format!(
        r#"{seed_guard}
---
apiVersion: v1
kind: Secret
metadata: {{name: anthropic-key, namespace: agentgateway-system}}
stringData: {{Authorization: {UPSTREAM_KEY}}}
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayBackend
metadata: {{name: anthropic, namespace: agentgateway-system}}
spec:
  ai:
    provider:
      anthropic: {{model: claude-sonnet-4-20250514}}
      host: 127.0.0.1
      port: {anthropic_port}
  policies:
    auth:
      secretRef: {{name: anthropic-key}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: claude, namespace: agentgateway-system}}
spec:
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /anthropic}}}}]
    backendRefs: [{{group: agentgateway.dev, kind: AgentgatewayBackend, name: anthropic}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: native, namespace: agentgateway-system}}
spec:
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /native}}}}]
    backendRefs: [{{group: agentgateway.dev, kind: AgentgatewayBackend, name: anthropic}}]
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata: {{name: native-messages, namespace: agentgateway-system}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: native}}]
  backend:
    ai:
      routes: {{"*": Messages}}
      modelAliases: {{fast: claude-sonnet-4-20250514}}
      prompt:
        prepend: [{{role: system, content: Answer briefly.}}]
      defaults: [{{field: temperature, value: 0.1}}]
---
apiVersion: v1
kind: Secret
metadata: {{name: openai-key}}
stringData: {{Authorization: "Bearer sk-openai-upstream"}}
---
{openai_route}
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata: {{name: mask-pii}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: openai}}]
  backend:
    ai:
      promptGuard:
        streaming: Enabled
        request:
        - regex: {{builtins: [CreditCard, Email], action: Mask}}
        response:
        - regex: {{builtins: [CreditCard, Email], action: Mask}}
"#,
        anthropic_port = anthropic.port(),
        openai_route = openai_route(
            openai.port(),
            "  policies:\n    auth:\n      secretRef: {name: openai-key}\n"
        ),
    )
}

/// An OpenAI AI backend on `port` (plus `policies`, YAML under `spec:`) and the
/// HTTPRoute `/openai` to it.
fn openai_route(port: u16, policies: &str) -> String {
    format!(
        r#"apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayBackend
metadata: {{name: openai}}
spec:
  ai:
    provider:
      openai: {{model: gpt-4o-mini}}
      host: 127.0.0.1
      port: {port}
{policies}---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: openai}}
spec:
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /openai}}}}]
    backendRefs: [{{group: agentgateway.dev, kind: AgentgatewayBackend, name: openai}}]"#
    )
}

struct Setup {
    anthropic: MockLlm,
    openai: MockLlm,
    palisade: Palisade,
    _dir: TempDir,
}

fn setup() -> Setup {
    let anthropic = MockLlm::start();
    let openai = MockLlm::start();
    let dir = TempDir::new("llm");
    let path = dir.path().join("llm.yaml");
    std::fs::write(&path, config(&anthropic, &openai)).unwrap();
    let palisade = Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("-f")
        .arg(&path)
        .start();
    Setup {
        anthropic,
        openai,
        palisade,
        _dir: dir,
    }
}

/// The seed's curl, with a client credential added that must not pass.
fn seed_curl(url: &str, question: &str) -> (String, String) {
    let body = format!(
        r#"{{
  "messages": [
    {{
      "role": "system",
      "content": "You are a skilled cloud-native network engineer."
    }},
    {{
      "role": "user",
      "content": "{question}"
    }}
  ]
}}"#
    );
    let out = Command::new("curl")
        .args([
            "-sS",
            "-i",
            url,
            "-H",
            "content-type:application/json",
            "-H",
            "anthropic-version: 2023-06-01",
        ])
        .args([
            "-H",
            &format!("authorization: Bearer {CLIENT_KEY}"),
            "-H",
            &format!("x-api-key: {CLIENT_KEY}"),
        ])
        .args(["-d", &body])
        .output()
        .expect("curl runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").expect("headers and body");
    (head.to_ascii_lowercase(), body.to_string())
}

#[test]
fn seed_curl_is_rejected_by_the_prompt_guard_and_never_reaches_the_provider() {
    let s = setup();
    let url = format!("{}/anthropic", s.palisade.listen_url());
    let (head, body) = seed_curl(&url, "What is a credit card?");
    assert!(head.starts_with("http/1.1 403 forbidden"), "{head}");
    assert!(head.contains("content-length: 37"), "{head}");
    assert_eq!(body, "Rejected due to inappropriate content");
    assert_eq!(s.anthropic.request_count(), 0, "the provider was called");

    // Evasions of the same phrase are caught too.
    for evasive in [
        "What is a CREDIT CARD?",
        "What is a credit\u{200B} card?",
        "What is a ｃｒｅｄｉｔ card?",
    ] {
        let (head, _) = seed_curl(&url, evasive);
        assert!(head.starts_with("http/1.1 403"), "{evasive}: {head}");
    }
    assert_eq!(s.anthropic.request_count(), 0);

    // Without the phrase: proxied, translated (a bare route path is OpenAI chat),
    // with the provider key injected and the client's credentials gone.
    let (head, body) = seed_curl(&url, "What is a debit card?");
    assert!(head.starts_with("http/1.1 200"), "{head}\n{body}");
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["object"], "chat.completion");
    assert!(
        answer["choices"][0]["message"]["content"]
            .as_str()
            .unwrap()
            .contains("debit card"),
        "{answer}"
    );
    let seen = s.anthropic.last_request().unwrap();
    assert_eq!(seen.path, "/v1/messages");
    assert_eq!(seen.header("x-api-key"), Some(UPSTREAM_KEY));
    assert_eq!(
        seen.header("authorization"),
        None,
        "client bearer token passed through"
    );
    assert_eq!(
        seen.body["model"], "claude-sonnet-4-20250514",
        "model filled from the backend"
    );
    assert!(
        seen.body["max_tokens"].as_u64().unwrap() > 0,
        "max_tokens filled"
    );
    assert_eq!(
        seen.body["system"],
        "You are a skilled cloud-native network engineer."
    );
    let raw = String::from_utf8_lossy(&seen.raw_body);
    assert!(!raw.contains(CLIENT_KEY));

    // The effective configuration names the backend but never shows its key.
    let config = Command::new("curl")
        .args(["-sS", &format!("{}/config", s.palisade.admin_url())])
        .output()
        .unwrap();
    let config = String::from_utf8_lossy(&config.stdout);
    assert!(
        config.contains("AgentgatewayBackend/agentgateway-system/anthropic"),
        "{config}"
    );
    assert!(
        !config.contains(UPSTREAM_KEY),
        "the key leaked into /config"
    );
    assert!(
        !s.palisade.logs().contains(UPSTREAM_KEY),
        "the key leaked into the log"
    );
}

fn sdk(kind: &str, base_url: &str, mode: &str, prompt: &str) -> String {
    let v = sdk_json(kind, base_url, mode, prompt);
    match v["text"].as_str() {
        Some(text) => text.to_string(),
        None => panic!("{kind} {mode} via {base_url} failed: {v}"),
    }
}

/// The probe's whole answer: `{text, usage_chunks}` or `{error: {status, retry_after, body}}`.
fn sdk_json(kind: &str, base_url: &str, mode: &str, prompt: &str) -> Value {
    let out = Command::new(peers::python())
        .arg(repo_file("tests/clients/llm_probe.py"))
        .args([kind, base_url, mode, prompt])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{kind} {mode} via {base_url}:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn official_sdks_complete_normal_and_streaming_requests() {
    let s = setup();
    let base = s.palisade.listen_url();
    for mode in ["create", "stream"] {
        // Anthropic SDK on the Anthropic route: Messages passes through.
        let text = sdk(
            "anthropic",
            &format!("{base}/anthropic"),
            mode,
            "hello from anthropic",
        );
        assert_eq!(
            text,
            MockLlm::default_reply_text("hello from anthropic"),
            "{mode}"
        );
        let seen = s.anthropic.last_request().unwrap();
        assert_eq!(seen.header("x-api-key"), Some(UPSTREAM_KEY));
        // OpenAI SDK on the Anthropic route: translated both ways.
        let text = sdk(
            "openai",
            &format!("{base}/anthropic/v1"),
            mode,
            "hello via translation",
        );
        assert_eq!(
            text,
            MockLlm::default_reply_text("hello via translation"),
            "{mode}"
        );
        assert_eq!(s.anthropic.last_request().unwrap().path, "/v1/messages");
        // OpenAI SDK on the OpenAI route.
        let text = sdk(
            "openai",
            &format!("{base}/openai/v1"),
            mode,
            "hello from openai",
        );
        assert_eq!(
            text,
            MockLlm::default_reply_text("hello from openai"),
            "{mode}"
        );
        let seen = s.openai.last_request().unwrap();
        assert_eq!(
            seen.header("authorization"),
            Some("Bearer sk-openai-upstream")
        );
    }
}

#[test]
fn masks_requests_and_streamed_responses_split_across_events() {
    let s = setup();
    let url = format!("{}/openai/v1", s.palisade.listen_url());

    // Request masking, evasions included; a Luhn-invalid number is left alone.
    let prompt = "cards 4111 1111 1111 1111, 5500-0000-0000-0004, ４１１１１１１１１１１１１１１１, 4111\u{200D}111111111111, mail BOB@EXAMPLE.COM, not a card 4111 1111 1111 1112";
    sdk("openai", &url, "create", prompt);
    let sent = s.openai.last_request().unwrap().body["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        sent,
        "cards <CREDIT_CARD>, <CREDIT_CARD>, <CREDIT_CARD>, <CREDIT_CARD>, mail <EMAIL>, not a card 4111 1111 1111 1112"
    );

    // A card number split over two streamed events is still masked, whole.
    s.openai
        .push_text_chunks(["your card is 4111 1111 ", "1111 1111, thanks"]);
    let text = sdk("openai", &url, "stream", "what is my card?");
    assert_eq!(text, "your card is <CREDIT_CARD>, thanks");
    // And in a whole (non-streamed) answer.
    s.openai.push_text("write to ann@example.org");
    assert_eq!(
        sdk("openai", &url, "create", "contact?"),
        "write to <EMAIL>"
    );
}

#[test]
fn webhook_guards_mask_reject_and_fail_closed() {
    let mock = MockLlm::start();
    let dir = TempDir::new("llm-webhook");
    let port = palisade_testkit::free_port();
    let mut cmd = Command::new(peers::python());
    cmd.arg(repo_file("tests/clients/guard_webhook.py"))
        .arg(port.to_string())
        .current_dir(dir.path());
    let mut webhook = start_listening(cmd, port);
    let manifest = format!(
        r#"apiVersion: v1
kind: Service
metadata: {{name: guard-webhook}}
spec: {{type: ExternalName, externalName: 127.0.0.1, ports: [{{port: {port}}}]}}
---
{openai_route}
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata: {{name: webhook-guard}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: openai}}]
  backend:
    ai:
      promptGuard:
        request:
        - webhook: {{backendRef: {{name: guard-webhook, port: {port}}}}}
        response:
        - webhook: {{backendRef: {{name: guard-webhook, port: {port}}}}}
"#,
        openai_route = openai_route(mock.port(), "")
    );
    let path = dir.path().join("llm.yaml");
    std::fs::write(&path, manifest).unwrap();
    let palisade = Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("-f")
        .arg(&path)
        .start();
    let url = format!("{}/openai/v1", palisade.listen_url());

    // Mask on the way in (the provider sees the masked prompt), and on the way out.
    let text = sdk("openai", &url, "create", "my code is secret-42");
    assert_eq!(text, "MOCK reply to: my code is <WEBHOOK>");
    assert_eq!(
        mock.last_request().unwrap().body["messages"][0]["content"],
        "my code is <WEBHOOK>"
    );

    // Reject: the webhook's status and body, and the provider is not called.
    let before = mock.request_count();
    let out = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "-",
            "-w",
            "\n%{http_code}",
            "-H",
            "content-type: application/json",
        ])
        .args([
            "-d",
            r#"{"messages":[{"role":"user","content":"a forbidden topic"}]}"#,
        ])
        .arg(format!("{url}/chat/completions"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "blocked by webhook\n422"
    );
    assert_eq!(mock.request_count(), before);

    // A stream would reach the client before the webhook's verdict: refused,
    // in the client's wire format, and the provider is not called.
    let refused = sdk_json("openai", &url, "stream", "stream me");
    assert_eq!(refused["error"]["status"], 400, "{refused}");
    assert!(
        refused["error"]["body"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("stream: false")),
        "{refused}"
    );
    assert_eq!(mock.request_count(), before);

    // The webhook is gone: fail closed.
    webhook.kill().unwrap();
    webhook.wait().unwrap();
    let out = Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            "content-type: application/json",
        ])
        .args(["-d", r#"{"messages":[{"role":"user","content":"hello"}]}"#])
        .arg(format!("{url}/chat/completions"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "503");
    assert_eq!(
        mock.request_count(),
        before,
        "nothing reaches the provider unguarded"
    );
}

#[test]
fn https_base_urls_are_dialled_with_tls_and_verified() {
    let dir = TempDir::new("llm-tls");
    let (cert, key) = self_signed_localhost(dir.path());
    let port = palisade_testkit::free_port();
    let mut cmd = Command::new(peers::python());
    cmd.arg(repo_file("tests/clients/tls_provider.py"))
        .arg(port.to_string())
        .arg(&cert)
        .arg(&key);
    let mut provider = start_listening(cmd, port);
    let manifest = format!(
        r#"apiVersion: v1
kind: Secret
metadata: {{name: tls-key}}
stringData: {{OPENAI_API_KEY: sk-tls-upstream}}
---
apiVersion: kagent.dev/v1alpha2
kind: ModelConfig
metadata: {{name: tls-model}}
spec:
  provider: OpenAI
  model: m
  apiKeySecret: tls-key
  apiKeySecretKey: OPENAI_API_KEY
  openAI: {{baseUrl: "https://localhost:{port}/v1"}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: tls}}
spec:
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /tls}}}}]
    backendRefs: [{{group: kagent.dev, kind: ModelConfig, name: tls-model}}]
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayBackend
metadata: {{name: tls-override}}
spec:
  ai:
    provider:
      openai: {{model: m}}
      host: localhost
      port: {port}
  policies:
    auth: {{key: sk-tls-upstream}}
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata: {{name: dial-tls}}
spec:
  targetRefs: [{{group: agentgateway.dev, kind: AgentgatewayBackend, name: tls-override}}]
  backend:
    tls: {{}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: override}}
spec:
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /override}}}}]
    backendRefs: [{{group: agentgateway.dev, kind: AgentgatewayBackend, name: tls-override}}]
"#
    );
    let path = dir.path().join("llm.yaml");
    std::fs::write(&path, manifest).unwrap();
    let ask_at = |palisade: &Palisade, route: &str| {
        let out = Command::new("curl")
            .args([
                "-sS",
                "-w",
                "\n%{http_code}",
                "-H",
                "content-type: application/json",
            ])
            .args(["-H", &format!("authorization: Bearer {CLIENT_KEY}")])
            .args(["-d", r#"{"messages":[{"role":"user","content":"hi"}]}"#])
            .arg(format!(
                "{}/{route}/v1/chat/completions",
                palisade.listen_url()
            ))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    let ask = |palisade: &Palisade| ask_at(palisade, "tls");

    // Trusting the test certificate: the call goes through, over TLS.
    let trusted = Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("-f")
        .arg(&path)
        .env("SSL_CERT_FILE", &cert)
        .start();
    let answer = ask(&trusted);
    assert!(
        answer.contains("tls ok, key injected") && answer.ends_with("\n200"),
        "{answer}"
    );
    // A host/port override is dialled over TLS because a policy with
    // `backend.tls` targets its backend.
    let answer = ask_at(&trusted, "override");
    assert!(
        answer.contains("tls ok, key injected") && answer.ends_with("\n200"),
        "{answer}"
    );
    drop(trusted);

    // Not trusting it: the certificate is refused, nothing is sent.
    let untrusted = Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("-f")
        .arg(&path)
        .start();
    let answer = ask(&untrusted);
    assert!(answer.ends_with("\n502"), "{answer}");
    provider.kill().unwrap();
    provider.wait().unwrap();
}

#[test]
fn ai_policies_choose_the_format_and_shape_the_request() {
    let s = setup();
    // `ai.routes: {"*": Messages}`: a bare route path speaks Anthropic Messages,
    // passed through rather than translated.
    let out = Command::new("curl")
        .args([
            "-sS",
            "-H",
            "content-type: application/json",
            "-H",
            "anthropic-version: 2023-06-01",
        ])
        .args([
            "-d",
            r#"{"model": "fast", "max_tokens": 32, "messages": [{"role": "user", "content": "native please"}]}"#,
        ])
        .arg(format!("{}/native", s.palisade.listen_url()))
        .output()
        .unwrap();
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["type"], "message", "{answer}");
    assert_eq!(
        answer["content"][0]["text"],
        MockLlm::default_reply_text("native please")
    );
    let seen = s.anthropic.last_request().unwrap();
    assert_eq!(seen.path, "/v1/messages");
    assert_eq!(seen.body["max_tokens"], 32, "the client's own fields stay");
    // The same policy shapes the request: alias, prompt enrichment, default.
    assert_eq!(seen.body["model"], "claude-sonnet-4-20250514");
    assert_eq!(seen.body["system"], "Answer briefly.");
    assert_eq!(seen.body["temperature"], 0.1);
}

/// The value of the metric line that starts with `series` (labels included).
fn metric(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

fn admin_metrics(palisade: &Palisade) -> String {
    let out = Command::new("curl")
        .args(["-sS", &format!("{}/metrics", palisade.admin_url())])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn token_usage_is_metered_and_local_rate_limits_answer_429() {
    let openai = MockLlm::start();
    let anthropic = MockLlm::start();
    let dir = TempDir::new("llm-limits");
    let manifest = format!(
        r#"{openai_route}
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata: {{name: token-budget}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: openai}}]
  traffic:
    rateLimit:
      local: [{{tokens: 100, unit: Hours}}]
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayBackend
metadata: {{name: anthropic}}
spec:
  ai:
    provider:
      anthropic: {{model: claude-sonnet-4-20250514}}
      host: 127.0.0.1
      port: {anthropic_port}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: limited}}
spec:
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /limited}}}}]
    backendRefs: [{{group: agentgateway.dev, kind: AgentgatewayBackend, name: anthropic}}]
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata: {{name: two-per-minute}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: limited}}]
  traffic:
    rateLimit:
      local: [{{requests: 2, unit: Minutes}}]
"#,
        openai_route = openai_route(openai.port(), ""),
        anthropic_port = anthropic.port(),
    );
    let path = dir.path().join("llm.yaml");
    std::fs::write(&path, manifest).unwrap();
    let palisade = Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("-f")
        .arg(&path)
        .start();
    let base = palisade.listen_url();
    let openai_url = format!("{base}/openai/v1");

    // A stream whose client did not ask for usage: Palisade asks the provider
    // for it, counts it, and the client still gets no usage chunk.
    openai.push(MockReply::text("streamed answer").with_usage(30, 20));
    let streamed = sdk_json("openai", &openai_url, "stream", "count me");
    assert_eq!(streamed["text"], "streamed answer", "{streamed}");
    assert_eq!(streamed["usage_chunks"], 0, "{streamed}");
    assert_eq!(
        openai.last_request().unwrap().body["stream_options"]["include_usage"],
        true
    );
    // A non-streamed answer is counted from its usage object.
    openai.push(MockReply::text("whole answer").with_usage(40, 20));
    assert_eq!(
        sdk("openai", &openai_url, "create", "and me"),
        "whole answer"
    );
    let metrics = admin_metrics(&palisade);
    let series = |kind: &str| {
        format!(
            r#"palisade_llm_tokens_total{{route="default/openai",model="gpt-4o-mini",principal="anonymous",kind="{kind}"}}"#
        )
    };
    assert_eq!(metric(&metrics, &series("input")), Some(70.0), "{metrics}");
    assert_eq!(metric(&metrics, &series("output")), Some(40.0), "{metrics}");
    palisade.wait_for_log("input_tokens=40", std::time::Duration::from_secs(10));

    // 110 tokens spent of 100 per hour: the next request is refused before it
    // reaches the provider, with Retry-After, and the SDK sees a 429.
    let calls = openai.request_count();
    let refused = sdk_json("openai", &openai_url, "create", "one more?");
    assert_eq!(refused["error"]["status"], 429, "{refused}");
    let retry_after: u64 = refused["error"]["retry_after"]
        .as_str()
        .expect("Retry-After header")
        .parse()
        .unwrap();
    // 10 tokens in debt at 100 per hour: 6 minutes.
    assert!((300..=360).contains(&retry_after), "{retry_after}");
    assert_eq!(openai.request_count(), calls, "the provider was called");

    // Two requests per minute on the other route, counted per request.
    let url = format!("{base}/limited");
    assert_eq!(
        seed_curl(&url, "first").0.lines().next().unwrap(),
        "http/1.1 200 ok"
    );
    assert_eq!(
        seed_curl(&url, "second").0.lines().next().unwrap(),
        "http/1.1 200 ok"
    );
    let (head, body) = seed_curl(&url, "third");
    assert!(head.starts_with("http/1.1 429"), "{head}\n{body}");
    let retry_after: u64 = head
        .lines()
        .find_map(|l| l.strip_prefix("retry-after: "))
        .expect("Retry-After")
        .trim()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    assert!(body.contains("default/two-per-minute"), "{body}");
    assert_eq!(anthropic.request_count(), 2);
    let metrics = admin_metrics(&palisade);
    assert_eq!(
        metric(
            &metrics,
            r#"palisade_rate_limited_requests_total{route="default/limited",policy="AgentgatewayPolicy/default/two-per-minute"}"#
        ),
        Some(1.0),
        "{metrics}"
    );
    // Both kinds of decision are in the audit log, next to the API's.
    let config = std::fs::read_to_string(palisade.state_dir().join("admin.yaml")).unwrap();
    let token = config
        .lines()
        .find_map(|l| l.strip_prefix("token: "))
        .unwrap();
    // Gateway decisions are written behind the requests: wait until both
    // refusals are there.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let audit = loop {
        let out = Command::new("curl")
            .args(["-sS", "-H", &format!("Authorization: Bearer {token}")])
            .arg(format!(
                "{}/apis/audit.palisade.dev/v1/events?limit=100",
                palisade.admin_url()
            ))
            .output()
            .unwrap();
        let audit: Value = serde_json::from_slice(&out.stdout).unwrap();
        let denied = audit["items"].as_array().map_or(0, |items| {
            items.iter().filter(|e| e["outcome"] == "denied").count()
        });
        if denied >= 2 || std::time::Instant::now() > deadline {
            break audit;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let events = audit["items"].as_array().expect("audit events");
    let completion = events
        .iter()
        .find(|e| e["verb"] == "llm.completion" && e["details"]["inputTokens"] == 40)
        .unwrap_or_else(|| panic!("no audited completion: {audit}"));
    assert_eq!(completion["source"], "gateway");
    assert_eq!(completion["outcome"], "allowed");
    assert_eq!(completion["resource"]["name"], "openai");
    let limited = events
        .iter()
        .filter(|e| e["outcome"] == "denied" && e["source"] == "gateway")
        .count();
    assert_eq!(limited, 2, "both 429s audited: {audit}");
}
