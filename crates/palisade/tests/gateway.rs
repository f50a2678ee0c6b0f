//! The gateway end to end: the real `palisade run` binary, a real upstream server,
//! real sockets.

use std::time::{Duration, Instant};

use http::{Method, Request, StatusCode};
use palisade_testkit::client::{self, Body, Client, read_streaming};
use palisade_testkit::{Palisade, Signal, TempDir, Upstream, free_port, pattern};

fn palisade(config: &std::path::Path, extra: &[&str]) -> Palisade {
    Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("-f")
        .arg(config)
        .args(extra.iter().copied())
        .start()
}

/// A Service named `name` pointing at `upstream`, plus an HTTPRoute on the default
/// listener sending `prefix` to it.
fn route_to(upstream: &Upstream, name: &str, prefix: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec:\n  type: ExternalName\n  externalName: 127.0.0.1\n  ports: [{{port: {port}}}]\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}}}\nspec:\n  rules:\n  - matches: [{{path: {{type: PathPrefix, value: {prefix}}}}}]\n    backendRefs: [{{name: {name}, port: {port}}}]\n",
        port = upstream.port()
    )
}

/// Polls `url` until it answers `status` (config reloads are asynchronous).
async fn eventually_status(url: &str, status: StatusCode) -> client::Response {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(r) = client::get(url).await
            && r.status == status
        {
            return r;
        }
        assert!(Instant::now() < deadline, "{url} never answered {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn write_atomically(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

#[tokio::test]
async fn routes_requests_and_answers_errors_with_json() {
    let upstream = Upstream::start();
    let dir = TempDir::new("gw");
    let closed_port = free_port();
    let config = format!(
        "{}---\n{}---\napiVersion: v1\nkind: Service\nmetadata: {{name: down}}\nspec:\n  type: ExternalName\n  externalName: 127.0.0.1\n  ports: [{{port: {closed_port}}}]\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: errors}}\nspec:\n  rules:\n  - matches: [{{path: {{type: PathPrefix, value: /down}}}}]\n    backendRefs: [{{name: down, port: {closed_port}}}]\n  - matches: [{{path: {{type: Exact, value: /nobackend}}}}]\n    backendRefs: [{{name: missing-service, port: 80}}]\n  - matches: [{{path: {{type: PathPrefix, value: /slow}}}}]\n    timeouts: {{request: 300ms}}\n    backendRefs: [{{name: api, port: {port}}}]\n",
        route_to(&upstream, "api", "/api"),
        route_to(&upstream, "exact", "/status"),
        port = upstream.port(),
    );
    let file = dir.write("config.yaml", config);
    let gw = palisade(&file, &[]);
    let base = gw.listen_url();

    let r = client::get(&format!("{base}/api/things?color=blue"))
        .await
        .unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let echo = r.json();
    assert_eq!(echo["path"], "/api/things");
    assert_eq!(echo["query"], "color=blue");
    assert_eq!(r.header("x-upstream"), Some("upstream"));
    let seen = upstream.last_request().unwrap();
    assert_eq!(seen.header("x-forwarded-for"), Some("127.0.0.1"));

    let r = client::get(&format!("{base}/status/418")).await.unwrap();
    assert_eq!(r.status.as_u16(), 418, "upstream statuses pass through");

    let r = client::get(&format!("{base}/nowhere")).await.unwrap();
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(r.json()["error"], "route_not_found");
    assert_eq!(r.header("content-type"), Some("application/json"));

    let r = client::get(&format!("{base}/down")).await.unwrap();
    assert_eq!(r.status, StatusCode::BAD_GATEWAY);
    assert_eq!(r.json()["error"], "upstream_unavailable");

    let r = client::get(&format!("{base}/nobackend")).await.unwrap();
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("missing-service"),
        "{}",
        r.text()
    );

    let r = client::get(&format!("{base}/slow?ms=3000")).await.unwrap();
    assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(r.json()["error"], "upstream_timeout");

    // Admin endpoints.
    let admin = gw.admin_url();
    assert_eq!(
        client::get(&format!("{admin}/healthz"))
            .await
            .unwrap()
            .status,
        StatusCode::OK
    );
    assert_eq!(
        client::get(&format!("{admin}/readyz"))
            .await
            .unwrap()
            .status,
        StatusCode::OK
    );
    let metrics = client::get(&format!("{admin}/metrics"))
        .await
        .unwrap()
        .text();
    assert!(
        metrics.contains(r#"palisade_http_requests_total{route="default/api",status="200"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"palisade_http_requests_total{route="none",status="404"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains("palisade_http_request_duration_seconds_bucket"),
        "{metrics}"
    );
    let config = client::get(&format!("{admin}/config"))
        .await
        .unwrap()
        .json();
    assert_eq!(config["generation"], 1);
    let rendered = config.to_string();
    assert!(
        rendered.contains("\"/api\"") && rendered.contains("Service/default/api"),
        "{rendered}"
    );
}

#[tokio::test]
async fn large_bodies_stream_both_ways_without_buffering() {
    const SIZE: u64 = 256 * 1024 * 1024;
    let upstream = Upstream::start();
    let dir = TempDir::new("gw");
    let file = dir.write("config.yaml", route_to(&upstream, "api", "/"));
    let gw = palisade(&file, &[]);
    let client = Client::new().with_timeout(Duration::from_secs(300));

    let upload = Request::builder()
        .method(Method::POST)
        .uri(format!("{}/upload", gw.listen_url()))
        .body(Body::pattern(SIZE, 64 * 1024))
        .unwrap();
    let r = client.send(upload).await.unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["body_len"], SIZE);
    assert_eq!(r.json()["body_checksum"], pattern::checksum(SIZE));

    let chunks = SIZE / (64 * 1024);
    let download = Request::get(format!(
        "{}/stream?chunks={chunks}&size=65536",
        gw.listen_url()
    ))
    .body(Body::empty())
    .unwrap();
    let response = client.send_streaming(download).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let summary = read_streaming(response.into_body()).await.unwrap();
    assert_eq!(summary.len, SIZE);
    assert_eq!(summary.checksum, pattern::checksum(SIZE));

    // 512 MiB went through; the gateway never held anything near that.
    let peak = peak_rss_kib(gw.pid());
    assert!(
        peak < 64 * 1024,
        "peak RSS {peak} KiB: bodies were buffered"
    );
}

#[tokio::test]
async fn hot_reload_applies_valid_changes_and_rejects_invalid_ones() {
    let upstream = Upstream::start();
    let dir = TempDir::new("gw");
    let file = dir.write("config.yaml", route_to(&upstream, "first", "/first"));
    let gw = palisade(&file, &[]);
    let base = gw.listen_url();
    eventually_status(&format!("{base}/first"), StatusCode::OK).await;
    assert_eq!(
        client::get(&format!("{base}/second")).await.unwrap().status,
        StatusCode::NOT_FOUND
    );

    // A valid edit, saved the way editors do (write a temp file, rename over).
    let two_routes = format!(
        "{}---\n{}",
        route_to(&upstream, "first", "/first"),
        route_to(&upstream, "second", "/second")
    );
    write_atomically(&file, &two_routes);
    eventually_status(&format!("{base}/second"), StatusCode::OK).await;
    gw.wait_for_log("configuration reloaded", Duration::from_secs(10));

    // An invalid edit: rejected with its diagnostic, the previous Plan keeps serving.
    write_atomically(&file, &two_routes.replace("backendRefs", "backendRefz"));
    let line = gw.wait_for_log("unknown field `backendRefz`", Duration::from_secs(15));
    assert!(
        line.contains("config.yaml:"),
        "the diagnostic names the file and line: {line}"
    );
    gw.wait_for_log(
        "still serving the previous configuration",
        Duration::from_secs(15),
    );
    assert_eq!(
        client::get(&format!("{base}/second")).await.unwrap().status,
        StatusCode::OK
    );
    assert_eq!(
        client::get(&format!("{base}/first")).await.unwrap().status,
        StatusCode::OK
    );

    let metrics = client::get(&format!("{}/metrics", gw.admin_url()))
        .await
        .unwrap()
        .text();
    assert!(
        metrics.contains(r#"palisade_config_reloads_total{result="failure"} 1"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"palisade_config_reloads_total{result="success"} 2"#),
        "{metrics}"
    );

    // Fixing the file is picked up again (the watch survived the renames).
    write_atomically(&file, &route_to(&upstream, "third", "/third"));
    eventually_status(&format!("{base}/third"), StatusCode::OK).await;
    assert_eq!(
        client::get(&format!("{base}/second")).await.unwrap().status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn sigterm_drains_in_flight_requests() {
    let upstream = Upstream::start();
    let dir = TempDir::new("gw");
    let file = dir.write("config.yaml", route_to(&upstream, "api", "/"));
    let mut gw = palisade(&file, &[]);
    let url = format!("{}/slow?ms=1500", gw.listen_url());
    let in_flight = tokio::spawn(async move { client::get(&url).await });

    let deadline = Instant::now() + Duration::from_secs(10);
    while upstream.request_count() == 0 {
        assert!(
            Instant::now() < deadline,
            "the slow request never reached the upstream"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    gw.signal(Signal::Term);
    gw.wait_for_log_async("shutting down", Duration::from_secs(10))
        .await;

    let response = in_flight
        .await
        .unwrap()
        .expect("the in-flight request completes");
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.json()["path"], "/slow");
    let status = gw.wait_exit_async(Duration::from_secs(20)).await;
    assert!(
        status.success(),
        "palisade exits cleanly after draining: {status:?}"
    );
}

#[tokio::test]
async fn gateway_listeners_serve_their_routes_on_their_own_port() {
    let upstream = Upstream::start();
    let dir = TempDir::new("gw");
    let port = free_port();
    let config = format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: edge, namespace: infra}}\nspec:\n  gatewayClassName: palisade\n  listeners:\n  - {{name: http, port: {port}, protocol: HTTP}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: up, namespace: infra}}\nspec:\n  type: ExternalName\n  externalName: 127.0.0.1\n  ports: [{{port: {up}}}]\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: infra}}\nspec:\n  parentRefs: [{{name: edge}}]\n  hostnames: [api.example.com]\n  rules:\n  - backendRefs: [{{name: up, port: {up}}}]\n",
        up = upstream.port()
    );
    let file = dir.write("config.yaml", config);
    let gw = palisade(&file, &["--listen", "none"]);
    let url = format!("http://127.0.0.1:{port}/hello");

    let req = |host: &str| {
        Request::get(&url)
            .header("host", host)
            .body(Body::empty())
            .unwrap()
    };
    let r = client::send(req("api.example.com")).await.unwrap();
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["path"], "/hello");
    let r = client::send(req("other.example.com")).await.unwrap();
    assert_eq!(r.status, StatusCode::NOT_FOUND, "hostnames are matched");
    assert!(
        client::get(&gw.listen_url()).await.is_err(),
        "--listen none disables the default listener"
    );
}
