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
REDIRECT="http://127.0.0.1:3999/callback"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# A token through the real flow: DCR → page → login → code → token.
client_id=$(curl -fsS -X POST "$AUTH_URL/register" -H 'content-type: application/json' \
  -d "{\"client_name\":\"bench\",\"redirect_uris\":[\"$REDIRECT\"]}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
verifier=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
challenge=$(printf '%s' "$verifier" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n')
page=$(curl -fsS -c "$work/j" -b "$work/j" -G "$AUTH_URL/authorize" \
  --data-urlencode response_type=code --data-urlencode "client_id=$client_id" \
  --data-urlencode "redirect_uri=$REDIRECT" --data-urlencode "code_challenge=$challenge" \
  --data-urlencode code_challenge_method=S256 --data-urlencode "resource=$AUTH_URL/mcp")
field() { printf '%s' "$page" | grep -oE "name=\"$1\" value=\"[^\"]*\"" | head -n1 | sed -E 's/.*value="([^"]*)"/\1/'; }
loc=$(curl -sS -o /dev/null -w '%{redirect_url}' -c "$work/j" -b "$work/j" -X POST "$AUTH_URL/authorize" \
  --data-urlencode "request_id=$(field request_id)" --data-urlencode "csrf_token=$(field csrf_token)" \
  --data-urlencode "username=$USERNAME" --data-urlencode "password=$PASSWORD" --data-urlencode decision=approve)
code=$(python3 -c 'import sys,urllib.parse as u; print(u.parse_qs(u.urlparse(sys.argv[1]).query)["code"][0])' "$loc")
token=$(curl -fsS -X POST "$AUTH_URL/token" --data-urlencode grant_type=authorization_code \
  --data-urlencode "code=$code" --data-urlencode "redirect_uri=$REDIRECT" \
  --data-urlencode "code_verifier=$verifier" --data-urlencode "client_id=$client_id" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')

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
