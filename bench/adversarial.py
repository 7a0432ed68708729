"""Adversarial `calculate` inputs over HTTP: each must be answered (with a
clear error) within 10 ms, measured end to end on a keep-alive connection.

Usage: python3 bench/adversarial.py PORT   (a server started with --auth none)
Exits non-zero if any input takes 10 ms or more (best of 5 runs).
"""
import http.client
import json
import sys
import time

LIMIT_MS = 10.0
INPUTS = {
    "1 MB of digits and +": "1+" * 499_999 + "1",
    "100k nested parentheses": "(" * 100_000 + "1" + ")" * 100_000,
    "65 nested parentheses": "(" * 65 + "1" + ")" * 65,
    "999 unary minus": "-" * 999 + "1",
    "9^9^9^9": "9^9^9^9",
    "(9^9)^(9^9)": "(9^9)^(9^9)",
    "500 nines": "9" * 500,
    "1e308*10": "1e308*10",
    "0.1+0.2": "0.1+0.2",
}


def call(conn: http.client.HTTPConnection, body: bytes) -> tuple[float, str]:
    """Times one request, from sending the encoded body to the decoded reply."""
    headers = {"content-type": "application/json", "mcp-protocol-version": "2025-11-25"}
    start = time.perf_counter()
    conn.request("POST", "/mcp", body=body, headers=headers)
    response = conn.getresponse()
    payload = json.loads(response.read())
    elapsed = (time.perf_counter() - start) * 1000.0
    result = payload["result"]
    text = result["content"][0]["text"]
    return elapsed, ("error: " if result["isError"] else "") + text[:70]


def main() -> None:
    port = int(sys.argv[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    worst = 0.0
    for name, expression in INPUTS.items():
        body = json.dumps({
            "jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "calculate", "arguments": {"expression": expression}},
        }).encode()
        best, answer = min(call(conn, body) for _ in range(5))
        worst = max(worst, best)
        print(f"{name:28} {best:7.2f} ms  {answer}")
    print(f"slowest adversarial input: {worst:.2f} ms (limit {LIMIT_MS} ms)")
    sys.exit(0 if worst < LIMIT_MS else 1)


if __name__ == "__main__":
    main()
