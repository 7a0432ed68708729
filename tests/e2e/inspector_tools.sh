#!/usr/bin/env bash
# The MCP Inspector CLI against crypto-mcp without sign-in, in front of the
# fake Binance: `tools/list --strict` reports no schema-portability problem,
# and calling every tool prints no warning (TypeScript clients warn about
# each non-standard `format` in an outputSchema they validate against).
# Env: SERVER_BIN, FAKE_BIN (the fake_binance example), INSPECTOR (the
#      Inspector's launcher script), NODE (Node >= 22), PORT (the server;
#      the fake takes PORT+1), ARTIFACT_DIR.
set -euo pipefail
: "${SERVER_BIN:?}" "${FAKE_BIN:?}" "${INSPECTOR:?}" "${NODE:?}"
PORT=${PORT:-28741}
ARTIFACT_DIR=${ARTIFACT_DIR:-$PWD/e2e-artifacts}
fake_port=$((PORT + 1))
out="$ARTIFACT_DIR/inspector"
mkdir -p "$out"
"$FAKE_BIN" --port "$fake_port" >"$out/fake.log" 2>&1 &
fake_pid=$!
env -u PUBLIC_URL "$SERVER_BIN" --auth none --host 127.0.0.1 --port "$PORT" \
  --binance-base-url "http://127.0.0.1:$fake_port" --binance-futures-base-url "http://127.0.0.1:$fake_port" \
  >"$out/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" "$fake_pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
  sleep 0.1
done
url="http://127.0.0.1:$PORT/mcp"
# Secrets in memory: CI has no keychain, and the Inspector says so otherwise.
inspect() { MCP_INSPECTOR_SECRET_STORE=memory "$NODE" "$INSPECTOR" --cli "$url" --transport http "$@"; }

# The Inspector's own notices start with [mcp-inspector]; problems do not.
problems() { grep -v '^\[mcp-inspector\]' "$1" | grep -iE 'warn|error|unknown format|across [0-9]+ tools' || true; }

inspect --method tools/list --strict >"$out/tools-list.json" 2>"$out/tools-list.err"
if [[ -n "$(problems "$out/tools-list.err")" ]] || ! grep -q '"name": "fetch"' "$out/tools-list.json"; then
  cat "$out/tools-list.err"; echo "tools/list --strict reported problems" >&2; exit 1
fi
echo "OK tools/list --strict: no portability problem"

calls=(
  "calculate expression=(97250.5-94010)/94010*100"
  "binance_klines symbol=BTCUSDT limit=3"
  "binance_ticker symbol=BTCUSDT"
  "binance_order_book symbol=BTCUSDT limit=5"
  "binance_trades symbol=BTCUSDT limit=5"
  "binance_symbols query=bitcoin"
  "binance_futures symbol=BTCUSDT"
  "binance_positioning symbol=BTCUSDT limit=3"
  "technical_analysis symbol=BTCUSDT"
  "binance_chart symbol=BTCUSDT limit=50"
  "search query=bitcoin"
  "fetch id=spot:BTCUSDT"
)
for call in "${calls[@]}"; do
  read -r tool args <<<"$call"
  inspect --method tools/call --tool-name "$tool" --tool-arg $args >"$out/$tool.json" 2>"$out/$tool.err"
  if [[ -n "$(problems "$out/$tool.err")" ]] || ! grep -q '"isError": false' "$out/$tool.json"; then
    cat "$out/$tool.err"; head -c 600 "$out/$tool.json"; echo; echo "$tool: warning or error" >&2; exit 1
  fi
done
echo "OK every tool called through the Inspector, no warning"
