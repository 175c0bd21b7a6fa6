#!/usr/bin/env bash
# The one command that passes every test (README: "Test").
# Installs what the tests need when it is missing (Debian's Chromium for the browser
# tests, the e2e node packages), then runs the Rust suite and the browser suite.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "tests/run.sh: installing ${need_apt[*]} (Debian packages)" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  echo "tests/run.sh: installing the e2e node packages" >&2
  npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
fi

# Rust: protocol round-trips, domain scenarios, integration tests over real sockets.
cargo test --workspace --locked "$@"

# Browser: the web client in headless Chromium against a real server.
cargo build --locked -p kindred-server --bin kindred
KINDRED_BIN="$PWD/target/debug/kindred" node --test --test-concurrency=1 tests/e2e/
