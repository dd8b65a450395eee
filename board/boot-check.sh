#!/usr/bin/env bash
# Boots the firmware pieces on a real kernel under QEMU and drives the init script:
#   board/boot-check.sh [x86_64|aarch64]        (default: aarch64)
# after scripts/build-static has written build/<arch>/vigil.
#
# Why: qemu-user only proves the binary starts; a VRRP daemon needs a kernel. The
# guest is an initramfs of BusyBox, the rootfs/ overlay and the static vigil, on
# Debian's cloud kernel (downloaded with apt, never installed), with one NIC on a
# QEMU multicast hub bound to 127.0.0.1, so nothing leaves this machine.
# Passes when S45vigil start brings up the default config's VIP (the guest is
# alone, so it becomes master), reload and stop succeed, and stop removes the VIP
# and the pid file.
set -euo pipefail

arch=${1:-aarch64}
repo=$(cd "$(dirname "$0")/.." && pwd)
work="$repo/build/boot-check/$arch"
bin="$repo/build/$arch/vigil"
case "$arch" in
x86_64) deb_arch=amd64 qemu=(qemu-system-x86_64 -M pc -cpu max) console=ttyS0 qemu_pkg=qemu-system-x86 port=47702 ;;
aarch64) deb_arch=arm64 qemu=(qemu-system-aarch64 -M virt -cpu cortex-a53) console=ttyAMA0 qemu_pkg=qemu-system-arm port=47701 ;;
*) echo "usage: $0 [x86_64|aarch64]" >&2; exit 2 ;;
esac
say() { printf 'boot-check: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ -x "$bin" ] || die "$bin missing: run scripts/build-static $arch first"

for p in "$qemu_pkg" cpio kmod; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$p" >/dev/null; }
done

# Guest packages through a private apt state, so the host's dpkg architectures
# stay untouched.
mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/debs"
apt_opts=(-o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache"
    -o APT::Architectures::=amd64 -o "APT::Architectures::=$deb_arch")
if [ ! -f "$work/.unpacked" ]; then
    apt-get "${apt_opts[@]}" update -qq
    kpkg=$(apt-cache "${apt_opts[@]}" depends "linux-image-cloud-$deb_arch:$deb_arch" |
        awk '$1 == "Depends:" && $2 ~ /^linux-image-/ { sub(/:.*/, "", $2); print $2; exit }')
    [ -n "$kpkg" ] || die "apt-cache names no cloud kernel for $deb_arch"
    rm -rf "$work/k" "$work/bb" "$work/debs"/*
    chmod 777 "$work/debs" # apt drops to _apt for downloads
    (cd "$work/debs" && apt-get "${apt_opts[@]}" download -qq "$kpkg-unsigned:$deb_arch" "busybox-static:$deb_arch")
    for d in "$work"/debs/linux-image-*.deb; do dpkg-deb -x "$d" "$work/k"; done
    dpkg-deb -x "$work"/debs/busybox-static_*.deb "$work/bb"
    touch "$work/.unpacked"
fi
kver=$(basename "$(ls -d "$work"/k/lib/modules/*)")

# The cloud kernel has the NIC driver as modules: copy them in load order.
depmod -b "$work/k" "$kver"
ir="$work/initramfs"
rm -rf "$ir"
mkdir -p "$ir"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,run,var,lib/modules}
mods=()
for m in virtio_pci virtio_net; do
    while read -r _ path; do
        [[ " ${mods[*]} " == *" $(basename "$path") "* ]] && continue
        cp "$path" "$ir/lib/modules/"
        mods+=("$(basename "$path")")
    done < <(modprobe -C /dev/null -d "$work/k" -S "$kver" --show-depends "$m" | grep '^insmod')
done
cp "$work/bb/bin/busybox" "$ir/bin/"
cp -r "$repo/rootfs/etc" "$ir/"
cp "$bin" "$ir/usr/sbin/vigil"
ln -s ../run "$ir/var/run"

# The VIP of the default config: the first address inside virtual_ipaddress.
vip=$(awk '/virtual_ipaddress/ { f = 1; next } f && $1 ~ /^[0-9]/ { sub(/\/.*/, "", $1); print $1; exit }' \
    "$repo/rootfs/etc/vigil/vigil.conf")
[ -n "$vip" ] || die "no virtual_ipaddress in rootfs/etc/vigil/vigil.conf"

cat >"$ir/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev; mount -t tmpfs run /run
for m in ${mods[*]}; do insmod /lib/modules/\$m; done
syslogd -O /run/messages
ip link set lo up; ip link set eth0 up; ip addr add 192.168.1.2/24 dev eth0
/etc/init.d/S45vigil start && echo "CHECK start ok"
n=0; until ip -4 addr show dev eth0 | grep -q " $vip/" || [ \$n -ge 100 ]; do sleep 0.1; n=\$((n + 1)); done
ip -4 addr show dev eth0 | grep -q " $vip/" && echo "CHECK vip up after \$n"
/etc/init.d/S45vigil reload && echo "CHECK reload ok"
/etc/init.d/S45vigil stop && echo "CHECK stop ok"
ip -4 addr show dev eth0 | grep -q " $vip/" || echo "CHECK vip down"
[ -e /var/run/vigil.pid ] || echo "CHECK pidfile gone"
echo "== syslog"; cat /run/messages
echo GUEST-DONE; poweroff -f
EOF
chmod +x "$ir/init"
(cd "$ir" && find . | cpio -o -H newc 2>/dev/null | gzip) >"$work/initrd.gz"

say "booting $arch guest ($kver)"
timeout 180 "${qemu[@]}" -m 256 -nographic -no-reboot \
    -kernel "$(ls "$work"/k/boot/vmlinuz-*)" -initrd "$work/initrd.gz" \
    -append "console=$console quiet" \
    -netdev socket,id=n0,mcast=230.0.0.1:$port,localaddr=127.0.0.1 \
    -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:01 >"$work/boot.log" 2>&1 || true
tr -d '\r' <"$work/boot.log" | sed -n '/CHECK\|== syslog/,/GUEST-DONE/p' >&2
fail=0
for c in "start ok" "vip up" "reload ok" "stop ok" "vip down" "pidfile gone"; do
    grep -q "CHECK $c" "$work/boot.log" || { say "FAILED: $c"; fail=1; }
done
[ "$fail" -eq 0 ] || die "$arch: see $work/boot.log"
say "$arch: start, VIP $vip up, reload, stop, VIP down: all passed"
