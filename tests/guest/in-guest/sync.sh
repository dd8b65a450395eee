# Scenario sync: a long TCP session through the VIP survives the master
# director's crash when the directors run the kernel's connection sync daemon
# (lvs_sync_daemon), and breaks without it (the control run).
# LVS-DR: the client's packets reach rs1 through the director, rs1 answers the
# client directly; rs1 echoes every line the client sends (a line every
# 0.2 s), so the session "continues" if echoes keep coming back: both the
# client's writes (through the new master) and rs1's answers get through.
SVC=$LAN.150:9000 RS=$LAN.10:9000

count() { wc -l <"$1" 2>/dev/null || echo 0; }
alive() { kill -0 "$1" 2>/dev/null; }
dead() { ! alive "$1"; }
grown() { [ "$(count "$1")" -ge "$2" ]; }
# has_conn NS: the director's connection table holds the client's session.
has_conn() { ns "$1" $IPVSADM -Lnc 2>/dev/null | grep -q "$CLIENT:[0-9]* *$SVC *$RS"; }
role_is() { ns "$1" $IPVSADM -L --daemon 2>/dev/null | grep -q "^$2 sync daemon (mcast=eth0, syncid=51[,)]"; }
no_daemon() { [ -z "$(ns "$1" $IPVSADM -L --daemon 2>/dev/null)" ]; }
timeouts_are() { ns "$1" $IPVSADM -L --timeout 2>/dev/null | grep -q "): $2\$"; }

no_veths() { ! $IP -o link show | grep -q -- '-eth[0-9]'; }

teardown() {
    local n
    daemon_kill d1
    daemon_kill d2
    [ -f /run/nc-rs1.pid ] && kill "$(cat /run/nc-rs1.pid)" 2>/dev/null
    touch /tmp/stop-writer
    sleep 0.5
    # Any process left in a namespace (nc, rs1's echo children) would keep
    # it and its veth alive, and the next topology could not be built.
    for n in client d1 d2 rs1 rs2; do
        # shellcheck disable=SC2046 # a list of pids
        kill -9 $($IP netns pids "$n" 2>/dev/null) 2>/dev/null
    done
    sleep 0.2
    for n in client d1 d2 rs1 rs2; do $IP netns del "$n" 2>/dev/null; done
    # A namespace still referenced (a closing socket, say) keeps its veth:
    # deleting our end removes the pair.
    for n in client d1 d2 rs1 rs2; do $IP link del "$n-eth0" 2>/dev/null; done
    $IP link del lan 2>/dev/null
    wait_for 10 no_veths || info "teardown: veths left: $($IP -o link show | grep -- '-eth' | tr '\n' '|')"
    rm -rf /run/d1 /run/d2 /run/nc-rs1.pid /tmp/stop-writer
}

# sync_phase P MODE: MODE "sync" (lvs_sync_daemon) or "nosync" (the control).
sync_phase() {
    local P=$1 mode=$2 c1=/etc/guest/sync-d1.conf c2=/etc/guest/sync-d2.conf
    local out="/tmp/$P.echo" nc n0 n1 t pid
    if [ "$mode" = nosync ]; then
        sed '/lvs_sync_daemon/d' "$c1" >/tmp/nosync-d1.conf
        sed '/lvs_sync_daemon/d' "$c2" >/tmp/nosync-d2.conf
        c1=/tmp/nosync-d1.conf c2=/tmp/nosync-d2.conf
    fi
    topo_dr "$LAN.150" || { fail "$P.topology" "could not build the namespaces"; return; }
    $IP netns exec rs1 nc -ll -p 9000 -e cat </dev/null >/dev/null 2>&1 &
    echo $! >/run/nc-rs1.pid
    daemon_start d1 "$c1"
    daemon_start d2 "$c2"
    if ! wait_for 15 has_addr d1 eth0 "$LAN.150"; then
        fail "$P.vip" "$LAN.150 not on d1 after 15 s"
        dump d1 d2
        return
    fi
    # The session must not start before d1's table has the service (else
    # d1's own stack resets it).
    if ! wait_for 10 svc_has_rs d1 "$SVC" "$RS"; then
        fail "$P.table" "d1 has no $SVC -> $RS after 10 s"
        dump d1 d2
        return
    fi
    wait_for 5 svc_has_rs d2 "$SVC" "$RS" || info "$P: d2 has no $SVC -> $RS yet"
    if [ "$mode" = sync ]; then
        if wait_for 5 role_is d1 master && wait_for 5 role_is d2 backup; then
            ok "$P.daemons" "master sync daemon on d1, backup on d2 (ipvsadm -L --daemon)"
        else
            fail "$P.daemons" "d1: $(ns d1 $IPVSADM -L --daemon | tr '\n' '|') d2: $(ns d2 $IPVSADM -L --daemon | tr '\n' '|')"
        fi
    elif no_daemon d1 && no_daemon d2; then
        ok "$P.daemons" "no sync daemon on either director"
    else
        fail "$P.daemons" "a sync daemon runs without lvs_sync_daemon"
    fi
    if timeouts_are d1 "7200 30 100"; then
        ok "$P.timeouts" "lvs_timeouts set on d1: $(ns d1 $IPVSADM -L --timeout)"
    else
        fail "$P.timeouts" "d1: $(ns d1 $IPVSADM -L --timeout)"
    fi

    # The session: a line every 0.2 s, echoed back by rs1.
    rm -f /tmp/stop-writer
    (
        i=0
        while [ ! -e /tmp/stop-writer ]; do
            echo "$i"
            i=$((i + 1))
            sleep 0.2
        done
    ) | $IP netns exec client nc "$LAN.150" 9000 >"$out" 2>/dev/null &
    nc=$!
    if wait_for 5 grown "$out" 10; then
        ok "$P.session" "$(count "$out") lines echoed through d1"
    else
        fail "$P.session" "only $(count "$out") lines echoed in 5 s"
        $IP -n client -4 -o addr show
        dump d1 d2
        return
    fi
    # The master syncs a connection from its 3rd packet; a message leaves
    # within about 1 s.
    if [ "$mode" = sync ]; then
        if wait_for 5 has_conn d2; then
            ok "$P.synced" "d2 holds the session before the failover: $(ns d2 $IPVSADM -Lnc | grep "$SVC" | head -n 1)"
        else
            fail "$P.synced" "d2 has no entry for the session: $(ns d2 $IPVSADM -Lnc | tr '\n' '|')"
        fi
    else
        sleep 2
        if has_conn d2; then
            fail "$P.synced" "d2 holds the session without a sync daemon"
        else
            ok "$P.synced" "d2 has no entry for the session (no sync daemon)"
        fi
    fi

    # The master director crashes and loses its link.
    t=$(now)
    daemon_kill d1
    $IP -n d1 link set eth0 down
    if wait_for 10 has_addr d2 eth0 "$LAN.150"; then
        info "$P: $LAN.150 on d2 $(since "$t") s after the kill"
    else
        fail "$P.failover" "$LAN.150 not on d2 10 s after the kill"
        dump d2
        return
    fi
    if [ "$mode" = sync ]; then
        if wait_for 5 role_is d2 master; then
            ok "$P.promoted" "d2 now runs the master sync daemon"
        else
            fail "$P.promoted" "d2: $(ns d2 $IPVSADM -L --daemon | tr '\n' '|')"
        fi
    fi
    n0=$(count "$out")
    if [ "$mode" = sync ]; then
        # TCP retransmits with backoff: the first one after the move may
        # come several seconds later.
        if wait_for 15 grown "$out" $((n0 + 15)) && alive "$nc"; then
            # The writer keeps going: judge one snapshot, whole lines only.
            cp "$out" "$out.snap"
            if [ -n "$(tail -c 1 "$out.snap")" ]; then sed -i '$d' "$out.snap"; fi
            snap=$(cat "$out.snap")
            n1=$(printf '%s\n' "$snap" | wc -l)
            if [ "$snap" = "$(seq 0 $((n1 - 1)))" ]; then
                ok "$P.continues" "the session continued through d2: $n0 -> $n1 lines, none lost, $(since "$t") s after the kill"
                echo "TIME $P.continues $(since "$t")"
            else
                fail "$P.continues" "echoes lost or out of order in $n1 lines: $(printf '%s\n' "$snap" | tr '\n' ' ')"
            fi
        else
            fail "$P.continues" "the session stopped at $n0 -> $(count "$out") lines (nc $(alive "$nc" && echo alive || echo gone))"
            dump d2
        fi
    else
        if wait_for 20 dead "$nc"; then
            n1=$(count "$out")
            if [ "$n1" -le $((n0 + 2)) ]; then
                ok "$P.breaks" "the session broke $(since "$t") s after the kill (reset by d2, which had no entry): $n0 -> $n1 lines"
            else
                fail "$P.breaks" "nc ended but $((n1 - n0)) more lines came back"
            fi
        else
            fail "$P.breaks" "the session is still open 20 s after the kill: $n0 -> $(count "$out") lines"
        fi
    fi

    # A graceful stop of d2 puts the kernel's timeouts back.
    pid=$(cat /run/d2/daemon.pid)
    kill -TERM "$pid"
    if wait_for 15 dead "$pid" && timeouts_are d2 "900 120 300"; then
        ok "$P.timeouts-restored" "d2 stopped, timeouts back to 900 120 300"
    elif [ "$DAEMON" = keepalived ]; then
        info "$P: keepalived left the timeouts at: $(ns d2 $IPVSADM -L --timeout)"
    else
        fail "$P.timeouts-restored" "after the stop: $(ns d2 $IPVSADM -L --timeout)"
    fi
    if [ "$mode" = sync ] && ! no_daemon d2; then
        fail "$P.daemon-stopped" "d2 left its sync daemon running: $(ns d2 $IPVSADM -L --daemon | tr '\n' '|')"
    fi
}

sync_phase sync sync
dump d1 d2 >/tmp/sync-dump.txt 2>&1
teardown
sync_phase sync-control nosync
