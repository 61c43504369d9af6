#!/bin/sh
# Run one libFuzzer target for a short time on a scratch copy of its seed corpus.
#   fuzz-smoke.sh BINARY SEED_DIR SECONDS
# Fails on any crash, leak, timeout or sanitizer report; the input that failed is
# kept as crash-*, leak-*, timeout-* or oom-* in the directory it was started in.
set -eu
bin=$1 seeds=$2 secs=${3:-20}
here=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/osap-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
[ -d "$seeds" ] && cp -r "$seeds"/. "$work/corpus/" 2>/dev/null || true
cd "$work"
# not exec: the trap removes the scratch corpus when the target is done
"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
  -artifact_prefix="$here/" corpus
