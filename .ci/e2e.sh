#!/usr/bin/env bash
# Real clients against the real server with OAuth on: the official Python
# SDK (DCR + PKCE + login, then tools; also through 127.0.0.1 and localhost
# with no PUBLIC_URL), the MCP Inspector CLI signing in, headless Chromium
# on the server's page and through the sign-in page (screenshots kept in
# .ci/artifacts), a restart with the state file, the conformance suite's
# `authorization` command, the Inspector calling every tool with no
# warning, and two instances on one Redis behind a round-robin proxy.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="$PWD/.ci/cache/e2e"
ARTIFACTS="$PWD/.ci/artifacts"
mkdir -p "$TOOLS" "$ARTIFACTS"
eval "$(bash tests/e2e/setup.sh "$TOOLS")"
export NODE_MODULES CONF_DIR NODE INSPECTOR

cargo build --quiet --bin crypto-mcp --example fake_binance
# The signed-in clients only list tools and call `calculate`; point Binance
# at a closed loopback port so nothing could ever leave the machine (the
# Inspector's tool calls get the fake Binance on loopback).
export BINANCE_BASE_URL=http://127.0.0.1:9 BINANCE_FUTURES_BASE_URL=http://127.0.0.1:9
SERVER_BIN="$PWD/target/debug/crypto-mcp" FAKE_BIN="$PWD/target/debug/examples/fake_binance" \
  ARTIFACT_DIR="$ARTIFACTS" bash tests/e2e/run_e2e.sh
echo "screenshots: $ARTIFACTS/mcp-page.png (the server's page), $ARTIFACTS/authorize-page.png (sign-in)"
echo "== two instances on one Redis behind a round-robin proxy"
SERVER_BIN="$PWD/target/debug/crypto-mcp" ARTIFACT_DIR="$ARTIFACTS/two-instances" \
  PORT=$((${PORT:-28731} + 20)) bash tests/e2e/two_instances.sh
