//! The test identity provider (`tests/clients/oidc_idp.mjs`, built on npm
//! `oidc-provider`): started on a free port with its output in a log file,
//! tokens obtained with the client-credentials grant, killed on drop.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::{free_port, peers};

/// A running test IdP.
pub struct TestIdp {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its issuer, `http://127.0.0.1:<port>`.
    pub issuer: String,
    log: PathBuf,
}

impl TestIdp {
    /// Starts the IdP, its output in `dir/<name>.log`, and waits until it
    /// says it listens (panicking with its log if it exits or never does).
    pub fn start(dir: &Path, name: &str) -> TestIdp {
        let port = free_port();
        let log = dir.join(format!("{name}.log"));
        let out = File::create(&log).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/clients/oidc_idp.mjs");
        let child = Command::new("node")
            .arg(script)
            .arg(port.to_string())
            .env("OIDC_PROVIDER_DIR", peers::node_package("oidc-provider"))
            .current_dir(peers::dir())
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("node runs");
        let mut idp = TestIdp {
            child,
            port,
            issuer: format!("http://127.0.0.1:{port}"),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let ready = format!("listening {}", idp.issuer);
        while !idp.logs().contains(&ready) {
            if let Some(status) = idp.child.try_wait().unwrap() {
                panic!("the IdP exited ({status}):\n{}", idp.logs());
            }
            assert!(
                Instant::now() < deadline,
                "the IdP never listened:\n{}",
                idp.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        idp
    }

    /// Everything the IdP printed so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The token endpoint's JSON answer for `client` asking for `resource`
    /// with `scope` (client credentials, client_secret_basic with the
    /// persona's secret `<client>-secret`).
    pub fn grant(&self, client: &str, resource: &str, scope: &str) -> Value {
        let out = Command::new("curl")
            .args(["-sS", "-u", &format!("{client}:{client}-secret")])
            .args(["-d", "grant_type=client_credentials"])
            .args(["-d", &format!("resource={resource}")])
            .args(["--data-urlencode", &format!("scope={scope}")])
            .arg(format!("{}/token", self.issuer))
            .output()
            .expect("curl runs");
        let text = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(&text).unwrap_or_else(|_| {
            panic!(
                "the IdP's token endpoint answered {text:?} ({}); IdP log:\n{}",
                String::from_utf8_lossy(&out.stderr),
                self.logs()
            )
        })
    }

    /// An access token (a JWS) of `client` for `resource` with `scope`.
    pub fn token(&self, client: &str, resource: &str, scope: &str) -> String {
        let answer = self.grant(client, resource, scope);
        let token = answer["access_token"].as_str().unwrap_or_else(|| {
            panic!(
                "no access token for {client}: {answer}; IdP log:\n{}",
                self.logs()
            )
        });
        assert_eq!(
            token.split('.').count(),
            3,
            "{client}'s access token is a JWS: {token}"
        );
        token.to_string()
    }
}

impl Drop for TestIdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
