# Scenario dr: seed 07 (LVS-DR, rr) unmodified on d1, its BACKUP/80 copy on d2.
topo_dr "$LAN.150" || { fail dr.topology "could not build the namespaces"; return; }
httpd_start rs1 80
httpd_start rs2 80
T0=$(now)
daemon_start d1 /etc/guest/07-lvs-dr.conf
daemon_start d2 /etc/guest/07-lvs-dr-backup.conf
P=dr SVC=$LAN.150:80 RS1=$LAN.10:80 RS2=$LAN.20:80 DOWN=eth0 GW=

# uthreshold NS VIP:PORT RS: the destination's upper threshold, in the
# column the `--thresholds` header names (empty when absent).
uthreshold() {
    ns "$1" $IPVSADM -Ln --thresholds -t "$2" 2>/dev/null | awk -v rs="$3" '
        $1 == "Prot" { for (i = 2; i <= NF; i++) if ($i == "Uthreshold") c = i }
        $1 == "->" && $2 == rs && c { print $c }'
}
uthreshold_is() { [ "$(uthreshold "$1" "$2" "$3")" = "$4" ]; }

# A hand edit /proc/net/ip_vs cannot show (an upper threshold), then SIGHUP
# with the same file: vigil's audit after the reload puts the file's value
# back within REPAIR_BOUND s. keepalived leaves a real server the reload
# does not change alone, so its outcome is reported, not judged.
REPAIR_BOUND=6
threshold_repair() {
    local name=$P.threshold-repair want w t pid
    want=$(uthreshold d1 "$SVC" "$RS2")
    w=$(ns d1 $IPVSADM -Ln -t "$SVC" | awk -v rs="$RS2" '$1 == "->" && $2 == rs { print $4 }')
    if [ -z "$want" ] || [ -z "$w" ]; then
        fail "$name" "$RS2 not in d1's table: $(ns d1 $IPVSADM -Ln --thresholds 2>&1 | tr -s ' \n' ' ')"
        return
    fi
    ns d1 $IPVSADM -e -t "$SVC" -r "$RS2" -g -w "$w" -x 77
    uthreshold_is d1 "$SVC" "$RS2" 77 || { fail "$name" "ipvsadm -e -x 77 did not take"; return; }
    case "$DAEMON" in vigil) pid=$(cat /run/d1/vigil.pid) ;; *) pid=$(cat /run/d1/keepalived.pid) ;; esac
    t=$(now)
    kill -HUP "$pid"
    if wait_for "$REPAIR_BOUND" uthreshold_is d1 "$SVC" "$RS2" "$want"; then
        ok "$name" "uthreshold 77 -> $want $(since "$t") s after SIGHUP (bound $REPAIR_BOUND s): $(grep -m 1 'repaired a hand edit' /run/d1/daemon.log | sed 's/.*IPVS audit: //')"
        echo "TIME $name $(since "$t")"
    elif [ "$DAEMON" = vigil ]; then
        fail "$name" "uthreshold $(uthreshold d1 "$SVC" "$RS2"), want $want, $REPAIR_BOUND s after SIGHUP"
    else
        skip "$name" "(vigil's audit; $DAEMON left uthreshold $(uthreshold d1 "$SVC" "$RS2"), file says $want, $REPAIR_BOUND s after SIGHUP)"
    fi
}
BEFORE_FAILOVER=threshold_repair
single_run
