#!/usr/bin/env bash
# The IPVS client against a real kernel, in one QEMU guest:
#   tests/guest/ipvs-kernel.sh [x86_64]
#
# Why: the host kernel has no IPVS. This builds the daemon's ipvs_kernel test
# binary and the vigil binary (glibc, copied in with their libraries), boots
# Debian's cloud kernel with a BusyBox initramfs (packages fetched through a
# private apt state, never installed), loads ip_vs and its schedulers, runs
# the test binary, then compares `vigil ipvs` with Debian's `ipvsadm -Ln`
# byte for byte (plain, --stats, --rate) on the table the test leaves.
# Prints one line per check and `ipvs-kernel: N passed, N failed, N skipped`.
# The guest has no network device: nothing leaves this machine.
set -euo pipefail

arch=${1:-x86_64}
[ "$arch" = x86_64 ] || { echo "usage: $0 [x86_64]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$here/lib.sh"
gl_say() { printf 'ipvs-kernel: %s\n' "$*" >&2; }
work="$repo/build/ipvs-kernel/$arch"
mkdir -p "$work"
[ "$(id -u)" = 0 ] || gl_die "needs root (apt-get for the guest's packages)"
gl_arch "$arch"
for p in cpio kmod binutils; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null; }
done
gl_host_qemu "$work"
gl_fetch "$work" ipvsadm

# The binaries under test (glibc, debug), with the host's libraries: they
# are built here, for this machine's libc.
cd "$repo"
nice -n 10 cargo build -q -p vigil --bin vigil
test_bin=$(nice -n 10 cargo test -q -p vigil --test ipvs_kernel --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "ipvs_kernel" and m.get("executable"):
        print(m["executable"])')
[ -x "$test_bin" ] || gl_die "no ipvs_kernel test binary"
vigil_bin="${CARGO_TARGET_DIR:-$repo/target}/debug/vigil"

ir="$work/initramfs"
rm -rf "$ir"
mkdir -p "$ir"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp}
cp "$work/bb/bin/busybox" "$ir/bin/"
gl_copy_elf "$work/root" sbin/ipvsadm "$ir"
# The host-built binaries take the host's libc: a root of their own, so the
# guest's libraries (from the debs) and the host's never mix.
rm -rf "$work/host-root" && mkdir -p "$work/host-root/usr/bin"
cp "$test_bin" "$work/host-root/usr/bin/ipvs_kernel"
cp "$vigil_bin" "$work/host-root/usr/bin/vigil"
for b in usr/bin/ipvs_kernel usr/bin/vigil; do
    for lib in $(ldd "$work/host-root/$b" | awk '/=> \// { print $3 } /^\t\/lib64/ { print $1 }'); do
        mkdir -p "$work/host-root$(dirname "$lib")"
        cp -L "$lib" "$work/host-root$lib"
    done
    gl_copy_elf "$work/host-root" "$b" "$ir"
done
mods=(ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_mh ip_vs_dh ip_vs_sed ip_vs_nq
    ip_vs_fo ip_vs_ovf ip_vs_lblc ip_vs_lblcr ip_vs_pe_sip dummy)
kver=$(basename "$(ls -d "$work"/k/lib/modules/*)")
# twos is newer than some kernels: load it where it exists.
[ -n "$(find "$work/k/lib/modules/$kver" -name 'ip_vs_twos.ko*')" ] && mods+=(ip_vs_twos)
gl_modules "$work/k" "$ir" "${mods[@]}"

cat >"$ir/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LD_LIBRARY_PATH=/lib/x86_64-linux-gnu:/usr/lib/x86_64-linux-gnu
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
for m in \$(cat /lib/modules/order); do insmod /lib/modules/\$m || echo "CHECK insmod-\$m FAILED"; done
[ -e /proc/net/ip_vs ] && echo "CHECK proc-net-ip_vs ok" || echo "CHECK proc-net-ip_vs FAILED"
ip link set lo up
# A local address and a route for the traffic that fills the counters.
ip link set dummy0 up; ip addr add 192.168.10.1/32 dev dummy0; ip route add 10.0.0.0/8 dev dummy0
cd /tmp
VIGIL_IPVS_LEAVE_TABLE=1 ipvs_kernel --test-threads=1 --nocapture 2>&1
echo "CHECK test-binary-exit \$?"
# Some traffic (busybox nc has no UDP): TCP connects that IPVS schedules
# towards real servers that do not exist, so --stats has numbers to compare.
i=0; while [ \$i -lt 6 ]; do nc -w2 192.168.10.1 80 </dev/null >/dev/null 2>&1 & i=\$((i + 1)); done
sleep 3; cat /proc/net/ip_vs_stats
# The rate estimator moves every 2 s while the counters decay: a pair of reads
# that straddles its update differs by the update, so a pair is read again (up
# to 5 times); a layout or value error differs every time.
for mode in "" "--stats" "--rate"; do
    name=\${mode:---list}
    n=0
    while :; do
        ipvsadm -Ln \$mode >/tmp/a.txt 2>&1
        vigil ipvs \$mode >/tmp/v.txt 2>&1
        cmp -s /tmp/a.txt /tmp/v.txt && break
        n=\$((n + 1)); [ \$n -ge 5 ] && break
    done
    if cmp -s /tmp/a.txt /tmp/v.txt; then echo "CHECK vigil-ipvs\$name-equals-ipvsadm ok"; else
        echo "CHECK vigil-ipvs\$name-equals-ipvsadm FAILED"; echo "== ipvsadm -Ln \$mode"; cat -A /tmp/a.txt; echo "== vigil ipvs \$mode"; cat -A /tmp/v.txt; fi
done
echo "== ipvsadm -Ln"; ipvsadm -Ln; echo "== vigil ipvs --json"; vigil ipvs --json
vigil ipvs --json | grep -q '"services":\[' && echo "CHECK vigil-ipvs-json ok" || echo "CHECK vigil-ipvs-json FAILED"
ipvsadm -C; rmmod ip_vs_pe_sip 2>/dev/null
echo GUEST-DONE; poweroff -f
INIT
chmod +x "$ir/init"
gl_cpio "$ir" "$work/initrd.gz"

gl_say "booting $arch guest ($GL_KVER)"
gl_boot "$(ls "$work"/k/boot/vmlinuz-*)" "$work/initrd.gz" "panic=-1" "$work/boot.log" 300 >/dev/null
log=$(tr -d '\r' <"$work/boot.log")
grep -q GUEST-DONE <<<"$log" || gl_say "guest did not finish: see $work/boot.log"
pass=0 fail=0 skip=0
while read -r line; do
    case "$line" in
    *" ok") pass=$((pass + 1)); gl_say "$line" ;;
    *" skipped"*) skip=$((skip + 1)); gl_say "$line" ;;
    *"CHECK test-binary-exit 0") pass=$((pass + 1)); gl_say "CHECK test-binary-exit ok" ;;
    *) fail=$((fail + 1)); gl_say "$line" ;;
    esac
done < <(grep -E '^(CHECK|ipvs-check:) ' <<<"$log")
grep -q GUEST-DONE <<<"$log" || fail=$((fail + 1))
if [ "$fail" -ne 0 ]; then
    sed -n '/^== /,/GUEST-DONE/p' <<<"$log" >&2
    grep -E 'panicked|FAILED|error' <<<"$log" | head -40 >&2 || true
fi
echo "ipvs-kernel: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
