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
repo=$(cd "$(dirname "$0")/../.." && pwd)
work="$repo/build/ipvs-kernel/$arch"
say() { printf 'ipvs-kernel: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

for p in qemu-system-x86 cpio kmod; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null; }
done

# Kernel, busybox and ipvsadm with its libraries, unpacked once.
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/debs"
apt_opts=(-o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
    -o APT::Architectures::=amd64)
if [ ! -f "$work/.unpacked" ]; then
    apt-get "${apt_opts[@]}" update -qq
    kpkg=$(apt-cache "${apt_opts[@]}" depends linux-image-cloud-amd64 |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { sub(/:.*/, "", $2); print $2; exit }')
    [ -n "$kpkg" ] || die "apt-cache names no cloud kernel"
    rm -rf "$work/k" "$work/bb" "$work/u"
    chmod 777 "$work/debs" # apt drops to _apt for downloads
    for p in "$kpkg-unsigned" busybox-static ipvsadm libnl-3-200 libnl-genl-3-200 libpopt0; do
        ls "$work/debs/${p}"_*.deb >/dev/null 2>&1 || (cd "$work/debs" && apt-get "${apt_opts[@]}" download -qq "$p")
    done
    for d in "$work"/debs/linux-image-*.deb; do dpkg-deb -x "$d" "$work/k"; done
    dpkg-deb -x "$work"/debs/busybox-static_*.deb "$work/bb"
    for d in ipvsadm libnl-3-200 libnl-genl-3-200 libpopt0; do dpkg-deb -x "$work"/debs/${d}_*.deb "$work/u"; done
    touch "$work/.unpacked"
fi
kver=$(basename "$(ls -d "$work"/k/lib/modules/*)")

# The binaries under test (glibc, debug).
cd "$repo"
nice -n 10 cargo build -q -p vigil --bin vigil
test_bin=$(nice -n 10 cargo test -q -p vigil --test ipvs_kernel --no-run --message-format=json 2>/dev/null |
    python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "ipvs_kernel" and m.get("executable"):
        print(m["executable"])')
[ -x "$test_bin" ] || die "no ipvs_kernel test binary"
vigil_bin="$repo/target/debug/vigil"

ir="$work/initramfs"
rm -rf "$ir"
mkdir -p "$ir"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,tmp,lib/modules,lib64,lib/x86_64-linux-gnu}
depmod -b "$work/k" "$kver"
mods=()
for m in ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_mh ip_vs_dh ip_vs_sed ip_vs_nq \
    ip_vs_fo ip_vs_ovf ip_vs_lblc ip_vs_lblcr ip_vs_twos ip_vs_pe_sip dummy; do
    [ -n "$(find "$work/k/lib/modules/$kver" -name "$m.ko*")" ] || { say "no module $m in $kver"; continue; }
    while read -r _ path; do
        [[ " ${mods[*]} " == *" $(basename "$path") "* ]] && continue
        cp "$path" "$ir/lib/modules/"
        mods+=("$(basename "$path")")
    done < <(modprobe -C /dev/null -d "$work/k" -S "$kver" --show-depends "$m" | grep '^insmod')
done
cp "$work/bb/bin/busybox" "$ir/bin/"
cp "$test_bin" "$ir/usr/bin/ipvs_kernel"
cp "$vigil_bin" "$ir/usr/sbin/vigil"
cp "$work/u/sbin/ipvsadm" "$ir/usr/sbin/ipvsadm"
cp -L "$work"/u/lib/x86_64-linux-gnu/*.so.* "$ir/lib/x86_64-linux-gnu/" 2>/dev/null || true
cp -L "$work"/u/usr/lib/x86_64-linux-gnu/*.so.* "$ir/lib/x86_64-linux-gnu/" 2>/dev/null || true
for b in "$test_bin" "$vigil_bin" "$work/u/sbin/ipvsadm"; do
    LD_LIBRARY_PATH="$ir/lib/x86_64-linux-gnu" ldd "$b" | awk '/=> \// { print $3 } /^\t\/lib64/ { print $1 }' |
        while read -r lib; do
            case "$lib" in "$ir"/*) continue ;; esac
            if [[ "$lib" == /lib64/* ]]; then cp -L "$lib" "$ir/lib64/"; else cp -L "$lib" "$ir/lib/x86_64-linux-gnu/"; fi
        done
done

cat >"$ir/init" <<INIT
#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LD_LIBRARY_PATH=/lib/x86_64-linux-gnu
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs tmp /tmp
for m in ${mods[*]}; do insmod /lib/modules/\$m || echo "CHECK insmod-\$m FAILED"; done
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
for mode in "" "--stats" "--rate"; do
    name=\${mode:---list}
    ipvsadm -Ln \$mode >/tmp/a.txt 2>&1
    vigil ipvs \$mode >/tmp/v.txt 2>&1
    if cmp -s /tmp/a.txt /tmp/v.txt; then echo "CHECK vigil-ipvs\$name-equals-ipvsadm ok"; else
        echo "CHECK vigil-ipvs\$name-equals-ipvsadm FAILED"; echo "== ipvsadm -Ln \$mode"; cat -A /tmp/a.txt; echo "== vigil ipvs \$mode"; cat -A /tmp/v.txt; fi
done
echo "== ipvsadm -Ln"; ipvsadm -Ln; echo "== vigil ipvs --json"; vigil ipvs --json
vigil ipvs --json | grep -q '"services":\[' && echo "CHECK vigil-ipvs-json ok" || echo "CHECK vigil-ipvs-json FAILED"
ipvsadm -C; rmmod ip_vs_pe_sip 2>/dev/null
echo GUEST-DONE; poweroff -f
INIT
chmod +x "$ir/init"
(cd "$ir" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$work/initrd.gz"

say "booting $arch guest ($kver)"
timeout 300 qemu-system-x86_64 -M pc -cpu max -m 256 -nodefaults -nographic -no-reboot \
    -serial stdio -kernel "$(ls "$work"/k/boot/vmlinuz-*)" -initrd "$work/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1" >"$work/boot.log" 2>&1 || true
log=$(tr -d '\r' <"$work/boot.log")
grep -q GUEST-DONE <<<"$log" || say "guest did not finish: see $work/boot.log"
pass=0 fail=0 skip=0
while read -r line; do
    case "$line" in
    *" ok") pass=$((pass + 1)); say "$line" ;;
    *" skipped"*) skip=$((skip + 1)); say "$line" ;;
    *"CHECK test-binary-exit 0") pass=$((pass + 1)); say "CHECK test-binary-exit ok" ;;
    *) fail=$((fail + 1)); say "$line" ;;
    esac
done < <(grep -E '^(CHECK|ipvs-check:) ' <<<"$log")
grep -q GUEST-DONE <<<"$log" || fail=$((fail + 1))
if [ "$fail" -ne 0 ]; then
    sed -n '/^== /,/GUEST-DONE/p' <<<"$log" >&2
    grep -E 'panicked|FAILED|error' <<<"$log" | head -40 >&2 || true
fi
echo "ipvs-kernel: $pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
