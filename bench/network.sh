#!/usr/bin/env bash
# network.sh - what berth's bridge network costs, side by side with podman in one run:
#   1. setup cost in `run`: `run --rm IMAGE true` on the default bridge network against
#      `--network none` (hyperfine), for berth and for podman; the difference of the medians
#      is what networking adds to a container's start and removal;
#   2. published-port throughput: an iperf3 server in a container published with
#      `-p 127.0.0.1:PORT:5201` and `-p HOST_IP:PORT:5201`, measured by an iperf3 client on the
#      host, berth against podman (and the host's own loopback, no container, as the ceiling).
#
# Usage: bench/network.sh [-n RUNS] [-w WARMUP] [--passes P] [-r ROUNDS] [-t SECONDS]
#                         [--berth PATH] [--host-ip ADDR] [--port-base PORT] [--no-podman]
#                         [--quiet-wait SECONDS] [--keep-images]
#   -n N            timed `run`s per command (default 30), spread over the passes
#   -w N            hyperfine warm-up runs per command and pass (default 3)
#   --passes P      hyperfine passes (default 3); the order of the four commands rotates from
#                   pass to pass and the samples are pooled, so drift hits all of them alike
#   -r N            throughput rounds (default 5); each measures every target once, the
#                   order rotating per round
#   -t S            seconds per iperf3 measurement (default 5, after a 1 s omitted ramp-up)
#   --berth P       the berth binary (default: build/release/berth); it and its helpers
#                   (berth-nft, berth-monitor, berth-init) are copied to the work directory
#                   first, so a rebuild during the run cannot swap them
#   --host-ip A     the host's non-loopback address to publish on (default: the address of
#                   the default route's interface)
#   --port-base P   host ports P (berth), P+1 (podman), P+2 (host baseline) (default 15201)
#   --no-podman     berth only
#   --quiet-wait S  wait up to S seconds for no compiler or fuzzer to run first (default 300)
#   --keep-images   keep the busybox images (faster reruns); everything else is removed
#
# Both tools run the same busybox tree (scripts/make-busybox-tree.sh) imported into private
# stores: berth /var/tmp/berth-bench-net/store + /run/berth-bench-net, podman
# /var/tmp/berth-bench-net/podman + /run/berth-bench-net-podman. podman runs with
# `--runtime runc` (crun 1.8 refuses this host's hybrid cgroups), cgroupfs, file locks and
# events, and a containers.conf capping its default ulimits under the host's hard limits; its
# bridge is its default CNI network `podman` (10.88.0.0/16, portmap plugin for -p). The iperf3
# server is the host's /usr/bin/iperf3, bind-mounted read-only with the directories of its
# shared libraries, started as `sh -c 'exec /iperf3 -s'` in both tools. No internet needed.
# Everything started is removed on exit, also on failure: containers of both tools, the
# host iperf3, the images (unless --keep-images), `berth system prune -af`.
# Output: progress on stderr, a markdown fragment (for docs/benchmarks.md) on stdout.
set -euo pipefail
RUNS=30 WARM=3 PASSES=3 ROUNDS=5 SECS=5 BERTH='' HOST_IP='' PORT=15201 PODMAN=1 QUIET_WAIT=300
KEEP_IMAGES=0
HERE=$(cd "$(dirname "$0")" && pwd); REPO=$(cd "$HERE/.." && pwd)
ARGS="$*"
while [ $# -gt 0 ]; do
  case "$1" in
    -n) RUNS=$2; shift 2 ;;
    -w) WARM=$2; shift 2 ;;
    --passes) PASSES=$2; shift 2 ;;
    -r) ROUNDS=$2; shift 2 ;;
    -t) SECS=$2; shift 2 ;;
    --berth) BERTH=$2; shift 2 ;;
    --host-ip) HOST_IP=$2; shift 2 ;;
    --port-base) PORT=$2; shift 2 ;;
    --no-podman) PODMAN=0; shift ;;
    --quiet-wait) QUIET_WAIT=$2; shift 2 ;;
    --keep-images) KEEP_IMAGES=1; shift ;;
    -h|--help) sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "network.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "network.sh: needs root" >&2; exit 2; }
[ -n "$BERTH" ] || BERTH=$REPO/build/release/berth
[ -x "$BERTH" ] || { echo "network.sh: no berth binary at $BERTH (build first or pass --berth)" >&2; exit 2; }
BERTH=$(readlink -f "$BERTH")
[ -x "$(dirname "$BERTH")/berth-nft" ] || { echo "network.sh: no berth-nft next to $BERTH" >&2; exit 2; }
for t in hyperfine iperf3 python3 ss ip; do
  command -v "$t" >/dev/null || { echo "network.sh: needs $t (sudo scripts/install-deps.sh)" >&2; exit 2; }
done
if [ "$PODMAN" = 1 ]; then
  for t in podman runc; do
    command -v "$t" >/dev/null || { echo "network.sh: needs $t (or --no-podman)" >&2; exit 2; }
  done
fi
log() { printf '[network.sh] %s\n' "$*" >&2; }
if [ -z "$HOST_IP" ]; then
  dev=$(ip -4 route show default | awk '{for (i = 1; i < NF; i++) if ($i == "dev") {print $(i + 1); exit}}')
  [ -n "$dev" ] && HOST_IP=$(ip -4 -o addr show dev "$dev" scope global | awk '{sub("/.*", "", $4); print $4; exit}')
fi
BPORT=$PORT PPORT=$((PORT + 1)) HPORT=$((PORT + 2))
for p in "$BPORT" "$PPORT" "$HPORT"; do
  if [ -n "$(ss -Htln "sport = :$p")" ]; then
    echo "network.sh: host port $p is in use (--port-base)" >&2; exit 2
  fi
done

STATE=/var/tmp/berth-bench-net RUNB=/run/berth-bench-net RUNP=/run/berth-bench-net-podman
mkdir -p "$STATE" "$RUNB" "$RUNP"
WORK=$(mktemp -d /tmp/berth-bench-net.XXXXXX)
# A copy of berth and its helpers (found next to it): a rebuild during the run cannot swap
# the binaries under the bench.
mkdir "$WORK/bin"
for f in berth berth-nft berth-monitor berth-init; do
  [ ! -e "$(dirname "$BERTH")/$f" ] || cp "$(dirname "$BERTH")/$f" "$WORK/bin/$f"
done
BERTH=$WORK/bin/berth
B=("$BERTH" --root "$STATE/store" --runroot "$RUNB")
P=(podman --root "$STATE/podman" --runroot "$RUNP/run" --tmpdir "$RUNP/tmp"
   --storage-driver overlay --cgroup-manager cgroupfs --events-backend file --runtime runc)
nofile=$(ulimit -Hn); nproc=32768  # under the hard limits (root lacks CAP_SYS_RESOURCE here)
printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n[engine]\nlock_type = "file"\n' \
  "$nofile" "$nofile" "$nproc" "$nproc" >"$WORK/containers.conf"
export CONTAINERS_CONF=$WORK/containers.conf
BIMAGE=busybox:latest PIMAGE=localhost/bench-busybox:latest
SERVER=berth-bench-net-iperf
HOST_PID=''
PODMAN_CLEAN=$PODMAN  # podman may have made something even if it then fails

cleanup() {
  local rc=$? ids
  trap - EXIT INT TERM
  if [ -n "$HOST_PID" ]; then kill "$HOST_PID" 2>/dev/null || true; fi
  ids=$("${B[@]}" ps -aq 2>/dev/null || true)  # the private store: every container is ours
  # shellcheck disable=SC2086  # one id per word
  [ -z "$ids" ] || "${B[@]}" rm -f $ids >/dev/null 2>&1 || true
  if [ "$KEEP_IMAGES" = 1 ]; then
    "${B[@]}" system prune -f >/dev/null 2>&1 || true
  else
    "${B[@]}" system prune -af >/dev/null 2>&1 || true
  fi
  if [ "$PODMAN_CLEAN" = 1 ]; then
    ids=$("${P[@]}" ps -aq 2>/dev/null || true)
    # shellcheck disable=SC2086
    [ -z "$ids" ] || "${P[@]}" rm -f -t 0 $ids >/dev/null 2>&1 || true
    [ "$KEEP_IMAGES" = 1 ] || "${P[@]}" rmi -af >/dev/null 2>&1 || true
  fi
  rm -rf -- "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- images
log "images"
"$REPO/scripts/make-busybox-image.sh" "$BERTH" "$BIMAGE" --root "$STATE/store" --runroot "$RUNB" >/dev/null
PODMAN_ERR=''
if [ "$PODMAN" = 1 ]; then
  if ! "${P[@]}" image exists "$PIMAGE" 2>/dev/null; then
    "$REPO/scripts/make-busybox-tree.sh" "$WORK/tree" >/dev/null
    tar -C "$WORK/tree" --numeric-owner -cf "$WORK/rootfs.tar" .
    "${P[@]}" import --change 'CMD ["/bin/sh"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      "$WORK/rootfs.tar" "$PIMAGE" >/dev/null 2>"$WORK/err" ||
      PODMAN_ERR="podman import: $(tail -n 3 "$WORK/err")"
    rm -rf "$WORK/tree" "$WORK/rootfs.tar"
  fi
fi

# Each candidate once, to fail early with the tool's own words (a podman failure is
# reported and the bench goes on with berth alone).
"${B[@]}" run --rm "$BIMAGE" true >/dev/null 2>"$WORK/err" ||
  { echo "network.sh: berth run on the bridge failed: $(cat "$WORK/err")" >&2; exit 1; }
"${B[@]}" run --rm --network none "$BIMAGE" true >/dev/null 2>"$WORK/err" ||
  { echo "network.sh: berth run --network none failed: $(cat "$WORK/err")" >&2; exit 1; }
if [ "$PODMAN" = 1 ] && [ -z "$PODMAN_ERR" ]; then
  for net in none bridge; do
    a=(run --rm --pull never); [ $net = none ] && a+=(--network none)
    if ! "${P[@]}" "${a[@]}" "$PIMAGE" true >/dev/null 2>"$WORK/err"; then
      PODMAN_ERR="podman run --network $net: $(tail -n 3 "$WORK/err")"; break
    fi
  done
fi
if [ -n "$PODMAN_ERR" ]; then
  log "podman cannot run here, measuring berth alone: $PODMAN_ERR"
  PODMAN=0
fi

# ---------------------------------------------------------------- quiet moment
busy() { pgrep -x cc1plus >/dev/null || pgrep '_fuzz$|^fuzz_' >/dev/null; }
for ((i = 0; i < QUIET_WAIT; i += 5)); do
  busy || break
  ((i == 0)) && log "a compiler or fuzzer is running; waiting up to ${QUIET_WAIT}s for it to finish"
  sleep 5
done
BUSY=0 SAMPLES=0
sample_busy() { busy && BUSY=$((BUSY + 1)); SAMPLES=$((SAMPLES + 1)); }

# ---------------------------------------------------------------- 1. setup cost in run
NAMES=(berth-bridge berth-none)
CMDS=("${B[*]} run --rm $BIMAGE true" "${B[*]} run --rm --network none $BIMAGE true")
if [ "$PODMAN" = 1 ]; then
  NAMES+=(podman-bridge podman-none)
  CMDS+=("${P[*]} run --rm --pull never $PIMAGE true" "${P[*]} run --rm --pull never --network none $PIMAGE true")
fi
NC=${#NAMES[@]}
PER=$(((RUNS + PASSES - 1) / PASSES))
log "setup cost: $PASSES hyperfine passes x $PER runs (+$WARM warm-up) of ${NC} commands"
for ((pass = 0; pass < PASSES; pass++)); do
  hf=(hyperfine -N --style basic --warmup "$WARM" --runs "$PER" --export-json "$WORK/setup.$pass.json")
  for ((k = 0; k < NC; k++)); do
    c=$(((k + pass) % NC))
    hf+=(-n "${NAMES[$c]}" "${CMDS[$c]}")
  done
  sample_busy
  "${hf[@]}" >"$WORK/hyperfine.$pass.out" 2>&1 ||
    { echo "network.sh: hyperfine failed: $(tail -n 5 "$WORK/hyperfine.$pass.out")" >&2; exit 1; }
  sample_busy
done
# name n median min p90 mean (ms), pooled over the passes
python3 - "$WORK" "$PASSES" >"$WORK/setup.stats" <<'EOF'
import json, statistics, sys
work, passes = sys.argv[1], int(sys.argv[2])
times = {}
for p in range(passes):
    for r in json.load(open(f"{work}/setup.{p}.json"))["results"]:
        times.setdefault(r["command"], []).extend(t * 1000 for t in r["times"])
for name, t in times.items():
    t.sort()
    p90 = t[min(len(t) - 1, int(0.9 * len(t) + 0.999) - 1)]
    print(name, len(t), f"{statistics.median(t):.1f}", f"{t[0]:.1f}", f"{p90:.1f}",
          f"{statistics.mean(t):.1f}")
EOF
stat() { awk -v n="$1" -v f="$2" '$1 == n {print $f}' "$WORK/setup.stats"; }

# ---------------------------------------------------------------- 2. published-port throughput
# The server: the host's iperf3 and the directories of its libraries, read-only.
MOUNTS=(-v /usr/bin/iperf3:/iperf3:ro)
while read -r dir; do
  MOUNTS+=(-v "$(readlink -f "$dir"):$dir:ro")
done < <(ldd /usr/bin/iperf3 | awk '{for (i = 1; i <= NF; i++) if ($i ~ /^\//) print $i}' |
         xargs -n1 dirname | sort -u)
# `sh -c 'exec ...'`: berth resolves the command in the image before the bind mounts exist
# (`berth run IMAGE /iperf3` fails with "executable file not found"); podman runs it as is.
SRV=(sh -c 'exec /iperf3 -s')
log "throughput: servers (berth :$BPORT, podman :$PPORT, host :$HPORT; host address ${HOST_IP:-none})"
pub=(-p "127.0.0.1:$BPORT:5201"); [ -z "$HOST_IP" ] || pub+=(-p "$HOST_IP:$BPORT:5201")
"${B[@]}" run -d --name "$SERVER" "${pub[@]}" "${MOUNTS[@]}" "$BIMAGE" "${SRV[@]}" >/dev/null
TARGETS=(berth-lo)
[ -z "$HOST_IP" ] || TARGETS+=(berth-ext)
if [ "$PODMAN" = 1 ]; then
  pub=(-p "127.0.0.1:$PPORT:5201"); [ -z "$HOST_IP" ] || pub+=(-p "$HOST_IP:$PPORT:5201")
  "${P[@]}" run -d --pull never --name "$SERVER" "${pub[@]}" "${MOUNTS[@]}" "$PIMAGE" "${SRV[@]}" >/dev/null
  TARGETS+=(podman-lo)
  [ -z "$HOST_IP" ] || TARGETS+=(podman-ext)
fi
iperf3 -s -B 127.0.0.1 -p "$HPORT" -D --pidfile "$WORK/host-iperf.pid" >/dev/null
for ((i = 0; i < 50; i++)); do [ -s "$WORK/host-iperf.pid" ] && break; sleep 0.1; done
HOST_PID=$(tr -d '\0' <"$WORK/host-iperf.pid")
TARGETS+=(host-lo)
addr() {  # addr TARGET -> "ADDRESS PORT"
  local ip=127.0.0.1 port=$HPORT
  case $1 in *-ext) ip=$HOST_IP ;; esac
  case $1 in berth-*) port=$BPORT ;; podman-*) port=$PPORT ;; esac
  echo "$ip $port"
}
measure() {  # measure TARGET SECONDS RECORD: one iperf3 run; appends "MB/s retransmits"
  local ip port
  read -r ip port < <(addr "$1")
  iperf3 -c "$ip" -p "$port" -t "$2" -O 1 -J --connect-timeout 3000 >"$WORK/iperf.json" 2>&1 ||
    return 1
  [ "$3" = 1 ] || return 0
  python3 - "$WORK/iperf.json" >>"$WORK/tp.$1" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))["end"]
print(f'{e["sum_received"]["bits_per_second"] / 8e6:.0f} {e["sum_sent"].get("retransmits", 0)}')
EOF
}
# Ready: the first successful short run (the server may take a moment to listen).
for t in "${TARGETS[@]}"; do
  for ((i = 0; i < 40; i++)); do
    measure "$t" 1 0 && break
    sleep 0.25
  done
  ((i < 40)) || { echo "network.sh: no iperf3 answer from $t ($(addr "$t")): $(cat "$WORK/iperf.json")" >&2; exit 1; }
done
NT=${#TARGETS[@]}
log "throughput: $ROUNDS rounds x $NT targets x ${SECS}s"
for ((r = 0; r < ROUNDS; r++)); do
  for ((k = 0; k < NT; k++)); do
    t=${TARGETS[$(((k + r) % NT))]}
    sample_busy
    measure "$t" "$SECS" 1 || { echo "network.sh: iperf3 to $t failed: $(cat "$WORK/iperf.json")" >&2; exit 1; }
  done
done
tp() {  # tp TARGET FIELD(median|min|max|retr)
  local col=1
  [ "$2" = retr ] && col=2
  cut -d' ' -f"$col" "$WORK/tp.$1" | sort -n | awk -v f="$2" '{v[NR] = $1} END {
    if (f == "min") print v[1]; else if (f == "max") print v[NR]
    else printf "%.0f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ---------------------------------------------------------------- report
ver() { "$@" 2>/dev/null | awk '{print $3; exit}'; }
tools="berth $("$BERTH" --version | awk '{print $NF}')"
[ "$PODMAN" = 1 ] && tools="$tools, podman $(ver podman --version) with runc $(runc --version | awk 'NR==1{print $3}') (CNI bridge)"
tools="$tools, hyperfine $(hyperfine --version | awk '{print $2}'), iperf3 $(iperf3 --version | awk 'NR==1{print $2}')"
echo "<!-- bench/network.sh $ARGS; $tools; $(date -u +%Y-%m-%d); $(uname -r); $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg); a compiler or fuzzer ran during $BUSY/$SAMPLES samples -->"
echo
if [ -n "$PODMAN_ERR" ]; then
  echo "podman could not run here, berth alone: \`$PODMAN_ERR\`"
  echo
fi
echo "| \`run --rm IMAGE true\` | bridge median ms | min | p90 | \`--network none\` median ms | min | p90 | network adds ms | bridge / none |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
tools_run=(berth); [ "$PODMAN" = 1 ] && tools_run+=(podman)
for t in "${tools_run[@]}"; do
  mb=$(stat "$t-bridge" 3) mn=$(stat "$t-none" 3)
  label=$t; [ "$t" = podman ] && label="podman (runc, CNI)"
  echo "| $label | $mb | $(stat "$t-bridge" 4) | $(stat "$t-bridge" 5) | $mn | $(stat "$t-none" 4) | $(stat "$t-none" 5) | **$(awk -v a="$mb" -v b="$mn" 'BEGIN{printf "%.1f", a - b}')** | $(awk -v a="$mb" -v b="$mn" 'BEGIN{printf "%.2f", a / b}') |"
done
if [ "$PODMAN" = 1 ]; then
  d_b=$(awk -v a="$(stat berth-bridge 3)" -v b="$(stat berth-none 3)" 'BEGIN{print a - b}')
  d_p=$(awk -v a="$(stat podman-bridge 3)" -v b="$(stat podman-none 3)" 'BEGIN{print a - b}')
  echo
  echo "Network setup, berth / podman: **$(awk -v a="$d_b" -v b="$d_p" 'BEGIN{printf "%.3f", a / b}')** ($d_b ms against $d_p ms); bridge \`run\`, berth / podman: $(awk -v a="$(stat berth-bridge 3)" -v b="$(stat podman-bridge 3)" 'BEGIN{printf "%.3f", a / b}')."
fi
echo
echo "| published port (iperf3 -t $SECS, host → container) | berth MB/s | min | max | retr | podman MB/s | min | max | retr | berth / podman |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for via in lo ext; do
  [ -f "$WORK/tp.berth-$via" ] || continue
  if [ "$via" = lo ]; then label="\`-p 127.0.0.1:PORT:5201\`, to 127.0.0.1"; else label="\`-p $HOST_IP:PORT:5201\`, to $HOST_IP"; fi
  b=$(tp "berth-$via" median)
  if [ -f "$WORK/tp.podman-$via" ]; then
    p=$(tp "podman-$via" median)
    echo "| $label | $b | $(tp "berth-$via" min) | $(tp "berth-$via" max) | $(tp "berth-$via" retr) | $p | $(tp "podman-$via" min) | $(tp "podman-$via" max) | $(tp "podman-$via" retr) | **$(awk -v a="$b" -v c="$p" 'BEGIN{printf "%.2f", a / c}')** |"
  else
    echo "| $label | $b | $(tp "berth-$via" min) | $(tp "berth-$via" max) | $(tp "berth-$via" retr) | – | | | | – |"
  fi
done
echo "| host loopback, no container (ceiling) | $(tp host-lo median) | $(tp host-lo min) | $(tp host-lo max) | $(tp host-lo retr) | | | | | |"
echo
echo "MB/s = 10^6 bytes/s received by the server (median of $ROUNDS); retr = median TCP retransmits of the sender per run."
