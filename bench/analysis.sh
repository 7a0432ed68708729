#!/usr/bin/env bash
# Benchmarks a 5,000-candle technical_analysis over MCP against the fake
# Binance on loopback, every call uncached.
#
#   bench/analysis.sh            # build (release), run, print figures
#
# Each sample asks for a market, series and interval no earlier sample used
# (7 perpetuals x spot and 4 USD-M series, plus 3 spot-only pairs, at 1m,
# 3m and 5m: 114 windows of 5,000 candles), so every call fetches its six
# pages from the fake: the newest 1,000, then five cells of 1,000 at once.
# Alternating with it, a Python client fetches the same six pages straight
# from the fake the same way (the newest, then five concurrently) for the
# fake's own latency. The figure is the median difference.
#
# The fake advertises a weight limit high enough that the server's budget
# (80 % of it) never stops the run. Loopback only; every process started
# here is stopped on exit.
set -euo pipefail

cd "$(dirname "$0")/.."
FAKE_PORT=${FAKE_PORT:-19910}
APP_PORT=${APP_PORT:-19911}
SAMPLES=${SAMPLES:-100}

command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 1; }

# The fake advertises a limit high enough that the budget never stops the run.
. bench/fake_and_server.sh
start_fake_and_server "$FAKE_PORT" "$APP_PORT" --weight-limit 1000000

echo "== uncached technical_analysis, 5000 candles, default indicators, $SAMPLES samples"
python3 - "$FAKE_PORT" "$APP_PORT" "$SAMPLES" <<'PY'
import http.client, json, statistics, sys, time
from concurrent.futures import ThreadPoolExecutor

fake_port, app_port, samples = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
headers = {"content-type": "application/json", "accept": "application/json, text/event-stream",
           "mcp-protocol-version": "2025-11-25"}
app = http.client.HTTPConnection("127.0.0.1", app_port)
# One keep-alive connection per concurrent page, as the server's pool has.
fakes = [http.client.HTTPConnection("127.0.0.1", fake_port) for _ in range(6)]
pool = ThreadPoolExecutor(5)

STEP = {"1m": 60_000, "3m": 180_000, "5m": 300_000}
PERPS = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT", "ADAUSDT"]
PATHS = {"trade": "/fapi/v1/klines", "mark": "/fapi/v1/markPriceKlines",
         "index": "/fapi/v1/indexPriceKlines", "premium": "/fapi/v1/premiumIndexKlines"}
combos = []
for interval in STEP:
    for symbol in PERPS:
        combos.append((symbol, interval, "spot", "trade"))
        for price in PATHS:
            combos.append((symbol, interval, "usdm", price))
    for symbol in ["BTCUSDC", "ETHBTC", "BNBBTC"]:
        combos.append((symbol, interval, "spot", "trade"))
assert samples <= len(combos), f"at most {len(combos)} distinct windows"

def get(conn, path):
    # Read, not parse: Python's JSON parser is slower than the server's and
    # would inflate the fake's latency.
    conn.request("GET", path)
    body = conn.getresponse().read()
    assert body.startswith(b"[["), body[:200]
    return body

def last_open_time(page):
    return int(page[page.rindex(b"[") + 1:].split(b",", 1)[0])

def tool(symbol, interval, market, price):
    args = {"symbol": symbol, "interval": interval, "limit": 5000, "market": market, "price": price}
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                       "params": {"name": "technical_analysis", "arguments": args}})
    start = time.perf_counter()
    app.request("POST", "/mcp", body, headers)
    reply = app.getresponse().read()
    elapsed = time.perf_counter() - start
    result = json.loads(reply)["result"]
    assert result["isError"] is False and result["structuredContent"]["candles"] == 5000, reply[:300]
    return elapsed

def direct(symbol, interval, market, price):
    # The same six pages the server fetches: the newest, then the cells.
    path = "/api/v3/klines" if market == "spot" else PATHS[price]
    key = "pair" if price == "index" else "symbol"
    base = f"{path}?{key}={symbol}&interval={interval}"
    step = STEP[interval]
    span = step * 1000
    start = time.perf_counter()
    newest = get(fakes[0], f"{base}&limit=1000")
    last = last_open_time(newest)
    first_cell, newest_cell = (last - 4999 * step) // span, last // span
    cells = range(newest_cell - 1, first_cell - 1, -1)
    pages = list(pool.map(lambda pc: get(fakes[1 + pc[0]],
                          f"{base}&startTime={pc[1] * span}&endTime={(pc[1] + 1) * span - 1}&limit=1000"),
                          enumerate(cells)))
    elapsed = time.perf_counter() - start
    assert len(pages) in (4, 5) and all(page.count(b"],[") == 999 for page in pages)
    return elapsed

# Learn the weight limits (one exchangeInfo per API) outside the samples.
for name, args in [("binance_ticker", {"symbol": "BTCUSDT"}), ("binance_futures", {"symbol": "BTCUSDT"})]:
    app.request("POST", "/mcp", json.dumps({"jsonrpc": "2.0", "id": 0, "method": "tools/call",
                "params": {"name": name, "arguments": args}}), headers)
    app.getresponse().read()

d, t = [], []
for combo in combos[:samples]:
    d.append(direct(*combo))
    t.append(tool(*combo))
q = lambda xs, n: statistics.quantiles(xs, n=100)[n - 1] * 1000
md, mt = statistics.median(d) * 1000, statistics.median(t) * 1000
print(f"fake alone, six pages   median {md:.2f} ms  p90 {q(d, 90):.2f} ms")
print(f"tool call, uncached     median {mt:.2f} ms  p90 {q(t, 90):.2f} ms")
print(f"over the fake (median difference) {mt - md:.2f} ms  (target < 50 ms)")
# The same window again within the newest page's 2 s: every page cached, so
# this is merging, indicators and the result alone.
cached = [tool(*combos[samples - 1]) for _ in range(20)]
print(f"tool call, all pages cached  median {statistics.median(cached) * 1000:.2f} ms")
PY
