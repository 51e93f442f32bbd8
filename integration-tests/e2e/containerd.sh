#!/bin/bash
# brig under containerd 1.6 (Debian's package): the runc v2 shim
# (io.containerd.runc.v2) with brig as its runc binary (`ctr run
# --runc-binary`), on the microblog image from image.sh.
#
#   integration-tests/e2e/containerd.sh /abs/path/to/brig
#
# containerd runs in its own network namespace and its own private mount
# namespace, in which /sys/fs/cgroup is a bind of /sys/fs/cgroup/unified (a
# pure, controller-less cgroup v2 host: the host's v1 hierarchies are never
# touched) and /run is a bind of a directory under the temp dir (the shim's
# sockets and ctr's FIFOs have paths under /run/containerd hard-coded). All
# state (containerd root and state, brig's --root, logs, cgroups under one
# parent of our own) lives under one `mktemp -d` dir. ctr and curl run inside
# the same namespaces (nsenter into the containerd process).
#
# ctr has no -p: the container uses host networking (--net-host), which here
# is containerd's private netns, and we curl port 5000 there directly.
# ctr cannot combine -d and --rm: the long-running container is a `ctr run
# --rm` in the background, whose stdout (the container's, through the shim's
# FIFOs) is the "logs".
set -u

BRIG=${1:?usage: containerd.sh /abs/path/to/brig}
case $BRIG in /*) ;; *) echo "brig path must be absolute: $BRIG" >&2; exit 2 ;; esac
[ -x "$BRIG" ] || { echo "not executable: $BRIG" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 2; }
HERE=$(cd "$(dirname "$0")" && pwd)

# shellcheck source=lib.sh
source "$HERE/lib.sh"
install_missing containerd curl iproute2 util-linux bsdutils ||
    { echo "apt-get install failed" >&2; exit 2; }

now_ms() { date +%s%3N; }

# --- image ----------------------------------------------------------------------
CACHE=$("$HERE/image.sh" | tail -1) || { echo "image.sh failed" >&2; exit 2; }
IMAGE_TAR=$CACHE/microblog-image.tar
[ -f "$IMAGE_TAR" ] || { echo "no $IMAGE_TAR" >&2; exit 2; }

# --- sandbox ----------------------------------------------------------------------
T=$(mktemp -d /tmp/brig-e2e-containerd.XXXXXX)
NETNS=brig-e2e-containerd-$$
CG=brig-e2e-containerd-$$            # our cgroup parent under the unified hierarchy
CGDIR=/sys/fs/cgroup/unified/$CG
SOCK=$T/containerd.sock
BRIG_ROOT=$T/brig                    # the shim's runc root: brig --root is $BRIG_ROOT/<namespace>
CTD_PID=
MAIN_PID=                            # the background `ctr run --rm microblog`
mkdir -p "$T/run" "$T/logs" "$BRIG_ROOT"

cleanup() {
    local rc=$? p
    if [ -n "$CTD_PID" ] && kill -0 "$CTD_PID" 2>/dev/null; then
        for c in $(ctrx tasks ls -q 2>/dev/null); do
            ctrx tasks kill -s SIGKILL "$c" >/dev/null 2>&1
            wait_for 10 task_gone_or_stopped "$c"
            ctrx tasks delete "$c" >/dev/null 2>&1
        done
        for c in $(ctrx containers ls -q 2>/dev/null); do ctrx containers delete "$c" >/dev/null 2>&1; done
        [ -n "$MAIN_PID" ] && kill "$MAIN_PID" 2>/dev/null && wait "$MAIN_PID" 2>/dev/null
        kill "$CTD_PID" 2>/dev/null
        wait_for 15 not_alive "$CTD_PID" || kill -KILL "$CTD_PID" 2>/dev/null
        wait "$CTD_PID" 2>/dev/null
    fi
    # Anything still in our netns (a shim or container process) is ours.
    for p in $(netns_pids); do kill -KILL "$p" 2>/dev/null; done
    wait_for 5 no_netns_pids
    [ -d "$CGDIR" ] && find "$CGDIR" -depth -type d -exec rmdir {} \; 2>/dev/null
    ip netns delete "$NETNS" 2>/dev/null
    rm -rf "$T"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

not_alive() { ! kill -0 "$1" 2>/dev/null; }
# The pids (other than containerd) in our netns: shims, and the containers,
# which all use host networking, i.e. this netns.
NETNS_INO=
netns_pids() {
    [ -n "$NETNS_INO" ] || return 0
    local d
    for d in /proc/[0-9]*; do
        [ "${d#/proc/}" = "$CTD_PID" ] && continue
        [ "$(stat -L -c %i "$d/ns/net" 2>/dev/null)" = "$NETNS_INO" ] && echo "${d#/proc/}"
    done
}
no_netns_pids() { [ -z "$(netns_pids)" ]; }

ip netns add "$NETNS" || { echo "ip netns add failed" >&2; exit 2; }
ip -n "$NETNS" link set lo up
NETNS_INO=$(stat -L -c %i "/run/netns/$NETNS")
mkdir -p "$CGDIR"

# The stock config, pointed at the temp dir, with the CRI plugin (and the
# snapshotters this host cannot use) disabled to keep it light.
containerd config default | sed \
    -e "s|^root = .*|root = \"$T/root\"|" \
    -e "s|^state = .*|state = \"$T/state\"|" \
    -e "s|^  address = \"/run/containerd/containerd.sock\"|  address = \"$SOCK\"|" \
    -e "s|^    path = \"/opt/containerd\"|    path = \"$T/opt\"|" \
    -e 's|^disabled_plugins = .*|disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]|' \
    >"$T/config.toml"
for want in "root = \"$T/root\"" "state = \"$T/state\"" "address = \"$SOCK\"" "path = \"$T/opt\"" 'io.containerd.grpc.v1.cri"'; do
    grep -qF "$want" "$T/config.toml" || { echo "config edit failed: $want" >&2; exit 2; }
done

# Mount namespace first (the binds must not reach the host), then the netns.
# --log-level debug makes the shim pass --debug to brig, whose debug lines
# in the bundle's log.json prove brig (not runc) ran.
unshare --mount --propagation private -- nsenter --net="/run/netns/$NETNS" -- /bin/sh -c '
    mount --bind /sys/fs/cgroup/unified /sys/fs/cgroup &&
    mount --bind "$1/run" /run &&
    exec containerd --config "$1/config.toml" --log-level debug' sh "$T" >"$T/logs/containerd.log" 2>&1 &
CTD_PID=$!

ctrx() { nsenter -t "$CTD_PID" -m -n -- ctr --address "$SOCK" "$@"; }
in_ns() { nsenter -t "$CTD_PID" -m -n -- "$@"; }
task_gone_or_stopped() { ! ctrx tasks ls 2>/dev/null | grep -q "^$1 .*RUNNING\|^$1 .*PAUSED"; }

if wait_for 30 ctrx version; then ok "containerd up in its own netns and mount ns"; else
    fail "containerd up" "$(tail -5 "$T/logs/containerd.log" | tr '\n' ' ')"
    exit 1
fi
check "containerd sees a cgroup v2 /sys/fs/cgroup" in_ns sh -c '[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]'

# --- import ----------------------------------------------------------------------
if out=$(ctrx images import "$IMAGE_TAR" 2>&1); then ok "ctr images import of the docker-archive"; else
    fail "ctr images import" "$out"
    exit 1
fi
IMAGE=$(ctrx images ls -q | head -1)
[ -n "$IMAGE" ] || { fail "image listed" "ctr images ls is empty"; exit 1; }

# ctr run with the runc v2 shim and brig as its runc binary.
# --cpu-shares=0: ctr sets cpu shares (1024) by default, which the
# controller-less hierarchy has no cpu.weight for (runc fails on it too).
RUN=(run --runtime io.containerd.runc.v2 --runc-binary "$BRIG" --runc-root "$BRIG_ROOT" --cpu-shares=0)
cg() { echo "--cgroup=/$CG/$1"; }
brig_state() { "$BRIG" --root "$BRIG_ROOT/default" state "$1"; }
task_pid() { ctrx tasks ls | awk -v id="$1" '$1 == id { print $2 }'; }
task_status() { ctrx tasks ls | awk -v id="$1" '$1 == id { print $3 }'; }
task_running() { [ "$(task_status "$1")" = RUNNING ]; }
task_stopped() { [ "$(task_status "$1")" = STOPPED ]; }
xc() { local id=$1; shift; ctrx tasks exec --exec-id "$id-$RANDOM" microblog "$@"; }

# --- the long-running container ----------------------------------------------------
LOG=$T/logs/microblog.out
ctrx "${RUN[@]}" --rm --net-host "$(cg microblog)" --env SECRET_KEY=s3cr3t "$IMAGE" microblog \
    </dev/null >"$LOG" 2>&1 &
MAIN_PID=$!

if wait_for 30 task_running microblog; then
    ok "ctr run microblog: task RUNNING"
else
    fail "ctr run microblog" "$(tail -5 "$LOG" | tr '\n' ' ') $(grep -h level=error "$T/logs/containerd.log" | tail -2 | tr '\n' ' ')"
    exit 1
fi
INIT_PID=$(task_pid microblog)

# The shim really calls brig: $BRIG is brig, and the state dir under the
# shim's runc root was written by it (initStartTime is brig's field; runc's
# state.json has none) and names the task's pid.
check "$BRIG is brig" sh -c "'$BRIG' --version | grep -q '^brig version'"
check "brig wrote the state under the shim's runc root" grep -q '"initStartTime"' "$BRIG_ROOT/default/microblog/state.json"
state=$(brig_state microblog 2>&1)
if echo "$state" | grep -q '"status": *"running"' && echo "$state" | grep -q "\"pid\": *$INIT_PID\b"; then
    ok "brig state shows microblog running as pid $INIT_PID"
else
    fail "brig state shows the task" "$state"
fi
# The cgroup is the one asked for, in the unified hierarchy seen through
# the engine's /sys/fs/cgroup (a bind of /sys/fs/cgroup/unified).
cgline=$(grep '^0::' "/proc/$INIT_PID/cgroup")
[ "$cgline" = "0::/$CG/microblog" ] && ok "pid 1 is in cgroup /$CG/microblog" || fail "pid 1 cgroup" "$cgline"
check "cgroup.procs of $CGDIR/microblog has pid 1" grep -qx "$INIT_PID" "$CGDIR/microblog/cgroup.procs"

# --- identity, cwd, env, pid 1 ------------------------------------------------------
passwd=$(xc pw cat /etc/passwd)
group=$(xc gr cat /etc/group)
MB_UID=$(echo "$passwd" | awk -F: '$1=="microblog"{print $3}')
MB_GID=$(echo "$passwd" | awk -F: '$1=="microblog"{print $4}')
BLOG_GID=$(echo "$group" | awk -F: '$1=="blog"{print $3}')
status=$(xc st cat /proc/1/status)
uids=$(echo "$status" | awk '/^Uid:/{print $2,$3,$4,$5}')
gids=$(echo "$status" | awk '/^Gid:/{print $2,$3,$4,$5}')
groups=$(echo "$status" | awk '/^Groups:/{$1=""; print}')
if [ -n "$MB_UID" ] && [ "$uids" = "$MB_UID $MB_UID $MB_UID $MB_UID" ]; then ok "pid 1 uid is microblog ($MB_UID)"; else
    fail "pid 1 uid is microblog" "Uid: $uids, microblog=$MB_UID"
fi
if [ -n "$MB_GID" ] && [ "$gids" = "$MB_GID $MB_GID $MB_GID $MB_GID" ]; then ok "pid 1 gid is microblog's ($MB_GID)"; else
    fail "pid 1 gid is microblog's" "Gid: $gids, microblog=$MB_GID"
fi
if [ -n "$BLOG_GID" ] && echo " $groups " | grep -q " $BLOG_GID "; then ok "pid 1 supplementary groups include blog ($BLOG_GID)"; else
    fail "pid 1 groups include blog" "Groups:$groups, blog=$BLOG_GID"
fi
cwd=$(xc cwd readlink /proc/1/cwd)
[ "$cwd" = /home/microblog ] && ok "pid 1 cwd is /home/microblog" || fail "pid 1 cwd" "$cwd"
IMAGE_PATH=/home/microblog/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
environ=$(xc env cat /proc/1/environ | tr '\0' '\n')
for kv in SECRET_KEY=s3cr3t FLASK_APP=microblog.py; do
    echo "$environ" | grep -qxF "$kv" && ok "pid 1 env has $kv" || fail "pid 1 env has $kv" "$(echo "$environ" | tr '\n' ' ')"
done
# boot.sh sources venv/bin/activate, which prepends venv/bin once more.
if echo "$environ" | grep -qxE "PATH=(/home/microblog/venv/bin:)?$IMAGE_PATH"; then ok "pid 1 env has the image's PATH"; else
    fail "pid 1 env has the image's PATH" "$(echo "$environ" | grep ^PATH=)"
fi
# The process the engine configured (exec inherits it) has it exactly.
exec_env=$(xc env2 env)
for kv in SECRET_KEY=s3cr3t FLASK_APP=microblog.py "PATH=$IMAGE_PATH"; do
    echo "$exec_env" | grep -qxF "$kv" && ok "exec env has $kv" || fail "exec env has $kv" "$(echo "$exec_env" | tr '\n' ' ')"
done
cmdline=$(xc cmd cat /proc/1/cmdline | tr '\0' ' ')
echo "$cmdline" | grep -q gunicorn && ok "pid 1 is gunicorn ($cmdline)" || fail "pid 1 is gunicorn" "$cmdline"
id_out=$(xc id id)
if echo "$id_out" | grep -q "uid=$MB_UID(microblog) gid=$MB_GID" && echo "$id_out" | grep -q "($BLOG_GID\|$BLOG_GID(blog)"; then
    ok "ctr task exec id: $id_out"
else
    fail "ctr task exec id" "$id_out"
fi

# --- http and logs ----------------------------------------------------------------
get() { in_ns curl -s --max-time "${1:-5}" http://127.0.0.1:5000/; }
hello() { [ "$(get "$@")" = "Hello, World!" ]; }
if wait_for 30 hello; then ok "curl 127.0.0.1:5000 in the engine netns: Hello, World!"; else
    fail "curl 127.0.0.1:5000" "$(get 2>&1) / $(tail -3 "$LOG" | tr '\n' ' ')"
fi
if wait_for 10 grep -q '"GET / HTTP/1.1" 200' "$LOG"; then ok "gunicorn access-log line on ctr's stdout"; else
    fail "access-log line on ctr's stdout" "$(tail -3 "$LOG" | tr '\n' ' ')"
fi

# --- exec -t, run -t (script gives ctr a pty) ----------------------------------------
out=$(script -qec "nsenter -t $CTD_PID -m -n -- ctr --address $SOCK tasks exec -t --exec-id tty-$$ microblog sh -c 'test -t 0 && test -t 1 && echo EXEC-TTY-OK \$(tty)'" /dev/null </dev/null 2>&1)
echo "$out" | grep -q 'EXEC-TTY-OK /dev/pts/' && ok "ctr task exec -t gets a pty" || fail "ctr task exec -t" "$out"
out=$(script -qec "nsenter -t $CTD_PID -m -n -- ctr --address $SOCK ${RUN[*]} --rm -t $(cg ttyrun) $IMAGE ttyrun sh -c 'test -t 0 && test -t 1 && echo RUN-TTY-OK \$(tty)'" /dev/null </dev/null 2>&1)
echo "$out" | grep -q 'RUN-TTY-OK /dev/pts/0' && ok "ctr run -t gets /dev/pts/0" || fail "ctr run -t" "$out"

# --- ps, pause/resume, HUP ----------------------------------------------------------
ps_out=$(ctrx tasks ps microblog 2>&1)
nproc=$(echo "$ps_out" | awk 'NR>1 && $1 ~ /^[0-9]+$/' | wc -l)
if echo "$ps_out" | awk 'NR>1{print $1}' | grep -qx "$INIT_PID" && [ "$nproc" -ge 2 ]; then
    ok "ctr task ps lists pid 1 ($INIT_PID) and its worker ($nproc processes)"
else
    fail "ctr task ps" "$(echo "$ps_out" | tr '\n' ' ')"
fi
check "ctr task pause" ctrx tasks pause microblog
[ "$(task_status microblog)" = PAUSED ] && ok "task PAUSED" || fail "task PAUSED" "$(task_status microblog)"
frozen=$(cat "$CGDIR/microblog/cgroup.freeze" 2>/dev/null)
[ "$frozen" = 1 ] && ok "cgroup.freeze is 1 while paused" || fail "cgroup.freeze while paused" "$frozen"
get 2 >/dev/null && fail "no answer while paused" "curl answered" || ok "no answer while paused"
check "ctr task resume" ctrx tasks resume microblog
[ "$(task_status microblog)" = RUNNING ] && ok "task RUNNING again" || fail "task RUNNING after resume" "$(task_status microblog)"
wait_for 10 hello && ok "answers after resume" || fail "answers after resume" "$(get)"

check "ctr task kill -s SIGHUP" ctrx tasks kill -s SIGHUP microblog
if wait_for 10 grep -q 'Handling signal: hup' "$LOG"; then ok "gunicorn logged 'Handling signal: hup'"; else
    fail "gunicorn logged HUP" "$(tail -3 "$LOG" | tr '\n' ' ')"
fi
sleep 1
wait_for 15 hello && ok "still serving after HUP" || fail "serving after HUP" "$(get)"

# --- stop: SIGTERM, graceful, < 3 s, exit 0, --rm cleans up ---------------------------
t0=$(now_ms)
check "ctr task kill (SIGTERM)" ctrx tasks kill microblog
wait_for 10 not_alive "$MAIN_PID" || kill "$MAIN_PID"
wait "$MAIN_PID"
main_rc=$?
t1=$(now_ms)
MAIN_PID=
[ "$main_rc" = 0 ] && ok "ctr run microblog exits 0 after SIGTERM" || fail "exit status after SIGTERM" "$main_rc"
[ $((t1 - t0)) -lt 3000 ] && ok "stop took $((t1 - t0)) ms (< 3 s)" || fail "stop took < 3 s" "$((t1 - t0)) ms"
grep -q 'Handling signal: term' "$LOG" && ok "gunicorn logged 'Handling signal: term'" \
    || fail "gunicorn logged TERM" "$(tail -3 "$LOG" | tr '\n' ' ')"

# --- ctr run -d: ctr exits, the shim writes stdio to --log-uri -----------------------
DLOG=$T/logs/detached.log
if out=$(ctrx "${RUN[@]}" -d --log-uri "file://$DLOG" --net-host "$(cg detached)" "$IMAGE" detached 2>&1) \
    && wait_for 30 task_running detached && wait_for 30 hello; then
    ok "ctr run -d: detached task serves"
else
    fail "ctr run -d" "$out $(tail -3 "$DLOG" 2>/dev/null | tr '\n' ' ')"
fi
wait_for 10 grep -q '"GET / HTTP/1.1" 200' "$DLOG" && ok "access-log line in the --log-uri file" \
    || fail "access-log line in the --log-uri file" "$(tail -3 "$DLOG" 2>/dev/null | tr '\n' ' ')"
t0=$(now_ms)
check "ctr task kill detached (SIGTERM)" ctrx tasks kill detached
wait_for 10 task_stopped detached && t1=$(now_ms) && ok "detached task STOPPED after $((t1 - t0)) ms" \
    || fail "detached task stopped" "$(task_status detached)"
# ctr task delete (the shim runs brig delete) exits 0 whatever the task's
# status, and warns "task ... exit with non-zero exit code N" for N != 0.
out=$(ctrx tasks delete detached 2>&1)
rc=$?
if [ "$rc" = 0 ] && ! echo "$out" | grep -q 'non-zero exit code'; then ok "ctr task delete detached: exit status 0"; else
    fail "ctr task delete detached" "rc=$rc $out"
fi
check "ctr container delete detached" ctrx containers delete detached

# --- one-shot exit status ------------------------------------------------------------
ctrx "${RUN[@]}" --rm "$(cg oneshot)" "$IMAGE" oneshot sh -c 'exit 3' </dev/null >"$T/logs/oneshot.out" 2>&1
rc=$?
[ "$rc" = 3 ] && ok "one-shot sh -c 'exit 3' returns 3" || fail "one-shot exit status" "$rc: $(tail -2 "$T/logs/oneshot.out")"

# brig's errors reach ctr through the --log-format json log the shim reads.
out=$(ctrx "${RUN[@]}" --rm "$(cg badexec)" "$IMAGE" badexec /no/such/program </dev/null 2>&1)
rc=$?
if [ "$rc" != 0 ] && echo "$out" | grep -q '/no/such/program' && echo "$out" | grep -qi 'no such file\|ENOENT'; then
    ok "a missing program fails ctr run with brig's error ($(echo "$out" | grep -o 'OCI runtime create failed.*' | head -c 160))"
else
    fail "missing program error" "rc=$rc $out"
fi

# --- leaks -------------------------------------------------------------------------
left=$(ctrx tasks ls -q; ctrx containers ls -q)
[ -z "$left" ] && ok "--rm: no task or container left in containerd" || fail "containerd leftovers" "$left"
left=$(ls -A "$BRIG_ROOT/default" 2>/dev/null)
[ -z "$left" ] && ok "no brig state left" || fail "brig state left" "$left"
left=$(awk '$5 ~ /io\.containerd\.runtime\.v2\.task|\/rootfs$/ {print $5}' "/proc/$CTD_PID/mountinfo")
[ -z "$left" ] && ok "no container mount left" || fail "mounts left" "$left"
left=$(grep -F "$T" /proc/self/mountinfo)
[ -z "$left" ] && ok "nothing mounted on the host" || fail "host mounts" "$left"
left=$(find "$CGDIR" -mindepth 1 -type d; find /sys/fs/cgroup/unified -name "$CG" -type d -not -path "$CGDIR")
[ -z "$left" ] && ok "no cgroup left under $CGDIR (nor another $CG anywhere)" || fail "cgroups left" "$left"
ps_left() { for p in "$INIT_PID" $(echo "$ps_out" | awk 'NR>1 && $1 ~ /^[0-9]+$/ {print $1}'); do kill -0 "$p" 2>/dev/null && echo "$p"; done; }
left=$(ps_left)
[ -z "$left" ] && ok "no container process left" || fail "container processes left" "$left"
wait_for 5 no_netns_pids
left=$(netns_pids)
[ -z "$left" ] && ok "no shim or container process left in the engine netns" \
    || fail "processes left in the netns" "$(for p in $left; do tr '\0' ' ' <"/proc/$p/cmdline"; echo; done)"

[ "$FAILED" = 0 ] || { echo "# $FAILED check(s) failed"; exit 1; }
echo "# all containerd checks passed"
