#!/usr/bin/env bash
# Re-vendors TradingView Lightweight Charts from npm at the pinned version,
# or (with --check) only verifies the committed copy. Nothing is fetched at
# build time: the chart app inlines the committed file with include_str!.
#
#   bash assets/vendor/lightweight-charts/vendor.sh           # fetch + verify + copy
#   bash assets/vendor/lightweight-charts/vendor.sh --check   # verify only, offline
#
# To move to another version: change VERSION and INTEGRITY (from
# `npm view lightweight-charts@X dist.integrity`), run this, review the diff,
# then update SHA256SUMS with `sha256sum FILE LICENSE NOTICE > SHA256SUMS`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
VERSION=5.2.1
# npm's own integrity hash of the published tarball.
INTEGRITY="sha512-IVwoK1RLFiLPubaKIjNbtjWLnpPMqiABSrTay6whmNa8L1+19292VtHJ+BWyPUuLCwF0tcQlhEWd1CLB2a1nsQ=="
FILE=lightweight-charts.standalone.production.js

if [[ "${1:-}" != "--check" ]]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "lightweight-charts@$VERSION" >/dev/null)
  tarball="$work/lightweight-charts-$VERSION.tgz"
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [[ "$actual" != "$INTEGRITY" ]]; then
    echo "tarball integrity mismatch: $actual" >&2
    exit 1
  fi
  tar -xzf "$tarball" -C "$work"
  cp "$work/package/dist/$FILE" "$work/package/LICENSE" "$here/"
  # The npm package carries no NOTICE file; ours reproduces the upstream
  # repository's NOTICE, which the Apache-2.0 licence asks us to keep.
  [[ -f "$work/package/NOTICE" ]] && cp "$work/package/NOTICE" "$here/"
fi

cd "$here"
sha256sum --quiet -c SHA256SUMS
grep -q "Lightweight Charts™ v$VERSION" "$FILE" || { echo "$FILE is not v$VERSION" >&2; exit 1; }
echo "lightweight-charts $VERSION: checksums match"
