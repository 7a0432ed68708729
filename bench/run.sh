#!/usr/bin/env bash
# Core benchmark: throughput and latency of tools/list and tools/call
# calculate at 32 connections, server RSS idle and under load, binary size,
# and start-up time. Everything runs on loopback and stops by itself.
#
# Usage: bash bench/run.sh [seconds-per-run]
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION="${1:-10}"
PORT="${BENCH_PORT:-18790}"
CONNECTIONS=32
BIN=target/release/crypto-mcp

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --quiet

"$BIN" --host 127.0.0.1 --port "$PORT" --auth none >/dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.05
done

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }

# Idle: after start-up and one request of each kind, nothing in flight.
curl -fsS -o /dev/null -H 'content-type: application/json' \
  -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' "http://127.0.0.1:$PORT/mcp"
sleep 1
IDLE_RSS=$(rss_kb)

# Runs wrk with a Lua script; prints "req/s p50 p99" and tracks peak RSS.
PEAK_RSS=$IDLE_RSS
run_wrk() {
  local script=$1 out
  out=$(mktemp)
  wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "bench/$script" "http://127.0.0.1:$PORT/mcp" >"$out" &
  local wrk_pid=$!
  while kill -0 "$wrk_pid" 2>/dev/null; do
    local now
    now=$(rss_kb)
    [ "$now" -gt "$PEAK_RSS" ] && PEAK_RSS=$now
    sleep 0.2
  done
  wait "$wrk_pid"
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' "$out")
  p50=$(awk '$1 == "50%" {print $2}' "$out")
  p99=$(awk '$1 == "99%" {print $2}' "$out")
  errors=$(grep -E 'Non-2xx|Socket errors' "$out" || true)
  rm -f "$out"
  printf '%-28s %10s req/s   p50 %8s   p99 %8s %s\n' "$script" "$rps" "$p50" "$p99" "$errors"
}

echo "Adversarial calculate inputs, end to end:"
python3 bench/adversarial.py "$PORT"

echo "crypto-mcp core benchmark: $CONNECTIONS connections, ${DURATION}s per run, $(nproc) cores, wrk on the same machine"
run_wrk tools_list.lua
run_wrk calculate.lua
echo "RSS idle:        $((IDLE_RSS / 1024)) MB (${IDLE_RSS} kB)"
echo "RSS under load:  $((PEAK_RSS / 1024)) MB peak (${PEAK_RSS} kB)"
echo "release binary:  $(( $(stat -c %s "$BIN") / 1024 / 1024 )) MB ($(stat -c %s "$BIN") bytes)"

# OAuth: an authenticated tools/list against the same build with --auth none.
AUTH_PORT=$((PORT + 1))
AUTH_PASSWORD="bench-$(head -c 12 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
PUBLIC_URL="http://127.0.0.1:$AUTH_PORT" MCP_USERS="bench:$AUTH_PASSWORD" \
  "$BIN" --host 127.0.0.1 --port "$AUTH_PORT" >/dev/null 2>&1 &
AUTH_SERVER=$!
trap 'kill $SERVER $AUTH_SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$AUTH_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.05
done
echo "OAuth bearer cost on tools/list (two runs each, averaged):"
AUTH_URL="http://127.0.0.1:$AUTH_PORT" NOAUTH_URL="http://127.0.0.1:$PORT" USERNAME=bench PASSWORD="$AUTH_PASSWORD" \
  DURATION="${DURATION}s" CONNECTIONS=$CONNECTIONS THREADS=2 bash bench/auth.sh 2>/dev/null | tail -1

kill $SERVER $AUTH_SERVER 2>/dev/null || true
wait $SERVER $AUTH_SERVER 2>/dev/null || true
python3 bench/startup.py "$BIN" "$PORT" 10
