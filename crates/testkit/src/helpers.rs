//! Small helpers the end-to-end tests share: a self-signed certificate for HTTPS
//! test servers, and helper server processes (started, waited for, killed on
//! drop), such as a static file server.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Writes a self-signed certificate for `localhost` (not a CA, so it can serve
/// as both the trust anchor and the server's certificate) and its key into `dir`
/// with `openssl`; returns (certificate, key) paths.
pub fn self_signed_localhost(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
        ])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    (cert, key)
}

/// Starts `cmd` and waits (up to 20 s) until something listens on `port`.
pub fn start_listening(mut cmd: Command, port: u16) -> Child {
    let mut child = cmd.spawn().expect("the helper server starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "{cmd:?} exited");
        assert!(
            Instant::now() < deadline,
            "{cmd:?} never listened on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// A helper server process, killed when dropped.
pub struct HelperServer {
    child: Child,
    port: u16,
}

impl HelperServer {
    /// Starts `cmd` and waits until it listens on `port`.
    pub fn start(cmd: Command, port: u16) -> HelperServer {
        HelperServer {
            child: start_listening(cmd, port),
            port,
        }
    }

    /// Serves the files of `dir` over plain HTTP on a free loopback port
    /// (python's `http.server`).
    pub fn static_files(dir: &Path) -> HelperServer {
        let port = crate::free_port();
        let mut cmd = Command::new("python3");
        cmd.args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
        HelperServer::start(cmd, port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for HelperServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
