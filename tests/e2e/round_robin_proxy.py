#!/usr/bin/env python3
"""A round-robin reverse proxy on loopback for the multi-instance test: each
request goes to the next backend in turn, so consecutive requests of one
client land on different instances (what Railway's and Render's balancers
may do; no affinity). Responses are streamed through, so SSE works.

Usage: round_robin_proxy.py LISTEN_PORT LOG_FILE BACKEND_PORT...
Each proxied request appends "<backend port> <method> <path>" to LOG_FILE.
"""
import http.client
import itertools
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LISTEN, LOG, BACKENDS = int(sys.argv[1]), sys.argv[2], [int(p) for p in sys.argv[3:]]
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}
turn = itertools.cycle(BACKENDS)
lock = threading.Lock()


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection: no framing to redo

    def forward(self):
        with lock:
            port = next(turn)
            with open(LOG, "a") as log:
                log.write(f"{port} {self.command} {self.path.split('?')[0]}\n")
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        upstream = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        upstream.request(self.command, self.path, body=body, headers=headers)
        resp = upstream.getresponse()
        self.send_response_only(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("connection", "close")
        self.end_headers()
        while True:
            chunk = resp.read1(65536)
            if not chunk:
                break
            self.wfile.write(chunk)
            self.wfile.flush()
        upstream.close()

    do_GET = do_POST = do_DELETE = do_OPTIONS = forward

    def log_message(self, *args):
        pass


ThreadingHTTPServer.daemon_threads = True
# The test sends 50 requests at once: the default backlog of 5 would reset them.
ThreadingHTTPServer.request_queue_size = 128
ThreadingHTTPServer(("127.0.0.1", LISTEN), Proxy).serve_forever()
