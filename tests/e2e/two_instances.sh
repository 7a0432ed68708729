#!/usr/bin/env bash
# Two server processes on one Redis behind a round-robin proxy on loopback
# (each request goes to the other instance). The official Python SDK
# registers, signs in through the page, exchanges the code, calls tools,
# refreshes and revokes; the proxy's log must show every kind of step
# served by both instances. Then shared_checks.py: 50 concurrent
# redemptions of one code yield one token, and a handshake-era session
# opened on one instance is used and ended on the other.
#
# Env: SERVER_BIN, PORT (base; uses PORT..PORT+3), ARTIFACT_DIR.
# Requires redis-server, python3 with `mcp` 2.x.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SERVER_BIN=${SERVER_BIN:?}; PORT=${PORT:-28751}
ARTIFACT_DIR=${ARTIFACT_DIR:-$PWD/e2e-artifacts}; mkdir -p "$ARTIFACT_DIR"
PROXY=$PORT A=$((PORT + 1)) B=$((PORT + 2)) REDIS=$((PORT + 3))
work=$(mktemp -d); pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
log="$ARTIFACT_DIR/proxy.log"; : >"$log"

redis-server --bind 127.0.0.1 --port "$REDIS" --save '' --appendonly no --dir "$work" --loglevel warning \
  >"$ARTIFACT_DIR/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$REDIS" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done

export USERNAME=e2e PASSWORD="two-$(head -c 12 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
for port in "$A" "$B"; do
  # One public URL (the proxy's), one store: nothing else to configure.
  PORT=$port PUBLIC_URL="http://127.0.0.1:$PROXY" MCP_USERS="$USERNAME:$PASSWORD" \
    MCP_STORE="redis://127.0.0.1:$REDIS/" MCP_ACCESS_TOKEN_TTL=3s \
    "$SERVER_BIN" --host 127.0.0.1 >>"$ARTIFACT_DIR/instances.log" 2>&1 &
  pids+=($!)
done
python3 "$here/round_robin_proxy.py" "$PROXY" "$log" "$A" "$B" &
pids+=($!)
for port in "$A" "$B" "$PROXY"; do
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.1; done
done
: >"$log"

echo "== Python SDK through the proxy: sign-in, tools, refresh, revoke"
MCP_URL="http://127.0.0.1:$PROXY/mcp" REFRESH_AFTER_SECONDS=4 REVOKE=1 python3 "$here/python_sdk_oauth.py"

echo "== every step on both instances"
python3 - "$log" "$A" "$B" <<'PY'
import collections, sys
log, a, b = sys.argv[1], sys.argv[2], sys.argv[3]
seen = collections.defaultdict(set)
order = []
for line in open(log):
    port, method, path = line.split()
    step = f"{method} {path}"
    seen[step].add(port)
    order.append(port)
steps = ["POST /register", "GET /authorize", "POST /authorize", "POST /token", "POST /mcp", "POST /revoke"]
for step in steps:
    print(f"  {step:18} served by {sorted(seen[step])}")
served_once = [s for s in steps if s not in seen]
assert not served_once, f"steps never seen: {served_once}"
assert all(x != y for x, y in zip(order, order[1:])), "consecutive requests on one instance"
assert len(seen["POST /mcp"]) == 2, "MCP calls must reach both instances"
PY

echo "== one code, one token; a session across instances"
PROXY_URL="http://127.0.0.1:$PROXY" INSTANCE_A="http://127.0.0.1:$A" INSTANCE_B="http://127.0.0.1:$B" \
  python3 "$here/shared_checks.py"
echo "two instances: all checks passed"
