//! Commands run against an in-memory fake of the admin API (the real server is
//! another crate): what they send, what they print, their exit codes.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use http::{Method, Request, Response};
use serde_json::{Value, json};

use crate::cli::{GlobalArgs, KubeCli};
use crate::client::{BoxFuture, Transport};
use crate::config::Environment;
use clap::Parser;

/// Object key: (api prefix `api/v1` or `apis/g/v` without version, plural, namespace, name).
type Key = (String, String, String, String);

#[derive(Default)]
struct State {
    objects: BTreeMap<Key, Value>,
    revision: u64,
    /// (method, plural) pairs answered 403.
    forbidden: Vec<(Method, String)>,
    /// Whether access reviews answer allowed.
    allow: bool,
    /// Every request: `METHOD path`, and its JSON body.
    log: Vec<(String, Value, BTreeMap<String, String>)>,
    audit: Vec<Value>,
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<State>>);

fn status(code: u16, reason: &str, message: &str) -> Response<Vec<u8>> {
    let body = json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": message, "reason": reason, "code": code});
    Response::builder()
        .status(code)
        .body(serde_json::to_vec(&body).unwrap())
        .unwrap()
}

fn ok(code: u16, body: &Value) -> Response<Vec<u8>> {
    Response::builder()
        .status(code)
        .body(serde_json::to_vec(body).unwrap())
        .unwrap()
}

/// (group, plural, namespace, name, subresource) of a resource path.
type PathParts = (
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Splits a resource path into its parts.
fn parse_path(path: &str) -> Option<PathParts> {
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (group, rest) = match segs.as_slice() {
        ["api", "v1", rest @ ..] => (String::new(), rest),
        ["apis", g, _v, rest @ ..] => (g.to_string(), rest),
        _ => return None,
    };
    let s = |x: &&str| x.to_string();
    Some(match rest {
        ["namespaces"] => (group, "namespaces".into(), None, None, None),
        ["namespaces", name] => (group, "namespaces".into(), None, Some(s(name)), None),
        ["namespaces", ns, plural] => (group, s(plural), Some(s(ns)), None, None),
        ["namespaces", ns, plural, name] => (group, s(plural), Some(s(ns)), Some(s(name)), None),
        ["namespaces", ns, plural, name, sub] => {
            (group, s(plural), Some(s(ns)), Some(s(name)), Some(s(sub)))
        }
        [plural] => (group, s(plural), None, None, None),
        [plural, name] => (group, s(plural), None, Some(s(name)), None),
        _ => return None,
    })
}

fn qualified(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

fn redact(mut o: Value) -> Value {
    if o["kind"] == "Secret" {
        let mut keys: Vec<String> = Vec::new();
        for f in ["data", "stringData"] {
            if let Some(Value::Object(m)) = o.as_object_mut().unwrap().remove(f) {
                keys.extend(m.keys().cloned());
            }
        }
        if !keys.is_empty() {
            o["metadata"]["annotations"] = json!({"palisade.dev/data-keys": keys.join(",")});
        }
    }
    o
}

impl Fake {
    fn new() -> Fake {
        Fake::default()
    }

    fn seed(&self, object: Value) {
        let mut st = self.0.lock().unwrap();
        let meta = crate::resources::resolve(object["kind"].as_str().unwrap()).unwrap();
        let ns = if meta.namespaced {
            object["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_string()
        } else {
            String::new()
        };
        let mut object = object;
        st.revision += 1;
        object["metadata"]["resourceVersion"] = json!(st.revision.to_string());
        object["metadata"]["uid"] = json!(format!("uid-{}", st.revision));
        object["metadata"]["creationTimestamp"] = json!("2025-01-31T12:00:00Z");
        let key = (
            meta.group.to_string(),
            meta.plural.to_string(),
            ns,
            object["metadata"]["name"].as_str().unwrap().to_string(),
        );
        st.objects.insert(key, object);
    }

    fn forbid(&self, method: Method, plural: &str) {
        self.0
            .lock()
            .unwrap()
            .forbidden
            .push((method, plural.to_string()));
    }

    fn requests(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .log
            .iter()
            .map(|(l, _, _)| l.clone())
            .collect()
    }

    fn bodies(&self) -> Vec<Value> {
        self.0
            .lock()
            .unwrap()
            .log
            .iter()
            .map(|(_, b, _)| b.clone())
            .collect()
    }

    fn headers(&self, i: usize) -> BTreeMap<String, String> {
        self.0.lock().unwrap().log[i].2.clone()
    }

    fn object(&self, group: &str, plural: &str, ns: &str, name: &str) -> Option<Value> {
        self.0
            .lock()
            .unwrap()
            .objects
            .get(&(group.into(), plural.into(), ns.into(), name.into()))
            .cloned()
    }

    fn handle(&self, req: Request<Vec<u8>>) -> Response<Vec<u8>> {
        let mut st = self.0.lock().unwrap();
        let path_q = req.uri().path_and_query().unwrap().as_str().to_string();
        let body: Value = if req.body().is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(req.body()).unwrap()
        };
        let headers = req
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_string()))
            .fold(
                BTreeMap::new(),
                |mut m: BTreeMap<String, String>, (k, v)| {
                    m.entry(k)
                        .and_modify(|e| {
                            e.push(',');
                            e.push_str(&v)
                        })
                        .or_insert(v);
                    m
                },
            );
        st.log
            .push((format!("{} {path_q}", req.method()), body.clone(), headers));
        let (path, query) = path_q.split_once('?').unwrap_or((&path_q, ""));
        if path == "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews" {
            let mut review = body;
            review["status"] = json!({"allowed": st.allow, "reason": "fake"});
            return ok(201, &review);
        }
        if path == "/apis/audit.palisade.dev/v1/events" {
            return ok(
                200,
                &json!({"apiVersion": "audit.palisade.dev/v1", "kind": "EventList", "items": st.audit}),
            );
        }
        let Some((group, plural, ns, name, sub)) = parse_path(path) else {
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            );
        };
        let method = req.method().clone();
        if st
            .forbidden
            .iter()
            .any(|(m, p)| *m == method && *p == plural)
        {
            let verb = match method {
                Method::POST => "create",
                Method::PUT => "update",
                Method::DELETE => "delete",
                _ => "get",
            };
            return status(
                403,
                "Forbidden",
                &format!(
                    "{} is forbidden: User \"system:serviceaccount:kagent:test-reader\" cannot {verb} resource \"{plural}\" in API group \"{group}\" in the namespace \"{}\"",
                    qualified(&group, &plural),
                    ns.clone().unwrap_or_default()
                ),
            );
        }
        let nskey = ns.clone().unwrap_or_default();
        if sub.as_deref() == Some("token") {
            let key = (group.clone(), plural.clone(), nskey, name.clone().unwrap());
            if !st.objects.contains_key(&key) {
                return status(
                    404,
                    "NotFound",
                    &format!("serviceaccounts \"{}\" not found", key.3),
                );
            }
            let secs = body
                .pointer("/spec/expirationSeconds")
                .and_then(Value::as_u64)
                .unwrap_or(3600);
            return ok(
                201,
                &json!({"kind": "TokenRequest", "status": {"token": format!("tok-{secs}"), "expirationTimestamp": "x"}}),
            );
        }
        match (method, name) {
            (Method::GET, Some(name)) => {
                match st
                    .objects
                    .get(&(group.clone(), plural.clone(), nskey, name.clone()))
                {
                    Some(o) => ok(200, &redact(o.clone())),
                    None => status(
                        404,
                        "NotFound",
                        &format!("{} \"{name}\" not found", qualified(&group, &plural)),
                    ),
                }
            }
            (Method::GET, None) => {
                let selector = query
                    .strip_prefix("labelSelector=")
                    .map(|s| s.replace("%3D", "=").replace("%2F", "/"));
                let items: Vec<Value> = st
                    .objects
                    .iter()
                    .filter(|((g, p, n, _), _)| {
                        *g == group && *p == plural && ns.as_ref().is_none_or(|ns| ns == n)
                    })
                    .filter(|(_, o)| {
                        selector.as_ref().is_none_or(|s| {
                            let (k, v) = s.split_once('=').unwrap();
                            o.pointer(&format!("/metadata/labels/{}", k.replace('/', "~1")))
                                .and_then(Value::as_str)
                                == Some(v)
                        })
                    })
                    .map(|(_, o)| redact(o.clone()))
                    .collect();
                ok(
                    200,
                    &json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": "1"}, "items": items}),
                )
            }
            (Method::POST, None) => {
                let name = body["metadata"]["name"].as_str().unwrap().to_string();
                let key = (group.clone(), plural.clone(), nskey, name.clone());
                if st.objects.contains_key(&key) {
                    return status(
                        409,
                        "AlreadyExists",
                        &format!("{} \"{name}\" already exists", qualified(&group, &plural)),
                    );
                }
                let mut o = body;
                st.revision += 1;
                o["metadata"]["resourceVersion"] = json!(st.revision.to_string());
                o["metadata"]["uid"] = json!(format!("uid-{}", st.revision));
                o["metadata"]["creationTimestamp"] = json!("2025-01-31T12:00:00Z");
                st.objects.insert(key, o.clone());
                ok(201, &redact(o))
            }
            (Method::PUT, Some(name)) => {
                let key = (group.clone(), plural.clone(), nskey, name.clone());
                let Some(stored) = st.objects.get(&key).cloned() else {
                    return status(
                        404,
                        "NotFound",
                        &format!("{} \"{name}\" not found", qualified(&group, &plural)),
                    );
                };
                if let Some(rv) = body.pointer("/metadata/resourceVersion")
                    && Some(rv) != stored.pointer("/metadata/resourceVersion")
                {
                    return status(
                        409,
                        "Conflict",
                        "the object has been modified; please apply your changes to the latest version and try again",
                    );
                }
                let mut o = body;
                if o["kind"] == "Secret" && o.get("data").is_none() && o.get("stringData").is_none()
                {
                    if let Some(d) = stored.get("data") {
                        o["data"] = d.clone();
                    }
                    if let Some(d) = stored.get("stringData") {
                        o["stringData"] = d.clone();
                    }
                    if let Some(a) = o
                        .pointer_mut("/metadata/annotations")
                        .and_then(Value::as_object_mut)
                    {
                        a.remove("palisade.dev/data-keys");
                    }
                }
                st.revision += 1;
                o["metadata"]["resourceVersion"] = json!(st.revision.to_string());
                o["metadata"]["uid"] = stored["metadata"]["uid"].clone();
                o["metadata"]["creationTimestamp"] =
                    stored["metadata"]["creationTimestamp"].clone();
                o.as_object_mut().unwrap().remove("status");
                st.objects.insert(key, o.clone());
                ok(200, &redact(o))
            }
            (Method::DELETE, Some(name)) => {
                match st
                    .objects
                    .remove(&(group.clone(), plural.clone(), nskey, name.clone()))
                {
                    Some(o) => ok(200, &redact(o)),
                    None => status(
                        404,
                        "NotFound",
                        &format!("{} \"{name}\" not found", qualified(&group, &plural)),
                    ),
                }
            }
            _ => status(405, "MethodNotAllowed", "no"),
        }
    }
}

impl Transport for Fake {
    fn send(&self, request: Request<Vec<u8>>) -> BoxFuture<'_, Result<Response<Vec<u8>>, String>> {
        let answer = self.handle(request);
        Box::pin(async move { Ok(answer) })
    }
}

/// What one command printed.
struct Ran {
    code: i32,
    out: String,
    err: String,
}

async fn run_cmd(fake: &Fake, args: &[&str], stdin: &str) -> Ran {
    let cli = KubeCli::try_parse_from(
        ["palisade", "--server", "http://fake:1", "--token", "sekret"]
            .iter()
            .chain(args.iter())
            .copied(),
    )
    .unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = super::run_with(
        cli.command,
        &cli.globals,
        &Environment::default(),
        Some(Box::new(fake.clone())),
        &mut stdin.as_bytes(),
        &mut out,
        &mut err,
    )
    .await;
    let ran = Ran {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
    };
    assert!(!ran.out.contains("sekret") && !ran.err.contains("sekret"));
    ran
}

const SEED: &str = "\
apiVersion: v1
kind: Namespace
metadata:
  name: policies
  labels:
    istio.io/dataplane-mode: ambient
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: test-reader
  namespace: kagent
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kagent-crd-viewer
rules:
  - apiGroups: [\"kagent.dev\"]
    resources: [\"agents\", \"mcpservers\", \"modelconfigs\"]
    verbs: [\"get\", \"list\", \"watch\"]
---
apiVersion: kagent.dev/v1alpha1
kind: MCPServer
metadata:
  name: test
  labels:
    kagent.solo.io/waypoint: \"true\"
spec:
  deployment:
    image: mcp/everything
    port: 3000
    cmd: npx
    args: [\"-y\", \"@modelcontextprotocol/server-github\"]
  transportType: stdio
";

#[tokio::test]
async fn apply_creates_then_leaves_unchanged_then_configures() {
    let fake = Fake::new();
    let r = run_cmd(&fake, &["apply", "-f", "-", "-n", "kagent"], SEED).await;
    assert_eq!(
        (r.code, r.out.as_str(), r.err.as_str()),
        (
            0,
            "namespace/policies created\nserviceaccount/test-reader created\nclusterrole.rbac.authorization.k8s.io/kagent-crd-viewer created\nmcpserver.kagent.dev/test created\n",
            ""
        )
    );
    assert_eq!(
        fake.requests()[..2],
        ["GET /api/v1/namespaces/policies", "POST /api/v1/namespaces"]
    );
    let headers = fake.headers(0);
    assert_eq!(headers["authorization"], "Bearer sekret");
    let mcp = fake
        .object("kagent.dev", "mcpservers", "kagent", "test")
        .unwrap();
    assert_eq!(
        mcp["metadata"]["namespace"], "kagent",
        "-n fills the namespace"
    );
    assert_eq!(mcp["spec"]["deployment"]["port"], 3000);

    let r = run_cmd(&fake, &["apply", "-f", "-", "-n", "kagent"], SEED).await;
    assert_eq!(r.code, 0);
    assert_eq!(
        r.out,
        "namespace/policies unchanged\nserviceaccount/test-reader unchanged\nclusterrole.rbac.authorization.k8s.io/kagent-crd-viewer unchanged\nmcpserver.kagent.dev/test unchanged\n"
    );

    let changed = SEED.replace("port: 3000", "port: 3001");
    let before = fake.requests().len();
    let r = run_cmd(&fake, &["apply", "-f", "-", "-n", "kagent"], &changed).await;
    assert_eq!(r.code, 0, "{}", r.err);
    assert!(
        r.out.ends_with("mcpserver.kagent.dev/test configured\n"),
        "{}",
        r.out
    );
    let put = fake.requests()[before..]
        .iter()
        .position(|l| l.starts_with("PUT"))
        .unwrap()
        + before;
    assert_eq!(
        fake.requests()[put],
        "PUT /apis/kagent.dev/v1alpha1/namespaces/kagent/mcpservers/test"
    );
    assert_eq!(
        fake.bodies()[put]["metadata"]["resourceVersion"],
        "4",
        "optimistic concurrency"
    );
}

#[tokio::test]
async fn apply_reports_refusals_like_kubectl_and_continues() {
    let fake = Fake::new();
    fake.forbid(Method::POST, "mcpservers");
    let manifest = "apiVersion: kagent.dev/v1alpha1\nkind: MCPServer\nmetadata:\n  name: test\n  namespace: kagent\nspec:\n  deployment:\n    image: x\n    port: 3000\n  transportType: stdio\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n  namespace: kagent\n";
    let r = run_cmd(
        &fake,
        &[
            "apply",
            "-f",
            "-",
            "--as",
            "system:serviceaccount:kagent:test-reader",
        ],
        manifest,
    )
    .await;
    assert_eq!(r.code, 1);
    assert_eq!(
        r.err,
        "Error from server (Forbidden): error when creating \"STDIN\": mcpservers.kagent.dev is forbidden: User \"system:serviceaccount:kagent:test-reader\" cannot create resource \"mcpservers\" in API group \"kagent.dev\" in the namespace \"kagent\"\n"
    );
    assert_eq!(r.out, "serviceaccount/sa created\n");
    assert_eq!(
        fake.headers(0)["impersonate-user"],
        "system:serviceaccount:kagent:test-reader"
    );

    let fake = Fake::new();
    fake.forbid(Method::GET, "mcpservers");
    let r = run_cmd(&fake, &["apply", "-f", "-"], manifest).await;
    assert_eq!(r.code, 1);
    assert!(
        r.err.starts_with("Error from server (Forbidden): error when retrieving current configuration of:\nResource: \"kagent.dev/v1alpha1, Resource=mcpservers\", GroupVersionKind: \"kagent.dev/v1alpha1, Kind=MCPServer\"\nName: \"test\", Namespace: \"kagent\"\nfrom server for: \"STDIN\": mcpservers.kagent.dev is forbidden"),
        "{}",
        r.err
    );
}

#[tokio::test]
async fn apply_checks_manifests_before_sending() {
    let fake = Fake::new();
    let r = run_cmd(&fake, &["apply", "-f", "-"], "apiVersion: kagent.dev/v1alpha1\nkind: MCPServer\nmetadata:\n  name: test\nspec:\n  deploymnt: {}\n").await;
    assert_eq!(r.code, 1);
    assert!(r.err.starts_with("error: STDIN:"), "{}", r.err);
    assert!(r.err.contains("deploymnt"), "{}", r.err);
    assert!(fake.requests().is_empty());

    let r = run_cmd(
        &fake,
        &["apply", "-f", "-", "-n", "policies"],
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n  namespace: kagent\n",
    )
    .await;
    assert_eq!(r.code, 1);
    assert_eq!(
        r.err,
        "error: the namespace from the provided object \"kagent\" does not match the namespace \"policies\". You must pass '--namespace=kagent' to perform this operation.\n"
    );
    let r = run_cmd(&fake, &["apply", "-f", "/no/such/file.yaml"], "").await;
    assert_eq!(
        r.err,
        "error: the path \"/no/such/file.yaml\" does not exist; check the -f argument\n"
    );
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn apply_reads_files_and_names_them_in_errors() {
    let dir = std::env::temp_dir().join(format!("palisade-client-apply-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("sa.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: a\n",
    )
    .unwrap();
    let fake = Fake::new();
    fake.forbid(Method::POST, "serviceaccounts");
    let path = file.display().to_string();
    let r = run_cmd(&fake, &["apply", "-f", &path], "").await;
    assert!(
        r.err.contains(&format!("error when creating \"{path}\"")),
        "{}",
        r.err
    );
    let r = run_cmd(&fake, &["apply", "-f", &dir.display().to_string()], "").await;
    assert!(
        r.err.contains(&format!("error when creating \"{path}\"")),
        "{}",
        r.err
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn get_tables_names_json_yaml() {
    let fake = Fake::new();
    run_cmd(&fake, &["apply", "-f", "-", "-n", "kagent"], SEED).await;
    let r = run_cmd(&fake, &["get", "mcps", "-n", "kagent"], "").await;
    assert_eq!(r.code, 0);
    assert!(r.out.starts_with("NAME   AGE\ntest   "), "{}", r.out);
    assert_eq!(
        fake.requests().last().unwrap(),
        "GET /apis/kagent.dev/v1alpha1/namespaces/kagent/mcpservers"
    );

    let r = run_cmd(
        &fake,
        &[
            "get",
            "mcpservers.kagent.dev",
            "test",
            "-n",
            "kagent",
            "-o",
            "name",
        ],
        "",
    )
    .await;
    assert_eq!(r.out, "mcpserver.kagent.dev/test\n");
    let r = run_cmd(
        &fake,
        &["get", "MCPServer/test", "-n", "kagent", "-o", "json"],
        "",
    )
    .await;
    let obj: Value = serde_json::from_str(&r.out).unwrap();
    assert_eq!(obj["kind"], "MCPServer");
    assert!(
        r.out.contains("\n    \"apiVersion\""),
        "4-space indentation"
    );
    let r = run_cmd(&fake, &["get", "mcps", "-n", "kagent", "-o", "yaml"], "").await;
    let back = palisade_api::yaml::parse_stream(&r.out).unwrap()[0]
        .to_json()
        .unwrap();
    assert_eq!(back["kind"], "List");
    assert_eq!(
        back["items"][0]["metadata"]["labels"]["kagent.solo.io/waypoint"],
        "true"
    );

    let r = run_cmd(&fake, &["get", "mcps", "-A"], "").await;
    assert!(
        r.out
            .starts_with("NAMESPACE   NAME   AGE\nkagent      test   "),
        "{}",
        r.out
    );
    assert_eq!(
        fake.requests().last().unwrap(),
        "GET /apis/kagent.dev/v1alpha1/mcpservers"
    );

    let r = run_cmd(&fake, &["get", "ns,sa", "-n", "kagent"], "").await;
    assert!(
        r.out
            .starts_with("NAME                 STATUS   AGE\nnamespace/policies   Active   "),
        "{}",
        r.out
    );
    assert!(r.out.contains("\n\nNAME                         SECRETS   AGE\nserviceaccount/test-reader   0         "), "{}", r.out);

    let r = run_cmd(
        &fake,
        &[
            "get",
            "mcps",
            "-n",
            "kagent",
            "-l",
            "kagent.solo.io/waypoint=true",
        ],
        "",
    )
    .await;
    assert!(r.out.contains("test"), "{}", r.out);
    assert!(
        fake.requests()
            .last()
            .unwrap()
            .ends_with("?labelSelector=kagent.solo.io%2Fwaypoint%3Dtrue")
    );
}

#[tokio::test]
async fn get_not_found_and_empty() {
    let fake = Fake::new();
    let r = run_cmd(&fake, &["get", "mcps", "x", "-n", "kagent"], "").await;
    assert_eq!((r.code, r.out.as_str()), (1, ""));
    assert_eq!(
        r.err,
        "Error from server (NotFound): mcpservers.kagent.dev \"x\" not found\n"
    );
    let r = run_cmd(&fake, &["get", "mcps", "-n", "kagent"], "").await;
    assert_eq!(
        (r.code, r.out.as_str(), r.err.as_str()),
        (0, "", "No resources found in kagent namespace.\n")
    );
    let r = run_cmd(&fake, &["get", "mcps"], "").await;
    assert_eq!(r.err, "No resources found in default namespace.\n");
    let r = run_cmd(&fake, &["get", "clusterroles"], "").await;
    assert_eq!(r.err, "No resources found\n");
    let r = run_cmd(&fake, &["get", "mcps", "-A"], "").await;
    assert_eq!(r.err, "No resources found\n");
    let r = run_cmd(&fake, &["get", "mcps", "-o", "json"], "").await;
    assert_eq!((r.code, r.err.as_str()), (0, ""));
    assert_eq!(
        serde_json::from_str::<Value>(&r.out).unwrap()["items"],
        json!([])
    );
    let r = run_cmd(&fake, &["get", "pods"], "").await;
    assert_eq!(r.code, 1);
    assert!(
        r.err
            .starts_with("error: the server doesn't have a resource type \"pods\""),
        "{}",
        r.err
    );
    let r = run_cmd(&fake, &["get"], "").await;
    assert!(
        r.err
            .starts_with("error: You must specify the type of resource to get."),
        "{}",
        r.err
    );
    let r = run_cmd(&fake, &["get", "mcps", "x", "-A"], "").await;
    assert_eq!(
        r.err,
        "error: a resource cannot be retrieved by name across all namespaces\n"
    );
}

#[tokio::test]
async fn delete_by_name_and_by_file() {
    let fake = Fake::new();
    run_cmd(&fake, &["apply", "-f", "-", "-n", "kagent"], SEED).await;
    let r = run_cmd(&fake, &["delete", "mcps", "test", "-n", "kagent"], "").await;
    assert_eq!(
        (r.code, r.out.as_str()),
        (0, "mcpserver.kagent.dev \"test\" deleted\n")
    );
    let r = run_cmd(&fake, &["delete", "mcps", "test", "-n", "kagent"], "").await;
    assert_eq!(r.code, 1);
    assert_eq!(
        r.err,
        "Error from server (NotFound): mcpservers.kagent.dev \"test\" not found\n"
    );
    let r = run_cmd(
        &fake,
        &[
            "delete",
            "mcps",
            "test",
            "-n",
            "kagent",
            "--ignore-not-found",
        ],
        "",
    )
    .await;
    assert_eq!((r.code, r.err.as_str()), (0, ""));
    let r = run_cmd(&fake, &["delete", "-f", "-", "-n", "kagent"], SEED).await;
    assert_eq!(r.code, 1);
    assert_eq!(
        r.out,
        "namespace \"policies\" deleted\nserviceaccount \"test-reader\" deleted\nclusterrole.rbac.authorization.k8s.io \"kagent-crd-viewer\" deleted\n"
    );
    assert_eq!(
        r.err,
        "Error from server (NotFound): error when deleting \"STDIN\": mcpservers.kagent.dev \"test\" not found\n"
    );
    let r = run_cmd(&fake, &["delete", "mcps"], "").await;
    assert!(
        r.err
            .starts_with("error: resource(s) were provided, but no name was specified")
    );
}

#[tokio::test]
async fn create_commands() {
    let fake = Fake::new();
    let r = run_cmd(
        &fake,
        &[
            "create",
            "secret",
            "generic",
            "kagent-anthropic",
            "--from-literal=ANTHROPIC_API_KEY=sk-ant-x",
            "-n",
            "policies",
        ],
        "",
    )
    .await;
    assert_eq!(
        (r.code, r.out.as_str()),
        (0, "secret/kagent-anthropic created\n")
    );
    let sent = fake.bodies()[0].clone();
    assert_eq!(
        fake.requests()[0],
        "POST /api/v1/namespaces/policies/secrets"
    );
    assert_eq!(sent["data"]["ANTHROPIC_API_KEY"], "c2stYW50LXg=");
    assert!(!r.out.contains("c2stYW50"));
    let r = run_cmd(
        &fake,
        &[
            "create",
            "secret",
            "generic",
            "kagent-anthropic",
            "--from-literal=A=b",
            "-n",
            "policies",
        ],
        "",
    )
    .await;
    assert_eq!(r.code, 1);
    assert_eq!(
        r.err,
        "error: failed to create secret secrets \"kagent-anthropic\" already exists\n"
    );
    let r = run_cmd(
        &fake,
        &["create", "secret", "generic", "x", "--from-literal=novalue"],
        "",
    )
    .await;
    assert_eq!(
        r.err,
        "error: invalid literal source novalue, expected key=value\n"
    );

    let r = run_cmd(
        &fake,
        &["create", "serviceaccount", "test-reader", "-n", "kagent"],
        "",
    )
    .await;
    assert_eq!(r.out, "serviceaccount/test-reader created\n");
    let r = run_cmd(&fake, &["create", "sa", "test-reader", "-n", "kagent"], "").await;
    assert_eq!(
        r.err,
        "error: failed to create serviceaccount: serviceaccounts \"test-reader\" already exists\n"
    );
    let r = run_cmd(&fake, &["create", "namespace", "policies"], "").await;
    assert_eq!(r.out, "namespace/policies created\n");
    let r = run_cmd(&fake, &["create", "ns", "policies"], "").await;
    assert_eq!(
        r.err,
        "Error from server (AlreadyExists): namespaces \"policies\" already exists\n"
    );

    let r = run_cmd(
        &fake,
        &[
            "create",
            "token",
            "test-reader",
            "-n",
            "kagent",
            "--duration",
            "10m",
        ],
        "",
    )
    .await;
    assert_eq!((r.code, r.out.as_str()), (0, "tok-600\n"));
    assert_eq!(
        fake.requests().last().unwrap(),
        "POST /api/v1/namespaces/kagent/serviceaccounts/test-reader/token"
    );
    let r = run_cmd(&fake, &["create", "token", "nobody", "-n", "kagent"], "").await;
    assert_eq!(
        r.err,
        "error: failed to create token: serviceaccounts \"nobody\" not found\n"
    );

    let before = fake.requests().len();
    let r = run_cmd(
        &fake,
        &[
            "create",
            "secret",
            "generic",
            "s",
            "--from-literal=K=v",
            "--dry-run=client",
            "-o",
            "yaml",
        ],
        "",
    )
    .await;
    assert_eq!(
        r.out,
        "apiVersion: v1\ndata:\n  K: dg==\nkind: Secret\nmetadata:\n  name: s\n  namespace: default\n"
    );
    assert_eq!(fake.requests().len(), before, "dry run sends nothing");
}

#[tokio::test]
async fn label_sets_removes_and_refuses_overwrites() {
    let fake = Fake::new();
    fake.seed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "policies"}}));
    let r = run_cmd(
        &fake,
        &[
            "label",
            "namespaces",
            "policies",
            "istio.io/dataplane-mode=ambient",
        ],
        "",
    )
    .await;
    assert_eq!(
        (r.code, r.out.as_str(), r.err.as_str()),
        (0, "namespace/policies labeled\n", "")
    );
    let put = fake.bodies().last().unwrap().clone();
    assert_eq!(
        put["metadata"]["labels"]["istio.io/dataplane-mode"],
        "ambient"
    );
    assert_eq!(put["metadata"]["resourceVersion"], "1");
    let r = run_cmd(
        &fake,
        &["label", "ns", "policies", "istio.io/dataplane-mode=ambient"],
        "",
    )
    .await;
    assert_eq!(r.out, "namespace/policies not labeled\n");
    let r = run_cmd(
        &fake,
        &["label", "ns/policies", "istio.io/dataplane-mode=none"],
        "",
    )
    .await;
    assert_eq!(r.code, 1);
    assert_eq!(
        r.err,
        "error: 'istio.io/dataplane-mode' already has a value (ambient), and --overwrite is false\n"
    );
    let r = run_cmd(
        &fake,
        &[
            "label",
            "ns/policies",
            "istio.io/dataplane-mode=none",
            "--overwrite",
        ],
        "",
    )
    .await;
    assert_eq!(r.out, "namespace/policies labeled\n");
    let r = run_cmd(
        &fake,
        &[
            "label",
            "ns",
            "policies",
            "istio.io/dataplane-mode-",
            "gone-",
        ],
        "",
    )
    .await;
    assert_eq!(
        r.out,
        "label \"gone\" not found.\nnamespace/policies labeled\n"
    );
    assert!(
        fake.object("", "namespaces", "", "policies").unwrap()["metadata"]
            .get("labels")
            .is_none()
    );

    // A Secret keeps its data: the label write carries none, so the server keeps it.
    fake.seed(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "default"}, "data": {"K": "dg=="}}));
    let r = run_cmd(&fake, &["label", "secret", "s", "a=b"], "").await;
    assert_eq!(r.out, "secret/s labeled\n");
    assert_eq!(
        fake.object("", "secrets", "default", "s").unwrap()["data"]["K"],
        "dg=="
    );
}

#[tokio::test]
async fn can_i() {
    let fake = Fake::new();
    let r = run_cmd(
        &fake,
        &[
            "auth",
            "can-i",
            "create",
            "mcpservers.kagent.dev",
            "-n",
            "kagent",
            "--as",
            "system:serviceaccount:kagent:test-reader",
        ],
        "",
    )
    .await;
    assert_eq!((r.code, r.out.as_str(), r.err.as_str()), (1, "no\n", ""));
    assert_eq!(
        fake.bodies()[0]["spec"]["resourceAttributes"],
        json!({"verb": "create", "group": "kagent.dev", "resource": "mcpservers", "namespace": "kagent"})
    );
    assert_eq!(
        fake.headers(0)["impersonate-user"],
        "system:serviceaccount:kagent:test-reader"
    );
    fake.0.lock().unwrap().allow = true;
    let r = run_cmd(&fake, &["auth", "can-i", "list", "mcps"], "").await;
    assert_eq!((r.code, r.out.as_str()), (0, "yes\n"));
    let r = run_cmd(&fake, &["auth", "can-i", "list", "pods", "-q"], "").await;
    assert_eq!((r.code, r.out.as_str(), r.err.as_str()), (0, "", ""));
    let r = run_cmd(&fake, &["auth", "can-i", "frob", "pods"], "").await;
    assert_eq!(
        r.err,
        "Warning: verb 'frob' is not a known verb\nWarning: the server doesn't have a resource type 'pods'\n"
    );
}

#[tokio::test]
async fn audit_and_misc() {
    let fake = Fake::new();
    let r = run_cmd(&fake, &["audit", "--outcome", "denied"], "").await;
    assert_eq!((r.code, r.err.as_str()), (0, "No audit events found\n"));
    assert_eq!(
        fake.requests()[0],
        "GET /apis/audit.palisade.dev/v1/events?outcome=denied"
    );
    fake.0.lock().unwrap().audit.push(json!({"time": "2025-01-31T12:00:00Z", "principal": "palisade:admin", "verb": "create",
        "resource": {"group": "kagent.dev", "kind": "MCPServer", "namespace": "kagent", "name": "test"}, "outcome": "allowed", "reason": null}));
    let r = run_cmd(&fake, &["audit"], "").await;
    assert!(
        r.out
            .starts_with("TIME                   PRINCIPAL        VERB     RESOURCE"),
        "{}",
        r.out
    );

    let r = run_cmd(&fake, &["api-resources"], "").await;
    assert!(r.out.starts_with("NAME"), "{}", r.out);
    assert!(r.out.contains("mcpservers"), "{}", r.out);
    let r = run_cmd(&fake, &["completion", "bash"], "").await;
    assert!(
        r.out.contains("palisade"),
        "{}",
        &r.out[..100.min(r.out.len())]
    );
}

#[tokio::test]
async fn missing_configuration_is_explained() {
    let cli = KubeCli::try_parse_from(["palisade", "get", "mcps"]).unwrap();
    let dir = std::env::temp_dir().join(format!("palisade-client-noconfig-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let env = Environment {
        vars: BTreeMap::from([("HOME".to_string(), dir.display().to_string())]),
        cwd: dir.clone(),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = super::run_with(
        cli.command,
        &cli.globals,
        &env,
        None,
        &mut "".as_bytes(),
        &mut out,
        &mut err,
    )
    .await;
    let err = String::from_utf8(err).unwrap();
    assert_eq!(code, 1);
    assert!(
        err.starts_with("error: no Palisade client configuration found; looked at:"),
        "{err}"
    );
    assert!(err.contains(".palisade/admin.yaml (absent)"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn globals_debug_redacts() {
    let g = GlobalArgs {
        token: Some("sekret".into()),
        ..GlobalArgs::default()
    };
    assert!(!format!("{g:?}").contains("sekret"));
}

#[test]
fn targets() {
    use super::{Targets, parse_targets};
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let Targets::ByType { metas, names } =
        parse_targets(&args(&["agents,mcps", "a", "b"]), "get").unwrap()
    else {
        panic!()
    };
    assert_eq!(
        metas.iter().map(|m| m.kind).collect::<Vec<_>>(),
        ["Agent", "MCPServer"]
    );
    assert_eq!(names, ["a", "b"]);
    let Targets::ByRef(refs) = parse_targets(&args(&["mcps/a", "sa/b"]), "get").unwrap() else {
        panic!()
    };
    assert_eq!(
        refs.iter()
            .map(|(m, n)| (m.kind, n.as_str()))
            .collect::<Vec<_>>(),
        [("MCPServer", "a"), ("ServiceAccount", "b")]
    );
    assert!(
        parse_targets(&args(&["mcps/a", "b"]), "get")
            .unwrap_err()
            .contains("resource/name form")
    );
    assert!(
        parse_targets(&args(&["mcps", "sa/b"]), "get")
            .unwrap_err()
            .contains("resource/name form")
    );
}
