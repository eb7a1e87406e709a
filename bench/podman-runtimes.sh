#!/usr/bin/env bash
# podman-runtimes.sh - `podman run --rm IMAGE true` with each OCI runtime: what users feel.
#
# Usage: bench/podman-runtimes.sh [options] [RUNTIME...]
#   RUNTIME     a path or command name, optionally labelled LABEL=PATH; default: berth-runtime
#               from build/*/src/cmd/berth-runtime (when built), crun, runc
#   -n N        timed rounds (default 30); each round runs every runtime once, the order
#               reversed every other round
#   -w N        untimed warm-up rounds (default 3)
#   -a ARGS     what follows `podman run --rm --network none --pull never` (default:
#               "IMAGE true"; the word IMAGE is replaced by the test image)
#   --native    do not hide the hybrid host's cgroup2 mount (crun then fails; see runtimes.sh)
#   -h          this help
#
# podman runs with a private store (graph root /var/tmp/berth-bench/podman, run root
# /run/berth-bench/podman, file locks, file events, cgroupfs manager) and the busybox image
# of the interop tests (tests/interop/make-busybox-image.sh builds it when missing); no
# network. Each runtime is handed to podman as `--runtime PATH`.
#
# Ulimits: podman asks for nofile=1048576 and nproc=4194304 by default, above this host's
# hard limits; runc and crun then fail, so they get a containers.conf capping the defaults
# (nofile/nproc at the hard limits). berth-runtime gets podman's defaults on purpose: it
# caps them itself. The cap costs nothing measurable; it only decides whether a run works.
#
# Hybrid cgroup hosts: the whole benchmark (podman, conmon and the runtimes) runs in a
# private mount namespace where /sys/fs/cgroup/unified is covered by an empty tmpfs, so
# crun runs and every runtime sees the same plain cgroup v1 layout.
#
# Output: a markdown table fragment on stdout; the last error of a runtime that failed on
# stderr. Exit 0 when every runtime completed its runs, 1 otherwise, 2 on usage errors.
set -euo pipefail

ORIG_ARGS=("$@")
ROUNDS=30 WARM=3 ARGS='IMAGE true' NATIVE=0
SPECS=()
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; }
die() { echo "podman-runtimes.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    -n) ROUNDS=${2:?-n needs a number}; shift 2 ;;
    -w) WARM=${2:?-w needs a number}; shift 2 ;;
    -a) ARGS=${2:?-a needs arguments}; shift 2 ;;
    --native) NATIVE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1 (-h for help)" ;;
    *) SPECS+=("$1"); shift ;;
  esac
done
for v in "$ROUNDS" "$WARM"; do [[ $v =~ ^[0-9]+$ ]] || die "-n/-w take whole numbers"; done
[ "$ROUNDS" -ge 1 ] || die "-n must be at least 1"
[ "$(id -u)" = 0 ] || die "needs root"
for t in podman conmon buildah busybox unshare; do
  command -v "$t" >/dev/null || die "\`$t\` not found (scripts/install-deps.sh)"
done

# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
[ "$NATIVE" = 1 ] || hide_cgroup2_and_reexec podman-runtimes.sh "$0" "${ORIG_ARGS[@]}"

# ---------------------------------------------------------------- runtimes
if [ ${#SPECS[@]} = 0 ]; then
  b=$(ls -t "$REPO"/build/*/src/cmd/berth-runtime/berth-runtime 2>/dev/null | head -n 1 || true)
  [ -n "$b" ] && SPECS+=("berth-runtime=$b")
  SPECS+=(crun runc)
fi
LABELS=() PATHS=() KINDS=()
for s in "${SPECS[@]}"; do
  label='' path=$s
  if [[ $s == *=* ]]; then label=${s%%=*}; path=${s#*=}; fi
  if [[ $path != */* ]]; then path=$(command -v -- "$path") || die "runtime \`$s\` not found"; fi
  [ -x "$path" ] || die "runtime \`$path\` is not executable"
  path=$(readlink -f -- "$path")
  [ -n "$label" ] || label=$(basename -- "$path")
  LABELS+=("$label"); PATHS+=("$path")
  case "$(basename -- "$path")" in berth-runtime*) KINDS+=(berth) ;; *) KINDS+=(peer) ;; esac
done
R=${#PATHS[@]}

# ---------------------------------------------------------------- private podman world
STATE=/var/tmp/berth-bench/podman
RUNDIR=/run/berth-bench/podman
mkdir -p "$STATE" "$RUNDIR"
WORK=$(mktemp -d /tmp/berth-bench-podman.XXXXXX)
# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
  local i ids
  for ((i = 0; i < R; i++)); do
    ids=$(CONTAINERS_CONF=$WORK/conf.$i "${G[@]}" --runtime "${PATHS[$i]}" ps -aq \
          --filter "name=^berth-bench-$$-" 2>/dev/null || true)
    # shellcheck disable=SC2086
    [ -z "$ids" ] || CONTAINERS_CONF=$WORK/conf.$i "${G[@]}" --runtime "${PATHS[$i]}" rm -f -t 0 $ids >/dev/null 2>&1 || true
  done
  rm -rf -- "$WORK"
}
G=(podman --root "$STATE/storage" --runroot "$RUNDIR/storage" --tmpdir "$RUNDIR/libpod"
   --storage-driver overlay --cgroup-manager cgroupfs --events-backend file)
trap cleanup EXIT
trap 'exit 130' INT TERM

nofile=$(ulimit -Hn); nproc=$(ulimit -Hu)
[ "$nofile" = unlimited ] || [ "$nofile" -gt 1048576 ] && nofile=1048576
[ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
for ((i = 0; i < R; i++)); do
  {
    echo "[containers]"
    if [ "${KINDS[$i]}" = peer ]; then
      echo "default_ulimits = [\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\"]"
    fi
    echo "[engine]"
    echo "lock_type = \"file\""
  } >"$WORK/conf.$i"
done
CONTAINERS_CONF=$WORK/conf.0 "$REPO/tests/interop/make-busybox-image.sh" \
  --root "$STATE/storage" --runroot "$RUNDIR/storage" >/dev/null ||
  die "building the test image failed"
IMAGE=localhost/berth-test-busybox:latest
read -ra RUN_ARGS <<<"${ARGS//IMAGE/$IMAGE}"

SEQ=0
one() {   # one I RECORD
  local i=$1 rec=$2 t0 t1 rc=0
  SEQ=$((SEQ + 1))
  t0=${EPOCHREALTIME/./}
  CONTAINERS_CONF=$WORK/conf.$i "${G[@]}" --runtime "${PATHS[$i]}" run --rm --network none \
    --pull never --name "berth-bench-$$-$SEQ" "${RUN_ARGS[@]}" </dev/null >/dev/null 2>"$WORK/err" || rc=$?
  t1=${EPOCHREALTIME/./}
  if [ $rc = 0 ]; then
    [ "$rec" = 0 ] || echo $((10#$t1 - 10#$t0)) >>"$WORK/t.$i"
  else
    [ "$rec" = 0 ] || echo x >>"$WORK/f.$i"
    cp "$WORK/err" "$WORK/lasterr.$i"
  fi
}
for ((i = 0; i < R; i++)); do : >"$WORK/t.$i"; : >"$WORK/f.$i"; done
echo "podman-runtimes.sh: $WARM warm-up + $ROUNDS rounds of podman run --rm ${RUN_ARGS[*]} over ${LABELS[*]}" >&2
for ((r = 0; r < WARM; r++)); do for ((i = 0; i < R; i++)); do one "$i" 0; done; done
for ((r = 0; r < ROUNDS; r++)); do
  if ((r % 2 == 0)); then
    for ((i = 0; i < R; i++)); do one "$i" 1; done
  else
    for ((i = R - 1; i >= 0; i--)); do one "$i" 1; done
  fi
done

# ---------------------------------------------------------------- report
stats() {   # FILE -> "n median min max mean p90" (ms)
  sort -n "$1" | awk '{ v[NR] = $1 / 1000; s += $1 / 1000 } END {
    if (NR == 0) { print "0 - - - - -"; exit }
    m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
    p = v[int(0.9 * NR + 0.999)]
    printf "%d %.1f %.1f %.1f %.1f %.1f\n", NR, m, v[1], v[NR], s / NR, p }'
}
mode="cgroup v1"
[ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && mode="cgroup v2"
[ -n "${BERTH_BENCH_HIDDEN:-}" ] && mode="cgroup v1 (hybrid host, cgroup2 hidden for all runtimes)"
[ "$NATIVE" = 1 ] && cgroup2_offers_controllers && mode="cgroup v1 hybrid, native"
echo "<!-- bench/podman-runtimes.sh -n $ROUNDS -w $WARM; podman $(podman --version | awk '{print $3}'), conmon $(conmon --version | awk 'NR == 1 {print $3}'); $(date -u +%Y-%m-%d); $(uname -r); $(nproc) CPUs; load average $(cut -d" " -f1-3 /proc/loadavg); $mode -->"
echo
echo "| runtime | \`podman run --rm\` median ms | min | max | mean | p90 | ratio | failures |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
base=-
status=0
for ((i = 0; i < R; i++)); do
  read -r n med mn mx mean p90 < <(stats "$WORK/t.$i")
  fails=$(wc -l <"$WORK/f.$i")
  if [ "$base" = - ] && [ "$i" = 0 ]; then base=$med; fi
  ratio=$(awk -v a="$med" -v b="$base" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.2f×", a / b }')
  if [ "$n" = 0 ]; then
    echo "| ${LABELS[$i]} | FAILED | | | | | | $fails |"
  else
    echo "| ${LABELS[$i]} | $med | $mn | $mx | $mean | $p90 | $ratio | $fails |"
  fi
  if [ -s "$WORK/lasterr.$i" ]; then
    status=1
    echo "podman-runtimes.sh: last error with ${LABELS[$i]}: $(tail -n 2 "$WORK/lasterr.$i" | tr '\n' ' ' | cut -c1-300)" >&2
  fi
done
exit $status
