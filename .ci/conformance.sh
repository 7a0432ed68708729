#!/usr/bin/env bash
# Runs the official MCP conformance suite against a locally started server
# built with the `conformance` fixtures, for both requirement sets.
# Installs Node 22 and the suite from npm into .ci/cache (the machine's own
# Node is too old for the suite).
set -euo pipefail
cd "$(dirname "$0")/.."

SUITE_VERSION="0.2.0-alpha.12"
CACHE=.ci/cache
PORT="${CONFORMANCE_PORT:-18765}"
mkdir -p "$CACHE/node22" "$CACHE/suite" "$CACHE/results"

if [ ! -x "$CACHE/node22/node_modules/.bin/node" ]; then
  (cd "$CACHE/node22" && npm init -y >/dev/null && npm install --no-audit --no-fund node@22 >/dev/null)
fi
if [ ! -f "$CACHE/suite/node_modules/@modelcontextprotocol/conformance/dist/index.js" ]; then
  (cd "$CACHE/suite" && npm init -y >/dev/null && npm install --no-audit --no-fund "@modelcontextprotocol/conformance@$SUITE_VERSION" >/dev/null)
fi
NODE="$PWD/$CACHE/node22/node_modules/.bin/node"
SUITE="$PWD/$CACHE/suite/node_modules/@modelcontextprotocol/conformance/dist/index.js"
"$NODE" --version

cargo build --quiet --features conformance --bin crypto-mcp --example fake_binance
# The suite reads our market resources too: serve them from the fake
# Binance on loopback, never from the internet.
FAKE_PORT=$((PORT + 1))
./target/debug/examples/fake_binance --port "$FAKE_PORT" >"$CACHE/results/fake-binance.log" 2>&1 &
FAKE=$!
./target/debug/crypto-mcp --host 127.0.0.1 --port "$PORT" --auth none \
  --binance-base-url "http://127.0.0.1:$FAKE_PORT" \
  --binance-futures-base-url "http://127.0.0.1:$FAKE_PORT" >"$CACHE/results/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER $FAKE 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

status=0
for requirements in 2025-11-25 2026-07-28; do
  echo "== conformance --requirements $requirements"
  log="$CACHE/results/$requirements.log"
  set +e
  "$NODE" "$SUITE" server \
    --url "http://127.0.0.1:$PORT/mcp" \
    --requirements "$requirements" \
    --expected-failures conformance/expected-failures.yaml \
    -o "$CACHE/results/$requirements" >"$log" 2>&1
  rc=$?
  set -e
  sed -n '/=== SUMMARY ===/,$p' "$log"
  if [ "$rc" -ne 0 ]; then
    echo "conformance $requirements: FAILED (exit $rc)"
    status=1
  else
    echo "conformance $requirements: passed (expected failures excluded)"
  fi
done
exit $status
