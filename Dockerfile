# syntax=docker/dockerfile:1
# Kindred's server as a small image: build in the full Rust image, run in Debian slim.
#   docker build -t kindred .
#   docker run -p 8080:8080 -e KINDRED_ADMIN_TOKEN=… -e KINDRED_SECRET=… kindred
# Several instances behind nginx with Redis: docker-compose.yml (README, "Deployment").

# ---- build ----
FROM rust:1-bookworm AS build
WORKDIR /src
# The whole workspace (Cargo.lock pins every dependency; .dockerignore keeps target/,
# .git and node_modules out). The web client is embedded into the binary at build time.
COPY . .
# The cache mounts keep downloaded crates and compiled dependencies between builds;
# the binary is copied out of the cached target directory in the same step.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p kindred-server --bin kindred \
    && cp target/release/kindred /usr/local/bin/kindred

# ---- run ----
FROM debian:bookworm-slim
# CA certificates for TLS to a managed Redis (rediss://).
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# Kindred needs no privileges: run as a plain user. It writes nothing to disk unless
# told to keep its catalog in a file (KINDRED_CATALOG_FILE); /var/lib/kindred is the
# place for one, owned by that user so a volume mounted there is writable.
RUN useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin kindred \
    && mkdir -p /var/lib/kindred && chown kindred:kindred /var/lib/kindred && chmod 700 /var/lib/kindred
COPY --from=build /usr/local/bin/kindred /usr/local/bin/kindred
USER kindred:kindred
# Listen on every interface of the container (the default, 127.0.0.1, is unreachable
# from outside it).
ENV KINDRED_BIND=0.0.0.0:8080
EXPOSE 8080
# Settings come from KINDRED_* environment variables (or flags after the image name).
ENTRYPOINT ["/usr/local/bin/kindred"]
