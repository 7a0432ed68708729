#!/usr/bin/env bash
# Benchmark: authenticated `tools/list` throughput vs the same server with
# `--auth none`. Loopback only, bounded duration (wrk -d), stops by itself.
#
# Env: AUTH_URL / NOAUTH_URL (two running servers: one with --auth oauth,
#      one with --auth none; MCP path /mcp), USERNAME, PASSWORD,
#      DURATION (default 10s), CONNECTIONS (default 32), THREADS (default 1).
set -euo pipefail
AUTH_URL=${AUTH_URL:?}; NOAUTH_URL=${NOAUTH_URL:?}
USERNAME=${USERNAME:-admin}; : "${PASSWORD:?}"
DURATION=${DURATION:-10s}; CONNECTIONS=${CONNECTIONS:-32}; THREADS=${THREADS:-1}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
token=$(bash "$(dirname "$0")/token.sh" "$AUTH_URL" "$USERNAME" "$PASSWORD")

body='{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
cat >"$work/auth.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = "2025-11-25"
wrk.headers["Authorization"] = "Bearer $token"
LUA
grep -v Authorization "$work/auth.lua" >"$work/none.lua"

# Sanity: the token works and the guard is really on.
[[ $(curl -s -o /dev/null -w '%{http_code}' -X POST "$AUTH_URL/mcp" -H 'content-type: application/json' -d "$body") == 401 ]]
[[ $(curl -s -o /dev/null -w '%{http_code}' -X POST "$AUTH_URL/mcp" -H 'content-type: application/json' -H "authorization: Bearer $token" -d "$body") == 200 ]]

run() { wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$2" "$1/mcp" | tee /dev/stderr | awk '/Requests\/sec/ {print $2}'; }
wrk -t1 -c8 -d2s -s "$work/none.lua" "$NOAUTH_URL/mcp" >/dev/null   # warm-up
wrk -t1 -c8 -d2s -s "$work/auth.lua" "$AUTH_URL/mcp" >/dev/null
none1=$(run "$NOAUTH_URL" "$work/none.lua"); auth1=$(run "$AUTH_URL" "$work/auth.lua")
none2=$(run "$NOAUTH_URL" "$work/none.lua"); auth2=$(run "$AUTH_URL" "$work/auth.lua")
python3 - "$none1" "$auth1" "$none2" "$auth2" <<'PY'
import sys
n1, a1, n2, a2 = map(float, sys.argv[1:])
none, auth = (n1 + n2) / 2, (a1 + a2) / 2
cost = (1 - auth / none) * 100
print(f"--auth none: {none:.0f} req/s   oauth bearer: {auth:.0f} req/s   cost: {cost:.1f}%")
sys.exit(0 if cost < 10 else 1)
PY
