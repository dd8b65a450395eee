# The real servers' guest of the two-guest benchmark (`run --two-guests`), run
# as scenario `bench-rs` (sourced by /init after lib.sh; busybox sh). Its eth0
# is a point-to-point QEMU stream link to the director's guest, whose bridge it
# joins; it holds the 20 real-server addresses and vigil-guest-rs listens on
# 20 x NVS ports, so the real servers' TCP work runs on this guest's CPU, not
# the director's (as on a router, where they are other machines). It serves
# until the host ends this guest when the director's guest is done.
. /etc/guest/bench.env
$IP link set lo up
$IP link set eth0 up
i=0
while [ $i -lt "$NRS" ]; do
    $IP addr add "$LAN.$((10 + i))/24" dev eth0
    i=$((i + 1))
done
echo "INFO bench-rs: $NRS addresses on eth0, listening on ports 8001-$((8000 + NVS))"
# The victim is the director's (see bench.sh); this one is never signalled.
exec /usr/local/bin/vigil-guest-rs --addrs "$LAN.10-$((10 + NRS - 1))" --ports "8001-$((8000 + NVS))" \
    --victim "$LAN.10:8001" --service "$LAN.150:8001" --ipvs-netns /proc/self/ns/net </dev/null
