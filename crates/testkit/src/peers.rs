//! Where the real test peers live.
//!
//! `scripts/test.sh` installs them into `tests/peers` (npm packages in
//! `node_modules`, the Python SDKs in `.venv`) and exports
//! `PALISADE_PEERS_DIR`. When a test runs without that script, the directory
//! is found relative to this crate.

use std::path::{Path, PathBuf};

const HINT: &str = "install the test peers with ./scripts/test.sh (or see tests/peers/README.md)";

/// The `tests/peers` directory: `$PALISADE_PEERS_DIR`, else the one of this
/// repository.
pub fn dir() -> PathBuf {
    match std::env::var_os("PALISADE_PEERS_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/peers"),
    }
}

/// The venv's Python interpreter (with `mcp`, `openai`, `anthropic`,
/// `httpx`, `a2a-sdk`). Panics with a hint when it is not installed.
pub fn python() -> PathBuf {
    let p = dir().join(".venv/bin/python");
    assert!(p.exists(), "{} is missing: {HINT}", p.display());
    p
}

/// An executable of `node_modules/.bin` (e.g. `mcp-server-everything`).
/// Panics with a hint when it is not installed.
pub fn node_bin(name: &str) -> PathBuf {
    let p = dir().join("node_modules/.bin").join(name);
    assert!(p.exists(), "{} is missing: {HINT}", p.display());
    p
}

/// The installed package directory `node_modules/<package>`.
/// Panics with a hint when it is not installed.
pub fn node_package(package: &str) -> PathBuf {
    let p = dir().join("node_modules").join(package);
    assert!(p.exists(), "{} is missing: {HINT}", p.display());
    p
}
