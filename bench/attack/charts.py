"""Sends many concurrent largest-size binance_chart calls to a running
server and reports its peak RSS.

    python3 bench/attack/charts.py --url http://127.0.0.1:PORT --pid PID [--concurrency 64]

Each call asks for 500 candles, six overlays and a MACD pane at 2400x1600,
the most a caller can ask for. The peak is the kernel's high-water mark
(VmHWM), reset first through /proc/PID/clear_refs. Target: peak < 192 MB and
every call answered (a chart, or a clear "busy" error). Exits 1 when missed.
Loopback only.
"""

import argparse
import http.client
import json
import sys
import threading
import time
import urllib.parse

PEAK_TARGET_MB = 192
ARGUMENTS = {
    "symbol": "BTCUSDT", "interval": "1h", "limit": 500,
    "overlays": ["sma:20", "ema:50", "bbands:20,2", "wma:10", "ema:100", "sma:200"],
    "pane": "macd", "width": 2400, "height": 1600,
}
BODY = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                   "params": {"name": "binance_chart", "arguments": ARGUMENTS}})
HEADERS = {"content-type": "application/json", "accept": "application/json, text/event-stream",
           "mcp-protocol-version": "2025-11-25"}


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def call(host, port):
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request("POST", "/mcp", BODY, HEADERS)
    reply = conn.getresponse()
    body = reply.read()
    if reply.status != 200:
        return f"HTTP {reply.status}"
    result = json.loads(body)["result"]
    if not result["isError"]:
        return "chart"
    text = result["content"][0]["text"]
    return "busy" if "busy" in text else f"error: {text[:120]}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.url)
    host, port = url.hostname, url.port

    warm = call(host, port)  # fills the candle cache; one chart alone
    if warm != "chart":
        print(f"warm-up chart failed: {warm}")
        sys.exit(1)
    before = status_kb(args.pid, "VmRSS") / 1024
    with open(f"/proc/{args.pid}/clear_refs", "w") as refs:
        refs.write("5")  # resets VmHWM to the current RSS

    outcomes = []
    gate = threading.Barrier(args.concurrency)

    def worker():
        gate.wait()
        try:
            outcomes.append(call(host, port))
        except OSError as error:
            outcomes.append(f"failed: {error}")

    threads = [threading.Thread(target=worker) for _ in range(args.concurrency)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - start
    peak = status_kb(args.pid, "VmHWM") / 1024
    after = status_kb(args.pid, "VmRSS") / 1024
    counts = {kind: outcomes.count(kind) for kind in sorted(set(outcomes))}
    answered = sum(n for kind, n in counts.items() if kind in ("chart", "busy"))
    met = peak < PEAK_TARGET_MB and answered == args.concurrency
    print(f"{args.concurrency} concurrent 2400x1600 charts in {elapsed:.2f} s: {counts}; "
          f"RSS before {before:.1f} MB, peak {peak:.1f} MB (target < {PEAK_TARGET_MB} MB), "
          f"after {after:.1f} MB {'met' if met else 'MISSED'}")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
