#!/usr/bin/env bash
# The cgroup v2 LIMITS part of podman.sh, run inside vm-run's guest (pure cgroup v2,
# every controller enabled): podman run --memory/--pids-limit, podman update, and
# podman's default pids limit. The guest is emulated and slow: one guest run, few
# podman calls, a busybox image, no network (--network none).
#
#   podman-vm.sh /abs/path/to/brig /tmpfs/dir      (called by podman.sh through vm-run)
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=podman.sh
source "$HERE/podman.sh"

REAL_BRIG=$1 T=$2
BB=localhost/brig-e2e-busybox:latest
# A wrapper named brig (so podman's runtime name, and runtime_supports_json, still
# match) records every call, to show that `podman update` went through `brig update`.
mkdir -p "$T/bin" /run/brig "$T/cni" "$T/libpod-tmp"
printf '#!/bin/sh\necho "$*" >>%s/brig-calls.log\nexec %s "$@"\n' "$T" "$REAL_BRIG" >"$T/bin/brig"
chmod +x "$T/bin/brig"
BRIG=$T/bin/brig
CGP=/brig-e2e-podman
write_configs 2048
make_busybox_tar "$T"
check "vm: import busybox image" pm import "$T/busybox.tar" "$BB"

cg_of() { echo "/sys/fs/cgroup$(pm inspect --format '{{.State.CgroupPath}}' "$1")"; }
run_bb() { pm run -d --network none --cgroup-parent "$CGP" "$@" "$BB" sleep 1000; }

if run_bb --name dflt >/dev/null; then
  v=$(cat "$(cg_of dflt)/pids.max")
  [[ $v == 2048 ]] && ok "vm: podman's default pids limit applies (pids.max=2048)" \
    || fail "vm: podman's default pids limit applies" "pids.max=$v"
  # With CAP_SYS_RESOURCE (the guest's root has it) podman's RLIMIT_NOFILE applies too.
  v=$(pm exec dflt sh -c 'ulimit -n')
  [[ $v == 1048576 ]] && ok "vm: podman's default RLIMIT_NOFILE applies (1048576)" \
    || fail "vm: podman's default RLIMIT_NOFILE applies" "ulimit -n=$v"
else
  fail "vm: podman's default pids limit applies" "run failed"
fi

if run_bb --name lim --memory 64m --pids-limit 50 >/dev/null; then
  cg=$(cg_of lim)
  [[ $(cat "$cg/memory.max") == 67108864 && $(cat "$cg/pids.max") == 50 ]] \
    && ok "vm: run --memory 64m --pids-limit 50 sets memory.max and pids.max" \
    || fail "vm: run --memory 64m --pids-limit 50" "memory.max=$(cat "$cg/memory.max") pids.max=$(cat "$cg/pids.max")"
  : >"$T/brig-calls.log"
  check "vm: podman update --memory 128m" pm update --memory 128m lim
  [[ $(cat "$cg/memory.max") == 134217728 ]] && ok "vm: update changed memory.max to 128m" \
    || fail "vm: update changed memory.max to 128m" "memory.max=$(cat "$cg/memory.max")"
  grep -q '\bupdate\b' "$T/brig-calls.log" && ok "vm: podman update went through brig update" \
    || fail "vm: podman update went through brig update" "$(cat "$T/brig-calls.log")"
  echo "# vm: podman update called: $(tr '\n' ';' <"$T/brig-calls.log")"
  # podman 4.3's update has no --pids-limit: brig update on podman's container.
  id=$(pm inspect --format '{{.Id}}' lim)
  check "vm: brig update --pids-limit 80 on podman's container" "$REAL_BRIG" update --pids-limit 80 "$id"
  [[ $(cat "$cg/pids.max") == 80 ]] && ok "vm: pids.max is now 80" || fail "vm: pids.max is now 80" "$(cat "$cg/pids.max")"
else
  fail "vm: run --memory 64m --pids-limit 50" "run failed"
fi
pm rm -af -t 0 >/dev/null 2>&1
left=$(ls -A /run/brig | grep -vx '.seccomp@cache')
[[ -z $left ]] && ok "vm: no brig state left" || fail "vm: no brig state left" "$left"
left=$(find "/sys/fs/cgroup$CGP" -mindepth 1 -type d -name 'libpod-*' 2>/dev/null)
[[ -z $left ]] && ok "vm: no container cgroup left" || fail "vm: no container cgroup left" "$left"
exit $((FAILED > 0))
