# In-guest helpers (busybox sh), sourced by /init before a scenario.
# Every "host" is a network namespace of this one guest; a bridge is a LAN.

# iproute2's ip by full path: busybox's applet has no netns, and Debian's
# busybox shell runs its own applets before PATH.
IP=/sbin/ip
IPVSADM=/sbin/ipvsadm
VIGIL=/usr/sbin/vigil
KEEPALIVED=/usr/sbin/keepalived
LAN=192.168.67
CLIENT=$LAN.100

# --- output: the host counts CHECK lines; TIME and INFO lines are for people.
now() { read -r up _ </proc/uptime; echo "$up"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
ok() { echo "CHECK $1 ok${2:+ $2}"; }
fail() { echo "CHECK $1 FAILED ${2:-}"; }
skip() { echo "CHECK $1 skipped $2"; }
info() { echo "INFO $*"; }

# wait_for SECONDS CMD...: polls CMD every 0.25 s; 0 once it succeeds.
wait_for() {
    local lim=$1 t0
    shift
    t0=$(now)
    until "$@"; do
        le "$(since "$t0")" "$lim" || return 1
        sleep 0.25
    done
}

# left T SECONDS: what remains of SECONDS since T (at least 0.5), so several
# waits on one start share one deadline instead of adding up.
left() { awk -v a="$1" -v b="$(now)" -v s="$2" 'BEGIN { r = s - (b - a); printf "%.1f", r < 0.5 ? 0.5 : r }'; }

ns() {
    local n=$1
    shift
    $IP netns exec "$n" "$@"
}

# nsctl NS KEY VALUE: a sysctl inside NS (/proc/sys/net follows the netns).
nsctl() { ns "$1" sh -c "echo $3 >/proc/sys/$2"; }

# --- topology
bridge_up() {
    $IP link add "$1" type bridge || return 1
    # Snooping would hold back the VRRP multicast group until a querier exists.
    echo 0 >"/sys/class/net/$1/bridge/multicast_snooping"
    $IP link set "$1" up
}

# attach NS IF BRIDGE ADDR/LEN: a veth from BRIDGE into NS, named IF there.
attach() {
    [ -e "/run/netns/$1" ] || { $IP netns add "$1" && $IP -n "$1" link set lo up; } || return 1
    $IP link add "$1-$2" type veth peer name "$2" netns "$1" || return 1
    $IP link set "$1-$2" master "$3" up
    $IP -n "$1" addr add "$4" dev "$2"
    $IP -n "$1" link set "$2" up
}

# rs_vips NS VIP...: the VIPs on a dummy, answered but never ARPed for (LVS-DR).
rs_vips() {
    local n=$1 v
    shift
    for v in all eth0; do
        nsctl "$n" "net/ipv4/conf/$v/arp_ignore" 1
        nsctl "$n" "net/ipv4/conf/$v/arp_announce" 2
    done
    $IP -n "$n" link add vip0 type dummy && $IP -n "$n" link set vip0 up || return 1
    for v in "$@"; do $IP -n "$n" addr add "$v/32" dev vip0; done
}

# httpd_start NS PORT: busybox httpd serving a page that names NS. Started as
# a plain command (ip execs httpd, so $! is httpd's own pid), never through a
# shell function, whose $! would be a subshell.
httpd_start() {
    mkdir -p "/srv/$1"
    echo "$1" >"/srv/$1/index.html"
    $IP netns exec "$1" httpd -f -p "$2" -h "/srv/$1" </dev/null >/dev/null 2>&1 &
    echo $! >"/run/httpd-$1-$2.pid"
}
httpd_stop() {
    local f="/run/httpd-$1-$2.pid"
    kill "$(cat "$f")" && rm -f "$f"
}

# --- the daemon under test: the same configs and checks for both.
daemon_start() {
    local n=$1 conf=$2 d="/run/$1"
    mkdir -p "$d"
    case "$DAEMON" in
    keepalived)
        $IP netns exec "$n" $KEEPALIVED -n -l -D -f "$conf" -p "$d/keepalived.pid" \
            -r "$d/vrrp.pid" -c "$d/checkers.pid" </dev/null >"$d/daemon.log" 2>&1 & ;;
    vigil)
        $IP netns exec "$n" $VIGIL run -n -l -f "$conf" -p "$d/vigil.pid" \
            --control "$d/vigil.sock" </dev/null >"$d/daemon.log" 2>&1 & ;;
    esac
    echo $! >"$d/daemon.pid"
}

# daemon_kill NS: SIGKILL to every process of the daemon at once (keepalived
# has a vrrp and a checker child: killing only the parent would let them stop
# gracefully, which is not a crash).
daemon_kill() {
    local p pids=""
    for p in /run/"$1"/*.pid; do [ -f "$p" ] && pids="$pids $(cat "$p")"; done
    # shellcheck disable=SC2086 # a list of pids
    kill -9 $pids 2>/dev/null
}

has_addr() { $IP -n "$1" -4 -o addr show dev "$2" 2>/dev/null | grep -q " $3/"; }
lacks_addr() { ! has_addr "$@"; }

# --- IPVS, read with Debian's ipvsadm inside the director's netns.
svc_present() { ns "$1" $IPVSADM -Ln -t "$2" >/dev/null 2>&1; }
svc_has_rs() { ns "$1" $IPVSADM -Ln -t "$2" 2>/dev/null | grep -q -- "-> $3 "; }
svc_lacks_rs() { svc_present "$1" "$2" && ! svc_has_rs "$1" "$2" "$3"; }
svc_has_both() { svc_has_rs "$1" "$2" "$3" && svc_has_rs "$1" "$2" "$4"; }
# svc_conns NS VIP:PORT: connections the service has scheduled (0 if absent).
svc_conns() {
    ns "$1" $IPVSADM -Ln --stats -t "$2" 2>/dev/null |
        awk '$1 == "TCP" { print $3; f = 1 } END { if (!f) print 0 }'
}

# --- the client
# get URL: the page's first line, or "-" when nothing answered in 3 s.
get() {
    local r
    r=$(ns client timeout 3 wget -q -O - "$1" 2>/dev/null | head -n 1)
    echo "${r:--}"
}
# series N URL: N answers on one line.
series() {
    local i=0 out=""
    while [ $i -lt "$1" ]; do
        out="$out $(get "$2")"
        i=$((i + 1))
    done
    echo "${out# }"
}
# alternates "A B A B...": every answer present, each differs from the one
# before, and both real servers seen (round robin).
alternates() {
    local prev="" a
    for a in $1; do
        [ "$a" != "-" ] && [ "$a" != "$prev" ] || return 1
        prev=$a
    done
    case " $1 " in *" rs1 "*) ;; *) return 1 ;; esac
    case " $1 " in *" rs2 "*) ;; *) return 1 ;; esac
}
# all_are WORD "LIST"
all_are() {
    local a
    for a in $2; do [ "$a" = "$1" ] || return 1; done
    [ -n "$2" ]
}

# ipvs_cli_check NAME NS...: if vigil has an `ipvs` subcommand, its output must
# equal `ipvsadm -Ln` byte for byte in each NS.
ipvs_cli_check() {
    local name=$1 n
    shift
    if ! $VIGIL ipvs --help >/dev/null 2>&1; then
        skip "$name" "vigil has no ipvs subcommand"
        return
    fi
    for n in "$@"; do
        ns "$n" $VIGIL ipvs >"/tmp/vigil-ipvs-$n" 2>&1
        ns "$n" $IPVSADM -Ln >"/tmp/ipvsadm-$n" 2>&1
        if cmp -s "/tmp/vigil-ipvs-$n" "/tmp/ipvsadm-$n"; then
            ok "$name.$n" "$(wc -l <"/tmp/ipvsadm-$n") lines identical"
        else
            fail "$name.$n" "vigil ipvs differs from ipvsadm -Ln: $(diff "/tmp/ipvsadm-$n" "/tmp/vigil-ipvs-$n" | grep '^[-+][^-+]' | head -n 2 | tr '\n' '|')"
        fi
    done
}

# dump NS...: the directors' state, for the console log when something failed.
dump() {
    local n
    for n in "$@"; do
        echo "== $n: ipvsadm -Ln"
        ns "$n" $IPVSADM -Ln 2>&1
        echo "== $n: addresses"
        $IP -n "$n" -4 -o addr show 2>&1
        echo "== $n: daemon log (tail)"
        tail -n 40 "/run/$n/daemon.log" 2>&1
    done
    echo "== syslog (tail)"
    tail -n 60 /run/messages 2>&1
}
