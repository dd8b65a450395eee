# Example for `tests/guest/run --extra tests/guest/examples/requests.sh`: sourced
# in the guest after the dr setup (seed 07 on d1, its backup on d2; lib.sh,
# topology.sh and single.sh loaded). Times N sequential client requests to the
# VIP, the shape a benchmark of the IPVS path would take. N: REQUESTS (default 50).
n=${REQUESTS:-50}
wait_for "$(left "$T0" 20)" svc_has_both d1 "$LAN.150:80" "$LAN.10:80" "$LAN.20:80"
t=$(now) i=0 answered=0
while [ $i -lt "$n" ]; do
    [ "$(get "http://$LAN.150/")" != "-" ] && answered=$((answered + 1))
    i=$((i + 1))
done
d=$(since "$t")
echo "TIME extra.requests $d"
if [ $answered = "$n" ]; then
    ok extra.requests "$n requests answered in $d s"
else
    fail extra.requests "$answered of $n requests answered in $d s"
fi
