#!/usr/bin/env bash
# End-to-end: Debian's podman (4.3, daemonless, conmon) driving brig.
#
#   integration-tests/e2e/podman.sh /abs/path/to/brig
#
# Every podman command runs inside a private network namespace and a private mount
# namespace in which /sys/fs/cgroup is a bind of the host's controller-less
# /sys/fs/cgroup/unified, /run (and so brig's default root /run/brig, podman's
# /run/libpod, /run/netns) and /var/lib/{containers,cni} are private tmpfs, and
# podman's root, runroot, config and storage config live in one temp dir.
# The host's podman config, cgroups, iptables and bridges are never touched.
#
# Prints one `ok - ...` / `not ok - ...: detail` line per check; exits non-zero if
# any failed. The scenario is the engine e2e contract's (microblog image from image.sh).
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SELF="$HERE/$(basename "${BASH_SOURCE[0]}")"
# shellcheck source=lib.sh
source "$HERE/lib.sh"
PKGS=(podman conmon containernetworking-plugins iptables uidmap busybox-static curl util-linux procps iproute2)

# A tiny busybox-static image: `sh`, `id`, `sleep`... as in the Rust tests' rootfs.
make_busybox_tar() {
  local dir=$1/bbroot applet
  mkdir -p "$dir"/{bin,etc,proc,sys,dev,tmp,root}
  cp /bin/busybox "$dir/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [[ $applet == busybox ]] || ln -s busybox "$dir/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$dir/etc/passwd"
  printf 'root:x:0:\n' >"$dir/etc/group"
  tar -C "$dir" -cf "$1/busybox.tar" .
  rm -rf "$dir"
}

# ---------------------------------------------------------------------------
# Inside the namespaces.

# podman with every path and choice of ours; brig through --runtime.
pm() {
  CONTAINERS_CONF=$T/containers.conf CONTAINERS_STORAGE_CONF=$T/storage.conf \
    CONTAINERS_REGISTRIES_CONF=$T/registries.conf \
    podman --root "$T/root" --runroot "$T/runroot" --cgroup-manager=cgroupfs \
      --events-backend=file --runtime "$BRIG" "$@"
}

write_configs() { # $1 = pids_limit, $2 = default_ulimits (TOML array body, may be empty)
  cat >"$T/containers.conf" <<EOF
[containers]
pids_limit = $1
${2:+default_ulimits = [$2]}
log_driver = "k8s-file"
[engine]
pull_policy = "never"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$T/events.log"
tmp_dir = "$T/libpod-tmp"
static_dir = "$T/root/libpod"
volume_path = "$T/root/volumes"
runtime = "brig"
runtime_supports_json = ["brig"]
conmon_path = ["/usr/bin/conmon"]
[engine.runtimes]
brig = ["$BRIG"]
[network]
network_backend = "cni"
cni_plugin_dirs = ["/usr/lib/cni"]
network_config_dir = "$T/cni"
EOF
  cat >"$T/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$T/root"
runroot = "$T/runroot"
EOF
  printf 'unqualified-search-registries = []\n' >"$T/registries.conf"
}

# The namespaces' private view: cgroup v2 only, private /run, /run/brig, CNI state.
setup_mounts() {
  mount --make-rprivate / || return 1
  # `ip netns exec` mounted a fresh sysfs; the outer shell left the unified
  # hierarchy bound at $T/cgroup2 for us to put in its place.
  mount --bind "$T/cgroup2" /sys/fs/cgroup && umount "$T/cgroup2" || return 1
  mount -t tmpfs -o mode=755 tmpfs /run || return 1
  mkdir -p /run/brig /run/lock && mount -t tmpfs -o mode=700 tmpfs /run/brig || return 1
  local d
  for d in /var/lib/containers /var/lib/cni; do
    mkdir -p "$d" && mount -t tmpfs -o mode=700 tmpfs "$d" || return 1
  done
  ip link set lo up
  mkdir -p "$T/cni" "$T/libpod-tmp"
}

inner() {
  T=$1 BRIG=$2
  BB=localhost/brig-e2e-busybox:latest
  setup_mounts || { fail "private mounts" "setup failed"; exit 1; }
  write_configs 2048
  [[ $(stat -f -c %T /sys/fs/cgroup) == cgroup2fs ]] && ok "engine sees a pure cgroup v2 /sys/fs/cgroup" \
    || fail "engine sees a pure cgroup v2 /sys/fs/cgroup" "$(stat -f -c %T /sys/fs/cgroup)"
  local info
  info=$(pm info --format '{{.Host.OCIRuntime.Path}} {{.Host.CgroupsVersion}} {{.Host.CgroupManager}}' 2>&1)
  [[ $info == "$BRIG v2 cgroupfs" ]] && ok "podman info: runtime is brig, cgroup v2, cgroupfs" \
    || fail "podman info: runtime is brig, cgroup v2, cgroupfs" "$info"
  scenario_busybox
  if [[ -n ${MICROBLOG_TAR:-} ]]; then scenario_microblog; fi
  final_cleanup
  leak_checks
  exit $((FAILED > 0))
}

# podman really uses brig: its inspect and brig's own state dir (default root) agree.
brig_is_runtime() { # $1 = container name
  local id rt
  id=$(pm inspect --format '{{.Id}}' "$1") || return 1
  rt=$(pm inspect --format '{{.OCIRuntime}}' "$1")
  [[ ($rt == brig || $rt == "$BRIG") && -f /run/brig/$id/state.json ]] || { echo "runtime=$rt state: $(ls /run/brig)"; return 1; }
}

# Podman's default pids limit cannot be applied without a pids controller:
# brig must say so, by name, and fail the run.
check_default_pids_limit() {
  local out rc
  out=$(pm run --rm --cgroup-parent "$CGP" "$BB" true 2>&1); rc=$?
  if ((rc != 0)) && grep -qi 'pids' <<<"$out"; then
    ok "default pids limit (2048) fails with an error naming pids"
  else
    fail "default pids limit (2048) fails with an error naming pids" "rc=$rc $out"
  fi
  echo "# podman default pids limit error: $(tr '\n' ' ' <<<"$out" | tail -c 300)"
}

# Rootful podman raises RLIMIT_NOFILE to 1048576; without CAP_SYS_RESOURCE above the
# host's hard limit that is EPERM (runc and crun fail alike): brig must name it.
check_default_nofile() {
  local out rc
  out=$(pm run --rm --cgroup-parent "$CGP" "$BB" true 2>&1); rc=$?
  if ((rc != 0)) && grep -q 'RLIMIT_NOFILE' <<<"$out"; then
    ok "default RLIMIT_NOFILE (1048576) above the host hard limit fails with an error naming it"
  elif ((rc == 0)); then
    ok "default RLIMIT_NOFILE (1048576) applies on this host"
  else
    fail "default RLIMIT_NOFILE (1048576) fails with an error naming it" "rc=$rc $out"
  fi
  echo "# podman default nofile error: $(tr '\n' ' ' <<<"$out" | tail -c 300)"
}

# podman run --preserve-fds 1: the container sees fd 3 (our file) and nothing beyond it.
# PID 1 is `sleep` (a shell would hold pipes and saved fds of its own); an exec reads
# its fd table.
check_preserve_fds() {
  local what="run --preserve-fds 1: PID 1 holds fds 0-3 only, fd 3 is the file" fds content
  echo "fd three content" >"$T/fd3"
  pm run -d --name pfds --cgroup-parent "$CGP" --preserve-fds 1 "$BB" sleep 60 3<"$T/fd3" >/dev/null 2>&1 \
    || { fail "$what" "run failed"; return; }
  fds=$(pm exec pfds ls /proc/1/fd 2>&1 | sort -n | tr '\n' ' ')
  content=$(pm exec pfds cat /proc/1/fd/3 2>&1)
  [[ $fds == "0 1 2 3 " && $content == "fd three content" ]] && ok "$what" || fail "$what" "fds=[$fds] fd3=[$content]"
  pm rm -f -t 0 pfds >/dev/null 2>&1
}

scenario_busybox() {
  make_busybox_tar "$T"
  check "import busybox image" pm import "$T/busybox.tar" "$BB"
  check_default_pids_limit
  write_configs 0
  check_default_nofile
  # From here on: no pids limit, RLIMIT_NOFILE at the host's hard limit, and
  # RLIMIT_NPROC at podman's own default (32768): once any default ulimit is set,
  # podman defaults NPROC to 1048576, which conmon's child may not raise to either.
  local nofile nproc
  nofile=$(ulimit -Hn) nproc=$(ulimit -Hu)
  [[ $nproc == unlimited ]] || ((nproc > 32768)) && nproc=32768
  write_configs 0 "\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\""
  local rc out
  pm run --rm --cgroup-parent "$CGP" "$BB" sh -c 'exit 3' >/dev/null 2>&1; rc=$?
  ((rc == 3)) && ok "one-shot busybox sh -c 'exit 3' returns 3" || fail "one-shot busybox sh -c 'exit 3' returns 3" "rc=$rc"
  check_preserve_fds
  export -f pm; export T BRIG
  out=$(SHELL=/bin/bash script -qec "pm run --rm -t --cgroup-parent $CGP $BB sh -c 'tty; test -t 0 && echo stdin-tty'" /dev/null 2>&1 | tr -d '\r')
  grep -q '^/dev/pts/0$' <<<"$out" && grep -q stdin-tty <<<"$out" && ok "run -t: the process has a pty" \
    || fail "run -t: the process has a pty" "$out"
}

# exec_in NAME CMD...: run CMD in the container through podman exec.
exec_in() { local c=$1; shift; pm exec "$c" "$@"; }

check_identity() { # the image user: uid, gid, groups, cwd, env
  local status want_uid want_gid want_groups cwd env
  status=$(exec_in microblog cat /proc/1/status) || { fail "exec cat /proc/1/status" "$status"; return; }
  want_uid=$(exec_in microblog id -u microblog) want_gid=$(exec_in microblog id -g microblog)
  want_groups=$(exec_in microblog id -G microblog | tr ' ' '\n' | sort -n | tr '\n' ' ')
  local uid gid groups
  uid=$(awk '/^Uid:/{print $2}' <<<"$status") gid=$(awk '/^Gid:/{print $2}' <<<"$status")
  groups=$(awk '/^Groups:/{for(i=2;i<=NF;i++)print $i}' <<<"$status" | sort -n | tr '\n' ' ')
  [[ $uid == "$want_uid" && $uid != 0 ]] && ok "pid 1 uid is microblog's ($uid)" || fail "pid 1 uid is microblog's" "uid=$uid want=$want_uid"
  [[ $gid == "$want_gid" ]] && ok "pid 1 gid is microblog's ($gid)" || fail "pid 1 gid is microblog's" "gid=$gid want=$want_gid"
  local blog; blog=$(exec_in microblog getent group blog | cut -d: -f3)
  [[ -n $blog && " $groups" == *" $blog "* && $groups == "$want_groups" ]] \
    && ok "pid 1 supplementary groups include blog ($groups)" \
    || fail "pid 1 supplementary groups include blog" "groups=$groups want=$want_groups blog=$blog"
  cwd=$(exec_in microblog readlink /proc/1/cwd)
  [[ $cwd == /home/microblog ]] && ok "pid 1 cwd is /home/microblog" || fail "pid 1 cwd is /home/microblog" "$cwd"
  env=$(exec_in microblog cat /proc/1/environ | tr '\0' '\n')
  grep -qx 'SECRET_KEY=s3cr3t' <<<"$env" && grep -qx 'FLASK_APP=microblog.py' <<<"$env" \
    && grep -q '^PATH=/home/microblog/venv/bin:' <<<"$env" \
    && ok "pid 1 env has FLASK_APP, the venv PATH and SECRET_KEY" \
    || fail "pid 1 env has FLASK_APP, the venv PATH and SECRET_KEY" "$(tr '\n' ' ' <<<"$env")"
  local cmd; cmd=$(exec_in microblog cat /proc/1/cmdline | tr '\0' ' ')
  [[ $cmd == *gunicorn* ]] && ok "pid 1 is gunicorn ($cmd)" || fail "pid 1 is gunicorn" "$cmd"
  local id; id=$(exec_in microblog id)
  [[ $id == "uid=$want_uid(microblog)"* ]] && ok "exec id: $id" || fail "exec id shows microblog" "$id"
}

logs_have() { pm logs "$1" 2>&1 | grep -q -- "$2"; }
hello() { [[ $(curl -s -m 5 http://localhost:8000/) == *"Hello, World!"* ]]; }
cgroup_dir() { echo "/sys/fs/cgroup$(pm inspect --format '{{.State.CgroupPath}}' "$1")"; }

check_pause() {
  local cg; cg=$(cgroup_dir microblog)
  check "pause" pm pause microblog
  [[ $(pm inspect --format '{{.State.Status}}' microblog) == paused && $(cat "$cg/cgroup.freeze") == 1 ]] \
    && ok "paused: podman says paused, cgroup.freeze=1" \
    || fail "paused: podman says paused, cgroup.freeze=1" "$(pm inspect --format '{{.State.Status}}' microblog) $cg"
  ! curl -s -m 2 http://localhost:8000/ >/dev/null && ok "paused container does not answer" \
    || fail "paused container does not answer" "it answered"
  check "resume" pm unpause microblog
  wait_for 10 hello && [[ $(cat "$cg/cgroup.freeze") == 0 ]] && ok "resumed container answers again" \
    || fail "resumed container answers again" "freeze=$(cat "$cg/cgroup.freeze")"
}

check_tty_exec() {
  local out
  out=$(SHELL=/bin/bash script -qec "pm exec -t microblog sh -c 'tty; test -t 0 && echo stdin-tty'" /dev/null 2>&1 | tr -d '\r')
  grep -q '^/dev/pts/[0-9]*$' <<<"$out" && grep -q stdin-tty <<<"$out" && ok "exec -t: the process has a pty" \
    || fail "exec -t: the process has a pty" "$out"
}

check_stop() {
  local t0 t1 ms code
  pm logs -f microblog >"$T/microblog.log" 2>&1 & local follow=$!
  sleep 0.5
  t0=$(date +%s%N)
  check "stop" pm stop microblog
  t1=$(date +%s%N); ms=$(((t1 - t0) / 1000000))
  ((ms < 3000)) && ok "stop took ${ms} ms (< 3 s)" || fail "stop took < 3 s" "${ms} ms"
  wait_for 10 bash -c "! kill -0 $follow 2>/dev/null"; kill "$follow" 2>/dev/null; wait "$follow" 2>/dev/null
  grep -q 'Handling signal: term' "$T/microblog.log" && ok "gunicorn logged its SIGTERM shutdown" \
    || fail "gunicorn logged its SIGTERM shutdown" "$(tail -c 300 "$T/microblog.log")"
  code=$(pm events --stream=false --filter container=microblog --filter event=died --format '{{.ContainerExitCode}}' 2>&1 | tail -1)
  [[ $code == 0 ]] && ok "microblog exited 0 (not 137)" || fail "microblog exited 0 (not 137)" "$code"
  wait_for 10 bash -c '! pm container exists microblog' && ok "--rm removed the container" \
    || fail "--rm removed the container" "$(pm ps -a)"
}

scenario_microblog() {
  local changes=() line id
  while IFS= read -r line; do [[ -n $line ]] && changes+=(--change "$line"); done <<<"$MICROBLOG_CHANGES"
  check "import microblog image" pm import "${changes[@]}" "$MICROBLOG_TAR" localhost/microblog:latest
  local out
  if out=$(pm run --name microblog -d -p 8000:5000 --rm -e SECRET_KEY=s3cr3t \
    --cgroup-parent "$CGP" localhost/microblog:latest 2>&1); then
    ok "run -d --rm -p 8000:5000 microblog"
  else
    fail "run -d --rm -p 8000:5000 microblog" "$out"; return
  fi
  id=$(pm inspect --format '{{.Id}}' microblog)
  check "podman really calls brig (inspect + /run/brig state)" brig_is_runtime microblog
  local pid; pid=$(pm inspect --format '{{.State.ConmonPid}}' microblog)
  local cmdline; cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline")
  [[ $cmdline == *" -r $BRIG "* && $cmdline == *"--runtime-arg --log-format=json"* && $cmdline != *"--runtime-arg --root"* ]] \
    && ok "conmon runs $BRIG with --log-format=json and no --root" \
    || fail "conmon runs brig with --log-format=json and no --root" "$cmdline"
  wait_for 60 hello && ok "curl localhost:8000 says Hello, World!" || fail "curl localhost:8000 says Hello, World!" "$(curl -s -m 5 localhost:8000 2>&1; pm logs microblog 2>&1 | tail -5)"
  wait_for 10 logs_have microblog '"GET / HTTP/1.1" 200' && ok "access log line reaches podman logs" \
    || fail "access log line reaches podman logs" "$(pm logs microblog 2>&1 | tail -3)"
  check_identity
  check_tty_exec
  local top; top=$(pm top microblog 2>&1)
  [[ $top == *gunicorn* ]] && ok "top lists gunicorn" || fail "top lists gunicorn" "$top"
  check_pause
  check "kill -s HUP" pm kill -s HUP microblog
  wait_for 10 logs_have microblog 'Handling signal: hup' && ok "gunicorn logged SIGHUP" || fail "gunicorn logged SIGHUP" "$(pm logs microblog 2>&1 | tail -3)"
  sleep 1; wait_for 20 hello && ok "still serving after HUP" || fail "still serving after HUP" ""
  check_stop
  check_rm_left_nothing "$id"
  local rc
  pm run --rm --cgroup-parent "$CGP" --entrypoint sh localhost/microblog:latest -c 'exit 3' >/dev/null 2>&1; rc=$?
  ((rc == 3)) && ok "one-shot microblog sh -c 'exit 3' returns 3" || fail "one-shot microblog sh -c 'exit 3' returns 3" "rc=$rc"
}

# After --rm, before any cleanup of ours: nothing of container $1 is left.
check_rm_left_nothing() {
  local id=$1 left=""
  [[ -e /run/brig/$id ]] && left+="state /run/brig/$id; "
  grep -q "$id" /proc/self/mountinfo && left+="mounts: $(grep "$id" /proc/self/mountinfo | awk '{print $5}' | tr '\n' ' '); "
  [[ -n $(find /sys/fs/cgroup -maxdepth 3 -type d -name "*$id*") ]] && left+="cgroup; "
  [[ -n $(pgrep -f "$id") ]] && left+="processes: $(pgrep -a -f "$id" | tr '\n' ' ')"
  [[ -z $left ]] && ok "after --rm: no state, mount, cgroup or process of microblog left" \
    || fail "after --rm: no state, mount, cgroup or process of microblog left" "$left"
}

final_cleanup() {
  pm rm -af -t 0 >/dev/null 2>&1
  pm rmi -af >/dev/null 2>&1
  # podman leaves the parent it made (and conmon's cgroup) behind: ours to remove.
  find "/sys/fs/cgroup$CGP" -depth -type d -exec rmdir {} + 2>/dev/null
}

leak_checks() {
  local left
  # brig's seccomp filter cache (.seccomp@cache) is not container state.
  left=$(ls -A /run/brig | grep -vx '.seccomp@cache')
  [[ -z $left ]] && ok "no brig state left in /run/brig" || fail "no brig state left in /run/brig" "$left"
  left=$(grep -E "$T/|/run/netns/cni-" /proc/self/mountinfo | awk '{print $5}')
  [[ -z $left ]] && ok "no container mount left" || fail "no container mount left" "$left"
  left=$(find /sys/fs/cgroup -maxdepth 3 -type d \( -path "/sys/fs/cgroup$CGP*" -o -name 'libpod*' \) 2>/dev/null)
  [[ -z $left ]] && ok "no cgroup left under the unified hierarchy" || fail "no cgroup left under the unified hierarchy" "$left"
  left=$(pgrep -a -f "conmon.*$T"; grep -lsE "^0::$CGP(/|$)" /proc/[0-9]*/cgroup)
  [[ -z $left ]] && ok "no container or conmon process left" || fail "no container or conmon process left" "$left"
}

# ---------------------------------------------------------------------------
# Outside: temp dir, netns, image, the VM run, and the cleanup trap.

outer_cleanup() {
  local pids p
  # Anything still in our netns or our cgroup parent is ours by construction.
  pids=$(ip netns pids "$NS" 2>/dev/null; cat /sys/fs/cgroup/unified"$CGP"/*/cgroup.procs 2>/dev/null)
  for p in $pids; do kill -9 "$p" 2>/dev/null && echo "# cleanup killed leftover pid $p"; done
  [[ -d /sys/fs/cgroup/unified$CGP ]] && find "/sys/fs/cgroup/unified$CGP" -depth -type d -exec rmdir {} + 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  [[ -n ${T:-} && -d $T ]] && rm -rf --one-file-system "$T"
}

main() {
  BRIG=${1:-}
  [[ $BRIG == /* && -x $BRIG ]] || { echo "usage: $0 /abs/path/to/brig" >&2; exit 2; }
  [[ $(id -u) == 0 ]] || { echo "$0: must run as root" >&2; exit 2; }
  install_missing "${PKGS[@]}" || { echo "not ok - install packages: apt-get failed"; exit 1; }
  T=$(mktemp -d /tmp/brig-e2e-podman.XXXXXX) NS=brig-e2e-podman-$$ CGP=/brig-e2e-podman-$$
  trap outer_cleanup EXIT
  export CGP
  if [[ -f $HERE/image.sh ]]; then
    local cache
    cache=$(bash "$HERE/image.sh") || { echo "not ok - image.sh failed"; exit 1; }
    MICROBLOG_TAR=$cache/microblog-rootfs.tar MICROBLOG_CHANGES=$(bash "$HERE/image.sh" --changes)
    export MICROBLOG_TAR MICROBLOG_CHANGES
  else
    echo "# image.sh not found: microblog scenario skipped"
  fi
  ip netns add "$NS" || { echo "not ok - ip netns add $NS"; exit 1; }
  mkdir "$T/cgroup2"
  # The bind of the unified hierarchy is made before `ip netns exec` replaces /sys.
  unshare --mount --propagation private -- bash -c \
    'mount --bind /sys/fs/cgroup/unified "$1/cgroup2" && exec ip netns exec "$2" bash "$3" --inner "$1" "$4"' \
    _ "$T" "$NS" "$SELF" "$BRIG"
  local rc=$?
  if [[ -z ${BRIG_SKIP_VM:-} ]]; then
    # The guest sees the host's / read-only: brig and podman-vm.sh need no share.
    "$(find_vm_run)" --no-cwd --tmpfs /var/lib/brig-podman-vm --timeout 1800 -- \
      bash "$HERE/podman-vm.sh" "$BRIG" /var/lib/brig-podman-vm || rc=1
  fi
  exit $rc
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  if [[ ${1:-} == --inner ]]; then shift; inner "$@"; else main "$@"; fi
fi
