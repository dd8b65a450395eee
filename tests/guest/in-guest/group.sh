# Scenario group: a virtual_server_group of two VIPs (192.168.67.150-151 80)
# on d1, LVS-DR to rs1 and rs2. Both VIPs are kernel services with both real
# servers and answer; rs1's death removes it from both, its return adds it
# to both.
V1=$LAN.150 V2=$LAN.151 RS1=$LAN.10:80 RS2=$LAN.20:80
topo_dr "$V1" "$V2" || { fail group.topology "could not build the namespaces"; return; }
httpd_start rs1 80
httpd_start rs2 80
T0=$(now)
daemon_start d1 /etc/guest/group-d1.conf
# Bounds from the config: delay_loop 3, connect_timeout 2, retry 1,
# delay_before_retry 1: a failure is seen within 3 + 2 x 2 + 1 = 8 s; TCG slack.
DOWN_BOUND=15
UP_BOUND=12

both_in() { svc_has_both d1 "$1:80" "$RS1" "$RS2"; }
both_services() { both_in "$V1" && both_in "$V2"; }
rs1_gone() { svc_lacks_rs d1 "$V1:80" "$RS1" && svc_lacks_rs d1 "$V2:80" "$RS1"; }

timed group.services 20 "both VIPs as services with both real servers" both_services
for v in "$V1" "$V2"; do
    if wait_for 10 first_answer "http://$v/"; then
        r=$(series 4 "http://$v/")
        if alternates "$r"; then ok "group.serve.$v" "$r"; else fail "group.serve.$v" "$r"; fi
    else
        fail "group.serve.$v" "no answer within 10 s"
    fi
done

httpd_stop rs1 80
timed group.rs_down "$DOWN_BOUND" "rs1 removed from both services" rs1_gone
if svc_has_rs d1 "$V1:80" "$RS2" && svc_has_rs d1 "$V2:80" "$RS2"; then
    ok group.rs2_kept "rs2 still in both services"
else
    fail group.rs2_kept "rs2 missing from a service"
fi
for v in "$V1" "$V2"; do
    r=$(series 3 "http://$v/")
    if all_are rs2 "$r"; then ok "group.served_by_rs2.$v" "$r"; else fail "group.served_by_rs2.$v" "$r"; fi
done

httpd_start rs1 80
timed group.rs_up "$UP_BOUND" "rs1 back in both services" both_services
ipvs_cli_check group.ipvs d1
if [ "$(ns d1 $IPVSADM -Ln | grep -c '^TCP')" = 2 ]; then
    ok group.count "exactly 2 services"
else
    fail group.count "$(ns d1 $IPVSADM -Ln | grep -c '^TCP') services"
fi
grep -q FAILED /run/scenario.out 2>/dev/null && dump d1
daemon_kill d1
