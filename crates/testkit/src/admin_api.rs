//! A client of Palisade's admin API for tests: curl with a bearer token, JSON
//! in and out, Kubernetes `Status` errors checked by shape.

use std::process::Command;

use serde_json::Value;

use crate::Palisade;

/// An admin API client: base URL and bearer token.
#[derive(Clone, Debug)]
pub struct AdminApi {
    /// The admin listener's URL.
    pub base: String,
    /// The bearer token sent (none when empty).
    pub token: String,
}

/// One answer: status code and JSON body (a JSON string when not JSON).
#[derive(Debug)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body.
    pub body: Value,
}

impl AdminApi {
    /// The bootstrap admin of `palisade` (its token from `admin.yaml`).
    pub fn admin(palisade: &Palisade) -> AdminApi {
        let config = std::fs::read_to_string(palisade.state_dir().join("admin.yaml"))
            .expect("admin.yaml exists");
        let token = config
            .lines()
            .find_map(|l| l.strip_prefix("token: "))
            .expect("admin.yaml has a token")
            .to_string();
        AdminApi {
            base: palisade.admin_url(),
            token,
        }
    }

    /// The same server with another token.
    pub fn with_token(&self, token: &str) -> AdminApi {
        AdminApi {
            base: self.base.clone(),
            token: token.to_string(),
        }
    }

    /// `method path` with an optional JSON body and extra `Name: value` headers.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>, headers: &[&str]) -> Answer {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "-X", method, "-w", "\n%{http_code}"])
            .arg(format!("{}{path}", self.base));
        if !self.token.is_empty() {
            cmd.args(["-H", &format!("Authorization: Bearer {}", self.token)]);
        }
        for h in headers {
            cmd.args(["-H", h]);
        }
        if let Some(body) = body {
            cmd.args([
                "-H",
                "content-type: application/json",
                "-d",
                &body.to_string(),
            ]);
        }
        let out = cmd.output().expect("curl runs");
        let text = String::from_utf8(out.stdout).unwrap();
        let (body, status) = text.rsplit_once('\n').unwrap_or_else(|| {
            panic!(
                "{method} {path}: no answer ({})",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        Answer {
            status: status.trim().parse().unwrap(),
            body: serde_json::from_str(body).unwrap_or(Value::String(body.to_string())),
        }
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Answer {
        self.call("GET", path, None, &[])
    }

    /// `POST path` with `body`.
    pub fn post(&self, path: &str, body: &Value) -> Answer {
        self.call("POST", path, Some(body), &[])
    }

    /// `PUT path` with `body`.
    pub fn put(&self, path: &str, body: &Value) -> Answer {
        self.call("PUT", path, Some(body), &[])
    }

    /// `method path` must answer `status`; returns the body.
    pub fn expect(&self, status: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
        let r = self.call(method, path, body, &[]);
        assert_eq!(
            r.status, status,
            "{method} {path} answered {} (expected {status}): {}",
            r.status, r.body
        );
        r.body
    }

    /// `method path` must be refused with a 403 `Status` saying exactly `message`.
    pub fn forbidden(&self, method: &str, path: &str, body: Option<&Value>, message: &str) {
        let r = self.expect(403, method, path, body);
        assert_eq!(r["kind"], "Status", "{method} {path}: {r}");
        assert_eq!(r["reason"], "Forbidden", "{method} {path}: {r}");
        assert_eq!(r["code"], 403, "{method} {path}: {r}");
        assert_eq!(r["message"], message, "{method} {path}: {r}");
    }
}
