#!/usr/bin/env bash
# Runs brig under the real engines: `e2e/run.sh BRIG [ENGINE...]`.
# ENGINE is docker, containerd or podman (default: all three). Builds (or reuses)
# the cached microblog image first, then runs each engine's script, each in its
# own network and mount namespaces. Exits non-zero if any engine failed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
brig=$(realpath "${1:?usage: run.sh /path/to/brig [docker|containerd|podman]...}")
shift
engines=("$@")
((${#engines[@]})) || engines=(docker containerd podman)

"$here/image.sh" >/dev/null

# The engines' cgroupfs managers (docker's and containerd's at least) enable every
# available controller in the root's cgroup.subtree_control of the unified
# hierarchy (hugetlb here): put it back as it was after each engine.
subtree=/sys/fs/cgroup/unified/cgroup.subtree_control
[[ -f $subtree ]] || subtree=/sys/fs/cgroup/cgroup.subtree_control
before=$(cat "$subtree")
restore_subtree() {
  local c
  for c in $(cat "$subtree"); do
    [[ " $before " == *" $c "* ]] || echo "-$c" >"$subtree" ||
      echo "# e2e: could not disable $c again in $subtree" >&2
  done
}
failed=()
for engine in "${engines[@]}"; do
  echo "# e2e: $engine"
  start=$SECONDS
  if "$here/$engine.sh" "$brig"; then
    echo "# e2e: $engine passed in $((SECONDS - start)) s"
  else
    echo "# e2e: $engine FAILED after $((SECONDS - start)) s"
    failed+=("$engine")
  fi
  restore_subtree
done
if ((${#failed[@]})); then
  echo "# e2e: failed: ${failed[*]}" >&2
  exit 1
fi
