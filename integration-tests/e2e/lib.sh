# Shared by the engine scripts (sourced).

# find_vm_run: the cgroup v2 guest launcher. shared/ sits beside the checkout (CI,
# /work/main) or beside the worktrees' dir; VM_RUN overrides.
find_vm_run() {
  local repo=$HERE/../.. c
  for c in "${VM_RUN:-}" "$repo/../shared/vm/vm-run" "$repo/../../shared/vm/vm-run" /work/shared/vm/vm-run; do
    [[ -n $c && -x $c ]] && { echo "$c"; return; }
  done
  echo vm-run
}
