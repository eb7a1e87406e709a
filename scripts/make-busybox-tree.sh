#!/usr/bin/env bash
# make-busybox-tree.sh DIR - a root filesystem from Debian's static busybox: /bin/busybox,
# one relative symlink per applet at the path busybox reports, /etc/passwd and /etc/group
# with root, an unprivileged user `berth` (1000:1000) and nobody. Nothing is downloaded.
set -euo pipefail
tree=${1:?usage: make-busybox-tree.sh DIR}
BUSYBOX=$(readlink -f "$(command -v busybox)")
if ldd "$BUSYBOX" >/dev/null 2>&1; then
  echo "make-busybox-tree: $BUSYBOX is dynamically linked: install busybox-static" >&2
  exit 1
fi
mkdir -p "$tree"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,home/berth,proc,sys,dev,run,var/tmp}
chmod 1777 "$tree/tmp" "$tree/var/tmp"
chown 1000:1000 "$tree/home/berth"
install -m 0755 "$BUSYBOX" "$tree/bin/busybox"
while read -r applet; do
  [ "$applet" = bin/busybox ] && continue
  dir=${applet%/*}
  up=''
  IFS=/ read -ra parts <<<"$dir"
  for _ in "${parts[@]}"; do up+=../; done
  mkdir -p "$tree/$dir"
  ln -sfn "${up}bin/busybox" "$tree/$applet"
done < <("$tree/bin/busybox" --list-full)
cat >"$tree/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
berth:x:1000:1000:berth test user:/home/berth:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat >"$tree/etc/group" <<'GROUP'
root:x:0:
tty:x:5:
berth:x:1000:
nogroup:x:65534:
GROUP
