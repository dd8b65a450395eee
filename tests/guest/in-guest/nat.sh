# Scenario nat: configs/nat-d1.conf and nat-d2.conf, LVS-NAT with the real
# servers behind a gateway VIP that moves with the service VIP (sync group).
topo_nat || { fail nat.topology "could not build the namespaces"; return; }
httpd_start rs1 80
httpd_start rs2 80
T0=$(now)
daemon_start d1 /etc/guest/nat-d1.conf
daemon_start d2 /etc/guest/nat-d2.conf
P=nat SVC=$LAN.150:80 RS1=10.0.67.10:80 RS2=10.0.67.20:80 DOWN="eth0 eth1" GW="eth1 10.0.67.1"
single_run
