#!/usr/bin/env bash
# Builds brig, makes a busybox-static bundle in a temp dir, and runs a container
# on it that prints what it sees. Needs root, cargo, busybox-static and jq.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ $(id -u) == 0 ]] || { echo "demo.sh: run as root" >&2; exit 1; }
scripts/deps.sh
cargo build --release -p brig
BRIG=$PWD/target/release/brig
work=$(mktemp -d /tmp/brig-demo.XXXXXX)
trap '"$BRIG" --root "$work/state" delete --force demo >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

rootfs=$work/bundle/rootfs
mkdir -p "$rootfs/bin"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
  [[ $applet == busybox ]] || ln -s busybox "$rootfs/bin/$applet"
done

"$BRIG" spec --bundle "$work/bundle"
jq '.process.terminal = false
    | .hostname = "brig-demo"
    | .process.args = ["/bin/sh", "-c", "echo \"hello from brig: pid $$ on $(hostname)\"; id; ls /"]' \
  "$work/bundle/config.json" > "$work/config.json"
mv "$work/config.json" "$work/bundle/config.json"

"$BRIG" --root "$work/state" run --bundle "$work/bundle" demo
