#!/usr/bin/env bash
# Reproduces the benchmark table of issue #4 (BENCHMARKS.md).
#
# Builds release binaries, then for each scenario and each of $RUNS runs: starts a
# fresh server pinned to core $SERVER_CORE, runs kindred-loadtest pinned to core
# $LOADTEST_CORE with --server-pid (server CPU µs per delivery, RSS per member),
# stops the server. Results go to $OUT: results.jsonl (every JSON line), one
# .txt (summary) and .progress (per-second progress) file per run, server logs, and
# summary.md with the medians.
#
#   loadtest/bench.sh                                  # all scenarios, 3 runs each
#   SCENARIOS="evening saturation" RUNS=1 loadtest/bench.sh
#   LOADTEST_ARGS="--duration 20" loadtest/bench.sh    # extra flags for every run
#   SKIP_BUILD=1 loadtest/bench.sh                     # use the binaries already built
#
# Traffic stays on 127.0.0.1. Every run is bounded by the load tester's own plan
# (it stops by itself) and by `timeout` here as a backstop.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${RUNS:-3}"
SCENARIOS="${SCENARIOS:-idle evening saturation large-room two-instances slow-readers churn}"
PORT="${PORT:-18080}"
REDIS_PORT="${REDIS_PORT:-16379}"
SERVER_CORE="${SERVER_CORE:-0}"
LOADTEST_CORE="${LOADTEST_CORE:-1}"
RUN_TIMEOUT="${RUN_TIMEOUT:-900}"
LOADTEST_ARGS="${LOADTEST_ARGS:-}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="${OUT:-$ROOT/target/bench/$(date +%Y%m%d-%H%M%S)}"
TOKEN="bench-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"
SECRET="bench-secret-$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')"

mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
echo "bench: results in $OUT"

# SKIP_BUILD=1 uses the binaries already in $TARGET_DIR/release.
if [ -z "${SKIP_BUILD:-}" ]; then
    (cd "$ROOT" && cargo build --release -p kindred-server -p kindred-loadtest)
fi
SERVER_BIN="$TARGET_DIR/release/kindred"
LOADTEST_BIN="$TARGET_DIR/release/kindred-loadtest"

# Processes this script started, so that only those are stopped.
STARTED=()
cleanup() {
    for pid in "${STARTED[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
}
trap cleanup EXIT

# The benchmarks measure the fan-out path, not the flood limits: every run moves the
# server's per-IP join limit, per-member message and frame rates and connection cap
# out of the way (15,000 members join from 127.0.0.x; a saturation sender posts 40/s).
# Environment variables rather than flags, so that a server without one of these
# knobs still starts. Override any of them from the calling environment.
export KINDRED_MAX_CONNECTIONS="${KINDRED_MAX_CONNECTIONS:-20000}"
export KINDRED_JOINS_PER_MINUTE_PER_IP="${KINDRED_JOINS_PER_MINUTE_PER_IP:-1000000}"
export KINDRED_MESSAGES_PER_MINUTE="${KINDRED_MESSAGES_PER_MINUTE:-1000000}"
export KINDRED_MESSAGE_BURST="${KINDRED_MESSAGE_BURST:-1000}"
export KINDRED_FRAMES_PER_SECOND="${KINDRED_FRAMES_PER_SECOND:-1000}"
export KINDRED_FRAME_BURST="${KINDRED_FRAME_BURST:-2000}"

# Load tester flags a scenario needs beyond its preset.
loadtest_flags() {
    case "$1" in
        # 15,000 connections: spread over four source addresses for port headroom.
        idle) echo "--source-count 4" ;;
        *) echo "" ;;
    esac
}

# start_server PORT LOG [FLAGS...] -> prints the pid
start_server() {
    local port="$1" log="$2"
    shift 2
    taskset -c "$SERVER_CORE" "$SERVER_BIN" --bind "127.0.0.1:$port" --admin-token "$TOKEN" \
        --secret "$SECRET" --demo-room false "$@" >"$log" 2>&1 &
    echo $!
}

# wait_ready PORT PID: up to 10 s for /healthz; fails if the process died.
wait_ready() {
    local port="$1" pid="$2"
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 1
        curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

stop_pid() {
    local pid="$1"
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

pending() {
    echo "{\"kind\":\"pending\",\"preset\":\"$1\",\"reason\":\"$2\"}" >>"$RESULTS"
    echo "bench: $1 pending: $2"
}

FAILED=0
for scenario in $SCENARIOS; do
    for run in $(seq "$RUNS"); do
        tag="$scenario-$run"
        pids=()
        redis_pid=""
        if [ "$scenario" = "two-instances" ]; then
            redis_url="${REDIS_URL:-}"
            if [ -z "$redis_url" ]; then
                if ! command -v redis-server >/dev/null; then
                    pending "$scenario" "no REDIS_URL and no redis-server"
                    break
                fi
                taskset -c "$SERVER_CORE" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
                    --save '' --appendonly no >"$OUT/$tag.redis.log" 2>&1 &
                redis_pid=$!
                STARTED+=("$redis_pid")
                sleep 0.5
                redis_url="redis://127.0.0.1:$REDIS_PORT"
            fi
            ok=1
            for i in 0 1; do
                p=$(start_server $((PORT + i)) "$OUT/$tag.server$i.log" --redis-url "$redis_url")
                STARTED+=("$p")
                pids+=("$p")
                wait_ready $((PORT + i)) "$p" || ok=0
            done
            if [ "$ok" = 0 ]; then
                for p in "${pids[@]}"; do stop_pid "$p"; done
                [ -n "$redis_pid" ] && stop_pid "$redis_pid"
                pending "$scenario" "the server did not start with a Redis URL (see $tag.server0.log)"
                break
            fi
            urls="http://127.0.0.1:$PORT,http://127.0.0.1:$((PORT + 1))"
        else
            p=$(start_server "$PORT" "$OUT/$tag.server.log")
            STARTED+=("$p")
            pids+=("$p")
            if ! wait_ready "$PORT" "$p"; then
                echo "bench: server did not start for $tag (see $OUT/$tag.server.log)" >&2
                stop_pid "$p"
                FAILED=1
                continue
            fi
            urls="http://127.0.0.1:$PORT"
        fi
        server_pids=$(
            IFS=,
            echo "${pids[*]}"
        )
        echo "bench: $tag (server pid $server_pids)"
        status=0
        # shellcheck disable=SC2046,SC2086
        timeout "$RUN_TIMEOUT" taskset -c "$LOADTEST_CORE" "$LOADTEST_BIN" \
            --preset "$scenario" --url "$urls" --admin-token "$TOKEN" \
            --server-pid "$server_pids" --label "$tag" --json-out "$RESULTS" \
            $(loadtest_flags "$scenario") $LOADTEST_ARGS >"$OUT/$tag.txt" 2>"$OUT/$tag.progress" || status=$?
        grep -v '^{' "$OUT/$tag.txt" | head -3 || true
        if [ "$status" != 0 ]; then
            echo "bench: $tag exited $status (see $OUT/$tag.txt)" >&2
            FAILED=1
        fi
        for p in "${pids[@]}"; do stop_pid "$p"; done
        [ -n "$redis_pid" ] && stop_pid "$redis_pid"
    done
done

# Medians over the runs, as a Markdown table.
if command -v python3 >/dev/null; then
    python3 - "$RESULTS" >"$OUT/summary.md" <<'PY'
import collections, json, statistics, sys

runs, steps, pending = collections.defaultdict(list), collections.defaultdict(list), {}
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d["kind"] == "run":
        runs[d["preset"]].append(d)
    elif d["kind"] == "step":
        steps[(d["preset"], d["rate_per_room"])].append(d)
    elif d["kind"] == "pending":
        pending[d["preset"]] = d["reason"]

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

def fmt(x, p=2):
    return "-" if x is None else f"{x:.{p}f}"

def cpu(d, key):
    c = d.get("server_cpu") or {}
    return c.get(key)

print("| scenario | runs ok | members | deliveries/s | p50 ms | p99 ms | p99.9 ms | max ms | lost | server CPU | µs/delivery | RSS/member KiB | server RSS max MiB |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for preset, rs in runs.items():
    mem = [r.get("server_memory") or {} for r in rs]
    print("| " + " | ".join([
        preset,
        f"{sum(r['ok'] for r in rs)}/{len(rs)}",
        str(rs[0]["config"]["members"]),
        fmt(med([r["deliveries_per_s"] for r in rs]), 0),
        fmt(med([r["latency"]["p50_ms"] for r in rs]), 3),
        fmt(med([r["latency"]["p99_ms"] for r in rs]), 3),
        fmt(med([r["latency"]["p999_ms"] for r in rs]), 3),
        fmt(med([r["latency"]["max_ms"] for r in rs]), 1),
        str(max(r["loss"]["lost_messages"] + r["loss"]["timeline_gaps"] + r["loss"]["tail_missing"] for r in rs)),
        fmt(med([cpu(r, "share") and cpu(r, "share") * 100 for r in rs]), 1) + "%",
        fmt(med([cpu(r, "us_per_delivery") for r in rs])),
        fmt(med([m.get("rss_per_member_kib") for m in mem])),
        fmt(med([m.get("rss_kib_max") and m["rss_kib_max"] / 1024 for m in mem]), 1),
    ]) + " |")
for preset, reason in pending.items():
    if preset not in runs:
        print(f"| {preset} | pending: {reason} | | | | | | | | | | | |")

if steps:
    print()
    print("| step (msg/s/room) | deliveries/s | p50 ms | p99 ms | max ms | gaps | server CPU | µs/delivery | load tester CPU |")
    print("|---|---|---|---|---|---|---|---|---|")
    for (preset, rate), ss in sorted(steps.items()):
        print("| " + " | ".join([
            f"{preset} {rate:g}",
            fmt(med([s["deliveries_per_s"] for s in ss]), 0),
            fmt(med([s["latency"]["p50_ms"] for s in ss]), 3),
            fmt(med([s["latency"]["p99_ms"] for s in ss]), 3),
            fmt(med([s["latency"]["max_ms"] for s in ss]), 1),
            str(max(s["timeline_gaps"] for s in ss)),
            fmt(med([cpu(s, "share") and cpu(s, "share") * 100 for s in ss]), 1) + "%",
            fmt(med([cpu(s, "us_per_delivery") for s in ss])),
            fmt(med([(s.get("loadtest_cpu") or {}).get("share", 0) * 100 for s in ss]), 1) + "%",
        ]) + " |")
PY
    cat "$OUT/summary.md"
fi
echo "bench: done; results in $OUT"
exit "$FAILED"
