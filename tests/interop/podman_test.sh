#!/usr/bin/env bash
# podman_test.sh - podman drives an OCI runtime; we check what the container sees or suffers.
#
# Usage: podman_test.sh [--runtime PATH] TEST...      run the named tests (one process each
#                                                      is what CTest does)
#        podman_test.sh --list                         print the test names
# The runtime is PATH, or $BERTH_INTEROP_RUNTIME when set (it wins, so the same CTest
# entries can be pointed at runc: BERTH_INTEROP_RUNTIME=/usr/sbin/runc ctest -L interop).
# See lib.sh for the private podman store, the ulimit policy per runtime and the call log.
# Exit: 0 all passed, 1 a check failed, 77 skipped (not root, podman missing, ...), 2 usage.
set -euo pipefail
# Container commands are single-quoted on purpose (expanded inside the container), and
# `[ ] && [ ] || fail` is the intended "all of these or report".
# shellcheck disable=SC2016,SC2015
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# ------------------------------------------------------------------------------ tests
# Each t_NAME is one CTest entry (tests/interop/CMakeLists.txt reads these names).

t_image() {
  # interop_setup built it (or found it); check it is what the tests assume, and that a
  # second build is a no-op
  pod_must image inspect --format '{{json .Config.Cmd}} {{json .Config.Env}}' "$IMAGE"
  expect_match "image config" '^\["/bin/sh"\] \[.*"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".*\]$' "$OUT"
  local again
  again=$("$HERE/make-busybox-image.sh" --root "$GRAPHROOT" --runroot "$RUNROOT" 2>&1) ||
    fail "second make-busybox-image.sh run failed: $again"
  expect_match "second build is a no-op" 'present' "$again"
}

t_run_rm() {
  run1 "$IMAGE" echo hello-berth
  expect_rc 0; expect_eq "stdout of echo" hello-berth "$OUT"
  run1 "$IMAGE" sh -c 'exit 3'
  expect_rc 3
  run1 "$IMAGE" false
  expect_rc 1
  run1 "$IMAGE" sh -c 'echo to-out; echo to-err >&2'
  expect_rc 0; expect_eq "stdout" to-out "$OUT"; expect_match "stderr" 'to-err' "$ERR"
  pod_stdin $'line-one\nline-two\n' run --rm --network none --pull never --name "$(cname stdin)" -i "$IMAGE" sh -c 'cat; echo end'
  expect_rc 0; expect_eq "stdin copied through" $'line-one\nline-two\nend' "$OUT"
  # podman maps the runtime's "no such file" error for the process to 127, "permission
  # denied" to 126: the runtime's error text has to let it
  run1 "$IMAGE" /no/such/binary
  expect_rc 127
  run1 "$IMAGE" /etc/passwd
  expect_rc 126
  run1 -e BERTH_X=forty-two -w /tmp --hostname box1 "$IMAGE" \
    sh -c 'echo "$BERTH_X $(pwd) $(hostname) $$"'
  expect_rc 0; expect_eq "env, cwd, hostname, pid" "forty-two /tmp box1 1" "$OUT"
}

t_create_start() {
  local n; n=$(cname cs)
  pod_must create --name "$n" --network none --pull never "$IMAGE" sh -c 'echo started; exit 4'
  track "$n"
  expect_eq "state after create" created "$(inspect_f "$n" '{{.State.Status}}')"
  pod start -a "$n"
  expect_rc 4; expect_eq "output of start -a" started "$OUT"
  # (podman may show "stopped" until its cleanup ran)
  wait_until 5 status_is "$n" exited || fail "state after exit: $(inspect_f "$n" '{{.State.Status}}'), want exited"
  expect_eq "recorded exit code" 4 "$(inspect_f "$n" '{{.State.ExitCode}}')"
  # a second start re-creates the container in the runtime under the same id
  pod start -a "$n"
  expect_rc 4; expect_eq "output of the second start -a" started "$OUT"
  pod_ok rm "$n"
}

t_tty() {
  local out rc
  rc=0
  run1_argv
  out=$(python3 "$HERE/pty_run.py" --rows 33 --cols 101 --timeout 60 -- \
        "${RUN1[@]}" -it "$IMAGE" sh -c 'tty; stty size; exit 5' 2>&1) || rc=$?
  LAST_CMD="podman run -it (on a 33x101 pty) IMAGE sh -c 'tty; stty size; exit 5'"
  RC=$rc; OUT=$out; ERR=''
  expect_rc 5
  expect_match "tty in the container" '/dev/pts/[0-9]+' "$out"
  expect_match "window size in the container" '33 101' "$out"
  # typed input reaches the container through the terminal (and is echoed by it)
  rc=0
  run1_argv
  out=$(python3 "$HERE/pty_run.py" --timeout 60 --expect 'ready>' --send 'typed-text\r' -- \
        "${RUN1[@]}" -it "$IMAGE" sh -c 'echo ready\>; read -r line; echo "got:$line"; exit 7' 2>&1) || rc=$?
  LAST_CMD="podman run -it IMAGE sh -c 'read line', typing 'typed-text<CR>'"
  RC=$rc; OUT=$out
  expect_rc 7
  expect_match "line read through the tty" 'got:typed-text' "$out"
  # and without -t there is no terminal
  run1 "$IMAGE" tty
  expect_rc 1; expect_match "tty without -t" 'not a tty' "$OUT"
}

t_memory() {
  local n d
  run1 --memory 32m "$IMAGE" cat /sys/fs/cgroup/memory/memory.limit_in_bytes
  expect_rc 0; expect_eq "memory.limit_in_bytes seen inside" 33554432 "$OUT"
  n=$(cname mem)
  run_d "$n" --memory 48m "$IMAGE" sleep 600
  if d=$(host_cgroup_dir "$n" memory); then
    expect_eq "memory.limit_in_bytes on the host ($d)" 50331648 "$(cat "$d/memory.limit_in_bytes" 2>&1)"
  else
    fail "cannot find the memory cgroup of $n on the host"
  fi
  pod_ok rm -f -t 0 "$n"
  # below the limit: fine; beyond it: the kernel's OOM killer (SIGKILL -> 137)
  run1 --memory 32m --memory-swap 32m "$IMAGE" dd if=/dev/zero of=/dev/null bs=8M count=1
  expect_rc 0
  # a child beyond the limit is killed, PID 1 sees it and the cgroup counts it
  run1 --memory 32m --memory-swap 32m "$IMAGE" sh -c \
    'dd if=/dev/zero of=/dev/null bs=96M count=1; echo "dd=$?"; grep "^oom_kill " /sys/fs/cgroup/memory/memory.oom_control'
  expect_rc 0; expect_match "child OOM-killed" $'dd=137\noom_kill 1' "$OUT"
  # PID 1 itself beyond the limit: the container dies of SIGKILL
  run1 --memory 32m --memory-swap 32m "$IMAGE" dd if=/dev/zero of=/dev/null bs=96M count=1
  expect_rc 137
  # (podman's State.OOMKilled stays false here even under runc: conmon's v1 OOM watch does
  # not fire on this hybrid host, so it is not checked)
}

t_memory_swap() {
  [ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ] ||
    skip "no swap accounting on this host (memory.memsw.* missing)"
  local f=/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes
  run1 --memory 32m --memory-swap 64m "$IMAGE" cat "$f"
  expect_rc 0; expect_eq "memsw limit for --memory-swap 64m" 67108864 "$OUT"
  run1 --memory 32m "$IMAGE" cat "$f"
  expect_rc 0; expect_eq "memsw limit defaults to twice --memory" 67108864 "$OUT"
  run1 --memory 32m --memory-swap -1 "$IMAGE" cat "$f"
  expect_rc 0; expect_match "memsw limit for --memory-swap -1 (unlimited)" '^9223372036854[0-9]+$' "$OUT"
  run1 --memory 32m --memory-swap 32m "$IMAGE" cat "$f"
  expect_rc 0; expect_eq "memsw limit equal to memory (no swap)" 33554432 "$OUT"
}

t_pids() {
  run1 --pids-limit 10 "$IMAGE" cat /sys/fs/cgroup/pids/pids.max
  expect_rc 0; expect_eq "pids.max inside" 10 "$OUT"
  # PID 1 (sh) + the subshell + N sleeps may exist at once: with 10, only 8 forks succeed.
  run1 --pids-limit 10 "$IMAGE" sh -c '
    ( for i in $(seq 1 30); do sleep 60 & echo "$i" > /tmp/forked; done ) 2>/tmp/err
    echo "forked=$(cat /tmp/forked)"; cat /tmp/err'
  expect_rc 0
  local n
  n=$(printf '%s\n' "$OUT" | sed -n 's/^forked=//p')
  if [[ $n =~ ^[0-9]+$ ]]; then
    [ "$n" -ge 5 ] && [ "$n" -le 9 ] ||
      fail "fork loop under --pids-limit 10: expected 5..9 successful forks of 30, got $n ($OUT)"
  else
    fail "fork loop under --pids-limit 10: no count in output: $OUT / $(tail_err)"
  fi
  expect_match "fork failure reported" "fork|Resource temporarily unavailable" "$OUT"
}

t_cpus() {
  run1 --cpus 0.5 "$IMAGE" sh -c \
    'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us'
  expect_rc 0; expect_eq "cfs quota and period" $'50000\n100000' "$OUT"
  run1 --cpu-shares 512 "$IMAGE" cat /sys/fs/cgroup/cpu/cpu.shares
  expect_rc 0; expect_eq "cpu.shares" 512 "$OUT"
  # a busy loop for a second under half a CPU gets throttled
  run1 --cpus 0.2 "$IMAGE" sh -c \
    'timeout 1 sh -c "while :; do :; done"; grep nr_throttled /sys/fs/cgroup/cpu/cpu.stat'
  local t; t=$(printf '%s\n' "$OUT" | awk '$1 == "nr_throttled" { print $2 }')
  [[ $t =~ ^[0-9]+$ ]] && [ "$t" -gt 0 ] ||
    fail "busy loop under --cpus 0.2: expected nr_throttled > 0, got \`$OUT\` $(tail_err)"
}

t_cpuset() {
  local ncpu; ncpu=$(nproc)
  run1 --cpuset-cpus 0 "$IMAGE" sh -c \
    'cat /sys/fs/cgroup/cpuset/cpuset.cpus; grep Cpus_allowed_list /proc/self/status; nproc'
  expect_rc 0; expect_eq "cpuset 0" $'0\nCpus_allowed_list:\t0\n1' "$OUT"
  if [ "$ncpu" -ge 2 ]; then
    run1 --cpuset-cpus 1 "$IMAGE" sh -c \
      'cat /sys/fs/cgroup/cpuset/cpuset.cpus; grep Cpus_allowed_list /proc/self/status'
    expect_rc 0; expect_eq "cpuset 1" $'1\nCpus_allowed_list:\t1' "$OUT"
  fi
}

t_read_only() {
  run1 --read-only "$IMAGE" sh -c \
    'touch /x 2>&1; echo "rc=$?"; touch /tmp/ok && echo tmp-writable; awk '\''$2 == "/" { print $4 }'\'' /proc/mounts'
  expect_rc 0
  expect_match "write to / fails" 'Read-only file system' "$OUT"
  expect_match "touch /x exit status" 'rc=1' "$OUT"
  expect_match "/tmp stays writable (podman's tmpfs)" 'tmp-writable' "$OUT"
  expect_match "/ mounted ro" '(^|[[:space:]])ro(,|$)' "$OUT"
  run1 "$IMAGE" sh -c 'touch /x && echo root-writable'
  expect_rc 0; expect_eq "without --read-only" root-writable "$OUT"
}

t_caps() {
  local q='grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status'
  run1 --cap-drop ALL "$IMAGE" sh -c "$q"
  expect_rc 0
  expect_eq "caps with --cap-drop ALL" $'CapPrm:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t0000000000000000' "$OUT"
  run1 --cap-drop ALL --cap-add NET_ADMIN --cap-add SYS_TIME "$IMAGE" sh -c "$q"
  expect_rc 0
  expect_eq "caps with --cap-add NET_ADMIN,SYS_TIME" $'CapPrm:\t0000000002001000\nCapEff:\t0000000002001000\nCapBnd:\t0000000002001000' "$OUT"
  # podman's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL NET_BIND_SERVICE SETFCAP
  # SETGID SETPCAP SETUID SYS_CHROOT
  run1 "$IMAGE" sh -c "$q"
  expect_rc 0
  expect_eq "podman's default caps" $'CapPrm:\t00000000800405fb\nCapEff:\t00000000800405fb\nCapBnd:\t00000000800405fb' "$OUT"
  # and what the container suffers without CAP_CHOWN
  run1 --cap-drop CHOWN "$IMAGE" sh -c 'touch /tmp/f; chown 1000 /tmp/f'
  expect_rc 1; expect_match "chown without CAP_CHOWN" 'Operation not permitted' "$ERR"
  run1 "$IMAGE" sh -c 'touch /tmp/f; chown 1000 /tmp/f && stat -c %u /tmp/f'
  expect_rc 0; expect_eq "chown with CAP_CHOWN" 1000 "$OUT"
}

t_no_new_privs() {
  run1 --security-opt no-new-privileges "$IMAGE" grep NoNewPrivs /proc/self/status
  expect_rc 0; expect_eq "with no-new-privileges" $'NoNewPrivs:\t1' "$OUT"
  run1 "$IMAGE" grep NoNewPrivs /proc/self/status
  expect_rc 0; expect_eq "without" $'NoNewPrivs:\t0' "$OUT"
}

t_seccomp() {
  local prof=$HERE/seccomp-deny-mkdir.json
  run1 --security-opt "seccomp=$prof" "$IMAGE" sh -c \
    'grep "^Seccomp:" /proc/self/status; touch /tmp/y && echo touch-ok; mkdir /tmp/x'
  expect_rc 1
  expect_match "seccomp mode" $'Seccomp:\t2' "$OUT"
  expect_match "other syscalls allowed" 'touch-ok' "$OUT"
  expect_match "mkdir denied with EPERM" "mkdir: can't create directory '/tmp/x': Operation not permitted" "$ERR"
  run1 "$IMAGE" sh -c 'grep "^Seccomp:" /proc/self/status; mkdir /tmp/x && echo mkdir-ok'
  expect_rc 0; expect_eq "podman's default profile" $'Seccomp:\t2\nmkdir-ok' "$OUT"
  run1 --security-opt seccomp=unconfined "$IMAGE" grep "^Seccomp:" /proc/self/status
  expect_rc 0; expect_eq "seccomp=unconfined" $'Seccomp:\t0' "$OUT"
}

t_user() {
  run1 --user 1000:1000 "$IMAGE" sh -c \
    'id; touch /tmp/f; stat -c %u:%g /tmp/f; grep CapEff /proc/self/status'
  expect_rc 0
  expect_eq "id, file owner and caps as 1000:1000" \
    $'uid=1000(berth) gid=1000(berth) groups=1000(berth)\n1000:1000\nCapEff:\t0000000000000000' "$OUT"
  run1 --user nobody "$IMAGE" id -u
  expect_rc 0; expect_eq "--user nobody" 65534 "$OUT"
  run1 --user 1000 --group-add 5 "$IMAGE" id -G
  expect_rc 0; expect_eq "--user 1000 --group-add 5" "1000 5" "$OUT"
  run1 --user 1000:1000 "$IMAGE" sh -c 'touch /root/f'
  expect_rc 1; expect_match "1000 cannot write /root" 'Permission denied' "$ERR"
}

t_ulimit() {
  # When one of nofile/nproc is given with --ulimit, podman fills in the other from its own
  # process limits (nofile=1048576 / nproc=1048576 here), ignoring containers.conf. runc and
  # crun then fail with EPERM on this host, so for them (CAP_ULIMITS=1) we name the other
  # limit too; berth-runtime gets exactly what podman sends and must cap it.
  local other_nproc=() other_nofile=()
  if [ "$CAP_ULIMITS" = 1 ]; then
    other_nproc=(--ulimit "nproc=$(ulimit -Hu):$(ulimit -Hu)")
    other_nofile=(--ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)")
    [ "$(ulimit -Hu)" -le 32768 ] || other_nproc=(--ulimit nproc=32768:32768)
  fi
  run1 --ulimit nofile=100:200 "${other_nproc[@]}" "$IMAGE" sh -c 'ulimit -n; ulimit -Hn'
  expect_rc 0; expect_eq "nofile soft and hard" $'100\n200' "$OUT"
  run1 --ulimit nproc=50:60 "${other_nofile[@]}" "$IMAGE" sh -c 'ulimit -u; ulimit -Hu'
  expect_rc 0; expect_eq "nproc soft and hard" $'50\n60' "$OUT"
  # No --ulimit: podman asks for nofile=1048576 (and nproc=4194304) unless containers.conf
  # caps them (we do for runc/crun, not for berth-runtime, which must cap to the caller's
  # hard limit itself). Either way the container runs with this host's hard nofile limit.
  local hn; hn=$(ulimit -Hn)
  run1 "$IMAGE" sh -c 'ulimit -n; ulimit -Hn'
  expect_rc 0
  expect_eq "default nofile (host hard limit $hn; containers.conf cap: $CAP_ULIMITS)" "$hn"$'\n'"$hn" "$OUT"
}

t_sysctl() {
  local before host_ns
  before=$(cat /proc/sys/net/ipv4/ip_forward)
  host_ns=$(readlink /proc/self/ns/net)
  run1 --sysctl net.ipv4.ip_forward=1 --sysctl kernel.msgmax=4096 "$IMAGE" sh -c \
    'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax; readlink /proc/self/ns/net; ls /sys/class/net'
  expect_rc 0
  local got; got=$(printf '%s\n' "$OUT" | sed -n 1,2p)
  expect_eq "sysctls inside" $'1\n4096' "$got"
  expect_eq "net namespace interfaces (--network none)" lo "$(printf '%s\n' "$OUT" | sed -n 4p)"
  [ "$(printf '%s\n' "$OUT" | sed -n 3p)" != "$host_ns" ] ||
    fail "container shares the host's network namespace ($host_ns)"
  expect_eq "host ip_forward untouched" "$before" "$(cat /proc/sys/net/ipv4/ip_forward)"
}

t_tmpfs() {
  run1 --tmpfs /scratch:size=1m "$IMAGE" sh -c \
    'df -k /scratch | awk "NR == 2 { print \$2 }"; awk '\''$2 == "/scratch" { print $3 }'\'' /proc/mounts; dd if=/dev/zero of=/scratch/f bs=1k count=2048'
  expect_rc 1
  expect_eq "tmpfs size (KiB) and type" $'1024\ntmpfs' "$OUT"
  expect_match "writing past the size" 'No space left on device' "$ERR"
}

t_device() {
  run1 --device /dev/null:/dev/mynull "$IMAGE" sh -c \
    'stat -c "%F %t:%T" /dev/mynull; echo x > /dev/mynull && echo write-ok; head -c 1 /dev/mynull | wc -c'
  expect_rc 0
  expect_eq "device node, write, read" $'character special file 1:3\nwrite-ok\n0' "$OUT"
  # a node made inside is still refused by the device cgroup (/dev/mem is 1:1)
  run1 --cap-add MKNOD "$IMAGE" sh -c 'mknod /tmp/mem c 1 1 && head -c 1 /tmp/mem'
  expect_rc 1; expect_match "opening a device not allowed" 'Operation not permitted' "$ERR"
}

t_init() {
  run1 --init "$IMAGE" ps -o pid,args
  expect_rc 0
  expect_match "PID 1 is podman's init" $'(^|\n) *1 +/run/podman-init' "$OUT"
  expect_match "the command runs under it" $'\n *[0-9]+ +ps -o pid,args' "$OUT"
  # the init forwards SIGTERM: a plain sleep stops at once
  local n t0 dt; n=$(cname init)
  run_d "$n" --init "$IMAGE" sleep 600
  t0=${EPOCHREALTIME/./}
  pod_ok stop -t 20 "$n"
  dt=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
  [ "$dt" -lt 10000 ] || fail "podman stop of an --init container took ${dt} ms (the TERM was not forwarded)"
  expect_eq "exit code after TERM" 143 "$(inspect_f "$n" '{{.State.ExitCode}}')"
  pod_ok rm "$n"
}

t_exec() {
  local n out rc; n=$(cname exec)
  run_d "$n" "$IMAGE" sh -c 'echo main > /tmp/marker; exec sleep 600'
  wait_until 10 status_is "$n" running || fail "$n did not run"
  pod exec "$n" cat /tmp/marker
  expect_rc 0; expect_eq "exec sees the container's files" main "$OUT"
  pod exec "$n" sh -c 'exit 5'
  expect_rc 5
  pod exec "$n" ps -o pid,args
  expect_match "exec joins the pid namespace" $'(^|\n) *1 +sleep 600' "$OUT"
  pod exec --user 1000 -e BERTH_E=e1 -w /tmp "$n" sh -c 'echo "$(id -u) $BERTH_E $(pwd) $HOME"; grep CapEff /proc/self/status'
  expect_rc 0; expect_eq "exec --user/-e/-w (podman passes full caps for 1000; none survive exec)" \
    $'1000 e1 /tmp /home/berth\nCapEff:\t0000000000000000' "$OUT"
  pod_stdin 'via-stdin' exec -i "$n" cat
  expect_rc 0; expect_eq "exec -i stdin" via-stdin "$OUT"
  pod exec "$n" tty
  expect_rc 1; expect_match "exec without -t" 'not a tty' "$OUT"
  pod exec -t "$n" tty
  expect_rc 0; expect_match "exec -t" '^/dev/pts/[0-9]+' "$OUT"
  rc=0
  out=$(python3 "$HERE/pty_run.py" --rows 40 --cols 120 --timeout 60 -- \
        "${PODMAN[@]}" exec -it "$n" sh -c 'tty; stty size; exit 6' 2>&1) || rc=$?
  LAST_CMD="podman exec -it (on a 40x120 pty) $n sh -c 'tty; stty size; exit 6'"; RC=$rc
  expect_rc 6
  expect_match "exec -it tty" '/dev/pts/[0-9]+' "$out"
  expect_match "exec -it window size" '40 120' "$out"
  pod exec -d "$n" sh -c 'echo detached > /tmp/d'
  expect_rc 0
  wait_until 10 "${PODMAN[@]}" exec "$n" test -s /tmp/d ||
    fail "exec -d: /tmp/d never appeared"
  pod exec "$n" /no/such/binary
  expect_rc 127
  pod_ok rm -f -t 0 "$n"
}

t_pause() {
  local n out a b; n=$(cname pause)
  out=$WORK/out; mkdir -p "$out"
  run_d "$n" -v "$out:/out" "$IMAGE" sh -c 'while :; do echo x >> /out/n; sleep 0.1; done'
  wait_until 10 test -s "$out/n" || fail "the counter never started"
  pod_must pause "$n"
  expect_eq "state after pause" paused "$(inspect_f "$n" '{{.State.Status}}')"
  local d
  if d=$(host_cgroup_dir "$n" freezer); then
    expect_eq "freezer.state on the host" FROZEN "$(cat "$d/freezer.state")"
  else
    fail "cannot find the freezer cgroup of $n"
  fi
  a=$(wc -l <"$out/n"); sleep 1; b=$(wc -l <"$out/n")
  expect_eq "counter while paused" "$a" "$b"
  pod exec "$n" true
  [ "$RC" != 0 ] || fail "exec into a paused container succeeded"
  pod_must unpause "$n"
  expect_eq "state after unpause" running "$(inspect_f "$n" '{{.State.Status}}')"
  wait_until 5 lines_more_than "$out/n" "$b" || fail "counter did not advance after unpause"
  # rm -f of a paused container must thaw it to kill it
  pod_must pause "$n"
  pod_ok rm -f -t 0 "$n"
}

t_stop() {
  local a b t0 dt out; a=$(cname ignores) b=$(cname handles)
  out=$WORK/out; mkdir -p "$out"
  # PID 1 with TERM ignored: podman stop -t 2 has to fall back to SIGKILL
  run_d "$a" -v "$out:/out" "$IMAGE" sh -c 'trap "" TERM; touch /out/a-ready; while :; do sleep 0.2; done'
  run_d "$b" -v "$out:/out" "$IMAGE" sh -c \
    'trap "echo got-term > /out/b-term; exit 0" TERM; touch /out/b-ready; while :; do sleep 0.2; done'
  wait_until 10 test -e "$out/a-ready" -a -e "$out/b-ready" || fail "containers never became ready"
  t0=${EPOCHREALTIME/./}
  pod_ok stop -t 2 "$a"
  dt=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
  [ "$dt" -ge 1900 ] && [ "$dt" -lt 10000 ] ||
    fail "stop -t 2 of a TERM-ignoring container took $dt ms (want ~2000: the grace period, then KILL)"
  expect_eq "exit code of the killed container" 137 "$(inspect_f "$a" '{{.State.ExitCode}}')"
  t0=${EPOCHREALTIME/./}
  pod_ok stop -t 10 "$b"
  dt=$(( (${EPOCHREALTIME/./} - t0) / 1000 ))
  [ "$dt" -lt 5000 ] || fail "stop of a container that exits on TERM took $dt ms"
  expect_eq "exit code after handling TERM" 0 "$(inspect_f "$b" '{{.State.ExitCode}}')"
  expect_eq "the TERM handler ran" got-term "$(cat "$out/b-term" 2>&1)"
  pod_ok stop "$b"   # stopping a stopped container is fine
  pod_ok rm "$a" "$b"
}

t_kill() {
  local n out; n=$(cname kill)
  out=$WORK/out; mkdir -p "$out"
  run_d "$n" -v "$out:/out" "$IMAGE" sh -c \
    'trap "echo usr1 >> /out/sig" USR1; trap "echo usr2 >> /out/sig" USR2; touch /out/ready; while :; do sleep 0.2; done'
  wait_until 10 test -e "$out/ready" || fail "container never became ready"
  pod_ok kill -s USR1 "$n"
  wait_until 5 test -s "$out/sig" || fail "USR1 was not delivered (no /out/sig)"
  # busybox sh may merge a signal that arrives while its trap handler runs: give it time
  sleep 0.5
  pod_ok kill --signal SIGUSR2 "$n"
  wait_until 5 grep -q usr2 "$out/sig" || fail "USR2 was not delivered"
  expect_eq "signals seen, in order" $'usr1\nusr2' "$(cat "$out/sig")"
  expect_eq "still running after USR1/USR2" running "$(inspect_f "$n" '{{.State.Status}}')"
  pod_ok kill "$n"
  wait_until 10 status_is "$n" exited ||
    fail "not exited 10 s after kill (status $(inspect_f "$n" '{{.State.Status}}'))"
  expect_eq "exit code after SIGKILL" 137 "$(inspect_f "$n" '{{.State.ExitCode}}')"
  pod_ok rm "$n"
}

t_rm_force() {
  local n pid; n=$(cname rmf)
  run_d "$n" "$IMAGE" sleep 600
  pid=$(inspect_f "$n" '{{.State.Pid}}')
  [[ $pid =~ ^[1-9][0-9]*$ ]] || fail "no pid for $n: $pid"
  pod_ok rm -f -t 2 "$n"
  wait_until 5 test ! -e "/proc/$pid" || fail "process $pid of the container still alive after rm -f"
  pod inspect "$n"
  [ "$RC" != 0 ] || fail "$n still known to podman after rm -f"
}

t_top() {
  local n; n=$(cname top)
  run_d "$n" "$IMAGE" sleep 600
  pod top "$n"
  expect_rc 0; expect_match "podman top lists the process" 'sleep 600' "$OUT"
  pod top "$n" pid args
  expect_rc 0; expect_match "podman top pid args" $'\n1 +sleep 600' "$OUT"
  pod_ok rm -f -t 0 "$n"
}

t_update() {
  local n cpu=0; n=$(cname upd)
  [ "$(nproc)" -lt 2 ] || cpu=1
  run_d "$n" --memory 32m --cpus 1 --cpuset-cpus 0 "$IMAGE" sleep 600
  pod_ok update --memory 64m --memory-swap 128m --cpus 0.5 --cpuset-cpus "$cpu" "$n"
  # read on the host, so this test does not depend on exec working
  local mem cpud cpusetd
  mem=$(host_cgroup_dir "$n" memory) && cpud=$(host_cgroup_dir "$n" cpu) &&
    cpusetd=$(host_cgroup_dir "$n" cpuset) || { fail "cannot find the cgroups of $n"; return; }
  expect_eq "limits after podman update (memory, memsw, cfs quota, cpuset)" \
    $'67108864\n134217728\n50000\n'"$cpu" \
    "$(cat "$mem/memory.limit_in_bytes" "$mem/memory.memsw.limit_in_bytes" "$cpud/cpu.cfs_quota_us" "$cpusetd/cpuset.cpus")"
  # and the container's own process is confined by it
  expect_eq "Cpus_allowed_list of PID 1 after update" "$cpu" \
    "$(awk '/^Cpus_allowed_list/ { print $2 }' "/proc/$(inspect_f "$n" '{{.State.Pid}}')/status")"
  pod_ok rm -f -t 0 "$n"
}

t_restart() {
  local n p1 p2; n=$(cname restart)
  run_d "$n" "$IMAGE" sleep 600
  p1=$(inspect_f "$n" '{{.State.Pid}}')
  pod_ok restart -t 0 "$n"
  p2=$(inspect_f "$n" '{{.State.Pid}}')
  expect_eq "running after restart" running "$(inspect_f "$n" '{{.State.Status}}')"
  [ "$p1" != "$p2" ] || fail "restart kept the same process ($p1)"
  pod_ok rm -f -t 0 "$n"
}

# ------------------------------------------------------------------------------ main
list_tests() { declare -F | awk '{ print $3 }' | sed -n 's/^t_//p'; }
RT_ARG=''
TESTS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --list) list_tests; exit 0 ;;
    --runtime) RT_ARG=${2:?--runtime needs a path}; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "podman_test.sh: unknown option $1" >&2; exit 2 ;;
    *) TESTS+=("$1"); shift ;;
  esac
done
[ ${#TESTS[@]} -ge 1 ] || { echo "podman_test.sh: name a test (--list shows them)" >&2; exit 2; }
[ ${#TESTS[@]} -eq 1 ] || {
  rc=0
  for t in "${TESTS[@]}"; do
    r=0; "$0" ${RT_ARG:+--runtime "$RT_ARG"} "$t" || r=$?
    [ "$r" = 0 ] || [ "$r" = 77 ] || rc=1
  done
  exit $rc
}
declare -F "t_${TESTS[0]}" >/dev/null || { echo "podman_test.sh: no test \`${TESTS[0]}\`" >&2; exit 2; }
interop_require
interop_resolve_runtime "$RT_ARG"
interop_setup "${TESTS[0]}"
"t_${TESTS[0]}"
interop_finish
