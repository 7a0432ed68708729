#!/usr/bin/env bash
# Attack benchmark: what an outsider can do to availability, measured on
# loopback against the release build and the fake Binance.
#
#   bash bench/attack.sh            # build, run every phase, print figures
#
# Phases (one line per figure; the script exits 1 if any target is missed):
# 1. 1,100 idle or half-sent connections held open: /healthz and a fresh
#    client's tools/list answer within 1 s; the server closes every held
#    socket within 15 s (bench/attack/connections.py).
# 2. 64 concurrent largest-size charts: peak RSS < 192 MB
#    (bench/attack/charts.py).
# 3. Mixed authenticated load (tools/list, calculate, cached klines, all with
#    a bearer token) at 256 connections for 60 s: 0 failures, p99, RSS < 64 MB
#    (wrk with bench/attack/mixed.lua).
# 4. bench/attack/signin.py --url URL --pid PID, when present (failed
#    sign-ins from several IPs, RSS peak and after).
#
# Env: ATTACK_PORT (base port, default 18900; uses base..base+2),
#      MIXED_DURATION (default 60s), MIXED_CONNECTIONS (default 256).
# Loopback only; every process started here is stopped on exit, and each
# phase is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE=${ATTACK_PORT:-18900}
FAKE_PORT=$BASE
OPEN_PORT=$((BASE + 1))
AUTH_PORT=$((BASE + 2))
MIXED_DURATION=${MIXED_DURATION:-60s}
MIXED_CONNECTIONS=${MIXED_CONNECTIONS:-256}
RSS_TARGET_MB=64
BIN=target/release/crypto-mcp

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3; }
cargo build --release --quiet --bin crypto-mcp --example fake_binance

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

wait_for() {
    for _ in $(seq 1 100); do
        curl -fsS "$1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "no answer from $1" >&2
    exit 1
}

./target/release/examples/fake_binance --port "$FAKE_PORT" >/dev/null &
PIDS+=($!)
FAKE="http://127.0.0.1:$FAKE_PORT"
UPSTREAM=(--binance-base-url "$FAKE" --binance-futures-base-url "$FAKE")
wait_for "$FAKE/api/v3/ping"

FAILED=0
run() { "$@" || FAILED=1; }

# Phases 1 and 2 against a server without sign-in, default limits.
"$BIN" --auth none --host 127.0.0.1 --port "$OPEN_PORT" "${UPSTREAM[@]}" >/dev/null 2>&1 &
OPEN_PID=$!
PIDS+=($OPEN_PID)
OPEN="http://127.0.0.1:$OPEN_PORT"
wait_for "$OPEN/healthz"
echo "== crypto-mcp attack benchmark, $(nproc) cores, load generators on the same machine"
run python3 bench/attack/connections.py --url "$OPEN" --pid "$OPEN_PID"
run python3 bench/attack/charts.py --url "$OPEN" --pid "$OPEN_PID"

# Phases 3 and 4 against a server with the embedded authorization server.
PASSWORD="attack-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
PUBLIC_URL="http://127.0.0.1:$AUTH_PORT" MCP_USERS="bench:$PASSWORD" \
    "$BIN" --host 127.0.0.1 --port "$AUTH_PORT" "${UPSTREAM[@]}" >/dev/null 2>&1 &
AUTH_PID=$!
PIDS+=($AUTH_PID)
AUTH="http://127.0.0.1:$AUTH_PORT"
wait_for "$AUTH/healthz"
TOKEN=$(python3 bench/attack/sign_in_token.py --url "$AUTH" --user bench --password "$PASSWORD")
export TOKEN
# Warm the candle cache so klines calls are cache hits.
curl -fsS -o /dev/null -H 'content-type: application/json' -H 'accept: application/json, text/event-stream' \
    -H 'mcp-protocol-version: 2025-11-25' -H "authorization: Bearer $TOKEN" \
    -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"binance_klines","arguments":{"symbol":"BTCUSDT","interval":"1h","limit":100}}}' \
    "$AUTH/mcp"

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$AUTH_PID/status"; }
# Includes what the one sign-in's password check left allocated.
BEFORE=$(rss_kb)
OUT=$(mktemp)
wrk -t2 -c"$MIXED_CONNECTIONS" -d"$MIXED_DURATION" --timeout 10s --latency \
    -s bench/attack/mixed.lua "$AUTH/mcp" >"$OUT" &
WRK=$!
PEAK=$(rss_kb)
while kill -0 "$WRK" 2>/dev/null; do
    NOW=$(rss_kb)
    [ "$NOW" -gt "$PEAK" ] && PEAK=$NOW
    sleep 0.2
done
wait "$WRK"
REQUESTS=$(awk '/requests in/ {print $1}' "$OUT")
RPS=$(awk '/Requests\/sec/ {print $2}' "$OUT")
P99=$(awk '$1 == "99%" {print $2}' "$OUT")
FAILURES=$(awk '/^failures/ {print $2}' "$OUT")
SOCKET_ERRORS=$(awk -F'[ ,]+' '/Socket errors/ {print $4 + $6 + $8 + $10}' "$OUT")
NON_2XX=$(awk '/Non-2xx/ {print $NF}' "$OUT")
ERRORS=$((${FAILURES:-0} + ${SOCKET_ERRORS:-0} + ${NON_2XX:-0}))
VERDICT=met
if [ "$ERRORS" -ne 0 ] || [ $((PEAK / 1024)) -ge "$RSS_TARGET_MB" ]; then VERDICT=MISSED; FAILED=1; fi
echo "mixed authenticated load, $MIXED_CONNECTIONS connections, $MIXED_DURATION: $REQUESTS requests, $RPS req/s, p99 $P99, errors $ERRORS (target 0), RSS before $((BEFORE / 1024)) MB (after one sign-in), peak $((PEAK / 1024)) MB (target < $RSS_TARGET_MB MB) $VERDICT"
rm -f "$OUT"

if [ -f bench/attack/signin.py ]; then
    run python3 bench/attack/signin.py --url "$AUTH" --pid "$AUTH_PID"
else
    echo "bench/attack/signin.py not present: sign-in phase skipped"
fi

exit "$FAILED"
