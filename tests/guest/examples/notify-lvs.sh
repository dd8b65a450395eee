# `tests/guest/run --daemon vigil|keepalived --extra tests/guest/examples/notify-lvs.sh`:
# the LVS lines of a notify FIFO, which need IPVS (hence a guest). After the dr
# setup, d1's daemon is restarted on seed 07 plus `lvs_notify_fifo` and a
# `lvs_notify_fifo_script` that copies the FIFO to a file; rs2's httpd stops
# (its TCP_CHECK fails) and comes back. Checks the RS lines as keepalived 2.2.7
# writes them; every line read is printed (INFO notify.line) to compare runs.
d=/run/d1
want_down="RS [$LAN.20]:tcp:80 [$LAN.150]:tcp:80 DOWN"
want_up="RS [$LAN.20]:tcp:80 [$LAN.150]:tcp:80 UP"
lines() { cat "$d/lvs.lines" 2>/dev/null; }
has_line() { lines | grep -qxF "$1"; }
wait_for "$(left "$T0" 20)" svc_has_both d1 "$LAN.150:80" "$LAN.10:80" "$LAN.20:80" ||
    info "notify: the table was not complete before the restart"
daemon_kill d1
sleep 1
cat >"$d/reader.sh" <<READER
#!/bin/sh
for f; do :; done
while read -r line; do echo "\$line" >>$d/lvs.lines; done <"\$f"
READER
chmod 755 "$d/reader.sh"
{
    cat /etc/guest/07-lvs-dr.conf
    printf 'global_defs {\n    lvs_notify_fifo %s/lvs.fifo\n    lvs_notify_fifo_script %s/reader.sh\n}\n' "$d" "$d"
} >"$d/notify.conf"
rm -f "$d/lvs.lines"
daemon_start d1 "$d/notify.conf"
# keepalived's mode: 0644 under its default umask 0177.
if wait_for 10 test -p "$d/lvs.fifo" && [ "$(stat -c %a "$d/lvs.fifo")" = 600 ]; then
    ok notify.fifo "$d/lvs.fifo is a FIFO, mode 600"
else
    fail notify.fifo "no FIFO of mode 600 at $d/lvs.fifo: $(ls -l "$d/lvs.fifo" 2>&1)"
fi
wait_for 20 svc_has_both d1 "$LAN.150:80" "$LAN.10:80" "$LAN.20:80" || info "notify: table incomplete"
sleep 2
t=$(now)
httpd_stop rs2 80
if wait_for 40 has_line "$want_down"; then
    ok notify.rs_down "\"$want_down\" after $(since "$t") s"
else
    fail notify.rs_down "no \"$want_down\"; read: $(lines | tr '\n' '|')"
fi
t=$(now)
httpd_start rs2 80
if wait_for 40 has_line "$want_up"; then
    ok notify.rs_up "\"$want_up\" after $(since "$t") s"
else
    fail notify.rs_up "no \"$want_up\"; read: $(lines | tr '\n' '|')"
fi
lines | while read -r l; do info "notify.line $l"; done
