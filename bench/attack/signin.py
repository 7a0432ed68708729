#!/usr/bin/env python3
"""Failed sign-ins against a running crypto-mcp: the server's memory (RSS)
during and after 200 wrong passwords, 50 at a time, from 10 client IPs.

Each attempt opens a sign-in page and answers it with a wrong password for
a name of its own, so every attempt reaches argon2 (an unknown name is
checked against a dummy hash) and none is refused by the per-account
budget; 20 attempts per IP stay within the per-IP one. Client sockets are
bound to 127.0.0.2 ... 127.0.0.11, so the server sees ten IPs. Run it
against a freshly started server: the per-IP budgets it spends last 15
minutes (a second run is mostly refused with 429 before argon2 runs).

Usage: python3 bench/attack/signin.py --url http://127.0.0.1:PORT --pid PID
(the server's PUBLIC_URL and its process id; loopback only). Prints one
line per figure; exits 1 if a target is missed. Stops by itself: every
request has a timeout and the whole run is bounded.
"""
import argparse
import concurrent.futures
import http.client
import ipaddress
import json
import re
import secrets
import sys
import threading
import time
import urllib.parse

ATTEMPTS = 200
CONCURRENCY = 50
IPS = [f"127.0.0.{i}" for i in range(2, 12)]
PEAK_TARGET_MB = 128.0
AFTER_TARGET_MB = 64.0
AFTER_SECS = 10.0
SAMPLE_SECS = 0.02
REQUEST_TIMEOUT = 20.0
RUN_TIMEOUT = 180.0
REDIRECT = "http://127.0.0.1:9/callback"


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmRSS for pid {pid}")


class Sampler(threading.Thread):
    """Reads the server's RSS every SAMPLE_SECS; keeps the peak."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = rss_mb(pid)
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pid))
            time.sleep(SAMPLE_SECS)


def request(base, method, path, source, body=None, headers=None):
    conn = http.client.HTTPConnection(
        base.hostname, base.port, timeout=REQUEST_TIMEOUT, source_address=(source, 0)
    )
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def register(base) -> str:
    body = json.dumps({"client_name": "signin bench", "redirect_uris": [REDIRECT]})
    status, _, text = request(
        base, "POST", "/register", "127.0.0.1", body, {"content-type": "application/json"}
    )
    if status != 201:
        raise RuntimeError(f"registration failed: {status} {text[:200]}")
    return json.loads(text)["client_id"]


def field(page: str, name: str) -> str:
    m = re.search(f'name="{name}" value="([^"]*)"', page)
    if not m:
        raise RuntimeError(f"no {name} on the sign-in page")
    return m.group(1)


def attempt(base, client_id: str, i: int) -> int:
    """One failed sign-in; returns the status of the answer."""
    source = IPS[i % len(IPS)]
    query = urllib.parse.urlencode({
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "code_challenge": secrets.token_urlsafe(32)[:43],
        "code_challenge_method": "S256",
        "scope": "mcp:tools",
    })
    status, headers, page = request(base, "GET", f"/authorize?{query}", source)
    if status != 200:
        return status
    cookie = next(v.split(";")[0] for k, v in headers if k.lower() == "set-cookie")
    form = urllib.parse.urlencode({
        "request_id": field(page, "request_id"),
        "csrf_token": field(page, "csrf_token"),
        "username": f"bench-{i}",
        "password": secrets.token_urlsafe(12),
        "decision": "approve",
    })
    status, _, _ = request(base, "POST", "/authorize", source, form, {
        "content-type": "application/x-www-form-urlencoded",
        "cookie": cookie,
    })
    return status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="the server's PUBLIC_URL (loopback)")
    parser.add_argument("--pid", required=True, type=int, help="the server's process id")
    args = parser.parse_args()
    base = urllib.parse.urlsplit(args.url)
    host = base.hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        print(f"refusing a non-loopback URL: {args.url}", file=sys.stderr)
        return 2

    client_id = register(base)
    before = rss_mb(args.pid)
    sampler = Sampler(args.pid)
    sampler.start()
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
        futures = [pool.submit(attempt, base, client_id, i) for i in range(ATTEMPTS)]
        done, pending = concurrent.futures.wait(futures, timeout=RUN_TIMEOUT)
        for f in pending:
            f.cancel()
    elapsed = time.monotonic() - started
    statuses = {}
    for f in done:
        try:
            s = f.result()
        except Exception as e:  # a refused connection, a timeout
            s = type(e).__name__
        statuses[s] = statuses.get(s, 0) + 1
    time.sleep(AFTER_SECS)
    sampler.stop.set()
    sampler.join()
    after = rss_mb(args.pid)

    summary = ", ".join(f"{n}x {s}" for s, n in sorted(statuses.items(), key=str))
    print(f"signin attack: {ATTEMPTS} failed sign-ins, {CONCURRENCY} at once from "
          f"{len(IPS)} IPs, in {elapsed:.1f} s ({summary}); RSS before {before:.1f} MB")
    ok = True
    for name, value, target in [
        ("signin RSS peak", sampler.peak, PEAK_TARGET_MB),
        (f"signin RSS {AFTER_SECS:.0f} s after", after, AFTER_TARGET_MB),
    ]:
        verdict = "ok" if value < target else "MISSED"
        ok &= value < target
        print(f"{name}: {value:.1f} MB (target < {target:.0f} MB) {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
