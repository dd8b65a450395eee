#!/usr/bin/env bash
# Regenerate the VRRP test vectors in core/wire/tests/vectors/ from a real keepalived.
#
# Needs root, keepalived (2.2.7 was used: Debian bookworm), tcpdump, python3, iproute2.
# Builds two network namespaces joined by a veth pair, runs keepalived as MASTER in
# one of them for each config in conf/, captures on the peer side, and sends SIGTERM
# at the end so that the priority-0 advert is captured too. Everything created here
# is deleted on exit. Only 192.168.67.0/24 and fd00::/64 inside the namespaces are used.
#
#   usage: sudo tests/captures/capture.sh            # all cases
#          sudo tests/captures/capture.sh v2-pass    # some cases
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VEC="$ROOT/core/wire/tests/vectors"
OUT="$HERE/out"
RUN="$(mktemp -d /tmp/vigil-capture.XXXXXX)"
NSA=vigilwire-a   # runs keepalived (192.168.67.100)
NSB=vigilwire-b   # the listener (192.168.67.200)
KA_PID=""
TD_PID=""

cleanup() {
    set +e
    [ -n "$KA_PID" ] && kill -TERM "$KA_PID" 2>/dev/null
    [ -n "$TD_PID" ] && kill -INT "$TD_PID" 2>/dev/null
    sleep 0.5
    ip netns del "$NSA" 2>/dev/null
    ip netns del "$NSB" 2>/dev/null
    rm -rf "$RUN"
}
trap cleanup EXIT

setup() {
    ip netns add "$NSA"
    ip netns add "$NSB"
    ip link add vwcap-a type veth peer name vwcap-b
    ip link set vwcap-a netns "$NSA"
    ip link set vwcap-b netns "$NSB"
    ip -n "$NSA" link set vwcap-a name eth0
    ip -n "$NSB" link set vwcap-b name eth0
    # Fixed MACs so that the recorded Ethernet facts are reproducible.
    ip -n "$NSA" link set eth0 address 02:00:00:67:01:00
    ip -n "$NSB" link set eth0 address 02:00:00:67:02:00
    for ns in "$NSA" "$NSB"; do
        # No DAD: the link-local address must be usable at once for the IPv6 case.
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.accept_dad=0
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.accept_dad=0
        ip -n "$ns" link set lo up
        ip -n "$ns" link set eth0 up
    done
    ip -n "$NSA" addr add 192.168.67.100/24 dev eth0
    ip -n "$NSB" addr add 192.168.67.200/24 dev eth0
    ip -n "$NSA" addr add fd00::100/64 dev eth0 nodad
    ip -n "$NSB" addr add fd00::200/64 dev eth0 nodad
    sleep 1
}

# capture CASE SECONDS: run keepalived with conf/CASE.conf as master for SECONDS,
# then SIGTERM it; leaves out/CASE.pcap, out/CASE.txt (tcpdump decode), out/CASE.log.
capture() {
    local case="$1" secs="$2"
    local pcap="$OUT/$case.pcap"
    ip netns exec "$NSB" tcpdump -Z root -i eth0 -U -w "$pcap" \
        'ip proto 112 or ip proto 51 or ip6 proto 112' 2>"$RUN/$case.tcpdump" &
    TD_PID=$!
    sleep 1
    ip netns exec "$NSA" keepalived -n -l -D -f "$HERE/conf/$case.conf" \
        -p "$RUN/$case.pid" -r "$RUN/$case.vrrp.pid" >"$RUN/$case.log" 2>&1 &
    KA_PID=$!
    # keepalived 2.2.7 starts every non-255 instance in BACKUP and becomes master
    # after the master-down timer: wait for that, then for a few more adverts.
    local i
    for i in $(seq 1 100); do
        grep -q 'Entering MASTER STATE' "$RUN/$case.log" && break
        sleep 0.2
    done
    sleep "$secs"
    kill -TERM "$KA_PID"
    wait "$KA_PID" || true
    KA_PID=""
    sleep 1
    kill -INT "$TD_PID"
    wait "$TD_PID" || true
    TD_PID=""
    # Keep keepalived's own words (version, warnings such as unknown keywords).
    sed -E 's/^[A-Z][a-z]{2} [A-Z][a-z]{2} +[0-9]+ [0-9:]{8} [0-9]{4}: //' \
        "$RUN/$case.log" >"$OUT/$case.log"
    tcpdump -nn -e -vvv -x -r "$pcap" >"$OUT/$case.txt" 2>/dev/null
}

# vector CASE PICK NAME: write core/wire/tests/vectors/NAME.hex from out/CASE.pcap.
vector() {
    local case="$1" pick="$2" name="$3"
    python3 "$HERE/pcap2hex.py" "$OUT/$case.pcap" "$VEC/$name.hex" --pick "$pick" \
        --comment "$name: captured from $(keepalived -v 2>&1 | head -1)" \
        --comment "config: tests/captures/conf/$case.conf ($(sed -n '1s/^! vigil capture case: //p' "$HERE/conf/$case.conf"))" \
        --comment "packet: $pick advertisement seen by the peer namespace; regenerate with tests/captures/capture.sh"
}

mkdir -p "$OUT" "$VEC"
ALL="v2-pass v2-ah v2-ah-unicast v2-noauth v2-unicast v3-ipv4 v3-ipv4-csv2 v3-ipv4-group44 v3-ipv4-unicast v3-ipv4-unicast-oldcsum v3-ipv6"
CASES="${*:-$ALL}"
setup
for c in $CASES; do
    echo "== $c"
    capture "$c" 2.5
    case "$c" in
        # keepalived 2.2.7 predates v3_checksum_as_v2 (out/v3-ipv4-csv2.log shows
        # "Unknown keyword"): its packets equal v3-ipv4, so no vector is kept.
        v3-ipv4-csv2) ;;
        *) vector "$c" first "$c" ;;
    esac
    case "$c" in
        v2-pass | v2-ah | v3-ipv4 | v3-ipv6) vector "$c" prio0 "$c-prio0" ;;
    esac
done
echo "vectors in $VEC, decodes in $OUT"
