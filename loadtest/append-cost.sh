#!/usr/bin/env bash
# What one append costs Redis, measured on Redis alone: the append script as
# server/src/broker/redis/scripts.rs holds it (at a git revision, or the work tree),
# run N times by redis-benchmark on one room, with two subscribers on the room's
# channel (two instances serving it), each run a new entry (a new idempotency mark).
# Prints Redis's CPU per call (used_cpu_user + used_cpu_sys from `INFO cpu`, before
# and after) and its own command timer (`INFO commandstats`) for the script and the
# commands it calls. No Kindred process and no load tester: the cost of the script,
# its answer and its two pushes, at about the size of a loadtest message's entry.
#
#   loadtest/append-cost.sh                 # the work tree's script, as one Redis runs it
#   REV=513c538 loadtest/append-cost.sh     # the script at a revision
#   FORM=info loadtest/append-cost.sh       # as a Cluster runs it (INFO server each call)
#   N=50000 PORT=26399 loadtest/append-cost.sh
#
# FORM: `bound` (the work tree's default on one Redis: the run_id written into the
# script) or `info` (the script reads `INFO server` each call). A revision from before
# the bound form has only its one form, which reads `INFO server`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${N:-20000}"
PORT="${PORT:-26399}"
FORM="${FORM:-bound}"
SCRIPTS=server/src/broker/redis/scripts.rs
WORK="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "${REV:-}" ]; then
    git -C "$ROOT" show "$REV:$SCRIPTS" >"$WORK/scripts.rs"
else
    cp "$ROOT/$SCRIPTS" "$WORK/scripts.rs"
fi
# The script's text, as `store` puts it together.
python3 - "$WORK/scripts.rs" "$FORM" >"$WORK/append.lua" <<'PY'
import re, sys
source = open(sys.argv[1]).read()
consts = {m.group(1): m.group(3) for m in re.finditer(
    r'pub\(super\) const (\w+): &str = r(#?)"(.*?)"\2;', source, re.S)}
if "RUN_FROM_INFO" not in consts:
    print(consts["STAMP"] + consts["APPEND"])
elif sys.argv[2] == "info":
    print(consts["STAMP"] + consts["RUN_FROM_INFO"] + consts["APPEND"])
else:
    print("local run = 'bench'\n" + consts["STAMP"] + consts["APPEND"])
PY

redis-server --bind 127.0.0.1 --port "$PORT" --save '' --appendonly no \
    --dir "$WORK" >"$WORK/redis.log" 2>&1 &
pids+=($!)
R=(redis-cli -p "$PORT")
for _ in $(seq 50); do
    [ "$("${R[@]}" ping 2>/dev/null)" = PONG ] && break
    sleep 0.1
done
room='kindred:{bench}'
"${R[@]}" hset "$room:meta" epoch 1 head 0 >/dev/null
for _ in 1 2; do
    redis-cli -p "$PORT" subscribe "$room:events" >/dev/null &
    pids+=($!)
done
for _ in $(seq 50); do
    [ "$("${R[@]}" pubsub numsub "$room:events" | tail -1)" = 2 ] && break
    sleep 0.1
done
sha=$("${R[@]}" -x script load <"$WORK/append.lua")
# A sealed entry of about a loadtest message's size.
entry='{"v":2,"k":1,"s":"'$(head -c 330 /dev/urandom | base64 -w0)'"}'
cpu() { "${R[@]}" info cpu | awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { printf "%.6f", s }'; }
"${R[@]}" config resetstat >/dev/null
before=$(cpu)
redis-benchmark -p "$PORT" -n "$N" -c 1 -r 1000000000 \
    EVALSHA "$sha" 4 "$room:meta" "$room:log" "$room:events" "$room:appended:1:__rand_int__" \
    1 "$entry" 2000 PUBLISH 0 60000 2 99999999999999 >/dev/null
after=$(cpu)
echo "append-cost: ${REV:-work tree} ($FORM), $N calls, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "redis CPU per call: $(echo "($after - $before) * 1000000 / $N" | bc -l | xargs printf '%.1f') us"
"${R[@]}" info commandstats | grep -E '^cmdstat_(evalsha|info|hget|hmget|hset|hincrby|xadd|set|get|publish):' |
    sed -E 's/^cmdstat_([a-z]+):calls=([0-9]+),usec=[0-9]+,usec_per_call=([0-9.]+).*/  \1: \2 calls, \3 us per call/'
