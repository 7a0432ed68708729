# syntax=docker/dockerfile:1
# Multi-stage build: a locked release build, then a slim non-root runtime
# with CA certificates (Binance is reached over HTTPS).

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
USER crypto-mcp
# PORT is honoured (Render and Railway set their own); HOST must be all
# interfaces inside a container.
ENV HOST=0.0.0.0 \
    PORT=8080 \
    LOG_FORMAT=json \
    RUST_LOG=info
EXPOSE 8080
CMD ["crypto-mcp"]
