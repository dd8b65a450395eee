# Scenario dr: seed 07 (LVS-DR, rr) unmodified on d1, its BACKUP/80 copy on d2.
topo_dr "$LAN.150" || { fail dr.topology "could not build the namespaces"; return; }
httpd_start rs1 80
httpd_start rs2 80
T0=$(now)
daemon_start d1 /etc/guest/07-lvs-dr.conf
daemon_start d2 /etc/guest/07-lvs-dr-backup.conf
P=dr SVC=$LAN.150:80 RS1=$LAN.10:80 RS2=$LAN.20:80 DOWN=eth0 GW=
single_run
