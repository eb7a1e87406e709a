#!/usr/bin/env bash
# build_test.sh BERTH NAME - `berth build` end to end as root: real overlay snapshots, RUN
# steps as containers, the layer cache, and what a failure leaves behind (nothing).
# One test per t_NAME function; CTest runs each as integration_build_NAME.
# Exit 0 pass, 1 fail, 77 skip. State under /var/tmp/berth-build-test/NAME (removed
# afterwards unless BERTH_KEEP=1).
set -uo pipefail

BERTH=${1:?usage: build_test.sh BERTH NAME}
NAME=${2:?usage: build_test.sh BERTH NAME}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
W=/var/tmp/berth-build-test/$NAME
RUN=/run/berth-build-test/$NAME
ROOT=$W/store
CTX=$W/ctx

log() { printf '[build] %s\n' "$*" >&2; }
fail() { printf '[build] FAIL (%s): %s\n' "$NAME" "$*" >&2; exit 1; }
skip() { printf '[build] SKIP: %s\n' "$*" >&2; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root"
[ -x /bin/busybox ] || skip "busybox-static not installed (scripts/install-deps.sh installs it)"

cleanup() {
  "$BERTH" --root "$ROOT" --runroot "$RUN" system prune -af >/dev/null 2>&1
  if grep -q " $W/" /proc/self/mountinfo; then
    log "mounts left under $W:"; grep " $W/" /proc/self/mountinfo >&2
    [ "${RC:-0}" = 0 ] && RC=1
  fi
  [ "${BERTH_KEEP:-0}" = 1 ] || rm -rf -- "$W" "$RUN"
}
trap 'RC=$?; cleanup; exit $RC' EXIT
rm -rf -- "$W" "$RUN"
mkdir -p "$W" "$RUN" "$CTX"

# b ARGS...: berth on the private store; OUT/ERR/RCODE hold the result.
b() {
  OUT=$("$BERTH" --root "$ROOT" --runroot "$RUN" "$@" 2>"$W/err") && RCODE=0 || RCODE=$?
  ERR=$(cat "$W/err")
}
ok() { b "$@"; [ "$RCODE" = 0 ] || fail "berth $* exited $RCODE: $ERR $OUT"; }
bad() {  # bad PATTERN ARGS...: must fail with PATTERN in stderr
  local pat=$1; shift
  b "$@"
  [ "$RCODE" != 0 ] || fail "berth $* succeeded, expected a failure"
  grep -qE -- "$pat" <<<"$ERR" || fail "berth $* : expected an error matching \`$pat\`, got: $ERR"
}
expect() {  # expect WHAT GOT WANT
  [ "$2" = "$3" ] || fail "$1: got \`$2\`, want \`$3\`"
}
cached() { grep -c -- '--> Using cache' <<<"$OUT"; }
dockerfile() { cat >"$CTX/Dockerfile"; }
field() {  # field IMAGE GO-TEMPLATE
  ok image inspect --format "$2" "$1"
  printf '%s' "$OUT"
}
# Nothing of a build may outlive it: snapshots, runtime state, step containers' files.
no_leftovers() {
  grep -q " $ROOT/" /proc/self/mountinfo && fail "mounts left under $ROOT: $(grep " $ROOT/" /proc/self/mountinfo)"
  [ -z "$(ls -A "$ROOT/build" 2>/dev/null)" ] || fail "left in $ROOT/build: $(ls -A "$ROOT/build")"
  [ -z "$(ls -A "$RUN/build" 2>/dev/null)" ] || fail "left in $RUN/build: $(ls -A "$RUN/build")"
  [ -z "$(ls -A "$RUN/runtime" 2>/dev/null | grep -v '^@')" ] || fail "runtime state left: $(ls -A "$RUN/runtime")"
  return 0
}

"$SRC/scripts/make-busybox-image.sh" "$BERTH" busybox:latest --root "$ROOT" --runroot "$RUN" >/dev/null ||
  fail "could not import the busybox image"

t_multistage() {
  mkdir -p "$CTX/src/sub"
  echo hello >"$CTX/src/a.txt"
  echo deep >"$CTX/src/sub/b.txt"
  chmod 600 "$CTX/src/sub/b.txt"
  ln -s a.txt "$CTX/src/link"
  dockerfile <<'DOCKERFILE'
# syntax=docker/dockerfile:1
# escape=\
ARG BASE=busybox
FROM $BASE AS builder
ENV GREETING="hi there" \
    EMPTY=
WORKDIR /work
COPY src/ ./in/
RUN echo "$GREETING" > out.txt && \
    id -u > uid.txt
RUN <<SCRIPT
set -e
echo "from a heredoc" > heredoc.txt
SCRIPT
COPY <<EOF /work/conf.ini
greeting=${GREETING}
EOF

FROM busybox
COPY --from=builder /work /app
COPY --chown=1000:1000 --chmod=640 src/a.txt /owned/a.txt
WORKDIR app
USER 1000:1000
ENV PATH=/usr/bin:/bin MODE=prod
EXPOSE 8080 53/udp
LABEL org.example.name="berth test" version=1
VOLUME /data
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD test -f /app/out.txt
ENTRYPOINT ["cat"]
CMD ["/app/out.txt"]
DOCKERFILE
  ok build -t built:1 "$CTX"
  grep -q 'STEP 1/' <<<"$OUT" || fail "no step lines: $OUT"
  no_leftovers
  ok run --rm built:1
  expect "run output" "$OUT" "hi there"
  ok run --rm --user 0 --entrypoint sh built:1 -c \
    'cat /app/uid.txt /app/heredoc.txt /app/conf.ini; stat -c "%a %u:%g %N" /app/in/sub/b.txt /owned/a.txt /app/in/link; pwd'
  expect "files" "$OUT" "0
from a heredoc
greeting=hi there
600 0:0 /app/in/sub/b.txt
640 1000:1000 /owned/a.txt
777 0:0 '/app/in/link' -> 'a.txt'
/app"
  expect Env "$(field built:1 '{{json .Config.Env}}')" '["PATH=/usr/bin:/bin","MODE=prod"]'
  expect Entrypoint "$(field built:1 '{{json .Config.Entrypoint}}')" '["cat"]'
  expect Cmd "$(field built:1 '{{json .Config.Cmd}}')" '["/app/out.txt"]'
  expect WorkingDir "$(field built:1 '{{.Config.WorkingDir}}')" "/app"
  expect User "$(field built:1 '{{.Config.User}}')" "1000:1000"
  expect ExposedPorts "$(field built:1 '{{json .Config.ExposedPorts}}')" '{"53/udp":{},"8080/tcp":{}}'
  expect Volumes "$(field built:1 '{{json .Config.Volumes}}')" '{"/data":{}}'
  expect StopSignal "$(field built:1 '{{.Config.StopSignal}}')" "SIGINT"
  field built:1 '{{json .Config.Labels}}' | grep -q '"org.example.name":"berth test"' || fail "labels: $OUT"
  field built:1 '{{json .Config.Healthcheck}}' | grep -qF '"Test":["CMD-SHELL","test -f /app/out.txt"]' ||
    fail "healthcheck: $OUT"
  ok history built:1
  grep -q 'COPY --from=builder /work /app' <<<"$OUT" || fail "history lacks the COPY step: $OUT"
}

t_cache() {
  mkdir -p "$CTX/app"
  echo one >"$CTX/app/one.txt"
  echo two >"$CTX/two.txt"
  echo ignored >"$CTX/notes.md"
  printf '*.md\n' >"$CTX/.dockerignore"
  dockerfile <<'EOF'
FROM busybox
RUN echo base > /base.txt
COPY app /app
RUN cat /app/one.txt > /derived.txt
COPY two.txt /two.txt
RUN date +%s%N > /stamp
CMD ["sh"]
EOF
  ok build -t c:1 "$CTX"
  expect "cold cache hits" "$(cached)" 0
  local id1=$OUT
  id1=${id1##*$'\n'}
  ok build -t c:1 "$CTX"
  expect "warm cache hits" "$(cached)" 5
  expect "unchanged build id" "${OUT##*$'\n'}" "$id1"
  # An ignored file and a touch without a change keep the cache.
  echo changed >"$CTX/notes.md"
  touch "$CTX/app/one.txt"
  ok build -t c:1 "$CTX"
  expect "cache hits after ignored change" "$(cached)" 5
  # The second COPY's file: the steps before it stay cached, it and after rerun.
  echo TWO >"$CTX/two.txt"
  ok build -t c:1 "$CTX"
  expect "cache hits after changing two.txt" "$(cached)" 3
  ok run --rm c:1 cat /two.txt /derived.txt
  expect content "$OUT" "TWO
one"
  ok build --no-cache -t c:1 "$CTX"
  expect "--no-cache hits" "$(cached)" 0
  local id_nc=${OUT##*$'\n'}
  ok build -t c:1 "$CTX"
  expect "a plain build after --no-cache gives its result" "${OUT##*$'\n'}" "$id_nc"
  ok builder prune -f
  grep -q 'Deleted build cache entries: [1-9]' <<<"$OUT" || fail "prune: $OUT"
  ok build -t c:1 "$CTX"
  expect "hits after prune" "$(cached)" 0
  no_leftovers
}

t_target_and_args() {
  dockerfile <<'EOF'
ARG VERSION=1.0
ARG FLAVOR
FROM busybox AS broken
RUN exit 7

FROM busybox AS base
ARG VERSION
ARG FLAVOR=${FLAVOR:-plain}
ENV FROM_ENV=env
ARG FROM_ENV=arg
RUN echo "$VERSION $FLAVOR $FROM_ENV" > /args.txt

FROM base AS final
RUN echo final > /final.txt
EOF
  # `broken` is not needed for `base`: it is never built.
  ok build --target base -t t:base "$CTX"
  grep -q 'exit 7' <<<"$OUT" && fail "an unneeded stage ran: $OUT"
  ok run --rm t:base cat /args.txt
  expect "default args" "$OUT" "1.0 plain env"
  ok run --rm t:base sh -c 'echo "${VERSION:-unset} ${FLAVOR:-unset}"'
  expect "args stay out of the image" "$OUT" "unset unset"
  ok build --target base --build-arg VERSION=2.0 --build-arg FLAVOR=spicy -t t:base "$CTX"
  ok run --rm t:base cat /args.txt
  expect "given args" "$OUT" "2.0 spicy env"
  ok build --target final --iidfile "$W/iid" -t t:final "$CTX"
  expect iidfile "$(cat "$W/iid")" "${OUT##*$'\n'}"
  bad 'no such stage' build --target nope "$CTX"
  bad 'exit code 7' build --target broken "$CTX"
  no_leftovers
}

t_failure_leaves_nothing() {
  dockerfile <<'EOF'
FROM busybox
RUN echo partial > /partial.txt && exit 3
EOF
  local layers_before
  layers_before=$(ls "$ROOT/layers" | wc -l)
  bad 'exit code 3' build -t f:1 "$CTX"
  grep -q 'echo partial' <<<"$ERR" || fail "the error does not show the command: $ERR"
  grep -q 'Dockerfile:2' <<<"$ERR" || fail "the error does not name the line: $ERR"
  expect "layers after a failed step" "$(ls "$ROOT/layers" | wc -l)" "$layers_before"
  no_leftovers
  b image inspect f:1
  [ "$RCODE" != 0 ] || fail "a failed build left an image"

  printf 'FROM busybox\nRUNN echo x\n' >"$CTX/Dockerfile"
  bad 'Dockerfile:2:1.*RUNN' build "$CTX"
  printf 'RUN echo x\nFROM busybox\n' >"$CTX/Dockerfile"
  bad 'Dockerfile:1' build "$CTX"
  printf 'FROM busybox\nCOPY missing.txt /x\n' >"$CTX/Dockerfile"
  bad 'missing.txt.*not found' build "$CTX"
  printf 'FROM nonexistent-image-xyz\n' >"$CTX/Dockerfile"
  BERTH_REGISTRY_TIMEOUT=2 CONTAINERS_REGISTRIES_CONF=/dev/null bad 'nonexistent-image-xyz' build "$CTX"
  bad 'build context' build "$W/no-such-dir"
  bad 'only the host platform' build --platform linux/s390x "$CTX"
  no_leftovers
}

t_context_escapes() {
  echo secret >"$W/outside.txt"
  mkdir -p "$CTX/dir"
  ln -s /etc/passwd "$CTX/dir/passwd-link"
  ln -s ../../outside.txt "$CTX/up-link"
  printf 'FROM busybox\nCOPY ../outside.txt /x\n' >"$CTX/Dockerfile"
  bad 'outside the build context' build "$CTX"
  # A named link resolves inside the context: /etc/passwd of the host is not reachable.
  printf 'FROM busybox\nCOPY dir/passwd-link /x\n' >"$CTX/Dockerfile"
  bad 'passwd-link' build "$CTX"
  printf 'FROM busybox\nCOPY up-link /x\n' >"$CTX/Dockerfile"
  bad 'up-link' build "$CTX"
  # Inside a copied directory a link stays a link.
  printf 'FROM busybox\nCOPY dir /d\n' >"$CTX/Dockerfile"
  ok build -t esc:1 "$CTX"
  ok run --rm esc:1 readlink /d/passwd-link
  expect "copied link" "$OUT" "/etc/passwd"
  # ADD of a hostile tarball: nothing lands outside the image.
  python3 - "$CTX/evil.tar.gz" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as t:
    def add(name, data=b"x", **kw):
        i = tarfile.TarInfo(name); i.size = len(data)
        for k, v in kw.items(): setattr(i, k, v)
        t.addfile(i, io.BytesIO(data) if i.type == tarfile.REGTYPE else None)
    add("ok.txt", b"fine")
    add("../../../../../../tmp/berth-build-escape-1")
    add("/tmp/berth-build-escape-2")
    add("esc", type=tarfile.SYMTYPE, linkname="/tmp")
    add("esc/berth-build-escape-3")
EOF
  rm -f /tmp/berth-build-escape-*
  printf 'FROM busybox\nADD evil.tar.gz /unpacked/\n' >"$CTX/Dockerfile"
  b build -t evil:1 "$CTX"
  ls /tmp/berth-build-escape-* 2>/dev/null && fail "ADD wrote outside the image: $(ls /tmp/berth-build-escape-*)"
  no_leftovers
  return 0
}

t_run_mounts() {
  mkdir -p "$CTX/data"
  echo from-context >"$CTX/data/input.txt"
  dockerfile <<'EOF'
FROM busybox
RUN --mount=type=cache,target=/cache \
    --mount=type=bind,source=data,target=/data \
    --mount=type=bind,source=data/input.txt,target=/one.txt \
    --mount=type=tmpfs,target=/scratch \
    --mount=type=cache,target=/made/.cache,uid=1000,mode=0700 \
    cat /data/input.txt /one.txt > /result.txt && \
    echo run >> /cache/runs && wc -l < /cache/runs > /runs.txt && \
    touch /scratch/x && grep -q tmpfs /proc/mounts && \
    stat -c '%u %a' /made/.cache > /owner.txt && mkdir /made/data
EOF
  ok build -t m:1 "$CTX"
  ok build --no-cache -t m:1 "$CTX"
  ok run --rm m:1 sh -c 'cat /result.txt /runs.txt /owner.txt; ls /data /cache /scratch /one.txt 2>/dev/null | wc -l; ls -a /made'
  expect "mount results" "$OUT" "from-context
from-context
2
1000 700
0
.
..
data"
  # The bound file's content is part of the key.
  echo changed >"$CTX/data/input.txt"
  ok build -t m:1 "$CTX"
  expect "hits after changing a bound file" "$(cached)" 0
  no_leftovers
}

t_context_stdin_and_onbuild() {
  mkdir -p "$W/tarctx"
  echo payload >"$W/tarctx/p.txt"
  printf 'FROM busybox\nONBUILD COPY p.txt /from-trigger.txt\nONBUILD RUN echo triggered > /t.txt\n' \
    >"$W/tarctx/Dockerfile"
  OUT=$(tar -C "$W/tarctx" -cf - . | "$BERTH" --root "$ROOT" --runroot "$RUN" build -t onb:base - 2>"$W/err") ||
    fail "build from stdin: $(cat "$W/err")"
  ok image inspect --format '{{json .Config.OnBuild}}' onb:base
  grep -q 'RUN echo triggered' <<<"$OUT" || fail "OnBuild not recorded: $OUT"
  printf 'FROM onb:base\n' >"$W/tarctx/Dockerfile"
  OUT=$(tar -C "$W/tarctx" -cf - . | "$BERTH" --root "$ROOT" --runroot "$RUN" build -t onb:child - 2>"$W/err") ||
    fail "child build: $(cat "$W/err")"
  ok run --rm onb:child cat /from-trigger.txt /t.txt
  expect "triggers ran" "$OUT" "payload
triggered"
  ok image inspect --format '{{json .Config.OnBuild}}' onb:child
  expect "triggers not inherited" "$OUT" "null"
  no_leftovers
}

t_add_url_and_stdin_dockerfile() {
  mkdir -p "$W/www"
  echo downloaded >"$W/www/file.txt"
  # A loopback HTTP server on a port of the kernel's choosing.
  python3 - "$W/www" "$W/port" <<'EOF' &
import functools, http.server, sys
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
handler.log_message = lambda *a: None
srv = http.server.HTTPServer(("127.0.0.1", 0), handler)
open(sys.argv[2], "w").write(str(srv.server_port))
srv.serve_forever()
EOF
  SERVER_PID=$!
  local i
  # Global: the trap runs after this function's locals are gone (set -u).
  trap 'RC=$?; kill "$SERVER_PID" 2>/dev/null; cleanup; exit $RC' EXIT
  for i in $(seq 50); do [ -s "$W/port" ] && break; sleep 0.1; done
  local url="http://127.0.0.1:$(cat "$W/port")"
  printf 'FROM busybox\nADD %s/file.txt /dl/\nADD %s/file.txt /named.txt\n' "$url" "$url" >"$W/df"
  OUT=$("$BERTH" --root "$ROOT" --runroot "$RUN" build -f - -t url:1 "$CTX" <"$W/df" 2>"$W/err") ||
    fail "ADD URL with -f -: $(cat "$W/err")"
  ok run --rm url:1 sh -c 'cat /dl/file.txt /named.txt; stat -c %a /dl/file.txt'
  expect "downloads" "$OUT" "downloaded
downloaded
600"
  printf 'FROM busybox\nADD %s/missing.txt /x\n' "$url" >"$CTX/Dockerfile"
  bad 'missing.txt.*404' build "$CTX"
  kill "$SERVER_PID"
  no_leftovers
}

t_copy_details() {
  echo a >"$CTX/a.txt"
  ln -s a.txt "$CTX/link.txt"
  dockerfile <<'EOF'
FROM busybox
ARG UID=1000
ARG MODE=0750
COPY --chown=$UID:$UID --chmod=$MODE a.txt /deep/x/y/
COPY link.txt /dst/
COPY link.txt /named
EOF
  ok build -t cd:1 "$CTX"
  ok run --rm cd:1 sh -c 'stat -c "%n %u %a" /deep /deep/x /deep/x/y /deep/x/y/a.txt; cat /dst/link.txt /named; ls /dst'
  expect "copy details" "$OUT" "/deep 1000 755
/deep/x 1000 755
/deep/x/y 1000 755
/deep/x/y/a.txt 1000 750
a
a
link.txt"
  no_leftovers
}

case $NAME in
  all) for t in $(declare -F | awk '{print $3}' | grep '^t_'); do log "== $t"; ( NAME=${t#t_}; $t ) || exit 1; done ;;
  *) declare -F "t_$NAME" >/dev/null || fail "no test $NAME"; "t_$NAME" ;;
esac
log "PASS $NAME"
