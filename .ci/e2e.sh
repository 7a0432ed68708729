#!/usr/bin/env bash
# Real clients against the real server with OAuth on: the official Python
# SDK (DCR + PKCE + login, then tools), headless Chromium through the
# sign-in page (screenshot kept in .ci/artifacts), a restart with the state
# file, the conformance suite's `authorization` command, and two instances
# on one Redis behind a round-robin proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="$PWD/.ci/cache/e2e"
ARTIFACTS="$PWD/.ci/artifacts"
mkdir -p "$TOOLS" "$ARTIFACTS"
eval "$(bash tests/e2e/setup.sh "$TOOLS")"
export NODE_MODULES CONF_DIR NODE

cargo build --quiet
# The e2e clients only list tools and call `calculate`; point Binance at a
# closed loopback port so nothing could ever leave the machine.
export BINANCE_BASE_URL=http://127.0.0.1:9 BINANCE_FUTURES_BASE_URL=http://127.0.0.1:9
SERVER_BIN="$PWD/target/debug/crypto-mcp" ARTIFACT_DIR="$ARTIFACTS" bash tests/e2e/run_e2e.sh
echo "sign-in page screenshot: $ARTIFACTS/authorize-page.png"
echo "== two instances on one Redis behind a round-robin proxy"
SERVER_BIN="$PWD/target/debug/crypto-mcp" ARTIFACT_DIR="$ARTIFACTS/two-instances" \
  PORT=$((${PORT:-28731} + 20)) bash tests/e2e/two_instances.sh
