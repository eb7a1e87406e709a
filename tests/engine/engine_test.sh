#!/usr/bin/env bash
# engine_test.sh --berth PATH TEST - end-to-end tests of the `berth` CLI as root: real
# overlay snapshots, cgroups, namespaces, monitors. One CTest entry per t_NAME function
# (label integration; t_podman_* are label interop). Each test uses the shared store in
# $BERTH_TEST_STATE (default /var/tmp/berth-engine-test) with its busybox image, names
# its containers after itself, and checks afterwards that nothing leaked: no container
# records, mounts under the store, cgroups named after the test's containers, or monitors.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
BERTH=''
while [ $# -gt 1 ]; do
  case "$1" in
    --berth) BERTH=$2; shift 2 ;;
    *) break ;;
  esac
done
TEST=${1:?usage: engine_test.sh --berth PATH TEST}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root" >&2; exit 77; }
[ -x "$BERTH" ] || { echo "berth binary \`$BERTH\` missing" >&2; exit 1; }

STATE=${BERTH_TEST_STATE:-/var/tmp/berth-engine-test}
ROOT=$STATE/root
RUNROOT=/run/berth-engine-test
G=(--root "$ROOT" --runroot "$RUNROOT")
IMG=busybox:latest
WORK=$(mktemp -d /tmp/berth-engine-$TEST.XXXXXX)
# shellcheck disable=SC2317
cleanup_work() {
  grep -o " $WORK/[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount 2>/dev/null
  rm -rf -- "$WORK"
}
trap cleanup_work EXIT

b() { "$BERTH" "${G[@]}" "$@"; }
fail() { echo "FAIL [$TEST]: $*" >&2; exit 1; }
# expect_eq WHAT GOT WANT
expect_eq() { [ "$2" = "$3" ] || fail "$1: got \`$2\`, want \`$3\`"; }
expect_contains() { [[ $2 == *"$3"* ]] || fail "$1: \`$2\` does not contain \`$3\`"; }
# run_cmd: sets OUT, ERR, RC
run_cmd() {
  OUT=$("$@" 2>"$WORK/stderr"); RC=$?; ERR=$(cat "$WORK/stderr")
}
wait_for() {  # wait_for SECONDS CMD...: until CMD succeeds
  local t=$1; shift
  local end=$((SECONDS + t))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -ge $end ] && return 1
    sleep 0.1
  done
}
name() { echo "bt-$TEST-$1"; }

# Everything the test made must be gone once its containers are removed.
check_leaks() {
  # The default network goes when nothing uses it: no bridge or rule table outlives a test.
  b network prune -f >/dev/null 2>&1
  local ids
  ids=$(b ps -a -q --no-trunc --filter "name=bt-$TEST-" 2>/dev/null)
  [ -z "$ids" ] || fail "containers left behind: $ids"
  if grep -q " $ROOT/containers/" /proc/self/mountinfo; then
    local m; m=$(grep " $ROOT/containers/" /proc/self/mountinfo | awk '{print $5}' | head -3)
    # only mounts of live containers may remain
    for p in $m; do
      local id; id=$(echo "$p" | sed -n 's|.*/containers/\([0-9a-f]*\)/.*|\1|p')
      b inspect "$id" >/dev/null 2>&1 || fail "mount of a removed container left behind: $p"
    done
  fi
  # Cgroups made during this test (other stores on the machine may have their own).
  # Other stores' tests (network, build) run containers meanwhile: a cgroup whose container
  # has runtime state under some run root is alive, and a short-lived one is gone a moment
  # later; what is left is ours.
  for c in $(ls -d /sys/fs/cgroup/*/berth/*/ 2>/dev/null); do
    grep -qxF "$c" "$WORK/cgroups.before" && continue
    local id; id=$(basename "$c")
    b inspect "$id" >/dev/null 2>&1 && continue
    [ -n "$(find /run -maxdepth 4 -path "*/runtime/$id" -print -quit 2>/dev/null)" ] && continue
    sleep 1
    [ -d "$c" ] || continue
    [ -n "$(find /run -maxdepth 4 -path "*/runtime/$id" -print -quit 2>/dev/null)" ] && continue
    fail "cgroup of a removed container left behind: $c"
  done
  # Monitors of this store (--dir under our run root) must belong to live containers.
  local p id
  for p in $(pgrep -f "berth-monitor --id [0-9a-f]+ --dir $RUNROOT/" || true); do
    id=$(tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | sed -n 's/.*--id \([0-9a-f]*\).*/\1/p')
    [ -n "$id" ] && { b inspect "$id" >/dev/null 2>&1 || fail "monitor $p of a removed container still runs"; }
  done
}

ensure_image() {
  mkdir -p "$STATE"
  exec 9>"$STATE/.image.lock"; flock 9
  "$SRC/scripts/make-busybox-image.sh" "$BERTH" "$IMG" "${G[@]}" || fail "could not build the busybox image"
  exec 9>&-
}

# ------------------------------------------------------------------------------- tests

t_image() {
  ensure_image
  run_cmd b images --format '{{.Repository}}:{{.Tag}}'
  expect_contains "images" "$OUT" "busybox:latest"
}

t_run_rm() {
  run_cmd b run --rm --name "$(name a)" $IMG echo hello from berth
  expect_eq "exit code" "$RC" 0
  expect_eq "output" "$OUT" "hello from berth"
  run_cmd b ps -a -q --filter "name=$(name a)"
  expect_eq "ps after --rm" "$OUT" ""
}

t_exit_codes() {
  run_cmd b run --rm $IMG sh -c 'exit 3';            expect_eq "exit 3" "$RC" 3
  run_cmd b run --rm $IMG no-such-command;           expect_eq "missing command" "$RC" 127
  expect_contains "missing command message" "$ERR" "no-such-command"
  run_cmd b run --rm $IMG /etc/passwd;               expect_eq "not executable" "$RC" 126
  # A program that a bind mount provides is not looked for in the image.
  run_cmd b run --rm -v /bin/busybox:/opt/tools/sh:ro $IMG /opt/tools/sh -c "echo mounted"
  expect_eq "program from a bind mount" "$RC" 0
  expect_contains "program from a bind mount output" "$OUT" "mounted"
  run_cmd b run --rm -v "$WORK:/opt/w" $IMG /opt/w/nothing
  expect_eq "missing program under a bind mount" "$RC" 127
  run_cmd b run --rm no-such-image:1 true;           expect_eq "unknown image" "$RC" 125
  expect_contains "unknown image message" "$ERR" "no-such-image"
  run_cmd b run --rm --memory 12x $IMG true;         expect_eq "bad flag value" "$RC" 125
  expect_contains "bad flag message" "$ERR" "--memory"
  run_cmd b run --rm 'Bad/Ref' true;                 expect_eq "bad reference" "$RC" 125
  # PID 1 cannot be SIGKILLed from inside its namespace: under --init, sh is PID 2.
  run_cmd b run --rm --init $IMG sh -c 'kill -9 $$';  expect_eq "killed" "$RC" 137
  b run -d --name "$(name dup)" $IMG sleep 30 >/dev/null || fail "run -d"
  run_cmd b run -d --name "$(name dup)" $IMG true;   expect_eq "name conflict" "$RC" 125
  expect_contains "name conflict message" "$ERR" "already in use"
  b rm -f "$(name dup)" >/dev/null
  # A start that fails in the container's setup names the cause and leaves it created.
  b create --name "$(name badsysctl)" --sysctl net.ipv4.no_such_knob=1 $IMG true >/dev/null ||
    fail "create with a bad sysctl"
  run_cmd b start "$(name badsysctl)";              expect_eq "failed start" "$RC" 125
  expect_contains "failed start message" "$ERR" "net.ipv4.no_such_knob"
  expect_eq "state after a failed start" \
    "$(b inspect --format '{{.State.Status}}' "$(name badsysctl)")" created
  b rm "$(name badsysctl)" >/dev/null || fail "rm after a failed start"
}

t_detach_logs_stop() {
  local n; n=$(name web)
  run_cmd b run -d --name "$n" --stop-timeout 1 $IMG sh -c 'echo out-line; echo err-line >&2; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done'
  expect_eq "run -d" "$RC" 0
  expect_eq "id length" "${#OUT}" 64
  wait_for 5 sh -c "\"$BERTH\" ${G[*]} logs $n | grep -q 'tick 2'" || fail "no log output"
  run_cmd b ps --format '{{.Names}} {{.Status}}' --filter "name=$n"
  expect_contains "ps" "$OUT" "$n Up"
  run_cmd b logs "$n";  expect_contains "logs stdout" "$OUT" "out-line"
  expect_contains "logs stderr (on stderr)" "$ERR" "err-line"
  run_cmd b logs --tail 1 "$n"; expect_eq "tail 1 line count" "$(echo "$OUT" | wc -l)" 1
  run_cmd b logs -t "$n"
  [[ $(echo "$OUT" | head -1) =~ ^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:.]+Z\ out-line$ ]] || fail "logs -t: $(echo "$OUT" | head -1)"
  # Log file format: CRI lines "<time> <stream> <F|P> <text>"
  local log; log=$(b inspect --format '{{.LogPath}}' "$n")
  grep -qE '^[0-9T:.Z-]+ stdout F out-line$' "$log" || fail "log format: $(head -2 "$log")"
  local t0=$SECONDS
  run_cmd b stop "$n"; expect_eq "stop" "$RC" 0
  [ $((SECONDS - t0)) -lt 8 ] || fail "stop took too long"
  run_cmd b inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$n"
  [[ $OUT == "exited 137" || $OUT == "exited 143" ]] || fail "after stop: $OUT"
  run_cmd b logs "$n"; expect_contains "logs after exit" "$OUT" "tick"
  run_cmd b rm "$n"; expect_eq "rm" "$RC" 0
}

t_monitor_kill9() {
  local n; n=$(name m)
  local id; id=$(b run -d --name "$n" $IMG sleep 300) || fail "run -d"
  local mon; mon=$(pgrep -f "berth-monitor.*--id $id") || fail "no monitor process for $id"
  kill -9 $mon
  sleep 0.2
  run_cmd b ps -a --format '{{.Names}} {{.Status}}' --filter "name=$n"
  expect_contains "ps after monitor kill" "$OUT" "Exited"
  pgrep -f "sleep 300" >/dev/null && { pgrep -af "sleep 300" | grep -q . && true; }
  run_cmd b rm "$n"; expect_eq "rm" "$RC" 0
}

t_cli_kill9() {
  local n; n=$(name c)
  b run --name "$n" $IMG sh -c 'echo started; sleep 300' >"$WORK/out" 2>&1 &
  local cli=$!
  wait_for 10 grep -q started "$WORK/out" || fail "container did not start"
  kill -9 $cli; wait $cli 2>/dev/null
  run_cmd b inspect --format '{{.State.Status}}' "$n"
  expect_eq "still running without its CLI" "$OUT" running
  run_cmd b stop -t 1 "$n"; expect_eq "stop" "$RC" 0
  run_cmd b rm "$n"; expect_eq "rm" "$RC" 0
}

# The init shares the launcher's memory while it sets up (runtime/create.cc): a failure at
# any step of it, or after, fails the start with the step named and leaves the container
# created, with nothing else behind; --rm removes it all.
t_start_failpoints() {
  local fp n
  for fp in create:after-state-dir create:after-cgroup create:after-clone init:after-mounts \
            init:after-pivot init:before-ready create:before-state-write; do
    n=$(name "${fp//:/-}")
    run_cmd env BERTH_FAILPOINT="$fp" "$BERTH" "${G[@]}" run --name "$n" $IMG true
    [ "$RC" -ne 0 ] || fail "$fp: run succeeded"
    expect_contains "$fp: message" "$ERR" "$fp"
    expect_eq "$fp: state" "$(b inspect --format '{{.State.Status}}' "$n")" created
    run_cmd b start -a "$n"; expect_eq "$fp: start afterwards" "$RC" 0
    b rm "$n" >/dev/null || fail "$fp: rm"
    run_cmd env BERTH_FAILPOINT="$fp" "$BERTH" "${G[@]}" run --rm --name "$n" $IMG true
    [ "$RC" -ne 0 ] || fail "$fp: run --rm succeeded"
    run_cmd b ps -a -q --filter "name=$n"; expect_eq "$fp: after run --rm" "$OUT" ""
  done
}

# kill -9 of the CLI at any moment of a run (spread over create, start, the container's
# life and the cleanup of --rm; KILL9_LOG=FILE lists where each kill landed). The container
# (`true`) then settles within seconds: gone (killed before its record, or removed by its
# monitor under --rm), created (killed before its start began) or exited (its monitor starts
# it if the CLI died first); never stuck running. ps and inspect agree on it, and rm -f
# removes it without leaks.
t_cli_kill9_anywhere() {
  local i n cli delay st rm t
  for ((i = 0; i < 32; i++)); do
    n=$(name "k$i")
    rm=(); ((i % 2)) && rm=(--rm)
    "$BERTH" "${G[@]}" run "${rm[@]}" --name "$n" $IMG true >/dev/null 2>&1 &
    cli=$!
    delay=$(( (i * 3) % 48 ))  # 0-45 ms: a run --rm of `true` takes ~30-40 ms here
    sleep "0.0$(printf %02d $delay)"
    kill -9 $cli 2>/dev/null; wait $cli 2>/dev/null
    local prev=none
    for ((t = 0; t < 50; t++)); do
      st=$(b ps -a --format '{{.Names}} {{.State}}' --filter "name=^$n\$" 2>&1) ||
        fail "ps after kill at ${delay}ms: $st"
      # Settled: a final state, the same a moment later (a monitor may still be starting
      # it for the dead CLI, or removing it under --rm).
      case "${st#* }" in
        ''|created|exited) [ "$st" = "$prev" ] && break ;;
      esac
      prev=$st
      sleep 0.2
    done
    [ -n "${KILL9_LOG:-}" ] && echo "kill at ${delay}ms: ${st:-absent}" >>"$KILL9_LOG"
    [ -z "$st" ] && continue
    case "${st#* }" in
      created|exited) ;;
      *) fail "kill at ${delay}ms: still \`$st\` after 10 s" ;;
    esac
    expect_eq "inspect agrees (kill at ${delay}ms)" \
      "$n $(b inspect --format '{{.State.Status}}' "$n" 2>&1)" "$st"
    run_cmd b rm -f "$n"
    [ "$RC" = 0 ] || fail "rm -f after kill at ${delay}ms (state $st): exit $RC: $ERR"
  done
}

t_exec() {
  local n; n=$(name x)
  b run -d --name "$n" $IMG sleep 300 >/dev/null || fail "run -d"
  run_cmd b exec "$n" echo hi;                   expect_eq "exec" "$OUT" hi
  run_cmd b exec -u 1000 "$n" id -u;             expect_eq "exec -u" "$OUT" 1000
  run_cmd b exec -u berth "$n" id -un;           expect_eq "exec -u name" "$OUT" berth
  run_cmd b exec -w /tmp "$n" pwd;               expect_eq "exec -w" "$OUT" /tmp
  run_cmd b exec -e A=b "$n" sh -c 'echo $A';    expect_eq "exec -e" "$OUT" b
  run_cmd b exec "$n" sh -c 'exit 5';            expect_eq "exec exit code" "$RC" 5
  run_cmd b exec -i "$n" cat <<<"piped"
  expect_eq "exec -i" "$OUT" piped
  run_cmd b exec -d "$n" sh -c 'echo bg > /tmp/bg'; expect_eq "exec -d" "$RC" 0
  wait_for 5 b exec "$n" test -f /tmp/bg || fail "exec -d did not run"
  run_cmd b top "$n"; expect_contains "top" "$OUT" "sleep 300"
  run_cmd b rm -f "$n"; expect_eq "rm -f" "$RC" 0
}

t_run_flags() {
  run_cmd b run --rm -e FOO=bar -w /tmp -u 1000:1000 --hostname hh $IMG sh -c 'echo $FOO $(pwd) $(id -u):$(id -g) $(hostname)'
  expect_eq "env/workdir/user/hostname" "$OUT" "bar /tmp 1000:1000 hh"
  printf 'A=1\n# comment\nB=two words\n' > "$WORK/env"
  run_cmd b run --rm --env-file "$WORK/env" $IMG sh -c 'echo "$A|$B"'
  expect_eq "env-file" "$OUT" "1|two words"
  run_cmd b run --rm --entrypoint /bin/echo $IMG via entrypoint
  expect_eq "entrypoint" "$OUT" "via entrypoint"
  # --device-cgroup-rule: allowed in the container's device cgroup (v1: devices.list; v2: the
  # BPF program, so there the node made with mknod must open).
  if [ -e /sys/fs/cgroup/devices/devices.list ]; then
    run_cmd b run --rm --device-cgroup-rule 'c 42:* rwm' $IMG cat /sys/fs/cgroup/devices/devices.list
    expect_contains "--device-cgroup-rule" "$OUT" "c 42:* rwm"
  fi
  run_cmd b run --rm --device-cgroup-rule 'c 42' $IMG true
  expect_eq "bad --device-cgroup-rule exit" "$RC" 125
  expect_contains "bad --device-cgroup-rule message" "$ERR" "--device-cgroup-rule"
  run_cmd b run --rm --read-only $IMG touch /x;  [ "$RC" -ne 0 ] || fail "--read-only: write allowed"
  expect_contains "--read-only error" "$ERR" "Read-only file system"
  run_cmd b run --rm --read-only --tmpfs /scratch $IMG sh -c 'touch /scratch/x && echo ok'
  expect_eq "--tmpfs on read-only" "$OUT" ok
  run_cmd b run --rm --cap-drop ALL $IMG sh -c 'grep CapEff /proc/self/status'
  expect_contains "cap-drop ALL" "$OUT" "0000000000000000"
  run_cmd b run --rm $IMG sh -c 'grep CapBnd /proc/self/status'
  expect_contains "default caps (docker's set)" "$OUT" "00000000a80425fb"
  run_cmd b run --rm --cap-drop ALL --cap-add NET_RAW $IMG sh -c 'grep CapEff /proc/self/status'
  expect_contains "cap-add" "$OUT" "0000000000002000"
  run_cmd b run --rm --ulimit nofile=512:1024 $IMG sh -c 'ulimit -n'
  expect_eq "--ulimit" "$OUT" 512
  run_cmd b run --rm --sysctl net.ipv4.ip_forward=1 $IMG cat /proc/sys/net/ipv4/ip_forward
  expect_eq "--sysctl" "$OUT" 1
  run_cmd b run --rm --memory 64m $IMG cat /sys/fs/cgroup/memory/memory.limit_in_bytes
  expect_eq "--memory" "$OUT" 67108864
  # A fork bomb in miniature: 40 background sleeps under a limit of 20 must fail to fork,
  # and succeed under 100 (the control).
  run_cmd b run --rm --pids-limit 20 $IMG sh -c 'for i in $(seq 40); do sleep 2 & done; wait; echo all-forked'
  [ "$OUT" != all-forked ] || fail "--pids-limit 20: 40 forks succeeded"
  expect_contains "--pids-limit error" "$ERR" "fork"
  run_cmd b run --rm --pids-limit 100 $IMG sh -c 'for i in $(seq 40); do sleep 1 & done; wait; echo all-forked'
  expect_eq "--pids-limit 100 control" "$OUT" all-forked
  run_cmd b run --rm --security-opt no-new-privileges $IMG grep NoNewPrivs /proc/self/status
  expect_contains "no-new-privileges" "$OUT" "1"
  run_cmd b run --rm $IMG grep Seccomp: /proc/self/status
  expect_contains "default seccomp" "$OUT" "2"
  run_cmd b run --rm --privileged $IMG grep Seccomp: /proc/self/status
  expect_contains "privileged: no seccomp" "$OUT" "0"
  run_cmd b run --rm --network host $IMG cat /proc/net/dev
  expect_contains "--network host sees host links" "$OUT" "$(ip -o link | awk -F': ' 'NR==2{print $2}' | cut -d@ -f1)"
  run_cmd b run --rm --network none $IMG sh -c 'cat /proc/net/dev | wc -l'
  expect_eq "--network none: only lo" "$OUT" 3
  run_cmd b run --rm --init $IMG ps -o pid,comm
  expect_contains "--init is PID 1" "$(echo "$OUT" | awk '$1==1')" "berth-init"
  run_cmd b run --rm -v "$WORK:/host" $IMG sh -c 'echo written > /host/f'
  expect_eq "bind mount write" "$(cat "$WORK/f")" written
  run_cmd b run --rm -v "$WORK:/host:ro" $IMG sh -c 'echo x > /host/g'
  [ "$RC" -ne 0 ] || fail "-v :ro allowed a write"
  run_cmd b run --rm --device /dev/null:/dev/mynull $IMG sh -c 'echo x > /dev/mynull && echo ok'
  expect_eq "--device" "$OUT" ok
}

t_tty() {
  local pty="$SRC/tests/interop/pty_run.py"
  # run -it: a real terminal inside, sized like ours, typed input reaches the shell.
  run_cmd python3 "$pty" --rows 33 --cols 101 --timeout 30 --expect '/ # ' --send 'stty size; tty; exit 7\n' \
    -- "$BERTH" "${G[@]}" run -it --rm --name "$(name t)" $IMG sh
  expect_eq "run -it exit code" "$RC" 7
  expect_contains "window size" "$OUT" "33 101"
  expect_contains "a pty inside" "$OUT" "/dev/pts/0"
  b run -d --name "$(name te)" $IMG sleep 300 >/dev/null
  run_cmd python3 "$pty" --rows 20 --cols 70 --timeout 30 -- "$BERTH" "${G[@]}" exec -it "$(name te)" sh -c 'tty && stty size'
  expect_eq "exec -it exit code" "$RC" 0
  expect_contains "exec -it window size" "$OUT" "20 70"
  b rm -f "$(name te)" >/dev/null
}

t_oom() {
  local n; n=$(name o)
  # A shell variable of 100 MB under a 16 MB limit: the kernel's OOM killer ends it.
  run_cmd b run --name "$n" --memory 16m --memory-swap 16m $IMG sh -c 'x=$(head -c 100000000 /dev/zero | tr "\0" a); echo survived'
  expect_eq "OOM-killed exit code" "$RC" 137
  run_cmd b inspect --format '{{.State.OOMKilled}}' "$n"
  expect_eq "OOMKilled recorded" "$OUT" true
  b rm "$n" >/dev/null
}

t_volumes() {
  local v; v=bt-$TEST-vol
  b volume rm -f "$v" >/dev/null 2>&1
  run_cmd b volume create "$v"; expect_eq "volume create" "$OUT" "$v"
  run_cmd b volume ls -q; expect_contains "volume ls" "$OUT" "$v"
  run_cmd b run --rm -v "$v:/data" $IMG sh -c 'echo persisted > /data/f'
  run_cmd b run --rm -v "$v:/data" $IMG cat /data/f; expect_eq "volume persists" "$OUT" persisted
  # A new volume is filled from the image's content at its path.
  b volume rm -f bt-$TEST-etc >/dev/null 2>&1
  run_cmd b run --rm -v bt-$TEST-etc:/etc $IMG cat /etc/group; expect_contains "populated" "$OUT" "berth:x:1000"
  local mp; mp=$(b volume inspect --format '{{.Mountpoint}}' bt-$TEST-etc)
  [ -f "$mp/passwd" ] || fail "volume not populated on the host side: $mp"
  b run -d --name "$(name user)" -v "$v:/data" $IMG sleep 60 >/dev/null
  run_cmd b volume rm "$v"; [ "$RC" -ne 0 ] || fail "removed a volume in use"
  b rm -f "$(name user)" >/dev/null
  run_cmd b volume rm "$v" bt-$TEST-etc; expect_eq "volume rm" "$RC" 0
}

t_cp() {
  local n; n=$(name cp)
  b run -d --name "$n" --tmpfs /scratch $IMG sh -c 'ln -s / /tmp/rootlink; ln -s /etc /tmp/etclink; echo t > /scratch/t; sleep 300' >/dev/null
  wait_for 5 b exec "$n" test -L /tmp/etclink || fail "setup"
  echo from-host > "$WORK/in"
  run_cmd b cp "$WORK/in" "$n:/tmp/in"; expect_eq "cp to" "$RC" 0
  run_cmd b exec "$n" cat /tmp/in; expect_eq "copied in" "$OUT" from-host
  run_cmd b cp "$n:/etc/passwd" "$WORK/out"; expect_eq "cp from" "$RC" 0
  grep -q '^berth:' "$WORK/out" || fail "cp from container gave the wrong file"
  # Symlinks resolve inside the container: /tmp/etclink/passwd is the container's passwd.
  run_cmd b cp "$n:/tmp/etclink/passwd" "$WORK/out2"
  grep -q '^berth:' "$WORK/out2" || fail "cp followed a symlink to the host"
  run_cmd b cp "$WORK/in" "$n:/tmp/rootlink/etc/x"; expect_eq "cp into symlinked dir" "$RC" 0
  [ -e /etc/x ] && fail "cp wrote to the host's /etc"
  b exec "$n" test -f /etc/x || fail "cp did not land inside the container"
  # Tar streams: `cp CTR:PATH -` names entries from the basename; `cp - CTR:DIR` extracts.
  b cp "$n:/etc/passwd" - > "$WORK/passwd.tar" || fail "cp to stdout"
  expect_eq "cp - entry" "$(tar -tf "$WORK/passwd.tar")" "passwd"
  # (Listed in full first: `grep -q` exiting early would make the writer's SIGPIPE fail the
  # pipeline under pipefail.)
  local listing; listing=$(b cp "$n:/tmp/etclink/." - | tar -tf -) || fail "cp DIR/. - failed"
  grep -qx 'passwd' <<<"$listing" || fail "cp DIR/. - lists the contents"
  mkdir -p "$WORK/tin/sub"; echo streamed > "$WORK/tin/sub/f"
  tar -C "$WORK/tin" -cf - sub | b cp - "$n:/tmp" || fail "cp from stdin"
  run_cmd b exec "$n" cat /tmp/sub/f; expect_eq "cp - extracted" "$OUT" streamed
  # An entry that climbs out of the destination is refused, and nothing lands on the host.
  python3 - "$WORK/evil.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    data = b"x"
    info = tarfile.TarInfo("../../../../../tmp/berth-cp-escape"); info.size = len(data)
    t.addfile(info, io.BytesIO(data))
PY
  run_cmd b cp - "$n:/tmp" < "$WORK/evil.tar"; expect_eq "cp - of a climbing entry" "$RC" 125
  expect_contains "cp - names the entry" "$ERR" "berth-cp-escape"
  [ -e /tmp/berth-cp-escape ] && { rm -f /tmp/berth-cp-escape; fail "cp - wrote outside"; }
  run_cmd b cp - "$n:/no/such/dir" < "$WORK/passwd.tar"; expect_eq "cp - into a missing dir" "$RC" 125
  # Plain files, not a layer: `.wh.` names are names, and a directory is never replaced.
  mkdir -p "$WORK/wh"; echo w > "$WORK/wh/.wh.in"; echo notdir > "$WORK/wh/etc"
  tar -C "$WORK/wh" -cf - .wh.in | b cp - "$n:/tmp" || fail "cp - of a .wh. name"
  b exec "$n" test -f /tmp/in || fail "cp - treated .wh.in as a whiteout"
  run_cmd sh -c "tar -C '$WORK/wh' -cf - etc | '$BERTH' ${G[*]} cp - '$n:/'"
  expect_eq "cp - replacing a directory" "$RC" 125
  b exec "$n" test -d /etc || fail "cp - replaced /etc"
  # A running container's paths are its own view: mounts (tmpfs, volumes) included.
  run_cmd b cp "$n:/scratch/t" "$WORK/t"; expect_eq "cp from a tmpfs mount" "$(cat "$WORK/t")" t
  run_cmd b diff "$n"; expect_contains "diff" "$OUT" "A /tmp/in"
  [[ $OUT == *"/proc"* || $OUT == *"/etc/hosts"* ]] && fail "diff lists mount points: $OUT"
  b rm -f "$n" >/dev/null
  # A stopped container's volumes and binds: cp sees and changes them as the container
  # would (mounted in a namespace of cp's own: nothing stays mounted on the host), and a
  # read-only bind stays read-only.
  local s; s=$(name stopped)
  mkdir -p "$WORK/ro"
  b run --name "$s" -v "bt-$TEST-vol:/data" -v "$WORK/ro:/ro:ro" $IMG sh -c 'echo v > /data/f' >/dev/null ||
    fail "run with a volume"
  run_cmd b cp "$s:/data/f" "$WORK/vf"; expect_eq "cp from a stopped container's volume" "$RC" 0
  expect_eq "volume content" "$(cat "$WORK/vf")" v
  echo in > "$WORK/vin"
  run_cmd b cp "$WORK/vin" "$s:/data/"; expect_eq "cp into a stopped container's volume" "$RC" 0
  run_cmd b run --rm -v "bt-$TEST-vol:/data" $IMG cat /data/vin; expect_eq "copied into the volume" "$OUT" in
  run_cmd b cp "$WORK/vin" "$s:/ro/"; expect_eq "cp into a read-only bind" "$RC" 125
  [ -e "$WORK/ro/vin" ] && fail "cp wrote through a read-only bind"
  grep -q "$WORK/ro\| $ROOT/containers/" /proc/self/mountinfo && fail "cp left a mount on the host"
  b rm "$s" >/dev/null
  b volume rm "bt-$TEST-vol" >/dev/null || fail "volume rm"
}

t_rm_remount() {
  # A --rm container's overlay is volatile; unmounted before its start (cp of a created
  # container unmounts afterwards) it must mount again.
  local n; n=$(name rr)
  b create --rm --name "$n" $IMG echo remounted >/dev/null || fail "create --rm"
  b cp "$n:/etc/passwd" "$WORK/rr-passwd" || fail "cp from a created container"
  run_cmd b start -a "$n"; expect_eq "start after remount" "$OUT" remounted
}

t_images_save_load() {
  local other=$WORK/store2
  local G2=(--root "$other/root" --runroot "$other/run")
  run_cmd b save -o "$WORK/bb.tar" $IMG; expect_eq "save docker-archive" "$RC" 0
  run_cmd b save --format oci-archive -o "$WORK/bb-oci.tar" $IMG; expect_eq "save oci-archive" "$RC" 0
  run_cmd "$BERTH" "${G2[@]}" load -i "$WORK/bb.tar"; expect_contains "load" "$OUT" "busybox:latest"
  run_cmd "$BERTH" "${G2[@]}" run --rm $IMG echo loaded; expect_eq "run loaded" "$OUT" loaded
  # Like docker, load names what the archive names, not every tag the image has here.
  "$BERTH" "${G2[@]}" tag $IMG extra-name:1 || fail "tag"
  run_cmd "$BERTH" "${G2[@]}" load -i "$WORK/bb.tar"
  expect_eq "load prints the archive's names" "$OUT" "Loaded image: busybox:latest"
  local id1 id2
  id1=$(b image inspect --format '{{.Id}}' $IMG); id2=$("$BERTH" "${G2[@]}" image inspect --format '{{.Id}}' $IMG)
  expect_eq "same image id after docker-archive round trip" "$id2" "$id1"
  run_cmd "$BERTH" "${G2[@]}" rmi $IMG; expect_eq "rmi" "$RC" 0
  run_cmd "$BERTH" "${G2[@]}" load -i "$WORK/bb-oci.tar"; expect_eq "load oci" "$RC" 0
  run_cmd "$BERTH" "${G2[@]}" run --rm $IMG echo oci; expect_eq "run oci-loaded" "$OUT" oci
  run_cmd "$BERTH" "${G2[@]}" load -i /etc/passwd; [ "$RC" -ne 0 ] || fail "loaded garbage"
  "$BERTH" "${G2[@]}" network prune -f >/dev/null || fail "network prune of the second store"
  umount -R "$other" 2>/dev/null; rm -rf "$other"
}

t_commit_tag_rmi() {
  local n; n=$(name cm)
  b run --name "$n" $IMG sh -c 'echo committed > /marker; rm /etc/group' >/dev/null || fail "run"
  run_cmd b commit -c 'CMD ["cat", "/marker"]' "$n" bt-committed:1; expect_eq "commit" "$RC" 0
  run_cmd b run --rm bt-committed:1; expect_eq "run committed" "$OUT" committed
  run_cmd b run --rm bt-committed:1 test -e /etc/group; expect_eq "whiteout kept" "$RC" 1
  run_cmd b history bt-committed:1; expect_contains "history" "$OUT" "busybox"
  run_cmd b tag bt-committed:1 bt-committed:2; expect_eq "tag" "$RC" 0
  run_cmd b rmi bt-committed:2; expect_contains "rmi of one tag untags" "$OUT" "Untagged"
  b run -d --name "$(name user)" bt-committed:1 sleep 60 >/dev/null
  run_cmd b rmi bt-committed:1; [ "$RC" -ne 0 ] || fail "removed an image in use"
  run_cmd b rmi -f bt-committed:1; expect_eq "rmi -f" "$RC" 0
  run_cmd b exec "$(name user)" cat /marker; expect_eq "container survives rmi -f" "$OUT" committed
  b rm -f "$(name user)" "$n" >/dev/null
  b create --name "$(name ex)" $IMG true >/dev/null || fail "create"
  run_cmd b export -o "$WORK/exp.tar" "$(name ex)"; expect_eq "export" "$RC" 0
  tar -tf "$WORK/exp.tar" >"$WORK/exp.list"
  grep -qx 'bin/busybox' "$WORK/exp.list" || fail "export lacks bin/busybox"
  b rm "$(name ex)" >/dev/null
}

t_restart_policy() {
  local n; n=$(name r)
  b run -d --name "$n" --restart on-failure:2 $IMG sh -c 'exit 1' >/dev/null
  wait_for 15 sh -c "[ \"\$(\"$BERTH\" ${G[*]} inspect --format '{{.State.Status}} {{.RestartCount}}' $n)\" = 'exited 2' ]" ||
    fail "on-failure:2: $(b inspect --format '{{.State.Status}} {{.RestartCount}}' "$n")"
  b rm -f "$n" >/dev/null
  b run -d --name "$n" --restart always $IMG sh -c 'sleep 0.3' >/dev/null
  wait_for 10 sh -c "[ \$(\"$BERTH\" ${G[*]} inspect --format '{{.RestartCount}}' $n) -ge 2 ]" || fail "always did not restart"
  run_cmd b stop -t 2 "$n"; expect_eq "stop a restarting container" "$RC" 0
  run_cmd b inspect --format '{{.State.Status}}' "$n"; expect_eq "stopped stays stopped" "$OUT" exited
  b rm -f "$n" >/dev/null
}

t_health() {
  local n; n=$(name h)
  b run -d --name "$n" --health-cmd 'test -f /tmp/ok' --health-interval 300ms --health-retries 2 $IMG sh -c 'touch /tmp/ok; sleep 300' >/dev/null
  wait_for 10 sh -c "[ \"\$(\"$BERTH\" ${G[*]} inspect --format '{{.State.Health.Status}}' $n)\" = healthy ]" || fail "never healthy"
  b exec "$n" rm /tmp/ok
  wait_for 10 sh -c "[ \"\$(\"$BERTH\" ${G[*]} inspect --format '{{.State.Health.Status}}' $n)\" = unhealthy ]" || fail "never unhealthy"
  b rm -f "$n" >/dev/null
}

t_log_rotation() {
  local n; n=$(name lr)
  b run --name "$n" --log-opt max-size=2k --log-opt max-file=3 $IMG sh -c 'i=0; while [ $i -lt 400 ]; do echo line-$i; i=$((i+1)); done' >/dev/null
  local log; log=$(b inspect --format '{{.LogPath}}' "$n")
  [ -f "$log.1" ] || fail "no rotated log"
  [ -f "$log.3" ] && fail "kept more than max-file files"
  [ "$(stat -c %s "$log")" -le 2048 ] || fail "log larger than max-size"
  run_cmd b logs --tail 1 "$n"; expect_eq "last line survives rotation" "$OUT" line-399
  b rm "$n" >/dev/null
}

t_pause_rename_wait() {
  local n; n=$(name p)
  b run -d --name "$n" $IMG sh -c 'sleep 300' >/dev/null
  run_cmd b pause "$n"; expect_eq "pause" "$RC" 0
  run_cmd b inspect --format '{{.State.Status}}' "$n"; expect_eq "paused" "$OUT" paused
  run_cmd b unpause "$n"; expect_eq "unpause" "$RC" 0
  run_cmd b rename "$n" "$(name p2)"; expect_eq "rename" "$RC" 0
  run_cmd b inspect --format '{{.Name}}' "$(name p2)"; expect_eq "renamed" "$OUT" "/$(name p2)"
  (sleep 0.5; b kill "$(name p2)" >/dev/null) &
  run_cmd b wait "$(name p2)"; expect_eq "wait after kill" "$OUT" 137
  run_cmd b stats --no-stream "$(name p2)"; [ "$RC" -ne 0 ] || true
  b rm "$(name p2)" >/dev/null
  # wait on a --rm container still reports its code although the record goes with it.
  # (2 s: a sanitizer build under a parallel test run can take ~1 s to start `wait`.)
  local id; id=$(b run -d --rm $IMG sh -c 'sleep 2; exit 7')
  run_cmd b wait "$id"; expect_eq "wait on --rm" "$OUT" 7
}

t_stats() {
  local n; n=$(name s)
  b run -d --name "$n" --memory 64m $IMG sleep 300 >/dev/null
  run_cmd b stats --no-stream "$n"; expect_eq "stats" "$RC" 0
  expect_contains "stats row" "$OUT" "$n"
  expect_contains "stats limit" "$OUT" "64MiB"
  b rm -f "$n" >/dev/null
}

t_parallel_50() {
  local pids=() i
  for i in $(seq 50); do
    # Half of them get generated names, which must not collide either.
    local named=(--name "$(name p$i)")
    [ $((i % 2)) = 0 ] || named=()
    ( "$BERTH" "${G[@]}" run --rm "${named[@]}" $IMG sh -c "echo c$i" >"$WORK/o$i" 2>"$WORK/e$i"; echo $? >"$WORK/rc$i" ) &
    pids+=($!)
  done
  wait "${pids[@]}"
  for i in $(seq 50); do
    [ "$(cat "$WORK/rc$i")" = 0 ] || fail "parallel run $i failed: $(cat "$WORK/e$i")"
    expect_eq "parallel output $i" "$(cat "$WORK/o$i")" "c$i"
  done
}

t_system() {
  run_cmd b system df; expect_contains "system df" "$OUT" "Images"
  run_cmd b info; expect_eq "info" "$RC" 0
  run_cmd b version; expect_eq "version" "$RC" 0
  # `system prune` in a store of its own (it removes every stopped container of its store).
  local P=(--root "$WORK/prune-root" --runroot "$WORK/prune-run")
  "$SRC/scripts/make-busybox-image.sh" "$BERTH" "$IMG" "${P[@]}" >/dev/null || fail "image"
  "$BERTH" "${P[@]}" create --name "$(name created)" $IMG true >/dev/null || fail "create"
  "$BERTH" "${P[@]}" run --name "$(name exited)" $IMG true || fail "run"
  "$BERTH" "${P[@]}" run -d --name "$(name running)" $IMG sleep 30 >/dev/null || fail "run -d"
  run_cmd "$BERTH" "${P[@]}" system prune -f
  expect_eq "system prune" "$RC" 0
  expect_contains "prune output" "$OUT" "Deleted Containers"
  expect_eq "left after prune" "$("$BERTH" "${P[@]}" ps -a --format '{{.Names}}')" "$(name running)"
  # Unused cgroup parents went (others' containers may hold them); a run makes them again.
  run_cmd "$BERTH" "${P[@]}" run --rm $IMG true; expect_eq "run after prune" "$RC" 0
  "$BERTH" "${P[@]}" rm -f "$(name running)" >/dev/null || fail "rm -f"
  run_cmd "$BERTH" "${P[@]}" ps -a -q; expect_eq "private store empty" "$OUT" ""
  "$BERTH" "${P[@]}" network prune -f >/dev/null || fail "network prune"
}

t_podman_interop() {
  command -v podman >/dev/null || { echo "SKIP: podman missing"; exit 77; }
  # podman with runc (crun refuses this hybrid host) and ulimits under our hard limits.
  local P=(--root "$WORK/podman/root" --runroot "$WORK/podman/run" --tmpdir "$WORK/podman/tmp"
           --storage-driver overlay --cgroup-manager cgroupfs --events-backend file --runtime runc)
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n[engine]\nlock_type = "file"\n' \
    "$(ulimit -Hn)" "$(ulimit -Hn)" 32768 32768 >"$WORK/containers.conf"
  export CONTAINERS_CONF=$WORK/containers.conf
  b save -o "$WORK/from-berth.tar" $IMG || fail "berth save"
  podman "${P[@]}" load -i "$WORK/from-berth.tar" >/dev/null 2>"$WORK/perr" || fail "podman load of berth's archive: $(cat "$WORK/perr")"
  # podman 4 files a short docker-archive name (busybox:latest) under localhost/.
  run_cmd podman "${P[@]}" run --rm --pull never --network none localhost/busybox:latest echo via-podman
  expect_eq "podman runs berth's image ($ERR)" "$OUT" via-podman
  expect_eq "same image id in podman" "$(podman "${P[@]}" image inspect --format '{{.Id}}' localhost/busybox:latest)" \
    "$(b image inspect --format '{{.Id}}' $IMG | sed 's/^sha256://')"
  podman "${P[@]}" tag localhost/busybox:latest localhost/bt-from-podman:1
  podman "${P[@]}" save -o "$WORK/from-podman.tar" localhost/bt-from-podman:1 >/dev/null 2>&1 || fail "podman save"
  podman "${P[@]}" save --format oci-archive -o "$WORK/from-podman-oci.tar" localhost/bt-from-podman:1 >/dev/null 2>&1 || fail "podman save oci"
  run_cmd b load -i "$WORK/from-podman.tar"; expect_contains "berth loads podman's docker-archive" "$OUT" "bt-from-podman"
  run_cmd b run --rm localhost/bt-from-podman:1 echo via-berth; expect_eq "berth runs podman's image" "$OUT" via-berth
  b rmi localhost/bt-from-podman:1 >/dev/null
  run_cmd b load -i "$WORK/from-podman-oci.tar"; expect_eq "berth loads podman's oci-archive" "$RC" 0
  run_cmd b run --rm localhost/bt-from-podman:1 echo oci-via-berth; expect_eq "oci-archive" "$OUT" oci-via-berth
  b rmi localhost/bt-from-podman:1 >/dev/null
  podman "${P[@]}" rmi -a -f >/dev/null 2>&1
  podman "${P[@]}" system reset -f >/dev/null 2>&1
  grep -o " $WORK/podman[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount 2>/dev/null || true
}

ls -d /sys/fs/cgroup/*/berth/*/ >"$WORK/cgroups.before" 2>/dev/null
[ "$TEST" = image ] || ensure_image
declare -F "t_$TEST" >/dev/null || { echo "no test t_$TEST" >&2; exit 2; }
"t_$TEST"
check_leaks
echo "PASS [$TEST]"
