#!/usr/bin/env bash
# Boots the firmware on a real kernel under QEMU and drives the init script:
#   board/boot-check.sh [x86_64|aarch64]        (default: aarch64)
# A thin wrapper: the disk image of scripts/image booted by tests/firmware/run's
# init-ARCH test (S45vigil start|stop|restart|reload|status at the console, options,
# the flash config across reboots, a corrupt one refused). The whole firmware suite,
# with the two-router and cross-architecture failovers: tests/firmware/run.
set -euo pipefail
arch=${1:-aarch64}
case "$arch" in
x86_64 | aarch64) ;;
*) echo "usage: $0 [x86_64|aarch64]" >&2; exit 2 ;;
esac
exec "$(cd "$(dirname "$0")/.." && pwd)/tests/firmware/run" --arch "$arch" "init-$arch"
