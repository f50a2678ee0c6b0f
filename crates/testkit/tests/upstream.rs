//! Tests of the test upstream and the client helpers, over real sockets.

use std::time::Duration;

use http::{Method, Request, StatusCode};
use palisade_testkit::client::{self, Body, Client, body, read_streaming};
use palisade_testkit::{Upstream, pattern};

#[tokio::test]
async fn echo_reports_request_and_records_it() {
    let up = Upstream::start_named("alpha");
    let req = Request::post(format!("{}/echo/x?a=1&b=2", up.url()))
        .header("x-test", "one")
        .body(body::full("hello"))
        .unwrap();
    let res = client::send(req).await.unwrap();
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("x-upstream"), Some("alpha"));
    let j = res.json();
    assert_eq!(j["method"], "POST");
    assert_eq!(j["path"], "/echo/x");
    assert_eq!(j["query"], "a=1&b=2");
    assert_eq!(j["uri"], "/echo/x?a=1&b=2");
    assert_eq!(j["headers"]["x-test"], "one");
    assert_eq!(j["body_len"], 5);
    assert_eq!(j["body_checksum"], pattern::checksum_of(b"hello"));

    let rec = up.last_request().expect("recorded");
    assert_eq!(rec.method, Method::POST);
    assert_eq!(rec.path(), "/echo/x");
    assert_eq!(rec.uri, "/echo/x?a=1&b=2");
    assert_eq!(rec.header("x-test"), Some("one"));
    assert_eq!(rec.body_len, 5);
    assert_eq!(up.request_count(), 1);
    up.clear();
    assert_eq!(up.request_count(), 0);
}

#[tokio::test]
async fn unknown_path_echoes() {
    let up = Upstream::start();
    let res = client::get(&format!("{}/anything/else", up.url()))
        .await
        .unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["path"], "/anything/else");
    assert_eq!(res.json()["method"], "GET");
}

#[tokio::test]
async fn status_route() {
    let up = Upstream::start();
    for code in [200u16, 201, 404, 418, 500, 503] {
        let res = client::get(&format!("{}/status/{code}", up.url()))
            .await
            .unwrap();
        assert_eq!(res.status.as_u16(), code);
        assert_eq!(res.json()["status"], code);
    }
    let res = client::get(&format!("{}/status/204", up.url()))
        .await
        .unwrap();
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert!(res.body.is_empty());
    let res = client::get(&format!("{}/status/abc", up.url()))
        .await
        .unwrap();
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn slow_route_waits() {
    let up = Upstream::start();
    let t = std::time::Instant::now();
    let res = client::get(&format!("{}/slow?ms=200", up.url()))
        .await
        .unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.json()["path"], "/slow");
    // A lower bound only: this checks the route, not performance.
    assert!(t.elapsed() >= Duration::from_millis(200));

    let impatient = Client::new().with_timeout(Duration::from_millis(100));
    let err = impatient
        .get(&format!("{}/slow?ms=2000", up.url()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("timed out"), "{err}");
}

#[tokio::test]
async fn stream_route_is_chunked_and_deterministic() {
    let up = Upstream::start();
    let req = Request::get(format!(
        "{}/stream?chunks=5&size=1000&delay_ms=10",
        up.url()
    ))
    .body(body::empty())
    .unwrap();
    let res = client::send_streaming(req).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get("transfer-encoding")
            .map(|v| v.to_str().unwrap()),
        Some("chunked")
    );
    let expected_len: u64 = res.headers()["x-expected-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let expected_sum = res.headers()["x-expected-checksum"]
        .to_str()
        .unwrap()
        .to_string();
    let summary = read_streaming(res.into_body()).await.unwrap();
    assert_eq!(expected_len, 5000);
    assert_eq!(summary.len, 5000);
    assert_eq!(summary.checksum, expected_sum);
    assert_eq!(summary.checksum, pattern::checksum(5000));
    assert!(summary.frames >= 2, "{summary:?}");

    // Buffered read of the same content.
    let res = client::get(&format!("{}/stream?chunks=3&size=7", up.url()))
        .await
        .unwrap();
    assert_eq!(&res.body[..], &pattern::chunk(0, 21)[..]);
}

#[tokio::test]
async fn sse_route() {
    let up = Upstream::start();
    let res = client::get(&format!("{}/sse?events=3&delay_ms=5", up.url()))
        .await
        .unwrap();
    assert_eq!(res.header("content-type"), Some("text/event-stream"));
    assert_eq!(
        res.text(),
        "id: 0\ndata: {\"n\":0}\n\nid: 1\ndata: {\"n\":1}\n\nid: 2\ndata: {\"n\":2}\n\n"
    );
}

const BIG: u64 = 64 * 1024 * 1024;

#[tokio::test]
async fn streams_64_mib_down_without_buffering() {
    let up = Upstream::start();
    let req = Request::get(format!("{}/stream?chunks=1024&size=65536", up.url()))
        .body(body::empty())
        .unwrap();
    let res = client::send_streaming(req).await.unwrap();
    let summary = read_streaming(res.into_body()).await.unwrap();
    assert_eq!(summary.len, BIG);
    assert_eq!(summary.checksum, pattern::checksum(BIG));
}

#[tokio::test]
async fn uploads_64_mib_without_buffering() {
    let up = Upstream::start();
    let req = Request::put(format!("{}/upload", up.url()))
        .body(body::pattern(BIG, 256 * 1024))
        .unwrap();
    let res = client::send(req).await.unwrap();
    assert_eq!(res.status, 200);
    let j = res.json();
    assert_eq!(j["body_len"], BIG);
    assert_eq!(j["body_checksum"], pattern::checksum(BIG));
    let rec = up.last_request().unwrap();
    assert_eq!(rec.body_len, BIG);
    assert_eq!(rec.header("transfer-encoding"), Some("chunked"));
}

#[tokio::test]
async fn h2c_prior_knowledge() {
    let up = Upstream::start();
    let c = Client::http2_only();
    let res = c.get(&format!("{}/echo", up.url())).await.unwrap();
    assert_eq!(res.version, http::Version::HTTP_2);
    assert_eq!(res.json()["version"], "HTTP/2.0");
    let req = Request::post(format!("{}/upload", up.url()))
        .body(Body::pattern(3_000_000, 100_000))
        .unwrap();
    let res = c.send(req).await.unwrap();
    assert_eq!(res.json()["body_len"], 3_000_000);
    assert_eq!(res.json()["body_checksum"], pattern::checksum(3_000_000));
}

#[tokio::test]
async fn body_constructors() {
    let up = Upstream::start();
    let url = format!("{}/upload", up.url());
    let frames = futures_util::stream::iter(
        ["ab", "cd"]
            .map(|s| Ok::<_, std::io::Error>(hyper::body::Frame::data(bytes::Bytes::from(s)))),
    );
    let cases: Vec<(Body, &[u8])> = vec![
        (Body::empty(), b""),
        (Body::from("hello"), b"hello"),
        (Body::from(vec![1u8, 2, 3]), &[1, 2, 3]),
        (Body::json(&serde_json::json!({"a": 1})), br#"{"a":1}"#),
        (Body::wrap(http_body_util::StreamBody::new(frames)), b"abcd"),
    ];
    for (b, want) in cases {
        let j = client::send(Request::post(&url).body(b).unwrap())
            .await
            .unwrap()
            .json();
        assert_eq!(j["body_len"], want.len());
        assert_eq!(j["body_checksum"], pattern::checksum_of(want));
    }
}

#[tokio::test]
async fn client_reuses_connections() {
    let up = Upstream::start();
    let c = Client::new();
    for _ in 0..5 {
        assert_eq!(
            c.get(&format!("{}/echo", up.url())).await.unwrap().status,
            200
        );
    }
    assert_eq!(up.connections(), 1);
    assert_eq!(up.request_count(), 5);
}

#[test]
fn works_from_sync_code_and_stops_on_drop() {
    let up = Upstream::start();
    let addr = up.addr();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let res = rt
        .block_on(client::get(&format!("http://{addr}/echo")))
        .unwrap();
    assert_eq!(res.status, 200);
    drop(up);
    assert!(std::net::TcpStream::connect(addr).is_err());
}

#[test]
fn free_ports_are_bindable() {
    let p = palisade_testkit::free_port();
    assert_ne!(p, 0);
    std::net::TcpListener::bind(("127.0.0.1", p)).unwrap();
}
