#!/usr/bin/env bash
# registry_client_test.sh BERTH NAME - berth's registry client (pull, push, login) against
# Debian's docker-registry (the distribution reference server) and skopeo, on loopback.
# One test per t_NAME function; CTest runs each as interop_registry_client_NAME.
# t_debian_between_registries debootstraps a minimal Debian once (from apt's mirror) and keeps
# it in /var/tmp/berth-registry-test/debian-rootfs.
# Exit 0 pass, 1 fail, 77 skip (a peer is missing). Ports 5201-5219 on 127.0.0.1; state under
# /var/tmp/berth-registry-test/client-NAME (removed afterwards unless BERTH_KEEP=1).
set -uo pipefail

BERTH=${1:?usage: registry_client_test.sh BERTH NAME}
NAME=${2:?usage: registry_client_test.sh BERTH NAME}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
W=/var/tmp/berth-registry-test/client-$NAME
RUN=/run/berth-registry-test/client-$NAME
PIDS=()

log() { printf '[registry] %s\n' "$*" >&2; }
fail() { printf '[registry] FAIL (%s): %s\n' "$NAME" "$*" >&2; exit 1; }
skip() { printf '[registry] SKIP: %s\n' "$*" >&2; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root"
for t in docker-registry skopeo htpasswd openssl curl jq python3 sha256sum; do
  command -v "$t" >/dev/null 2>&1 || skip "\`$t\` not found (scripts/install-deps.sh installs it)"
done

cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for s in "$W"/store*; do
    [ -d "$s" ] && "$BERTH" --root "$s" --runroot "$RUN/$(basename "$s")" system prune -af >/dev/null 2>&1
  done
  if grep -q " $W/" /proc/self/mountinfo; then
    log "mounts left under $W:"; grep " $W/" /proc/self/mountinfo >&2
    [ "${RC:-0}" = 0 ] && RC=1
  fi
  [ "${BERTH_KEEP:-0}" = 1 ] || rm -rf -- "$W" "$RUN"
}
trap 'RC=$?; cleanup; exit $RC' EXIT
rm -rf -- "$W" "$RUN"
mkdir -p "$W" "$RUN"

# b STORE ARGS...: berth on a private store; OUT/ERR/RCODE hold the result.
b() {
  local s=$1; shift
  OUT=$("$BERTH" --root "$W/$s" --runroot "$RUN/$s" "$@" 2>"$W/err") && RCODE=0 || RCODE=$?
  ERR=$(cat "$W/err")
}
ok() { b "$@"; [ "$RCODE" = 0 ] || fail "berth $* exited $RCODE: $ERR"; }
bad() {  # bad PATTERN STORE ARGS...: must fail with PATTERN in stderr
  local pat=$1; shift
  b "$@"
  [ "$RCODE" != 0 ] || fail "berth $* succeeded, expected a failure"
  grep -qE -- "$pat" <<<"$ERR" || fail "berth $*: expected an error matching \`$pat\`, got: $ERR"
}

# registry PORT [htpasswd FILE] [tls CERT KEY]: starts docker-registry, sets REG.
registry() {
  local port=$1; shift
  local dir=$W/reg-$port auth='' tls=''
  mkdir -p "$dir/data"
  while [ $# -gt 0 ]; do
    case $1 in
      htpasswd) auth="auth:
  htpasswd:
    realm: berth-test
    path: $2"; shift 2 ;;
      tls) tls="  tls:
    certificate: $2
    key: $3"; shift 3 ;;
    esac
  done
  cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$tls
$auth
EOF
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  PIDS+=($!)
  REG=127.0.0.1:$port
  REGDATA=$dir/data/docker/registry/v2
  local i scheme=http
  [ -n "$tls" ] && scheme=https
  for i in $(seq 50); do
    curl -sk -o /dev/null "$scheme://$REG/v2/" && return 0
    sleep 0.1
  done
  cat "$dir/log" >&2
  fail "docker-registry on $REG did not start"
}

busybox() {  # busybox STORE NAME: a local busybox image in STORE
  "$SRC/scripts/make-busybox-image.sh" "$BERTH" "$2" --root "$W/$1" --runroot "$RUN/$1" >/dev/null ||
    fail "could not build the busybox image"
}

no_leftovers() {  # no_leftovers STORE: no temporary layers, no partial blobs, no image
  local s=$W/$1
  if ls "$s/layers" 2>/dev/null | grep -q '^\.tmp-'; then fail "temporary layer left in $s/layers"; fi
  if [ -d "$s/content/ingest" ] && [ -n "$(ls -A "$s/content/ingest")" ]; then
    fail "ingest files left: $(ls "$s/content/ingest")"
  fi
}

# ---------------------------------------------------------------- tests

t_push_pull_run() {
  registry 5201
  busybox src busybox:latest
  ok src tag busybox "$REG/test/busybox:1"
  ok src push "$REG/test/busybox:1"
  grep -q "digest: sha256:" <<<"$ERR" || fail "push printed no digest: $ERR"
  [ "$(curl -s "http://$REG/v2/test/busybox/tags/list" | jq -r '.tags[0]')" = 1 ] || fail "tag not in the registry"
  # the imported image's layer is a plain tar in the store: it goes out gzip-compressed
  local mt; mt=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REG/v2/test/busybox/manifests/1" | jq -r '.layers[0].mediaType')
  [[ $mt == *gzip ]] || fail "pushed layer media type $mt, expected gzip"
  ok src push --compression-format zstd busybox "$REG/test/zstd:1"
  ok src push --compression-format none busybox "$REG/test/plain:1"
  bad "compression-format" src push --compression-format lz4 busybox "$REG/test/x:1"
  ok src push "$REG/test/busybox:1"
  grep -q "Already exists" <<<"$ERR" || fail "second push uploaded again: $ERR"

  ok dst pull "$REG/test/busybox:1"
  [ "$OUT" = "$REG/test/busybox:1" ] || fail "pull printed \`$OUT\`"
  grep -q "Downloaded newer image" <<<"$ERR" || fail "pull status: $ERR"
  ok dst run --rm "$REG/test/busybox:1" echo pulled-and-ran
  [ "$OUT" = pulled-and-ran ] || fail "run printed \`$OUT\`"
  ok dst pull "$REG/test/busybox:1"
  grep -q "Image is up to date" <<<"$ERR" || fail "second pull: $ERR"
  # the same image id on both sides
  ok src image inspect -f '{{.Id}}' busybox; local a=$OUT
  ok dst image inspect -f '{{.Id}}' "$REG/test/busybox:1"
  [ "$a" = "$OUT" ] || fail "image id changed over push/pull: $a vs $OUT"
  # by digest
  local d; d=$(curl -s -I -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REG/v2/test/busybox/manifests/1" | tr -d '\r' | awk -F': ' 'tolower($1)=="docker-content-digest"{print $2}')
  ok dig pull -q "$REG/test/busybox@$d"
  ok dig pull -q "$REG/test/zstd:1"
  ok dig run --rm "$REG/test/zstd:1" true
  ok dig pull -q "$REG/test/plain:1"
  ok dig run --rm "$REG/test/busybox@$d" true
  # run --pull: missing pulls, never refuses, always pulls again
  ok runp run --rm "$REG/test/busybox:1" echo auto
  grep -q "Unable to find image" <<<"$ERR" || fail "run did not say it pulls: $ERR"
  bad "not found locally, and --pull never" never run --rm --pull never "$REG/test/busybox:1" true
  ok runp run --rm --pull always "$REG/test/busybox:1" true
  grep -q "Pulling from" <<<"$ERR" || fail "--pull always did not pull: $ERR"
  bad "manifest unknown|MANIFEST_UNKNOWN|NAME_UNKNOWN|not found" none pull "$REG/test/nosuch:1"
  no_leftovers dst
}

t_chunked_push_and_skopeo() {
  registry 5202
  busybox src busybox:latest
  ok src push --chunk-size 65536 busybox "$REG/chunked/busybox:c"
  # skopeo reads what berth pushed, and berth reads what skopeo pushed
  skopeo copy -q --src-tls-verify=false "docker://$REG/chunked/busybox:c" "oci:$W/layout:x" >/dev/null 2>"$W/sk" ||
    fail "skopeo could not copy berth's push: $(cat "$W/sk")"
  skopeo copy -q --dest-tls-verify=false "oci:$W/layout:x" "docker://$REG/from/skopeo:s" >/dev/null 2>"$W/sk" ||
    fail "skopeo push: $(cat "$W/sk")"
  ok dst pull "$REG/from/skopeo:s"
  ok dst run --rm "$REG/from/skopeo:s" echo via-skopeo
  [ "$OUT" = via-skopeo ] || fail "run printed \`$OUT\`"
  # cross-repository mount: the image has a name in `from/skopeo`; pushing it to a new
  # repository of the same registry mounts the blobs instead of uploading them
  ok dst tag "$REG/from/skopeo:s" "$REG/mounted/here:m"
  ok dst push "$REG/mounted/here:m"
  grep -q "Mounted" <<<"$ERR" || fail "no blob was mounted: $ERR"
  ok dst2 pull "$REG/mounted/here:m"
}

t_basic_auth_tls() {
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null ||
    fail "openssl could not make a certificate"
  htpasswd -Bbc "$W/htpasswd" alice s3cret 2>/dev/null || fail "htpasswd"
  registry 5203 htpasswd "$W/htpasswd" tls "$W/cert.pem" "$W/key.pem"
  mkdir -p "$W/certs" && cp "$W/cert.pem" "$W/certs/ca.crt"
  local A=(--authfile "$W/auth.json")
  busybox src busybox:latest
  ok src tag busybox "$REG/secure/busybox:1"
  # verification on: an unknown CA is refused, naming the problem
  bad "certificate" src push --tls-verify=true "${A[@]}" "$REG/secure/busybox:1"
  # no credentials
  bad "unauthorized|authentication|credentials" src push --tls-verify=true --cert-dir "$W/certs" "${A[@]}" "$REG/secure/busybox:1"
  # wrong password: login fails and stores nothing
  bad "unauthorized|rejected" src login --tls-verify=true --cert-dir "$W/certs" "${A[@]}" -u alice -p wrong "$REG"
  [ ! -s "$W/auth.json" ] || ! grep -q "$REG" "$W/auth.json" || fail "a failed login stored credentials"
  echo s3cret | "$BERTH" --root "$W/src" --runroot "$RUN/src" login --tls-verify=true --cert-dir "$W/certs" \
    "${A[@]}" -u alice --password-stdin "$REG" >"$W/out" 2>&1 || fail "login: $(cat "$W/out")"
  grep -q "Login Succeeded" "$W/out" || fail "login said: $(cat "$W/out")"
  [ "$(stat -c %a "$W/auth.json")" = 600 ] || fail "auth.json mode $(stat -c %a "$W/auth.json")"
  [ "$(jq -r ".auths[\"$REG\"].auth" "$W/auth.json" | base64 -d)" = alice:s3cret ] || fail "auth.json: $(cat "$W/auth.json")"
  ok src push --tls-verify=true --cert-dir "$W/certs" "${A[@]}" "$REG/secure/busybox:1"
  # skopeo reads the same auth.json
  skopeo inspect --cert-dir "$W/certs" --authfile "$W/auth.json" "docker://$REG/secure/busybox:1" >/dev/null 2>"$W/sk" ||
    fail "skopeo with berth's auth.json: $(cat "$W/sk")"
  ok dst pull --tls-verify=true --cert-dir "$W/certs" "${A[@]}" "$REG/secure/busybox:1"
  ok dst run --rm "$REG/secure/busybox:1" echo secure
  [ "$OUT" = secure ] || fail "run printed \`$OUT\`"
  # --creds instead of the file
  ok dst2 pull --cert-dir "$W/certs" --creds alice:s3cret --authfile "$W/none.json" "$REG/secure/busybox:1"
  ok src login --get-login "${A[@]}" "$REG"
  [ "$OUT" = alice ] || fail "--get-login printed \`$OUT\`"
  ok src logout "${A[@]}" "$REG"
  bad "not logged into" src logout "${A[@]}" "$REG"
  bad "unauthorized|authentication|credentials" dst3 pull --cert-dir "$W/certs" "${A[@]}" "$REG/secure/busybox:1"
  no_leftovers dst3
}

# A blob whose bytes do not match its digest is rejected; nothing becomes visible.
t_corrupt_blob() {
  registry 5204
  busybox src busybox:latest
  ok src push busybox "$REG/bad/busybox:1"
  ok src image inspect -f '{{index .RootFS.Layers 0}}' busybox
  local layer
  layer=$(curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
    -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
    "http://$REG/v2/bad/busybox/manifests/1" | jq -r '.layers[0].digest')
  local hex=${layer#sha256:}
  local f=$REGDATA/blobs/sha256/${hex:0:2}/$hex/data
  [ -f "$f" ] || fail "blob file $f not found"
  # flip one byte in the middle
  python3 - "$f" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) // 2] ^= 0xff
open(p, 'wb').write(b)
EOF
  bad "digest mismatch|invalid|corrupt|gzip stream|incorrect|truncated" dst pull "$REG/bad/busybox:1"
  grep -q "layer $layer" <<<"$ERR" || fail "the error does not name the layer: $ERR"
  ok dst images -q
  [ -z "$OUT" ] || fail "an image is visible after a failed pull: $OUT"
  no_leftovers dst
  [ -z "$(ls "$W/dst/layers" 2>/dev/null | grep -v '^\.')" ] || fail "a layer was kept: $(ls "$W/dst/layers")"
}

# upload BLOBFILE REPO: monolithic upload with curl; prints the digest
upload() {
  local d; d=sha256:$(sha256sum "$1" | cut -d' ' -f1)
  local loc; loc=$(curl -s -i -X POST "http://$REG/v2/$2/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
  case $loc in http*) ;; *) loc=http://$REG$loc ;; esac
  local sep='?'; [[ $loc == *\?* ]] && sep='&'
  curl -s -f -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$1" "$loc${sep}digest=$d" >/dev/null ||
    fail "upload of $1 failed"
  echo "$d"
}

# image_from_layer TARGZ REPO:TAG [SIZE_OVERRIDE]: pushes a one-layer image by hand.
image_from_layer() {
  local layer=$1 ref=$2 size_override=${3:-}
  local repo=${ref%%:*} tag=${ref##*:}
  local diff; diff=sha256:$(gzip -dc "$layer" | sha256sum | cut -d' ' -f1)
  local ld; ld=$(upload "$layer" "$repo")
  jq -n --arg d "$diff" '{architecture:"amd64",os:"linux",config:{Cmd:["/bin/sh"]},rootfs:{type:"layers",diff_ids:[$d]}}' >"$W/config.json"
  local cd; cd=$(upload "$W/config.json" "$repo")
  local lsize=${size_override:-$(stat -c %s "$layer")}
  jq -n --arg cd "$cd" --argjson cs "$(stat -c %s "$W/config.json")" --arg ld "$ld" --argjson ls "$lsize" \
    '{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
      config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$cd,size:$cs},
      layers:[{mediaType:"application/vnd.oci.image.layer.v1.tar+gzip",digest:$ld,size:$ls}]}' >"$W/manifest.json"
  curl -s -f -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
    --data-binary "@$W/manifest.json" "http://$REG/v2/$repo/manifests/$tag" >/dev/null || fail "manifest put failed"
}

# Layers that try to write outside their root are refused, naming the entry; nothing lands
# outside the store and no image appears.
t_malicious_layers() {
  registry 5205
  local target=$W/outside
  mkdir -p "$target"
  python3 - "$W" "$target" <<'EOF'
import io, sys, tarfile, gzip
w, target = sys.argv[1], sys.argv[2]
def make(name, entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as t:
        for e in entries:
            t.addfile(*e)
    open(f'{w}/{name}.tar.gz', 'wb').write(gzip.compress(buf.getvalue()))
def f(path, data=b'pwned\n'):
    i = tarfile.TarInfo(path); i.size = len(data); return (i, io.BytesIO(data))
def link(path, to, kind):
    i = tarfile.TarInfo(path); i.type = kind; i.linkname = to; return (i,)
make('dotdot', [f('../../../../../../..' + target + '/dotdot')])
make('absolute', [f(target + '/absolute')])
make('symlink', [link('esc', target, tarfile.SYMTYPE), f('esc/through-symlink')])
make('hardlink', [link('hl', target + '/victim', tarfile.LNKTYPE)])
EOF
  echo original >"$target/victim"
  local n
  for n in dotdot absolute symlink hardlink; do
    image_from_layer "$W/$n.tar.gz" "evil/$n:1"
    b dst pull "$REG/evil/$n:1"
    if [ "$n" = absolute ] || [ "$n" = symlink ]; then
      # an absolute path or a symlink is resolved inside the layer root: the pull may succeed,
      # but nothing may land outside the store
      :
    else
      [ "$RCODE" != 0 ] || fail "pull of the $n layer succeeded"
      grep -qiE "escape|outside|link|\.\." <<<"$ERR" || fail "$n: the error does not say why: $ERR"
    fi
  done
  [ "$(cat "$target/victim")" = original ] || fail "the host file was changed"
  [ -z "$(ls "$target" | grep -v '^victim$')" ] || fail "files written outside the store: $(ls "$target")"
  no_leftovers dst
}

# The manifest lies about a layer's size: too small (the registry sends more) and too big
# (it sends less). Both are refused.
t_lying_manifest() {
  registry 5206
  python3 - "$W" <<'EOF'
import io, sys, tarfile, gzip, os
w = sys.argv[1]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as t:
    data = os.urandom(200000)
    i = tarfile.TarInfo('file'); i.size = len(data); t.addfile(i, io.BytesIO(data))
open(f'{w}/l.tar.gz', 'wb').write(gzip.compress(buf.getvalue()))
EOF
  local size; size=$(stat -c %s "$W/l.tar.gz")
  image_from_layer "$W/l.tar.gz" "lie/small:1" $((size / 2))
  bad "more than|declares" dst pull "$REG/lie/small:1"
  image_from_layer "$W/l.tar.gz" "lie/big:1" $((size * 2))
  bad "declares|size" dst pull "$REG/lie/big:1"
  ok dst images -q
  [ -z "$OUT" ] || fail "an image is visible: $OUT"
  # an honest manifest of the same layer pulls fine
  image_from_layer "$W/l.tar.gz" "lie/honest:1"
  ok dst pull "$REG/lie/honest:1"
}

# A partial blob left by an interrupted pull is resumed with a Range request; a partial with
# wrong bytes is detected and dropped, and the next pull succeeds.
t_resume() {
  registry 5207
  python3 - "$W" <<'EOF'
import io, sys, tarfile, gzip, os
w = sys.argv[1]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as t:
    data = os.urandom(3 << 20)
    i = tarfile.TarInfo('big'); i.size = len(data); t.addfile(i, io.BytesIO(data))
open(f'{w}/l.tar.gz', 'wb').write(gzip.compress(buf.getvalue()))
EOF
  image_from_layer "$W/l.tar.gz" "resume/img:1"
  local d; d=$(sha256sum "$W/l.tar.gz" | cut -d' ' -f1)
  # the store exists (so its ingest directory does) before the partial is planted
  ok dst images
  mkdir -p "$W/dst/content/ingest"
  head -c 1000000 "$W/l.tar.gz" >"$W/dst/content/ingest/$d.partial"
  : >"$W/reg-5207/log"
  ok dst pull "$REG/resume/img:1"
  local big; big=$(ls "$W"/dst/layers/*/big)
  [ "$(stat -c %s "$big")" = $((3 << 20)) ] || fail "the resumed layer unpacked wrong: $(ls -l "$big")"
  grep -q "Downloading  1MB/" <<<"$ERR" || fail "the pull did not resume at 1 MB: $ERR"
  no_leftovers dst
  # a wrong prefix: the digest check fails, the partial goes, a retry works
  head -c 1000000 /dev/urandom >"$W/dst2-partial"
  ok dst2 images
  mkdir -p "$W/dst2/content/ingest"
  cp "$W/dst2-partial" "$W/dst2/content/ingest/$d.partial"
  bad "digest|invalid|archive|format|gzip" dst2 pull "$REG/resume/img:1"
  no_leftovers dst2
  ok dst2 pull "$REG/resume/img:1"
}

# A server that stops sending mid-body: the pull fails with a timeout (after
# BERTH_REGISTRY_TIMEOUT) and leaves a resumable partial blob, not a visible image.
t_slow_server() {
  python3 - "$W" <<'EOF' &
import http.server, sys, threading, socketserver
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path == '/v2/':
            self.send_response(200); self.send_header('Content-Length', '2'); self.end_headers(); self.wfile.write(b'{}'); return
        # a manifest that never finishes
        self.send_response(200)
        self.send_header('Content-Type', 'application/vnd.oci.image.manifest.v1+json')
        self.send_header('Content-Length', '1000')
        self.end_headers()
        self.wfile.write(b'{"schemaVersion":')
        self.wfile.flush()
        threading.Event().wait(60)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(('127.0.0.1', 5208), H).serve_forever()
EOF
  PIDS+=($!)
  local i; for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:5208/v2/ && break; sleep 0.1; done
  local t0=$SECONDS
  BERTH_REGISTRY_TIMEOUT=2 b dst pull 127.0.0.1:5208/slow/img:1
  [ "$RCODE" != 0 ] || fail "pull from a stalled server succeeded"
  grep -q "timed out" <<<"$ERR" || fail "the error does not say it timed out: $ERR"
  [ $((SECONDS - t0)) -lt 30 ] || fail "the timeout took $((SECONDS - t0)) s"
  no_leftovers dst
}

# registries.conf: short names from the search list in order, mirrors before the registry,
# blocked registries refused.
t_registries_conf() {
  registry 5209
  busybox src busybox:latest
  ok src push busybox "$REG/lib/busybox:1"
  cat >"$W/registries.conf" <<EOF
unqualified-search-registries = ["127.0.0.1:5211", "127.0.0.1:5209"]

[[registry]]
prefix = "example.invalid/team"
location = "example.invalid/team"
[[registry.mirror]]
location = "127.0.0.1:5209/lib"
insecure = true

[[registry]]
location = "blocked.invalid"
blocked = true
EOF
  export CONTAINERS_REGISTRIES_CONF=$W/registries.conf
  ok dst pull lib/busybox:1
  [ "$OUT" = "127.0.0.1:5209/lib/busybox:1" ] || fail "short name pulled as \`$OUT\`: $ERR"
  grep -q "127.0.0.1:5211" <<<"$ERR" || fail "the first search registry was not tried: $ERR"
  ok dst run --rm lib/busybox:1 echo short
  [ "$OUT" = short ] || fail "run by short name printed \`$OUT\`"
  if grep -q "Pulling" <<<"$ERR"; then fail "run pulled again: $ERR"; fi
  ok dst pull example.invalid/team/busybox:1
  [ "$OUT" = "example.invalid/team/busybox:1" ] || fail "mirrored pull named \`$OUT\`"
  grep -q "(mirror)" <<<"$ERR" || fail "the mirror was not used: $ERR"
  bad "blocked" dst pull blocked.invalid/x:1
  printf 'unqualified-search-registries = [\n' >"$W/broken.conf"
  CONTAINERS_REGISTRIES_CONF=$W/broken.conf bad "broken.conf" dst pull lib/busybox:2
  unset CONTAINERS_REGISTRIES_CONF
}

# The bearer-token flow: a token server in front of docker-registry (a small proxy that
# demands `Authorization: Bearer` tokens carrying the request's scope, issued by its /token
# endpoint to alice only). berth answers the challenges, asks for pull or pull,push scopes.
t_bearer_token() {
  registry 5213
  local backend=$REG
  python3 - "$backend" <<'EOF' &
import base64, http.client, http.server, json, re, socketserver, sys, urllib.parse
backend = sys.argv[1]
REALM = 'http://127.0.0.1:5212/token'
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def reply(self, code, body=b'', headers=()):
        self.send_response(code)
        for k, v in headers: self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def token(self):
        q = urllib.parse.urlparse(self.path).query
        scopes = urllib.parse.parse_qs(q).get('scope', [])
        auth = self.headers.get('Authorization', '')
        if auth != 'Basic ' + base64.b64encode(b'alice:s3cret').decode():
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
        tok = base64.urlsafe_b64encode(json.dumps(scopes).encode()).decode()
        self.reply(200, json.dumps({'token': tok}).encode(), [('Content-Type', 'application/json')])
    def handle_any(self):
        if self.path.startswith('/token'): return self.token()
        m = re.match(r'^/v2/(.+?)/(manifests|blobs|tags)/', self.path)
        need = None
        if m:
            action = 'pull' if self.command in ('GET', 'HEAD') else 'push'
            need = (m.group(1), action)
        auth = self.headers.get('Authorization', '')
        ok = False
        if auth.startswith('Bearer '):
            try:
                granted = json.loads(base64.urlsafe_b64decode(auth[7:]))
            except Exception:
                granted = []
            if need is None:
                ok = True
            else:
                for s in granted:
                    for one in s.split(' '):
                        parts = one.split(':')
                        if len(parts) == 3 and parts[1] == need[0] and need[1] in parts[2].split(','):
                            ok = True
        if not ok:
            scope = '' if need is None else ',scope="repository:%s:%s"' % (need[0], 'pull' if need[1] == 'pull' else 'pull,push')
            body = self.rfile.read(int(self.headers.get('Content-Length', 0) or 0))
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"token needed"}]}',
                              [('WWW-Authenticate', 'Bearer realm="%s",service="reg"%s' % (REALM, scope))])
        body = self.rfile.read(int(self.headers.get('Content-Length', 0) or 0))
        c = http.client.HTTPConnection(backend)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ('authorization', 'connection')}
        c.request(self.command, self.path, body=body if body else None, headers=hdrs)
        r = c.getresponse()
        data = r.read() if self.command != 'HEAD' else b''
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() in ('content-length', 'connection', 'transfer-encoding'): continue
            self.send_header(k, v)
        self.send_header('Content-Length', r.getheader('Content-Length', str(len(data))) if self.command == 'HEAD' else str(len(data)))
        self.end_headers()
        if self.command != 'HEAD': self.wfile.write(data)
    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = handle_any
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(('127.0.0.1', 5212), H).serve_forever()
EOF
  PIDS+=($!)
  local i; for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:5212/v2/ && break; sleep 0.1; done
  REG=127.0.0.1:5212
  local A=(--authfile "$W/auth.json")
  busybox src busybox:latest
  bad "credentials|unauthorized|rejected" src push "${A[@]}" busybox "$REG/tok/busybox:1"
  bad "credentials|rejected" src login "${A[@]}" -u alice -p wrong "$REG"
  ok src login "${A[@]}" -u alice -p s3cret "$REG"
  ok src tag busybox "$REG/tok/busybox:1"
  ok src push "${A[@]}" "$REG/tok/busybox:1"
  ok src tag busybox "$REG/tok/other:1"
  ok src push "${A[@]}" "$REG/tok/other:1"   # mounts from tok/busybox: a two-repository scope
  grep -q "Mounted" <<<"$ERR" || fail "no mount through the token server: $ERR"
  ok dst pull "${A[@]}" "$REG/tok/other:1"
  ok dst run --rm "$REG/tok/other:1" echo with-token
  [ "$OUT" = with-token ] || fail "run printed \`$OUT\`"
  bad "credentials|unauthorized|UNAUTHORIZED" dst2 pull --authfile "$W/none.json" "$REG/tok/other:1"
  no_leftovers dst2
}

# A download cut off mid-blob (the server stalls): the pull fails on its idle timeout, keeps
# the bytes it got as a partial blob, shows no image; the next pull resumes from there.
t_interrupted_pull() {
  registry 5214
  local backend=$REG
  python3 - "$W" <<'EOF'
import io, sys, tarfile, gzip, os
w = sys.argv[1]
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as t:
    data = os.urandom(4 << 20)
    i = tarfile.TarInfo('big'); i.size = len(data); t.addfile(i, io.BytesIO(data))
open(f'{w}/l.tar.gz', 'wb').write(gzip.compress(buf.getvalue()))
EOF
  image_from_layer "$W/l.tar.gz" "cut/img:1"
  python3 - "$backend" <<'EOF' &
import http.client, http.server, socketserver, sys, threading
backend = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def log_message(self, *a): pass
    def do_any(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0) or 0))
        c = http.client.HTTPConnection(backend)
        c.request(self.command, self.path, body=body or None,
                  headers={k: v for k, v in self.headers.items() if k.lower() != 'connection'})
        r = c.getresponse()
        data = r.read() if self.command != 'HEAD' else b''
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ('content-length', 'connection', 'transfer-encoding'):
                self.send_header(k, v)
        self.send_header('Content-Length', r.getheader('Content-Length') if self.command == 'HEAD' else str(len(data)))
        self.end_headers()
        if self.command == 'HEAD':
            return
        if '/blobs/' in self.path and 'Range' not in self.headers and len(data) > (1 << 20):
            self.wfile.write(data[:len(data) // 2])  # half, then nothing
            self.wfile.flush()
            threading.Event().wait(120)
            return
        self.wfile.write(data)
    do_GET = do_HEAD = do_any
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
S(('127.0.0.1', 5215), H).serve_forever()
EOF
  PIDS+=($!)
  local i; for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:5215/v2/ && break; sleep 0.1; done
  BERTH_REGISTRY_TIMEOUT=2 b dst pull 127.0.0.1:5215/cut/img:1
  [ "$RCODE" != 0 ] || fail "the cut-off pull succeeded"
  grep -q "timed out" <<<"$ERR" || fail "the error does not say it timed out: $ERR"
  ok dst images -q
  [ -z "$OUT" ] || fail "an image is visible after the cut-off pull"
  local part; part=$(ls "$W"/dst/content/ingest/*.partial 2>/dev/null)
  [ -n "$part" ] && [ "$(stat -c %s "$part")" -gt 0 ] || fail "no partial blob kept: $(ls -la "$W/dst/content/ingest")"
  if ls "$W/dst/layers" 2>/dev/null | grep -q '^\.tmp-'; then fail "temporary layer left"; fi
  ok dst pull 127.0.0.1:5215/cut/img:1
  grep -qE "Downloading  [1-9][0-9.]*[kM]B/" <<<"$ERR" || fail "the second pull did not resume: $ERR"
  no_leftovers dst
}

# A debootstrap Debian image through both registries: berth pushes it to docker-registry,
# skopeo copies it to `berth registry serve` and back, berth pulls it from each and runs it.
# The minbase rootfs is made once (from the mirror apt uses) and kept in
# /var/tmp/berth-registry-test/debian-rootfs.
t_debian_between_registries() {
  command -v debootstrap >/dev/null || skip "debootstrap not installed"
  local rootfs=/var/tmp/berth-registry-test/debian-rootfs
  if [ ! -f "$rootfs/.done" ]; then
    local suite mirror
    suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
    mirror=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' | grep -v security | head -n 1)
    [ -n "$mirror" ] || mirror=$(grep -hs '^deb ' /etc/apt/sources.list | awk '{print $2}' | grep -v security | head -n 1)
    [ -n "$mirror" ] || skip "no Debian mirror in apt's configuration"
    rm -rf -- "$rootfs" "$rootfs.tmp"
    debootstrap --variant=minbase "$suite" "$rootfs.tmp" "$mirror" >"$W/debootstrap.log" 2>&1 ||
      fail "debootstrap: $(tail -5 "$W/debootstrap.log")"
    rm -f "$rootfs.tmp"/var/cache/apt/archives/*.deb
    touch "$rootfs.tmp/.done"
    mv "$rootfs.tmp" "$rootfs"
  fi
  tar -C "$rootfs" --numeric-owner --exclude=./.done -cf "$W/rootfs.tar" .
  ok src import --change 'CMD ["/bin/bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "$W/rootfs.tar" debian-min:1
  rm -f "$W/rootfs.tar"
  registry 5216
  local dr=$REG
  ok src push debian-min:1 "$dr/debian/min:1"
  "$BERTH" registry serve --addr 127.0.0.1:5217 --root "$W/serve" 2>"$W/serve.log" &
  PIDS+=($!)
  local i; for i in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:5217/v2/ && break; sleep 0.1; done
  local bs=127.0.0.1:5217
  skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$dr/debian/min:1" \
    "docker://$bs/debian/min:1" >/dev/null 2>"$W/sk" || fail "skopeo docker-registry -> berth: $(cat "$W/sk")"
  skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$bs/debian/min:1" \
    "docker://$dr/debian/back:1" >/dev/null 2>"$W/sk" || fail "skopeo berth -> docker-registry: $(cat "$W/sk")"
  local want; want=$(cat "$rootfs/etc/debian_version")
  for ref in "$bs/debian/min:1" "$dr/debian/back:1"; do
    ok dst pull -q "$ref"
    ok dst run --rm "$ref" sh -c 'cat /etc/debian_version; dpkg-query -W | wc -l'
    [ "$(head -1 <<<"$OUT")" = "$want" ] || fail "$ref: /etc/debian_version says $(head -1 <<<"$OUT")"
    [ "$(tail -1 <<<"$OUT")" -gt 50 ] || fail "$ref: dpkg knows only $(tail -1 <<<"$OUT") packages"
  done
  no_leftovers dst
}

fn=t_$NAME
declare -F "$fn" >/dev/null || { echo "registry_client_test.sh: no test \`$NAME\`" >&2; exit 2; }
"$fn"
log "PASS $NAME"
