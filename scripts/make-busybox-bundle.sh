#!/usr/bin/env bash
# make-busybox-bundle.sh DIR [RUNTIME] - an OCI bundle whose rootfs is Debian's static busybox
# with its applets, and whose config.json is RUNTIME's default `spec` (non-interactive).
set -euo pipefail
dir=${1:?usage: make-busybox-bundle.sh DIR [RUNTIME]}
runtime=${2:-berth-runtime}
bb=/bin/busybox
[ -x "$bb" ] || { echo "make-busybox-bundle: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
if ldd "$bb" >/dev/null 2>&1; then
  echo "make-busybox-bundle: $bb is dynamically linked; install busybox-static" >&2; exit 1
fi
mkdir -p "$dir/rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,proc,sys,dev,run,var}
chmod 1777 "$dir/rootfs/tmp"
cp "$bb" "$dir/rootfs/bin/busybox"
for applet in $("$bb" --list-full); do
  [ "$applet" = bin/busybox ] && continue
  ln -sf /bin/busybox "$dir/rootfs/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
  > "$dir/rootfs/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' > "$dir/rootfs/etc/group"
rm -f "$dir/config.json"
"$runtime" spec --bundle "$dir"
# A script-friendly process: no terminal.
sed -i 's/"terminal": true/"terminal": false/' "$dir/config.json"
