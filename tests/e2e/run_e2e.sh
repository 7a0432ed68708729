#!/usr/bin/env bash
# Starts the server and runs the real-client checks against it: the
# official Python SDK (with PUBLIC_URL, then through 127.0.0.1 and
# localhost without it), the MCP Inspector CLI signing in, headless
# Chromium (the server's page and the sign-in page, screenshots saved), a
# restart, the conformance suite's `authorization` command, and the
# Inspector calling every tool. For CI (.ci/run) and by hand.
#
# Env: SERVER_BIN (the binary; it must read PORT, PUBLIC_URL and MCP_USERS
#      and serve OAuth on, e.g. target/debug/crypto-mcp), FAKE_BIN (the
#      fake_binance example), PORT (default 28731; the checks use PORT to
#      PORT+7), ARTIFACT_DIR (screenshots + results, default ./e2e-artifacts),
#      NODE_MODULES (a folder with playwright-core installed; default: npm
#      installs it into a temporary folder), INSPECTOR (the Inspector's
#      launcher script), CONF_DIR / NODE (see conformance_auth.sh).
#      Requires: python3 with `mcp` 2.x, node, Debian chromium, curl, openssl.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SERVER_BIN=${SERVER_BIN:?set SERVER_BIN to the server binary}
PORT=${PORT:-28731}
ARTIFACT_DIR=${ARTIFACT_DIR:-$PWD/e2e-artifacts}
mkdir -p "$ARTIFACT_DIR"
export BASE_URL="http://127.0.0.1:$PORT" USERNAME=e2e
PASSWORD="e2e-$(head -c 18 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
export PASSWORD

PORT=$PORT PUBLIC_URL=$BASE_URL MCP_USERS="$USERNAME:$PASSWORD" "$SERVER_BIN" >"$ARTIFACT_DIR/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$BASE_URL/.well-known/oauth-authorization-server" && break
  sleep 0.1
done

echo "== Python SDK (DCR + PKCE + login, then tools/list and tools/call)"
MCP_URL="$BASE_URL/mcp" python3 "$here/python_sdk_oauth.py"

echo "== without PUBLIC_URL: the Python SDK through 127.0.0.1 and localhost, the Inspector CLI"
loop_port=$((PORT + 2))
env -u PUBLIC_URL PORT=$loop_port MCP_USERS="$USERNAME:$PASSWORD" "$SERVER_BIN" >"$ARTIFACT_DIR/server-loopback.log" 2>&1 &
loop_pid=$!
trap 'kill "$server_pid" "$loop_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$loop_port/healthz" && break
  sleep 0.1
done
for host in 127.0.0.1 localhost; do
  MCP_URL="http://$host:$loop_port/mcp" python3 "$here/python_sdk_oauth.py"
done
HOME=$(mktemp -d) python3 "$here/inspector_oauth.py" "$NODE" "$INSPECTOR" --cli "http://localhost:$loop_port/mcp" \
  --transport http --method tools/list --strict --callback-url "http://127.0.0.1:$((PORT + 3))/oauth/callback" \
  >"$ARTIFACT_DIR/inspector-oauth.log" 2>&1 || { cat "$ARTIFACT_DIR/inspector-oauth.log"; exit 1; }
grep -q '"name": "fetch"' "$ARTIFACT_DIR/inspector-oauth.log" || { cat "$ARTIFACT_DIR/inspector-oauth.log"; exit 1; }
if grep -v '^\[mcp-inspector\]' "$ARTIFACT_DIR/inspector-oauth.log" | grep -qE '^(Warning|Error):|across [0-9]+ tools'; then
  cat "$ARTIFACT_DIR/inspector-oauth.log"; echo "the Inspector reported schema problems" >&2; exit 1
fi
echo "OK the Inspector CLI signed in through http://localhost:$loop_port/mcp and listed the tools (--strict clean)"
kill "$loop_pid"; wait "$loop_pid" 2>/dev/null || true

echo "== headless Chromium"
if [[ -z "${NODE_MODULES:-}" ]]; then
  NODE_MODULES=$(mktemp -d)
  (cd "$NODE_MODULES" && npm init -y >/dev/null && npm install --silent playwright-core >/dev/null)
fi
cp "$here/browser_login.mjs" "$NODE_MODULES/"
SCREENSHOT="$ARTIFACT_DIR/authorize-page.png" PAGE_SCREENSHOT="$ARTIFACT_DIR/mcp-page.png" \
  node "$NODE_MODULES/browser_login.mjs"

echo "== state file: refresh after a restart (Python SDK)"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
PORT=$((PORT + 1)) "$here/restart_refresh.sh"
PORT=$PORT PUBLIC_URL=$BASE_URL MCP_USERS="$USERNAME:$PASSWORD" "$SERVER_BIN" >>"$ARTIFACT_DIR/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "$BASE_URL/.well-known/oauth-authorization-server" && break
  sleep 0.1
done

echo "== conformance authorization"
OUT_DIR="$ARTIFACT_DIR/conformance" "$here/conformance_auth.sh"

echo "== the Inspector calls every tool (no sign-in, fake Binance)"
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
PORT=$((PORT + 6)) ARTIFACT_DIR="$ARTIFACT_DIR" "$here/inspector_tools.sh"
echo "all e2e checks passed"
