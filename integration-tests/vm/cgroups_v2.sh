#!/usr/bin/env bash
# cgroups_v2.sh — brig's cgroup v2 checks inside ONE vm-run guest (pure
# cgroup v2, every controller enabled), asserting real effects:
# memory OOM + events, pids, cpu.max throttling, cpuset, io files, device
# eBPF (default allow-list, deny-list, live update), update, pause/resume,
# events --stats against the cgroup files.
#
#   host:  cgroups_v2.sh BRIG SCRATCH [vm-run options]   (run as root)
#   guest: cgroups_v2.sh --inside BRIG SCRATCH
#
# Prints one "ok - ..." / "not ok - ..." line per check (TAP-like) and exits
# with the number of failed checks (0 = all passed).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
VM_RUN=${VM_RUN:-$HERE/../../../shared/vm/vm-run}
[[ -x $VM_RUN ]] || VM_RUN=/work/shared/vm/vm-run

if [[ ${1:-} != --inside ]]; then
  # ------------------------------------------------------------ host side
  BRIG=$(realpath "$1"); S=$(realpath -m "$2"); shift 2
  rm -rf "$S"; mkdir -p "$S/rootfs/bin" "$S/rootfs/proc" "$S/rootfs/sys" "$S/rootfs/dev" "$S/rootfs/tmp"
  cp /bin/busybox "$S/rootfs/bin/busybox"
  for a in $(/bin/busybox --list); do [[ $a == busybox ]] || ln -sf busybox "$S/rootfs/bin/$a"; done
  # base config: runc's default spec (brig spec would do, see the report)
  (cd "$S" && runc spec && mv config.json base.json)
  cd "$S"
  exec "$VM_RUN" --timeout "${VM_TIMEOUT:-420}" "$@" -- "$HERE/cgroups_v2.sh" --inside "$BRIG" "$S"
fi

# ------------------------------------------------------------ guest side
set +e
BRIG=$2; S=$3
R=/run/brigtest                 # tmpfs: mknod works there (not on 9p)
STATE=$R/state; L=$S/logs
# /run is nodev: device nodes there cannot be opened at all, so the rootfs
# goes on a tmpfs mounted with dev, with the few nodes the tests use.
mkdir -p $R $L; mount -t tmpfs -o dev,mode=755 brigtest $R; cp -a "$S/rootfs" $R/rootfs
mknod -m 666 $R/rootfs/dev/null c 1 3; mknod -m 666 $R/rootfs/dev/zero c 1 5
CG=/sys/fs/cgroup
FAILS=0
ok()   { echo "ok - $*"; }
fail() { echo "not ok - $*"; FAILS=$((FAILS+1)); }
check() { local name=$1; shift; if "$@"; then ok "$name"; else fail "$name"; fi; }
eq()   { [[ "$1" == "$2" ]] || { echo "    # expected [$2], got [$1]" >&2; return 1; }; }
brig() { "$BRIG" --root "$STATE" "$@"; }
cg()   { cat "$CG/brigtest-$1/$2" 2>/dev/null; }
key()  { awk -v k="$3" '$1 == k { print $2 }' "$CG/brigtest-$1/$2"; }
wait_for() { local i; for i in $(seq 1 "$1"); do eval "$2" && return 0; sleep 0.5; done; return 1; }
# mk NAME JQ-FILTER SCRIPT: a bundle sharing $R/rootfs, cgroup /brigtest-NAME
mk() {
  mkdir -p "$R/b/$1"
  jq --arg script "$3" --arg root "$R/rootfs" "
    .root = {path: \$root, readonly: false}
    | .process.terminal = false
    | .process.args = [\"/bin/sh\", \"-c\", \$script]
    | .linux.cgroupsPath = \"/brigtest-$1\"
    | $2" "$S/base.json" > "$R/b/$1/config.json"
}
up() { brig create -b "$R/b/$1" "$1" > "$L/$1.log" 2>&1 && brig start "$1"; }
down() { brig delete --force "$1" >/dev/null 2>&1; }
CAPS='.process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]'

echo "# guest $(uname -r), controllers: $(cat $CG/cgroup.controllers)"
T0=$(date +%s)

# ---- memory: 32 MiB limit OOM-kills a 100 MiB hog; events reports it
mk mem '.linux.resources.memory = {limit: 33554432}' \
  'sleep 2; dd if=/dev/zero of=/dev/null bs=100M count=1; echo dd=$?; sleep 1000'
brig create -b $R/b/mem mem > $L/mem.log 2>&1
brig events --interval 1s mem > $L/mem.events 2>$L/mem.events.err &
EV=$!
brig start mem
check "memory: memory.max = 32 MiB" eq "$(cg mem memory.max)" 33554432
check "memory: 100 MiB hog OOM-killed (oom_kill 1)" wait_for 40 '[ "$(key mem memory.events oom_kill)" = 1 ]'
check "memory: the hog died of SIGKILL (dd=137)" wait_for 10 'grep -q dd=137 $L/mem.log'
check "events: oom event" wait_for 10 'grep -q "\"type\":\"oom\"" $L/mem.events'
check "events: stats events stream" wait_for 10 'grep -q "\"type\":\"stats\"" $L/mem.events'
down mem
check "events: stream ends when the container stops" wait_for 20 '! kill -0 $EV 2>/dev/null'
kill $EV 2>/dev/null

# ---- pids: pids.max = 10 contains a fork bomb
# The bomb runs in a child shell (which dies on the first refused fork);
# PID 1 then execs, which needs no fork.
mk pids '.linux.resources.pids = {limit: 10}' \
  'sh -c "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 1000 & done" 2>/dev/null; exec sleep 1001'
up pids
sleep 3
check "pids: pids.max = 10" eq "$(cg pids pids.max)" 10
n=$(cg pids pids.current)
check "pids: pids.current ($n) <= 10" [ "${n:-99}" -le 10 ]
check "pids: forks were refused (pids.events max > 0)" [ "$(key pids pids.events max)" -gt 0 ]
check "ps --format json: the container's pids" eq "$(brig ps --format json pids | jq length)" "$n"
check "ps: table with header and sleeps" bash -c "brig() { \"$BRIG\" --root $STATE \"\$@\"; }; out=\$(brig ps pids); grep -q PID <<<\"\$out\" && [ \$(grep -c 'sleep 100' <<<\"\$out\") -ge 2 ]"
down pids

# ---- cpu: cpu.max throttles, shares → weight, cpuset pins
mk cpu '.linux.resources.cpu = {quota: 20000, period: 100000, shares: 1024, cpus: "1"}' 'while :; do :; done'
up cpu
sleep 3
check "cpu: cpu.max = 20000 100000" eq "$(cg cpu cpu.max)" "20000 100000"
check "cpu: cpu.weight = 39 (shares 1024)" eq "$(cg cpu cpu.weight)" 39
check "cpu: throttled (nr_throttled > 0)" [ "$(key cpu cpu.stat nr_throttled)" -gt 0 ]
check "cpuset: cpuset.cpus.effective = 1" eq "$(cg cpu cpuset.cpus.effective)" 1
pid=$(brig state cpu | jq .pid)
check "cpuset: the init may run only on cpu 1" eq "$(awk '/Cpus_allowed_list/ {print $2}' /proc/$pid/status)" 1
brig events --stats cpu > $L/cpu.stats
check "events --stats: throttling matches cpu.stat" [ "$(jq .data.cpu.throttling.periods $L/cpu.stats)" -gt 0 ]
down cpu

# ---- io: weight and io.max on a ram disk
modprobe brd rd_nr=2 rd_size=1024 2>/dev/null
DEV=$(cat /sys/block/ram0/dev 2>/dev/null); MAJ=${DEV%:*}; MIN=${DEV#*:}
if [[ -n $DEV ]]; then
  mk io ".linux.resources.blockIO = {weight: 500,
      throttleReadBpsDevice: [{major: $MAJ, minor: $MIN, rate: 1048576}],
      throttleWriteIOPSDevice: [{major: $MAJ, minor: $MIN, rate: 100}]}
    | .linux.resources.hugepageLimits = [{pageSize: \"2MB\", limit: 4194304}]
    | .linux.resources.unified = {\"memory.high\": \"50003968\", \"pids.max\": \"33\"}" 'sleep 1000'
  up io
  check "hugetlb: hugetlb.2MB.max = 4 MiB" eq "$(cg io hugetlb.2MB.max)" 4194304
  check "hugetlb: hugetlb.2MB.rsvd.max = 4 MiB" eq "$(cg io hugetlb.2MB.rsvd.max)" 4194304
  check "unified: memory.high and pids.max written" eq "$(cg io memory.high) $(cg io pids.max)" "50003968 33"
  check "io: io.max = rbps 1048576, wiops 100" eq "$(grep "^$DEV " $CG/brigtest-io/io.max)" "$DEV rbps=1048576 wbps=max riops=max wiops=100"
  if [[ -e $CG/brigtest-io/io.bfq.weight ]]; then
    check "io: io.bfq.weight default 500" eq "$(head -1 $CG/brigtest-io/io.bfq.weight)" "default 500"
  else
    check "io: io.weight default 4950 (converted from 500)" eq "$(head -1 $CG/brigtest-io/io.weight)" "default 4950"
  fi
  down io
else
  fail "io: no ram disk (modprobe brd failed)"
fi

# ---- clear errors, and nothing left behind
mk net '.linux.resources.network = {classID: 1048577}' 'true'
check "network classID is a clear error on v2" bash -c "$BRIG --root $STATE run -b $R/b/net net 2>&1 | grep -q 'do not exist in cgroup v2'"
mk rt '.linux.resources.cpu = {realtimeRuntime: 950000, realtimePeriod: 1000000}' 'true'
check "realtime cpu is a clear error on v2" bash -c "$BRIG --root $STATE run -b $R/b/rt rt 2>&1 | grep -q 'no realtime'"
mk ukey '.linux.resources.unified = {"../cgroup.procs": "1"}' 'true'
check "unified key with .. is refused" bash -c "! $BRIG --root $STATE run -b $R/b/ukey ukey 2>/dev/null"
check "failed creates leave no cgroup and no state" eq "$(ls -d $CG/brigtest-net $CG/brigtest-rt $CG/brigtest-ukey $STATE/net $STATE/rt $STATE/ukey 2>/dev/null)" ""

# ---- devices: default allow-list; deny-list; live update
# try NAME CMD: logs NAME=ok, or NAME=EPERM only for "Operation not permitted"
TRY='try() { n=$1; shift; if e=$("$@" 2>&1 >/dev/null); then echo $n=ok; else case $e in *"not permitted"*) echo $n=EPERM;; *) echo "$n=other: $e";; esac; fi; }'
mk devdef "$CAPS" "$TRY
  try mknod mknod /dev/blk b $MAJ $MIN
  try open head -c1 /dev/blk
  try null head -c1 /dev/null
  while :; do if [ -e /go ]; then try open2 head -c1 /dev/blk; try write2 sh -c 'echo x > /dev/blk'; rm /go; fi; sleep 0.2; done"
up devdef
check "devices: default list still allows mknod (runc's b *:* m)" wait_for 20 'grep -q mknod=ok $L/devdef.log'
check "devices: default list denies opening a block device (EPERM)" wait_for 10 'grep -q open=EPERM $L/devdef.log'
check "devices: default list allows /dev/null" grep -q null=ok $L/devdef.log
echo "{\"devices\":[{\"allow\":true,\"type\":\"b\",\"major\":$MAJ,\"minor\":$MIN,\"access\":\"r\"}]}" | brig update -r - devdef
touch $R/rootfs/go
check "devices: update allows reading it live" wait_for 20 'grep -q open2=ok $L/devdef.log'
check "devices: ... but not writing (access r)" wait_for 10 'grep -q write2=EPERM $L/devdef.log'
down devdef; rm -f $R/rootfs/go $R/rootfs/dev/blk

mk devdeny "$CAPS | .linux.resources.devices = [{allow: true, access: \"rwm\"}, {allow: false, type: \"b\", major: $MAJ, minor: $MIN, access: \"rwm\"}]" \
  "$TRY
  try mknod0 mknod /dev/blk0 b $MAJ $MIN
  try mknod1 mknod /dev/blk1 b $MAJ $((MIN+1))
  try open1 head -c1 /dev/blk1
  try openram0 head -c1 /ram0
  sleep 1000"
# not under /dev: the container mounts a tmpfs there
cp -a /dev/ram0 $R/rootfs/ram0
up devdeny
check "devices: denied block device cannot be mknod'ed (EPERM)" wait_for 20 'grep -q mknod0=EPERM $L/devdeny.log'
check "devices: denied block device cannot be opened (EPERM)" wait_for 10 'grep -q openram0=EPERM $L/devdeny.log'
check "devices: another block device can be mknod'ed and opened" wait_for 10 'grep -q open1=ok $L/devdeny.log'
down devdeny; rm -f $R/rootfs/dev/blk0 $R/rootfs/dev/blk1 $R/rootfs/ram0

# ---- update: memory, pids, cpu live; saved in state.json
mk upd '.linux.resources.memory = {limit: 67108864} | .linux.resources.pids = {limit: 20}' 'sleep 1000'
up upd
brig update --memory 48m --pids-limit 15 --cpu-quota 30000 --cpu-period 100000 --cpu-share 512 upd
check "update: memory.max = 48 MiB" eq "$(cg upd memory.max)" 50331648
check "update: pids.max = 15" eq "$(cg upd pids.max)" 15
check "update: cpu.max = 30000 100000" eq "$(cg upd cpu.max)" "30000 100000"
check "update: cpu.weight = 20 (shares 512)" eq "$(cg upd cpu.weight)" 20
check "update: state.json keeps the new memory limit" eq "$(jq .config.linux.resources.memory.limit $STATE/upd/state.json)" 50331648
echo '{"pids":{"limit":12},"memory":{"limit":0}}' | brig update -r - upd
check "update -r -: pids.max = 12, memory unchanged" eq "$(cg upd pids.max) $(cg upd memory.max)" "12 50331648"
brig update --cpu-period 200000 upd
check "update: a lone period keeps the quota" eq "$(cg upd cpu.max)" "30000 200000"
check "update: memory below usage with checkBeforeUpdate is refused" bash -c \
  "echo '{\"memory\":{\"limit\":4096,\"checkBeforeUpdate\":true}}' | $BRIG --root $STATE update -r - upd 2>/dev/null; [ \$? -ne 0 ]"
brig events --stats upd > $L/upd.stats
check "events --stats: pids.current matches" eq "$(jq .data.pids.current $L/upd.stats)" "$(cg upd pids.current)"
check "events --stats: pids.limit matches" eq "$(jq .data.pids.limit $L/upd.stats)" 12
check "events --stats: memory limit matches" eq "$(jq .data.memory.usage.limit $L/upd.stats)" "$(cg upd memory.max)"
check "events --stats: cpu usage matches cpu.stat" eq "$(jq '.data.cpu.usage.total / 1000 | floor' $L/upd.stats)" "$(key upd cpu.stat usage_usec)"
check "events --stats: memory.stat raw anon matches" eq "$(jq .data.memory.raw.anon $L/upd.stats)" "$(key upd memory.stat anon)"
down upd

# ---- placement: cgroup namespace and exec
# A host /proc in the rootfs stands in for the spec's /proc mount (a mount
# the container makes itself, where brig's rootfs code does so, hides it).
mount -t proc proc $R/rootfs/proc
mk cgns '.linux.namespaces = (.linux.namespaces + [{type: "cgroup"}] | unique_by(.type))' 'cat /proc/self/cgroup; sleep 1000'
up cgns
check "cgroup namespace: the container sees its cgroup as /" wait_for 10 'grep -qx "0::/" $L/cgns.log'
check "exec joins the container's cgroup (and cgroup namespace)" eq "$(brig exec cgns cat /proc/self/cgroup 2>&1)" "0::/"
down cgns
umount $R/rootfs/proc

# ---- pause / resume
mk spin '.' 'while :; do :; done'
up spin
sleep 1
brig pause spin
check "pause: state says paused" eq "$(brig state spin | jq -r .status)" paused
check "pause: cgroup.events frozen 1" eq "$(key spin cgroup.events frozen)" 1
u1=$(key spin cpu.stat usage_usec); sleep 1; u2=$(key spin cpu.stat usage_usec)
check "pause: cpu usage stops ($u1 = $u2)" eq "$u1" "$u2"
brig resume spin
sleep 1; u3=$(key spin cpu.stat usage_usec)
check "resume: cpu usage continues ($u3 > $u2)" [ "$u3" -gt "$u2" ]
check "resume: state says running" eq "$(brig state spin | jq -r .status)" running
brig pause spin
brig delete --force spin
check "delete --force of a paused container" [ ! -d $STATE/spin ]
check "... removes its cgroup" [ ! -d $CG/brigtest-spin ]
brig create -b $R/b/spin spin2 >/dev/null 2>&1
brig pause spin2
check "pause before start freezes the init" eq "$(key spin cgroup.events frozen)" 1
brig resume spin2
check "resume of a container paused before start" eq "$(key spin cgroup.events frozen)" 0
down spin2

echo "# $FAILS failed, $(( $(date +%s) - T0 )) s in the guest"
exit $FAILS
