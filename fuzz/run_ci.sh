#!/bin/sh
# fuzz/run_ci.sh HARNESS SECONDS WORKDIR CORPUS_DIR... — one short libFuzzer
# run for CTest: mutates from the seed corpora (read-only) into WORKDIR and
# fails on any crash. Prints libFuzzer's final stats line.
set -eu
harness=$1 seconds=$2 work=$3
shift 3
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cd "$work"
# The harness's files live in memory; a crashing harness cannot remove them.
shm=$(mktemp -d /dev/shm/tlspin-fuzz-ci.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$shm"' EXIT
export TLSPIN_FUZZ_WORKDIR="$shm"
status=0
"$harness" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
  "$work/corpus" "$@" >"$work/log" 2>&1 || status=$?
grep -E '^(#[0-9]+.*DONE|Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss)' \
  "$work/log" || true
if [ "$status" != 0 ]; then
  tail -n 80 "$work/log"
  echo "fuzz: $(basename "$harness") failed (exit $status); input in $work/artifacts/" >&2
  exit 1
fi
