#!/usr/bin/env bash
# build.sh - `berth build` against `buildah bud --layers`, side by side in one run: a cold
# build (no cache, no image) and a cached rebuild after the content of one file that a late
# COPY copies has changed.
#
# Usage: bench/build.sh [-n ROUNDS] [-w WARMUP] [--berth PATH] [--files N] [--big-mib M]
#                       [--quiet-wait SECONDS]
#   -n N            timed rounds (default 7); each builds cold with both tools, then changes
#                   one copied file and rebuilds with both; the order alternates per round
#   -w N            warm-up rounds, not counted (default 1)
#   --berth P       the berth binary (default: build/release/berth)
#   --files N       small files in the context (default 2000)
#   --big-mib M     size of the one large file (default 4)
#   --quiet-wait S  wait up to S seconds for no compiler (cc1plus) to run first (default 300)
#
# The context (made afresh in the work directory, the same bytes every run): N small files
# (100-3000 bytes) in 40 directories, one M MiB file of random bytes, a few config files.
# The Dockerfile: FROM the busybox image of the tests (scripts/make-busybox-tree.sh, imported
# into berth and pulled into buildah's store from `berth save`, so both start from the same
# image), 4 RUN steps and 3 COPY steps, the last COPY taking config/ (see below).
# Cold: the image, every cached step (berth builder prune, buildah rmi --prune) removed
# before the build; the base image stays. Cached: config/app.conf gets new content, then
# the same build again: the steps before `COPY config/` come from the cache, that COPY and
# the RUN after it run again.
# buildah: `--layers --pull=never --network host` (berth's RUN steps use the host network by
# default), its default runtime crun and the OCI format. On a hybrid cgroup host crun
# refuses to run, so the whole bench runs in a private mount namespace with the cgroup2
# mount covered (bench/lib.sh); berth sees the same layout.
# State: /var/tmp/berth-bench/build, /run/berth-bench/build. Output: markdown on stdout.
set -euo pipefail
ORIG=("$@")
ROUNDS=7 WARM=1 BERTH='' FILES=2000 BIG_MIB=4 QUIET_WAIT=300
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(cd "$HERE/.." && pwd)
while [ $# -gt 0 ]; do
  case "$1" in
    -n) ROUNDS=$2; shift 2 ;;
    -w) WARM=$2; shift 2 ;;
    --berth) BERTH=$2; shift 2 ;;
    --files) FILES=$2; shift 2 ;;
    --big-mib) BIG_MIB=$2; shift 2 ;;
    --quiet-wait) QUIET_WAIT=$2; shift 2 ;;
    -h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "build.sh: needs root" >&2; exit 2; }
[ -n "$BERTH" ] || BERTH=$REPO/build/release/berth
[ -x "$BERTH" ] || { echo "build.sh: no berth binary at $BERTH (build first or pass --berth)" >&2; exit 2; }
BERTH=$(readlink -f "$BERTH")
for t in buildah crun python3 /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "build.sh: needs $t (sudo scripts/install-deps.sh)" >&2; exit 2; }
done
log() { printf '[build.sh] %s\n' "$*" >&2; }

# shellcheck source=bench/lib.sh
. "$HERE/lib.sh"
hide_cgroup2_and_reexec build.sh "$0" "${ORIG[@]}"

BASE=/var/tmp/berth-bench/build RUNBASE=/run/berth-bench/build
mkdir -p "$BASE" "$RUNBASE"
WORK=$(mktemp -d "$BASE/work.XXXXXX")
B=("$BERTH" --root "$BASE/berth" --runroot "$RUNBASE/berth")
BA=(buildah --root "$BASE/containers" --runroot "$RUNBASE/containers" --storage-driver overlay)
FROM_IMAGE=localhost/busybox:latest
IMAGE=bench-build:latest
cleanup() {
  "${BA[@]}" rm -a >/dev/null 2>&1 || true
  "${BA[@]}" rmi -f "localhost/$IMAGE" >/dev/null 2>&1 || true
  "${BA[@]}" rmi --prune >/dev/null 2>&1 || true
  "${B[@]}" rmi -f "$IMAGE" >/dev/null 2>&1 || true
  "${B[@]}" system prune -f >/dev/null 2>&1 || true
  rm -rf -- "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- base image, context
"$REPO/scripts/make-busybox-image.sh" "$BERTH" "$FROM_IMAGE" --root "$BASE/berth" --runroot "$RUNBASE/berth" >/dev/null
id=$("${B[@]}" image inspect -f '{{.Id}}' "$FROM_IMAGE")
cid=$("${BA[@]}" inspect --type image -f '{{.FromImageID}}' "$FROM_IMAGE" 2>/dev/null || true)
if [ "sha256:$cid" != "$id" ]; then
  log "importing $FROM_IMAGE into buildah's store"
  "${B[@]}" save -o "$WORK/base.tar" "$FROM_IMAGE"
  "${BA[@]}" rmi -f "$FROM_IMAGE" >/dev/null 2>&1 || true
  new=$("${BA[@]}" pull -q "docker-archive:$WORK/base.tar" | tail -n 1)
  "${BA[@]}" tag "$new" "$FROM_IMAGE"
  rm -f "$WORK/base.tar"
fi

CTX=$WORK/ctx
python3 - "$CTX" "$FILES" "$BIG_MIB" <<'EOF'
import os, random, sys
ctx, files, big = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(20261130)
for i in range(files):
    d = os.path.join(ctx, 'src', f'mod{i % 40:02d}')
    os.makedirs(d, exist_ok=True)
    n = rnd.randint(100, 3000)
    line = f'// file {i}: ' + 'x' * 60 + '\n'
    data = (line * (n // len(line) + 1))[:n]
    with open(os.path.join(d, f'unit{i:05d}.c'), 'w') as f:
        f.write(data)
os.makedirs(os.path.join(ctx, 'assets'))
with open(os.path.join(ctx, 'assets', 'blob.bin'), 'wb') as f:
    f.write(rnd.randbytes(big << 20))
os.makedirs(os.path.join(ctx, 'config'))
for name in ('app.conf', 'db.conf', 'log.conf'):
    with open(os.path.join(ctx, 'config', name), 'w') as f:
        f.write(f'# {name}\nsetting=1\n')
EOF
cat >"$CTX/Dockerfile" <<EOF
FROM $FROM_IMAGE
ENV APP=/app
RUN mkdir -p /app/bin /app/data && echo prepared > /app/prepared
COPY assets/ /app/assets/
RUN sha256sum /app/assets/blob.bin > /app/assets.sum
COPY src/ /app/src/
RUN find /app/src -type f | wc -l > /app/count && du -s /app/src > /app/du
COPY config/ /app/config/
RUN cat /app/config/*.conf > /app/config.all
CMD ["sh"]
EOF
CTX_FILES=$(find "$CTX" -type f | wc -l)
CTX_KIB=$(du -sk "$CTX" | cut -f1)

# ---------------------------------------------------------------- quiet moment
for ((i = 0; i < QUIET_WAIT; i += 5)); do
  pgrep -x cc1plus >/dev/null || break
  ((i == 0)) && log "a compiler is running; waiting up to ${QUIET_WAIT}s for it to finish"
  sleep 5
done

# ---------------------------------------------------------------- rounds
BUSY=0 SAMPLES=0
# timed TOOL KIND RECORD CMD...: wall ms (and user+system CPU ms of the tool and its children)
timed() {
  local tool=$1 kind=$2 rec=$3 t0 t1 rc=0
  shift 3
  pgrep -x cc1plus >/dev/null && BUSY=$((BUSY + 1)); SAMPLES=$((SAMPLES + 1))
  t0=${EPOCHREALTIME/./}
  /usr/bin/time -f '%U %S' -o "$WORK/cpu" "$@" </dev/null >"$WORK/out" 2>&1 || rc=$?
  t1=${EPOCHREALTIME/./}
  if [ $rc != 0 ]; then echo "build.sh: $tool $kind build failed: $(tail -n 5 "$WORK/out")" >&2; exit 1; fi
  [ "$rec" = 1 ] || return 0
  echo $((10#$t1 - 10#$t0)) >>"$WORK/t.$kind.$tool"
  awk 'END {printf "%d\n", ($1 + $2) * 1000}' "$WORK/cpu" >>"$WORK/c.$kind.$tool"
  # a cold build takes nothing from the cache; the rebuild takes the 5 steps before the
  # changed COPY (and ENV) from it
  local n; n=$(grep -c 'Using cache' "$WORK/out" || true)
  if [ "$kind" = cold ] && [ "$n" != 0 ]; then
    echo "build.sh: $tool's cold build used the cache for $n steps: $(cat "$WORK/out")" >&2; exit 1
  fi
  if [ "$kind" = cached ] && [ "$n" -lt 5 ]; then
    echo "build.sh: $tool's rebuild used the cache for $n steps: $(cat "$WORK/out")" >&2; exit 1
  fi
}
wipe() {  # wipe TOOL: no image, no cached step
  case $1 in
    berth) "${B[@]}" rmi -f "$IMAGE" >/dev/null 2>&1 || true
           "${B[@]}" builder prune -f >/dev/null
           "${B[@]}" system prune -f >/dev/null ;;
    buildah) "${BA[@]}" rmi -f "localhost/$IMAGE" >/dev/null 2>&1 || true
             "${BA[@]}" rmi --prune >/dev/null 2>&1 || true ;;
  esac
}
build() {  # build TOOL KIND RECORD
  case $1 in
    berth) timed berth "$2" "$3" "${B[@]}" build --network host -t "$IMAGE" "$CTX" ;;
    buildah) timed buildah "$2" "$3" "${BA[@]}" bud --layers --pull=never --network host -t "localhost/$IMAGE" "$CTX" ;;
  esac
}
round() {  # round INDEX RECORD
  local r=$1 order tool
  if ((r % 2)); then order=(buildah berth); else order=(berth buildah); fi
  printf '# app.conf\nsetting=1\n' >"$CTX/config/app.conf"
  for tool in "${order[@]}"; do wipe "$tool"; sync; build "$tool" cold "$2"; done
  printf '# app.conf\nsetting=%d\n' $((r + 2)) >"$CTX/config/app.conf"
  for tool in "${order[@]}"; do sync; build "$tool" cached "$2"; done
}
log "$WARM warm-up and $ROUNDS timed rounds ($CTX_FILES files, $CTX_KIB KiB in the context)"
for ((r = 0; r < WARM; r++)); do round "$r" 0; done
for ((r = 0; r < ROUNDS; r++)); do round "$r" 1; done
DURING=$BUSY/$SAMPLES
# the last images are whole: every source file and the last config in both
for tool in berth buildah; do
  case $tool in
    berth) got=$("${B[@]}" run --rm "$IMAGE" sh -c 'cat /app/count; cat /app/config.all' 2>&1) ;;
    buildah) c=$("${BA[@]}" from --pull=never "localhost/$IMAGE"); m=$("${BA[@]}" mount "$c")
             got=$(cat "$m/app/count" "$m/app/config.all"); "${BA[@]}" rm "$c" >/dev/null ;;
  esac
  if [ "$(head -n 1 <<<"$got")" != "$FILES" ] || ! grep -q "setting=$((ROUNDS + 1))" <<<"$got"; then
    echo "build.sh: $tool's image is not what the Dockerfile makes: $got" >&2; exit 1
  fi
done

median() { sort -n "$1" | awk '{v[NR]=$1/1000} END {printf "%.0f", (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}'; }
minv() { sort -n "$1" | awk 'NR==1{printf "%.0f", $1/1000}'; }
maxv() { sort -n "$1" | awk 'END{printf "%.0f", $1/1000}'; }
cpu() { sort -n "$1" | awk '{v[NR]=$1} END {printf "%.0f", (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}'; }

ver() { "$@" 2>/dev/null | awk '{print $3; exit}'; }
echo "<!-- bench/build.sh -n $ROUNDS -w $WARM --files $FILES --big-mib $BIG_MIB; berth $("$BERTH" --version | awk '{print $NF}'), buildah $(ver buildah --version) with crun $(crun --version | awk 'NR==1{print $3}'); $(date -u +%Y-%m-%d); $(uname -r); $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg); cgroup2 ${BERTH_BENCH_HIDDEN:+hidden (${BERTH_BENCH_HIDDEN% }) }for both; a compiler ran during $DURING timed builds -->"
echo
echo "Context: $CTX_FILES files, $CTX_KIB KiB ($FILES small files, one $BIG_MIB MiB file). Dockerfile: 4 RUN, 3 COPY; the cached rebuild reruns the last COPY and RUN."
echo
echo "| build | tool | median ms | min | max | CPU ms (median) | berth / buildah |"
echo "|---|---|---:|---:|---:|---:|---:|"
for kind in cold cached; do
  mb=$(median "$WORK/t.$kind.berth"); mc=$(median "$WORK/t.$kind.buildah")
  r=$(awk -v a="$mb" -v b="$mc" 'BEGIN{printf "%.2f", a/b}')
  echo "| $kind | berth | $mb | $(minv "$WORK/t.$kind.berth") | $(maxv "$WORK/t.$kind.berth") | $(cpu "$WORK/c.$kind.berth") | **$r** |"
  echo "| $kind | buildah bud --layers | $mc | $(minv "$WORK/t.$kind.buildah") | $(maxv "$WORK/t.$kind.buildah") | $(cpu "$WORK/c.$kind.buildah") | 1 |"
done
