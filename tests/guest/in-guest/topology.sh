# The two LANs of the scenarios, built from namespaces (sourced after lib.sh).
# Addresses are the seed configs' 192.168.67.x: they exist only in this guest.

# topo_dr VIP...: client, directors d1 (.2) and d2 (.3), real servers rs1 (.10)
# and rs2 (.20) on one bridge; the real servers hold VIP... on a dummy.
topo_dr() {
    bridge_up lan || return 1
    attach client eth0 lan "$CLIENT/24"
    attach d1 eth0 lan "$LAN.2/24"
    attach d2 eth0 lan "$LAN.3/24"
    attach rs1 eth0 lan "$LAN.10/24"
    attach rs2 eth0 lan "$LAN.20/24"
    rs_vips rs1 "$@"
    rs_vips rs2 "$@"
}

# topo_nat: the client and the directors' eth0 on the LAN; the directors' eth1
# (10.0.67.2, .3) and the real servers (10.0.67.10, .20) on a private bridge;
# the real servers route through 10.0.67.1, the gateway VIP of the master.
topo_nat() {
    bridge_up lan || return 1
    bridge_up priv || return 1
    attach client eth0 lan "$CLIENT/24"
    attach d1 eth0 lan "$LAN.2/24"
    attach d2 eth0 lan "$LAN.3/24"
    attach d1 eth1 priv 10.0.67.2/24
    attach d2 eth1 priv 10.0.67.3/24
    attach rs1 eth0 priv 10.0.67.10/24
    attach rs2 eth0 priv 10.0.67.20/24
    $IP -n rs1 route add default via 10.0.67.1
    $IP -n rs2 route add default via 10.0.67.1
    nsctl d1 net/ipv4/ip_forward 1
    nsctl d2 net/ipv4/ip_forward 1
}
