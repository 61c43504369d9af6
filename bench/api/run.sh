#!/usr/bin/env bash
# Platform API benchmark: a fresh osapd (lbs, das, api) on free loopback ports with a
# simulated fleet (osap-sim, camera profile), then
#   1. operations: osap-api-load keeps --connections keep-alive connections, each
#      sending POST /api/v1/devices/{serial}/operations/Video/Snapshot (closed
#      loop) round robin over the fleet; every request goes API -> DAS -> device
#      and back. Round trips per second, p50/p99/max latency.
#   2. events: the same fleet raises events as fast as the DAS acknowledges them
#      (each device keeps its window of QoS 1 events in flight; a PUBACK is sent
#      only after the event's ingest transaction committed with
#      [ingest] synchronous = full). Events stored per second: the growth of the
#      newest event id (GET /api/v1/events?limit=1) over the window.
# A Markdown table, then one JSON line (the last line of the output).
#
# It builds nothing: it uses the programs of an existing build (OSAP_BIN, default
# build/bin of this tree).
#
# usage: bench/api/run.sh [--devices N] [--connections C] [--duration S]
#                         [--warmup S] [--event-rate PER_MINUTE] [--quick]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${OSAP_BIN:-$root/build/bin}
cmdline="bench/api/run.sh${*:+ $*}"

devices=100 connections=16 duration=10 warmup=2 event_rate=60000 settle=60

die() { echo "run.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --devices) devices=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --event-rate) event_rate=$2; shift 2 ;;
    --quick) devices=10 connections=4 duration=2 warmup=0.5; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
done
for p in osapd osap-sim osap-api-load; do
    [ -x "$bin/$p" ] || die "$bin/$p is not built"
done
for s in lbs das api; do
    "$bin/osapd" --list-services | grep -qx "$s" || die "osapd is built without the $s service"
done

work=$(mktemp -d "${TMPDIR:-/tmp}/osap-bench-api-XXXXXX")
osapd_pid="" sim_pid=""
cleanup() {
    [ -n "$sim_pid" ] && kill -TERM "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
    [ -n "$osapd_pid" ] && kill -TERM "$osapd_pid" 2>/dev/null && wait "$osapd_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

read -r lbs_port das_port api_port < <(python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

conf=$work/osapd.conf
cat >"$conf" <<EOF
[osapd]
data_dir = $work/var
services = lbs, das, api
log_file = $work/osapd.log
[lbs]
listen = 127.0.0.1
port = $lbs_port
[das]
listen = 127.0.0.1
port = $das_port
advertise = 127.0.0.1
[api]
listen = 127.0.0.1
port = $api_port
web_root =
[models]
models_dir =
EOF

seed=$RANDOM
"$bin/osap-sim" identities --count "$devices" --seed "$seed" --profile camera >"$work/fleet.csv"
"$bin/osapd" device import -c "$conf" "$work/fleet.csv" >/dev/null
token=$("$bin/osapd" token create -c "$conf" --name bench 2>/dev/null)
cut -d, -f1 "$work/fleet.csv" >"$work/serials"

"$bin/osapd" -c "$conf" &
osapd_pid=$!

api() { # GET a path, print the body
    python3 - "$api_port" "$token" "$1" <<'EOF'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30)
c.request("GET", sys.argv[3], headers={"Authorization": "Bearer " + sys.argv[2]})
print(c.getresponse().read().decode())
EOF
}
stat() { # a number from GET /api/v1/stats: stat devices online
    api /api/v1/stats | python3 -c "import json,sys; print(json.load(sys.stdin)['$1']['$2'])"
}
newest_event() {
    api '/api/v1/events?limit=1' |
        python3 -c "import json,sys; i=json.load(sys.stdin)['items']; print(i[0]['id'] if i else 0)"
}
wait_online() {
    local want=$1 deadline=$((SECONDS + settle)) online=0
    while [ "$SECONDS" -lt "$deadline" ]; do
        online=$(stat devices online 2>/dev/null || echo 0)
        [ "$online" -ge "$want" ] && return 0
        sleep 0.5
    done
    die "only $online of $want devices came online"
}
for _ in $(seq 100); do
    api /api/v1/health >/dev/null 2>&1 && break
    sleep 0.1
done

# 1. Operations through the API.
"$bin/osap-sim" --lbs "127.0.0.1:$lbs_port" --count "$devices" --seed "$seed" \
    --profile camera --state-dir "$work/sim" --fsync never --quiet >"$work/sim.log" 2>&1 &
sim_pid=$!
wait_online "$devices"
ops=$("$bin/osap-api-load" --port "$api_port" --token "$token" --serials "$work/serials" \
    --connections "$connections" --duration "$duration" --warmup "$warmup" | tail -n 1)
kill -TERM "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null || true
sim_pid=""

# 2. Events stored per second, durability on.
"$bin/osap-sim" --lbs "127.0.0.1:$lbs_port" --count "$devices" --seed "$seed" \
    --profile camera --state-dir "$work/sim" --fsync never --event-rate "$event_rate" --quiet \
    >"$work/sim-events.log" 2>&1 &
sim_pid=$!
wait_online "$devices"
sleep "$warmup"
c0=$(newest_event)
t0=$(date +%s.%N)
sleep "$duration"
c1=$(newest_event)
t1=$(date +%s.%N)
kill -TERM "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null || true
sim_pid=""
batches=$(stat ingest batches)

python3 - "$ops" "$c0" "$c1" "$t0" "$t1" "$batches" "$devices" "$connections" "$cmdline" <<'EOF'
import json, sys, time
ops = json.loads(sys.argv[1])
c0, c1, t0, t1 = int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
events = (c1 - c0) / (t1 - t0)
print("| Measure | Value |")
print("|---|---|")
print("| Operation round trips per second (API -> DAS -> device -> API) | %.0f |" % ops["rps"])
print("| Operation latency p50 / p99 / max (ms) | %.2f / %.2f / %.2f |"
      % (ops["p50_ms"], ops["p99_ms"], ops["max_ms"]))
print("| Operations answered with an error | %d of %d |" % (ops["errors"], ops["requests"]))
print("| Events stored per second (synchronous = full) | %.0f |" % events)
print()
print(json.dumps({"bench": "api", "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                  "command": sys.argv[9], "devices": int(sys.argv[7]),
                  "connections": int(sys.argv[8]), "ops_per_s": round(ops["rps"], 1),
                  "ops_p50_ms": ops["p50_ms"], "ops_p99_ms": ops["p99_ms"],
                  "ops_max_ms": ops["max_ms"], "ops_requests": ops["requests"],
                  "ops_errors": ops["errors"], "ops_status": ops["status"],
                  "events_per_s": round(events, 1), "events_stored": c1 - c0,
                  "ingest_batches_total": int(sys.argv[6])}, separators=(",", ":")))
EOF
