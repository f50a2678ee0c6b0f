//! A throwaway PostgreSQL server for one test, from Debian's `postgresql` package
//! (the store's tests and the multi-replica end-to-end test use it).
//!
//! `initdb` makes a cluster in a fresh temp directory (trust authentication, user
//! `postgres`), `pg_ctl` starts it on a free port on 127.0.0.1 with durability
//! turned off for speed, and dropping the server stops it and removes the
//! directory. PostgreSQL refuses to run as root, so as root the binaries run as
//! the `postgres` user (created by the Debian package) through `runuser`, with the
//! directory chowned to it.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::TempDir;

const INSTALL_HINT: &str = "PostgreSQL server binaries (initdb, pg_ctl) were not found under \
     /usr/lib/postgresql/*/bin: install the `postgresql` Debian package \
     (`apt-get install -y postgresql`; scripts/test.sh installs it)";

/// A running server; stopped on drop.
pub struct PgServer {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    run_as_postgres: bool,
    // Declared last: removed after the server stopped.
    dir: TempDir,
}

impl PgServer {
    /// Starts a new server, or panics saying why (including when PostgreSQL is not
    /// installed: these tests never skip silently).
    pub fn start() -> PgServer {
        let bin = find_bin().unwrap_or_else(|| panic!("{INSTALL_HINT}"));
        let run_as_postgres = is_root();
        let dir = TempDir::new("palisade-pg");
        if run_as_postgres {
            let (uid, gid) = postgres_ids();
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .expect("chown the server directory to postgres");
        }
        let data = dir.path().join("data");
        let mut server = PgServer {
            bin,
            data,
            port: 0,
            run_as_postgres,
            dir,
        };
        server.run_ok(
            "initdb",
            &[
                "-D",
                path_str(&server.data),
                "-A",
                "trust",
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
        );
        // A free port can be taken by someone else before the server binds it:
        // try a few.
        let mut last_error = String::new();
        for _ in 0..5 {
            server.port = free_port();
            let options = format!(
                "-k {} -p {} -c listen_addresses=127.0.0.1 -c fsync=off \
                 -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB \
                 -c max_connections=60",
                path_str(server.dir.path()),
                server.port
            );
            let log = server.dir.path().join("server.log");
            let output = server.run(
                "pg_ctl",
                &[
                    "-D",
                    path_str(&server.data),
                    "-l",
                    path_str(&log),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    &options,
                    "start",
                ],
            );
            if output.status.success() {
                return server;
            }
            last_error = format!(
                "{}{}\nserver log:\n{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr),
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        panic!("pg_ctl start failed:\n{last_error}");
    }

    /// The URL of database `db` on this server.
    pub fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    fn run(&self, program: &str, args: &[&str]) -> Output {
        let exe = self.bin.join(program);
        let mut command = if self.run_as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        command
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()))
    }

    fn run_ok(&self, program: &str, args: &[&str]) {
        let output = self.run(program, args);
        assert!(
            output.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if self.port != 0 {
            let _ = self.run(
                "pg_ctl",
                &["-D", path_str(&self.data), "-m", "immediate", "-w", "stop"],
            );
        }
    }
}

/// The newest `/usr/lib/postgresql/<version>/bin` that has `initdb` and `pg_ctl`.
fn find_bin() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            (bin.join("initdb").is_file() && bin.join("pg_ctl").is_file()).then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

fn is_root() -> bool {
    id(&["-u"]) == 0
}

fn postgres_ids() -> (u32, u32) {
    (id(&["-u", "postgres"]), id(&["-g", "postgres"]))
}

fn id(args: &[&str]) -> u32 {
    let output = Command::new("id").args(args).output().expect("run `id`");
    assert!(
        output.status.success(),
        "`id {}` failed: {} (the `postgresql` Debian package creates the postgres user)",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("`id` prints a number")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}
