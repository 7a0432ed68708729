#!/usr/bin/env bash
# Runs the MCP conformance suite's `authorization` command (scenarios
# authorization-server-metadata-endpoint and authorization-code-grant)
# against a running crypto-mcp, completing the browser step automatically.
#
# Env: BASE_URL (= PUBLIC_URL, the issuer), USERNAME, PASSWORD,
#      CONF_DIR (conformance install, default /work/tools/conf),
#      NODE (Node >= 22, default /work/tools/node22/node_modules/.bin/node),
#      CALLBACK_PORT (default 3000), OUT_DIR (results, default ./conformance-auth-results)
set -euo pipefail

BASE_URL=${BASE_URL:-http://127.0.0.1:8080}
USERNAME=${USERNAME:-admin}
: "${PASSWORD:?PASSWORD is required}"
CONF_DIR=${CONF_DIR:-/work/tools/conf}
NODE=${NODE:-/work/tools/node22/node_modules/.bin/node}
CALLBACK_PORT=${CALLBACK_PORT:-3000}
OUT_DIR=${OUT_DIR:-./conformance-auth-results}
CONF="$CONF_DIR/node_modules/@modelcontextprotocol/conformance/dist/index.js"
REDIRECT="http://127.0.0.1:${CALLBACK_PORT}/callback"
work=$(mktemp -d)
trap 'rm -rf "$work"; [[ -n "${conf_pid:-}" ]] && kill "$conf_pid" 2>/dev/null || true' EXIT

# 1. A client registered through DCR, with the suite's callback as redirect.
client_id=$(curl -fsS -X POST "$BASE_URL/register" -H 'content-type: application/json' \
  -d "{\"client_name\":\"MCP conformance\",\"redirect_uris\":[\"$REDIRECT\"],\"token_endpoint_auth_method\":\"none\"}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
echo "registered client $client_id"

# 2. Both scenarios in one run (the code-grant scenario reuses the metadata
#    the first one fetched). The suite prints an authorize URL and waits for
#    its callback; we play the user.
log="$work/conf.log"
"$NODE" "$CONF" authorization --url "$BASE_URL" \
  --client-id "$client_id" --resource "$BASE_URL/mcp" -p "$CALLBACK_PORT" -o "$OUT_DIR" >"$log" 2>&1 &
conf_pid=$!

auth_url=""
for _ in $(seq 1 100); do
  auth_url=$(grep -oE "${BASE_URL//./\\.}/authorize\?[^[:space:]\"']+" "$log" | head -n1 || true)
  [[ -n "$auth_url" ]] && break
  kill -0 "$conf_pid" 2>/dev/null || break
  sleep 0.2
done
if [[ -z "$auth_url" ]]; then cat "$log"; echo "no authorize URL printed" >&2; exit 1; fi

jar="$work/cookies"
page=$(curl -fsS -c "$jar" -b "$jar" "$auth_url")
field() { printf '%s' "$page" | grep -oE "name=\"$1\" value=\"[^\"]*\"" | head -n1 | sed -E 's/.*value="([^"]*)"/\1/'; }
request_id=$(field request_id)
csrf=$(field csrf_token)
location=$(curl -sS -o /dev/null -w '%{redirect_url}' -c "$jar" -b "$jar" -X POST "$BASE_URL/authorize" \
  --data-urlencode "request_id=$request_id" --data-urlencode "csrf_token=$csrf" \
  --data-urlencode "username=$USERNAME" --data-urlencode "password=$PASSWORD" \
  --data-urlencode "decision=approve")
case "$location" in
  "$REDIRECT"*) ;;
  *) echo "login did not redirect to the callback (got '$location')" >&2; cat "$log"; exit 1 ;;
esac
curl -fsS -o /dev/null "$location"   # deliver the code to the suite's callback server

set +e
wait "$conf_pid"; rc=$?
conf_pid=""
set -e
cat "$log"
exit "$rc"
