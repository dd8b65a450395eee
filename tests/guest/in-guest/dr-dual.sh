# Scenario dr-dual: seed 08 on d1 (WEB_VIP master), its mirror on d2 (DB_VIP
# master). httpd on 3306 stands in for the database: any TCP listener would do
# for TCP_CHECK, and the client can tell which real server answered.
WEB=$LAN.150:80 DB=$LAN.160:3306
topo_dr "$LAN.150" "$LAN.160" || { fail dr-dual.topology "could not build the namespaces"; return; }
for r in rs1 rs2; do httpd_start $r 80; httpd_start $r 3306; done
T0=$(now)
daemon_start d1 /etc/guest/08-lvs-dr-dual-master.conf
daemon_start d2 /etc/guest/08-lvs-dr-dual-master-d2.conf

both_masters() { has_addr d1 eth0 "$LAN.150" && has_addr d2 eth0 "$LAN.160"; }
if wait_for 15 both_masters; then
    ok dr-dual.masters "$LAN.150 on d1, $LAN.160 on d2 $(since "$T0") s after start"
else
    fail dr-dual.masters "d1: $($IP -n d1 -4 -o addr show dev eth0 | awk '{ printf "%s ", $4 }')d2: $($IP -n d2 -4 -o addr show dev eth0 | awk '{ printf "%s ", $4 }')"
fi
if wait_for "$(left "$T0" 20)" svc_has_both d1 "$WEB" "$LAN.10:80" "$LAN.20:80"; then
    ok dr-dual.table-web "d1: $WEB -> rs1, rs2"
else
    fail dr-dual.table-web "d1: $(ns d1 $IPVSADM -Ln 2>&1 | tr -s ' \n' ' ')"
fi
if wait_for "$(left "$T0" 20)" svc_has_both d2 "$DB" "$LAN.10:3306" "$LAN.20:3306"; then
    ok dr-dual.table-db "d2: $DB -> rs1, rs2"
else
    fail dr-dual.table-db "d2: $(ns d2 $IPVSADM -Ln 2>&1 | tr -s ' \n' ' ')"
fi
ipvs_cli_check dr-dual.ipvs-cli d1 d2

# dual_served NAME NS URL SVC: 4 requests alternate and NS's table counted them.
dual_served() {
    local r
    if r=$(served_by "$2" "$3" 4 "$4") && alternates "${r%%,*}"; then ok "$1" "$r"; else fail "$1" "$r"; fi
}
dual_served dr-dual.web d1 "http://$LAN.150/" "$WEB"
dual_served dr-dual.db d2 "http://$DB/" "$DB"

# d1 crashes: d2 must take WEB_VIP too and serve both.
t=$(now)
daemon_kill d1
$IP -n d1 link set eth0 down
timed dr-dual.failover-vip "$VIP_BOUND" "$LAN.150 on d2" has_addr d2 eth0 "$LAN.150"
if wait_for "$SERVE_BOUND" first_answer "http://$LAN.150/"; then
    echo "TIME dr-dual.failover-serve $(since "$t")"
    dual_served dr-dual.failover-web d2 "http://$LAN.150/" "$WEB"
else
    fail dr-dual.failover-web "client not answered within $SERVE_BOUND s of the kill"
fi
dual_served dr-dual.failover-db d2 "http://$DB/" "$DB"
