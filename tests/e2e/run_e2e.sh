#!/usr/bin/env bash
# Starts the server and runs the three real-client checks against it:
# the official Python SDK, headless Chromium (screenshot saved), and the
# conformance suite's `authorization` command. For CI (.ci/run) and by hand.
#
# Env: SERVER_BIN (the binary; it must read PORT, PUBLIC_URL and MCP_USERS
#      and serve OAuth on, e.g. target/debug/crypto-mcp), PORT (default 28731),
#      ARTIFACT_DIR (screenshot + conformance results, default ./e2e-artifacts),
#      NODE_MODULES (a folder with playwright-core installed; default: npm
#      installs it into a temporary folder), CONF_DIR / NODE (see
#      conformance_auth.sh). Requires: python3 with `mcp` 2.x, node, Debian
#      chromium, curl, openssl.
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

echo "== headless Chromium"
if [[ -z "${NODE_MODULES:-}" ]]; then
  NODE_MODULES=$(mktemp -d)
  (cd "$NODE_MODULES" && npm init -y >/dev/null && npm install --silent playwright-core >/dev/null)
fi
cp "$here/browser_login.mjs" "$NODE_MODULES/"
SCREENSHOT="$ARTIFACT_DIR/authorize-page.png" node "$NODE_MODULES/browser_login.mjs"

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
echo "all e2e checks passed"
