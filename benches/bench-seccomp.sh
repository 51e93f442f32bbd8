#!/usr/bin/env bash
# brig against crun and runc with the Docker/Podman default seccomp profile in
# every runtime's bundle (issue 5's speed target: brig's `run` CPU at or below
# crun's). Needs root, ../shared/bench/bench-runtimes beside the checkout, and
# golang-github-containers-common (the profile). Extra args go to bench-runtimes.
#   benches/bench-seccomp.sh [-n 20] > results.md
set -euo pipefail
cd "$(dirname "$0")/.."
bench=${BENCH_RUNTIMES:-../shared/bench/bench-runtimes}
scripts/deps.sh
cargo build --release --locked -p brig >&2
exec "$bench" --spec-from "$PWD/benches/spec-with-seccomp" --only info,version,run,phases "$@" \
  crun runc brig="$PWD/target/release/brig"
