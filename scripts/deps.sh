#!/bin/sh
# Install, with apt-get, the Debian 12 packages that building, running and testing
# OSAP need. Idempotent and quiet: when everything is present it prints nothing.
#   scripts/deps.sh build   compilers and libraries only (what `make` needs)
#   scripts/deps.sh test    also the real peers the tests drive (default)
set -eu

want=${1:-test}

build_pkgs="build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev
  libssl-dev libuv1-dev libsqlite3-dev libcjson-dev libinih-dev libcmocka-dev
  node-llhttp"
test_pkgs="mosquitto mosquitto-clients libmosquitto-dev python3 python3-paho-mqtt
  chromium nodejs npm sqlite3 curl openssl procps iproute2"

pkgs=$build_pkgs
[ "$want" = build ] || pkgs="$pkgs $test_pkgs"

missing=""
for p in $pkgs; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *" installed") ;;
    *)
      # nodejs from another repository may provide npm itself
      if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
      missing="$missing $p" ;;
  esac
done

[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
  echo "deps: missing packages:$missing (run as root, or install them)" >&2
  exit 1
fi
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1; then
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
