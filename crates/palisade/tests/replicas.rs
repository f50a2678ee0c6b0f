//! Two Palisade replicas sharing one PostgreSQL store (`--store-url`): a write
//! through either one's admin API is served by both data planes, Secrets
//! encrypted by one are read by the other (same `PALISADE_ENCRYPTION_KEY`),
//! and concurrent read-modify-write through both loses no update.

use std::process::Command;
use std::time::{Duration, Instant};

use palisade_testkit::postgres::PgServer;
use palisade_testkit::{Palisade, TempDir};
use serde_json::{Value, json};

/// base64 of 32 bytes, the key both replicas encrypt Secrets with.
const KEY: &str = "cGFsaXNhZGUtcmVwbGljYS10ZXN0LWtleS0zMi1ieXQ=";

fn replica(url: &str, state: &TempDir) -> Palisade {
    Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("--state-dir")
        .arg(state.path())
        .arg("--store-url")
        .arg(url)
        .env("PALISADE_ENCRYPTION_KEY", KEY)
        .start()
}

fn admin_token(palisade: &Palisade) -> String {
    let config = std::fs::read_to_string(palisade.state_dir().join("admin.yaml")).unwrap();
    config
        .lines()
        .find_map(|l| l.strip_prefix("token: "))
        .unwrap()
        .to_string()
}

/// `curl` against a replica's admin API: (status, body).
fn api(palisade: &Palisade, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-X", method, "-w", "\n%{http_code}"])
        .arg(format!("{}{path}", palisade.admin_url()))
        .args([
            "-H",
            &format!("Authorization: Bearer {}", admin_token(palisade)),
        ]);
    if let Some(body) = body {
        cmd.args([
            "-H",
            "content-type: application/json",
            "-d",
            &body.to_string(),
        ]);
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (
        status.parse().unwrap(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

fn get_status(url: &str) -> String {
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", url])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn replicas_share_the_store_and_serve_each_others_writes() {
    let pg = PgServer::start();
    let url = pg.url("postgres");
    let (state_a, state_b) = (TempDir::new("replica-a"), TempDir::new("replica-b"));
    let a = replica(&url, &state_a);
    let b = replica(&url, &state_b);

    // A route written through A, to B's own admin /healthz.
    let port = b.admin_addr().port();
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b-admin", "namespace": "default"},
        "spec": {"type": "ExternalName", "externalName": "127.0.0.1", "ports": [{"port": port}]}});
    assert_eq!(
        api(
            &a,
            "POST",
            "/api/v1/namespaces/default/services",
            Some(&service)
        )
        .0,
        201
    );
    let route = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "health", "namespace": "default"},
        "spec": {"rules": [{"matches": [{"path": {"type": "Exact", "value": "/healthz"}}],
            "backendRefs": [{"name": "b-admin", "port": port}]}]}});
    assert_eq!(
        api(
            &a,
            "POST",
            "/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes",
            Some(&route)
        )
        .0,
        201
    );
    // A serves it as soon as the write returns; B once PostgreSQL tells it.
    assert_eq!(get_status(&format!("{}/healthz", a.listen_url())), "200");
    let deadline = Instant::now() + Duration::from_secs(30);
    while get_status(&format!("{}/healthz", b.listen_url())) != "200" {
        assert!(
            Instant::now() < deadline,
            "replica B never served A's route:\n{}",
            b.logs()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // A Secret written through B is listed (decrypted, redacted) through A.
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "shared", "namespace": "default"},
        "stringData": {"token": "replica-secret-value"}});
    assert_eq!(
        api(
            &b,
            "POST",
            "/api/v1/namespaces/default/secrets",
            Some(&secret)
        )
        .0,
        201
    );
    let (status, listed) = api(&a, "GET", "/api/v1/namespaces/default/secrets", None);
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["items"][0]["metadata"]["name"], "shared");
    assert!(!listed.to_string().contains("replica-secret-value"));

    // Read-modify-write through both replicas at once: no lost update.
    let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "counter", "labels": {"n": "0"}}});
    assert_eq!(api(&a, "POST", "/api/v1/namespaces", Some(&ns)).0, 201);
    let increments = 8;
    std::thread::scope(|scope| {
        for replica in [&a, &b] {
            scope.spawn(move || {
                for _ in 0..increments {
                    loop {
                        let (_, mut current) =
                            api(replica, "GET", "/api/v1/namespaces/counter", None);
                        let n: u64 = current["metadata"]["labels"]["n"]
                            .as_str()
                            .unwrap()
                            .parse()
                            .unwrap();
                        current["metadata"]["labels"]["n"] = (n + 1).to_string().into();
                        match api(replica, "PUT", "/api/v1/namespaces/counter", Some(&current)).0 {
                            200 => break,
                            409 => continue,
                            other => panic!("update answered {other}"),
                        }
                    }
                }
            });
        }
    });
    let (_, counter) = api(&b, "GET", "/api/v1/namespaces/counter", None);
    assert_eq!(
        counter["metadata"]["labels"]["n"],
        (2 * increments).to_string()
    );
}
