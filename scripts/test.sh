#!/usr/bin/env bash
# Runs every test: the unit tests, then the integration tests on the release brig
# (they need root, busybox-static and iproute2; see README). Extra args go to cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
# the binary under test: built with the real release profile (LTO, abort, strip)
cargo build --release --locked -p brig
# its code layout (scripts/hot-text): applied, and not stale
scripts/hot-text/check.py "$(ls -t "${CARGO_TARGET_DIR:-target}"/release/build/brig-*/out/brig.map | head -n 1)"
export BRIG_BIN="${BRIG_BIN:-$PWD/target/release/brig}"
# the test binaries: release optimisation without LTO, in their own target dir so
# they never replace the brig above and each links in seconds
export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
CARGO_TARGET_DIR=target/test cargo test --workspace --release --locked --no-fail-fast "$@"
# The engines end to end: containerd, Docker and Podman driving this brig on the
# microblog image (built once and cached in /var/cache/brig-e2e). BRIG_SKIP_E2E=1 skips.
if [[ -z ${BRIG_SKIP_E2E:-} ]]; then
  integration-tests/e2e/run.sh "$BRIG_BIN"
fi
