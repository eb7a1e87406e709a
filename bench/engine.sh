#!/usr/bin/env bash
# engine.sh - `berth run --rm IMAGE true` against `podman run --rm IMAGE true` (crun), side by
# side in one run, and the RSS of an idle container's monitor (berth-monitor vs conmon).
#
# Usage: bench/engine.sh [-n ROUNDS] [-w WARMUP] [--berth PATH]
#   -n N        timed rounds (default 30), each running both tools once, order alternating
#   -w N        warm-up rounds (default 3)
#   --berth P   the berth binary (default: newest build/*/berth)
#
# Both tools get the same busybox tree (scripts/make-busybox-tree.sh) as an image in private
# stores (/var/tmp/berth-bench/engine, /run/berth-bench/engine), no network (`--network none`).
# On a hybrid cgroup host the whole run happens in a private mount namespace with the cgroup2
# mount covered, so crun runs (see bench/podman-runtimes.sh); berth sees the same layout.
# Output: a markdown table on stdout.
set -euo pipefail
ORIG=("$@")
ROUNDS=30 WARM=3 BERTH=''
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(cd "$HERE/.." && pwd)
while [ $# -gt 0 ]; do
  case "$1" in
    -n) ROUNDS=$2; shift 2 ;;
    -w) WARM=$2; shift 2 ;;
    --berth) BERTH=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "engine.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "engine.sh: needs root" >&2; exit 2; }
[ -n "$BERTH" ] || BERTH=$(ls -t "$REPO"/build/*/berth 2>/dev/null | head -n 1)
[ -x "$BERTH" ] || { echo "engine.sh: no berth binary (build first or pass --berth)" >&2; exit 2; }
BERTH=$(readlink -f "$BERTH")

# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
hide_cgroup2_and_reexec engine.sh "$0" "${ORIG[@]}"

STATE=/var/tmp/berth-bench/engine RUNDIR=/run/berth-bench/engine
mkdir -p "$STATE" "$RUNDIR"
WORK=$(mktemp -d /tmp/berth-bench-engine.XXXXXX)
B=("$BERTH" --root "$STATE/berth" --runroot "$RUNDIR/berth")
P=(podman --root "$STATE/podman" --runroot "$RUNDIR/podman" --tmpdir "$RUNDIR/libpod"
   --storage-driver overlay --cgroup-manager cgroupfs --events-backend file --runtime crun)
nofile=$(ulimit -Hn); nproc=32768  # under the hard limits (root lacks CAP_SYS_RESOURCE here)
printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n[engine]\nlock_type = "file"\n' \
  "$nofile" "$nofile" "$nproc" "$nproc" >"$WORK/containers.conf"
export CONTAINERS_CONF=$WORK/containers.conf
cleanup() {
  "${B[@]}" rm -f bench-idle >/dev/null 2>&1 || true
  "${P[@]}" rm -f -t 0 bench-idle >/dev/null 2>&1 || true
  rm -rf -- "$WORK"
}
trap cleanup EXIT

IMAGE=localhost/bench-busybox:latest
"$REPO/scripts/make-busybox-image.sh" "$BERTH" "$IMAGE" --root "$STATE/berth" --runroot "$RUNDIR/berth"
if ! "${P[@]}" image exists "$IMAGE"; then
  "$REPO/scripts/make-busybox-tree.sh" "$WORK/tree"
  tar -C "$WORK/tree" --numeric-owner -cf "$WORK/rootfs.tar" .
  "${P[@]}" import --change 'CMD ["/bin/sh"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$WORK/rootfs.tar" "$IMAGE" >/dev/null
fi

one() {  # one TOOL RECORD
  local t0 t1 rc=0
  t0=${EPOCHREALTIME/./}
  if [ "$1" = berth ]; then
    "${B[@]}" run --rm --network none "$IMAGE" true </dev/null >/dev/null 2>"$WORK/err" || rc=$?
  else
    "${P[@]}" run --rm --network none --pull never "$IMAGE" true </dev/null >/dev/null 2>"$WORK/err" || rc=$?
  fi
  t1=${EPOCHREALTIME/./}
  if [ $rc != 0 ]; then echo "engine.sh: $1 failed: $(tail -n 2 "$WORK/err")" >&2; return 1; fi
  [ "$2" = 0 ] || echo $((10#$t1 - 10#$t0)) >>"$WORK/t.$1"
}
: >"$WORK/t.berth"; : >"$WORK/t.podman"
for ((r = 0; r < WARM; r++)); do one berth 0; one podman 0; done
for ((r = 0; r < ROUNDS; r++)); do
  if ((r % 2)); then one podman 1; one berth 1; else one berth 1; one podman 1; fi
done
median() { sort -n "$1" | awk '{v[NR]=$1/1000} END {printf "%.1f", (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}'; }
minv() { sort -n "$1" | awk 'NR==1{printf "%.1f", $1/1000}'; }
p90() { sort -n "$1" | awk '{v[NR]=$1/1000} END {printf "%.1f", v[int(0.9*NR+0.999)]}'; }
mb=$(median "$WORK/t.berth"); mp=$(median "$WORK/t.podman")

# Idle monitors: one detached `sleep` each, RSS of the process holding its stdio.
"${B[@]}" run -d --name bench-idle "$IMAGE" sleep 600 >/dev/null
"${P[@]}" run -d --name bench-idle --network none --pull never "$IMAGE" sleep 600 >/dev/null
sleep 1
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
bid=$("${B[@]}" inspect --format '{{.Id}}' bench-idle)
bmon=$(pgrep -f "berth-monitor.*--id $bid" | head -n 1)
pid=$("${P[@]}" inspect --format '{{.Id}}' bench-idle)
cmon=$(pgrep -f "conmon.*-c $pid" | head -n 1)
rb=$(rss "$bmon"); rc=$(rss "$cmon")

echo "<!-- bench/engine.sh -n $ROUNDS -w $WARM; podman $(podman --version | awk '{print $3}') with crun $(crun --version | awk 'NR==1{print $3}'); $(date -u +%Y-%m-%d); $(uname -r); $(nproc) CPUs -->"
echo
echo "| tool | \`run --rm IMAGE true\` median ms | min | p90 | ratio to podman |"
echo "|---|---:|---:|---:|---:|"
echo "| berth | $mb | $(minv "$WORK/t.berth") | $(p90 "$WORK/t.berth") | $(awk -v a="$mb" -v b="$mp" 'BEGIN{printf "%.3f", a/b}') |"
echo "| podman (crun) | $mp | $(minv "$WORK/t.podman") | $(p90 "$WORK/t.podman") | 1 |"
echo
echo "| idle container | monitor | RSS kB | ratio |"
echo "|---|---|---:|---:|"
echo "| berth | berth-monitor | $rb | $(awk -v a="$rb" -v b="$rc" 'BEGIN{printf "%.3f", a/b}') |"
echo "| podman | conmon | $rc | 1 |"
