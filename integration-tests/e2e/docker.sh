#!/usr/bin/env bash
# End-to-end: Debian's Docker (docker.io 20.10) running the microblog image on brig.
# Usage: integration-tests/e2e/docker.sh /abs/path/to/brig      (as root)
#
# The daemon lives in a sandbox so that nothing of the host is touched:
#   - its own network namespace (brig-e2e-docker-$$): docker0, iptables/nft rules and
#     docker-proxy's port 8000 exist only there (iptables rules are per netns, so the
#     default nft backend of Debian 12 is fine and no legacy/nft choice is forced);
#   - its own private mount namespace, in which /sys is that netns's sysfs and
#     /sys/fs/cgroup is a bind of the host's controller-less /sys/fs/cgroup/unified, so
#     docker, containerd and brig see a pure cgroup v2 host and never touch cgroup v1;
#     /etc/docker (where dockerd writes key.json) is a bind of a temp dir, and /run a
#     fresh tmpfs (dockerd makes /run/docker/plugins, the shims /run/containerd/s);
#   - data-root, exec-root, pidfile, socket and config all under one mktemp -d dir;
#     containers go under the cgroup parent /brig-e2e-docker-$$ of the unified hierarchy.
# dockerd starts its own containerd (state under exec-root); brig is added with
# --add-runtime and chosen per container with --runtime brig (runc stays the default).
# Prints one "ok - ..." / "not ok - ...: detail" line per check; exits 1 if any failed.
set -uo pipefail

BRIG=${1:?usage: docker.sh /abs/path/to/brig}
[[ $BRIG == /* && -x $BRIG ]] || { echo "docker.sh: $BRIG: not an absolute path to an executable" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "docker.sh: must run as root" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$HERE/lib.sh"

# --- packages -------------------------------------------------------------------------
install_missing docker.io iproute2 util-linux curl procps ||
  { echo "docker.sh: apt-get install failed" >&2; exit 2; }
DOCKERD=/usr/sbin/dockerd
DOCKER_CLI=/usr/bin/docker # Debian's client; /usr/local/bin/docker is an unrelated one

# --- the image --------------------------------------------------------------------------
CACHE=$("$HERE/image.sh") || { echo "docker.sh: image.sh failed" >&2; exit 2; }
CACHE=$(tail -n1 <<<"$CACHE")
ROOTFS_TAR=$CACHE/microblog-rootfs.tar
[[ -f $ROOTFS_TAR ]] || { echo "docker.sh: $ROOTFS_TAR missing" >&2; exit 2; }
mapfile -t CHANGES < <("$HERE/image.sh" --changes)
IMAGE=brig-e2e/microblog:latest

# --- sandbox ----------------------------------------------------------------------------
T=$(mktemp -d /tmp/brig-e2e-docker.XXXXXX)
NS=brig-e2e-docker-$$
CGPARENT=brig-e2e-docker-$$
# the host's cgroup2 hierarchy: /sys/fs/cgroup/unified on this hybrid host, else a pure v2 one
CGROOT=/sys/fs/cgroup/unified
[[ -e $CGROOT/cgroup.procs ]] || CGROOT=/sys/fs/cgroup
[[ -e $CGROOT/cgroup.procs ]] || { echo "docker.sh: no cgroup2 hierarchy" >&2; exit 2; }
CGDIR=$CGROOT/$CGPARENT
SOCK=$T/docker.sock
DPID=
export DOCKER_HOST=unix://$SOCK DOCKER_CONFIG=$T/client
docker() { timeout 120 "$DOCKER_CLI" "$@"; }
in_ns() { ip netns exec "$NS" "$@"; }
# the daemon's mount namespace: where the container mounts are visible
in_daemon_mnt() { nsenter -t "$DPID" -m "$@"; }

alive() { [[ -n $1 ]] && kill -0 "$1" 2>/dev/null; }
stop_pid() { # stop_pid PID: TERM, then KILL after 15 s; only ever a pid this script recorded
  local pid=$1 i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 75; i++)); do alive "$pid" || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null
  for ((i = 0; i < 25; i++)); do alive "$pid" || return 0; sleep 0.2; done
}
rm_cgroups() { # depth-first rmdir of the containers' cgroup parent
  [[ -d $CGDIR ]] || return 0
  find "$CGDIR" -depth -type d -exec rmdir {} + 2>/dev/null
}
cleanup() {
  local cpid
  trap '' INT TERM # a second signal must not cut the cleanup short
  if alive "$DPID"; then
    for c in $(docker ps -aq 2>/dev/null); do docker rm -f "$c" >/dev/null 2>&1; done
  fi
  # dockerd's supervised containerd writes its pid here; read it before dockerd exits
  cpid=$(cat "$T/exec/containerd/containerd.pid" 2>/dev/null)
  stop_pid "$DPID"
  stop_pid "$cpid"
  rm_cgroups
  ip netns delete "$NS" 2>/dev/null
  # every mount was made in the daemon's private mount namespace, gone with its last
  # process; --one-file-system still refuses to descend into anything left mounted
  rm -rf --one-file-system "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$T"/{data,exec,etc-docker,client,cgroup}
# an empty config file: no host /etc/docker/daemon.json is read
echo '{}' >"$T/daemon.json"
ip netns add "$NS" || { echo "docker.sh: ip netns add $NS failed" >&2; exit 2; }
ip -n "$NS" link set lo up

# unshare makes the private mount ns, nsenter moves into the netns, then the script sets up
# the mounts and execs dockerd, so $! is dockerd's own pid.
# The unified bind is parked in $T/cgroup first because the fresh sysfs hides the old /sys.
unshare --mount --propagation private -- nsenter --net="/run/netns/$NS" -- bash -c '
  set -e
  T=$1 CGROOT=$2; shift 2
  mount --bind "$CGROOT" "$T/cgroup"
  mount -t sysfs sysfs /sys
  mount --move "$T/cgroup" /sys/fs/cgroup
  mount --bind "$T/etc-docker" /etc/docker
  mount -t tmpfs -o mode=755 tmpfs /run
  exec "$@"' docker-sandbox "$T" "$CGROOT" \
  "$DOCKERD" --config-file "$T/daemon.json" --data-root "$T/data" --exec-root "$T/exec" \
  --pidfile "$T/dockerd.pid" -H "unix://$SOCK" --exec-opt native.cgroupdriver=cgroupfs \
  --cgroup-parent "/$CGPARENT" --add-runtime "brig=$BRIG" \
  >"$T/dockerd.log" 2>&1 &
DPID=$!
if ! wait_for 60 docker version; then
  fail "dockerd starts" "$(tail -n5 "$T/dockerd.log" | tr '\n' ' ')"
  exit 1
fi
ok "dockerd 20.10 starts in netns $NS with a private cgroup2-only mount namespace"
rts=$(docker info --format '{{json .Runtimes}}' 2>&1)
[[ $rts == *"\"brig\":{\"path\":\"$BRIG\""* ]] && ok "docker info lists the brig runtime at $BRIG" ||
  fail "docker info lists the brig runtime" "$rts"

if docker import "${CHANGES[@]/#/--change=}" "$ROOTFS_TAR" "$IMAGE" >/dev/null 2>"$T/import.err"; then
  ok "docker import of the microblog rootfs with the image config"
else
  fail "docker import" "$(cat "$T/import.err")"; exit 1
fi

# The image's user, group and supplementary group ids, from its own /etc files.
etc() { tar -xOf "$ROOTFS_TAR" "./etc/$1" 2>/dev/null || tar -xOf "$ROOTFS_TAR" "etc/$1"; }
UID_MB=$(etc passwd | awk -F: '$1 == "microblog" { print $3 }')
GID_MB=$(etc passwd | awk -F: '$1 == "microblog" { print $4 }')
GID_BLOG=$(etc group | awk -F: '$1 == "blog" { print $3 }')
[[ -n $UID_MB && -n $GID_MB && -n $GID_BLOG ]] ||
  { fail "image has user microblog and group blog" "uid=$UID_MB gid=$GID_MB blog=$GID_BLOG"; exit 1; }

RT=$T/exec/runtime-runc/moby # the runtime --root dockerd gives every runc-type runtime
curl_app() { in_ns curl -fsS --max-time "${1:-5}" http://localhost:8000/; }
logs() { docker logs microblog 2>&1; }

# --- the scenario ---------------------------------------------------------------------
since=$(($(date +%s) - 1)) # for docker events
if docker run --runtime brig --name microblog -d -p 8000:5000 --rm -e SECRET_KEY=s3cr3t "$IMAGE" \
  >"$T/run.out" 2>&1; then
  ok "docker run --runtime brig -d -p 8000:5000 --rm microblog"
else
  fail "docker run microblog" "$(cat "$T/run.out")"; exit 1
fi
CID=$(docker inspect -f '{{.Id}}' microblog)
CPID=$(docker inspect -f '{{.State.Pid}}' microblog)

if wait_for 30 bash -c '[[ $(ip netns exec "$0" curl -fsS --max-time 2 http://localhost:8000/) == "Hello, World!" ]]' "$NS"; then
  ok "curl localhost:8000 answers Hello, World! (port mapping: prestart hook ran)"
else
  fail "curl localhost:8000" "$(curl_app 2>&1; logs | tail -n5)"
fi

# Really brig: the binary is brig, the state under docker's runtime root has brig's own
# format (initStartTime; runc writes init_process_start), and brig state reads it with
# the init pid docker reports.
brig_state=$("$BRIG" --root "$RT" state "$CID" 2>&1)
if [[ $("$BRIG" --version 2>&1) == "brig version"* ]] && grep -q '"initStartTime"' "$RT/$CID/state.json" &&
  grep -q '"status": *"running"' <<<"$brig_state" && grep -q "\"pid\": *$CPID\b" <<<"$brig_state"; then
  ok "the container runs on brig (brig state: running, pid $CPID)"
else
  fail "the container runs on brig" "$("$BRIG" --version 2>&1 | head -n1); $(head -c 200 "$RT/$CID/state.json"); $brig_state"
fi
CG=$CGDIR/$CID
check "the container's cgroup is $CGPARENT/<id> on the unified hierarchy" grep -qx "$CPID" "$CG/cgroup.procs"
CG_PIDS=$(cat "$CG/cgroup.procs" 2>/dev/null)

status=$(docker exec microblog cat /proc/1/status 2>&1)
ids() { awk -v k="$1:" '$1 == k { $1 = ""; print substr($0, 2) }' <<<"$status"; }
[[ $(ids Uid) == "$UID_MB $UID_MB $UID_MB $UID_MB" ]] && ok "PID 1 runs as uid $UID_MB (microblog)" ||
  fail "PID 1 uid" "Uid: $(ids Uid), want $UID_MB"
[[ $(ids Gid) == "$GID_MB $GID_MB $GID_MB $GID_MB" ]] && ok "PID 1 runs as gid $GID_MB" ||
  fail "PID 1 gid" "Gid: $(ids Gid), want $GID_MB"
[[ " $(ids Groups) " == *" $GID_BLOG "* ]] && ok "PID 1 has supplementary group blog ($GID_BLOG)" ||
  fail "PID 1 supplementary groups" "Groups: $(ids Groups), want $GID_BLOG"
cwd=$(docker exec microblog readlink /proc/1/cwd 2>&1)
[[ $cwd == /home/microblog ]] && ok "PID 1 cwd is /home/microblog" || fail "PID 1 cwd" "$cwd"
environ=$(docker exec microblog cat /proc/1/environ 2>&1 | tr '\0' '\n')
for kv in SECRET_KEY=s3cr3t FLASK_APP=microblog.py; do
  grep -qxF "$kv" <<<"$environ" && ok "PID 1 environment has $kv" || fail "PID 1 environment has $kv" "$(tr '\n' ' ' <<<"$environ")"
done
# boot.sh sources venv/bin/activate before exec gunicorn, which puts venv/bin in front
# once more: the image's PATH is what follows it
IMAGE_PATH=$(sed -n 's/^ENV PATH=//p' <<<"$(printf '%s\n' "${CHANGES[@]}")")
path=$(sed -n 's/^PATH=//p' <<<"$environ")
[[ -n $IMAGE_PATH && $path == *"$IMAGE_PATH" ]] && ok "PID 1 PATH ends with the image's PATH" ||
  fail "PID 1 PATH" "PATH=$path, want ...$IMAGE_PATH"
cmdline=$(docker exec microblog cat /proc/1/cmdline 2>&1 | tr '\0' ' ')
[[ $cmdline == *gunicorn*-b\ :5000* ]] && ok "PID 1 is gunicorn ($cmdline)" || fail "PID 1 is gunicorn" "$cmdline"

if wait_for 10 bash -c '"$0" logs microblog 2>&1 | grep -q "\"GET / HTTP/1.1\" 200"' "$DOCKER_CLI"; then
  ok "the gunicorn access-log line reaches docker logs"
else
  fail "access log in docker logs" "$(logs | tail -n5 | tr '\n' ' ')"
fi
out=$(docker exec microblog id 2>&1)
[[ $out == "uid=$UID_MB(microblog) gid=$GID_MB(microblog) groups="*"$GID_BLOG(blog)"* ]] &&
  ok "docker exec id: $out" || fail "docker exec id" "$out"
out=$(script -qec "$DOCKER_CLI exec -t microblog sh -c 'tty; test -t 0 && test -t 1 && echo both-tty'" /dev/null 2>&1 | tr -d '\r')
[[ $out == */dev/pts/*both-tty* ]] && ok "docker exec -t gets a terminal" || fail "docker exec -t" "$out"
out=$(docker top microblog 2>&1)
[[ $out == *gunicorn* ]] && ok "docker top lists gunicorn" || fail "docker top" "$out"

docker kill -s HUP microblog >/dev/null 2>&1
if wait_for 10 bash -c '"$0" logs microblog 2>&1 | grep -q "Handling signal: hup"' "$DOCKER_CLI" &&
  wait_for 10 bash -c '[[ $(ip netns exec "$0" curl -fsS --max-time 2 http://localhost:8000/) == "Hello, World!" ]]' "$NS"; then
  ok "docker kill -s HUP: gunicorn reloads and keeps serving"
else
  fail "docker kill -s HUP" "$(logs | tail -n5 | tr '\n' ' ')"
fi

if docker pause microblog >/dev/null 2>"$T/pause.err"; then
  paused=$(docker inspect -f '{{.State.Status}}' microblog)
  frozen=$(cat "$CG/cgroup.freeze" 2>&1)
  if [[ $paused == paused && $frozen == 1 ]] && ! curl_app 2 >/dev/null 2>&1; then
    ok "docker pause freezes the container (cgroup.freeze=1, no answer)"
  else
    fail "docker pause" "status=$paused cgroup.freeze=$frozen"
  fi
else
  fail "docker pause" "$(cat "$T/pause.err")"
fi
if docker unpause microblog >/dev/null 2>"$T/pause.err" &&
  [[ $(docker inspect -f '{{.State.Status}}' microblog) == running && $(curl_app 5) == "Hello, World!" ]]; then
  ok "docker unpause: running and serving again"
else
  fail "docker unpause" "$(cat "$T/pause.err")"
fi

# stop: --rm removes the container, so follow its logs and read its exit code from events
docker logs -f microblog >"$T/microblog.log" 2>&1 &
LOGPID=$!
t0=$(date +%s%N)
docker stop microblog >/dev/null 2>"$T/stop.err" || fail "docker stop" "$(cat "$T/stop.err")"
ms=$((($(date +%s%N) - t0) / 1000000))
((ms < 3000)) && ok "docker stop took ${ms} ms" || fail "docker stop is quick" "${ms} ms"
wait_for 10 bash -c '! kill -0 "$0"' "$LOGPID"
grep -q "Handling signal: term" "$T/microblog.log" && ok "gunicorn logged its SIGTERM shutdown" ||
  fail "gunicorn logs Handling signal: term" "$(tail -n5 "$T/microblog.log" | tr '\n' ' ')"
die_code() {
  docker events --since "$since" --until 0s --filter container="$CID" --filter event=die \
    --format '{{index .Actor.Attributes "exitCode"}}' 2>&1
}
died() { [[ -n $(die_code) ]]; }
wait_for 5 died
code=$(die_code)
[[ $code == 0 ]] && ok "microblog exited 0 on stop" ||
  fail "microblog exit code on stop" "'$code' (want 0); events: $(docker events --since "$since" --until 0s 2>&1 | grep -F "$CID" | cut -c1-120 | tr '\n' ';')"

# after --rm: nothing of the container is left
if wait_for 10 bash -c '[[ -z $("$0" ps -aq --filter id="$1") ]]' "$DOCKER_CLI" "$CID"; then
  ok "--rm removed the container"
else
  fail "--rm removed the container" "$(docker ps -a)"
fi
leaks() { # leaks CONTAINER-ID [PIDS]: prints whatever the container left behind
  local id=$1 p
  [[ -e $RT/$id ]] && echo "state: $RT/$id"
  in_daemon_mnt cat /proc/self/mountinfo | grep -F "$id" | sed 's/^/mount: /'
  grep -F "$id" /proc/self/mountinfo | sed 's/^/host mount: /'
  [[ -d $CGDIR/$id ]] && echo "cgroup: $CGDIR/$id"
  for p in $2; do kill -0 "$p" 2>/dev/null && echo "process: $p $(tr '\0' ' ' <"/proc/$p/cmdline")"; done
}
out=$(leaks "$CID" "$CG_PIDS")
[[ -z $out ]] && ok "after --rm: no state, mount, cgroup or process left" || fail "after --rm: leaks" "$out"

# one-shot containers
docker run --runtime brig --rm --entrypoint sh "$IMAGE" -c 'exit 3' >/dev/null 2>&1
rc=$?
((rc == 3)) && ok "one-shot sh -c 'exit 3' returns 3" || fail "one-shot exit code" "$rc (want 3)"
# restart policy: short-lived containers, several at once, started again and again
# (a start racing the shim's reaping of a fast init once failed here)
for i in 1 2 3; do
  docker run -d --runtime brig --name "restarts$i" --restart on-failure:2 --entrypoint sh "$IMAGE" -c 'exit 1' >/dev/null 2>&1
done
restarted() {
  local i
  for i in 1 2 3; do
    [[ $(docker inspect -f '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}' "restarts$i" 2>&1) == "exited 2 1" ]] || return 1
  done
}
if wait_for 30 restarted; then
  ok "--restart on-failure:2 runs 3 short-lived containers 3 times each"
else
  fail "--restart on-failure:2" "$(for i in 1 2 3; do docker inspect -f '{{.Name}} {{.State.Status}} {{.RestartCount}} {{.State.Error}}' "restarts$i" 2>&1; done | tr '\n' ';')"
fi
for i in 1 2 3; do docker rm -f "restarts$i" >/dev/null 2>&1; done

# docker takes these exit codes from the runtime's words, as runc words them
docker run --runtime brig --rm --entrypoint no-such-program "$IMAGE" >/dev/null 2>&1
rc=$?
((rc == 127)) && ok "a missing program gives docker run exit code 127" || fail "missing program exit code" "$rc (want 127)"
docker run --runtime brig --rm --entrypoint /etc/passwd "$IMAGE" >/dev/null 2>&1
rc=$?
((rc == 126)) && ok "a program that cannot be executed gives 126" || fail "non-executable program exit code" "$rc (want 126)"
out=$(script -qec "$DOCKER_CLI run --runtime brig --rm -t --entrypoint sh $IMAGE -c 'tty; test -t 0 && test -t 1 && echo both-tty; exit 4'" /dev/null 2>&1)
rc=$?
out=$(tr -d '\r' <<<"$out")
[[ $out == */dev/pts/0*both-tty* && $rc == 4 ]] && ok "docker run -t gets a terminal and its exit code" ||
  fail "docker run -t" "rc=$rc $out"

# --- final leak checks ----------------------------------------------------------------
# .seccomp@cache is brig's cache of compiled seccomp profiles, shared by all containers
left=$(find "$RT" -mindepth 1 -maxdepth 1 ! -name .seccomp@cache 2>/dev/null)
[[ -z $left ]] && ok "no brig state left under $RT" || fail "brig state left" "$left"
out=$(in_daemon_mnt cat /proc/self/mountinfo | grep -E "$T/data/(overlay2|containers)/" )
[[ -z $out ]] && ok "no container mount left" || fail "container mounts left" "$out"
out=$(find "$CGDIR" -mindepth 1 -type d 2>/dev/null)
[[ -z $out ]] && ok "no cgroup left under $CGDIR" || fail "cgroups left" "$out"
out=$(for p in $CG_PIDS; do kill -0 "$p" 2>/dev/null && echo "$p"; done; cat "$CGDIR/cgroup.procs" 2>/dev/null)
[[ -z $out ]] && ok "no container process left" || fail "container processes left" "$out"

# --- limits and docker update, in the cgroup v2 guest ------------------------------------
if [[ -z ${BRIG_SKIP_VM:-} ]]; then
  "$(find_vm_run)" --no-cwd --tmpfs /var/lib/brig-docker-vm --timeout 1800 -- \
    bash "$HERE/docker-vm.sh" "$BRIG" /var/lib/brig-docker-vm || FAILED=1
fi
exit $((FAILED > 0))
