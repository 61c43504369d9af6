#!/usr/bin/env bash
# DAS vs Mosquitto: runs osap-mqtt-load against osapd's DAS and against Mosquitto on
# this machine, alternating between the two servers, several runs of each scenario,
# then prints a Markdown table (medians, osapd/Mosquitto ratios) and, as its last
# line, one JSON object with the same numbers.
#
# It builds nothing: it uses the programs of an existing build (OSAP_BIN, default
# build/bin of this tree). Each run gets a freshly started server on a free port,
# so that every memory reading starts from a clean process.
#
# usage: bench/mqtt/run.sh [options]
#   --runs N              runs per scenario and server (default 3)
#   --scenarios LIST      comma-separated: p2p,fanout,idle (default all three)
#   --servers LIST        comma-separated: mosquitto,osapd (default both; osapd is
#                         skipped with a note when its build has no DAS)
#   --threads N           generator threads (default 1)
#   --pairs N --window-p2p N           p2p shape (default 100 pairs, window 8)
#   --subscribers N --window-fanout N  fanout shape (default 1000, window 4)
#   --idle-conns N        idle connections (default 15000)
#   --warmup S --duration S            per throughput run (default 3 and 10)
#   --hold S              idle: seconds to hold the connections (default 10)
#   --osapd-set S.K=V     one more osapd setting (repeatable), e.g.
#                         --osapd-set osapd.worker_threads=1
#   --raw FILE            also keep every run's JSON line in FILE
#   --quick               a short smoke run: 1 run, small shapes, 1-second windows
# environment: OSAP_BIN (directory of osapd and osap-mqtt-load), OSAP_COMMIT (the
# commit those programs were built from, for the report; default: this tree's HEAD),
# MOSQUITTO (the broker binary, default /usr/sbin/mosquitto).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${OSAP_BIN:-$root/build/bin}
mosquitto=${MOSQUITTO:-/usr/sbin/mosquitto}
cmdline="bench/mqtt/run.sh${*:+ $*}"

runs=3 scenarios=p2p,fanout,idle servers=mosquitto,osapd threads=1
pairs=100 window_p2p=8 subscribers=1000 window_fanout=4 idle_conns=15000
warmup=3 duration=10 hold=10 settle=2 drain=5 raw="" osapd_extra=()

die() { echo "run.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --runs) runs=$2; shift 2 ;;
    --scenarios) scenarios=$2; shift 2 ;;
    --servers) servers=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --pairs) pairs=$2; shift 2 ;;
    --window-p2p) window_p2p=$2; shift 2 ;;
    --subscribers) subscribers=$2; shift 2 ;;
    --window-fanout) window_fanout=$2; shift 2 ;;
    --idle-conns) idle_conns=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --hold) hold=$2; shift 2 ;;
    --raw) raw=$2; shift 2 ;;
    --osapd-set) osapd_extra+=("$2"); shift 2 ;;
    --quick)
        runs=1 pairs=10 subscribers=20 idle_conns=200 warmup=0.3 duration=1 hold=1
        settle=0.3 drain=3
        shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
    esac
done

load=$bin/osap-mqtt-load
[ -x "$load" ] || die "$load not found: build the tree first (make), or set OSAP_BIN"

# Which servers can run here.
want_mosquitto=0 want_osapd=0 notes=()
case ",$servers," in *,mosquitto,*) want_mosquitto=1 ;; esac
case ",$servers," in *,osapd,*) want_osapd=1 ;; esac
if [ $want_mosquitto = 1 ] && [ ! -x "$mosquitto" ]; then
    notes+=("Mosquitto not run: $mosquitto not found")
    want_mosquitto=0
fi
if [ $want_osapd = 1 ]; then
    if [ ! -x "$bin/osapd" ]; then
        notes+=("osapd not run: no osapd in the build")
        want_osapd=0
    elif ! "$bin/osapd" --list-services 2>/dev/null | grep -qx das; then
        notes+=("osapd not run: this build of osapd has no DAS service yet")
        want_osapd=0
    fi
fi
order=()
[ $want_mosquitto = 1 ] && order+=(mosquitto)
[ $want_osapd = 1 ] && order+=(osapd)
[ ${#order[@]} -gt 0 ] || die "no server to run (${notes[*]:-none selected})"

# One process may open at most 20,000 files here: give the servers all of it.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt 20000 ]; then hard=20000; fi
ulimit -n "$hard"

tmp=$(mktemp -d -t osap-bench-mqtt.XXXXXX)
results=$tmp/results.jsonl
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Wait until something listens on 127.0.0.1:$1 (without connecting to it).
wait_listening() {
    local port=$1 pid=$2 _
    for _ in $(seq 1 200); do
        if ss -Hltn "sport = :$port" 2>/dev/null | grep -q .; then return 0; fi
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

start_mosquitto() {
    local port=$1 conf=$tmp/mosquitto.conf
    # Queue limits stay at their defaults (max_queued_messages 1000), like
    # osapd's: the loss counters show what each server does with QoS 1 under load
    # as it ships. set_tcp_nodelay: Mosquitto's default leaves Nagle's algorithm
    # on, which delays small packets; osapd disables it.
    cat >"$conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_connections -1
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
EOF
    "$mosquitto" -c "$conf" >>"$tmp/mosquitto.log" 2>&1 &
    server_pid=$!
}

# Settings given with --osapd-set (osapd otherwise runs with its defaults, as
# Mosquitto does), passed only when this osapd knows them (`osapd config check`
# accepts them).
osapd_parity_want=("${osapd_extra[@]}")
osapd_parity=() osapd_parity_names=()
osapd_parity_probe() {
    local s
    for s in "${osapd_parity_want[@]}"; do
        if "$bin/osapd" config check --set osapd.services=das --set "$s" >/dev/null 2>&1; then
            osapd_parity+=(--set "$s")
            osapd_parity_names+=("$s")
        else
            notes+=("osapd: setting $s refused by this build, not used")
        fi
    done
}

start_osapd() {
    local port=$1 data=$tmp/osapd-data
    rm -rf "$data"
    "$bin/osapd" --set osapd.services=das --set "osapd.data_dir=$data" \
        --set osapd.log_level=warn --set das.listen=127.0.0.1 --set "das.port=$port" \
        --set das.allow_anonymous=yes "${osapd_parity[@]}" >>"$tmp/osapd.log" 2>&1 &
    server_pid=$!
}

stop_server() {
    local _
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

gen_args() {
    case "$1" in
    p2p) echo "-s p2p -P $pairs -w $window_p2p --warmup $warmup -d $duration --drain $drain" ;;
    fanout) echo "-s fanout -S $subscribers -w $window_fanout --warmup $warmup -d $duration --drain $drain" ;;
    idle) echo "-s idle -C $idle_conns -d $hold --settle $settle" ;;
    *) die "unknown scenario $1" ;;
    esac
}

# One run: a fresh server, the generator, the server stopped.
run_one() {
    local sc=$1 srv=$2 port line
    port=$(free_port)
    "start_$srv" "$port"
    if ! wait_listening "$port" "$server_pid"; then
        echo "run.sh: $srv did not start; its log:" >&2
        tail -n 20 "$tmp/$srv.log" >&2 || true
        exit 1
    fi
    # shellcheck disable=SC2046
    line=$("$load" $(gen_args "$sc") -H 127.0.0.1 -p "$port" -t "$threads" \
        --server-pid "$server_pid" --label "$srv") || true
    stop_server
    if [ -z "$line" ]; then
        echo "run.sh: the generator printed no result ($sc against $srv)" >&2
        exit 1
    fi
    echo "$line" >>"$results"
    echo "$line" >&2
}

IFS=, read -r -a scenario_list <<<"$scenarios"
[ $want_osapd = 0 ] || osapd_parity_probe
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
for sc in "${scenario_list[@]}"; do
    gen_args "$sc" >/dev/null
    for r in $(seq 1 "$runs"); do
        for srv in "${order[@]}"; do
            echo "run.sh: $sc, run $r of $runs, $srv" >&2
            run_one "$sc" "$srv"
        done
    done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
[ -z "$raw" ] || cp "$results" "$raw"

mosq_version=$("$mosquitto" -h 2>/dev/null | head -n1 | sed -n 's/^mosquitto version //p' || true)
osapd_version=$("$bin/osapd" --version 2>/dev/null | head -n1 || true)
commit=${OSAP_COMMIT:-$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)}
note_text=$(printf '%s\n' "${notes[@]:-}")
osapd_settings="services=das, allow_anonymous"
for s in "${osapd_parity_names[@]}"; do osapd_settings+=", $s"; done


/usr/bin/python3 "$here/summarize.py" "$results" \
    --command "$cmdline" --date "$started" --nproc "$(nproc)" \
    --cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)" \
    --kernel "$(uname -r)" --load "$load_start / $load_end" \
    --mosquitto "${mosq_version:-?}" --osapd "${osapd_version:-?}" --commit "$commit" \
    --runs "$runs" --threads "$threads" --notes "$note_text" --osapd-settings "$osapd_settings"
