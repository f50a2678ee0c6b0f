//! Tests of the process launcher against a stand-in for the palisade binary
//! (a small Python script that accepts the same flags and serves /readyz).

use std::path::PathBuf;
use std::time::Duration;

use palisade_testkit::{Palisade, Signal, TempDir, client};

const FAKE: &str = r#"#!/usr/bin/env python3
import http.server, signal, sys

args = sys.argv[1:]
assert args[0] == "run", args
def flag(name):
    for i, a in enumerate(args):
        if a == name:
            return args[i + 1]
        if a.startswith(name + "="):
            return a[len(name) + 1:]
    raise SystemExit("missing " + name)
admin = flag("--admin-addr")
listen = flag("--listen")
state = flag("--state-dir")
if "--fail" in args:
    print("error: bad config at line 3", file=sys.stderr, flush=True)
    sys.exit(2)

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/readyz" else 404)
        self.send_header("content-length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass

def term(*_):
    print('{"msg":"shutting down"}', flush=True)
    sys.exit(0)
signal.signal(signal.SIGTERM, term)
host, port = admin.rsplit(":", 1)
srv = http.server.HTTPServer((host, int(port)), H)
print('{"msg":"listening","listen":"%s","admin":"%s","state":"%s"}' % (listen, admin, state), flush=True)
print("a line on stderr", file=sys.stderr, flush=True)
srv.serve_forever()
"#;

fn fake_bin(dir: &TempDir) -> PathBuf {
    let p = dir.write("fake-palisade", FAKE);
    let mut perm = std::fs::metadata(&p).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&p, perm).unwrap();
    p
}

#[test]
fn starts_waits_ready_captures_logs_and_stops() {
    let dir = TempDir::new("testkit-process");
    let bin = fake_bin(&dir);
    let mut p = Palisade::start_bin(&bin, &["-f", "config.yaml"]);
    assert!(p.pid() > 0);
    assert!(p.listen_url().starts_with("http://127.0.0.1:"));
    assert_ne!(p.listen_addr(), p.admin_addr());
    assert!(p.state_dir().is_dir());

    let line = p.wait_for_log("\"listening\"", Duration::from_secs(5));
    assert!(line.contains(&p.admin_addr().to_string()), "{line}");
    p.wait_for_log("a line on stderr", Duration::from_secs(5));
    assert!(
        p.try_wait_for_log("never printed", Duration::from_millis(50))
            .is_none()
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let res = rt
        .block_on(client::get(&format!("{}/readyz", p.admin_url())))
        .unwrap();
    assert_eq!(res.status, 200);

    p.signal(Signal::Term);
    let status = p.wait_exit(Duration::from_secs(10));
    assert!(status.success(), "{status}");
    assert!(p.logs().contains("shutting down"));
    let state = p.state_dir().to_path_buf();
    drop(p);
    assert!(!state.exists(), "temp state dir removed on drop");
}

#[test]
fn respects_caller_addresses_and_builder_options() {
    let dir = TempDir::new("testkit-process");
    let bin = fake_bin(&dir);
    let listen = format!("127.0.0.1:{}", palisade_testkit::free_port());
    let state = dir.join("state");
    std::fs::create_dir(&state).unwrap();
    let mut p = Palisade::builder(&bin)
        .args(["run", "--listen", &listen])
        .arg(format!("--state-dir={}", state.display()))
        .env("SOME_VAR", "1")
        .start();
    assert_eq!(p.listen_addr().to_string(), listen);
    assert_eq!(p.state_dir(), state);
    p.stop();

    let p = Palisade::builder(&bin).args(["--listen", "none"]).start();
    assert_eq!(p.listen_url(), "http://none");
}

#[test]
fn early_exit_is_reported_with_logs() {
    let dir = TempDir::new("testkit-process");
    let bin = fake_bin(&dir);
    let mut p = Palisade::builder(&bin).arg("--fail").no_wait().start();
    let status = p.wait_exit(Duration::from_secs(10));
    assert_eq!(status.code(), Some(2));
    assert!(p.logs().contains("bad config at line 3"));

    let panic = std::panic::catch_unwind(|| Palisade::start_bin(&bin, &["--fail"]))
        .expect_err("start must panic when the child exits");
    let msg = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("before becoming ready"), "{msg}");
    assert!(msg.contains("bad config at line 3"), "{msg}");
}

#[test]
fn killed_on_drop() {
    let dir = TempDir::new("testkit-process");
    let bin = fake_bin(&dir);
    let p = Palisade::start_bin(&bin, &[]);
    let pid = p.pid();
    drop(p);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}
