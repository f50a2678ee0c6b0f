#!/usr/bin/env bash
# MCP benchmark: tools/call (echo) on the reference server-everything over
# streamable HTTP, directly and through Palisade (a RemoteMCPServer at
# /mcp/bench/everything), in one invocation, rounds interleaved, medians
# compared; plus Palisade's resident memory per open MCP session.
#
#   ./scripts/bench-mcp.sh
#
# Environment (all optional):
#   DURATION=5s  CONNECTIONS=8  THREADS=1  ROUNDS=3  WARMUP=2s
#   SESSIONS=200        sessions opened for the memory figure
#   PALISADE_BIN=...    use this binary instead of `cargo build --release -p palisade`
#   BENCH_KEEP=1        keep the temp dir
#
# Needs wrk and curl (installed from Debian when missing) and the test peers
# (./scripts/test.sh installs them; SETUP_ONLY=1 ./scripts/test.sh does only that).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DURATION="${DURATION:-5s}"; CONNECTIONS="${CONNECTIONS:-8}"; THREADS="${THREADS:-1}"
ROUNDS="${ROUNDS:-3}"; WARMUP="${WARMUP:-2s}"; SESSIONS="${SESSIONS:-200}"
say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

if ! command -v wrk >/dev/null; then
    [ "$(id -u)" = 0 ] || die "wrk missing and not root: apt-get install wrk"
    say "installing wrk (apt)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi
PEERS="${PALISADE_PEERS_DIR:-$ROOT/tests/peers}"
EVERYTHING="$PEERS/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
[ -f "$EVERYTHING" ] || die "server-everything is not installed: run SETUP_ONLY=1 ./scripts/test.sh"

SERVER_PIN=(); CLIENT_PIN=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then SERVER_PIN=(taskset -c 0); CLIENT_PIN=(taskset -c 1); fi

TMP="$(mktemp -d /tmp/palisade-bench-mcp.XXXXXX)"
PIDS=()
cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    sleep 0.5
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then say "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { # port pid log
    for _ in $(seq 300); do
        (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || { tail -n 30 "$3" >&2; die "process $2 exited"; }
        sleep 0.1
    done
    die "nothing listens on $1"
}

EV_PORT="$(free_port)"
say "starting server-everything (streamable HTTP) on 127.0.0.1:$EV_PORT"
PORT="$EV_PORT" "${SERVER_PIN[@]}" node "$EVERYTHING" streamableHttp >"$TMP/everything.log" 2>&1 &
PIDS+=($!)
wait_port "$EV_PORT" "${PIDS[-1]}" "$TMP/everything.log"

if [ -n "${PALISADE_BIN:-}" ]; then BIN="$PALISADE_BIN"; else
    say "building palisade (release)"; cargo build --release --locked -p palisade >&2; BIN="$ROOT/target/release/palisade"; fi
P_PORT="$(free_port)"; A_PORT="$(free_port)"
cat >"$TMP/palisade.yaml" <<YAML
apiVersion: kagent.dev/v1alpha2
kind: RemoteMCPServer
metadata: {name: everything, namespace: bench}
spec:
  description: server-everything for the benchmark
  url: http://127.0.0.1:$EV_PORT/mcp
---
apiVersion: policy.kagent-enterprise.solo.io/v1alpha1
kind: AccessPolicy
metadata: {name: deny-env, namespace: bench}
spec:
  from:
    subjects: [{kind: ServiceAccount, name: someone-else, namespace: bench}]
  targetRef: {kind: RemoteMCPServer, name: everything, tools: [get-env]}
  action: DENY
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayBackend
metadata: {name: everything, namespace: bench}
spec:
  mcp:
    targets:
    - name: everything
      static: {host: 127.0.0.1, port: $EV_PORT}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: chain, namespace: bench}
spec:
  rules:
  - matches: [{path: {type: PathPrefix, value: /chain}}]
    backendRefs: [{group: agentgateway.dev, kind: AgentgatewayBackend, name: everything}]
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata: {name: chain, namespace: bench}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: chain}]
  traffic:
    jwtAuthentication:
      providers:
      - issuer: http://127.0.0.1:$A_PORT
        audiences: [palisade]
        jwks: {remote: {url: "http://127.0.0.1:$A_PORT/openid/v1/jwks"}}
  backend:
    mcp:
      authorization:
        action: Allow
        policy:
          matchExpressions:
          - 'mcp.tool.name == "echo"'
          - 'mcp.tool.name == "get_user_info"'
          - 'mcp.tool.name == "list_files" && jwt.scope.contains("files:read")'
          - 'mcp.tool.name == "delete_file" && jwt.scope.contains("files:delete") && jwt["https://mcp-demo/roles"].contains("admin")'
          - 'mcp.tool.name == "system_status" && jwt["https://mcp-demo/roles"].contains("admin")'
YAML
say "starting palisade on 127.0.0.1:$P_PORT"
"${SERVER_PIN[@]}" "$BIN" run -f "$TMP/palisade.yaml" --listen "127.0.0.1:$P_PORT" \
    --admin-addr "127.0.0.1:$A_PORT" --state-dir "$TMP/state" --insecure-allow-anonymous \
    >"$TMP/palisade.log" 2>&1 &
PALISADE_PID=$!
PIDS+=($PALISADE_PID)
wait_port "$P_PORT" "$PALISADE_PID" "$TMP/palisade.log"

DIRECT_URL="http://127.0.0.1:$EV_PORT/mcp"
PROXY_URL="http://127.0.0.1:$P_PORT/mcp/bench/everything"
CHAIN_URL="http://127.0.0.1:$P_PORT/chain"
for _ in $(seq 100); do [ -f "$TMP/state/admin.yaml" ] && break; sleep 0.1; done
export PALISADE_CONFIG="$TMP/state/admin.yaml"
"$BIN" create serviceaccount bencher -n bench >/dev/null
TOKEN="$("$BIN" create token bencher -n bench --duration 1h)"
AUTH_HEADER="authorization: Bearer $TOKEN"

open_session() { # url [header] -> session id
    local sid auth=()
    [ -n "${2:-}" ] && auth=(-H "$2")
    sid="$(curl -sS -D - -o /dev/null "${auth[@]}" -H 'content-type: application/json' \
        -H 'accept: application/json, text/event-stream' \
        -d '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' \
        "$1" | awk 'tolower($1) == "mcp-session-id:" { gsub("\r", "", $2); print $2 }')"
    [ -n "$sid" ] || die "no session from $1"
    curl -sS -o /dev/null "${auth[@]}" -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
        -H "mcp-session-id: $sid" -H 'mcp-protocol-version: 2025-06-18' \
        -d '{"jsonrpc":"2.0","method":"notifications/initialized"}' "$1"
    echo "$sid"
}

lua_for() { # session-id file [token]
    {
        echo 'wrk.method = "POST"'
        [ -n "${3:-}" ] && echo "wrk.headers[\"authorization\"] = \"Bearer $3\""
        echo 'wrk.headers["content-type"] = "application/json"'
        echo 'wrk.headers["accept"] = "application/json, text/event-stream"'
        echo "wrk.headers[\"mcp-session-id\"] = \"$1\""
        echo 'wrk.headers["mcp-protocol-version"] = "2025-06-18"'
        echo "wrk.body = '{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"message\":\"bench\"}}}'"
    } >"$2"
}
TARGETS=(direct proxy access chain)
url_of() { case "$1" in direct) echo "$DIRECT_URL";; proxy|access) echo "$PROXY_URL";; chain) echo "$CHAIN_URL";; esac; }
header_of() { case "$1" in access|chain) echo "$AUTH_HEADER";; *) echo "";; esac; }
for target in "${TARGETS[@]}"; do
    token=""; [ -n "$(header_of $target)" ] && token="$TOKEN"
    lua_for "$(open_session "$(url_of $target)" "$(header_of $target)")" "$TMP/$target.lua" "$token"
    auth=(); [ -n "$token" ] && auth=(-H "$AUTH_HEADER")
    sid="$(awk -F'"' '/mcp-session-id/ {print $4}' "$TMP/$target.lua")"
    out="$(curl -sS "${auth[@]}" -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
        -H "mcp-session-id: $sid" -H 'mcp-protocol-version: 2025-06-18' \
        -d '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"bench"}}}' "$(url_of $target)")"
    case "$out" in *"Echo: bench"*) ;; *) die "tools/call $target answered: $out";; esac
done

to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n = n * 1000; printf "%.3f", n }'; }
run_wrk() { # url lua duration
    local out="$TMP/wrk-$(date +%s%N).txt"
    "${CLIENT_PIN[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3" --latency -s "$2" "$1" >"$out" 2>&1 || { cat "$out" >&2; die "wrk failed"; }
    grep -qE 'Non-2xx|Socket errors' "$out" && say "warning: $(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ')"
    echo "$(awk '/^Requests\/sec:/ {print $2}' "$out") $(to_ms "$(awk '$1 == "50%" {print $2}' "$out")") $(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")"
}
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
col() { awk -v c="$2" '{ print $c }' "$1" | median; }

say "warm-up"
for target in "${TARGETS[@]}"; do
    run_wrk "$(url_of $target)" "$TMP/$target.lua" "$WARMUP" >/dev/null
    : >"$TMP/$target.results"
done
for i in $(seq "$ROUNDS"); do
    for target in "${TARGETS[@]}"; do
        r="$(run_wrk "$(url_of $target)" "$TMP/$target.lua" "$DURATION")"; echo "$r" >>"$TMP/$target.results"; say "round $i $target: $r"
    done
done

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
say "opening $SESSIONS sessions through palisade"
RSS0="$(rss_kb "$PALISADE_PID")"
for _ in $(seq "$SESSIONS"); do open_session "$PROXY_URL" >/dev/null; done
sleep 1
RSS1="$(rss_kb "$PALISADE_PID")"

D_RPS="$(col "$TMP/direct.results" 1)"; P_RPS="$(col "$TMP/proxy.results" 1)"
row() { # label target
    local rps p50 p99
    rps="$(col "$TMP/$2.results" 1)"; p50="$(col "$TMP/$2.results" 2)"; p99="$(col "$TMP/$2.results" 3)"
    printf '| %s | %.0f | %.2f ms | %.2f ms | %s | %s |\n' "$1" "$rps" "$p50" "$p99" \
        "$(awk -v p="$rps" -v d="$D_RPS" 'BEGIN { printf "%.2f", p / d }')" \
        "$(awk -v p="$rps" -v d="$P_RPS" 'BEGIN { printf "%.2f", p / d }')"
}
MODEL="$(lscpu 2>/dev/null | awk -F: '/^Model name/ { gsub(/^ +/, "", $2); print $2; exit }')"
echo
echo "### MCP tools/call (echo), streamable HTTP ($(date -u +%Y-%m-%d))"
echo
echo "Machine: $(nproc) CPU(s), ${MODEL:-unknown CPU}; $(uname -sr). Command: \`./scripts/bench-mcp.sh\`"
echo "(wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, one session per target, $ROUNDS rounds interleaved, medians;" \
    "$( [ ${#SERVER_PIN[@]} -gt 0 ] && echo 'servers on CPU 0, wrk on CPU 1' || echo 'no pinning'); server-everything $(node -p "require('$PEERS/node_modules/@modelcontextprotocol/server-everything/package.json').version"); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
echo
echo "| target | requests/s | p50 | p99 | rps / direct | rps / no policy |"
echo "|---|---:|---:|---:|---:|---:|"
row "server-everything direct" direct
row "through Palisade, no policy (anonymous)" proxy
row "through Palisade, service-account token + AccessPolicy" access
row "through Palisade, JWT (JWKS) + the seed's 5 CEL rules (HTTPRoute)" chain
echo
printf 'Memory per open MCP session (client session + upstream session state, HTTP upstream): %.1f KB (%d sessions, RSS %.1f -> %.1f MB).\n' \
    "$(awk -v a="$RSS0" -v b="$RSS1" -v n="$SESSIONS" 'BEGIN { print (b - a) / n }')" "$SESSIONS" \
    "$(awk -v k="$RSS0" 'BEGIN { print k / 1024 }')" "$(awk -v k="$RSS1" 'BEGIN { print k / 1024 }')"
