//! Long-running MCP server processes (`MCPServer` with `transportType: http`): started
//! when a configuration names them, restarted with backoff when they die, their
//! output copied to Palisade's log, stopped when the handle is dropped.

use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::watch;

use crate::stdio::StdioCommand;

/// First and longest wait before a dead process is started again.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(500), Duration::from_secs(30));
/// A process that ran this long resets the backoff.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// A supervised process; dropping it stops the process.
#[derive(Debug)]
pub struct Supervised {
    command: StdioCommand,
    stop: watch::Sender<bool>,
}

impl Supervised {
    /// Starts `command` and keeps it running.
    pub fn start(command: StdioCommand) -> Supervised {
        let (stop, stopped) = watch::channel(false);
        tokio::spawn(run(command.clone(), stopped));
        Supervised { command, stop }
    }

    /// What runs.
    pub fn command(&self) -> &StdioCommand {
        &self.command
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn run(command: StdioCommand, mut stopped: watch::Receiver<bool>) {
    let name = command.name.clone();
    let mut backoff = BACKOFF.0;
    loop {
        let started = Instant::now();
        let child = Command::new(&command.program)
            .args(&command.args)
            .envs(command.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn();
        match child {
            Ok(mut child) => {
                tracing::info!(server = %name, "MCP server process started");
                if let Some(out) = child.stdout.take() {
                    tokio::spawn(copy_lines(name.clone(), out));
                }
                if let Some(err) = child.stderr.take() {
                    tokio::spawn(copy_lines(name.clone(), err));
                }
                tokio::select! {
                    status = child.wait() => {
                        match status {
                            Ok(s) => tracing::warn!(server = %name, status = %s, "MCP server process exited; restarting"),
                            Err(e) => tracing::warn!(server = %name, error = %e, "cannot wait for MCP server process"),
                        }
                    }
                    _ = stopped.changed() => {
                        let _ = child.kill().await;
                        tracing::info!(server = %name, "MCP server process stopped");
                        return;
                    }
                }
            }
            Err(e) => {
                tracing::warn!(server = %name, program = %command.program, error = %e, "cannot start MCP server process")
            }
        }
        if started.elapsed() >= HEALTHY_RUN {
            backoff = BACKOFF.0;
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stopped.changed() => return,
        }
        backoff = (backoff * 2).min(BACKOFF.1);
    }
}

async fn copy_lines(name: String, stream: impl AsyncRead + Unpin) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::info!(target: "palisade::mcp::server", server = %name, "{line}");
    }
}
