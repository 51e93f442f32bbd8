#!/bin/sh
# Runs every fuzz target for N seconds (default 20) from its committed seed
# corpus; fails on the first crash. For CI:  fuzz/smoke.sh [seconds]
#
# Only the stable toolchain exists here, so cargo-fuzz runs on it with
# RUSTC_BOOTSTRAP=1 (it needs -Z flags for the sanitizer and coverage).
# New inputs go to fuzz/target/corpus/<target>, never to the seeds; a
# crash leaves its input in fuzz/artifacts/<target>/.
set -eu
secs=${1:-20}
cd "$(dirname "$0")"
export RUSTC_BOOTSTRAP=1
targets=$(cargo fuzz list)
cargo fuzz build
mkdir -p target/logs
for t in $targets; do
    work=target/corpus/$t
    log=target/logs/$t.log
    mkdir -p "$work"
    echo "== $t: ${secs}s"
    if ! cargo fuzz run "$t" "$work" "corpus/$t" -- \
        -max_total_time="$secs" -print_final_stats=1 >"$log" 2>&1; then
        tail -n 40 "$log"
        echo "smoke: $t FAILED (log: fuzz/$log)" >&2
        exit 1
    fi
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+.*DONE)' "$log" || true
done
echo "smoke: all $(echo "$targets" | wc -w) targets ran ${secs}s each without a crash"
