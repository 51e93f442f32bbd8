# Shared by the engine scripts (sourced): TAP-style reporting, polling,
# package installation and the cgroup v2 guest launcher.

# One line per check: `ok - WHAT` or `not ok - WHAT: DETAIL`. A script ends
# with `exit $((FAILED > 0))`.
FAILED=0
ok() { echo "ok - $*"; }
fail() { echo "not ok - $1: ${2:-}"; FAILED=$((FAILED + 1)); }
# check WHAT CMD...: ok when CMD succeeds, else not ok with the end of its output.
check() {
  local what=$1 out; shift
  if out=$("$@" 2>&1); then ok "$what"; else fail "$what" "$(tail -c 400 <<<"$out" | tr '\n' ' ')"; fi
}
# wait_for SECONDS CMD...: polls CMD every 0.2 s until it succeeds.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# install_missing PKG...: apt-get installs the Debian packages not yet installed
# (waiting for the dpkg lock: other engine scripts may be installing too).
install_missing() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  ((${#missing[@]})) || return 0
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -q >&2 &&
    apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" >&2
}

# find_vm_run: the cgroup v2 guest launcher. shared/ sits beside the checkout (CI,
# /work/main) or beside the worktrees' dir; VM_RUN overrides.
find_vm_run() {
  local repo=$HERE/../.. c
  for c in "${VM_RUN:-}" "$repo/../shared/vm/vm-run" "$repo/../../shared/vm/vm-run" /work/shared/vm/vm-run; do
    [[ -n $c && -x $c ]] && { echo "$c"; return; }
  done
  echo vm-run
}
