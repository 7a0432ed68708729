#!/usr/bin/env bash
# Installs what the e2e checks need, from the package registries only
# (no browser downloads): Debian chromium, the MCP Python SDK, playwright-core,
# Node 22 (as the `node` npm package), the conformance suite and the MCP
# Inspector.
# Usage: tests/e2e/setup.sh [TOOLS_DIR]   (default /tmp/crypto-mcp-e2e-tools)
# Prints the environment to export for run_e2e.sh.
set -euo pipefail
TOOLS=${1:-/tmp/crypto-mcp-e2e-tools}
mkdir -p "$TOOLS"
if ! command -v chromium >/dev/null; then
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
fi
python3 -c 'import mcp' 2>/dev/null || pip install -q 'mcp>=2,<3'
if [[ ! -d "$TOOLS/pw/node_modules/playwright-core" ]]; then
  mkdir -p "$TOOLS/pw" && (cd "$TOOLS/pw" && npm init -y >/dev/null && npm install --silent playwright-core)
fi
if [[ ! -x "$TOOLS/node22/node_modules/.bin/node" ]]; then
  mkdir -p "$TOOLS/node22" && (cd "$TOOLS/node22" && npm init -y >/dev/null && npm install --silent node@22)
fi
if [[ ! -d "$TOOLS/conf/node_modules/@modelcontextprotocol/conformance" ]]; then
  mkdir -p "$TOOLS/conf" && (cd "$TOOLS/conf" && npm init -y >/dev/null &&
    npm install --silent @modelcontextprotocol/conformance@0.2.0-alpha.12)
fi
if [[ ! -d "$TOOLS/inspector/node_modules/@modelcontextprotocol/inspector" ]]; then
  mkdir -p "$TOOLS/inspector" && (cd "$TOOLS/inspector" && npm init -y >/dev/null &&
    npm install --silent @modelcontextprotocol/inspector@2.12.0)
fi
cat <<ENV
export NODE_MODULES=$TOOLS/pw CONF_DIR=$TOOLS/conf NODE=$TOOLS/node22/node_modules/.bin/node
export INSPECTOR=$TOOLS/inspector/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js
ENV
