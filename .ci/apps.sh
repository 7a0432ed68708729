#!/usr/bin/env bash
# The chart app (MCP Apps view) in a real browser: headless Debian Chromium
# runs it in a fake host page, under the spec's default CSP, against the
# server built from this tree and the fake Binance (loopback only).
# Screenshots, light and dark, are kept in .ci/artifacts/apps.
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="$PWD/.ci/cache/e2e"
ARTIFACTS="$PWD/.ci/artifacts/apps"
mkdir -p "$TOOLS" "$ARTIFACTS"

echo "== vendored chart library matches its checksums"
bash assets/vendor/lightweight-charts/vendor.sh --check

eval "$(bash tests/e2e/setup.sh "$TOOLS")"
export NODE_MODULES NODE
cargo build --quiet --bin crypto-mcp --example fake_binance
echo "== chart app in headless Chromium"
SERVER_BIN="$PWD/target/debug/crypto-mcp" FAKE_BIN="$PWD/target/debug/examples/fake_binance" \
  PORT="${APPS_PORT:-28831}" ARTIFACT_DIR="$ARTIFACTS" bash tests/e2e/apps/run.sh
