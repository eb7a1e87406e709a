#!/usr/bin/env bash
# registry.sh - `berth pull`/`berth push` against `podman pull`/`podman push` and
# `skopeo copy` (to and from an OCI layout), side by side in one run, from and to a loopback
# registry (issue 4); then where the time of a pull goes, stage by stage.
#
# Usage: bench/registry.sh [-n ROUNDS] [-w WARMUP] [-s STAGE_ROUNDS] [--berth PATH]
#                          [--quiet-wait SECONDS] [--rebuild]
#   -n N            timed rounds (default 5); each pulls with every tool into a fresh store,
#                   then pushes from those stores, the tool order rotating from round to round
#   -w N            warm-up rounds, not counted (default 1)
#   -s N            rounds of the stage breakdown (default 3; 0 skips it)
#   --berth P       the berth binary (default: build/release/berth)
#   --quiet-wait S  wait up to S seconds for no compiler (cc1plus) to run first (default 180)
#   --rebuild       debootstrap the Debian image again
#
# The image: `debootstrap --variant=minbase` of this host's suite (mirror read from apt's
# configuration), cached in /var/tmp/berth-bench/debian-rootfs, imported into a berth store
# and pushed once (the layer gzip-compressed by `skopeo copy --dest-compress`) to a
# docker-registry (Debian's `docker-registry`) on 127.0.0.1:5300.
# Pushes go to a second registry on 127.0.0.1:5301 that is restarted on an empty directory
# before every push, so each push uploads every blob (nothing to skip or mount).
# State: /var/tmp/berth-bench/registry, /run/berth-bench/registry. Output: markdown on stdout.
set -euo pipefail
ROUNDS=5 WARM=1 STAGES=3 BERTH='' QUIET_WAIT=180 REBUILD=0
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(cd "$HERE/.." && pwd)
while [ $# -gt 0 ]; do
  case "$1" in
    -n) ROUNDS=$2; shift 2 ;;
    -w) WARM=$2; shift 2 ;;
    -s) STAGES=$2; shift 2 ;;
    --berth) BERTH=$2; shift 2 ;;
    --quiet-wait) QUIET_WAIT=$2; shift 2 ;;
    --rebuild) REBUILD=1; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "registry.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "registry.sh: needs root" >&2; exit 2; }
[ -n "$BERTH" ] || BERTH=$REPO/build/release/berth
[ -x "$BERTH" ] || { echo "registry.sh: no berth binary at $BERTH (build first or pass --berth)" >&2; exit 2; }
BERTH=$(readlink -f "$BERTH")
for t in docker-registry podman skopeo curl jq debootstrap /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "registry.sh: needs $t (sudo scripts/install-deps.sh)" >&2; exit 2; }
done
log() { printf '[registry.sh] %s\n' "$*" >&2; }

ROOTFS=/var/tmp/berth-bench/debian-rootfs
BASE=/var/tmp/berth-bench/registry RUNBASE=/run/berth-bench/registry
SEED=("$BERTH" --root "$BASE/seed" --runroot "$RUNBASE/seed")
PULL_REG=127.0.0.1:5300 PUSH_REG=127.0.0.1:5301
IMAGE=$PULL_REG/bench/debian:latest
mkdir -p "$BASE" "$RUNBASE"
WORK=$(mktemp -d "$BASE/work.XXXXXX")
PULL_PID='' PUSH_PID=''

# Removes a store: unmounts whatever is mounted under it (podman's overlay driver may mount
# its home privately), deepest first, then deletes it.
wipe() {
  local d=$1 m
  [ -e "$d" ] || return 0
  awk -v p="$d" '$5 == p || index($5, p "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while read -r m; do umount -l "$m" || true; done
  rm -rf -- "$d"
}
stop_registry() {  # stop_registry PID
  [ -n "$1" ] || return 0
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
cleanup() {
  stop_registry "$PULL_PID"; stop_registry "$PUSH_PID"
  wipe "$WORK"; wipe "$BASE/data-push"; wipe "$RUNBASE/round"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_registry() {  # start_registry ADDR DATA_DIR -> sets REG_PID
  local addr=$1 data=$2 i
  mkdir -p "$data"
  cat >"$WORK/registry-${addr##*:}.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $data
  delete:
    enabled: true
http:
  addr: $addr
EOF
  docker-registry serve "$WORK/registry-${addr##*:}.yml" >>"$WORK/registry-${addr##*:}.log" 2>&1 &
  REG_PID=$!
  for ((i = 0; i < 500; i++)); do
    curl -fso /dev/null "http://$addr/v2/" && return 0
    kill -0 "$REG_PID" 2>/dev/null || break
    sleep 0.02
  done
  echo "registry.sh: docker-registry on $addr did not start: $(tail -n 3 "$WORK/registry-${addr##*:}.log")" >&2
  exit 1
}
# A fresh, empty push registry.
restart_push_registry() {
  stop_registry "$PUSH_PID"; PUSH_PID=''
  rm -rf -- "$BASE/data-push"
  start_registry "$PUSH_REG" "$BASE/data-push"; PUSH_PID=$REG_PID
}

# ---------------------------------------------------------------- the image
if [ "$REBUILD" = 1 ] || [ ! -f "$ROOTFS/.bench-done" ]; then
  suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
  mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n 1)
  [ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n 1)
  [ -n "$mirror" ] || { echo "registry.sh: no Debian mirror in apt's configuration" >&2; exit 1; }
  log "debootstrap --variant=minbase $suite $mirror (once; cached in $ROOTFS)"
  rm -rf -- "$ROOTFS.tmp" "$ROOTFS"
  debootstrap --variant=minbase "$suite" "$ROOTFS.tmp" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
    { tail -n 20 "$WORK/debootstrap.log" >&2; exit 1; }
  # as an official image: no downloaded .debs, no apt lists
  rm -f "$ROOTFS.tmp"/var/cache/apt/archives/*.deb "$ROOTFS.tmp"/var/cache/apt/*.bin
  find "$ROOTFS.tmp/var/lib/apt/lists" -mindepth 1 -maxdepth 1 -type f -delete
  touch "$ROOTFS.tmp/.bench-done"
  mv "$ROOTFS.tmp" "$ROOTFS"
  REBUILD=1
fi
if [ "$REBUILD" = 1 ] || ! "${SEED[@]}" image inspect debian-bench:latest >/dev/null 2>&1; then
  log "importing the rootfs into the seed store"
  wipe "$BASE/seed"
  tar -C "$ROOTFS" --numeric-owner --exclude=./.bench-done -cf "$WORK/rootfs.tar" .
  "${SEED[@]}" import --change 'CMD ["/bin/bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$WORK/rootfs.tar" debian-bench:latest >/dev/null
  rm -f "$WORK/rootfs.tar"
  rm -rf -- "$BASE/data-pull"
fi
start_registry "$PULL_REG" "$BASE/data-pull"; PULL_PID=$REG_PID
ACCEPT='application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json'
if ! curl -fsS -H "Accept: $ACCEPT" "http://$PULL_REG/v2/bench/debian/manifests/latest" 2>/dev/null |
    grep -q 'tar+gzip\|tar.gzip'; then
  # `berth import` stores the layer as a plain tar and `berth push` sends blobs as stored, so
  # the registry copy is made gzip (as images on real registries are) by skopeo.
  log "pushing the image to $PULL_REG (gzip layer)"
  "${SEED[@]}" save --format oci-archive -o "$WORK/seed.tar" debian-bench:latest
  skopeo copy -q --dest-tls-verify=false --dest-compress --dest-compress-format gzip \
    "oci-archive:$WORK/seed.tar" "docker://$IMAGE" >/dev/null
  rm -f "$WORK/seed.tar"
fi
MANIFEST=$(curl -fsS -H "Accept: $ACCEPT" "http://$PULL_REG/v2/bench/debian/manifests/latest")
[ "$(jq '.layers | length' <<<"$MANIFEST")" = 1 ] || { echo "registry.sh: expected a one-layer image" >&2; exit 1; }
LAYER=$(jq -r '.layers[0].digest' <<<"$MANIFEST")
LAYER_SIZE=$(jq -r '.layers[0].size' <<<"$MANIFEST")
BLOB_URL=http://$PULL_REG/v2/bench/debian/blobs/$LAYER

# ---------------------------------------------------------------- quiet moment
for ((i = 0; i < QUIET_WAIT; i += 5)); do
  pgrep -x cc1plus >/dev/null || break
  ((i == 0)) && log "a compiler is running; waiting up to ${QUIET_WAIT}s for it to finish"
  sleep 5
done

# ---------------------------------------------------------------- rounds
RW=$WORK/round RR=$RUNBASE/round
B=("$BERTH" --root "$RW/berth" --runroot "$RR/berth")
P=(podman --root "$RW/podman" --runroot "$RR/podman" --tmpdir "$RR/libpod" --storage-driver overlay
   --cgroup-manager cgroupfs --events-backend file)
BUSY=0 SAMPLES=0
# timed TOOL OP COUNT CMD...: wall ms (and user+system CPU ms of the tool and its children)
timed() {
  local tool=$1 op=$2 count=$3 t0 t1 rc=0
  shift 3
  pgrep -x cc1plus >/dev/null && BUSY=$((BUSY + 1)); SAMPLES=$((SAMPLES + 1))
  t0=${EPOCHREALTIME/./}
  /usr/bin/time -f '%U %S' -o "$WORK/cpu" "$@" </dev/null >/dev/null 2>"$WORK/err" || rc=$?
  t1=${EPOCHREALTIME/./}
  if [ $rc != 0 ]; then echo "registry.sh: $tool $op failed: $(tail -n 3 "$WORK/err")" >&2; exit 1; fi
  [ "$count" = 1 ] || return 0
  echo $((10#$t1 - 10#$t0)) >>"$WORK/t.$op.$tool"
  awk 'END {printf "%d\n", ($1 + $2) * 1000}' "$WORK/cpu" >>"$WORK/c.$op.$tool"
}
pull() {  # pull TOOL COUNT
  case $1 in
    berth) timed berth pull "$2" "${B[@]}" pull -q --tls-verify=false "$IMAGE" ;;
    podman) timed podman pull "$2" "${P[@]}" pull -q --tls-verify=false "$IMAGE" ;;
    skopeo) timed skopeo pull "$2" skopeo copy -q --src-tls-verify=false "docker://$IMAGE" "oci:$RW/oci:latest" ;;
  esac
}
push() {  # push TOOL COUNT ROUND
  restart_push_registry
  local dest=$PUSH_REG/bench/$1-$3:latest
  case $1 in
    berth) timed berth push "$2" "${B[@]}" push -q --tls-verify=false "$IMAGE" "$dest" ;;
    podman) timed podman push "$2" "${P[@]}" push -q --tls-verify=false "$IMAGE" "docker://$dest" ;;
    skopeo) timed skopeo push "$2" skopeo copy -q --dest-tls-verify=false "oci:$RW/oci:latest" "docker://$dest" ;;
  esac
  local n
  n=$(find "$BASE/data-push/docker/registry/v2/blobs" -name data -type f | wc -l)
  [ "$n" = 3 ] || { echo "registry.sh: $1 push left $n blobs in the registry, expected 3" >&2; exit 1; }
}
TOOLS=(berth podman skopeo)
round() {  # round INDEX COUNT
  local r=$1 k tool
  wipe "$RW"; wipe "$RR"; mkdir -p "$RW" "$RR"
  for ((k = 0; k < 3; k++)); do pull "${TOOLS[(r + k) % 3]}" "$2"; done
  for ((k = 0; k < 3; k++)); do tool=${TOOLS[(r + 2 - k) % 3]}; push "$tool" "$2" "$r"; done
  [ "$r" != 0 ] || du -sk "$RW/berth" "$RW/podman" "$RW/oci" >"$WORK/store-sizes"
  wipe "$RW"; wipe "$RR"
}
log "$WARM warm-up and $ROUNDS timed rounds"
for ((r = 0; r < WARM; r++)); do round "$r" 0; done
for ((r = 0; r < ROUNDS; r++)); do round "$r" 1; done
DURING=$BUSY/$SAMPLES

median() { sort -n "$1" | awk '{v[NR]=$1/1000} END {printf "%.0f", (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}'; }
minv() { sort -n "$1" | awk 'NR==1{printf "%.0f", $1/1000}'; }
maxv() { sort -n "$1" | awk 'END{printf "%.0f", $1/1000}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }

# ---------------------------------------------------------------- stages of a pull
# Each stage alone, on the same blob, with the page cache warm (the blob is read from the
# registry's directory, which the pulls have just read).
S=$WORK/stages
stage() {  # stage NAME CMD...  (bash -c CMD)
  local t0 t1
  t0=${EPOCHREALTIME/./}
  bash -c "$2" >/dev/null
  t1=${EPOCHREALTIME/./}
  echo $((10#$t1 - 10#$t0)) >>"$WORK/s.$1"
}
if [ "$STAGES" -gt 0 ]; then
  log "$STAGES rounds of the stage breakdown"
  mkdir -p "$S"
  curl -fsSo "$S/layer.tgz" "$BLOB_URL"
  gzip -dc "$S/layer.tgz" >"$S/layer.tar"
  UNCOMPRESSED=$(stat -c %s "$S/layer.tar")
  for ((r = 0; r < STAGES; r++)); do
    stage net "curl -fsSo /dev/null '$BLOB_URL'"
    rm -f "$S/dl"; stage netfile "curl -fsSo '$S/dl' '$BLOB_URL' && sync '$S/dl'"
    stage sha_c "sha256sum '$S/layer.tgz'"
    stage inflate "gzip -dc '$S/layer.tgz' | wc -c"
    stage sha_u "sha256sum '$S/layer.tar'"
    rm -rf "$S/x"; mkdir "$S/x"
    stage untar "tar -C '$S/x' --numeric-owner -xpf '$S/layer.tar'"
    stage syncfs "sync -f '$S/x'"
    rm -rf "$S/x"; mkdir "$S/x"
    stage pipeline "set -o pipefail; curl -fsS '$BLOB_URL' | tee >(sha256sum >/dev/null) | gzip -dc |
      tee >(sha256sum >/dev/null) | tar -C '$S/x' --numeric-owner -xpf - && sync -f '$S/x'"
    rm -rf "$S/x" "$S/dl"
  done
fi

# ---------------------------------------------------------------- report
ver() { "$@" 2>/dev/null | awk '{print $NF; exit}'; }
echo "<!-- bench/registry.sh -n $ROUNDS -w $WARM -s $STAGES; berth $("$BERTH" --version | awk '{print $NF}'), podman $(ver podman --version), skopeo $(ver skopeo --version), docker-registry $(dpkg-query -W -f='${Version}' docker-registry); $(date -u +%Y-%m-%d); $(uname -r); $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg); a compiler ran during $DURING timed commands -->"
echo
echo "Image: one layer, $((LAYER_SIZE / 1024)) KiB gzip${UNCOMPRESSED:+, $((UNCOMPRESSED / 1024)) KiB as a tar}; rootfs $(du -sk --exclude=.bench-done "$ROOTFS" | cut -f1) KiB, $(find "$ROOTFS" | wc -l) entries. Stores after a pull (KiB): $(awk '{sub(".*/", "", $2); printf "%s%s %s", (NR>1?", ":""), $2, $1}' "$WORK/store-sizes")."
echo
for op in pull push; do
  mb=$(median "$WORK/t.$op.berth")
  echo "| $op | median ms | min | max | CPU ms (median) | berth / tool |"
  echo "|---|---:|---:|---:|---:|---:|"
  for tool in berth podman skopeo; do
    m=$(median "$WORK/t.$op.$tool")
    c=$(sort -n "$WORK/c.$op.$tool" | awk '{v[NR]=$1} END {printf "%.0f", (NR%2)?v[(NR+1)/2]:(v[NR/2]+v[NR/2+1])/2}')
    echo "| $tool | $m | $(minv "$WORK/t.$op.$tool") | $(maxv "$WORK/t.$op.$tool") | $c | $(ratio "$mb" "$m") |"
  done
  echo
done
if [ "$STAGES" -gt 0 ]; then
  echo "| stage of a pull (alone, page cache warm) | median ms |"
  echo "|---|---:|"
  for s in net:"network: \`curl\` the blob to /dev/null" netfile:"network to a file, fsync" \
           sha_c:"sha256 of the gzip blob (\`sha256sum\`)" inflate:"inflate (\`gzip -dc\`)" \
           sha_u:"sha256 of the tar (diff id)" untar:"unpack the tar (\`tar -xp\`)" \
           syncfs:"syncfs after the unpack" \
           pipeline:"all streamed: \`curl \\| tee sha256sum \\| gzip -dc \\| tee sha256sum \\| tar -x\`, syncfs"; do
    echo "| ${s#*:} | $(median "$WORK/s.${s%%:*}") |"
  done
fi
