#!/usr/bin/env bash
# Prints an access token for the MCP endpoint of a running server, got
# through the real flow: DCR → sign-in page → login → code → token.
# Usage: bench/token.sh BASE_URL USERNAME PASSWORD
set -euo pipefail
URL=${1:?base URL}; USERNAME=${2:?user}; PASSWORD=${3:?password}
REDIRECT="http://127.0.0.1:3999/callback"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
client_id=$(curl -fsS -X POST "$URL/register" -H 'content-type: application/json' \
  -d "{\"client_name\":\"bench\",\"redirect_uris\":[\"$REDIRECT\"]}" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
verifier=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
challenge=$(printf '%s' "$verifier" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=\n')
page=$(curl -fsS -c "$work/j" -b "$work/j" -G "$URL/authorize" \
  --data-urlencode response_type=code --data-urlencode "client_id=$client_id" \
  --data-urlencode "redirect_uri=$REDIRECT" --data-urlencode "code_challenge=$challenge" \
  --data-urlencode code_challenge_method=S256 --data-urlencode "resource=$URL/mcp")
field() { printf '%s' "$page" | grep -oE "name=\"$1\" value=\"[^\"]*\"" | head -n1 | sed -E 's/.*value="([^"]*)"/\1/'; }
loc=$(curl -sS -o /dev/null -w '%{redirect_url}' -c "$work/j" -b "$work/j" -X POST "$URL/authorize" \
  --data-urlencode "request_id=$(field request_id)" --data-urlencode "csrf_token=$(field csrf_token)" \
  --data-urlencode "username=$USERNAME" --data-urlencode "password=$PASSWORD" --data-urlencode decision=approve)
code=$(python3 -c 'import sys,urllib.parse as u; print(u.parse_qs(u.urlparse(sys.argv[1]).query)["code"][0])' "$loc")
curl -fsS -X POST "$URL/token" --data-urlencode grant_type=authorization_code \
  --data-urlencode "code=$code" --data-urlencode "redirect_uri=$REDIRECT" \
  --data-urlencode "code_verifier=$verifier" --data-urlencode "client_id=$client_id" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
