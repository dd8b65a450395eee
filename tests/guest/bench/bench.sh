# The load-balancing benchmark, run in the guest as scenario `bench` (sourced by
# /init after lib.sh; busybox sh). tests/guest/bench/run builds the guest, boots
# it once and turns the BENCH lines printed here into the table.
#
# One bridge: d1 (192.168.67.2) runs the daemon under test; rs holds the real
# servers' 20 addresses (.10-.29) and vigil-guest-rs listening on 20 x 50 ports;
# obs (.100) times d1's adverts with vigil-guest-adverts. For each daemon, one
# after the other on the same guest:
#   idle: bench-vrrp.conf (VRRP only), adverts and CPU over IDLE_SECS;
#   lb:   bench-lb.conf (1,000 TCP_CHECKs at delay_loop 1), adverts, CPU, memory
#         and removal samples (vigil-guest-rs closes one listener, polls the table)
#         over LOAD_SECS.
# Settings come from /etc/guest/bench.env: IDLE_SECS LOAD_SECS NVS NRS DAEMONS.
. /etc/guest/bench.env
RSTOOL=/usr/local/bin/vigil-guest-rs
ADVTOOL=/usr/local/bin/vigil-guest-adverts
VIP=$LAN.150
VICTIM=$LAN.10:8001
DESTS=$((NVS * NRS))
# REMOTE_RS=1 (`run --two-guests`): the real servers are another guest behind
# eth0 (bench-rs.sh), joined to the bridge; only the victim stays here, at
# $LAN.30 in rs (the config's first real server, renamed by run), so that its
# listener can be closed and the removal timed against d1's table.
RS_ADDRS="$LAN.10-$((10 + NRS - 1))" RS_PORTS="8001-$((8000 + NVS))"

info "bench: clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>&1) of $(cat /sys/devices/system/clocksource/clocksource0/available_clocksource 2>&1); $(grep -m1 "model name" /proc/cpuinfo)"
bridge_up lan || { fail bench.topology "no bridge"; return; }
if [ "${REMOTE_RS:-0}" = 1 ]; then
    VICTIM=$LAN.30:8001 RS_ADDRS=$LAN.30-30 RS_PORTS=8001-8001
    $IP link set eth0 master lan && $IP link set eth0 up || { fail bench.topology "no eth0"; return; }
fi
attach d1 eth0 lan "$LAN.2/24" && attach rs eth0 lan "${VICTIM%:*}/24" &&
    attach obs eth0 lan "$CLIENT/24" || { fail bench.topology "namespaces"; return; }
i=1
while [ "${REMOTE_RS:-0}" != 1 ] && [ $i -lt "$NRS" ]; do
    $IP -n rs addr add "$LAN.$((10 + i))/24" dev eth0
    i=$((i + 1))
done
if [ "${REMOTE_RS:-0}" = 1 ]; then
    reach() { ns d1 ping -c 1 -W 1 "$LAN.$((10 + NRS - 1))" >/dev/null 2>&1; }
    wait_for 120 reach || { fail bench.topology "the real servers' guest does not answer"; return; }
    info "bench: the real servers' guest answers"
fi
# A process that stays in d1: /proc/PID/net/ip_vs is d1's table, and
# /proc/PID/ns/net the namespace vigil-guest-rs asks IPVS in.
$IP netns exec d1 sleep 100000 </dev/null >/dev/null 2>&1 &
ANCHOR=$!
IPVS_PROC=/proc/$ANCHOR/net/ip_vs

# The daemon's processes: everything in d1 but the anchor (keepalived: parent,
# VRRP child and checker child; vigil: one process).
dpids() { $IP netns pids d1 | grep -vx "$ANCHOR"; }
# cpu_ticks PID...: utime + stime summed (clock ticks, 100 a second);
# user_ticks: utime alone (the daemon's own code, not the kernel's TCP path).
cpu_ticks() {
    local p
    for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null; done |
        awk '{ sub(/^.*\) /, ""); t += $12 + $13 } END { print t + 0 }'
}
user_ticks() {
    local p
    for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null; done |
        awk '{ sub(/^.*\) /, ""); t += $12 } END { print t + 0 }'
}
# mem PID...: "rss_kib=N hwm_kib=N" summed.
mem() {
    local p
    for p in "$@"; do cat "/proc/$p/status" 2>/dev/null; done |
        awk '/^VmRSS:/ { r += $2 } /^VmHWM:/ { h += $2 } END { printf "rss_kib=%d hwm_kib=%d", r, h }'
}
# tasks PID...: one line per thread: "tid comm ticks voluntary nonvoluntary utime".
tasks() {
    local p t
    for p in "$@"; do
        for t in /proc/"$p"/task/*; do
            [ -r "$t/stat" ] || continue
            awk -v tid="${t##*/}" 'FNR == 1 && FILENAME ~ /stat$/ {
                    c = $0; sub(/^[^(]*\(/, "", c); sub(/\).*/, "", c); gsub(/ /, "_", c)
                    s = $0; sub(/^.*\) /, "", s); split(s, f, " "); ticks = f[12] + f[13]; u = f[12] }
                /^voluntary_ctxt_switches:/ { v = $2 }
                /^nonvoluntary_ctxt_switches:/ { n = $2 }
                END { print tid, c, ticks, v, n, u }' "$t/stat" "$t/status"
        done
    done
}
# task_deltas BEFORE AFTER SECS: per thread, CPU and wake-ups (voluntary switches)
# over the window, as BENCH lines.
task_deltas() {
    awk -v d="$DAEMON" -v ph="$PHASE" -v secs="$3" 'NR == FNR { t[$1] = $3; v[$1] = $4; n[$1] = $5; u[$1] = $6; next }
        { printf "BENCH %s %s task tid=%s comm=%s cpu_s=%.2f user_s=%.2f wakeups_per_s=%.1f preempt_per_s=%.1f\n",
            d, ph, $1, $2, ($3 - t[$1]) / 100, ($6 - u[$1]) / 100, ($4 - v[$1]) / secs, ($5 - n[$1]) / secs }' "$1" "$2"
}
# cpu_total: the guest's /proc/stat cpu line (ticks: user nice system idle
# iowait irq softirq).
cpu_total() { awk '$1 == "cpu" { print $2, $3, $4, $5, $6, $7, $8; exit }' /proc/stat; }
# guest_share BEFORE AFTER SECS: where the guest's one CPU went over the window,
# and busy_s, the seconds it was not idle: the whole cost of a daemon to its
# router, wherever the kernel did the work (a reply's receive and reset run in
# softirq on whichever task is current, often the idle task, and are then in no
# process's utime+stime). Idle time (USER_HZ 100) is measured, not sampled:
# NO_HZ idle accounting, interrupts excluded.
guest_share() {
    echo "$1 $2" | awk -v secs="$3" '{ for (i = 1; i <= 7; i++) d[i] = $(i + 7) - $i; t = 0; for (i = 1; i <= 7; i++) t += d[i]
        if (t <= 0) t = 1
        printf "busy_s=%.2f user %.0f%% system %.0f%% softirq %.0f%% irq %.0f%% idle %.0f%%", secs - (d[4] + d[5]) / 100, 100 * (d[1] + d[2]) / t, 100 * d[3] / t, 100 * d[7] / t, 100 * d[6] / t, 100 * (d[4] + d[5]) / t }'
}
# (grep -c prints 0 and fails on no match: one number either way.)
dests() { local n; n=$(grep -c '^  -> [0-9A-F]' "$IPVS_PROC" 2>/dev/null); echo "${n:-0}"; }
table_full() { [ "$(dests)" -ge "$DESTS" ]; }
gone() { [ -z "$(dpids)" ]; }

daemon_stop() {
    local p
    for p in $(dpids); do kill -TERM "$p" 2>/dev/null; done
    wait_for 30 gone || { for p in $(dpids); do kill -9 "$p"; done; info "bench: $DAEMON killed after 30 s"; }
    ns d1 "$IPVSADM" -C
    $IP -n d1 addr del "$VIP/24" dev eth0 2>/dev/null
    rm -f /run/d1/*.pid
}

# tcp_opens: d1's TCP counters, "ActiveOpens AttemptFails OutSegs OutRsts" (connects
# started, those that failed, segments sent, resets sent): opens - fails is the checks
# the servers answered, wherever the servers are; a half-open TCP_CHECK opens nothing,
# and each SYN-ACK it gets is reset by the kernel, so resets count its answered checks.
tcp_opens() { awk '$1 == "Tcp:" && $6 ~ /^[0-9]+$/ { print $6, $8, $12, $15; exit }' "/proc/$ANCHOR/net/snmp"; }

# window SECS: CPU, memory and thread figures of the daemon over SECS while
# vigil-guest-adverts listens in obs; prints BENCH lines for $DAEMON $PHASE.
window() {
    local secs=$1 pids c0 c1 u0 u1 t0 adv g0 r0 r1 o0
    pids=$(dpids)
    g0=$(cpu_total)
    o0=$(tcp_opens)
    r0=$(cpu_ticks ${RSPID:-})
    # shellcheck disable=SC2086 # lists of pids
    tasks $pids >/run/tasks0
    # shellcheck disable=SC2086
    c0=$(cpu_ticks $pids)
    # shellcheck disable=SC2086
    u0=$(user_ticks $pids)
    t0=$(now)
    adv=$(ns obs "$ADVTOOL" --src "$LAN.2" --secs "$secs" 2>&1)
    # shellcheck disable=SC2086
    c1=$(cpu_ticks $pids)
    # shellcheck disable=SC2086
    u1=$(user_ticks $pids)
    t0=$(since "$t0")
    r1=$(cpu_ticks ${RSPID:-})
    echo "$o0 $(tcp_opens)" | awk -v d="$DAEMON" -v ph="$PHASE" -v s="$t0" \
        '{ o = $5 - $1; e = o - ($6 - $2); printf "BENCH %s %s opens_per_s=%.0f established_per_s=%.0f segs_out_per_open=%.2f rsts_per_s=%.0f\n", d, ph, o / s, e / s, (o > 0 ? ($7 - $3) / o : 0), ($8 - $4) / s }'
    echo "BENCH $DAEMON $PHASE guest $(guest_share "$g0" "$(cpu_total)" "$t0"); real-server tool $(awk -v a="$r0" -v b="$r1" 'BEGIN { printf "%.2f", (b - a) / 100 }') s"
    # shellcheck disable=SC2086
    tasks $pids >/run/tasks1
    # shellcheck disable=SC2086
    echo "BENCH $DAEMON $PHASE cpu_s=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", (b - a) / 100 }') user_s=$(awk -v a="$u0" -v b="$u1" 'BEGIN { printf "%.2f", (b - a) / 100 }') secs=$t0 $(mem $pids) procs=$(echo $pids | wc -w)"
    echo "BENCH $DAEMON $PHASE $adv"
    task_deltas /run/tasks0 /run/tasks1 "$t0"
}

# profile: with PERF_SECS > 0 (`run --perf`), the whole guest sampled for
# PERF_SECS with call graphs while the daemon is under load, after the measured
# window; PERF lines: the samples by thread, then the daemon's symbols (self,
# then with children), kernel symbols from /proc/kallsyms.
profile() {
    local pids data=/run/perf-$DAEMON.data
    [ "${PERF_SECS:-0}" -gt 0 ] && command -v perf >/dev/null || return 0
    echo 0 >/proc/sys/kernel/kptr_restrict
    echo -1 >/proc/sys/kernel/perf_event_paranoid
    pids=$(dpids | tr '\n' , | sed 's/,$//')
    info "bench: $DAEMON, perf record -a for $PERF_SECS s"
    perf record -q -a -g -F 499 -e cpu-clock -o "$data" -- sleep "$PERF_SECS" >/dev/null 2>&1 ||
        { info "bench: perf record failed"; return 0; }
    {
        echo "== guest: meltdown $(cat /sys/devices/system/cpu/vulnerabilities/meltdown 2>&1); clocksource $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>&1)"
        echo "== $DAEMON: samples by thread, % of the whole guest's"
        perf report -i "$data" --stdio -q --no-children --sort comm,pid -g none --percent-limit 0.5 2>&1
        # The rest in % of the daemon's own samples (--pid, relative).
        set -- -i "$data" --stdio -q --pid "$pids" --percentage relative
        echo "== $DAEMON: % of its samples by where (kernel, its binary, libraries)"
        perf report "$@" --no-children --sort dso -g none 2>&1
        echo "== $DAEMON: its symbols, self"
        perf report "$@" --no-children --sort dso,sym -g none --percent-limit 0.7 2>&1
        echo "== $DAEMON: its symbols, with children"
        perf report "$@" --children --sort sym -g none --percent-limit 3 2>&1
        echo "== $DAEMON: callers of its top self symbols"
        perf report "$@" --no-children --sort sym -g graph,2,callee --percent-limit 4 2>&1 | head -n 300
    } | sed 's/^/PERF /'
    rm -f "$data"
}

bench_daemon() {
    DAEMON=$1
    local t rs
    info "bench: $DAEMON, VRRP only"
    PHASE=idle RSPID=
    t=$(now)
    daemon_start d1 /etc/guest/bench-vrrp.conf
    if ! wait_for 20 has_addr d1 eth0 "$VIP"; then
        fail "bench.$DAEMON.master" "no VIP on d1 20 s after start"
        tail -n 20 /run/d1/daemon.log
        daemon_stop
        return
    fi
    echo "BENCH $DAEMON idle master_s=$(since "$t")"
    sleep 1
    window "$IDLE_SECS"
    daemon_stop

    info "bench: $DAEMON, $DESTS real servers under TCP_CHECK"
    PHASE=lb
    rs=/run/rs-$DAEMON.out
    # Not through ns(): `func &` would make $! a subshell's pid (notes/qemu.md).
    $IP netns exec rs "$RSTOOL" --addrs "$RS_ADDRS" --ports "$RS_PORTS" \
        --victim "$VICTIM" \
        --service "$VIP:${VICTIM##*:}" --ipvs-netns "/proc/$ANCHOR/ns/net" >"$rs" 2>&1 </dev/null &
    RSPID=$!
    wait_for 10 grep -q '^LISTENING' "$rs" || { fail "bench.$DAEMON.rs" "$(cat "$rs")"; return; }
    t=$(now)
    daemon_start d1 /etc/guest/bench-lb.conf
    if wait_for 90 table_full; then
        echo "BENCH $DAEMON lb table_s=$(since "$t") dests=$(dests)"
    else
        fail "bench.$DAEMON.table" "$(dests) of $DESTS dests 90 s after start"
        tail -n 20 /run/d1/daemon.log
    fi
    wait_for 20 has_addr d1 eth0 "$VIP" || info "bench: $DAEMON holds no VIP"
    sleep 3 # every checker past its first check
    kill -USR1 "$RSPID" # removal samples from now on
    kill -USR2 "$RSPID"
    window "$LOAD_SECS"
    kill -USR2 "$RSPID"
    echo "BENCH $DAEMON lb dests_end=$(dests)"
    profile
    if [ "$DAEMON" = vigil ]; then
        # Why servers are down, by reason (the victim accounts for at most one).
        ns d1 "$VIGIL" status --control /run/d1/vigil.sock --json 2>&1 |
            grep -o '"down_reason":"[^"]*"' | sort | uniq -c | sort -rn | head -n 4 |
            while read -r n why; do echo "BENCH vigil lb down count=$n $why"; done
    fi
    sleep 0.2
    kill -TERM "$RSPID"
    wait_for 5 grep -q '^REMOVALS' "$rs"
    awk -v d="$DAEMON" '/^(REMOVAL|REMOVALS|BACK|ACCEPTED) / { print "BENCH " d " lb " $0 }' "$rs"
    daemon_stop
    [ "$DAEMON" = vigil ] && grep -ciE 'error|warn' /run/d1/daemon.log | sed "s/^/BENCH vigil lb log_errors=/"
    [ "$DAEMON" = vigil ] && info "bench: vigil: $(grep -m1 -oE 'TCP_CHECK: .*' /run/d1/daemon.log)"
    # Servers taken out over the whole run (the victim's removals included):
    # more than the victim's means healthy servers were judged down.
    echo "BENCH $DAEMON lb removed_total=$(grep -cE ' DOWN|Removing service' /run/d1/daemon.log)"
    grep -oE ' DOWN: .*|TCP connection to .* (failed|timedout)' /run/d1/daemon.log |
        sed -E 's/^ DOWN: //; s/.* (failed|timedout)\.?$/keepalived: \1/' | sort | uniq -c | sort -rn | head -n 3 |
        while read -r n why; do echo "BENCH $DAEMON lb removed_why count=$n $why"; done
    # When they were taken out (syslog seconds), the five busiest seconds: a
    # burst means every check failed at once (the link or a guest stalled).
    grep -E ' DOWN|Removing service' /run/d1/daemon.log |
        awk '{ for (i = 1; i <= NF; i++) if ($i ~ /^[0-9][0-9]:[0-9][0-9]:[0-9][0-9]/) { print substr($i, 1, 8); next } }' |
        uniq -c | sort -rn | head -n 5 |
        awk -v d="$DAEMON" '{ s = s sep $2 "x" $1; sep = "," } END { if (s != "") print "BENCH " d " lb removed_at " s }'
    dmesg | grep -ciE 'conntrack.*(full|drop)' | sed "s/^/BENCH $DAEMON lb conntrack_drops_logged=/"
    cp /run/d1/daemon.log "/run/daemon-$DAEMON.log"
    ok "bench.$DAEMON" "ran"
}

for d in $DAEMONS; do bench_daemon "$d"; done
