#!/usr/bin/env bash
# record-podman-calls.sh - which runtime commands and flags podman issues, per podman command.
#
# Usage: record-podman-calls.sh [--runtime PATH] [--keep]
#   --runtime PATH   runtime to put behind the logging shim (default: $BERTH_INTEROP_RUNTIME,
#                    else /usr/sbin/runc)
#   --keep           keep the work dir: the saved config.json / process.json files
# Runs one scenario per podman command (run, run -it, create/init/start, exec in all modes,
# pause/unpause, update, kill, stop, restart, rm -f, a failing exec path, top, ps) with the
# private store of the interop tests, and prints, under a heading per podman command, every
# runtime invocation (argv, the parent that made it, where its stdio points, which
# environment variables it got). A second pass registers the runtime as `runc` in
# containers.conf and selects it by that name, so podman treats it as JSON-capable, as it does
# for the runtimes it knows
# by name (runc, crun): then conmon adds --log-format=json and --log FILE.
# The output is the raw material of tests/interop/PODMAN_CALLS.md.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$HERE/lib.sh"

RT=${BERTH_INTEROP_RUNTIME:-/usr/sbin/runc}
while [ $# -gt 0 ]; do
  case "$1" in
    --runtime) RT=${2:?}; shift 2 ;;
    --keep) export BERTH_INTEROP_KEEP=1; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "record-podman-calls.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
unset BERTH_INTEROP_RUNTIME
interop_require
interop_resolve_runtime "$RT"
SHIM_VERBOSE=1
interop_setup calls

mark() { printf '\n### %s\n' "$*" >>"$CALL_LOG"; }
step() {   # step "title" podman-args...
  local title=$1; shift
  mark "$title"
  pod "$@"
  printf '    (podman exit %s)\n' "$RC" >>"$CALL_LOG"
}
pty_step() {   # pty_step "title" podman-args...
  local title=$1 rc=0; shift
  mark "$title"
  python3 "$HERE/pty_run.py" --rows 30 --cols 90 --timeout 60 -- "${PODMAN[@]}" "$@" >/dev/null 2>&1 || rc=$?
  printf '    (podman exit %s)\n' "$rc" >>"$CALL_LOG"
}

N=$(cname main)
C=$(cname created)
step "podman run --rm IMAGE true" run --rm --network none --pull never --name "$(cname r1)" "$IMAGE" true
step "podman run --rm IMAGE sh -c 'exit 3'" run --rm --network none --pull never --name "$(cname r2)" "$IMAGE" sh -c 'exit 3'
step "podman run --rm IMAGE /no/such/binary (the runtime fails at start)" \
  run --rm --network none --pull never --name "$(cname r3)" "$IMAGE" /no/such/binary
pty_step "podman run -it --rm IMAGE sh -c 'stty size' (on a pty)" \
  run -it --rm --network none --pull never --name "$(cname r4)" "$IMAGE" sh -c 'stty size'
step "podman run --rm -i IMAGE cat (stdin from a pipe)" \
  run --rm -i --network none --pull never --name "$(cname r5)" "$IMAGE" cat
step "podman run --rm --init IMAGE true" run --rm --init --network none --pull never --name "$(cname r6)" "$IMAGE" true
step "podman create NAME" create --network none --pull never --name "$C" "$IMAGE" sh -c 'echo hi'
step "podman init NAME" init "$C"
step "podman start -a NAME" start -a "$C"
step "podman rm NAME (exited)" rm "$C"
mark "podman run -d NAME sleep 600 (with --log-level debug: the conmon command line)"
pod --log-level debug run -d --network none --pull never --name "$N" --memory 64m "$IMAGE" sleep 600
printf '    (podman exit %s)\n' "$RC" >>"$CALL_LOG"
printf '%s\n' "$ERR" | grep -o 'running conmon: .*' | sed 's/^/    /' >>"$CALL_LOG" || true
CREATED_IDS+=("$(inspect_f "$N" '{{.Id}}')")
step "podman ps -a" ps -a
step "podman inspect NAME" inspect "$N"
step "podman exec NAME true" exec "$N" true
step "podman exec -i NAME cat (stdin from /dev/null)" exec -i "$N" cat
step "podman exec -t NAME tty (no terminal on our side)" exec -t "$N" tty
pty_step "podman exec -it NAME sh -c 'stty size' (on a pty)" exec -it "$N" sh -c 'stty size'
step "podman exec -d NAME sleep 1" exec -d "$N" sleep 1
step "podman exec --user 1000 -e A=1 -w /tmp NAME true" exec --user 1000 -e A=1 -w /tmp "$N" true
step "podman exec NAME /no/such/binary" exec "$N" /no/such/binary
step "podman top NAME" top "$N"
step "podman stats --no-stream NAME" stats --no-stream "$N"
step "podman ps --sync" ps -a --sync
step "podman wait --condition running NAME" wait --condition running "$N"
step "podman pause NAME" pause "$N"
step "podman unpause NAME" unpause "$N"
step "podman update --cpus 0.5 --memory 128m NAME" update --cpus 0.5 --memory 128m "$N"
step "podman kill -s USR1 NAME" kill -s USR1 "$N"
step "podman stop -t 2 NAME (PID 1 ignores TERM)" stop -t 2 "$N"
step "podman start NAME (exited)" start "$N"
step "podman restart -t 0 NAME" restart -t 0 "$N"
step "podman kill NAME" kill "$N"
step "podman start NAME" start "$N"
step "podman pause NAME, then podman rm -f NAME" pause "$N"
step "podman rm -f NAME (paused)" rm -f "$N"
mark "podman run --rm IMAGE true with --cgroup-manager systemd (no systemd on this host)"
LAST_CMD=''
RC=0
timeout 60 podman --root "$GRAPHROOT" --runroot "$RUNROOT" --tmpdir "$LIBPOD_TMP" --storage-driver overlay \
  --cgroup-manager systemd --events-backend file --runtime "$PODMAN_RUNTIME" \
  run --rm --network none --pull never --name "$(cname sd)" "$IMAGE" true >/dev/null 2>"$WORK/sd.err" || RC=$?
printf '    (podman exit %s: %s)\n' "$RC" "$(tail -n 1 "$WORK/sd.err" | cut -c1-200)" >>"$CALL_LOG"

# Second pass: the shim registered under the name `runc` in [engine.runtimes] and used as
# `--runtime runc`: podman then treats it as JSON-capable (runtime_supports_json lists runc
# and crun by name), as it does for the real runc.
printf '\n[engine.runtimes]\nrunc = ["%s"]\n' "$PODMAN_RUNTIME" >>"$CONF"
PODMAN[${#PODMAN[@]}-1]=runc
mark "JSON pass (--runtime runc): podman run --rm IMAGE true"
pod run --rm --network none --pull never --name "$(cname j1)" "$IMAGE" true
printf '    (podman exit %s)\n' "$RC" >>"$CALL_LOG"
step "JSON pass (--runtime runc): podman run --rm IMAGE /no/such/binary" run --rm --network none --pull never --name "$(cname j2)" "$IMAGE" /no/such/binary
N=$(cname jmain)
step "JSON pass (--runtime runc): podman run -d NAME sleep 600" run -d --network none --pull never --name "$N" "$IMAGE" sleep 600
CREATED_IDS+=("$(inspect_f "$N" '{{.Id}}')")
step "JSON pass (--runtime runc): podman exec NAME true" exec "$N" true
step "JSON pass (--runtime runc): podman pause NAME" pause "$N"
step "JSON pass (--runtime runc): podman unpause NAME" unpause "$N"
step "JSON pass (--runtime runc): podman rm -f -t 0 NAME" rm -f -t 0 "$N"

echo "# runtime calls made by podman $(podman --version | awk '{print $3}') (conmon $(conmon --version | awk 'NR == 1 {print $3}')) with --runtime $PODMAN_RUNTIME -> $RUNTIME"
echo "# graph root $GRAPHROOT, run root $RUNROOT; container ids shown as CID, other ids (exec sessions) as XID"
sedargs=(-e 's/^$//')
for id in $(grep -o 'overlay-containers/[0-9a-f]\{64\}' "$CALL_LOG" | cut -d/ -f2 | sort -u); do
  sedargs+=(-e "s/$id/CID/g")
done
sedargs+=(-e 's/[0-9a-f]\{64\}/XID/g')
sed "${sedargs[@]}" "$CALL_LOG"
interop_finish
