#!/usr/bin/env bash
# Plain-route benchmark: nginx serving a 1 KiB file, measured directly and
# through Palisade, in one invocation, rounds interleaved, medians compared.
#
#   ./scripts/bench.sh
#
# Environment (all optional):
#   DURATION=5s      wrk duration of one measured round
#   CONNECTIONS=32   wrk connections        THREADS=1   wrk threads
#   ROUNDS=3         measured rounds per target (direct and proxy alternate)
#   WARMUP=2s        unmeasured warm-up run per target
#   PALISADE_BIN=... use this binary instead of `cargo build --release -p palisade`
#   DIRECT_ONLY=1    measure nginx alone (no Palisade)
#   GUARD_BENCH=0    skip the LLM route section (guarded vs unguarded 4 KiB prompt)
#   JWT_BENCH=0      skip the authenticated route section (RS256 JWT + CEL rule vs plain)
#   BASELINE_BIN=... a previous palisade binary: the authenticated route section
#                    also measures it (same config, rounds alternating) as a baseline
#   BENCH_KEEP=1     keep the temp dir (configs, logs, raw wrk output)
#
# Installs wrk and nginx from Debian when missing. Pins the servers to CPU 0
# and wrk to CPU 1 with taskset when there are at least 2 CPUs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

DURATION="${DURATION:-5s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-1}"
ROUNDS="${ROUNDS:-3}"
WARMUP="${WARMUP:-2s}"
DIRECT_ONLY="${DIRECT_ONLY:-0}"
GUARD_BENCH="${GUARD_BENCH:-1}"
JWT_BENCH="${JWT_BENCH:-1}"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# --- tools ---------------------------------------------------------------------
NGINX="$(command -v nginx || true)"
[ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
if ! command -v wrk >/dev/null || [ -z "$NGINX" ]; then
    [ "$(id -u)" = 0 ] || die "wrk/nginx missing and not root: apt-get install wrk nginx"
    say "installing wrk and nginx (apt)"
    export DEBIAN_FRONTEND=noninteractive
    # Keep the package from starting a system nginx service on port 80.
    policy_added=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        policy_added=1
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends wrk nginx >/dev/null
    [ "$policy_added" = 1 ] && rm -f /usr/sbin/policy-rc.d
    NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
fi
command -v curl >/dev/null || die "curl is required"
command -v python3 >/dev/null || die "python3 is required (free ports)"

SERVER_PIN=()
CLIENT_PIN=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
    SERVER_PIN=(taskset -c 0)
    CLIENT_PIN=(taskset -c 1)
fi

# --- temp dir and cleanup ------------------------------------------------------
TMP="$(mktemp -d /tmp/palisade-bench.XXXXXX)"
chmod 755 "$TMP"
NGINX_PID=""
PALISADE_PID=""
BASELINE_PID=""
cleanup() {
    local rc=$?
    for pid in "$PALISADE_PID" "$BASELINE_PID" "$NGINX_PID"; do
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -KILL "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        say "kept $TMP"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_http() { # url timeout_s pid logfile name
    local url=$1 deadline=$((SECONDS + $2)) pid=$3 log=$4 name=$5
    until curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "--- $name output ($log) ---" >&2; tail -n 50 "$log" >&2 || true
            die "$name exited before $url answered"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            echo "--- $name output ($log) ---" >&2; tail -n 50 "$log" >&2 || true
            die "$name: no 2xx from $url within $2 s"
        fi
        sleep 0.1
    done
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }

# --- nginx -------------------------------------------------------------------
NGINX_PORT="$(free_port)"
mkdir -p "$TMP/www" "$TMP/nginx"
chmod 755 "$TMP/www"
head -c 1024 /dev/zero | tr '\0' 'p' >"$TMP/www/1k.txt"
chmod 644 "$TMP/www/1k.txt"
mkdir -p "$TMP/www/jwt"
cp "$TMP/www/1k.txt" "$TMP/www/jwt/1k.txt"
chmod 755 "$TMP/www/jwt"; chmod 644 "$TMP/www/jwt/1k.txt"
cat >"$TMP/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $TMP/www;
        # A canned OpenAI chat completion: the provider side of the LLM section.
        location = /v1/chat/completions {
            default_type application/json;
            return 200 '{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}';
        }
    }
}
CONF
say "starting nginx on 127.0.0.1:$NGINX_PORT (1 worker)"
"${SERVER_PIN[@]}" "$NGINX" -p "$TMP/nginx" -e "$TMP/nginx/error.log" -c "$TMP/nginx.conf" \
    >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
DIRECT_URL="http://127.0.0.1:$NGINX_PORT/1k.txt"
wait_http "$DIRECT_URL" 10 "$NGINX_PID" "$TMP/nginx/error.log" nginx

# --- palisade ------------------------------------------------------------------
PROXY_URL=""
if [ "$DIRECT_ONLY" != 1 ]; then
    if [ -n "${PALISADE_BIN:-}" ]; then
        BIN="$PALISADE_BIN"
    else
        say "building palisade (release)"
        cargo build --release --locked -p palisade >&2
        BIN="$ROOT/target/release/palisade"
    fi
    [ -x "$BIN" ] || die "no palisade binary at $BIN"
    P_PORT="$(free_port)"
    A_PORT="$(free_port)"
    # An RS256 key, its JWKS and a token for the authenticated route.
    python3 - "$TMP" <<'PY'
import base64, json, subprocess, sys, time
tmp = sys.argv[1]
b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
subprocess.run(["openssl", "genrsa", "-out", f"{tmp}/jwt.pem", "2048"], check=True, capture_output=True)
modulus = subprocess.run(["openssl", "rsa", "-in", f"{tmp}/jwt.pem", "-noout", "-modulus"],
                         check=True, capture_output=True, text=True).stdout.strip().split("=", 1)[1]
jwks = {"keys": [{"kty": "RSA", "kid": "bench", "alg": "RS256", "use": "sig",
                  "n": b64(bytes.fromhex(modulus)), "e": b64((65537).to_bytes(3, "big"))}]}
now = int(time.time())
signed = b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "bench"}).encode()) + "." + \
    b64(json.dumps({"iss": "https://bench.test/", "sub": "bench", "aud": "bench", "iat": now, "exp": now + 3600}).encode())
signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", f"{tmp}/jwt.pem"],
                           input=signed.encode(), check=True, capture_output=True).stdout
open(f"{tmp}/jwks.json", "w").write(json.dumps(jwks))
open(f"{tmp}/token", "w").write(signed + "." + b64(signature))
PY
    JWKS="$(cat "$TMP/jwks.json")"
    TOKEN="$(cat "$TMP/token")"
    printf 'wrk.headers["authorization"] = "Bearer %s"\n' "$TOKEN" >"$TMP/jwt.lua"
    cat >"$TMP/palisade.yaml" <<YAML
# nginx, reached as a Service by name.
apiVersion: v1
kind: Service
metadata:
  name: nginx
  namespace: default
spec:
  type: ExternalName
  externalName: 127.0.0.1
  ports:
    - port: $NGINX_PORT
---
# A plain route on Palisade's default listener (no parentRefs).
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: bench
  namespace: default
spec:
  rules:
    - matches:
        - path:
            type: PathPrefix
            value: /
      backendRefs:
        - name: nginx
          port: $NGINX_PORT
---
# The LLM section: nginx as an OpenAI provider, reached plain and guarded.
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayBackend
metadata: {name: llm, namespace: default}
spec:
  ai:
    provider:
      openai: {model: m}
      host: 127.0.0.1
      port: $NGINX_PORT
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: llm-plain, namespace: default}
spec:
  rules:
    - matches: [{path: {type: PathPrefix, value: /llm-plain}}]
      backendRefs: [{group: agentgateway.dev, kind: AgentgatewayBackend, name: llm}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: llm-guarded, namespace: default}
spec:
  rules:
    - matches: [{path: {type: PathPrefix, value: /llm-guarded}}]
      backendRefs: [{group: agentgateway.dev, kind: AgentgatewayBackend, name: llm}]
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata: {name: guard, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: llm-guarded}]
  backend:
    ai:
      promptGuard:
        request:
          - regex: {action: Reject, matches: ["credit card"]}
          - regex: {action: Mask, builtins: [CreditCard, Ssn, Email, PhoneNumber, CaSin, Iban, AwsAccessKey, GithubToken, PrivateKey]}
---
# The authenticated route: an RS256 JWT and a CEL rule on every request.
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: jwt, namespace: default}
spec:
  rules:
    - matches: [{path: {type: PathPrefix, value: /jwt}}]
      backendRefs: [{name: nginx, port: $NGINX_PORT}]
---
apiVersion: agentgateway.dev/v1alpha1
kind: AgentgatewayPolicy
metadata: {name: jwt, namespace: default}
spec:
  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: jwt}]
  traffic:
    jwtAuthentication:
      providers:
        - issuer: https://bench.test/
          audiences: [bench]
          jwks: {inline: '$JWKS'}
    authorization:
      action: Allow
      policy:
        matchExpressions: ['jwt.sub == "bench" && request.method == "GET"']
YAML
    mkdir -p "$TMP/state"
    say "starting palisade on 127.0.0.1:$P_PORT (admin 127.0.0.1:$A_PORT)"
    "${SERVER_PIN[@]}" "$BIN" run -f "$TMP/palisade.yaml" \
        --listen "127.0.0.1:$P_PORT" --admin-addr "127.0.0.1:$A_PORT" \
        --state-dir "$TMP/state" >"$TMP/palisade.log" 2>&1 &
    PALISADE_PID=$!
    wait_http "http://127.0.0.1:$A_PORT/readyz" 30 "$PALISADE_PID" "$TMP/palisade.log" palisade
    RSS_IDLE_BEFORE="$(rss_kb "$PALISADE_PID")"
    PROXY_URL="http://127.0.0.1:$P_PORT/1k.txt"
    if [ -n "${BASELINE_BIN:-}" ]; then
        B_PORT="$(free_port)"
        mkdir -p "$TMP/state-baseline"
        say "starting the baseline palisade ($BASELINE_BIN) on 127.0.0.1:$B_PORT"
        "${SERVER_PIN[@]}" "$BASELINE_BIN" run -f "$TMP/palisade.yaml" \
            --listen "127.0.0.1:$B_PORT" --admin-addr "127.0.0.1:$(free_port)" \
            --state-dir "$TMP/state-baseline" >"$TMP/baseline.log" 2>&1 &
        BASELINE_PID=$!
        wait_http "http://127.0.0.1:$B_PORT/1k.txt" 30 "$BASELINE_PID" "$TMP/baseline.log" baseline
    fi
    got="$(curl -sS -o "$TMP/check.txt" -w '%{http_code}' --max-time 5 "$PROXY_URL" || true)"
    if [ "$got" != 200 ] || ! cmp -s "$TMP/check.txt" "$TMP/www/1k.txt"; then
        echo "--- palisade output ---" >&2; tail -n 50 "$TMP/palisade.log" >&2 || true
        die "GET $PROXY_URL through palisade gave status '$got' (want 200 and the 1 KiB file)"
    fi
fi

# --- rounds ------------------------------------------------------------------
to_ms() { # "1.23ms" | "456.00us" | "1.20s" -> milliseconds
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n = n / 1000; else if (v ~ /ms$/) n = n; else if (v ~ /s$/) n = n * 1000
        printf "%.3f", n }'
}

run_wrk() { # name url duration [lua script] -> prints "rps p50 p99"
    local name=$1 url=$2 dur=$3 script=${4:-} out
    out="$TMP/wrk-$name-$(date +%s%N).txt"
    local extra=()
    [ -n "$script" ] && extra=(-s "$script")
    "${CLIENT_PIN[@]}" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$dur" --latency "${extra[@]}" "$url" >"$out" 2>&1 \
        || { cat "$out" >&2; die "wrk failed against $url"; }
    if grep -qE 'Non-2xx|Socket errors' "$out"; then
        say "warning ($name): $(grep -E 'Non-2xx|Socket errors' "$out" | tr -s ' ')"
    fi
    local rps p50 p99
    rps="$(awk '/^Requests\/sec:/ {print $2}' "$out")"
    p50="$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")"
    p99="$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")"
    [ -n "$rps" ] || { cat "$out" >&2; die "cannot parse wrk output"; }
    echo "$rps $p50 $p99"
}

median() { sort -g | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

say "warm-up ($WARMUP each)"
run_wrk direct "$DIRECT_URL" "$WARMUP" >/dev/null
[ -n "$PROXY_URL" ] && run_wrk proxy "$PROXY_URL" "$WARMUP" >/dev/null

: >"$TMP/direct.results"
: >"$TMP/proxy.results"
for i in $(seq "$ROUNDS"); do
    r="$(run_wrk direct "$DIRECT_URL" "$DURATION")"
    echo "$r" >>"$TMP/direct.results"
    say "round $i direct: rps p50_ms p99_ms = $r"
    if [ -n "$PROXY_URL" ]; then
        r="$(run_wrk proxy "$PROXY_URL" "$DURATION")"
        echo "$r" >>"$TMP/proxy.results"
        say "round $i proxy:  rps p50_ms p99_ms = $r"
    fi
done

col_median() { awk -v c="$2" '{ print $c }' "$1" | median; }
D_RPS="$(col_median "$TMP/direct.results" 1)"
D_P50="$(col_median "$TMP/direct.results" 2)"
D_P99="$(col_median "$TMP/direct.results" 3)"

# --- report -------------------------------------------------------------------
MODEL="$(lscpu 2>/dev/null | awk -F: '/^Model name/ { gsub(/^ +/, "", $2); print $2; exit }')"
echo
echo "### Plain HTTP route, 1 KiB file ($(date -u +%Y-%m-%d))"
echo
echo "Machine: $(nproc) CPU(s), ${MODEL:-unknown CPU}; $(uname -sr). Command: \`./scripts/bench.sh\`"
echo "(wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency, $ROUNDS rounds interleaved, medians;" \
    "$( [ ${#SERVER_PIN[@]} -gt 0 ] && echo 'servers on CPU 0, wrk on CPU 1' || echo 'no CPU pinning');" \
    "$(wrk --version 2>&1 | head -n1 | awk '{print $1, $2}'), $("$NGINX" -v 2>&1 | sed 's/.*: //'); commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown))"
echo
echo "| target | requests/s | p50 | p99 | rps / direct |"
echo "|---|---:|---:|---:|---:|"
printf '| nginx direct | %.0f | %.2f ms | %.2f ms | 1.00 |\n' "$D_RPS" "$D_P50" "$D_P99"
if [ -n "$PROXY_URL" ]; then
    P_RPS="$(col_median "$TMP/proxy.results" 1)"
    P_P50="$(col_median "$TMP/proxy.results" 2)"
    P_P99="$(col_median "$TMP/proxy.results" 3)"
    RATIO="$(awk -v p="$P_RPS" -v d="$D_RPS" 'BEGIN { printf "%.2f", p / d }')"
    sleep 1
    RSS_AFTER="$(rss_kb "$PALISADE_PID")"
    HWM="$(hwm_kb "$PALISADE_PID")"
    printf '| Palisade, plain route | %.0f | %.2f ms | %.2f ms | %s |\n' "$P_RPS" "$P_P50" "$P_P99" "$RATIO"
    echo
    printf 'Palisade RSS: idle before load %.1f MB, idle after load %.1f MB, peak %.1f MB.\n' \
        "$(awk -v k="$RSS_IDLE_BEFORE" 'BEGIN { print k / 1024 }')" \
        "$(awk -v k="$RSS_AFTER" 'BEGIN { print k / 1024 }')" \
        "$(awk -v k="$HWM" 'BEGIN { print k / 1024 }')"
fi

# --- authenticated route: JWT + CEL vs plain ----------------------------------------
if [ -n "$PROXY_URL" ] && [ "$JWT_BENCH" = 1 ]; then
    JWT_URL="http://127.0.0.1:$P_PORT/jwt/1k.txt"
    got="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 -H "authorization: Bearer $TOKEN" "$JWT_URL" || true)"
    [ "$got" = 200 ] || die "GET $JWT_URL with the token gave status '$got' (want 200)"
    got="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 "$JWT_URL" || true)"
    [ "$got" = 401 ] || die "GET $JWT_URL without a token gave status '$got' (want 401)"
    say "JWT section warm-up"
    run_wrk jwt "$JWT_URL" "$WARMUP" "$TMP/jwt.lua" >/dev/null
    : >"$TMP/plain2.results"
    : >"$TMP/jwt.results"
    for i in $(seq "$ROUNDS"); do
        r="$(run_wrk proxy "$PROXY_URL" "$DURATION")"
        echo "$r" >>"$TMP/plain2.results"
        say "round $i plain route: rps p50_ms p99_ms = $r"
        r="$(run_wrk jwt "$JWT_URL" "$DURATION" "$TMP/jwt.lua")"
        echo "$r" >>"$TMP/jwt.results"
        say "round $i jwt route:   rps p50_ms p99_ms = $r"
        if [ -n "$BASELINE_PID" ]; then
            r="$(run_wrk baseline-plain "http://127.0.0.1:$B_PORT/1k.txt" "$DURATION")"
            echo "$r" >>"$TMP/baseline-plain.results"
            say "round $i baseline plain: rps p50_ms p99_ms = $r"
            r="$(run_wrk baseline-jwt "http://127.0.0.1:$B_PORT/jwt/1k.txt" "$DURATION" "$TMP/jwt.lua")"
            echo "$r" >>"$TMP/baseline-jwt.results"
            say "round $i baseline jwt:   rps p50_ms p99_ms = $r"
        fi
    done
    L_RPS="$(col_median "$TMP/plain2.results" 1)"; L_P50="$(col_median "$TMP/plain2.results" 2)"; L_P99="$(col_median "$TMP/plain2.results" 3)"
    J_RPS="$(col_median "$TMP/jwt.results" 1)"; J_P50="$(col_median "$TMP/jwt.results" 2)"; J_P99="$(col_median "$TMP/jwt.results" 3)"
    echo
    echo "### Authenticated route vs plain route (same run)"
    echo
    echo "GET 1 KiB through a route whose policy verifies an RS256 JWT (inline JWKS) and evaluates one CEL rule"
    echo "(\`jwt.sub == \"bench\" && request.method == \"GET\"\`), against the plain route, rounds alternating."
    echo
    echo "| route | requests/s | p50 | p99 | rps / plain route |"
    echo "|---|---:|---:|---:|---:|"
    printf '| plain | %.0f | %.2f ms | %.2f ms | 1.00 |\n' "$L_RPS" "$L_P50" "$L_P99"
    printf '| JWT + CEL | %.0f | %.2f ms | %.2f ms | %s |\n' "$J_RPS" "$J_P50" "$J_P99" \
        "$(awk -v j="$J_RPS" -v l="$L_RPS" 'BEGIN { printf "%.2f", j / l }')"
    if [ -n "$BASELINE_PID" ]; then
        BL_RPS="$(col_median "$TMP/baseline-plain.results" 1)"; BL_P50="$(col_median "$TMP/baseline-plain.results" 2)"; BL_P99="$(col_median "$TMP/baseline-plain.results" 3)"
        BJ_RPS="$(col_median "$TMP/baseline-jwt.results" 1)"; BJ_P50="$(col_median "$TMP/baseline-jwt.results" 2)"; BJ_P99="$(col_median "$TMP/baseline-jwt.results" 3)"
        printf '| baseline: plain | %.0f | %.2f ms | %.2f ms | %s |\n' "$BL_RPS" "$BL_P50" "$BL_P99" \
            "$(awk -v b="$BL_RPS" -v l="$L_RPS" 'BEGIN { printf "%.2f", b / l }')"
        printf '| baseline: JWT + CEL | %.0f | %.2f ms | %.2f ms | %s |\n' "$BJ_RPS" "$BJ_P50" "$BJ_P99" \
            "$(awk -v b="$BJ_RPS" -v l="$L_RPS" 'BEGIN { printf "%.2f", b / l }')"
        echo
        printf 'JWT + CEL route, this build vs the baseline: %s; the baseline'"'"'s own JWT/plain ratio: %s.\n' \
            "$(awk -v j="$J_RPS" -v b="$BJ_RPS" 'BEGIN { printf "%.2f", j / b }')" \
            "$(awk -v j="$BJ_RPS" -v l="$BL_RPS" 'BEGIN { printf "%.2f", j / l }')"
    fi
fi

# --- LLM route: guarded vs unguarded ---------------------------------------------
if [ -n "$PROXY_URL" ] && [ "$GUARD_BENCH" = 1 ]; then
    python3 - "$TMP/post.lua" <<'PY'
import json, sys
sentence = "The network engineer reviews routing tables, checks the gateway logs and writes a short report for the team. "
text = (sentence * 40)[:4096]
body = json.dumps({"model": "m", "messages": [{"role": "user", "content": text}]})
with open(sys.argv[1], "w") as f:
    f.write('wrk.method = "POST"\n')
    f.write('wrk.headers["content-type"] = "application/json"\n')
    f.write("wrk.body = " + json.dumps(body) + "\n")
PY
    PLAIN_URL="http://127.0.0.1:$P_PORT/llm-plain/v1/chat/completions"
    GUARD_URL="http://127.0.0.1:$P_PORT/llm-guarded/v1/chat/completions"
    for u in "$PLAIN_URL" "$GUARD_URL"; do
        got="$(curl -sS -o /dev/null -w '%{http_code}' --max-time 5 -H 'content-type: application/json' \
            -d '{"messages":[{"role":"user","content":"hi"}]}' "$u" || true)"
        [ "$got" = 200 ] || die "POST $u through palisade gave status '$got' (want 200)"
    done
    say "LLM section warm-up"
    run_wrk llm-plain "$PLAIN_URL" "$WARMUP" "$TMP/post.lua" >/dev/null
    run_wrk llm-guarded "$GUARD_URL" "$WARMUP" "$TMP/post.lua" >/dev/null
    : >"$TMP/llm-plain.results"
    : >"$TMP/llm-guarded.results"
    for i in $(seq "$ROUNDS"); do
        r="$(run_wrk llm-plain "$PLAIN_URL" "$DURATION" "$TMP/post.lua")"
        echo "$r" >>"$TMP/llm-plain.results"
        say "round $i llm plain:   rps p50_ms p99_ms = $r"
        r="$(run_wrk llm-guarded "$GUARD_URL" "$DURATION" "$TMP/post.lua")"
        echo "$r" >>"$TMP/llm-guarded.results"
        say "round $i llm guarded: rps p50_ms p99_ms = $r"
    done
    U_RPS="$(col_median "$TMP/llm-plain.results" 1)"; U_P50="$(col_median "$TMP/llm-plain.results" 2)"; U_P99="$(col_median "$TMP/llm-plain.results" 3)"
    G_RPS="$(col_median "$TMP/llm-guarded.results" 1)"; G_P50="$(col_median "$TMP/llm-guarded.results" 2)"; G_P99="$(col_median "$TMP/llm-guarded.results" 3)"
    echo
    echo "### LLM route, 4 KiB chat prompt, guarded vs unguarded (same run)"
    echo
    echo "POST /v1/chat/completions (4 KiB user message) through an OpenAI AI backend (nginx answers a canned completion);"
    echo "the guarded route adds the seed's literal Reject pattern and 9 masking built-ins."
    echo
    echo "| route | requests/s | p50 | p99 | rps / unguarded |"
    echo "|---|---:|---:|---:|---:|"
    printf '| unguarded | %.0f | %.2f ms | %.2f ms | 1.00 |\n' "$U_RPS" "$U_P50" "$U_P99"
    printf '| guarded | %.0f | %.2f ms | %.2f ms | %s |\n' "$G_RPS" "$G_P50" "$G_P99" \
        "$(awk -v g="$G_RPS" -v u="$U_RPS" 'BEGIN { printf "%.2f", g / u }')"
    echo
    printf 'Added latency at p50: %.3f ms.\n' "$(awk -v g="$G_P50" -v u="$U_P50" 'BEGIN { print g - u }')"
fi
