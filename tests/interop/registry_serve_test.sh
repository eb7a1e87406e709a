#!/usr/bin/env bash
# shellcheck disable=SC2015  # `[ ] && grep || fail` means "all of these, or report"
# registry_serve_test.sh - `berth registry serve` against real clients: skopeo and podman
# push to it and pull from it, over HTTP, with basic auth and over TLS.
#
# Usage: registry_serve_test.sh BERTH NAME     run test t_NAME with the berth binary BERTH
#        registry_serve_test.sh --list         print the test names
# One CTest entry per t_NAME (tests/interop/CMakeLists.txt). Loopback ports 5100-5199 only;
# state under /var/tmp/berth-registry-test/serve-NAME, removed afterwards. The image pushed is
# built here from the static busybox with tar, gzip, sha256sum and jq (no network).
# Exit: 0 passed, 1 a check failed, 77 skipped (not root, or skopeo/podman/... missing).
set -euo pipefail

if [ "${1:-}" = --list ]; then
  sed -n 's/^t_\([a-z0-9_]*\)() {.*/\1/p' "$0"
  exit 0
fi
[ $# -eq 2 ] || { echo "usage: $0 BERTH NAME" >&2; exit 2; }
BERTH=$(readlink -f "$1")
NAME=$2
STATE=/var/tmp/berth-registry-test/serve-$NAME
PIDS=()

fail() { echo "FAIL [$NAME]: $*" >&2; [ -f "$STATE/server.log" ] && tail -20 "$STATE/server.log" >&2; exit 1; }
skip() { echo "SKIP [$NAME]: $*" >&2; exit 77; }
need() { for t in "$@"; do command -v "$t" >/dev/null || skip "\`$t\` not installed"; done; }

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf -- "$STATE"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || skip "must run as root"
[ -x "$BERTH" ] || { echo "no berth binary at $1" >&2; exit 2; }
need skopeo jq tar gzip sha256sum busybox curl
rm -rf -- "$STATE"
mkdir -p "$STATE"

SERVER_PID=''
# start_server PORT [ARGS...]: `berth registry serve` in the background, waiting until it
# listens. Its log is $STATE/server.log.
start_server() {
  local port=$1; shift
  "$BERTH" registry serve --addr "127.0.0.1:$port" --root "$STATE/root" "$@" \
    2>"$STATE/server.log" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  local _
  for _ in $(seq 100); do
    grep -q 'berth registry: serving' "$STATE/server.log" 2>/dev/null && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || fail "server exited: $(cat "$STATE/server.log")"
    sleep 0.1
  done
  fail "server did not start on port $port"
}

# stop_server: SIGTERM must end it cleanly (exit 0) within a few seconds.
stop_server() {
  kill -TERM "$SERVER_PID"
  local rc=0 _
  for _ in $(seq 50); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$SERVER_PID" 2>/dev/null && fail "server still running 5 s after SIGTERM"
  wait "$SERVER_PID" || rc=$?
  [ "$rc" = 0 ] || fail "server exited with $rc after SIGTERM"
  grep -q 'berth registry: stopped' "$STATE/server.log" || fail "no clean-stop message"
}

# make_image DIR: an OCI layout holding busybox:latest (one gzip layer, amd64/linux).
make_image() {
  local dir=$1 tree=$STATE/tree work=$STATE/work
  mkdir -p "$dir/blobs/sha256" "$tree/bin" "$work"
  cp "$(readlink -f "$(command -v busybox)")" "$tree/bin/busybox"
  local a
  for a in sh ls cat echo true false; do ln -sf busybox "$tree/bin/$a"; done
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$tree" -cf "$work/layer.tar" bin
  gzip -n -c "$work/layer.tar" >"$work/layer.tar.gz"
  local diff_id layer layer_size config config_size manifest manifest_size
  diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
  layer=$(sha256sum "$work/layer.tar.gz" | cut -d' ' -f1)
  layer_size=$(stat -c %s "$work/layer.tar.gz")
  cp "$work/layer.tar.gz" "$dir/blobs/sha256/$layer"
  jq -cn --arg d "sha256:$diff_id" '{architecture:"amd64", os:"linux",
      config:{Env:["PATH=/bin"], Cmd:["/bin/sh"]}, rootfs:{type:"layers", diff_ids:[$d]}}' \
    >"$work/config.json"
  config=$(sha256sum "$work/config.json" | cut -d' ' -f1)
  config_size=$(stat -c %s "$work/config.json")
  cp "$work/config.json" "$dir/blobs/sha256/$config"
  jq -cn --arg c "sha256:$config" --argjson cs "$config_size" --arg l "sha256:$layer" \
     --argjson ls "$layer_size" '{schemaVersion:2,
      mediaType:"application/vnd.oci.image.manifest.v1+json",
      config:{mediaType:"application/vnd.oci.image.config.v1+json", digest:$c, size:$cs},
      layers:[{mediaType:"application/vnd.oci.image.layer.v1.tar+gzip", digest:$l, size:$ls}]}' \
    >"$work/manifest.json"
  manifest=$(sha256sum "$work/manifest.json" | cut -d' ' -f1)
  manifest_size=$(stat -c %s "$work/manifest.json")
  cp "$work/manifest.json" "$dir/blobs/sha256/$manifest"
  echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
  jq -cn --arg m "sha256:$manifest" --argjson ms "$manifest_size" '{schemaVersion:2,
      manifests:[{mediaType:"application/vnd.oci.image.manifest.v1+json", digest:$m, size:$ms,
                  annotations:{"org.opencontainers.image.ref.name":"latest"}}]}' >"$dir/index.json"
  IMAGE_MANIFEST=sha256:$manifest
  IMAGE_LAYER=sha256:$layer
}

# skopeo without the host's signature policy or auth files getting in the way.
SKOPEO=(skopeo --insecure-policy)

# check_pulled DIR: the layout copied back holds the same manifest and layer bytes.
check_pulled() {
  local dir=$1 got
  got=$(jq -r '.manifests[0].digest' "$dir/index.json")
  [ "$got" = "$IMAGE_MANIFEST" ] || fail "pulled manifest $got, pushed $IMAGE_MANIFEST"
  cmp -s "$dir/blobs/sha256/${IMAGE_LAYER#sha256:}" "$STATE/image/blobs/sha256/${IMAGE_LAYER#sha256:}" ||
    fail "pulled layer differs from the pushed one"
}

# ------------------------------------------------------------------------------ tests

t_skopeo() {
  local port=5101 reg=127.0.0.1:5101
  make_image "$STATE/image"
  start_server $port
  "${SKOPEO[@]}" copy --dest-tls-verify=false "oci:$STATE/image:latest" "docker://$reg/test/busybox:latest" ||
    fail "skopeo push"
  "${SKOPEO[@]}" copy --dest-tls-verify=false "oci:$STATE/image:latest" "docker://$reg/test/busybox:v1" ||
    fail "skopeo push of a second tag"
  local tags digest
  tags=$("${SKOPEO[@]}" list-tags --tls-verify=false "docker://$reg/test/busybox" | jq -c .Tags) ||
    fail "skopeo list-tags"
  [ "$tags" = '["latest","v1"]' ] || fail "tags: $tags"
  digest=$("${SKOPEO[@]}" inspect --tls-verify=false "docker://$reg/test/busybox:latest" | jq -r .Digest) ||
    fail "skopeo inspect"
  [ "$digest" = "$IMAGE_MANIFEST" ] || fail "inspect digest $digest, want $IMAGE_MANIFEST"
  "${SKOPEO[@]}" copy --src-tls-verify=false "docker://$reg/test/busybox:v1" "oci:$STATE/back:latest" ||
    fail "skopeo pull"
  check_pulled "$STATE/back"
  # the Docker schema 2 format as well: the manifest comes back with its own media type
  "${SKOPEO[@]}" copy -q --format v2s2 --dest-tls-verify=false "oci:$STATE/image:latest" \
    "docker://$reg/test/busybox:docker" || fail "skopeo push as v2s2"
  local mt
  mt=$("${SKOPEO[@]}" inspect --raw --tls-verify=false "docker://$reg/test/busybox:docker" | jq -r .mediaType)
  [ "$mt" = application/vnd.docker.distribution.manifest.v2+json ] || fail "v2s2 media type: $mt"
  curl -fsS -X DELETE "http://$reg/v2/test/busybox/manifests/docker" >/dev/null || fail "delete tag docker"
  # a blob mount across repositories, then the catalog
  "${SKOPEO[@]}" copy --src-tls-verify=false --dest-tls-verify=false \
    "docker://$reg/test/busybox:latest" "docker://$reg/other/copy:latest" || fail "registry-to-registry copy"
  local catalog
  catalog=$(curl -fsS "http://$reg/v2/_catalog" | jq -c .repositories)
  [ "$catalog" = '["other/copy","test/busybox"]' ] || fail "catalog: $catalog"
  # a name that would leave the root
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "http://$reg/v2/../../etc/tags/list")
  [ "$code" = 400 ] || fail "traversal name answered $code, want 400"
  curl -fsS -X DELETE "http://$reg/v2/test/busybox/manifests/v1" >/dev/null || fail "delete tag"
  tags=$("${SKOPEO[@]}" list-tags --tls-verify=false "docker://$reg/test/busybox" | jq -c .Tags)
  [ "$tags" = '["latest"]' ] || fail "tags after delete: $tags"
  stop_server
}

t_auth() {
  need htpasswd
  local port=5102 reg=127.0.0.1:5102
  make_image "$STATE/image"
  htpasswd -B -C 5 -b -c "$STATE/htpasswd" pusher 'pa ss:word' 2>/dev/null || fail "htpasswd -B"
  start_server $port --htpasswd "$STATE/htpasswd" --realm berth-test
  local hdr
  hdr=$(curl -s -o /dev/null -D - "http://$reg/v2/" | tr -d '\r')
  grep -q '^HTTP/1.1 401' <<<"$hdr" || fail "anonymous /v2/ not 401: $hdr"
  grep -qi '^WWW-Authenticate: Basic realm="berth-test"' <<<"$hdr" || fail "challenge: $hdr"
  if "${SKOPEO[@]}" copy --dest-tls-verify=false --dest-no-creds "oci:$STATE/image:latest" \
       "docker://$reg/a/b:latest" 2>/dev/null; then
    fail "anonymous push succeeded"
  fi
  if "${SKOPEO[@]}" copy --dest-tls-verify=false --dest-creds 'pusher:wrong' \
       "oci:$STATE/image:latest" "docker://$reg/a/b:latest" 2>/dev/null; then
    fail "push with a wrong password succeeded"
  fi
  "${SKOPEO[@]}" copy --dest-tls-verify=false --dest-creds 'pusher:pa ss:word' \
    "oci:$STATE/image:latest" "docker://$reg/a/b:latest" || fail "push with credentials"
  "${SKOPEO[@]}" copy --src-tls-verify=false --src-creds 'pusher:pa ss:word' \
    "docker://$reg/a/b:latest" "oci:$STATE/back:latest" || fail "pull with credentials"
  check_pulled "$STATE/back"
  stop_server
  # only bcrypt: an MD5 entry is refused at start, naming the file and line
  htpasswd -m -b "$STATE/htpasswd" md5user secret 2>/dev/null || fail "htpasswd -m"
  local out rc=0
  out=$("$BERTH" registry serve --addr 127.0.0.1:$port --root "$STATE/root" \
        --htpasswd "$STATE/htpasswd" 2>&1) || rc=$?
  [ "$rc" != 0 ] || fail "serve accepted an MD5 htpasswd entry"
  grep -q "$STATE/htpasswd.*line 2.*bcrypt" <<<"$out" || fail "error does not name the line: $out"
}

t_tls() {
  need openssl
  local port=5103 reg=127.0.0.1:5103
  make_image "$STATE/image"
  mkdir -p "$STATE/certs"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$STATE/key.pem" -out "$STATE/cert.pem" \
    2>/dev/null || fail "openssl req"
  # containers/image reads CA certificates from *.crt files of the cert dir
  cp "$STATE/cert.pem" "$STATE/certs/ca.crt"
  start_server $port --tls-cert "$STATE/cert.pem" --tls-key "$STATE/key.pem"
  "${SKOPEO[@]}" copy --dest-cert-dir "$STATE/certs" "oci:$STATE/image:latest" \
    "docker://$reg/secure/busybox:latest" || fail "push over verified TLS"
  "${SKOPEO[@]}" copy --src-cert-dir "$STATE/certs" "docker://$reg/secure/busybox:latest" \
    "oci:$STATE/back:latest" || fail "pull over verified TLS"
  check_pulled "$STATE/back"
  # without the CA the certificate is not trusted
  if "${SKOPEO[@]}" inspect "docker://$reg/secure/busybox:latest" >/dev/null 2>&1; then
    fail "unverified certificate accepted"
  fi
  curl -fsS --cacert "$STATE/cert.pem" "https://$reg/v2/" >/dev/null || fail "curl over TLS"
  stop_server
  # unreadable or mismatched key files: a clear error naming the file
  local out rc=0
  out=$("$BERTH" registry serve --addr 127.0.0.1:$port --root "$STATE/root" \
        --tls-cert "$STATE/nope.pem" --tls-key "$STATE/key.pem" 2>&1) || rc=$?
  [ "$rc" != 0 ] && grep -q "nope.pem" <<<"$out" || fail "missing cert: rc $rc: $out"
}

t_podman() {
  need podman
  local port=5104 reg=127.0.0.1:5104
  make_image "$STATE/image"
  start_server $port
  # (podman refuses a run root longer than 50 characters)
  local P=(podman --root "$STATE/podman/root" --runroot "$STATE/prun"
           --tmpdir "$STATE/podman/tmp" --storage-driver vfs --events-backend none)
  mkdir -p "$STATE/podman/tmp"
  "${P[@]}" pull -q "oci:$STATE/image:latest" >/dev/null || fail "podman pull from the layout"
  "${P[@]}" tag "$("${P[@]}" images -q | head -1)" "$reg/pod/busybox:latest" || fail "podman tag"
  "${P[@]}" push -q --tls-verify=false "$reg/pod/busybox:latest" || fail "podman push"
  "${P[@]}" rmi -a -f >/dev/null || fail "podman rmi"
  "${P[@]}" pull -q --tls-verify=false "$reg/pod/busybox:latest" >/dev/null || fail "podman pull"
  local n
  n=$("${P[@]}" images --format '{{.Repository}}:{{.Tag}}' | grep -c "^$reg/pod/busybox:latest$") || true
  [ "$n" = 1 ] || fail "pulled image not listed: $("${P[@]}" images 2>&1)"
  "${P[@]}" rmi -a -f >/dev/null 2>&1 || true
  stop_server
}

t_concurrent() {
  local port=5105 reg=127.0.0.1:5105
  make_image "$STATE/image"
  start_server $port
  local a b rc_a=0 rc_b=0
  "${SKOPEO[@]}" copy --dest-tls-verify=false "oci:$STATE/image:latest" \
    "docker://$reg/race/busybox:latest" >"$STATE/a.log" 2>&1 &
  a=$!
  "${SKOPEO[@]}" copy --dest-tls-verify=false "oci:$STATE/image:latest" \
    "docker://$reg/race/busybox:latest" >"$STATE/b.log" 2>&1 &
  b=$!
  PIDS+=("$a" "$b")
  wait "$a" || rc_a=$?
  wait "$b" || rc_b=$?
  [ "$rc_a" = 0 ] || fail "first push: $(cat "$STATE/a.log")"
  [ "$rc_b" = 0 ] || fail "second push: $(cat "$STATE/b.log")"
  "${SKOPEO[@]}" copy --src-tls-verify=false "docker://$reg/race/busybox:latest" \
    "oci:$STATE/back:latest" || fail "pull after the race"
  check_pulled "$STATE/back"
  stop_server
  # everything is on disk: a new server over the same root serves the same image
  start_server $port
  rm -rf -- "$STATE/back"
  "${SKOPEO[@]}" copy --src-tls-verify=false "docker://$reg/race/busybox:latest" \
    "oci:$STATE/back:latest" || fail "pull after a restart"
  check_pulled "$STATE/back"
  stop_server
}

# The docker client's registry commands that work without a daemon (`docker manifest`, which
# probes HTTPS first and falls back to HTTP for an insecure registry), and berth's own client:
# push, a multi-platform index made by docker, pull of that index, run.
t_docker_and_berth_clients() {
  need docker
  local port=5107 reg=127.0.0.1:5107
  make_image "$STATE/image"
  start_server $port
  "${SKOPEO[@]}" copy -q --dest-tls-verify=false "oci:$STATE/image:latest" "docker://$reg/test/busybox:1" ||
    fail "skopeo push"
  export DOCKER_CONFIG=$STATE/docker
  local out
  out=$(timeout 60 docker manifest inspect --insecure "$reg/test/busybox:1") || fail "docker manifest inspect: $out"
  [ "$(jq -r '.layers[0].digest' <<<"$out")" = "$IMAGE_LAYER" ] || fail "docker saw: $out"
  timeout 60 docker manifest create --insecure "$reg/test/multi:1" "$reg/test/busybox:1" >/dev/null ||
    fail "docker manifest create"
  timeout 60 docker manifest push --insecure "$reg/test/multi:1" >/dev/null || fail "docker manifest push"
  local B=("$BERTH" --root "$STATE/store" --runroot "/run/berth-registry-test/serve-$NAME")
  "${B[@]}" pull "$reg/test/multi:1" >/dev/null 2>"$STATE/pull.err" || fail "berth pull of docker's index: $(cat "$STATE/pull.err")"
  out=$("${B[@]}" run --rm "$reg/test/multi:1" echo through-docker-index 2>&1) || fail "run: $out"
  [ "$out" = through-docker-index ] || fail "run printed: $out"
  "${B[@]}" tag "$reg/test/multi:1" "$reg/mine/again:2"
  "${B[@]}" push "$reg/mine/again:2" 2>"$STATE/push.err" || fail "berth push: $(cat "$STATE/push.err")"
  grep -q Mounted "$STATE/push.err" || fail "berth push did not mount: $(cat "$STATE/push.err")"
  "${B[@]}" system prune -af >/dev/null 2>&1 || true
  rm -rf "/run/berth-registry-test/serve-$NAME"
  stop_server
}

t_bad_flags() {
  local out rc
  for addr in 127.0.0.1 not-an-ip:5106 127.0.0.1:99999; do
    rc=0
    out=$("$BERTH" registry serve --addr "$addr" --root "$STATE/root" 2>&1) || rc=$?
    [ "$rc" != 0 ] && grep -qF "$addr" <<<"$out" || fail "--addr $addr: rc $rc: $out"
  done
  rc=0
  out=$("$BERTH" registry serve --addr 127.0.0.1:5106 --root "$STATE/root" \
        --htpasswd "$STATE/none" 2>&1) || rc=$?
  [ "$rc" != 0 ] && grep -qF "$STATE/none" <<<"$out" || fail "missing htpasswd: rc $rc: $out"
}

declare -F "t_$NAME" >/dev/null || { echo "no test \`$NAME\` (try --list)" >&2; exit 2; }
"t_$NAME"
echo "PASS [$NAME]"
