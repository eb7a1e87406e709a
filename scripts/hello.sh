#!/usr/bin/env bash
# hello.sh - set everything up on a fresh machine and run a container that prints.
#   installs the Debian packages berth needs, builds the release preset, makes an OCI bundle
#   from Debian's busybox-static and runs `echo hello from berth` in it with berth-runtime.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "hello.sh: run as root (containers need it)" >&2; exit 1; }
./scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target berth-runtime >/dev/null
runtime=$PWD/build/release/src/cmd/berth-runtime/berth-runtime
bundle=$(mktemp -d /tmp/berth-hello.XXXXXX)
trap 'rm -rf "$bundle"' EXIT
./scripts/make-busybox-bundle.sh "$bundle" "$runtime" >/dev/null
sed -i 's/"sh"$/"echo", "hello from berth"/' "$bundle/config.json"
cd "$bundle"
exec "$runtime" run "hello-$$"
