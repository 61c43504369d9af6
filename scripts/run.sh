#!/bin/sh
# `make run`: start the OSAP platform from this source tree, in the foreground.
#
# Uses etc/osapd.conf (data in ./var), runs the services of its [osapd] services
# list that this osapd has built in, provisions a small simulated fleet, and
# prints where to look. Ctrl-C stops everything.
#
# Environment: OSAP_BIN (default build/bin), OSAPD_CONF (default etc/osapd.conf),
# FLEET_SIZE (default 5).
set -eu

cd "$(dirname "$0")/.."
BIN=${OSAP_BIN:-build/bin}
CONF=${OSAPD_CONF:-etc/osapd.conf}
FLEET_SIZE=${FLEET_SIZE:-5}
OSAPD=$BIN/osapd

die() {
    echo "run.sh: $*" >&2
    exit 1
}

[ -x "$OSAPD" ] || die "$OSAPD is not built (run make)"
[ -r "$CONF" ] || die "cannot read $CONF"

# ini SECTION KEY: the value of KEY in [SECTION] of the INI text on standard
# input, or "-" when it is not there.
ini() {
    awk -v s="[$1]" -v k="$2" '
        { sub(/\r$/, "") }
        /^[ \t]*\[/ { t = $0; gsub(/[ \t]/, "", t); in_s = (t == s); next }
        in_s {
            line = $0
            sub(/^[ \t]+/, "", line)
            if (index(line, k) != 1) next
            rest = substr(line, length(k) + 1)
            if (rest !~ /^[ \t]*=/) next
            sub(/^[ \t]*=[ \t]*/, "", rest)
            sub(/[ \t]+;.*$/, "", rest)
            sub(/[ \t]+$/, "", rest)
            print rest
            found = 1
            exit
        }
        END { if (!found) print "-" }'
}

# get SECTION KEY: a setting of the effective configuration (services
# overridden to those that run, so that the check passes).
get() {
    "$OSAPD" config check -c "$CONF" --set "osapd.services=$RUN" | ini "$1" "$2"
}

# Which of the configured services are built into this osapd.
RUN=""
"$OSAPD" config check -c "$CONF" --set osapd.services= >/dev/null || die "$CONF is not valid"
WANTED=$(ini osapd services <"$CONF")
if [ "$WANTED" = "-" ]; then
    WANTED=$("$OSAPD" config check --defaults | ini osapd services)
fi
BUILT=$("$OSAPD" --list-services)
MISSING=""
for s in $(echo "$WANTED" | tr ',' ' '); do
    if echo "$BUILT" | grep -qx "$s"; then
        RUN="${RUN:+$RUN, }$s"
    else
        MISSING="${MISSING:+$MISSING }$s"
    fi
done

DATA_DIR=$(get osapd data_dir)
LOG_FILE=$(get osapd log_file)
mkdir -p "$DATA_DIR"
chmod 700 "$DATA_DIR"

# A small fleet in the store, also written to $DATA_DIR/fleet.csv. With osap-sim
# built, the fleet is its identities (seed FLEET_SEED), so the simulator started
# below presents exactly these devices. Idempotent: devices already there are left
# alone.
FLEET_SEED=${FLEET_SEED:-1}
provision_fleet() {
    fleet=$DATA_DIR/fleet.csv
    if [ ! -f "$fleet" ]; then
        if [ -x "$BIN/osap-sim" ]; then
            "$BIN/osap-sim" identities --count "$FLEET_SIZE" --seed "$FLEET_SEED" >"$fleet.tmp"
        else
            i=1
            : >"$fleet.tmp"
            while [ "$i" -le "$FLEET_SIZE" ]; do
                printf 'SIM%06d,SIMCODE%d,osap-sim\n' "$i" "$i" >>"$fleet.tmp"
                i=$((i + 1))
            done
        fi
        mv "$fleet.tmp" "$fleet"
    fi
    first=$(head -n 1 "$fleet" | cut -d, -f1)
    if ! "$OSAPD" device show -c "$CONF" "$first" >/dev/null 2>&1; then
        "$OSAPD" device import -c "$CONF" --skip-bad "$fleet" >/dev/null
    fi
    echo "fleet:    $(wc -l <"$fleet") devices in the store (serials and codes in $fleet)"
}

# The simulated fleet: osap-sim runs the devices of fleet.csv against the LBS,
# keeping their state (devid, master key, event queues) in $DATA_DIR/sim, so a
# second `make run` restarts them on path C. Its log and final JSON line go to
# $DATA_DIR/sim.log; it is stopped with osapd.
SIM_PID=""
start_fleet() {
    if [ ! -x "$BIN/osap-sim" ] || ! echo "$RUN" | grep -q lbs || ! echo "$RUN" | grep -q das; then
        echo "fleet:    not simulated (needs osap-sim and the lbs and das services)"
        return 0
    fi
    fleet_count=$(wc -l <"$DATA_DIR/fleet.csv")
    case $(head -n 1 "$DATA_DIR/fleet.csv") in
    SIM"$FLEET_SEED"X*) ;;
    *)
        echo "fleet:    not simulated ($DATA_DIR/fleet.csv is not osap-sim's; remove it)"
        return 0
        ;;
    esac
    lbs_addr=$(get lbs listen)
    case $lbs_addr in "" | "-" | 0.0.0.0 | "*") lbs_addr=127.0.0.1 ;; esac
    "$BIN/osap-sim" --lbs "$lbs_addr:$(get lbs port)" --count "$fleet_count" \
        --seed "$FLEET_SEED" --state-dir "$DATA_DIR/sim" --ramp 20 --quiet \
        >"$DATA_DIR/sim.log" 2>&1 &
    SIM_PID=$!
    echo "fleet:    $fleet_count simulated devices (osap-sim, pid $SIM_PID, log $DATA_DIR/sim.log)"
}

echo "OSAP from $(pwd)"
echo "config:   $CONF"
echo "data dir: $DATA_DIR (database osap.db)"
echo "log:      ${LOG_FILE:-standard error, below}"
for s in lbs das api; do
    if echo "$RUN" | grep -q "$s"; then
        addr=$(get "$s" listen)
        port=$(get "$s" port)
        case $s in
        lbs) echo "LBS:      $addr:$port (devices start here)" ;;
        das) echo "DAS:      mqtt://$addr:$port" ;;
        api) echo "console:  http://$addr:$port/  (REST API under /api/v1)" ;;
        esac
    fi
done
if [ -z "$RUN" ]; then
    echo "services: none of '$WANTED' is built yet; osapd runs without services"
elif [ -n "$MISSING" ]; then
    echo "services: $RUN (not built yet: $MISSING)"
fi
provision_fleet

# An API token for the console and osapctl, kept in $DATA_DIR/console.token
# (mode 0600) and reused by later runs; revoked and made anew when the store no
# longer has it (e.g. after the database was removed).
console_token() {
    tok=$DATA_DIR/console.token
    if [ -s "$tok" ] && "$OSAPD" token list -c "$CONF" 2>/dev/null | grep -qw make-run; then
        return 0
    fi
    "$OSAPD" token revoke -c "$CONF" --name make-run >/dev/null 2>&1 || true
    (umask 077 && "$OSAPD" token create -c "$CONF" --name make-run >"$tok.tmp" 2>/dev/null) ||
        die "cannot create an API token"
    mv "$tok.tmp" "$tok"
}
if echo "$RUN" | grep -q api; then
    console_token
    echo "token:    $(cat "$DATA_DIR/console.token")  (sign in to the console with it; also in $DATA_DIR/console.token)"
    echo "CLI:      OSAP_URL=http://$(get api listen):$(get api port) OSAP_TOKEN=\$(cat $DATA_DIR/console.token) $BIN/osapctl device list"
fi

# osapd runs in its own session, so a Ctrl-C on the terminal reaches only this
# script, which forwards it once as SIGTERM (a second Ctrl-C forwards another,
# and osapd then exits at once).
setsid "$OSAPD" -c "$CONF" --set "osapd.services=$RUN" &
OSAPD_PID=$!
# shellcheck disable=SC2317 # called by the trap
forward_stop() {
    [ -n "$SIM_PID" ] && kill -TERM "$SIM_PID" 2>/dev/null
    kill -TERM "$OSAPD_PID" 2>/dev/null || true
}
trap forward_stop INT TERM
start_fleet
echo "Stop with Ctrl-C."
# wait returns early (status > 128) when a trapped signal arrives: wait again
# until osapd itself has exited, and exit with its status.
while :; do
    status=0
    wait "$OSAPD_PID" || status=$?
    kill -0 "$OSAPD_PID" 2>/dev/null || break
done
exit "$status"
