#!/usr/bin/env bash
# make-busybox-image.sh - build localhost/berth-test-busybox into a private podman/buildah store.
#
# The image is made from scratch: a static busybox at /bin/busybox, one symlink per applet,
# /etc/passwd and /etc/group with root, nobody and an unprivileged user `berth` (1000:1000),
# PATH in the environment and `sh` as the command. Nothing is pulled from a registry.
#
# Usage: make-busybox-image.sh --root DIR --runroot DIR [--force] [--image NAME]
#   --root DIR      storage graph root (the same one the tests give podman)
#   --runroot DIR   storage run root
#   --force         rebuild even when the image exists
#   --image NAME    image name (default localhost/berth-test-busybox:latest)
# Idempotent: does nothing when the image is already in the store. Safe to run concurrently
# (a lock file in the graph root serialises builders).
set -euo pipefail

ROOT='' RUNROOT='' FORCE=0 IMAGE=localhost/berth-test-busybox:latest
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
    --runroot) RUNROOT=${2:?--runroot needs a directory}; shift 2 ;;
    --force) FORCE=1; shift ;;
    --image) IMAGE=${2:?--image needs a name}; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "make-busybox-image: unknown argument \`$1\` (try --help)" >&2; exit 2 ;;
  esac
done
fail() { echo "make-busybox-image: $*" >&2; exit 1; }
[ -n "$ROOT" ] && [ -n "$RUNROOT" ] || fail "--root and --runroot are required (never the host's default store)"
[ "$(id -u)" = 0 ] || fail "must run as root"
for tool in buildah busybox flock; do
  command -v "$tool" >/dev/null || fail "\`$tool\` not found (scripts/install-deps.sh installs it)"
done
BUSYBOX=$(readlink -f "$(command -v busybox)")
# A dynamically linked busybox would need its libraries in the image too.
if ldd "$BUSYBOX" >/dev/null 2>&1; then
  fail "\`$BUSYBOX\` is dynamically linked: install busybox-static"
fi

mkdir -p "$ROOT" "$RUNROOT"
STORE=(--root "$ROOT" --runroot "$RUNROOT" --storage-driver overlay)

exec 9>"$ROOT/.berth-test-image.lock"
flock 9
# buildah, not podman, looks the image up: a first podman call would create libpod's database
# in the graph root and pin its tmp dir to podman's default (/run/libpod), outside our run root
if [ "$FORCE" = 0 ] && buildah "${STORE[@]}" inspect --type image "$IMAGE" >/dev/null 2>&1; then
  echo "make-busybox-image: $IMAGE present in $ROOT"
  exit 0
fi

TREE=$(mktemp -d /tmp/berth-test-image.XXXXXX)
CTR=''
cleanup() {
  [ -n "$CTR" ] && buildah "${STORE[@]}" rm "$CTR" >/dev/null 2>&1
  rm -rf -- "$TREE"
}
trap cleanup EXIT

# The same tree `berth` images are made from (scripts/make-busybox-tree.sh).
"$(dirname "$0")/../../scripts/make-busybox-tree.sh" "$TREE"

CTR=$(buildah "${STORE[@]}" from --pull-never scratch) || fail "buildah from scratch failed"
buildah "${STORE[@]}" copy "$CTR" "$TREE" / >/dev/null || fail "buildah copy into $CTR failed"
buildah "${STORE[@]}" config \
  --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --cmd '["/bin/sh"]' --workingdir / \
  --label org.opencontainers.image.title=berth-test-busybox "$CTR" || fail "buildah config failed"
buildah "${STORE[@]}" commit -q --rm "$CTR" "$IMAGE" >/dev/null || fail "buildah commit $IMAGE failed"
CTR=''
echo "make-busybox-image: built $IMAGE in $ROOT"
