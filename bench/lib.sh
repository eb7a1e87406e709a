# bench/lib.sh - sourced by the bench scripts.
#
# crun refuses a hybrid host whose cgroup2 mount (/sys/fs/cgroup/unified) offers controllers.
# hide_cgroup2_and_reexec NAME SCRIPT ARGS... runs SCRIPT again in a private mount namespace
# where a tmpfs covers that mount, so every tool in the run sees the same v1 layout; the
# tmpfs vanishes with the namespace. Returns (does nothing) when already inside, or when the
# host needs no hiding. BERTH_BENCH_HIDDEN names the hidden controllers for the report.

cgroup2_offers_controllers() {
  [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ] &&
    [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
    grep -q '[^[:space:]]' /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null
}

hide_cgroup2_and_reexec() {
  local name=$1 script=$2
  shift 2
  [ "${BERTH_BENCH_INSIDE:-0}" = 0 ] && cgroup2_offers_controllers || return 0
  command -v unshare >/dev/null || { echo "$name: hybrid cgroups and no unshare (util-linux)" >&2; exit 2; }
  BERTH_BENCH_HIDDEN=$(tr '\n' ' ' </sys/fs/cgroup/unified/cgroup.controllers)
  export BERTH_BENCH_HIDDEN BERTH_BENCH_INSIDE=1
  exec unshare --mount --propagation private -- /bin/bash -c \
    'mount -t tmpfs -o size=4m,mode=0755 berth-bench-unified /sys/fs/cgroup/unified || exit 3; exec "$@"' \
    "$name" /bin/bash "$script" "$@"
}
