# `tests/guest/run --daemon vigil --extra tests/guest/examples/audit-scale.sh`:
# the audit after a reload at scale. A third director d3 (no link: IPVS needs
# none) runs vigil on AUDIT_NVS (default 1000) virtual servers x 4 real servers
# without checkers; an upper threshold of one destination is hand-edited, then
# SIGHUP with the same file. Prints vigil's reload and audit lines (requests,
# steps, work and span) and checks that the threshold is back.
nvs=${AUDIT_NVS:-1000}
d=/run/d3
if [ "$DAEMON" != vigil ]; then
    skip audit.scale "vigil's audit"
    return
fi
mkdir -p "$d"
$IP netns add d3 && $IP -n d3 link set lo up || { fail audit.scale "no namespace d3"; return; }
awk -v n="$nvs" 'BEGIN {
    for (v = 0; v < n; v++) {
        printf "virtual_server 10.9.%d.%d 80 {\n lb_algo rr\n lb_kind DR\n", int(v / 250), v % 250 + 1
        for (r = 1; r <= 4; r++) printf " real_server 10.8.0.%d 80 {\n  weight 1\n }\n", r
        print "}"
    }
}' >"$d/audit.conf"
$IP netns exec d3 $VIGIL run -n -l -f "$d/audit.conf" -p "$d/vigil.pid" \
    --control "$d/vigil.sock" </dev/null >"$d/daemon.log" 2>&1 &
# ipvsadm, not /proc/net/ip_vs: busybox cat of it gave 3,993 of 4,004 lines.
full() { [ "$(ns d3 $IPVSADM -Ln | grep -c '^  -> [0-9]')" -ge $((nvs * 4)) ]; }
wait_for 60 full || {
    fail audit.scale "table not full 60 s after start: $(ns d3 $IPVSADM -Ln | grep -c '^  -> [0-9]') destinations"
    return
}
last=$((nvs - 1))
vip=10.9.$((last / 250)).$((last % 250 + 1)):80
ns d3 $IPVSADM -e -t "$vip" -r 10.8.0.3:80 -g -w 1 -x 77
thr() { ns d3 $IPVSADM -Ln --thresholds -t "$vip" | awk '$2 == "10.8.0.3:80" { print $3 }'; }
info "audit: uthreshold of $vip -> 10.8.0.3:80 before the reload: $(thr)"
from=$(wc -l <"$d/daemon.log")
t=$(now)
kill -HUP "$(cat "$d/vigil.pid")"
done_line() { tail -n "+$((from + 1))" "$d/daemon.log" | grep -q 'IPVS audit: .* read back'; }
if wait_for 60 done_line; then
    s=$(since "$t")
    tail -n "+$((from + 1))" "$d/daemon.log" | grep -E 'IPVS|audit' | sed 's/^/INFO audit: /'
    if [ "$(thr)" = 0 ]; then
        ok audit.scale "$nvs services audited, threshold repaired, $s s from SIGHUP"
    else
        fail audit.scale "uthreshold $(thr) after the audit"
    fi
else
    fail audit.scale "no audit line 60 s after SIGHUP"
    tail -n 10 "$d/daemon.log"
fi
kill "$(cat "$d/vigil.pid")"
wait_for 20 sh -c "! kill -0 $(cat "$d/vigil.pid") 2>/dev/null"
