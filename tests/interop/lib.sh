# lib.sh - shared setup for the podman interop tests (sourced by podman_test.sh and
# record-podman-calls.sh; not executable on its own).
#
# What it sets up:
#   - a private podman world: graph root, run root, libpod tmp dir, file locks, file events,
#     cgroupfs manager and a containers.conf of our own, so the host's podman storage and
#     configuration are never read or written;
#   - the runtime under test behind a small generated shim that appends every call (argv)
#     to a log, so a failure report can show what podman asked the runtime to do;
#   - helpers to run podman and record stdout/stderr/exit code, assertions that name the
#     command, what was expected and what came back, and a leak check (containers, cgroups,
#     mounts, runtime state named after a container id).
#
# Environment:
#   BERTH_INTEROP_RUNTIME     runtime binary to test; overrides --runtime (e.g. /usr/sbin/runc)
#   BERTH_INTEROP_STATE       graph root parent, kept between runs (image cache);
#                             default /var/tmp/berth-interop
#   BERTH_INTEROP_RUNDIR      run root parent (tmpfs); default /run/berth-interop
#   BERTH_INTEROP_CAP_ULIMITS 1: give podman a containers.conf whose default ulimits fit under
#                             this process's hard limits; 0: podman's own defaults
#                             (nofile=1048576, nproc=4194304). Default: 0 for berth-runtime,
#                             which must cap them itself with a warning; 1 for every other
#                             runtime (runc and crun fail with EPERM on a host whose root
#                             lacks CAP_SYS_RESOURCE).
#   BERTH_INTEROP_SHIM        0: hand podman the runtime binary itself, no call log
#                             (not possible for crun on a hybrid host, see below)
#   BERTH_INTEROP_KEEP        1: keep the per-test work dir (call log, outputs) after the run
#
# crun 1.8 refuses hosts whose cgroup2 mount at /sys/fs/cgroup/unified offers controllers
# (hybrid). For crun the shim therefore runs it in a private mount namespace with a tmpfs
# over /sys/fs/cgroup/unified, so it sees plain cgroup v1. runc and berth-runtime run as they
# are.

IMAGE=localhost/berth-test-busybox:latest
NAME_PREFIX=berth-it
INTEROP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf '[interop] %s\n' "$*" >&2; }
skip() { printf '[interop] SKIP: %s\n' "$*" >&2; exit 77; }
die() { printf '[interop] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- prerequisites
# interop_require: skip (77) when this machine cannot run the tests at all.
interop_require() {
  [ "$(id -u)" = 0 ] || skip "needs root (podman with a private rootful store)"
  local t
  for t in podman buildah conmon busybox flock unshare python3 timeout; do
    command -v "$t" >/dev/null 2>&1 || skip "\`$t\` not found (scripts/install-deps.sh installs it)"
  done
  [ -d /sys/fs/cgroup ] || skip "no /sys/fs/cgroup"
}

# interop_resolve_runtime PATH: sets RUNTIME (absolute), RUNTIME_KIND (berth|runc|crun|other)
interop_resolve_runtime() {
  local r=${BERTH_INTEROP_RUNTIME:-$1}
  [ -n "$r" ] || die "no runtime given: pass --runtime PATH or set BERTH_INTEROP_RUNTIME"
  if [[ $r != */* ]]; then
    r=$(command -v -- "$r") || die "runtime \`$1\` not found in PATH"
  fi
  [ -x "$r" ] || die "runtime \`$r\` is not an executable file"
  RUNTIME=$(readlink -f -- "$r")
  case "$(basename -- "$RUNTIME")" in
    berth-runtime*) RUNTIME_KIND=berth ;;
    runc*) RUNTIME_KIND=runc ;;
    crun*) RUNTIME_KIND=crun ;;
    *) RUNTIME_KIND=other ;;
  esac
}

hybrid_cgroup2_has_controllers() {
  [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ] &&
    [ "$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] &&
    grep -q '[^[:space:]]' /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null
}

# ---------------------------------------------------------------- private podman world
# interop_setup TESTNAME: creates the work dir, containers.conf, shim; exports CONTAINERS_CONF;
# builds the image when missing. Installs the EXIT trap that removes everything.
interop_setup() {
  TEST_NAME=$1
  STATE=${BERTH_INTEROP_STATE:-/var/tmp/berth-interop}
  RUNDIR=${BERTH_INTEROP_RUNDIR:-/run/berth-interop}
  GRAPHROOT=$STATE/storage
  RUNROOT=$RUNDIR/storage
  LIBPOD_TMP=$RUNDIR/libpod
  mkdir -p "$GRAPHROOT" "$RUNROOT" "$LIBPOD_TMP" "$RUNDIR/work" || die "cannot create $STATE / $RUNDIR"
  WORK=$(mktemp -d "$RUNDIR/work/$TEST_NAME.$$.XXXXXX") || die "mktemp in $RUNDIR/work failed"
  CALL_LOG=$WORK/runtime-calls.log
  # podman and conmon run from here: conmon 2.1 drops an `oom` file into its working
  # directory when a container is OOM-killed (podman 4.3 passes it no --persist-dir)
  cd "$WORK" || die "cannot enter $WORK"
  : >"$CALL_LOG"
  CREATED_IDS=()
  FAILURES=0
  trap interop_teardown EXIT
  set -E
  trap 'fail "unexpected error at line $LINENO: \`$BASH_COMMAND\`"' ERR
  trap 'exit 130' INT TERM

  # Ulimits: see the header. The hard limits of this shell are what podman and the
  # runtime inherit; podman raises its own nproc soft limit no higher than 32768 here.
  local cap=${BERTH_INTEROP_CAP_ULIMITS:-}
  if [ -z "$cap" ]; then
    if [ "$RUNTIME_KIND" = berth ]; then cap=0; else cap=1; fi
  fi
  CAP_ULIMITS=$cap   # read by the tests (t_ulimit)
  export CAP_ULIMITS
  CONF=$WORK/containers.conf
  {
    echo "# written by tests/interop/lib.sh for test $TEST_NAME (runtime $RUNTIME)"
    echo "[containers]"
    # Debian's podman default set, written out so the capability checks do not depend on the
    # built-in defaults of a particular containers/common version
    echo 'default_capabilities = ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"]'
    if [ "$cap" = 1 ]; then
      local nofile nproc
      nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
      [ "$nofile" = unlimited ] && nofile=1048576
      [ "$nproc" = unlimited ] && nproc=32768
      [ "$nofile" -gt 1048576 ] && nofile=1048576
      [ "$nproc" -gt 32768 ] && nproc=32768
      echo "# capped under this host's hard limits: $RUNTIME_KIND does not lower them itself"
      echo "default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]"
    else
      echo "# podman's default ulimits (nofile=1048576, nproc=4194304) on purpose: the runtime"
      echo "# must cap what exceeds the caller's hard limits and say so"
    fi
    echo "[engine]"
    echo "lock_type = \"file\""
    echo "events_logger = \"file\""
    echo "cgroup_manager = \"cgroupfs\""
    echo "[network]"
    echo "network_config_dir = \"$STATE/networks\""
  } >"$CONF"
  export CONTAINERS_CONF=$CONF

  # The shim: logs argv, then execs the runtime (for crun on a hybrid host, inside a private
  # mount namespace that hides the cgroup2 mount).
  PODMAN_RUNTIME=$RUNTIME
  local hide=0
  if [ "$RUNTIME_KIND" = crun ] && hybrid_cgroup2_has_controllers; then hide=1; fi
  if [ "${BERTH_INTEROP_SHIM:-1}" != 0 ] || [ "$hide" = 1 ]; then
    PODMAN_RUNTIME=$WORK/runtime-shim
    {
      echo '#!/bin/bash'
      echo "# generated by tests/interop/lib.sh: record the call, then run $RUNTIME"
      echo "{ printf '%s %s' \"\$(date +%T.%3N)\" \"\$(cat /proc/\$PPID/comm 2>/dev/null)\"; printf ' %q' \"\$@\"; echo; } >>'$CALL_LOG'"
      if [ "${SHIM_VERBOSE:-0}" = 1 ]; then
        # record-podman-calls.sh: also where stdio points, the environment podman/conmon
        # set, and copies of the files the runtime is handed (--process, config.json)
        cat <<SHIM
stdio="0=\$(readlink /proc/\$\$/fd/0) 1=\$(readlink /proc/\$\$/fd/1) 2=\$(readlink /proc/\$\$/fd/2)"
{
  printf '    stdio: %s\n' "\$stdio"
  printf '    env: %s(XDG_RUNTIME_DIR=%s)\n' "\$(env | cut -d= -f1 | sort | tr '\n' ' ')" "\${XDG_RUNTIME_DIR-unset}"
  for ((i = 1; i <= \$#; i++)); do
    a=\${!i}; j=\$((i + 1))
    case "\$a" in
      --process) cp "\${!j}" '$WORK/process.'\$\$.json 2>/dev/null && echo "    process file saved as process.\$\$.json" ;;
      --resources=*) cp "\${a#--resources=}" '$WORK/resources.'\$\$.json 2>/dev/null && echo "    resources file saved as resources.\$\$.json" ;;
      --bundle|-b) cp "\${!j}/config.json" '$WORK/config.'\$\$.json 2>/dev/null && echo "    config.json saved as config.\$\$.json" ;;
    esac
  done
} >>'$CALL_LOG'
SHIM
      fi
      if [ "$hide" = 1 ]; then
        echo "exec unshare --mount --propagation private /bin/sh -c 'mount -t tmpfs -o size=1m,mode=0755 berth-hide-unified /sys/fs/cgroup/unified && exec \"\$0\" \"\$@\"' '$RUNTIME' \"\$@\""
      else
        echo "exec '$RUNTIME' \"\$@\""
      fi
    } >"$PODMAN_RUNTIME"
    chmod 0755 "$PODMAN_RUNTIME"
  fi
  PODMAN=(podman --root "$GRAPHROOT" --runroot "$RUNROOT" --tmpdir "$LIBPOD_TMP"
          --storage-driver overlay --cgroup-manager cgroupfs --events-backend file
          --runtime "$PODMAN_RUNTIME")
  log "test $TEST_NAME: runtime $RUNTIME ($RUNTIME_KIND), ulimits $([ "$cap" = 1 ] && echo capped by containers.conf || echo "podman defaults"), work dir $WORK"
  sweep_stale
  "$INTEROP_DIR/make-busybox-image.sh" --root "$GRAPHROOT" --runroot "$RUNROOT" >/dev/null ||
    die "building $IMAGE failed"
}

# sweep_stale: remove containers left by test processes that died without their teardown
# (CTest kills a test that times out with SIGKILL). Names carry the test's pid.
sweep_stale() {
  local name id pid rt made
  while read -r name id; do
    [[ $name =~ ^$NAME_PREFIX-[a-z0-9_]+-([0-9]+)- ]] || continue
    pid=${BASH_REMATCH[1]}
    if [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q 'podman_test\|record-podman-calls'; then
      continue
    fi
    rt=$("${PODMAN[@]}" inspect --format '{{.OCIRuntime}}' "$id" 2>/dev/null || true)
    [ -n "$rt" ] || rt=$PODMAN_RUNTIME
    made='' newdir=''
    if [[ $rt == /* ]] && [ ! -e "$rt" ]; then
      # its shim went with its work dir: a plain pass-through to the runtime under test
      [ -d "$(dirname "$rt")" ] || { mkdir -p "$(dirname "$rt")" && newdir=$(dirname "$rt"); }
      printf '#!/bin/sh\nexec %s "$@"\n' "$RUNTIME" >"$rt" && chmod 0755 "$rt" && made=$rt
    fi
    log "removing $name (${id:0:12}), left by a dead test process $pid"
    timeout -k 5 60 "${PODMAN[@]:0:${#PODMAN[@]}-1}" "$rt" rm -f -t 0 "$id" >/dev/null 2>&1 ||
      log "could not remove $name: remove it by hand (podman --root $GRAPHROOT --runroot $RUNROOT --tmpdir $LIBPOD_TMP rm -f $id)"
    [ -z "$made" ] || rm -f -- "$made"
    [ -z "$newdir" ] || rmdir -- "$newdir" 2>/dev/null || true
  done < <("${PODMAN[@]}" ps -a --format '{{.Names}} {{.ID}}' --filter "name=^$NAME_PREFIX-" 2>/dev/null || true)
  # and their work dirs (NAME.PID.XXXXXX), once their containers are gone
  local d
  for d in "$RUNDIR"/work/*.*.*; do
    [ -d "$d" ] || continue
    pid=${d%.*}; pid=${pid##*.}
    [[ $pid =~ ^[0-9]+$ ]] && [ "$pid" != $$ ] && [ ! -e "/proc/$pid" ] && rm -rf -- "$d"
  done
  return 0
}

# interop_teardown: remove every container this test made, report leaks of the removal
# itself, drop the work dir. Runs on every exit path.
interop_teardown() {
  local rc=$? ids
  trap - EXIT
  trap - ERR
  [ -n "${PODMAN+x}" ] || exit "$rc"
  ids=$("${PODMAN[@]}" ps -aq --filter "name=^$NAME_PREFIX-$TEST_NAME-$$-" 2>/dev/null)
  if [ -n "$ids" ]; then
    log "teardown: removing leftover containers: ${ids//$'\n'/ }"
    # shellcheck disable=SC2086
    timeout 60 "${PODMAN[@]}" rm -f -t 0 $ids >/dev/null 2>&1 || log "teardown: podman rm -f failed"
  fi
  if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -s "${CALL_LOG:-/nonexistent}" ]; then
    log "runtime calls made by podman during this test (last 40):"
    tail -n 40 "$CALL_LOG" | sed 's/^/    /' >&2
  fi
  if [ "${BERTH_INTEROP_KEEP:-0}" = 1 ]; then
    log "kept $WORK"
  else
    rm -rf -- "$WORK"
  fi
  exit "$rc"
}

# ---------------------------------------------------------------- running things
# cname SUFFIX: a container name unique to this test process (the teardown filters on it)
cname() { echo "$NAME_PREFIX-$TEST_NAME-$$-$1"; }
# run1 ARGS...: a one-shot `podman run --rm` (no network, no pull) under a name of ours, so
# the teardown finds it even when podman was killed before it could remove it
RUN_SEQ=0
run1() {
  RUN_SEQ=$((RUN_SEQ + 1))
  pod run --rm --network none --pull never --name "$(cname "r$RUN_SEQ")" "$@"
}
# run1_argv: the same start of argv, for callers that run podman themselves (pty tests)
run1_argv() {
  RUN_SEQ=$((RUN_SEQ + 1))
  # shellcheck disable=SC2034  # used by the caller
  RUN1=("${PODMAN[@]}" run --rm --network none --pull never --name "$(cname "r$RUN_SEQ")")
}

# pod ARGS...: run podman with the private world; sets OUT, ERR, RC and LAST_CMD; never
# aborts the script. A 90 s guard kills a hung podman.
pod() {
  LAST_CMD="podman $*"
  local o=$WORK/.out e=$WORK/.err
  RC=0
  timeout -k 10 90 "${PODMAN[@]}" "$@" >"$o" 2>"$e" </dev/null || RC=$?
  OUT=$(cat "$o"); ERR=$(cat "$e")
  return 0
}
# pod_stdin INPUT ARGS...: like pod, with INPUT on standard input
pod_stdin() {
  local input=$1; shift
  LAST_CMD="printf %s '$input' | podman $*"
  local o=$WORK/.out e=$WORK/.err
  RC=0
  printf '%s' "$input" | timeout -k 10 90 "${PODMAN[@]}" "$@" >"$o" 2>"$e" || RC=$?
  OUT=$(cat "$o"); ERR=$(cat "$e")
  return 0
}
# pod_ok ARGS...: pod, and a failure (naming the command) when podman itself fails; the
# test goes on
pod_ok() {
  pod "$@"
  [ "$RC" = 0 ] || fail "\`$LAST_CMD\` exited $RC: $(tail_err)"
}
# pod_must ARGS...: pod_ok, and stop the test when it fails (nothing after can be checked)
pod_must() {
  pod_ok "$@"
  [ "$RC" = 0 ] || exit 1
}
tail_err() { printf '%s' "$ERR" | tail -n 3 | tr '\n' ' ' | cut -c1-400; }

# track NAME: remember the container id so the leak check can look for it
track() {
  local id
  id=$("${PODMAN[@]}" inspect --format '{{.Id}}' "$1" 2>/dev/null) || return 0
  [ -n "$id" ] && CREATED_IDS+=("$id")
}
# run_d NAME ARGS...: podman run -d --name NAME --network none ARGS..., tracked; stops the
# test when it fails
run_d() {
  local n=$1; shift
  pod_must run -d --name "$n" --network none --pull never "$@"
  CREATED_IDS+=("$OUT")
}
# inspect_f NAME FORMAT: prints the formatted field
inspect_f() { "${PODMAN[@]}" inspect --format "$2" "$1" 2>/dev/null; }

# wait_until TIMEOUT_S CMD...: polls every 0.1 s until CMD succeeds; returns 1 on timeout.
# CMD's arguments are expanded once, by the caller: put anything that must be re-read on
# each poll (podman state, file contents) in a function such as status_is.
wait_until() {
  local t=$1 i; shift
  for ((i = 0; i < t * 10; i++)); do
    "$@" && return 0
    sleep 0.1
  done
  "$@"
}

# predicates for wait_until (evaluated afresh on every poll)
status_is() { [ "$(inspect_f "$1" '{{.State.Status}}')" = "$2" ]; }
lines_more_than() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -gt "$2" ]; }

# host_cgroup_dir NAME CONTROLLER: the container's cgroup directory on the host (v1)
host_cgroup_dir() {
  local pid path
  pid=$(inspect_f "$1" '{{.State.Pid}}')
  [ -n "$pid" ] && [ "$pid" != 0 ] || return 1
  path=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$pid/cgroup")
  [ -n "$path" ] || return 1
  echo "/sys/fs/cgroup/$2$path"
}

# ---------------------------------------------------------------- assertions
fail() {
  FAILURES=$((FAILURES + 1))
  printf '[interop] FAIL %s: %s\n' "$TEST_NAME" "$*" >&2
}
# expect_rc WANT: the last pod call exited WANT
expect_rc() {
  [ "$RC" = "$1" ] || fail "\`$LAST_CMD\`: expected exit code $1, got $RC (stdout: $(printf '%s' "$OUT" | head -c 300 | tr '\n' ' '); stderr: $(tail_err))"
}
# expect_eq WHAT WANT GOT
expect_eq() {
  [ "$2" = "$3" ] || fail "$1: expected \`$2\`, got \`$3\` (after \`$LAST_CMD\`)"
}
# expect_match WHAT ERE GOT
expect_match() {
  [[ $3 =~ $2 ]] || fail "$1: expected to match /$2/, got \`$(printf '%s' "$3" | head -c 400)\` (after \`$LAST_CMD\`)"
}
# expect_no_match WHAT ERE GOT
expect_no_match() {
  [[ ! $3 =~ $2 ]] || fail "$1: expected no match for /$2/, got \`$(printf '%s' "$3" | head -c 400)\` (after \`$LAST_CMD\`)"
}

# expect_clean: every container of this test is gone, and nothing on the host is named
# after any of their ids: cgroup directories (all hierarchies), mounts, runtime state and
# podman's per-container directories.
expect_clean() {
  local left id hits
  left=$("${PODMAN[@]}" ps -a --format '{{.Names}} {{.Status}}' --filter "name=^$NAME_PREFIX-$TEST_NAME-$$-" 2>/dev/null)
  [ -z "$left" ] || fail "containers left behind (podman ps -a): $left"
  for id in "${CREATED_IDS[@]+"${CREATED_IDS[@]}"}"; do
    hits=$(find /sys/fs/cgroup -maxdepth 5 -type d -name "*$id*" 2>/dev/null | head -5)
    [ -z "$hits" ] || fail "cgroups left behind for ${id:0:12}: ${hits//$'\n'/ }"
    hits=$(grep -F "$id" /proc/self/mountinfo | awk '{print $5}' | head -5 || true)
    [ -z "$hits" ] || fail "mounts left behind for ${id:0:12}: ${hits//$'\n'/ }"
    hits=$(find /run /var/run -xdev -maxdepth 4 -name "*$id*" 2>/dev/null | head -5)
    [ -z "$hits" ] || fail "runtime or podman state left behind for ${id:0:12}: ${hits//$'\n'/ }"
    hits=$(find "$GRAPHROOT/overlay-containers" -maxdepth 1 -name "$id" 2>/dev/null)
    [ -z "$hits" ] || fail "podman container dir left behind: $hits"
  done
}

# interop_finish: the leak check, then the verdict
interop_finish() {
  expect_clean
  if [ "$FAILURES" -gt 0 ]; then
    log "test $TEST_NAME: $FAILURES check(s) FAILED against $RUNTIME"
    exit 1
  fi
  log "test $TEST_NAME: ok against $RUNTIME"
  exit 0
}
