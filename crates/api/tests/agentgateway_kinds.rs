//! agentgateway and Gateway API kinds: the reference examples and the seed policies
//! parse and round-trip; checks report CEL, regexes, references and rule violations at
//! the right paths.

use std::time::Duration;

use palisade_api::check::{Finding, Located, ProgramKind, Reference, Severity};
use palisade_api::kinds::agentgateway::authn::AuthMode;
use palisade_api::kinds::agentgateway::backend::{BackendKind, ProviderKind};
use palisade_api::kinds::agentgateway::shared::{AuthorizationAction, Endpoint};
use palisade_api::kinds::gateway_api::PathMatchType;
use palisade_api::kinds::{Resource, lookup};
use palisade_api::{Checker, Kind};
use serde_json::{Value, json};

const OWNED: &[&str] = &[
    "AgentgatewayPolicy",
    "EnterpriseAgentgatewayPolicy",
    "AgentgatewayBackend",
    "Gateway",
    "HTTPRoute",
];

fn fixture(name: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/fixtures/agentgateway/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match serde_json::from_str(&text).unwrap() {
        Value::Array(docs) => docs,
        other => vec![other],
    }
}

/// The fixture's documents of the kinds this test covers.
fn owned_docs(name: &str) -> Vec<Value> {
    fixture(name)
        .into_iter()
        .filter(|d| OWNED.contains(&d["kind"].as_str().unwrap()))
        .collect()
}

fn try_parse(doc: Value) -> Result<Resource, serde_path_to_error::Error<serde_json::Error>> {
    let entry = lookup(
        doc["apiVersion"].as_str().unwrap(),
        doc["kind"].as_str().unwrap(),
    )
    .unwrap_or_else(|| panic!("no kind for {} {}", doc["apiVersion"], doc["kind"]));
    (entry.parse)(doc)
}

fn parse(doc: Value) -> Resource {
    try_parse(doc).unwrap_or_else(|e| panic!("parse failed at {}: {}", e.path(), e.inner()))
}

fn parse_err(doc: Value) -> (String, String) {
    match try_parse(doc) {
        Ok(r) => panic!("expected a parse error, got {r:?}"),
        Err(e) => (e.path().to_string(), e.inner().to_string()),
    }
}

fn check(r: &Resource) -> Vec<Located> {
    let mut cx = Checker::new(r.metadata().namespace.clone());
    r.check(&mut cx);
    cx.into_findings()
}

fn problems(findings: &[Located], severity: Severity) -> Vec<(String, String, String)> {
    findings
        .iter()
        .filter_map(|l| match &l.finding {
            Finding::Problem {
                severity: s,
                message,
                hint,
            } if *s == severity => Some((l.path.clone(), message.clone(), hint.clone())),
            _ => None,
        })
        .collect()
}

fn errors(findings: &[Located]) -> Vec<(String, String, String)> {
    problems(findings, Severity::Error)
}

fn programs(findings: &[Located], kind: ProgramKind) -> Vec<(String, String)> {
    findings
        .iter()
        .filter_map(|l| match &l.finding {
            Finding::Program { kind: k, source } if *k == kind => {
                Some((l.path.clone(), source.clone()))
            }
            _ => None,
        })
        .collect()
}

fn references(findings: &[Located]) -> Vec<(String, Reference)> {
    findings
        .iter()
        .filter_map(|l| match &l.finding {
            Finding::Reference(r) => Some((l.path.clone(), r.clone())),
            _ => None,
        })
        .collect()
}

fn reference(kind: &str, ns: &str, name: &str) -> Reference {
    Reference {
        kind: kind.into(),
        namespace: Some(ns.into()),
        name: name.into(),
    }
}

/// Asserts exactly one error at `path` whose message contains `needle`.
fn assert_error(findings: &[Located], path: &str, needle: &str) {
    let errs = errors(findings);
    assert!(
        errs.iter()
            .any(|(p, m, h)| p == path && m.contains(needle) && !h.is_empty()),
        "no error at {path} containing {needle:?}; errors: {errs:#?}"
    );
}

fn policy(spec: Value) -> Value {
    json!({
        "apiVersion": "agentgateway.dev/v1alpha1",
        "kind": "AgentgatewayPolicy",
        "metadata": {"name": "p", "namespace": "ns1"},
        "spec": spec
    })
}

fn gateway_target() -> Value {
    json!([{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "gw"}])
}

fn backend(spec: Value) -> Value {
    json!({
        "apiVersion": "agentgateway.dev/v1alpha1",
        "kind": "AgentgatewayBackend",
        "metadata": {"name": "b", "namespace": "ns1"},
        "spec": spec
    })
}

fn route(spec: Value) -> Value {
    json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "r", "namespace": "ns1"},
        "spec": spec
    })
}

fn jwt_policy(provider: Value) -> Value {
    policy(json!({
        "targetRefs": gateway_target(),
        "traffic": {"jwtAuthentication": {"providers": [provider]}}
    }))
}

// ---------------------------------------------------------------------------------------
// Reference examples and seed
// ---------------------------------------------------------------------------------------

#[test]
fn every_example_parses_round_trips_and_checks_clean() {
    for name in [
        "example_a_llm.json",
        "example_b_prompt_guard.json",
        "example_c_mcp.json",
        "seed_policies.json",
    ] {
        let docs = owned_docs(name);
        assert!(!docs.is_empty(), "{name} has no documents");
        for doc in docs {
            let r = parse(doc.clone());
            assert_eq!(
                r.to_json(),
                doc,
                "{name}: {} does not serialize back unchanged",
                r.meta().kind
            );
            let errs = errors(&check(&r));
            assert!(
                errs.is_empty(),
                "{name}: {} {} has errors: {errs:#?}",
                r.meta().kind,
                r.metadata().name
            );
        }
    }
}

#[test]
fn example_a_llm_path_is_typed() {
    let docs = owned_docs("example_a_llm.json");
    let gw = match parse(docs[0].clone()) {
        Resource::Gateway(g) => g,
        other => panic!("{other:?}"),
    };
    assert_eq!(gw.spec.gateway_class_name, "agentgateway");
    assert_eq!(gw.spec.listeners[0].port, 8080);
    assert_eq!(
        gw.spec.listener("http").unwrap().routes_from(),
        palisade_api::kinds::gateway_api::FromNamespaces::Same
    );

    let be = parse(docs[1].clone());
    let findings = check(&be);
    let Resource::AgentgatewayBackend(be) = be else {
        panic!()
    };
    assert_eq!(be.spec.kind(), Some(BackendKind::Ai));
    let provider = be.spec.ai.as_ref().unwrap().provider.as_ref().unwrap();
    assert_eq!(provider.kind(), Some(ProviderKind::Anthropic));
    assert_eq!(provider.model(), Some("claude-sonnet-4-20250514"));
    let auth = be.spec.policies.as_ref().unwrap().auth.as_ref().unwrap();
    assert_eq!(
        auth.secret_ref.as_ref().unwrap().key_or("Authorization"),
        "ANTHROPIC_API_KEY"
    );
    assert_eq!(
        references(&findings),
        vec![(
            "spec.policies.auth.secretRef.name".to_string(),
            reference("Secret", "agentgateway-system", "anthropic-secret")
        )]
    );

    let rt = parse(docs[2].clone());
    let findings = check(&rt);
    let Resource::HttpRoute(rt) = rt else {
        panic!()
    };
    let rules = rt.spec.effective_rules();
    assert_eq!(
        rules[0].effective_matches()[0].path_match(),
        (PathMatchType::PathPrefix, "/anthropic")
    );
    let b = &rules[0].backend_refs[0];
    assert_eq!(
        (b.effective_group(), b.effective_kind(), b.weight()),
        ("agentgateway.dev", "AgentgatewayBackend", 1)
    );
    assert_eq!(rt.spec.parent_refs[0].effective_kind(), "Gateway");
    assert_eq!(
        rt.spec.parent_refs[0].namespace_or("agentgateway-system"),
        "agentgateway-system"
    );
    assert_eq!(
        references(&findings),
        vec![
            (
                "spec.parentRefs[0]".to_string(),
                reference("Gateway", "agentgateway-system", "agentgateway-proxy")
            ),
            (
                "spec.rules[0].backendRefs[0]".to_string(),
                reference("AgentgatewayBackend", "agentgateway-system", "anthropic")
            ),
        ]
    );
}

#[test]
fn seed_prompt_guard_reports_its_regex() {
    for doc in [
        owned_docs("example_b_prompt_guard.json")[0].clone(),
        owned_docs("seed_policies.json")[0].clone(),
    ] {
        let r = parse(doc);
        let findings = check(&r);
        assert_eq!(
            programs(&findings, ProgramKind::Regex),
            vec![(
                "spec.backend.ai.promptGuard.request[0].regex.matches[0]".to_string(),
                "credit card".to_string()
            )]
        );
        assert!(programs(&findings, ProgramKind::Cel).is_empty());
        assert_eq!(
            references(&findings),
            vec![(
                "spec.targetRefs[0]".to_string(),
                reference("HTTPRoute", "agentgateway-system", "claude")
            )]
        );
        let Resource::EnterpriseAgentgatewayPolicy(p) = r else {
            panic!()
        };
        let guard = &p
            .spec
            .backend
            .as_ref()
            .unwrap()
            .ai
            .as_ref()
            .unwrap()
            .prompt_guard
            .as_ref()
            .unwrap()
            .request[0];
        assert_eq!(guard.status_code(), 403);
        assert_eq!(guard.message(), "Rejected due to inappropriate content");
        assert_eq!(
            guard.regex.as_ref().unwrap().action(),
            palisade_api::kinds::agentgateway::ai::RegexAction::Reject
        );
        assert_eq!(
            guard.scope(),
            &[
                palisade_api::kinds::agentgateway::ai::GuardScope::SystemPrompt,
                palisade_api::kinds::agentgateway::ai::GuardScope::Messages
            ]
        );
    }
}

#[test]
fn seed_mcp_oauth_policy_reports_cel_at_each_index() {
    let r = parse(owned_docs("example_c_mcp.json")[4].clone());
    let findings = check(&r);
    let cel = programs(&findings, ProgramKind::Cel);
    assert_eq!(cel.len(), 5);
    for (i, (path, _)) in cel.iter().enumerate() {
        assert_eq!(
            path,
            &format!("spec.backend.mcp.authorization.policy.matchExpressions[{i}]")
        );
    }
    assert_eq!(cel[0].1, r#"mcp.tool.name == "echo""#);
    assert_eq!(
        cel[2].1,
        r#"mcp.tool.name == "list_files" && jwt.scope.contains("files:read")"#
    );
    assert!(references(&findings).contains(&(
        "spec.traffic.jwtAuthentication.providers[0].jwks.remote.backendRef".to_string(),
        reference("Service", "agentgateway-system", "auth0-jwks")
    )));

    let Resource::EnterpriseAgentgatewayPolicy(p) = r else {
        panic!()
    };
    // Deref to the shared PolicySpec.
    let traffic = p.spec.traffic.as_ref().unwrap();
    let jwt = traffic.jwt_authentication.as_ref().unwrap();
    assert_eq!(
        jwt.mode(),
        AuthMode::Strict,
        "Palisade's JWT default is Strict"
    );
    let remote = jwt.providers[0].jwks.remote.as_ref().unwrap();
    assert_eq!(remote.path().as_deref(), Some("/.well-known/jwks.json"));
    assert_eq!(remote.cache_duration(), Duration::from_secs(300));
    match palisade_api::kinds::agentgateway::shared::endpoint(&remote.backend_ref, &remote.url) {
        Some(Endpoint::BackendRef(b)) => assert_eq!((b.is_service(), b.port()), (true, Some(8443))),
        other => panic!("{other:?}"),
    }
    let cors = traffic.cors.as_ref().unwrap();
    assert_eq!(cors.max_age(), 86400);
    let authz = p
        .spec
        .backend
        .as_ref()
        .unwrap()
        .mcp
        .as_ref()
        .unwrap()
        .authorization
        .as_ref()
        .unwrap();
    assert_eq!(authz.action(), AuthorizationAction::Allow);

    // The seed's own (markdown-mangled) text parses too.
    let seed = parse(owned_docs("seed_policies.json")[1].clone());
    assert_eq!(programs(&check(&seed), ProgramKind::Cel).len(), 5);
}

#[test]
fn example_c_mcp_backend_defaults() {
    let r = parse(owned_docs("example_c_mcp.json")[1].clone());
    let Resource::AgentgatewayBackend(b) = r else {
        panic!()
    };
    let mcp = b.spec.mcp.as_ref().unwrap();
    let target = mcp.targets[0].static_.as_ref().unwrap();
    assert_eq!(target.path(), "/mcp");
    assert_eq!(
        mcp.session_routing(),
        palisade_api::kinds::agentgateway::backend::SessionRouting::Stateful
    );
    assert_eq!(
        mcp.prefix_mode(),
        palisade_api::kinds::agentgateway::backend::PrefixMode::Conditional
    );
    assert_eq!(
        <palisade_api::kinds::agentgateway::AgentgatewayBackend as Kind>::META.short_names,
        &["agbe"]
    );
}

// ---------------------------------------------------------------------------------------
// serde errors
// ---------------------------------------------------------------------------------------

#[test]
fn bad_enum_value_names_the_valid_variants() {
    let mut doc = owned_docs("example_b_prompt_guard.json")[0].clone();
    doc["spec"]["backend"]["ai"]["promptGuard"]["request"][0]["regex"]["action"] = json!("REJECT");
    let (path, msg) = parse_err(doc);
    assert_eq!(path, "spec.backend.ai.promptGuard.request[0].regex.action");
    assert!(
        msg.contains("unknown variant `REJECT`, expected `Mask` or `Reject`"),
        "{msg}"
    );

    let (path, msg) = parse_err(route(json!({"rules": [{"matches": [{"method": "get"}]}]})));
    assert_eq!(path, "spec.rules[0].matches[0].method");
    assert!(msg.contains("unknown variant `get`"), "{msg}");
}

#[test]
fn unknown_field_is_reported_with_its_path() {
    let doc = jwt_policy(json!({"issuerr": "x", "issuer": "x", "jwks": {"inline": "{}"}}));
    let (path, msg) = parse_err(doc);
    assert_eq!(path, "spec.traffic.jwtAuthentication.providers[0].issuerr");
    assert!(msg.contains("unknown field `issuerr`"), "{msg}");

    // Legacy prompt guard forms fail the schema.
    let mut doc = owned_docs("example_b_prompt_guard.json")[0].clone();
    doc["spec"]["backend"]["ai"]["promptGuard"]["request"][0]["regex"]["matches"] =
        json!([{"pattern": "x", "name": "n"}]);
    let (path, msg) = parse_err(doc);
    assert_eq!(
        path,
        "spec.backend.ai.promptGuard.request[0].regex.matches[0]"
    );
    assert!(msg.contains("expected a string"), "{msg}");
}

// ---------------------------------------------------------------------------------------
// Check rules
// ---------------------------------------------------------------------------------------

#[test]
fn exactly_one_of_is_enforced() {
    let r = parse(jwt_policy(json!({
        "issuer": "https://idp.example.com/",
        "jwks": {"inline": "{\"keys\": []}", "remote": {"url": "https://idp.example.com/jwks.json"}}
    })));
    assert_error(
        &check(&r),
        "spec.traffic.jwtAuthentication.providers[0].jwks",
        "only one of inline, remote may be set",
    );

    let r = parse(policy(json!({"traffic": {"cors": {"maxAge": 5}}})));
    assert_error(
        &check(&r),
        "spec",
        "one of targetRefs, targetSelectors is required",
    );

    let r = parse(backend(
        json!({"static": {"host": "a", "port": 80}, "a2a": {"host": "b", "port": 1}}),
    ));
    assert_error(
        &check(&r),
        "spec",
        "only one of ai, mcp, static, dynamicForwardProxy, a2a, aws may be set",
    );
}

#[test]
fn at_least_one_and_list_lengths() {
    let r = parse(policy(json!({"targetRefs": gateway_target()})));
    assert_error(
        &check(&r),
        "spec",
        "at least one of traffic, frontend, backend is required",
    );

    let r = parse(policy(
        json!({"targetRefs": gateway_target(), "traffic": {"authorization": {"policy": {"matchExpressions": []}}}}),
    ));
    assert_error(
        &check(&r),
        "spec.traffic.authorization.policy.matchExpressions",
        "has 0 entries",
    );
}

#[test]
fn durations_are_checked() {
    let jwks = |cache: &str| json!({"issuer": "i", "jwks": {"remote": {"url": "https://idp.example.com/jwks.json", "cacheDuration": cache}}});
    let f = check(&parse(jwt_policy(jwks("5 minutes"))));
    assert_error(
        &f,
        "spec.traffic.jwtAuthentication.providers[0].jwks.remote.cacheDuration",
        "invalid duration",
    );
    let f = check(&parse(jwt_policy(jwks("1m"))));
    assert_error(
        &f,
        "spec.traffic.jwtAuthentication.providers[0].jwks.remote.cacheDuration",
        "too short",
    );
    let f = check(&parse(jwt_policy(jwks("10m"))));
    assert!(errors(&f).is_empty(), "{:#?}", errors(&f));
}

#[test]
fn ports_are_range_checked_and_required_for_services() {
    let gw = json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "g", "namespace": "ns1"},
        "spec": {"gatewayClassName": "agentgateway", "listeners": [{"name": "http", "port": 70000, "protocol": "HTTP"}]}
    });
    let f = check(&parse(gw));
    assert_error(&f, "spec.listeners[0].port", "70000 is out of range");

    let f = check(&parse(route(
        json!({"rules": [{"backendRefs": [{"name": "svc"}]}]}),
    )));
    assert_error(
        &f,
        "spec.rules[0].backendRefs[0].port",
        "a Service backendRef needs a port",
    );

    let f = check(&parse(jwt_policy(json!({
        "issuer": "i",
        "jwks": {"remote": {"jwksPath": "/jwks", "backendRef": {"name": "idp", "port": 0}}}
    }))));
    assert_error(
        &f,
        "spec.traffic.jwtAuthentication.providers[0].jwks.remote.backendRef.port",
        "0 is out of range",
    );
}

#[test]
fn jwks_path_rules() {
    let f = check(&parse(jwt_policy(json!({
        "issuer": "i", "jwks": {"remote": {"backendRef": {"name": "idp", "port": 443}}}
    }))));
    assert_error(
        &f,
        "spec.traffic.jwtAuthentication.providers[0].jwks.remote.jwksPath",
        "required with `backendRef`",
    );

    let f = check(&parse(jwt_policy(json!({
        "issuer": "i", "jwks": {"remote": {"url": "https://idp/jwks.json", "jwksPath": "jwks.json"}}
    }))));
    assert_error(
        &f,
        "spec.traffic.jwtAuthentication.providers[0].jwks.remote.jwksPath",
        "cannot be combined with `url`",
    );

    let f = check(&parse(jwt_policy(json!({
        "issuer": "i", "jwks": {"remote": {"url": "ftp://idp/jwks.json"}}
    }))));
    assert_error(
        &f,
        "spec.traffic.jwtAuthentication.providers[0].jwks.remote.url",
        "invalid endpoint URL",
    );
}

#[test]
fn jwt_mcp_block_is_typed_and_constrained() {
    let doc = policy(json!({
        "targetRefs": gateway_target(),
        "traffic": {"jwtAuthentication": {
            "mode": "Optional",
            "providers": [
                {"issuer": "a", "jwks": {"inline": "{\"keys\":[]}"}},
                {"issuer": "b", "jwks": {"inline": "{\"keys\":[]}"}}
            ],
            "mcp": {"provider": "Auth0", "clientId": "abc", "resourceMetadata": {"scopes_supported": ["read", "write"]}}
        }}
    }));
    let r = parse(doc);
    let f = check(&r);
    assert_error(
        &f,
        "spec.traffic.jwtAuthentication.mcp",
        "needs exactly one provider, found 2",
    );
    assert_error(
        &f,
        "spec.traffic.jwtAuthentication.mode",
        "requires mode Strict",
    );
    let Resource::AgentgatewayPolicy(p) = r else {
        panic!()
    };
    let mcp = p
        .spec
        .traffic
        .unwrap()
        .jwt_authentication
        .unwrap()
        .mcp
        .unwrap();
    assert_eq!(
        mcp.provider,
        Some(palisade_api::kinds::agentgateway::authn::McpIdp::Auth0)
    );
    assert_eq!(
        mcp.resource_metadata["scopes_supported"],
        json!(["read", "write"])
    );
}

#[test]
fn target_refs_rules() {
    let f = check(&parse(policy(json!({
        "targetRefs": [
            {"group": "", "kind": "Secret", "name": "s"},
            {"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "g"}
        ],
        "traffic": {"cors": {"allowOrigins": ["*"]}}
    }))));
    assert_error(&f, "spec.targetRefs[0]", "cannot target kind \"Secret\"");
    assert_error(&f, "spec.targetRefs[1].kind", "must share one kind");

    let f = check(&parse(policy(json!({
        "targetRefs": [{"group": "", "kind": "Service", "name": "s", "sectionName": "http"}],
        "backend": {"ai": {"modelAliases": {"fast": "gpt-4o-mini"}}}
    }))));
    assert_error(
        &f,
        "spec.targetRefs[0].sectionName",
        "must be a port number",
    );
    assert_error(
        &f,
        "spec.targetRefs[0]",
        "`backend.ai` cannot be used with a Service target",
    );

    let f = check(&parse(policy(json!({
        "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "r"}],
        "frontend": {"tcp": {"keepalive": {"retries": 3}}}
    }))));
    assert_error(
        &f,
        "spec.targetRefs[0]",
        "`frontend` can only target whole Gateways",
    );

    // Enterprise policies may also target EnterpriseAgentgatewayBackend; OSS ones may not.
    let ent_target = json!([{"group": "enterpriseagentgateway.solo.io", "kind": "EnterpriseAgentgatewayBackend", "name": "x"}]);
    let mut doc = policy(json!({"targetRefs": ent_target, "backend": {"tls": {}}}));
    let f = check(&parse(doc.clone()));
    assert_error(
        &f,
        "spec.targetRefs[0]",
        "cannot target kind \"EnterpriseAgentgatewayBackend\"",
    );
    doc["apiVersion"] = json!("enterpriseagentgateway.solo.io/v1alpha1");
    doc["kind"] = json!("EnterpriseAgentgatewayPolicy");
    assert!(
        errors(&check(&parse(doc)))
            .iter()
            .all(|(p, _, _)| p != "spec.targetRefs[0]")
    );
}

#[test]
fn pre_routing_restrictions() {
    let f = check(&parse(policy(json!({
        "targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "r"}],
        "traffic": {"phase": "PreRouting", "rateLimit": {"local": [{"requests": 10, "unit": "Minutes"}]}}
    }))));
    assert_error(
        &f,
        "spec.traffic.rateLimit",
        "cannot run in phase PreRouting",
    );
    assert_error(
        &f,
        "spec.targetRefs[0]",
        "`traffic.phase: PreRouting` cannot target a HTTPRoute",
    );
}

#[test]
fn enterprise_only_fields_parse_but_are_rejected() {
    let doc = json!({
        "apiVersion": "enterpriseagentgateway.solo.io/v1alpha1",
        "kind": "EnterpriseAgentgatewayPolicy",
        "metadata": {"name": "p", "namespace": "ns1"},
        "spec": {
            "targetRefs": gateway_target(),
            "traffic": {
                "entExtAuth": {"authConfigRef": {"name": "cfg"}},
                "entRateLimit": {"global": {"rateLimitConfigRefs": [{"name": "rl"}]}}
            },
            "backend": {"tokenExchange": {"mode": "ExchangeOnly"}}
        }
    });
    let r = parse(doc.clone());
    assert_eq!(r.to_json(), doc, "ENT fields must be kept, not dropped");
    let f = check(&r);
    assert_error(
        &f,
        "spec.traffic.entExtAuth",
        "`entExtAuth` (enterprise external auth through an AuthConfig) is not supported yet by Palisade",
    );
    assert_error(
        &f,
        "spec.traffic.entRateLimit",
        "not supported yet by Palisade",
    );
    assert_error(
        &f,
        "spec.backend.tokenExchange",
        "not supported yet by Palisade",
    );
}

#[test]
fn conditional_policies_report_cel_and_order() {
    let r = parse(policy(json!({
        "targetRefs": gateway_target(),
        "traffic": {"transformation": {"conditional": [
            {"policy": {"request": {"set": [{"name": "x-a", "value": "'a'"}]}}},
            {"condition": "request.path == '/b'", "policy": {"request": {"set": [{"name": "x-b", "value": "'b'"}]}}}
        ]}}
    })));
    let f = check(&r);
    assert_error(
        &f,
        "spec.traffic.transformation.conditional[0].condition",
        "only the last conditional entry may omit `condition`",
    );
    assert_eq!(
        programs(&f, ProgramKind::Cel),
        vec![
            (
                "spec.traffic.transformation.conditional[0].policy.request.set[0].value"
                    .to_string(),
                "'a'".to_string()
            ),
            (
                "spec.traffic.transformation.conditional[1].condition".to_string(),
                "request.path == '/b'".to_string()
            ),
            (
                "spec.traffic.transformation.conditional[1].policy.request.set[0].value"
                    .to_string(),
                "'b'".to_string()
            ),
        ]
    );
    let Resource::AgentgatewayPolicy(p) = r else {
        panic!()
    };
    assert_eq!(
        p.spec
            .traffic
            .unwrap()
            .transformation
            .unwrap()
            .branches()
            .len(),
        2
    );

    let f = check(&parse(policy(json!({
        "targetRefs": gateway_target(),
        "traffic": {"directResponse": {"status": 404, "conditional": [{"policy": {"status": 403}}]}}
    }))));
    assert_error(
        &f,
        "spec.traffic.directResponse.conditional",
        "cannot be combined with fields set inline",
    );

    let f = check(&parse(policy(json!({
        "targetRefs": gateway_target(),
        "traffic": {"directResponse": {"body": "x", "bodyExpression": "'y'"}}
    }))));
    assert_error(
        &f,
        "spec.traffic.directResponse.status",
        "`status` is required",
    );
    assert_error(
        &f,
        "spec.traffic.directResponse",
        "only one of body, bodyExpression may be set",
    );
}

#[test]
fn rate_limit_and_ext_auth_cel_paths() {
    let f = check(&parse(policy(json!({
        "targetRefs": gateway_target(),
        "traffic": {
            "rateLimit": {
                "local": [{"requests": 5, "tokens": 10, "unit": "Seconds"}],
                "global": {
                    "backendRef": {"name": "rls", "port": 8081},
                    "domain": "palisade",
                    "descriptors": [{"entries": [{"name": "ip", "expression": "source.address"}], "cost": "1"}]
                }
            },
            "extAuth": {
                "url": "http://authz.example.com:9000/check",
                "grpc": {"requestMetadata": {"user": "jwt.sub"}}
            }
        }
    }))));
    assert_error(
        &f,
        "spec.traffic.rateLimit.local[0]",
        "only one of requests, tokens may be set",
    );
    assert_error(
        &f,
        "spec.traffic.extAuth.url",
        "has a path, which is not allowed here",
    );
    let cel = programs(&f, ProgramKind::Cel);
    assert!(cel.contains(&(
        "spec.traffic.rateLimit.global.descriptors[0].entries[0].expression".into(),
        "source.address".into()
    )));
    assert!(cel.contains(&(
        "spec.traffic.rateLimit.global.descriptors[0].cost".into(),
        "1".into()
    )));
    assert!(cel.contains(&(
        "spec.traffic.extAuth.grpc.requestMetadata[user]".into(),
        "jwt.sub".into()
    )));
    assert!(references(&f).contains(&(
        "spec.traffic.rateLimit.global.backendRef".into(),
        reference("Service", "ns1", "rls")
    )));
}

#[test]
fn ai_transformations_are_cel_and_guards_are_exclusive() {
    let f = check(&parse(policy(json!({
        "targetRefs": [{"group": "agentgateway.dev", "kind": "AgentgatewayBackend", "name": "llm"}],
        "backend": {"ai": {
            "defaults": [{"field": "temperature", "value": 0.2}],
            "transformations": [{"field": "max_tokens", "expression": "min(llmRequest.max_tokens, 1024)"}],
            "promptGuard": {"request": [
                {"regex": {"matches": ["(?i)secret"]}, "webhook": {"backendRef": {"name": "guard", "port": 80}}}
            ]}
        }}
    }))));
    assert_error(
        &f,
        "spec.backend.ai.promptGuard.request[0]",
        "only one of regex, webhook, openAIModeration, bedrockGuardrails, googleModelArmor may be set, found regex and webhook",
    );
    assert!(programs(&f, ProgramKind::Cel).contains(&(
        "spec.backend.ai.transformations[0].expression".into(),
        "min(llmRequest.max_tokens, 1024)".into()
    )));
    assert_eq!(
        programs(&f, ProgramKind::Regex),
        vec![(
            "spec.backend.ai.promptGuard.request[0].regex.matches[0]".to_string(),
            "(?i)secret".to_string()
        )]
    );
}

#[test]
fn backend_auth_rules() {
    let f = check(&parse(backend(json!({
        "ai": {"provider": {"openai": {}}},
        "policies": {"auth": {"key": "k", "passthrough": {}}, "mcp": {"authorization": {"policy": {"matchExpressions": ["true"]}}}}
    }))));
    assert_error(
        &f,
        "spec.policies.auth",
        "only one of key, passthrough may be set",
    );
    assert_error(
        &f,
        "spec.policies.mcp",
        "`policies.mcp` needs an `mcp` backend",
    );

    let f = check(&parse(backend(json!({
        "ai": {"groups": [{"providers": [{"anthropic": {}}, {"name": "b", "openai": {}, "pathPrefix": "/v1"}]}]}
    }))));
    assert_error(&f, "spec.ai.groups[0].providers[0].name", "needs a `name`");
    assert_error(
        &f,
        "spec.ai.groups[0].providers[1].pathPrefix",
        "`pathPrefix` needs `host`",
    );
}

#[test]
fn backend_tls_rules() {
    let f = check(&parse(policy(json!({
        "targetRefs": [{"group": "", "kind": "Service", "name": "s"}],
        "backend": {"tls": {"insecureSkipVerify": "All", "caCertificateRefs": [{"name": "ca"}], "verifySubjectAltNames": ["a"]}}
    }))));
    assert_error(
        &f,
        "spec.backend.tls.verifySubjectAltNames",
        "cannot be combined",
    );
    assert_error(
        &f,
        "spec.backend.tls.caCertificateRefs",
        "ignores caCertificateRefs",
    );
    assert!(references(&f).contains(&(
        "spec.backend.tls.caCertificateRefs[0].name".into(),
        reference("ConfigMap", "ns1", "ca")
    )));
}

#[test]
fn mcp_target_checks() {
    let f = check(&parse(backend(json!({"mcp": {"targets": [
        {"name": "Bad_Name", "static": {"host": "h", "port": 3000}},
        {"name": "svc", "static": {"backendRef": {"name": "mcp-svc"}, "port": 0, "protocol": "SSE"}},
        {"name": "svc", "selector": {"services": {"matchLabels": {"app": "mcp"}}}}
    ]}}))));
    assert_error(&f, "spec.mcp.targets[0].name", "invalid target name");
    assert_error(&f, "spec.mcp.targets[1].static.port", "0 is out of range");
    assert_error(&f, "spec.mcp.targets[2]", "duplicate target name \"svc\"");
    assert!(references(&f).contains(&(
        "spec.mcp.targets[1].static.backendRef".into(),
        reference("Service", "ns1", "mcp-svc")
    )));
}

#[test]
fn cors_wildcards_must_stand_alone() {
    let f = check(&parse(policy(json!({
        "targetRefs": gateway_target(),
        "traffic": {"cors": {"allowOrigins": ["*", "https://a.example.com"], "allowMethods": ["GET", "*"], "maxAge": 0}}
    }))));
    assert_error(
        &f,
        "spec.traffic.cors.allowOrigins",
        "`*` must be the only entry",
    );
    assert_error(
        &f,
        "spec.traffic.cors.allowMethods",
        "`*` must be the only entry",
    );
    assert_error(&f, "spec.traffic.cors.maxAge", "0 is out of range");
}

// ---------------------------------------------------------------------------------------
// Gateway API
// ---------------------------------------------------------------------------------------

#[test]
fn httproute_defaults() {
    let r = parse(route(
        json!({"parentRefs": [{"name": "gw", "namespace": "other"}]}),
    ));
    let f = check(&r);
    assert!(errors(&f).is_empty(), "{:#?}", errors(&f));
    assert_eq!(
        references(&f),
        vec![(
            "spec.parentRefs[0]".to_string(),
            reference("Gateway", "other", "gw")
        )]
    );
    let Resource::HttpRoute(rt) = r else { panic!() };
    let rules = rt.spec.effective_rules();
    assert_eq!(rules.len(), 1);
    assert_eq!(
        rules[0].effective_matches()[0].path_match(),
        (PathMatchType::PathPrefix, "/")
    );
}

#[test]
fn httproute_regexes_and_path_rules() {
    let f = check(&parse(route(json!({"rules": [{
        "matches": [
            {"path": {"type": "RegularExpression", "value": "^/v[0-9]+/.*"},
             "headers": [{"type": "RegularExpression", "name": "x-team", "value": "team-(a|b)"}],
             "queryParams": [{"type": "RegularExpression", "name": "q", "value": "^x+$"}]},
            {"path": {"type": "Exact", "value": "/a//b"}},
            {"path": {"type": "PathPrefix", "value": "api"}}
        ]
    }]}))));
    assert_eq!(
        programs(&f, ProgramKind::Regex),
        vec![
            (
                "spec.rules[0].matches[0].path.value".to_string(),
                "^/v[0-9]+/.*".to_string()
            ),
            (
                "spec.rules[0].matches[0].headers[0].value".to_string(),
                "team-(a|b)".to_string()
            ),
            (
                "spec.rules[0].matches[0].queryParams[0].value".to_string(),
                "^x+$".to_string()
            ),
        ]
    );
    assert_error(
        &f,
        "spec.rules[0].matches[1].path.value",
        "must not contain '//'",
    );
    assert_error(
        &f,
        "spec.rules[0].matches[2].path.value",
        "must start with '/'",
    );
}

#[test]
fn httproute_filter_rules() {
    let f = check(&parse(route(json!({"rules": [
        {
            "filters": [
                {"type": "RequestRedirect", "requestRedirect": {"statusCode": 305}},
                {"type": "URLRewrite", "requestHeaderModifier": {"set": [{"name": "x", "value": "y"}]}}
            ],
            "backendRefs": [{"name": "svc", "port": 80}]
        },
        {
            "matches": [{"path": {"type": "Exact", "value": "/a"}}],
            "filters": [
                {"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/b"}}},
                {"type": "URLRewrite", "urlRewrite": {"hostname": "example.com"}}
            ]
        }
    ]}))));
    assert_error(
        &f,
        "spec.rules[0].filters[0].requestRedirect.statusCode",
        "305 is not a redirect status",
    );
    assert_error(
        &f,
        "spec.rules[0].filters[1].urlRewrite",
        "filter type URLRewrite needs `urlRewrite`",
    );
    assert_error(
        &f,
        "spec.rules[0].filters[1].requestHeaderModifier",
        "does not belong to a filter of type URLRewrite",
    );
    assert_error(
        &f,
        "spec.rules[0].filters",
        "RequestRedirect and URLRewrite cannot be used together",
    );
    assert_error(&f, "spec.rules[0].backendRefs", "cannot have backendRefs");
    assert_error(
        &f,
        "spec.rules[1].filters[0]",
        "ReplacePrefixMatch needs the rule to have exactly one match, of type PathPrefix",
    );
    assert_error(
        &f,
        "spec.rules[1].filters[1].type",
        "appears more than once",
    );
}

#[test]
fn gateway_listener_rules() {
    let gw = json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "g", "namespace": "ns1"},
        "spec": {"gatewayClassName": "agentgateway", "listeners": [
            {"name": "http", "port": 80, "protocol": "HTTP", "tls": {"certificateRefs": [{"name": "c"}]}},
            {"name": "https", "port": 443, "protocol": "HTTPS"},
            {"name": "http", "port": 8080, "protocol": "HTTP", "allowedRoutes": {"namespaces": {"from": "Selector"}}},
            {"name": "tls", "port": 8443, "protocol": "HTTPS", "hostname": "*.example.com", "tls": {"certificateRefs": [{"name": "cert"}]}}
        ]}
    });
    let f = check(&parse(gw));
    assert_error(
        &f,
        "spec.listeners[0].tls",
        "`tls` is not allowed on a HTTP listener",
    );
    assert_error(&f, "spec.listeners[1].tls", "a HTTPS listener needs `tls`");
    assert_error(&f, "spec.listeners[2]", "duplicate listener name \"http\"");
    assert_error(
        &f,
        "spec.listeners[2].allowedRoutes.namespaces.selector",
        "needs a selector",
    );
    assert!(references(&f).contains(&(
        "spec.listeners[3].tls.certificateRefs[0]".into(),
        reference("Secret", "ns1", "cert")
    )));
}
