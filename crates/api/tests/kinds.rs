//! Typed kinds: the seed's manifests parse, their checks report the expected references,
//! programs and problems at the expected paths, and the runtime helpers behave.

use palisade_api::check::{Checker, Finding, Located, ProgramKind, Severity};
use palisade_api::kinds::core::decode_base64;
use palisade_api::kinds::rbac::PolicyRule;
use palisade_api::kinds::{Resource, lookup};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------------------

type ParseError = serde_path_to_error::Error<serde_json::Error>;

fn try_parse(v: Value) -> Result<Resource, ParseError> {
    let api = v["apiVersion"].as_str().expect("apiVersion").to_string();
    let kind = v["kind"].as_str().expect("kind").to_string();
    let entry = lookup(&api, &kind).unwrap_or_else(|| panic!("no kind {api} {kind}"));
    (entry.parse)(v)
}

fn parse(v: Value) -> Resource {
    try_parse(v).unwrap_or_else(|e| panic!("parse failed at {}: {}", e.path(), e.inner()))
}

fn parse_err(v: Value) -> (String, String) {
    match try_parse(v) {
        Ok(r) => panic!("expected a parse error, got {r:?}"),
        Err(e) => (e.path().to_string(), e.inner().to_string()),
    }
}

fn check(r: &Resource) -> Vec<Located> {
    let ns = if r.meta().namespaced {
        Some(
            r.metadata()
                .namespace
                .clone()
                .unwrap_or_else(|| "default".into()),
        )
    } else {
        None
    };
    let mut cx = Checker::new(ns);
    r.check(&mut cx);
    cx.into_findings()
}

/// `(path, message)` of every problem of `severity`.
fn problems(f: &[Located], severity: Severity) -> Vec<(String, String)> {
    f.iter()
        .filter_map(|l| match &l.finding {
            Finding::Problem {
                severity: s,
                message,
                ..
            } if *s == severity => Some((l.path.clone(), message.clone())),
            _ => None,
        })
        .collect()
}

fn errors(f: &[Located]) -> Vec<(String, String)> {
    problems(f, Severity::Error)
}

/// `(path, kind, namespace, name)` of every reference.
fn refs(f: &[Located]) -> Vec<(String, String, Option<String>, String)> {
    f.iter()
        .filter_map(|l| match &l.finding {
            Finding::Reference(r) => Some((
                l.path.clone(),
                r.kind.clone(),
                r.namespace.clone(),
                r.name.clone(),
            )),
            _ => None,
        })
        .collect()
}

fn r(
    path: &str,
    kind: &str,
    ns: Option<&str>,
    name: &str,
) -> (String, String, Option<String>, String) {
    (path.into(), kind.into(), ns.map(Into::into), name.into())
}

/// Asserts there is an error at `path` whose message contains `needle`.
#[track_caller]
fn assert_error(f: &[Located], path: &str, needle: &str) {
    let errs = errors(f);
    assert!(
        errs.iter().any(|(p, m)| p == path && m.contains(needle)),
        "no error at {path} containing {needle:?}; errors: {errs:#?}"
    );
}

// ---------------------------------------------------------------------------------------
// seed manifests
// ---------------------------------------------------------------------------------------

fn seed_mcp_server(name: &str, ns: &str) -> Value {
    json!({
        "apiVersion": "kagent.dev/v1alpha1",
        "kind": "MCPServer",
        "metadata": {"name": name, "namespace": ns, "labels": {"kagent.solo.io/waypoint": "true"}},
        "spec": {
            "deployment": {
                "image": "mcp/everything",
                "port": 3000,
                "cmd": "npx",
                "args": ["-y", "@modelcontextprotocol/server-github"]
            },
            "transportType": "stdio"
        }
    })
}

fn seed_model_config() -> Value {
    json!({
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "ModelConfig",
        "metadata": {"name": "anthropic-model-config", "namespace": "policies"},
        "spec": {
            "apiKeySecret": "kagent-anthropic",
            "apiKeySecretKey": "ANTHROPIC_API_KEY",
            "model": "claude-sonnet-4-20250514",
            "provider": "Anthropic",
            "anthropic": {}
        }
    })
}

const SEED_SYSTEM_MESSAGE: &str = "You're a friendly and helpful agent that uses the Kubernetes tool to help troubleshooting and deploy environments\n\n# Instructions\n\n- If user question is unclear, ask for clarification before running any tools\n- Always be helpful and friendly\n- If you don't know how to answer the question DO NOT make things up\n  respond with \"Sorry, I don't know how to answer that\" and ask the user to further clarify the question\n\n# Response format\n- ALWAYS format your response as Markdown\n- Your response will include a summary of actions you took and an explanation of the result";

fn seed_agent() -> Value {
    json!({
        "apiVersion": "kagent.dev/v1alpha2",
        "kind": "Agent",
        "metadata": {"name": "test-tools-agent", "namespace": "policies"},
        "spec": {
            "description": "This agent can use a single tool to expand it's Kubernetes knowledge for troubleshooting and deployment",
            "type": "Declarative",
            "declarative": {
                "modelConfig": "anthropic-model-config",
                "systemMessage": SEED_SYSTEM_MESSAGE,
                "tools": [{
                    "type": "McpServer",
                    "mcpServer": {
                        "name": "test-mcp-server",
                        "kind": "MCPServer",
                        "toolNames": ["search_repositories", "search_issues", "search_code", "search_users"]
                    }
                }]
            }
        }
    })
}

fn seed_access_policy() -> Value {
    json!({
        "apiVersion": "policy.kagent-enterprise.solo.io/v1alpha1",
        "kind": "AccessPolicy",
        "metadata": {"name": "deny-github-tool-server", "namespace": "policies"},
        "spec": {
            "from": {"subjects": [{"kind": "Agent", "name": "test-tools-agent", "namespace": "policies"}]},
            "targetRef": {"kind": "MCPServer", "name": "test-mcp-server", "tools": ["search_repositories"]},
            "action": "DENY"
        }
    })
}

fn seed_cluster_role() -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": {"name": "kagent-crd-viewer"},
        "rules": [{
            "apiGroups": ["kagent.dev"],
            "resources": ["agents", "mcpservers", "modelconfigs"],
            "verbs": ["get", "list", "watch"]
        }]
    })
}

fn seed_cluster_role_binding() -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": {"name": "kagent-viewer-binding"},
        "subjects": [{"kind": "ServiceAccount", "name": "test-reader", "namespace": "kagent"}],
        "roleRef": {"kind": "ClusterRole", "name": "kagent-crd-viewer", "apiGroup": "rbac.authorization.k8s.io"}
    })
}

const SEED_ROLE_MAPPER: &str = "has(claims.Groups) ? claims.Groups.transformList(i, v, v in rolesMap, rolesMap[v]) : (has(claims.groups) ? claims.groups.transformList(i, v, v in rolesMap, rolesMap[v]) : [])";

/// The seed's roleMapping JSON, verbatim.
const SEED_ROLE_MAPPING_JSON: &str = r#"{
      "roleMapper": "has(claims.Groups) ? claims.Groups.transformList(i, v, v in rolesMap, rolesMap[v]) : (has(claims.groups) ? claims.groups.transformList(i, v, v in rolesMap, rolesMap[v]) : [])",
      "roleMappings": {
        "admins": "global.Admin",
        "readers": "global.Reader",
        "writers": "global.Writer"
      }
    }"#;

fn oidc_provider(role_mapping: Value) -> Value {
    json!({
        "apiVersion": "palisade.dev/v1alpha1",
        "kind": "OIDCProvider",
        "metadata": {"name": "corp"},
        "spec": {
            "issuer": "https://idp.example.com/",
            "clientId": "palisade",
            "clientSecretRef": {"name": "oidc-client", "namespace": "palisade-system", "key": "secret"},
            "roleMapping": role_mapping
        }
    })
}

/// What `kubectl create secret generic kagent-anthropic --from-literal=ANTHROPIC_API_KEY=...
/// -n policies --dry-run=client -o json` prints.
fn seed_secret(value: &str) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "kagent-anthropic", "namespace": "policies", "creationTimestamp": null},
        "data": {"ANTHROPIC_API_KEY": palisade_api::kinds::core::encode_base64(value.as_bytes())},
        "type": "Opaque"
    })
}

fn auth0_jwks_service() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "auth0-jwks", "namespace": "agentgateway-system"},
        "spec": {
            "type": "ExternalName",
            "externalName": "dev-example.us.auth0.com",
            "ports": [{"name": "https", "port": 8443, "targetPort": 443, "protocol": "TCP"}]
        }
    })
}

// ---------------------------------------------------------------------------------------
// seed: parse + findings
// ---------------------------------------------------------------------------------------

#[test]
fn seed_mcp_servers_parse_and_expose_the_command() {
    for (name, ns) in [
        ("test-mcp-server", "policies"),
        ("test-reader-only", "kagent"),
    ] {
        let res = parse(seed_mcp_server(name, ns));
        let f = check(&res);
        assert_eq!(errors(&f), vec![], "{name}");
        let Resource::McpServer(m) = res else {
            panic!("not an MCPServer")
        };
        assert_eq!(m.metadata.name, name);
        let (cmd, args) = m.command().expect("cmd");
        assert_eq!(cmd, "npx");
        assert_eq!(
            args,
            [
                "-y".to_string(),
                "@modelcontextprotocol/server-github".to_string()
            ]
        );
        assert_eq!(
            m.spec.transport(),
            palisade_api::kinds::kagent::TransportType::Stdio
        );
        assert_eq!(m.spec.port(), 3000);
        assert_eq!(m.spec.timeout(), std::time::Duration::from_secs(30));
        assert_eq!(
            m.metadata
                .labels
                .get("kagent.solo.io/waypoint")
                .map(String::as_str),
            Some("true")
        );
    }
}

#[test]
fn seed_model_config_parses_and_references_its_secret() {
    let res = parse(seed_model_config());
    let f = check(&res);
    assert_eq!(errors(&f), vec![]);
    assert_eq!(
        refs(&f),
        vec![r(
            "spec.apiKeySecret",
            "Secret",
            Some("policies"),
            "kagent-anthropic"
        )]
    );
    let Resource::ModelConfig(mc) = res else {
        panic!()
    };
    assert_eq!(
        mc.spec.provider(),
        palisade_api::kinds::kagent::ModelProvider::Anthropic
    );
    assert_eq!(
        mc.spec.api_key_ref(),
        Some(("kagent-anthropic", "ANTHROPIC_API_KEY"))
    );
    assert_eq!(mc.spec.model, "claude-sonnet-4-20250514");
    assert!(mc.spec.anthropic.is_some());
}

#[test]
fn seed_agent_parses_and_references_model_and_tool_server() {
    let res = parse(seed_agent());
    let f = check(&res);
    assert_eq!(errors(&f), vec![]);
    assert_eq!(
        refs(&f),
        vec![
            r(
                "spec.declarative.modelConfig",
                "ModelConfig",
                Some("policies"),
                "anthropic-model-config"
            ),
            r(
                "spec.declarative.tools[0].mcpServer.name",
                "MCPServer",
                Some("policies"),
                "test-mcp-server"
            ),
        ]
    );
    let Resource::Agent(a) = res else { panic!() };
    assert_eq!(
        a.spec.agent_type(),
        palisade_api::kinds::kagent::AgentType::Declarative
    );
    let d = a.spec.declarative.as_ref().unwrap();
    assert_eq!(d.system_message.as_deref(), Some(SEED_SYSTEM_MESSAGE));
    assert!(!d.stream());
    let tool = d.tools[0].mcp_server.as_ref().unwrap();
    assert_eq!(tool.tool_names.len(), 4);
    assert_eq!(
        tool.server_kind(),
        Some(palisade_api::kinds::kagent::ToolServerKind::McpServer)
    );
}

#[test]
fn seed_access_policy_parses_and_references_subject_and_target() {
    let res = parse(seed_access_policy());
    let f = check(&res);
    assert_eq!(errors(&f), vec![]);
    assert_eq!(
        refs(&f),
        vec![
            r(
                "spec.from.subjects[0].name",
                "Agent",
                Some("policies"),
                "test-tools-agent"
            ),
            r(
                "spec.targetRef.name",
                "MCPServer",
                Some("policies"),
                "test-mcp-server"
            ),
        ]
    );
    let Resource::AccessPolicy(p) = res else {
        panic!()
    };
    use palisade_api::kinds::access_policy::{PolicyAction, TargetKind};
    assert_eq!(p.spec.action, PolicyAction::Deny);
    assert_eq!(p.spec.target_ref.kind, TargetKind::McpServer);
    assert!(p.spec.target_ref.covers_tool("search_repositories"));
    assert!(!p.spec.target_ref.covers_tool("search_issues"));
}

#[test]
fn seed_cluster_role_and_binding_grant_read_only() {
    let role = parse(seed_cluster_role());
    assert_eq!(errors(&check(&role)), vec![]);
    let Resource::ClusterRole(role) = role else {
        panic!()
    };
    let can = |verb: &str, resource: &str| {
        role.rules
            .iter()
            .any(|r| r.matches(verb, "kagent.dev", resource, None))
    };
    assert!(can("get", "mcpservers"));
    assert!(can("list", "agents"));
    assert!(can("watch", "modelconfigs"));
    assert!(!can("create", "mcpservers"));
    assert!(!can("get", "remotemcpservers"));
    assert!(
        !role.rules[0].matches("get", "", "mcpservers", None),
        "wrong API group must not match"
    );

    let binding = parse(seed_cluster_role_binding());
    let f = check(&binding);
    assert_eq!(errors(&f), vec![]);
    assert_eq!(
        refs(&f),
        vec![r("roleRef.name", "ClusterRole", None, "kagent-crd-viewer")]
    );
    let Resource::ClusterRoleBinding(b) = binding else {
        panic!()
    };
    assert_eq!(
        b.principal_names(),
        vec!["system:serviceaccount:kagent:test-reader".to_string()]
    );
}

#[test]
fn seed_role_mapping_is_accepted_verbatim_in_an_oidc_provider() {
    let mapping: Value = serde_json::from_str(SEED_ROLE_MAPPING_JSON).unwrap();
    let res = parse(oidc_provider(mapping));
    assert!(!res.meta().namespaced);
    let f = check(&res);
    assert_eq!(errors(&f), vec![]);
    let programs: Vec<(String, ProgramKind, String)> = f
        .iter()
        .filter_map(|l| match &l.finding {
            Finding::Program { kind, source } => Some((l.path.clone(), *kind, source.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        programs,
        vec![(
            "spec.roleMapping.roleMapper".to_string(),
            ProgramKind::Cel,
            SEED_ROLE_MAPPER.to_string()
        )]
    );
    assert_eq!(
        refs(&f),
        vec![r(
            "spec.clientSecretRef",
            "Secret",
            Some("palisade-system"),
            "oidc-client"
        )]
    );
    let Resource::OidcProvider(p) = res else {
        panic!()
    };
    let m = p.spec.role_mapping.as_ref().unwrap();
    assert_eq!(
        m.role_mappings.get("admins").map(String::as_str),
        Some("global.Admin")
    );
    assert_eq!(
        m.role_mappings.get("readers").map(String::as_str),
        Some("global.Reader")
    );
    assert_eq!(
        m.role_mappings.get("writers").map(String::as_str),
        Some("global.Writer")
    );
    assert_eq!(p.spec.audiences(), vec!["palisade"]);
    assert_eq!(
        p.spec.scopes(),
        vec!["openid", "profile", "email", "groups"]
    );
    assert_eq!(p.spec.groups_claim(), "groups");
    assert_eq!(p.spec.issuer_base(), "https://idp.example.com");
    // Round trip keeps the mapping as written.
    assert_eq!(
        res_json_role_mapping(&p),
        serde_json::from_str::<Value>(SEED_ROLE_MAPPING_JSON).unwrap()
    );
}

fn res_json_role_mapping(p: &palisade_api::kinds::palisade::OidcProvider) -> Value {
    serde_json::to_value(p).unwrap()["spec"]["roleMapping"].clone()
}

#[test]
fn seed_secret_decodes_and_never_prints_its_value() {
    let value = "sk-ant-api03-very-secret-value";
    let res = parse(seed_secret(value));
    assert_eq!(errors(&check(&res)), vec![]);
    let Resource::Secret(s) = &res else { panic!() };
    assert_eq!(s.secret_type(), "Opaque");
    let decoded = s.decoded().unwrap();
    assert_eq!(
        decoded.get("ANTHROPIC_API_KEY").map(Vec::as_slice),
        Some(value.as_bytes())
    );
    assert_eq!(
        s.value("ANTHROPIC_API_KEY").unwrap().as_deref(),
        Some(value.as_bytes())
    );
    assert_eq!(s.value("missing").unwrap(), None);

    let encoded = s.data["ANTHROPIC_API_KEY"].clone();
    for debug in [format!("{s:?}"), format!("{s:#?}"), format!("{res:?}")] {
        assert!(!debug.contains(value), "plain value leaked: {debug}");
        assert!(!debug.contains(&encoded), "encoded value leaked: {debug}");
        assert!(
            debug.contains("ANTHROPIC_API_KEY"),
            "key should be shown: {debug}"
        );
        assert!(debug.contains("<redacted>"));
    }
    // Stored form keeps the data.
    assert_eq!(res.to_json()["data"]["ANTHROPIC_API_KEY"], json!(encoded));
}

#[test]
fn secret_string_data_wins_over_data() {
    let res = parse(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "s", "namespace": "ns"},
        "data": {"a": "b2xk", "b": "Yg=="},
        "stringData": {"a": "new"}
    }));
    let Resource::Secret(s) = res else { panic!() };
    let d = s.decoded().unwrap();
    assert_eq!(d["a"], b"new");
    assert_eq!(d["b"], b"b");
    assert_eq!(s.keys().collect::<Vec<_>>(), vec!["a", "b"]);
}

#[test]
fn secret_bad_base64_is_an_error_naming_the_key() {
    let res = parse(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "s", "namespace": "ns"},
        "data": {"good": "aGVsbG8=", "API_KEY": "not base64!"}
    }));
    let f = check(&res);
    assert_error(&f, "data[API_KEY]", "\"API_KEY\" is not valid base64");
    assert_eq!(errors(&f).len(), 1, "{:#?}", errors(&f));
    let Resource::Secret(s) = res else { panic!() };
    let err = s.decoded().unwrap_err();
    assert_eq!(err.key, "API_KEY");
    assert!(err.to_string().contains("API_KEY"));
}

#[test]
fn base64_decoder_is_strict() {
    assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
    assert_eq!(decode_base64("aGVsbG8h").unwrap(), b"hello!");
    assert_eq!(decode_base64("").unwrap(), b"");
    assert_eq!(
        decode_base64("aGVs\nbG8=").unwrap(),
        b"hello",
        "line breaks are ignored"
    );
    assert!(decode_base64("aGVsbG8").is_none(), "missing padding");
    assert!(decode_base64("aGV=bG8=").is_none(), "padding in the middle");
    assert!(decode_base64("aGVsbG9=").is_none(), "non-zero padding bits");
    assert!(decode_base64("aGVs bG8=").is_none(), "space");
    for s in ["", "a", "ab", "abc", "hello world", "\u{0}\u{ff}"] {
        let e = palisade_api::kinds::core::encode_base64(s.as_bytes());
        assert_eq!(decode_base64(&e).unwrap(), s.as_bytes());
    }
}

#[test]
fn seed_service_account_parses() {
    // `kubectl create serviceaccount test-reader -n kagent -o json --dry-run=client`
    let res = parse(json!({
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": "test-reader", "namespace": "kagent", "creationTimestamp": null}
    }));
    assert_eq!(errors(&check(&res)), vec![]);
    let Resource::ServiceAccount(sa) = res else {
        panic!()
    };
    assert_eq!(
        sa.principal_name(),
        "system:serviceaccount:kagent:test-reader"
    );
}

#[test]
fn external_name_service_dials_the_target_port() {
    let res = parse(auth0_jwks_service());
    assert_eq!(errors(&check(&res)), vec![]);
    let Resource::Service(svc) = res else {
        panic!()
    };
    assert_eq!(
        svc.dial_address(8443),
        Some(("dev-example.us.auth0.com".to_string(), 443))
    );
    assert_eq!(svc.dial_address(9999), None, "no such service port");
}

#[test]
fn cluster_ip_service_dials_external_ip_or_cluster_ip() {
    let svc = |spec: Value| {
        let Resource::Service(s) = parse(json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "llm", "namespace": "ns"},
            "spec": spec
        })) else {
            panic!()
        };
        s
    };
    let s = svc(json!({
        "externalIPs": ["10.1.2.3"], "clusterIP": "10.96.0.10",
        "ports": [{"port": 80, "targetPort": 8080}]
    }));
    assert_eq!(s.dial_address(80), Some(("10.1.2.3".into(), 8080)));
    let s = svc(json!({"clusterIP": "127.0.0.1", "ports": [{"port": 80, "targetPort": "http"}]}));
    assert_eq!(
        s.dial_address(80),
        Some(("127.0.0.1".into(), 80)),
        "named targetPort falls back to port"
    );
    let s = svc(json!({"clusterIP": "None", "ports": [{"port": 80}]}));
    assert_eq!(
        s.dial_address(80),
        None,
        "headless without external IPs has no static address"
    );
    let s = svc(json!({"type": "ExternalName", "externalName": "api.example.com"}));
    assert_eq!(
        s.dial_address(443),
        Some(("api.example.com".into(), 443)),
        "no ports: dial as asked"
    );
}

#[test]
fn service_checks() {
    let f = check(&parse(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "x", "namespace": "ns"},
        "spec": {"type": "ExternalName", "ports": [{"port": 70000}, {"name": "a", "port": 80, "targetPort": 0}]}
    })));
    assert_error(&f, "spec.externalName", "needs `externalName`");
    assert_error(&f, "spec.ports[0].port", "out of range");
    assert_error(&f, "spec.ports[0].name", "more than one port");
    assert_error(&f, "spec.ports[1].targetPort", "out of range");
    let (path, msg) = parse_err(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "x", "namespace": "ns"},
        "spec": {"type": "Headless"}
    }));
    assert_eq!(path, "spec.type");
    assert!(msg.contains("unknown variant `Headless`, expected one of `ClusterIP`, `NodePort`, `LoadBalancer`, `ExternalName`"), "{msg}");
}

// ---------------------------------------------------------------------------------------
// serde errors
// ---------------------------------------------------------------------------------------

#[test]
fn bad_enum_value_is_an_unknown_variant_at_its_path() {
    let mut v = seed_model_config();
    v["spec"]["provider"] = json!("Claude");
    let (path, msg) = parse_err(v);
    assert_eq!(path, "spec.provider");
    assert!(
        msg.contains("unknown variant `Claude`, expected one of `Anthropic`, `OpenAI`"),
        "{msg}"
    );

    let mut v = seed_mcp_server("m", "ns");
    v["spec"]["transportType"] = json!("sse");
    let (path, msg) = parse_err(v);
    assert_eq!(path, "spec.transportType");
    assert!(
        msg.contains("unknown variant `sse`, expected `stdio` or `http`"),
        "{msg}"
    );

    let mut v = seed_access_policy();
    v["spec"]["action"] = json!("deny");
    let (path, msg) = parse_err(v);
    assert_eq!(path, "spec.action");
    assert!(
        msg.contains("unknown variant `deny`, expected `ALLOW` or `DENY`"),
        "{msg}"
    );
}

#[test]
fn unknown_field_reports_its_path() {
    let mut v = seed_agent();
    v["spec"]["declarative"]["tools"][0]["mcpServer"]["toolname"] = json!(["x"]);
    let (path, msg) = parse_err(v);
    assert_eq!(path, "spec.declarative.tools[0].mcpServer.toolname");
    assert!(msg.contains("unknown field `toolname`"), "{msg}");
    assert!(
        msg.contains("`toolNames`"),
        "the expected names are listed: {msg}"
    );

    let mut v = seed_secret("x");
    v["strinData"] = json!({"a": "b"});
    let (path, msg) = parse_err(v);
    assert_eq!(path, "strinData");
    assert!(msg.contains("unknown field `strinData`"), "{msg}");
    assert!(msg.contains("`stringData`"), "{msg}");
}

// ---------------------------------------------------------------------------------------
// ModelConfig rules
// ---------------------------------------------------------------------------------------

fn model_config(spec: Value) -> Vec<Located> {
    check(&parse(json!({
        "apiVersion": "kagent.dev/v1alpha2", "kind": "ModelConfig",
        "metadata": {"name": "m", "namespace": "ns"},
        "spec": spec
    })))
}

#[test]
fn model_config_provider_block_must_match_provider() {
    let f = model_config(
        json!({"model": "gpt-4o", "provider": "OpenAI", "anthropic": {"maxTokens": 10}}),
    );
    assert_error(
        &f,
        "spec.anthropic",
        "provider.anthropic must be nil if the provider is not Anthropic",
    );
    // The default provider is OpenAI.
    let f = model_config(json!({"model": "gpt-4o", "ollama": {"host": "http://localhost:11434"}}));
    assert_error(&f, "spec.ollama", "provider is OpenAI");
    let f =
        model_config(json!({"model": "gpt-4o", "openAI": {"baseUrl": "http://localhost:1234/v1"}}));
    assert_eq!(errors(&f), vec![]);
    // Providers with required settings need their block.
    let f = model_config(json!({"model": "m", "provider": "Bedrock"}));
    assert_error(&f, "spec.bedrock", "needs the `bedrock` block");
}

#[test]
fn model_config_api_key_rules() {
    let f = model_config(json!({"model": "m", "apiKeySecretKey": "k"}));
    assert_error(&f, "spec.apiKeySecretKey", "apiKeySecret must be set");
    let f = model_config(json!({"model": "m", "apiKeySecret": "s"}));
    assert_error(&f, "spec.apiKeySecret", "apiKeySecretKey must be set");
    let f = model_config(
        json!({"model": "m", "provider": "Bedrock", "apiKeySecret": "s", "bedrock": {"region": "us-east-1"}}),
    );
    assert_eq!(errors(&f), vec![], "Bedrock needs no key name");
    let f = model_config(
        json!({"model": "m", "apiKeySecret": "s", "apiKeySecretKey": "k", "apiKeyPassthrough": true}),
    );
    assert_error(&f, "spec.apiKeyPassthrough", "mutually exclusive");
    let f = model_config(json!({"model": "m", "provider": "Gemini", "apiKeyPassthrough": true}));
    assert_error(
        &f,
        "spec.apiKeyPassthrough",
        "not supported for provider Gemini",
    );
    let f = model_config(json!({
        "model": "m", "apiKeyPassthrough": true,
        "openAI": {"maxTokens": 5, "maxCompletionTokens": 5, "tokenExchange": {"type": "GDCHServiceAccount"}}
    }));
    assert_error(
        &f,
        "spec.openAI",
        "maxTokens and maxCompletionTokens are mutually exclusive",
    );
    assert_error(&f, "spec.openAI.tokenExchange", "requires apiKeySecret");
    assert_error(
        &f,
        "spec.openAI.tokenExchange",
        "apiKeyPassthrough are mutually exclusive",
    );
    assert_error(
        &f,
        "spec.openAI.tokenExchange.gdchServiceAccount",
        "requires gdchServiceAccount",
    );
}

#[test]
fn model_config_tls_and_foundry_rules() {
    let f = model_config(
        json!({"model": "m", "tls": {"caCertSecretKey": "ca.crt", "disableSystemCAs": true}}),
    );
    assert_error(&f, "spec.tls.caCertSecretKey", "requires caCertSecretRef");
    assert_error(
        &f,
        "spec.tls.disableSystemCAs",
        "requires caCertSecretRef or disableVerify",
    );
    let f = model_config(
        json!({"model": "m", "tls": {"caCertSecretRef": "ca", "caCertSecretKey": "ca.crt"}}),
    );
    assert_eq!(errors(&f), vec![]);
    assert_eq!(
        refs(&f),
        vec![r("spec.tls.caCertSecretRef", "Secret", Some("ns"), "ca")]
    );
    let f =
        model_config(json!({"model": "m", "provider": "Foundry", "foundry": {"deployment": "d"}}));
    assert_error(
        &f,
        "spec.foundry",
        "one of endpoint, endpointFrom is required",
    );
}

// ---------------------------------------------------------------------------------------
// Agent rules
// ---------------------------------------------------------------------------------------

fn agent(spec: Value) -> Vec<Located> {
    check(&parse(json!({
        "apiVersion": "kagent.dev/v1alpha2", "kind": "Agent",
        "metadata": {"name": "a", "namespace": "ns"},
        "spec": spec
    })))
}

#[test]
fn agent_declarative_iff_type_declarative() {
    let f = agent(json!({"type": "Declarative"}));
    assert_error(
        &f,
        "spec.declarative",
        "declarative must be specified if type is Declarative",
    );
    let f = agent(json!({"type": "BYO", "declarative": {}}));
    assert_error(&f, "spec.byo", "byo must be specified if type is BYO");
    assert_error(
        &f,
        "spec.declarative",
        "only allowed when type is Declarative",
    );
    let f = agent(json!({"type": "BYO", "byo": {"deployment": {"image": "my/agent:1"}}}));
    assert_eq!(errors(&f), vec![]);
    // type defaults to Declarative; modelConfig defaults to default-model-config.
    let f = agent(json!({"declarative": {"systemMessage": "hi"}}));
    assert_eq!(errors(&f), vec![]);
    assert_eq!(
        refs(&f),
        vec![r(
            "spec.declarative.modelConfig",
            "ModelConfig",
            Some("ns"),
            "default-model-config"
        )]
    );
}

#[test]
fn agent_tool_rules() {
    let f = agent(json!({"declarative": {
        "systemMessage": "x",
        "systemMessageFrom": {"type": "Secret", "name": "prompt", "key": "p"},
        "tools": [
            {"type": "McpServer", "agent": {"name": "other"}},
            {"type": "Agent", "mcpServer": {"name": "s"}, "agent": {"name": "helper", "namespace": "team"}},
            {"type": "McpServer", "isolateSessions": true, "mcpServer": {
                "name": "remote", "kind": "RemoteMCPServer", "namespace": "shared",
                "toolNames": ["a", "b"], "requireApproval": ["b", "c"]
            }},
            {"type": "McpServer", "mcpServer": {"name": "svc", "kind": "Deployment"}},
            {"type": "McpServer", "mcpServer": {"name": "s"}, "headersFrom": [
                {"name": "Authorization", "valueFrom": {"type": "Secret", "name": "tok", "key": "t"}},
                {"name": "X-A", "value": "1", "valueFrom": {"type": "ConfigMap", "name": "c", "key": "k"}}
            ]}
        ]
    }}));
    assert_error(
        &f,
        "spec.declarative",
        "systemMessage and systemMessageFrom are mutually exclusive",
    );
    assert_error(
        &f,
        "spec.declarative.tools[0].mcpServer",
        "mcpServer must be specified when type is McpServer",
    );
    assert_error(
        &f,
        "spec.declarative.tools[0].agent",
        "must not be set when type is McpServer",
    );
    assert_error(
        &f,
        "spec.declarative.tools[1].mcpServer",
        "must not be set when type is Agent",
    );
    assert_error(
        &f,
        "spec.declarative.tools[2].isolateSessions",
        "only applies to Agent tools",
    );
    assert_error(
        &f,
        "spec.declarative.tools[2].mcpServer.requireApproval[1]",
        "\"c\" is not in toolNames",
    );
    assert_error(
        &f,
        "spec.declarative.tools[3].mcpServer.kind",
        "unsupported tool server",
    );
    assert_error(
        &f,
        "spec.declarative.tools[4].headersFrom[1]",
        "only one of value, valueFrom may be set",
    );
    let got = refs(&f);
    for want in [
        r(
            "spec.declarative.systemMessageFrom.name",
            "Secret",
            Some("ns"),
            "prompt",
        ),
        r(
            "spec.declarative.tools[1].agent.name",
            "Agent",
            Some("team"),
            "helper",
        ),
        r(
            "spec.declarative.tools[2].mcpServer.name",
            "RemoteMCPServer",
            Some("shared"),
            "remote",
        ),
        r(
            "spec.declarative.tools[4].mcpServer.name",
            "MCPServer",
            Some("ns"),
            "s",
        ),
        r(
            "spec.declarative.tools[4].headersFrom[0].valueFrom.name",
            "Secret",
            Some("ns"),
            "tok",
        ),
    ] {
        assert!(got.contains(&want), "missing {want:?} in {got:#?}");
    }
    assert!(
        !got.iter().any(|(_, k, _, _)| k == "ConfigMap"),
        "ConfigMap values are not references to known kinds"
    );
}

#[test]
fn agent_tool_limits_and_other_rules() {
    let tools: Vec<Value> = (0..21)
        .map(|i| json!({"type": "McpServer", "mcpServer": {"name": format!("s{i}")}}))
        .collect();
    let f = agent(json!({
        "declarative": {"tools": tools, "a2aConfig": {"skills": []}, "memory": {"ttlDays": 0},
                        "deployment": {"serviceAccountName": "x", "serviceAccountConfig": {}}},
        "allowedNamespaces": {"from": "Selector"},
        "skills": {"s3Refs": [{"uri": "gs://bucket"}]}
    }));
    assert_error(&f, "spec.declarative.tools", "has 21 entries");
    assert_error(
        &f,
        "spec.declarative.a2aConfig.skills",
        "at least one skill",
    );
    assert_error(&f, "spec.declarative.memory.ttlDays", "out of range");
    assert_error(
        &f,
        "spec.declarative.deployment",
        "serviceAccountName and serviceAccountConfig are mutually exclusive",
    );
    assert_error(
        &f,
        "spec.allowedNamespaces.selector",
        "selector must be specified when from is Selector",
    );
    assert_error(&f, "spec.skills.s3Refs[0].uri", "not an s3:// URI");
}

// ---------------------------------------------------------------------------------------
// RemoteMCPServer and MCPServer rules
// ---------------------------------------------------------------------------------------

fn remote(spec: Value) -> Resource {
    parse(json!({
        "apiVersion": "kagent.dev/v1alpha2", "kind": "RemoteMCPServer",
        "metadata": {"name": "r", "namespace": "ns"},
        "spec": spec
    }))
}

#[test]
fn remote_mcp_server_defaults_and_rules() {
    let res = remote(json!({
        "description": "GitHub", "url": "https://api.githubcopilot.com/mcp/",
        "headersFrom": [{"name": "Authorization", "valueFrom": {"type": "Secret", "name": "gh", "key": "token"}}]
    }));
    let f = check(&res);
    assert_eq!(errors(&f), vec![]);
    assert_eq!(
        refs(&f),
        vec![r(
            "spec.headersFrom[0].valueFrom.name",
            "Secret",
            Some("ns"),
            "gh"
        )]
    );
    let Resource::RemoteMcpServer(s) = res else {
        panic!()
    };
    assert_eq!(
        s.spec.protocol(),
        palisade_api::kinds::kagent::McpProtocol::StreamableHttp
    );
    assert_eq!(s.spec.timeout(), std::time::Duration::from_secs(30));
    assert!(s.spec.terminate_on_close());

    let f = check(&remote(json!({
        "description": "d", "url": "http://mcp.local/mcp", "timeout": "soon",
        "tls": {"caCertSecretRef": "ca", "caCertSecretKey": "ca.crt"},
        "allowedNamespaces": {"from": "All"},
        "headersFrom": [{"name": "X"}]
    })));
    assert_error(&f, "spec.tls", "not allowed with an http:// URL");
    assert_error(
        &f,
        "spec.allowedNamespaces",
        "cannot be shared with other namespaces",
    );
    assert_error(&f, "spec.timeout", "invalid duration");
    assert_error(
        &f,
        "spec.headersFrom[0]",
        "one of value, valueFrom is required",
    );

    let (path, msg) = parse_err(json!({
        "apiVersion": "kagent.dev/v1alpha2", "kind": "RemoteMCPServer",
        "metadata": {"name": "r", "namespace": "ns"},
        "spec": {"description": "d", "url": "https://x", "protocol": "WEBSOCKET"}
    }));
    assert_eq!(path, "spec.protocol");
    assert!(msg.contains("expected `SSE` or `STREAMABLE_HTTP`"), "{msg}");
}

#[test]
fn mcp_server_rules() {
    let mut v = seed_mcp_server("m", "ns");
    v["spec"]["deployment"]["serviceAccountName"] = json!("sa");
    v["spec"]["deployment"]["serviceAccount"] = json!({"labels": {"a": "b"}});
    v["spec"]["deployment"]["secretRefs"] = json!([{"name": "gh-token"}]);
    v["spec"]["httpTransport"] = json!({"targetPort": 8080, "path": "mcp"});
    v["spec"]["timeout"] = json!("1x");
    let f = check(&parse(v));
    assert_error(
        &f,
        "spec.deployment",
        "serviceAccount and serviceAccountName are mutually exclusive",
    );
    assert_error(
        &f,
        "spec.httpTransport",
        "only allowed with transportType: http",
    );
    assert_error(&f, "spec.httpTransport.path", "must start with /");
    assert_error(&f, "spec.timeout", "invalid duration");
    assert_eq!(
        refs(&f),
        vec![r(
            "spec.deployment.secretRefs[0].name",
            "Secret",
            Some("ns"),
            "gh-token"
        )]
    );

    let res = parse(json!({
        "apiVersion": "kagent.dev/v1alpha1", "kind": "MCPServer",
        "metadata": {"name": "h", "namespace": "ns"},
        "spec": {"deployment": {"image": "my/mcp"}, "httpTransport": {"targetPort": 8080}}
    }));
    assert_eq!(errors(&check(&res)), vec![]);
    let Resource::McpServer(m) = res else {
        panic!()
    };
    assert_eq!(
        m.spec.transport(),
        palisade_api::kinds::kagent::TransportType::Http
    );
    assert_eq!(m.spec.http_port(), 8080);
    assert_eq!(m.spec.http_path(), "/mcp");
    assert_eq!(m.command(), None);
}

// ---------------------------------------------------------------------------------------
// AccessPolicy rules
// ---------------------------------------------------------------------------------------

#[test]
fn access_policy_rules() {
    let f = check(&parse(json!({
        "apiVersion": "policy.kagent-enterprise.solo.io/v1alpha1", "kind": "AccessPolicy",
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": {
            "from": {"subjects": [
                {"kind": "UserGroup", "name": "admins"},
                {"kind": "ServiceAccount", "name": "ci", "namespace": "build"},
                {"kind": "User", "name": "alice@example.com"},
                {"kind": "Agent", "name": "x", "userGroup": {"claimName": "groups", "claimValue": "a"}},
                {"kind": "UserGroup", "userGroup": {"claimName": "groups", "claimValue": "ops", "jwksKey": {}}}
            ]},
            "targetRef": {"kind": "Agent", "name": "helper", "tools": ["t"]},
            "action": "ALLOW"
        }
    })));
    assert_error(&f, "spec.from.subjects[0].userGroup", "needs `userGroup`");
    assert_error(
        &f,
        "spec.from.subjects[3].userGroup",
        "only allowed on UserGroup subjects",
    );
    assert_error(
        &f,
        "spec.from.subjects[4].userGroup.jwksKey",
        "one of inline, remote is required",
    );
    assert_error(
        &f,
        "spec.targetRef.tools",
        "only apply to MCP server targets",
    );
    assert_eq!(
        refs(&f),
        vec![
            r(
                "spec.from.subjects[1].name",
                "ServiceAccount",
                Some("build"),
                "ci"
            ),
            r("spec.from.subjects[3].name", "Agent", Some("ns"), "x"),
            r("spec.targetRef.name", "Agent", Some("ns"), "helper"),
        ]
    );
    let f = check(&parse(json!({
        "apiVersion": "policy.kagent-enterprise.solo.io/v1alpha1", "kind": "AccessPolicy",
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": {"from": {}, "targetRef": {"kind": "ModelConfig", "name": "m"}, "action": "DENY"}
    })));
    assert_error(&f, "spec.from.subjects", "at least one subject");
    assert_eq!(
        refs(&f),
        vec![r("spec.targetRef.name", "ModelConfig", Some("ns"), "m")]
    );
}

// ---------------------------------------------------------------------------------------
// RBAC rules and matching
// ---------------------------------------------------------------------------------------

fn rule(v: Value) -> PolicyRule {
    serde_json::from_value(v).unwrap()
}

#[test]
fn policy_rule_wildcards() {
    let all = rule(json!({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}));
    assert!(all.matches("delete", "kagent.dev", "agents", Some("x")));
    assert!(all.matches("create", "", "secrets", None));
    assert!(all.matches("get", "", "pods/log", None));

    let core = rule(
        json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["kagent-anthropic"]}),
    );
    assert!(core.matches("get", "", "secrets", Some("kagent-anthropic")));
    assert!(!core.matches("get", "", "secrets", Some("other")));
    assert!(
        !core.matches("get", "", "secrets", None),
        "resourceNames never match collection requests"
    );
    assert!(!core.matches("list", "", "secrets", Some("kagent-anthropic")));

    let sub = rule(
        json!({"apiGroups": ["apps"], "resources": ["*/scale", "deployments"], "verbs": ["update"]}),
    );
    assert!(sub.matches("update", "apps", "statefulsets/scale", None));
    assert!(sub.matches("update", "apps", "deployments", None));
    assert!(!sub.matches("update", "apps", "statefulsets", None));
    assert!(!sub.matches("update", "apps", "deployments/status", None));

    let urls = rule(json!({"nonResourceURLs": ["/healthz", "/metrics/*"], "verbs": ["get"]}));
    assert!(urls.matches_non_resource("get", "/healthz"));
    assert!(urls.matches_non_resource("get", "/metrics/agents"));
    assert!(!urls.matches_non_resource("get", "/healthz/ready"));
    assert!(!urls.matches_non_resource("post", "/healthz"));
    assert!(
        !urls.matches("get", "", "healthz", None),
        "a URL rule grants no resources"
    );
}

#[test]
fn rbac_checks() {
    let f = check(&parse(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "r", "namespace": "ns"},
        "rules": [
            {"apiGroups": ["kagent.dev"], "resources": ["agents"], "verbs": []},
            {"verbs": ["get"]},
            {"nonResourceURLs": ["/healthz"], "verbs": ["get"]}
        ]
    })));
    assert_error(&f, "rules[0].verbs", "at least one verb");
    assert_error(&f, "rules[1].apiGroups", "at least one API group");
    assert_error(&f, "rules[1].resources", "at least one resource");
    assert_error(
        &f,
        "rules[2].nonResourceURLs",
        "a Role cannot grant non-resource URLs",
    );

    let f = check(&parse(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "c"},
        "rules": [{"nonResourceURLs": ["/metrics"], "resources": ["pods"], "verbs": ["get"]}]
    })));
    assert_error(
        &f,
        "rules[0].nonResourceURLs",
        "both resources and non-resource URLs",
    );

    let f = check(&parse(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "b"},
        "subjects": [{"kind": "ServiceAccount", "name": "sa"}, {"kind": "User", "name": "u", "apiGroup": "v1"}],
        "roleRef": {"kind": "Role", "name": "r", "apiGroup": "rbac.authorization.k8s.io/v1"}
    })));
    assert_error(&f, "subjects[0].namespace", "needs a namespace");
    assert_error(&f, "subjects[1].apiGroup", "not valid for a User subject");
    assert_error(
        &f,
        "roleRef.apiGroup",
        "roleRef.apiGroup must be rbac.authorization.k8s.io",
    );
    assert_error(&f, "roleRef.kind", "can only grant a ClusterRole");

    let res = parse(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "b", "namespace": "kagent"},
        "subjects": [{"kind": "ServiceAccount", "name": "sa"}, {"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"}],
        "roleRef": {"kind": "Role", "name": "editor", "apiGroup": "rbac.authorization.k8s.io"}
    }));
    let f = check(&res);
    assert_eq!(errors(&f), vec![]);
    assert_eq!(
        refs(&f),
        vec![r("roleRef.name", "Role", Some("kagent"), "editor")]
    );
    let Resource::RoleBinding(b) = res else {
        panic!()
    };
    assert_eq!(
        b.principal_names(),
        vec![
            "system:serviceaccount:kagent:sa".to_string(),
            "devs".to_string()
        ]
    );

    let (path, msg) = parse_err(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "b", "namespace": "kagent"},
        "subjects": [{"kind": "Robot", "name": "r2"}],
        "roleRef": {"kind": "Role", "name": "editor", "apiGroup": "rbac.authorization.k8s.io"}
    }));
    assert_eq!(path, "subjects[0].kind");
    assert!(
        msg.contains("unknown variant `Robot`, expected one of `User`, `Group`, `ServiceAccount`"),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------------------
// OIDCProvider and Namespace
// ---------------------------------------------------------------------------------------

#[test]
fn oidc_provider_rules() {
    let f = check(&parse(json!({
        "apiVersion": "palisade.dev/v1alpha1", "kind": "OIDCProvider",
        "metadata": {"name": "corp"},
        "spec": {
            "issuer": "idp.example.com",
            "clientId": "",
            "clientSecretRef": {"name": "oidc", "key": "secret"},
            "scopes": ["profile"],
            "roleMapping": {"roleMapper": " ", "roleMappings": {"admins": ""}}
        }
    })));
    assert_error(&f, "spec.issuer", "not an http(s) URL");
    assert_error(&f, "spec.clientId", "clientId is required");
    assert_error(&f, "spec.clientSecretRef.namespace", "cluster-scoped");
    assert_error(&f, "spec.roleMapping.roleMapper", "roleMapper is empty");
    assert_error(&f, "spec.roleMapping.roleMappings[admins]", "no role given");
    let warnings = problems(&f, Severity::Warning);
    assert!(
        warnings
            .iter()
            .any(|(p, m)| p == "spec.scopes" && m.contains("openid")),
        "{warnings:#?}"
    );

    let f = check(&parse(json!({
        "apiVersion": "palisade.dev/v1alpha1", "kind": "OIDCProvider",
        "metadata": {"name": "local"},
        "spec": {"issuer": "http://localhost:8080/realms/dev", "clientId": "palisade", "audiences": ["api"]}
    })));
    assert_eq!(errors(&f), vec![]);
    assert_eq!(
        problems(&f, Severity::Warning),
        vec![],
        "http on loopback is fine"
    );
}

#[test]
fn namespace_parses_with_status() {
    let res = parse(json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "policies", "labels": {"istio.io/dataplane-mode": "ambient"}},
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"}
    }));
    assert!(!res.meta().namespaced);
    assert_eq!(errors(&check(&res)), vec![]);
    let Resource::Namespace(ns) = res else {
        panic!()
    };
    assert_eq!(ns.spec.unwrap().finalizers, vec!["kubernetes"]);
    assert_eq!(ns.metadata.labels["istio.io/dataplane-mode"], "ambient");
}

#[test]
fn seed_manifests_round_trip_through_json() {
    for v in [
        seed_mcp_server("test-mcp-server", "policies"),
        seed_model_config(),
        seed_agent(),
        seed_access_policy(),
        seed_cluster_role(),
        seed_cluster_role_binding(),
        auth0_jwks_service(),
    ] {
        let res = parse(v.clone());
        assert_eq!(res.to_json(), v, "{}", v["kind"]);
    }
}
