#!/usr/bin/env bash
# The one command that passes every test (README: "Test").
# Installs what the tests need when it is missing (Debian's redis-server and redis-cli
# and nginx for the integration tests, which start real ones; Debian's Chromium for
# the browser tests; the e2e node packages), then runs the Rust suite and the browser
# suite.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need_apt+=(redis-tools)
# libfaketime: an instance run with a wrong clock (tests/integration/ticks_and_durability.rs).
command -v faketime >/dev/null 2>&1 || need_apt+=(faketime)
# Debian's nginx is /usr/sbin/nginx, which is often not on a normal user's PATH.
[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || need_apt+=(nginx)
# The deployment files' own checkers: `systemd-analyze verify` for the systemd unit,
# openssl for the TLS site's test certificate (tests/integration/deployment/files.rs).
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "tests/run.sh: installing ${need_apt[*]} (Debian packages)" >&2
  # The redis-server and nginx packages start system services (ports 6379 and 80)
  # from their postinst, and nginx's postinst fails the install when that start
  # fails. The tests start their own servers on free ports, so forbid service starts
  # during this install the Debian way, with a policy-rc.d that answers 101, unless
  # the machine already has one.
  policy_rc_d=/usr/sbin/policy-rc.d
  added_policy=""
  if [ ! -e "$policy_rc_d" ]; then
    printf '#!/bin/sh\n# tests/run.sh: no service starts while it installs packages\nexit 101\n' |
      $SUDO tee "$policy_rc_d" >/dev/null
    $SUDO chmod 755 "$policy_rc_d"
    added_policy=1
    trap '$SUDO rm -f "$policy_rc_d"' EXIT # also when the install fails
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  if [ -n "$added_policy" ]; then
    $SUDO rm -f "$policy_rc_d"
    trap - EXIT
  fi
fi
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
  echo "tests/run.sh: installing the e2e node packages" >&2
  npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
fi

# The `kindred` binary: the tests that kill an instance, or put nginx in front of two,
# run it as a separate process; so does the browser suite.
cargo build --locked -p kindred-server --bin kindred
export KINDRED_BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/kindred"

# Rust: protocol round-trips, domain scenarios, integration tests over real sockets
# (the in-memory broker, and the multi-instance tests on real redis-server, Redis
# Cluster and nginx), and the fault schedule (`--test faults`: 20 seeds; its own
# target, so it runs here once and not in the Redis-broker run below).
cargo test --workspace --locked "$@"

# The same integration suite once more against the Redis broker (each test server
# with a redis-server of its own): one conformance suite, both brokers. The tests
# that are about several instances ran above already.
KINDRED_TEST_BROKER=redis cargo test --locked -p kindred-tests --test integration "$@" \
  -- --skip scale_out:: --skip topology:: --skip ticks_and_durability:: --skip log_integrity:: \
  --skip liveness:: --skip outage:: --skip redis_at_rest:: --skip acknowledged:: \
  --skip metrics::members_and_rooms_summed --skip metrics::a_redis_outage

# Browser: the web client in headless Chromium against a real server.
node --test --test-concurrency=1 tests/e2e/
