#!/usr/bin/env bash
# Runs the chart app's browser test: starts the fake Binance and the server
# (auth off, loopback only), then chart_app.mjs in headless Chromium.
# For CI (.ci/apps.sh) and by hand.
#
# Env: SERVER_BIN (default target/debug/crypto-mcp), FAKE_BIN (default
#      target/debug/examples/fake_binance), PORT (server, default 28831; the
#      fake Binance takes PORT+1 and the fake host page PORT+80),
#      ARTIFACT_DIR (screenshots and logs, default ./apps-artifacts),
#      NODE_MODULES (a folder with playwright-core), NODE (default node).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
SERVER_BIN=${SERVER_BIN:-target/debug/crypto-mcp}
FAKE_BIN=${FAKE_BIN:-target/debug/examples/fake_binance}
PORT=${PORT:-28831}
FAKE_PORT=$((PORT + 1))
ARTIFACT_DIR=${ARTIFACT_DIR:-$PWD/apps-artifacts}
NODE_MODULES=${NODE_MODULES:?set NODE_MODULES to a folder with playwright-core}
NODE=${NODE:-node}
mkdir -p "$ARTIFACT_DIR"

pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' EXIT
"$FAKE_BIN" --port "$FAKE_PORT" >"$ARTIFACT_DIR/fake-binance.log" 2>&1 &
pids+=($!)
"$SERVER_BIN" --host 127.0.0.1 --port "$PORT" --auth none \
  --binance-base-url "http://127.0.0.1:$FAKE_PORT" --binance-futures-base-url "http://127.0.0.1:$FAKE_PORT" \
  >"$ARTIFACT_DIR/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/healthz" &&
    curl -fsS -o /dev/null "http://127.0.0.1:$FAKE_PORT/api/v3/ping" && break
  sleep 0.1
done

# ESM resolves playwright-core from the script's own folder.
cp "$here/chart_app.mjs" "$NODE_MODULES/chart_app.mjs"
MCP_URL="http://127.0.0.1:$PORT/mcp" HOST_HTML="$here/host.html" HOST_PORT=$((PORT + 80)) \
  ARTIFACT_DIR="$ARTIFACT_DIR" "$NODE" "$NODE_MODULES/chart_app.mjs"
