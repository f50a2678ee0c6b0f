//! The admin API end to end over HTTP (curl): the bootstrap credential, the
//! seed's RBAC (SEED-CASES S10) with service-account tokens and
//! impersonation, escalation attempts, Secrets that never come back,
//! optimistic concurrency under contention, restarts, read-only file objects,
//! writes that would break the configuration, and writes that go live.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use palisade_testkit::admin_api::AdminApi;
use palisade_testkit::{Palisade, TempDir};
use serde_json::{Value, json};

type Api = AdminApi;

fn start(dir: &Path, extra: &[&str]) -> Palisade {
    Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("--state-dir")
        .arg(dir)
        .args(extra.iter().copied())
        .start()
}

const SA_PATH: &str = "/api/v1/namespaces/kagent/serviceaccounts";
const MCPS_PATH: &str = "/apis/kagent.dev/v1alpha1/namespaces/kagent/mcpservers";

fn seed_rbac(api: &Api) {
    let sa =
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "test-reader"}});
    assert_eq!(api.post(SA_PATH, &sa).status, 201);
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "kagent-crd-viewer"},
        "rules": [{"apiGroups": ["kagent.dev"], "resources": ["agents", "mcpservers", "modelconfigs"], "verbs": ["get", "list", "watch"]}]});
    let r = api.post("/apis/rbac.authorization.k8s.io/v1/clusterroles", &role);
    assert_eq!(r.status, 201, "{}", r.body);
    let binding = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "kagent-viewer-binding"},
        "subjects": [{"kind": "ServiceAccount", "name": "test-reader", "namespace": "kagent"}],
        "roleRef": {"kind": "ClusterRole", "name": "kagent-crd-viewer", "apiGroup": "rbac.authorization.k8s.io"}});
    let r = api.post(
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        &binding,
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

fn mcp_server() -> Value {
    json!({"apiVersion": "kagent.dev/v1alpha1", "kind": "MCPServer",
        "metadata": {"name": "test-reader-only", "namespace": "kagent", "labels": {"kagent.solo.io/waypoint": "true"}},
        "spec": {"deployment": {"image": "mcp/everything", "port": 3000, "cmd": "npx",
            "args": ["-y", "@modelcontextprotocol/server-github"]}, "transportType": "stdio"}})
}

const FORBIDDEN_CREATE: &str = r#"mcpservers.kagent.dev is forbidden: User "system:serviceaccount:kagent:test-reader" cannot create resource "mcpservers" in API group "kagent.dev" in the namespace "kagent""#;

#[test]
fn bootstrap_credential_rbac_tokens_impersonation_and_escalation() {
    let dir = TempDir::new("api-rbac");
    let palisade = start(dir.path(), &[]);
    let config = dir.path().join("admin.yaml");
    let mode = std::fs::metadata(&config).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "admin.yaml is private");
    let admin = Api::admin(&palisade);
    assert!(
        !palisade.logs().contains(&admin.token),
        "the admin token is never logged"
    );
    for token in ["", "not-a-token"] {
        let r = admin.with_token(token).get(MCPS_PATH);
        assert_eq!(r.status, 401, "{}", r.body);
        assert_eq!(r.body["reason"], "Unauthorized");
    }

    seed_rbac(&admin);
    // The reader's own token (as `palisade create token` gets it).
    let r = admin.post(&format!("{SA_PATH}/test-reader/token"), &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 600}}));
    assert_eq!(r.status, 201, "{}", r.body);
    let reader = admin.with_token(r.body["status"]["token"].as_str().unwrap());

    assert_eq!(reader.get(MCPS_PATH).status, 200);
    let r = reader.post(MCPS_PATH, &mcp_server());
    assert_eq!(r.status, 403);
    assert_eq!(r.body["message"], FORBIDDEN_CREATE);
    // The same through impersonation by the admin.
    let r = admin.call(
        "POST",
        MCPS_PATH,
        Some(&mcp_server()),
        &["Impersonate-User: system:serviceaccount:kagent:test-reader"],
    );
    assert_eq!(r.body["message"], FORBIDDEN_CREATE);
    assert_eq!(
        admin.get(&format!("{MCPS_PATH}/test-reader-only")).status,
        404,
        "nothing was created"
    );

    // Access reviews, as `auth can-i` asks them.
    let review = |verb: &str| {
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": verb, "group": "kagent.dev", "resource": "mcpservers"}}})
    };
    let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    assert_eq!(
        reader.post(path, &review("get")).body["status"]["allowed"],
        true
    );
    assert_eq!(
        reader.post(path, &review("create")).body["status"]["allowed"],
        false
    );

    // What a reader must never do: read Secrets, impersonate, escalate.
    let r = reader.get("/api/v1/namespaces/kagent/secrets");
    assert_eq!(r.status, 403, "{}", r.body);
    let r = reader.call(
        "GET",
        MCPS_PATH,
        None,
        &["Impersonate-User: palisade:admin"],
    );
    assert_eq!(r.status, 403, "{}", r.body);
    // Even allowed to create RoleBindings, it cannot bind a role it does not hold.
    let binder = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "binder", "namespace": "kagent"},
        "rules": [{"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["rolebindings"], "verbs": ["create"]}]});
    assert_eq!(
        admin
            .post(
                "/apis/rbac.authorization.k8s.io/v1/namespaces/kagent/roles",
                &binder
            )
            .status,
        201
    );
    let grant = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "binder", "namespace": "kagent"},
        "subjects": [{"kind": "ServiceAccount", "name": "test-reader", "namespace": "kagent"}],
        "roleRef": {"kind": "Role", "name": "binder", "apiGroup": "rbac.authorization.k8s.io"}});
    assert_eq!(
        admin
            .post(
                "/apis/rbac.authorization.k8s.io/v1/namespaces/kagent/rolebindings",
                &grant
            )
            .status,
        201
    );
    let escalate = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "make-me-admin", "namespace": "kagent"},
        "subjects": [{"kind": "ServiceAccount", "name": "test-reader", "namespace": "kagent"}],
        "roleRef": {"kind": "ClusterRole", "name": "global.Admin", "apiGroup": "rbac.authorization.k8s.io"}});
    let r = reader.post(
        "/apis/rbac.authorization.k8s.io/v1/namespaces/kagent/rolebindings",
        &escalate,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("not currently held"),
        "{}",
        r.body
    );
    // Binding what it already holds is fine.
    let viewer = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "viewer-again", "namespace": "kagent"},
        "subjects": [{"kind": "ServiceAccount", "name": "test-reader", "namespace": "kagent"}],
        "roleRef": {"kind": "ClusterRole", "name": "kagent-crd-viewer", "apiGroup": "rbac.authorization.k8s.io"}});
    let r = reader.post(
        "/apis/rbac.authorization.k8s.io/v1/namespaces/kagent/rolebindings",
        &viewer,
    );
    assert_eq!(r.status, 201, "{}", r.body);

    // Every refusal is in the audit log.
    let r = admin.get("/apis/audit.palisade.dev/v1/events?outcome=denied&principal=system%3Aserviceaccount%3Akagent%3Atest-reader");
    assert_eq!(r.status, 200, "{}", r.body);
    let reasons: Vec<String> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["verb"].as_str().unwrap_or_default(),
                e["reason"].as_str().unwrap_or_default()
            )
        })
        .collect();
    for expected in [
        "secrets is forbidden",
        "cannot impersonate",
        "not currently held",
        FORBIDDEN_CREATE,
    ] {
        assert!(
            reasons.iter().any(|r| r.contains(expected)),
            "{expected} not audited: {reasons:#?}"
        );
    }
    // Deleting the service account revokes its tokens.
    assert_eq!(
        admin
            .call("DELETE", &format!("{SA_PATH}/test-reader"), None, &[])
            .status,
        200
    );
    assert_eq!(reader.get(MCPS_PATH).status, 401);
}

#[test]
fn secrets_never_leave_the_server_and_are_encrypted_at_rest() {
    let dir = TempDir::new("api-secrets");
    let palisade = start(dir.path(), &[]);
    let admin = Api::admin(&palisade);
    let value = "sk-ant-never-printed-0123456789";
    let secret = json!({"apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "kagent-anthropic", "namespace": "kagent"},
        "stringData": {"ANTHROPIC_API_KEY": value}});
    let path = "/api/v1/namespaces/kagent/secrets";
    let created = admin.post(path, &secret);
    assert_eq!(created.status, 201, "{}", created.body);
    for r in [
        created,
        admin.get(&format!("{path}/kagent-anthropic")),
        admin.get(path),
    ] {
        let text = r.body.to_string();
        assert!(!text.contains(value), "secret value returned: {text}");
        assert!(
            text.contains("ANTHROPIC_API_KEY"),
            "key names are shown: {text}"
        );
    }
    // Re-applying what `get` shows keeps the data.
    let shown = admin.get(&format!("{path}/kagent-anthropic")).body;
    let mut again = shown.clone();
    again["metadata"]["labels"] = json!({"team": "a"});
    let r = admin.put(&format!("{path}/kagent-anthropic"), &again);
    assert_eq!(r.status, 200, "{}", r.body);
    drop(palisade);
    for file in ["palisade.db", "palisade.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(file)) {
            let needle = value.as_bytes();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{file} holds the secret in clear"
            );
        }
    }
}

#[test]
fn concurrent_updates_lose_nothing_and_restarts_keep_everything() {
    let dir = TempDir::new("api-concurrency");
    let palisade = start(dir.path(), &[]);
    let admin = Api::admin(&palisade);
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "counter", "labels": {"count": "0"}}});
    assert_eq!(admin.post("/api/v1/namespaces", &ns).status, 201);
    let (workers, increments) = (6, 5);
    let threads: Vec<_> = (0..workers)
        .map(|_| {
            let api = admin.clone();
            std::thread::spawn(move || {
                let mut conflicts = 0;
                for _ in 0..increments {
                    loop {
                        let mut current = api.get("/api/v1/namespaces/counter").body;
                        let n: u64 = current["metadata"]["labels"]["count"]
                            .as_str()
                            .unwrap()
                            .parse()
                            .unwrap();
                        current["metadata"]["labels"]["count"] = (n + 1).to_string().into();
                        let r = api.put("/api/v1/namespaces/counter", &current);
                        match r.status {
                            200 => break,
                            409 => conflicts += 1,
                            other => panic!("{other}: {}", r.body),
                        }
                    }
                }
                conflicts
            })
        })
        .collect();
    let conflicts: u32 = threads.into_iter().map(|t| t.join().unwrap()).sum();
    let final_count =
        admin.get("/api/v1/namespaces/counter").body["metadata"]["labels"]["count"].clone();
    assert_eq!(
        final_count,
        (workers * increments).to_string(),
        "lost updates ({conflicts} conflicts retried)"
    );
    // A stale resourceVersion is a conflict.
    let mut stale = admin.get("/api/v1/namespaces/counter").body;
    stale["metadata"]["resourceVersion"] = "1".into();
    let r = admin.put("/api/v1/namespaces/counter", &stale);
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.body["reason"], "Conflict");

    drop(palisade);
    let palisade = start(dir.path(), &[]);
    let admin = Api::admin(&palisade);
    let after = admin.get("/api/v1/namespaces/counter");
    assert_eq!(after.body["metadata"]["labels"]["count"], final_count);
    let audit =
        admin.get("/apis/audit.palisade.dev/v1/events?kind=Namespace&name=counter&limit=1000");
    let updates = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["verb"] == "update" && e["outcome"] == "allowed")
        .count();
    assert_eq!(
        updates,
        workers * increments,
        "the audit log survived the restart"
    );
}

#[test]
fn file_objects_are_read_only_bad_writes_change_nothing_and_good_ones_go_live() {
    let dir = TempDir::new("api-live");
    let files = TempDir::new("api-live-files");
    let manifest = files.path().join("base.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: v1\nkind: Service\nmetadata: {name: from-file}\nspec: {type: ExternalName, externalName: 127.0.0.1, ports: [{port: 1}]}\n",
    )
    .unwrap();
    let palisade = start(dir.path(), &["-f", manifest.to_str().unwrap()]);
    let admin = Api::admin(&palisade);

    let from_file = admin.get("/api/v1/namespaces/default/services/from-file");
    assert_eq!(from_file.status, 404, "file objects are not in the store");
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "from-file", "namespace": "default"},
        "spec": {"type": "ExternalName", "externalName": "127.0.0.1", "ports": [{"port": 2}]}});
    let r = admin.post("/api/v1/namespaces/default/services", &service);
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body["message"].as_str().unwrap().contains("base.yaml"),
        "{}",
        r.body
    );

    // A route to the admin listener's /healthz, through the API.
    let port = palisade.admin_addr().port();
    let admin_service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "admin", "namespace": "default"},
        "spec": {"type": "ExternalName", "externalName": "127.0.0.1", "ports": [{"port": port}]}});
    assert_eq!(
        admin
            .post("/api/v1/namespaces/default/services", &admin_service)
            .status,
        201
    );
    let route = |filters: Value| {
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "health", "namespace": "default"},
            "spec": {"rules": [{"matches": [{"path": {"type": "Exact", "value": "/healthz"}}],
                "filters": filters,
                "backendRefs": [{"name": "admin", "port": port}]}]}})
    };
    // Unsupported filters make the configuration fail to compile: refused, nothing stored.
    let r = admin.post(
        "/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes",
        &route(json!([{"type": "RequestHeaderModifier", "requestHeaderModifier": {"set": [{"name": "x", "value": "y"}]}}])),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("not supported"),
        "{}",
        r.body
    );
    assert_eq!(
        admin
            .get("/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/health")
            .status,
        404
    );
    // Schema errors are refused with the field.
    let mut bad = route(json!([]));
    bad["spec"]["rules"][0]["matchez"] = json!([]);
    let r = admin.post(
        "/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes",
        &bad,
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body["message"].as_str().unwrap().contains("matchez"),
        "{}",
        r.body
    );

    let r = admin.post(
        "/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes",
        &route(json!([])),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.body["status"]["conditions"][0]["status"], "True",
        "{}",
        r.body
    );
    // The write returns once the data plane serves it.
    let out = Command::new("curl")
        .args(["-sS", &format!("{}/healthz", palisade.listen_url())])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\n");
    // And the route goes away with the object.
    let r = admin.call(
        "DELETE",
        "/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes/health",
        None,
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            &format!("{}/healthz", palisade.listen_url()),
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "404");
}

#[test]
fn watch_streams_changes_and_lists_filter_by_label() {
    use std::io::{BufRead, BufReader};

    let dir = TempDir::new("api-watch");
    let palisade = start(dir.path(), &[]);
    let admin = Api::admin(&palisade);
    let sa = |name: &str, team: &str| {
        json!({"apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": {"name": name, "labels": {"team": team}}})
    };
    assert_eq!(admin.post(SA_PATH, &sa("first", "a")).status, 201);
    // The OpenAPI description lists every kind's paths.
    let openapi = admin.get("/openapi/v3");
    assert_eq!(openapi.status, 200);
    assert!(
        openapi.body["paths"]
            .get("/apis/kagent.dev/v1alpha1/namespaces/{namespace}/mcpservers/{name}")
            .is_some(),
        "{}",
        openapi.body
    );

    let mut curl = Command::new("curl")
        .args([
            "-sS",
            "-N",
            "-H",
            &format!("Authorization: Bearer {}", admin.token),
        ])
        .arg(format!("{}{SA_PATH}?watch=true", admin.base))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut events = BufReader::new(curl.stdout.take().unwrap()).lines();
    let mut next = || -> Value {
        let line = events.next().expect("the watch stream goes on").unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    };
    // The current objects first, then the changes as they happen.
    let first = next();
    assert_eq!(
        (
            first["type"].as_str(),
            first["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("first"))
    );
    assert_eq!(admin.post(SA_PATH, &sa("second", "b")).status, 201);
    let added = next();
    assert_eq!(
        (
            added["type"].as_str(),
            added["object"]["metadata"]["name"].as_str()
        ),
        (Some("ADDED"), Some("second"))
    );
    assert_eq!(
        admin
            .call("DELETE", &format!("{SA_PATH}/first"), None, &[])
            .status,
        200
    );
    let deleted = next();
    assert_eq!(
        (
            deleted["type"].as_str(),
            deleted["object"]["metadata"]["name"].as_str()
        ),
        (Some("DELETED"), Some("first"))
    );
    let _ = curl.kill();
    let _ = curl.wait();

    assert_eq!(admin.post(SA_PATH, &sa("third", "b")).status, 201);
    let names = |selector: &str| -> Vec<String> {
        let r = admin.get(&format!("{SA_PATH}?labelSelector={selector}"));
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("team%3Db"), ["second", "third"]);
    assert_eq!(names("team%21%3Db"), Vec::<String>::new());
    let r = admin.get(&format!("{SA_PATH}?labelSelector=team%20in%20"));
    assert_eq!(
        r.status, 400,
        "a malformed selector is a clear error: {}",
        r.body
    );
}
