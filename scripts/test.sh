#!/usr/bin/env bash
# test.sh - set everything up on a fresh machine and run every test tier.
#   1. installs the Debian packages (scripts/install-deps.sh)
#   2. release build: unit, integration, interop and fuzz-corpus tests (ctest)
#   3. ASan/UBSan build: unit and integration tests
#   4. libFuzzer build (clang): a short run of every fuzz target
# Options: --quick (release tests only), --no-fuzz, --no-asan. Exit status is non-zero if
# any tier fails; every tier runs regardless, so one report shows everything.
set -uo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "test.sh: run as root (integration tests need it)" >&2; exit 1; }
quick=0 fuzz=1 asan=1
for a in "$@"; do
  case "$a" in
    --quick) quick=1 ;;
    --no-fuzz) fuzz=0 ;;
    --no-asan) asan=0 ;;
    *) echo "test.sh: unknown option $a" >&2; exit 2 ;;
  esac
done
jobs=$(nproc)
status=0
# Host state that outlives every test store by design: the empty `berth` parent cgroups
# (kept between containers, as docker keeps /docker) and bridges/tables of test stores
# removed by hand. A prune from a throwaway store removes what nothing uses any more.
tidy_host() {
  local b=$1 tmp
  [ -x "$b" ] || return 0
  tmp=$(mktemp -d /var/tmp/berth-tidy.XXXXXX)
  "$b" --root "$tmp/root" --runroot "$tmp/run" system prune -f >/dev/null ||
    echo "test.sh: host tidy-up with $b failed" >&2
  rm -rf -- "$tmp"
}
step() { printf '\n=== %s ===\n' "$*"; }
run() { "$@" || { echo "FAILED: $*" >&2; status=1; }; }

step "dependencies"
./scripts/install-deps.sh || exit 1

step "release build"
cmake --preset release >/dev/null && cmake --build --preset release -j "$jobs" || exit 1
step "release tests (unit, integration, interop, fuzz corpus)"
run ctest --preset release -j "$jobs" --timeout 600
tidy_host build/release/berth

if [ "$quick" = 0 ] && [ "$asan" = 1 ]; then
  step "ASan/UBSan build"
  if cmake --preset asan >/dev/null && cmake --build --preset asan -j "$jobs"; then
    step "ASan/UBSan tests (unit, integration)"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
      run ctest --preset asan -j "$jobs" --timeout 900
    tidy_host build/release/berth
  else
    echo "FAILED: asan build" >&2; status=1
  fi
fi

if [ "$quick" = 0 ] && [ "$fuzz" = 1 ]; then
  step "libFuzzer build and short runs"
  # Only the fuzz targets: the rest of the tree was already built twice.
  targets=$(for f in tests/fuzz/*_fuzz.cc; do basename "$f" .cc; done)
  # shellcheck disable=SC2086
  if cmake --preset fuzz >/dev/null && cmake --build --preset fuzz -j "$jobs" --target $targets; then
    run ctest --test-dir build/fuzz -L fuzz -j "$jobs" --output-on-failure
  else
    echo "FAILED: fuzz build" >&2; status=1
  fi
fi

step "result"
[ "$status" = 0 ] && echo "all tiers passed" || echo "some tiers FAILED"
exit "$status"
