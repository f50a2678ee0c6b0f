//! `palisade login`: a person signs in through a real OpenID Connect provider
//! with the device authorization grant (RFC 8628), and the other commands use
//! the cached ID token.
//!
//! `tests/clients/oidc_idp.mjs` runs the `oidc-provider` npm package on
//! loopback with its device flow and development login/consent pages; its
//! public client `palisade-cli` signs in accounts whose ID tokens carry
//! `email` and `groups`. Palisade runs with the seed's `OIDCProvider` pointed
//! at that issuer (clientId `palisade-cli`, so ID tokens are for Palisade).
//! `palisade login` prints where to sign in, and
//! `tests/clients/oidc_browser.mjs` plays the person's browser: it opens the
//! page, enters the code, signs in and consents (or cancels).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use palisade_testkit::idp::TestIdp;
use palisade_testkit::{Palisade, TempDir};

/// The OIDCProvider's name.
const PROVIDER: &str = "corp";
/// The test IdP's public client for the CLI.
const CLIENT_ID: &str = "palisade-cli";
/// How long anything may take before the test gives up (a hang guard, not a
/// timing assertion).
const PATIENCE: Duration = Duration::from_secs(120);

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// A child process killed on drop.
struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The seed's OIDCProvider with the test IdP's issuer and its CLI client.
fn provider_manifest(issuer: &str) -> String {
    let seed = std::fs::read_to_string(repo_file(
        "examples/seed/00-oidc-provider-role-mapping.yaml",
    ))
    .unwrap();
    let seed_issuer = "  issuer: https://idp.example.com/\n";
    let seed_client = "  clientId: palisade\n";
    assert!(
        seed.contains(seed_issuer)
            && seed.contains(seed_client)
            && seed.contains(&format!("name: {PROVIDER}\n")),
        "the seed's OIDCProvider changed:\n{seed}"
    );
    seed.replace(seed_issuer, &format!("  issuer: {issuer}\n"))
        .replace(seed_client, &format!("  clientId: {CLIENT_ID}\n"))
}

/// A person's machine: an empty home and config dir, a working directory
/// without `.palisade/`, and no PALISADE_CONFIG.
struct Person {
    dir: TempDir,
}

impl Person {
    fn new(name: &str) -> Person {
        let dir = TempDir::new(name);
        for sub in ["home", "xdg", "work"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        Person { dir }
    }

    fn config_file(&self) -> PathBuf {
        self.dir.join("xdg/palisade/config.yaml")
    }

    fn palisade(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_palisade"));
        cmd.args(args)
            .env_remove("PALISADE_CONFIG")
            .env("HOME", self.dir.join("home"))
            .env("XDG_CONFIG_HOME", self.dir.join("xdg"))
            .current_dir(self.dir.join("work"))
            .stdin(Stdio::null());
        cmd
    }

    /// Runs a command to its end: (exit code, stdout, stderr).
    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = self.palisade(args).output().expect("palisade runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Starts `palisade login ARGS`, its output read line by line.
    fn login(&self, args: &[&str]) -> Login {
        let mut cmd = self.palisade(&[&["login"], args].concat());
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("palisade login starts");
        let (tx, lines) = channel();
        for (stream, reader) in [
            (
                "stdout",
                Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            ),
            ("stderr", Box::new(child.stderr.take().unwrap())),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(reader).lines() {
                    let Ok(line) = line else { break };
                    if tx.send((stream, line)).is_err() {
                        break;
                    }
                }
            });
        }
        Login {
            child: Kill(child),
            lines,
            seen: Vec::new(),
        }
    }
}

/// A running `palisade login`.
struct Login {
    child: Kill,
    lines: Receiver<(&'static str, String)>,
    /// Every line so far, `stream: line`.
    seen: Vec<String>,
}

impl Login {
    fn output(&self) -> String {
        self.seen.join("\n")
    }

    /// Waits for the sign-in instructions: (URL to open, user code).
    fn instructions(&mut self) -> (String, String) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((stream, line)) => {
                    self.seen.push(format!("{stream}: {line}"));
                    if let Some(rest) = line.strip_prefix("To sign in, open ") {
                        assert_eq!(stream, "stderr", "instructions go to stderr");
                        let (url, code) = rest
                            .split_once(" and enter the code ")
                            .unwrap_or_else(|| panic!("unexpected instructions: {line}"));
                        return (url.to_string(), code.to_string());
                    }
                }
                Err(RecvTimeoutError::Disconnected) => panic!(
                    "palisade login ended without instructions ({:?}):\n{}",
                    self.child.0.wait(),
                    self.output()
                ),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no sign-in instructions:\n{}", self.output())
                }
            }
        }
    }

    /// Waits for the command to end; returns its status.
    fn finish(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok((stream, line)) => self.seen.push(format!("{stream}: {line}")),
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("palisade login did not end:\n{}", self.output())
                }
            }
        }
        self.child.0.wait().unwrap()
    }
}

/// The person's browser: `node tests/clients/oidc_browser.mjs URL CODE LOGIN [EXTRA]`.
fn browse(url: &str, code: &str, login: &str, extra: &[&str], idp: &TestIdp) {
    let out = Command::new("node")
        .arg(repo_file("tests/clients/oidc_browser.mjs"))
        .args([url, code, login])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "the browser failed ({}):\n{}{}\nIdP log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        idp.logs()
    );
}

/// Signs `login` in; returns the command's output.
fn sign_in(person: &Person, idp: &TestIdp, server: &str, login: &str, extra: &[&str]) -> String {
    let mut cmd = person.login(&[&["--server", server], extra].concat());
    let (url, code) = cmd.instructions();
    assert!(
        url.starts_with(&idp.issuer),
        "the page to open is the IdP's: {url}"
    );
    browse(&url, &code, login, &[], idp);
    let status = cmd.finish();
    let output = cmd.output();
    assert!(
        status.success(),
        "palisade login failed ({status}):\n{output}\nIdP log:\n{}",
        idp.logs()
    );
    output
}

fn cached_token(person: &Person) -> String {
    let text = std::fs::read_to_string(person.config_file()).unwrap();
    let token = text
        .lines()
        .find_map(|l| l.strip_prefix("token: "))
        .unwrap_or_else(|| panic!("no token in the cached configuration:\n{text}"));
    token.trim_matches('"').to_string()
}

#[test]
fn people_log_in_with_the_device_flow_and_use_their_roles() {
    let files = TempDir::new("oidc-login-files");
    let idp = TestIdp::start(files.path(), "idp");
    let manifest = files.write("oidc.yaml", provider_manifest(&idp.issuer));
    let palisade = Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("-f")
        .arg(manifest)
        .start();
    let server = palisade.admin_url();
    let person = Person::new("oidc-login-person");

    // Rita signs in: the readers group maps to global.Reader.
    let output = sign_in(&person, &idp, &server, "rita", &[]);
    let path = person.config_file();
    assert!(
        output.contains(&format!(
            "stderr: Logged in to {server} as rita@example.com (OIDCProvider {PROVIDER}); credentials cached in {}",
            path.display()
        )),
        "{output}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600, "the cached credentials are private");
        assert_eq!(mode(path.parent().unwrap()), 0o700);
    }
    let token = cached_token(&person);
    assert_eq!(token.split('.').count(), 3, "an ID token (JWT) is cached");
    assert!(!output.contains(&token), "the token was printed:\n{output}");

    // The other commands find the cached token on their own.
    let (code, out, err) = person.run(&["get", "mcpservers", "-A"]);
    assert_eq!(code, 0, "get as rita: {out}{err}");
    let (code, out, err) = person.run(&["auth", "can-i", "create", "mcpservers.kagent.dev"]);
    assert_eq!((code, out.as_str()), (1, "no\n"), "can-i as rita: {err}");
    let (code, out, err) = person.run(&["auth", "can-i", "list", "mcpservers.kagent.dev"]);
    assert_eq!((code, out.as_str()), (0, "yes\n"), "can-i as rita: {err}");
    for text in [&out, &err] {
        assert!(!text.contains(&token));
    }

    // Logging in again reuses the cached credentials while they are valid
    // (the server now comes from them too).
    let (code, out, err) = person.run(&["login"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        err.starts_with(&format!(
            "Already logged in to {server} as rita@example.com (OIDCProvider {PROVIDER}) until "
        )),
        "{err}"
    );
    assert!(!err.contains(&token) && !out.contains(&token));

    // Alice signs in anew (--no-cache): admins map to global.Admin.
    let output = sign_in(&person, &idp, &server, "alice", &["--no-cache"]);
    assert!(
        output.contains(&format!("as alice@example.com (OIDCProvider {PROVIDER})")),
        "{output}"
    );
    let alice_token = cached_token(&person);
    assert_ne!(alice_token, token);
    assert!(
        !output.contains(&alice_token),
        "the token was printed:\n{output}"
    );
    let (code, out, err) = person.run(&["auth", "can-i", "create", "mcpservers.kagent.dev"]);
    assert_eq!((code, out.as_str()), (0, "yes\n"), "can-i as alice: {err}");
    let (code, out, err) = person.run(&["get", "secrets", "-n", "kagent"]);
    assert_eq!(code, 0, "get secrets as alice: {out}{err}");
}

#[test]
fn a_denied_sign_in_fails_clearly_and_caches_nothing() {
    let files = TempDir::new("oidc-login-denied-files");
    let idp = TestIdp::start(files.path(), "idp");
    let manifest = files.write("oidc.yaml", provider_manifest(&idp.issuer));
    let palisade = Palisade::builder(env!("CARGO_BIN_EXE_palisade"))
        .arg("-f")
        .arg(manifest)
        .start();
    let server = palisade.admin_url();
    let person = Person::new("oidc-login-denied");

    for cancel_at in ["device", "login", "consent"] {
        let mut login = person.login(&["--server", &server]);
        let (url, code) = login.instructions();
        browse(&url, &code, "rita", &["--cancel-at", cancel_at], &idp);
        let status = login.finish();
        let output = login.output();
        assert_eq!(status.code(), Some(1), "{output}");
        assert!(
            output.contains(&format!(
                "stderr: error: OIDCProvider {PROVIDER}: the sign-in was denied (access_denied: End-User aborted interaction); nothing was cached"
            )),
            "cancelled at {cancel_at}:\n{output}"
        );
        assert!(!person.config_file().exists());
    }
    // Without credentials, the other commands still say how to get some.
    let (code, _, err) = person.run(&["get", "mcpservers", "-A"]);
    assert_eq!(code, 1, "{err}");
}

#[test]
fn a_server_without_providers_is_explained() {
    let palisade = Palisade::builder(env!("CARGO_BIN_EXE_palisade")).start();
    let server = palisade.admin_url();
    let person = Person::new("oidc-login-none");
    let (code, out, err) = person.run(&["login", "--server", &server]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.starts_with(&format!(
            "error: the server {server} has no OIDCProvider configured"
        )),
        "{err}"
    );
    assert!(!person.config_file().exists());

    // No server at all: nothing configured, no --server.
    let (code, _, err) = person.run(&["login"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no server to log in to: pass --server URL"),
        "{err}"
    );
}
