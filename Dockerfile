# syntax=docker/dockerfile:1
# Multi-stage build: a locked release build, then a slim runtime with CA
# certificates (Binance is reached over HTTPS) where the server runs as an
# unprivileged user.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY assets assets
COPY benches benches
RUN cargo build --release --locked --bin crypto-mcp

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin crypto-mcp
COPY --from=build /src/target/release/crypto-mcp /usr/local/bin/crypto-mcp
# Platform volumes (Fly, Render) mount owned by root: the entrypoint gives the
# state file's directory to the service user, then drops to that user with
# setpriv (util-linux, already in the image) before starting the server.
RUN printf '%s\n' '#!/bin/sh' 'set -e' \
      'if [ -n "$MCP_STATE_FILE" ] && [ "$(id -u)" = 0 ]; then' \
      '  dir=$(dirname "$MCP_STATE_FILE"); mkdir -p "$dir"; chown crypto-mcp:crypto-mcp "$dir"' \
      'fi' \
      'if [ "$(id -u)" = 0 ]; then' \
      '  exec setpriv --reuid=crypto-mcp --regid=crypto-mcp --init-groups /usr/local/bin/crypto-mcp "$@"' \
      'fi' \
      'exec /usr/local/bin/crypto-mcp "$@"' \
      > /usr/local/bin/docker-entrypoint \
    && chmod 755 /usr/local/bin/docker-entrypoint
# PORT is honoured (Render and Railway set their own); HOST must be all
# interfaces inside a container.
ENV HOST=0.0.0.0 \
    PORT=8080 \
    LOG_FORMAT=json \
    RUST_LOG=info
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/docker-entrypoint"]
