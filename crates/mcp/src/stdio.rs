//! The stdio transport: a child process speaking newline-delimited JSON-RPC on
//! stdin/stdout, its stderr copied to Palisade's log tagged with the server name.
//!
//! The child lives as long as the [`Pipe`]: when the pipe's `outgoing` sender is
//! dropped, stdin is closed, the child gets a grace period to exit, then is killed.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use crate::jsonrpc::Message;
use crate::pipe::{Inbound, Pipe};

/// Longest JSON-RPC line read from a child.
pub const MAX_LINE: usize = 16 * 1024 * 1024;
/// Time a child gets to exit after its stdin closes, before it is killed.
pub const EXIT_GRACE: Duration = Duration::from_secs(2);

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StdioCommand {
    /// Name used in logs (`namespace/name`).
    pub name: String,
    /// The program.
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
}

/// A child could not be started.
#[derive(Debug, thiserror::Error)]
#[error("cannot start MCP server {name} (`{program}`): {source}")]
pub struct SpawnError {
    /// Server name.
    pub name: String,
    /// Program that failed.
    pub program: String,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// Starts the child and returns the pipe to it.
pub fn spawn(spec: &StdioCommand) -> Result<Pipe, SpawnError> {
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().map_err(|source| SpawnError {
        name: spec.name.clone(),
        program: spec.program.clone(),
        source,
    })?;
    let (pipe, outgoing, incoming) = Pipe::channels();
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    tokio::spawn(read_stdout(spec.name.clone(), stdout, incoming));
    tokio::spawn(copy_stderr(spec.name.clone(), stderr));
    tokio::spawn(write_and_reap(spec.name.clone(), child, outgoing));
    Ok(pipe)
}

async fn write_and_reap(name: String, mut child: Child, mut outgoing: mpsc::Receiver<Message>) {
    let mut stdin = child.stdin.take().expect("stdin is piped");
    loop {
        tokio::select! {
            msg = outgoing.recv() => {
                let Some(msg) = msg else { break };
                let mut line = msg.to_json();
                line.push('\n');
                if let Err(e) = stdin.write_all(line.as_bytes()).await {
                    tracing::debug!(server = %name, error = %e, "cannot write to MCP server stdin");
                    break;
                }
            }
            status = child.wait() => {
                log_exit(&name, status);
                return;
            }
        }
    }
    drop(stdin);
    match tokio::time::timeout(EXIT_GRACE, child.wait()).await {
        Ok(status) => log_exit(&name, status),
        Err(_) => {
            let _ = child.kill().await;
            tracing::info!(server = %name, "MCP server did not exit after stdin closed; killed");
        }
    }
}

fn log_exit(name: &str, status: std::io::Result<std::process::ExitStatus>) {
    match status {
        Ok(s) if s.success() => tracing::info!(server = %name, "MCP server exited"),
        Ok(s) => tracing::warn!(server = %name, status = %s, "MCP server exited"),
        Err(e) => tracing::warn!(server = %name, error = %e, "cannot wait for MCP server"),
    }
}

async fn read_stdout(
    name: String,
    stdout: impl AsyncRead + Unpin,
    incoming: mpsc::Sender<Inbound>,
) {
    let mut reader = BufReader::new(stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut line)
            .await;
        match read {
            Ok(0) => return,
            Ok(_) if line.len() > MAX_LINE => {
                tracing::warn!(server = %name, "MCP server wrote a line longer than {MAX_LINE} bytes; closing");
                return;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(server = %name, error = %e, "cannot read MCP server stdout");
                return;
            }
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let message = serde_json::from_str(text)
            .map_err(|e| e.to_string())
            .and_then(|v| Message::from_value(v).map_err(|e| e.to_string()));
        match message {
            Ok(message) => {
                let inbound = Inbound {
                    message,
                    related: None,
                };
                if incoming.send(inbound).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                tracing::warn!(server = %name, error = %e, "MCP server wrote a line that is not JSON-RPC; ignored")
            }
        }
    }
}

async fn copy_stderr(name: String, stderr: impl AsyncRead + Unpin) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::info!(target: "palisade::mcp::server", server = %name, "{line}");
    }
}
