"""Holds many idle and half-sent connections open against a running server,
then checks that it still answers and that it closes them.

    python3 bench/attack/connections.py --url http://127.0.0.1:PORT --pid PID [--count 1100]

Four kinds in equal numbers, from ten loopback source addresses: silent
(connected, nothing sent), a half-sent request head, a head with a half-sent
body, and an idle keep-alive after one complete request. While they are
held, /healthz and a fresh client's tools/list must answer within 1 s; then
every held socket must be closed by the server within 15 s of its last byte.
One line per figure; exits 1 when a target is missed. Loopback only.
"""

import argparse
import http.client
import json
import resource
import select
import socket
import sys
import time
import urllib.parse

ANSWER_WITHIN_S = 1.0
CLOSED_WITHIN_S = 15.0
# Bounds the whole run: the server's timeouts are 10 s by default.
GIVE_UP_S = 40.0
SOURCES = [f"127.0.1.{i}" for i in range(1, 11)]
TOOLS_LIST = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def open_held(host, port, index):
    kind = ("silent", "half head", "half body", "keep-alive")[index % 4]
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((SOURCES[index % len(SOURCES)], 0))
    sock.settimeout(5)
    sock.connect((host, port))
    if kind == "half head":
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    elif kind == "half body":
        sock.sendall(
            b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Accept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n{\"jsonrpc\""
        )
    elif kind == "keep-alive":
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        reply = sock.recv(4096)
        if not reply.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"keep-alive request failed: {reply[:80]!r}")
    sock.setblocking(False)
    return kind, sock, time.monotonic()


def timed(call):
    start = time.monotonic()
    try:
        ok = call()
    except OSError as error:
        print(f"  request failed: {error}", file=sys.stderr)
        ok = False
    return ok, time.monotonic() - start


def healthz(host, port):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", "/healthz")
    return conn.getresponse().status == 200


def tools_list(host, port):
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("POST", "/mcp", TOOLS_LIST, {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2025-11-25",
    })
    reply = conn.getresponse()
    return reply.status == 200 and b'"tools"' in reply.read()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--count", type=int, default=1100)
    args = parser.parse_args()
    url = urllib.parse.urlparse(args.url)
    host, port = url.hostname, url.port
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    held = [open_held(host, port, i) for i in range(args.count)]
    failed = False
    health_ok, health_s = timed(lambda: healthz(host, port))
    list_ok, list_s = timed(lambda: tools_list(host, port))
    print(f"held connections: {len(held)} ({args.count // 4} each silent, half head, half body, keep-alive); "
          f"server RSS {rss_mb(args.pid):.1f} MB")
    for name, ok, seconds in (("/healthz", health_ok, health_s), ("fresh tools/list", list_ok, list_s)):
        met = ok and seconds < ANSWER_WITHIN_S
        failed |= not met
        print(f"{name} while held: {seconds * 1000:.1f} ms, {'ok' if ok else 'FAILED'} "
              f"(target < {ANSWER_WITHIN_S * 1000:.0f} ms) {'met' if met else 'MISSED'}")

    # Wait for the server to close each held socket (EOF or reset).
    open_socks = {sock.fileno(): (kind, sock, since) for kind, sock, since in held}
    slowest = {}
    poller = select.poll()
    for fd in open_socks:
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    deadline = time.monotonic() + GIVE_UP_S
    while open_socks and time.monotonic() < deadline:
        for fd, _ in poller.poll(200):
            kind, sock, since = open_socks[fd]
            try:
                data = sock.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if data:
                continue
            slowest[kind] = max(slowest.get(kind, 0.0), time.monotonic() - since)
            poller.unregister(fd)
            sock.close()
            del open_socks[fd]
    closed = len(held) - len(open_socks)
    worst = max(slowest.values(), default=0.0)
    met = not open_socks and worst < CLOSED_WITHIN_S
    failed |= not met
    detail = ", ".join(f"{kind} {seconds:.1f} s" for kind, seconds in sorted(slowest.items()))
    print(f"held connections closed by the server: {closed}/{len(held)}, slowest after {worst:.1f} s "
          f"(target < {CLOSED_WITHIN_S:.0f} s) {'met' if met else 'MISSED'} [{detail}]")
    for _, sock, _ in open_socks.values():
        sock.close()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
