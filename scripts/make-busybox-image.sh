#!/usr/bin/env bash
# make-busybox-image.sh BERTH [NAME] [berth global flags...] - import a busybox image (built
# by make-busybox-tree.sh from Debian's busybox-static) into berth's store as NAME (default
# busybox:latest), with PATH set and `sh` as its command. Does nothing if NAME exists.
set -euo pipefail
berth=${1:?usage: make-busybox-image.sh BERTH [NAME] [global flags]}
name=${2:-busybox:latest}
shift $(( $# >= 2 ? 2 : 1 ))
if "$berth" "$@" image inspect "$name" >/dev/null 2>&1; then
  exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/berth-busybox.XXXXXX)
trap 'rm -rf -- "$work"' EXIT
"$here/make-busybox-tree.sh" "$work/tree"
tar -C "$work/tree" --numeric-owner -cf "$work/rootfs.tar" .
"$berth" "$@" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/bin/sh"]' \
  --change 'LABEL org.opencontainers.image.title=busybox' \
  -m "busybox-static from Debian" "$work/rootfs.tar" "$name" >/dev/null
