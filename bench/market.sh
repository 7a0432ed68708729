#!/usr/bin/env bash
# Benchmarks binance_klines over MCP against the fake Binance on loopback.
#
#   bench/market.sh            # build (release), run, print figures
#
# 1. Cached throughput: wrk, 32 connections, 10 s (x RUNS), POSTing tools/call
#    binance_klines {"symbol":"BTCUSDT","interval":"1h","limit":100}
#    (after one warm-up call every request is a cache hit).
# 2. Uncached overhead: a Python client alternates a direct GET of the fake's
#    /api/v3/klines and the same request through the tool, each with a
#    different endTime so nothing is cached, and reports the median
#    difference.
# Loopback only; every process started here is stopped on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
FAKE_PORT=${FAKE_PORT:-19900}
APP_PORT=${APP_PORT:-19901}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-2}
SAMPLES=${SAMPLES:-300}
# wrk shares the 2 cores with the server, so runs vary by ~15 %: report each.
RUNS=${RUNS:-3}

command -v wrk >/dev/null || apt-get install -y wrk
command -v python3 >/dev/null || { echo "python3 is needed for the overhead run" >&2; exit 1; }

. bench/fake_and_server.sh
start_fake_and_server "$FAKE_PORT" "$APP_PORT"

BODY='{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"binance_klines","arguments":{"symbol":"BTCUSDT","interval":"1h","limit":100}}}'
HEADERS=(-H 'content-type: application/json' -H 'accept: application/json, text/event-stream' -H 'mcp-protocol-version: 2025-11-25')

# Warm the cache and check the call works.
curl -fsS "${HEADERS[@]}" -d "$BODY" "http://127.0.0.1:$APP_PORT/mcp" | grep -q '"isError":false'

LUA=$(mktemp --suffix=.lua)
cat >"$LUA" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["content-type"] = "application/json"
wrk.headers["accept"] = "application/json, text/event-stream"
wrk.headers["mcp-protocol-version"] = "2025-11-25"
LUA

echo "== cached: tools/call binance_klines BTCUSDT 1h x100, $CONNECTIONS connections, $DURATION, $RUNS runs"
for run in $(seq 1 "$RUNS"); do
    echo "-- run $run"
    wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$LUA" "http://127.0.0.1:$APP_PORT/mcp" \
        | grep -E "Requests/sec|^ +(50|99)%|requests in|Non-2xx|errors"
done

echo "== uncached: overhead over the fake's own latency, $SAMPLES samples each"
python3 - "$FAKE_PORT" "$APP_PORT" "$SAMPLES" <<'PY'
import http.client, json, statistics, sys, time

fake_port, app_port, samples = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
fake = http.client.HTTPConnection("127.0.0.1", fake_port)
app = http.client.HTTPConnection("127.0.0.1", app_port)
headers = {"content-type": "application/json", "accept": "application/json, text/event-stream",
           "mcp-protocol-version": "2025-11-25"}
LAST_OPEN, HOUR = 1_738_364_400_000, 3_600_000

def direct(end):
    start = time.perf_counter()
    fake.request("GET", f"/api/v3/klines?symbol=BTCUSDT&interval=1h&endTime={end}&limit=100")
    body = fake.getresponse().read()
    elapsed = time.perf_counter() - start
    assert body.startswith(b"[["), body[:200]
    return elapsed

def tool(end):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "binance_klines",
        "arguments": {"symbol": "BTCUSDT", "interval": "1h", "limit": 100, "endTime": end}}})
    start = time.perf_counter()
    app.request("POST", "/mcp", body, headers)
    reply = app.getresponse().read()
    elapsed = time.perf_counter() - start
    result = json.loads(reply)["result"]
    assert result["isError"] is False and result["structuredContent"]["cached"] is False, reply[:300]
    return elapsed

# Distinct endTimes (one per sample and side) so no call is a cache hit;
# the two sides alternate so drift affects both alike.
d, t = [], []
for i in range(samples):
    d.append(direct(LAST_OPEN - (2 * i) * HOUR))
    t.append(tool(LAST_OPEN - (2 * i + 1) * HOUR))
ms = lambda xs, q: statistics.quantiles(xs, n=100)[q - 1] * 1000
md, mt = statistics.median(d) * 1000, statistics.median(t) * 1000
print(f"direct fake GET   median {md:.3f} ms  p90 {ms(d, 90):.3f} ms")
print(f"tool call uncached median {mt:.3f} ms  p90 {ms(t, 90):.3f} ms")
print(f"overhead (median difference) {mt - md:.3f} ms")
PY
