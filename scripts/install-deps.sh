#!/usr/bin/env bash
# Installs every build and test dependency of berth from Debian's packages. Idempotent.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "install-deps.sh: run as root" >&2; exit 1; }

PKGS=(
  # build
  build-essential cmake ninja-build pkg-config git
  libseccomp-dev libcap-dev nlohmann-json3-dev libcli11-dev libexpected-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libarchive-dev libzstd-dev zlib1g-dev libsqlite3-dev libssl-dev   # images: layers, store, digests
  libboost-dev libcrypt-dev libcpptoml-dev   # registry: HTTP/TLS (Boost.Beast), bcrypt, registries.conf
  liblzma-dev libbz2-dev liblz4-dev   # the static berth links every filter libarchive offers
  libnl-3-dev libnl-route-3-dev libnftables-dev   # networks: rtnetlink, nftables
  musl-tools   # the per-container monitor and init: tiny static binaries
  clang libclang-rt-14-dev   # libFuzzer and sanitizers
  lld   # links the static berth with its hot code packed (src/cmd/berth/hot-symbols.txt)
  linux-perf   # bench/order-symbols.sh: page-fault profiles for that order
  # tests and peers
  busybox-static podman crun runc buildah skopeo jq hyperfine time
  util-linux iproute2 procps python3 uidmap fuse-overlayfs slirp4netns
  conmon catatonit   # interop tests: podman's monitor and its --init
  docker-registry apache2-utils   # interop: the distribution reference registry, htpasswd
  nftables iperf3 socat   # network tests: the kernel's rules, traffic, bench/network.sh
  debootstrap   # bench/registry.sh: the Debian image it pulls
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
