//! The authorizer on the seed's RBAC objects (SEED-CASES S10), Palisade's
//! built-in roles, namespaced bindings and escalation checks.

use palisade_api::kinds::rbac::PolicyRule;
use palisade_api::load::load_str;
use palisade_api::snapshot::Snapshot;
use palisade_rbac::{Action, Authorizer, Decision, User, builtin, forbidden_message};

/// The seed's ServiceAccount, ClusterRole and ClusterRoleBinding (examples/seed,
/// verbatim), plus a namespaced Role and RoleBinding.
fn seed_rbac() -> String {
    let seed = |name: &str| {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/seed")
            .join(name);
        std::fs::read_to_string(path).unwrap()
    };
    format!(
        "{}\n---\n{}\n{NAMESPACED_RBAC}",
        seed("10-serviceaccount-test-reader.yaml"),
        seed("11-rbac-kagent-crd-viewer.yaml")
    )
}

const NAMESPACED_RBAC: &str = r#"---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: route-editor, namespace: team-a}
rules:
  - apiGroups: ["gateway.networking.k8s.io"]
    resources: ["httproutes"]
    verbs: ["*"]
  - apiGroups: [""]
    resources: ["services"]
    resourceNames: ["billing"]
    verbs: ["get", "update"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-edits-routes, namespace: team-a}
subjects:
  - {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: route-editor, apiGroup: rbac.authorization.k8s.io}
"#;

fn authorizer(yaml: &str) -> Authorizer {
    let batch = load_str("rbac.yaml", yaml);
    assert!(
        batch.diagnostics.iter().all(|d| !d.is_error()),
        "{:?}",
        batch.diagnostics
    );
    let (snapshot, _) = Snapshot::build(batch.resources);
    Authorizer::new(&snapshot)
}

fn action<'a>(verb: &'a str, group: &'a str, resource: &'a str, ns: Option<&'a str>) -> Action<'a> {
    Action {
        verb,
        group,
        resource,
        subresource: None,
        namespace: ns,
        name: None,
    }
}

#[test]
fn seed_service_account_reads_but_cannot_create_mcpservers() {
    let authz = authorizer(&seed_rbac());
    let reader = User::service_account("kagent", "test-reader");
    for verb in ["get", "list", "watch"] {
        let decision = authz.decide(
            &reader,
            &action(verb, "kagent.dev", "mcpservers", Some("kagent")),
        );
        assert_eq!(
            decision,
            Decision::Allowed {
                by: "ClusterRoleBinding/kagent-viewer-binding".into()
            }
        );
    }
    // A ClusterRoleBinding applies in every namespace and to all-namespace lists.
    assert!(
        authz
            .decide(&reader, &action("list", "kagent.dev", "agents", None))
            .allowed()
    );
    let create = action("create", "kagent.dev", "mcpservers", Some("kagent"));
    assert_eq!(authz.decide(&reader, &create), Decision::Denied);
    assert_eq!(
        forbidden_message(&reader, &create),
        r#"mcpservers.kagent.dev is forbidden: User "system:serviceaccount:kagent:test-reader" cannot create resource "mcpservers" in API group "kagent.dev" in the namespace "kagent""#
    );
    // Other resources and other service accounts get nothing.
    assert!(
        !authz
            .decide(&reader, &action("get", "", "secrets", Some("kagent")))
            .allowed()
    );
    let other = User::service_account("other", "test-reader");
    assert!(
        !authz
            .decide(
                &other,
                &action("get", "kagent.dev", "mcpservers", Some("kagent"))
            )
            .allowed()
    );
}

#[test]
fn role_bindings_apply_in_their_namespace_only_and_honour_resource_names() {
    let authz = authorizer(&seed_rbac());
    let alice = User::new("alice", []);
    assert!(
        authz
            .decide(
                &alice,
                &action(
                    "delete",
                    "gateway.networking.k8s.io",
                    "httproutes",
                    Some("team-a")
                )
            )
            .allowed()
    );
    assert!(
        !authz
            .decide(
                &alice,
                &action(
                    "delete",
                    "gateway.networking.k8s.io",
                    "httproutes",
                    Some("team-b")
                )
            )
            .allowed()
    );
    assert!(
        !authz
            .decide(
                &alice,
                &action("list", "gateway.networking.k8s.io", "httproutes", None)
            )
            .allowed()
    );
    let billing = Action {
        name: Some("billing"),
        ..action("update", "", "services", Some("team-a"))
    };
    assert!(authz.decide(&alice, &billing).allowed());
    let other = Action {
        name: Some("payroll"),
        ..billing
    };
    assert!(!authz.decide(&alice, &other).allowed());
    // resourceNames never allow collection verbs.
    assert!(
        !authz
            .decide(&alice, &action("list", "", "services", Some("team-a")))
            .allowed()
    );
    assert_eq!(
        forbidden_message(&alice, &other),
        r#"services "payroll" is forbidden: User "alice" cannot update resource "services" in API group "" in the namespace "team-a""#
    );
}

#[test]
fn built_in_roles_follow_the_oidc_mapping_groups() {
    let authz = authorizer("");
    let admin = User::new("root", [builtin::ADMIN.to_string()]);
    let writer = User::new("w", [builtin::WRITER.to_string()]);
    let reader = User::new("r", [builtin::READER.to_string()]);
    let nobody = User::new("n", []);
    let create_agent = action("create", "kagent.dev", "agents", Some("kagent"));
    let get_agent = action("get", "kagent.dev", "agents", Some("kagent"));
    let bind = action(
        "create",
        "rbac.authorization.k8s.io",
        "clusterrolebindings",
        None,
    );
    let read_secret = action("get", "", "secrets", Some("kagent"));
    let write_secret = action("create", "", "secrets", Some("kagent"));
    let impersonate = action("impersonate", "", "users", None);

    for a in [
        &create_agent,
        &get_agent,
        &bind,
        &read_secret,
        &write_secret,
        &impersonate,
    ] {
        assert!(authz.decide(&admin, a).allowed(), "admin {a:?}");
        assert!(!authz.decide(&nobody, a).allowed(), "nobody {a:?}");
    }
    assert!(authz.decide(&writer, &create_agent).allowed());
    assert!(authz.decide(&writer, &get_agent).allowed());
    assert!(authz.decide(&writer, &write_secret).allowed());
    assert!(
        !authz.decide(&writer, &read_secret).allowed(),
        "writers never read Secrets"
    );
    assert!(
        !authz.decide(&writer, &bind).allowed(),
        "writers do not touch RBAC"
    );
    assert!(!authz.decide(&writer, &impersonate).allowed());
    assert!(authz.decide(&reader, &get_agent).allowed());
    assert!(
        authz
            .decide(
                &reader,
                &action("watch", "gateway.networking.k8s.io", "httproutes", None)
            )
            .allowed()
    );
    assert!(!authz.decide(&reader, &create_agent).allowed());
    assert!(!authz.decide(&reader, &read_secret).allowed());
}

#[test]
fn nobody_grants_more_than_they_hold() {
    let authz = authorizer(&seed_rbac());
    let reader = User::service_account("kagent", "test-reader");
    let viewer_rules = vec![PolicyRule {
        verbs: vec!["get".into()],
        api_groups: vec!["kagent.dev".into()],
        resources: vec!["mcpservers".into()],
        ..PolicyRule::default()
    }];
    assert_eq!(authz.covers(&reader, Some("kagent"), &viewer_rules), Ok(()));
    let wider = vec![PolicyRule {
        verbs: vec!["get".into(), "create".into()],
        ..viewer_rules[0].clone()
    }];
    assert_eq!(
        authz.covers(&reader, Some("kagent"), &wider),
        Err(r#"create on mcpservers in API group "kagent.dev""#.into())
    );
    // A wildcard is held only through a wildcard.
    let star = vec![PolicyRule {
        resources: vec!["*".into()],
        ..viewer_rules[0].clone()
    }];
    assert!(authz.covers(&reader, Some("kagent"), &star).is_err());
    let admin = User::new("root", [builtin::ADMIN.to_string()]);
    assert_eq!(authz.covers(&admin, None, &star), Ok(()));
}

#[test]
fn aggregated_cluster_roles_collect_matching_rules() {
    let authz = authorizer(
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {rbac.example.com/aggregate-to-monitoring: "true"}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: monitoring-agents
  labels: {rbac.example.com/aggregate-to-monitoring: "true"}
rules: [{apiGroups: ["kagent.dev"], resources: ["agents"], verbs: ["list"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: ops-monitoring}
subjects: [{kind: Group, name: ops, apiGroup: rbac.authorization.k8s.io}]
roleRef: {kind: ClusterRole, name: monitoring, apiGroup: rbac.authorization.k8s.io}
"#,
    );
    let ops = User::new("bob", ["ops".to_string()]);
    assert!(
        authz
            .decide(&ops, &action("list", "kagent.dev", "agents", None))
            .allowed()
    );
    assert!(
        !authz
            .decide(&ops, &action("list", "kagent.dev", "mcpservers", None))
            .allowed()
    );
}
