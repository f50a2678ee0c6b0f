#!/usr/bin/env bash
# Palisade's test command: installs what the tests need (only what is missing),
# then runs fmt, clippy and the whole test suite (unit + end-to-end with real peers).
#
#   ./scripts/test.sh                 everything (what CI runs)
#   ./scripts/test.sh -E 'test(mcp)'  extra arguments go to `cargo nextest run`
#   SKIP_LINT=1 ./scripts/test.sh     skip fmt and clippy (quick local loop)
#   SETUP_ONLY=1 ./scripts/test.sh    only install the peers, run nothing
#
# Idempotent, non-interactive; safe to run as root on a fresh Debian machine.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PEERS="$ROOT/tests/peers"
START=$SECONDS

section() { printf '\n==> %s  [%ss]\n' "$*" "$((SECONDS - START))"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

hash_of() { cat "$@" | sha256sum | cut -d' ' -f1; }

# --- Debian packages -------------------------------------------------------
APT_UPDATED=0
apt_install() {
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || die "need root (or sudo) to install: $*"
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    if [ "$APT_UPDATED" = 0 ]; then
        $sudo apt-get update -qq
        APT_UPDATED=1
    fi
    $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

section "system packages"
missing=()
command -v curl >/dev/null || missing+=(curl ca-certificates)
command -v python3 >/dev/null || missing+=(python3)
if ! command -v python3 >/dev/null || ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    missing+=(python3-venv)
fi
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
# palisade-store's tests start throwaway PostgreSQL servers (initdb/pg_ctl are not on PATH).
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "installing: ${missing[*]}"
    apt_install "${missing[@]}"
else
    echo "all present"
fi
command -v cargo >/dev/null || die "cargo not found: install Rust (rustup) first"

# --- npm peers ------------------------------------------------------------
section "npm peers (tests/peers)"
lock_hash="$(hash_of "$PEERS/package-lock.json") node-$(node --version)"
stamp="$PEERS/node_modules/.palisade-stamp"
if [ -d "$PEERS/node_modules" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$lock_hash" ]; then
    echo "up to date"
else
    # npm ci refuses this lock file because npm leaves a Windows-only optional
    # dependency (of vite, under the MCP Inspector) out of it; npm install then
    # installs exactly the locked versions without changing the lock.
    if ! (cd "$PEERS" && npm ci --no-audit --no-fund --loglevel=error); then
        echo "npm ci refused the lock file; installing the locked versions with npm install"
        (cd "$PEERS" && npm install --no-audit --no-fund --loglevel=error)
    fi
    echo "$lock_hash" >"$stamp"
fi

# --- Python peers -----------------------------------------------------------
section "python peers (tests/peers/.venv)"
VENV="$PEERS/.venv"
PY="$(command -v python3)"
req_hash="$(hash_of "$PEERS/requirements.txt") $("$PY" -c 'import sys; print(sys.version.split()[0])')"
stamp="$VENV/.palisade-stamp"
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys' 2>/dev/null \
    && [ "$(cat "$stamp" 2>/dev/null)" = "$req_hash" ]; then
    echo "up to date"
else
    rm -rf "$VENV"
    "$PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input \
        -r "$PEERS/requirements.txt"
    echo "$req_hash" >"$stamp"
fi

# --- environment for the tests ------------------------------------------------
export PALISADE_PEERS_DIR="$PEERS"
export VIRTUAL_ENV="$VENV"
export PATH="$VENV/bin:$PEERS/node_modules/.bin:$PATH"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
echo "PALISADE_PEERS_DIR=$PALISADE_PEERS_DIR"
echo "python: $(command -v python) ($(python --version 2>&1)), node: $(node --version)"

if [ "${SETUP_ONLY:-0}" = 1 ]; then
    section "setup done (SETUP_ONLY=1)"
    exit 0
fi

# --- checks and tests ---------------------------------------------------------
# Every step runs even when an earlier one failed, so one CI run shows all
# problems; the script exits non-zero if any step failed.
FAILED=()
step() {
    local name=$1
    shift
    section "$name"
    if ! "$@"; then
        FAILED+=("$name")
        echo "FAILED: $name" >&2
    fi
}

if [ "${SKIP_LINT:-0}" = 1 ]; then
    echo "SKIP_LINT=1: skipping fmt and clippy"
else
    step "cargo fmt --check" cargo fmt --all -- --check --color never
    step "cargo clippy" cargo clippy --workspace --all-targets --locked -- -D warnings
fi

if cargo nextest --version >/dev/null 2>&1; then
    # Doc tests first, so that the run closes on nextest's summary.
    step "doc tests" cargo test --workspace --locked --doc
    step "tests (nextest)" cargo nextest run --workspace --locked --no-fail-fast "$@"
else
    echo "cargo-nextest not found: using cargo test"
    step "tests (cargo test)" cargo test --workspace --locked --no-fail-fast "$@"
fi

if [ "${#FAILED[@]}" -gt 0 ]; then
    section "FAILED: ${FAILED[*]}"
    exit 1
fi
section "all passed"
