//! Launching the real `palisade` binary for end-to-end tests.
//!
//! [`Palisade::start`] runs `palisade run ARGS` with free loopback ports for
//! `--listen` and `--admin-addr` and a fresh temporary `--state-dir` (each
//! only when the caller did not pass it), captures stdout and stderr, and
//! waits until `GET /readyz` on the admin address answers 200. The child is
//! killed when the [`Palisade`] value is dropped.
//!
//! Set `PALISADE_TEST_LOG=1` to also copy the child's output to the test's
//! stderr as it arrives.
//!
//! ```no_run
//! use palisade_testkit::{Palisade, Signal, TempDir};
//! use std::time::Duration;
//!
//! let dir = TempDir::new("my-test");
//! let cfg = dir.write("config.yaml", "# resources");
//! let mut p = Palisade::start_bin(
//!     env!("CARGO_MANIFEST_DIR").as_ref(), // in crates/palisade/tests: env!("CARGO_BIN_EXE_palisade")
//!     &["-f", cfg.to_str().unwrap()],
//! );
//! println!("proxy at {}", p.listen_url());
//! p.signal(Signal::Term);
//! assert!(p.wait_exit(Duration::from_secs(10)).success());
//! ```

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::client::free_port;
use crate::temp::TempDir;

/// Default time allowed for `/readyz` to answer 200.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A Unix signal to send to the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM: graceful shutdown.
    Term,
    /// SIGINT: like Ctrl-C.
    Int,
    /// SIGHUP.
    Hup,
    /// SIGKILL.
    Kill,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Signal::Term => "TERM",
            Signal::Int => "INT",
            Signal::Hup => "HUP",
            Signal::Kill => "KILL",
        }
    }
}

#[derive(Default)]
struct LogState {
    text: String,
    /// Number of output streams (stdout, stderr) that reached end of file.
    closed: usize,
}

#[derive(Default)]
struct Logs {
    state: Mutex<LogState>,
    changed: Condvar,
}

impl Logs {
    fn snapshot(&self) -> String {
        self.state.lock().unwrap().text.clone()
    }

    /// Waits until both streams are closed, or `timeout`.
    fn wait_closed(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut st = self.state.lock().unwrap();
        while st.closed < 2 {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            st = self.changed.wait_timeout(st, deadline - now).unwrap().0;
        }
    }
}

fn spawn_reader(
    stream: impl Read + Send + 'static,
    logs: Arc<Logs>,
    tag: String,
) -> std::thread::JoinHandle<()> {
    let echo = std::env::var_os("PALISADE_TEST_LOG").is_some_and(|v| !v.is_empty() && v != "0");
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let s = String::from_utf8_lossy(&line);
                    if echo {
                        eprint!("[{tag}] {s}");
                        if !s.ends_with('\n') {
                            eprintln!();
                        }
                    }
                    let mut st = logs.state.lock().unwrap();
                    st.text.push_str(&s);
                    if !s.ends_with('\n') {
                        st.text.push('\n');
                    }
                    drop(st);
                    logs.changed.notify_all();
                }
            }
        }
        logs.state.lock().unwrap().closed += 1;
        logs.changed.notify_all();
    })
}

/// Finds `--flag VALUE` or `--flag=VALUE` in `args`.
fn flag_value(args: &[OsString], flag: &str) -> Option<String> {
    let prefix = format!("{flag}=");
    let mut it = args.iter().map(|a| a.to_string_lossy());
    while let Some(a) = it.next() {
        if a == flag {
            return it.next().map(|v| v.into_owned());
        }
        if let Some(v) = a.strip_prefix(&prefix) {
            return Some(v.to_string());
        }
    }
    None
}

/// Resolves `host:port` (a bind address) to an address a client can reach:
/// unspecified hosts (`0.0.0.0`, `[::]`) become loopback. `None` when `bind`
/// is not an address (e.g. `none`).
fn client_addr(bind: &str) -> Option<SocketAddr> {
    let mut addr = bind.to_socket_addrs().ok().and_then(|mut a| a.next())?;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    Some(addr)
}

/// Returns the status code of `GET path` on `addr`, if it answered at all.
fn probe(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    s.set_write_timeout(Some(Duration::from_secs(2))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut head = [0u8; 64];
    let mut n = 0;
    while n < 12 {
        match s.read(&mut head[n..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    let line = std::str::from_utf8(&head[..n]).ok()?;
    line.split(' ').nth(1)?.parse().ok()
}

/// Configures and starts a `palisade run` child (see [`Palisade::builder`]).
#[derive(Debug, Clone)]
pub struct PalisadeBuilder {
    bin: PathBuf,
    args: Vec<OsString>,
    envs: Vec<(OsString, Option<OsString>)>,
    current_dir: Option<PathBuf>,
    ready_timeout: Duration,
    wait_ready: bool,
}

impl PalisadeBuilder {
    /// Appends one argument (after `run`).
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Appends arguments (after `run`). A leading `run` is accepted and ignored.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        for a in args {
            let a = a.into();
            if self.args.is_empty() && a == "run" {
                continue;
            }
            self.args.push(a);
        }
        self
    }

    /// Sets an environment variable for the child.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), Some(value.into())));
        self
    }

    /// Removes an environment variable from the child's environment.
    pub fn env_remove(mut self, key: impl Into<OsString>) -> Self {
        self.envs.push((key.into(), None));
        self
    }

    /// Runs the child in `dir`.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }

    /// How long to wait for `/readyz` (default [`READY_TIMEOUT`]).
    pub fn ready_timeout(mut self, timeout: Duration) -> Self {
        self.ready_timeout = timeout;
        self
    }

    /// Do not wait for readiness: [`PalisadeBuilder::start`] returns right after
    /// spawning (for tests that expect startup to fail).
    pub fn no_wait(mut self) -> Self {
        self.wait_ready = false;
        self
    }

    /// Spawns the child and (unless [`no_wait`](Self::no_wait)) waits until
    /// it is ready. Panics, with the child's logs, if it is not.
    pub fn start(self) -> Palisade {
        let mut args = self.args;
        let listen = flag_value(&args, "--listen").unwrap_or_else(|| {
            let a = format!("127.0.0.1:{}", free_port());
            args.extend(["--listen".into(), a.clone().into()]);
            a
        });
        let admin = flag_value(&args, "--admin-addr").unwrap_or_else(|| {
            let a = format!("127.0.0.1:{}", free_port());
            args.extend(["--admin-addr".into(), a.clone().into()]);
            a
        });
        let mut temp = None;
        let state_dir = match flag_value(&args, "--state-dir") {
            Some(d) => PathBuf::from(d),
            None => {
                let t = TempDir::new("palisade-state");
                let d = t.path().to_path_buf();
                args.extend(["--state-dir".into(), d.clone().into()]);
                temp = Some(t);
                d
            }
        };

        let admin_addr = client_addr(&admin).unwrap_or_else(|| {
            panic!("--admin-addr {admin:?} is not an address; the launcher needs one for /readyz")
        });

        let mut cmd = Command::new(&self.bin);
        cmd.arg("run")
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.envs {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        if let Some(d) = &self.current_dir {
            cmd.current_dir(d);
        }
        let command_line = format!(
            "{} run {}",
            self.bin.display(),
            args.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" ")
        );
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `{command_line}`: {e}"));
        let pid = child.id();
        let logs = Arc::new(Logs::default());
        let out = child.stdout.take().expect("piped stdout");
        let err = child.stderr.take().expect("piped stderr");
        spawn_reader(out, logs.clone(), format!("palisade {pid}"));
        spawn_reader(err, logs.clone(), format!("palisade {pid}"));

        let mut p = Palisade {
            bin: self.bin.clone(),
            child,
            pid,
            command_line,
            listen: client_addr(&listen),
            listen_spec: listen,
            admin: admin_addr,
            state_dir,
            _temp: temp,
            logs,
            exit: None,
        };
        if self.wait_ready {
            p.wait_ready(self.ready_timeout);
        }
        p
    }
}

/// What a CLI command printed, and whether it succeeded.
#[derive(Debug, Clone)]
pub struct CliOutput {
    /// Exit status 0.
    pub success: bool,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// A running `palisade run` child process; killed on drop.
pub struct Palisade {
    bin: PathBuf,
    child: Child,
    pid: u32,
    command_line: String,
    listen: Option<SocketAddr>,
    listen_spec: String,
    admin: SocketAddr,
    state_dir: PathBuf,
    _temp: Option<TempDir>,
    logs: Arc<Logs>,
    exit: Option<ExitStatus>,
}

impl std::fmt::Debug for Palisade {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Palisade")
            .field("pid", &self.pid)
            .field("listen", &self.listen)
            .field("admin", &self.admin)
            .finish()
    }
}

impl Palisade {
    /// A builder for the binary named by `$PALISADE_BIN`; panics if unset.
    pub fn builder_from_env() -> PalisadeBuilder {
        let bin = std::env::var_os("PALISADE_BIN").unwrap_or_else(|| {
            panic!(
                "PALISADE_BIN is not set; set it to the palisade binary or use \
                 Palisade::start_bin(Path::new(env!(\"CARGO_BIN_EXE_palisade\")), ...)"
            )
        });
        Self::builder(bin)
    }

    /// A builder for the binary at `bin`.
    pub fn builder(bin: impl Into<PathBuf>) -> PalisadeBuilder {
        PalisadeBuilder {
            bin: bin.into(),
            args: Vec::new(),
            envs: Vec::new(),
            current_dir: None,
            ready_timeout: READY_TIMEOUT,
            wait_ready: true,
        }
    }

    /// Runs `$PALISADE_BIN run ARGS` and waits until ready.
    pub fn start(args: &[&str]) -> Palisade {
        Self::builder_from_env().args(args.iter().copied()).start()
    }

    /// Runs `BIN run ARGS` and waits until ready.
    pub fn start_bin(bin: &Path, args: &[&str]) -> Palisade {
        Self::builder(bin).args(args.iter().copied()).start()
    }

    fn wait_ready(&mut self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                self.logs.wait_closed(Duration::from_secs(2));
                panic!(
                    "palisade exited with {status} before becoming ready\n\
                     command: {}\n--- palisade output ---\n{}--- end ---",
                    self.command_line,
                    self.logs()
                );
            }
            let last = probe(self.admin, "/readyz");
            if last == Some(200) {
                return;
            }
            if Instant::now() >= deadline {
                panic!(
                    "palisade not ready after {timeout:?}: GET http://{}/readyz gave {}\n\
                     command: {}\n--- palisade output ---\n{}--- end ---",
                    self.admin,
                    last.map_or("no answer".to_string(), |c| format!("status {c}")),
                    self.command_line,
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The data-plane listener address (as a client reaches it). Panics when
    /// `--listen` was not an address (e.g. `--listen none`).
    pub fn listen_addr(&self) -> SocketAddr {
        self.listen.unwrap_or_else(|| {
            panic!(
                "--listen {:?} is not an address (listener disabled?)",
                self.listen_spec
            )
        })
    }

    /// The admin listener address (as a client reaches it).
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin
    }

    /// `http://HOST:PORT` of the data-plane listener (no trailing slash).
    /// When `--listen` was not an address (e.g. `none`), `http://` followed by
    /// that value, which no request can reach.
    pub fn listen_url(&self) -> String {
        match self.listen {
            Some(a) => format!("http://{a}"),
            None => format!("http://{}", self.listen_spec),
        }
    }

    /// `http://HOST:PORT` of the admin listener (no trailing slash).
    pub fn admin_url(&self) -> String {
        format!("http://{}", self.admin)
    }

    /// Runs a CLI command (`palisade ARGS`) of the same binary against this
    /// server, as its bootstrap admin (`admin.yaml` in the state directory),
    /// with `PALISADE_GATEWAY` naming its default listener.
    pub fn cli(&self, args: &[&str]) -> CliOutput {
        let mut cmd = Command::new(&self.bin);
        cmd.args(args)
            .env("PALISADE_CONFIG", self.state_dir.join("admin.yaml"))
            .stdin(Stdio::null());
        if self.listen.is_some() {
            cmd.env("PALISADE_GATEWAY", self.listen_url());
        }
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run palisade {args:?}: {e}"));
        CliOutput {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// [`Palisade::cli`], which must succeed: its standard output.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(out.success, "palisade {args:?}: {}", out.stderr);
        out.stdout
    }

    /// The `--state-dir` in use.
    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    /// The command line that started the child (for messages).
    pub fn command_line(&self) -> &str {
        &self.command_line
    }

    /// Everything the child wrote to stdout and stderr so far, line by line
    /// (the two streams interleaved in arrival order).
    pub fn logs(&self) -> String {
        self.logs.snapshot()
    }

    /// Waits until a log line contains `needle` and returns that line; `None`
    /// on timeout or when the child closed its output without writing it.
    pub fn try_wait_for_log(&self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        let mut st = self.logs.state.lock().unwrap();
        loop {
            if let Some(line) = st.text.lines().find(|l| l.contains(needle)) {
                return Some(line.to_string());
            }
            let now = Instant::now();
            if now >= deadline || st.closed >= 2 {
                return None;
            }
            st = self
                .logs
                .changed
                .wait_timeout(st, deadline - now)
                .unwrap()
                .0;
        }
    }

    /// Like [`try_wait_for_log`](Self::try_wait_for_log) but panics, showing
    /// the logs, when the line does not appear in time.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> String {
        self.try_wait_for_log(needle, timeout).unwrap_or_else(|| {
            panic!(
                "no palisade log line containing {needle:?} within {timeout:?}\n\
                 --- palisade output ---\n{}--- end ---",
                self.logs()
            )
        })
    }

    /// Async version of [`wait_for_log`](Self::wait_for_log): polls without
    /// blocking the runtime.
    pub async fn wait_for_log_async(&self, needle: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(line) = self.try_wait_for_log(needle, Duration::ZERO) {
                return line;
            }
            if Instant::now() >= deadline {
                return self.wait_for_log(needle, Duration::ZERO);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends `sig` to the child (no-op if it already exited).
    pub fn signal(&mut self, sig: Signal) {
        if self.exit_status().is_some() {
            return;
        }
        let status = Command::new("kill")
            .args(["-s", sig.name(), &self.pid.to_string()])
            .status()
            .expect("run kill(1)");
        assert!(
            status.success() || self.exit_status().is_some(),
            "kill -s {} {} failed: {status}",
            sig.name(),
            self.pid
        );
    }

    /// The exit status if the child has exited (does not block).
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().expect("try_wait on palisade child");
        }
        self.exit
    }

    /// Waits up to `timeout` for the child to exit and returns its status.
    /// Panics (with the logs) if it is still running; the child is then
    /// killed on drop.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.exit_status() {
                self.logs.wait_closed(Duration::from_secs(2));
                return s;
            }
            if Instant::now() >= deadline {
                panic!(
                    "palisade (pid {}) still running after {timeout:?}\n\
                     --- palisade output ---\n{}--- end ---",
                    self.pid,
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Async version of [`wait_exit`](Self::wait_exit).
    pub async fn wait_exit_async(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        while self.exit_status().is_none() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.wait_exit(Duration::ZERO)
    }

    /// Sends SIGTERM and waits up to 10 s for the exit status.
    pub fn stop(&mut self) -> ExitStatus {
        self.signal(Signal::Term);
        self.wait_exit(Duration::from_secs(10))
    }
}

impl Drop for Palisade {
    fn drop(&mut self) {
        if self.exit_status().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_values() {
        let args: Vec<OsString> = ["-f", "a.yaml", "--listen=1.2.3.4:5", "--admin-addr", "x:1"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(flag_value(&args, "--listen").as_deref(), Some("1.2.3.4:5"));
        assert_eq!(flag_value(&args, "--admin-addr").as_deref(), Some("x:1"));
        assert_eq!(flag_value(&args, "--state-dir"), None);
        assert_eq!(
            client_addr("0.0.0.0:80"),
            Some("127.0.0.1:80".parse::<SocketAddr>().unwrap())
        );
        assert_eq!(client_addr("none"), None);
    }
}
