#!/usr/bin/env bash
# Regenerates runtime-bin/hot-text.ld: which of brig's functions go first in
# its code. Run it (as root, on a machine like CI's) after a toolchain or
# dependency update, or a change to the commands' hot paths, and commit the
# result with the RSS numbers of benches/README.md.
#
# Why: every file-backed page fault maps the whole 64 KiB fault-around window
# around it, so a process's resident code is the number of windows its
# functions are spread over, not their size. See benches/README.md.
#
# How: the release build's link map (see runtime-bin/build.rs) gives every
# function's section and address; gdb puts a one-shot breakpoint on each and
# runs brig's commands on a busybox bundle, one process per trace; order.py
# groups the functions by which processes entered them. Needs gdb, jq, busybox-static (apt-get install gdb jq
# busybox-static) and the default linker of Rust >= 1.90 (rust-lld).
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ $(id -u) == 0 ]] || { echo "profile.sh: run as root" >&2; exit 1; }
for tool in gdb jq busybox python3; do
  command -v "$tool" >/dev/null || { echo "profile.sh: $tool not found" >&2; exit 1; }
done

work=$(mktemp -d /tmp/brig-hot-text.XXXXXX)
BRIG=$(realpath "${CARGO_TARGET_DIR:-target}")/release/brig
root=$work/state
cleanup() {
  for id in hot-run hot-init hot-c hot-e; do
    "$BRIG" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

cargo build --release -p brig
# build.rs has lld write the link map into the build script's OUT_DIR.
map=$(ls -t "${CARGO_TARGET_DIR:-target}"/release/build/brig-*/out/brig.map | head -n 1)
python3 scripts/hot-text/sections.py "$map" > "$work/sections"

bundle() { # DIR ARGS_JSON: a busybox bundle with the default spec
  mkdir -p "$1/rootfs/bin"
  cp "$(command -v busybox)" "$1/rootfs/bin/busybox"
  for a in true sleep sh; do ln -sf busybox "$1/rootfs/bin/$a"; done
  "$BRIG" spec --bundle "$1"
  jq ".process.terminal = false | .process.args = $2" "$1/config.json" > "$1/c.json"
  mv "$1/c.json" "$1/config.json"
}
bundle "$work/true" '["/bin/true"]'
bundle "$work/sleep" '["/bin/sleep", "100"]'

trace() { # NAME FOLLOW ARGS...: one traced brig process
  local name=$1 follow=$2
  shift 2
  HOT_SECTIONS=$work/sections HOT_OUT=$work/trace/$name HOT_FOLLOW=$follow \
    gdb -q -batch -x scripts/hot-text/trace.py --args "$BRIG" "$@" </dev/null >"$work/gdb.log" 2>&1 \
    || { cat "$work/gdb.log" >&2; exit 1; }
  [[ -s $work/trace/$name ]] || { cat "$work/gdb.log" >&2; echo "profile.sh: empty trace $name" >&2; exit 1; }
  echo "traced $name: $(wc -l < "$work/trace/$name") functions"
}
mkdir -p "$work/trace"
# Most important first: run's parent sets brig's peak RSS.
trace 01-run parent --root "$root" run --bundle "$work/true" hot-run
trace 02-version parent --version
trace 03-init child --root "$root" run --bundle "$work/true" hot-init
trace 04-create parent --root "$root" create --bundle "$work/true" --pid-file "$work/pid" hot-c
trace 05-state parent --root "$root" state hot-c
trace 06-start parent --root "$root" start hot-c
trace 07-delete parent --root "$root" delete hot-c
"$BRIG" --root "$root" run --detach --bundle "$work/sleep" hot-e
trace 08-exec parent --root "$root" exec hot-e /bin/true
trace 09-list parent --root "$root" list
trace 10-kill parent --root "$root" kill hot-e KILL

python3 scripts/hot-text/order.py "$work"/trace/* > runtime-bin/hot-text.ld
echo "wrote runtime-bin/hot-text.ld; relinking brig with it"
cargo build --release -p brig
