#!/usr/bin/env bash
# hello.sh - set everything up on a fresh machine and run a container that prints.
#   installs the Debian packages berth needs, builds the release preset, imports a busybox
#   image made from Debian's busybox-static into berth's store (/var/lib/berth) and runs
#   `berth run --rm busybox echo hello` in it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "hello.sh: run as root (containers need it)" >&2; exit 1; }
./scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target berth berth-nft berth-monitor berth-init >/dev/null
berth=$PWD/build/release/berth
./scripts/make-busybox-image.sh "$berth" busybox:latest
exec "$berth" run --rm busybox echo hello
