#!/usr/bin/env bash
# Benchmark: authenticated `tools/list` on the Redis store vs the memory
# store, same binary, same run. Starts its own redis-server (loopback, no
# persistence) and two servers; wrk runs are bounded and alternate between
# the two so that noise from other processes hits both alike.
# Target: Redis within 25 % of memory (req/s). Exits 1 past it.
#
# Usage: bash bench/store.sh [seconds-per-run]   (env BENCH_PORT, CONNECTIONS)
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
PORT="${BENCH_PORT:-18890}"
CONNECTIONS="${CONNECTIONS:-32}"
BIN=target/release/crypto-mcp
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
command -v redis-server >/dev/null || { apt-get update -qq && apt-get install -y -qq redis-server; }
cargo build --release --quiet --bin crypto-mcp

work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
REDIS_PORT=$((PORT + 2))
redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no --dir "$work" \
  --loglevel warning >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && break; sleep 0.05; done

PASSWORD="bench-$(head -c 12 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
start() { # port, extra flags...
  local port=$1; shift
  PUBLIC_URL="http://127.0.0.1:$port" MCP_USERS="bench:$PASSWORD" RUST_LOG=warn \
    "$BIN" --host 127.0.0.1 --port "$port" \
    --binance-base-url http://127.0.0.1:9 --binance-futures-base-url http://127.0.0.1:9 "$@" >/dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" && return; sleep 0.05; done
  echo "server on $port did not start" >&2; exit 1
}
MEM=$PORT RED=$((PORT + 1))
start "$MEM"
start "$RED" --store "redis://127.0.0.1:$REDIS_PORT/"

script() { # base URL → wrk Lua with a fresh token for it
  local token
  token=$(bash bench/token.sh "$1" bench "$PASSWORD")
  sed "s|^wrk.body|wrk.headers[\"Authorization\"] = \"Bearer $token\"\nwrk.body|" bench/tools_list.lua >"$2"
  [[ $(curl -s -o /dev/null -w '%{http_code}' -X POST "$1/mcp" -H 'content-type: application/json' \
      -H "authorization: Bearer $token" -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}') == 200 ]]
}
script "http://127.0.0.1:$MEM" "$work/mem.lua"
script "http://127.0.0.1:$RED" "$work/redis.lua"

run() { wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$2" "$1/mcp" >"$work/out"
  awk '/Requests\/sec/ {r=$2} / 99%/ {p=$2} END {print r, p}' "$work/out"; }
wrk -t1 -c8 -d2s -s "$work/mem.lua" "http://127.0.0.1:$MEM/mcp" >/dev/null
wrk -t1 -c8 -d2s -s "$work/redis.lua" "http://127.0.0.1:$RED/mcp" >/dev/null
results=()
for round in 1 2; do
  results+=("$(run "http://127.0.0.1:$MEM" "$work/mem.lua")")
  results+=("$(run "http://127.0.0.1:$RED" "$work/redis.lua")")
done
python3 - "${results[@]}" <<'PY'
import sys
runs = [r.split() for r in sys.argv[1:]]
mem = [float(r[0]) for r in runs[0::2]]
red = [float(r[0]) for r in runs[1::2]]
for i, (m, r) in enumerate(zip(runs[0::2], runs[1::2]), 1):
    print(f"round {i}: memory {float(m[0]):.0f} req/s (p99 {m[1]})   redis {float(r[0]):.0f} req/s (p99 {r[1]})")
m, r = sum(mem) / len(mem), sum(red) / len(red)
gap = (1 - r / m) * 100
print(f"authenticated tools/list: memory {m:.0f} req/s, redis {r:.0f} req/s: redis {gap:.1f}% below memory")
sys.exit(0 if gap <= 25 else 1)
PY
