#!/usr/bin/env bash
# LBS throughput against its crypto bound: starts osapd (service lbs) on free ports
# with N provisioned devices, drives full path-A handshakes at it with
# osap-lbs-load for a fixed window, then runs `openssl speed ecdhp384` on all cores
# for as long in the same run. With the server key reused (ecdh_key_uses > 1) the
# LBS does one P-384 key agreement per handshake, so ecdhp384 op/s is the bound;
# the ratio says how close osapd gets. openssl runs before and after each load
# window and the mean of the two is that run's bound, since the capacity of a
# shared machine drifts. Several runs; medians are reported, as a table and, as
# the last line, one JSON object.
#
# It builds nothing: it uses the programs of an existing build (OSAP_BIN, default
# build/bin of this tree).
#
# usage: bench/lbs/run.sh [options]
#   --runs N           runs (default 5)
#   --duration S       measured window of each run, and of openssl speed (default 10)
#   --warmup S         load before the window (default 2)
#   --devices N        provisioned devices (default 1000)
#   --concurrency N    handshakes under way at once (default 64)
#   --src-addrs N      127.0.0.x source addresses of the generator (default 64)
#   --key-uses N       [lbs] ecdh_key_uses (default 64)
#   --workers N        [osapd] worker_threads (default 0 = one per core)
#   --raw FILE         also keep every run's JSON lines in FILE
#   --quick            a short smoke run: 1 run, 100 devices, 1-second windows
# environment: OSAP_BIN (directory of osapd and osap-lbs-load), OPENSSL (openssl).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${OSAP_BIN:-$root/build/bin}
openssl=${OPENSSL:-openssl}
cmdline="bench/lbs/run.sh${*:+ $*}"

runs=5 duration=10 warmup=2 devices=1000 concurrency=64 src_addrs=64 key_uses=64 workers=0
raw=""
die() { echo "run.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --runs) runs=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --devices) devices=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --src-addrs) src_addrs=$2; shift 2 ;;
    --key-uses) key_uses=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --raw) raw=$2; shift 2 ;;
    --quick) runs=1 duration=1 warmup=0.5 devices=100 concurrency=16; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
done

load=$bin/osap-lbs-load
[ -x "$bin/osapd" ] || die "$bin/osapd not found: build the tree first (make), or set OSAP_BIN"
[ -x "$load" ] || die "$load not found: build the tree first (make), or set OSAP_BIN"
"$bin/osapd" --list-services | grep -qx lbs || die "this build of osapd has no LBS service"
command -v "$openssl" >/dev/null || die "openssl not found"
cores=$(nproc)

work=$(mktemp -d "${TMPDIR:-/tmp}/osap-bench-lbs.XXXXXX")
pid=""
cleanup() {
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; wait "$pid" || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$work/osapd.conf" <<CONF
[osapd]
data_dir = $work/var
services = lbs
log_level = warn
worker_threads = $workers

[lbs]
listen = 127.0.0.1
port = $port
ecdh_key_uses = $key_uses
max_connections = 20000
stats_interval = 0
CONF

# Devices LB000000.. with one code, and one healthy DAS node row (no DAS runs).
python3 - "$work/devices.csv" "$devices" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(int(sys.argv[2])):
        f.write("LB%06d,ABCDEF\n" % i)
PY
"$bin/osapd" device import -c "$work/osapd.conf" "$work/devices.csv" >/dev/null
heartbeat() {
    python3 - "$work/var/osap.db" <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=10)
with c:
    c.execute("INSERT OR REPLACE INTO das_nodes (id, address, port, udp_port, domain,"
              " connections, last_heartbeat) VALUES ('bench-das', '127.0.0.1', 1883, 0,"
              " 'bench', 0, ?)", (int(time.time() * 1000) + 86400000,))
PY
}
heartbeat

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# openssl's agreements per second on every core: the crypto bound of one P-384
# agreement per handshake (operations per CPU second of each process, summed).
ecdh_speed() {
    "$openssl" speed -seconds "$duration" -multi "$cores" ecdhp384 2>/dev/null |
        awk '/ecdh \(nistp384\)/ {v = $NF} END {print v}' | grep . ||
        die "cannot read the output of openssl speed"
}
results="$work/results.jsonl"
: >"$results"
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
before=$(ecdh_speed)
for i in $(seq 1 "$runs"); do
    echo "run.sh: run $i of $runs: $devices devices, $concurrency at once, ${duration}s" >&2
    "$bin/osapd" -c "$work/osapd.conf" >>"$work/osapd.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 200); do
        if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then break; fi
        kill -0 "$pid" 2>/dev/null || die "osapd did not start: $(tail -5 "$work/osapd.log")"
        sleep 0.05
    done
    t0=$(cpu_ticks "$pid")
    line=$("$load" -p "$port" -n "$devices" -c "$concurrency" -w "$warmup" -d "$duration" \
        --src-addrs "$src_addrs")
    t1=$(cpu_ticks "$pid")
    kill -TERM "$pid"
    wait "$pid" || die "osapd exited with an error: $(tail -5 "$work/osapd.log")"
    pid=""
    # The bound, measured right before (speed_before, first run only: the previous
    # run's "after" serves as this run's "before") and right after the load, on the
    # same cores: the machine's capacity drifts when it is shared.
    after=$(ecdh_speed)
    [ -n "$before" ] || before=$after
    echo "{\"run\":$i,\"load\":$line,\"openssl_before\":$before,\"openssl_after\":$after,\"server_cpu_ticks\":$((t1 - t0)),\"clk_tck\":$(getconf CLK_TCK)}" >>"$results"
    before=$after
done
[ -z "$raw" ] || cp "$results" "$raw"
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

python3 - "$results" "$cmdline" "$cores" "$key_uses" "$duration" "$warmup" "$load_start" \
    "$load_end" <<'PY'
import json, statistics, sys, platform, datetime
path, cmdline, cores, key_uses, duration, warmup, load_start, load_end = sys.argv[1:9]
runs = [json.loads(l) for l in open(path)]
rows = []
for r in runs:
    ld = r["load"]
    hs = ld["handshakes_per_s"]
    bound = (r["openssl_before"] + r["openssl_after"]) / 2.0
    # osapd's CPU over warmup + window (+ the drain): an approximation
    cpu = r["server_cpu_ticks"] / r["clk_tck"] / (float(duration) + float(warmup))
    rows.append((r["run"], hs, ld["latency_ms"]["p50"], ld["latency_ms"]["p99"], ld["failed"],
                 r["openssl_before"], r["openssl_after"], bound, hs / bound if bound else 0.0,
                 ld["gen_cpu_pct"], 100.0 * cpu))
try:
    cpu_model = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                 if l.startswith("model name")][0]
except (OSError, IndexError):
    cpu_model = platform.processor() or "unknown"
print("| run | handshakes/s | p50 ms | p99 ms | failed | ecdhp384 op/s before | after "
      "| bound (mean) | ratio | generator CPU % | osapd CPU % |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print("| %d | %.0f | %.2f | %.2f | %d | %.0f | %.0f | %.0f | %.2f | %.0f | %.0f |" % r)
med = lambda k: statistics.median(x[k] for x in rows)
print("| **median** | **%.0f** | **%.2f** | **%.2f** | %d | %.0f | %.0f | **%.0f** | **%.2f** "
      "| %.0f | %.0f |" % (med(1), med(2), med(3), sum(x[4] for x in rows), med(5), med(6),
                           med(7), med(8), med(9), med(10)))
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
print("machine: %s, %s cores, Linux %s; %s; load average (1/5/15 min) at start / end: "
      "%s / %s" % (cpu_model, cores, platform.release(), now, load_start, load_end))
print(json.dumps({
    "bench": "lbs", "command": cmdline, "runs": len(rows), "cores": int(cores),
    "ecdh_key_uses": int(key_uses), "duration_s": float(duration),
    "handshakes_per_s": round(med(1), 1), "p50_ms": round(med(2), 3), "p99_ms": round(med(3), 3),
    "failed": sum(x[4] for x in rows), "openssl_ecdhp384_per_s": round(med(7), 1),
    "ratio": round(med(8), 3), "ratio_min": round(min(x[8] for x in rows), 3),
    "ratio_max": round(max(x[8] for x in rows), 3), "generator_cpu_pct": round(med(9), 1),
    "osapd_cpu_pct": round(med(10), 1), "cpu": cpu_model, "time": now,
    "loadavg_start": load_start, "loadavg_end": load_end,
}, separators=(",", ":")))
PY
