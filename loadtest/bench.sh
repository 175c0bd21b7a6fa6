#!/usr/bin/env bash
# Reproduces the benchmark table in BENCHMARKS.md.
#
# Builds release binaries, then $RUNS rounds; each round runs every scenario once, in
# order (so that scenarios compared with each other, e.g. `evening` and
# `two-instances`, are measured under the same machine state, interleaved). A run
# starts fresh processes, runs kindred-loadtest with --server-pid (server CPU µs per
# delivery, RSS per member), and stops what it started. Results go to $OUT:
# results.jsonl (every JSON line), one .txt (summary) and .progress (per-second
# progress) file per run, server logs, and summary.md with the medians.
#
#   loadtest/bench.sh                                  # all scenarios, 3 runs each
#   SCENARIOS="evening saturation" RUNS=1 loadtest/bench.sh
#   LOADTEST_ARGS="--duration 20" loadtest/bench.sh    # extra flags for every run
#   SKIP_BUILD=1 loadtest/bench.sh                     # use the binaries already built
#   SERVERS="kindred kindred:off reference" SCENARIOS=evening loadtest/bench.sh
#                                                      # Kindred ÷ the reference server
#
# SERVERS lists what each round runs every scenario against, one after the other:
# `kindred` (rooms with the server's default content policy, or LOADTEST_ARGS'
# --policy), `kindred:<policy>` (rooms created with that policy: off, flag, censor,
# hold) and `reference`, the naive axum broadcast server (`kindred-reference`, built
# with the load tester: a tokio broadcast channel per room, a task per socket, no
# history, no rules). With the reference among them, summary.md opens with Kindred ÷
# reference for CPU per delivery, p99 and memory per member, the median of the
# per-round ratios (`kindred-ratios`): runs of one round are measured back to back,
# so a ratio holds when the shared machine's load moves the absolute numbers. Every
# run is labelled `<scenario>-<server>-<round>`.
#
# Pinning on the 2-core box: every server-side process runs on core $SERVER_CORE (0)
# and the load tester alone on core $LOADTEST_CORE (1). One instance: kindred on core
# 0. Two instances: both kindred processes and redis-server ($REDIS_CORE, default the
# server core) share core 0, so the scaled-out system gets the same single core as one
# instance and the comparison shows the cost of going through Redis, not of an extra
# core; the load tester's core stays the same in both.
#
# `two-instances` starts a fresh redis-server per run on 127.0.0.1:$REDIS_PORT with
# no persistence (--save "" --appendonly no), then two kindred instances on $PORT and
# $PORT+1 with the same REDIS_URL, KINDRED_SECRET and KINDRED_ADMIN_TOKEN; the load
# tester spreads each room's members over both (--url A,B: member i goes to instance
# i mod 2, so every room of 12 has 6 members on each, and senders on both) and reads
# redis-server's CPU with --broker-pid. REDIS_URL in the calling environment points
# it at an existing Redis instead (loopback only; its CPU is then not read).
#
# Traffic stays on 127.0.0.1. Every run is bounded by the load tester's own plan
# (it stops by itself) and by `timeout` here as a backstop.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${RUNS:-3}"
SCENARIOS="${SCENARIOS:-idle evening saturation large-room two-instances slow-readers churn}"
SERVERS="${SERVERS:-kindred}"
PORT="${PORT:-18080}"
REDIS_PORT="${REDIS_PORT:-16379}"
SERVER_CORE="${SERVER_CORE:-0}"
REDIS_CORE="${REDIS_CORE:-$SERVER_CORE}"
LOADTEST_CORE="${LOADTEST_CORE:-1}"
RUN_TIMEOUT="${RUN_TIMEOUT:-900}"
LOADTEST_ARGS="${LOADTEST_ARGS:-}"
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="${OUT:-$ROOT/target/bench/$(date +%Y%m%d-%H%M%S)}"
# An existing Redis to use instead of starting one; never inherited by the
# single-instance servers.
EXTERNAL_REDIS_URL="${REDIS_URL:-}"
unset REDIS_URL
case "$EXTERNAL_REDIS_URL" in
    "" | redis://127.* | redis://*@127.* | redis://localhost[:/]* | redis://localhost) ;;
    *)
        echo "bench: REDIS_URL must be a loopback redis:// URL" >&2
        exit 2
        ;;
esac
# Every instance gets the same admin token and signing secret (through the
# environment, so they are not on any command line); the load tester reads the token
# from KINDRED_ADMIN_TOKEN too.
# (Kindred wants at least 32 bytes of each.)
KINDRED_ADMIN_TOKEN="bench-$(od -An -N16 -tx8 /dev/urandom | tr -d ' \n')"
KINDRED_SECRET="bench-secret-$(od -An -N16 -tx8 /dev/urandom | tr -d ' \n')"
export KINDRED_ADMIN_TOKEN KINDRED_SECRET

mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
echo "bench: results in $OUT"

# SKIP_BUILD=1 uses the binaries already in $TARGET_DIR/release.
if [ -z "${SKIP_BUILD:-}" ]; then
    (cd "$ROOT" && cargo build --release -p kindred-server -p kindred-loadtest)
fi
# SERVER_BIN / LOADTEST_BIN: other binaries (e.g. a server built from another commit).
SERVER_BIN="${SERVER_BIN:-$TARGET_DIR/release/kindred}"
LOADTEST_BIN="${LOADTEST_BIN:-$TARGET_DIR/release/kindred-loadtest}"
REFERENCE_BIN="${REFERENCE_BIN:-$TARGET_DIR/release/kindred-reference}"
RATIOS_BIN="${RATIOS_BIN:-$TARGET_DIR/release/kindred-ratios}"

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
# Kindred refuses a connection cap that the open-files limit cannot hold (64 spare).
MAX_CONNECTIONS=20000
NOFILE="$(ulimit -n)"
if [ "$NOFILE" != unlimited ] && [ "$((NOFILE - 64))" -lt "$MAX_CONNECTIONS" ]; then
    MAX_CONNECTIONS="$((NOFILE - 64))"
fi
export KINDRED_MAX_CONNECTIONS="${KINDRED_MAX_CONNECTIONS:-$MAX_CONNECTIONS}"
export KINDRED_MAX_CONNECTIONS_PER_IP="${KINDRED_MAX_CONNECTIONS_PER_IP:-0}"
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
        # Scenario 5 with every room's members on one instance (room r on instance
        # r mod 2), as a proxy routing by room would place them.
        two-instances-by-room) echo "--spread room" ;;
        *) echo "" ;;
    esac
}

# The load tester's preset for a scenario: its name, but for the variants of one.
preset_of() {
    case "$1" in
        two-instances-by-room) echo two-instances ;;
        *) echo "$1" ;;
    esac
}

# start_server PORT LOG [REDIS_URL] -> prints the pid. Pinned to $SERVER_CORE; with a
# Redis URL the instance uses the Redis broker. Its /metrics is on PORT+1000. With
# $SERVER set to `reference`, the reference server instead (no Redis, no metrics).
start_server() {
    local port="$1" log="$2" redis="${3:-}"
    if [ "${SERVER:-kindred}" = reference ]; then
        taskset -c "$SERVER_CORE" "$REFERENCE_BIN" --bind "127.0.0.1:$port" >"$log" 2>&1 &
    elif [ -n "$redis" ]; then
        REDIS_URL="$redis" KINDRED_METRICS_BIND="127.0.0.1:$((port + 1000))" \
            taskset -c "$SERVER_CORE" "$SERVER_BIN" --bind "127.0.0.1:$port" \
            --demo-room false >"$log" 2>&1 &
    else
        KINDRED_METRICS_BIND="127.0.0.1:$((port + 1000))" \
            taskset -c "$SERVER_CORE" "$SERVER_BIN" --bind "127.0.0.1:$port" \
            --demo-room false >"$log" 2>&1 &
    fi
    echo $!
}

# wait_ready PORT PID: up to 10 s for /readyz; fails if the process died.
wait_ready() {
    local port="$1" pid="$2"
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || return 1
        curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# start_redis LOG -> prints the pid once redis-server answers PING on 127.0.0.1
# (fails if it did not: e.g. the port is taken). No persistence by default: the
# benchmark measures the log and pub/sub, not disk writes. REDIS_PERSISTENCE="always"
# runs it with an append-only file fsynced before every answer (what
# KINDRED_REDIS_DURABILITY=fsync asks of a Redis older than 7.2), in $OUT.
start_redis() {
    local log="$1" pid persistence=(--save '' --appendonly no)
    if [ "${REDIS_PERSISTENCE:-}" = always ]; then
        persistence=(--save '' --appendonly yes --appendfsync always)
        rm -rf "$OUT/appendonlydir" # each run starts from an empty Redis
    fi
    taskset -c "$REDIS_CORE" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" \
        --protected-mode yes "${persistence[@]}" --dir "$OUT" >"$log" 2>&1 &
    pid=$!
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || return 1
        if [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; then
            echo "$pid"
            return 0
        fi
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
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
SKIP=" "
for run in $(seq "$RUNS"); do
    for scenario in $SCENARIOS; do
      for SERVER in $SERVERS; do
        case "$SKIP" in *" $scenario/$SERVER "*) continue ;; esac
        tag="$scenario-$SERVER-$run"
        pids=()
        redis_pid=""
        extra=()
        case "$SERVER" in
            kindred | reference) ;;
            kindred:*) extra+=(--policy "${SERVER#kindred:}") ;;
            *)
                echo "bench: unknown server $SERVER in SERVERS (kindred, kindred:<policy>, reference)" >&2
                exit 2
                ;;
        esac
        if [ "$(preset_of "$scenario")" = "two-instances" ] && [ "$SERVER" = reference ]; then
            pending "$scenario/$SERVER" "the reference server has no Redis broker"
            SKIP+="$scenario/$SERVER "
            continue
        fi
        if [ "$(preset_of "$scenario")" = "two-instances" ]; then
            redis_url="$EXTERNAL_REDIS_URL"
            if [ -z "$redis_url" ]; then
                if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
                    pending "$scenario" "no REDIS_URL and no redis-server"
                    SKIP+="$scenario/$SERVER "
                    continue
                fi
                if ! redis_pid=$(start_redis "$OUT/$tag.redis.log"); then
                    echo "bench: redis-server did not start for $tag (see $OUT/$tag.redis.log)" >&2
                    FAILED=1
                    continue
                fi
                STARTED+=("$redis_pid")
                redis_url="redis://127.0.0.1:$REDIS_PORT"
                # What this Redis runs with, for the record.
                redis-cli -h 127.0.0.1 -p "$REDIS_PORT" config get '*' 2>/dev/null |
                    paste - - | grep -E '^(bind|port|save|appendonly|protected-mode)\b' \
                    >"$OUT/$tag.redis.config" || true
                extra+=(--broker-pid "$redis_pid")
            fi
            ok=1
            for i in 0 1; do
                p=$(start_server $((PORT + i)) "$OUT/$tag.server$i.log" "$redis_url")
                STARTED+=("$p")
                pids+=("$p")
                wait_ready $((PORT + i)) "$p" || ok=0
            done
            if [ "$ok" = 0 ]; then
                echo "bench: an instance did not start with REDIS_URL for $tag (see $OUT/$tag.server*.log)" >&2
                for p in "${pids[@]}"; do stop_pid "$p"; done
                [ -n "$redis_pid" ] && stop_pid "$redis_pid"
                FAILED=1
                continue
            fi
            if [ -n "$redis_pid" ]; then
                # Both instances hold their two connections (commands, subscriptions).
                echo "clients $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" client list 2>/dev/null | grep -vc 'cmd=client')" \
                    >>"$OUT/$tag.redis.config" || true
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
        echo "bench: $tag (server pid $server_pids${redis_pid:+, redis-server pid $redis_pid})"
        status=0
        # shellcheck disable=SC2046,SC2086
        timeout "$RUN_TIMEOUT" taskset -c "$LOADTEST_CORE" "$LOADTEST_BIN" \
            --preset "$(preset_of "$scenario")" --url "$urls" \
            --server-pid "$server_pids" "${extra[@]}" --label "$tag" --json-out "$RESULTS" \
            $(loadtest_flags "$scenario") $LOADTEST_ARGS >"$OUT/$tag.txt" 2>"$OUT/$tag.progress" || status=$?
        grep -v '^{' "$OUT/$tag.txt" | head -3 || true
        if [ "$status" != 0 ]; then
            echo "bench: $tag exited $status (see $OUT/$tag.txt)" >&2
            FAILED=1
        fi
        # What the instances and Redis counted, for the record (not part of the
        # measurement: taken after the load tester stopped).
        if [ "$(preset_of "$scenario")" = "two-instances" ]; then
            for i in 0 1; do
                curl -sf "http://127.0.0.1:$((PORT + 1000 + i))/metrics" >"$OUT/$tag.server$i.metrics" 2>/dev/null || true
            done
            if [ -n "$redis_pid" ]; then
                redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info commandstats \
                    >"$OUT/$tag.redis.commandstats" 2>/dev/null || true
            fi
        fi
        for p in "${pids[@]}"; do stop_pid "$p"; done
        [ -n "$redis_pid" ] && stop_pid "$redis_pid"
        # The load average beside every run: the machine is shared.
        echo "{\"kind\":\"load\",\"label\":\"$tag\",\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >>"$RESULTS"
      done
    done
done

# Medians over the runs, as a Markdown table.
if command -v python3 >/dev/null; then
    python3 - "$RESULTS" >"$OUT/summary.md" <<'PY'
import collections, json, statistics, sys

runs, steps, pending, loads = collections.defaultdict(list), collections.defaultdict(list), {}, []

# A run's row: its scenario, and the server when it is not Kindred with its
# default policy (labels are <scenario>-<server>-<round>; a run without a label is
# named by its preset).
def name(d):
    parts = (d.get("label") or "").rsplit("-", 2)
    scenario, server = (parts[0], parts[1]) if len(parts) == 3 else (d["preset"], "kindred")
    return scenario if server == "kindred" else f"{scenario} · {server}"

for line in open(sys.argv[1]):
    d = json.loads(line)
    if d["kind"] == "run":
        runs[name(d)].append(d)
    elif d["kind"] == "step":
        steps[(name(d), d["rate_per_room"])].append(d)
    elif d["kind"] == "pending":
        pending[d["preset"]] = d["reason"]
    elif d["kind"] == "load":
        loads.append(d)

def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None

def fmt(x, p=2):
    return "-" if x is None else f"{x:.{p}f}"

def cpu(d, key):
    c = d.get("server_cpu") or {}
    return c.get(key)

print("| scenario | runs ok | members | deliveries/s | p50 ms | p99 ms | p99.9 ms | max ms | lost + gaps + tail | server CPU | µs/delivery | RSS/member KiB | server RSS max MiB |")
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

# Runs with a broker (--broker-pid): Redis on its own and the whole system.
brokered = {p: rs for p, rs in runs.items() if any(r.get("broker_cpu") for r in rs)}
if brokered:
    print()
    print("| scenario | servers µs/delivery | broker CPU | broker µs/message | servers + broker CPU | servers + broker µs/delivery | messages/s (deliveries ÷ room size) |")
    print("|---|---|---|---|---|---|---|")
    for preset, rs in brokered.items():
        b = [r.get("broker_cpu") or {} for r in rs]
        t = [r.get("system_cpu") or {} for r in rs]
        print("| " + " | ".join([
            preset,
            fmt(med([cpu(r, "us_per_delivery") for r in rs])),
            fmt(med([x.get("share") and x["share"] * 100 for x in b]), 1) + "%",
            fmt(med([x.get("us_per_message") for x in b])),
            fmt(med([x.get("share") and x["share"] * 100 for x in t]), 1) + "%",
            fmt(med([x.get("us_per_delivery") for x in t])),
            fmt(med([r["deliveries_per_s"] / r["config"]["room_size"] for r in rs]), 0),
        ]) + " |")

# One instance against two, from the same invocation: medians, and run by run
# (run k of each was measured back to back).
def run_no(r):
    return (r.get("label") or "").rsplit("-", 1)[-1]

for scaled in ("two-instances", "two-instances-by-room"):
  if "evening" in runs and scaled in runs:
    one, two = runs["evening"], runs[scaled]
    print()
    print(f"| p99 ms | one instance (evening) | {scaled} (Redis) | ratio |")
    print("|---|---|---|---|")
    m1 = med([r["latency"]["p99_ms"] for r in one])
    m2 = med([r["latency"]["p99_ms"] for r in two])
    print(f"| median | {fmt(m1, 3)} | {fmt(m2, 3)} | {fmt(m2 / m1 if m1 and m2 else None)}× |")
    by_run = {run_no(r): r for r in one}
    for r in two:
        o = by_run.get(run_no(r))
        if o:
            a, b = o["latency"]["p99_ms"], r["latency"]["p99_ms"]
            print(f"| run {run_no(r)} | {a:.3f} | {b:.3f} | {b / a:.2f}× |")

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

if loads:
    print()
    print("| run | load average after it (1, 5, 15 min) |")
    print("|---|---|")
    for d in loads:
        print(f"| {d['label']} | {d['loadavg']} |")
PY
    # With the reference server in the same invocation, the ratios lead.
    case " $SERVERS " in
        *" reference "*)
            if "$RATIOS_BIN" "$RESULTS" >"$OUT/ratios.md"; then
                {
                    echo "Kindred ÷ reference (median of the per-round ratios):"
                    echo
                    cat "$OUT/ratios.md"
                    echo
                    cat "$OUT/summary.md"
                } >"$OUT/summary.md.new" && mv "$OUT/summary.md.new" "$OUT/summary.md"
            fi
            ;;
    esac
    cat "$OUT/summary.md"
fi
echo "bench: done; results in $OUT"
exit "$FAILED"
