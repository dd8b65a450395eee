# The IPVS scale benchmark, run in the guest as scenario `scale` (sourced by
# /init after lib.sh; busybox sh). `tests/guest/bench/run --scale` builds the
# guest and turns the SCALE lines printed here into a table.
#
# One bridge: d1 (192.168.67.2) runs vigil; rs holds the real servers'
# addresses (.10-..) with vigil-guest-rs listening on NRS x NVS ports; obs
# (.100) times d1's adverts with vigil-guest-adverts. Configs (written on the
# host by gen-conf): scale-vrrp.conf (VRRP only), scale-lb.conf (NVS x NRS
# under TCP_CHECK at a long delay_loop), scale-lb2.conf (the same, one real
# server's weight changed). vigil reads /run/d1/scale.conf; a phase copies a
# config there and sends SIGHUP.
#   idle:   VRRP only, adverts over IDLE_SECS.
#   reload: VRRP running, adverts over LOAD_SECS; 2 s in, a reload to the
#           whole table; once it is in and checked, a reload with one line
#           changed; then two hand edits (ipvsadm -d, -e) and a reload of
#           the same file, which must repair both. Memory at the end.
#   steady: the table and its checkers, no reload, adverts over LOAD_SECS.
#   start:  REPS cold starts with the whole table (vigil's own apply figure
#           from its log, and start -> full table seen from outside).
#   ipvsadm: `ipvsadm -Sn` of vigil's table, then REPS x (`ipvsadm -C`,
#           `ipvsadm -R` timed) in the same guest.
# Settings: /etc/guest/bench.env (IDLE_SECS LOAD_SECS NVS NRS REPS FORM).
. /etc/guest/bench.env
RSTOOL=/usr/local/bin/vigil-guest-rs
ADVTOOL=/usr/local/bin/vigil-guest-adverts
VIP=$LAN.150
DESTS=$((NVS * NRS))
CONF=/run/d1/scale.conf
LOG=/run/d1/daemon.log

bridge_up lan || { fail scale.topology "no bridge"; return; }
attach d1 eth0 lan "$LAN.2/24" && attach rs eth0 lan "$LAN.10/24" &&
    attach obs eth0 lan "$CLIENT/24" || { fail scale.topology "namespaces"; return; }
i=1
while [ $i -lt "$NRS" ]; do
    $IP -n rs addr add "$LAN.$((10 + i))/24" dev eth0
    i=$((i + 1))
done
$IP netns exec d1 sleep 100000 </dev/null >/dev/null 2>&1 &
ANCHOR=$!
IPVS_PROC=/proc/$ANCHOR/net/ip_vs
mkdir -p /run/d1
# since2 T: seconds since T with /proc/uptime's two decimals.
since2() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

dpids() { $IP netns pids d1 | grep -vx "$ANCHOR"; }
vpid() { cat /run/d1/vigil.pid 2>/dev/null; }
dests() { grep -c '^  -> [0-9A-F]' "$IPVS_PROC" 2>/dev/null || echo 0; }
table_full() { [ "$(dests)" -ge "$DESTS" ]; }
table_empty() { [ "$(dests)" -eq 0 ]; }
gone() { [ -z "$(dpids)" ]; }
mem() {
    awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 }
        END { printf "rss_kib=%d hwm_kib=%d anon_kib=%d file_kib=%d", r, h, a, f }' "/proc/$1/status"
}
threads() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
# ipvs_lines FROM: the engine's "IPVS: N change(s) ..." log lines after line FROM.
ipvs_lines() { tail -n "+$(($1 + 1))" "$LOG" | grep 'IPVS: [0-9]* change(s)'; }
lines() { wc -l <"$LOG"; }
# apply_fig LINE: "changes=N requests=N refused=N ms=X read_requests=N read_ms=X".
apply_fig() {
    echo "$1" | sed -n 's/.*IPVS: \([0-9]*\) change(s) in \([0-9]*\) request(s), \([0-9]*\) refused, \([0-9.]*\) ms\(.*\)$/changes=\1 requests=\2 refused=\3 ms=\4 rest=\5/p' |
        sed 's/ rest= (after reading the kernel.s table: \([0-9]*\) request(s), \([0-9.]*\) ms)/ read_requests=\1 read_ms=\2/; s/ rest=$//'
}
# wait_line FROM SECS: the first IPVS change line after FROM, within SECS.
first_line_after() { ipvs_lines "$1" | head -n 1 | grep -q .; }
# reload_lines FROM: the lines of diffs made after reading the kernel's table
# (a reload's), not the checkers' changes that may come first.
reload_lines() { ipvs_lines "$1" | grep 'after reading'; }
reload_line_after() { reload_lines "$1" | head -n 1 | grep -q .; }
downs() { grep -c ' DOWN' "$LOG"; }
# rs_down ADDR PORT: the checker's last word on that real server is DOWN (it
# is then rightly absent, and a check that looks at it cannot judge).
rs_down() { grep -E "real server \[$1\]:$2 (UP|DOWN)" "$LOG" | tail -n 1 | grep -q ' DOWN'; }
vigil_start() {
    $IP netns exec d1 "$VIGIL" run -n -l -f "$CONF" -p /run/d1/vigil.pid \
        --control /run/d1/vigil.sock </dev/null >"$LOG" 2>&1 &
}
vigil_stop() {
    local p
    for p in $(dpids); do kill -TERM "$p" 2>/dev/null; done
    wait_for 60 gone || { for p in $(dpids); do kill -9 "$p"; done; info "scale: vigil killed after 60 s"; }
    rm -f /run/d1/vigil.pid
}

# The real servers: NRS x NVS listeners (accept and close, as TCP_CHECK wants).
$IP netns exec rs "$RSTOOL" --addrs "$LAN.10-$((10 + NRS - 1))" --ports "8001-$((8000 + NVS))" \
    --victim "$LAN.10:8001" --service "$VIP:8001" --ipvs-netns "/proc/$ANCHOR/ns/net" \
    >/run/rs.out 2>&1 </dev/null &
RSPID=$!
wait_for 20 grep -q '^LISTENING' /run/rs.out || { fail scale.rs "$(cat /run/rs.out)"; return; }

# --- idle
cp /etc/guest/scale-vrrp.conf "$CONF"
vigil_start
wait_for 20 has_addr d1 eth0 "$VIP" || { fail scale.master "no VIP 20 s after start"; tail -n 20 "$LOG"; return; }
sleep 1
echo "SCALE idle $(ns obs "$ADVTOOL" --src "$LAN.2" --secs "$IDLE_SECS" 2>&1) $(mem "$(vpid)")"

# --- reload to the whole table, then a one-line reload, under adverts
ns obs "$ADVTOOL" --src "$LAN.2" --secs "$LOAD_SECS" >/run/adv-reload.out 2>&1 &
ADV=$!
sleep 2
from=$(lines)
cp /etc/guest/scale-lb.conf "$CONF"
t=$(now)
kill -HUP "$(vpid)"
if wait_for 120 table_full; then
    echo "SCALE reload table_s=$(since2 "$t") dests=$(dests)"
else
    fail scale.reload-table "$(dests) of $DESTS dests 120 s after the reload"
fi
wait_for 30 reload_line_after "$from"
echo "SCALE reload whole $(apply_fig "$(reload_lines "$from" | head -n 1)")"
sleep 5 # the checkers' first round starts (1 s + warmup)
from=$(lines)
cp /etc/guest/scale-lb2.conf "$CONF"
kill -HUP "$(vpid)"
if wait_for 30 reload_line_after "$from"; then
    sleep 1
    l=$(reload_lines "$from")
    echo "SCALE reload one $(apply_fig "$(echo "$l" | head -n 1)") lines=$(echo "$l" | wc -l)"
    n=$(apply_fig "$(echo "$l" | head -n 1)" | sed 's/^changes=\([0-9]*\) .*/\1/')
    if [ "$n" = 1 ]; then ok scale.one-line-one-command; else fail scale.one-line-one-command "$l"; fi
    port=$((8000 + NVS / 2 + 1))
    w=$(ns d1 "$IPVSADM" -Ln -t "$VIP:$port" | awk -v rs="$LAN.10:$port" '$2 == rs { print $4 }')
    if [ "$w" = 2 ]; then
        ok scale.one-line-applied
    elif [ -z "$w" ] && rs_down "$LAN.10" "$port"; then
        skip scale.one-line-applied "($LAN.10:$port is DOWN by its checker)"
    else
        fail scale.one-line-applied "weight '$w', want 2"
    fi
else
    fail scale.one-line-one-command "no IPVS change line 30 s after the reload"
fi
# Hand edits to two services the reload leaves alone (a real server deleted,
# a weight changed), then a reload of the same file: both repaired, with a
# destination dump for those two services only.
pa=$((8000 + 10)) pb=$((8000 + 20))
ns d1 "$IPVSADM" -d -t "$VIP:$pa" -r "$LAN.11:$pa"
ns d1 "$IPVSADM" -e -t "$VIP:$pb" -r "$LAN.12:$pb" -g -w 7
sleep 1
from=$(lines)
kill -HUP "$(vpid)"
if wait_for 30 reload_line_after "$from"; then
    sleep 1
    l=$(reload_lines "$from")
    echo "SCALE repair $(apply_fig "$(echo "$l" | head -n 1)")"
    w=$(ns d1 "$IPVSADM" -Ln -t "$VIP:$pb" | awk -v rs="$LAN.12:$pb" '$2 == rs { print $4 }')
    back=$(ns d1 "$IPVSADM" -Ln -t "$VIP:$pa" | grep -c "$LAN.11:$pa")
    if [ "$w" = 1 ] && [ "$back" = 1 ]; then
        ok scale.hand-edits-repaired
    elif rs_down "$LAN.11" "$pa" || rs_down "$LAN.12" "$pb"; then
        skip scale.hand-edits-repaired "(an edited real server is DOWN by its checker)"
    else
        fail scale.hand-edits-repaired "weight '$w' (want 1), deleted one back: $back"
    fi
elif rs_down "$LAN.11" "$pa" || rs_down "$LAN.12" "$pb"; then
    skip scale.hand-edits-repaired "(an edited real server is DOWN by its checker: nothing to repair)"
else
    fail scale.hand-edits-repaired "no IPVS change line 30 s after the reload"
fi
wait "$ADV"
echo "SCALE reload $(cat /run/adv-reload.out) $(mem "$(vpid)") threads=$(threads "$(vpid)") dests_end=$(dests) downs=$(downs)"
grep ' DOWN' "$LOG" | head -n 2 | sed 's/^/SCALE-NOTE first DOWN: /'
echo "SCALE steady $(ns obs "$ADVTOOL" --src "$LAN.2" --secs "$LOAD_SECS" 2>&1) $(mem "$(vpid)") dests_end=$(dests)"
# Where the anonymous memory is: the mappings holding most of it (KiB).
awk '/^[0-9a-f]+-[0-9a-f]+ / { m = $1 " " $6 } /^Anonymous:/ && $2 > 0 { print $2, m }' \
    "/proc/$(vpid)/smaps" | sort -rn | head -12 | while read -r kib m; do echo "SCALE smaps $kib KiB $m"; done
ns d1 "$IPVSADM" -Sn >/run/rules
echo "SCALE rules lines=$(wc -l </run/rules)"
grep -ciE 'error|warn' "$LOG" | sed 's/^/SCALE reload log_errors=/'
cp "$LOG" /run/daemon-reload.log
t=$(now)
vigil_stop
echo "SCALE stop stop_s=$(since2 "$t") dests_left=$(dests)"
ns d1 "$IPVSADM" -C

# --- cold starts with the whole table
r=1
while [ $r -le "$REPS" ]; do
    cp /etc/guest/scale-lb.conf "$CONF"
    t=$(now)
    vigil_start
    if wait_for 120 table_full; then
        s=$(since2 "$t")
        wait_for 10 first_line_after 0
        echo "SCALE start rep=$r table_s=$s $(apply_fig "$(ipvs_lines 0 | head -n 1)")"
    else
        fail scale.start-table "$(dests) of $DESTS dests 120 s after start"
    fi
    sleep 2
    echo "SCALE start rep=$r $(mem "$(vpid)") downs=$(downs)"
    vigil_stop
    ns d1 "$IPVSADM" -C
    r=$((r + 1))
done

# --- ipvsadm -R of the same table
r=1
while [ $r -le "$REPS" ]; do
    ns d1 "$IPVSADM" -C
    t=$(now)
    ns d1 "$IPVSADM" -R </run/rules
    rc=$?
    s=$(since2 "$t")
    echo "SCALE ipvsadm rep=$r rc=$rc restore_s=$s dests=$(dests)"
    r=$((r + 1))
done
ns d1 "$IPVSADM" -C
kill -TERM "$RSPID" 2>/dev/null
ok scale.ran
