//! JWT authentication on a route (`traffic.jwtAuthentication`, keys fetched
//! from a JWKS server through a Service `backendRef` + `jwksPath`, as the seed
//! configures it): the security suite. Every forged, stale or misdirected
//! token is refused with 401 and an RFC 6750 challenge, a valid one reaches
//! the upstream without its token, keys rotate without a restart, and a JWKS
//! outage keeps the last good keys.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use palisade_identity::{JwkSet, Signer};
use palisade_testkit::helpers::HelperServer;
use palisade_testkit::upstream::Upstream;
use palisade_testkit::{Palisade, TempDir};
use serde_json::{Map, Value, json};

const ISSUER: &str = "https://issuer.test/";
const AUDIENCE: &str = "palisade-test";

fn publish(dir: &Path, signers: &[&Signer]) {
    let set = JwkSet {
        keys: signers.iter().map(|s| s.public_jwk().clone()).collect(),
    };
    let tmp = dir.join("jwks.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec(&set).unwrap()).unwrap();
    std::fs::rename(tmp, dir.join("jwks.json")).unwrap();
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn claims(overrides: Value) -> Map<String, Value> {
    let mut base = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "alice",
        "iat": now(), "exp": now() + 600, "scope": "files:read",
    });
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() {
            base.as_object_mut().unwrap().remove(k);
        } else {
            base[k] = v.clone();
        }
    }
    base.as_object().unwrap().clone()
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// `curl` the route with `token`: (status, WWW-Authenticate, body).
fn call(url: &str, token: Option<&str>) -> (u16, String, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["-sS", "-D", "-", url]);
    if let Some(token) = token {
        cmd.args(["-H", &format!("Authorization: Bearer {token}")]);
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let challenge = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .starts_with("www-authenticate:")
                .then(|| l.split_once(':').unwrap().1.trim().to_string())
        })
        .unwrap_or_default();
    (status, challenge, body.to_string())
}

/// The route must refuse `token` with 401, naming `why`.
fn refused(url: &str, what: &str, token: &str, why: &str) {
    let (status, challenge, body) = call(url, Some(token));
    assert_eq!(status, 401, "{what}: {body}");
    assert!(
        challenge.starts_with("Bearer realm=\"palisade\", error=\"invalid_token\""),
        "{what}: challenge {challenge:?}"
    );
    assert!(
        body.to_lowercase().contains(why),
        "{what}: the refusal should mention {why:?}: {body}"
    );
}

#[test]
fn jwt_security_suite() {
    let keys_dir = TempDir::new("jwt-jwks");
    let current = Signer::generate().unwrap();
    let next = Signer::generate().unwrap();
    let stranger = Signer::generate().unwrap();
    publish(keys_dir.path(), &[&current]);
    let jwks = HelperServer::static_files(keys_dir.path());
    let upstream = Upstream::start();

    let dir = TempDir::new("jwt");
    let manifest = format!(
        r#"apiVersion: v1
kind: Service
metadata: {{name: jwks, namespace: default}}
spec: {{type: ExternalName, externalName: 127.0.0.1, ports: [{{port: {jwks_port}}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: api, namespace: default}}
spec: {{type: ExternalName, externalName: 127.0.0.1, ports: [{{port: {api_port}}}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: api, namespace: default}}
spec:
  rules:
  - matches: [{{path: {{type: PathPrefix, value: /api}}}}]
    backendRefs: [{{name: api, port: {api_port}}}]
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata: {{name: require-jwt, namespace: default}}
spec:
  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: api}}]
  traffic:
    jwtAuthentication:
      providers:
      - issuer: "{ISSUER}"
        audiences: ["{AUDIENCE}"]
        jwks:
          remote:
            backendRef: {{group: "", kind: Service, name: jwks, port: {jwks_port}}}
            jwksPath: jwks.json
"#,
        jwks_port = jwks.port(),
        api_port = upstream.port(),
    );
    let path = dir.path().join("jwt.yaml");
    std::fs::write(&path, manifest).unwrap();
    let palisade = Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("-f")
        .arg(&path)
        .start();
    let url = format!("{}/api/hello", palisade.listen_url());

    // No token: a bare challenge, and nothing reaches the upstream.
    let (status, challenge, _) = call(&url, None);
    assert_eq!(
        (status, challenge.as_str()),
        (401, "Bearer realm=\"palisade\"")
    );

    // A valid token passes; the upstream never sees it.
    let valid = current.sign(&claims(json!({}))).unwrap();
    let (status, _, body) = call(&url, Some(&valid));
    assert_eq!(status, 200, "{body}");
    let seen = upstream.last_request().unwrap();
    assert_eq!(
        seen.header("authorization"),
        None,
        "the token was passed upstream"
    );

    refused(
        &url,
        "expired",
        &current.sign(&claims(json!({"exp": now() - 600}))).unwrap(),
        "expired",
    );
    refused(
        &url,
        "not yet valid",
        &current.sign(&claims(json!({"nbf": now() + 600}))).unwrap(),
        "not",
    );
    refused(
        &url,
        "wrong issuer",
        &current
            .sign(&claims(json!({"iss": "https://evil.test/"})))
            .unwrap(),
        "issuer",
    );
    refused(
        &url,
        "wrong audience",
        &current
            .sign(&claims(json!({"aud": "someone-else"})))
            .unwrap(),
        "audience",
    );
    refused(
        &url,
        "no subject",
        &current.sign(&claims(json!({"sub": null}))).unwrap(),
        "subject",
    );

    // Tampered claims: alice's signature over a payload that now says admin.
    let (head, rest) = valid.split_once('.').unwrap();
    let signature = rest.rsplit_once('.').unwrap().1;
    let forged_payload = b64(&Value::Object(claims(
        json!({"sub": "admin", "scope": "files:delete"}),
    )));
    refused(
        &url,
        "tampered claims",
        &format!("{head}.{forged_payload}.{signature}"),
        "signature",
    );
    // A signature by a key that is not the kid's.
    let other_signature = stranger.sign(&claims(json!({}))).unwrap();
    let other_signature = other_signature.rsplit_once('.').unwrap().1;
    let (signed_part, _) = valid.rsplit_once('.').unwrap();
    refused(
        &url,
        "bad signature",
        &format!("{signed_part}.{other_signature}"),
        "signature",
    );
    // alg none.
    let payload = b64(&Value::Object(claims(json!({}))));
    refused(
        &url,
        "alg none",
        &format!("{}.{payload}.", b64(&json!({"alg": "none", "typ": "JWT"}))),
        "algorithm",
    );
    // HS256 "signed" with the public key as the HMAC secret (algorithm confusion).
    let public = serde_json::to_vec(current.public_jwk()).unwrap();
    let header = b64(&json!({"alg": "HS256", "typ": "JWT", "kid": current.kid()}));
    let signing_input = format!("{header}.{payload}");
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &public);
    let mac = ring::hmac::sign(&key, signing_input.as_bytes());
    refused(
        &url,
        "HS256 with the public key",
        &format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.as_ref())),
        "algorithm",
    );
    // A key the issuer never published (unknown kid, even after a refresh).
    refused(
        &url,
        "unknown kid",
        &stranger.sign(&claims(json!({}))).unwrap(),
        "key id",
    );
    // Not a JWT at all.
    refused(&url, "garbage", "not-a-jwt", "jwt");
    let tokens_seen = upstream.request_count();
    assert_eq!(
        tokens_seen, 1,
        "only the valid token's request reached the upstream"
    );

    // Rotation without restart: the issuer publishes a new key; tokens signed
    // with it are accepted once the key set is refetched (refreshes on unknown
    // key ids are rate limited, so this may take one refresh interval).
    publish(keys_dir.path(), &[&current, &next]);
    let rotated = next.sign(&claims(json!({"sub": "bob"}))).unwrap();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (status, _, body) = call(&url, Some(&rotated));
        if status == 200 {
            break;
        }
        assert_eq!(status, 401, "{body}");
        assert!(
            Instant::now() < deadline,
            "the rotated key was never accepted: {body}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    // An outage of the key server keeps the last good keys working.
    drop(jwks);
    assert_eq!(call(&url, Some(&valid)).0, 200);
    assert_eq!(call(&url, Some(&rotated)).0, 200);
    assert!(!palisade.logs().contains(&valid), "a token reached the log");
}
