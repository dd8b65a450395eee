# Scenario extra (--extra FILE): the dr setup (seed 07 on d1, its backup on d2),
# then FILE sourced with every helper of lib.sh, topology.sh and single.sh at
# hand; its CHECK lines count like any other. For benchmarks and experiments.
topo_dr "$LAN.150" || { fail extra.topology "could not build the namespaces"; return; }
httpd_start rs1 80
httpd_start rs2 80
T0=$(now)
daemon_start d1 /etc/guest/07-lvs-dr.conf
daemon_start d2 /etc/guest/07-lvs-dr-backup.conf
if wait_for 15 has_addr d1 eth0 "$LAN.150"; then
    info "extra: $LAN.150 on d1 $(since "$T0") s after start"
else
    info "extra: $LAN.150 not on d1 after 15 s"
fi
. /guest/user-extra.sh
