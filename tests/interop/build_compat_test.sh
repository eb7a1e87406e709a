#!/usr/bin/env bash
# build_compat_test.sh BERTH NAME - `berth build` against `buildah bud --layers` on the
# Dockerfiles of tests/interop/build/, plus negative and security cases of `berth build`.
# One test per t_NAME function; CTest runs each as interop_build_compat_NAME.
#
# Each compatibility test builds its Dockerfile(s) with both tools from the same busybox
# image (scripts/make-busybox-tree.sh, imported into berth, saved with `berth save` and
# pulled into buildah's store from that docker-archive, so both start from the same image
# id), then compares:
#   (a) the root filesystems: `berth save` and `buildah push IMG docker-archive:F`, each
#       archive's layers applied in order (whiteouts honoured) by build/compare.py; per path
#       the type, mode, uid, gid, content (sha256) and symlink target; mtimes ignored;
#   (b) the config: Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Labels, Volumes,
#       StopSignal, Healthcheck, Shell, OnBuild of `berth image inspect` against `buildah
#       inspect --type image` (buildah builds with --format docker, which keeps Healthcheck
#       and Shell: the OCI format has neither).
# Every difference is printed and fails the test, except buildah quirks that docker does not
# share, each ignored with a comment saying why (build/compare.py: RUN mount stubs, unused
# WORKDIRs, VOLUME directories, the io.buildah.version label; --docker uses below). buildah
# 1.28 has no heredocs: t_heredoc gives it heredoc/Dockerfile.equiv, the same image written
# without them. Some tests also check docker's documented result on berth's image alone.
#
# Negative and security tests (berth only; buildah's outcome logged for the record):
# t_copy_outside (COPY/ADD of paths outside the context), t_symlink_context (context
# symlinks to host files), t_add_malicious_tar (ADD of tarballs that try to write outside
# the image), t_run_fails (failing RUN steps leave no mounts, snapshots or containers),
# t_interrupted (SIGINT/SIGTERM during a RUN step).
#
# buildah's RUN steps: this host's cgroups are hybrid and crun (buildah's default runtime)
# refuses them ("cgroups in hybrid mode not supported"), so buildah runs RUN steps with
# `--runtime runc` (OCI isolation, as docker's builder). `--isolation chroot` also works.
#
# Stores (kept between runs: the base image is imported once):
#   berth   --root /var/tmp/berth-build-compat/berth --runroot /run/berth-build-compat
#   buildah --root /var/tmp/berth-build-compat/containers
#           --runroot /run/berth-build-compat-containers --storage-driver overlay
# Work files: /var/tmp/berth-build-compat/work-NAME (removed unless BERTH_KEEP=1). The images
# a test builds are removed afterwards. Exit 0 pass, 1 fail, 77 skip (buildah missing).
set -uo pipefail

BERTH=${1:?usage: build_compat_test.sh BERTH NAME}
NAME=${2:?usage: build_compat_test.sh BERTH NAME}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CASES=$SRC/tests/interop/build
CMP=$CASES/compare.py
BASE=/var/tmp/berth-build-compat
BROOT=$BASE/berth BRUN=/run/berth-build-compat
CROOT=$BASE/containers CRUN=/run/berth-build-compat-containers
W=$BASE/work-$NAME
B=("$BERTH" --root "$BROOT" --runroot "$BRUN")
BA=(buildah --root "$CROOT" --runroot "$CRUN" --storage-driver overlay)
# --pull=never: the base image is local (localhost/busybox); --format docker: keeps
# HEALTHCHECK, SHELL (docker's image format, as `docker build`)
BUD=(bud --layers --format docker --runtime runc --pull=never)
FROM_IMAGE=localhost/busybox:latest
DIFFS=()

log() { printf '[build-compat] %s\n' "$*" >&2; }
fail() { printf '[build-compat] FAIL (%s): %s\n' "$NAME" "$*" >&2; exit 1; }
skip() { printf '[build-compat] SKIP: %s\n' "$*" >&2; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root"
for t in buildah runc python3 sha256sum flock busybox; do
  command -v "$t" >/dev/null 2>&1 || skip "\`$t\` not found (scripts/install-deps.sh installs it)"
done
[ -x "$BERTH" ] || fail "no berth binary at $BERTH"

fn=t_$NAME
TAGS=()
cleanup() {
  local t
  for t in "${TAGS[@]}"; do
    "${B[@]}" rmi -f "compat-$t:latest" >/dev/null 2>&1
    "${BA[@]}" rmi -f "localhost/compat-$t:latest" >/dev/null 2>&1
  done
  "${BA[@]}" rm -a >/dev/null 2>&1
  # buildah --layers keeps every step as an image; they go with the tags above
  "${BA[@]}" rmi --prune >/dev/null 2>&1
  "${B[@]}" builder prune -f >/dev/null 2>&1
  "${B[@]}" system prune -f >/dev/null 2>&1
  if grep -qE " ($BROOT|$BRUN)/" /proc/self/mountinfo; then
    log "berth mounts left:"; grep -E " ($BROOT|$BRUN)/" /proc/self/mountinfo >&2
    [ "${RC:-0}" = 0 ] && RC=1
  fi
  [ "${BERTH_KEEP:-0}" = 1 ] && { log "kept $W"; return; }
  rm -rf -- "$W"
}

# ---------------------------------------------------------------- the base image
# localhost/busybox:latest in both stores, the same image id. Made once; a lock serialises
# concurrent first runs.
setup_base() {
  mkdir -p "$BASE" "$BRUN" "$CRUN"
  exec 9>"$BASE/.setup.lock"
  flock 9
  "$SRC/scripts/make-busybox-image.sh" "$BERTH" "$FROM_IMAGE" --root "$BROOT" --runroot "$BRUN" >/dev/null ||
    fail "could not import the busybox image into berth"
  local id cid
  id=$("${B[@]}" image inspect -f '{{.Id}}' "$FROM_IMAGE") || fail "berth image inspect $FROM_IMAGE"
  cid=$("${BA[@]}" inspect --type image -f '{{.FromImageID}}' "$FROM_IMAGE" 2>/dev/null || true)
  if [ "sha256:$cid" != "$id" ] || [ ! -s "$BASE/base.tar" ]; then
    log "importing $FROM_IMAGE (${id:7:12}) into buildah's store"
    "${B[@]}" save -o "$BASE/base.tar.tmp" "$FROM_IMAGE" || fail "berth save $FROM_IMAGE"
    mv "$BASE/base.tar.tmp" "$BASE/base.tar"
    "${BA[@]}" rmi -f "$FROM_IMAGE" >/dev/null 2>&1
    "${BA[@]}" pull -q "docker-archive:$BASE/base.tar" >"$BASE/pull.out" 2>&1 ||
      fail "buildah pull docker-archive: $(cat "$BASE/pull.out")"
    "${BA[@]}" tag "$(tail -n 1 "$BASE/pull.out")" "$FROM_IMAGE" || fail "buildah tag"
    cid=$("${BA[@]}" inspect --type image -f '{{.FromImageID}}' "$FROM_IMAGE")
    [ "sha256:$cid" = "$id" ] || fail "buildah's copy of $FROM_IMAGE has id $cid, berth's $id"
  fi
  flock -u 9
}

# ---------------------------------------------------------------- helpers
# b ARGS...: berth on the private store; OUT/ERR/RCODE hold the result.
b() {
  OUT=$("${B[@]}" "$@" 2>"$W/err") && RCODE=0 || RCODE=$?
  ERR=$(cat "$W/err")
}

# context CASE: a copy of tests/interop/build/CASE in $W/ctx-CASE with modes that do not
# depend on the checkout's umask (directories 0755, files 0644, *.sh 0755, owner root),
# then what a case needs made at run time. Sets CTX.
context() {
  CTX=$W/ctx-$1
  [ -d "$CTX" ] && return 0
  cp -a "$CASES/$1" "$CTX" || fail "copy of the $1 context"
  chown -R 0:0 "$CTX"
  find "$CTX" -type d -exec chmod 0755 {} +
  find "$CTX" -type f -exec chmod 0644 {} +
  find "$CTX" -type f -name '*.sh' -exec chmod 0755 {} +
  case $1 in
    heredoc)
      # COPY <<EOF makes files of mode 0664 (BuildKit); the equivalent context files too
      chmod 0664 "$CTX/copied.txt" "$CTX/literal.txt" "$CTX/tabs.txt"
      chmod 0755 "$CTX/hd-script" ;;
    addtar)
      python3 "$CMP" tar "$CTX/bundle.tar.gz" bundle || fail "making bundle.tar.gz"
      python3 "$CMP" tar "$CTX/plain.tar" plain || fail "making plain.tar" ;;
  esac
}

# compat TAG CASE [-f DOCKERFILE] [--buildah-file DOCKERFILE] [--docker FIELD=JSON]
#        [BUILD ARGS...]: builds CASE's context with berth (DOCKERFILE, default Dockerfile)
# and buildah (the --buildah-file, default the same), compares the results; differences go
# to DIFFS. --docker: compare berth's config FIELD with this value (docker's) instead of
# buildah's, for a buildah quirk named where it is used.
compat() {
  local tag=$1 case=$2; shift 2
  local bfile=Dockerfile cfile='' args=() docker=()
  while [ $# -gt 0 ]; do
    case $1 in
      -f) bfile=$2; shift 2 ;;
      --buildah-file) cfile=$2; shift 2 ;;
      --docker) docker+=(--docker "$2"); shift 2 ;;
      *) args+=("$1"); shift ;;
    esac
  done
  [ -n "$cfile" ] || cfile=$bfile
  context "$case"
  TAGS+=("$tag")
  local out=$W/$tag
  log "$tag: berth build -f $bfile ${args[*]}"
  "${B[@]}" build -t "compat-$tag:latest" -f "$CTX/$bfile" "${args[@]}" "$CTX" >"$out.berth.log" 2>&1 ||
    { DIFFS+=("$tag: berth build failed: $(tail -n 5 "$out.berth.log")"); return; }
  log "$tag: buildah ${BUD[*]} -f $cfile ${args[*]}"
  "${BA[@]}" "${BUD[@]}" -t "localhost/compat-$tag:latest" -f "$CTX/$cfile" "${args[@]}" "$CTX" >"$out.buildah.log" 2>&1 ||
    { DIFFS+=("$tag: buildah bud failed: $(tail -n 5 "$out.buildah.log")"); return; }
  "${B[@]}" save -o "$out.berth.tar" "compat-$tag:latest" || fail "berth save compat-$tag"
  "${BA[@]}" push -q "localhost/compat-$tag:latest" "docker-archive:$out.buildah.tar" >/dev/null 2>"$out.push.err" ||
    fail "buildah push compat-$tag: $(cat "$out.push.err")"
  "${B[@]}" image inspect "compat-$tag:latest" >"$out.berth.json" || fail "berth image inspect compat-$tag"
  "${BA[@]}" inspect --type image "localhost/compat-$tag:latest" >"$out.buildah.json" || fail "buildah inspect compat-$tag"
  local r cfg=()
  # the WORKDIR and VOLUMEs of the image, for compare.py's buildah quirks
  mapfile -t cfg < <(python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))[0]["Config"]
print("--workdir"); print(c.get("WorkingDir") or "")
for v in sorted(c.get("Volumes") or {}): print("--volume"); print(v)' "$out.berth.json")
  r=$(python3 "$CMP" trees "$out.berth.tar" "$out.buildah.tar" --base "$BASE/base.tar" "${cfg[@]}" 2>&1) ||
    DIFFS+=("$tag (file tree):"$'\n'"$r")
  printf '%s\n' "$r" | sed "s/^/[$tag] /" >&2
  r=$(python3 "$CMP" config "$out.berth.json" "$out.buildah.json" "${docker[@]}" 2>&1) ||
    DIFFS+=("$tag (config):"$'\n'"$r")
  printf '%s\n' "$r" | sed "s/^/[$tag] /" >&2
}

# entry TAG PATH: one path of berth's image as JSON (compare.py entry); `"no image"` when
# berth's build failed (already a difference)
entry() {
  if [ -f "$W/$1.berth.tar" ]; then python3 "$CMP" entry "$W/$1.berth.tar" "$2"; else echo '"no image"'; fi
}
# expect_text TAG PATH TEXT: the file's content in berth's image
expect_text() {
  [ -f "$W/$1.berth.tar" ] || return 0
  local got
  got=$(entry "$1" "$2" | python3 -c 'import json,sys; e=json.load(sys.stdin); print(json.dumps(e and e.get("text")))')
  local want; want=$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$3")
  [ "$got" = "$want" ] || DIFFS+=("$1: $2 holds $got, expected $want")
}

finish() {
  if [ ${#DIFFS[@]} -gt 0 ]; then
    printf '[build-compat] %s: %d difference(s):\n' "$NAME" "${#DIFFS[@]}" >&2
    printf '%s\n' "${DIFFS[@]}" | sed 's/^/    /' >&2
    fail "berth and buildah (or the expectation) differ"
  fi
}

# no_build_leftovers: nothing of a build left behind in berth's stores
no_build_leftovers() {
  if grep -qE " ($BROOT|$BRUN)/" /proc/self/mountinfo; then
    fail "mounts left under the berth store: $(grep -E " ($BROOT|$BRUN)/" /proc/self/mountinfo)"
  fi
  local d
  for d in "$BROOT/build" "$BRUN/build"; do
    [ -z "$(ls -A "$d" 2>/dev/null)" ] || fail "leftovers in $d: $(ls -A "$d")"
  done
  local state='' e
  for e in "$BRUN"/runtime/* "$BRUN"/runtime/.[!.]*; do
    [ -e "$e" ] && [ "${e##*/}" != @cache ] && state+="${e##*/} "
  done
  [ -z "$state" ] || fail "container state left in $BRUN/runtime: $state"
  b ps -aq
  [ -z "$OUT" ] || fail "containers left: $OUT"
}

# ---------------------------------------------------------------- compatibility tests

t_single() {
  local start; start=$(date -u +%s)
  compat single single
  expect_text single srv/app/built.txt $'built\n'
  # the image's creation time is the build's (docker and buildah), not the base image's
  if [ -f "$W/single.berth.json" ]; then
    local created; created=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["Created"])' "$W/single.berth.json")
    [ "$(date -u -d "$created" +%s)" -ge "$start" ] ||
      DIFFS+=("single: the image's Created is $created, before the build started ($(date -u -d "@$start" +%FT%TZ)); buildah: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Docker"]["created"])' "$W/single.buildah.json")")
  fi
  if [ -f "$W/single.berth.tar" ]; then
    b run --rm compat-single
    [ "$RCODE" = 0 ] && [ "$OUT" = "app from /srv/app" ] || DIFFS+=("single: berth run printed \`$OUT\` ($RCODE): $ERR")
  fi
  finish
}

t_multistage() {
  compat ms-builder multistage --target builder
  compat ms-final multistage --target final
  compat ms-default multistage
  expect_text ms-final app/out.bin $'main source\nmain source\n'
  expect_text ms-final from-index.txt $'base\n'
  [ "$(entry ms-final debug.txt)" = null ] || DIFFS+=("ms-final: /debug.txt of the later stage is in the image")
  finish
}

t_heredoc() {
  compat heredoc heredoc --buildah-file Dockerfile.equiv
  expect_text heredoc hd/run1.txt $'first line\nsecond world\n'
  expect_text heredoc hd/literal.txt $'hello ${NAME}\n'
  expect_text heredoc hd/copied.txt $'copied heredoc\nhello world\n'
  compat heredoc-arg heredoc --buildah-file Dockerfile.equiv --build-arg NAME=world
  finish
}

t_args() {
  compat args-default args
  compat args-cli args --build-arg VERSION=2.5 --build-arg FROMCLI=from-cli --build-arg UNSET=now-set
  expect_text args-cli args/version $'2.5\n'
  expect_text args-cli args/fromcli $'from-cli\n'
  expect_text args-default args/shadow $'from-env\n'
  expect_text args-default args/ab $'second first\n'
  finish
}

t_user_workdir() {
  compat userdir userdir
  expect_text userdir work/pwd.txt $'/work/sub/deeper\n'
  expect_text userdir tmp/where.txt $'/home/berth/project\n'
  finish
}

t_dockerignore() {
  compat dockerignore dockerignore
  local p want
  for p in ctx/keep.log ctx/docs/README.md ctx/docs/notes.txt ctx/src/main.c ctx/src/sub/ab.txt \
           ctx/src/sub/generated/wanted.txt ctx/Dockerfile ctx/.dockerignore; do
    [ "$(entry dockerignore "$p")" != null ] || DIFFS+=("dockerignore: /$p missing (it is not excluded)")
  done
  for p in ctx/app.log ctx/top.tmp ctx/src/deep.tmp ctx/secrets ctx/docs/other.md ctx/src/sub/a.txt \
           ctx/src/sub/generated/x.c ctx/src/generated ctx/build-output; do
    [ "$(entry dockerignore "$p")" = null ] || DIFFS+=("dockerignore: /$p copied (it is excluded)")
  done
  finish
}

t_copy_options() {
  compat copyopts copyopts
  finish
}

t_add_archive() {
  compat addtar addtar
  [ ! -f "$W/addtar.berth.tar" ] ||
    [ "$(entry addtar opt/fake/fake.tar.gz | python3 -c 'import json,sys; e=json.load(sys.stdin); print(e and e["type"])')" = file ] ||
    DIFFS+=("addtar: /opt/fake/fake.tar.gz is not the file itself")
  expect_text addtar opt/merge/existing.txt $'existing\n'
  finish
}

t_config() {
  compat config config
  compat config-port config --build-arg PORT=7000
  finish
}

t_entrypoint_cmd() {
  local s
  for s in exec-form shell-form cmd-after-entrypoint cleared; do
    compat "ep-$s" entrypoint --target "$s"
  done
  # buildah 1.28 writes a shell-form CMD as ["/bin/sh", "-c", ...] whatever SHELL says; the
  # Dockerfile reference: SHELL sets the shell of the shell form of RUN, CMD and ENTRYPOINT
  compat ep-custom-shell entrypoint --target custom-shell \
    --docker 'Cmd=["/bin/busybox", "sh", "-c", "echo with custom shell"]'
  finish
}

# The build cache: a second build reuses every step (same image id); changing the content of
# a file a COPY copies reruns that COPY and what follows, not what precedes it.
t_cache() {
  context single
  TAGS+=(cache)
  b build -t compat-cache "$CTX"; [ "$RCODE" = 0 ] || fail "first build: $ERR"
  local id1=${OUT##*$'\n'}
  b build -t compat-cache "$CTX"; [ "$RCODE" = 0 ] || fail "second build: $ERR"
  local id2=${OUT##*$'\n'}
  [ "$id1" = "$id2" ] || fail "an unchanged rebuild made a new image: $id1 then $id2"
  grep -q "Using cache" <<<"$OUT" || fail "the rebuild did not say it used the cache: $OUT"
  echo 'level=debug' >"$CTX/conf/app.conf"
  b build -t compat-cache "$CTX"; [ "$RCODE" = 0 ] || fail "third build: $ERR"
  local id3=${OUT##*$'\n'}
  [ "$id3" != "$id1" ] || fail "a changed COPY source gave the same image"
  local n; n=$(grep -c "Using cache" <<<"$OUT")
  [ "$n" = 2 ] || fail "expected the 2 steps before the changed COPY from the cache, got $n: $OUT"
  b run --rm compat-cache cat /srv/app/conf/app.conf
  [ "$OUT" = level=debug ] || fail "the rebuilt image has app.conf \`$OUT\`"
}

# ---------------------------------------------------------------- negative and security tests

# COPY/ADD of a path outside the context: an error naming the path, non-zero exit, nothing
# from outside in any image. docker resolves such paths inside the context (`../x` is `x`
# at its root), so they are "not found" there.
t_copy_outside() {
  local ctx=$W/outside-ctx
  mkdir -p "$ctx"
  echo 'outside the context' >"$W/outside"
  local df src
  for src in ../outside ../../outside /etc/passwd ../../../../../../../../etc/passwd; do
    for df in COPY ADD; do
      printf 'FROM %s\n%s %s /x\n' "$FROM_IMAGE" "$df" "$src" >"$ctx/Dockerfile"
      b build -t compat-outside "$ctx"
      if [ "$RCODE" = 0 ]; then
        TAGS+=(outside)
        b run --rm compat-outside cat /x
        fail "$df $src succeeded (the image's /x: \`$OUT\`)"
      fi
      local base=${src##*/}
      grep -q -- "$base" <<<"$ERR" || fail "$df $src: the error does not name the path: $ERR"
      log "$df $src: exit $RCODE: $(tail -n 1 <<<"$ERR")"
    done
  done
  no_build_leftovers
}

# Symlinks in the context that point at host files: COPY of the link itself resolves it
# inside the context (here to the context's own etc/passwd) or refuses; COPY of a directory
# copies links as links. The host's /etc/passwd never lands in the image.
t_symlink_context() {
  local ctx=$W/ctx-symlink
  mkdir -p "$ctx/dir" "$ctx/etc"
  echo 'context passwd' >"$ctx/etc/passwd"
  ln -s /etc/passwd "$ctx/link"
  ln -s ../../../../../../../../etc/passwd "$ctx/rel-link"
  ln -s /etc/passwd "$ctx/dir/link"
  ln -s /etc "$ctx/dir/etc-link"
  cat >"$ctx/Dockerfile" <<EOF
FROM $FROM_IMAGE
COPY dir /copied-dir
COPY dir/ /copied-dir-slash/
COPY link /copied-link
COPY rel-link /copied-rel-link
COPY dir/etc-link/passwd /through-dir-link
EOF
  local host r; host=$(sha256sum /etc/passwd | cut -d' ' -f1)
  local want; want=$(sha256sum "$ctx/etc/passwd" | cut -d' ' -f1)
  TAGS+=(symlink)
  b build -t compat-symlink:latest "$ctx"
  if [ "$RCODE" != 0 ]; then
    log "berth refused the links: $ERR"
    grep -qi "link\|passwd" <<<"$ERR" || fail "the refusal does not name the link: $ERR"
    no_build_leftovers
    return 0
  fi
  "${B[@]}" save -o "$W/symlink.berth.tar" compat-symlink:latest || fail "berth save"
  local p e
  for p in copied-dir/link copied-dir-slash/link; do
    e=$(python3 "$CMP" entry "$W/symlink.berth.tar" "$p")
    python3 -c 'import json,sys; e=json.loads(sys.argv[1]); sys.exit(0 if e and e["type"]=="symlink" and e["link"]=="/etc/passwd" else 1)' "$e" ||
      DIFFS+=("symlink: /$p should be the link itself (-> /etc/passwd), is $e")
  done
  for p in copied-link copied-rel-link through-dir-link; do
    e=$(python3 "$CMP" entry "$W/symlink.berth.tar" "$p")
    python3 -c 'import json,sys; e=json.loads(sys.argv[1]); sys.exit(0 if e and e.get("sha256")!=sys.argv[2] else 1)' "$e" "$host" ||
      fail "/$p holds the HOST's /etc/passwd: $e"
    python3 -c 'import json,sys; e=json.loads(sys.argv[1]); sys.exit(0 if e and (e.get("sha256")==sys.argv[2] or e["type"]=="symlink") else 1)' "$e" "$want" ||
      DIFFS+=("symlink: /$p is neither the context's etc/passwd nor a link: $e")
  done
  # and what buildah makes of it, compared as the other builds
  if "${BA[@]}" "${BUD[@]}" -t localhost/compat-symlink:latest "$ctx" >"$W/symlink.buildah.log" 2>&1 &&
     "${BA[@]}" push -q localhost/compat-symlink:latest "docker-archive:$W/symlink.buildah.tar" >/dev/null 2>&1; then
    r=$(python3 "$CMP" trees "$W/symlink.berth.tar" "$W/symlink.buildah.tar" --base "$BASE/base.tar" 2>&1) ||
      DIFFS+=("symlink (file tree):"$'\n'"$r")
    printf '%s\n' "$r" | sed 's/^/[symlink] /' >&2
  else
    log "buildah could not build it: $(tail -n 3 "$W/symlink.buildah.log")"
  fi
  finish
}

# ADD of hostile .tar.gz files, one way out each: `../..` names, many `../` to /tmp, an
# absolute name, a symlink to a host directory then a file through it, a relative symlink
# climbing out then a file through it, a hard link to the host's /etc/passwd. Each build may
# fail or keep the entry inside the image; nothing is ever written on the host.
t_add_malicious_tar() {
  local ctx=$W/ctx-evil marker=berth-evil-$$-$RANDOM
  local hostdir=$W/hostdir
  mkdir -p "$ctx" "$hostdir"
  printf 'FROM %s\nADD evil.tar.gz /opt/evil/\n' "$FROM_IMAGE" >"$ctx/Dockerfile"
  local passwd_sum passwd_links
  passwd_sum=$(sha256sum /etc/passwd | cut -d' ' -f1); passwd_links=$(stat -c %h /etc/passwd)
  TAGS+=(evil)
  local kind e found
  for kind in dotdot deep abs symlink relsymlink hardlink; do
    python3 "$CMP" tar "$ctx/evil.tar.gz" "escape-$kind" "$marker" "$hostdir" || fail "making the $kind tar"
    b build -t compat-evil:latest "$ctx"
    log "berth ADD of the $kind tar: exit $RCODE; $(tail -n 1 <<<"$ERR")"
    # nothing on the host: the symlinked directory stays empty, no marker outside berth's
    # layer directories (where an entry kept inside the image legitimately lands)
    [ -z "$(ls -A "$hostdir")" ] || fail "$kind: written through a symlink into the host directory: $(ls -A "$hostdir")"
    found=$(find / -xdev \( -path /proc -o -path /sys \) -prune -o -name "$marker*" -print 2>/dev/null;
            find /tmp /run /var/tmp "$BASE" -name "$marker*" -print 2>/dev/null)
    # (buildah's image of the previous round keeps its entries in its own layer directories)
    found=$(sort -u <<<"$found" | grep -Ev "^($BROOT/layers/[0-9a-f]{64}|$CROOT/overlay/[0-9a-f]{64}/diff)/" | grep -v '^$')
    [ -z "$found" ] || fail "$kind: files of the hostile tar outside the image: $found"
    [ "$(sha256sum /etc/passwd | cut -d' ' -f1)" = "$passwd_sum" ] || fail "$kind: /etc/passwd changed"
    [ "$(stat -c %h /etc/passwd)" = "$passwd_links" ] || fail "$kind: /etc/passwd gained a hard link"
    if [ "$RCODE" = 0 ]; then
      "${B[@]}" save -o "$W/evil.berth.tar" compat-evil:latest || fail "berth save"
      python3 "$CMP" list "$W/evil.berth.tar" | grep -E "$marker|opt/evil/" | sed "s/^/    $kind: /" >&2
      e=$(python3 "$CMP" list "$W/evil.berth.tar" | grep -F "$passwd_sum" || true)
      [ -z "$e" ] || fail "$kind: the image holds the host's /etc/passwd: $e"
    else
      grep -qF "$marker" <<<"$ERR" || fail "$kind: the refusal does not name the entry: $ERR"
    fi
    # buildah, for the record
    if "${BA[@]}" "${BUD[@]}" -t localhost/compat-evil:latest "$ctx" >"$W/evil.buildah.log" 2>&1; then
      log "buildah ADD of the $kind tar: built"
    else
      log "buildah ADD of the $kind tar: refused: $(tail -n 1 "$W/evil.buildah.log" | cut -c1-200)"
    fi
    [ -z "$(ls -A "$hostdir")" ] || { log "(buildah wrote into $hostdir: $(ls -A "$hostdir"))"; rm -rf -- "${hostdir:?}"/*; }
    rm -f -- /tmp/"$marker"* 2>/dev/null
    no_build_leftovers
  done
}

# A failing RUN: non-zero exit, the message names the exit code, and nothing of the build
# stays behind (mounts, snapshot directories, containers, runtime state).
t_run_fails() {
  local ctx=$W/ctx-fail
  mkdir -p "$ctx"
  printf 'FROM %s\nRUN echo before > /before\nRUN exit 3\nRUN echo never > /never\n' "$FROM_IMAGE" >"$ctx/Dockerfile"
  TAGS+=(fail)
  b build -t compat-fail "$ctx"
  [ "$RCODE" != 0 ] || fail "a build with RUN exit 3 succeeded"
  grep -qE '(exit|exited|status|code)[^0-9]{0,12}3([^0-9]|$)' <<<"$ERR$OUT" ||
    fail "the error does not mention exit code 3: $ERR"
  log "RUN exit 3: exit $RCODE: $(tail -n 1 <<<"$ERR")"
  b image inspect compat-fail
  [ "$RCODE" != 0 ] || fail "an image was tagged after the failed build"
  no_build_leftovers
  # a RUN whose shell's child is killed by SIGKILL (the shell itself is the step's pid 1,
  # which a signal from inside its pid namespace does not kill: exit 128+9), and one whose
  # command does not exist
  # (`&& true`: busybox sh would otherwise exec the inner sh, making it pid 1)
  printf 'FROM %s\nRUN sh -c '"'"'kill -9 $$'"'"' && true\n' "$FROM_IMAGE" >"$ctx/Dockerfile"
  b build -t compat-fail "$ctx"
  [ "$RCODE" != 0 ] || fail "a build whose RUN was killed succeeded"
  grep -q "137" <<<"$ERR$OUT" || fail "the error does not mention exit code 137: $ERR"
  log "RUN sh -c 'kill -9 \$\$': exit $RCODE: $(tail -n 1 <<<"$ERR")"
  no_build_leftovers
  printf 'FROM %s\nRUN ["/no/such/program"]\n' "$FROM_IMAGE" >"$ctx/Dockerfile"
  b build -t compat-fail "$ctx"
  [ "$RCODE" != 0 ] || fail "a build whose RUN program is missing succeeded"
  grep -q "/no/such/program" <<<"$ERR$OUT" || fail "the error does not name the missing program: $ERR"
  log "RUN missing program: exit $RCODE: $(tail -n 1 <<<"$ERR")"
  no_build_leftovers
}

# `berth build` interrupted during a RUN step (SIGINT as from a terminal's Ctrl-C, SIGTERM as
# from a supervisor or `timeout`): it stops without tagging an image and leaves nothing
# behind. (docker's CLI dies on either signal and BuildKit cancels the build; buildah exits
# at once.)
t_interrupted() {
  local ctx=$W/ctx-int sig pid t0
  mkdir -p "$ctx"
  printf 'FROM %s\nRUN echo started && sleep 20 && echo finished > /finished\n' "$FROM_IMAGE" >"$ctx/Dockerfile"
  TAGS+=(int)
  for sig in INT TERM; do
    # (a background job of a script starts with SIGINT ignored: give berth the default, as
    # a terminal's foreground job has)
    env --default-signal=INT,QUIT "${B[@]}" build --no-cache -t compat-int "$ctx" >"$W/int.out" 2>&1 &
    pid=$!
    t0=$SECONDS
    for _ in $(seq 100); do grep -q started "$W/int.out" && break; sleep 0.1; done
    grep -q started "$W/int.out" || fail "the RUN step did not start: $(cat "$W/int.out")"
    kill -"$sig" "$pid"
    wait "$pid"; RCODE=$?
    log "SIG$sig during RUN: exit $RCODE after $((SECONDS - t0)) s: $(tail -n 1 "$W/int.out")"
    if [ "$RCODE" = 0 ]; then
      DIFFS+=("SIG$sig to berth build during a RUN step: ignored; the step ran to its end ($((SECONDS - t0)) s) and the image was committed and tagged (exit 0)")
    fi
    [ $((SECONDS - t0)) -lt 15 ] || DIFFS+=("SIG$sig to berth build: took $((SECONDS - t0)) s to stop")
    b image inspect compat-int
    [ "$RCODE" != 0 ] || { DIFFS+=("SIG$sig: compat-int was tagged by the interrupted build"); "${B[@]}" rmi -f compat-int >/dev/null; }
    pgrep -f 'sleep 20' >/dev/null && DIFFS+=("SIG$sig: the step's process still runs: $(pgrep -af 'sleep 20')")
    no_build_leftovers
  done
  finish
}

declare -F "$fn" >/dev/null || { echo "build_compat_test.sh: no test \`$NAME\`" >&2; exit 2; }
trap 'RC=$?; cleanup; exit $RC' EXIT
rm -rf -- "$W"
mkdir -p "$W"
setup_base
"$fn"
log "PASS $NAME"
