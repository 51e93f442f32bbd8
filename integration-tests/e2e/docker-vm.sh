#!/usr/bin/env bash
# The cgroup v2 LIMITS part of docker.sh, run inside vm-run's guest (pure cgroup v2,
# every controller enabled): `docker run -m/--pids-limit` and `docker update` of both
# through brig. The guest is emulated and slow: one dockerd, a busybox image, no
# network (--bridge=none, --network none).
#
#   docker-vm.sh /abs/path/to/brig /tmpfs/dir      (called by docker.sh through vm-run)
set -uo pipefail
BRIG=$1 T=$2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"
export DOCKER_HOST=unix://$T/docker.sock DOCKER_CONFIG=$T/client
docker() { timeout 300 /usr/bin/docker "$@"; }

mkdir -p "$T"/{data,exec,client,bb/bin,bb/etc,bb/proc,bb/sys,bb/dev}
echo '{}' >"$T/daemon.json"
# A wrapper (still named brig) records every call, to show `docker update` used brig.
mkdir -p "$T/bin"
printf '#!/bin/sh\necho "$*" >>%s/brig-calls.log\nexec %s "$@"\n' "$T" "$BRIG" >"$T/bin/brig"
chmod +x "$T/bin/brig"
/usr/sbin/dockerd --config-file "$T/daemon.json" --data-root "$T/data" --exec-root "$T/exec" \
  --pidfile "$T/dockerd.pid" -H "$DOCKER_HOST" --bridge=none --iptables=false --ip-masq=false \
  --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent /brig-e2e-docker \
  --add-runtime brig="$T/bin/brig" >"$T/dockerd.log" 2>&1 &
DPID=$!
cleanup() {
  for c in $(docker ps -aq 2>/dev/null); do docker rm -f "$c" >/dev/null 2>&1; done
  kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
}
trap cleanup EXIT
if ! wait_for 240 docker version; then
  fail "vm: dockerd starts" "$(tail -n5 "$T/dockerd.log" | tr '\n' ' ')"; exit 1
fi
cp /bin/busybox "$T/bb/bin/busybox"
for a in sh sleep cat; do ln -s busybox "$T/bb/bin/$a"; done
tar -C "$T/bb" -cf "$T/bb.tar" . && docker import "$T/bb.tar" brig-e2e/busybox >/dev/null ||
  { fail "vm: import busybox" "$(tail -n3 "$T/dockerd.log")"; exit 1; }

if cid=$(docker run -d --runtime brig --network none -m 64m --pids-limit 50 \
  brig-e2e/busybox sleep 1000 2>"$T/run.err"); then
  cg=/sys/fs/cgroup/brig-e2e-docker/$cid
  [[ $(cat "$cg/memory.max") == 67108864 && $(cat "$cg/pids.max") == 50 ]] &&
    ok "vm: docker run -m 64m --pids-limit 50 sets memory.max and pids.max" ||
    fail "vm: docker run -m 64m --pids-limit 50" "memory.max=$(cat "$cg/memory.max") pids.max=$(cat "$cg/pids.max")"
  : >"$T/brig-calls.log"
  if out=$(docker update -m 128m --memory-swap -1 --pids-limit 80 "$cid" 2>&1); then
    [[ $(cat "$cg/memory.max") == 134217728 && $(cat "$cg/pids.max") == 80 ]] &&
      ok "vm: docker update -m 128m --pids-limit 80 changed memory.max and pids.max" ||
      fail "vm: docker update changed the limits" "memory.max=$(cat "$cg/memory.max") pids.max=$(cat "$cg/pids.max")"
    grep -qw update "$T/brig-calls.log" && ok "vm: docker update went through brig update" ||
      fail "vm: docker update went through brig update" "$(cat "$T/brig-calls.log")"
  else
    fail "vm: docker update -m 128m --pids-limit 80" "$out"
  fi
  docker rm -f "$cid" >/dev/null 2>&1
  [[ ! -e $cg ]] && ok "vm: the container's cgroup is gone after rm -f" || fail "vm: cgroup gone after rm -f" "$cg"
else
  fail "vm: docker run -m 64m --pids-limit 50" "$(cat "$T/run.err")"
fi
exit $((FAILED > 0))
