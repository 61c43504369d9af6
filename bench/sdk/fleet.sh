#!/bin/sh
# bench/sdk/fleet.sh [COUNT]: a fleet of osap-sim devices against a fresh osapd
# (services lbs and das) on this machine, in three runs:
#   first   the first start of every device (path A: P-384 ECDH), ramped
#   storm   every device started at once, from stored state (path C)
#   restart osapd restarted under load: the devices come back by themselves
# Prints one JSON line per run (osap-sim's result plus "run"). Environment:
# OSAP_BIN (default build/bin), SEED (42), THREADS (2), SOURCES (32: the LBS
# admits 64 connections at once per source address).
set -eu
cd "$(dirname "$0")/../.."
BIN=${OSAP_BIN:-build/bin}
COUNT=${1:-1000}
SEED=${SEED:-42}
THREADS=${THREADS:-2}
SOURCES=${SOURCES:-32}

work=$(mktemp -d "${TMPDIR:-/tmp}/osap-fleet.XXXXXX")
OSAPD_PID=""
cleanup() {
    [ -n "$OSAPD_PID" ] && kill "$OSAPD_PID" 2>/dev/null && wait "$OSAPD_PID" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

ports=$(/usr/bin/python3 -c 'import socket
s=[socket.socket() for _ in range(3)]
[x.bind(("127.0.0.1",0)) for x in s]
print(" ".join(str(x.getsockname()[1]) for x in s))')
set -- $ports
LBS_PORT=$1 DAS_PORT=$2 API_PORT=$3
cat >"$work/osapd.conf" <<CONF
[osapd]
data_dir = $work/var
services = lbs, das
[lbs]
listen = 127.0.0.1
port = $LBS_PORT
[das]
listen = 127.0.0.1
port = $DAS_PORT
[api]
listen = 127.0.0.1
port = $API_PORT
CONF

start_osapd() {
    "$BIN/osapd" -c "$work/osapd.conf" >>"$work/osapd.log" 2>&1 &
    OSAPD_PID=$!
    i=0
    until /usr/bin/python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$LBS_PORT),0.2)" 2>/dev/null; do
        i=$((i + 1))
        [ $i -lt 150 ] || { echo "fleet.sh: osapd did not start" >&2; tail "$work/osapd.log" >&2; exit 1; }
        sleep 0.1
    done
}

stop_osapd() {
    kill "$OSAPD_PID"
    wait "$OSAPD_PID" || true
    OSAPD_PID=""
}

sim() {
    run=$1
    shift
    "$BIN/osap-sim" --lbs "127.0.0.1:$LBS_PORT" --count "$COUNT" --seed "$SEED" \
        --threads "$THREADS" --source-base 127.0.0.2 --source-count "$SOURCES" \
        --state-dir "$work/sim" --quiet "$@" | tail -n 1 | sed "s/^{/{\"run\":\"$run\",/"
}

mkdir -p "$work/var"
"$BIN/osap-sim" identities --count "$COUNT" --seed "$SEED" >"$work/fleet.csv"
"$BIN/osapd" device import -c "$work/osapd.conf" "$work/fleet.csv" >/dev/null
start_osapd
sim first --ramp 500 --duration 60 --event-rate 2 --report-interval 30
sim storm --storm --duration 60 --event-rate 2 --report-interval 30

# restart under load: osapd goes away 20 s into the run and comes back
sim restart --ramp 1000 --duration 70 --event-rate 6 --report-interval 10 >"$work/restart.json" &
SIM_PID=$!
sleep 20
stop_osapd
sleep 2
start_osapd
wait "$SIM_PID"
cat "$work/restart.json"
stop_osapd
