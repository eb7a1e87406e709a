#!/usr/bin/env bash
# network_test.sh BERTH NAME - berth networks end to end as root, with real traffic: the
# default bridge, user-defined networks with name resolution, published ports (TCP, UDP, a
# named host address), isolation between networks, --internal, IPAM, connect/disconnect,
# container: mode and crash repair. After each scenario the kernel state (links, netns
# files, nftables rules, DNS servers) is checked. One test per t_NAME function; CTest runs
# each as integration_network_NAME. Exit 0 pass, 1 fail, 77 skip.
set -uo pipefail

BERTH=${1:?usage: network_test.sh BERTH NAME}
NAME=${2:?usage: network_test.sh BERTH NAME}
SRC=$(cd "$(dirname "$0")/../.." && pwd)
W=/var/tmp/berth-network-test/$NAME
RUN=/run/berth-network-test/$NAME
ROOT=$W/store

log() { printf '[network] %s\n' "$*" >&2; }
fail() { printf '[network] FAIL (%s): %s\n' "$NAME" "$*" >&2; exit 1; }
skip() { printf '[network] SKIP: %s\n' "$*" >&2; exit 77; }

[ "$(id -u)" = 0 ] || skip "needs root"
[ -x /bin/busybox ] || skip "busybox-static not installed (scripts/install-deps.sh installs it)"
command -v nft >/dev/null || skip "nft not installed (scripts/install-deps.sh installs nftables)"

cleanup() {
  for c in $("$BERTH" --root "$ROOT" --runroot "$RUN" ps -aq 2>/dev/null); do
    "$BERTH" --root "$ROOT" --runroot "$RUN" rm -f "$c" >/dev/null 2>&1
  done
  "$BERTH" --root "$ROOT" --runroot "$RUN" system prune -af >"$W/prune.log" 2>&1 || { log "system prune failed: $(cat "$W/prune.log")"; [ "${RC:-0}" = 0 ] && RC=1; }
  if [ -n "${BRIDGES:-}" ]; then
    for br in $BRIDGES; do
      if ip link show "$br" >/dev/null 2>&1; then
        log "bridge $br left after prune"; [ "${RC:-0}" = 0 ] && RC=1
      fi
    done
  fi
  if [ -n "${TABLE:-}" ] && [ -n "$(table)" ]; then
    log "nft table $TABLE left after prune"; [ "${RC:-0}" = 0 ] && RC=1
  fi
  if [ -n "${DEFAULT_BRIDGE:-}" ] && ip link show "$DEFAULT_BRIDGE" >/dev/null 2>&1; then
    log "default bridge $DEFAULT_BRIDGE left after prune"; [ "${RC:-0}" = 0 ] && RC=1
  fi
  [ "${BERTH_KEEP:-0}" = 1 ] || rm -rf -- "$W" "$RUN"
}
trap 'RC=$?; cleanup; exit $RC' EXIT
rm -rf -- "$W" "$RUN"
mkdir -p "$W" "$RUN"

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
expect() { [ "$2" = "$3" ] || fail "$1: got \`$2\`, want \`$3\`"; }
contains() { grep -qF -- "$3" <<<"$2" || fail "$1: \`$3\` not in: $2"; }

"$SRC/scripts/make-busybox-image.sh" "$BERTH" busybox:latest --root "$ROOT" --runroot "$RUN" ||
  fail "busybox image"
IMG=busybox:latest

bridge_of() { ok network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' "$1"; echo "$OUT"; }
# This store's default bridge and nftables table (their names carry a hash of the root).
DEFAULT_BRIDGE=$(bridge_of bridge)
TABLE=berth_${DEFAULT_BRIDGE#berth}
table() { nft list table inet "$TABLE" >/dev/null 2>&1 && echo "$TABLE"; }
ip_of() { ok inspect -f "{{json .NetworkSettings.Networks}}" "$1"; jq -r --arg n "$2" '.[$n].IPAddress' <<<"$OUT"; }
cid() { ok inspect -f '{{.Id}}' "$1"; echo "$OUT"; }
# A container's kernel side must be gone: its veth links and netns file.
gone() {  # gone ID
  local short=${1:0:10}
  # The kernel removes a namespace's veths in a worker after its last user: give it 3 s
  # under load (at once on an idle machine).
  for _ in $(seq 30); do ip -o link show | grep -q "veth$short" || break; sleep 0.1; done
  ! ip -o link show | grep -q "veth$short" || fail "veth of $1 left: $(ip -o link show | grep "veth$short")"
  [ ! -e "$RUN/netns/$1" ] || fail "netns file of $1 left"
}
publish_rules() { nft list chain inet "$TABLE" publish 2>/dev/null | grep -c dnat; }
# HTTP GET from the host with a timeout; the body or "FAILED".
get() { timeout 3 busybox wget -q -O- "$1" 2>/dev/null || echo FAILED; }
host_ip() { ip -4 -o addr show scope global | awk '{print $4}' | cut -d/ -f1 | grep -v '^10\.7[7-9]\.' | head -1; }
web() {  # web NAME [run flags...]: a busybox httpd serving "hello from NAME"
  local n=$1; shift
  mkdir -p "$W/www-$n"; echo "hello from $n" >"$W/www-$n/index.html"
  ok run -d --name "$n" -v "$W/www-$n:/www:ro" "$@" $IMG httpd -f -p 80 -h /www
}
wait_port() {  # wait_port URL: until the server answers (2 s)
  for _ in $(seq 40); do [ "$(get "$1")" != FAILED ] && return 0; sleep 0.05; done
  return 1
}

t_default_bridge() {
  ok run --rm $IMG sh -c 'ip -4 -o addr show eth0; ip route; cat /etc/hosts'
  contains "address on eth0" "$OUT" "inet 10."
  contains "default route" "$OUT" "default via"
  local addr; addr=$(awk '/eth0/ {print $4}' <<<"$OUT" | cut -d/ -f1)
  grep -q "^$addr" <<<"$OUT" || fail "/etc/hosts lacks the container's address $addr: $OUT"
  BRIDGES=$(bridge_of bridge)
  ip link show "$BRIDGES" >/dev/null || fail "bridge $BRIDGES missing"
  [ -n "$(table)" ] || fail "no nftables table for bridge $BRIDGES"
  # The host reaches a container on the bridge, the container reaches the host.
  web w1
  local id; id=$(cid w1); local ip; ip=$(ip_of w1 bridge)
  wait_port "http://$ip/" || fail "httpd in w1 ($ip) not reachable from the host"
  expect "host -> container" "$(get "http://$ip/")" "hello from w1"
  ok run --rm $IMG timeout 3 wget -q -O- "http://$ip/"
  expect "container -> container on bridge" "$OUT" "hello from w1"
  ok run --rm --network none $IMG sh -c 'cat /proc/net/dev | wc -l'
  expect "--network none: only lo" "$OUT" 3
  # --dns, --dns-search, --add-host (host-gateway is the bridge's address), --hostname.
  ok run --rm --dns 10.9.9.9 --dns-search corp.example --add-host db:10.1.2.3 \
    --add-host gw:host-gateway -h box $IMG sh -c 'cat /etc/resolv.conf /etc/hosts; hostname'
  contains "--dns" "$OUT" "nameserver 10.9.9.9"
  contains "--dns-search" "$OUT" "search corp.example"
  contains "--add-host" "$OUT" "10.1.2.3	db"
  contains "--add-host host-gateway" "$OUT" "gw"
  contains "--hostname" "$OUT" "box"
  bad "not an IP address" run --rm --add-host db:nope $IMG true
  bad "not an IP address" run --rm --dns nope $IMG true
  # Parallel runs get different addresses.
  for i in 1 2 3 4 5 6; do b run -d --name p$i $IMG sleep 30 & done; wait
  local ips; ips=$(for i in 1 2 3 4 5 6; do ip_of p$i bridge; done | sort)
  expect "parallel runs: distinct addresses" "$(uniq <<<"$ips" | wc -l)" 6
  for i in 1 2 3 4 5 6; do ok rm -f p$i; done
  ok rm -f w1
  gone "$id"
}

t_published_ports() {
  local hip; hip=$(host_ip)
  [ -n "$hip" ] || skip "no global IPv4 address on the host"
  web all -p 18181:80
  BRIDGES=$(bridge_of bridge)
  web lo -p 127.0.0.1:18182:80
  wait_port http://127.0.0.1:18181/ || fail "published port 18181 not reachable on 127.0.0.1"
  expect "-p 18181:80 via 127.0.0.1" "$(get http://127.0.0.1:18181/)" "hello from all"
  expect "-p 18181:80 via $hip" "$(get "http://$hip:18181/")" "hello from all"
  wait_port http://127.0.0.1:18182/ || fail "published port 127.0.0.1:18182 not reachable"
  expect "-p 127.0.0.1:18182:80 via 127.0.0.1" "$(get http://127.0.0.1:18182/)" "hello from lo"
  expect "-p 127.0.0.1:18182:80 not via $hip" "$(get "http://$hip:18182/")" FAILED
  # From another container through the host address (hairpin through DNAT).
  ok run --rm $IMG timeout 3 wget -q -O- "http://$hip:18181/"
  expect "container -> published port via host address" "$OUT" "hello from all"
  # A container to its own published port (hairpin mode on its bridge port; without
  # br_netfilter the bridge delivers DNATed traffic either way, so the flag is checked too).
  local allid; allid=$(cid all)
  expect "hairpin mode on the bridge port" "$(cat "/sys/class/net/veth${allid:0:9}0/brport/hairpin_mode")" 1
  ok exec all timeout 3 wget -q -O- "http://$hip:18181/"
  expect "container -> its own published port via host address" "$OUT" "hello from all"
  ok port all
  expect "berth port" "$OUT" "80/tcp -> 0.0.0.0:18181"
  ok port lo 80
  expect "berth port lo 80" "$OUT" "127.0.0.1:18182"
  bad "already allocated" run -d --name dup -p 18181:80 $IMG sleep 30
  ok rm -f dup
  # UDP: a datagram to the published port reaches the container's listener.
  # busybox has no UDP server: socat listens inside the container's network namespace.
  ok run -d --name udp -p 127.0.0.1:18183:9999/udp $IMG sleep 60
  local uid; uid=$(cid udp)
  nsenter --net="$RUN/netns/$uid" timeout 10 socat -u UDP-RECV:9999 "OPEN:$W/udp-got,creat,append" &
  local listener=$!
  OUT=""
  for _ in $(seq 20); do
    sleep 0.1
    echo "udp-payload" | socat -u - UDP:127.0.0.1:18183 2>/dev/null
    sleep 0.1
    OUT=$(head -1 "$W/udp-got" 2>/dev/null)
    [ "$OUT" = udp-payload ] && break
  done
  kill "$listener" 2>/dev/null; wait "$listener" 2>/dev/null
  expect "UDP through a published port" "$OUT" "udp-payload"
  # -P publishes the image's EXPOSEd ports on free host ports.
  printf 'FROM %s\nEXPOSE 80\n' "$IMG" >"$W/Dockerfile"
  ok build -q -t exposed -f "$W/Dockerfile" "$W/www-all"
  mkdir -p "$W/www-pp"; echo "hello from pp" >"$W/www-pp/index.html"
  ok run -d --name pp -P -v "$W/www-pp:/www:ro" exposed httpd -f -p 80 -h /www
  ok port pp 80/tcp
  local hp=${OUT##*:}
  [ "$hp" -ge 32768 ] || fail "-P chose host port $hp"
  wait_port "http://127.0.0.1:$hp/" || fail "-P port $hp not reachable"
  expect "-P" "$(get "http://127.0.0.1:$hp/")" "hello from pp"
  [ "$(publish_rules)" = 4 ] || fail "publish rules while running: table=$(table) bridges=$BRIDGES: $(nft list tables); $(nft list chain inet "$(table)" publish 2>&1)"
  local ids; ids="$(cid all) $(cid lo) $(cid udp) $(cid pp)"
  ok rm -f all lo udp pp
  for id in $ids; do gone "$id"; done
  expect "publish rules after rm" "$(publish_rules)" 0
  expect "port closed after rm" "$(get http://127.0.0.1:18181/)" FAILED
  # Bad flags are refused with the flag named, and leave nothing.
  bad "invalid port" run --rm -p 70000:80 $IMG true
  bad "not an IP address" run --rm -p 1.2.3:80:80 $IMG true
  bad "unknown protocol" run --rm -p 80/icmp $IMG true
  bad "cannot be published with --network none" run --rm --network none -p 80 $IMG true
  # A failing start leaves no link, netns or rule behind.
  bad "executable file not found" run --name broken -p 18184:80 $IMG /no/such/program
  local bid; bid=$(cid broken); ok rm -f broken; gone "$bid"
  expect "publish rules after a failed start" "$(publish_rules)" 0
}

t_user_network_dns() {
  ok network create --subnet 172.31.51.0/24 front
  ok network create back
  local fb bb; fb=$(bridge_of front); bb=$(bridge_of back)
  BRIDGES="$fb $bb"
  ok network ls
  contains "network ls" "$OUT" front
  web web --network front --network-alias www
  web other --network back
  local wip oip; wip=$(ip_of web front); oip=$(ip_of other back)
  contains "--subnet respected" "$wip" "172.31.51."
  ok run --rm --network front $IMG sh -c 'timeout 3 wget -q -O- http://web/; timeout 3 wget -q -O- http://www/; nslookup web'
  contains "by name" "$OUT" "hello from web"
  [ "$(grep -c 'hello from web' <<<"$OUT")" = 2 ] || fail "by alias: $OUT"
  contains "nslookup answer" "$OUT" "$wip"
  ok run --rm --network front $IMG cat /etc/resolv.conf
  contains "resolv.conf names the network's DNS" "$OUT" "nameserver 172.31.51.1"
  # Isolation: from the other network neither the name nor the address works.
  ok run --rm --network back $IMG sh -c "timeout 2 wget -q -O- http://$wip/ || echo unreachable; nslookup web >/dev/null 2>&1 || echo unresolved"
  contains "other network cannot reach" "$OUT" unreachable
  contains "other network cannot resolve" "$OUT" unresolved
  ok run --rm --network back $IMG timeout 3 wget -q -O- http://other/
  expect "same network by name" "$OUT" "hello from other"
  ok run --rm $IMG sh -c "timeout 2 wget -q -O- http://$wip/ || echo unreachable"
  contains "default bridge cannot reach front" "$OUT" unreachable
  # inspect shows the members; rm is refused while they are there.
  ok network inspect front
  contains "network inspect: container" "$OUT" '"Name": "web"'
  bad "active endpoints" network rm front
  # One DNS server per network with containers; it stops with the last one.
  pgrep -f "dns-server.*$RUN" >/dev/null || fail "no DNS server running"
  local wid oid; wid=$(cid web); oid=$(cid other)
  ok rm -f web other
  gone "$wid"; gone "$oid"
  sleep 0.2
  ! pgrep -f "dns-server.*$RUN" >/dev/null || fail "DNS server left after its containers: $(pgrep -af "dns-server.*$RUN")"
  ok network rm front back
  ! ip link show "$fb" >/dev/null 2>&1 || fail "bridge $fb left after network rm"
  ! ip link show "$bb" >/dev/null 2>&1 || fail "bridge $bb left after network rm"
  bad "not found" network inspect front
  bad "not found" run --rm --network nosuch $IMG true
}

t_internal() {
  local hip; hip=$(host_ip)
  ok network create --internal sealed
  BRIDGES=$(bridge_of sealed)
  web in1 --network sealed
  local ip; ip=$(ip_of in1 sealed)
  ok run --rm --network sealed $IMG sh -c "timeout 3 wget -q -O- http://in1/; ip route | grep -c default || true"
  contains "internal: same network reachable by name" "$OUT" "hello from in1"
  expect "internal: no default route" "$(tail -1 <<<"$OUT")" 0
  # Nothing leaves: not the host's other address, not the default bridge.
  web outside -p 18190:80
  ok run --rm --network sealed $IMG sh -c "timeout 2 wget -q -O- http://$hip:18190/ || echo blocked"
  contains "internal cannot reach out" "$OUT" blocked
  ok rm -f in1 outside
  ok network rm sealed
}

t_ipam() {
  ok network create --subnet 172.31.60.0/24 --gateway 172.31.60.254 --ip-range 172.31.60.128/28 fixed
  BRIDGES=$(bridge_of fixed)
  ok run -d --name a --network fixed $IMG sleep 30
  expect "first address of --ip-range" "$(ip_of a fixed)" 172.31.60.128
  ok run -d --name c --network fixed --ip 172.31.60.140 $IMG sleep 30
  expect "--ip" "$(ip_of c fixed)" 172.31.60.140
  ok exec c ip route
  contains "--gateway" "$OUT" "default via 172.31.60.254"
  bad "already in use" run -d --name d --network fixed --ip 172.31.60.140 $IMG sleep 30
  bad "not in the subnet" run -d --name e --network fixed --ip 172.31.61.5 $IMG sleep 30
  bad "reserved" run -d --name f --network fixed --ip 172.31.60.254 $IMG sleep 30
  bad "user-defined network" run --rm --ip 10.77.0.9 $IMG true
  # The refused runs left no records and no leases.
  ok ps -a --format '{{.Names}}'
  expect "only the two containers" "$(sort <<<"$OUT" | tr '\n' ' ')" "a c "
  ok rm -f a
  ok run -d --name g --network fixed $IMG sleep 30
  expect "released address reused" "$(ip_of g fixed)" 172.31.60.128
  bad "overlaps" network create --subnet 172.31.60.0/25 clash
  bad "host bits set" network create --subnet 172.31.62.3/24 hostbits
  bad "not in --subnet" network create --subnet 172.31.63.0/24 --gateway 10.1.1.1 gw
  bad "already exists" network create fixed
  bad "pre-defined" network create host
  bad "not supported" network create -d macvlan mv
  bad "MTU" network create -o mtu=10 tiny
  ok network create -o mtu=1400 m1400
  BRIDGES="$BRIDGES $(bridge_of m1400)"
  ok run --rm --network m1400 $IMG cat /sys/class/net/eth0/mtu
  expect "-o mtu" "$OUT" 1400
  # --ipv6: both families on eth0, and IPv6 traffic between two containers.
  ok network create --ipv6 dual
  BRIDGES="$BRIDGES $(bridge_of dual)"
  web six --network dual
  ok inspect -f '{{json .NetworkSettings.Networks}}' six
  local ip6; ip6=$(jq -r '.dual.GlobalIPv6Address' <<<"$OUT")
  [ -n "$ip6" ] && [ "$ip6" != null ] || fail "--ipv6: no IPv6 address: $OUT"
  ok run --rm --network dual $IMG sh -c "ip -6 -o addr show eth0 scope global; timeout 3 wget -q -O- http://[$ip6]/"
  contains "--ipv6 address" "$OUT" "inet6 fd4b:"
  contains "IPv6 traffic" "$OUT" "hello from six"
  ok rm -f six
  ok rm -f c g
  ok network prune -f
  contains "prune" "$OUT" fixed
  contains "prune" "$OUT" m1400
  contains "prune" "$OUT" dual
}

t_connect_disconnect() {
  ok network create n1
  ok network create n2
  BRIDGES="$(bridge_of n1) $(bridge_of n2)"
  web peer2 --network n2
  local p2; p2=$(ip_of peer2 n2)
  # Repeated --network: one interface per network, eth0 on the first.
  ok run -d --name multi --network n1 --network n2 --network-alias both $IMG sleep 60
  ok exec multi sh -c "ip -o -4 addr show eth0; ip -o -4 addr show eth1; timeout 3 wget -q -O- http://$p2/"
  contains "repeated --network: eth0 on n1" "$OUT" "eth0    inet $(ip_of multi n1)/"
  contains "repeated --network: eth1 on n2" "$OUT" "eth1    inet $(ip_of multi n2)/"
  contains "repeated --network: traffic on the second" "$OUT" "hello from peer2"
  ok exec peer2 nslookup both
  contains "alias on the second network" "$OUT" "$(ip_of multi n2)"
  ok ps --filter name=multi --format '{{.Networks}}'
  expect "ps shows both networks" "$OUT" "n1,n2"
  local mid; mid=$(cid multi); ok rm -f multi; gone "$mid"
  bad "given twice" run --rm --network n1 --network n1 $IMG true
  bad "cannot join other networks" run --rm --network none --network n1 $IMG true
  bad "cannot be combined" run --rm --network n1 --network host $IMG true
  ok ps -aq --no-trunc
  expect "failed creates leave no container (peer2 only)" "$OUT" "$(cid peer2)"
  ok run -d --name roam --network n1 $IMG sleep 60
  ok exec roam sh -c "timeout 2 wget -q -O- http://$p2/ || echo unreachable"
  contains "before connect" "$OUT" unreachable
  ok network connect --alias roamer n2 roam
  ok exec roam sh -c "ip -o link | grep -c eth1; timeout 3 wget -q -O- http://$p2/"
  contains "connect adds eth1" "$OUT" 1
  contains "after connect" "$OUT" "hello from peer2"
  ok exec peer2 nslookup roamer
  contains "alias from connect resolves" "$OUT" "$(ip_of roam n2)"
  bad "already connected" network connect n2 roam
  ok network disconnect n2 roam
  ok exec roam sh -c "ip -o link | grep -c eth1 || true"
  expect "disconnect removes eth1" "$OUT" 0
  # Concurrent connects get distinct interfaces; a connect to a stopped container takes
  # effect at its next start.
  ok network create n3
  ok network create n4
  BRIDGES="$BRIDGES $(bridge_of n3) $(bridge_of n4)"
  b network connect n3 roam & b network connect n4 roam & wait
  ok exec roam sh -c "ip -o link | grep -oE 'eth[0-9]+' | sort | tr '\n' ' '"
  expect "concurrent connects" "$OUT" "eth0 eth1 eth2 "
  ok stop -t 0 roam
  ok network connect n2 roam
  ok start roam
  ok exec roam sh -c "ip -o link | grep -oE 'eth[0-9]+' | sort | tr '\n' ' '; timeout 3 wget -q -O- http://$p2/"
  contains "connect while stopped: interfaces at start" "$OUT" "eth0 eth1 eth2 eth3 "
  contains "connect while stopped: traffic" "$OUT" "hello from peer2"
  ok rm -f roam peer2
  ok network rm n1 n2 n3 n4
}

t_container_mode_and_repair() {
  web base
  BRIDGES=$(bridge_of bridge)
  ok run --rm --network container:base $IMG timeout 3 wget -q -O- http://127.0.0.1/
  expect "container: shares the namespace" "$OUT" "hello from base"
  bad "no such container" run --rm --network container:nosuch $IMG true
  # The monitor and the container die by SIGKILL: the next command repairs the state.
  local id pid mon; id=$(cid base)
  ok inspect -f '{{.State.Pid}}' base; pid=$OUT
  mon=$(pgrep -f "berth-monitor --id $id" | head -1)
  [ -n "$mon" ] && kill -9 "$mon"
  kill -9 "$pid" 2>/dev/null
  sleep 0.3
  ok ps -a --format '{{.Names}} {{.State}}'
  contains "reconciled" "$OUT" "base exited"
  gone "$id"
  # A deleted bridge is made again by the next run.
  ip link del "$BRIDGES"
  ok start base
  local ip; ip=$(ip_of base bridge)
  wait_port "http://$ip/" || fail "restarted container unreachable after the bridge was recreated"
  contains "recreated bridge has its store alias" "$(ip -d link show "$BRIDGES")" "alias berth store $ROOT"
  # A bridge without its alias (a command killed between making it and naming it) gets it
  # back at the next start, so a prune elsewhere can tell whose it is.
  ok stop -t 0 base
  ip link set dev "$BRIDGES" alias ""
  ok start base
  contains "alias restored at start" "$(ip -d link show "$BRIDGES")" "alias berth store $ROOT"
  ok rm -f base
  gone "$id"
}

t_restart_failure() {
  # A restart whose network setup fails (its bridge replaced by a veth) ends the container with the reason on record,
  # instead of leaving it "restarting".
  ok network create -o com.docker.network.bridge.name=berthrf0 rf
  BRIDGES=berthrf0
  ok run -d --name flap --restart always --network rf $IMG sh -c 'sleep 2; exit 1'
  local id; id=$(cid flap)
  ip link del berthrf0 && ip link add berthrf0 type veth peer name berthrf1 || fail "replace the bridge by a veth"
  local st=""
  for _ in $(seq 60); do
    ok inspect -f '{{.State.Status}} {{.State.Error}}' flap; st=$OUT
    [[ $st == exited* ]] && break
    sleep 0.1
  done
  ip link del berthrf0
  contains "failed restart: state" "$st" "exited"
  contains "failed restart: error" "$st" "restart: "
  # Nothing of the attempt stays: no process naming the container, no netns, no veth, no
  # snapshot mount.
  for _ in $(seq 30); do pgrep -f "$id" >/dev/null || break; sleep 0.1; done
  ! pgrep -af "$id" || fail "a process of flap left after a failed restart"
  gone "$id"
  ! grep -q "$id" /proc/self/mountinfo || fail "mounts of flap left after a failed restart"
  ok rm -f flap
  ok network rm rf
}

t_removed_store() {
  # A store deleted by hand (rm -rf, no prune) leaves its bridge and rule table; a prune of
  # any other store removes them, and leaves live stores' alone.
  local groot=$W/gone grun=$RUN/gone
  "$BERTH" --root "$groot" --runroot "$grun" network ls >/dev/null || fail "network ls in a second store"
  local gbr; gbr=$("$BERTH" --root "$groot" --runroot "$grun" network inspect \
    -f '{{index .Options "com.docker.network.bridge.name"}}' bridge) || fail "inspect in the second store"
  local gtable=berth_${gbr#berth}
  ip link show "$gbr" >/dev/null 2>&1 || fail "bridge $gbr of the second store missing"
  contains "bridge alias" "$(ip -d link show "$gbr")" "alias berth store $groot"
  # Automatic IPv6 subnets of two stores do not overlap (the other's shows as a host route).
  ok network create --ipv6 v6a
  "$BERTH" --root "$groot" --runroot "$grun" network create --ipv6 v6b >/dev/null || fail "create v6b"
  local gv6br; gv6br=$("$BERTH" --root "$groot" --runroot "$grun" network inspect \
    -f '{{index .Options "com.docker.network.bridge.name"}}' v6b)
  local s6a s6b
  ok network inspect -f '{{json .IPAM.Config}}' v6a; s6a=$(jq -r '.[] | select(.Subnet | contains(":")) | .Subnet' <<<"$OUT")
  s6b=$("$BERTH" --root "$groot" --runroot "$grun" network inspect -f '{{json .IPAM.Config}}' v6b |
        jq -r '.[] | select(.Subnet | contains(":")) | .Subnet')
  [ -n "$s6a" ] && [ -n "$s6b" ] && [ "$s6a" != "$s6b" ] || fail "IPv6 subnets of two stores: $s6a and $s6b"
  ok network rm v6a
  BRIDGES=$(bridge_of bridge)
  ok network prune -f
  ip link show "$gbr" >/dev/null 2>&1 || fail "prune removed bridge $gbr of a live store"
  nft list table inet "$gtable" >/dev/null 2>&1 || fail "prune removed table $gtable of a live store"
  rm -rf -- "$groot" "$grun"
  ok network prune -f
  ! ip link show "$gbr" >/dev/null 2>&1 || fail "bridge $gbr of a removed store left after prune"
  ! ip link show "$gv6br" >/dev/null 2>&1 || fail "bridge $gv6br (v6b) of a removed store left after prune"
  ! nft list table inet "$gtable" >/dev/null 2>&1 || fail "table $gtable of a removed store left after prune"
}

declare -F "t_$NAME" >/dev/null || fail "no test t_$NAME"
"t_$NAME"
log "PASS $NAME"
