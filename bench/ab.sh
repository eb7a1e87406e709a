#!/usr/bin/env bash
# ab.sh - two builds of berth against each other on `run --rm IMAGE true`, interleaved, so
# that the drift of a shared machine falls on both equally (how a change is measured; the
# comparison with podman is bench/engine.sh).
#
# Usage: bench/ab.sh [-n ROUNDS] BASE_DIR NEW_DIR
#   BASE_DIR, NEW_DIR   directories with berth, berth-monitor and berth-init (copies of
#                       build/release/ before and after a change)
#   -n N                timed rounds (default 40), each running both once, order alternating
# Both use one store (/var/tmp/berth-bench/ab, /run/berth-bench/ab). Output: medians in ms.
set -euo pipefail
ORIG=("$@")
ROUNDS=40
while [ $# -gt 0 ]; do
  case "$1" in
    -n) ROUNDS=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) break ;;
  esac
done
[ $# = 2 ] || { echo "ab.sh: want BASE_DIR NEW_DIR (see --help)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "ab.sh: needs root" >&2; exit 2; }
for d in "$1" "$2"; do
  [ -x "$d/berth" ] && [ -x "$d/berth-monitor" ] || { echo "ab.sh: no berth build in $d" >&2; exit 2; }
done
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(cd "$HERE/.." && pwd)

# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
hide_cgroup2_and_reexec ab.sh "$0" "${ORIG[@]}"

BASE=$(readlink -f "$1") NEW=$(readlink -f "$2")
G=(--root /var/tmp/berth-bench/ab --runroot /run/berth-bench/ab)
IMAGE=localhost/bench-busybox:latest
"$REPO/scripts/make-busybox-image.sh" "$NEW/berth" "$IMAGE" "${G[@]}"
WORK=$(mktemp -d /tmp/berth-bench-ab.XXXXXX)
trap 'rm -rf -- "$WORK"' EXIT

one() {  # one DIR RECORD_AS
  local t0 t1
  t0=${EPOCHREALTIME/./}
  "$1/berth" "${G[@]}" run --rm --network none "$IMAGE" true </dev/null >/dev/null 2>"$WORK/err" ||
    { echo "ab.sh: $1/berth failed: $(tail -n 2 "$WORK/err")" >&2; exit 1; }
  t1=${EPOCHREALTIME/./}
  [ -z "$2" ] || echo $((10#$t1 - 10#$t0)) >>"$WORK/t.$2"
}
for _ in 1 2 3; do one "$BASE" ''; one "$NEW" ''; done
for ((i = 0; i < ROUNDS; i++)); do
  if ((i % 2)); then one "$NEW" new; one "$BASE" base; else one "$BASE" base; one "$NEW" new; fi
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {m = NR % 2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.2f", m/1000}'; }
printf 'base %s ms  new %s ms  (median of %d, interleaved)\n' "$(median "$WORK/t.base")" \
  "$(median "$WORK/t.new")" "$ROUNDS"
