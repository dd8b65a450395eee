# One VIP, two real servers, two directors: the checks `dr` and `nat` share.
# The caller has built the topology, started both real servers' httpd and
# both daemons (d1 master, d2 backup), and set:
#   P     check-name prefix         SVC   VIP:PORT of the virtual server
#   RS1   rs1's ADDR:PORT           RS2   rs2's ADDR:PORT
#   DOWN  d1's interfaces to cut    GW    "IF ADDR" of a VIP synced with the
#                                         service VIP (empty: none)
#   T0    when the daemons started
#
# Bounds come from the seed's checker settings (delay_loop 6, connect_timeout 2,
# retry 3, delay_before_retry 3) and advert_int 1 / priority 80; they are the
# same for every daemon.
DOWN_BOUND=23 # delay_loop + (retry + 1) x connect_timeout + retry x delay_before_retry
UP_BOUND=15   # HTTP_GET needs 2 good rounds: 2 x delay_loop + connect_timeout + 1 s polling
VIP_BOUND=6   # Master_Down_Interval 3 x 1 + (256 - 80) / 256 = 3.69 s, + 2.3 s of TCG slack
SERVE_BOUND=10

# timed NAME BOUND WHAT CMD...: waits up to BOUND s for CMD; prints the check
# and a TIME line with the measured seconds.
timed() {
    local name=$1 bound=$2 what=$3 t d
    shift 3
    t=$(now)
    if wait_for "$bound" "$@"; then
        d=$(since "$t")
        ok "$name" "$what after $d s (bound $bound s)"
        echo "TIME $name $d"
    else
        fail "$name" "not $what within $bound s"
    fi
}

# served_by NS URL N SVC: N client requests, all answered, and NS's IPVS
# service counted them (so the answers came through that director's table).
# The kernel (6.1) publishes these counters from its 2 s rate estimator, so
# the count before waits one period, and the count after may take one.
conns_reached() { [ "$(svc_conns "$1" "$2")" -ge "$3" ]; }
served_by() {
    local n=$1 url=$2 cnt=$3 svc=$4 c0 c1 r
    sleep 2.1
    c0=$(svc_conns "$n" "$svc")
    r=$(series "$cnt" "$url")
    case " $r " in *" - "*) echo "unanswered: $r"; return 1 ;; esac
    wait_for 4 conns_reached "$n" "$svc" $((c0 + cnt))
    c1=$(svc_conns "$n" "$svc")
    [ $((c1 - c0)) -ge "$cnt" ] || { echo "answers $r, but $n's $svc counted $((c1 - c0)) connections"; return 1; }
    echo "$r, $n counted $((c1 - c0))"
}

first_answer() { [ "$(get "$1")" != "-" ]; }

single_run() {
    local vip=${SVC%:*} url r d t
    url="http://$SVC/"
    [ "${SVC#*:}" = 80 ] && url="http://$vip/"

    if wait_for 15 has_addr d1 eth0 "$vip"; then
        ok "$P.master" "$vip on d1 $(since "$T0") s after start"
    else
        fail "$P.master" "$vip not on d1 within 15 s of start"
    fi
    if [ -n "$GW" ]; then
        # shellcheck disable=SC2086 # "IF ADDR"
        if has_addr d1 $GW; then ok "$P.sync" "$GW on d1 with $vip"; else fail "$P.sync" "$GW not on d1"; fi
    fi
    # d2 may have won the first election while d1 was starting: give it 2 s to yield.
    if wait_for 2 lacks_addr d2 eth0 "$vip"; then ok "$P.backup" "d2 does not hold $vip"; else fail "$P.backup" "d2 holds $vip too"; fi

    if wait_for "$(left "$T0" 20)" svc_has_both d1 "$SVC" "$RS1" "$RS2"; then
        ok "$P.table" "d1: $SVC -> $RS1, $RS2"
    else
        fail "$P.table" "d1 has not $SVC -> $RS1, $RS2: $(ns d1 $IPVSADM -Ln 2>&1 | tr -s ' \n' ' ')"
    fi
    # Before any client traffic, so the connection counters are still 0.
    ipvs_cli_check "$P.ipvs-cli" d1 d2

    r=$(series 6 "$url")
    if alternates "$r"; then ok "$P.rr" "$r"; else fail "$P.rr" "answers: $r"; fi

    # A real server dies: its checker must take it out.
    local was=0
    svc_has_rs d1 "$SVC" "$RS1" && was=1
    httpd_stop rs1 80
    if [ $was = 0 ]; then
        fail "$P.rs-down" "$RS1 was not in d1's table when its httpd stopped"
    else
        timed "$P.rs-down" "$DOWN_BOUND" "$RS1 left d1's table" svc_lacks_rs d1 "$SVC" "$RS1"
    fi
    # The operator's view names the server, its state and why it is down.
    if [ "$DAEMON" = vigil ]; then
        sleep 1 # the status view is published at most every 250 ms
        st=$(ns d1 $VIGIL status --control /run/d1/vigil.sock 2>&1 | grep -F "[${RS1%:*}]:${RS1##*:}")
        case "$st" in
        *DOWN*"not in table"*"down: "*) ok "$P.status-down" "$(echo "$st" | tr -s ' ')" ;;
        *) fail "$P.status-down" "vigil status says: ${st:-nothing about $RS1}" ;;
        esac
    else
        skip "$P.status-down" "vigil's status view"
    fi
    r=$(series 4 "$url")
    if all_are rs2 "$r"; then ok "$P.rs2-only" "$r"; else fail "$P.rs2-only" "answers: $r"; fi

    # It comes back.
    httpd_start rs1 80
    if svc_present d1 "$SVC"; then
        timed "$P.rs-up" "$UP_BOUND" "$RS1 back in d1's table" svc_has_rs d1 "$SVC" "$RS1"
    else
        fail "$P.rs-up" "d1 has no service $SVC"
    fi
    r=$(series 4 "$url")
    if alternates "$r"; then ok "$P.rr-again" "$r"; else fail "$P.rr-again" "answers: $r"; fi

    # A scenario's own check while d1 serves (BEFORE_FAILOVER: a function).
    [ -n "${BEFORE_FAILOVER:-}" ] && $BEFORE_FAILOVER

    # The master director crashes and loses its link.
    t=$(now)
    daemon_kill d1
    for d in $DOWN; do $IP -n d1 link set "$d" down; done
    timed "$P.failover-vip" "$VIP_BOUND" "$vip on d2" has_addr d2 eth0 "$vip"
    if [ -n "$GW" ]; then
        # shellcheck disable=SC2086 # "IF ADDR"
        if wait_for 2 has_addr d2 $GW; then ok "$P.failover-sync" "$GW on d2 with $vip"; else fail "$P.failover-sync" "$GW not on d2"; fi
    fi
    if wait_for "$SERVE_BOUND" first_answer "$url"; then
        d=$(since "$t")
        echo "TIME $P.failover-serve $d"
        if r=$(served_by d2 "$url" 4 "$SVC"); then
            ok "$P.failover-serve" "client served through d2 $d s after the kill: $r"
        else
            fail "$P.failover-serve" "$r"
        fi
    else
        fail "$P.failover-serve" "client not answered within $SERVE_BOUND s of the kill"
    fi
}
