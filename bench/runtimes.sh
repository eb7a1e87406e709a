#!/usr/bin/env bash
# runtimes.sh - runc-compatible OCI runtimes side by side on one busybox bundle.
#
# Usage: bench/runtimes.sh [options] RUNTIME...
#   RUNTIME        a path or command name, optionally labelled: LABEL=PATH
#                  (e.g. berth=build/release/src/cmd/berth-runtime/berth-runtime runc crun)
#   -n N           timed rounds (default 50); each round runs every runtime once, in an order
#                  that rotates from round to round
#   -w N           untimed warm-up rounds (default 3)
#   -m N           rounds of the peak-RSS pass under GNU time (default 10; 0 skips it)
#   --no-lifecycle skip the create/start/state.../delete measurement
#   --native       run on the host's cgroup layout as it is (see "Hybrid hosts")
#   -o DIR         also keep the raw samples (one file per runtime and measure) in DIR
#   -h             this help
#
# What is measured, for the container process /bin/true in a read-only busybox rootfs with
# pid, net, ipc, uts and mount namespaces (the default spec of runc, without a terminal):
#   run            wall time of `RUNTIME run --bundle B ID` (median, min, max)
#   lifecycle      wall time of create, start, `state` polled until "stopped", delete: the
#                  calls a container engine makes, each a separate exec of the runtime
#   cpu            mean user+system CPU time of `run`: the runtime plus every process it
#                  waited for (getrusage of reaped children, through bash's `times`)
#   rss            peak resident set of the biggest process in the runtime's tree during
#                  `run` (GNU time %M), the largest of the -m samples
# Ratios are to the first runtime named. Every runtime gets its own --root state directory
# under a temporary directory, removed at exit with anything left running in it.
#
# Hybrid hosts: where /sys/fs/cgroup is cgroup v1 and /sys/fs/cgroup/unified is a cgroup2
# mount that offers controllers, crun 1.8 refuses to run. Unless --native is given, the
# script then runs itself in a private mount namespace with an empty tmpfs over
# /sys/fs/cgroup/unified, so every runtime sees the same plain cgroup v1 layout (fair), and
# the host's view is untouched. With --native, a runtime that refuses the host is reported
# as FAILED with its error.
#
# Output: a markdown table fragment on stdout (paste into docs/benchmarks.md); progress and
# notes on stderr. Exit status 0 when every runtime passed its first run, 1 otherwise, 2 on
# usage errors. Needs root, bash 5, busybox-static, GNU time (/usr/bin/time), util-linux.
set -euo pipefail

ROUNDS=50 WARM=3 RSS_ROUNDS=10 LIFECYCLE=1 NATIVE=0 RAW=''
SPECS=()
ORIG_ARGS=("$@")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "runtimes.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    -n) ROUNDS=${2:?-n needs a number}; shift 2 ;;
    -w) WARM=${2:?-w needs a number}; shift 2 ;;
    -m) RSS_ROUNDS=${2:?-m needs a number}; shift 2 ;;
    --no-lifecycle) LIFECYCLE=0; shift ;;
    --native) NATIVE=1; shift ;;
    -o) RAW=${2:?-o needs a directory}; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    --) shift; SPECS+=("$@"); break ;;
    -*) die "unknown option $1 (-h for help)" ;;
    *) SPECS+=("$1"); shift ;;
  esac
done
[ ${#SPECS[@]} -ge 1 ] || { usage >&2; exit 2; }
for v in "$ROUNDS" "$WARM" "$RSS_ROUNDS"; do [[ $v =~ ^[0-9]+$ ]] || die "-n/-w/-m take whole numbers"; done
[ "$ROUNDS" -ge 1 ] || die "-n must be at least 1"
[ "$(id -u)" = 0 ] || die "needs root"
[ -n "${EPOCHREALTIME:-}" ] || die "needs bash 5 (EPOCHREALTIME)"

# ---------------------------------------------------------------- hybrid cgroups
# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
[ "$NATIVE" = 1 ] || hide_cgroup2_and_reexec runtimes.sh "$0" "${ORIG_ARGS[@]}"

# ---------------------------------------------------------------- runtimes
LABELS=() PATHS=()
for s in "${SPECS[@]}"; do
  label='' path=$s
  if [[ $s == *=* ]]; then label=${s%%=*}; path=${s#*=}; fi
  if [[ $path != */* ]]; then path=$(command -v -- "$path") || die "runtime \`$s\` not found"; fi
  [ -x "$path" ] || die "runtime \`$path\` is not executable"
  path=$(readlink -f -- "$path")
  [ -n "$label" ] || label=$(basename -- "$path")
  for l in "${LABELS[@]+"${LABELS[@]}"}"; do [ "$l" != "$label" ] || die "label \`$label\` given twice"; done
  LABELS+=("$label"); PATHS+=("$path")
done
R=${#PATHS[@]}

WORK=$(mktemp -d /tmp/berth-bench-runtimes.XXXXXX)
CUR=''   # "index id" of the container in flight
# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  local i id
  if [ -n "$CUR" ]; then
    "${PATHS[${CUR%% *}]}" --root "$WORK/state.${CUR%% *}" delete -f "${CUR#* }" >/dev/null 2>&1 || true
  fi
  for ((i = 0; i < R; i++)); do
    for id in "$WORK/state.$i"/*; do
      [ -e "$id" ] || continue
      "${PATHS[$i]}" --root "$WORK/state.$i" delete -f "${id##*/}" >/dev/null 2>&1 || true
    done
  done
  rm -rf -- "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for ((i = 0; i < R; i++)); do mkdir -p "$WORK/state.$i"; done

# ---------------------------------------------------------------- the bundle
BUNDLE=$WORK/bundle
make_bundle() {
  local bb a
  bb=$(command -v busybox) || die "busybox not found (apt-get install busybox-static)"
  bb=$(readlink -f "$bb")
  ! ldd "$bb" >/dev/null 2>&1 || die "$bb is dynamically linked: install busybox-static"
  mkdir -p "$BUNDLE/rootfs"/{bin,dev,etc,proc,sys,tmp,root,run}
  install -m 0755 "$bb" "$BUNDLE/rootfs/bin/busybox"
  for a in sh true false echo sleep cat ls ps id; do ln -s busybox "$BUNDLE/rootfs/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$BUNDLE/rootfs/etc/passwd"
  echo 'root:x:0:' >"$BUNDLE/rootfs/etc/group"
  cat >"$BUNDLE/config.json" <<'JSON'
{
  "ociVersion": "1.0.2",
  "process": {
    "terminal": false,
    "user": {"uid": 0, "gid": 0},
    "args": ["/bin/true"],
    "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
    "cwd": "/",
    "capabilities": {
      "bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
      "ambient": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    },
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": true
  },
  "root": {"path": "rootfs", "readonly": true},
  "hostname": "bench",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
     "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
     "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
    {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
     "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
    {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
     "options": ["nosuid", "noexec", "nodev"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs",
     "options": ["nosuid", "noexec", "nodev", "ro"]},
    {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
     "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
  ],
  "linux": {
    "resources": {"devices": [{"allow": false, "access": "rwm"}]},
    "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"},
                   {"type": "uts"}, {"type": "mount"}],
    "maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
      "/sys/firmware", "/proc/scsi"],
    "readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
  }
}
JSON
}
make_bundle

# ---------------------------------------------------------------- one measurement each
SEQ=0
next_id() { SEQ=$((SEQ + 1)); ID="bench-$$-$1-$SEQ"; }
rt() { local i=$1; shift; "${PATHS[$i]}" --root "$WORK/state.$i" "$@"; }
# (no $(...) on the measured path: a command substitution forks, and the forked shell
# would also see none of our children's CPU time)

# children_cpu: CHILD_CPU = user+system time (us) of all children reaped so far, from bash's
# `times` (getrusage RUSAGE_CHILDREN, printed in ms), written to a file to stay in this shell
children_cpu() {
  local line tok min sec total=0
  times >"$WORK/times"
  { read -r _; read -r line; } <"$WORK/times"
  for tok in $line; do                 # 0m0.123s 0m0.045s
    min=${tok%%m*}; sec=${tok#*m}; sec=${sec%s}
    total=$((total + (10#$min * 60 + 10#${sec%.*}) * 1000000 + 10#${sec#*.} * 1000))
  done
  CHILD_CPU=$total
}

# measure_run I: sets T (us) and CPU (us); returns the runtime's status
measure_run() {
  local i=$1 t0 t1 c0 c1 rc=0
  next_id "$i"; CUR="$i $ID"
  children_cpu; c0=$CHILD_CPU
  t0=${EPOCHREALTIME/./}
  rt "$i" run --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>>"$WORK/err.$i" || rc=$?
  t1=${EPOCHREALTIME/./}
  children_cpu; c1=$CHILD_CPU
  T=$((10#$t1 - 10#$t0)); CPU=$((c1 - c0))
  [ $rc = 0 ] || rt "$i" delete -f "$ID" >/dev/null 2>&1 || true
  CUR=''
  return $rc
}

# measure_lifecycle I: create, start, state until stopped, delete; sets T (us), POLLS
measure_lifecycle() {
  local i=$1 t0 t1 st rc=0
  next_id "$i"; CUR="$i $ID"
  POLLS=0
  t0=${EPOCHREALTIME/./}
  if rt "$i" create --bundle "$BUNDLE" "$ID" </dev/null >/dev/null 2>>"$WORK/err.$i" &&
     rt "$i" start "$ID" </dev/null >/dev/null 2>>"$WORK/err.$i"; then
    while :; do
      POLLS=$((POLLS + 1))
      st=$(rt "$i" state "$ID" 2>>"$WORK/err.$i") || { rc=1; break; }
      [[ $st =~ \"status\":[[:space:]]*\"stopped\" ]] && break
      [ "$POLLS" -lt 1000 ] || { rc=1; break; }
    done
    rt "$i" delete "$ID" >/dev/null 2>>"$WORK/err.$i" || rc=1
  else
    rc=1
  fi
  t1=${EPOCHREALTIME/./}
  T=$((10#$t1 - 10#$t0))
  [ $rc = 0 ] || rt "$i" delete -f "$ID" >/dev/null 2>&1 || true
  CUR=''
  return $rc
}

# ---------------------------------------------------------------- smoke test
OK=() FAILS=() NOTES=()
for ((i = 0; i < R; i++)); do
  : >"$WORK/err.$i"; : >"$WORK/run.$i"; : >"$WORK/cpu.$i"; : >"$WORK/lc.$i"; : >"$WORK/polls.$i"; : >"$WORK/rss.$i"
  FAILS+=(0)
  if measure_run "$i"; then OK+=(1); else
    OK+=(0)
    NOTES+=("${LABELS[$i]} FAILED its first run: $(grep . "$WORK/err.$i" | tail -n 1 | cut -c1-300)")
  fi
done

# ---------------------------------------------------------------- interleaved rounds
# one_round KIND ROUND RECORD: every runtime once, starting at a runtime that rotates
one_round() {
  local kind=$1 r=$2 rec=$3 k i
  for ((k = 0; k < R; k++)); do
    i=$(((k + r) % R))
    [ "${OK[$i]}" = 1 ] || continue
    if [ "$kind" = run ]; then
      if measure_run "$i"; then
        [ "$rec" = 0 ] || { echo "$T" >>"$WORK/run.$i"; echo "$CPU" >>"$WORK/cpu.$i"; }
      else FAILS[$i]=$((FAILS[$i] + 1)); fi
    else
      if measure_lifecycle "$i"; then
        [ "$rec" = 0 ] || { echo "$T" >>"$WORK/lc.$i"; echo "$POLLS" >>"$WORK/polls.$i"; }
      else FAILS[$i]=$((FAILS[$i] + 1)); fi
    fi
  done
}
echo "runtimes.sh: run: $WARM warm-up + $ROUNDS rounds over ${LABELS[*]}" >&2
for ((r = 0; r < WARM; r++)); do one_round run "$r" 0; done
for ((r = 0; r < ROUNDS; r++)); do one_round run "$r" 1; done
if [ "$LIFECYCLE" = 1 ]; then
  echo "runtimes.sh: create/start/state/delete: $WARM warm-up + $ROUNDS rounds" >&2
  for ((r = 0; r < WARM; r++)); do one_round lc "$r" 0; done
  for ((r = 0; r < ROUNDS; r++)); do one_round lc "$r" 1; done
fi
HAVE_TIME=0
if [ "$RSS_ROUNDS" -gt 0 ]; then
  if [ -x /usr/bin/time ] && /usr/bin/time -f %M -o /dev/null true 2>/dev/null; then
    HAVE_TIME=1
    echo "runtimes.sh: peak RSS: $RSS_ROUNDS rounds under GNU time" >&2
    for ((r = 0; r < RSS_ROUNDS; r++)); do
      for ((k = 0; k < R; k++)); do
        i=$(((k + r) % R))
        [ "${OK[$i]}" = 1 ] || continue
        next_id "$i"; CUR="$i $ID"
        if /usr/bin/time -f %M -o "$WORK/t" "${PATHS[$i]}" --root "$WORK/state.$i" run --bundle "$BUNDLE" "$ID" \
             </dev/null >/dev/null 2>>"$WORK/err.$i"; then
          cat "$WORK/t" >>"$WORK/rss.$i"
        else
          rt "$i" delete -f "$ID" >/dev/null 2>&1 || true
          FAILS[$i]=$((FAILS[$i] + 1))
        fi
        CUR=''
      done
    done
  else
    NOTES+=("no GNU time at /usr/bin/time: no RSS column (apt-get install time)")
  fi
fi

# ---------------------------------------------------------------- report
# stats FILE: "median min max n" in us (median of an even count: mean of the middle two)
stats() {
  sort -n "$1" | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "- - - 0"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    printf "%d %d %d %d\n", m, v[1], v[NR], NR }'
}
ms() { awk -v u="$1" 'BEGIN { if (u == "-") print "-"; else printf "%.1f", u / 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f×", a / b }'; }
mean() { awk '{ s += $1 } END { if (NR) printf "%.1f", s / NR / 1000; else print "-" }' "$1"; }

if [ -n "$RAW" ]; then
  mkdir -p "$RAW"
  for ((i = 0; i < R; i++)); do
    for m in run cpu lc polls rss; do cp "$WORK/$m.$i" "$RAW/${LABELS[$i]}.$m.txt"; done
  done
fi

# ratios are to the first runtime named, or to the first one that worked
BASE_RUN=- BASE_LC=-
for ((i = 0; i < R; i++)); do
  [ "${OK[$i]}" = 1 ] || continue
  read -r BASE_RUN _ _ _ < <(stats "$WORK/run.$i")
  [ "$LIFECYCLE" = 1 ] && read -r BASE_LC _ _ _ < <(stats "$WORK/lc.$i")
  [ "$i" = 0 ] || NOTES+=("${LABELS[0]} failed: ratios are to ${LABELS[$i]}")
  break
done

cpus=$(nproc)
mode="cgroup v1"
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && mode="cgroup v2"
[ -n "${BERTH_BENCH_HIDDEN:-}" ] && mode="cgroup v1 (hybrid host; cgroup2 at /sys/fs/cgroup/unified, offering ${BERTH_BENCH_HIDDEN% }, hidden for all runtimes)"
[ "$NATIVE" = 1 ] && cgroup2_offers_controllers && mode="cgroup v1 hybrid, native (cgroup2 offers $(tr '\n' ' ' </sys/fs/cgroup/unified/cgroup.controllers| sed 's/ $//'))"
echo "<!-- bench/runtimes.sh -n $ROUNDS -w $WARM -m $RSS_ROUNDS$([ "$NATIVE" = 1 ] && echo ' --native'); $(date -u +%Y-%m-%d); $(uname -r); $cpus CPUs; load average $(cut -d" " -f1-3 /proc/loadavg); $mode -->"
echo
hdr='| runtime | version | `run` median ms | min | max | ratio |'
sep='|---|---|---:|---:|---:|---:|'
if [ "$LIFECYCLE" = 1 ]; then hdr+=' create/start/state/delete median ms | ratio | state polls |'; sep+='---:|---:|---:|'; fi
hdr+=' CPU mean ms | peak RSS KiB | failures |'; sep+='---:|---:|---:|'
echo "$hdr"; echo "$sep"
for ((i = 0; i < R; i++)); do
  ver=$("${PATHS[$i]}" --version 2>/dev/null | head -n 1 | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?[^ ]*' | head -n 1 || true)
  if [ "${OK[$i]}" != 1 ]; then
    echo "| ${LABELS[$i]} | ${ver:--} | FAILED | | | |$([ "$LIFECYCLE" = 1 ] && echo ' | | |') | | |"
    continue
  fi
  read -r med mn mx _ < <(stats "$WORK/run.$i")
  line="| ${LABELS[$i]} | ${ver:--} | $(ms "$med") | $(ms "$mn") | $(ms "$mx") | $(ratio "$med" "$BASE_RUN") |"
  if [ "$LIFECYCLE" = 1 ]; then
    read -r lmed _ _ _ < <(stats "$WORK/lc.$i")
    read -r pmed _ _ _ < <(stats "$WORK/polls.$i")
    line+=" $(ms "$lmed") | $(ratio "$lmed" "$BASE_LC") | $pmed |"
  fi
  rss=-
  [ "$HAVE_TIME" = 1 ] && [ -s "$WORK/rss.$i" ] && rss=$(sort -n "$WORK/rss.$i" | tail -n 1)
  line+=" $(mean "$WORK/cpu.$i") | $rss | ${FAILS[$i]} |"
  echo "$line"
done
for n in "${NOTES[@]+"${NOTES[@]}"}"; do echo "runtimes.sh: note: $n" >&2; done
for ((i = 0; i < R; i++)); do [ "${OK[$i]}" = 1 ] || exit 1; done
exit 0
