#!/usr/bin/env bash
# `--state-file` across a restart, with a real client: the Python SDK signs
# in, the server restarts (same state file), the SDK's short-lived access
# token expires, and the SDK refreshes against the *new* process and keeps
# working without a second login.
# Env: SERVER_BIN (reads PORT, PUBLIC_URL, MCP_USERS, MCP_STATE_FILE,
#      MCP_ACCESS_TOKEN_TTL), PORT (default 28736).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SERVER_BIN=${SERVER_BIN:?}; PORT=${PORT:-28736}
work=$(mktemp -d)
export PUBLIC_URL="http://127.0.0.1:$PORT" MCP_STATE_FILE="$work/state.json" MCP_ACCESS_TOKEN_TTL=5s
export MCP_USERS="e2e:restart-$(head -c 12 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
pw=${MCP_USERS#e2e:}
start() {
  PORT=$PORT "$SERVER_BIN" >>"$work/server.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "$PUBLIC_URL/.well-known/oauth-authorization-server" && return; sleep 0.1; done
}
# The server writes its state file as it stops: wait for it before the
# directory goes.
trap 'kill "${server_pid:-}" 2>/dev/null || true; wait "${server_pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
start
MCP_URL="$PUBLIC_URL/mcp" USERNAME=e2e PASSWORD="$pw" REFRESH_AFTER_SECONDS=8 \
  python3 "$here/python_sdk_oauth.py" >"$work/client.log" 2>&1 &
client_pid=$!
sleep 3
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true
start
wait "$client_pid" || { cat "$work/client.log"; exit 1; }
cat "$work/client.log"
logins=$(grep -c '^authorize URL' "$work/client.log" || true)
[[ "$logins" == 1 ]] || { echo "expected one login, saw $logins" >&2; exit 1; }
echo "OK refresh after restart: one login, client kept working"
