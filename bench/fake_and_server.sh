# Sourced by the market benchmarks: builds the release server and the fake
# Binance, starts both on loopback (the fake with any extra arguments given
# to start_fake_and_server), waits for them to answer, and stops them on
# exit. Sets BASE to the fake's URL.
#
#   . bench/fake_and_server.sh
#   start_fake_and_server "$FAKE_PORT" "$APP_PORT" [fake arguments...]

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -f "${LUA:-}"
}
trap cleanup EXIT INT TERM

start_fake_and_server() {
    local fake_port=$1 app_port=$2
    shift 2
    cargo build --release --quiet --bin crypto-mcp --example fake_binance
    ./target/release/examples/fake_binance --port "$fake_port" "$@" >/dev/null &
    PIDS+=($!)
    BASE="http://127.0.0.1:$fake_port"
    ./target/release/crypto-mcp --auth none --host 127.0.0.1 --port "$app_port" \
        --binance-base-url "$BASE" --binance-futures-base-url "$BASE" >/dev/null &
    PIDS+=($!)
    # Wait (bounded) for both to answer.
    for _ in $(seq 1 100); do
        if curl -fsS "http://127.0.0.1:$app_port/healthz" >/dev/null 2>&1 \
            && curl -fsS "$BASE/api/v3/ping" >/dev/null 2>&1; then
            break
        fi
        sleep 0.1
    done
    curl -fsS "http://127.0.0.1:$app_port/healthz" >/dev/null
}
